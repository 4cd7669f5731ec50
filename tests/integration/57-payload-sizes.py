# 57-payload-sizes.py - 0-byte, 1-byte and frame-limit payloads through every issue #7 feature.
#
# The largest publishable payload is bounded by webSocketMaxTextFrameSize of Pulsar's
# WebSocketProxyConfiguration (1 MiB = 1048576 bytes of JSON text): MAX below is the biggest
# payload whose publish frame, padded with JSON whitespace, is exactly 1048576 bytes. Empty, 1-byte
# and MAX payloads must come back byte for byte through batching, every compression codec (random
# and compressible MAX payloads), client side encryption pass-through, non-persistent topics,
# deduplication, v1 paths, readers and kill -9; one byte more than the limit closes the producer
# with 1009 whatever the features.

import base64
import json
import os
import random
import sys
import urllib.parse

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (OP_TEXT, RawWS, b64, check, connect, connect_retry,  # noqa: E402
                              create_namespace, eq, eq_payloads, main, path, read_n, recv_n,
                              restart, send_burst, set_deduplication, shared_server, start_server,
                              test, uniq)

LIMIT = 1048576
RNG = random.Random(57)


def srv():
    return shared_server()


def frame_for(payload, context, **fields):
    """Publish frame text for payload, padded with trailing spaces to exactly LIMIT bytes (or
    unpadded if it is longer)."""
    m = {"payload": b64(payload), "context": context}
    m.update(fields)
    text = json.dumps(m, separators=(",", ":"))
    return text + " " * max(0, LIMIT - len(text))


def max_payload_len(**fields):
    """Largest n whose publish frame (context "max" plus fields) fits in LIMIT bytes."""
    overhead = len(json.dumps(dict({"payload": "", "context": "max"}, **fields), separators=(",", ":")))
    return (LIMIT - overhead) // 4 * 3


