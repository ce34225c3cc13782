#!/usr/bin/env bash
# B-T signing speed goal (issue 12), as a ratio measured in the same run:
#   XAdES and PAdES signing throughput at B-T through a loopback TSA >= 0.80 x the B-B throughput
# B-B and B-T signing alternate in slices of 300 ms (10 rounds each, after a warm-up slice) with 8 signatures in flight per CPU, as the
# service seals concurrent confirmations. Two ratios are printed for each case: of signatures per second of wall
# time, and of signatures per CPU second of the signing process.
#   1. the TSA is `trustsign tsa` on loopback in a process of its own (as in production, where the TSA is another
#      machine: its work is not the signer's); its key is ECDSA P-256, made here with openssl
#   2. the TSA is the in-process test TSA (internal/testpki) served over HTTP: its work is on the signer's CPU
# Seals: the test PKI's ECDSA P-256 and RSA-3072 identities; documents: 10 KB of XML, a one-page PDF.
# Usage: bench/timestamp.sh   (from anywhere; needs openssl)
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/.."
W=$(mktemp -d)
TSA_PID=
trap '[ -n "$TSA_PID" ] && kill "$TSA_PID" 2>/dev/null; rm -rf "$W"' EXIT

go build -o "$W/trustsign" ./cmd/trustsign
go test -c -o "$W/bench.test" ./bench/timestamp
(
  cd "$W" && set -e
  openssl ecparam -name prime256v1 -genkey -noout -out ca.key 2>/dev/null
  openssl req -x509 -new -key ca.key -out ca.pem -days 2 -subj "/CN=Bench TSA CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out tsa.key 2>/dev/null
  openssl req -new -key tsa.key -out tsa.csr -subj "/CN=Bench TSA" 2>/dev/null
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' > tsa.ext
  openssl x509 -req -in tsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out tsa.pem -days 2 -extfile tsa.ext 2>/dev/null
)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$W/trustsign" tsa --key "$W/tsa.key" --cert "$W/tsa.pem" --chain "$W/ca.pem" --addr "127.0.0.1:$PORT" 2>"$W/tsa.log" &
TSA_PID=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

report() { # $1: label; the benchmark output on stdin
  awk -v label="$1" '/^BenchmarkRatio/ {
      name=$1; sub(/^BenchmarkRatio/, "", name); sub(/-[0-9]+$/, "", name)
      for (i=1; i<=NF; i++) { if ($(i+1)=="B-B-sig/s") bb=$i; if ($(i+1)=="B-T-sig/s") bt=$i; if ($(i+1)=="ratio-wall") rw=$i; if ($(i+1)=="ratio-cpu") rc=$i }
      printf "%-22s %-16s B-B %8.1f sig/s  B-T %8.1f sig/s  ratio %.2f (per CPU second %.2f)  goal >= 0.80\n", label, name, bb, bt, rw, rc
    }'
}
echo "== TSA: trustsign tsa in its own process"
TRUSTSIGN_BENCH_TSA="http://127.0.0.1:$PORT" "$W/bench.test" -test.run XXX -test.bench Ratio -test.benchtime 1x | tee "$W/ext.txt" | report "trustsign tsa"
echo "== TSA: the in-process test TSA over HTTP"
"$W/bench.test" -test.run XXX -test.bench Ratio -test.benchtime 1x | tee "$W/inproc.txt" | report "in-process test TSA"
