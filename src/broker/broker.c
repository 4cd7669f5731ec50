/* broker.c -- topic registry, producers and staging for the group commit.
 *
 * Publishes are staged (encoded into the fill job's reusable buffer) and
 * committed by commit.c together with every changed cursor. Only after the
 * commit are producers told the result, so a receipt always means "durable".
 *
 * Topic and subscription creation commit at once in their own small
 * transaction, with one disk sync instead of two: the first publish or ack
 * that relies on them is acknowledged only after a fully synced commit,
 * which makes the creation durable too (mag_store_wcommit_lazy_meta).
 */
#include "broker_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/codec/pulsar_json.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

void mag_ptrs_push(void ***arr, size_t *n, size_t *cap, void *p)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *arr = mag_xrealloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = p;
}

void mag_ptrs_push_u64(uint64_t **arr, size_t *n, size_t *cap, uint64_t v)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *arr = mag_xrealloc(*arr, *cap * sizeof **arr);
    }
    (*arr)[(*n)++] = v;
}

void mag_ptrs_remove(void **arr, size_t *n, void *p)
{
    for (size_t i = 0; i < *n; i++) {
        if (arr[i] == p) {
            memmove(arr + i, arr + i + 1, (*n - i - 1) * sizeof *arr);
            (*n)--;
            return;
        }
    }
}

void mag_broker_wake(mag_broker *b)
{
    if (!b->running && b->opts.request_work)
        b->opts.request_work(b->opts.hook_ctx);
}

/* ---- topics ---- */

static mag_topic *topic_new(mag_broker *b, const char *name, size_t len, const mag_topic_rec *rec)
{
    mag_topic *t = mag_xcalloc(1, sizeof *t);
    t->broker = b;
    t->name = mag_xstrndup(name, len);
    t->name_len = len;
    t->rec = *rec;
    t->partition = -1;
    mag_topic_name tn;
    if (mag_topic_name_parse(name, len, &tn) == MAG_OK)
        t->partition = tn.partition;
    mag_strmap_init(&t->producers);
    mag_strmap_init(&t->subs);
    mag_strmap_init(&t->dedup_highest);
    mag_strmap_put(&b->topics, name, len, t);
    return t;
}

void mag_topic_free(mag_topic *t)
{
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot))
        mag_sub_free(slot->value);
    mag_strmap_cleanup(&t->subs);
    mag_strmap_cleanup(&t->producers);
    mag_dedup_forget_topic(t);
    free(t->name);
    free(t);
}

/* Find or (if allowed) durably create the topic named tn->full. */
mag_rc mag_broker_topic_open(mag_broker *b, const mag_topic_name *tn, mag_topic **out, mag_buf *err)
{
    size_t len = strlen(tn->full);
    mag_topic *t = mag_strmap_get(&b->topics, tn->full, len);
    if (t) {
        *out = t;
        return MAG_OK;
    }
    mag_rc ns_rc = mag_admin_check_namespace(b, tn, err);
    if (ns_rc != MAG_OK)
        return ns_rc;
    bool allow_create;
    uint32_t auto_partitions;
    mag_admin_auto_create(b, tn, &allow_create, &auto_partitions);
    if (!tn->persistent) {
        if (!allow_create) {
            mag_buf_appendf(err, "Topic %s does not exist", tn->full);
            return MAG_ERR_NOT_FOUND;
        }
        /* Non-persistent topics live in memory only (issue #7). */
        mag_topic_rec np = { .id = b->next_np_topic_id++, .created_ms = mag_broker_now_ms() };
        *out = topic_new(b, tn->full, len, &np);
        (*out)->non_persistent = true;
        return MAG_OK;
    }
    bool parent_exists = false;
    if (tn->partition >= 0) {
        /* A partition of an existing partitioned topic may always be created. */
        const mag_topic *parent = mag_strmap_get(&b->topics, tn->full, tn->base_len);
        parent_exists = parent && (uint32_t)tn->partition < parent->rec.partitions;
    }
    if (!allow_create && !parent_exists) {
        mag_buf_appendf(err, "Topic %s does not exist", tn->full);
        return MAG_ERR_NOT_FOUND;
    }
    mag_topic_rec rec = { .id = 0, .partitions = 0, .terminated = false, .created_ms = mag_broker_now_ms() };
    mag_store_wtxn *w;
    mag_rc rc = mag_broker_wbegin(b, &w);
    if (rc == MAG_OK) {
        rc = mag_store_topic_create(w, tn->full, len, &rec);
        if (rc == MAG_OK)
            rc = mag_admin_register_v1_namespace(b, w, tn);
        if (rc == MAG_OK)
            rc = mag_store_wcommit_lazy_meta(w);
        else
            mag_store_wabort(w);
    }
    if (rc != MAG_OK) {
        mag_buf_appendf(err, "Failed to create topic %s: %s", tn->full, mag_strerror(rc));
        return rc;
    }
    mag_info("created topic %s (id %" PRIu64 ")", tn->full, rec.id);
    *out = topic_new(b, tn->full, len, &rec);
    return MAG_OK;
}

