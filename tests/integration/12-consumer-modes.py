# 12-consumer-modes.py - consumer behaviours beyond the basics (ConsumerHandler,
# Pulsar's WebSocket proxy tests).
#
# Pull mode (no delivery before permits, exactly n per permit of n, permits accumulate, acks do
# not add permits; two Shared pull consumers get exactly what each permitted), Shared
# priorityLevel (level 0 served first), subscriptionInitialPosition=Earliest,
# subscriptionMode=NonDurable, unsubscribe (admin list empties within 1 s; refused with 1002 while
# other consumers are connected), negativeAcknowledge counting for flow control, ack of base64
# that is not a MessageIdData (1002), and the remaining 400s (blank names, DLQ params, negatives).

import json
import time

from magnetar_harness import (RawWS, check, connect, eq, expect_silence, http_get, main, path,
                              produce, recv_json, recv_n, shared_server, test, uniq, upgrade_status)


def srv():
    return shared_server()


def consumer(topic, sub="sub", params=None):
    return connect(srv(), path("consumer", topic, sub, params=params))


def permit(ws, n):
    ws.send(json.dumps({"type": "permit", "permitMessages": n}))


def subscriptions(topic):
    st, _, body = http_get(srv(), "/admin/v2/persistent/public/default/%s/subscriptions" % topic)
    eq(st, 200, "GET subscriptions status")
    return json.loads(body)


@test
def pull_mode_permits():
    t = uniq()
    c = consumer(t, "pull", "pullMode=true&subscriptionType=Shared")
    ids = produce(srv(), t, [b"p%d" % i for i in range(20)])
    expect_silence(c, 0.6)          # nothing before permits
    permit(c, 3)
    got = recv_n(c, 3)
    expect_silence(c, 0.6)
    for m in got:                   # acks do not add permits in pull mode
        c.send(json.dumps({"messageId": m["messageId"]}))
    expect_silence(c, 0.6)
    for _ in range(3):
        permit(c, 2)
    got += recv_n(c, 6)
    expect_silence(c, 0.6)
    eq([m["messageId"] for m in got], ids[:9], "pull-mode deliveries in order")


@test
def pull_mode_two_shared_consumers():
    t = uniq()
    a = consumer(t, "pull2", "pullMode=true&subscriptionType=Shared")
    b = consumer(t, "pull2", "pullMode=true&subscriptionType=Shared")
    ids = produce(srv(), t, [b"m%d" % i for i in range(30)])
    permit(a, 3)
    for _ in range(3):
        permit(b, 2)
    ga = recv_n(a, 3)
    gb = recv_n(b, 6)
    expect_silence(a, 0.6)
    expect_silence(b, 0.1)
    got = [m["messageId"] for m in ga + gb]
    eq(len(set(got)), 9, "distinct deliveries")
    check(set(got) <= set(ids), "deliveries come from the topic")


@test
def permit_ignored_in_push_mode():
    t = uniq()
    c = consumer(t, "push", "receiverQueueSize=2")
    produce(srv(), t, [b"a", b"b", b"c", b"d"])
    recv_n(c, 2)
    permit(c, 10)
    expect_silence(c, 0.6)


@test
def shared_priority_level_served_first():
    t = uniq()
    hi = consumer(t, "prio", "subscriptionType=Shared&priorityLevel=0&receiverQueueSize=2")
    lo = consumer(t, "prio", "subscriptionType=Shared&priorityLevel=1")
    ids = produce(srv(), t, [b"x%d" % i for i in range(10)])
    gh = recv_n(hi, 2)
    gl = recv_n(lo, 8)
    expect_silence(hi, 0.5)
    eq(sorted(m["messageId"] for m in gh + gl), sorted(ids), "union")
    eq([m["messageId"] for m in gh], ids[:2], "priority 0 consumer gets the first messages up to its queue size")


@test
def initial_position_earliest():
    t = uniq()
    ids = produce(srv(), t, [b"e1", b"e2", b"e3"])
    c = consumer(t, "early", "subscriptionInitialPosition=Earliest")
    eq([m["messageId"] for m in recv_n(c, 3)], ids, "Earliest subscription gets the existing backlog")
    eq(upgrade_status(srv(), path("consumer", t, "bad", params="subscriptionInitialPosition=earliest"))[0],
       400, "subscriptionInitialPosition is case-sensitive")


@test
def non_durable_subscription():
    t = uniq()
    c = consumer(t, "nd", "subscriptionMode=NonDurable")
    ids = produce(srv(), t, [b"n1"])
    eq(recv_json(c)["messageId"], ids[0], "non-durable consumer receives")
    eq("nd" in subscriptions(t), False, "a NonDurable subscription is not listed as durable")
    c.close(timeout=2)
    time.sleep(0.2)
    produce(srv(), t, [b"while-away"])
    c = consumer(t, "nd", "subscriptionMode=NonDurable")
    fresh = produce(srv(), t, [b"n2"])
    eq(recv_json(c)["messageId"], fresh[0], "a NonDurable subscription does not keep a backlog")


