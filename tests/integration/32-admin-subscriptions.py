# 32-admin-subscriptions.py - admin REST on subscriptions (PersistentTopicsBase, issue #4).
#
# Create a subscription at latest / earliest / a message id and consume from it over WebSocket;
# skip N, skip_all, expireMessages/{s}, resetcursor/{timestamp} and resetcursor to an id (the
# connected consumer gets the messages again); peek position/{n} and ledger/{l}/entry/{e} answer
# the raw payload with X-Pulsar-* headers; delete needs ?force while consumers are connected.
# Driven with urllib and python3-websocket against the real binary.

import base64
import json
import time

import websocket

from magnetar_harness import (check, connect, decode_msgid, eq, expect_silence, main, parse_iso,
                              path, produce, recv_n, rest_call, rest_json, shared_server, test,
                              uniq)


def srv():
    return shared_server()


def rest(method, target, body=None, raw=False):
    return (rest_call if raw else rest_json)(srv(), method, target, body)


def tpath(topic, suffix=""):
    return "/admin/v2/persistent/public/default/%s%s" % (topic, "/" + suffix if suffix else "")


def backlog(topic, sub):
    st, stats = rest("GET", tpath(topic, "stats"))
    eq(st, 200, "stats")
    return stats["subscriptions"][sub]["msgBacklog"]


def msgid_json(mid):
    d = decode_msgid(mid)
    return {"ledgerId": d["ledger"], "entryId": d["entry"], "partitionIndex": -1}


@test
def create_at_positions():
    s = srv()
    t = uniq()
    eq(rest("PUT", tpath(t, "subscription/late")), (204, None), "latest (no body) auto-creates the topic")
    ids = produce(s, t, [b"m%d" % i for i in range(5)])
    eq(rest("PUT", tpath(t, "subscription/early"), {"ledgerId": -1, "entryId": -1}), (204, None), "earliest")
    eq(rest("PUT", tpath(t, "subscription/mid"), msgid_json(ids[2])), (204, None), "at an id")
    latest = {"ledgerId": 9223372036854775807, "entryId": 9223372036854775807, "partitionIndex": -1}
    eq(rest("PUT", tpath(t, "subscription/end"), latest), (204, None), "explicit latest")
    eq(rest("PUT", tpath(t, "subscription/early")),
       (409, {"reason": "Subscription already exists for topic"}), "twice")
    eq(rest("PUT", tpath(t, "subscription/bad"), "{\"ledgerId\":1}")[0], 400, "malformed position")
    eq(rest("GET", tpath(t, "subscriptions")), (200, ["early", "end", "late", "mid"]), "listed")
    eq(backlog(t, "late"), 5, "latest was set before the messages")
    eq(backlog(t, "early"), 5, "earliest")
    eq(backlog(t, "mid"), 3, "starts AT the given id")
    eq(backlog(t, "end"), 0, "explicit latest")
    c = connect(s, path("consumer", t, "mid"))
    eq([m["messageId"] for m in recv_n(c, 3)], ids[2:], "consumer starts at the id")
    c.close(timeout=1)


@test
def skip_expire_and_reset():
    s = srv()
    t = uniq()
    eq(rest("PUT", tpath(t, "subscription/s")), (204, None), "create")
    t0 = int(time.time() * 1000)
    ids = produce(s, t, [b"old%d" % i for i in range(4)])
    time.sleep(1.2)
    t1 = int(time.time() * 1000)
    ids += produce(s, t, [b"new%d" % i for i in range(4)])
    eq(rest("POST", tpath(t, "subscription/s/skip/3")), (204, None), "skip 3")
    eq(backlog(t, "s"), 5, "after skip 3")
    eq(rest("POST", tpath(t, "subscription/s/skip/abc"))[0], 404, "non-numeric count")
    eq(rest("POST", tpath(t, "subscription/nope/skip/1")), (404, {"reason": "Subscription not found"}),
       "unknown subscription")
    eq(rest("POST", tpath(t, "subscription/s/resetcursor/%d" % t0)), (204, None), "reset to t0")
    eq(backlog(t, "s"), 8, "everything again")
    eq(rest("POST", tpath(t, "subscription/s/expireMessages/1")), (204, None), "expire older than 1 s")
    eq(backlog(t, "s"), 4, "the 4 old ones expired")
    eq(rest("POST", tpath(t, "subscription/s/resetcursor/%d" % t1)), (204, None), "reset to t1")
    eq(backlog(t, "s"), 4, "the new ones")
    eq(rest("POST", tpath(t, "subscription/s/skip_all")), (204, None), "skip all")
    eq(backlog(t, "s"), 0, "nothing left")
    eq(rest("POST", tpath(t, "subscription/s/resetcursor"), msgid_json(ids[5])), (204, None), "reset to id")
    eq(backlog(t, "s"), 3, "from ids[5] on")
    body = dict(msgid_json(ids[5]), isExcluded=True)
    eq(rest("POST", tpath(t, "subscription/s/resetcursor"), body), (204, None), "reset after id")
    eq(backlog(t, "s"), 2, "after ids[5]")
    eq(rest("POST", tpath(t, "subscription/s/resetcursor"))[0], 400, "reset without a body")
    # A connected consumer receives the messages again after a reset.
    c = connect(s, path("consumer", t, "s"))
    eq([m["messageId"] for m in recv_n(c, 2)], ids[6:], "delivered after the reset")
    eq(rest("POST", tpath(t, "subscription/s/resetcursor"), msgid_json(ids[0])), (204, None), "rewind")
    eq([m["messageId"] for m in recv_n(c, 8)], ids, "redelivered from the start")
    expect_silence(c, 0.3)
    c.close(timeout=1)


