/* ws_consumer.c -- the /ws/v2/consumer endpoint (Pulsar's ConsumerHandler).
 *
 * Flow control mirrors Pulsar's proxy exactly (ConsumerHandler): the session keeps a
 * signed `pending` counter and asks the broker for one more message
 * (mag_consumer_flow(c, 1)) whenever the counter says so.
 *   push mode: max = receiverQueueSize (capped at 1000, 0 -> 1); one request
 *     on connect; after each delivery request again while pending < max; each
 *     ack/nack decrements pending and resumes when it was >= max.
 *   pull mode: nothing on connect; a permit of n subtracts n and requests one
 *     message if the counter was >= 0; after a delivery request again while
 *     pending < 0; acks do not touch the counter.
 * The broker hands out one entry per request; a batch entry brings several
 * messages at once, and those the counter does not let through yet wait in
 * the session's backlog, so the client never sees more than ConsumerHandler would allow.
 * Readers (ws_reader.c) reuse this machinery through mag_consumer_session_*.
 */
#include "ws_consumer.h"
#include "mag/util/bytes.h"

#include <stdlib.h>
#include <string.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

/* The first live broker consumer: flow permits are shared by all parts. */
static mag_consumer *any_consumer(const struct mag_consumer_session *cs)
{
    for (uint32_t i = 0; i < cs->nparts; i++)
        if (cs->parts[i].consumer)
            return cs->parts[i].consumer;
    return NULL;
}

static void request_one(struct mag_consumer_session *cs)
{
    mag_consumer *c = any_consumer(cs);
    if (c) {
        cs->in_flight = true;
        mag_consumer_flow(c, 1);
    }
}

/* May one more message go to the client now (ConsumerHandler.receiveMessage)? */
static bool want_more(const struct mag_consumer_session *cs)
{
    return cs->pull_mode ? cs->pending < 0 : cs->pending < cs->max;
}

static bool backlog_empty(const struct mag_consumer_session *cs)
{
    return cs->backlog_off >= cs->backlog.len;
}

static void send_frame(struct mag_consumer_session *cs, const void *data, size_t len)
{
    mag_ws_send_text(cs->ws, data, len);
    cs->delivered++;
    cs->pending++;
}

/* Send waiting batch messages while the counter allows. */
static void pump(struct mag_consumer_session *cs)
{
    while (!backlog_empty(cs) && want_more(cs)) {
        uint32_t len;
        memcpy(&len, cs->backlog.data + cs->backlog_off, sizeof len);
        send_frame(cs, cs->backlog.data + cs->backlog_off + sizeof len, len);
        cs->backlog_off += sizeof len + len;
    }
    if (backlog_empty(cs)) {
        mag_buf_reset(&cs->backlog);
        cs->backlog_off = 0;
    }
}

static void maybe_request(struct mag_consumer_session *cs)
{
    if (!cs->in_flight && backlog_empty(cs) && want_more(cs))
        request_one(cs);
}

static void on_message(void *ctx, const mag_msgid *id, const mag_entry *e, int32_t redelivery_count,
                       bool first, uint32_t remaining)
{
    struct mag_consumer_session *cs = ((struct mag_consumer_part *)ctx)->cs;
    struct mag_delivery_key key = {
        .id = *id, .redelivery_count = cs->is_reader ? 0 : redelivery_count, .reader = cs->is_reader,
    };
    bool hit;
    mag_buf *json = mag_delivery_cache_slot(&cs->app->deliveries, &key, &hit);
    if (!hit) {
        char b64[MAG_MSGID_B64_MAX];
        mag_msgid_to_base64(id, b64);
        struct mag_delivery d = {
            .msgid_b64 = b64,
            .payload = e->payload,
            .payload_len = e->payload_len,
            .properties_json = e->properties_json,
            .properties_json_len = e->properties_json_len,
            .publish_time_ms = e->publish_time_ms,
            .redelivery_count = key.redelivery_count,
            .event_time_ms = e->event_time_ms,
            /* 2.10 readers never carry encryptionContext (ReaderHandler) */
            .encryption_context_json = cs->is_reader ? NULL : e->encryption_json,
            .encryption_context_json_len = cs->is_reader ? 0 : e->encryption_json_len,
            .key = e->key,
            .key_len = e->key_len,
            .has_key = e->has_key,
        };
        mag_pulsar_format_delivery(json, &d);
    }
    if (first) {
        cs->in_flight = false;
        send_frame(cs, json->data, json->len);      /* the message that was asked for */
    } else if (backlog_empty(cs) && want_more(cs)) {
        send_frame(cs, json->data, json->len);
    } else {
        uint32_t len = (uint32_t)json->len;
        mag_buf_append(&cs->backlog, &len, sizeof len);
        mag_buf_append(&cs->backlog, json->data, json->len);
    }
    mag_delivery_cache_release(&cs->app->deliveries, json);
    if (remaining == 0)
        maybe_request(cs);
}

