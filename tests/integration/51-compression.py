# 51-compression.py - producer compressionType (issue #7; ProducerHandler.getProducerBuilder).
#
# compressionType NONE, LZ4, ZLIB, ZSTD and SNAPPY are accepted (anything else, case included, is
# HTTP 400 "Invalid query params: Invalid compressionType X"). Entries are stored compressed -
# internalStats totalSize, stats storageSize and magnetar-dump show the saving against the same
# messages stored with NONE - and consumers, readers and the admin get-message endpoint always see
# the decompressed payload, byte for byte: empty, 1-byte, binary, incompressible, batched, mixed
# codecs on one topic, and after kill -9.

import os
import random
import sys

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (admin, batch_groups, burst_publish, check,  # noqa: E402
                              check_batch_group, connect, decode_msgid, dump_data_dir, eq, eq_bytes,
                              eq_payloads, full_topic, internal_stats, main, path, publish_fast,
                              read_n, recv_n, restart, shared_server, start_server, test,
                              topic_admin_path, topic_stats, uniq, upgrade_status)

CODECS = ("LZ4", "ZLIB", "ZSTD", "SNAPPY")
RNG = random.Random(7)


def srv():
    return shared_server()


def compressible(i, size=4096):
    """Text that every codec shrinks a lot but that is not one repeated byte."""
    line = b'{"sensor":"temp-%03d","unit":"celsius","ok":true,"seq":%06d}\n'
    out = b""
    j = 0
    while len(out) < size:
        out += line % (i % 50, j)
        j += 1
    return out[:size]


def edge_payloads():
    return [b"", b"\x00", b"\xff", bytes(range(256)) * 16, compressible(1, 65536),
            RNG.randbytes(4096), b"x" * 100000]


def publish_all(s, topic, params, payloads, burst=False):
    """Publishes payloads one by one (or pipelined in one burst) and returns the receipt ids."""
    ws = connect(s, path("producer", topic, params=params))
    if burst:
        rs = burst_publish(ws, payloads)
    else:
        rs = [publish_fast(ws, p, context=str(i)) for i, p in enumerate(payloads)]
    ws.close(timeout=1)
    for r in rs:
        eq(r.get("result"), "ok", "receipt with %s (%r)" % (params, r))
    return [r["messageId"] for r in rs]


@test
def invalid_compression_type_400():
    s = srv()
    for bad in ("GZIP", "lz4", "Zstd", "snappy", "", "NONE%20", "LZ4,ZLIB"):
        st, _, body = upgrade_status(s, path("producer", uniq(), params="compressionType=" + bad))
        eq(st, 400, "status for compressionType=%r" % bad)
        check(b"Invalid compressionType" in body, "400 body for %r names the problem: %r" % (bad, body[:200]))


@test
def every_codec_round_trips_exact_bytes():
    s = srv()
    payloads = edge_payloads()
    for ct in ("NONE",) + CODECS:
        t = uniq(ct.lower())
        cons = connect(s, path("consumer", t, "sub"))
        ids = publish_all(s, t, "compressionType=" + ct, payloads)
        d0 = decode_msgid(ids[0])
        eq([decode_msgid(x)["order"] for x in ids], [[1, 2, 6]] * len(ids), "plain ids with %s" % ct)
        eq([decode_msgid(x)["entry"] for x in ids], list(range(d0["entry"], d0["entry"] + len(ids))),
           "consecutive entries with %s" % ct)
        got = recv_n(cons, len(payloads))
        eq([m["messageId"] for m in got], ids, "consumer ids with %s" % ct)
        eq_payloads(got, payloads, "consumer payloads with %s" % ct)
        rd = read_n(s, path("reader", t, params="messageId=earliest"), len(payloads))
        eq_payloads(rd, payloads, "reader payloads with %s" % ct)
        cons.close(timeout=1)


@test
def storage_shows_the_saving():
    s = srv()
    payloads = [compressible(i) for i in range(100)]
    raw = sum(len(p) for p in payloads)
    sizes = {}
    names = {}
    for ct in ("NONE",) + CODECS:
        t = uniq(ct.lower())
        names[ct] = t
        publish_all(s, t, "compressionType=" + ct, payloads, burst=True)
        ist = internal_stats(s, t)
        st = topic_stats(s, t)
        eq(ist["numberOfEntries"], 100, "entries with %s" % ct)
        eq(st["storageSize"], ist["totalSize"], "stats storageSize = internalStats totalSize with %s" % ct)
        sizes[ct] = ist["totalSize"]
    check(sizes["NONE"] >= raw, "NONE storage %d smaller than the raw payloads %d" % (sizes["NONE"], raw))
    for ct in CODECS:
        check(sizes[ct] * 4 < sizes["NONE"],
              "%s storage %d is not < 1/4 of NONE's %d (payloads compress ~10x)" % (ct, sizes[ct], sizes["NONE"]))
    dump = dump_data_dir(s.data_dir)["topics"]
    for ct in CODECS:
        a = dump[full_topic(names[ct])]["bytes"]
        b = dump[full_topic(names["NONE"])]["bytes"]
        check(a * 4 < b, "magnetar-dump bytes: %s %d vs NONE %d" % (ct, a, b))


