#!/usr/bin/env bash
# test_store_migrate.sh: `hearth store migrate` moves a store that real
# issuance filled from LMDB into PostgreSQL, and the server then serves the
# same accounts and certificates from it (restart.py's phases): the
# python3-acme account of the LMDB days still works, its orders and
# certificate download, and its certificate can be revoked; hearth certs
# reads the new store; a second migrate into the same database is refused;
# a migrate while the server still runs on the LMDB store is refused, names
# the server's process and writes nothing into the database.
# Starts its own PostgreSQL server (pg.sh) whatever HEARTH_TEST_PG says.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
HEARTH_TEST_PG=
HEARTH_TEST_STORE=
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"
. "$(dirname "$0")/pg.sh"
pg_start

D="$WORK/data"
PORT=$(free_port)
WEBROOT="$WORK/webroot"
STATE="$WORK/state.json"
mkdir -p "$WEBROOT"
require_fixed_ports
start_dns
check "the challenge responder is up" start_responder "$WEBROOT"

phase() {
	"$SYS_PYTHON" "$E2E_DIR/restart.py" "$1" "https://localhost:$PORT" "$D/ca/root.crt" \
		"$WEBROOT" "$STATE"
}

# ---- LMDB: issue, then stop -------------------------------------------------
start_acme_server "$D" "$PORT"
check "issue on the LMDB store" phase issue
URI=$(pg_createdb hearth)
check_not "migrate refuses while a server runs on the LMDB store" \
	"$HEARTH_BIN" store migrate --from "$D" --to "$URI" >"$WORK/busy.txt" 2>&1
cat "$WORK/busy.txt"
check "and names the server's process" grep -q "in use by process $SERVER_PID " "$WORK/busy.txt"
# nothing was written: not even the tables (the database is opened after the check)
check "and leaves the database untouched" test "$("${PG_RUN[@]}" "$PG_BIN/psql" -XAtq \
	-d "$URI" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" = 0
stop_server
"$HEARTH_BIN" certs list --data "$D" >"$WORK/certs-lmdb.txt"
check "the LMDB store holds a certificate" test -s "$WORK/certs-lmdb.txt"

# ---- migrate -------------------------------------------------------------------
check_not "migrate refuses a directory without a store" \
	"$HEARTH_BIN" store migrate --from "$WORK/nothing" --to "$URI"
check_not "migrate refuses a target that is not PostgreSQL" \
	"$HEARTH_BIN" store migrate --from "$D" --to "$WORK/other"
check "hearth store migrate" "$HEARTH_BIN" store migrate --from "$D" --to "$URI" \
	>"$WORK/migrate.txt" 2>&1
cat "$WORK/migrate.txt"
check "migrate reports matching counts" grep -q "the counts match" "$WORK/migrate.txt"
check "migrate copied accounts" grep -qE '^accounts +[1-9]' "$WORK/migrate.txt"
check "migrate copied certificates" grep -qE '^certs +[1-9]' "$WORK/migrate.txt"
check_not "a second migrate into the same database is refused" \
	"$HEARTH_BIN" store migrate --from "$D" --to "$URI"
"$HEARTH_BIN" certs list --data "$D" --store "$URI" >"$WORK/certs-pg.txt"
check "hearth certs lists the same certificates from PostgreSQL" \
	cmp -s "$WORK/certs-lmdb.txt" "$WORK/certs-pg.txt"

# ---- serve from PostgreSQL ------------------------------------------------------
# The LMDB store moves away: whatever is served now comes from PostgreSQL.
mv "$D/db/data.mdb" "$WORK/data.mdb.migrated"
start_acme_server "$D" "$PORT" --store "$URI"
check "the server made no LMDB store" test ! -e "$D/db/data.mdb"
check "same account, orders and certificate; revocation works" phase check
"$HEARTH_BIN" certs list --data "$D" --store "$URI" --status revoked >"$WORK/revoked.txt"
check "the revocation is in PostgreSQL" test -s "$WORK/revoked.txt"
check_not "hearth backup points a PostgreSQL store to pg_dump" \
	"$HEARTH_BIN" backup --data "$D" --store "$URI" "$WORK/backup"
server_healthy
done_checks
