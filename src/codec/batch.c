/* batch.c -- batch payload codec (see include/mag/codec/batch.h).
 *
 * Length-prefixed big-endian fields, decoded in place. Every length read
 * from the buffer is checked against the bytes that remain before it is
 * used, so a truncated or hostile batch yields MAG_ERR_PAYLOAD, never an
 * out-of-bounds read.
 */
#include "mag/codec/batch.h"

#include "mag/util/log.h"

#include <stdlib.h>

/* Lengths are stored as u32; a longer field is a caller bug (see header). */
static void check_field(const char *what, size_t v)
{
    if (v > MAG_BATCH_FIELD_MAX) {
        mag_error("mag_batch_append: %s of %zu bytes exceeds u32", what, v);
        abort();
    }
}

static void put_u32(mag_buf *out, size_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    mag_buf_append(out, b, sizeof b);
}

static void put_i64(mag_buf *out, int64_t sv)
{
    uint64_t v = (uint64_t)sv;
    uint8_t b[8];
    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)v;
        v >>= 8;
    }
    mag_buf_append(out, b, sizeof b);
}

void mag_batch_append(mag_buf *out, const mag_batch_msg *m)
{
    size_t key_len = m->has_key ? m->key_len : 0;
    check_field("properties_json", m->properties_json_len);
    check_field("key", key_len);
    check_field("payload", m->payload_len);
    mag_buf_reserve(out, MAG_BATCH_MSG_OVERHEAD + m->properties_json_len + key_len +
                             m->payload_len);
    put_u32(out, m->properties_json_len);
    mag_buf_append(out, m->properties_json, m->properties_json_len);
    mag_buf_append_byte(out, m->has_key ? 1 : 0);
    put_u32(out, key_len);
    mag_buf_append(out, m->key, key_len);
    put_i64(out, m->event_time_ms);
    put_i64(out, m->sequence_id);
    put_u32(out, m->payload_len);
    mag_buf_append(out, m->payload, m->payload_len);
}

/* A read cursor over the `left` bytes at p. A getter fails when too few
 * bytes remain; the message is then malformed and the cursor abandoned. */
typedef struct reader {
    const uint8_t *p;
    size_t left;
} reader;

static bool get_u8(reader *r, uint8_t *v)
{
    if (r->left < 1)
        return false;
    *v = r->p[0];
    r->p++;
    r->left--;
    return true;
}

static bool get_u64(reader *r, uint64_t *v)
{
    if (r->left < 8)
        return false;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x = (x << 8) | r->p[i];
    *v = x;
    r->p += 8;
    r->left -= 8;
    return true;
}

/* u32 length followed by that many bytes; *s points at them. */
static bool get_bytes(reader *r, const uint8_t **s, size_t *n)
{
    if (r->left < 4)
        return false;
    size_t len = (size_t)r->p[0] << 24 | (size_t)r->p[1] << 16 | (size_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    r->left -= 4;
    if (len > r->left)
        return false;
    *s = r->p;
    *n = len;
    r->p += len;
    r->left -= len;
    return true;
}

/* Two's complement back to signed without implementation-defined casts. */
static int64_t to_i64(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
}

mag_rc mag_batch_next(const uint8_t *buf, size_t len, size_t *offset, mag_batch_msg *m)
{
    if (*offset > len)
        return MAG_ERR_PAYLOAD;
    if (*offset == len)
        return MAG_AGAIN;
    reader r = { buf + *offset, len - *offset };
    const uint8_t *props, *key, *payload;
    size_t props_len, key_len, payload_len;
    uint8_t has_key;
    uint64_t event_time, seq;
    if (!get_bytes(&r, &props, &props_len) || !get_u8(&r, &has_key) || has_key > 1 ||
        !get_bytes(&r, &key, &key_len) || (has_key == 0 && key_len != 0) ||
        !get_u64(&r, &event_time) || !get_u64(&r, &seq) ||
        !get_bytes(&r, &payload, &payload_len))
        return MAG_ERR_PAYLOAD;
    m->properties_json = (const char *)props;
    m->properties_json_len = props_len;
    m->has_key = has_key == 1;
    m->key = (const char *)key;
    m->key_len = key_len;
    m->event_time_ms = to_i64(event_time);
    m->sequence_id = to_i64(seq);
    m->payload = payload;
    m->payload_len = payload_len;
    *offset = len - r.left;
    return MAG_OK;
}

mag_rc mag_batch_count(const uint8_t *buf, size_t len, uint32_t *count)
{
    size_t offset = 0;
    uint32_t n = 0;
    mag_batch_msg m;
    mag_rc rc;
    while ((rc = mag_batch_next(buf, len, &offset, &m)) == MAG_OK) {
        if (n == UINT32_MAX)
            return MAG_ERR_PAYLOAD;
        n++;
    }
    if (rc != MAG_AGAIN)
        return rc;
    *count = n;
    return MAG_OK;
}
