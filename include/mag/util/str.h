/* str.h -- string helpers with Java semantics: URL decoding, query strings,
 * Integer/Long/Boolean parsing, UTF-8 scanning.
 *
 * Pulsar's WebSocket layer decodes topic paths with java.net.URLDecoder and
 * parses query parameters with Integer.parseInt/Long.parseLong/
 * Boolean.parseBoolean; their acceptance rules and error texts are part of
 * the observable behaviour (HTTP 400 "Invalid query params: For input
 * string: \"abc\""), so these helpers reproduce them. Pure: no I/O.
 */
#ifndef MAG_UTIL_STR_H
#define MAG_UTIL_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* ASCII case-insensitive equality of two byte ranges (lengths compared first).
 * Neither range needs a NUL terminator. */
bool mag_memieq(const char *a, size_t alen, const char *b, size_t blen);

/* Decode one UTF-8 code point at s (len >= 1 bytes available).
 * @param cp  receives the code point, or -1 when the bytes are ill-formed
 * @return bytes consumed (>= 1; for ill-formed input the length of the
 *         maximal ill-formed subpart, Unicode §3.9, as Java's decoder
 *         replaces them), 0 only when len is 0 */
size_t mag_utf8_decode(const uint8_t *s, size_t len, int32_t *cp);

/* java.net.URLDecoder.decode(s, UTF-8): '+' -> space, runs of %XX -> bytes
 * decoded as UTF-8 (ill-formed sequences become U+FFFD as in Java), other
 * bytes copied. Like Java, the two characters after '%' go through
 * Integer.parseInt(.., 16), so "%+5" is byte 5 and "%-1" an error.
 * @param out  decoded text is APPENDED (not NUL-terminated; use mag_buf_cstr);
 *             on error out->len is restored
 * @return MAG_OK, or MAG_ERR_BAD_REQUEST for a bad or truncated escape */
mag_rc mag_url_decode(mag_buf *out, const char *s, size_t len);

/* Same, but on error appends Java's message to err (may be NULL):
 * "URLDecoder: Incomplete trailing escape (%) pattern" or
 * "URLDecoder: Illegal hex characters in escape (%) pattern - ...". */
mag_rc mag_url_decode_msg(mag_buf *out, const char *s, size_t len, mag_buf *err);

/* Maximum number of pairs mag_query_parse accepts. */
#define MAG_QUERY_MAX_PAIRS 128

/* Decoded query string. keys[i]/values[i] are NUL-terminated heap strings
 * owned by the mag_query; free everything with mag_query_free(). */
typedef struct mag_query {
    size_t count;
    char **keys;
    char **values;
} mag_query;

/* Parse "a=1&b=x%20y&a=2" (no leading '?'). Names and values are URL-decoded
 * (mag_url_decode); the first value wins for repeated names (later pairs are
 * dropped); names are case-sensitive; a name without '=' has value ""; empty
 * segments ("a=1&&b") are skipped. A decoded value containing NUL is cut at
 * the NUL when read as a C string.
 * @param q  overwritten (any previous content is NOT freed); on error q is
 *           left empty (count 0, NULL arrays) and needs no free
 * @return MAG_OK, or MAG_ERR_BAD_REQUEST for a bad escape or more than
 *         MAG_QUERY_MAX_PAIRS pairs */
mag_rc mag_query_parse(mag_query *q, const char *s, size_t len);

/* Value for key (exact, case-sensitive), or NULL if absent. The pointer is
 * owned by q and valid until mag_query_free(q). */
const char *mag_query_get(const mag_query *q, const char *key);

/* Free all strings and arrays; q becomes empty and reusable. */
void mag_query_free(mag_query *q);

/* Java Integer.parseInt(s) / Long.parseLong(s) in radix 10: optional '+' or
 * '-', then at least one ASCII digit, nothing else, range-checked.
 * @param s    NUL-terminated; NULL is an error (Java message "null")
 * @param out  written only on success
 * @param err  may be NULL; on error Java's message is APPENDED:
 *             For input string: "abc"
 * @return MAG_OK or MAG_ERR_BAD_REQUEST */
mag_rc mag_parse_java_int(const char *s, int32_t *out, mag_buf *err);
mag_rc mag_parse_java_long(const char *s, int64_t *out, mag_buf *err);

/* Boolean.parseBoolean: true iff s equals "true" ignoring ASCII case;
 * NULL and anything else -> false. Never an error. */
bool mag_parse_java_bool(const char *s);

#endif /* MAG_UTIL_STR_H */
