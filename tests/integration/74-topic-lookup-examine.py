# 74-topic-lookup-examine.py - topic lookup and more topic admin calls (issue 11).
#
# GET /lookup/v2/topic/{domain}/{t}/{ns}/{topic} (LookupData with our HTTP URL; 404 for a missing
# namespace, and for a missing topic that may not be auto-created) and .../bundle;
# GET .../examinemessage?initialPosition=earliest|latest&messagePosition=N (payload + X-Pulsar-*
# headers like peek; 405 on a partitioned topic, 412 on an empty one);
# POST .../all_subscription/expireMessages/{s} (every subscription, every partition);
# GET .../backlog (PersistentOfflineTopicStats). Real binary, urllib and python3-websocket.

import time

from magnetar_harness import (check, connect, eq, main, path, produce, recv_n, rest_call,
                              rest_json, shared_server, start_server, test, uniq)


def srv():
    return shared_server()


def tpath(topic, suffix=""):
    return "/admin/v2/persistent/public/default/%s%s" % (topic, "/" + suffix if suffix else "")


@test
def lookup():
    s = srv()
    t = uniq()
    want = {"httpUrl": "http://127.0.0.1:%d" % s.port, "brokerUrlSsl": ""}
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/default/" + t), (200, want),
       "lookup of a topic that may be auto-created")
    produce(s, t, [b"x"])
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/default/" + t), (200, want),
       "lookup of an existing topic")
    eq(rest_json(s, "GET", "/lookup/v2/topic/non-persistent/public/default/" + t)[0], 200,
       "non-persistent")
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/nope/" + t),
       (404, {"reason": "Namespace does not exist"}), "missing namespace")
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/nobody/default/" + t)[0], 404,
       "missing tenant")
    st, h, b = rest_call(s, "GET", "/lookup/v2/topic/persistent/public/default/%s/bundle" % t)
    eq((st, b), (200, b"0x00000000_0xffffffff"), "bundle")


@test
def lookup_without_auto_creation():
    s = start_server(["-o", "allowAutoTopicCreation=false"])
    t = uniq()
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/default/" + t),
       (404, {"reason": "Topic not found"}), "absent topic, auto-creation off")
    eq(rest_call(s, "PUT", tpath(t))[0], 204, "create it")
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/default/" + t)[0], 200, "now found")
    p = uniq()
    eq(rest_call(s, "PUT", tpath(p, "partitions"), 2)[0], 204, "partitioned")
    eq(rest_json(s, "GET", "/lookup/v2/topic/persistent/public/default/%s-partition-1" % p)[0], 200,
       "a partition of a partitioned topic")


@test
def examine_message():
    s = srv()
    t = uniq()
    eq(rest_json(s, "GET", tpath(t, "examinemessage?initialPosition=earliest&messagePosition=1"))[0],
       404, "absent topic")
    eq(rest_call(s, "PUT", tpath(t))[0], 204, "create")
    eq(rest_json(s, "GET", tpath(t, "examinemessage")),
       (412, {"reason": "Could not examine messages due to the total message is zero"}), "empty")
    produce(s, t, [b"m1", b"m2", b"m3", b"m4", b"m5"], params={"producerName": "pn"})

    def ex(q):
        st, h, b = rest_call(s, "GET", tpath(t, "examinemessage" + q))
        eq(st, 200, "examine%s" % q)
        return b
    eq(ex("?initialPosition=earliest&messagePosition=1"), b"m1", "earliest 1")
    eq(ex("?initialPosition=earliest&messagePosition=3"), b"m3", "earliest 3")
    eq(ex("?initialPosition=latest&messagePosition=1"), b"m5", "latest 1")
    eq(ex("?initialPosition=latest&messagePosition=2"), b"m4", "latest 2")
    eq(ex(""), b"m5", "defaults: latest, position 1")
    eq(ex("?initialPosition=earliest&messagePosition=99"), b"m5", "past the end: clamped")
    st, h, b = rest_call(s, "GET", tpath(t, "examinemessage?initialPosition=earliest&messagePosition=2"))
    eq(h.get("X-Pulsar-producer-name"), "pn", "producer header")
    check(h.get("X-Pulsar-Message-ID", "").endswith(":1"), "message id header %r" % h.get("X-Pulsar-Message-ID"))
    check(h.get("X-Pulsar-publish-time"), "publish time header")
    eq(rest_call(s, "GET", tpath(t, "examinemessage?messagePosition=x"))[0], 404, "bad position")
    p = uniq()
    eq(rest_call(s, "PUT", tpath(p, "partitions"), 2)[0], 204, "partitioned")
    eq(rest_json(s, "GET", tpath(p, "examinemessage")),
       (405, {"reason": "Examine messages on a partitioned topic is not allowed, please try examine "
                        "message on specific topic partition"}), "partitioned")


