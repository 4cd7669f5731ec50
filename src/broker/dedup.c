/* dedup.c -- message deduplication by (producerName, sequenceId) (issue #7).
 *
 * When deduplication is on for a topic's namespace (or brokerDeduplicationEnabled),
 * the broker remembers, per producer name, the highest sequence id it has
 * accepted, and for every stored message the id it got. A message whose
 * sequence id is not above that highest one is a duplicate: it is not stored
 * again, and its receipt carries the id of the stored original (Pulsar's
 * MessageDeduplication; -1:-1 when the original is unknown, e.g. still in
 * flight). Both facts live in LMDB's meta table and are written by the same
 * group commit as the messages, so they survive restarts and kill -9:
 *   "dedup/<topic id>/<producer>"             -> highest sequence id (i64 BE)
 *   "dedup/<topic id>/<producer>/<seq>"       -> entry id (u64 BE), batch index
 *                                                and batch size (i32 BE each)
 */
#include "broker_internal.h"

#include "mag/util/bytes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/broker/admin.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

#define KEY_MAX 512

static int make_key(char *out, uint64_t topic_id, const char *producer, size_t plen, bool with_seq,
                    int64_t seq)
{
    int n = with_seq ? snprintf(out, KEY_MAX, "dedup/%" PRIu64 "/%.*s/%020" PRId64, topic_id,
                                (int)plen, producer, seq)
                     : snprintf(out, KEY_MAX, "dedup/%" PRIu64 "/%.*s", topic_id, (int)plen, producer);
    return (n > 0 && n < KEY_MAX) ? n : -1;
}

bool mag_dedup_enabled(mag_topic *t)
{
    if (t->non_persistent)
        return false;
    const struct mag_ns_policy *p = mag_admin_topic_policy(t);
    if (p && p->has_deduplication)
        return p->deduplication;
    return t->broker->opts.deduplication_enabled;
}

/* Highest sequence id accepted for producer p (loaded once from the store). */
static int64_t *highest_of(mag_producer *p)
{
    if (p->dedup_loaded)
        return &p->dedup_highest;
    p->dedup_loaded = true;
    p->dedup_highest = -1;
    mag_topic *t = p->topic;
    int64_t *known = mag_strmap_get(&t->dedup_highest, p->name, strlen(p->name));
    if (known) {
        p->dedup_highest = *known;
        return &p->dedup_highest;
    }
    char key[KEY_MAX];
    mag_store_rtxn *r;
    if (make_key(key, t->rec.id, p->name, strlen(p->name), false, 0) > 0 &&
        mag_store_rbegin(t->broker->opts.store, &r) == MAG_OK) {
        const void *val;
        size_t len;
        if (mag_store_meta_get(r, key, &val, &len) == MAG_OK && len == 8)
            p->dedup_highest = (int64_t)mag_get_be64(val);
        mag_store_rend(r);
    }
    return &p->dedup_highest;
}

void mag_dedup_continue(mag_producer *p)
{
    if (!mag_dedup_enabled(p->topic))
        return;
    int64_t *highest = highest_of(p);
    if (*highest + 1 > p->next_sequence_id)
        p->next_sequence_id = *highest + 1;
}

bool mag_dedup_check(mag_producer *p, int64_t seq, uint64_t token)
{
    mag_topic *t = p->topic;
    if (!mag_dedup_enabled(t))
        return false;
    int64_t *highest = highest_of(p);
    if (seq > *highest) {
        *highest = seq;
        return false;
    }
    /* Duplicate: answer with the original's id when it is stored. */
    mag_msgid id;
    mag_msgid_init(&id, (uint64_t)-1, (uint64_t)-1);
    char key[KEY_MAX];
    mag_store_rtxn *r;
    if (make_key(key, t->rec.id, p->name, strlen(p->name), true, seq) > 0 &&
        mag_store_rbegin(t->broker->opts.store, &r) == MAG_OK) {
        const void *val;
        size_t len;
        if (mag_store_meta_get(r, key, &val, &len) == MAG_OK && len == 16) {
            const uint8_t *v = val;
            mag_msgid_init(&id, t->rec.id, mag_get_be64(v));
            int32_t index = (int32_t)(mag_get_be64(v + 8) >> 32);
            int32_t size = (int32_t)(mag_get_be64(v + 8) & 0xFFFFFFFFu);
            if (size > 0) {
                id.batch_index = index;
                id.batch_size = size;
            }
        }
        mag_store_rend(r);
    }
    id.partition = t->partition;
    mag_info("duplicate of %s sequence %" PRId64 " on %s not stored", p->name, seq, t->name);
    p->ev.on_result(p->ctx, token, MAG_OK, &id);
    return true;
}

/* The producer and sequence ids of a staged entry; false if it has none. */
static bool staged_sequence(const mag_staged *st, const uint8_t *encoded, mag_entry *e)
{
    return mag_entry_decode(encoded, st->len, e) == MAG_OK && e->producer_name_len > 0 &&
           e->sequence_id >= 0;
}

mag_rc mag_dedup_record(mag_store_wtxn *w, const mag_staged *st, const uint8_t *encoded)
{
    mag_entry e;
    if (!staged_sequence(st, encoded, &e))
        return MAG_OK;
    uint32_t n = st->batch_count ? st->batch_count : 1;
    int64_t last = e.sequence_id + (int64_t)n - 1;
    char key[KEY_MAX];
    uint8_t val[16];
    for (uint32_t i = 0; i < n; i++) {
        if (make_key(key, st->topic_id, e.producer_name, e.producer_name_len, true,
                     e.sequence_id + (int64_t)i) < 0)
            return MAG_OK;      /* absurdly long name: not deduplicated */
        mag_put_be64(val, st->entry_id);
        mag_put_be64(val + 8, st->batch_count ? ((uint64_t)i << 32 | st->batch_count) : 0);
        mag_rc rc = mag_store_meta_put(w, key, val, sizeof val);
        if (rc != MAG_OK)
            return rc;
    }
    make_key(key, st->topic_id, e.producer_name, e.producer_name_len, false, 0);
    mag_put_be64(val, (uint64_t)last);
    return mag_store_meta_put(w, key, val, 8);
}

void mag_dedup_remember(const mag_staged *st, const uint8_t *encoded)
{
    mag_entry e;
    if (!staged_sequence(st, encoded, &e))
        return;
    /* For producers that reconnect under the same name. */
    mag_topic *t = st->topic;
    int64_t *known = mag_strmap_get(&t->dedup_highest, e.producer_name, e.producer_name_len);
    if (!known) {
        known = mag_xmalloc(sizeof *known);
        mag_strmap_put(&t->dedup_highest, e.producer_name, e.producer_name_len, known);
    }
    *known = e.sequence_id + (int64_t)(st->batch_count ? st->batch_count : 1) - 1;
}

void mag_dedup_forget_topic(mag_topic *t)
{
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&t->dedup_highest, &it, &slot))
        free(slot->value);
    mag_strmap_cleanup(&t->dedup_highest);
}
