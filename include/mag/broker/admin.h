/* admin.h -- broker-side administration behind Pulsar's admin REST API.
 *
 * Tenants and namespaces live in the store's meta database as small JSON
 * records ("tenant/<t>", "ns/<t>/<ns>"); namespace policies (retention,
 * backlog quota) are read from there. Topic, partition and subscription
 * operations act on the live broker state and persist at once, so a 2xx
 * answer means the change is durable. Statistics are computed from the
 * broker's counters; JSON output uses Pulsar's field names.
 *
 * Conventions for every function below: all run on the broker's thread;
 * `out` and `err` are caller-owned buffers the function APPENDS to; on error
 * err holds the text for {"reason": ...} and the returned code picks the HTTP
 * status (wire_errors.c). String arguments are borrowed for the call only.
 */
#ifndef MAG_BROKER_ADMIN_H
#define MAG_BROKER_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mag/broker/broker.h"
#include "mag/codec/topic_path.h"
#include "mag/rc.h"
#include "mag/util/buf.h"

/* ---- namespace policies (pure: JSON in, struct out) ---------------------- */

typedef enum mag_quota_policy {
    MAG_QUOTA_PRODUCER_REQUEST_HOLD = 0,
    MAG_QUOTA_PRODUCER_EXCEPTION,
    MAG_QUOTA_CONSUMER_BACKLOG_EVICTION
} mag_quota_policy;

typedef enum mag_quota_type {
    MAG_QUOTA_DESTINATION_STORAGE = 0,  /* limitSize: backlog bytes */
    MAG_QUOTA_MESSAGE_AGE = 1           /* limitTime: age of the oldest unacked message, s */
} mag_quota_type;

struct mag_backlog_quota {
    bool set;
    int64_t limit_size;         /* bytes; -1 = none */
    int64_t limit_time;         /* seconds; -1 = none */
    mag_quota_policy policy;
};

struct mag_ns_policy {
    bool has_retention;
    int64_t retention_minutes;  /* -1 = unlimited, 0 = none */
    int64_t retention_mb;       /* -1 = unlimited, 0 = none */
    struct mag_backlog_quota quota[2];   /* indexed by mag_quota_type */
    bool has_deduplication;     /* deduplicationEnabled set on the namespace */
    bool deduplication;
    bool has_message_ttl;       /* message_ttl_in_seconds set on the namespace */
    int32_t message_ttl_s;      /* >= 0; 0 = messages never expire */
    bool has_auto_topic;        /* autoTopicCreationOverride set on the namespace */
    struct mag_auto_topic {
        bool allow;             /* allowAutoTopicCreation */
        bool has_type;
        bool partitioned;       /* topicType "partitioned" (else "non-partitioned") */
        bool has_partitions;
        int32_t partitions;     /* defaultNumPartitions */
    } auto_topic;
};

/* Parse a namespace Policies JSON object (the stored record, or the body of
 * PUT /namespaces/{t}/{ns}): "retention_policies" {retentionTimeInMinutes,
 * retentionSizeInMB} and "backlog_quota_map" {type: BacklogQuota}; other
 * fields are ignored, as Jackson ignores the ones Magnetar does not use.
 * len 0 = no body = defaults.
 * @param out  fully overwritten (defaults: no retention, no quota)
 * @return MAG_OK; MAG_ERR_BAD_REQUEST for malformed JSON or wrong types (err set) */
mag_rc mag_ns_policy_parse(const uint8_t *json, size_t len, struct mag_ns_policy *out, mag_buf *err);

/* Append the stored form of p: {"retention_policies":...,"backlog_quota_map":{...}}. */
void mag_ns_policy_format(const struct mag_ns_policy *p, mag_buf *out);

/* Parse a RetentionPolicies body {"retentionTimeInMinutes":m,"retentionSizeInMB":s}
 * (missing fields are 0) and validate it like Pulsar: both >= -1, and a single
 * 0 next to a non-zero limit is refused.
 * @return MAG_OK; MAG_ERR_BAD_REQUEST (malformed) or MAG_ERR_PRECONDITION
 *         (invalid policy), err set */
mag_rc mag_retention_parse(const uint8_t *json, size_t len, int64_t *minutes, int64_t *mb,
                           mag_buf *err);

