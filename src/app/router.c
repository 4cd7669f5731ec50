/* router.c -- route every HTTP request to a WebSocket endpoint or an admin handler.
 *
 * /ws/... requests are parsed as Pulsar WebSocket paths (as
 * AbstractWebSocketHandler.extractTopicName does), their handshake is
 * validated, and the endpoint's open() upgrades them. Admin REST requests
 * are matched against route tables ("{}" = one segment).
 * The web console's page and assets (console.c, webConsoleEnabled) need no
 * authentication: the page asks for a token and sends it with its own calls.
 * Anything else is 404, as Jetty answers for an unmapped path. Dot segments are removed
 * first, as Jetty does before it picks a servlet. With authentication on, both
 * kinds are authenticated (auth.c) before any endpoint or admin handler runs: 401. With
 * authorization on, the role must then be allowed (authz.c): 403 "Not authorized" for an
 * upgrade, 401 {"reason"} for an admin call, as Pulsar.
 */
#include "app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

static const struct mag_ws_endpoint *const ws_endpoints[] = {
    &mag_ws_producer_endpoint,
    &mag_ws_consumer_endpoint,
    &mag_ws_reader_endpoint,
    &mag_ws_pingpong_endpoint,
};

static const struct mag_rest_route *const rest_tables[] = {
    mag_admin_namespace_routes,
    mag_admin_permission_routes,
    mag_admin_topic_routes,
    mag_admin_proxy_routes,
    mag_metrics_routes,
    mag_admin_broker_routes,
    mag_admin_topic_extra_routes,
};

mag_app *mag_app_new(const struct mag_app_opts *o)
{
    mag_app *app = mag_xcalloc(1, sizeof *app);
    app->broker = o->broker;
    app->cluster_name = mag_xstrdup(o->cluster_name ? o->cluster_name : "standalone");
    app->auth_enabled = o->authentication_enabled;
    app->token_auth = o->token_auth;
    if (o->anonymous_user_role && *o->anonymous_user_role)
        app->anonymous_role = mag_xstrdup(o->anonymous_user_role);
    mag_authz_conf_init(&app->authz, o->authentication_enabled, o->authorization_enabled,
                        o->authorization_allow_wildcards, o->super_user_roles);
    mag_delivery_cache_init(&app->deliveries);
    mag_origin_policy_init(&app->origins, o->allowed_origins, o->authentication_enabled);
    if (o->status_file_path && *o->status_file_path)
        app->status_file_path = mag_xstrdup(o->status_file_path);
    if (o->runtime_config)
        app->runtime_config = mag_xstrdup(o->runtime_config);
    mag_app_set_address(app, "127.0.0.1", 8080, 0);
    app->console_enabled = o->web_console_enabled;
    return app;
}

void mag_app_set_address(mag_app *app, const char *host, int port, int tls_port)
{
    free(app->broker_id);
    free(app->http_url);
    free(app->https_url);
    mag_buf b = MAG_BUF_INIT;
    mag_buf_appendf(&b, "%s:%d", host, port);
    app->broker_id = mag_xstrdup(mag_buf_cstr(&b));
    mag_buf_reset(&b);
    mag_buf_appendf(&b, "http://%s:%d", host, port);
    app->http_url = mag_xstrdup(mag_buf_cstr(&b));
    app->https_url = NULL;
    if (tls_port > 0) {
        mag_buf_reset(&b);
        mag_buf_appendf(&b, "https://%s:%d", host, tls_port);
        app->https_url = mag_xstrdup(mag_buf_cstr(&b));
    }
    mag_buf_free(&b);
}

void mag_app_free(mag_app *app)
{
    if (!app)
        return;
    free(app->cluster_name);
    free(app->anonymous_role);
    free(app->status_file_path);
    free(app->runtime_config);
    free(app->broker_id);
    free(app->http_url);
    free(app->https_url);
    mag_authz_conf_cleanup(&app->authz);
    mag_delivery_cache_free(&app->deliveries);
    mag_origin_policy_cleanup(&app->origins);
    free(app);
}

