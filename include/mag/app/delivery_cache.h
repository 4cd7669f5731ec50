/* delivery_cache.h -- one encoded delivery shared by the consumers of several subscriptions.
 *
 * When a topic has several subscriptions, the same committed message goes to
 * each of them, usually within one dispatch pass. Its delivery JSON (base64
 * payload, properties, times, key, encryptionContext) is the same for every
 * consumer except for redeliveryCount and the reader's missing
 * encryptionContext, so it is formatted once and copied from here: the cache
 * remembers the last frame of each of MAG_DELIVERY_CACHE_SLOTS slots, chosen
 * by message id. A message id names one committed message for the life of the
 * process (entry ids are never reused once committed, topic ids never), so a
 * hit is always the right text. Frames over MAG_DELIVERY_CACHE_MAX_BYTES are
 * not kept, nor any frame once the slots hold MAG_DELIVERY_CACHE_BUDGET bytes,
 * which bounds the cache's memory.
 *
 * Ownership: the app owns one cache (mag_app.deliveries); the event-loop
 * thread is its only user.
 */
#ifndef MAG_APP_DELIVERY_CACHE_H
#define MAG_APP_DELIVERY_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "mag/codec/msgid.h"
#include "mag/util/buf.h"

#define MAG_DELIVERY_CACHE_SLOTS 256
#define MAG_DELIVERY_CACHE_MAX_BYTES (64 * 1024)
#define MAG_DELIVERY_CACHE_BUDGET (8 * 1024 * 1024)

struct mag_delivery_key {
    mag_msgid id;
    int32_t redelivery_count;
    bool reader;                /* readers get no encryptionContext */
};

struct mag_delivery_slot {
    bool used;
    struct mag_delivery_key key;
    mag_buf json;
    size_t counted;             /* json.cap as counted in the cache's bytes */
};

typedef struct mag_delivery_cache {
    struct mag_delivery_slot slots[MAG_DELIVERY_CACHE_SLOTS];
    size_t bytes;               /* capacity of all slot buffers */
    uint64_t hits, misses;      /* /metrics: magnetar_delivery_cache_total */
} mag_delivery_cache;

void mag_delivery_cache_init(mag_delivery_cache *c);
void mag_delivery_cache_free(mag_delivery_cache *c);
/* The buffer of key's slot. *hit: it already holds key's JSON. Otherwise it
   was emptied and now belongs to key: the caller formats the JSON into it.
   Valid until the next call on c. */
mag_buf *mag_delivery_cache_slot(mag_delivery_cache *c, const struct mag_delivery_key *key,
                                 bool *hit);
/* After the caller is done with a slot's JSON: a frame over
   MAG_DELIVERY_CACHE_MAX_BYTES, or any frame while the cache is over its
   budget, is dropped and its memory freed. */
void mag_delivery_cache_release(mag_delivery_cache *c, mag_buf *json);

#endif /* MAG_APP_DELIVERY_CACHE_H */
