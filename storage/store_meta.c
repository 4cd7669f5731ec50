/* store_meta.c -- the `topics` and `meta` databases.
 *
 * Topics map a full topic name (at most MAG_STORE_TOPIC_NAME_MAX bytes, below
 * LMDB's 511-byte key limit) to a record carrying the numeric id used in every
 * other key and as the message-id ledgerId. Ids come from the meta counter
 * "next_topic_id", read and bumped inside the same write transaction, so an
 * aborted batch gives its id back and ids are never reused after a commit.
 * Topic record, version 1 (big-endian):
 *   u8 version | u64 id | u32 partitions | u8 flags (bit0 terminated) | i64 created_ms
 * Meta is a plain string -> bytes map; two keys are reserved for the store.
 */
#include "store_internal.h"

#include "mag/util/log.h"

#include <string.h>

#define TOPIC_VERSION 1
#define TOPIC_REC_LEN 22
#define TOPIC_FLAG_TERMINATED 0x01u

/* ---- topic records ------------------------------------------------------------ */

static void topic_encode(const mag_topic_rec *rec, uint8_t out[TOPIC_REC_LEN])
{
    out[0] = TOPIC_VERSION;
    mag_put_be64(out + 1, rec->id);
    out[9] = (uint8_t)(rec->partitions >> 24);
    out[10] = (uint8_t)(rec->partitions >> 16);
    out[11] = (uint8_t)(rec->partitions >> 8);
    out[12] = (uint8_t)rec->partitions;
    out[13] = rec->terminated ? TOPIC_FLAG_TERMINATED : 0;
    mag_put_be64(out + 14, (uint64_t)rec->created_ms);
}

static mag_rc topic_decode(const MDB_val *d, mag_topic_rec *rec)
{
    const uint8_t *p = d->mv_data;

    if (d->mv_size != TOPIC_REC_LEN || p[0] != TOPIC_VERSION || (p[13] & ~TOPIC_FLAG_TERMINATED)) {
        mag_error("store: malformed topic record");
        return MAG_ERR_STORAGE;
    }
    rec->id = mag_get_be64(p + 1);
    rec->partitions = (uint32_t)p[9] << 24 | (uint32_t)p[10] << 16 | (uint32_t)p[11] << 8 | p[12];
    rec->terminated = (p[13] & TOPIC_FLAG_TERMINATED) != 0;
    rec->created_ms = (int64_t)mag_get_be64(p + 14);
    return MAG_OK;
}

static mag_rc topic_key(MDB_val *k, const char *name, size_t len)
{
    if (len == 0 || len > MAG_STORE_TOPIC_NAME_MAX)
        return MAG_ERR_TOO_LARGE;
    k->mv_size = len;
    k->mv_data = (void *)name;
    return MAG_OK;
}

/* Look up name inside the write txn. MAG_ERR_NOT_FOUND when absent. */
static mag_rc topic_get_w(mag_store_wtxn *t, MDB_val *k, mag_topic_rec *rec)
{
    MDB_val d;
    int rc = mdb_get(t->txn, t->s->dbi[MAG_DBI_TOPICS], k, &d);

    if (rc == MDB_NOTFOUND)
        return MAG_ERR_NOT_FOUND;
    if (rc != 0)
        return mag_store_wfail(t, rc, "topic get");
    return topic_decode(&d, rec);
}

