/* pulsar_json.c -- Pulsar WebSocket JSON frames (see include/mag/codec/pulsar_json.h).
 *
 * Parsing streams the frame through the allocation-free json_reader and
 * applies, field by field in document order, the rules Jackson follows when
 * Pulsar binds the text to ProducerMessage / ConsumerCommand: unknown fields
 * skipped, last duplicate wins, scalars coerced into String fields (numbers
 * as their source text), numeric strings and floats into numbers, null =
 * absent. Strings keep their length, so "\u0000" survives. Semantic checks
 * then run in ProducerHandler's order. Output is written by hand into a
 * mag_buf in the field order of Pulsar's Jackson beans. With warm buffers
 * neither direction allocates.
 */
#include "mag/codec/pulsar_json.h"
#include "mag/util/bytes.h"
#include "mag/codec/iso_time.h"
#include "mag/codec/json_reader.h"
#include "mag/util/base64.h"
#include "mag/util/str.h"

#include <string.h>

#define PRODUCER_BEAN "org.apache.pulsar.websocket.data.ProducerMessage"
#define CONSUMER_BEAN "org.apache.pulsar.websocket.data.ConsumerCommand"

/* ---------------------------------------------------------------- output */

void mag_json_append_string(mag_buf *out, const char *s, size_t len)
{
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
            esc[4] = mag_hex_digit(c >> 4, 1);
            esc[5] = mag_hex_digit(c & 15, 1);
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
    if (d->encryption_context_json_len) {
        append_lit(out, ",\"encryptionContext\":");
        mag_buf_append(out, d->encryption_context_json, d->encryption_context_json_len);
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

/* Jackson's name for the token a value starts with, for error texts
 * (DeserializationContext._shapeForToken + the JsonToken name). */
static const char *token_desc(const mag_json_token *v)
{
    switch (v->type) {
    case MAG_JSON_OBJECT:
        return "Object value (token `JsonToken.START_OBJECT`)";
    case MAG_JSON_ARRAY:
        return "Array value (token `JsonToken.START_ARRAY`)";
    case MAG_JSON_TRUE:
        return "Boolean value (token `JsonToken.VALUE_TRUE`)";
    case MAG_JSON_FALSE:
        return "Boolean value (token `JsonToken.VALUE_FALSE`)";
    case MAG_JSON_STRING:
        return "String value (token `JsonToken.VALUE_STRING`)";
    case MAG_JSON_NULL:
        return "Null value (token `JsonToken.VALUE_NULL`)";
    case MAG_JSON_NUMBER:
        return v->integer ? "Integer value (token `JsonToken.VALUE_NUMBER_INT`)"
                          : "Floating-point value (token `JsonToken.VALUE_NUMBER_FLOAT`)";
    default:
        /* a value token is never a closing bracket, key or END */
        return "Object value (token `JsonToken.END_OBJECT`)";
    }
}

static void type_error(mag_buf *err, const char *type, const mag_json_token *v, const char *bean,
                       const char *field)
{
    if (!err)
        return;
    mag_buf_appendf(err, "Cannot deserialize value of type `%s` from %s "
                    "(through reference chain: %s[\"%s\"])", type, token_desc(v), bean, field);
}

static bool is_scalar(const mag_json_token *v)
{
    return v->type == MAG_JSON_STRING || v->type == MAG_JSON_NUMBER || v->type == MAG_JSON_TRUE ||
           v->type == MAG_JSON_FALSE || v->type == MAG_JSON_NULL;
}

/* StringDeserializer: a string decoded (NULs kept), a number as its source
 * text ("1.50" stays "1.50": Jackson's getText()), booleans as
 * "true"/"false", null -> absent. Returns false for objects and arrays.
 * A present value is NUL-terminated so its data is never NULL. */
static bool coerce_string(const mag_json_token *v, mag_buf *dst, bool *present)
{
    if (!is_scalar(v))
        return false;
    mag_buf_reset(dst);
    *present = v->type != MAG_JSON_NULL;
    if (*present) {
        mag_json_unescape(v, dst);
        mag_buf_cstr(dst);
    }
    return true;
}

/* Decoded text of a scalar token: in small when it fits, else in big
 * (heap, released by text_free). Writable, with room for a NUL after it. */
struct text {
    char small[128];
    mag_buf big;
    char *p;
    size_t n;
};

static void text_get(struct text *t, const mag_json_token *v)
{
    mag_buf_init(&t->big);
    t->n = mag_json_unescape_to(v, t->small, sizeof t->small - 1);
    t->p = t->small;
    if (t->n == SIZE_MAX) {
        mag_json_unescape(v, &t->big);
        mag_buf_cstr(&t->big);
        t->p = (char *)t->big.data;
        t->n = t->big.len;
    }
}

static void text_free(struct text *t)
{
    mag_buf_free(&t->big);
}

/* Java String.trim(): strip chars <= ' ' (NUL included) at both ends. */
static void java_trim(char **s, size_t *n)
{
    while (*n && (unsigned char)(*s)[0] <= ' ') {
        (*s)++;
        (*n)--;
    }
    while (*n && (unsigned char)(*s)[*n - 1] <= ' ')
        (*n)--;
}

enum num_res { NUM_OK, NUM_NULL, NUM_BAD };

/* Jackson long/int deserialization: integer tokens exactly (out of range is
 * an error), float tokens as doubles range-checked against [min, max] and
 * then truncated like Java's (long)/(int) cast, numeric strings through
 * Long.parseLong after trim ("" and "null" mean null), null -> null. */
static enum num_res coerce_integral(const mag_json_token *v, int64_t min, int64_t max,
                                    int64_t *out)
{
    if (v->type == MAG_JSON_NULL)
        return NUM_NULL;
    if (v->type == MAG_JSON_NUMBER && v->integer) {
        int64_t x;
        if (mag_json_number_i64(v->text, v->len, &x) != MAG_OK || x < min || x > max)
            return NUM_BAD;
        *out = x;
        return NUM_OK;
    }
    if (v->type == MAG_JSON_NUMBER) {
        double d;
        if (mag_json_number_double(v->text, v->len, &d) != MAG_OK ||
            !(d >= (double)min && d <= (double)max))
            return NUM_BAD;
        /* (double)INT64_MAX is 2^63, which Java's cast saturates */
        *out = d >= 0x1p63 ? INT64_MAX : (int64_t)d;
        return NUM_OK;
    }
    if (v->type != MAG_JSON_STRING)
        return NUM_BAD;
    struct text t;
    enum num_res res = NUM_BAD;
    text_get(&t, v);
    char *s = t.p;
    size_t n = t.n;
    java_trim(&s, &n);
    if (n == 0 || (n == 4 && memcmp(s, "null", 4) == 0)) {
        res = NUM_NULL;
    } else if (!memchr(s, '\0', n)) {
        int64_t x;
        s[n] = '\0';
        if (mag_parse_java_long(s, &x, NULL) == MAG_OK && x >= min && x <= max) {
            *out = x;
            res = NUM_OK;
        }
    }
    text_free(&t);
    return res;
}

/* Jackson primitive boolean: true/false/null, integer tokens (floats are
 * refused), and the strings "true"/"True"/"TRUE"/"false"/"False"/"FALSE"/
 * ""/"null" (trimmed). Only the check matters: the value is unused. */
static bool coerce_bool_ok(const mag_json_token *v)
{
    static const char *const ok[] = { "true", "True", "TRUE", "false", "False", "FALSE", "null" };
    if (v->type == MAG_JSON_TRUE || v->type == MAG_JSON_FALSE || v->type == MAG_JSON_NULL)
        return true;
    if (v->type == MAG_JSON_NUMBER)
        return v->integer;
    if (v->type != MAG_JSON_STRING)
        return false;
    struct text t;
    bool res = false;
    text_get(&t, v);
    char *s = t.p;
    size_t n = t.n;
    java_trim(&s, &n);
    res = n == 0;
    for (size_t i = 0; i < sizeof ok / sizeof ok[0] && !res; i++)
        res = strlen(ok[i]) == n && memcmp(ok[i], s, n) == 0;
    text_free(&t);
    return res;
}

/* The bean's fields, matched on the decoded name ("pay\u006coad" is payload). */
struct field {
    const char *name;
    size_t len;
    int id;
};

#define FIELD(s, id) { s, sizeof s - 1, id }

static const struct field *find_field(const struct field *tab, size_t n, const mag_json_token *k)
{
    for (size_t i = 0; i < n; i++)
        if (mag_json_token_eq(k, tab[i].name, tab[i].len))
            return &tab[i];
    return NULL;
}

/* The root must be an object; a syntax error is reported by the caller. */
static mag_rc open_root(mag_json_reader *r, const char *bean, mag_buf *err)
{
    mag_json_token t;
    mag_rc rc = mag_json_next(r, &t);
    if (rc != MAG_OK)
        return rc;
    if (t.type != MAG_JSON_OBJECT) {
        if (err)
            mag_buf_appendf(err, "Cannot deserialize value of type `%s` from %s", bean,
                            token_desc(&t));
        return MAG_ERR_JSON;
    }
    return MAG_OK;
}

/* Next member of the root object: k is KEY (and v its value's first token)
 * or OBJECT_END. */
static mag_rc next_member(mag_json_reader *r, mag_json_token *k, mag_json_token *v)
{
    mag_rc rc = mag_json_next(r, k);
    if (rc != MAG_OK || k->type == MAG_JSON_OBJECT_END)
        return rc;
    return mag_json_next(r, v);
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
    mag_buf_free(&m->encryption_param);
    mag_buf_free(&m->compression_type);
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
    m->has_encryption_param = m->has_compression_type = m->has_uncompressed_size = false;
    mag_buf_reset(&m->encryption_param);
    mag_buf_reset(&m->compression_type);
    m->uncompressed_size = 0;
}

enum producer_field {
    PF_PAYLOAD = 1, PF_CONTEXT, PF_KEY, PF_EVENT_TIME, PF_PROPERTIES, PF_CLUSTERS,
    PF_KEY_SCHEMA, PF_VALUE_SCHEMA, PF_DELIVER_AT, PF_DELIVER_AFTER, PF_SEQUENCE_ID,
    PF_SCHEMA_VERSION, PF_DISABLE_REPLICATION, PF_ENCRYPTION_PARAM, PF_COMPRESSION_TYPE,
    PF_UNCOMPRESSED_SIZE
};

static const struct field producer_fields[] = {
    FIELD("payload", PF_PAYLOAD),
    FIELD("properties", PF_PROPERTIES),
    FIELD("context", PF_CONTEXT),
    FIELD("key", PF_KEY),
    FIELD("eventTime", PF_EVENT_TIME),
    FIELD("replicationClusters", PF_CLUSTERS),
    FIELD("deliverAt", PF_DELIVER_AT),
    FIELD("deliverAfterMs", PF_DELIVER_AFTER),
    FIELD("keySchema", PF_KEY_SCHEMA),
    FIELD("valueSchema", PF_VALUE_SCHEMA),
    FIELD("sequenceId", PF_SEQUENCE_ID),
    FIELD("schemaVersion", PF_SCHEMA_VERSION),
    FIELD("disableReplication", PF_DISABLE_REPLICATION),
    FIELD("encryptionParam", PF_ENCRYPTION_PARAM),
    FIELD("compressionType", PF_COMPRESSION_TYPE),
    FIELD("uncompressedMessageSize", PF_UNCOMPRESSED_SIZE),
};

/* Parse state. While the JSON is read, m->error_msg is empty on every path
 * that can still succeed, so it doubles as the scratch buffer (property
 * table, decoded texts): a warm mag_producer_msg then parses without
 * allocating. Every error path resets it before writing its message. */
struct producer_parse {
    mag_json_reader r;
    mag_producer_msg *m;
    mag_buf *scratch;
    mag_json_token payload, event_time, null_key;   /* raw tokens into the frame */
    bool has_payload, has_event_time, has_properties, has_null_key, clusters_null;
};

static mag_rc producer_type_error(struct producer_parse *p, const char *type,
                                  const mag_json_token *v, const char *field)
{
    mag_buf_reset(p->scratch);
    type_error(&p->m->error_msg, type, v, PRODUCER_BEAN, field);
    return MAG_ERR_JSON;
}

/* Text of a scalar as Jackson's String coercion sees it: the raw token when
 * it has no escapes, else decoded into the scratch buffer. */
static void scalar_text(struct producer_parse *p, const mag_json_token *v, const char **s,
                        size_t *n)
{
    if (v->type == MAG_JSON_STRING && v->escaped) {
        mag_buf_reset(p->scratch);
        mag_json_unescape(v, p->scratch);
        *s = (const char *)p->scratch->data;
        *n = p->scratch->len;
    } else {
        *s = v->text;
        *n = v->len;
    }
}

/* One member of a properties object. Jackson's LinkedHashMap keeps the
 * first position of a key and the last value put for it; entries are kept
 * in the scratch buffer and chained per hash bucket (first occurrences only). */
struct prop_ent {
    mag_json_token key, val;
    const char *name;           /* decoded key */
    size_t name_len;
    uint32_t next;              /* next first-occurrence in the bucket, index + 1; 0 ends */
    uint32_t last;              /* first occurrence: index of the key's last occurrence */
    bool first;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return h;
}

/* Map<String,String> properties, the reader just past the '{' -> canonical
 * compact JSON in m->properties_json. A null final value is remembered in
 * p->null_key (checked after the payload, as ProducerHandler does). */
static mag_rc read_properties(struct producer_parse *p)
{
    mag_producer_msg *m = p->m;
    mag_buf *sc = p->scratch;
    size_t n = 0, key_text = 0, val_max = 0, nb = 8, used = 0;
    mag_json_token k, v;
    mag_rc rc;

    /* 1: collect the members (document order) and type-check the values */
    mag_buf_reset(sc);
    for (;;) {
        rc = next_member(&p->r, &k, &v);
        if (rc != MAG_OK)
            return rc;
        if (k.type == MAG_JSON_OBJECT_END)
            break;
        if (!is_scalar(&v)) {
            mag_buf_reset(sc);
            mag_buf_appendf(&m->error_msg, "Cannot deserialize value of type `java.lang.String` "
                            "from %s (through reference chain: %s[\"properties\"]->"
                            "java.util.LinkedHashMap[\"", token_desc(&v), PRODUCER_BEAN);
            mag_json_unescape(&k, &m->error_msg);
            mag_buf_append_str(&m->error_msg, "\"])");
            return MAG_ERR_JSON;
        }
        struct prop_ent e = { .key = k, .val = v };
        mag_buf_append(sc, &e, sizeof e);
        n++;
        if (k.escaped)
            key_text += k.len;
        if (v.type == MAG_JSON_STRING && v.escaped && v.len > val_max)
            val_max = v.len;
    }

    /* 2: lay out buckets and decoded text after the entries, then dedup */
    while (nb < 2 * n)
        nb *= 2;
    mag_buf_reserve(sc, nb * sizeof(uint32_t) + key_text + val_max);
    struct prop_ent *ents = (struct prop_ent *)sc->data;
    uint32_t *bucket = (uint32_t *)(sc->data + n * sizeof *ents);
    char *text = (char *)(bucket + nb);
    memset(bucket, 0, nb * sizeof *bucket);
    for (size_t i = 0; i < n; i++) {
        struct prop_ent *e = &ents[i];
        e->name = e->key.text;
        e->name_len = e->key.len;
        if (e->key.escaped) {
            e->name = text + used;
            e->name_len = mag_json_unescape_to(&e->key, text + used, key_text - used);
            used += e->name_len;
        }
        uint32_t *slot = &bucket[fnv1a(e->name, e->name_len) & (nb - 1)];
        uint32_t j = *slot;
        while (j && !(ents[j - 1].name_len == e->name_len &&
                      memcmp(ents[j - 1].name, e->name, e->name_len) == 0))
            j = ents[j - 1].next;
        if (j) {
            ents[j - 1].last = (uint32_t)i;
        } else {
            e->first = true;
            e->last = (uint32_t)i;
            e->next = *slot;
            *slot = (uint32_t)i + 1;
        }
    }

    /* 3: emit first occurrences with their last value */
    mag_buf *out = &m->properties_json;
    mag_buf_reset(out);
    m->num_properties = 0;
    p->has_null_key = false;
    mag_buf_append_byte(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (!ents[i].first)
            continue;
        const mag_json_token *val = &ents[ents[i].last].val;
        if (val->type == MAG_JSON_NULL) {
            if (!p->has_null_key) {
                p->null_key = ents[i].key;
                p->has_null_key = true;
            }
            continue;
        }
        if (m->num_properties)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, ents[i].name, ents[i].name_len);
        mag_buf_append_byte(out, ':');
        if (val->type == MAG_JSON_STRING && val->escaped) {
            char *dec = text + key_text;
            mag_json_append_string(out, dec, mag_json_unescape_to(val, dec, val_max));
        } else {
            mag_json_append_string(out, val->text, val->len);
        }
        m->num_properties++;
    }
    mag_buf_append_byte(out, '}');
    mag_buf_reset(sc);
    p->has_properties = true;
    return MAG_OK;
}

/* List<String> replicationClusters, the reader just past the '[' -> compact
 * JSON array in m->replication_clusters_json; null elements are dropped and
 * flagged (Pulsar rejects them after the payload check). */
static mag_rc read_clusters(struct producer_parse *p)
{
    mag_buf *out = &p->m->replication_clusters_json;
    mag_json_token v;
    mag_buf_reset(out);
    p->clusters_null = false;
    mag_buf_append_byte(out, '[');
    for (size_t idx = 0;; idx++) {
        mag_rc rc = mag_json_next(&p->r, &v);
        if (rc != MAG_OK)
            return rc;
        if (v.type == MAG_JSON_ARRAY_END)
            break;
        if (!is_scalar(&v)) {
            mag_buf_reset(p->scratch);
            mag_buf_appendf(&p->m->error_msg, "Cannot deserialize value of type "
                            "`java.lang.String` from %s (through reference chain: "
                            "%s[\"replicationClusters\"]->java.util.ArrayList[%zu])",
                            token_desc(&v), PRODUCER_BEAN, idx);
            return MAG_ERR_JSON;
        }
        if (v.type == MAG_JSON_NULL) {
            p->clusters_null = true;
            continue;
        }
        const char *s;
        size_t n;
        scalar_text(p, &v, &s, &n);
        if (out->len > 1)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, s, n);
    }
    mag_buf_append_byte(out, ']');
    mag_buf_reset(p->scratch);
    return MAG_OK;
}

