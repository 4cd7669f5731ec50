/* broker_internal.h -- structures shared by the src/broker/ files (not a public API).
 *
 * Ownership: the broker owns topics; a topic owns its subscriptions; a
 * subscription lists (but does not own) its consumers; producer and consumer
 * handles are owned by the endpoint that opened them until it closes them.
 */
#ifndef MAG_BROKER_INTERNAL_H
#define MAG_BROKER_INTERNAL_H

#include "admin_internal.h"
#include "deadlines.h"
#include "mag/broker/broker.h"
#include "mag/util/idset.h"
#include "mag/util/strmap.h"

typedef struct mag_topic mag_topic;
typedef struct mag_sub mag_sub;

struct mag_topic {
    mag_broker *broker;
    char *name;                 /* full name, NUL-terminated */
    size_t name_len;
    mag_topic_rec rec;          /* id (= ledgerId), partitions, terminated */
    int32_t partition;          /* index when this topic is a partition, else -1 */
    uint64_t next_entry_id;     /* next id to assign to a staged message */
    uint64_t committed_next;    /* entries below this id are committed and dispatchable */
    bool in_fill;               /* listed in broker->fill->topics, at fill_slot */
    size_t fill_slot;
    mag_strmap producers;       /* name -> mag_producer */
    mag_strmap subs;            /* name -> mag_sub */
    uint64_t producer_counter;  /* for generated producer names */
    bool non_persistent;        /* in memory only: nothing of it touches LMDB */
    mag_strmap dedup_highest;   /* producer name -> int64 highest committed sequence id */
    /* statistics (admin REST, /metrics) */
    uint64_t msg_dropped;       /* non-persistent: messages no consumer could take */
    struct mag_admin_rate drop_rate;
    uint64_t msg_in_counter;    /* messages committed */
    uint64_t bytes_in_counter;  /* payload bytes committed */
    struct mag_metrics_topic storage_stats; /* write latency / entry size histograms (metrics.c) */
    struct mag_admin_topic adm;         /* retention, quota, rates (admin_internal.h) */
};

struct mag_sub {
    mag_topic *topic;
    char *name;
    mag_sub_type type;
    bool durable;
    bool blocked_on_unacked;    /* Shared/Key_Shared: maxUnackedMessagesPerSubscription reached
                                   (PersistentDispatcherMultipleConsumers.blockedDispatcherOnUnackMsgs) */
    int64_t mark_delete;        /* every entry id <= this is acked; -1 = none */
    mag_idset acked;            /* individually acked ids > mark_delete */
    uint64_t read_pos;          /* next entry id never dispatched yet */
    mag_idset redeliver;        /* ids to dispatch again before read_pos */
    mag_consumer **consumers;   /* in connection order */
    size_t nconsumers, cap_consumers;
    size_t rr_next;             /* Shared round-robin position */
    uint32_t rr_streak;         /* entries the consumer before rr_next got in a row this run */
    uint64_t msg_dropped;       /* non-persistent: messages dropped (no consumer could take) */
    struct mag_admin_rate drop_rate;
    mag_strmap batch_acks;      /* entry id (8 raw bytes) -> struct mag_batch_acks */
    bool cursor_dirty;          /* listed in broker->dirty_cursors */
    bool dispatch_listed;       /* listed in broker->dispatch_subs */
    uint64_t uid;               /* key in broker->subs_by_uid (deadline owners) */
    mag_strmap redelivery_counts; /* entry id (8 raw bytes) -> count; Shared/Key_Shared */
    mag_idset delayed;          /* entries waiting for their deliverAt time */
    struct mag_ks_point *ring;  /* Key_Shared consistent-hash ring, sorted */
    size_t ring_len;
    /* statistics */
    uint64_t msg_out_counter;   /* messages dispatched (redeliveries included) */
    uint64_t bytes_out_counter;
    struct mag_admin_rate adm_out;      /* dispatch rate (admin stats) */
    uint64_t msg_ack_counter;   /* messages acknowledged by its consumers (mag_consumer_ack) */
    struct mag_admin_rate adm_ack;      /* their rate (/metrics pulsar_subscription_msg_ack_rate) */
};