/* Parse a BacklogQuota body {"limit"|"limitSize":bytes,"limitTime":s,"policy":name}.
 * Absent limits are -1; "policy" is required (producer_request_hold,
 * producer_exception, consumer_backlog_eviction).
 * @return MAG_OK or MAG_ERR_BAD_REQUEST (err set) */
mag_rc mag_backlog_quota_parse(const uint8_t *json, size_t len, struct mag_backlog_quota *out,
                               mag_buf *err);

/* Append one BacklogQuota as Pulsar 2.10 prints it:
   {"limit":n,"limitSize":n,"limitTime":n,"policy":"..."} */
void mag_backlog_quota_format(const struct mag_backlog_quota *q, mag_buf *out);

/* Pulsar's NamedEntity rule for tenant / namespace / cluster names:
   non-empty, only [-=:.A-Za-z0-9_]. */
bool mag_admin_name_valid(const char *s);

/* ---- tenants and namespaces (namespaces.c) ------------------------------- */

/* GET /tenants: sorted JSON array of tenant names. */
mag_rc mag_admin_tenants_list(mag_broker *b, mag_buf *out, mag_buf *err);
/* GET /tenants/{t}: TenantInfo {"adminRoles":[..],"allowedClusters":[..]}.
   cluster: the local cluster name (listed for the bootstrap tenant). 404 if absent. */
mag_rc mag_admin_tenant_get(mag_broker *b, const char *tenant, const char *cluster, mag_buf *out,
                            mag_buf *err);
/* PUT (create = true) / POST (create = false) /tenants/{t} with a TenantInfo
 * body. Errors as Pulsar: 412 invalid name, 412 "Clusters can not be empty",
 * 412 "Clusters do not exist" (only `cluster` and "global" exist), 409 on
 * create when it exists, 404 on update when absent, 400 malformed body. */
mag_rc mag_admin_tenant_put(mag_broker *b, const char *tenant, const char *cluster, bool create,
                            const uint8_t *body, size_t len, mag_buf *err);
/* DELETE /tenants/{t}: 404 absent; 409 while it has namespaces; force -> 405
   (forceDeleteTenantAllowed is off). */
mag_rc mag_admin_tenant_delete(mag_broker *b, const char *tenant, bool force, mag_buf *err);

/* GET /namespaces/{t}: JSON array of "t/ns" names; 404 if the tenant is absent. */
mag_rc mag_admin_namespaces_list(mag_broker *b, const char *tenant, mag_buf *out, mag_buf *err);
/* PUT /namespaces/{t}/{ns} (optional Policies body): 412 invalid name, 404
   tenant absent, 409 exists, 400 malformed body. */
mag_rc mag_admin_namespace_create(mag_broker *b, const char *tenant, const char *ns,
                                  const uint8_t *body, size_t len, mag_buf *err);
/* GET /namespaces/{t}/{ns}: Policies JSON (the fields Magnetar has). */
mag_rc mag_admin_namespace_get(mag_broker *b, const char *tenant, const char *ns,
                               const char *cluster, mag_buf *out, mag_buf *err);
/* DELETE /namespaces/{t}/{ns}: 404 absent; 409 "Cannot delete non empty
   namespace" while topics exist; force -> 405 (forceDeleteNamespaceAllowed off). */
mag_rc mag_admin_namespace_delete(mag_broker *b, const char *tenant, const char *ns, bool force,
                                  mag_buf *err);
/* True if the namespace ("t/ns" or "t/cluster/ns") exists. */
bool mag_admin_namespace_exists(mag_broker *b, const char *ns_full);

/* Retention and backlog quota of a namespace: GET appends the JSON
   (retention: {"retentionTimeInMinutes":m,"retentionSizeInMB":s}, 0/0 when
   unset; quota map: {"destination_storage":{...}}); set/remove persist and
   take effect at the next retention sweep. 404 if the namespace is absent;
   412 when retention and quota conflict (as Pulsar's checkQuotas). */
mag_rc mag_admin_retention_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                               mag_buf *err);
mag_rc mag_admin_retention_set(mag_broker *b, const char *tenant, const char *ns,
                               const uint8_t *body, size_t len, mag_buf *err);
