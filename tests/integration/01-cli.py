# 01-cli.py - command-line contract of the magnetar binary (DESIGN.md "Command line").
#
# Checks what scripts and test suites rely on: the single ready line on stdout with the real port
# when -p 0 is given, clean exit 0 on SIGTERM and SIGINT, --version/--help, -o overrides taking
# effect, and that an unknown key in a -c config file makes the server refuse to start with a
# message naming the file and line. Runs the real binary; nothing mocked.

import os
import signal
import subprocess

from magnetar_harness import (MAGNETAR_BIN, READY_RE, check, connect, eq, main,
                              mkdtemp, path, publish, start_server, test, uniq, upgrade_status)


def run_bin(args, timeout=10):
    return subprocess.run([MAGNETAR_BIN] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, cwd=mkdtemp("mag-cwd-"))


@test
def ready_line_exact_and_port_usable():
    srv = start_server()
    check(srv.port > 0, "port must be > 0 when -p 0 is used")
    status, _, _ = upgrade_status(srv, path("producer", uniq()))
    eq(status, 101, "upgrade status on the announced port")
    # Exactly one line on stdout: nothing else may follow the ready line.
    rc = srv.stop()
    eq(rc, 0, "exit code after SIGTERM")
    extra = []
    while True:
        line = srv._line_q.get(timeout=5)
        if line is None:
            break
        extra.append(line)
    eq(extra, [], "stdout lines after the ready line")


@test
def two_servers_get_different_free_ports():
    a = start_server()
    b = start_server()
    check(a.port != b.port, "two -p 0 servers announced the same port %d" % a.port)


@test
def sigterm_exits_zero_with_open_clients():
    srv = start_server()
    ws = connect(srv, path("producer", uniq()))
    r = publish(ws, b"x", context="1")
    eq(r["result"], "ok", "receipt")
    eq(srv.stop(), 0, "exit code after SIGTERM with an open session")
    ws.close(timeout=1)


@test
def sigint_exits_zero():
    srv = start_server()
    srv.proc.send_signal(signal.SIGINT)
    eq(srv.proc.wait(10), 0, "exit code after SIGINT")


@test
def version_and_help():
    r = run_bin(["--version"])
    eq(r.returncode, 0, "--version exit code")
    check(r.stdout.strip() != b"", "--version printed nothing on stdout")
    r = run_bin(["--help"])
    eq(r.returncode, 0, "--help exit code")
    out = r.stdout.decode()
    for opt in ("-c", "-p", "-d", "-o", "--ephemeral", "--version", "--help"):
        check(opt in out, "--help does not mention %s:\n%s" % (opt, out))


@test
def unknown_option_fails():
    r = run_bin(["--no-such-option"])
    check(r.returncode != 0, "unknown option must exit non-zero")
    check(b"no-such-option" in r.stderr, "stderr should name the bad option: %r" % r.stderr)


@test
def unknown_config_key_names_file_and_line():
    d = mkdtemp("mag-conf-")
    conf = os.path.join(d, "bad.conf")
    with open(conf, "w") as f:
        f.write("# comment\n\nwebSocketMaxTextFrameSize=4096\nfooBarNoSuchKey=1\n")
    r = run_bin(["-c", conf, "-p", "0", "-d", os.path.join(d, "data")])
    check(r.returncode != 0, "unknown key must exit non-zero (rc=%d)" % r.returncode)
    err = r.stderr.decode(errors="replace")
    check("bad.conf" in err and ":4" in err and "fooBarNoSuchKey" in err,
          "stderr must name file, line 4 and the key; got %r" % err)
    check(not READY_RE.match(r.stdout.decode(errors="replace").strip()), "must not print ready")


@test
def config_file_and_override_take_effect():
    # -c file sets a small frame limit; a bigger text frame then gets close 1009.
    from magnetar_harness import RawWS, OP_TEXT
    d = mkdtemp("mag-conf-")
    conf = os.path.join(d, "good.conf")
    with open(conf, "w") as f:
        f.write("webSocketMaxTextFrameSize=2048\n")
    srv = start_server(["-c", conf])
    ws = RawWS.connect(srv, path("producer", uniq()))
    ws.send_frame(OP_TEXT, b'{"payload":"' + b"A" * 3000 + b'"}')
    code, _ = ws.expect_close()
    eq(code, 1009, "close code for a 3000-byte frame with webSocketMaxTextFrameSize=2048 from -c")
    srv.stop()
    # -o wins over the file.
    srv = start_server(["-c", conf, "-o", "webSocketMaxTextFrameSize=8192"])
    ws = RawWS.connect(srv, path("producer", uniq()))
    ws.send_frame(OP_TEXT, '{"payload":"%s","context":"c"}' % ("A" * 3000))
    r = ws.recv_json()
    eq(r.get("result"), "ok", "receipt with -o webSocketMaxTextFrameSize=8192 overriding the file")


@test
def bad_override_value_fails():
    d = mkdtemp("mag-conf-")
    r = run_bin(["-p", "0", "-d", os.path.join(d, "data"), "-o", "webServicePort=99999"])
    check(r.returncode != 0, "out-of-range -o value must exit non-zero")
    r = run_bin(["-p", "0", "-d", os.path.join(d, "data"), "-o", "noSuchKeyAtAll=1"])
    check(r.returncode != 0, "unknown -o key must exit non-zero")
    check(b"noSuchKeyAtAll" in r.stderr, "stderr should name the unknown key: %r" % r.stderr)


@test
def ephemeral_works_and_cleans_up():
    srv = start_server(["--ephemeral"], data_dir=False)
    ws = connect(srv, path("producer", uniq()))
    eq(publish(ws, b"e", context="1")["result"], "ok", "publish on an --ephemeral server")
    ws.close(timeout=1)
    eq(srv.stop(), 0, "exit code of --ephemeral server after SIGTERM")
    # If the server logged its temp dir, it must be gone now.
    import re
    m = re.search(r"data dir (/\S+)", srv.stderr_tail(50))
    if m:
        check(not os.path.exists(m.group(1).rstrip(",")), "ephemeral data dir %s left behind" % m.group(1))


if __name__ == "__main__":
    main()
