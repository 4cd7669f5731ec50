/* config.c -- table-driven configuration: Pulsar-style key=value files and -o overrides.
 *
 * g_opts[] below is the single truth for every key: name, type, struct field
 * (offsetof, type-checked at compile time), range or choices, default as text
 * and a one-line doc. Parsing, -o overrides, mag_config_init() (defaults go
 * through the same parser), mag_config_dump() and mag_config_write_sample()
 * all walk this one table, so a key cannot be documented but unparsed, or
 * parsed but missing from conf/magnetar.conf (a unit test compares them).
 * Keys Pulsar has but Magnetar ignores are IGNORED entries: accepted, warned.
 */
#include "mag/config.h"
#include "config_pulsar_keys.h"
#include "mag/util/alloc.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------------ */
/* The option table                                                          */
/* ------------------------------------------------------------------------ */

enum opt_type { OPT_INT, OPT_LONG, OPT_BOOL, OPT_STRING, OPT_ENUM, OPT_IGNORED };

#define OPT_SECRET 1u /* value redacted by mag_config_dump() */

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;               /* into struct mag_config; unused for IGNORED */
    long long min, max;          /* INT and LONG */
    const char *const *choices;  /* ENUM: NULL-terminated canonical spellings */
    const char *def;             /* default as text (parsed by the same code) */
    const char *doc;             /* one line for the sample file */
    const char *section;         /* heading in the sample file */
    unsigned flags;
    const char *field;           /* struct mag_config member, for the unit test that checks
                                    every key is read somewhere; NULL for IGNORED */
};

/* offsetof that fails to compile unless `field` has type T: a _Generic with
 * no matching association is a constraint violation (its operand is never
 * evaluated). */
#define FIELD(field, T) \
    (offsetof(struct mag_config, field) + 0 * _Generic(((struct mag_config *)0)->field, T: 1))