mag_rc mag_admin_retention_remove(mag_broker *b, const char *tenant, const char *ns, mag_buf *err);
/* POST .../namespaces/{t}/{ns}/deduplication with a bare JSON boolean. */
mag_rc mag_admin_deduplication_set(mag_broker *b, const char *tenant, const char *ns,
                                   const uint8_t *body, size_t len, mag_buf *err);
/* {"deduplicationEnabled":bool} when set on the namespace, else 404 as Pulsar (namespace level). */
mag_rc mag_admin_deduplication_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                   mag_buf *err);
mag_rc mag_admin_deduplication_remove(mag_broker *b, const char *tenant, const char *ns,
                                      mag_buf *err);
mag_rc mag_admin_backlog_quota_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                   mag_buf *err);
mag_rc mag_admin_backlog_quota_set(mag_broker *b, const char *tenant, const char *ns,
                                   mag_quota_type type, const uint8_t *body, size_t len,
                                   mag_buf *err);
mag_rc mag_admin_backlog_quota_remove(mag_broker *b, const char *tenant, const char *ns,
                                      mag_quota_type type, mag_buf *err);

/* Message TTL of a namespace (ns_policies.c; NamespacesBase of Pulsar 2.10):
   GET appends the seconds, or nothing when unset (204); POST takes a JSON
   integer (400 otherwise, 412 "Invalid value for message TTL" when < 0);
   DELETE clears it. Messages older than the TTL are expired on every
   subscription by the periodic check (mag_admin_expiry_check). 404 if the
   namespace is absent. */
mag_rc mag_admin_message_ttl_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                 mag_buf *err);
mag_rc mag_admin_message_ttl_set(mag_broker *b, const char *tenant, const char *ns,
                                 const uint8_t *body, size_t len, mag_buf *err);
mag_rc mag_admin_message_ttl_remove(mag_broker *b, const char *tenant, const char *ns, mag_buf *err);
/* AutoTopicCreationOverride of a namespace: GET appends
   {"allowAutoTopicCreation":b,"topicType":"...","defaultNumPartitions":n} or
   nothing when unset (204); POST validates as AutoTopicCreationOverrideImpl.
   validateOverride (412 "Invalid configuration for autoTopicCreationOverride.
   the detail is ..."; an empty or null body clears it); DELETE clears it. */
mag_rc mag_admin_auto_topic_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                mag_buf *err);
mag_rc mag_admin_auto_topic_set(mag_broker *b, const char *tenant, const char *ns,
                                const uint8_t *body, size_t len, mag_buf *err);
mag_rc mag_admin_auto_topic_remove(mag_broker *b, const char *tenant, const char *ns, mag_buf *err);

/* GET /lookup/v2/topic/...: may clients use tn here? 404 "Namespace does not
   exist" (v2 names), 404 "Topic not found" when the topic is absent and may
   not be auto-created (namespace policy, else the broker's). */
mag_rc mag_admin_lookup_check(mag_broker *b, const mag_topic_name *tn, mag_buf *err);

/* ---- permissions (permissions.c) ------------------------------------------------------- */

/* Pulsar's AuthAction values, as bits. */
#define MAG_AUTH_PRODUCE   0x01u
#define MAG_AUTH_CONSUME   0x02u
#define MAG_AUTH_FUNCTIONS 0x04u
#define MAG_AUTH_SOURCES   0x08u
#define MAG_AUTH_SINKS     0x10u
#define MAG_AUTH_PACKAGES  0x20u

typedef enum mag_auth_kind {
    MAG_AUTH_NAMESPACE = 0,     /* namespace_auth: role -> actions */
    MAG_AUTH_TOPIC,             /* destination_auth: topic -> role -> actions */
    MAG_AUTH_SUBSCRIPTION       /* subscription_auth_roles: subscription -> roles */
} mag_auth_kind;

/* One grant. scope: NULL (namespace), the full topic name, or the subscription
   name; actions: 0 for subscription entries. Strings owned by the policies. */
struct mag_auth_grant {
    mag_auth_kind kind;
    char *scope;
    char *role;
    unsigned actions;
};

