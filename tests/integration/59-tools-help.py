# 59-tools-help.py - every tool answers --help as a tool should: its usage on stdout, exit 0, quickly,
# and no side effects (no files or directories created, no benchmark run, no server started).

import os
import subprocess
import sys

from magnetar_harness import MAGNETAR_BIN, SOURCE_DIR, check, main, mkdtemp, test

BUILD_DIR = os.path.dirname(MAGNETAR_BIN)
BINARIES = ["magnetar", "magnetar-perf", "magnetar-token", "magnetar-dump", "magnetar-jsonbench",
            "magnetar-timerbench", "magnetar-client"]
SCRIPTS = [os.path.join("tools", "dev"), os.path.join("tools", "gen-test-certs.sh"),
           os.path.join("tools", "deb.sh")]


def help_of(argv):
    cwd = mkdtemp("mag-help-")
    p = subprocess.run(argv + ["--help"], cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=5, env=dict(os.environ, MAG_SKIP_DEPS="1"))
    out = p.stdout.decode("utf-8", "replace")
    name = os.path.basename(argv[-1])
    check(p.returncode == 0, "%s --help exited %d: %r" % (name, p.returncode, p.stderr[-300:]))
    check(name in out.split("\n", 1)[0] + out[:400] and len(out.splitlines()) >= 2,
          "%s --help printed no usage naming the tool on stdout: %r" % (name, out[:300]))
    check(os.listdir(cwd) == [], "%s --help created %r" % (name, os.listdir(cwd)))


@test
def binaries_answer_help():
    for b in BINARIES:
        help_of([os.path.join(BUILD_DIR, b)])


@test
def scripts_answer_help():
    for s in SCRIPTS:
        help_of(["/bin/bash", os.path.join(SOURCE_DIR, s)])


@test
def bad_option_is_a_usage_error():
    # A mistyped option must not be taken as an output directory or an iteration count.
    cwd = mkdtemp("mag-help-")
    for argv in ([os.path.join(BUILD_DIR, "magnetar-timerbench"), "--bogus"],
                 ["/bin/bash", os.path.join(SOURCE_DIR, "tools", "gen-test-certs.sh"), "--bogus"]):
        p = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, timeout=5)
        check(p.returncode == 2, "%r exited %d, want 2" % (argv[-2:], p.returncode))
    check(os.listdir(cwd) == [], "a bad option created %r" % os.listdir(cwd))


if __name__ == "__main__":
    sys.exit(main())
