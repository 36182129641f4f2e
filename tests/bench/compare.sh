#!/usr/bin/env bash
# compare.sh: hearth and Pebble side by side under the same load. For each
# level of concurrent clients, a fresh hearth (empty data directory) is
# started, driven by bench_acme and stopped; then a fresh Pebble (Debian's
# package, PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0) the same way.
# Both validate http-01 against bench_acme's responder and resolve names
# through the same pebble-challtestsrv. bench_acme registers ACCOUNTS
# accounts before its clock starts, rotates them across the clients,
# honours Retry-After and reads the server processes' CPU time (hearth
# and its signer; Pebble) from /proc over the issuing phase only. A level
# where no issuance completes for STALL seconds is reported as a stall.
# Every port is picked free on loopback, so it runs beside the e2e tests.
# Not part of the test suite.
#   tests/bench/compare.sh                  # levels 1 16 64 256, 500 each
#   LEVELS="16 64" N=1000 ACCOUNTS=1000 STALL=15 tests/bench/compare.sh
#   EXTRA=--ignore-retry-after tests/bench/compare.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
LEVELS=${LEVELS:-"1 16 64 256"}
N=${N:-500}
ACCOUNTS=${ACCOUNTS:-1000}
STALL=${STALL:-15}
EXTRA=${EXTRA:-}
B=${BUILD:-build/bench}
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$B" -j"$(nproc)" --target hearth bench_acme >/dev/null
command -v pebble >/dev/null || apt-get install -y -qq pebble >/dev/null
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
DNS_MGMT_PORT=$(free_port)
HTTP01_PORT=$(free_port)

# The DNS peer both servers use: every A query answered with 127.0.0.1.
start_peer() {
	pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		-dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$DNS_MGMT_PORT" >"$W/peer.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 100); do
		grep -q "Starting management server" "$W/peer.log" && return 0
		sleep 0.1
	done
	echo "pebble-challtestsrv did not start:" >&2
	cat "$W/peer.log" >&2
	return 1
}

# Pebble's HTTPS certificate: Debian's package ships none, so a small CA
# and a localhost leaf are made here; bench_acme trusts that CA.
pebble_tls() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$W/ptls-ca.key" -out "$W/ptls-ca.pem" -days 2 -subj /CN=bench-pebble-tls-ca \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$W/ptls.key" -out "$W/ptls.csr" -subj /CN=localhost 2>/dev/null
	openssl x509 -req -in "$W/ptls.csr" -CA "$W/ptls-ca.pem" -CAkey "$W/ptls-ca.key" \
		-CAcreateserial -days 2 -out "$W/ptls.pem" \
		-extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
}

# wait_url URL CACERT: the server answers its directory over TLS.
wait_url() {
	for _ in $(seq 200); do
		curl -sf --cacert "$2" "$1" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}

