#!/usr/bin/env bash
# test_pg_restart.sh: PostgreSQL restarted under load (docs/high-availability.md).
# hearth serves on a PostgreSQL store while CLIENTS clients issue
# (replicas.py load, retrying as real clients do); the database is
# restarted with `pg_ctl restart -m fast`. Every answer hearth gave in the
# meantime was a success or a 5xx problem document with Retry-After: no
# connection closed without an answer, no flow given up, the server
# process the same. Then, deterministically, the database is stopped: a
# request that needs it answers a 5xx problem with Retry-After and
# /readyz answers 503; once it is started again, certbot issues without
# hearth being restarted.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"
. "$(dirname "$0")/pg.sh"

CLIENTS=${HEARTH_PGR_CLIENTS:-8}
D="$WORK/data"
PORT=$(free_port)
WEBROOT="$WORK/webroot"
RECEIVED="$WORK/received.jsonl"
SUMMARY="$WORK/summary.json"
STOP="$WORK/stop"
mkdir -p "$WEBROOT"
require_fixed_ports
start_dns
pg_start
URI=$(pg_createdb hearth)
"$SYS_PYTHON" "$E2E_DIR/acmetest.py" serve "$WEBROOT" "$HTTP01_PORT" >"$WORK/responder.log" 2>&1 &
RESPONDER_PID=$!
PIDS+=("$RESPONDER_PID")
start_acme_server "$D" "$PORT" --store "$URI" --limit-accounts 1000000/1h \
	--limit-nonces 1000000/1m --limit-orders 1000000/1h --limit-conns-per-source 0
PID0=$SERVER_PID
BASE="https://localhost:$PORT"
ROOT="$D/ca/root.crt"

received() { [ -f "$RECEIVED" ] && wc -l <"$RECEIVED" || echo 0; }
wait_received() {
	local i
	for i in $(seq 1 600); do
		[ "$(received)" -ge "$1" ] && return 0
		kill -0 "$LOAD_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
summary() { "$SYS_PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$SUMMARY" "$1"; }

# ---- a restart under load ---------------------------------------------------

"$SYS_PYTHON" "$E2E_DIR/replicas.py" load "$BASE" "$ROOT" "$WEBROOT" "$RECEIVED" \
	"$STOP" "$CLIENTS" "$SUMMARY" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
check "4 certificates before the restart" wait_received 4
check "pg_ctl restart -m fast under load" pg_restart
AT=$(received)
check "4 more certificates after the restart, hearth not restarted" wait_received "$((AT + 4))"
touch "$STOP"
LOAD_RC=0
wait "$LOAD_PID" || LOAD_RC=$?
tail -n 10 "$WORK/load.out"
check "every flow completed, with the retries of a real client" test "$LOAD_RC" -eq 0
check "the load ended with a summary" test -s "$SUMMARY"
echo "during the restart: $(summary answers_5xx) 5xx answers, $(summary bad_nonce) badNonce retries"
check "every 5xx answer was a problem document with Retry-After" test "$(summary answers_5xx_bad)" = "[]"
check "no connection closed without an answer" test "$(summary conn_errors)" -eq 0
check "the same server process serves" test "$SERVER_PID" = "$PID0"

# ---- the database down, then up again ---------------------------------------

check "PostgreSQL stopped" pg_down
check "a request needing the store: a 5xx problem with Retry-After" logged probe-down \
	"$SYS_PYTHON" "$E2E_DIR/replicas.py" probe-down "$BASE" "$ROOT"
check "/readyz says not ready" test "$(curl -s -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$ADMIN_PORT/readyz")" = 503
check "PostgreSQL started again" pg_up
# certbot answers http-01 itself, on the responder's port
kill "$RESPONDER_PID"
wait "$RESPONDER_PID" 2>/dev/null || true
export REQUESTS_CA_BUNDLE="$ROOT"
CB="$WORK/certbot"
check "certbot issues once the database is back" logged certbot certbot --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" certonly \
	--server "$BASE/directory" --agree-tos -m admin@corp.internal --no-eff-email \
	--standalone --http-01-port "$HTTP01_PORT" --cert-name back -d back.corp.internal
check "its certificate verifies against the root" verify_leaf "$D" "$CB/config/live/back/cert.pem"
check "/readyz says ready again" curl -sf -o /dev/null "http://127.0.0.1:$ADMIN_PORT/readyz"
server_healthy
check "the server process is the one started first" kill -0 "$PID0"
done_checks
