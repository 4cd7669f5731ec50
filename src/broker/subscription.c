/* subscription.c -- subscriptions, consumers and acknowledgements.
 *
 * A subscription is a cursor over its topic's entries: everything up to
 * mark_delete is acked, individually acked ids above it sit in `acked`, and
 * read_pos is the first entry never dispatched. Messages a consumer held
 * unacked return to `redeliver` when it leaves, so the next consumer gets
 * them first (in id order, which keeps Exclusive/Failover ordered).
 *
 * Durable cursors are persisted by the group commit (mark_cursor_dirty);
 * creating and deleting a durable subscription is committed synchronously.
 */
#include "broker_internal.h"
#include "mag/util/bytes.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

mag_sub *mag_sub_new(mag_topic *t, const char *name, mag_sub_type type, bool durable,
                     int64_t mark_delete)
{
    mag_sub *s = mag_xcalloc(1, sizeof *s);
    s->topic = t;
    s->name = mag_xstrdup(name);
    s->type = type;
    s->durable = durable;
    s->mark_delete = mark_delete;
    s->read_pos = (uint64_t)(mark_delete + 1);
    mag_idset_init(&s->acked);
    mag_idset_init(&s->redeliver);
    mag_idset_init(&s->delayed);
    mag_strmap_init(&s->redelivery_counts);
    mag_strmap_init(&s->batch_acks);
    s->uid = t->broker->next_uid++;
    mag_uidmap_put(&t->broker->subs_by_uid, s->uid, s);
    mag_strmap_put(&t->subs, s->name, strlen(s->name), s);
    return s;
}

/* Unlink from the topic and the broker's work lists, then free. */
void mag_sub_free(mag_sub *s)
{
    mag_broker *b = s->topic->broker;
    if (s->cursor_dirty)
        mag_ptrs_remove((void **)b->dirty_cursors, &b->ndirty, s);
    if (s->dispatch_listed)
        mag_ptrs_remove((void **)b->dispatch_subs, &b->ndispatch, s);
    mag_uidmap_remove(&b->subs_by_uid, s->uid);
    mag_idset_cleanup(&s->acked);
    mag_idset_cleanup(&s->redeliver);
    mag_idset_cleanup(&s->delayed);
    mag_strmap_cleanup(&s->redelivery_counts);
    mag_batch_forget_all(s);
    free(s->ring);
    free(s->consumers);
    free(s->name);
    free(s);
}

static void sub_destroy(mag_sub *s)
{
    mag_strmap_remove(&s->topic->subs, s->name, strlen(s->name));
    mag_sub_free(s);
}

void mag_sub_mark_dispatch(mag_sub *s)
{
    if (s->dispatch_listed)
        return;
    mag_broker *b = s->topic->broker;
    s->dispatch_listed = true;
    mag_ptrs_push((void ***)&b->dispatch_subs, &b->ndispatch, &b->cap_dispatch, s);
    mag_broker_wake(b);
}

void mag_sub_mark_cursor_dirty(mag_sub *s)
{
    if (!s->durable || s->cursor_dirty)
        return;
    mag_broker *b = s->topic->broker;
    s->cursor_dirty = true;
    mag_ptrs_push((void ***)&b->dirty_cursors, &b->ndirty, &b->cap_dirty, s);
    mag_broker_wake(b);
}

bool mag_sub_is_acked(const mag_sub *s, uint64_t entry_id)
{
    return (int64_t)entry_id <= s->mark_delete || mag_idset_contains(&s->acked, entry_id);
}

void mag_sub_cursor_rec(const mag_sub *s, mag_cursor_rec *rec, uint64_t **ranges_out)
{
    /* Compress the individually acked ids into inclusive ranges. */
    uint64_t *ranges = mag_xmalloc(2 * (s->acked.count + 1) * sizeof *ranges);
    size_t n = 0;
    for (size_t i = 0; i < s->acked.count; i++) {
        uint64_t id = s->acked.ids[i];
        if (n && ranges[2 * (n - 1) + 1] + 1 == id) {
            ranges[2 * (n - 1) + 1] = id;
        } else {
            ranges[2 * n] = id;
            ranges[2 * n + 1] = id;
            n++;
        }
    }
    memset(rec, 0, sizeof *rec);
    rec->sub_type = (uint8_t)s->type;
    rec->mark_delete = s->mark_delete;
    rec->ranges = ranges;
    rec->nranges = n;
    *ranges_out = ranges;
}

