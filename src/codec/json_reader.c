/* json_reader.c -- strict, allocation-free JSON pull reader (see
 * include/mag/codec/json_reader.h).
 *
 * A small state machine over (buf, len): each mag_json_next() call skips
 * whitespace, checks the punctuation the current state allows and scans one
 * token. Strings and numbers are validated completely while scanning (so a
 * skipped value is as strictly checked as a bound one) but not decoded; the
 * decoders below run only on the tokens a binder keeps. The container
 * stack is one bit per level in a uint64_t, which is what bounds the depth
 * at MAG_JSON_MAX_DEPTH == 64.
 */
#include "mag/codec/json_reader.h"
#include "mag/util/bytes.h"
#include "mag/util/alloc.h"

#include <stdlib.h>
#include <string.h>

enum reader_state {
    ST_TOP,             /* nothing read yet: a value (or nothing at all) */
    ST_VALUE,           /* a value is required: after ':' or after ',' in an array */
    ST_ARRAY_FIRST,     /* after '[': a value or ']' */
    ST_OBJECT_FIRST,    /* after '{': a key or '}' */
    ST_KEY,             /* after ',' in an object: a key */
    ST_AFTER,           /* after a value inside a container: ',' or the close */
    ST_DONE             /* the top-level value is complete */
};

/* Bytes that end the fast scan of a string: '"', '\\' and controls < 0x20. */
static const uint8_t string_stop[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

static mag_rc fail(mag_json_reader *r, mag_json_err e, size_t off)
{
    r->err = e;
    r->err_offset = off;
    return MAG_ERR_JSON;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void set_token(mag_json_token *t, mag_json_type type, const char *text, size_t len,
                      size_t offset)
{
    t->type = type;
    t->text = text;
    t->len = len;
    t->offset = offset;
    t->escaped = false;
    t->integer = false;
}

void mag_json_reader_init(mag_json_reader *r, const char *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->objects = 0;
    r->depth = 0;
    r->state = ST_TOP;
    r->err = MAG_JSON_E_NONE;
    r->err_offset = 0;
}

/* ------------------------------------------------------------- scanning */

/* The four hex digits at s[i..i+3] as a value, or -1 (bad digit or not
 * enough bytes; *bad gets the offset of the first missing/bad byte). */
static long hex4(const unsigned char *s, size_t n, size_t i, size_t *bad)
{
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int d = i + k < n ? mag_hex_value((unsigned char)s[i + k]) : -1;
        if (d < 0) {
            *bad = i + k;
            return -1;
        }
        v = v * 16 + d;
    }
    return v;
}

/* Validate the \u escape whose backslash is at s[*i] (a surrogate pair takes
 * both escapes) and advance *i past it. */
static mag_rc scan_unicode_escape(mag_json_reader *r, const unsigned char *s, size_t n, size_t *i)
{
    size_t bad, j = *i + 6;
    long cp = hex4(s, n, *i + 2, &bad);
    if (cp < 0)
        return fail(r, bad >= n ? MAG_JSON_E_EOF : MAG_JSON_E_HEX, bad);
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(r, MAG_JSON_E_SURROGATE, *i);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        /* a high surrogate: the low half must follow as another \u escape */
        if (j + 1 >= n)
            return fail(r, MAG_JSON_E_EOF, n);
        if (s[j] != '\\' || s[j + 1] != 'u')
            return fail(r, MAG_JSON_E_SURROGATE, j);
        long lo = hex4(s, n, j + 2, &bad);
        if (lo < 0)
            return fail(r, bad >= n ? MAG_JSON_E_EOF : MAG_JSON_E_HEX, bad);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(r, MAG_JSON_E_SURROGATE, j);
        j += 6;
    }
    *i = j;
    return MAG_OK;
}

/* The string whose opening quote is at r->pos; on success r->pos is past
 * the closing quote and t holds the text between the quotes. */
