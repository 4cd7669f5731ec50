# 18-pull-mode.py - pull mode (issue #3; ConsumerHandler.handlePermit;
# Pulsar's ProxyPublishConsumeTest).
#
# pullMode=true: nothing is delivered before the first permit (even with a large backlog);
# {"type":"permit","permitMessages":N} delivers exactly N more; permits accumulate, also when
# granted before messages exist; acks and nacks never add permits (a nacked message that comes back
# waits for the next permit); acks may come from another connection bound to the same
# subscription, and they stick: the acked messages are not redelivered after the receiving
# connection closes.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (connect, eq, expect_silence, expect_silence_all, main,  # noqa: E402
                              path, produce, recv_n, send_ack, send_nack, send_permit,
                              shared_server, test, uniq)


def srv():
    return shared_server()


def consumer(topic, sub, params):
    return connect(srv(), path("consumer", topic, sub, params=params))


def ids_of(msgs):
    return [m["messageId"] for m in msgs]


@test
def nothing_before_first_permit_then_exactly_n():
    t = uniq()
    c = consumer(t, "pull", "pullMode=true&subscriptionType=Shared")
    ids = produce(srv(), t, [b"b%d" % i for i in range(110)])
    expect_silence(c, 0.5)
    send_permit(c, 10)
    eq(ids_of(recv_n(c, 10)), ids[:10], "exactly the first 10 after permit 10")
    expect_silence(c, 0.6)


@test
def permits_10_then_20():
    t = uniq()
    c = consumer(t, "pull", "pullMode=true")
    ids = produce(srv(), t, [b"e%d" % i for i in range(40)])
    send_permit(c, 10)
    got = recv_n(c, 10)
    expect_silence(c, 0.5)
    send_permit(c, 20)
    got += recv_n(c, 20)
    expect_silence(c, 0.6)
    eq(ids_of(got), ids[:30], "10 then 20 messages, in order")


@test
def permits_granted_before_messages_exist_accumulate():
    t = uniq()
    c = consumer(t, "pull", "pullMode=true&subscriptionType=Shared")
    send_permit(c, 2)
    send_permit(c, 1)
    time.sleep(0.2)
    ids = produce(srv(), t, [b"w%d" % i for i in range(6)])
    eq(ids_of(recv_n(c, 3)), ids[:3], "3 permits granted earlier -> 3 messages")
    expect_silence(c, 0.6)
    send_permit(c, 2)
    eq(ids_of(recv_n(c, 2)), ids[3:5], "2 more")
    expect_silence(c, 0.6)


@test
def nacked_message_waits_for_next_permit():
    t = uniq()
    c = consumer(t, "pull", "pullMode=true&subscriptionType=Shared&negativeAckRedeliveryDelay=1000")
    ids = produce(srv(), t, [b"n0", b"n1"])
    send_permit(c, 2)
    got = recv_n(c, 2)
    eq(ids_of(got), ids, "both delivered")
    send_nack(c, got[1]["messageId"])
    send_ack(c, got[0]["messageId"])
    expect_silence(c, 2.5)         # redelivered internally after 1 s, but no permit left
    send_permit(c, 1)
    m = recv_n(c, 1, 3.0)[0]
    eq((m["messageId"], m["redeliveryCount"]), (ids[1], 1), "the nacked message on the next permit")
    expect_silence(c, 0.5)


@test
def acks_from_another_connection_stick():
    t = uniq()
    a = consumer(t, "shared-pull", "pullMode=true&subscriptionType=Shared")
    b = consumer(t, "shared-pull", "pullMode=true&subscriptionType=Shared")
    ids = produce(srv(), t, [b"x%d" % i for i in range(5)])
    send_permit(a, 5)
    got = recv_n(a, 5)
    eq(ids_of(got), ids, "a receives all five")
    for m in got[:3]:
        send_ack(b, m["messageId"])   # acked on b's connection, never delivered there
    expect_silence_all([a, b], 0.5)
    a.close(timeout=2)
    b.close(timeout=2)
    time.sleep(0.2)
    c = consumer(t, "shared-pull", "subscriptionType=Shared")
    again = recv_n(c, 2)
    eq(sorted(ids_of(again)), sorted(ids[3:]), "only the two not acked through b come back")
    expect_silence(c, 1.0)


@test
def acks_do_not_add_permits_exclusive():
    t = uniq()
    c = consumer(t, "pull-ex", "pullMode=true")
    ids = produce(srv(), t, [b"q%d" % i for i in range(8)])
    send_permit(c, 3)
    got = recv_n(c, 3)
    for m in got:
        send_ack(c, m["messageId"])
    for m in got:
        send_ack(c, m["messageId"])   # duplicates neither
    expect_silence(c, 0.8)
    send_permit(c, 5)
    got += recv_n(c, 5)
    eq(ids_of(got), ids, "Exclusive pull consumer: in order, exactly per permits")
    expect_silence(c, 0.5)


if __name__ == "__main__":
    main()
