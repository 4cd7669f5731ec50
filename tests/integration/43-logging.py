# 43-logging.py - the log: one line per event with a timestamp and a level, logFormat=json for log
# shippers, logFile with SIGHUP opening it again after a rotation, and a clear error when the
# file cannot be opened.

import json
import os
import re
import signal
import subprocess
import time

from magnetar_harness import (MAGNETAR_BIN, check, eq, main, mkdtemp, produce, start_server,
                              test, uniq)

TEXT_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) \S.*$")


def wait_for(pred, what, seconds=5.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for %s" % what)


def read(p):
    with open(p, errors="replace") as f:
        return f.read()


@test
def text_lines_have_time_and_level():
    srv = start_server()
    produce(srv, uniq("log"), [b"x"])
    srv.stop()
    lines = read(srv.stderr_path).splitlines()
    check(len(lines) >= 3, "log lines: %r" % lines)
    for ln in lines:
        check(TEXT_LINE.match(ln), "not 'TIME LEVEL message': %r" % ln)


@test
def json_lines():
    srv = start_server(["-o", "logFormat=json", "-o", "bindAddress=0.0.0.0"])
    srv.stop()
    lines = read(srv.stderr_path).splitlines()
    check(len(lines) >= 3, "log lines: %r" % lines)
    levels = set()
    for ln in lines:
        obj = json.loads(ln)
        eq(sorted(obj), ["level", "msg", "time"], "keys of %r" % ln)
        check(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", obj["time"]), "time %r" % obj)
        levels.add(obj["level"])
    check({"info", "warn"} <= levels, "levels seen: %r" % levels)
    check(any("data dir" in json.loads(ln)["msg"] for ln in lines), "no data dir line")


@test
def log_file_and_sighup_after_rotation():
    d = mkdtemp("mag-logs-")
    path = os.path.join(d, "magnetar.log")
    srv = start_server(["-o", "logFile=" + path])
    wait_for(lambda: os.path.exists(path) and "data dir" in read(path), "the log file")
    eq(read(srv.stderr_path), "", "stderr while logging to a file")
    os.rename(path, path + ".1")                 # logrotate's move
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: os.path.exists(path) and "log file opened again" in read(path),
             "a new log file after SIGHUP")
    produce(srv, uniq("log"), [b"x"])
    eq(srv.stop(), 0, "exit code after SIGHUP and SIGTERM")
    check("SIGTERM: shutting down" in read(path), "later lines go to the new file: %r" % read(path))
    check("SIGTERM" not in read(path + ".1"), "the rotated file got new lines")


@test
def unopenable_log_file_is_a_configuration_error():
    p = subprocess.run([MAGNETAR_BIN, "--ephemeral", "-p", "0", "-o",
                        "logFile=/nonexistent-dir/magnetar.log"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    eq(p.returncode, 2, "exit code")
    check(b"cannot open logFile /nonexistent-dir/magnetar.log" in p.stderr, "error %r" % p.stderr)
    eq(p.stdout, b"", "no ready line")


if __name__ == "__main__":
    main()
