/* test_token.c -- unit tests of key loading and token authentication (mag/auth/token.h).
 *
 * Key values in every form Pulsar accepts (data: URLs, file: URLs, plain paths, bare base64 in
 * both alphabets), DER and PEM public/private keys, the configuration errors of the
 * authenticator (weak secret, wrong key family, audience claim without audience), and the
 * authenticator's contract: one MAG_ERR_AUTH for every kind of bad token, role only on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mag/auth/token.h"
#include "mag/util/base64.h"
#include "mag_test.h"

static const char KEY32_B64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";   /* bytes 0..31 */
static const char KEY32_B64URL[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
/* {"alg":"HS256"}.{"sub":"alice"} signed with bytes 0..31 */
static const char HS_ALICE[] =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.8NGGwZMI-Q1CUFu4qOonLEO86Loc5qCfao9NN8yfiuM";

static char g_dir[64];

/* Write len bytes to g_dir/name; returns the path (static buffer rotation of 4). */
static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char paths[4][128];
    static int n;
    char *p = paths[n++ % 4];
    snprintf(p, 128, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "wb");
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}

static void expect_bytes(const char *value, const uint8_t *want, size_t n)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_token_read_key(value, &out, &err), MAG_OK);
    CHECK_EQ_INT(out.len, n);
    CHECK(out.len == n && memcmp(out.data, want, n) == 0);
    CHECK_EQ_INT(err.len, 0);
    mag_buf_free(&out);
    mag_buf_free(&err);
}

static void expect_key_error(const char *value, const char *fragment)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_token_read_key(value, &out, &err), MAG_ERR_CONFIG);
    CHECK_EQ_INT(out.len, 0);
    if (!strstr(mag_buf_cstr(&err), fragment))
        fprintf(stderr, "error text for '%s': %s\n", value, mag_buf_cstr(&err));
    CHECK(strstr(mag_buf_cstr(&err), fragment) != NULL);
    mag_buf_free(&out);
    mag_buf_free(&err);
}

MAG_TEST(read_key_forms)
{
    uint8_t k[32];
    for (int i = 0; i < 32; i++)
        k[i] = (uint8_t)i;
    char v[512];
    snprintf(v, sizeof v, "data:;base64,%s", KEY32_B64);
    expect_bytes(v, k, 32);
    snprintf(v, sizeof v, "data:application/octet-stream;base64,%s", KEY32_B64);
    expect_bytes(v, k, 32);
    expect_bytes("data:,hello%20world%21", (const uint8_t *)"hello world!", 12);
    expect_bytes(KEY32_B64, k, 32);          /* bare base64 */
    expect_bytes(KEY32_B64URL, k, 32);       /* URL-safe alphabet, no padding */
    expect_bytes("AAEC AwQF\nBgcI", k, 9);   /* whitespace ignored */

    const char *path = write_tmp("secret.key", k, 32);
    expect_bytes(path, k, 32);               /* an existing path */
    snprintf(v, sizeof v, "file://%s", path);
    expect_bytes(v, k, 32);
    snprintf(v, sizeof v, "file:%s", path);
    expect_bytes(v, k, 32);
    snprintf(v, sizeof v, "file://localhost%s", path);
    expect_bytes(v, k, 32);
    const char *spaced = write_tmp("a b.key", "xyz", 3);
    (void)spaced;
    snprintf(v, sizeof v, "file://%s/a%%20b.key", g_dir);
    expect_bytes(v, (const uint8_t *)"xyz", 3);
}

MAG_TEST(read_key_errors)
{
    expect_key_error("", "empty");
    expect_key_error("data:;base64", "without data");
    expect_key_error("data:;base64,", "without data");
    expect_key_error("data:;base64,@@@@", "invalid base64");
    expect_key_error("data:,%zz", "escape");
    expect_key_error("file:///nonexistent/magnetar/key", "cannot open key file");
    expect_key_error("file://otherhost/etc/passwd", "unsupported file URL");
    expect_key_error("/nonexistent/key!", "not a data: or file: URL");
    expect_key_error("A", "not a data: or file: URL");
    expect_key_error("AAAA=AAAA", "not a data: or file: URL");
    char v[256];
    const char *empty = write_tmp("empty.key", "", 0);
    snprintf(v, sizeof v, "file://%s", empty);
    expect_key_error(v, "is empty");
}

