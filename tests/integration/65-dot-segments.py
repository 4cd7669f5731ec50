# 65-dot-segments.py - dot segments are removed before routing, as Jetty does (issue 11).
#
# Jetty's URIUtil.canonicalPath runs before a servlet is chosen:
# /ws/v2/producer/persistent/../../etc/passwd is /ws/v2/etc/passwd, no endpoint (404) and no topic.
# A percent-encoded dot segment (%2e%2e) is refused with 400 "Ambiguous URI path segment", ".."
# above the root with 400 "Bad URI"; admin paths are normalised the same way. Dots inside a name
# (NamedEntity allows '.') stay allowed.

from magnetar_harness import (check, connect, eq, main, path, publish, rest_json, shared_server,
                              test, uniq, upgrade_status)


def srv():
    return shared_server()


def topics_of(s, ns="public/default"):
    st, names = rest_json(s, "GET", "/admin/v2/namespaces/%s/topics" % ns)
    eq(st, 200, "topic list")
    return names


@test
def dot_segments_are_removed_before_routing():
    s = srv()
    before = topics_of(s)
    st, _, _ = upgrade_status(s, "/ws/v2/producer/persistent/../../etc/passwd")
    eq(st, 404, "dot segments lead to /ws/v2/etc/passwd: no endpoint")
    st, _, _ = upgrade_status(s, "/ws/v2/producer/persistent/public/default/../../x/y")
    eq(st, 500, "/ws/v2/producer/persistent/x/y has too few segments (extractTopicName)")
    for target in ("/ws/v2/producer/persistent/%2e%2e/%2E%2e/etc/passwd",
                   "/ws/v2/producer/persistent/public/default/%2e%2e",
                   "/ws/v2/producer/persistent/public/default/.%2e"):
        st, _, body = upgrade_status(s, target)
        eq(st, 400, "encoded dot segment in %s" % target)
        eq(body, b"Ambiguous URI path segment", "text for %s" % target)
    st, _, body = upgrade_status(s, "/ws/../../v2/producer/persistent/public/default/t")
    eq((st, body), (400, b"Bad URI"), "above the root")
    eq(topics_of(s), before, "no topic was created")
    # Admin paths: the same normalisation, then the routes.
    eq(rest_json(s, "GET", "/admin/v2/persistent/public/default/../../../clusters"),
       (200, ["standalone"]), "normalised admin path")
    eq(rest_json(s, "GET", "/admin/v2/persistent/public/default/%2e%2e/x/stats"),
       (400, {"reason": "Ambiguous URI path segment"}), "encoded dots in an admin path")
    # Dots inside a name are fine.
    t = "a..b.%s" % uniq()
    ws = connect(s, path("producer", t))
    eq(publish(ws, b"x", context="1")["result"], "ok", "publish on a dotted name")
    ws.close(timeout=1)
    check("persistent://public/default/" + t in topics_of(s), "dotted topic listed")


if __name__ == "__main__":
    main()
