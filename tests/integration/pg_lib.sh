# A private PostgreSQL cluster for the tests of berth serve's metadata in
# PostgreSQL. Source it after lib.sh (and serve_lib.sh).
#
#   pg_start        initdb a cluster in a temporary directory and start it
#                   on a free 127.0.0.1 port; sets PG_PORT PG_URL (a
#                   database "berth" of user "berth", no password)
#   pg_stop         stop it (fast shutdown), keeping its files
#   pg_resume       start the stopped cluster again, on the same port
#   pg_sql SQL      run SQL in the database, print the rows unaligned
#
# Everything is stopped and removed when the test exits. As root, the
# server runs as user nobody (PostgreSQL refuses to run as root).

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
PG_DIR=
PG_PORT=
PG_URL=

_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

_pg_cleanup() {
	if [ -n "$PG_DIR" ] && [ -d "$PG_DIR/data" ]; then
		_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w \
			stop >/dev/null 2>&1
	fi
	[ -n "$PG_DIR" ] && rm -rf "$PG_DIR"
	_cleanup
}
trap _pg_cleanup EXIT

pg_start() {
	if [ ! -x "$PG_BIN/initdb" ]; then
		echo "PostgreSQL server binaries not found (install postgresql)" >&2
		return 1
	fi
	# Outside $T: the server's user must be able to reach it.
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/berth-pg.XXXXXX")
	chmod 755 "$PG_DIR"
	[ "$(id -u)" -eq 0 ] && chown nobody "$PG_DIR"
	_pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U berth --auth=trust \
		--no-sync -E UTF8 >"$PG_DIR/initdb.log" 2>&1 || {
		cat "$PG_DIR/initdb.log" >&2
		return 1
	}
	PG_PORT=$(free_port)
	pg_resume || return 1
	_pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U berth berth ||
		return 1
	PG_URL="postgres://berth@127.0.0.1:$PG_PORT/berth"
}

pg_resume() {
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
		-t 120 -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off" \
		start >/dev/null || {
		tail -n 20 "$PG_DIR/server.log" >&2
		return 1
	}
}

pg_stop() {
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 120 stop \
		>/dev/null
}

pg_sql() {
	_pg_as "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 \
		-p "$PG_PORT" -U berth -d berth -c "$1"
}
