/* listener.c -- the mag_http_server object: bind/listen (plain, and TLS when configured),
 * accept, connection limit, reaper, shutdown and free.
 *
 * Accepted sockets become mag_conn objects on the live list. Terminated conns move to the reap
 * list and an event made active (same priority as I/O, so it runs after the callbacks already
 * queued in this loop iteration) frees them; this is what lets application callbacks close
 * other sessions, or their own, without use-after-free.
 * Resource limits live here too: at max_connections a newcomer evicts the connection that has
 * waited longest (over MAG_HTTP_EVICT_AFTER_MS) for its handshake/request, so half-open or
 * slowloris clients cannot keep everyone else out; when the process runs out of descriptors
 * accepting pauses briefly instead of spinning on EMFILE.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/util.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"
#include "net_internal.h"

void mag_http_server_opts_init(struct mag_http_server_opts *o)
{
    o->bind_address = "0.0.0.0";
    o->port = 8080;
    o->max_header_bytes = 16384;
    o->max_body_bytes = 1048576;
    o->handshake_timeout_ms = 10000;
    o->ws_max_message_bytes = 1048576;
    o->ws_idle_timeout_ms = 300000;
    o->ws_ping_interval_ms = -1;
    o->max_connections = 0;
    o->ws_output_high_watermark = (size_t)1 << 20;
    o->tls = NULL;
    o->tls_port = 8443;
}

/* Pause after EMFILE/ENFILE before accepting again. */
#define ACCEPT_RESUME_MS 200
/* At most one "limit reached" warning per this interval. */
#define LIMIT_WARN_INTERVAL_MS 5000

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
    mag_http_server *s = arg;
    (void)fd;
    (void)what;
    struct mag_conn *c;
    while ((c = TAILQ_FIRST(&s->reap)) != NULL) {
        TAILQ_REMOVE(&s->reap, c, link);
        mag_net_conn_free(c);
    }
}

static void warn_limited(mag_http_server *s, const char *what)
{
    uint64_t now = mag_net_now_ms();
    if (s->last_limit_warn_ms && now - s->last_limit_warn_ms < LIMIT_WARN_INTERVAL_MS)
        return;
    s->last_limit_warn_ms = now;
    mag_warn("net: %s", what);
}

/* The connection that has waited longest (at least MAG_HTTP_EVICT_AFTER_MS) for its TLS
 * handshake or request, or NULL. Only called at the connection limit. */
static struct mag_conn *eviction_candidate(mag_http_server *s)
{
    uint64_t now = mag_net_now_ms();
    struct mag_conn *c, *best = NULL;
    TAILQ_FOREACH(c, &s->live, link) {
        if (c->state != MAG_CS_HTTP_REQUEST || now - c->last_activity_ms < MAG_HTTP_EVICT_AFTER_MS)
            continue;
        if (!best || c->last_activity_ms < best->last_activity_ms)
            best = c;
    }
    return best;
}

/* Turn a connection away at the limit: a 503 on plain HTTP (best effort, the socket is new and
 * its send buffer empty), then close. Bytes already received are read first so that close()
 * does not answer them with an RST that could destroy the 503 in flight. */
