/* test_topic_path.c -- unit tests for src/codec/topic_path.c.
 *
 * The rules of AbstractWebSocketHandler.extractTopicName, TopicName and
 * ConsumerHandler.extractSubscription plus Pulsar's own test cases
 * (AbstractWebSocketHandlerTest, emptySubscriptionConsumerTest): v1/v2 shapes,
 * URL-encoded names with punctuation, spaces, CJK characters and slashes,
 * trailing slashes, empty subscriptions, partition suffix rules, and the
 * 404/500/400 split.
 */
#include "mag_test.h"
#include "mag/codec/topic_path.h"

#include <stdio.h>

/* java.net.URLEncoder.encode(s, UTF-8) */
static void java_url_encode(mag_buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '.' || *p == '-' || *p == '*' || *p == '_')
            mag_buf_append_byte(out, *p);
        else if (*p == ' ')
            mag_buf_append_byte(out, '+');
        else
            mag_buf_appendf(out, "%%%02X", *p);
    }
}

static mag_ws_path P;
static mag_buf E;

static mag_rc parse(const char *path)
{
    mag_buf_reset(&E);
    return mag_ws_path_parse(path, strlen(path), &P, &E);
}

/* prefix + URLEncoder(topic) [+ "/" + URLEncoder(sub)] */
static mag_rc parse_enc(const char *prefix, const char *topic, const char *sub)
{
    mag_buf b = MAG_BUF_INIT;
    mag_buf_append_str(&b, prefix);
    java_url_encode(&b, topic);
    if (sub) {
        mag_buf_append_byte(&b, '/');
        java_url_encode(&b, sub);
    }
    mag_rc rc = parse(mag_buf_cstr(&b));
    mag_buf_free(&b);
    return rc;
}

MAG_TEST(parse_topic_name_test)   /* AbstractWebSocketHandlerTest.parseTopicNameTest */
{
    CHECK_EQ_INT(parse("/ws/producer/persistent/my-property/my-cluster/my-ns/my-topic"), MAG_OK);
    CHECK_EQ_INT(P.kind, MAG_EP_PRODUCER);
    CHECK(!P.v2);
    CHECK_STR(P.topic.full, "persistent://my-property/my-cluster/my-ns/my-topic");
    CHECK_STR(P.topic.tenant, "my-property");
    CHECK_STR(P.topic.cluster, "my-cluster");
    CHECK_STR(P.topic.ns, "my-ns");
    CHECK_STR(P.topic.local, "my-topic");
    CHECK(P.topic.persistent);

    CHECK_EQ_INT(parse("/ws/consumer/persistent/my-property/my-cluster/my-ns/my-topic/my-subscription"),
                 MAG_OK);
    CHECK_EQ_INT(P.kind, MAG_EP_CONSUMER);
    CHECK_STR(P.topic.full, "persistent://my-property/my-cluster/my-ns/my-topic");
    CHECK_STR(P.subscription, "my-subscription");

    CHECK_EQ_INT(parse("/ws/reader/persistent/my-property/my-cluster/my-ns/my-topic"), MAG_OK);
    CHECK_EQ_INT(P.kind, MAG_EP_READER);
    CHECK_STR(P.topic.full, "persistent://my-property/my-cluster/my-ns/my-topic");

    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/my-property/my-ns/my-topic"), MAG_OK);
    CHECK(P.v2);
    CHECK_STR(P.topic.full, "persistent://my-property/my-ns/my-topic");
    CHECK_STR(P.topic.cluster, "");
    CHECK_STR(P.topic.ns, "my-ns");
    CHECK_EQ_INT(P.topic.partition, -1);
    CHECK_EQ_INT(P.topic.base_len, strlen(P.topic.full));
    CHECK_STR(P.subscription, "");

    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/my-property/my-ns/my-topic/my-subscription"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-ns/my-topic");
    CHECK_STR(P.subscription, "my-subscription");

    CHECK_EQ_INT(parse("/ws/v2/reader/non-persistent/my-property/my-ns/my-topic"), MAG_OK);
    CHECK_STR(P.topic.full, "non-persistent://my-property/my-ns/my-topic");
    CHECK(!P.topic.persistent);

    /* v2 consumer with slashes: the topic parses, the subscription does not */
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/my-tenant/my-ns/some/topic/with/slashes/my-sub"),
                 MAG_ERR_BAD_REQUEST);
    CHECK_STR(mag_buf_cstr(&E), "Invalid topic name format");
    CHECK_STR(P.topic.full, "persistent://my-tenant/my-ns/some/topic/with/slashes");
    CHECK_EQ_INT(P.kind, MAG_EP_CONSUMER);

    /* v2 producer with slashes: legacy name (TopicName's limit-4 split) */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/my-tenant/my-ns/some/topic/with/slashes"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-tenant/my-ns/some/topic/with/slashes");
    CHECK_STR(P.topic.tenant, "my-tenant");
    CHECK_STR(P.topic.cluster, "my-ns");
    CHECK_STR(P.topic.ns, "some");
    CHECK_STR(P.topic.local, "topic/with/slashes");
}

