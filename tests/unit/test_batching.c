/* test_batching.c -- when the broker closes a producer's batch (batching.c).
 *
 * On real LMDB storage with inline commits and explicit clock values given
 * to mag_broker_tick: a batch closes when it holds batchingMaxMessages
 * messages, before a message that would take it past batchingMaxBytes, once
 * it holds batchingMaxBytes, or batchingMaxPublishDelay after its first
 * message (as the Java client's BatchMessageContainerImpl / ProducerImpl) --
 * never merely because a group commit starts. A drain closes every batch
 * with receipts; a producer that closes still gets its batch written.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/broker/broker.h"
#include "mag_test.h"
#include "broker_fixture.h"


struct fixture {
    mag_store *s;
    mag_broker *b;
    mag_producer *p;
    struct fake_producer fp;
};

static void setup(struct fixture *f, const char *topic_name, uint32_t max_messages,
                  size_t max_bytes, int64_t delay_ms)
{
    fixture_dir_new();
    f->s = fixture_store(64 << 20);
    f->b = fixture_broker(f->s, (struct mag_broker_opts){ .allow_auto_topic_creation = true });
    memset(&f->fp, 0, sizeof f->fp);
    mag_topic_name t = topic(topic_name);
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_producer_open(f->b, &t, NULL, &pev, &f->fp, &f->p, &err), MAG_OK);
    mag_buf_free(&err);
    struct mag_producer_config pc = {
        .batching = true, .batch_max_messages = max_messages, .batch_max_bytes = max_bytes,
        .batch_max_delay_ms = delay_ms, .initial_sequence_id = -1,
    };
    mag_producer_configure(f->p, &pc);
}

static void teardown(struct fixture *f)
{
    if (f->p)
        mag_producer_close(f->p);
    mag_broker_free(f->b);
    mag_store_close(f->s);
    fixture_dir_remove();
}

/* Results [from, from + n) are one batch entry with indexes 0..n-1. */
static void check_batch(const struct fake_producer *fp, int from, int n)
{
    for (int i = 0; i < n; i++) {
        CHECK_EQ_INT(fp->ids[from + i].entry, fp->ids[from].entry);
        CHECK_EQ_INT(fp->ids[from + i].batch_index, i);
        CHECK_EQ_INT(fp->ids[from + i].batch_size, n);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

MAG_TEST(test_batch_waits_for_its_delay)
{
    struct fixture f;
    setup(&f, "persistent://public/default/delay", 10, 0, 200);
    int64_t t0 = mag_broker_now_ms();
    publish(f.p, "a", 1);
    publish(f.p, "b", 2);
    mag_broker_run(f.b);                    /* a group commit could start: the batch stays open */
    CHECK_EQ_INT(f.fp.results, 0);
    CHECK_EQ_INT(mag_broker_staged_count(f.b), 0);
    int64_t next = mag_broker_tick(f.b, t0 + 100);
    CHECK_EQ_INT(f.fp.results, 0);
    CHECK(next >= t0 + 200 && next <= mag_broker_now_ms() + 200);  /* the loop timer is armed */
    mag_broker_tick(f.b, mag_broker_now_ms() + 200);
    CHECK_EQ_INT(f.fp.results, 2);
    CHECK_EQ_INT(f.fp.last_rc, MAG_OK);
    check_batch(&f.fp, 0, 2);
    CHECK_EQ_INT(f.fp.tokens[0], 1);
    CHECK_EQ_INT(f.fp.tokens[1], 2);
    teardown(&f);
}

MAG_TEST(test_full_batch_closes_without_the_delay)
{
    struct fixture f;
    setup(&f, "persistent://public/default/full", 3, 0, 60000);
    publish(f.p, "a", 1);
    mag_broker_run(f.b);
    publish(f.p, "b", 2);
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 0);
    publish(f.p, "c", 3);
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 3);
    check_batch(&f.fp, 0, 3);
    publish(f.p, "d", 4);                   /* a new batch, open again */
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 3);
    teardown(&f);
}

