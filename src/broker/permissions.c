/* permissions.c -- namespace, topic and subscription permissions (PulsarAuthorizationProvider).
 *
 * Pulsar keeps permissions in the namespace Policies as "auth_policies"
 * (namespace_auth, destination_auth, subscription_auth_roles); so does
 * Magnetar, inside the namespace record of the meta database (namespaces.c
 * reads and writes that member; every change is one LMDB commit, hence
 * durable once the admin call answers). The first half is the pure codec and
 * the PulsarAuthorizationProvider permission rule; the second half the admin
 * operations behind /admin/v2/namespaces/.../permissions and
 * /admin/v2/{domain}/.../{topic}/permissions.
 */
#include "mag/broker/admin.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/pulsar_json.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"

/* AuthAction names in enum order (bit i = name i). */
static const char *const action_names[] = { "produce", "consume", "functions",
                                            "sources", "sinks",   "packages" };
#define N_ACTIONS (sizeof action_names / sizeof action_names[0])

static const char *const kind_members[] = { "namespace_auth", "destination_auth",
                                            "subscription_auth_roles" };

/* ---- the policies list (pure) ---------------------------------------------------- */

void mag_auth_policies_init(mag_auth_policies *p)
{
    memset(p, 0, sizeof *p);
}

void mag_auth_policies_cleanup(mag_auth_policies *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->g[i].scope);
        free(p->g[i].role);
    }
    free(p->g);
    mag_auth_policies_init(p);
}

/* Order of (kind, scope, role); a NULL scope sorts first. */
static int grant_cmp(mag_auth_kind kind, const char *scope, const char *role,
                     const struct mag_auth_grant *g)
{
    if (kind != g->kind)
        return kind < g->kind ? -1 : 1;
    int c = strcmp(scope ? scope : "", g->scope ? g->scope : "");
    return c ? c : strcmp(role, g->role);
}

/* Index of (kind, scope, role), or where it would be inserted (*found false). */
static size_t grant_find(const mag_auth_policies *p, mag_auth_kind kind, const char *scope,
                         const char *role, bool *found)
{
    size_t i = 0;
    int c = 1;
    while (i < p->n && (c = grant_cmp(kind, scope, role, &p->g[i])) > 0)
        i++;
    *found = i < p->n && c == 0;
    return i;
}

void mag_auth_grant_set(mag_auth_policies *p, mag_auth_kind kind, const char *scope,
                        const char *role, unsigned actions)
{
    bool found;
    size_t i = grant_find(p, kind, scope, role, &found);
    if (found) {
        p->g[i].actions = actions;
        return;
    }
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->g = mag_xrealloc(p->g, p->cap * sizeof *p->g);
    }
    memmove(&p->g[i + 1], &p->g[i], (p->n - i) * sizeof *p->g);
    p->g[i] = (struct mag_auth_grant){ kind, scope ? mag_xstrdup(scope) : NULL, mag_xstrdup(role),
                                       actions };
    p->n++;
}

bool mag_auth_grant_remove(mag_auth_policies *p, mag_auth_kind kind, const char *scope,
                           const char *role)
{
    bool found;
    size_t i = grant_find(p, kind, scope, role, &found);
    if (!found)
        return false;
    free(p->g[i].scope);
    free(p->g[i].role);
    memmove(&p->g[i], &p->g[i + 1], (p->n - i - 1) * sizeof *p->g);
    p->n--;
    return true;
}

/* ---- codec (pure) ---------------------------------------------------------------- */

static mag_rc actions_from_json(const cJSON *arr, unsigned *actions, mag_buf *err)
{
    *actions = 0;
    if (cJSON_IsNull(arr))
        return MAG_OK;
    if (!cJSON_IsArray(arr)) {
        mag_buf_append_str(err, "Actions must be a JSON array of action names");
        return MAG_ERR_BAD_REQUEST;
    }
    for (const cJSON *e = arr->child; e; e = e->next) {
        size_t i = 0;
        while (cJSON_IsString(e) && i < N_ACTIONS && strcmp(e->valuestring, action_names[i]) != 0)
            i++;
        if (!cJSON_IsString(e) || i == N_ACTIONS) {
            char *text = cJSON_PrintUnformatted(e);
            mag_buf_appendf(err, "Invalid action %s: expected one of produce, consume, functions, "
                                 "sources, sinks, packages", text ? text : "?");
            cJSON_free(text);
            return MAG_ERR_BAD_REQUEST;
        }
        *actions |= 1u << i;
    }
    return MAG_OK;
}

