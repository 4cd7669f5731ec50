/* test_base64.c -- unit tests for src/util/base64.c.
 *
 * Encoding against RFC 4648 §10 vectors; decoding against the acceptance
 * rules and exact IllegalArgumentException texts of Java 11's
 * Base64.getDecoder(), which Pulsar forwards to producers.
 */
#include "mag_test.h"
#include "mag/util/base64.h"

#include <stdlib.h>

static const char *enc(const char *s)
{
    static mag_buf b = MAG_BUF_INIT;
    mag_buf_reset(&b);
    mag_base64_encode(&b, (const uint8_t *)s, strlen(s));
    return mag_buf_cstr(&b);
}

/* Decode s; returns the decoded text or "ERR:<java message>". */
static const char *dec(const char *s)
{
    static mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT, res = MAG_BUF_INIT;
    mag_buf_reset(&out);
    mag_buf_reset(&err);
    mag_buf_reset(&res);
    mag_buf_append_str(&out, "X");   /* decode appends; check it is kept */
    mag_rc rc = mag_base64_decode(&out, s, strlen(s), &err);
    if (rc == MAG_OK) {
        if (out.len < 1 || out.data[0] != 'X')
            return "PREFIX LOST";
        mag_buf_append(&res, out.data + 1, out.len - 1);
    } else {
        if (rc != MAG_ERR_PAYLOAD)
            return "WRONG RC";
        if (out.len != 1)
            return "OUT NOT RESTORED";
        mag_buf_append_str(&res, "ERR:");
        mag_buf_append(&res, err.data, err.len);
    }
    return mag_buf_cstr(&res);
}

MAG_TEST(encode_rfc4648)
{
    CHECK_STR(enc(""), "");
    CHECK_STR(enc("f"), "Zg==");
    CHECK_STR(enc("fo"), "Zm8=");
    CHECK_STR(enc("foo"), "Zm9v");
    CHECK_STR(enc("foob"), "Zm9vYg==");
    CHECK_STR(enc("fooba"), "Zm9vYmE=");
    CHECK_STR(enc("foobar"), "Zm9vYmFy");
    CHECK_EQ_INT(mag_base64_encoded_len(0), 0);
    CHECK_EQ_INT(mag_base64_encoded_len(1), 4);
    CHECK_EQ_INT(mag_base64_encoded_len(3), 4);
    CHECK_EQ_INT(mag_base64_encoded_len(4), 8);
    uint8_t bin[3] = { 0xfb, 0xff, 0xbf };
    mag_buf b = MAG_BUF_INIT;
    mag_base64_encode(&b, bin, 3);
    CHECK_STR(mag_buf_cstr(&b), "+/+/");
    mag_buf_reset(&b);
    mag_base64url_encode(&b, bin, 3);
    CHECK_STR(mag_buf_cstr(&b), "-_-_");
    mag_buf_reset(&b);
    mag_base64url_encode(&b, (const uint8_t *)"fo", 2);
    CHECK_STR(mag_buf_cstr(&b), "Zm8");
    mag_buf_free(&b);
}

MAG_TEST(decode_valid)
{
    CHECK_STR(dec(""), "");
    CHECK_STR(dec("Zm9vYmFy"), "foobar");
    CHECK_STR(dec("Zg=="), "f");
    CHECK_STR(dec("Zg"), "f");            /* padding optional */
    CHECK_STR(dec("Zm8="), "fo");
    CHECK_STR(dec("Zm8"), "fo");
    CHECK_STR(dec("dGVzdDA="), "test0");
    CHECK_STR(dec("Zh=="), "f");          /* Java ignores non-zero trailing bits */
}

