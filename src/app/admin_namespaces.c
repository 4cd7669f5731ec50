/* admin_namespaces.c -- admin REST endpoints for the cluster list, tenants and namespaces
 * (TenantsBase / NamespacesBase / v2 Namespaces of Pulsar 2.10).
 *
 * Handlers only translate HTTP to calls into the broker's admin API
 * (include/mag/broker/admin.h) and its answer back: 200 + JSON for reads,
 * 204 for mutations, {"reason": ...} with the status chosen by the return
 * code for errors.
 */
#include "app_internal.h"

#include <string.h>

#include "mag/broker/admin.h"

/* ---- clusters and tenants ------------------------------------------------------------ */

static void clusters_list(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_byte(&out, '[');
    mag_json_append_string(&out, app->cluster_name, strlen(app->cluster_name));
    mag_buf_append_byte(&out, ']');
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
}

static void tenants_list(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_tenants_list(app->broker, &out, &err), &out, &err);
}

static void tenant_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_tenant_get(app->broker, seg[0], app->cluster_name, &out, &err), &out, &err);
}

static void tenant_put(mag_app *app, mag_http_exchange *ex, char **seg, bool create)
{
    mag_buf err = MAG_BUF_INIT;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_admin_finish(ex, mag_admin_tenant_put(app->broker, seg[0], app->cluster_name, create, body, len, &err),
           NULL, &err);
}

static void tenant_create(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    tenant_put(app, ex, seg, true);
}

static void tenant_update(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    tenant_put(app, ex, seg, false);
}

static void tenant_delete(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_tenant_delete(app->broker, seg[0], mag_admin_query_bool(ex, "force"), &err),
           NULL, &err);
}

/* ---- namespaces ------------------------------------------------------------------- */

static void namespaces_list(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_namespaces_list(app->broker, seg[0], &out, &err), &out, &err);
}

static void namespace_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_namespace_get(app->broker, seg[0], seg[1], app->cluster_name, &out, &err),
           &out, &err);
}

static void namespace_create(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_admin_finish(ex, mag_admin_namespace_create(app->broker, seg[0], seg[1], body, len, &err), NULL, &err);
}

static void namespace_delete(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_namespace_delete(app->broker, seg[0], seg[1], mag_admin_query_bool(ex, "force"),
                                          &err),
           NULL, &err);
}

/* GET /namespaces/{t}/{ns}/topics?mode=PERSISTENT|NON_PERSISTENT|ALL */
static void namespace_topics(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT, mode = MAG_BUF_INIT;
    mag_admin_query_get(ex, "mode", &mode);
    const char *m = mag_buf_cstr(&mode);
    bool persistent = strcmp(m, "NON_PERSISTENT") != 0;
    bool all = strcmp(m, "ALL") == 0;
    mag_rc rc = MAG_OK;
    if (*m && !all && persistent && strcmp(m, "PERSISTENT") != 0) {
        mag_buf_appendf(&err, "Invalid mode %s", m);
        rc = MAG_ERR_NOT_FOUND;     /* JAX-RS: an unconvertible query parameter is a 404 */
    } else if (all) {
        mag_buf np = MAG_BUF_INIT;
        rc = mag_admin_topics_list(app->broker, true, seg[0], seg[1], false, &out, &err);
        if (rc == MAG_OK)
            rc = mag_admin_topics_list(app->broker, false, seg[0], seg[1], false, &np, &err);
        if (rc == MAG_OK && np.len > 2) {       /* splice the two arrays */
            out.len--;
            if (out.len > 1)
                mag_buf_append_byte(&out, ',');
            mag_buf_append(&out, np.data + 1, np.len - 1);
        }
        mag_buf_free(&np);
    } else {
        rc = mag_admin_topics_list(app->broker, persistent, seg[0], seg[1], false, &out, &err);
    }
    mag_buf_free(&mode);
    mag_admin_finish(ex, rc, &out, &err);
}

/* ---- retention and backlog quota ----------------------------------------------- */

static void deduplication_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_deduplication_get(app->broker, seg[0], seg[1], &out, &err), &out, &err);
}

static void deduplication_set(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_deduplication_set(app->broker, seg[0], seg[1], body, len, &err), NULL, &err);
}

static void deduplication_remove(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_deduplication_remove(app->broker, seg[0], seg[1], &err), NULL, &err);
}

static void retention_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_retention_get(app->broker, seg[0], seg[1], &out, &err), &out, &err);
}

static void retention_set(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_admin_finish(ex, mag_admin_retention_set(app->broker, seg[0], seg[1], body, len, &err), NULL, &err);
}

static void retention_remove(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_retention_remove(app->broker, seg[0], seg[1], &err), NULL, &err);
}

/* ?backlogQuotaType=destination_storage (default) | message_age */
static mag_rc quota_type(mag_http_exchange *ex, mag_quota_type *type, mag_buf *err)
{
    mag_buf v = MAG_BUF_INIT;
    mag_admin_query_get(ex, "backlogQuotaType", &v);
    const char *s = mag_buf_cstr(&v);
    mag_rc rc = MAG_OK;
    if (!*s || strcmp(s, "destination_storage") == 0) {
        *type = MAG_QUOTA_DESTINATION_STORAGE;
    } else if (strcmp(s, "message_age") == 0) {
        *type = MAG_QUOTA_MESSAGE_AGE;
    } else {
        mag_buf_appendf(err, "Invalid backlogQuotaType %s", s);
        rc = MAG_ERR_NOT_FOUND;     /* JAX-RS: an unconvertible query parameter is a 404 */
    }
    mag_buf_free(&v);
    return rc;
}

