# 67-partition-producer-ids.py - receipts of a producer opened on one partition (issue 11).
#
# A producer opened directly on T-partition-N is a plain ProducerImpl (partition index -1): its
# receipts carry no partition field. Consumers of T-partition-N get partition N (ConsumerImpl takes
# it from the topic name), and acking with either id works. A producer on the partitioned T
# (PartitionedProducerImpl) keeps the partition in its receipts.

import time

from magnetar_harness import (check, connect, decode_msgid, eq, main, path, publish, recv_json,
                              rest_json, send_ack, shared_server, test, uniq)


def srv():
    return shared_server()


def backlog(s, topic, sub):
    st, stats = rest_json(s, "GET", "/admin/v2/persistent/public/default/%s/stats" % topic)
    eq(st, 200, "stats of %s" % topic)
    return stats["subscriptions"][sub]["msgBacklog"]


@test
def producer_on_a_partition_gets_ids_without_partition():
    s = srv()
    t = uniq()
    eq(rest_json(s, "PUT", "/admin/v2/persistent/public/default/%s/partitions" % t, 2)[0], 204,
       "partitioned topic")
    part = "%s-partition-1" % t
    cons = connect(s, path("consumer", part, "sub"))
    prod = connect(s, path("producer", part))
    ids = []
    for i in range(2):
        r = publish(prod, b"m%d" % i, context=str(i))
        eq(r["result"], "ok", "receipt")
        mid = decode_msgid(r["messageId"])
        check("partition" not in mid, "receipt of a producer on the partition: %r" % mid)
        ids.append(r["messageId"])
    got = [recv_json(cons) for _ in range(2)]
    for i, d in enumerate(got):
        mid = decode_msgid(d["messageId"])
        eq(mid.get("partition"), 1, "consumer id carries the partition")
        rid = decode_msgid(ids[i])
        eq((mid["ledger"], mid["entry"]), (rid["ledger"], rid["entry"]), "same entry")
    send_ack(cons, got[0]["messageId"])     # the consumer's id
    send_ack(cons, ids[1])                  # the producer's id, without partition
    deadline = time.time() + 5
    while backlog(s, part, "sub") != 0 and time.time() < deadline:
        time.sleep(0.05)
    eq(backlog(s, part, "sub"), 0, "both acks applied")
    prod.close(timeout=1)
    cons.close(timeout=1)
    # The partitioned producer keeps the partition in its receipts.
    whole = connect(s, path("producer", t))
    r = publish(whole, b"w", context="w")
    check(decode_msgid(r["messageId"]).get("partition") in (0, 1), "partitioned producer receipt")
    whole.close(timeout=1)


if __name__ == "__main__":
    main()