/* Stage the creation of partitions [from, to) of parent in transaction w. */
static mag_rc create_partitions(mag_broker *b, mag_store_wtxn *w, const mag_topic_name *parent,
                                uint32_t from, uint32_t to, mag_topic_rec *recs)
{
    for (uint32_t i = from; i < to; i++) {
        char name[MAG_TOPIC_NAME_MAX + 1];
        mag_rc rc = mag_topic_partition_name(parent, (int32_t)i, name);
        if (rc != MAG_OK)
            return rc;
        if (mag_strmap_get(&b->topics, name, strlen(name)))
            continue;       /* already there (e.g. used before as a plain topic) */
        recs[i] = (mag_topic_rec){ .created_ms = mag_broker_now_ms() };
        rc = mag_store_topic_create(w, name, strlen(name), &recs[i]);
        if (rc != MAG_OK)
            return rc;
    }
    return MAG_OK;
}

/* Write parent record + partitions [from, to); register them on success. */
static mag_rc write_partitioned(mag_broker *b, const mag_topic_name *t, mag_topic *existing,
                                uint32_t from, uint32_t to, mag_buf *err)
{
    size_t len = strlen(t->full);
    mag_topic_rec *recs = mag_xcalloc(to, sizeof *recs);
    mag_topic_rec parent = existing ? existing->rec
                                    : (mag_topic_rec){ .created_ms = mag_broker_now_ms() };
    parent.partitions = to;
    mag_store_wtxn *w;
    mag_rc rc = mag_broker_wbegin(b, &w);
    if (rc == MAG_OK) {
        rc = existing ? mag_store_topic_update(w, t->full, len, &parent)
                      : mag_store_topic_create(w, t->full, len, &parent);
        if (rc == MAG_OK)
            rc = create_partitions(b, w, t, from, to, recs);
        if (rc == MAG_OK)
            rc = mag_store_wcommit(w);
        else
            mag_store_wabort(w);
    }
    if (rc != MAG_OK) {
        mag_buf_appendf(err, "Failed to create partitions of %s: %s", t->full, mag_strerror(rc));
        free(recs);
        return rc;
    }
    if (existing)
        existing->rec.partitions = to;
    else
        topic_new(b, t->full, len, &parent);
    for (uint32_t i = from; i < to; i++) {
        char name[MAG_TOPIC_NAME_MAX + 1];
        mag_topic_partition_name(t, (int32_t)i, name);
        if (recs[i].id && !mag_strmap_get(&b->topics, name, strlen(name)))
            topic_new(b, name, strlen(name), &recs[i]);
    }
    free(recs);
    mag_info("partitioned topic %s now has %u partitions", t->full, to);
    return MAG_OK;
}

mag_rc mag_broker_create_partitioned(mag_broker *b, const mag_topic_name *t, uint32_t n,
                                     mag_buf *err)
{
    if (n == 0 || t->partition >= 0) {
        mag_buf_append_str(err, "The number of partitions must be more than 0");
        return MAG_ERR_BAD_REQUEST;
    }
    if (mag_strmap_get(&b->topics, t->full, strlen(t->full))) {
        mag_buf_appendf(err, "This topic already exists");
        return MAG_ERR_CONFLICT;
    }
    return write_partitioned(b, t, NULL, 0, n, err);
}

mag_rc mag_broker_grow_partitions(mag_broker *b, const mag_topic_name *t, uint32_t n, mag_buf *err)
{
    mag_topic *topic = mag_strmap_get(&b->topics, t->full, strlen(t->full));
    if (!topic || topic->rec.partitions == 0) {
        mag_buf_append_str(err, "Partitioned topic does not exist");
        return MAG_ERR_NOT_FOUND;
    }
    if (n <= topic->rec.partitions) {
        mag_buf_append_str(err, "Number of partitions should be more than the current number");
        return MAG_ERR_BAD_REQUEST;
    }
    return write_partitioned(b, t, topic, topic->rec.partitions, n, err);
}