static void refuse(evutil_socket_t fd, bool tls)
{
    static const char resp[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n"
        "Connection: close\r\n\r\nToo many connections\n";
    if (!tls) {
        ssize_t n = send(fd, resp, sizeof resp - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)n;
        shutdown(fd, SHUT_WR);
        char sink[4096];
        for (int i = 0; i < 16 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
            ;
    }
    evutil_closesocket(fd);
}

static void accept_conn(mag_http_server *s, evutil_socket_t fd, struct sockaddr *sa, int salen,
                        bool tls)
{
    if (s->shut_down) {
        evutil_closesocket(fd);
        return;
    }
    if (s->o.max_connections > 0 && s->nlive >= (size_t)s->o.max_connections) {
        struct mag_conn *victim = eviction_candidate(s);
        if (!victim) {
            warn_limited(s, "connection limit (maxConnections) reached: refusing new connections");
            refuse(fd, tls);
            return;
        }
        warn_limited(s, "connection limit (maxConnections) reached: dropping connections that "
                        "are slow to send their request");
        mag_debug("net: %s: evicted (no request after %d ms, connection limit)", victim->peer,
                  MAG_HTTP_EVICT_AFTER_MS);
        mag_net_conn_terminate(victim);
    }
    mag_net_conn_new(s, fd, sa, salen, tls);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    (void)l;
    accept_conn(arg, fd, sa, salen, false);
}

static void on_accept_tls(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                          int salen, void *arg)
{
    (void)l;
    accept_conn(arg, fd, sa, salen, true);
}

static void set_accepting(mag_http_server *s, bool on)
{
    struct evconnlistener *ls[2] = { s->listener, s->listener_tls };
    for (int i = 0; i < 2; i++) {
        if (!ls[i])
            continue;
        if (on)
            evconnlistener_enable(ls[i]);
        else
            evconnlistener_disable(ls[i]);
    }
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
    mag_http_server *s = arg;
    (void)fd;
    (void)what;
    if (!s->shut_down)
        set_accepting(s, true);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    mag_http_server *s = arg;
    (void)l;
    int err = EVUTIL_SOCKET_ERROR();
    if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        /* The pending connection stays in the backlog, so the listener would fire again at
         * once: stop accepting for a moment instead of spinning. */
        warn_limited(s, "out of file descriptors or memory: pausing accept");
        set_accepting(s, false);
        struct timeval tv = { 0, ACCEPT_RESUME_MS * 1000 };
        event_add(s->accept_resume, &tv);
        return;
    }
    mag_warn("net: accept failed: %s", evutil_socket_error_to_string(err));
}

/* Resolve "0.0.0.0", "::", "[::1]", "127.0.0.1" or a host name into a passive address. */
static mag_rc resolve_bind(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
    char host[256];
    size_t n = strlen(addr);
    if (n >= sizeof host || n == 0)
        return MAG_ERR_CONFIG;
    if (addr[0] == '[' && addr[n - 1] == ']') {
        memcpy(host, addr + 1, n - 2);
        host[n - 2] = '\0';
    } else {
        memcpy(host, addr, n + 1);
    }
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    if (getaddrinfo(host, portstr, &hints, &res) != 0 || !res)
        return MAG_ERR_CONFIG;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return MAG_OK;
}

/* Bind and listen on addr:port; *bound gets the actual port. NULL on failure (logged). */
static struct evconnlistener *listen_on(mag_http_server *s, const char *addr, int port,
                                        evconnlistener_cb cb, int *bound)
{
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (resolve_bind(addr, port, &ss, &sslen) != MAG_OK) {
        mag_error("net: invalid bind address '%s'", addr);
        return NULL;
    }
    struct evconnlistener *l = evconnlistener_new_bind(
        s->base, cb, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC, -1,
        (struct sockaddr *)&ss, (int)sslen);
    if (!l) {
        mag_error("net: cannot listen on %s:%d: %s", addr, port, strerror(errno));
        return NULL;
    }
    evconnlistener_set_error_cb(l, on_accept_error);
    struct sockaddr_storage b;
    socklen_t blen = sizeof b;
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&b, &blen) == 0)
        *bound = b.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&b)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&b)->sin_port);
    else
        *bound = port;
    return l;
}

