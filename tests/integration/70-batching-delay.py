# 70-batching-delay.py - when a producer's batch closes (issue 11).
#
# With batchingEnabled the Java client behind Pulsar's WebSocket proxy (ProducerHandler ->
# ProducerImpl with BatchMessageContainerImpl) closes a batch only when it is full
# (batchingMaxMessages, or batchingMaxBytes = 128 KiB of payload, which the proxy leaves at the
# builder's default) or when batchingMaxPublishDelay (default 1 ms) has passed. So three sends
# 150 ms apart with batchingMaxMessages=3 and a 60 s delay are ONE entry with batch indexes 0, 1, 2
# and batch size 3 in the receipts and in what consumers get. Receipts leave only after the entry
# is committed. A producer that closes, and a SIGTERM, still write the open batch (SIGTERM with
# receipts). batchingMaxPublishDelay < 1 is refused as ProducerConfigurationData does.

import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (b64, batch_groups, check, check_batch_group, connect, eq,  # noqa: E402
                              expect_silence, internal_stats, main, path, pub_msg, read_all,
                              recv_json, recv_n, restart, shared_server, start_server, test,
                              time_scale, uniq, upgrade_status)


def srv():
    return shared_server()


def receipts_in_order(rs):
    by = {r.get("context"): r for r in rs}
    eq(len(by), len(rs), "one receipt per context")
    out = [by[str(i)] for i in range(len(rs))]
    for r in out:
        eq(r.get("result"), "ok", "receipt %r" % r)
    return [r["messageId"] for r in out]


def one_batch(ids):
    groups = batch_groups(ids)
    eq(len(groups), 1, "batches in %r" % ids)
    check_batch_group(*groups[0])
    return groups[0][0]


@test
def three_sends_150ms_apart_are_one_entry():
    s = srv()
    t = uniq()
    cons = connect(s, path("consumer", t, "sub"))
    ws = connect(s, path("producer", t, params="batchingEnabled=true&batchingMaxMessages=3"
                                               "&batchingMaxPublishDelay=60000"))
    for i in range(3):
        if i:
            time.sleep(0.15)
        ws.send(pub_msg(b"m%d" % i, str(i)))
        if i < 2:
            expect_silence(ws, 0.01)    # no receipt before the batch is full
    ids = receipts_in_order(recv_n(ws, 3, 5 * time_scale()))
    key = one_batch(ids)
    eq(internal_stats(s, t)["numberOfEntries"], 1, "stored entries")
    msgs = recv_n(cons, 3, 5 * time_scale())
    eq([m["messageId"] for m in msgs], ids, "consumer's message ids = the receipts' ids")
    eq([m["payload"] for m in msgs], [b64(b"m%d" % i) for i in range(3)], "payloads")
    ws.close(timeout=1)
    cons.close(timeout=1)
    check(key[1] >= 0, "entry id")


@test
def open_batch_closes_when_its_delay_is_over():
    s = srv()
    t = uniq()
    ws = connect(s, path("producer", t, params="batchingEnabled=true&batchingMaxMessages=10"
                                               "&batchingMaxPublishDelay=200"))
    t0 = time.monotonic()
    ws.send(pub_msg(b"a", "0"))
    ws.send(pub_msg(b"b", "1"))
    rs = recv_n(ws, 2, 5 * time_scale())
    elapsed = time.monotonic() - t0
    ids = receipts_in_order(rs)
    one_batch(ids)
    check(elapsed >= 0.19, "receipts after %.3f s, before the 200 ms delay" % elapsed)
    check(elapsed < 2.0 * time_scale(), "receipts only after %.3f s" % elapsed)
    eq(internal_stats(s, t)["numberOfEntries"], 1, "stored entries")
    ws.close(timeout=1)


@test
def default_delay_is_one_millisecond():
    """batchingEnabled alone: batchingMaxMessages 1000 and batchingMaxPublishDelay 1 ms, so a
    single message is answered at once."""
    s = srv()
    ws = connect(s, path("producer", uniq(), params="batchingEnabled=true"))
    t0 = time.monotonic()
    ws.send(pub_msg(b"x", "0"))
    r = recv_json(ws, 5 * time_scale())
    eq(r.get("result"), "ok", "receipt")
    check(time.monotonic() - t0 < 1.0 * time_scale(), "receipt took %.3f s" % (time.monotonic() - t0))
    one_batch([r["messageId"]])
    ws.close(timeout=1)


