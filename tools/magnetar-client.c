/* magnetar-client.c -- command-line producer, consumer and reader, like Pulsar's pulsar-client.
 *
 *   magnetar-client [--url URL] [--auth-params token:T | --token T] [TLS options] VERB ...
 *   produce TOPIC -m MSG [-n N] [-k KEY] [-p k=v]... [-f FILE]
 *   consume TOPIC -s SUB [-t TYPE] [-m MODE] [-p Earliest|Latest] [-n N]
 *   read TOPIC [-m earliest|latest|LEDGER:ENTRY|BASE64_ID] [-n N]
 *
 * Verbs, flags, defaults and output follow pulsar-client 2.10 (PulsarClientTool, CmdProduce,
 * CmdConsume, CmdRead): "----- got message -----" blocks with "key:[K], properties:[k=v],
 * content:C", and "N messages successfully produced|consumed|read" at the end. It speaks only
 * Pulsar's public WebSocket API (/ws/v2/producer|consumer|reader/...), so it works against a real
 * Pulsar cluster with the WebSocket service as well. The connection is tools/wsclient/ws_client.c
 * (one thread, blocking sockets, plain or OpenSSL), the frames it reads tools/wsclient/client_msg.c;
 * this file holds the verbs and their options. Errors are one line on stderr; exit status 0 ok,
 * 1 error, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mag/codec/msgid.h"
#include "mag/codec/pulsar_json.h"
#include "mag/codec/topic_path.h"
#include "mag/util/alloc.h"
#include "mag/util/base64.h"
#include "mag/util/buf.h"
#include "wsclient/client_msg.h"
#include "wsclient/ws_client.h"

#define PROG "magnetar-client"
#define RECEIPT_TIMEOUT_MS 60000    /* a producer receipt later than this is an error */
#define PRODUCE_WINDOW 1000         /* sends in flight (ProducerConfiguration maxPendingMessages) */

/* ============================================================================================ */
/* Shared by the verbs                                                                          */
/* ============================================================================================ */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int usage_error(const char *verb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A one-line usage error on stderr and the hint; returns the usage exit status 2. */
static int usage_error(const char *verb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, PROG ": ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '" PROG " %s%s--help'.\n", verb ? verb : "", verb ? " " : "");
    return 2;
}

static int run_error(const char *what)
{
    fprintf(stderr, PROG ": %s\n", what);
    return 1;
}

/* "N units" on stderr once a second after the first second, for long runs. Owned by the
   running verb (one thread). */
struct progress {
    uint64_t start, last;
    const char *what;
};

static void progress_tick(struct progress *p, uint64_t done, uint64_t total)
{
    uint64_t now = now_ms();
    if (now - p->start < 1000 || now - p->last < 1000)
        return;
    p->last = now;
    double rate = (double)done * 1000.0 / (double)(now - p->start);
    if (total)
        fprintf(stderr, PROG ": %" PRIu64 "/%" PRIu64 " messages %s (%.0f msg/s)\n", done, total,
                p->what, rate);
    else
        fprintf(stderr, PROG ": %" PRIu64 " messages %s (%.0f msg/s)\n", done, p->what, rate);
}

/* WebSocket path of a topic for kind ("producer", "consumer", "reader"), as CmdProduce's
   getWebSocketProduceUri builds it: /ws/v2/KIND/DOMAIN/TENANT/NS/LOCAL for v2 names, and the
   legacy /ws/KIND/DOMAIN/TENANT/CLUSTER/NS/LOCAL for v1 names. Short names are completed by
   TopicName's rules (x -> persistent://public/default/x). */
static bool topic_path(mag_buf *b, const char *kind, const char *topic)
{
    mag_topic_name tn;
    if (mag_topic_name_parse(topic, strlen(topic), &tn) != MAG_OK)
        return false;
    mag_buf_appendf(b, "/ws/%s%s/%s/", tn.cluster[0] ? "" : "v2/", kind,
                    tn.persistent ? "persistent" : "non-persistent");
    mag_wsc_append_encoded(b, tn.tenant);
    mag_buf_append_byte(b, '/');
    if (tn.cluster[0]) {
        mag_wsc_append_encoded(b, tn.cluster);
        mag_buf_append_byte(b, '/');
    }
    mag_wsc_append_encoded(b, tn.ns);
    mag_buf_append_byte(b, '/');
    mag_wsc_append_encoded(b, tn.local);
    return true;
}

