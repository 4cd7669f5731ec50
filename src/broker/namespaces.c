/* namespaces.c -- tenants, namespaces and namespace policies (TenantsBase, NamespacesBase).
 *
 * Stored in the meta database as JSON: "tenant/<t>" -> TenantInfo and
 * "ns/<t>/<ns>" -> the policies Magnetar acts on (retention, backlog quota,
 * deduplication; message TTL and auto-creation live in ns_policies.c) plus
 * Pulsar's "auth_policies" member, which permissions.c owns and every policy
 * write here carries over unchanged.
 * Nothing is cached in memory except, per topic, the parsed policy of its
 * namespace tagged with a broker-wide generation number that every change
 * bumps (retention.c re-reads it then). Pulsar standalone bootstraps tenant
 * "public" and namespace "public/default"; so does mag_admin_broker_init,
 * which also registers the namespace of every stored topic so that data
 * written before namespaces were enforced stays reachable.
 * Error statuses and texts follow TenantsBase/NamespacesBase (Pulsar 2.10).
 */
#include "broker_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mag/codec/pulsar_json.h"
#include "mag/util/alloc.h"
#include "mag/util/log.h"
#include "mag/util/str.h"

#define TENANT_PREFIX "tenant/"
#define NS_PREFIX "ns/"

static const char *const policy_names[] = { "producer_request_hold", "producer_exception",
                                            "consumer_backlog_eviction" };
static const char *const quota_type_names[] = { "destination_storage", "message_age" };

/* ---- small JSON helpers (Jackson-like coercion for numeric fields) -------- */

/* Integer value of a JSON number (truncated) or numeric string; null -> 0. */
static bool json_long(const cJSON *item, int64_t *out)
{
    if (cJSON_IsNull(item)) {
        *out = 0;
        return true;
    }
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (d != d || d >= 9.2233720368547758e18 || d < -9.2233720368547758e18)
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (cJSON_IsString(item))
        return mag_parse_java_long(item->valuestring, out, NULL) == MAG_OK;
    return false;
}

static mag_rc parse_object(const uint8_t *json, size_t len, cJSON **root, mag_buf *err)
{
    *root = cJSON_ParseWithLength((const char *)json, len);
    if (!*root || !cJSON_IsObject(*root)) {
        cJSON_Delete(*root);
        *root = NULL;
        mag_buf_append_str(err, "Failed to parse the request body as a JSON object");
        return MAG_ERR_BAD_REQUEST;
    }
    return MAG_OK;
}

bool mag_admin_name_valid(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
        if (!word && c != '-' && c != '=' && c != ':' && c != '.')
            return false;
    }
    return true;
}

/* ---- policy codec (pure) ---------------------------------------------------- */

static void policy_defaults(struct mag_ns_policy *p)
{
    memset(p, 0, sizeof *p);
    for (int i = 0; i < 2; i++) {
        p->quota[i].limit_size = -1;
        p->quota[i].limit_time = -1;
    }
}

static mag_rc quota_from_json(const cJSON *o, struct mag_backlog_quota *q, mag_buf *err)
{
    if (!cJSON_IsObject(o)) {
        mag_buf_append_str(err, "BacklogQuota must be a JSON object");
        return MAG_ERR_BAD_REQUEST;
    }
    q->set = true;
    q->limit_size = -1;
    q->limit_time = -1;
    q->policy = MAG_QUOTA_PRODUCER_REQUEST_HOLD;
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(o, "limitSize");
    if (!size)
        size = cJSON_GetObjectItemCaseSensitive(o, "limit");    /* 2.10's deprecated name */
    const cJSON *time = cJSON_GetObjectItemCaseSensitive(o, "limitTime");
    if ((size && !json_long(size, &q->limit_size)) || (time && !json_long(time, &q->limit_time))) {
        mag_buf_append_str(err, "Invalid BacklogQuota limit");
        return MAG_ERR_BAD_REQUEST;
    }
    const cJSON *pol = cJSON_GetObjectItemCaseSensitive(o, "policy");
    if (!cJSON_IsString(pol)) {
        mag_buf_append_str(err, "BacklogQuota policy is required");
        return MAG_ERR_BAD_REQUEST;
    }
    for (int i = 0; i < 3; i++) {
        if (strcmp(pol->valuestring, policy_names[i]) == 0) {
            q->policy = (mag_quota_policy)i;
            return MAG_OK;
        }
    }
    mag_buf_appendf(err, "Invalid BacklogQuota policy %s", pol->valuestring);
    return MAG_ERR_BAD_REQUEST;
}

static mag_rc retention_from_json(const cJSON *o, int64_t *minutes, int64_t *mb, mag_buf *err)
{
    *minutes = 0;
    *mb = 0;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "retentionTimeInMinutes");
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(o, "retentionSizeInMB");
    if (!cJSON_IsObject(o) || (t && !json_long(t, minutes)) || (s && !json_long(s, mb))) {
        mag_buf_append_str(err, "Invalid RetentionPolicies");
        return MAG_ERR_BAD_REQUEST;
    }
    return MAG_OK;
}