MAG_TEST(secret_key_strength)
{
    mag_jwt_key k;
    mag_jwt_key_init(&k);
    mag_buf err = MAG_BUF_INIT;
    /* 16 bytes: refused with the bit count, as Pulsar's WeakKeyException. */
    CHECK_EQ_INT(mag_token_load_secret_key("data:;base64,AAECAwQFBgcICQoLDA0ODw==", &k, &err),
                 MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "128 bits") != NULL);
    CHECK_EQ_INT(mag_token_load_secret_key(KEY32_B64, &k, NULL), MAG_OK);
    CHECK_EQ_INT(k.kind, MAG_JWT_KEY_HMAC);
    CHECK_EQ_INT(k.secret.len, 32);
    mag_jwt_key_cleanup(&k);
    mag_buf_free(&err);
}

/* DER SPKI and PEM of a fresh key. */
static void export_public(EVP_PKEY *pk, mag_buf *der, mag_buf *pem)
{
    unsigned char *p = NULL;
    int n = i2d_PUBKEY(pk, &p);
    mag_buf_append(der, p, (size_t)n);
    OPENSSL_free(p);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, pk);
    char *data;
    long len = BIO_get_mem_data(b, &data);
    mag_buf_append(pem, data, (size_t)len);
    BIO_free(b);
}

static void export_private(EVP_PKEY *pk, mag_buf *der, mag_buf *pem)
{
    BIO *b = BIO_new(BIO_s_mem());
    i2d_PKCS8PrivateKey_bio(b, pk, NULL, NULL, 0, NULL, NULL);
    char *data;
    long len = BIO_get_mem_data(b, &data);
    mag_buf_append(der, data, (size_t)len);
    BIO_free(b);
    b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data(b, &data);
    mag_buf_append(pem, data, (size_t)len);
    BIO_free(b);
}

static const char *as_data_url(mag_buf *tmp, const mag_buf *bytes)
{
    mag_buf_reset(tmp);
    mag_buf_append_str(tmp, "data:;base64,");
    mag_base64_encode(tmp, bytes->data, bytes->len);
    return mag_buf_cstr(tmp);
}

MAG_TEST(public_and_private_keys)
{
    EVP_PKEY *rsa = EVP_RSA_gen(2048);
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    mag_buf rder = MAG_BUF_INIT, rpem = MAG_BUF_INIT, eder = MAG_BUF_INIT, epem = MAG_BUF_INIT;
    mag_buf rpriv = MAG_BUF_INIT, rprivpem = MAG_BUF_INIT, epriv = MAG_BUF_INIT, eprivpem = MAG_BUF_INIT;
    mag_buf url = MAG_BUF_INIT, err = MAG_BUF_INIT;
    export_public(rsa, &rder, &rpem);
    export_public(ec, &eder, &epem);
    export_private(rsa, &rpriv, &rprivpem);
    export_private(ec, &epriv, &eprivpem);
    mag_jwt_key k;
    mag_jwt_key_init(&k);

    CHECK_EQ_INT(mag_token_load_public_key(as_data_url(&url, &rder), "RS256", &k, NULL), MAG_OK);
    CHECK_EQ_INT(k.kind, MAG_JWT_KEY_RSA);
    CHECK_EQ_INT(mag_token_load_public_key(write_tmp("pub.pem", rpem.data, rpem.len), "PS512", &k,
                                           NULL), MAG_OK);
    CHECK_EQ_INT(mag_token_load_public_key(as_data_url(&url, &eder), "ES256", &k, NULL), MAG_OK);
    CHECK_EQ_INT(k.kind, MAG_JWT_KEY_EC);
    CHECK_EQ_INT(mag_token_load_public_key(write_tmp("ec.pem", epem.data, epem.len), "ES384", &k,
                                           NULL), MAG_OK);   /* curve decides the alg */
    CHECK_EQ_INT(k.ec_alg, MAG_JWT_ES256);

    /* Family mismatch and non-asymmetric algorithms. */
    CHECK_EQ_INT(mag_token_load_public_key(as_data_url(&url, &eder), "RS256", &k, &err),
                 MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "needs an RSA public key") != NULL);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_token_load_public_key(as_data_url(&url, &rder), "ES256", &k, &err),
                 MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "needs an EC public key") != NULL);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_token_load_public_key(as_data_url(&url, &rder), "HS256", &k, &err),
                 MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "not an RSA or ECDSA algorithm") != NULL);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_token_load_public_key(KEY32_B64, "RS256", &k, &err), MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "not a public key") != NULL);
    /* A private key is not a public key setting. */
    CHECK_EQ_INT(mag_token_load_public_key(as_data_url(&url, &rpriv), "RS256", &k, NULL),
                 MAG_ERR_CONFIG);

    CHECK_EQ_INT(mag_token_load_private_key(as_data_url(&url, &rpriv), &k, NULL), MAG_OK);
    CHECK_EQ_INT(k.kind, MAG_JWT_KEY_RSA);
    CHECK_EQ_INT(mag_token_load_private_key(write_tmp("p.pem", rprivpem.data, rprivpem.len), &k,
                                            NULL), MAG_OK);
    CHECK_EQ_INT(mag_token_load_private_key(as_data_url(&url, &epriv), &k, NULL), MAG_OK);
    CHECK_EQ_INT(k.kind, MAG_JWT_KEY_EC);
    CHECK_EQ_INT(mag_token_load_private_key(write_tmp("e.pem", eprivpem.data, eprivpem.len), &k,
                                            NULL), MAG_OK);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_token_load_private_key(as_data_url(&url, &rder), &k, &err), MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "not a private key") != NULL);

    mag_jwt_key_cleanup(&k);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    mag_buf *bufs[] = { &rder, &rpem, &eder, &epem, &rpriv, &rprivpem, &epriv, &eprivpem, &url, &err };
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        mag_buf_free(bufs[i]);
}