mag_rc mag_param_int(const mag_query *q, const char *name, int32_t *out, mag_buf *err)
{
    const char *v = mag_query_get(q, name);
    if (!v)
        return MAG_OK;
    return mag_parse_java_int(v, out, err);
}

mag_rc mag_param_long(const mag_query *q, const char *name, int64_t *out, mag_buf *err)
{
    const char *v = mag_query_get(q, name);
    if (!v)
        return MAG_OK;
    return mag_parse_java_long(v, out, err);
}

static void route_websocket(mag_app *app, mag_http_exchange *ex, const char *path)
{
    mag_buf err = MAG_BUF_INIT;
    mag_buf role = MAG_BUF_INIT;   /* authenticated role ("" without authentication) */
    mag_query query = { 0 };
    mag_ws_path *wp = mag_xcalloc(1, sizeof *wp);
    mag_rc rc = mag_ws_path_parse(path, strlen(path), wp, &err);
    if (rc == MAG_ERR_NOT_FOUND) {
        mag_wire_reject_upgrade(ex, rc, "Not Found");
        goto out;
    }
    if (mag_http_upgrade_check(ex) != MAG_OK)
        goto out;       /* already answered (400/405/426) */
    if (rc != MAG_OK) {
        mag_buf prefixed = MAG_BUF_INIT;
        if (rc == MAG_ERR_BAD_REQUEST)
            mag_buf_append_str(&prefixed, "Invalid query params: ");
        mag_buf_append(&prefixed, err.data, err.len);
        mag_wire_reject_upgrade(ex, rc, mag_buf_cstr(&prefixed));
        mag_buf_free(&prefixed);
        goto out;
    }
    const char *qs = mag_http_query(ex);
    rc = mag_query_parse(&query, qs, strlen(qs));
    if (rc != MAG_OK) {
        mag_wire_reject_upgrade(ex, rc, "Invalid query params: malformed query string");
        goto out;
    }
    if (mag_app_authenticate(app, ex, &query, &role) != MAG_OK) {
        mag_info("refused %s %s: 401 Failed to authenticate", mag_http_peer(ex), path);
        mag_wire_reject_upgrade(ex, MAG_ERR_AUTH, "Failed to authenticate");
        goto out;
    }
    if (wp->kind != MAG_EP_PINGPONG &&
        mag_app_authorize(app, mag_buf_cstr(&role),
                          wp->kind == MAG_EP_PRODUCER ? MAG_AUTHZ_PRODUCE : MAG_AUTHZ_CONSUME,
                          &wp->topic, wp->subscription) != MAG_OK) {
        mag_info("refused %s %s: 403 Not authorized (role \"%s\")", mag_http_peer(ex), path,
                 mag_buf_cstr(&role));
        mag_wire_reject_upgrade(ex, MAG_ERR_FORBIDDEN, "Not authorized");
        goto out;
    }
    for (size_t i = 0; i < sizeof ws_endpoints / sizeof ws_endpoints[0]; i++) {
        if (ws_endpoints[i]->kind != wp->kind)
            continue;
        mag_buf_reset(&err);
        rc = ws_endpoints[i]->open(app, ex, wp, &query, &err);
        if (rc != MAG_OK) {
            mag_info("refused %s %s: %d %.*s", mag_http_peer(ex), path, mag_wire_http_status(rc),
                     (int)err.len, (const char *)err.data);
            mag_wire_reject_upgrade(ex, rc, mag_buf_cstr(&err));
        }
        goto out;
    }
    mag_wire_reject_upgrade(ex, MAG_ERR_NOT_FOUND, "Not Found");
out:
    mag_query_free(&query);
    free(wp);
    mag_buf_free(&role);
    mag_buf_free(&err);
}