/* Write a new or deleted cursor right away, in its own transaction. */
static mag_rc cursor_write_now(mag_sub *s, bool delete)
{
    mag_broker *b = s->topic->broker;
    mag_store_wtxn *w;
    mag_rc rc = mag_broker_wbegin(b, &w);
    if (rc != MAG_OK)
        return rc;
    if (delete) {
        rc = mag_store_cursor_delete(w, s->topic->rec.id, s->name, strlen(s->name));
        if (rc == MAG_ERR_NOT_FOUND)
            rc = MAG_OK;
    } else {
        mag_cursor_rec rec;
        uint64_t *ranges;
        mag_sub_cursor_rec(s, &rec, &ranges);
        rc = mag_store_cursor_put(w, s->topic->rec.id, s->name, strlen(s->name), &rec);
        free(ranges);
    }
    if (rc != MAG_OK) {
        mag_store_wabort(w);
        return rc;
    }
    /* A new cursor needs only half the syncs: what later relies on it is
       acknowledged after a fully synced commit (store.h). */
    return delete ? mag_store_wcommit(w) : mag_store_wcommit_lazy_meta(w);
}

/* Where a new subscription's cursor starts (ConsumerHandler, ReaderHandler). */
static int64_t initial_mark_delete(mag_topic *t, const struct mag_consumer_opts *o)
{
    int64_t latest = (int64_t)t->committed_next - 1;
    switch (o->start) {
    case MAG_START_LATEST:
        return latest;
    case MAG_START_EARLIEST: {
        mag_store_rtxn *r;
        uint64_t first = 0, last = 0;
        if (mag_store_rbegin(t->broker->opts.store, &r) == MAG_OK) {
            if (mag_store_entry_bounds(r, t->rec.id, &first, &last) != MAG_OK)
                first = t->committed_next;
            mag_store_rend(r);
        }
        return (int64_t)first - 1;
    }
    case MAG_START_AFTER_ID:
        if (o->start_id.ledger < t->rec.id)
            return -1;
        if (o->start_id.ledger > t->rec.id)
            return latest;
        if ((int64_t)o->start_id.entry > latest)
            return latest;
        return (int64_t)o->start_id.entry;
    }
    return latest;
}

/* A start id inside a batch (reader messageId with batch_index i): the rest
   of that entry, indexes > i, is still to be read (Pulsar's isPriorBatchIndex). */
static void start_inside_batch(mag_sub *s, const struct mag_consumer_opts *o)
{
    const mag_msgid *id = &o->start_id;
    if (o->start != MAG_START_AFTER_ID || id->ledger != s->topic->rec.id || id->batch_index < 0 ||
        id->batch_size <= 1 || id->batch_index + 1 >= id->batch_size ||
        (int64_t)id->entry != s->mark_delete || id->entry >= s->topic->committed_next)
        return;
    s->mark_delete--;
    s->read_pos = id->entry;
    for (int32_t i = 0; i <= id->batch_index; i++)
        mag_batch_ack_index(s, id->entry, (uint32_t)i, (uint32_t)id->batch_size);
}

