/* test_str.c -- unit tests for src/util/str.c.
 *
 * URLDecoder, query strings, Integer/Long.parseInt and Boolean.parseBoolean
 * with Java's exact acceptance rules and messages; UTF-8 scanning with
 * maximal-subpart error lengths.
 */
#include "mag_test.h"
#include "mag/util/str.h"

static const char *url(const char *s)
{
    static mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT, res = MAG_BUF_INIT;
    mag_buf_reset(&out);
    mag_buf_reset(&err);
    mag_buf_reset(&res);
    mag_rc rc = mag_url_decode_msg(&out, s, strlen(s), &err);
    if (rc == MAG_OK)
        mag_buf_append(&res, out.data, out.len);
    else {
        if (rc != MAG_ERR_BAD_REQUEST || out.len != 0)
            return "WRONG RC OR OUTPUT";
        mag_buf_append_str(&res, "ERR:");
        mag_buf_append(&res, err.data, err.len);
    }
    return mag_buf_cstr(&res);
}

MAG_TEST(memieq)
{
    CHECK(mag_memieq("Upgrade", 7, "upgrade", 7));
    CHECK(mag_memieq("", 0, "", 0));
    CHECK(!mag_memieq("upgrade", 7, "upgrades", 8));
    CHECK(!mag_memieq("upgrade", 7, "upgradf", 7));
    CHECK(!mag_memieq("[", 1, "{", 1));   /* not folded like letters */
}

MAG_TEST(utf8_decode)
{
    int32_t cp;
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"A", 1, &cp), 1);
    CHECK_EQ_INT(cp, 'A');
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xc3\xa9", 2, &cp), 2);
    CHECK_EQ_INT(cp, 0xe9);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xe3\x80\x81", 3, &cp), 3);
    CHECK_EQ_INT(cp, 0x3001);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xf0\x9f\x98\x80", 4, &cp), 4);
    CHECK_EQ_INT(cp, 0x1f600);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\x80", 1, &cp), 1);
    CHECK_EQ_INT(cp, -1);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xc0\x80", 2, &cp), 1);   /* overlong */
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xe0\x80\x80", 3, &cp), 1);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xed\xa0\x80", 3, &cp), 1);  /* surrogate */
    CHECK_EQ_INT(cp, -1);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xe3\x80", 2, &cp), 2);      /* truncated */
    CHECK_EQ_INT(cp, -1);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xe3\x80" "A", 3, &cp), 2);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xf4\x90\x80\x80", 4, &cp), 1);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"\xff", 1, &cp), 1);
    CHECK_EQ_INT(mag_utf8_decode((const uint8_t *)"", 0, &cp), 0);
}

MAG_TEST(url_decode_java)
{
    CHECK_STR(url("my-topic"), "my-topic");
    CHECK_STR(url("a+b"), "a b");
    CHECK_STR(url("a%20b"), "a b");
    CHECK_STR(url("a%2Fb%2fc"), "a/b/c");
    CHECK_STR(url("%E3%80%81"), "\xe3\x80\x81");
    CHECK_STR(url("%5B%5D%3C%3E%21%40%23%24%25%5E%26%2A%28+%29"), "[]<>!@#$%^&*( )");
    CHECK_STR(url("%+5x"), "\x05x");                    /* Integer.parseInt accepts '+' */
    CHECK_STR(url("%FF"), "\xef\xbf\xbd");              /* ill-formed UTF-8 -> U+FFFD */
    CHECK_STR(url("%C3%A9%C3"), "\xc3\xa9\xef\xbf\xbd");
    CHECK_STR(url("caf\xc3\xa9"), "caf\xc3\xa9");      /* raw bytes copied */
    CHECK_STR(url("%"), "ERR:URLDecoder: Incomplete trailing escape (%) pattern");
    CHECK_STR(url("ab%4"), "ERR:URLDecoder: Incomplete trailing escape (%) pattern");
    CHECK_STR(url("%41%4"), "ERR:URLDecoder: Incomplete trailing escape (%) pattern");
    CHECK_STR(url("%4g"),
              "ERR:URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 1 in: \"4g\"");
    CHECK_STR(url("%zz"),
              "ERR:URLDecoder: Illegal hex characters in escape (%) pattern - Error at index 0 in: \"zz\"");
    CHECK_STR(url("%-1"),
              "ERR:URLDecoder: Illegal hex characters in escape (%) pattern - negative value");
    /* a long run of escapes (more than the internal chunk) */
    char in[3 * 100 + 1], want[101];
    for (int i = 0; i < 100; i++) {
        memcpy(in + 3 * i, "%41", 3);
        want[i] = 'A';
    }
    in[300] = '\0';
    want[100] = '\0';
    CHECK_STR(url(in), want);
    mag_buf out = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_url_decode(&out, "%zz", 3), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_url_decode(&out, "x%00y", 5), MAG_OK);
    CHECK_EQ_INT(out.len, 3);
    CHECK_MEM(out.data, "x\0y", 3);
    mag_buf_free(&out);
}

