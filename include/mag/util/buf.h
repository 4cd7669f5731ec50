/* buf.h -- growable byte buffer used by the pure codecs and formatters.
 *
 * A mag_buf owns its storage. mag_buf_reset() keeps the capacity so a buffer
 * reused across messages does not allocate on the hot path. The data is not
 * NUL-terminated unless mag_buf_cstr() is called.
 */
#ifndef MAG_UTIL_BUF_H
#define MAG_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct mag_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} mag_buf;

#define MAG_BUF_INIT { NULL, 0, 0 }

void mag_buf_init(mag_buf *b);
/* Release the storage; the buffer is empty and reusable afterwards. */
void mag_buf_free(mag_buf *b);
/* Forget the contents, keep the capacity. */
static inline void mag_buf_reset(mag_buf *b) { b->len = 0; }
/* Ensure room for `extra` more bytes (aborts on OOM). */
void mag_buf_reserve(mag_buf *b, size_t extra);
void mag_buf_append(mag_buf *b, const void *p, size_t n);
void mag_buf_append_str(mag_buf *b, const char *s);
void mag_buf_append_byte(mag_buf *b, uint8_t c);
/* printf-style append. */
void mag_buf_appendf(mag_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Decimal integers without printf. */
void mag_buf_append_u64(mag_buf *b, uint64_t v);
void mag_buf_append_i64(mag_buf *b, int64_t v);
/* NUL-terminate (not counted in len) and return the data as a C string. */
const char *mag_buf_cstr(mag_buf *b);

#endif /* MAG_UTIL_BUF_H */
