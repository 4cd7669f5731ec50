/* http_server.h -- Magnetar's HTTP/1.1 + RFC 6455 WebSocket server layer (libevent 2.1).
 *
 * The server owns the listening socket and every connection. It parses request heads and
 * bodies, hands each complete request to ONE application callback, and after an upgrade
 * runs the WebSocket session: frame parsing, fragment reassembly, UTF-8 validation, ping/pong,
 * close handshake, idle timeout and server pings. The application only ever sees whole,
 * valid text messages. Connections are never freed inside their own callback chain: they are
 * marked closed, reported through on_close and freed later by a reaper event.
 * All functions must be called from the event-loop thread.
 */
#ifndef MAG_NET_HTTP_SERVER_H
#define MAG_NET_HTTP_SERVER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/net/tls.h"
#include "mag/rc.h"

typedef struct mag_http_server mag_http_server;
typedef struct mag_http_exchange mag_http_exchange;  /* one HTTP request awaiting its answer */
typedef struct mag_ws mag_ws;                        /* one open WebSocket session */

/* A connection still without a complete request after this long may be evicted at the
 * connection limit (see max_connections). */
#define MAG_HTTP_EVICT_AFTER_MS 1000

struct mag_http_server_opts {
    const char *bind_address;        /* "0.0.0.0" default; "127.0.0.1", "::" also valid */
    int port;                        /* 0 = kernel picks a free port */
    size_t max_header_bytes;         /* request head limit; over -> 431 and close */
    size_t max_body_bytes;           /* request body limit (admin REST); over -> 413 and close */
    int handshake_timeout_ms;        /* whole request head+body must arrive within this, else the
                                        connection is dropped (no response needed) */
    size_t ws_max_message_bytes;     /* webSocketMaxTextFrameSize: a frame OR a reassembled message
                                        larger than this -> close 1009 */
    int ws_idle_timeout_ms;          /* webSocketSessionIdleTimeoutMillis; no frame in either
                                        direction for this long -> close 1001 "Idle Timeout"; 0=off */
    int ws_ping_interval_ms;         /* webSocketPingDurationSeconds*1000; server sends PING with
                                        payload "PING" this often; <=0 = off */
    int max_connections;             /* 0 = unlimited. At the limit a new connection evicts the
                                        oldest one that has not finished its TLS handshake or
                                        first request within MAG_HTTP_EVICT_AFTER_MS (slowloris);
                                        with none to evict it is answered 503 (plain) or just
                                        closed (TLS) at once. */
    size_t ws_output_high_watermark; /* mag_ws_output_full() true above this; on_writable fires when
                                        the output buffer drains below half of it */
    const struct mag_tls *tls;       /* NULL = plain only. Otherwise a second listener on
                                        bind_address:tls_port speaks TLS (same routes, same limits;
                                        max_connections counts both). Borrowed: must outlive the
                                        server (see mag/net/tls.h). */
    int tls_port;                    /* webServicePortTls; 0 = kernel picks a free port */
};

/* Fill opts with defaults: "0.0.0.0", 8080, 16384, 1048576, 10000, 1048576, 300000, -1, 0, 1<<20,
 * no TLS, 8443. bind_address points to a static string. */
void mag_http_server_opts_init(struct mag_http_server_opts *o);

/* Called once per complete HTTP request (head + body). The callee MUST answer synchronously,
 * before returning, with exactly one of mag_http_respond() or mag_http_upgrade() (or a failed
 * mag_http_upgrade_check(), which answers by itself). If it does not, the server answers 500.
 * ex is valid only during the call. */
typedef void (*mag_http_request_fn)(void *ctx, mag_http_exchange *ex);

/* Bind and listen on o->bind_address:o->port (and :o->tls_port with TLS when o->tls is set) using
 * base (the caller keeps base alive until mag_http_server_free). o is copied (bind_address is
 * only used during the call).
 * on_request/ctx are borrowed and called for every request.
 * On failure returns NULL and sets *rc (MAG_ERR_CONFIG for a bad address or option,
 * MAG_ERR_INTERNAL for bind/listen errors; the reason is logged). rc may be NULL. */
mag_http_server *mag_http_server_new(struct event_base *base, const struct mag_http_server_opts *o,
                                     mag_http_request_fn on_request, void *ctx, mag_rc *rc);
/* The actually bound port (useful with port 0). */
int mag_http_server_port(const mag_http_server *s);
/* The actually bound TLS port, or 0 when the server has no TLS listener. */
int mag_http_server_tls_port(const mag_http_server *s);
/* Connections currently open (HTTP and WebSocket), including ones still flushing a close. */
size_t mag_http_server_connection_count(const mag_http_server *s);
/* Stop accepting; send Close 1001 "Going Away" to every open WebSocket and call its on_close
 * (synchronously, from inside this call); HTTP connections without pending output are closed at
 * once. Queued output (the Close frames) is written best-effort right away (plain connections;
 * TLS ones need the loop to run, as their bytes go through the record layer); connections still
 * flushing stay counted by mag_http_server_connection_count() until they finish (bounded, ~1 s)
 * if the caller keeps running the loop. Safe to call once; then mag_http_server_free(). */
void mag_http_server_shutdown(mag_http_server *s);
/* Free the server and every remaining connection. Calls mag_http_server_shutdown() first if it
 * was not called (its on_close callbacks then fire from here); no other callback is called.
 * Must not be called from inside a server callback. NULL is a no-op. */
