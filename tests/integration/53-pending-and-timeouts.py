# 53-pending-and-timeouts.py - maxPendingMessages and sendTimeoutMillis (issue #7;
# ProducerHandler: blockIfQueueFull=false, send-error:8 acks).
#
# The WS producer runs with blockIfQueueFull=false: once maxPendingMessages publishes await their
# commit, the next one fails AT ONCE with send-error:8 "Producer send queue is full" (context
# echoed); 0 means no limit; the default is 1000. A publish not committed within
# sendTimeoutMillis fails with send-error:8 when the timeout expires (not when the commit finally
# returns), together with every other pending publish (as the Java client), one receipt per frame; 0 disables the timeout; default 30 s. To hold commits
# back deterministically the tests take the LMDB write lock of the server's data directory from
# the test process (LmdbWriteLock), so the group commit cannot start until it is released - a
# stand-in for a stalled disk. Per DESIGN.md the commit runs on a storage writer thread, so the
# event loop keeps answering (queue-full and timeout receipts) while a commit is stuck.

import os
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [_here, os.path.dirname(_here)]   # runs from tests/integration/ or its pending/

from magnetar_harness import (LmdbWriteLock, b64, burst_publish, check, connect,  # noqa: E402
                              decode_msgid, eq, expect_silence, main, msgid_b64, path, pub_msg,
                              publish, read_n, recv_json, recv_n, send_burst, shared_server, test,
                              time_scale, uniq, upgrade_status)

FULL = "Producer send queue is full"


def srv():
    return shared_server()


def producer(s, topic, params):
    """A producer whose topic already exists and has one committed message (so that topic
    creation never waits for the held lock). Returns (ws, id of the warm-up message)."""
    ws = connect(s, path("producer", topic, params=params))
    r = publish(ws, b"warm-up", context="w")
    eq(r.get("result"), "ok", "warm-up receipt (%r)" % r)
    return ws, r["messageId"]


def check_full(r, ctx):
    eq(r.get("result"), "send-error:8", "queue-full receipt for context %s (%r)" % (ctx, r))
    eq(r.get("context"), ctx, "context echoed on queue full")
    check(FULL in (r.get("errorMsg") or ""), "errorMsg names the full queue: %r" % r)
    check("messageId" not in r, "error receipt without messageId: %r" % r)


@test
def queue_full_in_a_pipelined_burst():
    s = srv()
    t = uniq()
    ws = connect(s, path("producer", t, params="maxPendingMessages=1"))
    rs = burst_publish(ws, [b"b%d" % i for i in range(100)])
    ok = [i for i, r in enumerate(rs) if r.get("result") == "ok"]
    bad = [i for i, r in enumerate(rs) if r.get("result") != "ok"]
    check(ok, "no publish of the burst succeeded")
    check(bad, "maxPendingMessages=1: a 100-frame burst never filled the queue")
    for i in bad:
        check_full(rs[i], str(i))
    got = read_n(s, path("reader", t, params="messageId=earliest"), len(ok))
    eq([m["payload"] for m in got], [b64(b"b%d" % i) for i in ok], "stored = exactly the ok receipts, in order")
    eq([m["messageId"] for m in got], [rs[i]["messageId"] for i in ok], "stored ids = receipt ids")


@test
def max_pending_zero_means_no_limit():
    s = srv()
    t = uniq()
    ws, _ = producer(s, t, "maxPendingMessages=0&sendTimeoutMillis=0")
    with LmdbWriteLock(s.data_dir):
        send_burst(ws, [pub_msg(b"z%d" % i, str(i)) for i in range(1500)])
        expect_silence(ws, 0.7)
    rs = recv_n(ws, 1500, 15 * time_scale())
    eq([r.get("result") for r in rs], ["ok"] * 1500, "every publish accepted with maxPendingMessages=0")


@test
def send_timeout_gives_exactly_one_error_receipt():
    s = srv()
    t = uniq()
    ws, _ = producer(s, t, "sendTimeoutMillis=400")
    with LmdbWriteLock(s.data_dir):
        ws.send(pub_msg(b"slow", "x"))
        time.sleep(1.5)
    r = recv_json(ws, 10 * time_scale())
    eq(r.get("result"), "send-error:8", "a publish held 1.5 s with sendTimeoutMillis=400 (%r)" % r)
    eq(r.get("context"), "x", "context echoed")
    expect_silence(ws, 1.0)
    eq(publish(ws, b"next", context="n").get("result"), "ok", "a fresh publish succeeds")


@test
def send_timeout_zero_waits_as_long_as_needed():
    s = srv()
    t = uniq()
    ws, warm = producer(s, t, "sendTimeoutMillis=0")
    with LmdbWriteLock(s.data_dir):
        ws.send(pub_msg(b"patient", "p"))
        expect_silence(ws, 2.5)
    r = recv_json(ws, 10 * time_scale())
    eq(r.get("result"), "ok", "receipt after a 2.5 s stall with sendTimeoutMillis=0 (%r)" % r)
    d = decode_msgid(warm)
    eq(r.get("messageId"), msgid_b64(d["ledger"], d["entry"] + 1), "id")