static mag_rc parse_root(const uint8_t *json, size_t len, bool object, cJSON **root, mag_buf *err)
{
    *root = cJSON_ParseWithLength((const char *)json, len);
    if (!*root || (object ? !cJSON_IsObject(*root) : !cJSON_IsArray(*root))) {
        cJSON_Delete(*root);
        *root = NULL;
        mag_buf_appendf(err, "Failed to parse the request body as a JSON %s",
                        object ? "object" : "array");
        return MAG_ERR_BAD_REQUEST;
    }
    return MAG_OK;
}

mag_rc mag_auth_actions_parse(const uint8_t *json, size_t len, unsigned *actions, mag_buf *err)
{
    cJSON *root;
    mag_rc rc = parse_root(json, len, false, &root, err);
    if (rc == MAG_OK)
        rc = actions_from_json(root, actions, err);
    cJSON_Delete(root);
    return rc;
}

/* Member `name` of o as an object (absent/null = NULL); false if another type. */
static bool object_member(const cJSON *o, const char *name, const cJSON **out)
{
    *out = cJSON_GetObjectItemCaseSensitive(o, name);
    if (cJSON_IsNull(*out))
        *out = NULL;
    return !*out || cJSON_IsObject(*out);
}

/* role -> [actions] members of map into p under (kind, scope). */
static mag_rc role_map_from_json(const cJSON *map, mag_auth_kind kind, const char *scope,
                                 mag_auth_policies *p, mag_buf *err)
{
    for (const cJSON *r = map ? map->child : NULL; r; r = r->next) {
        unsigned actions;
        mag_rc rc = actions_from_json(r, &actions, err);
        if (rc != MAG_OK)
            return rc;
        mag_auth_grant_set(p, kind, scope, r->string, actions);
    }
    return MAG_OK;
}

mag_rc mag_auth_policies_parse(const uint8_t *json, size_t len, mag_auth_policies *out,
                               mag_buf *err)
{
    if (len == 0)
        return MAG_OK;
    cJSON *root;
    mag_rc rc = parse_root(json, len, true, &root, err);
    if (rc != MAG_OK)
        return rc;
    const cJSON *ns, *dest, *subs;
    if (!object_member(root, kind_members[0], &ns) || !object_member(root, kind_members[1], &dest) ||
        !object_member(root, kind_members[2], &subs)) {
        mag_buf_append_str(err, "auth_policies members must be JSON objects");
        rc = MAG_ERR_BAD_REQUEST;
        goto out;
    }
    rc = role_map_from_json(ns, MAG_AUTH_NAMESPACE, NULL, out, err);
    for (const cJSON *t = dest ? dest->child : NULL; rc == MAG_OK && t; t = t->next) {
        if (!cJSON_IsObject(t) && !cJSON_IsNull(t)) {
            mag_buf_appendf(err, "destination_auth of %s must be a JSON object", t->string);
            rc = MAG_ERR_BAD_REQUEST;
        } else {
            rc = role_map_from_json(t, MAG_AUTH_TOPIC, t->string, out, err);
        }
    }
    for (const cJSON *s = subs ? subs->child : NULL; rc == MAG_OK && s; s = s->next) {
        if (!cJSON_IsArray(s) && !cJSON_IsNull(s)) {
            mag_buf_appendf(err, "subscription_auth_roles of %s must be a JSON array", s->string);
            rc = MAG_ERR_BAD_REQUEST;
        }
        for (const cJSON *r = cJSON_IsArray(s) ? s->child : NULL; rc == MAG_OK && r; r = r->next) {
            if (cJSON_IsString(r)) {
                mag_auth_grant_set(out, MAG_AUTH_SUBSCRIPTION, s->string, r->valuestring, 0);
            } else {
                mag_buf_appendf(err, "subscription_auth_roles of %s must hold role names",
                                s->string);
                rc = MAG_ERR_BAD_REQUEST;
            }
        }
    }
out:
    cJSON_Delete(root);
    return rc;
}

static void append_string(mag_buf *out, const char *s)
{
    mag_json_append_string(out, s, strlen(s));
}

