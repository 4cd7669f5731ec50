# 50-batching.py - producer batching (issue #7; ProducerHandler,
# BatchMessageIdImpl ids; Pulsar issue #14242).
#
# batchingEnabled=true groups messages of one producer into one stored entry. Every message still
# gets its own receipt whose id is the 2.10 batch id 08 L 10 E 20 <index> 30 <size>: the messages
# of one entry share ledger/entry, have batch_index 0..k-1 in send order and batch_size k. Bursts
# (all frames in one TCP write) make multi-message batches; batchingMaxMessages caps them; with
# batching off (the WS default) ids stay plain. Consumers and readers get individual messages
# with the receipt ids (a reader can start inside a batch). The entry leaves the backlog only when
# every index is acked - by the same session, by another connection, or after a restart (#14242).

import json
import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (admin, b64, batch_groups, burst_publish, check,  # noqa: E402
                              check_batch_group, connect, connect_retry, decode_msgid, drain, eq,
                              expect_silence, internal_stats, main, msgid_b64, parse_iso, path,
                              read_all, recv_json, recv_n, restart, send_ack, send_burst, send_nack,
                              shared_server, start_server, test, time_scale, topic_admin_path,
                              topic_stats, uniq, upgrade_status, wait_until)

BATCH = "batchingEnabled=true"


def srv():
    return shared_server()


def ok_ids(rs):
    for r in rs:
        eq(r.get("result"), "ok", "receipt %r" % r)
    return [r["messageId"] for r in rs]


def backlog(s, topic, sub):
    return topic_stats(s, topic)["subscriptions"][sub]["msgBacklog"]


def cursor_at_end(s, topic, sub):
    st = internal_stats(s, topic)
    return st["cursors"][sub]["markDeletePosition"] == st["lastConfirmedEntry"]


def multi_batch_burst(s, topic, n=10, params=BATCH, payload=lambda i: b"m%d" % i):
    """Bursts n messages and returns (ids, groups); asserts every group is a well-formed batch and
    at least one holds two or more messages."""
    ws = connect(s, path("producer", topic, params=params))
    ids = ok_ids(burst_publish(ws, [payload(i) for i in range(n)]))
    ws.close(timeout=1)
    groups = batch_groups(ids)
    for key, members in groups:
        check_batch_group(key, members)
    check(max(len(m) for _, m in groups) >= 2,
          "a burst of %d batched messages produced no multi-message batch: sizes %r"
          % (n, [len(m) for _, m in groups]))
    return ids, groups


@test
def burst_shares_entries_with_batch_ids():
    t = uniq()
    ids, groups = multi_batch_burst(srv(), t, 10)
    entries = [k[1] for k, _ in groups]
    eq(entries, list(range(entries[0], entries[0] + len(entries))), "entries of the batches are consecutive")
    eq(len({k[0] for k, _ in groups}), 1, "one ledger per topic")
    eq(sum(len(m) for _, m in groups), 10, "every message belongs to one batch")
    eq(internal_stats(srv(), t)["numberOfEntries"], len(groups), "stored entries = batches")


@test
def admin_get_message_reports_the_batch_size():
    s = srv()
    t = uniq()
    ids, groups = multi_batch_burst(s, t, 6)
    for (ledger, entry), members in groups:
        st, hdrs, _ = admin(s, "GET", topic_admin_path(t, "ledger/%d/entry/%d" % (ledger, entry)))
        eq(st, 200, "get message %d:%d" % (ledger, entry))
        eq(hdrs.get("x-pulsar-message-id"), "%d:%d" % (ledger, entry), "X-Pulsar-Message-ID")
        eq(hdrs.get("x-pulsar-num-batch-message"), str(len(members)), "X-Pulsar-num-batch-message")


@test
def batching_max_messages_caps_batches():
    t = uniq()
    ws = connect(srv(), path("producer", t, params=BATCH + "&batchingMaxMessages=3"))
    ids = ok_ids(burst_publish(ws, [b"c%d" % i for i in range(10)]))
    groups = batch_groups(ids)
    for key, members in groups:
        check_batch_group(key, members)
    sizes = [len(m) for _, m in groups]
    check(max(sizes) <= 3, "batchingMaxMessages=3 exceeded: sizes %r" % sizes)
    eq(max(sizes), 3, "largest batch of a 10-message burst with batchingMaxMessages=3 (sizes %r)" % sizes)
    check(len(groups) >= 4, "10 messages need at least 4 batches of <= 3 (sizes %r)" % sizes)