@test
def incompressible_payloads_round_trip_without_blowing_up_storage():
    s = srv()
    payloads = [RNG.randbytes(65536) for _ in range(4)]
    base = None
    for ct in ("NONE",) + CODECS:
        t = uniq(ct.lower())
        publish_all(s, t, "compressionType=" + ct, payloads)
        rd = read_n(s, path("reader", t, params="messageId=earliest"), len(payloads))
        eq_payloads(rd, payloads, "random payloads with %s" % ct)
        size = internal_stats(s, t)["totalSize"]
        if base is None:
            base = size
        check(size <= base * 1.05 + 1024, "%s storage %d for incompressible data vs NONE %d" % (ct, size, base))


@test
def mixed_codecs_on_one_topic():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    prods = {ct: connect(s, path("producer", t, params="compressionType=" + ct)) for ct in ("NONE",) + CODECS}
    expect = []
    ids = []
    for i in range(25):
        ct = (("NONE",) + CODECS)[i % 5]
        p = compressible(i, 1000 + 37 * i) if i % 2 else RNG.randbytes(300 + i)
        r = publish_fast(prods[ct], p, context=str(i))
        eq(r["result"], "ok", "receipt %d via %s" % (i, ct))
        expect.append(p)
        ids.append(r["messageId"])
    got = recv_n(cons, 25)
    eq([m["messageId"] for m in got], ids, "ids across producers with different codecs")
    eq_payloads(got, expect, "payloads across codecs")


@test
def batching_with_compression():
    s = srv()
    sizes = {}
    for ct in ("NONE", "LZ4", "ZSTD"):
        t = uniq(ct.lower())
        cons = connect(s, path("consumer", t, "sub"))
        payloads = [compressible(i, 2000) for i in range(20)]
        ids = publish_all(s, t, "batchingEnabled=true&compressionType=" + ct, payloads, burst=True)
        groups = batch_groups(ids)
        for key, members in groups:
            check_batch_group(key, members)
        check(max(len(m) for _, m in groups) >= 2, "no multi-message batch with %s" % ct)
        got = recv_n(cons, 20)
        eq([m["messageId"] for m in got], ids, "batched ids with %s" % ct)
        eq_payloads(got, payloads, "batched payloads with %s" % ct)
        sizes[ct] = internal_stats(s, t)["totalSize"]
        cons.close(timeout=1)
    for ct in ("LZ4", "ZSTD"):
        check(sizes[ct] * 2 < sizes["NONE"], "batched %s storage %d vs NONE %d" % (ct, sizes[ct], sizes["NONE"]))


@test
def admin_get_message_returns_the_decompressed_payload():
    s = srv()
    for ct in CODECS:
        t = uniq(ct.lower())
        p = compressible(3, 5000)
        ids = publish_all(s, t, "compressionType=" + ct, [p])
        d = decode_msgid(ids[0])
        st, hdrs, body = admin(s, "GET", topic_admin_path(t, "ledger/%d/entry/%d" % (d["ledger"], d["entry"])))
        eq(st, 200, "get message with %s" % ct)
        eq_bytes(body, p, "admin get-message body with %s" % ct)
        eq(hdrs.get("x-pulsar-message-id"), "%d:%d" % (d["ledger"], d["entry"]), "X-Pulsar-Message-ID")


@test
def compressed_entries_survive_kill9():
    s = start_server()
    data = {}
    for ct in CODECS:
        t = uniq(ct.lower())
        payloads = [compressible(i, 3000) for i in range(5)] + [b"", b"z"]
        data[t] = (payloads, publish_all(s, t, "compressionType=" + ct, payloads))
    s.kill9()
    s = restart(s)
    for t, (payloads, ids) in data.items():
        rd = read_n(s, path("reader", t, params="messageId=earliest"), len(ids))
        eq([m["messageId"] for m in rd], ids, "ids after kill -9 (%s)" % t)
        eq_payloads(rd, payloads, "payloads after kill -9 (%s)" % t)


if __name__ == "__main__":
    main()