static mag_rc scan_string(mag_json_reader *r, mag_json_token *t, mag_json_type type)
{
    const unsigned char *s = (const unsigned char *)r->buf;
    size_t n = r->len, start = r->pos + 1, i = start;
    bool escaped = false;

    for (;;) {
        while (i < n && !string_stop[s[i]])
            i++;
        if (i == n)
            return fail(r, MAG_JSON_E_EOF, n);
        if (s[i] == '"')
            break;
        if (s[i] < 0x20)
            return fail(r, MAG_JSON_E_CTRL, i);
        escaped = true;                 /* s[i] is a backslash */
        if (i + 1 == n)
            return fail(r, MAG_JSON_E_EOF, n);
        switch (s[i + 1]) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            i += 2;
            break;
        case 'u':
            if (scan_unicode_escape(r, s, n, &i) != MAG_OK)
                return MAG_ERR_JSON;
            break;
        default:
            return fail(r, MAG_JSON_E_ESCAPE, i + 1);
        }
    }
    set_token(t, type, r->buf + start, i - start, r->pos);
    t->escaped = escaped;
    r->pos = i + 1;
    return MAG_OK;
}

/* End of the number starting at s[i] (RFC 8259 §6 grammar), or SIZE_MAX
 * with err and err_off set; integer is set when there is no fraction and no exponent. */
static size_t number_end(const char *s, size_t n, size_t i, bool *integer, mag_json_err *err,
                         size_t *err_off)
{
    *integer = true;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
        if (i < n && is_digit(s[i]))
            goto bad;                   /* leading zero */
    } else if (i < n && is_digit(s[i])) {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        goto bad;
    }
    if (i < n && s[i] == '.') {
        *integer = false;
        i++;
        if (i >= n || !is_digit(s[i]))
            goto bad;
        while (i < n && is_digit(s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *integer = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !is_digit(s[i]))
            goto bad;
        while (i < n && is_digit(s[i]))
            i++;
    }
    return i;
bad:
    *err = i >= n ? MAG_JSON_E_EOF : MAG_JSON_E_NUMBER;
    *err_off = i >= n ? n : i;
    return SIZE_MAX;
}

static mag_rc scan_number(mag_json_reader *r, mag_json_token *t)
{
    bool integer;
    mag_json_err e;
    size_t off;
    size_t end = number_end(r->buf, r->len, r->pos, &integer, &e, &off);
    if (end == SIZE_MAX)
        return fail(r, e, off);
    set_token(t, MAG_JSON_NUMBER, r->buf + r->pos, end - r->pos, r->pos);
    t->integer = integer;
    r->pos = end;
    return MAG_OK;
}

/* true/false/null. A misspelt literal is reported at its first byte, as
 * Jackson reports the whole "Unrecognized token". */
static mag_rc scan_literal(mag_json_reader *r, mag_json_token *t, mag_json_type type,
                           const char *lit, size_t lit_len)
{
    for (size_t k = 0; k < lit_len; k++) {
        if (r->pos + k == r->len)
            return fail(r, MAG_JSON_E_EOF, r->len);
        if (r->buf[r->pos + k] != lit[k])
            return fail(r, MAG_JSON_E_CHAR, r->pos);
    }
    set_token(t, type, r->buf + r->pos, lit_len, r->pos);
    r->pos += lit_len;
    return MAG_OK;
}

/* ---------------------------------------------------------- state machine */

static void after_value(mag_json_reader *r)
{
    r->state = r->depth ? ST_AFTER : ST_DONE;
}

static bool in_object(const mag_json_reader *r)
{
    return (r->objects >> (r->depth - 1)) & 1u;
}

static mag_rc open_container(mag_json_reader *r, mag_json_token *t, bool object)
{
    if (r->depth == MAG_JSON_MAX_DEPTH)
        return fail(r, MAG_JSON_E_DEPTH, r->pos);
    if (object)
        r->objects |= (uint64_t)1 << r->depth;
    else
        r->objects &= ~((uint64_t)1 << r->depth);
    r->depth++;
    set_token(t, object ? MAG_JSON_OBJECT : MAG_JSON_ARRAY, r->buf + r->pos, 1, r->pos);
    r->pos++;
    r->state = object ? ST_OBJECT_FIRST : ST_ARRAY_FIRST;
    return MAG_OK;
}

