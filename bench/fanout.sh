#!/usr/bin/env bash
# bench/fanout.sh -- one topic, several subscriptions: server CPU per delivered message.
#
# SUBS (4) durable subscriptions are created, COUNT (20000) messages of SIZE (16384) bytes are
# published (journalSyncData=false: this measures the delivery path, not the disk), then one
# consumer per subscription drains it, all at once. Reported per run: each consumer's msg/s, the
# server's CPU time (utime + stime from /proc) divided by the deliveries, and the server's
# magnetar_delivery_cache_total counters (deliveries whose JSON was reused from another
# subscription's). RUNS (3) runs. Output: $MAG_BENCH_OUT/fanout.md.
source "$(dirname "$0")/lib.sh"

SUBS="${SUBS:-4}"
COUNT="${COUNT:-20000}"
SIZE="${SIZE:-16384}"
build_bins
TICK=$(getconf CLK_TCK)
ROWS="$WORK/fanout-rows.md"
: >"$ROWS"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
metric() { curl -s "http://$MAG_HOSTPORT/metrics" | awk -v k="$1" '$1 == k {print $2}'; }

for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: $SUBS subscriptions x $COUNT messages of $SIZE bytes"
    start_magnetar "fan-$run" -o journalSyncData=false
    MAG_HOSTPORT=${MAG_URL#ws://}
    for k in $(seq "$SUBS"); do
        perf_run /dev/null consume -u "$MAG_URL" -t fan -S "s$k" -c 1 -d 1 >/dev/null
    done
    perf_run /dev/null produce -u "$MAG_URL" -t fan -c 4 -w 50 -s "$SIZE" -n "$COUNT" -d 0 >/dev/null
    c0=$(cpu_ticks "$MAG_PID")
    pids=()
    for k in $(seq "$SUBS"); do
        perf_run "$WORK/fan-$run-$k.json" consume -u "$MAG_URL" -t fan -S "s$k" -c 1 -n "$COUNT" -d 0 \
            >/dev/null &
        pids+=($!)
    done
    wait "${pids[@]}"
    c1=$(cpu_ticks "$MAG_PID")
    rates=$(for k in $(seq "$SUBS"); do jget "$(cat "$WORK/fan-$run-$k.json")" msgs_per_s; done |
        $PY -c 'import sys; print(", ".join("{:,.0f}".format(float(x)) for x in sys.stdin.read().split()))')
    hits=$(metric 'magnetar_delivery_cache_total{result="hit"}')
    misses=$(metric 'magnetar_delivery_cache_total{result="miss"}')
    us=$($PY -c "print('%.1f' % (($c1 - $c0) * 1e6 / $TICK / ($SUBS * $COUNT)))")
    printf '| %d | %s | %s | %s | %s |\n' "$run" "$rates" "$us" "${hits:-?}" "${misses:-?}" >>"$ROWS"
    stop_pid "$MAG_PID"; rm -rf "$WORK/fan-$run"
done

{
    echo "### Fan-out: $SUBS subscriptions drain $COUNT messages of $SIZE bytes at once"
    echo
    machine_md
    echo
    echo "| run | msg/s of each consumer | server CPU µs per delivery | JSON reused (hits) | JSON formatted (misses) |"
    echo "|---|---|---|---|---|"
    cat "$ROWS"
} >"$OUT/fanout.md"
log "wrote $OUT/fanout.md"
cat "$OUT/fanout.md"
