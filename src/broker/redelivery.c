/* redelivery.c -- timed redelivery: ack timeouts, negative acks, delayed
 * delivery, and dead-letter moves; the loop's one timer also closes producer
 * batches whose batchingMaxPublishDelay is over (batching.c).
 *
 * Each kind keeps its deadlines in one heap (deadlines.h); the event loop
 * runs mag_broker_tick() from a single timer armed at the earliest deadline.
 *
 * Redelivery follows what Pulsar's Java client asks the broker for:
 *   Shared / Key_Shared: exactly the expired message comes back, and its
 *     redeliveryCount (kept in memory, like Pulsar's broker) goes up by one;
 *   Exclusive / Failover: every unacked message of the consumer comes back
 *     (a cursor rewind) and the count stays 0.
 * A deadline whose delivery was taken back by a rewind, or whose ack timer a
 * negative ack cancelled, is skipped when it pops (the client's unacked
 * tracker forgets those messages too); their redeliveries get timers anew.
 * With a dead-letter policy, a message whose count would pass
 * maxRedeliverCount is instead written to the dead-letter topic and acked on
 * its subscription IN THE SAME group-commit transaction, so a crash can never
 * leave it lost or in both places. If that commit fails, the ack is undone.
 */
#include "broker_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/codec/pulsar_json.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

int64_t mag_broker_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- uid-keyed maps (strmap with the 8 raw bytes of the uid as key) ---- */

void mag_uidmap_put(mag_strmap *m, uint64_t uid, void *p)
{
    mag_strmap_put(m, (const char *)&uid, sizeof uid, p);
}

void *mag_uidmap_get(const mag_strmap *m, uint64_t uid)
{
    return mag_strmap_get(m, (const char *)&uid, sizeof uid);
}

void mag_uidmap_remove(mag_strmap *m, uint64_t uid)
{
    mag_strmap_remove(m, (const char *)&uid, sizeof uid);
}

int32_t mag_sub_redelivery_count(const mag_sub *s, uint64_t entry)
{
    return (int32_t)(uintptr_t)mag_uidmap_get(&s->redelivery_counts, entry);
}

void mag_sub_forget_redelivery_count(mag_sub *s, uint64_t entry)
{
    if (s->redelivery_counts.count)
        mag_uidmap_remove(&s->redelivery_counts, entry);
}

void mag_broker_schedule(mag_broker *b, mag_deadline_heap *h, int64_t at_ms, uint64_t owner,
                         uint64_t entry)
{
    mag_deadlines_push(h, at_ms, owner, entry);
    if (b->timer_at == 0 || at_ms < b->timer_at) {
        b->timer_at = at_ms;
        if (b->opts.set_timer)
            b->opts.set_timer(b->opts.hook_ctx, at_ms);
    }
}

/* ---- acks undone ---- */

void mag_sub_unack(mag_sub *s, uint64_t entry)
{
    if ((int64_t)entry > s->mark_delete) {
        mag_idset_remove(&s->acked, entry);
    } else {
        for (int64_t id = (int64_t)entry + 1; id <= s->mark_delete; id++)
            mag_idset_add(&s->acked, (uint64_t)id);
        s->mark_delete = (int64_t)entry - 1;
    }
    mag_sub_mark_cursor_dirty(s);
}

/* ---- dead letters ---- */

/* Properties of the dead-lettered copy: the original ones plus REAL_TOPIC and
   ORIGIN_MESSAGE_ID ("ledger:entry:partition", MessageIdImpl.toString()). */
static void dead_letter_properties(mag_buf *out, const mag_sub *s, uint64_t entry,
                                   const mag_entry *e)
{
    const char *props = e->properties_json;
    size_t len = e->properties_json_len;
    bool empty = true;
    if (len >= 2 && props[0] == '{') {
        for (size_t i = 1; i + 1 < len; i++)
            if (props[i] != ' ')
                empty = false;
    }
    if (len >= 2 && !empty) {
        mag_buf_append(out, props, len - 1);    /* drop the closing brace */
        mag_buf_append_byte(out, ',');
    } else {
        mag_buf_append_byte(out, '{');
    }
    mag_buf_append_str(out, "\"REAL_TOPIC\":");
    mag_json_append_string(out, s->topic->name, s->topic->name_len);
    char origin[96];
    int n = snprintf(origin, sizeof origin, "%" PRIu64 ":%" PRIu64 ":%d", s->topic->rec.id, entry,
                     (int)s->topic->partition);
    mag_buf_append_str(out, ",\"ORIGIN_MESSAGE_ID\":");
    mag_json_append_string(out, origin, (size_t)n);
    /* The 2.10 Java client spelt the key ORIGIN_MESSAGE_IDY_TIME; later clients
       write both, so do we. */
    mag_buf_append_str(out, ",\"ORIGIN_MESSAGE_IDY_TIME\":");
    mag_json_append_string(out, origin, (size_t)n);
    mag_buf_append_byte(out, '}');
}

