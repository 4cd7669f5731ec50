/* store_cursors.c -- durable subscription cursors (mark-delete + acked ranges).
 *
 * Key: topic_id (u64 BE) | subscription name bytes, so a topic's cursors are
 * one key range (scanned at startup, dropped with the topic).
 * Record, version 1 (integers big-endian):
 *   u8 version | u8 sub_type | i64 mark_delete | u32 nranges
 *   | nranges x (u64 start, u64 end) | u32 extra_len | extra bytes
 * Ranges are stored big-endian and decoded into an aligned scan-private array,
 * because LMDB values are only 2-byte aligned.
 */
#include "store_internal.h"

#include "mag/util/alloc.h"
#include "mag/util/log.h"

#include <stdlib.h>
#include <string.h>

#define CURSOR_VERSION 1
#define CURSOR_FIXED 18             /* version, type, mark_delete, nranges, extra_len */
#define CURSOR_KEY_MAX (8 + MAG_STORE_SUB_NAME_MAX)

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Build the key in kb (CURSOR_KEY_MAX bytes); MAG_ERR_TOO_LARGE for a bad name. */
static mag_rc cursor_key(uint8_t *kb, MDB_val *k, uint64_t topic_id, const char *sub, size_t sublen)
{
    if (sublen == 0 || sublen > MAG_STORE_SUB_NAME_MAX)
        return MAG_ERR_TOO_LARGE;
    mag_put_be64(kb, topic_id);
    memcpy(kb + 8, sub, sublen);
    k->mv_size = 8 + sublen;
    k->mv_data = kb;
    return MAG_OK;
}

/* Ranges must be [start <= end] pairs, strictly ascending, all > mark_delete. */
static mag_rc check_ranges(const mag_cursor_rec *c)
{
    if (c->nranges && !c->ranges)
        return MAG_ERR_BAD_REQUEST;
    if (c->extra_len && !c->extra)
        return MAG_ERR_BAD_REQUEST;
    for (size_t i = 0; i < c->nranges; i++) {
        uint64_t start = c->ranges[2 * i], end = c->ranges[2 * i + 1];
        if (start > end)
            return MAG_ERR_BAD_REQUEST;
        if (c->mark_delete >= 0 && start <= (uint64_t)c->mark_delete)
            return MAG_ERR_BAD_REQUEST;
        if (i > 0 && start <= c->ranges[2 * i - 1])
            return MAG_ERR_BAD_REQUEST;
    }
    return MAG_OK;
}

mag_rc mag_store_cursor_put(mag_store_wtxn *t, uint64_t topic_id, const char *sub, size_t sublen,
                            const mag_cursor_rec *c)
{
    uint8_t kb[CURSOR_KEY_MAX];
    MDB_val k, d;
    uint8_t *p;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    ret = cursor_key(kb, &k, topic_id, sub, sublen);
    if (ret != MAG_OK)
        return ret;
    ret = check_ranges(c);
    if (ret != MAG_OK)
        return ret;
    /* Each term is checked before adding so the sum cannot wrap. */
    if (c->nranges > (UINT32_MAX - CURSOR_FIXED) / 16 ||
        c->extra_len > UINT32_MAX - CURSOR_FIXED - 16 * c->nranges)
        return MAG_ERR_TOO_LARGE;
    d.mv_size = CURSOR_FIXED + 16 * c->nranges + c->extra_len;
    d.mv_data = NULL;
    rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_CURSORS], &k, &d, MDB_RESERVE);
    if (rc != 0)
        return mag_store_wfail(t, rc, "cursor put");
    p = d.mv_data;
    p[0] = CURSOR_VERSION;
    p[1] = c->sub_type;
    mag_put_be64(p + 2, (uint64_t)c->mark_delete);
    put_u32(p + 10, (uint32_t)c->nranges);
    p += 14;
    for (size_t i = 0; i < 2 * c->nranges; i++, p += 8)
        mag_put_be64(p, c->ranges[i]);
    put_u32(p, (uint32_t)c->extra_len);
    if (c->extra_len)
        memcpy(p + 4, c->extra, c->extra_len);
    return MAG_OK;
}

