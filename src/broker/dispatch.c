/* dispatch.c -- move entries from a subscription's cursor to its consumers.
 *
 * Order of service: ids waiting for redelivery first (ascending), then new
 * entries from read_pos. Acked entries are skipped. A consumer receives a
 * message only while it has permits (the proxy's receive requests) and its
 * output is not congested.
 *   Exclusive / Failover: the earliest-connected consumer is the active one
 *     (AbstractDispatcherSingleActiveConsumer, non-partitioned topics); on a
 *     partition, Failover picks by priorityLevel, consumer name and partition index.
 *   Shared: the lowest priorityLevel with an available consumer is served,
 *     round-robin inside that level (PersistentDispatcherMultipleConsumers).
 *   Key_Shared: see key_shared.c.
 * Shared and Key_Shared hold back entries whose deliverAt lies in the future
 * (delayed delivery); Exclusive and Failover deliver them at once, as Pulsar.
 */
#include "broker_internal.h"

#include <string.h>

#include "mag/codec/batch.h"
#include "mag/codec/compress.h"
#include "mag/util/log.h"

/* Largest payload a stored entry may inflate to (a batch of 128 KiB of
   messages compresses well, but never this much). */
#define MAX_INFLATED ((size_t)64 << 20)

/* Messages one subscription may dispatch before the others get a turn. */
#define DISPATCH_BUDGET 256

/* Unacked messages of the subscription's consumers (entries: a batch entry counts once). */
static size_t sub_unacked(const mag_sub *s)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nconsumers; i++)
        n += s->consumers[i]->pending.count;
    return n;
}

/* maxUnackedMessagesPerConsumer / PerSubscription on Shared and Key_Shared:
   a consumer (Consumer.blockedConsumerOnUnackedMsgs) or the whole
   subscription (PersistentDispatcherMultipleConsumers.blockedDispatcherOnUnackMsgs)
   that reached its limit gets nothing until acks (or redeliveries) bring it
   down to half the limit. Set on delivery, cleared here when asked. */
static bool blocked_on_unacked(mag_consumer *c)
{
    mag_sub *s = c->sub;
    const struct mag_broker_opts *o = &s->topic->broker->opts;
    if (c->blocked_on_unacked && c->pending.count <= o->max_unacked_per_consumer / 2)
        c->blocked_on_unacked = false;
    if (s->blocked_on_unacked && sub_unacked(s) <= o->max_unacked_per_subscription / 2)
        s->blocked_on_unacked = false;
    return c->blocked_on_unacked || s->blocked_on_unacked;
}

static void note_unacked(mag_sub *s, mag_consumer *c)
{
    if (s->type != MAG_SUB_SHARED && s->type != MAG_SUB_KEY_SHARED)
        return;
    const struct mag_broker_opts *o = &s->topic->broker->opts;
    if (o->max_unacked_per_consumer && c->pending.count >= o->max_unacked_per_consumer)
        c->blocked_on_unacked = true;
    if (o->max_unacked_per_subscription && sub_unacked(s) >= o->max_unacked_per_subscription)
        s->blocked_on_unacked = true;
}

bool mag_dispatch_available(mag_consumer *c)
{
    return c->flow->permits > 0 && !(c->ev.is_blocked && c->ev.is_blocked(c->ctx)) &&
           !((c->blocked_on_unacked || c->sub->blocked_on_unacked) && blocked_on_unacked(c));
}

/* Failover on a partition (AbstractDispatcherSingleActiveConsumer
   .pickAndScheduleActiveConsumer): consumers of the best (lowest)
   priority level sorted by name; the active one is partition % count. */
static mag_consumer *failover_active(const mag_sub *s)
{
    if (s->topic->partition < 0)
        return s->consumers[0];             /* non-partitioned: earliest connected */
    int32_t best = INT32_MAX;
    for (size_t i = 0; i < s->nconsumers; i++)
        if (s->consumers[i]->priority < best)
            best = s->consumers[i]->priority;
    size_t count = 0;
    for (size_t i = 0; i < s->nconsumers; i++)
        count += s->consumers[i]->priority == best;
    /* The k-th name in sort order, without sorting: count names below each. */
    size_t want = (size_t)s->topic->partition % count;
    for (size_t i = 0; i < s->nconsumers; i++) {
        const mag_consumer *c = s->consumers[i];
        if (c->priority != best)
            continue;
        size_t below = 0;
        for (size_t j = 0; j < s->nconsumers; j++) {
            const mag_consumer *o = s->consumers[j];
            int cmp = strcmp(o->name, c->name);
            if (o->priority == best && (cmp < 0 || (cmp == 0 && j < i)))
                below++;
        }
        if (below == want)
            return s->consumers[i];
    }
    return s->consumers[0];
}

