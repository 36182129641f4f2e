#!/usr/bin/env bash
# test_revocation.sh: what relying parties see of a revocation. certbot and
# lego each get two certificates and revoke one; with the CRL fetched from
# the URL in the leaf, `openssl verify -crl_check` refuses the revoked one
# and accepts the live one, and `openssl ocsp` against the leaf's OCSP URL
# says revoked (with the reason) and good. `hearth revoke`, run while the
# server serves, shows in the CRL and OCSP (polled, never timed). Bad input
# on the plain-HTTP listener gets a clear answer and the server keeps
# serving; the CRL number grows across a restart; `hearth certs` lists and
# shows what happened.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"
PKI="http://127.0.0.1:$PKI_PORT"
ROOT="$D/ca/root.crt"
INTER="$D/ca/intermediate.crt"

# ---- helpers ----------------------------------------------------------------

# crl_url LEAF / ocsp_url LEAF / issuer_url LEAF: the URLs the leaf carries.
crl_url() {
	openssl x509 -in "$1" -noout -ext crlDistributionPoints | grep -o 'URI:[^ ]*' | head -1 | cut -c5-
}
ocsp_url() { openssl x509 -in "$1" -noout -ocsp_uri; }
issuer_url() {
	openssl x509 -in "$1" -noout -ext authorityInfoAccess | grep 'CA Issuers' | grep -o 'URI:[^ ]*' | cut -c5-
}
# fetch_crl LEAF OUT.pem: the CRL from the leaf's distribution point, as PEM.
fetch_crl() {
	local url
	url=$(crl_url "$1") && [ -n "$url" ] || return 1
	curl -sf "$url" -o "$2.der" && openssl crl -inform DER -in "$2.der" -out "$2"
}
# crl_verify LEAF: openssl verify with the CRL from the leaf's URL.
crl_verify() {
	local out
	fetch_crl "$1" "$WORK/crl.pem" || return 2
	out=$(openssl verify -crl_check -CAfile "$ROOT" -untrusted "$INTER" \
		-CRLfile "$WORK/crl.pem" "$1" 2>&1) || { echo "$out" >"$WORK/verify.out"; return 1; }
	grep -q ": OK$" <<<"$out"
}
# crl_refuses LEAF: verify fails, and says the certificate is revoked.
crl_refuses() {
	local rc=0
	crl_verify "$1" || rc=$?
	[ "$rc" -eq 1 ] && grep -q "certificate revoked" "$WORK/verify.out"
}
# ocsp_says LEAF PATTERN: openssl ocsp at the leaf's URL, response verified
# against the root, matches PATTERN.
ocsp_says() {
	local url out
	url=$(ocsp_url "$1") && [ -n "$url" ] || return 1
	out=$(openssl ocsp -issuer "$INTER" -cert "$1" -url "$url" -CAfile "$ROOT" 2>&1) || return 1
	echo "$out" >"$WORK/ocsp.out"
	grep -q "Response verify OK" <<<"$out" && grep -qE -- "$2" <<<"$out"
}
# crl_has SERIAL: the current CRL lists the serial.
crl_has() {
	curl -sf "$CRL_URL" -o "$WORK/poll.der" &&
		openssl crl -inform DER -in "$WORK/poll.der" -noout -text | grep -q "Serial Number: $1"
}
# eventually COMMAND...: the command succeeds within 60 tries, half a
# second apart (the server acts within a second; a slow machine gets room).
eventually() {
	local i
	for i in $(seq 1 60); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	return 1
}
cb() {
	local name=$1
	shift
	certbot --non-interactive --config-dir "$CB/config" --work-dir "$CB/work" \
		--logs-dir "$CB/logs/$name" "$@" >"$WORK/$name.out" 2>&1 ||
		{ tail -n 30 "$WORK/$name.out" >&2; return 1; }
}

# ---- certbot: two certificates, one revoked ---------------------------------

export REQUESTS_CA_BUNDLE="$ROOT"
CB="$WORK/certbot"
for n in 1 2; do
	check "certbot certificate $n" cb "cert$n" certonly --server "https://localhost:$PORT/directory" \
		--agree-tos -m admin@corp.internal --no-eff-email --standalone \
		--http-01-port "$HTTP01_PORT" --cert-name "cb$n" -d "cb$n.corp.internal"
	cp "$CB/config/live/cb$n/cert.pem" "$WORK/cb$n.pem"
