/* batching.c -- producer batching, compression, and batch-index acks.
 *
 * With batchingEnabled a producer's messages accumulate in an open batch
 * (the codec in include/mag/codec/batch.h) that becomes ONE stored entry,
 * as the Java client's BatchMessageContainerImpl does for ProducerImpl:
 *   - before a message that would take the batch past batchingMaxBytes
 *     (payload bytes, 128 KiB by default), the batch is closed
 *     (BatchMessageContainerImpl.haveEnoughSpace);
 *   - after a message, a batch holding batchingMaxMessages messages or
 *     batchingMaxBytes bytes is closed (isBatchFull);
 *   - otherwise it closes batchingMaxPublishDelay (1 ms by default) after its
 *     first message. The Java client's batch timer (ProducerImpl's
 *     batchTimerTask) fires every batchingMaxPublishDelay, so there a batch
 *     waits at most that long; here it waits exactly that long.
 * Only a closed batch is staged for the group commit, so the receipts (one
 * per message: same ledger/entry, batch_index i, batch_size n) leave after
 * the entry is in LMDB. The delay uses one deadline heap (broker->
 * batch_delays, one entry per producer at most) run by mag_broker_tick.
 * A producer that closes (client gone, connection dropped) has its open
 * batch staged without receipts; a drain (SIGTERM, admin operations)
 * closes every open batch and its receipts go out.
 * Messages with a deliverAt time are never batched (the Java client sends
 * them alone).
 *
 * Compression (compressionType) applies to the stored payload of an entry --
 * the whole batch, or the single message; dispatch decompresses, so
 * consumers always receive plain payloads.
 *
 * A batch entry leaves the backlog only when every index is acked; partial
 * acks are kept in memory (as Pulsar 2.10 does by default), so after a
 * restart the unacked remainder of a batch is delivered again.
 */
#include "broker_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/batch.h"
#include "mag/codec/compress.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

#define DEFAULT_BATCH_MAX_MESSAGES 1000
#define DEFAULT_BATCH_MAX_BYTES (128 * 1024)
#define DEFAULT_BATCH_MAX_DELAY_MS 1
#define MAX_BATCH_SIZE 65536

void mag_producer_configure(mag_producer *p, const struct mag_producer_config *cfg)
{
    p->cfg = *cfg;
    if (p->cfg.batch_max_messages == 0)
        p->cfg.batch_max_messages = DEFAULT_BATCH_MAX_MESSAGES;
    if (p->cfg.batch_max_messages > MAX_BATCH_SIZE)
        p->cfg.batch_max_messages = MAX_BATCH_SIZE;
    if (p->cfg.batch_max_bytes == 0)
        p->cfg.batch_max_bytes = DEFAULT_BATCH_MAX_BYTES;
    if (p->cfg.batch_max_delay_ms <= 0)
        p->cfg.batch_max_delay_ms = DEFAULT_BATCH_MAX_DELAY_MS;
    if (p->cfg.batch_max_delay_ms > INT32_MAX)
        p->cfg.batch_max_delay_ms = INT32_MAX;  /* the proxy's Integer.parseInt bound; no overflow */
    p->next_sequence_id = cfg->initial_sequence_id + 1;
    /* The Java client starts after the broker's last sequence id when none is given. */
    if (!cfg->has_initial_sequence_id)
        mag_dedup_continue(p);
}

/* Point copy->payload at the compressed form of src (in the broker's scratch
   buffer) when the producer compresses. */
static void compress_payload(mag_producer *p, mag_entry *copy, const uint8_t *src, size_t len)
{
    mag_broker *b = p->topic->broker;
    copy->payload = src;
    copy->payload_len = len;
    copy->compression = MAG_COMP_NONE;
    copy->uncompressed_size = (uint32_t)len;
    if (p->cfg.compression == MAG_COMP_NONE)
        return;
    mag_buf_reset(&b->scratch);
    if (mag_compress((mag_compression)p->cfg.compression, src, len, &b->scratch) != MAG_OK)
        return;     /* store it plain rather than fail the publish */
    copy->payload = b->scratch.data;
    copy->payload_len = b->scratch.len;
    copy->compression = p->cfg.compression;
}

/* maxMessageSize as the Java client applies it. Not batching,
   ProducerImpl.sendAsync compares the compressed payload with the broker's
   limit; batching, BatchMessageContainerImpl compares the closed batch, which
   a message over the limit fills on its own, so its plain size stands in for
   it here. A plain payload within the limit passes without compressing it
   (incompressible data could only grow by a few bytes); one over it is
   compressed to measure only when the producer compresses (rare, large). */
bool mag_batch_over_size(mag_producer *p, const mag_entry *e, size_t *size)
{
    size_t max = p->topic->broker->opts.max_message_size;
    size_t len = e->payload_len;
    *size = len;
    if (len <= max)
        return false;
    bool batched = p->cfg.batching && e->deliver_at_ms <= 0;
    p->rejected_batched = batched;
    if (batched || p->cfg.compression == MAG_COMP_NONE)
        return true;
    mag_entry copy = *e;
    compress_payload(p, &copy, e->payload, len);
    *size = copy.payload_len;
    return copy.payload_len > max;
}

void mag_batch_stage_single(mag_producer *p, const mag_entry *e, uint64_t token)
{
    mag_entry copy = *e;
    compress_payload(p, &copy, e->payload, e->payload_len);
    mag_broker_stage(p->topic->broker, p->topic, p, &copy, token);
}

