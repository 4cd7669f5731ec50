/* magnetar-token.c -- mint and inspect Pulsar-compatible JWT tokens without a JVM.
 *
 * The commands mirror `pulsar tokens ...` so that Pulsar's documentation carries over:
 *   create-secret-key [--output FILE] [--base64] [--algorithm HS256|HS384|HS512]
 *   create-key-pair --output-private-key FILE --output-public-key FILE [--algorithm RS256|ES256..]
 *   create (--secret-key KEY | --private-key KEY) --subject ROLE [--expiry-time 1h] [--algorithm A]
 *   show TOKEN|-
 *   validate (--secret-key KEY | --public-key KEY [--algorithm A]) TOKEN|-
 * KEY takes the same forms as the server's tokenSecretKey/tokenPublicKey (file:///path,
 * data:;base64,..., a path, bare base64). Keys are written as Pulsar writes them: a raw secret,
 * DER PKCS#8 private keys and DER X.509 SubjectPublicKeyInfo public keys (file mode 0600 for
 * secrets). Exit status: 0 ok, 1 failure (invalid token, unreadable key), 2 usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "mag/auth/jwt.h"
#include "mag/auth/token.h"
#include "mag/util/base64.h"
#include "mag/util/buf.h"

static const char USAGE[] =
    "usage: magnetar-token COMMAND [OPTIONS]\n"
    "  create-secret-key [--output FILE] [--base64] [--algorithm HS256|HS384|HS512]\n"
    "      random HMAC secret (raw bytes; --base64 prints base64 for tokenSecretKey=data:;base64,...)\n"
    "  create-key-pair --output-private-key FILE --output-public-key FILE [--algorithm ALG]\n"
    "      RSA 2048 (RS256/384/512, PS256/384/512; default RS256) or EC (ES256/384/512) key pair,\n"
    "      DER PKCS#8 private key and DER X.509 public key, as Pulsar writes them\n"
    "  create (--secret-key KEY | --private-key KEY) --subject ROLE [--expiry-time N[s|m|h|d|w|y]]\n"
    "         [--algorithm ALG]\n"
    "      print a signed token for ROLE (claim \"sub\")\n"
    "  show TOKEN|-\n"
    "      print the token's header and claims without verifying it\n"
    "  validate (--secret-key KEY | --public-key KEY [--algorithm ALG]) TOKEN|-\n"
    "      verify signature, exp and nbf; print the claims; exit 1 if invalid\n"
    "KEY: file:///path, data:;base64,<base64>, a file path, or bare base64 (as the server takes).\n"
    "TOKEN '-' reads the token from standard input.\n";

struct args {
    const char *output, *private_out, *public_out;
    const char *secret_key, *private_key, *public_key;
    const char *subject, *expiry, *algorithm, *token;
    int base64;
};

static int usage_error(const char *msg)
{
    fprintf(stderr, "magnetar-token: %s\n%s", msg, USAGE);
    return 2;
}

static int fail(const char *what, const char *detail)
{
    fprintf(stderr, "magnetar-token: %s%s%s\n", what, detail && *detail ? ": " : "",
            detail ? detail : "");
    return 1;
}

/* Parse argv[2..]: options with a value, --base64, and at most one positional (the token). */
static int parse_args(int argc, char **argv, struct args *a)
{
    static const struct { const char *name; size_t off; } opts[] = {
        { "--output", offsetof(struct args, output) },
        { "--output-private-key", offsetof(struct args, private_out) },
        { "--output-public-key", offsetof(struct args, public_out) },
        { "--secret-key", offsetof(struct args, secret_key) },
        { "--private-key", offsetof(struct args, private_key) },
        { "--public-key", offsetof(struct args, public_key) },
        { "--subject", offsetof(struct args, subject) },
        { "--expiry-time", offsetof(struct args, expiry) },
        { "--algorithm", offsetof(struct args, algorithm) },
    };
    memset(a, 0, sizeof *a);
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--base64") == 0) {
            a->base64 = 1;
            continue;
        }
        size_t k;
        for (k = 0; k < sizeof opts / sizeof opts[0]; k++)
            if (strcmp(arg, opts[k].name) == 0)
                break;
        if (k < sizeof opts / sizeof opts[0]) {
            if (i + 1 >= argc) {
                fprintf(stderr, "magnetar-token: %s needs a value\n", arg);
                return -1;
            }
            *(const char **)((char *)a + opts[k].off) = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "magnetar-token: unknown option %s\n", arg);
            return -1;
        } else if (!a->token) {
            a->token = arg;
        } else {
            fprintf(stderr, "magnetar-token: unexpected argument %s\n", arg);
            return -1;
        }
    }
    return 0;
}

