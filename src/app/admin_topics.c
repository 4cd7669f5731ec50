/* admin_topics.c -- admin REST endpoints on topics, partitions and subscriptions
 * (PersistentTopicsBase of Pulsar 2.10).
 *
 * Every route exists for both domains (/admin/v2/persistent/... and
 * /admin/v2/non-persistent/...). Handlers parse the path, query and body,
 * call the broker's admin API (include/mag/broker/admin.h) and answer: 200 +
 * JSON for reads, 204 for mutations, {"reason": ...} for errors. Path numbers
 * that do not parse are 404, as JAX-RS answers an unconvertible @PathParam;
 * malformed bodies are 400. The peek endpoints answer the raw payload with
 * the message metadata in X-Pulsar-* headers, as Pulsar does.
 */
#include "app_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>

#include "mag/broker/admin.h"
#include "mag/codec/iso_time.h"

/* ---- plumbing -------------------------------------------------------------------- */

/* A number from the path; on failure answer 404 and return false. */
static bool path_long(mag_http_exchange *ex, const char *s, int64_t *v)
{
    if (mag_parse_java_long(s, v, NULL) == MAG_OK)
        return true;
    mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Not Found");
    return false;
}

/* A bare JSON integer body (the partition count). */
static mag_rc body_int(mag_http_exchange *ex, int64_t *v, mag_buf *err)
{
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    cJSON *root = cJSON_ParseWithLength((const char *)body, len);
    mag_rc rc = MAG_OK;
    if (cJSON_IsNumber(root) && root->valuedouble > -2147483649.0 && root->valuedouble < 2147483648.0)
        *v = (int64_t)root->valuedouble;
    else if (!cJSON_IsString(root) || mag_parse_java_long(root->valuestring, v, NULL) != MAG_OK)
        rc = MAG_ERR_BAD_REQUEST;
    cJSON_Delete(root);
    if (rc != MAG_OK)
        mag_buf_append_str(err, "The request body must be the number of partitions (a JSON integer)");
    return rc;
}

/* ---- namespace listings ----------------------------------------------------------------- */

static bool persistent_path(mag_http_exchange *ex)
{
    return strncmp(mag_http_path(ex), "/admin/v2/persistent/", 21) == 0;
}

/* The shape of most topic routes: parse the topic, run one admin operation,
   answer with its body (query) or 204 (action). */
typedef mag_rc (*topic_query_fn)(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err);
typedef mag_rc (*topic_action_fn)(mag_broker *b, const mag_topic_name *tn, mag_buf *err);

static void topic_query(mag_app *app, mag_http_exchange *ex, char **seg, topic_query_fn fn)
{
    mag_topic_name tn;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    if (mag_admin_topic_or_fail(ex, seg, &tn))
        mag_admin_finish(ex, fn(app->broker, &tn, &out, &err), &out, &err);
}

static void topic_action(mag_app *app, mag_http_exchange *ex, char **seg, topic_action_fn fn)
{
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    if (mag_admin_topic_or_fail(ex, seg, &tn))
        mag_admin_finish(ex, fn(app->broker, &tn, &err), NULL, &err);
}

static void topics_list(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_topics_list(app->broker, persistent_path(ex), seg[0], seg[1], false, &out, &err),
           &out, &err);
}

static void partitioned_list(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_topics_list(app->broker, persistent_path(ex), seg[0], seg[1], true, &out, &err),
           &out, &err);
}

/* ---- topics and partitions -------------------------------------------------------- */

static void topic_create(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_action(app, ex, seg, mag_admin_topic_create);
}

static void topic_delete(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    if (mag_admin_topic_or_fail(ex, seg, &tn))
        mag_admin_finish(ex, mag_admin_topic_delete(app->broker, &tn, false, mag_admin_query_bool(ex, "force"), &err),
               NULL, &err);
}

static void partitioned_delete(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    if (mag_admin_topic_or_fail(ex, seg, &tn))
        mag_admin_finish(ex, mag_admin_topic_delete(app->broker, &tn, true, mag_admin_query_bool(ex, "force"), &err),
               NULL, &err);
}

