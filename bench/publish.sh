#!/usr/bin/env bash
# bench/publish.sh -- publish throughput: Magnetar vs Redis Streams vs Mosquitto, in one run.
#
# Issue #6 target: durable publish (fsync before the receipt), 100-byte payloads, 16 connections x
# 100 in flight, >= 150,000 msg/s, and no slower than Redis 7 XADD with appendonly yes +
# appendfsync always driven by redis-benchmark with 16 clients pipelined x100.
# Each configuration runs RUNS times (default 3) for DURATION seconds (default 4) on a fresh data
# directory; the table shows medians. Redis is driven twice: by redis-benchmark (the issue's
# reference) and by magnetar-perf redis-produce (same client, histogram and window as Magnetar).
# Mosquitto has no synchronous persistence, so it appears only in the non-durable half (MQTT QoS 1,
# PUBACK = receipt). Everything listens on 127.0.0.1; the load generator shares the machine.
# Output: $MAG_BENCH_OUT/publish.md and publish.jsonl. Default run time: about 2 minutes.
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-4}"
CONNS="${CONNS:-16}"
WINDOW="${WINDOW:-100}"
SIZE="${SIZE:-100}"
RES="$OUT/publish.jsonl"
: >"$RES"

build_bins
apt_need redis-server redis-tools mosquitto
raise_nofile
VALUE=$(head -c "$SIZE" /dev/zero | tr '\0' x)
COMMON=(-c "$CONNS" -w "$WINDOW" -s "$SIZE" -d "$DURATION")

# redis-benchmark run of N XADDs, converted to a magnetar-perf-like JSON line.
redis_benchmark() {
    local label="$1" n="$2" csv
    csv=$(timeout 300 redis-benchmark -h 127.0.0.1 -p "$REDIS_PORT" -c "$CONNS" -P "$WINDOW" \
        -n "$n" --csv XADD rbstream '*' f "$VALUE" 2>/dev/null | tail -1)
    $PY - "$label" "$csv" "$SIZE" >>"$RES" <<'EOF'
import csv, json, sys
label, line, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
f = next(csv.reader([line]))
rps = float(f[1])
lat = {"p50": float(f[4]), "p99": float(f[6]), "p999": None, "max": float(f[7])}
print(json.dumps({"tool": "redis-benchmark", "label": label, "msgs_per_s": rps,
                  "mb_per_s": rps * size / 1e6, "errors": 0, "latency_ms": lat}))
EOF
}

for run in $(seq "$RUNS"); do
    log "run $run/$RUNS: Magnetar durable"
    start_magnetar "m-durable-$run"
    perf_run "$RES" produce -u "$MAG_URL" "${COMMON[@]}" --label "Magnetar, fsync per commit" >/dev/null
    stop_pid "$MAG_PID"; rm -rf "$WORK/m-durable-$run"

    log "run $run/$RUNS: Magnetar non-durable"
    start_magnetar "m-nosync-$run" -o journalSyncData=false
    perf_run "$RES" produce -u "$MAG_URL" "${COMMON[@]}" --label "Magnetar, journalSyncData=false" >/dev/null
    stop_pid "$MAG_PID"; rm -rf "$WORK/m-nosync-$run"

    for mode in always none; do
        log "run $run/$RUNS: Redis appendfsync=$mode"
        name="Redis XADD, appendfsync always"
        [ "$mode" = none ] && name="Redis XADD, no persistence"
        start_redis "r-$mode-$run" "$mode"
        j=$(perf_run "$RES" redis-produce -u "redis://127.0.0.1:$REDIS_PORT" "${COMMON[@]}" \
            --label "$name (magnetar-perf)")
        rate=$(jget "$j" msgs_per_s); rate=${rate%.*}
        n=$(( ${rate:-100000} * DURATION )); [ "$n" -lt 100000 ] && n=100000
        redis-cli -p "$REDIS_PORT" del perf >/dev/null
        redis_benchmark "$name (redis-benchmark)" "$n"
        stop_pid "$REDIS_PID"; rm -rf "$WORK/r-$mode-$run"
    done

    log "run $run/$RUNS: Mosquitto QoS 1"
    start_mosquitto "mq-$run"
    perf_run "$RES" mqtt-produce -u "ws://127.0.0.1:$MQTT_PORT" "${COMMON[@]}" \
        --label "Mosquitto, MQTT QoS 1 over WebSocket, no persistence" >/dev/null
    stop_pid "$MQTT_PID"
done

{
    echo "### Publish throughput ($SIZE-byte payloads, $CONNS connections x $WINDOW in flight, ${DURATION} s x $RUNS runs)"
    echo
    machine_md
    echo
    echo "Durable (the receipt is sent after fsync):"
    echo
    "$BENCH_DIR/table.py" "$RES" "Magnetar, fsync per commit" \
        "Redis XADD, appendfsync always (redis-benchmark)" "Redis XADD, appendfsync always (magnetar-perf)"
    echo
    echo "Not durable (Mosquitto has no synchronous persistence: it only appears here):"
    echo
    "$BENCH_DIR/table.py" "$RES" "Magnetar, journalSyncData=false" \
        "Redis XADD, no persistence (redis-benchmark)" "Redis XADD, no persistence (magnetar-perf)" \
        "Mosquitto, MQTT QoS 1 over WebSocket, no persistence"
    echo
    $PY - "$RES" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def m(label):
    v = [r["msgs_per_s"] for r in rows if r.get("label") == label]
    return statistics.median(v) if v else 0
mag, red = m("Magnetar, fsync per commit"), m("Redis XADD, appendfsync always (redis-benchmark)")
print("Target: durable >= 150,000 msg/s: %s (median %.0f msg/s)." % ("met" if mag >= 150000 else "NOT met", mag))
print("Target: durable no slower than Redis appendfsync always (redis-benchmark): %s (%.2fx Redis)."
      % ("met" if mag >= red else "NOT met", mag / red if red else 0))
EOF
} >"$OUT/publish.md"
cat "$OUT/publish.md"
