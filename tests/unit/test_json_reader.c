/* test_json_reader.c -- unit tests for src/codec/json_reader.c.
 *
 * Every token type with exact text/offset/flags, the whole RFC 8259 grammar
 * with the strictness rules (whitespace, numbers, escapes, control
 * characters, surrogates, depth, trailing text), decoding into buffers and
 * fixed arrays, the exact int64 / double number helpers, skipping, the
 * error messages, and truncation of a rich document at every byte (each
 * prefix read from an exact-size heap copy must fail with end-of-input).
 */
#include "mag_test.h"
#include "mag/codec/json_reader.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* The token stream of doc as a compact string: { } [ ] k:<raw> s:<raw>
 * n:<raw> (i when integer) t f z $ for END, e=escaped strings marked with
 * a trailing '\'; an error ends the stream as E<kind>@<offset>. */
static const char *toks_n(const char *doc, size_t len)
{
    static mag_buf b = MAG_BUF_INIT;
    mag_json_reader r;
    mag_json_token t;
    mag_buf_reset(&b);
    mag_json_reader_init(&r, doc, len);
    for (int guard = 0; guard < 1000; guard++) {
        if (b.len)
            mag_buf_append_byte(&b, ' ');
        if (mag_json_next(&r, &t) != MAG_OK) {
            mag_buf_appendf(&b, "E%d@%zu", (int)r.err, r.err_offset);
            break;
        }
        switch (t.type) {
        case MAG_JSON_END: mag_buf_append_byte(&b, '$'); break;
        case MAG_JSON_OBJECT: mag_buf_append_byte(&b, '{'); break;
        case MAG_JSON_OBJECT_END: mag_buf_append_byte(&b, '}'); break;
        case MAG_JSON_ARRAY: mag_buf_append_byte(&b, '['); break;
        case MAG_JSON_ARRAY_END: mag_buf_append_byte(&b, ']'); break;
        case MAG_JSON_TRUE: mag_buf_append_byte(&b, 't'); break;
        case MAG_JSON_FALSE: mag_buf_append_byte(&b, 'f'); break;
        case MAG_JSON_NULL: mag_buf_append_byte(&b, 'z'); break;
        case MAG_JSON_KEY:
        case MAG_JSON_STRING:
            mag_buf_append_str(&b, t.type == MAG_JSON_KEY ? "k:" : "s:");
            mag_buf_append(&b, t.text, t.len);
            if (t.escaped)
                mag_buf_append_byte(&b, '\\');
            break;
        case MAG_JSON_NUMBER:
            mag_buf_append_str(&b, "n:");
            mag_buf_append(&b, t.text, t.len);
            if (t.integer)
                mag_buf_append_byte(&b, 'i');
            break;
        }
        if (t.type == MAG_JSON_END)
            break;
    }
    return mag_buf_cstr(&b);
}

static const char *toks(const char *doc)
{
    return toks_n(doc, strlen(doc));
}

/* Error kinds as they appear in toks() output. */
#define EEMPTY "E1@"
#define EEOF "E2@"
#define ECHAR "E3@"
#define ECTRL "E4@"
#define EESC "E5@"
#define EHEX "E6@"
#define ESURR "E7@"
#define ENUM "E8@"
#define EDEPTH "E9@"
#define ETRAIL "E10@"

MAG_TEST(token_types)
{
    CHECK_STR(toks("{\"a\":\"x\",\"b\":[1,-2.5,true,false,null],\"c\":{}}"),
              "{ k:a s:x k:b [ n:1i n:-2.5 t f z ] k:c { } } $");
    CHECK_STR(toks("[]"), "[ ] $");
    CHECK_STR(toks("{}"), "{ } $");
    CHECK_STR(toks("[[],[[]],{}]"), "[ [ ] [ [ ] ] { } ] $");
    CHECK_STR(toks("\"top\""), "s:top $");
    CHECK_STR(toks("42"), "n:42i $");
    CHECK_STR(toks("true"), "t $");
    CHECK_STR(toks("false"), "f $");
    CHECK_STR(toks("null"), "z $");
    CHECK_STR(toks("\"\""), "s: $");
    CHECK_STR(toks("{\"\":\"\"}"), "{ k: s: } $");
    /* repeated keys are all reported */
    CHECK_STR(toks("{\"a\":1,\"a\":2}"), "{ k:a n:1i k:a n:2i } $");
    /* END is repeatable */
    mag_json_reader r;
    mag_json_token t;
    mag_json_reader_init(&r, "1", 1);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_END);
    CHECK_EQ_INT(t.len, 0);
    CHECK_EQ_INT(t.offset, 1);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_END);
}

