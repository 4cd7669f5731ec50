/* ws_session.c -- one RFC 6455 WebSocket session on top of a mag_conn.
 *
 * Frames are parsed straight from the bufferevent's input evbuffer: the header through
 * evbuffer_pullup of at most 14 bytes, the payload chunk by chunk from evbuffer_peek, unmasked
 * directly into the per-session reassembly buffer (text) or the control-frame buffer, and
 * validated as UTF-8 per chunk so bad data fails early (1007). Binary messages are read and
 * dropped, as Pulsar's Jetty adapter does. Sending writes a <= 10-byte header and the payload
 * into the output evbuffer: no allocation per frame. Timers: idle (no frame either way for
 * ws_idle_timeout_ms -> Close 1001 "Idle Timeout"), server PING "PING", close-wait, and one
 * one-shot timer for the endpoint handler (mag_ws_set_timer: the producer's send timeout).
 */
#include <string.h>

#include <event2/buffer.h>

#include "mag/util/log.h"
#include "net_internal.h"

/* Queue one frame (header + payload) unless the output side is already closed. */
static void ws_send_frame(struct mag_conn *c, uint8_t opcode, const void *data, size_t len)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    uint8_t hdr[MAG_WS_MAX_SERVER_HEADER];
    size_t n = mag_ws_frame_header_write(hdr, true, opcode, len);
    evbuffer_add(out, hdr, n);
    if (len)
        evbuffer_add(out, data, len);
    c->last_activity_ms = mag_net_now_ms();
}

static void ws_send_close(struct mag_conn *c, uint16_t code, const char *reason)
{
    uint8_t payload[MAG_WS_MAX_CONTROL_PAYLOAD];
    size_t n = mag_ws_close_build(payload, code, reason);
    ws_send_frame(c, MAG_WS_OP_CLOSE, payload, n);
}

/* _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): Close with the matching code, then drop. */
static void ws_fail(struct mag_conn *c, mag_rc rc)
{
    uint16_t code = MAG_WS_CLOSE_PROTOCOL;
    const char *reason = "Protocol error";
    if (rc == MAG_ERR_UTF8) {
        code = MAG_WS_CLOSE_BAD_DATA;
        reason = "Invalid UTF-8";
    } else if (rc == MAG_ERR_TOO_LARGE) {
        code = MAG_WS_CLOSE_TOO_BIG;
        reason = "Message too large";
    }
    mag_debug("net: %s: failing WebSocket with %u (%s)", c->peer, (unsigned)code, reason);
    if (c->state == MAG_CS_WS_OPEN)
        ws_send_close(c, code, reason);
    mag_net_conn_drain(c, MAG_NET_DRAIN_MS);
}

static void on_ping_timer(evutil_socket_t fd, short what, void *arg)
{
    struct mag_conn *c = arg;
    (void)fd;
    (void)what;
    if (c->state == MAG_CS_WS_OPEN)
        ws_send_frame(c, MAG_WS_OP_PING, "PING", 4);
}

void mag_net_ws_start(struct mag_conn *c, const struct mag_ws_handler *h, void *hctx)
{
    mag_http_server *s = c->srv;
    struct mag_ws *ws = &c->ws;

    c->state = MAG_CS_WS_OPEN;
    c->is_ws = true;
    ws->h = *h;
    ws->hctx = hctx;
    mag_ws_parser_init(&ws->parser, s->o.ws_max_message_bytes, true);
    mag_utf8_init(&ws->utf8);
    c->last_activity_ms = mag_net_now_ms();
    bufferevent_setwatermark(c->bev, EV_WRITE, s->o.ws_output_high_watermark / 2, 0);
    mag_net_conn_arm(c, s->o.ws_idle_timeout_ms);
    if (s->o.ws_ping_interval_ms > 0) {
        ws->ping_ev = event_new(s->base, -1, EV_PERSIST, on_ping_timer, c);
        if (ws->ping_ev) {
            struct timeval tv = { s->o.ws_ping_interval_ms / 1000,
                                  (s->o.ws_ping_interval_ms % 1000) * 1000 };
            event_add(ws->ping_ev, &tv);
        }
    }
}