/* Flow permits. A WebSocket session on a partitioned topic holds one broker
   consumer per partition; they share one permit pool, like the proxy's
   single receive queue over a multi-topics consumer. */
struct mag_flow {
    uint32_t permits;
    mag_consumer **members;
    size_t nmembers, cap_members;
};

/* One point of the Key_Shared consistent-hash ring (ConsistentHashingStickyKeyConsumerSelector). */
struct mag_ks_point {
    uint32_t hash;
    mag_consumer *consumer;
};

struct mag_consumer {
    mag_sub *sub;
    bool blocked_on_unacked;    /* Shared/Key_Shared: maxUnackedMessagesPerConsumer reached
                                   (Consumer.blockedConsumerOnUnackedMsgs) */
    uint64_t uid;               /* key in broker->consumers_by_uid (deadline owners) */
    int64_t ack_timeout_ms;
    int64_t nack_delay_ms;
    int32_t max_redeliver_count;    /* > 0: dead-letter policy on */
    char *dead_letter_topic;        /* full topic name when the policy is on */
    mag_idset nacked;           /* pending ids with a negative-ack timer running */
    /* Exclusive/Failover: ack-timeout and negative-ack deadlines pushed
       before these heap seqs belong to deliveries that a rewind took back. */
    uint64_t ack_deadlines_from, nack_deadlines_from;
    /* entry -> number of its ack-timeout deadlines still in the heap that a
       negative ack cancelled (uidmap, count as the value). */
    mag_strmap cancelled_acks;
    bool recently_joined;       /* Key_Shared: limited to entries < join_read_pos */
    uint64_t join_read_pos;
    struct mag_consumer_events ev;
    void *ctx;
    char *name;
    int32_t priority;
    struct mag_flow *flow;      /* permits; shared by the partitions of one session */
    mag_idset pending;          /* delivered and not yet acked */
    /* statistics */
    uint64_t msg_out_counter;
    uint64_t bytes_out_counter;
    struct mag_admin_rate adm_out;      /* dispatch rate (admin stats) */
};

struct mag_producer {
    mag_topic *topic;
    char *name;
    struct mag_producer_config cfg;
    int64_t next_sequence_id;
    uint64_t uid;               /* key in broker->producers_by_uid (deadline owner) */
    /* The open batch (batching.c): messages appended; closed when full, when
       its delay is over (broker->batch_delays), or when the producer closes. */
    mag_buf batch;
    uint32_t batch_count;
    size_t batch_bytes;         /* payload bytes in it (BatchMessageContainerImpl's count) */
    int64_t batch_close_at;     /* epoch ms: first message + batch_max_delay_ms */
    bool batch_timer_armed;     /* a deadline of this producer is in batch_delays */
    uint64_t *batch_tokens;
    size_t cap_batch_tokens;
    bool batch_listed;          /* in broker->open_batches */
    bool dedup_loaded;          /* dedup_highest read from the store */
    int64_t dedup_highest;      /* highest sequence id accepted (dedup.c) */
    size_t rejected_size;       /* payload size of the last publish over maxMessageSize */
    bool rejected_batched;      /* ... and whether it was a batched publish */
    uint64_t msg_in_counter;    /* statistics: messages committed */
    uint64_t bytes_in_counter;
    struct mag_producer_events ev;
    void *ctx;
    struct mag_admin_rate adm_in;       /* publish rate (admin stats) */
};

/* One publish waiting for the group commit. */
typedef struct mag_staged {
    mag_producer *producer;     /* NULL once the producer closed (or a dead-letter move) */
    uint64_t dlq_sub_uid;       /* dead-letter move: subscription acked in the same batch */
    uint64_t dlq_entry;         /*   and the original entry id (0 uid = not a move) */
    uint32_t batch_count;       /* > 0: a batch; its tokens are at job->batch_tokens[batch_tokens_at] */
    size_t batch_tokens_at;
    mag_topic *topic;           /* loop thread only */
    uint64_t topic_id;          /* what the writer thread uses */
    uint64_t entry_id;
    uint64_t token;
    size_t offset, len;         /* encoded entry inside job->entries */
    size_t payload_len;
    bool dedup;                 /* record (producer, sequence id) -> entry id too */
} mag_staged;

