/* test_http_server.c -- component test of mag_http_server over real loopback sockets.
 *
 * The server runs in-process on its own event-loop thread (port 0, tiny echo application);
 * the test body is a blocking-socket client that writes raw HTTP and hand-built, masked
 * WebSocket frames and checks the exact bytes that come back: keep-alive and pipelining, the
 * server's own HTTP errors, the upgrade, echo, ping/pong, fragmentation with an interleaved
 * ping, both close handshakes, 1002/1007/1009 failures, idle and handshake timeouts, server
 * pings, backpressure (pause/resume, on_writable), the connection limit and shutdown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "mag/codec/ws_frame.h"
#include "mag/net/http_server.h"
#include "mag_test.h"

/* ---------------------------------------------------------------- server side (loop thread) */

static struct event_base *g_base;
static mag_http_server *g_srv;
static pthread_t g_thread;
static atomic_int g_closes, g_writable, g_requests;

static void on_text(void *ctx, mag_ws *ws, const char *data, size_t len);
static void on_writable(void *ctx, mag_ws *ws);
static void on_close(void *ctx, mag_ws *ws);
static void on_timer(void *ctx, mag_ws *ws);
static const struct mag_ws_handler echo_handler = { on_text, on_writable, on_close, on_timer };

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    mag_ws_pause_reading(arg, false);
}

static void on_text(void *ctx, mag_ws *ws, const char *data, size_t len)
{
    (void)ctx;
    if (data[len] != '\0')
        abort();   /* the NUL-termination contract */
    if (strcmp(data, "close-me") == 0) {
        mag_ws_close(ws, 1000, "bye");
        mag_ws_send_text(ws, "after-close", 11);   /* must be a no-op */
    } else if (strcmp(data, "pause") == 0) {
        mag_ws_pause_reading(ws, true);
        struct timeval tv = { 0, 150000 };
        event_base_once(g_base, -1, EV_TIMEOUT, resume_cb, ws, &tv);
    } else if (strcmp(data, "flood") == 0) {
        static char chunk[8192];
        memset(chunk, 'f', sizeof chunk);
        for (int i = 0; i < 1000 && !mag_ws_output_full(ws); i++)
            mag_ws_send_text(ws, chunk, sizeof chunk);
    } else if (strncmp(data, "timer ", 6) == 0) {
        mag_ws_set_timer(ws, atol(data + 6));       /* "timer -1" cancels */
    } else if (strcmp(data, "peer") == 0) {
        const char *p = mag_ws_peer(ws);
        mag_ws_send_text(ws, p, strlen(p));
    } else {
        mag_ws_send_text(ws, data, len);
    }
}

static void on_writable(void *ctx, mag_ws *ws)
{
    (void)ctx;
    atomic_fetch_add(&g_writable, 1);
    mag_ws_send_text(ws, "writable", 8);
}

static void on_timer(void *ctx, mag_ws *ws)
{
    (void)ctx;
    mag_ws_send_text(ws, "tick", 4);
}

static void on_close(void *ctx, mag_ws *ws)
{
    (void)ctx;
    (void)ws;
    atomic_fetch_add(&g_closes, 1);
}

static void on_request(void *ctx, mag_http_exchange *ex)
{
    (void)ctx;
    atomic_fetch_add(&g_requests, 1);
    const char *path = mag_http_path(ex);
    if (strncmp(path, "/ws", 3) == 0) {
        if (mag_http_upgrade_check(ex) != MAG_OK)
            return;
        mag_ws *ws = mag_http_upgrade(ex, &echo_handler, NULL);
        if (!ws)
            abort();
        if (strcmp(path, "/wsclose") == 0)
            mag_ws_close(ws, 4000, "nope");   /* closing from inside the request callback */
        return;
    }
    if (strcmp(path, "/hello") == 0) {
        mag_http_respond(ex, 200, "text/plain", "hello", 5, NULL);
    } else if (strcmp(path, "/echo") == 0) {
        size_t len;
        const uint8_t *b = mag_http_body(ex, &len);
        char extra[128];
        const char *xh = mag_http_header(ex, "x-test");
        snprintf(extra, sizeof extra, "X-Query: %s\r\nX-Test: %s\r\n", mag_http_query(ex),
                 xh ? xh : "-");
        mag_http_respond(ex, 200, "application/octet-stream", b, len, extra);
    } else if (strcmp(path, "/noanswer") == 0) {
        /* deliberately no answer: the server must send 500 */
    } else {
        mag_http_respond(ex, 404, "text/plain", "nope", 4, NULL);
        mag_http_respond(ex, 200, "text/plain", "twice", 5, NULL);   /* ignored */
    }
}

