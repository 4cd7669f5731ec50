/* base64.h -- Base64 encoders and decoders with Java's exact semantics.
 *
 * Pulsar decodes producer payloads and reader start ids with Java's
 * Base64.getDecoder() ("basic"), and its error texts end up in send-error
 * receipts, so the decoder reproduces Java's acceptance rules and messages.
 * The URL-safe variant (no padding) is for JWT segments. Pure: no I/O.
 */
#ifndef MAG_UTIL_BASE64_H
#define MAG_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Standard alphabet with '=' padding (RFC 4648 §4), appended to out.
 * @param out  receives 4*ceil(len/3) characters (not NUL-terminated)
 * @param src  len bytes; may be NULL when len is 0 */
void mag_base64_encode(mag_buf *out, const uint8_t *src, size_t len);

/* Length of the padded standard encoding of len bytes: 4*ceil(len/3). */
size_t mag_base64_encoded_len(size_t len);

/* Java Base64.getDecoder().decode(String) semantics:
 * - standard alphabet only, no whitespace, no URL-safe characters;
 * - padding optional, but if present it must be correct ("xx==" or "xxx=");
 * - a final unit of a single character is illegal.
 * The input is treated as text the way Java sees a String: UTF-8 sequences
 * are mapped to ISO-8859-1 bytes ('?' above U+00FF) for the error texts and
 * character indices, so messages match Java exactly.
 * @param out  decoded bytes are APPENDED; on error out->len is restored
 * @param src  len bytes of text (need not be NUL-terminated)
 * @param err  may be NULL; on error Java's message is APPENDED, one of
 *             "Illegal base64 character 2d" (Integer.toString(signed byte, 16)),
 *             "Last unit does not have enough valid bits",
 *             "Input byte array has wrong 4-byte ending unit",
 *             "Input byte array has incorrect ending byte at N",
 *             "Input byte[] should at least have 2 bytes for base64 bytes"
 * @return MAG_OK or MAG_ERR_PAYLOAD */
mag_rc mag_base64_decode(mag_buf *out, const char *src, size_t len, mag_buf *err);

/* URL-safe alphabet ('-', '_') without padding (RFC 4648 §5, as in JWT).
 * '=' and any other character are rejected, as is a final unit of 1 char.
 * @param out  decoded bytes are APPENDED; on error out->len is restored
 * @return MAG_OK or MAG_ERR_PAYLOAD */
mag_rc mag_base64url_decode(mag_buf *out, const char *src, size_t len);

/* URL-safe alphabet without padding, appended to out. */
void mag_base64url_encode(mag_buf *out, const uint8_t *src, size_t len);

#endif /* MAG_UTIL_BASE64_H */
