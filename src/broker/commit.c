/* commit.c -- the pipelined group commit and its storage writer thread.
 *
 * The loop stages publishes (encoded entries) and cursor changes into the
 * "fill" job. When the writer is idle, the fill job becomes the "flight" job:
 * one LMDB write transaction and one commit (with its fsync) on the writer
 * thread, while the loop goes on reading sockets, answering timeouts and
 * staging the next job. The writer then signals an eventfd; the loop collects
 * the job and only then sends the receipts and dispatches the new entries, so
 * a receipt still means "committed". Without opts.commit_thread (unit tests,
 * tools) the same job is written inline.
 *
 * Group wait (journalMaxGroupWaitMSec, durable servers only): a job starts
 * no sooner than group_wait_us after the previous one started, unless it is
 * already big (group_commit_max_messages or group_bytes staged). Under a
 * steady trickle this turns back-to-back commits of a few messages each into
 * at most one commit (two disk flushes) per interval: on a virtual disk every
 * flush is a trip to the host, and their rate, not their size, is what makes
 * the slow ones (docs/PERFORMANCE.md). A publish after a quiet spell starts
 * its commit at once. The writer announces the end of the wait through the
 * same eventfd as a finished job.
 *
 * Ordering: every other LMDB write (topic and subscription creation, admin
 * operations) begins with mag_broker_wbegin, which waits for the flight job
 * first, and jobs are handed over one at a time, so LMDB sees all writes in
 * the order the loop made them.
 *
 * Entry ids are assigned at staging. When a job fails, its ids are given back
 * and the ids staged after it (in the fill job) move down, so a topic's entry
 * ids stay contiguous.
 */
#include "broker_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

struct mag_commit_writer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    mag_store *store;
    struct mag_commit_job *job;     /* handed over and not written yet */
    bool done;                      /* the flight job is written (rc, secs set) */
    bool stop;
    bool ready;                     /* the group wait since the last start is over */
    int64_t ready_at_ns;            /* CLOCK_MONOTONIC: when it is */
    int64_t wait_ns;                /* the group wait; 0 = none */
    int notify_fd;                  /* eventfd, readable when a job is done or the wait over */
    atomic_uint notes;              /* writes to notify_fd the loop has not read yet */
};

/* Acks alone are persisted at most once per CURSOR_FLUSH_MS (Pulsar's
   managedLedgerDefaultMarkDeleteRateLimit is 1/s): a job with publishes
   always carries the dirty cursors along, but a consumer acking a backlog
   must not cost one fsync per loop turn. A crash can only lose acks of the
   last interval, which means redelivery (at-least-once), never data loss. */
#define CURSOR_FLUSH_MS 1000

/* ---- the writer side: touches only the job and the store ---- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static mag_rc job_write(mag_store *store, const struct mag_commit_job *j)
{
    mag_store_wtxn *w;
    mag_rc rc = mag_store_wbegin(store, &w);
    if (rc != MAG_OK)
        return rc;
    for (size_t i = 0; i < j->nstaged && rc == MAG_OK; i++) {
        const mag_staged *st = &j->staged[i];
        const uint8_t *bytes = j->entries.data + st->offset;
        rc = mag_store_entry_put_encoded(w, st->topic_id, st->entry_id, bytes, st->len);
        if (rc == MAG_OK && st->dedup)
            rc = mag_dedup_record(w, st, bytes);
    }
    for (size_t i = 0; i < j->ncursors && rc == MAG_OK; i++) {
        const struct mag_job_cursor *c = &j->cursors[i];
        rc = mag_store_cursor_put(w, c->topic_id, c->name, strlen(c->name), &c->rec);
    }
    if (rc != MAG_OK) {
        mag_store_wabort(w);
        return rc;
    }
    return mag_store_wcommit(w);
}

static void job_run(mag_store *store, struct mag_commit_job *j)
{
    int64_t t0 = mono_ns();
    j->rc = job_write(store, j);
    int64_t t1 = mono_ns();
    j->secs = (double)(t1 - t0) / 1e9;
    j->end_ms = t1 / 1000000;
}

static void notify_loop(struct mag_commit_writer *wr)
{
    atomic_fetch_add(&wr->notes, 1);    /* before the write: readable implies notes > 0 */
    uint64_t one = 1;
    if (write(wr->notify_fd, &one, sizeof one) != sizeof one)
        mag_warn("commit writer: cannot signal the event loop");
}

/* Called with wr->mu held: sleep until a job is handed over (or stop),
   announcing the end of the group wait when it comes first. */
