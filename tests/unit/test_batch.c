/* test_batch.c -- unit tests for src/codec/batch.c.
 *
 * Exact encoded bytes of one message (the documented big-endian layout),
 * round trips of several messages including empty fields and extreme
 * integers, zero messages, zero-copy pointers, every truncation of a valid
 * batch, and each malformed-field rule.
 */
#include "mag_test.h"
#include "mag/codec/batch.h"

#include <stdint.h>

static mag_batch_msg msg(const char *props, const char *key, int64_t et, int64_t seq,
                         const char *payload)
{
    mag_batch_msg m;
    memset(&m, 0, sizeof m);
    m.properties_json = props;
    m.properties_json_len = strlen(props);
    m.has_key = key != NULL;
    m.key = key;
    m.key_len = key ? strlen(key) : 0;
    m.event_time_ms = et;
    m.sequence_id = seq;
    m.payload = (const uint8_t *)payload;
    m.payload_len = strlen(payload);
    return m;
}

static void check_same(const mag_batch_msg *got, const mag_batch_msg *want)
{
    CHECK_EQ_INT(got->properties_json_len, want->properties_json_len);
    if (got->properties_json_len == want->properties_json_len && want->properties_json_len)
        CHECK_MEM(got->properties_json, want->properties_json, want->properties_json_len);
    CHECK_EQ_INT(got->has_key, want->has_key);
    CHECK_EQ_INT(got->key_len, want->has_key ? want->key_len : 0);
    if (want->has_key && got->key_len == want->key_len && want->key_len)
        CHECK_MEM(got->key, want->key, want->key_len);
    CHECK(got->event_time_ms == want->event_time_ms);
    CHECK(got->sequence_id == want->sequence_id);
    CHECK_EQ_INT(got->payload_len, want->payload_len);
    if (got->payload_len == want->payload_len && want->payload_len)
        CHECK_MEM(got->payload, want->payload, want->payload_len);
}

MAG_TEST(exact_bytes)
{
    mag_buf b = MAG_BUF_INIT;
    mag_batch_msg m = msg("{\"a\":\"b\"}", "k1", 0x0102030405060708LL, -2, "hi");
    mag_batch_append(&b, &m);
    static const uint8_t want[] = {
        0, 0, 0, 9, '{', '"', 'a', '"', ':', '"', 'b', '"', '}',
        1, 0, 0, 0, 2, 'k', '1',
        1, 2, 3, 4, 5, 6, 7, 8,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
        0, 0, 0, 2, 'h', 'i',
    };
    CHECK_EQ_INT(b.len, sizeof want);
    CHECK_EQ_INT(b.len, MAG_BATCH_MSG_OVERHEAD + 9 + 2 + 2);
    if (b.len == sizeof want)
        CHECK_MEM(b.data, want, sizeof want);
    mag_buf_free(&b);
}

MAG_TEST(no_key_written_empty)
{
    mag_buf b = MAG_BUF_INIT;
    mag_batch_msg m = msg("", NULL, 0, 0, "");
    m.key = "ignored";
    m.key_len = 7; /* ignored because has_key is false */
    mag_batch_append(&b, &m);
    CHECK_EQ_INT(b.len, MAG_BATCH_MSG_OVERHEAD);
    static const uint8_t want[MAG_BATCH_MSG_OVERHEAD] = { 0 };
    CHECK_MEM(b.data, want, MAG_BATCH_MSG_OVERHEAD);
    size_t off = 0;
    mag_batch_msg got;
    CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_OK);
    CHECK_EQ_INT(off, MAG_BATCH_MSG_OVERHEAD);
    CHECK(!got.has_key);
    CHECK_EQ_INT(got.key_len, 0);
    CHECK_EQ_INT(got.properties_json_len, 0);
    CHECK_EQ_INT(got.payload_len, 0);
    CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_AGAIN);
    mag_buf_free(&b);
}

MAG_TEST(round_trip_many)
{
    mag_batch_msg in[5];
    in[0] = msg("{\"p\":\"1\"}", "key-0", 1700000000000LL, 0, "payload zero");
    in[1] = msg("", NULL, -1, -1, "");
    in[2] = msg("{}", "", INT64_MIN, INT64_MAX, "x");
    in[3] = msg("{\"a\":\"\xc3\xa9\"}", "k\xe2\x82\xac", INT64_MAX, INT64_MIN, "bin\x01\x02");
    in[4] = msg("{}", NULL, 42, 7, "last");
    mag_buf b = MAG_BUF_INIT;
    for (int i = 0; i < 5; i++)
        mag_batch_append(&b, &in[i]);
    uint32_t n = 99;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_OK);
    CHECK_EQ_INT(n, 5);

    size_t off = 0;
    mag_batch_msg got;
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_OK);
        check_same(&got, &in[i]);
        /* zero copy: fields point inside the buffer */
        CHECK(got.payload >= b.data && got.payload + got.payload_len <= b.data + b.len);
        CHECK((const uint8_t *)got.properties_json >= b.data);
    }
    CHECK_EQ_INT(off, b.len);
    CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_AGAIN);
    CHECK_EQ_INT(off, b.len);
    mag_buf_free(&b);
}