@test
def batching_max_messages_one_gives_single_message_batches():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "s"))
    ws = connect(s, path("producer", t, params=BATCH + "&batchingMaxMessages=1"))
    ids = ok_ids(burst_publish(ws, [b"one%d" % i for i in range(5)]))
    first = decode_msgid(ids[0])
    expect = [msgid_b64(first["ledger"], first["entry"] + i, None, 0, 1) for i in range(5)]
    eq(ids, expect, "ids with batchingMaxMessages=1 (batch_index 0, batch_size 1, one entry each)")
    got = recv_n(cons, 5)
    eq([m["messageId"] for m in got], ids, "delivered ids")
    eq([m["payload"] for m in got], [b64(b"one%d" % i) for i in range(5)], "delivered payloads")


@test
def batching_off_keeps_plain_ids():
    s = srv()
    for params in (None, "batchingEnabled=false", "batchingEnabled=garbage", "batchingMaxMessages=5",
                   "batchingMaxPublishDelay=50&batchingMaxMessages=100"):
        t = uniq()
        ws = connect(s, path("producer", t, params=params))
        ids = ok_ids(burst_publish(ws, [b"p%d" % i for i in range(8)]))
        d0 = decode_msgid(ids[0])
        eq(ids, [msgid_b64(d0["ledger"], d0["entry"] + i) for i in range(8)],
           "plain consecutive ids with params %r" % params)
        ws.close(timeout=1)


@test
def bad_batching_params_400():
    s = srv()
    for bad in ("batchingMaxPublishDelay=abc", "batchingMaxMessages=ten", "batchingMaxPublishDelay=1.5",
                "batchingEnabled=true&batchingMaxMessages=9999999999"):
        eq(upgrade_status(s, path("producer", uniq(), params=bad))[0], 400, "status for %s" % bad)


@test
def consumer_gets_individual_messages_with_their_metadata():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "s"))
    ws = connect(s, path("producer", t, params=BATCH))
    n = 8
    payloads = [b"", b"x"] + [b"payload-%d" % i for i in range(2, n)]
    texts = []
    for i, p in enumerate(payloads):
        texts.append({"payload": b64(p), "context": str(i), "key": "k%d" % (i % 3),
                      "properties": {"i": str(i), "even": str(i % 2 == 0)},
                      "eventTime": "2022-05-01T10:00:%02dZ" % i})
    send_burst(ws, [json.dumps(x) for x in texts])
    rs = sorted(recv_n(ws, n), key=lambda r: int(r["context"]))
    ids = ok_ids(rs)
    groups = batch_groups(ids)
    for key, members in groups:
        check_batch_group(key, members)
    got = recv_n(cons, n)
    eq([m["messageId"] for m in got], ids, "delivered ids = receipt ids, in send order")
    for i, m in enumerate(got):
        eq(m["payload"], b64(payloads[i]), "payload %d" % i)
        eq(m.get("key"), "k%d" % (i % 3), "key %d" % i)
        eq(m.get("properties"), {"i": str(i), "even": str(i % 2 == 0)}, "properties %d" % i)
        check(m.get("eventTime") and parse_iso(m["eventTime"]) == parse_iso("2022-05-01T10:00:%02dZ" % i),
              "eventTime %d: %r" % (i, m.get("eventTime")))
        eq(m.get("redeliveryCount"), 0, "redeliveryCount %d" % i)
    expect_silence(cons, 0.5)


