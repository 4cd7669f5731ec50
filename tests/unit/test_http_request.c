/* test_http_request.c -- unit tests for the HTTP request-head parser, the WebSocket handshake
 * check, the accept key and the response-head builder (src/codec/http_request.c).
 *
 * Heads are fed whole, byte by byte and in random splits (must give identical results), with
 * bare-LF and leading-empty-line variants; every malformed-head path returns the documented
 * code; every handshake variant maps to the documented result and HTTP status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/http_request.h"
#include "mag_test.h"

#define SAMPLE_KEY "dGhlIHNhbXBsZSBub25jZQ=="

static const char WS_REQ[] =
    "GET /ws/v2/producer/persistent/public/default/my%20topic?producerName=p1&x= HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "X-Spaces: \t padded value \t \r\n"
    "x-dup: first\r\n"
    "X-Dup: second\r\n"
    "\r\n";

static mag_rc parse_str(mag_http_request *r, const char *s, size_t max)
{
    mag_http_request_reset(r);
    return mag_http_request_parse(r, (const uint8_t *)s, strlen(s), max);
}

static void check_ws_req(const mag_http_request *r, size_t head_len)
{
    CHECK_STR(r->method, "GET");
    CHECK_STR(r->path, "/ws/v2/producer/persistent/public/default/my%20topic");
    CHECK_EQ_INT(r->path_len, strlen(r->path));
    CHECK_STR(r->query, "producerName=p1&x=");
    CHECK_EQ_INT(r->query_len, 18);
    CHECK_STR(r->target,
              "/ws/v2/producer/persistent/public/default/my%20topic?producerName=p1&x=");
    CHECK_EQ_INT(r->version_minor, 1);
    CHECK_EQ_INT(r->nheaders, 8);
    CHECK_STR(mag_http_request_header(r, "host"), "localhost:8080");
    CHECK_STR(mag_http_request_header(r, "UPGRADE"), "websocket");
    CHECK_STR(mag_http_request_header(r, "x-spaces"), "padded value");
    CHECK_STR(mag_http_request_header(r, "X-DUP"), "first");
    CHECK(mag_http_request_header(r, "X-Du") == NULL);
    CHECK(mag_http_request_header(r, "X-Dupe") == NULL);
    CHECK_EQ_INT(r->content_length, -1);
    CHECK(!r->chunked);
    CHECK(r->keep_alive);
    CHECK_EQ_INT(r->head_len, head_len);
}

MAG_TEST(parse_whole)
{
    mag_http_request r;
    mag_http_request_init(&r);
    CHECK_EQ_INT(parse_str(&r, WS_REQ, 0), MAG_OK);
    check_ws_req(&r, strlen(WS_REQ));
    CHECK_EQ_INT(mag_ws_handshake_check(&r, NULL), MAG_WS_HS_OK);
    mag_http_request_cleanup(&r);
}

MAG_TEST(parse_bytewise_and_trailing_data)
{
    size_t n = strlen(WS_REQ);
    char *buf = malloc(n + 8);
    memcpy(buf, WS_REQ, n);
    memcpy(buf + n, "\x81\x80" "junkjk", 8);   /* pipelined WebSocket bytes after the head */
    mag_http_request r;
    mag_http_request_init(&r);
    for (size_t i = 1; i < n; i++)
        CHECK_EQ_INT(mag_http_request_parse(&r, (const uint8_t *)buf, i, 0), MAG_AGAIN);
    CHECK_EQ_INT(mag_http_request_parse(&r, (const uint8_t *)buf, n + 8, 0), MAG_OK);
    check_ws_req(&r, n);
    /* Random splits give the same result. */
    srand(7);
    for (int round = 0; round < 50; round++) {
        mag_http_request_reset(&r);
        size_t pos = 0;
        mag_rc rc = MAG_AGAIN;
        while (rc == MAG_AGAIN) {
            pos += 1 + (size_t)rand() % 40;
            if (pos > n + 8)
                pos = n + 8;
            rc = mag_http_request_parse(&r, (const uint8_t *)buf, pos, 0);
        }
        CHECK_EQ_INT(rc, MAG_OK);
        check_ws_req(&r, n);
    }
    free(buf);
    mag_http_request_cleanup(&r);
}

