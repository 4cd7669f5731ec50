/* retention.c -- trimming of consumed entries, namespace retention, backlog quotas.
 *
 * Pulsar deletes whole ledgers once every durable cursor has passed them and
 * never the ledger being written; retention policies keep consumed ledgers
 * for a while. Magnetar mirrors that with "segments" of
 * MAG_ADMIN_SEGMENT_ENTRIES entry ids: entries up to the slowest durable
 * mark-delete position are deleted, except those of the newest segment, so a
 * reader asking for `earliest` right after a consumer acked still finds the
 * recent messages (as it would in Pulsar's open ledger). Topics without
 * durable subscriptions keep their entries: nothing has consumed them.
 * Deleted pages return to LMDB's free list and are reused, so under steady
 * produce + ack the data file stops growing.
 *
 * The sweep runs at the end of mag_broker_run at most every
 * MAG_ADMIN_SWEEP_MS, touches only topics whose counters or cursors moved
 * (or whose time-based limit is due) and writes all deletions in one
 * transaction. It also re-evaluates backlog quotas: producer_request_hold /
 * producer_exception block producers (503 at open, send-error:8 on publish),
 * consumer_backlog_eviction moves the slowest cursors forward.
 */
#include "broker_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

/* ---- small shared helpers ------------------------------------------------------- */

int64_t mag_admin_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void mag_admin_rate_update(struct mag_admin_rate *r, uint64_t msgs, uint64_t bytes, int64_t now_ms)
{
    if (r->at_ms == 0 || now_ms < r->at_ms) {
        r->at_ms = now_ms;
        r->msgs = msgs;
        r->bytes = bytes;
        r->msg_rate = r->byte_rate = 0;
        return;
    }
    int64_t window = now_ms - r->at_ms;
    if (window < 1000)
        return;
    r->msg_rate = (double)(msgs - r->msgs) * 1000.0 / (double)window;
    r->byte_rate = (double)(bytes - r->bytes) * 1000.0 / (double)window;
    r->at_ms = now_ms;
    r->msgs = msgs;
    r->bytes = bytes;
}

uint64_t mag_admin_first_entry(mag_topic *t)
{
    if (!t->adm.first_known) {
        mag_store_rtxn *r;
        uint64_t first = t->committed_next, last;
        if (mag_store_rbegin(t->broker->opts.store, &r) != MAG_OK)
            return 0;
        mag_rc rc = mag_store_entry_bounds(r, t->rec.id, &first, &last);
        mag_store_rend(r);
        if (rc == MAG_ERR_NOT_FOUND)
            first = t->committed_next;
        else if (rc != MAG_OK)
            return 0;
        t->adm.first_entry = first;
        t->adm.first_known = true;
    }
    return t->adm.first_entry;
}

int64_t mag_admin_slowest_mark_delete(const mag_topic *t)
{
    int64_t floor = (int64_t)t->committed_next - 1;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        const mag_sub *s = slot->value;
        if (s->durable && s->mark_delete < floor)
            floor = s->mark_delete;
    }
    return floor;
}

/* True if t has at least one durable subscription. */
static bool has_durable_sub(const mag_topic *t)
{
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot))
        if (((const mag_sub *)slot->value)->durable)
            return true;
    return false;
}

struct bytes_ctx {
    uint64_t bytes;
};

static bool bytes_visit(void *ctx, uint64_t entry_id, const mag_entry *e)
{
    (void)entry_id;
    /* The same measure as mag_store_topic_storage_size: key (16) + value. */
    ((struct bytes_ctx *)ctx)->bytes += 16 + mag_entry_encoded_size(e);
    return true;
}

mag_rc mag_admin_bytes_after(mag_topic *t, int64_t after, uint64_t *bytes)
{
    *bytes = 0;
    if (after + 1 >= (int64_t)t->committed_next)
        return MAG_OK;
    mag_store_rtxn *r;
    mag_rc rc = mag_store_rbegin(t->broker->opts.store, &r);
    if (rc != MAG_OK)
        return rc;
    struct bytes_ctx bc = { 0 };
    rc = mag_store_entries_scan(r, t->rec.id, (uint64_t)(after + 1), bytes_visit, &bc);
    mag_store_rend(r);
    *bytes = bc.bytes;
    return rc;
}

