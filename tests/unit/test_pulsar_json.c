/* test_pulsar_json.c -- unit tests for src/codec/pulsar_json.c.
 *
 * Producer messages and consumer commands under Jackson's binding rules
 * (coercions, duplicates, null handling, error classes and whether the
 * context is echoed), NUL characters and exact 64-bit integers, the exact
 * bytes of receipts, deliveries and the end-of-topic reply (ProducerAck,
 * ConsumerMessage, EndOfTopicResponse), and
 * that warm parsers do not call malloc at all (counted by replacing glibc's
 * malloc in this test binary).
 */
#include "mag_test.h"
#include "mag/codec/pulsar_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* Allocation counter. glibc supports replacing malloc in the program (manual,
 * "Replacing malloc"); these forward to glibc's allocator and count the
 * calls made from anywhere in the process. Sanitizer runtimes replace malloc
 * themselves, so counting is off in those builds. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MAG_COUNT_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || \
    __has_feature(thread_sanitizer)
#define MAG_COUNT_MALLOC 0
#endif
#endif
#ifndef MAG_COUNT_MALLOC
#define MAG_COUNT_MALLOC 1
#endif

#if MAG_COUNT_MALLOC
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static unsigned long alloc_calls;

void *malloc(size_t n)
{
    alloc_calls++;
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    alloc_calls++;
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    alloc_calls++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}
#endif

static mag_producer_msg M;

static mag_rc prod(const char *json)
{
    return mag_pulsar_parse_producer_msg(json, strlen(json), &M);
}

static const char *S(mag_buf *b)
{
    return mag_buf_cstr(b);
}

MAG_TEST(producer_basic)
{
    CHECK_EQ_INT(prod("{\"payload\":\"dGVzdDA=\",\"properties\":{\"k1\":\"v1\",\"k2\":\"v2\"},"
                      "\"context\":\"1\",\"key\":\"0\"}"), MAG_OK);
    CHECK_EQ_INT(M.payload.len, 5);
    CHECK_MEM(M.payload.data, "test0", 5);
    CHECK_STR(S(&M.properties_json), "{\"k1\":\"v1\",\"k2\":\"v2\"}");
    CHECK_EQ_INT(M.num_properties, 2);
    CHECK(M.has_context);
    CHECK_STR(S(&M.context), "1");
    CHECK(M.has_key);
    CHECK_STR(S(&M.key), "0");
    CHECK_EQ_INT(M.replication_clusters_json.len, 0);
    CHECK_EQ_INT(M.event_time_ms, 0);
    CHECK_EQ_INT(M.deliver_at_ms, 0);
    CHECK_EQ_INT(M.deliver_after_ms, 0);
    CHECK_EQ_INT(M.error_msg.len, 0);

    /* the same struct reused: everything is reset */
    CHECK_EQ_INT(prod("{\"payload\":\"\"}"), MAG_OK);
    CHECK_EQ_INT(M.payload.len, 0);
    CHECK_STR(S(&M.properties_json), "{}");
    CHECK_EQ_INT(M.num_properties, 0);
    CHECK(!M.has_context);
    CHECK(!M.has_key);

    /* unknown fields ignored, trailing text ignored (Jackson readValue) */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"foo\":{\"bar\":[1,{}]},\"SchemaVersion\":\"x\"} trailing"),
                 MAG_OK);
    CHECK_EQ_INT(M.payload.len, 1);
    /* last duplicate wins */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"payload\":\"Qg==\"}"), MAG_OK);
    CHECK_MEM(M.payload.data, "B", 1);
}

