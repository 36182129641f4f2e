#!/usr/bin/env bash
# test_protocol.sh: RFC 8555 rules request by request (protocol.py): nonces,
# JWS checks, accounts, contacts, identifiers, orders and their list,
# POST-as-GET, http-01 validation served by the test itself, finalize and
# CSR checks, pre-authorization, deactivation, keyChange and revocation,
# each answer checked for its exact status and problem type; and
# python3-acme as a second client.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"

check "protocol.py" "$SYS_PYTHON" "$E2E_DIR/protocol.py" "https://localhost:$PORT" \
	"$D/ca/root.crt" "$HTTP01_PORT" "$WORK" "http://127.0.0.1:$DNS_MGMT_PORT"
server_healthy
done_checks