mag_rc mag_store_topic_create(mag_store_wtxn *t, const char *name, size_t len, mag_topic_rec *rec)
{
    MDB_val k, d, nk = { strlen(MAG_META_NEXT_TOPIC_ID), (void *)MAG_META_NEXT_TOPIC_ID };
    uint8_t vb[TOPIC_REC_LEN], nb[8];
    mag_topic_rec copy = *rec;
    uint64_t id = 1;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    ret = topic_key(&k, name, len);
    if (ret != MAG_OK)
        return ret;
    rc = mdb_get(t->txn, t->s->dbi[MAG_DBI_META], &nk, &d);
    if (rc == 0 && d.mv_size == 8) {
        id = mag_get_be64(d.mv_data);
    } else if (rc == 0) {
        mag_error("store: malformed next_topic_id");
        return MAG_ERR_STORAGE;
    } else if (rc != MDB_NOTFOUND) {
        return mag_store_wfail(t, rc, "read next_topic_id");
    }
    copy.id = id;
    topic_encode(&copy, vb);
    d.mv_size = sizeof vb;
    d.mv_data = vb;
    rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_TOPICS], &k, &d, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
        return MAG_ERR_CONFLICT;
    if (rc != 0)
        return mag_store_wfail(t, rc, "topic create");
    mag_put_be64(nb, id + 1);
    d.mv_size = sizeof nb;
    d.mv_data = nb;
    rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_META], &nk, &d, 0);
    if (rc != 0)
        return mag_store_wfail(t, rc, "bump next_topic_id");
    rec->id = id;
    return MAG_OK;
}

mag_rc mag_store_topic_update(mag_store_wtxn *t, const char *name, size_t len, const mag_topic_rec *rec)
{
    MDB_val k, d;
    uint8_t vb[TOPIC_REC_LEN];
    mag_topic_rec old;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    ret = topic_key(&k, name, len);
    if (ret != MAG_OK)
        return ret;
    ret = topic_get_w(t, &k, &old);
    if (ret != MAG_OK)
        return ret;
    if (old.id != rec->id)
        return MAG_ERR_CONFLICT;
    topic_encode(rec, vb);
    d.mv_size = sizeof vb;
    d.mv_data = vb;
    rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_TOPICS], &k, &d, 0);
    if (rc != 0)
        return mag_store_wfail(t, rc, "topic update");
    return MAG_OK;
}

mag_rc mag_store_topic_delete(mag_store_wtxn *t, const char *name, size_t len, uint64_t topic_id)
{
    MDB_val k;
    mag_topic_rec old;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    ret = topic_key(&k, name, len);
    if (ret != MAG_OK)
        return ret;
    ret = topic_get_w(t, &k, &old);
    if (ret != MAG_OK)
        return ret;
    if (old.id != topic_id)
        return MAG_ERR_CONFLICT;
    rc = mdb_del(t->txn, t->s->dbi[MAG_DBI_TOPICS], &k, NULL);
    if (rc != 0)
        return mag_store_wfail(t, rc, "topic delete");
    ret = mag_store_entries_delete(t, topic_id, 0, UINT64_MAX);
    if (ret != MAG_OK)
        return ret;
    return mag_store_cursors_delete_all(t, topic_id);
}

mag_rc mag_store_topic_get(mag_store_rtxn *r, const char *name, size_t len, mag_topic_rec *rec)
{
    MDB_val k, d;
    mag_rc ret;
    int rc;

    ret = topic_key(&k, name, len);
    if (ret != MAG_OK)
        return ret;
    rc = mdb_get(r->txn, r->s->dbi[MAG_DBI_TOPICS], &k, &d);
    if (rc == MDB_NOTFOUND)
        return MAG_ERR_NOT_FOUND;
    if (rc != 0)
        return mag_store_rfail(rc, "topic get");
    return topic_decode(&d, rec);
}

mag_rc mag_store_topics_scan(mag_store_rtxn *r, mag_store_topic_cb cb, void *ctx)
{
    MDB_cursor *cur = NULL;
    MDB_val k, d;
    mag_topic_rec rec;
    mag_rc ret = MAG_OK;
    int rc;

    rc = mag_store_rcursor_get(r, MAG_DBI_TOPICS, &cur);
    if (rc != 0)
        return mag_store_rfail(rc, "topics cursor");
    rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST);
    while (rc == 0) {
        ret = topic_decode(&d, &rec);
        if (ret != MAG_OK || !cb(ctx, k.mv_data, k.mv_size, &rec))
            goto out;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    if (rc != MDB_NOTFOUND)
        ret = mag_store_rfail(rc, "topics scan");
out:
    mag_store_rcursor_put(r, MAG_DBI_TOPICS, cur);
    return ret;
}

