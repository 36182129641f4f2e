#!/usr/bin/env bash
# test_identifiers.sh: IP identifiers (RFC 8738). python3-acme orders
# certificates for 127.0.0.1 and ::1 (identifiers of type "ip") and answers
# http-01 with its own standalone server on the address's family only;
# lego 4.9, which sends an IP address as a "dns" identifier, is refused
# with rejectedIdentifier and gets no certificate. Trust is
# DIR/ca/root.crt only.
# fixed-ports: http-01 on 5002 (127.0.0.1 and ::1), DNS on 8053/8055 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"

check "challenges.py identifiers (python3-acme)" "$SYS_PYTHON" "$E2E_DIR/challenges.py" \
	identifiers "https://localhost:$PORT" "$D/ca/root.crt" "$WORK" "$DNS_MGMT"
check "hearth validated 127.0.0.1 by http-01" validated "$D" http-01 127.0.0.1

# lego 4.9 puts every --domains value in a "dns" identifier
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
L="$WORK/lego"
REJECTED='urn:ietf:params:acme:error:rejectedIdentifier'
IPMSG='"127.0.0.1" is an IP address: order it as an identifier of type "ip" (RFC 8738), not "dns"'
ip_validations() { grep -cE "validation [^ ]+: [a-z0-9-]+ 127\.0\.0\.1 " "$SERVER_LOG" || true; }
BEFORE=$(ip_validations)
check "lego run -d 127.0.0.1 --http fails with rejectedIdentifier" \
	fails_with "$WORK/lego-ip.out" "$REJECTED" \
	lego --server "https://localhost:$PORT/directory" --email ip@corp.internal --accept-tos \
	--path "$L" --http --http.port "127.0.0.1:$HTTP01_PORT" --domains 127.0.0.1 run
check "... lego shows hearth's detail" grep -qF "$IPMSG" "$WORK/lego-ip.out"
check "... and saved no certificate" test -z "$(find "$L" -name '*.crt' 2>/dev/null)"
check "... hearth validated nothing for it" test "$(ip_validations)" -eq "$BEFORE"

server_healthy
done_checks