static mag_rc close_container(mag_json_reader *r, mag_json_token *t)
{
    bool object = in_object(r);
    r->depth--;
    set_token(t, object ? MAG_JSON_OBJECT_END : MAG_JSON_ARRAY_END, r->buf + r->pos, 1, r->pos);
    r->pos++;
    after_value(r);
    return MAG_OK;
}

/* A value at r->pos (whitespace already skipped). */
static mag_rc read_value(mag_json_reader *r, mag_json_token *t)
{
    mag_rc rc;
    if (r->pos == r->len)
        return fail(r, r->state == ST_TOP ? MAG_JSON_E_EMPTY : MAG_JSON_E_EOF, r->len);
    switch (r->buf[r->pos]) {
    case '{':
        return open_container(r, t, true);
    case '[':
        return open_container(r, t, false);
    case '"':
        rc = scan_string(r, t, MAG_JSON_STRING);
        break;
    case 't':
        rc = scan_literal(r, t, MAG_JSON_TRUE, "true", 4);
        break;
    case 'f':
        rc = scan_literal(r, t, MAG_JSON_FALSE, "false", 5);
        break;
    case 'n':
        rc = scan_literal(r, t, MAG_JSON_NULL, "null", 4);
        break;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        rc = scan_number(r, t);
        break;
    default:
        return fail(r, MAG_JSON_E_CHAR, r->pos);
    }
    if (rc == MAG_OK)
        after_value(r);
    return rc;
}

/* A member name and the ':' after it. */
static mag_rc read_key(mag_json_reader *r, mag_json_token *t)
{
    if (r->pos == r->len)
        return fail(r, MAG_JSON_E_EOF, r->len);
    if (r->buf[r->pos] != '"')
        return fail(r, MAG_JSON_E_CHAR, r->pos);
    mag_rc rc = scan_string(r, t, MAG_JSON_KEY);
    if (rc != MAG_OK)
        return rc;
    while (r->pos < r->len && is_ws(r->buf[r->pos]))
        r->pos++;
    if (r->pos == r->len)
        return fail(r, MAG_JSON_E_EOF, r->len);
    if (r->buf[r->pos] != ':')
        return fail(r, MAG_JSON_E_CHAR, r->pos);
    r->pos++;
    r->state = ST_VALUE;
    return MAG_OK;
}

mag_rc mag_json_next(mag_json_reader *r, mag_json_token *t)
{
    if (r->err != MAG_JSON_E_NONE)
        return MAG_ERR_JSON;
    for (;;) {
        while (r->pos < r->len && is_ws(r->buf[r->pos]))
            r->pos++;
        bool at_end = r->pos == r->len;
        char c = at_end ? '\0' : r->buf[r->pos];
        switch ((enum reader_state)r->state) {
        case ST_TOP:
        case ST_VALUE:
            return read_value(r, t);
        case ST_ARRAY_FIRST:
            if (!at_end && c == ']')
                return close_container(r, t);
            return read_value(r, t);
        case ST_OBJECT_FIRST:
            if (!at_end && c == '}')
                return close_container(r, t);
            return read_key(r, t);
        case ST_KEY:
            return read_key(r, t);
        case ST_AFTER:
            if (at_end)
                return fail(r, MAG_JSON_E_EOF, r->len);
            if (c == ',') {
                r->pos++;
                r->state = in_object(r) ? ST_KEY : ST_VALUE;
                continue;
            }
            if (c == (in_object(r) ? '}' : ']'))
                return close_container(r, t);
            return fail(r, MAG_JSON_E_CHAR, r->pos);
        case ST_DONE:
            if (!at_end)
                return fail(r, MAG_JSON_E_TRAILING, r->pos);
            set_token(t, MAG_JSON_END, r->buf + r->len, 0, r->len);
            return MAG_OK;
        }
    }
}

