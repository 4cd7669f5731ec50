/* broker.h -- Magnetar's broker core: topics, producers, subscriptions, dispatch.
 *
 * The broker owns all topic/subscription state and is driven by exactly one
 * thread (the event loop); only LMDB commits may run on a writer thread of
 * its own (opts.commit_thread, src/broker/commit.c). It knows nothing of sockets or libevent: endpoints
 * talk to it through producer/consumer handles and receive results through
 * callback tables; time and "please run me soon" come in through the opts.
 *
 * Durability contract (group commit): mag_producer_publish() only STAGES a
 * message. mag_broker_run() hands every staged message and every changed
 * cursor to ONE storage transaction (on the writer thread while the loop
 * stages the next one), and once it is committed reports each publish's
 * result (in publish order) and dispatches the new entries. A publish is
 * therefore acknowledged only after it is committed.
 */
#ifndef MAG_BROKER_BROKER_H
#define MAG_BROKER_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/codec/msgid.h"
#include "mag/codec/topic_path.h"
#include "mag/rc.h"
#include "mag/storage/entry.h"
#include "mag/storage/store.h"
#include "mag/util/buf.h"

typedef struct mag_broker mag_broker;
typedef struct mag_producer mag_producer;
typedef struct mag_consumer mag_consumer;

typedef enum mag_sub_type {
    MAG_SUB_EXCLUSIVE = 0,
    MAG_SUB_SHARED = 1,
    MAG_SUB_FAILOVER = 2,
    MAG_SUB_KEY_SHARED = 3
} mag_sub_type;

struct mag_broker_opts {
    mag_store *store;                   /* borrowed; must outlive the broker */
    bool allow_auto_topic_creation;     /* allowAutoTopicCreation */
    uint32_t auto_topic_partitions;     /* allowAutoTopicCreationType=partitioned: the
                                           defaultNumPartitions; 0 = non-partitioned */
    size_t group_commit_max_messages;   /* stage at most this many before committing inline */
    int64_t group_wait_us;              /* journalMaxGroupWaitMSec: a commit starts no sooner than
                                           this after the previous one started (0 = at once) */
    size_t group_bytes;                 /* journalBufferedWritesThreshold: ...unless this many
                                           bytes are staged (0 = no such limit) */
    size_t key_shared_replica_points;   /* subscriptionKeySharedConsistentHashingReplicaPoints */
    int64_t message_expiry_interval_ms; /* messageExpiryCheckIntervalInMinutes in ms; 0 = at every
                                           admin sweep (Magnetar's test setting) */
    int64_t default_message_ttl_s;      /* ttlDurationDefaultInSeconds: TTL of namespaces without a
                                           messageTTL policy; 0 = none */
    int64_t default_retention_minutes;  /* defaultRetentionTimeInMinutes: retention of a namespace */
    int64_t default_retention_mb;       /* defaultRetentionSizeInMB:  without a policy (0 = none,
                                           -1 = unlimited; 0/0 = delete once consumed) */
    size_t max_message_size;            /* maxMessageSize: a publish whose (compressed) payload is
                                           larger fails with MAG_ERR_TOO_LARGE; 0 = no limit */
    uint32_t max_unacked_per_consumer;  /* maxUnackedMessagesPerConsumer (0 = no limit) */
    uint32_t max_unacked_per_subscription; /* maxUnackedMessagesPerSubscription (0 = no limit) */
    uint32_t dispatcher_max_round_robin_batch_size; /* dispatcherMaxRoundRobinBatchSize: Shared
                                           entries given to one consumer in a row (0 = 20) */
    bool deduplication_enabled;         /* brokerDeduplicationEnabled (namespaces may override) */
    int64_t stats_interval_ms;          /* statsUpdateFrequencyInSecs: /metrics storage histograms
                                           show the last complete interval (0 = 60 s) */
    bool commit_thread;                 /* commit on a storage writer thread (the server);
                                           off: mag_broker_run() commits inline */
    /* Called when the broker has work (staged writes, dispatch); the loop must
       then call mag_broker_run() soon, after the current I/O callbacks. */
    void (*request_work)(void *ctx);
    /* Called when the earliest timed deadline moved earlier: the loop must
       call mag_broker_tick() at (or soon after) at_ms (wall-clock epoch ms). */
    void (*set_timer)(void *ctx, int64_t at_ms);
    void *hook_ctx;
};

/* Load topics and cursors from the store. *out is owned by the caller (mag_broker_free). */
mag_rc mag_broker_new(const struct mag_broker_opts *o, mag_broker **out);
/* Commit what is staged, then free everything. Producers/consumers must be closed first. */
void mag_broker_free(mag_broker *b);
/* Group commit + receipts + dispatch (see top of file). */
void mag_broker_run(mag_broker *b);
/* Commit everything staged and every changed cursor now and report the
   results before returning (blocks; admin operations and shutdown). */
void mag_broker_drain(mag_broker *b);
/* With opts.commit_thread: a descriptor that becomes readable when the
   writer thread finished a commit; the loop then calls
   mag_broker_commit_event(). -1 without a writer thread. */
