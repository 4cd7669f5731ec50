/* store.c -- the LMDB environment, write transactions and read snapshots.
 *
 * Owns Magnetar's single MDB_env. Open sets every limit before mdb_env_open,
 * clears stale reader slots left by crashed processes, and opens all named
 * DBIs once in one transaction (lmdb.h: DBI handles must not be opened from
 * concurrent transactions). There is exactly one write transaction object,
 * embedded in the store, so a group-commit batch costs no allocation; read
 * snapshots are recycled with mdb_txn_reset/renew and keep their cursors.
 * The topic, entry, cursor and meta operations live in store_*.c.
 */
#include "store_internal.h"

#include "mag/util/alloc.h"
#include "mag/util/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- error helpers --------------------------------------------------------- */

mag_rc mag_store_map_rc(int mdb_rc)
{
    return mdb_rc == MDB_MAP_FULL ? MAG_ERR_MAP_FULL : MAG_ERR_STORAGE;
}

mag_rc mag_store_wfail(mag_store_wtxn *t, int mdb_rc, const char *what)
{
    if (t->err == MAG_OK) {
        t->err = mag_store_map_rc(mdb_rc);
        mag_error("store: %s: %s", what, mdb_strerror(mdb_rc));
    }
    return t->err;
}

mag_rc mag_store_rfail(int mdb_rc, const char *what)
{
    mag_error("store: %s: %s", what, mdb_strerror(mdb_rc));
    return mag_store_map_rc(mdb_rc);
}

/* ---- open / close ------------------------------------------------------------ */

/* mkdir -p: create dir and its missing parents (mode 0700). */
static mag_rc make_dirs(const char *dir)
{
    char *path = mag_xstrdup(dir);
    mag_rc rc = MAG_OK;
    size_t n = strlen(path);

    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST) {
            mag_error("store: cannot create directory %s: %s", path, strerror(errno));
            rc = MAG_ERR_CONFIG;
            goto out;
        }
        path[i] = saved;
    }
out:
    free(path);
    return rc;
}

static mag_rc put_be_meta(MDB_txn *txn, MDB_dbi dbi, const char *key, uint64_t v, size_t width)
{
    uint8_t buf[8];
    MDB_val k = { strlen(key), (void *)key };
    MDB_val d = { width, buf };
    int rc;

    mag_put_be64(buf, v << (8 * (8 - width)));
    rc = mdb_put(txn, dbi, &k, &d, 0);
    if (rc != 0)
        return mag_store_rfail(rc, "initialising meta");
    return MAG_OK;
}

/* Open every DBI, then check (or, for a new env, write) the format version and
 * the topic id counter. Runs in one transaction that is committed so the DBI
 * handles stay valid for the life of the env. */
static mag_rc init_dbis(mag_store *s)
{
    static const char *const names[MAG_DBI_COUNT] = { "topics", "entries", "cursors", "meta" };
    unsigned int flags = s->read_only ? 0 : MDB_CREATE;
    MDB_txn *txn = NULL;
    MDB_val k = { strlen(MAG_META_FORMAT_VERSION), (void *)MAG_META_FORMAT_VERSION };
    MDB_val d;
    mag_rc ret = MAG_ERR_STORAGE;
    int rc;

    rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
    if (rc != 0) {
        ret = mag_store_rfail(rc, "begin init transaction");
        goto out;
    }
    for (int i = 0; i < MAG_DBI_COUNT; i++) {
        rc = mdb_dbi_open(txn, names[i], flags, &s->dbi[i]);
        if (rc != 0) {
            mag_error("store: %s: cannot open database '%s': %s (not a Magnetar data directory?)",
                      s->dir, names[i], mdb_strerror(rc));
            ret = mag_store_map_rc(rc);
            goto out;
        }
    }
    rc = mdb_get(txn, s->dbi[MAG_DBI_META], &k, &d);
    if (rc == 0) {
        const uint8_t *p = d.mv_data;
        uint32_t v = d.mv_size == 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                                      (uint32_t)p[2] << 8 | p[3] : 0;
        if (d.mv_size != 4 || v != MAG_STORE_FORMAT_VERSION) {
            mag_error("store: %s has storage format version %u; this build reads only version %u",
                      s->dir, (unsigned)v, (unsigned)MAG_STORE_FORMAT_VERSION);
            goto out;
        }
    } else if (rc == MDB_NOTFOUND && s->read_only) {
        mag_error("store: %s has no storage format version (not a Magnetar data directory?)", s->dir);
        goto out;
    } else if (rc == MDB_NOTFOUND) {
        ret = put_be_meta(txn, s->dbi[MAG_DBI_META], MAG_META_FORMAT_VERSION,
                          MAG_STORE_FORMAT_VERSION, 4);
        if (ret != MAG_OK)
            goto out;
    } else {
        ret = mag_store_rfail(rc, "reading format version");
        goto out;
    }
    if (!s->read_only) {
        MDB_val nk = { strlen(MAG_META_NEXT_TOPIC_ID), (void *)MAG_META_NEXT_TOPIC_ID };
        rc = mdb_get(txn, s->dbi[MAG_DBI_META], &nk, &d);
        if (rc == MDB_NOTFOUND) {
            ret = put_be_meta(txn, s->dbi[MAG_DBI_META], MAG_META_NEXT_TOPIC_ID, 1, 8);
            if (ret != MAG_OK)
                goto out;
        } else if (rc != 0 || d.mv_size != 8) {
            ret = rc != 0 ? mag_store_rfail(rc, "reading next_topic_id") : MAG_ERR_STORAGE;
            if (rc == 0)
                mag_error("store: %s: malformed next_topic_id", s->dir);
            goto out;
        }
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0) {
        ret = mag_store_rfail(rc, "commit init transaction");
        goto out;
    }
    ret = MAG_OK;
out:
    if (txn)
        mdb_txn_abort(txn);
    return ret;
}

