/* listener.c -- the mag_http_server object: bind/listen, accept, connection limit, reaper,
 * shutdown and free.
 *
 * Accepted sockets become mag_conn objects on the live list. Terminated conns move to the reap
 * list and an event made active (same priority as I/O, so it runs after the callbacks already
 * queued in this loop iteration) frees them; this is what lets application callbacks close
 * other sessions, or their own, without use-after-free (style §8 rule 5).
 */
#include <errno.h>
#include <netdb.h>
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
}

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

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    mag_http_server *s = arg;
    (void)l;
    if (s->shut_down ||
        (s->o.max_connections > 0 && s->nlive >= (size_t)s->o.max_connections)) {
        evutil_closesocket(fd);
        return;
    }
    mag_net_conn_new(s, fd, sa, salen);
}

static void on_accept_error(struct evconnlistener *l, void *arg)
{
    (void)l;
    (void)arg;
    int err = EVUTIL_SOCKET_ERROR();
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

mag_http_server *mag_http_server_new(struct event_base *base, const struct mag_http_server_opts *o,
                                     mag_http_request_fn on_request, void *ctx, mag_rc *rc)
{
    mag_rc dummy;
    if (!rc)
        rc = &dummy;
    if (!base || !o || !on_request || !o->bind_address || o->port < 0 || o->port > 65535) {
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
    s->o.bind_address = NULL;   /* not owned; only used above */
    s->on_request = on_request;
    s->ctx = ctx;
    TAILQ_INIT(&s->live);
    TAILQ_INIT(&s->reap);
    mag_buf_init(&s->scratch);
    s->reaper = event_new(base, -1, 0, on_reap, s);
    if (!s->reaper) {
        *rc = MAG_ERR_INTERNAL;
        goto fail;
    }
    s->listener = evconnlistener_new_bind(base, on_accept, s,
                                          LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
                                              LEV_OPT_CLOSE_ON_EXEC,
                                          -1, (struct sockaddr *)&ss, (int)sslen);
    if (!s->listener) {
        mag_error("net: cannot listen on %s:%d: %s", o->bind_address, o->port, strerror(errno));
        *rc = MAG_ERR_INTERNAL;
        goto fail;
    }
    evconnlistener_set_error_cb(s->listener, on_accept_error);

    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(evconnlistener_get_fd(s->listener), (struct sockaddr *)&bound, &blen) == 0)
        s->port = bound.ss_family == AF_INET6
                      ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                      : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    else
        s->port = o->port;
    *rc = MAG_OK;
    return s;

fail:
    if (s->listener)
        evconnlistener_free(s->listener);
    if (s->reaper)
        event_free(s->reaper);
    mag_buf_free(&s->scratch);
    free(s);
    return NULL;
}

int mag_http_server_port(const mag_http_server *s)
{
    return s->port;
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
    mag_buf_free(&s->scratch);
    free(s);
}