/* Stage the copy on the dead-letter topic and ack the original. False if the
   move cannot be made (then the message is redelivered normally). */
static bool dead_letter(mag_consumer *c, uint64_t entry)
{
    mag_sub *s = c->sub;
    mag_broker *b = s->topic->broker;
    mag_topic_name tn;
    const char *name = c->dead_letter_topic;
    if (mag_topic_name_parse(name, strlen(name), &tn) != MAG_OK)
        return false;
    mag_buf err = MAG_BUF_INIT, props = MAG_BUF_INIT;
    mag_topic *dlq;
    bool moved = false;
    if (mag_broker_topic_open(b, &tn, &dlq, &err) != MAG_OK) {
        mag_warn("dead-letter topic %s unavailable: %.*s", name, (int)err.len, (const char *)err.data);
        goto out;
    }
    mag_store_rtxn *r;
    if (mag_store_rbegin(b->opts.store, &r) != MAG_OK)
        goto out;
    mag_entry e;
    if (mag_store_entry_get(r, s->topic->rec.id, entry, &e) == MAG_OK) {
        dead_letter_properties(&props, s, entry, &e);
        mag_entry copy = e;
        copy.properties_json = (const char *)props.data;
        copy.properties_json_len = props.len;
        copy.deliver_at_ms = 0;
        copy.producer_name = NULL;
        copy.producer_name_len = 0;
        mag_staged *st = mag_broker_stage(b, dlq, NULL, &copy, 0);
        st->dlq_sub_uid = s->uid;
        st->dlq_entry = entry;
        moved = true;
    }
    mag_store_rend(r);
    if (moved) {
        mag_sub_ack_entry(s, entry);
        mag_info("dead-lettered %s entry %" PRIu64 " of subscription %s to %s", s->topic->name,
                 entry, s->name, name);
    }
out:
    mag_buf_free(&err);
    mag_buf_free(&props);
    return moved;
}

void mag_broker_dead_letter_failed(mag_broker *b, const mag_staged *st)
{
    mag_sub *s = mag_uidmap_get(&b->subs_by_uid, st->dlq_sub_uid);
    if (!s)
        return;
    mag_sub_unack(s, st->dlq_entry);
    mag_idset_add(&s->redeliver, st->dlq_entry);
    mag_sub_mark_dispatch(s);
}

/* ---- redelivery ---- */

void mag_redeliver(mag_consumer *c, uint64_t entry)
{
    mag_sub *s = c->sub;
    if (s->type == MAG_SUB_SHARED || s->type == MAG_SUB_KEY_SHARED) {
        mag_idset_remove(&c->pending, entry);
        mag_idset_remove(&c->nacked, entry);
        int32_t count = mag_sub_redelivery_count(s, entry) + 1;
        mag_uidmap_put(&s->redelivery_counts, entry, (void *)(uintptr_t)count);
        if (c->max_redeliver_count > 0 && count > c->max_redeliver_count && dead_letter(c, entry)) {
            mag_sub_forget_redelivery_count(s, entry);
            return;
        }
        if (!mag_sub_is_acked(s, entry))
            mag_idset_add(&s->redeliver, entry);
    } else {
        for (size_t i = 0; i < c->pending.count; i++)
            if (!mag_sub_is_acked(s, c->pending.ids[i]))
                mag_idset_add(&s->redeliver, c->pending.ids[i]);
        mag_idset_clear(&c->pending);
        mag_idset_clear(&c->nacked);
        /* The timers of what was just taken back must not fire for the
           deliveries that follow (they get timers of their own). */
        mag_broker *b = s->topic->broker;
        c->ack_deadlines_from = b->ack_timeouts.next_seq;
        c->nack_deadlines_from = b->nack_delays.next_seq;
    }
    mag_sub_mark_dispatch(s);
}