/* ---- backlog quotas ---------------------------------------------------------- */

/* Move a subscription's mark-delete position forward to md (eviction). */
static void evict_to(mag_sub *s, int64_t md)
{
    for (int64_t id = s->mark_delete + 1; id <= md; id++)
        mag_sub_ack_entry(s, (uint64_t)id);
}

struct evict_ctx {
    uint64_t excess;        /* bytes still to drop */
    uint64_t dropped;
    int64_t last;           /* last entry id dropped */
    int64_t cutoff_ms;      /* message_age: drop entries published before this */
};

static bool evict_size_visit(void *ctx, uint64_t entry_id, const mag_entry *e)
{
    struct evict_ctx *ec = ctx;
    if (ec->dropped >= ec->excess)
        return false;
    ec->dropped += 16 + mag_entry_encoded_size(e);
    ec->last = (int64_t)entry_id;
    return true;
}

static bool evict_age_visit(void *ctx, uint64_t entry_id, const mag_entry *e)
{
    struct evict_ctx *ec = ctx;
    if (e->publish_time_ms >= ec->cutoff_ms)
        return false;
    ec->last = (int64_t)entry_id;
    return true;
}

/* Publish time of the oldest entry after `after`, or -1 when there is none. */
static int64_t oldest_after(mag_topic *t, int64_t after)
{
    int64_t pt = -1;
    mag_store_rtxn *r;
    if (after + 1 >= (int64_t)t->committed_next || mag_store_rbegin(t->broker->opts.store, &r) != MAG_OK)
        return -1;
    mag_entry e;
    uint64_t id = (uint64_t)(after + 1);
    if (id < mag_admin_first_entry(t))
        id = mag_admin_first_entry(t);
    if (mag_store_entry_get(r, t->rec.id, id, &e) == MAG_OK)
        pt = e.publish_time_ms;
    mag_store_rend(r);
    return pt;
}

/* Is the quota of `type` exceeded by the backlog behind `floor`? */
static bool quota_exceeded(mag_topic *t, const struct mag_backlog_quota *q, mag_quota_type type,
                           int64_t floor)
{
    if (!q->set)
        return false;
    if (type == MAG_QUOTA_DESTINATION_STORAGE) {
        uint64_t bytes;
        return q->limit_size >= 0 && mag_admin_bytes_after(t, floor, &bytes) == MAG_OK &&
               bytes > (uint64_t)q->limit_size;
    }
    if (q->limit_time < 0)
        return false;
    int64_t pt = oldest_after(t, floor);
    return pt >= 0 && mag_broker_now_ms() - pt > q->limit_time * 1000;
}

/* consumer_backlog_eviction: every durable subscription over the limit drops
   its oldest messages until it fits. */
static void evict(mag_topic *t, const struct mag_backlog_quota *q, mag_quota_type type)
{
    mag_store_rtxn *r;
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        mag_sub *s = slot->value;
        if (!s->durable)
            continue;
        struct evict_ctx ec = { .last = -1, .cutoff_ms = mag_broker_now_ms() - q->limit_time * 1000 };
        mag_store_entry_cb visit = evict_age_visit;
        if (type == MAG_QUOTA_DESTINATION_STORAGE) {
            uint64_t bytes;
            if (mag_admin_bytes_after(t, s->mark_delete, &bytes) != MAG_OK ||
                bytes <= (uint64_t)q->limit_size)
                continue;
            ec.excess = bytes - (uint64_t)q->limit_size;
            visit = evict_size_visit;
        }
        if (mag_store_rbegin(t->broker->opts.store, &r) != MAG_OK)
            return;
        mag_store_entries_scan(r, t->rec.id, (uint64_t)(s->mark_delete + 1), visit, &ec);
        mag_store_rend(r);
        if (ec.last > s->mark_delete) {
            mag_info("backlog quota: evicting %s/%s up to entry %" PRId64, t->name, s->name, ec.last);
            evict_to(s, ec.last);
            mag_sub_mark_dispatch(s);
        }
    }
}