/* Read messages (consume or read): print each, ack it, stop after n (0 = until interrupted). */
static int receive_loop(struct mag_wsc *c, const char *what, uint64_t n, bool hide_content,
                        bool hex, double rate)
{
    struct mag_client_msg r = { 0 };
    struct progress pr = { now_ms(), 0, what };
    uint64_t got = 0;
    int rc = 0;
    mag_buf ack = MAG_BUF_INIT;
    while (n == 0 || got < n) {
        uint64_t due = rate > 0 ? pr.start + (uint64_t)((double)got * 1000.0 / rate) : 0;
        uint64_t now = now_ms();
        if (due > now && !mag_wsc_interrupted) {   /* -r: CmdConsume's RateLimiter.acquire() */
            uint64_t ms = due - now > 1000 ? 1000 : due - now;
            struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
            nanosleep(&ts, NULL);
            continue;
        }
        int w = mag_wsc_recv(c, 1000);
        if (w == 0) {
            progress_tick(&pr, got, n);
            continue;
        }
        if (w == -2) {
            rc = n == 0 ? 0 : 1;
            if (rc)
                fprintf(stderr, PROG ": interrupted\n");
            break;
        }
        if (w < 0) {
            rc = run_error(c->err);
            break;
        }
        if (!mag_client_msg_parse(c->msg.data, c->msg.len, &r) || r.message_id.len == 0)
            continue;   /* not a message (e.g. a reply to a command) */
        got++;
        if (!hide_content)
            mag_client_msg_print(&r, hex);
        else if (got % 1000 == 0)
            printf("Received %" PRIu64 " messages\n", got);
        mag_buf_reset(&ack);
        mag_buf_append_str(&ack, "{\"messageId\":");
        mag_json_append_string(&ack, (const char *)r.message_id.data, r.message_id.len);
        mag_buf_append_byte(&ack, '}');
        if (!mag_wsc_send(c, MAG_WS_OP_TEXT, ack.data, ack.len)) {
            rc = run_error(c->err);
            break;
        }
        progress_tick(&pr, got, n);
    }
    mag_wsc_finish(c);
    printf("%" PRIu64 " messages successfully %s\n", got, what);
    fflush(stdout);
    mag_buf_free(&ack);
    mag_client_msg_free(&r);
    return rc;
}

/* Parse a non-negative count. */
static bool parse_count(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *end || errno || s[0] == '-')
        return false;
    *out = v;
    return true;
}

/* Match s (any case) against names; returns the canonical spelling or NULL. */
static const char *pick(const char *s, const char *const *names)
{
    for (; *names; names++)
        if (strcasecmp(s, *names) == 0)
            return *names;
    return NULL;
}

/* ============================================================================================ */
/* produce                                                                                      */
/* ============================================================================================ */

static const char produce_usage[] =
    "Usage: " PROG " [global options] produce TOPIC [options]\n"
    "Produce messages to a topic (pulsar-client produce over Pulsar's WebSocket API).\n"
    "  -m, --messages MSG      message(s) to send, split on the separator; repeatable\n"
    "  -f, --files FILE        file(s) whose bytes are sent as one message each; comma-separated,\n"
    "                          repeatable. Either -m or -f is required\n"
    "  -n, --num-produce N     number of times to send the message(s) (default 1)\n"
    "  -k, --key KEY           message key\n"
    "  -p, --properties K=V    properties, comma-separated k1=v1,k2=v2; repeatable\n"
    "  -s, --separator SEP     what -m is split on (default \",\")\n"
    "  -r, --rate R            messages per second, 0 = as fast as possible (default 0)\n"
    "  -h, --help              this help\n"
    "Prints \"N messages successfully produced\"; exit 0, or 1 on an error (connection, refused\n"
    "upgrade, send-error receipt).\n";

