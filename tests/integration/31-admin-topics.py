# 31-admin-topics.py - admin REST on topics and partitioned topics (PersistentTopicsBase, issue #4).
#
# Create/list/delete (?force) non-partitioned topics, partitioned topics (PUT a bare integer, GET
# {"partitions":N}, POST to grow, DELETE .../partitions), TopicStats / PartitionedTopicStats /
# internalStats fields checked against what real WebSocket clients did, lastMessageId and
# terminate (returns the last id; producers then get 503; consumers see endOfTopic), forced
# deletes closing connected WebSocket sessions, partition metadata surviving a restart.
# Driven with urllib and python3-websocket against the real binary.

import json
import time

import websocket

from magnetar_harness import (check, connect, decode_msgid, eq, main, path, produce, publish,
                              recv_json, recv_n, rest_json, restart, shared_server, start_server,
                              test, uniq, upgrade_status)


def srv():
    return shared_server()


def rest(method, target, body=None, s=None):
    return rest_json(s or srv(), method, target, body)


def tpath(topic, suffix="", domain="persistent", ns="default"):
    p = "/admin/v2/%s/public/%s/%s" % (domain, ns, topic)
    return p + ("/" + suffix if suffix else "")


def full(topic, domain="persistent"):
    return "%s://public/default/%s" % (domain, topic)


@test
def non_partitioned_lifecycle():
    t = uniq()
    eq(rest("PUT", tpath(t)), (204, None), "create")
    eq(rest("PUT", tpath(t)), (409, {"reason": "This topic already exists"}), "create again")
    st, topics = rest("GET", "/admin/v2/persistent/public/default")
    check(full(t) in topics, "listed: %r" % topics)
    eq(rest("GET", tpath(t, "partitions")), (200, {"partitions": 0}), "not partitioned")
    eq(rest("PUT", tpath(t, "unload")), (204, None), "unload")
    eq(rest("GET", tpath(t, "subscriptions")), (200, []), "no subscriptions")
    eq(rest("DELETE", tpath(t)), (204, None), "delete")
    eq(rest("DELETE", tpath(t)), (404, {"reason": "Topic not found"}), "delete again")
    eq(rest("GET", tpath(t, "stats")), (404, {"reason": "Topic not found"}), "stats of a deleted topic")
    eq(rest("PUT", tpath(uniq(), ns="nope")), (404, {"reason": "Namespace does not exist"}),
       "create in a missing namespace")
    # Non-persistent domain has its own listing.
    nt = uniq()
    eq(rest("PUT", tpath(nt, domain="non-persistent")), (204, None), "create non-persistent")
    st, np = rest("GET", "/admin/v2/non-persistent/public/default")
    eq(np, [full(nt, "non-persistent")], "non-persistent listing")


@test
def delete_with_clients_needs_force():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    prod = connect(s, path("producer", t))
    eq(publish(prod, b"x", context="1")["result"], "ok", "publish")
    eq(rest("DELETE", tpath(t)), (412, {"reason": "Topic has active producers/subscriptions"}), "busy")
    eq(rest("DELETE", tpath(t) + "?force=true"), (204, None), "forced delete")
    for ws, what in ((cons, "consumer"), (prod, "producer")):
        ws.settimeout(5)
        try:
            while True:
                ws.recv()       # drains until the server's close arrives
        except websocket.WebSocketConnectionClosedException:
            pass
        except websocket.WebSocketTimeoutException:
            raise AssertionError("%s session not closed after a forced delete" % what)
    st, topics = rest("GET", "/admin/v2/persistent/public/default")
    check(full(t) not in topics, "topic gone: %r" % topics)


