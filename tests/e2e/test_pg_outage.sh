#!/usr/bin/env bash
# test_pg_outage.sh: PostgreSQL stopped under a running hearth (pg_ctl stop
# -m fast) and started again. While it is down, a request that needs the
# store is answered 503 with Retry-After and a serverInternal problem
# document, /readyz says the store cannot be read, and hearth keeps
# running; once it is back, the same process serves again, no restart.
# Always on PostgreSQL (its own server, pg.sh).
HEARTH_TEST_PG=1
SYS_PYTHON=/usr/bin/python3
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
PORT=$(free_port)
BASE="https://localhost:$PORT"
# renewalInfo reads the store and needs no account: 404 for a certificate
# this CA never issued, when the store answers
RI="$BASE/acme/renewal-info/aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"

start_server "$D" "$PORT"
CA=(--cacert "$D/ca/root.crt")
status_of() { curl -s "${CA[@]}" -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$1"; }
ready() { curl -s -o "$WORK/ready" -w '%{http_code}' "http://127.0.0.1:$ADMIN_PORT/readyz"; }

check "renewalInfo answers 404 with the database up" test "$(status_of "$RI")" = 404
check "ready with the database up" test "$(ready)" = 200

"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
check "renewalInfo answers 503 with the database down" test "$(status_of "$RI")" = 503
check "with Retry-After" grep -qi '^retry-after: [1-9]' "$WORK/headers"
check "as a problem document" grep -qi '^content-type: application/problem+json' "$WORK/headers"
check "of type serverInternal, naming the database" "$SYS_PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["type"] == "urn:ietf:params:acme:error:serverInternal", d
assert d["status"] == 503 and "database" in d["detail"], d
' "$WORK/body"
check "a second request too" test "$(status_of "$RI")" = 503
check "newNonce still answers (it needs no store)" test \
	"$(curl -s "${CA[@]}" -o /dev/null -w '%{http_code}' -I "$BASE/acme/new-nonce")" = 200
check "not ready with the database down" test "$(ready)" = 503
check "readyz names the store" grep -q "store" "$WORK/ready"
check "hearth is still running" kill -0 "$SERVER_PID"

"${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
	-o "-c listen_addresses='' -c unix_socket_directories='$PG_DIR' -c max_connections=200" \
	start >/dev/null
check "renewalInfo answers 404 again, same process" test "$(status_of "$RI")" = 404
check "ready again" test "$(ready)" = 200
check "hearth did not restart" kill -0 "$SERVER_PID"
check "no crash in the log" bash -c "! grep -qiE 'sanitizer|segfault|abort' '$SERVER_LOG'"
done_checks