@test
def reader_sees_batch_ids_and_can_start_inside_a_batch():
    s = srv()
    t = uniq()
    ids, groups = multi_batch_burst(s, t, 12, BATCH + "&batchingMaxMessages=6")
    got = read_all(s, path("reader", t, params="messageId=earliest"))
    eq([m["messageId"] for m in got], ids, "reader from earliest: ids")
    eq([m["payload"] for m in got], [b64(b"m%d" % i) for i in range(12)], "reader from earliest: payloads")
    big = [(k, m) for k, m in groups if len(m) >= 3]
    check(big, "need a batch of >= 3 messages (sizes %r)" % [len(m) for _, m in groups])
    key, members = big[0]
    pos = ids.index(members[1]["b64"])
    got = read_all(s, path("reader", t, params="messageId=" + members[1]["b64"]))
    eq([m["messageId"] for m in got], ids[pos + 1:],
       "reader starting after batch_index 1 of entry %r (exclusive start inside a batch)" % (key,))
    pos = ids.index(members[-1]["b64"])
    got = read_all(s, path("reader", t, params="messageId=" + members[-1]["b64"]))
    eq([m["messageId"] for m in got], ids[pos + 1:], "reader starting after the last index of a batch")


@test
def backlog_clears_only_when_every_index_is_acked_14242():
    s = start_server()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    ids, groups = multi_batch_burst(s, t, 10)
    got = recv_n(cons, 10)
    eq([m["messageId"] for m in got], ids, "delivered ids")
    for mid in ids[:-1]:
        send_ack(cons, mid)
    time.sleep(0.5 * time_scale())
    check(backlog(s, t, "sub") >= 1, "backlog after acking 9 of 10 batched messages must not be 0")
    check(not cursor_at_end(s, t, "sub"), "markDeletePosition reached the last entry with one index unacked")
    send_ack(cons, ids[-1])
    wait_until(lambda: backlog(s, t, "sub") == 0, 5 * time_scale(), what="msgBacklog 0 after acking every index")
    wait_until(lambda: cursor_at_end(s, t, "sub"), 5 * time_scale(),
               what="markDeletePosition = lastConfirmedEntry after acking every index")
    cons.close(timeout=1)
    cons = connect_retry(s, path("consumer", t, "sub"))
    expect_silence(cons, 1.0)
    cons.close(timeout=1)
    eq(s.stop(), 0, "clean exit")
    s = restart(s)
    cons = connect_retry(s, path("consumer", t, "sub"))
    expect_silence(cons, 1.0)
    eq(backlog(s, t, "sub"), 0, "backlog after restart")


@test
def partially_acked_batch_redelivers_the_unacked_messages():
    s = srv()
    t = uniq()
    params = "subscriptionType=Shared"
    cons = connect(s, path("consumer", t, "sub", params=params))
    ids, groups = multi_batch_burst(s, t, 10)
    got = recv_n(cons, 10)
    eq([m["messageId"] for m in got], ids, "delivered ids")
    unacked = {ids[3], ids[7]}
    for mid in ids:
        if mid not in unacked:
            send_ack(cons, mid)
    time.sleep(0.3 * time_scale())
    cons.close(timeout=1)
    cons = connect(s, path("consumer", t, "sub", params=params))
    again = []
    deadline = time.time() + 5 * time_scale()
    while not unacked <= {m["messageId"] for m in again} and time.time() < deadline:
        again.append(recv_json(cons, max(0.1, deadline - time.time())))
    seen = {m["messageId"] for m in again}
    check(unacked <= seen, "unacked batch messages %r not redelivered (got %r)" % (sorted(unacked), sorted(seen)))
    check(seen <= set(ids), "redelivered ids must be the original batch ids: %r" % sorted(seen - set(ids)))
    for m in again:
        eq(m["payload"], b64(b"m%d" % ids.index(m["messageId"])), "payload of redelivered %s" % m["messageId"])
    for m in again:
        send_ack(cons, m["messageId"])
    for m in drain(cons, 0.5):
        send_ack(cons, m["messageId"])
    wait_until(lambda: backlog(s, t, "sub") == 0, 5 * time_scale(), what="backlog 0 once the rest was acked")


@test
def acks_from_another_connection_clear_a_batch():
    s = srv()
    t = uniq()
    a = connect(s, path("consumer", t, "sub", params="subscriptionType=Shared"))
    b = connect(s, path("consumer", t, "sub", params="subscriptionType=Shared&pullMode=true"))
    ids, groups = multi_batch_burst(s, t, 10)
    got = recv_n(a, 10)
    eq(sorted(m["messageId"] for m in got), sorted(ids), "consumer A got every message")
    expect_silence(b, 0.2)
    for mid in ids:
        send_ack(b, mid)   # the ids are decoded from their strings: no per-session cache here
    wait_until(lambda: backlog(s, t, "sub") == 0, 5 * time_scale(),
               what="backlog 0 after another connection acked every batch index")
    a.close(timeout=1)
    b.close(timeout=1)
    c = connect(s, path("consumer", t, "sub", params="subscriptionType=Shared"))
    expect_silence(c, 1.0)


