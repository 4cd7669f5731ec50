# 80-metrics-pulsar.py - /metrics: Pulsar's storage histograms, subscription rates, topics count,
# the Prometheus client's process_* metrics, and a `promtool check metrics` lint.
#
# Pulsar's TopicStats.printTopicStats prints pulsar_storage_write_latency_le_* (+ _overflow,
# _count, _sum in microseconds) and pulsar_entry_size_le_* (+ _count, _sum in bytes) per topic;
# each value counts the entries of the last complete stats interval (StatsBuckets.refresh every
# statsUpdateFrequencyInSecs), not since start. The server here runs with a 2 s interval. The
# interval boundaries are multiples of it on CLOCK_MONOTONIC, which is the clock of Python's
# time.monotonic() too, so the test publishes inside one interval and reads the next.

import os
import re
import shutil
import subprocess
import time

from magnetar_harness import (check, connect, eq, main, path, publish_many, recv_n, rest_call,
                              send_ack, shared_server, start_server, test, uniq)

INTERVAL = 2.0
ARGS = ("-o", "statsUpdateFrequencyInSecs=2")


def scrape(s):
    st, h, body = rest_call(s, "GET", "/metrics")
    eq(st, 200, "/metrics")
    return body.decode()


def sample(text, name, labels):
    """Value of one sample (labels as a dict, exact match), or None."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        check(m is not None, "malformed sample line %r" % line)
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        if m.group(1) == name and got == labels:
            return float(m.group(4))
    return None


def wait_interval_start():
    """Sleeps until 50 ms after the next stats interval boundary."""
    now = time.monotonic()
    time.sleep(INTERVAL - (now % INTERVAL) + 0.05)


LAT = ["le_0_5", "le_1", "le_5", "le_10", "le_20", "le_50", "le_100", "le_200", "le_1000"]
SIZE = ["le_128", "le_512", "le_1_kb", "le_2_kb", "le_4_kb", "le_16_kb", "le_100_kb", "le_1_mb",
        "le_overflow"]


@test
def storage_histograms_count_the_last_interval():
    s = shared_server(*ARGS)
    t = uniq()
    lab = {"cluster": "standalone", "namespace": "public/default", "topic": "persistent://public/default/" + t}
    # Entries are the stored entry (metadata + payload, as Pulsar's entry): payloads well inside
    # their buckets. 3 x 20 B -> le_128, 1 x 1500 B -> le_2_kb, 2 x 3000 B -> le_4_kb,
    # 1 x 200000 B -> le_1_mb.
    payloads = [b"a" * 20] * 3 + [b"b" * 1500] + [b"c" * 3000] * 2 + [b"d" * 200000]
    prod = connect(s, path("producer", t))
    for attempt in range(3):
        wait_interval_start()
        started = time.monotonic()
        for r in publish_many(prod, payloads):
            eq(r["result"], "ok", "receipt")
        if int(time.monotonic() // INTERVAL) == int(started // INTERVAL):
            break   # all in one interval; else (a slow machine) the next attempt
    else:
        check(False, "could not publish within one %.0f s interval" % INTERVAL)
    prod.close(timeout=1)
    total = sum(len(p) for p in payloads)
    # During the publishing interval nothing is shown yet (no earlier traffic on this topic).
    text = scrape(s)
    if int(time.monotonic() // INTERVAL) == int(started // INTERVAL):
        eq(sample(text, "pulsar_entry_size_count", lab), 0.0, "the running interval is not shown")
    wait_interval_start()
    text = scrape(s)
    sizes = [sample(text, "pulsar_entry_size_" + b, lab) for b in SIZE]
    eq(sizes, [3.0, 0.0, 0.0, 1.0, 2.0, 0.0, 0.0, 1.0, 0.0], "entry size buckets (not cumulative)")
    eq(sample(text, "pulsar_entry_size_count", lab), 7.0, "entry size count")
    esum = sample(text, "pulsar_entry_size_sum", lab)
    check(total < esum < total + 7 * 200, "entry size sum %r: payloads %d + metadata" % (esum, total))
    lat = [sample(text, "pulsar_storage_write_latency_" + b, lab) for b in LAT]
    lat.append(sample(text, "pulsar_storage_write_latency_overflow", lab))   # Pulsar's name, no le_
    check(None not in lat, "every write latency bucket exported: %r" % lat)
    eq(sum(lat), 7.0, "each entry in one latency bucket")
    eq(sample(text, "pulsar_storage_write_latency_count", lab), 7.0, "write latency count")
    check(sample(text, "pulsar_storage_write_latency_sum", lab) > 0, "latency sum (microseconds)")
    check(sample(text, "pulsar_storage_write_latency_sum", lab) < 7 * 5e6, "latency sum is in microseconds")
    # An interval without writes shows zeros again.
    wait_interval_start()
    text = scrape(s)
    eq(sample(text, "pulsar_entry_size_count", lab), 0.0, "next interval: no entries")
    eq(sample(text, "pulsar_entry_size_le_1_mb", lab), 0.0, "next interval: bucket back to 0")
    eq(sample(text, "pulsar_storage_write_latency_count", lab), 0.0, "next interval: no latencies")


@test
def subscription_rates_and_blocked_flag():
    s = shared_server(*ARGS)
    t = uniq()
    lab = {"cluster": "standalone", "namespace": "public/default",
           "topic": "persistent://public/default/" + t, "subscription": "sub"}
    cons = connect(s, path("consumer", t, "sub"))
    text = scrape(s)    # first sample of the rates
    eq(sample(text, "pulsar_subscription_msg_ack_rate", lab), 0.0, "no acks yet")
    eq(sample(text, "pulsar_subscription_blocked_on_unacked_messages", lab), 0.0, "not blocked")
    started = time.time()
    prod = connect(s, path("producer", t))
    publish_many(prod, [b"x" * 100] * 10)
    got = recv_n(cons, 10)
    for m in got[:6]:
        send_ack(cons, m["messageId"])
    time.sleep(1.2)
    text = scrape(s)
    window = time.time() - started + 0.1
    ack_rate = sample(text, "pulsar_subscription_msg_ack_rate", lab)
    check(6 / (window + 1.0) <= ack_rate <= 6 / 1.0, "ack rate %r for 6 acks in ~%.1f s" % (ack_rate, window))
    thr = sample(text, "pulsar_subscription_msg_throughput_out", lab)
    check(1000 / (window + 1.0) <= thr <= 1000 / 1.0, "throughput out %r for 1000 B in ~%.1f s" % (thr, window))
    eq(sample(text, "pulsar_subscription_unacked_messages", lab), 4.0, "unacked")
    eq(sample(text, "pulsar_subscription_blocked_on_unacked_messages", lab), 0.0, "still not blocked")
    prod.close(timeout=1)
    cons.close(timeout=1)


@test
def topics_count_per_namespace():
    s = start_server()
    eq(rest_call(s, "PUT", "/admin/v2/tenants/tc", {"allowedClusters": ["standalone"]})[0], 204, "tenant")
    eq(rest_call(s, "PUT", "/admin/v2/namespaces/tc/a")[0], 204, "namespace a")
    eq(rest_call(s, "PUT", "/admin/v2/namespaces/tc/b")[0], 204, "namespace b")
    for t in ("t1", "t2", "t3"):
        eq(rest_call(s, "PUT", "/admin/v2/persistent/tc/a/" + t)[0], 204, "topic " + t)
    eq(rest_call(s, "PUT", "/admin/v2/persistent/tc/b/p/partitions", "2")[0], 204, "partitioned topic")
    text = scrape(s)
    eq(sample(text, "pulsar_topics_count", {"cluster": "standalone", "namespace": "tc/a"}), 3.0, "tc/a")
    eq(sample(text, "pulsar_topics_count", {"cluster": "standalone", "namespace": "tc/b"}), 2.0,
       "tc/b: the partitions count, not the partitioned topic")
    eq(rest_call(s, "DELETE", "/admin/v2/persistent/tc/a/t3")[0], 204, "delete t3")
    text = scrape(s)
    eq(sample(text, "pulsar_topics_count", {"cluster": "standalone", "namespace": "tc/a"}), 2.0,
       "tc/a after a delete")


@test
def process_metrics():
    before = time.time()
    s = start_server()
    text = scrape(s)
    fds = sample(text, "process_open_fds", {})
    maxfds = sample(text, "process_max_fds", {})
    real = len(os.listdir("/proc/%d/fd" % s.proc.pid))
    check(fds is not None and 3 <= fds <= real + 2, "open fds %r (the process has %d)" % (fds, real))
    check(maxfds is not None and maxfds >= fds, "max fds %r" % maxfds)
    start = sample(text, "process_start_time_seconds", {})
    check(start is not None and before - 2 <= start <= time.time() + 1,
          "start time %r, the server started at ~%.1f" % (start, before))
    rss = sample(text, "process_resident_memory_bytes", {})
    vsz = sample(text, "process_virtual_memory_bytes", {})
    check(rss is not None and 1e6 < rss <= vsz, "resident %r <= virtual %r" % (rss, vsz))
    cpu = sample(text, "process_cpu_seconds_total", {})
    check(cpu is not None and 0 <= cpu < 60, "cpu seconds %r" % cpu)
    for name, typ in (("process_cpu_seconds_total", "counter"), ("process_open_fds", "gauge"),
                      ("process_resident_memory_bytes", "gauge"), ("process_start_time_seconds", "gauge")):
        check(re.search(r"^# TYPE %s %s$" % (name, typ), text, re.M), "TYPE of " + name)
        check(re.search(r"^# HELP %s \S" % name, text, re.M), "HELP of " + name)


# Problems promtool reports that are Pulsar's own doing: Pulsar's metric names, kept as they are so
# dashboards and alerts written for Pulsar work unchanged.
PULSAR_NAMES = {
    # gauges named *_count (TopicStats.printTopicStats, NamespaceStatsAggregator)
    "pulsar_subscriptions_count", "pulsar_producers_count", "pulsar_consumers_count",
    "pulsar_topics_count", "pulsar_storage_write_latency_count", "pulsar_entry_size_count",
    # gauges named *_sum (the same StatsBuckets printed as separate gauges)
    "pulsar_storage_write_latency_sum", "pulsar_entry_size_sum",
    # bucket names with kb / mb in them
    "pulsar_entry_size_le_1_kb", "pulsar_entry_size_le_2_kb", "pulsar_entry_size_le_4_kb",
    "pulsar_entry_size_le_16_kb", "pulsar_entry_size_le_100_kb", "pulsar_entry_size_le_1_mb",
}
PULSAR_PROBLEMS = (
    'non-histogram and non-summary metrics should not have "_count" suffix',
    'non-histogram and non-summary metrics should not have "_sum" suffix',
    "metric names should not contain abbreviated units",
)


@test
def promtool_check_metrics():
    promtool = shutil.which("promtool")
    if not promtool:
        print("#" * 78 + "\n# SKIPPED promtool_check_metrics: promtool is not installed (Debian package "
              "`prometheus`, see tools/dev test_packages)\n" + "#" * 78, flush=True)
        return
    s = shared_server(*ARGS)
    t = uniq()
    cons = connect(s, path("consumer", t, "sub", params="subscriptionType=Shared"))
    rd = connect(s, path("reader", t))
    prod = connect(s, path("producer", t))
    publish_many(prod, [b"p" * 50] * 5)
    for m in recv_n(cons, 5)[:3]:
        send_ack(cons, m["messageId"])
    recv_n(rd, 5)
    # a namespace and a subscription name that need label escaping
    eq(rest_call(s, "PUT", "/admin/v2/persistent/public/default/%s-q/subscription/%s"
                 % (t, "we%22ird%5Cname"))[0], 204, "subscription with quote and backslash")
    wait_interval_start()
    text = scrape(s)
    check('subscription="we\\"ird\\\\name"' in text, "label value escaped")
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode()
    bad = []
    for line in out.splitlines():
        if not line.strip():
            continue
        name, _, problem = line.partition(" ")
        if name in PULSAR_NAMES and problem.strip() in PULSAR_PROBLEMS:
            continue
        bad.append(line)
    check(not bad, "promtool problems of Magnetar's own:\n" + "\n".join(bad))
    for ws in (cons, rd, prod):
        ws.close(timeout=1)


if __name__ == "__main__":
    main()