@test
def peek_messages_with_headers():
    s = srv()
    t = uniq()
    eq(rest("PUT", tpath(t, "subscription/s")), (204, None), "create")
    prod = connect(s, path("producer", t, params="producerName=peeker"))
    sent = []
    for i, (payload, props) in enumerate(((b"\x00\x01binary", {"a": "1", "b c": "skipped"}),
                                          (b"second", {}))):
        m = {"payload": base64.b64encode(payload).decode(), "context": str(i),
             "properties": props, "eventTime": "2024-01-02T03:04:05.678Z"}
        prod.send(json.dumps(m))
        r = json.loads(prod.recv())
        eq(r["result"], "ok", "publish")
        sent.append((payload, props, r["messageId"]))
    st, h, body = rest("GET", tpath(t, "subscription/s/position/1"), raw=True)
    eq(st, 200, "peek 1")
    eq(body, sent[0][0], "raw payload")
    d = decode_msgid(sent[0][2])
    eq(h.get("X-Pulsar-Message-ID"), "%d:%d" % (d["ledger"], d["entry"]), "message id header")
    eq(h.get("X-Pulsar-PROPERTY-a"), "1", "property header")
    eq(h.get("X-Pulsar-PROPERTY-b c"), None, "a key that is not an HTTP token is left out")
    eq(h.get("X-Pulsar-producer-name"), "peeker", "producer name")
    check(abs(parse_iso(h.get("X-Pulsar-publish-time")) - time.time()) < 60, "publish time header")
    eq(parse_iso(h.get("X-Pulsar-event-time")), parse_iso("2024-01-02T03:04:05.678Z"), "event time header")
    st, h, body = rest("GET", tpath(t, "subscription/s/position/2"), raw=True)
    eq((st, body), (200, b"second"), "peek 2")
    eq(rest("GET", tpath(t, "subscription/s/position/3")), (404, {"reason": "Message not found"}), "beyond")
    eq(rest("GET", tpath(t, "subscription/s/position/0"))[0], 412, "position 0")
    st, h, body = rest("GET", tpath(t, "ledger/%d/entry/%d" % (d["ledger"], d["entry"] + 1)), raw=True)
    eq((st, body), (200, b"second"), "message by id")
    eq(rest("GET", tpath(t, "ledger/%d/entry/99" % d["ledger"])), (404, {"reason": "Message not found"}),
       "missing entry")
    eq(rest("GET", tpath(t, "ledger/%d/entry/0" % (d["ledger"] + 1000)))[0], 404, "another ledger")
    prod.close(timeout=1)


@test
def delete_subscription():
    s = srv()
    t = uniq()
    c = connect(s, path("consumer", t, "s"))
    eq(rest("DELETE", tpath(t, "subscription/s")),
       (412, {"reason": "Subscription has active connected consumers"}), "busy")
    eq(rest("DELETE", tpath(t, "subscription/s") + "?force=true"), (204, None), "forced")
    c.settimeout(5)
    try:
        while True:
            c.recv()
    except websocket.WebSocketConnectionClosedException:
        pass
    except websocket.WebSocketTimeoutException:
        raise AssertionError("consumer session not closed after a forced subscription delete")
    eq(rest("GET", tpath(t, "subscriptions")), (200, []), "gone")
    eq(rest("DELETE", tpath(t, "subscription/s")), (404, {"reason": "Subscription not found"}), "again")
    eq(rest("PUT", tpath(t, "subscription/x")), (204, None), "create")
    eq(rest("DELETE", tpath(t, "subscription/x")), (204, None), "delete without consumers")


if __name__ == "__main__":
    main()
