/* test_tls.c -- TLS context options (mag/net/tls.h) and the HTTP server's TLS listener.
 *
 * A throw-away PKI is made in memory with OpenSSL (CA, server cert for localhost/127.0.0.1,
 * trusted and untrusted client certs) and written to a temp dir. mag_tls_new is checked for
 * every configuration error it must report. Then a real server runs in-process (own loop
 * thread) with a plain and a TLS listener, and blocking OpenSSL clients check: HTTPS and a
 * WebSocket echo over TLS, certificate verification by the client, protocol restriction, mTLS
 * (required / untrusted / allowed insecure), a stalled handshake that neither blocks another
 * client nor outlives the handshake timeout, plain bytes sent to the TLS port, the close_notify
 * after a WebSocket close, and Close 1001 delivered over TLS at shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mag/codec/ws_frame.h"
#include "mag/net/http_server.h"
#include "mag/net/tls.h"
#include "mag_test.h"

/* ---------------------------------------------------------------- test PKI */

static char g_dir[64];
static char p_ca[128], p_srv_cert[128], p_srv_key[128], p_cli_cert[128], p_cli_key[128],
    p_bad_cert[128], p_bad_key[128], p_other_key[128];

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
    FILE *f = fopen(path, "w");
    if (cert)
        PEM_write_X509(f, cert);
    if (key)
        PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    X509_add_ext(cert, ex, -1);
    X509_EXTENSION_free(ex);
}

/* A certificate for key, signed by issuer/ikey (self-signed when issuer is NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey, bool ca,
                       const char *san, const char *eku)
{
    static long serial = 1;
    X509 *c = X509_new();
    X509_set_version(c, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c), 86400);
    X509_set_pubkey(c, key);
    X509_NAME *name = X509_get_subject_name(c);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
    X509 *iss = issuer ? issuer : c;
    add_ext(c, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_ext(c, iss, NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
    add_ext(c, iss, NID_subject_key_identifier, "hash");
    if (issuer)
        add_ext(c, iss, NID_authority_key_identifier, "keyid");
    if (san)
        add_ext(c, iss, NID_subject_alt_name, san);
    if (eku)
        add_ext(c, iss, NID_ext_key_usage, eku);
    X509_sign(c, issuer ? ikey : key, EVP_sha256());
    return c;
}

static void make_pki(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/mag-test-tls-XXXXXX");
    if (!mkdtemp(g_dir))
        exit(1);
#define P(var, name) snprintf(var, sizeof var, "%s/%s", g_dir, name)
    P(p_ca, "ca.pem");
    P(p_srv_cert, "server.pem");
    P(p_srv_key, "server.key");
    P(p_cli_cert, "client.pem");
    P(p_cli_key, "client.key");
    P(p_bad_cert, "bad.pem");
    P(p_bad_key, "bad.key");
    P(p_other_key, "other.key");
#undef P
    EVP_PKEY *cak = EVP_EC_gen("P-256"), *sk = EVP_EC_gen("P-256"), *ck = EVP_EC_gen("P-256");
    EVP_PKEY *bk = EVP_EC_gen("P-256"), *bcak = EVP_EC_gen("P-256"), *ok = EVP_EC_gen("P-256");
    X509 *ca = make_cert(cak, "Test CA", NULL, NULL, true, NULL, NULL);
    X509 *srv = make_cert(sk, "localhost", ca, cak, false, "DNS:localhost,IP:127.0.0.1",
                          "serverAuth");
    X509 *cli = make_cert(ck, "client-user", ca, cak, false, NULL, "clientAuth");
    X509 *bca = make_cert(bcak, "Other CA", NULL, NULL, true, NULL, NULL);
    X509 *bad = make_cert(bk, "intruder", bca, bcak, false, NULL, "clientAuth");
    write_pem(p_ca, ca, NULL);
    write_pem(p_srv_cert, srv, NULL);
    write_pem(p_srv_key, NULL, sk);
    write_pem(p_cli_cert, cli, NULL);
    write_pem(p_cli_key, NULL, ck);
    write_pem(p_bad_cert, bad, NULL);
    write_pem(p_bad_key, NULL, bk);
    write_pem(p_other_key, NULL, ok);
    X509 *certs[] = { ca, srv, cli, bca, bad };
    for (size_t i = 0; i < 5; i++)
        X509_free(certs[i]);
    EVP_PKEY *keys[] = { cak, sk, ck, bk, bcak, ok };
    for (size_t i = 0; i < 6; i++)
        EVP_PKEY_free(keys[i]);
}

/* ---------------------------------------------------------------- mag_tls_new errors */

