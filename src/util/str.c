/* str.c -- string helpers with Java semantics (see include/mag/util/str.h).
 *
 * URLDecoder, Integer.parseInt/Long.parseLong and Boolean.parseBoolean are
 * reproduced rule for rule because Pulsar's accept/reject decisions and its
 * error texts ("For input string: \"abc\"") are visible to clients. UTF-8
 * scanning follows Unicode's "maximal subpart" practice, which is what Java's
 * decoder uses when it substitutes U+FFFD.
 */
#include "mag/util/str.h"
#include "mag/util/bytes.h"
#include "mag/util/alloc.h"

#include <stdlib.h>
#include <string.h>

static unsigned char lower_ascii(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

bool mag_memieq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower_ascii((unsigned char)a[i]) != lower_ascii((unsigned char)b[i]))
            return false;
    return true;
}

/* ---------------------------------------------------------------- UTF-8 */

size_t mag_utf8_decode(const uint8_t *s, size_t len, int32_t *cp)
{
    if (len == 0) {
        *cp = -1;
        return 0;
    }
    uint8_t b0 = s[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t need;
    uint8_t lo = 0x80, hi = 0xBF;   /* allowed range of the second byte */
    int32_t v;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1;
        v = b0 & 0x1F;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        v = b0 & 0x0F;
        if (b0 == 0xE0)
            lo = 0xA0;              /* no overlongs */
        else if (b0 == 0xED)
            hi = 0x9F;              /* no surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        v = b0 & 0x07;
        if (b0 == 0xF0)
            lo = 0x90;
        else if (b0 == 0xF4)
            hi = 0x8F;              /* <= U+10FFFF */
    } else {
        *cp = -1;
        return 1;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= len) {
            *cp = -1;
            return i;               /* truncated: the whole valid prefix */
        }
        uint8_t b = s[i];
        uint8_t l = (i == 1) ? lo : 0x80, h = (i == 1) ? hi : 0xBF;
        if (b < l || b > h) {
            *cp = -1;
            return i;
        }
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return i;
}

/* --------------------------------------------------------- URL decoding */

static void append_printable(mag_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        mag_buf_append_byte(b, (c >= 0x20 && c < 0x7F) ? c : '?');
    }
}

/* Integer.parseInt(s, i, i + 2, 16) as URLDecoder calls it: a sign is
 * allowed, so "+5" is 5 and "-1" is -1 (which URLDecoder then rejects).
 * Returns the value, or INT32_MIN with *bad_index set on a bad digit. */
static int parse_hex2(const unsigned char *p, int *bad_index)
{
    int i = 0, neg = 0;
    if (p[0] == '+' || p[0] == '-') {
        neg = p[0] == '-';
        i = 1;
    }
    int v = 0;
    for (; i < 2; i++) {
        int d = mag_hex_value((unsigned char)p[i]);
        if (d < 0) {
            *bad_index = i;
            return INT32_MIN;
        }
        v = v * 16 + d;
    }
    return neg ? -v : v;
}

/* Append bytes decoded from %XX runs as Java's new String(bytes, UTF_8)
 * would: ill-formed sequences become U+FFFD. */
static void append_utf8_replacing(mag_buf *out, const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        int32_t cp;
        size_t k = mag_utf8_decode(p + i, n - i, &cp);
        if (cp < 0)
            mag_buf_append(out, "\xEF\xBF\xBD", 3);
        else
            mag_buf_append(out, p + i, k);
        i += k;
    }
}

mag_rc mag_url_decode_msg(mag_buf *out, const char *s, size_t len, mag_buf *err)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t start_len = out->len;
    uint8_t run[64];
    size_t i = 0;
    while (i < len) {
        unsigned char c = u[i];
        if (c == '+') {
            mag_buf_append_byte(out, ' ');
            i++;
            continue;
        }
        if (c != '%') {
            size_t j = i;
            while (j < len && u[j] != '+' && u[j] != '%')
                j++;
            mag_buf_append(out, s + i, j - i);
            i = j;
            continue;
        }
        /* A run of %XX escapes is one byte sequence decoded as UTF-8. */
        size_t nrun = 0;
        mag_buf bytes = MAG_BUF_INIT;
        while (i + 2 < len && u[i] == '%') {
            int bad = 0;
            int v = parse_hex2(u + i + 1, &bad);
            if (v == INT32_MIN || v < 0) {
                if (err) {
                    mag_buf_append_str(err, "URLDecoder: Illegal hex characters in escape (%) pattern - ");
                    if (v == INT32_MIN) {
                        mag_buf_appendf(err, "Error at index %d in: \"", bad);
                        append_printable(err, s + i + 1, 2);
                        mag_buf_append_byte(err, '"');
                    } else {
                        mag_buf_append_str(err, "negative value");
                    }
                }
                mag_buf_free(&bytes);
                out->len = start_len;
                return MAG_ERR_BAD_REQUEST;
            }
            if (nrun == sizeof run) {
                mag_buf_append(&bytes, run, nrun);
                nrun = 0;
            }
            run[nrun++] = (uint8_t)v;
            i += 3;
        }
        if (i < len && u[i] == '%') {
            if (err)
                mag_buf_append_str(err, "URLDecoder: Incomplete trailing escape (%) pattern");
            mag_buf_free(&bytes);
            out->len = start_len;
            return MAG_ERR_BAD_REQUEST;
        }
        if (bytes.len) {
            mag_buf_append(&bytes, run, nrun);
            append_utf8_replacing(out, bytes.data, bytes.len);
        } else {
            append_utf8_replacing(out, run, nrun);
        }
        mag_buf_free(&bytes);
    }
    return MAG_OK;
}

