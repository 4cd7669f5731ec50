# 34-retention.py - trimming of consumed entries, namespace retention and backlog quotas (issue #4).
#
# Consumed entries are deleted once every durable subscription has passed them, except the newest
# segment of 1000 entry ids (Magnetar's stand-in for Pulsar's open ledger): storageSize falls
# after acks, and under steady produce + ack the LMDB data file stops growing because deleted
# pages are reused. Namespace retention keeps consumed entries (infinite, or up to a size);
# a backlog quota with producer_request_hold refuses new producers with 503 and fails sends with
# send-error:8 while exceeded. Entry ids continue after a restart of a trimmed topic.
# Driven with urllib and python3-websocket against the real binary (fsync on).

import json
import os
import threading
import time

import websocket

from magnetar_harness import (check, connect, decode_msgid, eq, main, path, publish, publish_many,
                              recv_n, rest_json, restart, start_server, test, uniq, upgrade_status)


ROUNDS = 10


def rest(s, method, target, body=None):
    return rest_json(s, method, target, body)


def tpath(topic, suffix="", ns="default"):
    return "/admin/v2/persistent/public/%s/%s%s" % (ns, topic, "/" + suffix if suffix else "")


def new_namespace(s):
    ns = uniq("ns")
    eq(rest(s, "PUT", "/admin/v2/namespaces/public/" + ns), (204, None), "create namespace")
    return ns


def produce_n(s, topic, n, size=200, ns="default"):
    """Publishes n messages (pipelined, in chunks) and returns their ids."""
    ws = connect(s, path("producer", topic, ns=ns))
    ids = []
    try:
        for start in range(0, n, 500):
            rs = publish_many(ws, [b"%06d" % i + b"." * (size - 6) for i in range(start, min(n, start + 500))])
            for r in rs:
                eq(r["result"], "ok", "receipt")
            ids += [r["messageId"] for r in rs]
    finally:
        ws.close(timeout=1)
    return ids


@test
def storage_size_falls_after_acks():
    s = start_server()
    t = uniq()
    eq(rest(s, "PUT", tpath(t, "subscription/s")), (204, None), "subscription")
    produce_n(s, t, 3000)
    st, before = rest(s, "GET", tpath(t, "stats"))
    eq(before["subscriptions"]["s"]["msgBacklog"], 3000, "backlog")
    st, internal = rest(s, "GET", tpath(t, "internalStats"))
    eq(internal["numberOfEntries"], 3000, "nothing trimmed while unconsumed")
    eq(rest(s, "POST", tpath(t, "subscription/s/skip_all")), (204, None), "consume everything")
    st, after = rest(s, "GET", tpath(t, "stats"))
    check(after["storageSize"] < before["storageSize"] / 2,
          "storageSize %d -> %d" % (before["storageSize"], after["storageSize"]))
    st, internal = rest(s, "GET", tpath(t, "internalStats"))
    eq(internal["numberOfEntries"], 1000, "only the newest segment is kept")
    eq(internal["magnetar"]["firstEntryId"], 2000, "first kept entry")
    # A reader asking for earliest still finds the recent messages (Pulsar's open ledger).
    rd = connect(s, path("reader", t, params="messageId=earliest"))
    first = recv_n(rd, 1)[0]
    eq(decode_msgid(first["messageId"])["entry"], 2000, "earliest readable entry")
    rd.close(timeout=1)
    # Restart: ids continue after the trimmed ones.
    eq(s.stop(), 0, "clean stop")
    s2 = restart(s)
    ids = produce_n(s2, t, 1)
    eq(decode_msgid(ids[0])["entry"], 3000, "the next id after a restart")


@test
def data_file_stops_growing_under_produce_and_ack():
    s = start_server(["-o", "journalSyncData=false"])     # one fsync per ack would take minutes
    t = uniq()
    cons = connect(s, path("consumer", t, "s"), enable_multithread=True)
    acked = [0]
    stop = threading.Event()

    def acker():
        cons.settimeout(0.2)
        while not stop.is_set():
            try:
                m = json.loads(cons.recv())
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                return
            cons.send(json.dumps({"messageId": m["messageId"]}))
            acked[0] += 1

    th = threading.Thread(target=acker, daemon=True)
    th.start()
    data = os.path.join(s.data_dir, "data.mdb")
    prod = connect(s, path("producer", t))
    sizes = []
    sent = 0
    try:
        for rnd in range(ROUNDS):
            for r in publish_many(prod, [b"x" * 2048] * 600, timeout=30):
                eq(r["result"], "ok", "receipt")
            sent += 600
            deadline = time.time() + 20
            while acked[0] < sent and time.time() < deadline:
                time.sleep(0.02)
            eq(acked[0], sent, "consumer kept up")
            time.sleep(0.6)     # one retention sweep interval
            sizes.append(os.path.getsize(data))
    finally:
        stop.set()
        th.join(5)
        prod.close(timeout=1)
    # 6000 x 2 KiB went through; with nothing trimmed (infinite retention) the file grows about
    # 2.4 MiB per round, which this check catches.
    warm = sizes[3]
    check(sizes[-1] <= warm + 2 * 1024 * 1024,
          "data file kept growing: %s" % ", ".join("%.1fM" % (x / 1048576.0) for x in sizes))
    st, internal = rest(s, "GET", tpath(t, "internalStats"))
    check(internal["numberOfEntries"] <= 1000, "entries kept: %d" % internal["numberOfEntries"])
    cons.close(timeout=1)