static bool is_blocked(void *ctx)
{
    struct mag_consumer_session *cs = ((struct mag_consumer_part *)ctx)->cs;
    return mag_ws_output_full(cs->ws);
}

static void on_broker_closed(void *ctx)
{
    struct mag_consumer_part *part = ctx;
    part->consumer = NULL;
    mag_ws_close(part->cs->ws, 1011, "Topic was deleted");
}

static const struct mag_consumer_events consumer_events = {
    .on_message = on_message,
    .is_blocked = is_blocked,
    .on_closed = on_broker_closed,
};

/* An ack or nack frees one slot in push mode (ConsumerHandler.checkResumeReceive). */
static void count_ack(struct mag_consumer_session *cs)
{
    if (cs->pull_mode)
        return;
    cs->pending--;
    pump(cs);
    maybe_request(cs);
}

/* Decode the id of an ack/nack; on failure close as Pulsar's ConsumerHandler would. */
static bool decode_id(struct mag_consumer_session *cs, const mag_consumer_cmd *cmd, mag_msgid *id)
{
    if (!cmd->has_message_id) {
        mag_wire_close_for_command(cs->ws, MAG_ERR_INTERNAL, "NullPointerException");
        return false;
    }
    mag_buf raw = MAG_BUF_INIT;
    mag_rc rc = mag_base64_decode(&raw, (const char *)cmd->message_id.data, cmd->message_id.len, NULL);
    if (rc != MAG_OK) {
        mag_buf_free(&raw);
        mag_wire_close_for_command(cs->ws, MAG_ERR_INTERNAL, "IllegalArgumentException");
        return false;
    }
    rc = mag_msgid_decode(raw.data, raw.len, id);
    mag_buf_free(&raw);
    if (rc != MAG_OK) {
        mag_wire_close_for_command(cs->ws, MAG_ERR_JSON, NULL);
        return false;
    }
    return true;
}

/* The broker consumer an id belongs to: by partition index on partitioned
   topics (MessageIdData.partition), the only one otherwise. */
static mag_consumer *consumer_for(const struct mag_consumer_session *cs, const mag_msgid *id)
{
    if (!cs->partitioned)
        return cs->parts[0].consumer;
    if (id->partition < 0 || (uint32_t)id->partition >= cs->nparts)
        return NULL;
    return cs->parts[id->partition].consumer;
}

static void handle_unsubscribe(struct mag_consumer_session *cs)
{
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = MAG_OK;
    for (uint32_t i = 0; i < cs->nparts && rc == MAG_OK; i++) {
        if (!cs->parts[i].consumer)
            continue;
        rc = mag_consumer_unsubscribe(cs->parts[i].consumer, &err);
        if (rc == MAG_OK)
            cs->parts[i].consumer = NULL;   /* closed and freed by the broker */
    }
    if (rc != MAG_OK) {
        mag_info("unsubscribe refused: %.*s", (int)err.len, (const char *)err.data);
        mag_wire_close_for_command(cs->ws, MAG_ERR_JSON, NULL);
    }
    mag_buf_free(&err);
}

static bool end_of_topic(const struct mag_consumer_session *cs)
{
    bool any = false;
    for (uint32_t i = 0; i < cs->nparts; i++) {
        if (!cs->parts[i].consumer)
            continue;
        if (!mag_consumer_end_of_topic(cs->parts[i].consumer))
            return false;
        any = true;
    }
    return any;
}

