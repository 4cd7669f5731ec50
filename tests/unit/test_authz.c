/* test_authz.c -- permissions and authorization decisions (PulsarAuthorizationProvider).
 *
 * The auth_policies codec and the PulsarAuthorizationProvider rule first
 * (pure), including the ProxyAuthorizationTest truth table, wildcards,
 * partitions and subscription role lists; then the admin permission
 * operations on real LMDB storage (Pulsar's statuses, durability across a
 * reopen, other policy writes keeping the grants), and the decisions of
 * authz.c: super users, tenant admins, disabled authorization, REST routes.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mag/app/authz.h"
#include "mag/broker/admin.h"
#include "mag/broker/broker.h"
#include "mag_test.h"
#include "broker_fixture.h"

static mag_store *open_store(void)
{
    return fixture_store(64u << 20);
}

static mag_broker *open_broker(mag_store *s)
{
    return fixture_broker(s, (struct mag_broker_opts){ .allow_auto_topic_creation = true,
                                                       .group_commit_max_messages = 1000 });
}

#define BODY(s) (const uint8_t *)(s), strlen(s)

/* Format p into a fresh C string (static buffer; valid until the next call). */
static const char *fmt(const mag_auth_policies *p)
{
    static mag_buf out = MAG_BUF_INIT;
    mag_buf_reset(&out);
    mag_auth_policies_format(p, &out);
    return mag_buf_cstr(&out);
}

MAG_TEST(test_actions_parse)
{
    mag_buf err = MAG_BUF_INIT;
    unsigned a = 99;
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[\"consume\",\"produce\"]"), &a, &err), MAG_OK);
    CHECK_EQ_INT(a, MAG_AUTH_PRODUCE | MAG_AUTH_CONSUME);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[\"functions\",\"sources\",\"sinks\",\"packages\"]"), &a,
                                        &err),
                 MAG_OK);
    CHECK_EQ_INT(a, MAG_AUTH_FUNCTIONS | MAG_AUTH_SOURCES | MAG_AUTH_SINKS | MAG_AUTH_PACKAGES);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[]"), &a, &err), MAG_OK);
    CHECK_EQ_INT(a, 0);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[\"write\"]"), &a, &err), MAG_ERR_BAD_REQUEST);
    CHECK(strstr(mag_buf_cstr(&err), "Invalid action \"write\"") != NULL);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[\"Produce\"]"), &a, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[1]"), &a, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("\"produce\""), &a, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("{}"), &a, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_actions_parse(BODY("[\"produce\""), &a, &err), MAG_ERR_BAD_REQUEST);
    mag_buf_free(&err);
}

