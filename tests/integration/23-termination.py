# 23-termination.py - topic termination and isEndOfTopic (issue #3;
# ConsumerImpl.hasReachedEndOfTopic; Pulsar's ProxyPublishConsumeTest).
#
# POST /admin/v2/persistent/{tenant}/{ns}/{topic}/terminate answers 200 with the last message id as
# JSON ({"ledgerId":L,"entryId":E,"partitionIndex":-1}). Afterwards a new producer is refused with
# 503, a connected producer's sends fail with send-error:8, consumers still connect and drain the
# backlog, and {"type":"isEndOfTopic"} answers exactly {"endOfTopic":true} only once everything up
# to the termination point was dispatched to the subscription ({"endOfTopic":false} before, and
# always on a topic that is not terminated). An unknown topic gives 404. Termination is durable
# (kill -9).

import json
import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (admin, connect, decode_msgid, drain, end_of_topic, eq,  # noqa: E402
                              expect_silence, main, path, produce, publish, recv_n, restart,
                              send_ack, send_permit, shared_server, start_server, test,
                              topic_admin_path, uniq, upgrade_status, wait_until)

TRUE, FALSE = '{"endOfTopic":true}', '{"endOfTopic":false}'


def srv():
    return shared_server()


def terminate(topic, s=None):
    st, _, body = admin(s or srv(), "POST", topic_admin_path(topic, "terminate"))
    return st, body


def check_last_id(body, message_id):
    d = json.loads(body)
    want = decode_msgid(message_id)
    eq((d.get("ledgerId"), d.get("entryId")), (want["ledger"], want["entry"]),
       "terminate response ledgerId/entryId = last published message")
    eq(d.get("partitionIndex", -1), -1, "partitionIndex of a non-partitioned topic")


def eot_becomes_true(ws, timeout=2.0):
    wait_until(lambda: end_of_topic(ws) == TRUE, timeout, 0.1, "isEndOfTopic true")


@test
def terminate_returns_last_message_id_unknown_404():
    t = uniq()
    ids = produce(srv(), t, [b"a", b"b", b"c"])
    st, body = terminate(t)
    eq(st, 200, "terminate status (body %r)" % body[:200])
    check_last_id(body, ids[-1])
    eq(terminate(uniq("never-created"))[0], 404, "terminate a topic that does not exist")


@test
def producers_refused_after_termination():
    t = uniq()
    p = connect(srv(), path("producer", t))
    eq(publish(p, b"before")["result"], "ok", "publish before termination")
    eq(terminate(t)[0], 200, "terminate")
    r = publish(p, b"after", context="x")
    eq((r["result"], r.get("context")), ("send-error:8", "x"), "send on a terminated topic")
    eq("messageId" in r, False, "no messageId in an error receipt")
    eq(upgrade_status(srv(), path("producer", t))[0], 503, "new producer on a terminated topic")
    eq(upgrade_status(srv(), path("consumer", t, "late"))[0], 101, "consumers may still connect")


@test
def end_of_topic_pull_mode_spec_sequence():
    # Pulsar's WS test: 30 messages, permits 10 -> 10, false; permits 20 -> 30, false; terminate -> true.
    t = uniq()
    c = connect(srv(), path("consumer", t, "eot", params="pullMode=true"))
    ids = produce(srv(), t, [b"m%d" % i for i in range(30)])
    send_permit(c, 10)
    got = recv_n(c, 10)
    eq(end_of_topic(c), FALSE, "isEndOfTopic text after 10 of 30")
    send_permit(c, 20)
    got += recv_n(c, 20)
    eq([m["messageId"] for m in got], ids, "all 30 in order")
    eq(end_of_topic(c), FALSE, "isEndOfTopic on a topic that is not terminated")
    eq(terminate(t)[0], 200, "terminate")
    eot_becomes_true(c)
    expect_silence(c, 0.3)


@test
def end_of_topic_false_until_backlog_dispatched():
    t = uniq()
    c = connect(srv(), path("consumer", t, "slow", params="receiverQueueSize=1"))
    ids = produce(srv(), t, [b"s%d" % i for i in range(5)])
    st, body = terminate(t)
    eq(st, 200, "terminate")
    check_last_id(body, ids[-1])
    got = recv_n(c, 1)
    expect_silence(c, 0.3)
    eq(end_of_topic(c), FALSE, "isEndOfTopic with 4 messages not yet dispatched")
    time.sleep(0.5)
    eq(end_of_topic(c), FALSE, "still false while the backlog waits")
    for _ in range(4):
        send_ack(c, got[-1]["messageId"])
        got += recv_n(c, 1)
    eq([m["messageId"] for m in got], ids, "backlog drained in order after termination")
    eot_becomes_true(c)


@test
def reconnecting_consumer_drains_then_end_of_topic():
    t = uniq()
    c = connect(srv(), path("consumer", t, "drain", params="subscriptionType=Shared"))
    ids = produce(srv(), t, [b"d%d" % i for i in range(4)])
    recv_n(c, 4)
    c.close(timeout=2)
    eq(terminate(t)[0], 200, "terminate")
    c = connect(srv(), path("consumer", t, "drain", params="subscriptionType=Shared"))
    got = recv_n(c, 4)
    eq(sorted(m["messageId"] for m in got), sorted(ids), "unacked backlog delivered after termination")
    for m in got:
        send_ack(c, m["messageId"])
    eot_becomes_true(c)
    c2 = connect(srv(), path("consumer", t, "brand-new"))
    eot_becomes_true(c2)     # a new subscription at the end of a terminated topic


@test
def termination_survives_kill9():
    s = start_server()
    t = uniq()
    c = connect(s, path("consumer", t, "k"))
    ids = produce(s, t, [b"k1", b"k2"])
    for m in recv_n(c, 2):
        send_ack(c, m["messageId"])
    st, body = terminate(t, s)
    eq(st, 200, "terminate")
    check_last_id(body, ids[-1])
    time.sleep(1.5)
    s.kill9()
    s2 = restart(s)
    eq(upgrade_status(s2, path("producer", t))[0], 503, "producer after kill -9 and restart")
    c = connect(s2, path("consumer", t, "k"))
    eq(drain(c, 0.5), [], "nothing redelivered")
    eot_becomes_true(c)


if __name__ == "__main__":
    main()
