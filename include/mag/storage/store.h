/* store.h -- Magnetar's persistent store: topics, message entries, subscription
 * cursors and metadata in one LMDB environment.
 *
 * storage/ is the only module that includes lmdb.h. Writes are grouped: the
 * broker stages the publishes and acks that arrive while the previous commit
 * runs into ONE write transaction (committed on its writer thread; the
 * environment is opened MDB_NOTLS for that) and answers producers only after
 * mag_store_wcommit() succeeded (a message is durable before it is
 * acknowledged). One write transaction at a time, from any one thread. Reads
 * are short zero-copy snapshots that never outlive an event-loop turn.
 *
 * Named databases (integer keys are big-endian so byte order is numeric order):
 *   topics  : full topic name (<= MAG_STORE_TOPIC_NAME_MAX bytes) -> topic record
 *   entries : topic_id u64 | entry_id u64                       -> mag_entry (entry.h)
 *   cursors : topic_id u64 | subscription name                  -> cursor record
 *   meta    : key string -> bytes; "format_version" (u32 BE = 1) and
 *             "next_topic_id" (u64 BE) are reserved, everything else is the broker's.
 * Every record starts with a version byte.
 *
 * Caveats (from lmdb.h): open the store once per process and never use it
 * across fork(); a write transaction must be begun, used and finished by one
 * thread and only one exists at a time; keep read snapshots short, or freed
 * pages cannot be reused and the map fills up.
 */
#ifndef MAG_STORAGE_STORE_H
#define MAG_STORAGE_STORE_H

#include "mag/rc.h"
#include "mag/storage/entry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest topic name accepted as a `topics` key. */
#define MAG_STORE_TOPIC_NAME_MAX 480
/* Longest subscription name (cursor key = 8-byte topic id + name <= 511). */
#define MAG_STORE_SUB_NAME_MAX 503
/* Longest meta key. */
#define MAG_STORE_META_KEY_MAX 511
/* Storage format written to meta "format_version". */
#define MAG_STORE_FORMAT_VERSION 1

typedef struct mag_store mag_store;
typedef struct mag_store_wtxn mag_store_wtxn;   /* one write transaction (group commit batch) */
typedef struct mag_store_rtxn mag_store_rtxn;   /* one read snapshot */

struct mag_store_opts {
    const char *dir;          /* created (mkdir -p) if missing; not retained */
    size_t map_size;          /* bytes; 0 = keep the existing env's size (1 MiB for a new one) */
    bool sync;                /* false -> MDB_NOSYNC (ephemeral / journalSyncData=false) */
    bool read_only;           /* open MDB_RDONLY (tools): dir must exist, no writes allowed */
    bool unlinked;            /* remove the files and the directory right after opening: the open
                                 env keeps them alive until close, and nothing is left behind
                                 whatever ends the process (--ephemeral) */
};

/**
 * Open (creating if needed) the store in o->dir.
 * Opens the env with MDB_NOTLS, clears stale reader slots (mdb_reader_check),
 * opens all DBIs in one transaction and checks/initialises "format_version".
 * @param[out] out  the new store; the caller owns it (mag_store_close()).
 * @param[in]  o    options; not retained.
 * @return MAG_OK; MAG_ERR_CONFIG for a missing dir/unusable options;
 *         MAG_ERR_STORAGE when LMDB fails or the data has another format version
 *         (logged); MAG_ERR_MAP_FULL if the map cannot hold the initial records.
 */
mag_rc mag_store_open(mag_store **out, const struct mag_store_opts *o);

/**
 * Close the store and free it. Every write transaction must be finished and
 * every read snapshot ended first. NULL is a no-op.
 */
void mag_store_close(mag_store *s);

typedef struct mag_topic_rec {
    uint64_t id;              /* also the message-id ledgerId; ids start at 1 */
    uint32_t partitions;      /* 0 = not partitioned (a partitioned parent has N>0 and no entries) */
    bool terminated;
    int64_t created_ms;
} mag_topic_rec;

typedef struct mag_cursor_rec {
    uint8_t sub_type;         /* broker's enum, opaque here */
    int64_t mark_delete;      /* every entry id <= mark_delete is acked; -1 = none */
    const uint64_t *ranges;   /* individually acked entry ids > mark_delete as inclusive
                                 [start,end] pairs, ascending, non-overlapping: 2*nranges values */
    size_t nranges;
    const uint8_t *extra; size_t extra_len;   /* opaque broker bytes (batch acks, later) */
} mag_cursor_rec;

