/* deadlines.h -- a binary min-heap of timed broker work (internal to src/broker/).
 *
 * One heap per kind of timed behaviour (ack timeout, negative-ack delay,
 * delayed delivery) instead of a timer per message: 100k outstanding
 * deadlines cost 100k * 32 bytes and O(log n) per operation. Entries name
 * their owner by uid, not pointer, so an owner that went away (consumer
 * closed, subscription deleted) is simply skipped when its deadline pops,
 * and each entry carries the order it was pushed in, so an owner can tell
 * deadlines it scheduled before some event (a cursor rewind) from later ones.
 */
#ifndef MAG_BROKER_DEADLINES_H
#define MAG_BROKER_DEADLINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mag_deadline {
    int64_t at_ms;      /* wall-clock epoch milliseconds */
    uint64_t owner;     /* consumer or subscription uid */
    uint64_t entry;     /* entry id */
    uint64_t seq;       /* order of pushing into this heap (from next_seq) */
} mag_deadline;

typedef struct mag_deadline_heap {
    mag_deadline *items;
    size_t count, cap;
    uint64_t next_seq;  /* seq of the next push: an owner can ignore what came before */
} mag_deadline_heap;

void mag_deadlines_init(mag_deadline_heap *h);
void mag_deadlines_cleanup(mag_deadline_heap *h);
void mag_deadlines_push(mag_deadline_heap *h, int64_t at_ms, uint64_t owner, uint64_t entry);
/* The earliest deadline, or NULL when empty. */
static inline const mag_deadline *mag_deadlines_peek(const mag_deadline_heap *h)
{
    return h->count ? &h->items[0] : NULL;
}
/* Remove the earliest deadline into *out; false when empty. */
bool mag_deadlines_pop(mag_deadline_heap *h, mag_deadline *out);

#endif /* MAG_BROKER_DEADLINES_H */
