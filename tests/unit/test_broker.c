/* test_broker.c -- broker core on real LMDB storage with in-process fake clients.
 *
 * Checks the group-commit contract (results only after mag_broker_run, in
 * order, ids contiguous), Exclusive/Shared dispatch, flow permits, acks and
 * cursor persistence across a reopen, redelivery when a consumer leaves,
 * unsubscribe, the map-full error path, and on the writer thread: a failed
 * job and the group wait (journalMaxGroupWaitMSec).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mag/broker/broker.h"
#include "mag_test.h"
#include "broker_fixture.h"

static mag_broker *open_broker_paced(mag_store *s, bool commit_thread, int64_t group_wait_us)
{
    return fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                       .group_commit_max_messages = 1000,
                                                       .commit_thread = commit_thread,
                                                       .group_wait_us = group_wait_us });
}

static mag_broker *open_broker_with(mag_store *s, bool commit_thread)
{
    return open_broker_paced(s, commit_thread, 0);
}

static mag_broker *open_broker(mag_store *s)
{
    return open_broker_with(s, false);
}


/* ---- fake consumer ---- */
struct fake_consumer {
    int got;
    mag_msgid last;
    uint64_t entries[256];
    char payloads[256][16];
    bool blocked;
};

static void on_message(void *ctx, const mag_msgid *id, const mag_entry *e, int32_t rc,
                       bool first, uint32_t remaining)
{
    (void)first;
    (void)remaining;
    (void)rc;
    struct fake_consumer *fc = ctx;
    fc->last = *id;
    if (fc->got < 256) {
        fc->entries[fc->got] = id->entry;
        size_t n = e->payload_len < 15 ? e->payload_len : 15;
        memcpy(fc->payloads[fc->got], e->payload, n);
        fc->payloads[fc->got][n] = '\0';
    }
    fc->got++;
}

static bool is_blocked(void *ctx)
{
    return ((struct fake_consumer *)ctx)->blocked;
}

static const struct mag_consumer_events cev = { .on_message = on_message, .is_blocked = is_blocked };

static struct mag_consumer_opts sub_opts(const char *sub, mag_sub_type type)
{
    struct mag_consumer_opts o;
    memset(&o, 0, sizeof o);
    o.subscription = sub;
    o.type = type;
    o.durable = true;
    o.start = MAG_START_LATEST;
    return o;
}

/* A non-durable consumer from the earliest entry with `permits`, run once. */
static mag_consumer *read_from_earliest(mag_broker *b, const mag_topic_name *t,
                                        struct fake_consumer *fc, uint32_t permits)
{
    mag_buf err = MAG_BUF_INIT;
    mag_consumer *c = NULL;
    struct mag_consumer_opts o = sub_opts(NULL, MAG_SUB_EXCLUSIVE);
    o.durable = false;
    o.start = MAG_START_EARLIEST;
    CHECK_EQ_INT(mag_broker_consumer_open(b, t, &o, &cev, fc, &c, &err), MAG_OK);
    mag_buf_free(&err);
    mag_consumer_flow(c, permits);
    mag_broker_run(b);
    return c;
}

MAG_TEST(test_publish_results_only_after_commit)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64 << 20);
    mag_broker *b = open_broker(s);
    mag_topic_name t = topic("persistent://public/default/t1");
    struct fake_producer fp = { 0 };
    mag_producer *p;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, "prod-a", &pev, &fp, &p, &err), MAG_OK);
    CHECK_STR(mag_producer_name(p), "prod-a");
    fixture_work_requests = 0;
    publish(p, "m0", 10);
    publish(p, "m1", 11);
    publish(p, "m2", 12);
    CHECK_EQ_INT(fp.results, 0);               /* staged, not committed */
    CHECK(fixture_work_requests >= 1);               /* the loop was asked to run us */
    CHECK_EQ_INT(mag_broker_staged_count(b), 3);
    mag_broker_run(b);
    CHECK_EQ_INT(fp.results, 3);
    CHECK_EQ_INT(fp.last_rc, MAG_OK);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(fp.tokens[i], 10 + i);
        CHECK_EQ_INT(fp.ids[i].entry, (uint64_t)i);
        CHECK_EQ_INT(fp.ids[i].partition, -1);
        CHECK_EQ_INT(fp.ids[i].ledger, fp.ids[0].ledger);
    }
    /* Same producer name twice on a topic is a conflict. */
    mag_producer *p2;
    struct fake_producer fp2 = { 0 };
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, "prod-a", &pev, &fp2, &p2, &err), MAG_ERR_CONFLICT);
    mag_producer_close(p);
    mag_broker_free(b);
    mag_store_close(s);

    /* After a reopen the entry ids continue. */
    s = fixture_store(64 << 20);
    b = open_broker(s);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp2, &p, &err), MAG_OK);
    publish(p, "m3", 1);
    mag_broker_run(b);
    CHECK_EQ_INT(fp2.results, 1);
    CHECK_EQ_INT(fp2.ids[0].entry, 3);
    CHECK_EQ_INT(fp2.ids[0].ledger, fp.ids[0].ledger);
    mag_producer_close(p);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