static void on_text(void *ctx, mag_ws *ws, const char *data, size_t len)
{
    struct mag_consumer_session *cs = ctx;
    mag_consumer_cmd *cmd = &cs->cmd;
    mag_rc rc = mag_pulsar_parse_consumer_cmd(data, len, cmd, NULL);
    if (rc != MAG_OK) {
        mag_wire_close_for_command(ws, MAG_ERR_JSON, NULL);
        return;
    }
    if (cmd->type == MAG_CMD_IS_END_OF_TOPIC) {
        mag_buf_reset(&cs->out);
        mag_pulsar_format_end_of_topic(&cs->out, end_of_topic(cs));
        mag_ws_send_text(ws, cs->out.data, cs->out.len);
        return;
    }
    if (cs->is_reader) {
        count_ack(cs);          /* readers: any other frame counts as one ack (ReaderHandler) */
        return;
    }
    switch (cmd->type) {
    case MAG_CMD_PERMIT:
        if (cs->pull_mode) {
            int64_t old = cs->pending;
            cs->pending -= cmd->permit_messages;
            pump(cs);
            /* Pulsar asks for one message whenever the counter was >= 0, even
               for "permitMessages":0 (ConsumerHandler.handlePermit). */
            if (old >= 0 && !cs->in_flight && backlog_empty(cs))
                request_one(cs);
            else
                maybe_request(cs);
        }
        return;
    case MAG_CMD_UNSUBSCRIBE:
        handle_unsubscribe(cs);
        return;
    case MAG_CMD_NACK:
    case MAG_CMD_ACK: {
        mag_msgid id;
        if (!decode_id(cs, cmd, &id))
            return;
        mag_consumer *c = consumer_for(cs, &id);
        if (c) {
            if (cmd->type == MAG_CMD_ACK)
                mag_consumer_ack(c, &id);
            else
                mag_consumer_nack(c, &id);
        }
        count_ack(cs);      /* both count for push-mode flow control (ConsumerHandler) */
        return;
    }
    case MAG_CMD_IS_END_OF_TOPIC:
        return;
    }
}

static void on_writable(void *ctx, mag_ws *ws)
{
    (void)ws;
    struct mag_consumer_session *cs = ctx;
    mag_consumer *c = any_consumer(cs);
    if (c)
        mag_consumer_flow(c, 0);
}

static void on_close(void *ctx, mag_ws *ws)
{
    (void)ws;
    mag_consumer_session_free(ctx);
}

static const struct mag_ws_handler consumer_ws_handler = {
    .on_text = on_text,
    .on_writable = on_writable,
    .on_close = on_close,
};

struct mag_consumer_session *mag_consumer_session_new(mag_app *app, bool is_reader, bool pull_mode,
                                                      int32_t queue_size)
{
    struct mag_consumer_session *cs = mag_xcalloc(1, sizeof *cs);
    cs->app = app;
    cs->is_reader = is_reader;
    cs->pull_mode = pull_mode;
    if (queue_size > 1000)
        queue_size = 1000;
    if (queue_size <= 0)
        queue_size = 1;
    cs->max = pull_mode ? 0 : queue_size;
    mag_consumer_cmd_init(&cs->cmd);
    mag_buf_init(&cs->out);
    return cs;
}

void mag_consumer_session_free(struct mag_consumer_session *cs)
{
    mag_sessions_remove(cs->app, cs->reg);
    for (uint32_t i = 0; i < cs->nparts; i++)
        if (cs->parts[i].consumer)
            mag_consumer_close(cs->parts[i].consumer);
    free(cs->parts);
    mag_consumer_cmd_cleanup(&cs->cmd);
    mag_buf_free(&cs->out);
    mag_buf_free(&cs->backlog);
    free(cs);
}

