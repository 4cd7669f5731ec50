/* admin_messages.c -- message-level admin operations and the message TTL check.
 *
 * examinemessage (PersistentTopicsBase.internalExamineMessage), expiring on
 * every subscription (internalExpireMessagesForAllSubscriptions), the offline
 * backlog estimate (PersistentOfflineTopicStats), the broker health check
 * (BrokersBase.healthCheck) and the periodic TTL check
 * (PersistentTopic.checkMessageExpiry). Cursor moves reuse admin_ops.c's
 * helpers (admin_internal.h). Everything runs on the broker thread.
 */
#include "broker_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/pulsar_json.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

/* ---- message TTL ---------------------------------------------------------------------- */

/* Expire on every subscription of t what was published at or before cutoff_ms. */
static void expire_topic(mag_topic *t, int64_t cutoff_ms)
{
    uint64_t first = mag_admin_first_entry(t);
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->subs, &it, &slot)) {
        mag_sub *s = slot->value;
        uint64_t from = (uint64_t)(s->mark_delete + 1);
        if (from < first)
            from = first;
        if (from >= t->committed_next)
            continue;       /* nothing unacknowledged */
        mag_admin_cursor_forward(s, mag_admin_last_published_before(t, from, cutoff_ms));
    }
}

void mag_admin_expiry_check(mag_broker *b)
{
    int64_t now = mag_admin_mono_ms();
    if (now < b->adm.next_expiry_ms)
        return;
    b->adm.next_expiry_ms = now + b->opts.message_expiry_interval_ms;
    int64_t wall = mag_broker_now_ms();
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot)) {
        mag_topic *t = slot->value;
        if (t->non_persistent || t->rec.partitions || t->subs.count == 0)
            continue;
        const struct mag_ns_policy *p = mag_admin_topic_policy(t);
        int64_t ttl = p->has_message_ttl ? p->message_ttl_s : b->opts.default_message_ttl_s;
        if (ttl > 0)
            expire_topic(t, wall - ttl * 1000);
    }
}

/* ---- expire on every subscription ------------------------------------------------------- */

mag_rc mag_admin_expire_all_subscriptions(mag_broker *b, const mag_topic_name *tn, int64_t seconds,
                                          mag_buf *err)
{
    mag_topic *t = mag_strmap_get(&b->topics, tn->full, strlen(tn->full));
    if (!t) {
        mag_buf_append_str(err, "Topic not found");
        return MAG_ERR_NOT_FOUND;
    }
    mag_topic **ts = mag_xcalloc(t->rec.partitions ? t->rec.partitions : 1, sizeof *ts);
    size_t nt = 0;
    if (!t->rec.partitions)
        ts[nt++] = t;
    for (uint32_t i = 0; i < t->rec.partitions; i++) {
        char name[MAG_TOPIC_NAME_MAX + 1];
        mag_topic *p = NULL;
        if (mag_topic_partition_name(tn, (int32_t)i, name) == MAG_OK)
            p = mag_strmap_get(&b->topics, name, strlen(name));
        if (p)
            ts[nt++] = p;
    }
    mag_sub **subs = NULL;
    size_t nsubs = 0, cap = 0;
    int64_t cutoff = mag_broker_now_ms() - seconds * 1000;
    for (size_t i = 0; i < nt; i++) {
        expire_topic(ts[i], cutoff);
        size_t it = 0;
        const mag_strmap_slot *slot;
        while (mag_strmap_next(&ts[i]->subs, &it, &slot))
            mag_ptrs_push((void ***)&subs, &nsubs, &cap, slot->value);
    }
    mag_rc rc = mag_admin_commit_cursors(b, subs, nsubs, err);
    free(subs);
    free(ts);
    return rc;
}

/* ---- examinemessage ------------------------------------------------------------------ */

mag_rc mag_admin_examine(mag_broker *b, const mag_topic_name *tn, bool earliest, int64_t position,
                         mag_admin_message *msg, mag_buf *err)
{
    mag_topic *t = mag_strmap_get(&b->topics, tn->full, strlen(tn->full));
    if (!t) {
        mag_buf_append_str(err, "Topic not found");
        return MAG_ERR_NOT_FOUND;
    }
    if (t->rec.partitions) {
        mag_buf_append_str(err, "Examine messages on a partitioned topic is not allowed, please try "
                                "examine message on specific topic partition");
        return MAG_ERR_METHOD;
    }
    if (t->non_persistent) {
        mag_buf_append_str(err, "Examine messages on a non-persistent topic is not allowed");
        return MAG_ERR_METHOD;
    }
    uint64_t first = mag_admin_first_entry(t);
    uint64_t total = t->committed_next > first ? t->committed_next - first : 0;
    if (total == 0) {
        mag_buf_append_str(err, "Could not examine messages due to the total message is zero");
        return MAG_ERR_PRECONDITION;
    }
    if (position < 1)
        position = 1;
    if ((uint64_t)position > total)
        position = (int64_t)total;
    uint64_t id = earliest ? first + (uint64_t)position - 1 : t->committed_next - (uint64_t)position;
    return mag_admin_read_message(t, id, msg, err);
}

