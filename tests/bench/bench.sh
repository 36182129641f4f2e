#!/usr/bin/env bash
# bench.sh: hearth's benchmark. Builds a release binary, measures the
# CPU-bound steps (bench_crypto), the HTTPS front end under load with wrk
# (Debian package) on loopback, and whole ACME issuances end to end
# (bench_acme, http-01 answered on loopback through pebble-challtestsrv as
# DNS), and prints the numbers that docs/performance.md records. Not part
# of the test suite. The issuance part binds the fixed ports of the
# loopback end-to-end tests, so it waits for their machine-wide lock.
#   tests/bench/bench.sh [seconds]
#   HEARTH_WOLFSSL=system tests/bench/bench.sh   on Debian's libwolfssl
#   (default: fast, the optimised wolfSSL; see docs/building.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
ACME_RUNS=${ACME_RUNS:-"1:300 16:2000"}    # clients:issuances, per run
WOLFSSL=${HEARTH_WOLFSSL:-fast}
B=build/bench-$WOLFSSL
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DHEARTH_WOLFSSL="$WOLFSSL" >/dev/null
cmake --build "$B" -j"$(nproc)" --target hearth bench_crypto bench_acme >/dev/null
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
command -v pebble-challtestsrv >/dev/null || { apt-get install -y -qq pebble >/dev/null; }
W=$(mktemp -d)
PID=
# loopback.sh's start_dns records its process in PIDS and logs under WORK
PIDS=()
WORK=$W
trap 'kill $PID "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$W"' EXIT

# cpu_ticks PID: CPU time (user + system, clock ticks) of a process and
# its children (hearth's signer process).
cpu_ticks() {
	local p t=0
	for p in "$1" $(ps -o pid= --ppid "$1"); do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
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
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$B/server/hearth" version | sed -n 2p

echo "== CPU-bound steps (one core)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/k" \
	-subj /CN=bench.corp.internal -addext subjectAltName=DNS:bench.corp.internal \
	-outform DER -out "$W/csr.der" 2>/dev/null
mkdir -p "$W/crypto"
"$B/tests/bench_crypto" "$W/crypto" "$W/csr.der" "$((SECS / 5 + 1))"

echo "== HTTPS front end (wrk, 2 threads, 50 connections, keep-alive)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/server/hearth" serve --data "$W/data" --listen "127.0.0.1:$PORT" --pki-listen off >"$W/log" 2>&1 &
PID=$!
wait_up "$W/data" "$PORT"
for path in /directory /acme/new-nonce; do
	echo "-- GET $path"
	wrk -t2 -c50 -d"${SECS}s" "https://localhost:$PORT$path" | grep -E "Requests/sec|Latency|requests in"
done
kill "$PID"
wait "$PID" 2>/dev/null || true
PID=

echo "== ACME issuance end to end (bench_acme; hearth with $(nproc) event loops, the client on the same cores)"
# shellcheck source=tests/e2e/loopback.sh
. tests/e2e/loopback.sh
echo "(waiting for the fixed-ports lock of the loopback e2e tests, if held)"
require_fixed_ports
start_dns
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/server/hearth" serve --data "$W/acme" --listen "127.0.0.1:$PORT" --pki-listen off \
	--http01-port "$HTTP01_PORT" --resolver "127.0.0.1:$DNS_PORT" --caa-check 0 \
	>"$W/log" 2>&1 &
PID=$!
wait_up "$W/acme" "$PORT"
HZ=$(getconf CLK_TCK)
for run in $ACME_RUNS; do
	echo "-- concurrency ${run%%:*}, ${run##*:} issuances"
	s0=$(cpu_ticks "$PID")
	d0=$(cpu_ticks "$DNS_PID")
	rc=0
	"$B/tests/bench_acme" -c "${run%%:*}" -n "${run##*:}" -p "$HTTP01_PORT" \
		-t "c${run%%:*}" "https://localhost:$PORT" "$W/acme/ca/root.crt" || rc=$?
	s1=$(cpu_ticks "$PID")
	d1=$(cpu_ticks "$DNS_PID")
	awk -v s=$((s1 - s0)) -v d=$((d1 - d0)) -v hz="$HZ" -v n="${run##*:}" 'BEGIN {
		printf "  server CPU (hearth and its signer) %.2f s = %.2f ms per issuance; DNS server %.2f s\n",
			s / hz, s * 1000 / hz / n, d / hz }'
	[ "$rc" -eq 0 ] || { echo "bench_acme failed ($rc); the end of the server log:" >&2; tail -n 20 "$W/log" >&2; exit 1; }
done
echo "  database after the runs: $(du -sh "$W/acme/db" | cut -f1)"