void mag_consumer_nack(mag_consumer *c, const mag_msgid *id)
{
    mag_sub *s = c->sub;
    if (id->ledger != s->topic->rec.id || !mag_idset_contains(&c->pending, id->entry))
        return;
    if (!mag_idset_add(&c->nacked, id->entry))
        return;
    if (c->ack_timeout_ms > 0) {
        /* The ack timer of this delivery is off (ConsumerImpl.negativeAcknowledge
           removes the message from its unacked tracker); a redelivery gets its own. */
        uintptr_t n = (uintptr_t)mag_uidmap_get(&c->cancelled_acks, id->entry);
        mag_uidmap_put(&c->cancelled_acks, id->entry, (void *)(n + 1));
    }
    mag_broker_schedule(s->topic->broker, &s->topic->broker->nack_delays,
                        mag_broker_now_ms() + c->nack_delay_ms, c->uid, id->entry);
}

/* An ack timer popped for entry: true (and counted off) when a negative ack
   cancelled it. A nacked entry's timer is always cancelled, and the cancelled
   timers of an entry are its oldest, so they pop first. */
static bool ack_timer_cancelled(mag_consumer *c, uint64_t entry)
{
    if (c->cancelled_acks.count == 0)
        return false;
    uintptr_t n = (uintptr_t)mag_uidmap_get(&c->cancelled_acks, entry);
    if (n == 0)
        return false;
    if (n == 1)
        mag_uidmap_remove(&c->cancelled_acks, entry);
    else
        mag_uidmap_put(&c->cancelled_acks, entry, (void *)(n - 1));
    return true;
}

static int64_t next_deadline(const mag_broker *b)
{
    const mag_deadline_heap *heaps[] = { &b->ack_timeouts, &b->nack_delays, &b->delayed,
                                         &b->batch_delays };
    int64_t next = b->cursor_flush_at > 0 ? b->cursor_flush_at : -1;
    for (size_t i = 0; i < sizeof heaps / sizeof heaps[0]; i++) {
        const mag_deadline *d = mag_deadlines_peek(heaps[i]);
        if (d && (next < 0 || d->at_ms < next))
            next = d->at_ms;
    }
    return next;
}

int64_t mag_broker_tick(mag_broker *b, int64_t now_ms)
{
    mag_deadline d;
    const mag_deadline *top;
    while ((top = mag_deadlines_peek(&b->ack_timeouts)) && top->at_ms <= now_ms) {
        mag_deadlines_pop(&b->ack_timeouts, &d);
        mag_consumer *c = mag_uidmap_get(&b->consumers_by_uid, d.owner);
        if (!c || ack_timer_cancelled(c, d.entry) || d.seq < c->ack_deadlines_from)
            continue;           /* cancelled by a negative ack, or taken back by a rewind */
        if (mag_idset_contains(&c->pending, d.entry))
            mag_redeliver(c, d.entry);
    }
    while ((top = mag_deadlines_peek(&b->nack_delays)) && top->at_ms <= now_ms) {
        mag_deadlines_pop(&b->nack_delays, &d);
        mag_consumer *c = mag_uidmap_get(&b->consumers_by_uid, d.owner);
        if (c && d.seq >= c->nack_deadlines_from && mag_idset_contains(&c->nacked, d.entry) &&
            mag_idset_contains(&c->pending, d.entry))
            mag_redeliver(c, d.entry);
    }
    while ((top = mag_deadlines_peek(&b->delayed)) && top->at_ms <= now_ms) {
        mag_deadlines_pop(&b->delayed, &d);
        mag_sub *s = mag_uidmap_get(&b->subs_by_uid, d.owner);
        if (s && mag_idset_remove(&s->delayed, d.entry) && !mag_sub_is_acked(s, d.entry)) {
            mag_idset_add(&s->redeliver, d.entry);
            mag_sub_mark_dispatch(s);
        }
    }
    while ((top = mag_deadlines_peek(&b->batch_delays)) && top->at_ms <= now_ms) {
        mag_deadlines_pop(&b->batch_delays, &d);
        mag_producer *p = mag_uidmap_get(&b->producers_by_uid, d.owner);
        if (p)
            mag_batch_deadline(p, now_ms);      /* batchingMaxPublishDelay is over */
    }
    mag_broker_run(b);
    int64_t next = next_deadline(b);
    b->timer_at = next > 0 ? next : 0;
    return next;
}
