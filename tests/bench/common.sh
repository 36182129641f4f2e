# shellcheck shell=bash
# common.sh: what compare.sh and scale.sh share, sourced by both: the build
# of the programs they run, a work directory and the processes they start
# (ended and removed on exit), free loopback ports, the DNS peer
# (pebble-challtestsrv answering every A query with 127.0.0.1), waiting for
# a URL, hearth's start with the rate limits off, and the machine's load.
# Sourcing it changes to the repository's top directory.
#   . "$(dirname "$0")/common.sh"
#   bench_setup TARGET...       builds TARGETs into $B, makes $W

cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
B=${BUILD:-build/bench}
# set by start_peer, read by hearth_start
DNS_PORT=${DNS_PORT:-}
W=
PIDS=()

# All load comes from 127.0.0.1, where a fleet would come from many
# addresses: the per-source and per-account rate limits are turned off.
NO_LIMITS=(--limit-accounts 0 --limit-nonces 0 --limit-orders 0 --limit-conns-per-source 0)

bench_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[ -z "$W" ] || rm -rf "$W"
}

# bench_setup TARGET...: a Release build of the targets in $B (configured
# when new: HEARTH_WOLFSSL as bench.sh sets it, else the default), the work
# directory $W, and the exit trap.
bench_setup() {
	[ -f "$B/CMakeCache.txt" ] ||
		cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release ${HEARTH_WOLFSSL:+-DHEARTH_WOLFSSL="$HEARTH_WOLFSSL"} >/dev/null
	cmake --build "$B" -j"$(nproc)" --target "$@" >/dev/null
	W=$(mktemp -d)
	trap bench_cleanup EXIT
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

load_line() {
	echo "== load $1: $(cut -d' ' -f1-3 /proc/loadavg)"
}

machine_line() {
	echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
}

# start_peer: pebble-challtestsrv on DNS_PORT (set here), the DNS every
# server of the run resolves through.
start_peer() {
	command -v pebble-challtestsrv >/dev/null || apt-get install -y -qq pebble >/dev/null
	DNS_PORT=$(free_port)
	pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		-dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$(free_port)" >"$W/peer.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		grep -qs "Starting management server" "$W/peer.log" && return 0
		sleep 0.1
	done
	echo "pebble-challtestsrv did not start:" >&2
	cat "$W/peer.log" >&2
	return 1
}

# wait_url URL [CACERT]: the URL answers 2xx (over TLS when CACERT is
# given) within 10 s.
wait_url() {
	for _ in $(seq 2000); do
		curl -sf ${2:+--cacert "$2"} "$1" >/dev/null 2>&1 && return 0
		sleep 0.005
	done
	return 1
}

# stop PID: ends one server this script started and waits for it.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# hearth_start DATA PORT PKI_PORT ADMIN_PORT HTTP01_PORT LOG [ARGS...]:
# hearth serve on loopback with the rate limits off, validating through
# the peer; sets HEARTH_PID. Returns once it was started (not ready).
hearth_start() {
	local d=$1 port=$2 pki=$3 admin=$4 h01=$5 log=$6
	shift 6
	"$B/server/hearth" serve --data "$d" --listen "127.0.0.1:$port" \
		--pki-listen "127.0.0.1:$pki" --admin-listen "127.0.0.1:$admin" \
		--http01-port "$h01" --resolver "127.0.0.1:$DNS_PORT" --caa-check 0 \
		"${NO_LIMITS[@]}" "$@" >>"$log" 2>&1 &
	HEARTH_PID=$!
	PIDS+=("$HEARTH_PID")
}

# server_pids PID: PID, its children and theirs (hearth, the signer's
# launcher and the signer).
server_pids() {
	local c g
	c=$(ps -o pid= --ppid "$1" | tr -d ' ' | tr '\n' ' ')
	g=$(for p in $c; do ps -o pid= --ppid "$p"; done | tr -d ' ' | tr '\n' ' ')
	echo "$1 $c $g"
}
