/* test_entry.c -- unit tests for the stored-entry codec (storage/entry.c).
 *
 * Checks the exact encoded bytes of a known entry, round trips (full, empty
 * payload, 1 MiB payload, every optional field missing), and that every
 * malformed record -- each truncation, trailing bytes, unknown version, flag or
 * compression -- is refused with MAG_ERR_STORAGE.
 */
#include "mag_test.h"

#include "mag/storage/entry.h"

#include <stdlib.h>

static mag_entry full_entry(void)
{
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.publish_time_ms = 0x0102030405060708LL;
    e.event_time_ms = 5;
    e.deliver_at_ms = -2;
    e.sequence_id = -1;
    e.batch_size = 3;
    e.compression = MAG_ENTRY_COMP_ZSTD;
    e.uncompressed_size = 0x11223344u;
    e.producer_name = "prod";
    e.producer_name_len = 4;
    e.has_key = true;
    e.key = "k1";
    e.key_len = 2;
    e.properties_json = "{\"a\":\"b\"}";
    e.properties_json_len = 9;
    e.replication_clusters_json = "[\"c\"]";
    e.replication_clusters_json_len = 5;
    e.encryption_json = "{}";
    e.encryption_json_len = 2;
    e.payload = (const uint8_t *)"\x00\xffhi";
    e.payload_len = 4;
    return e;
}

static void check_same(const mag_entry *a, const mag_entry *b)
{
    CHECK_EQ_INT(a->publish_time_ms, b->publish_time_ms);
    CHECK_EQ_INT(a->event_time_ms, b->event_time_ms);
    CHECK_EQ_INT(a->deliver_at_ms, b->deliver_at_ms);
    CHECK_EQ_INT(a->sequence_id, b->sequence_id);
    CHECK_EQ_INT(a->batch_size, b->batch_size);
    CHECK_EQ_INT(a->compression, b->compression);
    CHECK_EQ_INT(a->uncompressed_size, b->uncompressed_size);
    CHECK_EQ_INT(a->has_key, b->has_key);
    CHECK_EQ_INT(a->producer_name_len, b->producer_name_len);
    CHECK_EQ_INT(a->key_len, b->key_len);
    CHECK_EQ_INT(a->properties_json_len, b->properties_json_len);
    CHECK_EQ_INT(a->replication_clusters_json_len, b->replication_clusters_json_len);
    CHECK_EQ_INT(a->encryption_json_len, b->encryption_json_len);
    CHECK_EQ_INT(a->payload_len, b->payload_len);
    if (a->producer_name_len == b->producer_name_len && a->producer_name_len)
        CHECK_MEM(a->producer_name, b->producer_name, a->producer_name_len);
    if (a->key_len == b->key_len && a->key_len)
        CHECK_MEM(a->key, b->key, a->key_len);
    if (a->properties_json_len == b->properties_json_len && a->properties_json_len)
        CHECK_MEM(a->properties_json, b->properties_json, a->properties_json_len);
    if (a->replication_clusters_json_len == b->replication_clusters_json_len &&
        a->replication_clusters_json_len)
        CHECK_MEM(a->replication_clusters_json, b->replication_clusters_json,
                  a->replication_clusters_json_len);
    if (a->encryption_json_len == b->encryption_json_len && a->encryption_json_len)
        CHECK_MEM(a->encryption_json, b->encryption_json, a->encryption_json_len);
    if (a->payload_len == b->payload_len && a->payload_len)
        CHECK_MEM(a->payload, b->payload, a->payload_len);
}

MAG_TEST(test_exact_bytes)
{
    static const uint8_t want[] = {
        1, 1, 3,                                    /* version, has_key, zstd */
        1, 2, 3, 4, 5, 6, 7, 8,                     /* publish */
        0, 0, 0, 0, 0, 0, 0, 5,                     /* event */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, /* deliver_at = -2 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* sequence = -1 */
        0, 0, 0, 3,                                 /* batch */
        0x11, 0x22, 0x33, 0x44,                     /* uncompressed */
        0, 0, 0, 4, 0, 0, 0, 2, 0, 0, 0, 9, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 4,
        'p', 'r', 'o', 'd', 'k', '1', '{', '"', 'a', '"', ':', '"', 'b', '"', '}',
        '[', '"', 'c', '"', ']', '{', '}', 0x00, 0xff, 'h', 'i'
    };
    mag_entry e = full_entry(), d;
    uint8_t out[sizeof want + 8];

    CHECK_EQ_INT(mag_entry_validate(&e), MAG_OK);
    CHECK_EQ_INT(mag_entry_encoded_size(&e), sizeof want);
    memset(out, 0xaa, sizeof out);
    mag_entry_encode(&e, out);
    CHECK_MEM(out, want, sizeof want);
    CHECK_EQ_INT(out[sizeof want], 0xaa);        /* nothing written past the end */
    CHECK_EQ_INT(mag_entry_decode(want, sizeof want, &d), MAG_OK);
    check_same(&e, &d);
    /* Zero copy: pointers point into the buffer. */
    CHECK(d.producer_name == (const char *)want + MAG_ENTRY_HEADER_SIZE);
    CHECK(d.payload == want + sizeof want - 4);
}

