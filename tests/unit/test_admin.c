/* test_admin.c -- the broker's admin API on real LMDB storage.
 *
 * Pure parts first (namespace policy, retention, backlog quota and message-id
 * bodies, name rules), then tenants/namespaces with Pulsar's error codes and
 * the namespace check on topic creation, topic/partition/subscription
 * operations (skip, expire, reset, peek, forced deletes with on_closed),
 * statistics read back as JSON, trimming with segment granularity and
 * retention, backlog quotas (503 at open, blocked publish, eviction), the
 * Prometheus text and a deleted dedup topic freed whole.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mag/broker/admin.h"
#include "mag/broker/broker.h"
#include "mag_test.h"
#include "broker_fixture.h"

static mag_store *open_store(void)
{
    return fixture_store(256u << 20);
}

static mag_broker *open_broker(mag_store *s, bool auto_create)
{
    return fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = auto_create,
                                                       .group_commit_max_messages = 100000 });
}

#define BODY(s) (const uint8_t *)(s), strlen(s)

/* ---- fake clients ---- */


struct fake_consumer {
    int got, closed;
    uint64_t last_entry;
};

static void on_message(void *ctx, const mag_msgid *id, const mag_entry *e, int32_t rc,
                       bool first, uint32_t remaining)
{
    (void)first;
    (void)remaining;
    (void)e, (void)rc;
    struct fake_consumer *fc = ctx;
    fc->got++;
    fc->last_entry = id->entry;
}

static void c_closed(void *ctx)
{
    ((struct fake_consumer *)ctx)->closed++;
}

static const struct mag_consumer_events cev = { .on_message = on_message, .on_closed = c_closed };

/* Publish text with the property k=v. */
static mag_rc publish_kv(mag_producer *p, const char *text)
{
    mag_entry e;
    memset(&e, 0, sizeof e);
    e.sequence_id = -1;
    e.payload = (const uint8_t *)text;
    e.payload_len = strlen(text);
    e.properties_json = "{\"k\":\"v\"}";
    e.properties_json_len = 9;
    return mag_producer_publish(p, &e, 0);
}

/* Publish n messages "m<i>" on topic t through a temporary producer. */
static void produce(mag_broker *b, const mag_topic_name *t, int n)
{
    struct fake_producer fp = { 0 };
    mag_producer *p;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_broker_producer_open(b, t, NULL, &pev, &fp, &p, &err), MAG_OK);
    for (int i = 0; i < n; i++) {
        char text[24];
        snprintf(text, sizeof text, "m%d", i);
        CHECK_EQ_INT(publish_kv(p, text), MAG_OK);
    }
    mag_broker_run(b);
    CHECK_EQ_INT(fp.results, n);
    CHECK_EQ_INT(fp.last_rc, n ? MAG_OK : 0);
    mag_producer_close(p);
    mag_buf_free(&err);
}

static mag_rc open_consumer(mag_broker *b, const mag_topic_name *t, const char *sub,
                            struct fake_consumer *fc, mag_consumer **c)
{
    struct mag_consumer_opts o;
    memset(&o, 0, sizeof o);
    o.subscription = sub;
    o.type = MAG_SUB_SHARED;
    o.durable = true;
    o.start = MAG_START_EARLIEST;
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = mag_broker_consumer_open(b, t, &o, &cev, fc, c, &err);
    mag_buf_free(&err);
    return rc;
}

/* Parse a JSON document produced by the admin API (caller deletes). */
static cJSON *json(const mag_buf *b)
{
    cJSON *j = cJSON_ParseWithLength((const char *)b->data, b->len);
    CHECK(j != NULL);
    return j;
}

/* Number at a '/'-separated path of object keys. */
static double num_at(const cJSON *j, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = j;
    for (char *k = strtok(buf, "/"); k && cur; k = strtok(NULL, "/"))
        cur = cJSON_GetObjectItemCaseSensitive(cur, k);
    CHECK(cJSON_IsNumber(cur));
    return cJSON_IsNumber(cur) ? cur->valuedouble : -12345;
}

static double stat(mag_broker *b, const mag_topic_name *t, const char *path)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_topic_stats(b, t, &out, &err), MAG_OK);
    cJSON *j = json(&out);
    double v = num_at(j, path);
    cJSON_Delete(j);
    mag_buf_free(&out);
    mag_buf_free(&err);
    return v;
}

static double internal_stat(mag_broker *b, const mag_topic_name *t, const char *path)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_internal_stats(b, t, &out, &err), MAG_OK);
    cJSON *j = json(&out);
    double v = num_at(j, path);
    cJSON_Delete(j);
    mag_buf_free(&out);
    mag_buf_free(&err);
    return v;
}

