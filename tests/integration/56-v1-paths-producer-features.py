# 56-v1-paths-producer-features.py - issue #7 features through the legacy v1 paths.
#
# /ws/producer|consumer|reader/{domain}/{property}/{cluster}/{namespace}/{topic}[/{sub}] name the
# v1 topic {domain}://{property}/{cluster}/{namespace}/{topic}. Batching (batch ids, acking every
# index moves the stored cursor), compression (exact payloads, smaller storage in magnetar-dump),
# encryption pass-through (encryptionContext), queue-full send-error:8, deduplication (here through
# brokerDeduplicationEnabled, since namespace policies are v2 admin) and non-persistent topics
# (live delivery only, nothing in LMDB) must behave exactly as on v2 paths.

import base64
import json
import os
import sys
import urllib.parse

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (b64, batch_groups, burst_publish, check,  # noqa: E402
                              check_batch_group, connect, connect_retry, drain, dump_data_dir, eq,
                              eq_payloads, expect_silence, expect_silence_all, main, publish,
                              read_n, recv_json, recv_n, send_ack, shared_server, start_server,
                              test, time_scale, unb64, uniq, upgrade_status, wait_until)

PROP, CLUSTER, NS = "my-property", "standalone", "my-ns"


def srv():
    return shared_server()


def v1(kind, topic, sub=None, params=None, domain="persistent"):
    p = "/ws/%s/%s/%s/%s/%s/%s" % (kind, domain, PROP, CLUSTER, NS, topic)
    if sub is not None:
        p += "/" + sub
    return p + ("?" + params if params else "")


def v1_name(topic, domain="persistent"):
    return "%s://%s/%s/%s/%s" % (domain, PROP, CLUSTER, NS, topic)


def ok_ids(rs):
    for r in rs:
        eq(r.get("result"), "ok", "receipt %r" % r)
    return [r["messageId"] for r in rs]


def compressible(i, size=4096):
    line = b'{"sensor":"v1-%03d","value":%06d}\n'
    out = b""
    j = 0
    while len(out) < size:
        out += line % (i, j)
        j += 1
    return out[:size]


@test
def batching_on_v1_paths():
    s = srv()
    t = uniq()
    cons = connect(s, v1("consumer", t, "sub"))
    prod = connect(s, v1("producer", t, params="batchingEnabled=true"))
    payloads = [b"", b"\x07"] + [b"v1-%d" % i for i in range(8)]
    ids = ok_ids(burst_publish(prod, payloads))
    groups = batch_groups(ids)
    for key, members in groups:
        check_batch_group(key, members)
    check(max(len(m) for _, m in groups) >= 2, "no multi-message batch on a v1 path")
    got = recv_n(cons, 10)
    eq([m["messageId"] for m in got], ids, "v1 consumer ids")
    eq_payloads(got, payloads, "v1 consumer payloads")
    for mid in ids:
        send_ack(cons, mid)
    last = groups[-1][0][1]
    wait_until(lambda: dump_data_dir(s.data_dir)["topics"][v1_name(t)]["cursors"].get("sub") == last,
               5 * time_scale(), what="stored cursor of the v1 subscription at the last batch entry")
    cons.close(timeout=1)
    cons = connect_retry(s, v1("consumer", t, "sub"))
    expect_silence(cons, 0.8)


@test
def compression_on_v1_paths():
    s = srv()
    payloads = [compressible(i) for i in range(50)]
    sizes = {}
    for ct in ("NONE", "LZ4", "ZSTD"):
        t = uniq(ct.lower())
        cons = connect(s, v1("consumer", t, "sub"))
        prod = connect(s, v1("producer", t, params="compressionType=" + ct))
        ids = ok_ids(burst_publish(prod, payloads))
        got = recv_n(cons, 50)
        eq([m["messageId"] for m in got], ids, "v1 ids with %s" % ct)
        eq_payloads(got, payloads, "v1 payloads with %s" % ct)
        rd = read_n(s, v1("reader", t, params="messageId=earliest"), 50)
        eq_payloads(rd, payloads, "v1 reader payloads with %s" % ct)
        sizes[ct] = dump_data_dir(s.data_dir)["topics"][v1_name(t)]["bytes"]
    for ct in ("LZ4", "ZSTD"):
        check(sizes[ct] * 4 < sizes["NONE"], "v1 %s stored %d bytes vs NONE %d" % (ct, sizes[ct], sizes["NONE"]))
    eq(upgrade_status(s, v1("producer", uniq(), params="compressionType=gzip"))[0], 400, "invalid type on v1")


