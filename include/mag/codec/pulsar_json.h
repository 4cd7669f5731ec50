/* pulsar_json.h -- the JSON frames of Pulsar's WebSocket API (its websocket.data classes).
 *
 * Inbound: producer messages (ProducerMessage) and consumer commands
 * (ConsumerCommand), streamed through the allocation-free json_reader
 * (strict RFC 8259) with Jackson's rules as Pulsar configures it: unknown
 * fields ignored, the last duplicate wins, scalars coerced to String fields,
 * numeric strings and truncated floats accepted for numeric fields, null
 * means absent/0. Strings keep their length: "\u0000" survives in context,
 * key, properties and messageId. Outbound: producer receipts,
 * deliveries and the end-of-topic reply, formatted by hand into a mag_buf in
 * Pulsar's field order (no allocation when the buffer has room).
 * Pure: no I/O.
 */
#ifndef MAG_CODEC_PULSAR_JSON_H
#define MAG_CODEC_PULSAR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* Append s as a quoted JSON string, escaped like Jackson: '"', '\\',
 * \b \t \n \f \r, other bytes < 0x20 as \u00XX (upper-case hex); non-ASCII
 * copied as UTF-8. Ill-formed UTF-8 is replaced by U+FFFD so the output is
 * always valid JSON text. s may contain NUL bytes (escaped as \u0000). */
void mag_json_append_string(mag_buf *out, const char *s, size_t len);

typedef struct mag_producer_msg {
    mag_buf payload;              /* decoded payload bytes */
    mag_buf properties_json;      /* canonical compact JSON object of the
                                     properties, "{}" if absent/null:
                                     {"k1":"v1","k2":"v2"} in input order; a
                                     repeated key keeps its first position and
                                     takes the last value (Jackson's
                                     LinkedHashMap); numbers -> their text,
                                     true/false -> "true"/"false"; nested
                                     objects/arrays -> MAG_ERR_JSON; a null
                                     value is kept by Jackson and then rejected
                                     by Pulsar's builder ("Need Non-Null value
                                     for key: k"): MAG_ERR_PAYLOAD here */
    uint32_t num_properties;
    bool has_context; mag_buf context;   /* string as-is; a JSON number is echoed
                                            as its text ("context":5 -> "5") */
    bool has_key; mag_buf key;           /* "" counts as a key */
    mag_buf replication_clusters_json;   /* compact JSON array of strings, len 0 if absent/null */
    int64_t event_time_ms;               /* 0 if absent/null */
    int64_t deliver_at_ms;               /* 0 if absent or <= 0 */
    int64_t deliver_after_ms;            /* 0 if absent or <= 0 */
    /* Client-side encryption (3.2+, PIP-290); only used when the producer
       runs in that mode. Strings as sent. */
    bool has_encryption_param; mag_buf encryption_param;
    bool has_compression_type; mag_buf compression_type;
    bool has_uncompressed_size; int64_t uncompressed_size;
    mag_buf error_msg;                   /* set on error (may stay empty: missing payload) */
} mag_producer_msg;

/* Initialise all buffers empty. No allocation.
 * After a parse, context and key (when has_context/has_key) are
 * NUL-terminated and their data pointer is never NULL, even for "", so
 * (const char *)m->context.data can be passed as a non-NULL context. They
 * may contain NUL bytes: always use .len, never strlen. */
void mag_producer_msg_init(mag_producer_msg *m);
/* Free all buffers; m is re-initialised and reusable. */
void mag_producer_msg_cleanup(mag_producer_msg *m);

/* Parse one producer text frame into m, reusing its buffers (all fields are
 * reset first). Jackson reads only the first JSON value; trailing text after
 * it is ignored, as in Pulsar. Field rules:
 *   payload, context, key, eventTime: String (string, or number/boolean text);
 *   properties: object of scalars; replicationClusters: array of scalars;
 *   deliverAt, deliverAfterMs, sequenceId, schemaVersion: long (integer,
 *   float truncated, numeric string, null -> 0); disableReplication: boolean
 *   (also integers, "true"/"false"); keySchema, valueSchema: String.
 *   sequenceId, disableReplication, schemaVersion, keySchema and valueSchema
 *   (REST-producer fields of the same bean) are type-checked but otherwise
 *   ignored, like Pulsar's WS producer.
 * Numbers: integer tokens are exact int64 (out of range -> MAG_ERR_JSON);
 * float tokens are range-checked as doubles and truncated like Java's cast;
 * a number coerced to a String keeps its source text ("1.50", "1e3"), as
 * Jackson's getText() does. disableReplication takes integer tokens only.
 * The fields are bound as they stream by, so the first problem in document
 * order (syntax or type) is the one reported, as with Jackson, and every
 * occurrence of a repeated properties/replicationClusters field is checked.
 * While parsing, m->error_msg serves as scratch space, so a reused m parses
 * without allocating once its buffers have grown.
 * Checks after a successful JSON read follow ProducerHandler's order: payload
 * null -> base64 -> properties null values -> replicationClusters null
 * elements -> eventTime.
 * @param json  len bytes (need not be NUL-terminated)
 * @return
 *   MAG_OK;
 *   MAG_ERR_JSON    - not a JSON object / wrong field types: has_context is
 *                     false (context is NOT echoed), error_msg holds a
 *                     Jackson-like text;
 *   MAG_ERR_PAYLOAD - payload missing/null (error_msg left empty), payload
 *                     bad base64 (error_msg "Invalid Base64 message-payload
 *                     error=<java msg>"), null property value or null
 *                     replication cluster, eventTime unparseable (error_msg
 *                     "Text '...' could not be parsed at index N");
 *                     context IS filled. */