MAG_TEST(token_positions)
{
    const char *doc = " { \"k\\n\" : [ \"v\" , 12.5e3 ] } ";
    mag_json_reader r;
    mag_json_token t;
    mag_json_reader_init(&r, doc, strlen(doc));
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_OBJECT);
    CHECK_EQ_INT(t.offset, 1);
    CHECK_EQ_INT(r.depth, 1);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_KEY);
    CHECK_EQ_INT(t.offset, 3);
    CHECK(t.text == doc + 4);
    CHECK_EQ_INT(t.len, 3);
    CHECK(t.escaped);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_ARRAY);
    CHECK_EQ_INT(t.offset, 11);
    CHECK_EQ_INT(r.depth, 2);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_STRING);
    CHECK_EQ_INT(t.offset, 13);
    CHECK(t.text == doc + 14);
    CHECK_EQ_INT(t.len, 1);
    CHECK(!t.escaped);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_NUMBER);
    CHECK_EQ_INT(t.offset, 19);
    CHECK_EQ_INT(t.len, 6);
    CHECK(!t.integer);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_ARRAY_END);
    CHECK_EQ_INT(t.offset, 26);
    CHECK_EQ_INT(r.depth, 1);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_OBJECT_END);
    CHECK_EQ_INT(t.offset, 28);
    CHECK_EQ_INT(r.depth, 0);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_END);
    CHECK_EQ_INT(t.offset, 30);
}

MAG_TEST(whitespace)
{
    CHECK_STR(toks(" \t\r\n[ \t\r\n1 \t\r\n, \t\r\n2 \t\r\n] \t\r\n"), "[ n:1i n:2i ] $");
    CHECK_STR(toks("\f[]"), ECHAR "0");
    CHECK_STR(toks("[\v]"), "[ " ECHAR "1");
    CHECK_STR(toks("[1,\x01 2]"), "[ n:1i " ECHAR "3");
    CHECK_STR(toks_n("[\0]", 3), "[ " ECHAR "1");
    CHECK_STR(toks("\xc2\xa0[]"), ECHAR "0");       /* U+00A0 is not JSON whitespace */
    CHECK_STR(toks("\xef\xbb\xbf{}"), ECHAR "0");   /* no BOM */
    CHECK_STR(toks(""), EEMPTY "0");
    CHECK_STR(toks(" \n\t\r "), EEMPTY "5");
}

MAG_TEST(trailing)
{
    CHECK_STR(toks("{} "), "{ } $");
    CHECK_STR(toks("{} x"), "{ } " ETRAIL "3");
    CHECK_STR(toks("1 2"), "n:1i " ETRAIL "2");
    CHECK_STR(toks("[]]"), "[ ] " ETRAIL "2");
    CHECK_STR(toks("\"a\"\"b\""), "s:a " ETRAIL "3");
    CHECK_STR(toks_n("{}\0", 3), "{ } " ETRAIL "2");
    CHECK_STR(toks("truex"), "t " ETRAIL "4");
    CHECK_STR(toks("nullnull"), "z " ETRAIL "4");
}

