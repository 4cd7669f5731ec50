/* fuzz_pulsar_json.c -- fuzz target for src/codec/pulsar_json.c.
 *
 * The first byte selects the parser: even = producer message, odd =
 * consumer command; the rest is the frame. Invariants: only documented
 * return codes; a JSON error never echoes the context; everything the
 * parser produces (properties object, clusters array) and everything the
 * formatters build from it is valid JSON that cJSON and the strict
 * json_reader read back; present strings are NUL-terminated after their
 * length; a reused (warm) struct gives exactly what a fresh one gives.
 */
#include "mag/codec/json_reader.h"
#include "mag/codec/pulsar_json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static cJSON *must_parse(const mag_buf *b)
{
    cJSON *j = cJSON_ParseWithLength((const char *)b->data, b->len);
    REQUIRE(j != NULL);
    return j;
}

/* The strict reader accepts b as one complete document. */
static void strict_ok(const mag_buf *b)
{
    mag_json_reader r;
    mag_json_token t;
    mag_json_reader_init(&r, (const char *)b->data, b->len);
    do
        REQUIRE(mag_json_next(&r, &t) == MAG_OK);
    while (t.type != MAG_JSON_END);
}

static bool same_buf(const mag_buf *a, const mag_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* Reused across inputs: its buffers are warm and hold the last frame's data. */
static mag_producer_msg warm;
static bool warm_init;

static void check_producer(const char *json, size_t len)
{
    mag_producer_msg m;
    mag_producer_msg_init(&m);
    mag_rc rc = mag_pulsar_parse_producer_msg(json, len, &m);
    REQUIRE(rc == MAG_OK || rc == MAG_ERR_JSON || rc == MAG_ERR_PAYLOAD);
    if (!warm_init) {
        mag_producer_msg_init(&warm);
        warm_init = true;
    }
    REQUIRE(mag_pulsar_parse_producer_msg(json, len, &warm) == rc);
    REQUIRE(warm.has_context == m.has_context && warm.has_key == m.has_key);
    REQUIRE(same_buf(&warm.payload, &m.payload) && same_buf(&warm.context, &m.context) &&
            same_buf(&warm.key, &m.key) && same_buf(&warm.error_msg, &m.error_msg) &&
            same_buf(&warm.properties_json, &m.properties_json) &&
            same_buf(&warm.replication_clusters_json, &m.replication_clusters_json));
    REQUIRE(warm.num_properties == m.num_properties && warm.event_time_ms == m.event_time_ms &&
            warm.deliver_at_ms == m.deliver_at_ms && warm.deliver_after_ms == m.deliver_after_ms);
    if (m.has_context)
        REQUIRE(m.context.data && m.context.data[m.context.len] == 0);
    if (m.has_key)
        REQUIRE(m.key.data && m.key.data[m.key.len] == 0);
    if (rc == MAG_ERR_JSON)
        REQUIRE(!m.has_context && m.error_msg.len > 0);
    if (rc == MAG_OK)
        REQUIRE(m.error_msg.len == 0);
    if (rc == MAG_OK) {
        strict_ok(&m.properties_json);
        if (m.replication_clusters_json.len)
            strict_ok(&m.replication_clusters_json);
        cJSON *props = must_parse(&m.properties_json);
        REQUIRE(cJSON_IsObject(props));
        REQUIRE((uint32_t)cJSON_GetArraySize(props) == m.num_properties);
        const cJSON *it;
        cJSON_ArrayForEach(it, props)
            REQUIRE(cJSON_IsString(it));
        cJSON_Delete(props);
        if (m.replication_clusters_json.len) {
            cJSON *cl = must_parse(&m.replication_clusters_json);
            REQUIRE(cJSON_IsArray(cl));
            cJSON_Delete(cl);
        }
        REQUIRE(m.deliver_at_ms >= 0 && m.deliver_after_ms >= 0);

        mag_buf out = MAG_BUF_INIT;
        struct mag_delivery d = {
            .msgid_b64 = "CAMQADAA",
            .payload = m.payload.data, .payload_len = m.payload.len,
            .properties_json = (const char *)m.properties_json.data,
            .properties_json_len = m.properties_json.len,
            .publish_time_ms = m.event_time_ms, .redelivery_count = 1,
            .event_time_ms = m.event_time_ms,
            .key = (const char *)m.key.data, .key_len = m.key.len, .has_key = m.has_key,
        };
        mag_pulsar_format_delivery(&out, &d);
        cJSON *del = must_parse(&out);
        REQUIRE(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(del, "payload")));
        cJSON_Delete(del);
        mag_buf_free(&out);
    }
    if (rc != MAG_ERR_JSON) {
        mag_buf out = MAG_BUF_INIT;
        mag_pulsar_format_receipt_error(&out, 7, (const char *)m.error_msg.data, m.error_msg.len,
                                        m.has_context ? (const char *)m.context.data : NULL,
                                        m.context.len);
        cJSON *r = must_parse(&out);
        REQUIRE(cJSON_IsObject(r));
        REQUIRE(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "context")) == m.has_context);
        cJSON_Delete(r);
        mag_buf_free(&out);
    }
    mag_producer_msg_cleanup(&m);
}

static void check_consumer(const char *json, size_t len)
{
    mag_consumer_cmd c;
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;
    mag_consumer_cmd_init(&c);
    mag_rc rc = mag_pulsar_parse_consumer_cmd(json, len, &c, &err);
    REQUIRE(rc == MAG_OK || rc == MAG_ERR_JSON);
    REQUIRE(rc == MAG_OK || err.len > 0);
    REQUIRE(c.type <= MAG_CMD_IS_END_OF_TOPIC);
    if (rc == MAG_OK && c.type == MAG_CMD_PERMIT)
        REQUIRE(c.permit_messages >= INT32_MIN && c.permit_messages <= INT32_MAX);
    if (c.has_message_id) {
        REQUIRE(c.message_id.data && c.message_id.data[c.message_id.len] == 0);
        mag_pulsar_format_receipt_ok(&out, "CAMQADAA", (const char *)c.message_id.data,
                                     c.message_id.len);
        cJSON *r = must_parse(&out);
        REQUIRE(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(r, "context")));
        cJSON_Delete(r);
    }
    mag_buf_free(&out);
    mag_buf_free(&err);
    mag_consumer_cmd_cleanup(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] % 2 == 0)
        check_producer((const char *)data + 1, size - 1);
    else
        check_consumer((const char *)data + 1, size - 1);
    return 0;
}
