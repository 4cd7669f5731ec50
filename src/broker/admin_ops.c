/* admin_ops.c -- topic, partition and subscription administration; statistics.
 *
 * Every operation acts on the live broker state and persists before it
 * returns: topic records and cursor deletions in their own transaction,
 * cursor moves through the group commit (mag_broker_drain right away, and a
 * cursor still dirty afterwards means that commit failed). Operations that
 * detach clients (forced deletes) call the endpoints' on_closed events after
 * the handles are gone, as broker.h specifies.
 *
 * Statistics use Pulsar's TopicStats / PartitionedTopicStats field names.
 * Rates are measured over windows of at least one second between two
 * samples of the broker's counters (taken on each request and each sweep).
 */
#include "broker_internal.h"
#include "mag/codec/compress.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/iso_time.h"
#include "mag/codec/pulsar_json.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

#define MAX_PARTITIONS 10000

static const char *const sub_type_names[] = { "Exclusive", "Shared", "Failover", "Key_Shared" };

/* ---- lookups ------------------------------------------------------------------ */

static mag_topic *find_topic(mag_broker *b, const mag_topic_name *tn)
{
    return mag_strmap_get(&b->topics, tn->full, strlen(tn->full));
}

static mag_rc need_topic(mag_broker *b, const mag_topic_name *tn, mag_topic **out, mag_buf *err)
{
    *out = find_topic(b, tn);
    if (*out)
        return MAG_OK;
    mag_buf_append_str(err, "Topic not found");
    return MAG_ERR_NOT_FOUND;
}

/* Like need_topic, for an operation that a partitioned topic refuses with
   refused_rc and the reason why. */
static mag_rc need_plain_topic(mag_broker *b, const mag_topic_name *tn, mag_topic **out,
                               mag_rc refused_rc, const char *why, mag_buf *err)
{
    mag_rc rc = need_topic(b, tn, out, err);
    if (rc == MAG_OK && (*out)->rec.partitions) {
        mag_buf_append_str(err, why);
        return refused_rc;
    }
    return rc;
}

/* The partition topic i of parent (NULL when it was never created). */
static mag_topic *partition_of(mag_broker *b, const mag_topic_name *parent, uint32_t i)
{
    char name[MAG_TOPIC_NAME_MAX + 1];
    if (mag_topic_partition_name(parent, (int32_t)i, name) != MAG_OK)
        return NULL;
    return mag_strmap_get(&b->topics, name, strlen(name));
}

/* The topics an operation on tn covers: its partitions when tn is a
   partitioned topic, else tn itself. *out is malloc'ed (caller frees); its
   entries may be NULL for partitions never created. */
static mag_rc targets(mag_broker *b, const mag_topic_name *tn, mag_topic ***out, size_t *n,
                      mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_topic(b, tn, &t, err);
    if (rc != MAG_OK)
        return rc;
    *n = t->rec.partitions ? t->rec.partitions : 1;
    *out = mag_xcalloc(*n, sizeof **out);
    if (!t->rec.partitions)
        (*out)[0] = t;
    for (uint32_t i = 0; i < t->rec.partitions; i++)
        (*out)[i] = partition_of(b, tn, i);
    return MAG_OK;
}

static bool namespace_ok(mag_broker *b, const mag_topic_name *tn, mag_buf *err)
{
    char ns[MAG_TOPIC_NAME_MAX + 1];
    if (mag_admin_topic_namespace(tn->full, strlen(tn->full), ns) && mag_admin_namespace_exists(b, ns))
        return true;
    mag_buf_append_str(err, "Namespace does not exist");
    return false;
}

const char *mag_admin_producer_topic(const mag_producer *p)
{
    return p->topic->name;
}

const char *mag_admin_consumer_topic(const mag_consumer *c)
{
    return c->sub->topic->name;
}

/* ---- detaching clients and freeing topics ------------------------------------- */

static bool topic_active(const mag_topic *t)
{
    if (t->producers.count)
        return true;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot))
        if (((const mag_sub *)slot->value)->nconsumers)
            return true;
    return false;
}

/* Close consumers (of one subscription, or all when s == NULL) and tell
   their endpoints, after the handles are freed. */
static void detach_consumers(mag_topic *t, mag_sub *only)
{
    mag_consumer **cs = NULL;
    size_t n = 0, cap = 0;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        mag_sub *s = slot->value;
        if (only && s != only)
            continue;
        for (size_t i = 0; i < s->nconsumers; i++)
            mag_ptrs_push((void ***)&cs, &n, &cap, s->consumers[i]);
    }
    for (size_t i = 0; i < n; i++) {
        struct mag_consumer_events ev = cs[i]->ev;
        void *ctx = cs[i]->ctx;
        mag_consumer_close(cs[i]);
        if (ev.on_closed)
            ev.on_closed(ctx);
    }
    free(cs);
}

static void detach_producers(mag_topic *t)
{
    mag_producer **ps = NULL;
    size_t n = 0, cap = 0;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->producers, &it, &slot))
        mag_ptrs_push((void ***)&ps, &n, &cap, slot->value);
    for (size_t i = 0; i < n; i++) {
        struct mag_producer_events ev = ps[i]->ev;
        void *ctx = ps[i]->ctx;
        mag_producer_close(ps[i]);
        if (ev.on_closed)
            ev.on_closed(ctx);
    }
    free(ps);
}

/* Remove t from the broker and free it (the caller committed its staged
   entries and detached every client). */
static void topic_forget(mag_topic *t)
{
    mag_strmap_remove(&t->broker->topics, t->name, t->name_len);
    mag_topic_free(t);
}

static void sub_forget(mag_sub *s)
{
    mag_strmap_remove(&s->topic->subs, s->name, strlen(s->name));
    mag_sub_free(s);
}

/* ---- topics ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* names, sorted, as a JSON array of strings. */
static void append_sorted_names(mag_buf *out, const char **names, size_t n)
{
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    mag_buf_append_byte(out, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, names[i], strlen(names[i]));
    }
    mag_buf_append_byte(out, ']');
}

mag_rc mag_admin_topics_list(mag_broker *b, bool persistent, const char *tenant, const char *ns,
                             bool partitioned, mag_buf *out, mag_buf *err)
{
    mag_buf want = MAG_BUF_INIT;
    mag_buf_appendf(&want, "%s/%s", tenant, ns);
    if (!mag_admin_namespace_exists(b, mag_buf_cstr(&want))) {
        mag_buf_free(&want);
        mag_buf_append_str(err, "Namespace does not exist");
        return MAG_ERR_NOT_FOUND;
    }
    const char *prefix = persistent ? "persistent://" : "non-persistent://";
    const char **names = NULL;
    size_t n = 0, cap = 0;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot)) {
        const mag_topic *t = slot->value;
        char tns[MAG_TOPIC_NAME_MAX + 1];
        if (strncmp(t->name, prefix, strlen(prefix)) != 0 || (t->rec.partitions > 0) != partitioned ||
            !mag_admin_topic_namespace(t->name, t->name_len, tns) || strcmp(tns, mag_buf_cstr(&want)))
            continue;
        mag_ptrs_push((void ***)&names, &n, &cap, t->name);
    }
    append_sorted_names(out, names, n);
    free(names);
    mag_buf_free(&want);
    return MAG_OK;
}

mag_rc mag_admin_topic_create(mag_broker *b, const mag_topic_name *tn, mag_buf *err)
{
    if (tn->cluster[0] == '\0' && !namespace_ok(b, tn, err))
        return MAG_ERR_NOT_FOUND;
    if (find_topic(b, tn)) {
        mag_buf_append_str(err, "This topic already exists");
        return MAG_ERR_CONFLICT;
    }
    /* An explicit create works whatever allowAutoTopicCreation says: reuse
       the broker's creation path with creation forced for this one call. */
    b->adm.force_create = true;
    mag_topic *t;
    mag_rc rc = mag_broker_topic_open(b, tn, &t, err);
    b->adm.force_create = false;
    return rc;
}

