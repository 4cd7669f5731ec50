/* strmap.h -- string-keyed hash map (open addressing, XXH3 hashes).
 *
 * Used for in-memory indexes: topics by name, subscriptions by name, producer
 * names per topic. Keys are copied into the map (the map owns them); values
 * are borrowed pointers the caller owns. Not thread-safe: loop thread only.
 */
#ifndef MAG_UTIL_STRMAP_H
#define MAG_UTIL_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mag_strmap_slot {
    char *key;          /* NULL = empty; MAG_STRMAP_TOMBSTONE = deleted */
    size_t key_len;
    uint64_t hash;
    void *value;
} mag_strmap_slot;

typedef struct mag_strmap {
    mag_strmap_slot *slots;
    size_t cap;         /* power of two, 0 when empty */
    size_t count;       /* live keys */
    size_t used;        /* live keys + tombstones */
} mag_strmap;

void mag_strmap_init(mag_strmap *m);
/* Frees the keys and the table; values are not touched. */
void mag_strmap_cleanup(mag_strmap *m);
/* Value for key, or NULL. */
void *mag_strmap_get(const mag_strmap *m, const char *key, size_t len);
/* Insert or replace; returns the previous value (or NULL). */
void *mag_strmap_put(mag_strmap *m, const char *key, size_t len, void *value);
/* Remove; returns the removed value (or NULL). */
void *mag_strmap_remove(mag_strmap *m, const char *key, size_t len);

/* Iterate: for (size_t i = 0; mag_strmap_next(m, &i, &slot);) ... ; do not modify during iteration. */
bool mag_strmap_next(const mag_strmap *m, size_t *iter, const mag_strmap_slot **slot);

#endif /* MAG_UTIL_STRMAP_H */
