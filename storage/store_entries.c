/* store_entries.c -- message entries: put, trim, point reads, scans, bounds.
 *
 * Keys are topic_id (u64 BE) | entry_id (u64 BE), so one topic's entries are a
 * contiguous, numerically ordered key range and a scan is a cursor walk from
 * MDB_SET_RANGE. Values are encoded with entry.c directly into MDB_RESERVE'd
 * space (no intermediate buffer per message) and decoded zero-copy from the
 * map on read.
 */
#include "store_internal.h"

#include "mag/util/log.h"

#include <string.h>

#define ENTRY_KEY_LEN 16

static void entry_key(uint8_t k[ENTRY_KEY_LEN], uint64_t topic_id, uint64_t entry_id)
{
    mag_put_be64(k, topic_id);
    mag_put_be64(k + 8, entry_id);
}

/* True when key belongs to topic_id's entries; sets *entry_id. */
static bool key_of_topic(const MDB_val *key, uint64_t topic_id, uint64_t *entry_id)
{
    if (key->mv_size != ENTRY_KEY_LEN || mag_get_be64(key->mv_data) != topic_id)
        return false;
    *entry_id = mag_get_be64((const uint8_t *)key->mv_data + 8);
    return true;
}

/* ---- writes ---------------------------------------------------------------------- */

mag_rc mag_store_entry_put(mag_store_wtxn *t, uint64_t topic_id, uint64_t entry_id, const mag_entry *e)
{
    uint8_t kb[ENTRY_KEY_LEN];
    MDB_val k = { sizeof kb, kb };
    MDB_val d;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    ret = mag_entry_validate(e);
    if (ret != MAG_OK)
        return ret;
    entry_key(kb, topic_id, entry_id);
    d.mv_size = mag_entry_encoded_size(e);
    d.mv_data = NULL;
    /* Plain put (not MDB_APPEND): nothing here proves ids only ascend. */
    rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_ENTRIES], &k, &d, MDB_RESERVE);
    if (rc != 0)
        return mag_store_wfail(t, rc, "entry put");
    mag_entry_encode(e, d.mv_data);
    return MAG_OK;
}

mag_rc mag_store_entry_put_encoded(mag_store_wtxn *t, uint64_t topic_id, uint64_t entry_id,
                                   const uint8_t *bytes, size_t len)
{
    uint8_t kb[ENTRY_KEY_LEN];
    MDB_val k = { sizeof kb, kb };
    MDB_val d = { len, (void *)bytes };
    if (t->err != MAG_OK)
        return t->err;
    entry_key(kb, topic_id, entry_id);
    int rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_ENTRIES], &k, &d, 0);
    return rc != 0 ? mag_store_wfail(t, rc, "entry put") : MAG_OK;
}

mag_rc mag_store_entries_delete(mag_store_wtxn *t, uint64_t topic_id, uint64_t from, uint64_t to)
{
    uint8_t kb[ENTRY_KEY_LEN];
    MDB_val k = { sizeof kb, kb }, d;
    MDB_cursor *cur = NULL;
    uint64_t id;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    if (from > to)
        return MAG_OK;
    rc = mdb_cursor_open(t->txn, t->s->dbi[MAG_DBI_ENTRIES], &cur);
    if (rc != 0)
        return mag_store_wfail(t, rc, "entries delete: cursor");
    entry_key(kb, topic_id, from);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && key_of_topic(&k, topic_id, &id) && id <= to) {
        rc = mdb_cursor_del(cur, 0);
        if (rc != 0)
            break;
        /* After a delete the cursor already sits on the next item; MDB_NEXT
         * returns that item rather than skipping it. */
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return mag_store_wfail(t, rc, "entries delete");
    return MAG_OK;
}

/* ---- reads ---------------------------------------------------------------------------- */

mag_rc mag_store_entry_get(mag_store_rtxn *r, uint64_t topic_id, uint64_t entry_id, mag_entry *e)
{
    uint8_t kb[ENTRY_KEY_LEN];
    MDB_val k = { sizeof kb, kb }, d;
    int rc;

    entry_key(kb, topic_id, entry_id);
    rc = mdb_get(r->txn, r->s->dbi[MAG_DBI_ENTRIES], &k, &d);
    if (rc == MDB_NOTFOUND)
        return MAG_ERR_NOT_FOUND;
    if (rc != 0)
        return mag_store_rfail(rc, "entry get");
    if (mag_entry_decode(d.mv_data, d.mv_size, e) != MAG_OK) {
        mag_error("store: malformed entry %llu:%llu", (unsigned long long)topic_id,
                  (unsigned long long)entry_id);
        return MAG_ERR_STORAGE;
    }
    return MAG_OK;
}

