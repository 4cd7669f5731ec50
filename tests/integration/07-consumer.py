# 07-consumer.py - consumer endpoint semantics (ConsumerHandler, Pulsar's WebSocket
# proxy tests).
#
# Deliveries byte-exact as Pulsar's ConsumerMessage (field order, no whitespace, publishTime in
# ISO_OFFSET_DATE_TIME), ids byte-identical to the producer's receipts and in the same order,
# subscriptions created at the latest position and durable, Exclusive (second -> 409), Failover,
# Shared (disjoint deliveries whose union is everything), ack by id, redelivery of unacked
# messages on reconnect, push-mode flow control (receiverQueueSize=N, capped at 1000),
# isEndOfTopic, unsubscribe, bad commands (1002/1011) and bad params (400).

import json
import threading
import time

from magnetar_harness import (RawWS, b64, check, connect, eq, expect_silence, iso_offset_re, main,
                              parse_iso, path, produce, publish, recv_json, recv_n, recv_text,
                              shared_server, start_server, test, uniq, upgrade_status)


def srv():
    return shared_server()


def consumer(topic, sub="sub", params=None):
    return connect(srv(), path("consumer", topic, sub, params=params))


def ack(ws, mid):
    ws.send(json.dumps({"messageId": mid}))


@test
def roundtrip_ids_identical_in_order():
    t = uniq()
    c = consumer(t)
    p = connect(srv(), path("producer", t) + "/")
    ids = []
    for i in range(20):
        r = publish(p, b"test%d" % i, context=str(i), key=str(i), properties={"i": str(i)})
        eq(r["result"], "ok", "receipt %d" % i)
        ids.append(r["messageId"])
    got = recv_n(c, 20)
    for m in got:
        ack(c, m["messageId"])
    eq([m["messageId"] for m in got], ids, "consumer ids vs producer receipt ids")
    eq([m["payload"] for m in got], [b64(b"test%d" % i) for i in range(20)], "payloads")
    eq([m.get("key") for m in got], [str(i) for i in range(20)], "keys")
    eq([m["properties"] for m in got], [{"i": str(i)} for i in range(20)], "properties")
    eq({m["redeliveryCount"] for m in got}, {0}, "redeliveryCount")


@test
def delivery_exact_format():
    t = uniq()
    c = consumer(t)
    p = connect(srv(), path("producer", t))
    t0 = time.time()
    r1 = publish(p, b"plain", context="1")
    r2 = publish(p, b"full", context="2", key="k", properties={"a": "b"},
                 eventTime="2021-10-29T16:01:38.967-07:00")
    t1 = time.time()
    raw1 = recv_text(c)
    raw2 = recv_text(c)
    d1, d2 = json.loads(raw1), json.loads(raw2)
    for d in (d1, d2):
        check(iso_offset_re().match(d.get("publishTime", "")),
              "publishTime %r is not ISO_OFFSET_DATE_TIME" % d.get("publishTime"))
        pt = parse_iso(d["publishTime"])
        check(t0 - 2 <= pt <= t1 + 2, "publishTime %s not within the publish window" % d["publishTime"])
    eq(raw1, '{"messageId":"%s","payload":"%s","properties":{},"publishTime":"%s","redeliveryCount":0}'
       % (r1["messageId"], b64(b"plain"), d1["publishTime"]), "delivery text without key/eventTime")
    eq(list(d2.keys()), ["messageId", "payload", "properties", "publishTime", "redeliveryCount",
                         "eventTime", "key"], "field order with eventTime and key")
    eq(raw2, '{"messageId":"%s","payload":"%s","properties":{"a":"b"},"publishTime":"%s",'
       '"redeliveryCount":0,"eventTime":"%s","key":"k"}'
       % (r2["messageId"], b64(b"full"), d2["publishTime"], d2["eventTime"]), "delivery text with key/eventTime")
    eq(parse_iso(d2["eventTime"]), parse_iso("2021-10-29T16:01:38.967-07:00"), "eventTime instant")
    check(iso_offset_re().match(d2["eventTime"]), "eventTime format %r" % d2["eventTime"])