MAG_TEST(test_exclusive_and_shared_dispatch)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64 << 20);
    /* dispatcherMaxRoundRobinBatchSize=1: strict alternation (the default 20 is
       test_shared_round_robin_batch_size's). */
    mag_broker *b = fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                                .group_commit_max_messages = 1000,
                                                                .dispatcher_max_round_robin_batch_size = 1 });
    mag_topic_name t = topic("persistent://public/default/t2");
    mag_buf err = MAG_BUF_INIT;
    struct fake_consumer ex1 = { 0 }, ex2 = { 0 }, sh1 = { 0 }, sh2 = { 0 };
    mag_consumer *c_ex1, *c_ex2, *c_sh1, *c_sh2;
    struct mag_consumer_opts o = sub_opts("ex", MAG_SUB_EXCLUSIVE);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &ex1, &c_ex1, &err), MAG_OK);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &ex2, &c_ex2, &err), MAG_ERR_CONFLICT);
    struct mag_consumer_opts so = sub_opts("ex", MAG_SUB_SHARED);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &so, &cev, &ex2, &c_ex2, &err), MAG_ERR_CONFLICT);
    so = sub_opts("sh", MAG_SUB_SHARED);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &so, &cev, &sh1, &c_sh1, &err), MAG_OK);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &so, &cev, &sh2, &c_sh2, &err), MAG_OK);

    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    for (int i = 0; i < 10; i++) {
        char text[8];
        snprintf(text, sizeof text, "m%d", i);
        publish(p, text, (uint64_t)i);
    }
    mag_broker_run(b);
    CHECK_EQ_INT(ex1.got, 0);                  /* no permits yet */
    mag_consumer_flow(c_ex1, 4);
    mag_consumer_flow(c_sh1, 100);
    mag_consumer_flow(c_sh2, 100);
    mag_broker_run(b);
    CHECK_EQ_INT(ex1.got, 4);                  /* exactly the permits */
    CHECK_STR(ex1.payloads[3], "m3");
    CHECK_EQ_INT(sh1.got + sh2.got, 10);       /* disjoint and complete */
    CHECK_EQ_INT(sh1.got, 5);                  /* round-robin */
    CHECK_EQ_INT(sh1.entries[0], 0);
    CHECK_EQ_INT(sh2.entries[0], 1);

    /* Blocked consumers get nothing; the other takes over. */
    sh1.blocked = true;
    publish(p, "x", 100);
    publish(p, "y", 101);
    mag_broker_run(b);
    CHECK_EQ_INT(sh1.got, 5);
    CHECK_EQ_INT(sh2.got, 7);

    /* Exclusive: ack 0..1, close with 2..3 unacked; the next consumer gets 2.. first. */
    mag_msgid id;
    mag_msgid_init(&id, fp.ids[0].ledger, 0);
    mag_consumer_ack(c_ex1, &id);
    mag_msgid_init(&id, fp.ids[0].ledger, 1);
    mag_consumer_ack(c_ex1, &id);
    mag_consumer_close(c_ex1);
    struct fake_consumer ex3 = { 0 };
    mag_consumer *c_ex3;
    o = sub_opts("ex", MAG_SUB_EXCLUSIVE);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &ex3, &c_ex3, &err), MAG_OK);
    mag_consumer_flow(c_ex3, 3);
    mag_broker_run(b);
    CHECK_EQ_INT(ex3.got, 3);
    CHECK_EQ_INT(ex3.entries[0], 2);
    CHECK_EQ_INT(ex3.entries[1], 3);
    CHECK_EQ_INT(ex3.entries[2], 4);

    mag_producer_close(p);
    mag_consumer_close(c_ex3);
    mag_consumer_close(c_sh1);
    mag_consumer_close(c_sh2);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

