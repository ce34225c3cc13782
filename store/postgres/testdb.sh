#!/bin/sh
# testdb.sh starts a throw-away PostgreSQL for the tests and prints its URL; testdb.sh stop DIR stops it.
#
#   url=$(store/postgres/testdb.sh start)        # data under a new /tmp/trustsign-pg.XXXXXX, owned by postgres
#   TRUSTSIGN_TEST_POSTGRES=$url go test ./store/postgres/
#   store/postgres/testdb.sh stop DIR           # DIR as printed on stderr by start
#   store/postgres/testdb.sh restart DIR        # fault tests: cut every connection, keep the data
#
# Exporting TRUSTSIGN_TEST_POSTGRES_DIR=DIR as well lets the tests restart the server (TestServerRestartRecovered).
#
# The server listens on 127.0.0.1 only (and a socket in DIR), on a free port, with trust authentication for the
# user postgres: it is for tests, never for data. Run as root (it drops to the postgres user) or as postgres.
# PGBIN overrides where initdb and pg_ctl are (default: the first of /usr/local/bin and /usr/lib/postgresql/*/bin
# that has them).
set -eu

bin() {
	if [ -n "${PGBIN:-}" ]; then echo "$PGBIN"; return; fi
	for d in /usr/local/bin /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
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
restart)
	# for fault tests: connections are cut, the port and data stay
	B=$(bin)
	DIR=${2:?usage: testdb.sh restart DIR}
	as_postgres "'$B/pg_ctl' -D '$DIR/data' -l '$DIR/server.log' -m fast -w -t 30 restart >/dev/null"
	;;
stop)
	B=$(bin)
	DIR=${2:?usage: testdb.sh stop DIR}
	as_postgres "'$B/pg_ctl' -D '$DIR/data' -m fast -w stop >/dev/null"
	rm -rf "$DIR"
	;;
*)
	echo "usage: testdb.sh start [DIR] | restart DIR | stop DIR" >&2
	exit 2
	;;
esac