@test
def empty_key_is_a_key():
    t = uniq()
    c = consumer(t)
    produce_ws = connect(srv(), path("producer", t))
    publish(produce_ws, b"e", context="1", key="")
    d = recv_json(c)
    eq(d.get("key"), "", "an empty key counts as a key (ProducerHandler)")


@test
def subscription_starts_at_latest():
    t = uniq()
    produce(srv(), t, [b"before"])
    c = consumer(t)
    ids = produce(srv(), t, [b"after"])
    d = recv_json(c)
    eq(d["messageId"], ids[0], "first delivery of a new subscription is the first message after it")
    eq(d["payload"], b64(b"after"), "payload")
    expect_silence(c, 0.5)


@test
def durable_subscription_keeps_backlog():
    t = uniq()
    c = consumer(t, "dur")
    c.close(timeout=2)
    ids = produce(srv(), t, [b"a", b"b", b"c"])
    c = consumer(t, "dur")
    got = recv_n(c, 3)
    eq([m["messageId"] for m in got], ids, "backlog delivered after reconnect, in order")


@test
def exclusive_second_consumer_409():
    t = uniq()
    c1 = consumer(t, "ex")
    eq(upgrade_status(srv(), path("consumer", t, "ex"))[0], 409, "second default (Exclusive) consumer")
    eq(upgrade_status(srv(), path("consumer", t, "ex", params="subscriptionType=Exclusive"))[0], 409,
       "second explicit Exclusive consumer")
    eq(upgrade_status(srv(), path("consumer", t, "ex", params="subscriptionType=Shared"))[0], 409,
       "Shared consumer joining a connected Exclusive subscription")
    eq(upgrade_status(srv(), path("consumer", t, "other"))[0], 101, "another subscription is free")
    c1.close(timeout=2)
    time.sleep(0.2)
    eq(upgrade_status(srv(), path("consumer", t, "ex"))[0], 101, "subscription free after the first closed")


def collect(ws, out, stop_after_silence=1.5):
    ws.settimeout(stop_after_silence)
    while True:
        try:
            t = ws.recv()
        except Exception:
            return
        m = json.loads(t)
        out.append(m)
        ack(ws, m["messageId"])


@test
def shared_disjoint_union_all():
    t = uniq()
    a = consumer(t, "sh", "subscriptionType=Shared")
    b = consumer(t, "sh", "subscriptionType=Shared")
    ids = produce(srv(), t, [b"s%d" % i for i in range(100)])
    ga, gb = [], []
    ths = [threading.Thread(target=collect, args=(a, ga)), threading.Thread(target=collect, args=(b, gb))]
    for th in ths:
        th.start()
    for th in ths:
        th.join(30)
    ia = [m["messageId"] for m in ga]
    ib = [m["messageId"] for m in gb]
    eq(set(ia) & set(ib), set(), "ids delivered to both Shared consumers")
    eq(sorted(ia + ib), sorted(ids), "union of Shared deliveries vs published ids")
    eq(len(ia) + len(ib), 100, "no duplicates")
    check(ia and ib, "round-robin must give both consumers messages (got %d / %d)" % (len(ia), len(ib)))
    # Each consumer sees its share in publish order.
    order = {m: i for i, m in enumerate(ids)}
    eq(ia, sorted(ia, key=order.get), "consumer A order")
    eq(ib, sorted(ib, key=order.get), "consumer B order")


@test
def failover_two_consumers_one_active():
    t = uniq()
    a = consumer(t, "fo", "subscriptionType=Failover")
    b = consumer(t, "fo", "subscriptionType=Failover")
    ids = produce(srv(), t, [b"f%d" % i for i in range(10)])
    ga, gb = [], []
    ths = [threading.Thread(target=collect, args=(a, ga, 1.0)), threading.Thread(target=collect, args=(b, gb, 1.0))]
    for th in ths:
        th.start()
    for th in ths:
        th.join(20)
    eq([m["messageId"] for m in ga], ids, "the earliest Failover consumer gets everything")
    eq(gb, [], "the standby Failover consumer gets nothing")


