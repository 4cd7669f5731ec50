/* pulsar_json.c -- Pulsar WebSocket JSON frames (see include/mag/codec/pulsar_json.h).
 *
 * Parsing uses cJSON for the syntax and then applies, field by field in
 * document order, the rules Jackson follows when Pulsar binds the text to
 * ProducerMessage / ConsumerCommand: unknown fields ignored, last duplicate
 * wins, scalars coerced into String fields, numeric strings and floats into
 * numbers, null = absent. Semantic checks then run in ProducerHandler's
 * order. Output is written by hand into a mag_buf in the field order of
 * Pulsar's Jackson beans, so nothing allocates once the buffer is warm.
 */
#include "mag/codec/pulsar_json.h"
#include "mag/codec/iso_time.h"
#include "mag/util/alloc.h"
#include "mag/util/base64.h"
#include "mag/util/str.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PRODUCER_BEAN "org.apache.pulsar.websocket.data.ProducerMessage"
#define CONSUMER_BEAN "org.apache.pulsar.websocket.data.ConsumerCommand"

/* ---------------------------------------------------------------- output */

void mag_json_append_string(mag_buf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    const uint8_t *p = (const uint8_t *)s;
    mag_buf_reserve(out, len + 2);
    mag_buf_append_byte(out, '"');
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '"' && p[j] != '\\')
            j++;
        mag_buf_append(out, p + i, j - i);
        i = j;
        if (i == len)
            break;
        uint8_t c = p[i];
        if (c >= 0x80) {
            int32_t cp;
            size_t k = mag_utf8_decode(p + i, len - i, &cp);
            if (cp < 0)
                mag_buf_append(out, "\xEF\xBF\xBD", 3);
            else
                mag_buf_append(out, p + i, k);
            i += k;
            continue;
        }
        char esc[6] = { '\\', 0, 0, 0, 0, 0 };
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\t': esc[1] = 't'; break;
        case '\n': esc[1] = 'n'; break;
        case '\f': esc[1] = 'f'; break;
        case '\r': esc[1] = 'r'; break;
        default:
            esc[1] = 'u';
            esc[2] = '0';
            esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
            break;
        }
        mag_buf_append(out, esc, n);
        i++;
    }
    mag_buf_append_byte(out, '"');
}

static void append_lit(mag_buf *out, const char *lit)
{
    mag_buf_append(out, lit, strlen(lit));
}

void mag_pulsar_format_receipt_ok(mag_buf *out, const char *msgid_b64, const char *context,
                                  size_t context_len)
{
    append_lit(out, "{\"result\":\"ok\",\"messageId\":");
    mag_json_append_string(out, msgid_b64, strlen(msgid_b64));
    if (context) {
        append_lit(out, ",\"context\":");
        mag_json_append_string(out, context, context_len);
    }
    append_lit(out, ",\"errorCode\":0,\"schemaVersion\":0}");
}

void mag_pulsar_format_receipt_error(mag_buf *out, int code, const char *error_msg,
                                     size_t error_len, const char *context, size_t context_len)
{
    append_lit(out, "{\"result\":\"send-error:");
    mag_buf_append_i64(out, code);
    mag_buf_append_byte(out, '"');
    if (error_msg && error_len) {
        append_lit(out, ",\"errorMsg\":");
        mag_json_append_string(out, error_msg, error_len);
    }
    if (context) {
        append_lit(out, ",\"context\":");
        mag_json_append_string(out, context, context_len);
    }
    append_lit(out, ",\"errorCode\":0,\"schemaVersion\":0}");
}

