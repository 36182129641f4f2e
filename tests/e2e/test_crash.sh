#!/usr/bin/env bash
# test_crash.sh: group commit loses nothing. Many python3-acme clients issue
# certificates (crash.py load) while hearth is killed with SIGKILL at a
# random moment and started again, HEARTH_CRASH_ROUNDS times (default 5, the
# CI form). After each kill the store must open (hearth certs list, from
# another process, before the restart) and the server must start on it;
# then every certificate any client had received must download, by
# POST-as-GET of its URL, exactly as received, and be revoked by its
# account (crash.py check). At the end every certificate is fetched once
# more and must still be there and still revoked. The full run:
#   HEARTH_CRASH_ROUNDS=100 ctest -R e2e/test_crash --output-on-failure
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

ROUNDS=${HEARTH_CRASH_ROUNDS:-5}
CLIENTS=${HEARTH_CRASH_CLIENTS:-8}
D="$WORK/data"
PORT=$(free_port)
WEBROOT="$WORK/webroot"
RECEIVED="$WORK/received.jsonl"
CHECKED="$WORK/checked.jsonl"
STOP="$WORK/stop"
mkdir -p "$WEBROOT"
require_fixed_ports
start_dns

check "the challenge responder is up" start_responder "$WEBROOT"

# The per-source limits would count every client: lift them.
serve() {
	start_acme_server "$D" "$PORT" --limit-accounts 1000000/1h \
		--limit-nonces 1000000/1m --limit-orders 1000000/1h
}
crash_check() {
	"$SYS_PYTHON" "$E2E_DIR/crash.py" check "https://localhost:$PORT" "$D/ca/root.crt" \
		"$RECEIVED" "$CHECKED" "$@" >>"$WORK/check.out" 2>&1
}
received() { [ -f "$RECEIVED" ] && wc -l <"$RECEIVED" || echo 0; }

serve
"$SYS_PYTHON" "$E2E_DIR/crash.py" load "https://localhost:$PORT" "$D/ca/root.crt" \
	"$WEBROOT" "$RECEIVED" "$STOP" "$CLIENTS" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=("$LOAD_PID")

for round in $(seq 1 "$ROUNDS"); do
	# a random moment under load: 0.3 to 3 seconds after the start
	sleep "$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.3 + (r % 271) / 100 }')"
	{ kill -KILL "$SERVER_PID" && wait "$SERVER_PID"; } 2>/dev/null || true
	if ! "$HEARTH_BIN" certs list --data "$D" >"$WORK/list.out" 2>&1; then
		fail "round $round: the store opens after SIGKILL"
		cat "$WORK/list.out" >&2
		break
	fi
	if ! serve; then
		fail "round $round: hearth starts again on the store"
		break
	fi
	if crash_check; then
		ok "round $round: $(received) certificates received so far all download and revoke"
	else
		fail "round $round: a received certificate is missing or cannot be revoked"
		grep -A3 FAIL "$WORK/check.out" >&2 || true
	fi
done

touch "$STOP"
wait "$LOAD_PID" 2>/dev/null || true
check "every certificate received was checked, and is still there and revoked" crash_check final
tail -1 "$WORK/check.out"
check "the clients received certificates under load" test "$(received)" -gt 0
server_healthy
done_checks