/* A topic with messages in a commit job: ids [first, end) are its. end is
   set when the job is handed to the writer. */
struct mag_job_topic {
    mag_topic *topic;
    uint64_t first, end;
    uint64_t shift;             /* renumbering after an earlier job failed */
};

/* A cursor as it was when its job was handed to the writer. */
struct mag_job_cursor {
    uint64_t sub_uid;           /* to re-mark it dirty if the commit fails */
    uint64_t topic_id;
    char *name;                 /* owned */
    mag_cursor_rec rec;         /* rec.ranges owned */
};

/* One group commit (commit.c). The broker has two: "fill" collects what the
   loop stages; "flight" is being written by the writer thread. The writer
   reads only entries, staged[].{topic_id, entry_id, offset, len,
   batch_count, dedup} and cursors; everything else is the loop's. */
struct mag_commit_job {
    mag_buf entries;            /* encoded entries, back to back */
    mag_staged *staged;
    size_t nstaged, cap_staged;
    uint64_t *batch_tokens;     /* tokens of the batched messages, in order */
    size_t nbatch_tokens, cap_batch_tokens;
    struct mag_job_topic *topics;
    size_t ntopics, cap_topics;
    struct mag_job_cursor *cursors;
    size_t ncursors, cap_cursors;
    mag_rc rc;                  /* set by the writer */
    double secs;                /* how long the LMDB write + commit took */
    int64_t end_ms;             /* CLOCK_MONOTONIC ms when it ended (storage histograms) */
};

struct mag_commit_writer;       /* commit.c: the storage writer thread */

struct mag_broker {
    struct mag_broker_opts opts;
    mag_strmap topics;          /* name -> mag_topic */
    struct mag_commit_job jobs[2];
    struct mag_commit_job *fill;    /* being staged by the loop */
    struct mag_commit_job *flight;  /* handed to the writer; NULL when it is idle */
    struct mag_commit_writer *writer;   /* NULL: commits run inline (opts.commit_thread off) */
    bool collecting;                /* inside mag_commit_collect (no re-entry) */
    mag_rc last_commit_rc;          /* result of the last collected job */
    mag_sub **dirty_cursors;    /* durable cursors to persist */
    size_t ndirty, cap_dirty;
    mag_sub **dispatch_subs;    /* subscriptions that may have something to dispatch */
    size_t ndispatch, cap_dispatch;
    bool running;               /* inside mag_broker_run (no re-entry) */
    uint64_t next_uid;
    mag_strmap consumers_by_uid;    /* uid (8 raw bytes) -> mag_consumer */
    mag_strmap subs_by_uid;         /* uid (8 raw bytes) -> mag_sub */
    uint64_t next_np_topic_id;      /* ids of non-persistent topics (memory only) */
    mag_producer **open_batches;    /* producers with an open batch (all closed by a drain) */
    size_t nopen_batches, cap_open_batches;
    mag_buf scratch;                /* compression on publish */
    mag_buf inflate;                /* decompression on dispatch */
    mag_deadline_heap ack_timeouts; /* owner = consumer uid */
    mag_deadline_heap nack_delays;  /* owner = consumer uid */
    mag_deadline_heap delayed;      /* owner = subscription uid (deliverAt) */
    mag_deadline_heap batch_delays; /* owner = producer uid: its batch may be due */
    mag_strmap producers_by_uid;    /* uid (8 raw bytes) -> mag_producer */
    int64_t timer_at;               /* deadline the loop was last asked for; 0 = none */
    int64_t last_cursor_flush;      /* when dirty cursors were last committed */
    int64_t cursor_flush_at;        /* pending cursor-only flush deadline; 0 = none */
    bool flush_all;                 /* shutting down: commit cursors now */
    struct mag_admin_broker adm;        /* admin, retention, metrics state */
    uint64_t space_left;            /* map bytes publishes may still use (space.c) */
    bool space_stale;               /* LMDB written since space_left was measured */
};

/* space.c */
/* Bytes of a map of map_size that publishes leave free for deletes. */
uint64_t mag_space_reserve(uint64_t map_size);
/* Measure the space publishes may use (scan: walk LMDB's freelist even when
   the high-water mark is far from the limit). */
