/* delivery_cache.c -- one encoded delivery shared by the consumers of several subscriptions.
 *
 * A direct-mapped table: the slot is a hash of the message id; a newer frame
 * replaces whatever the slot held. See include/mag/app/delivery_cache.h for why a hit is
 * always right.
 */
#include "mag/app/delivery_cache.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

void mag_delivery_cache_init(mag_delivery_cache *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < MAG_DELIVERY_CACHE_SLOTS; i++)
        mag_buf_init(&c->slots[i].json);
}

void mag_delivery_cache_free(mag_delivery_cache *c)
{
    for (size_t i = 0; i < MAG_DELIVERY_CACHE_SLOTS; i++)
        mag_buf_free(&c->slots[i].json);
}

static struct mag_delivery_slot *slot_of(mag_delivery_cache *c, const struct mag_delivery_key *k)
{
    /* Every field takes part, so that a reader's or a redelivery's frame of
       the same message does not evict the frame the other subscriptions want. */
    uint64_t h = k->id.ledger * 0x9E3779B97F4A7C15u ^ k->id.entry * 0xC2B2AE3D27D4EB4Fu ^
                 (uint64_t)(uint32_t)k->id.batch_index * 0x165667B19E3779F9u ^
                 (uint64_t)(uint32_t)k->redelivery_count * 0x27D4EB2F165667C5u ^
                 (uint64_t)k->reader * 0x85EBCA77C2B2AE63u;
    return &c->slots[(h >> 32) % MAG_DELIVERY_CACHE_SLOTS];
}

static bool same_key(const struct mag_delivery_key *a, const struct mag_delivery_key *b)
{
    return a->id.ledger == b->id.ledger && a->id.entry == b->id.entry &&
           a->id.partition == b->id.partition && a->id.batch_index == b->id.batch_index &&
           a->id.batch_size == b->id.batch_size && a->redelivery_count == b->redelivery_count &&
           a->reader == b->reader;
}

mag_buf *mag_delivery_cache_slot(mag_delivery_cache *c, const struct mag_delivery_key *key,
                                 bool *hit)
{
    struct mag_delivery_slot *s = slot_of(c, key);
    *hit = s->used && same_key(&s->key, key);
    if (*hit) {
        c->hits++;
    } else {
        c->misses++;
        s->used = true;
        s->key = *key;
        mag_buf_reset(&s->json);
    }
    return &s->json;
}

void mag_delivery_cache_release(mag_delivery_cache *c, mag_buf *json)
{
    uintptr_t at = (uintptr_t)json - offsetof(struct mag_delivery_slot, json);
    size_t i = (size_t)((at - (uintptr_t)c->slots) / sizeof c->slots[0]);
    if (i >= MAG_DELIVERY_CACHE_SLOTS || &c->slots[i].json != json)
        return;     /* not one of ours */
    struct mag_delivery_slot *s = &c->slots[i];
    c->bytes += json->cap - s->counted;
    s->counted = json->cap;
    if (json->len > MAG_DELIVERY_CACHE_MAX_BYTES || c->bytes > MAG_DELIVERY_CACHE_BUDGET) {
        c->bytes -= s->counted;
        s->counted = 0;
        s->used = false;
        mag_buf_free(json);
    }
}
