# 94-peek-partition-key.py - peeked messages carry their key (X-Pulsar-partition-key).
#
# PersistentTopicsBase.generateResponseWithEntry adds "X-Pulsar-partition-key" when the message
# has a key (PulsarAdmin's TopicsImpl reads it back as the message key); the web console shows it
# in its "Latest messages" table. Both peek forms are covered (subscription position n and
# ledger/entry); a message without a key has no such header; control characters in a key
# become spaces so that they cannot split the header.

import json

from magnetar_harness import (check, connect, decode_msgid, eq, http_get, main, path, pub_msg,
                              rest_call, shared_server, test, topic_admin_path, uniq)


def peek(srv, target):
    status, h, body = http_get(srv, target)
    eq(status, 200, "GET %s" % target)
    return h, body


@test
def peek_has_the_key_header():
    srv = shared_server()
    t = uniq("peekkey")
    eq(rest_call(srv, "PUT", topic_admin_path(t, "subscription/s"), {"ledgerId": -1, "entryId": -1})[0],
       204, "create subscription")
    prod = connect(srv, path("producer", t))
    ids = []
    for m in (pub_msg(b"with key", key="customer-7"), pub_msg(b"no key"),
              pub_msg(b"odd key", key="a\r\nX-Evil: 1")):
        prod.send(m)
        r = json.loads(prod.recv())
        eq(r["result"], "ok", "publish")
        ids.append(decode_msgid(r["messageId"]))
    prod.close()
    h, body = peek(srv, topic_admin_path(t, "subscription/s/position/1"))
    eq((body, h.get("x-pulsar-partition-key")), (b"with key", "customer-7"), "position 1 key")
    h, body = peek(srv, topic_admin_path(t, "ledger/%d/entry/%d" % (ids[0]["ledger"], ids[0]["entry"])))
    eq(h.get("x-pulsar-partition-key"), "customer-7", "ledger/entry key")
    h, body = peek(srv, topic_admin_path(t, "subscription/s/position/2"))
    eq((body, h.get("x-pulsar-partition-key")), (b"no key", None), "no header without a key")
    h, body = peek(srv, topic_admin_path(t, "subscription/s/position/3"))
    eq(h.get("x-pulsar-partition-key"), "a  X-Evil: 1", "control characters become spaces")
    check("x-evil" not in h, "the key cannot add a header")


if __name__ == "__main__":
    main()
