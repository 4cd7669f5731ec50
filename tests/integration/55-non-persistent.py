# 55-non-persistent.py - non-persistent topics (issue #7; Pulsar's non-persistent domain).
#
# /ws/v2/*/non-persistent/... topics deliver a message only to the consumers connected when it is
# published (every subscription gets it once, Shared consumers split it); nothing is written to
# LMDB (magnetar-dump shows no entries, a restart or a late consumer/reader sees nothing); a slow
# consumer makes the server drop messages instead of queueing them without bound: with
# receiverQueueSize=10 and no acks a 1000-message burst yields exactly 10 deliveries (at most 10
# more after the acks) and the rest is counted as dropped in the topic stats (Pulsar's
# NonPersistentTopicStats field msgDropRate on the topic and the subscription). A persistent
# topic of the same name is a different topic.

import base64
import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (b64, burst_publish, check, connect, drain,  # noqa: E402
                              dump_data_dir, eq, expect_silence, expect_silence_all, full_topic,
                              main, path, publish, recv_json, recv_n, restart, send_ack,
                              shared_server, start_server, test, time_scale, topic_stats, uniq)

NP = "non-persistent"


def srv():
    return shared_server()


def np_path(kind, topic, sub=None, params=None):
    return path(kind, topic, sub, params=params, domain=NP)


def np_publish(s, topic, payloads, params=None):
    ws = connect(s, np_path("producer", topic, params=params))
    rs = burst_publish(ws, payloads)
    ws.close(timeout=1)
    for r in rs:
        eq(r.get("result"), "ok", "receipt %r" % r)
    return [r["messageId"] for r in rs]


@test
def connected_consumer_receives_messages():
    s = srv()
    t = uniq()
    cons = connect(s, np_path("consumer", t, "sub"))
    payloads = [b"", b"\x01"] + [b"np-%d" % i for i in range(8)]
    ids = np_publish(s, t, payloads)
    got = recv_n(cons, len(payloads))
    eq([m["messageId"] for m in got], ids, "delivered ids = receipt ids")
    eq([m["payload"] for m in got], [b64(p) for p in payloads], "payloads in publish order")
    for m in got:
        send_ack(cons, m["messageId"])          # acks are accepted and harmless
    expect_silence(cons, 0.5)
    st = topic_stats(s, t, domain=NP)
    eq(st["msgInCounter"], len(payloads), "msgInCounter")
    eq(st["subscriptions"]["sub"]["msgOutCounter"], len(payloads), "subscription msgOutCounter")
    eq(st["subscriptions"]["sub"]["msgBacklog"], 0, "no backlog on a non-persistent subscription")
    eq(st["storageSize"], 0, "storageSize")


@test
def late_consumer_and_reader_get_only_live_messages():
    s = srv()
    t = uniq()
    np_publish(s, t, [b"before-%d" % i for i in range(3)])
    cons = connect(s, np_path("consumer", t, "late", params="subscriptionInitialPosition=Earliest"))
    rd = connect(s, np_path("reader", t, params="messageId=earliest"))
    expect_silence_all([cons, rd], 0.8)
    ids = np_publish(s, t, [b"live"])
    for ws, what in ((cons, "consumer"), (rd, "reader")):
        m = recv_json(ws)
        eq((m["messageId"], m["payload"]), (ids[0], b64(b"live")), "%s gets only the live message" % what)
        expect_silence(ws, 0.3)


@test
def every_subscription_gets_a_copy_and_shared_consumers_split():
    s = srv()
    t = uniq()
    ex = connect(s, np_path("consumer", t, "ex"))
    sh = [connect(s, np_path("consumer", t, "sh", params="subscriptionType=Shared")) for _ in range(2)]
    ids = np_publish(s, t, [b"m%d" % i for i in range(20)])
    eq([m["messageId"] for m in recv_n(ex, 20)], ids, "Exclusive subscription: every message once")
    got = drain(sh[0], 0.7) + drain(sh[1], 0.7)
    eq(sorted(m["messageId"] for m in got), sorted(ids), "Shared subscription: each message to one consumer")
    check(all(drain(c, 0.01) == [] for c in sh), "no extra deliveries")