mag_rc mag_broker_lookup_partitions(mag_broker *b, const mag_topic_name *t, uint32_t *n,
                                    mag_buf *err)
{
    *n = 0;
    if (t->partition >= 0)
        return MAG_OK;
    mag_topic *topic = mag_strmap_get(&b->topics, t->full, strlen(t->full));
    if (topic) {
        *n = topic->rec.partitions;
        return MAG_OK;
    }
    bool allow_create;
    uint32_t auto_partitions;
    mag_admin_auto_create(b, t, &allow_create, &auto_partitions);
    if (!allow_create || auto_partitions == 0)
        return MAG_OK;
    mag_rc rc = mag_broker_create_partitioned(b, t, auto_partitions, err);
    if (rc == MAG_OK)
        *n = auto_partitions;
    return rc;
}

mag_rc mag_broker_topic_subscriptions_json(mag_broker *b, const mag_topic_name *t, mag_buf *out)
{
    mag_topic *topic = mag_strmap_get(&b->topics, t->full, strlen(t->full));
    if (!topic)
        return MAG_ERR_NOT_FOUND;
    mag_buf_append_byte(out, '[');
    size_t it = 0, n = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&topic->subs, &it, &slot)) {
        const mag_sub *s = slot->value;
        if (!s->durable)
            continue;
        if (n++)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, s->name, strlen(s->name));
    }
    mag_buf_append_byte(out, ']');
    return MAG_OK;
}

/* ---- startup ---- */

struct load_ctx {
    mag_broker *b;
    mag_store_rtxn *r;
    mag_topic *topic;
};

static bool load_cursor(void *ctx, const char *sub, size_t sublen, const mag_cursor_rec *c)
{
    struct load_ctx *lc = ctx;
    char *name = mag_xstrndup(sub, sublen);
    mag_sub *s = mag_sub_new(lc->topic, name, (mag_sub_type)c->sub_type, true, c->mark_delete);
    free(name);
    for (size_t i = 0; i < c->nranges; i++)
        for (uint64_t id = c->ranges[2 * i]; id <= c->ranges[2 * i + 1]; id++)
            mag_idset_add(&s->acked, id);
    return true;
}

static bool load_topic(void *ctx, const char *name, size_t len, const mag_topic_rec *rec)
{
    struct load_ctx *lc = ctx;
    mag_topic *t = topic_new(lc->b, name, len, rec);
    uint64_t first, last;
    if (mag_store_entry_bounds(lc->r, rec->id, &first, &last) == MAG_OK)
        t->next_entry_id = last + 1;
    t->committed_next = t->next_entry_id;
    lc->topic = t;
    mag_store_cursors_scan(lc->r, rec->id, load_cursor, lc);
    return true;
}

mag_rc mag_broker_new(const struct mag_broker_opts *o, mag_broker **out)
{
    mag_broker *b = mag_xcalloc(1, sizeof *b);
    b->opts = *o;
    if (b->opts.group_commit_max_messages == 0)
        b->opts.group_commit_max_messages = 4096;
    if (b->opts.group_bytes == 0)
        b->opts.group_bytes = SIZE_MAX;
    mag_strmap_init(&b->topics);
    mag_strmap_init(&b->consumers_by_uid);
    mag_strmap_init(&b->subs_by_uid);
    mag_deadlines_init(&b->ack_timeouts);
    mag_deadlines_init(&b->nack_delays);
    mag_deadlines_init(&b->delayed);
    mag_deadlines_init(&b->batch_delays);
    mag_strmap_init(&b->producers_by_uid);
    b->next_uid = 1;
    b->next_np_topic_id = (uint64_t)1 << 40;   /* far from LMDB topic ids */
    mag_rc rc = mag_commit_init(b);
    if (rc != MAG_OK) {
        free(b);
        return rc;
    }
    mag_store_rtxn *r;
    rc = mag_store_rbegin(b->opts.store, &r);
    if (rc != MAG_OK) {
        mag_broker_free(b);
        return rc;
    }
    struct load_ctx lc = { .b = b, .r = r, .topic = NULL };
    rc = mag_store_topics_scan(r, load_topic, &lc);
    mag_store_rend(r);
    if (rc != MAG_OK) {
        mag_broker_free(b);
        return rc;
    }
    mag_info("loaded %zu topics", b->topics.count);
    mag_space_update(b, true);
    if ((rc = mag_admin_broker_init(b)) != MAG_OK) { mag_broker_free(b); return rc; }
    *out = b;
    return MAG_OK;
}