int mag_broker_commit_fd(const mag_broker *b);
/* The commit descriptor is readable: drain it (always) and run the broker. */
void mag_broker_commit_event(mag_broker *b);
/* Tests only: make the commit descriptor readable without counting a note,
   the state a writer's write() racing the loop's drain leaves behind. */
void mag_broker_test_unnoted_signal(mag_broker *b);
/* Number of messages staged and not yet committed. */
size_t mag_broker_staged_count(const mag_broker *b);
/* Run every timed action due at now_ms (ack timeouts, negative-ack delays,
   delayed deliveries), then dispatch. Returns the next deadline (epoch ms) or
   -1 when nothing is scheduled. */
int64_t mag_broker_tick(mag_broker *b, int64_t now_ms);
/* Wall-clock epoch milliseconds, as the broker sees it. */
int64_t mag_broker_now_ms(void);

/* ---- topics ---- */

/* Partition count of a partitioned topic, 0 for a non-partitioned or absent
   one. When the topic is absent, auto-creation is on and its type is
   "partitioned" (the namespace's autoTopicCreation policy, else the broker's
   allowAutoTopicCreation*), the partitioned topic is created first. */
mag_rc mag_broker_lookup_partitions(mag_broker *b, const mag_topic_name *t, uint32_t *n,
                                    mag_buf *err);
/* Create a partitioned topic with n partitions (the partition topics
   "<name>-partition-<i>" are created too, in the same transaction).
   MAG_ERR_CONFLICT if a topic of that name exists, MAG_ERR_BAD_REQUEST if
   n == 0 or the name is itself a partition. */
mag_rc mag_broker_create_partitioned(mag_broker *b, const mag_topic_name *t, uint32_t n,
                                     mag_buf *err);
/* Grow a partitioned topic to n partitions. MAG_ERR_NOT_FOUND if it is not a
   partitioned topic, MAG_ERR_BAD_REQUEST unless n is larger than today. */
mag_rc mag_broker_grow_partitions(mag_broker *b, const mag_topic_name *t, uint32_t n,
                                  mag_buf *err);

/* Names of every subscription of a topic, for the admin API: appends a JSON
   array of strings to out. MAG_ERR_NOT_FOUND if the topic does not exist. */
mag_rc mag_broker_topic_subscriptions_json(mag_broker *b, const mag_topic_name *t, mag_buf *out);

/* ---- producers ---- */

struct mag_producer_events {
    /* Result of the publish staged with `token`: rc MAG_OK with the message id,
       or an error (MAG_ERR_MAP_FULL, MAG_ERR_STORAGE). Called from
       mag_broker_run() (or inline from mag_producer_publish when the batch hit
       its cap) in publish order. */
    void (*on_result)(void *ctx, uint64_t token, mag_rc rc, const mag_msgid *id);
    /* The broker detached this producer (e.g. topic force-deleted). The handle
       is already freed when this runs; the endpoint must forget it. */
    void (*on_closed)(void *ctx);
};

/* Attach a producer to topic t (auto-created if allowed).
   name: NULL or "" -> a unique generated name "<cluster>-<topic id>-<n>".
   Errors: MAG_ERR_NOT_FOUND (topic absent, auto-creation off), MAG_ERR_CONFLICT
   (producer name in use on the topic), MAG_ERR_UNAVAILABLE (topic terminated),
   MAG_ERR_STORAGE/MAG_ERR_MAP_FULL (topic creation failed). err gets a message. */
mag_rc mag_broker_producer_open(mag_broker *b, const mag_topic_name *t, const char *name,
                                const struct mag_producer_events *ev, void *ctx,
                                mag_producer **out, mag_buf *err);
const char *mag_producer_name(const mag_producer *p);
/* Full name of the topic (or partition) the producer writes to. */
const char *mag_producer_topic(const mag_producer *p);
/* Producer settings (ProducerHandler.getProducerBuilder). */
struct mag_producer_config {
    uint8_t compression;        /* mag_compression (include/mag/codec/compress.h) */
    bool batching;              /* batchingEnabled */
    uint32_t batch_max_messages;/* batchingMaxMessages (default 1000) */
    size_t batch_max_bytes;     /* batchingMaxBytes (128 KiB) */
    int64_t batch_max_delay_ms; /* batchingMaxPublishDelay (0: the Java default, 1 ms) */
    int64_t initial_sequence_id;/* first message gets initial_sequence_id + 1 */
    bool has_initial_sequence_id; /* not given + deduplication on: continue after the
                                     highest sequence id stored for this producer name */
};
/* Apply settings; call right after mag_broker_producer_open. */
void mag_producer_configure(mag_producer *p, const struct mag_producer_config *cfg);
/* Stage one message. e is copied (its pointers need not outlive the call);
   e->publish_time_ms, e->producer_name and e->sequence_id are filled in by
   the broker. With batching, messages are grouped into one entry that closes
   when full or batch_max_delay_ms after its first message (at mag_broker_tick),
   and only then goes to the group commit; each message still gets its own
   result, whose id carries batch_index and batch_size.
   MAG_ERR_TOO_LARGE: the payload is over opts.max_message_size (nothing
   staged, no sequence id used); mag_producer_rejected() tells the sizes. */
