#!/usr/bin/env bash
# bench.sh: hearth's benchmark, one command from a clean checkout. Builds a
# release binary and prints every figure docs/performance.md records:
#   1. the machine and its load;
#   2. the CPU-bound steps (bench_crypto: JWS, JWK, nonces, leaf issuance,
#      a CRL of 100,000 entries) and JWS verification per algorithm next
#      to bare wolfCrypt (bench_jws);
#   3. newNonce and /directory over HTTPS keep-alive (wrk) next to a bare
#      libevent server answering plain HTTP (bare_http);
#   4. hearth and Pebble side by side at 1, 16, 64 and 256 clients
#      (compare.sh: fresh servers per level, 1,000 accounts, Retry-After
#      honoured, server CPU from /proc);
#   5. hearth with SCALE_N certificates stored (scale.sh).
# Not part of the test suite; every port is picked free on loopback.
#   tests/bench/bench.sh [seconds]
#   LEVELS="16 64" N=500 SCALE_N=100000 tests/bench/bench.sh 10
#   HEARTH_WOLFSSL=system tests/bench/bench.sh   on Debian's libwolfssl
#   (default: fast, the optimised wolfSSL; see docs/building.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
SCALE_N=${SCALE_N:-20000}
WOLFSSL=${HEARTH_WOLFSSL:-fast}
B=build/bench-$WOLFSSL
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DHEARTH_WOLFSSL="$WOLFSSL" >/dev/null
cmake --build "$B" -j"$(nproc)" --target hearth bench_crypto bench_jws bench_acme bare_http >/dev/null
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
command -v pebble-challtestsrv >/dev/null || { apt-get install -y -qq pebble >/dev/null; }
W=$(mktemp -d)
PID=
trap 'kill $PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_up DATA_DIR PORT: the server answers GET /directory over TLS.
wait_up() {
	for _ in $(seq 100); do
		curl -sf --cacert "$1/ca/root.crt" "https://localhost:$2/directory" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "hearth did not come up:" >&2
	cat "$W/log" >&2
	return 1
}

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/server/hearth" version | sed -n 2p

echo "== CPU-bound steps (one core)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/k" \
	-subj /CN=bench.corp.internal -addext subjectAltName=DNS:bench.corp.internal \
	-outform DER -out "$W/csr.der" 2>/dev/null
mkdir -p "$W/crypto"
"$B/tests/bench_crypto" "$W/crypto" "$W/csr.der" "$((SECS / 5 + 1))"
echo "-- JWS verify per algorithm, hearth's crypto/ next to bare wolfCrypt (900-byte input)"
"$B/tests/bench_jws" "$((SECS / 5 + 1))"

echo "== HTTPS front end (wrk, 2 threads, 50 connections, keep-alive) next to bare libevent plain HTTP"
PORT=$(free_port)
"$B/server/hearth" serve --data "$W/data" --listen "127.0.0.1:$PORT" --pki-listen "127.0.0.1:$(free_port)" \
	--limit-nonces 0 --limit-conns-per-source 0 >"$W/log" 2>&1 &
PID=$!
wait_up "$W/data" "$PORT"
for path in /directory /acme/new-nonce; do
	echo "-- hearth HTTPS GET $path"
	wrk -t2 -c50 -d"${SECS}s" "https://localhost:$PORT$path" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
done
kill "$PID"
wait "$PID" 2>/dev/null || true
BPORT=$(free_port)
"$B/tests/bare_http" "$BPORT" "$(nproc)" &
PID=$!
sleep 0.3
echo "-- bare libevent plain HTTP GET /acme/new-nonce ($(nproc) loops)"
wrk -t2 -c50 -d"${SECS}s" "http://127.0.0.1:$BPORT/acme/new-nonce" | grep -E "Requests/sec|Latency|requests in|Non-2xx"
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=

echo "== hearth and Pebble side by side (compare.sh)"
BUILD=$B tests/bench/compare.sh
echo "== scale (scale.sh, $SCALE_N certificates)"
BUILD=$B N=$SCALE_N tests/bench/scale.sh
