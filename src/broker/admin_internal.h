/* admin_internal.h -- state and hooks shared by the broker's admin files
 * (admin_ops.c, namespaces.c, retention.c, metrics.c) and the broker core.
 *
 * The broker core embeds the plain structs below in its topics,
 * subscriptions, consumers, producers and the broker itself (zero-initialised
 * by calloc; nothing here owns heap memory, so the core needs no extra
 * cleanup), and calls the few hook functions declared at the end. Everything
 * else of the admin API is public: include/mag/broker/admin.h.
 */
#ifndef MAG_BROKER_ADMIN_INTERNAL_H
#define MAG_BROKER_ADMIN_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mag/broker/admin.h"

struct mag_topic;
struct mag_sub;

/* A message/byte rate measured between two samples of a pair of counters. */
struct mag_admin_rate {
    int64_t at_ms;              /* when msgs/bytes were sampled; 0 = never */
    uint64_t msgs, bytes;       /* counter values at at_ms */
    double msg_rate, byte_rate; /* per second over the last window (>= 1 s) */
};

/* Refresh r from the current counter values: the rates cover the window since
   the previous sample once it is at least 1 s long (until then the previous
   rates stay). */
void mag_admin_rate_update(struct mag_admin_rate *r, uint64_t msgs, uint64_t bytes, int64_t now_ms);

/* Per-topic retention / backlog-quota bookkeeping (retention.c). */
struct mag_admin_topic {
    uint64_t policy_gen;        /* broker policy generation of the values below; 0 = unread */
    struct mag_ns_policy policy;/* the namespace's policies, as of policy_gen */
    bool quota_blocked;         /* producer_request_hold/exception quota exceeded */
    bool first_known;           /* first_entry is valid */
    uint64_t first_entry;       /* no entry below this id is stored */
    uint64_t swept_in;          /* msg_in_counter at the last sweep */
    int64_t swept_floor;        /* trim floor at the last sweep */
    int64_t retry_at_ms;        /* time-based limits: when to look again; 0 = on change */
    struct mag_admin_rate in;   /* publish rate */
};

/* Commit statistics for /metrics (metrics.c). */
#define MAG_METRICS_BATCH_BUCKETS 13    /* le 1, 2, 4, ... 4096 (+Inf implicit) */
#define MAG_METRICS_LATENCY_BUCKETS 12  /* le 0.25 ms ... 512 ms, doubling (+Inf implicit) */

struct mag_metrics_state {
    uint64_t commits;           /* group commits attempted (messages and/or cursors) */
    uint64_t commit_failures;
    uint64_t batches;           /* commits that carried messages */
    uint64_t batch_messages;    /* sum of their sizes */
    uint64_t batch_hist[MAG_METRICS_BATCH_BUCKETS];
    uint64_t latency_hist[MAG_METRICS_LATENCY_BUCKETS];
    uint64_t latency_count;
    double latency_sum_s;
    bool storage_full;          /* the last commit failed with a full LMDB map */
};

/* Per-topic storage histograms for /metrics, with Pulsar's buckets
   (ManagedLedgerMBeanImpl.ENTRY_LATENCY_BUCKETS_USEC and
   ENTRY_SIZE_BUCKETS_BYTES; the last bucket is the overflow). Like Pulsar's
   StatsBuckets they count one stats interval (statsUpdateFrequencyInSecs):
   `cur` collects the running interval, `last` is the complete one exported.
   Owned by the topic; loop thread only. */
#define MAG_METRICS_WRITE_LATENCY_BUCKETS 10    /* le 0.5, 1, 5, 10, 20, 50, 100, 200, 1000 ms, overflow */
#define MAG_METRICS_ENTRY_SIZE_BUCKETS 9        /* le 128 B, 512 B, 1, 2, 4, 16, 100 KiB, 1 MiB, overflow */

struct mag_metrics_storage_sample {
    uint64_t write_latency[MAG_METRICS_WRITE_LATENCY_BUCKETS];
    uint64_t write_latency_sum_us;  /* Pulsar's _sum is in microseconds */
    uint64_t entry_size[MAG_METRICS_ENTRY_SIZE_BUCKETS];
    uint64_t entry_size_sum;        /* bytes */
    uint64_t entries;               /* the _count of both */
};

