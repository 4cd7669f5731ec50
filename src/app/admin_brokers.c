/* admin_brokers.c -- health checks, broker and cluster information, topic lookup.
 *
 * /status.html is Pulsar's VipStatus (the load balancers' check; no
 * authentication): "OK" while statusFilePath is unset or names an existing
 * file, 404 otherwise. /admin/v2/brokers/... follow BrokersBase of Pulsar
 * 2.10 for one broker: health runs a real durable write + read of the store
 * and answers "ok"; ready/version answer plain strings; the active broker list
 * and the leader are this broker. /admin/v2/clusters/{c} is ClustersBase.
 * getCluster for the local cluster only. /lookup/v2/topic/... is TopicLookup:
 * LookupData with this broker's HTTP URL (there is no binary-protocol port, so
 * brokerUrl/brokerUrlTls/nativeUrl are null and left out). Authorization is the router's
 * (mag_authz_rest: super user, except ready/version and lookups).
 */
#include "app_internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mag/broker/admin.h"

#define FULL_BUNDLE "0x00000000_0xffffffff"

static void reply_text(mag_http_exchange *ex, const char *content_type, const char *text)
{
    mag_http_respond(ex, 200, content_type, text, strlen(text), NULL);
}

/* ---- VipStatus ------------------------------------------------------------------------- */

static void status_html(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    struct stat st;
    if (app->status_file_path && (stat(app->status_file_path, &st) != 0 || !S_ISREG(st.st_mode))) {
        mag_wire_text_error(ex, MAG_ERR_NOT_FOUND, "Not Found");
        return;
    }
    reply_text(ex, "text/plain", "OK");
}

/* ---- brokers ----------------------------------------------------------------------------- */

static void brokers_health(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    mag_buf v = MAG_BUF_INIT, err = MAG_BUF_INIT;
    mag_admin_query_get(ex, "topicVersion", &v);
    const char *tv = mag_buf_cstr(&v);
    mag_rc rc = MAG_OK;
    if (*tv && strcmp(tv, "V1") != 0 && strcmp(tv, "V2") != 0) {
        mag_buf_appendf(&err, "Invalid topicVersion %s", tv);
        rc = MAG_ERR_NOT_FOUND;     /* JAX-RS: an unconvertible enum query parameter */
    } else {
        rc = mag_admin_health_check(app->broker, &err);
    }
    if (rc == MAG_OK)
        reply_text(ex, "application/json", "ok");   /* Pulsar resumes with the String "ok" */
    else
        mag_admin_reply_error(ex, rc, &err);
    mag_buf_free(&v);
    mag_buf_free(&err);
}

static void brokers_ready(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)app, (void)seg, (void)n;
    reply_text(ex, "application/json", "ok");
}

static void brokers_version(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)app, (void)seg, (void)n;
    reply_text(ex, "application/json", MAG_VERSION);
}

/* validateClusterOwnership for a single-cluster broker. */
static bool cluster_or_fail(mag_app *app, mag_http_exchange *ex, const char *cluster)
{
    if (strcmp(cluster, app->cluster_name) == 0)
        return true;
    mag_buf err = MAG_BUF_INIT;
    mag_buf_appendf(&err, "Cluster does not exist: cluster=%s", cluster);
    mag_admin_reply_error(ex, MAG_ERR_NOT_FOUND, &err);
    mag_buf_free(&err);
    return false;
}

static void brokers_active(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    if (!cluster_or_fail(app, ex, seg[0]))
        return;
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_byte(&out, '[');
    mag_json_append_string(&out, app->broker_id, strlen(app->broker_id));
    mag_buf_append_byte(&out, ']');
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
}

static void brokers_leader(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_str(&out, "{\"serviceUrl\":");
    mag_json_append_string(&out, app->http_url, strlen(app->http_url));
    mag_buf_append_byte(&out, '}');
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
}

