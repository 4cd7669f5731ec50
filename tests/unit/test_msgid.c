/* test_msgid.c -- unit tests for src/codec/msgid.c.
 *
 * The ids of the 2.10 WebSocket API page and Pulsar PR #3058 plus ids
 * built as MessageIdImpl.toByteArray does (byte-exact), protobuf edge cases
 * (field order, unknown fields, negative int32, truncation) and the
 * re-encoding guarantee that acks depend on.
 */
#include "mag_test.h"
#include "mag/codec/msgid.h"
#include "mag/util/base64.h"

static const char *b64(const mag_msgid *id)
{
    static char s[MAG_MSGID_B64_MAX];
    size_t n = mag_msgid_to_base64(id, s);
    if (n != strlen(s))
        return "BAD LENGTH";
    return s;
}

MAG_TEST(spec_examples_encode)
{
    mag_msgid id;
    mag_msgid_init(&id, 3, 0);
    CHECK_STR(b64(&id), "CAMQADAA");
    uint8_t raw[MAG_MSGID_MAX_BYTES];
    CHECK_EQ_INT(mag_msgid_encode(&id, raw), 6);
    CHECK_MEM(raw, "\x08\x03\x10\x00\x30\x00", 6);

    mag_msgid_init(&id, 12, 5);
    id.partition = 2;
    CHECK_STR(b64(&id), "CAwQBRgCMAA=");

    mag_msgid_init(&id, 12, 5);
    id.batch_index = 3;
    id.batch_size = 10;
    CHECK_STR(b64(&id), "CAwQBSADMAo=");

    mag_msgid_init(&id, 0, 3);
    CHECK_STR(b64(&id), "CAAQAzAA");   /* what 2.10 emits for the doc's CAAQAw== */
}

