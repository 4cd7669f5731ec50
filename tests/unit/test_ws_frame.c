/* test_ws_frame.c -- unit tests for the RFC 6455 frame codec (src/codec/ws_frame.c).
 *
 * RFC 6455 §5.7 examples byte for byte, all three length forms at their boundaries, the same
 * frames fed whole and one byte at a time, every protocol-error path (RSV, opcodes, control
 * frame rules, non-minimal lengths, 64-bit top bit, masking, fragmentation sequence), the size
 * limit decided before the payload, and the Close payload helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "mag/codec/ws_frame.h"
#include "mag_test.h"

static const uint8_t MASK[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Build a client frame: first byte b0, payload, masked with MASK unless mask is false. */
static size_t mk_frame(uint8_t *out, uint8_t b0, const void *payload, size_t len, bool mask)
{
    size_t n = mag_ws_frame_header_write(out, true, 0, len);
    out[0] = b0;
    if (mask) {
        out[1] |= 0x80;
        memcpy(out + n, MASK, 4);
        n += 4;
    }
    memcpy(out + n, payload, len);
    if (mask)
        mag_ws_unmask(out + n, len, MASK, 0);
    return n + len;
}

/* Parse one whole frame from buf, feeding `step` bytes at a time (0 = all at once).
 * Returns the rc of the step that ended it; payload copied to out, *consumed total. */
static mag_rc parse_one(mag_ws_parser *p, const uint8_t *buf, size_t len, size_t step,
                        uint8_t *out, size_t *olen, size_t *consumed)
{
    size_t pos = 0;
    *olen = 0;
    mag_rc rc = MAG_AGAIN;
    while (!mag_ws_parser_in_payload(p)) {
        size_t n = step && len - pos > step ? step : len - pos;
        size_t used = 0;
        rc = mag_ws_parse_header(p, buf + pos, n, &used);
        pos += used;
        if (rc != MAG_AGAIN && rc != MAG_OK)
            goto out;
        if (rc == MAG_AGAIN && pos == len)
            goto out;
    }
    for (;;) {
        size_t n = step && len - pos > step ? step : len - pos;
        size_t used = 0;
        rc = mag_ws_parse_payload(p, buf + pos, n, out + *olen, &used);
        pos += used;
        *olen += used;
        if (rc != MAG_AGAIN || pos == len)
            break;
    }
out:
    *consumed = pos;
    return rc;
}

