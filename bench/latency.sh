#!/usr/bin/env bash
# bench/latency.sh -- latency at a fixed rate: Magnetar vs Redis Streams vs Mosquitto, in one run.
#
# Issue #6 targets at 10,000 msg/s of 100-byte payloads: publish receipt p99 < 2 ms (durable), and
# publish-to-delivery p99 < 3 ms with one Shared consumer. magnetar-perf sends on a fixed schedule
# (a timer every 100 us) and measures from the moment each message is written to the socket:
#   receipt  = produce, 1 connection, window 1000 (the window never limits 10k msg/s at < 100 ms);
#              durable also with 16 connections sharing the same total rate
#   delivery = e2e: one Shared consumer connected first, then the producer; the send time travels in
#              the payload, the consumer acks every message.
# Magnetar runs durable (journalMaxGroupWaitMSec=1, the default), durable without the group wait
# (=0, a commit as soon as the writer is free), and with journalSyncData=false.
# Peers: Redis XADD receipt (appendfsync always, and no persistence), Mosquitto QoS 1 publish to one
# QoS 1 subscriber. RUNS (3) x (WARMUP 1 + DURATION 3) s each; the first run of each configuration
# also writes its percentile distribution to $MAG_BENCH_OUT/hist/ for bench/plot.sh.
# Output: $MAG_BENCH_OUT/latency.md, latency.jsonl, hist/*.txt, latency.png. About 2 minutes.
source "$(dirname "$0")/lib.sh"

RATE="${RATE:-10000}"
DURATION="${DURATION:-3}"
WARMUP="${WARMUP:-1}"
SIZE="${SIZE:-100}"
RES="$OUT/latency.jsonl"
HIST="$OUT/hist"
: >"$RES"
mkdir -p "$HIST"

build_bins
apt_need redis-server redis-tools mosquitto
COMMON=(-r "$RATE" -s "$SIZE" -d "$DURATION" --warmup "$WARMUP")

hist_arg() { [ "$1" = 1 ] && printf -- '--hist-out\n%s\n' "$HIST/$2.txt" || true; }

for run in $(seq "$RUNS"); do
    for dur in durable nowait nosync; do
        args=(); what="fsync per commit"
        [ "$dur" = nowait ] && args=(-o journalMaxGroupWaitMSec=0) && what="fsync per commit, no group wait"
        [ "$dur" = nosync ] && args=(-o journalSyncData=false) && what="journalSyncData=false"
        log "run $run/$RUNS: Magnetar $dur receipt"
        start_magnetar "m-$dur-$run" "${args[@]}"
        mapfile -t h < <(hist_arg "$run" "magnetar-$dur-receipt")
        perf_run "$RES" produce -u "$MAG_URL" -c 1 -w 1000 "${COMMON[@]}" "${h[@]}" \
            --label "Magnetar, $what: receipt" >/dev/null
        if [ "$dur" = durable ]; then
            log "run $run/$RUNS: Magnetar $dur receipt, 16 connections"
            mapfile -t h < <(hist_arg "$run" "magnetar-$dur-receipt-16conn")
            perf_run "$RES" produce -u "$MAG_URL" -t p16 -c 16 -w 1000 "${COMMON[@]}" "${h[@]}" \
                --label "Magnetar, $what: receipt, 16 connections" >/dev/null
        fi
        log "run $run/$RUNS: Magnetar $dur delivery"
        mapfile -t h < <(hist_arg "$run" "magnetar-$dur-delivery")
        perf_run "$RES" e2e -u "$MAG_URL" -t e2e -c 1 -w 1000 -C 1 -y Shared "${COMMON[@]}" "${h[@]}" \
            --label "Magnetar, $what: delivery (1 Shared consumer)" >/dev/null
        stop_pid "$MAG_PID"; rm -rf "$WORK/m-$dur-$run"
    done
    for mode in always none; do
        name="Redis XADD, appendfsync always: receipt"
        [ "$mode" = none ] && name="Redis XADD, no persistence: receipt"
        log "run $run/$RUNS: Redis $mode receipt"
        start_redis "r-$mode-$run" "$mode"
        mapfile -t h < <(hist_arg "$run" "redis-$mode-receipt")
        perf_run "$RES" redis-produce -u "redis://127.0.0.1:$REDIS_PORT" -c 1 -w 1000 "${COMMON[@]}" \
            "${h[@]}" --label "$name" >/dev/null
        stop_pid "$REDIS_PID"; rm -rf "$WORK/r-$mode-$run"
    done
    log "run $run/$RUNS: Mosquitto QoS 1 delivery"
    start_mosquitto "mq-$run"
    mapfile -t h < <(hist_arg "$run" "mosquitto-delivery")
    perf_run "$RES" mqtt-e2e -u "ws://127.0.0.1:$MQTT_PORT" -c 1 -w 1000 -C 1 "${COMMON[@]}" "${h[@]}" \
        --label "Mosquitto, QoS 1, no persistence: delivery (1 subscriber)" >/dev/null
    stop_pid "$MQTT_PID"
done

{
    echo "### Latency at $RATE msg/s ($SIZE-byte payloads, ${WARMUP} s warm-up + ${DURATION} s measured, $RUNS runs)"
    echo
    machine_md
    echo
    "$BENCH_DIR/table.py" "$RES"
    echo
    $PY - "$RES" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def p99(label):
    v = [r["latency_ms"]["p99"] for r in rows if r.get("label") == label and r.get("latency_ms")]
    return statistics.median(v) if v else float("nan")
r = p99("Magnetar, fsync per commit: receipt")
d = p99("Magnetar, fsync per commit: delivery (1 Shared consumer)")
print("Target: durable receipt p99 < 2 ms: %s (median p99 %.3f ms)." % ("met" if r < 2 else "NOT met", r))
print("Target: durable publish-to-delivery p99 < 3 ms: %s (median p99 %.3f ms)." % ("met" if d < 3 else "NOT met", d))
late = sum(r.get("late", 0) for r in rows)
sent = sum(r.get("sent", r.get("published", 0)) for r in rows)
print("Sends more than 1 ms behind schedule (window full or client starved of CPU): %d of %d." % (late, sent))
EOF
} >"$OUT/latency.md"
"$BENCH_DIR/plot.sh" "$HIST" "$OUT/latency.png" || log "plot failed (gnuplot missing?)"
cat "$OUT/latency.md"
