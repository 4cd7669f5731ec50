/* test_ns_policies.c -- namespace message TTL and auto topic creation
 * (src/broker/ns_policies.c), the TTL check and the message-level admin
 * operations (src/broker/admin_messages.c), on real LMDB storage.
 *
 * The policy codec round trip, POST validation with Pulsar's texts, the
 * auto-creation decision at topic open (namespace override over the broker
 * configuration), the periodic expiry (mag_admin_expiry_check, called
 * directly), examinemessage positions and the health check.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/broker/broker_internal.h"
#include "mag_test.h"
#include "broker_fixture.h"

#define BODY(s) (const uint8_t *)(s), strlen(s)

static mag_broker *open_broker(mag_store *s, bool auto_create, int64_t default_ttl)
{
    return fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = auto_create,
                                                       .group_commit_max_messages = 100000,
                                                       .default_message_ttl_s = default_ttl });
}

static void on_result(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id)
{
    (void)token, (void)id;
    *(mag_rc *)ctx = rc;
}

static void on_closed(void *ctx)
{
    (void)ctx;
}

static const struct mag_producer_events rc_pev = { .on_result = on_result, .on_closed = on_closed };

static void produce(mag_broker *b, const mag_topic_name *t, const char *text)
{
    mag_producer *p;
    mag_rc last = MAG_ERR_INTERNAL;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_producer_open(b, t, NULL, &rc_pev, &last, &p, &err), MAG_OK);
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.sequence_id = -1;
    e.payload = (const uint8_t *)text;
    e.payload_len = strlen(text);
    CHECK_EQ_INT(mag_producer_publish(p, &e, 0), MAG_OK);
    mag_broker_run(b);
    CHECK_EQ_INT(last, MAG_OK);
    mag_producer_close(p);
    mag_buf_free(&err);
}

static uint64_t backlog(mag_broker *b, const mag_topic_name *t, const char *sub)
{
    mag_topic *topic = mag_strmap_get(&b->topics, t->full, strlen(t->full));
    CHECK(topic != NULL);
    mag_sub *s = topic ? mag_strmap_get(&topic->subs, sub, strlen(sub)) : NULL;
    CHECK(s != NULL);
    return s ? mag_admin_sub_backlog(s) : 0;
}

MAG_TEST(test_policy_codec_round_trip)
{
    struct mag_ns_policy p, again;
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;
    const char *in = "{\"message_ttl_in_seconds\":\"90\",\"autoTopicCreationOverride\":"
                     "{\"allowAutoTopicCreation\":true,\"topicType\":\"partitioned\","
                     "\"defaultNumPartitions\":4}}";
    CHECK_EQ_INT(mag_ns_policy_parse(BODY(in), &p, &err), MAG_OK);
    CHECK(p.has_message_ttl && p.message_ttl_s == 90);
    CHECK(p.has_auto_topic && p.auto_topic.allow && p.auto_topic.partitioned);
    CHECK_EQ_INT(p.auto_topic.partitions, 4);
    mag_ns_policy_format(&p, &out);
    CHECK_STR(mag_buf_cstr(&out),
              "{\"backlog_quota_map\":{},\"message_ttl_in_seconds\":90,\"autoTopicCreationOverride\":"
              "{\"allowAutoTopicCreation\":true,\"topicType\":\"partitioned\",\"defaultNumPartitions\":4}}");
    CHECK_EQ_INT(mag_ns_policy_parse(out.data, out.len, &again, &err), MAG_OK);
    CHECK(memcmp(&again, &p, sizeof p) == 0);
    CHECK_EQ_INT(mag_ns_policy_parse(BODY("{\"message_ttl_in_seconds\":[]}"), &p, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_ns_policy_parse(BODY("{\"autoTopicCreationOverride\":7}"), &p, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK(!p.has_message_ttl && !p.has_auto_topic);     /* defaults after an error */
    mag_buf_free(&err);
    mag_buf_free(&out);
}