@test
def partitioned_topic_metadata():
    t = uniq("pt")
    eq(rest("PUT", tpath(t, "partitions"), "0")[0], 406, "zero partitions refused (406 Not Acceptable, as Pulsar)")
    eq(rest("PUT", tpath(t, "partitions"), "\"many\"")[0], 400, "not a number")
    eq(rest("PUT", tpath(t, "partitions"), "3"), (204, None), "create 3 partitions")
    eq(rest("PUT", tpath(t, "partitions"), "3"), (409, {"reason": "This topic already exists"}), "twice")
    eq(rest("GET", tpath(t, "partitions")), (200, {"partitions": 3}), "partition count")
    st, parts = rest("GET", "/admin/v2/persistent/public/default/partitioned")
    check(full(t) in parts, "partitioned listing: %r" % parts)
    st, topics = rest("GET", "/admin/v2/persistent/public/default")
    for i in range(3):
        check("%s-partition-%d" % (full(t), i) in topics, "partition %d listed" % i)
    check(full(t) not in topics, "the partitioned name itself is not a topic")
    eq(rest("POST", tpath(t, "partitions"), "2")[0], 409, "shrinking refused")
    eq(rest("POST", tpath(t, "partitions"), "5"), (204, None), "grow to 5")
    eq(rest("GET", tpath(t, "partitions")), (200, {"partitions": 5}), "grown")
    eq(rest("POST", tpath(uniq(), "partitions"), "5")[0], 404, "grow a missing partitioned topic")
    eq(rest("POST", tpath(t, "createMissedPartitions")), (204, None), "create missed partitions")
    eq(rest("GET", tpath(t, "stats"))[0], 404, "stats of the partitioned name")
    eq(rest("POST", tpath(t, "terminate"))[0], 405, "terminate a partitioned topic")
    eq(rest("DELETE", tpath(t))[0], 409, "non-partitioned delete of a partitioned topic")
    eq(rest("DELETE", tpath(t, "partitions")), (204, None), "delete partitioned")
    eq(rest("GET", tpath(t, "partitions")), (200, {"partitions": 0}), "gone")
    eq(rest("DELETE", tpath(t, "partitions")), (404, {"reason": "Partitioned topic does not exist"}), "again")


@test
def partitioned_exchange_and_stats():
    s = srv()
    t = uniq("pt")
    eq(rest("PUT", tpath(t, "partitions"), "3"), (204, None), "create")
    cons = connect(s, path("consumer", t, "sub", params="subscriptionType=Shared"))
    ids = produce(s, t, [b"p%d" % i for i in range(30)],
                  params="messageRoutingMode=RoundRobinPartition")
    parts = {decode_msgid(i)["partition"] for i in ids}
    eq(parts, {0, 1, 2}, "round robin used every partition")
    got = recv_n(cons, 30)
    eq(sorted(m["messageId"] for m in got), sorted(ids), "consumer got every message")
    for m in got[:10]:
        cons.send(json.dumps({"messageId": m["messageId"]}))
    time.sleep(0.3)
    st, ps = rest("GET", tpath(t, "partitioned-stats"))
    eq(st, 200, "partitioned-stats")
    eq(ps["metadata"], {"partitions": 3}, "metadata")
    eq(ps["msgInCounter"], 30, "summed msgInCounter")
    eq(ps["subscriptions"]["sub"]["msgBacklog"], 20, "summed backlog")
    eq(ps["subscriptions"]["sub"]["type"], "Shared", "subscription type")
    eq(len(ps["subscriptions"]["sub"]["consumers"]), 3, "one broker consumer per partition")
    eq(sorted(ps["partitions"]), ["%s-partition-%d" % (full(t), i) for i in range(3)], "per partition")
    eq(sum(p["msgInCounter"] for p in ps["partitions"].values()), 30, "partition counters add up")
    st, ps2 = rest("GET", tpath(t, "partitioned-stats") + "?perPartition=false")
    eq(ps2["partitions"], {}, "perPartition=false")
    eq(rest("DELETE", tpath(t, "partitions"))[0], 412, "delete with a connected consumer")
    eq(rest("DELETE", tpath(t, "partitions") + "?force=true"), (204, None), "forced")
    cons.close(timeout=1)


