# 26-failover-partitioned.py - Failover on a partitioned topic (issue #3 with the partitioned-topic
# issue; AbstractDispatcherSingleActiveConsumer).
#
# Pulsar 2.10 picks the active consumer of each partition independently: consumers sorted by
# priorityLevel, then consumerName (Java String.compareTo; names here are ASCII), only those at the
# best (lowest) level count, active = sorted[partitionIndex % count]. Connection order plays no
# part. When consumers leave, each partition's active consumer is recomputed from who is left.
# Partitioned topics are created with PUT /admin/v2/persistent/{t}/{ns}/{topic}/partitions (body:
# the count); message ids carry the partition index (field 3), which tells which partition each
# message went to. Switching the active consumer of a partition may take Pulsar's 1 s failover
# delay, so receives allow a few seconds.

import os
import sys
import time

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_HERE, os.path.dirname(_HERE)]

from magnetar_harness import (admin, check, connect, decode_msgid, eq,  # noqa: E402
                              expect_silence_all, main, path, produce, recv_any, send_ack,
                              shared_server, test, topic_admin_path, uniq)

SETTLE = 1.5   # let every partition settle on its active consumer


def srv():
    return shared_server()


def partitioned(n):
    t = uniq("pt")
    st, _, body = admin(srv(), "PUT", topic_admin_path(t, "partitions"), str(n))
    check(st in (200, 204), "create partitioned topic: status %d body %r" % (st, body[:200]))
    return t


def failover(topic, name, prio=0, sub="fo"):
    return connect(srv(), path("consumer", topic, sub, params="subscriptionType=Failover&consumerName=%s"
                               "&priorityLevel=%d" % (name, prio)))


def expected_active(consumers, partition):
    """consumers: list of (name, priority) still connected."""
    best = min(p for _, p in consumers)
    names = sorted(n for n, p in consumers if p == best)
    return names[partition % len(names)]


def produce_spread(topic, n, nparts):
    ids = produce(srv(), topic, [b"x%d" % i for i in range(n)],
                  params="messageRoutingMode=RoundRobinPartition")
    parts = [decode_msgid(i).get("partition") for i in ids]
    check(set(parts) == set(range(nparts)),
          "test setup: messages reached partitions %s" % sorted(set(parts)))
    return ids, parts


def collect(conns, names, n, timeout=6.0):
    got = {nm: [] for nm in names}
    deadline = time.time() + timeout
    for _ in range(n):
        i, m = recv_any(conns, max(0.1, deadline - time.time()))
        got[names[i]].append(m)
        send_ack(conns[i], m["messageId"])
    return got


def check_assignment(got, ids, parts, alive, what):
    want = {nm: [] for nm in got}
    for mid, p in zip(ids, parts):
        want[expected_active(alive, p)].append(mid)
    eq({nm: sorted(m["messageId"] for m in v) for nm, v in got.items()},
       {nm: sorted(v) for nm, v in want.items()}, "%s: message ids per consumer" % what)
    for nm, msgs in got.items():
        for p in set(parts):
            seq = [m["messageId"] for m in msgs if decode_msgid(m["messageId"]).get("partition") == p]
            eq(seq, [mid for mid, q in zip(ids, parts) if q == p and mid in seq],
               "%s: order within partition %d at %s" % (what, p, nm))


@test
def priority_then_name_per_partition_and_reassignment():
    t = partitioned(3)
    spec = [("fo-b", 0), ("fo-c", 1), ("fo-a", 0)]      # connection order differs from the ranking
    conns = {nm: failover(t, nm, pr) for nm, pr in spec}
    time.sleep(SETTLE)
    alive = list(spec)
    ids, parts = produce_spread(t, 12, 3)
    names = [nm for nm, _ in spec]
    got = collect([conns[nm] for nm in names], names, len(ids))
    expect_silence_all(list(conns.values()), 0.8)
    check_assignment(got, ids, parts, alive, "a,b at level 0 and c at level 1")
    eq(len(got["fo-c"]), 0, "the level-1 consumer is idle while level 0 has consumers")

    conns.pop("fo-a").close(timeout=2)
    alive = [x for x in alive if x[0] != "fo-a"]
    time.sleep(SETTLE)
    ids, parts = produce_spread(t, 9, 3)
    names = [nm for nm, _ in alive]
    got = collect([conns[nm] for nm in names], names, len(ids))
    expect_silence_all(list(conns.values()), 0.8)
    check_assignment(got, ids, parts, alive, "after fo-a left")

    conns.pop("fo-b").close(timeout=2)
    alive = [x for x in alive if x[0] != "fo-b"]
    time.sleep(SETTLE)
    ids, parts = produce_spread(t, 6, 3)
    got = collect([conns["fo-c"]], ["fo-c"], len(ids))
    check_assignment(got, ids, parts, alive, "only the level-1 consumer left")


@test
def names_decide_within_a_level():
    t = partitioned(3)
    spec = [("fo-z", 0), ("fo-m", 0), ("fo-a", 0)]
    conns = {nm: failover(t, nm, pr) for nm, pr in spec}
    time.sleep(SETTLE)
    ids, parts = produce_spread(t, 12, 3)
    names = [nm for nm, _ in spec]
    got = collect([conns[nm] for nm in names], names, len(ids))
    expect_silence_all(list(conns.values()), 0.8)
    check_assignment(got, ids, parts, spec, "three consumers at level 0")
    for p, nm in ((0, "fo-a"), (1, "fo-m"), (2, "fo-z")):
        eq(expected_active(spec, p), nm, "model sanity for partition %d" % p)


@test
def higher_priority_joiner_takes_over():
    t = partitioned(2)
    lo = failover(t, "fo-low", 2)
    time.sleep(SETTLE)
    ids, parts = produce_spread(t, 4, 2)
    got = collect([lo], ["fo-low"], len(ids))
    check_assignment(got, ids, parts, [("fo-low", 2)], "single consumer")
    hi = failover(t, "fo-high", 0)
    time.sleep(SETTLE)
    ids, parts = produce_spread(t, 6, 2)
    got = collect([lo, hi], ["fo-low", "fo-high"], len(ids))
    expect_silence_all([lo, hi], 0.8)
    check_assignment(got, ids, parts, [("fo-low", 2), ("fo-high", 0)], "after a level-0 consumer joined")


if __name__ == "__main__":
    main()