/* Pulsar's limits on a partition count: 406 for <= 0, 400 above the maximum. */
static mag_rc check_partition_count(int64_t n, mag_buf *err)
{
    if (n <= 0) {
        mag_buf_append_str(err, "Number of partitions should be more than 0");
        return MAG_ERR_NOT_ACCEPTABLE;
    }
    if (n > MAX_PARTITIONS) {
        mag_buf_appendf(err, "Number of partitions should be less than or equal to %d", MAX_PARTITIONS);
        return MAG_ERR_BAD_REQUEST;
    }
    return MAG_OK;
}

mag_rc mag_admin_partitioned_create(mag_broker *b, const mag_topic_name *tn, int64_t n, mag_buf *err)
{
    mag_rc rc = check_partition_count(n, err);
    if (rc != MAG_OK)
        return rc;
    if (tn->partition >= 0) {
        mag_buf_append_str(err, "Partitioned Topic Name should not contain '-partition-'");
        return MAG_ERR_PRECONDITION;
    }
    if (tn->cluster[0] == '\0' && !namespace_ok(b, tn, err))
        return MAG_ERR_NOT_FOUND;
    return mag_broker_create_partitioned(b, tn, (uint32_t)n, err);
}

mag_rc mag_admin_partitions_update(mag_broker *b, const mag_topic_name *tn, int64_t n, mag_buf *err)
{
    mag_rc rc = check_partition_count(n, err);
    if (rc != MAG_OK)
        return rc;
    mag_topic *t = find_topic(b, tn);
    if (t && t->rec.partitions && (uint32_t)n <= t->rec.partitions) {
        mag_buf_append_str(err, "Number of new partitions must be greater than existing number of partitions");
        return MAG_ERR_CONFLICT;
    }
    return mag_broker_grow_partitions(b, tn, (uint32_t)n, err);
}

mag_rc mag_admin_partitions_get(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err)
{
    if (tn->cluster[0] == '\0' && !namespace_ok(b, tn, err))
        return MAG_ERR_NOT_FOUND;
    mag_topic *t = find_topic(b, tn);
    mag_buf_appendf(out, "{\"partitions\":%" PRIu32 "}", t ? t->rec.partitions : 0);
    return MAG_OK;
}

mag_rc mag_admin_create_missed_partitions(mag_broker *b, const mag_topic_name *tn, mag_buf *err)
{
    mag_topic *t = find_topic(b, tn);
    if (!t || !t->rec.partitions) {
        mag_buf_append_str(err, "Partitioned topic does not exist");
        return MAG_ERR_NOT_FOUND;
    }
    uint32_t n = t->rec.partitions;
    for (uint32_t i = 0; i < n; i++) {
        if (partition_of(b, tn, i))
            continue;
        mag_topic_name pn;
        char name[MAG_TOPIC_NAME_MAX + 1];
        mag_topic *p;
        mag_rc rc = mag_topic_partition_name(tn, (int32_t)i, name);
        if (rc == MAG_OK)
            rc = mag_topic_name_parse(name, strlen(name), &pn);
        if (rc == MAG_OK)
            rc = mag_broker_topic_open(b, &pn, &p, err);
        if (rc != MAG_OK)
            return rc;
    }
    return MAG_OK;
}

mag_rc mag_admin_topic_delete(mag_broker *b, const mag_topic_name *tn, bool partitioned, bool force,
                              mag_buf *err)
{
    mag_topic *t = find_topic(b, tn);
    if (!t || (partitioned && !t->rec.partitions)) {
        mag_buf_append_str(err, partitioned ? "Partitioned topic does not exist" : "Topic not found");
        return MAG_ERR_NOT_FOUND;
    }
    if (!partitioned && t->rec.partitions) {
        mag_buf_append_str(err, "Topic is a partitioned topic: delete it with DELETE .../partitions");
        return MAG_ERR_CONFLICT;
    }
    mag_topic **all;
    size_t n;
    mag_rc rc = targets(b, tn, &all, &n, err);
    if (rc != MAG_OK)
        return rc;
    for (size_t i = 0; i < n && !force; i++) {
        if (all[i] && topic_active(all[i])) {
            mag_buf_append_str(err, "Topic has active producers/subscriptions");
            free(all);
            return MAG_ERR_PRECONDITION;
        }
    }
    mag_broker_drain(b);        /* nothing of these topics may stay staged or in flight */
    for (size_t i = 0; i < n; i++) {
        if (all[i]) {
            detach_producers(all[i]);
            detach_consumers(all[i], NULL);
        }
    }
    mag_store_wtxn *w;
    rc = mag_broker_wbegin(b, &w);
    for (size_t i = 0; i < n && rc == MAG_OK; i++)
        if (all[i])
            rc = mag_store_topic_delete(w, all[i]->name, all[i]->name_len, all[i]->rec.id);
    if (rc == MAG_OK && partitioned)
        rc = mag_store_topic_delete(w, t->name, t->name_len, t->rec.id);
    if (rc == MAG_OK) {
        rc = mag_store_wcommit(w);
    } else if (w) {
        mag_store_wabort(w);
    }
    if (rc != MAG_OK) {
        mag_buf_appendf(err, "Failed to delete topic: %s", mag_strerror(rc));
        free(all);
        return rc;
    }
    mag_info("deleted %stopic %s%s", partitioned ? "partitioned " : "", tn->full, force ? " (forced)" : "");
    for (size_t i = 0; i < n; i++)
        if (all[i])
            topic_forget(all[i]);
    if (partitioned)
        topic_forget(t);
    free(all);
    return MAG_OK;
}

mag_rc mag_admin_topic_unload(mag_broker *b, const mag_topic_name *tn, mag_buf *err)
{
    mag_topic *t;
    return need_topic(b, tn, &t, err);
}

/* ---- statistics ------------------------------------------------------------- */

static void append_double(mag_buf *out, double v)
{
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.3f", v);
    /* Trim trailing zeros but keep one decimal, as Java prints doubles. */
    while (n > 2 && tmp[n - 1] == '0' && tmp[n - 2] != '.')
        tmp[--n] = '\0';
    mag_buf_append(out, tmp, (size_t)n);
}

static void append_position(mag_buf *out, uint64_t ledger, int64_t entry)
{
    char tmp[48];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64 ":%" PRId64, ledger, entry);
    mag_json_append_string(out, tmp, (size_t)n);
}

struct sub_stats {
    mag_sub *s;
    const char *name;
    double rate_out, thr_out, drop_rate;
    uint64_t dropped;
    uint64_t msg_out, bytes_out, backlog, backlog_bytes, unacked, delayed, ranges;
    mag_consumer **consumers;       /* borrowed handles */
    size_t nconsumers, cap_consumers;
    const char *type;
    const char *active;             /* activeConsumerName (borrowed), NULL = none */
    unsigned merged;                /* subscriptions summed into this entry */
    bool durable;
    bool blocked_on_unacked;        /* maxUnackedMessagesPerSubscription reached (isBlockedSubscriptionOnUnackedMsgs) */
};

struct topic_stats {
    double rate_in, thr_in, rate_out, thr_out, drop_rate;
    uint64_t dropped;
    bool non_persistent, dedup;
    uint64_t msg_in, bytes_in, msg_out, bytes_out, storage, backlog_bytes, ranges;
    mag_producer **producers;       /* borrowed handles */
    size_t nproducers, cap_producers;
    struct sub_stats *subs;
    size_t nsubs, cap_subs;
};

