#!/usr/bin/env bash
# test_lego.sh: lego (Debian's package) against hearth on loopback, trusting
# only DIR/ca/root.crt: run with its own http-01 server for two names,
# a forced renewal, an account and certificate with RSA keys, revocation,
# and a second revocation that must fail with alreadyRevoked. The server
# runs with --pki-url: leaves carry the CRL and issuer URLs under it.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
PKI_URL="http://pki.corp.internal:8080"
start_acme_server "$D" "$PORT" --pki-url "$PKI_URL"

# lego's trust: the root, and nothing else
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
L="$WORK/lego"
LEGO=(lego --server "https://localhost:$PORT/directory" --email admin@corp.internal
	--accept-tos --path "$L" --http --http.port ":$HTTP01_PORT")
CRT="$L/certificates/api.corp.internal.crt"

check "lego run for two names" logged run "${LEGO[@]}" \
	--domains api.corp.internal --domains app.corp.internal run
check "lego saved the certificate" test -s "$CRT"
check "lego's bundle is the leaf, then the intermediate" verify_bundle "$D" "$CRT"
nth_cert "$CRT" 1 >"$WORK/leaf1.pem"
check "leaf verifies against the root through the intermediate" verify_leaf "$D" "$WORK/leaf1.pem"
check "issuer file is the intermediate" same_cert "$L/certificates/api.corp.internal.issuer.crt" \
	"$D/ca/intermediate.crt"
check "certificate names both domains, nothing else" test \
	"$(cert_names "$WORK/leaf1.pem" | tr '\n' ' ')" = "api.corp.internal app.corp.internal "
check "certificate is for lego's key" cmp -s \
	<(openssl x509 -in "$WORK/leaf1.pem" -noout -pubkey) \
	<(openssl pkey -in "$L/certificates/api.corp.internal.key" -pubout)
check "lego recorded the certificate URL" grep -q "https://localhost:$PORT/acme/cert/" \
	"$L/certificates/api.corp.internal.json"
SERIAL1=$(cert_serial "$WORK/leaf1.pem")
# the revocation URLs name the intermediate's key identifier
ISSUER_ID=$(openssl x509 -in "$D/ca/intermediate.crt" -noout -ext subjectKeyIdentifier \
	| tail -1 | tr -d ' :' | tr A-F a-f)
URLS=$(openssl x509 -in "$WORK/leaf1.pem" -noout -ext crlDistributionPoints,authorityInfoAccess)
check "leaf carries the CRL distribution point" \
	grep -qx "      URI:$PKI_URL/crl/$ISSUER_ID.crl" <<<"$URLS"
check "leaf carries the caIssuers URL" \
	grep -qx "    CA Issuers - URI:$PKI_URL/ca/$ISSUER_ID.crt" <<<"$URLS"
check "leaf carries the OCSP URL (OCSP is on by default)" \
	grep -qx "    OCSP - URI:$PKI_URL/ocsp" <<<"$URLS"
check "leaf: serverAuth and clientAuth, CA:FALSE" bash -c "openssl x509 -in '$WORK/leaf1.pem' \
	-noout -text | grep -A1 'Extended Key Usage' | grep -q 'Server Authentication, TLS Web Client' \
	&& openssl x509 -in '$WORK/leaf1.pem' -noout -text | grep -q 'CA:FALSE'"

# renew --days 100: a 90-day certificate is always due
check "lego renew --days 100" logged renew "${LEGO[@]}" --domains api.corp.internal \
	--domains app.corp.internal renew --days 100 --no-random-sleep
nth_cert "$CRT" 1 >"$WORK/leaf2.pem"
check "renewed certificate has a new serial" test "$(cert_serial "$WORK/leaf2.pem")" != "$SERIAL1"
check "renewed bundle is the leaf, then the intermediate" verify_bundle "$D" "$CRT"
check "renewed leaf verifies" verify_leaf "$D" "$WORK/leaf2.pem"
check "renewed certificate keeps both names" test \
	"$(cert_names "$WORK/leaf2.pem" | tr '\n' ' ')" = "api.corp.internal app.corp.internal "

# an RSA account key (RS256) and an RSA certificate key
LR="$WORK/lego-rsa"
check "lego run with RSA keys" logged run-rsa lego --server "https://localhost:$PORT/directory" \
	--email rsa@corp.internal --accept-tos --path "$LR" --http --http.port ":$HTTP01_PORT" \
	--key-type rsa2048 --domains rsa.corp.internal run
check "RSA bundle is the leaf, then the intermediate" verify_bundle "$D" \
	"$LR/certificates/rsa.corp.internal.crt"
nth_cert "$LR/certificates/rsa.corp.internal.crt" 1 >"$WORK/leaf-rsa.pem"
check "RSA leaf verifies" verify_leaf "$D" "$WORK/leaf-rsa.pem"
check "RSA leaf holds an RSA key" bash -c "openssl x509 -in '$WORK/leaf-rsa.pem' -noout -text \
	| grep -q rsaEncryption"
check "RSA leaf has keyEncipherment" bash -c "openssl x509 -in '$WORK/leaf-rsa.pem' -noout \
	-ext keyUsage | grep -q 'Digital Signature, Key Encipherment'"
check "the RSA account key is an RSA key" bash -c \
	"openssl pkey -in '$LR'/accounts/*/rsa@corp.internal/keys/rsa@corp.internal.key -noout -text \
	| grep -q 'Private-Key: (2048 bit'"

# revocation: once, then alreadyRevoked
check "lego revoke" logged revoke "${LEGO[@]}" --domains api.corp.internal revoke --keep --reason 4
check "a second lego revoke fails with alreadyRevoked" fails_with "$WORK/revoke-again.out" \
	"urn:ietf:params:acme:error:alreadyRevoked" "${LEGO[@]}" --domains api.corp.internal revoke
check "lego revoke of the RSA certificate" logged revoke-rsa lego \
	--server "https://localhost:$PORT/directory" --email rsa@corp.internal --path "$LR" \
	--domains rsa.corp.internal revoke
check "lego archived the revoked RSA certificate" test ! -e "$LR/certificates/rsa.corp.internal.crt"

server_healthy
done_checks
