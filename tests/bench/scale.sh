#!/usr/bin/env bash
# scale.sh: hearth with many certificates stored. Fills a fresh store with
# N certificates through the real server (bench_acme, 16 clients, 1,000
# accounts, Retry-After ignored so the fill is quick), then restarts
# hearth on it and reports: the time from exec to the first /directory
# answer, private and file-backed memory (RssAnon, RssFile from
# /proc/PID/status) after a latency run, the store's bytes per certificate,
# and newOrder and finalize latency (one client, p50/p99) next to the same
# measurement on the empty store. The CRL of 100,000 revoked certificates
# is bench_crypto's (bench.sh). Not part of the test suite.
#   N=20000 tests/bench/scale.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-20000}
PROBE=${PROBE:-200}
B=${BUILD:-build/bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target hearth bench_acme >/dev/null
W=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
# All load comes from 127.0.0.1, where a fleet would come from many
# addresses: the per-source and per-account rate limits are turned off.
NO_LIMITS=(--limit-accounts 0 --limit-nonces 0 --limit-orders 0 --limit-conns-per-source 0)
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
DNS_PORT=$(free_port)
HTTP01_PORT=$(free_port)
PORT=$(free_port)
PKI_PORT=$(free_port)
D="$W/data"
pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" -dns01 "127.0.0.1:$DNS_PORT" \
	-http01 "" -https01 "" -tlsalpn01 "" -management "127.0.0.1:$(free_port)" >"$W/peer.log" 2>&1 &
PIDS+=($!)

# start: hearth on D; sets PID and STARTUP (seconds from exec to the first
# /directory answer).
start() {
	local t0 t1
	t0=$(date +%s.%N)
	"$B/server/hearth" serve --data "$D" --listen "127.0.0.1:$PORT" --pki-listen "127.0.0.1:$PKI_PORT" \
		--http01-port "$HTTP01_PORT" --resolver "127.0.0.1:$DNS_PORT" --caa-check 0 \
		"${NO_LIMITS[@]}" >>"$W/log" 2>&1 &
	PID=$!
	PIDS+=("$PID")
	until [ -f "$D/ca/root.crt" ] && curl -sf --cacert "$D/ca/root.crt" "https://localhost:$PORT/directory" -o /dev/null; do
		kill -0 "$PID" || { cat "$W/log" >&2; exit 1; }
		sleep 0.005
	done
	t1=$(date +%s.%N)
	STARTUP=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; }
drive() {  # drive TAG CLIENTS COUNT ACCOUNTS [extra]: bench_acme's output
	local tag=$1 c=$2 n=$3 a=$4
	shift 4
	"$B/tests/bench_acme" -c "$c" -n "$n" -a "$a" -p "$HTTP01_PORT" -t "$tag" -i "$@" \
		"https://localhost:$PORT/directory" "$D/ca/root.crt"
}
step() {  # step FILE NAME: "p50 / p99" of one step of bench_acme's table
	awk -v s="$2" 'index($0, s) == 3 { n = split($0, f, " +"); print f[n-3] " / " f[n-1] }' "$1"
}
mem() { grep -E '^(RssAnon|RssFile)' "/proc/$PID/status" | awk '{printf "%s %.1f MiB  ", $1, $2 / 1024}'; }

echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start
echo "empty store: start-up (CA creation included) ${STARTUP}s; $(mem)"
drive e 1 "$PROBE" 10 >"$W/empty.out"
echo "empty store, one client, $PROBE issuances: newOrder p50/p99 $(step "$W/empty.out" newOrder) ms; finalize $(step "$W/empty.out" finalize) ms"
t0=$(date +%s)
drive f 16 "$N" 1000 >"$W/fill.out" || { tail -n 30 "$W/fill.out" >&2; exit 1; }
echo "filled $N certificates in $(( $(date +%s) - t0 ))s: $(grep -m1 '^clients' "$W/fill.out")"
stop
bytes=$(du -sb "$D/db" | cut -f1)
certs=$((N + PROBE))
start
echo "$certs certificates: start-up ${STARTUP}s"
drive l 1 "$PROBE" 10 >"$W/full.out"
echo "$certs certificates, one client, $PROBE issuances: newOrder p50/p99 $(step "$W/full.out" newOrder) ms; finalize $(step "$W/full.out" finalize) ms"
echo "$certs certificates: $(mem)"
awk -v b="$bytes" -v n="$certs" 'BEGIN { printf "store: %d bytes on disk = %.0f bytes per certificate (orders and authorizations included); extrapolated to 1,000,000: %.2f GB\n", b, b / n, b / n * 1e6 / 1e9 }'
stop
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