mag_rc mag_consumer_session_start(struct mag_consumer_session *cs, mag_http_exchange *ex,
                                  const mag_topic_name *topic, const struct mag_consumer_opts *o,
                                  mag_buf *err)
{
    uint32_t n = 0;
    mag_rc rc = mag_broker_lookup_partitions(cs->app->broker, topic, &n, err);
    cs->partitioned = n > 0;
    cs->nparts = n > 0 ? n : 1;
    cs->parts = mag_xcalloc(cs->nparts, sizeof *cs->parts);
    /* Every partition of a session carries the same consumer name (Failover
       on partitions picks the active consumer by name,
       AbstractDispatcherSingleActiveConsumer). */
    struct mag_consumer_opts po = *o;
    char name[6];
    if (!po.consumer_name || !*po.consumer_name) {
        mag_random_hex(name, 5);
        po.consumer_name = name;
    }
    mag_topic_name *part_name = mag_xmalloc(sizeof *part_name);
    for (uint32_t i = 0; i < cs->nparts && rc == MAG_OK; i++) {
        const mag_topic_name *tn = topic;
        if (cs->partitioned) {
            char full[MAG_TOPIC_NAME_MAX + 1];
            rc = mag_topic_partition_name(topic, (int32_t)i, full);
            if (rc == MAG_OK)
                rc = mag_topic_name_parse(full, strlen(full), part_name);
            tn = part_name;
        }
        cs->parts[i].cs = cs;
        if (rc == MAG_OK)
            rc = mag_broker_consumer_open(cs->app->broker, tn, &po, &consumer_events, &cs->parts[i],
                                          &cs->parts[i].consumer, err);
        if (rc == MAG_OK && i > 0)
            mag_consumer_share_flow(cs->parts[i].consumer, cs->parts[0].consumer);
    }
    free(part_name);
    if (rc != MAG_OK) {
        mag_consumer_session_free(cs);
        return rc;
    }
    cs->ws = mag_http_upgrade(ex, &consumer_ws_handler, cs);
    if (!cs->ws) {
        mag_consumer_session_free(cs);
        return MAG_OK;          /* answered by the server */
    }
    cs->reg = mag_sessions_add(cs->app, &(struct mag_session_desc){
        .kind = cs->is_reader ? MAG_EP_READER : MAG_EP_CONSUMER, .topic = topic->full,
        .subscription = mag_consumer_subscription(cs->parts[0].consumer), .sub_type = o->type,
        .durable = o->durable, .peer = mag_ws_peer(cs->ws), .msg_counter = &cs->delivered });
    mag_info("%s %s on %s (%u partition%s) subscription %s from %s",
             cs->is_reader ? "reader" : "consumer", po.consumer_name, topic->full, n,
             n == 1 ? "" : "s", mag_consumer_subscription(cs->parts[0].consumer),
             mag_ws_peer(cs->ws));
    maybe_request(cs);          /* push mode asks for the first message on connect */
    return MAG_OK;
}

/* ---- the consumer endpoint proper ---- */

static const char *const sub_type_names[] = { "Exclusive", "Shared", "Failover", "Key_Shared" };

static mag_rc parse_enum(const char *v, const char *const *names, size_t n, int *out)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, names[i]) == 0) {
            *out = (int)i;
            return MAG_OK;
        }
    }
    return MAG_ERR_BAD_REQUEST;
}

