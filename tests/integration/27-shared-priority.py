# 27-shared-priority.py - Shared dispatch order: priorityLevel, then round-robin (issue #3;
# PersistentDispatcherMultipleConsumers).
#
# Shared dispatch serves the consumers of the best (lowest) priorityLevel while any of them has room
# (receiverQueueSize = its outstanding-message budget here) and only then the next level;
# connection order does not change that. Within a level consumers are served round-robin: messages
# published one at a time (each delivered before the next is sent) alternate strictly between two
# idle consumers of the same level. A slot freed at level 0 is used before level 1 again.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (connect, eq, expect_silence_all, main, path, produce,  # noqa: E402
                              publish, recv_any, recv_n, send_ack, shared_server, test, uniq)


def srv():
    return shared_server()


def shared(topic, prio, extra="", sub="sh"):
    q = "subscriptionType=Shared&priorityLevel=%d" % prio + ("&" + extra if extra else "")
    return connect(srv(), path("consumer", topic, sub, params=q))


@test
def level0_fills_before_level1():
    t = uniq()
    hi1 = shared(t, 0, "receiverQueueSize=3")
    lo = shared(t, 1)
    hi2 = shared(t, 0, "receiverQueueSize=3")
    ids = produce(srv(), t, [b"m%d" % i for i in range(10)])
    g1, g2 = recv_n(hi1, 3), recv_n(hi2, 3)
    gl = recv_n(lo, 4)
    expect_silence_all([hi1, hi2, lo], 0.8)
    eq(sorted(m["messageId"] for m in g1 + g2 + gl), sorted(ids), "every message exactly once")
    eq(sorted(m["messageId"] for m in g1 + g2), sorted(ids[:6]),
       "the two level-0 consumers get the first six (their budget), level 1 the rest")


@test
def level0_served_regardless_of_connection_order():
    t = uniq()
    lo = shared(t, 3)
    hi = shared(t, 0)
    ids = produce(srv(), t, [b"o%d" % i for i in range(6)])
    eq([m["messageId"] for m in recv_n(hi, 6)], ids, "the level-0 consumer gets everything, in order")
    expect_silence_all([lo], 0.8)


@test
def freed_level0_slot_is_used_before_level1():
    t = uniq()
    hi = shared(t, 0, "receiverQueueSize=2")
    lo = shared(t, 1)
    ids = produce(srv(), t, [b"f%d" % i for i in range(4)])
    gh = recv_n(hi, 2)
    gl = recv_n(lo, 2)
    eq([m["messageId"] for m in gh], ids[:2], "level 0 first")
    eq([m["messageId"] for m in gl], ids[2:], "overflow to level 1")
    send_ack(hi, gh[0]["messageId"])
    time.sleep(0.3)
    more = produce(srv(), t, [b"again"])
    eq([m["messageId"] for m in recv_n(hi, 1)], more, "the freed level-0 slot takes the next message")
    expect_silence_all([hi, lo], 0.6)


@test
def round_robin_within_a_level():
    t = uniq()
    a = shared(t, 0)
    b = shared(t, 0)
    lo = shared(t, 1)
    p = connect(srv(), path("producer", t))
    order = []
    for i in range(8):
        r = publish(p, b"rr%d" % i)
        idx, m = recv_any([a, b, lo], 3.0)
        eq(m["messageId"], r["messageId"], "message %d delivered" % i)
        order.append(idx)
    expect_silence_all([a, b, lo], 0.5)
    eq(2 in order, False, "level-1 consumer idle while level-0 consumers have room")
    eq(order.count(0), 4, "each level-0 consumer gets half (order %s)" % order)
    eq(all(order[i] != order[i + 1] for i in range(len(order) - 1)), True,
       "strict alternation between the two level-0 consumers (order %s)" % order)


if __name__ == "__main__":
    main()