/* {"<t>/<ns>/0x00000000_0xffffffff": NamespaceOwnershipStatus} for every namespace. */
static void brokers_owned_namespaces(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    if (!cluster_or_fail(app, ex, seg[0]))
        return;
    mag_buf out = MAG_BUF_INIT, err = MAG_BUF_INIT, tenants = MAG_BUF_INIT;
    if (strcmp(seg[1], app->broker_id) != 0) {
        mag_buf_appendf(&err, "Broker name not valid: %s (this broker is %s)", seg[1], app->broker_id);
        mag_admin_reply_error(ex, MAG_ERR_PRECONDITION, &err);
        goto out;
    }
    mag_rc rc = mag_admin_tenants_list(app->broker, &tenants, &err);
    cJSON *tl = rc == MAG_OK ? cJSON_ParseWithLength((const char *)tenants.data, tenants.len) : NULL;
    mag_buf_append_byte(&out, '{');
    size_t count = 0;
    for (const cJSON *t = cJSON_IsArray(tl) ? tl->child : NULL; t && rc == MAG_OK; t = t->next) {
        mag_buf nss = MAG_BUF_INIT;
        if (cJSON_IsString(t) &&
            mag_admin_namespaces_list(app->broker, t->valuestring, &nss, &err) == MAG_OK) {
            cJSON *nl = cJSON_ParseWithLength((const char *)nss.data, nss.len);
            for (const cJSON *ns = cJSON_IsArray(nl) ? nl->child : NULL; ns; ns = ns->next) {
                if (!cJSON_IsString(ns))
                    continue;
                mag_buf key = MAG_BUF_INIT;
                mag_buf_appendf(&key, "%s/" FULL_BUNDLE, ns->valuestring);
                if (count++)
                    mag_buf_append_byte(&out, ',');
                mag_json_append_string(&out, (const char *)key.data, key.len);
                mag_buf_append_str(&out, ":{\"broker_assignment\":\"shared\",\"is_controlled\":false,"
                                         "\"is_active\":true}");
                mag_buf_free(&key);
            }
            cJSON_Delete(nl);
        }
        mag_buf_reset(&err);
        mag_buf_free(&nss);
    }
    cJSON_Delete(tl);
    mag_buf_append_byte(&out, '}');
    if (rc == MAG_OK)
        mag_admin_reply_json(ex, &out);
    else
        mag_admin_reply_error(ex, rc, &err);
out:
    mag_buf_free(&out);
    mag_buf_free(&err);
    mag_buf_free(&tenants);
}

/* Dynamic configuration: Magnetar has none that can be changed at run time. */
static void brokers_dynamic_names(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)app, (void)seg, (void)n;
    reply_text(ex, "application/json", "[]");
}

static void brokers_dynamic_values(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)app, (void)seg, (void)n;
    reply_text(ex, "application/json", "{}");
}

/* The effective configuration as {"key":"value"} (secrets shown as ******). */
static void brokers_runtime(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)seg, (void)n;
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_byte(&out, '{');
    size_t count = 0;
    for (const char *line = app->runtime_config; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        if (eq) {
            if (count++)
                mag_buf_append_byte(&out, ',');
            mag_json_append_string(&out, line, (size_t)(eq - line));
            mag_buf_append_byte(&out, ':');
            mag_json_append_string(&out, eq + 1, len - (size_t)(eq - line) - 1);
        }
        line += len + (end ? 1 : 0);
    }
    mag_buf_append_byte(&out, '}');
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
}

/* InternalConfigurationData: no metadata store and no BookKeeper, so every
   member (metadataStoreUrl, ledgersRootPath, ...) is null and left out. */
static void brokers_internal_config(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)app, (void)seg, (void)n;
    reply_text(ex, "application/json", "{}");
}

/* ---- clusters --------------------------------------------------------------------------------- */

static void cluster_get(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    if (strcmp(seg[0], app->cluster_name) != 0) {
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Cluster does not exist");
        return;
    }
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_str(&out, "{\"serviceUrl\":");
    mag_json_append_string(&out, app->http_url, strlen(app->http_url));
    if (app->https_url) {
        mag_buf_append_str(&out, ",\"serviceUrlTls\":");
        mag_json_append_string(&out, app->https_url, strlen(app->https_url));
    }
    mag_buf_append_str(&out, ",\"brokerClientTlsEnabled\":false,\"tlsAllowInsecureConnection\":false,"
                             "\"brokerClientTlsEnabledWithKeyStore\":false,"
                             "\"brokerClientTlsTrustStoreType\":\"JKS\"}");
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
}

