#!/usr/bin/env bash
# bench/admin-stall.sh -- publish latency while an admin client creates topics.
#
# Topic and subscription creation and every admin write run on the event loop: mag_broker_wbegin
# first waits for the group commit in flight (its fsync), then the creation commits with one disk
# sync of its own, and the loop serves no socket meanwhile. This measures what that costs a
# publisher: magnetar-perf produce, 1 connection, RATE (2000) msg/s of 100 bytes, receipt
# latency, durable (fsync per commit), once alone and once while a client creates ADMIN_RATE (100)
# topics a second over the admin REST API (PUT /admin/v2/persistent/public/default/adm-N, one
# keep-alive connection, its own latency per call recorded too). RUNS (3) x (WARMUP 1 + DURATION 5)
# s each. Output: $MAG_BENCH_OUT/admin-stall.jsonl (perf JSON lines, "label" says which) and
# admin-stall.md. About 45 s.
source "$(dirname "$0")/lib.sh"

RATE="${RATE:-2000}"
ADMIN_RATE="${ADMIN_RATE:-100}"
DURATION="${DURATION:-5}"
WARMUP="${WARMUP:-1}"
RES="$OUT/admin-stall.jsonl"
: >"$RES"
build_bins

# admin_loop URL SECONDS RATE OUTFILE: create RATE topics/s for SECONDS; writes "n p50 p99 max" (ms).
admin_loop() {
    $PY - "$@" <<'PYEOF'
import http.client, sys, time
url, secs, rate, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
hostport = url.split("//", 1)[1].split("/", 1)[0]
c = http.client.HTTPConnection(hostport, timeout=10)
lat, t0, i = [], time.monotonic(), 0
while time.monotonic() - t0 < secs:
    due = t0 + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    s = time.monotonic()
    c.request("PUT", "/admin/v2/persistent/public/default/adm-%d" % i)
    r = c.getresponse(); r.read()
    if r.status not in (204, 409):
        sys.exit("admin PUT: HTTP %d" % r.status)
    lat.append((time.monotonic() - s) * 1000)
    i += 1
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))]
open(out, "w").write("%d %.3f %.3f %.3f\n" % (len(lat), pct(50), pct(99), lat[-1]))
PYEOF
}

for run in $(seq "$RUNS"); do
    for mode in alone admin; do
        log "run $run/$RUNS: publish at $RATE msg/s, $mode"
        start_magnetar "a-$mode-$run"
        apid=""
        if [ "$mode" = admin ]; then
            admin_loop "$MAG_URL" "$((WARMUP + DURATION + 1))" "$ADMIN_RATE" "$WORK/admin-$run.txt" &
            apid=$!
        fi
        perf_run "$RES" produce -u "$MAG_URL" -c 1 -w 1000 -r "$RATE" -s 100 -d "$DURATION" \
            --warmup "$WARMUP" --label "receipt, $mode" >/dev/null
        if [ -n "$apid" ]; then
            wait "$apid" || log "admin loop failed"
            log "admin PUT latency (n p50 p99 max ms): $(cat "$WORK/admin-$run.txt")"
            cat "$WORK/admin-$run.txt" >>"$OUT/admin-stall-admin.txt"
        fi
        stop_pid "$MAG_PID"; rm -rf "$WORK/a-$mode-$run"
    done
done

$PY - "$RES" >"$OUT/admin-stall.md" <<'PYEOF'
import json, statistics, sys
rows = {}
for ln in open(sys.argv[1]):
    try:
        j = json.loads(ln)
    except ValueError:
        continue
    rows.setdefault(j.get("label"), []).append(j)
print("| publisher (durable, %s) | runs | receipt p50 ms | p99 ms | p99.9 ms | max ms |" % "1 conn")
print("|---|---|---|---|---|---|")
for label, js in rows.items():
    r = [j.get("latency_ms") or {} for j in js]
    med = lambda k: statistics.median([x.get(k, 0) for x in r])
    print("| %s | %d | %.3f | %.3f | %.3f | %.3f |" % (label, len(js), med("p50"), med("p99"), med("p999"), med("max")))
PYEOF
cat "$OUT/admin-stall.md"
