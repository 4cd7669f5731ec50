/* ws_producer.c -- the /ws/v2/producer endpoint (Pulsar's ProducerHandler).
 *
 * Every text frame gets exactly one receipt. Bad frames are answered at
 * once with send-error:3 (not JSON) or send-error:7 (bad payload/eventTime);
 * good ones are staged in the broker and answered from the group-commit
 * callback only after the commit returned: in publish order for one topic;
 * on a partitioned topic receipts of different partitions may interleave, as
 * in Pulsar's ProducerHandler. The session never closes itself because of bad input.
 *
 * Backpressure: while more than MAX_IN_FLIGHT publishes await their commit,
 * the session stops reading from the client.
 */
#include "app_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "mag/codec/compress.h"
#include "mag/util/alloc.h"
#include "mag/util/base64.h"
#include "mag/util/hash.h"
#include "mag/util/log.h"

#define MAX_IN_FLIGHT 4096

/* A publish waiting for its commit: only the context has to be remembered.
   Tokens are consecutive, so slot = head + (token - head token). */
struct pending_receipt {
    uint64_t token;
    int64_t sent_ms;            /* when the client's frame was staged (sendTimeoutMillis) */
    bool has_context;
    bool done;                  /* answered; popped once everything before it is */
    uint32_t part;              /* index in parts[]: where it was published */
    mag_buf context;
};

struct producer_session;

/* One broker producer of the session (one per partition). */
struct producer_part {
    struct producer_session *ps;
    mag_producer *producer;     /* NULL once the broker detached it */
};

enum routing { ROUTE_SINGLE, ROUTE_ROUND_ROBIN };

struct producer_session {
    mag_app *app;
    mag_ws *ws;
    struct producer_part *parts;
    uint32_t nparts;            /* partitions, or 1 for a non-partitioned topic */
    bool partitioned;           /* opened on a partitioned topic's name (receipts carry the partition) */
    /* Partition routing (PartitionedProducerImpl and its message routers). */
    enum routing routing;
    bool murmur3;               /* hashingScheme=Murmur3_32Hash */
    bool batching;              /* round-robin switches partition by time */
    int64_t switch_ms;          /* max(1, 10 x batchingMaxPublishDelay) */
    uint32_t start_partition;   /* drawn at random once per session */
    uint64_t rr_count;
    struct pending_receipt *ring;   /* receipts owed, in publish (token) order */
    size_t ring_cap, ring_head, ring_count;
    uint64_t next_token;
    int32_t max_pending;        /* maxPendingMessages: more in flight -> send-error:8 (0 = no limit) */
    int32_t send_timeout_ms;    /* sendTimeoutMillis: later receipts -> send-error:8 (0 = none) */
    bool paused;
    bool timer_armed;           /* the session timer follows the oldest receipt owed ... */
    uint64_t timer_token;       /* ... which is this one (sendTimeoutMillis) */
    /* Client-side encryption pass-through (3.2+, PIP-290 ProducerHandler): the keys of the
       encryptionKeys parameter as canonical JSON; len 0 = mode off. */
    mag_buf encryption_keys;
    mag_buf encryption_ctx;         /* per-message encryptionContext, reused */
    uint64_t published;             /* committed messages (proxy stats) */
    mag_session_entry *reg;         /* entry in the app's session registry */
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

/* Validate the parameters of ProducerHandler.getProducerBuilder; behaviour of
   batching/compression/routing belongs to later issues, so here they are only checked. */
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
    i64 = 1;
    if ((rc = mag_param_long(q, "batchingMaxPublishDelay", &i64, err)) != MAG_OK)
        return rc;
    if (i64 < 1) {      /* ProducerConfigurationData.setBatchingMaxPublishDelayMicros */
        mag_buf_append_str(err, "configured value for batch delay must be at least 1ms");
        return MAG_ERR_BAD_REQUEST;
    }
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
        for (size_t i = 0; i < ps->ring_cap; i++)       /* live slots first, in order */
            r[i] = ps->ring[(ps->ring_head + i) % ps->ring_cap];
        free(ps->ring);
        ps->ring = r;
        ps->ring_cap = cap;
        ps->ring_head = 0;
    }
    struct pending_receipt *p = &ps->ring[(ps->ring_head + ps->ring_count++) % ps->ring_cap];
    p->token = ps->next_token;
    p->done = false;
    return p;
}