@test
def unacked_redelivered_on_reconnect():
    t = uniq()
    c = consumer(t, "rd")
    ids = produce(srv(), t, [b"r%d" % i for i in range(5)])
    got = recv_n(c, 5)
    eq([m["messageId"] for m in got], ids, "first delivery")
    for m in got[:3]:
        ack(c, m["messageId"])
    expect_silence(c, 0.3)   # acks produce no response
    c.close(timeout=2)
    c = consumer(t, "rd")
    again = recv_n(c, 2)
    eq([m["messageId"] for m in again], ids[3:], "only the unacked messages are redelivered")
    eq([m["payload"] for m in again], [b64(b"r3"), b64(b"r4")], "redelivered payloads")
    expect_silence(c, 0.8)


@test
def ack_out_of_order_then_reconnect():
    t = uniq()
    c = consumer(t, "ooo")
    ids = produce(srv(), t, [b"o%d" % i for i in range(6)])
    got = recv_n(c, 6)
    for i in (5, 1, 3):
        ack(c, got[i]["messageId"])
    time.sleep(0.2)
    c.close(timeout=2)
    c = consumer(t, "ooo")
    again = recv_n(c, 3)
    eq(sorted(m["messageId"] for m in again), sorted([ids[0], ids[2], ids[4]]),
       "individually acked messages are not redelivered (0, 2, 4 remain)")
    expect_silence(c, 0.8)


@test
def push_flow_control_receiver_queue_size():
    t = uniq()
    c = consumer(t, "fc", "receiverQueueSize=5")
    ids = produce(srv(), t, [b"q%d" % i for i in range(20)])
    got = recv_n(c, 5)
    expect_silence(c, 1.0)
    ack(c, got[0]["messageId"])
    got += recv_n(c, 1)
    expect_silence(c, 0.7)
    for m in got[1:4]:
        ack(c, m["messageId"])
    got += recv_n(c, 3)
    expect_silence(c, 0.7)
    eq([m["messageId"] for m in got], ids[:9], "deliveries in order under flow control")


@test
def receiver_queue_size_zero_means_one():
    t = uniq()
    c = consumer(t, "z", "receiverQueueSize=0")
    produce(srv(), t, [b"a", b"b", b"c"])
    got = recv_n(c, 1)
    expect_silence(c, 0.8)
    ack(c, got[0]["messageId"])
    recv_n(c, 1)
    expect_silence(c, 0.5)


@test
def receiver_queue_size_capped_at_1000():
    t = uniq()
    c = consumer(t, "cap", "receiverQueueSize=5000")
    # More than the default 1000 publishes may be in flight at once on a slow disk: no limit.
    produce(srv(), t, [b"c%d" % i for i in range(1010)], params="maxPendingMessages=0")
    got = recv_n(c, 1000, timeout=30)
    expect_silence(c, 1.0)
    ack(c, got[0]["messageId"])
    recv_n(c, 1)
    expect_silence(c, 0.5)


@test
def bogus_ack_frees_a_slot():
    # ConsumerHandler: acks are not matched to delivered ids; any ack frees one slot.
    t = uniq()
    c = consumer(t, "bog", "receiverQueueSize=2")
    ids = produce(srv(), t, [b"b%d" % i for i in range(4)])
    recv_n(c, 2)
    expect_silence(c, 0.7)
    other = produce(srv(), uniq(), [b"x"])[0]   # a well-formed id from another topic
    ack(c, other)
    eq(recv_json(c)["messageId"], ids[2], "one more delivery after acking a foreign id")


@test
def is_end_of_topic_exact_text():
    t = uniq()
    c = consumer(t)
    c.send('{"type":"isEndOfTopic"}')
    eq(recv_text(c), '{"endOfTopic":false}', "isEndOfTopic reply on an empty topic")
    ids = produce(srv(), t, [b"e"])
    d = recv_json(c)
    eq(d["messageId"], ids[0], "delivery")
    c.send('{"type":"isEndOfTopic"}')
    eq(recv_text(c), '{"endOfTopic":false}', "isEndOfTopic reply on a live topic")


