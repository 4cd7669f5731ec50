/* metrics.c -- group-commit and storage statistics and the broker's Prometheus text (/metrics).
 *
 * mag_metrics_commit counts every collected group commit (one hook line in
 * commit.c): batches, their sizes and how long the LMDB write + commit (with
 * its fsync) took on the writer thread, and each committed entry in its
 * topic's storage histograms (Pulsar's pulsar_storage_write_latency_* and
 * pulsar_entry_size_*, per stats interval like StatsBuckets).
 * mag_admin_metrics_text prints Pulsar's per-topic metric names
 * (pulsar_in_messages_total, pulsar_msg_backlog, pulsar_storage_size, ...)
 * labelled {cluster, namespace, topic} like a broker with topic-level metrics
 * on (TopicStats.printTopicStats), per-subscription ones with a subscription
 * label, pulsar_topics_count per namespace, then Magnetar's own magnetar_*
 * metrics. Exposition format 0.0.4: one # HELP and # TYPE per family, all its
 * samples after it.
 */
#include "broker_internal.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/util/alloc.h"

/* ---- commit statistics ---------------------------------------------------------- */

/* Upper bounds (inclusive) of Pulsar's buckets: ENTRY_LATENCY_BUCKETS_USEC
   and ENTRY_SIZE_BUCKETS_BYTES of ManagedLedgerMBeanImpl. */
static const uint64_t write_latency_bounds_us[MAG_METRICS_WRITE_LATENCY_BUCKETS - 1] = {
    500, 1000, 5000, 10000, 20000, 50000, 100000, 200000, 1000000,
};
static const uint64_t entry_size_bounds[MAG_METRICS_ENTRY_SIZE_BUCKETS - 1] = {
    128, 512, 1024, 2048, 4096, 16384, 102400, 1048576,
};

/* Index of v's bucket: the first bound >= v, else the overflow bucket (as
   StatsBuckets.addValue). */
static size_t bucket_of(const uint64_t *bounds, size_t nbounds, uint64_t v)
{
    size_t k = 0;
    while (k < nbounds && v > bounds[k])
        k++;
    return k;
}

static int64_t stats_interval_ms(const mag_broker *b)
{
    return b->opts.stats_interval_ms > 0 ? b->opts.stats_interval_ms : 60000;
}

/* Move t's histograms to stats interval `interval`: the running one becomes
   the exported one when it just ended; an interval without any commit of t
   in between exports zeros (StatsBuckets.refresh each interval). */
static void storage_stats_roll(struct mag_metrics_topic *m, int64_t interval)
{
    if (m->interval == interval)
        return;
    if (interval == m->interval + 1)
        m->last = m->cur;
    else
        memset(&m->last, 0, sizeof m->last);
    memset(&m->cur, 0, sizeof m->cur);
    m->interval = interval;
}

void mag_metrics_commit(mag_broker *b, const struct mag_commit_job *j)
{
    struct mag_metrics_state *m = &b->adm.metrics;
    mag_rc rc = j->rc;
    size_t staged = j->nstaged;
    double secs = j->secs;
    m->commits++;
    if (rc != MAG_OK)
        m->commit_failures++;
    m->storage_full = rc == MAG_ERR_MAP_FULL;   /* cleared by the next good commit */
    if (staged) {
        size_t k = 0;
        while (k < MAG_METRICS_BATCH_BUCKETS && staged > ((size_t)1 << k))
            k++;
        if (k < MAG_METRICS_BATCH_BUCKETS)
            m->batch_hist[k]++;
        m->batches++;
        m->batch_messages += staged;
    }
    size_t k = 0;
    while (k < MAG_METRICS_LATENCY_BUCKETS && secs > 0.00025 * (double)(1u << k))
        k++;
    if (k < MAG_METRICS_LATENCY_BUCKETS)
        m->latency_hist[k]++;
    m->latency_count++;
    m->latency_sum_s += secs;

    if (rc != MAG_OK || staged == 0)
        return;
    /* Every entry of the commit waited for the same LMDB write + commit:
       Pulsar records ManagedLedger add-entry latency per entry. */
    uint64_t us = (uint64_t)(secs * 1e6 + 0.5);
    size_t lat_k = bucket_of(write_latency_bounds_us, MAG_METRICS_WRITE_LATENCY_BUCKETS - 1, us);
    int64_t interval = j->end_ms / stats_interval_ms(b);
    for (size_t i = 0; i < staged; i++) {
        const mag_staged *st = &j->staged[i];
        struct mag_metrics_topic *ts = &st->topic->storage_stats;
        storage_stats_roll(ts, interval);
        ts->cur.write_latency[lat_k]++;
        ts->cur.write_latency_sum_us += us;
        ts->cur.entry_size[bucket_of(entry_size_bounds, MAG_METRICS_ENTRY_SIZE_BUCKETS - 1, st->len)]++;
        ts->cur.entry_size_sum += st->len;
        ts->cur.entries++;
    }
}