mag_rc mag_broker_consumer_open(mag_broker *b, const mag_topic_name *tn,
                                const struct mag_consumer_opts *o,
                                const struct mag_consumer_events *ev, void *ctx,
                                mag_consumer **out, mag_buf *err)
{
    mag_topic *t;
    mag_rc rc = mag_broker_topic_open(b, tn, &t, err);
    if (rc != MAG_OK)
        return rc;
    if (t->rec.partitions > 0) {
        mag_buf_appendf(err, "%s is a partitioned topic: attach to its partitions", t->name);
        return MAG_ERR_BAD_REQUEST;
    }
    char generated[32];
    const char *sub_name = o->subscription;
    if (!sub_name) {
        memcpy(generated, "reader-", 7);
        mag_random_hex(generated + 7, 10);
        sub_name = generated;
    }
    mag_sub *s = mag_strmap_get(&t->subs, sub_name, strlen(sub_name));
    if (s && s->nconsumers > 0) {
        if (s->type != o->type) {
            mag_buf_append_str(err, "Subscription is of different type");
            return MAG_ERR_CONFLICT;
        }
        if (o->type == MAG_SUB_EXCLUSIVE) {
            mag_buf_append_str(err, "Exclusive consumer is already connected");
            return MAG_ERR_CONFLICT;
        }
    }
    if (!s) {
        /* Non-persistent subscriptions never have a stored cursor. */
        s = mag_sub_new(t, sub_name, o->type, o->durable && !t->non_persistent,
                        initial_mark_delete(t, o));
        start_inside_batch(s, o);
        if (s->durable) {
            rc = cursor_write_now(s, false);
            if (rc != MAG_OK) {
                mag_buf_appendf(err, "Failed to create subscription: %s", mag_strerror(rc));
                sub_destroy(s);
                return rc;
            }
        }
    } else if (s->nconsumers == 0 && s->type != o->type) {
        s->type = o->type;      /* with nobody connected, the newcomer's type wins */
        mag_sub_mark_cursor_dirty(s);
    }

    mag_consumer *c = mag_xcalloc(1, sizeof *c);
    c->sub = s;
    c->ev = *ev;
    c->ctx = ctx;
    if (o->consumer_name && *o->consumer_name) {
        c->name = mag_xstrdup(o->consumer_name);
    } else {
        c->name = mag_xmalloc(6);
        mag_random_hex(c->name, 5);
    }
    c->priority = o->priority_level;
    c->ack_timeout_ms = o->ack_timeout_ms;
    c->nack_delay_ms = o->nack_delay_ms;
    c->max_redeliver_count = o->max_redeliver_count;
    if (c->max_redeliver_count > 0) {
        if (o->dead_letter_topic && *o->dead_letter_topic) {
            c->dead_letter_topic = mag_xstrdup(o->dead_letter_topic);
        } else {
            mag_buf dlq = MAG_BUF_INIT;     /* ConsumerHandler: "{topic}-{subscription}-DLQ" */
            mag_buf_appendf(&dlq, "%s-%s-DLQ", t->name, s->name);
            c->dead_letter_topic = mag_xstrdup(mag_buf_cstr(&dlq));
            mag_buf_free(&dlq);
        }
    }
    mag_idset_init(&c->pending);
    mag_idset_init(&c->nacked);
    mag_strmap_init(&c->cancelled_acks);
    c->flow = mag_xcalloc(1, sizeof *c->flow);
    mag_ptrs_push((void ***)&c->flow->members, &c->flow->nmembers, &c->flow->cap_members, c);
    if (s->type == MAG_SUB_KEY_SHARED && s->nconsumers > 0) {
        c->recently_joined = true;      /* see key_shared.c */
        c->join_read_pos = s->read_pos;
    }
    c->uid = b->next_uid++;
    mag_uidmap_put(&b->consumers_by_uid, c->uid, c);
    mag_ptrs_push((void ***)&s->consumers, &s->nconsumers, &s->cap_consumers, c);
    mag_ks_rebuild_ring(s);
    *out = c;
    return MAG_OK;
}

const char *mag_consumer_subscription(const mag_consumer *c)
{
    return c->sub->name;
}

void mag_consumer_flow(mag_consumer *c, uint32_t permits)
{
    c->flow->permits += permits;
    for (size_t i = 0; i < c->flow->nmembers; i++)
        mag_sub_mark_dispatch(c->flow->members[i]->sub);
}

void mag_consumer_share_flow(mag_consumer *c, mag_consumer *with)
{
    struct mag_flow *old = c->flow;
    mag_ptrs_remove((void **)old->members, &old->nmembers, c);
    if (old->nmembers == 0) {
        with->flow->permits += old->permits;
        free(old->members);
        free(old);
    }
    c->flow = with->flow;
    mag_ptrs_push((void ***)&c->flow->members, &c->flow->nmembers, &c->flow->cap_members, c);
}

