#!/usr/bin/env bash
# test_restart.sh: hearth keeps its state across restarts (restart.py):
# a certificate issued with python3-acme, then a clean stop and start on the
# same data directory: the account, its orders, the certificate download, a
# pending order completed, revocation. Then a validation interrupted by
# SIGKILL is resumed by the next start, and the revocation is still there.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

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

start_acme_server "$D" "$PORT"
check "issue before the restart" phase issue
ROOT_SUM=$(sha256sum <"$D/ca/root.crt")
INTER_SUM=$(sha256sum <"$D/ca/intermediate.crt")

stop_server
start_acme_server "$D" "$PORT"
check "the CA is the same after the restart" test \
	"$ROOT_SUM$INTER_SUM" = "$(sha256sum <"$D/ca/root.crt")$(sha256sum <"$D/ca/intermediate.crt")"
check "state after a clean restart" phase check

check "a validation left waiting" phase crash
{ kill -KILL "$SERVER_PID" && wait "$SERVER_PID"; } 2>/dev/null || true
check "hearth was killed" bash -c "! kill -0 $SERVER_PID 2>/dev/null"
check "the challenge file is fixed while hearth is down" phase unhang
start_acme_server "$D" "$PORT"
check "state after a crash" phase resume

server_healthy
done_checks
