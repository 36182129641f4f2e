#!/usr/bin/env bash
# test_rotate.sh: `hearth ca rotate-intermediate`. lego gets certificate A;
# the intermediate is rotated while clients keep fetching the directory
# (none fails); after the restart certificate B chains to the new
# intermediate, and A, revoked with `hearth revoke`, shows on the CRL of the
# retired intermediate fetched from the URL in A and as revoked over OCSP
# at the URL in A, while B is good and the new intermediate's CRL does not
# list A. Refusals: a wrong root passphrase, a data directory with no CA.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"
ROOT="$D/ca/root.crt"
cp "$D/ca/intermediate.crt" "$WORK/old-inter.pem"

crl_url() {
	openssl x509 -in "$1" -noout -ext crlDistributionPoints | grep -o 'URI:[^ ]*' | head -1 | cut -c5-
}
ocsp_url() { openssl x509 -in "$1" -noout -ocsp_uri; }
# key_id CERT: the subject key identifier as lower-case hex, no colons
key_id() {
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :\n' | tr A-F a-f
}
# crl_lists URL SERIAL: the CRL at URL lists the serial
crl_lists() {
	curl -sf "$1" -o "$WORK/poll.der" &&
		openssl crl -inform DER -in "$WORK/poll.der" -noout -text | grep -q "Serial Number: $2"
}
# ocsp_says LEAF ISSUER PATTERN: OCSP at the leaf's URL, verified against the root
ocsp_says() {
	local out
	out=$(openssl ocsp -issuer "$2" -cert "$1" -url "$(ocsp_url "$1")" -CAfile "$ROOT" 2>&1) || return 1
	grep -q "Response verify OK" <<<"$out" && grep -qE -- "$3" <<<"$out"
}
eventually() {
	local i
	for i in $(seq 1 60); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	return 1
}

export LEGO_CA_CERTIFICATES="$ROOT"
L="$WORK/lego"
LEGO=(lego --server "https://localhost:$PORT/directory" --email admin@corp.internal
	--accept-tos --path "$L" --http --http.port ":$HTTP01_PORT")
check "lego certificate A" logged legoA "${LEGO[@]}" --domains a.corp.internal run
nth_cert "$L/certificates/a.corp.internal.crt" 1 >"$WORK/a.pem"
OLD_ID=$(key_id "$WORK/old-inter.pem")

# ---- refusals -------------------------------------------------------------------

printf 'wrong passphrase\n' >"$WORK/wrong.pass"
chmod 600 "$WORK/wrong.pass"
check "rotate refuses a wrong root passphrase" fails_with "$WORK/r1.out" "passphrase" \
	"$HEARTH_BIN" ca rotate-intermediate --data "$D" --passphrase-file "$WORK/wrong.pass"
check "... and changes nothing" cmp -s "$D/ca/intermediate.crt" "$WORK/old-inter.pem"
check "... and retires nothing" test ! -e "$D/ca/retired"
check "rotate refuses a directory with no CA" fails_with "$WORK/r2.out" "holds no CA" \
	"$HEARTH_BIN" ca rotate-intermediate --data "$WORK/empty"
check "rotate refuses an unknown option" fails_with "$WORK/r3.out" "unknown option" \
	"$HEARTH_BIN" ca rotate-intermediate --data "$D" --bogus x

# ---- the rotation, while clients keep asking ------------------------------------

(
	fails=0
	while [ ! -e "$WORK/stop-loop" ]; do
		curl -sf --cacert "$ROOT" "https://localhost:$PORT/directory" -o /dev/null ||
			fails=$((fails + 1))
		echo "$fails" >"$WORK/loop-fails"
	done
) &
LOOP=$!
PIDS+=("$LOOP")
check "rotate-intermediate" logged rotate "$HEARTH_BIN" ca rotate-intermediate --data "$D"
check "the directory still answers after the rotation" bash -c \
	"sleep 1; curl -sf --cacert '$ROOT' 'https://localhost:$PORT/directory' -o /dev/null"
