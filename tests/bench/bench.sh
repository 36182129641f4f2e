#!/usr/bin/env bash
# bench.sh: hearth's benchmark, one command from a clean checkout. Builds a
# release binary (or uses BUILD) and prints every figure docs/performance.md
# records, each next to what the machine allows without hearth:
#   1. the machine and its load;
#   2. the CPU-bound steps (bench_crypto: JWS, JWK, nonces, a leaf from a
#      CSR, a CRL of 100,000 entries) and JWS verification per algorithm
#      next to bare wolfCrypt (bench_jws), with the crypto's own limit for
#      a leaf (one CSR verify, one sign);
#   3. durable commits (bench_store, 1/4/16 writers) next to the disk's
#      synchronous 4 KiB writes per second (dd oflag=dsync);
#   4. TLS handshakes per second, full and resumed, against hearth's
#      listener next to wolfSSL's own cost in-process (bench_tls);
#   5. newNonce and /directory over HTTPS keep-alive (wrk) next to a bare
#      libevent server answering plain HTTP (bare_http), with the ratio;
#   6. hearth and Pebble side by side at 1, 16, 64 and 256 clients
#      (compare.sh: fresh servers per level, stalls reported as stalls);
#   7. hearth with SCALE_N certificates stored (scale.sh: bench_fill, then
#      memory, store bytes, start-up, latency, a CRL of REVOKE entries).
# Not part of the test suite; every port is picked free on loopback.
#   tests/bench/bench.sh              full run (10 s per step, 1,000,000
#                                     certificates: about an hour; a quiet
#                                     machine)
#   tests/bench/bench.sh --quick      every step with small counts (minutes)
#   LEVELS="16 64" N=500 SCALE_N=100000 tests/bench/bench.sh 10
#   BUILD=build tests/bench/bench.sh --quick     an existing build directory
#   HEARTH_WOLFSSL=system tests/bench/bench.sh   on Debian's libwolfssl
#   (default: fast, the optimised wolfSSL; see docs/building.md)
set -euo pipefail
QUICK=0
if [ "${1:-}" = "--quick" ]; then
	QUICK=1
	shift
fi
if [ "$QUICK" = 1 ]; then
	SECS=${1:-2}
	: "${LEVELS:=1 16}" "${N:=40}" "${STALL:=10}"
	: "${SCALE_N:=5000}" "${REVOKE:=1000}" "${PROBE:=20}"
else
	SECS=${1:-10}
	: "${LEVELS:=1 16 64 256}" "${N:=500}" "${STALL:=15}"
	: "${SCALE_N:=1000000}" "${REVOKE:=100000}" "${PROBE:=200}"
fi
export LEVELS N STALL REVOKE PROBE
HEARTH_WOLFSSL=${HEARTH_WOLFSSL:-fast}
BUILD=${BUILD:-build/bench-$HEARTH_WOLFSSL}
export HEARTH_WOLFSSL BUILD
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
[ -f "$B/CMakeCache.txt" ] ||
	cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DHEARTH_WOLFSSL="$HEARTH_WOLFSSL" >/dev/null
bench_setup hearth bench_crypto bench_jws bench_store bench_tls bench_acme bench_fill bare_http
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
STEP=$((SECS / 5 + 1))

# ops NAME FILE: the ops/s bench_crypto printed for NAME.
ops() { awk -v s="$1" 'index($0, s) == 1 { for (i = 1; i <= NF; i++) if ($(i + 1) == "ops/s") print $i }' "$2"; }
# ratio A B: A / B with two decimals, or "-".
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'; }
# rps FILE: wrk's requests per second.
rps() { awk '/^Requests\/sec/ { print $2 }' "$1"; }

machine_line
load_line before
"$B/server/hearth" version | sed -n 2p

echo "== CPU-bound steps (one core)"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/k" \
	-subj /CN=bench.corp.internal -addext subjectAltName=DNS:bench.corp.internal \
	-outform DER -out "$W/csr.der" 2>/dev/null
