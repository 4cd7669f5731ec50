# 17-dead-letter.py - dead-letter topics (issue #3; DeadLetterPolicy as
# ConsumerHandler sets it; Pulsar's nackMessageTest and
# AbstractWebSocketHandlerTest.consumerBuilderTest).
#
# With maxRedeliverCount=k on a Shared/Key_Shared subscription a message is delivered with
# redeliveryCount 0..k; when it would come back a (k+1)-th time it is published instead to the DLQ
# topic - deadLetterTopic verbatim, else persistent://tenant/ns/topic-subscription-DLQ - and acked
# on the original subscription. The DLQ copy has the same payload and the original properties plus
# REAL_TOPIC (full name of the original topic) and ORIGIN_MESSAGE_ID (the Java MessageId
# toString() "ledgerId:entryId:partitionIndex", partition -1 on a non-partitioned topic).
# Exclusive/Failover never count redeliveries, so they never dead-letter.
#
# Note on the property name: the Java 2.10 client writes the id under the misspelt key
# ORIGIN_MESSAGE_IDY_TIME (RetryMessageUtil.SYSTEM_PROPERTY_ORIGIN_MESSAGE_ID); later clients write
# both that and ORIGIN_MESSAGE_ID. ORIGIN_MESSAGE_ID is required here; ORIGIN_MESSAGE_IDY_TIME is
# tolerated (and must then carry the same value). Since 2.10.2 (PR #16615) the key is copied too.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (b64, connect, decode_msgid, drain, eq, expect_silence,  # noqa: E402
                              expect_silence_all, full_topic, main, path, publish, recv_n,
                              recv_timed, restart, send_ack, send_nack, shared_server, start_server,
                              test, uniq)

LATE = 1.5


def srv():
    return shared_server()


def origin_id(message_id):
    d = decode_msgid(message_id)
    return "%d:%d:%d" % (d["ledger"], d["entry"], d.get("partition", -1))


def expected_props(original, topic, message_id):
    p = dict(original)
    p["REAL_TOPIC"] = full_topic(topic)
    p["ORIGIN_MESSAGE_ID"] = origin_id(message_id)
    return p


def check_dlq_copy(m, payload, props, topic, message_id, what):
    eq(m["payload"], b64(payload), "%s: payload" % what)
    got = dict(m["properties"])
    legacy = got.pop("ORIGIN_MESSAGE_IDY_TIME", None)
    if legacy is not None:
        eq(legacy, origin_id(message_id), "%s: ORIGIN_MESSAGE_IDY_TIME (2.10 key) value" % what)
    eq(got, expected_props(props, topic, message_id), "%s: properties" % what)
    eq(m["redeliveryCount"], 0, "%s: redeliveryCount on the DLQ topic" % what)


def nack_all(c, n, delay=1.0, timeout=4.0):
    """Receives n deliveries, nacking each; returns them and the time of the last nack."""
    out = []
    t_last = None
    for _ in range(n):
        m, _t = recv_timed(c, timeout)
        out.append(m)
        send_nack(c, m["messageId"])
        t_last = time.time()
    return out, t_last


@test
def nack_until_dead_lettered_custom_topic():
    # Pulsar's nackMessageTest: k=1, nack everything -> 2 deliveries, 1 on the DLQ.
    t = uniq()
    dlq = t + "-custom-dlq"
    d = connect(srv(), path("consumer", dlq, "watch"))
    c = connect(srv(), path("consumer", t, "sub", params="subscriptionType=Shared&maxRedeliverCount=1"
                            "&negativeAckRedeliveryDelay=1000&deadLetterTopic=" + full_topic(dlq)))
    p = connect(srv(), path("producer", t))
    r = publish(p, b"poison", properties={"a": "1", "b": "two"})
    got, t_last = nack_all(c, 2)
    eq([m["messageId"] for m in got], [r["messageId"]] * 2, "main consumer deliveries")
    eq([m["redeliveryCount"] for m in got], [0, 1], "redeliveryCount per delivery")
    dm, td = recv_timed(d, 1.0 + LATE + 0.5)
    eq(td - t_last <= 1.0 + LATE, True, "DLQ publish within delay + 1.5 s of the last nack")
    check_dlq_copy(dm, b"poison", {"a": "1", "b": "two"}, t, r["messageId"], "DLQ copy")
    eq(decode_msgid(dm["messageId"])["ledger"] != decode_msgid(r["messageId"])["ledger"], True,
       "the DLQ copy is a message of another topic")
    expect_silence_all([c, d], 2.0)
    c.close(timeout=2)
    c = connect(srv(), path("consumer", t, "sub", params="subscriptionType=Shared"))
    expect_silence(c, 1.0)    # dead-lettered message was acked on the original subscription


@test
def default_dlq_name_after_k_plus_one_deliveries():
    t = uniq()
    c = connect(srv(), path("consumer", t, "mysub", params="subscriptionType=Shared&maxRedeliverCount=2"
                            "&negativeAckRedeliveryDelay=1000"))
    p = connect(srv(), path("producer", t))
    r = publish(p, b"thrice")
    got, _ = nack_all(c, 3)
    eq([m["redeliveryCount"] for m in got], [0, 1, 2], "deliveries with maxRedeliverCount=2")
    expect_silence(c, 1.0 + LATE + 0.5)
    d = connect(srv(), path("consumer", t + "-mysub-DLQ", "watch",
                            params="subscriptionInitialPosition=Earliest"))
    msgs = drain(d, 1.0)
    eq(len(msgs), 1, "messages on %s-mysub-DLQ" % t)
    check_dlq_copy(msgs[0], b"thrice", {}, t, r["messageId"], "default-name DLQ copy")


