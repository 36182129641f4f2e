#!/usr/bin/env bash
# test_eab.sh: external account binding (RFC 8555 §7.3.4) with a server
# started with --eab-required and keys made by `hearth eab add` while it
# serves: lego (--eab --kid --hmac) and certbot (--eab-kid --eab-hmac-key)
# register and get certificates; a key restricted with --allow-dns gets a
# name under its suffix and is refused another; eab.py checks each refusal
# (no binding, wrong MAC, reused, expired, revoked key, ...) by its problem
# type; `hearth eab list` shows the bindings; a revoked key's account keeps
# working.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT" --eab-required

# eab_add VAR_PREFIX ARGS...: a key from `hearth eab add`, into
# ${PREFIX}_KID and ${PREFIX}_HMAC; the output must be exactly two lines.
eab_add() {
	local prefix=$1 out
	shift
	out=$(hearth_admin "$D" eab add "$@") || return 1
	[ "$(wc -l <<<"$out")" -eq 2 ] || return 1
	printf -v "${prefix}_KID" '%s' "$(sed -n 's/^kid: //p' <<<"$out")"
	printf -v "${prefix}_HMAC" '%s' "$(sed -n 's/^hmac: //p' <<<"$out")"
	local v="${prefix}_KID"
	[ -n "${!v}" ]
}
# list_row KID: the key's row of `hearth eab list`.
list_row() {
	hearth_admin "$D" eab list | awk -F'\t' -v k="$1" '$1 == k'
}

check "hearth eab add while the server runs (lego's key)" eab_add LEGO --label lego
check "... prints a kid and a base64url MAC key" \
	grep -qE '^[0-9a-f]{32} [A-Za-z0-9_-]{43}$' <<<"$LEGO_KID $LEGO_HMAC"
check "eab list shows the new key, labelled and unbound" test \
	"$(list_row "$LEGO_KID" | cut -f2,5)" = "$(printf 'lego\tunbound')"
check_not "eab list never shows a MAC key" grep -qF -- "$LEGO_HMAC" \
	<(hearth_admin "$D" eab list)

# lego registers with the key and gets a certificate
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
L="$WORK/lego"
LEGO=(lego --server "https://localhost:$PORT/directory" --email lego@corp.internal
	--accept-tos --path "$L" --http --http.port ":$HTTP01_PORT")
# lego reads the directory's externalAccountRequired and stops by itself
check "lego without a key stops: the directory requires one" fails_with \
	"$WORK/lego-noeab.out" "requires External Account Binding" \
	lego --server "https://localhost:$PORT/directory" --email x@corp.internal \
	--accept-tos --path "$WORK/lego-noeab" --http --http.port ":$HTTP01_PORT" \
	--domains x.corp.internal run
check "lego run --eab --kid --hmac" logged lego-run "${LEGO[@]}" --eab --kid "$LEGO_KID" \
	--hmac "$LEGO_HMAC" --domains eab-lego.corp.internal run
check "lego's certificate verifies" verify_bundle "$D" "$L/certificates/eab-lego.corp.internal.crt"
LEGO_ACCT=$(sed -n 's/.*"uri": *"\([^"]*\)".*/\1/p' "$L"/accounts/*/lego@corp.internal/account.json)
check "eab list shows the key bound to lego's account" test \
	"$(list_row "$LEGO_KID" | cut -f5)" = "${LEGO_ACCT##*/}"

# certbot registers with its key and gets a certificate
check "hearth eab add (certbot's key)" eab_add CB --label certbot
CB="$WORK/certbot"
# certbot, too, reads externalAccountRequired and stops (eab.py checks
# hearth's own answer, the externalAccountRequired problem)
check_not "certbot without a key fails" env REQUESTS_CA_BUNDLE="$D/ca/root.crt" \
	certbot --non-interactive --config-dir "$WORK/cb-noeab/config" \
	--work-dir "$WORK/cb-noeab/work" --logs-dir "$WORK/cb-noeab/logs" \
	--server "https://localhost:$PORT/directory" --agree-tos -m cb@corp.internal \
	--no-eff-email certonly --standalone --http-01-port "$HTTP01_PORT" \
	-d noeab.corp.internal
check "... because the directory requires a key" grep -qF \
	"Server requires external account binding" "$WORK/cb-noeab/logs/letsencrypt.log"
check "certbot certonly --eab-kid --eab-hmac-key" logged certbot env \
	REQUESTS_CA_BUNDLE="$D/ca/root.crt" certbot --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" \
	--server "https://localhost:$PORT/directory" --agree-tos -m cb@corp.internal \
	--no-eff-email --eab-kid "$CB_KID" --eab-hmac-key "$CB_HMAC" certonly \
	--standalone --http-01-port "$HTTP01_PORT" --cert-name eab -d eab-certbot.corp.internal
check "certbot's certificate verifies" verify_leaf "$D" "$CB/config/live/eab/cert.pem"
check "eab list shows certbot's key bound" test "$(list_row "$CB_KID" | cut -f5)" != unbound

# a team's key only ever gets its team's names (lego wants --eab on every
# command against a server that requires it; it binds only at registration)
check "hearth eab add --allow-dns team-a.corp.internal" eab_add TEAM --label team-a \
	--allow-dns team-a.corp.internal
LT="$WORK/lego-team"
TEAM_LEGO=(lego --server "https://localhost:$PORT/directory" --email team@corp.internal
	--accept-tos --path "$LT" --http --http.port ":$HTTP01_PORT")
check "the team's key gets www.team-a.corp.internal" logged lego-team "${TEAM_LEGO[@]}" \
	--eab --kid "$TEAM_KID" --hmac "$TEAM_HMAC" --domains www.team-a.corp.internal run
check "... a certificate that verifies" verify_leaf "$D" \
	"$LT/certificates/www.team-a.corp.internal.crt"
check "the team's account is refused other.corp.internal (rejectedIdentifier)" fails_with \
	"$WORK/lego-other.out" "rejectedIdentifier.*team-a.corp.internal" \
	"${TEAM_LEGO[@]}" --eab --kid "$TEAM_KID" --hmac "$TEAM_HMAC" \
	--domains other.corp.internal run
check "eab list shows the key's restriction" test \
	"$(list_row "$TEAM_KID" | cut -f7)" = team-a.corp.internal

# each refusal by its problem type (and a race for one key)
check "eab.py" env HEARTH_STORE="$(store_location "$D")" "$SYS_PYTHON" "$E2E_DIR/eab.py" "https://localhost:$PORT" "$D/ca/root.crt" \
	"$HEARTH_BIN" "$D" "$LEGO_KID" "$LEGO_HMAC"

# revoking a bound key leaves its account working
check "hearth eab revoke lego's key" hearth_admin "$D" eab revoke "$LEGO_KID"
check "eab list shows it revoked and still bound" test \
	"$(list_row "$LEGO_KID" | cut -f5)" = "${LEGO_ACCT##*/}"
check "... revoked" test "$(list_row "$LEGO_KID" | cut -f6)" != no
check "lego's account still renews after its key was revoked" logged lego-renew \
	"${LEGO[@]}" --eab --kid "$LEGO_KID" --hmac "$LEGO_HMAC" \
	--domains eab-lego.corp.internal renew --days 100 --no-random-sleep
check_not "hearth eab revoke of an unknown key fails" hearth_admin "$D" eab revoke \
	00000000000000000000000000000000

server_healthy
done_checks