@test
def batch_closes_at_128_kib_of_payload():
    s = srv()
    t = uniq()
    ws = connect(s, path("producer", t, params="batchingEnabled=true&batchingMaxMessages=100"
                                               "&batchingMaxPublishDelay=60000"))
    kib50 = b"x" * (50 * 1024)
    # 50 + 50 KiB fit; a third 50 KiB would pass 128 KiB: the first two close without it.
    for i in range(3):
        ws.send(pub_msg(kib50, str(i)))
    first = recv_n(ws, 2, 5 * time_scale())
    expect_silence(ws, 0.3)
    eq(sorted(r["context"] for r in first), ["0", "1"], "receipts of the closed batch")
    one_batch(receipts_in_order(first))
    # 50 + 78 KiB = exactly 128 KiB: full, closes at once.
    ws.send(pub_msg(b"y" * (78 * 1024), "3"))
    second = recv_n(ws, 2, 5 * time_scale())
    eq(sorted(r["context"] for r in second), ["2", "3"], "receipts of the full batch")
    for r in second:
        r["context"] = str(int(r["context"]) - 2)
    one_batch(receipts_in_order(second))
    eq(internal_stats(s, t)["numberOfEntries"], 2, "stored entries")
    ws.close(timeout=1)


@test
def producer_close_writes_the_open_batch():
    s = srv()
    t = uniq()
    ws = connect(s, path("producer", t, params="batchingEnabled=true&batchingMaxMessages=10"
                                               "&batchingMaxPublishDelay=60000"))
    ws.send(pub_msg(b"a", "0"))
    ws.send(pub_msg(b"b", "1"))
    expect_silence(ws, 0.2)
    ws.close(timeout=1)
    msgs = read_all(s, path("reader", t, params="messageId=earliest"), idle=1.0)
    eq([m["payload"] for m in msgs], [b64(b"a"), b64(b"b")], "payloads written at close")
    one_batch([m["messageId"] for m in msgs])


@test
def sigterm_flushes_the_open_batch_with_receipts():
    own = start_server()
    t = uniq()
    ws = connect(own, path("producer", t, params="batchingEnabled=true&batchingMaxMessages=10"
                                                 "&batchingMaxPublishDelay=60000"))
    ws.send(pub_msg(b"a", "0"))
    ws.send(pub_msg(b"b", "1"))
    expect_silence(ws, 0.2)
    own.proc.send_signal(__import__("signal").SIGTERM)
    ids = receipts_in_order(recv_n(ws, 2, 5 * time_scale()))
    one_batch(ids)
    eq(own.proc.wait(10 * time_scale()), 0, "exit code after SIGTERM")
    again = restart(own)
    try:
        msgs = read_all(again, path("reader", t, params="messageId=earliest"), idle=1.0)
        eq([m["messageId"] for m in msgs], ids, "the batch after a restart")
    finally:
        again.stop()


@test
def send_timeout_and_pending_limit_count_batched_messages():
    """A batch waiting for its delay does not hold back sendTimeoutMillis, and its messages count
    against maxPendingMessages (ProducerImpl: both cover messages still in the batch container)."""
    s = srv()
    ws = connect(s, path("producer", uniq(), params="batchingEnabled=true&batchingMaxMessages=10"
                                                    "&batchingMaxPublishDelay=60000"
                                                    "&sendTimeoutMillis=300&maxPendingMessages=2"))
    t0 = time.monotonic()
    for i in range(3):
        ws.send(pub_msg(b"m%d" % i, str(i)))
    full = recv_json(ws, 5 * time_scale())
    eq((full.get("context"), full.get("result")), ("2", "send-error:8"), "third send: queue full")
    timed_out = recv_n(ws, 2, 5 * time_scale())
    eq(sorted(r.get("context") for r in timed_out), ["0", "1"], "send timeouts")
    for r in timed_out:
        eq(r.get("result"), "send-error:8", "send timeout receipt %r" % r)
    check(time.monotonic() - t0 >= 0.29, "send timeout after %.3f s" % (time.monotonic() - t0))
    ws.close(timeout=1)


@test
def batching_delay_below_one_ms_is_400():
    s = srv()
    for bad in ("batchingMaxPublishDelay=0", "batchingEnabled=true&batchingMaxPublishDelay=-5"):
        st, _, body = upgrade_status(s, path("producer", uniq(), params=bad))
        eq(st, 400, "status for %s" % bad)
        check(b"configured value for batch delay must be at least 1ms" in body,
              "body for %s: %r" % (bad, body))


if __name__ == "__main__":
    main()
