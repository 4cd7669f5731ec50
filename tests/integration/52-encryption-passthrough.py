# 52-encryption-passthrough.py - client-side encryption pass-through (issue #7; Pulsar 3.2+
# ProducerHandler, PIP-290).
#
# Pulsar 3.2+ (PIP-290): a producer whose encryptionKeys parameter is base64 of a JSON map
# {keyName: {keyValue: <base64>, metadata: {...}}} sends payloads it already compressed and
# encrypted; each message may carry encryptionParam (base64), compressionType and
# uncompressedMessageSize, which the server stores untouched (no batching, no compression of its
# own). Consumers (cryptoFailureAction=CONSUME, as Pulsar's own WS test) receive the payload
# unchanged plus encryptionContext exactly as Pulsar's ConsumerMessage has it: keys, param,
# compressionType, uncompressedMessageSize and Pulsar's batchSize {"empty":false,"present":true}
# quirk, in that order, no algorithm. Bad per-message fields are send-error:7; compressionType NONE
# alone is fine (Pulsar's own client-side-encryption test sends it without
# uncompressedMessageSize).

import base64
import json
import os
import random
import sys
import urllib.parse
from collections import OrderedDict

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (admin, b64, connect, connect_retry, decode_msgid, eq,  # noqa: E402
                              eq_bytes, expect_silence, main, msgid_b64, path, read_n, recv_json,
                              recv_n, recv_text, restart, send_ack, send_burst, shared_server,
                              start_server, test, topic_admin_path, unb64, uniq, upgrade_status)

RNG = random.Random(52)
KV_RSA = base64.b64encode(RNG.randbytes(48)).decode()
KV_EC = base64.b64encode(RNG.randbytes(37)).decode()
KEYS = {"client-rsa.pem": {"keyValue": KV_RSA, "metadata": {"version": "v1", "ckms": "kms-1"}},
        "client-ecdsa.pem": {"keyValue": KV_EC}}          # metadata omitted: consumers see {}
EXPECT_KEYS = {"client-rsa.pem": {"keyValue": KV_RSA, "metadata": {"version": "v1", "ckms": "kms-1"}},
               "client-ecdsa.pem": {"keyValue": KV_EC, "metadata": {}}}
CTX_ORDER = ["keys", "param", "compressionType", "uncompressedMessageSize", "batchSize"]
MSG_ORDER = ["messageId", "payload", "properties", "publishTime", "redeliveryCount", "eventTime",
             "encryptionContext", "key"]


def srv():
    return shared_server()


def enc_param(keys=None):
    """encryptionKeys query value: URL-encoded base64 of the JSON key map (as Pulsar's test does)."""
    raw = json.dumps(KEYS if keys is None else keys).encode()
    return "encryptionKeys=" + urllib.parse.quote(base64.b64encode(raw).decode(), safe="")


def enc_msg(cipher, param, context, **extra):
    m = {"payload": b64(cipher), "encryptionParam": b64(param), "context": context}
    m.update(extra)
    return json.dumps(m)


def expected_ctx(param, ct="NONE", size=0, keys=None):
    return {"keys": EXPECT_KEYS if keys is None else keys, "param": b64(param), "compressionType": ct,
            "uncompressedMessageSize": size, "batchSize": {"empty": False, "present": True}}


def recv_ordered(ws, timeout=5.0):
    """Next message as (dict, list of top-level keys in wire order, encryptionContext key order)."""
    text = recv_text(ws, timeout)
    m = json.loads(text, object_pairs_hook=OrderedDict)
    ctx = m.get("encryptionContext")
    return json.loads(text), list(m.keys()), (list(ctx.keys()) if isinstance(ctx, dict) else None)


def check_order(keys, what):
    known = [k for k in keys if k in MSG_ORDER]
    eq(known, [k for k in MSG_ORDER if k in keys], "%s: field order (ConsumerMessage)" % what)