static struct pending_receipt *ring_find(struct producer_session *ps, uint64_t token)
{
    if (ps->ring_count == 0)
        return NULL;
    uint64_t first = ps->ring[ps->ring_head].token;
    if (token < first || token - first >= ps->ring_count)
        return NULL;
    return &ps->ring[(ps->ring_head + (token - first)) % ps->ring_cap];
}

static void ring_pop_done(struct producer_session *ps)
{
    while (ps->ring_count && ps->ring[ps->ring_head].done) {
        ps->ring_head = (ps->ring_head + 1) % ps->ring_cap;
        ps->ring_count--;
    }
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

/* Which partition a message goes to (PartitionedProducerImpl's routers). */
static uint32_t route(struct producer_session *ps, const mag_producer_msg *m)
{
    if (ps->nparts == 1)
        return 0;
    if (m->has_key) {
        uint32_t h = ps->murmur3 ? mag_murmur3_32(m->key.data, m->key.len, 0)
                                 : (uint32_t)mag_java_string_hash((const char *)m->key.data, m->key.len);
        return mag_hash_partition(h, ps->nparts);
    }
    if (ps->routing == ROUTE_SINGLE)
        return ps->start_partition;
    if (ps->batching)
        return (uint32_t)(((uint64_t)(mag_broker_now_ms() / ps->switch_ms) + ps->start_partition) %
                          ps->nparts);
    return (uint32_t)((ps->start_partition + ps->rr_count++) % ps->nparts);
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

/* sendTimeoutMillis expired: the Java client's TimeoutException, with its
   text (ProducerImpl), for a publish the broker may still store in the end. */
static void send_timeout_error(struct producer_session *ps, const struct pending_receipt *p)
{
    const mag_producer *producer = ps->parts[p->part].producer;   /* NULL once detached */
    mag_buf msg = MAG_BUF_INIT;
    mag_buf_appendf(&msg, "The producer %s can not send message to the topic %s within given timeout",
                    producer ? mag_producer_name(producer) : "",
                    producer ? mag_producer_topic(producer) : "");
    send_error(ps, MAG_ERR_TIMEOUT, &msg, p->has_context, &p->context);
    mag_buf_free(&msg);
}

/* Keep the session timer on the send timeout of the oldest receipt owed. */
static void arm_send_timeout(struct producer_session *ps)
{
    if (ps->send_timeout_ms <= 0)
        return;
    if (ps->ring_count == 0) {
        if (ps->timer_armed)
            mag_ws_set_timer(ps->ws, -1);
        ps->timer_armed = false;
        return;
    }
    const struct pending_receipt *head = &ps->ring[ps->ring_head];
    if (ps->timer_armed && ps->timer_token == head->token)
        return;
    int64_t delay = head->sent_ms + ps->send_timeout_ms - mag_broker_now_ms();
    mag_ws_set_timer(ps->ws, delay > 0 ? delay : 0);
    ps->timer_armed = true;
    ps->timer_token = head->token;
}

/* The oldest receipt owed reached its send timeout. Like the Java client
   (ProducerImpl's send-timeout task fails its whole pending queue once the
   oldest message expired), every receipt still owed fails now, while the
   commit may still be stuck. */
static void on_send_timeout(void *ctx, mag_ws *ws)
{
    (void)ws;
    struct producer_session *ps = ctx;
    ps->timer_armed = false;
    if (ps->ring_count && mag_broker_now_ms() - ps->ring[ps->ring_head].sent_ms >= ps->send_timeout_ms) {
        for (size_t i = 0; i < ps->ring_count; i++) {
            struct pending_receipt *p = &ps->ring[(ps->ring_head + i) % ps->ring_cap];
            if (!p->done) {
                p->done = true;
                send_timeout_error(ps, p);
            }
        }
        ring_pop_done(ps);
    }
    arm_send_timeout(ps);
    update_backpressure(ps);
}

/* Group-commit result of the publish staged with `token`. */
static void on_result(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id)
{
    struct producer_session *ps = ((struct producer_part *)ctx)->ps;
    struct pending_receipt *p = ring_find(ps, token);
    if (!p || p->done)
        return;
    p->done = true;
    if (rc == MAG_OK && ps->send_timeout_ms > 0 &&
        mag_broker_now_ms() - p->sent_ms >= ps->send_timeout_ms) {
        send_timeout_error(ps, p);      /* committed, but after the timer's moment */
    } else if (rc == MAG_OK) {
        ps->published++;
        char b64[MAG_MSGID_B64_MAX];
        mag_msgid rid = *id;
        /* A producer opened directly on "T-partition-N" is a plain ProducerImpl
           with partitionIndex -1: its receipts carry no partition, only the
           sub-producers of a PartitionedProducerImpl set it. */
        if (!ps->partitioned)
            rid.partition = -1;
        mag_msgid_to_base64(&rid, b64);
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
    ring_pop_done(ps);
    arm_send_timeout(ps);
    update_backpressure(ps);
}

/* The encryptionContext a consumer will receive for this message (the
   EncryptionContext in ConsumerMessage): keys, param, compressionType,
   uncompressedMessageSize and Pulsar's serialized Optional for batchSize.
   Errors are send-error:7 (as in ProducerHandler). */
static mag_rc encryption_context(struct producer_session *ps, const mag_producer_msg *m,
                                 mag_buf *why)
{
    mag_buf *out = &ps->encryption_ctx;
    mag_buf_reset(out);
    if (m->has_encryption_param) {
        mag_buf raw = MAG_BUF_INIT;
        mag_rc rc = mag_base64_decode(&raw, (const char *)m->encryption_param.data,
                                      m->encryption_param.len, NULL);
        mag_buf_free(&raw);
        if (rc != MAG_OK) {
            mag_buf_append_str(why, "Invalid Base64 encryptionParam");
            return MAG_ERR_PAYLOAD;
        }
    }
    mag_compression comp = MAG_COMP_NONE;
    if (m->has_compression_type &&
        mag_compression_parse((const char *)m->compression_type.data, &comp) != MAG_OK) {
        mag_buf_appendf(why, "Invalid compressionType %s", (const char *)m->compression_type.data);
        return MAG_ERR_PAYLOAD;
    }
    /* A compressed payload needs its uncompressed size; NONE may omit it. */
    if ((comp != MAG_COMP_NONE && !m->has_uncompressed_size) ||
        (m->has_uncompressed_size && !m->has_compression_type)) {
        mag_buf_append_str(why, "compressionType and uncompressedMessageSize must be given together");
        return MAG_ERR_PAYLOAD;
    }
    mag_buf_append_str(out, "{\"keys\":");
    mag_buf_append(out, ps->encryption_keys.data, ps->encryption_keys.len);
    if (m->has_encryption_param) {
        mag_buf_append_str(out, ",\"param\":");
        mag_json_append_string(out, (const char *)m->encryption_param.data, m->encryption_param.len);
    }
    mag_buf_append_str(out, ",\"compressionType\":\"");
    mag_buf_append_str(out, mag_compression_name(comp));
    mag_buf_append_str(out, "\",\"uncompressedMessageSize\":");
    mag_buf_append_i64(out, m->has_uncompressed_size ? m->uncompressed_size : 0);
    mag_buf_append_str(out, ",\"batchSize\":{\"empty\":false,\"present\":true}}");
    return MAG_OK;
}

/* The InvalidMessageException text of a publish over maxMessageSize: from
   ProducerImpl.sendAsync when not batching ("Compressed" only with a
   compressionType, as the Java client writes it, double space otherwise), from
   BatchMessageContainerImpl.createOpSendMsg when batching. */
static void too_large_message(const mag_producer *target, mag_buf *msg)
{
    struct mag_rejected_publish r;
    mag_producer_rejected(target, &r);
    if (r.batched) {
        mag_buf_appendf(msg, "Message size is bigger than %zu bytes", r.max);
        return;
    }
    mag_buf_appendf(msg, "The producer %s of the topic %s sends a %s message with %zu bytes that exceeds %zu bytes",
                    mag_producer_name(target), mag_producer_topic(target),
                    !r.batching && r.compressed ? "Compressed" : "", r.size, r.max);
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
    if (ps->encryption_keys.len) {
        mag_buf why = MAG_BUF_INIT;
        rc = encryption_context(ps, m, &why);
        if (rc != MAG_OK) {
            send_error(ps, rc, &why, m->has_context, &m->context);
            mag_buf_free(&why);
            return;
        }
        e.encryption_json = (const char *)ps->encryption_ctx.data;
        e.encryption_json_len = ps->encryption_ctx.len;
    }
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

    if (ps->max_pending > 0 && ps->ring_count >= (size_t)ps->max_pending) {
        /* blockIfQueueFull=false: a full queue fails the send at once (ProducerHandler's setting). */
        mag_buf msg = MAG_BUF_INIT;
        mag_buf_append_str(&msg, "Producer send queue is full");
        send_error(ps, MAG_ERR_QUEUE_FULL, &msg, m->has_context, &m->context);
        mag_buf_free(&msg);
        return;
    }
    /* Queue the receipt BEFORE publishing: the commit may run inline. */
    struct pending_receipt *p = ring_push(ps);
    p->sent_ms = mag_broker_now_ms();
    p->has_context = m->has_context;
    mag_buf_reset(&p->context);
    if (m->has_context)
        mag_buf_append(&p->context, m->context.data, m->context.len);
    p->part = route(ps, m);
    mag_producer *target = ps->parts[p->part].producer;
    rc = target ? mag_producer_publish(target, &e, p->token) : MAG_ERR_UNAVAILABLE;
    if (rc == MAG_OK)
        ps->next_token++;
    if (rc != MAG_OK) {
        /* Not staged: take the receipt back off the tail and answer now. */
        ps->ring_count--;
        mag_buf msg = MAG_BUF_INIT;
        if (rc == MAG_ERR_TOO_LARGE)
            too_large_message(target, &msg);
        else
            mag_buf_append_str(&msg, rc == MAG_ERR_UNAVAILABLE ? "Topic was already terminated"
                                                                : mag_strerror(rc));
        send_error(ps, rc, &msg, m->has_context, &m->context);
        mag_buf_free(&msg);
        return;
    }
    arm_send_timeout(ps);
    update_backpressure(ps);
}

static void on_broker_closed(void *ctx)
{
    struct producer_part *part = ctx;
    part->producer = NULL;
    mag_ws_close(part->ps->ws, 1011, "Topic was deleted");
}

static void session_free(struct producer_session *ps)
{
    mag_sessions_remove(ps->app, ps->reg);
    for (uint32_t i = 0; i < ps->nparts; i++)
        if (ps->parts[i].producer)
            mag_producer_close(ps->parts[i].producer);
    free(ps->parts);
    for (size_t i = 0; i < ps->ring_cap; i++)
        mag_buf_free(&ps->ring[i].context);
    free(ps->ring);
    mag_producer_msg_cleanup(&ps->msg);
    mag_buf_free(&ps->out);
    mag_buf_free(&ps->encryption_keys);
    mag_buf_free(&ps->encryption_ctx);
    free(ps);
}

static void on_close(void *ctx, mag_ws *ws)
{
    (void)ws;
    session_free(ctx);
}

static const struct mag_ws_handler producer_handler = {
    .on_text = on_text,
    .on_writable = NULL,
    .on_close = on_close,
    .on_timer = on_send_timeout,
};

static const struct mag_producer_events producer_events = {
    .on_result = on_result,
    .on_closed = on_broker_closed,
};

/* Routing settings from the query (already validated by check_params). */
static void routing_params(struct producer_session *ps, const mag_query *q)
{
    const char *v = mag_query_get(q, "messageRoutingMode");
    ps->routing = (v && strcmp(v, "RoundRobinPartition") == 0) ? ROUTE_ROUND_ROBIN : ROUTE_SINGLE;
    v = mag_query_get(q, "hashingScheme");
    ps->murmur3 = v && strcmp(v, "Murmur3_32Hash") == 0;
    ps->batching = mag_parse_java_bool(mag_query_get(q, "batchingEnabled"));
    int64_t delay = 1;      /* Java default batchingMaxPublishDelay: 1 ms */
    mag_param_long(q, "batchingMaxPublishDelay", &delay, NULL);
    ps->switch_ms = delay * 10 > 1 ? delay * 10 : 1;
    ps->max_pending = 1000;     /* the WebSocket proxy's default */
    mag_param_int(q, "maxPendingMessages", &ps->max_pending, NULL);
    ps->send_timeout_ms = 30000;
    mag_param_int(q, "sendTimeoutMillis", &ps->send_timeout_ms, NULL);
}

/* encryptionKeys = base64 of {"name":{"keyValue":"<b64>","metadata":{..}},..}
   switches on client-side encryption (3.2+, PIP-290); out gets the keys as
   canonical JSON. Anything else names keys for server-side encryption,
   which needs a CryptoKeyReaderFactory Magnetar does not have (500). */
static mag_rc parse_encryption_keys(const char *param, mag_buf *out, mag_buf *err)
{
    mag_buf raw = MAG_BUF_INIT;
    cJSON *root = NULL;
    mag_rc rc = MAG_ERR_INTERNAL;
    if (mag_base64_decode(&raw, param, strlen(param), NULL) == MAG_OK)
        root = cJSON_ParseWithLength((const char *)raw.data, raw.len);
    if (!cJSON_IsObject(root)) {
        mag_buf_append_str(err, "server-side encryption needs a cryptoKeyReaderFactoryClassName, "
                                "which Magnetar does not support");
        goto out;
    }
    mag_buf_append_byte(out, '{');
    const cJSON *key;
    size_t n = 0;
    cJSON_ArrayForEach(key, root) {
        const cJSON *value = cJSON_GetObjectItemCaseSensitive(key, "keyValue");
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(key, "metadata");
        if (!cJSON_IsObject(key) || !cJSON_IsString(value) || (meta && !cJSON_IsObject(meta) &&
                                                                !cJSON_IsNull(meta))) {
            mag_buf_append_str(err, "Invalid query params: invalid encryptionKeys");
            rc = MAG_ERR_BAD_REQUEST;
            goto out;
        }
        if (n++)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, key->string, strlen(key->string));
        mag_buf_append_str(out, ":{\"keyValue\":");
        mag_json_append_string(out, value->valuestring, strlen(value->valuestring));
        mag_buf_append_str(out, ",\"metadata\":{");
        const cJSON *item;
        size_t k = 0;
        const cJSON *meta_obj = cJSON_IsObject(meta) ? meta : NULL;
        cJSON_ArrayForEach(item, meta_obj) {
            if (!cJSON_IsString(item))
                continue;
            if (k++)
                mag_buf_append_byte(out, ',');
            mag_json_append_string(out, item->string, strlen(item->string));
            mag_buf_append_byte(out, ':');
            mag_json_append_string(out, item->valuestring, strlen(item->valuestring));
        }
        mag_buf_append_str(out, "}}");
    }
    mag_buf_append_byte(out, '}');
    rc = MAG_OK;
out:
    if (rc != MAG_OK)
        mag_buf_reset(out);
    cJSON_Delete(root);
    mag_buf_free(&raw);
    return rc;
}

/* Batching, compression and sequence ids (ProducerHandler.getProducerBuilder); values were
   validated by check_params. */
static struct mag_producer_config producer_config(const mag_query *q)
{
    struct mag_producer_config pc = { .initial_sequence_id = -1 };
    const char *v = mag_query_get(q, "compressionType");
    mag_compression comp = MAG_COMP_NONE;
    if (v)
        mag_compression_parse(v, &comp);
    pc.compression = (uint8_t)comp;
    pc.batching = mag_parse_java_bool(mag_query_get(q, "batchingEnabled"));
    int32_t max_messages = 1000;
    mag_param_int(q, "batchingMaxMessages", &max_messages, NULL);
    pc.batch_max_messages = max_messages > 0 ? (uint32_t)max_messages : 1000;
    /* ProducerHandler.getProducerBuilder leaves batchingMaxBytes (128 KiB) and,
       unless given, batchingMaxPublishDelay (1 ms) at the builder's defaults. */
    pc.batch_max_delay_ms = 1;
    mag_param_long(q, "batchingMaxPublishDelay", &pc.batch_max_delay_ms, NULL);
    pc.has_initial_sequence_id = mag_query_get(q, "initialSequenceId") != NULL;
    mag_param_long(q, "initialSequenceId", &pc.initial_sequence_id, NULL);
    return pc;
}

/* Attach one broker producer per partition (all with the same name). */
static mag_rc attach(struct producer_session *ps, const mag_topic_name *topic, const char *name,
                     uint32_t n, mag_buf *err)
{
    ps->nparts = n > 0 ? n : 1;
    ps->partitioned = n > 0;
    ps->parts = mag_xcalloc(ps->nparts, sizeof *ps->parts);
    ps->start_partition = (uint32_t)rand() % ps->nparts;
    mag_topic_name *part_name = mag_xmalloc(sizeof *part_name);
    mag_rc rc = MAG_OK;
    for (uint32_t i = 0; i < ps->nparts && rc == MAG_OK; i++) {
        const mag_topic_name *tn = topic;
        if (n > 0) {
            char full[MAG_TOPIC_NAME_MAX + 1];
            rc = mag_topic_partition_name(topic, (int32_t)i, full);
            if (rc == MAG_OK)
                rc = mag_topic_name_parse(full, strlen(full), part_name);
            tn = part_name;
        }
        ps->parts[i].ps = ps;
        if (rc == MAG_OK)
            rc = mag_broker_producer_open(ps->app->broker, tn, name, &producer_events,
                                          &ps->parts[i], &ps->parts[i].producer, err);
        if (rc == MAG_OK && i == 0)
            name = mag_producer_name(ps->parts[0].producer);    /* same name everywhere */
    }
    free(part_name);
    return rc;
}

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
    routing_params(ps, query);
    mag_buf detail = MAG_BUF_INIT;
    uint32_t n = 0;
    const char *keys = mag_query_get(query, "encryptionKeys");
    rc = keys ? parse_encryption_keys(keys, &ps->encryption_keys, &detail) : MAG_OK;
    if (rc == MAG_OK)
        rc = mag_broker_lookup_partitions(app->broker, &path->topic, &n, &detail);
    if (rc == MAG_OK)
        rc = attach(ps, &path->topic, mag_query_get(query, "producerName"), n, &detail);
    if (rc != MAG_OK) {
        mag_buf_append_str(err, "Failed to create producer/consumer: ");
        mag_buf_append(err, detail.data, detail.len);
        mag_buf_free(&detail);
        session_free(ps);
        return rc;
    }
    mag_buf_free(&detail);
    struct mag_producer_config pc = producer_config(query);
    if (ps->encryption_keys.len) {
        /* The client already compressed and encrypted: store as sent. */
        pc.compression = MAG_COMP_NONE;
        pc.batching = false;
    }
    for (uint32_t i = 0; i < ps->nparts; i++)
        mag_producer_configure(ps->parts[i].producer, &pc);
    ps->ws = mag_http_upgrade(ex, &producer_handler, ps);
    if (!ps->ws) {              /* handshake refused and answered by the server */
        session_free(ps);
        return MAG_OK;
    }
    ps->reg = mag_sessions_add(app, &(struct mag_session_desc){
        .kind = MAG_EP_PRODUCER, .topic = path->topic.full, .peer = mag_ws_peer(ps->ws),
        .msg_counter = &ps->published });
    mag_info("producer %s on %s (%u partition%s) from %s", mag_producer_name(ps->parts[0].producer),
             path->topic.full, n, n == 1 ? "" : "s", mag_ws_peer(ps->ws));
    return MAG_OK;
}

const struct mag_ws_endpoint mag_ws_producer_endpoint = {
    .kind = MAG_EP_PRODUCER,
    .open = producer_open,
};
