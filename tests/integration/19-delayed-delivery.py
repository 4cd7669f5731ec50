# 19-delayed-delivery.py - deliverAt / deliverAfterMs (issue #3; ProducerHandler;
# Pulsar's ProducerHandlerTest).
#
# On Shared and Key_Shared subscriptions a message published with deliverAfterMs (relative) or
# deliverAt (epoch ms) is delivered no earlier than asked and within 1.5 s after it; messages
# published after it without a delay are not held back; delayed messages come out in due-time
# order; a time in the past means now. Exclusive and Failover subscriptions ignore the delay
# (Pulsar only tracks delayed delivery in the multi-consumer dispatchers). The delay is durable:
# after kill -9 and a restart the message still waits for its time, then arrives.

import json
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (TestFailure, connect, eq, expect_silence, main, path,  # noqa: E402
                              publish, recv_json, recv_n, recv_timed, restart, send_ack,
                              shared_server, start_server, test, uniq)

EARLY = 0.02
LATE = 1.5


def srv():
    return shared_server()


def consumer(topic, sub, params=None, s=None):
    return connect(s or srv(), path("consumer", topic, sub, params=params))


def due_window(t, due, what):
    if t < due - EARLY or t > due + LATE:
        raise TestFailure("%s: arrived %.3fs relative to its due time, expected within [%.2f, %.2f]"
                          % (what, t - due, -EARLY, LATE))


def now_ms():
    return int(time.time() * 1000)


@test
def shared_deliver_after_ms_and_others_not_held_back():
    t = uniq()
    c = consumer(t, "d", "subscriptionType=Shared")
    p = connect(srv(), path("producer", t))
    t0 = time.time()
    rd = publish(p, b"delayed", deliverAfterMs=2000)
    ri = publish(p, b"immediate")
    m, tm = recv_timed(c, 1.0)
    eq(m["messageId"], ri["messageId"], "the undelayed message comes first, at once")
    eq(tm - t0 < 1.0, True, "undelayed message not held back")
    m, tm = recv_timed(c, 4.0)
    eq(m["messageId"], rd["messageId"], "then the delayed one")
    due_window(tm, t0 + 2.0, "deliverAfterMs=2000")
    eq(m["redeliveryCount"], 0, "redeliveryCount of a delayed message")
    send_ack(c, m["messageId"])
    expect_silence(c, 0.5)


@test
def key_shared_deliver_at():
    t = uniq()
    c = consumer(t, "d", "subscriptionType=Key_Shared")
    p = connect(srv(), path("producer", t))
    at = now_ms() + 2000
    r = publish(p, b"at", key="k", deliverAt=at)
    expect_silence(c, max(0.0, at / 1000.0 - time.time() - 0.1))
    m, tm = recv_timed(c, 3.0)
    eq((m["messageId"], m.get("key")), (r["messageId"], "k"), "Key_Shared delayed message")
    due_window(tm, at / 1000.0, "deliverAt")


@test
def delayed_messages_come_out_in_due_order():
    t = uniq()
    c = consumer(t, "d", "subscriptionType=Shared")
    p = connect(srv(), path("producer", t))
    t0 = time.time()
    r_late = publish(p, b"late", deliverAfterMs=3000)
    r_early = publish(p, b"early", deliverAfterMs=1500)
    m1, t1 = recv_timed(c, 3.5)
    m2, t2 = recv_timed(c, 3.5)
    eq([m1["messageId"], m2["messageId"]], [r_early["messageId"], r_late["messageId"]], "due order")
    due_window(t1, t0 + 1.5, "deliverAfterMs=1500")
    due_window(t2, t0 + 3.0, "deliverAfterMs=3000")


@test
def deliver_at_in_the_past_is_immediate():
    t = uniq()
    c = consumer(t, "d", "subscriptionType=Shared")
    p = connect(srv(), path("producer", t))
    t0 = time.time()
    r = publish(p, b"past", deliverAt=now_ms() - 10000)
    m, tm = recv_timed(c, 1.0)
    eq(m["messageId"], r["messageId"], "past deliverAt")
    eq(tm - t0 < 1.0, True, "delivered at once")


@test
def exclusive_and_failover_ignore_the_delay():
    for typ in ("Exclusive", "Failover"):
        t = uniq()
        c = consumer(t, "d", "subscriptionType=" + typ)
        p = connect(srv(), path("producer", t))
        t0 = time.time()
        r1 = publish(p, b"after", deliverAfterMs=5000)
        r2 = publish(p, b"at", deliverAt=now_ms() + 5000)
        got = recv_n(c, 2, 1.0)
        eq([m["messageId"] for m in got], [r1["messageId"], r2["messageId"]],
           "%s: delayed messages delivered at once, in order" % typ)
        eq(time.time() - t0 < 1.0, True, "%s: within 1 s" % typ)


@test
def delayed_message_survives_kill9():
    s = start_server()
    t = uniq()
    c = consumer(t, "d", "subscriptionType=Shared", s=s)
    p = connect(s, path("producer", t))
    t0 = time.time()
    r = publish(p, b"durable-delay", deliverAfterMs=4000)
    s.kill9()
    s2 = restart(s)
    c = consumer(t, "d", "subscriptionType=Shared", s=s2)
    expect_silence(c, max(0.0, t0 + 4.0 - time.time() - 0.1))
    m, tm = recv_timed(c, 3.0)
    eq(m["messageId"], r["messageId"], "delayed message after kill -9")
    due_window(tm, t0 + 4.0, "deliverAfterMs=4000 across kill -9")
    send_ack(c, m["messageId"])
    time.sleep(1.5)
    c.close(timeout=2)
    s2.stop()
    s3 = restart(s2)
    c = consumer(t, "d", "subscriptionType=Shared", s=s3)
    expect_silence(c, 1.0)


@test
def producer_receipt_fields_unchanged_by_delay():
    t = uniq()
    p = connect(srv(), path("producer", t))
    p.send(json.dumps({"payload": "eA==", "context": "c1", "deliverAfterMs": 1000}))
    r = recv_json(p, 1.0)
    eq((r["result"], r["context"], r["errorCode"], r["schemaVersion"]), ("ok", "c1", 0, 0),
       "receipt of a delayed message is sent at once")


if __name__ == "__main__":
    main()