static void *loop_main(void *arg)
{
    (void)arg;
    event_base_loop(g_base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

static int start_server(const struct mag_http_server_opts *o)
{
    g_base = event_base_new();
    event_base_priority_init(g_base, 3);
    mag_rc rc;
    g_srv = mag_http_server_new(g_base, o, on_request, NULL, &rc);
    if (!g_srv) {
        fprintf(stderr, "server start failed: %d\n", rc);
        exit(1);
    }
    pthread_create(&g_thread, NULL, loop_main, NULL);
    return mag_http_server_port(g_srv);
}

static void stop_server(void)
{
    event_base_loopexit(g_base, NULL);
    pthread_join(g_thread, NULL);
    mag_http_server_free(g_srv);
    event_base_free(g_base);
    g_srv = NULL;
    g_base = NULL;
}

static void default_opts(struct mag_http_server_opts *o)
{
    mag_http_server_opts_init(o);
    o->bind_address = "127.0.0.1";
    o->port = 0;
    o->max_header_bytes = 1024;
    o->max_body_bytes = 100;
    o->ws_max_message_bytes = 1000;
    o->handshake_timeout_ms = 2000;
}

static void shutdown_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    mag_http_server_shutdown(g_srv);
}

static size_t g_count_seen;
static void count_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    g_count_seen = mag_http_server_connection_count(g_srv);
}

/* Run cb on the loop thread and wait a little for it to have run. */
static void run_in_loop(event_callback_fn cb)
{
    struct timeval tv = { 0, 0 };
    event_base_once(g_base, -1, EV_TIMEOUT, cb, NULL, &tv);
    usleep(100000);
}

/* ---------------------------------------------------------------- client helpers */

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int cl_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("connect");
        exit(1);
    }
    struct timeval tv = { 3, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void cl_send(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void cl_sends(int fd, const char *s)
{
    cl_send(fd, s, strlen(s));
}

static int cl_read_exact(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = recv(fd, c, n, 0);
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Read an HTTP response head (byte by byte, so nothing after it is consumed). */
static int cl_read_head(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (cl_read_exact(fd, buf + n, 1) != 0)
            break;
        n++;
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0) {
            buf[n] = '\0';
            return (int)n;
        }
    }
    buf[n] = '\0';
    return -1;
}

/* Read a whole response (head + Content-Length body) into buf. */
static int cl_read_response(int fd, char *buf, size_t cap)
{
    int h = cl_read_head(fd, buf, cap);
    if (h < 0)
        return -1;
    const char *cl = strstr(buf, "Content-Length: ");
    size_t len = cl ? (size_t)atol(cl + 16) : 0;
    if ((size_t)h + len + 1 > cap || cl_read_exact(fd, buf + h, len) != 0)
        return -1;
    buf[h + (int)len] = '\0';
    return h + (int)len;
}

/* True when the server closes the connection (EOF or reset) within the receive timeout;
 * any bytes before that are counted into *extra. */
static bool cl_wait_eof(int fd, size_t *extra)
{
    char tmp[4096];
    size_t total = 0;
    for (;;) {
        ssize_t r = recv(fd, tmp, sizeof tmp, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET)) {
            if (extra)
                *extra = total;
            return true;
        }
        if (r < 0)
            return false;
        total += (size_t)r;
    }
}

static void cl_frame(int fd, uint8_t b0, const void *payload, size_t len)
{
    static const uint8_t mask[4] = { 0xA1, 0xB2, 0xC3, 0xD4 };
    uint8_t *f = malloc(len + 14);
    size_t n = mag_ws_frame_header_write(f, true, 0, len);
    f[0] = b0;
    f[1] |= 0x80;
    memcpy(f + n, mask, 4);
    n += 4;
    memcpy(f + n, payload, len);
    mag_ws_unmask(f + n, len, mask, 0);
    cl_send(fd, f, n + len);
    free(f);
}

