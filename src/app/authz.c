/* authz.c -- authorization decisions for WebSocket upgrades and admin REST.
 *
 * Pulsar's AuthorizationService answers "super user?" first and only then asks
 * PulsarAuthorizationProvider about produce/consume grants; admin resources
 * call validateSuperUserAccess or validateAdminAccessForTenant, which answer
 * 401 (not 403). This file makes the same decisions from the configuration
 * (struct mag_authz_conf) and the grants stored with each namespace
 * (permissions.c); the router turns refusals into wire errors.
 */
#include "app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "mag/broker/admin.h"
#include "mag/util/alloc.h"
#include "mag/util/str.h"

#define ADMIN_V2 "/admin/v2/"

void mag_authz_conf_init(struct mag_authz_conf *c, bool authentication, bool authorization,
                         bool wildcards, const char *super_user_roles)
{
    memset(c, 0, sizeof *c);
    c->authentication = authentication;
    c->authorization = authorization;
    c->wildcards = wildcards;
    for (const char *s = super_user_roles; s && *s;) {
        size_t len = strcspn(s, ",");
        const char *a = s, *e = s + len;
        while (a < e && (*a == ' ' || *a == '\t'))
            a++;
        while (e > a && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > a) {
            c->super_users = mag_xrealloc(c->super_users, (c->n_super_users + 1) * sizeof(char *));
            c->super_users[c->n_super_users++] = mag_xstrndup(a, (size_t)(e - a));
        }
        s += len + (s[len] == ',');
    }
}

void mag_authz_conf_cleanup(struct mag_authz_conf *c)
{
    for (size_t i = 0; i < c->n_super_users; i++)
        free(c->super_users[i]);
    free(c->super_users);
    memset(c, 0, sizeof *c);
}

bool mag_authz_is_super_user(const struct mag_authz_conf *c, const char *role)
{
    for (size_t i = 0; role && i < c->n_super_users; i++)
        if (strcmp(c->super_users[i], role) == 0)
            return true;
    return false;
}

/* Super user or one of tenant's adminRoles. MAG_OK, MAG_ERR_AUTH (401), 404, storage. */
static mag_rc tenant_admin(mag_broker *b, const struct mag_authz_conf *c, const char *role,
                           const char *tenant, mag_buf *err)
{
    if (mag_authz_is_super_user(c, role))
        return MAG_OK;
    bool is_admin = false;
    mag_rc rc = mag_admin_tenant_is_admin(b, tenant, role, &is_admin, err);
    if (rc == MAG_OK && !is_admin) {
        mag_buf_append_str(err, "Don't have permission to administrate resources on this tenant");
        rc = MAG_ERR_AUTH;
    }
    return rc;
}

mag_rc mag_authz_check(mag_broker *b, const struct mag_authz_conf *c, const char *role,
                       mag_authz_action action, const mag_topic_name *t, const char *sub)
{
    if (!c->authorization || mag_authz_is_super_user(c, role))
        return MAG_OK;
    mag_buf err = MAG_BUF_INIT, ns = MAG_BUF_INIT;
    bool allowed = false;
    if (action == MAG_AUTHZ_ADMIN) {
        allowed = tenant_admin(b, c, role, t->tenant, &err) == MAG_OK;
    } else {
        if (t->cluster[0])
            mag_buf_appendf(&ns, "%s/%s", t->cluster, t->ns);
        else
            mag_buf_append_str(&ns, t->ns);
        mag_auth_policies p;
        mag_auth_policies_init(&p);
        if (mag_admin_auth_policies_load(b, t->tenant, mag_buf_cstr(&ns), &p, &err) == MAG_OK)
            allowed = mag_auth_policies_allow(
                &p, t, role, action == MAG_AUTHZ_PRODUCE ? MAG_AUTH_PRODUCE : MAG_AUTH_CONSUME, sub,
                c->wildcards);
        mag_auth_policies_cleanup(&p);
    }
    mag_buf_free(&err);
    mag_buf_free(&ns);
    return allowed ? MAG_OK : MAG_ERR_FORBIDDEN;
}