void mag_pulsar_format_delivery(mag_buf *out, const struct mag_delivery *d)
{
    size_t idlen = strlen(d->msgid_b64);
    mag_buf_reserve(out, 160 + idlen + mag_base64_encoded_len(d->payload_len) +
                         d->properties_json_len + (d->has_key ? d->key_len + 16 : 0));
    append_lit(out, "{\"messageId\":");
    mag_json_append_string(out, d->msgid_b64, idlen);
    append_lit(out, ",\"payload\":\"");
    mag_base64_encode(out, d->payload, d->payload_len);
    append_lit(out, "\",\"properties\":");
    if (d->properties_json_len)
        mag_buf_append(out, d->properties_json, d->properties_json_len);
    else
        append_lit(out, "{}");
    append_lit(out, ",\"publishTime\":\"");
    mag_iso_time_format(out, d->publish_time_ms);
    append_lit(out, "\",\"redeliveryCount\":");
    mag_buf_append_i64(out, d->redelivery_count);
    if (d->event_time_ms != 0) {
        append_lit(out, ",\"eventTime\":\"");
        mag_iso_time_format(out, d->event_time_ms);
        mag_buf_append_byte(out, '"');
    }
    if (d->has_key) {
        append_lit(out, ",\"key\":");
        mag_json_append_string(out, d->key, d->key_len);
    }
    mag_buf_append_byte(out, '}');
}

void mag_pulsar_format_end_of_topic(mag_buf *out, bool end_of_topic)
{
    append_lit(out, end_of_topic ? "{\"endOfTopic\":true}" : "{\"endOfTopic\":false}");
}

/* ------------------------------------------------------- Jackson rules */

/* Jackson's name for the token a value starts with, for error texts. */
static const char *token_desc(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "Object value (token `JsonToken.START_OBJECT`)";
    if (cJSON_IsArray(v))
        return "Array value (token `JsonToken.START_ARRAY`)";
    if (cJSON_IsBool(v))
        return "Boolean value (token `JsonToken.VALUE_TRUE/FALSE`)";
    if (cJSON_IsString(v))
        return "String value (token `JsonToken.VALUE_STRING`)";
    return "Number value (token `JsonToken.VALUE_NUMBER`)";
}

static void type_error(mag_buf *err, const char *type, const cJSON *v, const char *bean,
                       const char *field)
{
    if (!err)
        return;
    mag_buf_appendf(err, "Cannot deserialize value of type `%s` from %s "
                    "(through reference chain: %s[\"%s\"])", type, token_desc(v), bean, field);
}

/* A JSON number as text. cJSON keeps only the double, so this is the
 * shortest text that reads back to the same double (Jackson would echo the
 * source text: "1.50" stays "1.50" there, "1.5" here). */
static void append_number_text(mag_buf *out, double d)
{
    char tmp[40];
    if (d == trunc(d) && fabs(d) < 1e18) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)d);
    } else {
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(tmp, sizeof tmp, "%.*g", prec, d);
            if (strtod(tmp, NULL) == d)
                break;
        }
    }
    mag_buf_append_str(out, tmp);
}

/* StringDeserializer: string as-is, number/boolean as text, null -> absent.
 * Returns false for objects and arrays. */
static bool coerce_string(const cJSON *v, mag_buf *dst, bool *present)
{
    mag_buf_reset(dst);
    *present = true;
    if (cJSON_IsString(v))
        mag_buf_append_str(dst, v->valuestring);
    else if (cJSON_IsNumber(v))
        append_number_text(dst, v->valuedouble);
    else if (cJSON_IsTrue(v))
        mag_buf_append_str(dst, "true");
    else if (cJSON_IsFalse(v))
        mag_buf_append_str(dst, "false");
    else if (cJSON_IsNull(v))
        *present = false;
    else
        return false;
    if (*present)
        mag_buf_cstr(dst);   /* storage + NUL even for "": data is never NULL */
    return true;
}

/* Java String.trim(): strip chars <= ' ' at both ends. */
static void java_trim(const char **s, size_t *n)
{
    while (*n && (unsigned char)(*s)[0] <= ' ') {
        (*s)++;
        (*n)--;
    }
    while (*n && (unsigned char)(*s)[*n - 1] <= ' ')
        (*n)--;
}

enum num_res { NUM_OK, NUM_NULL, NUM_BAD };

/* Jackson long/int deserialization: integers, floats truncated (range
 * checked), numeric strings (trimmed; "" and "null" mean null), null. */