@test
def consumer_gets_encryption_context_exactly():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub", params="cryptoFailureAction=CONSUME"))
    prod = connect(s, path("producer", t, params=enc_param()))
    cipher = RNG.randbytes(133)
    param = RNG.randbytes(12)
    prod.send(enc_msg(cipher, param, "c1", key="k1", properties={"a": "b"}))
    r = recv_json(prod)
    eq(r.get("result"), "ok", "receipt (%r)" % r)
    d = decode_msgid(r["messageId"])
    eq(r["messageId"], msgid_b64(d["ledger"], d["entry"]), "plain (non-batch) id")
    m, order, ctx_order = recv_ordered(cons)
    eq(m["messageId"], r["messageId"], "delivered id")
    eq_bytes(unb64(m["payload"]), cipher, "payload passed through untouched")
    eq(m.get("encryptionContext"), expected_ctx(param), "encryptionContext")
    eq(ctx_order, CTX_ORDER, "encryptionContext field order (no algorithm)")
    check_order(order, "consumer message")
    eq(m.get("key"), "k1", "key")
    eq(m.get("properties"), {"a": "b"}, "properties")


@test
def per_message_compression_fields_stored_untouched():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub", params="cryptoFailureAction=CONSUME"))
    prod = connect(s, path("producer", t, params=enc_param()))
    cases = [("LZ4", 1234), ("ZLIB", 1), ("ZSTD", 1048576), ("SNAPPY", 77), ("NONE", None)]
    sent = []
    for i, (ct, size) in enumerate(cases):
        cipher = RNG.randbytes(50 + i)   # not valid compressed data: the server must not touch it
        param = RNG.randbytes(12)
        extra = {"compressionType": ct}
        if size is not None:
            extra["uncompressedMessageSize"] = size
        prod.send(enc_msg(cipher, param, str(i), **extra))
        r = recv_json(prod)
        eq(r.get("result"), "ok", "receipt with compressionType %s (%r)" % (ct, r))
        sent.append((cipher, param, ct, size or 0, r["messageId"]))
    for cipher, param, ct, size, mid in sent:
        m = recv_json(cons)
        eq(m["messageId"], mid, "delivered id (%s)" % ct)
        eq_bytes(unb64(m["payload"]), cipher, "payload with compressionType %s" % ct)
        eq(m.get("encryptionContext"), expected_ctx(param, ct, size), "encryptionContext with %s" % ct)


@test
def encryption_mode_disables_batching_and_compression():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub", params="cryptoFailureAction=CONSUME"))
    prod = connect(s, path("producer", t, params=enc_param() + "&batchingEnabled=true&compressionType=ZSTD"))
    ciphers = [b"\x00" * 400 + bytes([i]) for i in range(6)]   # compressible, yet must stay as sent
    params = [RNG.randbytes(12) for _ in range(6)]
    send_burst(prod, [enc_msg(c, p, str(i)) for i, (c, p) in enumerate(zip(ciphers, params))])
    rs = sorted(recv_n(prod, 6), key=lambda r: int(r["context"]))
    ids = [r["messageId"] for r in rs]
    for r in rs:
        eq(r.get("result"), "ok", "receipt %r" % r)
    d0 = decode_msgid(ids[0])
    eq(ids, [msgid_b64(d0["ledger"], d0["entry"] + i) for i in range(6)],
       "one plain entry per message: batching is off in encryption mode")
    for i in range(6):
        m = recv_json(cons)
        eq(m["messageId"], ids[i], "delivered id %d" % i)
        eq_bytes(unb64(m["payload"]), ciphers[i], "payload %d" % i)
        eq(m.get("encryptionContext"), expected_ctx(params[i]),
           "encryptionContext %d: compressionType is the message's own (none given), not ZSTD" % i)