@test
def unsubscribe_removes_subscription():
    t = uniq()
    c = consumer(t, "gone")
    ids = produce(srv(), t, [b"u1"])
    eq(recv_json(c)["messageId"], ids[0], "delivery before unsubscribe")
    c.send('{"type":"unsubscribe"}')
    time.sleep(0.3)
    late = produce(srv(), t, [b"u2"])
    expect_silence(c, 0.7)   # no more deliveries on the unsubscribed socket
    c.close(timeout=2)
    c2 = consumer(t, "gone")
    fresh = produce(srv(), t, [b"u3"])
    d = recv_json(c2)
    eq(d["messageId"], fresh[0],
       "a new consumer on an unsubscribed name starts at latest (must not get %s or %s)" % (ids[0], late[0]))
    expect_silence(c2, 0.5)


@test
def bad_commands_close_codes():
    t = uniq()
    s = srv()
    bystander = consumer(t, "by")
    cases = [
        ("not json", b"this is not json", 1002),
        ("JSON array", b"[1,2,3]", 1002),
        ("permit without permitMessages", b'{"type":"permit"}', 1002),
        ("ack without messageId", b"{}", 1011),
        ("unknown type without messageId", b'{"type":"whatever"}', 1011),
        ("nack without messageId", b'{"type":"negativeAcknowledge"}', 1011),
        ("ack with non-base64 id", b'{"messageId":"!!not-base64!!"}', 1011),
    ]
    fails = []
    for i, (what, frame, want) in enumerate(cases):
        ws = RawWS.connect(s, path("consumer", t, "bad%d" % i))
        ws.send_text(frame)
        try:
            code, reason = ws.expect_close()
        except AssertionError as e:
            fails.append("%s: %s" % (what, e))
            continue
        if code != want:
            fails.append("%s: expected close %d, got %r (reason %r)" % (what, want, code, reason))
        ws.close_socket()
    # The server keeps serving: the bystander still gets messages and new sessions work.
    ids = produce(s, t, [b"still"])
    eq(recv_json(bystander)["messageId"], ids[0], "bystander consumer delivery after bad clients")
    eq(upgrade_status(s, path("consumer", t, "new"))[0], 101, "new consumer after bad clients")
    if fails:
        raise AssertionError("; ".join(fails))


@test
def bad_consumer_params_400():
    t = uniq()
    bad = ["subscriptionType=shared", "subscriptionType=Foo", "ackTimeoutMillis=500",
           "ackTimeoutMillis=abc", "receiverQueueSize=abc", "receiverQueueSize=-1",
           "priorityLevel=-1", "priorityLevel=x", "subscriptionMode=durable"]
    got = {b: upgrade_status(srv(), path("consumer", t, "s-%d" % i, params=b))[0]
           for i, b in enumerate(bad)}
    eq({k: v for k, v in got.items() if v != 400}, {}, "params that must give 400 -> status")
    eq(upgrade_status(srv(), path("consumer", t, ""))[0], 400, "empty subscription")


@test
def good_consumer_params_accepted():
    t = uniq()
    good = ["subscriptionType=Exclusive", "subscriptionType=Shared", "subscriptionType=Failover",
            "subscriptionType=Key_Shared", "ackTimeoutMillis=0", "ackTimeoutMillis=1000",
            "receiverQueueSize=0", "receiverQueueSize=1001", "priorityLevel=0", "priorityLevel=3",
            "consumerName=abc", "pullMode=true", "pullMode=garbage", "cryptoFailureAction=garbage",
            "subscriptionMode=NonDurable", "subscriptionMode=Durable", "negativeAckRedeliveryDelay=100",
            "unknownParam=1"]
    got = {g: upgrade_status(srv(), path("consumer", t, "g-%d" % i, params=g))[0]
           for i, g in enumerate(good)}
    eq({k: v for k, v in got.items() if v != 101}, {}, "params that must be accepted -> status")


