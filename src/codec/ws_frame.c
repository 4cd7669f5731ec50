/* ws_frame.c -- RFC 6455 frame codec: resumable client-frame parser and server-frame writer.
 *
 * Header bytes are collected into p->hbuf until the full header (2..14 bytes) is known; all
 * validity rules are checked as soon as the bytes that decide them are present, so a bad frame
 * is refused before its payload is read and an oversized one before anything is buffered.
 * The parser also tracks data-frame fragmentation (RFC 6455 §5.4) because "CONT without a
 * message" and "TEXT inside a fragmented message" are frame-sequence rules every caller would
 * otherwise re-implement. Errors are sticky: once the stream is broken, nothing after it is
 * trusted.
 */
#include "mag/codec/ws_frame.h"

#include <string.h>

#include "mag/codec/utf8.h"

enum { WS_PS_HEADER = 0, WS_PS_PAYLOAD };

void mag_ws_parser_init(mag_ws_parser *p, uint64_t max_payload, bool require_mask)
{
    memset(p, 0, sizeof *p);
    p->state = WS_PS_HEADER;
    p->err = MAG_OK;
    p->max_payload = max_payload;
    p->require_mask = require_mask;
}

bool mag_ws_parser_in_payload(const mag_ws_parser *p)
{
    return p->err == MAG_OK && p->state == WS_PS_PAYLOAD;
}

uint64_t mag_ws_parser_remaining(const mag_ws_parser *p)
{
    if (!mag_ws_parser_in_payload(p))
        return 0;
    return p->frame.payload_len - p->payload_done;
}

static mag_rc ws_fail(mag_ws_parser *p, mag_rc rc)
{
    p->err = rc;
    return rc;
}

/* Header size implied by the first two bytes. */
static size_t ws_header_size(const uint8_t *h)
{
    size_t n = 2;
    uint8_t len7 = h[1] & 0x7F;
    if (len7 == 126)
        n += 2;
    else if (len7 == 127)
        n += 8;
    if (h[1] & 0x80)
        n += 4;
    return n;
}

/* Rules decidable from the first two bytes (RFC 6455 §5.2, §5.5). */
static mag_rc ws_check_first_bytes(const mag_ws_parser *p, const uint8_t *h)
{
    uint8_t op = h[0] & 0x0F;
    bool fin = (h[0] & 0x80) != 0;
    if (h[0] & 0x70)
        return MAG_ERR_PROTOCOL;                 /* no extension negotiated any RSV bit */
    switch (op) {
    case MAG_WS_OP_CONT:
    case MAG_WS_OP_TEXT:
    case MAG_WS_OP_BINARY:
        break;
    case MAG_WS_OP_CLOSE:
    case MAG_WS_OP_PING:
    case MAG_WS_OP_PONG:
        /* Control frames: never fragmented, payload <= 125 so the 7-bit form is mandatory. */
        if (!fin || (h[1] & 0x7F) > MAG_WS_MAX_CONTROL_PAYLOAD)
            return MAG_ERR_PROTOCOL;
        break;
    default:
        return MAG_ERR_PROTOCOL;                 /* reserved opcodes 3-7, B-F */
    }
    if (p->require_mask && !(h[1] & 0x80))
        return MAG_ERR_PROTOCOL;                 /* §5.1: client frames MUST be masked */
    if (op == MAG_WS_OP_CONT && !p->msg_open)
        return MAG_ERR_PROTOCOL;
    if ((op == MAG_WS_OP_TEXT || op == MAG_WS_OP_BINARY) && p->msg_open)
        return MAG_ERR_PROTOCOL;
    return MAG_OK;
}

/* Decode the complete header in p->hbuf into p->frame and apply the length rules. */
static mag_rc ws_finish_header(mag_ws_parser *p)
{
    const uint8_t *h = p->hbuf;
    mag_ws_frame_hdr *f = &p->frame;
    size_t pos = 2;
    uint64_t len = h[1] & 0x7F;

    f->fin = (h[0] & 0x80) != 0;
    f->rsv = (uint8_t)((h[0] >> 4) & 0x07);
    f->opcode = h[0] & 0x0F;
    f->masked = (h[1] & 0x80) != 0;
    if (len == 126) {
        len = ((uint64_t)h[2] << 8) | h[3];
        pos = 4;
        if (len < 126)
            return MAG_ERR_PROTOCOL;             /* §5.2: minimal number of bytes MUST be used */
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = (len << 8) | h[2 + i];
        pos = 10;
        if (len >> 63)
            return MAG_ERR_PROTOCOL;             /* most significant bit MUST be 0 */
        if (len <= 0xFFFF)
            return MAG_ERR_PROTOCOL;
    }
    if (f->masked)
        memcpy(f->mask, h + pos, 4);
    else
        memset(f->mask, 0, 4);
    f->payload_len = len;

    if (f->opcode == MAG_WS_OP_TEXT || f->opcode == MAG_WS_OP_BINARY ||
        f->opcode == MAG_WS_OP_CONT) {
        uint64_t total = f->opcode == MAG_WS_OP_CONT ? p->msg_len : 0;
        if (p->max_payload && (len > p->max_payload || total + len > p->max_payload))
            return MAG_ERR_TOO_LARGE;
        p->msg_len = total + len;
        if (f->opcode != MAG_WS_OP_CONT)
            p->msg_opcode = f->opcode;
        p->msg_open = !f->fin;
    }
    return MAG_OK;
}

