# 41-process-lifetime.py - how a server started by a test suite or a supervisor ends:
# --ephemeral leaves nothing behind after any death (kill -9 included), --exit-with-parent stops the
# server when the process that started it dies, --exit-on-stdin-eof stops it when its standard
# input closes, and a stop still answers every acknowledged publish after a restart-free run.

import os
import re
import signal
import subprocess
import sys
import time

from magnetar_harness import (MAGNETAR_BIN, check, connect, eq, main, path,
                              produce, recv_json, start_server, test, track_child, uniq)

DIR_RE = re.compile(r"data dir (\S+) \(ephemeral\)")
SCALE = float(os.environ.get("MAG_TIMEOUT_SCALE") or 1)


def ephemeral_dir(srv):
    deadline = time.time() + 5 * SCALE
    while time.time() < deadline:
        m = DIR_RE.search(srv.stderr_tail(200))
        if m:
            return m.group(1)
        time.sleep(0.02)
    raise AssertionError("no ephemeral data dir in the log: %s" % srv.stderr_tail())


def wait_exit(proc, seconds):
    try:
        return proc.wait(seconds * SCALE)
    except subprocess.TimeoutExpired:
        return None


@test
def ephemeral_leaves_nothing_after_kill9():
    srv = start_server(["--ephemeral"], data_dir=False)
    d = ephemeral_dir(srv)
    check(not os.path.exists(d), "ephemeral dir %s still has a name while the server runs" % d)
    # The store works without its names: publish, read back, and the storage stats still read.
    topic = uniq("eph")
    ids = produce(srv, topic, [b"a", b"b", b"c"])
    ws = connect(srv, path("reader", topic, params={"messageId": "earliest"}))
    got = [recv_json(ws)["messageId"] for _ in ids]
    ws.close(timeout=1)
    eq(got, ids, "messages read back from the ephemeral store")
    srv.kill9()
    check(not os.path.exists(d), "kill -9 left %s behind" % d)


@test
def ephemeral_sigterm_exits_zero():
    srv = start_server(["--ephemeral"], data_dir=False)
    d = ephemeral_dir(srv)
    eq(srv.stop(), 0, "exit code after SIGTERM")
    check(not os.path.exists(d), "SIGTERM left %s behind" % d)


@test
def exit_with_parent():
    # A middle process starts magnetar and is then killed with SIGKILL, as a test runner that dies.
    code = ("import subprocess,sys\n"
            "p = subprocess.Popen([sys.argv[1], '--ephemeral', '-p', '0', '--exit-with-parent'],"
            " stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
            "line = p.stdout.readline().decode().strip()\n"
            "print(p.pid, line, flush=True)\n"
            "import time; time.sleep(60)\n")
    mid = track_child(subprocess.Popen([sys.executable, "-c", code, MAGNETAR_BIN],
                                       stdout=subprocess.PIPE, stdin=subprocess.DEVNULL))
    first = mid.stdout.readline().decode().split()
    check(len(first) >= 3 and first[1] == "magnetar", "middle process said %r" % first)
    pid = int(first[0])
    os.kill(pid, 0)   # running
    mid.kill()
    mid.wait(5)
    deadline = time.time() + 5 * SCALE
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        # The orphan is reparented (to init or a subreaper, which reaps it): poll its state.
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(") ", 1)[1].startswith("Z"):
                    return
        except OSError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError("magnetar %d outlived its parent by 5 s" % pid)


@test
def exit_on_stdin_eof():
    p = track_child(subprocess.Popen([MAGNETAR_BIN, "--ephemeral", "-p", "0", "--exit-on-stdin-eof"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE))
    check(p.stdout.readline().startswith(b"magnetar ready "), "no ready line")
    p.stdin.write(b"anything written is ignored\n")
    p.stdin.flush()
    time.sleep(0.2)
    check(p.poll() is None, "server stopped on input that was not end of file")
    p.stdin.close()
    rc = wait_exit(p, 5)
    err = p.stderr.read().decode(errors="replace")
    eq(rc, 0, "exit code after stdin closed (stderr %s)" % err[-500:])
    check("standard input closed: shutting down" in err, "log names the reason: %s" % err[-500:])


@test
def exit_on_stdin_eof_needs_a_pipe():
    p = subprocess.run([MAGNETAR_BIN, "--ephemeral", "-p", "0", "--exit-on-stdin-eof"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10 * SCALE)
    eq(p.returncode, 2, "exit code with /dev/null as standard input")
    check(b"standard input must be a pipe" in p.stderr, "error text: %r" % p.stderr[-300:])
    eq(p.stdout, b"", "no ready line")


if __name__ == "__main__":
    main()
