/* net_internal.h -- private structures shared by the files of the net module.
 *
 * The net module spans listener.c (server, plain and TLS listeners, accept, connection limit,
 * reaper), conn.c (connection life cycle, bufferevent callbacks, timers, draining/lingering
 * close), http_exchange.c (request reading and answering), ws_session.c (RFC 6455 session) and
 * tls.c (the SSL_CTX). One mag_conn is one TCP connection; it
 * embeds its HTTP exchange and its WebSocket session so that the public handles
 * (mag_http_exchange *, mag_ws *) are stable pointers into it. A conn moves through the states
 * below; it is freed only by the reaper, never inside its own callback chain.
 */
#ifndef MAG_NET_NET_INTERNAL_H
#define MAG_NET_NET_INTERNAL_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "mag/codec/http_request.h"
#include "mag/codec/utf8.h"
#include "mag/codec/ws_frame.h"
#include "mag/net/http_server.h"
#include "mag/util/buf.h"

/* How long the server waits for the peer's Close after sending its own (RFC 6455 §7.1.1). */
#define MAG_NET_CLOSE_WAIT_MS 5000
/* Bound for flushing queued output before the TCP connection is closed. */
#define MAG_NET_DRAIN_MS 5000
/* After our FIN, how long unread peer bytes are swallowed before close() (avoids an RST that
 * would destroy the response/Close frame still in the peer's receive buffer). */
#define MAG_NET_LINGER_MS 2000
/* During shutdown the Close frames get this long to leave. */
#define MAG_NET_SHUTDOWN_DRAIN_MS 1000
/* A client whose unread output exceeds this many times ws_output_high_watermark is not read from
 * (its requests are what produce that output) until the output drains: a peer that sends but
 * never reads cannot make the server buffer without bound. */
#define MAG_NET_OUTPUT_CAP_FACTOR 4
/* Reassembly buffers above this capacity are released after each message. */
#define MAG_NET_MSG_KEEP_CAP (256 * 1024)

enum mag_conn_state {
    MAG_CS_HTTP_REQUEST,  /* reading a request head/body (handshake timer armed) */
    MAG_CS_WS_OPEN,       /* WebSocket open (idle timer, ping timer) */
    MAG_CS_WS_CLOSING,    /* we sent Close, waiting for the peer's Close (close-wait timer) */
    MAG_CS_DRAINING,      /* flushing output, then FIN + linger, then close (drain timer) */
    MAG_CS_CLOSED         /* terminated; on the reap list */
};

struct mag_conn;

struct mag_http_exchange {
    struct mag_conn *conn;
    mag_http_request req;
    mag_buf body;
    bool head_done;       /* req is parsed, waiting for the body */
    size_t body_len;      /* Content-Length of the current request */
    bool answered;
    bool upgrade_ok;      /* mag_http_upgrade_check() passed */
    bool close_after;     /* close the connection once the answer is flushed */
    mag_buf headers;      /* header lines added to whatever answers this request */
};

struct mag_ws {
    struct mag_conn *conn;
    struct mag_ws_handler h;
    void *hctx;
    mag_ws_parser parser;
    mag_utf8_state utf8;
    mag_buf msg;          /* reassembly of the current text message, reused */
    uint8_t ctl[MAG_WS_MAX_CONTROL_PAYLOAD];
    size_t ctl_len;
    uint8_t msg_opcode;   /* TEXT or BINARY of the message being received */
    bool discard;         /* current data message is not delivered (binary, or closing) */
    bool paused;
    bool notified;        /* on_close was called */
    struct event *ping_ev;
    struct event *app_timer;  /* mag_ws_set_timer (created on first use) */
};

struct mag_conn {
    mag_http_server *srv;
    struct bufferevent *bev;
    enum mag_conn_state state;
    bool is_ws;
    bool lingering;       /* DRAINING: output flushed, FIN sent, swallowing input */
    bool eof;             /* the peer closed its sending side */
    bool want_writable;   /* on_writable armed (output went above the high watermark) */
    bool tls;             /* accepted on the TLS listener (bev is a bufferevent_openssl) */
    bool throttled;       /* reading stopped because the peer does not read (output over cap) */
    uint64_t last_activity_ms;  /* HTTP_REQUEST: when the wait for the current request began */
    char peer[64];
    struct event *timer;  /* meaning depends on state, see enum mag_conn_state */
    TAILQ_ENTRY(mag_conn) link;
    struct mag_http_exchange ex;
    struct mag_ws ws;
};

TAILQ_HEAD(mag_conn_list, mag_conn);

struct mag_http_server {
    struct event_base *base;
    struct mag_http_server_opts o;
    mag_http_request_fn on_request;
    void *ctx;
    struct evconnlistener *listener;
    struct evconnlistener *listener_tls;   /* NULL without TLS */
    void *ssl_ctx;               /* SSL_CTX * of o.tls; NULL without TLS */
    int port;
    int tls_port;                /* 0 without TLS */
    struct event *accept_resume; /* re-enables accepting after EMFILE/ENFILE */
    uint64_t last_limit_warn_ms; /* rate limit for "connection limit" warnings */
    struct mag_conn_list live;   /* every non-terminated connection */
    struct mag_conn_list reap;   /* terminated, freed by the reaper */
    size_t nlive;
    struct event *reaper;
    mag_buf scratch;             /* response heads; single-threaded, reused */
    bool shut_down;
};

/* conn.c */
/* tls: make a bufferevent_openssl in accepting state on s->ssl_ctx. NULL on failure (fd closed). */
struct mag_conn *mag_net_conn_new(mag_http_server *s, evutil_socket_t fd,
                                  const struct sockaddr *sa, int salen, bool tls);
void mag_net_conn_free(struct mag_conn *c);
/* Mark closed, call on_close (once, WebSocket only), queue for the reaper. Idempotent. */
void mag_net_conn_terminate(struct mag_conn *c);
/* True (and reading stopped) when the peer's unread output is over the cap; reading resumes
 * from mag_net_conn_unthrottle once it drains. */
bool mag_net_conn_throttle(struct mag_conn *c);
/* Output drained: resume reading if it was throttled (and not paused by the application). */
void mag_net_conn_unthrottle(struct mag_conn *c);
/* Flush output then close (FIN, linger). timeout_ms bounds the whole thing. */
void mag_net_conn_drain(struct mag_conn *c, int timeout_ms);
/* (Re)arm the conn timer; ms <= 0 disarms it. */
void mag_net_conn_arm(struct mag_conn *c, int ms);
uint64_t mag_net_now_ms(void);

/* http_exchange.c */
void mag_net_http_read(struct mag_conn *c);

/* ws_session.c */
void mag_net_ws_start(struct mag_conn *c, const struct mag_ws_handler *h, void *hctx);
void mag_net_ws_read(struct mag_conn *c);
void mag_net_ws_on_timer(struct mag_conn *c);
void mag_net_ws_on_drained(struct mag_conn *c);
void mag_net_ws_shutdown(struct mag_conn *c);
void mag_net_ws_cleanup(struct mag_conn *c);
/* Stop the ping and handler timers (close started or the connection is going). */
void mag_net_ws_stop_timers(struct mag_ws *ws);

#endif /* MAG_NET_NET_INTERNAL_H */