mag_consumer *mag_dispatch_active(const mag_sub *s)
{
    if (s->nconsumers == 0)
        return NULL;
    if (s->type == MAG_SUB_EXCLUSIVE)
        return s->consumers[0];
    if (s->type == MAG_SUB_FAILOVER)
        return failover_active(s);
    return NULL;
}

mag_consumer *mag_dispatch_pick(mag_sub *s)
{
    if (s->nconsumers == 0)
        return NULL;
    if (s->type == MAG_SUB_EXCLUSIVE)
        return mag_dispatch_available(s->consumers[0]) ? s->consumers[0] : NULL;
    if (s->type == MAG_SUB_FAILOVER) {
        mag_consumer *c = failover_active(s);
        return mag_dispatch_available(c) ? c : NULL;
    }

    int32_t best = INT32_MAX;
    for (size_t i = 0; i < s->nconsumers; i++)
        if (s->consumers[i]->priority < best && mag_dispatch_available(s->consumers[i]))
            best = s->consumers[i]->priority;
    if (best == INT32_MAX)
        return NULL;
    /* PersistentDispatcherMultipleConsumers.sendMessagesToConsumers: a consumer
       takes up to dispatcherMaxRoundRobinBatchSize entries of a read before the
       next one's turn. */
    uint32_t batch = s->topic->broker->opts.dispatcher_max_round_robin_batch_size;
    size_t last = (s->rr_next + s->nconsumers - 1) % s->nconsumers;
    if (s->rr_streak > 0 && s->rr_streak < (batch ? batch : 20)) {
        mag_consumer *c = s->consumers[last];
        if (c->priority == best && mag_dispatch_available(c)) {
            s->rr_streak++;
            return c;
        }
    }
    for (size_t k = 0; k < s->nconsumers; k++) {
        size_t i = (s->rr_next + k) % s->nconsumers;
        mag_consumer *c = s->consumers[i];
        if (c->priority == best && mag_dispatch_available(c)) {
            s->rr_next = (i + 1) % s->nconsumers;
            s->rr_streak = 1;
            return c;
        }
    }
    return NULL;
}

/* Next entry id to deliver, or false when nothing is due. */
static bool next_entry(mag_sub *s, uint64_t *id, bool *from_redeliver)
{
    while (s->redeliver.count && mag_sub_is_acked(s, mag_idset_min(&s->redeliver)))
        mag_idset_remove(&s->redeliver, mag_idset_min(&s->redeliver));
    if (s->redeliver.count) {
        *id = mag_idset_min(&s->redeliver);
        *from_redeliver = true;
        return true;
    }
    while (s->read_pos < s->topic->committed_next && mag_sub_is_acked(s, s->read_pos))
        s->read_pos++;
    if (s->read_pos >= s->topic->committed_next)
        return false;
    *id = s->read_pos;
    *from_redeliver = false;
    return true;
}

bool mag_dispatch_defer_delayed(mag_sub *s, uint64_t id, const mag_entry *e)
{
    if (s->type != MAG_SUB_SHARED && s->type != MAG_SUB_KEY_SHARED)
        return false;
    if (e->deliver_at_ms <= 0 || e->deliver_at_ms <= mag_broker_now_ms())
        return false;
    mag_idset_add(&s->delayed, id);
    mag_broker_schedule(s->topic->broker, &s->topic->broker->delayed, e->deliver_at_ms, s->uid, id);
    return true;
}

/* Hand the messages of one entry to c: one call for a plain entry, one per
   not-yet-acked message for a batch entry; payloads decompressed. */
