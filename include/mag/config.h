/* config.h -- Magnetar's configuration: struct mag_config and its key=value loader.
 *
 * Keys use Apache Pulsar's names (standalone.conf / websocket.conf) wherever
 * Pulsar has one, so a user's existing lines carry over. One table in
 * src/config.c is the single truth for every key: its type and range, the
 * struct field, the default (as text) and a one-line doc. The same table drives
 * file parsing, `-o KEY=VALUE` overrides, mag_config_dump() and the shipped
 * conf/magnetar.conf (mag_config_write_sample()). Only config.c, server.c and
 * main.c should see this struct; modules take their own small options structs.
 */
#ifndef MAG_CONFIG_H
#define MAG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "mag/rc.h"
#include "mag/util/buf.h"

/* The effective configuration. Every char * is heap-owned by the struct
 * (never NULL after mag_config_init; "" when unset) and is freed by
 * mag_config_cleanup(). Defaults and ranges are in brackets. */
struct mag_config {
    /* network */
    int web_service_port;              /* webServicePort [8080] 0..65535 */
    bool web_console_enabled;          /* webConsoleEnabled [true] (Magnetar key) */
    int web_service_port_tls;          /* webServicePortTls [-1] -1..65535, -1 = no TLS listener */
    char *bind_address;                /* bindAddress ["0.0.0.0"] */
    char *cluster_name;                /* clusterName ["standalone"] */
    char *web_service_allowed_origins; /* webServiceAllowedOrigins [""] (Magnetar key) */
    int max_connections;               /* maxConnections [0] 0..1000000, 0 = from RLIMIT_NOFILE (Magnetar key) */
    int http_max_request_header_size;  /* httpMaxRequestHeaderSize [8192] 1024..1048576 (Pulsar key) */
    int http_max_request_body_size;    /* httpMaxRequestBodySize [1048576] 1024..268435456 (Magnetar key) */
    int handshake_timeout_millis;      /* handshakeTimeoutMillis [10000] 100..600000 (Magnetar key) */
    char *status_file_path;            /* statusFilePath [""]: /status.html answers 200 only while it exists */
    /* websocket */
    int web_socket_max_text_frame_size;        /* webSocketMaxTextFrameSize [1048576] 1024..67108864 */
    long web_socket_session_idle_timeout_millis; /* webSocketSessionIdleTimeoutMillis [300000] 0.. */
    int web_socket_ping_duration_seconds;      /* webSocketPingDurationSeconds [-1] -1..86400, -1 = off */
    /* storage */
    char *data_dir;                    /* dataDir ["data"] (Magnetar key; -d overrides) */
    long storage_map_size_mb;          /* storageMapSizeMB [65536] 1..16777216 (Magnetar key) */
    bool journal_sync_data;            /* journalSyncData [true] (BookKeeper key: fsync each commit) */
    int group_commit_max_messages;     /* groupCommitMaxMessages [4096] 1..1000000 (Magnetar key) */
    int journal_max_group_wait_msec;   /* journalMaxGroupWaitMSec [1] 0..60000 (BookKeeper key) */
    long journal_buffered_writes_threshold; /* journalBufferedWritesThreshold [524288] (BookKeeper key) */
    long max_message_size;             /* maxMessageSize [5242880] 1..2147483647 */
    /* topics & dispatch (broker keys) */
    bool allow_auto_topic_creation;    /* allowAutoTopicCreation [true] */
    char *allow_auto_topic_creation_type;  /* allowAutoTopicCreationType ["non-partitioned"] enum non-partitioned|partitioned */
    int default_num_partitions;        /* defaultNumPartitions [1] 1.. */
    int dispatcher_max_round_robin_batch_size; /* dispatcherMaxRoundRobinBatchSize [20] 1.. */
    int max_unacked_messages_per_consumer;     /* maxUnackedMessagesPerConsumer [50000] 0.. */
    int max_unacked_messages_per_subscription; /* maxUnackedMessagesPerSubscription [200000] 0.. */
    bool subscription_key_shared_use_consistent_hashing;      /* subscriptionKeySharedUseConsistentHashing [true] */
    int subscription_key_shared_consistent_hashing_replica_points; /* subscriptionKeySharedConsistentHashingReplicaPoints [100] 1.. */
    bool broker_deduplication_enabled; /* brokerDeduplicationEnabled [false] */
    int default_retention_time_in_minutes; /* defaultRetentionTimeInMinutes [0] -1.., -1 = forever */
    int default_retention_size_in_mb;      /* defaultRetentionSizeInMB [0] -1.., -1 = unlimited */
    int message_expiry_check_interval_in_minutes; /* messageExpiryCheckIntervalInMinutes [5] 0.., 0 = every sweep (Magnetar) */
    int ttl_duration_default_in_seconds;   /* ttlDurationDefaultInSeconds [0] 0.., 0 = no TTL */
    int stats_update_frequency_in_secs;    /* statsUpdateFrequencyInSecs [60] 1..3600 (Pulsar key) */
    /* TLS */
    bool tls_enabled;                  /* tlsEnabled [false] deprecated: alone means TLS on 8443 */
    char *tls_certificate_file_path;   /* tlsCertificateFilePath [""] */
    char *tls_key_file_path;           /* tlsKeyFilePath [""] */
    char *tls_trust_certs_file_path;   /* tlsTrustCertsFilePath [""] */
    bool tls_allow_insecure_connection;/* tlsAllowInsecureConnection [false] */
    bool tls_require_trusted_client_cert_on_connect; /* tlsRequireTrustedClientCertOnConnect [false] */
    char *tls_protocols;               /* tlsProtocols [""] comma list */
    char *tls_ciphers;                 /* tlsCiphers [""] */
    /* authentication / authorization */
    bool authentication_enabled;       /* authenticationEnabled [false] */
    char *authentication_providers;    /* authenticationProviders [""] */
    bool authorization_enabled;        /* authorizationEnabled [false] */
    char *super_user_roles;            /* superUserRoles [""] comma list */
    char *anonymous_user_role;         /* anonymousUserRole [""] */
    bool authorization_allow_wildcards_matching; /* authorizationAllowWildcardsMatching [false] */
    char *token_secret_key;            /* tokenSecretKey [""] (SECRET: redacted in dump) */
    char *token_public_key;            /* tokenPublicKey [""] */
    char *token_public_alg;            /* tokenPublicAlg ["RS256"] */
    char *token_auth_claim;            /* tokenAuthClaim ["sub"] */
    char *token_audience_claim;        /* tokenAudienceClaim [""] */
    char *token_audience;              /* tokenAudience [""] */
    /* misc */
    char *log_level;                   /* logLevel ["info"] enum debug|info|warn|error (Magnetar key) */
    char *log_format;                  /* logFormat ["text"] enum text|json (Magnetar key) */
    char *log_file;                    /* logFile [""] (Magnetar key) */
};