/* Pulsar's Policies.auth_policies, kept sorted by (kind, scope, role) so the
   JSON comes out in the order of Pulsar's TreeMaps. Owns its grants:
   mag_auth_policies_init / mag_auth_policies_cleanup. */
typedef struct mag_auth_policies {
    struct mag_auth_grant *g;
    size_t n, cap;
} mag_auth_policies;

void mag_auth_policies_init(mag_auth_policies *p);
void mag_auth_policies_cleanup(mag_auth_policies *p);

/* Parse an auth_policies object {"namespace_auth":{role:[actions]},
 * "destination_auth":{topic:{role:[actions]}},"subscription_auth_roles":{sub:[roles]}}
 * (missing members are empty; len 0 = empty). Pure.
 * @param out  initialised by the caller; grants are added to it
 * @return MAG_OK or MAG_ERR_BAD_REQUEST (err set; out keeps what was added) */
mag_rc mag_auth_policies_parse(const uint8_t *json, size_t len, mag_auth_policies *out,
                               mag_buf *err);
/* Append the object above with all three members. Pure. */
void mag_auth_policies_format(const mag_auth_policies *p, mag_buf *out);

/* Parse a JSON array of action names ("produce", "consume", "functions",
 * "sources", "sinks", "packages"; as Jackson reads Set<AuthAction>, null = none).
 * @return MAG_OK or MAG_ERR_BAD_REQUEST for anything else (err set) */
mag_rc mag_auth_actions_parse(const uint8_t *json, size_t len, unsigned *actions, mag_buf *err);

/* Set the actions of (kind, scope, role) (scope NULL for MAG_AUTH_NAMESPACE),
   replacing earlier ones. Strings are copied. */
void mag_auth_grant_set(mag_auth_policies *p, mag_auth_kind kind, const char *scope,
                        const char *role, unsigned actions);
/* Remove (kind, scope, role). Returns whether it was there. */
bool mag_auth_grant_remove(mag_auth_policies *p, mag_auth_kind kind, const char *scope,
                           const char *role);

/* The permission rule of PulsarAuthorizationProvider (super users are the
 * caller's business): action (one MAG_AUTH_* bit) is allowed when the role
 * holds it on the namespace, on the topic, with `wildcards` through a granted
 * role "prefix*" / "*suffix" on either, or (partitions) exactly on the
 * partitioned parent. For consume with a non-empty subscription, a non-empty
 * subscription_auth_roles entry that lacks the role denies first. Pure.
 * @param tn   the topic (tn->full; for a partition also its base name)
 * @param sub  subscription or NULL/"" */
bool mag_auth_policies_allow(const mag_auth_policies *p, const mag_topic_name *tn,
                             const char *role, unsigned action, const char *sub, bool wildcards);

/* Raw auth_policies member of the namespace record (namespaces.c): read appends
   its JSON text (nothing when the namespace has none); write replaces it and
   keeps the other policies. 404 "Namespace does not exist". */
mag_rc mag_admin_ns_auth_read(mag_broker *b, const char *tenant, const char *ns, mag_buf *auth,
                              mag_buf *err);
mag_rc mag_admin_ns_auth_write(mag_broker *b, const char *tenant, const char *ns,
                               const mag_buf *auth, mag_buf *err);

/* The parsed auth policies of a namespace ("tenant", "ns" of a v2 name; ns
   "cluster/ns" for v1). out must be initialised. 404 when absent. */
mag_rc mag_admin_auth_policies_load(mag_broker *b, const char *tenant, const char *ns,
                                    mag_auth_policies *out, mag_buf *err);
/* *is_admin = role is listed in the tenant's adminRoles. 404 "Tenant does not exist". */
mag_rc mag_admin_tenant_is_admin(mag_broker *b, const char *tenant, const char *role,
                                 bool *is_admin, mag_buf *err);

/* GET /namespaces/{t}/{ns}/permissions: {role:[actions]} of namespace_auth. */
mag_rc mag_admin_permissions_get(mag_broker *b, const char *tenant, const char *ns, mag_buf *out,
                                 mag_buf *err);
/* POST /namespaces/{t}/{ns}/permissions/{role} with a JSON array of actions
   (400 on an unknown action); the set replaces the role's earlier one. */
