/* jwt.c -- parse, verify, check and sign JSON Web Tokens (see mag/auth/jwt.h).
 *
 * Verification order matters for security: mag_jwt_verify() only looks at the signature, and
 * the claims are read (mag_jwt_check_claims) only after it passed. HMAC tags are compared with
 * CRYPTO_memcmp; RSA and EC signatures go through EVP_DigestVerify. JOSE encodes ECDSA
 * signatures as the fixed-width concatenation R||S, which is converted to/from DER here.
 */
#include "mag/auth/jwt.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "mag/util/alloc.h"
#include "mag/util/base64.h"

static const struct {
    mag_jwt_alg alg;
    const char *name;
} g_algs[] = {
    { MAG_JWT_HS256, "HS256" }, { MAG_JWT_HS384, "HS384" }, { MAG_JWT_HS512, "HS512" },
    { MAG_JWT_RS256, "RS256" }, { MAG_JWT_RS384, "RS384" }, { MAG_JWT_RS512, "RS512" },
    { MAG_JWT_PS256, "PS256" }, { MAG_JWT_PS384, "PS384" }, { MAG_JWT_PS512, "PS512" },
    { MAG_JWT_ES256, "ES256" }, { MAG_JWT_ES384, "ES384" }, { MAG_JWT_ES512, "ES512" },
};

mag_jwt_alg mag_jwt_alg_from_name(const char *name)
{
    if (!name)
        return MAG_JWT_ALG_UNKNOWN;
    for (size_t i = 0; i < sizeof g_algs / sizeof g_algs[0]; i++)
        if (strcmp(g_algs[i].name, name) == 0)
            return g_algs[i].alg;
    return MAG_JWT_ALG_UNKNOWN;
}

const char *mag_jwt_alg_name(mag_jwt_alg alg)
{
    for (size_t i = 0; i < sizeof g_algs / sizeof g_algs[0]; i++)
        if (g_algs[i].alg == alg)
            return g_algs[i].name;
    return "none";
}

static bool is_hs(mag_jwt_alg a) { return a >= MAG_JWT_HS256 && a <= MAG_JWT_HS512; }
static bool is_rsa(mag_jwt_alg a) { return a >= MAG_JWT_RS256 && a <= MAG_JWT_PS512; }
static bool is_pss(mag_jwt_alg a) { return a >= MAG_JWT_PS256 && a <= MAG_JWT_PS512; }
static bool is_es(mag_jwt_alg a) { return a >= MAG_JWT_ES256 && a <= MAG_JWT_ES512; }

/* SHA-256/384/512 by the algorithm's number; NULL for UNKNOWN. */
static const EVP_MD *alg_md(mag_jwt_alg a)
{
    if (a == MAG_JWT_ALG_UNKNOWN)
        return NULL;
    switch ((a - MAG_JWT_HS256) % 3) {
    case 0: return EVP_sha256();
    case 1: return EVP_sha384();
    default: return EVP_sha512();
    }
}

/* ES256/384/512: bytes of R (and of S) in the JOSE signature. */
static size_t es_part_len(mag_jwt_alg a)
{
    return a == MAG_JWT_ES256 ? 32 : a == MAG_JWT_ES384 ? 48 : 66;
}

/* ------------------------------------------------------------------ keys */

void mag_jwt_key_init(mag_jwt_key *k)
{
    memset(k, 0, sizeof *k);
    mag_buf_init(&k->secret);
}

void mag_jwt_key_cleanup(mag_jwt_key *k)
{
    if (k->secret.data)
        OPENSSL_cleanse(k->secret.data, k->secret.cap);
    mag_buf_free(&k->secret);
    EVP_PKEY_free(k->pkey);
    mag_jwt_key_init(k);
}

mag_rc mag_jwt_key_set_secret(mag_jwt_key *k, const uint8_t *secret, size_t len)
{
    if (len < 32)
        return MAG_ERR_CONFIG;
    mag_jwt_key_cleanup(k);
    k->kind = MAG_JWT_KEY_HMAC;
    mag_buf_append(&k->secret, secret, len);
    return MAG_OK;
}