static void wait_for_job(struct mag_commit_writer *wr)
{
    while (!wr->stop && !wr->job) {
        if (wr->ready) {
            pthread_cond_wait(&wr->cv, &wr->mu);
            continue;
        }
        struct timespec until = { (time_t)(wr->ready_at_ns / 1000000000),
                                  (long)(wr->ready_at_ns % 1000000000) };
        if (pthread_cond_timedwait(&wr->cv, &wr->mu, &until) == ETIMEDOUT && !wr->job) {
            wr->ready = true;
            notify_loop(wr);
        }
    }
}

static void *writer_main(void *arg)
{
    struct mag_commit_writer *wr = arg;
    pthread_mutex_lock(&wr->mu);
    for (;;) {
        wait_for_job(wr);
        if (wr->stop)
            break;
        struct mag_commit_job *j = wr->job;
        wr->ready_at_ns = mono_ns() + wr->wait_ns;
        wr->ready = wr->wait_ns == 0;
        pthread_mutex_unlock(&wr->mu);
        job_run(wr->store, j);
        pthread_mutex_lock(&wr->mu);
        wr->job = NULL;
        wr->done = true;
        if (!wr->ready && mono_ns() >= wr->ready_at_ns)
            wr->ready = true;   /* the commit outlasted the wait */
        pthread_cond_broadcast(&wr->cv);
        notify_loop(wr);
    }
    pthread_mutex_unlock(&wr->mu);
    return NULL;
}

/* ---- the loop side ---- */

mag_rc mag_commit_init(mag_broker *b)
{
    for (int i = 0; i < 2; i++)
        mag_buf_init(&b->jobs[i].entries);
    b->fill = &b->jobs[0];
    b->flight = NULL;
    if (!b->opts.commit_thread)
        return MAG_OK;
    struct mag_commit_writer *wr = mag_xcalloc(1, sizeof *wr);
    wr->store = b->opts.store;
    atomic_init(&wr->notes, 0);
    wr->wait_ns = b->opts.group_wait_us * 1000;
    wr->ready = true;
    wr->notify_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wr->notify_fd < 0) {
        free(wr);
        mag_error("commit writer: eventfd failed");
        return MAG_ERR_INTERNAL;
    }
    pthread_mutex_init(&wr->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);     /* timed waits use mono_ns() */
    pthread_cond_init(&wr->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&wr->thread, NULL, writer_main, wr) != 0) {
        close(wr->notify_fd);
        pthread_mutex_destroy(&wr->mu);
        pthread_cond_destroy(&wr->cv);
        free(wr);
        mag_error("commit writer: cannot start the thread");
        return MAG_ERR_INTERNAL;
    }
    b->writer = wr;
    return MAG_OK;
}

int mag_broker_commit_fd(const mag_broker *b)
{
    return b->writer ? b->writer->notify_fd : -1;
}

/* Block until the writer is idle (the flight job, if any, is written). */
static void commit_wait(mag_broker *b)
{
    struct mag_commit_writer *wr = b->writer;
    if (!b->flight || !wr)
        return;
    pthread_mutex_lock(&wr->mu);
    while (!wr->done)
        pthread_cond_wait(&wr->cv, &wr->mu);
    pthread_mutex_unlock(&wr->mu);
}

mag_rc mag_broker_wbegin(mag_broker *b, mag_store_wtxn **out)
{
    commit_wait(b);
    mag_space_changed(b);
    return mag_store_wbegin(b->opts.store, out);
}

/* The loop's callback for the readable eventfd. It always drains it: the
   writer counts a note before its write(), so flight_done on another run may
   take the note and read() nothing just before the write lands; the eventfd
   is then readable with notes == 0, and a level-triggered event that did not
   read would fire forever (an idle loop at 100% CPU). */
void mag_broker_commit_event(mag_broker *b)
{
    struct mag_commit_writer *wr = b->writer;
    if (wr) {
        atomic_store(&wr->notes, 0);
        uint64_t n;
        ssize_t got = read(wr->notify_fd, &n, sizeof n);
        (void)got;
    }
    mag_broker_run(b);
}

void mag_broker_test_unnoted_signal(mag_broker *b)
{
    uint64_t one = 1;
    if (b->writer && write(b->writer->notify_fd, &one, sizeof one) != sizeof one)
        mag_warn("commit writer: cannot signal the event loop");
}

static bool flight_done(mag_broker *b)
{
    struct mag_commit_writer *wr = b->writer;
    if (!wr)
        return b->flight != NULL;   /* inline: written when it was started */
    /* Reset the eventfd before looking, only when the writer wrote to it (no
       syscall on the loop's other runs). What it announces after this makes
       it readable again; a write racing this read is drained by
       mag_broker_commit_event. */
    if (atomic_exchange(&wr->notes, 0) != 0) {
        uint64_t n;
        ssize_t got = read(wr->notify_fd, &n, sizeof n);
        (void)got;
    }
    if (!b->flight)
        return false;
    pthread_mutex_lock(&wr->mu);
    bool done = wr->done;
    pthread_mutex_unlock(&wr->mu);
    return done;
}