@test
def unsubscribe_admin_list_empties():
    t = uniq()
    c = consumer(t, "my-sub")
    eq(subscriptions(t), ["my-sub"], "subscriptions before unsubscribe")
    c.send('{"type":"unsubscribe"}')
    deadline = time.time() + 1.0
    subs = None
    while time.time() < deadline:
        subs = subscriptions(t)
        if subs == []:
            break
        time.sleep(0.05)
    eq(subs, [], "subscriptions within 1 s of unsubscribe")


@test
def unsubscribe_refused_with_other_consumers():
    t = uniq()
    s = srv()
    a = RawWS.connect(s, path("consumer", t, "sh", params="subscriptionType=Shared"))
    b = consumer(t, "sh", "subscriptionType=Shared")
    a.send_text('{"type":"unsubscribe"}')
    code, reason = a.expect_close()
    eq(code, 1002, "close code when unsubscribe fails (other consumers connected; reason %r)" % reason)
    a.send_close(1002)   # a well-behaved client answers the close and drops TCP
    a.close_socket()
    eq(subscriptions(t), ["sh"], "subscription kept")
    ids = produce(s, t, [b"still", b"two", b"three"])
    got = recv_n(b, 3, timeout=1.5)
    eq(sorted(m["messageId"] for m in got), sorted(ids), "the other consumer receives everything")


@test
def nack_counts_for_flow_control():
    t = uniq()
    c = consumer(t, "nk", "receiverQueueSize=2")
    ids = produce(srv(), t, [b"k%d" % i for i in range(4)])
    got = recv_n(c, 2)
    expect_silence(c, 0.6)
    c.send(json.dumps({"type": "negativeAcknowledge", "messageId": got[0]["messageId"]}))
    got += recv_n(c, 1)
    eq([m["messageId"] for m in got], ids[:3], "one more delivery after a nack")
    c.close(timeout=2)
    c = consumer(t, "nk")
    again = recv_n(c, 4)
    eq(sorted(m["messageId"] for m in again), sorted(ids), "nacked and unacked messages return on reconnect")


@test
def ack_with_invalid_message_id_data_1002():
    s = srv()
    ws = RawWS.connect(s, path("consumer", uniq(), "inv"))
    ws.send_text('{"messageId":"AAAA"}')   # base64 of 00 00 00: not a MessageIdData
    code, reason = ws.expect_close()
    eq(code, 1002, "close code for base64 that is not a MessageIdData (reason %r)" % reason)


@test
def more_bad_params_400():
    t = uniq()
    cases = {
        path("producer", t, params="producerName="): "blank producerName",
        path("producer", t, params="sendTimeoutMillis=-1"): "negative sendTimeoutMillis",
        path("producer", t, params="maxPendingMessages=-1"): "negative maxPendingMessages",
        path("consumer", t, "a", params="consumerName="): "blank consumerName",
        path("consumer", t, "b", params="negativeAckRedeliveryDelay=-1"): "negative negativeAckRedeliveryDelay",
        path("consumer", t, "c", params="deadLetterTopic=dlq"): "deadLetterTopic without maxRedeliverCount",
        path("consumer", t, "d", params="subscriptionMode=Foo"): "bad subscriptionMode",
    }
    got = {what: upgrade_status(srv(), target)[0] for target, what in cases.items()}
    eq({k: v for k, v in got.items() if v != 400}, {}, "cases that must give 400 -> status")
    ok = path("consumer", t, "e", params="maxRedeliverCount=3&subscriptionType=Shared")
    eq(upgrade_status(srv(), ok)[0], 101, "maxRedeliverCount alone")


@test
def different_type_with_connected_consumers_409():
    t = uniq()
    a = consumer(t, "typ", "subscriptionType=Shared")
    eq(upgrade_status(srv(), path("consumer", t, "typ", params="subscriptionType=Failover"))[0], 409,
       "Failover consumer joining a connected Shared subscription")
    a.close(timeout=2)
    time.sleep(0.2)
    eq(upgrade_status(srv(), path("consumer", t, "typ", params="subscriptionType=Failover"))[0], 101,
       "when all consumers are gone the next consumer's type wins")


@test
def pingpong_endpoint():
    s = srv()
    from magnetar_harness import OP_PING, OP_PONG
    for target in ("/ws/pingpong", "/ws/v2/pingpong"):
        ws = RawWS.connect(s, target)
        ws.send_frame(OP_PING, b"test")
        f = ws.recv_frame()
        eq((f.opcode, f.payload), (OP_PONG, b"test"), "pong on %s" % target)
        ws.send_text("ignored text")
        ws.send_frame(OP_PING, b"2")
        f = ws.recv_frame()
        eq((f.opcode, f.payload), (OP_PONG, b"2"), "text is ignored on %s (next frame is the pong)" % target)


if __name__ == "__main__":
    main()