MAG_TEST(test_policies_codec)
{
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    CHECK_STR(fmt(&p), "{\"namespace_auth\":{},\"destination_auth\":{},\"subscription_auth_roles\":{}}");
    /* inserted out of order: comes out sorted like Pulsar's TreeMaps */
    mag_auth_grant_set(&p, MAG_AUTH_SUBSCRIPTION, "sub", "r2", 0);
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, "persistent://t/n/x", "b", MAG_AUTH_CONSUME);
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "zed", MAG_AUTH_CONSUME | MAG_AUTH_PRODUCE);
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "al\"ice", MAG_AUTH_PRODUCE);
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, "persistent://t/n/x", "a", MAG_AUTH_SINKS);
    mag_auth_grant_set(&p, MAG_AUTH_SUBSCRIPTION, "sub", "r1", 0);
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, "persistent://t/n/a", "c", MAG_AUTH_PRODUCE);
    const char *want =
        "{\"namespace_auth\":{\"al\\\"ice\":[\"produce\"],\"zed\":[\"produce\",\"consume\"]},"
        "\"destination_auth\":{\"persistent://t/n/a\":{\"c\":[\"produce\"]},"
        "\"persistent://t/n/x\":{\"a\":[\"sinks\"],\"b\":[\"consume\"]}},"
        "\"subscription_auth_roles\":{\"sub\":[\"r1\",\"r2\"]}}";
    CHECK_STR(fmt(&p), want);
    /* replace, remove */
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "zed", MAG_AUTH_CONSUME);
    CHECK(mag_auth_grant_remove(&p, MAG_AUTH_TOPIC, "persistent://t/n/a", "c"));
    CHECK(!mag_auth_grant_remove(&p, MAG_AUTH_TOPIC, "persistent://t/n/a", "c"));
    CHECK(!mag_auth_grant_remove(&p, MAG_AUTH_NAMESPACE, NULL, "nobody"));
    CHECK_EQ_INT(p.n, 6);
    /* round trip */
    mag_buf text = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_auth_policies_format(&p, &text);
    mag_auth_policies q;
    mag_auth_policies_init(&q);
    CHECK_EQ_INT(mag_auth_policies_parse(text.data, text.len, &q, &err), MAG_OK);
    CHECK_STR(fmt(&q), mag_buf_cstr(&text));
    mag_auth_policies_cleanup(&q);
    /* missing members and null are empty; len 0 = empty */
    CHECK_EQ_INT(mag_auth_policies_parse(BODY("{\"namespace_auth\":null}"), &q, &err), MAG_OK);
    CHECK_EQ_INT(q.n, 0);
    CHECK_EQ_INT(mag_auth_policies_parse(NULL, 0, &q, &err), MAG_OK);
    CHECK_EQ_INT(q.n, 0);
    /* errors */
    CHECK_EQ_INT(mag_auth_policies_parse(BODY("[]"), &q, &err), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_policies_parse(BODY("{\"namespace_auth\":[]}"), &q, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_policies_parse(BODY("{\"namespace_auth\":{\"r\":[\"x\"]}}"), &q, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_policies_parse(BODY("{\"destination_auth\":{\"t\":[]}}"), &q, &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_auth_policies_parse(BODY("{\"subscription_auth_roles\":{\"s\":[1]}}"), &q, &err),
                 MAG_ERR_BAD_REQUEST);
    mag_auth_policies_cleanup(&q);
    mag_auth_policies_cleanup(&p);
    CHECK_EQ_INT(p.n, 0);
    mag_buf_free(&text);
    mag_buf_free(&err);
}

MAG_TEST(test_truth_table)
{
    /* Pulsar's ProxyAuthorizationTest */
    mag_topic_name ds1 = topic("persistent://my-property/my-ns/ds1");
    mag_topic_name ds2 = topic("persistent://my-property/my-ns/ds2");
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    CHECK(!mag_auth_policies_allow(&p, &ds1, "my-role", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &ds1, "my-role", MAG_AUTH_CONSUME, "sub", false));
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "my-role", MAG_AUTH_PRODUCE);
    CHECK(mag_auth_policies_allow(&p, &ds1, "my-role", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &ds1, "my-role", MAG_AUTH_CONSUME, "sub", false));
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, ds2.full, "other-role", MAG_AUTH_CONSUME);
    CHECK(mag_auth_policies_allow(&p, &ds2, "other-role", MAG_AUTH_CONSUME, "sub", false));
    CHECK(mag_auth_policies_allow(&p, &ds2, "other-role", MAG_AUTH_CONSUME, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &ds2, "other-role", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &ds1, "other-role", MAG_AUTH_CONSUME, "sub", false));
    CHECK(!mag_auth_policies_allow(&p, &ds2, "no-access-role", MAG_AUTH_CONSUME, "sub", false));
    CHECK(!mag_auth_policies_allow(&p, &ds2, "no-access-role", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &ds2, "", MAG_AUTH_PRODUCE, NULL, false));
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "my-role", MAG_AUTH_PRODUCE | MAG_AUTH_CONSUME);
    CHECK(mag_auth_policies_allow(&p, &ds1, "my-role", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(mag_auth_policies_allow(&p, &ds1, "my-role", MAG_AUTH_CONSUME, "sub", false));
    /* consume does not imply produce either; other actions imply neither */
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "fn", MAG_AUTH_FUNCTIONS | MAG_AUTH_PACKAGES);
    CHECK(!mag_auth_policies_allow(&p, &ds1, "fn", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &ds1, "fn", MAG_AUTH_CONSUME, NULL, false));
    mag_auth_policies_cleanup(&p);
}

