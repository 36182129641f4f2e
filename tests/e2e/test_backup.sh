#!/usr/bin/env bash
# test_backup.sh: `hearth backup` while the server serves and lego is
# issuing, `hearth backup --verify`, and a restore (docs/operations.md:
# copy the CA files and the store into a new data directory) served by a
# new server: the same certificates are in its store, byte for byte, the
# restored account revokes one through ACME, and the CRL and OCSP of the
# restored server say so. A DEST that is not empty is refused; a damaged
# backup fails --verify. A rotated (retired) intermediate is backed up too.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
B="$WORK/backup"
R="$WORK/restored"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"
ROOT="$D/ca/root.crt"
INTER="$D/ca/intermediate.crt"

export REQUESTS_CA_BUNDLE="$ROOT" LEGO_CA_CERTIFICATES="$ROOT"
CB="$WORK/certbot"
check "certbot certificate" logged certbot certbot --non-interactive --config-dir "$CB/config" \
	--work-dir "$CB/work" --logs-dir "$CB/logs" certonly --server "https://localhost:$PORT/directory" \
	--agree-tos -m admin@corp.internal --no-eff-email --standalone \
	--http-01-port "$HTTP01_PORT" --cert-name cb1 -d cb1.corp.internal
cp "$CB/config/live/cb1/cert.pem" "$WORK/cb1.pem"
L="$WORK/lego"
LEGO=(lego --server "https://localhost:$PORT/directory" --email admin@corp.internal
	--accept-tos --path "$L" --http --http.port ":$HTTP01_PORT")
check "lego certificate" logged lego1 "${LEGO[@]}" --domains lg1.corp.internal run
nth_cert "$L/certificates/lg1.corp.internal.crt" 1 >"$WORK/lg1.pem"

# The backup is taken while lego issues another certificate.
logged lego2 "${LEGO[@]}" --domains lg2.corp.internal run &
LEGO_PID=$!
check "hearth backup while the server serves and lego issues" logged backup \
	"$HEARTH_BIN" backup --data "$D" "$B"
check "lego's concurrent issuance succeeds" wait "$LEGO_PID"
check "the backup holds the compacted store" test -s "$B/db/data.mdb"
check "... and the CA files" test -s "$B/ca/root.crt" -a -s "$B/ca/intermediate.key"
check "the intermediate key keeps its mode (0600)" test "$(stat -c %a "$B/ca/intermediate.key")" = 600
check "the root key stays encrypted" grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$B/ca/root.key"
check "root.pass is copied and the operator warned" grep -q "WARNING: .*root.pass" "$WORK/backup.out"
check "the manifest names versions and hashes" grep -qE \
	"^file 0600 [0-9]+ [0-9a-f]{64} db/data.mdb$" "$B/MANIFEST"
check "... and the schema version" grep -q "^schema-version 1$" "$B/MANIFEST"
check "hearth backup --verify accepts it" logged verify "$HEARTH_BIN" backup --verify "$B"
check_not "a DEST that is not empty is refused" "$HEARTH_BIN" backup --data "$D" "$B"

# A damaged copy fails --verify.
cp -a "$B" "$WORK/damaged"
printf 'x' >>"$WORK/damaged/ca/root.crt"
check_not "a damaged backup fails --verify" "$HEARTH_BIN" backup --verify "$WORK/damaged"

# Restore into a new directory and serve from it.
server_healthy
stop_server
mkdir -m 700 "$R" "$R/db"
cp -a "$B/ca" "$R/ca"
cp "$B/db/data.mdb" "$R/db/"
# the restored server takes the old one's place, under the same PKI URL
# that the certificates carry
cp "$D.pki-port" "$R.pki-port"
start_acme_server "$R" "$PORT"
for c in cb1 lg1; do
	S=$(cert_serial "$WORK/$c.pem")
	"$HEARTH_BIN" certs show --data "$R" "$S" >"$WORK/$c.show" 2>&1 || true
	check "the restored store holds $c's certificate, byte for byte" same_cert "$WORK/$c.show" "$WORK/$c.pem"
done
check "the restored server issues with the same CA" logged lego3 "${LEGO[@]}" --domains lg3.corp.internal run
nth_cert "$L/certificates/lg3.corp.internal.crt" 2 >"$WORK/lg3-issuer.pem"
check "... the same intermediate" same_cert "$WORK/lg3-issuer.pem" "$INTER"
check "lego revokes lg1 through the restored account" logged lego-revoke "${LEGO[@]}" \
	--domains lg1.corp.internal revoke --keep --reason 4

# CRL and OCSP of the restored server.
eventually() {
	local i
	for i in $(seq 1 60); do
		if "$@"; then return 0; fi
		sleep 0.5
	done
	return 1
}
CRL_URL=$(openssl x509 -in "$WORK/lg1.pem" -noout -ext crlDistributionPoints | grep -o 'URI:[^ ]*' | head -1 | cut -c5-)
crl_has() {
	curl -sf "$CRL_URL" -o "$WORK/crl.der" &&
		openssl crl -inform DER -in "$WORK/crl.der" -noout -text | grep -q "Serial Number: $1"
}
ocsp_says() {
	local out
	out=$(openssl ocsp -issuer "$INTER" -cert "$1" -url "$(openssl x509 -in "$1" -noout -ocsp_uri)" \
		-CAfile "$ROOT" 2>&1) || return 1
	grep -q "Response verify OK" <<<"$out" && grep -qE -- "$2" <<<"$out"
}
check "the restored server's CRL lists the revoked certificate" eventually crl_has "$(cert_serial "$WORK/lg1.pem")"
check "OCSP: revoked, superseded" ocsp_says "$WORK/lg1.pem" "Reason: superseded"
check "OCSP: certbot's certificate is good" ocsp_says "$WORK/cb1.pem" ": good"

# A rotated intermediate is in the backup too (ca/retired/ISSUER_ID), so
# certificates under it stay revocable after a restore.
check "rotate the restored CA's intermediate" logged rotate "$HEARTH_BIN" ca rotate-intermediate --data "$R"
RETIRED=$(ls "$R/ca/retired")
check "a second backup" logged backup2 "$HEARTH_BIN" backup --data "$R" "$WORK/backup2"
check "... holds the retired intermediate's key, mode kept" test \
	"$(stat -c %a "$WORK/backup2/ca/retired/$RETIRED/intermediate.key" 2>/dev/null)" = 600
check "... and its certificate, as in the data directory" cmp -s \
	"$WORK/backup2/ca/retired/$RETIRED/intermediate.crt" "$R/ca/retired/$RETIRED/intermediate.crt"
check "... listed in the manifest" grep -q " ca/retired/$RETIRED/intermediate.key$" "$WORK/backup2/MANIFEST"
check "hearth backup --verify accepts it" logged verify2 "$HEARTH_BIN" backup --verify "$WORK/backup2"
printf 'x' >>"$WORK/backup2/ca/retired/$RETIRED/intermediate.crt"
check_not "a damaged retired intermediate fails --verify" "$HEARTH_BIN" backup --verify "$WORK/backup2"

server_healthy
done_checks
