/* entry.h -- pure codec for one stored message entry (the `entries` DBI value).
 *
 * An entry is everything Magnetar must remember about one published message:
 * timestamps, producer, key, properties JSON, compression metadata and the
 * payload. The codec never touches LMDB, sockets or libevent: it works on
 * (const uint8_t *buf, size_t len) so it can be unit-tested and fuzzed, and
 * decoding is zero-copy so a delivery can splice stored bytes straight out of
 * the LMDB map.
 *
 * Wire layout, version 1 (all integers big-endian):
 *   u8 version(=1) | u8 flags (bit0 = has_key, other bits 0) | u8 compression
 *   | i64 publish_time_ms | i64 event_time_ms | i64 deliver_at_ms | i64 sequence_id
 *   | u32 batch_size | u32 uncompressed_size
 *   | u32 len x 6 (producer_name, key, properties_json, replication_clusters_json,
 *                  encryption_json, payload)
 *   | the six byte strings in that order.
 * The record length must be exactly the header plus the six lengths.
 */
#ifndef MAG_STORAGE_ENTRY_H
#define MAG_STORAGE_ENTRY_H

#include "mag/rc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Format version written in the first byte of every encoded entry. */
#define MAG_ENTRY_VERSION 1
/* Size of the fixed part of an encoded entry, in bytes. */
#define MAG_ENTRY_HEADER_SIZE 67
/* Largest length of any one variable field (it is stored as a u32). */
#define MAG_ENTRY_FIELD_MAX UINT32_MAX

/* Compression codes (Pulsar's CompressionType order). */
enum mag_entry_compression {
    MAG_ENTRY_COMP_NONE = 0,
    MAG_ENTRY_COMP_LZ4 = 1,
    MAG_ENTRY_COMP_ZLIB = 2,
    MAG_ENTRY_COMP_ZSTD = 3,
    MAG_ENTRY_COMP_SNAPPY = 4
};

/* One message entry. All pointers are BORROWED: for encoding they belong to
 * the caller; after mag_entry_decode() they point into the decoded buffer and
 * live exactly as long as it does. A pointer may be NULL only when its length
 * is 0. */
typedef struct mag_entry {
    int64_t publish_time_ms;
    int64_t event_time_ms;          /* 0 = none */
    int64_t deliver_at_ms;          /* 0 = immediate */
    int64_t sequence_id;            /* -1 = none */
    uint32_t batch_size;            /* 0 = not a batch entry */
    uint8_t compression;            /* enum mag_entry_compression */
    uint32_t uncompressed_size;
    const char *producer_name; size_t producer_name_len;
    bool has_key; const char *key; size_t key_len;      /* key ignored unless has_key */
    const char *properties_json; size_t properties_json_len;   /* "{...}" text, spliced into deliveries */
    const char *replication_clusters_json; size_t replication_clusters_json_len;
    const char *encryption_json; size_t encryption_json_len;   /* 0 len = none */
    const uint8_t *payload; size_t payload_len;
} mag_entry;

/**
 * Check that e can be encoded and decoded back unchanged.
 * @param[in] e  the entry (not retained).
 * @return MAG_OK; MAG_ERR_TOO_LARGE if a variable field is longer than
 *         MAG_ENTRY_FIELD_MAX or the whole record would exceed UINT32_MAX bytes;
 *         MAG_ERR_BAD_REQUEST if compression is not a known code or a non-empty
 *         field has a NULL pointer.
 */
mag_rc mag_entry_validate(const mag_entry *e);

/**
 * Number of bytes mag_entry_encode() writes for e.
 * @param[in] e  an entry that passes mag_entry_validate() (not retained).
 */
size_t mag_entry_encoded_size(const mag_entry *e);

/**
 * Encode e into out.
 * @param[in]  e    an entry that passes mag_entry_validate() (not retained).
 * @param[out] out  at least mag_entry_encoded_size(e) bytes, any alignment;
 *                  exactly that many bytes are written.
 * @note When e->has_key is false the key is not stored (decode yields
 *       has_key=false, key=NULL, key_len=0).
 */
void mag_entry_encode(const mag_entry *e, uint8_t *out);

/**
 * Decode one entry record.
 * @param[in]  buf  the record (any alignment); len its exact length.
 * @param[out] e    filled in; every pointer points INTO buf (zero copy) and is
 *                  valid as long as buf is. String pointers are never NULL
 *                  except key when has_key is false.
 * @return MAG_OK; MAG_ERR_STORAGE if the record is truncated, has trailing
 *         bytes, an unknown version/flag bit or an unknown compression code.
 *         On error *e is unspecified.
 */
mag_rc mag_entry_decode(const uint8_t *buf, size_t len, mag_entry *e);

#endif /* MAG_STORAGE_ENTRY_H */
