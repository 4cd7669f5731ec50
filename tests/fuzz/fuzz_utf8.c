/* fuzz_utf8.c -- libFuzzer target for the incremental UTF-8 validator (src/codec/utf8.c).
 *
 * Byte 0 selects the chunking pattern (whole, byte-at-a-time, fixed size, pseudo-random). The
 * rest is validated whole and chunked; verdict, absolute error offset and completeness must
 * agree, and must match an independent reference decoder written straight from RFC 3629.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mag/codec/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Offset of the first invalid byte per RFC 3629 (the byte where a well-formed prefix can no
 * longer be extended), size if none; *incomplete set when the input ends inside a character. */
static size_t ref_first_error(const uint8_t *s, size_t n, int *incomplete)
{
    size_t i = 0;
    *incomplete = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2;
            if (c == 0xE0)
                lo = 0xA0;
            if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3;
            if (c == 0xF0)
                lo = 0x90;
            if (c == 0xF4)
                hi = 0x8F;
        } else {
            return i;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n) {
                *incomplete = 1;
                return n;
            }
            uint8_t b = s[i + j];
            if (j == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
                return i + j;
        }
        i += k + 1;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    const uint8_t *s = data + 1;
    size_t n = size - 1;

    mag_utf8_state whole;
    size_t woff = 0;
    mag_utf8_init(&whole);
    mag_rc wrc = mag_utf8_feed(&whole, s, n, &woff);

    mag_utf8_state st;
    mag_utf8_init(&st);
    mag_rc crc = MAG_OK;
    size_t coff = 0, pos = 0;
    uint32_t rng = sel;
    while (pos < n) {
        size_t step;
        switch (sel & 3) {
        case 0:
            step = n - pos;
            break;
        case 1:
            step = 1;
            break;
        case 2:
            step = 1 + (sel >> 2);
            break;
        default:
            rng = rng * 1103515245u + 12345u;
            step = 1 + (rng >> 16) % 11;
            break;
        }
        if (step > n - pos)
            step = n - pos;
        size_t off = 0;
        crc = mag_utf8_feed(&st, s + pos, step, &off);
        if (crc != MAG_OK) {
            coff = pos + off;
            break;
        }
        pos += step;
    }

    int incomplete;
    size_t ref = ref_first_error(s, n, &incomplete);
    if ((wrc == MAG_OK) != (ref == n) || (crc == MAG_OK) != (ref == n))
        abort();
    if (wrc != MAG_OK && (woff != ref || coff != ref))
        abort();
    if (wrc == MAG_OK && (mag_utf8_complete(&whole) == (bool)incomplete ||
                          mag_utf8_complete(&st) != mag_utf8_complete(&whole)))
        abort();
    if ((mag_utf8_validate(s, n) == MAG_OK) != (ref == n && !incomplete))
        abort();
    return 0;
}
