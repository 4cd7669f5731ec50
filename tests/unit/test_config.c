/* test_config.c -- unit tests for src/config.c (Pulsar-style key=value configuration).
 *
 * The expected key names and defaults below are written out from the brief,
 * not derived from the table, so a wrong default or a renamed key fails here.
 * The shipped conf/magnetar.conf ($MAG_SOURCE_DIR, set by ctest) must equal
 * mag_config_write_sample() byte for byte. Running this binary with
 * MAG_WRITE_SAMPLE=<path> writes that sample to <path> instead of testing.
 */
#include "mag/config.h"
#include "mag_test.h"
#include "../../src/config_pulsar_keys.h"

#include <ctype.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char k_default_dump[] =
    "webServicePort=8080\n"
    "webServicePortTls=-1\n"
    "webConsoleEnabled=true\n"
    "bindAddress=0.0.0.0\n"
    "webServiceAllowedOrigins=\n"
    "clusterName=standalone\n"
    "maxConnections=0\n"
    "httpMaxRequestHeaderSize=8192\n"
    "httpMaxRequestBodySize=1048576\n"
    "handshakeTimeoutMillis=10000\n"
    "statusFilePath=\n"
    "webSocketMaxTextFrameSize=1048576\n"
    "webSocketSessionIdleTimeoutMillis=300000\n"
    "webSocketPingDurationSeconds=-1\n"
    "dataDir=data\n"
    "storageMapSizeMB=65536\n"
    "journalSyncData=true\n"
    "groupCommitMaxMessages=4096\n"
    "journalMaxGroupWaitMSec=1\n"
    "journalBufferedWritesThreshold=524288\n"
    "maxMessageSize=5242880\n"
    "allowAutoTopicCreation=true\n"
    "allowAutoTopicCreationType=non-partitioned\n"
    "defaultNumPartitions=1\n"
    "dispatcherMaxRoundRobinBatchSize=20\n"
    "maxUnackedMessagesPerConsumer=50000\n"
    "maxUnackedMessagesPerSubscription=200000\n"
    "subscriptionKeySharedUseConsistentHashing=true\n"
    "subscriptionKeySharedConsistentHashingReplicaPoints=100\n"
    "brokerDeduplicationEnabled=false\n"
    "defaultRetentionTimeInMinutes=0\n"
    "defaultRetentionSizeInMB=0\n"
    "messageExpiryCheckIntervalInMinutes=5\n"
    "ttlDurationDefaultInSeconds=0\n"
    "statsUpdateFrequencyInSecs=60\n"
    "tlsEnabled=false\n"
    "tlsCertificateFilePath=\n"
    "tlsKeyFilePath=\n"
    "tlsTrustCertsFilePath=\n"
    "tlsAllowInsecureConnection=false\n"
    "tlsRequireTrustedClientCertOnConnect=false\n"
    "tlsProtocols=\n"
    "tlsCiphers=\n"
    "authenticationEnabled=false\n"
    "authenticationProviders=\n"
    "authorizationEnabled=false\n"
    "superUserRoles=\n"
    "anonymousUserRole=\n"
    "authorizationAllowWildcardsMatching=false\n"
    "tokenSecretKey=\n"
    "tokenPublicKey=\n"
    "tokenPublicAlg=RS256\n"
    "tokenAuthClaim=sub\n"
    "tokenAudienceClaim=\n"
    "tokenAudience=\n"
    "logLevel=info\n"
    "logFormat=text\n"
    "logFile=\n";

static const char *const k_ignored[] = {
    "webSocketServiceEnabled", "configurationMetadataStoreUrl", "configurationStoreServers",
    "metadataStoreUrl", "zookeeperServers", "brokerServicePort", "brokerServicePortTls",
    "webSocketNumIoThreads", "webSocketConnectionsPerBroker", "numHttpServerThreads", "numIOThreads",
    "managedLedgerDefaultEnsembleSize", "managedLedgerDefaultWriteQuorum", "managedLedgerDefaultAckQuorum",
    "brokerClientAuthenticationPlugin", "brokerClientAuthenticationParameters", "advertisedAddress",
    "functionsWorkerEnabled", "loadBalancerEnabled", "bookkeeperClientTimeoutInSeconds",
};
#define NUM_IGNORED (sizeof k_ignored / sizeof k_ignored[0])