static bool read_file(const char *path, mag_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    uint8_t buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        mag_buf_append(out, buf, n);
    bool ok = !ferror(f);
    fclose(f);
    return ok;
}

/* Bodies base64-encoded once, back to back in b64s; body i is [offs[i], offs[i+1]). Owned by
   cmd_produce (one thread). */
struct bodies {
    mag_buf b64s;
    size_t *offs;
    size_t n, cap;
};

static void body_add(struct bodies *b, const uint8_t *data, size_t len)
{
    if (b->n + 2 > b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->offs = mag_xrealloc(b->offs, b->cap * sizeof *b->offs);
    }
    b->offs[b->n] = b->b64s.len;
    mag_base64_encode(&b->b64s, data, len);
    b->offs[++b->n] = b->b64s.len;
}

/* Split s on sep like Java's String.split (a literal separator here): trailing empty parts are
   dropped, and "" gives one empty part. Calls fn for each part. */
static int split(const char *s, const char *sep, int (*fn)(void *, const char *, size_t), void *arg)
{
    size_t sl = strlen(sep), end = strlen(s);
    if (end == 0)
        return fn(arg, s, 0);
    while (end >= sl && memcmp(s + end - sl, sep, sl) == 0)
        end -= sl;   /* trailing empty parts */
    for (size_t pos = 0; pos < end;) {
        const char *hit = NULL;
        for (size_t q = pos; q + sl <= end && !hit; q++)
            if (memcmp(s + q, sep, sl) == 0)
                hit = s + q;
        size_t len = hit ? (size_t)(hit - s) - pos : end - pos;
        int rc = fn(arg, s + pos, len);
        if (rc)
            return rc;
        pos += len + sl;
        if (!hit)
            break;
    }
    return 0;
}

static int add_message(void *arg, const char *s, size_t len)
{
    body_add(arg, (const uint8_t *)s, len);
    return 0;
}

static int add_file(void *arg, const char *s, size_t len)
{
    char *name = mag_xstrndup(s, len);
    mag_buf raw = MAG_BUF_INIT;
    int rc = read_file(name, &raw) ? 0 : usage_error("produce", "cannot read file %s", name);
    if (rc == 0)
        body_add(arg, raw.data, raw.len);
    mag_buf_free(&raw);
    free(name);
    return rc;
}

/* k=v as a JSON member; the value is everything after the first '='. */
static int add_property(void *arg, const char *s, size_t len)
{
    mag_buf *json = arg;
    const char *eq = memchr(s, '=', len);
    if (!eq || eq == s) {
        char *kv = mag_xstrndup(s, len);
        int rc = usage_error("produce", "Invalid property '%s': use key=value", kv);
        free(kv);
        return rc;
    }
    mag_buf_append_byte(json, json->len > 1 ? ',' : '{');
    mag_json_append_string(json, s, (size_t)(eq - s));
    mag_buf_append_byte(json, ':');
    mag_json_append_string(json, eq + 1, len - (size_t)(eq - s) - 1);
    return 0;
}

/* Send every message with a window of PRODUCE_WINDOW in flight; stop at the first receipt that
   is not "ok". *acked counts the stored ones. */
