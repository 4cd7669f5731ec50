/* json_reader.h -- strict, allocation-free JSON pull reader (RFC 8259).
 *
 * The Pulsar codecs bind a few known fields out of every frame; building a
 * tree (cJSON) costs one allocation per value and turns strings into C
 * strings that end at the first "\u0000". This reader instead hands out
 * tokens that point into the caller's buffer: strings as their raw text
 * between the quotes (decoded on demand, NUL-safe, into a caller buffer) and
 * numbers as their source text (exact int64 parse, or strtod). It never
 * allocates, never reads outside [buf, buf+len) and validates everything it
 * passes over, including values skipped with mag_json_skip().
 *
 * Strictness (RFC 8259): whitespace is only space, \t, \n, \r; no BOM,
 * comments, single quotes, NaN/Infinity, leading '+' or leading zeros;
 * control characters (< 0x20) must be escaped inside strings; the only
 * escapes are \" \\ \/ \b \f \n \r \t \uXXXX. Objects may repeat a key (the
 * reader reports every member; the binder decides). Nesting deeper than
 * MAG_JSON_MAX_DEPTH is an error. Text after the top-level value (other than
 * whitespace) is an error when the caller asks for the token after it.
 *
 * Policies:
 *  - Surrogates: a \uD800-\uDBFF escape must be followed immediately by a
 *    \uDC00-\uDFFF escape (the pair decodes to one 4-byte UTF-8 character);
 *    any unpaired surrogate escape is rejected (MAG_JSON_E_SURROGATE), as
 *    cJSON does, so decoded text is always UTF-8 when the input is.
 *  - \u0000 is legal and decodes to a 0 byte; decoded strings carry their
 *    length and may contain NULs.
 *  - Bytes >= 0x80 are not validated here: they are copied verbatim. JSON
 *    text must be UTF-8 and the WebSocket layer already rejects text frames
 *    that are not (RFC 6455 §8.1, close 1007), so a second pass would only
 *    cost time; writers (mag_json_append_string) repair ill-formed UTF-8.
 * Pure: no I/O, no allocation, no global state; a reader is used by one
 * thread at a time.
 */
#ifndef MAG_CODEC_JSON_READER_H
#define MAG_CODEC_JSON_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Deepest nesting of objects/arrays accepted ({"a":[1]} has depth 2). */
#define MAG_JSON_MAX_DEPTH 64

typedef enum mag_json_type {
    MAG_JSON_END = 0,       /* the top-level value is complete and only whitespace follows */
    MAG_JSON_OBJECT,        /* '{' */
    MAG_JSON_OBJECT_END,    /* '}' */
    MAG_JSON_ARRAY,         /* '[' */
    MAG_JSON_ARRAY_END,     /* ']' */
    MAG_JSON_KEY,           /* member name; the ':' after it is already consumed */
    MAG_JSON_STRING,
    MAG_JSON_NUMBER,
    MAG_JSON_TRUE,
    MAG_JSON_FALSE,
    MAG_JSON_NULL
} mag_json_type;

typedef struct mag_json_token {
    mag_json_type type;
    /* STRING/KEY: the bytes between the quotes, escapes NOT decoded (use
     * mag_json_unescape); NUMBER: the number's source text ("-0", "1.50",
     * "1e400"); TRUE/FALSE/NULL: the literal; brackets: the bracket; END:
     * empty. Points into the reader's buffer: valid as long as that is. */
    const char *text;
    size_t len;
    size_t offset;          /* offset of the token's first byte (the opening quote of a string) */
    bool escaped;           /* STRING/KEY: text contains at least one '\' escape */
    bool integer;           /* NUMBER: no fraction and no exponent */
} mag_json_token;

typedef enum mag_json_err {
    MAG_JSON_E_NONE = 0,
    MAG_JSON_E_EMPTY,       /* the input holds no value at all (empty or whitespace) */
    MAG_JSON_E_EOF,         /* the input ends inside a value */
    MAG_JSON_E_CHAR,        /* a byte that cannot start/continue the expected token */
    MAG_JSON_E_CTRL,        /* an unescaped control character (< 0x20) inside a string */
    MAG_JSON_E_ESCAPE,      /* backslash followed by something other than "\/bfnrtu */
    MAG_JSON_E_HEX,         /* \u not followed by four hex digits */
    MAG_JSON_E_SURROGATE,   /* an unpaired UTF-16 surrogate escape */
    MAG_JSON_E_NUMBER,      /* malformed number: leading zero, no digit after '-', '.' or 'e' */
    MAG_JSON_E_DEPTH,       /* more than MAG_JSON_MAX_DEPTH nested containers */
    MAG_JSON_E_TRAILING     /* something other than whitespace after the top-level value */
} mag_json_err;

