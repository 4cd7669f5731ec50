/* ws_client.h -- a small blocking WebSocket client for the tools (magnetar-client).
 *
 * One connection to a ws:// or wss:// server (http:// and https:// are taken as the same), the
 * opening handshake with an optional bearer token, masked client frames and reassembled data
 * messages. Frames are parsed with mag_core's ws_frame codec, the accept key comes from
 * mag_ws_accept_key. TLS is OpenSSL with the options of Pulsar's client.conf
 * (tlsTrustCertsFilePath, tlsAllowInsecureConnection, tlsEnableHostnameVerification,
 * AuthenticationTls's tlsCertFile/tlsKeyFile). Blocking sockets, poll() for timeouts; no
 * threads. Errors leave a one-line English reason in c->err.
 */
#ifndef MAG_TOOLS_WS_CLIENT_H
#define MAG_TOOLS_WS_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "mag/codec/ws_frame.h"
#include "mag/util/buf.h"

#define MAG_WSC_CONNECT_TIMEOUT_MS 10000
#define MAG_WSC_KEEPALIVE_MS 30000     /* ping the server when idle this long */
#define MAG_WSC_MAX_HEAD 16384
#define MAG_WSC_MAX_MESSAGE (256u * 1024 * 1024)

/* One connection and its options. Owned by the caller (one thread): mag_wsc_init, set the
 * options, mag_wsc_parse_url, mag_wsc_open, ..., mag_wsc_finish, mag_wsc_free. */
struct mag_wsc {
    /* options, set by the caller (strings borrowed) */
    const char *url;
    const char *token;
    const char *trust_certs;
    const char *cert_file, *key_file;
    bool allow_insecure;
    bool verify_hostname;
    /* parsed URL */
    bool tls;
    char host[256];
    char port[8];
    char prefix[256];           /* path before /ws, without a trailing '/' */
    char where[280];            /* "host:port" or "[v6]:port", for messages */
    /* connection */
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    mag_buf in;                 /* received bytes not parsed yet, from in_pos */
    size_t in_pos;
    mag_ws_parser wp;
    mag_buf msg;                /* the data message being reassembled */
    uint8_t ctrl[MAG_WS_MAX_CONTROL_PAYLOAD];
    size_t ctrl_len;
    mag_buf out;                /* one frame being written */
    uint64_t last_io_ms;
    bool upgraded;              /* the server answered 101 */
    bool close_sent;
    char err[512];              /* why the connection failed */
};

/* Zero c, no socket yet, hostname verification on. */
void mag_wsc_init(struct mag_wsc *c);

/* Set by mag_wsc_on_sigint (install it without SA_RESTART): waits then return -2. */
extern volatile sig_atomic_t mag_wsc_interrupted;
void mag_wsc_on_sigint(int sig);

/* Split URL into c->tls, host, port (default 80/443) and prefix (path before /ws). false if it
 * is not http://, ws://, https:// or wss:// HOST[:PORT][/PATH]. */
bool mag_wsc_parse_url(struct mag_wsc *c, const char *url);

/* Connect, TLS handshake when c->tls, and upgrade on c->prefix + target (a path with its
 * query). false with c->err: "cannot connect to H:P: Connection refused", the TLS error, or
 * a refusal as "404 Not Found: <the server's reason>". */
bool mag_wsc_open(struct mag_wsc *c, const char *target);

/* Send one masked frame. false with c->err on a write error. */
bool mag_wsc_send(struct mag_wsc *c, uint8_t opcode, const void *data, size_t len);
bool mag_wsc_send_close(struct mag_wsc *c, uint16_t code);

/* Wait up to timeout_ms (< 0: forever) for the next data message, left in c->msg (text or
 * binary). Answers pings; pings an idle server every MAG_WSC_KEEPALIVE_MS. Returns 1 message,
 * 0 timeout, -1 closed or error (c->err, e.g. "the server closed the session: 1011 ..."),
 * -2 interrupted. */
int mag_wsc_recv(struct mag_wsc *c, int timeout_ms);

/* Close 1000, wait briefly for the server's Close, close the socket. */
void mag_wsc_finish(struct mag_wsc *c);

/* Release the buffers (after mag_wsc_finish). */
void mag_wsc_free(struct mag_wsc *c);

/* Append s percent-encoded for a path segment or a query value (RFC 3986 unreserved kept). */
void mag_wsc_append_encoded(mag_buf *b, const char *s);

#endif /* MAG_TOOLS_WS_CLIENT_H */
