/* magnetar-perf.c -- load generator and latency meter for Magnetar and its peers.
 *
 * Modelled on `pulsar-perf websocket-producer`: N connections, each with a window of messages in
 * flight, at a fixed total rate or as fast as receipts come back, for a duration or a count. It
 * speaks Pulsar's WebSocket API (produce, consume, read, e2e, idle) and, so that bench/ measures
 * the peers with the same client and the same histogram, MQTT 3.1.1 QoS 1 over WebSocket
 * (Mosquitto) and RESP XADD over TCP (Redis Streams). One thread, one libevent loop, raw
 * non-blocking sockets, at most one write per connection per loop turn. Every publish carries its
 * CLOCK_MONOTONIC send time in the first 8 payload bytes, so a consumer on the same machine can
 * compute publish-to-delivery latency. Latencies go into a log-linear histogram (HdrHistogram
 * style, relative error <= 1/1024). Progress goes to stderr once a second; the run ends with a
 * summary on stderr and exactly one JSON line on stdout. Non-loopback targets are refused unless
 * --allow-remote is given. Exit status: 0 clean run, 1 errors, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "mag/codec/http_request.h"
#include "mag/codec/ws_frame.h"
#include "mag/util/alloc.h"
#include "mag/util/base64.h"
#include "mag/util/buf.h"

#define NS_PER_S 1000000000ULL
#define RBUF_SIZE (256 * 1024)
#define MAX_HEAD 16384
#define MAX_PACKET (64u * 1024 * 1024)
#define STAMP_BYTES 9            /* 8-byte send time + 1 filler byte = 12 base64 characters */
#define STAMP_B64 12
#define MAX_ERROR_LINES 10

/* ============================================================================================ */
/* Histogram: log-linear buckets, HdrHistogram style                                            */
/* ============================================================================================ */

/* Values (nanoseconds) below 2^11 have one bucket each; every later power-of-two range is split
   into 2^10 equal buckets, so a bucket's width is at most 1/1024 of its lowest value. Values are
   clamped below 2^40 ns (about 18 minutes). Exact min, max and sum are kept beside. */
#define HIST_SUB_BITS 10
#define HIST_SUB ((uint64_t)1 << HIST_SUB_BITS)
#define HIST_MAX_BITS 40
#define HIST_LIMIT ((uint64_t)1 << HIST_MAX_BITS)
#define HIST_BUCKETS ((size_t)(HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB)

struct hist {
    uint64_t *counts;
    uint64_t n;
    uint64_t min, max;
    double sum;
};

static size_t hist_index(uint64_t v)
{
    if (v >= HIST_LIMIT)
        v = HIST_LIMIT - 1;
    if (v < 2 * HIST_SUB)
        return (size_t)v;
    unsigned e = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS;
    return (size_t)e * HIST_SUB + (size_t)(v >> e);
}

static uint64_t hist_lowest(size_t i)
{
    if (i < 2 * HIST_SUB)
        return i;
    unsigned e = (unsigned)(i / HIST_SUB) - 1;
    return (uint64_t)(i - e * HIST_SUB) << e;
}

static uint64_t hist_highest(size_t i)
{
    if (i < 2 * HIST_SUB)
        return i;
    unsigned e = (unsigned)(i / HIST_SUB) - 1;
    return (((uint64_t)(i - e * HIST_SUB) + 1) << e) - 1;
}

static void hist_reset(struct hist *h)
{
    memset(h->counts, 0, HIST_BUCKETS * sizeof *h->counts);
    h->n = 0;
    h->min = UINT64_MAX;
    h->max = 0;
    h->sum = 0;
}

static void hist_init(struct hist *h)
{
    h->counts = mag_xcalloc(HIST_BUCKETS, sizeof *h->counts);
    hist_reset(h);
}

static void hist_free(struct hist *h)
{
    MAG_FREE(h->counts);
}

