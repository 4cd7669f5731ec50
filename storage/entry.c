/* entry.c -- pure codec for stored message entries (see include/mag/storage/entry.h).
 *
 * Encoding writes into caller memory (in practice an MDB_RESERVE'd value, so a
 * publish costs no extra copy); decoding bounds-checks every length against
 * the record before pointing into it. Integers are read byte by byte because
 * LMDB values are only 2-byte aligned.
 */
#include "mag/storage/entry.h"

#include <string.h>

/* Offsets of the fixed header fields. */
enum {
    OFF_VERSION = 0,
    OFF_FLAGS = 1,
    OFF_COMPRESSION = 2,
    OFF_PUBLISH = 3,
    OFF_EVENT = 11,
    OFF_DELIVER_AT = 19,
    OFF_SEQUENCE = 27,
    OFF_BATCH = 35,
    OFF_UNCOMPRESSED = 39,
    OFF_LENS = 43,              /* six u32 lengths */
    NFIELDS = 6
};

#define FLAG_HAS_KEY 0x01u

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void put_i64(uint8_t *p, int64_t sv)
{
    uint64_t v = (uint64_t)sv;
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t get_i64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

/* The six variable fields in storage order; a NULL-free view of e. */
static void field_lens(const mag_entry *e, size_t lens[NFIELDS])
{
    lens[0] = e->producer_name_len;
    lens[1] = e->has_key ? e->key_len : 0;
    lens[2] = e->properties_json_len;
    lens[3] = e->replication_clusters_json_len;
    lens[4] = e->encryption_json_len;
    lens[5] = e->payload_len;
}

static void field_ptrs(const mag_entry *e, const void *ptrs[NFIELDS])
{
    ptrs[0] = e->producer_name;
    ptrs[1] = e->has_key ? e->key : NULL;
    ptrs[2] = e->properties_json;
    ptrs[3] = e->replication_clusters_json;
    ptrs[4] = e->encryption_json;
    ptrs[5] = e->payload;
}

mag_rc mag_entry_validate(const mag_entry *e)
{
    size_t lens[NFIELDS];
    const void *ptrs[NFIELDS];
    uint64_t total = MAG_ENTRY_HEADER_SIZE;

    if (e->compression > MAG_ENTRY_COMP_SNAPPY)
        return MAG_ERR_BAD_REQUEST;
    field_lens(e, lens);
    field_ptrs(e, ptrs);
    for (int i = 0; i < NFIELDS; i++) {
        if (lens[i] > MAG_ENTRY_FIELD_MAX)
            return MAG_ERR_TOO_LARGE;
        if (lens[i] && !ptrs[i])
            return MAG_ERR_BAD_REQUEST;
        total += lens[i];
    }
    /* Each length fits in 32 bits, so six of them cannot overflow a u64. */
    if (total > UINT32_MAX)
        return MAG_ERR_TOO_LARGE;
    return MAG_OK;
}

size_t mag_entry_encoded_size(const mag_entry *e)
{
    size_t lens[NFIELDS];
    size_t total = MAG_ENTRY_HEADER_SIZE;

    field_lens(e, lens);
    for (int i = 0; i < NFIELDS; i++)
        total += lens[i];
    return total;
}

void mag_entry_encode(const mag_entry *e, uint8_t *out)
{
    size_t lens[NFIELDS];
    const void *ptrs[NFIELDS];
    uint8_t *p = out + MAG_ENTRY_HEADER_SIZE;

    field_lens(e, lens);
    field_ptrs(e, ptrs);
    out[OFF_VERSION] = MAG_ENTRY_VERSION;
    out[OFF_FLAGS] = e->has_key ? FLAG_HAS_KEY : 0;
    out[OFF_COMPRESSION] = e->compression;
    put_i64(out + OFF_PUBLISH, e->publish_time_ms);
    put_i64(out + OFF_EVENT, e->event_time_ms);
    put_i64(out + OFF_DELIVER_AT, e->deliver_at_ms);
    put_i64(out + OFF_SEQUENCE, e->sequence_id);
    put_u32(out + OFF_BATCH, e->batch_size);
    put_u32(out + OFF_UNCOMPRESSED, e->uncompressed_size);
    for (int i = 0; i < NFIELDS; i++) {
        put_u32(out + OFF_LENS + 4 * i, (uint32_t)lens[i]);
        if (lens[i]) {
            memcpy(p, ptrs[i], lens[i]);
            p += lens[i];
        }
    }
}

mag_rc mag_entry_decode(const uint8_t *buf, size_t len, mag_entry *e)
{
    const uint8_t *ptrs[NFIELDS];
    size_t lens[NFIELDS];
    size_t off = MAG_ENTRY_HEADER_SIZE;

    if (len < MAG_ENTRY_HEADER_SIZE || buf[OFF_VERSION] != MAG_ENTRY_VERSION)
        return MAG_ERR_STORAGE;
    if ((buf[OFF_FLAGS] & ~FLAG_HAS_KEY) != 0 || buf[OFF_COMPRESSION] > MAG_ENTRY_COMP_SNAPPY)
        return MAG_ERR_STORAGE;
    for (int i = 0; i < NFIELDS; i++) {
        lens[i] = get_u32(buf + OFF_LENS + 4 * i);
        /* Compare against what is left, never add first: no overflow. */
        if (lens[i] > len - off)
            return MAG_ERR_STORAGE;
        ptrs[i] = buf + off;
        off += lens[i];
    }
    if (off != len)
        return MAG_ERR_STORAGE;
    e->has_key = (buf[OFF_FLAGS] & FLAG_HAS_KEY) != 0;
    if (!e->has_key && lens[1] != 0)
        return MAG_ERR_STORAGE;
    e->compression = buf[OFF_COMPRESSION];
    e->publish_time_ms = get_i64(buf + OFF_PUBLISH);
    e->event_time_ms = get_i64(buf + OFF_EVENT);
    e->deliver_at_ms = get_i64(buf + OFF_DELIVER_AT);
    e->sequence_id = get_i64(buf + OFF_SEQUENCE);
    e->batch_size = get_u32(buf + OFF_BATCH);
    e->uncompressed_size = get_u32(buf + OFF_UNCOMPRESSED);
    e->producer_name = (const char *)ptrs[0];
    e->producer_name_len = lens[0];
    e->key = e->has_key ? (const char *)ptrs[1] : NULL;
    e->key_len = lens[1];
    e->properties_json = (const char *)ptrs[2];
    e->properties_json_len = lens[2];
    e->replication_clusters_json = (const char *)ptrs[3];
    e->replication_clusters_json_len = lens[3];
    e->encryption_json = (const char *)ptrs[4];
    e->encryption_json_len = lens[4];
    e->payload = ptrs[5];
    e->payload_len = lens[5];
    return MAG_OK;
}
