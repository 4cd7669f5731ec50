/* key_shared.c -- Key_Shared dispatch (ConsistentHashingStickyKeyConsumerSelector,
 * Pulsar 2.10 defaults).
 *
 * Sticky key = the message key, or the bytes "NONE_KEY" for key-less
 * messages. Its hash, Murmur3_x86_32(seed 0) & 0x7FFFFFFF, is looked up on a
 * consistent-hash ring holding `replica points` per consumer at
 * Murmur3(consumerName + i) & 0x7FFFFFFF: the first point >= hash (wrapping),
 * and among points with that same hash (sorted by consumer name) the one at
 * hash % count.
 *
 * Ordering: a message whose consumer cannot take it now waits in the
 * redelivery set, and every later message for that consumer waits behind it
 * in the same pass, so per-key order holds. A consumer that joins a
 * subscription which already has consumers is "recently joined": it only
 * gets entries older than the read position at its join until everything
 * before that position is acked, so it never sees a key's newer messages
 * while the key's older ones are in flight elsewhere.
 */
#include "broker_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/util/alloc.h"
#include "mag/util/hash.h"
#include "mag/util/log.h"

#define NONE_KEY "NONE_KEY"
/* How many new entries one pass may push aside for busy consumers. */
#define KS_READ_AHEAD 1000

static int point_cmp(const void *a, const void *b)
{
    const struct mag_ks_point *pa = a, *pb = b;
    if (pa->hash != pb->hash)
        return pa->hash < pb->hash ? -1 : 1;
    return strcmp(pa->consumer->name, pb->consumer->name);
}

void mag_ks_rebuild_ring(mag_sub *s)
{
    free(s->ring);
    s->ring = NULL;
    s->ring_len = 0;
    if (s->type != MAG_SUB_KEY_SHARED || s->nconsumers == 0)
        return;
    size_t points = s->topic->broker->opts.key_shared_replica_points;
    if (points == 0)
        points = 100;
    s->ring = mag_xmalloc(s->nconsumers * points * sizeof *s->ring);
    for (size_t i = 0; i < s->nconsumers; i++) {
        mag_consumer *c = s->consumers[i];
        size_t name_len = strlen(c->name);
        char *buf = mag_xmalloc(name_len + 24);
        memcpy(buf, c->name, name_len);
        for (size_t k = 0; k < points; k++) {
            int n = snprintf(buf + name_len, 24, "%zu", k);
            s->ring[s->ring_len].hash = mag_murmur3_32(buf, name_len + (size_t)n, 0) & 0x7FFFFFFFu;
            s->ring[s->ring_len].consumer = c;
            s->ring_len++;
        }
        free(buf);
    }
    qsort(s->ring, s->ring_len, sizeof *s->ring, point_cmp);
}

mag_consumer *mag_ks_select(const mag_sub *s, const mag_entry *e)
{
    if (s->ring_len == 0)
        return NULL;
    const void *key = e->has_key ? (const void *)e->key : NONE_KEY;
    size_t key_len = e->has_key ? e->key_len : strlen(NONE_KEY);
    uint32_t h = mag_murmur3_32(key, key_len, 0) & 0x7FFFFFFFu;
    size_t lo = 0, hi = s->ring_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ring[mid].hash < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == s->ring_len)
        lo = 0;
    size_t run = 1;
    while (lo + run < s->ring_len && s->ring[lo + run].hash == s->ring[lo].hash)
        run++;
    return s->ring[lo + h % run].consumer;
}

/* May c take entry id right now (permits, congestion, join restriction)? */
static bool can_take(mag_consumer *c, uint64_t id, const bool *skipped, size_t idx)
{
    if (skipped[idx] || !mag_dispatch_available(c))
        return false;
    return !(c->recently_joined && id >= c->join_read_pos);
}

static size_t index_of(const mag_sub *s, const mag_consumer *c)
{
    for (size_t i = 0; i < s->nconsumers; i++)
        if (s->consumers[i] == c)
            return i;
    return 0;
}