@test
def dead_letter_via_ack_timeout_key_shared():
    t = uniq()
    d = connect(srv(), path("consumer", t + "-ks-DLQ", "watch"))
    c = connect(srv(), path("consumer", t, "ks", params="subscriptionType=Key_Shared&maxRedeliverCount=1"
                            "&ackTimeoutMillis=1000"))
    p = connect(srv(), path("producer", t))
    r = publish(p, b"never-acked", key="kk", properties={"p": "q"})
    m0, _ = recv_timed(c)
    m1, t1 = recv_timed(c, 4.0)
    eq([m0["redeliveryCount"], m1["redeliveryCount"]], [0, 1], "deliveries before dead-lettering")
    dm, td = recv_timed(d, 4.0)
    eq(0.9 <= td - t1 <= 1.0 + LATE, True, "DLQ publish one ack timeout after the last delivery")
    check_dlq_copy(dm, b"never-acked", {"p": "q"}, t, r["messageId"], "ack-timeout DLQ copy")
    expect_silence_all([c, d], 2.0)


@test
def dlq_copy_keeps_the_key():
    t = uniq()
    d = connect(srv(), path("consumer", t + "-s-DLQ", "watch"))
    c = connect(srv(), path("consumer", t, "s", params="subscriptionType=Shared&maxRedeliverCount=1"
                            "&negativeAckRedeliveryDelay=1000"))
    p = connect(srv(), path("producer", t))
    publish(p, b"keyed-poison", key="customer-42")
    nack_all(c, 2)
    dm = recv_n(d, 1, 4.0)[0]
    eq(dm.get("key"), "customer-42", "key of the DLQ copy (2.10.2+, PR #16615)")


@test
def only_failing_messages_are_dead_lettered():
    t = uniq()
    d = connect(srv(), path("consumer", t + "-m-DLQ", "watch"))
    c = connect(srv(), path("consumer", t, "m", params="subscriptionType=Shared&maxRedeliverCount=1"
                            "&negativeAckRedeliveryDelay=1000"))
    p = connect(srv(), path("producer", t))
    rs = [publish(p, b"m%d" % i, properties={"i": str(i)}) for i in range(3)]
    good = rs[1]["messageId"]
    deliveries = []
    deadline = time.time() + 6.0
    while len(deliveries) < 5 and time.time() < deadline:
        m, _ = recv_timed(c, max(0.1, deadline - time.time()))
        deliveries.append(m)
        if m["messageId"] == good:
            send_ack(c, m["messageId"])
        else:
            send_nack(c, m["messageId"])
    eq(sorted((m["messageId"], m["redeliveryCount"]) for m in deliveries),
       sorted([(rs[0]["messageId"], 0), (rs[0]["messageId"], 1), (good, 0),
               (rs[2]["messageId"], 0), (rs[2]["messageId"], 1)]), "main subscription deliveries")
    dl = recv_n(d, 2, 4.0)
    dl.sort(key=lambda m: m["properties"]["i"])
    check_dlq_copy(dl[0], b"m0", {"i": "0"}, t, rs[0]["messageId"], "DLQ copy of m0")
    check_dlq_copy(dl[1], b"m2", {"i": "2"}, t, rs[2]["messageId"], "DLQ copy of m2")
    expect_silence_all([c, d], 1.5)


@test
def exclusive_never_dead_letters():
    t = uniq()
    d = connect(srv(), path("consumer", t + "-ex-DLQ", "watch"))
    c = connect(srv(), path("consumer", t, "ex",
                            params="maxRedeliverCount=1&negativeAckRedeliveryDelay=1000"))
    p = connect(srv(), path("producer", t))
    r = publish(p, b"exclusive")
    got, _ = nack_all(c, 3)
    eq([(m["messageId"], m["redeliveryCount"]) for m in got], [(r["messageId"], 0)] * 3,
       "Exclusive keeps redelivering with count 0")
    expect_silence(d, 0.5)


@test
def dead_lettered_state_survives_kill9():
    s = start_server()
    t = uniq()
    c = connect(s, path("consumer", t, "k", params="subscriptionType=Shared&maxRedeliverCount=1"
                        "&negativeAckRedeliveryDelay=1000"))
    p = connect(s, path("producer", t))
    r = publish(p, b"durable-poison", properties={"z": "9"})
    nack_all(c, 2)
    time.sleep(1.0 + LATE + 1.0)   # dead-lettered, then a quiet second for the cursor to persist
    s.kill9()
    s2 = restart(s)
    c = connect(s2, path("consumer", t, "k", params="subscriptionType=Shared"))
    expect_silence(c, 1.5)
    d = connect(s2, path("consumer", t + "-k-DLQ", "watch", params="subscriptionInitialPosition=Earliest"))
    msgs = drain(d, 1.0)
    eq(len(msgs), 1, "DLQ messages after kill -9")
    check_dlq_copy(msgs[0], b"durable-poison", {"z": "9"}, t, r["messageId"], "DLQ copy after kill -9")


if __name__ == "__main__":
    main()
