/* test_deadlines.c -- the broker's deadline heap and Key_Shared ring (white-box). */
#include <stdlib.h>
#include <string.h>

#include "../../src/broker/broker_internal.h"
#include "mag/util/hash.h"
#include "mag_test.h"

MAG_TEST(test_heap_orders_by_time_then_entry)
{
    mag_deadline_heap h;
    mag_deadlines_init(&h);
    CHECK(mag_deadlines_peek(&h) == NULL);
    /* Pseudo-random insertion order; pops must come out sorted. */
    uint32_t x = 12345;
    for (int i = 0; i < 10000; i++) {
        x = x * 1103515245u + 12345u;
        mag_deadlines_push(&h, (int64_t)(x % 1000), (uint64_t)i, (uint64_t)(x % 7));
    }
    CHECK_EQ_INT(h.count, 10000);
    mag_deadline prev = { .at_ms = -1 }, d;
    int n = 0;
    bool seen[10000] = { false };
    while (mag_deadlines_pop(&h, &d)) {
        CHECK(d.at_ms > prev.at_ms || (d.at_ms == prev.at_ms && d.entry >= prev.entry));
        /* seq is the push order: owner i was pushed i-th */
        CHECK_EQ_INT(d.seq, d.owner);
        CHECK(d.seq < 10000 && !seen[d.seq]);
        seen[d.seq] = true;
        prev = d;
        n++;
    }
    CHECK_EQ_INT(n, 10000);
    CHECK_EQ_INT(h.next_seq, 10000);
    CHECK(!mag_deadlines_pop(&h, &d));
    mag_deadlines_cleanup(&h);
}

/* Build a fake Key_Shared subscription with named consumers (no broker I/O). */
static mag_consumer g_consumers[3];
static mag_consumer *g_list[3];

static void make_sub(mag_broker *b, mag_topic *t, mag_sub *s, size_t n)
{
    static const char *names[] = { "consumer-a", "consumer-b", "consumer-c" };
    memset(b, 0, sizeof *b);
    b->opts.key_shared_replica_points = 100;
    memset(t, 0, sizeof *t);
    t->broker = b;
    memset(s, 0, sizeof *s);
    s->topic = t;
    s->type = MAG_SUB_KEY_SHARED;
    for (size_t i = 0; i < n; i++) {
        memset(&g_consumers[i], 0, sizeof g_consumers[i]);
        g_consumers[i].name = (char *)names[i];
        g_list[i] = &g_consumers[i];
    }
    s->consumers = g_list;
    s->nconsumers = n;
    mag_ks_rebuild_ring(s);
}

/* Independent model of Pulsar 2.10's ConsistentHashingStickyKeyConsumerSelector. */
static const mag_consumer *model_select(const char *key, size_t n)
{
    uint32_t h = mag_murmur3_32(key, strlen(key), 0) & 0x7FFFFFFFu;
    uint32_t best = UINT32_MAX, lowest = UINT32_MAX;
    const mag_consumer *best_c = NULL, *lowest_c = NULL;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 100; k++) {
            char buf[64];
            int len = snprintf(buf, sizeof buf, "%s%d", g_consumers[i].name, k);
            uint32_t p = mag_murmur3_32(buf, (size_t)len, 0) & 0x7FFFFFFFu;
            if (p >= h && p < best) {
                best = p;
                best_c = &g_consumers[i];
            }
            if (p < lowest) {
                lowest = p;
                lowest_c = &g_consumers[i];
            }
        }
    }
    return best_c ? best_c : lowest_c;
}

MAG_TEST(test_key_shared_ring_matches_model)
{
    mag_broker b;
    mag_topic t;
    mag_sub s;
    make_sub(&b, &t, &s, 3);
    CHECK_EQ_INT(s.ring_len, 300);
    int per_consumer[3] = { 0, 0, 0 };
    for (int i = 0; i < 2000; i++) {
        char key[32];
        snprintf(key, sizeof key, "key-%d", i);
        mag_entry e;
        memset(&e, 0, sizeof e);
        e.has_key = true;
        e.key = key;
        e.key_len = strlen(key);
        const mag_consumer *got = mag_ks_select(&s, &e);
        CHECK(got == model_select(key, 3));
        per_consumer[got - g_consumers]++;
    }
    /* 100 points each: every consumer owns a fair share of 2000 keys. */
    for (int i = 0; i < 3; i++)
        CHECK(per_consumer[i] > 300);
    /* Key-less messages hash as NONE_KEY. */
    mag_entry none;
    memset(&none, 0, sizeof none);
    CHECK(mag_ks_select(&s, &none) == model_select("NONE_KEY", 3));
    free(s.ring);
}

int main(void)
{
    RUN(test_heap_orders_by_time_then_entry);
    RUN(test_key_shared_ring_matches_model);
    return mag_test_summary();
}
