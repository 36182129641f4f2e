#!/usr/bin/env bash
# test_rotate_live.sh: a rotated intermediate taken up at SIGHUP, under load,
# without a restart. python3-acme clients, each with its own account, issue
# certificates one after another (rotate_live.py load) while
# `hearth ca rotate-intermediate` runs and SIGHUP is sent. No request fails;
# certificates begun and finished before SIGHUP chain to the old
# intermediate, those begun after the reload to the new one (openssl verify with
# the root and that intermediate, the issuer's key id in the AKI, the chain
# served); the server kept its PID. An old certificate, revoked, shows on
# the old issuer's CRL fetched from the PKI listener and as revoked over
# OCSP; the new issuer's CRL and certificate are served; the listener's
# own certificate is renewed under the new intermediate. Then two rotations
# the server cannot take (the new key under a passphrase it does not hold,
# and a corrupted key): the log names the file and the reason, and
# certificates keep coming from the intermediate in use. The load's phase
# file: 0 before the rotation, 1 rotated, 2 SIGHUP sent, 3 the reload logged.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
WEBROOT="$WORK/webroot"
OUT="$WORK/issued"
PHASE="$WORK/phase"
STOP="$WORK/stop"
CLIENTS=${HEARTH_ROTATE_CLIENTS:-4}
mkdir -p "$WEBROOT" "$OUT"
echo 0 >"$PHASE"
require_fixed_ports
start_dns

check "the challenge responder is up" start_responder "$WEBROOT"

start_acme_server "$D" "$PORT" --limit-accounts 1000000/1h \
	--limit-nonces 1000000/1m --limit-orders 1000000/1h
ROOT="$D/ca/root.crt"
PID=$SERVER_PID
STARTED=$(cut -d' ' -f22 "/proc/$PID/stat")
cp "$D/ca/intermediate.crt" "$WORK/old-inter.pem"

key_id() {
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' :\n' | tr A-F a-f
}
aki() {
	openssl x509 -in "$1" -noout -ext authorityKeyIdentifier | grep -v Authority |
		sed 's/keyid://' | tr -d ' :\n' | tr A-F a-f
}
crl_url() {
	openssl x509 -in "$1" -noout -ext crlDistributionPoints | grep -o 'URI:[^ ]*' | head -1 | cut -c5-
}
ocsp_url() { openssl x509 -in "$1" -noout -ocsp_uri; }
crl_lists() {
	curl -sf "$1" -o "$WORK/poll.der" &&
		openssl crl -inform DER -in "$WORK/poll.der" -noout -text | grep -q "Serial Number: $2"
}
ocsp_says() {
	local out
	out=$(openssl ocsp -issuer "$2" -cert "$1" -url "$(ocsp_url "$1")" -CAfile "$ROOT" 2>&1) || return 1
	grep -q "Response verify OK" <<<"$out" && grep -qE -- "$3" <<<"$out"
}
eventually() {
	local i
	for i in $(seq 1 120); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	return 1
}
issued() { find "$OUT" -name "$1-*.pem" | wc -l; }
at_least() { [ "$(issued "$1")" -ge "$2" ]; }

