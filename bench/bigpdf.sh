# bench/bigpdf.sh, sourced by bench/pades.sh and bench/pades-lta.sh: the set-up both share. It goes to the
# repository root, sets MB (the first argument, default 100) and RUNS, the Go toolchain, a work directory W removed
# on exit, and writes the large input PDF to $W/big.pdf with the acceptance checks' generator.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[1]}")/.." && pwd)
cd "$ROOT" || exit 2
SHARED=${TRUSTSIGN_SHARED:-$ROOT/../shared}
MB=${1:-100}
RUNS=${RUNS:-3}
grep -qE '^go 1\.27' go.mod && ! go version 2>/dev/null | grep -q 'go1\.2[7-9]' && export GOTOOLCHAIN=${GOTOOLCHAIN:-go1.27.3}
[ -x /usr/bin/time ] || { echo "GNU time (/usr/bin/time) is missing: apt-get install time" >&2; exit 2; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

if [ -f "$SHARED/acceptance/lib/mkpdf.py" ]; then
  python3 "$SHARED/acceptance/lib/mkpdf.py" "$W/big.pdf" 2 "$MB" || exit 2
else
  echo "mkpdf.py not found under $SHARED" >&2; exit 2
fi
