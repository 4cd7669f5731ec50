#!/usr/bin/python3
# bench/table.py -- turn magnetar-perf JSON lines into a Markdown table (medians of the runs).
#
# Usage: table.py RESULTS.jsonl [LABEL...]. Runs are grouped by their "label" field in order of
# first appearance (or in the order given). For each group: the number of runs, the median of
# msg/s, MB/s and of each latency percentile (latency_ms: publish-to-delivery when the run measured
# it, else the publish receipt), the error total, the median share of sends that left more than
# 1 ms behind a fixed-rate schedule, and every run's msg/s, so a reader sees the spread.
import json
import statistics
import sys


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def fmt(v, nd=2):
    if v is None:
        return "n/a"
    if isinstance(v, float) and v >= 1000:
        return "{:,.0f}".format(v)
    return ("{:.%df}" % nd).format(v)


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
    order = sys.argv[2:] or list(dict.fromkeys(r.get("label", "") for r in rows))
    print("| run | n | msg/s (median) | MB/s | latency | p50 ms | p99 ms | p99.9 ms | max ms "
          "| errors | late % | msg/s of each run |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label in order:
        g = [r for r in rows if r.get("label", "") == label]
        if not g:
            continue
        lat = [r.get("latency_ms") or {} for r in g]
        kind = "delivery" if any(r.get("e2e_latency_ms") for r in g) else (
            "receipt" if any(lat) else "-")
        late = [min(100.0, 100.0 * r["late"] / (r.get("sent") or r["published"]))
                for r in g if r.get("sent") or r.get("published")]
        print("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %d | %s | %s |" % (
            label, len(g), fmt(med([float(r["msgs_per_s"]) for r in g]), 0),
            fmt(med([r.get("mb_per_s") for r in g])), kind,
            fmt(med([x.get("p50") for x in lat]), 3), fmt(med([x.get("p99") for x in lat]), 3),
            fmt(med([x.get("p999") for x in lat]), 3), fmt(med([x.get("max") for x in lat]), 3),
            sum(int(r.get("errors", 0)) for r in g), fmt(med(late), 1),
            ", ".join("{:,.0f}".format(float(r["msgs_per_s"])) for r in g)))


if __name__ == "__main__":
    main()