MAG_TEST(decode_java_errors)
{
    CHECK_STR(dec("Z"), "ERR:Input byte[] should at least have 2 bytes for base64 bytes");
    CHECK_STR(dec("="), "ERR:Input byte[] should at least have 2 bytes for base64 bytes");
    CHECK_STR(dec("Zm9v-A"), "ERR:Illegal base64 character 2d");
    CHECK_STR(dec("Zm9v_w"), "ERR:Illegal base64 character 5f");
    CHECK_STR(dec("Zm 9v"), "ERR:Illegal base64 character 20");
    CHECK_STR(dec("Zm9v\n"), "ERR:Illegal base64 character a");
    CHECK_STR(dec("Zm9vY"), "ERR:Last unit does not have enough valid bits");
    CHECK_STR(dec("Zm9vY="), "ERR:Last unit does not have enough valid bits");
    CHECK_STR(dec("Zg="), "ERR:Input byte array has wrong 4-byte ending unit");
    CHECK_STR(dec("Zg=x"), "ERR:Input byte array has wrong 4-byte ending unit");
    CHECK_STR(dec("Zm9v===="), "ERR:Input byte array has wrong 4-byte ending unit");
    CHECK_STR(dec("Zg==Zg=="), "ERR:Input byte array has incorrect ending byte at 4");
    CHECK_STR(dec("Zm8=A"), "ERR:Input byte array has incorrect ending byte at 4");
    /* Java sees a String: UTF-8 "é" is the Latin-1 byte 0xE9, printed signed */
    CHECK_STR(dec("Zm9v\xc3\xa9"), "ERR:Illegal base64 character -17");
    /* beyond Latin-1 -> '?' */
    CHECK_STR(dec("\xe2\x82\xac" "AAA"), "ERR:Illegal base64 character 3f");
    /* indices count characters, not UTF-8 bytes */
    CHECK_STR(dec("Zg==\xc3\xa9"), "ERR:Input byte array has incorrect ending byte at 4");
    CHECK_STR(dec("\xc3\xa9"), "ERR:Input byte[] should at least have 2 bytes for base64 bytes");
}

MAG_TEST(decode_err_null_and_append)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_base64_decode(&out, "!!!!", 4, NULL), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(out.len, 0);
    mag_buf_append_str(&err, "pre:");
    CHECK_EQ_INT(mag_base64_decode(&out, "!!!!", 4, &err), MAG_ERR_PAYLOAD);
    CHECK_STR(mag_buf_cstr(&err), "pre:Illegal base64 character 21");
    mag_buf_free(&out);
    mag_buf_free(&err);
}

MAG_TEST(url_decode)
{
    mag_buf out = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_base64url_decode(&out, "-_-_", 4), MAG_OK);
    CHECK_EQ_INT(out.len, 3);
    CHECK(out.data[0] == 0xfb && out.data[1] == 0xff && out.data[2] == 0xbf);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_base64url_decode(&out, "Zm8", 3), MAG_OK);
    CHECK_EQ_INT(out.len, 2);
    CHECK_MEM(out.data, "fo", 2);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_base64url_decode(&out, "Zg", 2), MAG_OK);
    CHECK_EQ_INT(out.len, 1);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_base64url_decode(&out, "Zg==", 4), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(mag_base64url_decode(&out, "+/+/", 4), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(mag_base64url_decode(&out, "Zm9vY", 5), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(out.len, 0);
    /* a JWT header */
    CHECK_EQ_INT(mag_base64url_decode(&out, "eyJhbGciOiJIUzI1NiJ9", 20), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"alg\":\"HS256\"}");
    mag_buf_free(&out);
}

MAG_TEST(round_trip_all_lengths)
{
    uint8_t src[64];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 37 + 11);
    for (size_t n = 0; n <= sizeof src; n++) {
        mag_buf e = MAG_BUF_INIT, d = MAG_BUF_INIT;
        mag_base64_encode(&e, src, n);
        CHECK_EQ_INT(e.len, mag_base64_encoded_len(n));
        CHECK_EQ_INT(mag_base64_decode(&d, (const char *)e.data, e.len, NULL), MAG_OK);
        CHECK_EQ_INT(d.len, n);
        if (n)
            CHECK_MEM(d.data, src, n);
        mag_buf_reset(&e);
        mag_buf_reset(&d);
        mag_base64url_encode(&e, src, n);
        CHECK_EQ_INT(mag_base64url_decode(&d, (const char *)e.data, e.len), MAG_OK);
        CHECK_EQ_INT(d.len, n);
        if (n)
            CHECK_MEM(d.data, src, n);
        mag_buf_free(&e);
        mag_buf_free(&d);
    }
}

int main(void)
{
    RUN(encode_rfc4648);
    RUN(decode_valid);
    RUN(decode_java_errors);
    RUN(decode_err_null_and_append);
    RUN(url_decode);
    RUN(round_trip_all_lengths);
    return mag_test_summary();
}