MAG_TEST(spec_examples_decode)
{
    mag_msgid id;
    CHECK_EQ_INT(mag_msgid_from_base64("CAMQADAA", 8, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 3);
    CHECK_EQ_INT(id.entry, 0);
    CHECK_EQ_INT(id.partition, -1);
    CHECK_EQ_INT(id.batch_index, -1);
    CHECK_EQ_INT(id.batch_size, 0);
    CHECK_STR(b64(&id), "CAMQADAA");

    CHECK_EQ_INT(mag_msgid_from_base64("CMgTEAA=", 8, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 2504);
    CHECK_EQ_INT(id.entry, 0);
    CHECK_EQ_INT(id.batch_size, -1);
    CHECK_STR(b64(&id), "CMgTEAA=");

    CHECK_EQ_INT(mag_msgid_from_base64("CAAQAw==", 8, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 0);
    CHECK_EQ_INT(id.entry, 3);
    CHECK_EQ_INT(id.partition, -1);
    CHECK_EQ_INT(id.batch_index, -1);
    CHECK_EQ_INT(id.batch_size, -1);
    CHECK_STR(b64(&id), "CAAQAw==");    /* pre-2.7 id re-encodes identically */
    CHECK_EQ_INT(mag_msgid_from_base64("CAAQAw", 6, &id), MAG_OK);   /* padding optional */

    CHECK_EQ_INT(mag_msgid_from_base64("CAwQBRgCMAA=", 12, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 12);
    CHECK_EQ_INT(id.entry, 5);
    CHECK_EQ_INT(id.partition, 2);
    CHECK_EQ_INT(id.batch_index, -1);
    CHECK_EQ_INT(id.batch_size, 0);

    CHECK_EQ_INT(mag_msgid_from_base64("CAwQBSADMAo=", 12, &id), MAG_OK);
    CHECK_EQ_INT(id.batch_index, 3);
    CHECK_EQ_INT(id.batch_size, 10);
    CHECK_EQ_INT(id.partition, -1);
}

MAG_TEST(decode_rules)
{
    mag_msgid id;
    /* any field order */
    const uint8_t rev[] = { 0x30, 0x00, 0x10, 0x05, 0x08, 0x0c };
    CHECK_EQ_INT(mag_msgid_decode(rev, sizeof rev, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 12);
    CHECK_EQ_INT(id.entry, 5);
    CHECK_EQ_INT(id.batch_size, 0);
    /* batch_index without batch_size -> batch_size 0 */
    const uint8_t bi[] = { 0x08, 0x01, 0x10, 0x02, 0x20, 0x07 };
    CHECK_EQ_INT(mag_msgid_decode(bi, sizeof bi, &id), MAG_OK);
    CHECK_EQ_INT(id.batch_index, 7);
    CHECK_EQ_INT(id.batch_size, 0);
    /* unknown fields of every wire type are skipped: ack_set (5, varint),
     * 64-bit (field 9), length-delimited first_chunk (7), 32-bit (field 10) */
    const uint8_t unk[] = { 0x08, 0x01, 0x28, 0xff, 0x01, 0x49, 1, 2, 3, 4, 5, 6, 7, 8,
                            0x3a, 0x02, 0x08, 0x01, 0x55, 1, 2, 3, 4, 0x10, 0x02 };
    CHECK_EQ_INT(mag_msgid_decode(unk, sizeof unk, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 1);
    CHECK_EQ_INT(id.entry, 2);
    /* negative int32 as a 10-byte varint */
    const uint8_t neg[] = { 0x08, 0x01, 0x10, 0x02, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0x01, 0x20, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0xff, 0xff, 0x01 };
    CHECK_EQ_INT(mag_msgid_decode(neg, sizeof neg, &id), MAG_OK);
    CHECK_EQ_INT(id.partition, -1);
    CHECK_EQ_INT(id.batch_index, -2);
    /* large ledger/entry */
    mag_msgid big;
    mag_msgid_init(&big, UINT64_MAX, 1ULL << 40);
    uint8_t raw[MAG_MSGID_MAX_BYTES];
    size_t n = mag_msgid_encode(&big, raw);
    CHECK_EQ_INT(n, 1 + 10 + 1 + 6 + 2);
    CHECK_EQ_INT(mag_msgid_decode(raw, n, &id), MAG_OK);
    CHECK(id.ledger == UINT64_MAX);
    CHECK(id.entry == 1ULL << 40);
    /* values encode never writes decode as absent (decode(encode(x)) fixed point) */
    const uint8_t negp[] = { 0x08, 0x01, 0x10, 0x02, 0x18, 0xfd, 0xff, 0xff, 0xff, 0x0f,
                             0x30, 0xfb, 0xff, 0xff, 0xff, 0x0f };
    CHECK_EQ_INT(mag_msgid_decode(negp, sizeof negp, &id), MAG_OK);
    CHECK_EQ_INT(id.partition, -1);
    CHECK_EQ_INT(id.batch_size, -1);
    const uint8_t negbs[] = { 0x08, 0x01, 0x10, 0x02, 0x20, 0x01, 0x30, 0xfb, 0xff, 0xff, 0xff, 0x0f };
    CHECK_EQ_INT(mag_msgid_decode(negbs, sizeof negbs, &id), MAG_OK);
    CHECK_EQ_INT(id.batch_index, 1);
    CHECK_EQ_INT(id.batch_size, 0);
    /* last duplicate wins */
    const uint8_t dup[] = { 0x08, 0x01, 0x10, 0x02, 0x08, 0x09 };
    CHECK_EQ_INT(mag_msgid_decode(dup, sizeof dup, &id), MAG_OK);
    CHECK_EQ_INT(id.ledger, 9);
}

MAG_TEST(decode_errors)
{
    mag_msgid id;
    id.ledger = 77;
    const uint8_t no_entry[] = { 0x08, 0x01 };
    CHECK_EQ_INT(mag_msgid_decode(no_entry, sizeof no_entry, &id), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(id.ledger, 77);   /* untouched on error */
    const uint8_t no_ledger[] = { 0x10, 0x01 };
    CHECK_EQ_INT(mag_msgid_decode(no_ledger, sizeof no_ledger, &id), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_msgid_decode((const uint8_t *)"", 0, &id), MAG_ERR_BAD_REQUEST);
    const uint8_t trunc_varint[] = { 0x08, 0x81 };
    CHECK_EQ_INT(mag_msgid_decode(trunc_varint, sizeof trunc_varint, &id), MAG_ERR_BAD_REQUEST);
    const uint8_t long_varint[] = { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                    0x80, 0x01, 0x10, 0x01 };
    CHECK_EQ_INT(mag_msgid_decode(long_varint, sizeof long_varint, &id), MAG_ERR_BAD_REQUEST);
    const uint8_t group[] = { 0x08, 0x01, 0x10, 0x01, 0x1b };
    CHECK_EQ_INT(mag_msgid_decode(group, sizeof group, &id), MAG_ERR_BAD_REQUEST);
    const uint8_t field0[] = { 0x00, 0x01, 0x08, 0x01, 0x10, 0x01 };
    CHECK_EQ_INT(mag_msgid_decode(field0, sizeof field0, &id), MAG_ERR_BAD_REQUEST);
    const uint8_t ld_over[] = { 0x08, 0x01, 0x10, 0x01, 0x3a, 0x05, 0x00 };
    CHECK_EQ_INT(mag_msgid_decode(ld_over, sizeof ld_over, &id), MAG_ERR_BAD_REQUEST);
    const uint8_t fixed_short[] = { 0x08, 0x01, 0x10, 0x01, 0x49, 0x00 };
    CHECK_EQ_INT(mag_msgid_decode(fixed_short, sizeof fixed_short, &id), MAG_ERR_BAD_REQUEST);
    /* ledger with the wrong wire type is unknown -> required field missing */
    const uint8_t wrong_wire[] = { 0x0a, 0x00, 0x10, 0x01 };
    CHECK_EQ_INT(mag_msgid_decode(wrong_wire, sizeof wrong_wire, &id), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_msgid_from_base64("not base64!", 11, &id), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_msgid_from_base64("", 0, &id), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_msgid_from_base64("CAE=", 4, &id), MAG_ERR_BAD_REQUEST);
}

MAG_TEST(max_size)
{
    mag_msgid id = { UINT64_MAX, UINT64_MAX, INT32_MAX, INT32_MIN, INT32_MAX };
    uint8_t raw[MAG_MSGID_MAX_BYTES];
    size_t n = mag_msgid_encode(&id, raw);
    CHECK_EQ_INT(n, 45);
    char s[MAG_MSGID_B64_MAX];
    CHECK_EQ_INT(mag_msgid_to_base64(&id, s), 60);
    mag_msgid back;
    CHECK_EQ_INT(mag_msgid_from_base64(s, strlen(s), &back), MAG_OK);
    CHECK(back.ledger == UINT64_MAX && back.entry == UINT64_MAX);
    CHECK_EQ_INT(back.partition, INT32_MAX);
    CHECK_EQ_INT(back.batch_index, INT32_MIN);
    CHECK_EQ_INT(back.batch_size, INT32_MAX);
    /* negative partition and batch_size < -1 are not written */
    mag_msgid q = { 1, 2, -5, -1, -7 };
    CHECK_EQ_INT(mag_msgid_encode(&q, raw), 4);
}

MAG_TEST(compare)
{
    mag_msgid a, b;
    mag_msgid_init(&a, 1, 5);
    mag_msgid_init(&b, 1, 5);
    CHECK_EQ_INT(mag_msgid_compare(&a, &b), 0);
    b.batch_size = 9;                    /* ignored */
    CHECK_EQ_INT(mag_msgid_compare(&a, &b), 0);
    b.entry = 6;
    CHECK(mag_msgid_compare(&a, &b) < 0);
    CHECK(mag_msgid_compare(&b, &a) > 0);
    mag_msgid_init(&b, 0, 100);
    CHECK(mag_msgid_compare(&a, &b) > 0);
    mag_msgid_init(&b, 1, 5);
    b.partition = 0;
    CHECK(mag_msgid_compare(&a, &b) < 0);  /* absent partition (-1) first */
    b.partition = -1;
    b.batch_index = 2;
    CHECK(mag_msgid_compare(&a, &b) < 0);
    a.batch_index = 3;
    CHECK(mag_msgid_compare(&a, &b) > 0);
    mag_msgid_init(&b, UINT64_MAX, 0);
    CHECK(mag_msgid_compare(&a, &b) < 0);  /* unsigned ledgers */
}

int main(void)
{
    RUN(spec_examples_encode);
    RUN(spec_examples_decode);
    RUN(decode_rules);
    RUN(decode_errors);
    RUN(max_size);
    RUN(compare);
    return mag_test_summary();
}
