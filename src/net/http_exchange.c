/* http_exchange.c -- reading HTTP/1.1 requests from a connection and answering them.
 *
 * Requests are handled strictly in order: head (pure parser over evbuffer_pullup'd bytes), then
 * the Content-Length body, then one synchronous call of the application's on_request, which
 * must answer before returning. Keep-alive connections loop to the next pipelined request;
 * after a 101 the remaining input belongs to the WebSocket session. The handshake timer covers
 * accept -> complete request (and, on keep-alive connections, the wait for the next one).
 * Errors the server answers by itself (400, 411, 413, 431) always close the connection, since
 * the framing of anything that follows is unknown. Chunked request bodies are refused (411).
 */
#include <string.h>

#include <event2/buffer.h>

#include "mag/util/log.h"
#include "net_internal.h"

static const char WS_SWITCH_HEAD[] =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: ";

/* Queue a response; the caller decides about the connection afterwards. */
static void http_write_response(struct mag_conn *c, int status, const char *content_type,
                                const void *body, size_t len, const char *extra, bool keep)
{
    mag_http_server *s = c->srv;
    struct evbuffer *out = bufferevent_get_output(c->bev);
    const char *connection = keep ? (c->ex.req.version_minor == 0 ? "keep-alive" : NULL)
                                  : "close";
    bool head_only = c->ex.req.method && strcmp(c->ex.req.method, "HEAD") == 0;

    mag_buf_reset(&s->scratch);
    mag_http_response_head(&s->scratch, status, content_type, (int64_t)len, connection, extra);
    if (c->ex.headers.len) {   /* before the blank line that ends the head */
        s->scratch.len -= 2;
        mag_buf_append(&s->scratch, c->ex.headers.data, c->ex.headers.len);
        mag_buf_append_str(&s->scratch, "\r\n");
    }
    evbuffer_add(out, s->scratch.data, s->scratch.len);
    if (len && !head_only)
        evbuffer_add(out, body, len);
}

/* A request the server refuses itself: answer and close. */
static void http_fail(struct mag_conn *c, int status)
{
    const char *reason = mag_http_reason(status);
    char body[96];
    size_t n = (size_t)snprintf(body, sizeof body, "%d %s\n", status, reason);
    mag_debug("net: %s: HTTP %d", c->peer, status);
    c->ex.answered = true;
    http_write_response(c, status, "text/plain", body, n, NULL, false);
    mag_net_conn_drain(c, MAG_NET_DRAIN_MS);
}

/* Ready the exchange for the next request on a keep-alive connection. */
static void http_next_request(struct mag_conn *c)
{
    struct mag_http_exchange *ex = &c->ex;
    mag_http_request_reset(&ex->req);
    mag_buf_reset(&ex->body);
    mag_buf_reset(&ex->headers);
    ex->head_done = false;
    ex->body_len = 0;
    ex->answered = false;
    ex->upgrade_ok = false;
    ex->close_after = false;
    c->last_activity_ms = mag_net_now_ms();
    mag_net_conn_arm(c, c->srv->o.handshake_timeout_ms);
}

/* Run the application on a complete request. Returns false when reading must stop. */
static bool http_dispatch(struct mag_conn *c)
{
    mag_http_server *s = c->srv;
    struct mag_http_exchange *ex = &c->ex;

    mag_net_conn_arm(c, 0);
    ex->answered = false;
    s->on_request(s->ctx, ex);
    if (c->state == MAG_CS_CLOSED)
        return false;
    if (!ex->answered) {
        mag_error("net: request %s %s was not answered", ex->req.method, ex->req.path);
        http_fail(c, 500);
        return false;
    }
    if (c->is_ws) {
        /* Upgraded (the application may even have closed it already). The head is no longer
         * needed; free it rather than keep it for the whole session. */
        mag_http_request_cleanup(&ex->req);
        mag_buf_free(&ex->body);
        if ((c->state == MAG_CS_WS_OPEN || c->state == MAG_CS_WS_CLOSING) &&
            evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
            mag_net_ws_read(c);
        return false;
    }
    if (ex->close_after || s->shut_down) {
        mag_net_conn_drain(c, MAG_NET_DRAIN_MS);
        return false;
    }
    http_next_request(c);
    return true;
}

void mag_net_http_read(struct mag_conn *c)
{
    mag_http_server *s = c->srv;
    struct mag_http_exchange *ex = &c->ex;
    struct evbuffer *in = bufferevent_get_input(c->bev);

    while (c->state == MAG_CS_HTTP_REQUEST && !mag_net_conn_throttle(c)) {
        size_t avail = evbuffer_get_length(in);
        if (!ex->head_done) {
            if (avail == 0)
                return;
            size_t max = s->o.max_header_bytes;
            size_t n = (max && avail > max + 1) ? max + 1 : avail;
            const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
            mag_rc rc = mag_http_request_parse(&ex->req, p, n, max);
            if (rc == MAG_AGAIN)
                return;
            if (rc != MAG_OK) {
                http_fail(c, rc == MAG_ERR_TOO_LARGE ? 431 : 400);
                return;
            }
            evbuffer_drain(in, ex->req.head_len);
            ex->head_done = true;
            if (ex->req.chunked) {
                http_fail(c, 411);
                return;
            }
            if (ex->req.content_length > 0 &&
                (uint64_t)ex->req.content_length > (uint64_t)s->o.max_body_bytes) {
                http_fail(c, 413);
                return;
            }
            ex->body_len = ex->req.content_length > 0 ? (size_t)ex->req.content_length : 0;
            if (ex->req.expect_continue && ex->body_len > evbuffer_get_length(in)) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                evbuffer_add(bufferevent_get_output(c->bev), cont, sizeof cont - 1);
            }
            continue;
        }
        if (avail < ex->body_len)
            return;
        mag_buf_reset(&ex->body);
        mag_buf_reserve(&ex->body, ex->body_len + 1);
        if (ex->body_len)
            evbuffer_remove(in, ex->body.data, ex->body_len);
        ex->body.len = ex->body_len;
        if (!http_dispatch(c))
            return;
    }
}

