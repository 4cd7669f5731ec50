# 08-reader.py - reader endpoint (ReaderHandler).
#
# messageId=earliest|latest(default)|<base64 id> where a given id is EXCLUSIVE (reading starts
# after it), readerName and receiverQueueSize accepted, reader flow control (any JSON frame other
# than isEndOfTopic frees one slot), isEndOfTopic exact reply, redeliveryCount always 0, and the
# reader's 500 statuses (receiverQueueSize=abc, undecodable messageId). Readers leave no durable
# state: a second reader with the same start sees the same messages.

import json

from magnetar_harness import (RawWS, b64, connect, eq, expect_silence, main, path, produce,
                              recv_json, recv_n, recv_text, shared_server, test, uniq,
                              upgrade_status)


def srv():
    return shared_server()


def reader(topic, params=None):
    return connect(srv(), path("reader", topic, params=params))


def ack(ws, mid):
    ws.send(json.dumps({"messageId": mid}))


@test
def earliest_reads_everything_in_order():
    t = uniq()
    ids = produce(srv(), t, [b"e%d" % i for i in range(10)])
    r = reader(t, "messageId=earliest")
    got = recv_n(r, 10)
    eq([m["messageId"] for m in got], ids, "earliest reader ids vs producer ids")
    eq([m["payload"] for m in got], [b64(b"e%d" % i) for i in range(10)], "payloads")
    eq({m["redeliveryCount"] for m in got}, {0}, "reader redeliveryCount")
    expect_silence(r, 0.5)
    # No durable state: a second earliest reader reads the same.
    r2 = reader(t, "messageId=earliest&readerName=second")
    eq([m["messageId"] for m in recv_n(r2, 10)], ids, "second earliest reader")


@test
def latest_default_reads_only_new():
    t = uniq()
    produce(srv(), t, [b"old1", b"old2"])
    r_default = reader(t)
    r_latest = reader(t, "messageId=latest")
    ids = produce(srv(), t, [b"new1", b"new2"])
    eq([m["messageId"] for m in recv_n(r_default, 2)], ids, "default (latest) reader")
    eq([m["messageId"] for m in recv_n(r_latest, 2)], ids, "messageId=latest reader")
    expect_silence(r_default, 0.4)


@test
def start_after_given_id_exclusive():
    t = uniq()
    ids = produce(srv(), t, [b"x%d" % i for i in range(6)])
    from urllib.parse import quote
    r = reader(t, "messageId=" + quote(ids[2], safe=""))
    got = recv_n(r, 3)
    eq([m["messageId"] for m in got], ids[3:], "reader from id #2 starts at #3")
    expect_silence(r, 0.5)
    r = reader(t, "messageId=" + quote(ids[5], safe=""))
    expect_silence(r, 0.5)
    more = produce(srv(), t, [b"x6"])
    eq(recv_json(r)["messageId"], more[0], "reader from the last id gets the next new message")


@test
def reader_delivery_format():
    t = uniq()
    produce_ws = connect(srv(), path("producer", t))
    produce_ws.send(json.dumps({"payload": b64(b"fmt"), "key": "k", "properties": {"a": "1"}, "context": "1"}))
    mid = recv_json(produce_ws)["messageId"]
    r = reader(t, "messageId=earliest")
    raw = recv_text(r)
    d = json.loads(raw)
    eq(raw, '{"messageId":"%s","payload":"%s","properties":{"a":"1"},"publishTime":"%s",'
       '"redeliveryCount":0,"key":"k"}' % (mid, b64(b"fmt"), d["publishTime"]), "reader delivery text")


@test
def reader_flow_control():
    t = uniq()
    ids = produce(srv(), t, [b"f%d" % i for i in range(10)])
    r = reader(t, "messageId=earliest&receiverQueueSize=3")
    got = recv_n(r, 3)
    expect_silence(r, 0.8)
    ack(r, got[0]["messageId"])
    got += recv_n(r, 1)
    expect_silence(r, 0.6)
    r.send('{"anything":"counts as an ack for a reader"}')
    got += recv_n(r, 1)
    expect_silence(r, 0.6)
    eq([m["messageId"] for m in got], ids[:5], "reader deliveries under flow control")


@test
def reader_receiver_queue_capped_at_1000():
    t = uniq()
    # More than the default 1000 publishes may be in flight at once on a slow disk: no limit.
    produce(srv(), t, [b"c%d" % i for i in range(1005)], params="maxPendingMessages=0")
    r = reader(t, "messageId=earliest&receiverQueueSize=1001")
    got = recv_n(r, 1000, timeout=30)
    expect_silence(r, 1.0)
    ack(r, got[0]["messageId"])
    recv_n(r, 1)


@test
def reader_is_end_of_topic():
    t = uniq()
    r = reader(t)
    r.send('{"type":"isEndOfTopic"}')
    eq(recv_text(r), '{"endOfTopic":false}', "reader isEndOfTopic")


@test
def reader_bad_json_1002():
    t = uniq()
    ws = RawWS.connect(srv(), path("reader", t))
    ws.send_text("not json")
    code, reason = ws.expect_close()
    eq(code, 1002, "close code for non-JSON reader command (reason %r)" % reason)
    eq(upgrade_status(srv(), path("reader", t))[0], 101, "server still accepts readers")


@test
def reader_params_status():
    t = uniq()
    eq(upgrade_status(srv(), path("reader", t, params="receiverQueueSize=abc"))[0], 500,
       "reader receiverQueueSize=abc")
    eq(upgrade_status(srv(), path("reader", t, params="messageId=%21%21%21"))[0], 500,
       "reader messageId not base64")
    for good in ("readerName=r1", "receiverQueueSize=10", "receiverQueueSize=0", "messageId=latest",
                 "messageId=earliest", "messageId=", "cryptoFailureAction=whatever"):
        eq(upgrade_status(srv(), path("reader", t, params=good))[0], 101, "reader with %s" % good)


@test
def readers_do_not_block_consumers_or_each_other():
    t = uniq()
    r1 = reader(t, "readerName=same")
    r2 = reader(t, "readerName=same")
    c = connect(srv(), path("consumer", t, "sub"))
    ids = produce(srv(), t, [b"m"])
    for ws, what in ((r1, "reader 1"), (r2, "reader 2"), (c, "consumer")):
        eq(recv_json(ws)["messageId"], ids[0], what)


if __name__ == "__main__":
    main()