MAG_TEST(rfc_examples_unmasked)
{
    /* §5.7: a single-frame unmasked text message "Hello" (parser not requiring masks). */
    static const uint8_t f1[] = { 0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    mag_ws_parser p;
    uint8_t out[16];
    size_t olen, used;
    mag_ws_parser_init(&p, 0, false);
    CHECK_EQ_INT(parse_one(&p, f1, sizeof f1, 0, out, &olen, &used), MAG_OK);
    CHECK_EQ_INT(used, 7);
    CHECK(p.frame.fin);
    CHECK_EQ_INT(p.frame.opcode, MAG_WS_OP_TEXT);
    CHECK(!p.frame.masked);
    CHECK_EQ_INT(p.frame.payload_len, 5);
    CHECK_EQ_INT(olen, 5);
    CHECK_MEM(out, "Hello", 5);

    /* §5.7: fragmented unmasked text "Hel" + "lo". */
    static const uint8_t f2[] = { 0x01, 0x03, 0x48, 0x65, 0x6c };
    static const uint8_t f3[] = { 0x80, 0x02, 0x6c, 0x6f };
    CHECK_EQ_INT(parse_one(&p, f2, sizeof f2, 0, out, &olen, &used), MAG_OK);
    CHECK(!p.frame.fin);
    CHECK(p.msg_open);
    CHECK_MEM(out, "Hel", 3);
    CHECK_EQ_INT(parse_one(&p, f3, sizeof f3, 0, out, &olen, &used), MAG_OK);
    CHECK(p.frame.fin);
    CHECK_EQ_INT(p.frame.opcode, MAG_WS_OP_CONT);
    CHECK(!p.msg_open);
    CHECK_MEM(out, "lo", 2);

    /* §5.7: unmasked Ping "Hello". */
    static const uint8_t f4[] = { 0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f };
    CHECK_EQ_INT(parse_one(&p, f4, sizeof f4, 0, out, &olen, &used), MAG_OK);
    CHECK_EQ_INT(p.frame.opcode, MAG_WS_OP_PING);
    CHECK_MEM(out, "Hello", 5);

    /* §5.7: 256 bytes and 64 KiB binary headers. */
    static const uint8_t h256[] = { 0x82, 0x7E, 0x01, 0x00 };
    static const uint8_t h64k[] = { 0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00 };
    CHECK_EQ_INT(mag_ws_parse_header(&p, h256, sizeof h256, &used), MAG_OK);
    CHECK_EQ_INT(used, 4);
    CHECK_EQ_INT(p.frame.payload_len, 256);
    CHECK_EQ_INT(mag_ws_parser_remaining(&p), 256);
    mag_ws_parser_init(&p, 0, false);
    CHECK_EQ_INT(mag_ws_parse_header(&p, h64k, sizeof h64k, &used), MAG_OK);
    CHECK_EQ_INT(used, 10);
    CHECK_EQ_INT(p.frame.payload_len, 65536);
}

MAG_TEST(rfc_examples_masked)
{
    /* §5.7: a single-frame masked text "Hello" and a masked Pong "Hello". */
    static const uint8_t f1[] = { 0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51,
                                  0x58 };
    static const uint8_t f2[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51,
                                  0x58 };
    for (size_t step = 0; step <= 3; step++) {
        mag_ws_parser p;
        uint8_t out[16];
        size_t olen, used;
        mag_ws_parser_init(&p, 1024, true);
        CHECK_EQ_INT(parse_one(&p, f1, sizeof f1, step, out, &olen, &used), MAG_OK);
        CHECK_EQ_INT(used, sizeof f1);
        CHECK(p.frame.masked);
        CHECK_MEM(p.frame.mask, MASK, 4);
        CHECK_EQ_INT(olen, 5);
        CHECK_MEM(out, "Hello", 5);
        CHECK_EQ_INT(parse_one(&p, f2, sizeof f2, step, out, &olen, &used), MAG_OK);
        CHECK_EQ_INT(p.frame.opcode, MAG_WS_OP_PONG);
        CHECK_MEM(out, "Hello", 5);
    }
}

MAG_TEST(header_writer_forms)
{
    uint8_t h[MAG_WS_MAX_SERVER_HEADER];
    CHECK_EQ_INT(mag_ws_frame_header_write(h, true, MAG_WS_OP_TEXT, 0), 2);
    CHECK_MEM(h, "\x81\x00", 2);
    CHECK_EQ_INT(mag_ws_frame_header_write(h, true, MAG_WS_OP_TEXT, 125), 2);
    CHECK_MEM(h, "\x81\x7D", 2);
    CHECK_EQ_INT(mag_ws_frame_header_write(h, false, MAG_WS_OP_BINARY, 126), 4);
    CHECK_MEM(h, "\x02\x7E\x00\x7E", 4);
    CHECK_EQ_INT(mag_ws_frame_header_write(h, true, MAG_WS_OP_CLOSE, 65535), 4);
    CHECK_MEM(h, "\x88\x7E\xFF\xFF", 4);
    CHECK_EQ_INT(mag_ws_frame_header_write(h, true, MAG_WS_OP_TEXT, 65536), 10);
    CHECK_MEM(h, "\x81\x7F\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    CHECK_EQ_INT(mag_ws_frame_header_write(h, true, MAG_WS_OP_PONG, UINT64_C(0x0102030405060708)),
                 10);
    CHECK_MEM(h, "\x8A\x7F\x01\x02\x03\x04\x05\x06\x07\x08", 10);
}

/* The client-side writer: RFC 6455 §5.7's masked "Hello" byte for byte, and frames of every
   length form that a server parser (masks required) accepts and unmasks. */
MAG_TEST(client_header_writer)
{
    uint8_t f[MAG_WS_MAX_CLIENT_HEADER + 5];
    size_t n = mag_ws_client_frame_header_write(f, true, MAG_WS_OP_TEXT, 5, MASK);
    CHECK_EQ_INT(n, 6);
    memcpy(f + n, "Hello", 5);
    mag_ws_unmask(f + n, 5, MASK, 0);
    CHECK_MEM(f, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);

    static const size_t lens[] = { 0, 125, 126, 65535, 65536 };
    uint8_t *frame = malloc(65536 + MAG_WS_MAX_CLIENT_HEADER), *out = malloc(65536);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        size_t len = lens[i];
        size_t hl = mag_ws_client_frame_header_write(frame, true, MAG_WS_OP_BINARY, len, MASK);
        CHECK_EQ_INT(hl, len < 126 ? 6 : len <= 0xFFFF ? 8 : 14);
        for (size_t j = 0; j < len; j++)
            frame[hl + j] = (uint8_t)(j * 13 + 1);
        mag_ws_unmask(frame + hl, len, MASK, 0);
        mag_ws_parser p;
        mag_ws_parser_init(&p, 0, true);
        size_t olen = 0, used = 0;
        CHECK_EQ_INT(parse_one(&p, frame, hl + len, 0, out, &olen, &used), MAG_OK);
        CHECK_EQ_INT(used, hl + len);
        CHECK(p.frame.masked);
        CHECK_EQ_INT(p.frame.opcode, MAG_WS_OP_BINARY);
        CHECK_EQ_INT(olen, len);
        bool same = true;
        for (size_t j = 0; j < len; j++)
            same = same && out[j] == (uint8_t)(j * 13 + 1);
        CHECK(same);
    }
    free(frame);
    free(out);
}

