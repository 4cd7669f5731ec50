/* magnetar-timerbench.c -- does a large number of timed messages slow the broker?
 *
 * Issue #3 asks that 100k outstanding timed messages (ack timeouts,
 * negative-ack delays, delayed deliveries) not slow the event loop
 * noticeably. This benchmark drives the real broker on real LMDB storage
 * (fsync off) with in-process consumers and measures, per message, the cost
 * of publish + group commit + dispatch + ack on a second topic:
 *   1. with no timed work outstanding (baseline), median of 5 rounds,
 *   2. with N messages under ack timeout, N/2 of them nacked, and N delayed
 *      messages waiting (all far in the future),
 * and the cost of one mag_broker_tick() when nothing is due.
 * Usage: magnetar-timerbench [N]   (default 100000). Prints one JSON line last.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mag/broker/broker.h"
#include "mag/util/log.h"

struct sink {
    mag_consumer *c;
    uint64_t got;
    bool ack;           /* ack every message on delivery */
    mag_msgid *last;
};

static mag_msgid *g_ids;    /* ids delivered to the timed consumer */

static void on_message(void *ctx, const mag_msgid *id, const mag_entry *e, int32_t count,
                       bool first, uint32_t remaining)
{
    (void)first;
    (void)remaining;
    (void)e;
    (void)count;
    struct sink *s = ctx;
    if (g_ids && !s->ack)
        g_ids[s->got] = *id;
    s->got++;
    mag_consumer_flow(s->c, 1);
    if (s->ack)
        mag_consumer_ack(s->c, id);
}

static const struct mag_consumer_events cev = { .on_message = on_message };

static void on_result(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id)
{
    (void)ctx;
    (void)token;
    (void)id;
    if (rc != MAG_OK) {
        fprintf(stderr, "publish failed: %s\n", mag_strerror(rc));
        exit(1);
    }
}

static const struct mag_producer_events pev = { .on_result = on_result };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static mag_topic_name topic(const char *name)
{
    mag_topic_name t;
    mag_topic_name_parse(name, strlen(name), &t);
    return t;
}

static void publish_n(mag_broker *b, mag_producer *p, size_t n, int64_t deliver_at)
{
    static const char payload[100] = "timerbench";
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.sequence_id = -1;
    e.payload = (const uint8_t *)payload;
    e.payload_len = sizeof payload;
    e.properties_json = "{}";
    e.properties_json_len = 2;
    e.deliver_at_ms = deliver_at;
    for (size_t i = 0; i < n; i++) {
        mag_producer_publish(p, &e, i);
        if ((i + 1) % 1000 == 0)
            mag_broker_run(b);
    }
    mag_broker_run(b);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over 5 rounds of ns per message for publish + commit + dispatch +
   ack of n messages (the machine may be busy: the median resists noise). */
static double measure(mag_broker *b, mag_producer *p, size_t n)
{
    double r[5];
    for (int i = 0; i < 5; i++) {
        double t0 = now_s();
        publish_n(b, p, n, 0);
        r[i] = (now_s() - t0) * 1e9 / (double)n;
    }
    qsort(r, 5, sizeof r[0], cmp_double);
    return r[2];
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && (argv[1][0] < '1' || argv[1][0] > '9'))) {
        bool help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
        fprintf(help ? stdout : stderr,
                "usage: magnetar-timerbench [N]\n"
                "  cost per message of publish+commit+dispatch+ack with N timed messages\n"
                "  outstanding (default 100000), and of one idle tick; prints one JSON line last\n");
        return help ? 0 : 2;
    }
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000;
    mag_log_set_level(MAG_LOG_WARN);
    char dir[] = "/tmp/magnetar-timerbench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct mag_store_opts so = { .dir = dir, .map_size = (size_t)4 << 30, .sync = false };
    mag_store *store;
    if (mag_store_open(&store, &so) != MAG_OK)
        return 1;
    struct mag_broker_opts bo = { .store = store, .allow_auto_topic_creation = true,
                                  .group_commit_max_messages = 4096 };
    mag_broker *b;
    if (mag_broker_new(&bo, &b) != MAG_OK)
        return 1;
    mag_buf err = MAG_BUF_INIT;

    /* The measured path: topic "hot" with an acking Shared consumer. */
    mag_topic_name hot = topic("persistent://public/default/hot");
    struct mag_consumer_opts o = { .subscription = "s", .type = MAG_SUB_SHARED, .durable = true,
                                   .start = MAG_START_LATEST, .nack_delay_ms = 60000 };
    struct sink hot_sink = { .ack = true };
    mag_broker_consumer_open(b, &hot, &o, &cev, &hot_sink, &hot_sink.c, &err);
    mag_consumer_flow(hot_sink.c, 1000);
    mag_producer *hot_p;
    mag_broker_producer_open(b, &hot, NULL, &pev, NULL, &hot_p, &err);
    publish_n(b, hot_p, 20000, 0);              /* warm up */
    double base = measure(b, hot_p, 20000);

    /* Outstanding timed work on topic "timed": n ack timeouts (10 min),
       n/2 of them nacked (1 h), and n delayed messages (1 h ahead). */
    mag_topic_name timed = topic("persistent://public/default/timed");
    struct mag_consumer_opts to = o;
    to.ack_timeout_ms = 600000;
    to.nack_delay_ms = 3600000;
    struct sink timed_sink = { .ack = false };
    g_ids = calloc(n, sizeof *g_ids);
    mag_broker_consumer_open(b, &timed, &to, &cev, &timed_sink, &timed_sink.c, &err);
    mag_consumer_flow(timed_sink.c, 1);
    mag_producer *timed_p;
    mag_broker_producer_open(b, &timed, NULL, &pev, NULL, &timed_p, &err);
    publish_n(b, timed_p, n, 0);
    for (size_t i = 0; i < timed_sink.got; i += 2)
        mag_consumer_nack(timed_sink.c, &g_ids[i]);
    publish_n(b, timed_p, n, mag_broker_now_ms() + 3600000);
    g_ids = NULL;

    double loaded = measure(b, hot_p, 20000);
    double t0 = now_s();
    int ticks = 10000;
    for (int i = 0; i < ticks; i++)
        mag_broker_tick(b, mag_broker_now_ms());
    double tick_ns = (now_s() - t0) * 1e9 / ticks;

    printf("outstanding: %llu ack timeouts, %llu nack delays, %zu delayed deliveries\n",
           (unsigned long long)timed_sink.got, (unsigned long long)(timed_sink.got + 1) / 2, n);
    printf("publish+commit+dispatch+ack: %.0f ns/msg without timers, %.0f ns/msg with them (%+.1f%%)\n",
           base, loaded, (loaded - base) * 100.0 / base);
    printf("idle tick: %.0f ns\n", tick_ns);
    printf("{\"outstanding_timed\":%llu,\"baseline_ns_per_msg\":%.0f,\"loaded_ns_per_msg\":%.0f,"
           "\"idle_tick_ns\":%.0f}\n",
           (unsigned long long)(timed_sink.got + (timed_sink.got + 1) / 2 + n), base, loaded, tick_ns);

    mag_consumer_close(hot_sink.c);
    mag_consumer_close(timed_sink.c);
    mag_producer_close(hot_p);
    mag_producer_close(timed_p);
    mag_broker_free(b);
    mag_store_close(store);
    mag_buf_free(&err);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}