/* Write len bytes to path (mode 0600 if secret) or stdout when path is NULL. */
static int write_out(const char *path, const void *data, size_t len, int secret)
{
    if (!path)
        return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, secret ? 0600 : 0644);
    if (fd < 0)
        return -1;
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            close(fd);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return close(fd);
}

static int cmd_create_secret_key(const struct args *a)
{
    mag_jwt_alg alg = a->algorithm ? mag_jwt_alg_from_name(a->algorithm) : MAG_JWT_HS256;
    if (alg != MAG_JWT_HS256 && alg != MAG_JWT_HS384 && alg != MAG_JWT_HS512)
        return usage_error("create-secret-key: --algorithm must be HS256, HS384 or HS512");
    size_t n = alg == MAG_JWT_HS256 ? 32 : alg == MAG_JWT_HS384 ? 48 : 64;
    unsigned char key[64];
    if (RAND_bytes(key, (int)n) != 1)
        return fail("cannot get random bytes", NULL);
    mag_buf out = MAG_BUF_INIT;
    if (a->base64) {
        mag_base64_encode(&out, key, n);
        mag_buf_append_byte(&out, '\n');
    } else {
        mag_buf_append(&out, key, n);
    }
    OPENSSL_cleanse(key, sizeof key);
    int rc = write_out(a->output, out.data, out.len, 1);
    OPENSSL_cleanse(out.data, out.len);
    mag_buf_free(&out);
    return rc == 0 ? 0 : fail("cannot write the key", a->output ? strerror(errno) : NULL);
}

static EVP_PKEY *generate_pair(mag_jwt_alg alg)
{
    switch (alg) {
    case MAG_JWT_ES256: return EVP_EC_gen("P-256");
    case MAG_JWT_ES384: return EVP_EC_gen("P-384");
    case MAG_JWT_ES512: return EVP_EC_gen("P-521");
    default: return EVP_RSA_gen(2048);
    }
}

static int cmd_create_key_pair(const struct args *a)
{
    if (!a->private_out || !a->public_out)
        return usage_error("create-key-pair needs --output-private-key and --output-public-key");
    mag_jwt_alg alg = a->algorithm ? mag_jwt_alg_from_name(a->algorithm) : MAG_JWT_RS256;
    if (alg == MAG_JWT_ALG_UNKNOWN || alg <= MAG_JWT_HS512)
        return usage_error("create-key-pair: --algorithm must be RS*, PS* or ES*");
    int rc = 1;
    unsigned char *pub = NULL;
    BIO *mem = BIO_new(BIO_s_mem());
    EVP_PKEY *pk = generate_pair(alg);
    if (!pk || !mem) {
        rc = fail("cannot generate the key pair", NULL);
        goto out;
    }
    char *priv = NULL;
    long privlen = 0;
    int publen = i2d_PUBKEY(pk, &pub);
    if (i2d_PKCS8PrivateKey_bio(mem, pk, NULL, NULL, 0, NULL, NULL) != 1 ||
        (privlen = BIO_get_mem_data(mem, &priv)) <= 0 || publen <= 0) {
        rc = fail("cannot encode the key pair", NULL);
        goto out;
    }
    if (write_out(a->private_out, priv, (size_t)privlen, 1) != 0) {
        rc = fail("cannot write the private key", strerror(errno));
        goto out;
    }
    if (write_out(a->public_out, pub, (size_t)publen, 0) != 0) {
        rc = fail("cannot write the public key", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    OPENSSL_free(pub);
    BIO_free(mem);
    EVP_PKEY_free(pk);
    return rc;
}

/* "30", "30s", "10m", "1h", "2d", "1w", "1y" -> seconds; -1 if invalid. */
static long long parse_relative(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v < 0)
        return -1;
    long long mul = 1;
    if (*end) {
        if (end[1] != '\0')
            return -1;
        switch (*end) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        case 'w': mul = 7 * 86400; break;
        case 'y': mul = 365 * 86400; break;
        default: return -1;
        }
    }
    if (v > (1LL << 40) / mul)
        return -1;
    return v * mul;
}