#define INT(sec, key, field, lo, hi, def, doc) \
    { key, OPT_INT, FIELD(field, int), lo, hi, NULL, def, doc, sec, 0, #field }
#define LONG(sec, key, field, lo, hi, def, doc) \
    { key, OPT_LONG, FIELD(field, long), lo, hi, NULL, def, doc, sec, 0, #field }
#define BOOL(sec, key, field, def, doc) \
    { key, OPT_BOOL, FIELD(field, bool), 0, 0, NULL, def, doc, sec, 0, #field }
#define STR(sec, key, field, def, doc) \
    { key, OPT_STRING, FIELD(field, char *), 0, 0, NULL, def, doc, sec, 0, #field }
#define SECRET(sec, key, field, def, doc) \
    { key, OPT_STRING, FIELD(field, char *), 0, 0, NULL, def, doc, sec, OPT_SECRET, #field }
#define ENUM(sec, key, field, choices, def, doc) \
    { key, OPT_ENUM, FIELD(field, char *), 0, 0, choices, def, doc, sec, 0, #field }
#define IGNORED(key, doc) \
    { key, OPT_IGNORED, 0, 0, 0, NULL, "", doc, S_IGNORED, 0, NULL }

static const char S_NET[] = "Network";
static const char S_WS[] = "WebSocket";
static const char S_STORE[] = "Storage";
static const char S_TOPIC[] = "Topics and dispatch";
static const char S_TLS[] = "TLS";
static const char S_AUTH[] = "Authentication and authorization";
static const char S_MISC[] = "Logging";
static const char S_IGNORED[] = "Pulsar keys that Magnetar accepts and ignores (each one logs a warning)";

static const char *const g_topic_types[] = { "non-partitioned", "partitioned", NULL };
static const char *const g_log_levels[] = { "debug", "info", "warn", "error", NULL };
static const char *const g_log_formats[] = { "text", "json", NULL };

static const struct opt g_opts[] = {
    INT(S_NET, "webServicePort", web_service_port, 0, 65535, "8080",
        "Port for HTTP and the WebSocket API (ws://); 0 picks a free port."),
    INT(S_NET, "webServicePortTls", web_service_port_tls, -1, 65535, "-1",
        "Port for HTTPS and WebSocket over TLS (wss://) with the TLS files below; -1 = none, 0 picks a free port."),
    BOOL(S_NET, "webConsoleEnabled", web_console_enabled, "true",
         "Serve the web console at / (Magnetar's own; it uses only the public REST and WebSocket APIs)."),
    STR(S_NET, "bindAddress", bind_address, "0.0.0.0",
        "Address the listeners bind to."),
    STR(S_NET, "webServiceAllowedOrigins", web_service_allowed_origins, "",
        "Origins (comma list, * for any) of web pages that may use the WebSocket and REST APIs; "
        "empty: any without authentication, the server's own with it (Magnetar key)"),
    STR(S_NET, "clusterName", cluster_name, "standalone",
        "Cluster name reported by the admin API."),
    INT(S_NET, "maxConnections", max_connections, 0, 1000000, "0",
        "Maximum simultaneous client connections; 0 = derived from the open-file limit "
        "(RLIMIT_NOFILE soft limit less 32 and an eighth, e.g. 864 for 1024)."),
    INT(S_NET, "httpMaxRequestHeaderSize", http_max_request_header_size, 1024, 1048576, "8192",
        "Largest accepted HTTP request header block in bytes (HTTP 431 above it)."),
    INT(S_NET, "httpMaxRequestBodySize", http_max_request_body_size, 1024, 268435456, "1048576",
        "Largest accepted HTTP request body in bytes (admin REST calls)."),
    INT(S_NET, "handshakeTimeoutMillis", handshake_timeout_millis, 100, 600000, "10000",
        "Time a new connection has to finish TLS and the HTTP upgrade."),
    STR(S_NET, "statusFilePath", status_file_path, "",
        "If set, /status.html answers 200 OK only while this file exists (404 otherwise), for load balancers."),

    INT(S_WS, "webSocketMaxTextFrameSize", web_socket_max_text_frame_size, 1024, 67108864, "1048576",
        "Largest accepted WebSocket message in bytes (close 1009 above it)."),
    LONG(S_WS, "webSocketSessionIdleTimeoutMillis", web_socket_session_idle_timeout_millis, 0, LONG_MAX,
         "300000", "Close a WebSocket session idle this long; 0 = never."),
    INT(S_WS, "webSocketPingDurationSeconds", web_socket_ping_duration_seconds, -1, 86400, "-1",
        "Send a WebSocket ping this often; -1 or 0 = no pings."),

    STR(S_STORE, "dataDir", data_dir, "data",
        "LMDB directory, created if missing (-d overrides it)."),
    LONG(S_STORE, "storageMapSizeMB", storage_map_size_mb, 1, 16777216, "65536",
         "LMDB map size in MiB: the most data the store can hold (sparse on disk). Publishes "
         "stop 1/16 short (at least 256 KiB), kept for deletes, trims and unsubscribes."),
    BOOL(S_STORE, "journalSyncData", journal_sync_data, "true",
         "fsync every group commit before acknowledging producers (false: faster, may lose recent messages on power loss)."),
    INT(S_STORE, "groupCommitMaxMessages", group_commit_max_messages, 1, 1000000, "4096",
        "Commit a write transaction once this many messages are staged."),
    INT(S_STORE, "journalMaxGroupWaitMSec", journal_max_group_wait_msec, 0, 60000, "1",
        "With journalSyncData: a commit starts no sooner than this after the previous one began (fewer disk flushes); 0 = at once."),
    LONG(S_STORE, "journalBufferedWritesThreshold", journal_buffered_writes_threshold, 0, 1073741824, "524288",
         "Start the next commit without waiting for journalMaxGroupWaitMSec once this many bytes are staged; 0 = no byte limit."),
    LONG(S_STORE, "maxMessageSize", max_message_size, 1, 2147483647, "5242880",
         "Largest message payload in bytes after base64 decoding (compressed size when not batching); larger gets send-error:8."),

    BOOL(S_TOPIC, "allowAutoTopicCreation", allow_auto_topic_creation, "true",
         "Create topics on first use by a producer or consumer."),
    ENUM(S_TOPIC, "allowAutoTopicCreationType", allow_auto_topic_creation_type, g_topic_types,
         "non-partitioned", "Kind of topic auto-created."),
    INT(S_TOPIC, "defaultNumPartitions", default_num_partitions, 1, INT_MAX, "1",
        "Partitions of an auto-created partitioned topic."),
    INT(S_TOPIC, "dispatcherMaxRoundRobinBatchSize", dispatcher_max_round_robin_batch_size, 1, INT_MAX, "20",
        "Messages sent to one Shared consumer before moving to the next."),
    INT(S_TOPIC, "maxUnackedMessagesPerConsumer", max_unacked_messages_per_consumer, 0, INT_MAX, "50000",
        "Stop delivering to a consumer with this many unacked messages; 0 = no limit."),
    INT(S_TOPIC, "maxUnackedMessagesPerSubscription", max_unacked_messages_per_subscription, 0, INT_MAX,
        "200000", "Stop delivering on a subscription with this many unacked messages; 0 = no limit."),
    BOOL(S_TOPIC, "subscriptionKeySharedUseConsistentHashing", subscription_key_shared_use_consistent_hashing,
         "true", "Key_Shared: assign keys with a consistent-hash ring instead of fixed hash ranges."),
    INT(S_TOPIC, "subscriptionKeySharedConsistentHashingReplicaPoints",
        subscription_key_shared_consistent_hashing_replica_points, 1, 10000, "100",
        "Key_Shared: points per consumer on the consistent-hash ring."),
    BOOL(S_TOPIC, "brokerDeduplicationEnabled", broker_deduplication_enabled, "false",
         "Drop messages whose producer sequence id was already stored."),
    INT(S_TOPIC, "defaultRetentionTimeInMinutes", default_retention_time_in_minutes, -1, INT_MAX, "0",
        "Keep acknowledged messages this long; 0 = delete once acked by all, -1 = forever."),
    INT(S_TOPIC, "defaultRetentionSizeInMB", default_retention_size_in_mb, -1, INT_MAX, "0",
        "Keep up to this much acknowledged data per topic; 0 = none, -1 = unlimited."),
    INT(S_TOPIC, "messageExpiryCheckIntervalInMinutes", message_expiry_check_interval_in_minutes, 0, 1000000, "5",
        "How often messages older than their namespace's message TTL are expired; 0 = every 0.5 s (Magnetar only, for tests)."),
    INT(S_TOPIC, "ttlDurationDefaultInSeconds", ttl_duration_default_in_seconds, 0, INT_MAX, "0",
        "Message TTL of namespaces without their own messageTTL policy; 0 = messages never expire."),
    INT(S_TOPIC, "statsUpdateFrequencyInSecs", stats_update_frequency_in_secs, 1, 3600, "60",
        "/metrics storage histograms (pulsar_storage_write_latency_*, pulsar_entry_size_*) count the last complete interval of this length."),

    BOOL(S_TLS, "tlsEnabled", tls_enabled, "false",
         "Deprecated (as in Pulsar): webServicePortTls alone opens the TLS port; true without it listens on 8443."),
    STR(S_TLS, "tlsCertificateFilePath", tls_certificate_file_path, "",
        "Server certificate chain (PEM)."),
    STR(S_TLS, "tlsKeyFilePath", tls_key_file_path, "",
        "Server private key (PEM)."),
    STR(S_TLS, "tlsTrustCertsFilePath", tls_trust_certs_file_path, "",
        "CA certificates (PEM) used to verify client certificates."),
    BOOL(S_TLS, "tlsAllowInsecureConnection", tls_allow_insecure_connection, "false",
         "Accept client certificates that fail verification."),
    BOOL(S_TLS, "tlsRequireTrustedClientCertOnConnect", tls_require_trusted_client_cert_on_connect, "false",
         "Reject TLS clients without a trusted certificate."),
    STR(S_TLS, "tlsProtocols", tls_protocols, "",
        "Comma list of allowed protocols, e.g. TLSv1.3,TLSv1.2; empty = OpenSSL defaults."),
    STR(S_TLS, "tlsCiphers", tls_ciphers, "",
        "Comma list of allowed cipher suites; empty = OpenSSL defaults."),

    BOOL(S_AUTH, "authenticationEnabled", authentication_enabled, "false",
         "Require clients to authenticate."),
    STR(S_AUTH, "authenticationProviders", authentication_providers, "",
        "Comma list of provider class names, e.g. org.apache.pulsar.broker.authentication.AuthenticationProviderToken."),
    BOOL(S_AUTH, "authorizationEnabled", authorization_enabled, "false",
         "Check each role's permissions on the namespace or topic."),
    STR(S_AUTH, "superUserRoles", super_user_roles, "",
        "Comma list of roles allowed everything."),
    STR(S_AUTH, "anonymousUserRole", anonymous_user_role, "",
        "Role given to unauthenticated clients; empty = reject them."),
    BOOL(S_AUTH, "authorizationAllowWildcardsMatching", authorization_allow_wildcards_matching, "false",
         "Allow '*' prefix/suffix wildcards in role names of permissions."),
    SECRET(S_AUTH, "tokenSecretKey", token_secret_key, "",
           "HMAC key for token auth: data:;base64,<key> or file:///path (shown as ****** by --dump-config)."),
    STR(S_AUTH, "tokenPublicKey", token_public_key, "",
        "Public key for token auth: data:;base64,<key> or file:///path."),
    STR(S_AUTH, "tokenPublicAlg", token_public_alg, "RS256",
        "Signature algorithm used with tokenPublicKey."),
    STR(S_AUTH, "tokenAuthClaim", token_auth_claim, "sub",
        "Token claim that holds the role."),
    STR(S_AUTH, "tokenAudienceClaim", token_audience_claim, "",
        "Token claim that holds the audience; empty = \"aud\"."),
    STR(S_AUTH, "tokenAudience", token_audience, "",
        "Required audience; empty = audience not checked."),

    ENUM(S_MISC, "logLevel", log_level, g_log_levels, "info",
         "Least severe log messages written."),
    ENUM(S_MISC, "logFormat", log_format, g_log_formats, "text",
         "text: 'TIME LEVEL message' lines; json: one {\"time\",\"level\",\"msg\"} object per line, for log shippers (Magnetar key)."),
    STR(S_MISC, "logFile", log_file, "",
        "File the log is appended to (empty: stderr); SIGHUP opens it again after a rotation (Magnetar key)."),

    IGNORED("webSocketServiceEnabled", "Magnetar always serves the WebSocket API."),
    IGNORED("configurationMetadataStoreUrl", "No metadata store: metadata lives in the LMDB store."),
    IGNORED("configurationStoreServers", "No configuration store: metadata lives in the LMDB store."),
    IGNORED("metadataStoreUrl", "No metadata store: metadata lives in the LMDB store."),
    IGNORED("zookeeperServers", "No ZooKeeper: metadata lives in the LMDB store."),
    IGNORED("brokerServicePort", "No binary-protocol port; clients use webServicePort."),
    IGNORED("brokerServicePortTls", "No binary-protocol port; clients use webServicePortTls."),
    IGNORED("webSocketNumIoThreads", "One event-loop thread serves every connection."),
    IGNORED("webSocketConnectionsPerBroker", "The WebSocket service is the broker; there is nothing to connect to."),
    IGNORED("numHttpServerThreads", "One event-loop thread serves every connection."),
    IGNORED("numIOThreads", "One event-loop thread serves every connection."),
    IGNORED("managedLedgerDefaultEnsembleSize", "No BookKeeper: storage is one local LMDB file."),
    IGNORED("managedLedgerDefaultWriteQuorum", "No BookKeeper: storage is one local LMDB file."),
    IGNORED("managedLedgerDefaultAckQuorum", "No BookKeeper: storage is one local LMDB file."),
    IGNORED("brokerClientAuthenticationPlugin", "No proxy-to-broker hop, so no broker client credentials."),
    IGNORED("brokerClientAuthenticationParameters", "No proxy-to-broker hop, so no broker client credentials."),
    IGNORED("advertisedAddress", "Single node: clients connect to bindAddress, nothing is advertised."),
    IGNORED("functionsWorkerEnabled", "Pulsar Functions are not supported."),
    IGNORED("loadBalancerEnabled", "Single node: no load balancing."),
    IGNORED("bookkeeperClientTimeoutInSeconds", "No BookKeeper: storage is one local LMDB file."),
};

#define NUM_OPTS (sizeof g_opts / sizeof g_opts[0])

/* ------------------------------------------------------------------------ */
/* Diagnostics                                                               */
/* ------------------------------------------------------------------------ */

/* Where the text being applied came from: "<source>:<line>: " or "-o: ". */
struct origin {
    const char *source;
    size_t line;          /* 0 = no line number (command line) */
    mag_buf *err;         /* caller's buffer, or `scratch` when the caller passed NULL */
    mag_buf *warnings;    /* may be NULL */
    mag_buf scratch;
    unsigned char *warned; /* one flag per ignored key already warned about (lazily allocated) */
};

#define QUOTE_MAX 80 /* bytes of a user value echoed in a message */

static void origin_prefix(const struct origin *o, mag_buf *b)
{
    if (o->line)
        mag_buf_appendf(b, "%s:%zu: ", o->source, o->line);
    else
        mag_buf_appendf(b, "%s: ", o->source);
}

/* Append 's' quoted, control and non-ASCII bytes as \xNN, long text cut
 * with "...", so a message stays one printable line whatever the input. */
static void append_quoted(mag_buf *b, const char *s, size_t n)
{
    size_t shown = n > QUOTE_MAX ? QUOTE_MAX : n;
    mag_buf_append_byte(b, '\'');
    for (size_t i = 0; i < shown; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            mag_buf_append_byte(b, ch);
        else
            mag_buf_appendf(b, "\\x%02x", ch);
    }
    if (shown < n)
        mag_buf_append_str(b, "...");
    mag_buf_append_byte(b, '\'');
}

/* Start an error message: prefix into the error buffer, which is returned so
 * the caller can append the rest. */
static mag_buf *diag(struct origin *o)
{
    origin_prefix(o, o->err);
    return o->err;
}

/* ------------------------------------------------------------------------ */
/* Values                                                                    */
/* ------------------------------------------------------------------------ */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_blank((*s)[0])) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_blank((*s)[*n - 1]))
        (*n)--;
}

static bool eq_ci(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Plain decimal with an optional sign. Returns false on bad syntax; sets
 * *overflow when the digits do not fit a long long. */
static bool parse_decimal(const char *s, size_t n, long long *out, bool *overflow)
{
    size_t i = 0;
    bool neg = false;
    unsigned long long acc = 0, limit;

    *overflow = false;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';
    if (i == n)
        return false;
    limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (acc > (limit - d) / 10)
            *overflow = true;
        else
            acc = acc * 10 + d;
    }
    if (*overflow)
        return true;
    if (neg)
        *out = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN : -(long long)acc;
    else
        *out = (long long)acc;
    return true;
}

static void *field_ptr(struct mag_config *c, const struct opt *opt)
{
    return (char *)c + opt->offset;
}

static const void *cfield_ptr(const struct mag_config *c, const struct opt *opt)
{
    return (const char *)c + opt->offset;
}

static void set_string(struct mag_config *c, const struct opt *opt, char *owned)
{
    char **slot = field_ptr(c, opt);
    free(*slot);
    *slot = owned;
}

/* Start "<origin>: <key>: '<value>' " for a value error. */
static mag_buf *value_diag(struct origin *o, const struct opt *opt, const char *val, size_t n)
{
    mag_buf *e = diag(o);
    mag_buf_appendf(e, "%s: ", opt->name);
    append_quoted(e, val, n);
    return e;
}

static mag_rc apply_number(struct mag_config *c, const struct opt *opt, const char *val, size_t n,
                           struct origin *o)
{
    long long v = 0;
    bool overflow;

    if (!parse_decimal(val, n, &v, &overflow)) {
        mag_buf_append_str(value_diag(o, opt, val, n), " is not an integer");
        return MAG_ERR_CONFIG;
    }
    if (overflow || v < opt->min || v > opt->max) {
        mag_buf_appendf(value_diag(o, opt, val, n), " is out of range %lld..%lld", opt->min, opt->max);
        return MAG_ERR_CONFIG;
    }
    if (opt->type == OPT_INT)
        *(int *)field_ptr(c, opt) = (int)v;
    else
        *(long *)field_ptr(c, opt) = (long)v;
    return MAG_OK;
}

static mag_rc apply_bool(struct mag_config *c, const struct opt *opt, const char *val, size_t n,
                         struct origin *o)
{
    if (!eq_ci(val, n, "true") && !eq_ci(val, n, "false")) {
        mag_buf_append_str(value_diag(o, opt, val, n), " is not a boolean (expected true or false)");
        return MAG_ERR_CONFIG;
    }
    *(bool *)field_ptr(c, opt) = eq_ci(val, n, "true");
    return MAG_OK;
}

/* Enums match case-insensitively and are stored in canonical spelling, so
 * the rest of the server compares with strcmp. */
static mag_rc apply_enum(struct mag_config *c, const struct opt *opt, const char *val, size_t n,
                         struct origin *o)
{
    for (const char *const *ch = opt->choices; *ch; ch++) {
        if (eq_ci(val, n, *ch)) {
            set_string(c, opt, mag_xstrdup(*ch));
            return MAG_OK;
        }
    }
    mag_buf *e = value_diag(o, opt, val, n);
    mag_buf_append_str(e, " is not one of ");
    for (const char *const *ch = opt->choices; *ch; ch++)
        mag_buf_appendf(e, "%s%s", ch == opt->choices ? "" : "|", *ch);
    return MAG_ERR_CONFIG;
}

/* Warn once per load that ignored key number `slot` (a g_opts index, or
 * NUM_OPTS + its index in the Pulsar key table) is not used; a key repeated in
 * one file or a long standalone.conf gives one line per distinct key. */
static void warn_ignored(struct origin *o, size_t slot, const char *key, size_t n, const char *reason)
{
    if (!o->warnings)
        return;
    if (!o->warned)
        o->warned = mag_xcalloc(NUM_OPTS + mag_config_pulsar_key_count(), 1);
    if (o->warned[slot])
        return;
    o->warned[slot] = 1;
    origin_prefix(o, o->warnings);
    mag_buf_append_str(o->warnings, "ignoring Pulsar key ");
    append_quoted(o->warnings, key, n);
    mag_buf_appendf(o->warnings, " (not used by Magnetar%s%s)\n", reason ? ": " : "", reason ? reason : "");
}

/* Validate `val` for `opt` and store it. An empty value means the default
 * (Pulsar treats "key=" the same way). Nothing is stored on error, so c stays
 * valid and unchanged. */
static mag_rc apply(struct mag_config *c, const struct opt *opt, const char *val, size_t n,
                    struct origin *o)
{
    mag_rc rc = MAG_OK;

    if (n == 0) {
        val = opt->def;
        n = strlen(val);
    }
    switch (opt->type) {
    case OPT_INT:
    case OPT_LONG:
        rc = apply_number(c, opt, val, n, o);
        break;
    case OPT_BOOL:
        rc = apply_bool(c, opt, val, n, o);
        break;
    case OPT_ENUM:
        rc = apply_enum(c, opt, val, n, o);
        break;
    case OPT_STRING:
        set_string(c, opt, mag_xstrndup(val, n));
        break;
    case OPT_IGNORED:
        warn_ignored(o, (size_t)(opt - g_opts), opt->name, strlen(opt->name), NULL);
        break;
    }
    return rc;
}

static const struct opt *find_opt(const char *key, size_t n)
{
    for (size_t i = 0; i < NUM_OPTS; i++)
        if (strlen(g_opts[i].name) == n && memcmp(g_opts[i].name, key, n) == 0)
            return &g_opts[i];
    return NULL;
}

/* Apply one "key=value" (already known to hold no NUL byte). */
static mag_rc apply_line(struct mag_config *c, const char *s, size_t n, struct origin *o,
                         const char *expected)
{
    const char *eq = memchr(s, '=', n);
    mag_buf *e;

    if (!eq) {
        e = diag(o);
        mag_buf_appendf(e, "expected %s, got ", expected);
        append_quoted(e, s, n);
        return MAG_ERR_CONFIG;
    }
    const char *key = s, *val = eq + 1;
    size_t klen = (size_t)(eq - s), vlen = n - klen - 1;
    trim(&key, &klen);
    trim(&val, &vlen);
    if (klen == 0) {
        mag_buf_append_str(diag(o), "missing key before '='");
        return MAG_ERR_CONFIG;
    }
    const struct opt *opt = find_opt(key, klen);
    const char *reason;
    int pk;
    if (!opt && (pk = mag_config_pulsar_key(key, klen, &reason)) >= 0) {
        /* The value is not checked: Pulsar's own parser would, but nothing
         * here reads it. */
        warn_ignored(o, NUM_OPTS + (size_t)pk, key, klen, reason);
        return MAG_OK;
    }
    if (!opt) {
        e = diag(o);
        mag_buf_append_str(e, "unknown key ");
        append_quoted(e, key, klen);
        for (size_t i = 0; i < NUM_OPTS; i++) {
            if (eq_ci(key, klen, g_opts[i].name)) {
                mag_buf_appendf(e, " (did you mean '%s'?)", g_opts[i].name);
                break;
            }
        }
        return MAG_ERR_CONFIG;
    }
    /* A control character in a value (a newline smuggled in through -o,
     * an escape sequence) would make --dump-config print a line that does not
     * parse back, or garble the terminal: refuse it. Tab is ordinary blank. */
    for (size_t i = 0; i < vlen; i++) {
        unsigned char ch = (unsigned char)val[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            mag_buf_append_str(value_diag(o, opt, val, vlen), " contains a control character");
            return MAG_ERR_CONFIG;
        }
    }
    return apply(c, opt, val, vlen, o);
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */
/* ------------------------------------------------------------------------ */

void mag_config_init(struct mag_config *c)
{
    struct origin o = { "built-in default", 0, NULL, NULL, MAG_BUF_INIT, NULL };

    memset(c, 0, sizeof *c);
    o.err = &o.scratch;
    for (size_t i = 0; i < NUM_OPTS; i++) {
        /* A default that fails its own validation is a bug in the table. */
        if (apply(c, &g_opts[i], "", 0, &o) != MAG_OK) {
            fprintf(stderr, "magnetar: bad built-in config default: %s\n", mag_buf_cstr(&o.scratch));
            abort();
        }
    }
    mag_buf_free(&o.scratch);
}

void mag_config_cleanup(struct mag_config *c)
{
    for (size_t i = 0; i < NUM_OPTS; i++) {
        if (g_opts[i].type == OPT_STRING || g_opts[i].type == OPT_ENUM) {
            char **slot = field_ptr(c, &g_opts[i]);
            MAG_FREE(*slot);
        }
    }
}

mag_rc mag_config_load_text(struct mag_config *c, const char *text, size_t len, const char *source_name,
                            mag_buf *err, mag_buf *warnings)
{
    struct origin o = { source_name, 0, err, warnings, MAG_BUF_INIT, NULL };
    mag_rc rc = MAG_OK;
    size_t pos = 0;

    if (!o.err)
        o.err = &o.scratch;
    while (pos < len && rc == MAG_OK) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;

        pos += n + (nl ? 1 : 0);
        o.line++;
        if (memchr(line, '\0', n)) {
            mag_buf_append_str(diag(&o), "line contains a NUL byte");
            rc = MAG_ERR_CONFIG;
            break;
        }
        trim(&line, &n);
        if (n == 0 || line[0] == '#')
            continue;
        rc = apply_line(c, line, n, &o, "key=value");
    }
    free(o.warned);
    mag_buf_free(&o.scratch);
    return rc;
}

/* Config files are a few KiB; the cap only stops a mistaken path (a log, a
 * device) from being slurped whole. */
#define MAX_FILE_SIZE (16u * 1024 * 1024)

mag_rc mag_config_load_file(struct mag_config *c, const char *path, mag_buf *err, mag_buf *warnings)
{
    mag_buf text = MAG_BUF_INIT;
    mag_rc rc = MAG_ERR_CONFIG;
    FILE *f = fopen(path, "rb");

    if (!f) {
        if (err)
            mag_buf_appendf(err, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    for (;;) {
        mag_buf_reserve(&text, 4096);
        size_t got = fread(text.data + text.len, 1, text.cap - text.len, f);
        text.len += got;
        if (text.len > MAX_FILE_SIZE) {
            if (err)
                mag_buf_appendf(err, "%s: file is larger than %u bytes", path, MAX_FILE_SIZE);
            goto out;
        }
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        if (err)
            mag_buf_appendf(err, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    rc = mag_config_load_text(c, (const char *)text.data, text.len, path, err, warnings);
out:
    if (f)
        fclose(f);
    mag_buf_free(&text);
    return rc;
}

mag_rc mag_config_set(struct mag_config *c, const char *key_eq_value, mag_buf *err, mag_buf *warnings)
{
    struct origin o = { "-o", 0, err, warnings, MAG_BUF_INIT, NULL };
    const char *s = key_eq_value;
    size_t n = strlen(s);
    mag_rc rc;

    if (!o.err)
        o.err = &o.scratch;
    trim(&s, &n);
    rc = apply_line(c, s, n, &o, "KEY=VALUE");
    free(o.warned);
    mag_buf_free(&o.scratch);
    return rc;
}

/* Append the value of `opt` as text, as the parser would accept it. */
static void append_value(mag_buf *out, const struct mag_config *c, const struct opt *opt)
{
    switch (opt->type) {
    case OPT_INT:
        mag_buf_append_i64(out, *(const int *)cfield_ptr(c, opt));
        break;
    case OPT_LONG:
        mag_buf_append_i64(out, *(const long *)cfield_ptr(c, opt));
        break;
    case OPT_BOOL:
        mag_buf_append_str(out, *(const bool *)cfield_ptr(c, opt) ? "true" : "false");
        break;
    case OPT_STRING:
    case OPT_ENUM: {
        const char *s = *(char *const *)cfield_ptr(c, opt);
        if (s && (opt->flags & OPT_SECRET) && s[0])
            s = "******";
        mag_buf_append_str(out, s ? s : "");
        break;
    }
    case OPT_IGNORED:
        break;
    }
}

void mag_config_dump(const struct mag_config *c, mag_buf *out)
{
    for (size_t i = 0; i < NUM_OPTS; i++) {
        if (g_opts[i].type == OPT_IGNORED)
            continue;
        mag_buf_append_str(out, g_opts[i].name);
        mag_buf_append_byte(out, '=');
        append_value(out, c, &g_opts[i]);
        mag_buf_append_byte(out, '\n');
    }
}

size_t mag_config_key_count(void)
{
    return NUM_OPTS;
}

const char *mag_config_key(size_t i, const char **field)
{
    if (i >= NUM_OPTS)
        return NULL;
    if (field)
        *field = g_opts[i].field;
    return g_opts[i].name;
}

static const char g_sample_header[] =
    "# magnetar.conf -- Magnetar configuration.\n"
    "#\n"
    "# Apache Pulsar standalone.conf / websocket.conf style: one key=value per line,\n"
    "# '#' starts a comment line, whitespace around key and value is ignored, and\n"
    "# \"key=\" (empty value) means the default. Booleans are true or false. Keys carry\n"
    "# Pulsar's names where Pulsar has one, so existing lines can be copied over.\n"
    "# Every key is listed below, commented out, with its default. Unknown keys are\n"
    "# errors; Pulsar keys that Magnetar ignores (last section, and every other key\n"
    "# of Pulsar's broker.conf, standalone.conf and websocket.conf) log a warning.\n"
    "# On the command line, -o KEY=VALUE overrides any key; -p sets webServicePort\n"
    "# and -d sets dataDir.\n"
    "#\n"
    "# This file is generated from the option table in src/config.c and the unit\n"
    "# test unit-config checks it byte for byte. After changing the table,\n"
    "# regenerate it from the source directory (BUILD = your CMake build dir) with:\n"
    "#   MAG_WRITE_SAMPLE=conf/magnetar.conf BUILD/tests/test_config\n";

void mag_config_write_sample(mag_buf *out)
{
    const char *section = NULL;

    mag_buf_append_str(out, g_sample_header);
    for (size_t i = 0; i < NUM_OPTS; i++) {
        const struct opt *opt = &g_opts[i];
        if (opt->section != section) {
            section = opt->section;
            mag_buf_appendf(out, "\n### %s\n", section);
        }
        mag_buf_appendf(out, "\n# %s", opt->doc);
        switch (opt->type) {
        case OPT_INT:
        case OPT_LONG:
            if (opt->max == INT_MAX || opt->max == LONG_MAX)
                mag_buf_appendf(out, " (integer >= %lld)", opt->min);
            else
                mag_buf_appendf(out, " (integer %lld..%lld)", opt->min, opt->max);
            break;
        case OPT_BOOL:
            mag_buf_append_str(out, " (true or false)");
            break;
        case OPT_ENUM:
            mag_buf_append_str(out, " (one of ");
            for (const char *const *ch = opt->choices; *ch; ch++)
                mag_buf_appendf(out, "%s%s", ch == opt->choices ? "" : "|", *ch);
            mag_buf_append_byte(out, ')');
            break;
        case OPT_STRING:
        case OPT_IGNORED:
            break;
        }
        mag_buf_appendf(out, "\n#%s=%s\n", opt->name, opt->def);
    }
}