mag_rc mag_ns_policy_parse(const uint8_t *json, size_t len, struct mag_ns_policy *out, mag_buf *err)
{
    policy_defaults(out);
    if (len == 0)
        return MAG_OK;
    cJSON *root;
    mag_rc rc = parse_object(json, len, &root, err);
    if (rc != MAG_OK)
        return rc;
    const cJSON *ret = cJSON_GetObjectItemCaseSensitive(root, "retention_policies");
    if (ret && !cJSON_IsNull(ret)) {
        rc = retention_from_json(ret, &out->retention_minutes, &out->retention_mb, err);
        out->has_retention = rc == MAG_OK;
    }
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "backlog_quota_map");
    if (rc == MAG_OK && map && !cJSON_IsNull(map)) {
        if (!cJSON_IsObject(map)) {
            mag_buf_append_str(err, "backlog_quota_map must be a JSON object");
            rc = MAG_ERR_BAD_REQUEST;
        }
        for (const cJSON *q = map->child; rc == MAG_OK && q; q = q->next) {
            int type = -1;
            for (int i = 0; i < 2; i++)
                if (strcmp(q->string, quota_type_names[i]) == 0)
                    type = i;
            if (type < 0) {
                mag_buf_appendf(err, "Invalid BacklogQuotaType %s", q->string);
                rc = MAG_ERR_BAD_REQUEST;
            } else {
                rc = quota_from_json(q, &out->quota[type], err);
            }
        }
    }
    const cJSON *dedup = cJSON_GetObjectItemCaseSensitive(root, "deduplicationEnabled");
    if (rc == MAG_OK && cJSON_IsBool(dedup)) {
        out->has_deduplication = true;
        out->deduplication = cJSON_IsTrue(dedup);
    }
    if (rc == MAG_OK)
        rc = mag_ns_policy_parse_more(root, out, err);
    cJSON_Delete(root);
    if (rc != MAG_OK)
        policy_defaults(out);
    return rc;
}

void mag_backlog_quota_format(const struct mag_backlog_quota *q, mag_buf *out)
{
    mag_buf_appendf(out, "{\"limit\":%" PRId64 ",\"limitSize\":%" PRId64 ",\"limitTime\":%" PRId64
                         ",\"policy\":\"%s\"}",
                    q->limit_size, q->limit_size, q->limit_time, policy_names[q->policy]);
}

static void quota_map_format(const struct mag_ns_policy *p, mag_buf *out)
{
    mag_buf_append_byte(out, '{');
    bool first = true;
    for (int i = 0; i < 2; i++) {
        if (!p->quota[i].set)
            continue;
        mag_buf_appendf(out, "%s\"%s\":", first ? "" : ",", quota_type_names[i]);
        mag_backlog_quota_format(&p->quota[i], out);
        first = false;
    }
    mag_buf_append_byte(out, '}');
}

static void retention_format(int64_t minutes, int64_t mb, mag_buf *out)
{
    mag_buf_appendf(out, "{\"retentionTimeInMinutes\":%" PRId64 ",\"retentionSizeInMB\":%" PRId64 "}",
                    minutes, mb);
}

void mag_ns_policy_format(const struct mag_ns_policy *p, mag_buf *out)
{
    mag_buf_append_byte(out, '{');
    if (p->has_retention) {
        mag_buf_append_str(out, "\"retention_policies\":");
        retention_format(p->retention_minutes, p->retention_mb, out);
        mag_buf_append_byte(out, ',');
    }
    if (p->has_deduplication)
        mag_buf_appendf(out, "\"deduplicationEnabled\":%s,", p->deduplication ? "true" : "false");
    mag_buf_append_str(out, "\"backlog_quota_map\":");
    quota_map_format(p, out);
    mag_ns_policy_format_more(p, out);
    mag_buf_append_byte(out, '}');
}

/* AdminResource.validateRetentionPolicies */
static mag_rc retention_valid(int64_t minutes, int64_t mb, mag_buf *err)
{
    if (mb < -1) {
        mag_buf_append_str(err, "Invalid retention policy: size limit must be >= -1");
        return MAG_ERR_PRECONDITION;
    }
    if (minutes < -1) {
        mag_buf_append_str(err, "Invalid retention policy: time limit must be >= -1");
        return MAG_ERR_PRECONDITION;
    }
    if ((minutes == 0) != (mb == 0)) {
        mag_buf_append_str(err, "Invalid retention policy: Setting a single time or size limit to 0 "
                                "is invalid when one of the limits has a non-zero value. Use the "
                                "value of -1 instead of 0 to ignore a specific limit. To disable "
                                "retention both limits must be set to 0.");
        return MAG_ERR_PRECONDITION;
    }
    return MAG_OK;
}

mag_rc mag_retention_parse(const uint8_t *json, size_t len, int64_t *minutes, int64_t *mb,
                           mag_buf *err)
{
    cJSON *root;
    mag_rc rc = parse_object(json, len, &root, err);
    if (rc != MAG_OK)
        return rc;
    rc = retention_from_json(root, minutes, mb, err);
    cJSON_Delete(root);
    return rc == MAG_OK ? retention_valid(*minutes, *mb, err) : rc;
}

mag_rc mag_backlog_quota_parse(const uint8_t *json, size_t len, struct mag_backlog_quota *out,
                               mag_buf *err)
{
    cJSON *root;
    mag_rc rc = parse_object(json, len, &root, err);
    if (rc != MAG_OK)
        return rc;
    rc = quota_from_json(root, out, err);
    cJSON_Delete(root);
    return rc;
}

/* Pulsar's checkBacklogQuota: a retention limit must exceed the quota. */
static bool quota_fits_retention(const struct mag_backlog_quota *q, int64_t minutes, int64_t mb)
{
    if (!q->set || (mb <= 0 && minutes <= 0))
        return true;
    if (mb > 0 && q->limit_size >= mb * 1024 * 1024)
        return false;
    if (minutes > 0 && q->limit_time >= minutes * 60)
        return false;
    return true;
}