void mag_http_server_free(mag_http_server *s);

/* Request accessors: valid until the exchange is answered. Strings are NUL-terminated and owned
 * by the server. */
const char *mag_http_method(const mag_http_exchange *ex);
const char *mag_http_path(const mag_http_exchange *ex);   /* raw, percent-encoded, no query */
const char *mag_http_query(const mag_http_exchange *ex);  /* raw text after '?', "" if none */
const char *mag_http_header(const mag_http_exchange *ex, const char *name); /* case-insensitive,
                                                     first occurrence, NULL if absent */
/* Request body (Content-Length bytes; chunked bodies are refused with 411). *len gets the
 * length; the pointer is non-NULL even when empty. */
const uint8_t *mag_http_body(const mag_http_exchange *ex, size_t *len);
const char *mag_http_peer(const mag_http_exchange *ex);   /* "127.0.0.1:54321" or "[::1]:5" */

/* Answer with a plain HTTP response. content_type may be NULL (no Content-Type header). body is
 * copied; len may be 0. extra_headers: NULL or "Name: value\r\n..." lines, copied verbatim.
 * Keep-alive is honoured for HTTP/1.1 unless the request said Connection: close (HTTP/1.0 needs
 * Connection: keep-alive). A second answer to the same exchange is ignored (logged). */
void mag_http_respond(mag_http_exchange *ex, int status, const char *content_type,
                      const void *body, size_t len, const char *extra_headers);

/* Add "Name: value\r\n" lines to whatever answer this request gets (mag_http_respond, a
 * refused upgrade), e.g. CORS headers decided before the handler runs. Not sent with a 101. */
void mag_http_add_headers(mag_http_exchange *ex, const char *lines);

/* Validate the WebSocket handshake of this request. MAG_OK if valid. Otherwise it has ALREADY
 * answered and returns the error code; the caller must not answer again:
 *   MAG_ERR_METHOD      405 (not GET)
 *   MAG_ERR_BAD_REQUEST 400 (not HTTP/1.1, missing/bad Upgrade, Connection or Sec-WebSocket-Key)
 *                       or 426 + "Sec-WebSocket-Version: 13" (missing or wrong version). */
mag_rc mag_http_upgrade_check(mag_http_exchange *ex);

struct mag_ws_handler {
    /* One whole text message (reassembled, UTF-8 valid). data is valid only during the call and is
       NUL-terminated (terminator not counted in len). The handler may call mag_ws_send_text or
       mag_ws_close from inside. */
    void (*on_text)(void *ctx, mag_ws *ws, const char *data, size_t len);
    /* Output dropped below half the high watermark after mag_ws_output_full() was true. May be NULL. */
    void (*on_writable)(void *ctx, mag_ws *ws);
    /* The session is over (close handshake done, peer vanished, timeout, shutdown). Called exactly
       once; ws must not be used afterwards. Never called from inside mag_http_upgrade. */
    void (*on_close)(void *ctx, mag_ws *ws);
    /* The timer set with mag_ws_set_timer expired (only while the session is open). May be NULL. */
    void (*on_timer)(void *ctx, mag_ws *ws);
};

/* Answer 101 and turn the connection into a WebSocket session that reports to h/hctx (h is
 * copied; hctx is borrowed). If mag_http_upgrade_check() was not called it is run here; if it
 * fails the request has been answered and NULL is returned. Returns the session (owned by the
 * server; valid until on_close returns). Bytes the client pipelined after the request head are
 * fed to the session after the request callback returns (on_text is never called from inside
 * mag_http_upgrade). */
mag_ws *mag_http_upgrade(mag_http_exchange *ex, const struct mag_ws_handler *h, void *hctx);

/* Queue one text frame (FIN, opcode 1, unmasked). No-op after close started. Copies data
 * (no allocation beyond the output buffer's own growth). */
void mag_ws_send_text(mag_ws *ws, const void *data, size_t len);
/* Bytes queued for this client and not yet written to the socket. */
size_t mag_ws_output_len(const mag_ws *ws);
/* True when mag_ws_output_len() is above the high watermark; arms on_writable. */
bool mag_ws_output_full(const mag_ws *ws);
/* Start the close handshake with code/reason (reason may be NULL; truncated to 123 bytes). No-op
 * if close already started. on_close follows later (never from inside this call). After sending
 * Close the server waits (bounded, 5 s) for the peer's Close, then drops the TCP connection.
 * Text messages arriving meanwhile are discarded. */
void mag_ws_close(mag_ws *ws, uint16_t code, const char *reason);
/* Stop/resume reading from this client (backpressure for producers). While paused no on_text is
 * delivered, even for messages already buffered; resuming delivers them from a later loop
 * callback, never from inside this call. */
void mag_ws_pause_reading(mag_ws *ws, bool paused);
/* Call h.on_timer once, delay_ms from now (replaces an earlier setting); delay_ms < 0 cancels.
 * One timer per session; it never fires after close started. */
void mag_ws_set_timer(mag_ws *ws, int64_t delay_ms);
/* "127.0.0.1:54321" or "[::1]:5"; owned by the session. */
const char *mag_ws_peer(const mag_ws *ws);

#endif /* MAG_NET_HTTP_SERVER_H */