MAG_TEST(bare_lf_and_leading_empty_lines)
{
    mag_http_request r;
    mag_http_request_init(&r);
    const char *s = "GET /a?b HTTP/1.1\nHost: x\n\n";
    CHECK_EQ_INT(parse_str(&r, s, 0), MAG_OK);
    CHECK_STR(r.path, "/a");
    CHECK_STR(r.query, "b");
    CHECK_STR(mag_http_request_header(&r, "Host"), "x");
    CHECK_EQ_INT(r.head_len, strlen(s));
    s = "\r\n\r\nGET / HTTP/1.1\r\nHost: y\r\n\r\n";
    CHECK_EQ_INT(parse_str(&r, s, 0), MAG_OK);
    CHECK_STR(r.path, "/");
    CHECK_STR(r.query, "");
    CHECK_EQ_INT(r.head_len, strlen(s));
    /* Mixed: CRLF request line, LF-only end. */
    s = "GET / HTTP/1.1\r\nA: 1\n\r\n";
    CHECK_EQ_INT(parse_str(&r, s, 0), MAG_OK);
    CHECK_EQ_INT(r.head_len, strlen(s));
    /* Only empty lines so far: still waiting. */
    CHECK_EQ_INT(parse_str(&r, "\r\n\r\n", 0), MAG_AGAIN);
    CHECK_EQ_INT(parse_str(&r, "\r", 0), MAG_AGAIN);
    /* No headers at all. */
    CHECK_EQ_INT(parse_str(&r, "GET /x HTTP/1.0\r\n\r\n", 0), MAG_OK);
    CHECK_EQ_INT(r.nheaders, 0);
    CHECK_EQ_INT(r.version_minor, 0);
    CHECK(!r.keep_alive);
    mag_http_request_cleanup(&r);
}

