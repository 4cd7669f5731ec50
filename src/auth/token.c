/* token.c -- key loading (data:, file:, path, bare base64; DER or PEM) and the token
 * authenticator behind authenticationProviders=...AuthenticationProviderToken.
 *
 * Key values are resolved the way Pulsar's AuthTokenUtils.readKeyFromUrl does, so the lines of
 * a user's broker.conf carry over unchanged. Error texts name the problem but never contain key
 * material. The authenticator is a fixed pipeline: parse -> verify signature -> claims.
 */
#include "mag/auth/token.h"
#include "mag/util/bytes.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "mag/util/alloc.h"
#include "mag/util/base64.h"

struct mag_token_auth {
    mag_jwt_key key;
    char *role_claim;
    char *audience_claim;   /* NULL = no audience check */
    char *audience;
};

/* Append a reason to `err` (a mag_buf * in scope; may be NULL). */
#define SET_ERR(...)                              \
    do {                                          \
        if (err)                                  \
            mag_buf_appendf(err, __VA_ARGS__);    \
    } while (0)

/* URI percent-decoding (no '+' -> space). On error out->len is restored. */
static mag_rc percent_decode(const char *s, size_t len, mag_buf *out)
{
    size_t start = out->len;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '%') {
            mag_buf_append_byte(out, (uint8_t)s[i]);
            continue;
        }
        int hi = i + 2 < len ? mag_hex_value((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < len ? mag_hex_value((unsigned char)s[i + 2]) : -1;
        if (hi < 0 || lo < 0) {
            out->len = start;
            return MAG_ERR_CONFIG;
        }
        mag_buf_append_byte(out, (uint8_t)(hi * 16 + lo));
        i += 2;
    }
    return MAG_OK;
}

static mag_rc read_file(const char *path, mag_buf *out, mag_buf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err)
            mag_buf_appendf(err, "cannot open key file '%s': %s", path, strerror(errno));
        return MAG_ERR_CONFIG;
    }
    mag_rc rc = MAG_OK;
    size_t start = out->len;
    uint8_t chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->len - start + n > MAG_TOKEN_MAX_KEY_FILE) {
            SET_ERR("key file '%s' is too large", path);
            rc = MAG_ERR_CONFIG;
            break;
        }
        mag_buf_append(out, chunk, n);
    }
    if (rc == MAG_OK && ferror(f)) {
        SET_ERR("cannot read key file '%s'", path);
        rc = MAG_ERR_CONFIG;
    }
    if (rc == MAG_OK && out->len == start) {
        SET_ERR("key file '%s' is empty", path);
        rc = MAG_ERR_CONFIG;
    }
    fclose(f);
    if (rc != MAG_OK) {
        OPENSSL_cleanse(out->data + start, out->len - start);
        out->len = start;
    }
    return rc;
}

/* data:[<mediatype>][;base64],<data> */
static mag_rc read_data_url(const char *v, mag_buf *out, mag_buf *err)
{
    const char *comma = strchr(v, ',');
    if (!comma || comma[1] == '\0') {
        SET_ERR("%s", "data: URL without data (expected data:;base64,<key>)");
        return MAG_ERR_CONFIG;
    }
    const char *meta = v + 5;
    size_t mlen = (size_t)(comma - meta);
    bool b64 = mlen >= 7 && memcmp(comma - 7, ";base64", 7) == 0;
    const char *data = comma + 1;
    mag_rc rc = b64 ? mag_base64_decode(out, data, strlen(data), NULL)
                    : percent_decode(data, strlen(data), out);
    if (rc != MAG_OK) {
        SET_ERR("%s", b64 ? "data: URL holds invalid base64" : "data: URL has a bad %-escape");
        return MAG_ERR_CONFIG;
    }
    return MAG_OK;
}

