/* fuzz_entry.c -- fuzz target for the stored-entry codec (storage/entry.c).
 *
 * 1. Decoding arbitrary bytes must never read outside them; an accepted record
 *    must point only inside the input, account for every byte, and re-encode
 *    to exactly the input (the format is canonical).
 * 2. An entry built from the input (fields carved out of it) must survive
 *    encode -> decode unchanged.
 */
#include "mag/storage/entry.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static void require_inside(const void *p, size_t n, const uint8_t *buf, size_t len)
{
    const uint8_t *q = p;
    REQUIRE(q >= buf && q <= buf + len && n <= (size_t)(buf + len - q));
}

static void check_decode(const uint8_t *data, size_t size)
{
    mag_entry e;
    uint8_t *out;

    if (mag_entry_decode(data, size, &e) != MAG_OK)
        return;
    require_inside(e.producer_name, e.producer_name_len, data, size);
    if (e.has_key)
        require_inside(e.key, e.key_len, data, size);
    else
        REQUIRE(e.key == NULL && e.key_len == 0);
    require_inside(e.properties_json, e.properties_json_len, data, size);
    require_inside(e.replication_clusters_json, e.replication_clusters_json_len, data, size);
    require_inside(e.encryption_json, e.encryption_json_len, data, size);
    require_inside(e.payload, e.payload_len, data, size);
    REQUIRE(mag_entry_validate(&e) == MAG_OK);
    REQUIRE(mag_entry_encoded_size(&e) == size);
    out = malloc(size);
    mag_entry_encode(&e, out);
    REQUIRE(memcmp(out, data, size) == 0);
    free(out);
}

/* Carve a field of up to 1/8 of the input, starting at *off. */
static size_t carve(const uint8_t *data, size_t size, size_t *off, const uint8_t **p)
{
    size_t n = size / 8;
    if (*off >= size) {
        *p = NULL;
        return 0;
    }
    if (n > size - *off)
        n = size - *off;
    n = n ? data[*off] % (n + 1) : 0;
    *p = data + *off;
    *off += n ? n : 1;
    return n;
}

static void check_roundtrip(const uint8_t *data, size_t size)
{
    mag_entry e, d;
    const uint8_t *p;
    size_t off = 0, n;
    uint8_t *buf;

    memset(&e, 0, sizeof e);
    if (size >= 8) {
        int64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (int64_t)((uint64_t)v << 8 | data[i]);
        e.publish_time_ms = v;
        e.event_time_ms = ~v;
        e.deliver_at_ms = v / 3;
        e.sequence_id = v ^ INT64_C(0x5555555555555555);
        e.batch_size = (uint32_t)v;
        e.uncompressed_size = (uint32_t)(v >> 32);
        e.compression = (uint8_t)(data[0] % 5);
        e.has_key = (data[1] & 1) != 0;
        off = 8;
    }
    n = carve(data, size, &off, &p); e.producer_name = (const char *)p; e.producer_name_len = n;
    n = carve(data, size, &off, &p); e.key = (const char *)p; e.key_len = n;
    n = carve(data, size, &off, &p); e.properties_json = (const char *)p; e.properties_json_len = n;
    n = carve(data, size, &off, &p); e.replication_clusters_json = (const char *)p;
    e.replication_clusters_json_len = n;
    n = carve(data, size, &off, &p); e.encryption_json = (const char *)p; e.encryption_json_len = n;
    e.payload = off < size ? data + off : NULL;
    e.payload_len = off < size ? size - off : 0;
    REQUIRE(mag_entry_validate(&e) == MAG_OK);
    n = mag_entry_encoded_size(&e);
    buf = malloc(n);
    mag_entry_encode(&e, buf);
    REQUIRE(mag_entry_decode(buf, n, &d) == MAG_OK);
    REQUIRE(d.publish_time_ms == e.publish_time_ms && d.event_time_ms == e.event_time_ms);
    REQUIRE(d.deliver_at_ms == e.deliver_at_ms && d.sequence_id == e.sequence_id);
    REQUIRE(d.batch_size == e.batch_size && d.uncompressed_size == e.uncompressed_size);
    REQUIRE(d.compression == e.compression && d.has_key == e.has_key);
    REQUIRE(d.key_len == (e.has_key ? e.key_len : 0));
    REQUIRE(!e.has_key || e.key_len == 0 || memcmp(d.key, e.key, e.key_len) == 0);
    REQUIRE(d.producer_name_len == e.producer_name_len &&
            (e.producer_name_len == 0 || memcmp(d.producer_name, e.producer_name, e.producer_name_len) == 0));
    REQUIRE(d.properties_json_len == e.properties_json_len &&
            (e.properties_json_len == 0 ||
             memcmp(d.properties_json, e.properties_json, e.properties_json_len) == 0));
    REQUIRE(d.replication_clusters_json_len == e.replication_clusters_json_len &&
            (e.replication_clusters_json_len == 0 ||
             memcmp(d.replication_clusters_json, e.replication_clusters_json,
                    e.replication_clusters_json_len) == 0));
    REQUIRE(d.encryption_json_len == e.encryption_json_len &&
            (e.encryption_json_len == 0 ||
             memcmp(d.encryption_json, e.encryption_json, e.encryption_json_len) == 0));
    REQUIRE(d.payload_len == e.payload_len &&
            (e.payload_len == 0 || memcmp(d.payload, e.payload, e.payload_len) == 0));
    /* And every strict prefix of a valid record is refused. */
    for (size_t cut = 0; cut < n && cut < 80; cut++)
        REQUIRE(mag_entry_decode(buf, cut, &d) == MAG_ERR_STORAGE);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    check_roundtrip(data, size);
    return 0;
}
