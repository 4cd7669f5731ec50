/* console.c -- serve the web console (webConsoleEnabled): GET / and its assets.
 *
 * Pulsar has no built-in console; this one is Magnetar's own. The page, script and style
 * (src/app/console/) are compiled into the binary (cmake/embed_files.cmake) and only talk to
 * the public admin REST and WebSocket APIs, so anything it shows can also be scripted.
 * Paths are matched exactly against a fixed table (no file system access, so no traversal):
 *   /                    index.html
 *   /console/console.js  the script (no inline script: the CSP forbids it)
 *   /console/console.css the style
 * Every answer carries a Content-Security-Policy (and, like every answer but an upgrade,
 * X-Content-Type-Options: nosniff, from origin.c).
 * Runs on the event-loop thread like every request handler; the assets are read-only data.
 */
#include "app_internal.h"

#include <string.h>

#include "mag/app/console_assets.h"

/* Response headers of every console answer. connect-src also allows ws:/wss: because
   the WebSocket APIs (producer, reader) are called from the page. */
static const char CONSOLE_HEADERS[] =
    "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cache-Control: no-cache\r\n";

struct console_route {
    const char *path;
    const char *asset;          /* name in mag_console_assets */
    const char *content_type;
};

static const struct console_route routes[] = {
    { "/", "index.html", "text/html; charset=utf-8" },
    { "/console/console.js", "console.js", "text/javascript; charset=utf-8" },
    { "/console/console.css", "console.css", "text/css; charset=utf-8" },
};

static const struct mag_console_asset *find_asset(const char *name)
{
    for (const struct mag_console_asset *a = mag_console_assets; a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

bool mag_console_handle(mag_app *app, mag_http_exchange *ex, const char *path)
{
    if (!app->console_enabled)
        return false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].path, path) != 0)
            continue;
        const struct mag_console_asset *a = find_asset(routes[i].asset);
        if (!a)
            return false;   /* not built in: the router answers 404 */
        if (strcmp(mag_http_method(ex), "GET") != 0) {
            mag_wire_rest_error(ex, MAG_ERR_METHOD, "Method Not Allowed");
            return true;
        }
        mag_http_respond(ex, 200, routes[i].content_type, a->data, a->len, CONSOLE_HEADERS);
        return true;
    }
    return false;
}