@test
def topic_stats_match_the_clients():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "my-sub", params="subscriptionType=Shared&consumerName=c1"))
    prod = connect(s, path("producer", t, params="producerName=p1"))
    payloads = [b"x" * 100 for _ in range(10)]
    ids = []
    for i, p in enumerate(payloads):
        r = publish(prod, p, context=str(i))
        eq(r["result"], "ok", "publish")
        ids.append(r["messageId"])
    got = recv_n(cons, 10)
    for m in got[:4]:
        cons.send(json.dumps({"messageId": m["messageId"]}))
    time.sleep(0.3)
    st, stats = rest("GET", tpath(t, "stats"))
    eq(st, 200, "stats")
    eq(stats["msgInCounter"], 10, "msgInCounter")
    eq(stats["bytesInCounter"], 1000, "bytesInCounter")
    eq(stats["msgOutCounter"], 10, "msgOutCounter")
    check(stats["storageSize"] > 1000, "storageSize %r" % stats["storageSize"])
    for k in ("msgRateIn", "msgRateOut", "msgThroughputIn", "msgThroughputOut", "averageMsgSize"):
        check(isinstance(stats[k], float), "%s is a number: %r" % (k, stats[k]))
    eq([p["producerName"] for p in stats["publishers"]], ["p1"], "publishers")
    sub = stats["subscriptions"]["my-sub"]
    eq(sub["msgBacklog"], 6, "msgBacklog")
    eq(sub["unackedMessages"], 6, "unackedMessages")
    eq(sub["type"], "Shared", "type")
    eq([c["consumerName"] for c in sub["consumers"]], ["c1"], "consumers")
    eq(sub["consumers"][0]["unackedMessages"], 6, "consumer unacked")
    check(0 < sub["backlogSize"] < stats["storageSize"], "backlogSize %r" % sub["backlogSize"])
    # internalStats: our own honest view.
    st, internal = rest("GET", tpath(t, "internalStats"))
    last = decode_msgid(ids[-1])
    eq(internal["numberOfEntries"], 10, "entries")
    eq(internal["entriesAddedCounter"], 10, "entries added")
    eq(internal["lastConfirmedEntry"], "%d:%d" % (last["ledger"], last["entry"]), "last confirmed")
    eq([m["messageId"] for m in got], ids, "one Shared consumer gets the messages in order")
    eq(internal["cursors"]["my-sub"]["markDeletePosition"],
       "%d:%d" % (last["ledger"], decode_msgid(ids[3])["entry"]), "mark-delete after acking the first 4")
    eq(internal["magnetar"]["topicId"], last["ledger"], "topic id is the ledger id")
    # lastMessageId agrees with the producer receipt.
    eq(rest("GET", tpath(t, "lastMessageId")),
       (200, {"ledgerId": last["ledger"], "entryId": last["entry"], "partitionIndex": -1}), "lastMessageId")
    cons.close(timeout=1)
    prod.close(timeout=1)


@test
def terminate_topic():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    ids = produce(s, t, [b"a", b"b", b"c"])
    prod = connect(s, path("producer", t))
    last = decode_msgid(ids[-1])
    eq(rest("POST", tpath(t, "terminate")),
       (200, {"ledgerId": last["ledger"], "entryId": last["entry"], "partitionIndex": -1}), "terminate")
    eq(rest("POST", tpath(t, "terminate"))[0], 200, "idempotent")
    eq(upgrade_status(s, path("producer", t))[0], 503, "new producers get 503")
    r = publish(prod, b"late", context="late")
    eq(r["result"], "send-error:8", "a connected producer cannot publish")
    for m in recv_n(cons, 3):
        cons.send(json.dumps({"messageId": m["messageId"]}))
    cons.send('{"type":"isEndOfTopic"}')
    eq(recv_json(cons), {"endOfTopic": True}, "end of topic once everything was delivered")
    eq(rest("POST", tpath(uniq(), "terminate"))[0], 404, "terminate a missing topic")


@test
def partition_metadata_is_durable():
    s = start_server()
    t = uniq("pt")
    eq(rest("PUT", tpath(t, "partitions"), "4", s=s), (204, None), "create")
    eq(s.stop(), 0, "clean stop")
    s2 = restart(s)
    eq(rest("GET", tpath(t, "partitions"), s=s2), (200, {"partitions": 4}), "after restart")
    st, parts = rest("GET", "/admin/v2/persistent/public/default/partitioned", s=s2)
    eq(parts, [full(t)], "partitioned listing after restart")


if __name__ == "__main__":
    main()
