#!/usr/bin/env bash
# test_pg_restart.sh: PostgreSQL restarted under load (docs/high-availability.md).
# Two replicas on one PostgreSQL behind HAProxy (replicas.sh); CLIENTS
# clients issue through HAProxy (replicas.py load, retrying as real
# clients do) while the database is restarted with `pg_ctl restart -m
# fast`. Every answer in the meantime was a success or a 5xx problem
# document with Retry-After: no connection closed without an answer, both
# server processes the same, and issuance goes on afterwards. Then, deterministically,
# the database is stopped: a request through HAProxy and at each replica
# answers a 5xx problem with Retry-After (HAProxy falls back to the
# replicas it marked unready rather than closing the connection), and
# each /readyz answers 503; once it is started again, certbot issues
# through HAProxy without any replica being restarted.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"
. "$(dirname "$0")/replicas.sh"

CLIENTS=${HEARTH_PGR_CLIENTS:-8}
WEBROOT="$WORK/webroot"
RECEIVED="$WORK/received.jsonl"
SUMMARY="$WORK/summary.json"
STOP="$WORK/stop"
mkdir -p "$WEBROOT"
require_fixed_ports
start_dns
check "the challenge responder is up" start_responder "$WEBROOT"
replicas_start --limit-accounts 1000000/1h --limit-nonces 1000000/1m \
	--limit-orders 1000000/1h --limit-conns-per-source 0
PID1=$R1_PID
PID2=$R2_PID

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
readyz() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz"; }
probe() { "$SYS_PYTHON" "$E2E_DIR/replicas.py" probe-down "$1" "$ROOT"; }

# ---- a restart under load ---------------------------------------------------

"$SYS_PYTHON" "$E2E_DIR/replicas.py" load "$LB_URL" "$ROOT" "$WEBROOT" "$RECEIVED" \
	"$STOP" "$CLIENTS" "$SUMMARY" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
check "4 certificates before the restart" wait_received 4
check "pg_ctl restart -m fast under load" pg_restart
AT=$(received)
check "4 more certificates after the restart, no replica restarted" wait_received "$((AT + 4))"
touch "$STOP"
LOAD_RC=0
wait "$LOAD_PID" || LOAD_RC=$?
tail -n 10 "$WORK/load.out"
check "the load ended with a summary" test -s "$SUMMARY"
# A flow may be given up (the 5xx answers are what this test checks): a
# finalize whose certificate could not be stored leaves its order
# processing until the claim lapses; its count is shown, not asserted.
echo "during the restart: $(summary answers_5xx) 5xx answers, $(summary bad_nonce) badNonce retries, $(summary flows) flows completed, $(summary failed) given up (load exit $LOAD_RC)"
check "every 5xx answer was a problem document with Retry-After" test "$(summary answers_5xx_bad)" = "[]"
check "no connection closed without an answer" test "$(summary conn_errors)" -eq 0

# ---- the database down, then up again ---------------------------------------

check "PostgreSQL stopped" pg_down
check "replica 1's /readyz says not ready" test "$(readyz "$R1_ADMIN")" = 503
check "replica 2's /readyz says not ready" test "$(readyz "$R2_ADMIN")" = 503
# HAProxy has had time to mark both unready (fall 2, every 500 ms)
sleep 2
check "through HAProxy: a 5xx problem with Retry-After" logged probe-lb probe "$LB_URL"
check "again through HAProxy (the other replica)" logged probe-lb2 probe "$LB_URL"
check "at replica 1: a 5xx problem with Retry-After" logged probe-r1 probe "https://localhost:$R1_PORT"
check "at replica 2: a 5xx problem with Retry-After" logged probe-r2 probe "https://localhost:$R2_PORT"
check "PostgreSQL started again" pg_up
# certbot answers http-01 itself, on the responder's port
kill "$RESPONDER_PID"
wait "$RESPONDER_PID" 2>/dev/null || true
export REQUESTS_CA_BUNDLE="$ROOT"
CB="$WORK/certbot"
check "certbot issues through HAProxy once the database is back" logged certbot certbot \
	--non-interactive --config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" \
	certonly --server "$LB_URL/directory" --agree-tos -m admin@corp.internal --no-eff-email \
	--standalone --http-01-port "$HTTP01_PORT" --cert-name back -d back.corp.internal
check "its certificate verifies against the root" verify_leaf "$R1" "$CB/config/live/back/cert.pem"
check "replica 1's /readyz says ready again" test "$(readyz "$R1_ADMIN")" = 200
check "replica 2's /readyz says ready again" test "$(readyz "$R2_ADMIN")" = 200
check "replica 1 is the process started first" test "$R1_PID" = "$PID1"
check "replica 2 is the process started first" test "$R2_PID" = "$PID2"
for n in 1 2; do
	SERVER_PID=$(eval echo "\$R${n}_PID") SERVER_LOG="$WORK/r$n.log" server_healthy
done
done_checks
