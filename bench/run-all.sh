#!/usr/bin/env bash
# bench/run-all.sh -- every benchmark in turn, then one Markdown report with all the tables.
#
# Runs footprint, publish, latency (with the PNG plot), replay, scale, fanout and disk, each bounded by its own
# defaults (about 2 minutes each; the whole run about 10 minutes), on one Release build. Set the
# same environment variables as the single scripts to change them (RUNS, DURATION, SCALE_DATA_GB,
# TOPIC_STEPS...). Output: $MAG_BENCH_OUT/report.md plus each script's files.
source "$(dirname "$0")/lib.sh"
build_bins
export MAG_BENCH_BIN="$BIN" MAG_BENCH_OUT="$OUT"
for s in footprint publish latency replay scale fanout disk; do
    log "=== $s"
    "$BENCH_DIR/$s.sh" >/dev/null
done
{
    echo "# Magnetar benchmark report ($(date -u +%Y-%m-%dT%H:%MZ))"
    for s in footprint publish latency replay scale fanout disk; do
        echo
        cat "$OUT/$s.md"
    done
    echo
    echo "![latency by percentile](latency.png)"
} >"$OUT/report.md"
log "wrote $OUT/report.md"