MAG_TEST(auth_config_errors)
{
    mag_token_auth *a = NULL;
    mag_buf err = MAG_BUF_INIT;
    struct mag_token_auth_opts o = { 0 };
    CHECK_EQ_INT(mag_token_auth_new(&o, &a, &err), MAG_ERR_CONFIG);
    CHECK(a == NULL);
    CHECK(strstr(mag_buf_cstr(&err), "needs tokenSecretKey or tokenPublicKey") != NULL);
    mag_buf_reset(&err);
    o.secret_key = "data:;base64,AAAA";
    CHECK_EQ_INT(mag_token_auth_new(&o, &a, &err), MAG_ERR_CONFIG);
    CHECK(strncmp(mag_buf_cstr(&err), "tokenSecretKey: ", 16) == 0);
    mag_buf_reset(&err);
    o.secret_key = NULL;
    o.public_key = "file:///nonexistent/pub.key";
    CHECK_EQ_INT(mag_token_auth_new(&o, &a, &err), MAG_ERR_CONFIG);
    CHECK(strncmp(mag_buf_cstr(&err), "tokenPublicKey: ", 16) == 0);
    mag_buf_reset(&err);
    o.public_key = NULL;
    o.secret_key = KEY32_B64;
    o.audience_claim = "aud";
    CHECK_EQ_INT(mag_token_auth_new(&o, &a, &err), MAG_ERR_CONFIG);
    CHECK(strstr(mag_buf_cstr(&err), "tokenAudience is empty") != NULL);
    CHECK(a == NULL);
    mag_buf_free(&err);
}

/* HS256 token for claims, signed with bytes 0..31. */
static void make_token(mag_buf *out, const char *claims)
{
    mag_jwt_key k;
    mag_jwt_key_init(&k);
    CHECK_EQ_INT(mag_token_load_secret_key(KEY32_B64, &k, NULL), MAG_OK);
    mag_buf_reset(out);
    CHECK_EQ_INT(mag_jwt_sign(out, MAG_JWT_HS256, &k, claims, strlen(claims)), MAG_OK);
    mag_jwt_key_cleanup(&k);
}

static mag_rc auth(const mag_token_auth *a, const char *tok, mag_buf *role)
{
    mag_buf_reset(role);
    return mag_token_authenticate(a, tok, strlen(tok), 1700000000000LL, role, NULL);
}