static void emit(mag_sub *s, mag_consumer *c, uint64_t id, const mag_entry *e, int32_t count)
{
    mag_broker *b = s->topic->broker;
    mag_msgid mid;
    mag_msgid_init(&mid, s->topic->rec.id, id);
    mid.partition = s->topic->partition;
    mag_entry view = *e;
    if (e->compression != MAG_COMP_NONE) {
        mag_buf_reset(&b->inflate);
        mag_rc rc = mag_decompress((mag_compression)e->compression, e->payload, e->payload_len,
                                   e->uncompressed_size, MAX_INFLATED, &b->inflate);
        if (rc != MAG_OK) {
            mag_error("dispatch: %s entry %llu does not decompress: %s", s->topic->name,
                      (unsigned long long)id, mag_strerror(rc));
            mag_buf_reset(&b->inflate);
        }
        view.payload = b->inflate.data;
        view.payload_len = b->inflate.len;
        view.compression = MAG_COMP_NONE;
    }
    if (e->batch_size == 0) {
        c->ev.on_message(c->ctx, &mid, &view, count, true, 0);
        return;
    }
    /* First count what is left to send, so `remaining` is exact. */
    uint32_t left = 0;
    for (uint32_t i = 0; i < e->batch_size; i++)
        left += !mag_batch_index_acked(s, id, i);
    mid.batch_size = (int32_t)e->batch_size;
    size_t off = 0;
    bool first = true;
    mag_batch_msg m;
    for (uint32_t i = 0; mag_batch_next(view.payload, view.payload_len, &off, &m) == MAG_OK; i++) {
        if (mag_batch_index_acked(s, id, i))
            continue;
        mag_entry one = view;
        one.batch_size = 0;
        one.properties_json = m.properties_json;
        one.properties_json_len = m.properties_json_len;
        one.has_key = m.has_key;
        one.key = m.key;
        one.key_len = m.key_len;
        one.event_time_ms = m.event_time_ms;
        one.sequence_id = m.sequence_id;
        one.payload = m.payload;
        one.payload_len = m.payload_len;
        mid.batch_index = (int32_t)i;
        c->ev.on_message(c->ctx, &mid, &one, count, first, --left);
        first = false;
    }
}

void mag_dispatch_deliver(mag_sub *s, mag_consumer *c, uint64_t id, const mag_entry *e)
{
    mag_idset_add(&c->pending, id);
    note_unacked(s, c);
    c->flow->permits--;
    c->msg_out_counter++;
    c->bytes_out_counter += e->payload_len;
    s->msg_out_counter++;
    s->bytes_out_counter += e->payload_len;
    if (c->ack_timeout_ms > 0)
        mag_broker_schedule(s->topic->broker, &s->topic->broker->ack_timeouts,
                            mag_broker_now_ms() + c->ack_timeout_ms, c->uid, id);
    int32_t count = (s->type == MAG_SUB_SHARED || s->type == MAG_SUB_KEY_SHARED)
                        ? mag_sub_redelivery_count(s, id) : 0;
    emit(s, c, id, e, count);
}

void mag_dispatch_sub(mag_sub *s, mag_store_rtxn *r)
{
    if (s->type == MAG_SUB_KEY_SHARED) {
        mag_dispatch_key_shared(s, r);
        return;
    }
    mag_topic *t = s->topic;
    s->rr_streak = 0;           /* each run is one read: the next consumer starts it */
    for (unsigned budget = DISPATCH_BUDGET;; budget--) {
        uint64_t id;
        bool from_redeliver;
        if (budget == 0) {
            mag_sub_mark_dispatch(s);   /* let other subscriptions have a turn */
            return;
        }
        if (!next_entry(s, &id, &from_redeliver))
            return;
        mag_consumer *c = mag_dispatch_pick(s);
        if (!c)
            return;
        mag_entry e;
        mag_rc rc = mag_store_entry_get(r, t->rec.id, id, &e);
        if (rc != MAG_OK && rc != MAG_ERR_NOT_FOUND) {
            mag_error("dispatch: cannot read %s entry %llu: %s", t->name,
                      (unsigned long long)id, mag_strerror(rc));
            return;             /* keep the position; retried on the next wake-up */
        }
        if (from_redeliver)
            mag_idset_remove(&s->redeliver, id);
        else
            s->read_pos++;
        if (rc == MAG_ERR_NOT_FOUND)
            continue;           /* trimmed: nothing to deliver */
        if (!from_redeliver && mag_dispatch_defer_delayed(s, id, &e))
            continue;
        mag_dispatch_deliver(s, c, id, &e);
    }
}
