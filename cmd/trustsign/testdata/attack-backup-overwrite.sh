#!/bin/sh
# Footgun: `admin backup` on a running server writes OUT wherever it is told, replacing existing files by rename.
#  - OUT = DATA/trustsign.db: the server keeps writing to the unlinked old file; every write after the "backup"
#    (here a registration and the shutdown seal) is lost at the next start.
#  - OUT = DATA/audit-chain.key: the chain key is replaced by a store copy; the server no longer starts and the
#    audit log can no longer be verified.
# Both answer "wrote N bytes … (from the running server)" and exit 0.
# Usage: attack-backup-overwrite.sh TRUSTSIGN_BINARY
set -u
TS=$1
D=$(mktemp -d)
"$TS" serve --data "$D" --addr 127.0.0.1:18998 >"$D/serve.log" 2>&1 & P=$!
until curl -sf http://127.0.0.1:18998/healthz >/dev/null; do sleep 0.2; done
"$TS" admin backup --data "$D" "$D/trustsign.db"; echo "backup onto the live store: exit $?"
"$TS" admin backup --data "$D" "$D/audit-chain.key"; echo "backup onto the chain key: exit $?"
ls -l /proc/$P/fd | grep trustsign.db
kill -TERM $P; wait $P
"$TS" audit verify --data "$D"; echo "audit verify: exit $?"
"$TS" serve --data "$D" --addr 127.0.0.1:18998 & P=$!; sleep 3; kill $P 2>/dev/null && echo "server started" || echo "ATTACK WORKED: server does not start any more"