/* ---- meta access ------------------------------------------------------------ */

/* Copy meta key into val (reset first). MAG_ERR_NOT_FOUND when absent. */
static mag_rc meta_read(mag_broker *b, const char *key, mag_buf *val)
{
    mag_store_rtxn *r;
    mag_rc rc = mag_store_rbegin(b->opts.store, &r);
    if (rc != MAG_OK)
        return rc;
    const void *v;
    size_t len;
    rc = mag_store_meta_get(r, key, &v, &len);
    if (rc == MAG_OK) {
        mag_buf_reset(val);
        mag_buf_append(val, v, len);
    }
    mag_store_rend(r);
    return rc;
}

static bool meta_exists(mag_broker *b, const char *key)
{
    mag_buf v = MAG_BUF_INIT;
    bool found = meta_read(b, key, &v) == MAG_OK;
    mag_buf_free(&v);
    return found;
}

/* Put (val != NULL) or delete one key in its own transaction. */
static mag_rc meta_write(mag_broker *b, const char *key, const mag_buf *val)
{
    mag_store_wtxn *w;
    mag_rc rc = mag_broker_wbegin(b, &w);
    if (rc != MAG_OK)
        return rc;
    rc = val ? mag_store_meta_put(w, key, val->data, val->len) : mag_store_meta_delete(w, key);
    if (rc != MAG_OK) {
        mag_store_wabort(w);
        return rc;
    }
    return mag_store_wcommit(w);
}

struct list_ctx {
    mag_buf *out;
    size_t strip;           /* bytes of key prefix not printed */
    size_t n;
};

static bool list_visit(void *ctx, const char *key, size_t klen, const void *val, size_t vlen)
{
    (void)val, (void)vlen;
    struct list_ctx *lc = ctx;
    if (lc->n++)
        mag_buf_append_byte(lc->out, ',');
    mag_json_append_string(lc->out, key + lc->strip, klen - lc->strip);
    return true;
}

/* Append a JSON array of the keys under prefix, minus `strip` leading bytes. */
static mag_rc meta_list(mag_broker *b, const char *prefix, size_t strip, mag_buf *out, size_t *count)
{
    mag_store_rtxn *r;
    mag_rc rc = mag_store_rbegin(b->opts.store, &r);
    if (rc != MAG_OK)
        return rc;
    struct list_ctx lc = { out, strip, 0 };
    mag_buf_append_byte(out, '[');
    rc = mag_store_meta_scan(r, prefix, list_visit, &lc);
    mag_buf_append_byte(out, ']');
    mag_store_rend(r);
    if (count)
        *count = lc.n;
    return rc;
}

static void key_of(mag_buf *key, const char *prefix, const char *a, const char *c)
{
    mag_buf_reset(key);
    mag_buf_append_str(key, prefix);
    mag_buf_append_str(key, a);
    if (c) {
        mag_buf_append_byte(key, '/');
        mag_buf_append_str(key, c);
    }
}

static mag_rc storage_error(mag_rc rc, mag_buf *err)
{
    mag_buf_appendf(err, "Metadata store error: %s", mag_strerror(rc));
    return rc == MAG_ERR_TOO_LARGE ? MAG_ERR_PRECONDITION : rc;
}

/* ---- bootstrap and the namespace check --------------------------------------- */

/* Remember key (once) as a record to create at startup. */
static void want_key(mag_broker *b, mag_strmap *seen, char ***keys, size_t *n, size_t *cap,
                     const char *key)
{
    size_t len = strlen(key);
    if (mag_strmap_get(seen, key, len))
        return;
    char *copy = mag_xstrdup(key);
    mag_strmap_put(seen, copy, len, copy);
    if (!meta_exists(b, copy))
        mag_ptrs_push((void ***)keys, n, cap, copy);
}

bool mag_admin_topic_namespace(const char *full, size_t len, char *out)
{
    mag_topic_name tn;
    if (mag_topic_name_parse(full, len, &tn) != MAG_OK)
        return false;
    mag_buf ns = MAG_BUF_INIT;
    if (tn.cluster[0])
        mag_buf_appendf(&ns, "%s/%s/%s", tn.tenant, tn.cluster, tn.ns);
    else
        mag_buf_appendf(&ns, "%s/%s", tn.tenant, tn.ns);
    bool ok = ns.len <= MAG_TOPIC_NAME_MAX;
    if (ok)
        memcpy(out, ns.data, ns.len + 1);
    mag_buf_free(&ns);
    return ok;
}

