/* idset.c -- sorted u64 set on a growable array (see include/mag/util/idset.h). */
#include "mag/util/idset.h"
#include "mag/util/alloc.h"

#include <stdlib.h>
#include <string.h>

void mag_idset_init(mag_idset *s)
{
    s->ids = NULL;
    s->count = 0;
    s->cap = 0;
}

void mag_idset_cleanup(mag_idset *s)
{
    free(s->ids);
    mag_idset_init(s);
}

/* Index of the first element >= id. */
static size_t lower_bound(const mag_idset *s, uint64_t id)
{
    size_t lo = 0, hi = s->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool mag_idset_add(mag_idset *s, uint64_t id)
{
    /* Ids mostly arrive in ascending order: append without searching. */
    size_t pos = (s->count == 0 || s->ids[s->count - 1] < id) ? s->count : lower_bound(s, id);
    if (pos < s->count && s->ids[pos] == id)
        return false;
    if (s->count == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->ids = mag_xrealloc(s->ids, s->cap * sizeof *s->ids);
    }
    memmove(s->ids + pos + 1, s->ids + pos, (s->count - pos) * sizeof *s->ids);
    s->ids[pos] = id;
    s->count++;
    return true;
}

bool mag_idset_remove(mag_idset *s, uint64_t id)
{
    size_t pos = lower_bound(s, id);
    if (pos == s->count || s->ids[pos] != id)
        return false;
    memmove(s->ids + pos, s->ids + pos + 1, (s->count - pos - 1) * sizeof *s->ids);
    s->count--;
    return true;
}

bool mag_idset_contains(const mag_idset *s, uint64_t id)
{
    size_t pos = lower_bound(s, id);
    return pos < s->count && s->ids[pos] == id;
}

size_t mag_idset_remove_upto(mag_idset *s, uint64_t limit)
{
    size_t n = (limit == UINT64_MAX) ? s->count : lower_bound(s, limit + 1);
    memmove(s->ids, s->ids + n, (s->count - n) * sizeof *s->ids);
    s->count -= n;
    return n;
}