mag_rc mag_jwt_key_set_pkey(mag_jwt_key *k, struct evp_pkey_st *pkey)
{
    if (!pkey)
        return MAG_ERR_CONFIG;
    mag_jwt_key_kind kind = MAG_JWT_KEY_NONE;
    mag_jwt_alg ec_alg = MAG_JWT_ALG_UNKNOWN;
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(pkey) >= 2048)
            kind = MAG_JWT_KEY_RSA;
    } else if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
        char group[64];
        size_t glen = 0;
        if (EVP_PKEY_get_group_name(pkey, group, sizeof group, &glen) == 1) {
            int nid = OBJ_txt2nid(group);
            ec_alg = nid == NID_X9_62_prime256v1 ? MAG_JWT_ES256
                     : nid == NID_secp384r1      ? MAG_JWT_ES384
                     : nid == NID_secp521r1      ? MAG_JWT_ES512
                                                 : MAG_JWT_ALG_UNKNOWN;
        }
        if (ec_alg != MAG_JWT_ALG_UNKNOWN)
            kind = MAG_JWT_KEY_EC;
    }
    ERR_clear_error();
    if (kind == MAG_JWT_KEY_NONE) {
        EVP_PKEY_free(pkey);
        return MAG_ERR_CONFIG;
    }
    mag_jwt_key_cleanup(k);
    k->kind = kind;
    k->pkey = pkey;
    k->ec_alg = ec_alg;
    return MAG_OK;
}

bool mag_jwt_key_accepts(const mag_jwt_key *k, mag_jwt_alg alg)
{
    switch (k->kind) {
    case MAG_JWT_KEY_HMAC:
        return is_hs(alg) && k->secret.len >= (size_t)EVP_MD_get_size(alg_md(alg));
    case MAG_JWT_KEY_RSA:
        return is_rsa(alg);
    case MAG_JWT_KEY_EC:
        return is_es(alg) && alg == k->ec_alg;
    case MAG_JWT_KEY_NONE:
        break;
    }
    return false;
}

mag_jwt_alg mag_jwt_key_default_alg(const mag_jwt_key *k)
{
    switch (k->kind) {
    case MAG_JWT_KEY_HMAC: return MAG_JWT_HS256;
    case MAG_JWT_KEY_RSA: return MAG_JWT_RS256;
    case MAG_JWT_KEY_EC: return k->ec_alg;
    case MAG_JWT_KEY_NONE: break;
    }
    return MAG_JWT_ALG_UNKNOWN;
}

/* ------------------------------------------------------------------ parsing */

void mag_jwt_init(mag_jwt *j)
{
    memset(j, 0, sizeof *j);
    mag_buf_init(&j->header_json);
    mag_buf_init(&j->claims_json);
    mag_buf_init(&j->signature);
    mag_buf_init(&j->signing_input);
}

void mag_jwt_cleanup(mag_jwt *j)
{
    mag_buf_free(&j->header_json);
    mag_buf_free(&j->claims_json);
    mag_buf_free(&j->signature);
    mag_buf_free(&j->signing_input);
    cJSON_Delete(j->header);
    cJSON_Delete(j->claims);
    mag_jwt_init(j);
}

/* A NUL byte, or a \u0000 escape, anywhere in JSON text (C strings would be cut there). */
static bool has_nul(const char *s, size_t len)
{
    if (memchr(s, '\0', len))
        return true;
    for (size_t i = 0; i + 1 < len; i++) {
        if (s[i] != '\\')
            continue;
        if (s[i + 1] == 'u' && i + 5 < len && memcmp(s + i + 2, "0000", 4) == 0)
            return true;
        i++;   /* skip the escaped character (so "\\\\u0000" is not an escape) */
    }
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* True when an object has two members with the same name (JSON parsers disagree on which
 * one wins, so such a token means different things to different readers). */
static bool has_duplicate_names(const cJSON *obj)
{
    size_t n = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, obj)
        n++;
    if (n < 2)
        return false;
    const char **names = mag_xmalloc(n * sizeof *names);
    size_t i = 0;
    cJSON_ArrayForEach(it, obj)
        names[i++] = it->string;
    qsort(names, n, sizeof *names, cmp_names);
    bool dup = false;
    for (i = 1; i < n && !dup; i++)
        dup = strcmp(names[i - 1], names[i]) == 0;
    free(names);
    return dup;
}