static void partitions_create(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t count;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    mag_rc rc = body_int(ex, &count, &err);
    if (rc == MAG_OK)
        rc = mag_admin_partitioned_create(app->broker, &tn, count, &err);
    mag_admin_finish(ex, rc, NULL, &err);
}

static void partitions_update(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t count;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    mag_rc rc = body_int(ex, &count, &err);
    if (rc == MAG_OK)
        rc = mag_admin_partitions_update(app->broker, &tn, count, &err);
    mag_admin_finish(ex, rc, NULL, &err);
}

static void partitions_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_query(app, ex, seg, mag_admin_partitions_get);
}

static void create_missed(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_action(app, ex, seg, mag_admin_create_missed_partitions);
}

static void topic_unload(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_action(app, ex, seg, mag_admin_topic_unload);
}

/* ---- statistics and termination ------------------------------------------------------ */

static void topic_stats(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_query(app, ex, seg, mag_admin_topic_stats);
}

static void partitioned_stats(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT, per = MAG_BUF_INIT;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    mag_admin_query_get(ex, "perPartition", &per);
    bool per_partition = per.len == 0 || mag_parse_java_bool(mag_buf_cstr(&per));   /* default true */
    mag_buf_free(&per);
    mag_admin_finish(ex, mag_admin_partitioned_stats(app->broker, &tn, per_partition, &out, &err), &out, &err);
}

static void internal_stats(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_query(app, ex, seg, mag_admin_internal_stats);
}

static void last_message_id(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_query(app, ex, seg, mag_admin_last_message_id);
}

static void terminate(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_query(app, ex, seg, mag_admin_terminate);
}

/* ---- subscriptions ---------------------------------------------------------------- */

static void subscriptions_list(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    topic_query(app, ex, seg, mag_admin_subscriptions_list);
}

static void subscription_create(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_position pos;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_rc rc = mag_admin_position_parse(body, len, &pos, &err);
    if (rc == MAG_OK)
        rc = mag_admin_subscription_create(app->broker, &tn, seg[3], &pos, &err);
    mag_admin_finish(ex, rc, NULL, &err);
}

static void subscription_delete(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    if (mag_admin_topic_or_fail(ex, seg, &tn))
        mag_admin_finish(ex, mag_admin_subscription_delete(app->broker, &tn, seg[3], mag_admin_query_bool(ex, "force"),
                                                 &err),
               NULL, &err);
}

static void skip(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t count;
    if (!mag_admin_topic_or_fail(ex, seg, &tn) || !path_long(ex, seg[4], &count))
        return;
    if (count < 0) {
        mag_buf_append_str(&err, "The number of messages to skip must be >= 0");
        mag_admin_finish(ex, MAG_ERR_PRECONDITION, NULL, &err);
        return;
    }
    mag_admin_finish(ex, mag_admin_subscription_skip(app->broker, &tn, seg[3], count, &err), NULL, &err);
}

static void skip_all(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    if (mag_admin_topic_or_fail(ex, seg, &tn))
        mag_admin_finish(ex, mag_admin_subscription_skip(app->broker, &tn, seg[3], -1, &err), NULL, &err);
}

static void expire(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t seconds;
    if (!mag_admin_topic_or_fail(ex, seg, &tn) || !path_long(ex, seg[4], &seconds))
        return;
    mag_admin_finish(ex, mag_admin_subscription_expire(app->broker, &tn, seg[3], seconds, &err), NULL, &err);
}

static void reset_time(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t ts;
    if (!mag_admin_topic_or_fail(ex, seg, &tn) || !path_long(ex, seg[4], &ts))
        return;
    mag_admin_finish(ex, mag_admin_subscription_reset_time(app->broker, &tn, seg[3], ts, &err), NULL, &err);
}