@test
def acks_after_restart_decode_batch_ids():
    s = start_server()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    ids, groups = multi_batch_burst(s, t, 10)
    eq([m["messageId"] for m in recv_n(cons, 10)], ids, "first delivery")
    cons.close(timeout=1)
    eq(s.stop(), 0, "clean exit")
    s = restart(s)
    cons = connect_retry(s, path("consumer", t, "sub"))
    again = recv_n(cons, 10)
    eq([m["messageId"] for m in again], ids, "redelivered after restart: same id strings")
    eq([m["payload"] for m in again], [b64(b"m%d" % i) for i in range(10)], "payloads after restart")
    for mid in ids:
        send_ack(cons, mid)
    wait_until(lambda: backlog(s, t, "sub") == 0, 5 * time_scale(), what="backlog 0 after acks following a restart")
    cons.close(timeout=1)
    eq(s.stop(), 0, "clean exit")
    s = restart(s)
    cons = connect_retry(s, path("consumer", t, "sub"))
    expect_silence(cons, 1.0)


@test
def negative_ack_of_one_index_redelivers_it():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub", params="subscriptionType=Shared&negativeAckRedeliveryDelay=200"))
    ids, groups = multi_batch_burst(s, t, 5)
    eq([m["messageId"] for m in recv_n(cons, 5)], ids, "first delivery")
    for i, mid in enumerate(ids):
        if i == 3:
            send_nack(cons, mid)
        else:
            send_ack(cons, mid)
    got = []
    deadline = time.time() + 5 * time_scale()
    while ids[3] not in [m["messageId"] for m in got] and time.time() < deadline:
        got.append(recv_json(cons, max(0.1, deadline - time.time())))
    m3 = [m for m in got if m["messageId"] == ids[3]]
    check(m3, "nacked batch message %s not redelivered (got %r)" % (ids[3], got))
    eq(m3[0]["payload"], b64(b"m3"), "payload of the redelivered message")
    check(m3[0]["redeliveryCount"] >= 1, "redeliveryCount after a nack: %r" % m3[0])
    for m in got:
        send_ack(cons, m["messageId"])
    wait_until(lambda: backlog(s, t, "sub") == 0, 5 * time_scale(), what="backlog 0 after acking the redelivery")


@test
def batches_survive_kill9():
    s = start_server()
    t = uniq()
    ids, groups = multi_batch_burst(s, t, 20, payload=lambda i: b"k9-%d" % i)
    s.kill9()
    s = restart(s)
    got = read_all(s, path("reader", t, params="messageId=earliest"))
    eq([m["messageId"] for m in got], ids, "ids after kill -9")
    eq([m["payload"] for m in got], [b64(b"k9-%d" % i) for i in range(20)], "payloads after kill -9")


@test
def partitioned_topic_batch_ids_carry_the_partition():
    s = srv()
    t = uniq()
    st, _, body = admin(s, "PUT", topic_admin_path(t, "partitions"), "2")
    eq(st, 204, "create partitioned topic (%r)" % body)
    cons = connect(s, path("consumer", t, "sub"))
    ws = connect(s, path("producer", t, params=BATCH))
    ids = ok_ids(burst_publish(ws, [b"pp%d" % i for i in range(6)]))
    parts = {decode_msgid(x).get("partition") for x in ids}
    eq(len(parts), 1, "SinglePartition routing: one partition for every key-less message (%r)" % parts)
    p = parts.pop()
    check(p in (0, 1), "partition field (3) present in every id: %r" % ids)
    groups = batch_groups(ids)
    for key, members in groups:
        check_batch_group(key, members, partition=p)
    check(max(len(m) for _, m in groups) >= 2, "no multi-message batch on the partition")
    got = recv_n(cons, 6)
    eq([m["messageId"] for m in got], ids, "consumer of the partitioned topic: ids")


if __name__ == "__main__":
    main()
