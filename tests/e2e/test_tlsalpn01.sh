#!/usr/bin/env bash
# test_tlsalpn01.sh: tls-alpn-01 (RFC 8737) on loopback: lego answering
# with its own TLS server on port 5001 (hearth --tlsalpn01-port 5001), then
# challenges.py's tlsalpn01 suite, whose Python TLS server presents
# certificates made by openssl req: without the acmeIdentifier extension,
# with the wrong digest, non-critical, for other names, and for IP
# identifiers under their reverse-DNS names (RFC 8738 §6). Trust is
# DIR/ca/root.crt only.
# fixed-ports: tls-alpn-01 on 5001, DNS on 8053/8055 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"

export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
L="$WORK/lego"
LEGO=(lego --server "https://localhost:$PORT/directory" --email alpn@corp.internal --accept-tos
	--path "$L" --tls --tls.port "127.0.0.1:$TLSALPN01_PORT")

check "lego run --tls for two names" logged lego-tls "${LEGO[@]}" \
	--domains alpn.corp.internal --domains alpn2.corp.internal run
CRT="$L/certificates/alpn.corp.internal.crt"
check "lego's bundle is the leaf, then the intermediate" verify_bundle "$D" "$CRT"
nth_cert "$CRT" 1 >"$WORK/leaf.pem"
check "leaf verifies against the root" verify_leaf "$D" "$WORK/leaf.pem"
check "certificate names both names, nothing else" \
	test "$(cert_names "$WORK/leaf.pem" | tr '\n' ' ')" = "alpn.corp.internal alpn2.corp.internal "
check "certificate is for lego's key" cmp -s <(openssl x509 -in "$WORK/leaf.pem" -noout -pubkey) \
	<(openssl pkey -in "$L/certificates/alpn.corp.internal.key" -pubout)
check "hearth validated alpn.corp.internal by tls-alpn-01" \
	validated "$D" tls-alpn-01 alpn.corp.internal
check "hearth validated alpn2.corp.internal by tls-alpn-01" \
	validated "$D" tls-alpn-01 alpn2.corp.internal
check_not "... and by no other challenge" grep -qE \
	"validation [^ ]+: (http-01|dns-01) alpn2?\.corp\.internal " "$SERVER_LOG"
check "lego renew --days 100 by tls-alpn-01" logged lego-tls-renew "${LEGO[@]}" \
	--domains alpn.corp.internal --domains alpn2.corp.internal renew --days 100 --no-random-sleep
nth_cert "$CRT" 1 >"$WORK/leaf2.pem"
check "the renewed certificate has a new serial" \
	test "$(cert_serial "$WORK/leaf2.pem")" != "$(cert_serial "$WORK/leaf.pem")"
check "the renewed leaf verifies" verify_leaf "$D" "$WORK/leaf2.pem"

check "challenges.py tlsalpn01" "$SYS_PYTHON" "$E2E_DIR/challenges.py" tlsalpn01 \
	"https://localhost:$PORT" "$D/ca/root.crt" "$WORK" "$DNS_MGMT"
check_not "a wrong certificate was not retried" \
	grep -qE "validation [^ ]+: tls-alpn-01 noext\.corp\.internal \(try 2\)" "$SERVER_LOG"
check "a refused connection was tried three times" test "$(grep -cE \
	'validation [^ ]+: tls-alpn-01 refused\.corp\.internal ' "$SERVER_LOG")" -eq 3

server_healthy
done_checks