MAG_TEST(test_cursor_persists_and_unsubscribe)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64 << 20);
    mag_broker *b = open_broker(s);
    mag_topic_name t = topic("persistent://public/default/t3");
    mag_buf err = MAG_BUF_INIT, json = MAG_BUF_INIT;
    struct fake_consumer fc = { 0 };
    mag_consumer *c;
    struct mag_consumer_opts o = sub_opts("sub", MAG_SUB_SHARED);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &fc, &c, &err), MAG_OK);
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    for (int i = 0; i < 6; i++)
        publish(p, "m", (uint64_t)i);
    mag_consumer_flow(c, 100);
    mag_broker_run(b);
    CHECK_EQ_INT(fc.got, 6);
    /* Ack 0, 1, 3 and 5: mark-delete 1, individually acked {3, 5}. */
    uint64_t acks[] = { 0, 1, 3, 5 };
    for (size_t i = 0; i < 4; i++) {
        mag_msgid id;
        mag_msgid_init(&id, fp.ids[0].ledger, acks[i]);
        mag_consumer_ack(c, &id);
    }
    mag_broker_run(b);                          /* persists the cursor */
    mag_producer_close(p);
    mag_consumer_close(c);
    mag_broker_free(b);
    mag_store_close(s);

    s = fixture_store(64 << 20);
    b = open_broker(s);
    CHECK_EQ_INT(mag_broker_topic_subscriptions_json(b, &t, &json), MAG_OK);
    CHECK_STR(mag_buf_cstr(&json), "[\"sub\"]");
    struct fake_consumer fc2 = { 0 };
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &fc2, &c, &err), MAG_OK);
    mag_consumer_flow(c, 100);
    mag_broker_run(b);
    CHECK_EQ_INT(fc2.got, 2);                   /* only the unacked ones */
    CHECK_EQ_INT(fc2.entries[0], 2);
    CHECK_EQ_INT(fc2.entries[1], 4);
    CHECK_EQ_INT(mag_consumer_unsubscribe(c, &err), MAG_OK);
    mag_buf_reset(&json);
    CHECK_EQ_INT(mag_broker_topic_subscriptions_json(b, &t, &json), MAG_OK);
    CHECK_STR(mag_buf_cstr(&json), "[]");
    mag_broker_free(b);
    mag_store_close(s);

    s = fixture_store(64 << 20);
    b = open_broker(s);
    mag_buf_reset(&json);
    CHECK_EQ_INT(mag_broker_topic_subscriptions_json(b, &t, &json), MAG_OK);
    CHECK_STR(mag_buf_cstr(&json), "[]");      /* the deletion was durable */
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    mag_buf_free(&json);
    fixture_dir_remove();
}

