#!/usr/bin/env bash
# bench/footprint.sh -- cold start, idle memory and binary size of the magnetar binary.
#
# Targets: cold start to the ready line < 20 ms; SIGTERM to exit of an idle server < 20 ms; idle RSS
# < 10 MB; stripped binary < 2 MB.
#   start:  STARTS (20) launches, each on a new empty data directory and each on an existing one,
#           timed from fork/exec to the ready line on stdout (python3 perf_counter around Popen)
#   stop:   SIGTERM to the process's exit, idle server (same launches)
#   fixture cycle: `--ephemeral -p 0` start to ready + SIGTERM to exit, what a per-test fixture pays
#   idle:   VmRSS 1 s after the ready line, with no connection
#   size:   the Release binary, the same after `strip --strip-all`, and its shared libraries
#           (Debian's libevent, LMDB, cJSON, OpenSSL... are linked dynamically, not counted)
# Takes a few seconds. Output: $MAG_BENCH_OUT/footprint.md.
source "$(dirname "$0")/lib.sh"

STARTS="${STARTS:-20}"
build_bins

timings=$($PY - "$BIN/magnetar" "$WORK" "$STARTS" <<'EOF'
import os, shutil, signal, statistics, subprocess, sys, time
binary, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def start(d):
    t = time.perf_counter()
    p = subprocess.Popen([binary, "-p", "0", "-d", d], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    dt = (time.perf_counter() - t) * 1000
    assert line.startswith(b"magnetar ready"), line
    return p, dt
res = {"new": [], "existing": [], "stop": [], "cycle": []}
rss = []
def stop(p):
    t = time.perf_counter()
    p.send_signal(signal.SIGTERM); p.wait(10)
    res["stop"].append((time.perf_counter() - t) * 1000)
for i in range(n):
    d = os.path.join(work, "fp-%d" % i)
    p, dt = start(d)
    res["new"].append(dt)
    if i == 0:
        time.sleep(1)
        with open("/proc/%d/status" % p.pid) as f:
            st = dict(l.split(":", 1) for l in f if ":" in l)
        rss = [st["VmRSS"].split()[0], st["VmHWM"].split()[0]]
    stop(p)
    p, dt = start(d)
    res["existing"].append(dt)
    stop(p)
    shutil.rmtree(d)
    t = time.perf_counter()
    p = subprocess.Popen([binary, "--ephemeral", "-p", "0"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    assert p.stdout.readline().startswith(b"magnetar ready")
    p.send_signal(signal.SIGTERM); p.wait(10)
    res["cycle"].append((time.perf_counter() - t) * 1000)
for k, v in res.items():
    print("%s %.2f %.2f %.2f" % (k, statistics.median(v), min(v), max(v)))
print("rss %s %s" % (rss[0], rss[1]))
EOF
)
strip --strip-all -o "$WORK/magnetar.stripped" "$BIN/magnetar"
size_raw=$(stat -c %s "$BIN/magnetar")
size_strip=$(stat -c %s "$WORK/magnetar.stripped")
libs=$(ldd "$BIN/magnetar" | awk '/=>/ {print $1}' | sed 's/\.so.*//' | sort -u | tr '\n' ' ')
read -r _ new_med new_min new_max <<<"$(grep '^new' <<<"$timings")"
read -r _ ex_med ex_min ex_max <<<"$(grep '^existing' <<<"$timings")"
read -r _ rss hwm <<<"$(grep '^rss' <<<"$timings")"
read -r _ stop_med stop_min stop_max <<<"$(grep '^stop' <<<"$timings")"
read -r _ cyc_med cyc_min cyc_max <<<"$(grep '^cycle' <<<"$timings")"

{
    echo "### Footprint"
    echo
    machine_md
    echo
    echo "| measure | value | target |"
    echo "|---|---|---|"
    echo "| cold start to ready line, new data dir (median of $STARTS; min-max) | $new_med ms ($new_min-$new_max) | < 20 ms |"
    echo "| cold start to ready line, existing data dir | $ex_med ms ($ex_min-$ex_max) | < 20 ms |"
    echo "| SIGTERM to exit, idle server (median of $((STARTS * 2))) | $stop_med ms ($stop_min-$stop_max) | < 20 ms |"
    echo "| fixture cycle: \`--ephemeral -p 0\` start + stop (median of $STARTS) | $cyc_med ms ($cyc_min-$cyc_max) | |"
    echo "| idle RSS 1 s after ready (peak) | $((rss / 1024)).$(( (rss % 1024) * 10 / 1024 )) MB ($((hwm / 1024)) MB) | < 10 MB |"
    echo "| binary (Release, not stripped) | $((size_raw / 1024)) KiB | |"
    echo "| binary stripped | $((size_strip / 1024)) KiB | < 2 MB |"
    echo
    echo "Shared libraries (Debian packages, not in the size): $libs"
} >"$OUT/footprint.md"
cat "$OUT/footprint.md"