/* ConsumerHandler.getConsumerConfiguration, in Pulsar's order. */
static mag_rc consumer_params(const mag_query *q, struct mag_consumer_opts *o, int32_t *queue,
                              bool *pull, mag_buf *err)
{
    int32_t i32 = 0;
    const char *v;
    mag_rc rc;
    if ((rc = mag_param_int(q, "ackTimeoutMillis", &i32, err)) != MAG_OK)
        return rc;
    if (i32 != 0 && i32 < 1000) {
        mag_buf_append_str(err, "Ack timeout should be greater than 1000 ms");
        return MAG_ERR_BAD_REQUEST;
    }
    o->ack_timeout_ms = i32;
    if ((v = mag_query_get(q, "subscriptionType"))) {
        int t;
        if (parse_enum(v, sub_type_names, 4, &t) != MAG_OK) {
            mag_buf_appendf(err, "Invalid subscriptionType %s", v);
            return MAG_ERR_BAD_REQUEST;
        }
        o->type = (mag_sub_type)t;
    }
    if ((v = mag_query_get(q, "subscriptionMode"))) {
        static const char *const modes[] = { "Durable", "NonDurable" };
        int m;
        if (parse_enum(v, modes, 2, &m) != MAG_OK) {
            mag_buf_appendf(err, "Invalid subscriptionMode %s", v);
            return MAG_ERR_BAD_REQUEST;
        }
        o->durable = (m == 0);
    }
    if ((v = mag_query_get(q, "subscriptionInitialPosition"))) {
        static const char *const positions[] = { "Latest", "Earliest" };
        int p;
        if (parse_enum(v, positions, 2, &p) != MAG_OK) {
            mag_buf_appendf(err, "Invalid subscriptionInitialPosition %s", v);
            return MAG_ERR_BAD_REQUEST;
        }
        o->start = p == 0 ? MAG_START_LATEST : MAG_START_EARLIEST;
    }
    if ((rc = mag_param_int(q, "receiverQueueSize", queue, err)) != MAG_OK)
        return rc;
    if (*queue < 0) {
        mag_buf_append_str(err, "receiverQueueSize needs to be >= 0");
        return MAG_ERR_BAD_REQUEST;
    }
    if ((v = mag_query_get(q, "consumerName"))) {
        if (v[strspn(v, " \t\r\n")] == '\0') {
            mag_buf_append_str(err, "consumerName cannot be blank");
            return MAG_ERR_BAD_REQUEST;
        }
        o->consumer_name = v;
    }
    if ((rc = mag_param_int(q, "priorityLevel", &o->priority_level, err)) != MAG_OK)
        return rc;
    if (o->priority_level < 0) {
        mag_buf_append_str(err, "priorityLevel needs to be >= 0");
        return MAG_ERR_BAD_REQUEST;
    }
    i32 = 60000;            /* the Java client's default negative-ack delay */
    if ((rc = mag_param_int(q, "negativeAckRedeliveryDelay", &i32, err)) != MAG_OK)
        return rc;
    if (i32 < 0) {
        mag_buf_append_str(err, "redeliveryDelay needs to be >= 0");
        return MAG_ERR_BAD_REQUEST;
    }
    o->nack_delay_ms = i32;
    i32 = 0;
    bool has_max = mag_query_get(q, "maxRedeliverCount") != NULL;
    if ((rc = mag_param_int(q, "maxRedeliverCount", &i32, err)) != MAG_OK)
        return rc;
    if (has_max || mag_query_get(q, "deadLetterTopic")) {
        if (i32 <= 0) {
            mag_buf_append_str(err, "MaxRedeliverCount must be > 0.");
            return MAG_ERR_BAD_REQUEST;
        }
        /* A dead-letter policy forces a 30 s ack timeout when none was set (ConsumerBuilderImpl). */
        o->max_redeliver_count = i32;
        o->dead_letter_topic = mag_query_get(q, "deadLetterTopic");
        if (o->ack_timeout_ms == 0)
            o->ack_timeout_ms = 30000;
    }
    *pull = mag_parse_java_bool(mag_query_get(q, "pullMode"));
    return MAG_OK;
}

static mag_rc consumer_open(mag_app *app, mag_http_exchange *ex, const mag_ws_path *path,
                            const mag_query *query, mag_buf *err)
{
    struct mag_consumer_opts o;
    memset(&o, 0, sizeof o);
    o.subscription = path->subscription;
    o.type = MAG_SUB_EXCLUSIVE;
    o.durable = true;
    o.start = MAG_START_LATEST;
    int32_t queue = 1000;
    bool pull = false;
    mag_buf detail = MAG_BUF_INIT;
    mag_rc rc = consumer_params(query, &o, &queue, &pull, &detail);
    if (rc != MAG_OK) {
        mag_buf_append_str(err, "Invalid query params: ");
        mag_buf_append(err, detail.data, detail.len);
        mag_buf_free(&detail);
        return rc;
    }
    struct mag_consumer_session *cs = mag_consumer_session_new(app, false, pull, queue);
    rc = mag_consumer_session_start(cs, ex, &path->topic, &o, &detail);
    if (rc != MAG_OK) {
        mag_buf_append_str(err, "Failed to create producer/consumer: ");
        mag_buf_append(err, detail.data, detail.len);
    }
    mag_buf_free(&detail);
    return rc;
}

const struct mag_ws_endpoint mag_ws_consumer_endpoint = {
    .kind = MAG_EP_CONSUMER,
    .open = consumer_open,
};