/* Reader state. Embed it and initialise with mag_json_reader_init; copy it
 * by value to look ahead. The fields are read-only for callers. */
typedef struct mag_json_reader {
    const char *buf;
    size_t len;
    size_t pos;             /* next byte to read */
    uint64_t objects;       /* bit d-1 set: the container at depth d is an object */
    uint32_t depth;         /* containers open after the last token */
    uint8_t state;          /* private */
    mag_json_err err;       /* first error; sticky */
    size_t err_offset;      /* offset of the offending byte (len for end of input) */
} mag_json_reader;

/* Start reading buf. The reader borrows buf (len bytes, need not be
 * NUL-terminated); it must stay unchanged while the reader or any token from
 * it is used. No allocation. */
void mag_json_reader_init(mag_json_reader *r, const char *buf, size_t len);

/* Read the next token into *t.
 * A document is one value; tokens come in document order: OBJECT, then
 * KEY/value pairs, OBJECT_END; ARRAY, values, ARRAY_END. After the
 * top-level value the next call returns END (MAG_OK) when only whitespace
 * remains; callers that, like Jackson's readValue, ignore trailing text
 * simply stop asking once r->depth is back to 0.
 * @return MAG_OK, or MAG_ERR_JSON with r->err / r->err_offset set; errors are
 *         sticky (every later call fails the same way) and *t is then
 *         unspecified. */
mag_rc mag_json_next(mag_json_reader *r, mag_json_token *t);

/* Skip the value that t starts: for OBJECT/ARRAY read (and validate) up to
 * and including the matching close; for scalars do nothing.
 * @param t  the token mag_json_next just returned for r
 * @return MAG_OK or MAG_ERR_JSON (r->err set) */
mag_rc mag_json_skip(mag_json_reader *r, const mag_json_token *t);

/* Append a Jackson-style description of r's error to out, e.g.
 * "Unexpected character (code 110) at offset 0",
 * "Unexpected end-of-input at offset 12",
 * "No content to map due to end-of-input". Appends nothing without an error. */
void mag_json_error_message(const mag_json_reader *r, mag_buf *out);

/* ------------------------------------------------------------ strings */

/* Decode a STRING/KEY token's text (escapes resolved, surrogate pairs
 * joined into UTF-8, \u0000 -> 0 byte) and APPEND it to out. Any other
 * token's text is appended as it is (so a NUMBER appends its source text:
 * Jackson's String coercion). The decoded length is at most t->len; out is
 * reserved once, so a warm buffer does not allocate. Not NUL-terminated.
 * Tokens from mag_json_next hold only valid escapes; in a hand-made token a
 * malformed escape is copied as it is (never read past t->len). */
void mag_json_unescape(const mag_json_token *t, mag_buf *out);

/* Same into a caller array of cap bytes.
 * @return the decoded length, or SIZE_MAX if it does not fit (dst is then
 *         partly written). */
size_t mag_json_unescape_to(const mag_json_token *t, char *dst, size_t cap);

/* Does the token's decoded text (as mag_json_unescape would produce it)
 * equal the lit_len bytes at lit? No allocation. */
bool mag_json_token_eq(const mag_json_token *t, const char *lit, size_t lit_len);

/* ------------------------------------------------------------ numbers */

/* Exact value of an integer number text (optional '-', digits; what a
 * NUMBER token with integer == true holds).
 * @param out  written only on success
 * @return MAG_OK; MAG_ERR_TOO_LARGE when the value is outside int64
 *         (e.g. 9223372036854775808); MAG_ERR_JSON when the text is not a
 *         JSON integer ("1.0", "1e3", "01", "+1", ""). */
mag_rc mag_json_number_i64(const char *text, size_t len, int64_t *out);

/* Nearest double to a JSON number text (strtod in the C locale, correctly
 * rounded). Overflow gives +-HUGE_VAL ("1e400" -> inf), underflow 0 or a
 * subnormal; "-0" gives -0.0. Texts longer than 64 bytes use a temporary
 * heap copy; shorter ones do not allocate.
 * @param out  written only on success
 * @return MAG_OK, or MAG_ERR_JSON when the text is not a JSON number */
mag_rc mag_json_number_double(const char *text, size_t len, double *out);

#endif /* MAG_CODEC_JSON_READER_H */