/* Decode one base64url segment holding a JSON object into text + tree. */
static mag_rc parse_segment(const char *b64, size_t len, mag_buf *text, cJSON **tree)
{
    if (len == 0 || mag_base64url_decode(text, b64, len) != MAG_OK || text->len == 0)
        return MAG_ERR_AUTH;
    const char *s = (const char *)text->data;
    if (has_nul(s, text->len))
        return MAG_ERR_AUTH;
    const char *end = NULL;
    cJSON *t = cJSON_ParseWithLengthOpts(s, text->len, &end, false);
    if (!t)
        return MAG_ERR_AUTH;
    while (end && end < s + text->len && (*end == ' ' || *end == '\t' || *end == '\r' ||
                                          *end == '\n'))
        end++;
    if (!cJSON_IsObject(t) || end != s + text->len || has_duplicate_names(t)) {
        cJSON_Delete(t);
        return MAG_ERR_AUTH;
    }
    *tree = t;
    return MAG_OK;
}

mag_rc mag_jwt_parse(mag_jwt *j, const char *token, size_t len)
{
    mag_jwt_cleanup(j);
    if (!token || len == 0 || len > MAG_JWT_MAX_LEN)
        return MAG_ERR_AUTH;
    const char *dot1 = memchr(token, '.', len);
    if (!dot1)
        return MAG_ERR_AUTH;
    const char *rest = dot1 + 1;
    size_t rest_len = len - (size_t)(rest - token);
    const char *dot2 = memchr(rest, '.', rest_len);
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return MAG_ERR_AUTH;

    size_t hlen = (size_t)(dot1 - token);
    size_t clen = (size_t)(dot2 - rest);
    size_t slen = len - (size_t)(dot2 + 1 - token);
    if (parse_segment(token, hlen, &j->header_json, &j->header) != MAG_OK ||
        parse_segment(rest, clen, &j->claims_json, &j->claims) != MAG_OK ||
        (slen && mag_base64url_decode(&j->signature, dot2 + 1, slen) != MAG_OK))
        goto bad;
    if (slen) {
        /* Only the canonical encoding (zero pad bits): one signature, one token text. */
        mag_buf canon = MAG_BUF_INIT;
        mag_base64url_encode(&canon, j->signature.data, j->signature.len);
        bool same = canon.len == slen && memcmp(canon.data, dot2 + 1, slen) == 0;
        mag_buf_free(&canon);
        if (!same)
            goto bad;
    }

    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(j->header, "alg");
    if (!cJSON_IsString(alg) || cJSON_GetObjectItemCaseSensitive(j->header, "crit") ||
        cJSON_GetObjectItemCaseSensitive(j->header, "zip"))
        goto bad;
    j->alg = mag_jwt_alg_from_name(alg->valuestring);
    mag_buf_append(&j->signing_input, token, (size_t)(dot2 - token));
    return MAG_OK;
bad:
    mag_jwt_cleanup(j);
    return MAG_ERR_AUTH;
}

/* ------------------------------------------------------------------ signatures */

/* Constant-time HMAC tag check. */
static bool hmac_verify(mag_jwt_alg alg, const mag_jwt_key *k, const uint8_t *in, size_t inlen,
                        const uint8_t *sig, size_t siglen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned char given[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!HMAC(alg_md(alg), k->secret.data, (int)k->secret.len, in, inlen, md, &mdlen))
        return false;
    memset(given, 0, sizeof given);
    memcpy(given, sig, siglen < mdlen ? siglen : mdlen);
    bool same = CRYPTO_memcmp(md, given, mdlen) == 0;
    return same & (siglen == mdlen);
}

/* Set RSA-PSS parameters (salt = hash length, MGF1 with the same hash) when alg is PS*. */
static bool set_padding(EVP_PKEY_CTX *pctx, mag_jwt_alg alg)
{
    if (!is_pss(alg))
        return true;
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
}