static int produce_all(struct mag_wsc *c, const struct bodies *b, uint64_t times, const char *key,
                       const mag_buf *props, double rate, uint64_t *acked)
{
    uint64_t total = (uint64_t)b->n * times, sent = 0;
    struct progress pr = { now_ms(), 0, "produced" };
    struct mag_client_msg r = { 0 };
    mag_buf frame = MAG_BUF_INIT;
    int rc = 0;
    while (rc == 0 && *acked < total) {
        while (sent < total && sent - *acked < PRODUCE_WINDOW) {
            uint64_t due = rate > 0 ? pr.start + (uint64_t)((double)sent * 1000.0 / rate) : 0;
            if (now_ms() < due)
                break;   /* wait for receipts (or the time) below */
            size_t bi = (size_t)(sent % b->n);
            mag_buf_reset(&frame);
            mag_buf_append_str(&frame, "{\"payload\":\"");
            mag_buf_append(&frame, b->b64s.data + b->offs[bi], b->offs[bi + 1] - b->offs[bi]);
            mag_buf_append_byte(&frame, '"');
            if (props->len) {
                mag_buf_append_str(&frame, ",\"properties\":");
                mag_buf_append(&frame, props->data, props->len);
            }
            if (key && *key) {   /* CmdProduce sets the key only when it is not empty */
                mag_buf_append_str(&frame, ",\"key\":");
                mag_json_append_string(&frame, key, strlen(key));
            }
            mag_buf_appendf(&frame, ",\"context\":\"%" PRIu64 "\"}", sent + 1);
            if (!mag_wsc_send(c, MAG_WS_OP_TEXT, frame.data, frame.len)) {
                rc = run_error(c->err);
                break;
            }
            sent++;
        }
        if (rc)
            break;
        int wait = sent > *acked ? RECEIPT_TIMEOUT_MS : 10;
        int w = mag_wsc_recv(c, wait);
        if (w == 0 && sent > *acked)
            rc = run_error("no receipt from the server within 60 s");
        else if (w == -2)
            rc = run_error("interrupted");
        else if (w < 0)
            rc = run_error(c->err);
        else if (w == 1 && mag_client_msg_parse(c->msg.data, c->msg.len, &r) && r.result.len) {
            if (r.result.len != 2 || memcmp(r.result.data, "ok", 2) != 0) {
                fprintf(stderr, PROG ": message %" PRIu64 " was not stored: %.*s%s%.*s\n",
                        *acked + 1, (int)r.result.len, (const char *)r.result.data,
                        r.error_msg.len ? ": " : "", (int)r.error_msg.len,
                        (const char *)r.error_msg.data);
                rc = 1;
            } else {
                ++*acked;
            }
        }
        progress_tick(&pr, *acked, total);
    }
    mag_client_msg_free(&r);
    mag_buf_free(&frame);
    return rc;
}

