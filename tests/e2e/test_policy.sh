#!/usr/bin/env bash
# test_policy.sh: what hearth refuses to validate or issue however well the
# challenge is answered (challenges.py's policy suite). CAA (RFC 8659, 8657)
# with challtestsrv's records against hearth's --caa-identity: another CA,
# a parent's record, validationmethods, accounturi, issuewild, a failed
# lookup. Denied address ranges: a second hearth with --validation-deny
# 127.0.0.2/32 never connects to 127.0.0.2 (traps listening there answer
# correctly and must see nothing), and the first, with the default list,
# refuses names and addresses in 169.254.0.0/16 before any packet leaves.
# fixed-ports: http-01 on 5002, tls-alpn-01 on 5001, DNS on 8053/8055 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
DD="$WORK/deny"
PORT=$(free_port)
PORT2=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$DD" "$PORT2" --validation-deny 127.0.0.2/32
DENY_PID=$SERVER_PID
DENY_LOG=$SERVER_LOG
# The IP identifiers in 169.254.0.0/16 and fe80::/10 must pass the name
# policy to reach the validation deny list this suite tests.
start_acme_server "$D" "$PORT" --caa-identity ca.corp.internal \
	--allow-ip 127.0.0.0/8 --allow-ip ::1 --allow-ip 169.254.0.0/16 --allow-ip fe80::/10

check "challenges.py policy" "$SYS_PYTHON" "$E2E_DIR/challenges.py" policy \
	"https://localhost:$PORT" "$D/ca/root.crt" "$WORK" "$DNS_MGMT" \
	"https://localhost:$PORT2" "$DD/ca/root.crt"
check "a CAA refusal was not retried" \
	test "$(grep -cE 'validation [^ ]+: http-01 caa-other\.corp\.internal ' "$SERVER_LOG")" -eq 1
check "a failed CAA lookup was tried three times" \
	test "$(grep -cE 'validation [^ ]+: dns-01 caa-servfail\.corp\.internal ' "$SERVER_LOG")" -eq 3
check "a denied address was not retried" \
	test "$(grep -cE 'validation [^ ]+: http-01 linklocal\.corp\.internal ' "$SERVER_LOG")" -eq 1

server_healthy
SERVER_PID=$DENY_PID
SERVER_LOG=$DENY_LOG
server_healthy
done_checks
