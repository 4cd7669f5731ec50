/* app_internal.h -- what the router shares with the endpoint handlers.
 *
 * Each endpoint lives in its own file (ws_producer.c, ws_consumer.c,
 * ws_reader.c, ws_pingpong.c, admin_*.c) and exports one descriptor; the
 * router's table lists them. Adding an endpoint = one file + one line.
 */
#ifndef MAG_APP_INTERNAL_H
#define MAG_APP_INTERNAL_H

#include "mag/app/app.h"
#include "mag/app/authz.h"
#include "mag/app/delivery_cache.h"
#include "mag/broker/admin.h"
#include "mag/codec/pulsar_json.h"
#include "mag/codec/topic_path.h"
#include "mag/util/buf.h"
#include "mag/util/str.h"

/* webServiceAllowedOrigins, parsed (origin.c). */
struct mag_origin_policy {
    bool any;          /* every origin */
    char **list;       /* exact origins ("https://app.example:8443"), besides the server's own */
    size_t n;
};

struct mag_app {
    mag_broker *broker;
    char *cluster_name;
    struct mag_origin_policy origins;
    /* authentication (auth.c) */
    bool auth_enabled;
    const mag_token_auth *token_auth;   /* borrowed */
    char *anonymous_role;               /* NULL = none */
    struct mag_authz_conf authz;        /* authorization (authz.c) */
    /* open WebSocket sessions (sessions.c), for proxy stats and /metrics */
    struct mag_session_entry *sessions;
    size_t nsessions[3];                /* by kind: producer, consumer, reader */
    mag_delivery_cache deliveries;      /* delivery JSON shared across subscriptions */
    /* health and broker endpoints (admin_brokers.c) */
    char *status_file_path;             /* NULL = /status.html always OK */
    char *runtime_config;               /* key=value lines; NULL = none */
    char *broker_id;                    /* "host:port" (Pulsar's lookup service address) */
    char *http_url;                     /* "http://host:port" */
    char *https_url;                    /* "https://host:tlsport"; NULL without TLS */
    bool console_enabled;               /* webConsoleEnabled (console.c) */
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
extern const struct mag_rest_route mag_admin_namespace_routes[];
extern const struct mag_rest_route mag_admin_proxy_routes[];
extern const struct mag_rest_route mag_admin_permission_routes[];
extern const struct mag_rest_route mag_metrics_routes[];
extern const struct mag_rest_route mag_admin_broker_routes[];
extern const struct mag_rest_route mag_admin_topic_extra_routes[];
/* process_metrics.c: the Prometheus client's process_* metrics (CPU, memory,
   descriptors, start time) from /proc/self, appended to out. */
void mag_process_metrics(mag_buf *out);

/* admin_common.c -- helpers shared by the admin_*.c handlers. */
/* Answer 200 with a JSON body (copied). */
void mag_admin_reply_json(mag_http_exchange *ex, const mag_buf *body);
/* Answer 204 No Content (Pulsar's answer to a successful mutation). */
void mag_admin_reply_no_content(mag_http_exchange *ex);
/* Answer an error: rc picks the status, err (or mag_strerror) the reason. */
void mag_admin_reply_error(mag_http_exchange *ex, mag_rc rc, mag_buf *err);
/* Answer an admin call: rc != OK -> error reply with err; else 200 + out when
   it holds a body, otherwise 204. Frees out (may be NULL) and err. */
void mag_admin_finish(mag_http_exchange *ex, mag_rc rc, mag_buf *out, mag_buf *err);
/* Answer 200 with a stored message: body = payload, X-Pulsar-* headers (peek,
   examinemessage, ledger/entry; admin_topics.c). */
void mag_admin_reply_message(mag_http_exchange *ex, const mag_admin_message *m);
/* Boolean query parameter (Boolean.parseBoolean; absent = false). */
bool mag_admin_query_bool(mag_http_exchange *ex, const char *name);
/* Value of query parameter `name` copied into out ("" when absent). */
void mag_admin_query_get(mag_http_exchange *ex, const char *name, mag_buf *out);
/* Topic from the admin path: domain from the URL prefix (/admin/v2/persistent/
   or /admin/v2/non-persistent/), then seg[0..2] = tenant, namespace, local
   name. MAG_OK, or MAG_ERR_PRECONDITION with err "Topic name is not valid". */
mag_rc mag_admin_topic_from_path(mag_http_exchange *ex, char **seg, mag_topic_name *tn, mag_buf *err);
/* The same, answering the error itself: false when it did. */
bool mag_admin_topic_or_fail(mag_http_exchange *ex, char **seg, mag_topic_name *tn);

/* sessions.c -- registry of open WebSocket sessions (proxy stats, metrics).
   The endpoint adds its session once the upgrade succeeded and removes it in
   its on_close, before freeing the counter the entry points to. */
typedef struct mag_session_entry mag_session_entry;
struct mag_session_desc {
    mag_endpoint_kind kind;         /* MAG_EP_PRODUCER, MAG_EP_CONSUMER or MAG_EP_READER */
    const char *topic;              /* full topic name as requested (copied) */
    const char *subscription;       /* consumer/reader subscription (copied); NULL for producers */
    mag_sub_type sub_type;          /* consumers; readers are Exclusive */
    bool durable;                   /* subscriptionMode=Durable (consumers) */
    const char *peer;               /* mag_ws_peer() text (copied) */
    const uint64_t *msg_counter;    /* messages published (producer) or delivered (consumer,
                                       reader); owned by the session, read until removal */
};
/* Register a session; returns the entry (owned by the app) to pass to
   mag_sessions_remove. */
mag_session_entry *mag_sessions_add(mag_app *app, const struct mag_session_desc *d);
/* Unregister and free e (NULL is a no-op). */
void mag_sessions_remove(mag_app *app, mag_session_entry *e);
/* Iterate: first entry, then next (NULL at the end). */
const mag_session_entry *mag_sessions_first(const mag_app *app);
const mag_session_entry *mag_sessions_next(const mag_session_entry *e);
/* The entry's description (strings owned by the entry). */
const struct mag_session_desc *mag_sessions_desc(const mag_session_entry *e);

/* console.c -- the web console. When enabled and path is one of its files, answers the
   request (200, or 405 for a method other than GET) and returns true; otherwise false. */
bool mag_console_handle(mag_app *app, mag_http_exchange *ex, const char *path);

/* wire_errors.c -- the ONE place where mag_rc becomes a wire error. */
int mag_wire_http_status(mag_rc rc);
/* send-error:N code for a failed publish (3, 7 or 8). */
int mag_wire_send_error(mag_rc rc);
/* Answer a refused upgrade: status from rc, text/plain body = message. */
void mag_wire_reject_upgrade(mag_http_exchange *ex, mag_rc rc, const char *message);
/* Answer an error with status from rc and a text/plain body (/status.html). */
void mag_wire_text_error(mag_http_exchange *ex, mag_rc rc, const char *message);
/* Answer an admin REST error: status from rc, body {"reason":"message"}. */
void mag_wire_rest_error(mag_http_exchange *ex, mag_rc rc, const char *message);
/* RFC 6455 close for a failed consumer/reader command (as Jetty closes Pulsar's
   ConsumerHandler/ReaderHandler after a failed onWebSocketText). */
void mag_wire_close_for_command(mag_ws *ws, mag_rc rc, const char *java_exception);

/* auth.c -- authenticate a request (Pulsar's AuthenticationProviderToken). Token from
   "Authorization: Bearer <jwt>", else (q not NULL: WebSocket upgrades) from the `token` query
   parameter, with or without the "Bearer " prefix. An "X-Pulsar-Auth-Method-Name" other than
   "token" fails. When no valid token is presented and no auth method was named,
   anonymousUserRole (if set) is used.
   @param role  the authenticated role is APPENDED (nothing when authentication is disabled)
   @return MAG_OK, or MAG_ERR_AUTH (the caller answers 401; the reason is never revealed) */
mag_rc mag_app_authenticate(mag_app *app, mag_http_exchange *ex, const mag_query *q, mag_buf *role);
/* True when an HTTP (non-WebSocket) path needs authentication: everything, /metrics included,
   except /status.html (Pulsar's unauthenticated health check). */
bool mag_app_rest_needs_auth(const mag_app *app, const char *path);

/* authz.c -- may `role` (from mag_app_authenticate; "" without authentication) do `action` on
   topic t? subscription: the consumer's (NULL/"" for producers and readers). Applies
   mag_authz_check with the app's configuration.
   @return MAG_OK or MAG_ERR_FORBIDDEN (the router answers 403 "Not authorized") */
mag_rc mag_app_authorize(mag_app *app, const char *role, mag_authz_action action,
                         const mag_topic_name *t, const char *subscription);

/* Shared query-parameter helpers (Pulsar error texts). */
/* Parse an optional Integer param; absent -> *out untouched, MAG_OK. */
mag_rc mag_param_int(const mag_query *q, const char *name, int32_t *out, mag_buf *err);
mag_rc mag_param_long(const mag_query *q, const char *name, int64_t *out, mag_buf *err);

/* origin.c: the Origin check and CORS of every request, before routing. Returns false when the
   request is answered already (403, or a CORS preflight's 204). */
void mag_origin_policy_init(struct mag_origin_policy *p, const char *allowed, bool authentication);
void mag_origin_policy_cleanup(struct mag_origin_policy *p);
bool mag_app_origin_gate(mag_app *app, mag_http_exchange *ex, const char *path);

#endif /* MAG_APP_INTERNAL_H */