/* ---- Prometheus text ----------------------------------------------------------------- */

struct topic_row {
    mag_topic *t;
    char ns[MAG_TOPIC_NAME_MAX + 1];
    uint64_t subs, producers, consumers, backlog, storage, backlog_bytes;
    double rate_in, thr_in, rate_out, thr_out;
    uint64_t msg_out, bytes_out;
};

static void label_value(mag_buf *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            mag_buf_append_byte(out, '\\');
        if (*s == '\n') {
            mag_buf_append_str(out, "\\n");
            continue;
        }
        mag_buf_append_byte(out, (uint8_t)*s);
    }
}

static void labels(mag_buf *out, const char *cluster, const struct topic_row *r, const char *sub)
{
    mag_buf_append_str(out, "{cluster=\"");
    label_value(out, cluster);
    mag_buf_append_str(out, "\",namespace=\"");
    label_value(out, r->ns);
    mag_buf_append_str(out, "\",topic=\"");
    label_value(out, r->t->name);
    if (sub) {
        mag_buf_append_str(out, "\",subscription=\"");
        label_value(out, sub);
    }
    mag_buf_append_str(out, "\"}");
}

static void family(mag_buf *out, const char *name, const char *type, const char *help)
{
    mag_buf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Number formatting: integers exactly, rates with 3 decimals. */
static void value_u64(mag_buf *out, uint64_t v)
{
    mag_buf_appendf(out, " %" PRIu64 "\n", v);
}

static void value_double(mag_buf *out, double v)
{
    mag_buf_appendf(out, " %.3f\n", v);
}

enum col { C_SUBS, C_PRODUCERS, C_CONSUMERS, C_RATE_IN, C_RATE_OUT, C_THR_IN, C_THR_OUT,
           C_STORAGE, C_BACKLOG_BYTES, C_BACKLOG, C_IN_BYTES, C_IN_MSGS, C_OUT_BYTES, C_OUT_MSGS };

static const struct {
    enum col col;
    const char *name, *type, *help;
} topic_families[] = {
    { C_SUBS, "pulsar_subscriptions_count", "gauge", "Number of subscriptions of the topic" },
    { C_PRODUCERS, "pulsar_producers_count", "gauge", "Number of producers attached" },
    { C_CONSUMERS, "pulsar_consumers_count", "gauge", "Number of consumers attached" },
    { C_RATE_IN, "pulsar_rate_in", "gauge", "Messages published per second" },
    { C_RATE_OUT, "pulsar_rate_out", "gauge", "Messages dispatched per second" },
    { C_THR_IN, "pulsar_throughput_in", "gauge", "Payload bytes published per second" },
    { C_THR_OUT, "pulsar_throughput_out", "gauge", "Payload bytes dispatched per second" },
    { C_STORAGE, "pulsar_storage_size", "gauge", "Bytes stored for the topic's entries" },
    { C_BACKLOG_BYTES, "pulsar_storage_backlog_size", "gauge",
      "Bytes of entries the slowest durable subscription has not consumed" },
    { C_BACKLOG, "pulsar_msg_backlog", "gauge", "Messages not yet acknowledged, all subscriptions" },
    { C_IN_BYTES, "pulsar_in_bytes_total", "counter", "Payload bytes published" },
    { C_IN_MSGS, "pulsar_in_messages_total", "counter", "Messages published" },
    { C_OUT_BYTES, "pulsar_out_bytes_total", "counter", "Payload bytes dispatched" },
    { C_OUT_MSGS, "pulsar_out_messages_total", "counter", "Messages dispatched" },
};

static void topic_value(mag_buf *out, const struct topic_row *r, enum col c)
{
    switch (c) {
    case C_SUBS: value_u64(out, r->subs); break;
    case C_PRODUCERS: value_u64(out, r->producers); break;
    case C_CONSUMERS: value_u64(out, r->consumers); break;
    case C_RATE_IN: value_double(out, r->rate_in); break;
    case C_RATE_OUT: value_double(out, r->rate_out); break;
    case C_THR_IN: value_double(out, r->thr_in); break;
    case C_THR_OUT: value_double(out, r->thr_out); break;
    case C_STORAGE: value_u64(out, r->storage); break;
    case C_BACKLOG_BYTES: value_u64(out, r->backlog_bytes); break;
    case C_BACKLOG: value_u64(out, r->backlog); break;
    case C_IN_BYTES: value_u64(out, r->t->bytes_in_counter); break;
    case C_IN_MSGS: value_u64(out, r->t->msg_in_counter); break;
    case C_OUT_BYTES: value_u64(out, r->bytes_out); break;
    case C_OUT_MSGS: value_u64(out, r->msg_out); break;
    }
}

static mag_rc fill_row(mag_topic *t, struct topic_row *r, int64_t now)
{
    memset(r, 0, sizeof *r);
    r->t = t;
    if (!mag_admin_topic_namespace(t->name, t->name_len, r->ns))
        r->ns[0] = '\0';
    mag_admin_rate_update(&t->adm.in, t->msg_in_counter, t->bytes_in_counter, now);
    r->rate_in = t->adm.in.msg_rate;
    r->thr_in = t->adm.in.byte_rate;
    r->subs = t->subs.count;
    r->producers = t->producers.count;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        mag_sub *s = slot->value;
        mag_admin_rate_update(&s->adm_out, s->msg_out_counter, s->bytes_out_counter, now);
        mag_admin_rate_update(&s->adm_ack, s->msg_ack_counter, 0, now);
        r->consumers += s->nconsumers;
        r->backlog += mag_admin_sub_backlog(s);
        r->rate_out += s->adm_out.msg_rate;
        r->thr_out += s->adm_out.byte_rate;
        r->msg_out += s->msg_out_counter;
        r->bytes_out += s->bytes_out_counter;
    }
    mag_rc rc = mag_admin_bytes_after(t, -1, &r->storage);
    int64_t floor = mag_admin_slowest_mark_delete(t);
    if (rc == MAG_OK && floor < (int64_t)t->committed_next - 1)
        rc = mag_admin_bytes_after(t, floor, &r->backlog_bytes);
    return rc;
}

