/* metrics.c -- group-commit statistics and the broker's Prometheus text (/metrics).
 *
 * mag_metrics_commit counts every collected group commit (one hook line in
 * commit.c): batches, their sizes and how long the LMDB write + commit (with
 * its fsync) took on the writer thread. mag_admin_metrics_text prints
 * Pulsar's per-topic metric names (pulsar_in_messages_total,
 * pulsar_msg_backlog, pulsar_storage_size, ...) labelled
 * {cluster, namespace, topic} like a broker with topic-level metrics on, then
 * Magnetar's own magnetar_* metrics. Exposition format 0.0.4: one # TYPE line
 * per family, all its samples after it.
 */
#include "broker_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/util/alloc.h"

/* ---- commit statistics ---------------------------------------------------------- */

void mag_metrics_commit(mag_broker *b, size_t staged, mag_rc rc, double secs)
{
    struct mag_metrics_state *m = &b->adm.metrics;
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
}

/* ---- Prometheus text ----------------------------------------------------------------- */

struct topic_row {
    const mag_topic *t;
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
    const char *sub_families[][2] = {
        { "pulsar_subscription_back_log", "Messages not yet acknowledged by the subscription" },
        { "pulsar_subscription_unacked_messages", "Messages delivered and not yet acknowledged" },
        { "pulsar_subscription_msg_rate_out", "Messages dispatched per second" },
        { "pulsar_subscription_delayed", "Messages waiting for their delivery time" },
    };
    for (size_t f = 0; f < 4; f++) {
        family(out, sub_families[f][0], "gauge", sub_families[f][1]);
        for (size_t i = 0; i < n; i++) {
            it = 0;
            while (mag_strmap_next(&rows[i].t->subs, &it, &slot)) {
                mag_sub *s = slot->value;
                mag_buf_append_str(out, sub_families[f][0]);
                labels(out, cluster, &rows[i], s->name);
                if (f == 0) {
                    value_u64(out, mag_admin_sub_backlog(s));
                } else if (f == 1) {
                    uint64_t unacked = 0;
                    for (size_t c = 0; c < s->nconsumers; c++)
                        unacked += s->consumers[c]->pending.count;
                    value_u64(out, unacked);
                } else if (f == 2) {
                    value_double(out, s->adm_out.msg_rate);
                } else {
                    value_u64(out, s->delayed.count);
                }
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
