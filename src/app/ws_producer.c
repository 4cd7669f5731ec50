/* ws_producer.c -- the /ws/v2/producer endpoint (spec §2.1, §3.1, §3.2, §5.4).
 *
 * Every text frame gets exactly one receipt. Bad frames are answered at
 * once with send-error:3 (not JSON) or send-error:7 (bad payload/eventTime);
 * good ones are staged in the broker and answered from the group-commit
 * callback, in publish order, only after the commit returned. The session
 * never closes itself because of bad input.
 *
 * Backpressure: while more than MAX_IN_FLIGHT publishes await their commit,
 * the session stops reading from the client.
 */
#include "app_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

#define MAX_IN_FLIGHT 4096

/* A publish waiting for its commit: only the context has to be remembered. */
struct pending_receipt {
    bool has_context;
    mag_buf context;
};

struct producer_session {
    mag_app *app;
    mag_ws *ws;
    mag_producer *producer;
    struct pending_receipt *ring;   /* FIFO of receipts owed, in publish order */
    size_t ring_cap, ring_head, ring_count;
    uint64_t next_token;
    bool paused;
    mag_producer_msg msg;           /* parser state, reused per frame */
    mag_buf out;                    /* receipt text, reused */
};

static const char *const routing_modes[] = { "SinglePartition", "RoundRobinPartition",
                                             "CustomPartition", NULL };
static const char *const compression_types[] = { "NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY", NULL };
static const char *const hashing_schemes[] = { "JavaStringHash", "Murmur3_32Hash", NULL };

static bool in_list(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(v, *list) == 0)
            return true;
    return false;
}

/* Validate spec §2.1 parameters; behaviour of batching/compression/routing
   belongs to later issues, so here they are only checked. */
static mag_rc check_params(const mag_query *q, mag_buf *err)
{
    int32_t i32 = 0;
    int64_t i64 = 0;
    const char *v;
    mag_rc rc;
    if ((v = mag_query_get(q, "producerName")) && v[strspn(v, " \t\r\n")] == '\0') {
        mag_buf_append_str(err, "producerName cannot be blank");
        return MAG_ERR_BAD_REQUEST;
    }
    if ((rc = mag_param_long(q, "initialSequenceId", &i64, err)) != MAG_OK)
        return rc;
    if ((v = mag_query_get(q, "hashingScheme")) && !in_list(v, hashing_schemes)) {
        mag_buf_appendf(err, "No enum constant org.apache.pulsar.client.api.HashingScheme.%s", v);
        return MAG_ERR_BAD_REQUEST;
    }
    i32 = 0;
    if ((rc = mag_param_int(q, "sendTimeoutMillis", &i32, err)) != MAG_OK)
        return rc;
    if (i32 < 0) {
        mag_buf_append_str(err, "sendTimeout needs to be >= 0");
        return MAG_ERR_BAD_REQUEST;
    }
    if ((rc = mag_param_int(q, "batchingMaxMessages", &i32, err)) != MAG_OK)
        return rc;
    i32 = 0;
    if ((rc = mag_param_int(q, "maxPendingMessages", &i32, err)) != MAG_OK)
        return rc;
    if (i32 < 0) {
        mag_buf_append_str(err, "maxPendingMessages needs to be >= 0");
        return MAG_ERR_BAD_REQUEST;
    }
    if ((rc = mag_param_long(q, "batchingMaxPublishDelay", &i64, err)) != MAG_OK)
        return rc;
    if ((v = mag_query_get(q, "messageRoutingMode")) && !in_list(v, routing_modes)) {
        mag_buf_appendf(err, "Invalid messageRoutingMode %s", v);
        return MAG_ERR_BAD_REQUEST;
    }
    if ((v = mag_query_get(q, "compressionType")) && !in_list(v, compression_types)) {
        mag_buf_appendf(err, "Invalid compressionType %s", v);
        return MAG_ERR_BAD_REQUEST;
    }
    return MAG_OK;
}