@test
def nothing_is_written_to_lmdb():
    s = start_server()
    t = uniq()
    pt = uniq()
    cons = connect(s, np_path("consumer", t, "sub"))
    big = [bytes([i]) * 16384 for i in range(50)]
    np_publish(s, t, big)
    eq(len(recv_n(cons, 50, 20)), 50, "live consumer got the 50 messages")
    ws = connect(s, path("producer", pt))
    eq(publish(ws, b"persistent control", context="c").get("result"), "ok", "persistent control message")
    topics = dump_data_dir(s.data_dir)["topics"]
    eq(topics.get(full_topic(pt), {}).get("entries"), 1, "the persistent control topic is in LMDB")
    rec = topics.get(full_topic(t, domain=NP))
    check(rec is None or (rec["entries"] == 0 and rec["bytes"] == 0),
          "non-persistent topic stored in LMDB: %r" % rec)
    cons.close(timeout=1)
    eq(s.stop(), 0, "clean exit")
    s = restart(s)
    cons = connect(s, np_path("consumer", t, "sub", params="subscriptionInitialPosition=Earliest"))
    rd = connect(s, np_path("reader", t, params="messageId=earliest"))
    expect_silence_all([cons, rd], 0.8)


@test
def slow_consumer_drops_instead_of_queueing():
    s = srv()
    t = uniq()
    cons = connect(s, np_path("consumer", t, "slow", params="receiverQueueSize=10"))
    topic_stats(s, t, domain=NP)                       # rate baseline
    n = 1000
    np_publish(s, t, [b"d%04d" % i for i in range(n)])
    first = drain(cons, 1.0)
    eq(len(first), 10, "deliveries to a consumer that never acks, receiverQueueSize=10")
    for m in first:
        send_ack(cons, m["messageId"])
    later = drain(cons, 1.0)
    check(len(later) <= 10, "after acking 10, at most one more queue of 10 arrives (got %d)" % len(later))
    got = first + later
    seqs = [int(base64.b64decode(m["payload"])[1:]) for m in got]
    eq(seqs, sorted(seqs), "delivered messages keep publish order")
    time.sleep(1.0 * time_scale())
    st = topic_stats(s, t, domain=NP)
    sub = st["subscriptions"]["slow"]
    check(sub.get("msgDropRate", 0) > 0, "subscription msgDropRate after %d drops: %r" % (n - len(got), sub))
    check(st.get("msgDropRate", 0) > 0, "topic msgDropRate after drops: %r" % st.get("msgDropRate"))
    eq(st["msgInCounter"], n, "msgInCounter counts every publish")
    eq(sub["msgOutCounter"], len(got), "msgOutCounter counts only delivered messages")
    ids = np_publish(s, t, [b"fresh"])
    m = recv_json(cons)
    eq((m["messageId"], m["payload"]), (ids[0], b64(b"fresh")), "once acked, new messages flow again")


@test
def pull_mode_permits_bound_deliveries():
    s = srv()
    t = uniq()
    cons = connect(s, np_path("consumer", t, "pull", params="pullMode=true"))
    xs = np_publish(s, t, [b"x%d" % i for i in range(5)])
    expect_silence(cons, 0.5)                  # no permits: nothing is delivered
    cons.send('{"type":"permit","permitMessages":2}')
    got = drain(cons, 0.5)                     # a bounded queue may hold x0, x1; dropping is fine too
    ys = np_publish(s, t, [b"y%d" % i for i in range(3)])
    got += drain(cons, 0.7)
    ids = [m["messageId"] for m in got]
    eq(len(ids), 2, "two permits: exactly two deliveries (%r)" % [m["payload"] for m in got])
    check(ids in (xs[:2], ys[:2]), "the two deliveries are the oldest queued or the first live ones: %r"
          % [m["payload"] for m in got])


@test
def persistent_topic_of_the_same_name_is_separate():
    s = srv()
    t = uniq()
    np_cons = connect(s, np_path("consumer", t, "sub"))
    p_cons = connect(s, path("consumer", t, "sub"))
    ws = connect(s, path("producer", t))
    r = publish(ws, b"durable", context="d")
    eq(r.get("result"), "ok", "persistent publish")
    eq(recv_json(p_cons)["payload"], b64(b"durable"), "persistent consumer")
    ids = np_publish(s, t, [b"volatile"])
    m = recv_json(np_cons)
    eq((m["messageId"], m["payload"]), (ids[0], b64(b"volatile")), "non-persistent consumer")
    expect_silence_all([np_cons, p_cons], 0.5)


if __name__ == "__main__":
    main()
