#!/usr/bin/env bash
# test_dns01.sh: dns-01 (RFC 8555 §8.4) on loopback with pebble-challtestsrv
# as the DNS server both hearth and the clients ask: lego's exec provider
# for one name, for a name whose _acme-challenge is a CNAME into another
# zone, and for a wildcard plus its apex; certbot's manual plugin with
# auth and cleanup hooks; then challenges.py's dns01 suite (wrong, missing
# and several TXT records, a CNAME loop, the shape of wildcard
# authorizations). Trust is DIR/ca/root.crt only.
# fixed-ports: DNS on 8053/8055, http-01 on 5002 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"
DIRECTORY="https://localhost:$PORT/directory"

# The DNS hook both clients call: adds or clears a TXT record through
# challtestsrv's management API, and notes each call in $WORK/hook.log.
#   dns-hook present|cleanup FQDN VALUE   (lego's exec provider)
cat >"$WORK/dns-hook" <<EOF
#!/bin/sh
set -eu
fqdn=\$(printf '%s' "\$2" | tr 'A-Z' 'a-z')
case "\$fqdn" in *.) ;; *) fqdn="\$fqdn." ;; esac
echo "\$1 \$fqdn \${3:-}" >>"$WORK/hook.log"
case "\$1" in
present) body="{\"host\":\"\$fqdn\",\"value\":\"\$3\"}"; path=/set-txt ;;
cleanup) body="{\"host\":\"\$fqdn\"}"; path=/clear-txt ;;
*) echo "dns-hook: unknown action \$1" >&2; exit 2 ;;
esac
curl -sf -X POST -d "\$body" "$DNS_MGMT\$path" -o /dev/null
EOF
chmod +x "$WORK/dns-hook"
# hook_called ACTION FQDN: the hook ran ACTION for FQDN; hook_calls ACTION
# FQDN: how many times.
hook_calls() { grep -c "^$1 $2 " "$WORK/hook.log" || true; }
hook_called() { [ "$(hook_calls "$1" "$2")" -ge 1 ]; }

# ---- lego, exec provider ---------------------------------------------------
# lego asks challtestsrv too (--dns.resolvers): for a CNAME at
# _acme-challenge, and whether the record is there; --dns.disable-cp skips
# its search for authoritative servers of the zone, which challtestsrv
# does not model.
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
L="$WORK/lego"
LEGO=(lego --server "$DIRECTORY" --email dns@corp.internal --accept-tos --path "$L"
	--dns exec --dns.resolvers "127.0.0.1:$DNS_PORT" --dns.disable-cp)
# lego solves authorizations of one _acme-challenge name one after the
# other, EXEC_SEQUENCE_INTERVAL seconds apart (a minute by default).
export EXEC_PATH="$WORK/dns-hook" EXEC_POLLING_INTERVAL=1 EXEC_PROPAGATION_TIMEOUT=30 \
	EXEC_SEQUENCE_INTERVAL=1

check "lego run --dns exec for dns.corp.internal" logged lego-dns "${LEGO[@]}" \
	--domains dns.corp.internal run
CRT="$L/certificates/dns.corp.internal.crt"
check "lego's bundle is the leaf, then the intermediate" verify_bundle "$D" "$CRT"
nth_cert "$CRT" 1 >"$WORK/dns-leaf.pem"
check "leaf verifies against the root" verify_leaf "$D" "$WORK/dns-leaf.pem"
check "certificate names dns.corp.internal only" \
	test "$(cert_names "$WORK/dns-leaf.pem" | tr '\n' ' ')" = "dns.corp.internal "
check "lego's hook presented _acme-challenge.dns.corp.internal." \
	hook_called present _acme-challenge.dns.corp.internal.
check "... and cleaned it up" hook_called cleanup _acme-challenge.dns.corp.internal.
check "hearth validated dns.corp.internal by dns-01" validated "$D" dns-01 dns.corp.internal
check_not "... and by no other challenge" grep -qE \
	"validation [^ ]+: (http-01|tls-alpn-01) dns\.corp\.internal " "$SERVER_LOG"

# delegation: _acme-challenge.db1 is a CNAME into acme.corp.internal, where
# the automation may write; lego follows it, so does hearth
check "CNAME _acme-challenge.db1.corp.internal -> db1.acme.corp.internal" dns_set /set-cname \
	'{"host":"_acme-challenge.db1.corp.internal.","target":"db1.acme.corp.internal."}'
check "lego run --dns exec for a delegated name" logged lego-cname "${LEGO[@]}" \
	--domains db1.corp.internal run
nth_cert "$L/certificates/db1.corp.internal.crt" 1 >"$WORK/db1-leaf.pem"
check "the delegated name's leaf verifies" verify_leaf "$D" "$WORK/db1-leaf.pem"
check "... and names db1.corp.internal only" \
	test "$(cert_names "$WORK/db1-leaf.pem" | tr '\n' ' ')" = "db1.corp.internal "