MAG_TEST(test_map_full_fails_publishes_and_keeps_data)
{
    fixture_dir_new();
    mag_store *s = fixture_store(1 << 20);
    mag_broker *b = open_broker(s);
    mag_topic_name t = topic("persistent://public/default/full");
    mag_buf err = MAG_BUF_INIT;
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    static char big[60000];
    memset(big, 'x', sizeof big - 1);
    int ok = 0;
    mag_rc last = MAG_OK;
    for (int i = 0; i < 40 && last == MAG_OK; i++) {
        fp.results = 0;
        last = publish_rc(p, big, (uint64_t)i);     /* refused before the map's reserve */
        if (last != MAG_OK)
            break;
        mag_broker_run(b);
        CHECK_EQ_INT(fp.results, 1);
        last = fp.last_rc;
        if (last == MAG_OK)
            ok++;
    }
    CHECK_EQ_INT(last, MAG_ERR_MAP_FULL);
    CHECK(ok > 0);
    CHECK_EQ_INT(fp.results, 0);
    /* What was stored is still readable by a new reader from the start. */
    struct fake_consumer fc = { 0 };
    mag_consumer *c = read_from_earliest(b, &t, &fc, 1000);
    CHECK_EQ_INT(fc.got, ok);
    mag_consumer_close(c);
    mag_producer_close(p);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* Writer thread: job A is being written when job B is staged; A fails, so
   B's entries take A's ids (no gap) and are committed and readable. */
MAG_TEST(test_failed_job_gives_ids_to_the_next_job)
{
    fixture_dir_new();
    mag_store *s = fixture_store(1 << 20);
    mag_broker *b = open_broker_with(s, true);
    CHECK(mag_broker_commit_fd(b) >= 0);
    mag_topic_name t = topic("persistent://public/default/pipeline");
    mag_buf err = MAG_BUF_INIT;
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    /* The map fills behind the broker's back after it measured its space
       (space.c), so job A passes the publish check and fails in LMDB. */
    static char filler[700 << 10], huge[300 << 10];
    mag_store_wtxn *w;
    CHECK_EQ_INT(mag_store_wbegin(s, &w), MAG_OK);
    CHECK_EQ_INT(mag_store_meta_put(w, "filler", filler, sizeof filler), MAG_OK);
    CHECK_EQ_INT(mag_store_wcommit(w), MAG_OK);
    memset(huge, 'h', sizeof huge - 1);
    publish(p, huge, 0);
    mag_broker_run(b);                  /* job A goes to the writer thread */
    publish(p, "a", 1);                 /* job B: staged while A is in flight */
    publish(p, "b", 2);
    publish(p, "c", 3);
    CHECK_EQ_INT(mag_broker_staged_count(b), 4);
    mag_broker_drain(b);
    CHECK_EQ_INT(fp.results, 4);
    CHECK_EQ_INT(fp.tokens[0], 0);
    for (int i = 1; i < 4; i++) {
        CHECK_EQ_INT(fp.tokens[i], (uint64_t)i);
        CHECK_EQ_INT(fp.ids[i].entry, (uint64_t)(i - 1));  /* A's id 0 was given back */
    }
    CHECK_EQ_INT(fp.last_rc, MAG_OK);
    CHECK_EQ_INT(mag_broker_staged_count(b), 0);
    struct fake_consumer fc = { 0 };
    mag_consumer *c = read_from_earliest(b, &t, &fc, 10);
    CHECK_EQ_INT(fc.got, 3);
    CHECK_STR(fc.payloads[0], "a");
    CHECK_STR(fc.payloads[2], "c");
    CHECK_EQ_INT(fc.entries[2], 2);
    mag_consumer_close(c);
    mag_producer_close(p);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* A broker with one producer and one consumer (100 permits) on one topic:
   the setup of the timed-redelivery tests. Lives on the caller's stack. */
struct pubsub {
    mag_store *s;
    mag_broker *b;
    mag_producer *p;
    mag_consumer *c;
    struct fake_producer fp;
    struct fake_consumer fc;
};

static void pubsub_open(struct pubsub *ps, const char *topic_name, const struct mag_consumer_opts *o)
{
    memset(ps, 0, sizeof *ps);
    fixture_dir_new();
    ps->s = fixture_store(64 << 20);
    ps->b = open_broker(ps->s);
    mag_topic_name t = topic(topic_name);
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_producer_open(ps->b, &t, NULL, &pev, &ps->fp, &ps->p, &err), MAG_OK);
    CHECK_EQ_INT(mag_broker_consumer_open(ps->b, &t, o, &cev, &ps->fc, &ps->c, &err), MAG_OK);
    mag_buf_free(&err);
    mag_consumer_flow(ps->c, 100);
}

/* Publish one message and commit it (delivered to the consumer); returns the
   time after which its ack timer was armed. */
static int64_t pubsub_send(struct pubsub *ps, const char *text, uint64_t token)
{
    publish(ps->p, text, token);
    mag_broker_run(ps->b);
    return mag_broker_now_ms();
}

static void pubsub_close(struct pubsub *ps)
{
    mag_consumer_close(ps->c);
    mag_producer_close(ps->p);
    mag_broker_free(ps->b);
    mag_store_close(ps->s);
    fixture_dir_remove();
}

/* Exclusive ack timeout: the first expired delivery rewinds every unacked
   message once; the timers of the other deliveries it took back must not
   rewind the redelivered messages again (they have timers of their own). */
MAG_TEST(test_exclusive_rewind_drops_the_older_ack_timers)
{
    struct mag_consumer_opts o = sub_opts("at", MAG_SUB_EXCLUSIVE);
    o.ack_timeout_ms = 1000;
    struct pubsub ps;
    pubsub_open(&ps, "persistent://public/default/rewind", &o);
    int64_t t0 = pubsub_send(&ps, "e0", 0);     /* e0's timer expires at t0 + 1000 or before */
    CHECK_EQ_INT(ps.fc.got, 1);
    usleep(20000);
    int64_t t1 = pubsub_send(&ps, "e1", 1);     /* e1's: after t0 + 1020, at t1 + 1000 or before */
    CHECK_EQ_INT(ps.fc.got, 2);
    usleep(50000);              /* the redeliveries below get timers after t1 + 1050 */
    mag_broker_tick(ps.b, t0 + 1005);                  /* e0's timer only */
    CHECK_EQ_INT(ps.fc.got, 4);                        /* e0 and e1 again, once */
    CHECK_EQ_INT(ps.fc.entries[2], 0);
    CHECK_EQ_INT(ps.fc.entries[3], 1);
    mag_broker_tick(ps.b, t1 + 1005);                  /* e1's first timer: taken back already */
    CHECK_EQ_INT(ps.fc.got, 4);
    mag_broker_tick(ps.b, mag_broker_now_ms() + 1100); /* the redeliveries' own timers */
    CHECK_EQ_INT(ps.fc.got, 6);
    pubsub_close(&ps);
}

/* Shared: a negative ack cancels the ack timer of that delivery; the
   redelivery waits a full ack timeout of its own. */
MAG_TEST(test_shared_nack_cancels_the_ack_timer)
{
    struct mag_consumer_opts o = sub_opts("sh", MAG_SUB_SHARED);
    o.ack_timeout_ms = 1000;
    o.nack_delay_ms = 100;
    struct pubsub ps;
    pubsub_open(&ps, "persistent://public/default/nack-timer", &o);
    int64_t t0 = pubsub_send(&ps, "m", 0);      /* its ack timer expires at t0 + 1000 or before */
    CHECK_EQ_INT(ps.fc.got, 1);
    mag_consumer_nack(ps.c, &ps.fc.last);
    usleep(50000);              /* the redelivery below gets a timer after t0 + 1050 */
    mag_broker_tick(ps.b, t0 + 150);                   /* the negative-ack delay */
    CHECK_EQ_INT(ps.fc.got, 2);
    mag_broker_tick(ps.b, t0 + 1005);                  /* the first delivery's timer: cancelled */
    CHECK_EQ_INT(ps.fc.got, 2);
    mag_broker_tick(ps.b, mag_broker_now_ms() + 1100); /* the redelivery's own timer */
    CHECK_EQ_INT(ps.fc.got, 3);
    pubsub_close(&ps);
}

/* Exclusive: a nacked message waits for its negative-ack delay even when
   that is longer than the ack timeout (the nack cancelled the ack timer). */
MAG_TEST(test_exclusive_nack_outlasts_the_ack_timeout)
{
    struct mag_consumer_opts o = sub_opts("ex", MAG_SUB_EXCLUSIVE);
    o.ack_timeout_ms = 1000;
    o.nack_delay_ms = 3000;
    struct pubsub ps;
    pubsub_open(&ps, "persistent://public/default/nack-long", &o);
    int64_t t0 = pubsub_send(&ps, "m", 0);
    mag_consumer_nack(ps.c, &ps.fc.last);
    mag_broker_tick(ps.b, t0 + 1005);                  /* the ack timer: cancelled */
    CHECK_EQ_INT(ps.fc.got, 1);
    mag_broker_tick(ps.b, mag_broker_now_ms() + 3100); /* the negative-ack delay: a rewind */
    CHECK_EQ_INT(ps.fc.got, 2);
    CHECK_EQ_INT(ps.fc.entries[1], 0);
    pubsub_close(&ps);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Do what the server's loop does (run the broker whenever the writer's
   eventfd is readable) until `results` receipts arrived; false after 10 s. */
static bool loop_until_results(mag_broker *b, const struct fake_producer *fp, int results)
{
    int64_t give_up = mono_ms() + 10000;
    while (fp->results < results && mono_ms() < give_up) {
        struct pollfd pfd = { .fd = mag_broker_commit_fd(b), .events = POLLIN };
        if (poll(&pfd, 1, 100) > 0)
            mag_broker_commit_event(b);
    }
    return fp->results >= results;
}

MAG_TEST(test_group_wait_paces_commits)
{
    fixture_dir_new();
    mag_store *s = fixture_store(1 << 20);
    const int64_t wait_ms = 300;
    mag_broker *b = open_broker_paced(s, true, wait_ms * 1000);
    mag_topic_name t = topic("persistent://public/default/paced");
    mag_buf err = MAG_BUF_INIT;
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);

    /* After a quiet spell a publish is committed at once... */
    int64_t first_start = mono_ms();
    publish(p, "a", 0);
    mag_broker_run(b);
    CHECK(loop_until_results(b, &fp, 1));
    /* ...the next one waits for the group wait to end, staged meanwhile. */
    publish(p, "b", 1);
    publish(p, "c", 2);
    mag_broker_run(b);
    CHECK_EQ_INT(mag_broker_staged_count(b), 2);
    CHECK_EQ_INT(fp.results, 1);
    CHECK(loop_until_results(b, &fp, 3));
    CHECK(mono_ms() - first_start >= wait_ms);
    CHECK_EQ_INT(fp.last_rc, MAG_OK);
    CHECK_EQ_INT(fp.ids[2].entry, 2);

    mag_producer_close(p);
    mag_broker_free(b);

    /* With a wait of a minute: a job of group_commit_max_messages goes at
       once, and so does a drain; freeing the broker ends the wait. */
    b = open_broker_paced(s, true, 60 * 1000000);
    memset(&fp, 0, sizeof fp);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    publish(p, "x", 0);
    mag_broker_run(b);
    CHECK(loop_until_results(b, &fp, 1));
    for (uint64_t i = 1; i <= 1000; i++)
        publish(p, "bulk", i);
    CHECK(loop_until_results(b, &fp, 1001));
    publish(p, "y", 1001);
    mag_broker_run(b);
    CHECK_EQ_INT(mag_broker_staged_count(b), 1);
    mag_broker_drain(b);
    CHECK_EQ_INT(fp.results, 1002);
    CHECK_EQ_INT(fp.last_rc, MAG_OK);
    CHECK_EQ_INT(mag_broker_staged_count(b), 0);
    mag_producer_close(p);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

static bool commit_fd_readable(mag_broker *b)
{
    struct pollfd pfd = { .fd = mag_broker_commit_fd(b), .events = POLLIN };
    return poll(&pfd, 1, 0) > 0;
}

/* The writer counts a note, then write()s the eventfd. If the loop's
   flight_done takes that note and read()s in between (EAGAIN), the eventfd
   ends up readable with no note counted: the loop's level-triggered event
   must still drain it, or it fires forever (100% CPU while idle). */
MAG_TEST(test_commit_event_drains_an_unnoted_signal)
{
    fixture_dir_new();
    mag_store *s = fixture_store(1 << 20);
    mag_broker *b = open_broker_with(s, true);
    mag_topic_name t = topic("persistent://public/default/drain");
    mag_buf err = MAG_BUF_INIT;
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    publish(p, "a", 0);
    mag_broker_run(b);
    CHECK(loop_until_results(b, &fp, 1));
    CHECK(!commit_fd_readable(b));
    mag_broker_test_unnoted_signal(b);
    CHECK(commit_fd_readable(b));
    mag_broker_commit_event(b);
    CHECK(!commit_fd_readable(b));
    /* and the pipeline still works afterwards */
    publish(p, "b", 1);
    mag_broker_run(b);
    CHECK(loop_until_results(b, &fp, 2));
    CHECK_EQ_INT(fp.last_rc, MAG_OK);
    mag_producer_close(p);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* dispatcherMaxRoundRobinBatchSize: a Shared consumer takes up to that many
   entries of one dispatch run before the next consumer's turn
   (PersistentDispatcherMultipleConsumers). */
MAG_TEST(test_shared_round_robin_batch_size)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64 << 20);
    mag_broker *b = fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                                .group_commit_max_messages = 1000,
                                                                .dispatcher_max_round_robin_batch_size = 3 });
    mag_topic_name t = topic("persistent://public/default/rr");
    mag_buf err = MAG_BUF_INIT;
    struct fake_consumer fa = { 0 }, fb = { 0 };
    mag_consumer *ca, *cb;
    struct mag_consumer_opts o = sub_opts("sh", MAG_SUB_SHARED);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &fa, &ca, &err), MAG_OK);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &fb, &cb, &err), MAG_OK);
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    for (int i = 0; i < 12; i++)
        publish(p, "m", (uint64_t)i);
    mag_broker_run(b);                          /* committed, nobody has permits yet */
    mag_consumer_flow(ca, 100);
    mag_consumer_flow(cb, 100);
    mag_broker_run(b);
    CHECK_EQ_INT(fa.got, 6);
    CHECK_EQ_INT(fb.got, 6);
    static const uint64_t want_a[] = { 0, 1, 2, 6, 7, 8 }, want_b[] = { 3, 4, 5, 9, 10, 11 };
    for (int i = 0; i < 6 && fa.got == 6 && fb.got == 6; i++) {
        CHECK_EQ_INT(fa.entries[i], want_a[i]);
        CHECK_EQ_INT(fb.entries[i], want_b[i]);
    }
    mag_producer_close(p);
    mag_consumer_close(ca);
    mag_consumer_close(cb);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