/* Parse `text` into a fresh default config; returns rc, fills err/warn. */
static mag_rc load(struct mag_config *c, const char *text, mag_buf *err, mag_buf *warn)
{
    mag_config_init(c);
    mag_buf_reset(err);
    if (warn)
        mag_buf_reset(warn);
    return mag_config_load_text(c, text, strlen(text), "t.conf", err, warn);
}

static char *dump_str(const struct mag_config *c)
{
    mag_buf b = MAG_BUF_INIT;
    mag_config_dump(c, &b);
    char *s = strdup(mag_buf_cstr(&b));
    mag_buf_free(&b);
    return s;
}

/* Expect `text` to fail with exactly `msg` in err. */
static void expect_error(const char *text, const char *msg)
{
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT;
    mag_rc rc = load(&c, text, &err, NULL);
    CHECK_EQ_INT(rc, MAG_ERR_CONFIG);
    CHECK_STR(mag_buf_cstr(&err), msg);
    mag_config_cleanup(&c);
    mag_buf_free(&err);
}

static void expect_set_error(const char *kv, const char *msg)
{
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT;
    mag_config_init(&c);
    char *before = dump_str(&c);
    CHECK_EQ_INT(mag_config_set(&c, kv, &err, NULL), MAG_ERR_CONFIG);
    CHECK_STR(mag_buf_cstr(&err), msg);
    char *after = dump_str(&c);
    CHECK_STR(after, before); /* unchanged on error */
    free(before);
    free(after);
    mag_config_cleanup(&c);
    mag_buf_free(&err);
}

static char *read_whole(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    mag_buf b = MAG_BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        mag_buf_append(&b, chunk, n);
    fclose(f);
    *len = b.len;
    char *s = strdup(mag_buf_cstr(&b));
    mag_buf_free(&b);
    return s;
}

MAG_TEST(test_defaults)
{
    struct mag_config c;
    mag_config_init(&c);
    CHECK_EQ_INT(c.web_service_port, 8080);
    CHECK_EQ_INT(c.web_service_port_tls, -1);
    CHECK(c.web_console_enabled);
    CHECK_STR(c.bind_address, "0.0.0.0");
    CHECK_EQ_INT(c.web_socket_session_idle_timeout_millis, 300000);
    CHECK_EQ_INT(c.web_socket_ping_duration_seconds, -1);
    CHECK_EQ_INT(c.storage_map_size_mb, 65536);
    CHECK(c.journal_sync_data);
    CHECK(!c.tls_enabled);
    CHECK_STR(c.tls_certificate_file_path, "");
    CHECK_STR(c.allow_auto_topic_creation_type, "non-partitioned");
    CHECK_STR(c.log_level, "info");
    CHECK_STR(c.token_auth_claim, "sub");
    char *d = dump_str(&c);
    CHECK_STR(d, k_default_dump);
    free(d);
    mag_config_cleanup(&c);
    CHECK(c.bind_address == NULL);
    mag_config_cleanup(&c); /* twice is safe */
}