mag_rc mag_admin_permission_grant(mag_broker *b, const char *tenant, const char *ns,
                                  const char *role, const uint8_t *body, size_t len, mag_buf *err);
/* DELETE /namespaces/{t}/{ns}/permissions/{role} (no-op when not granted). */
mag_rc mag_admin_permission_revoke(mag_broker *b, const char *tenant, const char *ns,
                                   const char *role, mag_buf *err);
/* GET /namespaces/{t}/{ns}/permissions/subscription: {sub:[roles]}. */
mag_rc mag_admin_sub_permissions_get(mag_broker *b, const char *tenant, const char *ns,
                                     mag_buf *out, mag_buf *err);
/* POST /namespaces/{t}/{ns}/permissions/subscription/{sub} with a JSON array of
   roles: replaces the subscription's role set (400 when not an array of strings). */
mag_rc mag_admin_sub_permission_grant(mag_broker *b, const char *tenant, const char *ns,
                                      const char *sub, const uint8_t *body, size_t len,
                                      mag_buf *err);
/* DELETE /namespaces/{t}/{ns}/permissions/{sub}/{role} (no-op when absent). */
mag_rc mag_admin_sub_permission_revoke(mag_broker *b, const char *tenant, const char *ns,
                                       const char *sub, const char *role, mag_buf *err);
/* GET /{domain}/{t}/{ns}/{topic}/permissions: namespace grants united with the
   topic's own, {role:[actions]}. */
mag_rc mag_admin_topic_permissions_get(mag_broker *b, const mag_topic_name *tn, mag_buf *out,
                                       mag_buf *err);
/* POST .../{topic}/permissions/{role} with a JSON array of actions. */
mag_rc mag_admin_topic_permission_grant(mag_broker *b, const mag_topic_name *tn, const char *role,
                                        const uint8_t *body, size_t len, mag_buf *err);
/* DELETE .../{topic}/permissions/{role}: removes the role from the topic and
   its partitions; 412 "Permissions are not set at the topic level" when the
   topic itself has no grant for it. */
mag_rc mag_admin_topic_permission_revoke(mag_broker *b, const mag_topic_name *tn, const char *role,
                                         mag_buf *err);

/* ---- topics (admin_ops.c) -------------------------------------------------- */

/* GET /{domain}/{t}/{ns}: JSON array of the full names of the namespace's
   topics in that domain: non-partitioned ones and the partitions of
   partitioned ones (partitioned = false), or only partitioned topics
   (partitioned = true). 404 if the namespace is absent. */
mag_rc mag_admin_topics_list(mag_broker *b, bool persistent, const char *tenant, const char *ns,
                             bool partitioned, mag_buf *out, mag_buf *err);
/* PUT /{domain}/{t}/{ns}/{topic}: create a non-partitioned topic even when
   auto-creation is off. 404 namespace absent, 409 "This topic already exists". */
mag_rc mag_admin_topic_create(mag_broker *b, const mag_topic_name *tn, mag_buf *err);
/* PUT .../partitions with N: 406 when N <= 0, 409 when a topic of that name
   exists, 404 namespace absent. */
mag_rc mag_admin_partitioned_create(mag_broker *b, const mag_topic_name *tn, int64_t n,
                                    mag_buf *err);
/* POST .../partitions with N: grow only. 404 not partitioned, 406 N <= 0,
   409 N not above the current count. */
mag_rc mag_admin_partitions_update(mag_broker *b, const mag_topic_name *tn, int64_t n,
                                   mag_buf *err);
/* GET .../partitions: {"partitions":N} (0 for a non-partitioned or absent topic). */
mag_rc mag_admin_partitions_get(mag_broker *b, const mag_topic_name *tn, mag_buf *out,
                                mag_buf *err);
/* POST .../createMissedPartitions: create the partition topics a partitioned
   topic lacks. 404 if not partitioned. */
mag_rc mag_admin_create_missed_partitions(mag_broker *b, const mag_topic_name *tn, mag_buf *err);
/* DELETE .../{topic} (partitioned = false) or .../partitions (true).
   Without force, 412 "Topic has active producers/subscriptions" while
   producers or consumers are attached; with force they are detached first
   (their on_closed events fire). 404 absent; 409 when a non-partitioned delete
   names a partitioned topic. Entries, cursors and records go in one transaction. */