static void quota_map_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, mag_admin_backlog_quota_get(app->broker, seg[0], seg[1], &out, &err), &out, &err);
}

static void quota_set(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_quota_type type;
    mag_rc rc = quota_type(ex, &type, &err);
    if (rc == MAG_OK) {
        size_t len;
        const uint8_t *body = mag_http_body(ex, &len);
        rc = mag_admin_backlog_quota_set(app->broker, seg[0], seg[1], type, body, len, &err);
    }
    mag_admin_finish(ex, rc, NULL, &err);
}

static void quota_remove(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_buf err = MAG_BUF_INIT;
    mag_quota_type type;
    mag_rc rc = quota_type(ex, &type, &err);
    if (rc == MAG_OK)
        rc = mag_admin_backlog_quota_remove(app->broker, seg[0], seg[1], type, &err);
    mag_admin_finish(ex, rc, NULL, &err);
}

/* ---- message TTL and auto topic creation (ns_policies.c) --------------------------- */

typedef mag_rc (*ns_get_fn)(mag_broker *b, const char *t, const char *ns, mag_buf *out, mag_buf *err);
typedef mag_rc (*ns_set_fn)(mag_broker *b, const char *t, const char *ns, const uint8_t *body,
                            size_t len, mag_buf *err);
typedef mag_rc (*ns_remove_fn)(mag_broker *b, const char *t, const char *ns, mag_buf *err);

/* GET of a policy: its JSON, or 204 when unset (Pulsar returns null). */
static void ns_policy_get(mag_app *app, mag_http_exchange *ex, char **seg, ns_get_fn fn)
{
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_finish(ex, fn(app->broker, seg[0], seg[1], &out, &err), &out, &err);
}

static void ns_policy_set(mag_app *app, mag_http_exchange *ex, char **seg, ns_set_fn fn)
{
    mag_buf err = MAG_BUF_INIT;
    size_t len;
    const uint8_t *body = mag_http_body(ex, &len);
    mag_admin_finish(ex, fn(app->broker, seg[0], seg[1], body, len, &err), NULL, &err);
}

static void ns_policy_remove(mag_app *app, mag_http_exchange *ex, char **seg, ns_remove_fn fn)
{
    mag_buf err = MAG_BUF_INIT;
    mag_admin_finish(ex, fn(app->broker, seg[0], seg[1], &err), NULL, &err);
}

static void ttl_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    ns_policy_get(app, ex, seg, mag_admin_message_ttl_get);
}

static void ttl_set(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    ns_policy_set(app, ex, seg, mag_admin_message_ttl_set);
}

static void ttl_remove(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    ns_policy_remove(app, ex, seg, mag_admin_message_ttl_remove);
}

static void auto_topic_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    ns_policy_get(app, ex, seg, mag_admin_auto_topic_get);
}

static void auto_topic_set(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    ns_policy_set(app, ex, seg, mag_admin_auto_topic_set);
}

static void auto_topic_remove(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    ns_policy_remove(app, ex, seg, mag_admin_auto_topic_remove);
}

const struct mag_rest_route mag_admin_namespace_routes[] = {
    { "GET", "/admin/v2/clusters", clusters_list },
    { "GET", "/admin/v2/tenants", tenants_list },
    { "GET", "/admin/v2/tenants/{}", tenant_get },
    { "PUT", "/admin/v2/tenants/{}", tenant_create },
    { "POST", "/admin/v2/tenants/{}", tenant_update },
    { "DELETE", "/admin/v2/tenants/{}", tenant_delete },
    { "GET", "/admin/v2/namespaces/{}", namespaces_list },
    { "GET", "/admin/v2/namespaces/{}/{}", namespace_get },
    { "PUT", "/admin/v2/namespaces/{}/{}", namespace_create },
    { "DELETE", "/admin/v2/namespaces/{}/{}", namespace_delete },
    { "GET", "/admin/v2/namespaces/{}/{}/topics", namespace_topics },
    { "GET", "/admin/v2/namespaces/{}/{}/deduplication", deduplication_get },
    { "POST", "/admin/v2/namespaces/{}/{}/deduplication", deduplication_set },
    { "DELETE", "/admin/v2/namespaces/{}/{}/deduplication", deduplication_remove },
    { "GET", "/admin/v2/namespaces/{}/{}/retention", retention_get },
    { "POST", "/admin/v2/namespaces/{}/{}/retention", retention_set },
    { "DELETE", "/admin/v2/namespaces/{}/{}/retention", retention_remove },
    { "GET", "/admin/v2/namespaces/{}/{}/backlogQuotaMap", quota_map_get },
    { "POST", "/admin/v2/namespaces/{}/{}/backlogQuota", quota_set },
    { "DELETE", "/admin/v2/namespaces/{}/{}/backlogQuota", quota_remove },
    { "GET", "/admin/v2/namespaces/{}/{}/messageTTL", ttl_get },
    { "POST", "/admin/v2/namespaces/{}/{}/messageTTL", ttl_set },
    { "DELETE", "/admin/v2/namespaces/{}/{}/messageTTL", ttl_remove },
    { "GET", "/admin/v2/namespaces/{}/{}/autoTopicCreation", auto_topic_get },
    { "POST", "/admin/v2/namespaces/{}/{}/autoTopicCreation", auto_topic_set },
    { "DELETE", "/admin/v2/namespaces/{}/{}/autoTopicCreation", auto_topic_remove },
    { NULL, NULL, NULL },
};