# stop PID: ends one server this script started and waits for it.
stop() {
	kill "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# run_hearth CLIENTS: a fresh hearth driven once; bench_acme's output in
# $W/hearth-CLIENTS.out.
run_hearth() {
	local c=$1 d="$W/hearth-$1" port pid signer
	port=$(free_port)
	"$B/server/hearth" serve --data "$d" --listen "127.0.0.1:$port" --pki-listen "127.0.0.1:$(free_port)" \
		--http01-port "$HTTP01_PORT" --resolver "127.0.0.1:$DNS_PORT" --caa-check 0 \
		"${NO_LIMITS[@]}" \
		>"$W/hearth-$c.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	wait_url "https://localhost:$port/directory" "$d/ca/root.crt" ||
		{ echo "hearth did not come up" >&2; cat "$W/hearth-$c.log" >&2; return 1; }
	signer=$(ps -o pid= --ppid "$pid" | tr -d ' ' | tr '\n' ' ')
	local pargs=(-P "$pid")
	for s in $signer; do pargs+=(-P "$s"); done
	# shellcheck disable=SC2086
	"$B/tests/bench_acme" -c "$c" -n "$N" -a "$ACCOUNTS" -s "$STALL" -p "$HTTP01_PORT" \
		-t "h$c" "${pargs[@]}" $EXTRA "https://localhost:$port/directory" "$d/ca/root.crt" \
		>"$W/hearth-$c.out" 2>&1 || true
	echo "  store after the level: $(du -sk "$d/db" | cut -f1) KiB" >>"$W/hearth-$c.out"
	stop "$pid"
	return 0
}

# run_pebble CLIENTS: a fresh Pebble driven once; output in $W/pebble-CLIENTS.out.
run_pebble() {
	local c=$1 port mport pid
	port=$(free_port)
	mport=$(free_port)
	cat >"$W/pebble-$c.json" <<-EOF
	{"pebble": {"listenAddress": "127.0.0.1:$port",
	 "managementListenAddress": "127.0.0.1:$mport",
	 "certificate": "$W/ptls.pem", "privateKey": "$W/ptls.key",
	 "httpPort": $HTTP01_PORT, "tlsPort": $(free_port),
	 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
	EOF
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$W/pebble-$c.json" \
		-dnsserver "127.0.0.1:$DNS_PORT" >"$W/pebble-$c.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_url "https://localhost:$port/dir" "$W/ptls-ca.pem" ||
		! curl -sf --cacert "$W/ptls-ca.pem" "https://localhost:$mport/roots/0" -o "$W/pebble-root-$c.pem"; then
		echo "pebble did not come up" >&2
		cat "$W/pebble-$c.log" >&2
		return 1
	fi
	# shellcheck disable=SC2086
	"$B/tests/bench_acme" -c "$c" -n "$N" -a "$ACCOUNTS" -s "$STALL" -p "$HTTP01_PORT" \
		-t "p$c" -P "$pid" -r "$W/pebble-root-$c.pem" $EXTRA \
		"https://localhost:$port/dir" "$W/ptls-ca.pem" >"$W/pebble-$c.out" 2>&1 || true
	stop "$pid"
	return 0
}

# field FILE KEY: a value of bench_acme's RESULT line, or "-".
field() {
	local v
	v=$(grep -m1 '^RESULT ' "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p")
	echo "${v:--}"
}

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $N issuances per level, $ACCOUNTS accounts, stall after ${STALL}s, ${EXTRA:-Retry-After honoured}"
start_peer
pebble_tls
for c in $LEVELS; do
	echo "-- level $c: hearth"
	run_hearth "$c"
	sed 's/^/  /' "$W/hearth-$c.out"
	echo "-- level $c: pebble"
	run_pebble "$c"
	sed 's/^/  /' "$W/pebble-$c.out"
done
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== hearth vs Pebble (same generator, same peer, fresh servers per level)"
printf '| clients | hearth iss/s | Pebble iss/s | ratio | hearth p99 ms | Pebble p99 ms | ratio | hearth CPU ms/iss | Pebble CPU ms/iss | ratio | hearth errors/stall | Pebble errors/stall |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for c in $LEVELS; do
	h="$W/hearth-$c.out"
	p="$W/pebble-$c.out"
	awk -v c="$c" -v hi="$(field "$h" iss_per_s)" -v pi="$(field "$p" iss_per_s)" \
		-v hp="$(field "$h" p99_ms)" -v pp="$(field "$p" p99_ms)" \
		-v hc="$(field "$h" server_cpu_ms)" -v pc="$(field "$p" server_cpu_ms)" \
		-v he="$(field "$h" errors)" -v pe="$(field "$p" errors)" \
		-v hs="$(field "$h" stall)" -v ps="$(field "$p" stall)" '
	function r(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.2f", a / b) : "-" }
	function st(e, s) { return e "/" (s == 1 ? "STALL" : s == "-" ? "-" : "no") }
	BEGIN {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			c, hi, pi, r(hi, pi), hp, pp, r(hp, pp), hc, pc, r(hc, pc), st(he, hs), st(pe, ps)
	}'
done
echo "(iss/s ratio: hearth / Pebble, higher is better; p99 and CPU ratios: hearth / Pebble, lower is better)"