static int cmd_produce(struct mag_wsc *c, int argc, char **argv)
{
    static const struct option opts[] = {
        { "messages", required_argument, NULL, 'm' }, { "files", required_argument, NULL, 'f' },
        { "num-produce", required_argument, NULL, 'n' }, { "key", required_argument, NULL, 'k' },
        { "properties", required_argument, NULL, 'p' }, { "separator", required_argument, NULL, 's' },
        { "rate", required_argument, NULL, 'r' }, { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *sep = ",", *key = NULL;
    uint64_t times = 1, acked = 0;
    double rate = 0;
    /* Each option's arguments in order: [0] -m, [1] -f, [2] -p. */
    char **lists[3];
    int counts[3] = { 0, 0, 0 };
    for (int i = 0; i < 3; i++)
        lists[i] = mag_xcalloc((size_t)argc + 1, sizeof(char *));
    int opt, rc = 0;
    optind = 0;   /* glibc: 0 re-initialises getopt after main's parse */
    while (rc == 0 && (opt = getopt_long(argc, argv, "m:f:n:k:p:s:r:h", opts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'm': lists[0][counts[0]++] = optarg; break;
        case 'f': lists[1][counts[1]++] = optarg; break;
        case 'p': lists[2][counts[2]++] = optarg; break;
        case 'k': key = optarg; break;
        case 's': sep = optarg; break;
        case 'n':
            if (!parse_count(optarg, &times) || times == 0)
                rc = usage_error("produce", "Number of times need to be positive number: %s", optarg);
            break;
        case 'r':
            rate = strtod(optarg, &end);
            if (*end || !(rate >= 0))
                rc = usage_error("produce", "bad rate: %s", optarg);
            break;
        case 'h': fputs(produce_usage, stdout); rc = -1; break;
        default: rc = 2; break;
        }
    }
    if (rc == 0 && argc - optind != 1)
        rc = usage_error("produce", "%s", "Please provide one and only one topic name.");
    if (rc == 0 && counts[0] == 0 && counts[1] == 0)
        rc = usage_error("produce", "%s", "Please supply message content with either --messages or --files");
    if (rc == 0 && !*sep)
        rc = usage_error("produce", "%s", "the separator must not be empty");
    /* CmdProduce.generateMessageBodies: the strings, then the files. */
    struct bodies b = { MAG_BUF_INIT, NULL, 0, 0 };
    mag_buf_reserve(&b.b64s, 64);   /* storage even if every body is empty */
    mag_buf props = MAG_BUF_INIT, target = MAG_BUF_INIT;
    for (int i = 0; rc == 0 && i < counts[0]; i++)
        rc = split(lists[0][i], sep, add_message, &b);
    for (int i = 0; rc == 0 && i < counts[1]; i++)
        rc = split(lists[1][i], ",", add_file, &b);
    for (int i = 0; rc == 0 && i < counts[2]; i++)
        rc = split(lists[2][i], ",", add_property, &props);
    if (props.len)
        mag_buf_append_byte(&props, '}');
    if (rc == 0 && b.n == 0)
        rc = usage_error("produce", "%s", "Please supply message content with either --messages or --files");
    if (rc == 0 && !topic_path(&target, "producer", argv[optind]))
        rc = usage_error("produce", "Invalid topic name: %s", argv[optind]);
    if (rc == 0) {
        mag_buf_append_byte(&target, 0);
        rc = mag_wsc_open(c, (const char *)target.data) ? 0 : run_error(c->err);
        if (rc == 0)
            rc = produce_all(c, &b, times, key, &props, rate, &acked);
        mag_wsc_finish(c);
        printf("%" PRIu64 " messages successfully produced\n", acked);
    }
    mag_buf_free(&b.b64s);
    free(b.offs);
    mag_buf_free(&props);
    mag_buf_free(&target);
    for (int i = 0; i < 3; i++)
        free(lists[i]);
    return rc < 0 ? 0 : rc;
}

/* ============================================================================================ */
/* consume, read                                                                                */
/* ============================================================================================ */

static const char consume_usage[] =
    "Usage: " PROG " [global options] consume TOPIC -s SUB [options]\n"
    "Consume messages from a topic and acknowledge each (pulsar-client consume).\n"
    "  -s, --subscription-name SUB       subscription name (required)\n"
    "  -t, --subscription-type TYPE      Exclusive (default), Shared, Failover, Key_Shared\n"
    "  -m, --subscription-mode MODE      Durable (default), NonDurable\n"
    "  -p, --subscription-position POS   Latest (default), Earliest: where a new subscription starts\n"
    "  -n, --num-messages N              messages to consume, 0 = until interrupted (default 1)\n"
    "  -q, --queue-size N                receiverQueueSize of the WebSocket consumer\n"
    "  -r, --rate R                      messages per second, 0 = as fast as possible (default 0)\n"
    "      --hex                         show the content as a hex dump\n"
    "      --hide-content                do not print the messages (\"Received N messages\" every 1000)\n"
    "  -h, --help                        this help\n"
    "Prints each message as a \"" MAG_CLIENT_MESSAGE_BOUNDARY "\" block (key, properties, content), then\n"
    "\"N messages successfully consumed\".\n";

static const char read_usage[] =
    "Usage: " PROG " [global options] read TOPIC [options]\n"
    "Read messages from a topic with a non-durable reader (pulsar-client read).\n"
    "  -m, --start-message-id ID   latest (default), earliest, LEDGER:ENTRY, or a message id as the\n"
    "                              WebSocket API prints it (base64)\n"
    "  -n, --num-messages N        messages to read, 0 = until interrupted (default 1)\n"
    "  -q, --queue-size N          receiverQueueSize of the WebSocket reader\n"
    "  -r, --rate R                messages per second, 0 = as fast as possible (default 0)\n"
    "      --hex                   show the content as a hex dump\n"
    "      --hide-content          do not print the messages (\"Received N messages\" every 1000)\n"
    "  -h, --help                  this help\n"
    "Prints each message as a \"" MAG_CLIENT_MESSAGE_BOUNDARY "\" block, then \"N messages successfully read\".\n";

static const char *const sub_types[] = { "Exclusive", "Shared", "Failover", "Key_Shared", NULL };
static const char *const sub_modes[] = { "Durable", "NonDurable", NULL };
static const char *const positions[] = { "Latest", "Earliest", NULL };

/* The reader's messageId parameter: latest, earliest, "ledger:entry" (CmdRead.parseMessageId:
   a MessageIdImpl with partition -1, base64 of its toByteArray) or an id already in base64. */
static bool start_message_id(const char *s, char out[MAG_MSGID_B64_MAX])
{
    if (strcmp(s, "latest") == 0 || strcmp(s, "earliest") == 0) {
        snprintf(out, MAG_MSGID_B64_MAX, "%s", s);
        return true;
    }
    long long ledger, entry;
    int used = 0;
    mag_msgid id;
    if (sscanf(s, "%lld:%lld%n", &ledger, &entry, &used) == 2 && s[used] == '\0') {
        mag_msgid_init(&id, (uint64_t)ledger, (uint64_t)entry);
        mag_msgid_to_base64(&id, out);
        return true;
    }
    if (strlen(s) < MAG_MSGID_B64_MAX && mag_msgid_from_base64(s, strlen(s), &id) == MAG_OK) {
        snprintf(out, MAG_MSGID_B64_MAX, "%s", s);
        return true;
    }
    return false;
}

/* consume (reader = false) or read (reader = true). */
static int cmd_receive(struct mag_wsc *c, int argc, char **argv, bool reader)
{
    static const struct option opts[] = {
        { "subscription-name", required_argument, NULL, 's' },
        { "subscription-type", required_argument, NULL, 't' },
        { "subscription-mode", required_argument, NULL, 'm' },
        { "start-message-id", required_argument, NULL, 'm' },
        { "subscription-position", required_argument, NULL, 'p' },
        { "num-messages", required_argument, NULL, 'n' },
        { "queue-size", required_argument, NULL, 'q' },
        { "rate", required_argument, NULL, 'r' },
        { "hide-content", no_argument, NULL, 'H' },
        { "hex", no_argument, NULL, 'X' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *verb = reader ? "read" : "consume";
    const char *sub = NULL, *type = "Exclusive", *mode = NULL, *pos = NULL, *start = "latest";
    uint64_t n = 1, queue = 0;
    bool hide = false, hex = false, has_queue = false;
    double rate = 0;
    char *end;
    char msgid[MAG_MSGID_B64_MAX];
    int opt, rc = 0;
    optind = 0;   /* glibc: 0 re-initialises getopt after main's parse */
    while (rc == 0 && (opt = getopt_long(argc, argv, reader ? "m:n:q:r:h" : "s:t:m:p:n:q:r:h", opts,
                                         NULL)) != -1) {
        switch (opt) {
        case 's': sub = optarg; break;
        case 't':
            if (!(type = pick(optarg, sub_types)))
                rc = usage_error(verb, "Invalid subscription type %s (Exclusive, Shared, Failover, "
                                 "Key_Shared)", optarg);
            break;
        case 'm':
            if (reader)
                start = optarg;
            else if (!(mode = pick(optarg, sub_modes)))
                rc = usage_error(verb, "Invalid subscription mode %s (Durable, NonDurable)", optarg);
            break;
        case 'p':
            if (!(pos = pick(optarg, positions)))
                rc = usage_error(verb, "Invalid subscription position %s (Latest, Earliest)", optarg);
            break;
        case 'n':
            if (!parse_count(optarg, &n))
                rc = usage_error(verb, "Number of messages should be zero or positive: %s", optarg);
            break;
        case 'r':
            rate = strtod(optarg, &end);
            if (*end || !(rate >= 0))
                rc = usage_error(verb, "bad rate: %s", optarg);
            break;
        case 'q':
            if (!parse_count(optarg, &queue))
                rc = usage_error(verb, "bad queue size: %s", optarg);
            has_queue = true;
            break;
        case 'H': hide = true; break;
        case 'X': hex = true; break;
        case 'h': fputs(reader ? read_usage : consume_usage, stdout); rc = -1; break;
        default: rc = 2; break;
        }
    }
    if (rc == 0 && reader && (sub || pos || mode))
        rc = usage_error(verb, "%s", "a reader has no subscription (-s, -t, -p)");
    if (rc == 0 && argc - optind != 1)
        rc = usage_error(verb, "%s", "Please provide one and only one topic name.");
    if (rc == 0 && !reader && (!sub || !*sub))
        rc = usage_error(verb, "%s", "Subscription name is not provided.");
    if (rc == 0 && reader && !start_message_id(start, msgid))
        rc = usage_error(verb, "%s", "Message ID must be 'latest', 'earliest' or '<ledgerId>:<entryId>'");
    mag_buf target = MAG_BUF_INIT;
    if (rc == 0 && !topic_path(&target, reader ? "reader" : "consumer", argv[optind]))
        rc = usage_error(verb, "Invalid topic name: %s", argv[optind]);
    if (rc == 0) {
        if (reader) {
            mag_buf_append_str(&target, "?messageId=");
            mag_wsc_append_encoded(&target, msgid);
        } else {
            mag_buf_append_byte(&target, '/');
            mag_wsc_append_encoded(&target, sub);
            mag_buf_appendf(&target, "?subscriptionType=%s", type);
            if (mode)
                mag_buf_appendf(&target, "&subscriptionMode=%s", mode);
            if (pos)   /* read by Pulsar 3.3+/4.0 (PR #23013); older brokers ignore it */
                mag_buf_appendf(&target, "&subscriptionInitialPosition=%s", pos);
        }
        if (has_queue)
            mag_buf_appendf(&target, "&receiverQueueSize=%" PRIu64, queue);
        mag_buf_append_byte(&target, 0);
        if (mag_wsc_open(c, (const char *)target.data)) {
            rc = receive_loop(c, reader ? "read" : "consumed", n, hide, hex, rate);
        } else {
            rc = run_error(c->err);
            mag_wsc_finish(c);
            printf("0 messages successfully %s\n", reader ? "read" : "consumed");
        }
    }
    mag_buf_free(&target);
    return rc < 0 ? 0 : rc;
}

/* ============================================================================================ */
/* main                                                                                         */
/* ============================================================================================ */

static const char main_usage[] =
    "Usage: " PROG " [global options] VERB [options]\n"
    "Produce, consume or read messages over Pulsar's WebSocket API (like pulsar-client).\n"
    "Verbs:\n"
    "  produce TOPIC -m MSG [-n N] [-k KEY] [-p k=v]... [-f FILE]\n"
    "  consume TOPIC -s SUB [-t Exclusive|Shared|Failover|Key_Shared] [-p Earliest|Latest] [-n N]\n"
    "  read TOPIC [-m earliest|latest|LEDGER:ENTRY] [-n N]\n"
    "  (" PROG " VERB --help for each verb's options)\n"
    "Global options (before the verb):\n"
    "  --url URL                  server: ws://, wss://, http:// or https://HOST[:PORT][/PATH]\n"
    "                             (default ws://localhost:8080)\n"
    "  --auth-plugin CLASS        accepted for pulsar-client compatibility (the parameters decide)\n"
    "  --auth-params PARAMS       token:JWT, file:///path/to/token, or\n"
    "                             tlsCertFile:CERT,tlsKeyFile:KEY (client certificate)\n"
    "  --token JWT                same as --auth-params token:JWT\n"
    "  --tls-trust-certs FILE     CA certificates (PEM) to verify the server with\n"
    "                             (client.conf tlsTrustCertsFilePath; default: the system's)\n"
    "  --tls-allow-insecure       do not verify the server's certificate nor its name\n"
    "  --tls-cert-file FILE       client certificate (PEM) for mutual TLS\n"
    "  --tls-key-file FILE        its private key (PEM)\n"
    "  -h, --help                 this help\n"
    "TOPIC: persistent://tenant/ns/topic, non-persistent://..., or a short name\n"
    "(x -> persistent://public/default/x). Exit status: 0 ok, 1 error, 2 usage.\n";

static bool read_token_file(const char *path, char **out)
{
    mag_buf b = MAG_BUF_INIT;
    if (!read_file(path, &b)) {
        mag_buf_free(&b);
        return false;
    }
    while (b.len && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
        b.len--;
    *out = mag_xstrndup((const char *)b.data, b.len);
    mag_buf_free(&b);
    return true;
}

static char *cert_owned, *key_owned;   /* from --auth-params, freed at exit */

/* AuthenticationToken's "token:X" / "file:///path", or AuthenticationTls's
   "tlsCertFile:C,tlsKeyFile:K". */
static bool auth_params(struct mag_wsc *c, const char *p, char **owned)
{
    if (strncmp(p, "token:", 6) == 0) {
        c->token = p + 6;
        return true;
    }
    if (strncmp(p, "file://", 7) == 0) {
        if (!read_token_file(p + 7, owned))
            return false;
        c->token = *owned;
        return true;
    }
    bool any = false;
    for (const char *s = p; *s;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        char **slot = len > 12 && strncmp(s, "tlsCertFile:", 12) == 0 ? &cert_owned
                      : len > 11 && strncmp(s, "tlsKeyFile:", 11) == 0 ? &key_owned : NULL;
        if (!slot)
            return false;
        free(*slot);
        *slot = mag_xstrndup(strchr(s, ':') + 1, len - (size_t)(strchr(s, ':') + 1 - s));
        if (slot == &cert_owned)
            c->cert_file = cert_owned;
        else
            c->key_file = key_owned;
        any = true;
        s += len + (e ? 1 : 0);
    }
    return any;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "url", required_argument, NULL, 'u' }, { "auth-plugin", required_argument, NULL, 'P' },
        { "auth-params", required_argument, NULL, 'a' }, { "token", required_argument, NULL, 'T' },
        { "tls-trust-certs", required_argument, NULL, 'C' },
        { "tls-trust-certs-file-path", required_argument, NULL, 'C' },
        { "tls-allow-insecure", no_argument, NULL, 'I' },
        { "tls-cert-file", required_argument, NULL, 'c' },
        { "tls-key-file", required_argument, NULL, 'k' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    struct mag_wsc c;
    mag_wsc_init(&c);
    c.url = "ws://localhost:8080";
    char *token_owned = NULL;   /* --auth-params file:// token and tls files, freed at exit */
    int opt;
    while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': c.url = optarg; break;
        case 'P': break;
        case 'a':
            if (!auth_params(&c, optarg, &token_owned))
                return usage_error(NULL, "cannot use --auth-params %s (token:JWT, file:///path, or "
                                   "tlsCertFile:C,tlsKeyFile:K)", optarg);
            break;
        case 'T': c.token = optarg; break;
        case 'C': c.trust_certs = optarg; break;
        case 'I': c.allow_insecure = true; break;
        case 'c': c.cert_file = optarg; break;
        case 'k': c.key_file = optarg; break;
        case 'h': fputs(main_usage, stdout); return 0;
        default: fprintf(stderr, "Try '" PROG " --help'.\n"); return 2;
        }
    }
    if (optind >= argc)
        return usage_error(NULL, "%s", "no verb given (produce, consume or read)");
    const char *verb = argv[optind];
    if (!mag_wsc_parse_url(&c, c.url))
        return usage_error(NULL, "Unable to parse URL %s (ws://, wss://, http:// or https://HOST[:PORT])",
                           c.url);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mag_wsc_on_sigint;   /* no SA_RESTART: a wait ends and the run stops cleanly */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    int rc;
    if (strcmp(verb, "produce") == 0)
        rc = cmd_produce(&c, sub_argc, sub_argv);
    else if (strcmp(verb, "consume") == 0)
        rc = cmd_receive(&c, sub_argc, sub_argv, false);
    else if (strcmp(verb, "read") == 0)
        rc = cmd_receive(&c, sub_argc, sub_argv, true);
    else
        rc = usage_error(NULL, "unknown verb '%s' (produce, consume or read)", verb);
    mag_wsc_free(&c);
    free(token_owned);
    free(cert_owned);
    free(key_owned);
    return rc;
}
