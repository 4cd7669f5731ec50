/* ns_policies.c -- the namespace message TTL and auto topic creation policies.
 *
 * Both are members of the namespace record that namespaces.c stores
 * ("message_ttl_in_seconds", "autoTopicCreationOverride", Pulsar's Policies
 * field names), parsed and printed here so namespaces.c stays one file.
 * REST semantics follow NamespacesBase.internalSetNamespaceMessageTTL /
 * internalSetAutoTopicCreation of Pulsar 2.10: GET of an unset policy is 204
 * (no body), POST validates (412), DELETE clears. The auto-creation decision
 * (mag_admin_auto_create) is BrokerService.isAllowAutoTopicCreation /
 * isDefaultTopicTypePartitioned / getDefaultNumPartitions: the namespace's
 * override when present, else the broker configuration. All on the broker thread.
 */
#include "broker_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "mag/util/log.h"
#include "mag/util/str.h"

#define TYPE_PARTITIONED "partitioned"
#define TYPE_NON_PARTITIONED "non-partitioned"

static void err_text(mag_buf *err, const char *text)
{
    if (err)
        mag_buf_append_str(err, text);
}

/* A JSON number (integral, Jackson also truncates floats) or numeric string
   that fits an int32. */
static bool json_int(const cJSON *item, int32_t *out)
{
    if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (!(d >= -2147483648.0 && d < 2147483648.0))
            return false;
        *out = (int32_t)d;     /* truncates toward zero, as Jackson */
        return true;
    }
    if (cJSON_IsString(item))
        return mag_parse_java_int(item->valuestring, out, NULL) == MAG_OK;
    return false;
}

/* AutoTopicCreationOverride from a JSON object (as Jackson reads it: a
   missing or null allowAutoTopicCreation is false). */
static mag_rc auto_topic_from_json(const cJSON *o, struct mag_auto_topic *a, mag_buf *err)
{
    memset(a, 0, sizeof *a);
    if (!cJSON_IsObject(o)) {
        err_text(err, "AutoTopicCreationOverride must be a JSON object");
        return MAG_ERR_BAD_REQUEST;
    }
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(o, "allowAutoTopicCreation");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(o, "topicType");
    const cJSON *parts = cJSON_GetObjectItemCaseSensitive(o, "defaultNumPartitions");
    if ((allow && !cJSON_IsNull(allow) && !cJSON_IsBool(allow)) ||
        (type && !cJSON_IsNull(type) && !cJSON_IsString(type))) {
        err_text(err, "Invalid AutoTopicCreationOverride");
        return MAG_ERR_BAD_REQUEST;
    }
    a->allow = cJSON_IsTrue(allow);
    if (cJSON_IsString(type)) {
        if (strcasecmp(type->valuestring, TYPE_PARTITIONED) != 0 &&
            strcasecmp(type->valuestring, TYPE_NON_PARTITIONED) != 0) {
            if (a->allow) {     /* validateOverride checks the type only then */
                if (err)
                    mag_buf_appendf(err, "Unknown topic type [%s]", type->valuestring);
                return MAG_ERR_PRECONDITION;
            }
        } else {
            a->has_type = true;
            /* TopicType.PARTITIONED.toString().equals(topicType): exact spelling */
            a->partitioned = strcmp(type->valuestring, TYPE_PARTITIONED) == 0;
        }
    }
    if (parts && !cJSON_IsNull(parts)) {
        if (!json_int(parts, &a->partitions)) {
            err_text(err, "Invalid AutoTopicCreationOverride");
            return MAG_ERR_BAD_REQUEST;
        }
        a->has_partitions = true;
    }
    return MAG_OK;
}

/* AutoTopicCreationOverrideImpl.validateOverride */
static mag_rc auto_topic_validate(const struct mag_auto_topic *a, mag_buf *detail)
{
    if (!a->allow)
        return MAG_OK;
    if (!a->has_type) {
        mag_buf_append_str(detail, "Unknown topic type [null]");
        return MAG_ERR_PRECONDITION;
    }
    if (a->partitioned) {
        if (!a->has_partitions) {
            mag_buf_append_str(detail, "[defaultNumPartitions] cannot be null when the type is "
                                       "partitioned.");
            return MAG_ERR_PRECONDITION;
        }
        if (a->partitions <= 0) {
            mag_buf_append_str(detail, "[defaultNumPartitions] cannot be less than 1 for partition "
                                       "type.");
            return MAG_ERR_PRECONDITION;
        }
    } else if (a->has_partitions) {
        mag_buf_append_str(detail, "[defaultNumPartitions] is not allowed to be set when the type "
                                   "is non-partition.");
        return MAG_ERR_PRECONDITION;
    }
    return MAG_OK;
}