static void topic_stats_free(struct topic_stats *ts)
{
    for (size_t i = 0; i < ts->nsubs; i++)
        free(ts->subs[i].consumers);
    free(ts->subs);
    free(ts->producers);
    memset(ts, 0, sizeof *ts);
}

uint64_t mag_admin_sub_backlog(mag_sub *s)
{
    mag_topic *t = s->topic;
    uint64_t start = (uint64_t)(s->mark_delete + 1);
    uint64_t first = mag_admin_first_entry(t);
    if (start < first)
        start = first;
    if (start >= t->committed_next)
        return 0;
    uint64_t n = t->committed_next - start;
    for (size_t i = 0; i < s->acked.count; i++)
        if (s->acked.ids[i] >= start && s->acked.ids[i] < t->committed_next)
            n--;
    return n;
}

static size_t acked_ranges(const mag_sub *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->acked.count; i++)
        if (i == 0 || s->acked.ids[i] != s->acked.ids[i - 1] + 1)
            n++;
    return n;
}

static struct sub_stats *stats_sub(struct topic_stats *ts, const char *name)
{
    for (size_t i = 0; i < ts->nsubs; i++)
        if (strcmp(ts->subs[i].name, name) == 0)
            return &ts->subs[i];
    if (ts->nsubs == ts->cap_subs) {
        ts->cap_subs = ts->cap_subs ? ts->cap_subs * 2 : 4;
        ts->subs = mag_xrealloc(ts->subs, ts->cap_subs * sizeof *ts->subs);
    }
    struct sub_stats *ss = &ts->subs[ts->nsubs++];
    memset(ss, 0, sizeof *ss);
    ss->name = name;
    return ss;
}

/* Fill ts (zeroed by the caller) with t's numbers, sweeping t first so the
   storage figures reflect the latest acks. */
static mag_rc collect(mag_topic *t, struct topic_stats *ts)
{
    int64_t now = mag_broker_now_ms();
    mag_admin_sweep_topic(t);
    mag_admin_rate_update(&t->adm.in, t->msg_in_counter, t->bytes_in_counter, now);
    ts->rate_in += t->adm.in.msg_rate;
    ts->thr_in += t->adm.in.byte_rate;
    ts->msg_in += t->msg_in_counter;
    ts->bytes_in += t->bytes_in_counter;
    ts->non_persistent = t->non_persistent;
    ts->dedup = ts->dedup || mag_dedup_enabled(t);
    mag_admin_rate_update(&t->drop_rate, t->msg_dropped, 0, now);
    ts->drop_rate += t->drop_rate.msg_rate;
    ts->dropped += t->msg_dropped;
    uint64_t storage = 0, backlog_bytes = 0;
    mag_rc rc = mag_admin_bytes_after(t, -1, &storage);
    if (rc == MAG_OK && mag_admin_slowest_mark_delete(t) < (int64_t)t->committed_next - 1)
        rc = mag_admin_bytes_after(t, mag_admin_slowest_mark_delete(t), &backlog_bytes);
    if (rc != MAG_OK)
        return rc;
    ts->storage += storage;
    ts->backlog_bytes += backlog_bytes;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->producers, &it, &slot)) {
        mag_producer *p = slot->value;
        mag_admin_rate_update(&p->adm_in, p->msg_in_counter, p->bytes_in_counter, now);
        mag_ptrs_push((void ***)&ts->producers, &ts->nproducers, &ts->cap_producers, p);
    }
    it = 0;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        mag_sub *s = slot->value;
        struct sub_stats *ss = stats_sub(ts, s->name);
        mag_admin_rate_update(&s->adm_out, s->msg_out_counter, s->bytes_out_counter, now);
        uint64_t bytes = 0;
        if ((rc = mag_admin_bytes_after(t, s->mark_delete, &bytes)) != MAG_OK)
            return rc;
        ss->s = s;
        mag_admin_rate_update(&s->drop_rate, s->msg_dropped, 0, now);
        ss->drop_rate += s->drop_rate.msg_rate;
        ss->dropped += s->msg_dropped;
        ss->type = sub_type_names[s->type];
        /* PersistentSubscription.getStats: the single-active-consumer
           dispatcher's consumer; PartitionedTopicStatsImpl.add drops it. */
        const mag_consumer *active = mag_dispatch_active(s);
        ss->active = ++ss->merged == 1 && active ? active->name : NULL;
        ss->durable = s->durable;
        ss->blocked_on_unacked = ss->blocked_on_unacked || s->blocked_on_unacked;
        ss->rate_out += s->adm_out.msg_rate;
        ss->thr_out += s->adm_out.byte_rate;
        ss->msg_out += s->msg_out_counter;
        ss->bytes_out += s->bytes_out_counter;
        ss->backlog += mag_admin_sub_backlog(s);
        ss->backlog_bytes += bytes;
        ss->delayed += s->delayed.count;
        ss->ranges += acked_ranges(s);
        ts->ranges += acked_ranges(s);
        ts->rate_out += s->adm_out.msg_rate;
        ts->thr_out += s->adm_out.byte_rate;
        ts->msg_out += s->msg_out_counter;
        ts->bytes_out += s->bytes_out_counter;
        for (size_t i = 0; i < s->nconsumers; i++) {
            mag_consumer *c = s->consumers[i];
            mag_admin_rate_update(&c->adm_out, c->msg_out_counter, c->bytes_out_counter, now);
            ss->unacked += c->pending.count;
            mag_ptrs_push((void ***)&ss->consumers, &ss->nconsumers, &ss->cap_consumers, c);
        }
    }
    return MAG_OK;
}

static void format_consumer(mag_buf *out, const mag_consumer *c)
{
    mag_buf_append_str(out, "{\"msgRateOut\":");
    append_double(out, c->adm_out.msg_rate);
    mag_buf_append_str(out, ",\"msgThroughputOut\":");
    append_double(out, c->adm_out.byte_rate);
    mag_buf_appendf(out, ",\"bytesOutCounter\":%" PRIu64 ",\"msgOutCounter\":%" PRIu64
                         ",\"msgRateRedeliver\":0.0,\"chunkedMessageRate\":0.0,\"consumerName\":",
                    c->bytes_out_counter, c->msg_out_counter);
    mag_json_append_string(out, c->name, strlen(c->name));
    mag_buf_appendf(out, ",\"availablePermits\":%" PRIu32 ",\"unackedMessages\":%zu"
                         ",\"avgMessagesPerEntry\":1,\"blockedConsumerOnUnackedMsgs\":%s"
                         ",\"priorityLevel\":%" PRId32 ",\"metadata\":{}}",
                    c->flow ? c->flow->permits : 0, c->pending.count,
                    c->blocked_on_unacked ? "true" : "false", c->priority);
}

/* Non-persistent topics report drops (NonPersistentTopicStats.msgDropRate;
   msgDropCount is Magnetar's total). */
static void format_drops(mag_buf *out, double rate, uint64_t count)
{
    mag_buf_append_str(out, "\"msgDropRate\":");
    append_double(out, rate);
    mag_buf_appendf(out, ",\"msgDropCount\":%" PRIu64 ",", count);
}

