/* base64.c -- RFC 4648 Base64 with java.util.Base64 decoder semantics.
 *
 * The standard decoder is a transcription of Java 11's Base64.Decoder
 * (decodedOutBytes + decode0) so that the same inputs are accepted and the
 * same IllegalArgumentException texts are produced: Pulsar forwards them to
 * producers as "Invalid Base64 message-payload error=<msg>". Java decodes a
 * String via ISO-8859-1, so non-ASCII input is first mapped to Latin-1
 * (code points above U+00FF become '?') to get Java's characters and indices.
 */
#include "mag/util/base64.h"
#include "mag/util/alloc.h"
#include "mag/util/str.h"

#include <stdbool.h>
#include <stdlib.h>

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t mag_base64_encoded_len(size_t len)
{
    return (len + 2) / 3 * 4;
}

static void encode(mag_buf *out, const uint8_t *src, size_t len, const char *alpha, bool pad)
{
    mag_buf_reserve(out, mag_base64_encoded_len(len));
    char *o = (char *)out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8 | src[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        *o++ = alpha[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)src[i] << 16;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        if (pad) {
            *o++ = '=';
            *o++ = '=';
        }
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)src[i] << 16 | (uint32_t)src[i + 1] << 8;
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        if (pad)
            *o++ = '=';
    }
    out->len = (size_t)((uint8_t *)o - out->data);
}

void mag_base64_encode(mag_buf *out, const uint8_t *src, size_t len)
{
    encode(out, src, len, b64_std, true);
}

void mag_base64url_encode(mag_buf *out, const uint8_t *src, size_t len)
{
    encode(out, src, len, b64_url, false);
}

/* Value of c in the alphabet, -2 for '=' (standard only), -1 otherwise. */
static int b64_val(uint8_t c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    if (c == '=' && !url)
        return -2;
    return -1;
}

/* Map UTF-8 text to the ISO-8859-1 bytes Java's String.getBytes would give.
 * Returns a heap copy (caller frees) and its length in *n. */
static uint8_t *to_latin1(const uint8_t *s, size_t len, size_t *n)
{
    uint8_t *d = mag_xmalloc(len ? len : 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        int32_t cp;
        size_t k = mag_utf8_decode(s + i, len - i, &cp);
        d[o++] = (cp >= 0 && cp <= 0xFF) ? (uint8_t)cp : '?';
        i += k;
    }
    *n = o;
    return d;
}

/* The IllegalArgumentException texts of java.util.Base64.Decoder. */
enum b64_err {
    B64_OK,
    B64_TOO_SHORT,      /* decodedOutBytes(): a single character */
    B64_BAD_ENDING,     /* '=' where padding cannot be */
    B64_ILLEGAL_CHAR,   /* + signed byte in hex */
    B64_LAST_UNIT,      /* one dangling character */
    B64_TRAILING        /* + index of the first byte after the padding */
};

/* Java decode0() on Latin-1 bytes, appending to out (capacity reserved
 * here). *num receives the number that the message carries, if any. */
static enum b64_err java_decode(mag_buf *out, const uint8_t *src, size_t sl, int *num)
{
    if (sl == 0)
        return B64_OK;
    if (sl < 2)
        return B64_TOO_SHORT;
    mag_buf_reserve(out, sl / 4 * 3 + 3);
    size_t sp = 0;
    uint32_t bits = 0;
    int shiftto = 18;
    while (sp < sl) {
        int b = b64_val(src[sp++], false);
        if (b < 0) {
            if (b == -2) {
                /* "=" (18), "x=" (12, reported below), "xx=" needs a second
                 * '=' (6); "xxx=" (0) is complete. */
                if ((shiftto == 6 && (sp == sl || src[sp++] != '=')) || shiftto == 18)
                    return B64_BAD_ENDING;
                break;
            }
            *num = (int8_t)src[sp - 1];   /* Java prints the signed byte */
            return B64_ILLEGAL_CHAR;
        }
        bits |= (uint32_t)b << shiftto;
        shiftto -= 6;
        if (shiftto < 0) {
            out->data[out->len++] = (uint8_t)(bits >> 16);
            out->data[out->len++] = (uint8_t)(bits >> 8);
            out->data[out->len++] = (uint8_t)bits;
            shiftto = 18;
            bits = 0;
        }
    }
    if (shiftto == 6) {
        out->data[out->len++] = (uint8_t)(bits >> 16);
    } else if (shiftto == 0) {
        out->data[out->len++] = (uint8_t)(bits >> 16);
        out->data[out->len++] = (uint8_t)(bits >> 8);
    } else if (shiftto == 12) {
        return B64_LAST_UNIT;
    }
    if (sp < sl) {
        *num = (int)sp;
        return B64_TRAILING;
    }
    return B64_OK;
}

mag_rc mag_base64_decode(mag_buf *out, const char *src, size_t len, mag_buf *err)
{
    const uint8_t *s = (const uint8_t *)src;
    uint8_t *latin = NULL;
    size_t start = out->len;
    for (size_t i = 0; i < len; i++) {
        if (s[i] >= 0x80) {
            latin = to_latin1(s, len, &len);
            s = latin;
            break;
        }
    }
    int num = 0;
    enum b64_err e = java_decode(out, s, len, &num);
    free(latin);
    if (e == B64_OK)
        return MAG_OK;
    out->len = start;
    if (!err)
        return MAG_ERR_PAYLOAD;
    switch (e) {
    case B64_TOO_SHORT:
        mag_buf_append_str(err, "Input byte[] should at least have 2 bytes for base64 bytes");
        break;
    case B64_BAD_ENDING:
        mag_buf_append_str(err, "Input byte array has wrong 4-byte ending unit");
        break;
    case B64_ILLEGAL_CHAR:   /* Integer.toString(byte, 16): "2d", "-3d" */
        mag_buf_appendf(err, "Illegal base64 character %s%x", num < 0 ? "-" : "",
                        (unsigned)(num < 0 ? -num : num));
        break;
    case B64_LAST_UNIT:
        mag_buf_append_str(err, "Last unit does not have enough valid bits");
        break;
    case B64_TRAILING:
        mag_buf_appendf(err, "Input byte array has incorrect ending byte at %d", num);
        break;
    case B64_OK:
        break;
    }
    return MAG_ERR_PAYLOAD;
}

mag_rc mag_base64url_decode(mag_buf *out, const char *src, size_t len)
{
    const uint8_t *s = (const uint8_t *)src;
    if (len % 4 == 1)
        return MAG_ERR_PAYLOAD;
    size_t start = out->len;
    mag_buf_reserve(out, len / 4 * 3 + 3);
    uint32_t bits = 0;
    int n = 0;
    for (size_t i = 0; i < len; i++) {
        int b = b64_val(s[i], true);
        if (b < 0) {
            out->len = start;
            return MAG_ERR_PAYLOAD;
        }
        bits = bits << 6 | (uint32_t)b;
        if (++n == 4) {
            out->data[out->len++] = (uint8_t)(bits >> 16);
            out->data[out->len++] = (uint8_t)(bits >> 8);
            out->data[out->len++] = (uint8_t)bits;
            bits = 0;
            n = 0;
        }
    }
    if (n == 2) {
        out->data[out->len++] = (uint8_t)(bits >> 4);
    } else if (n == 3) {
        out->data[out->len++] = (uint8_t)(bits >> 10);
        out->data[out->len++] = (uint8_t)(bits >> 2);
    }
    return MAG_OK;
}