static void actions_format(unsigned actions, mag_buf *out)
{
    mag_buf_append_byte(out, '[');
    bool first = true;
    for (size_t i = 0; i < N_ACTIONS; i++) {
        if (!(actions & (1u << i)))
            continue;
        if (!first)
            mag_buf_append_byte(out, ',');
        append_string(out, action_names[i]);
        first = false;
    }
    mag_buf_append_byte(out, ']');
}

static bool same_scope(const struct mag_auth_grant *a, const struct mag_auth_grant *b)
{
    return a->kind == b->kind && strcmp(a->scope ? a->scope : "", b->scope ? b->scope : "") == 0;
}

/* Grants [from, to) of one (kind, scope): {role:[actions]} or, for
   subscriptions, [roles]. */
static void scope_format(const mag_auth_policies *p, size_t from, size_t to, mag_buf *out)
{
    bool subs = p->g[from].kind == MAG_AUTH_SUBSCRIPTION;
    mag_buf_append_byte(out, subs ? '[' : '{');
    for (size_t i = from; i < to; i++) {
        if (i > from)
            mag_buf_append_byte(out, ',');
        append_string(out, p->g[i].role);
        if (!subs) {
            mag_buf_append_byte(out, ':');
            actions_format(p->g[i].actions, out);
        }
    }
    mag_buf_append_byte(out, subs ? ']' : '}');
}

void mag_auth_policies_format(const mag_auth_policies *p, mag_buf *out)
{
    size_t i = 0;
    mag_buf_append_byte(out, '{');
    for (int kind = MAG_AUTH_NAMESPACE; kind <= MAG_AUTH_SUBSCRIPTION; kind++) {
        mag_buf_appendf(out, "%s\"%s\":", kind ? "," : "", kind_members[kind]);
        size_t start = i;
        while (i < p->n && p->g[i].kind == (mag_auth_kind)kind)
            i++;
        if (kind == MAG_AUTH_NAMESPACE) {
            if (i > start)
                scope_format(p, start, i, out);
            else
                mag_buf_append_str(out, "{}");
            continue;
        }
        mag_buf_append_byte(out, '{');
        for (size_t s = start; s < i;) {
            size_t e = s + 1;
            while (e < i && same_scope(&p->g[s], &p->g[e]))
                e++;
            if (s > start)
                mag_buf_append_byte(out, ',');
            append_string(out, p->g[s].scope);
            mag_buf_append_byte(out, ':');
            scope_format(p, s, e, out);
            s = e;
        }
        mag_buf_append_byte(out, '}');
    }
    mag_buf_append_byte(out, '}');
}

/* ---- the permission rule (pure) -------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* PulsarAuthorizationProvider.checkWildcardPermission on one granted role. */
static bool wildcard_match(const char *granted, const char *role)
{
    size_t len = strlen(granted);
    if (len == 0)
        return false;
    if (granted[len - 1] == '*' && strncmp(role, granted, len - 1) == 0)
        return true;
    return granted[0] == '*' && ends_with(role, granted + 1);
}

/* Does (kind, scope) grant action to role, exactly or (wildcards) by pattern? */
static bool scope_allows(const mag_auth_policies *p, mag_auth_kind kind, const char *scope,
                         const char *role, unsigned action, bool wildcards)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct mag_auth_grant *g = &p->g[i];
        if (g->kind != kind || strcmp(g->scope ? g->scope : "", scope ? scope : "") != 0 ||
            !(g->actions & action))
            continue;
        if (strcmp(g->role, role) == 0 || (wildcards && wildcard_match(g->role, role)))
            return true;
    }
    return false;
}

bool mag_auth_policies_allow(const mag_auth_policies *p, const mag_topic_name *tn,
                             const char *role, unsigned action, const char *sub, bool wildcards)
{
    if (action == MAG_AUTH_CONSUME && sub && *sub) {
        /* subscription_auth_roles: a non-empty role set must name the role (exactly) */
        bool listed = false, restricted = false;
        for (size_t i = 0; i < p->n; i++) {
            const struct mag_auth_grant *g = &p->g[i];
            if (g->kind == MAG_AUTH_SUBSCRIPTION && strcmp(g->scope, sub) == 0) {
                restricted = true;
                listed |= strcmp(g->role, role) == 0;
            }
        }
        if (restricted && !listed)
            return false;
    }
    /* namespace, then topic: exact first, then wildcards, as checkPermission */
    if (scope_allows(p, MAG_AUTH_NAMESPACE, NULL, role, action, false) ||
        scope_allows(p, MAG_AUTH_TOPIC, tn->full, role, action, false))
        return true;
    if (wildcards && (scope_allows(p, MAG_AUTH_NAMESPACE, NULL, role, action, true) ||
                      scope_allows(p, MAG_AUTH_TOPIC, tn->full, role, action, true)))
        return true;
    if (tn->partition >= 0) {   /* the partitioned parent's own grants (exact role) */
        char *parent = mag_xstrndup(tn->full, tn->base_len);
        bool ok = scope_allows(p, MAG_AUTH_TOPIC, parent, role, action, false);
        free(parent);
        return ok;
    }
    return false;
}

