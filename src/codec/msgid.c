/* msgid.c -- Pulsar MessageIdData protobuf codec (see include/mag/codec/msgid.h).
 *
 * Encoding mirrors MessageIdImpl.toByteArray of the 2.10 Java client
 * (protobuf MessageIdData) byte for byte; decoding is a small tolerant protobuf reader that
 * accepts what LightProto accepts for this message. The defaults chosen on
 * decode make every id Pulsar can emit re-encode to identical bytes, which
 * matters because clients ack with the exact string they were given.
 */
#include "mag/codec/msgid.h"
#include "mag/util/base64.h"
#include "mag/util/buf.h"

#include <stdbool.h>

void mag_msgid_init(mag_msgid *id, uint64_t ledger, uint64_t entry)
{
    id->ledger = ledger;
    id->entry = entry;
    id->partition = -1;
    id->batch_index = -1;
    id->batch_size = 0;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* protobuf int32: negative values are sign-extended to 64 bits (10 bytes). */
static size_t put_int32(uint8_t *p, int32_t v)
{
    return put_varint(p, (uint64_t)(int64_t)v);
}

size_t mag_msgid_encode(const mag_msgid *id, uint8_t out[MAG_MSGID_MAX_BYTES])
{
    size_t n = 0;
    out[n++] = 0x08;
    n += put_varint(out + n, id->ledger);
    out[n++] = 0x10;
    n += put_varint(out + n, id->entry);
    if (id->partition >= 0) {
        out[n++] = 0x18;
        n += put_int32(out + n, id->partition);
    }
    if (id->batch_index != -1) {
        out[n++] = 0x20;
        n += put_int32(out + n, id->batch_index);
    }
    if (id->batch_size > -1) {
        out[n++] = 0x30;
        n += put_int32(out + n, id->batch_size);
    }
    return n;
}

size_t mag_msgid_to_base64(const mag_msgid *id, char out[MAG_MSGID_B64_MAX])
{
    static const char alpha[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint8_t raw[MAG_MSGID_MAX_BYTES];
    size_t len = mag_msgid_encode(id, raw), o = 0, i = 0;
    /* Encoded in place (no mag_buf) so the hot path never allocates. */
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (len - i >= 1) {
        uint32_t v = (uint32_t)raw[i] << 16 | (len - i == 2 ? (uint32_t)raw[i + 1] << 8 : 0);
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = len - i == 2 ? alpha[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* Read a varint of at most 10 bytes; bits beyond 64 are dropped. */
static int get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (*pos >= len)
            return -1;
        uint8_t b = buf[(*pos)++];
        r |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;   /* more than 10 bytes */
}

mag_rc mag_msgid_decode(const uint8_t *buf, size_t len, mag_msgid *out)
{
    mag_msgid id;
    bool has_ledger = false, has_entry = false, has_batch_index = false, has_batch_size = false;
    size_t pos = 0;
    id.ledger = id.entry = 0;
    id.partition = id.batch_index = id.batch_size = -1;

    while (pos < len) {
        uint64_t tag, v;
        if (get_varint(buf, len, &pos, &tag) != 0)
            return MAG_ERR_BAD_REQUEST;
        uint64_t field = tag >> 3;
        unsigned wire = (unsigned)(tag & 7);
        if (field == 0 || field > 0x1FFFFFFF)
            return MAG_ERR_BAD_REQUEST;
        if (wire == 0) {
            if (get_varint(buf, len, &pos, &v) != 0)
                return MAG_ERR_BAD_REQUEST;
            switch (field) {
            case 1: id.ledger = v; has_ledger = true; break;
            case 2: id.entry = v; has_entry = true; break;
            case 3: id.partition = (int32_t)(uint32_t)v; break;
            case 4: id.batch_index = (int32_t)(uint32_t)v; has_batch_index = true; break;
            case 6: id.batch_size = (int32_t)(uint32_t)v; has_batch_size = true; break;
            default: break;   /* unknown (or ack_set) varint: skipped */
            }
        } else if (wire == 1 || wire == 5) {
            size_t n = wire == 1 ? 8 : 4;
            if (len - pos < n)
                return MAG_ERR_BAD_REQUEST;
            pos += n;
        } else if (wire == 2) {
            if (get_varint(buf, len, &pos, &v) != 0 || v > len - pos)
                return MAG_ERR_BAD_REQUEST;
            pos += (size_t)v;
        } else {
            return MAG_ERR_BAD_REQUEST;   /* groups (3, 4) and 6, 7 */
        }
    }
    if (!has_ledger || !has_entry)
        return MAG_ERR_BAD_REQUEST;
    /* Values that encoding never writes (negative partition, batch_size
     * < -1) decode as absent, so decode(encode(x)) is a fixed point. */
    if (id.partition < 0)
        id.partition = -1;
    if (!has_batch_size || id.batch_size < 0)
        id.batch_size = has_batch_index ? 0 : -1;
    *out = id;
    return MAG_OK;
}

mag_rc mag_msgid_from_base64(const char *s, size_t len, mag_msgid *out)
{
    mag_buf raw = MAG_BUF_INIT;
    mag_rc rc = mag_base64_decode(&raw, s, len, NULL);
    if (rc == MAG_OK)
        rc = mag_msgid_decode(raw.data, raw.len, out);
    else
        rc = MAG_ERR_BAD_REQUEST;
    mag_buf_free(&raw);
    return rc;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_i32(int32_t a, int32_t b)
{
    return a < b ? -1 : a > b;
}

int mag_msgid_compare(const mag_msgid *a, const mag_msgid *b)
{
    int c = cmp_u64(a->ledger, b->ledger);
    if (!c)
        c = cmp_u64(a->entry, b->entry);
    if (!c)
        c = cmp_i32(a->partition, b->partition);
    if (!c)
        c = cmp_i32(a->batch_index, b->batch_index);
    return c;
}
