/* admin_topics.c -- admin REST endpoints on topics (spec §11.2).
 *
 * Only what the WebSocket foundation needs so far: listing a topic's
 * subscriptions. The rest of the admin API is issue #4 (see
 * docs/COMPATIBILITY.md).
 */
#include "app_internal.h"

#include <stdio.h>
#include <string.h>

/* Build the full topic name from {domain}/{tenant}/{ns}/{topic} segments. */
static mag_rc topic_from_segments(const char *domain, char **seg, mag_topic_name *out)
{
    char full[MAG_TOPIC_NAME_MAX + 64];
    int n = snprintf(full, sizeof full, "%s://%s/%s/%s", domain, seg[0], seg[1], seg[2]);
    if (n < 0 || (size_t)n >= sizeof full)
        return MAG_ERR_BAD_REQUEST;
    return mag_topic_name_parse(full, (size_t)n, out);
}

static void list_subscriptions(mag_app *app, mag_http_exchange *ex, const char *domain, char **seg)
{
    mag_topic_name tn;
    if (topic_from_segments(domain, seg, &tn) != MAG_OK) {
        mag_wire_rest_error(ex, MAG_ERR_BAD_REQUEST, "Invalid topic name");
        return;
    }
    mag_buf body = MAG_BUF_INIT;
    if (mag_broker_topic_subscriptions_json(app->broker, &tn, &body) != MAG_OK) {
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Topic not found");
    } else {
        mag_http_respond(ex, 200, "application/json", body.data, body.len, NULL);
    }
    mag_buf_free(&body);
}

static void persistent_subscriptions(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    list_subscriptions(app, ex, "persistent", seg);
}

static void non_persistent_subscriptions(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    list_subscriptions(app, ex, "non-persistent", seg);
}

const struct mag_rest_route mag_admin_topic_routes[] = {
    { "GET", "/admin/v2/persistent/{}/{}/{}/subscriptions", persistent_subscriptions },
    { "GET", "/admin/v2/non-persistent/{}/{}/{}/subscriptions", non_persistent_subscriptions },
    { NULL, NULL, NULL },
};
