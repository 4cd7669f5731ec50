/* origin.c -- which web pages may use this server: the Origin check of every request, CORS for
 * the REST API, and the headers that keep browsers from caching or sniffing API answers.
 *
 * A request without an Origin header (any non-browser client) is never refused. A browser's
 * request is allowed when its origin is this server's own (the Origin's host is the Host header),
 * or webServiceAllowedOrigins allows it: "*" for any origin, or a comma list of origins. Unset,
 * it allows any origin without authentication, as Pulsar's WebSocket service (it checks no
 * origin), and only the server's own origin with authentication on. A refused browser request is
 * 403: a refused upgrade with "Origin not allowed", a REST call with {"reason": ...}.
 * Allowed REST calls (/admin/, /lookup/, /metrics) carry Access-Control-Allow-Origin, and
 * preflights (OPTIONS with Access-Control-Request-Method) are answered here with 204.
 */
#include "app_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mag/util/alloc.h"
#include "mag/util/log.h"

void mag_origin_policy_init(struct mag_origin_policy *p, const char *allowed, bool authentication)
{
    memset(p, 0, sizeof *p);
    if (!allowed || !*allowed) {
        p->any = !authentication;
        return;
    }
    for (const char *s = allowed; *s;) {
        size_t n = strcspn(s, ",");
        const char *a = s, *b = s + n;
        while (a < b && *a == ' ')
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '/'))
            b--;
        if (b - a == 1 && *a == '*')
            p->any = true;
        else if (b > a) {
            p->list = mag_xrealloc(p->list, (p->n + 1) * sizeof *p->list);
            p->list[p->n++] = mag_xstrndup(a, (size_t)(b - a));
        }
        s += n + (s[n] == ',');
    }
}

void mag_origin_policy_cleanup(struct mag_origin_policy *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->list[i]);
    free(p->list);
    memset(p, 0, sizeof *p);
}

/* "scheme://host[:port]" whose host[:port] is the request's Host header. */
static bool same_origin(const char *origin, const char *host)
{
    const char *sep = strstr(origin, "://");
    return host && sep && strcasecmp(sep + 3, host) == 0;
}

static bool allowed(const struct mag_origin_policy *p, const char *origin, const char *host)
{
    if (p->any || same_origin(origin, host))
        return true;
    for (size_t i = 0; i < p->n; i++)
        if (strcasecmp(p->list[i], origin) == 0)
            return true;
    return false;
}

static bool is_api(const char *path)
{
    return strncmp(path, "/admin/", 7) == 0 || strncmp(path, "/lookup/", 8) == 0 ||
           strcmp(path, "/metrics") == 0 || strncmp(path, "/metrics/", 9) == 0;
}

/* Header names a preflight may ask for: echoed when they are plain tokens. */
static bool plain_header_list(const char *s)
{
    if (strlen(s) > 512)
        return false;
    for (; *s; s++)
        if (!(*s == ',' || *s == ' ' || *s == '-' || *s == '_' || (*s >= '0' && *s <= '9') ||
              ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z')))
            return false;
    return true;
}

bool mag_app_origin_gate(mag_app *app, mag_http_exchange *ex, const char *path)
{
    bool ws = strncmp(path, "/ws/", 4) == 0;
    if (!ws)
        mag_http_add_headers(ex, is_api(path) ? "X-Content-Type-Options: nosniff\r\n"
                                                "Cache-Control: no-store\r\n"
                                              : "X-Content-Type-Options: nosniff\r\n");
    const char *origin = mag_http_header(ex, "Origin");
    if (!origin)
        return true;
    if (!allowed(&app->origins, origin, mag_http_header(ex, "Host"))) {
        mag_info("refused %s %s: 403 origin %s is not allowed", mag_http_peer(ex), path, origin);
        if (ws)
            mag_wire_reject_upgrade(ex, MAG_ERR_FORBIDDEN, "Origin not allowed");
        else
            mag_wire_rest_error(ex, MAG_ERR_FORBIDDEN, "Origin not allowed");
        return false;
    }
    if (ws || !is_api(path))
        return true;
    mag_buf h = MAG_BUF_INIT;
    mag_buf_appendf(&h, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
                        "Access-Control-Expose-Headers: *\r\n", origin);
    mag_http_add_headers(ex, mag_buf_cstr(&h));
    mag_buf_free(&h);
    if (strcmp(mag_http_method(ex), "OPTIONS") != 0 ||
        !mag_http_header(ex, "Access-Control-Request-Method"))
        return true;
    const char *asked = mag_http_header(ex, "Access-Control-Request-Headers");
    mag_buf pre = MAG_BUF_INIT;
    mag_buf_appendf(&pre, "Access-Control-Allow-Methods: GET, HEAD, POST, PUT, DELETE, OPTIONS\r\n"
                          "Access-Control-Allow-Headers: %s\r\nAccess-Control-Max-Age: 600\r\n",
                    asked && plain_header_list(asked) ? asked : "Authorization, Content-Type");
    mag_http_respond(ex, 204, NULL, "", 0, mag_buf_cstr(&pre));
    mag_buf_free(&pre);
    return false;
}
