#!/usr/bin/env bash
# test_ops.sh: the operator's views. The admin listener's /healthz and
# /readyz (503 while the signer process is stopped, 200 again once it is
# replaced), /metrics as valid Prometheus text whose counters move with a
# lego issuance, --log-format json lines that parse and carry the request
# id the client got in X-Request-Id, `hearth status` (exit 0, then 1 for a
# CA whose intermediate nears its expiry) and `hearth trust` with its
# exports.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
ADMIN_PORT=$(free_port)
ADMIN="http://127.0.0.1:$ADMIN_PORT"
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" --log-format json

scrape() { curl -sf "$ADMIN/metrics" | "$SYS_PYTHON" "$E2E_DIR/promcheck.py"; }
# value FILE SERIES: the value of one series of a scrape, 0 when absent
value() { awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }' "$1"; }

check "/healthz answers 200" curl -sf "$ADMIN/healthz" -o /dev/null
check "/readyz answers 200" curl -sf "$ADMIN/readyz" -o /dev/null
check "an unknown admin path is 404" test "$(curl -s -o /dev/null -w '%{http_code}' \
	"$ADMIN/nope")" = 404
check "/metrics is valid Prometheus text" bash -c "scrape_out=\$(curl -sf '$ADMIN/metrics' \
	| '$SYS_PYTHON' '$E2E_DIR/promcheck.py') && test -n \"\$scrape_out\""
scrape >"$WORK/before.txt"

# an issuance with lego
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
check "lego issues a certificate" logged run lego --server "https://localhost:$PORT/directory" \
	--email ops@corp.internal --accept-tos --path "$WORK/lego" --http \
	--http.port ":$HTTP01_PORT" --domains ops.corp.internal run
scrape >"$WORK/after.txt"
I0=$(value "$WORK/before.txt" "hearth_certificates_issued_total{}")
I1=$(value "$WORK/after.txt" "hearth_certificates_issued_total{}")
check "issued counter moved by one ($I0 -> $I1)" test "$I1" = "$((I0 + 1))"
F='hearth_http_requests_total{route="finalize",status="200"}'
check "finalize requests counted" test "$(value "$WORK/after.txt" "$F")" -ge 1
O='hearth_http_requests_total{route="new-order",status="201"}'
check "new-order requests moved" test "$(value "$WORK/after.txt" "$O")" -gt \
	"$(value "$WORK/before.txt" "$O")"
V='hearth_validations_total{type="http-01",outcome="valid"}'
check "an http-01 validation counted valid" test "$(value "$WORK/after.txt" "$V")" -ge 1
check "TLS handshakes counted" test "$(value "$WORK/after.txt" \
	'hearth_tls_handshakes_total{result="ok"}')" -gt 0
check "signer round trips counted" test "$(value "$WORK/after.txt" \
	'hearth_signer_duration_seconds_count{}')" -gt 0
check "store file size reported" test "$(value "$WORK/after.txt" \
	'hearth_store_file_bytes{}')" -gt 0
check "CRL age reported" grep -q '^hearth_crl_age_seconds{} ' "$WORK/after.txt"