static void format_sub(mag_buf *out, const struct sub_stats *ss, bool non_persistent)
{
    mag_json_append_string(out, ss->name, strlen(ss->name));
    mag_buf_append_str(out, ":{");
    if (non_persistent)
        format_drops(out, ss->drop_rate, ss->dropped);
    mag_buf_append_str(out, "\"msgRateOut\":");
    append_double(out, ss->rate_out);
    mag_buf_append_str(out, ",\"msgThroughputOut\":");
    append_double(out, ss->thr_out);
    mag_buf_appendf(out, ",\"bytesOutCounter\":%" PRIu64 ",\"msgOutCounter\":%" PRIu64
                         ",\"msgRateRedeliver\":0.0,\"chunkedMessageRate\":0,\"msgBacklog\":%" PRIu64
                         ",\"backlogSize\":%" PRIu64 ",\"msgBacklogNoDelayed\":%" PRIu64
                         ",\"blockedSubscriptionOnUnackedMsgs\":%s,\"msgDelayed\":%" PRIu64
                         ",\"unackedMessages\":%" PRIu64 ",\"type\":\"%s\",\"msgRateExpired\":0.0"
                         ",\"totalMsgExpired\":0,",
                    ss->bytes_out, ss->msg_out, ss->backlog, ss->backlog_bytes,
                    ss->backlog > ss->delayed ? ss->backlog - ss->delayed : 0,
                    ss->blocked_on_unacked ? "true" : "false", ss->delayed, ss->unacked,
                    ss->type);
    if (ss->active) {   /* null for Shared / Key_Shared: omitted like Pulsar's NON_NULL mapper */
        mag_buf_append_str(out, "\"activeConsumerName\":");
        mag_json_append_string(out, ss->active, strlen(ss->active));
        mag_buf_append_byte(out, ',');
    }
    mag_buf_append_str(out, "\"consumers\":[");
    for (size_t i = 0; i < ss->nconsumers; i++) {
        if (i)
            mag_buf_append_byte(out, ',');
        format_consumer(out, ss->consumers[i]);
    }
    mag_buf_appendf(out, "],\"isDurable\":%s,\"isReplicated\":false,\"allowOutOfOrderDelivery\":false"
                         ",\"consumersAfterMarkDeletePosition\":{},\"nonContiguousDeletedMessagesRanges\":%"
                         PRIu64 ",\"nonContiguousDeletedMessagesRangesSerializedSize\":0"
                         ",\"durable\":%s,\"replicated\":false}",
                    ss->durable ? "true" : "false", ss->ranges, ss->durable ? "true" : "false");
}

/* The TopicStats object, without its closing brace (callers may add fields). */
static void format_topic_stats(mag_buf *out, const struct topic_stats *ts)
{
    double avg = ts->rate_in > 0 ? ts->thr_in / ts->rate_in : 0.0;
    mag_buf_append_str(out, "{\"msgRateIn\":");
    append_double(out, ts->rate_in);
    mag_buf_append_str(out, ",\"msgThroughputIn\":");
    append_double(out, ts->thr_in);
    mag_buf_append_str(out, ",\"msgRateOut\":");
    append_double(out, ts->rate_out);
    mag_buf_append_str(out, ",\"msgThroughputOut\":");
    append_double(out, ts->thr_out);
    mag_buf_appendf(out, ",\"bytesInCounter\":%" PRIu64 ",\"msgInCounter\":%" PRIu64
                         ",\"bytesOutCounter\":%" PRIu64 ",\"msgOutCounter\":%" PRIu64
                         ",\"averageMsgSize\":",
                    ts->bytes_in, ts->msg_in, ts->bytes_out, ts->msg_out);
    append_double(out, avg);
    mag_buf_appendf(out, ",\"msgChunkPublished\":false,\"storageSize\":%" PRIu64
                         ",\"backlogSize\":%" PRIu64 ",\"offloadedStorageSize\":0,\"publishers\":[",
                    ts->storage, ts->backlog_bytes);
    for (size_t i = 0; i < ts->nproducers; i++) {
        const mag_producer *p = ts->producers[i];
        mag_buf_append_str(out, i ? ",{\"accessMode\":\"Shared\",\"msgRateIn\":"
                                  : "{\"accessMode\":\"Shared\",\"msgRateIn\":");
        append_double(out, p->adm_in.msg_rate);
        mag_buf_append_str(out, ",\"msgThroughputIn\":");
        append_double(out, p->adm_in.byte_rate);
        mag_buf_append_str(out, ",\"averageMsgSize\":");
        append_double(out, p->adm_in.msg_rate > 0 ? p->adm_in.byte_rate / p->adm_in.msg_rate : 0.0);
        mag_buf_appendf(out, ",\"chunkedMessageRate\":0.0,\"producerId\":%zu"
                             ",\"supportsPartialProducer\":false,\"producerName\":",
                        i);
        mag_json_append_string(out, p->name, strlen(p->name));
        mag_buf_append_str(out, ",\"metadata\":{}}");
    }
    mag_buf_append_str(out, "],\"waitingPublishers\":0,\"subscriptions\":{");
    for (size_t i = 0; i < ts->nsubs; i++) {
        if (i)
            mag_buf_append_byte(out, ',');
        format_sub(out, &ts->subs[i], ts->non_persistent);
    }
    mag_buf_append_str(out, "},");
    if (ts->non_persistent)
        format_drops(out, ts->drop_rate, ts->dropped);
    mag_buf_appendf(out, "\"replication\":{},\"deduplicationStatus\":\"%s\""
                         ",\"nonContiguousDeletedMessagesRanges\":%" PRIu64
                         ",\"nonContiguousDeletedMessagesRangesSerializedSize\":0",
                    ts->dedup ? "Enabled" : "Disabled", ts->ranges);
}

mag_rc mag_admin_topic_stats(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_plain_topic(b, tn, &t, MAG_ERR_NOT_FOUND, "Topic not found: it is a partitioned topic (use partitioned-stats)", err);
    if (rc != MAG_OK)
        return rc;
    struct topic_stats ts;
    memset(&ts, 0, sizeof ts);
    rc = collect(t, &ts);
    if (rc == MAG_OK) {
        format_topic_stats(out, &ts);
        mag_buf_append_byte(out, '}');
    } else {
        mag_buf_appendf(err, "Failed to read the topic's storage: %s", mag_strerror(rc));
    }
    topic_stats_free(&ts);
    return rc;
}

/* Add src's numbers to dst: publishers and consumers are listed together,
   subscriptions of the same name are summed (PartitionedTopicStats.add). */
static void merge_stats(struct topic_stats *dst, const struct topic_stats *src)
{
    dst->rate_in += src->rate_in;
    dst->thr_in += src->thr_in;
    dst->rate_out += src->rate_out;
    dst->thr_out += src->thr_out;
    dst->msg_in += src->msg_in;
    dst->bytes_in += src->bytes_in;
    dst->msg_out += src->msg_out;
    dst->bytes_out += src->bytes_out;
    dst->storage += src->storage;
    dst->backlog_bytes += src->backlog_bytes;
    dst->ranges += src->ranges;
    for (size_t i = 0; i < src->nproducers; i++)
        mag_ptrs_push((void ***)&dst->producers, &dst->nproducers, &dst->cap_producers,
                      src->producers[i]);
    for (size_t i = 0; i < src->nsubs; i++) {
        const struct sub_stats *from = &src->subs[i];
        struct sub_stats *to = stats_sub(dst, from->name);
        to->s = from->s;
        to->type = from->type;
        to->durable = from->durable;
        to->rate_out += from->rate_out;
        to->thr_out += from->thr_out;
        to->msg_out += from->msg_out;
        to->bytes_out += from->bytes_out;
        to->backlog += from->backlog;
        to->backlog_bytes += from->backlog_bytes;
        to->unacked += from->unacked;
        to->delayed += from->delayed;
        to->ranges += from->ranges;
        for (size_t k = 0; k < from->nconsumers; k++)
            mag_ptrs_push((void ***)&to->consumers, &to->nconsumers, &to->cap_consumers,
                          from->consumers[k]);
    }
}

