/* test_utf8.c -- unit tests for the incremental UTF-8 validator (src/codec/utf8.c).
 *
 * Covers the boundary code points, every class of ill-formed sequence (overlong, surrogate,
 * > U+10FFFF, stray continuation, truncated), state carried across arbitrary split points,
 * sticky errors and exact error offsets, and an exhaustive comparison against a straightforward
 * reference decoder for every 1-, 2- and 3-byte input and a sweep of 4-byte inputs.
 */
#include <stdint.h>
#include <string.h>

#include "mag/codec/utf8.h"
#include "mag_test.h"

/* Reference: decode strictly by the definition (RFC 3629 §3/§4). */
static int ref_valid(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + k >= n)
            return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        static const uint32_t min[4] = { 0, 0x80, 0x800, 0x10000 };
        if (cp < min[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

static int ours(const uint8_t *s, size_t n)
{
    return mag_utf8_validate(s, n) == MAG_OK;
}

MAG_TEST(valid_boundaries)
{
    static const char *ok[] = {
        "", "a", "hello world, this is ascii!", "\x7F",
        "\xC2\x80", "\xC3\xA9", "\xDF\xBF",                  /* U+0080, é, U+07FF */
        "\xE0\xA0\x80", "\xE2\x82\xAC", "\xED\x9F\xBF",      /* U+0800, €, U+D7FF */
        "\xEE\x80\x80", "\xEF\xBF\xBF",                      /* U+E000, U+FFFF */
        "\xF0\x90\x80\x80", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF", /* U+10000, 😀, U+10FFFF */
        "\xE4\xBD\xA0\xE5\xA5\xBD, \xE3\x80\x81\xE3\x80\x8A\xE3\x80\x8B",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK_EQ_INT(mag_utf8_validate((const uint8_t *)ok[i], strlen(ok[i])), MAG_OK);
}

MAG_TEST(invalid_classes)
{
    static const struct { const char *s; size_t n; size_t off; } bad[] = {
        { "\xC0\x80", 2, 0 },            /* overlong NUL */
        { "\xC1\xBF", 2, 0 },            /* overlong */
        { "\xE0\x80\x80", 3, 1 },        /* overlong 3-byte */
        { "\xE0\x9F\xBF", 3, 1 },
        { "\xF0\x80\x80\x80", 4, 1 },    /* overlong 4-byte */
        { "\xF0\x8F\xBF\xBF", 4, 1 },
        { "\xED\xA0\x80", 3, 1 },        /* U+D800 */
        { "\xED\xBF\xBF", 3, 1 },        /* U+DFFF */
        { "\xF4\x90\x80\x80", 4, 1 },    /* U+110000 */
        { "\xF5\x80\x80\x80", 4, 0 },
        { "\xFE", 1, 0 },
        { "\xFF", 1, 0 },
        { "\x80", 1, 0 },                /* stray continuation */
        { "ab\xBF", 3, 2 },
        { "\xC3\x41", 2, 1 },            /* lead then ASCII */
        { "\xE2\x82\x41", 3, 2 },
        { "\xF0\x9F\x98\xC3", 4, 3 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mag_utf8_state st;
        size_t off = 999;
        mag_utf8_init(&st);
        CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)bad[i].s, bad[i].n, &off), MAG_ERR_UTF8);
        CHECK_EQ_INT(off, bad[i].off);
        CHECK(!mag_utf8_complete(&st));
        CHECK_EQ_INT(mag_utf8_validate((const uint8_t *)bad[i].s, bad[i].n), MAG_ERR_UTF8);
    }
}

MAG_TEST(truncated_at_end)
{
    static const char *trunc[] = { "\xC3", "\xE2\x82", "\xF0\x9F\x98", "abc\xF0" };
    for (size_t i = 0; i < sizeof trunc / sizeof trunc[0]; i++) {
        mag_utf8_state st;
        mag_utf8_init(&st);
        CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)trunc[i], strlen(trunc[i]), NULL),
                     MAG_OK);
        CHECK(!mag_utf8_complete(&st));
        CHECK_EQ_INT(mag_utf8_validate((const uint8_t *)trunc[i], strlen(trunc[i])),
                     MAG_ERR_UTF8);
    }
}

