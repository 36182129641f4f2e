#!/usr/bin/env bash
# bench.sh: hearth's benchmark. Builds a release binary, measures the
# CPU-bound steps (bench_crypto) and the HTTPS front end under load with
# wrk (Debian package) on loopback, and prints the numbers that
# docs/performance.md records. Not part of the test suite.
#   tests/bench/bench.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-10}
B=build/bench
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target hearth bench_crypto >/dev/null
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null; }
W=$(mktemp -d)
PID=
trap 'kill $PID 2>/dev/null || true; rm -rf "$W"' EXIT

echo "== machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"

echo "== CPU-bound steps (one core)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/k" \
	-subj /CN=bench.corp.internal -addext subjectAltName=DNS:bench.corp.internal \
	-outform DER -out "$W/csr.der" 2>/dev/null
mkdir -p "$W/crypto"
"$B/tests/bench_crypto" "$W/crypto" "$W/csr.der" "$((SECS / 5 + 1))"

echo "== HTTPS front end (wrk, 2 threads, 50 connections, keep-alive)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$B/server/hearth" serve --data "$W/data" --listen "127.0.0.1:$PORT" >"$W/log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf --cacert "$W/data/ca/root.crt" "https://localhost:$PORT/directory" >/dev/null 2>&1 && break; sleep 0.1; done
for path in /directory /acme/new-nonce; do
	echo "-- GET $path"
	wrk -t2 -c50 -d"${SECS}s" "https://localhost:$PORT$path" | grep -E "Requests/sec|Latency|requests in"
done
