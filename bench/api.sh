#!/usr/bin/env bash
# REST API load on loopback, 2 cores: full signing flows per second and p99 latency (target: >= 300 flows/s with
# p99 < 50 ms, P-256 seal key). A flow is submit -> code request -> confirm (XAdES seal made now) -> fetch, for
# holders logged in beforehand; codes come from the service's in-memory outbox (bench/apiload runs the real service
# in-process: bbolt with fsync, profile service, signing flow, REST API behind a loopback HTTP server).
#
# Two runs of DURATION each (default 10s):
#   1. at the target: an open loop offering 300 flows/s whatever the latency (p99 counted from each arrival);
#   2. capacity: a closed loop of 16 concurrent flows, as fast as they go.
# Usage: bench/api.sh [DURATION] [extra apiload flags, e.g. -cpuprofile /tmp/cpu.prof]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
duration=${1:-10s}; [ $# -gt 0 ] && shift
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/apiload" ./bench/apiload
# two cores for the service and the driver together (GOMAXPROCS=2; pinned as well when the machine has more)
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 2 ]; then pin=(taskset -c 0,1); fi
status=0
echo "== at the target: 300 flows/s offered (open loop)"
"${pin[@]}" "$tmp/apiload" -procs 2 -duration "$duration" -rate 300 -workers 256 -json "$tmp/target.json" "$@" || status=$?
echo
echo "== capacity: 16 concurrent flows (closed loop)"
"${pin[@]}" "$tmp/apiload" -procs 2 -duration "$duration" -workers 16 -json "$tmp/capacity.json" "$@" || status=$?
echo
if command -v jq >/dev/null && [ -s "$tmp/target.json" ] && [ -s "$tmp/capacity.json" ]; then
  jq -rs 'def r1: . * 10 | round / 10; def r2: . * 100 | round / 100;
"== summary (2 cores, P-256 seal)
capacity:          \(.[1].flowsPerSecond | round) flows/s = \(.[1].flowsPerSecond / 300 | r2)x the 300 flows/s target (16 flows at a time, p99 \(.[1].flowP99Ms | r1) ms)
at 300 flows/s:    carried \(.[0].flowsPerSecond | round) flows/s, p99 \(.[0].flowP99Ms | r1) ms = \(.[0].flowP99Ms / 50 | r2)x the 50 ms target (p50 \(.[0].flowP50Ms | r1) ms, max \(.[0].flowMaxMs | r1) ms)
target:            \(if .[0].met and .[1].flowsPerSecond >= 300 then "MET" else "MISSED" end)"' "$tmp/target.json" "$tmp/capacity.json"
fi
exit $status