MAG_TEST(test_parse_values)
{
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT, warn = MAG_BUF_INIT;
    const char *text =
        "# comment\n"
        "   # indented comment\n"
        "\n"
        "webServicePort = 9090\r\n"
        "\tbindAddress=\t127.0.0.1  \n"
        "tlsEnabled=TRUE\n"
        "journalSyncData=False\n"
        "logLevel=WARN\n"
        "allowAutoTopicCreationType=Partitioned\n"
        "superUserRoles=admin, ops\n"
        "tokenPublicKey=data:;base64,QUJD==\n"
        "storageMapSizeMB=+1024\n"
        "webSocketSessionIdleTimeoutMillis=9223372036854775807\n"
        "defaultRetentionTimeInMinutes=-1\n"
        "clusterName=a\n"
        "clusterName=b\n"
        "maxConnections=7";  /* no final newline */
    CHECK_EQ_INT(load(&c, text, &err, &warn), MAG_OK);
    CHECK_EQ_INT(err.len, 0);
    CHECK_EQ_INT(warn.len, 0);
    CHECK_EQ_INT(c.web_service_port, 9090);
    CHECK_STR(c.bind_address, "127.0.0.1");
    CHECK(c.tls_enabled);
    CHECK(!c.journal_sync_data);
    CHECK_STR(c.log_level, "warn");
    CHECK_STR(c.allow_auto_topic_creation_type, "partitioned");
    CHECK_STR(c.super_user_roles, "admin, ops");
    CHECK_STR(c.token_public_key, "data:;base64,QUJD==");
    CHECK_EQ_INT(c.storage_map_size_mb, 1024);
    CHECK(c.web_socket_session_idle_timeout_millis == 9223372036854775807L);
    CHECK_EQ_INT(c.default_retention_time_in_minutes, -1);
    CHECK_STR(c.cluster_name, "b");
    CHECK_EQ_INT(c.max_connections, 7);

    /* "key=" means the default again, for every type. */
    const char *reset =
        "webServicePort=\nbindAddress=  \ntlsEnabled=\nlogLevel=\nclusterName=\n";
    CHECK_EQ_INT(mag_config_load_text(&c, reset, strlen(reset), "r.conf", &err, &warn), MAG_OK);
    CHECK_EQ_INT(c.web_service_port, 8080);
    CHECK_STR(c.bind_address, "0.0.0.0");
    CHECK(!c.tls_enabled);
    CHECK_STR(c.log_level, "info");
    CHECK_STR(c.cluster_name, "standalone");
    mag_config_cleanup(&c);

    /* Boundaries are inclusive. */
    CHECK_EQ_INT(load(&c, "webServicePort=0\nwebServicePortTls=65535\n", &err, NULL), MAG_OK);
    CHECK_EQ_INT(c.web_service_port, 0);
    CHECK_EQ_INT(c.web_service_port_tls, 65535);
    mag_config_cleanup(&c);

    /* Empty text and only comments are fine. */
    CHECK_EQ_INT(load(&c, "", &err, NULL), MAG_OK);
    mag_config_cleanup(&c);
    CHECK_EQ_INT(load(&c, "#x=1\n\n  \n", &err, NULL), MAG_OK);
    mag_config_cleanup(&c);
    mag_buf_free(&err);
    mag_buf_free(&warn);
}