MAG_TEST(test_byte_limit_closes_before_and_when_reached)
{
    struct fixture f;
    setup(&f, "persistent://public/default/bytes", 100, 10, 60000);
    publish(f.p, "aaaa", 1);
    publish(f.p, "bbbb", 2);                /* 8 bytes: room for 2 more */
    publish(f.p, "cccc", 3);                /* 12 > 10: [aaaa bbbb] closes first */
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 2);
    check_batch(&f.fp, 0, 2);
    publish(f.p, "dddddd", 4);              /* 10 bytes: full, closes at once */
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 4);
    check_batch(&f.fp, 2, 2);
    CHECK(f.fp.ids[2].entry == f.fp.ids[0].entry + 1);
    publish(f.p, "a message over the limit", 5);  /* alone in a batch of one */
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 5);
    check_batch(&f.fp, 4, 1);
    teardown(&f);
}

/* A deadline of a batch that closed full must not close the batch opened
   after it early; that one gets its own. */
MAG_TEST(test_later_batch_keeps_its_own_delay)
{
    struct fixture f;
    setup(&f, "persistent://public/default/rearm", 2, 0, 300);
    int64_t t0 = mag_broker_now_ms();
    publish(f.p, "a", 1);
    publish(f.p, "b", 2);                   /* full */
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 2);
    sleep_ms(100);
    int64_t t1 = mag_broker_now_ms();
    publish(f.p, "c", 3);
    mag_broker_tick(f.b, t0 + 300);         /* the first batch's deadline */
    CHECK_EQ_INT(f.fp.results, 2);
    int64_t next = mag_broker_tick(f.b, t1 + 299 < t0 + 300 ? t0 + 300 : t1 + 299);
    CHECK(next >= t1 + 300);
    CHECK_EQ_INT(f.fp.results, 2);
    mag_broker_tick(f.b, mag_broker_now_ms() + 300);
    CHECK_EQ_INT(f.fp.results, 3);
    check_batch(&f.fp, 2, 1);
    teardown(&f);
}

MAG_TEST(test_drain_closes_open_batches_with_receipts)
{
    struct fixture f;
    setup(&f, "persistent://public/default/drain", 10, 0, 60000);
    publish(f.p, "a", 1);
    publish(f.p, "b", 2);
    mag_broker_drain(f.b);                  /* SIGTERM, admin operations */
    CHECK_EQ_INT(f.fp.results, 2);
    check_batch(&f.fp, 0, 2);
    teardown(&f);
}

struct fake_consumer {
    int got;
    mag_msgid ids[8];
};

static void on_message(void *ctx, const mag_msgid *id, const mag_entry *e, int32_t rc,
                       bool first, uint32_t remaining)
{
    (void)e;
    (void)rc;
    (void)first;
    (void)remaining;
    struct fake_consumer *fc = ctx;
    if (fc->got < 8)
        fc->ids[fc->got] = *id;
    fc->got++;
}

static bool never_blocked(void *ctx)
{
    (void)ctx;
    return false;
}

static const struct mag_consumer_events cev = { .on_message = on_message,
                                                .is_blocked = never_blocked };

/* The client went away: no receipts, but what it sent is still written. */
MAG_TEST(test_producer_close_writes_its_open_batch)
{
    struct fixture f;
    setup(&f, "persistent://public/default/close", 10, 0, 60000);
    publish(f.p, "a", 1);
    publish(f.p, "b", 2);
    mag_producer_close(f.p);
    f.p = NULL;
    mag_broker_run(f.b);
    CHECK_EQ_INT(f.fp.results, 0);
    mag_topic_name t = topic("persistent://public/default/close");
    struct mag_consumer_opts o;
    memset(&o, 0, sizeof o);
    o.type = MAG_SUB_EXCLUSIVE;
    o.start = MAG_START_EARLIEST;
    struct fake_consumer fc = { 0 };
    mag_consumer *c = NULL;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_consumer_open(f.b, &t, &o, &cev, &fc, &c, &err), MAG_OK);
    mag_buf_free(&err);
    mag_consumer_flow(c, 10);
    mag_broker_run(f.b);
    CHECK_EQ_INT(fc.got, 2);
    CHECK_EQ_INT(fc.ids[0].entry, fc.ids[1].entry);
    CHECK_EQ_INT(fc.ids[1].batch_index, 1);
    CHECK_EQ_INT(fc.ids[1].batch_size, 2);
    mag_consumer_close(c);
    teardown(&f);
}

int main(void)
{
    RUN(test_batch_waits_for_its_delay);
    RUN(test_full_batch_closes_without_the_delay);
    RUN(test_byte_limit_closes_before_and_when_reached);
    RUN(test_later_batch_keeps_its_own_delay);
    RUN(test_drain_closes_open_batches_with_receipts);
    RUN(test_producer_close_writes_its_open_batch);
    return mag_test_summary();
}