@test
def json_escaping_in_deliveries_exact():
    t = uniq()
    c = consumer(t)
    p = connect(srv(), path("producer", t))
    # On the wire (JSON escapes): value q"b\s/n<LF>t<TAB>c<U+0001> café 中 😀, key k\"
    val_in = r'q\"b\\s/n\nt\tc\u0001 caf\u00e9 \u4e2d \ud83d\ude00'
    p.send(r'{"payload":"","context":"esc","key":"k\\\"","properties":{"v":"' + val_in + r'"}}')
    r = recv_json(p)
    eq(r.get("result"), "ok", "receipt")
    raw = recv_text(c)
    d = json.loads(raw)
    decoded = 'q"b\\s/n\nt\tc\x01 caf\u00e9 \u4e2d \U0001F600'
    eq(d["properties"], {"v": decoded}, "decoded property value")
    eq(d["key"], 'k\\"', "decoded key")
    eq(d["payload"], "", "empty payload delivered as an empty string")
    # Jackson's escaping: \" \\ \n \t and \u0001 escaped; '/' and non-ASCII written raw (UTF-8).
    want_val = r'q\"b\\s/n\nt\tc\u0001 ' + 'caf\u00e9 \u4e2d \U0001F600'
    want = ('{"messageId":"%s","payload":"","properties":{"v":"%s"},"publishTime":"%s",'
            '"redeliveryCount":0,"key":"%s"}' % (r["messageId"], want_val, d["publishTime"], r'k\\\"'))
    eq(raw, want, "delivery text with escapes")


@test
def nul_characters_in_strings_preserved():
    # JSON allows \u0000 inside strings; Pulsar (Java strings) keeps it. A C server must not
    # truncate keys, property values or contexts at the NUL.
    t = uniq()
    c = consumer(t)
    p = connect(srv(), path("producer", t))
    p.send(r'{"payload":"eA==","context":"c\u0000x","key":"k\u0000y","properties":{"p":"v\u0000z"}}')
    r = recv_json(p)
    eq(r.get("result"), "ok", "receipt")
    eq(r.get("context"), "c\x00x", "context with NUL echoed")
    d = recv_json(c)
    eq(d.get("key"), "k\x00y", "key with NUL")
    eq(d.get("properties"), {"p": "v\x00z"}, "property with NUL")


@test
def repeated_query_params_first_wins():
    t = uniq()
    eq(upgrade_status(srv(), path("consumer", t, "r1", params="subscriptionType=Shared&subscriptionType=foo"))[0],
       101, "first subscriptionType (Shared) wins over a later bad one")
    eq(upgrade_status(srv(), path("consumer", t, "r2", params="subscriptionType=foo&subscriptionType=Shared"))[0],
       400, "first subscriptionType (foo) wins over a later good one")
    a = consumer(t, "r3", "subscriptionType=Shared&subscriptionType=Exclusive")
    b = consumer(t, "r3", "subscriptionType=Shared")
    a.close(timeout=1)
    b.close(timeout=1)


@test
def publish_time_in_server_time_zone():
    # Pulsar's DateFormatter: publishTime/eventTime use the server's default zone: Z for UTC, else +HH:MM.
    for tz, suffix in (("UTC", "Z"), ("Asia/Kolkata", "+05:30")):
        s = start_server(env={"TZ": tz})
        t = uniq()
        c = connect(s, path("consumer", t, "s"))
        p = connect(s, path("producer", t))
        t0 = time.time()
        publish(p, b"tz", context="1", eventTime="2021-10-29T16:01:38.967-07:00")
        d = recv_json(c)
        check(d["publishTime"].endswith(suffix), "TZ=%s: publishTime %r should end with %s"
              % (tz, d["publishTime"], suffix))
        check(abs(parse_iso(d["publishTime"]) - t0) < 5, "TZ=%s: publishTime %r is not now" % (tz, d["publishTime"]))
        eq(d.get("eventTime"), "2021-10-29T23:01:38.967Z" if suffix == "Z" else "2021-10-30T04:31:38.967+05:30",
           "TZ=%s: eventTime rendered in the server zone" % tz)
        s.stop()


if __name__ == "__main__":
    main()