MAG_TEST(test_wildcards_partitions_subscriptions)
{
    mag_topic_name t = topic("persistent://t/n/orders");
    mag_topic_name part = topic("persistent://t/n/orders-partition-2");
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "my.role.*", MAG_AUTH_PRODUCE);
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, t.full, "*.reader", MAG_AUTH_CONSUME);
    mag_auth_grant_set(&p, MAG_AUTH_NAMESPACE, NULL, "my.*.mid", MAG_AUTH_PRODUCE);
    /* off: patterns are plain role names */
    CHECK(!mag_auth_policies_allow(&p, &t, "my.role.1", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(mag_auth_policies_allow(&p, &t, "my.role.*", MAG_AUTH_PRODUCE, NULL, false));
    /* on: prefix and suffix, never the middle */
    CHECK(mag_auth_policies_allow(&p, &t, "my.role.1", MAG_AUTH_PRODUCE, NULL, true));
    CHECK(mag_auth_policies_allow(&p, &t, "my.role.", MAG_AUTH_PRODUCE, NULL, true));
    CHECK(!mag_auth_policies_allow(&p, &t, "my.rol", MAG_AUTH_PRODUCE, NULL, true));
    CHECK(!mag_auth_policies_allow(&p, &t, "my.role.1", MAG_AUTH_CONSUME, NULL, true));
    CHECK(mag_auth_policies_allow(&p, &t, "x.reader", MAG_AUTH_CONSUME, "s", true));
    CHECK(!mag_auth_policies_allow(&p, &t, "x.reader", MAG_AUTH_CONSUME, "s", false));
    CHECK(!mag_auth_policies_allow(&p, &t, "my.x.mid", MAG_AUTH_PRODUCE, NULL, true));
    /* a partition: its own grants, the namespace's, and the parent's (exact role) */
    CHECK(!mag_auth_policies_allow(&p, &part, "alice", MAG_AUTH_CONSUME, NULL, false));
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, t.full, "alice", MAG_AUTH_CONSUME);
    CHECK(mag_auth_policies_allow(&p, &part, "alice", MAG_AUTH_CONSUME, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &part, "alice", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &part, "x.reader", MAG_AUTH_CONSUME, NULL, true));
    mag_auth_grant_set(&p, MAG_AUTH_TOPIC, part.full, "bob", MAG_AUTH_PRODUCE);
    CHECK(mag_auth_policies_allow(&p, &part, "bob", MAG_AUTH_PRODUCE, NULL, false));
    CHECK(!mag_auth_policies_allow(&p, &t, "bob", MAG_AUTH_PRODUCE, NULL, false));
    /* subscription_auth_roles: a listed subscription admits only its roles (exactly) */
    mag_auth_grant_set(&p, MAG_AUTH_SUBSCRIPTION, "billing", "alice", 0);
    CHECK(mag_auth_policies_allow(&p, &t, "alice", MAG_AUTH_CONSUME, "billing", false));
    CHECK(!mag_auth_policies_allow(&p, &t, "x.reader", MAG_AUTH_CONSUME, "billing", true));
    CHECK(mag_auth_policies_allow(&p, &t, "x.reader", MAG_AUTH_CONSUME, "other", true));
    CHECK(mag_auth_policies_allow(&p, &t, "x.reader", MAG_AUTH_CONSUME, "", true));
    CHECK(mag_auth_policies_allow(&p, &t, "x.reader", MAG_AUTH_CONSUME, NULL, true));
    /* the role list alone grants nothing */
    mag_auth_grant_set(&p, MAG_AUTH_SUBSCRIPTION, "billing", "carol", 0);
    CHECK(!mag_auth_policies_allow(&p, &t, "carol", MAG_AUTH_CONSUME, "billing", false));
    mag_auth_policies_cleanup(&p);
}

static void expect_get(mag_rc (*get)(mag_broker *, const char *, const char *, mag_buf *, mag_buf *),
                       mag_broker *b, const char *ns, const char *want)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(get(b, "public", ns, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), want);
    mag_buf_free(&out);
    mag_buf_free(&err);
}