MAG_TEST(split_everywhere)
{
    const uint8_t s[] = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z\xF4\x8F\xBF\xBF";
    size_t n = sizeof s - 1;
    for (size_t a = 0; a <= n; a++) {
        for (size_t b = a; b <= n; b++) {
            mag_utf8_state st;
            mag_utf8_init(&st);
            CHECK_EQ_INT(mag_utf8_feed(&st, s, a, NULL), MAG_OK);
            CHECK_EQ_INT(mag_utf8_feed(&st, s + a, b - a, NULL), MAG_OK);
            CHECK_EQ_INT(mag_utf8_feed(&st, s + b, n - b, NULL), MAG_OK);
            CHECK(mag_utf8_complete(&st));
        }
    }
    /* A surrogate split across fragments is still caught, at the right offset. */
    mag_utf8_state st;
    size_t off = 99;
    mag_utf8_init(&st);
    CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)"\xED", 1, NULL), MAG_OK);
    CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)"\xA0\x80", 2, &off), MAG_ERR_UTF8);
    CHECK_EQ_INT(off, 0);
}

MAG_TEST(sticky_error_and_reinit)
{
    mag_utf8_state st;
    size_t off = 99;
    mag_utf8_init(&st);
    CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)"\xFF", 1, NULL), MAG_ERR_UTF8);
    CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)"abc", 3, &off), MAG_ERR_UTF8);
    CHECK_EQ_INT(off, 0);
    CHECK(!mag_utf8_complete(&st));
    mag_utf8_init(&st);
    CHECK_EQ_INT(mag_utf8_feed(&st, (const uint8_t *)"abc", 3, NULL), MAG_OK);
    CHECK(mag_utf8_complete(&st));
}

MAG_TEST(fast_path_offsets)
{
    /* Invalid bytes at every position of a long ASCII run (exercises the 8-byte skip). */
    uint8_t buf[40];
    for (size_t pos = 0; pos < sizeof buf; pos++) {
        memset(buf, 'x', sizeof buf);
        buf[pos] = 0x80;
        mag_utf8_state st;
        size_t off = 999;
        mag_utf8_init(&st);
        CHECK_EQ_INT(mag_utf8_feed(&st, buf, sizeof buf, &off), MAG_ERR_UTF8);
        CHECK_EQ_INT(off, pos);
    }
}

MAG_TEST(exhaustive_up_to_3_bytes)
{
    uint8_t s[3];
    long mismatches = 0;
    for (int a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        mismatches += ours(s, 1) != ref_valid(s, 1);
        for (int b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            mismatches += ours(s, 2) != ref_valid(s, 2);
            for (int c = 0; c < 256; c++) {
                s[2] = (uint8_t)c;
                mismatches += ours(s, 3) != ref_valid(s, 3);
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}

MAG_TEST(sweep_4_bytes)
{
    static const uint8_t tails[] = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                     0xC2, 0xE0, 0xF0, 0xF4, 0xFF };
    uint8_t s[4];
    long mismatches = 0;
    for (int a = 0xC0; a < 256; a++)
        for (int b = 0; b < 256; b++)
            for (size_t c = 0; c < sizeof tails; c++)
                for (size_t d = 0; d < sizeof tails; d++) {
                    s[0] = (uint8_t)a;
                    s[1] = (uint8_t)b;
                    s[2] = tails[c];
                    s[3] = tails[d];
                    mismatches += ours(s, 4) != ref_valid(s, 4);
                }
    CHECK_EQ_INT(mismatches, 0);
}

int main(void)
{
    RUN(valid_boundaries);
    RUN(invalid_classes);
    RUN(truncated_at_end);
    RUN(split_everywhere);
    RUN(sticky_error_and_reinit);
    RUN(fast_path_offsets);
    RUN(exhaustive_up_to_3_bytes);
    RUN(sweep_4_bytes);
    return mag_test_summary();
}