/* Split path into '/'-separated segments and match "{}" wildcards. */
static bool match_route(const char *pattern, const char *path, char **seg, size_t *nseg, size_t max)
{
    *nseg = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (p[0] == '{' && p[1] == '}') {
            const char *end = strchr(s, '/');
            size_t len = end ? (size_t)(end - s) : strlen(s);
            if (len == 0 || *nseg == max)
                return false;
            mag_buf dec = MAG_BUF_INIT;
            if (mag_url_decode(&dec, s, len) != MAG_OK) {
                mag_buf_free(&dec);
                return false;
            }
            seg[(*nseg)++] = mag_xstrdup(mag_buf_cstr(&dec));
            mag_buf_free(&dec);
            s += len;
            p += 2;
        } else if (*p == *s) {
            p++;
            s++;
        } else {
            return false;
        }
    }
    return *p == '\0' && *s == '\0';
}

static void route_rest(mag_app *app, mag_http_exchange *ex, const char *path)
{
    const char *method = mag_http_method(ex);
    bool path_matched = false;
    mag_buf role = MAG_BUF_INIT;
    if (mag_app_rest_needs_auth(app, path) &&
        mag_app_authenticate(app, ex, NULL, &role) != MAG_OK) {
        mag_wire_rest_error(ex, MAG_ERR_AUTH, "Authentication required");
        goto out;
    }
    for (size_t t = 0; t < sizeof rest_tables / sizeof rest_tables[0]; t++) {
        for (const struct mag_rest_route *r = rest_tables[t]; r->pattern; r++) {
            char *seg[8];
            size_t nseg = 0;
            bool ok = match_route(r->pattern, path, seg, &nseg, 8);
            if (ok && strcmp(r->method, method) == 0) {
                mag_buf err = MAG_BUF_INIT;
                mag_rc rc = mag_authz_rest(app->broker, &app->authz, mag_buf_cstr(&role), method,
                                           path, &err);
                if (rc == MAG_OK)
                    r->handle(app, ex, seg, nseg);
                else
                    mag_wire_rest_error(ex, rc, mag_buf_cstr(&err));
                mag_buf_free(&err);
                for (size_t i = 0; i < nseg; i++)
                    free(seg[i]);
                goto out;
            }
            path_matched |= ok;
            for (size_t i = 0; i < nseg; i++)
                free(seg[i]);
        }
    }
    if (path_matched)
        mag_wire_rest_error(ex, MAG_ERR_METHOD, "Method Not Allowed");
    else
        mag_wire_rest_error(ex, MAG_ERR_NOT_FOUND, "Not Found");
out:
    mag_buf_free(&role);
}

/* A segment starting with '.' or "%2e": the only ones that can be dot segments. */
static bool may_have_dot_segment(const char *path)
{
    for (const char *p = path; (p = strchr(p, '/')) != NULL; p++)
        if (p[1] == '.' || (p[1] == '%' && p[2] == '2' && (p[3] == 'e' || p[3] == 'E')))
            return true;
    return false;
}

void mag_app_on_request(void *ctx, mag_http_exchange *ex)
{
    mag_app *app = ctx;
    const char *path = mag_http_path(ex);
    mag_buf canon = MAG_BUF_INIT, err = MAG_BUF_INIT;
    /* Jetty removes dot segments before it picks a servlet, so
       /ws/v2/producer/persistent/../../x is /ws/v2/x: no endpoint. */
    if (may_have_dot_segment(path)) {
        if (mag_path_remove_dot_segments(path, strlen(path), &canon, &err) != MAG_OK) {
            mag_info("refused %s %s: 400 %s", mag_http_peer(ex), path, mag_buf_cstr(&err));
            if (strncmp(path, "/ws/", 4) == 0)
                mag_wire_reject_upgrade(ex, MAG_ERR_BAD_REQUEST, mag_buf_cstr(&err));
            else
                mag_wire_rest_error(ex, MAG_ERR_BAD_REQUEST, mag_buf_cstr(&err));
            goto out;
        }
        path = mag_buf_cstr(&canon);
    }
    if (!mag_app_origin_gate(app, ex, path))
        goto out;
    if (strncmp(path, "/ws/", 4) == 0)
        route_websocket(app, ex, path);
    else if (!mag_console_handle(app, ex, path))
        route_rest(app, ex, path);
out:
    mag_buf_free(&canon);
    mag_buf_free(&err);
}
