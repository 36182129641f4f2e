#!/usr/bin/env bash
# test_certbot.sh: certbot (Debian's package) against hearth on loopback,
# trusting only DIR/ca/root.crt, with the commands of docs/certbot.md:
# certonly with its standalone http-01 server for two names, a renewal that
# is not due, a dry run, a forced renewal running a deploy hook, an RSA
# certificate, revocation with the certificate's key and with the account,
# and second revocations that must fail with alreadyRevoked.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"

# certbot reaches hearth through python3-requests: the root is its only trust.
export REQUESTS_CA_BUNDLE="$D/ca/root.crt"
CB="$WORK/certbot"
SERVER=(--server "https://localhost:$PORT/directory")
LIVE="$CB/config/live/web"

# cb NAME ARGS...: one certbot run, its output in $WORK/NAME.out and its
# debug log in $CB/logs/NAME/ (Debian's /etc/letsencrypt/cli.ini turns
# certbot's log rotation off, so a shared log directory mixes runs).
cb() {
	local name=$1
	shift
	certbot --non-interactive --config-dir "$CB/config" --work-dir "$CB/work" \
		--logs-dir "$CB/logs/$name" "$@" >"$WORK/$name.out" 2>&1
}
# cb_ok NAME ARGS...: the run succeeds (its output is shown when not).
cb_ok() {
	if cb "$@"; then return 0; fi
	echo "--- certbot $1 failed:" >&2
	tail -n 40 "$WORK/$1.out" >&2
	return 1
}
# cb_problem NAME TYPE ARGS...: the run fails and hearth answered the ACME
# problem TYPE. certbot's own message varies by version (2.1 on Python 3.11
# even fails to print it), so the problem document is read from its log.
cb_problem() {
	local name=$1 type=$2
	shift 2
	if cb "$name" "$@"; then
		echo "--- certbot $name succeeded, expected $type" >&2
		return 1
	fi
	grep -qF "\"type\":\"urn:ietf:params:acme:error:$type\"" "$CB/logs/$name/letsencrypt.log"
}

# certonly: a new account, one order for two names, http-01 on port 5002
check "certbot certonly for two names" cb_ok certonly certonly "${SERVER[@]}" \
	--agree-tos -m admin@corp.internal --no-eff-email \
	--standalone --http-01-port "$HTTP01_PORT" --cert-name web \
	-d web.corp.internal -d www.corp.internal
check "certbot saved the certificate" test -s "$LIVE/cert.pem"
check "leaf verifies against the root through the intermediate" verify_leaf "$D" "$LIVE/cert.pem"
check "fullchain is the leaf, then the intermediate" verify_bundle "$D" "$LIVE/fullchain.pem"
check "fullchain starts with cert.pem" same_cert <(nth_cert "$LIVE/fullchain.pem" 1) "$LIVE/cert.pem"
check "chain.pem is the intermediate" same_cert "$LIVE/chain.pem" "$D/ca/intermediate.crt"
check "certificate names both domains, nothing else" test \
	"$(cert_names "$LIVE/cert.pem" | tr '\n' ' ')" = "web.corp.internal www.corp.internal "
check "certificate is for the key certbot generated" cmp -s \
	<(openssl x509 -in "$LIVE/cert.pem" -noout -pubkey) \
	<(openssl pkey -in "$LIVE/privkey.pem" -pubout)
SERIAL1=$(cert_serial "$LIVE/cert.pem")
cp "$LIVE/cert.pem" "$WORK/first.pem"
cp "$LIVE/privkey.pem" "$WORK/first.key"

# renew without --force-renewal: not due (90 days left), nothing changes
check "certbot renew when not due succeeds" cb_ok renew-not-due renew --no-random-sleep-on-renew
check "renew says the certificate is not due" grep -qi "not yet due" "$WORK/renew-not-due.out"
check "a renewal that is not due keeps the certificate" \
	test "$(cert_serial "$LIVE/cert.pem")" = "$SERIAL1"

# --dry-run: without --server certbot would go to Let's Encrypt's staging
# server; with hearth's URL it is a real order whose certificate is dropped
check "certbot renew --dry-run --server" cb_ok renew-dry-run renew --dry-run "${SERVER[@]}" \
	--no-random-sleep-on-renew
check "a dry run keeps the certificate" test "$(cert_serial "$LIVE/cert.pem")" = "$SERIAL1"

# forced renewal: the stored renewal configuration (server, standalone,
# port) is enough, no --server needed; a deploy hook (docs/certbot.md) runs
# after the successful renewal
# shellcheck disable=SC2016 # $RENEWED_LINEAGE is for the hook to expand
printf '#!/bin/sh\necho "$RENEWED_LINEAGE" >>"%s"\n' "$WORK/deployed" \
	>"$CB/config/renewal-hooks/deploy/record"
chmod +x "$CB/config/renewal-hooks/deploy/record"
check "certbot renew --force-renewal" cb_ok renew renew --force-renewal \
	--no-random-sleep-on-renew --cert-name web
check "the deploy hook ran once, for the renewed lineage" test "$(cat "$WORK/deployed")" = "$LIVE"
check "renewed certificate has a new serial" test "$(cert_serial "$LIVE/cert.pem")" != "$SERIAL1"
check "renewed leaf verifies" verify_leaf "$D" "$LIVE/cert.pem"
check "renewed fullchain is the leaf, then the intermediate" verify_bundle "$D" "$LIVE/fullchain.pem"
check "renewed certificate keeps both names" test \
	"$(cert_names "$LIVE/cert.pem" | tr '\n' ' ')" = "web.corp.internal www.corp.internal "

# a second lineage with an RSA key, for another name
check "certbot certonly with an RSA key" cb_ok certonly-rsa certonly "${SERVER[@]}" \
	--standalone --http-01-port "$HTTP01_PORT" --cert-name rsa \
	--key-type rsa --rsa-key-size 2048 -d rsa.corp.internal
check "RSA leaf verifies" verify_leaf "$D" "$CB/config/live/rsa/cert.pem"
check "RSA fullchain is the leaf, then the intermediate" verify_bundle "$D" \
	"$CB/config/live/rsa/fullchain.pem"
check "RSA leaf holds an RSA key" bash -c \
	"openssl x509 -in '$CB/config/live/rsa/cert.pem' -noout -text | grep -q 'rsaEncryption'"

# revocation signed with the first certificate's own key (no account)
check "certbot revoke with the certificate's key" cb_ok revoke-by-key revoke "${SERVER[@]}" \
	--cert-path "$WORK/first.pem" --key-path "$WORK/first.key" \
	--reason superseded --no-delete-after-revoke
check "revoking it again fails with alreadyRevoked" cb_problem revoke-by-key-again \
	alreadyRevoked revoke "${SERVER[@]}" --cert-path "$WORK/first.pem" \
	--key-path "$WORK/first.key" --no-delete-after-revoke

# revocation of the renewed certificate by the account; with --cert-name
# certbot takes the server from the renewal configuration
check "certbot revoke --cert-name web" cb_ok revoke revoke --cert-name web \
	--reason cessationofoperation --no-delete-after-revoke
check "a second revoke --cert-name web fails with alreadyRevoked" cb_problem revoke-again \
	alreadyRevoked revoke --cert-name web --no-delete-after-revoke

# the RSA certificate is revoked and its files deleted
check "certbot revoke --cert-name rsa --delete-after-revoke" cb_ok revoke-rsa revoke \
	--cert-name rsa --delete-after-revoke
check "the revoked lineage was deleted" test ! -e "$CB/config/live/rsa"

server_healthy
done_checks