void mag_space_update(mag_broker *b, bool scan);
/* Something was written outside the group commit (a delete may have freed
   pages): the next publish that does not fit measures again. */
void mag_space_changed(mag_broker *b);
/* May a message of `bytes` be staged, below the reserve? */
bool mag_space_publish_ok(mag_broker *b, size_t bytes);

/* commit.c */
/* Set up the two jobs and, with opts.commit_thread, start the writer thread. */
mag_rc mag_commit_init(mag_broker *b);
/* Commit what is left, stop the writer thread, free the jobs. */
void mag_commit_shutdown(mag_broker *b);
/* If the writer finished the flight job: report its results (receipts,
   dispatch marks, rollback on failure). */
void mag_commit_collect(mag_broker *b);
/* If the writer is idle and past its group wait (or the fill job is big)
   and something is staged (or cursors are due): hand the fill job over.
   Without a writer thread the job is written and collected right here. */
void mag_commit_start(mag_broker *b);
/* Whether mag_commit_start would hand the fill job over now. When it would
   not, the writer's eventfd wakes the loop once it would. */
bool mag_commit_may_start(mag_broker *b);
/* Every LMDB write outside the group commit begins here: it waits until the
   writer is idle, so all writes reach LMDB in the loop's order. */
mag_rc mag_broker_wbegin(mag_broker *b, mag_store_wtxn **out);

/* broker.c */
/* Stage an entry for the next group commit (producer NULL: internal write).
   e is copied; publish time is set here. The record is valid until the
   next stage call. */
mag_staged *mag_broker_stage(mag_broker *b, mag_topic *t, mag_producer *p, const mag_entry *e,
                             uint64_t token);
/* Free t and all it owns (subscriptions, dedup state); the caller already
   removed it from b->topics, or is freeing the broker. */
void mag_topic_free(mag_topic *t);
/* Find or (if allowed) durably create a topic. */
mag_rc mag_broker_topic_open(mag_broker *b, const mag_topic_name *tn, mag_topic **out, mag_buf *err);
void mag_broker_wake(mag_broker *b);
/* Generic growable pointer array push. */
void mag_ptrs_push(void ***arr, size_t *n, size_t *cap, void *p);
void mag_ptrs_remove(void **arr, size_t *n, void *p);
void mag_ptrs_push_u64(uint64_t **arr, size_t *n, size_t *cap, uint64_t v);

/* subscription.c */
mag_sub *mag_sub_new(mag_topic *t, const char *name, mag_sub_type type, bool durable,
                     int64_t mark_delete);
void mag_sub_free(mag_sub *s);
void mag_sub_mark_dispatch(mag_sub *s);
void mag_sub_mark_cursor_dirty(mag_sub *s);
/* Fill a cursor record; *ranges_out is a malloc'ed array the caller frees. */
void mag_sub_cursor_rec(const mag_sub *s, mag_cursor_rec *rec, uint64_t **ranges_out);
bool mag_sub_is_acked(const mag_sub *s, uint64_t entry_id);
/* Ack one entry on the subscription (cursor persisted by the next commit). */
void mag_sub_ack_entry(mag_sub *s, uint64_t entry);

/* dispatch.c */
void mag_dispatch_sub(mag_sub *s, mag_store_rtxn *r);
/* The consumer that would get the next message now (NULL if none can). */
mag_consumer *mag_dispatch_pick(mag_sub *s);
/* The consumer a single-active-consumer subscription (Exclusive, Failover)
   delivers to, whatever its permits; NULL for Shared/Key_Shared or none. */
mag_consumer *mag_dispatch_active(const mag_sub *s);

/* Acked messages of a partly acked batch entry (memory only, like Pulsar
   2.10 without acknowledgmentAtBatchIndexLevelEnabled). */
struct mag_batch_acks {
    uint32_t size;
    uint32_t acked;
    uint64_t bits[];
};

/* batching.c */
/* Add a message to p's open batch (closing it first when full). */
void mag_batch_add(mag_producer *p, const mag_entry *e, uint64_t token);
/* Close p's open batch into a staged entry. */
void mag_batch_close(mag_producer *p);
/* Close every open batch (a drain: shutdown, admin operations). */
void mag_batch_close_all(mag_broker *b);
/* A batch deadline popped at now_ms: close p's batch if it is due, or wait
   for the batch opened since. */
