# 58-group-wait.py - journalMaxGroupWaitMSec / journalBufferedWritesThreshold (BookKeeper's keys).
#
# With fsync on, a commit starts no sooner than journalMaxGroupWaitMSec after the previous one
# began: publishes arriving meanwhile wait and go together in one commit. A publish after a quiet
# spell is committed at once; a job of journalBufferedWritesThreshold bytes goes without waiting;
# SIGTERM commits (and answers) what waits. The waits used here are long (1 s, 30 s) so that
# each check is a lower bound or a generous upper bound, never a race.

import re
import signal
import time
import urllib.request

from magnetar_harness import (check, connect, eq, eq_payloads, expect_silence, main, path, pub_msg,
                              publish, read_n, recv_json, recv_n, restart, start_server, test, uniq)


def commits(srv):
    """Group commits the server has made so far (one per job, from /metrics)."""
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.port, timeout=10) as r:
        text = r.read().decode()
    return int(re.search(r"^magnetar_commit_fsync_seconds_count (\d+)$", text, re.M).group(1))


@test
def a_steady_stream_waits_and_shares_one_commit():
    srv = start_server(["-o", "journalMaxGroupWaitMSec=1000"])
    ws = connect(srv, path("producer", uniq("paced")))
    before = commits(srv)
    t0 = time.monotonic()
    eq(publish(ws, b"first", "0").get("result"), "ok", "first receipt")
    check(time.monotonic() - t0 < 1.0, "a publish after a quiet spell waited for the group wait")
    for i in range(1, 6):
        ws.send(pub_msg(b"next-%d" % i, str(i)))
    rs = recv_n(ws, 5)
    eq([r.get("result") for r in rs], ["ok"] * 5, "receipts of the five")
    check(time.monotonic() - t0 >= 1.0, "the five were committed before the group wait ended")
    eq(commits(srv) - before, 2, "commits for the first publish and the five that waited")
    ws.close(timeout=1)
    eq(srv.stop(), 0, "exit status")


@test
def a_big_job_goes_at_once_and_sigterm_commits_what_waits():
    srv = start_server(["-o", "journalMaxGroupWaitMSec=30000",
                        "-o", "journalBufferedWritesThreshold=1024"])
    topic = uniq("big")
    ws = connect(srv, path("producer", topic))
    eq(publish(ws, b"first", "0").get("result"), "ok", "first receipt")
    # 2 KiB staged >= the 1 KiB threshold: committed without the 30 s wait.
    eq(publish(ws, b"B" * 2048, "1", timeout=15).get("result"), "ok", "receipt of the big publish")
    # A small one waits for the rest of the 30 s...
    ws.send(pub_msg(b"small", "2"))
    expect_silence(ws, 1.0)
    # ...until SIGTERM: the server commits it, answers, and exits 0.
    srv.proc.send_signal(signal.SIGTERM)
    r = recv_json(ws, 10)
    eq((r.get("result"), r.get("context")), ("ok", "2"), "receipt sent at shutdown")
    eq(srv.stop(), 0, "exit status after SIGTERM")
    srv2 = restart(srv)
    msgs = read_n(srv2, path("reader", topic, params="messageId=earliest"), 3)
    eq_payloads(msgs, [b"first", b"B" * 2048, b"small"], "stored after restart")
    eq(srv2.stop(), 0, "exit status")


if __name__ == "__main__":
    main()