mag_rc mag_admin_broker_init(mag_broker *b)
{
    b->adm.policy_gen = 1;
    /* The records to create: bootstrap ones, then the namespace (and tenant)
       of every stored topic that has none. */
    mag_strmap seen;
    mag_strmap_init(&seen);
    mag_buf key = MAG_BUF_INIT;
    char **keys = NULL;
    size_t nkeys = 0, cap = 0;
    want_key(b, &seen, &keys, &nkeys, &cap, TENANT_PREFIX "public");
    want_key(b, &seen, &keys, &nkeys, &cap, NS_PREFIX "public/default");
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot)) {
        const mag_topic *t = slot->value;
        char ns[MAG_TOPIC_NAME_MAX + 1];
        if (!mag_admin_topic_namespace(t->name, t->name_len, ns))
            continue;
        mag_buf_reset(&key);
        mag_buf_append_str(&key, TENANT_PREFIX);
        mag_buf_append(&key, ns, (size_t)(strchr(ns, '/') - ns));
        want_key(b, &seen, &keys, &nkeys, &cap, mag_buf_cstr(&key));
        key_of(&key, NS_PREFIX, ns, NULL);
        want_key(b, &seen, &keys, &nkeys, &cap, mag_buf_cstr(&key));
    }
    mag_rc rc = MAG_OK;
    mag_store_wtxn *w = NULL;
    if (nkeys)
        rc = mag_broker_wbegin(b, &w);
    for (size_t i = 0; i < nkeys && rc == MAG_OK; i++) {
        bool tenant = strncmp(keys[i], TENANT_PREFIX, strlen(TENANT_PREFIX)) == 0;
        const char *val = tenant ? "{\"adminRoles\":[]}" : "{}";
        rc = mag_store_meta_put(w, keys[i], val, strlen(val));
        if (rc == MAG_OK)
            mag_info("registered %s %s", tenant ? "tenant" : "namespace", strchr(keys[i], '/') + 1);
    }
    if (w && rc == MAG_OK)
        rc = mag_store_wcommit(w);
    else if (w)
        mag_store_wabort(w);
    free(keys);
    it = 0;
    while (mag_strmap_next(&seen, &it, &slot))
        free(slot->value);
    mag_strmap_cleanup(&seen);
    mag_buf_free(&key);
    if (rc != MAG_OK)
        mag_error("cannot write the default tenant/namespace records: %s", mag_strerror(rc));
    return rc;
}

bool mag_admin_namespace_exists(mag_broker *b, const char *ns_full)
{
    mag_buf key = MAG_BUF_INIT;
    key_of(&key, NS_PREFIX, ns_full, NULL);
    bool found = meta_exists(b, mag_buf_cstr(&key));
    mag_buf_free(&key);
    return found;
}

mag_rc mag_admin_register_v1_namespace(mag_broker *b, mag_store_wtxn *w, const mag_topic_name *tn)
{
    if (!tn->cluster[0])
        return MAG_OK;
    mag_buf key = MAG_BUF_INIT;
    mag_rc rc = MAG_OK;
    for (int pass = 0; pass < 2 && rc == MAG_OK; pass++) {
        if (pass == 0)
            key_of(&key, TENANT_PREFIX, tn->tenant, NULL);
        else {
            mag_buf_reset(&key);
            mag_buf_appendf(&key, NS_PREFIX "%s/%s/%s", tn->tenant, tn->cluster, tn->ns);
        }
        if (meta_exists(b, mag_buf_cstr(&key)))
            continue;
        const char *val = pass == 0 ? "{\"adminRoles\":[]}" : "{}";
        rc = mag_store_meta_put(w, mag_buf_cstr(&key), val, strlen(val));
        if (rc == MAG_OK)
            mag_info("registered %s %s", pass == 0 ? "tenant" : "namespace",
                     strchr(mag_buf_cstr(&key), '/') + 1);
    }
    mag_buf_free(&key);
    return rc;
}

mag_rc mag_admin_check_namespace(mag_broker *b, const mag_topic_name *tn, mag_buf *err)
{
    if (tn->cluster[0])
        return MAG_OK;      /* v1 names: Pulsar does not check their namespace either */
    mag_buf key = MAG_BUF_INIT;
    key_of(&key, NS_PREFIX, tn->tenant, tn->ns);
    mag_buf val = MAG_BUF_INIT;
    mag_rc rc = meta_read(b, mag_buf_cstr(&key), &val);
    if (rc == MAG_ERR_NOT_FOUND)
        mag_buf_appendf(err, "Namespace not found: %s/%s", tn->tenant, tn->ns);
    else if (rc != MAG_OK)
        mag_buf_appendf(err, "Cannot read namespace %s/%s: %s", tn->tenant, tn->ns, mag_strerror(rc));
    mag_buf_free(&key);
    mag_buf_free(&val);
    return rc;
}

const struct mag_ns_policy *mag_admin_topic_policy(mag_topic *t)
{
    mag_broker *b = t->broker;
    if (t->adm.policy_gen == b->adm.policy_gen)
        return &t->adm.policy;
    t->adm.policy_gen = b->adm.policy_gen;
    char ns[MAG_TOPIC_NAME_MAX + 1];
    mag_buf key = MAG_BUF_INIT, val = MAG_BUF_INIT;
    bool loaded = false;
    if (mag_admin_topic_namespace(t->name, t->name_len, ns)) {
        key_of(&key, NS_PREFIX, ns, NULL);
        if (meta_read(b, mag_buf_cstr(&key), &val) == MAG_OK)
            loaded = mag_ns_policy_parse(val.data, val.len, &t->adm.policy, NULL) == MAG_OK;
    }
    if (!loaded)
        mag_ns_policy_parse(NULL, 0, &t->adm.policy, NULL);
    mag_buf_free(&key);
    mag_buf_free(&val);
    return &t->adm.policy;
}

/* ---- tenants ----------------------------------------------------------------- */

mag_rc mag_admin_tenants_list(mag_broker *b, mag_buf *out, mag_buf *err)
{
    mag_rc rc = meta_list(b, TENANT_PREFIX, strlen(TENANT_PREFIX), out, NULL);
    return rc == MAG_OK ? MAG_OK : storage_error(rc, err);
}

