#!/usr/bin/env bash
# bench/replay.sh -- backlog replay: how fast a consumer (and a reader) drains a stored backlog.
#
# Issue #6 target: one consumer drains a 1,000,000-message backlog at >= 300,000 msg/s.
# For each size in BACKLOGS (default "100000 1000000"): a fresh server; RUNS (3) + 1 Shared
# subscriptions are created first (Pulsar subscriptions start at the latest message); the backlog of
# 100-byte messages is published with journalSyncData=false (only to fill quickly: replay reads the
# same committed LMDB pages either way) and one subscription is drained on that non-durable server
# (acks are not fsynced: shows what the ack commits cost); then the server restarts durable on the
# same data, a reader from the earliest message reads the backlog RUNS times (readers keep no
# cursor), and each remaining subscription is drained by one consumer (receiverQueueSize 1000,
# acking every message; acks are durable commits; entries every subscription acked are trimmed).
# Rate = messages / (last delivery - connection open). Each drain is bounded (300 s). The default
# run takes about 1.5 minutes on a quiet machine, about 5 when the disk is busy (today's engine
# commits every ack, so durable drains fall to ~13k msg/s then).
# Output: $MAG_BENCH_OUT/replay.md and replay.jsonl.
source "$(dirname "$0")/lib.sh"

BACKLOGS="${BACKLOGS:-100000 1000000}"
RES="$OUT/replay.jsonl"
: >"$RES"
build_bins

for n in $BACKLOGS; do
    log "backlog $n: fill"
    start_magnetar "replay-$n" -o journalSyncData=false
    for sub in nosync $(seq "$RUNS"); do
        perf_run "$WORK/pre.jsonl" consume -u "$MAG_URL" -t backlog -S "replay-$sub" -d 0.3 >/dev/null
    done
    perf_run "$WORK/fill.jsonl" produce -u "$MAG_URL" -t backlog -c 16 -w 100 -s 100 -n "$n" -d 0 >/dev/null
    log "backlog $n: consumer drain without fsync"
    perf_run "$RES" consume -u "$MAG_URL" -t backlog -S replay-nosync -q 1000 -n "$n" -d 0 \
        --idle-exit 10 --label "consumer, Shared, backlog $n, journalSyncData=false (1 run)" >/dev/null
    stop_pid "$MAG_PID"
    KEEP_DATA=1 start_magnetar "replay-$n"     # the drain runs on a durable server (acks are commits)
    for run in $(seq "$RUNS"); do
        log "backlog $n: reader $run/$RUNS"
        perf_run "$RES" read -u "$MAG_URL" -t backlog -q 1000 -n "$n" -d 0 --idle-exit 10 \
            --label "reader from earliest, backlog $n" >/dev/null
    done
    for run in $(seq "$RUNS"); do
        log "backlog $n: consumer drain $run/$RUNS"
        perf_run "$RES" consume -u "$MAG_URL" -t backlog -S "replay-$run" -q 1000 -n "$n" -d 0 \
            --idle-exit 10 --label "consumer, Shared, backlog $n, durable" >/dev/null
    done
    note="backlog $n: data directory $(du -sh "$WORK/replay-$n" | cut -f1), server peak RSS $(( $(hwm_kb "$MAG_PID") / 1024 )) MB"
    log "$note"
    echo "- $note" >>"$WORK/notes.md"
    stop_pid "$MAG_PID"; rm -rf "$WORK/replay-$n"
done

{
    echo "### Backlog replay (100-byte messages, one connection, $RUNS runs per line)"
    echo
    machine_md
    echo
    "$BENCH_DIR/table.py" "$RES"
    echo
    cat "$WORK/notes.md"
    echo
    $PY - "$RES" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = [r["msgs_per_s"] for r in rows if r.get("label") == "consumer, Shared, backlog 1000000, durable"]
if v:
    m = statistics.median(v)
    print("Target: one consumer drains 1,000,000 at >= 300,000 msg/s: %s (median %.0f msg/s)."
          % ("met" if m >= 300000 else "NOT met", m))
PYEOF
} >"$OUT/replay.md"
cat "$OUT/replay.md"