static struct pending_receipt *ring_push(struct producer_session *ps)
{
    if (ps->ring_count == ps->ring_cap) {
        size_t cap = ps->ring_cap ? ps->ring_cap * 2 : 16;
        struct pending_receipt *r = mag_xcalloc(cap, sizeof *r);
        for (size_t i = 0; i < ps->ring_count; i++)
            r[i] = ps->ring[(ps->ring_head + i) % ps->ring_cap];
        free(ps->ring);
        ps->ring = r;
        ps->ring_cap = cap;
        ps->ring_head = 0;
    }
    struct pending_receipt *p = &ps->ring[(ps->ring_head + ps->ring_count++) % ps->ring_cap];
    return p;
}

static void send_error(struct producer_session *ps, mag_rc rc, const mag_buf *msg,
                       bool has_context, const mag_buf *context)
{
    mag_buf_reset(&ps->out);
    mag_pulsar_format_receipt_error(&ps->out, mag_wire_send_error(rc),
                                    msg && msg->len ? (const char *)msg->data : NULL,
                                    msg ? msg->len : 0,
                                    has_context ? (const char *)context->data : NULL,
                                    has_context ? context->len : 0);
    mag_ws_send_text(ps->ws, ps->out.data, ps->out.len);
}

static void update_backpressure(struct producer_session *ps)
{
    bool want_pause = ps->ring_count >= MAX_IN_FLIGHT;
    if (want_pause == ps->paused)
        return;
    if (!want_pause && ps->ring_count > MAX_IN_FLIGHT / 2)
        return;
    ps->paused = want_pause;
    mag_ws_pause_reading(ps->ws, want_pause);
}

/* Group-commit result for the oldest outstanding publish. */
static void on_result(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id)
{
    (void)token;
    struct producer_session *ps = ctx;
    if (ps->ring_count == 0)
        return;
    struct pending_receipt *p = &ps->ring[ps->ring_head];
    ps->ring_head = (ps->ring_head + 1) % ps->ring_cap;
    ps->ring_count--;
    if (rc == MAG_OK) {
        char b64[MAG_MSGID_B64_MAX];
        mag_msgid_to_base64(id, b64);
        mag_buf_reset(&ps->out);
        mag_pulsar_format_receipt_ok(&ps->out, b64, p->has_context ? (const char *)p->context.data : NULL,
                                     p->has_context ? p->context.len : 0);
        mag_ws_send_text(ps->ws, ps->out.data, ps->out.len);
    } else {
        mag_buf msg = MAG_BUF_INIT;
        mag_buf_appendf(&msg, "Failed to persist message: %s", mag_strerror(rc));
        send_error(ps, rc, &msg, p->has_context, &p->context);
        mag_buf_free(&msg);
    }
    update_backpressure(ps);
}