MAG_TEST(test_errors)
{
    expect_error("clusterName=x\n\n# c\nfooBar=1\n", "t.conf:4: unknown key 'fooBar'");
    expect_error("webserviceport=1\n", "t.conf:1: unknown key 'webserviceport' (did you mean 'webServicePort'?)");
    expect_error("webServicePort=99999\n", "t.conf:1: webServicePort: '99999' is out of range 0..65535");
    expect_error("webServicePort=-1\n", "t.conf:1: webServicePort: '-1' is out of range 0..65535");
    expect_error("\n\nwebServicePort=8080 # port\n",
                 "t.conf:3: webServicePort: '8080 # port' is not an integer");
    expect_error("webServicePort=0x10\n", "t.conf:1: webServicePort: '0x10' is not an integer");
    expect_error("webServicePort=-\n", "t.conf:1: webServicePort: '-' is not an integer");
    expect_error("webSocketSessionIdleTimeoutMillis=9223372036854775808\n",
                 "t.conf:1: webSocketSessionIdleTimeoutMillis: '9223372036854775808' is out of range "
                 "0..9223372036854775807");
    expect_error("maxConnections=99999999999999999999999\n",
                 "t.conf:1: maxConnections: '99999999999999999999999' is out of range 0..1000000");
    expect_error("tlsEnabled=yes\n", "t.conf:1: tlsEnabled: 'yes' is not a boolean (expected true or false)");
    expect_error("tlsEnabled=truex\n",
                 "t.conf:1: tlsEnabled: 'truex' is not a boolean (expected true or false)");
    expect_error("logLevel=verbose\n", "t.conf:1: logLevel: 'verbose' is not one of debug|info|warn|error");
    expect_error("allowAutoTopicCreationType=both\n",
                 "t.conf:1: allowAutoTopicCreationType: 'both' is not one of non-partitioned|partitioned");
    expect_error("# x\nwebServicePort\n", "t.conf:2: expected key=value, got 'webServicePort'");
    expect_error(" = 5\n", "t.conf:1: missing key before '='");
    expect_error("fooBar\x01=1\n", "t.conf:1: unknown key 'fooBar\\x01'");
    /* Long values are cut in messages. */
    expect_error("webServicePort=1234567890123456789012345678901234567890123456789012345678901234567890"
                 "1234567890123\n",
                 "t.conf:1: webServicePort: '1234567890123456789012345678901234567890123456789012345678901234567890"
                 "1234567890...' is out of range 0..65535");

    /* A NUL byte is an error, even inside a comment. */
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT;
    mag_config_init(&c);
    static const char nul_text[] = "webServicePort=1\n#a\0b\n";
    CHECK_EQ_INT(mag_config_load_text(&c, nul_text, sizeof nul_text - 1, "n.conf", &err, NULL), MAG_ERR_CONFIG);
    CHECK_STR(mag_buf_cstr(&err), "n.conf:2: line contains a NUL byte");
    CHECK_EQ_INT(c.web_service_port, 1); /* lines before the error stay applied */
    mag_config_cleanup(&c);

    /* err may be NULL. */
    mag_config_init(&c);
    CHECK_EQ_INT(mag_config_load_text(&c, "x=1", 3, "n.conf", NULL, NULL), MAG_ERR_CONFIG);
    mag_config_cleanup(&c);
    mag_buf_free(&err);
}

MAG_TEST(test_ignored_keys_warn)
{
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT, warn = MAG_BUF_INIT;
    CHECK_EQ_INT(load(&c, "zookeeperServers=127.0.0.1:2181\n# c\nnumIOThreads=\nwebServicePort=1\n", &err, &warn),
                 MAG_OK);
    CHECK_STR(mag_buf_cstr(&warn),
              "t.conf:1: ignoring Pulsar key 'zookeeperServers' (not used by Magnetar)\n"
              "t.conf:3: ignoring Pulsar key 'numIOThreads' (not used by Magnetar)\n");
    CHECK_EQ_INT(c.web_service_port, 1);
    mag_config_cleanup(&c);

    /* Every key the brief lists is accepted with exactly one warning. */
    for (size_t i = 0; i < NUM_IGNORED; i++) {
        char line[128];
        snprintf(line, sizeof line, "%s=x", k_ignored[i]);
        mag_config_init(&c);
        mag_buf_reset(&warn);
        CHECK_EQ_INT(mag_config_set(&c, line, &err, &warn), MAG_OK);
        char expect[160];
        snprintf(expect, sizeof expect, "-o: ignoring Pulsar key '%s' (not used by Magnetar)\n", k_ignored[i]);
        CHECK_STR(mag_buf_cstr(&warn), expect);
        mag_config_cleanup(&c);
    }
    CHECK_EQ_INT(err.len, 0);
    /* warnings may be NULL */
    CHECK_EQ_INT(load(&c, "zookeeperServers=x\n", &err, NULL), MAG_OK);
    mag_config_cleanup(&c);
    mag_buf_free(&err);
    mag_buf_free(&warn);
}

/* Every other key of Pulsar's ServiceConfiguration / WebSocketProxyConfiguration
 * (src/config_pulsar_keys.c) is accepted with one warning and changes nothing. */
