# 06-producer.py - producer endpoint: message fields, receipts, errors, params (ProducerHandler).
#
# Receipts must be byte-exact Pulsar 2.10 text: {"result":"ok","messageId":"...","context":"1",
# "errorCode":0,"schemaVersion":0}; a NUMBER context (as the page's Python example sends) is
# echoed as a string; send-error:3 (no context) for unparseable JSON, send-error:7 (context
# echoed) for bad/missing base64 payload or a bad eventTime; exactly one receipt per frame; the
# session stays open after errors. producerName must be unique per topic (409); bad query params
# -> 400. Message ids: base64 MessageIdData ending 0x30 0x00, consecutive entries.

import json
import re
import time

from magnetar_harness import (b64, check, connect, decode_msgid, eq, expect_silence, iso_offset_re,
                              main, parse_iso, path, pub_msg, publish, publish_many, recv_json,
                              recv_n, recv_text, shared_server, test, uniq, upgrade_status)


def srv():
    return shared_server()


def prod(topic=None, params=None):
    return connect(srv(), path("producer", topic or uniq(), params=params))


def ok_text(mid, context=None):
    if context is None:
        return '{"result":"ok","messageId":"%s","errorCode":0,"schemaVersion":0}' % mid
    return ('{"result":"ok","messageId":"%s","context":%s,"errorCode":0,"schemaVersion":0}'
            % (mid, json.dumps(context)))


@test
def receipt_exact_text_string_context():
    ws = prod()
    ws.send('{"payload":"SGVsbG8gV29ybGQ=","properties":{"key1":"value1","key2":"value2"},"context":"1"}')
    t = recv_text(ws)
    m = re.match(r'^\{"result":"ok","messageId":"([A-Za-z0-9+/=]+)"', t)
    check(m is not None, "receipt does not start with result/messageId: %r" % t)
    eq(t, ok_text(m.group(1), "1"), "receipt text")


@test
def receipt_number_context_echoed_as_string():
    ws = prod()
    ws.send('{"payload":"SGVsbG8gV29ybGQ=","context":5}')
    t = recv_text(ws)
    mid = json.loads(t)["messageId"]
    eq(t, ok_text(mid, "5"), "receipt for numeric context 5")


@test
def receipt_without_context():
    ws = prod()
    ws.send('{"payload":"SGVsbG8gV29ybGQ="}')
    t = recv_text(ws)
    mid = json.loads(t)["messageId"]
    eq(t, ok_text(mid), "receipt without context (no context key at all)")


@test
def message_id_encoding():
    ws = prod()
    ids = [publish(ws, b"m%d" % i, context=str(i))["messageId"] for i in range(3)]
    ds = [decode_msgid(x) for x in ids]
    for x, d in zip(ids, ds):
        eq(d["raw"][:1], b"\x08", "id %s starts with field 1 (ledgerId)" % x)
        eq(d["raw"][-2:], b"\x30\x00", "id %s must end with batch_size=0 (2.10 form)" % x)
        eq(d["order"], [1, 2, 6], "fields of a non-partitioned, non-batched id %s" % x)
        eq(x, __import__("base64").b64encode(d["raw"]).decode(), "standard padded base64 of %s" % x)
    eq(ds[1]["entry"], ds[0]["entry"] + 1, "consecutive entry ids")
    eq(ds[2]["entry"], ds[1]["entry"] + 1, "consecutive entry ids")
    eq(len({d["ledger"] for d in ds}), 1, "one ledger per topic")


