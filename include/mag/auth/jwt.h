/* jwt.h -- JSON Web Tokens (RFC 7519, JWS compact form) as Pulsar's token authentication uses
 * them: parse, verify the signature, check the claims, and sign (for the token tool and tests).
 *
 * Pure: no I/O and no clock (the caller passes "now"). Signatures are computed with OpenSSL's
 * EVP API; HMAC tags are compared with CRYPTO_memcmp. Algorithms: HS256/384/512 with a secret
 * key; RS256/384/512 and PS256/384/512 with an RSA key (>= 2048 bits); ES256/384/512 with an EC
 * key on P-256/P-384/P-521. Anything else, "none" included, never verifies. The parser is strict
 * where laxness could let two parsers disagree about one token: exactly three base64url parts
 * without padding (the signature in its canonical encoding), header and claims must be JSON
 * objects without duplicate member names, no NUL characters (raw or \u0000) anywhere, no "crit"
 * or "zip" header.
 */
#ifndef MAG_AUTH_JWT_H
#define MAG_AUTH_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

struct cJSON;
struct evp_pkey_st;   /* OpenSSL's EVP_PKEY */

/* Tokens longer than this are malformed (a bound on work and memory per request). */
#define MAG_JWT_MAX_LEN 65536

typedef enum mag_jwt_alg {
    MAG_JWT_ALG_UNKNOWN = 0,   /* "none", unsupported, or not a string */
    MAG_JWT_HS256, MAG_JWT_HS384, MAG_JWT_HS512,
    MAG_JWT_RS256, MAG_JWT_RS384, MAG_JWT_RS512,
    MAG_JWT_PS256, MAG_JWT_PS384, MAG_JWT_PS512,
    MAG_JWT_ES256, MAG_JWT_ES384, MAG_JWT_ES512
} mag_jwt_alg;

/* "HS256" -> MAG_JWT_HS256 (exact, case-sensitive); anything else -> MAG_JWT_ALG_UNKNOWN. */
mag_jwt_alg mag_jwt_alg_from_name(const char *name);
/* MAG_JWT_HS256 -> "HS256"; UNKNOWN -> "none". Static string. */
const char *mag_jwt_alg_name(mag_jwt_alg alg);

typedef enum mag_jwt_key_kind {
    MAG_JWT_KEY_NONE = 0,
    MAG_JWT_KEY_HMAC,
    MAG_JWT_KEY_RSA,
    MAG_JWT_KEY_EC
} mag_jwt_key_kind;

/* A verification (or signing) key. Embedded struct: mag_jwt_key_init / mag_jwt_key_cleanup. */
typedef struct mag_jwt_key {
    mag_jwt_key_kind kind;
    mag_buf secret;              /* HMAC: the raw secret bytes */
    struct evp_pkey_st *pkey;    /* RSA/EC: owned; public, or private (which also verifies) */
    mag_jwt_alg ec_alg;          /* EC: the one algorithm its curve allows (ES256 for P-256...) */
} mag_jwt_key;

void mag_jwt_key_init(mag_jwt_key *k);
/* Free what k owns (the secret is wiped first); k is re-initialised. */
void mag_jwt_key_cleanup(mag_jwt_key *k);

/* Make k an HMAC key holding a copy of len bytes (previous content freed).
 * @return MAG_OK, or MAG_ERR_CONFIG when len < 32 (256 bits, the HS256 minimum). */
mag_rc mag_jwt_key_set_secret(mag_jwt_key *k, const uint8_t *secret, size_t len);

/* Make k an RSA or EC key. Takes ownership of pkey in every case (freed on failure).
 * @return MAG_OK; MAG_ERR_CONFIG for another key type, RSA under 2048 bits or an EC curve other
 *         than P-256/P-384/P-521. */
mag_rc mag_jwt_key_set_pkey(mag_jwt_key *k, struct evp_pkey_st *pkey);

/* True when alg may be used with k: HS* with an HMAC key at least as long as the hash (32, 48,
 * 64 bytes, as JJWT requires), RS and PS with RSA, ES* matching the EC key's curve. */
bool mag_jwt_key_accepts(const mag_jwt_key *k, mag_jwt_alg alg);

/* The algorithm a token signed with k uses by default: HS256, RS256, or the curve's ES*.
 * MAG_JWT_ALG_UNKNOWN for an empty key. */
mag_jwt_alg mag_jwt_key_default_alg(const mag_jwt_key *k);

/* A parsed (not yet verified) token. Embedded struct: mag_jwt_init / mag_jwt_cleanup. */
typedef struct mag_jwt {
    mag_jwt_alg alg;             /* header "alg" */
    mag_buf header_json;         /* decoded header text */
    mag_buf claims_json;         /* decoded claims text */
    mag_buf signature;           /* decoded signature bytes (may be empty) */
    mag_buf signing_input;       /* copy of "<header b64>.<claims b64>" */
    struct cJSON *header;        /* parsed trees, owned */
    struct cJSON *claims;
} mag_jwt;

void mag_jwt_init(mag_jwt *j);
/* Free everything j owns; j is re-initialised and reusable. */
void mag_jwt_cleanup(mag_jwt *j);

/* Parse a compact JWS "<b64url header>.<b64url claims>.<b64url signature>" (no "Bearer ").
 * j is cleaned first. token need not be NUL-terminated.
 * @return MAG_OK (an unknown or "none" alg is not a parse error: alg = UNKNOWN), or
 *         MAG_ERR_AUTH for anything malformed (see the file comment; j is left clean). */
mag_rc mag_jwt_parse(mag_jwt *j, const char *token, size_t len);

/* Verify j's signature with key. The work done does not depend on why it fails: an alg the key
 * does not accept still runs a verification with the key's default algorithm.
 * @return MAG_OK, or MAG_ERR_AUTH (unknown alg, alg not accepted by key, bad signature). */
mag_rc mag_jwt_verify(const mag_jwt *j, const mag_jwt_key *key);

struct mag_jwt_claims_opts {
    const char *role_claim;       /* claim holding the role; NULL/"" = "sub" */
    const char *audience_claim;   /* NULL/"" = no audience check */
    const char *audience;         /* required audience when audience_claim is set */
};

/* Check the claims of a VERIFIED token and extract the role. Checks, in Pulsar/JJWT terms:
 * "exp" (if present) must be a number and now_ms <= exp*1000; "nbf" (if present) a number and
 * now_ms >= nbf*1000; the audience claim (if configured) a string equal to the audience or an
 * array containing it; the role claim a non-empty string, or an array whose first element is one.
 * @param role  on success the role is APPENDED (not NUL-terminated; use mag_buf_cstr)
 * @param why   if not NULL, receives a static description of the failed check (for server-side
 *              debug logs only; never send it to the client)
 * @return MAG_OK or MAG_ERR_AUTH */
mag_rc mag_jwt_check_claims(const mag_jwt *j, const struct mag_jwt_claims_opts *o, int64_t now_ms,
                            mag_buf *role, const char **why);

/* Sign claims_json (a JSON object text, used verbatim) with alg and key, appending the compact
 * token to out. The header is {"alg":"<alg>"} as JJWT writes it.
 * @return MAG_OK; MAG_ERR_CONFIG when key does not accept alg or cannot sign (public key);
 *         MAG_ERR_INTERNAL on an OpenSSL failure. out is unchanged on error. */
mag_rc mag_jwt_sign(mag_buf *out, mag_jwt_alg alg, const mag_jwt_key *key, const char *claims_json,
                    size_t len);

#endif /* MAG_AUTH_JWT_H */