mag_rc mag_admin_topic_delete(mag_broker *b, const mag_topic_name *tn, bool partitioned, bool force,
                              mag_buf *err);
/* PUT .../unload: 204 for an existing topic (nothing to unload), else 404. */
mag_rc mag_admin_topic_unload(mag_broker *b, const mag_topic_name *tn, mag_buf *err);

/* GET .../stats: TopicStats JSON (rates, counters, storageSize, backlogSize,
   publishers[], subscriptions{}). 404 absent or partitioned. */
mag_rc mag_admin_topic_stats(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err);
/* GET .../partitioned-stats: the partitions' stats summed, "metadata":
   {"partitions":N}, and "partitions":{name: stats} when per_partition. 404
   when the topic is not partitioned. */
mag_rc mag_admin_partitioned_stats(mag_broker *b, const mag_topic_name *tn, bool per_partition,
                                   mag_buf *out, mag_buf *err);
/* GET .../internalStats: Magnetar's own storage view with Pulsar's field names
   where they fit (one "ledger" per topic: its id). */
mag_rc mag_admin_internal_stats(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err);
/* GET .../lastMessageId: {"ledgerId":L,"entryId":E,"partitionIndex":P}
   (entryId -1 when the topic is empty). */
mag_rc mag_admin_last_message_id(mag_broker *b, const mag_topic_name *tn, mag_buf *out,
                                 mag_buf *err);
/* POST .../terminate: commit what is staged, mark the topic terminated
   (durably) and append its last message id as above. 405 on a partitioned
   topic, 404 absent. Idempotent. */
mag_rc mag_admin_terminate(mag_broker *b, const mag_topic_name *tn, mag_buf *out, mag_buf *err);

/* ---- subscriptions (admin_ops.c) ----------------------------------------- */

typedef enum mag_position_kind {
    MAG_POSITION_LATEST = 0,
    MAG_POSITION_EARLIEST,
    MAG_POSITION_ID
} mag_position_kind;

typedef struct mag_admin_position {
    mag_position_kind kind;
    uint64_t ledger, entry;     /* MAG_POSITION_ID */
    bool excluded;              /* start AFTER the id (resetcursor "isExcluded") */
} mag_admin_position;

/* Parse a MessageId JSON body {"ledgerId":L,"entryId":E,"partitionIndex":P,
 * "batchIndex":B,"isExcluded":bool}. Long.MAX/Long.MAX = latest, -1/-1 =
 * earliest; len 0 = latest. Pure.
 * @return MAG_OK or MAG_ERR_BAD_REQUEST (err set) */
mag_rc mag_admin_position_parse(const uint8_t *json, size_t len, mag_admin_position *out,
                                mag_buf *err);

/* GET .../subscriptions: JSON array of the durable subscription names, over
   all partitions of a partitioned topic. 404 absent. */
mag_rc mag_admin_subscriptions_list(mag_broker *b, const mag_topic_name *tn, mag_buf *out,
                                    mag_buf *err);
/* PUT .../subscription/{sub}: a durable Exclusive subscription starting AT
   the position (latest = after the last message). On a partitioned topic, on
   every partition. The topic is auto-created when allowed. 409 "Subscription
   already exists for topic". */
mag_rc mag_admin_subscription_create(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                     const mag_admin_position *pos, mag_buf *err);
/* DELETE .../subscription/{sub}: 404 absent; 412 "Subscription has active
   connected consumers" unless force (consumers are then detached). */
mag_rc mag_admin_subscription_delete(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                     bool force, mag_buf *err);
/* POST .../skip/{n} (n >= 0) and .../skip_all (n < 0): acknowledge the next n
   (all) messages of the backlog. */
mag_rc mag_admin_subscription_skip(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                   int64_t n, mag_buf *err);
/* POST .../expireMessages/{seconds}: acknowledge every message published
   more than `seconds` ago. */
mag_rc mag_admin_subscription_expire(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                     int64_t seconds, mag_buf *err);
/* POST .../resetcursor/{timestamp}: the next message delivered is the first
   one published at or after timestamp_ms (the end when none). */
