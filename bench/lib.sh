# bench/lib.sh -- shared helpers for the benchmark scripts (sourced, not run).
#
# Builds Magnetar and magnetar-perf (Release) unless MAG_BENCH_BIN points at a directory that holds
# both, installs Debian packages on demand, starts Magnetar / Redis / Mosquitto on loopback with
# throw-away data directories and stops exactly the processes it started (by pid) on exit. Runs
# are bounded: every magnetar-perf call has a duration or a count plus a `timeout`. Results are
# JSON lines (one per run) and Markdown tables under $MAG_BENCH_OUT (default bench/results).
# Environment: MAG_BENCH_BIN, MAG_BENCH_COMMIT, MAG_BENCH_OUT, MAG_BENCH_WORK (scratch, default a
# mktemp dir in /var/tmp, the filesystem whose fsync is measured), RUNS (default 3), MAG_BENCH_CPUS
# (a taskset CPU list for every server and load generator the scripts start, e.g. 0 to keep all of
# them off the core that takes the disk's interrupts; default: no pinning).

# shellcheck shell=bash
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
OUT="${MAG_BENCH_OUT:-$BENCH_DIR/results}"
RUNS="${RUNS:-3}"
PY=/usr/bin/python3
mkdir -p "$OUT"
WORK="${MAG_BENCH_WORK:-$(mktemp -d /var/tmp/mag-bench.XXXXXX)}"
mkdir -p "$WORK"
_PIDS=()

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# The command prefix that pins a process to MAG_BENCH_CPUS (nothing when unset).
PIN=()
[ -n "${MAG_BENCH_CPUS:-}" ] && PIN=(taskset -c "$MAG_BENCH_CPUS")

cleanup() {
    local p
    for p in "${_PIDS[@]:-}"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
    done
    [ -z "${MAG_BENCH_WORK:-}" ] && rm -rf "$WORK"
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

apt_need() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Release build of magnetar and magnetar-perf; sets BIN (directory holding both).
build_bins() {
    if [ -n "${MAG_BENCH_BIN:-}" ]; then
        BIN="$MAG_BENCH_BIN"
    else
        apt_need build-essential cmake pkg-config libevent-dev liblmdb-dev libcjson-dev \
            libxxhash-dev libssl-dev liblz4-dev zlib1g-dev libzstd-dev libsnappy-dev
        BIN="$ROOT/build-bench"
        cmake -S "$ROOT" -B "$BIN" -DCMAKE_BUILD_TYPE=Release -DMAG_BUILD_TESTS=OFF >/dev/null
        cmake --build "$BIN" -j"$(nproc)" --target magnetar magnetar-perf >/dev/null
    fi
    [ -x "$BIN/magnetar" ] && [ -x "$BIN/magnetar-perf" ] || { log "no binaries in $BIN"; exit 1; }
    PERF="$BIN/magnetar-perf"
}

# One descriptor per connection on both sides (scale runs open up to 20,000 sockets). Without
# CAP_SYS_RESOURCE the hard limit cannot be raised; callers read NOFILE and size their runs to it.
raise_nofile() {
    ulimit -n 200000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    NOFILE=$(ulimit -n)   # read by bench/scale.sh
    export NOFILE
}

# start_magnetar NAME [magnetar args...]: fresh data dir $WORK/NAME; sets MAG_PID, MAG_URL.
# With KEEP_DATA=1 the directory is reused as it is (restart on an existing data set).
start_magnetar() {
    local name="$1"; shift
    local dir="$WORK/$name" out="$WORK/$name.out" line=""
    [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$dir"
    mkdir -p "$dir"
    : >"$out"
    "${PIN[@]}" "$BIN/magnetar" -p 0 -d "$dir" -o webSocketSessionIdleTimeoutMillis=0 "$@" \
        >"$out" 2>"$WORK/$name.log" &
    MAG_PID=$!
    _PIDS+=("$MAG_PID")
    for _ in $(seq 200); do
        line=$(head -1 "$out")
        [ -n "$line" ] && break
        kill -0 "$MAG_PID" 2>/dev/null || break
        sleep 0.05
    done
    case "$line" in
    "magnetar ready ws://"*) MAG_URL="${line#magnetar ready }"; MAG_URL="${MAG_URL%% *}" ;;
    *) log "magnetar did not start: $(tail -5 "$WORK/$name.log")"; exit 1 ;;
    esac
}