static enum num_res coerce_integral(const cJSON *v, int64_t min, int64_t max, int64_t *out)
{
    if (cJSON_IsNull(v))
        return NUM_NULL;
    if (cJSON_IsNumber(v)) {
        double d = trunc(v->valuedouble);
        /* 2^63 is exactly representable; anything >= it overflows */
        if (!(d >= (double)min && d < -(double)min) || d > (double)max)
            return NUM_BAD;
        *out = (int64_t)d;
        return NUM_OK;
    }
    if (!cJSON_IsString(v))
        return NUM_BAD;
    const char *s = v->valuestring;
    size_t n = strlen(s);
    java_trim(&s, &n);
    if (n == 0 || (n == 4 && memcmp(s, "null", 4) == 0))
        return NUM_NULL;
    char tmp[32];
    if (n >= sizeof tmp)
        return NUM_BAD;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    int64_t r;
    if (mag_parse_java_long(tmp, &r, NULL) != MAG_OK || r < min || r > max)
        return NUM_BAD;
    *out = r;
    return NUM_OK;
}

/* Jackson primitive boolean: true/false/null, ints (0 = false), and the
 * strings "true"/"True"/"TRUE"/"false"/"False"/"FALSE"/""/"null". */
static bool coerce_bool_ok(const cJSON *v)
{
    if (cJSON_IsBool(v) || cJSON_IsNull(v))
        return true;
    if (cJSON_IsNumber(v))
        return v->valuedouble == trunc(v->valuedouble);
    if (!cJSON_IsString(v))
        return false;
    const char *s = v->valuestring;
    size_t n = strlen(s);
    java_trim(&s, &n);
    static const char *const ok[] = { "true", "True", "TRUE", "false", "False", "FALSE", "null" };
    if (n == 0)
        return true;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strlen(ok[i]) == n && memcmp(ok[i], s, n) == 0)
            return true;
    return false;
}

