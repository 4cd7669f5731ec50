#!/usr/bin/env bash
# bench/mosquitto.sh -- run a throw-away Mosquitto 2 with its WebSocket listener on loopback.
#
# Usage: bench/mosquitto.sh [SECONDS]
# Installs Debian's mosquitto if needed, starts it with a WebSocket listener on a free port (plus
# the 127.0.0.1 TCP listener Mosquitto 2.0.11 needs to start at all), no persistence, unlimited
# queues, prints the URL and example commands, and stops it after SECONDS (default 600) or on
# Ctrl-C. The publish and latency scripts start their own instances the same way.
source "$(dirname "$0")/lib.sh"
build_bins
start_mosquitto mosquitto
echo "mosquitto on ws://127.0.0.1:$MQTT_PORT (MQTT over WebSocket) for ${1:-600} s; try:"
echo "  $PERF mqtt-produce -u ws://127.0.0.1:$MQTT_PORT -c 16 -w 100 -d 10"
echo "  $PERF mqtt-e2e -u ws://127.0.0.1:$MQTT_PORT -r 10000 -d 10"
sleep "${1:-600}"