MAG_TEST(structure_errors)
{
    CHECK_STR(toks("{\"a\" 1}"), "{ " ECHAR "5");            /* missing colon */
    CHECK_STR(toks("{\"a\":1 \"b\":2}"), "{ k:a n:1i " ECHAR "7");
    CHECK_STR(toks("{\"a\":1,}"), "{ k:a n:1i " ECHAR "7");  /* trailing comma */
    CHECK_STR(toks("[1,]"), "[ n:1i " ECHAR "3");
    CHECK_STR(toks("[,1]"), "[ " ECHAR "1");
    CHECK_STR(toks("{,}"), "{ " ECHAR "1");
    CHECK_STR(toks("{1:2}"), "{ " ECHAR "1");                /* keys are strings */
    CHECK_STR(toks("{'a':1}"), "{ " ECHAR "1");
    CHECK_STR(toks("['a']"), "[ " ECHAR "1");
    CHECK_STR(toks("[}"), "[ " ECHAR "1");
    CHECK_STR(toks("{]"), "{ " ECHAR "1");
    CHECK_STR(toks("[1}"), "[ n:1i " ECHAR "2");
    CHECK_STR(toks("{\"a\":1]"), "{ k:a n:1i " ECHAR "6");
    CHECK_STR(toks("{\"a\"::1}"), "{ k:a " ECHAR "5");
    CHECK_STR(toks("[1 2]"), "[ n:1i " ECHAR "3");
    CHECK_STR(toks("[/*c*/]"), "[ " ECHAR "1");
    CHECK_STR(toks("[tru]"), "[ " ECHAR "1");
    CHECK_STR(toks("[nul]"), "[ " ECHAR "1");
    CHECK_STR(toks("[True]"), "[ " ECHAR "1");
    CHECK_STR(toks("[NaN]"), "[ " ECHAR "1");
    CHECK_STR(toks("[Infinity]"), "[ " ECHAR "1");
    CHECK_STR(toks("not json"), ECHAR "0");
    CHECK_STR(toks("]"), ECHAR "0");
    CHECK_STR(toks(":"), ECHAR "0");
    /* errors are sticky */
    mag_json_reader r;
    mag_json_token t;
    mag_json_reader_init(&r, "[x]", 3);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_ERR_JSON);
    CHECK_EQ_INT(r.err, MAG_JSON_E_CHAR);
    CHECK_EQ_INT(r.err_offset, 1);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_ERR_JSON);
    CHECK_EQ_INT(r.err, MAG_JSON_E_CHAR);
    CHECK_EQ_INT(r.err_offset, 1);
}

