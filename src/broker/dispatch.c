/* dispatch.c -- move entries from a subscription's cursor to its consumers.
 *
 * Order of service: ids waiting for redelivery first (ascending), then new
 * entries from read_pos. Acked entries are skipped. A consumer receives a
 * message only while it has permits (spec §6 flow control) and its output
 * is not congested.
 *   Exclusive / Failover: the earliest-connected consumer is the active one
 *     (spec §8.2, non-partitioned topics).
 *   Shared: the lowest priorityLevel with an available consumer is served,
 *     round-robin inside that level (spec §8.3).
 *   Key_Shared: see key_shared.c.
 * Shared and Key_Shared hold back entries whose deliverAt lies in the future
 * (delayed delivery); Exclusive and Failover deliver them at once, as Pulsar.
 */
#include "broker_internal.h"

#include "mag/util/log.h"

bool mag_dispatch_available(const mag_consumer *c)
{
    return c->permits > 0 && !(c->ev.is_blocked && c->ev.is_blocked(c->ctx));
}

static mag_consumer *pick_consumer(mag_sub *s)
{
    if (s->nconsumers == 0)
        return NULL;
    if (s->type == MAG_SUB_EXCLUSIVE || s->type == MAG_SUB_FAILOVER)
        return mag_dispatch_available(s->consumers[0]) ? s->consumers[0] : NULL;

    int32_t best = INT32_MAX;
    for (size_t i = 0; i < s->nconsumers; i++)
        if (s->consumers[i]->priority < best && mag_dispatch_available(s->consumers[i]))
            best = s->consumers[i]->priority;
    if (best == INT32_MAX)
        return NULL;
    for (size_t k = 0; k < s->nconsumers; k++) {
        size_t i = (s->rr_next + k) % s->nconsumers;
        mag_consumer *c = s->consumers[i];
        if (c->priority == best && mag_dispatch_available(c)) {
            s->rr_next = (i + 1) % s->nconsumers;
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

void mag_dispatch_deliver(mag_sub *s, mag_consumer *c, uint64_t id, const mag_entry *e)
{
    mag_idset_add(&c->pending, id);
    c->permits--;
    c->msg_out_counter++;
    c->bytes_out_counter += e->payload_len;
    s->msg_out_counter++;
    s->bytes_out_counter += e->payload_len;
    if (c->ack_timeout_ms > 0)
        mag_broker_schedule(s->topic->broker, &s->topic->broker->ack_timeouts,
                            mag_broker_now_ms() + c->ack_timeout_ms, c->uid, id);
    int32_t count = (s->type == MAG_SUB_SHARED || s->type == MAG_SUB_KEY_SHARED)
                        ? mag_sub_redelivery_count(s, id) : 0;
    mag_msgid mid;
    mag_msgid_init(&mid, s->topic->rec.id, id);
    mid.partition = s->topic->partition;
    c->ev.on_message(c->ctx, &mid, e, count);
}

void mag_dispatch_sub(mag_sub *s, mag_store_rtxn *r)
{
    if (s->type == MAG_SUB_KEY_SHARED) {
        mag_dispatch_key_shared(s, r);
        return;
    }
    mag_topic *t = s->topic;
    for (;;) {
        uint64_t id;
        bool from_redeliver;
        if (!next_entry(s, &id, &from_redeliver))
            return;
        mag_consumer *c = pick_consumer(s);
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
