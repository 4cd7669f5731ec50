/* ws_client.c -- the tools' blocking WebSocket client (see ws_client.h). */
#include "ws_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "mag/codec/http_request.h"
#include "mag/codec/ws_frame.h"
#include "mag/util/alloc.h"
#include "mag/util/base64.h"
#include "mag/util/buf.h"

volatile sig_atomic_t mag_wsc_interrupted;

void mag_wsc_on_sigint(int sig)
{
    (void)sig;
    mag_wsc_interrupted = 1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void fail_msg(struct mag_wsc *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail_msg(struct mag_wsc *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
}

/* The first OpenSSL error as text (and the certificate verdict when that was the cause). */
static void ssl_reason(struct mag_wsc *c, char *out, size_t cap)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(out, cap, "%s (%s)", e ? buf : "certificate verify failed",
                 X509_verify_cert_error_string(v));
    else
        snprintf(out, cap, "%s", e ? buf : "connection closed");
    ERR_clear_error();
}

/* ============================================================================================ */
/* URL and connection                                                                           */
/* ============================================================================================ */

/* http://, ws://, https://, wss:// HOST[:PORT][/prefix]; IPv6 hosts in brackets. */
bool mag_wsc_parse_url(struct mag_wsc *c, const char *url)
{
    const char *rest;
    if (strncasecmp(url, "ws://", 5) == 0 || strncasecmp(url, "http://", 7) == 0) {
        c->tls = false;
        rest = strstr(url, "://") + 3;
    } else if (strncasecmp(url, "wss://", 6) == 0 || strncasecmp(url, "https://", 8) == 0) {
        c->tls = true;
        rest = strstr(url, "://") + 3;
    } else {
        return false;
    }
    const char *slash = strchr(rest, '/');
    size_t hp_len = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *port = NULL;
    size_t host_len;
    if (hp_len && rest[0] == '[') {
        const char *rb = memchr(rest, ']', hp_len);
        if (!rb)
            return false;
        host_len = (size_t)(rb - rest - 1);
        if (rb + 1 < rest + hp_len) {
            if (rb[1] != ':')
                return false;
            port = rb + 2;
        }
        rest++;
    } else {
        const char *colon = memchr(rest, ':', hp_len);
        host_len = colon ? (size_t)(colon - rest) : hp_len;
        if (colon)
            port = colon + 1;
    }
    if (host_len == 0 || host_len >= sizeof c->host)
        return false;
    memcpy(c->host, rest, host_len);
    c->host[host_len] = '\0';
    if (port) {
        size_t pl = (size_t)(url + strlen(url) - port);
        if (slash)
            pl = (size_t)(slash - port);
        if (pl == 0 || pl >= sizeof c->port || strspn(port, "0123456789") < pl)
            return false;
        memcpy(c->port, port, pl);
        c->port[pl] = '\0';
        if (atoi(c->port) < 1 || atoi(c->port) > 65535)
            return false;
    } else {
        snprintf(c->port, sizeof c->port, "%s", c->tls ? "443" : "80");
    }
    bool v6 = strchr(c->host, ':') != NULL;
    snprintf(c->where, sizeof c->where, "%s%s%s:%s", v6 ? "[" : "", c->host, v6 ? "]" : "", c->port);
    size_t plen = slash ? strlen(slash) : 0;
    while (plen && slash[plen - 1] == '/')
        plen--;
    if (plen >= sizeof c->prefix || (slash && strpbrk(slash, "?# ")))
        return false;
    memcpy(c->prefix, slash ? slash : "", plen);
    c->prefix[plen] = '\0';
    return true;
}

static int connect_one(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        if (errno != EINPROGRESS) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int r = poll(&p, 1, MAG_WSC_CONNECT_TIMEOUT_MS);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
            close(fd);
            errno = r == 0 ? ETIMEDOUT : soerr ? soerr : EIO;
            return -1;
        }
    }
    fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static bool tls_setup(struct mag_wsc *c)
{
    c->ctx = SSL_CTX_new(TLS_client_method());
    if (!c->ctx)
        return false;
    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
    if (!c->allow_insecure) {
        SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
        if (c->trust_certs ? SSL_CTX_load_verify_locations(c->ctx, c->trust_certs, NULL) != 1
                           : SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
            char r[300];
            ssl_reason(c, r, sizeof r);
            fail_msg(c, "cannot load the trusted certificates %s: %s",
                     c->trust_certs ? c->trust_certs : "(system default)", r);
            return false;
        }
    }
    if (c->cert_file || c->key_file) {
        if (!c->cert_file || !c->key_file) {
            fail_msg(c, "a client certificate needs both --tls-cert-file and --tls-key-file");
            return false;
        }
        if (SSL_CTX_use_certificate_chain_file(c->ctx, c->cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(c->ctx, c->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(c->ctx) != 1) {
            char r[300];
            ssl_reason(c, r, sizeof r);
            fail_msg(c, "cannot load the client certificate %s / key %s: %s", c->cert_file,
                     c->key_file, r);
            return false;
        }
    }
    c->ssl = SSL_new(c->ctx);
    SSL_set_fd(c->ssl, c->fd);
    unsigned char ip[16];
    bool is_ip = inet_pton(AF_INET, c->host, ip) == 1 || inet_pton(AF_INET6, c->host, ip) == 1;
    if (!is_ip)
        SSL_set_tlsext_host_name(c->ssl, c->host);
    if (!c->allow_insecure && c->verify_hostname) {
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        if (is_ip)
            X509_VERIFY_PARAM_set1_ip_asc(vp, c->host);
        else
            X509_VERIFY_PARAM_set1_host(vp, c->host, 0);
    }
    if (SSL_connect(c->ssl) != 1) {
        char r[300];
        ssl_reason(c, r, sizeof r);
        fail_msg(c, "TLS handshake with %s failed: %s", c->where, r);
        return false;
    }
    return true;
}

static bool net_connect(struct mag_wsc *c)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    int gai = getaddrinfo(c->host, c->port, &hints, &res);
    if (gai != 0) {
        fail_msg(c, "cannot resolve %s: %s", c->host, gai_strerror(gai));
        return false;
    }
    int err = 0;
    c->fd = -1;
    for (const struct addrinfo *ai = res; ai && c->fd < 0; ai = ai->ai_next) {
        c->fd = connect_one(ai);
        if (c->fd < 0)
            err = errno;
    }
    freeaddrinfo(res);
    if (c->fd < 0) {
        fail_msg(c, "cannot connect to %s: %s", c->where, strerror(err));
        return false;
    }
    return !c->tls || tls_setup(c);
}

static bool net_write(struct mag_wsc *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n;
        if (c->ssl) {
            int r = SSL_write(c->ssl, p, len > INT32_MAX ? INT32_MAX : (int)len);
            n = r > 0 ? r : -1;
        } else {
            n = send(c->fd, p, len, MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR)
                continue;
        }
        if (n <= 0) {
            char r[300];
            if (c->ssl) {
                /* The server's TLS alert (TLS 1.3 judges a client certificate after the
                   handshake, e.g. "certificate required") waits in the read direction. */
                uint8_t b;
                ERR_clear_error();
                SSL_read(c->ssl, &b, 1);
                ssl_reason(c, r, sizeof r);
            } else
                snprintf(r, sizeof r, "%s", strerror(errno));
            fail_msg(c, "write to %s failed: %s", c->where, r);
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    c->last_io_ms = now_ms();
    return true;
}

/* Append what arrives within timeout_ms to c->in. 1 data, 0 timeout, -1 error or EOF (c->err),
   -2 mag_wsc_interrupted (SIGINT). */
static int net_read(struct mag_wsc *c, int timeout_ms)
{
    if (!(c->ssl && SSL_pending(c->ssl) > 0)) {
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int r = poll(&p, 1, timeout_ms);
        if (r < 0)
            return errno == EINTR && mag_wsc_interrupted ? -2 : 0;
        if (r == 0)
            return mag_wsc_interrupted ? -2 : 0;
    }
    if (c->in_pos == c->in.len) {
        mag_buf_reset(&c->in);
        c->in_pos = 0;
    }
    mag_buf_reserve(&c->in, 65536);
    ssize_t n;
    if (c->ssl) {
        int r = SSL_read(c->ssl, c->in.data + c->in.len, 65536);
        if (r <= 0) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ)
                return 0;
            char why[300];
            ssl_reason(c, why, sizeof why);
            fail_msg(c, "connection to %s closed: %s", c->where,
                     e == SSL_ERROR_ZERO_RETURN ? "connection closed" : why);
            return -1;
        }
        n = r;
    } else {
        n = recv(c->fd, c->in.data + c->in.len, 65536, 0);
        if (n < 0 && errno == EINTR)
            return mag_wsc_interrupted ? -2 : 0;
        if (n <= 0) {
            fail_msg(c, "connection to %s closed%s%s", c->where, n ? ": " : "",
                     n ? strerror(errno) : "");
            return -1;
        }
    }
    c->in.len += (size_t)n;
    c->last_io_ms = now_ms();
    return 1;
}