stop_pid() {
    local pid="$1"
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_redis NAME always|everysec|none : Redis 7 with AOF (appendfsync MODE) or no persistence.
start_redis() {
    local name="$1" mode="$2" dir="$WORK/$1"
    apt_need redis-server redis-tools
    rm -rf "$dir"; mkdir -p "$dir"
    REDIS_PORT=$(free_port)
    local aof=(--appendonly no)
    [ "$mode" != none ] && aof=(--appendonly yes --appendfsync "$mode")
    "${PIN[@]}" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --save '' "${aof[@]}" \
        --daemonize no --logfile "$WORK/$name.log" &
    REDIS_PID=$!
    _PIDS+=("$REDIS_PID")
    for _ in $(seq 100); do
        redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    log "redis did not start"; exit 1
}

# start_mosquitto NAME : Mosquitto 2 with a WebSocket listener (plus the TCP one it needs).
start_mosquitto() {
    local name="$1" dir="$WORK/$1"
    apt_need mosquitto
    rm -rf "$dir"; mkdir -p "$dir"
    MQTT_PORT=$(free_port)
    local tcp_port; tcp_port=$(free_port)
    cat >"$dir/mosquitto.conf" <<EOF
# Loopback only. Mosquitto 2.0.11 refuses to start with a websockets listener alone.
listener $tcp_port 127.0.0.1
listener $MQTT_PORT
socket_domain ipv4
protocol websockets
allow_anonymous true
persistence false
max_queued_messages 0
max_inflight_messages 0
log_type error
EOF
    "${PIN[@]}" mosquitto -c "$dir/mosquitto.conf" >"$WORK/$name.log" 2>&1 &
    MQTT_PID=$!
    _PIDS+=("$MQTT_PID")
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$MQTT_PORT") 2>/dev/null && return 0
        sleep 0.05
    done
    log "mosquitto did not start: $(cat "$WORK/$name.log")"; exit 1
}

# perf_run FILE ARGS... : one bounded magnetar-perf run; appends its JSON line to FILE.
perf_run() {
    local file="$1"; shift
    local line
    line=$(timeout "${PERF_TIMEOUT:-300}" "${PIN[@]}" "$PERF" "$@" --quiet 2>"$WORK/perf.err" | tail -1) || {
        log "magnetar-perf $* failed: $(tail -3 "$WORK/perf.err")"
    }
    [ -n "$line" ] && printf '%s\n' "$line" >>"$file"
    printf '%s\n' "$line"
}

# jq-like field access on one JSON line: jget 'JSON' path.to.field
jget() { $PY -c 'import json,sys
try:
    v=json.loads(sys.argv[1])
except ValueError:
    v={}
for k in sys.argv[2].split("."):
    v=v.get(k) if isinstance(v,dict) else None
print("" if v is None else v)' "$1" "$2"; }

# median of the numbers given as arguments (empty ones ignored)
median() { $PY -c 'import sys,statistics
v=[float(x) for x in sys.argv[1:] if x not in ("","None")]
print("%.6g" % statistics.median(v) if v else "n/a")' "$@"; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# Machine description for the result files.
machine_md() {
    local cpu fs
    cpu=$(awk -F: '/model name/ {gsub(/^ +/,"",$2); print $2; exit}' /proc/cpuinfo)
    fs=$(df -T "$WORK" | awk 'NR==2 {print $2" on "$1}')
    printf -- '- machine: %s cores (%s), %s MB RAM, Linux %s, Debian %s\n' "$(nproc)" "$cpu" \
        "$(awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo)" "$(uname -r)" \
        "$(cat /etc/debian_version 2>/dev/null || echo '?')"
    printf -- '- data directories: %s (%s); fsync of a 4 KiB write: median %s ms\n' "$WORK" "$fs" \
        "$(fsync_ms)"
    printf -- '- load average when the run started: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
    [ -n "${MAG_BENCH_CPUS:-}" ] && printf -- '- every server and load generator pinned to CPU %s (taskset)\n' \
        "$MAG_BENCH_CPUS"
    printf -- '- %s (commit %s)\n' "$("$BIN/magnetar" --version 2>/dev/null | head -1)" \
        "${MAG_BENCH_COMMIT:-$(bench_commit)}"
}

# Commit of the measured source: HEAD, flagged when the work tree differs (set MAG_BENCH_COMMIT
# when MAG_BENCH_BIN was built elsewhere).
bench_commit() {
    cd "$ROOT" 2>/dev/null || return 0
    local c
    c=$(git rev-parse --short HEAD 2>/dev/null) || { echo "no git"; return 0; }
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        echo "$c + uncommitted changes"
    else
        echo "$c"
    fi
}

# Median time of 50 fsyncs of a 4 KiB overwrite on the data filesystem (the floor of a durable commit).
fsync_ms() {
    $PY - "$WORK" <<'EOF'
import os, sys, time, statistics
p = os.path.join(sys.argv[1], "fsync.probe")
fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
t = []
for i in range(50):
    os.pwrite(fd, os.urandom(4096), (i % 8) * 4096)
    a = time.perf_counter(); os.fsync(fd); t.append(time.perf_counter() - a)
os.close(fd); os.unlink(p)
print("%.3f" % (statistics.median(t) * 1000))
EOF
}
