#!/usr/bin/env bash
# test_signer_restart.sh: the signer process hangs (SIGSTOP) while an order
# is ready (signer_restart.py): finalize answers 503 with a serverInternal
# problem and Retry-After after the signer timeout, other requests go on
# being answered, the stopped signer is killed and reaped and a new one
# started, and the next finalize issues the certificate.
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
	"$SYS_PYTHON" "$E2E_DIR/signer_restart.py" "$1" "https://localhost:$PORT" \
		"$D/ca/root.crt" "$WEBROOT" "$STATE"
}

start_acme_server "$D" "$PORT"
# serve's child is the launcher; the launcher's child is the signer
LAUNCHER=$(pgrep -P "$SERVER_PID")
SIGNER=$(pgrep -P "$LAUNCHER")
check "serve runs one launcher with one signer" test -n "$LAUNCHER" -a -n "$SIGNER"
check "an order made ready" phase ready

kill -STOP "$SIGNER"
phase unavailable >"$WORK/unavailable.out" 2>&1 &
FIN=$!
sleep 1
check "the directory is served while finalize waits on the signer" \
	curl -sf --cacert "$D/ca/root.crt" -o /dev/null "https://localhost:$PORT/directory"
check "finalize with a hung signer is answered 503 with Retry-After" wait "$FIN"
cat "$WORK/unavailable.out"
# the launcher kills and reaps it once serve asks for a new one
gone() {
	local i
	for i in $(seq 1 100); do
		kill -0 "$1" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
check "the stopped signer was killed and reaped" gone "$SIGNER"
check "finalize after the restart issues" phase finalize
NEW=$(pgrep -P "$LAUNCHER")
check "a new signer runs under the same launcher" test -n "$NEW" -a "$NEW" != "$SIGNER"

server_healthy
done_checks
