# 93-web-console.py - the web console's routes (src/app/console.c, webConsoleEnabled).
#
# Pulsar has no built-in console; this one is Magnetar's own. GET / answers the page, its
# script and style load from /console/ with their own content types, and every answer carries
# the Content-Security-Policy (no inline script, connections only to this origin and ws:/wss:),
# X-Content-Type-Options: nosniff and Cache-Control. The page needs no token even with
# authentication on (it asks for one), while the REST API still does. Paths are matched exactly:
# /console/../x, encoded dots and unknown files are 404, other methods 405. With
# webConsoleEnabled=false, / is 404 as before. The browser side is tests/console/ (Chromium).

import re

from magnetar_harness import check, eq, http_get, main, shared_server, start_server, test

ASSETS = {
    "/": "text/html; charset=utf-8",
    "/console/console.js": "text/javascript; charset=utf-8",
    "/console/console.css": "text/css; charset=utf-8",
}


def check_security_headers(h, what):
    csp = h.get("content-security-policy", "")
    check("default-src 'self'" in csp, "%s: CSP default-src 'self' in %r" % (what, csp))
    check("connect-src 'self' ws: wss:" in csp, "%s: CSP connect-src in %r" % (what, csp))
    check("unsafe-inline" not in csp and "unsafe-eval" not in csp, "%s: no unsafe-* in CSP" % what)
    check("script-src 'self'" in csp, "%s: CSP script-src 'self'" % what)
    eq(h.get("x-content-type-options"), "nosniff", "%s X-Content-Type-Options" % what)
    eq(h.get("cache-control"), "no-cache", "%s Cache-Control" % what)


@test
def page_and_assets_served_with_types_and_headers():
    srv = shared_server()
    for target, ctype in ASSETS.items():
        status, h, body = http_get(srv, target)
        eq(status, 200, "GET %s status" % target)
        eq(h.get("content-type"), ctype, "GET %s Content-Type" % target)
        eq(int(h.get("content-length", "-1")), len(body), "GET %s Content-Length" % target)
        check(len(body) > 200, "GET %s has a body (%d bytes)" % (target, len(body)))
        check_security_headers(h, "GET " + target)
    _, _, page = http_get(srv, "/")
    page = page.decode()
    check(page.startswith("<!DOCTYPE html>"), "the page is HTML")
    check('<script src="/console/console.js"' in page, "the page loads its script file")
    check('href="/console/console.css"' in page, "the page loads its style file")
    eq(re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page), [], "no inline <script> in the page")
    check(" style=" not in page and "<style" not in page, "no inline style in the page")
    check("http://" not in page and "https://" not in page, "no external URL (CDN) in the page")
    _, _, js = http_get(srv, "/console/console.js")
    check(b"innerHTML" not in js, "the script never uses innerHTML")


@test
def no_traversal_and_exact_paths():
    srv = shared_server()
    for target in ("/console/../x", "/console/..%2fconsole.js", "/console/", "/console",
                   "/console/index.html", "/console/console.js/", "/console/CONSOLE.JS",
                   "/index.html", "/console/console.js%00", "/console/../../etc/passwd"):
        status, h, body = http_get(srv, target)
        check(status in (400, 404), "GET %s status %d" % (target, status))
        check("content-security-policy" not in h, "GET %s is not a console answer" % target)
    # Dot segments are removed before routing, as Jetty does: these name the script itself.
    for target in ("/console/../console/console.js", "/console/./console.js"):
        status, h, _ = http_get(srv, target)
        eq((status, h.get("content-type")), (200, ASSETS["/console/console.js"]), "GET %s" % target)
    # Percent-encoded dot segments are refused outright (Jetty's ambiguous segment).
    eq(http_get(srv, "/console/%2e%2e/etc/passwd")[0], 400, "encoded dot segment")
    # the query string does not change which file is served
    status, h, _ = http_get(srv, "/console/console.css?v=1")
    eq((status, h.get("content-type")), (200, ASSETS["/console/console.css"]), "css with a query")


@test
def other_methods_are_405():
    srv = shared_server()
    for method in ("POST", "PUT", "DELETE"):
        status, _, body = http_get(srv, "/", method=method)
        eq(status, 405, "%s / status" % method)
        eq(body, b'{"reason":"Method Not Allowed"}', "%s / body" % method)


@test
def disabled_console_is_404():
    srv = start_server(["-o", "webConsoleEnabled=false"])
    for target in ASSETS:
        status, h, body = http_get(srv, target)
        eq(status, 404, "GET %s with webConsoleEnabled=false" % target)
        eq(body, b'{"reason":"Not Found"}', "GET %s body" % target)
        check("content-security-policy" not in h, "no console headers when disabled")
    # the API itself is untouched
    status, _, _ = http_get(srv, "/admin/v2/tenants")
    eq(status, 200, "admin API still answers")


@test
def page_needs_no_token_but_the_api_does():
    srv = start_server(["-o", "authenticationEnabled=true", "-o",
                        "authenticationProviders=org.apache.pulsar.broker.authentication."
                        "AuthenticationProviderToken",
                        "-o", "tokenSecretKey=data:;base64,"
                        "c2VjcmV0LWtleS1mb3ItdGhlLWNvbnNvbGUtdGVzdC0zMi1ieXRlcw=="])
    for target in ASSETS:
        status, _, _ = http_get(srv, target)
        eq(status, 200, "GET %s without a token (the page asks for one)" % target)
    status, _, _ = http_get(srv, "/admin/v2/tenants")
    eq(status, 401, "the REST API still needs a token")


if __name__ == "__main__":
    main()
