/* idset.h -- a sorted set of u64 ids in one growable array.
 *
 * The broker keeps entry ids in these: individually acked ids above a
 * subscription's mark-delete position, ids waiting for redelivery, ids a
 * consumer holds unacked. The sets are small in practice (bounded by
 * receiverQueueSize and unacked limits), so binary search plus memmove beats
 * a tree on both speed and clarity. Capacity is kept across removals, so a
 * steady-state set does not allocate.
 */
#ifndef MAG_UTIL_IDSET_H
#define MAG_UTIL_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mag_idset {
    uint64_t *ids;      /* ascending, no duplicates */
    size_t count;
    size_t cap;
} mag_idset;

void mag_idset_init(mag_idset *s);
void mag_idset_cleanup(mag_idset *s);
static inline void mag_idset_clear(mag_idset *s) { s->count = 0; }
/* Returns true if id was added, false if it was already present. */
bool mag_idset_add(mag_idset *s, uint64_t id);
/* Returns true if id was present and removed. */
bool mag_idset_remove(mag_idset *s, uint64_t id);
bool mag_idset_contains(const mag_idset *s, uint64_t id);
/* Remove and return every id <= limit, counting them (the ids are dropped). */
size_t mag_idset_remove_upto(mag_idset *s, uint64_t limit);
static inline uint64_t mag_idset_min(const mag_idset *s) { return s->ids[0]; }

#endif /* MAG_UTIL_IDSET_H */
