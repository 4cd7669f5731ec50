# 40-perf-smoke.py - smoke run of tools/magnetar-perf against the real server (a few seconds each).
#
# Benchmarks are not tests; this only keeps the load generator working: its self-test (histogram
# bounds, masked frames), produce / consume / read / e2e runs of about 2 s against a fresh server,
# each of which must exit 0 and end with one JSON line whose counters are sane (msgs > 0, errors 0,
# exact counts where the run is count-bound), and the refusal of a non-loopback target.
# magnetar-perf is built next to magnetar, so its path is derived from MAGNETAR_BIN.

import json
import os
import subprocess

from magnetar_harness import MAGNETAR_BIN, TestFailure, check, eq, main, shared_server, test, uniq

PERF = os.path.join(os.path.dirname(MAGNETAR_BIN), "magnetar-perf")


def srv():
    return shared_server()


def perf(*args, expect_rc=0, timeout=60):
    """Runs magnetar-perf MODE ARGS... and returns the JSON object of its last stdout line."""
    check(os.path.exists(PERF), "magnetar-perf not found at %s" % PERF)
    p = subprocess.run([PERF] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout)
    out = p.stdout.decode("utf-8", "replace").strip().splitlines()
    err = p.stderr.decode("utf-8", "replace")
    eq(p.returncode, expect_rc, "exit status of magnetar-perf %s (stderr: %s)"
       % (" ".join(args), err[-1500:]))
    if expect_rc == 2:
        return err
    check(out, "magnetar-perf printed nothing on stdout; stderr: %s" % err[-1500:])
    try:
        res = json.loads(out[-1])
    except ValueError:
        raise TestFailure("last stdout line is not JSON: %r" % out[-1][:300])
    eq(res.get("tool"), "magnetar-perf", "tool field")
    return res


def url():
    return ["-u", srv().url, "--quiet"]


def clean(res, what):
    eq(res["errors"], 0, "%s errors" % what)
    eq(res["connect_failures"], 0, "%s connect failures" % what)
    check(res["msgs"] > 0, "%s: no messages (%r)" % (what, res))
    check(res["msgs_per_s"] > 0 and res["duration_s"] > 0, "%s: rate/duration (%r)" % (what, res))


@test
def selftest_passes():
    res = perf("selftest")
    eq(res["errors"], 0, "selftest failures")
    check(res["checks"] >= 40, "selftest ran only %r checks" % res["checks"])


@test
def produce_two_seconds():
    res = perf("produce", "-t", uniq("perf"), "-c", "2", "-w", "50", "-d", "2", *url())
    clean(res, "produce")
    eq(res["mode"], "produce", "mode")
    eq(res["msgs"], res["published"], "msgs = receipts")
    eq(res["bytes"], res["msgs"] * 100, "payload bytes")
    lat = res["latency_ms"]
    check(lat is not None and lat["count"] == res["msgs"], "latency count %r" % lat)
    check(0 < lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], "percentiles ordered %r" % lat)


@test
def produce_count_then_consume_and_read_backlog():
    topic = uniq("perf")
    # Subscriptions start at the latest message: create them before producing.
    for sub in ("drain", "keep"):
        res = perf("consume", "-t", topic, "-S", sub, "-d", "0.3", *url())
        eq(res["errors"], 0, "pre-subscribe errors")
    res = perf("produce", "-t", topic, "-n", "3000", "-d", "0", "-w", "100", "-k", "7", *url())
    clean(res, "produce -n")
    eq(res["msgs"], 3000, "produced count")
    res = perf("consume", "-t", topic, "-S", "drain", "-n", "3000", "-d", "0", "--idle-exit", "10",
               *url())
    clean(res, "consume")
    eq(res["msgs"], 3000, "consumed count")
    eq(res["stop"], "count reached", "consume stop reason")
    res = perf("read", "-t", topic, "-n", "3000", "-d", "0", "--idle-exit", "10", *url())
    clean(res, "read")
    eq(res["msgs"], 3000, "read count")


@test
def e2e_fixed_rate():
    hist = os.path.join(os.path.dirname(srv().stderr_path), "e2e.hist")
    res = perf("e2e", "-t", uniq("perf"), "-r", "500", "-d", "2", "--hist-out", hist, *url())
    clean(res, "e2e")
    eq(res["undelivered"], 0, "undelivered messages")
    check(900 <= res["published"] <= 1100, "published at 500/s for 2 s: %r" % res["published"])
    eq(res["received"], res["published"], "every published message delivered once")
    e2e = res["e2e_latency_ms"]
    check(e2e is not None and e2e["count"] == res["received"], "e2e latency count %r" % e2e)
    with open(hist) as f:
        rows = [ln.split() for ln in f if not ln.startswith("#")]
    check(len(rows) > 10 and rows[-1][0] == "100.000000", "distribution file rows %r" % rows[-2:])


@test
def refuses_non_loopback_target():
    err = perf("produce", "-u", "ws://192.0.2.1:8080", "-d", "1", expect_rc=2)
    check("refusing non-loopback target" in err, "refusal message: %r" % err)


if __name__ == "__main__":
    main()