MAG_TEST(producer_coercions)
{
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\":5,\"key\":\"\"}"), MAG_OK);
    CHECK_STR(S(&M.context), "5");
    CHECK(M.has_key);
    CHECK_EQ_INT(M.key.len, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\":1.5,\"key\":null}"), MAG_OK);
    CHECK_STR(S(&M.context), "1.5");
    CHECK(!M.has_key);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\":true}"), MAG_OK);
    CHECK_STR(S(&M.context), "true");
    mag_producer_msg fresh;
    mag_producer_msg_init(&fresh);
    const char *empties = "{\"payload\":\"\",\"context\":\"\",\"key\":\"\"}";
    CHECK_EQ_INT(mag_pulsar_parse_producer_msg(empties, strlen(empties), &fresh), MAG_OK);
    CHECK(fresh.has_context && fresh.context.data != NULL && fresh.context.len == 0);
    CHECK(fresh.has_key && fresh.key.data != NULL && fresh.key.len == 0);
    mag_producer_msg_cleanup(&fresh);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\":null}"), MAG_OK);
    CHECK(!M.has_context);
    /* payload as a number: Jackson makes it the String "1234" */
    CHECK_EQ_INT(prod("{\"payload\":1234}"), MAG_OK);
    CHECK_EQ_INT(M.payload.len, 3);

    /* Pulsar's ProducerHandlerTest: deliverAt / deliverAfterMs */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":22222,\"deliverAfterMs\":11111}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 22222);
    CHECK_EQ_INT(M.deliver_after_ms, 11111);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":\" 123 \",\"deliverAfterMs\":9.9}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 123);
    CHECK_EQ_INT(M.deliver_after_ms, 9);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":-5,\"deliverAfterMs\":null}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 0);
    CHECK_EQ_INT(M.deliver_after_ms, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":\"\",\"sequenceId\":\"null\"}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"disableReplication\":1,\"sequenceId\":7}"), MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"disableReplication\":\"TRUE\"}"), MAG_OK);

    /* properties: scalars become text; duplicates keep the first position */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":{\"a\":1,\"b\":true,\"c\":\"x\",\"a\":\"3\"}}"),
                 MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"a\":\"3\",\"b\":\"true\",\"c\":\"x\"}");
    CHECK_EQ_INT(M.num_properties, 3);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":{\"q\\\"k\":\"l1\\nl2\",\"\":\"\"}}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"q\\\"k\":\"l1\\nl2\",\"\":\"\"}");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":null}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{}");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":{}}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{}");

    /* many properties go through the hash table */
    mag_buf j = MAG_BUF_INIT;
    mag_buf_append_str(&j, "{\"payload\":\"QQ==\",\"properties\":{");
    for (int i = 0; i < 300; i++)
        mag_buf_appendf(&j, "%s\"k%d\":\"%d\"", i ? "," : "", i % 200, i);
    mag_buf_append_str(&j, "}}");
    CHECK_EQ_INT(prod(S(&j)), MAG_OK);
    CHECK_EQ_INT(M.num_properties, 200);
    CHECK(strstr(S(&M.properties_json), "{\"k0\":\"200\",\"k1\":\"201\",") != NULL);
    CHECK(strstr(S(&M.properties_json), ",\"k199\":\"199\"}") != NULL);
    mag_buf_free(&j);

    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"replicationClusters\":[\"a\",\"b\",1]}"), MAG_OK);
    CHECK_STR(S(&M.replication_clusters_json), "[\"a\",\"b\",\"1\"]");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"replicationClusters\":[]}"), MAG_OK);
    CHECK_STR(S(&M.replication_clusters_json), "[]");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"replicationClusters\":null}"), MAG_OK);
    CHECK_EQ_INT(M.replication_clusters_json.len, 0);

    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"eventTime\":\"2021-10-29T16:01:38.967-07:00\"}"), MAG_OK);
    CHECK_EQ_INT(M.event_time_ms, 1635548498967LL);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"eventTime\":null}"), MAG_OK);
    CHECK_EQ_INT(M.event_time_ms, 0);
}