MAG_TEST(test_pulsar_keys_table)
{
    size_t n = mag_config_pulsar_key_count();
    CHECK(n > 450);
    mag_buf sample = MAG_BUF_INIT, err = MAG_BUF_INIT, warn = MAG_BUF_INIT;
    mag_config_write_sample(&sample);
    struct mag_config c;
    mag_config_init(&c);
    char *before = dump_str(&c);
    for (size_t i = 0; i < n; i++) {
        const char *k = mag_config_pulsar_key_name(i);
        /* strcmp order, so the bsearch finds every key */
        if (i > 0 && strcmp(mag_config_pulsar_key_name(i - 1), k) >= 0)
            CHECK_STR(mag_config_pulsar_key_name(i - 1), "(sorted before)");
        CHECK_EQ_INT(mag_config_pulsar_key(k, strlen(k), NULL), (int)i);
        /* not also a key of config.c's table (used or ignored there) */
        char probe[160];
        snprintf(probe, sizeof probe, "\n#%s=", k);
        if (strstr(mag_buf_cstr(&sample), probe))
            CHECK_STR(k, "(in config.c's table too)");
        char line[200], expect[200];
        snprintf(line, sizeof line, "%s=1", k);
        mag_buf_reset(&warn);
        CHECK_EQ_INT(mag_config_set(&c, line, &err, &warn), MAG_OK);
        snprintf(expect, sizeof expect, "-o: ignoring Pulsar key '%s' (not used by Magnetar: ", k);
        CHECK(strncmp(mag_buf_cstr(&warn), expect, strlen(expect)) == 0);
    }
    CHECK_EQ_INT(err.len, 0);
    char *after = dump_str(&c);
    CHECK_STR(after, before);
    free(before);
    free(after);
    mag_config_cleanup(&c);
    CHECK_EQ_INT(mag_config_pulsar_key("maxProducersPerTopicX", 21, NULL), -1);
    CHECK_EQ_INT(mag_config_pulsar_key("maxProducersPerTopic", 19, NULL), -1); /* a prefix is not a key */
    CHECK(mag_config_pulsar_key_name(n) == NULL);

    /* Keys from Pulsar's standalone.conf that once stopped the server. */
    static const char *const reported[] = {
        "metadataStoreConfigPath", "brokerDeleteInactiveTopicsEnabled", "forceDeleteTenantAllowed",
        "maxProducersPerTopic", "forceDeleteNamespaceAllowed", "managedLedgerCacheSizeMB",
    };
    for (size_t i = 0; i < sizeof reported / sizeof reported[0]; i++)
        CHECK(mag_config_pulsar_key(reported[i], strlen(reported[i]), NULL) >= 0);

    /* One warning per distinct key, however often it is set. */
    CHECK_EQ_INT(load(&c, "maxProducersPerTopic=1\nzookeeperServers=a\nmaxProducersPerTopic=2\n"
                          "zookeeperServers=b\nforceDeleteTenantAllowed=true\n", &err, &warn), MAG_OK);
    CHECK_STR(mag_buf_cstr(&warn),
              "t.conf:1: ignoring Pulsar key 'maxProducersPerTopic' (not used by Magnetar: not implemented by Magnetar)\n"
              "t.conf:2: ignoring Pulsar key 'zookeeperServers' (not used by Magnetar)\n"
              "t.conf:5: ignoring Pulsar key 'forceDeleteTenantAllowed' (not used by Magnetar: not implemented by Magnetar)\n");
    mag_config_cleanup(&c);
    mag_buf_free(&sample);
    mag_buf_free(&err);
    mag_buf_free(&warn);
}

