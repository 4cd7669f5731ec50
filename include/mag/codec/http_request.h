/* http_request.h -- pure HTTP/1.1 request-head parser, WebSocket handshake check, response heads.
 *
 * The parser works picohttpparser-style: the caller keeps the received bytes and calls
 * mag_http_request_parse() again with the longer buffer; the parser remembers how far it has
 * scanned for the end of the head, so a byte-at-a-time peer costs O(n) overall. On success the
 * request line and headers are copied into storage owned by the mag_http_request (NUL-terminated
 * strings), so the caller may drop its buffer. Line endings: CRLF, and a bare LF is tolerated
 * (RFC 9112 §2.2 permits it); a bare CR is an error. obs-fold lines are rejected (400).
 * The WebSocket handshake check (RFC 6455 §4.2.1) and accept-key computation are pure functions
 * so that they can be unit-tested and fuzzed without sockets.
 */
#ifndef MAG_CODEC_HTTP_REQUEST_H
#define MAG_CODEC_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Most header fields accepted in one request; more -> MAG_ERR_TOO_LARGE (431). */
#define MAG_HTTP_MAX_HEADERS 100
/* Length of a Sec-WebSocket-Accept value plus its NUL. */
#define MAG_WS_ACCEPT_KEY_SIZE 29

typedef struct mag_http_field {
    const char *name;   /* NUL-terminated, as received (case preserved) */
    size_t name_len;
    const char *value;  /* NUL-terminated, leading/trailing spaces and tabs removed */
    size_t value_len;
} mag_http_field;

/* A parsed request head. All pointers point into `storage` and live until the next parse,
 * reset or cleanup. Embed it and initialise with mag_http_request_init. */
typedef struct mag_http_request {
    const char *method;         /* e.g. "GET" */
    const char *target;         /* raw request target, e.g. "/a%20b?x=1" */
    const char *path;           /* target up to '?', still percent-encoded */
    size_t path_len;
    const char *query;          /* text after the first '?', "" if none */
    size_t query_len;
    int version_minor;          /* 1 for HTTP/1.1, 0 for HTTP/1.0 */
    mag_http_field headers[MAG_HTTP_MAX_HEADERS];
    size_t nheaders;
    int64_t content_length;     /* -1 when absent */
    bool chunked;               /* a Transfer-Encoding header was present (any value) */
    bool keep_alive;            /* per version default and the Connection header */
    bool expect_continue;       /* Expect: 100-continue */
    size_t head_len;            /* bytes of the input the head occupied, final empty line incl. */
    /* private */
    mag_buf storage;
    size_t scanned;
} mag_http_request;

void mag_http_request_init(mag_http_request *r);
/* Forget the parsed request and the scan position; keeps the storage capacity. */
void mag_http_request_reset(mag_http_request *r);
/* Release the storage. */
void mag_http_request_cleanup(mag_http_request *r);

/* Parse the request head at the start of buf (len bytes received so far; buf is borrowed and
 * must start with the same bytes on every call until MAG_OK or an error). max_head limits the
 * head size in bytes (0 = unlimited). Returns:
 *   MAG_OK             r is filled; r->head_len bytes of buf belong to the head
 *   MAG_AGAIN          the head is not complete yet (call again with more bytes)
 *   MAG_ERR_TOO_LARGE  head longer than max_head, or more than MAG_HTTP_MAX_HEADERS fields
 *   MAG_ERR_BAD_REQUEST malformed request line (method not a token, target not origin-form,
 *                      version not HTTP/1.0 or HTTP/1.1), malformed header line, obs-fold, bare
 *                      CR, control characters, bad or conflicting Content-Length */
mag_rc mag_http_request_parse(mag_http_request *r, const uint8_t *buf, size_t len, size_t max_head);

/* First header called name (ASCII case-insensitive), or NULL. The result lives as long as r. */
const char *mag_http_request_header(const mag_http_request *r, const char *name);

/* True if the comma-separated token list in value contains token (case-insensitive; lengths
 * compared first so a prefix never matches). */
bool mag_http_token_list_has(const char *value, const char *token);

/* Result of the WebSocket handshake check, in the order the checks are made. */
typedef enum mag_ws_handshake {
    MAG_WS_HS_OK = 0,
    MAG_WS_HS_NOT_GET,          /* 405 */
    MAG_WS_HS_NOT_HTTP11,       /* 400 */
    MAG_WS_HS_NO_UPGRADE,       /* 400: Upgrade header missing or not "websocket" */
    MAG_WS_HS_NO_CONNECTION,    /* 400: Connection header lacks the "upgrade" token */
    MAG_WS_HS_BAD_KEY,          /* 400: Sec-WebSocket-Key missing or not base64 of 16 bytes */
    MAG_WS_HS_BAD_VERSION       /* 426 + "Sec-WebSocket-Version: 13": missing or not 13 */
} mag_ws_handshake;

/* Validate r as a WebSocket opening handshake (RFC 6455 §4.2.1). On MAG_WS_HS_OK and if key is
 * non-NULL, *key gets the Sec-WebSocket-Key value (borrowed from r). */
mag_ws_handshake mag_ws_handshake_check(const mag_http_request *r, const char **key);
/* HTTP status to answer a failed check with (405, 400 or 426); 101 for MAG_WS_HS_OK. */
int mag_ws_handshake_status(mag_ws_handshake hs);
/* Short English reason for a check result, e.g. "missing Sec-WebSocket-Key"; never NULL. */
const char *mag_ws_handshake_reason(mag_ws_handshake hs);

/* Sec-WebSocket-Accept = base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
 * Writes 28 characters and a NUL into out (MAG_WS_ACCEPT_KEY_SIZE bytes). */
void mag_ws_accept_key(const char *key, size_t key_len, char out[MAG_WS_ACCEPT_KEY_SIZE]);

/* Standard reason phrase for an HTTP status ("OK", "Not Found", ...); "Unknown" otherwise. */
const char *mag_http_reason(int status);

/* Append a response head to out: "HTTP/1.1 <status> <reason>\r\n", then Content-Type (if
 * content_type is non-NULL), Content-Length (if content_length >= 0), Connection (if connection
 * is non-NULL, e.g. "keep-alive", "close", "Upgrade"), extra_headers verbatim (NULL or
 * "Name: value\r\n" lines) and the final empty line. */
void mag_http_response_head(mag_buf *out, int status, const char *content_type,
                            int64_t content_length, const char *connection,
                            const char *extra_headers);

#endif /* MAG_CODEC_HTTP_REQUEST_H */