MAG_TEST(roundtrip_lengths_bytewise)
{
    static const size_t lens[] = { 0, 1, 124, 125, 126, 127, 1000, 65535, 65536, 70000 };
    uint8_t *payload = malloc(70000), *frame = malloc(70100), *out = malloc(70000);
    for (size_t i = 0; i < 70000; i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t len = lens[li];
        size_t n = mk_frame(frame, 0x82, payload, len, true);
        size_t expect_hdr = (len < 126 ? 2 : len <= 65535 ? 4 : 10) + 4;
        CHECK_EQ_INT(n, expect_hdr + len);
        static const size_t steps[] = { 0, 1, 3, 4096 };
        for (size_t si = 0; si < 4; si++) {
            if (steps[si] == 1 && len > 1000)
                continue;
            mag_ws_parser p;
            size_t olen, used;
            mag_ws_parser_init(&p, 100000, true);
            CHECK_EQ_INT(parse_one(&p, frame, n, steps[si], out, &olen, &used), MAG_OK);
            CHECK_EQ_INT(used, n);
            CHECK_EQ_INT(olen, len);
            CHECK_EQ_INT(p.frame.payload_len, len);
            CHECK(len == 0 || memcmp(out, payload, len) == 0);
            CHECK(!mag_ws_parser_in_payload(&p));
        }
    }
    free(payload);
    free(frame);
    free(out);
}

MAG_TEST(in_place_and_discard)
{
    uint8_t frame[64];
    size_t n = mk_frame(frame, 0x81, "in place!", 9, true);
    mag_ws_parser p;
    size_t used;
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, frame, n, &used), MAG_OK);
    CHECK_EQ_INT(used, 6);
    uint8_t *pl = frame + used;
    CHECK_EQ_INT(mag_ws_parse_payload(&p, pl, 4, pl, &used), MAG_AGAIN);
    CHECK_EQ_INT(used, 4);
    CHECK_EQ_INT(mag_ws_parser_remaining(&p), 5);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, pl + 4, 100, pl + 4, &used), MAG_OK);
    CHECK_EQ_INT(used, 5);
    CHECK_MEM(pl, "in place!", 9);
    /* Discard (out == NULL) still consumes and finishes the frame. */
    n = mk_frame(frame, 0x82, "zzz", 3, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, frame, n, &used), MAG_OK);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, frame + used, 3, NULL, &used), MAG_OK);
    CHECK_EQ_INT(used, 3);
}

MAG_TEST(unmask_offsets)
{
    uint8_t a[37], b[37];
    for (size_t off = 0; off < 8; off++) {
        for (size_t i = 0; i < sizeof a; i++)
            a[i] = b[i] = (uint8_t)(i * 13);
        mag_ws_unmask(a, sizeof a, MASK, off);
        for (size_t i = 0; i < sizeof b; i++)
            b[i] ^= MASK[(i + off) & 3];
        CHECK_MEM(a, b, sizeof a);
    }
}

/* Feed raw header bytes; expect rc from the header call. */
static mag_rc hdr_rc(mag_ws_parser *p, const uint8_t *h, size_t n)
{
    size_t used;
    return mag_ws_parse_header(p, h, n, &used);
}