/* ---- pure codecs ---- */

MAG_TEST(test_policy_codec)
{
    struct mag_ns_policy p;
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_ns_policy_parse(NULL, 0, &p, &err), MAG_OK);
    CHECK(!p.has_retention && !p.quota[0].set && !p.quota[1].set);
    mag_ns_policy_format(&p, &out);
    CHECK_STR(mag_buf_cstr(&out), "{\"backlog_quota_map\":{}}");

    const char *in = "{\"bundles\":{\"numBundles\":4},\"retention_policies\":{\"retentionTimeInMinutes\":"
                     "\"60\",\"retentionSizeInMB\":-1},\"backlog_quota_map\":{\"destination_storage\":"
                     "{\"limit\":10,\"policy\":\"producer_request_hold\"},\"message_age\":{\"limitTime\":"
                     "30.9,\"policy\":\"consumer_backlog_eviction\"}}}";
    CHECK_EQ_INT(mag_ns_policy_parse(BODY(in), &p, &err), MAG_OK);
    CHECK(p.has_retention);
    CHECK_EQ_INT(p.retention_minutes, 60);      /* numeric string coerced, as Jackson */
    CHECK_EQ_INT(p.retention_mb, -1);
    CHECK_EQ_INT(p.quota[MAG_QUOTA_DESTINATION_STORAGE].limit_size, 10);
    CHECK_EQ_INT(p.quota[MAG_QUOTA_DESTINATION_STORAGE].limit_time, -1);
    CHECK_EQ_INT(p.quota[MAG_QUOTA_MESSAGE_AGE].limit_time, 30);   /* float truncated */
    CHECK_EQ_INT(p.quota[MAG_QUOTA_MESSAGE_AGE].policy, MAG_QUOTA_CONSUMER_BACKLOG_EVICTION);
    mag_buf_reset(&out);
    mag_ns_policy_format(&p, &out);
    CHECK_STR(mag_buf_cstr(&out),
              "{\"retention_policies\":{\"retentionTimeInMinutes\":60,\"retentionSizeInMB\":-1},"
              "\"backlog_quota_map\":{\"destination_storage\":{\"limit\":10,\"limitSize\":10,"
              "\"limitTime\":-1,\"policy\":\"producer_request_hold\"},\"message_age\":{\"limit\":-1,"
              "\"limitSize\":-1,\"limitTime\":30,\"policy\":\"consumer_backlog_eviction\"}}}");
    /* The stored form parses back to the same policy. */
    struct mag_ns_policy again;
    CHECK_EQ_INT(mag_ns_policy_parse(out.data, out.len, &again, &err), MAG_OK);
    CHECK(memcmp(&again, &p, sizeof p) == 0);

    CHECK_EQ_INT(mag_ns_policy_parse(BODY("[1]"), &p, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_ns_policy_parse(BODY("{\"backlog_quota_map\":{\"nope\":{}}}"), &p, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_ns_policy_parse(BODY("{\"retention_policies\":{\"retentionSizeInMB\":true}}"), &p,
                                     &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK(!p.has_retention);                    /* defaults after an error */
    mag_buf_free(&err);
    mag_buf_free(&out);
}

MAG_TEST(test_retention_and_quota_bodies)
{
    int64_t m, s;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_retention_parse(BODY("{\"retentionTimeInMinutes\":10,\"retentionSizeInMB\":-1}"), &m,
                                     &s, &err),
                 MAG_OK);
    CHECK_EQ_INT(m, 10);
    CHECK_EQ_INT(s, -1);
    CHECK_EQ_INT(mag_retention_parse(BODY("{}"), &m, &s, &err), MAG_OK);
    CHECK_EQ_INT(m, 0);
    CHECK_EQ_INT(s, 0);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_retention_parse(BODY("{\"retentionTimeInMinutes\":10,\"retentionSizeInMB\":0}"), &m,
                                     &s, &err),
                 MAG_ERR_PRECONDITION);
    CHECK(strstr(mag_buf_cstr(&err), "Setting a single time or size limit to 0 is invalid") != NULL);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_retention_parse(BODY("{\"retentionTimeInMinutes\":-2,\"retentionSizeInMB\":5}"), &m,
                                     &s, &err),
                 MAG_ERR_PRECONDITION);
    CHECK_STR(mag_buf_cstr(&err), "Invalid retention policy: time limit must be >= -1");
    CHECK_EQ_INT(mag_retention_parse(BODY("{oops"), &m, &s, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_retention_parse(BODY("5"), &m, &s, &err), MAG_ERR_BAD_REQUEST);

    struct mag_backlog_quota q;
    CHECK_EQ_INT(mag_backlog_quota_parse(BODY("{\"limitSize\":2048,\"limit\":1,\"policy\":"
                                              "\"producer_exception\"}"), &q, &err),
                 MAG_OK);
    CHECK(q.set);
    CHECK_EQ_INT(q.limit_size, 2048);           /* limitSize wins over the old name */
    CHECK_EQ_INT(q.limit_time, -1);
    CHECK_EQ_INT(q.policy, MAG_QUOTA_PRODUCER_EXCEPTION);
    CHECK_EQ_INT(mag_backlog_quota_parse(BODY("{\"limit\":1}"), &q, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_backlog_quota_parse(BODY("{\"limit\":1,\"policy\":\"drop\"}"), &q, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_backlog_quota_parse(BODY("{\"limit\":[1],\"policy\":\"producer_exception\"}"), &q,
                                         &err),
                 MAG_ERR_BAD_REQUEST);

    CHECK(mag_admin_name_valid("my-tenant_1=a:b.c"));
    CHECK(!mag_admin_name_valid(""));
    CHECK(!mag_admin_name_valid("a/b"));
    CHECK(!mag_admin_name_valid("a b"));
    CHECK(!mag_admin_name_valid("caf\xC3\xA9"));
    mag_buf_free(&err);
}

MAG_TEST(test_position_parse)
{
    mag_admin_position p;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_position_parse(NULL, 0, &p, &err), MAG_OK);
    CHECK_EQ_INT(p.kind, MAG_POSITION_LATEST);
    CHECK_EQ_INT(mag_admin_position_parse(BODY("{\"ledgerId\":9223372036854775807,"
                                               "\"entryId\":9223372036854775807,\"partitionIndex\":-1}"),
                                          &p, &err),
                 MAG_OK);
    CHECK_EQ_INT(p.kind, MAG_POSITION_LATEST);
    CHECK_EQ_INT(mag_admin_position_parse(BODY("{\"ledgerId\":-1,\"entryId\":-1}"), &p, &err), MAG_OK);
    CHECK_EQ_INT(p.kind, MAG_POSITION_EARLIEST);
    CHECK_EQ_INT(mag_admin_position_parse(BODY("{\"ledgerId\":7,\"entryId\":3,\"isExcluded\":true}"), &p,
                                          &err),
                 MAG_OK);
    CHECK_EQ_INT(p.kind, MAG_POSITION_ID);
    CHECK_EQ_INT(p.ledger, 7);
    CHECK_EQ_INT(p.entry, 3);
    CHECK(p.excluded);
    CHECK_EQ_INT(mag_admin_position_parse(BODY("{\"ledgerId\":7}"), &p, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_admin_position_parse(BODY("{\"ledgerId\":\"7\",\"entryId\":1}"), &p, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_admin_position_parse(BODY("nope"), &p, &err), MAG_ERR_BAD_REQUEST);
    mag_buf_free(&err);
}

/* ---- tenants and namespaces ---- */

MAG_TEST(test_tenants_and_namespaces)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s, true);
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_tenants_list(b, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"public\"]");
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_tenant_get(b, "public", "local", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"adminRoles\":[],\"allowedClusters\":[\"local\"]}");
    CHECK_EQ_INT(mag_admin_tenant_get(b, "nope", "local", &out, &err), MAG_ERR_NOT_FOUND);

    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "local", true, NULL, 0, &err), MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "local", true, BODY("{\"allowedClusters\":[\"x\"]}"),
                                      &err),
                 MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "local", true, BODY("{oops"), &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_admin_tenant_put(b, "a b", "local", true, BODY("{\"allowedClusters\":[\"local\"]}"),
                                      &err),
                 MAG_ERR_PRECONDITION);
    const char *info = "{\"adminRoles\":[\"ops\"],\"allowedClusters\":[\"local\"]}";
    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "local", false, BODY(info), &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "local", true, BODY(info), &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "local", true, BODY(info), &err), MAG_ERR_CONFLICT);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_tenant_get(b, "acme", "local", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), info);

    CHECK_EQ_INT(mag_admin_namespace_create(b, "ghost", "ns", NULL, 0, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_namespace_create(b, "acme", "n*s", NULL, 0, &err), MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_namespace_create(b, "acme", "ns",
                                            BODY("{\"retention_policies\":{\"retentionTimeInMinutes\":0,"
                                                 "\"retentionSizeInMB\":5}}"),
                                            &err),
                 MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_namespace_create(b, "acme", "ns", NULL, 0, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_namespace_create(b, "acme", "ns", NULL, 0, &err), MAG_ERR_CONFLICT);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_namespaces_list(b, "acme", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"acme/ns\"]");
    CHECK_EQ_INT(mag_admin_namespaces_list(b, "ghost", &out, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_tenant_delete(b, "acme", false, &err), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_admin_tenant_delete(b, "acme", true, &err), MAG_ERR_METHOD);

    /* Topics need their namespace (v2); v1 names are accepted like Pulsar, and their creation
       registers the tenant and v1 namespace so that the admin API lists them. */
    mag_topic_name missing = topic("persistent://acme/other/t");
    struct fake_producer fp = { 0 };
    mag_producer *p;
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_broker_producer_open(b, &missing, NULL, &pev, &fp, &p, &err), MAG_ERR_NOT_FOUND);
    CHECK_STR(mag_buf_cstr(&err), "Namespace not found: acme/other");
    mag_topic_name v1 = topic("persistent://legacy/cluster/other/t");
    CHECK_EQ_INT(mag_broker_producer_open(b, &v1, NULL, &pev, &fp, &p, &err), MAG_OK);
    mag_producer_close(p);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_namespaces_list(b, "legacy", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"legacy/cluster/other\"]");

    mag_topic_name t = topic("persistent://acme/ns/t");
    produce(b, &t, 1);
    CHECK_EQ_INT(mag_admin_namespace_delete(b, "acme", "ns", false, &err), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &t, false, false, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_namespace_delete(b, "acme", "ns", true, &err), MAG_ERR_METHOD);
    CHECK_EQ_INT(mag_admin_namespace_delete(b, "acme", "ns", false, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_namespace_delete(b, "acme", "ns", false, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_tenant_delete(b, "acme", false, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_tenant_delete(b, "acme", false, &err), MAG_ERR_NOT_FOUND);
    mag_broker_free(b);
    mag_store_close(s);

    /* A restart registers the namespaces of stored topics (the v1 one here). */
    s = open_store();
    b = open_broker(s, true);
    CHECK(mag_admin_namespace_exists(b, "public/default"));
    CHECK(mag_admin_namespace_exists(b, "legacy/cluster/other"));
    CHECK(!mag_admin_namespace_exists(b, "acme/ns"));
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&out);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* ---- topics, partitions, statistics ---- */

MAG_TEST(test_topics_partitions_and_stats)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s, false);
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_topic_name t = topic("persistent://public/default/t");
    CHECK_EQ_INT(mag_admin_topic_create(b, &t, &err), MAG_OK);      /* auto-creation is off */
    CHECK_EQ_INT(mag_admin_topic_create(b, &t, &err), MAG_ERR_CONFLICT);
    mag_topic_name nons = topic("persistent://public/nope/t");
    CHECK_EQ_INT(mag_admin_topic_create(b, &nons, &err), MAG_ERR_NOT_FOUND);

    mag_topic_name pt = topic("persistent://public/default/pt");
    CHECK_EQ_INT(mag_admin_partitioned_create(b, &pt, 0, &err), MAG_ERR_NOT_ACCEPTABLE);
    mag_topic_name bad = topic("persistent://public/default/pt-partition-1");
    CHECK_EQ_INT(mag_admin_partitioned_create(b, &bad, 3, &err), MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_partitioned_create(b, &pt, 3, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_partitioned_create(b, &pt, 3, &err), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_admin_partitions_get(b, &pt, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"partitions\":3}");
    CHECK_EQ_INT(mag_admin_partitions_update(b, &pt, 2, &err), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_admin_partitions_update(b, &pt, 4, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_partitions_update(b, &t, 4, &err), MAG_ERR_NOT_FOUND);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_partitions_get(b, &t, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"partitions\":0}");
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_topics_list(b, true, "public", "default", false, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"persistent://public/default/pt-partition-0\","
                                  "\"persistent://public/default/pt-partition-1\","
                                  "\"persistent://public/default/pt-partition-2\","
                                  "\"persistent://public/default/pt-partition-3\","
                                  "\"persistent://public/default/t\"]");
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_topics_list(b, true, "public", "default", true, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"persistent://public/default/pt\"]");
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_topics_list(b, false, "public", "default", false, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[]");

    /* Stats: 3 messages, a subscription that acked one of them. */
    mag_admin_position earliest = { .kind = MAG_POSITION_EARLIEST };
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "s", &earliest, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "s", &earliest, &err), MAG_ERR_CONFLICT);
    produce(b, &t, 3);
    CHECK_EQ_INT(stat(b, &t, "msgInCounter"), 3);
    CHECK_EQ_INT(stat(b, &t, "bytesInCounter"), 6);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/s/msgBacklog"), 3);
    CHECK(stat(b, &t, "storageSize") > 3 * 6);
    CHECK_EQ_INT(stat(b, &t, "storageSize"), stat(b, &t, "backlogSize"));
    CHECK_EQ_INT(mag_admin_subscription_skip(b, &t, "s", 1, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/s/msgBacklog"), 2);
    CHECK(stat(b, &t, "backlogSize") < stat(b, &t, "storageSize"));
    CHECK_EQ_INT(internal_stat(b, &t, "numberOfEntries"), 3);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_last_message_id(b, &t, &out, &err), MAG_OK);
    cJSON *j = json(&out);
    CHECK_EQ_INT(num_at(j, "entryId"), 2);
    CHECK_EQ_INT(num_at(j, "partitionIndex"), -1);
    cJSON_Delete(j);
    CHECK_EQ_INT(mag_admin_topic_stats(b, &pt, &out, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_partitioned_stats(b, &t, true, &out, &err), MAG_ERR_NOT_FOUND);
    mag_buf_reset(&out);
    mag_topic_name p1 = topic("persistent://public/default/pt-partition-1");
    produce(b, &p1, 2);
    CHECK_EQ_INT(mag_admin_partitioned_stats(b, &pt, true, &out, &err), MAG_OK);
    j = json(&out);
    CHECK_EQ_INT(num_at(j, "msgInCounter"), 2);
    CHECK_EQ_INT(num_at(j, "metadata/partitions"), 4);
    CHECK(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "partitions"),
                                           "persistent://public/default/pt-partition-3") != NULL);
    cJSON_Delete(j);

    /* Terminate: the last id, producers refused, idempotent; 405 on partitioned. */
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_terminate(b, &t, &out, &err), MAG_OK);
    j = json(&out);
    CHECK_EQ_INT(num_at(j, "entryId"), 2);
    cJSON_Delete(j);
    CHECK_EQ_INT(mag_admin_terminate(b, &t, &out, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_terminate(b, &pt, &out, &err), MAG_ERR_METHOD);
    struct fake_producer fp = { 0 };
    mag_producer *p;
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_ERR_UNAVAILABLE);

    /* Delete: 412 with clients, forced detaches them (on_closed); 409 wrong kind. */
    struct fake_consumer fc = { 0 };
    mag_consumer *c;
    CHECK_EQ_INT(open_consumer(b, &p1, "live", &fc, &c), MAG_OK);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &pt, false, false, &err), MAG_ERR_CONFLICT);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &pt, true, false, &err), MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &pt, true, true, &err), MAG_OK);
    CHECK_EQ_INT(fc.closed, 1);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &pt, true, false, &err), MAG_ERR_NOT_FOUND);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_topics_list(b, true, "public", "default", false, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"persistent://public/default/t\"]");
    mag_broker_free(b);
    mag_store_close(s);

    /* Everything above is durable. */
    s = open_store();
    b = open_broker(s, false);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_topics_list(b, true, "public", "default", false, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"persistent://public/default/t\"]");
    CHECK_EQ_INT(stat(b, &t, "subscriptions/s/msgBacklog"), 2);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_ERR_UNAVAILABLE);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&out);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* ---- subscriptions ---- */