MAG_TEST(test_missing_optional_fields)
{
    mag_entry e, d;
    uint8_t *buf;

    memset(&e, 0, sizeof e);
    e.publish_time_ms = 42;
    e.sequence_id = -1;
    e.has_key = false;
    e.key = "ignored";
    e.key_len = 7;                              /* ignored when has_key is false */
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_OK);
    CHECK_EQ_INT(mag_entry_encoded_size(&e), MAG_ENTRY_HEADER_SIZE);
    buf = malloc(MAG_ENTRY_HEADER_SIZE);
    mag_entry_encode(&e, buf);
    CHECK_EQ_INT(buf[1], 0);
    CHECK_EQ_INT(mag_entry_decode(buf, MAG_ENTRY_HEADER_SIZE, &d), MAG_OK);
    CHECK_EQ_INT(d.publish_time_ms, 42);
    CHECK_EQ_INT(d.sequence_id, -1);
    CHECK_EQ_INT(d.has_key, false);
    CHECK(d.key == NULL);
    CHECK_EQ_INT(d.key_len, 0);
    CHECK_EQ_INT(d.payload_len, 0);
    CHECK(d.payload != NULL);
    CHECK(d.properties_json != NULL);
    CHECK_EQ_INT(d.properties_json_len, 0);
    CHECK_EQ_INT(d.encryption_json_len, 0);
    free(buf);
}

MAG_TEST(test_empty_key_present)
{
    mag_entry e = full_entry(), d;
    uint8_t buf[256];

    e.key = "";
    e.key_len = 0;
    mag_entry_encode(&e, buf);
    CHECK_EQ_INT(mag_entry_decode(buf, mag_entry_encoded_size(&e), &d), MAG_OK);
    CHECK_EQ_INT(d.has_key, true);
    CHECK(d.key != NULL);
    CHECK_EQ_INT(d.key_len, 0);
}

MAG_TEST(test_big_payload)
{
    size_t n = 1024 * 1024;
    uint8_t *payload = malloc(n), *buf;
    mag_entry e = full_entry(), d;

    for (size_t i = 0; i < n; i++)
        payload[i] = (uint8_t)(i * 31 + 7);
    e.payload = payload;
    e.payload_len = n;
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_OK);
    CHECK_EQ_INT(mag_entry_encoded_size(&e), MAG_ENTRY_HEADER_SIZE + 22 + n);
    buf = malloc(mag_entry_encoded_size(&e));
    mag_entry_encode(&e, buf);
    CHECK_EQ_INT(mag_entry_decode(buf, mag_entry_encoded_size(&e), &d), MAG_OK);
    check_same(&e, &d);
    free(buf);
    free(payload);
}

MAG_TEST(test_empty_payload)
{
    mag_entry e = full_entry(), d;
    uint8_t buf[256];

    e.payload = NULL;
    e.payload_len = 0;
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_OK);
    mag_entry_encode(&e, buf);
    CHECK_EQ_INT(mag_entry_decode(buf, mag_entry_encoded_size(&e), &d), MAG_OK);
    check_same(&e, &d);
    CHECK_EQ_INT(d.payload_len, 0);
}

MAG_TEST(test_truncated_and_trailing)
{
    mag_entry e = full_entry(), d;
    size_t n = mag_entry_encoded_size(&e);
    uint8_t buf[256];

    mag_entry_encode(&e, buf);
    /* Every strict prefix is refused (copied to an exact-size heap block so a
     * sanitizer catches any read past it). */
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, buf, cut);
        if (mag_entry_decode(p, cut, &d) != MAG_ERR_STORAGE) {
            fprintf(stderr, "prefix of %zu bytes accepted\n", cut);
            CHECK(0);
        }
        free(p);
    }
    buf[n] = 0;
    CHECK_EQ_INT(mag_entry_decode(buf, n + 1, &d), MAG_ERR_STORAGE);
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_OK);
}

MAG_TEST(test_bad_header_fields)
{
    mag_entry e = full_entry(), d;
    size_t n = mag_entry_encoded_size(&e);
    uint8_t buf[256];

    mag_entry_encode(&e, buf);
    buf[0] = 2;                                 /* unknown version */
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_ERR_STORAGE);
    buf[0] = 1;
    buf[1] = 0x03;                              /* unknown flag bit */
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_ERR_STORAGE);
    buf[1] = 0x00;                              /* no key but key_len = 2 */
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_ERR_STORAGE);
    buf[1] = 0x01;
    buf[2] = 5;                                 /* unknown compression */
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_ERR_STORAGE);
    buf[2] = 4;
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_OK);
    /* A length that points past the end (payload length + 1). */
    buf[MAG_ENTRY_HEADER_SIZE - 1]++;
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_ERR_STORAGE);
    /* A huge length must not wrap the bounds check. */
    buf[MAG_ENTRY_HEADER_SIZE - 1]--;
    memset(buf + 43, 0xff, 4);
    CHECK_EQ_INT(mag_entry_decode(buf, n, &d), MAG_ERR_STORAGE);
}

MAG_TEST(test_validate)
{
    mag_entry e = full_entry();

    e.compression = 5;
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_ERR_BAD_REQUEST);
    e = full_entry();
    e.properties_json = NULL;
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_ERR_BAD_REQUEST);
    e = full_entry();
    e.payload_len = (size_t)UINT32_MAX + 1;     /* never dereferenced */
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_ERR_TOO_LARGE);
    e = full_entry();
    e.payload_len = UINT32_MAX;                 /* fits a field, not the record */
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_ERR_TOO_LARGE);
    e = full_entry();
    e.has_key = false;
    e.key = NULL;                               /* absent key may keep a length */
    CHECK_EQ_INT(mag_entry_validate(&e), MAG_OK);
}

int main(void)
{
    RUN(test_exact_bytes);
    RUN(test_missing_optional_fields);
    RUN(test_empty_key_present);
    RUN(test_big_payload);
    RUN(test_empty_payload);
    RUN(test_truncated_and_trailing);
    RUN(test_bad_header_fields);
    RUN(test_validate);
    return mag_test_summary();
}