@test
def namespace_retention_keeps_consumed_entries():
    s = start_server()
    ns = new_namespace(s)
    eq(rest(s, "GET", "/admin/v2/namespaces/public/%s/retention" % ns),
       (200, {"retentionTimeInMinutes": 0, "retentionSizeInMB": 0}), "default retention")
    eq(rest(s, "POST", "/admin/v2/namespaces/public/%s/retention" % ns,
            {"retentionTimeInMinutes": 10, "retentionSizeInMB": 0})[0], 412, "a single 0 limit")
    eq(rest(s, "POST", "/admin/v2/namespaces/public/%s/retention" % ns, "{oops")[0], 400, "malformed")
    eq(rest(s, "POST", "/admin/v2/namespaces/public/nope/retention",
            {"retentionTimeInMinutes": -1, "retentionSizeInMB": -1})[0], 404, "unknown namespace")
    eq(rest(s, "POST", "/admin/v2/namespaces/public/%s/retention" % ns,
            {"retentionTimeInMinutes": -1, "retentionSizeInMB": -1}), (204, None), "infinite retention")
    eq(rest(s, "GET", "/admin/v2/namespaces/public/%s/retention" % ns),
       (200, {"retentionTimeInMinutes": -1, "retentionSizeInMB": -1}), "read back")
    t = uniq()
    eq(rest(s, "PUT", tpath(t, "subscription/s", ns=ns)), (204, None), "subscription")
    produce_n(s, t, 2500, size=1024, ns=ns)
    eq(rest(s, "POST", tpath(t, "subscription/s/skip_all", ns=ns)), (204, None), "consume")
    st, internal = rest(s, "GET", tpath(t, "internalStats", ns=ns))
    eq(internal["numberOfEntries"], 2500, "retention keeps consumed entries")
    # A 1 MB size limit trims the oldest consumed entries down to it.
    eq(rest(s, "POST", "/admin/v2/namespaces/public/%s/retention" % ns,
            {"retentionTimeInMinutes": -1, "retentionSizeInMB": 1}), (204, None), "1 MB")
    st, stats = rest(s, "GET", tpath(t, "stats", ns=ns))
    check(stats["storageSize"] <= 1024 * 1024, "storageSize within 1 MB: %d" % stats["storageSize"])
    st, internal = rest(s, "GET", tpath(t, "internalStats", ns=ns))
    check(500 <= internal["numberOfEntries"] < 1000, "entries under 1 MB: %d" % internal["numberOfEntries"])
    eq(rest(s, "DELETE", "/admin/v2/namespaces/public/%s/retention" % ns), (204, None), "remove retention")
    st, internal = rest(s, "GET", tpath(t, "internalStats", ns=ns))
    eq(internal["numberOfEntries"], 500, "back to the newest segment")
    st, pol = rest(s, "GET", "/admin/v2/namespaces/public/" + ns)
    eq(pol["retention_policies"], None, "policy removed")


@test
def backlog_quota_holds_producers():
    s = start_server()
    ns = new_namespace(s)
    quota = "/admin/v2/namespaces/public/%s/backlogQuota" % ns
    eq(rest(s, "POST", quota, {"limit": 10, "policy": "nope"})[0], 400, "unknown policy")
    eq(rest(s, "POST", quota + "?backlogQuotaType=bogus", {"limit": 10, "policy": "producer_request_hold"})[0],
       404, "unknown quota type")
    eq(rest(s, "POST", quota, {"limit": 10, "policy": "producer_request_hold"}), (204, None), "quota")
    eq(rest(s, "GET", "/admin/v2/namespaces/public/%s/backlogQuotaMap" % ns),
       (200, {"destination_storage": {"limit": 10, "limitSize": 10, "limitTime": -1,
                                      "policy": "producer_request_hold"}}), "quota map")
    t = uniq()
    cons = connect(s, path("consumer", t, "slow", ns=ns))
    prod = connect(s, path("producer", t, ns=ns))
    ids = [publish(prod, b"fill-%d" % i, context=str(i))["messageId"] for i in range(3)]
    eq(upgrade_status(s, path("producer", t, ns=ns))[0], 503, "new producer over the quota")
    r = publish(prod, b"held", context="held")
    eq(r["result"], "send-error:8", "a send while the quota is exceeded")
    eq(r.get("errorMsg"), "producer send queue is full", "error text")
    eq(r.get("context"), "held", "context echoed")
    for m in recv_n(cons, 3):
        cons.send(json.dumps({"messageId": m["messageId"]}))
    deadline = time.time() + 5
    while upgrade_status(s, path("producer", t, ns=ns))[0] != 101:
        check(time.time() < deadline, "producers not accepted after the backlog drained")
        time.sleep(0.1)
    eq(publish(prod, b"again", context="again")["result"], "ok", "sending works again")
    eq(rest(s, "DELETE", quota), (204, None), "remove the quota")
    eq(rest(s, "GET", "/admin/v2/namespaces/public/%s/backlogQuotaMap" % ns), (200, {}), "no quota")
    check(len(ids) == 3, "ids")
    cons.close(timeout=1)
    prod.close(timeout=1)


if __name__ == "__main__":
    main()