/* The env's files stay mapped and open after their names are gone; only the names go. */
static void unlink_files(const char *dir)
{
    static const char *const names[] = { "data.mdb", "lock.mdb" };
    char path[4096];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) < (int)sizeof path &&
            unlink(path) != 0 && errno != ENOENT)
            mag_warn("store: cannot remove %s: %s", path, strerror(errno));
    }
    if (rmdir(dir) != 0)
        mag_warn("store: cannot remove %s: %s", dir, strerror(errno));
}

mag_rc mag_store_open(mag_store **out, const struct mag_store_opts *o)
{
    mag_store *s = NULL;
    unsigned int flags = MDB_NOTLS;
    int dead = 0;
    mag_rc ret = MAG_ERR_STORAGE;
    int rc;

    *out = NULL;
    if (!o->dir || !o->dir[0]) {
        mag_error("store: no data directory given");
        return MAG_ERR_CONFIG;
    }
    if (!o->read_only) {
        ret = make_dirs(o->dir);
        if (ret != MAG_OK)
            return ret;
    }
    s = mag_xcalloc(1, sizeof *s);
    s->dir = mag_xstrdup(o->dir);
    s->read_only = o->read_only;
    s->sync = o->sync && !o->read_only;
    atomic_init(&s->writing, false);
    pthread_mutex_init(&s->rlock, NULL);

    rc = mdb_env_create(&s->env);
    if (rc != 0) {
        s->env = NULL;
        ret = mag_store_rfail(rc, "mdb_env_create");
        goto out;
    }
    /* Limits must be set before mdb_env_open (lmdb.h). */
    if ((rc = mdb_env_set_maxdbs(s->env, MAG_DBI_COUNT)) != 0 ||
        (o->map_size && (rc = mdb_env_set_mapsize(s->env, o->map_size)) != 0)) {
        ret = mag_store_rfail(rc, "configuring environment");
        goto out;
    }
    if (o->read_only)
        flags |= MDB_RDONLY;
    else if (!o->sync)
        flags |= MDB_NOSYNC;
    rc = mdb_env_open(s->env, o->dir, flags, 0600);
    if (rc != 0) {
        mag_error("store: cannot open %s: %s", o->dir, mdb_strerror(rc));
        ret = rc == ENOENT ? MAG_ERR_CONFIG : MAG_ERR_STORAGE;
        goto out;
    }
    /* Keys: 8-byte topic id + the longest subscription name must fit. */
    if (mdb_env_get_maxkeysize(s->env) < 8 + MAG_STORE_SUB_NAME_MAX) {
        mag_error("store: this LMDB build allows only %d-byte keys; Magnetar needs %d",
                  mdb_env_get_maxkeysize(s->env), 8 + MAG_STORE_SUB_NAME_MAX);
        goto out;
    }
    /* A process killed while reading leaves a reader slot that pins old pages. */
    rc = mdb_reader_check(s->env, &dead);
    if (rc != 0) {
        ret = mag_store_rfail(rc, "mdb_reader_check");
        goto out;
    }
    if (dead > 0)
        mag_warn("store: cleared %d stale reader slot(s) in %s", dead, o->dir);
    ret = init_dbis(s);
    if (ret != MAG_OK)
        goto out;
    if (o->unlinked)
        unlink_files(o->dir);
    *out = s;
    s = NULL;
out:
    mag_store_close(s);
    return ret;
}

