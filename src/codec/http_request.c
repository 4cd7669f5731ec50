/* http_request.c -- HTTP/1.1 request-head parser, WebSocket handshake check, response heads.
 *
 * Parsing has two steps: find the end of the head (the first empty line, CRLF or bare LF),
 * resuming the scan where the previous call stopped; then copy the head into the request's own
 * storage and split it in place (NULs replace separators), so every returned string is
 * NUL-terminated and independent of the caller's buffer. The grammar follows RFC 9112 §3 and
 * §5 strictly (single SP separators, token method, origin-form target, no whitespace before
 * the colon, no obs-fold), because the head is attacker-controlled input and the server has no
 * reason to accept anything a normal client would not send. Leading empty lines before the
 * request line are skipped (RFC 9112 §2.2).
 */
#include "mag/codec/http_request.h"

#include <openssl/evp.h>
#include <string.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void mag_http_request_init(mag_http_request *r)
{
    memset(r, 0, sizeof *r);
    mag_buf_init(&r->storage);
    r->content_length = -1;
}

void mag_http_request_reset(mag_http_request *r)
{
    mag_buf storage = r->storage;
    memset(r, 0, sizeof *r);
    r->storage = storage;
    mag_buf_reset(&r->storage);
    r->content_length = -1;
}

void mag_http_request_cleanup(mag_http_request *r)
{
    mag_buf_free(&r->storage);
    mag_http_request_init(r);
}

/* ---------------------------------------------------------------- character classes */

/* tchar (RFC 9110 §5.6.2). */
static bool is_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB, obs-text allowed (RFC 9110 §5.5). */
static bool is_field_char(uint8_t c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7F);
}

/* Request-target bytes: visible ASCII; raw bytes >= 0x80 are tolerated (unencoded UTF-8). */
static bool is_target_char(uint8_t c)
{
    return c > 0x20 && c != 0x7F;
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

static bool mem_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return false;
    return true;
}

/* ---------------------------------------------------------------- head parsing */

/* Find the end of the head. Returns the index just past the final LF, or 0 if not found. */
static size_t find_head_end(mag_http_request *r, const uint8_t *buf, size_t len, size_t start)
{
    size_t i = r->scanned > start ? r->scanned : start;
    for (; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i >= start + 1 && buf[i - 1] == '\n')
            return i + 1;
        if (i >= start + 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n')
            return i + 1;
    }
    r->scanned = len;
    return 0;
}

/* Split the request line "METHOD SP target SP HTTP/1.x" (NUL-terminated, no CR/LF). */
static mag_rc parse_request_line(mag_http_request *r, char *line, size_t len)
{
    char *sp1 = memchr(line, ' ', len);
    if (!sp1 || sp1 == line)
        return MAG_ERR_BAD_REQUEST;
    for (char *p = line; p < sp1; p++)
        if (!is_tchar((uint8_t)*p))
            return MAG_ERR_BAD_REQUEST;
    char *target = sp1 + 1;
    char *end = line + len;
    char *sp2 = memchr(target, ' ', (size_t)(end - target));
    if (!sp2 || sp2 == target || *target != '/')
        return MAG_ERR_BAD_REQUEST;
    for (char *p = target; p < sp2; p++)
        if (!is_target_char((uint8_t)*p))
            return MAG_ERR_BAD_REQUEST;
    char *version = sp2 + 1;
    size_t vlen = (size_t)(end - version);
    if (vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
        (version[7] != '0' && version[7] != '1'))
        return MAG_ERR_BAD_REQUEST;
    r->version_minor = version[7] - '0';
    *sp1 = '\0';
    *sp2 = '\0';
    r->method = line;
    r->target = target;
    return MAG_OK;
}

/* One "name: value" line (NUL-terminated, no CR/LF). */
static mag_rc parse_header_line(mag_http_request *r, char *line, size_t len)
{
    if (line[0] == ' ' || line[0] == '\t')
        return MAG_ERR_BAD_REQUEST;             /* obs-fold (RFC 9112 §5.2) */
    char *colon = memchr(line, ':', len);
    if (!colon || colon == line)
        return MAG_ERR_BAD_REQUEST;
    for (char *p = line; p < colon; p++)
        if (!is_tchar((uint8_t)*p))
            return MAG_ERR_BAD_REQUEST;      /* also rejects whitespace before ':' */
    char *v = colon + 1;
    char *end = line + len;
    for (char *p = v; p < end; p++)
        if (!is_field_char((uint8_t)*p))
            return MAG_ERR_BAD_REQUEST;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (r->nheaders == MAG_HTTP_MAX_HEADERS)
        return MAG_ERR_TOO_LARGE;
    *colon = '\0';
    *end = '\0';
    mag_http_field *f = &r->headers[r->nheaders++];
    f->name = line;
    f->name_len = (size_t)(colon - line);
    f->value = v;
    f->value_len = (size_t)(end - v);
    return MAG_OK;
}