/* file:///p, file:/p, file://localhost/p */
static mag_rc read_file_url(const char *v, mag_buf *out, mag_buf *err)
{
    const char *p = v + 5;
    if (strncmp(p, "//", 2) == 0) {
        p += 2;
        const char *slash = strchr(p, '/');
        size_t hlen = slash ? (size_t)(slash - p) : strlen(p);
        if (!slash || !(hlen == 0 || (hlen == 9 && strncmp(p, "localhost", 9) == 0))) {
            SET_ERR("unsupported file URL '%s' (use file:///absolute/path)", v);
            return MAG_ERR_CONFIG;
        }
        p = slash;
    }
    mag_buf path = MAG_BUF_INIT;
    mag_rc rc = percent_decode(p, strlen(p), &path);
    if (rc != MAG_OK || path.len == 0 || memchr(path.data, '\0', path.len)) {
        SET_ERR("bad file URL '%s'", v);
        rc = MAG_ERR_CONFIG;
    } else {
        rc = read_file(mag_buf_cstr(&path), out, err);
    }
    mag_buf_free(&path);
    return rc;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Bare base64 as commons-codec reads it: either alphabet, whitespace ignored, '=' ends it. */
static mag_rc lenient_base64(const char *s, mag_buf *out)
{
    size_t start = out->len;
    uint32_t acc = 0;
    int bits = 0, chars = 0;
    bool ended = false;
    for (; *s; s++) {
        char c = *s;
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        if (c == '=') {
            ended = true;
            continue;
        }
        int v = b64val(c);
        if (v < 0 || ended)
            goto bad;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        chars++;
        if (bits >= 8) {
            bits -= 8;
            mag_buf_append_byte(out, (uint8_t)(acc >> bits));
            acc &= (1u << bits) - 1;
        }
    }
    if (chars % 4 == 1 || out->len == start)
        goto bad;
    return MAG_OK;
bad:
    out->len = start;
    return MAG_ERR_CONFIG;
}

mag_rc mag_token_read_key(const char *value, mag_buf *out, mag_buf *err)
{
    if (!value || !*value) {
        SET_ERR("%s", "empty key value");
        return MAG_ERR_CONFIG;
    }
    if (strncmp(value, "data:", 5) == 0)
        return read_data_url(value, out, err);
    if (strncmp(value, "file:", 5) == 0)
        return read_file_url(value, out, err);
    struct stat st;
    if (stat(value, &st) == 0 && S_ISREG(st.st_mode))
        return read_file(value, out, err);
    if (lenient_base64(value, out) != MAG_OK) {
        SET_ERR("%s", "key is not a data: or file: URL, an existing file, or base64");
        return MAG_ERR_CONFIG;
    }
    return MAG_OK;
}

mag_rc mag_token_load_secret_key(const char *value, mag_jwt_key *key, mag_buf *err)
{
    mag_buf bytes = MAG_BUF_INIT;
    mag_rc rc = mag_token_read_key(value, &bytes, err);
    if (rc == MAG_OK) {
        rc = mag_jwt_key_set_secret(key, bytes.data, bytes.len);
        if (rc != MAG_OK && err)
            mag_buf_appendf(err, "secret key is %zu bits; HMAC keys need at least 256",
                            bytes.len * 8);
    }
    if (bytes.data)
        OPENSSL_cleanse(bytes.data, bytes.cap);
    mag_buf_free(&bytes);
    return rc;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* DER SubjectPublicKeyInfo, else PEM public key, else PEM certificate. */
static EVP_PKEY *decode_public(const mag_buf *b)
{
    const unsigned char *p = b->data;
    EVP_PKEY *k = d2i_PUBKEY(NULL, &p, (long)b->len);
    if (k && p == b->data + b->len)
        return k;
    EVP_PKEY_free(k);
    k = NULL;
    BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
    if (bio)
        k = PEM_read_bio_PUBKEY(bio, NULL, no_password, NULL);
    if (!k && bio) {
        BIO_free(bio);
        bio = BIO_new_mem_buf(b->data, (int)b->len);
        X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, no_password, NULL) : NULL;
        if (cert)
            k = X509_get_pubkey(cert);
        X509_free(cert);
    }
    BIO_free(bio);
    ERR_clear_error();
    return k;
}

/* DER (PKCS#8 or traditional), else PEM. */
static EVP_PKEY *decode_private(const mag_buf *b)
{
    const unsigned char *p = b->data;
    EVP_PKEY *k = d2i_AutoPrivateKey(NULL, &p, (long)b->len);
    if (!k) {
        BIO *bio = BIO_new_mem_buf(b->data, (int)b->len);
        if (bio)
            k = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
        BIO_free(bio);
    }
    ERR_clear_error();
    return k;
}

mag_rc mag_token_load_public_key(const char *value, const char *alg_name, mag_jwt_key *key,
                                 mag_buf *err)
{
    const char *name = alg_name && *alg_name ? alg_name : "RS256";
    mag_jwt_alg alg = mag_jwt_alg_from_name(name);
    if (alg == MAG_JWT_ALG_UNKNOWN || alg <= MAG_JWT_HS512) {
        SET_ERR("tokenPublicAlg '%s' is not an RSA or ECDSA algorithm "
                     "(RS256/384/512, PS256/384/512, ES256/384/512)", name);
        return MAG_ERR_CONFIG;
    }
    mag_buf bytes = MAG_BUF_INIT;
    mag_rc rc = mag_token_read_key(value, &bytes, err);
    if (rc != MAG_OK)
        goto out;
    EVP_PKEY *pk = decode_public(&bytes);
    if (!pk) {
        SET_ERR("%s", "not a public key (expected DER X.509 SubjectPublicKeyInfo or PEM)");
        rc = MAG_ERR_CONFIG;
        goto out;
    }
    bool want_ec = alg >= MAG_JWT_ES256;
    bool is_ec = EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC;
    if (want_ec != is_ec) {
        if (err)
            mag_buf_appendf(err, "tokenPublicAlg %s needs an %s public key", name,
                            want_ec ? "EC" : "RSA");
        EVP_PKEY_free(pk);
        rc = MAG_ERR_CONFIG;
        goto out;
    }
    rc = mag_jwt_key_set_pkey(key, pk);
    if (rc != MAG_OK)
        SET_ERR("%s", "unsupported public key (RSA needs >= 2048 bits; EC must be "
                           "P-256, P-384 or P-521)");
out:
    mag_buf_free(&bytes);
    return rc;
}

mag_rc mag_token_load_private_key(const char *value, mag_jwt_key *key, mag_buf *err)
{
    mag_buf bytes = MAG_BUF_INIT;
    mag_rc rc = mag_token_read_key(value, &bytes, err);
    if (rc == MAG_OK) {
        EVP_PKEY *pk = decode_private(&bytes);
        if (!pk) {
            SET_ERR("%s", "not a private key (expected DER PKCS#8 or PEM, unencrypted)");
            rc = MAG_ERR_CONFIG;
        } else if ((rc = mag_jwt_key_set_pkey(key, pk)) != MAG_OK) {
            SET_ERR("%s", "unsupported private key (RSA needs >= 2048 bits; EC must be "
                               "P-256, P-384 or P-521)");
        }
    }
    if (bytes.data)
        OPENSSL_cleanse(bytes.data, bytes.cap);
    mag_buf_free(&bytes);
    return rc;
}

static char *dup_or_null(const char *s)
{
    return s && *s ? mag_xstrdup(s) : NULL;
}

mag_rc mag_token_auth_new(const struct mag_token_auth_opts *o, mag_token_auth **out, mag_buf *err)
{
    *out = NULL;
    bool has_aud_claim = o->audience_claim && *o->audience_claim;
    bool has_aud = o->audience && *o->audience;
    if (has_aud_claim && !has_aud) {
        SET_ERR("tokenAudienceClaim '%s' is set but tokenAudience is empty",
                o->audience_claim);
        return MAG_ERR_CONFIG;
    }
    mag_token_auth *a = mag_xcalloc(1, sizeof *a);
    mag_jwt_key_init(&a->key);
    mag_rc rc;
    if (o->secret_key && *o->secret_key) {
        mag_buf e = MAG_BUF_INIT;
        rc = mag_token_load_secret_key(o->secret_key, &a->key, &e);
        if (rc != MAG_OK && err)
            mag_buf_appendf(err, "tokenSecretKey: %s", mag_buf_cstr(&e));
        mag_buf_free(&e);
    } else if (o->public_key && *o->public_key) {
        mag_buf e = MAG_BUF_INIT;
        rc = mag_token_load_public_key(o->public_key, o->public_alg, &a->key, &e);
        if (rc != MAG_OK && err)
            mag_buf_appendf(err, "tokenPublicKey: %s", mag_buf_cstr(&e));
        mag_buf_free(&e);
    } else {
        SET_ERR("%s", "token authentication needs tokenSecretKey or tokenPublicKey");
        rc = MAG_ERR_CONFIG;
    }
    if (rc != MAG_OK) {
        mag_token_auth_free(a);
        return rc;
    }
    a->role_claim = mag_xstrdup(o->auth_claim && *o->auth_claim ? o->auth_claim : "sub");
    if (has_aud) {
        a->audience_claim = mag_xstrdup(has_aud_claim ? o->audience_claim : "aud");
        a->audience = dup_or_null(o->audience);
    }
    *out = a;
    return MAG_OK;
}

void mag_token_auth_free(mag_token_auth *a)
{
    if (!a)
        return;
    mag_jwt_key_cleanup(&a->key);
    free(a->role_claim);
    free(a->audience_claim);
    free(a->audience);
    free(a);
}

mag_rc mag_token_authenticate(const mag_token_auth *a, const char *token, size_t len,
                              int64_t now_ms, mag_buf *role, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    mag_jwt j;
    mag_jwt_init(&j);
    mag_rc rc = mag_jwt_parse(&j, token, len);
    *why = "malformed token";
    if (rc == MAG_OK) {
        rc = mag_jwt_verify(&j, &a->key);
        *why = "bad signature or algorithm";
    }
    if (rc == MAG_OK) {
        struct mag_jwt_claims_opts co = { a->role_claim, a->audience_claim, a->audience };
        rc = mag_jwt_check_claims(&j, &co, now_ms, role, why);
    }
    mag_jwt_cleanup(&j);
    return rc == MAG_OK ? MAG_OK : MAG_ERR_AUTH;
}