void mag_admin_quota_evaluate(mag_topic *t)
{
    const struct mag_ns_policy *p = mag_admin_topic_policy(t);
    bool blocked = false;
    for (int type = 0; type < 2; type++) {
        const struct mag_backlog_quota *q = &p->quota[type];
        if (!q->set)
            continue;
        if (q->policy == MAG_QUOTA_CONSUMER_BACKLOG_EVICTION) {
            if ((type == MAG_QUOTA_DESTINATION_STORAGE && q->limit_size >= 0) ||
                (type == MAG_QUOTA_MESSAGE_AGE && q->limit_time >= 0))
                evict(t, q, (mag_quota_type)type);
        } else if (has_durable_sub(t) &&
                   quota_exceeded(t, q, (mag_quota_type)type, mag_admin_slowest_mark_delete(t))) {
            blocked = true;
        }
    }
    if (blocked != t->adm.quota_blocked)
        mag_info("backlog quota of %s %s", t->name, blocked ? "exceeded: producers blocked" : "ok again");
    t->adm.quota_blocked = blocked;
}

mag_rc mag_admin_producer_check(mag_topic *t, mag_buf *err)
{
    mag_admin_quota_evaluate(t);
    if (!t->adm.quota_blocked)
        return MAG_OK;
    mag_buf_append_str(err, "Cannot create producer on topic with backlog quota exceeded");
    return MAG_ERR_UNAVAILABLE;
}

bool mag_admin_publish_blocked(const mag_topic *t)
{
    return t->adm.quota_blocked;
}

/* ---- trimming ---------------------------------------------------------------- */

struct trim {
    mag_topic *t;
    uint64_t from, to;      /* inclusive */
};

struct retain_ctx {
    int64_t now_ms;
    int64_t minutes, mb;    /* retention limits, -1 = unlimited */
    uint64_t remaining;     /* stored bytes of the topic not yet marked for deletion */
    uint64_t to;            /* scan limit */
    int64_t last;           /* last deletable entry id, -1 = none */
    int64_t retry_at_ms;    /* when the first kept entry expires (time limit), 0 = n/a */
};

static bool retain_visit(void *ctx, uint64_t entry_id, const mag_entry *e)
{
    struct retain_ctx *rc = ctx;
    if (entry_id > rc->to)
        return false;
    bool expired = rc->minutes >= 0 && e->publish_time_ms + rc->minutes * 60000 <= rc->now_ms;
    bool oversize = rc->mb >= 0 && rc->remaining > (uint64_t)rc->mb * 1024 * 1024;
    if (!expired && !oversize) {
        if (rc->minutes >= 0)
            rc->retry_at_ms = e->publish_time_ms + rc->minutes * 60000;
        return false;
    }
    rc->remaining -= 16 + mag_entry_encoded_size(e);
    rc->last = (int64_t)entry_id;
    return true;
}

/* Decide what of t to delete; false when nothing. */
static bool plan_trim(mag_topic *t, int64_t floor, int64_t now_ms, struct trim *out)
{
    if (!has_durable_sub(t) || t->committed_next == 0)
        return false;
    /* Never the newest segment (Pulsar's open ledger). */
    uint64_t seg_start = (t->committed_next - 1) / MAG_ADMIN_SEGMENT_ENTRIES * MAG_ADMIN_SEGMENT_ENTRIES;
    if (seg_start == 0 || floor < 0)
        return false;
    uint64_t to = (uint64_t)floor < seg_start - 1 ? (uint64_t)floor : seg_start - 1;
    uint64_t from = mag_admin_first_entry(t);
    if (to < from)
        return false;
    const struct mag_ns_policy *p = mag_admin_topic_policy(t);
    /* A namespace without a retention policy gets the broker's defaults, as
       BrokerService.getManagedLedgerConfig does (defaultRetention*). */
    int64_t minutes = p->has_retention ? p->retention_minutes : t->broker->opts.default_retention_minutes;
    int64_t mb = p->has_retention ? p->retention_mb : t->broker->opts.default_retention_mb;
    if (minutes != 0 || mb != 0) {
        if (minutes < 0 && mb < 0)
            return false;   /* infinite retention */
        struct retain_ctx rc = { .now_ms = now_ms, .minutes = minutes, .mb = mb, .to = to, .last = -1 };
        if (mb >= 0 && mag_admin_bytes_after(t, (int64_t)from - 1, &rc.remaining) != MAG_OK)
            return false;
        mag_store_rtxn *r;
        if (mag_store_rbegin(t->broker->opts.store, &r) != MAG_OK)
            return false;
        mag_store_entries_scan(r, t->rec.id, from, retain_visit, &rc);
        mag_store_rend(r);
        t->adm.retry_at_ms = rc.retry_at_ms;
        if (rc.last < (int64_t)from)
            return false;
        to = (uint64_t)rc.last;
    }
    *out = (struct trim){ t, from, to };
    return true;
}