/* ---- meta ------------------------------------------------------------------------ */

static mag_rc meta_key(MDB_val *k, const char *key)
{
    size_t len = strlen(key);

    if (len == 0 || len > MAG_STORE_META_KEY_MAX)
        return MAG_ERR_TOO_LARGE;
    k->mv_size = len;
    k->mv_data = (void *)key;
    return MAG_OK;
}

static bool meta_reserved(const char *key)
{
    return strcmp(key, MAG_META_FORMAT_VERSION) == 0 || strcmp(key, MAG_META_NEXT_TOPIC_ID) == 0;
}

mag_rc mag_store_meta_put(mag_store_wtxn *t, const char *key, const void *val, size_t len)
{
    MDB_val k, d = { len, (void *)val };
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    if (meta_reserved(key))
        return MAG_ERR_BAD_REQUEST;
    ret = meta_key(&k, key);
    if (ret != MAG_OK)
        return ret;
    rc = mdb_put(t->txn, t->s->dbi[MAG_DBI_META], &k, &d, 0);
    if (rc != 0)
        return mag_store_wfail(t, rc, "meta put");
    return MAG_OK;
}

mag_rc mag_store_meta_delete(mag_store_wtxn *t, const char *key)
{
    MDB_val k;
    mag_rc ret;
    int rc;

    if (t->err != MAG_OK)
        return t->err;
    if (meta_reserved(key))
        return MAG_ERR_BAD_REQUEST;
    ret = meta_key(&k, key);
    if (ret != MAG_OK)
        return ret;
    rc = mdb_del(t->txn, t->s->dbi[MAG_DBI_META], &k, NULL);
    if (rc == MDB_NOTFOUND)
        return MAG_ERR_NOT_FOUND;
    if (rc != 0)
        return mag_store_wfail(t, rc, "meta delete");
    return MAG_OK;
}

mag_rc mag_store_meta_get(mag_store_rtxn *r, const char *key, const void **val, size_t *len)
{
    MDB_val k, d;
    mag_rc ret;
    int rc;

    ret = meta_key(&k, key);
    if (ret != MAG_OK)
        return ret;
    rc = mdb_get(r->txn, r->s->dbi[MAG_DBI_META], &k, &d);
    if (rc == MDB_NOTFOUND)
        return MAG_ERR_NOT_FOUND;
    if (rc != 0)
        return mag_store_rfail(rc, "meta get");
    *val = d.mv_data;
    *len = d.mv_size;
    return MAG_OK;
}

mag_rc mag_store_meta_scan(mag_store_rtxn *r, const char *prefix, mag_store_meta_cb cb, void *ctx)
{
    size_t plen = strlen(prefix);
    MDB_val k = { plen, (void *)prefix }, d;
    MDB_cursor *cur = NULL;
    int rc;

    if (plen > MAG_STORE_META_KEY_MAX)      /* no stored key can be that long */
        return MAG_OK;
    rc = mag_store_rcursor_get(r, MAG_DBI_META, &cur);
    if (rc != 0)
        return mag_store_rfail(rc, "meta cursor");
    /* LMDB rejects zero-length keys, so "" starts from the first key. */
    rc = mdb_cursor_get(cur, &k, &d, plen ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && k.mv_size >= plen && memcmp(k.mv_data, prefix, plen) == 0) {
        if (!cb(ctx, k.mv_data, k.mv_size, d.mv_data, d.mv_size))
            break;
        rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
    }
    mag_store_rcursor_put(r, MAG_DBI_META, cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return mag_store_rfail(rc, "meta scan");
    return MAG_OK;
}