mag_rc mag_admin_partitioned_stats(mag_broker *b, const mag_topic_name *tn, bool per_partition,
                                   mag_buf *out, mag_buf *err)
{
    mag_topic *t = find_topic(b, tn);
    if (!t || !t->rec.partitions) {
        mag_buf_appendf(err, "Partitioned Topic not found: %s has zero partitions", tn->full);
        return MAG_ERR_NOT_FOUND;
    }
    mag_topic **parts;
    size_t n;
    mag_rc rc = targets(b, tn, &parts, &n, err);
    if (rc != MAG_OK)
        return rc;
    struct topic_stats sum;
    memset(&sum, 0, sizeof sum);
    mag_buf each = MAG_BUF_INIT;
    for (size_t i = 0; i < n && rc == MAG_OK; i++) {
        if (!parts[i])
            continue;
        struct topic_stats one;
        memset(&one, 0, sizeof one);
        rc = collect(parts[i], &one);
        if (rc == MAG_OK && per_partition) {
            if (each.len)
                mag_buf_append_byte(&each, ',');
            mag_json_append_string(&each, parts[i]->name, parts[i]->name_len);
            mag_buf_append_byte(&each, ':');
            format_topic_stats(&each, &one);
            mag_buf_append_byte(&each, '}');
        }
        if (rc == MAG_OK)
            merge_stats(&sum, &one);
        topic_stats_free(&one);
    }
    if (rc == MAG_OK) {
        format_topic_stats(out, &sum);
        mag_buf_appendf(out, ",\"metadata\":{\"partitions\":%" PRIu32 "},\"partitions\":{",
                        t->rec.partitions);
        mag_buf_append(out, each.data, each.len);
        mag_buf_append_str(out, "}}");
    } else {
        mag_buf_appendf(err, "Failed to read the topic's storage: %s", mag_strerror(rc));
    }
    topic_stats_free(&sum);
    mag_buf_free(&each);
    free(parts);
    return rc;
}

struct count_ctx {
    uint64_t n;
};

static bool count_visit(void *ctx, uint64_t id, const mag_entry *e)
{
    (void)id, (void)e;
    ((struct count_ctx *)ctx)->n++;
    return true;
}

/* Pulsar prints individually deleted ranges as Guava open-closed ranges. */
static void format_acked_ranges(mag_buf *out, const mag_sub *s)
{
    mag_buf txt = MAG_BUF_INIT;
    uint64_t ledger = s->topic->rec.id;
    mag_buf_append_byte(&txt, '[');
    for (size_t i = 0; i < s->acked.count;) {
        size_t j = i;
        while (j + 1 < s->acked.count && s->acked.ids[j + 1] == s->acked.ids[j] + 1)
            j++;
        mag_buf_appendf(&txt, "%s(%" PRIu64 ":%" PRId64 "\xE2\x80\xA5%" PRIu64 ":%" PRIu64 "]",
                        i ? "," : "", ledger, (int64_t)s->acked.ids[i] - 1, ledger, s->acked.ids[j]);
        i = j + 1;
    }
    mag_buf_append_byte(&txt, ']');
    mag_json_append_string(out, (const char *)txt.data, txt.len);
    mag_buf_free(&txt);
}

mag_rc mag_admin_internal_stats(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_plain_topic(b, tn, &t, MAG_ERR_NOT_FOUND, "Topic not found: it is a partitioned topic", err);
    if (rc != MAG_OK)
        return rc;
    mag_admin_sweep_topic(t);
    uint64_t size = 0, first = mag_admin_first_entry(t);
    struct count_ctx cc = { 0 };
    mag_store_rtxn *r;
    rc = mag_admin_bytes_after(t, -1, &size);
    if (rc == MAG_OK && (rc = mag_store_rbegin(b->opts.store, &r)) == MAG_OK) {
        rc = mag_store_entries_scan(r, t->rec.id, 0, count_visit, &cc);
        mag_store_rend(r);
    }
    if (rc != MAG_OK) {
        mag_buf_appendf(err, "Failed to read the topic's storage: %s", mag_strerror(rc));
        return rc;
    }
    uint64_t ledger = t->rec.id;
    const struct mag_ns_policy *p = mag_admin_topic_policy(t);
    mag_buf_appendf(out, "{\"entriesAddedCounter\":%" PRIu64 ",\"numberOfEntries\":%" PRIu64
                         ",\"totalSize\":%" PRIu64 ",\"currentLedgerEntries\":%" PRIu64
                         ",\"currentLedgerSize\":%" PRIu64 ",\"lastLedgerCreatedTimestamp\":",
                    t->msg_in_counter, cc.n, size, cc.n, size);
    mag_buf created = MAG_BUF_INIT;
    mag_iso_time_format(&created, t->rec.created_ms);
    mag_json_append_string(out, (const char *)created.data, created.len);
    mag_buf_free(&created);
    mag_buf_appendf(out, ",\"waitingCursorsCount\":0,\"pendingAddEntriesCount\":%zu"
                         ",\"lastConfirmedEntry\":",
                    mag_broker_staged_count(b));
    append_position(out, ledger, (int64_t)t->committed_next - 1);
    mag_buf_appendf(out, ",\"state\":\"%s\",\"ledgers\":[{\"ledgerId\":%" PRIu64 ",\"entries\":%" PRIu64
                         ",\"size\":%" PRIu64 ",\"offloaded\":false,\"underReplicated\":false}]"
                         ",\"cursors\":{",
                    t->rec.terminated ? "Terminated" : "LedgerOpened", ledger, cc.n, size);
    size_t it = 0, k = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        const mag_sub *s = slot->value;
        if (k++)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, s->name, strlen(s->name));
        mag_buf_append_str(out, ":{\"markDeletePosition\":");
        append_position(out, ledger, s->mark_delete);
        mag_buf_append_str(out, ",\"readPosition\":");
        append_position(out, ledger, (int64_t)s->read_pos);
        mag_buf_appendf(out, ",\"waitingReadOp\":false,\"pendingReadOps\":0,\"messagesConsumedCounter\":%"
                             PRIu64 ",\"cursorLedger\":-1,\"cursorLedgerLastEntry\":-1"
                             ",\"individuallyDeletedMessages\":",
                        s->msg_out_counter);
        format_acked_ranges(out, s);
        mag_buf_appendf(out, ",\"state\":\"Open\",\"active\":%s,\"durable\":%s"
                             ",\"numberOfEntriesSinceFirstNotAckedMessage\":%" PRIu64 "}",
                        s->nconsumers ? "true" : "false", s->durable ? "true" : "false",
                        (uint64_t)((int64_t)t->committed_next - 1 - s->mark_delete));
    }
    /* Magnetar's own view: the retention state behind the numbers above. */
    mag_buf_appendf(out, "},\"magnetar\":{\"topicId\":%" PRIu64 ",\"firstEntryId\":%" PRIu64
                         ",\"nextEntryId\":%" PRIu64 ",\"segmentEntries\":%d"
                         ",\"retentionTimeInMinutes\":%" PRId64 ",\"retentionSizeInMB\":%" PRId64
                         ",\"backlogQuotaExceeded\":%s}}",
                    ledger, first, t->committed_next, MAG_ADMIN_SEGMENT_ENTRIES,
                    p->has_retention ? p->retention_minutes : 0,
                    p->has_retention ? p->retention_mb : 0, t->adm.quota_blocked ? "true" : "false");
    return MAG_OK;
}

static void format_message_id(mag_buf *out, const mag_topic *t)
{
    mag_buf_appendf(out, "{\"ledgerId\":%" PRIu64 ",\"entryId\":%" PRId64 ",\"partitionIndex\":%" PRId32 "}",
                    t->rec.id, (int64_t)t->committed_next - 1, t->partition);
}