MAG_TEST(protocol_errors)
{
    mag_ws_parser p;
    static const uint8_t m[4] = { 1, 2, 3, 4 };
    uint8_t h[16];
#define HDR2(b0, b1) (h[0] = (b0), h[1] = (b1), memcpy(h + 2, m, 4), h)
    /* RSV1, RSV2, RSV3 */
    for (int r = 0; r < 3; r++) {
        mag_ws_parser_init(&p, 0, true);
        CHECK_EQ_INT(hdr_rc(&p, HDR2((uint8_t)(0x81 | (0x40 >> r)), 0x80), 6), MAG_ERR_PROTOCOL);
    }
    /* Reserved opcodes. */
    static const int bad_ops[] = { 3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF };
    for (size_t i = 0; i < sizeof bad_ops / sizeof bad_ops[0]; i++) {
        mag_ws_parser_init(&p, 0, true);
        CHECK_EQ_INT(hdr_rc(&p, HDR2((uint8_t)(0x80 | bad_ops[i]), 0x80), 6), MAG_ERR_PROTOCOL);
    }
    /* Control frames: FIN=0 and payload > 125 (the 126/127 length forms). */
    static const uint8_t ctl_ops[] = { 0x8, 0x9, 0xA };
    for (size_t i = 0; i < 3; i++) {
        mag_ws_parser_init(&p, 0, true);
        CHECK_EQ_INT(hdr_rc(&p, HDR2(ctl_ops[i], 0x80), 6), MAG_ERR_PROTOCOL);
        mag_ws_parser_init(&p, 0, true);
        CHECK_EQ_INT(hdr_rc(&p, HDR2((uint8_t)(0x80 | ctl_ops[i]), 0x80 | 126), 2),
                     MAG_ERR_PROTOCOL);
        mag_ws_parser_init(&p, 0, true);
        CHECK_EQ_INT(hdr_rc(&p, HDR2((uint8_t)(0x80 | ctl_ops[i]), 0x80 | 127), 2),
                     MAG_ERR_PROTOCOL);
        mag_ws_parser_init(&p, 0, true);
        CHECK_EQ_INT(hdr_rc(&p, HDR2((uint8_t)(0x80 | ctl_ops[i]), 0x80 | 125), 6), MAG_OK);
    }
    /* Unmasked client frame. */
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x81, 0x05), 2), MAG_ERR_PROTOCOL);
    /* Non-minimal 16-bit length (125 encoded in 16 bits). */
    static const uint8_t nm16[] = { 0x82, 0xFE, 0x00, 0x7D, 1, 2, 3, 4 };
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, nm16, sizeof nm16), MAG_ERR_PROTOCOL);
    /* 126 in 16 bits is minimal. */
    static const uint8_t ok16[] = { 0x82, 0xFE, 0x00, 0x7E, 1, 2, 3, 4 };
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, ok16, sizeof ok16), MAG_OK);
    /* Non-minimal 64-bit length (65535 in 64 bits). */
    static const uint8_t nm64[] = { 0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4 };
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, nm64, sizeof nm64), MAG_ERR_PROTOCOL);
    /* 64-bit length with the top bit set. */
    static const uint8_t top64[] = { 0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, top64, sizeof top64), MAG_ERR_PROTOCOL);
    /* Continuation without a started message. */
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x80, 0x80), 6), MAG_ERR_PROTOCOL);
    /* New TEXT while a fragmented message is open; PING in between is fine. */
    mag_ws_parser_init(&p, 0, true);
    size_t used;
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x01, 0x80), 6), MAG_OK);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, NULL, 0, NULL, &used), MAG_OK);
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x89, 0x80), 6), MAG_OK);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, NULL, 0, NULL, &used), MAG_OK);
    CHECK(p.msg_open);
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x81, 0x80), 6), MAG_ERR_PROTOCOL);
    /* ...and a BINARY too. */
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x01, 0x80), 6), MAG_OK);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, NULL, 0, NULL, &used), MAG_OK);
    CHECK_EQ_INT(hdr_rc(&p, HDR2(0x82, 0x80), 6), MAG_ERR_PROTOCOL);
#undef HDR2
}