mag_rc mag_store_cursor_delete(mag_store_wtxn *t, uint64_t topic_id, const char *sub, size_t sublen)
{
    uint8_t kb[CURSOR_KEY_MAX];
    MDB_val k;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    ret = cursor_key(kb, &k, topic_id, sub, sublen);
    if (ret != MAG_OK)
        return ret;
    rc = mdb_del(t->txn, t->s->dbi[MAG_DBI_CURSORS], &k, NULL);
    if (rc == MDB_NOTFOUND)
        return MAG_ERR_NOT_FOUND;
    if (rc != 0)
        return mag_store_wfail(t, rc, "cursor delete");
    return MAG_OK;
}

static bool key_of_topic(const MDB_val *k, uint64_t topic_id)
{
    return k->mv_size > 8 && mag_get_be64(k->mv_data) == topic_id;
}

mag_rc mag_store_cursors_delete_all(mag_store_wtxn *t, uint64_t topic_id)
{
    uint8_t kb[8];
    MDB_val k = { sizeof kb, kb }, d;
    MDB_cursor *cur = NULL;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    rc = mdb_cursor_open(t->txn, t->s->dbi[MAG_DBI_CURSORS], &cur);
    if (rc != 0)
        return mag_store_wfail(t, rc, "cursors delete: cursor");
    mag_put_be64(kb, topic_id);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && key_of_topic(&k, topic_id)) {
        rc = mdb_cursor_del(cur, 0);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);   /* see entries_delete */
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return mag_store_wfail(t, rc, "cursors delete");
    return MAG_OK;
}

/* Decode a cursor record; ranges are written to *rbuf (grown as needed, owned
 * by the caller). MAG_ERR_STORAGE if malformed. */
static mag_rc cursor_decode(const uint8_t *p, size_t len, mag_cursor_rec *c, uint64_t **rbuf, size_t *rcap)
{
    size_t n, off;

    if (len < CURSOR_FIXED || p[0] != CURSOR_VERSION)
        return MAG_ERR_STORAGE;
    n = get_u32(p + 10);
    if (n > (len - CURSOR_FIXED) / 16)
        return MAG_ERR_STORAGE;
    off = 14 + 16 * n;
    if (get_u32(p + off) != len - off - 4)
        return MAG_ERR_STORAGE;
    if (2 * n > *rcap) {
        *rcap = 2 * n;
        *rbuf = mag_xrealloc(*rbuf, *rcap * sizeof **rbuf);
    }
    for (size_t i = 0; i < 2 * n; i++)
        (*rbuf)[i] = mag_get_be64(p + 14 + 8 * i);
    c->sub_type = p[1];
    c->mark_delete = (int64_t)mag_get_be64(p + 2);
    c->nranges = n;
    c->ranges = n ? *rbuf : NULL;
    c->extra_len = len - off - 4;
    c->extra = c->extra_len ? p + off + 4 : NULL;
    return MAG_OK;
}

mag_rc mag_store_cursors_scan(mag_store_rtxn *r, uint64_t topic_id, mag_store_cursor_cb cb, void *ctx)
{
    uint8_t kb[8];
    MDB_val k = { sizeof kb, kb }, d;
    MDB_cursor *cur = NULL;
    uint64_t *rbuf = NULL;
    size_t rcap = 0;
    mag_cursor_rec c;
    mag_rc ret = MAG_OK;
    int rc;

    rc = mag_store_rcursor_get(r, MAG_DBI_CURSORS, &cur);
    if (rc != 0)
        return mag_store_rfail(rc, "cursors cursor");
    mag_put_be64(kb, topic_id);
    rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
    while (rc == 0 && key_of_topic(&k, topic_id)) {
        if (cursor_decode(d.mv_data, d.mv_size, &c, &rbuf, &rcap) != MAG_OK) {
            mag_error("store: malformed cursor record on topic %llu", (unsigned long long)topic_id);
            ret = MAG_ERR_STORAGE;
            goto out;
        }
        if (!cb(ctx, (const char *)k.mv_data + 8, k.mv_size - 8, &c))
            goto out;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        ret = mag_store_rfail(rc, "cursors scan");
out:
    mag_store_rcursor_put(r, MAG_DBI_CURSORS, cur);
    free(rbuf);
    return ret;
}