MAG_TEST(test_set)
{
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT;
    mag_config_init(&c);
    CHECK_EQ_INT(mag_config_set(&c, "webServicePort=0", &err, NULL), MAG_OK);
    CHECK_EQ_INT(mag_config_set(&c, " dataDir = /tmp/x=y ", &err, NULL), MAG_OK);
    CHECK_EQ_INT(mag_config_set(&c, "tokenSecretKey=data:;base64,c2VjcmV0", &err, NULL), MAG_OK);
    CHECK_EQ_INT(c.web_service_port, 0);
    CHECK_STR(c.data_dir, "/tmp/x=y");
    CHECK_STR(c.token_secret_key, "data:;base64,c2VjcmV0");
    CHECK_EQ_INT(err.len, 0);
    mag_config_cleanup(&c);
    mag_buf_free(&err);

    expect_set_error("webServicePort=99999", "-o: webServicePort: '99999' is out of range 0..65535");
    expect_set_error("fooBar=1", "-o: unknown key 'fooBar'");
    expect_set_error("webServicePort", "-o: expected KEY=VALUE, got 'webServicePort'");
    expect_set_error("", "-o: expected KEY=VALUE, got ''");
    expect_set_error("=1", "-o: missing key before '='");
    expect_set_error("logLevel=trace", "-o: logLevel: 'trace' is not one of debug|info|warn|error");
    /* A newline or other control character in a value would make
     * --dump-config print a line that parses as something else. */
    expect_set_error("bindAddress =#\nC=", "-o: bindAddress: '#\\x0aC=' contains a control character");
    expect_set_error("clusterName=a\x1b[2Jb", "-o: clusterName: 'a\\x1b[2Jb' contains a control character");
    expect_set_error("clusterName=a\x7f", "-o: clusterName: 'a\\x7f' contains a control character");
    expect_error("clusterName=a\x01" "b\n", "t.conf:1: clusterName: 'a\\x01b' contains a control character");
}

MAG_TEST(test_dump_redacts_and_round_trips)
{
    struct mag_config c, c2;
    mag_buf err = MAG_BUF_INIT;
    CHECK_EQ_INT(load(&c, "tokenSecretKey=s3cret\nclusterName= my cluster \nwebSocketPingDurationSeconds=30\n",
                      &err, NULL), MAG_OK);
    char *d = dump_str(&c);
    CHECK(strstr(d, "tokenSecretKey=******\n") != NULL);
    CHECK(strstr(d, "s3cret") == NULL);
    CHECK(strstr(d, "\nclusterName=my cluster\n") != NULL);
    CHECK(strstr(d, "\nwebSocketPingDurationSeconds=30\n") != NULL);
    /* The dump parses back to the same dump. */
    mag_config_init(&c2);
    CHECK_EQ_INT(mag_config_load_text(&c2, d, strlen(d), "dump", &err, NULL), MAG_OK);
    char *d2 = dump_str(&c2);
    CHECK_STR(d2, d);
    free(d);
    free(d2);
    mag_config_cleanup(&c);
    mag_config_cleanup(&c2);
    mag_buf_free(&err);
}

MAG_TEST(test_load_file)
{
    char path[] = "/tmp/mag_test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    const char text[] = "webServicePort=1234\nbrokerServicePort=6650\nbogus=1\n";
    CHECK_EQ_INT(write(fd, text, sizeof text - 1), (long long)(sizeof text - 1));
    close(fd);

    struct mag_config c;
    mag_buf err = MAG_BUF_INIT, warn = MAG_BUF_INIT, expect = MAG_BUF_INIT;
    mag_config_init(&c);
    CHECK_EQ_INT(mag_config_load_file(&c, path, &err, &warn), MAG_ERR_CONFIG);
    mag_buf_appendf(&expect, "%s:3: unknown key 'bogus'", path);
    CHECK_STR(mag_buf_cstr(&err), mag_buf_cstr(&expect));
    mag_buf_reset(&expect);
    mag_buf_appendf(&expect, "%s:2: ignoring Pulsar key 'brokerServicePort' (not used by Magnetar)\n", path);
    CHECK_STR(mag_buf_cstr(&warn), mag_buf_cstr(&expect));
    CHECK_EQ_INT(c.web_service_port, 1234);
    unlink(path);

    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_config_load_file(&c, "/nonexistent/magnetar.conf", &err, NULL), MAG_ERR_CONFIG);
    CHECK_STR(mag_buf_cstr(&err), "/nonexistent/magnetar.conf: cannot open: No such file or directory");
    mag_buf_reset(&err);
    CHECK_EQ_INT(mag_config_load_file(&c, "/tmp", &err, NULL), MAG_ERR_CONFIG);
    CHECK_STR(mag_buf_cstr(&err), "/tmp: read error: Is a directory");
    mag_config_cleanup(&c);
    mag_buf_free(&err);
    mag_buf_free(&warn);
    mag_buf_free(&expect);
}