MAG_TEST(test_subscription_operations)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s, true);
    mag_buf err = MAG_BUF_INIT;
    mag_topic_name t = topic("persistent://public/default/subs");
    mag_admin_position latest = { .kind = MAG_POSITION_LATEST };
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "a", &latest, &err), MAG_OK);
    produce(b, &t, 5);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 5);
    mag_admin_position at2 = { .kind = MAG_POSITION_ID, .entry = 2 };
    at2.ledger = (uint64_t)internal_stat(b, &t, "magnetar/topicId");
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "b", &at2, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/b/msgBacklog"), 3);     /* starts AT entry 2 */
    at2.excluded = true;
    CHECK_EQ_INT(mag_admin_subscription_reset_position(b, &t, "b", &at2, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/b/msgBacklog"), 2);     /* after entry 2 */

    CHECK_EQ_INT(mag_admin_subscription_skip(b, &t, "a", 2, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 3);
    mag_admin_message m;
    mag_admin_message_init(&m);
    CHECK_EQ_INT(mag_admin_peek(b, &t, "a", 1, &m, &err), MAG_OK);
    CHECK_EQ_INT(m.entry, 2);
    CHECK_EQ_INT(m.payload.len, 2);
    CHECK(memcmp(m.payload.data, "m2", 2) == 0);
    CHECK(m.properties_json.len == 9 && memcmp(m.properties_json.data, "{\"k\":\"v\"}", 9) == 0);
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_peek(b, &t, "a", 3, &m, &err), MAG_OK);
    CHECK_EQ_INT(m.entry, 4);
    mag_admin_message_cleanup(&m);
    CHECK_EQ_INT(mag_admin_peek(b, &t, "a", 4, &m, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_peek(b, &t, "a", 0, &m, &err), MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_peek(b, &t, "zz", 1, &m, &err), MAG_ERR_NOT_FOUND);
    uint64_t ledger = (uint64_t)internal_stat(b, &t, "magnetar/topicId");
    CHECK_EQ_INT(mag_admin_get_message(b, &t, ledger + 1, 0, &m, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_get_message(b, &t, ledger, 9, &m, &err), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(mag_admin_get_message(b, &t, ledger, 1, &m, &err), MAG_OK);
    CHECK(memcmp(m.payload.data, "m1", 2) == 0);
    mag_admin_message_cleanup(&m);

    CHECK_EQ_INT(mag_admin_subscription_skip(b, &t, "a", -1, &err), MAG_OK);        /* skip_all */
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 0);
    mag_admin_position first = { .kind = MAG_POSITION_EARLIEST };
    CHECK_EQ_INT(mag_admin_subscription_reset_position(b, &t, "a", &first, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 5);
    CHECK_EQ_INT(mag_admin_subscription_reset_time(b, &t, "a", mag_broker_now_ms() + 60000, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 0);                  /* after everything */
    CHECK_EQ_INT(mag_admin_subscription_reset_time(b, &t, "a", 0, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 5);
    CHECK_EQ_INT(mag_admin_subscription_expire(b, &t, "a", 3600, &err), MAG_OK);  /* nothing that old */
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 5);
    CHECK_EQ_INT(mag_admin_subscription_expire(b, &t, "a", 0, &err), MAG_OK);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/msgBacklog"), 0);

    /* A connected consumer gets redeliveries after a reset, and blocks deletion. */
    struct fake_consumer fc = { 0 };
    mag_consumer *c;
    CHECK_EQ_INT(open_consumer(b, &t, "a", &fc, &c), MAG_OK);
    mag_consumer_flow(c, 100);
    CHECK_EQ_INT(mag_admin_subscription_reset_position(b, &t, "a", &first, &err), MAG_OK);
    CHECK_EQ_INT(fc.got, 5);
    CHECK_EQ_INT(stat(b, &t, "subscriptions/a/unackedMessages"), 5);
    CHECK_EQ_INT(mag_admin_subscription_delete(b, &t, "a", false, &err), MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_subscription_delete(b, &t, "a", true, &err), MAG_OK);
    CHECK_EQ_INT(fc.closed, 1);
    CHECK_EQ_INT(mag_admin_subscription_delete(b, &t, "a", false, &err), MAG_ERR_NOT_FOUND);
    mag_buf out = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_subscriptions_list(b, &t, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "[\"b\"]");
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&out);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* ---- retention ---- */

MAG_TEST(test_trimming_and_retention)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s, true);
    mag_buf err = MAG_BUF_INIT;
    mag_topic_name t = topic("persistent://public/default/trim");
    mag_topic_name lonely = topic("persistent://public/default/lonely");
    mag_admin_position latest = { .kind = MAG_POSITION_LATEST };
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "s", &latest, &err), MAG_OK);
    produce(b, &t, 2500);
    produce(b, &lonely, 2500);
    double full = stat(b, &t, "storageSize");
    CHECK_EQ_INT(internal_stat(b, &t, "magnetar/firstEntryId"), 0);      /* nothing consumed */
    CHECK_EQ_INT(mag_admin_subscription_skip(b, &t, "s", 1500, &err), MAG_OK);
    CHECK_EQ_INT(internal_stat(b, &t, "magnetar/firstEntryId"), 1500);   /* up to the cursor */
    CHECK_EQ_INT(mag_admin_subscription_skip(b, &t, "s", -1, &err), MAG_OK);
    /* Consumed entries go, except the newest segment (ids 2000..2499). */
    CHECK_EQ_INT(internal_stat(b, &t, "magnetar/firstEntryId"), 2000);
    CHECK_EQ_INT(internal_stat(b, &t, "numberOfEntries"), 500);
    CHECK(stat(b, &t, "storageSize") < full / 4);
    /* Without durable subscriptions nothing is consumed: nothing goes. */
    CHECK_EQ_INT(internal_stat(b, &lonely, "numberOfEntries"), 2500);
    mag_broker_free(b);
    mag_store_close(s);

    /* After a restart the ids continue past the trimmed ones. */
    s = open_store();
    b = open_broker(s, true);
    CHECK_EQ_INT(internal_stat(b, &t, "magnetar/firstEntryId"), 2000);
    produce(b, &t, 1);
    mag_buf out = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_last_message_id(b, &t, &out, &err), MAG_OK);
    cJSON *j = json(&out);
    CHECK_EQ_INT(num_at(j, "entryId"), 2500);
    cJSON_Delete(j);

    /* Infinite retention keeps consumed entries; a size limit trims to it. */
    mag_topic_name r = topic("persistent://public/default/kept");
    CHECK_EQ_INT(mag_admin_retention_set(b, "public", "default",
                                         BODY("{\"retentionTimeInMinutes\":-1,\"retentionSizeInMB\":-1}"),
                                         &err),
                 MAG_OK);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_retention_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"retentionTimeInMinutes\":-1,\"retentionSizeInMB\":-1}");
    CHECK_EQ_INT(mag_admin_subscription_create(b, &r, "s", &latest, &err), MAG_OK);
    produce(b, &r, 2100);
    CHECK_EQ_INT(mag_admin_subscription_skip(b, &r, "s", -1, &err), MAG_OK);
    CHECK_EQ_INT(internal_stat(b, &r, "numberOfEntries"), 2100);
    CHECK_EQ_INT(mag_admin_retention_set(b, "public", "default",
                                         BODY("{\"retentionTimeInMinutes\":-1,\"retentionSizeInMB\":0}"),
                                         &err),
                 MAG_ERR_PRECONDITION);
    /* A time limit of 1 minute: nothing is a minute old yet. */
    CHECK_EQ_INT(mag_admin_retention_set(b, "public", "default",
                                         BODY("{\"retentionTimeInMinutes\":1,\"retentionSizeInMB\":-1}"),
                                         &err),
                 MAG_OK);
    CHECK_EQ_INT(internal_stat(b, &r, "numberOfEntries"), 2100);
    CHECK_EQ_INT(mag_admin_retention_remove(b, "public", "default", &err), MAG_OK);
    CHECK_EQ_INT(internal_stat(b, &r, "numberOfEntries"), 100);
    CHECK_EQ_INT(mag_admin_retention_get(b, "public", "nope", &out, &err), MAG_ERR_NOT_FOUND);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&out);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* ---- backlog quota ---- */

