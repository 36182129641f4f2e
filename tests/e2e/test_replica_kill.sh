#!/usr/bin/env bash
# test_replica_kill.sh: a replica killed under load (docs/high-availability.md).
# Two replicas on one PostgreSQL behind HAProxy (replicas.sh); CLIENTS
# python3-acme-keyed clients (replicas.py load, distinct accounts, the
# retries real clients make) issue through HAProxy. After some
# certificates, a nonce is fetched directly from replica 1, and replica 1
# is killed with SIGKILL; the run goes on against replica 2. Then: every
# flow completed (none given up), every certificate any client received
# downloads by POST-as-GET and is revoked by its account through HAProxy
# (crash.py check), and the nonce replica 1 issued is accepted by replica 2
# once, and refused (badNonce) the second time.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"
. "$(dirname "$0")/replicas.sh"

CLIENTS=${HEARTH_KILL_CLIENTS:-16}
BEFORE=${HEARTH_KILL_BEFORE:-8}
AFTER=${HEARTH_KILL_AFTER:-8}
WEBROOT="$WORK/webroot"
RECEIVED="$WORK/received.jsonl"
CHECKED="$WORK/checked.jsonl"
SUMMARY="$WORK/summary.json"
STOP="$WORK/stop"
mkdir -p "$WEBROOT"
require_fixed_ports
start_dns
check "the challenge responder is up" start_responder "$WEBROOT"
# every client comes from 127.0.0.1: lift the per-source limits
replicas_start --limit-accounts 1000000/1h --limit-nonces 1000000/1m \
	--limit-orders 1000000/1h --limit-conns-per-source 0

received() { [ -f "$RECEIVED" ] && wc -l <"$RECEIVED" || echo 0; }
# wait_received N: at least N certificates received, the load still running;
# at most 60 s.
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

"$SYS_PYTHON" "$E2E_DIR/replicas.py" load "$LB_URL" "$ROOT" "$WEBROOT" "$RECEIVED" \
	"$STOP" "$CLIENTS" "$SUMMARY" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")
check "$BEFORE certificates through HAProxy before the kill" wait_received "$BEFORE"
N1=$(replica_count 1)
N2=$(replica_count 2)
check "replica 1 served the load ($N1 requests)" test "$N1" -gt 10
check "replica 2 served the load ($N2 requests)" test "$N2" -gt 10

NONCE=$("$SYS_PYTHON" "$E2E_DIR/replicas.py" nonce-get "https://localhost:$R1_PORT" "$ROOT")
check "a nonce from replica 1 directly ($NONCE)" test -n "$NONCE"
kill -KILL "$R1_PID"
wait "$R1_PID" 2>/dev/null || true
AT_KILL=$(received)
ok "replica 1 killed with SIGKILL after $AT_KILL certificates"
check "$AFTER more certificates through HAProxy after the kill" \
	wait_received "$((AT_KILL + AFTER))"
touch "$STOP"
LOAD_RC=0
wait "$LOAD_PID" || LOAD_RC=$?
tail -n 20 "$WORK/load.out"
check "every flow completed, with the retries of a real client" test "$LOAD_RC" -eq 0
check "the load ended with a summary" test -s "$SUMMARY"
echo "after the kill: $(summary conn_errors) connection errors, $(summary bad_nonce) badNonce retries, $(summary answers_5xx) 5xx answers"
check "every 5xx answer was a problem document with Retry-After" test "$(summary answers_5xx_bad)" = "[]"

check "replica 1's nonce is accepted once by replica 2, then badNonce" logged nonce-use \
	"$SYS_PYTHON" "$E2E_DIR/replicas.py" nonce-use "https://localhost:$R2_PORT" "$ROOT" "$NONCE"

if "$SYS_PYTHON" "$E2E_DIR/crash.py" check "$LB_URL" "$ROOT" "$RECEIVED" "$CHECKED" \
	>"$WORK/check.out" 2>&1; then
	ok "all $(received) certificates received download and are revoked through HAProxy"
else
	fail "a received certificate is missing or cannot be revoked"
	grep -A3 FAIL "$WORK/check.out" >&2 || true
fi
SERVER_PID=$R2_PID SERVER_LOG="$R2.log" server_healthy
check "HAProxy still runs" kill -0 "$HAPROXY_PID"
done_checks
