/* tls.c -- build the server SSL_CTX from Pulsar-style TLS settings (see mag/net/tls.h).
 *
 * Everything that can be wrong with the settings is found here, at startup, and reported with
 * the setting's name: unreadable files, a key that does not match the certificate, unknown
 * protocol or cipher names, protocol and cipher lists that leave nothing to negotiate. The
 * per-connection work (SSL_new, the handshake) happens in the net layer through libevent's
 * bufferevent_openssl, so a slow or failing handshake never blocks the loop.
 */
#include "mag/net/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "mag/util/alloc.h"

struct mag_tls {
    SSL_CTX *ctx;
};

/* Append "<what>: <first OpenSSL error>" to err and clear the error queue. */
static void tls_error(mag_buf *err, const char *what)
{
    unsigned long e = ERR_get_error();
    char text[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, text, sizeof text);
    ERR_clear_error();
    if (err)
        mag_buf_appendf(err, "%s: %s", what, text);
}

static void trim(const char **s, size_t *len)
{
    while (*len && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
        (*len)--;
}

/* Calls fn(item, ctx) for each non-empty trimmed comma-separated item (NUL-terminated copy).
 * Stops at the first non-OK return. */
static mag_rc each_item(const char *list, mag_rc (*fn)(const char *item, void *ctx), void *ctx)
{
    mag_rc rc = MAG_OK;
    const char *p = list;
    while (rc == MAG_OK && p && *p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *item = p;
        trim(&item, &len);
        if (len) {
            char *copy = mag_xmalloc(len + 1);
            memcpy(copy, item, len);
            copy[len] = '\0';
            rc = fn(copy, ctx);
            free(copy);
        }
        p = comma ? comma + 1 : NULL;
    }
    return rc;
}

struct proto_scan {
    int min, max;       /* 0 = none seen yet */
    mag_buf *err;
};

static mag_rc scan_protocol(const char *item, void *arg)
{
    static const struct { const char *name; int version; } names[] = {
        { "TLSv1", TLS1_VERSION },     { "TLSv1.1", TLS1_1_VERSION },
        { "TLSv1.2", TLS1_2_VERSION }, { "TLSv1.3", TLS1_3_VERSION },
    };
    struct proto_scan *ps = arg;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(item, names[i].name) != 0)
            continue;
        int v = names[i].version;
        if (!ps->min || v < ps->min)
            ps->min = v;
        if (!ps->max || v > ps->max)
            ps->max = v;
        return MAG_OK;
    }
    if (ps->err)
        mag_buf_appendf(ps->err, "tlsProtocols: unknown protocol '%s' (use TLSv1.2, TLSv1.3, ...)",
                        item);
    return MAG_ERR_CONFIG;
}

struct cipher_scan {
    SSL_CTX *ctx;
    mag_buf tls13;      /* ':'-joined TLS 1.3 suites */
    mag_buf legacy;     /* ':'-joined OpenSSL names for TLS <= 1.2 */
    mag_buf *err;
};

static bool is_tls13_suite(const char *name)
{
    return strncmp(name, "TLS_AES_", 8) == 0 || strncmp(name, "TLS_CHACHA20_", 13) == 0;
}

static mag_rc scan_cipher(const char *item, void *arg)
{
    struct cipher_scan *cs = arg;
    if (is_tls13_suite(item)) {
        if (!SSL_CTX_set_ciphersuites(cs->ctx, item)) {
            ERR_clear_error();
            if (cs->err)
                mag_buf_appendf(cs->err, "tlsCiphers: unknown TLS 1.3 cipher suite '%s'", item);
            return MAG_ERR_CONFIG;
        }
        if (cs->tls13.len)
            mag_buf_append_byte(&cs->tls13, ':');
        mag_buf_append_str(&cs->tls13, item);
        return MAG_OK;
    }
    /* IANA/Java spelling -> OpenSSL spelling; "(NONE)" when it is not an IANA name. */
    const char *name = OPENSSL_cipher_name(item);
    if (!name || strcmp(name, "(NONE)") == 0)
        name = item;
    if (!SSL_CTX_set_cipher_list(cs->ctx, name)) {
        ERR_clear_error();
        if (cs->err)
            mag_buf_appendf(cs->err, "tlsCiphers: unknown cipher '%s'", item);
        return MAG_ERR_CONFIG;
    }
    if (cs->legacy.len)
        mag_buf_append_byte(&cs->legacy, ':');
    mag_buf_append_str(&cs->legacy, name);
    return MAG_OK;
}

/* tlsAllowInsecureConnection: a presented client certificate is accepted even if it does not
 * verify (the handshake still requires one when tlsRequireTrustedClientCertOnConnect). */
static int verify_accept_any(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1;
}