static void string_array(mag_buf *out, const cJSON *arr)
{
    mag_buf_append_byte(out, '[');
    size_t n = 0;
    for (const cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
        if (!cJSON_IsString(e))
            continue;
        if (n++)
            mag_buf_append_byte(out, ',');
        mag_json_append_string(out, e->valuestring, strlen(e->valuestring));
    }
    mag_buf_append_byte(out, ']');
}

mag_rc mag_admin_tenant_get(mag_broker *b, const char *tenant, const char *cluster, mag_buf *out,
                            mag_buf *err)
{
    mag_buf key = MAG_BUF_INIT, val = MAG_BUF_INIT;
    key_of(&key, TENANT_PREFIX, tenant, NULL);
    mag_rc rc = meta_read(b, mag_buf_cstr(&key), &val);
    if (rc == MAG_OK) {
        cJSON *root = cJSON_ParseWithLength((const char *)val.data, val.len);
        const cJSON *roles = cJSON_GetObjectItemCaseSensitive(root, "adminRoles");
        const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(root, "allowedClusters");
        mag_buf_append_str(out, "{\"adminRoles\":");
        string_array(out, roles);
        mag_buf_append_str(out, ",\"allowedClusters\":");
        if (clusters) {
            string_array(out, clusters);
        } else {    /* bootstrap tenant: the local cluster */
            mag_buf_append_byte(out, '[');
            mag_json_append_string(out, cluster, strlen(cluster));
            mag_buf_append_byte(out, ']');
        }
        mag_buf_append_byte(out, '}');
        cJSON_Delete(root);
    } else if (rc == MAG_ERR_NOT_FOUND) {
        mag_buf_append_str(err, "Tenant does not exist");
    } else {
        rc = storage_error(rc, err);
    }
    mag_buf_free(&key);
    mag_buf_free(&val);
    return rc;
}

/* TenantsBase.validateClusters, then build the stored record. */
static mag_rc tenant_record(const uint8_t *body, size_t len, const char *cluster, mag_buf *rec,
                            mag_buf *err)
{
    cJSON *root = NULL;
    if (len) {
        mag_rc rc = parse_object(body, len, &root, err);
        if (rc != MAG_OK)
            return rc;
    }
    const cJSON *roles = cJSON_GetObjectItemCaseSensitive(root, "adminRoles");
    const cJSON *clusters = cJSON_GetObjectItemCaseSensitive(root, "allowedClusters");
    mag_rc rc = MAG_OK;
    if ((roles && !cJSON_IsArray(roles) && !cJSON_IsNull(roles)) ||
        (clusters && !cJSON_IsArray(clusters) && !cJSON_IsNull(clusters))) {
        mag_buf_append_str(err, "Failed to parse the request body as TenantInfo");
        rc = MAG_ERR_BAD_REQUEST;
        goto out;
    }
    size_t n = 0;
    for (const cJSON *c = clusters ? clusters->child : NULL; c; c = c->next, n++) {
        if (!cJSON_IsString(c) || c->valuestring[strspn(c->valuestring, " \t\r\n")] == '\0') {
            n = 0;
            break;
        }
    }
    if (n == 0) {
        mag_buf_append_str(err, "Clusters can not be empty");
        rc = MAG_ERR_PRECONDITION;
        goto out;
    }
    for (const cJSON *c = clusters->child; c; c = c->next) {
        if (strcmp(c->valuestring, cluster) != 0 && strcmp(c->valuestring, "global") != 0) {
            mag_buf_append_str(err, "Clusters do not exist");
            rc = MAG_ERR_PRECONDITION;
            goto out;
        }
    }
    mag_buf_append_str(rec, "{\"adminRoles\":");
    string_array(rec, roles);
    mag_buf_append_str(rec, ",\"allowedClusters\":");
    string_array(rec, clusters);
    mag_buf_append_byte(rec, '}');
out:
    cJSON_Delete(root);
    return rc;
}

mag_rc mag_admin_tenant_put(mag_broker *b, const char *tenant, const char *cluster, bool create,
                            const uint8_t *body, size_t len, mag_buf *err)
{
    mag_buf key = MAG_BUF_INIT, rec = MAG_BUF_INIT;
    mag_rc rc = tenant_record(body, len, cluster, &rec, err);
    if (rc != MAG_OK)
        goto out;
    if (!mag_admin_name_valid(tenant)) {
        mag_buf_append_str(err, "Tenant name is not valid");
        rc = MAG_ERR_PRECONDITION;
        goto out;
    }
    key_of(&key, TENANT_PREFIX, tenant, NULL);
    bool exists = meta_exists(b, mag_buf_cstr(&key));
    if (create && exists) {
        mag_buf_append_str(err, "Tenant already exist");
        rc = MAG_ERR_CONFLICT;
    } else if (!create && !exists) {
        mag_buf_appendf(err, "Tenant %s not found", tenant);
        rc = MAG_ERR_NOT_FOUND;
    } else if ((rc = meta_write(b, mag_buf_cstr(&key), &rec)) != MAG_OK) {
        rc = storage_error(rc, err);
    } else {
        mag_info("%s tenant %s", create ? "created" : "updated", tenant);
    }
out:
    mag_buf_free(&key);
    mag_buf_free(&rec);
    return rc;
}