# chained_to DIR_OF_PEMS INTERMEDIATE: every full chain verifies with the
# root and INTERMEDIATE, its leaf names INTERMEDIATE's key in its AKI, and
# its second certificate is INTERMEDIATE.
chained_to() {
	local f id n=0
	id=$(key_id "$2")
	shift 2 || true
	for f in "${FILES[@]}"; do
		nth_cert "$f" 1 >"$WORK/leaf.pem"
		nth_cert "$f" 2 >"$WORK/second.pem"
		verify_leaf_with "$ROOT" "$INTER" "$WORK/leaf.pem" || { echo "$f: does not verify" >&2; return 1; }
		[ "$(aki "$WORK/leaf.pem")" = "$id" ] || { echo "$f: AKI is not $id" >&2; return 1; }
		same_cert "$WORK/second.pem" "$INTER" || { echo "$f: another chain served" >&2; return 1; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

# ---- rotation and reload under load ---------------------------------------------

"$SYS_PYTHON" "$E2E_DIR/rotate_live.py" load "https://localhost:$PORT" "$ROOT" \
	"$WEBROOT" "$PHASE" "$OUT" "$STOP" "$CLIENTS" >"$WORK/load.out" 2>&1 &
LOAD=$!
PIDS+=("$LOAD")
check "certificates are issued before the rotation" eventually at_least 0 "$CLIENTS"
check "rotate-intermediate while clients issue" logged rotate \
	"$HEARTH_BIN" ca rotate-intermediate --data "$D"
echo 1 >"$PHASE"
NEW_ID=$(key_id "$D/ca/intermediate.crt")
OLD_ID=$(key_id "$WORK/old-inter.pem")
check "the rotation made a new intermediate" test "$NEW_ID" != "$OLD_ID"
check "certificates are issued between the rotation and the reload" \
	eventually at_least 1-1 2
echo 2 >"$PHASE"
check "SIGHUP" kill -HUP "$PID"
check "the reload takes the new intermediate" eventually grep -q \
	"reload: issuing under intermediate $NEW_ID; intermediate $OLD_ID is retired" "$SERVER_LOG"
echo 3 >"$PHASE"
check "certificates are issued after the reload" eventually at_least 3 "$((2 * CLIENTS))"
touch "$STOP"
wait "$LOAD" || true

check "no request failed" test ! -e "$OUT/failures.txt"
[ -e "$OUT/failures.txt" ] && head -40 "$OUT/failures.txt" >&2
echo "issued: $(issued 0-0) before the rotation, $(issued 1-1) between, $(issued 3-3) after the reload, $(find "$OUT" -name '*.pem' | wc -l) in all"
check "the server never restarted (same PID, same start time)" test \
	"$(cut -d' ' -f22 "/proc/$PID/stat" 2>/dev/null)" = "$STARTED"

INTER="$WORK/old-inter.pem"
mapfile -t FILES < <(find "$OUT" -name '[01]-[01]-*.pem')
check "certificates from before the reload chain to the old intermediate" chained_to x "$INTER"
INTER="$D/ca/intermediate.crt"
mapfile -t FILES < <(find "$OUT" -name '3-3-*.pem')
check "certificates begun after the reload chain to the new intermediate" chained_to x "$INTER"
# in flight at the reload: either intermediate, each with its own chain
in_flight() {
	local f
	for f in $(find "$OUT" -name '*.pem' ! -name '[01]-[01]-*' ! -name '3-3-*'); do
		nth_cert "$f" 1 >"$WORK/leaf.pem"
		nth_cert "$f" 2 >"$WORK/second.pem"
		{ same_cert "$WORK/second.pem" "$WORK/old-inter.pem" ||
			same_cert "$WORK/second.pem" "$D/ca/intermediate.crt"; } || return 1
		verify_leaf_with "$ROOT" "$WORK/second.pem" "$WORK/leaf.pem" || return 1
	done
}
check "certificates in flight at the reload verify with the chain served" in_flight
check "... and not to the old one" bash -c "! openssl verify -CAfile '$ROOT' \
	-untrusted '$WORK/old-inter.pem' <(awk '/BEGIN/{n++} n==1' '${FILES[0]}') >/dev/null 2>&1"
openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
	openssl x509 >"$WORK/listener.pem" 2>/dev/null || true
check "the listener's certificate was renewed under the new intermediate" \
	test "$(aki "$WORK/listener.pem")" = "$NEW_ID"

# ---- revocation of an old certificate, both issuers' CRLs ----------------------

OLDF=$(find "$OUT" -name '0-0-*.pem' | head -1)
NEWF=$(find "$OUT" -name '3-3-*.pem' | head -1)
nth_cert "$OLDF" 1 >"$WORK/a.pem"
nth_cert "$NEWF" 1 >"$WORK/b.pem"
A=$(cert_serial "$WORK/a.pem")
A_CRL=$(crl_url "$WORK/a.pem")
B_CRL=$(crl_url "$WORK/b.pem")
check "the old certificate names its issuer's CRL" test "${A_CRL##*/}" = "$OLD_ID.crl"
check "the new one names the new issuer's CRL" test "${B_CRL##*/}" = "$NEW_ID.crl"
check "hearth revoke an old certificate" hearth_admin "$D" revoke "$A" --reason keyCompromise
check "it shows on the old issuer's CRL from the PKI listener" eventually crl_lists "$A_CRL" "$A"
check "that CRL is signed by the old intermediate" bash -c \
	"openssl crl -inform DER -in '$WORK/poll.der' -noout -CAfile <(cat '$ROOT' '$WORK/old-inter.pem') 2>&1 | \
	grep -q 'verify OK'"
check "OCSP says revoked" eventually ocsp_says "$WORK/a.pem" "$WORK/old-inter.pem" ": revoked"
check "OCSP: the new certificate is good" ocsp_says "$WORK/b.pem" "$D/ca/intermediate.crt" ": good"
check "the new issuer's CRL is served, signed by it" bash -c \
	"curl -sf '$B_CRL' | openssl crl -inform DER -noout -CAfile <(cat '$ROOT' '$D/ca/intermediate.crt') 2>&1 | \
	grep -q 'verify OK'"
check_not "... and does not list the old certificate" crl_lists "$B_CRL" "$A"
check "the new intermediate is served at /ca/<id>.crt" bash -c \
	"curl -sf 'http://127.0.0.1:$PKI_PORT/ca/$NEW_ID.crt' | \
	cmp -s - <(openssl x509 -in '$D/ca/intermediate.crt' -outform DER)"
check "the old one still is" bash -c \
	"curl -sf 'http://127.0.0.1:$PKI_PORT/ca/$OLD_ID.crt' | \
	cmp -s - <(openssl x509 -in '$WORK/old-inter.pem' -outform DER)"
cp "$D/ca/intermediate.crt" "$WORK/cur-inter.pem"

# ---- rotations the server cannot take ---------------------------------------------

# still_issuing NAME: a new certificate chains to the intermediate in use
still_issuing() {
	logged "$1" "$SYS_PYTHON" "$E2E_DIR/rotate_live.py" one "https://localhost:$PORT" \
		"$ROOT" "$WEBROOT" "$WORK/$1.pem" || return 1
	INTER="$WORK/cur-inter.pem"
	FILES=("$WORK/$1.pem")
	chained_to x "$INTER"
}

printf 'another passphrase\n' >"$WORK/other.pass"
chmod 600 "$WORK/other.pass"
check "rotate with a passphrase the server does not hold" logged rotate2 \
	"$HEARTH_BIN" ca rotate-intermediate --data "$D" --intermediate-passphrase-file "$WORK/other.pass"
BAD1=$(key_id "$D/ca/intermediate.crt")
kill -HUP "$PID"
check "the log names the key file and the reason" eventually grep -qE \
	"ca/intermediate.key: the new intermediate $BAD1 is not taken: wrong passphrase.*intermediate $NEW_ID stays in use" \
	"$SERVER_LOG"
check "certificates still come from the intermediate in use" still_issuing one1

check "rotate again" logged rotate3 "$HEARTH_BIN" ca rotate-intermediate --data "$D"
BAD2=$(key_id "$D/ca/intermediate.crt")
printf -- '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n' \
	>"$D/ca/intermediate.key"
kill -HUP "$PID"
check "a corrupted key: the log names the file and the reason" eventually grep -qE \
	"ca/intermediate.key: the new intermediate $BAD2 is not taken: .*intermediate $NEW_ID stays in use" \
	"$SERVER_LOG"
check "certificates still come from the intermediate in use" still_issuing one2
check "the server never restarted" test \
	"$(cut -d' ' -f22 "/proc/$PID/stat" 2>/dev/null)" = "$STARTED"
server_healthy
done_checks