static void net_close(struct mag_wsc *c)
{
    if (c->ssl) {
        SSL_shutdown(c->ssl);
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->ctx) {
        SSL_CTX_free(c->ctx);
        c->ctx = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* ============================================================================================ */
/* WebSocket                                                                                    */
/* ============================================================================================ */

bool mag_wsc_send(struct mag_wsc *c, uint8_t opcode, const void *data, size_t len)
{
    uint8_t mask[4];
    if (getrandom(mask, sizeof mask, 0) != (ssize_t)sizeof mask)
        memset(mask, 0x5a, sizeof mask);
    mag_buf_reset(&c->out);
    mag_buf_reserve(&c->out, MAG_WS_MAX_CLIENT_HEADER + len);
    c->out.len = mag_ws_client_frame_header_write(c->out.data, true, opcode, len, mask);
    if (len)
        memcpy(c->out.data + c->out.len, data, len);
    mag_ws_unmask(c->out.data + c->out.len, len, mask, 0);   /* XOR: mask = unmask */
    c->out.len += len;
    return net_write(c, c->out.data, c->out.len);
}

bool mag_wsc_send_close(struct mag_wsc *c, uint16_t code)
{
    if (c->close_sent)
        return true;
    c->close_sent = true;
    uint8_t p[MAG_WS_MAX_CONTROL_PAYLOAD];
    size_t n = mag_ws_close_build(p, code, NULL);
    return mag_wsc_send(c, MAG_WS_OP_CLOSE, p, n);
}

/* Percent-encode s for a path segment or query value (RFC 3986 unreserved kept). */
void mag_wsc_append_encoded(mag_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '.' || ch == '_' || ch == '~')
            mag_buf_append_byte(b, ch);
        else
            mag_buf_appendf(b, "%%%02X", ch);
    }
}

