/* strmap.c -- open-addressing string map with linear probing (see strmap.h).
 *
 * Deleted slots become tombstones; the table is rebuilt when live keys plus
 * tombstones pass 70% of the capacity, so lookups stay short.
 */
#include "mag/util/strmap.h"
#include "mag/util/alloc.h"

#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

static char tombstone_marker;
#define TOMBSTONE (&tombstone_marker)

void mag_strmap_init(mag_strmap *m)
{
    memset(m, 0, sizeof *m);
}

void mag_strmap_cleanup(mag_strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key && m->slots[i].key != TOMBSTONE)
            free(m->slots[i].key);
    free(m->slots);
    mag_strmap_init(m);
}

static mag_strmap_slot *find(const mag_strmap *m, const char *key, size_t len, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        mag_strmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != TOMBSTONE && s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0)
            return s;
    }
}

static void rehash(mag_strmap *m, size_t cap)
{
    mag_strmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->slots = mag_xcalloc(cap, sizeof *m->slots);
    m->cap = cap;
    m->used = m->count;
    for (size_t i = 0; i < old_cap; i++) {
        if (!old[i].key || old[i].key == TOMBSTONE)
            continue;
        size_t j = (size_t)old[i].hash & (cap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *mag_strmap_get(const mag_strmap *m, const char *key, size_t len)
{
    mag_strmap_slot *s = find(m, key, len, XXH3_64bits(key, len));
    return s ? s->value : NULL;
}

void *mag_strmap_put(mag_strmap *m, const char *key, size_t len, void *value)
{
    uint64_t h = XXH3_64bits(key, len);
    mag_strmap_slot *s = find(m, key, len, h);
    if (s) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    if ((m->used + 1) * 10 >= m->cap * 7)
        rehash(m, m->cap ? (m->count * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
    size_t mask = m->cap - 1;
    size_t i = (size_t)h & mask;
    while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i].key = mag_xstrndup(key, len);
    m->slots[i].key_len = len;
    m->slots[i].hash = h;
    m->slots[i].value = value;
    m->count++;
    return NULL;
}

void *mag_strmap_remove(mag_strmap *m, const char *key, size_t len)
{
    mag_strmap_slot *s = find(m, key, len, XXH3_64bits(key, len));
    if (!s)
        return NULL;
    void *prev = s->value;
    free(s->key);
    s->key = TOMBSTONE;
    s->value = NULL;
    m->count--;
    return prev;
}

bool mag_strmap_next(const mag_strmap *m, size_t *iter, const mag_strmap_slot **slot)
{
    while (*iter < m->cap) {
        const mag_strmap_slot *s = &m->slots[(*iter)++];
        if (s->key && s->key != TOMBSTONE) {
            *slot = s;
            return true;
        }
    }
    return false;
}