static void reset_position(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_position pos;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_rc rc = len ? mag_admin_position_parse(body, len, &pos, &err) : MAG_ERR_BAD_REQUEST;
    if (len == 0)
        mag_buf_append_str(&err, "The request body must be a message id");
    if (rc == MAG_OK)
        rc = mag_admin_subscription_reset_position(app->broker, &tn, seg[3], &pos, &err);
    mag_admin_finish(ex, rc, NULL, &err);
}

/* ---- peeking at messages -------------------------------------------------------------- */

/* True for an HTTP token character (RFC 9110 tchar). */
static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Append "Name: value\r\n"; control characters in the value become spaces. */
static void header(mag_buf *h, const char *name, const char *value, size_t len)
{
    mag_buf_append_str(h, name);
    mag_buf_append_str(h, ": ");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        mag_buf_append_byte(h, (c < 0x20 || c == 0x7f) ? ' ' : c);
    }
    mag_buf_append_str(h, "\r\n");
}

static void time_header(mag_buf *h, const char *name, int64_t ms)
{
    mag_buf t = MAG_BUF_INIT;
    mag_iso_time_format(&t, ms);
    header(h, name, (const char *)t.data, t.len);
    mag_buf_free(&t);
}

/* One X-Pulsar-PROPERTY-<key> header per property whose key is a token. */
static void property_headers(mag_buf *h, const mag_admin_message *m)
{
    cJSON *props = cJSON_ParseWithLength((const char *)m->properties_json.data, m->properties_json.len);
    for (const cJSON *p = cJSON_IsObject(props) ? props->child : NULL; p; p = p->next) {
        bool ok = p->string[0] != '\0';
        for (const char *k = p->string; *k && ok; k++)
            ok = tchar((unsigned char)*k);
        if (!ok)
            continue;
        mag_buf name = MAG_BUF_INIT;
        mag_buf_appendf(&name, "X-Pulsar-PROPERTY-%s", p->string);
        if (cJSON_IsString(p)) {
            header(h, mag_buf_cstr(&name), p->valuestring, strlen(p->valuestring));
        } else {
            char *txt = cJSON_PrintUnformatted(p);
            if (txt)
                header(h, mag_buf_cstr(&name), txt, strlen(txt));
            cJSON_free(txt);
        }
        mag_buf_free(&name);
    }
    cJSON_Delete(props);
}

void mag_admin_reply_message(mag_http_exchange *ex, const mag_admin_message *m)
{
    mag_buf h = MAG_BUF_INIT;
    char tmp[64];
    int len = snprintf(tmp, sizeof tmp, "%" PRIu64 ":%" PRIu64, m->ledger, m->entry);
    header(&h, "X-Pulsar-Message-ID", tmp, (size_t)len);
    property_headers(&h, m);
    time_header(&h, "X-Pulsar-publish-time", m->publish_time_ms);
    if (m->event_time_ms > 0)
        time_header(&h, "X-Pulsar-event-time", m->event_time_ms);
    if (m->deliver_at_ms > 0)
        time_header(&h, "X-Pulsar-deliver-at-time", m->deliver_at_ms);
    if (m->batch_size > 0) {
        len = snprintf(tmp, sizeof tmp, "%" PRIu32, m->batch_size);
        header(&h, "X-Pulsar-num-batch-message", tmp, (size_t)len);
    }
    if (m->has_key)   /* PersistentTopicsBase.generateResponseWithEntry: hasPartitionKey() */
        header(&h, "X-Pulsar-partition-key", (const char *)m->key.data, m->key.len);
    header(&h, "X-Pulsar-Is-Encrypted", m->encrypted ? "true" : "false", m->encrypted ? 4 : 5);
    header(&h, "X-Pulsar-producer-name", (const char *)m->producer_name.data, m->producer_name.len);
    if (m->sequence_id >= 0) {
        len = snprintf(tmp, sizeof tmp, "%" PRId64, m->sequence_id);
        header(&h, "X-Pulsar-sequence-id", tmp, (size_t)len);
    }
    mag_http_respond(ex, 200, "application/octet-stream", m->payload.data, m->payload.len,
                     mag_buf_cstr(&h));
    mag_buf_free(&h);
}