struct mag_metrics_topic {
    int64_t interval;           /* monotonic ms / interval length: the interval `cur` counts */
    struct mag_metrics_storage_sample cur, last;
};

/* Broker-wide admin state. */
struct mag_admin_broker {
    uint64_t policy_gen;        /* bumped on every namespace policy change; starts at 1 */
    int64_t next_sweep_ms;      /* retention sweep not before this (monotonic ms) */
    uint64_t trimmed_entries;   /* statistics */
    uint64_t trimmed_bytes;
    struct mag_metrics_state metrics;
    int64_t next_expiry_ms;     /* message TTL check not before this (monotonic ms) */
    uint64_t health_checks;     /* health checks run (each writes a distinct value) */
    bool force_create;          /* an explicit create (admin PUT) is running: auto-creation
                                   policies do not apply */
};

/* ---- hooks called from the broker core (one line each) ---------------------- */

/* mag_broker_new, after the topics are loaded: create tenant "public" and
   namespace "public/default" when absent, and register the namespace of every
   stored topic (data written before namespaces existed stays reachable).
   @return MAG_OK or a storage error (the broker cannot start). */
mag_rc mag_admin_broker_init(mag_broker *b);

/* mag_broker_topic_open, before auto-creating tn: the namespace of a v2 name
   must exist (Pulsar refuses topics in unknown namespaces; v1 names with a
   cluster segment are accepted as Pulsar does). err gets the message.
   @return MAG_OK; MAG_ERR_NOT_FOUND; MAG_ERR_STORAGE. */
mag_rc mag_admin_check_namespace(mag_broker *b, const mag_topic_name *tn, mag_buf *err);

/* A v1 topic (tenant/cluster/ns/topic) is accepted whatever its namespace, as Pulsar does; so
   that its data is not where no tenant lists it, the topic's creation registers the tenant and
   the v1 namespace when they are absent (in the creation's transaction w), as a restart did. */
mag_rc mag_admin_register_v1_namespace(mag_broker *b, mag_store_wtxn *w, const mag_topic_name *tn);

/* mag_broker_topic_open / mag_broker_lookup_partitions, before auto-creating
   tn (ns_policies.c): may tn be created, and with how many partitions (0 =
   non-partitioned)? The namespace's autoTopicCreationOverride when set, else
   the broker's allowAutoTopicCreation / allowAutoTopicCreationType /
   defaultNumPartitions (Pulsar's BrokerService.isAllowAutoTopicCreation). */
void mag_admin_auto_create(mag_broker *b, const mag_topic_name *tn, bool *allow,
                           uint32_t *partitions);

/* mag_broker_producer_open, once the topic is known: refuse producers while a
   producer_request_hold / producer_exception backlog quota is exceeded
   (evaluated now). @return MAG_OK or MAG_ERR_UNAVAILABLE (503; err set). */
mag_rc mag_admin_producer_check(struct mag_topic *t, mag_buf *err);

/* mag_producer_publish: true while t's backlog quota blocks producers (as
   last evaluated by the sweep or a producer open; O(1)). The publish then
   fails with MAG_ERR_QUEUE_FULL (send-error:8). */
bool mag_admin_publish_blocked(const struct mag_topic *t);

/* End of mag_broker_run: at most every MAG_ADMIN_SWEEP_MS, trim acked
   entries (retention) and re-evaluate backlog quotas. Otherwise one clock
   read. */
void mag_admin_after_run(mag_broker *b);

/* mag_admin_after_run, after the sweep (admin_messages.c): at most every
   opts.message_expiry_interval_ms, expire on every subscription the messages
   older than the namespace's message TTL (PersistentTopic.checkMessageExpiry). */
void mag_admin_expiry_check(mag_broker *b);

/* commit.c, when a group commit is collected: count it for /metrics (staged
   messages, result, seconds the LMDB write + commit took) and, when it
   succeeded, each of its entries in its topic's storage histograms (no
   allocation, no clock read: the writer stamped the job's end). */
struct mag_commit_job;
void mag_metrics_commit(mag_broker *b, const struct mag_commit_job *j);

/* ---- shared by the admin files ------------------------------------------ */