/* Value of header `name` in the response head (lines after the status line). */
static bool header_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = strstr(head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        const char *line = l + 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1, *e = strstr(v, "\r\n");
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = e ? (size_t)(e - v) : strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            snprintf(out, cap, "%.*s", (int)vl, v);
            return true;
        }
    }
    return false;
}

/* Connect and upgrade to target (path and query after the URL's prefix). On a refusal the
   message names the status and the server's reason (its body), as Pulsar's clients report it. */
bool mag_wsc_open(struct mag_wsc *c, const char *target)
{
    if (!net_connect(c))
        return false;
    uint8_t nonce[16];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce)
        memset(nonce, 0x42, sizeof nonce);
    mag_buf key = MAG_BUF_INIT, req = MAG_BUF_INIT;
    mag_base64_encode(&key, nonce, sizeof nonce);
    mag_buf_append_byte(&key, 0);
    bool v6 = strchr(c->host, ':') != NULL;
    bool default_port = strcmp(c->port, c->tls ? "443" : "80") == 0;
    mag_buf_appendf(&req, "GET %s%s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n", c->prefix, target,
                    v6 ? "[" : "", c->host, v6 ? "]" : "", default_port ? "" : ":",
                    default_port ? "" : c->port);
    mag_buf_appendf(&req, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                    "Sec-WebSocket-Version: 13\r\nUser-Agent: magnetar-client/" MAG_VERSION "\r\n",
                    (const char *)key.data);
    if (c->token)
        mag_buf_appendf(&req, "Authorization: Bearer %s\r\n", c->token);
    mag_buf_append_str(&req, "\r\n");
    bool ok = net_write(c, req.data, req.len);
    mag_buf_free(&req);
    uint64_t deadline = now_ms() + MAG_WSC_CONNECT_TIMEOUT_MS;
    char *end = NULL;
    while (ok) {
        mag_buf_append_byte(&c->in, 0);
        c->in.len--;
        end = strstr((char *)c->in.data, "\r\n\r\n");
        if (end)
            break;
        if (c->in.len > MAG_WSC_MAX_HEAD) {
            fail_msg(c, "HTTP response head larger than %d bytes", MAG_WSC_MAX_HEAD);
            ok = false;
            break;
        }
        uint64_t now = now_ms();
        int r = now >= deadline ? 0 : net_read(c, (int)(deadline - now));
        if (r == 0 && now_ms() >= deadline)
            fail_msg(c, "no answer to the WebSocket upgrade within %d s", MAG_WSC_CONNECT_TIMEOUT_MS / 1000);
        if (r == -2)
            fail_msg(c, "interrupted");
        if (r < 0 || (r == 0 && now_ms() >= deadline))
            ok = false;
    }
    if (ok) {
        size_t head_len = (size_t)(end - (char *)c->in.data) + 4;
        end[2] = '\0';   /* the head as a C string, ending with its last "\r\n" */
        const char *head = (const char *)c->in.data;
        int status = 0;
        sscanf(head, "HTTP/1.%*d %d", &status);
        if (status != 101) {
            /* The reason is the body: read it up to Content-Length (bounded) or a short wait. */
            char cl[32] = "";
            size_t want = header_value(head, "Content-Length", cl, sizeof cl) ? strtoul(cl, NULL, 10) : 1024;
            if (want > 1024)
                want = 1024;
            const char *eol = strstr(head, "\r\n");
            char line[160];
            snprintf(line, sizeof line, "%.*s", (int)(eol - head), head);
            uint64_t until = now_ms() + 2000;
            while (c->in.len - head_len < want && now_ms() < until && net_read(c, 200) >= 0) {
            }
            size_t bl = c->in.len - head_len < want ? c->in.len - head_len : want;
            const char *body = (const char *)c->in.data + head_len;
            while (bl && (body[bl - 1] == '\n' || body[bl - 1] == '\r'))
                bl--;
            const char *status_text = strchr(line, ' ');
            fail_msg(c, "%s%s%.*s", status_text ? status_text + 1 : line, bl ? ": " : "",
                     (int)(bl > 300 ? 300 : bl), body);
            for (char *p = c->err; *p; p++)
                if (*p == '\r' || *p == '\n')
                    *p = ' ';
            ok = false;
        } else {
            char want[MAG_WS_ACCEPT_KEY_SIZE], got[64];
            mag_ws_accept_key((const char *)key.data, strlen((const char *)key.data), want);
            if (!header_value(head, "Sec-WebSocket-Accept", got, sizeof got) || strcmp(got, want)) {
                fail_msg(c, "bad or missing Sec-WebSocket-Accept in the server's 101 response");
                ok = false;
            }
            c->in_pos = head_len;   /* frames that came with the head stay in c->in */
            c->upgraded = ok;
        }
    }
    mag_buf_free(&key);
    mag_ws_parser_init(&c->wp, MAG_WSC_MAX_MESSAGE, false);
    return ok;
}