MAG_TEST(test_sample_mentions_every_key)
{
    mag_buf s = MAG_BUF_INIT;
    mag_config_write_sample(&s);
    const char *text = mag_buf_cstr(&s);

    /* Every key of the dump appears commented out with its default. */
    const char *p = k_default_dump;
    int keys = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        char want[160];
        snprintf(want, sizeof want, "\n#%.*s\n", (int)(nl - p), p);
        if (!strstr(text, want))
            fprintf(stderr, "sample lacks %s", want + 1);
        CHECK(strstr(text, want) != NULL);
        keys++;
        p = nl + 1;
    }
    CHECK_EQ_INT(keys, 58);
    for (size_t i = 0; i < NUM_IGNORED; i++) {
        char want[160];
        snprintf(want, sizeof want, "\n#%s=\n", k_ignored[i]);
        CHECK(strstr(text, want) != NULL);
    }

    /* Uncommenting every "#key=" line gives the defaults plus one warning per
     * ignored key, and nothing else is uncommentable by accident. */
    mag_buf un = MAG_BUF_INIT, err = MAG_BUF_INIT, warn = MAG_BUF_INIT;
    size_t settings = 0;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
        if (line[0] == '#' && line[1] != ' ' && line[1] != '#' && line[1] != '\n' && memchr(line, '=', n)) {
            mag_buf_append(&un, line + 1, n - 1);
            settings++;
        }
        line += n;
    }
    CHECK_EQ_INT(settings, 58 + NUM_IGNORED);
    struct mag_config c;
    CHECK_EQ_INT(load(&c, mag_buf_cstr(&un), &err, &warn), MAG_OK);
    char *d = dump_str(&c);
    CHECK_STR(d, k_default_dump);
    free(d);
    size_t warnings = 0;
    for (size_t i = 0; i < warn.len; i++)
        warnings += warn.data[i] == '\n';
    CHECK_EQ_INT(warnings, NUM_IGNORED);
    mag_config_cleanup(&c);
    mag_buf_free(&un);
    mag_buf_free(&err);
    mag_buf_free(&warn);
    mag_buf_free(&s);
}

MAG_TEST(test_shipped_file_matches_sample)
{
    const char *src = getenv("MAG_SOURCE_DIR");
    CHECK(src != NULL);
    if (!src)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/conf/magnetar.conf", src);
    size_t len = 0;
    char *shipped = read_whole(path, &len);
    CHECK(shipped != NULL);
    if (!shipped)
        return;
    mag_buf s = MAG_BUF_INIT;
    mag_config_write_sample(&s);
    const char *want = mag_buf_cstr(&s);
    CHECK_EQ_INT(len, s.len);
    CHECK(strcmp(shipped, want) == 0);
    if (len != s.len || strcmp(shipped, want) != 0) {
        /* Show the first differing line rather than two 7 KiB strings. */
        size_t i = 0, line = 1, start = 0;
        while (shipped[i] && shipped[i] == want[i]) {
            if (shipped[i] == '\n') {
                line++;
                start = i + 1;
            }
            i++;
        }
        fprintf(stderr, "%s:%zu differs from mag_config_write_sample():\n  file:   %.*s\n  sample: %.*s\n"
                        "regenerate with MAG_WRITE_SAMPLE=conf/magnetar.conf BUILD/tests/test_config\n",
                path, line, (int)strcspn(shipped + start, "\n"), shipped + start,
                (int)strcspn(want + start, "\n"), want + start);
    }

    /* And the shipped file loads cleanly to the defaults. */
    struct mag_config c;
    mag_buf err = MAG_BUF_INIT, warn = MAG_BUF_INIT;
    mag_config_init(&c);
    CHECK_EQ_INT(mag_config_load_file(&c, path, &err, &warn), MAG_OK);
    CHECK_EQ_INT(warn.len, 0);
    char *d = dump_str(&c);
    CHECK_STR(d, k_default_dump);
    free(d);
    mag_config_cleanup(&c);
    mag_buf_free(&err);
    mag_buf_free(&warn);
    mag_buf_free(&s);
    free(shipped);
}