static void rtxn_free(mag_store_rtxn *r)
{
    for (int i = 0; i < MAG_DBI_COUNT; i++) {
        if (r->cur[i])
            mdb_cursor_close(r->cur[i]);
    }
    if (r->txn)
        mdb_txn_abort(r->txn);
    free(r);
}

void mag_store_close(mag_store *s)
{
    if (!s)
        return;
    while (s->rfree) {
        mag_store_rtxn *r = s->rfree;
        s->rfree = r->next;
        rtxn_free(r);
    }
    if (s->env)
        mdb_env_close(s->env);
    pthread_mutex_destroy(&s->rlock);
    free(s->dir);
    free(s);
}

/* ---- write transactions ------------------------------------------------------ */

mag_rc mag_store_wbegin(mag_store *s, mag_store_wtxn **out)
{
    int rc;

    *out = NULL;
    if (s->read_only) {
        mag_error("store: write transaction on a read-only store");
        return MAG_ERR_INTERNAL;
    }
    /* LMDB would block (deadlock, same thread) on a second write txn. */
    if (atomic_exchange(&s->writing, true)) {
        mag_error("store: a write transaction is already open");
        return MAG_ERR_INTERNAL;
    }
    rc = mdb_txn_begin(s->env, NULL, 0, &s->wtxn.txn);
    if (rc != 0) {
        atomic_store(&s->writing, false);
        return mag_store_rfail(rc, "begin write transaction");
    }
    s->wtxn.s = s;
    s->wtxn.err = MAG_OK;
    *out = &s->wtxn;
    return MAG_OK;
}

mag_rc mag_store_wcommit(mag_store_wtxn *t)
{
    mag_rc ret = t->err;
    int rc;

    if (ret != MAG_OK) {
        mdb_txn_abort(t->txn);
    } else {
        /* mdb_txn_commit frees the txn whether it succeeds or not. */
        rc = mdb_txn_commit(t->txn);
        if (rc != 0)
            ret = mag_store_rfail(rc, "commit");
    }
    t->txn = NULL;
    atomic_store(&t->s->writing, false);
    return ret;
}

mag_rc mag_store_wcommit_lazy_meta(mag_store_wtxn *t)
{
    /* MDB_NOMETASYNC may be changed at any time (lmdb.h); we hold the write lock. */
    bool toggle = t->s->sync && mdb_env_set_flags(t->s->env, MDB_NOMETASYNC, 1) == 0;
    mag_rc rc = mag_store_wcommit(t);
    if (toggle)
        mdb_env_set_flags(t->s->env, MDB_NOMETASYNC, 0);
    return rc;
}

void mag_store_wabort(mag_store_wtxn *t)
{
    mdb_txn_abort(t->txn);
    t->txn = NULL;
    atomic_store(&t->s->writing, false);
}

/* ---- read snapshots ------------------------------------------------------------ */

mag_rc mag_store_rbegin(mag_store *s, mag_store_rtxn **out)
{
    mag_store_rtxn *r;
    int rc;

    *out = NULL;
    pthread_mutex_lock(&s->rlock);
    r = s->rfree;
    if (r)
        s->rfree = r->next;
    pthread_mutex_unlock(&s->rlock);

    if (r) {
        rc = mdb_txn_renew(r->txn);
        if (rc != 0) {
            rtxn_free(r);
            return mag_store_rfail(rc, "renew read transaction");
        }
    } else {
        r = mag_xcalloc(1, sizeof *r);
        r->s = s;
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &r->txn);
        if (rc != 0) {
            r->txn = NULL;
            rtxn_free(r);
            return mag_store_rfail(rc, "begin read transaction");
        }
    }
    r->next = NULL;
    *out = r;
    return MAG_OK;
}

