# lib.sh: shared helpers for the end-to-end tests (sourced, not run).
# Each test gets its own directory under $HEARTH_TEST_TMP and stops every
# server it started on exit. Trust is always explicit: the CA's root only.
set -euo pipefail
unset REQUESTS_CA_BUNDLE SSL_CERT_FILE CURL_CA_BUNDLE

HEARTH_BIN=${HEARTH_BIN:?HEARTH_BIN must point at the hearth binary}
TMP_BASE=${HEARTH_TEST_TMP:-/tmp}
mkdir -p "$TMP_BASE"
WORK=$(mktemp -d "$TMP_BASE/e2e.XXXXXX")
PIDS=()
FAILS=0
CHECKS=0

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
fail() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: $*" >&2; }
# check DESCRIPTION COMMAND...: the command must succeed.
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
# check_not DESCRIPTION COMMAND...: the command must fail.
check_not() { local what=$1; shift; if "$@"; then fail "$what"; else ok "$what"; fi; }
done_checks() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# no_lock_fd: in a subshell about to exec a server, closes the fixed-ports
# lock (loopback.sh), so a server that outlives its test cannot hold it.
no_lock_fd() {
	if [ -n "${FIXED_PORTS_FD:-}" ]; then exec {FIXED_PORTS_FD}>&-; fi
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server DATA_DIR PORT [extra args...]: starts hearth serve and waits
# until the directory answers over TLS. Sets SERVER_PID and SERVER_LOG. The
# plain-HTTP PKI listener gets a free port of its own (PKI_PORT, kept across
# restarts of the same test) unless the arguments name --pki-listen; so
# does the admin listener (ADMIN_PORT) unless they name --admin-listen.
PKI_PORT=
ADMIN_PORT=
start_server() {
	local dir=$1 port=$2 pki=() admin=(); shift 2
	SERVER_LOG="$dir.log"
	if [[ " $* " != *" --pki-listen"* ]]; then
		[ -n "$PKI_PORT" ] || PKI_PORT=$(free_port)
		pki=(--pki-listen "127.0.0.1:$PKI_PORT")
	fi
	if [[ " $* " != *" --admin-listen"* ]]; then
		[ -n "$ADMIN_PORT" ] || ADMIN_PORT=$(free_port)
		admin=(--admin-listen "127.0.0.1:$ADMIN_PORT")
	fi
	(no_lock_fd; exec "$HEARTH_BIN" serve --data "$dir" --listen "127.0.0.1:$port" \
		--threads 2 "${pki[@]}" "${admin[@]}" "$@" >>"$SERVER_LOG" 2>&1) &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	local i
	for i in $(seq 1 300); do
		if [ -f "$dir/ca/root.crt" ] && curl -sf --cacert "$dir/ca/root.crt" \
			"https://localhost:$port/directory" -o /dev/null 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			echo "server exited during start-up:" >&2
			cat "$SERVER_LOG" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "server did not come up:" >&2
	cat "$SERVER_LOG" >&2
	return 1
}

stop_server() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
}