void mag_broker_free(mag_broker *b)
{
    if (!b)
        return;
    mag_commit_shutdown(b);     /* persists every pending publish and ack */
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot))
        mag_topic_free(slot->value);
    mag_strmap_cleanup(&b->topics);
    mag_strmap_cleanup(&b->consumers_by_uid);
    mag_strmap_cleanup(&b->subs_by_uid);
    mag_deadlines_cleanup(&b->ack_timeouts);
    mag_deadlines_cleanup(&b->nack_delays);
    mag_deadlines_cleanup(&b->delayed);
    mag_deadlines_cleanup(&b->batch_delays);
    mag_strmap_cleanup(&b->producers_by_uid);
    free(b->dirty_cursors);
    free(b->dispatch_subs);
    free(b->open_batches);
    mag_buf_free(&b->scratch);
    mag_buf_free(&b->inflate);
    free(b);
}

size_t mag_broker_staged_count(const mag_broker *b)
{
    return b->fill->nstaged + (b->flight ? b->flight->nstaged : 0);
}

/* ---- producers ---- */

mag_rc mag_broker_producer_open(mag_broker *b, const mag_topic_name *tn, const char *name,
                                const struct mag_producer_events *ev, void *ctx,
                                mag_producer **out, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = mag_broker_topic_open(b, tn, &t, err);
    if (rc != MAG_OK)
        return rc;
    if (t->rec.partitions > 0) {
        mag_buf_appendf(err, "%s is a partitioned topic: attach to its partitions", t->name);
        return MAG_ERR_BAD_REQUEST;
    }
    if (t->rec.terminated) {
        mag_buf_appendf(err, "Topic %s was already terminated", t->name);
        return MAG_ERR_UNAVAILABLE;
    }
    if ((rc = mag_admin_producer_check(t, err)) != MAG_OK) return rc;
    char generated[96];
    if (!name || !*name) {
        do {
            snprintf(generated, sizeof generated, "standalone-%" PRIu64 "-%" PRIu64, t->rec.id,
                     t->producer_counter++);
        } while (mag_strmap_get(&t->producers, generated, strlen(generated)));
        name = generated;
    } else if (mag_strmap_get(&t->producers, name, strlen(name))) {
        mag_buf_appendf(err, "Producer with name '%s' is already connected to topic", name);
        return MAG_ERR_CONFLICT;
    }
    mag_producer *p = mag_xcalloc(1, sizeof *p);
    p->topic = t;
    p->name = mag_xstrdup(name);
    p->ev = *ev;
    p->ctx = ctx;
    p->uid = b->next_uid++;
    mag_uidmap_put(&b->producers_by_uid, p->uid, p);
    struct mag_producer_config defaults = { .initial_sequence_id = -1 };
    mag_producer_configure(p, &defaults);
    mag_buf_init(&p->batch);
    mag_strmap_put(&t->producers, p->name, strlen(p->name), p);
    *out = p;
    return MAG_OK;
}

const char *mag_producer_name(const mag_producer *p)
{
    return p->name;
}

const char *mag_producer_topic(const mag_producer *p)
{
    return p->topic->name;
}