MAG_TEST(producer_json_errors)
{
    /* context is NOT echoed for deserialization errors */
    CHECK_EQ_INT(prod("{\"context\":\"c\",\"payload\":{}}"), MAG_ERR_JSON);
    CHECK(!M.has_context);
    CHECK_EQ_INT(M.context.len, 0);
    CHECK(strstr(S(&M.error_msg), "`java.lang.String` from Object value") != NULL);
    CHECK(strstr(S(&M.error_msg), "ProducerMessage[\"payload\"]") != NULL);
    CHECK_EQ_INT(prod("{\"context\":\"c\",\"payload\":\"QQ==\",\"properties\":{\"a\":{}}}"), MAG_ERR_JSON);
    CHECK(!M.has_context);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":{\"a\":[1]}}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":\"x\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":[]}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"replicationClusters\":\"a\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"replicationClusters\":[[\"a\"]]}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":\"abc\"}"), MAG_ERR_JSON);
    CHECK(strstr(S(&M.error_msg), "`long`") != NULL);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":\"1.5\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":true}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAt\":1e30}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"deliverAfterMs\":[1]}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"sequenceId\":\"x\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"disableReplication\":\"maybe\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"schemaVersion\":\"x\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"keySchema\":{}}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"valueSchema\":[]}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"valueSchema\":\"s\",\"keySchema\":1,\"schemaVersion\":\"3\"}"),
                 MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"disableReplication\":{}}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"key\":[]}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"eventTime\":{}}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("[]"), MAG_ERR_JSON);
    CHECK(strstr(S(&M.error_msg), "ProducerMessage` from Array value") != NULL);
    CHECK_EQ_INT(prod("\"x\""), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("not json"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Unexpected character (code 110) at offset 0");
    CHECK_EQ_INT(prod("{\"payload\":"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod(""), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "No content to map due to end-of-input");
    CHECK_EQ_INT(prod("  \n "), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_pulsar_parse_producer_msg("{\"payload\":\"QQ==\"}", 5, &M), MAG_ERR_JSON);
}

MAG_TEST(producer_payload_errors)
{
    /* missing/null payload: NPE with a null message on Java 11 -> errorMsg omitted */
    CHECK_EQ_INT(prod("{\"context\":\"c1\"}"), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(M.error_msg.len, 0);
    CHECK(M.has_context);
    CHECK_STR(S(&M.context), "c1");
    CHECK_EQ_INT(prod("{\"payload\":null,\"context\":\"c2\"}"), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(M.error_msg.len, 0);
    CHECK_STR(S(&M.context), "c2");

    CHECK_EQ_INT(prod("{\"payload\":\"a-b=\",\"context\":\"c3\"}"), MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Invalid Base64 message-payload error=Illegal base64 character 2d");
    CHECK_STR(S(&M.context), "c3");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ=\"}"), MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg),
              "Invalid Base64 message-payload error=Input byte array has wrong 4-byte ending unit");

    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\":\"c4\",\"eventTime\":\"yesterday\"}"),
                 MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Text 'yesterday' could not be parsed at index 0");
    CHECK_STR(S(&M.context), "c4");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"eventTime\":\"\"}"), MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Text '' could not be parsed at index 0");
    /* payload is checked before eventTime */
    CHECK_EQ_INT(prod("{\"eventTime\":\"x\",\"payload\":\"!\"}"), MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Invalid Base64 message-payload error="
              "Input byte[] should at least have 2 bytes for base64 bytes");

    /* null property value: Jackson keeps it, Pulsar's builder rejects it */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\":\"c5\",\"properties\":{\"a\":\"1\",\"k\":null}}"),
                 MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Need Non-Null value for key: k");
    CHECK_STR(S(&M.context), "c5");
    /* ...unless a later duplicate replaces it */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":{\"k\":null,\"k\":\"v\"}}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"k\":\"v\"}");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"replicationClusters\":[\"a\",null]}"), MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Need Non-Null replication cluster name");
}

MAG_TEST(producer_nul_and_escapes)
{
    /* integration test it-07 nul_characters_in_strings_preserved */
    CHECK_EQ_INT(prod("{\"payload\":\"eA==\",\"context\":\"c\\u0000x\",\"key\":\"k\\u0000y\","
                      "\"properties\":{\"p\":\"v\\u0000z\",\"n\\u0000k\":\"1\"}}"), MAG_OK);
    CHECK(M.has_context);
    CHECK_EQ_INT(M.context.len, 3);
    CHECK_MEM(M.context.data, "c\0x", 4);     /* still NUL-terminated after the length */
    CHECK_EQ_INT(M.key.len, 3);
    CHECK_MEM(M.key.data, "k\0y", 4);
    CHECK_STR(S(&M.properties_json), "{\"p\":\"v\\u0000z\",\"n\\u0000k\":\"1\"}");
    CHECK_EQ_INT(M.num_properties, 2);
    CHECK_EQ_INT(M.error_msg.len, 0);
    /* keys are compared whole (past a NUL) and after decoding */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"a\\u0000b\":\"1\",\"a\\u0000c\":\"2\","
                      "\"a\\u0000\\u0062\":\"3\"}}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"a\\u0000b\":\"3\",\"a\\u0000c\":\"2\"}");
    CHECK_EQ_INT(M.num_properties, 2);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"\\u00e9\":\"\\t\",\"\xc3\xa9\":\"\\u20ac\\/\"}}"),
                 MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"\xc3\xa9\":\"\xe2\x82\xac/\"}");
    CHECK_EQ_INT(M.error_msg.len, 0);
    /* field names match after decoding */
    CHECK_EQ_INT(prod("{\"pay\\u006coad\":\"QQ==\",\"con\\u0074ext\":\"c\"}"), MAG_OK);
    CHECK_EQ_INT(M.payload.len, 1);
    CHECK_STR(S(&M.context), "c");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"context\\u0000\":\"c\"}"), MAG_OK);   /* unknown */
    CHECK(!M.has_context);
    /* escaped payload ("\/" as PHP writes it) and eventTime */
    CHECK_EQ_INT(prod("{\"payload\":\"\\/w\\u003d=\"}"), MAG_OK);
    CHECK_EQ_INT(M.payload.len, 1);
    CHECK_EQ_INT(M.payload.data[0], 0xFF);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"eventTime\":\"2021-10-29T16:01:38.967\\u002d07:00\"}"), MAG_OK);
    CHECK_EQ_INT(M.event_time_ms, 1635548498967LL);
    CHECK_EQ_INT(M.error_msg.len, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"eventTime\":\"x\\u0000\"}"), MAG_ERR_PAYLOAD);
    static const char time_err[] = "Text 'x\0' could not be parsed at index 0";
    CHECK_EQ_INT(M.error_msg.len, sizeof time_err - 1);
    CHECK_MEM(M.error_msg.data, time_err, sizeof time_err - 1);
    /* a NUL in the payload is a bad base64 character, as in Java */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ\\u0000=\",\"context\":\"c\"}"), MAG_ERR_PAYLOAD);
    CHECK_STR(S(&M.error_msg), "Invalid Base64 message-payload error=Illegal base64 character 0");
    CHECK_STR(S(&M.context), "c");
    /* the null-key message keeps the whole key */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"k\\u0000z\":null}}"), MAG_ERR_PAYLOAD);
    static const char key_err[] = "Need Non-Null value for key: k\0z";
    CHECK_EQ_INT(M.error_msg.len, sizeof key_err - 1);
    CHECK_MEM(M.error_msg.data, key_err, sizeof key_err - 1);
    /* clusters: decoded, re-escaped, numbers as their text */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"replicationClusters\":[\"a\\u0000\",\"\\u00e9\",2.50,false]}"),
                 MAG_OK);
    CHECK_STR(S(&M.replication_clusters_json), "[\"a\\u0000\",\"\xc3\xa9\",\"2.50\",\"false\"]");
    CHECK_EQ_INT(M.error_msg.len, 0);
}

