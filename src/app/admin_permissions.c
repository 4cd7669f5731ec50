/* admin_permissions.c -- admin REST endpoints for permissions
 * (NamespacesBase / PersistentTopicsBase permission resources of Pulsar).
 *
 * Namespace grants (role -> actions), subscription role lists and topic
 * grants, stored durably in the namespace policies by the broker
 * (permissions.c). Reads answer 200 + JSON, mutations 204; an unknown action
 * name is 400, an absent namespace 404, revoking a topic grant that does not
 * exist 412, as Pulsar. Who may call these is decided before (authz.c).
 */
#include "app_internal.h"

#include "mag/broker/admin.h"

/* ---- namespace: /admin/v2/namespaces/{t}/{ns}/permissions... ------------------------ */

static void ns_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_permissions_get(app->broker, seg[0], seg[1], &out, &err), &out, &err);
}

static void ns_grant(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_admin_finish(ex, mag_admin_permission_grant(app->broker, seg[0], seg[1], seg[2], body, len, &err),
           NULL, &err);
}

static void ns_revoke(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_permission_revoke(app->broker, seg[0], seg[1], seg[2], &err), NULL, &err);
}

static void sub_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_sub_permissions_get(app->broker, seg[0], seg[1], &out, &err), &out, &err);
}

static void sub_grant(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_admin_finish(ex, mag_admin_sub_permission_grant(app->broker, seg[0], seg[1], seg[2], body, len, &err),
           NULL, &err);
}

static void sub_revoke(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_sub_permission_revoke(app->broker, seg[0], seg[1], seg[2], seg[3], &err),
           NULL, &err);
}

/* ---- topic: /admin/v2/{domain}/{t}/{ns}/{topic}/permissions... ---------------------- */

static void topic_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_topic_name tn;
    mag_rc rc = mag_admin_topic_from_path(ex, seg, &tn, &err);
    if (rc == MAG_OK)
        rc = mag_admin_topic_permissions_get(app->broker, &tn, &out, &err);
    mag_admin_finish(ex, rc, &out, &err);
}

static void topic_grant(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_topic_name tn;
    mag_rc rc = mag_admin_topic_from_path(ex, seg, &tn, &err);
    if (rc == MAG_OK) {
        size_t len;
        const uint8_t *body = mag_http_body(ex, &len);
        rc = mag_admin_topic_permission_grant(app->broker, &tn, seg[3], body, len, &err);
    }
    mag_admin_finish(ex, rc, NULL, &err);
}

static void topic_revoke(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_topic_name tn;
    mag_rc rc = mag_admin_topic_from_path(ex, seg, &tn, &err);
    if (rc == MAG_OK)
        rc = mag_admin_topic_permission_revoke(app->broker, &tn, seg[3], &err);
    mag_admin_finish(ex, rc, NULL, &err);
}

const struct mag_rest_route mag_admin_permission_routes[] = {
    { "GET", "/admin/v2/namespaces/{}/{}/permissions", ns_get },
    { "GET", "/admin/v2/namespaces/{}/{}/permissions/subscription", sub_get },
    { "POST", "/admin/v2/namespaces/{}/{}/permissions/subscription/{}", sub_grant },
    { "POST", "/admin/v2/namespaces/{}/{}/permissions/{}", ns_grant },
    { "DELETE", "/admin/v2/namespaces/{}/{}/permissions/{}", ns_revoke },
    { "DELETE", "/admin/v2/namespaces/{}/{}/permissions/{}/{}", sub_revoke },
    { "GET", "/admin/v2/persistent/{}/{}/{}/permissions", topic_get },
    { "POST", "/admin/v2/persistent/{}/{}/{}/permissions/{}", topic_grant },
    { "DELETE", "/admin/v2/persistent/{}/{}/{}/permissions/{}", topic_revoke },
    { "GET", "/admin/v2/non-persistent/{}/{}/{}/permissions", topic_get },
    { "POST", "/admin/v2/non-persistent/{}/{}/{}/permissions/{}", topic_grant },
    { "DELETE", "/admin/v2/non-persistent/{}/{}/{}/permissions/{}", topic_revoke },
    { NULL, NULL, NULL },
};