# JSON logs: every line parses; the id the client got is in the lines
HDRS=$(curl -s -D - -o /dev/null --cacert "$D/ca/root.crt" "https://localhost:$PORT/directory")
RID=$(tr -d '\r' <<<"$HDRS" | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')
check "a response carries X-Request-Id" test -n "$RID"
check "every log line is a JSON object" "$SYS_PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert isinstance(o, dict) and {"ts", "level", "msg"} <= o.keys(), line
' "$SERVER_LOG"
check "the access line carries the request id" "$SYS_PYTHON" -c '
import json, sys
hits = [o for o in map(json.loads, open(sys.argv[1])) if o.get("request_id") == sys.argv[2]]
assert hits and hits[0]["path"] == "/directory" and hits[0]["status"] == "200", hits
' "$SERVER_LOG" "$RID"
check "validation lines carry the id of the request that started them" "$SYS_PYTHON" -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
chall = {o["request_id"] for o in lines if o.get("route") == "challenge" and o.get("request_id")}
val = [o for o in lines if o["msg"].startswith("validation ")]
assert val and all(o.get("request_id") in chall for o in val), val
' "$SERVER_LOG"
# a client-chosen path with quotes and control bytes stays valid JSON
curl -s -o /dev/null --cacert "$D/ca/root.crt" \
	"https://localhost:$PORT/%22%5C%01%e2%80%a8x" || true
check "lines stay JSON with odd paths" "$SYS_PYTHON" -c '
import json, sys
[json.loads(l) for l in open(sys.argv[1])]' "$SERVER_LOG"

# /readyz while the signer process is stopped, then after its replacement
LAUNCHER=$(pgrep -P "$SERVER_PID" | head -1)
SIGNER=$(pgrep -P "$LAUNCHER" | head -1)
check "found the signer process" test -n "$SIGNER"
kill -STOP "$SIGNER"
check "/readyz is 503 while the signer is stopped" test "$(curl -s -o "$WORK/ready.txt" \
	-w '%{http_code}' "$ADMIN/readyz")" = 503
check "and names the signer" grep -q "signer" "$WORK/ready.txt"
kill -CONT "$SIGNER" 2>/dev/null || true
R=0
for _ in $(seq 1 50); do
	R=$(curl -s -o /dev/null -w '%{http_code}' "$ADMIN/readyz") && [ "$R" = 200 ] && break
	sleep 0.2
done
check "/readyz is 200 again once the signer answers" test "$R" = 200
check "/healthz stayed 200" curl -sf "$ADMIN/healthz" -o /dev/null

# hearth status on the running server's data
set +e
OUT=$("$HEARTH_BIN" status --data "$D" 2>&1); RC=$?
set -e
echo "$OUT"
check "status exits 0 for a healthy CA" test "$RC" -eq 0
ROOT_FP=$(openssl x509 -in "$D/ca/root.crt" -noout -fingerprint -sha256 | cut -d= -f2)
INTER_FP=$(openssl x509 -in "$D/ca/intermediate.crt" -noout -fingerprint -sha256 | cut -d= -f2)
check "status prints the root's fingerprint" grep -q "$ROOT_FP" <<<"$OUT"
check "status prints the intermediate's fingerprint" grep -q "$INTER_FP" <<<"$OUT"
check "status prints the server certificate's expiry" grep -q "^server TLS *expires" <<<"$OUT"
check "status counts the issued certificate" grep -q "^certificates  1 valid, 0 revoked" <<<"$OUT"
check "tls.crt is the certificate the server presents" cmp -s \
	<(openssl x509 -in "$D/db/tls.crt" -outform DER) \
	<(openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null \
	| openssl x509 -outform DER)

D2="$WORK/short"
"$HEARTH_BIN" init --data "$D2" --intermediate-days 10 >/dev/null 2>&1
set +e
OUT=$("$HEARTH_BIN" status --data "$D2" 2>&1); RC=$?
set -e
check "status exits 1 when the intermediate nears expiry" test "$RC" -eq 1
check "and warns about it" grep -q "warning: intermediate expires soon" <<<"$OUT"

# hearth trust
set +e
OUT=$("$HEARTH_BIN" trust --data "$D" --pem "$WORK/root.pem" --der "$WORK/root.der" 2>&1); RC=$?
set -e
check "trust exits 0" test "$RC" -eq 0
for what in update-ca-certificates update-ca-trust "security add-trusted-cert" \
	Import-Certificate policies.json "keytool -importcert" NODE_EXTRA_CA_CERTS \
	REQUESTS_CA_BUNDLE certifi; do
	check "trust explains $what" grep -q -- "$what" <<<"$OUT"
done
check "trust names the real root path" grep -q "$(realpath "$D/ca/root.crt")" <<<"$OUT"
check "the PEM export is the root" cmp -s <(openssl x509 -in "$WORK/root.pem" -outform DER) \
	<(openssl x509 -in "$D/ca/root.crt" -outform DER)
check "openssl reads the DER export as the root" cmp -s \
	<(openssl x509 -inform DER -in "$WORK/root.der" -outform PEM) "$D/ca/root.crt"
check_not "trust refuses an unknown flag" "$HEARTH_BIN" trust --data "$D" --bogus x

done_checks
