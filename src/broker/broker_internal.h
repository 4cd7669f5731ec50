/* broker_internal.h -- structures shared by the src/broker/ files (not a public API).
 *
 * Ownership: the broker owns topics; a topic owns its subscriptions; a
 * subscription lists (but does not own) its consumers; producer and consumer
 * handles are owned by the endpoint that opened them until it closes them.
 */
#ifndef MAG_BROKER_INTERNAL_H
#define MAG_BROKER_INTERNAL_H

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
    uint64_t batch_rollback;    /* next_entry_id before the current staged batch */
    bool in_batch;              /* listed in broker->batch_topics */
    mag_strmap producers;       /* name -> mag_producer */
    mag_strmap subs;            /* name -> mag_sub */
    uint64_t producer_counter;  /* for generated producer names */
    /* statistics (admin REST, /metrics) */
    uint64_t msg_in_counter;    /* messages committed */
    uint64_t bytes_in_counter;  /* payload bytes committed */
};

struct mag_sub {
    mag_topic *topic;
    char *name;
    mag_sub_type type;
    bool durable;
    int64_t mark_delete;        /* every entry id <= this is acked; -1 = none */
    mag_idset acked;            /* individually acked ids > mark_delete */
    uint64_t read_pos;          /* next entry id never dispatched yet */
    mag_idset redeliver;        /* ids to dispatch again before read_pos */
    mag_consumer **consumers;   /* in connection order */
    size_t nconsumers, cap_consumers;
    size_t rr_next;             /* Shared round-robin position */
    bool cursor_dirty;          /* listed in broker->dirty_cursors */
    bool dispatch_listed;       /* listed in broker->dispatch_subs */
    /* statistics */
    uint64_t msg_out_counter;   /* messages dispatched (redeliveries included) */
    uint64_t bytes_out_counter;
};

struct mag_consumer {
    mag_sub *sub;
    struct mag_consumer_events ev;
    void *ctx;
    char *name;
    int32_t priority;
    uint32_t permits;
    mag_idset pending;          /* delivered and not yet acked */
    /* statistics */
    uint64_t msg_out_counter;
    uint64_t bytes_out_counter;
};

struct mag_producer {
    mag_topic *topic;
    char *name;
    uint64_t msg_in_counter;    /* statistics: messages committed */
    uint64_t bytes_in_counter;
    struct mag_producer_events ev;
    void *ctx;
};

/* One publish waiting for the group commit. */
typedef struct mag_staged {
    mag_producer *producer;     /* NULL once the producer closed */
    mag_topic *topic;
    uint64_t entry_id;
    uint64_t token;
    size_t offset, len;         /* encoded entry inside broker->stage_buf */
    size_t payload_len;
} mag_staged;

struct mag_broker {
    struct mag_broker_opts opts;
    mag_strmap topics;          /* name -> mag_topic */
    mag_buf stage_buf;          /* encoded entries of the current batch */
    mag_staged *staged;
    size_t nstaged, cap_staged;
    mag_topic **batch_topics;
    size_t nbatch_topics, cap_batch_topics;
    mag_sub **dirty_cursors;    /* durable cursors to persist */
    size_t ndirty, cap_dirty;
    mag_sub **dispatch_subs;    /* subscriptions that may have something to dispatch */
    size_t ndispatch, cap_dispatch;
    uint64_t deleted_cursor_pending;
    bool running;               /* inside mag_broker_run (no re-entry) */
};

/* broker.c */
/* Find or (if allowed) durably create a topic. */
mag_rc mag_broker_topic_open(mag_broker *b, const mag_topic_name *tn, mag_topic **out, mag_buf *err);
void mag_broker_wake(mag_broker *b);
/* Generic growable pointer array push. */
void mag_ptrs_push(void ***arr, size_t *n, size_t *cap, void *p);
void mag_ptrs_remove(void **arr, size_t *n, void *p);

/* subscription.c */
mag_sub *mag_sub_new(mag_topic *t, const char *name, mag_sub_type type, bool durable,
                     int64_t mark_delete);
void mag_sub_free(mag_sub *s);
void mag_sub_mark_dispatch(mag_sub *s);
void mag_sub_mark_cursor_dirty(mag_sub *s);
/* Fill a cursor record; *ranges_out is a malloc'ed array the caller frees. */
void mag_sub_cursor_rec(const mag_sub *s, mag_cursor_rec *rec, uint64_t **ranges_out);
bool mag_sub_is_acked(const mag_sub *s, uint64_t entry_id);

/* dispatch.c */
void mag_dispatch_sub(mag_sub *s, mag_store_rtxn *r);

#endif /* MAG_BROKER_INTERNAL_H */
