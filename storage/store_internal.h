/* store_internal.h -- private state shared by the storage/store*.c files.
 *
 * The store spans several .c files (environment and transactions, entries,
 * cursors, topics and meta); this header is the contract between them and is
 * not part of the public API. It is the only header besides the .c files that
 * includes lmdb.h.
 */
#ifndef MAG_STORAGE_STORE_INTERNAL_H
#define MAG_STORAGE_STORE_INTERNAL_H

#include "mag/storage/store.h"
#include "mag/util/bytes.h"

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

enum mag_store_dbi_idx {
    MAG_DBI_TOPICS = 0,
    MAG_DBI_ENTRIES,
    MAG_DBI_CURSORS,
    MAG_DBI_META,
    MAG_DBI_COUNT
};

/* Reserved meta keys. */
#define MAG_META_FORMAT_VERSION "format_version"
#define MAG_META_NEXT_TOPIC_ID "next_topic_id"

struct mag_store_wtxn {
    mag_store *s;
    MDB_txn *txn;
    mag_rc err;               /* first LMDB failure; MAG_OK while healthy */
};

/* A read snapshot keeps one cached cursor per DBI across reset/renew. A
 * cursor in use by an outer scan is "busy"; nested scans open a temporary one. */
struct mag_store_rtxn {
    mag_store *s;
    MDB_txn *txn;
    MDB_cursor *cur[MAG_DBI_COUNT];
    bool cur_busy[MAG_DBI_COUNT];
    bool cur_valid[MAG_DBI_COUNT];   /* bound to the current snapshot */
    struct mag_store_rtxn *next;     /* free list */
};

struct mag_store {
    MDB_env *env;
    MDB_dbi dbi[MAG_DBI_COUNT];
    bool read_only;
    bool sync;                       /* commits fsync (no MDB_NOSYNC) */
    atomic_bool writing;             /* a write transaction is open */
    struct mag_store_wtxn wtxn;      /* the one write transaction */
    pthread_mutex_t rlock;           /* protects rfree */
    struct mag_store_rtxn *rfree;    /* ended snapshots, ready for renew */
    char *dir;
};

/* Map an LMDB error to a mag_rc (MDB_MAP_FULL -> MAG_ERR_MAP_FULL, else STORAGE). */
mag_rc mag_store_map_rc(int mdb_rc);

/* Record an LMDB failure in t (first one wins, logged once with `what`);
 * returns the transaction's error. */
mag_rc mag_store_wfail(mag_store_wtxn *t, int mdb_rc, const char *what);

/* Log a read-side LMDB failure and map it. */
mag_rc mag_store_rfail(int mdb_rc, const char *what);

/* Borrow a cursor on DBI idx for the snapshot r; release with
 * mag_store_rcursor_put(). Returns an LMDB error code (0 on success). */
int mag_store_rcursor_get(mag_store_rtxn *r, enum mag_store_dbi_idx idx, MDB_cursor **out);
void mag_store_rcursor_put(mag_store_rtxn *r, enum mag_store_dbi_idx idx, MDB_cursor *cur);

/* Delete every cursor of topic_id (topic deletion). Poisons t on LMDB errors. */
mag_rc mag_store_cursors_delete_all(mag_store_wtxn *t, uint64_t topic_id);

#endif /* MAG_STORAGE_STORE_INTERNAL_H */