mag_rc mag_admin_tenant_delete(mag_broker *b, const char *tenant, bool force, mag_buf *err)
{
    if (force) {
        mag_buf_append_str(err, "Broker doesn't allow forced deletion of tenants");
        return MAG_ERR_METHOD;
    }
    mag_buf key = MAG_BUF_INIT, prefix = MAG_BUF_INIT, list = MAG_BUF_INIT;
    key_of(&key, TENANT_PREFIX, tenant, NULL);
    mag_rc rc = MAG_OK;
    size_t nns = 0;
    if (!meta_exists(b, mag_buf_cstr(&key))) {
        mag_buf_append_str(err, "Tenant doesn't exist");
        rc = MAG_ERR_NOT_FOUND;
        goto out;
    }
    key_of(&prefix, NS_PREFIX, tenant, "");
    rc = meta_list(b, mag_buf_cstr(&prefix), 0, &list, &nns);
    if (rc == MAG_OK && nns > 0) {
        mag_buf_append_str(err, "The tenant still has active namespaces");
        rc = MAG_ERR_CONFLICT;
    } else if (rc == MAG_OK && (rc = meta_write(b, mag_buf_cstr(&key), NULL)) == MAG_OK) {
        mag_info("deleted tenant %s", tenant);
    } else if (rc != MAG_OK) {
        rc = storage_error(rc, err);
    }
out:
    mag_buf_free(&key);
    mag_buf_free(&prefix);
    mag_buf_free(&list);
    return rc;
}

/* ---- namespaces ------------------------------------------------------------- */

mag_rc mag_admin_namespaces_list(mag_broker *b, const char *tenant, mag_buf *out, mag_buf *err)
{
    if (!mag_admin_name_valid(tenant)) {
        mag_buf_append_str(err, "Tenant name is not valid");
        return MAG_ERR_PRECONDITION;
    }
    mag_buf key = MAG_BUF_INIT;
    key_of(&key, TENANT_PREFIX, tenant, NULL);
    mag_rc rc = MAG_OK;
    if (!meta_exists(b, mag_buf_cstr(&key))) {
        mag_buf_append_str(err, "Tenant not found");
        rc = MAG_ERR_NOT_FOUND;
    } else {
        key_of(&key, NS_PREFIX, tenant, "");
        rc = meta_list(b, mag_buf_cstr(&key), strlen(NS_PREFIX), out, NULL);
        if (rc != MAG_OK)
            rc = storage_error(rc, err);
    }
    mag_buf_free(&key);
    return rc;
}

/* Read and parse a namespace's record; 404 text when absent. */
static mag_rc ns_load(mag_broker *b, const char *tenant, const char *ns, struct mag_ns_policy *p,
                      mag_buf *err)
{
    mag_buf key = MAG_BUF_INIT, val = MAG_BUF_INIT;
    key_of(&key, NS_PREFIX, tenant, ns);
    mag_rc rc = meta_read(b, mag_buf_cstr(&key), &val);
    if (rc == MAG_OK) {
        if (mag_ns_policy_parse(val.data, val.len, p, NULL) != MAG_OK)
            mag_ns_policy_parse(NULL, 0, p, NULL);
    } else if (rc == MAG_ERR_NOT_FOUND) {
        mag_buf_append_str(err, "Namespace does not exist");
    } else {
        rc = storage_error(rc, err);
    }
    mag_buf_free(&key);
    mag_buf_free(&val);
    return rc;
}

/* Append the JSON text of record's "auth_policies" member (nothing if absent). */
static void auth_member(const uint8_t *record, size_t len, mag_buf *auth)
{
    cJSON *root = cJSON_ParseWithLength((const char *)record, len);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "auth_policies");
    if (cJSON_IsObject(a)) {
        char *text = cJSON_PrintUnformatted(a);
        if (text)
            mag_buf_append_str(auth, text);
        cJSON_free(text);
    }
    cJSON_Delete(root);
}

/* Write the record: p's policies plus the auth_policies text (may be empty). */
static mag_rc ns_write(mag_broker *b, const char *tenant, const char *ns,
                       const struct mag_ns_policy *p, const mag_buf *auth, mag_buf *err)
{
    mag_buf key = MAG_BUF_INIT, val = MAG_BUF_INIT;
    key_of(&key, NS_PREFIX, tenant, ns);
    mag_ns_policy_format(p, &val);
    if (auth->len) {
        val.len--;      /* reopen the object */
        mag_buf_append_str(&val, ",\"auth_policies\":");
        mag_buf_append(&val, auth->data, auth->len);
        mag_buf_append_byte(&val, '}');
    }
    mag_rc rc = meta_write(b, mag_buf_cstr(&key), &val);
    if (rc == MAG_OK)
        b->adm.policy_gen++;
    else
        rc = storage_error(rc, err);
    mag_buf_free(&key);
    mag_buf_free(&val);
    return rc;
}

/* Store p, keeping the record's permissions. */
static mag_rc ns_store(mag_broker *b, const char *tenant, const char *ns,
                       const struct mag_ns_policy *p, mag_buf *err)
{
    mag_buf auth = MAG_BUF_INIT;
    mag_rc rc = mag_admin_ns_auth_read(b, tenant, ns, &auth, NULL);
    if (rc == MAG_OK || rc == MAG_ERR_NOT_FOUND)
        rc = ns_write(b, tenant, ns, p, &auth, err);
    else
        rc = storage_error(rc, err);
    mag_buf_free(&auth);
    return rc;
}

mag_rc mag_admin_ns_load(mag_broker *b, const char *tenant, const char *ns,
                         struct mag_ns_policy *p, mag_buf *err)
{
    return ns_load(b, tenant, ns, p, err);
}