mag_rc mag_admin_last_message_id(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_plain_topic(b, tn, &t, MAG_ERR_METHOD, "Get the last message id of a partitioned topic is not allowed", err);
    if (rc != MAG_OK)
        return rc;
    format_message_id(out, t);
    return MAG_OK;
}

mag_rc mag_admin_terminate(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_plain_topic(b, tn, &t, MAG_ERR_METHOD, "Termination of a partitioned topic is not allowed", err);
    if (rc != MAG_OK)
        return rc;
    if (!t->rec.terminated) {
        mag_broker_drain(b);    /* the last message id covers everything sent so far */
        mag_topic_rec rec = t->rec;
        rec.terminated = true;
        mag_store_wtxn *w;
        rc = mag_broker_wbegin(b, &w);
        if (rc == MAG_OK) {
            rc = mag_store_topic_update(w, t->name, t->name_len, &rec);
            if (rc == MAG_OK)
                rc = mag_store_wcommit(w);
            else
                mag_store_wabort(w);
        }
        if (rc != MAG_OK) {
            mag_buf_appendf(err, "Failed to terminate the topic: %s", mag_strerror(rc));
            return rc;
        }
        t->rec.terminated = true;
        mag_info("terminated topic %s at entry %" PRId64, t->name, (int64_t)t->committed_next - 1);
        /* Consumers learn about the end through isEndOfTopic; wake them. */
        size_t it = 0;
        const mag_strmap_slot *slot;
        while (mag_strmap_next(&t->subs, &it, &slot))
            mag_sub_mark_dispatch(slot->value);
    }
    format_message_id(out, t);
    return MAG_OK;
}

/* ---- positions and cursor moves ---------------------------------------------- */

/* Integer value of a JSON number, saturated to the int64 range (cJSON keeps
   numbers as doubles, so Long.MAX_VALUE arrives as 2^63). */
static bool json_long_sat(const cJSON *item, int64_t *out)
{
    if (!cJSON_IsNumber(item) || item->valuedouble != item->valuedouble)
        return false;
    double d = item->valuedouble;
    *out = d >= 9.2233720368547758e18 ? INT64_MAX : d <= -9.2233720368547758e18 ? INT64_MIN : (int64_t)d;
    return true;
}

mag_rc mag_admin_position_parse(const uint8_t *json, size_t len, mag_admin_position *out,
                                mag_buf *err)
{
    memset(out, 0, sizeof *out);
    out->kind = MAG_POSITION_LATEST;
    if (len == 0)
        return MAG_OK;
    cJSON *root = cJSON_ParseWithLength((const char *)json, len);
    int64_t ledger = 0, entry = 0;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(root, "ledgerId");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "entryId");
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(root, "isExcluded");
    mag_rc rc = MAG_OK;
    if (!cJSON_IsObject(root) || !json_long_sat(l, &ledger) || !json_long_sat(e, &entry) ||
        (x && !cJSON_IsBool(x) && !cJSON_IsNull(x))) {
        mag_buf_append_str(err, "Invalid message id: expected {\"ledgerId\":L,\"entryId\":E}");
        rc = MAG_ERR_BAD_REQUEST;
    } else if (ledger == INT64_MAX && entry == INT64_MAX) {
        out->kind = MAG_POSITION_LATEST;
    } else if (ledger < 0 || entry < 0) {
        out->kind = MAG_POSITION_EARLIEST;
    } else {
        out->kind = MAG_POSITION_ID;
        out->ledger = (uint64_t)ledger;
        out->entry = (uint64_t)entry;
        out->excluded = cJSON_IsTrue(x);
    }
    cJSON_Delete(root);
    return rc;
}

/* The mark-delete position that makes pos the next message read. */
static int64_t position_md(mag_topic *t, const mag_admin_position *pos)
{
    int64_t latest = (int64_t)t->committed_next - 1;
    int64_t earliest = (int64_t)mag_admin_first_entry(t) - 1;
    if (earliest > latest)
        earliest = latest;
    if (pos->kind == MAG_POSITION_LATEST || (pos->kind == MAG_POSITION_ID && pos->ledger > t->rec.id))
        return latest;
    if (pos->kind == MAG_POSITION_EARLIEST || pos->ledger < t->rec.id)
        return earliest;
    if (pos->entry > (uint64_t)latest + 1)
        return latest;
    int64_t md = (int64_t)pos->entry - (pos->excluded ? 0 : 1);
    return md < earliest ? earliest : md > latest ? latest : md;
}

/* Forget the redelivery counts of entries <= upto (INT64_MAX: all of them). */
static void forget_counts_upto(mag_sub *s, int64_t upto)
{
    uint64_t *drop = NULL;
    size_t n = 0, cap = 0;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&s->redelivery_counts, &it, &slot)) {
        uint64_t id;
        memcpy(&id, slot->key, sizeof id);
        if ((int64_t)id <= upto) {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                drop = mag_xrealloc(drop, cap * sizeof *drop);
            }
            drop[n++] = id;
        }
    }
    for (size_t i = 0; i < n; i++)
        mag_uidmap_remove(&s->redelivery_counts, drop[i]);
    free(drop);
}

/* mag_idset_remove_upto on a set that may be empty (never allocated). */
static void drop_upto(mag_idset *set, int64_t md)
{
    if (set->count)
        mag_idset_remove_upto(set, (uint64_t)md);
}

static void cursor_changed(mag_sub *s)
{
    mag_sub_mark_cursor_dirty(s);
    mag_sub_mark_dispatch(s);
}

/* Acknowledge everything up to md (skip, expire): mark-delete moves forward,
   state about those entries is dropped. No-op when md is not ahead. */
void mag_admin_cursor_forward(mag_sub *s, int64_t md)
{
    if (md <= s->mark_delete)
        return;
    s->mark_delete = md;
    drop_upto(&s->acked, md);
    drop_upto(&s->redeliver, md);
    drop_upto(&s->delayed, md);
    for (size_t i = 0; i < s->nconsumers; i++) {
        drop_upto(&s->consumers[i]->pending, md);
        drop_upto(&s->consumers[i]->nacked, md);
    }
    forget_counts_upto(s, md);
    while (s->acked.count && mag_idset_min(&s->acked) == (uint64_t)(s->mark_delete + 1)) {
        mag_idset_remove_upto(&s->acked, mag_idset_min(&s->acked));
        s->mark_delete++;
    }
    if (s->read_pos < (uint64_t)(s->mark_delete + 1))
        s->read_pos = (uint64_t)(s->mark_delete + 1);
    cursor_changed(s);
}

/* Reset the cursor: the next entry read is md + 1; every message in flight
   will be delivered again (Pulsar disconnects the consumers; the proxy's
   consumer reconnects at once, so the WebSocket sees the redelivery). */
static void cursor_reset(mag_sub *s, int64_t md)
{
    s->mark_delete = md;
    mag_idset_clear(&s->acked);
    mag_idset_clear(&s->redeliver);
    mag_idset_clear(&s->delayed);
    forget_counts_upto(s, INT64_MAX);
    for (size_t i = 0; i < s->nconsumers; i++) {
        mag_idset_clear(&s->consumers[i]->pending);
        mag_idset_clear(&s->consumers[i]->nacked);
        s->consumers[i]->recently_joined = false;
    }
    s->read_pos = (uint64_t)(md + 1);
    cursor_changed(s);
}

/* Commit the cursor changes now; a cursor still dirty means it failed. */
mag_rc mag_admin_commit_cursors(mag_broker *b, mag_sub **subs, size_t n, mag_buf *err)
{
    mag_broker_drain(b);        /* admin changes are persisted before the reply */
    for (size_t i = 0; i < n; i++) {
        if (subs[i] && subs[i]->cursor_dirty) {
            mag_buf_append_str(err, "Failed to persist the subscription's cursor");
            return MAG_ERR_STORAGE;
        }
    }
    return MAG_OK;
}