mag_rc mag_producer_publish(mag_producer *p, const mag_entry *e, uint64_t token);
/* The last MAG_ERR_TOO_LARGE publish of p. */
struct mag_rejected_publish {
    size_t size;        /* compressed payload when not batching (as ProducerImpl.sendAsync
                           measures it), the plain payload when batching */
    size_t max;         /* the broker's maxMessageSize */
    bool batched;       /* it would have gone into a batch */
    bool batching;      /* the producer batches (batchingEnabled), even if this one was not */
    bool compressed;    /* the producer compresses (compressionType) */
};
void mag_producer_rejected(const mag_producer *p, struct mag_rejected_publish *out);
/* Detach; an open batch is closed and staged; results of still-staged
   publishes are dropped (the messages are still committed). */
void mag_producer_close(mag_producer *p);

/* ---- consumers and readers ---- */

typedef enum mag_start_position {
    MAG_START_LATEST = 0,
    MAG_START_EARLIEST,
    MAG_START_AFTER_ID      /* exclusive start after opts.start_id (reader messageId=...) */
} mag_start_position;

struct mag_consumer_opts {
    const char *subscription;   /* NULL for readers: a "reader-<10 hex>" name is generated */
    mag_sub_type type;
    bool durable;               /* false: cursor lives in memory only (readers, NonDurable) */
    mag_start_position start;   /* where a NEW subscription starts */
    mag_msgid start_id;
    const char *consumer_name;  /* NULL -> generated 5 hex chars */
    int32_t priority_level;
    int64_t ack_timeout_ms;     /* 0 = off; unacked messages redelivered after it */
    int64_t nack_delay_ms;      /* negativeAckRedeliveryDelay */
    int32_t max_redeliver_count;/* > 0 enables the dead-letter policy */
    const char *dead_letter_topic; /* full name; NULL -> "{topic}-{subscription}-DLQ" */
};

struct mag_consumer_events {
    /* One message for the client. e and its pointers are valid only during the
       call. The callee may call mag_consumer_flow() but must not close the consumer.
       One permit yields one entry; a batch entry yields one call per message:
       `first` marks the first message of the entry, `remaining` counts the
       messages of the same entry still to come. */
    void (*on_message)(void *ctx, const mag_msgid *id, const mag_entry *e, int32_t redelivery_count,
                       bool first, uint32_t remaining);
    /* True while the client's output is congested; dispatch skips it. */
    bool (*is_blocked)(void *ctx);
    /* The broker detached this consumer (e.g. topic force-deleted). The handle
       is already freed when this runs; the endpoint must forget it. */
    void (*on_closed)(void *ctx);
};

/* Errors: MAG_ERR_NOT_FOUND (topic absent, auto-creation off), MAG_ERR_CONFLICT
   (exclusive subscription busy, or subscription of a different type with
   connected consumers), storage errors. */
mag_rc mag_broker_consumer_open(mag_broker *b, const mag_topic_name *t,
                                const struct mag_consumer_opts *o,
                                const struct mag_consumer_events *ev, void *ctx,
                                mag_consumer **out, mag_buf *err);
const char *mag_consumer_subscription(const mag_consumer *c);
/* Allow `permits` more deliveries (the proxy's "receive" requests,
   ConsumerHandler.receiveMessage).
   permits 0 only re-triggers dispatch (e.g. the client's output drained). */
void mag_consumer_flow(mag_consumer *c, uint32_t permits);
/* Make c draw its permits from the pool of `with` (the other partitions of
   the same session); c's unused permits move over. */
void mag_consumer_share_flow(mag_consumer *c, mag_consumer *with);
/* Acknowledge one message of this consumer's subscription (from any consumer of
   it). Ids of another topic are ignored. */
void mag_consumer_ack(mag_consumer *c, const mag_msgid *id);
/* Negative ack: the message is redelivered after the consumer's nack delay
   (Shared/Key_Shared: that message, redeliveryCount + 1; Exclusive/Failover:
   every unacked message of the consumer, count unchanged; ConsumerImpl.negativeAcknowledge). */
void mag_consumer_nack(mag_consumer *c, const mag_msgid *id);
/* Remove the subscription. MAG_ERR_PRECONDITION if other consumers are
   connected. On success the consumer is closed and freed (do not use it). */
mag_rc mag_consumer_unsubscribe(mag_consumer *c, mag_buf *err);
/* True once the topic is terminated and everything was dispatched
   (ConsumerImpl.hasReachedEndOfTopic). */
bool mag_consumer_end_of_topic(const mag_consumer *c);
/* Detach; messages it held unacked go back for redelivery. Frees c. */
void mag_consumer_close(mag_consumer *c);

#endif /* MAG_BROKER_BROKER_H */