/* ---- writes: one transaction per group-commit batch ------------------------
 *
 * Error model: the first LMDB failure inside a transaction is remembered; after
 * it every write call is a no-op returning that same error and
 * mag_store_wcommit() aborts and returns it. MAG_ERR_MAP_FULL means LMDB said
 * MDB_MAP_FULL; every other LMDB failure is MAG_ERR_STORAGE. Argument errors
 * (MAG_ERR_TOO_LARGE, MAG_ERR_BAD_REQUEST) and lookup results
 * (MAG_ERR_NOT_FOUND, MAG_ERR_CONFLICT) change nothing and do NOT poison the
 * transaction.
 */

/**
 * Begin the write transaction.
 * @param[out] out  the transaction; owned by the store, released by
 *                  mag_store_wcommit() or mag_store_wabort() (exactly one of them).
 * @return MAG_OK; MAG_ERR_INTERNAL if a write transaction is already open or
 *         the store is read-only; MAG_ERR_STORAGE if LMDB fails.
 */
mag_rc mag_store_wbegin(mag_store *s, mag_store_wtxn **out);

/**
 * Allocate a new topic id (from meta "next_topic_id") and insert name -> rec.
 * @param[in]     name  topic name, len bytes (need not be NUL-terminated).
 * @param[in,out] rec   partitions/terminated/created_ms are stored; rec->id is set.
 * @return MAG_OK; MAG_ERR_CONFLICT if the name exists (rec->id untouched);
 *         MAG_ERR_TOO_LARGE if len > MAG_STORE_TOPIC_NAME_MAX or len == 0;
 *         MAG_ERR_MAP_FULL / MAG_ERR_STORAGE (txn poisoned).
 */
mag_rc mag_store_topic_create(mag_store_wtxn *t, const char *name, size_t len, mag_topic_rec *rec);

/**
 * Overwrite an existing topic record.
 * @return MAG_OK; MAG_ERR_NOT_FOUND if the name is absent; MAG_ERR_CONFLICT if
 *         the stored id differs from rec->id; MAG_ERR_TOO_LARGE for a bad name
 *         length; MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_topic_update(mag_store_wtxn *t, const char *name, size_t len, const mag_topic_rec *rec);

/**
 * Delete the topic record, all its entries and all its cursors.
 * @return MAG_OK; MAG_ERR_NOT_FOUND if the name is absent; MAG_ERR_CONFLICT if
 *         it maps to another id (nothing deleted); MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_topic_delete(mag_store_wtxn *t, const char *name, size_t len, uint64_t topic_id);

/**
 * Store one entry under (topic_id, entry_id), replacing any previous one.
 * The record is encoded straight into LMDB's reserved value (MDB_RESERVE):
 * no copy of e or its buffers is kept after the call.
 * @return MAG_OK; MAG_ERR_TOO_LARGE / MAG_ERR_BAD_REQUEST if
 *         mag_entry_validate() refuses e; MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_entry_put(mag_store_wtxn *t, uint64_t topic_id, uint64_t entry_id, const mag_entry *e);
/* Same, for a record already encoded with mag_entry_encode (the group commit
   stages encoded entries): stored as-is, without a second encoding pass.
   bytes is copied into the map; the caller keeps ownership. */
mag_rc mag_store_entry_put_encoded(mag_store_wtxn *t, uint64_t topic_id, uint64_t entry_id,
                                   const uint8_t *bytes, size_t len);