MAG_TEST(producer_numbers_exact)
{
    /* Strings coerced from numbers keep the source text (Jackson getText) */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"context\":1.50}"), MAG_OK);
    CHECK_STR(S(&M.context), "1.50");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"context\":1e3}"), MAG_OK);
    CHECK_STR(S(&M.context), "1e3");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"context\":-0,\"key\":1E+2}"), MAG_OK);
    CHECK_STR(S(&M.context), "-0");
    CHECK_STR(S(&M.key), "1E+2");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"context\":123456789012345678901234567890}"), MAG_OK);
    CHECK_STR(S(&M.context), "123456789012345678901234567890");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"n\":9007199254740993,\"f\":0.10}}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"n\":\"9007199254740993\",\"f\":\"0.10\"}");

    /* long fields: integers exactly, beyond 2^53 too */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":9007199254740993}"), MAG_OK);
    CHECK(M.deliver_at_ms == 9007199254740993LL);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":9223372036854775807}"), MAG_OK);
    CHECK(M.deliver_at_ms == INT64_MAX);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":\"9223372036854775807\"}"), MAG_OK);
    CHECK(M.deliver_at_ms == INT64_MAX);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":9223372036854775808}"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Cannot deserialize value of type `long` from Integer value (token "
              "`JsonToken.VALUE_NUMBER_INT`) (through reference chain: "
              "org.apache.pulsar.websocket.data.ProducerMessage[\"deliverAt\"])");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":-9223372036854775808}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":\"9223372036854775808\"}"), MAG_ERR_JSON);
    /* floats: the double is range-checked, then truncated like Java's cast */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":9.223372036854775807E18}"), MAG_OK);
    CHECK(M.deliver_at_ms == INT64_MAX);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":1e19}"), MAG_ERR_JSON);
    CHECK(strstr(S(&M.error_msg), "from Floating-point value (token `JsonToken.VALUE_NUMBER_FLOAT`)"));
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":1e400}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":1.5e3,\"deliverAfterMs\":-0.5}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 1500);
    CHECK_EQ_INT(M.deliver_after_ms, 0);
    /* numeric strings: Java trim (NUL included), then Long.parseLong */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":\"\\u0000 42\\t\"}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 42);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":\"4\\u00002\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"deliverAt\":\"+7\"}"), MAG_OK);
    CHECK_EQ_INT(M.deliver_at_ms, 7);
    mag_buf j = MAG_BUF_INIT;
    mag_buf_append_str(&j, "{\"payload\":\"\",\"deliverAt\":\"");
    for (int i = 0; i < 300; i++)
        mag_buf_append_str(&j, " ");
    mag_buf_append_str(&j, "00000000000000000000000000000000000000000042\"}");
    CHECK_EQ_INT(prod(S(&j)), MAG_OK);          /* long text: decoded on the heap */
    CHECK_EQ_INT(M.deliver_at_ms, 42);
    mag_buf_free(&j);

    /* disableReplication: integer tokens only (Jackson refuses floats) */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"disableReplication\":0}"), MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"disableReplication\":99999999999999999999}"), MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"disableReplication\":1.0}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"disableReplication\":\" False \"}"), MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"disableReplication\":\"fal\\u0073e\"}"), MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"disableReplication\":\"yes\"}"), MAG_ERR_JSON);
}

