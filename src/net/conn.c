/* conn.c -- one TCP connection: bufferevent callbacks, the per-state timer, closing.
 *
 * Every callback first looks at c->state and dispatches to the HTTP or the
 * WebSocket layer. Closing is two-step: mag_net_conn_drain() flushes queued output, sends FIN
 * and swallows the peer's remaining bytes for a short while ("lingering close", as nginx does),
 * so a response or Close frame is not destroyed by an RST; mag_net_conn_terminate() then marks
 * the conn closed, reports on_close once and hands the conn to the reaper, which frees it after
 * the current callbacks have returned. The bufferevent is created in exactly one place
 * (conn_bev_new): a socket bufferevent, or on the TLS listener a bufferevent_openssl in
 * accepting state, whose handshake runs inside libevent and is covered by the handshake timer.
 * Above the bufferevent nothing differs between the two, except the lingering close: a TLS
 * connection sends its close_notify alert before the TCP FIN.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"
#include "net_internal.h"

uint64_t mag_net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* "1.2.3.4:5" or "[::1]:5". */
static void format_peer(char *out, size_t outlen, const struct sockaddr *sa)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        evutil_inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
        port = ntohs(in->sin_port);
        snprintf(out, outlen, "%s:%d", host, port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        evutil_inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
        port = ntohs(in6->sin6_port);
        snprintf(out, outlen, "[%s]:%d", host, port);
    } else {
        snprintf(out, outlen, "unknown");
    }
}

/* The only place a connection's bufferevent is made. On failure the caller closes fd. */
/* libevent reads at most 16 KiB per callback by default: a producer pipelining
   small frames would get only ~100 of them into each group commit. */
#define MAG_NET_MAX_SINGLE_READ (256 * 1024)

static struct bufferevent *conn_bev_new(mag_http_server *s, evutil_socket_t fd, bool tls)
{
    if (!tls) {
        struct bufferevent *bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
        if (bev)
            bufferevent_set_max_single_read(bev, MAG_NET_MAX_SINGLE_READ);
        return bev;
    }
    SSL *ssl = SSL_new(s->ssl_ctx);
    if (!ssl)
        return NULL;
    /* With BEV_OPT_CLOSE_ON_FREE the bufferevent owns ssl from here on, even on failure. */
    struct bufferevent *bev = bufferevent_openssl_socket_new(s->base, fd, ssl,
                                                             BUFFEREVENT_SSL_ACCEPTING,
                                                             BEV_OPT_CLOSE_ON_FREE);
    if (bev) {
        /* A peer that closes TCP without close_notify is an ordinary EOF, not an error. */
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    }
    return bev;
}

/* TLS: send close_notify (straight to the socket: the output evbuffer is empty here). Best
 * effort; skipped when the handshake never finished. */
static void conn_tls_close_notify(struct mag_conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    if (ssl && SSL_is_init_finished(ssl))
        SSL_shutdown(ssl);
    ERR_clear_error();
}

/* FIN after the flushed output, then swallow input until EOF or the linger timer. */
static void conn_linger(struct mag_conn *c)
{
    c->lingering = true;
    if (c->eof) {
        mag_net_conn_terminate(c);
        return;
    }
    if (c->tls)
        conn_tls_close_notify(c);
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_disable(c->bev, EV_WRITE);
    bufferevent_enable(c->bev, EV_READ);
    mag_net_conn_arm(c, MAG_NET_LINGER_MS);
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct mag_conn *c = arg;
    (void)bev;
    switch (c->state) {
    case MAG_CS_HTTP_REQUEST:
        mag_net_http_read(c);
        break;
    case MAG_CS_WS_OPEN:
    case MAG_CS_WS_CLOSING:
        mag_net_ws_read(c);
        break;
    case MAG_CS_DRAINING: {
        struct evbuffer *in = bufferevent_get_input(c->bev);
        evbuffer_drain(in, evbuffer_get_length(in));
        break;
    }
    case MAG_CS_CLOSED:
        break;
    }
}

bool mag_net_conn_throttle(struct mag_conn *c)
{
    size_t cap = c->srv->o.ws_output_high_watermark * MAG_NET_OUTPUT_CAP_FACTOR;
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) <= cap)
        return false;
    if (!c->throttled) {
        c->throttled = true;
        bufferevent_disable(c->bev, EV_READ);
        mag_debug("net: %s: peer is not reading; reading paused", c->peer);
    }
    return true;
}

