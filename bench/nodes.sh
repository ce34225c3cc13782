#!/usr/bin/env bash
# Full signing flows per second and their p99 in ONE run, three ways (issue 13, "Speed"):
#   bbolt   one node, the embedded bbolt store with fsync (as bench/api.sh);
#   pg-1    one node on PostgreSQL;
#   pg-2    two nodes on one PostgreSQL database, requests in turn (round robin).
# A flow is submit -> code request -> confirm (XAdES seal, P-256) -> fetch (bench/apiload). The nodes run inside the
# apiload process (each PostgreSQL node with its own connection pool and HTTP server, as separate processes would
# be), with the driver on 2 cores (-procs 2); PostgreSQL is a throw-away server on loopback (store/postgres/testdb.sh),
# fsync on, sharing the machine's cores. Each run gets a new database.
#
# Two measurements per configuration, DURATION each (default 10s):
#   1. capacity: a closed loop of 16 concurrent flows, as fast as they go (flows/s and the p99 at that load);
#   2. latency at equal load: an open loop offering half the smallest capacity of the three (p99 counted from each
#      arrival), so the three p99s are compared at the same flows/s.
# While PostgreSQL runs, the script samples pg_stat_activity (what active backends wait for), counts the database's
# commits and rollbacks and the serialization failures and deadlocks in the server log (each one a retried
# transaction), and takes a CPU profile of the two-node process: that is where the bottleneck is named.
# Usage: bench/nodes.sh [DURATION] [extra apiload flags]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
duration=${1:-10s}; [ $# -gt 0 ] && shift
tmp=$(mktemp -d)
pgdir=
cleanup() {
  [ -n "$pgdir" ] && store/postgres/testdb.sh stop "$pgdir" >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/apiload" ./bench/apiload
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -gt 2 ]; then pin=(taskset -c 0,1); fi

url=$(store/postgres/testdb.sh start 2>"$tmp/pg.log") || { cat "$tmp/pg.log" >&2; exit 1; }
pgdir=$(sed -n 's/^testdb.sh: data in \([^;]*\);.*/\1/p' "$tmp/pg.log")
psql() { store/postgres/testdb.sh psql "$pgdir" -qtA "$@"; }
n=0
# newdb: a new database bench_N for the next run (its URL in $db)
newdb() { n=$((n + 1)); psql -c "CREATE DATABASE bench_$n" >/dev/null; db="${url%/*}/bench_$n?sslmode=disable"; }

# sample_waits DB OUT: what the active client backends of DB wait for, five times a second, until killed
sample_waits() {
  while :; do
    psql -d "$1" -c "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU (running)') FROM pg_stat_activity
      WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid()" >>"$2" 2>/dev/null || true
    sleep 0.2
  done
}

# one NAME MODE-ARGS...: one apiload run of configuration NAME (bbolt, pg-1, pg-2) into $tmp/NAME.MODE.json
one() {
  local name=$1 mode=$2; shift 2
  local store=() db="" sampler="" log0 commits0="" rb0=""
  case $name in
  pg-1) newdb; store=(-store "$db" -nodes 1) ;;
  pg-2) newdb; store=(-store "$db" -nodes 2) ;;
  esac
  if [ -n "$db" ]; then
    log0=$(wc -l <"$pgdir/server.log")
    sample_waits "bench_$n" "$tmp/$name.$mode.waits" & sampler=$!
  fi
  echo "== $name, $mode"
  local status=0
  "${pin[@]}" "$tmp/apiload" -procs 2 -duration "$duration" -holders 400 -json "$tmp/$name.$mode.json" "${store[@]}" "$@" "${extra[@]}" || status=$?
  if [ -n "$sampler" ]; then
    kill "$sampler" 2>/dev/null; wait "$sampler" 2>/dev/null || true
    psql -d "bench_$n" -c "SELECT xact_commit, xact_rollback FROM pg_stat_database WHERE datname = current_database()" \
      >"$tmp/$name.$mode.xact"
    tail -n +"$((log0 + 1))" "$pgdir/server.log" | grep -c 'could not serialize access' >"$tmp/$name.$mode.serial" || true
    tail -n +"$((log0 + 1))" "$pgdir/server.log" | grep -c 'deadlock detected' >"$tmp/$name.$mode.deadlock" || true
  fi
  echo
  return $status
}
extra=("$@")
status=0
for cfg in bbolt pg-1 pg-2; do
  prof=()
  [ "$cfg" = pg-2 ] && prof=(-cpuprofile "$tmp/pg-2.cpu")
  one "$cfg" capacity -workers 16 "${prof[@]}" || status=$?