MAG_TEST(producer_streaming_order)
{
    /* the first problem in document order is reported, as Jackson streams */
    CHECK_EQ_INT(prod("{\"payload\":{},\"x\":"), MAG_ERR_JSON);
    CHECK(strstr(S(&M.error_msg), "ProducerMessage[\"payload\"]") != NULL);
    CHECK_EQ_INT(prod("{\"x\":tru,\"payload\":{}}"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Unexpected character (code 116) at offset 5");
    CHECK_EQ_INT(prod("{\"a\":[1,}"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Unexpected character (code 125) at offset 8");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"properties\":{\"a\":\"1\""), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Unexpected end-of-input at offset 39");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"x\":\"\\q\"}"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Unrecognized character escape (code 113) at offset 24");
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"x\":\"a\nb\"}"), MAG_ERR_JSON);
    CHECK(strstr(S(&M.error_msg), "Illegal unquoted character (code 10) at offset 24") != NULL);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"x\":01}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"x\":\"\\uD800\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("null"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Cannot deserialize value of type "
              "`org.apache.pulsar.websocket.data.ProducerMessage` from Null value (token "
              "`JsonToken.VALUE_NULL`)");
    /* text after the root object is never read */
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\"}\x01{[\"\\q"), MAG_OK);
    CHECK_EQ_INT(M.error_msg.len, 0);

    /* every occurrence of a container is bound (and checked); the last wins */
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"a\":{}},\"properties\":{}}"), MAG_ERR_JSON);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"a\\\"b\":[1]}}"), MAG_ERR_JSON);
    CHECK_STR(S(&M.error_msg), "Cannot deserialize value of type `java.lang.String` from Array "
              "value (token `JsonToken.START_ARRAY`) (through reference chain: "
              "org.apache.pulsar.websocket.data.ProducerMessage[\"properties\"]->"
              "java.util.LinkedHashMap[\"a\"b\"])");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"a\":\"1\"},\"properties\":null}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{}");
    CHECK_EQ_INT(M.num_properties, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"k\":null},\"properties\":{\"a\":\"1\"}}"), MAG_OK);
    CHECK_STR(S(&M.properties_json), "{\"a\":\"1\"}");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"properties\":{\"k\":null},\"properties\":null}"), MAG_OK);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"replicationClusters\":[null],\"replicationClusters\":[\"b\"]}"),
                 MAG_OK);
    CHECK_STR(S(&M.replication_clusters_json), "[\"b\"]");
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"replicationClusters\":[\"a\"],\"replicationClusters\":null}"),
                 MAG_OK);
    CHECK_EQ_INT(M.replication_clusters_json.len, 0);
    CHECK_EQ_INT(prod("{\"payload\":\"\",\"replicationClusters\":[\"a\",null,{}]}"), MAG_ERR_JSON);
    CHECK(strstr(S(&M.error_msg), "from Object value (token `JsonToken.START_OBJECT`) (through "
                 "reference chain: org.apache.pulsar.websocket.data.ProducerMessage"
                 "[\"replicationClusters\"]->java.util.ArrayList[2])") != NULL);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"payload\":null,\"context\":\"c\"}"), MAG_ERR_PAYLOAD);
    CHECK_EQ_INT(prod("{\"payload\":\"QQ==\",\"eventTime\":\"bad\",\"eventTime\":null}"), MAG_OK);
}

/* A typical producer frame and consumer ack parse without any malloc once
 * the message structs' buffers have grown. */
MAG_TEST(no_malloc_when_warm)
{
#if MAG_COUNT_MALLOC
    const char *frame = "{\"payload\":\"SGVsbG8sIE1hZ25ldGFyIQ==\",\"properties\":{\"app\":\"demo\","
                        "\"trace-id\":\"4bf92f3577b34da6\",\"n\":7},\"context\":\"42\",\"key\":\"user-1\","
                        "\"eventTime\":\"2021-10-29T16:01:38.967-07:00\",\"deliverAfterMs\":0,"
                        "\"replicationClusters\":[\"c1\"]}";
    const char *escaped = "{\"payload\":\"\\/w==\",\"properties\":{\"k\\u00e9\":\"v\\n\"},"
                          "\"context\":\"c\\u0000\"}";
    const char *ack = "{\"messageId\":\"CAMQADAA\"}";
    mag_producer_msg m;
    mag_consumer_cmd c;
    mag_buf err = MAG_BUF_INIT;
    mag_producer_msg_init(&m);
    mag_consumer_cmd_init(&c);
    CHECK_EQ_INT(mag_pulsar_parse_producer_msg(frame, strlen(frame), &m), MAG_OK);
    CHECK_EQ_INT(mag_pulsar_parse_producer_msg(escaped, strlen(escaped), &m), MAG_OK);
    CHECK_EQ_INT(mag_pulsar_parse_consumer_cmd(ack, strlen(ack), &c, &err), MAG_OK);
    unsigned long before = alloc_calls;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        bad += mag_pulsar_parse_producer_msg(frame, strlen(frame), &m) != MAG_OK;
        bad += mag_pulsar_parse_producer_msg(escaped, strlen(escaped), &m) != MAG_OK;
        bad += mag_pulsar_parse_consumer_cmd(ack, strlen(ack), &c, &err) != MAG_OK;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(alloc_calls - before, 0);
    CHECK_STR(S(&m.properties_json), "{\"k\xc3\xa9\":\"v\\n\"}");
    /* the counter does see allocations */
    mag_buf probe = MAG_BUF_INIT;
    mag_buf_reserve(&probe, 1);
    CHECK(alloc_calls > before);
    mag_buf_free(&probe);
    mag_producer_msg_cleanup(&m);
    mag_consumer_cmd_cleanup(&c);
    mag_buf_free(&err);
#else
    printf("no_malloc_when_warm: skipped (sanitizer build replaces malloc)\n");
#endif
}