static void auto_topic_format(const struct mag_auto_topic *a, mag_buf *out)
{
    mag_buf_appendf(out, "{\"allowAutoTopicCreation\":%s", a->allow ? "true" : "false");
    if (a->has_type)
        mag_buf_appendf(out, ",\"topicType\":\"%s\"",
                        a->partitioned ? TYPE_PARTITIONED : TYPE_NON_PARTITIONED);
    if (a->has_partitions)
        mag_buf_appendf(out, ",\"defaultNumPartitions\":%" PRId32, a->partitions);
    mag_buf_append_byte(out, '}');
}

mag_rc mag_ns_policy_parse_more(const struct cJSON *root, struct mag_ns_policy *out, mag_buf *err)
{
    const cJSON *ttl = cJSON_GetObjectItemCaseSensitive(root, "message_ttl_in_seconds");
    if (ttl && !cJSON_IsNull(ttl)) {
        if (!json_int(ttl, &out->message_ttl_s)) {
            err_text(err, "Invalid message_ttl_in_seconds");
            return MAG_ERR_BAD_REQUEST;
        }
        out->has_message_ttl = true;
    }
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(root, "autoTopicCreationOverride");
    if (at && !cJSON_IsNull(at)) {
        mag_rc rc = auto_topic_from_json(at, &out->auto_topic, err);
        if (rc != MAG_OK)
            return rc == MAG_ERR_PRECONDITION ? MAG_ERR_BAD_REQUEST : rc;
        out->has_auto_topic = true;
    }
    return MAG_OK;
}

void mag_ns_policy_format_more(const struct mag_ns_policy *p, mag_buf *out)
{
    if (p->has_message_ttl)
        mag_buf_appendf(out, ",\"message_ttl_in_seconds\":%" PRId32, p->message_ttl_s);
    if (p->has_auto_topic) {
        mag_buf_append_str(out, ",\"autoTopicCreationOverride\":");
        auto_topic_format(&p->auto_topic, out);
    }
}

void mag_ns_policy_format_get(const struct mag_ns_policy *p, mag_buf *out)
{
    if (p->has_message_ttl)
        mag_buf_appendf(out, ",\"message_ttl_in_seconds\":%" PRId32, p->message_ttl_s);
    else
        mag_buf_append_str(out, ",\"message_ttl_in_seconds\":null");
    mag_buf_append_str(out, ",\"autoTopicCreationOverride\":");
    if (p->has_auto_topic)
        auto_topic_format(&p->auto_topic, out);
    else
        mag_buf_append_str(out, "null");
}

/* ---- message TTL ----------------------------------------------------------------------- */

mag_rc mag_admin_message_ttl_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                 mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = mag_admin_ns_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK && p.has_message_ttl)
        mag_buf_appendf(out, "%" PRId32, p.message_ttl_s);
    return rc;
}

mag_rc mag_admin_message_ttl_set(mag_broker *b, const char *tenant, const char *ns,
                                 const uint8_t *body, size_t len, mag_buf *err)
{
    cJSON *root = cJSON_ParseWithLength((const char *)body, len);
    int32_t ttl = 0;
    bool ok = root && json_int(root, &ttl);
    cJSON_Delete(root);
    if (!ok) {
        mag_buf_append_str(err, "Request body must be the message TTL in seconds (an integer)");
        return MAG_ERR_BAD_REQUEST;
    }
    if (ttl < 0) {
        mag_buf_append_str(err, "Invalid value for message TTL");
        return MAG_ERR_PRECONDITION;
    }
    struct mag_ns_policy p;
    mag_rc rc = mag_admin_ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.has_message_ttl = true;
    p.message_ttl_s = ttl;
    rc = mag_admin_ns_store(b, tenant, ns, &p, err);
    if (rc == MAG_OK)
        mag_info("namespace %s/%s message TTL: %" PRId32 " s", tenant, ns, ttl);
    return rc;
}

mag_rc mag_admin_message_ttl_remove(mag_broker *b, const char *tenant, const char *ns, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = mag_admin_ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.has_message_ttl = false;
    p.message_ttl_s = 0;
    return mag_admin_ns_store(b, tenant, ns, &p, err);
}

/* ---- auto topic creation -------------------------------------------------------------- */

mag_rc mag_admin_auto_topic_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = mag_admin_ns_load(b, tenant, ns, &p, err);
    if (rc == MAG_OK && p.has_auto_topic)
        auto_topic_format(&p.auto_topic, out);
    return rc;
}