static int row_cmp(const void *a, const void *b)
{
    return strcmp(((const struct topic_row *)a)->t->name, ((const struct topic_row *)b)->t->name);
}

static void histogram(mag_buf *out, const char *name, const uint64_t *hist, size_t nb,
                      double first_bound, uint64_t count, double sum, bool integer_bounds)
{
    uint64_t cum = 0;
    for (size_t k = 0; k < nb; k++) {
        cum += hist[k];
        double bound = first_bound * (double)(1u << k);
        if (integer_bounds)
            mag_buf_appendf(out, "%s_bucket{le=\"%.0f\"} %" PRIu64 "\n", name, bound, cum);
        else
            mag_buf_appendf(out, "%s_bucket{le=\"%g\"} %" PRIu64 "\n", name, bound, cum);
    }
    mag_buf_appendf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, count);
    if (integer_bounds)
        mag_buf_appendf(out, "%s_sum %.0f\n%s_count %" PRIu64 "\n", name, sum, name, count);
    else
        mag_buf_appendf(out, "%s_sum %.6f\n%s_count %" PRIu64 "\n", name, sum, name, count);
}

/* Pulsar's storage histograms per topic (TopicStats.printTopicStats): one
   gauge family per bucket, each counting the entries of the last complete
   stats interval that fell into it (not cumulative), then _count and _sum. */