MAG_TEST(connection_semantics)
{
    mag_http_request r;
    mag_http_request_init(&r);
    CHECK_EQ_INT(parse_str(&r, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 0), MAG_OK);
    CHECK(!r.keep_alive);
    CHECK_EQ_INT(parse_str(&r, "GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", 0),
                 MAG_OK);
    CHECK(!r.keep_alive);
    CHECK_EQ_INT(parse_str(&r, "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0), MAG_OK);
    CHECK(r.keep_alive);
    CHECK_EQ_INT(parse_str(&r, "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", 0), MAG_OK);
    CHECK(r.keep_alive);
    CHECK_EQ_INT(parse_str(&r, "POST /a HTTP/1.1\r\nExpect: 100-Continue\r\n"
                               "Content-Length: 5\r\n\r\n", 0), MAG_OK);
    CHECK(r.expect_continue);
    CHECK_EQ_INT(r.content_length, 5);
    CHECK_EQ_INT(parse_str(&r, "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 0),
                 MAG_OK);
    CHECK(r.chunked);
    CHECK_EQ_INT(r.content_length, -1);
    mag_http_request_cleanup(&r);
}

MAG_TEST(content_length)
{
    mag_http_request r;
    mag_http_request_init(&r);
    CHECK_EQ_INT(parse_str(&r, "PUT /a HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0), MAG_OK);
    CHECK_EQ_INT(r.content_length, 0);
    CHECK_EQ_INT(parse_str(&r, "PUT /a HTTP/1.1\r\ncontent-length: 123456\r\n"
                               "Content-Length: 123456\r\n\r\n", 0), MAG_OK);
    CHECK_EQ_INT(r.content_length, 123456);
    static const char *bad[] = {
        "PUT /a HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "PUT /a HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "PUT /a HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "PUT /a HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\n",
        "PUT /a HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "PUT /a HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(parse_str(&r, bad[i], 0), MAG_ERR_BAD_REQUEST);
    mag_http_request_cleanup(&r);
}

MAG_TEST(malformed_heads)
{
    static const char *bad[] = {
        "GET\r\n\r\n",
        "GET / \r\n\r\n",
        "GET  / HTTP/1.1\r\n\r\n",            /* double space */
        "GET /  HTTP/1.1\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n",
        "G(T / HTTP/1.1\r\n\r\n",             /* method not a token */
        "GET x HTTP/1.1\r\n\r\n",             /* not origin-form */
        "GET http://h/ HTTP/1.1\r\n\r\n",
        "GET / HTTP/2.0\r\n\r\n",
        "GET / HTTP/1.2\r\n\r\n",
        "GET / http/1.1\r\n\r\n",
        "GET / HTTP/1.1 \r\n\r\n",
        "GET /\x01 HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",   /* obs-fold */
        "GET / HTTP/1.1\r\n\tfolded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost : a\r\n\r\n",  /* space before colon */
        "GET / HTTP/1.1\r\n: a\r\n\r\n",       /* empty name */
        "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n",   /* bare CR */
        "GET / HTTP/1.1\r\nA: b\x01\r\n\r\n",  /* CTL in value */
        "GET / HTTP/1.1\r\nA: b\x7F\r\n\r\n",
        "GET / HTTP/1.1\r\nA\x80: b\r\n\r\n",  /* non-token name */
        "GET / HTTP/1.1\r\r\n\r\n",
    };
    mag_http_request r;
    mag_http_request_init(&r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mag_rc rc = parse_str(&r, bad[i], 0);
        if (rc != MAG_ERR_BAD_REQUEST)
            fprintf(stderr, "case %zu: rc %d\n", i, rc);
        CHECK_EQ_INT(rc, MAG_ERR_BAD_REQUEST);
    }
    /* NUL inside a header line. */
    static const char nul[] = "GET / HTTP/1.1\r\nA: b\0c\r\n\r\n";
    mag_http_request_reset(&r);
    CHECK_EQ_INT(mag_http_request_parse(&r, (const uint8_t *)nul, sizeof nul - 1, 0),
                 MAG_ERR_BAD_REQUEST);
    /* obs-text (UTF-8) in values and raw UTF-8 in the target are tolerated. */
    CHECK_EQ_INT(parse_str(&r, "GET /t\xC3\xA9 HTTP/1.1\r\nA: caf\xC3\xA9\r\n\r\n", 0), MAG_OK);
    CHECK_STR(r.path, "/t\xC3\xA9");
    CHECK_STR(mag_http_request_header(&r, "a"), "caf\xC3\xA9");
    mag_http_request_cleanup(&r);
}

MAG_TEST(limits)
{
    mag_http_request r;
    mag_http_request_init(&r);
    const char *s = "GET / HTTP/1.1\r\nHost: abcdefghij\r\n\r\n";   /* 36 bytes */
    CHECK_EQ_INT(parse_str(&r, s, strlen(s)), MAG_OK);
    CHECK_EQ_INT(parse_str(&r, s, strlen(s) - 1), MAG_ERR_TOO_LARGE);
    /* Incomplete head already longer than the limit. */
    CHECK_EQ_INT(parse_str(&r, "GET / HTTP/1.1\r\nHost: abcdefghij", 20), MAG_ERR_TOO_LARGE);
    CHECK_EQ_INT(parse_str(&r, "GET / HTTP/1.1\r\nHost: abc", 40), MAG_AGAIN);
    /* Exactly MAG_HTTP_MAX_HEADERS fields pass; one more is too large. */
    mag_buf b = MAG_BUF_INIT;
    mag_buf_append_str(&b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < MAG_HTTP_MAX_HEADERS; i++)
        mag_buf_appendf(&b, "H%d: %d\r\n", i, i);
    size_t at_limit = b.len;
    mag_buf_append_str(&b, "\r\n");
    mag_http_request_reset(&r);
    CHECK_EQ_INT(mag_http_request_parse(&r, b.data, b.len, 0), MAG_OK);
    CHECK_EQ_INT(r.nheaders, MAG_HTTP_MAX_HEADERS);
    CHECK_STR(mag_http_request_header(&r, "h99"), "99");
    b.len = at_limit;
    mag_buf_append_str(&b, "Extra: 1\r\n\r\n");
    mag_http_request_reset(&r);
    CHECK_EQ_INT(mag_http_request_parse(&r, b.data, b.len, 0), MAG_ERR_TOO_LARGE);
    mag_buf_free(&b);
    mag_http_request_cleanup(&r);
}

static mag_ws_handshake hs_of(const char *head)
{
    mag_http_request r;
    mag_http_request_init(&r);
    mag_rc rc = parse_str(&r, head, 0);
    mag_ws_handshake hs = rc == MAG_OK ? mag_ws_handshake_check(&r, NULL) : (mag_ws_handshake)-1;
    mag_http_request_cleanup(&r);
    return hs;
}

#define HS(method, ver, extra) \
    method " /ws HTTP/1." ver "\r\nHost: h\r\n" extra "\r\n"
#define STD_UP "Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define STD_KEY "Sec-WebSocket-Key: " SAMPLE_KEY "\r\n"
#define STD_VER "Sec-WebSocket-Version: 13\r\n"

MAG_TEST(handshake_variants)
{
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP STD_KEY STD_VER)), MAG_WS_HS_OK);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "upgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
                                     STD_KEY STD_VER)), MAG_WS_HS_OK);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Upgrade: websocket\r\nConnection: upgrade,keep-alive\r\n"
                                     STD_KEY STD_VER)), MAG_WS_HS_OK);
    CHECK_EQ_INT(hs_of(HS("POST", "1", STD_UP STD_KEY STD_VER)), MAG_WS_HS_NOT_GET);
    CHECK_EQ_INT(hs_of(HS("get", "1", STD_UP STD_KEY STD_VER)), MAG_WS_HS_NOT_GET);
    CHECK_EQ_INT(hs_of(HS("GET", "0", STD_UP STD_KEY STD_VER)), MAG_WS_HS_NOT_HTTP11);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Connection: Upgrade\r\n" STD_KEY STD_VER)),
                 MAG_WS_HS_NO_UPGRADE);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Upgrade: websocketx\r\nConnection: Upgrade\r\n"
                                     STD_KEY STD_VER)), MAG_WS_HS_NO_UPGRADE);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Upgrade: websock\r\nConnection: Upgrade\r\n"
                                     STD_KEY STD_VER)), MAG_WS_HS_NO_UPGRADE);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Upgrade: websocket\r\n" STD_KEY STD_VER)),
                 MAG_WS_HS_NO_CONNECTION);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Upgrade: websocket\r\nConnection: upgradex\r\n"
                                     STD_KEY STD_VER)), MAG_WS_HS_NO_CONNECTION);
    CHECK_EQ_INT(hs_of(HS("GET", "1", "Upgrade: websocket\r\nConnection: upg\r\n"
                                     STD_KEY STD_VER)), MAG_WS_HS_NO_CONNECTION);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP STD_VER)), MAG_WS_HS_BAD_KEY);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n"
                                     STD_VER)), MAG_WS_HS_BAD_KEY);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ===\r\n"
                                     STD_VER)), MAG_WS_HS_BAD_KEY);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQQQ\r\n"
                                     STD_VER)), MAG_WS_HS_BAD_KEY);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j-Q==\r\n"
                                     STD_VER)), MAG_WS_HS_BAD_KEY);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP STD_KEY)), MAG_WS_HS_BAD_VERSION);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP STD_KEY "Sec-WebSocket-Version: 8\r\n")),
                 MAG_WS_HS_BAD_VERSION);
    CHECK_EQ_INT(hs_of(HS("GET", "1", STD_UP STD_KEY "Sec-WebSocket-Version: 13, 8\r\n")),
                 MAG_WS_HS_BAD_VERSION);

    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_OK), 101);
    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_NOT_GET), 405);
    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_NOT_HTTP11), 400);
    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_NO_UPGRADE), 400);
    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_NO_CONNECTION), 400);
    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_BAD_KEY), 400);
    CHECK_EQ_INT(mag_ws_handshake_status(MAG_WS_HS_BAD_VERSION), 426);
    CHECK_STR(mag_ws_handshake_reason(MAG_WS_HS_BAD_KEY), "missing or invalid Sec-WebSocket-Key");
}