mag_rc mag_pulsar_parse_producer_msg(const char *json, size_t len, mag_producer_msg *m);

typedef enum mag_cmd_type {
    MAG_CMD_ACK,
    MAG_CMD_NACK,
    MAG_CMD_PERMIT,
    MAG_CMD_UNSUBSCRIBE,
    MAG_CMD_IS_END_OF_TOPIC
} mag_cmd_type;

typedef struct mag_consumer_cmd {
    mag_cmd_type type;      /* "permit","unsubscribe","negativeAcknowledge","isEndOfTopic" exact;
                               anything else or absent -> ACK */
    bool has_message_id; mag_buf message_id;   /* raw string as sent; NUL-terminated,
                                                  data non-NULL when has_message_id */
    int64_t permit_messages;                   /* 0 unless given */
} mag_consumer_cmd;

void mag_consumer_cmd_init(mag_consumer_cmd *c);
void mag_consumer_cmd_cleanup(mag_consumer_cmd *c);

/* Parse a consumer (or reader) command, reusing c's buffers.
 * type/messageId/ackType: String (scalars coerced to text; ackType is
 * declared in the bean but unused); permitMessages: Integer (int32 range;
 * float truncated; numeric string; null -> absent).
 * @param err  may be NULL; on error a message is APPENDED
 * @return MAG_OK, or MAG_ERR_JSON for non-JSON / non-object / wrong types /
 *         out-of-range permitMessages, and for "permit" without
 *         permitMessages ("Missing required permitMessages field for 'permit'
 *         command"). That last check runs after everything else parsed, with
 *         c->type == MAG_CMD_PERMIT, so a reader (which never checks it) can
 *         tell it apart and treat the frame as an ack. */
mag_rc mag_pulsar_parse_consumer_cmd(const char *json, size_t len, mag_consumer_cmd *c, mag_buf *err);

/* Producer receipt, field order result, errorMsg, messageId, context, errorCode, schemaVersion:
 * {"result":"ok","messageId":"CAEQADAA","context":"1","errorCode":0,"schemaVersion":0}
 * Appended to out. msgid_b64 is NUL-terminated; context NULL = omit. */
void mag_pulsar_format_receipt_ok(mag_buf *out, const char *msgid_b64, const char *context,
                                  size_t context_len /* context NULL = omit */);

/* {"result":"send-error:7","errorMsg":"...","context":"1","errorCode":0,"schemaVersion":0}
 * appended to out; error_msg NULL or empty -> omitted; context NULL -> omitted. */
void mag_pulsar_format_receipt_error(mag_buf *out, int code, const char *error_msg,
                                     size_t error_len, const char *context, size_t context_len);

struct mag_delivery {
    const char *msgid_b64;                  /* NUL-terminated */
    const uint8_t *payload; size_t payload_len;
    const char *properties_json; size_t properties_json_len;  /* spliced verbatim; len 0 -> {} */
    int64_t publish_time_ms;
    int32_t redelivery_count;
    int64_t event_time_ms;                  /* 0 -> omitted */
    const char *encryption_context_json;    /* spliced verbatim; len 0 -> omitted */
    size_t encryption_context_json_len;
    const char *key; size_t key_len; bool has_key;
};

/* {"messageId":..,"payload":..,"properties":{..},"publishTime":"..","redeliveryCount":0,
 *  "eventTime":"..","key":".."} appended to out (ConsumerMessage order; eventTime/key
 * only when set; times in the local zone via mag_iso_time_format). Borrows all
 * pointers for the duration of the call. No allocation when out has capacity. */
void mag_pulsar_format_delivery(mag_buf *out, const struct mag_delivery *d);

/* {"endOfTopic":false} / {"endOfTopic":true}, appended to out. */
void mag_pulsar_format_end_of_topic(mag_buf *out, bool end_of_topic);

#endif /* MAG_CODEC_PULSAR_JSON_H */