/* A frame header was accepted: decide where its payload goes. */
static void ws_frame_begin(struct mag_conn *c)
{
    struct mag_ws *ws = &c->ws;
    const mag_ws_frame_hdr *f = &ws->parser.frame;
    switch (f->opcode) {
    case MAG_WS_OP_TEXT:
    case MAG_WS_OP_BINARY:
        ws->msg_opcode = f->opcode;
        ws->discard = f->opcode == MAG_WS_OP_BINARY || c->state != MAG_CS_WS_OPEN;
        mag_buf_reset(&ws->msg);
        mag_utf8_init(&ws->utf8);
        break;
    case MAG_WS_OP_CONT:
        if (c->state != MAG_CS_WS_OPEN)
            ws->discard = true;
        break;
    default:
        ws->ctl_len = 0;
        break;
    }
}

/* Deliver a complete text message. */
static void ws_deliver(struct mag_conn *c)
{
    struct mag_ws *ws = &c->ws;
    if (!mag_utf8_complete(&ws->utf8)) {
        ws_fail(c, MAG_ERR_UTF8);
        return;
    }
    const char *text = mag_buf_cstr(&ws->msg);
    size_t len = ws->msg.len;
    if (ws->h.on_text)
        ws->h.on_text(ws->hctx, &c->ws, text, len);
    mag_buf_reset(&ws->msg);
    if (ws->msg.cap > MAG_NET_MSG_KEEP_CAP)
        mag_buf_free(&ws->msg);
}

static void ws_on_close_frame(struct mag_conn *c)
{
    struct mag_ws *ws = &c->ws;
    uint16_t code;
    const char *reason;
    size_t rlen;
    mag_rc rc = mag_ws_close_parse(ws->ctl, ws->ctl_len, &code, &reason, &rlen);
    if (rc != MAG_OK) {
        ws_fail(c, rc);
        return;
    }
    if (c->state == MAG_CS_WS_OPEN) {
        /* Echo the peer's code (RFC 6455 §5.5.1); 1000 when it sent none. */
        ws_send_close(c, code == MAG_WS_CLOSE_NO_STATUS ? MAG_WS_CLOSE_NORMAL : code, NULL);
    }
    mag_net_conn_drain(c, MAG_NET_DRAIN_MS);
}

/* The current frame's payload is complete. */
static void ws_frame_end(struct mag_conn *c)
{
    struct mag_ws *ws = &c->ws;
    const mag_ws_frame_hdr *f = &ws->parser.frame;
    switch (f->opcode) {
    case MAG_WS_OP_TEXT:
    case MAG_WS_OP_BINARY:
    case MAG_WS_OP_CONT:
        if (f->fin && !ws->discard && ws->msg_opcode == MAG_WS_OP_TEXT)
            ws_deliver(c);
        break;
    case MAG_WS_OP_PING:
        if (c->state == MAG_CS_WS_OPEN)
            ws_send_frame(c, MAG_WS_OP_PONG, ws->ctl, ws->ctl_len);
        break;
    case MAG_WS_OP_CLOSE:
        ws_on_close_frame(c);
        break;
    default:
        break;   /* PONG: unsolicited or answering our PING; either way ignored */
    }
}

/* Where the next `n` payload bytes of the current frame are unmasked to (NULL = dropped). */
static uint8_t *ws_payload_dest(struct mag_conn *c, size_t n)
{
    struct mag_ws *ws = &c->ws;
    uint8_t op = ws->parser.frame.opcode;
    if (op >= MAG_WS_OP_CLOSE)
        return ws->ctl + ws->ctl_len;
    if (ws->discard)
        return NULL;
    mag_buf_reserve(&ws->msg, n + 1);
    return ws->msg.data + ws->msg.len;
}

