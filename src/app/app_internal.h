/* app_internal.h -- what the router shares with the endpoint handlers.
 *
 * Each endpoint lives in its own file (ws_producer.c, ws_consumer.c,
 * ws_reader.c, ws_pingpong.c, admin_*.c) and exports one descriptor; the
 * router's table lists them. Adding an endpoint = one file + one line.
 */
#ifndef MAG_APP_INTERNAL_H
#define MAG_APP_INTERNAL_H

#include "mag/app/app.h"
#include "mag/codec/pulsar_json.h"
#include "mag/codec/topic_path.h"
#include "mag/util/buf.h"
#include "mag/util/str.h"

struct mag_app {
    mag_broker *broker;
    char *cluster_name;
};

/* A WebSocket endpoint. open() validates the query, attaches to the broker
   and upgrades the exchange. On failure it returns the error code and leaves
   a message in err WITHOUT answering: the router answers (wire_errors.c). */
struct mag_ws_endpoint {
    mag_endpoint_kind kind;
    mag_rc (*open)(mag_app *app, mag_http_exchange *ex, const mag_ws_path *path,
                   const mag_query *query, mag_buf *err);
};

extern const struct mag_ws_endpoint mag_ws_producer_endpoint;
extern const struct mag_ws_endpoint mag_ws_consumer_endpoint;
extern const struct mag_ws_endpoint mag_ws_reader_endpoint;
extern const struct mag_ws_endpoint mag_ws_pingpong_endpoint;

/* An admin REST route: method + path pattern where "{}" matches one segment. */
struct mag_rest_route {
    const char *method;
    const char *pattern;
    /* seg[] are the URL-decoded path segments matched by "{}", in order. */
    void (*handle)(mag_app *app, mag_http_exchange *ex, char **seg, size_t nseg);
};
extern const struct mag_rest_route mag_admin_topic_routes[];

/* wire_errors.c -- the ONE place where mag_rc becomes a wire error. */
int mag_wire_http_status(mag_rc rc);
/* send-error:N code for a failed publish (3, 7 or 8). */
int mag_wire_send_error(mag_rc rc);
/* Answer a refused upgrade: status from rc, text/plain body = message. */
void mag_wire_reject_upgrade(mag_http_exchange *ex, mag_rc rc, const char *message);
/* Answer an admin REST error: status from rc, body {"reason":"message"}. */
void mag_wire_rest_error(mag_http_exchange *ex, mag_rc rc, const char *message);
/* RFC 6455 close for a failed consumer/reader command (spec §5.2/§5.3). */
void mag_wire_close_for_command(mag_ws *ws, mag_rc rc, const char *java_exception);

/* Shared query-parameter helpers (Pulsar error texts). */
/* Parse an optional Integer param; absent -> *out untouched, MAG_OK. */
mag_rc mag_param_int(const mag_query *q, const char *name, int32_t *out, mag_buf *err);
mag_rc mag_param_long(const mag_query *q, const char *name, int64_t *out, mag_buf *err);

#endif /* MAG_APP_INTERNAL_H */