/* The subscription named sub on every target of tn (NULL where absent);
   404 when no target has it. *out malloc'ed (caller frees). */
static mag_rc find_subs(mag_broker *b, const mag_topic_name *tn, const char *sub, mag_sub ***out,
                        size_t *n, bool *partitioned, mag_buf *err)
{
    mag_topic **ts;
    mag_rc rc = targets(b, tn, &ts, n, err);
    if (rc != MAG_OK)
        return rc;
    *partitioned = find_topic(b, tn)->rec.partitions > 0;
    *out = mag_xcalloc(*n, sizeof **out);
    bool any = false;
    for (size_t i = 0; i < *n; i++) {
        if (ts[i])
            (*out)[i] = mag_strmap_get(&ts[i]->subs, sub, strlen(sub));
        any |= (*out)[i] != NULL;
    }
    free(ts);
    if (!any) {
        free(*out);
        *out = NULL;
        mag_buf_append_str(err, "Subscription not found");
        return MAG_ERR_NOT_FOUND;
    }
    return MAG_OK;
}

/* ---- subscriptions ------------------------------------------------------------- */

mag_rc mag_admin_subscriptions_list(mag_broker *b, const mag_topic_name *tn, mag_buf *out,
                                    mag_buf *err)
{
    mag_topic **ts;
    size_t n;
    mag_rc rc = targets(b, tn, &ts, &n, err);
    if (rc != MAG_OK)
        return rc;
    const char **names = NULL;
    size_t count = 0, cap = 0;
    for (size_t i = 0; i < n; i++) {
        size_t it = 0;
        const mag_strmap_slot *slot;
        while (ts[i] && mag_strmap_next(&ts[i]->subs, &it, &slot)) {
            const mag_sub *s = slot->value;
            bool seen = !s->durable;
            for (size_t k = 0; k < count && !seen; k++)
                seen = strcmp(names[k], s->name) == 0;
            if (!seen)
                mag_ptrs_push((void ***)&names, &count, &cap, s->name);
        }
    }
    append_sorted_names(out, names, count);
    free(names);
    free(ts);
    return MAG_OK;
}

mag_rc mag_admin_subscription_create(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                     const mag_admin_position *pos, mag_buf *err)
{
    if (!*sub || strlen(sub) > MAG_STORE_SUB_NAME_MAX) {
        mag_buf_append_str(err, "Invalid subscription name");
        return MAG_ERR_PRECONDITION;
    }
    uint32_t parts = 0;
    mag_rc rc = mag_broker_lookup_partitions(b, tn, &parts, err);
    mag_topic *t = NULL;
    if (rc == MAG_OK && parts == 0)
        rc = mag_broker_topic_open(b, tn, &t, err);
    if (rc != MAG_OK)
        return rc;
    size_t n = parts ? parts : 1;
    mag_topic **ts = mag_xcalloc(n, sizeof *ts);
    mag_sub **made = mag_xcalloc(n, sizeof *made);
    ts[0] = t;
    for (uint32_t i = 0; i < parts && rc == MAG_OK; i++) {
        mag_topic_name pn;
        char name[MAG_TOPIC_NAME_MAX + 1];
        rc = mag_topic_partition_name(tn, (int32_t)i, name);
        if (rc == MAG_OK)
            rc = mag_topic_name_parse(name, strlen(name), &pn);
        if (rc == MAG_OK)
            rc = mag_broker_topic_open(b, &pn, &ts[i], err);
    }
    for (size_t i = 0; i < n && rc == MAG_OK; i++) {
        if (mag_strmap_get(&ts[i]->subs, sub, strlen(sub))) {
            mag_buf_append_str(err, "Subscription already exists for topic");
            rc = MAG_ERR_CONFLICT;
        }
    }
    for (size_t i = 0; i < n && rc == MAG_OK; i++) {
        made[i] = mag_sub_new(ts[i], sub, MAG_SUB_EXCLUSIVE, true, position_md(ts[i], pos));
        mag_sub_mark_cursor_dirty(made[i]);
    }
    if (rc == MAG_OK && (rc = mag_admin_commit_cursors(b, made, n, err)) != MAG_OK) {
        for (size_t i = 0; i < n; i++)
            sub_forget(made[i]);
    }
    if (rc == MAG_OK)
        mag_info("created subscription %s on %s", sub, tn->full);
    free(ts);
    free(made);
    return rc;
}

mag_rc mag_admin_subscription_delete(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                     bool force, mag_buf *err)
{
    mag_sub **subs;
    size_t n;
    bool partitioned;
    mag_rc rc = find_subs(b, tn, sub, &subs, &n, &partitioned, err);
    if (rc != MAG_OK)
        return rc;
    for (size_t i = 0; i < n && !force; i++) {
        if (subs[i] && subs[i]->nconsumers) {
            mag_buf_append_str(err, "Subscription has active connected consumers");
            free(subs);
            return MAG_ERR_PRECONDITION;
        }
    }
    mag_store_wtxn *w = NULL;
    for (size_t i = 0; i < n && rc == MAG_OK; i++) {
        mag_sub *s = subs[i];
        if (!s)
            continue;
        detach_consumers(s->topic, s);
        /* A non-durable subscription goes away with its last consumer. */
        s = mag_strmap_get(&s->topic->subs, sub, strlen(sub));
        subs[i] = s;
        if (!s || !s->durable)
            continue;
        if (!w)
            rc = mag_broker_wbegin(b, &w);
        if (rc == MAG_OK) {
            rc = mag_store_cursor_delete(w, s->topic->rec.id, s->name, strlen(s->name));
            if (rc == MAG_ERR_NOT_FOUND)
                rc = MAG_OK;
        }
    }
    if (w && rc == MAG_OK)
        rc = mag_store_wcommit(w);
    else if (w)
        mag_store_wabort(w);
    if (rc == MAG_OK) {
        for (size_t i = 0; i < n; i++)
            if (subs[i])
                sub_forget(subs[i]);
        mag_info("deleted subscription %s of %s%s", sub, tn->full, force ? " (forced)" : "");
    } else {
        mag_buf_appendf(err, "Failed to delete the subscription: %s", mag_strerror(rc));
    }
    free(subs);
    return rc;
}

/* Acknowledge the next n unacked entries of s, one by one. */
static void skip_n(mag_sub *s, int64_t n)
{
    uint64_t id = (uint64_t)(s->mark_delete + 1);
    uint64_t first = mag_admin_first_entry(s->topic);
    if (id < first)
        mag_admin_cursor_forward(s, (int64_t)first - 1);
    id = (uint64_t)(s->mark_delete + 1);
    for (; n > 0 && id < s->topic->committed_next; id++) {
        if (mag_sub_is_acked(s, id))
            continue;
        mag_sub_ack_entry(s, id);
        n--;
    }
    cursor_changed(s);
}

/* One cursor operation on the subscription of one topic (or partition). */
typedef void (*cursor_move_fn)(mag_sub *s, const void *arg);

/* Apply move to subscription `sub` on every target of tn (each partition of
   a partitioned topic), then persist the cursors before the reply.
   no_partitioned: refuse a partitioned topic with 405 and this reason. */