touch "$WORK/stop-loop"
wait "$LOOP"
check "no directory request failed during the rotation" test "$(cat "$WORK/loop-fails")" -eq 0
NEW_ID=$(key_id "$D/ca/intermediate.crt")
check "it printed the new issuer id" grep -q "new intermediate $NEW_ID" "$WORK/rotate.out"
check "the new intermediate has a new key" test "$NEW_ID" != "$OLD_ID"
check "the new intermediate chains to the root" openssl verify -CAfile "$ROOT" "$D/ca/intermediate.crt"
check "it keeps the name constraints and subject" bash -c "diff \
	<(openssl x509 -in '$WORK/old-inter.pem' -noout -subject -ext nameConstraints) \
	<(openssl x509 -in '$D/ca/intermediate.crt' -noout -subject -ext nameConstraints)"
check "the old one is kept in retired/<id>" cmp -s "$WORK/old-inter.pem" \
	"$D/ca/retired/$OLD_ID/intermediate.crt"
check "the new key is 0600" test "$(stat -c %a "$D/ca/intermediate.key")" = 600
check "owned like the one it replaced" test "$(stat -c %U "$D/ca/intermediate.key")" = \
	"$(stat -c %U "$D/ca/retired/$OLD_ID/intermediate.key")"

# ---- the restarted server -------------------------------------------------------

server_healthy
stop_server
start_acme_server "$D" "$PORT"
check "the server serves the retired intermediate's CRL and OCSP" \
	grep -q "retired intermediate $OLD_ID: serving its CRL and OCSP" "$SERVER_LOG"
check "lego certificate B" logged legoB "${LEGO[@]}" --domains b.corp.internal run
nth_cert "$L/certificates/b.corp.internal.crt" 1 >"$WORK/b.pem"
check "B chains to the new intermediate" openssl verify -CAfile "$ROOT" \
	-untrusted "$D/ca/intermediate.crt" "$WORK/b.pem"
check_not "B does not chain to the old one" openssl verify -CAfile "$ROOT" \
	-untrusted "$WORK/old-inter.pem" "$WORK/b.pem"
check "A still chains to the old one" openssl verify -CAfile "$ROOT" \
	-untrusted "$WORK/old-inter.pem" "$WORK/a.pem"
A=$(cert_serial "$WORK/a.pem")
B=$(cert_serial "$WORK/b.pem")
A_CRL=$(crl_url "$WORK/a.pem")
B_CRL=$(crl_url "$WORK/b.pem")
check "A and B name different CRLs" test "$A_CRL" != "$B_CRL"
check "A's CRL is its issuer's" test "${A_CRL%/*}/$OLD_ID.crl" = "$A_CRL"
check "the old intermediate is still served at /ca/<id>.crt" bash -c \
	"curl -sf 'http://127.0.0.1:$PKI_PORT/ca/$OLD_ID.crt' | \
	cmp -s - <(openssl x509 -in '$WORK/old-inter.pem' -outform DER)"

check "hearth revoke A" "$HEARTH_BIN" revoke --data "$D" "$A" --reason keyCompromise
check "A shows on the old intermediate's CRL (the URL in A)" eventually crl_lists "$A_CRL" "$A"
check "that CRL is signed by the old intermediate" bash -c \
	"openssl crl -inform DER -in '$WORK/poll.der' -noout -CAfile <(cat '$ROOT' '$WORK/old-inter.pem') 2>&1 | \
	grep -q 'verify OK'"
check_not "the new intermediate's CRL does not list A" crl_lists "$B_CRL" "$A"
check "OCSP at the URL in A: revoked" eventually ocsp_says "$WORK/a.pem" "$WORK/old-inter.pem" ": revoked"
check "OCSP: B is good" ocsp_says "$WORK/b.pem" "$D/ca/intermediate.crt" ": good"

server_healthy
done_checks
