# 13-failover.py - Failover subscriptions on a non-partitioned topic (issue #3;
# AbstractDispatcherSingleActiveConsumer; Pulsar's ProxyPublishConsumeTest).
#
# Pulsar 2.10 keeps Failover consumers of a non-partitioned topic in connection order and makes the
# earliest-connected one active: it receives every message, the others nothing; priorityLevel and
# consumerName play no part. When the active consumer leaves (clean close or dropped TCP) the next
# oldest takes over and first receives, in order, the messages the old one had not acked
# (redeliveryCount stays 0), then new ones. A consumer that comes back queues up at the end.
# Partitioned topics (priority then name per partition) are in 26-failover-partitioned.py.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (check, connect, eq, expect_silence_all, main, path,  # noqa: E402
                              produce, recv_n, send_ack, shared_server, test, uniq)

RECV = 4.0   # takeover and delivery budget (s)


def srv():
    return shared_server()


def failover(topic, sub="fo", extra=""):
    params = "subscriptionType=Failover" + ("&" + extra if extra else "")
    return connect(srv(), path("consumer", topic, sub, params=params))


def ids_of(msgs):
    return [m["messageId"] for m in msgs]


@test
def earliest_connected_gets_everything():
    t = uniq()
    a = failover(t)
    b = failover(t)
    ids = produce(srv(), t, [b"f%d" % i for i in range(10)])
    got = recv_n(a, 10, RECV)
    eq(ids_of(got), ids, "active (earliest) consumer receives every message in order")
    eq({m["redeliveryCount"] for m in got}, {0}, "redeliveryCount")
    expect_silence_all([a, b], 1.0)


@test
def takeover_redelivers_unacked_in_order_then_new():
    t = uniq()
    a = failover(t)
    b = failover(t)
    ids = produce(srv(), t, [b"u%d" % i for i in range(10)])
    got = recv_n(a, 10, RECV)
    for i in (0, 1, 2, 3, 6):
        send_ack(a, got[i]["messageId"])
    time.sleep(0.3)
    expect_silence_all([b], 0.2)
    a.close(timeout=2)
    again = recv_n(b, 5, RECV)
    eq(ids_of(again), [ids[i] for i in (4, 5, 7, 8, 9)],
       "the new active consumer gets the unacked messages, in order, and none of the acked ones")
    eq([m["redeliveryCount"] for m in again], [0] * 5, "Failover redeliveryCount stays 0")
    for m in again:
        send_ack(b, m["messageId"])
    more = produce(srv(), t, [b"n1", b"n2"])
    eq(ids_of(recv_n(b, 2, RECV)), more, "new messages go to the new active consumer")
    expect_silence_all([b], 0.8)


@test
def priority_and_name_ignored_on_non_partitioned_topic():
    t = uniq()
    a = failover(t, extra="priorityLevel=5&consumerName=zzz-last")
    b = failover(t, extra="priorityLevel=0&consumerName=aaa-first")
    ids = produce(srv(), t, [b"p%d" % i for i in range(6)])
    eq(ids_of(recv_n(a, 6, RECV)), ids, "earliest-connected consumer is active regardless of priority/name")
    expect_silence_all([b], 1.0)


@test
def chain_of_three_dropped_connections():
    t = uniq()
    a = failover(t)
    b = failover(t)
    c = failover(t)
    m1 = produce(srv(), t, [b"one"])
    got = recv_n(a, 1, RECV)
    eq(ids_of(got), m1, "first active: a")
    send_ack(a, got[0]["messageId"])
    time.sleep(0.3)
    a.shutdown()            # TCP dropped without a close frame
    m2 = produce(srv(), t, [b"two"])
    got = recv_n(b, 1, RECV)
    eq(ids_of(got), m2, "second active: b (next oldest), not c")
    send_ack(b, got[0]["messageId"])
    expect_silence_all([c], 0.8)
    time.sleep(0.3)
    b.close(timeout=2)
    m3 = produce(srv(), t, [b"three"])
    eq(ids_of(recv_n(c, 1, RECV)), m3, "third active: c")


@test
def returning_consumer_queues_at_the_end():
    t = uniq()
    a = failover(t)
    b = failover(t)
    a.close(timeout=2)
    time.sleep(0.3)
    a2 = failover(t)
    ids = produce(srv(), t, [b"r%d" % i for i in range(4)])
    eq(ids_of(recv_n(b, 4, RECV)), ids, "b became active when a left and stays active when a returns")
    expect_silence_all([a2], 1.0)


@test
def standby_takes_over_backlog_published_while_active_was_busy():
    # receiverQueueSize=2 on the active consumer: the rest of the backlog waits in the
    # subscription; when the active consumer leaves, the standby gets all of it, in order.
    t = uniq()
    a = failover(t, extra="receiverQueueSize=2")
    b = failover(t)
    ids = produce(srv(), t, [b"q%d" % i for i in range(8)])
    got = recv_n(a, 2, RECV)
    eq(ids_of(got), ids[:2], "active consumer limited to its queue size")
    expect_silence_all([a, b], 0.8)
    a.close(timeout=2)
    again = recv_n(b, 8, RECV)
    eq(ids_of(again), ids, "standby receives the whole unacked backlog in order")
    check(all(m["redeliveryCount"] == 0 for m in again), "redeliveryCount 0 after Failover takeover")


if __name__ == "__main__":
    main()