/* JOSE R||S -> DER ECDSA-Sig-Value. Appends to der; false if the length is wrong. */
static bool es_to_der(mag_jwt_alg alg, const uint8_t *sig, size_t siglen, mag_buf *der)
{
    size_t n = es_part_len(alg);
    if (siglen != 2 * n)
        return false;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, (int)n, NULL);
    BIGNUM *s = BN_bin2bn(sig + n, (int)n, NULL);
    bool ok = false;
    if (es && r && s && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL;   /* owned by es now */
        int dlen = i2d_ECDSA_SIG(es, NULL);
        if (dlen > 0) {
            mag_buf_reserve(der, (size_t)dlen);
            unsigned char *p = der->data + der->len;
            if (i2d_ECDSA_SIG(es, &p) == dlen) {
                der->len += (size_t)dlen;
                ok = true;
            }
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return ok;
}

static bool pkey_verify(mag_jwt_alg alg, const mag_jwt_key *k, const uint8_t *in, size_t inlen,
                        const uint8_t *sig, size_t siglen)
{
    mag_buf der = MAG_BUF_INIT;
    bool ok = false;
    if (is_es(alg)) {
        if (!es_to_der(alg, sig, siglen, &der))
            goto out;
        sig = der.data;
        siglen = der.len;
    }
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (mctx && EVP_DigestVerifyInit(mctx, &pctx, alg_md(alg), NULL, k->pkey) == 1 &&
        set_padding(pctx, alg))
        ok = EVP_DigestVerify(mctx, sig, siglen, in, inlen) == 1;
    EVP_MD_CTX_free(mctx);
out:
    mag_buf_free(&der);
    ERR_clear_error();
    return ok;
}

static bool verify_with(mag_jwt_alg alg, const mag_jwt_key *k, const mag_jwt *j)
{
    const uint8_t *sig = j->signature.data ? j->signature.data : (const uint8_t *)"";
    if (alg == MAG_JWT_ALG_UNKNOWN)
        return false;
    if (k->kind == MAG_JWT_KEY_HMAC)
        return hmac_verify(alg, k, j->signing_input.data, j->signing_input.len, sig,
                           j->signature.len);
    return pkey_verify(alg, k, j->signing_input.data, j->signing_input.len, sig,
                       j->signature.len);
}

mag_rc mag_jwt_verify(const mag_jwt *j, const mag_jwt_key *key)
{
    if (!j->header || key->kind == MAG_JWT_KEY_NONE)
        return MAG_ERR_AUTH;
    bool alg_ok = mag_jwt_key_accepts(key, j->alg);
    /* Same work whether or not the algorithm fits the key. */
    mag_jwt_alg use = alg_ok ? j->alg : mag_jwt_key_default_alg(key);
    bool sig_ok = verify_with(use, key, j);
    return (alg_ok & sig_ok) ? MAG_OK : MAG_ERR_AUTH;
}

/* ------------------------------------------------------------------ claims */

/* Numeric-date claim: absent -> true (no constraint), non-number -> false. */
static bool time_claim_ok(const cJSON *claims, const char *name, int64_t now_ms, bool is_exp)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, name);
    if (!v)
        return true;
    if (!cJSON_IsNumber(v))
        return false;
    double limit_ms = v->valuedouble * 1000.0;
    double now = (double)now_ms;
    return is_exp ? now <= limit_ms : now >= limit_ms;
}

static bool audience_ok(const cJSON *claims, const struct mag_jwt_claims_opts *o)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(claims, o->audience_claim);
    const char *want = o->audience ? o->audience : "";
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, want) == 0;
    if (!cJSON_IsArray(v))
        return false;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, want) == 0)
            return true;
    }
    return false;
}

mag_rc mag_jwt_check_claims(const mag_jwt *j, const struct mag_jwt_claims_opts *o, int64_t now_ms,
                            mag_buf *role, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (!j->claims) {
        *why = "no claims";
        return MAG_ERR_AUTH;
    }
    if (!time_claim_ok(j->claims, "exp", now_ms, true)) {
        *why = "expired (or bad exp claim)";
        return MAG_ERR_AUTH;
    }
    if (!time_claim_ok(j->claims, "nbf", now_ms, false)) {
        *why = "not valid yet (or bad nbf claim)";
        return MAG_ERR_AUTH;
    }
    if (o->audience_claim && *o->audience_claim && !audience_ok(j->claims, o)) {
        *why = "audience does not match";
        return MAG_ERR_AUTH;
    }
    const char *rc_name = o->role_claim && *o->role_claim ? o->role_claim : "sub";
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(j->claims, rc_name);
    if (cJSON_IsArray(r))
        r = cJSON_GetArrayItem(r, 0);
    if (!cJSON_IsString(r) || r->valuestring[0] == '\0') {
        *why = "no role in the role claim";
        return MAG_ERR_AUTH;
    }
    mag_buf_append_str(role, r->valuestring);
    *why = NULL;
    return MAG_OK;
}

