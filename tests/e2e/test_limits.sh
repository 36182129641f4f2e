#!/usr/bin/env bash
# test_limits.sh: every rate limit and cap with an abusive client and a
# well-behaved one side by side (docs/limits.md). hearth starts with low
# limits; limits.py floods new accounts, orders, pending authorizations,
# nonces, connections and slow handshakes from other loopback addresses
# while certbot and lego get their certificates from 127.0.0.1; then it
# spams validations against the account's queue share and fails one name
# repeatedly while a python3-acme client from 127.0.0.3 gets its
# certificate. Each abuser must meet rateLimited with Retry-After (or its
# connection closed), and every well-behaved client must succeed.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT" --limit-accounts 3/1h --limit-orders 4/1h \
	--limit-failures 2/1h --limit-pending-authzs 5 --limit-queue-share 2 \
	--limit-nonces 200/1h --limit-conns 64 --limit-conns-per-source 8 \
	--limit-request-time 2s

BASE="https://localhost:$PORT"
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"

# the floods run in the background while certbot and lego issue
"$SYS_PYTHON" "$E2E_DIR/limits.py" "$BASE" "$D/ca/root.crt" abuse \
	>"$WORK/abuse.out" 2>&1 &
ABUSE=$!
PIDS+=("$ABUSE")
CB="$WORK/certbot"
check "certbot gets a certificate while the floods run" logged certbot env \
	REQUESTS_CA_BUNDLE="$D/ca/root.crt" certbot --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" \
	--server "$BASE/directory" --agree-tos -m cb@corp.internal --no-eff-email \
	certonly --standalone --http-01-port "$HTTP01_PORT" --cert-name limits \
	-d certbot.limits.internal
check "... a certificate that verifies" verify_leaf "$D" "$CB/config/live/limits/cert.pem"
L="$WORK/lego"
check "lego gets a certificate while the floods run" logged lego lego \
	--server "$BASE/directory" --email lego@corp.internal --accept-tos --path "$L" \
	--http --http.port ":$HTTP01_PORT" --domains lego.limits.internal run
check "... a certificate that verifies" verify_bundle "$D" \
	"$L/certificates/lego.limits.internal.crt"
check "limits.py abuse: every abuser limited, the well-behaved served" wait "$ABUSE"
sed 's/^/  abuse: /' "$WORK/abuse.out"
check "the log names the connections closed at accept" \
	grep -q "closed: the per-source connection cap is reached" "$D.log"
check "the log names the connections past their deadline" \
	grep -q "closed: no complete request within 2s" "$D.log"

# validations: the queue share and failures per name (serves port 5002)
check "limits.py validation" "$SYS_PYTHON" "$E2E_DIR/limits.py" "$BASE" \
	"$D/ca/root.crt" validation

# the limits of this run were never a reason to stop
check "certbot renews after all that" logged certbot-renew env \
	REQUESTS_CA_BUNDLE="$D/ca/root.crt" certbot --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" \
	--server "$BASE/directory" certonly --standalone --http-01-port "$HTTP01_PORT" \
	--cert-name limits -d certbot.limits.internal --force-renewal
server_healthy
done_checks