MAG_TEST(topic_name_url_encoding_test)   /* ...Test.topicNameUrlEncodingTest */
{
    CHECK_EQ_INT(parse_enc("/ws/producer/persistent/my-property/my-cluster/my-ns/", "my-topic[]<>", NULL),
                 MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-cluster/my-ns/my-topic[]<>");

    CHECK_EQ_INT(parse_enc("/ws/consumer/persistent/my-property/my-cluster/my-ns/", "my-topic!@#!@#!@#",
                           "my-subscription[]<>!@#$%^&*( )"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-cluster/my-ns/my-topic!@#!@#!@#");
    CHECK_STR(P.subscription, "my-subscription[]<>!@#$%^&*( )");

    CHECK_EQ_INT(parse_enc("/ws/reader/persistent/my-property/my-cluster/my-ns/", "my-topic[]!) (*&^%$#@",
                           NULL), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-cluster/my-ns/my-topic[]!) (*&^%$#@");

    CHECK_EQ_INT(parse_enc("/ws/v2/producer/persistent/my-property/my-ns/", "my-topic[]<>", NULL), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-ns/my-topic[]<>");
    CHECK_STR(P.topic.local, "my-topic[]<>");

    CHECK_EQ_INT(parse_enc("/ws/v2/consumer/persistent/my-property/my-ns/", "my-topic",
                           "my-subscription[][]<>"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-ns/my-topic");
    CHECK_STR(P.subscription, "my-subscription[][]<>");

    const char *cjk = "my-topic/ / /@!$#^&*( /)1 /_\xe3\x80\x81`\xef\xbc\x8c\xe3\x80\x8a\xe3\x80\x8b</>[]";
    CHECK_EQ_INT(parse_enc("/ws/v2/reader/persistent/my-property/my-ns/", cjk, NULL), MAG_OK);
    char want[256];
    snprintf(want, sizeof want, "persistent://my-property/my-ns/%s", cjk);
    CHECK_STR(P.topic.full, want);

    /* spaces as %20 and '+' both decode to a space; %2F to '/' */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns/a%20b+c"), MAG_OK);
    CHECK_STR(P.topic.local, "a b c");
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns/a%2Fb"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://t/ns/a/b");
    CHECK_STR(P.topic.cluster, "ns");
    CHECK_STR(P.topic.local, "b");
}

MAG_TEST(trailing_and_empty_segments)
{
    /* Pulsar's ProxyPublishConsumeTest: producer URL may end with '/' */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/my-property/my-ns/my-topic1/"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://my-property/my-ns/my-topic1");
    CHECK_EQ_INT(parse("/ws/v2/reader/persistent/t/ns/a//b/"), MAG_OK);
    CHECK_STR(P.topic.full, "persistent://t/ns/a/b");
    /* segment 7 is always kept, even when empty */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns//x"), MAG_ERR_INTERNAL);
    /* emptySubscriptionConsumerTest: consumer URL with an empty subscription -> 400 */
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/my-property/my-ns/my-topic/"), MAG_ERR_BAD_REQUEST);
    CHECK_STR(mag_buf_cstr(&E), "Empty subscription name");
    CHECK_STR(P.topic.full, "persistent://my-property/my-ns/my-topic");
    /* consumer with only 8 segments: topic parses, subscription missing */
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/t/ns/x"), MAG_ERR_BAD_REQUEST);
    CHECK_STR(mag_buf_cstr(&E), "Invalid topic name format");
    CHECK_STR(P.topic.full, "persistent://t/ns/x");
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/t/ns/x/sub/"), MAG_ERR_BAD_REQUEST);
}

MAG_TEST(mounts_and_status)
{
    CHECK_EQ_INT(parse("/ws/pingpong"), MAG_OK);
    CHECK_EQ_INT(P.kind, MAG_EP_PINGPONG);
    CHECK_STR(P.topic.full, "");
    CHECK_EQ_INT(parse("/ws/v2/pingpong/anything"), MAG_OK);
    CHECK_EQ_INT(P.kind, MAG_EP_PINGPONG);
    CHECK(P.v2);
    CHECK_EQ_INT(parse("/ws/v2/producerX/persistent/t/ns/x"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse("/ws/v3/consumer/sub"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse("/ws/v2"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse("/ws"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse("/admin/v2/persistent/t/ns"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse("ws/v2/producer/persistent/t/ns/x"), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse(""), MAG_ERR_NOT_FOUND);
    CHECK_EQ_INT(parse("/WS/v2/producer/persistent/t/ns/x"), MAG_ERR_NOT_FOUND);

    /* mounted but malformed: Pulsar's uncaught IllegalArgumentException -> 500 */
    CHECK_EQ_INT(parse("/ws/v2/producer"), MAG_ERR_INTERNAL);
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns"), MAG_ERR_INTERNAL);
    CHECK_STR(mag_buf_cstr(&E), "Invalid topic name format");
    CHECK_EQ_INT(parse("/ws/v2/producer/Persistent/t/ns/x"), MAG_ERR_INTERNAL);
    CHECK_STR(mag_buf_cstr(&E), "Invalid topic domain: Persistent");
    CHECK_EQ_INT(parse("/ws/producer/persistent/t/ns/x"), MAG_ERR_INTERNAL);   /* v1 needs a cluster */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t!/ns/x"), MAG_ERR_INTERNAL);
    CHECK_STR(mag_buf_cstr(&E), "Invalid namespace format. namespace: t!/ns");
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent//ns/x"), MAG_ERR_INTERNAL);
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/n%20s/x"), MAG_ERR_INTERNAL);  /* not decoded */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t-1/ns.=:_/x"), MAG_OK);
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns/"), MAG_ERR_INTERNAL);       /* empty local */
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns/%zz"), MAG_ERR_INTERNAL);
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/t/ns/%zz/sub"), MAG_ERR_INTERNAL);
    CHECK_EQ_INT(parse("/ws/consumer/persistent/t/c/ns/x/s"), MAG_OK);

    /* consumer subscription problems -> 400 */
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/t/ns/x/%zz"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/t/ns/x/a%00b"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(parse("/ws/v2/consumer/persistent/t/ns/x/a+b%21"), MAG_OK);
    CHECK_STR(P.subscription, "a b!");

    char path[1200];
    int n = snprintf(path, sizeof path, "/ws/v2/consumer/persistent/t/ns/x/");
    memset(path + n, 's', 256);
    path[n + 256] = '\0';
    CHECK_EQ_INT(parse(path), MAG_ERR_BAD_REQUEST);
    path[n + 255] = '\0';
    CHECK_EQ_INT(parse(path), MAG_OK);
    CHECK_EQ_INT(strlen(P.subscription), 255);

    /* a full name longer than MAG_TOPIC_NAME_MAX -> 400 */
    n = snprintf(path, sizeof path, "/ws/v2/producer/persistent/t/ns/");
    size_t room = MAG_TOPIC_NAME_MAX - strlen("persistent://t/ns/");
    memset(path + n, 'x', room);
    path[n + room] = '\0';
    CHECK_EQ_INT(parse(path), MAG_OK);
    CHECK_EQ_INT(strlen(P.topic.full), MAG_TOPIC_NAME_MAX);
    path[n + room] = 'x';
    path[n + room + 1] = '\0';
    CHECK_EQ_INT(parse(path), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(parse("/ws/v2/producer/persistent/t/ns/a%00b"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_ws_path_parse("/ws/x", 5, &P, NULL), MAG_ERR_NOT_FOUND);
}

static mag_topic_name T;

static mag_rc tn(const char *s)
{
    return mag_topic_name_parse(s, strlen(s), &T);
}

MAG_TEST(topic_name_parse)
{
    CHECK_EQ_INT(tn("persistent://t/ns/x"), MAG_OK);
    CHECK_STR(T.full, "persistent://t/ns/x");
    CHECK_STR(T.tenant, "t");
    CHECK_STR(T.cluster, "");
    CHECK_STR(T.ns, "ns");
    CHECK_STR(T.local, "x");
    CHECK(T.persistent);
    CHECK_EQ_INT(tn("non-persistent://t/ns/x"), MAG_OK);
    CHECK(!T.persistent);
    CHECK_EQ_INT(tn("PERSISTENT://t/ns/x"), MAG_OK);      /* TopicDomain.getEnum ignores case */
    CHECK_STR(T.full, "persistent://t/ns/x");
    CHECK_EQ_INT(tn("t/ns/x"), MAG_OK);
    CHECK_STR(T.full, "persistent://t/ns/x");
    CHECK_EQ_INT(tn("x"), MAG_OK);
    CHECK_STR(T.full, "persistent://public/default/x");
    CHECK_EQ_INT(tn("/x/"), MAG_OK);
    CHECK_STR(T.full, "persistent://public/default/x");
    CHECK_EQ_INT(tn("persistent://t/c/ns/a/b"), MAG_OK);
    CHECK_STR(T.cluster, "c");
    CHECK_STR(T.ns, "ns");
    CHECK_STR(T.local, "a/b");
    CHECK_EQ_INT(tn("t/x"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("a/b/c/d"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("t//ns/x"), MAG_ERR_BAD_REQUEST);       /* empty cluster */
    CHECK_EQ_INT(tn(""), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("persistent://t/ns"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("persistent://t/ns/"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("foo://t/ns/x"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("persistent://t$/ns/x"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(tn("persistent:///ns/x"), MAG_ERR_BAD_REQUEST);
    CHECK_EQ_INT(mag_topic_name_parse("t/ns/a\0b", 8, &T), MAG_ERR_BAD_REQUEST);
}

MAG_TEST(partitions)
{
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-3"), MAG_OK);
    CHECK_EQ_INT(T.partition, 3);
    CHECK_EQ_INT(T.base_len, strlen("persistent://t/ns/x"));
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-0"), MAG_OK);
    CHECK_EQ_INT(T.partition, 0);
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-01"), MAG_OK);
    CHECK_EQ_INT(T.partition, -1);
    CHECK_EQ_INT(T.base_len, strlen(T.full));
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition--1"), MAG_OK);
    CHECK_EQ_INT(T.partition, -1);
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-+1"), MAG_OK);
    CHECK_EQ_INT(T.partition, -1);
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-"), MAG_OK);
    CHECK_EQ_INT(T.partition, -1);
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-2147483648"), MAG_OK);
    CHECK_EQ_INT(T.partition, -1);
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-1-partition-2"), MAG_OK);
    CHECK_EQ_INT(T.partition, 2);
    CHECK_EQ_INT(T.base_len, strlen("persistent://t/ns/x-partition-1"));
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-2a"), MAG_OK);
    CHECK_EQ_INT(T.partition, -1);

    char out[MAG_TOPIC_NAME_MAX + 1];
    CHECK_EQ_INT(tn("persistent://t/ns/x"), MAG_OK);
    CHECK_EQ_INT(mag_topic_partition_name(&T, 2, out), MAG_OK);
    CHECK_STR(out, "persistent://t/ns/x-partition-2");
    CHECK_EQ_INT(tn("persistent://t/ns/x-partition-1"), MAG_OK);
    CHECK_EQ_INT(mag_topic_partition_name(&T, 5, out), MAG_OK);
    CHECK_STR(out, "persistent://t/ns/x-partition-5");
    CHECK_EQ_INT(mag_topic_partition_name(&T, -1, out), MAG_ERR_BAD_REQUEST);
    CHECK_STR(out, "");

    char name[MAG_TOPIC_NAME_MAX + 1];
    int n = snprintf(name, sizeof name, "persistent://t/ns/");
    memset(name + n, 'y', MAG_TOPIC_NAME_MAX - (size_t)n);
    name[MAG_TOPIC_NAME_MAX] = '\0';
    CHECK_EQ_INT(tn(name), MAG_OK);
    CHECK_EQ_INT(mag_topic_partition_name(&T, 1, out), MAG_ERR_BAD_REQUEST);
    name[MAG_TOPIC_NAME_MAX - 12] = '\0';
    CHECK_EQ_INT(tn(name), MAG_OK);
    CHECK_EQ_INT(mag_topic_partition_name(&T, 1, out), MAG_OK);
    CHECK_EQ_INT(strlen(out), MAG_TOPIC_NAME_MAX);
}

static mag_buf CANON;

static const char *canon(const char *in, mag_rc *rc)
{
    mag_buf_reset(&E);
    *rc = mag_path_remove_dot_segments(in, strlen(in), &CANON, &E);
    return *rc == MAG_OK ? mag_buf_cstr(&CANON) : mag_buf_cstr(&E);
}

/* Jetty's URIUtil.canonicalPath before the servlet is chosen. */
MAG_TEST(dot_segments)
{
    mag_rc rc;
    CHECK_STR(canon("/ws/v2/producer/persistent/../../etc/passwd", &rc), "/ws/v2/etc/passwd");
    CHECK_EQ_INT(rc, MAG_OK);
    CHECK_STR(canon("/ws/v2/producer/persistent/t/ns/x", &rc), "/ws/v2/producer/persistent/t/ns/x");
    CHECK_STR(canon("/a/./b/.", &rc), "/a/b/");
    CHECK_STR(canon("/a/b/..", &rc), "/a/");
    CHECK_STR(canon("/a/..", &rc), "/");
    CHECK_STR(canon("/a//../b", &rc), "/a/b");
    CHECK_STR(canon("/a/...", &rc), "/a/...");           /* not a dot segment */
    CHECK_STR(canon("/a/..b/.c/x.", &rc), "/a/..b/.c/x.");
    CHECK_STR(canon("/", &rc), "/");
    CHECK_STR(canon("/..", &rc), "Bad URI");
    CHECK_EQ_INT(rc, MAG_ERR_BAD_REQUEST);
    CHECK_STR(canon("/a/../../b", &rc), "Bad URI");
    CHECK_STR(canon("/a/%2e%2e/b", &rc), "Ambiguous URI path segment");
    CHECK_EQ_INT(rc, MAG_ERR_BAD_REQUEST);
    CHECK_STR(canon("/a/%2E", &rc), "Ambiguous URI path segment");
    CHECK_STR(canon("/a/.%2e/b", &rc), "Ambiguous URI path segment");
    CHECK_STR(canon("/a/%2e%2e%2e/b", &rc), "/a/%2e%2e%2e/b");
    CHECK_STR(canon("/a/%2ex/%2", &rc), "/a/%2ex/%2");
    /* and the WebSocket path parser never sees a ".." it would take for a name */
    CHECK_EQ_INT(parse(canon("/ws/v2/producer/persistent/t/ns/../../x/y", &rc)), MAG_ERR_INTERNAL);
}

int main(void)
{
    RUN(parse_topic_name_test);
    RUN(topic_name_url_encoding_test);
    RUN(trailing_and_empty_segments);
    RUN(mounts_and_status);
    RUN(topic_name_parse);
    RUN(partitions);
    RUN(dot_segments);
    mag_buf_free(&E);
    mag_buf_free(&CANON);
    return mag_test_summary();
}
