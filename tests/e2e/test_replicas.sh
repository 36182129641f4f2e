#!/usr/bin/env bash
# test_replicas.sh: certbot and lego through HAProxy in front of two hearth
# replicas on one PostgreSQL (replicas.sh, docs/high-availability.md).
# Each client issues (http-01), renews and revokes through the load
# balancer; the certificates verify against the root; both replicas
# answered the clients' ACME requests (their access logs); and each
# revocation shows in the CRL and in OCSP fetched through HAProxy (the
# URLs the leaf carries) and from each replica's PKI listener directly.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"
. "$(dirname "$0")/replicas.sh"

require_fixed_ports
start_dns
replicas_start
INTER="$R1/ca/intermediate.crt"
CHAIN="$WORK/chain.pem"	# what a CRL's signature is checked against
cat "$INTER" "$ROOT" >"$CHAIN"
C1=$(replica_count 1)
C2=$(replica_count 2)

# ---- helpers ----------------------------------------------------------------

crl_url() {
	openssl x509 -in "$1" -noout -ext crlDistributionPoints | grep -o 'URI:[^ ]*' | head -1 | cut -c5-
}
ocsp_url() { openssl x509 -in "$1" -noout -ocsp_uri; }
# at BASE URL: URL with its scheme and authority replaced by BASE.
at() { echo "$1/${2#http://*/}"; }
# crl_lists BASE LEAF SERIAL: the CRL named by LEAF, fetched from BASE,
# verifies against the intermediate and root and lists SERIAL.
crl_lists() {
	local out="$WORK/crl.der"
	curl -sf "$(at "$1" "$(crl_url "$2")")" -o "$out" &&
		openssl crl -inform DER -in "$out" -CAfile "$CHAIN" -noout 2>&1 | grep -q "verify OK" &&
		openssl crl -inform DER -in "$out" -noout -text | grep -q "Serial Number: $3"
}
# ocsp_revoked BASE LEAF: OCSP at BASE, verified against the root, says revoked.
ocsp_revoked() {
	local out
	out=$(openssl ocsp -issuer "$INTER" -cert "$2" -url "$(at "$1" "$(ocsp_url "$2")")" \
		-CAfile "$ROOT" 2>&1) || return 1
	grep -q "Response verify OK" <<<"$out" && grep -q ": revoked" <<<"$out"
}
eventually() {
	local i
	for i in $(seq 1 60); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	return 1
}
# revoked_everywhere WHO LEAF: the revocation of LEAF shows in the CRL and
# OCSP through HAProxy (twice, so round-robin reaches both replicas) and at
# each replica's PKI listener.
revoked_everywhere() {
	local who=$1 leaf=$2 serial base
	serial=$(cert_serial "$leaf")
	for base in "$LB_PKI" "$LB_PKI" "http://127.0.0.1:$R1_PKI" "http://127.0.0.1:$R2_PKI"; do
		check "$who: the CRL from $base lists $serial" eventually crl_lists "$base" "$leaf" "$serial"
		check "$who: OCSP at $base says revoked" eventually ocsp_revoked "$base" "$leaf"
	done
}
cb() {
	local name=$1
	shift
	certbot --non-interactive --config-dir "$CB/config" --work-dir "$CB/work" \
		--logs-dir "$CB/logs/$name" "$@" >"$WORK/$name.out" 2>&1 ||
		{ tail -n 30 "$WORK/$name.out" >&2; return 1; }
}

# ---- certbot ----------------------------------------------------------------

export REQUESTS_CA_BUNDLE="$ROOT"
CB="$WORK/certbot"
LIVE="$CB/config/live/web"
check "certbot certonly through HAProxy" cb certonly certonly --server "$LB_URL/directory" \
	--agree-tos -m admin@corp.internal --no-eff-email --standalone \
	--http-01-port "$HTTP01_PORT" --cert-name web -d web.corp.internal
check "certbot's certificate verifies against the root" verify_leaf "$R1" "$LIVE/cert.pem"
check "certbot's fullchain is the leaf, then the intermediate" verify_bundle "$R1" "$LIVE/fullchain.pem"
URL=$(crl_url "$LIVE/cert.pem")
check "the leaf's CRL is under HAProxy's PKI frontend ($URL)" test "${URL#"$LB_PKI"/crl/}" != "$URL"
check "the leaf's OCSP responder is HAProxy's PKI frontend" test "$(ocsp_url "$LIVE/cert.pem")" = "$LB_PKI/ocsp"
SERIAL1=$(cert_serial "$LIVE/cert.pem")
check "certbot renew --force-renewal through HAProxy" cb renew renew --force-renewal \
	--no-random-sleep-on-renew --cert-name web
check "the renewed certificate has a new serial" test "$(cert_serial "$LIVE/cert.pem")" != "$SERIAL1"
check "the renewed certificate verifies against the root" verify_leaf "$R1" "$LIVE/cert.pem"
cp "$LIVE/cert.pem" "$WORK/cb.pem"
check "certbot revoke through HAProxy" cb revoke revoke --cert-name web \
	--reason keycompromise --no-delete-after-revoke
revoked_everywhere certbot "$WORK/cb.pem"

# ---- lego -------------------------------------------------------------------

export LEGO_CA_CERTIFICATES="$ROOT"
L="$WORK/lego"
LEGO=(lego --server "$LB_URL/directory" --email admin@corp.internal --accept-tos
	--path "$L" --http --http.port ":$HTTP01_PORT" --domains lg.corp.internal)
LGCRT="$L/certificates/lg.corp.internal.crt"
check "lego run through HAProxy" logged lego-run "${LEGO[@]}" run
check "lego's certificate verifies against the root" verify_bundle "$R1" "$LGCRT"
SERIAL2=$(cert_serial "$LGCRT")
# --days 100: a 90-day certificate is due, so lego renews now
check "lego renew through HAProxy" logged lego-renew "${LEGO[@]}" renew --days 100 --no-random-sleep
check "lego's renewed certificate has a new serial" test "$(cert_serial "$LGCRT")" != "$SERIAL2"
check "lego's renewed certificate verifies against the root" verify_bundle "$R1" "$LGCRT"
nth_cert "$LGCRT" 1 >"$WORK/lg.pem"
check "lego revoke through HAProxy" logged lego-revoke "${LEGO[@]}" revoke --keep --reason 4
revoked_everywhere lego "$WORK/lg.pem"

# ---- both replicas served ---------------------------------------------------

D1=$(($(replica_count 1) - C1))
D2=$(($(replica_count 2) - C2))
check "replica 1 answered the clients' ACME requests ($D1)" test "$D1" -gt 0
check "replica 2 answered the clients' ACME requests ($D2)" test "$D2" -gt 0
for n in 1 2; do
	SERVER_PID=$(eval echo "\$R${n}_PID") SERVER_LOG="$WORK/r$n.log" server_healthy
done
done_checks