/* Account for `n` bytes just unmasked to dst. Returns MAG_OK or MAG_ERR_UTF8. */
static mag_rc ws_payload_done(struct mag_conn *c, uint8_t *dst, size_t n)
{
    struct mag_ws *ws = &c->ws;
    if (ws->parser.frame.opcode >= MAG_WS_OP_CLOSE) {
        ws->ctl_len += n;
        return MAG_OK;
    }
    if (!dst)
        return MAG_OK;
    ws->msg.len += n;
    if (ws->msg_opcode == MAG_WS_OP_TEXT)
        return mag_utf8_feed(&ws->utf8, dst, n, NULL);
    return MAG_OK;
}

void mag_net_ws_read(struct mag_conn *c)
{
    struct mag_ws *ws = &c->ws;
    struct evbuffer *in = bufferevent_get_input(c->bev);

    while ((c->state == MAG_CS_WS_OPEN || c->state == MAG_CS_WS_CLOSING) && !ws->paused &&
           !mag_net_conn_throttle(c)) {
        size_t avail = evbuffer_get_length(in);
        size_t used = 0;
        mag_rc rc;
        if (!mag_ws_parser_in_payload(&ws->parser)) {
            if (avail == 0)
                return;
            size_t n = avail < MAG_WS_MAX_CLIENT_HEADER ? avail : MAG_WS_MAX_CLIENT_HEADER;
            const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
            rc = mag_ws_parse_header(&ws->parser, p, n, &used);
            evbuffer_drain(in, used);
            c->last_activity_ms = mag_net_now_ms();
            if (rc == MAG_AGAIN)
                return;
            if (rc != MAG_OK) {
                ws_fail(c, rc);
                return;
            }
            ws_frame_begin(c);
            avail = evbuffer_get_length(in);
        }
        const uint8_t *src = NULL;
        size_t chunk = 0;
        uint64_t rem = mag_ws_parser_remaining(&ws->parser);
        if (rem > 0) {
            if (avail == 0)
                return;
            struct evbuffer_iovec v;
            if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
                return;
            src = v.iov_base;
            chunk = v.iov_len < rem ? v.iov_len : (size_t)rem;
        }
        uint8_t *dst = ws_payload_dest(c, chunk);
        rc = mag_ws_parse_payload(&ws->parser, src, chunk, dst, &used);
        evbuffer_drain(in, used);
        if ((rc == MAG_OK || rc == MAG_AGAIN) && ws_payload_done(c, dst, used) != MAG_OK) {
            ws_fail(c, MAG_ERR_UTF8);
            return;
        }
        if (rc == MAG_OK)
            ws_frame_end(c);
        else if (rc != MAG_AGAIN) {
            ws_fail(c, rc);
            return;
        }
    }
}

void mag_net_ws_on_timer(struct mag_conn *c)
{
    int idle = c->srv->o.ws_idle_timeout_ms;
    if (idle <= 0)
        return;
    uint64_t now = mag_net_now_ms();
    uint64_t deadline = c->last_activity_ms + (uint64_t)idle;
    if (now >= deadline) {
        mag_debug("net: %s: idle timeout", c->peer);
        mag_ws_close(&c->ws, MAG_WS_CLOSE_GOING_AWAY, "Idle Timeout");
        return;
    }
    mag_net_conn_arm(c, (int)(deadline - now));
}

void mag_net_ws_on_drained(struct mag_conn *c)
{
    size_t low = c->srv->o.ws_output_high_watermark / 2;
    if (!c->want_writable || evbuffer_get_length(bufferevent_get_output(c->bev)) > low)
        return;
    c->want_writable = false;
    if (c->ws.h.on_writable)
        c->ws.h.on_writable(c->ws.hctx, &c->ws);
}

void mag_net_ws_shutdown(struct mag_conn *c)
{
    if (c->state == MAG_CS_WS_OPEN)
        ws_send_close(c, MAG_WS_CLOSE_GOING_AWAY, "Going Away");
    mag_net_conn_drain(c, MAG_NET_SHUTDOWN_DRAIN_MS);
    if (c->state != MAG_CS_CLOSED && !c->tls) {
        /* Best effort: push the Close out now in case the loop is not run again. (Not on TLS:
         * the bytes must go through the SSL record layer, i.e. through the loop.) */
        struct evbuffer *out = bufferevent_get_output(c->bev);
        if (evbuffer_get_length(out) > 0)
            evbuffer_write(out, bufferevent_getfd(c->bev));
    }
    if (!c->ws.notified) {
        c->ws.notified = true;
        if (c->ws.h.on_close)
            c->ws.h.on_close(c->ws.hctx, &c->ws);
    }
}