static void ack_entry(mag_consumer *c, const struct fake_producer *fp, uint64_t entry)
{
    mag_msgid id;
    mag_msgid_init(&id, fp->ids[0].ledger, entry);
    mag_consumer_ack(c, &id);
}

/* maxUnackedMessagesPerConsumer / PerSubscription: dispatch stops at the limit
   and resumes once acks bring the count down to half of it
   (Consumer.blockedConsumerOnUnackedMsgs, blockedDispatcherOnUnackMsgs). */
MAG_TEST(test_shared_max_unacked)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64 << 20);
    mag_broker *b = fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                                .group_commit_max_messages = 1000,
                                                                .max_unacked_per_consumer = 4,
                                                                .max_unacked_per_subscription = 6 });
    mag_topic_name t = topic("persistent://public/default/unacked");
    mag_buf err = MAG_BUF_INIT;
    struct fake_consumer fa = { 0 }, fb = { 0 };
    mag_consumer *ca, *cb;
    struct mag_consumer_opts o = sub_opts("sh", MAG_SUB_SHARED);
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &fa, &ca, &err), MAG_OK);
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    for (int i = 0; i < 20; i++)
        publish(p, "m", (uint64_t)i);
    mag_broker_run(b);
    mag_consumer_flow(ca, 100);
    mag_broker_run(b);
    CHECK_EQ_INT(fa.got, 4);                    /* the consumer limit */
    ack_entry(ca, &fp, 0);
    mag_broker_run(b);
    CHECK_EQ_INT(fa.got, 4);                    /* 3 unacked: still above half */
    ack_entry(ca, &fp, 1);
    mag_broker_run(b);
    CHECK_EQ_INT(fa.got, 6);                    /* 2 = half: resumed up to the limit */
    /* A second consumer: the subscription limit (6) stops both. */
    CHECK_EQ_INT(mag_broker_consumer_open(b, &t, &o, &cev, &fb, &cb, &err), MAG_OK);
    mag_consumer_flow(cb, 100);
    mag_broker_run(b);
    CHECK_EQ_INT(fb.got, 2);                    /* 4 + 2 unacked = 6 */
    for (uint64_t e = 2; e <= 4; e++)
        ack_entry(ca, &fp, e);
    mag_broker_run(b);                          /* 3 unacked = half: resumed */
    CHECK_EQ_INT(fa.got + fb.got, 11);          /* back up to 6 unacked */
    mag_producer_close(p);
    mag_consumer_close(ca);
    mag_consumer_close(cb);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

int main(void)
{
    RUN(test_publish_results_only_after_commit);
    RUN(test_exclusive_and_shared_dispatch);
    RUN(test_cursor_persists_and_unsubscribe);
    RUN(test_map_full_fails_publishes_and_keeps_data);
    RUN(test_failed_job_gives_ids_to_the_next_job);
    RUN(test_group_wait_paces_commits);
    RUN(test_commit_event_drains_an_unnoted_signal);
    RUN(test_exclusive_rewind_drops_the_older_ack_timers);
    RUN(test_shared_nack_cancels_the_ack_timer);
    RUN(test_exclusive_nack_outlasts_the_ack_timeout);
    RUN(test_shared_round_robin_batch_size);
    RUN(test_shared_max_unacked);
    return mag_test_summary();
}
