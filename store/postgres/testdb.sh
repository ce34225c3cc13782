#!/bin/sh
# testdb.sh starts a throw-away PostgreSQL for the tests and prints its URL; testdb.sh stop DIR stops it.
#
#   url=$(store/postgres/testdb.sh start)        # data under a new /tmp/trustsign-pg.XXXXXX, owned by postgres
#   TRUSTSIGN_TEST_POSTGRES=$url go test ./store/postgres/
#   store/postgres/testdb.sh stop DIR           # DIR as printed on stderr by start
#   store/postgres/testdb.sh restart DIR        # fault tests: cut every connection, keep the data
#   url=$(store/postgres/testdb.sh standby DIR [SDIR])  # a synchronous standby of the server in DIR (see below)
#   store/postgres/testdb.sh kill DIR           # kill -9 the server and its processes (a lost machine)
#   store/postgres/testdb.sh promote SDIR       # make the standby the primary
#   store/postgres/testdb.sh psql DIR [ARGS]    # psql on the server in DIR (user postgres, over its socket)
#
# standby copies the running server in DIR with pg_basebackup -R (streaming replication over 127.0.0.1), starts the
# copy on a free port in SDIR (default: a new /tmp/trustsign-pg.XXXXXX, printed on stderr), waits until it streams,
# then names it in the primary's synchronous_standby_names (cluster_name "standby"), so that from then on every
# commit the primary acknowledges is on the standby's disk too. It prints the standby's URL. stop works on SDIR as on
# DIR, and on a killed server.
#
# No test restarts the server TRUSTSIGN_TEST_POSTGRES names (packages use it at the same time): the tests that
# restart one start a throw-away server of their own with this script. TRUSTSIGN_TEST_POSTGRES_DIR=DIR, which
# .ci/run still exports, is no longer read.
#
# The server listens on 127.0.0.1 only (and a socket in DIR), on a free port, with trust authentication for the
# user postgres: it is for tests, never for data. Run as root (it drops to the postgres user) or as postgres.
# PGBIN overrides where initdb, pg_ctl (and for standby pg_basebackup and psql) are (default: the first of
# /usr/local/bin and /usr/lib/postgresql/*/bin that has initdb and pg_ctl, links followed).
set -eu

