/* token.h -- Pulsar's AuthenticationProviderToken: key loading and token authentication.
 *
 * Key settings take the values Pulsar accepts (AuthTokenUtils / the token provider):
 *   data:;base64,<base64>        the key bytes inline (also data:<type>;base64,... and
 *                                un-encoded data:,<percent-encoded bytes>)
 *   file:///path/to/key          a file (file:/path and file://localhost/path too)
 *   /path/to/key                 a path to an existing file
 *   <base64>                     the key bytes as bare base64 (standard or URL-safe alphabet)
 * A secret key is the raw HMAC secret (>= 256 bits, as Pulsar's Keys.hmacShaKeyFor requires).
 * A public key is DER X.509 SubjectPublicKeyInfo as Pulsar expects, or PEM for convenience; a
 * private key (token tool only) is DER PKCS#8 as Pulsar writes it, or PEM.
 * The authenticator reads no clock itself (the caller passes now_ms), so it is testable.
 */
#ifndef MAG_AUTH_TOKEN_H
#define MAG_AUTH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "mag/auth/jwt.h"
#include "mag/rc.h"
#include "mag/util/buf.h"

/* Largest key file read (bytes). */
#define MAG_TOKEN_MAX_KEY_FILE (1024 * 1024)

/* Read the bytes a key setting designates (see above).
 * @param out  the bytes are APPENDED
 * @param err  if not NULL, a one-line reason is APPENDED on failure (never the key itself)
 * @return MAG_OK, or MAG_ERR_CONFIG (unreadable file, bad base64, empty value...) */
mag_rc mag_token_read_key(const char *value, mag_buf *out, mag_buf *err);

/* Load tokenSecretKey-style value as an HMAC key. key must be initialised (mag_jwt_key_init).
 * @return MAG_OK or MAG_ERR_CONFIG (err as above, e.g. "key is 128 bits; HMAC keys need at
 *         least 256") */
mag_rc mag_token_load_secret_key(const char *value, mag_jwt_key *key, mag_buf *err);

/* Load a tokenPublicKey-style value. alg_name is tokenPublicAlg (NULL/"" = RS256): RS* and PS*
 * need an RSA key, ES* an EC key on the matching curve; HS* is an error. */
mag_rc mag_token_load_public_key(const char *value, const char *alg_name, mag_jwt_key *key,
                                 mag_buf *err);

/* Load a private key (RSA or EC), as `--private-key` of the token tool. */
mag_rc mag_token_load_private_key(const char *value, mag_jwt_key *key, mag_buf *err);

typedef struct mag_token_auth mag_token_auth;

struct mag_token_auth_opts {
    const char *secret_key;       /* tokenSecretKey; used when non-empty */
    const char *public_key;       /* tokenPublicKey; used when secret_key is empty */
    const char *public_alg;       /* tokenPublicAlg; NULL/"" = RS256 */
    const char *auth_claim;       /* tokenAuthClaim; NULL/"" = sub */
    const char *audience_claim;   /* tokenAudienceClaim; NULL/"" = "aud" when audience is set */
    const char *audience;         /* tokenAudience; NULL/"" = audience not checked */
};

/* Build an authenticator: loads the key now. All strings are copied or only used during the call.
 * @param out  receives the authenticator (caller frees with mag_token_auth_free)
 * @return MAG_OK, or MAG_ERR_CONFIG with a reason in err: no key configured, unreadable or weak
 *         key, wrong key type for tokenPublicAlg, tokenAudienceClaim without tokenAudience. */
mag_rc mag_token_auth_new(const struct mag_token_auth_opts *o, mag_token_auth **out, mag_buf *err);
void mag_token_auth_free(mag_token_auth *a);

/* Authenticate one token (the JWT itself, without "Bearer "): parse, verify the signature,
 * and only then check exp/nbf/audience and read the role. Every failure returns the same
 * MAG_ERR_AUTH; the checks after parsing run in a fixed order whatever fails.
 * @param role  the role is APPENDED on success
 * @param why   if not NULL, a static description of the failure for server-side debug logs
 * @return MAG_OK or MAG_ERR_AUTH */
mag_rc mag_token_authenticate(const mag_token_auth *a, const char *token, size_t len,
                              int64_t now_ms, mag_buf *role, const char **why);

#endif /* MAG_AUTH_TOKEN_H */