/* Parse the text with cJSON; on failure write a Jackson-like message. */
static cJSON *parse_object(const char *json, size_t len, const char *bean, mag_buf *err)
{
    size_t i = 0;
    while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
        i++;
    if (i == len) {
        if (err)
            mag_buf_append_str(err, "No content to map due to end-of-input");
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root) {
        if (err) {
            size_t off = end && end >= json && end <= json + len ? (size_t)(end - json) : len;
            if (off >= len)
                mag_buf_appendf(err, "Unexpected end-of-input at offset %zu", off);
            else
                mag_buf_appendf(err, "Unexpected character (code %d) at offset %zu",
                                (unsigned char)json[off], off);
        }
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        if (err)
            mag_buf_appendf(err, "Cannot deserialize value of type `%s` from %s", bean,
                            token_desc(root));
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* ------------------------------------------------------ producer message */

void mag_producer_msg_init(mag_producer_msg *m)
{
    memset(m, 0, sizeof *m);
}

void mag_producer_msg_cleanup(mag_producer_msg *m)
{
    mag_buf_free(&m->payload);
    mag_buf_free(&m->properties_json);
    mag_buf_free(&m->context);
    mag_buf_free(&m->key);
    mag_buf_free(&m->replication_clusters_json);
    mag_buf_free(&m->error_msg);
    mag_producer_msg_init(m);
}

static void producer_reset(mag_producer_msg *m)
{
    mag_buf_reset(&m->payload);
    mag_buf_reset(&m->properties_json);
    mag_buf_reset(&m->context);
    mag_buf_reset(&m->key);
    mag_buf_reset(&m->replication_clusters_json);
    mag_buf_reset(&m->error_msg);
    m->num_properties = 0;
    m->has_context = false;
    m->has_key = false;
    m->event_time_ms = 0;
    m->deliver_at_ms = 0;
    m->deliver_after_ms = 0;
}

/* One slot of the duplicate-key table: Jackson's LinkedHashMap keeps the
 * first position of a key and the last value put for it. */
struct prop_slot {
    const char *key;
    const cJSON *last;
    bool emitted;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static struct prop_slot *prop_find(struct prop_slot *t, size_t mask, const char *key)
{
    size_t i = (size_t)fnv1a(key) & mask;
    while (t[i].key && strcmp(t[i].key, key) != 0)
        i = (i + 1) & mask;
    return &t[i];
}

/* Map<String,String> properties -> canonical compact JSON.
 * Returns MAG_OK, MAG_ERR_JSON (type error, message in err) or sets
 * *null_key to the first key whose final value is null. */
static mag_rc build_properties(const cJSON *obj, mag_producer_msg *m, const char **null_key)
{
    mag_rc rc = MAG_OK;
    size_t n = 0, cap = 8;
    struct prop_slot *table = NULL;
    mag_buf val = MAG_BUF_INIT;
    const cJSON *it;

    cJSON_ArrayForEach(it, obj) {
        if (cJSON_IsObject(it) || cJSON_IsArray(it)) {
            mag_buf_appendf(&m->error_msg, "Cannot deserialize value of type `java.lang.String` "
                            "from %s (through reference chain: %s[\"properties\"]->"
                            "java.util.LinkedHashMap[\"%s\"])", token_desc(it), PRODUCER_BEAN,
                            it->string);
            rc = MAG_ERR_JSON;
            goto out;
        }
        n++;
    }
    while (cap < 2 * n)
        cap *= 2;
    table = mag_xcalloc(cap, sizeof *table);
    cJSON_ArrayForEach(it, obj) {
        struct prop_slot *s = prop_find(table, cap - 1, it->string);
        s->key = it->string;
        s->last = it;
    }
    mag_buf_append_byte(&m->properties_json, '{');
    *null_key = NULL;
    cJSON_ArrayForEach(it, obj) {
        struct prop_slot *s = prop_find(table, cap - 1, it->string);
        if (s->emitted)
            continue;
        s->emitted = true;
        bool present;
        coerce_string(s->last, &val, &present);
        if (!present) {
            if (!*null_key)
                *null_key = s->key;
            continue;
        }
        if (m->num_properties)
            mag_buf_append_byte(&m->properties_json, ',');
        mag_json_append_string(&m->properties_json, s->key, strlen(s->key));
        mag_buf_append_byte(&m->properties_json, ':');
        mag_json_append_string(&m->properties_json, (const char *)val.data, val.len);
        m->num_properties++;
    }
    mag_buf_append_byte(&m->properties_json, '}');
out:
    free(table);
    mag_buf_free(&val);
    return rc;
}

/* List<String> -> compact JSON array. *has_null set when an element is null. */
static mag_rc build_clusters(const cJSON *arr, mag_producer_msg *m, bool *has_null)
{
    mag_buf val = MAG_BUF_INIT;
    const cJSON *it;
    size_t n = 0;
    mag_buf_append_byte(&m->replication_clusters_json, '[');
    cJSON_ArrayForEach(it, arr) {
        bool present;
        if (!coerce_string(it, &val, &present)) {
            mag_buf_appendf(&m->error_msg, "Cannot deserialize value of type `java.lang.String` "
                            "from %s (through reference chain: %s[\"replicationClusters\"]->"
                            "java.util.ArrayList[%zu])", token_desc(it), PRODUCER_BEAN, n);
            mag_buf_free(&val);
            return MAG_ERR_JSON;
        }
        if (!present) {
            *has_null = true;
        } else {
            if (m->replication_clusters_json.len > 1)
                mag_buf_append_byte(&m->replication_clusters_json, ',');
            mag_json_append_string(&m->replication_clusters_json, (const char *)val.data, val.len);
        }
        n++;
    }
    mag_buf_append_byte(&m->replication_clusters_json, ']');
    mag_buf_free(&val);
    return MAG_OK;
}

mag_rc mag_pulsar_parse_producer_msg(const char *json, size_t len, mag_producer_msg *m)
{
    mag_rc rc = MAG_OK;
    bool has_payload = false, has_event_time = false, clusters_null = false;
    const cJSON *props = NULL, *clusters = NULL;
    const char *null_key = NULL;
    mag_buf event_time = MAG_BUF_INIT, payload_text = MAG_BUF_INIT, scratch = MAG_BUF_INIT;

    producer_reset(m);
    cJSON *root = parse_object(json, len, PRODUCER_BEAN, &m->error_msg);
    if (!root)
        return MAG_ERR_JSON;

    /* Bind fields in document order; a later duplicate replaces an earlier one. */
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const char *f = it->string;
        int64_t num = 0;
        enum num_res nr;
        if (strcmp(f, "payload") == 0 || strcmp(f, "context") == 0 || strcmp(f, "key") == 0 ||
            strcmp(f, "eventTime") == 0) {
            mag_buf *dst = &event_time;
            bool *flag = &has_event_time;
            if (f[0] == 'p')
                dst = &payload_text, flag = &has_payload;
            else if (f[0] == 'c')
                dst = &m->context, flag = &m->has_context;
            else if (f[0] == 'k')
                dst = &m->key, flag = &m->has_key;
            if (!coerce_string(it, dst, flag)) {
                type_error(&m->error_msg, "java.lang.String", it, PRODUCER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
        } else if (strcmp(f, "properties") == 0) {
            if (!cJSON_IsNull(it) && !cJSON_IsObject(it)) {
                type_error(&m->error_msg, "java.util.LinkedHashMap<java.lang.String,java.lang.String>",
                           it, PRODUCER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
            props = cJSON_IsNull(it) ? NULL : it;
        } else if (strcmp(f, "replicationClusters") == 0) {
            if (!cJSON_IsNull(it) && !cJSON_IsArray(it)) {
                type_error(&m->error_msg, "java.util.ArrayList<java.lang.String>", it,
                           PRODUCER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
            clusters = cJSON_IsNull(it) ? NULL : it;
        } else if (strcmp(f, "keySchema") == 0 || strcmp(f, "valueSchema") == 0) {
            /* REST-producer fields: type-checked by Jackson, unused by WS */
            bool present;
            if (!coerce_string(it, &scratch, &present)) {
                type_error(&m->error_msg, "java.lang.String", it, PRODUCER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
        } else if (strcmp(f, "deliverAt") == 0 || strcmp(f, "deliverAfterMs") == 0 ||
                   strcmp(f, "sequenceId") == 0 || strcmp(f, "schemaVersion") == 0) {
            nr = coerce_integral(it, INT64_MIN, INT64_MAX, &num);
            if (nr == NUM_BAD) {
                type_error(&m->error_msg, "long", it, PRODUCER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
            if (nr == NUM_NULL)
                num = 0;
            if (strcmp(f, "deliverAt") == 0)
                m->deliver_at_ms = num > 0 ? num : 0;
            else if (strcmp(f, "deliverAfterMs") == 0)
                m->deliver_after_ms = num > 0 ? num : 0;
        } else if (strcmp(f, "disableReplication") == 0) {
            if (!coerce_bool_ok(it)) {
                type_error(&m->error_msg, "boolean", it, PRODUCER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
        }
    }
    /* Containers are bound when their field is read; only the last one
     * counts, but each must type-check. */
    if (props) {
        rc = build_properties(props, m, &null_key);
        if (rc != MAG_OK)
            goto out;
    } else {
        mag_buf_append(&m->properties_json, "{}", 2);
    }
    if (clusters) {
        rc = build_clusters(clusters, m, &clusters_null);
        if (rc != MAG_OK)
            goto out;
    }

    /* Deserialized: from here on the context is echoed (ProducerHandler). */
    if (!has_payload) {
        rc = MAG_ERR_PAYLOAD;   /* NPE in Base64.decode: null message on Java 11 */
        goto out;
    }
    mag_buf_append_str(&m->error_msg, "Invalid Base64 message-payload error=");
    rc = mag_base64_decode(&m->payload, (const char *)payload_text.data, payload_text.len,
                           &m->error_msg);
    if (rc != MAG_OK)
        goto out;
    mag_buf_reset(&m->error_msg);
    if (null_key) {
        mag_buf_appendf(&m->error_msg, "Need Non-Null value for key: %s", null_key);
        rc = MAG_ERR_PAYLOAD;
        goto out;
    }
    if (clusters_null) {
        mag_buf_append_str(&m->error_msg, "Need Non-Null replication cluster name");
        rc = MAG_ERR_PAYLOAD;
        goto out;
    }
    if (has_event_time) {
        rc = mag_iso_time_parse((const char *)event_time.data, event_time.len,
                                &m->event_time_ms, &m->error_msg);
        if (rc != MAG_OK)
            goto out;
    }
out:
    if (rc == MAG_ERR_JSON) {
        m->has_context = false;
        mag_buf_reset(&m->context);
    }
    mag_buf_free(&event_time);
    mag_buf_free(&payload_text);
    mag_buf_free(&scratch);
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------- consumer command */

void mag_consumer_cmd_init(mag_consumer_cmd *c)
{
    memset(c, 0, sizeof *c);
    c->type = MAG_CMD_ACK;
}

void mag_consumer_cmd_cleanup(mag_consumer_cmd *c)
{
    mag_buf_free(&c->message_id);
    mag_consumer_cmd_init(c);
}

mag_rc mag_pulsar_parse_consumer_cmd(const char *json, size_t len, mag_consumer_cmd *c, mag_buf *err)
{
    mag_rc rc = MAG_OK;
    mag_buf type = MAG_BUF_INIT, ack_type = MAG_BUF_INIT;
    bool has_type = false, has_permit = false;

    c->type = MAG_CMD_ACK;
    c->has_message_id = false;
    mag_buf_reset(&c->message_id);
    c->permit_messages = 0;

    cJSON *root = parse_object(json, len, CONSUMER_BEAN, err);
    if (!root)
        return MAG_ERR_JSON;
    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const char *f = it->string;
        if (strcmp(f, "type") == 0 || strcmp(f, "messageId") == 0) {
            bool is_type = f[0] == 't';
            if (!coerce_string(it, is_type ? &type : &c->message_id,
                               is_type ? &has_type : &c->has_message_id)) {
                type_error(err, "java.lang.String", it, CONSUMER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
        } else if (strcmp(f, "ackType") == 0) {
            /* declared String in ConsumerCommand (never used): type-checked only */
            bool present;
            if (!coerce_string(it, &ack_type, &present)) {
                type_error(err, "java.lang.String", it, CONSUMER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
        } else if (strcmp(f, "permitMessages") == 0) {
            int64_t v = 0;
            enum num_res nr = coerce_integral(it, INT32_MIN, INT32_MAX, &v);
            if (nr == NUM_BAD) {
                type_error(err, "java.lang.Integer", it, CONSUMER_BEAN, f);
                rc = MAG_ERR_JSON;
                goto out;
            }
            has_permit = nr == NUM_OK;
            c->permit_messages = has_permit ? v : 0;
        }
    }
    if (has_type) {
        const char *t = mag_buf_cstr(&type);
        if (type.len == strlen(t)) {
            if (strcmp(t, "permit") == 0)
                c->type = MAG_CMD_PERMIT;
            else if (strcmp(t, "unsubscribe") == 0)
                c->type = MAG_CMD_UNSUBSCRIBE;
            else if (strcmp(t, "negativeAcknowledge") == 0)
                c->type = MAG_CMD_NACK;
            else if (strcmp(t, "isEndOfTopic") == 0)
                c->type = MAG_CMD_IS_END_OF_TOPIC;
        }
    }
    if (c->type == MAG_CMD_PERMIT && !has_permit) {
        if (err)
            mag_buf_append_str(err, "Missing required permitMessages field for 'permit' command");
        rc = MAG_ERR_JSON;
    }
out:
    if (rc != MAG_OK && c->type != MAG_CMD_PERMIT) {
        c->has_message_id = false;
        mag_buf_reset(&c->message_id);
    }
    mag_buf_free(&type);
    mag_buf_free(&ack_type);
    cJSON_Delete(root);
    return rc;
}