#define MAG_ADMIN_SWEEP_MS 500
/* Entry ids per trimming segment: the newest segment is never trimmed, like
   Pulsar's ledger being written (see retention.c). */
#define MAG_ADMIN_SEGMENT_ENTRIES 1000

/* Monotonic milliseconds (sweep pacing). */
int64_t mag_admin_mono_ms(void);

/* Namespace of a full topic name ("tenant/ns" or "tenant/cluster/ns") into
   out (MAG_TOPIC_NAME_MAX + 1 bytes). false if the name does not parse. */
bool mag_admin_topic_namespace(const char *full, size_t len, char *out);

/* The namespace policy of t, re-read when the policy generation moved. */
const struct mag_ns_policy *mag_admin_topic_policy(struct mag_topic *t);

/* Lowest stored entry id of t (cached; entries below were trimmed). */
uint64_t mag_admin_first_entry(struct mag_topic *t);

/* The lowest mark-delete position of t's durable subscriptions, or
   committed_next - 1 when it has none (everything is "consumed"). */
int64_t mag_admin_slowest_mark_delete(const struct mag_topic *t);

/* Bytes (key + value, as mag_store_topic_storage_size counts them) of t's
   entries with id > after. MAG_OK or a storage error. */
mag_rc mag_admin_bytes_after(struct mag_topic *t, int64_t after, uint64_t *bytes);

/* Stored entries of s not yet acknowledged (the stats' msgBacklog). */
uint64_t mag_admin_sub_backlog(struct mag_sub *s);

/* Sweep t now (quotas, trimming), whatever changed: the stats endpoints call
   it so storageSize reflects acks at once. */
void mag_admin_sweep_topic(struct mag_topic *t);

/* Evaluate t's backlog quota now: sets t->adm.quota_blocked and, for
   consumer_backlog_eviction, moves the slowest cursors forward. */
void mag_admin_quota_evaluate(struct mag_topic *t);

/* ---- shared by admin_ops.c and admin_messages.c ---------------------------- */

/* Acknowledge everything up to md (skip, expire): mark-delete moves forward,
   state about those entries is dropped. No-op when md is not ahead. */
void mag_admin_cursor_forward(struct mag_sub *s, int64_t md);
/* Last entry of t published at or before cutoff_ms, from entry `from` on; -1 = none. */
int64_t mag_admin_last_published_before(struct mag_topic *t, uint64_t from, int64_t cutoff_ms);
/* Read entry id of t into msg (404 "Message not found" when absent). */
mag_rc mag_admin_read_message(struct mag_topic *t, uint64_t id, mag_admin_message *msg,
                              mag_buf *err);
/* Commit the cursor changes of subs[0..n) (NULL entries skipped) now. */
mag_rc mag_admin_commit_cursors(mag_broker *b, struct mag_sub **subs, size_t n, mag_buf *err);

/* ---- namespace policy records (namespaces.c), for ns_policies.c ------------- */

struct cJSON;
/* Read a namespace's policies; 404 "Namespace does not exist". */
mag_rc mag_admin_ns_load(mag_broker *b, const char *tenant, const char *ns,
                         struct mag_ns_policy *p, mag_buf *err);
/* Store p as the namespace's policies, keeping its permissions; bumps the
   policy generation. */
mag_rc mag_admin_ns_store(mag_broker *b, const char *tenant, const char *ns,
                          const struct mag_ns_policy *p, mag_buf *err);
/* mag_ns_policy_parse: the message TTL and auto-creation members of root
   (ns_policies.c). MAG_OK or MAG_ERR_BAD_REQUEST with err set. */
mag_rc mag_ns_policy_parse_more(const struct cJSON *root, struct mag_ns_policy *out, mag_buf *err);
/* mag_ns_policy_format: append ,"message_ttl_in_seconds":N and
   ,"autoTopicCreationOverride":{...} when set (nothing otherwise). */
void mag_ns_policy_format_more(const struct mag_ns_policy *p, mag_buf *out);
/* GET /namespaces/{t}/{ns}: ,"message_ttl_in_seconds":N|null,"autoTopicCreationOverride":{...}|null */
void mag_ns_policy_format_get(const struct mag_ns_policy *p, mag_buf *out);

#endif /* MAG_BROKER_ADMIN_INTERNAL_H */