void mag_net_conn_unthrottle(struct mag_conn *c)
{
    size_t low = c->srv->o.ws_output_high_watermark / 2;
    if (!c->throttled || evbuffer_get_length(bufferevent_get_output(c->bev)) > low)
        return;
    c->throttled = false;
    if (c->is_ws && c->ws.paused)
        return;
    bufferevent_enable(c->bev, EV_READ);
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    struct mag_conn *c = arg;
    if (c->state == MAG_CS_DRAINING) {
        if (!c->lingering && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
            conn_linger(c);
        return;
    }
    if (c->state == MAG_CS_WS_OPEN)
        mag_net_ws_on_drained(c);
    if (c->state == MAG_CS_HTTP_REQUEST || c->state == MAG_CS_WS_OPEN ||
        c->state == MAG_CS_WS_CLOSING)
        mag_net_conn_unthrottle(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct mag_conn *c = arg;
    if (c->state == MAG_CS_CLOSED)
        return;
    if (what & BEV_EVENT_ERROR) {
        unsigned long tls_err = c->tls ? bufferevent_get_openssl_error(bev) : 0;
        if (tls_err) {
            char text[256];
            ERR_error_string_n(tls_err, text, sizeof text);
            mag_debug("net: %s: TLS error: %s", c->peer, text);
            while (bufferevent_get_openssl_error(bev) != 0)
                ;
        } else {
            mag_debug("net: %s: connection error: %s", c->peer,
                      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
        }
        mag_net_conn_terminate(c);
        return;
    }
    if (!(what & BEV_EVENT_EOF))
        return;
    c->eof = true;
    bool pending = evbuffer_get_length(bufferevent_get_output(bev)) > 0;
    if (c->state == MAG_CS_DRAINING) {
        if (c->lingering || !pending)
            mag_net_conn_terminate(c);
        return;   /* keep flushing; conn_linger terminates once the output is out */
    }
    if (c->state == MAG_CS_HTTP_REQUEST && pending) {
        mag_net_conn_drain(c, MAG_NET_DRAIN_MS);  /* answers to pipelined requests go out */
        return;
    }
    mag_net_conn_terminate(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct mag_conn *c = arg;
    (void)fd;
    (void)what;
    switch (c->state) {
    case MAG_CS_HTTP_REQUEST:
        mag_debug("net: %s: handshake timeout", c->peer);
        mag_net_conn_terminate(c);
        break;
    case MAG_CS_WS_OPEN:
        mag_net_ws_on_timer(c);
        break;
    case MAG_CS_WS_CLOSING:
        mag_debug("net: %s: no Close from peer", c->peer);
        mag_net_conn_drain(c, MAG_NET_DRAIN_MS);
        break;
    case MAG_CS_DRAINING:
        mag_net_conn_terminate(c);
        break;
    case MAG_CS_CLOSED:
        break;
    }
}

void mag_net_conn_arm(struct mag_conn *c, int ms)
{
    if (ms <= 0) {
        event_del(c->timer);
        return;
    }
    struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
    event_add(c->timer, &tv);
}

struct mag_conn *mag_net_conn_new(mag_http_server *s, evutil_socket_t fd,
                                  const struct sockaddr *sa, int salen, bool tls)
{
    (void)salen;
    struct bufferevent *bev = conn_bev_new(s, fd, tls);
    if (!bev) {
        mag_warn("net: cannot create %sbufferevent", tls ? "TLS " : "");
        ERR_clear_error();
        evutil_closesocket(fd);
        return NULL;
    }
    int one = 1;
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    struct mag_conn *c = mag_xcalloc(1, sizeof *c);
    c->srv = s;
    c->bev = bev;
    c->tls = tls;
    c->state = MAG_CS_HTTP_REQUEST;
    c->ex.conn = c;
    c->ws.conn = c;
    mag_http_request_init(&c->ex.req);
    mag_buf_init(&c->ex.body);
    mag_buf_init(&c->ex.headers);
    mag_buf_init(&c->ws.msg);
    format_peer(c->peer, sizeof c->peer, sa);
    c->timer = event_new(s->base, -1, 0, on_timer, c);
    if (!c->timer)
        abort();   /* libevent allocation failure: same policy as OOM */
    c->last_activity_ms = mag_net_now_ms();

    TAILQ_INSERT_TAIL(&s->live, c, link);
    s->nlive++;
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
    mag_net_conn_arm(c, s->o.handshake_timeout_ms);
    return c;
}

void mag_net_conn_drain(struct mag_conn *c, int timeout_ms)
{
    if (c->state == MAG_CS_CLOSED || c->state == MAG_CS_DRAINING)
        return;
    c->state = MAG_CS_DRAINING;
    mag_net_ws_stop_timers(&c->ws);
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    mag_net_conn_arm(c, timeout_ms);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
        conn_linger(c);
}

void mag_net_conn_terminate(struct mag_conn *c)
{
    if (c->state == MAG_CS_CLOSED)
        return;
    mag_http_server *s = c->srv;
    c->state = MAG_CS_CLOSED;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    event_del(c->timer);
    mag_net_ws_stop_timers(&c->ws);
    TAILQ_REMOVE(&s->live, c, link);
    s->nlive--;
    TAILQ_INSERT_TAIL(&s->reap, c, link);
    event_active(s->reaper, EV_TIMEOUT, 1);
    if (c->is_ws && !c->ws.notified) {
        c->ws.notified = true;
        if (c->ws.h.on_close)
            c->ws.h.on_close(c->ws.hctx, &c->ws);
    }
}

void mag_net_conn_free(struct mag_conn *c)
{
    if (!c)
        return;
    bufferevent_free(c->bev);
    event_free(c->timer);
    mag_net_ws_cleanup(c);
    mag_http_request_cleanup(&c->ex.req);
    mag_buf_free(&c->ex.body);
    mag_buf_free(&c->ex.headers);
    free(c);
}
