/* authz.h -- authorization decisions: who may produce, consume, administer.
 *
 * Mirrors Pulsar's AuthorizationService + PulsarAuthorizationProvider: super
 * users pass everything; otherwise WebSocket producers need `produce` and
 * consumers/readers `consume` on the topic (namespace grants, topic grants,
 * the partitioned parent's grants, optional wildcard roles, and the
 * subscription's role list); admin REST calls need a super user or, under a
 * tenant, one of its adminRoles. The permissions themselves live in the
 * namespace policies (include/mag/broker/admin.h, permissions.c).
 */
#ifndef MAG_APP_AUTHZ_H
#define MAG_APP_AUTHZ_H

#include <stdbool.h>
#include <stddef.h>

#include "mag/broker/broker.h"
#include "mag/codec/topic_path.h"
#include "mag/rc.h"
#include "mag/util/buf.h"

typedef enum mag_authz_action {
    MAG_AUTHZ_PRODUCE = 0,  /* WebSocket producer */
    MAG_AUTHZ_CONSUME,      /* WebSocket consumer (with its subscription) or reader (none) */
    MAG_AUTHZ_ADMIN         /* administer the topic's tenant: super user or tenant admin */
} mag_authz_action;

/* The configuration the decisions depend on. Owns its strings:
   mag_authz_conf_init / mag_authz_conf_cleanup. */
struct mag_authz_conf {
    bool authentication;    /* authenticationEnabled (admin checks need it, as in Pulsar) */
    bool authorization;     /* authorizationEnabled */
    bool wildcards;         /* authorizationAllowWildcardsMatching */
    char **super_users;     /* superUserRoles, split at ',' and trimmed; empty items dropped */
    size_t n_super_users;
};

/* Fill c (fully overwritten). super_user_roles: comma list, NULL = none (copied). */
void mag_authz_conf_init(struct mag_authz_conf *c, bool authentication, bool authorization,
                         bool wildcards, const char *super_user_roles);
void mag_authz_conf_cleanup(struct mag_authz_conf *c);

/* True if role is one of the super-user roles. */
bool mag_authz_is_super_user(const struct mag_authz_conf *c, const char *role);

/* May `role` do `action` on topic t (sub: the consumer's subscription; NULL or
 * "" for readers and producers)? Always MAG_OK with authorization off. With it
 * on and authentication off the role is "" and, as in Pulsar, only grants can
 * never match it: everything is refused. A topic whose namespace does not
 * exist has no grants (refused), as Pulsar's checkPermission.
 * @param b     the broker, whose namespace records hold the permissions
 * @return MAG_OK or MAG_ERR_FORBIDDEN (WebSocket upgrade: 403 "Not authorized") */
mag_rc mag_authz_check(mag_broker *b, const struct mag_authz_conf *c, const char *role,
                       mag_authz_action action, const mag_topic_name *t, const char *sub);

/* May `role` make this admin REST call? Applies when authentication and
 * authorization are both on (else MAG_OK). /status.html, /metrics and
 * GET /admin/v2/clusters need no role; /admin/v2/namespaces/{tenant}/... and
 * /admin/v2/{persistent|non-persistent}/{tenant}/... and GET
 * /admin/v2/tenants/{tenant} need a super user or an admin role of the
 * tenant; everything else (tenant creation/update/deletion, the tenant list,
 * proxy-stats) a super user.
 * @param path  the request path as received (segments URL-decoded here)
 * @param err   gets Pulsar's reason text on refusal
 * @return MAG_OK; MAG_ERR_AUTH (401: "This operation requires super-user
 *         access" / "Don't have permission to administrate resources on this
 *         tenant"); MAG_ERR_NOT_FOUND "Tenant does not exist" for a tenant
 *         route of an absent tenant (non-super users); storage errors */
mag_rc mag_authz_rest(mag_broker *b, const struct mag_authz_conf *c, const char *role,
                      const char *method, const char *path, mag_buf *err);

#endif /* MAG_APP_AUTHZ_H */