/* ---- lookup ----------------------------------------------------------------------------------- */

/* The topic of /lookup/v2/topic/{domain}/{t}/{ns}/{topic}[/bundle]. */
static bool lookup_topic(mag_app *app, mag_http_exchange *ex, char **seg, mag_topic_name *tn)
{
    mag_buf err = MAG_BUF_INIT, full = MAG_BUF_INIT;
    mag_rc rc = MAG_OK;
    if (strcmp(seg[0], "persistent") != 0 && strcmp(seg[0], "non-persistent") != 0) {
        mag_buf_appendf(&err, "Unsupported topic domain %s", seg[0]);
        rc = MAG_ERR_BAD_REQUEST;
    } else if (!mag_admin_name_valid(seg[1]) || !mag_admin_name_valid(seg[2])) {
        mag_buf_append_str(&err, "Namespace name is not valid");
        rc = MAG_ERR_PRECONDITION;
    } else {
        mag_buf_appendf(&full, "%s://%s/%s/%s", seg[0], seg[1], seg[2], seg[3]);
        if (mag_topic_name_parse((const char *)full.data, full.len, tn) != MAG_OK) {
            mag_buf_append_str(&err, "Invalid topic name");
            rc = MAG_ERR_BAD_REQUEST;
        }
    }
    if (rc == MAG_OK)
        rc = mag_admin_lookup_check(app->broker, tn, &err);
    if (rc != MAG_OK)
        mag_admin_reply_error(ex, rc, &err);
    mag_buf_free(&err);
    mag_buf_free(&full);
    return rc == MAG_OK;
}

static void lookup(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    if (!lookup_topic(app, ex, seg, &tn))
        return;
    mag_buf out = MAG_BUF_INIT;
    mag_buf_append_str(&out, "{\"httpUrl\":");
    mag_json_append_string(&out, app->http_url, strlen(app->http_url));
    if (app->https_url) {
        mag_buf_append_str(&out, ",\"httpUrlTls\":");
        mag_json_append_string(&out, app->https_url, strlen(app->https_url));
    }
    /* LookupData.getBrokerUrlSsl: always "", kept for old C++ clients */
    mag_buf_append_str(&out, ",\"brokerUrlSsl\":\"\"}");
    mag_admin_reply_json(ex, &out);
    mag_buf_free(&out);
}

static void lookup_bundle(mag_app *app, mag_http_exchange *ex, char **seg, size_t n)
{
    (void)n;
    mag_topic_name tn;
    if (lookup_topic(app, ex, seg, &tn))
        reply_text(ex, "application/json", FULL_BUNDLE);
}

const struct mag_rest_route mag_admin_broker_routes[] = {
    { "GET", "/status.html", status_html },
    { "HEAD", "/status.html", status_html },    /* JAX-RS answers HEAD for every GET resource */
    { "GET", "/admin/v2/brokers/health", brokers_health },
    { "GET", "/admin/v2/brokers/ready", brokers_ready },
    { "GET", "/admin/v2/brokers/version", brokers_version },
    { "GET", "/admin/v2/brokers/leaderBroker", brokers_leader },
    { "GET", "/admin/v2/brokers/configuration", brokers_dynamic_names },
    { "GET", "/admin/v2/brokers/configuration/values", brokers_dynamic_values },
    { "GET", "/admin/v2/brokers/configuration/runtime", brokers_runtime },
    { "GET", "/admin/v2/brokers/internal-configuration", brokers_internal_config },
    { "GET", "/admin/v2/brokers/{}", brokers_active },
    { "GET", "/admin/v2/brokers/{}/{}/ownedNamespaces", brokers_owned_namespaces },
    { "GET", "/admin/v2/clusters/{}", cluster_get },
    { "GET", "/lookup/v2/topic/{}/{}/{}/{}", lookup },
    { "GET", "/lookup/v2/topic/{}/{}/{}/{}/bundle", lookup_bundle },
    { NULL, NULL, NULL },
};
