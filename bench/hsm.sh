#!/usr/bin/env bash
# Sealing throughput with the seal key in a SoftHSM2 token against the same with the key in a file (PEM), ECDSA
# P-256, from as many goroutines as CPUs (BenchmarkSeal in signer/): enveloped XAdES of a 10 KB document, and PAdES
# of a one-page PDF. Each round runs the file and the token benchmark back to back (their order alternating), so
# that both see the same load; the ratio printed is the median of the rounds' ratios. Goal: >= 0.80.
# Usage: bench/hsm.sh [ROUNDS]   (default 5; needs softhsm2 and opensc: apt-get install softhsm2 opensc)
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
for format in xades-10KB pades-1page; do
  : > "$W/$format"
  for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then f=$(rate $format file); h=$(rate $format softhsm); else h=$(rate $format softhsm); f=$(rate $format file); fi
    [ -n "$f" ] && [ -n "$h" ] || { echo "the benchmark did not run (SoftHSM2 missing?)" >&2; exit 2; }
    echo "$f $h" >> "$W/$format"
    printf '  %s round %d: file %.0f seals/s, SoftHSM2 %.0f seals/s, ratio %.2f\n' "$format" "$r" "$f" "$h" "$(awk -v f="$f" -v h="$h" 'BEGIN{print h/f}')"
  done
  awk '{print $2/$1, $1, $2}' "$W/$format" | sort -n | awk -v fmt="$format" '{r[NR]=$1; f[NR]=$2; h[NR]=$3}
    END {m=int((NR+1)/2); printf "%s: median ratio SoftHSM2/file = %.2f (that round: file %.0f, SoftHSM2 %.0f seals/s; goal >= 0.80)\n", fmt, r[m], f[m], h[m]
         exit (r[m] >= 0.80) ? 0 : 1}' || status=1
done
exit $status