mag_rc mag_url_decode(mag_buf *out, const char *s, size_t len)
{
    return mag_url_decode_msg(out, s, len, NULL);
}

/* --------------------------------------------------------- query string */

void mag_query_free(mag_query *q)
{
    for (size_t i = 0; i < q->count; i++) {
        free(q->keys[i]);
        free(q->values[i]);
    }
    MAG_FREE(q->keys);
    MAG_FREE(q->values);
    q->count = 0;
}

const char *mag_query_get(const mag_query *q, const char *key)
{
    for (size_t i = 0; i < q->count; i++)
        if (strcmp(q->keys[i], key) == 0)
            return q->values[i];
    return NULL;
}

mag_rc mag_query_parse(mag_query *q, const char *s, size_t len)
{
    mag_rc rc = MAG_OK;
    mag_buf k = MAG_BUF_INIT, v = MAG_BUF_INIT;
    size_t pairs = 0;

    q->count = 0;
    q->keys = mag_xcalloc(MAG_QUERY_MAX_PAIRS, sizeof *q->keys);
    q->values = mag_xcalloc(MAG_QUERY_MAX_PAIRS, sizeof *q->values);

    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && s[j] != '&')
            j++;
        if (j > i) {
            if (++pairs > MAG_QUERY_MAX_PAIRS) {
                rc = MAG_ERR_BAD_REQUEST;
                goto out;
            }
            const char *eq = memchr(s + i, '=', j - i);
            size_t klen = eq ? (size_t)(eq - (s + i)) : j - i;
            mag_buf_reset(&k);
            mag_buf_reset(&v);
            if (mag_url_decode(&k, s + i, klen) != MAG_OK ||
                (eq && mag_url_decode(&v, eq + 1, (size_t)(s + j - eq - 1)) != MAG_OK)) {
                rc = MAG_ERR_BAD_REQUEST;
                goto out;
            }
            const char *key = mag_buf_cstr(&k);
            if (!mag_query_get(q, key)) {   /* first value wins */
                q->keys[q->count] = mag_xstrndup(key, k.len);
                q->values[q->count] = mag_xstrndup(mag_buf_cstr(&v), v.len);
                q->count++;
            }
        }
        i = j + 1;
    }
out:
    mag_buf_free(&k);
    mag_buf_free(&v);
    if (rc != MAG_OK)
        mag_query_free(q);
    return rc;
}

/* ----------------------------------------------------- Java number parse */

/* Integer.parseInt / Long.parseLong (radix 10) on ASCII digits. */
static mag_rc parse_java_integral(const char *s, int64_t min, int64_t max, int64_t *out,
                                  mag_buf *err)
{
    if (!s) {
        if (err)
            mag_buf_append_str(err, "null");
        return MAG_ERR_BAD_REQUEST;
    }
    size_t n = strlen(s), i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '-' || s[0] == '+')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n)
        goto bad;
    /* Accumulate negatively, as Java does, so MIN_VALUE is representable. */
    int64_t acc = 0, limit = neg ? min : -max, multmin = limit / 10;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            goto bad;
        int d = s[i] - '0';
        if (acc < multmin)
            goto bad;
        acc *= 10;
        if (acc < limit + d)
            goto bad;
        acc -= d;
    }
    *out = neg ? acc : -acc;
    return MAG_OK;
bad:
    if (err) {
        mag_buf_append_str(err, "For input string: \"");
        mag_buf_append_str(err, s);
        mag_buf_append_byte(err, '"');
    }
    return MAG_ERR_BAD_REQUEST;
}

mag_rc mag_parse_java_int(const char *s, int32_t *out, mag_buf *err)
{
    int64_t v;
    mag_rc rc = parse_java_integral(s, INT32_MIN, INT32_MAX, &v, err);
    if (rc == MAG_OK)
        *out = (int32_t)v;
    return rc;
}

mag_rc mag_parse_java_long(const char *s, int64_t *out, mag_buf *err)
{
    return parse_java_integral(s, INT64_MIN, INT64_MAX, out, err);
}

bool mag_parse_java_bool(const char *s)
{
    return s && mag_memieq(s, strlen(s), "true", 4);
}