/* ---- stored policies ------------------------------------------------------------- */

mag_rc mag_admin_auth_policies_load(mag_broker *b, const char *tenant, const char *ns,
                                    mag_auth_policies *out, mag_buf *err)
{
    mag_buf raw = MAG_BUF_INIT;
    mag_rc rc = mag_admin_ns_auth_read(b, tenant, ns, &raw, err);
    if (rc == MAG_OK && mag_auth_policies_parse(raw.data, raw.len, out, err) != MAG_OK) {
        mag_buf_append_str(err, " (stored auth_policies)");
        rc = MAG_ERR_INTERNAL;
    }
    mag_buf_free(&raw);
    return rc;
}

static mag_rc policies_store(mag_broker *b, const char *tenant, const char *ns,
                             const mag_auth_policies *p, mag_buf *err)
{
    mag_buf raw = MAG_BUF_INIT;
    if (p->n)
        mag_auth_policies_format(p, &raw);
    mag_rc rc = mag_admin_ns_auth_write(b, tenant, ns, &raw, err);
    mag_buf_free(&raw);
    return rc;
}

mag_rc mag_admin_tenant_is_admin(mag_broker *b, const char *tenant, const char *role,
                                 bool *is_admin, mag_buf *err)
{
    *is_admin = false;
    mag_buf info = MAG_BUF_INIT;
    mag_rc rc = mag_admin_tenant_get(b, tenant, "", &info, err);
    if (rc == MAG_OK) {
        cJSON *root = cJSON_ParseWithLength((const char *)info.data, info.len);
        const cJSON *roles = cJSON_GetObjectItemCaseSensitive(root, "adminRoles");
        for (const cJSON *r = roles ? roles->child : NULL; r && !*is_admin; r = r->next)
            *is_admin = cJSON_IsString(r) && strcmp(r->valuestring, role) == 0;
        cJSON_Delete(root);
    }
    mag_buf_free(&info);
    return rc;
}

/* ---- namespace permissions --------------------------------------------------------- */

/* Append the grants of (kind, scope) as scope_format does; {} / [] when none. */
static void scope_format_or_empty(const mag_auth_policies *p, mag_auth_kind kind,
                                  const char *scope, mag_buf *out)
{
    size_t from = 0;
    while (from < p->n && (p->g[from].kind != kind ||
                           strcmp(p->g[from].scope ? p->g[from].scope : "", scope ? scope : "")))
        from++;
    size_t to = from;
    while (to < p->n && same_scope(&p->g[from], &p->g[to]))
        to++;
    if (from < p->n)
        scope_format(p, from, to, out);
    else
        mag_buf_append_str(out, kind == MAG_AUTH_SUBSCRIPTION ? "[]" : "{}");
}

mag_rc mag_admin_permissions_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                 mag_buf *err)
{
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    mag_rc rc = mag_admin_auth_policies_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        scope_format_or_empty(&p, MAG_AUTH_NAMESPACE, NULL, out);
    mag_auth_policies_cleanup(&p);
    return rc;
}

/* Load, apply one grant (actions_json != NULL) or revocation, store. */
static mag_rc ns_change(mag_broker *b, const char *tenant, const char *ns, mag_auth_kind kind,
                        const char *scope, const char *role, const uint8_t *actions_json,
                        size_t len, mag_buf *err)
{
    unsigned actions = 0;
    mag_rc rc = actions_json ? mag_auth_actions_parse(actions_json, len, &actions, err) : MAG_OK;
    if (rc != MAG_OK)
        return rc;
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    rc = mag_admin_auth_policies_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK) {
        if (actions_json)
            mag_auth_grant_set(&p, kind, scope, role, actions);
        else
            mag_auth_grant_remove(&p, kind, scope, role);
        rc = policies_store(b, tenant, ns, &p, err);
    }
    if (rc == MAG_OK)
        mag_info("namespace %s/%s: %s %s%s%s", tenant, ns, actions_json ? "granted" : "revoked",
                 role, scope ? " on " : "", scope ? scope : "");
    mag_auth_policies_cleanup(&p);
    return rc;
}