static mag_rc move_cursors(mag_broker *b, const mag_topic_name *tn, const char *sub,
                           cursor_move_fn move, const void *arg, const char *no_partitioned,
                           mag_buf *err)
{
    mag_sub **subs;
    size_t n;
    bool partitioned;
    mag_rc rc = find_subs(b, tn, sub, &subs, &n, &partitioned, err);
    if (rc != MAG_OK)
        return rc;
    if (partitioned && no_partitioned) {
        mag_buf_append_str(err, no_partitioned);
        free(subs);
        return MAG_ERR_METHOD;
    }
    for (size_t i = 0; i < n; i++)
        if (subs[i])
            move(subs[i], arg);
    rc = mag_admin_commit_cursors(b, subs, n, err);
    free(subs);
    return rc;
}

static void move_skip(mag_sub *s, const void *arg)
{
    int64_t n = *(const int64_t *)arg;
    if (n < 0)
        mag_admin_cursor_forward(s, (int64_t)s->topic->committed_next - 1);     /* skip_all */
    else
        skip_n(s, n);
}

mag_rc mag_admin_subscription_skip(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                   int64_t n, mag_buf *err)
{
    return move_cursors(b, tn, sub, move_skip, &n,
                        n >= 0 ? "Skip messages on a partitioned topic is not allowed" : NULL, err);
}

struct age_ctx {
    int64_t cutoff_ms;      /* entries published at or before this are expired */
    int64_t last;           /* last expired id, -1 = none */
};

static bool age_visit(void *ctx, uint64_t id, const mag_entry *e)
{
    struct age_ctx *ac = ctx;
    if (e->publish_time_ms > ac->cutoff_ms)
        return false;
    ac->last = (int64_t)id;
    return true;
}

/* Last entry of s's topic published at or before cutoff_ms, from `from` on. */
int64_t mag_admin_last_published_before(mag_topic *t, uint64_t from, int64_t cutoff_ms)
{
    struct age_ctx ac = { cutoff_ms, -1 };
    mag_store_rtxn *r;
    if (mag_store_rbegin(t->broker->opts.store, &r) != MAG_OK)
        return -1;
    mag_store_entries_scan(r, t->rec.id, from, age_visit, &ac);
    mag_store_rend(r);
    return ac.last;
}

static void move_expire(mag_sub *s, const void *arg)
{
    int64_t cutoff = *(const int64_t *)arg;
    int64_t md = mag_admin_last_published_before(s->topic, (uint64_t)(s->mark_delete + 1), cutoff);
    mag_admin_cursor_forward(s, md);
}

mag_rc mag_admin_subscription_expire(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                     int64_t seconds, mag_buf *err)
{
    int64_t cutoff = mag_broker_now_ms() - seconds * 1000;
    return move_cursors(b, tn, sub, move_expire, &cutoff, NULL, err);
}

/* The first entry published at or after the timestamp is read next. */
static void move_to_time(mag_sub *s, const void *arg)
{
    int64_t timestamp_ms = *(const int64_t *)arg;
    mag_topic *t = s->topic;
    int64_t md = mag_admin_last_published_before(t, mag_admin_first_entry(t), timestamp_ms - 1);
    if (md < 0)
        md = (int64_t)mag_admin_first_entry(t) - 1;
    cursor_reset(s, md);
}

mag_rc mag_admin_subscription_reset_time(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                         int64_t timestamp_ms, mag_buf *err)
{
    return move_cursors(b, tn, sub, move_to_time, &timestamp_ms, NULL, err);
}

static void move_to_position(mag_sub *s, const void *arg)
{
    cursor_reset(s, position_md(s->topic, arg));
}

mag_rc mag_admin_subscription_reset_position(mag_broker *b, const mag_topic_name *tn,
                                             const char *sub, const mag_admin_position *pos,
                                             mag_buf *err)
{
    return move_cursors(b, tn, sub, move_to_position, pos, NULL, err);
}

/* ---- peeking at messages ----------------------------------------------------------- */

void mag_admin_message_init(mag_admin_message *m)
{
    memset(m, 0, sizeof *m);
    mag_buf_init(&m->key);
    mag_buf_init(&m->producer_name);
    mag_buf_init(&m->properties_json);
    mag_buf_init(&m->payload);
}

void mag_admin_message_cleanup(mag_admin_message *m)
{
    mag_buf_free(&m->key);
    mag_buf_free(&m->producer_name);
    mag_buf_free(&m->properties_json);
    mag_buf_free(&m->payload);
    mag_admin_message_init(m);
}

/* Read entry id of t into msg. */
mag_rc mag_admin_read_message(mag_topic *t, uint64_t id, mag_admin_message *msg, mag_buf *err)
{
    mag_store_rtxn *r;
    mag_rc rc = mag_store_rbegin(t->broker->opts.store, &r);
    if (rc != MAG_OK)
        return rc;
    mag_entry e;
    rc = id < t->committed_next ? mag_store_entry_get(r, t->rec.id, id, &e) : MAG_ERR_NOT_FOUND;
    if (rc == MAG_OK) {
        msg->ledger = t->rec.id;
        msg->entry = id;
        msg->partition = t->partition;
        msg->publish_time_ms = e.publish_time_ms;
        msg->event_time_ms = e.event_time_ms;
        msg->deliver_at_ms = e.deliver_at_ms;
        msg->sequence_id = e.sequence_id;
        msg->batch_size = e.batch_size;
        msg->has_key = e.has_key;
        mag_buf_append(&msg->key, e.key, e.has_key ? e.key_len : 0);
        mag_buf_append(&msg->producer_name, e.producer_name, e.producer_name_len);
        mag_buf_append(&msg->properties_json, e.properties_json, e.properties_json_len);
        msg->encrypted = e.encryption_json_len > 0;
        /* Pulsar decodes (decompresses) the payload before returning it. */
        if (e.compression != MAG_COMP_NONE)
            rc = mag_decompress((mag_compression)e.compression, e.payload, e.payload_len,
                                e.uncompressed_size, (size_t)64 << 20, &msg->payload);
        else
            mag_buf_append(&msg->payload, e.payload, e.payload_len);
    }
    mag_store_rend(r);
    if (rc == MAG_ERR_NOT_FOUND)
        mag_buf_append_str(err, "Message not found");
    else if (rc != MAG_OK)
        mag_buf_appendf(err, "Failed to read the message: %s", mag_strerror(rc));
    return rc;
}

mag_rc mag_admin_peek(mag_broker *b, const mag_topic_name *tn, const char *sub, int64_t n,
                      mag_admin_message *msg, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_plain_topic(b, tn, &t, MAG_ERR_METHOD, "Peek messages on a partitioned topic is not allowed", err);
    if (rc != MAG_OK)
        return rc;
    mag_sub *s = mag_strmap_get(&t->subs, sub, strlen(sub));
    if (!s) {
        mag_buf_append_str(err, "Subscription not found");
        return MAG_ERR_NOT_FOUND;
    }
    if (n < 1) {
        mag_buf_append_str(err, "Invalid message position");
        return MAG_ERR_PRECONDITION;
    }
    uint64_t id = (uint64_t)(s->mark_delete + 1);
    uint64_t first = mag_admin_first_entry(t);
    if (id < first)
        id = first;
    for (; id < t->committed_next; id++) {
        if (mag_sub_is_acked(s, id))
            continue;
        if (--n == 0)
            return mag_admin_read_message(t, id, msg, err);
    }
    mag_buf_append_str(err, "Message not found");
    return MAG_ERR_NOT_FOUND;
}

mag_rc mag_admin_get_message(mag_broker *b, const mag_topic_name *tn, uint64_t ledger,
                             uint64_t entry, mag_admin_message *msg, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = need_topic(b, tn, &t, err);
    if (rc != MAG_OK)
        return rc;
    if (t->rec.partitions || ledger != t->rec.id) {
        mag_buf_append_str(err, "Message not found");
        return MAG_ERR_NOT_FOUND;
    }
    return mag_admin_read_message(t, entry, msg, err);
}