static void expect_tls_error(const struct mag_tls_opts *o, const char *fragment)
{
    mag_tls *t = (mag_tls *)1;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_tls_new(o, &t, &err), MAG_ERR_CONFIG);
    CHECK(t == NULL);
    if (!strstr(mag_buf_cstr(&err), fragment))
        fprintf(stderr, "expected '%s' in: %s\n", fragment, mag_buf_cstr(&err));
    CHECK(strstr(mag_buf_cstr(&err), fragment) != NULL);
    mag_buf_free(&err);
}

static struct mag_tls_opts base_opts(void)
{
    struct mag_tls_opts o = { 0 };
    o.cert_file = p_srv_cert;
    o.key_file = p_srv_key;
    return o;
}

MAG_TEST(context_errors)
{
    struct mag_tls_opts o = { 0 };
    expect_tls_error(&o, "needs tlsCertificateFilePath and tlsKeyFilePath");
    o = base_opts();
    o.cert_file = "/nonexistent/cert.pem";
    expect_tls_error(&o, "tlsCertificateFilePath '/nonexistent/cert.pem': cannot load");
    o = base_opts();
    o.key_file = "/nonexistent/key.pem";
    expect_tls_error(&o, "tlsKeyFilePath '/nonexistent/key.pem': cannot load private key");
    o = base_opts();
    o.key_file = p_other_key;
    expect_tls_error(&o, "does not match the certificate");
    o = base_opts();
    o.protocols = "TLSv1.3,SSLv3";
    expect_tls_error(&o, "tlsProtocols: unknown protocol 'SSLv3'");
    o = base_opts();
    o.ciphers = "TLS_AES_128_GCM_SHA256, NOT_A_CIPHER";
    expect_tls_error(&o, "tlsCiphers: unknown cipher 'NOT_A_CIPHER'");
    o = base_opts();
    o.protocols = "TLSv1.2";
    o.ciphers = "TLS_AES_256_GCM_SHA384";
    expect_tls_error(&o, "no protocol version is left");
    o = base_opts();
    o.require_client_cert = true;
    expect_tls_error(&o, "needs tlsTrustCertsFilePath");
    o = base_opts();
    o.trust_certs_file = "/nonexistent/ca.pem";
    expect_tls_error(&o, "tlsTrustCertsFilePath '/nonexistent/ca.pem': cannot load");

    /* Valid: IANA and OpenSSL cipher names, both protocol spellings, client CA. */
    o = base_opts();
    o.protocols = " TLSv1.3 , tlsv1.2 ";
    o.ciphers = "TLS_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,"
                "ECDHE-ECDSA-AES256-GCM-SHA384";
    o.trust_certs_file = p_ca;
    o.require_client_cert = true;
    mag_tls *t = NULL;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_tls_new(&o, &t, &err), MAG_OK);
    CHECK(t != NULL && mag_tls_ssl_ctx(t) != NULL);
    CHECK_EQ_INT(err.len, 0);
    SSL_CTX *ctx = mag_tls_ssl_ctx(t);
    CHECK_EQ_INT(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
    CHECK_EQ_INT(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
    CHECK_EQ_INT(SSL_CTX_get_verify_mode(ctx), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
    mag_tls_free(t);
    mag_tls_free(NULL);
    mag_buf_free(&err);
}

/* ---------------------------------------------------------------- server (loop thread) */

static struct event_base *g_base;
static mag_http_server *g_srv;
static pthread_t g_thread;
static mag_tls *g_tls;

static void on_text(void *ctx, mag_ws *ws, const char *data, size_t len)
{
    (void)ctx;
    mag_ws_send_text(ws, data, len);
}

static void on_close(void *ctx, mag_ws *ws)
{
    (void)ctx;
    (void)ws;
}

static const struct mag_ws_handler echo = { on_text, NULL, on_close, NULL };

static void on_request(void *ctx, mag_http_exchange *ex)
{
    (void)ctx;
    if (strcmp(mag_http_path(ex), "/ws") == 0) {
        mag_http_upgrade(ex, &echo, NULL);
        return;
    }
    mag_http_respond(ex, 200, "text/plain", "hello", 5, NULL);
}

static void *loop_main(void *arg)
{
    (void)arg;
    event_base_loop(g_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static void start(struct mag_tls_opts *to, int *port, int *tls_port)
{
    mag_buf err = MAG_BUF_INIT;
    if (mag_tls_new(to, &g_tls, &err) != MAG_OK) {
        fprintf(stderr, "tls: %s\n", mag_buf_cstr(&err));
        exit(1);
    }
    mag_buf_free(&err);
    struct mag_http_server_opts o;
    mag_http_server_opts_init(&o);
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.tls = g_tls;
    o.tls_port = 0;
    o.handshake_timeout_ms = 700;
    g_base = event_base_new();
    mag_rc rc;
    g_srv = mag_http_server_new(g_base, &o, on_request, NULL, &rc);
    if (!g_srv)
        exit(1);
    *port = mag_http_server_port(g_srv);
    *tls_port = mag_http_server_tls_port(g_srv);
    pthread_create(&g_thread, NULL, loop_main, NULL);
}

static void stop(void)
{
    event_base_loopexit(g_base, NULL);
    pthread_join(g_thread, NULL);
    mag_http_server_free(g_srv);
    event_base_free(g_base);
    mag_tls_free(g_tls);
    g_srv = NULL;
    g_base = NULL;
    g_tls = NULL;
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    mag_http_server_shutdown(g_srv);
}

/* ---------------------------------------------------------------- clients */

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        exit(1);
    }
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

struct client {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
};

/* TLS client verifying the server against the test CA (host "localhost"); cert/key optional.
 * max_version 0 = any. Returns true when the handshake succeeded. */
static bool tls_open(struct client *c, int port, const char *cert, const char *key, int max_version)
{
    c->fd = tcp_connect(port);
    c->ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_file(c->ctx, p_ca);
    SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
    if (max_version)
        SSL_CTX_set_max_proto_version(c->ctx, max_version);
    if (cert) {
        SSL_CTX_use_certificate_file(c->ctx, cert, SSL_FILETYPE_PEM);
        SSL_CTX_use_PrivateKey_file(c->ctx, key, SSL_FILETYPE_PEM);
    }
    c->ssl = SSL_new(c->ctx);
    SSL_set_tlsext_host_name(c->ssl, "localhost");
    SSL_set1_host(c->ssl, "localhost");
    SSL_set_fd(c->ssl, c->fd);
    bool ok = SSL_connect(c->ssl) == 1;
    ERR_clear_error();
    return ok;
}

static void tls_close(struct client *c)
{
    SSL_free(c->ssl);
    SSL_CTX_free(c->ctx);
    close(c->fd);
}

static void tls_send(struct client *c, const void *p, size_t n)
{
    SSL_write(c->ssl, p, (int)n);
}

/* Read until "\r\n\r\n" + Content-Length body or EOF; NUL-terminated. Returns bytes or -1. */
static int tls_read_response(struct client *c, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        int r = SSL_read(c->ssl, buf + n, 1);
        if (r <= 0) {
            ERR_clear_error();
            break;
        }
        n++;
        buf[n] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end) {
            const char *cl = strstr(buf, "Content-Length: ");
            size_t want = (size_t)(end + 4 - buf) + (cl ? (size_t)atol(cl + 16) : 0);
            if (n >= want)
                return (int)n;
        }
    }
    buf[n] = '\0';
    return n ? (int)n : -1;
}

static void tls_frame(struct client *c, uint8_t b0, const void *payload, size_t len)
{
    static const uint8_t mask[4] = { 1, 2, 3, 4 };
    uint8_t f[256];
    size_t n = mag_ws_frame_header_write(f, true, 0, len);
    f[0] = b0;
    f[1] |= 0x80;
    memcpy(f + n, mask, 4);
    n += 4;
    memcpy(f + n, payload, len);
    mag_ws_unmask(f + n, len, mask, 0);
    tls_send(c, f, n + len);
}

/* One unfragmented short server frame: returns opcode byte, payload into buf. */
static int tls_read_frame(struct client *c, uint8_t *buf, size_t *len)
{
    uint8_t h[2];
    if (SSL_read(c->ssl, h, 1) != 1 || SSL_read(c->ssl, h + 1, 1) != 1) {
        ERR_clear_error();
        return -1;
    }
    size_t n = h[1] & 0x7F, got = 0;
    while (got < n) {
        int r = SSL_read(c->ssl, buf + got, (int)(n - got));
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    *len = n;
    return h[0];
}

static bool http_hello(struct client *c)
{
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char buf[1024];
    tls_send(c, req, sizeof req - 1);
    return tls_read_response(c, buf, sizeof buf) > 0 && strncmp(buf, "HTTP/1.1 200 ", 13) == 0 &&
           strstr(buf, "\r\n\r\nhello") != NULL;
}

static bool ws_upgrade(struct client *c)
{
    static const char req[] =
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    char buf[1024];
    tls_send(c, req, sizeof req - 1);
    return tls_read_response(c, buf, sizeof buf) > 0 &&
           strncmp(buf, "HTTP/1.1 101 ", 13) == 0 &&
           strstr(buf, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL;
}

/* True when the server ends the TLS connection (close_notify, EOF or reset). */
static bool tls_ends(struct client *c)
{
    char tmp[256];
    for (int i = 0; i < 100; i++) {
        int r = SSL_read(c->ssl, tmp, sizeof tmp);
        if (r > 0)
            continue;
        int e = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        return e == SSL_ERROR_ZERO_RETURN || e == SSL_ERROR_SYSCALL || e == SSL_ERROR_SSL;
    }
    return false;
}

/* ---------------------------------------------------------------- server tests */

MAG_TEST(https_and_wss)
{
    struct mag_tls_opts to = base_opts();
    int port, tport;
    start(&to, &port, &tport);
    CHECK(tport > 0 && tport != port);

    struct client c;
    CHECK(tls_open(&c, tport, NULL, NULL, 0));
    CHECK_EQ_INT(SSL_get_verify_result(c.ssl), X509_V_OK);
    CHECK(http_hello(&c));
    CHECK(http_hello(&c));   /* keep-alive */
    tls_close(&c);

    CHECK(tls_open(&c, tport, NULL, NULL, 0));
    CHECK(ws_upgrade(&c));
    tls_frame(&c, 0x81, "over tls", 8);
    uint8_t buf[256];
    size_t n = 0;
    CHECK_EQ_INT(tls_read_frame(&c, buf, &n), 0x81);
    CHECK(n == 8 && memcmp(buf, "over tls", 8) == 0);
    /* Close handshake: Close echoed, then close_notify (a clean TLS EOF), then TCP EOF. */
    uint8_t code[2] = { 0x03, 0xE8 };
    tls_frame(&c, 0x88, code, 2);
    CHECK_EQ_INT(tls_read_frame(&c, buf, &n), 0x88);
    CHECK(n == 2 && buf[0] == 0x03 && buf[1] == 0xE8);
    int r = SSL_read(c.ssl, buf, sizeof buf);
    CHECK_EQ_INT(r, 0);
    CHECK_EQ_INT(SSL_get_error(c.ssl, r), SSL_ERROR_ZERO_RETURN);
    ERR_clear_error();
    tls_close(&c);

    /* Plain listener still speaks plain HTTP; the TLS port refuses plaintext. */
    int fd = tcp_connect(port);
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send(fd, req, sizeof req - 1, 0);
    char resp[512] = { 0 };
    ssize_t got = recv(fd, resp, sizeof resp - 1, MSG_WAITALL);
    CHECK(got > 0 && strncmp(resp, "HTTP/1.1 200 ", 13) == 0);
    close(fd);
    fd = tcp_connect(tport);
    send(fd, req, sizeof req - 1, 0);
    memset(resp, 0, sizeof resp);
    got = recv(fd, resp, sizeof resp - 1, 0);
    CHECK(got <= 0 || strncmp(resp, "HTTP/1.1", 8) != 0);
    close(fd);

    /* A client that does not trust the server's CA fails verification. */
    struct client u;
    u.fd = tcp_connect(tport);
    u.ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(u.ctx, SSL_VERIFY_PEER, NULL);
    u.ssl = SSL_new(u.ctx);
    SSL_set_fd(u.ssl, u.fd);
    CHECK(SSL_connect(u.ssl) != 1);
    ERR_clear_error();
    tls_close(&u);
    stop();
}

MAG_TEST(stalled_handshake)
{
    struct mag_tls_opts to = base_opts();
    int port, tport;
    start(&to, &port, &tport);
    /* A client that connects and sends half a ClientHello, then nothing. */
    int stall = tcp_connect(tport);
    static const uint8_t partial[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00 };
    send(stall, partial, sizeof partial, 0);
    int idle = tcp_connect(tport);   /* and one that sends nothing at all */
    long t0 = (long)time(NULL);
    struct client c;
    CHECK(tls_open(&c, tport, NULL, NULL, 0));   /* not blocked by the two above */
    CHECK(http_hello(&c));
    tls_close(&c);
    /* Both are dropped by the handshake timer (700 ms). */
    char b;
    CHECK(recv(stall, &b, 1, 0) <= 0);
    CHECK(recv(idle, &b, 1, 0) <= 0);
    CHECK((long)time(NULL) - t0 <= 2);
    close(stall);
    close(idle);
    stop();
}

MAG_TEST(protocol_restriction)
{
    struct mag_tls_opts to = base_opts();
    to.protocols = "TLSv1.2";
    int port, tport;
    start(&to, &port, &tport);
    struct client c;
    CHECK(tls_open(&c, tport, NULL, NULL, 0));
    CHECK_EQ_INT(SSL_version(c.ssl), TLS1_2_VERSION);
    CHECK(http_hello(&c));
    tls_close(&c);
    stop();

    to = base_opts();
    to.protocols = "TLSv1.3";
    start(&to, &port, &tport);
    CHECK(!tls_open(&c, tport, NULL, NULL, TLS1_2_VERSION));   /* client capped at 1.2 */
    tls_close(&c);
    CHECK(tls_open(&c, tport, NULL, NULL, 0));
    CHECK_EQ_INT(SSL_version(c.ssl), TLS1_3_VERSION);
    tls_close(&c);
    stop();
}

/* Handshake + one request; in TLS 1.3 a refused client certificate shows at the first read. */
static bool mtls_works(int tport, const char *cert, const char *key)
{
    struct client c;
    bool ok = tls_open(&c, tport, cert, key, 0) && http_hello(&c);
    tls_close(&c);
    return ok;
}

MAG_TEST(mutual_tls)
{
    struct mag_tls_opts to = base_opts();
    to.trust_certs_file = p_ca;
    to.require_client_cert = true;
    int port, tport;
    start(&to, &port, &tport);
    CHECK(!mtls_works(tport, NULL, NULL));
    CHECK(!mtls_works(tport, p_bad_cert, p_bad_key));
    CHECK(mtls_works(tport, p_cli_cert, p_cli_key));
    stop();

    /* Trust file without "require": no certificate is fine, an untrusted one is not. */
    to.require_client_cert = false;
    start(&to, &port, &tport);
    CHECK(mtls_works(tport, NULL, NULL));
    CHECK(!mtls_works(tport, p_bad_cert, p_bad_key));
    CHECK(mtls_works(tport, p_cli_cert, p_cli_key));
    stop();

    /* tlsAllowInsecureConnection: the untrusted certificate is accepted. */
    to.require_client_cert = true;
    to.allow_insecure = true;
    start(&to, &port, &tport);
    CHECK(mtls_works(tport, p_bad_cert, p_bad_key));
    CHECK(!mtls_works(tport, NULL, NULL));
    stop();
}

MAG_TEST(shutdown_sends_close_over_tls)
{
    struct mag_tls_opts to = base_opts();
    int port, tport;
    start(&to, &port, &tport);
    struct client c;
    CHECK(tls_open(&c, tport, NULL, NULL, 0));
    CHECK(ws_upgrade(&c));
    struct timeval tv = { 0, 0 };
    event_base_once(g_base, -1, EV_TIMEOUT, shutdown_cb, NULL, &tv);
    uint8_t buf[256];
    size_t n = 0;
    CHECK_EQ_INT(tls_read_frame(&c, buf, &n), 0x88);
    CHECK(n >= 2 && buf[0] == 0x03 && buf[1] == 0xE9);   /* 1001 Going Away */
    CHECK(tls_ends(&c));
    tls_close(&c);
    stop();
}

int main(void)
{
    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);   /* clients write to connections the server has dropped */
    make_pki();
    RUN(context_errors);
    RUN(https_and_wss);
    RUN(stalled_handshake);
    RUN(protocol_restriction);
    RUN(mutual_tls);
    RUN(shutdown_sends_close_over_tls);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", g_dir);
    return mag_test_summary();
}
