/* fuzz_ws_frame.c -- libFuzzer target for the RFC 6455 frame parser (src/codec/ws_frame.c).
 *
 * Byte 0 selects the mode: bits 0-1 the chunking pattern (whole, byte-at-a-time, fixed size,
 * pseudo-random sizes), bit 2 require_mask, bits 3-4 the size limit. The rest is a stream of
 * frames. It is parsed whole and chunked; both runs must produce the identical trace (headers,
 * unmasked payload bytes, frame ends, final error). Invariants: consumed never exceeds the
 * input, accepted frames respect every RFC rule and the limit, the server header writer round
 * trips each accepted header, and Close payloads round trip through build/parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/ws_frame.h"
#include "mag/util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
    int mode;
    size_t step;
    uint32_t rng;
};

static size_t next_chunk(struct feed *f, size_t left)
{
    size_t n;
    switch (f->mode) {
    case 0:
        n = left;
        break;
    case 1:
        n = 1;
        break;
    case 2:
        n = f->step;
        break;
    default:
        f->rng = f->rng * 1103515245u + 12345u;
        n = 1 + (f->rng >> 16) % 23;
        break;
    }
    return n < left ? n : left;
}

static void check_header(const mag_ws_parser *p, uint64_t max, bool mask)
{
    const mag_ws_frame_hdr *h = &p->frame;
    if (h->rsv != 0 || (mask && !h->masked))
        abort();
    if (h->opcode >= MAG_WS_OP_CLOSE) {
        if (!h->fin || h->payload_len > MAG_WS_MAX_CONTROL_PAYLOAD || h->opcode > MAG_WS_OP_PONG)
            abort();
    } else {
        if (h->opcode > MAG_WS_OP_BINARY || (max && (h->payload_len > max || p->msg_len > max)))
            abort();
    }
    /* The server-side writer reproduces fin/opcode/length with an unmasked header. */
    uint8_t out[MAG_WS_MAX_SERVER_HEADER];
    size_t n = mag_ws_frame_header_write(out, h->fin, h->opcode, h->payload_len);
    mag_ws_parser q;
    size_t used;
    mag_ws_parser_init(&q, 0, false);
    if (h->opcode == MAG_WS_OP_CONT) {
        static const uint8_t open_msg[] = { 0x01, 0x00 };
        if (mag_ws_parse_header(&q, open_msg, 2, &used) != MAG_OK ||
            mag_ws_parse_payload(&q, NULL, 0, NULL, &used) != MAG_OK)
            abort();
    }
    if (mag_ws_parse_header(&q, out, n, &used) != MAG_OK || used != n ||
        q.frame.fin != h->fin || q.frame.opcode != h->opcode ||
        q.frame.payload_len != h->payload_len || q.frame.masked)
        abort();
}

static void check_close(const uint8_t *pl, size_t len)
{
    uint16_t code;
    const char *reason;
    size_t rlen;
    if (mag_ws_close_parse(pl, len, &code, &reason, &rlen) != MAG_OK || len == 0)
        return;
    uint8_t out[MAG_WS_MAX_CONTROL_PAYLOAD];
    char r[MAG_WS_MAX_CONTROL_PAYLOAD];
    memcpy(r, reason, rlen);
    r[rlen] = '\0';
    size_t n = mag_ws_close_build(out, code, memchr(r, 0, rlen) ? NULL : r);
    uint16_t code2;
    const char *reason2;
    size_t rlen2;
    if (mag_ws_close_parse(out, n, &code2, &reason2, &rlen2) != MAG_OK || code2 != code)
        abort();
    if (!memchr(r, 0, rlen) && (rlen2 != rlen || memcmp(reason2, reason, rlen) != 0))
        abort();
}

/* Parse data[0..len) as a stream fed per `f`; append a trace of everything to t. */
static void run(const uint8_t *d, size_t len, struct feed f, bool mask, uint64_t max, mag_buf *t)
{
    mag_ws_parser p;
    uint8_t *scratch = malloc(len + 1);
    uint8_t ctl[MAG_WS_MAX_CONTROL_PAYLOAD];
    size_t ctl_len = 0;
    size_t pos = 0;
    mag_rc rc = MAG_AGAIN;

    mag_ws_parser_init(&p, max, mask);
    while (pos < len) {
        size_t end = pos + next_chunk(&f, len - pos);
        while (pos < end || (mag_ws_parser_in_payload(&p) && mag_ws_parser_remaining(&p) == 0)) {
            size_t used = 0;
            if (!mag_ws_parser_in_payload(&p)) {
                rc = mag_ws_parse_header(&p, d + pos, end - pos, &used);
                if (used > end - pos)
                    abort();
                pos += used;
                if (rc == MAG_AGAIN)
                    break;
                if (rc != MAG_OK)
                    goto out;
                check_header(&p, max, mask);
                mag_buf_appendf(t, "H%d,%d,%llu;", p.frame.fin, p.frame.opcode,
                                (unsigned long long)p.frame.payload_len);
                ctl_len = 0;
                continue;
            }
            uint64_t before = mag_ws_parser_remaining(&p);
            rc = mag_ws_parse_payload(&p, d + pos, end - pos, scratch, &used);
            if (used > end - pos || used > before)
                abort();
            mag_buf_append(t, scratch, used);
            if (p.frame.opcode >= MAG_WS_OP_CLOSE) {
                memcpy(ctl + ctl_len, scratch, used);
                ctl_len += used;
            }
            pos += used;
            if (rc == MAG_OK) {
                mag_buf_append_str(t, ";E;");
                if (p.frame.opcode == MAG_WS_OP_CLOSE)
                    check_close(ctl, ctl_len);
            } else if (rc != MAG_AGAIN) {
                abort();   /* the payload phase has no error of its own */
            }
        }
    }
out:
    mag_buf_appendf(t, "R%d,%d,%llu", (int)rc, mag_ws_parser_in_payload(&p),
                    (unsigned long long)mag_ws_parser_remaining(&p));
    free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    bool mask = (sel & 4) != 0;
    static const uint64_t limits[4] = { 0, 16, 200, 70000 };
    uint64_t max = limits[(sel >> 3) & 3];
    mag_buf whole = MAG_BUF_INIT, chunked = MAG_BUF_INIT;
    struct feed fw = { 0, 0, 0 };
    struct feed fc = { sel & 3, 1 + (size_t)(sel >> 5), sel };
    run(data + 1, size - 1, fw, mask, max, &whole);
    run(data + 1, size - 1, fc, mask, max, &chunked);
    if (whole.len != chunked.len || (whole.len && memcmp(whole.data, chunked.data, whole.len)))
        abort();
    mag_buf_free(&whole);
    mag_buf_free(&chunked);
    return 0;
}