static void on_text(void *ctx, mag_ws *ws, const char *data, size_t len)
{
    (void)ws;
    struct producer_session *ps = ctx;
    mag_producer_msg *m = &ps->msg;
    mag_rc rc = mag_pulsar_parse_producer_msg(data, len, m);
    if (rc != MAG_OK) {
        send_error(ps, rc, &m->error_msg, rc != MAG_ERR_JSON && m->has_context, &m->context);
        return;
    }
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.event_time_ms = m->event_time_ms;
    e.deliver_at_ms = m->deliver_at_ms;
    e.sequence_id = -1;
    e.has_key = m->has_key;
    e.key = (const char *)m->key.data;
    e.key_len = m->key.len;
    e.properties_json = (const char *)m->properties_json.data;
    e.properties_json_len = m->properties_json.len;
    e.replication_clusters_json = (const char *)m->replication_clusters_json.data;
    e.replication_clusters_json_len = m->replication_clusters_json.len;
    e.payload = m->payload.data;
    e.payload_len = m->payload.len;
    if (m->deliver_after_ms > 0 && e.deliver_at_ms <= 0) {
        /* deliverAfterMs is relative to the publish; stored as an absolute time. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        e.deliver_at_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + m->deliver_after_ms;
    }

    /* Queue the receipt BEFORE publishing: the commit may run inline. */
    struct pending_receipt *p = ring_push(ps);
    p->has_context = m->has_context;
    mag_buf_reset(&p->context);
    if (m->has_context)
        mag_buf_append(&p->context, m->context.data, m->context.len);
    rc = ps->producer ? mag_producer_publish(ps->producer, &e, ps->next_token++)
                      : MAG_ERR_UNAVAILABLE;
    if (rc != MAG_OK) {
        /* Not staged: take the receipt back off the tail and answer now. */
        ps->ring_count--;
        mag_buf msg = MAG_BUF_INIT;
        mag_buf_append_str(&msg, rc == MAG_ERR_UNAVAILABLE ? "Topic was already terminated"
                                                            : mag_strerror(rc));
        send_error(ps, rc, &msg, m->has_context, &m->context);
        mag_buf_free(&msg);
        return;
    }
    update_backpressure(ps);
}

static void on_broker_closed(void *ctx)
{
    struct producer_session *ps = ctx;
    ps->producer = NULL;
    mag_ws_close(ps->ws, 1011, "Topic was deleted");
}

static void on_close(void *ctx, mag_ws *ws)
{
    (void)ws;
    struct producer_session *ps = ctx;
    if (ps->producer)
        mag_producer_close(ps->producer);
    for (size_t i = 0; i < ps->ring_cap; i++)
        mag_buf_free(&ps->ring[i].context);
    free(ps->ring);
    mag_producer_msg_cleanup(&ps->msg);
    mag_buf_free(&ps->out);
    free(ps);
}

static const struct mag_ws_handler producer_handler = {
    .on_text = on_text,
    .on_writable = NULL,
    .on_close = on_close,
};

static const struct mag_producer_events producer_events = {
    .on_result = on_result,
    .on_closed = on_broker_closed,
};

static mag_rc producer_open(mag_app *app, mag_http_exchange *ex, const mag_ws_path *path,
                            const mag_query *query, mag_buf *err)
{
    mag_rc rc = check_params(query, err);
    if (rc != MAG_OK) {
        mag_buf tmp = MAG_BUF_INIT;
        mag_buf_append_str(&tmp, "Invalid query params: ");
        mag_buf_append(&tmp, err->data, err->len);
        mag_buf_reset(err);
        mag_buf_append(err, tmp.data, tmp.len);
        mag_buf_free(&tmp);
        return rc;
    }
    struct producer_session *ps = mag_xcalloc(1, sizeof *ps);
    ps->app = app;
    mag_producer_msg_init(&ps->msg);
    mag_buf_init(&ps->out);
    mag_buf prefixed = MAG_BUF_INIT;
    rc = mag_broker_producer_open(app->broker, &path->topic, mag_query_get(query, "producerName"),
                                  &producer_events, ps, &ps->producer, &prefixed);
    if (rc != MAG_OK) {
        mag_buf_append_str(err, "Failed to create producer: ");
        mag_buf_append(err, prefixed.data, prefixed.len);
        mag_buf_free(&prefixed);
        mag_producer_msg_cleanup(&ps->msg);
        free(ps);
        return rc;
    }
    mag_buf_free(&prefixed);
    ps->ws = mag_http_upgrade(ex, &producer_handler, ps);
    if (!ps->ws) {              /* handshake refused and answered by the server */
        on_close(ps, NULL);
        return MAG_OK;
    }
    mag_info("producer %s on %s from %s", mag_producer_name(ps->producer), path->topic.full,
             mag_ws_peer(ps->ws));
    return MAG_OK;
}

const struct mag_ws_endpoint mag_ws_producer_endpoint = {
    .kind = MAG_EP_PRODUCER,
    .open = producer_open,
};