@test
def encryption_passthrough_on_v1_paths():
    s = srv()
    t = uniq()
    kv = base64.b64encode(b"\x11" * 64).decode()
    keys = json.dumps({"client-rsa.pem": {"keyValue": kv, "metadata": {}}}).encode()
    param = "encryptionKeys=" + urllib.parse.quote(base64.b64encode(keys).decode(), safe="")
    cons = connect(s, v1("consumer", t, "sub", params="cryptoFailureAction=CONSUME"))
    prod = connect(s, v1("producer", t, params=param))
    cipher = bytes(range(200, 256)) * 3
    prod.send(json.dumps({"payload": b64(cipher), "encryptionParam": b64(b"iv-123456789"),
                          "compressionType": "LZ4", "uncompressedMessageSize": 500, "context": "e"}))
    r = recv_json(prod)
    eq(r.get("result"), "ok", "receipt %r" % r)
    m = recv_json(cons)
    eq(m["messageId"], r["messageId"], "v1 delivered id")
    eq(unb64(m["payload"]), cipher, "v1 payload untouched")
    eq(m.get("encryptionContext"),
       {"keys": {"client-rsa.pem": {"keyValue": kv, "metadata": {}}}, "param": b64(b"iv-123456789"),
        "compressionType": "LZ4", "uncompressedMessageSize": 500, "batchSize": {"empty": False, "present": True}},
       "v1 encryptionContext")


@test
def queue_full_on_v1_paths():
    s = srv()
    t = uniq()
    prod = connect(s, v1("producer", t, params="maxPendingMessages=1"))
    rs = burst_publish(prod, [b"q%d" % i for i in range(100)])
    ok = [i for i, r in enumerate(rs) if r.get("result") == "ok"]
    bad = [i for i, r in enumerate(rs) if r.get("result") != "ok"]
    check(ok and bad, "maxPendingMessages=1 burst on v1: %d ok, %d errors" % (len(ok), len(bad)))
    for i in bad:
        eq((rs[i].get("result"), rs[i].get("context")), ("send-error:8", str(i)), "queue-full receipt %d" % i)
        check("Producer send queue is full" in (rs[i].get("errorMsg") or ""), "errorMsg %r" % rs[i])
    got = read_n(s, v1("reader", t, params="messageId=earliest"), len(ok))
    eq([m["payload"] for m in got], [b64(b"q%d" % i) for i in ok], "stored = the accepted messages")
    for bad_param in ("sendTimeoutMillis=-1", "maxPendingMessages=-1"):
        eq(upgrade_status(s, v1("producer", uniq(), params=bad_param))[0], 400, "%s on v1" % bad_param)


@test
def deduplication_on_v1_paths():
    s = start_server(["-o", "brokerDeduplicationEnabled=true"])
    t = uniq()

    def session(payloads, init):
        ws = connect_retry(s, v1("producer", t, params="producerName=P1&initialSequenceId=%d" % init))
        ids = ok_ids([publish(ws, p, context=str(i)) for i, p in enumerate(payloads)])
        ws.close(timeout=1)
        return ids

    orig = session([b"a0", b"a1", b"a2"], -1)
    eq(session([b"b0", b"b1", b"b2"], -1), orig, "v1: republished sequence ids get the original ids")
    eq(session([b"a3"], 2)[0] not in orig, True, "v1: sequence id 3 is new")
    got = read_n(s, v1("reader", t, params="messageId=earliest"), 4)
    eq([m["payload"] for m in got], [b64(b"a%d" % i) for i in range(4)], "v1: stored once each")


@test
def non_persistent_on_v1_paths():
    s = srv()
    t = uniq()
    cons = connect(s, v1("consumer", t, "sub", domain="non-persistent"))
    prod = connect(s, v1("producer", t, domain="non-persistent"))
    ids = ok_ids(burst_publish(prod, [b"np%d" % i for i in range(5)]))
    got = recv_n(cons, 5)
    eq([m["messageId"] for m in got], ids, "v1 non-persistent live delivery")
    rd = connect(s, v1("reader", t, params="messageId=earliest", domain="non-persistent"))
    late = connect(s, v1("consumer", t, "late", domain="non-persistent"))
    expect_silence_all([rd, late], 0.7)
    rec = dump_data_dir(s.data_dir)["topics"].get(v1_name(t, "non-persistent"))
    check(rec is None or rec["entries"] == 0, "v1 non-persistent topic in LMDB: %r" % rec)
    check(drain(cons, 0.1) == [], "no extra delivery")


if __name__ == "__main__":
    main()