static int write_sample(const char *path)
{
    mag_buf s = MAG_BUF_INIT;
    mag_config_write_sample(&s);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(s.data, 1, s.len, f) == s.len;
    if (f && fclose(f) != 0)
        ok = 0;
    mag_buf_free(&s);
    if (!ok) {
        perror(path);
        return 1;
    }
    printf("wrote %s\n", path);
    return 0;
}

/* Append every .c file under dir (recursively) except src/config.c to all. */
static void slurp_sources(const char *dir, mag_buf *all)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        size_t n = strlen(de->d_name);
        if (n > 2 && strcmp(de->d_name + n - 2, ".c") == 0) {
            if (strcmp(de->d_name, "config.c") == 0)
                continue;
            size_t len;
            char *text = read_whole(p, &len);
            if (text) {
                mag_buf_append(all, text, len);
                mag_buf_append_byte(all, '\n');
                free(text);
            }
        } else {
            slurp_sources(p, all);      /* not a directory: opendir fails, nothing happens */
        }
    }
    closedir(d);
}

/* Every key of the table is either read by code (its struct mag_config member
 * appears as "->member" or ".member" in a source file other than config.c) or
 * an IGNORED entry that warns. A key added to the table and never read fails
 * here. */
MAG_TEST(test_every_key_is_read_or_ignored)
{
    const char *src = getenv("MAG_SOURCE_DIR");
    CHECK(src != NULL);
    if (!src)
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/src", src);
    mag_buf all = MAG_BUF_INIT;
    slurp_sources(dir, &all);
    CHECK(all.len > 100000);
    const char *text = mag_buf_cstr(&all);
    size_t used = 0, ignored = 0;
    for (size_t i = 0; i < mag_config_key_count(); i++) {
        const char *field;
        const char *name = mag_config_key(i, &field);
        if (!field) {
            ignored++;
            continue;
        }
        used++;
        size_t fl = strlen(field);
        bool found = false;
        for (const char *h = strstr(text, field); h && !found; h = strstr(h + 1, field)) {
            bool member = h > text && (h[-1] == '.' || (h[-1] == '>' && h - 1 > text && h[-2] == '-'));
            bool whole = !(isalnum((unsigned char)h[fl]) || h[fl] == '_');
            found = member && whole;
        }
        if (!found)
            CHECK_STR(name, "(read by no code outside config.c: use it or make it IGNORED)");
    }
    CHECK(used >= 50);
    CHECK(ignored >= 10);
    CHECK(mag_config_key(mag_config_key_count(), NULL) == NULL);
    mag_buf_free(&all);
}

int main(void)
{
    const char *out = getenv("MAG_WRITE_SAMPLE");
    if (out)
        return write_sample(out);
    RUN(test_defaults);
    RUN(test_parse_values);
    RUN(test_errors);
    RUN(test_ignored_keys_warn);
    RUN(test_pulsar_keys_table);
    RUN(test_set);
    RUN(test_dump_redacts_and_round_trips);
    RUN(test_load_file);
    RUN(test_sample_mentions_every_key);
    RUN(test_shipped_file_matches_sample);
    RUN(test_every_key_is_read_or_ignored);
    return mag_test_summary();
}