/* The first segment of rest, URL-decoded, into out; false if empty or malformed. */
static bool first_segment(const char *rest, mag_buf *out)
{
    size_t len = strcspn(rest, "/");
    return len > 0 && mag_url_decode(out, rest, len) == MAG_OK;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define LOOKUP_V2 "/lookup/v2/topic/"

/* TopicLookupBase: validateTopicOperation(LOOKUP) = super user, tenant admin,
   or a role that may produce or consume on the topic (canLookup). rest =
   "{domain}/{t}/{ns}/{topic}[/bundle]". A path that names no valid topic is
   let through: its handler answers 400/404. */
static mag_rc lookup_allowed(mag_broker *b, const struct mag_authz_conf *c, const char *role,
                             const char *rest, mag_buf *err)
{
    mag_buf name = MAG_BUF_INIT, seg = MAG_BUF_INIT, ignored = MAG_BUF_INIT;
    for (int i = 0; i < 4 && *rest; i++) {
        mag_buf_reset(&seg);
        if (!first_segment(rest, &seg))
            break;
        mag_buf_append(&name, seg.data, seg.len);
        mag_buf_append_str(&name, i == 0 ? "://" : i < 3 ? "/" : "");
        rest += strcspn(rest, "/");
        rest += *rest == '/';
    }
    mag_topic_name tn;
    mag_rc rc = MAG_OK;
    if (mag_topic_name_parse((const char *)name.data, name.len, &tn) == MAG_OK &&
        tenant_admin(b, c, role, tn.tenant, &ignored) != MAG_OK &&
        mag_authz_check(b, c, role, MAG_AUTHZ_PRODUCE, &tn, NULL) != MAG_OK &&
        mag_authz_check(b, c, role, MAG_AUTHZ_CONSUME, &tn, NULL) != MAG_OK) {
        mag_buf_appendf(err, "Unauthorized to validateTopicOperation for operation [LOOKUP] on "
                             "topic [%s]", tn.full);
        rc = MAG_ERR_AUTH;
    }
    mag_buf_free(&name);
    mag_buf_free(&seg);
    mag_buf_free(&ignored);
    return rc;
}

mag_rc mag_authz_rest(mag_broker *b, const struct mag_authz_conf *c, const char *role,
                      const char *method, const char *path, mag_buf *err)
{
    if (!c->authentication || !c->authorization)
        return MAG_OK;
    if (strcmp(path, "/status.html") == 0 || strcmp(path, "/metrics") == 0 ||
        strcmp(path, "/metrics/") == 0 || strcmp(path, ADMIN_V2 "clusters") == 0 ||
        strcmp(path, ADMIN_V2 "brokers/ready") == 0 || strcmp(path, ADMIN_V2 "brokers/version") == 0)
        return MAG_OK;      /* BrokersBase.isReady / version check no role */
    if (has_prefix(path, LOOKUP_V2))
        return lookup_allowed(b, c, role, path + strlen(LOOKUP_V2), err);
    static const char *const tenant_scoped[] = { ADMIN_V2 "namespaces/", ADMIN_V2 "persistent/",
                                                 ADMIN_V2 "non-persistent/" };
    const char *rest = NULL;
    for (size_t i = 0; i < sizeof tenant_scoped / sizeof tenant_scoped[0] && !rest; i++)
        if (has_prefix(path, tenant_scoped[i]))
            rest = path + strlen(tenant_scoped[i]);
    if (!rest && strcmp(method, "GET") == 0 && has_prefix(path, ADMIN_V2 "tenants/"))
        rest = path + strlen(ADMIN_V2 "tenants/");
    mag_buf tenant = MAG_BUF_INIT;
    mag_rc rc;
    if (rest && first_segment(rest, &tenant)) {
        rc = tenant_admin(b, c, role, mag_buf_cstr(&tenant), err);
    } else if (mag_authz_is_super_user(c, role)) {
        rc = MAG_OK;
    } else {
        mag_buf_append_str(err, "This operation requires super-user access");
        rc = MAG_ERR_AUTH;
    }
    mag_buf_free(&tenant);
    return rc;
}

mag_rc mag_app_authorize(mag_app *app, const char *role, mag_authz_action action,
                         const mag_topic_name *t, const char *subscription)
{
    return mag_authz_check(app->broker, &app->authz, role, action, t, subscription);
}