/* Fill every field with its default from the table. Strings are heap-owned
 * copies; pair with mag_config_cleanup(). Never fails (aborts on OOM). */
void mag_config_init(struct mag_config *c);

/* Free the strings owned by c and set them to NULL. Safe to call twice. */
void mag_config_cleanup(struct mag_config *c);

/* Read the file at `path` and apply it with mag_config_load_text(), using
 * `path` as the source name in messages.
 *
 * Format (Pulsar/Java-properties style, one setting per line):
 *   - `key=value`; whitespace around key and value is trimmed; the first '='
 *     splits, so values may contain '='; a trailing '\r' is ignored.
 *   - lines whose first non-blank character is '#' are comments; blank lines
 *     are skipped; there are no inline comments (as in Pulsar).
 *   - `key=` (empty value) resets the key to its default, as Pulsar does.
 *   - a key given twice: the last one wins.
 *   - booleans are true/false (any case); enums match case-insensitively and
 *     are stored in their canonical spelling; integers are plain decimal.
 *   - unknown keys, bad values and out-of-range numbers are errors; keys that
 *     Pulsar has but Magnetar ignores are warnings.
 *
 * @param c         initialised config (mag_config_init); updated in place.
 * @param path      file to read; borrowed.
 * @param err       if not NULL, one diagnostic line (no trailing newline) is
 *                  APPENDED on error, e.g. "conf/x.conf:12: unknown key 'foo'"
 *                  or "conf/x.conf: cannot open: No such file or directory".
 * @param warnings  if not NULL, each warning is appended as one line ending in
 *                  '\n', e.g. "conf/x.conf:4: ignoring Pulsar key
 *                  'zookeeperServers' (not used by Magnetar)".
 * @return MAG_OK, or MAG_ERR_CONFIG for any error (unreadable file, file over
 *         16 MiB, syntax, unknown key, bad value). Processing stops at the first
 *         error; lines before it stay applied and c remains a valid config
 *         (still owned by the caller, still needs mag_config_cleanup()).
 */
mag_rc mag_config_load_file(struct mag_config *c, const char *path, mag_buf *err, mag_buf *warnings);

/* Parse config text as if it were file `source_name` (the fuzz target and
 * tests use this). Same format, messages and return codes as
 * mag_config_load_file(); messages are "<source_name>:<line>: ...".
 * `text` need not be NUL-terminated; a line containing a NUL byte is an error.
 * All pointers are borrowed. */
mag_rc mag_config_load_text(struct mag_config *c, const char *text, size_t len, const char *source_name,
                            mag_buf *err, mag_buf *warnings);

/* Apply one "KEY=VALUE" override (from -o/--set). Same key names, trimming and
 * value rules as the file; messages start with "-o: ", e.g.
 * "-o: webServicePort: '99999' is out of range 0..65535" or
 * "-o: expected KEY=VALUE, got 'foo'". Ignored Pulsar keys append a warning.
 * @return MAG_OK or MAG_ERR_CONFIG (c is unchanged on error). */
mag_rc mag_config_set(struct mag_config *c, const char *key_eq_value, mag_buf *err, mag_buf *warnings);

/* Append the effective configuration to `out` as "key=value\n" lines, one per
 * key Magnetar uses, in table order (ignored Pulsar keys are omitted). A
 * non-empty secret (tokenSecretKey) is shown as "******". The output parses
 * back with mag_config_load_text(). */
void mag_config_dump(const struct mag_config *c, mag_buf *out);

/* Append the text of the shipped sample file: a header, then every key
 * (including the ignored Pulsar keys) commented out as "#key=default" after a
 * "# doc" line, grouped by section. conf/magnetar.conf is exactly this text; a
 * unit test compares them byte for byte. Regenerate with
 *   MAG_WRITE_SAMPLE=conf/magnetar.conf BUILD/tests/test_config */
void mag_config_write_sample(mag_buf *out);

/* The option table, for tests: number of keys, and the name of key i (NULL
 * past the end) with *field (if not NULL) set to its struct mag_config member
 * name, or NULL for a Pulsar key that is accepted and ignored. Every key with
 * a field must be read outside config.c (test_config checks the sources). */
size_t mag_config_key_count(void);
const char *mag_config_key(size_t i, const char **field);

#endif /* MAG_CONFIG_H */