/* ------------------------------------------------------------------ signing */

/* DER ECDSA-Sig-Value -> JOSE R||S (fixed width). */
static bool der_to_es(mag_jwt_alg alg, const uint8_t *der, size_t len, uint8_t *out)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
    if (!es)
        return false;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    int n = (int)es_part_len(alg);
    bool ok = BN_bn2binpad(r, out, n) == n && BN_bn2binpad(s, out + n, n) == n;
    ECDSA_SIG_free(es);
    return ok;
}

static mag_rc sign_bytes(mag_jwt_alg alg, const mag_jwt_key *k, const uint8_t *in, size_t inlen,
                         mag_buf *sig)
{
    if (k->kind == MAG_JWT_KEY_HMAC) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdlen = 0;
        if (!HMAC(alg_md(alg), k->secret.data, (int)k->secret.len, in, inlen, md, &mdlen))
            return MAG_ERR_INTERNAL;
        mag_buf_append(sig, md, mdlen);
        return MAG_OK;
    }
    mag_rc rc = MAG_ERR_INTERNAL;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t len = 0;
    mag_buf der = MAG_BUF_INIT;
    if (!mctx || EVP_DigestSignInit(mctx, &pctx, alg_md(alg), NULL, k->pkey) != 1 ||
        !set_padding(pctx, alg) || EVP_DigestSign(mctx, NULL, &len, in, inlen) != 1)
        goto out;
    mag_buf_reserve(&der, len);
    if (EVP_DigestSign(mctx, der.data, &len, in, inlen) != 1)
        goto out;
    der.len = len;
    if (is_es(alg)) {
        uint8_t rs[132];
        if (!der_to_es(alg, der.data, der.len, rs))
            goto out;
        mag_buf_append(sig, rs, 2 * es_part_len(alg));
    } else {
        mag_buf_append(sig, der.data, der.len);
    }
    rc = MAG_OK;
out:
    mag_buf_free(&der);
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return rc;
}

static bool key_can_sign(const mag_jwt_key *k)
{
    if (k->kind == MAG_JWT_KEY_HMAC)
        return true;
    if (!k->pkey)
        return false;
    /* A private key has its secret component. */
    BIGNUM *priv = NULL;
    const char *param = k->kind == MAG_JWT_KEY_RSA ? OSSL_PKEY_PARAM_RSA_D : OSSL_PKEY_PARAM_PRIV_KEY;
    bool has = EVP_PKEY_get_bn_param(k->pkey, param, &priv) == 1;
    BN_clear_free(priv);
    ERR_clear_error();
    return has;
}

mag_rc mag_jwt_sign(mag_buf *out, mag_jwt_alg alg, const mag_jwt_key *key, const char *claims_json,
                    size_t len)
{
    if (!mag_jwt_key_accepts(key, alg) || !key_can_sign(key))
        return MAG_ERR_CONFIG;
    mag_buf input = MAG_BUF_INIT, sig = MAG_BUF_INIT, header = MAG_BUF_INIT;
    mag_buf_appendf(&header, "{\"alg\":\"%s\"}", mag_jwt_alg_name(alg));
    mag_base64url_encode(&input, header.data, header.len);
    mag_buf_append_byte(&input, '.');
    mag_base64url_encode(&input, (const uint8_t *)claims_json, len);
    mag_rc rc = sign_bytes(alg, key, input.data, input.len, &sig);
    if (rc == MAG_OK) {
        mag_buf_append(out, input.data, input.len);
        mag_buf_append_byte(out, '.');
        mag_base64url_encode(out, sig.data, sig.len);
    }
    mag_buf_free(&input);
    mag_buf_free(&sig);
    mag_buf_free(&header);
    return rc;
}
