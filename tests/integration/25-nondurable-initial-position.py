# 25-nondurable-initial-position.py - subscriptionMode and subscriptionInitialPosition (issue #3;
# ConsumerHandler.getConsumerConfiguration; Pulsar's
# AbstractWebSocketHandlerTest.consumerBuilderTest).
#
# subscriptionInitialPosition (Latest default, Earliest) only decides where a NEW subscription
# starts: an existing durable subscription keeps its cursor whatever the consumer asks for.
# subscriptionMode=NonDurable: the cursor lives only while consumers are connected - it is not
# listed among the topic's (durable) subscriptions, acks do not outlive it, a reconnect starts
# afresh at the requested initial position, and nothing of it survives kill -9, while a durable
# subscription on the same topic does.

import json
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (admin, connect, eq, expect_silence, main, path, produce,  # noqa: E402
                              recv_n, restart, send_ack, shared_server, start_server, test,
                              topic_admin_path, uniq, upgrade_status)


def srv():
    return shared_server()


def consumer(topic, sub, params=None, s=None):
    return connect(s or srv(), path("consumer", topic, sub, params=params))


def subscriptions(topic, s=None):
    st, _, body = admin(s or srv(), "GET", topic_admin_path(topic, "subscriptions"))
    eq(st, 200, "GET subscriptions status")
    return sorted(json.loads(body))


def ids_of(msgs):
    return [m["messageId"] for m in msgs]


@test
def latest_is_the_default_and_explicit_value():
    t = uniq()
    produce(srv(), t, [b"old1", b"old2"])
    a = consumer(t, "dflt")
    b = consumer(t, "lat", "subscriptionInitialPosition=Latest")
    expect_silence(a, 0.5)
    expect_silence(b, 0.1)
    new = produce(srv(), t, [b"new"])
    eq(ids_of(recv_n(a, 1)), new, "default (Latest) subscription gets only new messages")
    eq(ids_of(recv_n(b, 1)), new, "explicit Latest")
    expect_silence(a, 0.3)


@test
def earliest_does_not_rewind_an_existing_subscription():
    t = uniq()
    old = produce(srv(), t, [b"before-sub"])
    c = consumer(t, "keep")
    mid = produce(srv(), t, [b"m1", b"m2"])
    for m in recv_n(c, 2):
        send_ack(c, m["messageId"])
    time.sleep(0.2)
    c.close(timeout=2)
    late = produce(srv(), t, [b"while-away"])
    c = consumer(t, "keep", "subscriptionInitialPosition=Earliest")
    eq(ids_of(recv_n(c, 1)), late, "existing subscription resumes at its cursor, not at the earliest")
    expect_silence(c, 0.6)
    e = consumer(t, "fresh", "subscriptionInitialPosition=Earliest")
    eq(ids_of(recv_n(e, 4)), old + mid + late, "a new Earliest subscription gets the whole topic")


@test
def nondurable_earliest_restarts_from_the_beginning():
    t = uniq()
    ids = produce(srv(), t, [b"n%d" % i for i in range(4)])
    c = consumer(t, "nd", "subscriptionMode=NonDurable&subscriptionInitialPosition=Earliest")
    got = recv_n(c, 4)
    eq(ids_of(got), ids, "NonDurable Earliest reads the topic from the start")
    for m in got:
        send_ack(c, m["messageId"])
    eq("nd" in subscriptions(t), False, "NonDurable subscription not listed")
    time.sleep(0.2)
    c.close(timeout=2)
    time.sleep(0.2)
    c = consumer(t, "nd", "subscriptionMode=NonDurable&subscriptionInitialPosition=Earliest")
    eq(ids_of(recv_n(c, 4)), ids, "acks died with the cursor: everything again from the start")
    expect_silence(c, 0.5)


@test
def nondurable_unacked_not_kept_on_disconnect():
    t = uniq()
    c = consumer(t, "nd2", "subscriptionMode=NonDurable&subscriptionType=Shared")
    first = produce(srv(), t, [b"unacked"])
    eq(ids_of(recv_n(c, 1)), first, "delivered")
    c.close(timeout=2)
    time.sleep(0.2)
    c = consumer(t, "nd2", "subscriptionMode=NonDurable&subscriptionType=Shared")
    expect_silence(c, 0.8)     # a fresh Latest cursor: the unacked message is not redelivered
    fresh = produce(srv(), t, [b"fresh"])
    eq(ids_of(recv_n(c, 1)), fresh, "only new messages")


@test
def nondurable_and_durable_share_a_topic_across_kill9():
    s = start_server()
    t = uniq()
    d = consumer(t, "dur", s=s)
    n = consumer(t, "eph", "subscriptionMode=NonDurable", s=s)
    ids = produce(s, t, [b"k1", b"k2"])
    eq(ids_of(recv_n(d, 2)), ids, "durable consumer")
    eq(ids_of(recv_n(n, 2)), ids, "NonDurable consumer")
    eq(subscriptions(t, s), ["dur"], "only the durable subscription is listed")
    s.kill9()
    s2 = restart(s)
    eq(subscriptions(t, s2), ["dur"], "after kill -9 the durable subscription is back, the other is gone")
    d = consumer(t, "dur", s=s2)
    eq(sorted(ids_of(recv_n(d, 2))), sorted(ids), "durable unacked messages redelivered after kill -9")
    n = consumer(t, "eph", "subscriptionMode=NonDurable", s=s2)
    expect_silence(n, 0.8)


@test
def bad_values_400():
    t = uniq()
    for i, q in enumerate(("subscriptionMode=nondurable", "subscriptionInitialPosition=latest",
                           "subscriptionInitialPosition=Middle")):
        eq(upgrade_status(srv(), path("consumer", t, "b%d" % i, params=q))[0], 400, q)


if __name__ == "__main__":
    main()
