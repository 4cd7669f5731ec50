# 11-page-examples.py - the API page's own client examples, run verbatim against magnetar.
#
# tests/integration/examples/*.py and tests/interop/node/examples/*.js are the Python and Node
# producer/consumer/reader examples from the Pulsar 2.10 WebSocket API page, copied verbatim
# (only the page's lost indentation restored). They hard-code ws://localhost:8080; so that the suite
# never needs a fixed port (a server started by `tools/dev run` may hold 8080), each run copies them
# into a temp dir with only that port replaced by the test server's. The consumer and reader examples
# run as subprocesses, the producer example publishes "Hello World", and both must print the received
# message; then they are killed. Node's `new Buffer` deprecation warnings on stderr are tolerated.

import os
import queue
import shutil
import subprocess
import threading
import time

from magnetar_harness import (HERE, SOURCE_DIR, TestFailure, check, main, start_server, test,
                              mkdtemp, track_child)

PY = "/usr/bin/python3"
PY_EX = os.path.join(HERE, "examples")
NODE_DIR = os.path.join(SOURCE_DIR, "tests", "interop", "node")
NODE_EX = os.path.join(NODE_DIR, "examples")
SRV = {}


def srv():
    if "s" not in SRV or not SRV["s"].alive():
        SRV["s"] = start_server(keep=True)
    return SRV["s"]


def examples_for(src_dir, ext):
    """Copies the page's examples of one language into a temp dir with the page's port 8080
    replaced by the test server's; returns that dir."""
    port = srv().port
    dst = mkdtemp("mag-examples-")
    for name in ("producer", "consumer", "reader"):
        with open(os.path.join(src_dir, name + ext)) as f:
            text = f.read()
        check("localhost:8080/" in text, "%s%s no longer names localhost:8080" % (name, ext))
        with open(os.path.join(dst, name + ext), "w") as f:
            f.write(text.replace("localhost:8080/", "localhost:%d/" % port))
    return dst


class Proc:
    """A subprocess whose stdout/stderr lines are collected by threads."""

    def __init__(self, args, cwd):
        # NODE_PATH: the copied Node examples require('ws') from the suite's node_modules.
        env = dict(os.environ, PYTHONUNBUFFERED="1", NODE_PATH=os.path.join(NODE_DIR, "node_modules"))
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


def run_examples(cmd, ext, src_dir, producer_needle):
    cwd = examples_for(src_dir, ext)
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
    ex = examples_for(NODE_EX, ".js")
    prod = Proc([node, os.path.join(ex, "producer.js")], ex)
    try:
        line = prod.wait_line("received ack:", 10)
        check(line is not None, "no ack printed: %s" % prod.describe())
        check('"result":"ok"' in line and '"context":"1"' in line, "ack line %r" % line)
    finally:
        prod.kill()


if __name__ == "__main__":
    main()