check "lego wrote the TXT record at the CNAME's target" \
	hook_called present db1.acme.corp.internal.
check_not "... not at the alias" hook_called present _acme-challenge.db1.corp.internal.

# a wildcard and its apex: two authorizations, both dns-01 (the apex has
# no other solver here), answered in turn at the same TXT name
check "lego run --dns exec for *.ns.corp.internal and ns.corp.internal" logged lego-wild \
	"${LEGO[@]}" --domains '*.ns.corp.internal' --domains ns.corp.internal run
WCRT="$L/certificates/_.ns.corp.internal.crt"
check "the wildcard bundle is the leaf, then the intermediate" verify_bundle "$D" "$WCRT"
nth_cert "$WCRT" 1 >"$WORK/wild-leaf.pem"
check "the wildcard leaf verifies" verify_leaf "$D" "$WORK/wild-leaf.pem"
check "the wildcard certificate's SANs are exactly *.ns.corp.internal and ns.corp.internal" \
	test "$(cert_names "$WORK/wild-leaf.pem" | tr '\n' ' ')" = "*.ns.corp.internal ns.corp.internal "
check "lego presented two values at _acme-challenge.ns.corp.internal." \
	test "$(hook_calls present _acme-challenge.ns.corp.internal.)" -eq 2
check "hearth validated *.ns.corp.internal by dns-01" validated "$D" dns-01 '*.ns.corp.internal'
check "hearth validated ns.corp.internal by dns-01" validated "$D" dns-01 ns.corp.internal

# ---- certbot, manual plugin with hooks -----------------------------------------
# certbot's hooks get the name in CERTBOT_DOMAIN (the base name for a
# wildcard) and the TXT value in CERTBOT_VALIDATION. certbot puts both
# records in place before it answers either challenge, so hearth finds two
# TXT records at _acme-challenge.dnsbot.corp.internal, one of them right.
for action in present cleanup; do
	cat >"$WORK/certbot-$action" <<EOF
#!/bin/sh
exec "$WORK/dns-hook" $action "_acme-challenge.\${CERTBOT_DOMAIN#\\*.}" "\$CERTBOT_VALIDATION"
EOF
done
chmod +x "$WORK/certbot-present" "$WORK/certbot-cleanup"
CB="$WORK/certbot"
check "certbot certonly --manual --preferred-challenges dns for a name and its wildcard" \
	logged certbot env REQUESTS_CA_BUNDLE="$D/ca/root.crt" certbot certonly --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" \
	--server "$DIRECTORY" --agree-tos -m dns@corp.internal --no-eff-email \
	--manual --preferred-challenges dns --manual-auth-hook "$WORK/certbot-present" \
	--manual-cleanup-hook "$WORK/certbot-cleanup" --cert-name dnsbot \
	-d dnsbot.corp.internal -d '*.dnsbot.corp.internal'
LIVE="$CB/config/live/dnsbot"
check "certbot's leaf verifies" verify_leaf "$D" "$LIVE/cert.pem"
check "certbot's fullchain is the leaf, then the intermediate" verify_bundle "$D" \
	"$LIVE/fullchain.pem"
check "certbot's certificate names dnsbot.corp.internal and its wildcard only" \
	test "$(cert_names "$LIVE/cert.pem" | tr '\n' ' ')" = \
	"*.dnsbot.corp.internal dnsbot.corp.internal "
check "certbot's auth hook ran once per authorization" \
	test "$(hook_calls present _acme-challenge.dnsbot.corp.internal.)" -eq 2
check "certbot's cleanup hook ran once per authorization" \
	test "$(hook_calls cleanup _acme-challenge.dnsbot.corp.internal.)" -eq 2
check "hearth validated *.dnsbot.corp.internal by dns-01" \
	validated "$D" dns-01 '*.dnsbot.corp.internal'
check "hearth validated dnsbot.corp.internal by dns-01" validated "$D" dns-01 dnsbot.corp.internal

# ---- failures and wildcard rules, request by request -----------------------------
check "challenges.py dns01" "$SYS_PYTHON" "$E2E_DIR/challenges.py" dns01 \
	"https://localhost:$PORT" "$D/ca/root.crt" "$WORK" "$DNS_MGMT"
check "the CNAME loop was tried three times (two retries)" \
	grep -qE "validation [^ ]+: dns-01 loop\.corp\.internal \(try 3\)" "$SERVER_LOG"
check_not "... and no more" \
	grep -qE "validation [^ ]+: dns-01 loop\.corp\.internal \(try 4\)" "$SERVER_LOG"
check_not "a wrong TXT value was not retried" \
	grep -qE "validation [^ ]+: dns-01 wrongtxt\.corp\.internal \(try 2\)" "$SERVER_LOG"

server_healthy
done_checks