MAG_TEST(query)
{
    mag_query q;
    const char *s = "a=1&b=x%20y&a=2&flag&&c=&d=e=f&Sub+Type=Shared";
    CHECK_EQ_INT(mag_query_parse(&q, s, strlen(s)), MAG_OK);
    CHECK_STR(mag_query_get(&q, "a"), "1");
    CHECK_STR(mag_query_get(&q, "b"), "x y");
    CHECK_STR(mag_query_get(&q, "flag"), "");
    CHECK_STR(mag_query_get(&q, "c"), "");
    CHECK_STR(mag_query_get(&q, "d"), "e=f");
    CHECK_STR(mag_query_get(&q, "Sub Type"), "Shared");
    CHECK(mag_query_get(&q, "A") == NULL);
    CHECK(mag_query_get(&q, "missing") == NULL);
    CHECK_EQ_INT(q.count, 6);
    mag_query_free(&q);
    CHECK_EQ_INT(q.count, 0);

    CHECK_EQ_INT(mag_query_parse(&q, "", 0), MAG_OK);
    CHECK_EQ_INT(q.count, 0);
    mag_query_free(&q);

    CHECK_EQ_INT(mag_query_parse(&q, "a=%zz", 5), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(q.count, 0);
    CHECK(q.keys == NULL);

    mag_buf b = MAG_BUF_INIT;
    for (int i = 0; i < MAG_QUERY_MAX_PAIRS; i++)
        mag_buf_appendf(&b, "%sk%d=v", i ? "&" : "", i);
    CHECK_EQ_INT(mag_query_parse(&q, (const char *)b.data, b.len), MAG_OK);
    CHECK_EQ_INT(q.count, MAG_QUERY_MAX_PAIRS);
    CHECK_STR(mag_query_get(&q, "k127"), "v");
    mag_query_free(&q);
    mag_buf_append_str(&b, "&k=x");
    CHECK_EQ_INT(mag_query_parse(&q, (const char *)b.data, b.len), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(q.count, 0);
    mag_buf_free(&b);
}

static const char *pint(const char *s, int32_t *v)
{
    static mag_buf err = MAG_BUF_INIT;
    mag_buf_reset(&err);
    if (mag_parse_java_int(s, v, &err) == MAG_OK)
        return "OK";
    return mag_buf_cstr(&err);
}

static const char *plong(const char *s, int64_t *v)
{
    static mag_buf err = MAG_BUF_INIT;
    mag_buf_reset(&err);
    if (mag_parse_java_long(s, v, &err) == MAG_OK)
        return "OK";
    return mag_buf_cstr(&err);
}

MAG_TEST(java_int)
{
    int32_t v = 0;
    CHECK_STR(pint("1001", &v), "OK");
    CHECK_EQ_INT(v, 1001);
    CHECK_STR(pint("+7", &v), "OK");
    CHECK_EQ_INT(v, 7);
    CHECK_STR(pint("-0", &v), "OK");
    CHECK_EQ_INT(v, 0);
    CHECK_STR(pint("007", &v), "OK");
    CHECK_EQ_INT(v, 7);
    CHECK_STR(pint("2147483647", &v), "OK");
    CHECK_EQ_INT(v, INT32_MAX);
    CHECK_STR(pint("-2147483648", &v), "OK");
    CHECK_EQ_INT(v, INT32_MIN);
    v = 5;
    CHECK_STR(pint("2147483648", &v), "For input string: \"2147483648\"");
    CHECK_EQ_INT(v, 5);
    CHECK_STR(pint("-2147483649", &v), "For input string: \"-2147483649\"");
    CHECK_STR(pint("abc", &v), "For input string: \"abc\"");
    CHECK_STR(pint("", &v), "For input string: \"\"");
    CHECK_STR(pint("-", &v), "For input string: \"-\"");
    CHECK_STR(pint("+", &v), "For input string: \"+\"");
    CHECK_STR(pint(" 1", &v), "For input string: \" 1\"");
    CHECK_STR(pint("1.0", &v), "For input string: \"1.0\"");
    CHECK_STR(pint("0x10", &v), "For input string: \"0x10\"");
    CHECK_STR(pint(NULL, &v), "null");
    CHECK_EQ_INT(mag_parse_java_int("x", &v, NULL), MAG_ERR_BAD_REQUEST);
}

MAG_TEST(java_long)
{
    int64_t v = 0;
    CHECK_STR(plong("9223372036854775807", &v), "OK");
    CHECK(v == INT64_MAX);
    CHECK_STR(plong("-9223372036854775808", &v), "OK");
    CHECK(v == INT64_MIN);
    CHECK_STR(plong("9223372036854775808", &v), "For input string: \"9223372036854775808\"");
    CHECK_STR(plong("99999999999999999999", &v), "For input string: \"99999999999999999999\"");
    CHECK_STR(plong("12345678901", &v), "OK");
    CHECK(v == 12345678901LL);
    CHECK_STR(plong("1L", &v), "For input string: \"1L\"");
}

MAG_TEST(java_bool)
{
    CHECK(mag_parse_java_bool("true"));
    CHECK(mag_parse_java_bool("TRUE"));
    CHECK(mag_parse_java_bool("tRuE"));
    CHECK(!mag_parse_java_bool("yes"));
    CHECK(!mag_parse_java_bool("1"));
    CHECK(!mag_parse_java_bool(" true"));
    CHECK(!mag_parse_java_bool(""));
    CHECK(!mag_parse_java_bool(NULL));
}

int main(void)
{
    RUN(memieq);
    RUN(utf8_decode);
    RUN(url_decode_java);
    RUN(query);
    RUN(java_int);
    RUN(java_long);
    RUN(java_bool);
    return mag_test_summary();
}
