/* hash.c -- MurmurHash3_x86_32 and Java's String.hashCode (see include/mag/util/hash.h). */
#include "mag/util/hash.h"

#include <string.h>

#include "mag/util/str.h"

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

uint32_t mag_murmur3_32(const void *data, size_t len, uint32_t seed)
{
    const uint8_t *p = data;
    const uint32_t c1 = 0xcc9e2d51u, c2 = 0x1b873593u;
    uint32_t h = seed;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                     (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64u;
    }
    const uint8_t *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        __attribute__((fallthrough));
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        __attribute__((fallthrough));
    case 1:
        k ^= tail[0];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

int32_t mag_java_string_hash(const char *s, size_t len)
{
    uint32_t h = 0;
    size_t i = 0;
    while (i < len) {
        int32_t cp;
        size_t n = mag_utf8_decode((const uint8_t *)s + i, len - i, &cp);
        if (n == 0)
            n = 1;
        if (cp < 0)
            cp = 0xFFFD;
        i += n;
        if (cp >= 0x10000) {
            uint32_t v = (uint32_t)cp - 0x10000u;
            h = 31 * h + (0xD800u + (v >> 10));
            h = 31 * h + (0xDC00u + (v & 0x3FFu));
        } else {
            h = 31 * h + (uint32_t)cp;
        }
    }
    return (int32_t)h;
}