void mag_net_ws_stop_timers(struct mag_ws *ws)
{
    if (ws->ping_ev)
        event_del(ws->ping_ev);
    if (ws->app_timer)
        event_del(ws->app_timer);
}

void mag_net_ws_cleanup(struct mag_conn *c)
{
    if (c->ws.ping_ev) {
        event_free(c->ws.ping_ev);
        c->ws.ping_ev = NULL;
    }
    if (c->ws.app_timer) {
        event_free(c->ws.app_timer);
        c->ws.app_timer = NULL;
    }
    mag_buf_free(&c->ws.msg);
}

static void on_app_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct mag_conn *c = arg;
    if (c->state == MAG_CS_WS_OPEN && c->ws.h.on_timer)
        c->ws.h.on_timer(c->ws.hctx, &c->ws);
}

/* ---------------------------------------------------------------- public API */

void mag_ws_send_text(mag_ws *ws, const void *data, size_t len)
{
    struct mag_conn *c = ws->conn;
    if (c->state != MAG_CS_WS_OPEN)
        return;
    ws_send_frame(c, MAG_WS_OP_TEXT, data, len);
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > c->srv->o.ws_output_high_watermark)
        c->want_writable = true;
}

size_t mag_ws_output_len(const mag_ws *ws)
{
    return evbuffer_get_length(bufferevent_get_output(ws->conn->bev));
}

bool mag_ws_output_full(const mag_ws *ws)
{
    struct mag_conn *c = ws->conn;
    if (mag_ws_output_len(ws) <= c->srv->o.ws_output_high_watermark)
        return false;
    c->want_writable = true;
    return true;
}

void mag_ws_close(mag_ws *ws, uint16_t code, const char *reason)
{
    struct mag_conn *c = ws->conn;
    if (c->state != MAG_CS_WS_OPEN)
        return;
    ws_send_close(c, code, reason);
    c->state = MAG_CS_WS_CLOSING;
    mag_net_ws_stop_timers(ws);
    mag_net_conn_arm(c, MAG_NET_CLOSE_WAIT_MS);
    if (ws->paused) {
        /* The peer's Close must still be read. */
        mag_ws_pause_reading(ws, false);
    }
}

void mag_ws_set_timer(mag_ws *ws, int64_t delay_ms)
{
    struct mag_conn *c = ws->conn;
    if (delay_ms < 0 || c->state != MAG_CS_WS_OPEN) {
        if (ws->app_timer)
            event_del(ws->app_timer);
        return;
    }
    if (!ws->app_timer && !(ws->app_timer = evtimer_new(c->srv->base, on_app_timer, c))) {
        mag_error("%s: cannot create a timer", c->peer);
        return;
    }
    struct timeval tv = { (time_t)(delay_ms / 1000), (suseconds_t)((delay_ms % 1000) * 1000) };
    evtimer_add(ws->app_timer, &tv);
}

void mag_ws_pause_reading(mag_ws *ws, bool paused)
{
    struct mag_conn *c = ws->conn;
    if (ws->paused == paused)
        return;
    ws->paused = paused;
    if (c->state != MAG_CS_WS_OPEN && c->state != MAG_CS_WS_CLOSING)
        return;
    if (paused) {
        bufferevent_disable(c->bev, EV_READ);
        return;
    }
    if (c->throttled)
        return;   /* mag_net_conn_unthrottle resumes once the peer has read its output */
    bufferevent_enable(c->bev, EV_READ);
    /* Frames may already sit in the input buffer; process them from a deferred callback. */
    if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
        bufferevent_trigger(c->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
}

const char *mag_ws_peer(const mag_ws *ws)
{
    return ws->conn->peer;
}