static void hist_record(struct hist *h, uint64_t v)
{
    h->counts[hist_index(v)]++;
    h->n++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

/* Value at percentile q (0..100]: the highest value equivalent to the bucket that holds the
   ceil(q% * n)-th smallest sample, clamped to the exact [min, max]. 0 for an empty histogram. */
static uint64_t hist_percentile(const struct hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    if (rank > h->n)
        rank = h->n;
    uint64_t seen = 0;
    for (size_t i = 0; i < HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank) {
            uint64_t v = hist_highest(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

/* ============================================================================================ */
/* Options and state                                                                            */
/* ============================================================================================ */

enum mode {
    MODE_PRODUCE, MODE_CONSUME, MODE_READ, MODE_E2E, MODE_IDLE,
    MODE_MQTT_PRODUCE, MODE_MQTT_E2E, MODE_REDIS_PRODUCE, MODE_SELFTEST
};
enum proto { PROTO_PULSAR, PROTO_MQTT, PROTO_REDIS };
enum role { ROLE_PRODUCER, ROLE_CONSUMER, ROLE_READER };
enum conn_state { CS_IDLE, CS_CONNECTING, CS_UPGRADING, CS_SESSION, CS_READY, CS_CLOSED };

static const char *const mode_names[] = {
    "produce", "consume", "read", "e2e", "idle", "mqtt-produce", "mqtt-e2e", "redis-produce",
    "selftest", NULL
};

struct opts {
    enum mode mode;
    const char *url;
    bool allow_remote;
    const char *topic;
    const char *ns;             /* tenant/namespace */
    uint32_t topics;
    uint32_t connections;       /* producers (produce, e2e) or consumers (consume, read, idle) */
    uint32_t consumers;         /* e2e: consumers per topic */
    uint32_t window;
    uint32_t size;
    double rate;                /* total msg/s, 0 = unlimited */
    double duration;            /* seconds, 0 = until count */
    uint64_t count;
    uint32_t keys;
    const char *sub;
    const char *sub_type;
    uint32_t queue;
    uint32_t warmup;            /* seconds excluded from the results */
    double idle_exit;
    const char *idle_role;
    uint32_t connect_parallel;
    const char *label;
    const char *hist_out;       /* file for the percentile distribution, or NULL */
    bool quiet;
};

struct slot {
    uint64_t seq;
    uint64_t t_ns;
    bool busy;
};

struct perf;

struct conn {
    struct perf *pf;
    uint32_t idx;
    enum role role;
    enum conn_state st;
    uint32_t topic;
    int fd;
    struct event *rev, *wev;
    bool want_write, dirty;
    mag_ws_parser wp;
    mag_buf acc;                /* HTTP response head, or a WebSocket message in pieces */
    mag_buf stream;             /* unparsed tail of the MQTT or RESP byte stream */
    uint8_t ctrl[MAG_WS_MAX_CONTROL_PAYLOAD];
    size_t ctrl_len;
    mag_buf out;
    size_t out_off;
    char ws_key[32];
    struct slot *slots;         /* producers: one per window position */
    uint64_t next_seq;          /* next sequence number to send */
    uint64_t fifo_seq;          /* RESP: oldest unanswered sequence number */
    uint32_t inflight;
};

struct perf {
    struct opts o;
    enum proto proto;
    struct event_base *base;
    struct sockaddr_storage addr;
    socklen_t addrlen;
    char host_hdr[300];
    char target[320];

    struct conn *conns;
    uint32_t nconns, ncons;     /* conns[0..ncons) consume/read/idle, the rest produce */
    uint32_t phase_end, next_start, starting, settled, open_now, connect_failures;
    int phase;                  /* 0 consumers, 1 producers, 2 running */
    bool measuring, draining, stopped, warm_done, latency_on_rx;
    const char *stop_reason;

    uint64_t t0, t_first_ready, t_start, t_end, t_last_rx, t_rate0, t_all_open;
    uint64_t sent, sent_before, acked, send_errors, received, tx_bytes, rx_bytes, stale, late, errors;
    uint64_t iv_acked, iv_received, iv_errors, iv_t;
    uint32_t report_no;
    struct hist pub, pub_iv, e2e, e2e_iv;

    uint64_t rate_sent;
    uint32_t rr;
    uint32_t *dirty;
    uint32_t ndirty;
    struct event *tick_ev, *report_ev, *stop_ev, *warm_ev, *sig_int, *sig_term;

    uint8_t *rbuf;
    uint8_t *payload;           /* raw payload template, o.size bytes */
    mag_buf payload_b64;        /* its base64 (Pulsar) */
    mag_buf scratch, dec, leftover;
    uint64_t rng;
    unsigned error_lines;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: masks and keys need speed, not secrecy (the target is loopback). */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static size_t mem_find(const uint8_t *h, size_t hl, const char *needle, size_t nl)
{
    if (nl == 0 || hl < nl)
        return SIZE_MAX;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == (uint8_t)needle[0] && memcmp(h + i, needle, nl) == 0)
            return i;
    return SIZE_MAX;
}

/* Value of "key":"value" in the compact JSON the server writes (pattern is "\"key\":\"").
   The values read here (ids, base64, digits, result codes) never contain escapes. */
static bool json_str(const uint8_t *m, size_t n, const char *pattern, const uint8_t **v,
                     size_t *vl)
{
    size_t pl = strlen(pattern);
    size_t at = mem_find(m, n, pattern, pl);
    if (at == SIZE_MAX)
        return false;
    const uint8_t *s = m + at + pl;
    const uint8_t *e = memchr(s, '"', n - (size_t)(s - m));
    if (!e)
        return false;
    *v = s;
    *vl = (size_t)(e - s);
    return true;
}

/* Print an error line (the first MAX_ERROR_LINES only); counting is the caller's business. */
static void vlog_error(struct perf *pf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vlog_error(struct perf *pf, const char *fmt, va_list ap)
{
    if (pf->error_lines >= MAX_ERROR_LINES)
        return;
    if (++pf->error_lines == MAX_ERROR_LINES) {
        fprintf(stderr, "magnetar-perf: error: (further errors are only counted)\n");
        return;
    }
    fprintf(stderr, "magnetar-perf: error: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

static void log_error(struct perf *pf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_error(struct perf *pf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog_error(pf, fmt, ap);
    va_end(ap);
}

/* Count one error and print it. */
static void perf_errorf(struct perf *pf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void perf_errorf(struct perf *pf, const char *fmt, ...)
{
    va_list ap;
    pf->errors++;
    va_start(ap, fmt);
    vlog_error(pf, fmt, ap);
    va_end(ap);
}

/* ============================================================================================ */
/* Connections: sockets, output, WebSocket framing                                              */
/* ============================================================================================ */

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);
static void conn_ready(struct conn *c);
static void check_done(struct perf *pf);
static void perf_stop(struct perf *pf, const char *reason);
static void ws_message(struct conn *c, uint8_t opcode, const uint8_t *p, size_t n);
static void stream_feed(struct conn *c, const uint8_t *p, size_t n);
static void launch_more(struct perf *pf);

static void mark_dirty(struct conn *c)
{
    if (!c->dirty) {
        c->dirty = true;
        c->pf->dirty[c->pf->ndirty++] = c->idx;
    }
}

static void conn_close(struct conn *c)
{
    if (c->st == CS_CLOSED)
        return;
    if (c->rev)
        event_del(c->rev);
    if (c->wev)
        event_del(c->wev);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->want_write = false;
    if (c->st == CS_READY)
        c->pf->open_now--;
    c->st = CS_CLOSED;
}

static void conn_settled(struct conn *c)
{
    struct perf *pf = c->pf;
    pf->starting--;
    pf->settled++;
    launch_more(pf);
}

static void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void conn_fail(struct conn *c, const char *fmt, ...)
{
    struct perf *pf = c->pf;
    char msg[512];
    va_list ap;
    bool setup;

    if (c->st == CS_CLOSED)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    setup = c->st != CS_READY;
    conn_close(c);
    if (pf->stopped)
        return;
    perf_errorf(pf, "connection %u: %s", c->idx, msg);
    if (setup) {
        pf->connect_failures++;
        conn_settled(c);
    }
    check_done(pf);
}

static void conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                if (!c->want_write) {
                    event_add(c->wev, NULL);
                    c->want_write = true;
                }
                return;
            }
            conn_fail(c, "send: %s", strerror(errno));
            return;
        }
        c->out_off += (size_t)n;
    }
    mag_buf_reset(&c->out);
    c->out_off = 0;
    if (c->want_write && c->st != CS_CONNECTING) {
        event_del(c->wev);
        c->want_write = false;
    }
}

static void flush_dirty(struct perf *pf)
{
    for (uint32_t i = 0; i < pf->ndirty; i++) {
        struct conn *c = &pf->conns[pf->dirty[i]];
        c->dirty = false;
        if (c->st != CS_CLOSED)
            conn_flush(c);
    }
    pf->ndirty = 0;
}

/* Append one masked client frame (RFC 6455 §5.3: every client frame is masked). */
static void ws_send(struct conn *c, uint8_t opcode, const void *data, size_t len)
{
    uint8_t h[MAG_WS_MAX_CLIENT_HEADER];
    uint32_t m32 = (uint32_t)rng_next(&c->pf->rng);
    uint8_t mask[4];

    memcpy(mask, &m32, 4);
    size_t hl = mag_ws_client_frame_header_write(h, true, opcode, len, mask);
    mag_buf_reserve(&c->out, hl + len);
    mag_buf_append(&c->out, h, hl);
    uint8_t *dst = c->out.data + c->out.len;
    if (len)
        memcpy(dst, data, len);
    mag_ws_unmask(dst, len, mask, 0);   /* XOR: masking and unmasking are the same */
    c->out.len += len;
}

static const char *topic_name(const struct perf *pf, uint32_t t, char *buf, size_t cap)
{
    if (pf->o.topics <= 1)
        return pf->o.topic;
    snprintf(buf, cap, "%s-%" PRIu32, pf->o.topic, t);
    return buf;
}

static void build_path(const struct perf *pf, const struct conn *c, mag_buf *b)
{
    char tb[256];
    const char *t = topic_name(pf, c->topic, tb, sizeof tb);

    if (pf->proto == PROTO_MQTT) {
        mag_buf_append_str(b, "/mqtt");
        return;
    }
    switch (c->role) {
    case ROLE_PRODUCER:
        mag_buf_appendf(b, "/ws/v2/producer/persistent/%s/%s", pf->o.ns, t);
        break;
    case ROLE_CONSUMER:
        mag_buf_appendf(b, "/ws/v2/consumer/persistent/%s/%s/%s?subscriptionType=%s"
                        "&receiverQueueSize=%" PRIu32, pf->o.ns, t, pf->o.sub, pf->o.sub_type,
                        pf->o.queue);
        break;
    case ROLE_READER:
        mag_buf_appendf(b, "/ws/v2/reader/persistent/%s/%s?messageId=earliest"
                        "&receiverQueueSize=%" PRIu32, pf->o.ns, t, pf->o.queue);
        break;
    }
}

static void send_upgrade(struct conn *c)
{
    struct perf *pf = c->pf;
    uint8_t key[16];
    mag_buf k = MAG_BUF_INIT;

    for (int i = 0; i < 16; i += 8) {
        uint64_t r = rng_next(&pf->rng);
        memcpy(key + i, &r, 8);
    }
    mag_base64_encode(&k, key, sizeof key);
    snprintf(c->ws_key, sizeof c->ws_key, "%.*s", (int)k.len, (const char *)k.data);
    mag_buf_free(&k);
    mag_buf_append_str(&c->out, "GET ");
    build_path(pf, c, &c->out);
    mag_buf_appendf(&c->out, " HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", pf->host_hdr,
                    c->ws_key, pf->proto == PROTO_MQTT ? "Sec-WebSocket-Protocol: mqtt\r\n" : "");
    c->st = CS_UPGRADING;
}

static void conn_start(struct conn *c)
{
    struct perf *pf = c->pf;
    int one = 1;

    c->fd = socket(pf->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->st = CS_CONNECTING;
        conn_fail(c, "socket: %s", strerror(errno));
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->rev = event_new(pf->base, c->fd, EV_READ | EV_PERSIST, on_read, c);
    c->wev = event_new(pf->base, c->fd, EV_WRITE | EV_PERSIST, on_write, c);
    c->st = CS_CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)&pf->addr, pf->addrlen) < 0 &&
        errno != EINPROGRESS) {
        conn_fail(c, "connect to %s: %s", pf->target, strerror(errno));
        return;
    }
    event_add(c->wev, NULL);
    c->want_write = true;
}

static void launch_more(struct perf *pf)
{
    while (pf->starting < pf->o.connect_parallel && pf->next_start < pf->phase_end) {
        pf->starting++;
        conn_start(&pf->conns[pf->next_start++]);
    }
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)what;
    if (c->st == CS_CONNECTING) {
        int err = 0;
        socklen_t el = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
            err = errno;
        if (err) {
            conn_fail(c, "connect to %s: %s", c->pf->target, strerror(err));
            return;
        }
        event_add(c->rev, NULL);
        if (c->pf->proto == PROTO_REDIS) {
            event_del(c->wev);
            c->want_write = false;
            conn_ready(c);
            check_done(c->pf);
            return;
        }
        send_upgrade(c);
    }
    conn_flush(c);
}

/* ---- HTTP upgrade response ----------------------------------------------------------------- */

static bool header_value(const uint8_t *head, size_t len, const char *name, const uint8_t **v,
                         size_t *vl)
{
    size_t nl = strlen(name);
    size_t pos = 0;
    while (pos < len) {
        size_t eol = mem_find(head + pos, len - pos, "\r\n", 2);
        size_t ll = eol == SIZE_MAX ? len - pos : eol;
        const uint8_t *line = head + pos;
        if (ll > nl && line[nl] == ':' && strncasecmp((const char *)line, name, nl) == 0) {
            const uint8_t *s = line + nl + 1, *e = line + ll;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            *v = s;
            *vl = (size_t)(e - s);
            return true;
        }
        pos += ll + 2;
    }
    return false;
}

static void mqtt_send_connect(struct conn *c);
static void ws_feed(struct conn *c, const uint8_t *p, size_t n);

static void http_feed(struct conn *c, const uint8_t *p, size_t n)
{
    struct perf *pf = c->pf;
    mag_buf_append(&c->acc, p, n);
    size_t end = mem_find(c->acc.data, c->acc.len, "\r\n\r\n", 4);
    if (end == SIZE_MAX) {
        if (c->acc.len > MAX_HEAD)
            conn_fail(c, "HTTP response head larger than %d bytes", MAX_HEAD);
        return;
    }
    const uint8_t *head = c->acc.data;
    size_t eol = mem_find(head, end + 2, "\r\n", 2);
    if (end < 12 || memcmp(head, "HTTP/1.1 101", 12) != 0) {
        conn_fail(c, "upgrade refused: %.*s", (int)(eol > 200 ? 200 : eol), (const char *)head);
        return;
    }
    char want[MAG_WS_ACCEPT_KEY_SIZE];
    const uint8_t *v;
    size_t vl;
    mag_ws_accept_key(c->ws_key, strlen(c->ws_key), want);
    if (!header_value(head + eol + 2, end - eol - 2, "Sec-WebSocket-Accept", &v, &vl) ||
        vl != strlen(want) || memcmp(v, want, vl) != 0) {
        conn_fail(c, "bad or missing Sec-WebSocket-Accept in the 101 response");
        return;
    }
    mag_buf_reset(&pf->leftover);
    mag_buf_append(&pf->leftover, c->acc.data + end + 4, c->acc.len - end - 4);
    mag_buf_reset(&c->acc);
    mag_ws_parser_init(&c->wp, MAX_PACKET, false);
    if (pf->proto == PROTO_MQTT) {
        c->st = CS_SESSION;
        mqtt_send_connect(c);
    } else {
        conn_ready(c);
    }
    if (pf->leftover.len && c->st != CS_CLOSED)
        ws_feed(c, pf->leftover.data, pf->leftover.len);   /* frames that came with the head */
}

/* ---- WebSocket frames from the server ------------------------------------------------------ */

static void ws_control(struct conn *c, uint8_t opcode)
{
    if (opcode == MAG_WS_OP_PING) {
        ws_send(c, MAG_WS_OP_PONG, c->ctrl, c->ctrl_len);
        mark_dirty(c);
    } else if (opcode == MAG_WS_OP_CLOSE) {
        uint16_t code = 0;
        const char *reason = "";
        size_t rl = 0;
        mag_ws_close_parse(c->ctrl, c->ctrl_len, &code, &reason, &rl);
        conn_fail(c, "server closed the session: %u %.*s", code, (int)rl, reason);
    }
}

static void ws_feed(struct conn *c, const uint8_t *p, size_t n)
{
    size_t pos = 0, used;
    for (;;) {
        if (c->st == CS_CLOSED)
            return;
        if (!mag_ws_parser_in_payload(&c->wp)) {
            if (pos == n)
                return;
            mag_rc rc = mag_ws_parse_header(&c->wp, p + pos, n - pos, &used);
            pos += used;
            if (rc == MAG_AGAIN)
                return;
            if (rc != MAG_OK) {
                conn_fail(c, "bad frame from the server: %s", mag_strerror(rc));
                return;
            }
            c->ctrl_len = 0;
        }
        const mag_ws_frame_hdr f = c->wp.frame;
        uint64_t rem = mag_ws_parser_remaining(&c->wp);
        size_t take = (uint64_t)(n - pos) < rem ? n - pos : (size_t)rem;
        const uint8_t *start = p + pos;
        if (take == 0 && rem > 0)
            return;
        mag_ws_parse_payload(&c->wp, start, take, NULL, &used);
        pos += used;
        bool done = (uint64_t)take == rem;
        if (f.opcode >= MAG_WS_OP_CLOSE) {
            memcpy(c->ctrl + c->ctrl_len, start, take);
            c->ctrl_len += take;
            if (done)
                ws_control(c, f.opcode);
            continue;
        }
        if (done && f.fin && c->acc.len == 0 && f.opcode != MAG_WS_OP_CONT) {
            ws_message(c, f.opcode, start, take);   /* the common case: in place, no copy */
            continue;
        }
        /* A fragmented message, or one split across reads: reassemble in acc. */
        mag_buf_append(&c->acc, start, take);
        if (done && f.fin) {
            ws_message(c, c->wp.msg_opcode, c->acc.data, c->acc.len);
            mag_buf_reset(&c->acc);
        }
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    (void)what;
    if (!c)
        return;
    struct perf *pf = c->pf;
    ssize_t n = recv(fd, pf->rbuf, RBUF_SIZE, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_fail(c, "recv: %s", strerror(errno));
        return;
    }
    if (n == 0) {
        conn_fail(c, "the server closed the TCP connection");
        return;
    }
    if (c->st == CS_UPGRADING)
        http_feed(c, pf->rbuf, (size_t)n);
    else if (pf->proto == PROTO_REDIS)
        stream_feed(c, pf->rbuf, (size_t)n);
    else
        ws_feed(c, pf->rbuf, (size_t)n);
    if (c->st != CS_CLOSED)
        mark_dirty(c);
    flush_dirty(pf);
    check_done(pf);
}

/* ============================================================================================ */
/* Producing                                                                                    */
/* ============================================================================================ */

/* Write the send time into the payload template (raw bytes, and the first 12 base64 chars). */
static void stamp(struct perf *pf, uint64_t t)
{
    if (pf->o.size < STAMP_BYTES)
        return;
    put_le64(pf->payload, t);
    if (pf->proto == PROTO_PULSAR) {
        mag_buf_reset(&pf->dec);
        mag_base64_encode(&pf->dec, pf->payload, STAMP_BYTES);
        memcpy(pf->payload_b64.data, pf->dec.data, STAMP_B64);
    }
}

static bool prod_can_send(const struct conn *c)
{
    const struct perf *pf = c->pf;
    return c->st == CS_READY && c->role == ROLE_PRODUCER && c->inflight < pf->o.window &&
           !c->slots[c->next_seq % pf->o.window].busy;
}

static void prod_send(struct conn *c, uint64_t sched)
{
    struct perf *pf = c->pf;
    uint64_t seq = c->next_seq++;
    uint64_t t = now_ns();
    uint32_t si = (uint32_t)(seq % pf->o.window);
    struct slot *s = &c->slots[si];
    mag_buf *j = &pf->scratch;
    char tb[256];
    const char *topic;

    if (sched && t > sched + NS_PER_S / 1000)
        pf->late++;
    stamp(pf, t);
    mag_buf_reset(j);
    switch (pf->proto) {
    case PROTO_PULSAR:
        mag_buf_append(j, "{\"payload\":\"", 12);
        mag_buf_append(j, pf->payload_b64.data, pf->payload_b64.len);
        mag_buf_append(j, "\",\"context\":\"", 13);
        mag_buf_append_u64(j, seq);
        if (pf->o.keys) {
            mag_buf_append(j, "\",\"key\":\"k", 10);
            mag_buf_append_u64(j, (seq * 2654435761u + c->idx) % pf->o.keys);
        }
        mag_buf_append(j, "\"}", 2);
        ws_send(c, MAG_WS_OP_TEXT, j->data, j->len);
        break;
    case PROTO_MQTT: {
        /* PUBLISH, QoS 1 (MQTT 3.1.1 §3.3): packet id = slot + 1, unique while in flight. */
        topic = topic_name(pf, c->topic, tb, sizeof tb);
        size_t tl = strlen(topic);
        size_t rl = 2 + tl + 2 + pf->o.size;
        uint16_t pid = (uint16_t)(si + 1);
        mag_buf_append_byte(j, 0x32);
        do {
            uint8_t b = (uint8_t)(rl & 0x7F);
            rl >>= 7;
            mag_buf_append_byte(j, (uint8_t)(b | (rl ? 0x80 : 0)));
        } while (rl);
        mag_buf_append_byte(j, (uint8_t)(tl >> 8));
        mag_buf_append_byte(j, (uint8_t)tl);
        mag_buf_append(j, topic, tl);
        mag_buf_append_byte(j, (uint8_t)(pid >> 8));
        mag_buf_append_byte(j, (uint8_t)pid);
        mag_buf_append(j, pf->payload, pf->o.size);
        ws_send(c, MAG_WS_OP_BINARY, j->data, j->len);
        break;
    }
    case PROTO_REDIS:
        /* XADD key * f <payload> as a RESP array. */
        topic = topic_name(pf, c->topic, tb, sizeof tb);
        mag_buf_appendf(&c->out, "*5\r\n$4\r\nXADD\r\n$%zu\r\n%s\r\n$1\r\n*\r\n$1\r\nf\r\n$%" PRIu32
                        "\r\n", strlen(topic), topic, pf->o.size);
        mag_buf_append(&c->out, pf->payload, pf->o.size);
        mag_buf_append(&c->out, "\r\n", 2);
        break;
    }
    s->seq = seq;
    s->t_ns = t;
    s->busy = true;
    c->inflight++;
    pf->sent++;
    mark_dirty(c);
}

static bool send_budget_left(const struct perf *pf)
{
    return !pf->draining && !pf->stopped && pf->measuring &&
           (pf->o.count == 0 || pf->sent < pf->o.count);
}

/* Unlimited rate: keep every producer's window full. */
static void prod_refill(struct conn *c)
{
    if (c->pf->o.rate > 0)
        return;
    while (send_budget_left(c->pf) && prod_can_send(c))
        prod_send(c, 0);
}

static void prod_complete(struct conn *c, struct slot *s, bool ok)
{
    struct perf *pf = c->pf;
    uint64_t t = now_ns();
    s->busy = false;
    c->inflight--;
    if (s->t_ns < pf->t_start) {
        /* Sent during the warm-up: frees its slot, counts for nothing. */
    } else if (ok) {
        pf->acked++;
        pf->tx_bytes += pf->o.size;
        hist_record(&pf->pub, t - s->t_ns);
        hist_record(&pf->pub_iv, t - s->t_ns);
    } else {
        pf->send_errors++;
    }
    prod_refill(c);
}

/* Fixed rate: send what is due since the rate clock started, round robin over producers. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct perf *pf = arg;
    (void)fd;
    (void)what;
    if (!send_budget_left(pf))
        return;
    uint64_t now = now_ns();
    double per = (double)NS_PER_S / pf->o.rate;
    uint64_t due = (uint64_t)((double)(now - pf->t_rate0) / per) + 1;
    uint32_t np = pf->nconns - pf->ncons;
    while (pf->rate_sent < due && send_budget_left(pf)) {
        struct conn *c = NULL;
        for (uint32_t k = 0; k < np; k++) {
            struct conn *x = &pf->conns[pf->ncons + (pf->rr + k) % np];
            if (prod_can_send(x)) {
                c = x;
                pf->rr = (pf->rr + k + 1) % np;
                break;
            }
        }
        if (!c)
            break;
        prod_send(c, pf->t_rate0 + (uint64_t)((double)pf->rate_sent * per));
        pf->rate_sent++;
    }
    flush_dirty(pf);
}

/* ============================================================================================ */
/* Consuming                                                                                    */
/* ============================================================================================ */

static void on_delivered(struct conn *c, size_t bytes, const uint8_t *stamp9)
{
    struct perf *pf = c->pf;
    uint64_t t = now_ns();
    pf->t_last_rx = t;
    if (pf->latency_on_rx && stamp9) {
        uint64_t ts = get_le64(stamp9);
        if (ts < pf->t0 || ts > t) {
            pf->stale++;   /* a message from an earlier run */
            return;
        }
        if (ts < pf->t_start)
            return;        /* sent during the warm-up */
        hist_record(&pf->e2e, t - ts);
        hist_record(&pf->e2e_iv, t - ts);
    }
    pf->received++;
    pf->rx_bytes += bytes;
}

static size_t b64_decoded_len(const uint8_t *s, size_t n)
{
    size_t pad = 0;
    if (n >= 1 && s[n - 1] == '=')
        pad++;
    if (n >= 2 && s[n - 2] == '=')
        pad++;
    return n / 4 * 3 - pad;
}

static void pulsar_delivery(struct conn *c, const uint8_t *m, size_t n)
{
    struct perf *pf = c->pf;
    const uint8_t *id, *pl, *st = NULL;
    size_t idl, pll;

    if (!json_str(m, n, "\"messageId\":\"", &id, &idl) ||
        !json_str(m, n, "\"payload\":\"", &pl, &pll)) {
        perf_errorf(pf, "connection %u: unexpected message %.*s", c->idx, (int)(n > 200 ? 200 : n),
                    (const char *)m);
        return;
    }
    mag_buf *j = &pf->scratch;
    mag_buf_reset(j);
    mag_buf_append(j, "{\"messageId\":\"", 14);
    mag_buf_append(j, id, idl);
    mag_buf_append(j, "\"}", 2);
    ws_send(c, MAG_WS_OP_TEXT, j->data, j->len);
    if (pll >= STAMP_B64) {
        mag_buf_reset(&pf->dec);
        if (mag_base64_decode(&pf->dec, (const char *)pl, STAMP_B64, NULL) == MAG_OK &&
            pf->dec.len == STAMP_BYTES)
            st = pf->dec.data;
    }
    on_delivered(c, b64_decoded_len(pl, pll), st);
}

static void pulsar_receipt(struct conn *c, const uint8_t *m, size_t n)
{
    struct perf *pf = c->pf;
    const uint8_t *r, *ctx;
    size_t rl, cl;
    uint64_t seq = 0;

    bool has_r = json_str(m, n, "\"result\":\"", &r, &rl);
    bool has_c = json_str(m, n, "\"context\":\"", &ctx, &cl);
    bool ok = has_r && rl == 2 && memcmp(r, "ok", 2) == 0;
    for (size_t i = 0; has_c && i < cl; i++) {
        if (ctx[i] < '0' || ctx[i] > '9' || i > 18)
            has_c = false;
        else
            seq = seq * 10 + (uint64_t)(ctx[i] - '0');
    }
    struct slot *s = has_c && cl ? &c->slots[seq % pf->o.window] : NULL;
    if (!s || !s->busy || s->seq != seq) {
        perf_errorf(pf, "connection %u: receipt for no message in flight: %.*s", c->idx,
                    (int)(n > 200 ? 200 : n), (const char *)m);
        return;
    }
    if (!ok)    /* counted as a send error by prod_complete */
        log_error(pf, "connection %u: %.*s", c->idx, (int)(n > 300 ? 300 : n), (const char *)m);
    prod_complete(c, s, ok);
}

/* ============================================================================================ */
/* MQTT 3.1.1 over WebSocket, RESP                                                              */
/* ============================================================================================ */

static void mqtt_send_connect(struct conn *c)
{
    uint8_t p[64];
    char id[40];
    int il = snprintf(id, sizeof id, "mperf-%d-%" PRIu32, (int)getpid(), c->idx);
    size_t rl = 10 + 2 + (size_t)il;
    size_t k = 0;
    p[k++] = 0x10;
    p[k++] = (uint8_t)rl;                            /* < 128 */
    memcpy(p + k, "\x00\x04MQTT\x04\x02\x00\x00", 10); /* level 4, clean session, keepalive 0 */
    k += 10;
    p[k++] = 0;
    p[k++] = (uint8_t)il;
    memcpy(p + k, id, (size_t)il);
    k += (size_t)il;
    ws_send(c, MAG_WS_OP_BINARY, p, k);
    mark_dirty(c);
}

static void mqtt_send_subscribe(struct conn *c)
{
    struct perf *pf = c->pf;
    char tb[256];
    const char *t = topic_name(pf, c->topic, tb, sizeof tb);
    size_t tl = strlen(t);
    mag_buf *j = &pf->scratch;
    size_t rl = 2 + 2 + tl + 1;
    mag_buf_reset(j);
    mag_buf_append_byte(j, 0x82);
    do {
        uint8_t b = (uint8_t)(rl & 0x7F);
        rl >>= 7;
        mag_buf_append_byte(j, (uint8_t)(b | (rl ? 0x80 : 0)));
    } while (rl);
    mag_buf_append(j, "\x00\x01", 2);                /* packet id 1 */
    mag_buf_append_byte(j, (uint8_t)(tl >> 8));
    mag_buf_append_byte(j, (uint8_t)tl);
    mag_buf_append(j, t, tl);
    mag_buf_append_byte(j, 1);                       /* requested QoS 1 */
    ws_send(c, MAG_WS_OP_BINARY, j->data, j->len);
    mark_dirty(c);
}

static void mqtt_packet(struct conn *c, uint8_t type, uint8_t flags, const uint8_t *b, size_t n)
{
    struct perf *pf = c->pf;
    switch (type) {
    case 2: /* CONNACK */
        if (n < 2 || b[1] != 0) {
            conn_fail(c, "MQTT CONNACK refused (code %d)", n >= 2 ? b[1] : -1);
        } else if (c->role == ROLE_CONSUMER) {
            mqtt_send_subscribe(c);
        } else {
            conn_ready(c);
        }
        break;
    case 9: /* SUBACK */
        if (n < 3 || b[2] == 0x80)
            conn_fail(c, "MQTT SUBSCRIBE refused");
        else
            conn_ready(c);
        break;
    case 4: { /* PUBACK */
        uint16_t pid = n >= 2 ? (uint16_t)((b[0] << 8) | b[1]) : 0;
        if (pid == 0 || pid > pf->o.window || !c->slots[pid - 1].busy) {
            perf_errorf(pf, "connection %u: PUBACK for packet id %u not in flight", c->idx, pid);
            return;
        }
        prod_complete(c, &c->slots[pid - 1], true);
        break;
    }
    case 3: { /* PUBLISH to a subscriber */
        unsigned qos = (flags >> 1) & 3;
        size_t pos = 2;
        if (n < 2)
            goto bad;
        pos += (size_t)((b[0] << 8) | b[1]);
        if (qos) {
            if (pos + 2 > n)
                goto bad;
            uint8_t ack[4] = { 0x40, 0x02, b[pos], b[pos + 1] };
            ws_send(c, MAG_WS_OP_BINARY, ack, sizeof ack);
            mark_dirty(c);
            pos += 2;
        }
        if (pos > n)
            goto bad;
        on_delivered(c, n - pos, n - pos >= STAMP_BYTES ? b + pos : NULL);
        break;
    bad:
        conn_fail(c, "malformed MQTT PUBLISH");
        break;
    }
    default:
        break;
    }
}

/* Complete MQTT packets at p; returns the bytes used, or SIZE_MAX after a failure. */
static size_t mqtt_packets(struct conn *c, const uint8_t *p, size_t n)
{
    size_t pos = 0;
    while (n - pos >= 2 && c->st != CS_CLOSED) {
        size_t rl = 0, k = 1;
        unsigned shift = 0;
        for (;;) {
            if (pos + k >= n)
                return pos;
            uint8_t b = p[pos + k++];
            rl |= (size_t)(b & 0x7F) << shift;
            if (!(b & 0x80))
                break;
            shift += 7;
            if (shift > 21) {
                conn_fail(c, "malformed MQTT remaining length");
                return SIZE_MAX;
            }
        }
        if (rl > MAX_PACKET) {
            conn_fail(c, "MQTT packet of %zu bytes", rl);
            return SIZE_MAX;
        }
        if (n - pos - k < rl)
            return pos;
        mqtt_packet(c, p[pos] >> 4, p[pos] & 0x0F, p + pos + k, rl);
        pos += k + rl;
    }
    return c->st == CS_CLOSED ? SIZE_MAX : pos;
}

/* Complete RESP replies at p (one per XADD, in order); bytes used or SIZE_MAX. */
static size_t resp_replies(struct conn *c, const uint8_t *p, size_t n)
{
    struct perf *pf = c->pf;
    size_t pos = 0;
    while (pos < n && c->st != CS_CLOSED) {
        size_t eol = mem_find(p + pos, n - pos, "\r\n", 2);
        if (eol == SIZE_MAX)
            return pos;
        size_t total = eol + 2;
        bool ok = true;
        switch (p[pos]) {
        case '$': {
            long long bl = strtoll((const char *)p + pos + 1, NULL, 10);
            if (bl < 0) {
                ok = false;
            } else {
                total += (size_t)bl + 2;
                if (n - pos < total)
                    return pos;
            }
            break;
        }
        case '+':
        case ':':
            break;
        case '-':
            ok = false;
            log_error(pf, "connection %u: redis: %.*s", c->idx, (int)(eol > 200 ? 200 : eol),
                      (const char *)p + pos);   /* counted as a send error below */
            break;
        default:
            conn_fail(c, "unexpected RESP reply type '%c'", p[pos]);
            return SIZE_MAX;
        }
        pos += total;
        struct slot *s = &c->slots[c->fifo_seq % pf->o.window];
        if (!s->busy || s->seq != c->fifo_seq) {
            conn_fail(c, "RESP reply with no command in flight");
            return SIZE_MAX;
        }
        c->fifo_seq++;
        prod_complete(c, s, ok);
    }
    return c->st == CS_CLOSED ? SIZE_MAX : pos;
}

/* Byte stream (MQTT inside WebSocket messages, or RESP): parse in place, keep only the tail. */
static void stream_feed(struct conn *c, const uint8_t *p, size_t n)
{
    size_t (*fn)(struct conn *, const uint8_t *, size_t) =
        c->pf->proto == PROTO_REDIS ? resp_replies : mqtt_packets;
    if (c->stream.len == 0) {
        size_t used = fn(c, p, n);
        if (used != SIZE_MAX && used < n)
            mag_buf_append(&c->stream, p + used, n - used);
        return;
    }
    mag_buf_append(&c->stream, p, n);
    size_t used = fn(c, c->stream.data, c->stream.len);
    if (used == SIZE_MAX)
        return;
    memmove(c->stream.data, c->stream.data + used, c->stream.len - used);
    c->stream.len -= used;
}

static void ws_message(struct conn *c, uint8_t opcode, const uint8_t *p, size_t n)
{
    struct perf *pf = c->pf;
    if (pf->proto == PROTO_MQTT) {
        if (opcode != MAG_WS_OP_BINARY) {
            conn_fail(c, "MQTT broker sent a text frame");
            return;
        }
        stream_feed(c, p, n);
        return;
    }
    if (c->role == ROLE_PRODUCER)
        pulsar_receipt(c, p, n);
    else
        pulsar_delivery(c, p, n);
}

/* ============================================================================================ */
/* Phases, timers, reporting                                                                    */
/* ============================================================================================ */

static void start_measuring(struct perf *pf);

static void phase_next(struct perf *pf)
{
    if (pf->phase == 0 && pf->ncons < pf->nconns) {
        pf->phase = 1;
        pf->phase_end = pf->nconns;
        launch_more(pf);
        if (pf->settled < pf->phase_end)
            return;
    }
    pf->phase = 2;
    start_measuring(pf);
}

static void conn_ready(struct conn *c)
{
    struct perf *pf = c->pf;
    c->st = CS_READY;
    pf->open_now++;
    if (!pf->t_first_ready)
        pf->t_first_ready = now_ns();
    conn_settled(c);
}

static void check_done(struct perf *pf)
{
    if (pf->stopped)
        return;
    if (pf->phase < 2) {
        if (pf->settled >= pf->phase_end && pf->starting == 0) {
            if (pf->open_now == 0 && pf->settled > 0 && pf->phase_end == pf->nconns) {
                perf_stop(pf, "no connection could be opened");
                return;
            }
            phase_next(pf);
        }
        return;
    }
    if (pf->open_now == 0) {
        perf_stop(pf, "every connection closed");
        return;
    }
    enum mode m = pf->o.mode;
    bool produce_only = m == MODE_PRODUCE || m == MODE_MQTT_PRODUCE || m == MODE_REDIS_PRODUCE;
    bool e2e = m == MODE_E2E || m == MODE_MQTT_E2E;
    if (produce_only && pf->o.count && pf->acked + pf->send_errors >= pf->o.count) {
        pf->t_end = now_ns();
        perf_stop(pf, "count reached");
    } else if ((m == MODE_CONSUME || m == MODE_READ) && pf->o.count &&
               pf->received >= pf->o.count) {
        pf->t_end = pf->t_last_rx;
        perf_stop(pf, "count reached");
    } else if (e2e && !pf->draining && pf->o.count && pf->acked + pf->send_errors >= pf->o.count) {
        pf->t_end = now_ns();
        pf->draining = true;
        struct timeval tv = { 2, 0 };
        evtimer_add(pf->stop_ev, &tv);
    }
    if (e2e && pf->draining) {
        uint64_t per_msg = m == MODE_MQTT_E2E ? pf->o.consumers : 1;
        bool inflight = false;
        for (uint32_t i = pf->ncons; i < pf->nconns && !inflight; i++)
            inflight = pf->conns[i].st == CS_READY && pf->conns[i].inflight > 0;
        if (!inflight && pf->received >= pf->acked * per_msg)
            perf_stop(pf, "all delivered");
    }
}

static void perf_stop(struct perf *pf, const char *reason)
{
    if (pf->stopped)
        return;
    pf->stopped = true;
    pf->stop_reason = reason;
    if (!pf->t_end)
        pf->t_end = now_ns();
    if (!pf->t_start)
        pf->t_start = pf->t_end;
    event_base_loopbreak(pf->base);
}

static void on_stop_timer(evutil_socket_t fd, short what, void *arg)
{
    struct perf *pf = arg;
    (void)fd;
    (void)what;
    enum mode m = pf->o.mode;
    if ((m == MODE_E2E || m == MODE_MQTT_E2E) && !pf->draining) {
        /* Stop publishing, then give the last deliveries up to 2 s. */
        pf->t_end = now_ns();
        pf->draining = true;
        struct timeval tv = { 2, 0 };
        evtimer_add(pf->stop_ev, &tv);
        check_done(pf);
        return;
    }
    if (!pf->draining)
        pf->t_end = now_ns();
    perf_stop(pf, pf->draining ? "drain timeout" : "duration reached");
}

static void on_signal(evutil_socket_t fd, short what, void *arg)
{
    struct perf *pf = arg;
    (void)fd;
    (void)what;
    if (!pf->draining)
        pf->t_end = now_ns();
    perf_stop(pf, "interrupted");
}

static void arm_stop(struct perf *pf)
{
    double d = pf->o.duration;
    if (d > 0) {
        struct timeval tv = { (time_t)d, (suseconds_t)((d - (double)(time_t)d) * 1e6) };
        evtimer_add(pf->stop_ev, &tv);
    }
}

/* Warm-up over: the results start from here (messages in flight now still count when answered). */
static void on_warm(evutil_socket_t fd, short what, void *arg)
{
    struct perf *pf = arg;
    (void)fd;
    (void)what;
    pf->warm_done = true;
    pf->t_start = now_ns();
    pf->sent_before = pf->sent;
    pf->acked = pf->received = pf->tx_bytes = pf->rx_bytes = pf->late = 0;
    pf->send_errors = pf->stale = 0;
    hist_reset(&pf->pub);
    hist_reset(&pf->e2e);
    pf->iv_acked = pf->iv_received = 0;
    arm_stop(pf);
}

static void start_measuring(struct perf *pf)
{
    uint64_t now = now_ns();
    enum mode m = pf->o.mode;

    pf->t_all_open = now;
    pf->measuring = true;
    bool consume_only = m == MODE_CONSUME || m == MODE_READ;
    pf->t_start = consume_only && pf->t_first_ready ? pf->t_first_ready : now;
    pf->t_rate0 = now;
    pf->iv_t = now;
    pf->warm_done = pf->o.warmup == 0;
    if (!pf->warm_done) {
        struct timeval tv = { (time_t)pf->o.warmup, 0 };
        pf->warm_ev = evtimer_new(pf->base, on_warm, pf);
        evtimer_add(pf->warm_ev, &tv);
    } else {
        arm_stop(pf);
    }
    if (pf->o.rate > 0 && pf->ncons < pf->nconns) {
        double per = 1e9 / pf->o.rate;
        if (per < 100000)
            per = 100000;
        if (per > 10000000)
            per = 10000000;
        struct timeval tv = { 0, (suseconds_t)(per / 1000) };
        pf->tick_ev = event_new(pf->base, -1, EV_PERSIST, on_tick, pf);
        event_add(pf->tick_ev, &tv);
    }
    if (m == MODE_IDLE)
        return;
    for (uint32_t i = pf->ncons; i < pf->nconns; i++)
        prod_refill(&pf->conns[i]);
    flush_dirty(pf);
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

static void print_lat(const char *what, const struct hist *h)
{
    if (h->n == 0)
        return;
    fprintf(stderr, "  %s ms p50 %.3f p99 %.3f p99.9 %.3f max %.3f", what,
            ms(hist_percentile(h, 50)), ms(hist_percentile(h, 99)), ms(hist_percentile(h, 99.9)),
            ms(h->max));
}

static void on_report(evutil_socket_t fd, short what, void *arg)
{
    struct perf *pf = arg;
    uint64_t now = now_ns();
    (void)fd;
    (void)what;
    pf->report_no++;
    if (!pf->measuring) {
        if (!pf->o.quiet)
            fprintf(stderr, "[%4us] connecting: %" PRIu32 "/%" PRIu32 " open, %" PRIu32 " failed\n",
                    pf->report_no, pf->open_now, pf->nconns, pf->connect_failures);
        return;
    }
    double dt = (double)(now - pf->iv_t) / 1e9;
    if (!pf->o.quiet && dt > 0) {
        uint64_t da = pf->acked - pf->iv_acked, dr = pf->received - pf->iv_received;
        uint32_t inflight = 0;
        for (uint32_t i = pf->ncons; i < pf->nconns; i++)
            inflight += pf->conns[i].inflight;
        fprintf(stderr, "[%4us] %s", pf->report_no, mode_names[pf->o.mode]);
        if (pf->ncons < pf->nconns)
            fprintf(stderr, " pub %.0f msg/s %.2f MB/s", (double)da / dt,
                    (double)da * pf->o.size / dt / 1e6);
        if (pf->ncons > 0 && pf->o.mode != MODE_IDLE)
            fprintf(stderr, " recv %.0f msg/s", (double)dr / dt);
        if (pf->o.mode == MODE_IDLE)
            fprintf(stderr, " %" PRIu32 " open", pf->open_now);
        print_lat("pub", &pf->pub_iv);
        print_lat("e2e", &pf->e2e_iv);
        if (pf->ncons < pf->nconns)
            fprintf(stderr, "  in-flight %" PRIu32, inflight);
        fprintf(stderr, "  err %" PRIu64 "\n", pf->errors + pf->send_errors);
    }
    hist_reset(&pf->pub_iv);
    hist_reset(&pf->e2e_iv);
    pf->iv_acked = pf->acked;
    pf->iv_received = pf->received;
    pf->iv_t = now;
    if (pf->o.idle_exit > 0 && (pf->o.mode == MODE_CONSUME || pf->o.mode == MODE_READ)) {
        uint64_t last = pf->t_last_rx > pf->t_all_open ? pf->t_last_rx : pf->t_all_open;
        if ((double)(now - last) / 1e9 >= pf->o.idle_exit) {
            pf->t_end = pf->received ? pf->t_last_rx : now;
            perf_stop(pf, "idle");
        }
    }
}

/* ============================================================================================ */
/* Summary                                                                                      */
/* ============================================================================================ */

static void json_lat(const char *name, const struct hist *h)
{
    if (h->n == 0) {
        printf(",\"%s\":null", name);
        return;
    }
    printf(",\"%s\":{\"count\":%" PRIu64 ",\"p50\":%.4f,\"p90\":%.4f,\"p99\":%.4f,"
           "\"p999\":%.4f,\"max\":%.4f,\"mean\":%.4f,\"min\":%.4f}", name, h->n,
           ms(hist_percentile(h, 50)), ms(hist_percentile(h, 90)), ms(hist_percentile(h, 99)),
           ms(hist_percentile(h, 99.9)), ms(h->max), h->sum / (double)h->n / 1e6, ms(h->min));
}

/* Percentile distribution in HdrHistogram's layout (5 ticks per halving of the tail), for
   bench/plot.sh: "percentile value_ms 1/(1-p)" per line. */
static int write_distribution(const struct hist *h, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "magnetar-perf: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "# percentile value_ms inverse_tail (n=%" PRIu64 ")\n", h->n);
    for (int i = 0; h->n; i++) {
        double p = 100.0 * (1.0 - pow(0.5, (double)i / 5.0));
        if (p > 100.0 - 100.0 / (double)h->n || p > 99.9999) {
            fprintf(f, "100.000000 %.4f inf\n", ms(h->max));
            break;
        }
        fprintf(f, "%.6f %.4f %.2f\n", p, ms(hist_percentile(h, p > 0 ? p : 0.0001)),
                1.0 / (1.0 - p / 100.0));
    }
    return fclose(f) == 0 ? 0 : -1;
}

static void summary(struct perf *pf)
{
    const struct opts *o = &pf->o;
    enum mode m = o->mode;
    bool produce = pf->ncons < pf->nconns;
    bool receiving = m == MODE_CONSUME || m == MODE_READ || m == MODE_E2E || m == MODE_MQTT_E2E;
    uint64_t msgs = receiving ? pf->received : pf->acked;
    uint64_t bytes = receiving ? pf->rx_bytes : pf->tx_bytes;
    uint64_t end = pf->t_end ? pf->t_end : now_ns();
    double el = end > pf->t_start ? (double)(end - pf->t_start) / 1e9 : 0;
    double rate = el > 0 ? (double)msgs / el : 0;
    double mbs = el > 0 ? (double)bytes / el / 1e6 : 0;
    double connect_s = pf->t_all_open ? (double)(pf->t_all_open - pf->t0) / 1e9 : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    uint64_t errors = pf->errors + pf->send_errors;
    uint64_t expect = pf->acked * (m == MODE_MQTT_E2E ? o->consumers : 1);
    uint64_t undelivered = (m == MODE_E2E || m == MODE_MQTT_E2E) && expect > pf->received ?
                           expect - pf->received : 0;

    fprintf(stderr, "magnetar-perf %s: %s, %" PRIu32 " connection(s)", mode_names[m],
            pf->stop_reason ? pf->stop_reason : "stopped", pf->nconns);
    if (produce)
        fprintf(stderr, ", window %" PRIu32 ", %" PRIu32 "-byte payloads, rate %s", o->window,
                o->size, o->rate > 0 ? "fixed" : "unlimited");
    fprintf(stderr, "\n  %.3f s measured, %" PRIu64 " msgs, %.1f msg/s, %.2f MB/s, errors %" PRIu64
            ", connect %.3f s, client cpu %.2f s\n", el, msgs, rate, mbs, errors, connect_s, cpu);
    if (pf->pub.n) {
        print_lat("publish latency", &pf->pub);
        fputc('\n', stderr);
    }
    if (pf->e2e.n) {
        print_lat("publish-to-delivery latency", &pf->e2e);
        fputc('\n', stderr);
    }

    printf("{\"tool\":\"magnetar-perf\",\"mode\":\"%s\",\"label\":\"%s\",\"target\":\"%s\","
           "\"topic\":\"%s\",\"topics\":%" PRIu32 ",\"connections\":%" PRIu32
           ",\"producers\":%" PRIu32 ",\"consumers\":%" PRIu32 ",\"in_flight\":%" PRIu32
           ",\"size\":%" PRIu32 ",\"rate\":%.1f,\"keys\":%" PRIu32 ",\"stop\":\"%s\","
           "\"duration_s\":%.4f,\"msgs\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"msgs_per_s\":%.1f,"
           "\"mb_per_s\":%.3f,\"sent\":%" PRIu64 ",\"published\":%" PRIu64 ",\"received\":%" PRIu64
           ",\"errors\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"connect_failures\":%" PRIu32
           ",\"open\":%" PRIu32 ",\"late\":%" PRIu64 ",\"stale\":%" PRIu64
           ",\"undelivered\":%" PRIu64 ",\"connect_s\":%.4f,\"client_cpu_s\":%.3f",
           mode_names[m], o->label, pf->target, o->topic, o->topics, pf->nconns,
           pf->nconns - pf->ncons, pf->ncons, o->window, o->size, o->rate, o->keys,
           pf->stop_reason ? pf->stop_reason : "", el, msgs, bytes, rate, mbs,
           pf->sent - pf->sent_before, pf->acked,
           pf->received, errors, pf->send_errors, pf->connect_failures, pf->open_now, pf->late,
           pf->stale, undelivered, connect_s, cpu);
    json_lat("latency_ms", receiving && pf->e2e.n ? &pf->e2e : &pf->pub);
    json_lat("publish_latency_ms", &pf->pub);
    json_lat("e2e_latency_ms", &pf->e2e);
    printf("}\n");
    fflush(stdout);
    if (o->hist_out && write_distribution(receiving && pf->e2e.n ? &pf->e2e : &pf->pub,
                                          o->hist_out) != 0)
        pf->errors++;
}

/* ============================================================================================ */
/* Self-test (run by the ctest smoke test)                                                      */
/* ============================================================================================ */

static int selftest(void)
{
    int fails = 0, checks = 0;
#define ST(cond) do { checks++; if (!(cond)) { fails++; \
    fprintf(stderr, "selftest: line %d: %s\n", __LINE__, #cond); } } while (0)
    struct hist h;
    uint64_t seed = 0x9E3779B97F4A7C15ULL;

    /* Bucket bounds: every value lies in its bucket, buckets are narrow and ordered. */
    size_t prev = 0;
    for (uint64_t v = 0; v < 70000; v++) {
        size_t i = hist_index(v);
        if (hist_lowest(i) > v || hist_highest(i) < v || i < prev)
            ST(!"bucket bounds for small values");
        prev = i;
    }
    for (int k = 0; k < 200000; k++) {
        uint64_t v = rng_next(&seed) >> (24 + k % 40);
        size_t i = hist_index(v);
        uint64_t lo = hist_lowest(i), hi = hist_highest(i);
        if (v >= HIST_LIMIT)
            continue;
        if (lo > v || hi < v || (hi - lo) * HIST_SUB > lo + HIST_SUB || i >= HIST_BUCKETS)
            ST(!"bucket bounds / relative error");
    }
    ST(hist_index(HIST_LIMIT + 5) == HIST_BUCKETS - 1);
    ST(hist_highest(HIST_BUCKETS - 1) == HIST_LIMIT - 1);
    ST(hist_index(2047) == 2047 && hist_index(2048) == 2048 && hist_index(2049) == 2048);

    /* Percentiles of 1..100000 us, relative error <= 1/1024. */
    hist_init(&h);
    ST(hist_percentile(&h, 50) == 0);
    for (uint64_t v = 1; v <= 100000; v++)
        hist_record(&h, v * 1000);
    uint64_t p50 = hist_percentile(&h, 50), p99 = hist_percentile(&h, 99);
    uint64_t p999 = hist_percentile(&h, 99.9), p100 = hist_percentile(&h, 100);
    ST(p50 >= 50000000 && p50 <= 50000000 + 50000000 / 1024);
    ST(p99 >= 99000000 && p99 <= 99000000 + 99000000 / 1024);
    ST(p999 >= 99900000 && p999 <= 100000000);
    ST(p100 == 100000000 && h.max == 100000000 && h.min == 1000 && h.n == 100000);
    hist_reset(&h);
    hist_record(&h, 7);
    ST(hist_percentile(&h, 99.9) == 7 && hist_percentile(&h, 1) == 7);
    hist_free(&h);

    /* Client frames: masked, parse back to the same payload with the server-side parser. */
    struct perf pf;
    struct conn c;
    memset(&pf, 0, sizeof pf);
    memset(&c, 0, sizeof c);
    pf.rng = 42;
    c.pf = &pf;
    static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, 70000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        mag_ws_parser p;
        size_t n = sizes[k], used = 0, hl;
        uint8_t *data = mag_xmalloc(n + 1);
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)(i * 7 + 3);
        mag_buf_reset(&c.out);
        ws_send(&c, MAG_WS_OP_TEXT, data, n);
        mag_ws_parser_init(&p, 0, true);
        ST(mag_ws_parse_header(&p, c.out.data, c.out.len, &hl) == MAG_OK);
        ST(p.frame.masked && p.frame.fin && p.frame.opcode == MAG_WS_OP_TEXT &&
           p.frame.payload_len == n);
        ST(mag_ws_parse_payload(&p, c.out.data + hl, c.out.len - hl, c.out.data + hl, &used) ==
           MAG_OK);
        ST(used == n && hl + n == c.out.len && (n == 0 || memcmp(c.out.data + hl, data, n) == 0));
        free(data);
    }
    mag_buf_free(&c.out);

    /* The JSON field scanner on a real receipt and delivery. */
    const char *rc = "{\"result\":\"ok\",\"messageId\":\"CAEQADAA\",\"context\":\"17\","
                     "\"errorCode\":0,\"schemaVersion\":0}";
    const uint8_t *v;
    size_t vl;
    ST(json_str((const uint8_t *)rc, strlen(rc), "\"context\":\"", &v, &vl) && vl == 2 &&
       memcmp(v, "17", 2) == 0);
    ST(json_str((const uint8_t *)rc, strlen(rc), "\"result\":\"", &v, &vl) && vl == 2);
    ST(!json_str((const uint8_t *)rc, strlen(rc), "\"payload\":\"", &v, &vl));
    ST(b64_decoded_len((const uint8_t *)"eHh4eA==", 8) == 4);
    ST(b64_decoded_len((const uint8_t *)"eHh4", 4) == 3);

    /* Send-time stamps survive base64. */
    uint8_t raw[STAMP_BYTES] = { 0 };
    mag_buf b = MAG_BUF_INIT, d = MAG_BUF_INIT;
    put_le64(raw, 0x0123456789ABCDEFULL);
    mag_base64_encode(&b, raw, STAMP_BYTES);
    ST(b.len == STAMP_B64);
    ST(mag_base64_decode(&d, (const char *)b.data, b.len, NULL) == MAG_OK && d.len == STAMP_BYTES &&
       get_le64(d.data) == 0x0123456789ABCDEFULL);
    mag_buf_free(&b);
    mag_buf_free(&d);
#undef ST
    fprintf(stderr, "selftest: %d checks, %d failed\n", checks, fails);
    printf("{\"tool\":\"magnetar-perf\",\"mode\":\"selftest\",\"checks\":%d,\"errors\":%d}\n",
           checks, fails);
    return fails ? 1 : 0;
}

/* ============================================================================================ */
/* Command line                                                                                 */
/* ============================================================================================ */

static void usage(FILE *f)
{
    fprintf(f,
"usage: magnetar-perf MODE [options]\n"
"modes:\n"
"  produce        Pulsar WebSocket producers; publish latency = time to the receipt\n"
"  consume        consumers on one subscription (acks every message)\n"
"  read           readers from the earliest message\n"
"  e2e            consumers first, then producers at a fixed rate; publish-to-delivery latency\n"
"  idle           open connections and hold them (see --role)\n"
"  mqtt-produce   MQTT 3.1.1 QoS 1 publishers over WebSocket (Mosquitto; default ws://127.0.0.1:9001)\n"
"  mqtt-e2e       MQTT QoS 1 subscribers, then publishers at a fixed rate\n"
"  redis-produce  Redis Streams XADD, pipelined (default redis://127.0.0.1:6379)\n"
"  selftest       check the histogram and the frame codec, then exit\n"
"options:\n"
"  -u, --url URL            target (default ws://127.0.0.1:8080)\n"
"      --allow-remote       allow a target that is not a loopback address\n"
"  -t, --topic NAME         topic (stream key, MQTT topic) (default perf); NAME-0.. with --topics\n"
"  -T, --topics N           spread connections over N topics (default 1)\n"
"      --namespace T/NS     tenant/namespace (default public/default)\n"
"  -c, --connections N      producers (produce, e2e) or consumers (consume, read, idle) (default 1)\n"
"  -C, --consumers N        e2e: consumers per topic (default 1)\n"
"  -w, --in-flight N        messages in flight per producer connection (default 100)\n"
"  -s, --size BYTES         payload size (default 100; >= 9 carries the send time)\n"
"  -r, --rate N             total messages per second, 0 = unlimited (default 0; e2e 1000)\n"
"  -d, --duration SEC       measured time (default 10; 0 = until --count)\n"
"  -n, --count N            stop after N messages (published, or received when consuming)\n"
"  -k, --keys N             give every message one of N keys (default none)\n"
"  -S, --subscription NAME  (default perf-sub)\n"
"  -y, --sub-type TYPE      Exclusive, Shared, Failover, Key_Shared (default Shared)\n"
"  -q, --queue N            receiverQueueSize (default 1000)\n"
"      --role ROLE          idle: producer, consumer or reader (default producer)\n"
"      --warmup SEC         leave the first SEC seconds out of the results (default 0)\n"
"      --idle-exit SEC      consume/read: stop after SEC seconds without a message\n"
"      --connect-parallel N handshakes in progress at once (default 64)\n"
"      --label TEXT         copied into the JSON line\n"
"      --hist-out FILE      write the latency percentile distribution (for bench/plot.sh)\n"
"      --quiet              no progress lines\n"
"Progress and the summary go to stderr; the last line on stdout is one JSON object.\n");
}

static bool parse_u32(const char *s, uint32_t min, uint32_t *out)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || e == s || *e || v < min || v > UINT32_MAX || s[0] == '-')
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_double(const char *s, double *out)
{
    char *e;
    errno = 0;
    double v = strtod(s, &e);
    if (errno || e == s || *e || v < 0 || v > 1e9)
        return false;
    *out = v;
    return true;
}

static bool is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF };
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return true;
        return memcmp(in6->sin6_addr.s6_addr, v4mapped, 12) == 0 &&
               in6->sin6_addr.s6_addr[12] == 127;
    }
    return false;
}