mag_rc mag_json_skip(mag_json_reader *r, const mag_json_token *t)
{
    if (t->type != MAG_JSON_OBJECT && t->type != MAG_JSON_ARRAY)
        return MAG_OK;
    uint32_t outer = r->depth - 1;
    mag_json_token x;
    while (r->depth > outer) {
        mag_rc rc = mag_json_next(r, &x);
        if (rc != MAG_OK)
            return rc;
    }
    return MAG_OK;
}

void mag_json_error_message(const mag_json_reader *r, mag_buf *out)
{
    size_t off = r->err_offset;
    int code = off < r->len ? (unsigned char)r->buf[off] : -1;
    switch (r->err) {
    case MAG_JSON_E_NONE:
        return;
    case MAG_JSON_E_EMPTY:
        mag_buf_append_str(out, "No content to map due to end-of-input");
        return;
    case MAG_JSON_E_EOF:
        mag_buf_appendf(out, "Unexpected end-of-input at offset %zu", off);
        return;
    case MAG_JSON_E_CHAR:
        mag_buf_appendf(out, "Unexpected character (code %d) at offset %zu", code, off);
        return;
    case MAG_JSON_E_CTRL:
        mag_buf_appendf(out, "Illegal unquoted character (code %d) at offset %zu: has to be "
                        "escaped using backslash to be included in string value", code, off);
        return;
    case MAG_JSON_E_ESCAPE:
        mag_buf_appendf(out, "Unrecognized character escape (code %d) at offset %zu", code, off);
        return;
    case MAG_JSON_E_HEX:
        mag_buf_appendf(out, "Unexpected character (code %d) at offset %zu: expected a "
                        "hex-digit for character escape sequence", code, off);
        return;
    case MAG_JSON_E_SURROGATE:
        mag_buf_appendf(out, "Unpaired surrogate in \\u escape at offset %zu", off);
        return;
    case MAG_JSON_E_NUMBER:
        mag_buf_appendf(out, "Invalid numeric value: unexpected character (code %d) at offset %zu",
                        code, off);
        return;
    case MAG_JSON_E_DEPTH:
        mag_buf_appendf(out, "Maximum nesting depth (%d) exceeded at offset %zu",
                        MAG_JSON_MAX_DEPTH, off);
        return;
    case MAG_JSON_E_TRAILING:
        mag_buf_appendf(out, "Unexpected character (code %d) at offset %zu after the "
                        "top-level value", code, off);
        return;
    }
}

/* ------------------------------------------------------------- decoding */