MAG_TEST(numbers)
{
    CHECK_STR(toks("[0,-0,1,-1,10,1.5,1.50,-0.0,1e5,1E+5,1e-5,2.5E-3,0e0]"),
              "[ n:0i n:-0i n:1i n:-1i n:10i n:1.5 n:1.50 n:-0.0 n:1e5 n:1E+5 n:1e-5 n:2.5E-3 n:0e0 ] $");
    CHECK_STR(toks("123456789012345678901234567890"), "n:123456789012345678901234567890i $");
    CHECK_STR(toks("1e400"), "n:1e400 $");
    CHECK_STR(toks("[01]"), "[ " ENUM "2");
    CHECK_STR(toks("[-01]"), "[ " ENUM "3");
    CHECK_STR(toks("[00]"), "[ " ENUM "2");
    CHECK_STR(toks("[+1]"), "[ " ECHAR "1");
    CHECK_STR(toks("[.5]"), "[ " ECHAR "1");
    CHECK_STR(toks("[1.]"), "[ " ENUM "3");
    CHECK_STR(toks("[1.e5]"), "[ " ENUM "3");
    CHECK_STR(toks("[1e]"), "[ " ENUM "3");
    CHECK_STR(toks("[1e+]"), "[ " ENUM "4");
    CHECK_STR(toks("[-]"), "[ " ENUM "2");
    CHECK_STR(toks("[--1]"), "[ " ENUM "2");
    CHECK_STR(toks("[-a]"), "[ " ENUM "2");
    CHECK_STR(toks("[0x10]"), "[ n:0i " ECHAR "2");
    CHECK_STR(toks("[1.5.3]"), "[ n:1.5 " ECHAR "4");
    CHECK_STR(toks("[-Infinity]"), "[ " ENUM "2");
    /* a number ending the input */
    CHECK_STR(toks("-"), EEOF "1");
    CHECK_STR(toks("1."), EEOF "2");
    CHECK_STR(toks("1e"), EEOF "2");
    CHECK_STR(toks("1e-"), EEOF "3");
    CHECK_STR(toks("-5"), "n:-5i $");

    int64_t v = 7;
    CHECK_EQ_INT(mag_json_number_i64("0", 1, &v), MAG_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(mag_json_number_i64("-0", 2, &v), MAG_OK);
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(mag_json_number_i64("9007199254740993", 16, &v), MAG_OK);  /* 2^53 + 1 */
    CHECK(v == 9007199254740993LL);
    CHECK_EQ_INT(mag_json_number_i64("9223372036854775807", 19, &v), MAG_OK);
    CHECK(v == INT64_MAX);
    CHECK_EQ_INT(mag_json_number_i64("-9223372036854775808", 20, &v), MAG_OK);
    CHECK(v == INT64_MIN);
    v = 7;
    CHECK_EQ_INT(mag_json_number_i64("9223372036854775808", 19, &v), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_json_number_i64("-9223372036854775809", 20, &v), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_json_number_i64("99999999999999999999", 20, &v), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(mag_json_number_i64("123456789012345678901234567890", 30, &v), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(mag_json_number_i64("1.0", 3, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64("1e3", 3, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64("01", 2, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64("+1", 2, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64("-", 1, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64("", 0, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64("12x", 3, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_i64(" 1", 2, &v), MAG_ERR_JSON);
    CHECK_EQ_INT(v, 7);
    CHECK_EQ_INT(mag_json_number_i64("123", 2, &v), MAG_OK);   /* length-bounded */
    CHECK_EQ_INT(v, 12);

    double d = 0;
    CHECK_EQ_INT(mag_json_number_double("1.5", 3, &d), MAG_OK);
    CHECK(d == 1.5);
    CHECK_EQ_INT(mag_json_number_double("-0", 2, &d), MAG_OK);
    CHECK(d == 0 && signbit(d));
    CHECK_EQ_INT(mag_json_number_double("1e400", 5, &d), MAG_OK);
    CHECK(isinf(d) && d > 0);
    CHECK_EQ_INT(mag_json_number_double("-1e400", 6, &d), MAG_OK);
    CHECK(isinf(d) && d < 0);
    CHECK_EQ_INT(mag_json_number_double("1e-400", 6, &d), MAG_OK);
    CHECK(d == 0);
    CHECK_EQ_INT(mag_json_number_double("9007199254740993", 16, &d), MAG_OK);
    CHECK(d == 9007199254740992.0);                      /* nearest double */
    CHECK_EQ_INT(mag_json_number_double("2.5e-3", 6, &d), MAG_OK);
    CHECK(d == 2.5e-3);
    CHECK_EQ_INT(mag_json_number_double("1.25x", 3, &d), MAG_OK);   /* length-bounded */
    CHECK(d == 1.2);
    char big[200];
    memset(big, '0', sizeof big);
    big[0] = '1';
    big[100] = '.';
    CHECK_EQ_INT(mag_json_number_double(big, sizeof big, &d), MAG_OK);    /* heap copy */
    CHECK(d == 1e99);
    d = 3;
    CHECK_EQ_INT(mag_json_number_double("0x10", 4, &d), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_double("inf", 3, &d), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_double("nan", 3, &d), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_double("1.", 2, &d), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_json_number_double("", 0, &d), MAG_ERR_JSON);
    CHECK(d == 3);
}

/* Decode the single string document doc into a static buffer; *n gets the length. */
static const char *dec(const char *doc, size_t *n)
{
    static mag_buf b = MAG_BUF_INIT;
    mag_json_reader r;
    mag_json_token t;
    mag_buf_reset(&b);
    mag_json_reader_init(&r, doc, strlen(doc));
    if (mag_json_next(&r, &t) != MAG_OK || t.type != MAG_JSON_STRING)
        return "(error)";
    mag_json_unescape(&t, &b);
    *n = b.len;
    return mag_buf_cstr(&b);
}

MAG_TEST(strings_and_escapes)
{
    size_t n = 0;
    CHECK_STR(dec("\"plain\"", &n), "plain");
    CHECK_EQ_INT(n, 5);
    CHECK_STR(dec("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", &n), "\"\\/\b\f\n\r\t");
    CHECK_EQ_INT(n, 8);
    CHECK_STR(dec("\"\\u0041\\u00e9\\u00E9\\u20AC\"", &n), "A\xc3\xa9\xc3\xa9\xe2\x82\xac");
    CHECK_STR(dec("\"\\u007f\\u0080\\u07FF\\u0800\\uFFFF\"", &n),
              "\x7f\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf");
    CHECK_STR(dec("\"\\uD83D\\uDE00!\"", &n), "\xf0\x9f\x98\x80!");
    CHECK_STR(dec("\"\\udbff\\udfff\"", &n), "\xf4\x8f\xbf\xbf");
    CHECK_STR(dec("\"\\uD800\\uDC00\"", &n), "\xf0\x90\x80\x80");
    /* \u0000 keeps the length */
    const char *s = dec("\"a\\u0000b\\u0000\"", &n);
    CHECK_EQ_INT(n, 4);
    CHECK_MEM(s, "a\0b\0", 4);
    /* raw UTF-8 and DEL pass through; invalid UTF-8 is not checked here */
    CHECK_STR(dec("\"caf\xc3\xa9 \x7f\"", &n), "caf\xc3\xa9 \x7f");
    CHECK_STR(dec("\"\xff\xfe\xc3\"", &n), "\xff\xfe\xc3");

    CHECK_STR(toks("\"a\\\"b\""), "s:a\\\"b\\ $");
    CHECK_STR(toks("[\"\\x\"]"), "[ " EESC "3");
    CHECK_STR(toks("[\"\\U0041\"]"), "[ " EESC "3");
    CHECK_STR(toks("[\"\\'\"]"), "[ " EESC "3");
    CHECK_STR(toks("[\"\\u12G4\"]"), "[ " EHEX "6");
    CHECK_STR(toks("[\"\\u12\"]"), "[ " EHEX "6");
    CHECK_STR(toks("[\"\\u-123\"]"), "[ " EHEX "4");
    /* control characters must be escaped; DEL need not */
    CHECK_STR(toks("[\"a\x01\"]"), "[ " ECTRL "3");
    CHECK_STR(toks("[\"\x1f\"]"), "[ " ECTRL "2");
    CHECK_STR(toks("[\"a\nb\"]"), "[ " ECTRL "3");
    CHECK_STR(toks("[\"\t\"]"), "[ " ECTRL "2");
    CHECK_STR(toks_n("[\"\0\"]", 5), "[ " ECTRL "2");
    CHECK_STR(toks("{\"k\x02\":1}"), "{ " ECTRL "3");
    CHECK_STR(toks("[\"\x7f\"]"), "[ s:\x7f ] $");
    /* surrogates: only complete pairs */
    CHECK_STR(toks("[\"\\uD800\"]"), "[ " ESURR "8");
    CHECK_STR(toks("[\"\\uD800x\"]"), "[ " ESURR "8");
    CHECK_STR(toks("[\"\\uD800\\n\"]"), "[ " ESURR "8");
    CHECK_STR(toks("[\"\\uD800\\u0041\"]"), "[ " ESURR "8");
    CHECK_STR(toks("[\"\\uD800\\uD800\"]"), "[ " ESURR "8");
    CHECK_STR(toks("[\"\\uDC00\"]"), "[ " ESURR "2");
    CHECK_STR(toks("[\"\\uDFFF\\uD800\"]"), "[ " ESURR "2");
    CHECK_STR(toks("[\"\\uD800\\uDC0G\"]"), "[ " EHEX "13");
    CHECK_STR(toks("[\"\\uDBFF\\uE000\"]"), "[ " ESURR "8");
    CHECK_STR(toks("[\"\\uD7FF\\uE000\"]"), "[ s:\\uD7FF\\uE000\\ ] $");
    /* unterminated */
    CHECK_STR(toks("\"abc"), EEOF "4");
    CHECK_STR(toks("\"abc\\"), EEOF "5");
    CHECK_STR(toks("\"\\u00"), EEOF "5");
    CHECK_STR(toks("\"\\uD83D"), EEOF "7");
    CHECK_STR(toks("\"\\uD83D\\"), EEOF "8");
    CHECK_STR(toks("\"\\uD83D\\u"), EEOF "9");
    CHECK_STR(toks("\"\\uD83D\\uDE0"), EEOF "12");
}

MAG_TEST(unescape_helpers)
{
    const char *doc = "[\"a\\u00e9\\n\",\"raw\",-1.50,true,{\"k\\u0000\":null}]";
    mag_json_reader r;
    mag_json_token s, raw, num, tru, obj, key;
    mag_json_reader_init(&r, doc, strlen(doc));
    CHECK_EQ_INT(mag_json_next(&r, &s), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &s), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &raw), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &num), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &tru), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &obj), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &key), MAG_OK);
    CHECK_EQ_INT(key.type, MAG_JSON_KEY);

    char out[8];
    memset(out, 'X', sizeof out);
    CHECK_EQ_INT(mag_json_unescape_to(&s, out, sizeof out), 4);
    CHECK_MEM(out, "a\xc3\xa9\nX", 5);
    CHECK_EQ_INT(mag_json_unescape_to(&s, out, 4), 4);
    CHECK(mag_json_unescape_to(&s, out, 3) == SIZE_MAX);
    CHECK(mag_json_unescape_to(&s, out, 2) == SIZE_MAX);
    CHECK(mag_json_unescape_to(&s, out, 0) == SIZE_MAX);
    CHECK_EQ_INT(mag_json_unescape_to(&raw, out, 3), 3);
    CHECK(mag_json_unescape_to(&raw, out, 2) == SIZE_MAX);
    CHECK_EQ_INT(mag_json_unescape_to(&num, out, sizeof out), 5);
    CHECK_MEM(out, "-1.50", 5);
    CHECK_EQ_INT(mag_json_unescape_to(&key, out, sizeof out), 2);
    CHECK_MEM(out, "k\0", 2);

    mag_buf b = MAG_BUF_INIT;
    mag_buf_append_str(&b, "<");
    mag_json_unescape(&s, &b);
    mag_json_unescape(&num, &b);
    mag_json_unescape(&tru, &b);
    mag_json_unescape(&key, &b);
    mag_buf_append_str(&b, ">");
    CHECK_EQ_INT(b.len, 1 + 4 + 5 + 4 + 2 + 1);
    CHECK_MEM(b.data, "<a\xc3\xa9\n-1.50truek\0>", 17);
    /* a warm buffer is not reallocated */
    uint8_t *data = b.data;
    size_t cap = b.cap;
    mag_buf_reset(&b);
    mag_json_unescape(&s, &b);
    CHECK(b.data == data && b.cap == cap);
    mag_buf_free(&b);

    CHECK(mag_json_token_eq(&s, "a\xc3\xa9\n", 4));
    CHECK(!mag_json_token_eq(&s, "a\xc3\xa9", 3));
    CHECK(!mag_json_token_eq(&s, "a\xc3\xa9\nx", 5));
    CHECK(!mag_json_token_eq(&s, "b\xc3\xa9\n", 4));
    CHECK(!mag_json_token_eq(&s, "a\xc3\xaa\n", 4));
    CHECK(mag_json_token_eq(&raw, "raw", 3));
    CHECK(!mag_json_token_eq(&raw, "ra", 2));
    CHECK(mag_json_token_eq(&num, "-1.50", 5));
    CHECK(!mag_json_token_eq(&num, "-1.5", 4));
    CHECK(mag_json_token_eq(&tru, "true", 4));
    CHECK(mag_json_token_eq(&key, "k\0", 2));
    CHECK(!mag_json_token_eq(&key, "k", 1));

    /* hand-made tokens with malformed escapes: the backslash is kept as a byte */
    mag_json_token bad = { .type = MAG_JSON_STRING, .text = "a\\qb\\u12\\uD800\\", .len = 15,
                           .escaped = true };
    CHECK_EQ_INT(mag_json_unescape_to(&bad, out, sizeof out), SIZE_MAX);
    mag_json_unescape(&bad, &b);
    CHECK_EQ_INT(b.len, 15);
    CHECK_MEM(b.data, "a\\qb\\u12\\uD800\\", 15);
    CHECK(mag_json_token_eq(&bad, "a\\qb\\u12\\uD800\\", 15));
    mag_buf_free(&b);
}

MAG_TEST(depth)
{
    char doc[2 * (MAG_JSON_MAX_DEPTH + 1) + 1];
    /* exactly the limit */
    for (int i = 0; i < MAG_JSON_MAX_DEPTH; i++) {
        doc[i] = '[';
        doc[2 * MAG_JSON_MAX_DEPTH - 1 - i] = ']';
    }
    mag_json_reader r;
    mag_json_token t;
    mag_json_reader_init(&r, doc, 2 * MAG_JSON_MAX_DEPTH);
    int n = 0;
    while (mag_json_next(&r, &t) == MAG_OK && t.type != MAG_JSON_END)
        n++;
    CHECK_EQ_INT(r.err, MAG_JSON_E_NONE);
    CHECK_EQ_INT(n, 2 * MAG_JSON_MAX_DEPTH);
    /* one more */
    for (int i = 0; i <= MAG_JSON_MAX_DEPTH; i++) {
        doc[i] = '[';
        doc[2 * MAG_JSON_MAX_DEPTH + 1 - i] = ']';
    }
    mag_json_reader_init(&r, doc, 2 * (MAG_JSON_MAX_DEPTH + 1));
    while (mag_json_next(&r, &t) == MAG_OK)
        ;
    CHECK_EQ_INT(r.err, MAG_JSON_E_DEPTH);
    CHECK_EQ_INT(r.err_offset, MAG_JSON_MAX_DEPTH);
    CHECK_EQ_INT(r.depth, MAG_JSON_MAX_DEPTH);

    /* objects and arrays alternating up to the limit: every close matches its open */
    mag_buf b = MAG_BUF_INIT;
    for (int i = 0; i < MAG_JSON_MAX_DEPTH; i++)
        mag_buf_append_str(&b, i % 2 ? "[" : "{\"k\":");
    mag_buf_append_str(&b, "1");
    for (int i = MAG_JSON_MAX_DEPTH - 1; i >= 0; i--)
        mag_buf_append_str(&b, i % 2 ? "]" : "}");
    mag_json_reader_init(&r, (const char *)b.data, b.len);
    n = 0;
    while (mag_json_next(&r, &t) == MAG_OK && t.type != MAG_JSON_END)
        n++;
    CHECK_EQ_INT(r.err, MAG_JSON_E_NONE);
    CHECK_EQ_INT(n, 2 * MAG_JSON_MAX_DEPTH + MAG_JSON_MAX_DEPTH / 2 + 1);
    /* a wrong close at the deepest level is caught */
    b.data[b.len - MAG_JSON_MAX_DEPTH] = '}';
    mag_json_reader_init(&r, (const char *)b.data, b.len);
    while (mag_json_next(&r, &t) == MAG_OK)
        ;
    CHECK_EQ_INT(r.err, MAG_JSON_E_CHAR);
    CHECK_EQ_INT(r.err_offset, b.len - MAG_JSON_MAX_DEPTH);
    mag_buf_free(&b);
}

MAG_TEST(skip)
{
    const char *doc = "{\"a\":{\"x\":[1,{\"y\":[]}],\"z\":\"s\"},\"b\":[[],[2]],\"c\":3}";
    mag_json_reader r;
    mag_json_token t;
    mag_json_reader_init(&r, doc, strlen(doc));
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);   /* { */
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);   /* a */
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);   /* { */
    CHECK_EQ_INT(mag_json_skip(&r, &t), MAG_OK);
    CHECK_EQ_INT(r.depth, 1);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK(mag_json_token_eq(&t, "b", 1));
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);   /* [ */
    CHECK_EQ_INT(mag_json_skip(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK(mag_json_token_eq(&t, "c", 1));
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);   /* 3: skipping a scalar is a no-op */
    CHECK_EQ_INT(mag_json_skip(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_OBJECT_END);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_END);

    /* skipped values are validated */
    const char *bad = "{\"a\":[1,{\"b\":\"\\q\"}],\"c\":1}";
    mag_json_reader_init(&r, bad, strlen(bad));
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_skip(&r, &t), MAG_ERR_JSON);
    CHECK_EQ_INT(r.err, MAG_JSON_E_ESCAPE);
    CHECK_EQ_INT(r.err_offset, 15);
    /* the whole document */
    mag_json_reader_init(&r, "[1,[2]] ", 8);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_skip(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(t.type, MAG_JSON_END);
    mag_json_reader_init(&r, "[1,[2]", 6);
    CHECK_EQ_INT(mag_json_next(&r, &t), MAG_OK);
    CHECK_EQ_INT(mag_json_skip(&r, &t), MAG_ERR_JSON);
    CHECK_EQ_INT(r.err, MAG_JSON_E_EOF);
    CHECK_EQ_INT(r.err_offset, 6);
}

static const char *errmsg(const char *doc, size_t len)
{
    static mag_buf b = MAG_BUF_INIT;
    mag_json_reader r;
    mag_json_token t;
    mag_buf_reset(&b);
    mag_json_reader_init(&r, doc, len);
    while (mag_json_next(&r, &t) == MAG_OK && t.type != MAG_JSON_END)
        ;
    mag_json_error_message(&r, &b);
    return mag_buf_cstr(&b);
}

MAG_TEST(error_messages)
{
    CHECK_STR(errmsg("[1]", 3), "");
    CHECK_STR(errmsg("", 0), "No content to map due to end-of-input");
    CHECK_STR(errmsg("{\"payload\":", 11), "Unexpected end-of-input at offset 11");
    CHECK_STR(errmsg("not json", 8), "Unexpected character (code 110) at offset 0");
    CHECK_STR(errmsg("[\"\x01\"]", 5), "Illegal unquoted character (code 1) at offset 2: has to "
              "be escaped using backslash to be included in string value");
    CHECK_STR(errmsg("[\"\\x\"]", 6), "Unrecognized character escape (code 120) at offset 3");
    CHECK_STR(errmsg("[\"\\u00x0\"]", 10), "Unexpected character (code 120) at offset 6: "
              "expected a hex-digit for character escape sequence");
    CHECK_STR(errmsg("[\"\\uDC00\"]", 10), "Unpaired surrogate in \\u escape at offset 2");
    CHECK_STR(errmsg("[01]", 4), "Invalid numeric value: unexpected character (code 49) at offset 2");
    char deep[MAG_JSON_MAX_DEPTH + 1];
    memset(deep, '[', sizeof deep);
    CHECK_STR(errmsg(deep, sizeof deep), "Maximum nesting depth (64) exceeded at offset 64");
    CHECK_STR(errmsg("{}x", 3), "Unexpected character (code 120) at offset 2 after the top-level value");
    CHECK_STR(errmsg("[\xff]", 3), "Unexpected character (code 255) at offset 1");
}

/* Every proper prefix of an object document is incomplete: reading it from
 * an exact-size heap copy must end in end-of-input at the prefix length. */
MAG_TEST(truncated_everywhere)
{
    const char *doc = "{\"payload\":\"dGVzdDA=\",\"properties\":{\"k\\u00e9\":\"v\\\"1\",\"e\":\"\"},"
                      "\"n\":[-0,1.5e-3,12,1E+2,0.25],\"lit\":[true,false,null],"
                      "\"u\":\"\\uD83D\\uDE00\\u0000\\/\\b\",\"deep\":[[{}],{\"a\":[]}] }";
    size_t len = strlen(doc);
    CHECK_STR(toks(doc) + strlen(toks(doc)) - 1, "$");
    for (size_t cut = 0; cut < len; cut++) {
        char *copy = malloc(cut ? cut : 1);
        memcpy(copy, doc, cut);
        mag_json_reader r;
        mag_json_token t;
        mag_json_reader_init(&r, copy, cut);
        while (mag_json_next(&r, &t) == MAG_OK)
            CHECK(t.type != MAG_JSON_END);
        if (cut == 0) {
            CHECK_EQ_INT(r.err, MAG_JSON_E_EMPTY);
        } else if (r.err != MAG_JSON_E_EOF || r.err_offset != cut) {
            fprintf(stderr, "cut %zu: err %d at %zu\n", cut, (int)r.err, r.err_offset);
            CHECK(0);
        }
        free(copy);
    }
}

int main(void)
{
    RUN(token_types);
    RUN(token_positions);
    RUN(whitespace);
    RUN(trailing);
    RUN(structure_errors);
    RUN(numbers);
    RUN(strings_and_escapes);
    RUN(unescape_helpers);
    RUN(depth);
    RUN(skip);
    RUN(error_messages);
    RUN(truncated_everywhere);
    return mag_test_summary();
}