static bool any_open(const mag_sub *s, const bool *skipped)
{
    for (size_t i = 0; i < s->nconsumers; i++)
        if (!skipped[i] && mag_dispatch_available(s->consumers[i]))
            return true;
    return false;
}

static bool any_open_now(const mag_sub *s)
{
    for (size_t i = 0; i < s->nconsumers; i++)
        if (mag_dispatch_available(s->consumers[i]))
            return true;
    return false;
}

void mag_dispatch_key_shared(mag_sub *s, mag_store_rtxn *r)
{
    mag_topic *t = s->topic;
    if (s->nconsumers == 0)
        return;
    for (size_t i = 0; i < s->nconsumers; i++) {
        mag_consumer *c = s->consumers[i];
        if (c->recently_joined && (int64_t)c->join_read_pos <= s->mark_delete + 1)
            c->recently_joined = false;
    }
    /* skipped[i]: consumer i already had to leave a message waiting this pass. */
    bool *skipped = mag_xcalloc(s->nconsumers, sizeof *skipped);
    size_t nconsumers = s->nconsumers;
    size_t delivered = 0;

    /* Pass 1: messages waiting for redelivery, oldest first. */
    size_t n = s->redeliver.count;
    uint64_t *ids = mag_xmalloc((n ? n : 1) * sizeof *ids);
    if (n)
        memcpy(ids, s->redeliver.ids, n * sizeof *ids);
    for (size_t k = 0; k < n && s->nconsumers == nconsumers && any_open(s, skipped); k++) {
        uint64_t id = ids[k];
        if (mag_sub_is_acked(s, id)) {
            mag_idset_remove(&s->redeliver, id);
            continue;
        }
        mag_entry e;
        mag_rc rc = mag_store_entry_get(r, t->rec.id, id, &e);
        if (rc == MAG_ERR_NOT_FOUND) {
            mag_idset_remove(&s->redeliver, id);
            continue;
        }
        if (rc != MAG_OK)
            break;
        mag_consumer *c = mag_ks_select(s, &e);
        size_t idx = index_of(s, c);
        if (!c || !can_take(c, id, skipped, idx)) {
            if (c)
                skipped[idx] = true;
            continue;
        }
        mag_idset_remove(&s->redeliver, id);
        mag_dispatch_deliver(s, c, id, &e);
        delivered++;
    }
    free(ids);

    /* Pass 2: new entries; those whose consumer is busy wait in redeliver. */
    for (size_t budget = KS_READ_AHEAD; budget > 0 && s->read_pos < t->committed_next &&
                                        s->nconsumers == nconsumers && any_open(s, skipped);) {
        uint64_t id = s->read_pos;
        if (mag_sub_is_acked(s, id)) {
            s->read_pos++;
            continue;
        }
        mag_entry e;
        mag_rc rc = mag_store_entry_get(r, t->rec.id, id, &e);
        if (rc != MAG_OK && rc != MAG_ERR_NOT_FOUND) {
            mag_error("dispatch: cannot read %s entry %llu: %s", t->name, (unsigned long long)id,
                      mag_strerror(rc));
            break;
        }
        s->read_pos++;
        if (rc == MAG_ERR_NOT_FOUND || mag_dispatch_defer_delayed(s, id, &e))
            continue;
        mag_consumer *c = mag_ks_select(s, &e);
        size_t idx = index_of(s, c);
        if (c && can_take(c, id, skipped, idx)) {
            mag_dispatch_deliver(s, c, id, &e);
            delivered++;
        } else {
            mag_idset_add(&s->redeliver, id);
            if (c)
                skipped[idx] = true;
            budget--;
        }
    }
    free(skipped);
    if (delivered && s->read_pos < t->committed_next && any_open_now(s))
        mag_sub_mark_dispatch(s);   /* read-ahead budget spent: continue next turn */
}
