#!/usr/bin/env bash
# compare.sh: hearth and Pebble side by side under the same load. For each
# level of concurrent clients, a fresh hearth (empty data directory) is
# started, driven by bench_acme and stopped; then a fresh Pebble (Debian's
# package, PEBBLE_VA_NOSLEEP=1, PEBBLE_WFE_NONCEREJECT=0) the same way.
# Both validate http-01 against bench_acme's responder and resolve names
# through the same pebble-challtestsrv. bench_acme registers ACCOUNTS
# accounts before its clock starts, rotates them across the clients,
# honours Retry-After and reads the server processes' CPU time (hearth,
# its signer launcher and signer; Pebble) from /proc over the issuing
# phase only. A level where no issuance completes for STALL seconds is
# stopped and its row says STALL with how many issuances were done; no
# ratio is given for it. A server that does not come up is reported as
# such, and the next level runs. Every port is picked free on loopback,
# so it runs beside the e2e tests. Not part of the test suite.
#   tests/bench/compare.sh                  # levels 1 16 64 256, 500 each
#   LEVELS="16 64" N=1000 ACCOUNTS=1000 STALL=15 tests/bench/compare.sh
#   EXTRA=--ignore-retry-after tests/bench/compare.sh
#   SERVERS=hearth LEVELS=64 tests/bench/compare.sh    # one side only
set -euo pipefail
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
LEVELS=${LEVELS:-"1 16 64 256"}
N=${N:-500}
ACCOUNTS=${ACCOUNTS:-1000}
STALL=${STALL:-15}
EXTRA=${EXTRA:-}
SERVERS=${SERVERS:-"hearth pebble"}
bench_setup hearth bench_acme
command -v pebble >/dev/null || apt-get install -y -qq pebble >/dev/null
HTTP01_PORT=$(free_port)

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

# drive OUT URL CACERT PIDS [ARGS...]: one bench_acme run at this level.
drive() {
	local out=$1 url=$2 ca=$3 pargs=() p
	for p in $4; do pargs+=(-P "$p"); done
	shift 4
	# shellcheck disable=SC2086
	"$B/tests/bench_acme" -c "$c" -n "$N" -a "$ACCOUNTS" -s "$STALL" -p "$HTTP01_PORT" \
		"${pargs[@]}" "$@" $EXTRA "$url" "$ca" >"$out" 2>&1 || true
}

# run_hearth CLIENTS: a fresh hearth driven once; bench_acme's output in
# $W/hearth-CLIENTS.out.
run_hearth() {
	local c=$1 d="$W/hearth-$1" port
	port=$(free_port)
	hearth_start "$d" "$port" "$(free_port)" "$(free_port)" "$HTTP01_PORT" "$W/hearth-$c.log"
	if ! wait_url "https://localhost:$port/directory" "$d/ca/root.crt"; then
		echo "hearth did not come up: $(tail -n 3 "$W/hearth-$c.log")" >"$W/hearth-$c.out"
		stop "$HEARTH_PID"
		return 0
	fi
	drive "$W/hearth-$c.out" "https://localhost:$port/directory" "$d/ca/root.crt" \
		"$(server_pids "$HEARTH_PID")" -t "h$c"
	echo "store after the level: $(du -sk "$d/db" | cut -f1) KiB" >>"$W/hearth-$c.out"
	stop "$HEARTH_PID"
}

# run_pebble CLIENTS: a fresh Pebble driven once; output in $W/pebble-CLIENTS.out.
run_pebble() {
	local c=$1 port mport pid
	port=$(free_port)
	mport=$(free_port)
	cat >"$W/pebble-$c.json" <<-EOC
	{"pebble": {"listenAddress": "127.0.0.1:$port",
	 "managementListenAddress": "127.0.0.1:$mport",
	 "certificate": "$W/ptls.pem", "privateKey": "$W/ptls.key",
	 "httpPort": $HTTP01_PORT, "tlsPort": $(free_port),
	 "ocspResponderURL": "", "externalAccountBindingRequired": false}}
	EOC
	PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 pebble -config "$W/pebble-$c.json" \
		-dnsserver "127.0.0.1:$DNS_PORT" >"$W/pebble-$c.log" 2>&1 &
	pid=$!
	PIDS+=("$pid")
	if ! wait_url "https://localhost:$port/dir" "$W/ptls-ca.pem" ||
		! curl -sf --cacert "$W/ptls-ca.pem" "https://localhost:$mport/roots/0" -o "$W/pebble-root-$c.pem"; then
		echo "pebble did not come up: $(tail -n 3 "$W/pebble-$c.log")" >"$W/pebble-$c.out"
		stop "$pid"
		return 0
	fi
	drive "$W/pebble-$c.out" "https://localhost:$port/dir" "$W/ptls-ca.pem" "$pid" \
		-t "p$c" -r "$W/pebble-root-$c.pem"
	stop "$pid"
}

# field FILE KEY: a value of bench_acme's RESULT line, or "-".
field() {
	local v
	v=$(grep -m1 '^RESULT ' "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p")
	echo "${v:--}"
}

# row CLIENTS: one line of the table. A stalled side shows STALL and the
# issuances it completed; a side with no RESULT line shows "no run"; a
# ratio needs both sides to have finished without a stall.
row() {
	local c=$1 h="$W/hearth-$1.out" p="$W/pebble-$1.out" k args=()
	for k in iss_per_s p99_ms server_cpu_ms errors stall "done"; do
		args+=(-v "h_$k=$(field "$h" "$k")" -v "p_$k=$(field "$p" "$k")")
	done
	awk -v c="$c" -v n="$N" "${args[@]}" '
	function ok(s) { return s == "0" }
	function show(v, s, d) {
		if (s == "-") return "no run"
		if (s == "1") return "STALL (" d "/" n ")"
		return v
	}
	function r(a, b) {
		if (!ok(h_stall) || !ok(p_stall) || a + 0 <= 0 || b + 0 <= 0) return "-"
		return sprintf("%.2f", a / b)
	}
	BEGIN {
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", c,
		    show(h_iss_per_s, h_stall, h_done), show(p_iss_per_s, p_stall, p_done),
		    r(h_iss_per_s, p_iss_per_s),
		    show(h_p99_ms, h_stall, h_done), show(p_p99_ms, p_stall, p_done),
		    r(h_p99_ms, p_p99_ms),
		    show(h_server_cpu_ms, h_stall, h_done), show(p_server_cpu_ms, p_stall, p_done),
		    r(h_server_cpu_ms, p_server_cpu_ms), h_errors, p_errors
	}'
}

machine_line
load_line before
echo "== $N issuances per level, $ACCOUNTS accounts, stall after ${STALL}s, ${EXTRA:-Retry-After honoured}"
start_peer
pebble_tls
for c in $LEVELS; do
	for s in $SERVERS; do
		echo "-- level $c: $s"
		"run_$s" "$c"
		sed 's/^/  /' "$W/$s-$c.out"
	done
done
load_line after
echo "== hearth vs Pebble (same generator, same peer, fresh servers per level)"
echo "| clients | hearth iss/s | Pebble iss/s | ratio | hearth p99 ms | Pebble p99 ms | ratio | hearth CPU ms/iss | Pebble CPU ms/iss | ratio | hearth errors | Pebble errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for c in $LEVELS; do row "$c"; done
echo "(iss/s ratio: hearth / Pebble, higher is better; p99 and CPU ratios: hearth / Pebble, lower is better;"
echo " STALL (done/N): no issuance for ${STALL}s, the level was stopped; no ratio is taken from a stalled level)"