static mag_consumer_cmd C;
static mag_buf CE;

static mag_rc cmd(const char *json)
{
    mag_buf_reset(&CE);
    return mag_pulsar_parse_consumer_cmd(json, strlen(json), &C, &CE);
}

MAG_TEST(consumer_commands)
{
    CHECK_EQ_INT(cmd("{\"messageId\":\"CAMQADAA\"}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_ACK);
    CHECK(C.has_message_id);
    CHECK_STR(S(&C.message_id), "CAMQADAA");
    CHECK_EQ_INT(cmd("{\"type\":\"negativeAcknowledge\",\"messageId\":\"x\"}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_NACK);
    CHECK_STR(S(&C.message_id), "x");
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":10}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_PERMIT);
    CHECK_EQ_INT(C.permit_messages, 10);
    CHECK(!C.has_message_id);
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":\"-5\"}"), MAG_OK);
    CHECK_EQ_INT(C.permit_messages, -5);
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":2.7}"), MAG_OK);
    CHECK_EQ_INT(C.permit_messages, 2);
    CHECK_EQ_INT(cmd("{\"type\":\"unsubscribe\"}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_UNSUBSCRIBE);
    CHECK_EQ_INT(C.permit_messages, 0);
    CHECK_EQ_INT(cmd("{\"type\":\"isEndOfTopic\"}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_IS_END_OF_TOPIC);
    CHECK_EQ_INT(cmd("{\"type\":\"Permit\",\"messageId\":5}"), MAG_OK);   /* exact compare */
    CHECK_EQ_INT(C.type, MAG_CMD_ACK);
    CHECK_STR(S(&C.message_id), "5");
    /* an empty id still has storage, so it can be passed on as a non-NULL string */
    mag_consumer_cmd fresh;
    mag_consumer_cmd_init(&fresh);
    CHECK_EQ_INT(mag_pulsar_parse_consumer_cmd("{\"messageId\":\"\"}", 16, &fresh, NULL), MAG_OK);
    CHECK(fresh.has_message_id);
    CHECK(fresh.message_id.data != NULL);
    CHECK_EQ_INT(fresh.message_id.len, 0);
    mag_consumer_cmd_cleanup(&fresh);
    CHECK_EQ_INT(cmd("{}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_ACK);
    CHECK(!C.has_message_id);
    CHECK_EQ_INT(cmd("{\"type\":null,\"messageId\":null,\"x\":[1]}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_ACK);
    CHECK(!C.has_message_id);
}

MAG_TEST(consumer_errors)
{
    CHECK_EQ_INT(cmd("{\"type\":\"permit\"}"), MAG_ERR_JSON);
    CHECK_STR(S(&CE), "Missing required permitMessages field for 'permit' command");
    CHECK_EQ_INT(C.type, MAG_CMD_PERMIT);   /* lets a reader ignore this case */
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":null,\"messageId\":\"m\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(C.type, MAG_CMD_PERMIT);
    CHECK_STR(S(&C.message_id), "m");
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":\"\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"messageId\":{}}"), MAG_ERR_JSON);
    CHECK(strstr(S(&CE), "ConsumerCommand[\"messageId\"]") != NULL);
    CHECK_EQ_INT(cmd("{\"type\":[]}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"ackType\":{}}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"ackType\":\"cumulative\",\"messageId\":\"m\"}"), MAG_OK);
    CHECK_EQ_INT(cmd("{\"permitMessages\":3000000000}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"permitMessages\":\"abc\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"permitMessages\":true}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("nope"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("[1]"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd(""), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_pulsar_parse_consumer_cmd("{", 1, &C, NULL), MAG_ERR_JSON);
    /* a failed parse does not leave a stale id behind */
    CHECK_EQ_INT(cmd("{\"messageId\":\"a\",\"type\":{}}"), MAG_ERR_JSON);
    CHECK(!C.has_message_id);
    CHECK_EQ_INT(cmd("{\"messageId\":\"a\",\"x\":[}"), MAG_ERR_JSON);
    CHECK(!C.has_message_id);
    CHECK_STR(S(&CE), "Unexpected character (code 125) at offset 22");
    /* Integer: int range exactly; floats range-checked before truncation */
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":2147483647}"), MAG_OK);
    CHECK_EQ_INT(C.permit_messages, 2147483647);
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":-2147483648}"), MAG_OK);
    CHECK_EQ_INT(C.permit_messages, -2147483648LL);
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":2147483646.9}"), MAG_OK);
    CHECK_EQ_INT(C.permit_messages, 2147483646);
    CHECK_EQ_INT(cmd("{\"type\":\"permit\",\"permitMessages\":1e2}"), MAG_OK);
    CHECK_EQ_INT(C.permit_messages, 100);
    CHECK_EQ_INT(cmd("{\"permitMessages\":2147483648}"), MAG_ERR_JSON);
    CHECK_STR(S(&CE), "Cannot deserialize value of type `java.lang.Integer` from Integer value "
              "(token `JsonToken.VALUE_NUMBER_INT`) (through reference chain: "
              "org.apache.pulsar.websocket.data.ConsumerCommand[\"permitMessages\"])");
    CHECK_EQ_INT(cmd("{\"permitMessages\":2147483647.5}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"permitMessages\":\"2147483648\"}"), MAG_ERR_JSON);
    CHECK_EQ_INT(cmd("{\"permitMessages\":99999999999999999999}"), MAG_ERR_JSON);
    /* err may be NULL */
    CHECK_EQ_INT(mag_pulsar_parse_consumer_cmd("{\"type\":[]}", 11, &C, NULL), MAG_ERR_JSON);
    CHECK_EQ_INT(mag_pulsar_parse_consumer_cmd("[", 1, &C, NULL), MAG_ERR_JSON);
}

MAG_TEST(consumer_nul_and_escapes)
{
    CHECK_EQ_INT(cmd("{\"messageId\":\"ab\\u0000cd\"}"), MAG_OK);
    CHECK(C.has_message_id);
    CHECK_EQ_INT(C.message_id.len, 5);
    CHECK_MEM(C.message_id.data, "ab\0cd", 6);
    CHECK_EQ_INT(cmd("{\"type\":\"perm\\u0069t\",\"permitMessages\":1}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_PERMIT);
    CHECK_EQ_INT(cmd("{\"type\":\"permit\\u0000\",\"permitMessages\":1}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_ACK);
    CHECK_EQ_INT(cmd("{\"\\u0074ype\":\"unsubscribe\"}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_UNSUBSCRIBE);
    CHECK_EQ_INT(cmd("{\"type\":\"isEndOfTopic\",\"type\":null}"), MAG_OK);
    CHECK_EQ_INT(C.type, MAG_CMD_ACK);
    CHECK_EQ_INT(cmd("{\"messageId\":1.50}"), MAG_OK);
    CHECK_STR(S(&C.message_id), "1.50");
}

static const char *str_esc(const char *s, size_t n)
{
    static mag_buf b = MAG_BUF_INIT;
    mag_buf_reset(&b);
    mag_json_append_string(&b, s, n);
    return mag_buf_cstr(&b);
}

MAG_TEST(append_string)
{
    CHECK_STR(str_esc("", 0), "\"\"");
    CHECK_STR(str_esc("plain/text", 10), "\"plain/text\"");
    CHECK_STR(str_esc("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
    CHECK_STR(str_esc("\b\t\n\f\r\x01\x1f\x7f", 8), "\"\\b\\t\\n\\f\\r\\u0001\\u001F\x7f\"");
    CHECK_STR(str_esc("x\0y", 3), "\"x\\u0000y\"");
    CHECK_STR(str_esc("caf\xc3\xa9 \xe3\x80\x81 \xf0\x9f\x98\x80", 14),
              "\"caf\xc3\xa9 \xe3\x80\x81 \xf0\x9f\x98\x80\"");
    CHECK_STR(str_esc("a\xff" "b\xc3", 4), "\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"");
}

MAG_TEST(format_receipts)
{
    mag_buf b = MAG_BUF_INIT;
    mag_pulsar_format_receipt_ok(&b, "CAEQADAA", "1", 1);
    CHECK_STR(S(&b), "{\"result\":\"ok\",\"messageId\":\"CAEQADAA\",\"context\":\"1\","
              "\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    mag_pulsar_format_receipt_ok(&b, "CAMQADAA", NULL, 0);
    CHECK_STR(S(&b), "{\"result\":\"ok\",\"messageId\":\"CAMQADAA\",\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    mag_pulsar_format_receipt_ok(&b, "CAMQADAA", "", 0);
    CHECK_STR(S(&b), "{\"result\":\"ok\",\"messageId\":\"CAMQADAA\",\"context\":\"\","
              "\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    const char *em = "Invalid Base64 message-payload error=Illegal base64 character 2d";
    mag_pulsar_format_receipt_error(&b, 7, em, strlen(em), "1", 1);
    CHECK_STR(S(&b), "{\"result\":\"send-error:7\",\"errorMsg\":\"Invalid Base64 message-payload "
              "error=Illegal base64 character 2d\",\"context\":\"1\",\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    mag_pulsar_format_receipt_error(&b, 7, NULL, 0, "c", 1);
    CHECK_STR(S(&b), "{\"result\":\"send-error:7\",\"context\":\"c\",\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    mag_pulsar_format_receipt_error(&b, 3, "bad \"json\"", 10, NULL, 0);
    CHECK_STR(S(&b), "{\"result\":\"send-error:3\",\"errorMsg\":\"bad \\\"json\\\"\","
              "\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    mag_pulsar_format_receipt_error(&b, 8, "", 0, NULL, 0);
    CHECK_STR(S(&b), "{\"result\":\"send-error:8\",\"errorCode\":0,\"schemaVersion\":0}");
    mag_buf_reset(&b);
    mag_pulsar_format_end_of_topic(&b, false);
    CHECK_STR(S(&b), "{\"endOfTopic\":false}");
    mag_buf_reset(&b);
    mag_pulsar_format_end_of_topic(&b, true);
    CHECK_STR(S(&b), "{\"endOfTopic\":true}");
    mag_buf_free(&b);
}

MAG_TEST(format_delivery)
{
    setenv("TZ", "UTC0", 1);
    tzset();
    mag_buf b = MAG_BUF_INIT;
    struct mag_delivery d = {
        .msgid_b64 = "CAMQADAA",
        .payload = (const uint8_t *)"test0", .payload_len = 5,
        .properties_json = "{\"k\":\"v\"}", .properties_json_len = 9,
        .publish_time_ms = 1651399200000LL,
        .redelivery_count = 0,
    };
    mag_pulsar_format_delivery(&b, &d);
    CHECK_STR(S(&b), "{\"messageId\":\"CAMQADAA\",\"payload\":\"dGVzdDA=\",\"properties\":{\"k\":\"v\"},"
              "\"publishTime\":\"2022-05-01T10:00:00Z\",\"redeliveryCount\":0}");
    mag_buf_reset(&b);
    d.properties_json_len = 0;
    d.redelivery_count = 3;
    d.event_time_ms = 1651399200123LL;
    d.has_key = true;
    d.key = "k\"1";
    d.key_len = 3;
    mag_pulsar_format_delivery(&b, &d);
    CHECK_STR(S(&b), "{\"messageId\":\"CAMQADAA\",\"payload\":\"dGVzdDA=\",\"properties\":{},"
              "\"publishTime\":\"2022-05-01T10:00:00Z\",\"redeliveryCount\":3,"
              "\"eventTime\":\"2022-05-01T10:00:00.123Z\",\"key\":\"k\\\"1\"}");
    mag_buf_reset(&b);
    d.has_key = true;
    d.key_len = 0;
    d.event_time_ms = 0;
    d.payload_len = 0;
    mag_pulsar_format_delivery(&b, &d);
    CHECK_STR(S(&b), "{\"messageId\":\"CAMQADAA\",\"payload\":\"\",\"properties\":{},"
              "\"publishTime\":\"2022-05-01T10:00:00Z\",\"redeliveryCount\":3,\"key\":\"\"}");

    /* no allocation when the buffer already has room */
    mag_buf_reset(&b);
    mag_buf_reserve(&b, 4096);
    uint8_t *before = b.data;
    size_t cap = b.cap;
    d.payload_len = 5;
    mag_pulsar_format_delivery(&b, &d);
    mag_pulsar_format_receipt_ok(&b, "CAMQADAA", "ctx", 3);
    CHECK(b.data == before);
    CHECK_EQ_INT(b.cap, cap);
    mag_buf_free(&b);
}

int main(void)
{
    mag_producer_msg_init(&M);
    mag_consumer_cmd_init(&C);
    RUN(producer_basic);
    RUN(producer_coercions);
    RUN(producer_json_errors);
    RUN(producer_payload_errors);
    RUN(producer_nul_and_escapes);
    RUN(producer_numbers_exact);
    RUN(producer_streaming_order);
    RUN(no_malloc_when_warm);
    RUN(consumer_commands);
    RUN(consumer_errors);
    RUN(consumer_nul_and_escapes);
    RUN(append_string);
    RUN(format_receipts);
    RUN(format_delivery);
    mag_producer_msg_cleanup(&M);
    mag_consumer_cmd_cleanup(&C);
    mag_buf_free(&CE);
    return mag_test_summary();
}