bool mag_commit_may_start(mag_broker *b)
{
    struct mag_commit_writer *wr = b->writer;
    if (b->flight)
        return false;
    if (!wr || b->flush_all)
        return true;
    const struct mag_commit_job *j = b->fill;
    if (j->nstaged >= b->opts.group_commit_max_messages || j->entries.len >= b->opts.group_bytes)
        return true;            /* big enough: no reason to wait */
    pthread_mutex_lock(&wr->mu);
    bool ready = wr->ready;
    pthread_mutex_unlock(&wr->mu);
    return ready;
}

static bool cursors_due(mag_broker *b)
{
    if (b->ndirty == 0)
        return false;
    int64_t now = mag_broker_now_ms();
    if (b->flush_all || now - b->last_cursor_flush >= CURSOR_FLUSH_MS)
        return true;
    b->cursor_flush_at = b->last_cursor_flush + CURSOR_FLUSH_MS;
    if (b->opts.set_timer && (b->timer_at == 0 || b->cursor_flush_at < b->timer_at)) {
        b->timer_at = b->cursor_flush_at;
        b->opts.set_timer(b->opts.hook_ctx, b->cursor_flush_at);
    }
    return false;
}

/* Copy every dirty cursor into the job; they are clean from now on. */
static void snapshot_cursors(mag_broker *b, struct mag_commit_job *j)
{
    if (j->cap_cursors < b->ndirty) {
        j->cap_cursors = b->ndirty;
        j->cursors = mag_xrealloc(j->cursors, j->cap_cursors * sizeof *j->cursors);
    }
    for (size_t i = 0; i < b->ndirty; i++) {
        mag_sub *s = b->dirty_cursors[i];
        struct mag_job_cursor *c = &j->cursors[i];
        uint64_t *ranges;
        mag_sub_cursor_rec(s, &c->rec, &ranges);
        c->sub_uid = s->uid;
        c->topic_id = s->topic->rec.id;
        c->name = mag_xstrdup(s->name);
        s->cursor_dirty = false;
    }
    j->ncursors = b->ndirty;
    b->ndirty = 0;
    b->last_cursor_flush = mag_broker_now_ms();
}

void mag_commit_start(mag_broker *b)
{
    if (b->flight)
        return;
    if (b->flush_all)
        mag_batch_close_all(b);     /* a drain: open batches do not wait for their delay */
    struct mag_commit_job *j = b->fill;
    bool cursors = cursors_due(b);
    if (j->nstaged == 0 && !cursors)
        return;
    if (!mag_commit_may_start(b))
        return;                 /* the writer announces the end of the group wait */
    for (size_t i = 0; i < j->ntopics; i++) {
        j->topics[i].end = j->topics[i].topic->next_entry_id;
        j->topics[i].topic->in_fill = false;
    }
    if (b->ndirty) {
        snapshot_cursors(b, j);
        b->cursor_flush_at = 0;
    }
    b->fill = j == &b->jobs[0] ? &b->jobs[1] : &b->jobs[0];
    b->flight = j;
    struct mag_commit_writer *wr = b->writer;
    if (!wr) {
        job_run(b->opts.store, j);
        mag_commit_collect(b);
        return;
    }
    pthread_mutex_lock(&wr->mu);
    wr->job = j;
    wr->done = false;
    pthread_cond_signal(&wr->cv);
    pthread_mutex_unlock(&wr->mu);
}

/* The flight job failed: give its entry ids back. Ids of the same topics
   staged since then (fill job) move down by as many. */
static void give_back_ids(mag_broker *b, const struct mag_commit_job *j)
{
    struct mag_commit_job *f = b->fill;
    for (size_t i = 0; i < j->ntopics; i++) {
        mag_topic *t = j->topics[i].topic;
        uint64_t n = j->topics[i].end - j->topics[i].first;
        t->next_entry_id -= n;
        if (t->in_fill) {
            f->topics[t->fill_slot].first -= n;
            f->topics[t->fill_slot].shift = n;
        }
    }
    for (size_t i = 0; i < f->nstaged; i++)
        f->staged[i].entry_id -= f->topics[f->staged[i].topic->fill_slot].shift;
    for (size_t i = 0; i < f->ntopics; i++)
        f->topics[i].shift = 0;
}

/* Receipts of one staged entry: one per message of a batch (batch_index k
   of batch_size n). */
