#!/usr/bin/env bash
# replicas.sh: issuances per second and p99 latency of one whole issuance
# on the three shapes of docs/high-availability.md, under the same load:
# one hearth on LMDB, one hearth on PostgreSQL, and two hearth replicas on
# that PostgreSQL behind HAProxy (TCP mode, round-robin; TLS passes
# through). Each shape starts fresh (an empty data directory, a new
# database) and is driven by one bench_acme run (CLIENTS keep-alive
# clients, N issuances, ACCOUNTS accounts; behind HAProxy each client's
# connection stays on one replica). PostgreSQL is a server of the run's
# own (tests/e2e/pg.sh, on a Unix socket), on the same machine, as are
# the replicas, so two replicas share the cores one server had: the row
# shows the cost of sharing state, not the gain of a second machine. Not
# part of the test suite; docs/performance.md records its numbers.
#   tests/bench/replicas.sh
#   CLIENTS=32 N=1000 tests/bench/replicas.sh
#   SERVE_ARGS="--store-threads 4" tests/bench/replicas.sh   # every server gets them
set -euo pipefail
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
# shellcheck source=tests/e2e/pg.sh
. tests/e2e/pg.sh
CLIENTS=${CLIENTS:-16}
N=${N:-300}
ACCOUNTS=${ACCOUNTS:-200}
STALL=${STALL:-30}
bench_setup hearth bench_acme
trap 'pg_stop; bench_cleanup' EXIT
command -v haproxy >/dev/null || apt-get install -y -qq haproxy >/dev/null
HTTP01_PORT=$(free_port)

# drive NAME URL CACERT PIDS: one bench_acme run; its output in $W/NAME.out.
drive() {
	local pargs=() p
	for p in $4; do pargs+=(-P "$p"); done
	"$B/tests/bench_acme" -c "$CLIENTS" -n "$N" -a "$ACCOUNTS" -s "$STALL" \
		-p "$HTTP01_PORT" -t "$1" "${pargs[@]}" "$2" "$3" >"$W/$1.out" 2>&1 || true
}

# serve NAME DATA PORT [ARGS...]: hearth_start with fresh ports; waits
# until it answers. Sets HEARTH_PID.
serve() {
	local name=$1 d=$2 port=$3
	shift 3
	# shellcheck disable=SC2086
	hearth_start "$d" "$port" "$(free_port)" "$(free_port)" "$HTTP01_PORT" "$W/$name.log" "$@" ${SERVE_ARGS:-}
	wait_url "https://localhost:$port/directory" "$d/ca/root.crt" ||
		{ echo "$name did not come up: $(tail -n 3 "$W/$name.log")" >&2; return 1; }
}

run_lmdb() {
	local port
	port=$(free_port)
	serve lmdb "$W/lmdb" "$port"
	drive lmdb "https://localhost:$port/directory" "$W/lmdb/ca/root.crt" "$(server_pids "$HEARTH_PID")"
	stop "$HEARTH_PID"
}

run_pg1() {
	local port uri
	port=$(free_port)
	uri=$(pg_createdb bench_pg1)
	serve pg1 "$W/pg1" "$port" --store "$uri"
	drive pg1 "https://localhost:$port/directory" "$W/pg1/ca/root.crt" "$(server_pids "$HEARTH_PID")"
	stop "$HEARTH_PID"
}

# run_pg2: two replicas, one CA (copied), behind HAProxy.
run_pg2() {
	local lb p1 p2 uri pids
	lb=$(free_port)
	p1=$(free_port)
	p2=$(free_port)
	uri=$(pg_createdb bench_pg2)
	"$B/server/hearth" init --data "$W/pg2a" >/dev/null 2>&1
	mkdir -p "$W/pg2b"
	cp -a "$W/pg2a/ca" "$W/pg2b/ca"
	serve pg2a "$W/pg2a" "$p1" --store "$uri" --base-url "https://localhost:$lb"
	pids=$(server_pids "$HEARTH_PID")
	serve pg2b "$W/pg2b" "$p2" --store "$uri" --base-url "https://localhost:$lb"
	pids="$pids $(server_pids "$HEARTH_PID")"
	cat >"$W/haproxy.cfg" <<-EOF
	defaults
	    mode tcp
	    timeout connect 2s
	    timeout client 60s
	    timeout server 60s
	frontend acme
	    bind 127.0.0.1:$lb
	    default_backend hearth
	backend hearth
	    balance roundrobin
	    server r1 127.0.0.1:$p1
	    server r2 127.0.0.1:$p2
	EOF
	haproxy -db -f "$W/haproxy.cfg" >"$W/haproxy.log" 2>&1 &
	PIDS+=($!)
	wait_url "https://localhost:$lb/directory" "$W/pg2a/ca/root.crt"
	drive pg2 "https://localhost:$lb/directory" "$W/pg2a/ca/root.crt" "$pids"
}

field() {
	local v
	v=$(grep -m1 '^RESULT ' "$W/$1.out" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p")
	echo "${v:--}"
}

row() {
	local s=$1 what=$2
	[ "$(field "$s" stall)" = 1 ] && what="$what (STALL after $(field "$s" done))"
	printf '| %s | %s | %s | %s | %s |\n' "$what" "$(field "$s" iss_per_s)" \
		"$(field "$s" p99_ms)" "$(field "$s" server_cpu_ms)" "$(field "$s" errors)"
}

machine_line
load_line before
echo "== $N issuances, $CLIENTS clients, $ACCOUNTS accounts, Retry-After honoured"
start_peer
pg_start
run_lmdb
run_pg1
run_pg2
load_line after
echo
echo "| store | issuances/s | p99 ms (whole issuance) | hearth CPU ms per issuance (not PostgreSQL's) | errors |"
echo "|---|---|---|---|---|"
row lmdb "LMDB, one server"
row pg1 "PostgreSQL, one server"
row pg2 "PostgreSQL, two replicas behind HAProxy"