MAG_TEST(test_backlog_quota)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s, true);
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;
    mag_topic_name t = topic("persistent://public/default/quota");
    CHECK_EQ_INT(mag_admin_backlog_quota_set(b, "public", "default", MAG_QUOTA_DESTINATION_STORAGE,
                                             BODY("{\"limit\":10,\"policy\":\"producer_request_hold\"}"),
                                             &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_admin_backlog_quota_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"destination_storage\":{\"limit\":10,\"limitSize\":10,\"limitTime\":-1,"
                                  "\"policy\":\"producer_request_hold\"}}");
    /* Retention below the quota conflicts (checkQuotas). */
    CHECK_EQ_INT(mag_admin_retention_set(b, "public", "default",
                                         BODY("{\"retentionTimeInMinutes\":-1,\"retentionSizeInMB\":1}"),
                                         &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_admin_backlog_quota_set(b, "public", "default", MAG_QUOTA_DESTINATION_STORAGE,
                                             BODY("{\"limit\":2000000,\"policy\":\"producer_exception\"}"),
                                             &err),
                 MAG_ERR_PRECONDITION);
    CHECK_EQ_INT(mag_admin_retention_remove(b, "public", "default", &err), MAG_OK);

    /* No subscription: no backlog, producers welcome. */
    produce(b, &t, 2);
    struct fake_consumer fc = { 0 };
    mag_consumer *c;
    CHECK_EQ_INT(open_consumer(b, &t, "slow", &fc, &c), MAG_OK);     /* earliest: 2 in backlog */
    struct fake_producer fp = { 0 };
    mag_producer *p, *p2;
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_ERR_UNAVAILABLE);
    CHECK_STR(mag_buf_cstr(&err), "Cannot create producer on topic with backlog quota exceeded");
    /* Draining the backlog lets producers in again. */
    CHECK_EQ_INT(mag_admin_subscription_skip(b, &t, "slow", -1, &err), MAG_OK);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    CHECK_EQ_INT(publish_kv(p, "over"), MAG_OK);
    mag_broker_run(b);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p2, &err), MAG_ERR_UNAVAILABLE);
    CHECK_EQ_INT(publish_kv(p, "held"), MAG_ERR_QUEUE_FULL);          /* send-error:8 */
    mag_producer_close(p);

    /* consumer_backlog_eviction drops the oldest messages instead. */
    CHECK_EQ_INT(mag_admin_backlog_quota_set(b, "public", "default", MAG_QUOTA_DESTINATION_STORAGE,
                                             BODY("{\"limitSize\":200,\"policy\":"
                                                  "\"consumer_backlog_eviction\"}"),
                                             &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_broker_producer_open(b, &t, NULL, &pev, &fp, &p, &err), MAG_OK);
    for (int i = 0; i < 20; i++)
        CHECK_EQ_INT(publish_kv(p, "evict-me"), MAG_OK);
    mag_broker_run(b);
    mag_producer_close(p);
    CHECK(stat(b, &t, "subscriptions/slow/backlogSize") <= 200);
    CHECK(stat(b, &t, "subscriptions/slow/msgBacklog") > 0);
    CHECK(stat(b, &t, "subscriptions/slow/msgBacklog") < 20);
    CHECK_EQ_INT(mag_admin_backlog_quota_remove(b, "public", "default", MAG_QUOTA_DESTINATION_STORAGE, &err),
                 MAG_OK);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_backlog_quota_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{}");
    mag_consumer_close(c);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    mag_buf_free(&out);
    fixture_dir_remove();
}