static int cmd_create(const struct args *a)
{
    if (!a->subject || !*a->subject)
        return usage_error("create needs --subject");
    if (!!a->secret_key == !!a->private_key)
        return usage_error("create needs exactly one of --secret-key and --private-key");
    long long expiry = -1;
    if (a->expiry && (expiry = parse_relative(a->expiry)) < 0)
        return usage_error("--expiry-time must look like 3600, 30m, 12h, 7d, 1w or 1y");

    mag_jwt_key key;
    mag_jwt_key_init(&key);
    mag_buf err = MAG_BUF_INIT, tok = MAG_BUF_INIT;
    int rc = 1;
    mag_rc lr = a->secret_key ? mag_token_load_secret_key(a->secret_key, &key, &err)
                              : mag_token_load_private_key(a->private_key, &key, &err);
    if (lr != MAG_OK) {
        rc = fail("cannot load the key", mag_buf_cstr(&err));
        goto out;
    }
    mag_jwt_alg alg = a->algorithm ? mag_jwt_alg_from_name(a->algorithm)
                                   : mag_jwt_key_default_alg(&key);
    if (!mag_jwt_key_accepts(&key, alg)) {
        rc = usage_error("--algorithm does not fit the key");
        goto out;
    }
    cJSON *claims = cJSON_CreateObject();
    cJSON_AddStringToObject(claims, "sub", a->subject);
    if (expiry >= 0)
        cJSON_AddNumberToObject(claims, "exp", (double)((long long)time(NULL) + expiry));
    char *json = cJSON_PrintUnformatted(claims);
    cJSON_Delete(claims);
    if (!json || mag_jwt_sign(&tok, alg, &key, json, strlen(json)) != MAG_OK) {
        cJSON_free(json);
        rc = fail("cannot sign the token", NULL);
        goto out;
    }
    cJSON_free(json);
    printf("%s\n", mag_buf_cstr(&tok));
    rc = 0;
out:
    mag_jwt_key_cleanup(&key);
    mag_buf_free(&err);
    mag_buf_free(&tok);
    return rc;
}

/* The token argument, or a line from stdin for "-"; trailing whitespace removed. */
static int read_token(const char *arg, mag_buf *out)
{
    if (!arg)
        return -1;
    if (strcmp(arg, "-") != 0) {
        mag_buf_append_str(out, arg);
    } else {
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0 && out->len <= MAG_JWT_MAX_LEN)
            mag_buf_append(out, chunk, n);
    }
    while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r' ||
                        out->data[out->len - 1] == ' '))
        out->len--;
    return 0;
}

static int cmd_show(const struct args *a)
{
    mag_buf t = MAG_BUF_INIT;
    if (read_token(a->token, &t) != 0)
        return usage_error("show needs a token");
    mag_jwt j;
    mag_jwt_init(&j);
    int rc = 1;
    if (mag_jwt_parse(&j, (const char *)t.data, t.len) != MAG_OK) {
        rc = fail("not a well-formed signed JWT", NULL);
    } else {
        printf("%s\n---\n%s\n", mag_buf_cstr(&j.header_json), mag_buf_cstr(&j.claims_json));
        rc = 0;
    }
    mag_jwt_cleanup(&j);
    mag_buf_free(&t);
    return rc;
}

static int cmd_validate(const struct args *a)
{
    if (!!a->secret_key == !!a->public_key)
        return usage_error("validate needs exactly one of --secret-key and --public-key");
    mag_buf t = MAG_BUF_INIT, err = MAG_BUF_INIT, role = MAG_BUF_INIT;
    if (read_token(a->token, &t) != 0) {
        mag_buf_free(&t);
        return usage_error("validate needs a token");
    }
    mag_jwt_key key;
    mag_jwt_key_init(&key);
    mag_jwt j;
    mag_jwt_init(&j);
    int rc = 1;
    mag_rc lr = a->secret_key ? mag_token_load_secret_key(a->secret_key, &key, &err)
                              : mag_token_load_public_key(a->public_key, a->algorithm, &key, &err);
    const char *why = NULL;
    struct mag_jwt_claims_opts co = { "sub", NULL, NULL };
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (lr != MAG_OK)
        rc = fail("cannot load the key", mag_buf_cstr(&err));
    else if (mag_jwt_parse(&j, (const char *)t.data, t.len) != MAG_OK)
        rc = fail("invalid token", "not a well-formed signed JWT");
    else if (mag_jwt_verify(&j, &key) != MAG_OK)
        rc = fail("invalid token", "signature does not verify with this key and algorithm");
    else if (mag_jwt_check_claims(&j, &co, now_ms, &role, &why) != MAG_OK)
        rc = fail("invalid token", why);
    else {
        printf("%s\n", mag_buf_cstr(&j.claims_json));
        rc = 0;
    }
    mag_jwt_cleanup(&j);
    mag_jwt_key_cleanup(&key);
    mag_buf_free(&t);
    mag_buf_free(&err);
    mag_buf_free(&role);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct args a;
    if (parse_args(argc, argv, &a) != 0)
        return usage_error("bad arguments");
    const char *cmd = argv[1];
    if (strcmp(cmd, "create-secret-key") == 0)
        return cmd_create_secret_key(&a);
    if (strcmp(cmd, "create-key-pair") == 0)
        return cmd_create_key_pair(&a);
    if (strcmp(cmd, "create") == 0)
        return cmd_create(&a);
    if (strcmp(cmd, "show") == 0)
        return cmd_show(&a);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(&a);
    return usage_error("unknown command");
}