/* Walk topic_id's entries from `from` upwards; visit returns false to stop.
 * Shared by scan, count and storage size. */
typedef bool (*walk_fn)(void *ctx, uint64_t entry_id, const MDB_val *key, const MDB_val *val,
                        mag_rc *err);

static mag_rc walk(mag_store_rtxn *r, uint64_t topic_id, uint64_t from, walk_fn visit, void *ctx)
{
    uint8_t kb[ENTRY_KEY_LEN];
    MDB_val k = { sizeof kb, kb }, d;
    MDB_cursor *cur = NULL;
    mag_rc ret = MAG_OK;
    uint64_t id;
    int rc;

    rc = mag_store_rcursor_get(r, MAG_DBI_ENTRIES, &cur);
    if (rc != 0)
        return mag_store_rfail(rc, "entries cursor");
    entry_key(kb, topic_id, from);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && key_of_topic(&k, topic_id, &id)) {
        if (!visit(ctx, id, &k, &d, &ret))
            break;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mag_store_rcursor_put(r, MAG_DBI_ENTRIES, cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return mag_store_rfail(rc, "entries scan");
    return ret;
}

struct scan_ctx {
    uint64_t topic_id;
    mag_store_entry_cb cb;
    void *ctx;
};

static bool scan_visit(void *vctx, uint64_t entry_id, const MDB_val *key, const MDB_val *val, mag_rc *err)
{
    struct scan_ctx *sc = vctx;
    mag_entry e;

    (void)key;
    if (mag_entry_decode(val->mv_data, val->mv_size, &e) != MAG_OK) {
        mag_error("store: malformed entry %llu:%llu", (unsigned long long)sc->topic_id,
                  (unsigned long long)entry_id);
        *err = MAG_ERR_STORAGE;
        return false;
    }
    return sc->cb(sc->ctx, entry_id, &e);
}

mag_rc mag_store_entries_scan(mag_store_rtxn *r, uint64_t topic_id, uint64_t from,
                              mag_store_entry_cb cb, void *ctx)
{
    struct scan_ctx sc = { topic_id, cb, ctx };
    return walk(r, topic_id, from, scan_visit, &sc);
}

static bool count_visit(void *ctx, uint64_t entry_id, const MDB_val *key, const MDB_val *val, mag_rc *err)
{
    (void)entry_id, (void)key, (void)val, (void)err;
    (*(uint64_t *)ctx)++;
    return true;
}

mag_rc mag_store_entry_count(mag_store_rtxn *r, uint64_t topic_id, uint64_t *count)
{
    *count = 0;
    return walk(r, topic_id, 0, count_visit, count);
}

static bool size_visit(void *ctx, uint64_t entry_id, const MDB_val *key, const MDB_val *val, mag_rc *err)
{
    (void)entry_id, (void)err;
    *(uint64_t *)ctx += key->mv_size + val->mv_size;
    return true;
}

mag_rc mag_store_topic_storage_size(mag_store_rtxn *r, uint64_t topic_id, uint64_t *bytes)
{
    *bytes = 0;
    return walk(r, topic_id, 0, size_visit, bytes);
}

mag_rc mag_store_entry_bounds(mag_store_rtxn *r, uint64_t topic_id, uint64_t *first, uint64_t *last)
{
    uint8_t kb[ENTRY_KEY_LEN];
    MDB_val k = { sizeof kb, kb }, d;
    MDB_cursor *cur = NULL;
    mag_rc ret = MAG_ERR_NOT_FOUND;
    int rc;

    rc = mag_store_rcursor_get(r, MAG_DBI_ENTRIES, &cur);
    if (rc != 0)
        return mag_store_rfail(rc, "entries cursor");
    entry_key(kb, topic_id, 0);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    if (rc != 0 || !key_of_topic(&k, topic_id, first))
        goto out;
    /* Last: position after the topic's range (next topic id), then step back.
     * topic_id == UINT64_MAX has no successor: go to the very last key. */
    if (topic_id == UINT64_MAX) {
        rc = mdb_cursor_get(cur, &k, &d, MDB_LAST);
    } else {
        k.mv_size = sizeof kb;
        k.mv_data = kb;
        entry_key(kb, topic_id + 1, 0);
        rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
        rc = rc == 0 ? mdb_cursor_get(cur, &k, &d, MDB_PREV)
                     : rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &d, MDB_LAST) : rc;
    }
    if (rc != 0 || !key_of_topic(&k, topic_id, last)) {
        ret = MAG_ERR_STORAGE;          /* a first exists, so a last must */
        goto out;
    }
    ret = MAG_OK;
out:
    mag_store_rcursor_put(r, MAG_DBI_ENTRIES, cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return mag_store_rfail(rc, "entry bounds");
    return ret;
}
