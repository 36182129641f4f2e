#!/usr/bin/env bash
# test_namepolicy.sh: which names hearth issues for (namepolicy.py). A
# server with no policy settings takes internal names and private addresses
# only and refuses the rest at newOrder and newAuthz with rejectedIdentifier
# naming the rule; a second one, configured with --allow-dns, --deny-dns and
# --allow-ip (partly from a --config file), applies exactly those. Both log
# the policy at start; bad values are refused naming the flag or file, line
# and key.
. "$(dirname "$0")/lib.sh"

SYS_PYTHON=/usr/bin/python3
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

D1="$WORK/default"
PORT1=$(free_port)
start_server "$D1" "$PORT1"
check "start-up log states the default policy" grep -q \
	"issuing only for names the policy allows: DNS: internal, home.arpa, local, test" "$SERVER_LOG"
check "start-up log says how to allow another suffix" grep -q -- "--allow-dns SUFFIX" "$SERVER_LOG"
check "namepolicy.py default" "$SYS_PYTHON" "$E2E_DIR/namepolicy.py" default \
	"https://localhost:$PORT1" "$D1/ca/root.crt"

D2="$WORK/custom"
PORT2=$(free_port)
printf 'allow-dns = corp.internal\ndeny-dns = x.corp.internal\n' >"$WORK/policy.conf"
start_server "$D2" "$PORT2" --config "$WORK/policy.conf" --allow-dns corp.example.com \
	--allow-ip 198.51.100.0/24
check "start-up log states the configured policy" grep -q \
	"DNS: corp.internal, corp.example.com (denied: x.corp.internal); IP: 198.51.100.0/24" \
	"$SERVER_LOG"
check "namepolicy.py custom" "$SYS_PYTHON" "$E2E_DIR/namepolicy.py" custom \
	"https://localhost:$PORT2" "$D2/ca/root.crt"

set +e
OUT=$("$HEARTH_BIN" serve --data "$D1" --allow-dns 'bad_name.example' 2>&1); RC=$?
set -e
check "a bad --allow-dns is refused" test "$RC" -ne 0
check "... naming the flag and why" grep -q \
	'allow-dns: bad value "bad_name.example": only letters, digits and hyphens' <<<"$OUT"
printf 'data = %s\n\nallow-ip = 10.0.0.1/8\n' "$D1" >"$WORK/bad.conf"
set +e
OUT=$("$HEARTH_BIN" serve --config "$WORK/bad.conf" 2>&1); RC=$?
set -e
check "a bad allow-ip in a file is refused" test "$RC" -ne 0
check "... naming the file, line and key" grep -q \
	"bad.conf:3: key \"allow-ip\": bad value \"10.0.0.1/8\"" <<<"$OUT"
done_checks