@test
def all_optional_fields_accepted():
    ws = prod()
    fields = {
        "key": "k1",
        "properties": {"a": "1", "b": "two"},
        "replicationClusters": ["standalone"],
        "eventTime": "2021-10-29T16:01:38.967-07:00",
        "deliverAt": int(time.time() * 1000) - 1000,
        "deliverAfterMs": 1,
        "sequenceId": 42,
        "disableReplication": False,
        "unknownFieldIgnored": {"x": [1, 2]},
    }
    r = publish(ws, b"full", context="f", **fields)
    eq(r.get("result"), "ok", "receipt with every optional field (%r)" % r)
    r = publish(ws, b"z", context="z", eventTime="2022-05-01T10:00:00Z")
    eq(r.get("result"), "ok", "eventTime with Z offset")
    r = publish(ws, b"", context="empty")
    eq(r.get("result"), "ok", "empty payload is valid base64 of 0 bytes")
    ws.send('{"payload":"cGFk","context":"nopad"}')
    eq(recv_json(ws).get("result"), "ok", "payload 'cGFk' (4 chars, no padding needed)")


@test
def payload_without_padding_accepted():
    ws = prod()
    ws.send('{"payload":"SGVsbG8","context":"np"}')   # "Hello" without "=" padding
    r = recv_json(ws)
    eq(r.get("result"), "ok", "Java basic decoder accepts missing padding (%r)" % r)


@test
def send_error_3_unparseable_json():
    ws = prod()
    for bad in ("not json", "[1,2]", '{"payload":', '"str"', "{\"properties\": [1]}"):
        ws.send(bad)
        r = recv_json(ws)
        eq(r.get("result"), "send-error:3", "result for %r" % bad)
        check("context" not in r, "send-error:3 must not carry a context: %r" % r)
        check("messageId" not in r, "error receipt must not carry a messageId: %r" % r)
    ws.send('{"payload":"eA==","context":"ctx-lost","properties":"notAnObject"}')
    r = recv_json(ws)
    eq(r.get("result"), "send-error:3", "wrong type for properties")
    check("context" not in r, "send-error:3 never echoes context: %r" % r)
    # Session still open and working.
    r = publish(ws, b"after", context="after")
    eq(r.get("result"), "ok", "publish after parse errors")


@test
def send_error_7_bad_payload_and_event_time():
    ws = prod()
    cases = [
        ('{"payload":"!!!!","context":"c1"}', "c1", "non-base64 payload"),
        ('{"payload":"SGVs-G8=","context":"c2"}', "c2", "URL-safe alphabet is not basic base64"),
        ('{"context":"c3"}', "c3", "missing payload"),
        ('{"payload":null,"context":"c4"}', "c4", "null payload"),
        ('{"payload":"eA==","eventTime":"yesterday","context":"c5"}', "c5", "garbage eventTime"),
        ('{"payload":"eA==","eventTime":"2021-10-29T16:01:38.967","context":"c6"}', "c6",
         "eventTime without offset"),
    ]
    for frame, ctx, what in cases:
        ws.send(frame)
        r = recv_json(ws)
        eq(r.get("result"), "send-error:7", "result for %s" % what)
        eq(r.get("context"), ctx, "context echoed for %s" % what)
        check("messageId" not in r, "error receipt must not carry messageId (%s): %r" % (what, r))
    r = publish(ws, b"after", context="after")
    eq(r.get("result"), "ok", "publish after send-error:7")


@test
def one_receipt_per_frame_mixed_pipeline():
    ws = prod()
    frames = []
    expect = {}
    for i in range(60):
        c = "c%d" % i
        kind = i % 3
        if kind == 0:
            frames.append(pub_msg(b"ok%d" % i, c))
            expect[c] = "ok"
        elif kind == 1:
            frames.append('{"payload":"@@","context":"%s"}' % c)
            expect[c] = "send-error:7"
        else:
            frames.append('{"payload":"eA==","context":"%s"' % c)  # truncated JSON
    for f in frames:
        ws.send(f)
    rs = recv_n(ws, 60, timeout=15)
    expect_silence(ws, 0.5)
    got = {}
    n3 = 0
    for r in rs:
        if r.get("result") == "send-error:3":
            n3 += 1
        else:
            got[r.get("context")] = r.get("result")
    eq(n3, 20, "send-error:3 receipts")
    eq(got, expect, "results by context")


