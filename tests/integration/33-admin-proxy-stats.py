# 33-admin-proxy-stats.py - WebSocket proxy statistics (WebSocketProxyStatsBase; Pulsar's
# ProxyPublishConsumeTest) and the
# Prometheus /metrics text on the web service port.
#
# Pulsar's ProxyPublishConsumeTest: with a producer, a consumer and a reader on
# persistent://my-property/my-ns/my-topic6, /admin/v2/proxy-stats/stats has exactly that key with
# 1 producerStats and 2 consumerStats (consumer + reader), each with a remoteConnection; the
# per-topic endpoint answers the same; /metrics is a non-empty JSON array; v1 paths work too.
# /metrics carries Pulsar's per-topic names with cluster/namespace/topic labels and Magnetar's
# own metrics; the values are checked against what the clients did.

import json
import re
import time

from magnetar_harness import (b64, check, connect, eq, main, path, produce, publish, publish_many,
                              recv_n, rest_call, send_nack, start_server, test, uniq)


def rest(s, method, target, body=None):
    return rest_call(s, method, target, body)


def jget(s, target):
    st, h, b = rest(s, "GET", target)
    return st, json.loads(b) if b else None


@test
def proxy_stats_like_pulsar():
    s = start_server()
    eq(rest(s, "PUT", "/admin/v2/tenants/my-property", {"allowedClusters": ["standalone"]})[0], 204, "tenant")
    eq(rest(s, "PUT", "/admin/v2/namespaces/my-property/my-ns")[0], 204, "namespace")
    topic = "my-topic6"
    full = "persistent://my-property/my-ns/" + topic
    cons = connect(s, path("consumer", topic, "my-sub", tenant="my-property", ns="my-ns",
                           params="subscriptionType=Shared"))
    rd = connect(s, path("reader", topic, tenant="my-property", ns="my-ns"))
    prod = connect(s, path("producer", topic, tenant="my-property", ns="my-ns"))
    for i in range(3):
        eq(publish(prod, b"s%d" % i, context=str(i))["result"], "ok", "publish")
    recv_n(cons, 3)
    recv_n(rd, 3)
    st, metrics = jget(s, "/admin/v2/proxy-stats/metrics")
    eq(st, 200, "metrics")
    check(isinstance(metrics, list) and metrics, "non-empty metrics array: %r" % metrics)
    check(all("metrics" in m and "dimensions" in m for m in metrics), "Metrics objects")
    ns = [m for m in metrics if m["dimensions"].get("namespace") == "my-property/my-ns"]
    eq(len(ns), 1, "one entry for the namespace")
    eq(ns[0]["metrics"]["ns_msg_published_total"], 3, "published in the namespace")
    st, stats = jget(s, "/admin/v2/proxy-stats/stats")
    eq(st, 200, "stats")
    eq(list(stats), [full], "exactly the one topic")
    ts = stats[full]
    eq(len(ts["producerStats"]), 1, "one producer")
    eq(len(ts["consumerStats"]), 2, "consumer + reader")
    for st_ in ts["producerStats"] + ts["consumerStats"]:
        check(re.match(r"^/127\.0\.0\.1:\d+$", st_["remoteConnection"] or ""), "remoteConnection %r" % st_)
    eq(ts["producerStats"][0]["numberOfMsgPublished"], 3, "published")
    kinds = sorted((c["subscriptionType"], c.get("subscriptionMode"), c["numberOfMsgDelivered"])
                   for c in ts["consumerStats"])
    eq(kinds, [("Exclusive", None, 3), ("Shared", "Durable", 3)], "consumer and reader stats")
    check(any(c["subscriptionName"] == "my-sub" for c in ts["consumerStats"]), "subscription name")
    st, one = jget(s, "/admin/v2/proxy-stats/persistent/my-property/my-ns/%s/stats" % topic)
    eq(st, 200, "per-topic stats")
    eq(len(one["producerStats"]), 1, "per-topic producers")
    eq(len(one["consumerStats"]), 2, "per-topic consumers")
    eq(jget(s, "/admin/v2/proxy-stats/persistent/my-property/my-ns/none/stats"),
       (404, {"reason": "Topic does not exist"}), "topic without sessions")
    # v1 endpoints.
    eq(rest(s, "GET", "/admin/proxy-stats/metrics")[0], 200, "v1 metrics")
    eq(rest(s, "GET", "/admin/proxy-stats/stats")[0], 200, "v1 stats")
    # Closing the sessions removes them.
    for ws in (cons, rd, prod):
        ws.close(timeout=1)
    deadline = time.time() + 5
    while jget(s, "/admin/v2/proxy-stats/stats")[1] and time.time() < deadline:
        time.sleep(0.05)
    eq(jget(s, "/admin/v2/proxy-stats/stats"), (200, {}), "no sessions after closing")