/* Content-Length: 1*DIGIT; repeated fields must agree (RFC 9112 §6.3). */
static mag_rc apply_content_length(mag_http_request *r, const mag_http_field *f)
{
    if (f->value_len == 0 || f->value_len > 18)
        return MAG_ERR_BAD_REQUEST;
    int64_t v = 0;
    for (size_t i = 0; i < f->value_len; i++) {
        char c = f->value[i];
        if (c < '0' || c > '9')
            return MAG_ERR_BAD_REQUEST;
        v = v * 10 + (c - '0');
    }
    if (r->content_length >= 0 && r->content_length != v)
        return MAG_ERR_BAD_REQUEST;
    r->content_length = v;
    return MAG_OK;
}

/* Derive content_length, chunked, keep_alive, expect_continue from the fields. */
static mag_rc apply_headers(mag_http_request *r)
{
    bool conn_close = false, conn_keep = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        const mag_http_field *f = &r->headers[i];
        if (mem_ieq(f->name, f->name_len, "Content-Length", 14)) {
            mag_rc rc = apply_content_length(r, f);
            if (rc != MAG_OK)
                return rc;
        } else if (mem_ieq(f->name, f->name_len, "Transfer-Encoding", 17)) {
            r->chunked = true;
        } else if (mem_ieq(f->name, f->name_len, "Connection", 10)) {
            conn_close |= mag_http_token_list_has(f->value, "close");
            conn_keep |= mag_http_token_list_has(f->value, "keep-alive");
        } else if (mem_ieq(f->name, f->name_len, "Expect", 6)) {
            if (mem_ieq(f->value, f->value_len, "100-continue", 12))
                r->expect_continue = true;
        }
    }
    if (r->version_minor == 1)
        r->keep_alive = !conn_close;
    else
        r->keep_alive = conn_keep && !conn_close;
    return MAG_OK;
}

mag_rc mag_http_request_parse(mag_http_request *r, const uint8_t *buf, size_t len, size_t max_head)
{
    size_t start = 0;
    while (start < len && (buf[start] == '\n' ||
                           (buf[start] == '\r' && start + 1 < len && buf[start + 1] == '\n')))
        start += buf[start] == '\r' ? 2 : 1;

    size_t end = find_head_end(r, buf, len, start);
    if (end == 0) {
        if (max_head && len > max_head)
            return MAG_ERR_TOO_LARGE;
        return MAG_AGAIN;
    }
    if (max_head && end > max_head)
        return MAG_ERR_TOO_LARGE;

    /* Copy the head (without leading empty lines) plus room for separate path/query copies;
     * reserving once keeps every pointer into storage stable. */
    size_t hlen = end - start;
    mag_buf_reset(&r->storage);
    mag_buf_reserve(&r->storage, 2 * hlen + 4);
    mag_buf_append(&r->storage, buf + start, hlen);
    char *h = (char *)r->storage.data;
    r->nheaders = 0;
    r->content_length = -1;
    r->chunked = r->expect_continue = r->keep_alive = false;

    size_t pos = 0, lineno = 0;
    while (pos < hlen) {
        char *nl = memchr(h + pos, '\n', hlen - pos);
        size_t llen = (size_t)(nl - (h + pos));
        char *line = h + pos;
        pos += llen + 1;
        if (llen > 0 && line[llen - 1] == '\r')
            llen--;
        line[llen] = '\0';
        if (memchr(line, '\r', llen))
            return MAG_ERR_BAD_REQUEST;      /* bare CR */
        if (llen == 0)
            break;                            /* the terminating empty line */
        if (memchr(line, '\0', llen))
            return MAG_ERR_BAD_REQUEST;
        mag_rc rc = lineno++ == 0 ? parse_request_line(r, line, llen)
                                  : parse_header_line(r, line, llen);
        if (rc != MAG_OK)
            return rc;
    }
    if (lineno == 0)
        return MAG_ERR_BAD_REQUEST;

    mag_rc rc = apply_headers(r);
    if (rc != MAG_OK)
        return rc;

    /* Separate NUL-terminated copies of path and query (the target stays intact). */
    size_t tlen = strlen(r->target);
    const char *q = memchr(r->target, '?', tlen);
    size_t plen = q ? (size_t)(q - r->target) : tlen;
    size_t qlen = q ? tlen - plen - 1 : 0;
    char *path = (char *)r->storage.data + r->storage.len;
    mag_buf_append(&r->storage, r->target, plen);
    mag_buf_append_byte(&r->storage, 0);
    char *query = (char *)r->storage.data + r->storage.len;
    if (qlen)
        mag_buf_append(&r->storage, q + 1, qlen);
    mag_buf_append_byte(&r->storage, 0);
    r->path = path;
    r->path_len = plen;
    r->query = query;
    r->query_len = qlen;
    r->head_len = end;
    return MAG_OK;
}

const char *mag_http_request_header(const mag_http_request *r, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < r->nheaders; i++)
        if (mem_ieq(r->headers[i].name, r->headers[i].name_len, name, n))
            return r->headers[i].value;
    return NULL;
}