static const char *const write_latency_names[MAG_METRICS_WRITE_LATENCY_BUCKETS] = {
    "pulsar_storage_write_latency_le_0_5", "pulsar_storage_write_latency_le_1",
    "pulsar_storage_write_latency_le_5", "pulsar_storage_write_latency_le_10",
    "pulsar_storage_write_latency_le_20", "pulsar_storage_write_latency_le_50",
    "pulsar_storage_write_latency_le_100", "pulsar_storage_write_latency_le_200",
    "pulsar_storage_write_latency_le_1000",
    "pulsar_storage_write_latency_overflow",    /* sic: no "le_" in Pulsar's name */
};
static const char *const entry_size_names[MAG_METRICS_ENTRY_SIZE_BUCKETS] = {
    "pulsar_entry_size_le_128", "pulsar_entry_size_le_512", "pulsar_entry_size_le_1_kb",
    "pulsar_entry_size_le_2_kb", "pulsar_entry_size_le_4_kb", "pulsar_entry_size_le_16_kb",
    "pulsar_entry_size_le_100_kb", "pulsar_entry_size_le_1_mb", "pulsar_entry_size_le_overflow",
};

static void storage_family(mag_buf *out, const char *cluster, const struct topic_row *rows, size_t n,
                           const char *name, const char *help, size_t field, size_t k)
{
    family(out, name, "gauge", help);
    for (size_t i = 0; i < n; i++) {
        const struct mag_metrics_storage_sample *smp = &rows[i].t->storage_stats.last;
        const uint64_t *v = (const uint64_t *)(const void *)((const char *)smp + field);
        mag_buf_append_str(out, name);
        labels(out, cluster, &rows[i], NULL);
        value_u64(out, v[k]);
    }
}

#define SAMPLE_FIELD(f) offsetof(struct mag_metrics_storage_sample, f)

static void storage_histograms(mag_buf *out, const char *cluster, mag_broker *b,
                               struct topic_row *rows, size_t n)
{
    int64_t interval = mag_admin_mono_ms() / stats_interval_ms(b);
    for (size_t i = 0; i < n; i++)
        storage_stats_roll(&rows[i].t->storage_stats, interval);
    for (size_t k = 0; k < MAG_METRICS_WRITE_LATENCY_BUCKETS; k++)
        storage_family(out, cluster, rows, n, write_latency_names[k],
                       "Entries of the last stats interval whose storage write took this long (bucket, not cumulative)",
                       SAMPLE_FIELD(write_latency), k);
    storage_family(out, cluster, rows, n, "pulsar_storage_write_latency_count",
                   "Entries written in the last stats interval", SAMPLE_FIELD(entries), 0);
    storage_family(out, cluster, rows, n, "pulsar_storage_write_latency_sum",
                   "Sum of the storage write latencies of those entries, in microseconds",
                   SAMPLE_FIELD(write_latency_sum_us), 0);
    for (size_t k = 0; k < MAG_METRICS_ENTRY_SIZE_BUCKETS; k++)
        storage_family(out, cluster, rows, n, entry_size_names[k],
                       "Entries of the last stats interval of this size (bucket, not cumulative)",
                       SAMPLE_FIELD(entry_size), k);
    storage_family(out, cluster, rows, n, "pulsar_entry_size_count",
                   "Entries written in the last stats interval", SAMPLE_FIELD(entries), 0);
    storage_family(out, cluster, rows, n, "pulsar_entry_size_sum",
                   "Sum of the sizes of those entries in bytes", SAMPLE_FIELD(entry_size_sum), 0);
}