MAG_TEST(zero_messages)
{
    uint32_t n = 99;
    CHECK_EQ_INT(mag_batch_count(NULL, 0, &n), MAG_OK);
    CHECK_EQ_INT(n, 0);
    size_t off = 0;
    mag_batch_msg m;
    CHECK_EQ_INT(mag_batch_next(NULL, 0, &off, &m), MAG_AGAIN);
    CHECK_EQ_INT(off, 0);
    /* an offset past the end is an error, not "done" */
    off = 5;
    CHECK_EQ_INT(mag_batch_next((const uint8_t *)"abcd", 4, &off, &m), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(off, 5);
}

MAG_TEST(truncation_at_every_byte)
{
    mag_batch_msg in[2] = { msg("{\"x\":\"y\"}", "kk", 5, 6, "abc"),
                            msg("{}", NULL, 7, 8, "defg") };
    mag_buf b = MAG_BUF_INIT;
    mag_batch_append(&b, &in[0]);
    size_t first = b.len;
    mag_batch_append(&b, &in[1]);
    for (size_t cut = 0; cut < b.len; cut++) {
        uint32_t n = 99;
        mag_rc rc = mag_batch_count(b.data, cut, &n);
        if (cut == 0 || cut == first) {
            CHECK_EQ_INT(rc, MAG_OK);
            CHECK_EQ_INT(n, cut == 0 ? 0 : 1);
        } else {
            CHECK_EQ_INT(rc, MAG_ERR_PAYLOAD);
            CHECK_EQ_INT(n, 99);
        }
        /* next on the partial message: error, offset untouched */
        size_t off = cut < first ? 0 : first;
        size_t start = off;
        mag_batch_msg m;
        rc = mag_batch_next(b.data, cut, &off, &m);
        if (cut == start)
            CHECK_EQ_INT(rc, MAG_AGAIN);
        else
            CHECK_EQ_INT(rc, MAG_ERR_PAYLOAD);
        CHECK_EQ_INT(off, start);
    }
    uint32_t n = 0;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_OK);
    CHECK_EQ_INT(n, 2);
    mag_buf_free(&b);
}

MAG_TEST(malformed_fields)
{
    mag_buf b = MAG_BUF_INIT;
    mag_batch_msg m = msg("{}", "k", 1, 2, "p");
    mag_batch_append(&b, &m);
    uint32_t n;
    size_t off;
    mag_batch_msg got;

    /* has_key must be 0 or 1: byte after the 4+2 bytes of properties */
    b.data[6] = 2;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_ERR_PAYLOAD);
    /* has_key 0 with key bytes present */
    b.data[6] = 0;
    off = 0;
    CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(off, 0);
    b.data[6] = 1;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_OK);
    CHECK_EQ_INT(n, 1);

    /* a length that runs past the end (properties length 0xffffffff) */
    b.data[0] = b.data[1] = b.data[2] = b.data[3] = 0xff;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_ERR_PAYLOAD);
    b.data[0] = b.data[1] = b.data[2] = 0;
    b.data[3] = 2;

    /* payload length one too long / one too short (leaves a trailing byte) */
    size_t plen_at = b.len - 1 - 4;
    b.data[plen_at + 3] = 2;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_ERR_PAYLOAD);
    b.data[plen_at + 3] = 0;
    CHECK_EQ_INT(mag_batch_count(b.data, b.len, &n), MAG_ERR_PAYLOAD);
    off = 0;
    CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_OK);
    CHECK_EQ_INT(off, b.len - 1);
    CHECK_EQ_INT(got.payload_len, 0);
    CHECK_EQ_INT(mag_batch_next(b.data, b.len, &off, &got), MAG_ERR_PAYLOAD);
    mag_buf_free(&b);
}

int main(void)
{
    RUN(exact_bytes);
    RUN(no_key_written_empty);
    RUN(round_trip_many);
    RUN(zero_messages);
    RUN(truncation_at_every_byte);
    RUN(malformed_fields);
    return mag_test_summary();
}