/* Offer HTTP/1.1 to ALPN clients (WebSocket upgrades need it); no overlap -> no ALPN at all. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char http11[] = { 8, 'h', 't', 't', 'p', '/', '1', '.', '1' };
    unsigned char *sel = NULL;
    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, http11, sizeof http11, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static bool empty(const char *s)
{
    return !s || !*s;
}

static mag_rc setup_protocols_and_ciphers(SSL_CTX *ctx, const struct mag_tls_opts *o, mag_buf *err)
{
    struct proto_scan ps = { 0, 0, err };
    if (!empty(o->protocols) && each_item(o->protocols, scan_protocol, &ps) != MAG_OK)
        return MAG_ERR_CONFIG;
    int min = ps.min ? ps.min : TLS1_2_VERSION;
    int max = ps.max ? ps.max : TLS1_3_VERSION;

    mag_rc rc = MAG_OK;
    struct cipher_scan cs = { ctx, MAG_BUF_INIT, MAG_BUF_INIT, err };
    if (!empty(o->ciphers)) {
        rc = each_item(o->ciphers, scan_cipher, &cs);
        if (rc != MAG_OK)
            goto out;
        /* Only the listed suites: a version with none of them listed is switched off. */
        if (cs.legacy.len == 0 && cs.tls13.len > 0 && min < TLS1_3_VERSION)
            min = TLS1_3_VERSION;
        if (cs.tls13.len == 0 && cs.legacy.len > 0 && max > TLS1_2_VERSION)
            max = TLS1_2_VERSION;
        if ((cs.tls13.len && !SSL_CTX_set_ciphersuites(ctx, mag_buf_cstr(&cs.tls13))) ||
            (cs.legacy.len && !SSL_CTX_set_cipher_list(ctx, mag_buf_cstr(&cs.legacy)))) {
            tls_error(err, "tlsCiphers");
            rc = MAG_ERR_CONFIG;
            goto out;
        }
    }
    if (min > max) {
        if (err)
            mag_buf_append_str(err, "tlsProtocols/tlsCiphers: no protocol version is left that "
                                    "can use the listed ciphers");
        rc = MAG_ERR_CONFIG;
        goto out;
    }
    if (!SSL_CTX_set_min_proto_version(ctx, min) || !SSL_CTX_set_max_proto_version(ctx, max)) {
        tls_error(err, "tlsProtocols");
        rc = MAG_ERR_CONFIG;
    }
out:
    mag_buf_free(&cs.tls13);
    mag_buf_free(&cs.legacy);
    return rc;
}

static mag_rc setup_client_auth(SSL_CTX *ctx, const struct mag_tls_opts *o, mag_buf *err)
{
    bool trust = !empty(o->trust_certs_file);
    if (o->require_client_cert && !trust && !o->allow_insecure) {
        if (err)
            mag_buf_append_str(err, "tlsRequireTrustedClientCertOnConnect=true needs "
                                    "tlsTrustCertsFilePath (or tlsAllowInsecureConnection=true)");
        return MAG_ERR_CONFIG;
    }
    if (trust) {
        if (!SSL_CTX_load_verify_file(ctx, o->trust_certs_file)) {
            char what[1100];
            snprintf(what, sizeof what, "tlsTrustCertsFilePath '%s': cannot load CA certificates",
                     o->trust_certs_file);
            tls_error(err, what);
            return MAG_ERR_CONFIG;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->trust_certs_file);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);   /* takes ownership */
        ERR_clear_error();
    }
    int mode = SSL_VERIFY_NONE;
    if (trust || o->require_client_cert)
        mode = SSL_VERIFY_PEER;
    if (o->require_client_cert)
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, o->allow_insecure ? verify_accept_any : NULL);
    return MAG_OK;
}

mag_rc mag_tls_new(const struct mag_tls_opts *o, mag_tls **out, mag_buf *err)
{
    mag_rc rc = MAG_ERR_CONFIG;
    char what[1100];
    *out = NULL;
    if (empty(o->cert_file) || empty(o->key_file)) {
        if (err)
            mag_buf_append_str(err, "tlsEnabled=true needs tlsCertificateFilePath and "
                                    "tlsKeyFilePath");
        return MAG_ERR_CONFIG;
    }
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        tls_error(err, "cannot create the TLS context");
        return MAG_ERR_INTERNAL;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1) {
        snprintf(what, sizeof what, "tlsCertificateFilePath '%s': cannot load certificate chain",
                 o->cert_file);
        tls_error(err, what);
        goto out;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, o->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        bool mismatch = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
        snprintf(what, sizeof what, "tlsKeyFilePath '%s': cannot load private key", o->key_file);
        if (mismatch)
            snprintf(what, sizeof what, "tlsKeyFilePath '%s' does not match the certificate",
                     o->key_file);
        tls_error(err, what);
        goto out;
    }
    if (setup_protocols_and_ciphers(ctx, o, err) != MAG_OK)
        goto out;
    if (setup_client_auth(ctx, o, err) != MAG_OK)
        goto out;

    /* IGNORE_UNEXPECTED_EOF: a TCP close without close_notify is a plain EOF (OpenSSL 3 would
     * report a protocol error), as most WebSocket clients close that way. */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    /* Idle connections give their I/O buffers back; evbuffers may move between write retries. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    static const unsigned char sid_ctx[] = "magnetar";
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);

    mag_tls *t = mag_xcalloc(1, sizeof *t);
    t->ctx = ctx;
    ctx = NULL;
    *out = t;
    rc = MAG_OK;
out:
    SSL_CTX_free(ctx);
    return rc;
}

void mag_tls_free(mag_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

void *mag_tls_ssl_ctx(const mag_tls *t)
{
    return t->ctx;
}
