#!/usr/bin/env bash
# scale.sh: hearth with many certificates stored. Creates a CA (hearth
# init), measures hearth on the empty store, then fills the store with N
# certificates through bench_fill (acme/'s record functions, large
# batches, as a server would have filled it over 80 days, expired
# authorizations and abandoned orders cleaned by acme_cleanup as the
# server's timer does, through the span; CLEANUP=end: only once at its
# end, the worst case) and REVOKE of them revoked through
# acme_cert_revoke, and measures again. Reported, empty next to full:
#   - start-up: from exec to the first 200 from /readyz (admin listener:
#     store and signer answer), and to the first CRL served;
#   - private and file-backed memory (RssAnon, RssFile from
#     /proc/PID/status) after start and after the latency probe;
#   - newOrder and finalize latency, p50/p99 over PROBE real issuances by
#     one client (bench_acme; it polls every 20 ms, Retry-After ignored,
#     which changes neither step: no poll comes before either);
#   - store bytes per certificate (the data file as /metrics reports it,
#     free pages included), orders and authorizations included;
#   - the CRL of REVOKE revoked certificates: bench_fill builds it from the
#     store through a signer process as server/pki.c does (timed), and the
#     restarted server's CRL is fetched;
#   - the store alone (bench_store --shape: the durable commits of PROBE
#     issuances, shaped as acme/ writes them, without the rest of hearth)
#     on an empty store and on the full one, so the share of the store in
#     the latency is seen;
#   - the full store again with the page cache dropped first (as root), as
#     after a reboot: the server faults in only what it touches, not what
#     the fill left cached;
#   - with CLEANUP=end, the full store again after the compaction a backup
#     and restore make (hearth backup; docs/operations.md).
# Not part of the test suite.
#   N=1000000 tests/bench/scale.sh          # the issue's figure
#   N=1000000 CLEANUP=end tests/bench/scale.sh
#   N=100000 REVOKE=100000 PROBE=100 tests/bench/scale.sh
set -euo pipefail
# shellcheck source=tests/bench/common.sh
. "$(dirname "$0")/common.sh"
N=${N:-1000000}
REVOKE=${REVOKE:-100000}
PROBE=${PROBE:-200}
ACCOUNTS=${ACCOUNTS:-1000}
CLEANUP=${CLEANUP:-steady}
case $CLEANUP in steady|end) ;; *) echo "CLEANUP: steady or end" >&2; exit 2 ;; esac
[ "$REVOKE" -le "$N" ] || REVOKE=$N
bench_setup hearth bench_acme bench_fill bench_store
start_peer
HTTP01_PORT=$(free_port)
PORT=$(free_port)
PKI_PORT=$(free_port)
ADMIN_PORT=$(free_port)
PKI_URL="http://127.0.0.1:$PKI_PORT"
D="$W/data"

