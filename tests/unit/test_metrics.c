/* test_metrics.c -- the per-topic storage histograms of /metrics on real LMDB storage.
 *
 * Pulsar's pulsar_entry_size_le_* / pulsar_storage_write_latency_* count the
 * entries of the last complete stats interval (StatsBuckets.refresh), with
 * inclusive upper bounds (StatsBuckets.addValue: a value equal to a boundary
 * falls in that boundary's bucket). The broker here uses a 500 ms interval;
 * the test lines its steps up with the interval boundaries (multiples of the
 * interval on CLOCK_MONOTONIC, as the broker computes them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mag/broker/admin.h"
#include "mag/broker/broker.h"
#include "mag_test.h"
#include "broker_fixture.h"

#define INTERVAL_MS 500

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until 20 ms into the next stats interval. */
static void next_interval(void)
{
    int64_t now = mono_ms();
    int64_t at = (now / INTERVAL_MS + 1) * INTERVAL_MS + 20;
    usleep((useconds_t)(at - now) * 1000);
}

static void on_result(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id)
{
    (void)token, (void)id;
    CHECK_EQ_INT(rc, MAG_OK);
    ++*(int *)ctx;
}

static const struct mag_producer_events counting_pev = { .on_result = on_result };

/* Publish one message per length in lens (payload 'x' * len) and commit. */
static void produce(mag_broker *b, const mag_topic_name *t, const size_t *lens, size_t n)
{
    static uint8_t payload[1024];
    memset(payload, 'x', sizeof payload);
    int results = 0;
    mag_producer *p;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_producer_open(b, t, NULL, &counting_pev, &results, &p, &err), MAG_OK);
    for (size_t i = 0; i < n; i++) {
        mag_entry e;
        memset(&e, 0, sizeof e);
        e.sequence_id = -1;
        e.payload = payload;
        e.payload_len = lens[i];
        CHECK_EQ_INT(mag_producer_publish(p, &e, 0), MAG_OK);
    }
    mag_broker_run(b);
    CHECK_EQ_INT(results, (int)n);
    mag_producer_close(p);
    mag_buf_free(&err);
}

/* Value of `name` for topic persistent://public/default/h in a fresh scrape. */
static uint64_t value(mag_broker *b, const char *name)
{
    mag_buf out = MAG_BUF_INIT, key = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_metrics_text(b, "standalone", &out), MAG_OK);
    mag_buf_appendf(&key, "\n%s{cluster=\"standalone\",namespace=\"public/default\","
                          "topic=\"persistent://public/default/h\"} ", name);
    const char *at = strstr(mag_buf_cstr(&out), mag_buf_cstr(&key));
    CHECK(at != NULL);
    uint64_t v = at ? strtoull(at + key.len, NULL, 10) : UINT64_MAX;
    mag_buf_free(&out);
    mag_buf_free(&key);
    return v;
}

MAG_TEST(test_storage_histograms)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64u << 20);
    mag_broker *b = fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                                .group_commit_max_messages = 1000,
                                                                .stats_interval_ms = INTERVAL_MS });
    mag_topic_name t = topic("persistent://public/default/h");
    mag_buf err = MAG_BUF_INIT;
    mag_admin_position latest = { .kind = MAG_POSITION_LATEST };
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "s", &latest, &err), MAG_OK);

    /* The stored entry is metadata + payload: learn the metadata's size. */
    next_interval();
    size_t probe = 50;
    produce(b, &t, &probe, 1);
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_count"), 0);     /* the running interval */
    next_interval();
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_count"), 1);
    uint64_t overhead = value(b, "pulsar_entry_size_sum") - probe;
    CHECK(overhead > 0 && overhead < 100);
    printf("entry metadata: %llu bytes\n", (unsigned long long)overhead);

    /* Entries of exactly 128 bytes (le_128: bounds are inclusive) and 129
       (le_512), in one group commit. */
    next_interval();
    size_t lens[] = { 128 - overhead, 128 - overhead, 129 - overhead };
    produce(b, &t, lens, 3);
    next_interval();
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_le_128"), 2);
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_le_512"), 1);
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_le_1_kb"), 0);
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_count"), 3);
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_sum"), 128 + 128 + 129);
    /* One commit: its latency counted once per entry. */
    CHECK_EQ_INT((int)value(b, "pulsar_storage_write_latency_count"), 3);
    uint64_t in_buckets = 0;
    static const char *const lat[] = {
        "pulsar_storage_write_latency_le_0_5", "pulsar_storage_write_latency_le_1",
        "pulsar_storage_write_latency_le_5", "pulsar_storage_write_latency_le_10",
        "pulsar_storage_write_latency_le_20", "pulsar_storage_write_latency_le_50",
        "pulsar_storage_write_latency_le_100", "pulsar_storage_write_latency_le_200",
        "pulsar_storage_write_latency_le_1000", "pulsar_storage_write_latency_overflow",
    };
    for (size_t k = 0; k < sizeof lat / sizeof lat[0]; k++) {
        uint64_t v = value(b, lat[k]);
        CHECK(v == 0 || v == 3);
        in_buckets += v;
    }
    CHECK_EQ_INT((int)in_buckets, 3);
    CHECK_EQ_INT((int)(value(b, "pulsar_storage_write_latency_sum") % 3), 0);

    /* An interval without writes shows zeros; nothing is cumulative. */
    next_interval();
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_le_128"), 0);
    CHECK_EQ_INT((int)value(b, "pulsar_entry_size_count"), 0);
    CHECK_EQ_INT((int)value(b, "pulsar_storage_write_latency_count"), 0);

    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

int main(void)
{
    RUN(test_storage_histograms);
    return mag_test_summary();
}