/**
 * Delete the entries of topic_id with from <= entry id <= to (trimming the
 * acked backlog). Absent ids are skipped; from > to deletes nothing.
 * @return MAG_OK; MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_entries_delete(mag_store_wtxn *t, uint64_t topic_id, uint64_t from, uint64_t to);

/**
 * Insert or replace the cursor of subscription sub on topic_id.
 * @param[in] sub  sublen bytes, 1..MAG_STORE_SUB_NAME_MAX.
 * @param[in] c    copied into the record; not retained.
 * @return MAG_OK; MAG_ERR_TOO_LARGE for a bad name length or a record over
 *         UINT32_MAX bytes; MAG_ERR_BAD_REQUEST if the ranges are not ascending,
 *         non-overlapping [start<=end] pairs all above mark_delete (or a
 *         non-empty array is NULL); MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_cursor_put(mag_store_wtxn *t, uint64_t topic_id, const char *sub, size_t sublen,
                            const mag_cursor_rec *c);

/**
 * Delete one cursor.
 * @return MAG_OK; MAG_ERR_NOT_FOUND if absent; MAG_ERR_TOO_LARGE for a bad
 *         name length; MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_cursor_delete(mag_store_wtxn *t, uint64_t topic_id, const char *sub, size_t sublen);

/**
 * Insert or replace meta key (NUL-terminated, 1..MAG_STORE_META_KEY_MAX bytes)
 * with len bytes of val (copied).
 * @return MAG_OK; MAG_ERR_BAD_REQUEST for the reserved keys "format_version"
 *         and "next_topic_id"; MAG_ERR_TOO_LARGE for a bad key length;
 *         MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_meta_put(mag_store_wtxn *t, const char *key, const void *val, size_t len);

/**
 * Delete meta key.
 * @return MAG_OK; MAG_ERR_NOT_FOUND if absent; MAG_ERR_BAD_REQUEST for a
 *         reserved key; MAG_ERR_TOO_LARGE; MAG_ERR_MAP_FULL / MAG_ERR_STORAGE.
 */
mag_rc mag_store_meta_delete(mag_store_wtxn *t, const char *key);

/**
 * Commit and release t. On any failure the transaction is aborted and nothing
 * of it is visible.
 * @return MAG_OK; the remembered first error of the transaction;
 *         MAG_ERR_MAP_FULL if the commit hit MDB_MAP_FULL; MAG_ERR_STORAGE otherwise.
 */
mag_rc mag_store_wcommit(mag_store_wtxn *t);

/**
 * Like mag_store_wcommit, with one disk sync instead of two: the data pages
 * are synced, the meta page that makes them current is written but not
 * synced (MDB_NOMETASYNC). A power loss before the next synced commit can
 * roll this transaction back, never corrupt the store; a kill -9 loses
 * nothing. For records that nothing acknowledged depends on until a later
 * commit, e.g. a new topic or subscription: the first publish or ack that
 * relies on one is acknowledged after a fully synced commit, which makes it
 * durable too.
 */
mag_rc mag_store_wcommit_lazy_meta(mag_store_wtxn *t);

/** Abort and release t; nothing of it becomes visible. */
void mag_store_wabort(mag_store_wtxn *t);

/* ---- reads: short snapshots, never held across event-loop turns ----------
 *
 * Every pointer handed out by a read call points into the LMDB map (zero copy)
 * unless stated otherwise and is valid until mag_store_rend(). Read snapshots
 * may be open while the write transaction is (they do not see its changes).
 */

/**
 * Begin a read snapshot. Handles are reused (mdb_txn_reset/renew), so this
 * does not allocate in the steady state.
 * @param[out] out  the snapshot; owned by the store, released by mag_store_rend().
 * @return MAG_OK; MAG_ERR_STORAGE if LMDB fails (e.g. reader table full).
 */
mag_rc mag_store_rbegin(mag_store *s, mag_store_rtxn **out);

/** End a read snapshot; every pointer obtained through it becomes invalid. */
void mag_store_rend(mag_store_rtxn *r);

/**
 * Read one entry.
 * @param[out] e  points into the map, valid until mag_store_rend().
 * @return MAG_OK; MAG_ERR_NOT_FOUND if absent; MAG_ERR_STORAGE if the stored
 *         record is malformed or LMDB fails.
 */
mag_rc mag_store_entry_get(mag_store_rtxn *r, uint64_t topic_id, uint64_t entry_id, mag_entry *e);

/* Entry pointers are valid during the callback and until rend. Return false to stop. */
typedef bool (*mag_store_entry_cb)(void *ctx, uint64_t entry_id, const mag_entry *e);

/**
 * Call cb for each entry of topic_id with id >= from, ascending.
 * cb may call other read functions on the same snapshot.
 * @return MAG_OK (also when cb stopped early or there was nothing);
 *         MAG_ERR_STORAGE for a malformed record or an LMDB failure.
 */
mag_rc mag_store_entries_scan(mag_store_rtxn *r, uint64_t topic_id, uint64_t from,
                              mag_store_entry_cb cb, void *ctx);

/**
 * First and last entry ids of a topic.
 * @return MAG_OK; MAG_ERR_NOT_FOUND when it has none; MAG_ERR_STORAGE.
 */
mag_rc mag_store_entry_bounds(mag_store_rtxn *r, uint64_t topic_id, uint64_t *first, uint64_t *last);

