/* app.h -- the application layer: HTTP routing, Pulsar WebSocket endpoints, admin REST.
 *
 * The app sits between the network stack (mag_http_server) and the broker.
 * server.c creates one app and passes mag_app_on_request to the HTTP server;
 * every request (upgrade or plain HTTP) then flows through the router in
 * src/app/router.c to an endpoint handler (one file per endpoint).
 */
#ifndef MAG_APP_APP_H
#define MAG_APP_APP_H

#include <stdbool.h>

#include "mag/auth/token.h"
#include "mag/broker/broker.h"
#include "mag/net/http_server.h"

typedef struct mag_app mag_app;

struct mag_app_opts {
    mag_broker *broker;         /* borrowed; outlives the app */
    const char *cluster_name;   /* clusterName (copied) */
    /* Authentication (Pulsar's AuthenticationProviderToken). With authentication_enabled every
       WebSocket upgrade and admin REST call must carry a valid token (Authorization: Bearer, or
       ?token= on /ws/) unless anonymous_user_role is set; failures answer 401. */
    bool authentication_enabled;          /* authenticationEnabled */
    const mag_token_auth *token_auth;     /* borrowed, outlives the app; NULL = no token provider
                                             configured (every token is refused) */
    const char *anonymous_user_role;      /* anonymousUserRole (copied); NULL/"" = none */
    /* Authorization (Pulsar's PulsarAuthorizationProvider, authz.c). With authorization_enabled,
       WebSocket producers need `produce` and consumers/readers `consume` (403 "Not authorized");
       with authentication too, admin REST calls need a super user or a tenant admin role (401). */
    bool authorization_enabled;           /* authorizationEnabled */
    const char *super_user_roles;         /* superUserRoles, comma list (copied); NULL = none */
    bool authorization_allow_wildcards;   /* authorizationAllowWildcardsMatching */
    /* webServiceAllowedOrigins (origin.c): NULL/"" = any origin without authentication, the
       server's own origin only with it; "*" = any; else a comma list of origins. */
    const char *allowed_origins;
    const char *status_file_path;         /* statusFilePath (copied); NULL/"" = /status.html is
                                             always 200 OK */
    const char *runtime_config;           /* mag_config_dump() text (copied), for
                                             /admin/v2/brokers/configuration/runtime; NULL = none */
    bool web_console_enabled;             /* webConsoleEnabled: serve the console at / (console.c) */
};

/* Returns a new app (caller frees with mag_app_free). */
mag_app *mag_app_new(const struct mag_app_opts *o);
void mag_app_free(mag_app *app);
/* The address the app reports (cluster serviceUrl, lookups, active brokers),
   once the listeners are bound: host and ports (tls_port 0 = no TLS). */
void mag_app_set_address(mag_app *app, const char *host, int port, int tls_port);
/* The mag_http_request_fn for mag_http_server_new (ctx = the app). */
void mag_app_on_request(void *ctx, mag_http_exchange *ex);

#endif /* MAG_APP_APP_H */