bool mag_http_token_list_has(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s && mem_ieq(s, (size_t)(e - s), token, tlen))
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- WebSocket handshake */

static bool is_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

/* base64 of exactly 16 bytes: 22 alphabet characters followed by "==". */
static bool ws_key_valid(const char *key)
{
    if (strlen(key) != 24 || key[22] != '=' || key[23] != '=')
        return false;
    for (int i = 0; i < 22; i++)
        if (!is_b64_char(key[i]))
            return false;
    return true;
}

mag_ws_handshake mag_ws_handshake_check(const mag_http_request *r, const char **key)
{
    if (!r->method || strcmp(r->method, "GET") != 0)
        return MAG_WS_HS_NOT_GET;
    if (r->version_minor != 1)
        return MAG_WS_HS_NOT_HTTP11;
    const char *up = mag_http_request_header(r, "Upgrade");
    if (!up || !mag_http_token_list_has(up, "websocket"))
        return MAG_WS_HS_NO_UPGRADE;
    const char *conn = mag_http_request_header(r, "Connection");
    if (!conn || !mag_http_token_list_has(conn, "upgrade"))
        return MAG_WS_HS_NO_CONNECTION;
    const char *k = mag_http_request_header(r, "Sec-WebSocket-Key");
    if (!k || !ws_key_valid(k))
        return MAG_WS_HS_BAD_KEY;
    const char *ver = mag_http_request_header(r, "Sec-WebSocket-Version");
    if (!ver || strcmp(ver, "13") != 0)
        return MAG_WS_HS_BAD_VERSION;
    if (key)
        *key = k;
    return MAG_WS_HS_OK;
}

int mag_ws_handshake_status(mag_ws_handshake hs)
{
    switch (hs) {
    case MAG_WS_HS_OK:
        return 101;
    case MAG_WS_HS_NOT_GET:
        return 405;
    case MAG_WS_HS_BAD_VERSION:
        return 426;
    case MAG_WS_HS_NOT_HTTP11:
    case MAG_WS_HS_NO_UPGRADE:
    case MAG_WS_HS_NO_CONNECTION:
    case MAG_WS_HS_BAD_KEY:
        break;
    }
    return 400;
}

const char *mag_ws_handshake_reason(mag_ws_handshake hs)
{
    switch (hs) {
    case MAG_WS_HS_OK:
        return "ok";
    case MAG_WS_HS_NOT_GET:
        return "WebSocket upgrade requires GET";
    case MAG_WS_HS_NOT_HTTP11:
        return "WebSocket upgrade requires HTTP/1.1";
    case MAG_WS_HS_NO_UPGRADE:
        return "missing or invalid Upgrade header";
    case MAG_WS_HS_NO_CONNECTION:
        return "Connection header lacks the upgrade token";
    case MAG_WS_HS_BAD_KEY:
        return "missing or invalid Sec-WebSocket-Key";
    case MAG_WS_HS_BAD_VERSION:
        return "unsupported Sec-WebSocket-Version";
    }
    return "invalid handshake";
}

void mag_ws_accept_key(const char *key, size_t key_len, char out[MAG_WS_ACCEPT_KEY_SIZE])
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, key, key_len) != 1 ||
        EVP_DigestUpdate(ctx, WS_GUID, sizeof WS_GUID - 1) != 1 ||
        EVP_DigestFinal_ex(ctx, digest, &dlen) != 1 || dlen != 20) {
        /* Only an OpenSSL malfunction gets here; an empty key can never match a client's. */
        out[0] = '\0';
        EVP_MD_CTX_free(ctx);
        return;
    }
    EVP_MD_CTX_free(ctx);
    EVP_EncodeBlock((unsigned char *)out, digest, 20);   /* 28 chars + NUL */
}

/* ---------------------------------------------------------------- responses */

const char *mag_http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void mag_http_response_head(mag_buf *out, int status, const char *content_type,
                            int64_t content_length, const char *connection,
                            const char *extra_headers)
{
    mag_buf_append_str(out, "HTTP/1.1 ");
    mag_buf_append_i64(out, status);
    mag_buf_append_byte(out, ' ');
    mag_buf_append_str(out, mag_http_reason(status));
    mag_buf_append_str(out, "\r\n");
    if (content_type) {
        mag_buf_append_str(out, "Content-Type: ");
        mag_buf_append_str(out, content_type);
        mag_buf_append_str(out, "\r\n");
    }
    if (content_length >= 0) {
        mag_buf_append_str(out, "Content-Length: ");
        mag_buf_append_i64(out, content_length);
        mag_buf_append_str(out, "\r\n");
    }
    if (connection) {
        mag_buf_append_str(out, "Connection: ");
        mag_buf_append_str(out, connection);
        mag_buf_append_str(out, "\r\n");
    }
    if (extra_headers)
        mag_buf_append_str(out, extra_headers);
    mag_buf_append_str(out, "\r\n");
}