MAG_TEST(test_auto_topic_policy)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64u << 20);
    mag_broker *b = open_broker(s, true, 0);
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;
    const char *no_count = "{\"allowAutoTopicCreation\":true,\"topicType\":\"partitioned\"}";
    CHECK_EQ_INT(mag_admin_auto_topic_set(b, "public", "default", BODY(no_count), &err),
                 MAG_ERR_PRECONDITION);
    CHECK_STR(mag_buf_cstr(&err), "Invalid configuration for autoTopicCreationOverride. the detail is "
                                  "[defaultNumPartitions] cannot be null when the type is partitioned.");
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_admin_auto_topic_set(b, "public", "nope", BODY("{}"), &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_auto_topic_set(b, "public", "default",
                                          BODY("{\"allowAutoTopicCreation\":false}"), &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_admin_auto_topic_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"allowAutoTopicCreation\":false}");

    mag_topic_name t = topic("persistent://public/default/denied");
    mag_topic *tp;
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_broker_topic_open(b, &t, &tp, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_lookup_check(b, &t, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_topic_create(b, &t, &err), MAG_OK);   /* explicit create still works */

    CHECK_EQ_INT(mag_admin_auto_topic_set(b, "public", "default",
                                          BODY("{\"allowAutoTopicCreation\":true,\"topicType\":"
                                               "\"partitioned\",\"defaultNumPartitions\":2}"),
                                          &err),
                 MAG_OK);
    mag_topic_name pt = topic("persistent://public/default/parted");
    uint32_t n = 0;
    CHECK_EQ_INT(mag_broker_lookup_partitions(b, &pt, &n, &err), MAG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(mag_admin_auto_topic_remove(b, "public", "default", &err), MAG_OK);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_auto_topic_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_EQ_INT(out.len, 0);
    mag_topic_name np = topic("persistent://public/default/plain");
    CHECK_EQ_INT(mag_broker_lookup_partitions(b, &np, &n, &err), MAG_OK);
    CHECK_EQ_INT(n, 0);                                          /* the broker's type again */
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    mag_buf_free(&out);
    fixture_dir_remove();
}

MAG_TEST(test_message_ttl_expiry)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64u << 20);
    mag_broker *b = open_broker(s, true, 0);
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_message_ttl_set(b, "public", "default", BODY("-5"), &err),
                 MAG_ERR_PRECONDITION);
    CHECK_STR(mag_buf_cstr(&err), "Invalid value for message TTL");
    CHECK_EQ_INT(mag_admin_message_ttl_set(b, "public", "default", BODY("true"), &err),
                 MAG_ERR_BAD_REQUEST);
    mag_topic_name t = topic("persistent://public/default/ttl");
    mag_admin_position earliest = { .kind = MAG_POSITION_EARLIEST };
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "a", &earliest, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "b", &earliest, &err), MAG_OK);
    produce(b, &t, "old");
    usleep(1100 * 1000);
    produce(b, &t, "new");
    mag_admin_expiry_check(b);
    CHECK_EQ_INT(backlog(b, &t, "a"), 2);                       /* no TTL: nothing expires */
    CHECK_EQ_INT(mag_admin_message_ttl_set(b, "public", "default", BODY("1"), &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_message_ttl_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "1");
    mag_admin_expiry_check(b);
    CHECK_EQ_INT(backlog(b, &t, "a"), 1);                       /* "old" expired ... */
    CHECK_EQ_INT(backlog(b, &t, "b"), 1);                       /* ... on every subscription */
    mag_admin_message m;
    mag_admin_message_init(&m);
    CHECK_EQ_INT(mag_admin_peek(b, &t, "a", 1, &m, &err), MAG_OK);
    CHECK(m.payload.len == 3 && memcmp(m.payload.data, "new", 3) == 0);
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_message_ttl_remove(b, "public", "default", &err), MAG_OK);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_message_ttl_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_EQ_INT(out.len, 0);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    mag_buf_free(&out);
    fixture_dir_remove();
}

MAG_TEST(test_examine_and_health)
{
    fixture_dir_new();
    mag_store *s = fixture_store(64u << 20);
    mag_broker *b = open_broker(s, true, 0);
    mag_buf err = MAG_BUF_INIT;
    mag_topic_name t = topic("persistent://public/default/exam");
    mag_admin_message m;
    mag_admin_message_init(&m);
    CHECK_EQ_INT(mag_admin_examine(b, &t, true, 1, &m, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_topic_create(b, &t, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_examine(b, &t, true, 1, &m, &err), MAG_ERR_PRECONDITION);
    produce(b, &t, "a");
    produce(b, &t, "b");
    produce(b, &t, "c");
    CHECK_EQ_INT(mag_admin_examine(b, &t, true, 2, &m, &err), MAG_OK);
    CHECK(m.payload.len == 1 && m.payload.data[0] == 'b');
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_examine(b, &t, false, 1, &m, &err), MAG_OK);
    CHECK(m.payload.len == 1 && m.payload.data[0] == 'c');
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_examine(b, &t, false, 0, &m, &err), MAG_OK);     /* < 1 -> 1 */
    CHECK(m.payload.len == 1 && m.payload.data[0] == 'c');
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_examine(b, &t, false, 7, &m, &err), MAG_OK);     /* clamped */
    CHECK(m.payload.len == 1 && m.payload.data[0] == 'a');
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_health_check(b, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_health_check(b, &err), MAG_OK);
    CHECK_EQ_INT(b->adm.health_checks, 2);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

int main(void)
{
    RUN(test_policy_codec_round_trip);
    RUN(test_auto_topic_policy);
    RUN(test_message_ttl_expiry);
    RUN(test_examine_and_health);
    return mag_test_summary();
}
