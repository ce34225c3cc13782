#!/usr/bin/env bash
# XAdES speed goals, as ratios against references measured in the same run:
#   1. enveloped XAdES of a 10 KB document with RSA-3072  <= 1.15x a bare RSA-3072 signature
#   2. the same with ECDSA P-256                          >= 5,000 signatures/s on one core
#   3. `trustsign verify` of a 1 MB enveloped XAdES, whole process  <= xmlsec1 --verify on the same file
# Usage: bench/xades.sh   (from the repository root; needs xmlsec1 and openssl)
set -euo pipefail
export GOTOOLCHAIN=go1.27.3
cd "$(dirname "$0")/.."
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT

echo "== Go benchmarks (one core)"
go test -run XXX -bench 'SignEnvelopedRSA3072_10K|RawRSA3072|SignEnvelopedP256_10K|RawP256' -cpu 1 -benchtime 3s ./xades | tee "$W/bench.txt"
ns() { awk -v n="$1" '$1==n {print $3}' "$W/bench.txt"; }
rsa=$(ns BenchmarkSignEnvelopedRSA3072_10K); raw=$(ns BenchmarkRawRSA3072); ec=$(ns BenchmarkSignEnvelopedP256_10K)
awk -v a="$rsa" -v b="$raw" 'BEGIN{printf "RSA-3072 10 KB enveloped / bare RSA-3072 = %.3f (goal <= 1.15)\n", a/b}'
awk -v a="$ec" 'BEGIN{printf "ECDSA P-256 10 KB enveloped: %.0f signatures/s on one core (goal >= 5000)\n", 1e9/a}'

echo "== whole-process verification of a 1 MB enveloped XAdES"
go build -o "$W/trustsign" ./cmd/trustsign
go run ./internal/testpki/cmd/writepki "$W/pki" >/dev/null
python3 - "$W/big.xml" <<'PY'
import sys, random
random.seed(7)
rows=['  <poz nr="%d"><nazwa>Pozycja %d zażółć gęślą jaźń</nazwa><kwota>%d.%02d</kwota><opis>%s</opis></poz>' % (i,i,random.randint(1,9999),random.randint(0,99),'x'*80) for i in range(6000)]
open(sys.argv[1],'w',encoding='utf-8').write('<?xml version="1.0" encoding="UTF-8"?>\n<wniosek xmlns="urn:example:wniosek">\n'+'\n'.join(rows)+'\n</wniosek>\n')
PY
"$W/trustsign" sign --key "$W/pki/rsa.key" --cert "$W/pki/rsa.pem" --format xades "$W/big.xml" -o "$W/s.xml"
median() { # median wall seconds of 9 runs
  local ts=() a b
  for _ in 1 2 3 4 5 6 7 8 9; do a=$(date +%s%N); "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }; b=$(date +%s%N); ts+=($(( (b-a)/1000 ))); done
  printf '%s\n' "${ts[@]}" | sort -n | awk 'NR==5 {printf "%.4f", $1/1e6}'
}
ours=$(median "$W/trustsign" verify --trust "$W/pki/root.pem" --intermediates "$W/pki/inter.pem" "$W/s.xml")
theirs=$(median xmlsec1 --verify --trusted-pem "$W/pki/root.pem" --untrusted-pem "$W/pki/inter.pem" --id-attr:Id "http://uri.etsi.org/01903/v1.3.2#:SignedProperties" "$W/s.xml")
awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "verify 1 MB: trustsign %.4fs, xmlsec1 %.4fs, ratio %.2f (goal <= 1.0)\n", a, b, a/b}'
