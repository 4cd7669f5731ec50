/* bytes.h -- byte-level helpers written once: hex digits and big-endian integers.
 *
 * Big-endian keys sort numerically in LMDB; hex digits appear in JSON \u escapes, URL decoding,
 * key files and generated names. Pure, header-only.
 */
#ifndef MAG_UTIL_BYTES_H
#define MAG_UTIL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* The value of one hex digit (either case), or -1. */
static inline int mag_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The digit of v (0..15), lower or upper case. */
static inline char mag_hex_digit(unsigned v, int upper)
{
    return (upper ? "0123456789ABCDEF" : "0123456789abcdef")[v & 15u];
}

/* n random lower-case hex digits and a NUL into out (n + 1 bytes): names Pulsar generates
   (consumer names, subscription names) are not secrets, so rand() is enough. */
static inline void mag_random_hex(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = mag_hex_digit((unsigned)rand(), 0);
    out[n] = '\0';
}

static inline void mag_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline uint64_t mag_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#endif /* MAG_UTIL_BYTES_H */