void mag_store_rend(mag_store_rtxn *r)
{
    mag_store *s = r->s;

    /* Release the snapshot now; keep the handle and cursors for reuse. */
    mdb_txn_reset(r->txn);
    for (int i = 0; i < MAG_DBI_COUNT; i++) {
        r->cur_valid[i] = false;
        r->cur_busy[i] = false;
    }
    pthread_mutex_lock(&s->rlock);
    r->next = s->rfree;
    s->rfree = r;
    pthread_mutex_unlock(&s->rlock);
}

int mag_store_rcursor_get(mag_store_rtxn *r, enum mag_store_dbi_idx idx, MDB_cursor **out)
{
    MDB_dbi dbi = r->s->dbi[idx];
    int rc;

    if (r->cur_busy[idx])       /* nested scan: a temporary cursor */
        return mdb_cursor_open(r->txn, dbi, out);
    if (!r->cur[idx]) {
        rc = mdb_cursor_open(r->txn, dbi, &r->cur[idx]);
        if (rc != 0) {
            r->cur[idx] = NULL;
            return rc;
        }
    } else if (!r->cur_valid[idx]) {
        rc = mdb_cursor_renew(r->txn, r->cur[idx]);
        if (rc != 0)
            return rc;
    }
    r->cur_valid[idx] = true;
    r->cur_busy[idx] = true;
    *out = r->cur[idx];
    return 0;
}

void mag_store_rcursor_put(mag_store_rtxn *r, enum mag_store_dbi_idx idx, MDB_cursor *cur)
{
    if (cur == r->cur[idx])
        r->cur_busy[idx] = false;
    else
        mdb_cursor_close(cur);
}

/* ---- stats ------------------------------------------------------------------------ */

mag_rc mag_store_stats(mag_store *s, struct mag_store_stats *out)
{
    MDB_stat dst;
    mag_store_rtxn *r = NULL;
    struct stat st;
    mdb_filehandle_t fd;
    mag_rc ret;
    int rc;

    struct mag_store_space sp;
    memset(out, 0, sizeof *out);
    if ((ret = mag_store_space(s, false, &sp)) != MAG_OK)
        return ret;
    out->map_size = sp.map_size;
    out->used_bytes = sp.used_bytes;

    ret = mag_store_rbegin(s, &r);
    if (ret != MAG_OK)
        goto out;
    rc = mdb_stat(r->txn, s->dbi[MAG_DBI_ENTRIES], &dst);
    if (rc != 0) {
        ret = mag_store_rfail(rc, "entries stat");
        goto out;
    }
    out->entries_bytes = ((uint64_t)dst.ms_branch_pages + dst.ms_leaf_pages + dst.ms_overflow_pages) *
                         dst.ms_psize;
    /* By descriptor: an --ephemeral store has no file name any more. */
    if (mdb_env_get_fd(s->env, &fd) == 0 && fstat(fd, &st) == 0)
        out->file_bytes = (uint64_t)st.st_size;
    ret = MAG_OK;
out:
    if (r)
        mag_store_rend(r);
    return ret;
}

mag_rc mag_store_space(mag_store *s, bool scan_free, struct mag_store_space *out)
{
    MDB_envinfo info;
    MDB_stat est;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = mdb_env_info(s->env, &info)) != 0 || (rc = mdb_env_stat(s->env, &est)) != 0)
        return mag_store_rfail(rc, "env info");
    out->map_size = info.me_mapsize;
    out->used_bytes = ((uint64_t)info.me_last_pgno + 1) * est.ms_psize;
    if (!scan_free)
        return MAG_OK;

    /* FREE_DBI (0): key = id of the transaction that freed the pages, value =
       an MDB_IDL whose first element is the number of page numbers. */
    mag_store_rtxn *r = NULL;
    mag_rc ret = mag_store_rbegin(s, &r);
    if (ret != MAG_OK)
        return ret;
    MDB_cursor *c = NULL;
    if ((rc = mdb_cursor_open(r->txn, 0, &c)) != 0) {
        mag_store_rend(r);
        return mag_store_rfail(rc, "freelist cursor");
    }
    uint64_t pages = 0;
    MDB_val k, d;
    for (rc = mdb_cursor_get(c, &k, &d, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
        if (d.mv_size >= sizeof(size_t)) {
            size_t n;
            memcpy(&n, d.mv_data, sizeof n);
            pages += n;
        }
    }
    mdb_cursor_close(c);
    mag_store_rend(r);
    if (rc != MDB_NOTFOUND)
        return mag_store_rfail(rc, "freelist scan");
    out->free_bytes = pages * est.ms_psize;
    return MAG_OK;
}