/* Bind one member of the root object (the value's first token is v). */
static mag_rc bind_producer_field(struct producer_parse *p, const mag_json_token *k,
                                  const mag_json_token *v)
{
    mag_producer_msg *m = p->m;
    const struct field *f = find_field(producer_fields,
                                       sizeof producer_fields / sizeof producer_fields[0], k);
    int64_t num = 0;

    if (!f)
        return mag_json_skip(&p->r, v);          /* unknown fields are ignored */
    switch ((enum producer_field)f->id) {
    case PF_PAYLOAD:
    case PF_EVENT_TIME:
        /* Strings bound later: keep the raw token (the frame outlives the parse) */
        if (!is_scalar(v))
            return producer_type_error(p, "java.lang.String", v, f->name);
        if (f->id == PF_PAYLOAD) {
            p->payload = *v;
            p->has_payload = v->type != MAG_JSON_NULL;
        } else {
            p->event_time = *v;
            p->has_event_time = v->type != MAG_JSON_NULL;
        }
        return MAG_OK;
    case PF_CONTEXT:
        if (!coerce_string(v, &m->context, &m->has_context))
            return producer_type_error(p, "java.lang.String", v, f->name);
        return MAG_OK;
    case PF_KEY:
        if (!coerce_string(v, &m->key, &m->has_key))
            return producer_type_error(p, "java.lang.String", v, f->name);
        return MAG_OK;
    case PF_ENCRYPTION_PARAM:
        if (!coerce_string(v, &m->encryption_param, &m->has_encryption_param))
            return producer_type_error(p, "java.lang.String", v, f->name);
        return MAG_OK;
    case PF_COMPRESSION_TYPE:
        if (!coerce_string(v, &m->compression_type, &m->has_compression_type))
            return producer_type_error(p, "org.apache.pulsar.client.api.CompressionType", v, f->name);
        return MAG_OK;
    case PF_UNCOMPRESSED_SIZE: {
        enum num_res nr = coerce_integral(v, INT32_MIN, INT32_MAX, &num);
        if (nr == NUM_BAD)
            return producer_type_error(p, "java.lang.Integer", v, f->name);
        m->has_uncompressed_size = nr != NUM_NULL;
        m->uncompressed_size = num;
        return MAG_OK;
    }
    case PF_KEY_SCHEMA:
    case PF_VALUE_SCHEMA:
        /* REST-producer fields: type-checked by Jackson, unused by WS */
        if (!is_scalar(v))
            return producer_type_error(p, "java.lang.String", v, f->name);
        return MAG_OK;
    case PF_PROPERTIES:
        if (v->type == MAG_JSON_OBJECT)
            return read_properties(p);
        if (v->type != MAG_JSON_NULL)
            return producer_type_error(p, "java.util.LinkedHashMap<java.lang.String,"
                                       "java.lang.String>", v, f->name);
        p->has_properties = false;               /* a later null replaces an earlier map */
        p->has_null_key = false;
        m->num_properties = 0;
        mag_buf_reset(&m->properties_json);
        return MAG_OK;
    case PF_CLUSTERS:
        if (v->type == MAG_JSON_ARRAY)
            return read_clusters(p);
        if (v->type != MAG_JSON_NULL)
            return producer_type_error(p, "java.util.ArrayList<java.lang.String>", v, f->name);
        p->clusters_null = false;
        mag_buf_reset(&m->replication_clusters_json);
        return MAG_OK;
    case PF_DELIVER_AT:
    case PF_DELIVER_AFTER:
    case PF_SEQUENCE_ID:
    case PF_SCHEMA_VERSION: {
        enum num_res nr = coerce_integral(v, INT64_MIN, INT64_MAX, &num);
        if (nr == NUM_BAD)
            return producer_type_error(p, "long", v, f->name);
        if (nr == NUM_NULL || num < 0)
            num = 0;
        if (f->id == PF_DELIVER_AT)
            m->deliver_at_ms = num;
        else if (f->id == PF_DELIVER_AFTER)
            m->deliver_after_ms = num;
        return MAG_OK;
    }
    case PF_DISABLE_REPLICATION:
        if (!coerce_bool_ok(v))
            return producer_type_error(p, "boolean", v, f->name);
        return MAG_OK;
    }
    return MAG_OK;
}

