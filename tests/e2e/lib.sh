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
	if declare -F pg_stop >/dev/null; then pg_stop; fi
}
trap cleanup EXIT

# The store: LMDB under DIR/db unless the test runs on PostgreSQL. With
# HEARTH_TEST_PG=1 (the e2e-pg/ variants) this script starts one
# PostgreSQL server for itself (pg.sh) and each data directory gets a
# database of its own there; HEARTH_TEST_STORE instead names one location
# every server of the script uses.
if [ "${HEARTH_TEST_PG:-}" = 1 ] && [ -z "${HEARTH_TEST_STORE:-}" ]; then
	. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"
	pg_start
	PG_PER_DIR=1
fi
# store_location DIR: the --store value for data directory DIR, or nothing.
store_location() {
	local dir=$1
	if [ -n "${HEARTH_TEST_STORE:-}" ]; then
		echo "$HEARTH_TEST_STORE"
	elif [ -n "${PG_PER_DIR:-}" ]; then
		[ -s "$dir.store" ] ||
			pg_createdb "h$(printf '%s' "$dir" | sha256sum | cut -c1-16)" >"$dir.store"
		cat "$dir.store"
	fi
}
# hearth_admin DIR ARGS...: runs hearth ARGS --data DIR on DIR's store
# (certs, revoke, status, eab).
hearth_admin() {
	local dir=$1 loc; shift
	loc=$(store_location "$dir")
	if [ -n "$loc" ]; then
		"$HEARTH_BIN" "$@" --data "$dir" --store "$loc"
	else
		"$HEARTH_BIN" "$@" --data "$dir"
	fi
}

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
# hearth serve started as root runs as two users (docs/security.md), and
# the tests run as root in CI: create them, once, as a package would.
HEARTH_USER=hearth
HEARTH_SIGNER_USER=hearth-signer
ensure_users() {
	local u
	[ "$(id -u)" -eq 0 ] || return 0
	for u in "$HEARTH_USER" "$HEARTH_SIGNER_USER"; do
		getent passwd "$u" >/dev/null && continue
		flock "${TMPDIR:-/tmp}/hearth-e2e-users.lock" useradd --system \
			--no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" \
			|| getent passwd "$u" >/dev/null
	done
}
ensure_users

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server DATA_DIR PORT [extra args...]: starts hearth serve and waits
# until the directory answers over TLS (at https://$SERVER_HOST, localhost
# unless set). Sets SERVER_PID and SERVER_LOG. The plain-HTTP PKI listener
# gets a free port of its own unless the arguments name --pki-listen: one
# per data directory (DIR.pki-port), kept across restarts since leaves carry
# URLs under it; PKI_PORT is the last one.
# The admin listener gets a free port (DIR.admin-port, ADMIN_PORT the last
# one) the same way unless they name --admin-listen.
PKI_PORT=
ADMIN_PORT=
start_server() {
	local dir=$1 port=$2 pki=() admin=() store=() loc; shift 2
	SERVER_LOG="$dir.log"
	loc=$(store_location "$dir")
	if [ -n "$loc" ] && [[ " $* " != *" --store"* ]]; then
		store=(--store "$loc")
	fi
	if [[ " $* " != *" --pki-listen"* ]]; then
		[ -s "$dir.pki-port" ] || free_port >"$dir.pki-port"
		PKI_PORT=$(cat "$dir.pki-port")
		pki=(--pki-listen "127.0.0.1:$PKI_PORT")
	fi
	if [[ " $* " != *" --admin-listen"* ]]; then
		[ -s "$dir.admin-port" ] || free_port >"$dir.admin-port"
		ADMIN_PORT=$(cat "$dir.admin-port")
		admin=(--admin-listen "127.0.0.1:$ADMIN_PORT")
	fi
	(no_lock_fd; exec "$HEARTH_BIN" serve --data "$dir" --listen "127.0.0.1:$port" \
		--threads 2 "${pki[@]}" "${admin[@]}" "${store[@]}" "$@" >>"$SERVER_LOG" 2>&1) &
	SERVER_PID=$!
	PIDS+=("$SERVER_PID")
	local i
	for i in $(seq 1 300); do
		if [ -f "$dir/ca/root.crt" ] && curl -sf --cacert "$dir/ca/root.crt" \
			"https://${SERVER_HOST:-localhost}:$port/directory" -o /dev/null 2>/dev/null; then
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
