# 75-message-ttl.py - the namespace messageTTL policy, enforced (issue 11).
#
# GET/POST/DELETE /admin/v2/namespaces/{t}/{ns}/messageTTL (204 when unset, 412 for a negative
# TTL, 400 for a non-integer body, 404 for a missing namespace), message_ttl_in_seconds in the
# namespace policies, and the expiry itself: messages older than the TTL are acknowledged on
# every subscription by the periodic check (PersistentTopic.checkMessageExpiry), observed through
# the backlog and a real consumer. messageExpiryCheckIntervalInMinutes=0 makes the check run at
# every 0.5 s admin sweep (Magnetar's test setting); ttlDurationDefaultInSeconds is the broker
# default for namespaces without a policy. The policy survives a restart.

import time

from magnetar_harness import (connect, eq, expect_silence, main, path, produce, recv_n, rest_call,
                              rest_json, restart, start_server, test, uniq, wait_until)

FAST = ["-o", "messageExpiryCheckIntervalInMinutes=0"]


def ns_path(ns, suffix=""):
    return "/admin/v2/namespaces/public/%s%s" % (ns, "/" + suffix if suffix else "")


def new_ns(s):
    ns = uniq("ns")
    eq(rest_call(s, "PUT", ns_path(ns))[0], 204, "namespace")
    return ns


def backlog(s, ns, t, sub):
    st, stats = rest_json(s, "GET", "/admin/v2/persistent/public/%s/%s/stats" % (ns, t))
    eq(st, 200, "stats")
    return stats["subscriptions"][sub]["msgBacklog"]


@test
def ttl_policy_endpoints():
    s = start_server()
    ns = new_ns(s)
    eq(rest_json(s, "GET", ns_path(ns, "messageTTL")), (204, None), "unset")
    eq(rest_json(s, "GET", ns_path(ns))[1]["message_ttl_in_seconds"], None, "policies: null")
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), 120)[0], 204, "set")
    eq(rest_json(s, "GET", ns_path(ns, "messageTTL")), (200, 120), "get")
    eq(rest_json(s, "GET", ns_path(ns))[1]["message_ttl_in_seconds"], 120, "in the policies")
    eq(rest_json(s, "POST", ns_path(ns, "messageTTL"), -1),
       (412, {"reason": "Invalid value for message TTL"}), "negative")
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), "\"abc\"")[0], 400, "not a number")
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), "{}")[0], 400, "an object")
    eq(rest_json(s, "GET", ns_path(ns, "messageTTL")), (200, 120), "unchanged by refused calls")
    eq(rest_json(s, "POST", ns_path("nope", "messageTTL"), 5),
       (404, {"reason": "Namespace does not exist"}), "missing namespace")
    eq(rest_call(s, "POST", ns_path(ns, "retention"),
                 {"retentionTimeInMinutes": 5, "retentionSizeInMB": 5})[0], 204, "another policy")
    eq(rest_json(s, "GET", ns_path(ns, "messageTTL")), (200, 120), "kept by other policy writes")
    s.stop()
    s = restart(s)
    eq(rest_json(s, "GET", ns_path(ns, "messageTTL")), (200, 120), "durable")
    eq(rest_call(s, "DELETE", ns_path(ns, "messageTTL"))[0], 204, "remove")
    eq(rest_json(s, "GET", ns_path(ns, "messageTTL")), (204, None), "removed")


@test
def ttl_expires_messages():
    s = start_server(FAST)
    ns = new_ns(s)
    t = uniq()
    for sub in ("a", "b"):
        eq(rest_call(s, "PUT", "/admin/v2/persistent/public/%s/%s/subscription/%s" % (ns, t, sub))[0],
           204, "subscription " + sub)
    produce(s, t, [b"old1", b"old2"], ns=ns)
    time.sleep(1.5)
    eq(backlog(s, ns, t, "a"), 2, "nothing expires without a TTL")
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), 1)[0], 204, "TTL 1 s")
    wait_until(lambda: backlog(s, ns, t, "a") == 0 and backlog(s, ns, t, "b") == 0, timeout=5,
               what="messages older than the TTL expired on every subscription")
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), 30)[0], 204, "TTL 30 s")
    produce(s, t, [b"fresh"], ns=ns)
    time.sleep(1.2)
    eq(backlog(s, ns, t, "a"), 1, "a message younger than the TTL stays")
    c = connect(s, path("consumer", t, "a", ns=ns))
    eq([m["payload"] for m in recv_n(c, 1)], ["ZnJlc2g="], "the consumer gets only the fresh one")
    expect_silence(c, 0.3)
    c.close()


@test
def ttl_unset_keeps_messages_and_zero_disables():
    s = start_server(FAST)
    ns = new_ns(s)
    t = uniq()
    eq(rest_call(s, "PUT", "/admin/v2/persistent/public/%s/%s/subscription/a" % (ns, t))[0], 204, "sub")
    produce(s, t, [b"x"], ns=ns)
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), 0)[0], 204, "TTL 0 = never")
    time.sleep(1.5)
    eq(backlog(s, ns, t, "a"), 1, "TTL 0 expires nothing")


@test
def broker_default_ttl():
    s = start_server(FAST + ["-o", "ttlDurationDefaultInSeconds=1"])
    ns = new_ns(s)
    t, d = uniq(), uniq()
    eq(rest_call(s, "PUT", "/admin/v2/persistent/public/%s/%s/subscription/a" % (ns, t))[0], 204, "sub")
    eq(rest_call(s, "PUT", "/admin/v2/persistent/public/default/%s/subscription/a" % d)[0], 204, "sub")
    eq(rest_call(s, "POST", ns_path(ns, "messageTTL"), 0)[0], 204, "namespace opts out")
    produce(s, t, [b"x"], ns=ns)
    produce(s, d, [b"y"])
    wait_until(lambda: backlog(s, "default", d, "a") == 0, timeout=5,
               what="the broker default TTL expired the message")
    eq(backlog(s, ns, t, "a"), 1, "the namespace's own TTL (0) wins over the broker default")


if __name__ == "__main__":
    main()