MAX = max_payload_len()
BIG_RANDOM = RNG.randbytes(MAX)
BIG_TEXT = (b"0123456789abcdef" * (MAX // 16 + 1))[:MAX]


def publish_frames(ws, frames, timeout=20.0):
    """send_burst of prepared frame texts; returns the receipts ordered as the frames (by context)."""
    send_burst(ws, frames)
    rs = {r.get("context"): r for r in recv_n(ws, len(frames), timeout)}
    out = [rs.get(json.loads(f)["context"]) for f in frames]
    for r in out:
        check(r is not None and r.get("result") == "ok", "receipt %r" % r)
    return [r["messageId"] for r in out]


def sizes_frames(payloads, **fields):
    return [frame_for(p, str(i), **fields) for i, p in enumerate(payloads)]


def roundtrip(s, topic, params, payloads, kind_path=path, sub="sub", burst=True, **fields):
    """Consumer first, then one producer with params; checks consumer ids/payloads; returns ids."""
    cons = connect(s, kind_path("consumer", topic, sub), skip_utf8_validation=True)
    prod = connect(s, kind_path("producer", topic, params=params))
    frames = sizes_frames(payloads, **fields)
    if burst:
        ids = publish_frames(prod, frames)
    else:
        ids = [publish_frames(prod, [f])[0] for f in frames]
    got = recv_n(cons, len(payloads), 20)
    eq([m["messageId"] for m in got], ids, "delivered ids (%s)" % params)
    eq_payloads(got, payloads, "delivered payloads (%s)" % params)
    prod.close(timeout=1)
    cons.close(timeout=1)
    return ids, got


def expect_1009(ws, what):
    code, reason = ws.expect_close(10)
    eq(code, 1009, "close code for %s (reason %r)" % (what, reason))


@test
def max_payload_frame_is_exactly_the_limit():
    eq(len(frame_for(BIG_RANDOM, "max")), LIMIT, "MAX publish frame length")
    check(len(json.dumps({"payload": b64(b"\x00" * (MAX + 3)), "context": "max"})) > LIMIT,
          "3 more payload bytes would not fit")


@test
def plain_sizes_consumer_reader_and_kill9():
    s = start_server()
    t = uniq()
    payloads = [b"", b"\x00", b"\xff", BIG_RANDOM]
    ids, _ = roundtrip(s, t, None, payloads, burst=False)
    s.kill9()
    s = restart(s)
    rd = read_n(s, path("reader", t, params="messageId=earliest"), len(payloads), 20,
                skip_utf8_validation=True)
    eq([m["messageId"] for m in rd], ids, "reader ids after kill -9")
    eq_payloads(rd, payloads, "reader payloads after kill -9")


@test
def batching_sizes():
    s = srv()
    ids, _ = roundtrip(s, uniq(), "batchingEnabled=true", [b"", b"\x01", BIG_TEXT, b"", b"\x02"])
    ids, _ = roundtrip(s, uniq(), "batchingEnabled=true", [BIG_RANDOM, BIG_TEXT])


@test
def compression_sizes_every_codec():
    s = srv()
    for ct in ("NONE", "LZ4", "ZLIB", "ZSTD", "SNAPPY"):
        t = uniq(ct.lower())
        payloads = [b"", b"\x01", BIG_RANDOM, BIG_TEXT]
        roundtrip(s, t, "compressionType=" + ct, payloads, burst=False)
        rd = read_n(s, path("reader", t, params="messageId=earliest"), 4, 20, skip_utf8_validation=True)
        eq_payloads(rd, payloads, "reader payloads with %s" % ct)


@test
def batching_and_compression_sizes():
    s = srv()
    for ct in ("LZ4", "ZSTD"):
        roundtrip(s, uniq(), "batchingEnabled=true&compressionType=" + ct, [b"", BIG_TEXT, b"\x03", BIG_RANDOM])


@test
def encryption_passthrough_sizes():
    s = srv()
    t = uniq()
    keys = json.dumps({"k.pem": {"keyValue": b64(b"key"), "metadata": {}}}).encode()
    params = "encryptionKeys=" + urllib.parse.quote(base64.b64encode(keys).decode(), safe="")
    fields = {"encryptionParam": b64(b"0123456789ab"), "compressionType": "ZSTD",
              "uncompressedMessageSize": 3 * LIMIT}
    n = max_payload_len(**fields)
    big = RNG.randbytes(n)
    eq(len(frame_for(big, "max", **fields)), LIMIT, "encrypted MAX frame length")
    cons = connect(s, path("consumer", t, "sub", params="cryptoFailureAction=CONSUME"),
                   skip_utf8_validation=True)
    prod = connect(s, path("producer", t, params=params))
    ids = publish_frames(prod, [frame_for(b"", "0", **fields), frame_for(b"\x04", "1", **fields),
                                frame_for(big, "max", **fields)])
    got = recv_n(cons, 3, 20)
    eq([m["messageId"] for m in got], ids, "encrypted ids")
    eq_payloads(got, [b"", b"\x04", big], "encrypted payloads passed through")
    for m in got:
        ctx = m.get("encryptionContext") or {}
        eq((ctx.get("compressionType"), ctx.get("uncompressedMessageSize")), ("ZSTD", 3 * LIMIT),
           "encryptionContext compression fields")


@test
def non_persistent_sizes():
    s = srv()

    def np_path(kind, topic, sub=None, params=None):
        return path(kind, topic, sub, params=params, domain="non-persistent")

    roundtrip(s, uniq(), None, [b"", b"\x05", BIG_RANDOM], kind_path=np_path)
    roundtrip(s, uniq(), "batchingEnabled=true&compressionType=LZ4", [BIG_TEXT, b"", b"\x06"], kind_path=np_path)


@test
def deduplication_with_max_payloads():
    s = srv()
    ns = uniq("ns")
    create_namespace(s, "public", ns)
    eq(set_deduplication(s, "public", ns, True)[0], 204, "enable deduplication")
    t = uniq()
    ids = []
    for round_ in range(2):
        ws = connect_retry(s, path("producer", t, params="producerName=big&initialSequenceId=-1", ns=ns))
        ids.append(publish_frames(ws, [frame_for(b"", "0"), frame_for(BIG_RANDOM, "max")]))
        ws.close(timeout=1)
    eq(ids[1], ids[0], "republished empty and MAX messages get the original ids")
    rd = read_n(s, path("reader", t, params="messageId=earliest", ns=ns), 2, 20, skip_utf8_validation=True)
    eq_payloads(rd, [b"", BIG_RANDOM], "stored once")


@test
def v1_paths_sizes():
    s = srv()

    def v1(kind, topic, sub=None, params=None):
        p = "/ws/%s/persistent/my-property/standalone/my-ns/%s" % (kind, topic)
        return p + ("/" + sub if sub else "") + ("?" + params if params else "")

    roundtrip(s, uniq(), "batchingEnabled=true&compressionType=ZLIB", [b"", b"\x07", BIG_RANDOM], kind_path=v1)


@test
def one_byte_over_the_limit_closes_1009_whatever_the_features():
    s = srv()
    for params, domain in (("batchingEnabled=true", "persistent"), ("compressionType=ZSTD", "persistent"),
                           ("batchingEnabled=true&compressionType=LZ4", "non-persistent"),
                           ("producerName=over&initialSequenceId=5", "persistent")):
        ws = RawWS.connect(s, path("producer", uniq(), params=params, domain=domain))
        ok = frame_for(BIG_TEXT, "max")
        ws.send_frame(OP_TEXT, ok)
        r = json.loads(ws.recv_text(20))
        eq(r.get("result"), "ok", "exactly 1 MiB frame with %s (%r)" % (params, r))
        ws.send_frame(OP_TEXT, ok + " ")
        expect_1009(ws, "1048577-byte frame with %s on %s" % (params, domain))
        ws.close_socket()


@test
def small_frame_limit_applies_to_the_wire_text_not_the_stored_size():
    s = start_server(["-o", "webSocketMaxTextFrameSize=4096"])
    ws = RawWS.connect(s, path("producer", uniq(), params="compressionType=ZSTD&batchingEnabled=true"))
    text = json.dumps({"payload": b64(b"a" * 2900), "context": "c"})
    ws.send_frame(OP_TEXT, text + " " * (4096 - len(text)))
    eq(json.loads(ws.recv_text(10)).get("result"), "ok", "4096-byte frame accepted")
    ws.send_frame(OP_TEXT, json.dumps({"payload": b64(b"a" * 3100), "context": "d"}))
    expect_1009(ws, "a highly compressible payload whose frame exceeds the limit")


if __name__ == "__main__":
    main()
