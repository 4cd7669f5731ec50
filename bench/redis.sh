#!/usr/bin/env bash
# bench/redis.sh -- run a throw-away Redis 7 on loopback for manual comparisons, then remove it.
#
# Usage: bench/redis.sh [always|everysec|none] [SECONDS]
# Installs Debian's redis-server/redis-tools if needed, starts Redis on a free 127.0.0.1 port with
# AOF (appendonly yes, appendfsync MODE; default always) or without persistence (none), prints the
# URL and example commands, and stops it after SECONDS (default 600) or on Ctrl-C. The publish and
# latency scripts start their own instances the same way (bench/lib.sh start_redis).
source "$(dirname "$0")/lib.sh"
MODE="${1:-always}"
case "$MODE" in always|everysec|none) ;; *) echo "usage: $0 [always|everysec|none] [SECONDS]" >&2; exit 2 ;; esac
build_bins
start_redis redis "$MODE"
echo "redis (appendfsync=$MODE) on redis://127.0.0.1:$REDIS_PORT for ${2:-600} s; try:"
echo "  $PERF redis-produce -u redis://127.0.0.1:$REDIS_PORT -c 16 -w 100 -d 10"
echo "  redis-benchmark -p $REDIS_PORT -c 16 -P 100 -n 1000000 XADD s '*' f $(head -c 100 /dev/zero | tr '\0' x)"
sleep "${2:-600}"