def sample(text, name, labels):
    """Value of one Prometheus sample (labels given as a dict), or None."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and line.split(" ")[0] != name:
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        check(m is not None, "malformed sample line %r" % line)
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if m.group(1) == name and got == labels:
            return float(m.group(4))
    return None


@test
def prometheus_metrics():
    s = start_server()
    t = uniq()
    full = "persistent://public/default/" + t
    cons = connect(s, path("consumer", t, "sub"))
    produce(s, t, [b"abcd"] * 7)
    got = recv_n(cons, 7)
    for m in got[:2]:
        cons.send(json.dumps({"messageId": m["messageId"]}))
    time.sleep(0.3)
    st, h, body = rest(s, "GET", "/metrics")
    eq(st, 200, "/metrics")
    check(h.get("Content-Type").startswith("text/plain; version=0.0.4"), "content type %r" % h.get("Content-Type"))
    text = body.decode()
    lab = {"cluster": "standalone", "namespace": "public/default", "topic": full}
    eq(sample(text, "pulsar_in_messages_total", lab), 7.0, "in messages")
    eq(sample(text, "pulsar_in_bytes_total", lab), 28.0, "in bytes")
    eq(sample(text, "pulsar_out_messages_total", lab), 7.0, "out messages")
    eq(sample(text, "pulsar_msg_backlog", lab), 5.0, "backlog")
    eq(sample(text, "pulsar_subscriptions_count", lab), 1.0, "subscriptions")
    eq(sample(text, "pulsar_consumers_count", lab), 1.0, "consumers")
    eq(sample(text, "pulsar_producers_count", lab), 0.0, "producers (the producer left)")
    check(sample(text, "pulsar_storage_size", lab) > 28, "storage size")
    eq(sample(text, "pulsar_subscription_back_log", dict(lab, subscription="sub")), 5.0, "sub backlog")
    eq(sample(text, "magnetar_ws_sessions", {"kind": "consumer"}), 1.0, "one consumer session")
    check(sample(text, "magnetar_commits_total", {}) >= 1, "commits counted")
    eq(sample(text, "magnetar_commit_batch_messages_count", {}),
       sample(text, "magnetar_commit_batch_messages_bucket", {"le": "+Inf"}), "histogram count = +Inf bucket")
    check(sample(text, "magnetar_commit_batch_messages_sum", {}) >= 7, "batched messages")
    check(sample(text, "magnetar_commit_fsync_seconds_count", {}) >= 1, "fsync latency histogram")
    # Every family is declared once, before its samples.
    types = re.findall(r"^# TYPE (\S+) ", text, re.M)
    eq(len(types), len(set(types)), "one TYPE line per family")
    eq(rest(s, "GET", "/metrics/")[0], 200, "/metrics/ too")
    cons.close(timeout=1)


@test
def fan_out_shares_delivery_json_but_not_redelivery_counts():
    """Two subscriptions and a reader get the same 40 messages. The delivery JSON is formatted
    once and reused for the other subscription (counted in /metrics), and what each client gets
    is still exactly its own: same frames for both subscriptions, redeliveryCount 1 only where
    the message was redelivered."""
    s = start_server()
    t = uniq()
    a = connect(s, path("consumer", t, "a"))
    b = connect(s, path("consumer", t, "b", params="subscriptionType=Shared&negativeAckRedeliveryDelay=100"))
    r = connect(s, path("reader", t))
    payloads = [("m%02d" % i).encode() * (i + 1) for i in range(40)]
    prod = connect(s, path("producer", t))
    rs = publish_many(prod, payloads, properties={"p": "v"}, key="k")
    got_a, got_b, got_r = recv_n(a, 40), recv_n(b, 40), recv_n(r, 40)
    eq([m["payload"] for m in got_a], [b64(p) for p in payloads], "subscription a payloads")
    eq(got_b, got_a, "subscription b got the very same deliveries")
    eq([m["messageId"] for m in got_r], [x["messageId"] for x in rs], "reader ids")
    eq([m["payload"] for m in got_r], [b64(p) for p in payloads], "reader payloads")
    send_nack(b, got_b[3]["messageId"])
    again = recv_n(b, 1)[0]
    eq((again["messageId"], again["redeliveryCount"], again["payload"]),
       (got_a[3]["messageId"], 1, got_a[3]["payload"]), "redelivered with its own count")
    eq(got_a[3]["redeliveryCount"], 0, "the other subscription's count")
    text = rest(s, "GET", "/metrics")[2].decode()
    hits = sample(text, "magnetar_delivery_cache_total", {"result": "hit"})
    misses = sample(text, "magnetar_delivery_cache_total", {"result": "miss"})
    check(hits is not None and misses is not None, "delivery cache counters exported")
    check(hits >= 20, "most deliveries to the second subscription reuse the first's JSON (hits %r)" % hits)
    eq(hits + misses, 121.0, "every delivery counted once (40 x 3 + 1 redelivery)")
    for ws in (a, b, r, prod):
        ws.close(timeout=1)


if __name__ == "__main__":
    main()