done
CRL_URL=$(crl_url "$WORK/cb1.pem")
check "the leaf names a CRL on the PKI listener" test "${CRL_URL#"$PKI"/crl/}" != "$CRL_URL"
check "the leaf names the OCSP responder" test "$(ocsp_url "$WORK/cb1.pem")" = "$PKI/ocsp"
check "caIssuers serves the intermediate (DER)" bash -c "curl -sf '$(issuer_url "$WORK/cb1.pem")' | \
	cmp -s - <(openssl x509 -in '$INTER' -outform DER)"
check "the first passes the CRL check before any revocation" crl_verify "$WORK/cb1.pem"
check "the second too" crl_verify "$WORK/cb2.pem"
check "certbot revoke (keyCompromise)" cb revoke revoke --cert-name cb1 \
	--reason keycompromise --no-delete-after-revoke
CB1=$(cert_serial "$WORK/cb1.pem")
CB2=$(cert_serial "$WORK/cb2.pem")
check "the CRL lists certbot's revoked certificate" eventually crl_has "$CB1"
check "openssl verify -crl_check refuses the revoked certificate" crl_refuses "$WORK/cb1.pem"
check "openssl verify -crl_check accepts the live certificate" crl_verify "$WORK/cb2.pem"
check "OCSP: revoked, keyCompromise" ocsp_says "$WORK/cb1.pem" ": revoked"
check "OCSP gives the reason" grep -q "Reason: keyCompromise" "$WORK/ocsp.out"
check "OCSP: the live certificate is good" ocsp_says "$WORK/cb2.pem" ": good"

# ---- lego: two certificates, one revoked ------------------------------------

export LEGO_CA_CERTIFICATES="$ROOT"
L="$WORK/lego"
LEGO=(lego --server "https://localhost:$PORT/directory" --email admin@corp.internal
	--accept-tos --path "$L" --http --http.port ":$HTTP01_PORT")
for n in 1 2; do
	check "lego certificate $n" logged "lego$n" "${LEGO[@]}" --domains "lg$n.corp.internal" run
	nth_cert "$L/certificates/lg$n.corp.internal.crt" 1 >"$WORK/lg$n.pem"
done
check "lego revoke (superseded)" logged lego-revoke "${LEGO[@]}" --domains lg1.corp.internal \
	revoke --keep --reason 4
LG1=$(cert_serial "$WORK/lg1.pem")
check "the CRL lists lego's revoked certificate" eventually crl_has "$LG1"
check "openssl verify -crl_check refuses lego's revoked certificate" crl_refuses "$WORK/lg1.pem"
check "openssl verify -crl_check accepts lego's live certificate" crl_verify "$WORK/lg2.pem"
check "OCSP: lego's revoked certificate, superseded" ocsp_says "$WORK/lg1.pem" "Reason: superseded"
check "OCSP: lego's live certificate is good" ocsp_says "$WORK/lg2.pem" ": good"

# ---- the operator revokes while the server runs -----------------------------

check "hearth revoke (colons, lower case)" hearth_admin "$D" revoke \
	"$(sed 's/../&:/g; s/:$//' <<<"$CB2" | tr A-F a-f)" --reason cACompromise
check_not "a second hearth revoke fails" hearth_admin "$D" revoke "$CB2"
check "the CRL soon lists it" eventually crl_has "$CB2"
check "OCSP soon says revoked, cACompromise (an operator's reason)" eventually \
	ocsp_says "$WORK/cb2.pem" "Reason: cACompromise"
check "openssl verify -crl_check now refuses it" crl_refuses "$WORK/cb2.pem"
check_not "hearth revoke of an unknown serial fails" hearth_admin "$D" revoke 0BADC0DE
check_not "hearth revoke refuses certificateHold" hearth_admin "$D" revoke \
	"$(cert_serial "$WORK/lg2.pem")" --reason 6

# ---- hearth certs -------------------------------------------------------------

hearth_admin "$D" certs list --status revoked >"$WORK/revoked.txt"
check "certs list --status revoked names the three revoked" \
	test "$(grep -cE "^($CB1|$CB2|$LG1)	revoked	" "$WORK/revoked.txt")" -eq 3
check "certs list --status revoked lists nothing else" test "$(wc -l <"$WORK/revoked.txt")" -eq 4
hearth_admin "$D" certs list --name lg2.corp.internal >"$WORK/named.txt"
check "certs list --name finds lego's live certificate" grep -qE \
	"^$(cert_serial "$WORK/lg2.pem")	valid	.*	lg2.corp.internal$" "$WORK/named.txt"
