#!/usr/bin/env bash
# test_reload.sh: SIGHUP reloads the --config file. A name the file's policy
# refuses is refused at newOrder (lego); the file is changed to allow it and
# to add a profile, SIGHUP, and the same order passes, the directory offers
# the new profile, and a keep-alive connection opened before the reload
# still answers on the same socket. A file with an unknown key is refused
# naming file, line and key, and the configuration in force stays (the name
# still passes, the profile is still offered). A rate limit changed by a
# reload takes effect (newNonce answers 429), and a start-only setting is
# reported as needing a restart. A reload from log-level info to warn stops
# info lines (the access log among them) while warnings still come; a bad
# level is refused naming file, line and key, and warn stays in force.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
F="$WORK/hearth.conf"
# started as root, the server re-reads F as its serving user after the
# privilege drop (docs/operations.md): the file must be reachable by it
chmod 755 "$WORK"
PORT=$(free_port)
URL="https://localhost:$PORT"
require_fixed_ports
start_dns
printf 'allow-dns = corp.internal\n' >"$F"
start_acme_server "$D" "$PORT" --config "$F"
ROOT="$D/ca/root.crt"

export LEGO_CA_CERTIFICATES="$ROOT"
L="$WORK/lego"
LEGO=(lego --server "$URL/directory" --email admin@corp.internal --accept-tos
	--path "$L" --http --http.port ":$HTTP01_PORT")

# eventually COMMAND...: succeeds within 60 tries half a second apart.
eventually() {
	local i
	for i in $(seq 1 60); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	return 1
}
# reloaded N: the server's log shows N outcomes of a reload (applied or
# refused), so the test waits for the reload it asked for.
reloaded() {
	test "$(grep -cE 'reload: (applied|refused)' "$SERVER_LOG")" -ge "$1"
}
# profiles: the directory's meta.profiles names, sorted, comma-separated.
profiles() {
	curl -sf --cacert "$ROOT" "$URL/directory" | python3 -c \
		'import json,sys; print(",".join(sorted(json.load(sys.stdin)["meta"]["profiles"])))'
}
# nonce_status: the HTTP status of one newNonce.
nonce_status() {
	curl -s --cacert "$ROOT" -o /dev/null -w '%{http_code}' -I "$URL/acme/new-nonce"
}

check "the directory offers the default profiles" test "$(profiles)" = "classic,shortlived"
check_not "lego: a.lab.example is refused by the policy" logged lego-refused \
	"${LEGO[@]}" --domains a.lab.example run
check "... at newOrder, as rejectedIdentifier" grep -q "rejectedIdentifier" "$WORK/lego-refused.out"

# A keep-alive connection, opened before the reload and used after it.
python3 - "$PORT" "$ROOT" "$WORK" <<'PY' &
import http.client, os, ssl, sys, time
port, root, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=root)
c = http.client.HTTPSConnection("localhost", port, context=ctx)
c.request("GET", "/directory"); r = c.getresponse(); r.read()
sock = c.sock
open(os.path.join(work, "ka.ready"), "w").close()
while not os.path.exists(os.path.join(work, "ka.go")):
    time.sleep(0.05)
c.request("GET", "/directory"); r2 = c.getresponse(); body = r2.read()
ok = r.status == 200 and r2.status == 200 and c.sock is sock and b"tiny" in body
open(os.path.join(work, "ka.result"), "w").write("same-connection" if ok else "failed")
PY
KA_PID=$!
PIDS+=("$KA_PID")
check "the keep-alive connection is open" eventually test -f "$WORK/ka.ready"

cat >"$F" <<'CONF'
allow-dns = corp.internal
allow-dns = lab.example
profile = classic:90d
profile = tiny:1d
CONF
kill -HUP "$SERVER_PID"
check "the reload is applied" eventually reloaded 1
check "... and logged as applied" grep -q "reload: applied: name policy, 2 profiles" "$SERVER_LOG"
check "... the signer restarted with the new policy" grep -q \
	"reload: signer process restarted with the new policy" "$SERVER_LOG"
check "the log states the new policy" grep -q \
	"issuing only for names the policy allows: DNS: corp.internal, lab.example" "$SERVER_LOG"