mag_http_server *mag_http_server_new(struct event_base *base, const struct mag_http_server_opts *o,
                                     mag_http_request_fn on_request, void *ctx, mag_rc *rc)
{
    mag_rc dummy;
    if (!rc)
        rc = &dummy;
    if (!base || !o || !on_request || !o->bind_address || o->port < 0 || o->port > 65535 ||
        (o->tls && (o->tls_port < 0 || o->tls_port > 65535))) {
        mag_error("net: invalid server options");
        *rc = MAG_ERR_CONFIG;
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = 0;
    if (resolve_bind(o->bind_address, o->port, &ss, &sslen) != MAG_OK) {
        mag_error("net: invalid bind address '%s'", o->bind_address);
        *rc = MAG_ERR_CONFIG;
        return NULL;
    }

    mag_http_server *s = mag_xcalloc(1, sizeof *s);
    s->base = base;
    s->o = *o;
    s->o.bind_address = NULL;   /* not owned; only used here */
    s->on_request = on_request;
    s->ctx = ctx;
    s->ssl_ctx = o->tls ? mag_tls_ssl_ctx(o->tls) : NULL;
    TAILQ_INIT(&s->live);
    TAILQ_INIT(&s->reap);
    mag_buf_init(&s->scratch);
    s->reaper = event_new(base, -1, 0, on_reap, s);
    s->accept_resume = event_new(base, -1, 0, on_accept_resume, s);
    if (!s->reaper || !s->accept_resume) {
        *rc = MAG_ERR_INTERNAL;
        goto fail;
    }
    *rc = MAG_ERR_INTERNAL;
    s->listener = listen_on(s, o->bind_address, o->port, on_accept, &s->port);
    if (!s->listener)
        goto fail;
    if (o->tls) {
        s->listener_tls = listen_on(s, o->bind_address, o->tls_port, on_accept_tls, &s->tls_port);
        if (!s->listener_tls)
            goto fail;
    }
    *rc = MAG_OK;
    return s;

fail:
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->reaper)
        event_free(s->reaper);
    if (s->accept_resume)
        event_free(s->accept_resume);
    mag_buf_free(&s->scratch);
    free(s);
    return NULL;
}

int mag_http_server_port(const mag_http_server *s)
{
    return s->port;
}

int mag_http_server_tls_port(const mag_http_server *s)
{
    return s->tls_port;
}

size_t mag_http_server_connection_count(const mag_http_server *s)
{
    return s->nlive;
}

void mag_http_server_shutdown(mag_http_server *s)
{
    if (s->shut_down)
        return;
    s->shut_down = true;
    if (s->listener) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    if (s->listener_tls) {
        evconnlistener_free(s->listener_tls);
        s->listener_tls = NULL;
    }
    event_del(s->accept_resume);
    struct mag_conn *c, *next;
    for (c = TAILQ_FIRST(&s->live); c != NULL; c = next) {
        next = TAILQ_NEXT(c, link);
        switch (c->state) {
        case MAG_CS_WS_OPEN:
        case MAG_CS_WS_CLOSING:
            mag_net_ws_shutdown(c);
            break;
        case MAG_CS_HTTP_REQUEST:
            if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
                mag_net_conn_terminate(c);
            else
                mag_net_conn_drain(c, MAG_NET_SHUTDOWN_DRAIN_MS);
            break;
        case MAG_CS_DRAINING:
            /* A WebSocket the server already closed (e.g. 1009) whose peer has
               not hung up yet: its handler must still hear about the end. */
            if (c->ws.h.on_close && !c->ws.notified) {
                c->ws.notified = true;
                c->ws.h.on_close(c->ws.hctx, &c->ws);
            }
            break;
        case MAG_CS_CLOSED:
            break;
        }
        /* next may have been terminated by an on_close callback closing it: restart safely. */
        if (next && next->state == MAG_CS_CLOSED)
            next = TAILQ_FIRST(&s->live);
    }
}

void mag_http_server_free(mag_http_server *s)
{
    if (!s)
        return;
    mag_http_server_shutdown(s);
    struct mag_conn *c;
    while ((c = TAILQ_FIRST(&s->live)) != NULL) {
        TAILQ_REMOVE(&s->live, c, link);
        mag_net_conn_free(c);
    }
    while ((c = TAILQ_FIRST(&s->reap)) != NULL) {
        TAILQ_REMOVE(&s->reap, c, link);
        mag_net_conn_free(c);
    }
    event_free(s->reaper);
    event_free(s->accept_resume);
    mag_buf_free(&s->scratch);
    free(s);
}
