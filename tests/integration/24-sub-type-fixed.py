# 24-sub-type-fixed.py - a subscription's type is fixed while it has consumers (issue #3;
# PersistentSubscription).
#
# While a subscription has connected consumers, a consumer asking for another type is refused at
# upgrade with 409 (Pulsar: "Subscription is of different type"); the same type joins (except a
# second Exclusive consumer, also 409). Once every consumer has left, the next consumer's type
# wins, and then the old type is the one refused. The type is not part of the durable cursor: after
# a restart any type may attach, and the unacked backlog is handed to the new type in order.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (connect, eq, main, path, produce, recv_n, restart,  # noqa: E402
                              shared_server, start_server, test, uniq, upgrade_status)

TYPES = ("Exclusive", "Shared", "Failover", "Key_Shared")


def srv():
    return shared_server()


def consumer(topic, sub, typ, s=None):
    return connect(s or srv(), path("consumer", topic, sub, params="subscriptionType=" + typ))


def status(topic, sub, typ, s=None):
    return upgrade_status(s or srv(), path("consumer", topic, sub, params="subscriptionType=" + typ))[0]


@test
def joining_with_another_type_is_409_matrix():
    t = uniq()
    got, want = {}, {}
    for first in TYPES:
        for second in TYPES:
            sub = "%s-then-%s" % (first, second)
            c = consumer(t, sub, first)
            got[sub] = status(t, sub, second)
            want[sub] = 409 if (first != second or first == "Exclusive") else 101
            c.close(timeout=2)
    eq(got, want, "upgrade status of a second consumer, by (first type, second type)")


@test
def next_type_wins_after_everyone_left():
    t = uniq()
    a = consumer(t, "sw", "Shared")
    b = consumer(t, "sw", "Shared")
    eq(status(t, "sw", "Key_Shared"), 409, "Key_Shared while two Shared consumers are connected")
    a.close(timeout=2)
    eq(status(t, "sw", "Key_Shared"), 409, "still 409 while one Shared consumer remains")
    b.close(timeout=2)
    time.sleep(0.2)
    k = consumer(t, "sw", "Key_Shared")
    eq(status(t, "sw", "Shared"), 409, "the new type (Key_Shared) is now the fixed one")
    eq(status(t, "sw", "Key_Shared"), 101, "same type joins")
    k.close(timeout=2)


@test
def backlog_moves_to_the_new_type_in_order():
    t = uniq()
    a = consumer(t, "mv", "Shared")
    ids = produce(srv(), t, [b"b%d" % i for i in range(5)])
    recv_n(a, 5)
    a.close(timeout=2)
    time.sleep(0.2)
    e = consumer(t, "mv", "Exclusive")
    got = recv_n(e, 5)
    eq([m["messageId"] for m in got], ids,
       "unacked Shared backlog delivered to the Exclusive consumer in order")


@test
def type_not_kept_across_restart():
    s = start_server()
    t = uniq()
    a = consumer(t, "rs", "Shared", s=s)
    ids = produce(s, t, [b"r1", b"r2"])
    recv_n(a, 2)
    a.close(timeout=2)
    eq(s.stop(), 0, "clean stop")
    s2 = restart(s)
    f = consumer(t, "rs", "Failover", s=s2)
    eq([m["messageId"] for m in recv_n(f, 2)], ids, "Failover consumer after restart gets the backlog")
    eq(status(t, "rs", "Shared", s=s2), 409, "Shared refused while the Failover consumer is connected")


if __name__ == "__main__":
    main()