mag_rc mag_admin_auto_topic_set(mag_broker *b, const char *tenant, const char *ns,
                                const uint8_t *body, size_t len, mag_buf *err)
{
    struct mag_auto_topic a;
    mag_rc rc = MAG_OK;
    bool clear = false;
    cJSON *root = len ? cJSON_ParseWithLength((const char *)body, len) : NULL;
    if (len == 0 || cJSON_IsNull(root)) {
        clear = true;       /* a null override: Pulsar stores null (= remove) */
    } else if (!root) {
        mag_buf_append_str(err, "Failed to parse the request body as a JSON object");
        rc = MAG_ERR_BAD_REQUEST;
    } else {
        mag_buf detail = MAG_BUF_INIT;
        rc = auto_topic_from_json(root, &a, &detail);
        if (rc == MAG_OK)
            rc = auto_topic_validate(&a, &detail);
        if (rc == MAG_ERR_PRECONDITION)
            mag_buf_append_str(err, "Invalid configuration for autoTopicCreationOverride. the detail is ");
        mag_buf_append(err, detail.data, detail.len);
        mag_buf_free(&detail);
    }
    cJSON_Delete(root);
    if (rc != MAG_OK)
        return rc;
    struct mag_ns_policy p;
    if ((rc = mag_admin_ns_load(b, tenant, ns, &p, err)) != MAG_OK)
        return rc;
    p.has_auto_topic = !clear;
    if (!clear)
        p.auto_topic = a;
    rc = mag_admin_ns_store(b, tenant, ns, &p, err);
    if (rc == MAG_OK && !clear)
        mag_info("namespace %s/%s auto topic creation: %s", tenant, ns,
                 !a.allow ? "off" : a.partitioned ? "partitioned" : "non-partitioned");
    return rc;
}

mag_rc mag_admin_auto_topic_remove(mag_broker *b, const char *tenant, const char *ns, mag_buf *err)
{
    struct mag_ns_policy p;
    mag_rc rc = mag_admin_ns_load(b, tenant, ns, &p, err);
    if (rc != MAG_OK)
        return rc;
    p.has_auto_topic = false;
    memset(&p.auto_topic, 0, sizeof p.auto_topic);
    return mag_admin_ns_store(b, tenant, ns, &p, err);
}

void mag_admin_auto_create(mag_broker *b, const mag_topic_name *tn, bool *allow,
                           uint32_t *partitions)
{
    *allow = b->opts.allow_auto_topic_creation;
    *partitions = b->opts.auto_topic_partitions;
    if (b->adm.force_create) {
        *allow = true;
        *partitions = 0;
        return;
    }
    mag_buf ns = MAG_BUF_INIT, err = MAG_BUF_INIT;
    if (tn->cluster[0])
        mag_buf_appendf(&ns, "%s/%s", tn->cluster, tn->ns);
    else
        mag_buf_append_str(&ns, tn->ns);
    struct mag_ns_policy p;
    if (mag_admin_ns_load(b, tn->tenant, mag_buf_cstr(&ns), &p, &err) == MAG_OK && p.has_auto_topic) {
        *allow = p.auto_topic.allow;
        *partitions = p.auto_topic.allow && p.auto_topic.partitioned && p.auto_topic.partitions > 0
                          ? (uint32_t)p.auto_topic.partitions : 0;
    }
    mag_buf_free(&ns);
    mag_buf_free(&err);
}

mag_rc mag_admin_lookup_check(mag_broker *b, const mag_topic_name *tn, mag_buf *err)
{
    mag_buf ns = MAG_BUF_INIT;
    if (tn->cluster[0])
        mag_buf_appendf(&ns, "%s/%s/%s", tn->tenant, tn->cluster, tn->ns);
    else
        mag_buf_appendf(&ns, "%s/%s", tn->tenant, tn->ns);
    bool ns_ok = tn->cluster[0] || mag_admin_namespace_exists(b, mag_buf_cstr(&ns));
    mag_buf_free(&ns);
    if (!ns_ok) {
        mag_buf_append_str(err, "Namespace does not exist");
        return MAG_ERR_NOT_FOUND;
    }
    if (mag_strmap_get(&b->topics, tn->full, strlen(tn->full)))
        return MAG_OK;
    if (tn->partition >= 0) {
        const mag_topic *parent = mag_strmap_get(&b->topics, tn->full, tn->base_len);
        if (parent && (uint32_t)tn->partition < parent->rec.partitions)
            return MAG_OK;
    }
    bool allow;
    uint32_t partitions;
    mag_admin_auto_create(b, tn, &allow, &partitions);
    if (allow)
        return MAG_OK;
    mag_buf_append_str(err, "Topic not found");
    return MAG_ERR_NOT_FOUND;
}