void mag_batch_deadline(mag_producer *p, int64_t now_ms);
/* Stage one unbatched message, compressed as the producer asks. */
void mag_batch_stage_single(mag_producer *p, const mag_entry *e, uint64_t token);
/* Whether e is over the broker's maxMessageSize; *size = the size compared. */
bool mag_batch_over_size(mag_producer *p, const mag_entry *e, size_t *size);
/* Is message `index` of batch entry `entry` acked on s? */
bool mag_batch_index_acked(const mag_sub *s, uint64_t entry, uint32_t index);
/* Ack one message of a batch entry; acks the entry when all are. */
void mag_batch_ack_index(mag_sub *s, uint64_t entry, uint32_t index, uint32_t size);
void mag_batch_forget(mag_sub *s, uint64_t entry);
void mag_batch_forget_all(mag_sub *s);

/* dedup.c */
/* Is deduplication on for t (namespace policy or brokerDeduplicationEnabled)? */
bool mag_dedup_enabled(mag_topic *t);
/* A duplicate of an accepted sequence id is answered at once with the
   original's id and not stored: returns true. */
bool mag_dedup_check(mag_producer *p, int64_t seq, uint64_t token);
/* In the group commit (writer thread): store where each message of st went. */
mag_rc mag_dedup_record(mag_store_wtxn *w, const mag_staged *st, const uint8_t *encoded);
/* After that commit (loop): remember the producer's highest sequence id. */
void mag_dedup_remember(const mag_staged *st, const uint8_t *encoded);
void mag_dedup_forget_topic(mag_topic *t);
/* A producer without initialSequenceId continues after the stored highest. */
void mag_dedup_continue(mag_producer *p);

/* non_persistent.c */
/* Deliver a message of a non-persistent topic to the consumers connected
   now; subscriptions whose consumers cannot take it drop it (counted). */
void mag_np_publish(mag_producer *p, const mag_entry *e, uint64_t token);

/* key_shared.c */
void mag_ks_rebuild_ring(mag_sub *s);
/* The consumer owning a message's sticky key (NULL without consumers). */
mag_consumer *mag_ks_select(const mag_sub *s, const mag_entry *e);
void mag_dispatch_key_shared(mag_sub *s, mag_store_rtxn *r);
/* Deliver entry id to c (bookkeeping + callback). */
void mag_dispatch_deliver(mag_sub *s, mag_consumer *c, uint64_t id, const mag_entry *e);
/* True if c has permits and its output is not congested. */
bool mag_dispatch_available(mag_consumer *c);
/* Shared/Key_Shared: defer an entry whose deliverAt is in the future.
   Returns true if it was deferred. */
bool mag_dispatch_defer_delayed(mag_sub *s, uint64_t id, const mag_entry *e);

/* redelivery.c */
/* uid registry helpers */
void mag_uidmap_put(mag_strmap *m, uint64_t uid, void *p);
void *mag_uidmap_get(const mag_strmap *m, uint64_t uid);
void mag_uidmap_remove(mag_strmap *m, uint64_t uid);
int32_t mag_sub_redelivery_count(const mag_sub *s, uint64_t entry);
void mag_sub_forget_redelivery_count(mag_sub *s, uint64_t entry);
/* Schedule a deadline and make sure the loop's timer covers it. */
void mag_broker_schedule(mag_broker *b, mag_deadline_heap *h, int64_t at_ms, uint64_t owner,
                         uint64_t entry);
/* Ask the client to get a message again (ack timeout / nack expiry), per the
   subscription type and the consumer's dead-letter policy (ConsumerImpl, DeadLetterPolicy). */
void mag_redeliver(mag_consumer *c, uint64_t entry);
/* Undo an ack (a dead-letter move whose commit failed). */
void mag_sub_unack(mag_sub *s, uint64_t entry);
/* A staged dead-letter move failed to commit: undo its ack, redeliver. */
void mag_broker_dead_letter_failed(mag_broker *b, const mag_staged *st);

#endif /* MAG_BROKER_INTERNAL_H */