def sub_backlogs(s, t):
    st, stats = rest_json(s, "GET", tpath(t, "stats"))
    eq(st, 200, "stats")
    return {k: v["msgBacklog"] for k, v in stats["subscriptions"].items()}


@test
def expire_on_all_subscriptions():
    s = srv()
    t = uniq()
    for sub in ("a", "b"):
        eq(rest_call(s, "PUT", tpath(t, "subscription/" + sub))[0], 204, "subscription " + sub)
    produce(s, t, [b"old1", b"old2"])
    time.sleep(1.2)
    produce(s, t, [b"new"])
    eq(sub_backlogs(s, t), {"a": 3, "b": 3}, "before")
    eq(rest_call(s, "POST", tpath(t, "all_subscription/expireMessages/1"))[0], 204, "expire > 1 s")
    eq(sub_backlogs(s, t), {"a": 1, "b": 1}, "older than 1 s expired on both")
    c = connect(s, path("consumer", t, "a"))
    eq([m["payload"] for m in recv_n(c, 1)], ["bmV3"], "the consumer gets only the new one")
    c.close()
    eq(rest_call(s, "POST", tpath(t, "all_subscription/expireMessages/0"))[0], 204, "expire all")
    eq(sub_backlogs(s, t)["b"], 0, "everything expired")
    eq(rest_call(s, "POST", tpath(t, "all_subscription/expireMessages/x"))[0], 404, "bad number")
    eq(rest_call(s, "POST", tpath(uniq(), "all_subscription/expireMessages/1"))[0], 404,
       "absent topic")
    p = uniq()
    eq(rest_call(s, "PUT", tpath(p, "partitions"), 2)[0], 204, "partitioned")
    eq(rest_call(s, "PUT", tpath(p, "subscription/s"))[0], 204, "subscription on every partition")
    produce(s, p + "-partition-0", [b"x"])
    produce(s, p + "-partition-1", [b"y"])
    eq(rest_call(s, "POST", tpath(p, "all_subscription/expireMessages/0"))[0], 204, "partitioned")
    st, ps = rest_json(s, "GET", tpath(p, "partitioned-stats"))
    eq(ps["subscriptions"]["s"]["msgBacklog"], 0, "expired on every partition")


@test
def backlog():
    s = srv()
    t = uniq()
    eq(rest_call(s, "PUT", tpath(t, "subscription/a"))[0], 204, "sub a")
    eq(rest_call(s, "PUT", tpath(t, "subscription/b"))[0], 204, "sub b")
    produce(s, t, [b"1", b"2", b"3"])
    eq(rest_call(s, "POST", tpath(t, "subscription/b/skip/2"))[0], 204, "b skips 2")
    before = int(time.time() * 1000)
    st, bl = rest_json(s, "GET", tpath(t, "backlog"))
    eq(st, 200, "backlog")
    eq(sorted(bl), sorted(["storageSize", "totalMessages", "messageBacklog", "brokerName",
                           "topicName", "dataLedgerDetails", "cursorDetails", "statGeneratedAt"]),
       "PersistentOfflineTopicStats fields")
    eq(bl["totalMessages"], 3, "totalMessages")
    eq(bl["messageBacklog"], 4, "sum of the cursors' backlogs")
    check(bl["storageSize"] > 0, "storageSize")
    eq(bl["brokerName"], "127.0.0.1:%d" % s.port, "brokerName")
    eq(bl["topicName"], "public/default/persistent/" + t, "managed ledger name")
    eq(bl["dataLedgerDetails"], [], "ledger details (estimate only)")
    eq(bl["cursorDetails"], {"a": {"cursorBacklog": 3, "cursorLedgerId": -1},
                             "b": {"cursorBacklog": 1, "cursorLedgerId": -1}}, "cursors")
    check(bl["statGeneratedAt"] >= before - 5, "statGeneratedAt is epoch ms")
    eq(rest_json(s, "GET", tpath(uniq(), "backlog")), (404, {"reason": "Topic not found"}), "absent")


if __name__ == "__main__":
    main()
