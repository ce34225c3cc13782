#!/usr/bin/env bash
# bench/pades-lta.sh [MB]: speed and memory of verifying a large PAdES B-LTA PDF (default 100 MB: a signature, a
# document time-stamp, a DSS and an archive time-stamp), as the ratio to `sha256sum` of the same file measured in
# the same run, plus peak RSS (GNU time).
# Goal (issue 12): verify <= 1.5x sha256sum, peak RSS <= 64 MB for the whole process.
#
# The B-LTA file is built by the pades/bench test binary (one-shot mode "lta": signed with the test PKI, extended
# through the test TSA on loopback); the verification runs in a process of its own (mode "verify") and, when the
# trustsign binary builds, as `trustsign verify` too.
. "$(dirname "$0")/bigpdf.sh"   # ROOT, SHARED, MB, RUNS, W and $W/big.pdf

go test -c -o "$W/bench.test" ./pades/bench || exit 2
BENCH_ONESHOT=lta BENCH_IN="$W/big.pdf" BENCH_OUT="$W/lta.pdf" BENCH_ROOT="$W/root.pem" BENCH_INTER="$W/inter.pem" \
  "$W/bench.test" -test.run '^TestOneShot$' >/dev/null || { echo "building the B-LTA file failed" >&2; exit 1; }
cli=0
go build -o "$W/trustsign" ./cmd/trustsign 2>/dev/null &&
  "$W/trustsign" verify --trust "$W/root.pem" --intermediates "$W/inter.pem" "$W/lta.pdf" >/dev/null 2>&1 && cli=1

lib_verify() {
  BENCH_ONESHOT=verify BENCH_IN="$W/lta.pdf" BENCH_ROOT="$W/root.pem" BENCH_INTER="$W/inter.pem" \
    "$W/bench.test" -test.run '^TestOneShot$'
}
cli_verify() { "$W/trustsign" verify --trust "$W/root.pem" --intermediates "$W/inter.pem" "$W/lta.pdf"; }
hash_file() { sha256sum "$W/lta.pdf"; }

# median_s FN : median wall seconds of RUNS runs; fails if a run fails
median_s() {
  local ts=() a b
  for _ in $(seq 1 "$RUNS"); do
    a=$(date +%s%N); "$1" >/dev/null 2>&1 || { echo "FAILED"; return 1; }; b=$(date +%s%N)
    ts+=($(( (b-a)/1000 )))
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk '{v[NR]=$1} END{printf "%.4f\n", v[int((NR+1)/2)]/1e6}'
}
# peak_mb FN : peak RSS of one run in MB
peak_mb() { /usr/bin/time -v bash -c "$(declare -f "$1"); W=$W; $1" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {printf "%.1f\n", $2/1024}'; }

base=$(median_s hash_file) || exit 1
ok=1
row() { # row LABEL VERIFYFN
  local v rv q
  v=$(median_s "$2") || { echo "$1: a timed run failed"; ok=0; return; }
  rv=$(peak_mb "$2")
  q=$(awk -v a="$v" -v b="$base" 'BEGIN{printf "%.2f", a/b}')
  printf '%-10s verify B-LTA %.3fs = %sx sha256sum (peak %s MB)\n' "$1" "$v" "$q" "$rv"
  awk -v a="$q" -v c="$rv" 'BEGIN{exit !(a<=1.5 && c<=64)}' || ok=0
}
size=$(stat -c %s "$W/lta.pdf")
echo "file: $((size/1048576)) MB B-LTA; sha256sum ${base}s (median of $RUNS)"
row library lib_verify
if [ $cli = 1 ]; then row trustsign cli_verify; else echo "trustsign: 'verify' of the B-LTA file not available in this build; library only"; fi
[ $ok = 1 ] && echo "goal met (<= 1.5x sha256sum, <= 64 MB)" || { echo "goal NOT met (<= 1.5x sha256sum, <= 64 MB)"; exit 1; }
