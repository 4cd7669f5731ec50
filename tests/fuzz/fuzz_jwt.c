/* fuzz_jwt.c -- libFuzzer target for the JWT parser/verifier and data: key URLs.
 *
 * Invariants checked on every input:
 *  - mag_jwt_parse either fails leaving the struct clean, or succeeds with both JSON trees, a
 *    signing input that is exactly the input up to its last '.', and a known-or-UNKNOWN alg;
 *  - verification and claim checks of any parsed token never crash, and a role is only
 *    produced together with MAG_OK;
 *  - round trip: the parsed claims re-signed with HS256 parse back to identical claims text and
 *    verify; the same token with one signature bit flipped, or presented as HS384 to the key,
 *    does not verify;
 *  - inputs starting with "data:" go through the key-URL reader (no file I/O on that path),
 *    which must either fail with a message or append bytes.
 * Seeds: tests/fuzz/corpus/jwt/ (tokens signed with the key below: bytes 0..31).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mag/auth/jwt.h"
#include "mag/auth/token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const mag_jwt_key *fuzz_key(void)
{
    static mag_jwt_key key;
    static bool ready;
    if (!ready) {
        uint8_t k[32];
        for (int i = 0; i < 32; i++)
            k[i] = (uint8_t)i;
        mag_jwt_key_init(&key);
        if (mag_jwt_key_set_secret(&key, k, sizeof k) != MAG_OK)
            abort();
        ready = true;
    }
    return &key;
}

static void check_key_url(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_rc rc = mag_token_read_key(s, &out, &err);
    if (rc == MAG_OK && err.len != 0)
        abort();
    if (rc != MAG_OK && (out.len != 0 || err.len == 0))
        abort();
    mag_buf_free(&out);
    mag_buf_free(&err);
    free(s);
}

static void round_trip(const mag_jwt *j, const mag_jwt_key *key)
{
    mag_buf tok = MAG_BUF_INIT;
    if (mag_jwt_sign(&tok, MAG_JWT_HS256, key, (const char *)j->claims_json.data,
                     j->claims_json.len) != MAG_OK)
        abort();
    if (tok.len > MAG_JWT_MAX_LEN) {   /* a longer header/signature than the input had */
        mag_buf_free(&tok);
        return;
    }
    mag_jwt k;
    mag_jwt_init(&k);
    if (mag_jwt_parse(&k, (const char *)tok.data, tok.len) != MAG_OK || k.alg != MAG_JWT_HS256)
        abort();
    if (k.claims_json.len != j->claims_json.len ||
        memcmp(k.claims_json.data, j->claims_json.data, k.claims_json.len) != 0)
        abort();
    if (mag_jwt_verify(&k, key) != MAG_OK)
        abort();
    k.signature.data[k.signature.len / 2] ^= 0x10;
    if (mag_jwt_verify(&k, key) == MAG_OK)
        abort();
    k.signature.data[k.signature.len / 2] ^= 0x10;
    k.alg = MAG_JWT_HS384;   /* a 32-byte key must not verify HS384 */
    if (mag_jwt_verify(&k, key) == MAG_OK)
        abort();
    mag_jwt_cleanup(&k);
    mag_buf_free(&tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const mag_jwt_key *key = fuzz_key();
    if (size >= 5 && memcmp(data, "data:", 5) == 0 && !memchr(data, '\0', size)) {
        check_key_url(data, size);
        return 0;
    }
    mag_jwt j;
    mag_jwt_init(&j);
    mag_rc rc = mag_jwt_parse(&j, (const char *)data, size);
    if (rc != MAG_OK) {
        if (rc != MAG_ERR_AUTH || j.header || j.claims || j.signing_input.len)
            abort();
        return 0;
    }
    if (!j.header || !j.claims || j.signing_input.len >= size ||
        memcmp(j.signing_input.data, data, j.signing_input.len) != 0 ||
        data[j.signing_input.len] != '.' ||
        memchr(data + j.signing_input.len + 1, '.', size - j.signing_input.len - 1))
        abort();
    if (j.alg == MAG_JWT_ALG_UNKNOWN && mag_jwt_verify(&j, key) == MAG_OK)
        abort();
    mag_rc vr = mag_jwt_verify(&j, key);
    mag_buf role = MAG_BUF_INIT;
    struct mag_jwt_claims_opts co = { "sub", "aud", "magnetar" };
    const char *why = NULL;
    mag_rc cr = mag_jwt_check_claims(&j, &co, 1700000000000LL, &role, &why);
    if ((cr == MAG_OK) != (role.len > 0) || (cr != MAG_OK && !why))
        abort();
    (void)vr;
    round_trip(&j, key);
    mag_buf_free(&role);
    mag_jwt_cleanup(&j);
    return 0;
}