/* After a successful read: ProducerHandler's checks, in its order. */
static mag_rc producer_checks(struct producer_parse *p)
{
    mag_producer_msg *m = p->m;
    mag_buf err = MAG_BUF_INIT;       /* only allocated on an error path */
    const char *s;
    size_t n;
    mag_rc rc = MAG_OK;

    if (!p->has_properties)
        mag_buf_append(&m->properties_json, "{}", 2);
    /* Deserialized: from here on the context is echoed (ProducerHandler). */
    if (!p->has_payload)
        return MAG_ERR_PAYLOAD;       /* NPE in Base64.decode: null message on Java 11 */
    scalar_text(p, &p->payload, &s, &n);
    rc = mag_base64_decode(&m->payload, s, n, &err);
    mag_buf_reset(p->scratch);
    if (rc != MAG_OK) {
        mag_buf_append_str(&m->error_msg, "Invalid Base64 message-payload error=");
        mag_buf_append(&m->error_msg, err.data, err.len);
        goto out;
    }
    if (p->has_null_key) {
        mag_buf_append_str(&m->error_msg, "Need Non-Null value for key: ");
        mag_json_unescape(&p->null_key, &m->error_msg);
        rc = MAG_ERR_PAYLOAD;
        goto out;
    }
    if (p->clusters_null) {
        mag_buf_append_str(&m->error_msg, "Need Non-Null replication cluster name");
        rc = MAG_ERR_PAYLOAD;
        goto out;
    }
    if (p->has_event_time) {
        scalar_text(p, &p->event_time, &s, &n);
        rc = mag_iso_time_parse(s, n, &m->event_time_ms, &err);
        mag_buf_reset(p->scratch);
        if (rc != MAG_OK)
            mag_buf_append(&m->error_msg, err.data, err.len);
    }
out:
    mag_buf_free(&err);
    return rc;
}

