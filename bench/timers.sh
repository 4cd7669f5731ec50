#!/usr/bin/env bash
# bench/timers.sh -- issue #3: 100k outstanding timed messages must not slow the loop.
# Runs tools/magnetar-timerbench (real broker + LMDB, in-process consumers) three
# times and prints each run's JSON line. Build first: cmake --build build.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${MAG_BUILD_DIR:-build}/magnetar-timerbench"
n="${1:-100000}"
for run in 1 2 3; do
    echo "run $run: $($bin "$n" | tail -n 1)"
done