static void peek_position(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t pos;
    if (!mag_admin_topic_or_fail(ex, seg, &tn) || !path_long(ex, seg[4], &pos))
        return;
    mag_admin_message m;
    mag_admin_message_init(&m);
    mag_rc rc = mag_admin_peek(app->broker, &tn, seg[3], pos, &m, &err);
    if (rc == MAG_OK)
        mag_admin_reply_message(ex, &m);
    else
        mag_admin_reply_error(ex, rc, &err);
    mag_admin_message_cleanup(&m);
    mag_buf_free(&err);
}

static void get_message(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    mag_buf err = MAG_BUF_INIT;
    int64_t ledger, entry;
    if (!mag_admin_topic_or_fail(ex, seg, &tn) || !path_long(ex, seg[3], &ledger) || !path_long(ex, seg[4], &entry))
        return;
    mag_admin_message m;
    mag_admin_message_init(&m);
    mag_rc rc = ledger < 0 || entry < 0 ? MAG_ERR_NOT_FOUND
                                        : mag_admin_get_message(app->broker, &tn, (uint64_t)ledger,
                                                                (uint64_t)entry, &m, &err);
    if (rc == MAG_OK)
        mag_admin_reply_message(ex, &m);
    else
        mag_admin_reply_error(ex, rc, &err);
    mag_admin_message_cleanup(&m);
    mag_buf_free(&err);
}

/* Each route for both domains. */
#define ROUTE(method, suffix, fn) \
    { method, "/admin/v2/persistent/" suffix, fn }, { method, "/admin/v2/non-persistent/" suffix, fn }

const struct mag_rest_route mag_admin_topic_routes[] = {
    ROUTE("GET", "{}/{}", topics_list),
    ROUTE("GET", "{}/{}/partitioned", partitioned_list),
    ROUTE("PUT", "{}/{}/{}", topic_create),
    ROUTE("DELETE", "{}/{}/{}", topic_delete),
    ROUTE("PUT", "{}/{}/{}/partitions", partitions_create),
    ROUTE("POST", "{}/{}/{}/partitions", partitions_update),
    ROUTE("GET", "{}/{}/{}/partitions", partitions_get),
    ROUTE("DELETE", "{}/{}/{}/partitions", partitioned_delete),
    ROUTE("POST", "{}/{}/{}/createMissedPartitions", create_missed),
    ROUTE("PUT", "{}/{}/{}/unload", topic_unload),
    ROUTE("GET", "{}/{}/{}/stats", topic_stats),
    ROUTE("GET", "{}/{}/{}/partitioned-stats", partitioned_stats),
    ROUTE("GET", "{}/{}/{}/internalStats", internal_stats),
    ROUTE("GET", "{}/{}/{}/lastMessageId", last_message_id),
    ROUTE("POST", "{}/{}/{}/terminate", terminate),
    ROUTE("GET", "{}/{}/{}/subscriptions", subscriptions_list),
    ROUTE("PUT", "{}/{}/{}/subscription/{}", subscription_create),
    ROUTE("DELETE", "{}/{}/{}/subscription/{}", subscription_delete),
    ROUTE("POST", "{}/{}/{}/subscription/{}/skip/{}", skip),
    ROUTE("POST", "{}/{}/{}/subscription/{}/skip_all", skip_all),
    ROUTE("POST", "{}/{}/{}/subscription/{}/expireMessages/{}", expire),
    ROUTE("POST", "{}/{}/{}/subscription/{}/resetcursor/{}", reset_time),
    ROUTE("POST", "{}/{}/{}/subscription/{}/resetcursor", reset_position),
    ROUTE("GET", "{}/{}/{}/subscription/{}/position/{}", peek_position),
    ROUTE("GET", "{}/{}/{}/ledger/{}/entry/{}", get_message),
    { NULL, NULL, NULL },
};
