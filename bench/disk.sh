#!/usr/bin/env bash
# bench/disk.sh -- how long one disk sync takes on this machine, and how its tail depends on pacing.
#
# Every durable receipt waits for the disk (Magnetar: an LMDB commit = fdatasync of the data pages +
# an O_DSYNC write of the meta page; Redis appendfsync always: one fdatasync), so the sync latency
# distribution is the floor under the durable latency targets. Two patterns, 4 KiB overwrite + fsync:
#   back-to-back: syncs one after another (a loaded server: the thread never sleeps)
#   paced 1 ms:   one sync per millisecond, sleeping in between (a server at ~10,000 msg/s, where
#                 every commit starts on a thread that was idle)
# No Magnetar involved. Takes DURATION (3) seconds per pattern. Output: $MAG_BENCH_OUT/disk.md.
source "$(dirname "$0")/lib.sh"

DURATION="${DURATION:-3}"
build_bins      # only for the version line of the report

rows=$($PY - "$WORK" "$DURATION" <<'EOF'
import os, sys, time
work, duration = sys.argv[1], float(sys.argv[2])
path = os.path.join(work, "disk.probe")
fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
block = os.urandom(4096)

def run(label, pause):
    t = []
    end = time.perf_counter() + duration
    i = 0
    while time.perf_counter() < end:
        os.pwrite(fd, block, (i % 8) * 4096)
        a = time.perf_counter()
        os.fdatasync(fd)
        t.append((time.perf_counter() - a) * 1000)
        i += 1
        if pause:
            time.sleep(pause)
    t.sort()
    pct = lambda q: t[min(len(t) - 1, int(q * len(t)))]
    slow = sum(1 for x in t if x > 4)
    print("| %s | %d | %.3f | %.3f | %.3f | %.3f | %d (%.2f %%) |" % (
        label, len(t), pct(0.5), pct(0.99), pct(0.999), t[-1], slow, 100.0 * slow / len(t)))

run("back-to-back", 0)
run("paced, 1 ms sleep between syncs", 0.001)
os.close(fd)
os.unlink(path)
EOF
)

{
    echo "### Disk sync latency (4 KiB overwrite + fdatasync, ${DURATION} s per pattern)"
    echo
    machine_md
    echo
    echo "| pattern | syncs | p50 ms | p99 ms | p99.9 ms | max ms | syncs over 4 ms |"
    echo "|---|---|---|---|---|---|---|"
    echo "$rows"
} >"$OUT/disk.md"
log "wrote $OUT/disk.md"
cat "$OUT/disk.md"
