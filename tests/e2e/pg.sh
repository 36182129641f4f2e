#!/bin/bash
# pg.sh: a PostgreSQL 15 server of the tests' own, on a Unix socket in a
# temporary directory (no TCP port, nothing shared with other tests).
# Sourced by lib.sh when HEARTH_TEST_PG=1, or run as
#   pg.sh run COMMAND...
# to start one, create database "hearth", export HEARTH_TEST_PG_URI (and
# HEARTH_TEST_PG_DIR) for COMMAND, and stop and remove the server after it.
# initdb refuses root: as root the server runs as the postgres user.
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=
PG_RUN=()

# pg_start: initdb into a fresh directory, start the server, wait for it.
pg_start() {
	if [ ! -x "$PG_BIN/initdb" ]; then
		echo "pg.sh: $PG_BIN/initdb not found (deploy/deps.sh --test installs postgresql-15)" >&2
		return 1
	fi
	# /tmp rather than the build tree: the server's user must reach it,
	# and a socket path is limited to about 100 bytes
	PG_DIR=$(mktemp -d /tmp/hearth-pg.XXXXXX)
	chmod 0755 "$PG_DIR"	# the socket is reached by hearth's own user
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$PG_DIR"
		PG_RUN=(runuser -u postgres --)
	fi
	"${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust \
		-E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	pg_up
}

# pg_up: starts the server initdb made (again, after pg_down).
pg_up() {
	local log="$PG_DIR/server.log"
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$log" -w -t 60 \
		-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR' -c max_connections=200" \
		start >/dev/null || { cat "$log" >&2; return 1; }
}

# pg_down: stops the server with -m fast (open sessions are ended), keeping
# its data for pg_up.
pg_down() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}

# pg_restart: pg_ctl restart -m fast, as an operator restarts the database.
pg_restart() {
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -m fast -w \
		-t 60 restart >/dev/null
}

# pg_createdb NAME: creates database NAME and prints its URI.
pg_createdb() {
	"${PG_RUN[@]}" "$PG_BIN/createdb" -h "$PG_DIR" -U postgres "$1" >&2 || return 1
	echo "postgresql:///$1?host=$PG_DIR&user=postgres"
}

# pg_stop: stops the server and removes its directory.
pg_stop() {
	[ -n "$PG_DIR" ] || return 0
	"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$PG_DIR"
	PG_DIR=
}

if [ "${1:-}" = "run" ] && [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -eu
	shift
	trap pg_stop EXIT
	pg_start
	HEARTH_TEST_PG_URI=$(pg_createdb hearth)
	export HEARTH_TEST_PG_URI
	export HEARTH_TEST_PG_DIR=$PG_DIR
	rc=0
	"$@" || rc=$?
	exit "$rc"
fi
