/* utf8.c -- incremental UTF-8 validator.
 *
 * A lead byte fixes how many continuation bytes follow and the allowed range of the FIRST one
 * (Unicode Table 3-7 "Well-Formed UTF-8 Byte Sequences"): that single range check is what
 * rejects overlongs (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above
 * U+10FFFF (F4 90..BF). Later continuation bytes are always 80..BF. ASCII runs are skipped
 * eight bytes at a time because almost all Pulsar JSON is ASCII.
 */
#include "mag/codec/utf8.h"

#include <string.h>

#define UTF8_ERR 0xFF

void mag_utf8_init(mag_utf8_state *s)
{
    s->need = 0;
    s->lo = 0x80;
    s->hi = 0xBF;
}

/* Start a character with lead byte c; returns false for a byte that cannot start one. */
static bool utf8_lead(mag_utf8_state *s, uint8_t c)
{
    s->lo = 0x80;
    s->hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        s->need = 1;
    } else if (c == 0xE0) {
        s->need = 2;
        s->lo = 0xA0;
    } else if (c == 0xED) {
        s->need = 2;
        s->hi = 0x9F;
    } else if (c >= 0xE1 && c <= 0xEF) {
        s->need = 2;
    } else if (c == 0xF0) {
        s->need = 3;
        s->lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
        s->need = 3;
    } else if (c == 0xF4) {
        s->need = 3;
        s->hi = 0x8F;
    } else {
        return false;   /* 80..C1 (stray continuation / overlong 2-byte), F5..FF */
    }
    return true;
}

mag_rc mag_utf8_feed(mag_utf8_state *s, const uint8_t *buf, size_t len, size_t *err_off)
{
    if (s->need == UTF8_ERR) {
        if (err_off)
            *err_off = 0;
        return MAG_ERR_UTF8;
    }
    size_t i = 0;
    while (i < len) {
        if (s->need == 0) {
            /* Fast path: skip whole words of ASCII. */
            while (len - i >= 8) {
                uint64_t w;
                memcpy(&w, buf + i, 8);
                if (w & UINT64_C(0x8080808080808080))
                    break;
                i += 8;
            }
            if (i == len)
                break;
            uint8_t c = buf[i];
            if (c < 0x80) {
                i++;
                continue;
            }
            if (!utf8_lead(s, c))
                goto bad;
            i++;
            continue;
        }
        uint8_t c = buf[i];
        if (c < s->lo || c > s->hi)
            goto bad;
        s->need--;
        s->lo = 0x80;
        s->hi = 0xBF;
        i++;
    }
    return MAG_OK;
bad:
    s->need = UTF8_ERR;
    if (err_off)
        *err_off = i;
    return MAG_ERR_UTF8;
}

bool mag_utf8_complete(const mag_utf8_state *s)
{
    return s->need == 0;
}

mag_rc mag_utf8_validate(const uint8_t *buf, size_t len)
{
    mag_utf8_state s;
    mag_utf8_init(&s);
    if (mag_utf8_feed(&s, buf, len, NULL) != MAG_OK || !mag_utf8_complete(&s))
        return MAG_ERR_UTF8;
    return MAG_OK;
}
