/* utf8.h -- incremental UTF-8 validator (RFC 3629).
 *
 * WebSocket text messages arrive in fragments that may split a character anywhere, and RFC 6455
 * §8.1 wants invalid data detected as early as possible. The validator therefore carries the
 * state of a partial character across calls. It rejects overlong forms, UTF-16 surrogates
 * (U+D800-U+DFFF), code points above U+10FFFF and stray continuation bytes; a message that ends
 * inside a character is detected with mag_utf8_complete(). Pure: no allocation, no I/O.
 */
#ifndef MAG_CODEC_UTF8_H
#define MAG_CODEC_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"

/* Validator state; embed and initialise with mag_utf8_init (or zero it). */
typedef struct mag_utf8_state {
    uint8_t need;   /* continuation bytes still expected; 0xFF after an error */
    uint8_t lo, hi; /* allowed range of the next continuation byte */
} mag_utf8_state;

void mag_utf8_init(mag_utf8_state *s);

/* Validate the next len bytes of a stream. Returns MAG_OK (valid so far, possibly inside a
 * character) or MAG_ERR_UTF8 (invalid; sticky for every later call until mag_utf8_init).
 * If err_off is non-NULL it receives the offset within buf of the offending byte. */
mag_rc mag_utf8_feed(mag_utf8_state *s, const uint8_t *buf, size_t len, size_t *err_off);

/* True when the stream so far ends on a character boundary and had no error. */
bool mag_utf8_complete(const mag_utf8_state *s);

/* Whole-buffer check: MAG_OK if buf is complete valid UTF-8, else MAG_ERR_UTF8. */
mag_rc mag_utf8_validate(const uint8_t *buf, size_t len);

#endif /* MAG_CODEC_UTF8_H */