# start LOG: hearth on D, logging to LOG; sets HEARTH_PID, READY (seconds
# from exec to the first 200 from /readyz), CRL_READY (to the first CRL
# served) and CRL_PATH.
start() {
	local log=$1 t0 t1 t2 id=
	t0=$(date +%s.%N)
	hearth_start "$D" "$PORT" "$PKI_PORT" "$ADMIN_PORT" "$HTTP01_PORT" "$log" --pki-url "$PKI_URL"
	wait_url "http://127.0.0.1:$ADMIN_PORT/readyz" || { tail -n 20 "$log" >&2; exit 1; }
	t1=$(date +%s.%N)
	# The CRL's path names the intermediate; the log names it once built.
	for _ in $(seq 6000); do
		id=$(grep -o 'CRL [0-9]* of [0-9a-f]*' "$log" | head -n 1 | awk '{print $4}')
		[ -z "$id" ] || break
		sleep 0.005
	done
	CRL_PATH="/crl/$id.crl"
	wait_url "$PKI_URL$CRL_PATH" || { echo "no CRL at $PKI_URL$CRL_PATH" >&2; exit 1; }
	t2=$(date +%s.%N)
	READY=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	CRL_READY=$(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
}
drive() {  # drive TAG COUNT: PROBE issuances by one client, bench_acme's output
	"$B/tests/bench_acme" -c 1 -n "$2" -a 10 -p "$HTTP01_PORT" -t "$1" -i \
		"https://localhost:$PORT/directory" "$D/ca/root.crt"
}
step() {  # step FILE NAME: "p50 / p99" of one step of bench_acme's table
	awk -v s="$2" 'index($0, s) == 3 { n = split($0, f, " +"); print f[n-3] " / " f[n-1] }' "$1"
}
# RssAnon / RssFile of the serving process (the signer is a process apart).
mem() { awk '/^RssAnon|^RssFile/ { printf "%s%.1f", sep, $2 / 1024; sep = " / " }' "/proc/$HEARTH_PID/status"; }
metric() { curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk -v m="$1" '$1 == m { printf "%.0f", $2 }'; }

# measure LABEL TAG OUT: one row of the table, on the server just started.
measure() {
	local label=$1 tag=$2 out=$3 m0
	m0=$(mem)
	drive "$tag" "$PROBE" >"$out" || { tail -n 30 "$out" >&2; exit 1; }
	FILE=$(metric hearth_store_file_bytes)
	ROWS+=("| $label | $READY s | $CRL_READY s | $m0 MiB | $(mem) MiB | $(step "$out" newOrder) | $(step "$out" finalize) | $(awk -v f="$FILE" 'BEGIN { printf "%.1f", f / 1048576 }') MiB |")
}

ROWS=()
machine_line
load_line before
"$B/server/hearth" init --data "$D" >"$W/init.log" 2>&1
start "$W/log.empty"
measure "empty store" e "$W/empty.out"
stop "$HEARTH_PID"
echo "== bench_fill: $N certificates, $ACCOUNTS accounts, $REVOKE revoked, cleanup: $CLEANUP"
"$B/tests/bench_fill" "$D" "$N" "$PKI_URL" "$REVOKE" "$ACCOUNTS" 80 "$CLEANUP" | tee "$W/fill.out" | sed 's/^/  /'
start "$W/log.full"
measure "$N certificates (cleanup: $CLEANUP)" f "$W/full.out"
curl -s -o "$W/crl.der" "$PKI_URL$CRL_PATH"
crl_n=$(openssl crl -inform DER -in "$W/crl.der" -noout -text 2>/dev/null | grep -c 'Serial Number:' || true)
stop "$HEARTH_PID"
# The same store with the page cache dropped, as after a reboot: the
# server then faults in what it touches itself, not what the fill left.
if [ -w /proc/sys/vm/drop_caches ]; then
	sync
	echo 3 >/proc/sys/vm/drop_caches
	start "$W/log.cold"
	measure "$N certificates (cleanup: $CLEANUP), page cache dropped first" d "$W/cold.out"
	stop "$HEARTH_PID"
fi
if [ "$CLEANUP" = end ]; then
	# the remedy docs/operations.md gives: backup (a compacting copy), restore
	"$B/server/hearth" backup --data "$D" "$W/backup" >/dev/null
	mkdir -m 700 "$W/restored" "$W/restored/db"
	cp -a "$W/backup/ca" "$W/restored/ca"
	cp "$W/backup/db/data.mdb" "$W/restored/db/"
	rm -rf "$D"
	mv "$W/restored" "$D"
	start "$W/log.compact"
	measure "$N certificates, compacted (backup and restore)" c "$W/compact.out"
	stop "$HEARTH_PID"
fi
# The store alone: the same commits without the rest of hearth.
mkdir -p "$W/empty-store"
"$B/tests/bench_store" --shape "$W/empty-store" "$PROBE" >"$W/shape.empty"
"$B/tests/bench_store" --shape "$D/db" "$PROBE" >"$W/shape.full"
load_line after
echo "== hearth on an empty store and with $N certificates ($PROBE issuances by one client each)"
echo "| store | start-up to /readyz | to first CRL | RssAnon / RssFile after start | after the probe | newOrder p50 / p99 ms | finalize p50 / p99 ms | store file |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
certs=$((N + 2 * PROBE))
awk -v f="$FILE" -v n="$certs" 'BEGIN {
	printf "store bytes per certificate: %.0f (the data file of the last row over %d certificates, with their orders, authorizations and accounts)\n", f / n, n }'
echo "CRL served by the restarted server: $(stat -c %s "$W/crl.der") bytes, $crl_n entries; build timed by bench_fill: $(grep -o 'in [0-9.]*s$' "$W/fill.out" | tail -n 1 | cut -c4-)"
echo "== the store alone: durable commits shaped as acme/ writes them, one per write ($PROBE issuances)"
echo "empty store:"
sed 's/^/  /' "$W/shape.empty"
echo "$N certificates (the last store measured above):"
sed 's/^/  /' "$W/shape.full"
