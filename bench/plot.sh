#!/usr/bin/env bash
# bench/plot.sh -- latency percentile plot (PNG) from magnetar-perf --hist-out files, with gnuplot.
#
# Usage: bench/plot.sh HIST_DIR OUT.png
# Every HIST_DIR/*.txt ("percentile value_ms 1/(1-p)" lines, HdrHistogram's layout) becomes one
# line: x = percentile on a log axis of 1/(1-p) (so 90%, 99%, 99.9% are evenly spaced), y = latency
# in ms on a log axis. Installs Debian's gnuplot-nox when it is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

HIST_DIR="${1:?usage: plot.sh HIST_DIR OUT.png}"
PNG="${2:?usage: plot.sh HIST_DIR OUT.png}"
apt_need gnuplot-nox

files=("$HIST_DIR"/*.txt)
[ -e "${files[0]}" ] || { log "no distributions in $HIST_DIR"; exit 1; }
plots=()
for f in "${files[@]}"; do
    t=$(basename "$f" .txt | tr '-' ' ')
    plots+=("'$f' using 3:2 with lines lw 2 title '$t'")
done
joined=$(IFS=,; echo "${plots[*]}")
gnuplot <<EOF
set terminal pngcairo size 1100,750 noenhanced font ",11"
set output '$PNG'
set title 'Latency by percentile at a fixed rate (magnetar-perf; lower is better)'
set logscale x
set logscale y
set xrange [1:100000]
set xtics ("0%%" 1, "90%%" 10, "99%%" 100, "99.9%%" 1000, "99.99%%" 10000, "99.999%%" 100000)
set xlabel 'percentile'
set ylabel 'latency (ms)'
set grid xtics ytics mytics
set key below
plot $joined
EOF
log "wrote $PNG"