@test
def stall_shorter_than_the_timeout_succeeds():
    s = srv()
    for params, stall in (("sendTimeoutMillis=2500", 0.8), (None, 1.5)):   # None: default 30 s
        t = uniq()
        ws, _ = producer(s, t, params)
        with LmdbWriteLock(s.data_dir):
            ws.send(pub_msg(b"s", "s"))
            expect_silence(ws, stall)
        r = recv_json(ws, 10 * time_scale())
        eq(r.get("result"), "ok", "receipt after a %.1fs stall with %s (%r)" % (stall, params, r))
        expect_silence(ws, 0.3)


@test
def queue_full_fails_immediately():
    s = srv()
    t = uniq()
    ws, _ = producer(s, t, "maxPendingMessages=5&sendTimeoutMillis=0")
    with LmdbWriteLock(s.data_dir):
        send_burst(ws, [pub_msg(b"q%d" % i, str(i)) for i in range(5)])
        expect_silence(ws, 0.5)
        start = time.time()
        ws.send(pub_msg(b"sixth", "6"))
        r = recv_json(ws, 3 * time_scale())     # while the commit is still blocked
        check_full(r, "6")
        check(time.time() - start < 2 * time_scale(), "queue-full receipt came late")
        expect_silence(ws, 0.3)
    rs = recv_n(ws, 5, 10 * time_scale())
    eq([(r.get("result"), r.get("context")) for r in rs], [("ok", str(i)) for i in range(5)],
       "the five pending publishes commit once the lock is released")


@test
def default_limit_is_1000():
    s = srv()
    t = uniq()
    ws, _ = producer(s, t, "sendTimeoutMillis=0")
    with LmdbWriteLock(s.data_dir):
        send_burst(ws, [pub_msg(b"d%d" % i, str(i)) for i in range(1000)])
        expect_silence(ws, 0.7)
        ws.send(pub_msg(b"one-more", "1000"))
        check_full(recv_json(ws, 3 * time_scale()), "1000")
    rs = recv_n(ws, 1000, 15 * time_scale())
    eq([r.get("result") for r in rs], ["ok"] * 1000, "the 1000 pending publishes commit")


@test
def send_timeout_fires_while_the_commit_is_blocked():
    s = srv()
    t = uniq()
    ws, _ = producer(s, t, "sendTimeoutMillis=400")
    with LmdbWriteLock(s.data_dir):
        start = time.time()
        ws.send(pub_msg(b"late", "t"))
        r = recv_json(ws, 3 * time_scale())     # the lock is still held here
        waited = time.time() - start
        eq(r.get("result"), "send-error:8", "timeout receipt while the commit is blocked (%r)" % r)
        eq(r.get("context"), "t", "context echoed")
        check(0.35 <= waited < 2 * time_scale(), "timeout receipt after %.2f s (400 ms asked)" % waited)
    expect_silence(ws, 1.0)     # the late commit does not answer the same frame again
    eq(publish(ws, b"next", context="n").get("result"), "ok", "a fresh publish succeeds")


@test
def send_timeout_fails_every_pending_publish_at_once():
    """Pulsar's Java client (ProducerImpl) fails its whole pending queue when the oldest message
    times out: the second publish, younger than the timeout, fails together with the first."""
    s = srv()
    t = uniq()
    ws, _ = producer(s, t, "sendTimeoutMillis=600")
    with LmdbWriteLock(s.data_dir):
        start = time.time()
        ws.send(pub_msg(b"first", "1"))
        time.sleep(0.5)
        ws.send(pub_msg(b"second", "2"))    # its own timeout would end 0.5 s after the first's
        first = recv_json(ws, 3 * time_scale())
        waited = time.time() - start
        second = recv_json(ws, 3 * time_scale())
        gap = time.time() - start - waited
        rs = [first, second]
        eq([(r.get("result"), r.get("context")) for r in rs], [("send-error:8", "1"), ("send-error:8", "2")],
           "both pending publishes fail at the first one's timeout")
        check(waited >= 0.55, "first failure after %.2f s (600 ms asked)" % waited)
        check(gap < 0.25, "the second failed %.2f s after the first, not with it" % gap)
        check(("persistent://public/default/" + t) in rs[0].get("errorMsg", ""),
              "the Java client's message names the topic: %r" % rs[0].get("errorMsg"))
    expect_silence(ws, 1.0)


@test
def negative_values_400():
    s = srv()
    for bad in ("sendTimeoutMillis=-1", "maxPendingMessages=-5", "maxPendingMessages=abc",
                "sendTimeoutMillis=99999999999"):
        eq(upgrade_status(s, path("producer", uniq(), params=bad))[0], 400, "status for %s" % bad)


if __name__ == "__main__":
    main()
