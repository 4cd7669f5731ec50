# 42-origins-cors.py - which web pages may use the server: the Origin check of WebSocket upgrades
# and REST calls (webServiceAllowedOrigins), CORS headers and preflights on the REST API, the
# headers that keep browsers from sniffing or caching API answers, and the start-up warning for a
# server any web page can reach.

import json
import os
import time

from magnetar_harness import (check, eq, http_get, main, path, shared_server, start_server,
                              test, upgrade_status, uniq)

EVIL = "http://evil.example"
GOOD = "https://good.example:8443"


def rest(srv, target, origin=None, method="GET", extra=None):
    h = dict(extra or {})
    if origin:
        h["Origin"] = origin
    return http_get(srv, target, headers=h, method=method)


def producer_upgrade(srv, origin):
    return upgrade_status(srv, path("producer", uniq("o")), headers={"Origin": origin})


@test
def default_without_authentication_allows_any_origin():
    # Pulsar's WebSocket service checks no origin; Magnetar does the same by default.
    srv = shared_server()
    eq(producer_upgrade(srv, EVIL)[0], 101, "upgrade from another origin")
    st, h, body = rest(srv, "/admin/v2/tenants", EVIL)
    eq(st, 200, "REST from another origin")
    eq(h.get("access-control-allow-origin"), EVIL, "Access-Control-Allow-Origin")
    eq(h.get("vary"), "Origin", "Vary")


@test
def api_answers_are_not_sniffed_or_cached():
    srv = shared_server()
    for target in ("/admin/v2/tenants", "/metrics", "/admin/v2/no-such-thing"):
        _, h, _ = rest(srv, target)
        eq(h.get("x-content-type-options"), "nosniff", "%s X-Content-Type-Options" % target)
        eq(h.get("cache-control"), "no-store", "%s Cache-Control" % target)
    _, h, _ = rest(srv, "/admin/v2/tenants")
    check("access-control-allow-origin" not in h, "no CORS header without an Origin: %r" % h)


@test
def preflight_of_an_allowed_origin():
    srv = shared_server()
    st, h, body = rest(srv, "/admin/v2/persistent/public/default/t", EVIL, method="OPTIONS",
                       extra={"Access-Control-Request-Method": "PUT",
                              "Access-Control-Request-Headers": "authorization, content-type"})
    eq(st, 204, "preflight status")
    eq(h.get("access-control-allow-origin"), EVIL, "preflight Allow-Origin")
    check("PUT" in h.get("access-control-allow-methods", ""), "Allow-Methods %r" % h)
    eq(h.get("access-control-allow-headers"), "authorization, content-type", "Allow-Headers")
    eq(body, b"", "preflight body")


@test
def listed_origins_only():
    srv = shared_server("-o", "webServiceAllowedOrigins=" + GOOD + ", http://other.example/")
    eq(producer_upgrade(srv, GOOD)[0], 101, "upgrade from a listed origin")
    eq(producer_upgrade(srv, "http://other.example")[0], 101, "second listed origin (slash trimmed)")
    st, _, body = producer_upgrade(srv, EVIL)
    eq(st, 403, "upgrade from an unlisted origin")
    check(b"Origin not allowed" in body, "refusal text %r" % body)
    st, h, body = rest(srv, "/admin/v2/tenants", EVIL)
    eq(st, 403, "REST from an unlisted origin")
    eq(json.loads(body), {"reason": "Origin not allowed"}, "REST refusal body")
    check("access-control-allow-origin" not in h, "no CORS header on a refusal")
    st, _, _ = rest(srv, "/admin/v2/tenants", EVIL, method="OPTIONS",
                    extra={"Access-Control-Request-Method": "GET"})
    eq(st, 403, "preflight of an unlisted origin")
    eq(rest(srv, "/admin/v2/tenants", GOOD)[1].get("access-control-allow-origin"), GOOD,
       "listed origin's CORS header")
    # The server's own origin and non-browser clients (no Origin) always pass.
    own = "http://127.0.0.1:%d" % srv.port
    eq(producer_upgrade(srv, own)[0], 101, "upgrade from the server's own origin")
    eq(rest(srv, "/admin/v2/tenants")[0], 200, "REST without an Origin")


@test
def star_allows_any():
    srv = shared_server("-o", "webServiceAllowedOrigins=*")
    eq(producer_upgrade(srv, EVIL)[0], 101, "upgrade with *")


@test
def default_with_authentication_allows_only_the_own_origin():
    d = os.path.join(os.environ.get("TMPDIR", "/tmp"), "mag-origin-secret-%d" % os.getpid())
    with open(d, "wb") as f:
        f.write(os.urandom(32))
    try:
        srv = shared_server("-o", "authenticationEnabled=true", "-o",
                            "authenticationProviders=org.apache.pulsar.broker.authentication."
                            "AuthenticationProviderToken", "-o", "tokenSecretKey=file://" + d)
        st, _, body = producer_upgrade(srv, EVIL)
        eq(st, 403, "another origin with authentication on")
        own = "http://127.0.0.1:%d" % srv.port
        eq(producer_upgrade(srv, own)[0], 401, "own origin goes on to authentication")
    finally:
        os.unlink(d)


def stderr_after_ready(srv):
    time.sleep(0.1)
    return srv.stderr_tail(100)


@test
def warning_when_any_web_page_can_reach_the_server():
    srv = start_server(["-o", "bindAddress=0.0.0.0"])
    check("any web page can publish to and read from this server" in stderr_after_ready(srv),
          "no warning: %s" % srv.stderr_tail())
    srv.stop()
    for args in (["-o", "bindAddress=127.0.0.1"],
                 ["-o", "bindAddress=0.0.0.0", "-o", "webServiceAllowedOrigins=" + GOOD]):
        srv = start_server(args)
        check("any web page" not in stderr_after_ready(srv), "%r warned: %s" % (args, srv.stderr_tail()))
        srv.stop()


if __name__ == "__main__":
    main()
