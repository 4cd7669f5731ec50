/* ws_consumer.h -- consumer-session machinery shared by ws_consumer.c and ws_reader.c.
 *
 * A session owns its broker consumer handle; the WebSocket it upgrades to is
 * owned by the HTTP server. The session frees itself when the socket closes.
 */
#ifndef MAG_APP_WS_CONSUMER_H
#define MAG_APP_WS_CONSUMER_H

#include "app_internal.h"
#include "mag/util/base64.h"

struct mag_consumer_session {
    mag_app *app;
    mag_ws *ws;
    mag_consumer *consumer;     /* NULL after unsubscribe */
    bool is_reader;
    bool pull_mode;
    int64_t pending;            /* spec §6 counter */
    int64_t max;
    uint64_t delivered;
    mag_consumer_cmd cmd;       /* parser state, reused */
    mag_buf out;                /* outgoing frame text, reused */
};

/* queue_size is receiverQueueSize as given (capped at 1000, 0 -> 1). */
struct mag_consumer_session *mag_consumer_session_new(mag_app *app, bool is_reader, bool pull_mode,
                                                      int32_t queue_size);
void mag_consumer_session_free(struct mag_consumer_session *cs);
/* Attach to the broker and upgrade. On error cs is freed, nothing is answered
   and err holds the broker's message. */
mag_rc mag_consumer_session_start(struct mag_consumer_session *cs, mag_http_exchange *ex,
                                  const mag_topic_name *topic, const struct mag_consumer_opts *o,
                                  mag_buf *err);

#endif /* MAG_APP_WS_CONSUMER_H */