mag_rc mag_admin_permission_grant(mag_broker *b, const char *tenant, const char *ns,
                                  const char *role, const uint8_t *body, size_t len, mag_buf *err)
{
    return ns_change(b, tenant, ns, MAG_AUTH_NAMESPACE, NULL, role, body, len, err);
}

mag_rc mag_admin_permission_revoke(mag_broker *b, const char *tenant, const char *ns,
                                   const char *role, mag_buf *err)
{
    return ns_change(b, tenant, ns, MAG_AUTH_NAMESPACE, NULL, role, NULL, 0, err);
}

/* ---- subscription permissions ------------------------------------------------------ */

mag_rc mag_admin_sub_permissions_get(mag_broker *b, const char *tenant, const char *ns,
                                     mag_buf *out, mag_buf *err)
{
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    mag_rc rc = mag_admin_auth_policies_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK) {
        mag_buf all = MAG_BUF_INIT;
        mag_auth_policies_format(&p, &all);
        cJSON *root = cJSON_ParseWithLength((const char *)all.data, all.len);
        char *text = cJSON_PrintUnformatted(
            cJSON_GetObjectItemCaseSensitive(root, kind_members[MAG_AUTH_SUBSCRIPTION]));
        mag_buf_append_str(out, text ? text : "{}");
        cJSON_free(text);
        cJSON_Delete(root);
        mag_buf_free(&all);
    }
    mag_auth_policies_cleanup(&p);
    return rc;
}

mag_rc mag_admin_sub_permission_grant(mag_broker *b, const char *tenant, const char *ns,
                                      const char *sub, const uint8_t *body, size_t len,
                                      mag_buf *err)
{
    cJSON *roles;
    mag_rc rc = parse_root(body, len, false, &roles, err);
    for (const cJSON *r = roles ? roles->child : NULL; rc == MAG_OK && r; r = r->next) {
        if (!cJSON_IsString(r)) {
            mag_buf_append_str(err, "Roles must be a JSON array of role names");
            rc = MAG_ERR_BAD_REQUEST;
        }
    }
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    if (rc == MAG_OK)
        rc = mag_admin_auth_policies_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK) {
        /* the new role set replaces the old one */
        for (size_t i = p.n; i-- > 0;)
            if (p.g[i].kind == MAG_AUTH_SUBSCRIPTION && strcmp(p.g[i].scope, sub) == 0)
                mag_auth_grant_remove(&p, MAG_AUTH_SUBSCRIPTION, sub, p.g[i].role);
        for (const cJSON *r = roles->child; r; r = r->next)
            mag_auth_grant_set(&p, MAG_AUTH_SUBSCRIPTION, sub, r->valuestring, 0);
        rc = policies_store(b, tenant, ns, &p, err);
    }
    if (rc == MAG_OK)
        mag_info("namespace %s/%s: subscription %s limited to the granted roles", tenant, ns, sub);
    mag_auth_policies_cleanup(&p);
    cJSON_Delete(roles);
    return rc;
}

mag_rc mag_admin_sub_permission_revoke(mag_broker *b, const char *tenant, const char *ns,
                                       const char *sub, const char *role, mag_buf *err)
{
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    mag_rc rc = mag_admin_auth_policies_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK) {
        bool any = false;
        for (size_t i = 0; i < p.n && !any; i++)
            any = p.g[i].kind == MAG_AUTH_SUBSCRIPTION && strcmp(p.g[i].scope, sub) == 0;
        if (!any) {     /* Pulsar: IllegalArgumentException("couldn't find subscription") -> 404 */
            mag_buf_append_str(err, "couldn't find subscription");
            rc = MAG_ERR_NOT_FOUND;
        } else {
            mag_auth_grant_remove(&p, MAG_AUTH_SUBSCRIPTION, sub, role);
            rc = policies_store(b, tenant, ns, &p, err);
        }
    }
    mag_auth_policies_cleanup(&p);
    return rc;
}

/* ---- topic permissions ------------------------------------------------------------- */

