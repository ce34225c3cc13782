#!/usr/bin/env bash
# bench/pades.sh [MB]: speed and memory of PAdES signing and verification of a large PDF (default 100 MB), as
# ratios to `sha256sum` of the same file measured in the same run, plus peak RSS (GNU time).
# Goal (issue 4): sign and verify <= 1.5x sha256sum, peak RSS <= 64 MB for the whole process.
#
# It measures the library in a process of its own (the pades/bench test binary, one-shot mode) and, when
# `trustsign sign --format pades` works, the trustsign binary exactly as ../shared/acceptance/pades-speed does.
. "$(dirname "$0")/bigpdf.sh"   # ROOT, SHARED, MB, RUNS, W and $W/big.pdf

# Test PKI (openssl): root, intermediate, RSA-3072 signer.
(
  cd "$W" && set -e
  openssl req -x509 -newkey rsa:3072 -nodes -keyout root.key -out root.pem -days 30 -subj "/CN=Bench Root" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  openssl req -newkey rsa:3072 -nodes -keyout inter.key -out inter.csr -subj "/CN=Bench Intermediate"
  printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > ca.ext
  openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial -out inter.pem -days 30 -extfile ca.ext
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n' > leaf.ext
  openssl req -newkey rsa:3072 -nodes -keyout rsa.key -out rsa.csr -subj "/CN=Bench signer"
  openssl x509 -req -in rsa.csr -CA inter.pem -CAkey inter.key -CAcreateserial -out rsa.pem -days 30 -extfile leaf.ext
  cat rsa.pem inter.pem > rsa-chain.pem
) >/dev/null 2>&1 || { echo "openssl PKI generation failed" >&2; exit 2; }

go test -c -o "$W/bench.test" ./pades/bench || exit 2
cli=0
if go build -o "$W/trustsign" ./cmd/trustsign 2>/dev/null &&
   "$W/trustsign" sign --key "$W/rsa.key" --cert "$W/rsa.pem" --chain "$W/inter.pem" --format pades --visible=false "$W/big.pdf" -o "$W/cli-probe.pdf" >/dev/null 2>&1; then
  cli=1
fi
rm -f "$W/cli-probe.pdf"

lib_sign() {
  rm -f "$W/lib.pdf"
  BENCH_ONESHOT=sign BENCH_IN="$W/big.pdf" BENCH_OUT="$W/lib.pdf" BENCH_KEY="$W/rsa.key" BENCH_CERT="$W/rsa-chain.pem" \
    "$W/bench.test" -test.run '^TestOneShot$'
}
lib_verify() {
  BENCH_ONESHOT=verify BENCH_IN="$W/lib.pdf" BENCH_ROOT="$W/root.pem" BENCH_INTER="$W/inter.pem" \
    "$W/bench.test" -test.run '^TestOneShot$'
}
cli_sign() {
  rm -f "$W/cli.pdf"
  "$W/trustsign" sign --key "$W/rsa.key" --cert "$W/rsa.pem" --chain "$W/inter.pem" --format pades --visible=false "$W/big.pdf" -o "$W/cli.pdf"
}
cli_verify() { "$W/trustsign" verify --trust "$W/root.pem" --intermediates "$W/inter.pem" "$W/cli.pdf"; }
hash_file() { sha256sum "$W/big.pdf"; }

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
peak_mb() { /usr/bin/time -f '%M' bash -c "$(declare -f "$1"); W=$W; $1" 2>&1 >/dev/null | tail -1 | awk '{printf "%.1f\n", $1/1024}'; }

lib_sign >/dev/null 2>&1 || { echo "library signing failed" >&2; lib_sign; exit 1; }
[ $cli = 1 ] && cli_sign >/dev/null 2>&1
base=$(median_s hash_file) || exit 1
ok=1
row() { # row LABEL SIGNFN VERIFYFN
  local s v rs rv
  s=$(median_s "$2") && v=$(median_s "$3") || { echo "$1: a timed run failed"; ok=0; return; }
  rs=$(peak_mb "$2"); rv=$(peak_mb "$3")
  local qs qv
  qs=$(awk -v a="$s" -v b="$base" 'BEGIN{printf "%.2f", a/b}'); qv=$(awk -v a="$v" -v b="$base" 'BEGIN{printf "%.2f", a/b}')
  printf '%-10s sign %.3fs = %sx (peak %s MB)   verify %.3fs = %sx (peak %s MB)\n' "$1" "$s" "$qs" "$rs" "$v" "$qv" "$rv"
  awk -v a="$qs" -v b="$qv" -v c="$rs" -v d="$rv" 'BEGIN{exit !(a<=1.5 && b<=1.5 && c<=64 && d<=64)}' || ok=0
}
size=$(stat -c %s "$W/big.pdf")
echo "file: $((size/1048576)) MB; sha256sum ${base}s (median of $RUNS)"
row library lib_sign lib_verify
if [ $cli = 1 ]; then row trustsign cli_sign cli_verify; else echo "trustsign: 'sign --format pades' not available in this build; library only"; fi
[ $ok = 1 ] && echo "goal met (<= 1.5x sha256sum, <= 64 MB)" || { echo "goal NOT met (<= 1.5x sha256sum, <= 64 MB)"; exit 1; }
