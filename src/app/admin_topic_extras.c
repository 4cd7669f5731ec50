/* admin_topic_extras.c -- more topic endpoints of PersistentTopics (Pulsar 2.10 v2):
 * examinemessage, all_subscription/expireMessages and the offline backlog.
 *
 * The broker work is in src/broker/admin_messages.c; this file only parses the
 * request. examinemessage answers like peek (payload body, X-Pulsar-* headers).
 * Unconvertible path/query numbers are 404, as JAX-RS answers them.
 */
#include "app_internal.h"

#include <string.h>

#include "mag/broker/admin.h"

/* ?initialPosition=earliest|latest (default latest: anything but "earliest",
   as internalExamineMessage compares) &messagePosition=N (default 1). */
static void examine(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    mag_buf initial = MAG_BUF_INIT, pos_text = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_query_get(ex, "initialPosition", &initial);
    mag_admin_query_get(ex, "messagePosition", &pos_text);
    int64_t pos = 1;
    if (pos_text.len && mag_parse_java_long(mag_buf_cstr(&pos_text), &pos, NULL) != MAG_OK) {
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Not Found");
    } else {
        mag_admin_message m;
        mag_admin_message_init(&m);
        bool earliest = strcmp(mag_buf_cstr(&initial), "earliest") == 0;
        mag_rc rc = mag_admin_examine(app->broker, &tn, earliest, pos, &m, &err);
        if (rc == MAG_OK)
            mag_admin_reply_message(ex, &m);
        else
            mag_admin_reply_error(ex, rc, &err);
        mag_admin_message_cleanup(&m);
    }
    mag_buf_free(&initial);
    mag_buf_free(&pos_text);
    mag_buf_free(&err);
}

static void expire_all(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    int32_t seconds;
    if (mag_parse_java_int(seg[3], &seconds, NULL) != MAG_OK) {
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Not Found");
        return;
    }
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_expire_all_subscriptions(app->broker, &tn, seconds, &err), NULL,
                     &err);
}

static void backlog(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    if (!mag_admin_topic_or_fail(ex, seg, &tn))
        return;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_backlog(app->broker, &tn, app->broker_id, &out, &err), &out, &err);
}

/* Each route for both domains. */
#define ROUTE(method, suffix, fn) \
    { method, "/admin/v2/persistent/" suffix, fn }, { method, "/admin/v2/non-persistent/" suffix, fn }

const struct mag_rest_route mag_admin_topic_extra_routes[] = {
    ROUTE("GET", "{}/{}/{}/examinemessage", examine),
    ROUTE("POST", "{}/{}/{}/all_subscription/expireMessages/{}", expire_all),
    ROUTE("GET", "{}/{}/{}/backlog", backlog),
    { NULL, NULL, NULL },
};