/**
 * Number of entries stored for topic_id (walks the keys; O(n), for tools/stats).
 * @return MAG_OK (0 entries is fine); MAG_ERR_STORAGE.
 */
mag_rc mag_store_entry_count(mag_store_rtxn *r, uint64_t topic_id, uint64_t *count);

/* name points into the map (not NUL-terminated); valid during the callback. */
typedef bool (*mag_store_topic_cb)(void *ctx, const char *name, size_t len, const mag_topic_rec *rec);

/**
 * Call cb for every topic, in name byte order (startup).
 * @return MAG_OK; MAG_ERR_STORAGE for a malformed record or LMDB failure.
 */
mag_rc mag_store_topics_scan(mag_store_rtxn *r, mag_store_topic_cb cb, void *ctx);

/**
 * Look up one topic.
 * @param[out] rec  copied out.
 * @return MAG_OK; MAG_ERR_NOT_FOUND; MAG_ERR_TOO_LARGE for a bad name length;
 *         MAG_ERR_STORAGE.
 */
mag_rc mag_store_topic_get(mag_store_rtxn *r, const char *name, size_t len, mag_topic_rec *rec);

/* sub points into the map; c->ranges points into a scan-private buffer and
 * c->extra into the map: all valid during the callback ONLY. */
typedef bool (*mag_store_cursor_cb)(void *ctx, const char *sub, size_t sublen, const mag_cursor_rec *c);

/**
 * Call cb for every cursor of topic_id, in subscription-name byte order (startup).
 * @return MAG_OK; MAG_ERR_STORAGE for a malformed record or LMDB failure.
 */
mag_rc mag_store_cursors_scan(mag_store_rtxn *r, uint64_t topic_id, mag_store_cursor_cb cb, void *ctx);

/**
 * Read meta key (NUL-terminated).
 * @param[out] val,len  point into the map; valid until mag_store_rend().
 * @return MAG_OK; MAG_ERR_NOT_FOUND if absent; MAG_ERR_TOO_LARGE for a bad key
 *         length; MAG_ERR_STORAGE.
 */
mag_rc mag_store_meta_get(mag_store_rtxn *r, const char *key, const void **val, size_t *len);

/* key/val point into the map (key not NUL-terminated); valid during the callback. */
typedef bool (*mag_store_meta_cb)(void *ctx, const char *key, size_t klen, const void *val, size_t vlen);

/**
 * Call cb for every meta key that starts with prefix ("" = all), in key byte
 * order. The reserved keys are included.
 * @return MAG_OK; MAG_ERR_STORAGE.
 */
mag_rc mag_store_meta_scan(mag_store_rtxn *r, const char *prefix, mag_store_meta_cb cb, void *ctx);

/* ---- stats ---------------------------------------------------------------- */

struct mag_store_stats {
    uint64_t map_size;        /* configured map size in bytes */
    uint64_t used_bytes;      /* (last used page number + 1) * page size */
    uint64_t entries_bytes;   /* pages of the entries DBI * page size */
    uint64_t file_bytes;      /* size of data.mdb on disk */
};

/**
 * Fill *out (uses its own short read snapshot).
 * @return MAG_OK; MAG_ERR_STORAGE.
 */
mag_rc mag_store_stats(mag_store *s, struct mag_store_stats *out);

/* Space in the map, for the broker's publish headroom. */
struct mag_store_space {
    uint64_t map_size;        /* bytes */
    uint64_t used_bytes;      /* (last used page number + 1) * page size */
    uint64_t free_bytes;      /* pages on LMDB's freelist (reusable), counted only if scanned */
};

/**
 * Fill *out. used_bytes and map_size come from the environment info (no
 * transaction); with scan_free, a read snapshot also walks LMDB's freelist
 * (FREE_DBI) to count pages that deletes gave back, which new writes reuse
 * before growing the map. Pages freed after the oldest open snapshot are
 * counted though not reusable yet (an estimate).
 * @return MAG_OK; MAG_ERR_STORAGE.
 */
mag_rc mag_store_space(mag_store *s, bool scan_free, struct mag_store_space *out);

/**
 * Approximate stored bytes of one topic's entries: the sum of key+value sizes.
 * @return MAG_OK (0 when none); MAG_ERR_STORAGE.
 */
mag_rc mag_store_topic_storage_size(mag_store_rtxn *r, uint64_t topic_id, uint64_t *bytes);

#endif /* MAG_STORAGE_STORE_H */