@test
def context_survives_restart_and_reader_gets_payload_unchanged():
    s = start_server()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub", params="cryptoFailureAction=CONSUME"))
    prod = connect(s, path("producer", t, params=enc_param()))
    cipher = RNG.randbytes(64)
    param = RNG.randbytes(16)
    prod.send(enc_msg(cipher, param, "r", compressionType="ZLIB", uncompressedMessageSize=640))
    r = recv_json(prod)
    eq(r.get("result"), "ok", "receipt")
    eq(recv_json(cons)["messageId"], r["messageId"], "first delivery")
    cons.close(timeout=1)
    prod.close(timeout=1)
    eq(s.stop(), 0, "clean exit")
    s = restart(s)
    cons = connect_retry(s, path("consumer", t, "sub", params="cryptoFailureAction=CONSUME"))
    m = recv_json(cons)
    eq(m["messageId"], r["messageId"], "redelivered id after restart")
    eq_bytes(unb64(m["payload"]), cipher, "payload after restart")
    eq(m.get("encryptionContext"), expected_ctx(param, "ZLIB", 640), "encryptionContext after restart")
    send_ack(cons, m["messageId"])
    rd = read_n(s, path("reader", t, params="messageId=earliest"), 1)
    eq(rd[0]["messageId"], r["messageId"], "reader id")
    eq_bytes(unb64(rd[0]["payload"]), cipher, "reader payload unchanged")


@test
def crypto_failure_action_values_accepted():
    s = srv()
    t = uniq()
    for i, v in enumerate(("FAIL", "DISCARD", "CONSUME", "garbage", "consume")):
        eq(upgrade_status(s, path("consumer", t, "s%d" % i, params="cryptoFailureAction=" + v))[0], 101,
           "consumer with cryptoFailureAction=%s" % v)
        eq(upgrade_status(s, path("reader", t, params="cryptoFailureAction=" + v))[0], 101,
           "reader with cryptoFailureAction=%s" % v)


@test
def bad_per_message_fields():
    s = srv()
    prod = connect(s, path("producer", uniq(), params=enc_param()))
    prod.send(json.dumps({"payload": b64(b"x"), "encryptionParam": "!!not base64!!", "context": "p"}))
    r = recv_json(prod)
    eq(r.get("result"), "send-error:7", "bad encryptionParam base64 (%r)" % r)
    eq(r.get("context"), "p", "context echoed")
    prod.send(json.dumps({"payload": b64(b"x"), "encryptionParam": b64(b"iv"), "compressionType": "LZ4",
                          "context": "c"}))
    r = recv_json(prod)
    eq(r.get("result"), "send-error:7", "compressionType LZ4 without uncompressedMessageSize (%r)" % r)
    eq(r.get("context"), "c", "context echoed")
    prod.send(json.dumps({"payload": b64(b"x"), "encryptionParam": b64(b"iv"), "compressionType": "BOGUS",
                          "uncompressedMessageSize": 3, "context": "e"}))
    r = recv_json(prod)   # Pulsar's mapper reads an unknown enum value as null: only the size is left
    eq(r.get("result"), "send-error:7", "unknown compressionType with a size (%r)" % r)
    eq(r.get("context"), "e", "context echoed")
    prod.send(json.dumps({"payload": b64(b"fine"), "encryptionParam": b64(b"iv"), "context": "ok"}))
    eq(recv_json(prod).get("result"), "ok", "the session still publishes")
    expect_silence(prod, 0.3)


@test
def key_names_without_a_crypto_key_reader_500():
    s = srv()
    for v in ("client-rsa.pem", "a.pem,b.pem"):
        eq(upgrade_status(s, path("producer", uniq(), params="encryptionKeys=" + v))[0], 500,
           "encryptionKeys=%s (server-side encryption needs cryptoKeyReaderFactoryClassName)" % v)


@test
def admin_get_message_reports_encrypted():
    s = srv()
    t = uniq()
    prod = connect(s, path("producer", t, params=enc_param()))
    cipher = RNG.randbytes(40)
    prod.send(enc_msg(cipher, RNG.randbytes(12), "1"))
    r = recv_json(prod)
    eq(r.get("result"), "ok", "receipt")
    d = decode_msgid(r["messageId"])
    st, hdrs, body = admin(s, "GET", topic_admin_path(t, "ledger/%d/entry/%d" % (d["ledger"], d["entry"])))
    eq(st, 200, "get message")
    eq(hdrs.get("x-pulsar-is-encrypted"), "true", "X-Pulsar-Is-Encrypted")
    eq_bytes(body, cipher, "raw (still encrypted) body")


if __name__ == "__main__":
    main()