MAG_TEST(error_is_detected_early_and_sticky)
{
    mag_ws_parser p;
    size_t used;
    /* The RSV error is reported after 2 bytes even when more are offered. */
    static const uint8_t bad[] = { 0xC1, 0x85, 1, 2, 3, 4, 'x' };
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, bad, sizeof bad, &used), MAG_ERR_PROTOCOL);
    CHECK_EQ_INT(used, 2);
    static const uint8_t good[] = { 0x81, 0x80, 1, 2, 3, 4 };
    CHECK_EQ_INT(mag_ws_parse_header(&p, good, sizeof good, &used), MAG_ERR_PROTOCOL);
    CHECK_EQ_INT(used, 0);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, good, 1, NULL, &used), MAG_ERR_PROTOCOL);
    /* Byte-at-a-time: AGAIN until the second byte decides. */
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, bad, 1, &used), MAG_AGAIN);
    CHECK_EQ_INT(used, 1);
    CHECK_EQ_INT(mag_ws_parse_header(&p, bad + 1, 1, &used), MAG_ERR_PROTOCOL);
    /* Wrong phase calls. */
    mag_ws_parser_init(&p, 0, true);
    CHECK_EQ_INT(mag_ws_parse_payload(&p, good, 1, NULL, &used), MAG_ERR_INTERNAL);
    static const uint8_t withpl[] = { 0x81, 0x81, 1, 2, 3, 4 };
    CHECK_EQ_INT(mag_ws_parse_header(&p, withpl, sizeof withpl, &used), MAG_OK);
    CHECK_EQ_INT(mag_ws_parse_header(&p, withpl, sizeof withpl, &used), MAG_ERR_INTERNAL);
    CHECK_EQ_INT(used, 0);
}

MAG_TEST(too_large_before_payload)
{
    mag_ws_parser p;
    uint8_t frame[64];
    size_t used;
    /* Frame above the limit: refused right after the header, payload not consumed. */
    size_t n = mk_frame(frame, 0x81, "0123456789A", 11, true);
    mag_ws_parser_init(&p, 10, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, frame, n, &used), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(used, 6);
    /* Exactly at the limit is fine. */
    n = mk_frame(frame, 0x81, "0123456789", 10, true);
    mag_ws_parser_init(&p, 10, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, frame, n, &used), MAG_OK);
    /* A 16-bit and a 64-bit declared length above the limit. */
    static const uint8_t big16[] = { 0x81, 0xFE, 0x10, 0x00, 1, 2, 3, 4 };
    static const uint8_t big64[] = { 0x82, 0xFF, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4 };
    mag_ws_parser_init(&p, 1000, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, big16, sizeof big16, &used), MAG_ERR_TOO_LARGE);
    mag_ws_parser_init(&p, 1000, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, big64, sizeof big64, &used), MAG_ERR_TOO_LARGE);
    /* Reassembled message above the limit: 6 + 6 > 10. */
    mag_ws_parser_init(&p, 10, true);
    n = mk_frame(frame, 0x01, "abcdef", 6, true);
    uint8_t out[16];
    size_t olen;
    CHECK_EQ_INT(parse_one(&p, frame, n, 0, out, &olen, &used), MAG_OK);
    n = mk_frame(frame, 0x80, "ghijkl", 6, true);
    CHECK_EQ_INT(mag_ws_parse_header(&p, frame, n, &used), MAG_ERR_TOO_LARGE);
    /* 5 + 5 fits, and a following message starts from zero again. */
    mag_ws_parser_init(&p, 10, true);
    n = mk_frame(frame, 0x01, "abcde", 5, true);
    CHECK_EQ_INT(parse_one(&p, frame, n, 0, out, &olen, &used), MAG_OK);
    n = mk_frame(frame, 0x80, "fghij", 5, true);
    CHECK_EQ_INT(parse_one(&p, frame, n, 0, out, &olen, &used), MAG_OK);
    n = mk_frame(frame, 0x81, "0123456789", 10, true);
    CHECK_EQ_INT(parse_one(&p, frame, n, 0, out, &olen, &used), MAG_OK);
    /* Control frames do not count towards the message size. */
    mag_ws_parser_init(&p, 4, true);
    n = mk_frame(frame, 0x89, "longer ping", 11, true);
    CHECK_EQ_INT(parse_one(&p, frame, n, 0, out, &olen, &used), MAG_OK);
}

MAG_TEST(close_codes)
{
    long bad_valid = 0;
    for (unsigned c = 0; c < 65536; c++) {
        bool expect = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
                      (c >= 3000 && c <= 4999);
        bad_valid += mag_ws_close_code_valid((uint16_t)c) != expect;
    }
    CHECK_EQ_INT(bad_valid, 0);
    CHECK(!mag_ws_close_code_valid(999));
    CHECK(!mag_ws_close_code_valid(1004));
    CHECK(!mag_ws_close_code_valid(1005));
    CHECK(!mag_ws_close_code_valid(1006));
    CHECK(!mag_ws_close_code_valid(1015));
    CHECK(!mag_ws_close_code_valid(1016));
    CHECK(!mag_ws_close_code_valid(2999));
    CHECK(!mag_ws_close_code_valid(5000));
}