mag_staged *mag_broker_stage(mag_broker *b, mag_topic *t, mag_producer *p, const mag_entry *e,
                             uint64_t token)
{
    struct mag_commit_job *j = b->fill;
    if (!t->in_fill) {
        if (j->ntopics == j->cap_topics) {
            j->cap_topics = j->cap_topics ? j->cap_topics * 2 : 16;
            j->topics = mag_xrealloc(j->topics, j->cap_topics * sizeof *j->topics);
        }
        t->in_fill = true;
        t->fill_slot = j->ntopics;
        j->topics[j->ntopics++] = (struct mag_job_topic){ .topic = t, .first = t->next_entry_id };
    }
    mag_entry copy = *e;
    copy.publish_time_ms = mag_broker_now_ms();
    if (p) {
        copy.producer_name = p->name;
        copy.producer_name_len = strlen(p->name);
    }
    size_t size = mag_entry_encoded_size(&copy);
    mag_buf_reserve(&j->entries, size);
    mag_entry_encode(&copy, j->entries.data + j->entries.len);
    if (j->nstaged == j->cap_staged) {
        j->cap_staged = j->cap_staged ? j->cap_staged * 2 : 64;
        j->staged = mag_xrealloc(j->staged, j->cap_staged * sizeof *j->staged);
    }
    mag_staged *st = &j->staged[j->nstaged++];
    *st = (mag_staged){
        .producer = p, .topic = t, .topic_id = t->rec.id, .entry_id = t->next_entry_id++,
        .token = token, .offset = j->entries.len, .len = size, .payload_len = e->payload_len,
        .dedup = mag_dedup_enabled(t),
    };
    j->entries.len += size;
    if (j->nstaged == 1)
        mag_broker_wake(b);
    return st;
}

void mag_producer_rejected(const mag_producer *p, struct mag_rejected_publish *out)
{
    out->size = p->rejected_size;
    out->max = p->topic->broker->opts.max_message_size;
    out->batched = p->rejected_batched;
    out->batching = p->cfg.batching;
    out->compressed = p->cfg.compression != 0;
}

mag_rc mag_producer_publish(mag_producer *p, const mag_entry *e, uint64_t token)
{
    mag_topic *t = p->topic;
    mag_broker *b = t->broker;
    if (t->rec.terminated)
        return MAG_ERR_UNAVAILABLE;
    if (b->opts.max_message_size && mag_batch_over_size(p, e, &p->rejected_size))
        return MAG_ERR_TOO_LARGE;
    mag_entry msg = *e;
    msg.sequence_id = p->next_sequence_id++;
    if (t->non_persistent) {
        mag_np_publish(p, &msg, token);
        return MAG_OK;
    }
    if (mag_admin_publish_blocked(t)) return MAG_ERR_QUEUE_FULL;
    if (mag_dedup_check(p, msg.sequence_id, token))
        return MAG_OK;          /* a duplicate, answered with the original's id */
    if (!mag_space_publish_ok(b, e->payload_len + e->properties_json_len))
        return MAG_ERR_MAP_FULL;    /* the map's reserve is for deletes (space.c) */
    if (p->cfg.batching && msg.deliver_at_ms <= 0) {
        mag_batch_add(p, &msg, token);
    } else {
        mag_batch_close(p);     /* keep the producer's order */
        mag_batch_stage_single(p, &msg, token);
    }
    if (b->fill->nstaged >= b->opts.group_commit_max_messages && !b->flight)
        mag_broker_run(b);      /* a full job goes now; behind a busy writer it keeps growing */
    return MAG_OK;
}

void mag_producer_close(mag_producer *p)
{
    mag_broker *b = p->topic->broker;
    mag_batch_close(p);         /* its messages are still written */
    mag_uidmap_remove(&b->producers_by_uid, p->uid);  /* its batch deadline is skipped */
    if (p->batch_listed)
        mag_ptrs_remove((void **)b->open_batches, &b->nopen_batches, p);
    mag_buf_free(&p->batch);
    free(p->batch_tokens);
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < b->jobs[k].nstaged; i++)
            if (b->jobs[k].staged[i].producer == p)
                b->jobs[k].staged[i].producer = NULL;
    mag_strmap_remove(&p->topic->producers, p->name, strlen(p->name));
    free(p->name);
    free(p);
}

/* ---- run ---- */

static void dispatch_all(mag_broker *b)
{
    if (b->ndispatch == 0)
        return;
    mag_store_rtxn *r;
    if (mag_store_rbegin(b->opts.store, &r) != MAG_OK)
        return;
    /* The list may grow while we iterate (flow permits re-list a subscription). */
    for (size_t i = 0; i < b->ndispatch; i++) {
        mag_sub *s = b->dispatch_subs[i];
        s->dispatch_listed = false;
        mag_dispatch_sub(s, r);
    }
    b->ndispatch = 0;
    mag_store_rend(r);
}

void mag_broker_run(mag_broker *b)
{
    if (b->running)
        return;
    b->running = true;
    mag_commit_collect(b);
    mag_commit_start(b);
    dispatch_all(b);
    b->running = false;
    mag_admin_after_run(b);
    if (b->fill->nstaged > 0 && mag_commit_may_start(b))
        mag_broker_wake(b);
}