/* ---- metrics ---- */

MAG_TEST(test_metrics_text)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s, true);
    mag_topic_name t = topic("persistent://public/default/m\"x");
    mag_admin_position latest = { .kind = MAG_POSITION_LATEST };
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_subscription_create(b, &t, "s", &latest, &err), MAG_OK);
    produce(b, &t, 3);
    CHECK_EQ_INT(mag_admin_metrics_text(b, "standalone", &out), MAG_OK);
    const char *txt = mag_buf_cstr(&out);
    CHECK(strstr(txt, "# TYPE pulsar_in_messages_total counter\npulsar_in_messages_total{cluster="
                      "\"standalone\",namespace=\"public/default\",topic=\"persistent://public/default/"
                      "m\\\"x\"} 3\n") != NULL);
    CHECK(strstr(txt, "pulsar_msg_backlog{cluster=\"standalone\",namespace=\"public/default\",topic="
                      "\"persistent://public/default/m\\\"x\"} 3\n") != NULL);
    CHECK(strstr(txt, "pulsar_subscription_back_log{cluster=\"standalone\",namespace=\"public/default\","
                      "topic=\"persistent://public/default/m\\\"x\",subscription=\"s\"} 3\n") != NULL);
    CHECK(strstr(txt, "pulsar_subscriptions_count{cluster=\"standalone\",namespace=\"public/default\","
                      "topic=\"persistent://public/default/m\\\"x\"} 1\n") != NULL);
    /* One batch of 3 messages (le 4), plus the subscription's cursor commit. */
    CHECK(strstr(txt, "magnetar_commit_batch_messages_bucket{le=\"2\"} 0\n"
                      "magnetar_commit_batch_messages_bucket{le=\"4\"} 1\n") != NULL);
    CHECK(strstr(txt, "magnetar_commit_batch_messages_sum 3\nmagnetar_commit_batch_messages_count 1\n"));
    CHECK(strstr(txt, "magnetar_commits_total 2\n") != NULL);
    CHECK(strstr(txt, "magnetar_commit_fsync_seconds_count 2\n") != NULL);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&out);
    mag_buf_free(&err);
    fixture_dir_remove();
}

/* ---- deletion frees all of a topic ---- */

/* Deleting a topic with deduplication on frees its per-producer highest
   sequence ids too (it once leaked them: LeakSanitizer in the ASan pass). */
MAG_TEST(test_delete_dedup_topic)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                                .deduplication_enabled = true,
                                                                .group_commit_max_messages = 100000 });
    mag_topic_name t = topic("persistent://public/default/dd");
    mag_buf err = MAG_BUF_INIT;
    produce(b, &t, 3);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &t, false, false, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_topic_delete(b, &t, false, false, &err), MAG_ERR_NOT_FOUND);
    mag_broker_free(b);
    mag_store_close(s);
    mag_buf_free(&err);
    fixture_dir_remove();
}

int main(void)
{
    RUN(test_policy_codec);
    RUN(test_retention_and_quota_bodies);
    RUN(test_position_parse);
    RUN(test_tenants_and_namespaces);
    RUN(test_topics_partitions_and_stats);
    RUN(test_subscription_operations);
    RUN(test_trimming_and_retention);
    RUN(test_backlog_quota);
    RUN(test_metrics_text);
    RUN(test_delete_dedup_topic);
    return mag_test_summary();
}