static void report(const struct mag_commit_job *j, const mag_staged *st, mag_rc rc)
{
    mag_producer *p = st->producer;
    if (!p)
        return;
    if (rc == MAG_OK) {
        p->msg_in_counter++;
        p->bytes_in_counter += st->payload_len;
    }
    mag_msgid id;
    mag_msgid_init(&id, st->topic->rec.id, st->entry_id);
    id.partition = st->topic->partition;
    if (st->batch_count == 0) {
        p->ev.on_result(p->ctx, st->token, rc, rc == MAG_OK ? &id : NULL);
        return;
    }
    id.batch_size = (int32_t)st->batch_count;
    for (uint32_t k = 0; k < st->batch_count && st->producer; k++) {
        id.batch_index = (int32_t)k;
        p->ev.on_result(p->ctx, j->batch_tokens[st->batch_tokens_at + k], rc,
                        rc == MAG_OK ? &id : NULL);
    }
}

void mag_commit_collect(mag_broker *b)
{
    if (b->collecting || !flight_done(b))
        return;
    /* b->flight stays set until the end, so callbacks that publish cannot
       start another job on top of this one. */
    b->collecting = true;
    struct mag_commit_job *j = b->flight;
    mag_rc rc = j->rc;
    b->last_commit_rc = rc;
    mag_metrics_commit(b, j);
    if (rc != MAG_OK) {
        mag_warn("group commit of %zu messages failed: %s", j->nstaged, mag_strerror(rc));
        give_back_ids(b, j);
    }
    for (size_t i = 0; i < j->ncursors; i++) {
        struct mag_job_cursor *c = &j->cursors[i];
        mag_sub *s = rc == MAG_OK ? NULL : mag_uidmap_get(&b->subs_by_uid, c->sub_uid);
        if (s)
            mag_sub_mark_cursor_dirty(s);
        free((void *)c->rec.ranges);
        free(c->name);
    }
    j->ncursors = 0;
    for (size_t i = 0; i < j->ntopics && rc == MAG_OK; i++) {
        mag_topic *t = j->topics[i].topic;
        t->committed_next = j->topics[i].end;
        size_t it = 0;
        const mag_strmap_slot *slot;
        while (mag_strmap_next(&t->subs, &it, &slot))
            mag_sub_mark_dispatch(slot->value);
    }
    for (size_t i = 0; i < j->nstaged; i++) {
        const mag_staged *st = &j->staged[i];
        if (rc == MAG_OK) {
            st->topic->msg_in_counter++;
            st->topic->bytes_in_counter += st->payload_len;
            if (st->dedup)
                mag_dedup_remember(st, j->entries.data + st->offset);
        } else if (st->dlq_sub_uid) {
            mag_broker_dead_letter_failed(b, st);
        }
        report(j, st, rc);
    }
    j->nstaged = 0;
    j->ntopics = 0;
    j->nbatch_tokens = 0;
    mag_buf_reset(&j->entries);
    b->flight = NULL;
    mag_space_update(b, false);
    b->collecting = false;
}

void mag_broker_drain(mag_broker *b)
{
    if (b->running)
        return;
    b->running = true;          /* callbacks cannot start a run of their own meanwhile */
    bool flush_all = b->flush_all;
    b->flush_all = true;
    b->last_commit_rc = MAG_OK;
    for (;;) {
        commit_wait(b);
        mag_commit_collect(b);
        if (b->last_commit_rc != MAG_OK && b->fill->nstaged == 0)
            break;              /* only cursors are left, and writing them just failed */
        mag_commit_start(b);
        if (!b->flight)
            break;
    }
    b->flush_all = flush_all;
    b->running = false;
    mag_broker_run(b);          /* dispatch what was committed */
}

void mag_commit_shutdown(mag_broker *b)
{
    mag_broker_drain(b);
    while (b->flight) {         /* the last run may have started one more */
        commit_wait(b);
        mag_commit_collect(b);
    }
    struct mag_commit_writer *wr = b->writer;
    if (wr) {
        pthread_mutex_lock(&wr->mu);
        wr->stop = true;
        pthread_cond_signal(&wr->cv);
        pthread_mutex_unlock(&wr->mu);
        pthread_join(wr->thread, NULL);
        close(wr->notify_fd);
        pthread_mutex_destroy(&wr->mu);
        pthread_cond_destroy(&wr->cv);
        free(wr);
        b->writer = NULL;
    }
    for (int i = 0; i < 2; i++) {
        struct mag_commit_job *j = &b->jobs[i];
        mag_buf_free(&j->entries);
        free(j->staged);
        free(j->batch_tokens);
        free(j->topics);
        free(j->cursors);
    }
}