static void apply_trims(mag_broker *b, struct trim *trims, size_t n)
{
    if (n == 0)
        return;
    mag_store_wtxn *w;
    mag_rc rc = mag_broker_wbegin(b, &w);
    if (rc != MAG_OK) {
        mag_warn("retention: cannot begin a transaction: %s", mag_strerror(rc));
        return;
    }
    for (size_t i = 0; i < n && rc == MAG_OK; i++)
        rc = mag_store_entries_delete(w, trims[i].t->rec.id, trims[i].from, trims[i].to);
    if (rc == MAG_OK)
        rc = mag_store_wcommit(w);
    else
        mag_store_wabort(w);
    if (rc != MAG_OK) {
        mag_warn("retention: trimming failed: %s", mag_strerror(rc));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        trims[i].t->adm.first_entry = trims[i].to + 1;
        b->adm.trimmed_entries += trims[i].to - trims[i].from + 1;
        mag_debug("retention: trimmed %s entries %" PRIu64 "..%" PRIu64, trims[i].t->name,
                  trims[i].from, trims[i].to);
    }
}

/* Sweep one topic: quotas, then plan its trim. false when nothing to trim. */
static bool sweep_topic(mag_topic *t, int64_t now_ms, bool force, struct trim *out)
{
    if (t->rec.partitions > 0)
        return false;
    int64_t floor = mag_admin_slowest_mark_delete(t);
    bool changed = force || t->msg_in_counter != t->adm.swept_in || floor != t->adm.swept_floor ||
                   t->adm.policy_gen != t->broker->adm.policy_gen ||
                   (t->adm.retry_at_ms && now_ms >= t->adm.retry_at_ms);
    if (!changed)
        return false;
    const struct mag_ns_policy *p = mag_admin_topic_policy(t);
    if (p->quota[0].set || p->quota[1].set || t->adm.quota_blocked) {
        mag_admin_quota_evaluate(t);
        floor = mag_admin_slowest_mark_delete(t);     /* eviction may have moved it */
    }
    t->adm.swept_in = t->msg_in_counter;
    t->adm.swept_floor = floor;
    t->adm.retry_at_ms = 0;
    mag_admin_rate_update(&t->adm.in, t->msg_in_counter, t->bytes_in_counter, now_ms);
    return plan_trim(t, floor, now_ms, out);
}

static void sweep(mag_broker *b, mag_topic *only)
{
    int64_t now = mag_broker_now_ms();
    struct trim *trims = NULL, one;
    size_t n = 0, cap = 0;
    if (only) {
        if (sweep_topic(only, now, true, &one))
            apply_trims(b, &one, 1);
        return;
    }
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot)) {
        if (!sweep_topic(slot->value, now, false, &one))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            trims = mag_xrealloc(trims, cap * sizeof *trims);
        }
        trims[n++] = one;
    }
    apply_trims(b, trims, n);
    free(trims);
}

void mag_admin_after_run(mag_broker *b)
{
    int64_t now = mag_admin_mono_ms();
    if (now < b->adm.next_sweep_ms)
        return;
    b->adm.next_sweep_ms = now + MAG_ADMIN_SWEEP_MS;
    sweep(b, NULL);
    mag_admin_expiry_check(b);
}

void mag_admin_sweep_topic(mag_topic *t)
{
    sweep(t->broker, t);
}
