#!/usr/bin/env bash
# test_constrain.sh: a name-constrained intermediate end to end. `hearth
# init --permit-dns corp.internal --permit-ip 127.0.0.0/8` writes critical
# name constraints; `hearth serve` then defaults its name policy to them and
# leaves its default TLS names outside them (localhost, ::1) out. lego gets
# a certificate inside them whose chain verifies against the root alone; a
# name outside is refused at newOrder with rejectedIdentifier; and a leaf
# outside, made from the intermediate key with openssl (the test-only path),
# is refused by openssl verify with a permitted subtree violation.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
check "init with name constraints" logged init "$HEARTH_BIN" init --data "$D" \
	--permit-dns corp.internal --permit-ip 127.0.0.0/8
TEXT=$(openssl x509 -in "$D/ca/intermediate.crt" -noout -text)
check "the intermediate's name constraints are critical" \
	grep -q "X509v3 Name Constraints: critical" <<<"$TEXT"
check "... permitting corp.internal" grep -q "DNS:corp.internal$" <<<"$TEXT"
check "... and 127.0.0.0/8" grep -q "IP:127.0.0.0/255.0.0.0" <<<"$TEXT"

require_fixed_ports
start_dns
SERVER_HOST=127.0.0.1
start_acme_server "$D" "$PORT"
check "start-up log names the constraints" grep -q \
	"the intermediate is name-constrained: DNS: corp.internal; IP: 127.0.0.0/8" "$SERVER_LOG"
check "the policy defaults to the constraints" grep -q \
	"issuing only for names the policy allows: DNS: corp.internal; IP: 127.0.0.0/8" "$SERVER_LOG"
check "localhost is left out of the server's own certificate" grep -q \
	'leaving out the default "localhost"' "$SERVER_LOG"

export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
L="$WORK/lego"
LEGO=(lego --server "https://127.0.0.1:$PORT/directory" --email admin@corp.internal
	--accept-tos --path "$L" --http --http.port ":$HTTP01_PORT")
CRT="$L/certificates/api.corp.internal.crt"
check "lego gets a certificate inside the constraints" logged run "${LEGO[@]}" \
	--domains api.corp.internal run
nth_cert "$CRT" 1 >"$WORK/leaf.pem"
nth_cert "$CRT" 2 >"$WORK/chain.pem"
check "its chain verifies against the root only" openssl verify -CAfile "$D/ca/root.crt" \
	-untrusted "$WORK/chain.pem" "$WORK/leaf.pem"

set +e
OUT=$("${LEGO[@]}" --domains www.example.com run 2>&1); RC=$?
set -e
check "a name outside the constraints is refused" test "$RC" -ne 0
check "... at newOrder with rejectedIdentifier" grep -q \
	"rejectedIdentifier" <<<"$OUT"
check "... naming the constraint" grep -q \
	'is not under an allowed DNS suffix (allowed: corp.internal' <<<"$OUT"

# The test-only path: a leaf signed with the intermediate key directly.
INTER_KEY="$D/ca/intermediate.key"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$WORK/x.key" 2>/dev/null
for n in inside:DNS:www.corp.internal outside:DNS:www.example.com outip:IP:10.0.0.1; do
	name=${n%%:*}
	openssl req -new -key "$WORK/x.key" -subj "/" -out "$WORK/$name.csr" 2>/dev/null
	printf 'subjectAltName=critical,%s\nbasicConstraints=CA:FALSE\n' "${n#*:}" >"$WORK/$name.ext"
	openssl x509 -req -in "$WORK/$name.csr" -CA "$D/ca/intermediate.crt" -CAkey "$INTER_KEY" \
		-CAcreateserial -days 1 -extfile "$WORK/$name.ext" -out "$WORK/$name.crt" 2>/dev/null
done
check "openssl verify accepts a leaf inside" openssl verify -CAfile "$D/ca/root.crt" \
	-untrusted "$D/ca/intermediate.crt" "$WORK/inside.crt"
OUT=$(openssl verify -CAfile "$D/ca/root.crt" -untrusted "$D/ca/intermediate.crt" \
	"$WORK/outside.crt" 2>&1 || true)
check "openssl verify refuses a DNS name outside" grep -q "permitted subtree violation" <<<"$OUT"
OUT=$(openssl verify -CAfile "$D/ca/root.crt" -untrusted "$D/ca/intermediate.crt" \
	"$WORK/outip.crt" 2>&1 || true)
check "openssl verify refuses an address outside" grep -q "permitted subtree violation" <<<"$OUT"

set +e
OUT=$("$HEARTH_BIN" serve --data "$WORK/other" --listen 127.0.0.1:1 --pki-listen off \
	--permit-dns corp.internal --tls-name www.example.com 2>&1); RC=$?
set -e
check "a --tls-name outside the constraints is refused" test "$RC" -ne 0
check "... naming the flag" grep -q \
	'tls-name: "www.example.com" lies outside the intermediate' <<<"$OUT"
done_checks
