# 15-ack-timeout.py - ackTimeoutMillis redelivery (issue #3; ConsumerHandler,
# UnAckedMessageTracker, DeadLetterPolicy).
#
# ackTimeoutMillis >= 1000 (a smaller non-zero value is a 400; 0 or absent disables it). A message
# handed to the consumer and not acked within the timeout is redelivered: not before the timeout,
# and within timeout + 1.5 s. Shared/Key_Shared redeliver exactly the timed-out ids with
# redeliveryCount incremented each time; Exclusive/Failover rewind and redeliver every unacked
# message in order with redeliveryCount 0 (individually acked ones are skipped). A dead-letter
# policy without ackTimeoutMillis forces a 30 s ack timeout (ConsumerBuilderImpl).

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (TestFailure, connect, eq, expect_silence,  # noqa: E402
                              expect_silence_all, main, path, produce, publish, recv_n, recv_timed,
                              send_ack, shared_server, test, uniq, upgrade_status)

EARLY = 0.1     # a delivery may reach us this much after the server started its timer
LATE = 1.5      # allowed lateness after the timeout


def srv():
    return shared_server()


def consumer(topic, sub, params):
    return connect(srv(), path("consumer", topic, sub, params=params))


def in_window(t, t0, delay, what):
    dt = t - t0
    if dt < delay - EARLY or dt > delay + LATE:
        raise TestFailure("%s: redelivered %.3fs after delivery, expected within [%.2f, %.2f]"
                             % (what, dt, delay - EARLY, delay + LATE))


@test
def shared_unacked_redelivered_after_timeout_with_counts():
    t = uniq()
    c = consumer(t, "at", "subscriptionType=Shared&ackTimeoutMillis=1000")
    ids = produce(srv(), t, [b"late-ack"])
    m0, t0 = recv_timed(c)
    eq((m0["messageId"], m0["redeliveryCount"]), (ids[0], 0), "first delivery")
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.0, "first redelivery")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[0], 1), "first redelivery id/count")
    m2, t2 = recv_timed(c, 4.0)
    in_window(t2, t1, 1.0, "second redelivery")
    eq((m2["messageId"], m2["redeliveryCount"]), (ids[0], 2), "second redelivery id/count")
    send_ack(c, m2["messageId"])
    expect_silence(c, 2.6)


@test
def shared_only_timed_out_ids_come_back():
    t = uniq()
    c = consumer(t, "at", "subscriptionType=Shared&ackTimeoutMillis=1000")
    ids = produce(srv(), t, [b"s%d" % i for i in range(5)])
    got = recv_n(c, 5)
    t0 = time.time()
    for i in (0, 2, 4):
        send_ack(c, got[i]["messageId"])
    again = recv_n(c, 2, 4.0)
    in_window(time.time(), t0, 1.0, "redelivery of the unacked pair")
    eq(sorted(m["messageId"] for m in again), sorted([ids[1], ids[3]]), "only unacked ids are redelivered")
    eq([m["redeliveryCount"] for m in again], [1, 1], "redeliveryCount")
    for m in again:
        send_ack(c, m["messageId"])
    expect_silence(c, 2.6)


@test
def key_shared_ack_timeout_increments_count():
    t = uniq()
    c = consumer(t, "at", "subscriptionType=Key_Shared&ackTimeoutMillis=1500")
    p = connect(srv(), path("producer", t))
    r = publish(p, b"keyed", key="k1")
    m0, t0 = recv_timed(c)
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.5, "Key_Shared redelivery")
    eq((m1["messageId"], m1["redeliveryCount"], m1.get("key")), (r["messageId"], 1, "k1"),
       "Key_Shared redelivery id/count/key")
    send_ack(c, m1["messageId"])
    expect_silence(c, 3.0)


@test
def exclusive_rewinds_unacked_in_order_with_count_zero():
    t = uniq()
    c = consumer(t, "at", "ackTimeoutMillis=1000")
    ids = produce(srv(), t, [b"e0", b"e1", b"e2", b"e3"])
    got = recv_n(c, 4)
    t0 = time.time()
    send_ack(c, got[2]["messageId"])
    again = recv_n(c, 3, 4.0)
    in_window(time.time(), t0, 1.0, "Exclusive redelivery")
    eq([m["messageId"] for m in again], [ids[0], ids[1], ids[3]],
       "Exclusive: every unacked message again, in order, acked one skipped")
    eq([m["redeliveryCount"] for m in again], [0, 0, 0], "Exclusive redeliveryCount stays 0")
    for m in again:
        send_ack(c, m["messageId"])
    expect_silence(c, 2.6)


@test
def failover_ack_timeout_count_zero():
    t = uniq()
    c = consumer(t, "at", "subscriptionType=Failover&ackTimeoutMillis=1000")
    ids = produce(srv(), t, [b"fo"])
    m0, t0 = recv_timed(c)
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.0, "Failover redelivery")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[0], 0), "Failover redelivery id/count")
    send_ack(c, m1["messageId"])
    expect_silence(c, 2.6)


@test
def ack_timeout_param_bounds_and_disabled():
    t = uniq()
    for i, v in enumerate(("999", "1", "-1")):
        eq(upgrade_status(srv(), path("consumer", t, "bad%d" % i, params="ackTimeoutMillis=" + v))[0],
           400, "ackTimeoutMillis=%s" % v)
    eq(upgrade_status(srv(), path("consumer", t, "ok", params="ackTimeoutMillis=1000"))[0], 101,
       "ackTimeoutMillis=1000")
    c0 = consumer(t, "zero", "subscriptionType=Shared&ackTimeoutMillis=0")
    cd = consumer(t, "dflt", "subscriptionType=Shared")
    produce(srv(), t, [b"never-acked"])
    recv_n(c0, 1)
    recv_n(cd, 1)
    expect_silence_all([c0, cd], 2.6)


@test
def dead_letter_policy_forces_30s_ack_timeout():
    t = uniq()
    c = consumer(t, "dlq30", "subscriptionType=Shared&maxRedeliverCount=3")
    ids = produce(srv(), t, [b"slow"])
    m0, t0 = recv_timed(c)
    eq(m0["messageId"], ids[0], "first delivery")
    expect_silence(c, 29.0)
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 30.0, "redelivery under the implied 30 s ack timeout")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[0], 1), "redelivery id/count")
    send_ack(c, m1["messageId"])


if __name__ == "__main__":
    main()
