#!/usr/bin/env bash
# Code redemption rate on bbolt (fsync on): redemptions per second with and without bbolt's Batch, for 1, 16 and
# 64 concurrent redeemers. Each redemption is one store transaction (code check, deletion, audit record).
# Usage: bench/codes.sh [iterations per case, default 3000]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3
n=${1:-3000}
out=$(go test -run '^$' -bench '^BenchmarkRedeemSigningCode$' -benchtime "${n}x" -count 1 ./profile/)
echo "$out" | grep -E '^(goos|goarch|cpu):' || true
printf '%-8s %-8s %14s\n' batch workers redemptions/s
echo "$out" | awk '/^BenchmarkRedeemSigningCode\// {
  split($1, a, "/"); b=a[2]; sub("batch=", "", b); w=a[3]; sub("workers=", "", w); sub("-[0-9]+$", "", w)
  for (i = 2; i <= NF; i++) if ($i == "redemptions/s") r = $(i-1)
  printf "%-8s %-8s %14.0f\n", b, w, r }'
