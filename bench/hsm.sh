#!/usr/bin/env bash
# Sealing throughput with the seal key in a SoftHSM2 token against the same with the key in a file (PEM), ECDSA
# P-256, in two views:
#   1. the seal alone, from as many goroutines as CPUs (BenchmarkSeal in signer/): enveloped XAdES of a 10 KB
#      document, and PAdES of a one-page PDF;
#   2. the service: full signing flows per second through the REST API (bench/apiload capacity run, 16 flows at a
#      time on 2 cores: submit -> code -> confirm, where the XAdES seal is made -> fetch).
# Each round runs the file and the token case back to back (their order alternating), so that both see the same
# load; the ratio printed is the median of the rounds' ratios. Goal: >= 0.80.
# Usage: bench/hsm.sh [ROUNDS]   (default 5; needs softhsm2 and opensc: apt-get install softhsm2 opensc, and jq)
set -euo pipefail
cd "$(dirname "$0")/.."
grep -qE '^go 1\.27' go.mod && ! go version 2>/dev/null | grep -q 'go1\.2[7-9]' && export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
command -v softhsm2-util >/dev/null && command -v pkcs11-tool >/dev/null || { echo "softhsm2-util and pkcs11-tool are needed: apt-get install softhsm2 opensc" >&2; exit 2; }
ROUNDS=${1:-5}
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
go test -c -o "$W/signer.test" ./signer
rate() { # rate FORMAT KIND: seals/s of one run
  (cd signer && "$W/signer.test" -test.run '^$' -test.bench "BenchmarkSeal/$1/$2\$" -test.benchtime 2s) |
    awk '/^BenchmarkSeal/ {for(i=1;i<NF;i++) if($(i+1)=="seals/s") print $i}'
}
status=0
median() { # median LABEL FILE: FILE has lines "file token"; prints the median ratio and whether it meets 0.80
  awk '{print $2/$1, $1, $2}' "$2" | sort -n | awk -v what="$1" '{r[NR]=$1; f[NR]=$2; h[NR]=$3}
    END {m=int((NR+1)/2); printf "%s: median ratio SoftHSM2/file = %.2f (that round: file %.0f, SoftHSM2 %.0f; goal >= 0.80)\n", what, r[m], f[m], h[m]
         exit (r[m] >= 0.80) ? 0 : 1}'
}
for format in xades-10KB pades-1page; do
  : > "$W/$format"
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then f=$(rate $format file); h=$(rate $format softhsm); else h=$(rate $format softhsm); f=$(rate $format file); fi
    [ -n "$f" ] && [ -n "$h" ] || { echo "the benchmark did not run (SoftHSM2 missing?)" >&2; exit 2; }
    echo "$f $h" >> "$W/$format"
    printf '  %s round %d: file %.0f seals/s, SoftHSM2 %.0f seals/s, ratio %.2f\n' "$format" "$r" "$f" "$h" "$(awk -v f="$f" -v h="$h" 'BEGIN{print h/f}')"
  done
  median "$format seals/s" "$W/$format" || status=1
done

# the service: the test PKI's P-256 key in memory, and the same key imported into a SoftHSM2 token
go build -o "$W/apiload" ./bench/apiload
go run ./internal/testpki/cmd/writepki "$W/pki" >/dev/null
MOD=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so 2>/dev/null | head -1)
mkdir -p "$W/tokens"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$W/tokens" > "$W/softhsm2.conf"
export SOFTHSM2_CONF=$W/softhsm2.conf
(umask 077; echo 1234 > "$W/pin"; openssl pkey -in "$W/pki/ec.key" -outform DER -out "$W/ec.der")
softhsm2-util --init-token --free --label bench --so-pin 5678 --pin 1234 >/dev/null
pkcs11-tool --module "$MOD" --token-label bench --login --pin 1234 --write-object "$W/ec.der" --type privkey --id 01 --label seal >/dev/null
flows() { # flows file|token: full flows per second, capacity run
  local seal=()
  [ "$1" = token ] && seal=(-seal-key "pkcs11:token=bench;object=seal?module-path=$MOD&pin-source=file:$W/pin" -seal-cert "$W/pki/ec-chain.pem")
  "$W/apiload" -procs 2 -duration 5s -workers 16 -json "$W/flows.json" "${seal[@]}" >/dev/null 2>&1 && jq -r .flowsPerSecond "$W/flows.json"
}
: > "$W/flows"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then f=$(flows file); h=$(flows token); else h=$(flows token); f=$(flows file); fi
  echo "$f $h" >> "$W/flows"
  printf '  service round %d: file %.0f flows/s, SoftHSM2 %.0f flows/s, ratio %.2f\n' "$r" "$f" "$h" "$(awk -v f="$f" -v h="$h" 'BEGIN{print h/f}')"
done
median "service flows/s" "$W/flows" || status=1
exit $status