mag_rc mag_pulsar_parse_producer_msg(const char *json, size_t len, mag_producer_msg *m)
{
    struct producer_parse p = { .m = m, .scratch = &m->error_msg };
    mag_json_token k, v;
    mag_rc rc;

    producer_reset(m);
    mag_json_reader_init(&p.r, json, len);
    rc = open_root(&p.r, PRODUCER_BEAN, &m->error_msg);
    /* Bind fields in document order; a later duplicate replaces an earlier
     * one. Text after the root object is never read (Jackson readValue). */
    while (rc == MAG_OK) {
        rc = next_member(&p.r, &k, &v);
        if (rc != MAG_OK || k.type == MAG_JSON_OBJECT_END)
            break;
        rc = bind_producer_field(&p, &k, &v);
    }
    if (rc == MAG_OK)
        rc = producer_checks(&p);
    if (p.r.err != MAG_JSON_E_NONE) {
        mag_buf_reset(&m->error_msg);
        mag_json_error_message(&p.r, &m->error_msg);
    }
    if (rc == MAG_ERR_JSON) {
        m->has_context = false;
        mag_buf_reset(&m->context);
    }
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

enum consumer_field { CF_TYPE = 1, CF_MESSAGE_ID, CF_ACK_TYPE, CF_PERMIT_MESSAGES };

static const struct field consumer_fields[] = {
    FIELD("messageId", CF_MESSAGE_ID),
    FIELD("type", CF_TYPE),
    FIELD("permitMessages", CF_PERMIT_MESSAGES),
    FIELD("ackType", CF_ACK_TYPE),
};

static const struct { const char *name; size_t len; mag_cmd_type type; } command_types[] = {
    { "permit", 6, MAG_CMD_PERMIT },
    { "unsubscribe", 11, MAG_CMD_UNSUBSCRIBE },
    { "negativeAcknowledge", 19, MAG_CMD_NACK },
    { "isEndOfTopic", 12, MAG_CMD_IS_END_OF_TOPIC },
};

mag_rc mag_pulsar_parse_consumer_cmd(const char *json, size_t len, mag_consumer_cmd *c, mag_buf *err)
{
    mag_json_reader r;
    mag_json_token k, v, type = { .type = MAG_JSON_NULL };
    bool has_permit = false;
    mag_rc rc;

    c->type = MAG_CMD_ACK;
    c->has_message_id = false;
    mag_buf_reset(&c->message_id);
    c->permit_messages = 0;

    mag_json_reader_init(&r, json, len);
    rc = open_root(&r, CONSUMER_BEAN, err);
    while (rc == MAG_OK) {
        rc = next_member(&r, &k, &v);
        if (rc != MAG_OK || k.type == MAG_JSON_OBJECT_END)
            break;
        const struct field *f = find_field(consumer_fields,
                                           sizeof consumer_fields / sizeof consumer_fields[0], &k);
        if (!f) {
            rc = mag_json_skip(&r, &v);
            continue;
        }
        switch ((enum consumer_field)f->id) {
        case CF_TYPE:
        case CF_ACK_TYPE:
            /* ackType is declared String in ConsumerCommand (never used): type-checked only */
            if (!is_scalar(&v)) {
                type_error(err, "java.lang.String", &v, CONSUMER_BEAN, f->name);
                rc = MAG_ERR_JSON;
            } else if (f->id == CF_TYPE) {
                type = v;
            }
            break;
        case CF_MESSAGE_ID:
            if (!coerce_string(&v, &c->message_id, &c->has_message_id)) {
                type_error(err, "java.lang.String", &v, CONSUMER_BEAN, f->name);
                rc = MAG_ERR_JSON;
            }
            break;
        case CF_PERMIT_MESSAGES: {
            int64_t x = 0;
            enum num_res nr = coerce_integral(&v, INT32_MIN, INT32_MAX, &x);
            if (nr == NUM_BAD) {
                type_error(err, "java.lang.Integer", &v, CONSUMER_BEAN, f->name);
                rc = MAG_ERR_JSON;
            }
            has_permit = nr == NUM_OK;
            c->permit_messages = has_permit ? x : 0;
            break;
        }
        }
    }
    if (r.err != MAG_JSON_E_NONE && err)
        mag_json_error_message(&r, err);
    if (rc == MAG_OK) {
        /* exact, case-sensitive names; anything else (or null) is an ack */
        for (size_t i = 0; i < sizeof command_types / sizeof command_types[0]; i++)
            if (type.type != MAG_JSON_NULL &&
                mag_json_token_eq(&type, command_types[i].name, command_types[i].len))
                c->type = command_types[i].type;
        if (c->type == MAG_CMD_PERMIT && !has_permit) {
            if (err)
                mag_buf_append_str(err, "Missing required permitMessages field for 'permit' command");
            rc = MAG_ERR_JSON;
        }
    }
    if (rc != MAG_OK && c->type != MAG_CMD_PERMIT) {
        c->has_message_id = false;
        mag_buf_reset(&c->message_id);
    }
    return rc;
}
