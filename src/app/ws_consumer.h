/* ws_consumer.h -- consumer-session machinery shared by ws_consumer.c and ws_reader.c.
 *
 * A session owns one broker consumer per partition (one for a
 * non-partitioned topic); the WebSocket it upgrades to is owned by the HTTP
 * server. The session frees itself when the socket closes.
 */
#ifndef MAG_APP_WS_CONSUMER_H
#define MAG_APP_WS_CONSUMER_H

#include "app_internal.h"
#include "mag/util/base64.h"

struct mag_consumer_session;

/* One broker consumer of the session (the callback context of its events). */
struct mag_consumer_part {
    struct mag_consumer_session *cs;
    mag_consumer *consumer;     /* NULL once closed (unsubscribe, topic deleted) */
};

struct mag_consumer_session {
    mag_app *app;
    mag_ws *ws;
    struct mag_consumer_part *parts;
    uint32_t nparts;            /* partitions, or 1 for a non-partitioned topic */
    bool partitioned;
    bool is_reader;
    bool pull_mode;
    int64_t pending;            /* ConsumerHandler.pendingMessages */
    int64_t max;
    uint64_t delivered;
    bool in_flight;             /* a message was requested from the broker */
    /* Messages of a batch entry beyond what flow control lets through now
       ([u32 length][frame] records from backlog_off on; Pulsar's
       ConsumerHandler hands out one message at a time). */
    mag_buf backlog;
    size_t backlog_off;
    mag_session_entry *reg;     /* entry in the app's session registry (proxy stats) */
    mag_consumer_cmd cmd;       /* parser state, reused */
    mag_buf out;                /* outgoing frame text, reused */
};

/* queue_size is receiverQueueSize as given (capped at 1000, 0 -> 1). */
struct mag_consumer_session *mag_consumer_session_new(mag_app *app, bool is_reader, bool pull_mode,
                                                      int32_t queue_size);
void mag_consumer_session_free(struct mag_consumer_session *cs);
/* Attach to the broker (every partition of a partitioned topic) and upgrade.
   On error cs is freed, nothing is answered and err holds the message. */
mag_rc mag_consumer_session_start(struct mag_consumer_session *cs, mag_http_exchange *ex,
                                  const mag_topic_name *topic, const struct mag_consumer_opts *o,
                                  mag_buf *err);

#endif /* MAG_APP_WS_CONSUMER_H */