mag_rc mag_ws_parse_header(mag_ws_parser *p, const uint8_t *buf, size_t len, size_t *consumed)
{
    size_t used = 0;
    mag_rc rc = MAG_AGAIN;

    *consumed = 0;
    if (p->err != MAG_OK)
        return p->err;
    if (p->state != WS_PS_HEADER)
        return MAG_ERR_INTERNAL;
    while (used < len) {
        size_t need = p->hlen < 2 ? 2 : ws_header_size(p->hbuf);
        size_t take = need - p->hlen;
        if (take > len - used)
            take = len - used;
        memcpy(p->hbuf + p->hlen, buf + used, take);
        p->hlen += take;
        used += take;
        if (p->hlen == 2) {
            rc = ws_check_first_bytes(p, p->hbuf);
            if (rc != MAG_OK) {
                *consumed = used;
                return ws_fail(p, rc);
            }
            rc = MAG_AGAIN;
        }
        if (p->hlen >= 2 && p->hlen == ws_header_size(p->hbuf)) {
            rc = ws_finish_header(p);
            *consumed = used;
            if (rc != MAG_OK)
                return ws_fail(p, rc);
            p->hlen = 0;
            p->payload_done = 0;
            p->state = WS_PS_PAYLOAD;
            return MAG_OK;
        }
    }
    *consumed = used;
    return MAG_AGAIN;
}

void mag_ws_unmask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t offset)
{
    size_t i = 0;
    size_t k = (size_t)(offset & 3);
    /* Align to the mask phase, then XOR a word at a time. */
    while (i < len && k != 0) {
        buf[i++] ^= mask[k];
        k = (k + 1) & 3;
    }
    uint8_t m8[8] = { mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3] };
    uint64_t mw;
    memcpy(&mw, m8, 8);
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, buf + i, 8);
        w ^= mw;
        memcpy(buf + i, &w, 8);
    }
    for (; i < len; i++) {
        buf[i] ^= mask[k];
        k = (k + 1) & 3;
    }
}

mag_rc mag_ws_parse_payload(mag_ws_parser *p, const uint8_t *buf, size_t len, uint8_t *out,
                            size_t *consumed)
{
    *consumed = 0;
    if (p->err != MAG_OK)
        return p->err;
    if (p->state != WS_PS_PAYLOAD)
        return MAG_ERR_INTERNAL;
    uint64_t remaining = p->frame.payload_len - p->payload_done;
    size_t take = len;
    if ((uint64_t)take > remaining)
        take = (size_t)remaining;
    if (out && take) {
        if (out != buf)
            memmove(out, buf, take);
        if (p->frame.masked)
            mag_ws_unmask(out, take, p->frame.mask, p->payload_done);
    }
    p->payload_done += take;
    *consumed = take;
    if (p->payload_done < p->frame.payload_len)
        return MAG_AGAIN;
    p->state = WS_PS_HEADER;
    if (p->frame.fin && p->frame.opcode <= MAG_WS_OP_BINARY)
        p->msg_len = 0;     /* a data message ended */
    return MAG_OK;
}

size_t mag_ws_frame_header_write(uint8_t *out, bool fin, uint8_t opcode, uint64_t payload_len)
{
    out[0] = (uint8_t)((fin ? 0x80 : 0x00) | (opcode & 0x0F));
    if (payload_len < 126) {
        out[1] = (uint8_t)payload_len;
        return 2;
    }
    if (payload_len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(payload_len >> 8);
        out[3] = (uint8_t)payload_len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
    return 10;
}

size_t mag_ws_client_frame_header_write(uint8_t *out, bool fin, uint8_t opcode,
                                        uint64_t payload_len, const uint8_t mask[4])
{
    size_t n = mag_ws_frame_header_write(out, fin, opcode, payload_len);
    out[1] |= 0x80;
    memcpy(out + n, mask, 4);
    return n + 4;
}

bool mag_ws_close_code_valid(uint16_t code)
{
    if (code >= 1000 && code <= 1003)
        return true;
    if (code >= 1007 && code <= 1014)
        return true;
    return code >= 3000 && code <= 4999;
}

mag_rc mag_ws_close_parse(const uint8_t *payload, size_t len, uint16_t *code,
                          const char **reason, size_t *reason_len)
{
    *code = MAG_WS_CLOSE_NO_STATUS;
    *reason = "";
    *reason_len = 0;
    if (len == 0)
        return MAG_OK;
    if (len == 1 || len > MAG_WS_MAX_CONTROL_PAYLOAD)
        return MAG_ERR_PROTOCOL;
    uint16_t c = (uint16_t)((payload[0] << 8) | payload[1]);
    if (!mag_ws_close_code_valid(c))
        return MAG_ERR_PROTOCOL;
    if (mag_utf8_validate(payload + 2, len - 2) != MAG_OK)
        return MAG_ERR_UTF8;
    *code = c;
    *reason = (const char *)payload + 2;
    *reason_len = len - 2;
    return MAG_OK;
}

size_t mag_ws_close_build(uint8_t *out, uint16_t code, const char *reason)
{
    size_t rlen = reason ? strlen(reason) : 0;
    const size_t max_reason = MAG_WS_MAX_CONTROL_PAYLOAD - 2;
    if (rlen > max_reason) {
        rlen = max_reason;
        /* Do not cut a multi-byte character: back up over continuation bytes. */
        while (rlen > 0 && ((uint8_t)reason[rlen] & 0xC0) == 0x80)
            rlen--;
    }
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (rlen)
        memcpy(out + 2, reason, rlen);
    return 2 + rlen;
}