/* ---------------------------------------------------------------- public API */

const char *mag_http_method(const mag_http_exchange *ex)
{
    return ex->req.method;
}

const char *mag_http_path(const mag_http_exchange *ex)
{
    return ex->req.path;
}

const char *mag_http_query(const mag_http_exchange *ex)
{
    return ex->req.query;
}

const char *mag_http_header(const mag_http_exchange *ex, const char *name)
{
    return mag_http_request_header(&ex->req, name);
}

const uint8_t *mag_http_body(const mag_http_exchange *ex, size_t *len)
{
    static const uint8_t empty[1] = { 0 };
    *len = ex->body.len;
    return ex->body.data ? ex->body.data : empty;
}

const char *mag_http_peer(const mag_http_exchange *ex)
{
    return ex->conn->peer;
}

void mag_http_respond(mag_http_exchange *ex, int status, const char *content_type,
                      const void *body, size_t len, const char *extra_headers)
{
    struct mag_conn *c = ex->conn;
    if (ex->answered || c->state != MAG_CS_HTTP_REQUEST) {
        mag_warn("net: %s: second answer to one request ignored", c->peer);
        return;
    }
    ex->answered = true;
    bool keep = ex->req.keep_alive && !c->srv->shut_down;
    ex->close_after = !keep;
    http_write_response(c, status, content_type, body, len, extra_headers, keep);
}

void mag_http_add_headers(mag_http_exchange *ex, const char *lines)
{
    mag_buf_append_str(&ex->headers, lines);
}

mag_rc mag_http_upgrade_check(mag_http_exchange *ex)
{
    if (ex->answered)
        return MAG_ERR_INTERNAL;
    mag_ws_handshake hs = mag_ws_handshake_check(&ex->req, NULL);
    if (hs == MAG_WS_HS_OK) {
        ex->upgrade_ok = true;
        return MAG_OK;
    }
    int status = mag_ws_handshake_status(hs);
    const char *reason = mag_ws_handshake_reason(hs);
    mag_http_respond(ex, status, "text/plain", reason, strlen(reason),
                     status == 426 ? "Sec-WebSocket-Version: 13\r\n" : NULL);
    return hs == MAG_WS_HS_NOT_GET ? MAG_ERR_METHOD : MAG_ERR_BAD_REQUEST;
}

mag_ws *mag_http_upgrade(mag_http_exchange *ex, const struct mag_ws_handler *h, void *hctx)
{
    struct mag_conn *c = ex->conn;
    if (ex->answered || c->state != MAG_CS_HTTP_REQUEST) {
        mag_warn("net: %s: upgrade of an answered request ignored", c->peer);
        return NULL;
    }
    if (!ex->upgrade_ok && mag_http_upgrade_check(ex) != MAG_OK)
        return NULL;
    const char *key = mag_http_request_header(&ex->req, "Sec-WebSocket-Key");
    char accept[MAG_WS_ACCEPT_KEY_SIZE];
    mag_ws_accept_key(key, strlen(key), accept);

    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, WS_SWITCH_HEAD, sizeof WS_SWITCH_HEAD - 1);
    evbuffer_add(out, accept, strlen(accept));
    evbuffer_add(out, "\r\n\r\n", 4);
    ex->answered = true;
    mag_net_ws_start(c, h, hctx);
    return &c->ws;
}
