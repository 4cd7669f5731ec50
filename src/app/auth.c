/* auth.c -- authentication of HTTP requests and WebSocket upgrades.
 *
 * Mirrors Pulsar's AuthenticationService with AuthenticationProviderToken: the token comes from
 * "Authorization: Bearer <jwt>" or, on WebSocket paths, from the `token` query parameter (the
 * WebSocketHttpServletRequestWrapper behaviour, "Bearer " prefix optional). Whatever check fails
 * (no token, malformed, wrong algorithm, bad signature, expired, no role), the outcome is the
 * same MAG_ERR_AUTH, and the client sees one generic 401 text; the precise reason goes to the
 * server log at debug level only.
 */
#include "app_internal.h"

#include <string.h>
#include <time.h>

#include "mag/util/log.h"

#define BEARER "Bearer "
#define BEARER_LEN (sizeof BEARER - 1)

static int64_t wall_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t')
            return false;
    return true;
}

/* "Bearer <token>" value of the request, per Pulsar's header/query precedence; NULL if none. */
static const char *bearer_value(mag_http_exchange *ex, const mag_query *q, mag_buf *tmp)
{
    const char *h = mag_http_header(ex, "Authorization");
    if (h)
        return h;
    const char *t = q ? mag_query_get(q, "token") : NULL;
    if (!t)
        return NULL;
    if (strncmp(t, BEARER, BEARER_LEN) == 0)
        return t;
    mag_buf_append_str(tmp, BEARER);
    mag_buf_append_str(tmp, t);
    return mag_buf_cstr(tmp);
}

mag_rc mag_app_authenticate(mag_app *app, mag_http_exchange *ex, const mag_query *q, mag_buf *role)
{
    if (!app->auth_enabled)
        return MAG_OK;
    mag_buf tmp = MAG_BUF_INIT;
    mag_rc rc = MAG_ERR_AUTH;
    const char *why = "no token";
    const char *method = mag_http_header(ex, "X-Pulsar-Auth-Method-Name");
    const char *value = bearer_value(ex, q, &tmp);

    if (method && strcmp(method, "token") != 0) {
        why = "unsupported authentication method";
    } else if (value && strncmp(value, BEARER, BEARER_LEN) != 0) {
        why = "Authorization header is not 'Bearer <token>'";
    } else if (value && blank(value + BEARER_LEN)) {
        why = "blank token";
    } else if (value && !app->token_auth) {
        why = "no token provider configured";
    } else if (value) {
        const char *tok = value + BEARER_LEN;
        rc = mag_token_authenticate(app->token_auth, tok, strlen(tok), wall_clock_ms(), role,
                                    &why);
    }
    if (rc != MAG_OK && !method && app->anonymous_role) {
        mag_debug("auth: %s: %s; using anonymousUserRole", mag_http_peer(ex), why);
        mag_buf_append_str(role, app->anonymous_role);
        rc = MAG_OK;
    } else if (rc != MAG_OK) {
        mag_debug("auth: %s: authentication failed: %s", mag_http_peer(ex), why);
    }
    mag_buf_free(&tmp);
    return rc;
}

bool mag_app_rest_needs_auth(const mag_app *app, const char *path)
{
    return app->auth_enabled && strcmp(path, "/status.html") != 0;
}
