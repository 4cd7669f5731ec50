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
 */
#include "broker_internal.h"

#include "mag/util/log.h"

static bool available(const mag_consumer *c)
{
    return c->permits > 0 && !(c->ev.is_blocked && c->ev.is_blocked(c->ctx));
}

static mag_consumer *pick_consumer(mag_sub *s)
{
    if (s->nconsumers == 0)
        return NULL;
    if (s->type == MAG_SUB_EXCLUSIVE || s->type == MAG_SUB_FAILOVER)
        return available(s->consumers[0]) ? s->consumers[0] : NULL;

    int32_t best = INT32_MAX;
    for (size_t i = 0; i < s->nconsumers; i++)
        if (s->consumers[i]->priority < best && available(s->consumers[i]))
            best = s->consumers[i]->priority;
    if (best == INT32_MAX)
        return NULL;
    for (size_t k = 0; k < s->nconsumers; k++) {
        size_t i = (s->rr_next + k) % s->nconsumers;
        mag_consumer *c = s->consumers[i];
        if (c->priority == best && available(c)) {
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

void mag_dispatch_sub(mag_sub *s, mag_store_rtxn *r)
{
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
        mag_idset_add(&c->pending, id);
        c->permits--;
        c->msg_out_counter++;
        c->bytes_out_counter += e.payload_len;
        s->msg_out_counter++;
        s->bytes_out_counter += e.payload_len;
        mag_msgid mid;
        mag_msgid_init(&mid, t->rec.id, id);
        mid.partition = t->partition;
        c->ev.on_message(c->ctx, &mid, &e, 0);
    }
}