static void cl_text(int fd, const char *s)
{
    cl_frame(fd, 0x81, s, strlen(s));
}

/* Read one server frame. Returns the opcode (with 0x80 if FIN), -1 on EOF/timeout. */
static int cl_read_frame(int fd, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t h[10];
    if (cl_read_exact(fd, h, 2) != 0)
        return -1;
    if (h[1] & 0x80)
        return -2;   /* server frames must not be masked */
    uint64_t n = h[1] & 0x7F;
    if (n == 126) {
        if (cl_read_exact(fd, h + 2, 2) != 0)
            return -1;
        n = ((uint64_t)h[2] << 8) | h[3];
    } else if (n == 127) {
        if (cl_read_exact(fd, h + 2, 8) != 0)
            return -1;
        n = 0;
        for (int i = 0; i < 8; i++)
            n = (n << 8) | h[2 + i];
    }
    if (n > cap)
        return -3;
    if (cl_read_exact(fd, buf, (size_t)n) != 0)
        return -1;
    *len = (size_t)n;
    return h[0] & 0x8F;
}

/* Expect a text frame equal to s. */
static void expect_text(int fd, const char *s)
{
    static uint8_t buf[1 << 20];
    size_t len = 0;
    int op = cl_read_frame(fd, buf, sizeof buf, &len);
    CHECK_EQ_INT(op, 0x81);
    CHECK_EQ_INT(len, strlen(s));
    if (op == 0x81 && len == strlen(s))
        CHECK_MEM(buf, s, len);
}

/* Expect a Close frame (skipping server PINGs) with code and, if non-NULL, reason. */
static void expect_close(int fd, int code, const char *reason)
{
    uint8_t buf[256];
    size_t len = 0;
    int op;
    while ((op = cl_read_frame(fd, buf, sizeof buf, &len)) == 0x89)
        ;
    CHECK_EQ_INT(op, 0x88);
    if (op != 0x88)
        return;
    CHECK(len >= 2);
    CHECK_EQ_INT((buf[0] << 8) | buf[1], code);
    if (reason) {
        CHECK_EQ_INT(len - 2, strlen(reason));
        CHECK_MEM(buf + 2, reason, strlen(reason));
    }
}

static const char UPGRADE_REQ[] =
    "GET /ws/echo HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
static const char UPGRADE_RESP[] =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

static int cl_upgrade(int port)
{
    int fd = cl_connect(port);
    char head[1024];
    cl_sends(fd, UPGRADE_REQ);
    cl_read_head(fd, head, sizeof head);
    CHECK_STR(head, UPGRADE_RESP);
    return fd;
}

static void wait_closes(int expected)
{
    long deadline = now_ms() + 3000;
    while (atomic_load(&g_closes) < expected && now_ms() < deadline)
        usleep(5000);
    CHECK_EQ_INT(atomic_load(&g_closes), expected);
}

/* ---------------------------------------------------------------- tests, default server */

static int g_port;