/* Next data message into c->msg. 1 message, 0 timeout, -1 closed or error (c->err), -2 SIGINT.
   Pings are answered; an idle session is pinged every MAG_WSC_KEEPALIVE_MS so that no idle timeout
   closes a consumer that waits for messages. */
int mag_wsc_recv(struct mag_wsc *c, int timeout_ms)
{
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        while (c->in_pos < c->in.len) {
            const uint8_t *p = c->in.data + c->in_pos;
            size_t n = c->in.len - c->in_pos, used = 0;
            if (!mag_ws_parser_in_payload(&c->wp)) {
                mag_rc rc = mag_ws_parse_header(&c->wp, p, n, &used);
                c->in_pos += used;
                if (rc == MAG_AGAIN)
                    break;
                if (rc != MAG_OK) {
                    fail_msg(c, "bad WebSocket frame from the server: %s", mag_strerror(rc));
                    return -1;
                }
                if (c->wp.frame.opcode >= MAG_WS_OP_CLOSE)
                    c->ctrl_len = 0;
                else if (c->wp.frame.opcode != MAG_WS_OP_CONT)
                    mag_buf_reset(&c->msg);
                if (mag_ws_parser_in_payload(&c->wp))
                    continue;
            } else {
                bool ctrl = c->wp.frame.opcode >= MAG_WS_OP_CLOSE;
                uint8_t *dst;
                if (ctrl) {
                    dst = c->ctrl + c->ctrl_len;
                } else {
                    mag_buf_reserve(&c->msg, n);
                    dst = c->msg.data + c->msg.len;
                }
                mag_ws_parse_payload(&c->wp, p, n, dst, &used);
                c->in_pos += used;
                if (ctrl)
                    c->ctrl_len += used;
                else
                    c->msg.len += used;
                if (mag_ws_parser_in_payload(&c->wp))
                    continue;
            }
            /* A frame is complete. */
            const mag_ws_frame_hdr *f = &c->wp.frame;
            if (f->opcode == MAG_WS_OP_PING) {
                if (!mag_wsc_send(c, MAG_WS_OP_PONG, c->ctrl, c->ctrl_len))
                    return -1;
            } else if (f->opcode == MAG_WS_OP_CLOSE) {
                uint16_t code = MAG_WS_CLOSE_NO_STATUS;
                const char *reason = "";
                size_t rl = 0;
                mag_ws_close_parse(c->ctrl, c->ctrl_len, &code, &reason, &rl);
                fail_msg(c, "the server closed the session: %u%s%.*s", code, rl ? " " : "",
                         (int)(rl > 200 ? 200 : rl), reason);
                mag_wsc_send_close(c, code == MAG_WS_CLOSE_NO_STATUS ? MAG_WS_CLOSE_NORMAL : code);
                return -1;
            } else if (f->opcode != MAG_WS_OP_PONG && f->fin) {
                return 1;
            }
        }
        uint64_t now = now_ms();
        if (now >= deadline)
            return 0;
        if (now - c->last_io_ms >= MAG_WSC_KEEPALIVE_MS && !mag_wsc_send(c, MAG_WS_OP_PING, NULL, 0))
            return -1;
        uint64_t wait = deadline - now;
        int r = net_read(c, wait > 1000 ? 1000 : (int)wait);
        if (r < 0)
            return r;
    }
}

/* Close politely: Close 1000, then wait (briefly) for the server's Close. */
void mag_wsc_finish(struct mag_wsc *c)
{
    if (c->fd >= 0 && c->upgraded && !c->close_sent && mag_wsc_send_close(c, MAG_WS_CLOSE_NORMAL)) {
        uint64_t until = now_ms() + 2000;
        while (now_ms() < until && mag_wsc_recv(c, 200) >= 0) {
        }
    }
    net_close(c);
}

void mag_wsc_init(struct mag_wsc *c)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->verify_hostname = true;
}

void mag_wsc_free(struct mag_wsc *c)
{
    mag_buf_free(&c->in);
    mag_buf_free(&c->msg);
    mag_buf_free(&c->out);
}
