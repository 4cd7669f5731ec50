/* space.c -- publish headroom in the LMDB map.
 *
 * LMDB is copy-on-write: deleting a topic, trimming entries or removing a
 * subscription writes new pages before the old ones are freed, so on a map
 * that publishes filled to the last page nothing can be deleted any more
 * (MDB_MAP_FULL) and only a restart with a bigger map recovers. Publishes
 * therefore stop a reserve short of the map's end (1/16 of it, at least
 * 256 KiB, at most half): they fail with MAG_ERR_MAP_FULL (send-error:8)
 * before they are staged, while deletes, trims, unsubscribes, cursor updates
 * and admin writes may use the reserve. Pages that deletes give back go to
 * LMDB's freelist and are reused first, so the space counted for publishes
 * is the high-water mark less the freelist.
 *
 * The check is arithmetic on the loop thread: the space left below the
 * reserve, measured after each collected commit (environment info, no
 * transaction), against twice the bytes staged and not yet committed (page
 * headers, keys, partly filled pages). The freelist is walked only once the
 * high-water mark comes within the reserve of the limit: after a commit, or
 * when a publish would not fit and the store changed since the last walk.
 */
#include "broker_internal.h"

#include "mag/storage/store.h"

#define MAG_SPACE_RESERVE_MIN ((uint64_t)256 << 10)
#define MAG_SPACE_MSG_OVERHEAD 64   /* key, node header, metadata beyond the payload */

uint64_t mag_space_reserve(uint64_t map_size)
{
    uint64_t r = map_size / 16;
    if (r < MAG_SPACE_RESERVE_MIN)
        r = MAG_SPACE_RESERVE_MIN;
    if (r > map_size / 2)
        r = map_size / 2;
    return r;
}

void mag_space_update(mag_broker *b, bool scan)
{
    struct mag_store_space sp;
    b->space_stale = false;
    if (mag_store_space(b->opts.store, false, &sp) != MAG_OK) {
        b->space_left = UINT64_MAX;     /* cannot tell: let LMDB decide */
        return;
    }
    uint64_t reserve = mag_space_reserve(sp.map_size);
    uint64_t limit = sp.map_size - reserve;
    uint64_t used = sp.used_bytes;
    if (scan || used + reserve > limit) {
        if (mag_store_space(b->opts.store, true, &sp) == MAG_OK)
            used = sp.used_bytes > sp.free_bytes ? sp.used_bytes - sp.free_bytes : 0;
    }
    b->space_left = used < limit ? limit - used : 0;
}

void mag_space_changed(mag_broker *b)
{
    b->space_stale = true;
}

bool mag_space_publish_ok(mag_broker *b, size_t bytes)
{
    uint64_t staged = b->fill->entries.len + (b->flight ? b->flight->entries.len : 0);
    uint64_t need = 2 * (staged + bytes + MAG_SPACE_MSG_OVERHEAD);
    if (need <= b->space_left)
        return true;
    if (b->space_stale) {
        mag_space_update(b, true);
        if (need <= b->space_left)
            return true;
    }
    b->adm.metrics.storage_full = true;     /* cleared by the next good commit */
    return false;
}
