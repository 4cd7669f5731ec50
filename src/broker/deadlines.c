/* deadlines.c -- binary min-heap of deadlines (see deadlines.h). */
#include "deadlines.h"

#include <stdlib.h>

#include "mag/util/alloc.h"

void mag_deadlines_init(mag_deadline_heap *h)
{
    h->items = NULL;
    h->count = h->cap = 0;
    h->next_seq = 0;
}

void mag_deadlines_cleanup(mag_deadline_heap *h)
{
    free(h->items);
    mag_deadlines_init(h);
}

static bool before(const mag_deadline *a, const mag_deadline *b)
{
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms;
    return a->entry < b->entry;     /* same instant: oldest entry first */
}

void mag_deadlines_push(mag_deadline_heap *h, int64_t at_ms, uint64_t owner, uint64_t entry)
{
    if (h->count == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->items = mag_xrealloc(h->items, h->cap * sizeof *h->items);
    }
    size_t i = h->count++;
    mag_deadline d = { at_ms, owner, entry, h->next_seq++ };
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&d, &h->items[parent]))
            break;
        h->items[i] = h->items[parent];
        i = parent;
    }
    h->items[i] = d;
}

bool mag_deadlines_pop(mag_deadline_heap *h, mag_deadline *out)
{
    if (h->count == 0)
        return false;
    *out = h->items[0];
    mag_deadline last = h->items[--h->count];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->count)
            break;
        if (child + 1 < h->count && before(&h->items[child + 1], &h->items[child]))
            child++;
        if (!before(&h->items[child], &last))
            break;
        h->items[i] = h->items[child];
        i = child;
    }
    if (h->count)
        h->items[i] = last;
    return true;
}