/* The namespace key parts of a topic: tenant and ns ("cluster/ns" for v1 names). */
static void topic_ns(const mag_topic_name *tn, mag_buf *ns)
{
    if (tn->cluster[0])
        mag_buf_appendf(ns, "%s/%s", tn->cluster, tn->ns);
    else
        mag_buf_append_str(ns, tn->ns);
}

mag_rc mag_admin_topic_permissions_get(mag_broker *b, const mag_topic_name *tn, mag_buf *out,
                                       mag_buf *err)
{
    mag_buf ns = MAG_BUF_INIT;
    topic_ns(tn, &ns);
    mag_auth_policies p, merged;
    mag_auth_policies_init(&p);
    mag_auth_policies_init(&merged);
    mag_rc rc = mag_admin_auth_policies_load(b, tn->tenant, mag_buf_cstr(&ns), &p, err);
    for (size_t i = 0; rc == MAG_OK && i < p.n; i++) {
        const struct mag_auth_grant *g = &p.g[i];
        bool found;
        if (g->kind == MAG_AUTH_NAMESPACE) {
            mag_auth_grant_set(&merged, MAG_AUTH_NAMESPACE, NULL, g->role, g->actions);
        } else if (g->kind == MAG_AUTH_TOPIC && strcmp(g->scope, tn->full) == 0) {
            size_t at = grant_find(&merged, MAG_AUTH_NAMESPACE, NULL, g->role, &found);
            mag_auth_grant_set(&merged, MAG_AUTH_NAMESPACE, NULL, g->role,
                               g->actions | (found ? merged.g[at].actions : 0));
        }
    }
    if (rc == MAG_OK)
        scope_format_or_empty(&merged, MAG_AUTH_NAMESPACE, NULL, out);
    mag_auth_policies_cleanup(&p);
    mag_auth_policies_cleanup(&merged);
    mag_buf_free(&ns);
    return rc;
}

mag_rc mag_admin_topic_permission_grant(mag_broker *b, const mag_topic_name *tn, const char *role,
                                        const uint8_t *body, size_t len, mag_buf *err)
{
    mag_buf ns = MAG_BUF_INIT;
    topic_ns(tn, &ns);
    mag_rc rc = ns_change(b, tn->tenant, mag_buf_cstr(&ns), MAG_AUTH_TOPIC, tn->full, role, body,
                          len, err);
    if (rc == MAG_ERR_NOT_FOUND) {
        mag_buf_reset(err);
        mag_buf_append_str(err, "Topic's namespace does not exist");
    }
    mag_buf_free(&ns);
    return rc;
}

/* True if scope is "<full>-partition-<N>". */
static bool is_partition_of(const char *scope, const char *full)
{
    size_t lf = strlen(full);
    static const char sfx[] = "-partition-";
    if (strncmp(scope, full, lf) != 0 || strncmp(scope + lf, sfx, sizeof sfx - 1) != 0)
        return false;
    const char *d = scope + lf + sizeof sfx - 1;
    return *d && strspn(d, "0123456789") == strlen(d);
}

mag_rc mag_admin_topic_permission_revoke(mag_broker *b, const mag_topic_name *tn, const char *role,
                                         mag_buf *err)
{
    mag_buf ns = MAG_BUF_INIT;
    topic_ns(tn, &ns);
    mag_auth_policies p;
    mag_auth_policies_init(&p);
    mag_rc rc = mag_admin_auth_policies_load(b, tn->tenant, mag_buf_cstr(&ns), &p, err);
    if (rc == MAG_OK && !mag_auth_grant_remove(&p, MAG_AUTH_TOPIC, tn->full, role)) {
        mag_buf_append_str(err, "Permissions are not set at the topic level");
        rc = MAG_ERR_PRECONDITION;
    }
    if (rc == MAG_OK) {
        for (size_t i = p.n; i-- > 0;) {    /* the partitions' grants go too */
            const struct mag_auth_grant *g = &p.g[i];
            if (g->kind == MAG_AUTH_TOPIC && strcmp(g->role, role) == 0 &&
                is_partition_of(g->scope, tn->full))
                mag_auth_grant_remove(&p, MAG_AUTH_TOPIC, g->scope, role);
        }
        rc = policies_store(b, tn->tenant, mag_buf_cstr(&ns), &p, err);
    }
    if (rc == MAG_OK)
        mag_info("topic %s: revoked %s", tn->full, role);
    mag_auth_policies_cleanup(&p);
    mag_buf_free(&ns);
    return rc;
}