mag_rc mag_admin_ns_store(mag_broker *b, const char *tenant, const char *ns,
                          const struct mag_ns_policy *p, mag_buf *err)
{
    return ns_store(b, tenant, ns, p, err);
}

mag_rc mag_admin_ns_auth_read(mag_broker *b, const char *tenant, const char *ns, mag_buf *auth,
                              mag_buf *err)
{
    mag_buf key = MAG_BUF_INIT, val = MAG_BUF_INIT;
    key_of(&key, NS_PREFIX, tenant, ns);
    mag_rc rc = meta_read(b, mag_buf_cstr(&key), &val);
    if (rc == MAG_OK)
        auth_member(val.data, val.len, auth);
    else if (rc == MAG_ERR_NOT_FOUND && err)
        mag_buf_append_str(err, "Namespace does not exist");
    else if (err)
        rc = storage_error(rc, err);
    mag_buf_free(&key);
    mag_buf_free(&val);
    return rc;
}

mag_rc mag_admin_ns_auth_write(mag_broker *b, const char *tenant, const char *ns,
                               const mag_buf *auth, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    return rc == MAG_OK ? ns_write(b, tenant, ns, &p, auth, err) : rc;
}

/* The auth_policies of a Policies body for a new namespace, normalised
   (Pulsar stores the body's permissions too). */
static mag_rc ns_create_auth(const uint8_t *body, size_t len, mag_buf *auth, mag_buf *err)
{
    mag_buf raw = MAG_BUF_INIT;
    if (len)
        auth_member(body, len, &raw);
    mag_rc rc = MAG_OK;
    if (raw.len) {
        mag_auth_policies ap;
        mag_auth_policies_init(&ap);
        rc = mag_auth_policies_parse(raw.data, raw.len, &ap, err);
        if (rc == MAG_OK && ap.n)
            mag_auth_policies_format(&ap, auth);
        mag_auth_policies_cleanup(&ap);
    }
    mag_buf_free(&raw);
    return rc;
}

mag_rc mag_admin_namespace_create(mag_broker *b, const char *tenant, const char *ns,
                                  const uint8_t *body, size_t len, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = mag_ns_policy_parse(body, len, &p, err);
    if (rc == MAG_OK && p.has_retention)
        rc = retention_valid(p.retention_minutes, p.retention_mb, err);
    if (rc != MAG_OK)
        return rc;
    if (!mag_admin_name_valid(tenant) || !mag_admin_name_valid(ns)) {
        mag_buf_append_str(err, "Namespace name is not valid");
        return MAG_ERR_PRECONDITION;
    }
    mag_buf key = MAG_BUF_INIT, auth = MAG_BUF_INIT;
    key_of(&key, TENANT_PREFIX, tenant, NULL);
    if (!meta_exists(b, mag_buf_cstr(&key))) {
        mag_buf_append_str(err, "Tenant does not exist");
        rc = MAG_ERR_NOT_FOUND;
    } else {
        key_of(&key, NS_PREFIX, tenant, ns);
        if (meta_exists(b, mag_buf_cstr(&key))) {
            mag_buf_append_str(err, "Namespace already exists");
            rc = MAG_ERR_CONFLICT;
        } else if ((rc = ns_create_auth(body, len, &auth, err)) == MAG_OK &&
                   (rc = ns_write(b, tenant, ns, &p, &auth, err)) == MAG_OK) {
            mag_info("created namespace %s/%s", tenant, ns);
        }
    }
    mag_buf_free(&key);
    mag_buf_free(&auth);
    return rc;
}

mag_rc mag_admin_namespace_get(mag_broker *b, const char *tenant, const char *ns,
                               const char *cluster, mag_buf *out, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    mag_buf raw = MAG_BUF_INIT;
    mag_auth_policies ap;
    mag_auth_policies_init(&ap);
    if (mag_admin_ns_auth_read(b, tenant, ns, &raw, NULL) == MAG_OK && raw.len)
        mag_auth_policies_parse(raw.data, raw.len, &ap, NULL);
    mag_buf_append_str(out, "{\"auth_policies\":");
    mag_auth_policies_format(&ap, out);
    mag_auth_policies_cleanup(&ap);
    mag_buf_free(&raw);
    mag_buf_append_str(out, ",\"replication_clusters\":[");
    mag_json_append_string(out, cluster, strlen(cluster));
    mag_buf_append_str(out, "],\"bundles\":{\"boundaries\":[\"0x00000000\",\"0xffffffff\"],"
                            "\"numBundles\":1},\"backlog_quota_map\":");
    quota_map_format(&p, out);
    mag_buf_append_str(out, ",\"retention_policies\":");
    if (p.has_retention)
        retention_format(p.retention_minutes, p.retention_mb, out);
    else
        mag_buf_append_str(out, "null");
    mag_ns_policy_format_get(&p, out);
    mag_buf_append_str(out, ",\"deleted\":false,\"encryption_required\":false,"
                            "\"subscription_auth_mode\":\"None\",\"properties\":{}}");
    return MAG_OK;
}