/* Parse ws://HOST[:PORT][/...] or redis://HOST[:PORT], resolve, refuse non-loopback. */
static int resolve_target(struct perf *pf)
{
    const char *u = pf->o.url;
    const char *scheme_end = strstr(u, "://");
    const char *h = scheme_end ? scheme_end + 3 : u;
    char host[256], port[16];
    size_t hl;
    const char *p;

    if (scheme_end && strncmp(u, "ws://", 5) != 0 && strncmp(u, "redis://", 8) != 0) {
        fprintf(stderr, "magnetar-perf: only ws:// and redis:// URLs are supported: %s\n", u);
        return 2;
    }
    if (*h == '[') {
        const char *e = strchr(h, ']');
        if (!e)
            goto bad;
        hl = (size_t)(e - h - 1);
        if (hl >= sizeof host)
            goto bad;
        memcpy(host, h + 1, hl);
        host[hl] = 0;
        p = e + 1;
    } else {
        hl = strcspn(h, ":/");
        if (hl == 0 || hl >= sizeof host)
            goto bad;
        memcpy(host, h, hl);
        host[hl] = 0;
        p = h + hl;
    }
    if (*p == ':') {
        size_t pl = strcspn(p + 1, "/");
        if (pl == 0 || pl >= sizeof port)
            goto bad;
        memcpy(port, p + 1, pl);
        port[pl] = 0;
    } else {
        snprintf(port, sizeof port, "%s", pf->proto == PROTO_REDIS ? "6379" :
                 pf->proto == PROTO_MQTT ? "9001" : "8080");
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gr = getaddrinfo(host, port, &hints, &res);
    if (gr != 0 || !res) {
        fprintf(stderr, "magnetar-perf: cannot resolve %s:%s: %s\n", host, port, gai_strerror(gr));
        return 2;
    }
    memcpy(&pf->addr, res->ai_addr, res->ai_addrlen);
    pf->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    if (!pf->o.allow_remote && !is_loopback((const struct sockaddr *)&pf->addr)) {
        fprintf(stderr, "magnetar-perf: refusing non-loopback target %s (pass --allow-remote to "
                "load a remote machine)\n", host);
        return 2;
    }
    snprintf(pf->host_hdr, sizeof pf->host_hdr, "%s%s%s:%s", strchr(host, ':') ? "[" : "", host,
             strchr(host, ':') ? "]" : "", port);
    snprintf(pf->target, sizeof pf->target, "%s://%s", pf->proto == PROTO_REDIS ? "redis" : "ws",
             pf->host_hdr);
    return 0;
bad:
    fprintf(stderr, "magnetar-perf: bad URL %s\n", u);
    return 2;
}

enum {
    OPT_ALLOW_REMOTE = 256, OPT_NAMESPACE, OPT_ROLE, OPT_WARMUP, OPT_IDLE_EXIT,
    OPT_CONNECT_PARALLEL, OPT_LABEL, OPT_QUIET, OPT_HIST_OUT
};

static int parse_args(struct perf *pf, int argc, char **argv)
{
    static const struct option lo[] = {
        { "url", required_argument, NULL, 'u' },
        { "allow-remote", no_argument, NULL, OPT_ALLOW_REMOTE },
        { "topic", required_argument, NULL, 't' },
        { "topics", required_argument, NULL, 'T' },
        { "namespace", required_argument, NULL, OPT_NAMESPACE },
        { "connections", required_argument, NULL, 'c' },
        { "consumers", required_argument, NULL, 'C' },
        { "in-flight", required_argument, NULL, 'w' },
        { "size", required_argument, NULL, 's' },
        { "rate", required_argument, NULL, 'r' },
        { "duration", required_argument, NULL, 'd' },
        { "count", required_argument, NULL, 'n' },
        { "keys", required_argument, NULL, 'k' },
        { "subscription", required_argument, NULL, 'S' },
        { "sub-type", required_argument, NULL, 'y' },
        { "queue", required_argument, NULL, 'q' },
        { "role", required_argument, NULL, OPT_ROLE },
        { "warmup", required_argument, NULL, OPT_WARMUP },
        { "idle-exit", required_argument, NULL, OPT_IDLE_EXIT },
        { "connect-parallel", required_argument, NULL, OPT_CONNECT_PARALLEL },
        { "label", required_argument, NULL, OPT_LABEL },
        { "quiet", no_argument, NULL, OPT_QUIET },
        { "hist-out", required_argument, NULL, OPT_HIST_OUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct opts *o = &pf->o;
    bool rate_set = false;
    int ch;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : -1;
    }
    for (int i = 0; mode_names[i]; i++)
        if (strcmp(argv[1], mode_names[i]) == 0)
            o->mode = (enum mode)i;
    if (strcmp(argv[1], mode_names[o->mode]) != 0) {
        fprintf(stderr, "magnetar-perf: unknown mode '%s'\n", argv[1]);
        return 2;
    }
    o->topic = "perf";
    o->ns = "public/default";
    o->topics = 1;
    o->connections = 1;
    o->consumers = 1;
    o->window = 100;
    o->size = 100;
    o->duration = 10;
    o->sub = "perf-sub";
    o->sub_type = "Shared";
    o->queue = 1000;
    o->idle_role = "producer";
    o->connect_parallel = 64;
    o->label = "";
    optind = 2;
    while ((ch = getopt_long(argc, argv, "u:t:T:c:C:w:s:r:d:n:k:S:y:q:h", lo, NULL)) != -1) {
        bool ok = true;
        uint32_t u32;
        switch (ch) {
        case 'u': o->url = optarg; break;
        case OPT_ALLOW_REMOTE: o->allow_remote = true; break;
        case 't': o->topic = optarg; ok = *optarg && !strpbrk(optarg, "/?#\"\\ "); break;
        case 'T': ok = parse_u32(optarg, 1, &o->topics); break;
        case OPT_NAMESPACE: o->ns = optarg; ok = strchr(optarg, '/') && !strpbrk(optarg, "?#\" "); break;
        case 'c': ok = parse_u32(optarg, 1, &o->connections); break;
        case 'C': ok = parse_u32(optarg, 1, &o->consumers); break;
        case 'w': ok = parse_u32(optarg, 1, &o->window) && o->window <= 65535; break;
        case 's': ok = parse_u32(optarg, 0, &o->size) && o->size <= 16 * 1024 * 1024; break;
        case 'r': ok = parse_double(optarg, &o->rate); rate_set = true; break;
        case 'd': ok = parse_double(optarg, &o->duration); break;
        case 'n': ok = parse_u32(optarg, 0, &u32); o->count = u32; break;
        case 'k': ok = parse_u32(optarg, 0, &o->keys); break;
        case 'S': o->sub = optarg; ok = *optarg && !strpbrk(optarg, "/?#&\"\\ "); break;
        case 'y':
            o->sub_type = optarg;
            ok = !strcmp(optarg, "Exclusive") || !strcmp(optarg, "Shared") ||
                 !strcmp(optarg, "Failover") || !strcmp(optarg, "Key_Shared");
            break;
        case 'q': ok = parse_u32(optarg, 0, &o->queue); break;
        case OPT_ROLE:
            o->idle_role = optarg;
            ok = !strcmp(optarg, "producer") || !strcmp(optarg, "consumer") ||
                 !strcmp(optarg, "reader");
            break;
        case OPT_WARMUP: ok = parse_u32(optarg, 0, &o->warmup); break;
        case OPT_IDLE_EXIT: ok = parse_double(optarg, &o->idle_exit); break;
        case OPT_CONNECT_PARALLEL: ok = parse_u32(optarg, 1, &o->connect_parallel); break;
        case OPT_LABEL: o->label = optarg; ok = !strpbrk(optarg, "\"\\"); break;
        case OPT_QUIET: o->quiet = true; break;
        case OPT_HIST_OUT: o->hist_out = optarg; break;
        case 'h': usage(stdout); return -1;
        default: return 2;
        }
        if (!ok) {
            fprintf(stderr, "magnetar-perf: bad option value '%s' (see --help)\n",
                    optarg ? optarg : "");
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "magnetar-perf: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    bool e2e = o->mode == MODE_E2E || o->mode == MODE_MQTT_E2E;
    if (e2e && !rate_set)
        o->rate = 1000;
    if (e2e && o->rate <= 0 && o->count == 0) {
        fprintf(stderr, "magnetar-perf: e2e needs a fixed --rate (or a --count)\n");
        return 2;
    }
    if (o->duration <= 0 && o->count == 0 && o->mode != MODE_SELFTEST && o->idle_exit <= 0) {
        fprintf(stderr, "magnetar-perf: give --duration, --count or --idle-exit\n");
        return 2;
    }
    if (e2e && o->size < STAMP_BYTES) {
        fprintf(stderr, "magnetar-perf: e2e needs --size >= %d (the send time)\n", STAMP_BYTES);
        return 2;
    }
    pf->proto = o->mode == MODE_MQTT_PRODUCE || o->mode == MODE_MQTT_E2E ? PROTO_MQTT :
                o->mode == MODE_REDIS_PRODUCE ? PROTO_REDIS : PROTO_PULSAR;
    if (!o->url)
        o->url = pf->proto == PROTO_REDIS ? "redis://127.0.0.1:6379" :
                 pf->proto == PROTO_MQTT ? "ws://127.0.0.1:9001" : "ws://127.0.0.1:8080";
    return 0;
}

/* ============================================================================================ */
/* main                                                                                         */
/* ============================================================================================ */

static int setup(struct perf *pf)
{
    const struct opts *o = &pf->o;
    enum mode m = o->mode;
    uint32_t ncons = 0, nprod = 0;
    enum role crole = ROLE_CONSUMER;

    switch (m) {
    case MODE_PRODUCE: case MODE_MQTT_PRODUCE: case MODE_REDIS_PRODUCE:
        nprod = o->connections;
        break;
    case MODE_CONSUME:
        ncons = o->connections;
        break;
    case MODE_READ:
        ncons = o->connections;
        crole = ROLE_READER;
        break;
    case MODE_E2E: case MODE_MQTT_E2E:
        ncons = o->topics * o->consumers;
        nprod = o->connections;
        break;
    case MODE_IDLE:
        ncons = o->connections;
        crole = !strcmp(o->idle_role, "consumer") ? ROLE_CONSUMER :
                !strcmp(o->idle_role, "reader") ? ROLE_READER : ROLE_PRODUCER;
        break;
    case MODE_SELFTEST:
        break;
    }
    pf->latency_on_rx = m == MODE_E2E || m == MODE_MQTT_E2E;
    pf->ncons = ncons;
    pf->nconns = ncons + nprod;

    /* Every connection needs a descriptor; raise the soft limit as far as allowed. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)pf->nconns + 32) {
        fprintf(stderr, "magnetar-perf: %" PRIu32 " connections need more file descriptors than "
                "the limit %llu (raise ulimit -n)\n", pf->nconns, (unsigned long long)rl.rlim_cur);
        return 2;
    }

    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    pf->base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!pf->base) {
        fprintf(stderr, "magnetar-perf: cannot create the event loop\n");
        return 1;
    }
    pf->conns = mag_xcalloc(pf->nconns ? pf->nconns : 1, sizeof *pf->conns);
    pf->dirty = mag_xcalloc(pf->nconns ? pf->nconns : 1, sizeof *pf->dirty);
    for (uint32_t i = 0; i < pf->nconns; i++) {
        struct conn *c = &pf->conns[i];
        c->pf = pf;
        c->idx = i;
        c->fd = -1;
        c->st = CS_IDLE;
        c->role = i < ncons ? crole : ROLE_PRODUCER;
        c->topic = (i < ncons ? i : i - ncons) % o->topics;
        mag_ws_parser_init(&c->wp, MAX_PACKET, false);
        if (i >= ncons)
            c->slots = mag_xcalloc(o->window, sizeof *c->slots);
    }
    pf->rbuf = mag_xmalloc(RBUF_SIZE);
    pf->payload = mag_xmalloc(o->size ? o->size : 1);
    for (uint32_t i = 0; i < o->size; i++)
        pf->payload[i] = (uint8_t)('a' + (rng_next(&pf->rng) % 26));
    mag_base64_encode(&pf->payload_b64, pf->payload, o->size);
    hist_init(&pf->pub);
    hist_init(&pf->pub_iv);
    hist_init(&pf->e2e);
    hist_init(&pf->e2e_iv);
    pf->stop_ev = evtimer_new(pf->base, on_stop_timer, pf);
    pf->report_ev = event_new(pf->base, -1, EV_PERSIST, on_report, pf);
    pf->sig_int = evsignal_new(pf->base, SIGINT, on_signal, pf);
    pf->sig_term = evsignal_new(pf->base, SIGTERM, on_signal, pf);
    struct timeval one = { 1, 0 };
    event_add(pf->report_ev, &one);
    event_add(pf->sig_int, NULL);
    event_add(pf->sig_term, NULL);
    return 0;
}

static void teardown(struct perf *pf)
{
    for (uint32_t i = 0; i < pf->nconns; i++) {
        struct conn *c = &pf->conns[i];
        if (c->st != CS_CLOSED && c->fd >= 0)
            close(c->fd);
        if (c->rev)
            event_free(c->rev);
        if (c->wev)
            event_free(c->wev);
        mag_buf_free(&c->acc);
        mag_buf_free(&c->stream);
        mag_buf_free(&c->out);
        free(c->slots);
    }
    free(pf->conns);
    free(pf->dirty);
    free(pf->rbuf);
    free(pf->payload);
    mag_buf_free(&pf->payload_b64);
    mag_buf_free(&pf->scratch);
    mag_buf_free(&pf->dec);
    mag_buf_free(&pf->leftover);
    hist_free(&pf->pub);
    hist_free(&pf->pub_iv);
    hist_free(&pf->e2e);
    hist_free(&pf->e2e_iv);
    if (pf->tick_ev)
        event_free(pf->tick_ev);
    if (pf->stop_ev)
        event_free(pf->stop_ev);
    if (pf->warm_ev)
        event_free(pf->warm_ev);
    if (pf->report_ev)
        event_free(pf->report_ev);
    if (pf->sig_int)
        event_free(pf->sig_int);
    if (pf->sig_term)
        event_free(pf->sig_term);
    if (pf->base)
        event_base_free(pf->base);
}

int main(int argc, char **argv)
{
    struct perf pf;
    int rc;

    memset(&pf, 0, sizeof pf);
    rc = parse_args(&pf, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (pf.o.mode == MODE_SELFTEST)
        return selftest();
    if ((rc = resolve_target(&pf)) != 0)
        return rc;
    pf.t0 = now_ns();
    if (getrandom(&pf.rng, sizeof pf.rng, 0) != (ssize_t)sizeof pf.rng || pf.rng == 0)
        pf.rng = pf.t0 ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
    signal(SIGPIPE, SIG_IGN);
    rc = setup(&pf);
    if (rc == 0) {
        pf.phase = 0;
        pf.phase_end = pf.ncons;
        if (pf.ncons == 0 || pf.nconns == 0)
            check_done(&pf);
        else
            launch_more(&pf);
        if (pf.nconns == 0)
            perf_stop(&pf, "nothing to do");
        if (!pf.stopped)
            event_base_dispatch(pf.base);
        summary(&pf);
        rc = (pf.errors || pf.send_errors || pf.open_now == 0) ? 1 : 0;
    }
    teardown(&pf);
    return rc;
}