MAG_TEST(handshake_key_out)
{
    mag_http_request r;
    mag_http_request_init(&r);
    CHECK_EQ_INT(parse_str(&r, WS_REQ, 0), MAG_OK);
    const char *key = NULL;
    CHECK_EQ_INT(mag_ws_handshake_check(&r, &key), MAG_WS_HS_OK);
    CHECK_STR(key, SAMPLE_KEY);
    mag_http_request_cleanup(&r);
}

MAG_TEST(token_list)
{
    CHECK(mag_http_token_list_has("Upgrade", "upgrade"));
    CHECK(mag_http_token_list_has(" keep-alive ,  UPGRADE  ", "upgrade"));
    CHECK(mag_http_token_list_has(",,upgrade,", "upgrade"));
    CHECK(!mag_http_token_list_has("upgrades", "upgrade"));
    CHECK(!mag_http_token_list_has("upgrad", "upgrade"));
    CHECK(!mag_http_token_list_has("", "upgrade"));
    CHECK(!mag_http_token_list_has("up grade", "upgrade"));
}

MAG_TEST(accept_key_rfc_sample)
{
    char out[MAG_WS_ACCEPT_KEY_SIZE];
    mag_ws_accept_key(SAMPLE_KEY, strlen(SAMPLE_KEY), out);
    /* RFC 6455 §1.3's value (verified with Python hashlib/base64). */
    CHECK_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    mag_ws_accept_key("x3JJHMbDL1EzLkh9GBhXDw==", 24, out);   /* RFC 6455 §1.2 / §4.1 example */
    CHECK_STR(out, "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

MAG_TEST(response_head)
{
    mag_buf b = MAG_BUF_INIT;
    mag_http_response_head(&b, 200, "application/json", 2, NULL, NULL);
    CHECK_STR(mag_buf_cstr(&b),
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n");
    mag_buf_reset(&b);
    mag_http_response_head(&b, 426, "text/plain", 0, "close", "Sec-WebSocket-Version: 13\r\n");
    CHECK_STR(mag_buf_cstr(&b),
              "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
              "Connection: close\r\nSec-WebSocket-Version: 13\r\n\r\n");
    mag_buf_reset(&b);
    mag_http_response_head(&b, 799, NULL, -1, NULL, NULL);
    CHECK_STR(mag_buf_cstr(&b), "HTTP/1.1 799 Unknown\r\n\r\n");
    mag_buf_free(&b);
    CHECK_STR(mag_http_reason(404), "Not Found");
    CHECK_STR(mag_http_reason(431), "Request Header Fields Too Large");
    CHECK_STR(mag_http_reason(413), "Content Too Large");
    CHECK_STR(mag_http_reason(101), "Switching Protocols");
}

int main(void)
{
    RUN(parse_whole);
    RUN(parse_bytewise_and_trailing_data);
    RUN(bare_lf_and_leading_empty_lines);
    RUN(connection_semantics);
    RUN(content_length);
    RUN(malformed_heads);
    RUN(limits);
    RUN(handshake_variants);
    RUN(handshake_key_out);
    RUN(token_list);
    RUN(accept_key_rfc_sample);
    RUN(response_head);
    return mag_test_summary();
}