/* ---- offline backlog --------------------------------------------------------------------- */

mag_rc mag_admin_backlog(mag_broker *b, const mag_topic_name *tn, const char *broker_name,
                         mag_buf *out, mag_buf *err)
{
    mag_topic *t = mag_strmap_get(&b->topics, tn->full, strlen(tn->full));
    if (!t) {
        mag_buf_append_str(err, "Topic not found");
        return MAG_ERR_NOT_FOUND;
    }
    uint64_t storage = 0, total = 0, backlog = 0;
    mag_buf cursors = MAG_BUF_INIT;
    mag_buf_append_byte(&cursors, '{');
    if (!t->rec.partitions && !t->non_persistent) {
        mag_admin_sweep_topic(t);
        mag_rc rc = mag_admin_bytes_after(t, -1, &storage);
        if (rc != MAG_OK) {
            mag_buf_appendf(err, "Failed to read the topic: %s", mag_strerror(rc));
            mag_buf_free(&cursors);
            return rc;
        }
        uint64_t first = mag_admin_first_entry(t);
        total = t->committed_next > first ? t->committed_next - first : 0;
        size_t it = 0, n = 0;
        const mag_strmap_slot *slot;
        while (mag_strmap_next(&t->subs, &it, &slot)) {
            mag_sub *s = slot->value;
            if (!s->durable)
                continue;   /* the offline estimate reads stored cursors only */
            uint64_t sb = mag_admin_sub_backlog(s);
            backlog += sb;
            if (n++)
                mag_buf_append_byte(&cursors, ',');
            mag_json_append_string(&cursors, s->name, strlen(s->name));
            mag_buf_appendf(&cursors, ":{\"cursorBacklog\":%" PRIu64 ",\"cursorLedgerId\":-1}", sb);
        }
    }
    mag_buf_append_byte(&cursors, '}');
    /* ManagedLedger name: tenant/namespace/domain/local-name */
    mag_buf name = MAG_BUF_INIT;
    mag_buf_appendf(&name, "%s/%s%s%s/%s/%s", tn->tenant, tn->cluster, tn->cluster[0] ? "/" : "",
                    tn->ns, tn->persistent ? "persistent" : "non-persistent",
                    tn->local);
    mag_buf_appendf(out, "{\"storageSize\":%" PRIu64 ",\"totalMessages\":%" PRIu64
                         ",\"messageBacklog\":%" PRIu64 ",\"brokerName\":",
                    storage, total, backlog);
    mag_json_append_string(out, broker_name, strlen(broker_name));
    mag_buf_append_str(out, ",\"topicName\":");
    mag_json_append_string(out, (const char *)name.data, name.len);
    mag_buf_append_str(out, ",\"dataLedgerDetails\":[],\"cursorDetails\":");
    mag_buf_append(out, cursors.data, cursors.len);
    mag_buf_appendf(out, ",\"statGeneratedAt\":%" PRId64 "}", mag_broker_now_ms());
    mag_buf_free(&name);
    mag_buf_free(&cursors);
    return MAG_OK;
}

/* ---- health check -------------------------------------------------------------------------- */

#define HEALTH_KEY "health/check"

mag_rc mag_admin_health_check(mag_broker *b, mag_buf *err)
{
    char val[64];
    int len = snprintf(val, sizeof val, "%" PRId64 "-%" PRIu64, mag_broker_now_ms(),
                       ++b->adm.health_checks);
    mag_store_wtxn *w;
    mag_rc rc = mag_broker_wbegin(b, &w);
    if (rc == MAG_OK) {
        rc = mag_store_meta_put(w, HEALTH_KEY, val, (size_t)len);
        if (rc == MAG_OK)
            rc = mag_store_wcommit(w);
        else
            mag_store_wabort(w);
    }
    if (rc == MAG_OK) {
        mag_store_rtxn *r;
        rc = mag_store_rbegin(b->opts.store, &r);
        if (rc == MAG_OK) {
            const void *got;
            size_t got_len;
            rc = mag_store_meta_get(r, HEALTH_KEY, &got, &got_len);
            if (rc == MAG_OK && (got_len != (size_t)len || memcmp(got, val, got_len) != 0))
                rc = MAG_ERR_STORAGE;
            mag_store_rend(r);
        }
    }
    if (rc != MAG_OK) {
        mag_buf_appendf(err, "Health check failed: %s", mag_strerror(rc));
        mag_warn("health check failed: %s", mag_strerror(rc));
        return MAG_ERR_INTERNAL;
    }
    return MAG_OK;
}