mag_rc mag_admin_namespace_delete(mag_broker *b, const char *tenant, const char *ns, bool force,
                                  mag_buf *err)
{
    if (force) {
        mag_buf_append_str(err, "Broker doesn't allow forced deletion of namespaces");
        return MAG_ERR_METHOD;
    }
    mag_buf key = MAG_BUF_INIT, full = MAG_BUF_INIT;
    key_of(&key, NS_PREFIX, tenant, ns);
    key_of(&full, "", tenant, ns);
    mag_rc rc = MAG_OK;
    if (!meta_exists(b, mag_buf_cstr(&key))) {
        mag_buf_appendf(err, "Namespace %s does not exist.", mag_buf_cstr(&full));
        rc = MAG_ERR_NOT_FOUND;
        goto out;
    }
    size_t it = 0;
    const mag_strmap_slot *slot;
    while (mag_strmap_next(&b->topics, &it, &slot)) {
        const mag_topic *t = slot->value;
        char tns[MAG_TOPIC_NAME_MAX + 1];
        if (mag_admin_topic_namespace(t->name, t->name_len, tns) &&
            strcmp(tns, mag_buf_cstr(&full)) == 0) {
            mag_buf_append_str(err, "Cannot delete non empty namespace");
            rc = MAG_ERR_CONFLICT;
            goto out;
        }
    }
    if ((rc = meta_write(b, mag_buf_cstr(&key), NULL)) != MAG_OK) {
        rc = storage_error(rc, err);
        goto out;
    }
    b->adm.policy_gen++;
    mag_info("deleted namespace %s", mag_buf_cstr(&full));
out:
    mag_buf_free(&key);
    mag_buf_free(&full);
    return rc;
}

/* ---- retention and backlog quota ----------------------------------------------- */

mag_rc mag_admin_retention_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                               mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        retention_format(p.has_retention ? p.retention_minutes : 0,
                         p.has_retention ? p.retention_mb : 0, out);
    return rc;
}

mag_rc mag_admin_retention_set(mag_broker *b, const char *tenant, const char *ns,
                               const uint8_t *body, size_t len, mag_buf *err)
{
    int64_t minutes, mb;
    mag_rc rc = mag_retention_parse(body, len, &minutes, &mb, err);
    if (rc != MAG_OK)
        return rc;
    struct mag_ns_policy p;
    if ((rc = ns_load(b, tenant, ns, &p, err)) != MAG_OK)
        return rc;
    if (!quota_fits_retention(&p.quota[MAG_QUOTA_DESTINATION_STORAGE], minutes, mb)) {
        mag_buf_append_str(err, "Retention Quota must exceed configured backlog quota for namespace.");
        return MAG_ERR_PRECONDITION;
    }
    p.has_retention = true;
    p.retention_minutes = minutes;
    p.retention_mb = mb;
    rc = ns_store(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        mag_info("namespace %s/%s retention: %" PRId64 " min, %" PRId64 " MB", tenant, ns, minutes, mb);
    return rc;
}

mag_rc mag_admin_retention_remove(mag_broker *b, const char *tenant, const char *ns, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.has_retention = false;
    p.retention_minutes = p.retention_mb = 0;
    return ns_store(b, tenant, ns, &p, err);
}

/* ---- deduplication (issue #7) --------------------------------------------------- */

mag_rc mag_admin_deduplication_set(mag_broker *b, const char *tenant, const char *ns,
                                   const uint8_t *body, size_t len, mag_buf *err)
{
    cJSON *root = cJSON_ParseWithLength((const char *)body, len);
    bool ok = cJSON_IsBool(root), on = cJSON_IsTrue(root);
    cJSON_Delete(root);
    if (!ok) {
        mag_buf_append_str(err, "Request body must be a JSON boolean");
        return MAG_ERR_BAD_REQUEST;
    }
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.has_deduplication = true;
    p.deduplication = on;
    rc = ns_store(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        mag_info("namespace %s/%s deduplication %s", tenant, ns, on ? "on" : "off");
    return rc;
}

mag_rc mag_admin_deduplication_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                   mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        mag_buf_appendf(out, "%s", p.has_deduplication && p.deduplication ? "true" : "false");
    return rc;
}

mag_rc mag_admin_deduplication_remove(mag_broker *b, const char *tenant, const char *ns,
                                      mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.has_deduplication = false;
    p.deduplication = false;
    return ns_store(b, tenant, ns, &p, err);
}

mag_rc mag_admin_backlog_quota_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                   mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        quota_map_format(&p, out);
    return rc;
}

mag_rc mag_admin_backlog_quota_set(mag_broker *b, const char *tenant, const char *ns,
                                   mag_quota_type type, const uint8_t *body, size_t len,
                                   mag_buf *err)
{
    struct mag_backlog_quota q;
    mag_rc rc = mag_backlog_quota_parse(body, len, &q, err);
    if (rc != MAG_OK)
        return rc;
    struct mag_ns_policy p;
    if ((rc = ns_load(b, tenant, ns, &p, err)) != MAG_OK)
        return rc;
    if (type == MAG_QUOTA_DESTINATION_STORAGE && p.has_retention &&
        !quota_fits_retention(&q, p.retention_minutes, p.retention_mb)) {
        mag_buf_append_str(err, "Backlog Quota exceeds configured retention quota for namespace. "
                                "Please increase retention quota and retry");
        return MAG_ERR_PRECONDITION;
    }
    p.quota[type] = q;
    rc = ns_store(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        mag_info("namespace %s/%s backlog quota %s: size %" PRId64 ", time %" PRId64 ", %s", tenant,
                 ns, quota_type_names[type], q.limit_size, q.limit_time, policy_names[q.policy]);
    return rc;
}

mag_rc mag_admin_backlog_quota_remove(mag_broker *b, const char *tenant, const char *ns,
                                      mag_quota_type type, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.quota[type].set = false;
    p.quota[type].limit_size = p.quota[type].limit_time = -1;
    return ns_store(b, tenant, ns, &p, err);
}