/* pulsar_topics_count{cluster, namespace}: topics served per namespace
   (partitions count one each), as NamespaceStatsAggregator.printTopicsCountStats. */
static int ns_cmp(const void *a, const void *b)
{
    return strcmp((*(const struct topic_row *const *)a)->ns, (*(const struct topic_row *const *)b)->ns);
}

static void topics_count(mag_buf *out, const char *cluster, struct topic_row *rows, size_t n)
{
    family(out, "pulsar_topics_count", "gauge", "Number of topics of the namespace");
    const struct topic_row **byns = mag_xcalloc(n ? n : 1, sizeof *byns);
    for (size_t i = 0; i < n; i++)
        byns[i] = &rows[i];
    qsort(byns, n, sizeof *byns, ns_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && strcmp(byns[j]->ns, byns[i]->ns) == 0)
            j++;
        mag_buf_append_str(out, "pulsar_topics_count{cluster=\"");
        label_value(out, cluster);
        mag_buf_append_str(out, "\",namespace=\"");
        label_value(out, byns[i]->ns);
        mag_buf_appendf(out, "\"} %zu\n", j - i);
        i = j;
    }
    free(byns);
}

enum sub_col { S_BACKLOG, S_UNACKED, S_BLOCKED, S_RATE_OUT, S_ACK_RATE, S_THR_OUT, S_DELAYED };

static const struct {
    enum sub_col col;
    const char *name, *help;
} sub_families[] = {
    { S_BACKLOG, "pulsar_subscription_back_log", "Messages not yet acknowledged by the subscription" },
    { S_UNACKED, "pulsar_subscription_unacked_messages", "Messages delivered and not yet acknowledged" },
    { S_BLOCKED, "pulsar_subscription_blocked_on_unacked_messages",
      "1 while dispatch waits for acknowledgements (maxUnackedMessagesPerSubscription), else 0" },
    { S_RATE_OUT, "pulsar_subscription_msg_rate_out", "Messages dispatched per second" },
    { S_ACK_RATE, "pulsar_subscription_msg_ack_rate", "Messages acknowledged per second" },
    { S_THR_OUT, "pulsar_subscription_msg_throughput_out", "Payload bytes dispatched per second" },
    { S_DELAYED, "pulsar_subscription_delayed", "Messages waiting for their delivery time" },
};

static void sub_value(mag_buf *out, mag_sub *s, enum sub_col c)
{
    switch (c) {
    case S_BACKLOG: value_u64(out, mag_admin_sub_backlog(s)); break;
    case S_UNACKED: {
        uint64_t unacked = 0;
        for (size_t i = 0; i < s->nconsumers; i++)
            unacked += s->consumers[i]->pending.count;
        value_u64(out, unacked);
        break;
    }
    case S_BLOCKED: value_u64(out, s->blocked_on_unacked ? 1 : 0); break;
    case S_RATE_OUT: value_double(out, s->adm_out.msg_rate); break;
    case S_ACK_RATE: value_double(out, s->adm_ack.msg_rate); break;
    case S_THR_OUT: value_double(out, s->adm_out.byte_rate); break;
    case S_DELAYED: value_u64(out, s->delayed.count); break;
    }
}