hearth_admin "$D" certs show "$LG1" >"$WORK/show.txt"
check "certs show: status" grep -q "^status: revoked$" "$WORK/show.txt"
check "certs show: reason" grep -q "^reason: 4 (superseded)$" "$WORK/show.txt"
check "certs show: names" grep -q "^names: lg1.corp.internal$" "$WORK/show.txt"
check "certs show: the PEM is the certificate" same_cert "$WORK/show.txt" "$WORK/lg1.pem"

# ---- bad input on the PKI listener -------------------------------------------

# status BODY_OUT CURL_ARGS...: the HTTP status of one request
status() { local out=$1; shift; curl -s -o "$out" -w '%{http_code}' "$@"; }
printf 'not DER at all' >"$WORK/garbage"
check "a malformed OCSP POST gets malformedRequest" test \
	"$(status "$WORK/r1" -X POST -H 'Content-Type: application/ocsp-request' \
	--data-binary @"$WORK/garbage" "$PKI/ocsp")" = 200
check "... as an OCSP response" test "$(xxd -p "$WORK/r1")" = "30030a0101"
openssl ocsp -issuer "$ROOT" -cert "$INTER" -reqout "$WORK/other.der" -no_nonce
check "a request about another issuer gets unauthorized" test \
	"$(status "$WORK/r2" -X POST --data-binary @"$WORK/other.der" "$PKI/ocsp")" = 200
check "... as an OCSP response" test "$(xxd -p "$WORK/r2")" = "30030a0106"
head -c 5000 /dev/zero >"$WORK/big"
check "an oversized OCSP body gets 413" test \
	"$(status /dev/null -X POST --data-binary @"$WORK/big" "$PKI/ocsp")" = 413
check "an unknown path gets 404" test "$(status /dev/null "$PKI/crl/nope.crl")" = 404
check "a wrong method gets 405" test "$(status /dev/null -X PUT "$PKI/ca/root.crt")" = 405
check "GET /ocsp without a request gets 405" test "$(status /dev/null "$PKI/ocsp")" = 405
check "a GET OCSP request of bad base64 gets malformedRequest" test \
	"$(status "$WORK/r3" "$PKI/ocsp/%%%%")" = 200
check "... as an OCSP response" test "$(xxd -p "$WORK/r3")" = "30030a0101"
# RFC 6960 appendix A.1: GET with the url-encoded base64 of the request
openssl ocsp -issuer "$INTER" -cert "$WORK/lg2.pem" -reqout "$WORK/get.der" -no_nonce
B64=$(base64 -w0 "$WORK/get.der" | python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.stdin.read(), safe=""))')
check "OCSP over GET" test "$(status "$WORK/get.resp" "$PKI/ocsp/$B64")" = 200
check "... answers good, verified" bash -c "openssl ocsp -respin '$WORK/get.resp' -reqin '$WORK/get.der' \
	-issuer '$INTER' -CAfile '$ROOT' -resp_text 2>&1 | grep -q 'Cert Status: good'"
check "root certificate as DER" bash -c "curl -sf -D '$WORK/h' '$PKI/ca/root.crt' | \
	cmp -s - <(openssl x509 -in '$ROOT' -outform DER)"
check "... as application/pkix-cert" grep -qi "^content-type: application/pkix-cert" "$WORK/h"
check "root certificate as PEM" bash -c "curl -sf -D '$WORK/h' '$PKI/ca/root.pem' | cmp -s - '$ROOT'"
check "the CRL is application/pkix-crl" bash -c "curl -sf -D - -o /dev/null '$CRL_URL' | \
	grep -qi '^content-type: application/pkix-crl'"
check "the PKI listener still serves after bad input" curl -sf -o /dev/null "$CRL_URL"

# ---- the CRL number across a restart -----------------------------------------

crl_number() { curl -sf "$CRL_URL" | openssl crl -inform DER -noout -crlnumber | cut -d= -f2; }
BEFORE=$(crl_number)
server_healthy
stop_server
start_acme_server "$D" "$PORT"
AFTER=$(crl_number)
check "the CRL number grew across the restart ($BEFORE -> $AFTER)" \
	test "$((AFTER))" -gt "$((BEFORE))"
check "the restarted server still lists the revocations" crl_has "$CB2"
check "and OCSP still says revoked" ocsp_says "$WORK/lg1.pem" ": revoked"

server_healthy
done_checks
