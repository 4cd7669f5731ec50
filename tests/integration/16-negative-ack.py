# 16-negative-ack.py - negativeAcknowledge and negativeAckRedeliveryDelay (issue #3;
# ConsumerImpl.negativeAcknowledge; Pulsar's ProxyPublishConsumeTest).
#
# A nacked message is redelivered after negativeAckRedeliveryDelay (default 60000 ms): never before
# the delay, and within delay + 1.5 s. Shared/Key_Shared redeliver exactly the nacked ids with
# redeliveryCount incremented each time (other unacked messages stay where they are);
# Exclusive/Failover rewind and redeliver every unacked message of the consumer, in order, with
# redeliveryCount 0. A nack followed by an ack of the same id before the delay brings nothing back.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (TestFailure, connect, eq, expect_silence, main, path,  # noqa: E402
                              produce, publish, recv_n, recv_timed, send_ack, send_nack,
                              shared_server, test, uniq)

EARLY = 0.02    # the nack leaves us before the server starts the delay: no real slack needed
LATE = 1.5


def srv():
    return shared_server()


def consumer(topic, sub, params):
    return connect(srv(), path("consumer", topic, sub, params=params))


def in_window(t, t0, delay, what):
    dt = t - t0
    if dt < delay - EARLY or dt > delay + LATE:
        raise TestFailure("%s: redelivered %.3fs after the nack, expected within [%.2f, %.2f]"
                          % (what, dt, delay - EARLY, delay + LATE))


def nack_now(ws, mid):
    send_nack(ws, mid)
    return time.time()


@test
def shared_nack_redelivered_after_delay_count_increments():
    t = uniq()
    c = consumer(t, "nk", "subscriptionType=Shared&negativeAckRedeliveryDelay=1000")
    ids = produce(srv(), t, [b"retry-me"])
    m0 = recv_n(c, 1)[0]
    eq((m0["messageId"], m0["redeliveryCount"]), (ids[0], 0), "first delivery")
    t0 = nack_now(c, m0["messageId"])
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.0, "first redelivery")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[0], 1), "first redelivery id/count")
    t1 = nack_now(c, m1["messageId"])
    m2, t2 = recv_timed(c, 4.0)
    in_window(t2, t1, 1.0, "second redelivery")
    eq((m2["messageId"], m2["redeliveryCount"]), (ids[0], 2), "second redelivery id/count")
    send_ack(c, m2["messageId"])
    expect_silence(c, 2.6)


@test
def nack_delay_5000_exactly_two_deliveries():
    # Pulsar's own WS test: first delivery < 4 s, the redelivery only after the 5 s delay.
    t = uniq()
    c = consumer(t, "nk5", "subscriptionType=Shared&negativeAckRedeliveryDelay=5000")
    tp = time.time()
    ids = produce(srv(), t, [b"five"])
    m0, t0 = recv_timed(c, 4.0)
    eq(m0["messageId"], ids[0], "first delivery")
    eq(t0 - tp < 4.0, True, "first delivery within 4 s")
    t0 = nack_now(c, m0["messageId"])
    expect_silence(c, 4.9)
    m1, t1 = recv_timed(c, 3.0)
    in_window(t1, t0, 5.0, "redelivery after 5 s")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[0], 1), "redelivery id/count")
    send_ack(c, m1["messageId"])
    expect_silence(c, 1.5)


@test
def default_delay_is_not_immediate():
    t = uniq()
    c = consumer(t, "nkd", "subscriptionType=Shared")
    produce(srv(), t, [b"default-delay"])
    m0 = recv_n(c, 1)[0]
    send_nack(c, m0["messageId"])
    expect_silence(c, 3.0)    # the default is 60 s


@test
def shared_redelivers_only_the_nacked_id():
    t = uniq()
    c = consumer(t, "nko", "subscriptionType=Shared&negativeAckRedeliveryDelay=1000")
    ids = produce(srv(), t, [b"a", b"b", b"c"])
    got = recv_n(c, 3)
    t0 = nack_now(c, got[1]["messageId"])
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.0, "Shared nack redelivery")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[1], 1), "only the nacked id comes back")
    expect_silence(c, 2.0)


@test
def key_shared_nack_increments_count_keeps_key():
    t = uniq()
    c = consumer(t, "nkk", "subscriptionType=Key_Shared&negativeAckRedeliveryDelay=1000")
    p = connect(srv(), path("producer", t))
    r = publish(p, b"ks", key="order-7", properties={"x": "y"})
    m0 = recv_n(c, 1)[0]
    t0 = nack_now(c, m0["messageId"])
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.0, "Key_Shared nack redelivery")
    eq((m1["messageId"], m1["redeliveryCount"], m1.get("key"), m1["properties"]),
       (r["messageId"], 1, "order-7", {"x": "y"}), "Key_Shared redelivery id/count/key/properties")


@test
def exclusive_nack_rewinds_all_unacked_count_zero():
    t = uniq()
    c = consumer(t, "nke", "negativeAckRedeliveryDelay=1000")
    ids = produce(srv(), t, [b"x0", b"x1", b"x2", b"x3"])
    got = recv_n(c, 4)
    send_ack(c, got[2]["messageId"])
    t0 = nack_now(c, got[1]["messageId"])
    again = recv_n(c, 3, 4.0)
    in_window(time.time(), t0, 1.0, "Exclusive nack redelivery")
    eq([m["messageId"] for m in again], [ids[0], ids[1], ids[3]],
       "Exclusive: all unacked messages again, in order (acked one skipped)")
    eq([m["redeliveryCount"] for m in again], [0, 0, 0], "Exclusive redeliveryCount stays 0")
    for m in again:
        send_ack(c, m["messageId"])
    expect_silence(c, 2.0)


@test
def failover_nack_count_zero():
    t = uniq()
    c = consumer(t, "nkf", "subscriptionType=Failover&negativeAckRedeliveryDelay=1000")
    ids = produce(srv(), t, [b"fo"])
    m0 = recv_n(c, 1)[0]
    t0 = nack_now(c, m0["messageId"])
    m1, t1 = recv_timed(c, 4.0)
    in_window(t1, t0, 1.0, "Failover nack redelivery")
    eq((m1["messageId"], m1["redeliveryCount"]), (ids[0], 0), "Failover redelivery id/count")
    t1 = nack_now(c, m1["messageId"])
    m2, t2 = recv_timed(c, 4.0)
    in_window(t2, t1, 1.0, "Failover second nack redelivery")
    eq(m2["redeliveryCount"], 0, "Failover redeliveryCount still 0")


@test
def nack_then_ack_brings_nothing_back():
    t = uniq()
    c = consumer(t, "nka", "subscriptionType=Shared&negativeAckRedeliveryDelay=1000")
    produce(srv(), t, [b"changed-my-mind"])
    m0 = recv_n(c, 1)[0]
    send_nack(c, m0["messageId"])
    send_ack(c, m0["messageId"])
    expect_silence(c, 2.6)


if __name__ == "__main__":
    main()