done
rate=$(jq -rs '[.[].flowsPerSecond] | min / 2 | floor | if . < 1 then 1 else . end' \
  "$tmp/bbolt.capacity.json" "$tmp/pg-1.capacity.json" "$tmp/pg-2.capacity.json")
for cfg in bbolt pg-1 pg-2; do
  one "$cfg" latency -rate "$rate" -workers 256 || status=$?
done

echo "== summary ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end; other work on the machine shares the cores)"
printf '%-7s %16s %12s %20s %12s\n' config capacity "p99 (16 at" "p99 at $rate flows/s" "rollbacks /"
printf '%-7s %16s %12s %20s %12s\n' "" "(flows/s)" "a time, ms)" "(open loop, ms)" "commits"
for cfg in bbolt pg-1 pg-2; do
  xact=-
  [ -s "$tmp/$cfg.capacity.xact" ] && xact=$(awk -F'|' '{printf "%d/%d", $2, $1}' "$tmp/$cfg.capacity.xact")
  jq -rs --arg c "$cfg" --arg x "$xact" '"\($c)|\(.[0].flowsPerSecond|round)|\(.[0].flowP99Ms*10|round/10)|\(.[1].flowP99Ms*10|round/10)|\($x)"' \
    "$tmp/$cfg.capacity.json" "$tmp/$cfg.latency.json" | awk -F'|' '{printf "%-7s %16s %12s %20s %12s\n", $1, $2, $3, $4, $5}'
done
jq -rs '"ratios:  pg-1/bbolt capacity \(.[1].flowsPerSecond/.[0].flowsPerSecond*100|round/100), pg-2/pg-1 \(.[2].flowsPerSecond/.[1].flowsPerSecond*100|round/100), pg-2/bbolt \(.[2].flowsPerSecond/.[0].flowsPerSecond*100|round/100)
         p99 at equal load: pg-1/bbolt \(.[4].flowP99Ms/.[3].flowP99Ms*100|round/100), pg-2/pg-1 \(.[5].flowP99Ms/.[4].flowP99Ms*100|round/100)"' \
  "$tmp/bbolt.capacity.json" "$tmp/pg-1.capacity.json" "$tmp/pg-2.capacity.json" \
  "$tmp/bbolt.latency.json" "$tmp/pg-1.latency.json" "$tmp/pg-2.latency.json"
echo
echo "== where PostgreSQL's time goes (capacity runs)"
for cfg in pg-1 pg-2; do
  echo "$cfg: $(cat "$tmp/$cfg.capacity.serial") serialization failures, $(cat "$tmp/$cfg.capacity.deadlock") deadlocks (each a retried transaction)"
  echo "  active backends, by what they wait for (share of $(wc -l <"$tmp/$cfg.capacity.waits") samples):"
  sort "$tmp/$cfg.capacity.waits" | uniq -c | sort -rn | head -6 |
    awk -v n="$(wc -l <"$tmp/$cfg.capacity.waits")" '{c=$1; $1=""; printf "    %5.1f%%  %s\n", 100*c/n, $0}'
done
echo
echo "== CPU profile of the two-node process (service and driver), top functions by cumulative time"
go tool pprof -top -cum -nodecount=25 "$tmp/apiload" "$tmp/pg-2.cpu" 2>/dev/null | sed -n '1,32p' |
  grep -E 'Duration|flat%|trustsign|pgx|crypto|runtime.gcBgMarkWorker|syscall|net/http' | head -28
exit $status