touch "$WORK/ka.go"
wait "$KA_PID" || true
check "the keep-alive connection opened before the reload answers after it" \
	test "$(cat "$WORK/ka.result" 2>/dev/null)" = "same-connection"
check "the directory offers the new profile set" test "$(profiles)" = "classic,tiny"
check "lego: a.lab.example now passes" logged lego-allowed \
	"${LEGO[@]}" --domains a.lab.example run
check "the signer signed it (the policy reached the signer process)" \
	test -s "$L/certificates/a.lab.example.crt"
check "server stays alive" kill -0 "$SERVER_PID"

# A bad file: refused with file, line and key; the old configuration stays.
printf 'allow-dns = corp.internal\nbogus-key = 1\n' >"$F"
kill -HUP "$SERVER_PID"
check "the bad file's reload is refused" eventually reloaded 2
check "... naming file, line and key" grep -qF "$F:2: unknown key \"bogus-key\"" "$SERVER_LOG"
check "... and keeping the configuration in force" grep -q \
	"reload: refused (the reason is above); the configuration in force stays" "$SERVER_LOG"
check "the directory still offers the reloaded profiles" test "$(profiles)" = "classic,tiny"
check "lego: b.lab.example still passes under the configuration in force" \
	logged lego-kept "${LEGO[@]}" --domains b.lab.example run

# Limits change at run time; start-only settings wait for a restart.
check "newNonce answers 200 before the limit is lowered" test "$(nonce_status)" = 200
cat >"$F" <<'CONF'
allow-dns = corp.internal
allow-dns = lab.example
profile = classic:90d
profile = tiny:1d
limit-nonces = 2/1h
idle-timeout = 77
CONF
kill -HUP "$SERVER_PID"
check "the third reload is applied" eventually reloaded 3
check "a start-only setting is reported as needing a restart" grep -q \
	"reload: idle-timeout changed; it needs a restart" "$SERVER_LOG"
check_not "policy and profiles unchanged: the signer is not restarted again" test \
	"$(grep -c 'signer process restarted' "$SERVER_LOG")" -gt 1
S=""
for _ in 1 2 3; do S="$S $(nonce_status)"; done
check "newNonce is rate limited after the reload (statuses:$S)" grep -q 429 <<<"$S"

# Log level: info -> warn by a reload; a bad level keeps warn.
# lines_after N: the server log's lines after the first N.
lines_after() { tail -n +"$(($1 + 1))" "$SERVER_LOG"; }
# logged_after N PATTERN: a line after the first N matches PATTERN.
logged_after() { lines_after "$1" | grep -q -- "$2"; }
check "info lines are logged at the default level" grep -q " info " "$SERVER_LOG"
cat >"$F" <<'CONF'
allow-dns = corp.internal
allow-dns = lab.example
profile = classic:90d
profile = tiny:1d
log-level = warn
CONF
kill -HUP "$SERVER_PID"
check "the fourth reload is applied" eventually reloaded 4
check "... naming the new level" grep -q "reload: applied: .*, log-level warn" "$SERVER_LOG"
N=$(wc -l <"$SERVER_LOG")
check "the directory answers at level warn" test "$(profiles)" = "classic,tiny"
check "newNonce is still limited" test "$(nonce_status)" = 429
printf 'profile = classic:90d\nprofile = tiny:1d\nidle-timeout = 78\nlog-level = warn\n' >"$F"
kill -HUP "$SERVER_PID"
check "a warning is still logged at level warn" eventually \
	logged_after "$N" "reload: idle-timeout changed"
check_not "no info line after the switch to warn (no access log lines)" \
	logged_after "$N" " info "
printf 'profile = classic:90d\n\nlog-level = loud\n' >"$F"
kill -HUP "$SERVER_PID"
check "a bad level's reload is refused" eventually logged_after "$N" "reload: refused"
check "... naming file, line and key" grep -qF \
	"$F:3: key \"log-level\": bad value \"loud\": expected one of debug, info, warn, error" \
	"$SERVER_LOG"
check "requests still answer" test "$(profiles)" = "classic,tiny"
check_not "warn stays in force: still no info line" logged_after "$N" " info "

server_healthy
done_checks
