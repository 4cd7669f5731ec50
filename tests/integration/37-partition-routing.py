# 37-partition-routing.py - keyed messages land on Pulsar's partition (PartitionedProducerImpl,
# issue #4).
#
# For 60 keys per hashing scheme (ASCII, Latin-1, CJK and emoji keys included) the partition index
# in each receipt's message id must equal (hash(key) & 0x7FFFFFFF) % N, where hash is computed here
# independently: Java's String.hashCode over UTF-16 code units (JavaStringHash, the default) or
# MurmurHash3_x86_32 with seed 0 over the UTF-8 bytes (Murmur3_32Hash). Consumers must receive each
# message from that same partition.

import json
import urllib.request

from magnetar_harness import (check, connect, decode_msgid, eq, main, path, publish, recv_json,
                              shared_server, test, uniq)

PARTITIONS = 7


def srv():
    return shared_server()


def java_hash(s):
    h = 0
    data = s.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + (data[i] << 8 | data[i + 1])) & 0xFFFFFFFF
    return h


def murmur3_32(data, seed=0):
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed
    n = len(data) // 4
    for i in range(n):
        k = int.from_bytes(data[4 * i:4 * i + 4], "little")
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
        h = ((h << 13) | (h >> 19)) & 0xFFFFFFFF
        h = (h * 5 + 0xE6546B64) & 0xFFFFFFFF
    tail = data[4 * n:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & 0xFFFFFFFF
        k = ((k << 15) | (k >> 17)) & 0xFFFFFFFF
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def keys():
    ks = ["key-%d" % i for i in range(40)]
    ks += ["hello", "0", "", "Ünïcödé-%d" % 7, "ключ", "キー", "鍵-2", "😀", "a😀b", "🚀🚀"]
    ks += ["order/%d" % (i * 7919) for i in range(10)]
    return ks


def create_partitioned(topic):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/admin/v2/persistent/public/default/%s/partitions" % (srv().port, topic),
        data=str(PARTITIONS).encode(), method="PUT", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        eq(r.status, 204, "create partitioned topic")


def check_scheme(scheme, hash_fn):
    t = uniq()
    create_partitioned(t)
    c = connect(srv(), path("consumer", t, "sub") + "?subscriptionType=Shared")
    p = connect(srv(), path("producer", t) + "?hashingScheme=" + scheme)
    expected = {}
    for i, k in enumerate(keys()):
        r = publish(p, b"m%d" % i, str(i), key=k)
        eq(r.get("result"), "ok", "receipt for key %r" % k)
        want = (hash_fn(k) & 0x7FFFFFFF) % PARTITIONS
        got = decode_msgid(r["messageId"]).get("partition")
        eq(got, want, "%s partition of key %r" % (scheme, k))
        expected[r["messageId"]] = want
    check(len(set(expected.values())) > 3, "keys spread over several partitions")
    for _ in range(len(expected)):
        m = recv_json(c)
        check(m["messageId"] in expected, "delivered id was a receipt id")
        eq(decode_msgid(m["messageId"]).get("partition"), expected[m["messageId"]],
           "delivery comes from the receipt's partition")
        c.send(json.dumps({"messageId": m["messageId"]}))


@test
def java_string_hash_routes_keys():
    # Java's String.hashCode values for these keys, as a self-check of this test's hash
    eq(java_hash("hello"), 99162322, "Java hash of hello")
    eq(java_hash("key-1"), 101943363, "Java hash of key-1")
    check_scheme("JavaStringHash", java_hash)


@test
def murmur3_hash_routes_keys():
    eq(murmur3_32(b"hello") & 0x7FFFFFFF, 613153351, "Murmur3 of hello")
    eq(murmur3_32(b"key-1") & 0x7FFFFFFF, 414258592, "Murmur3 of key-1")
    check_scheme("Murmur3_32Hash", lambda k: murmur3_32(k.encode("utf-8")))


if __name__ == "__main__":
    main()