mag_rc mag_admin_metrics_text(mag_broker *b, const char *cluster, mag_buf *out)
{
    int64_t now = mag_broker_now_ms();
    struct topic_row *rows = mag_xcalloc(b->topics.count ? b->topics.count : 1, sizeof *rows);
    size_t n = 0;
    mag_rc rc = MAG_OK;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot) && rc == MAG_OK) {
        mag_topic *t = slot->value;
        if (t->rec.partitions)
            continue;   /* Pulsar reports the partitions, not the partitioned topic */
        rc = fill_row(t, &rows[n++], now);
    }
    if (rc != MAG_OK) {
        free(rows);
        return rc;
    }
    qsort(rows, n, sizeof *rows, row_cmp);

    for (size_t f = 0; f < sizeof topic_families / sizeof topic_families[0]; f++) {
        family(out, topic_families[f].name, topic_families[f].type, topic_families[f].help);
        for (size_t i = 0; i < n; i++) {
            mag_buf_append_str(out, topic_families[f].name);
            labels(out, cluster, &rows[i], NULL);
            topic_value(out, &rows[i], topic_families[f].col);
        }
    }
    storage_histograms(out, cluster, b, rows, n);
    topics_count(out, cluster, rows, n);
    for (size_t f = 0; f < sizeof sub_families / sizeof sub_families[0]; f++) {
        family(out, sub_families[f].name, "gauge", sub_families[f].help);
        for (size_t i = 0; i < n; i++) {
            it = 0;
            while (mag_strmap_next(&rows[i].t->subs, &it, &slot)) {
                mag_sub *s = slot->value;
                mag_buf_append_str(out, sub_families[f].name);
                labels(out, cluster, &rows[i], s->name);
                sub_value(out, s, sub_families[f].col);
            }
        }
    }
    free(rows);

    const struct mag_metrics_state *m = &b->adm.metrics;
    family(out, "magnetar_topics", "gauge", "Topics known to the broker (partitioned topics count once)");
    mag_buf_appendf(out, "magnetar_topics %zu\n", b->topics.count);
    family(out, "magnetar_commits_total", "counter", "Group commits (LMDB write transactions)");
    mag_buf_appendf(out, "magnetar_commits_total %" PRIu64 "\n", m->commits);
    family(out, "magnetar_commit_failures_total", "counter", "Group commits that failed");
    mag_buf_appendf(out, "magnetar_commit_failures_total %" PRIu64 "\n", m->commit_failures);
    family(out, "magnetar_storage_full", "gauge",
           "1 while the LMDB map is full (publishes fail with send-error:8); 0 once writes succeed again");
    mag_buf_appendf(out, "magnetar_storage_full %d\n", m->storage_full ? 1 : 0);
    family(out, "magnetar_commit_batch_messages", "histogram", "Messages per group commit");
    histogram(out, "magnetar_commit_batch_messages", m->batch_hist, MAG_METRICS_BATCH_BUCKETS, 1.0,
              m->batches, (double)m->batch_messages, true);
    family(out, "magnetar_commit_fsync_seconds", "histogram",
           "Duration of a group commit's LMDB write and commit, fsync included");
    histogram(out, "magnetar_commit_fsync_seconds", m->latency_hist, MAG_METRICS_LATENCY_BUCKETS,
              0.00025, m->latency_count, m->latency_sum_s, false);
    family(out, "magnetar_retention_trimmed_entries_total", "counter",
           "Consumed entries deleted by retention");
    mag_buf_appendf(out, "magnetar_retention_trimmed_entries_total %" PRIu64 "\n", b->adm.trimmed_entries);

    struct mag_store_stats st;
    if (mag_store_stats(b->opts.store, &st) == MAG_OK) {
        family(out, "magnetar_storage_map_bytes", "gauge", "Configured LMDB map size");
        mag_buf_appendf(out, "magnetar_storage_map_bytes %" PRIu64 "\n", st.map_size);
        family(out, "magnetar_storage_used_bytes", "gauge", "LMDB pages in use (high-water mark)");
        mag_buf_appendf(out, "magnetar_storage_used_bytes %" PRIu64 "\n", st.used_bytes);
        family(out, "magnetar_storage_entries_bytes", "gauge", "Pages of the entries database");
        mag_buf_appendf(out, "magnetar_storage_entries_bytes %" PRIu64 "\n", st.entries_bytes);
        family(out, "magnetar_storage_file_bytes", "gauge", "Size of data.mdb on disk");
        mag_buf_appendf(out, "magnetar_storage_file_bytes %" PRIu64 "\n", st.file_bytes);
    }
    return MAG_OK;
}