mkdir -p "$W/crypto"
"$B/tests/bench_crypto" "$W/crypto" "$W/csr.der" "$STEP" | tee "$W/crypto.out"
echo "-- JWS verify per algorithm, hearth's crypto/ next to bare wolfCrypt (900-byte input)"
"$B/tests/bench_jws" "$STEP" | tee "$W/jws.out" | grep -v '^LIMIT'
limit=$(sed -n 's/.*csr_to_cert_per_s=\([0-9]*\).*/\1/p' "$W/jws.out")
leaf=$(ops "CSR parse + leaf issue" "$W/crypto.out")
echo "-- limits: ECDSA P-256 sign $(sed -n 's/.*ecdsa_p256_sign_per_s=\([0-9]*\).*/\1/p' "$W/jws.out")/s, verify $(sed -n 's/.*ecdsa_p256_verify_per_s=\([0-9]*\).*/\1/p' "$W/jws.out")/s (bare wolfCrypt)"
echo "   CSR to certificate: hearth $leaf/s (crypto/: CSR parsed and checked, leaf signed in-process) next to $limit/s for one verify and one sign: ratio $(ratio "$leaf" "$limit")"

echo "== durable commits (bench_store, each write answered after its fsync'd commit)"
mkdir -p "$W/store"
"$B/tests/bench_store" "$W/store" "$STEP" 1 4 16
dd if=/dev/zero of="$W/store/dsync" bs=4096 count=300 oflag=dsync 2>"$W/dd.out"
dsync=$(awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") print 300 / $(i - 1) }' "$W/dd.out" | tr , .)
echo "-- limit: the disk takes $(printf '%.0f' "${dsync:-0}") synchronous 4 KiB writes/s (dd oflag=dsync); an LMDB commit syncs twice (data, then meta page), so one writer's limit is about $(awk -v d="${dsync:-0}" 'BEGIN { printf "%.0f", d / 2 }') commits/s"

echo "== TLS handshakes (ECDSA P-256 server certificate, as hearth's listener)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/tls.key" \
	-out "$W/tls.pem" -days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost 2>/dev/null
"$B/tests/bench_tls" limit "$W/tls.pem" "$W/tls.key" "$STEP"
DNS_PORT=$(free_port)   # no validation here: a resolver nobody answers on
PORT=$(free_port)
hearth_start "$W/data" "$PORT" "$(free_port)" "$(free_port)" "$(free_port)" "$W/log"
wait_url "https://localhost:$PORT/directory" "$W/data/ca/root.crt" || { cat "$W/log" >&2; exit 1; }
# shellcheck disable=SC2046
"$B/tests/bench_tls" hearth localhost "$PORT" "$W/data/ca/root.crt" "$STEP" 4 $(server_pids "$HEARTH_PID")

echo "== HTTPS front end (wrk, 2 threads, 50 connections, keep-alive) next to bare libevent plain HTTP"
for path in /directory /acme/new-nonce; do
	echo "-- hearth HTTPS GET $path"
	wrk -t2 -c50 -d"${SECS}s" "https://localhost:$PORT$path" | tee "$W/wrk$(basename "$path")" |
		grep -E "Requests/sec|Latency|requests in|Non-2xx"
done
stop "$HEARTH_PID"
BPORT=$(free_port)
"$B/tests/bare_http" "$BPORT" "$(nproc)" &
BARE=$!
PIDS+=("$BARE")
wait_url "http://127.0.0.1:$BPORT/acme/new-nonce" || { echo "bare_http did not come up" >&2; exit 1; }
echo "-- bare libevent plain HTTP GET /acme/new-nonce ($(nproc) loops)"
wrk -t2 -c50 -d"${SECS}s" "http://127.0.0.1:$BPORT/acme/new-nonce" | tee "$W/wrk-bare" |
	grep -E "Requests/sec|Latency|requests in|Non-2xx"
stop "$BARE"
echo "-- newNonce over HTTPS keep-alive / bare plain HTTP: $(ratio "$(rps "$W/wrk"new-nonce)" "$(rps "$W/wrk-bare")") (target: at least 0.50)"

echo "== hearth and Pebble side by side (compare.sh)"
tests/bench/compare.sh
echo "== scale (scale.sh, $SCALE_N certificates, $REVOKE revoked)"
N=$SCALE_N tests/bench/scale.sh
load_line after