static size_t utf8_encode(uint32_t cp, uint8_t u[4])
{
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (uint8_t)(0xC0 | (cp >> 6));
        u[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (uint8_t)(0xE0 | (cp >> 12));
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (uint8_t)(0xF0 | (cp >> 18));
    u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode the escape whose backslash is at s[*i] into u (1-4 bytes, never
 * more than the escape's own length) and advance *i past it. Tokens from
 * mag_json_next only hold valid escapes; for anything else (a hand-made
 * token) the backslash is copied as an ordinary byte. */
static size_t decode_escape(const unsigned char *s, size_t n, size_t *i, uint8_t u[4])
{
    size_t p = *i, bad;
    static const char from[] = "\"\\/bfnrt";
    static const char to[] = "\"\\/\b\f\n\r\t";
    if (p + 1 < n) {
        const char *e = s[p + 1] ? strchr(from, s[p + 1]) : NULL;
        if (e) {
            u[0] = (uint8_t)to[e - from];
            *i = p + 2;
            return 1;
        }
        long cp = s[p + 1] == 'u' ? hex4(s, n, p + 2, &bad) : -1;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = p + 7 < n && s[p + 6] == '\\' && s[p + 7] == 'u' ? hex4(s, n, p + 8, &bad) : -1;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                *i = p + 12;
                return utf8_encode(0x10000 + (((uint32_t)cp - 0xD800) << 10) +
                                   ((uint32_t)lo - 0xDC00), u);
            }
        } else if (cp >= 0 && (cp < 0xDC00 || cp > 0xDFFF)) {
            *i = p + 6;
            return utf8_encode((uint32_t)cp, u);
        }
    }
    u[0] = '\\';
    *i = p + 1;
    return 1;
}

static bool needs_decoding(const mag_json_token *t)
{
    return (t->type == MAG_JSON_STRING || t->type == MAG_JSON_KEY) && t->escaped;
}

size_t mag_json_unescape_to(const mag_json_token *t, char *dst, size_t cap)
{
    if (!needs_decoding(t)) {
        if (t->len > cap)
            return SIZE_MAX;
        if (t->len)
            memcpy(dst, t->text, t->len);
        return t->len;
    }
    const unsigned char *s = (const unsigned char *)t->text;
    size_t n = t->len, i = 0, o = 0;
    while (i < n) {
        const unsigned char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
        if (run > cap - o)
            return SIZE_MAX;
        if (run)
            memcpy(dst + o, s + i, run);
        o += run;
        i += run;
        if (i == n)
            break;
        uint8_t u[4];
        size_t k = decode_escape(s, n, &i, u);
        if (k > cap - o)
            return SIZE_MAX;
        memcpy(dst + o, u, k);
        o += k;
    }
    return o;
}

void mag_json_unescape(const mag_json_token *t, mag_buf *out)
{
    if (t->len == 0)
        return;
    mag_buf_reserve(out, t->len);   /* decoding never grows the text */
    out->len += mag_json_unescape_to(t, (char *)out->data + out->len, t->len);
}

bool mag_json_token_eq(const mag_json_token *t, const char *lit, size_t lit_len)
{
    if (!needs_decoding(t))
        return t->len == lit_len && (lit_len == 0 || memcmp(t->text, lit, lit_len) == 0);
    if (lit_len > t->len)
        return false;                   /* decoding never grows the text */
    const unsigned char *s = (const unsigned char *)t->text;
    size_t n = t->len, i = 0, o = 0;
    while (i < n) {
        uint8_t u[4];
        size_t k;
        if (s[i] == '\\') {
            k = decode_escape(s, n, &i, u);
        } else {
            u[0] = s[i++];
            k = 1;
        }
        if (k > lit_len - o || memcmp(lit + o, u, k) != 0)
            return false;
        o += k;
    }
    return o == lit_len;
}

/* -------------------------------------------------------------- numbers */

static bool is_json_number(const char *text, size_t len, bool *integer)
{
    mag_json_err e;
    size_t off;
    return number_end(text, len, 0, integer, &e, &off) == len;
}

mag_rc mag_json_number_i64(const char *text, size_t len, int64_t *out)
{
    bool integer;
    if (!is_json_number(text, len, &integer) || !integer)
        return MAG_ERR_JSON;
    bool neg = text[0] == '-';
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (size_t i = neg; i < len; i++) {
        unsigned d = (unsigned)(text[i] - '0');
        if (v > (limit - d) / 10)
            return MAG_ERR_TOO_LARGE;
        v = v * 10 + d;
    }
    if (!neg)
        *out = (int64_t)v;
    else if (v == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)v;
    return MAG_OK;
}

mag_rc mag_json_number_double(const char *text, size_t len, double *out)
{
    bool integer;
    char small[65];
    if (!is_json_number(text, len, &integer))
        return MAG_ERR_JSON;
    char *tmp = len < sizeof small ? small : mag_xmalloc(len + 1);
    memcpy(tmp, text, len);
    tmp[len] = '\0';
    *out = strtod(tmp, NULL);
    if (tmp != small)
        free(tmp);
    return MAG_OK;
}