MAG_TEST(http_keepalive_and_pipelining)
{
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    char buf[2048];
    int fd = cl_connect(g_port);
    cl_sends(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    CHECK_EQ_INT(cl_read_response(fd, buf, sizeof buf), (int)strlen(resp));
    CHECK_STR(buf, resp);
    cl_sends(fd, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK_STR(buf, resp);
    /* Two pipelined requests in one write, then a body request split across writes. */
    cl_sends(fd, "GET /hello HTTP/1.1\r\n\r\nPOST /echo?q=1 HTTP/1.1\r\nX-Test: t\r\n"
                 "Content-Length: 4\r\n\r\nab");
    cl_read_response(fd, buf, sizeof buf);
    CHECK_STR(buf, resp);
    usleep(50000);
    cl_sends(fd, "cd");
    cl_read_response(fd, buf, sizeof buf);
    CHECK_STR(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                   "Content-Length: 4\r\nX-Query: q=1\r\nX-Test: t\r\n\r\nabcd");
    /* 404 (the second answer is ignored), then Connection: close ends the connection. */
    cl_sends(fd, "GET /missing HTTP/1.1\r\nConnection: close\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK_STR(buf, "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n"
                   "Connection: close\r\n\r\nnope");
    size_t extra = 99;
    CHECK(cl_wait_eof(fd, &extra));
    CHECK_EQ_INT(extra, 0);
    close(fd);
    /* HTTP/1.0 without keep-alive closes after the answer. */
    fd = cl_connect(g_port);
    cl_sends(fd, "GET /hello HTTP/1.0\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strstr(buf, "Connection: close\r\n") != NULL);
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
}

static void http_error_case(const char *req, const char *status_line)
{
    char buf[4096];
    int fd = cl_connect(g_port);
    cl_sends(fd, req);
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strncmp(buf, status_line, strlen(status_line)) == 0);
    if (strncmp(buf, status_line, strlen(status_line)) != 0)
        fprintf(stderr, "got: %s\n", buf);
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
}

MAG_TEST(http_server_errors)
{
    http_error_case("BLAH\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n");
    http_error_case("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n");
    char big[2048];
    memset(big, 'a', sizeof big);
    memcpy(big, "GET /hello HTTP/1.1\r\nX: ", 24);
    big[sizeof big - 1] = '\0';
    http_error_case(big, "HTTP/1.1 431 Request Header Fields Too Large\r\n");
    http_error_case("POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n",
                    "HTTP/1.1 413 Content Too Large\r\n");
    http_error_case("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
                    "HTTP/1.1 411 Length Required\r\n");
    http_error_case("GET /noanswer HTTP/1.1\r\n\r\n", "HTTP/1.1 500 Internal Server Error\r\n");
}

MAG_TEST(http_expect_continue)
{
    char buf[1024];
    int fd = cl_connect(g_port);
    cl_sends(fd, "POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
    cl_read_head(fd, buf, sizeof buf);
    CHECK_STR(buf, "HTTP/1.1 100 Continue\r\n\r\n");
    cl_sends(fd, "xyz");
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 200 OK\r\n", 17) == 0);
    CHECK(strstr(buf, "\r\n\r\nxyz") != NULL);
    close(fd);
}

MAG_TEST(bad_handshakes)
{
    char buf[1024];
    int fd = cl_connect(g_port);
    cl_sends(fd, "GET /ws/x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 426 Upgrade Required\r\n", 31) == 0);
    CHECK(strstr(buf, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
    /* Keep-alive survives a refused upgrade. */
    cl_sends(fd, "GET /ws/x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Version: 13\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    cl_sends(fd, "POST /ws/x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 405 Method Not Allowed\r\n", 33) == 0);
    cl_sends(fd, "GET /ws/x HTTP/1.1\r\nConnection: Upgrade\r\n\r\n");
    cl_read_response(fd, buf, sizeof buf);
    CHECK(strncmp(buf, "HTTP/1.1 400 Bad Request\r\n", 26) == 0);
    close(fd);
}

MAG_TEST(ws_echo_ping_binary)
{
    int fd = cl_upgrade(g_port);
    cl_text(fd, "hi");
    expect_text(fd, "hi");
    cl_text(fd, "");
    expect_text(fd, "");
    /* Multi-byte UTF-8 and a 16-bit length message. */
    char msg[900];
    memset(msg, 'm', sizeof msg);
    memcpy(msg, "\xE2\x82\xAC", 3);
    msg[sizeof msg - 1] = '\0';
    cl_text(fd, msg);
    expect_text(fd, msg);
    /* Ping -> Pong with the same payload. */
    uint8_t buf[256];
    size_t len = 0;
    cl_frame(fd, 0x89, "abc", 3);
    CHECK_EQ_INT(cl_read_frame(fd, buf, sizeof buf, &len), 0x8A);
    CHECK_EQ_INT(len, 3);
    CHECK_MEM(buf, "abc", 3);
    /* Unsolicited pong and binary messages are ignored. */
    cl_frame(fd, 0x8A, "pong", 4);
    cl_frame(fd, 0x82, "\xFF\xFE binary", 9);
    cl_frame(fd, 0x02, "bin", 3);
    cl_frame(fd, 0x80, "ary", 3);
    cl_text(fd, "peer");
    size_t plen = 0;
    uint8_t pbuf[128];
    CHECK_EQ_INT(cl_read_frame(fd, pbuf, sizeof pbuf - 1, &plen), 0x81);
    pbuf[plen] = '\0';
    CHECK(strncmp((char *)pbuf, "127.0.0.1:", 10) == 0);
    int before = atomic_load(&g_closes);
    cl_frame(fd, 0x88, "\x03\xE8" "done", 6);
    expect_close(fd, 1000, "");
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    wait_closes(before + 1);
}

MAG_TEST(ws_fragmented_with_ping)
{
    int fd = cl_upgrade(g_port);
    uint8_t buf[256];
    size_t len = 0;
    cl_frame(fd, 0x01, "Hel", 3);
    cl_frame(fd, 0x89, "x", 1);
    cl_frame(fd, 0x00, "l", 1);
    cl_frame(fd, 0x80, "o", 1);
    CHECK_EQ_INT(cl_read_frame(fd, buf, sizeof buf, &len), 0x8A);
    CHECK_EQ_INT(len, 1);
    CHECK_EQ_INT(buf[0], 'x');
    expect_text(fd, "Hello");
    /* A character split across fragments is fine. */
    cl_frame(fd, 0x01, "\xE2\x82", 2);
    cl_frame(fd, 0x80, "\xAC", 1);
    expect_text(fd, "\xE2\x82\xAC");
    /* Empty close: answered with 1000. */
    int before = atomic_load(&g_closes);
    cl_frame(fd, 0x88, "", 0);
    expect_close(fd, 1000, "");
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    wait_closes(before + 1);
}

MAG_TEST(ws_pipelined_after_head)
{
    int before = atomic_load(&g_closes);
    int fd = cl_connect(g_port);
    uint8_t frame[32];
    static const uint8_t mask[4] = { 1, 2, 3, 4 };
    size_t n = mag_ws_frame_header_write(frame, true, MAG_WS_OP_TEXT, 5);
    frame[1] |= 0x80;
    memcpy(frame + n, mask, 4);
    memcpy(frame + n + 4, "early", 5);
    mag_ws_unmask(frame + n + 4, 5, mask, 0);
    char req[1024];
    memcpy(req, UPGRADE_REQ, sizeof UPGRADE_REQ - 1);
    memcpy(req + sizeof UPGRADE_REQ - 1, frame, n + 9);
    cl_send(fd, req, sizeof UPGRADE_REQ - 1 + n + 9);
    char head[512];
    cl_read_head(fd, head, sizeof head);
    CHECK_STR(head, UPGRADE_RESP);
    expect_text(fd, "early");
    close(fd);
    wait_closes(before + 1);
}

static void ws_fail_case(const void *frame, size_t len, int code)
{
    int before = atomic_load(&g_closes);
    int fd = cl_upgrade(g_port);
    cl_send(fd, frame, len);
    expect_close(fd, code, NULL);
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    wait_closes(before + 1);
}

MAG_TEST(ws_protocol_failures)
{
    /* Unmasked text frame. */
    ws_fail_case("\x81\x02hi", 4, 1002);
    /* RSV1 set. */
    ws_fail_case("\xC1\x80\x01\x02\x03\x04", 6, 1002);
    /* Reserved opcode 3. */
    ws_fail_case("\x83\x80\x01\x02\x03\x04", 6, 1002);
    /* Continuation without a message. */
    ws_fail_case("\x80\x80\x01\x02\x03\x04", 6, 1002);
    /* Fragmented ping. */
    ws_fail_case("\x09\x80\x01\x02\x03\x04", 6, 1002);
    /* Close with a 1-byte payload, and with an invalid code (1005). */
    ws_fail_case("\x88\x81\x00\x00\x00\x00\x07", 7, 1002);
    ws_fail_case("\x88\x82\x00\x00\x00\x00\x03\xED", 8, 1002);
    /* TEXT inside an open fragmented message. */
    ws_fail_case("\x01\x80\x01\x02\x03\x04\x81\x80\x01\x02\x03\x04", 12, 1002);
}

MAG_TEST(ws_utf8_and_size_failures)
{
    int before = atomic_load(&g_closes);
    int fd = cl_upgrade(g_port);
    cl_frame(fd, 0x81, "ok\xC0\x80", 4);
    expect_close(fd, 1007, "Invalid UTF-8");
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    /* Invalid in the second fragment, detected before the message ends. */
    fd = cl_upgrade(g_port);
    cl_frame(fd, 0x01, "fine", 4);
    cl_frame(fd, 0x00, "\xED\xA0\x80", 3);
    expect_close(fd, 1007, NULL);
    close(fd);
    /* Truncated character at the end of the message. */
    fd = cl_upgrade(g_port);
    cl_frame(fd, 0x81, "end\xE2\x82", 5);
    expect_close(fd, 1007, NULL);
    close(fd);
    /* Frame over ws_max_message_bytes (1000): refused from its header. */
    fd = cl_upgrade(g_port);
    char *big = malloc(200000);
    memset(big, 'b', 200000);
    cl_frame(fd, 0x81, big, 200000);
    expect_close(fd, 1009, "Message too large");
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    /* Reassembled message over the limit: 600 + 600. */
    fd = cl_upgrade(g_port);
    cl_frame(fd, 0x01, big, 600);
    cl_frame(fd, 0x80, big, 600);
    expect_close(fd, 1009, NULL);
    close(fd);
    /* Exactly at the limit is delivered. */
    fd = cl_upgrade(g_port);
    big[1000] = '\0';
    cl_frame(fd, 0x01, big, 400);
    cl_frame(fd, 0x80, big, 600);
    expect_text(fd, big);
    close(fd);
    free(big);
    wait_closes(before + 6);
}

/* Complete the close handshake the server started: our Close, then EOF with
   not one byte more (no frame after the server's Close). */
static void answer_close_and_expect_nothing_more(int fd, int closes_before)
{
    cl_frame(fd, 0x88, "\x03\xE8", 2);
    size_t extra = 99;
    CHECK(cl_wait_eof(fd, &extra));
    CHECK_EQ_INT(extra, 0);
    close(fd);
    wait_closes(closes_before + 1);
}

MAG_TEST(ws_server_close)
{
    int before = atomic_load(&g_closes);
    int fd = cl_upgrade(g_port);
    cl_text(fd, "close-me");
    expect_close(fd, 1000, "bye");
    /* Text sent after the server's Close is discarded; our Close completes the handshake. */
    cl_text(fd, "ignored");
    answer_close_and_expect_nothing_more(fd, before);
}

MAG_TEST(ws_close_inside_request)
{
    int before = atomic_load(&g_closes);
    int fd = cl_connect(g_port);
    char req[1024], head[1024];
    snprintf(req, sizeof req, "%s", UPGRADE_REQ);
    memcpy(req + 4, "/wsclose", 8);   /* "/ws/echo" -> "/wsclose", same length */
    cl_sends(fd, req);
    cl_read_head(fd, head, sizeof head);
    CHECK_STR(head, UPGRADE_RESP);
    expect_close(fd, 4000, "nope");
    cl_frame(fd, 0x88, "\x0F\xA0", 2);
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    wait_closes(before + 1);
}

/* mag_ws_set_timer: fires once after the delay, a later call replaces it, -1
   cancels it, and it never fires once the close handshake started. */
MAG_TEST(ws_handler_timer)
{
    int fd = cl_upgrade(g_port);
    long t0 = now_ms();
    cl_text(fd, "timer 120");
    expect_text(fd, "tick");
    CHECK(now_ms() - t0 >= 110);
    cl_text(fd, "timer 5000");
    cl_text(fd, "timer 50");                   /* replaces the 5 s one */
    t0 = now_ms();
    expect_text(fd, "tick");
    CHECK(now_ms() - t0 < 2000);
    cl_text(fd, "timer 100");
    cl_text(fd, "timer -1");                   /* cancelled: no tick */
    usleep(300 * 1000);
    cl_text(fd, "after");
    expect_text(fd, "after");                  /* the next frame is the echo, not a tick */
    int before = atomic_load(&g_closes);
    cl_text(fd, "timer 50");
    cl_text(fd, "close-me");
    expect_close(fd, 1000, "bye");             /* and no tick after the Close */
    usleep(150 * 1000);
    answer_close_and_expect_nothing_more(fd, before);
}

MAG_TEST(ws_peer_vanishes)
{
    int before = atomic_load(&g_closes);
    int fd = cl_upgrade(g_port);
    cl_frame(fd, 0x01, "half", 4);
    close(fd);
    wait_closes(before + 1);
}

MAG_TEST(ws_pause_resume)
{
    int before = atomic_load(&g_closes);
    int fd = cl_upgrade(g_port);
    /* "pause" and "after" arrive in one segment: "after" must wait for the resume. */
    uint8_t frames[64];
    static const uint8_t mask[4] = { 9, 8, 7, 6 };
    size_t n = 0;
    const char *msgs[2] = { "pause", "after" };
    for (int i = 0; i < 2; i++) {
        size_t h = mag_ws_frame_header_write(frames + n, true, MAG_WS_OP_TEXT, 5);
        frames[n + 1] |= 0x80;
        memcpy(frames + n + h, mask, 4);
        memcpy(frames + n + h + 4, msgs[i], 5);
        mag_ws_unmask(frames + n + h + 4, 5, mask, 0);
        n += h + 9;
    }
    long t0 = now_ms();
    cl_send(fd, frames, n);
    expect_text(fd, "after");
    CHECK(now_ms() - t0 >= 140);
    cl_text(fd, "again");
    expect_text(fd, "again");
    close(fd);
    wait_closes(before + 1);
}

MAG_TEST(ws_backpressure_writable)
{
    int before = atomic_load(&g_writable);
    int closes = atomic_load(&g_closes);
    int fd = cl_upgrade(g_port);
    cl_text(fd, "flood");
    usleep(200000);   /* let the output buffer fill while we do not read */
    static uint8_t buf[65536];
    size_t len;
    int frames = 0, op;
    for (;;) {
        op = cl_read_frame(fd, buf, sizeof buf, &len);
        if (op != 0x81)
            break;
        frames++;
        if (len == 8 && memcmp(buf, "writable", 8) == 0)
            break;
    }
    CHECK_EQ_INT(op, 0x81);
    CHECK(frames > 1);
    CHECK(atomic_load(&g_writable) == before + 1);
    close(fd);
    wait_closes(closes + 1);
}

MAG_TEST(connection_count_and_shutdown)
{
    int before = atomic_load(&g_closes);
    int a = cl_upgrade(g_port);
    int b = cl_upgrade(g_port);
    int h = cl_connect(g_port);
    usleep(50000);
    run_in_loop(count_cb);
    CHECK_EQ_INT(g_count_seen, 3);
    run_in_loop(shutdown_cb);
    expect_close(a, 1001, "Going Away");
    expect_close(b, 1001, "Going Away");
    CHECK(cl_wait_eof(h, NULL));
    CHECK_EQ_INT(atomic_load(&g_closes), before + 2);
    close(a);
    close(b);
    close(h);
    usleep(100000);
    run_in_loop(count_cb);
    CHECK_EQ_INT(g_count_seen, 0);
}

/* ---------------------------------------------------------------- tests, special servers */

MAG_TEST(idle_timeout)
{
    struct mag_http_server_opts o;
    default_opts(&o);
    o.ws_idle_timeout_ms = 300;
    int port = start_server(&o);
    int before = atomic_load(&g_closes);
    int fd = cl_upgrade(port);
    cl_text(fd, "x");
    expect_text(fd, "x");
    long t0 = now_ms();
    expect_close(fd, 1001, "Idle Timeout");
    long dt = now_ms() - t0;
    CHECK(dt >= 250 && dt < 1500);
    cl_frame(fd, 0x88, "\x03\xE9", 2);
    CHECK(cl_wait_eof(fd, NULL));
    close(fd);
    wait_closes(before + 1);
    stop_server();
}

MAG_TEST(server_ping_keeps_alive)
{
    struct mag_http_server_opts o;
    default_opts(&o);
    o.ws_idle_timeout_ms = 300;
    o.ws_ping_interval_ms = 100;
    int port = start_server(&o);
    int fd = cl_upgrade(port);
    uint8_t buf[64];
    size_t len = 0;
    CHECK_EQ_INT(cl_read_frame(fd, buf, sizeof buf, &len), 0x89);
    CHECK_EQ_INT(len, 4);
    CHECK_MEM(buf, "PING", 4);
    /* Our pings count as activity: still open well past the idle timeout. */
    usleep(700000);
    cl_text(fd, "alive");
    int op;
    while ((op = cl_read_frame(fd, buf, sizeof buf, &len)) == 0x89)
        ;
    CHECK_EQ_INT(op, 0x81);
    CHECK_EQ_INT(len, 5);
    close(fd);
    stop_server();
}

MAG_TEST(handshake_timeout)
{
    struct mag_http_server_opts o;
    default_opts(&o);
    o.handshake_timeout_ms = 300;
    int port = start_server(&o);
    int fd = cl_connect(port);
    cl_sends(fd, "GET /ws/echo HTTP/1.1\r\nHost: x\r\n");
    long t0 = now_ms();
    size_t extra = 99;
    CHECK(cl_wait_eof(fd, &extra));
    CHECK_EQ_INT(extra, 0);
    long dt = now_ms() - t0;
    CHECK(dt >= 250 && dt < 1500);
    close(fd);
    /* A body that never completes is covered too. */
    fd = cl_connect(port);
    cl_sends(fd, "POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
    CHECK(cl_wait_eof(fd, &extra));
    CHECK_EQ_INT(extra, 0);
    close(fd);
    stop_server();
}

MAG_TEST(max_connections)
{
    struct mag_http_server_opts o;
    default_opts(&o);
    o.max_connections = 2;
    int port = start_server(&o);
    int a = cl_upgrade(port);
    int b = cl_upgrade(port);
    int c = cl_connect(port);
    CHECK(cl_wait_eof(c, NULL));
    close(c);
    close(a);
    usleep(100000);
    int d = cl_upgrade(port);
    cl_text(d, "ok");
    expect_text(d, "ok");
    close(b);
    close(d);
    stop_server();
}

MAG_TEST(bad_options)
{
    struct mag_http_server_opts o;
    struct event_base *base = event_base_new();
    mag_rc rc = MAG_OK;
    default_opts(&o);
    o.bind_address = "not an address";
    CHECK(mag_http_server_new(base, &o, on_request, NULL, &rc) == NULL);
    CHECK_EQ_INT(rc, MAG_ERR_CONFIG);
    default_opts(&o);
    o.port = 70000;
    CHECK(mag_http_server_new(base, &o, on_request, NULL, &rc) == NULL);
    CHECK_EQ_INT(rc, MAG_ERR_CONFIG);
    /* Port already in use. */
    default_opts(&o);
    mag_http_server *s1 = mag_http_server_new(base, &o, on_request, NULL, &rc);
    CHECK(s1 != NULL);
    o.port = mag_http_server_port(s1);
    CHECK(mag_http_server_new(base, &o, on_request, NULL, &rc) == NULL);
    CHECK_EQ_INT(rc, MAG_ERR_INTERNAL);
    mag_http_server_free(s1);
    /* IPv6 any works (dual stack or not, it must bind). */
    default_opts(&o);
    o.bind_address = "::";
    mag_http_server *s2 = mag_http_server_new(base, &o, on_request, NULL, &rc);
    CHECK(s2 != NULL);
    CHECK(s2 == NULL || mag_http_server_port(s2) > 0);
    mag_http_server_free(s2);
    event_base_free(base);
}

int main(void)
{
    evthread_use_pthreads();
    struct mag_http_server_opts o;
    default_opts(&o);
    g_port = start_server(&o);
    RUN(http_keepalive_and_pipelining);
    RUN(http_server_errors);
    RUN(http_expect_continue);
    RUN(bad_handshakes);
    RUN(ws_echo_ping_binary);
    RUN(ws_fragmented_with_ping);
    RUN(ws_pipelined_after_head);
    RUN(ws_protocol_failures);
    RUN(ws_utf8_and_size_failures);
    RUN(ws_server_close);
    RUN(ws_close_inside_request);
    RUN(ws_peer_vanishes);
    RUN(ws_handler_timer);
    RUN(ws_pause_resume);
    RUN(ws_backpressure_writable);
    RUN(connection_count_and_shutdown);
    stop_server();
    RUN(idle_timeout);
    RUN(server_ping_keeps_alive);
    RUN(handshake_timeout);
    RUN(max_connections);
    RUN(bad_options);
    return mag_test_summary();
}