bin() {
	if [ -n "${PGBIN:-}" ]; then echo "$PGBIN"; return; fi
	for d in /usr/local/bin /usr/lib/postgresql/*/bin; do
		# where initdb really is (/usr/local/bin may hold links to it alone): pg_basebackup and psql are beside it
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then dirname "$(readlink -f "$d/initdb")"; return; fi
	done
	echo "testdb.sh: initdb and pg_ctl not found (set PGBIN)" >&2
	exit 1
}

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		# runuser/sudo may be missing in minimal images; su is not
		su postgres -s /bin/sh -c "$*"
	else
		sh -c "$*"
	fi
}

free_port() {
	# the kernel picks a free port; PostgreSQL takes it a moment later (a race only with another such script)
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $$ % 20000))
}

case "${1:-start}" in
start)
	B=$(bin)
	DIR=${2:-$(mktemp -d /tmp/trustsign-pg.XXXXXX)}
	mkdir -p "$DIR"
	if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
	chmod 700 "$DIR"
	PORT=$(free_port)
	as_postgres "'$B/initdb' -D '$DIR/data' -U postgres -A trust -E UTF8 --locale=C.UTF-8 >'$DIR/initdb.log' 2>&1" ||
		{ cat "$DIR/initdb.log" >&2; exit 1; }
	# fsync stays on: the durability tests mean something only with it
	as_postgres "'$B/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 30 \
		-o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR' -c max_connections=200\" start >/dev/null" ||
		{ cat "$DIR/server.log" >&2; exit 1; }
	echo "$PORT" >"$DIR/port"
	echo "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
	echo "testdb.sh: data in $DIR; stop with: $0 stop $DIR" >&2
	;;
standby)
	B=$(bin)
	PRIMARY=${2:?usage: testdb.sh standby DIR [SDIR]}
	PPORT=$(cat "$PRIMARY/port")
	DIR=${3:-$(mktemp -d /tmp/trustsign-pg.XXXXXX)}
	mkdir -p "$DIR"
	if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
	chmod 700 "$DIR"
	PORT=$(free_port)
	# -R writes standby.signal and primary_conninfo; -X stream copies the WAL made meanwhile; fast checkpoint so
	# that the copy starts at once
	as_postgres "'$B/pg_basebackup' -h 127.0.0.1 -p $PPORT -U postgres -D '$DIR/data' -R -X stream -c fast >'$DIR/basebackup.log' 2>&1" ||
		{ cat "$DIR/basebackup.log" >&2; exit 1; }
	# the walreceiver names itself by cluster_name, which synchronous_standby_names refers to
	as_postgres "'$B/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -w -t 30 \
		-o \"-c listen_addresses=127.0.0.1 -p $PORT -k '$DIR' -c max_connections=200 -c cluster_name=standby\" start >/dev/null" ||
		{ cat "$DIR/server.log" >&2; exit 1; }
	echo "$PORT" >"$DIR/port"
	psql_primary() { as_postgres "'$B/psql' -X -q -t -A -h '$PRIMARY' -p $PPORT -U postgres -d postgres -c \"$1\""; }
	# synchronous only once it streams: naming a standby that is not connected would hold every commit
	for _ in $(seq 100); do
		[ "$(psql_primary "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'standby' AND state = 'streaming'")" = 1 ] && break
		sleep 0.1
	done
	psql_primary "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (standby)'" >/dev/null
	psql_primary "SELECT pg_reload_conf()" >/dev/null
	for _ in $(seq 100); do
		[ "$(psql_primary "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")" = sync ] && break
		sleep 0.1
	done
	[ "$(psql_primary "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby'")" = sync ] ||
		{ echo "testdb.sh: the standby in $DIR did not become synchronous" >&2; cat "$DIR/server.log" >&2; exit 1; }
	echo "postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
	echo "testdb.sh: standby of $PRIMARY, data in $DIR; stop with: $0 stop $DIR" >&2
	;;
kill)
	# a lost machine: the postmaster and every process it started die at once (by their ids), nothing is flushed
	DIR=${2:?usage: testdb.sh kill DIR}
	PID=$(head -1 "$DIR/data/postmaster.pid")
	KIDS=$(ps -o pid= --ppid "$PID" || true)
	kill -9 "$PID" $KIDS 2>/dev/null || true
	# gone (reaped) before the next command looks at the data directory
	for _ in $(seq 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.05; done
	;;
promote)
	B=$(bin)
	DIR=${2:?usage: testdb.sh promote SDIR}
	as_postgres "'$B/pg_ctl' -D '$DIR/data' -w -t 30 promote >/dev/null"
	;;
psql)
	B=$(bin)
	DIR=${2:?usage: testdb.sh psql DIR [psql arguments]}
	shift 2
	# trust authentication for postgres: any local user may connect as it (root reaches the socket too)
	exec "$B/psql" -X -h "$DIR" -p "$(cat "$DIR/port")" -U postgres "$@"
	;;
restart)
	# for fault tests: connections are cut, the port and data stay
	B=$(bin)
	DIR=${2:?usage: testdb.sh restart DIR}
	as_postgres "'$B/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -m fast -w -t 30 restart >/dev/null"
	;;
stop)
	B=$(bin)
	DIR=${2:?usage: testdb.sh stop DIR}
	# a server that was killed (or never started) has nothing to stop
	if as_postgres "'$B/pg_ctl' -D '$DIR/data' status >/dev/null 2>&1"; then
		as_postgres "'$B/pg_ctl' -D '$DIR/data' -m fast -w stop >/dev/null"
	fi
	rm -rf "$DIR"
	;;
*)
	echo "usage: testdb.sh start [DIR] | restart DIR | stop DIR | standby DIR [SDIR] | kill DIR | promote SDIR | psql DIR [ARGS]" >&2
	exit 2
	;;
esac