void mag_sub_ack_entry(mag_sub *s, uint64_t entry)
{
    if ((int64_t)entry <= s->mark_delete || entry >= s->topic->committed_next)
        return;
    for (size_t i = 0; i < s->nconsumers; i++) {
        if (mag_idset_remove(&s->consumers[i]->pending, entry)) {
            mag_idset_remove(&s->consumers[i]->nacked, entry);
            break;
        }
    }
    mag_idset_remove(&s->redeliver, entry);
    mag_idset_remove(&s->delayed, entry);
    mag_sub_forget_redelivery_count(s, entry);
    mag_batch_forget(s, entry);
    if (s->blocked_on_unacked)
        mag_sub_mark_dispatch(s);   /* may be unblocked now (dispatch.c) */
    else
        for (size_t i = 0; i < s->nconsumers; i++)
            if (s->consumers[i]->blocked_on_unacked) {
                mag_sub_mark_dispatch(s);
                break;
            }
    if ((int64_t)entry == s->mark_delete + 1) {
        s->mark_delete++;
        while (s->acked.count && (int64_t)mag_idset_min(&s->acked) == s->mark_delete + 1) {
            mag_idset_remove_upto(&s->acked, mag_idset_min(&s->acked));
            s->mark_delete++;
        }
        /* Key_Shared: messages held back for a recently joined consumer may
           be free to go now (key_shared.c). */
        if (s->type == MAG_SUB_KEY_SHARED && s->redeliver.count)
            mag_sub_mark_dispatch(s);
    } else if (!mag_idset_add(&s->acked, entry)) {
        return;     /* duplicate ack */
    }
    mag_sub_mark_cursor_dirty(s);
}

void mag_consumer_ack(mag_consumer *c, const mag_msgid *id)
{
    if (id->ledger != c->sub->topic->rec.id)
        return;
    c->sub->msg_ack_counter++;  /* Consumer.messageAcked's msgAckRate: one per acked message */
    if (id->batch_index >= 0 && id->batch_size > 1)
        mag_batch_ack_index(c->sub, id->entry, (uint32_t)id->batch_index, (uint32_t)id->batch_size);
    else
        mag_sub_ack_entry(c->sub, id->entry);   /* a plain id acks the whole entry */
}

/* Detach c from its subscription; its unacked messages go back for redelivery. */
static void consumer_detach(mag_consumer *c)
{
    mag_sub *s = c->sub;
    for (size_t i = 0; i < c->pending.count; i++)
        if (!mag_sub_is_acked(s, c->pending.ids[i]))
            mag_idset_add(&s->redeliver, c->pending.ids[i]);
    size_t idx = 0;
    while (idx < s->nconsumers && s->consumers[idx] != c)
        idx++;
    mag_ptrs_remove((void **)s->consumers, &s->nconsumers, c);
    if (s->rr_next > idx)
        s->rr_next--;
    if (s->rr_next >= s->nconsumers)
        s->rr_next = 0;
    mag_uidmap_remove(&s->topic->broker->consumers_by_uid, c->uid);
    mag_ks_rebuild_ring(s);
    mag_ptrs_remove((void **)c->flow->members, &c->flow->nmembers, c);
    if (c->flow->nmembers == 0) {
        free(c->flow->members);
        free(c->flow);
    }
    mag_idset_cleanup(&c->pending);
    mag_idset_cleanup(&c->nacked);
    mag_strmap_cleanup(&c->cancelled_acks);
    free(c->dead_letter_topic);
    free(c->name);
    free(c);
}

mag_rc mag_consumer_unsubscribe(mag_consumer *c, mag_buf *err)
{
    mag_sub *s = c->sub;
    if (s->nconsumers > 1) {
        mag_buf_append_str(err, "Subscription has other connected consumers");
        return MAG_ERR_PRECONDITION;
    }
    if (s->durable) {
        mag_rc rc = cursor_write_now(s, true);
        if (rc != MAG_OK) {
            mag_buf_appendf(err, "Failed to delete subscription: %s", mag_strerror(rc));
            return rc;
        }
    }
    mag_info("unsubscribed %s from %s", s->name, s->topic->name);
    consumer_detach(c);
    sub_destroy(s);
    return MAG_OK;
}

bool mag_consumer_end_of_topic(const mag_consumer *c)
{
    const mag_sub *s = c->sub;
    return s->topic->rec.terminated && s->read_pos >= s->topic->committed_next &&
           s->redeliver.count == 0 && s->delayed.count == 0;
}

void mag_consumer_close(mag_consumer *c)
{
    mag_sub *s = c->sub;
    consumer_detach(c);
    if (!s->durable && s->nconsumers == 0)
        sub_destroy(s);
    else
        mag_sub_mark_dispatch(s);
}