mag_rc mag_admin_subscription_reset_time(mag_broker *b, const mag_topic_name *tn, const char *sub,
                                         int64_t timestamp_ms, mag_buf *err);
/* POST .../resetcursor with a MessageId body: the next message delivered is
   pos (after it when pos->excluded). */
mag_rc mag_admin_subscription_reset_position(mag_broker *b, const mag_topic_name *tn,
                                             const char *sub, const mag_admin_position *pos,
                                             mag_buf *err);

/* A stored message copied out for the peek endpoints. Every buffer is owned
   by the struct: mag_admin_message_init / mag_admin_message_cleanup. */
typedef struct mag_admin_message {
    uint64_t ledger, entry;
    int32_t partition;
    int64_t publish_time_ms, event_time_ms, deliver_at_ms, sequence_id;
    uint32_t batch_size;
    bool has_key;
    bool encrypted;             /* client-side encrypted payload (pass-through) */
    mag_buf key, producer_name, properties_json, payload;   /* payload decompressed */
} mag_admin_message;

void mag_admin_message_init(mag_admin_message *m);
void mag_admin_message_cleanup(mag_admin_message *m);

/* GET .../subscription/{sub}/position/{n}: the n-th (1-based) unacked message
   of the subscription's backlog. 412 n < 1; 404 "Message not found"; 405 on a
   partitioned topic. */
mag_rc mag_admin_peek(mag_broker *b, const mag_topic_name *tn, const char *sub, int64_t n,
                      mag_admin_message *msg, mag_buf *err);
/* GET .../ledger/{l}/entry/{e}: one stored message by id. 404 when absent. */
mag_rc mag_admin_get_message(mag_broker *b, const mag_topic_name *tn, uint64_t ledger,
                             uint64_t entry, mag_admin_message *msg, mag_buf *err);

/* ---- message-level operations and health (admin_messages.c) ---------------- */

/* GET .../examinemessage?initialPosition=earliest|latest&messagePosition=N:
   the N-th (1-based, clamped to the stored range) message from the first
   (earliest) or from the last (latest) stored one. 405 on a partitioned or
   non-persistent topic, 412 "Could not examine messages due to the total
   message is zero", 404 absent. */
mag_rc mag_admin_examine(mag_broker *b, const mag_topic_name *tn, bool earliest, int64_t position,
                         mag_admin_message *msg, mag_buf *err);
/* POST .../all_subscription/expireMessages/{seconds}: on every subscription
   (of every partition), acknowledge what was published more than `seconds`
   ago; persisted before the reply. 404 absent. */
mag_rc mag_admin_expire_all_subscriptions(mag_broker *b, const mag_topic_name *tn, int64_t seconds,
                                          mag_buf *err);
/* GET .../backlog: PersistentOfflineTopicStats {"storageSize","totalMessages",
   "messageBacklog" (sum over durable subscriptions),"brokerName","topicName"
   (managed-ledger name),"dataLedgerDetails":[],"cursorDetails":{sub:
   {"cursorBacklog","cursorLedgerId":-1}},"statGeneratedAt":ms}. 404 absent. */
mag_rc mag_admin_backlog(mag_broker *b, const mag_topic_name *tn, const char *broker_name,
                         mag_buf *out, mag_buf *err);
/* GET /brokers/health: write a fresh value to the store's meta database,
   commit it (durably) and read it back. MAG_OK or MAG_ERR_INTERNAL (err set). */
mag_rc mag_admin_health_check(mag_broker *b, mag_buf *err);

/* ---- handles, for the WebSocket proxy statistics --------------------------- */

/* Full topic name of a producer's / consumer's topic (valid while the handle is). */
const char *mag_admin_producer_topic(const mag_producer *p);
const char *mag_admin_consumer_topic(const mag_consumer *c);

/* ---- metrics (metrics.c) ----------------------------------------------- */

/* Append the broker's Prometheus text (exposition format 0.0.4): Pulsar's
   per-topic metric names with cluster/namespace/topic labels, plus
   Magnetar's commit, retention and storage metrics. */
mag_rc mag_admin_metrics_text(mag_broker *b, const char *cluster, mag_buf *out);

#endif /* MAG_BROKER_ADMIN_H */