@test
def many_pipelined_ids_strictly_increasing():
    ws = prod()
    rs = publish_many(ws, [b"p%d" % i for i in range(500)])
    entries = [decode_msgid(r["messageId"])["entry"] for r in rs]
    eq(entries, list(range(entries[0], entries[0] + 500)), "entry ids of 500 pipelined messages in send order")


@test
def producer_name_unique():
    t = uniq()
    a = prod(t, "producerName=p1")
    st, _, _ = upgrade_status(srv(), path("producer", t, params="producerName=p1"))
    eq(st, 409, "second producer with the same producerName")
    b = prod(t, "producerName=p2")  # a different name is fine
    eq(publish(b, b"x", context="1")["result"], "ok", "other name publishes")
    st, _, _ = upgrade_status(srv(), path("producer", uniq(), params="producerName=p1"))
    eq(st, 101, "same producerName on another topic")
    a.close(timeout=2)
    time.sleep(0.2)
    st, _, _ = upgrade_status(srv(), path("producer", t, params="producerName=p1"))
    eq(st, 101, "producerName free again after the first producer closed")
    # Unnamed producers never clash.
    c1 = prod(t)
    c2 = prod(t)
    eq(publish(c1, b"a", context="1")["result"], "ok", "unnamed 1")
    eq(publish(c2, b"b", context="1")["result"], "ok", "unnamed 2")


@test
def bad_query_params_400():
    t = uniq()
    bad = ["hashingScheme=foo", "messageRoutingMode=foo", "compressionType=foo",
           "initialSequenceId=abc", "compressionType=lz4", "messageRoutingMode=roundrobinpartition",
           "sendTimeoutMillis=abc", "batchingMaxMessages=x1", "maxPendingMessages=1.5"]
    got = {b: upgrade_status(srv(), path("producer", t, params=b))[0] for b in bad}
    eq({k: v for k, v in got.items() if v != 400}, {}, "params that must give 400 -> status")


@test
def good_query_params_accepted():
    t = uniq()
    good = ["hashingScheme=Murmur3_32Hash", "hashingScheme=JavaStringHash",
            "messageRoutingMode=RoundRobinPartition", "messageRoutingMode=SinglePartition",
            "messageRoutingMode=CustomPartition", "compressionType=LZ4", "compressionType=ZLIB",
            "compressionType=ZSTD", "compressionType=NONE", "compressionType=SNAPPY",
            "initialSequenceId=5", "sendTimeoutMillis=30001", "batchingEnabled=garbage",
            "batchingEnabled=true&batchingMaxMessages=1001&batchingMaxPublishDelay=5",
            "maxPendingMessages=1001", "unknownParam=1", "token=abc"]
    got = {g: upgrade_status(srv(), path("producer", t, params=g))[0] for g in good}
    eq({k: v for k, v in got.items() if v != 101}, {}, "params that must be accepted -> status")


@test
def compressed_producer_roundtrip():
    s = srv()
    for ct in ("LZ4", "ZLIB", "ZSTD"):
        t = uniq()
        cons = connect(s, path("consumer", t, "s"))
        p = connect(s, path("producer", t, params="compressionType=" + ct))
        payload = b"compress me " * 200
        r = publish(p, payload, context=ct)
        eq(r["result"], "ok", "receipt with %s" % ct)
        d = recv_json(cons)
        eq(d["payload"], b64(payload), "consumer gets the decompressed payload (%s)" % ct)


@test
def event_time_and_key_delivered():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "s"))
    p = connect(s, path("producer", t))
    publish(p, b"e", context="1", eventTime="2021-10-29T16:01:38.967-07:00", key="the-key",
            properties={"p": "v"})
    d = recv_json(cons)
    check(iso_offset_re().match(d.get("eventTime", "")), "eventTime format %r" % d.get("eventTime"))
    eq(parse_iso(d["eventTime"]), parse_iso("2021-10-29T16:01:38.967-07:00"), "eventTime instant")
    eq(d.get("key"), "the-key", "key")
    eq(d.get("properties"), {"p": "v"}, "properties")


if __name__ == "__main__":
    main()
