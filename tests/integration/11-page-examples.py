# 11-page-examples.py - the API page's own client examples, run verbatim against magnetar.
#
# tests/integration/examples/*.py and tests/interop/node/examples/*.js are the Python and Node
# producer/consumer/reader examples from the Pulsar 2.10 WebSocket API page, copied verbatim
# (only the page's lost indentation restored). They hard-code ws://localhost:8080, so this is the
# ONLY test that uses a fixed port; it fails with a clear message if 8080 is busy. The consumer
# and reader examples run as subprocesses, the producer example publishes "Hello World", and both
# must print the received message; then they are killed. Node's `new Buffer` deprecation
# warnings on stderr are tolerated.

import os
import queue
import shutil
import socket
import subprocess
import threading
import time

from magnetar_harness import (HERE, SOURCE_DIR, TestFailure, check, main, start_server, test,
                              track_child)

PY = "/usr/bin/python3"
PY_EX = os.path.join(HERE, "examples")
NODE_DIR = os.path.join(SOURCE_DIR, "tests", "interop", "node")
NODE_EX = os.path.join(NODE_DIR, "examples")
SRV = {}


def port_8080_free():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("0.0.0.0", 8080))
        return True
    except OSError:
        return False
    finally:
        s.close()


def srv():
    if "s" not in SRV or not SRV["s"].alive():
        if not port_8080_free():
            raise TestFailure("port 8080 is busy: the page examples hard-code ws://localhost:8080; "
                              "free the port (is another magnetar or Pulsar running?)")
        SRV["s"] = start_server(port=8080, keep=True)
    return SRV["s"]


class Proc:
    """A subprocess whose stdout/stderr lines are collected by threads."""

    def __init__(self, args, cwd):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.p = track_child(subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL,
                                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env))
        self.out = queue.Queue()
        self.lines = []
        self.err = []
        threading.Thread(target=self._pump, args=(self.p.stdout, self.out), daemon=True).start()
        threading.Thread(target=self._pump_err, daemon=True).start()

    @staticmethod
    def _pump(stream, q):
        for ln in iter(stream.readline, b""):
            q.put(ln.decode("utf-8", "replace").rstrip("\n"))

    def _pump_err(self):
        for ln in iter(self.p.stderr.readline, b""):
            self.err.append(ln.decode("utf-8", "replace").rstrip("\n"))

    def wait_line(self, needle, timeout):
        deadline = time.time() + timeout
        for ln in self.lines:
            if needle in ln:
                return ln
        while time.time() < deadline:
            try:
                ln = self.out.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            self.lines.append(ln)
            if needle in ln:
                return ln
        return None

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait(5)

    def describe(self):
        return "stdout=%r stderr=%r rc=%r" % (self.lines[-5:], self.err[-8:], self.p.poll())


def run_examples(cmd, ext, cwd, producer_needle):
    srv()
    listeners = {name: Proc(cmd + [os.path.join(cwd, name + ext)], cwd) for name in ("consumer", "reader")}
    try:
        time.sleep(1.5)   # consumer/reader start at the latest position: let them subscribe first
        for name, p in listeners.items():
            check(p.p.poll() is None, "%s example exited early: %s" % (name, p.describe()))
        got = {}
        for attempt in range(2):
            prod = Proc(cmd + [os.path.join(cwd, "producer" + ext)], cwd)
            line = prod.wait_line(producer_needle, 10)
            if ext == ".py":
                prod.p.wait(10)
            prod.kill()
            check(line is not None, "producer example did not print %r: %s" % (producer_needle, prod.describe()))
            for name, p in listeners.items():
                if name not in got:
                    ln = p.wait_line("Received:", 5)
                    if ln is not None:
                        got[name] = ln
            if len(got) == len(listeners):
                break
        for name, p in listeners.items():
            ln = got.get(name)
            check(ln is not None, "%s example printed no 'Received:' line: %s" % (name, p.describe()))
            want = "payload: b'Hello World'" if ext == ".py" else "payload: Hello World"
            check(want in ln, "%s example line lacks %r: %r" % (name, want, ln))
            check("messageId" in ln, "%s example line lacks the message: %r" % (name, ln))
    finally:
        for p in listeners.values():
            p.kill()
    return got


@test
def python_examples():
    got = run_examples([PY], ".py", PY_EX, "Message published successfully")
    # The consumer prints the decoded JSON dict: check the page's property keys made it through.
    check("'key1': 'value1'" in got["consumer"], "consumer output lacks properties: %r" % got["consumer"])


@test
def node_examples():
    node = shutil.which("node")
    check(node is not None, "node not found on PATH")
    check(os.path.isdir(os.path.join(NODE_DIR, "node_modules", "ws")),
          "npm ws missing: run `cd %s && npm install`" % NODE_DIR)
    got = run_examples([node], ".js", NODE_EX, "received ack:")
    check('"key1":"value1"' in got["consumer"], "consumer output lacks properties: %r" % got["consumer"])


@test
def node_producer_ack_is_ok():
    node = shutil.which("node")
    check(node is not None, "node not found on PATH")
    srv()
    prod = Proc([node, os.path.join(NODE_EX, "producer.js")], NODE_EX)
    try:
        line = prod.wait_line("received ack:", 10)
        check(line is not None, "no ack printed: %s" % prod.describe())
        check('"result":"ok"' in line and '"context":"1"' in line, "ack line %r" % line)
    finally:
        prod.kill()


if __name__ == "__main__":
    main()