static void expect_topic_get(mag_broker *b, const mag_topic_name *t, const char *want)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_topic_permissions_get(b, t, &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), want);
    mag_buf_free(&out);
    mag_buf_free(&err);
}

MAG_TEST(test_admin_permissions)
{
    fixture_dir_new();
    mag_store *s = open_store();
    mag_broker *b = open_broker(s);
    mag_buf err = MAG_BUF_INIT, out = MAG_BUF_INIT;

    expect_get(mag_admin_permissions_get, b, "default", "{}");
    CHECK_EQ_INT(mag_admin_permission_grant(b, "public", "default", "app",
                                            BODY("[\"produce\",\"consume\"]"), &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_admin_permission_grant(b, "public", "default", "ro", BODY("[\"consume\"]"),
                                            &err),
                 MAG_OK);
    expect_get(mag_admin_permissions_get, b, "default",
               "{\"app\":[\"produce\",\"consume\"],\"ro\":[\"consume\"]}");
    /* errors: bad action 400 (nothing stored), absent namespace 404 */
    CHECK_EQ_INT(mag_admin_permission_grant(b, "public", "default", "x", BODY("[\"write\"]"), &err),
                 MAG_ERR_BAD_REQUEST);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_admin_permission_grant(b, "public", "nope", "x", BODY("[\"produce\"]"), &err),
                 MAG_ERR_NOT_FOUND);
    CHECK_STR(mag_buf_cstr(&err), "Namespace does not exist");
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_admin_permissions_get(b, "public", "nope", &out, &err), MAG_ERR_NOT_FOUND);
    /* a grant replaces the role's earlier set; revoke is idempotent */
    CHECK_EQ_INT(mag_admin_permission_grant(b, "public", "default", "app", BODY("[\"consume\"]"),
                                            &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_admin_permission_revoke(b, "public", "default", "ro", &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_permission_revoke(b, "public", "default", "ro", &err), MAG_OK);
    expect_get(mag_admin_permissions_get, b, "default", "{\"app\":[\"consume\"]}");

    /* subscriptions */
    expect_get(mag_admin_sub_permissions_get, b, "default", "{}");
    CHECK_EQ_INT(mag_admin_sub_permission_grant(b, "public", "default", "s1", BODY("[\"b\",\"a\"]"),
                                                &err),
                 MAG_OK);
    expect_get(mag_admin_sub_permissions_get, b, "default", "{\"s1\":[\"a\",\"b\"]}");
    CHECK_EQ_INT(mag_admin_sub_permission_grant(b, "public", "default", "s1", BODY("[\"c\"]"), &err),
                 MAG_OK);
    expect_get(mag_admin_sub_permissions_get, b, "default", "{\"s1\":[\"c\"]}");
    CHECK_EQ_INT(mag_admin_sub_permission_grant(b, "public", "default", "s1", BODY("[1]"), &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_admin_sub_permission_grant(b, "public", "default", "s1", BODY("{}"), &err),
                 MAG_ERR_BAD_REQUEST);
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_admin_sub_permission_revoke(b, "public", "default", "s9", "c", &err),
                 MAG_ERR_NOT_FOUND);
    CHECK_STR(mag_buf_cstr(&err), "couldn't find subscription");
    CHECK_EQ_INT(mag_admin_sub_permission_grant(b, "public", "default", "s2", BODY("[\"d\"]"), &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_admin_sub_permission_revoke(b, "public", "default", "s1", "c", &err), MAG_OK);
    expect_get(mag_admin_sub_permissions_get, b, "default", "{\"s2\":[\"d\"]}");

    /* topics: the namespace's grants united with the topic's */
    mag_topic_name t = topic("persistent://public/default/orders");
    mag_topic_name np = topic("non-persistent://public/default/orders");
    expect_topic_get(b, &t, "{\"app\":[\"consume\"]}");
    CHECK_EQ_INT(mag_admin_topic_permission_grant(b, &t, "app", BODY("[\"produce\"]"), &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_topic_permission_grant(b, &t, "tp", BODY("[\"consume\"]"), &err), MAG_OK);
    expect_topic_get(b, &t, "{\"app\":[\"produce\",\"consume\"],\"tp\":[\"consume\"]}");
    expect_topic_get(b, &np, "{\"app\":[\"consume\"]}");
    CHECK_EQ_INT(mag_admin_topic_permission_grant(b, &t, "x", BODY("[\"nope\"]"), &err),
                 MAG_ERR_BAD_REQUEST);
    mag_topic_name other = topic("persistent://public/missing/t");
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_admin_topic_permission_grant(b, &other, "x", BODY("[\"produce\"]"), &err),
                 MAG_ERR_NOT_FOUND);
    CHECK_STR(mag_buf_cstr(&err), "Topic's namespace does not exist");
    /* revoke: 412 when only the namespace grants it; partitions' grants go too */
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_admin_topic_permission_revoke(b, &np, "app", &err), MAG_ERR_PRECONDITION);
    CHECK_STR(mag_buf_cstr(&err), "Permissions are not set at the topic level");
    mag_topic_name p0 = topic("persistent://public/default/orders-partition-0");
    CHECK_EQ_INT(mag_admin_topic_permission_grant(b, &p0, "tp", BODY("[\"produce\"]"), &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_topic_permission_revoke(b, &t, "tp", &err), MAG_OK);
    expect_topic_get(b, &p0, "{\"app\":[\"consume\"]}");
    expect_topic_get(b, &t, "{\"app\":[\"produce\",\"consume\"]}");

    /* other policy writes keep the grants; the namespace GET shows them */
    CHECK_EQ_INT(mag_admin_retention_set(b, "public", "default",
                                         BODY("{\"retentionTimeInMinutes\":5,\"retentionSizeInMB\":5}"),
                                         &err),
                 MAG_OK);
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_namespace_get(b, "public", "default", "standalone", &out, &err), MAG_OK);
    CHECK(strstr(mag_buf_cstr(&out),
                 "{\"auth_policies\":{\"namespace_auth\":{\"app\":[\"consume\"]},"
                 "\"destination_auth\":{\"persistent://public/default/orders\":{\"app\":[\"produce\"]}},"
                 "\"subscription_auth_roles\":{\"s2\":[\"d\"]}},\"replication_clusters\"") ==
          mag_buf_cstr(&out));

    /* durable: reopen the store */
    mag_broker_free(b);
    mag_store_close(s);
    s = open_store();
    b = open_broker(s);
    expect_get(mag_admin_permissions_get, b, "default", "{\"app\":[\"consume\"]}");
    expect_get(mag_admin_sub_permissions_get, b, "default", "{\"s2\":[\"d\"]}");
    expect_topic_get(b, &t, "{\"app\":[\"produce\",\"consume\"]}");
    mag_buf_reset(&out);
    CHECK_EQ_INT(mag_admin_retention_get(b, "public", "default", &out, &err), MAG_OK);
    CHECK_STR(mag_buf_cstr(&out), "{\"retentionTimeInMinutes\":5,\"retentionSizeInMB\":5}");

    /* a namespace created with auth_policies in its Policies body keeps them */
    CHECK_EQ_INT(mag_admin_namespace_create(
                     b, "public", "ns2",
                     BODY("{\"auth_policies\":{\"namespace_auth\":{\"r\":[\"produce\"]}}}"), &err),
                 MAG_OK);
    expect_get(mag_admin_permissions_get, b, "ns2", "{\"r\":[\"produce\"]}");
    CHECK_EQ_INT(mag_admin_namespace_create(
                     b, "public", "ns3",
                     BODY("{\"auth_policies\":{\"namespace_auth\":{\"r\":[\"bad\"]}}}"), &err),
                 MAG_ERR_BAD_REQUEST);
    CHECK(!mag_admin_namespace_exists(b, "public/ns3"));

    mag_buf_free(&err);
    mag_buf_free(&out);
    mag_broker_free(b);
    mag_store_close(s);
}

MAG_TEST(test_authz_decisions)
{
    /* reuses the store of test_admin_permissions: app has consume on
       public/default, produce on .../orders; s2 is limited to role d */
    mag_store *s = open_store();
    mag_broker *b = open_broker(s);
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(mag_admin_tenant_put(b, "acme", "standalone", true,
                                      BODY("{\"adminRoles\":[\"boss\"],\"allowedClusters\":[\"standalone\"]}"),
                                      &err),
                 MAG_OK);
    struct mag_authz_conf c;
    mag_authz_conf_init(&c, true, true, false, " root , ,ops,");
    CHECK_EQ_INT(c.n_super_users, 2);
    CHECK_STR(c.super_users[0], "root");
    CHECK_STR(c.super_users[1], "ops");
    CHECK(mag_authz_is_super_user(&c, "ops"));
    CHECK(!mag_authz_is_super_user(&c, "root "));
    CHECK(!mag_authz_is_super_user(&c, ""));

    mag_topic_name t = topic("persistent://public/default/orders");
    mag_topic_name other = topic("persistent://public/default/other");
    mag_topic_name missing = topic("persistent://nowhere/ns/t");
    mag_topic_name acme = topic("persistent://acme/ns/t");
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_PRODUCE, &t, NULL), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_CONSUME, &t, "x"), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_PRODUCE, &other, NULL), MAG_ERR_FORBIDDEN);
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_CONSUME, &other, ""), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_CONSUME, &other, "s2"), MAG_ERR_FORBIDDEN);
    CHECK_EQ_INT(mag_authz_check(b, &c, "stranger", MAG_AUTHZ_CONSUME, &t, "x"), MAG_ERR_FORBIDDEN);
    CHECK_EQ_INT(mag_authz_check(b, &c, "", MAG_AUTHZ_CONSUME, &t, "x"), MAG_ERR_FORBIDDEN);
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_CONSUME, &missing, NULL), MAG_ERR_FORBIDDEN);
    /* super users pass everything, even where no namespace exists */
    CHECK_EQ_INT(mag_authz_check(b, &c, "root", MAG_AUTHZ_PRODUCE, &missing, NULL), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "ops", MAG_AUTHZ_CONSUME, &other, "s2"), MAG_OK);
    /* admin: super user or the tenant's adminRoles */
    CHECK_EQ_INT(mag_authz_check(b, &c, "boss", MAG_AUTHZ_ADMIN, &acme, NULL), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "boss", MAG_AUTHZ_ADMIN, &t, NULL), MAG_ERR_FORBIDDEN);
    CHECK_EQ_INT(mag_authz_check(b, &c, "app", MAG_AUTHZ_ADMIN, &t, NULL), MAG_ERR_FORBIDDEN);
    CHECK_EQ_INT(mag_authz_check(b, &c, "root", MAG_AUTHZ_ADMIN, &t, NULL), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "boss", MAG_AUTHZ_PRODUCE, &acme, NULL), MAG_ERR_FORBIDDEN);

    /* REST routes */
    struct { const char *role, *method, *path; mag_rc want; const char *reason; } rest[] = {
        { "app", "GET", "/metrics", MAG_OK, "" },
        { "app", "GET", "/status.html", MAG_OK, "" },
        { "app", "GET", "/admin/v2/clusters", MAG_OK, "" },
        { "app", "GET", "/admin/v2/tenants", MAG_ERR_AUTH, "This operation requires super-user access" },
        { "root", "GET", "/admin/v2/tenants", MAG_OK, "" },
        { "boss", "PUT", "/admin/v2/tenants/acme", MAG_ERR_AUTH,
          "This operation requires super-user access" },
        { "boss", "GET", "/admin/v2/tenants/acme", MAG_OK, "" },
        { "boss", "GET", "/admin/v2/namespaces/acme", MAG_OK, "" },
        { "boss", "POST", "/admin/v2/namespaces/acme/ns/permissions/x", MAG_OK, "" },
        { "boss", "GET", "/admin/v2/persistent/acme/ns/t/stats", MAG_OK, "" },
        { "boss", "DELETE", "/admin/v2/non-persistent/%61cme/ns/t", MAG_OK, "" },
        { "boss", "GET", "/admin/v2/namespaces/public/default", MAG_ERR_AUTH,
          "Don't have permission to administrate resources on this tenant" },
        { "app", "POST", "/admin/v2/persistent/public/default/orders/permissions/app", MAG_ERR_AUTH,
          "Don't have permission to administrate resources on this tenant" },
        { "app", "GET", "/admin/v2/namespaces/ghost/ns", MAG_ERR_NOT_FOUND, "Tenant does not exist" },
        { "root", "GET", "/admin/v2/namespaces/ghost/ns", MAG_OK, "" },
        { "boss", "GET", "/admin/v2/proxy-stats/stats", MAG_ERR_AUTH,
          "This operation requires super-user access" },
        { "ops", "GET", "/admin/v2/proxy-stats/stats", MAG_OK, "" },
        { "boss", "GET", "/admin/proxy-stats/metrics", MAG_ERR_AUTH,
          "This operation requires super-user access" },
        { "app", "GET", "/admin/v2/namespaces/", MAG_ERR_AUTH,
          "This operation requires super-user access" },
    };
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
        mag_buf_reset(&err);
        mag_rc rc = mag_authz_rest(b, &c, rest[i].role, rest[i].method, rest[i].path, &err);
        if (rc != rest[i].want)
            fprintf(stderr, "route %zu: %s %s\n", i, rest[i].method, rest[i].path);
        CHECK_EQ_INT(rc, rest[i].want);
        CHECK_STR(mag_buf_cstr(&err), rest[i].reason);
    }
    mag_authz_conf_cleanup(&c);

    /* wildcards from the configuration */
    mag_authz_conf_init(&c, true, true, true, NULL);
    CHECK_EQ_INT(mag_admin_permission_grant(b, "acme", "ns", "svc-*", BODY("[\"produce\"]"), &err),
                 MAG_ERR_NOT_FOUND);        /* acme/ns does not exist yet */
    CHECK_EQ_INT(mag_admin_namespace_create(b, "acme", "ns", NULL, 0, &err), MAG_OK);
    CHECK_EQ_INT(mag_admin_permission_grant(b, "acme", "ns", "svc-*", BODY("[\"produce\"]"), &err),
                 MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "svc-a", MAG_AUTHZ_PRODUCE, &acme, NULL), MAG_OK);
    mag_authz_conf_cleanup(&c);
    mag_authz_conf_init(&c, true, true, false, NULL);
    CHECK_EQ_INT(mag_authz_check(b, &c, "svc-a", MAG_AUTHZ_PRODUCE, &acme, NULL), MAG_ERR_FORBIDDEN);
    mag_authz_conf_cleanup(&c);

    /* authorization off: everything passes; authentication off: REST passes, WS is checked */
    mag_authz_conf_init(&c, true, false, false, NULL);
    CHECK_EQ_INT(mag_authz_check(b, &c, "", MAG_AUTHZ_PRODUCE, &missing, NULL), MAG_OK);
    CHECK_EQ_INT(mag_authz_rest(b, &c, "", "GET", "/admin/v2/tenants", &err), MAG_OK);
    mag_authz_conf_cleanup(&c);
    mag_authz_conf_init(&c, false, true, false, "root");
    CHECK_EQ_INT(mag_authz_rest(b, &c, "", "GET", "/admin/v2/tenants", &err), MAG_OK);
    CHECK_EQ_INT(mag_authz_check(b, &c, "", MAG_AUTHZ_PRODUCE, &t, NULL), MAG_ERR_FORBIDDEN);
    mag_authz_conf_cleanup(&c);

    mag_buf_free(&err);
    mag_broker_free(b);
    mag_store_close(s);
    fixture_dir_remove();
}

int main(void)
{
    RUN(test_actions_parse);
    RUN(test_policies_codec);
    RUN(test_truth_table);
    RUN(test_wildcards_partitions_subscriptions);
    RUN(test_admin_permissions);
    RUN(test_authz_decisions);
    return mag_test_summary();
}