void mag_batch_close(mag_producer *p)
{
    if (p->batch_count == 0)
        return;
    mag_broker *b = p->topic->broker;
    size_t off = 0;
    mag_batch_msg first;
    if (mag_batch_next(p->batch.data, p->batch.len, &off, &first) != MAG_OK)
        memset(&first, 0, sizeof first);
    /* The entry's key is the first message's: Key_Shared routes whole batches. */
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.sequence_id = first.sequence_id;
    e.batch_size = p->batch_count;
    e.has_key = first.has_key;
    e.key = first.key;
    e.key_len = first.key_len;
    e.properties_json = "{}";
    e.properties_json_len = 2;
    compress_payload(p, &e, p->batch.data, p->batch.len);
    mag_staged *st = mag_broker_stage(b, p->topic, p, &e, p->batch_tokens[0]);
    st->batch_count = p->batch_count;
    struct mag_commit_job *j = b->fill;
    st->batch_tokens_at = j->nbatch_tokens;
    for (uint32_t i = 0; i < p->batch_count; i++)
        mag_ptrs_push_u64(&j->batch_tokens, &j->nbatch_tokens, &j->cap_batch_tokens,
                          p->batch_tokens[i]);
    mag_buf_reset(&p->batch);
    p->batch_count = 0;
    p->batch_bytes = 0;
}

void mag_batch_add(mag_producer *p, const mag_entry *e, uint64_t token)
{
    mag_broker *b = p->topic->broker;
    if (p->batch_count && p->batch_bytes + e->payload_len > p->cfg.batch_max_bytes)
        mag_batch_close(p);
    mag_batch_msg m = {
        .properties_json = e->properties_json, .properties_json_len = e->properties_json_len,
        .has_key = e->has_key, .key = e->key, .key_len = e->key_len,
        .event_time_ms = e->event_time_ms, .sequence_id = e->sequence_id,
        .payload = e->payload, .payload_len = e->payload_len,
    };
    if (p->batch_count == 0) {
        p->batch_close_at = mag_broker_now_ms() + p->cfg.batch_max_delay_ms;
        if (!p->batch_timer_armed) {    /* else the armed deadline is earlier: it re-arms */
            p->batch_timer_armed = true;
            mag_broker_schedule(b, &b->batch_delays, p->batch_close_at, p->uid, 0);
        }
    }
    mag_batch_append(&p->batch, &m);
    p->batch_bytes += e->payload_len;
    if (p->batch_count == p->cap_batch_tokens) {
        p->cap_batch_tokens = p->cap_batch_tokens ? p->cap_batch_tokens * 2 : 16;
        p->batch_tokens = mag_xrealloc(p->batch_tokens, p->cap_batch_tokens * sizeof *p->batch_tokens);
    }
    p->batch_tokens[p->batch_count++] = token;
    if (!p->batch_listed) {
        p->batch_listed = true;
        mag_ptrs_push((void ***)&b->open_batches, &b->nopen_batches, &b->cap_open_batches, p);
    }
    if (p->batch_count >= p->cfg.batch_max_messages || p->batch_bytes >= p->cfg.batch_max_bytes)
        mag_batch_close(p);
}

void mag_batch_deadline(mag_producer *p, int64_t now_ms)
{
    mag_broker *b = p->topic->broker;
    p->batch_timer_armed = false;
    if (p->batch_count == 0)
        return;
    if (p->batch_close_at <= now_ms) {
        mag_batch_close(p);
        return;
    }
    /* The batch that was due closed full; this one opened later. */
    p->batch_timer_armed = true;
    mag_broker_schedule(b, &b->batch_delays, p->batch_close_at, p->uid, 0);
}

void mag_batch_close_all(mag_broker *b)
{
    for (size_t i = 0; i < b->nopen_batches; i++) {
        b->open_batches[i]->batch_listed = false;
        mag_batch_close(b->open_batches[i]);
    }
    b->nopen_batches = 0;
}

/* ---- batch-index acks ---- */

static struct mag_batch_acks *acks_of(const mag_sub *s, uint64_t entry)
{
    return s->batch_acks.count ? mag_uidmap_get(&s->batch_acks, entry) : NULL;
}

bool mag_batch_index_acked(const mag_sub *s, uint64_t entry, uint32_t index)
{
    const struct mag_batch_acks *a = acks_of(s, entry);
    return a && index < a->size && (a->bits[index / 64] >> (index % 64) & 1u);
}

void mag_batch_ack_index(mag_sub *s, uint64_t entry, uint32_t index, uint32_t size)
{
    if (mag_sub_is_acked(s, entry) || entry >= s->topic->committed_next)
        return;
    struct mag_batch_acks *a = acks_of(s, entry);
    if (!a) {
        if (size == 0 || size > MAX_BATCH_SIZE)
            return;
        a = mag_xcalloc(1, sizeof *a + ((size + 63) / 64) * sizeof a->bits[0]);
        a->size = size;
        mag_uidmap_put(&s->batch_acks, entry, a);
    }
    if (index >= a->size || (a->bits[index / 64] >> (index % 64) & 1u))
        return;
    a->bits[index / 64] |= (uint64_t)1 << (index % 64);
    if (++a->acked == a->size)
        mag_sub_ack_entry(s, entry);    /* frees a through mag_batch_forget */
}

void mag_batch_forget(mag_sub *s, uint64_t entry)
{
    struct mag_batch_acks *a = acks_of(s, entry);
    if (a) {
        mag_uidmap_remove(&s->batch_acks, entry);
        free(a);
    }
}

void mag_batch_forget_all(mag_sub *s)
{
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&s->batch_acks, &it, &slot))
        free(slot->value);
    mag_strmap_cleanup(&s->batch_acks);
}