MAG_TEST(authenticate)
{
    struct mag_token_auth_opts o = { .secret_key = KEY32_B64 };
    mag_token_auth *a = NULL;
    CHECK_EQ_INT(mag_token_auth_new(&o, &a, NULL), MAG_OK);
    mag_buf role = MAG_BUF_INIT, t = MAG_BUF_INIT;
    CHECK_EQ_INT(auth(a, HS_ALICE, &role), MAG_OK);
    CHECK_STR(mag_buf_cstr(&role), "alice");

    /* Every failure: same code, no role. */
    make_token(&t, "{\"sub\":\"bob\",\"exp\":1699999999}");
    const char *bad[] = {
        "", "garbage", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.8NGGwZMI-Q1CUFu4qOonLEO86Loc5qCfao9NN8yfiaM",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", mag_buf_cstr(&t),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(auth(a, bad[i], &role), MAG_ERR_AUTH);
        CHECK_EQ_INT(role.len, 0);
    }
    const char *why = NULL;
    mag_buf_reset(&role);
    CHECK_EQ_INT(mag_token_authenticate(a, (const char *)t.data, t.len, 1700000000000LL, &role,
                                        &why), MAG_ERR_AUTH);
    CHECK(why && strstr(why, "expired"));
    CHECK_EQ_INT(mag_token_authenticate(a, "x.y.z", 5, 0, &role, &why), MAG_ERR_AUTH);
    CHECK_STR(why, "malformed token");
    CHECK_EQ_INT(mag_token_authenticate(a, bad[3], strlen(bad[3]), 0, &role, &why), MAG_ERR_AUTH);
    CHECK_STR(why, "bad signature or algorithm");
    mag_token_auth_free(a);

    /* Custom role claim and audience through the options. */
    struct mag_token_auth_opts o2 = { .secret_key = KEY32_B64, .auth_claim = "role",
                                      .audience = "magnetar" };
    CHECK_EQ_INT(mag_token_auth_new(&o2, &a, NULL), MAG_OK);
    make_token(&t, "{\"sub\":\"x\",\"role\":[\"ops\"],\"aud\":\"magnetar\"}");
    CHECK_EQ_INT(auth(a, mag_buf_cstr(&t), &role), MAG_OK);
    CHECK_STR(mag_buf_cstr(&role), "ops");
    make_token(&t, "{\"sub\":\"x\",\"role\":\"ops\"}");
    CHECK_EQ_INT(auth(a, mag_buf_cstr(&t), &role), MAG_ERR_AUTH);
    mag_token_auth_free(a);

    /* A public-key authenticator refuses HMAC tokens. */
    EVP_PKEY *ec = EVP_EC_gen("P-256");
    mag_buf der = MAG_BUF_INIT, pem = MAG_BUF_INIT, url = MAG_BUF_INIT;
    export_public(ec, &der, &pem);
    struct mag_token_auth_opts o3 = { .public_key = as_data_url(&url, &der), .public_alg = "ES256" };
    CHECK_EQ_INT(mag_token_auth_new(&o3, &a, NULL), MAG_OK);
    CHECK_EQ_INT(auth(a, HS_ALICE, &role), MAG_ERR_AUTH);
    mag_jwt_key pk;
    mag_jwt_key_init(&pk);
    CHECK_EQ_INT(mag_jwt_key_set_pkey(&pk, ec), MAG_OK);   /* takes ec */
    mag_buf_reset(&t);
    CHECK_EQ_INT(mag_jwt_sign(&t, MAG_JWT_ES256, &pk, "{\"sub\":\"ecuser\"}", 16), MAG_OK);
    CHECK_EQ_INT(auth(a, mag_buf_cstr(&t), &role), MAG_OK);
    CHECK_STR(mag_buf_cstr(&role), "ecuser");
    mag_jwt_key_cleanup(&pk);
    mag_token_auth_free(a);
    mag_token_auth_free(NULL);
    mag_buf_free(&der);
    mag_buf_free(&pem);
    mag_buf_free(&url);
    mag_buf_free(&role);
    mag_buf_free(&t);
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/mag-test-token-XXXXXX");
    if (!mkdtemp(g_dir))
        return 1;
    RUN(read_key_forms);
    RUN(read_key_errors);
    RUN(secret_key_strength);
    RUN(public_and_private_keys);
    RUN(auth_config_errors);
    RUN(authenticate);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", g_dir);
    return mag_test_summary();
}