MAG_TEST(close_parse)
{
    uint16_t code = 0;
    const char *reason = NULL;
    size_t rlen = 99;
    CHECK_EQ_INT(mag_ws_close_parse((const uint8_t *)"", 0, &code, &reason, &rlen), MAG_OK);
    CHECK_EQ_INT(code, 1005);
    CHECK_EQ_INT(rlen, 0);
    CHECK_EQ_INT(mag_ws_close_parse((const uint8_t *)"\x03", 1, &code, &reason, &rlen),
                 MAG_ERR_PROTOCOL);
    CHECK_EQ_INT(mag_ws_close_parse((const uint8_t *)"\x03\xE8" "bye", 5, &code, &reason, &rlen),
                 MAG_OK);
    CHECK_EQ_INT(code, 1000);
    CHECK_EQ_INT(rlen, 3);
    CHECK_MEM(reason, "bye", 3);
    CHECK_EQ_INT(mag_ws_close_parse((const uint8_t *)"\x0F\xA0", 2, &code, &reason, &rlen),
                 MAG_OK);
    CHECK_EQ_INT(code, 4000);
    static const uint16_t invalid[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000,
                                        65535 };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        uint8_t pl[2] = { (uint8_t)(invalid[i] >> 8), (uint8_t)invalid[i] };
        CHECK_EQ_INT(mag_ws_close_parse(pl, 2, &code, &reason, &rlen), MAG_ERR_PROTOCOL);
    }
    CHECK_EQ_INT(mag_ws_close_parse((const uint8_t *)"\x03\xE8\xFF", 3, &code, &reason, &rlen),
                 MAG_ERR_UTF8);
    CHECK_EQ_INT(mag_ws_close_parse((const uint8_t *)"\x03\xE8\xC3", 3, &code, &reason, &rlen),
                 MAG_ERR_UTF8);
    uint8_t big[126];
    memset(big, 'a', sizeof big);
    big[0] = 0x03;
    big[1] = 0xE8;
    CHECK_EQ_INT(mag_ws_close_parse(big, 126, &code, &reason, &rlen), MAG_ERR_PROTOCOL);
    CHECK_EQ_INT(mag_ws_close_parse(big, 125, &code, &reason, &rlen), MAG_OK);
    CHECK_EQ_INT(rlen, 123);
}

MAG_TEST(close_build)
{
    uint8_t out[MAG_WS_MAX_CONTROL_PAYLOAD];
    CHECK_EQ_INT(mag_ws_close_build(out, 1001, "Idle Timeout"), 14);
    CHECK_MEM(out, "\x03\xE9Idle Timeout", 14);
    CHECK_EQ_INT(mag_ws_close_build(out, 1000, NULL), 2);
    CHECK_MEM(out, "\x03\xE8", 2);
    /* 122 ASCII bytes then a 3-byte character: the character would end at byte 125 of the
     * reason, so it is dropped entirely and the result stays valid UTF-8. */
    char reason[200];
    memset(reason, 'r', 122);
    memcpy(reason + 122, "\xE2\x82\xAC tail", 9);
    reason[131] = '\0';
    size_t n = mag_ws_close_build(out, 1011, reason);
    CHECK_EQ_INT(n, 124);
    uint16_t code;
    const char *r;
    size_t rlen;
    CHECK_EQ_INT(mag_ws_close_parse(out, n, &code, &r, &rlen), MAG_OK);
    CHECK_EQ_INT(code, 1011);
    CHECK_EQ_INT(rlen, 122);
    /* A long ASCII reason is cut at exactly 123 bytes. */
    memset(reason, 'x', 199);
    reason[199] = '\0';
    CHECK_EQ_INT(mag_ws_close_build(out, 1000, reason), 125);
}

int main(void)
{
    RUN(rfc_examples_unmasked);
    RUN(rfc_examples_masked);
    RUN(header_writer_forms);
    RUN(client_header_writer);
    RUN(roundtrip_lengths_bytewise);
    RUN(in_place_and_discard);
    RUN(unmask_offsets);
    RUN(protocol_errors);
    RUN(error_is_detected_early_and_sticky);
    RUN(too_large_before_payload);
    RUN(close_codes);
    RUN(close_parse);
    RUN(close_build);
    return mag_test_summary();
}
