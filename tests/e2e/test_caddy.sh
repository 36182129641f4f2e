#!/usr/bin/env bash
# test_caddy.sh: Caddy (Debian's package) takes its certificates from
# hearth on its own, as it would from a public CA: acme_ca names hearth's
# directory, acme_ca_root its root. One site may only use http-01 (served
# on Caddy's http_port, hearth's --http01-port), the other only
# tls-alpn-01 (on Caddy's https_port, hearth's --tlsalpn01-port). Each is
# then served over HTTPS with a certificate that verifies against
# DIR/ca/root.crt alone. Caddy binds loopback only, keeps its data under
# the test directory and reaches nothing but hearth (no OCSP, no trust
# store installation, no other issuer).
# fixed-ports: http 5002, https 5001, DNS on 8053/8055 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT"
ROOT="$D/ca/root.crt"

HTTP_SITE=caddy-http.corp.internal
ALPN_SITE=caddy-alpn.corp.internal
CD="$WORK/caddy"
mkdir -p "$CD/home" "$CD/data" "$CD/config" "$CD/storage"
cat >"$CD/Caddyfile" <<EOF
{
	admin off
	acme_ca https://localhost:$PORT/directory
	acme_ca_root $ROOT
	email caddy@corp.internal
	http_port $HTTP01_PORT
	https_port $TLSALPN01_PORT
	default_bind 127.0.0.1
	servers {
		protocols h1 h2
	}
	skip_install_trust
	ocsp_stapling off
	storage file_system $CD/storage
}

$HTTP_SITE {
	bind 127.0.0.1
	tls {
		issuer acme {
			disable_tlsalpn_challenge
		}
	}
	respond "served by http-01 site"
}

$ALPN_SITE {
	bind 127.0.0.1
	tls {
		issuer acme {
			disable_http_challenge
		}
	}
	respond "served by tls-alpn-01 site"
}
EOF

check "caddy validate accepts the Caddyfile" logged caddy-validate \
	env HOME="$CD/home" XDG_DATA_HOME="$CD/data" XDG_CONFIG_HOME="$CD/config" \
	caddy validate --config "$CD/Caddyfile" --adapter caddyfile
HOME="$CD/home" XDG_DATA_HOME="$CD/data" XDG_CONFIG_HOME="$CD/config" \
	caddy run --config "$CD/Caddyfile" --adapter caddyfile >"$CD/caddy.log" 2>&1 &
CADDY_PID=$!
PIDS+=("$CADDY_PID")

# served NAME: Caddy answers https://NAME on its https_port with a
# certificate that verifies against hearth's root, and nothing else.
served() {
	curl -sf --cacert "$ROOT" --resolve "$1:$TLSALPN01_PORT:127.0.0.1" \
		"https://$1:$TLSALPN01_PORT/" -o "$CD/$1.body" 2>/dev/null
}
# wait_served NAME: Caddy obtains certificates in the background; waits
# (at most 90 s) until it serves NAME, or gives up when Caddy exited.
wait_served() {
	local _
	for _ in $(seq 1 450); do
		served "$1" && return 0
		kill -0 "$CADDY_PID" 2>/dev/null || { echo "caddy exited" >&2; break; }
		sleep 0.2
	done
	echo "--- caddy's log:" >&2
	tail -n 30 "$CD/caddy.log" >&2
	return 1
}
# chain_of NAME: the certificates Caddy presents for NAME, with its chain, PEM.
chain_of() {
	openssl s_client -connect "127.0.0.1:$TLSALPN01_PORT" -servername "$1" -showcerts \
		</dev/null 2>/dev/null | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p'
}

for site in "$HTTP_SITE" "$ALPN_SITE"; do
	check "Caddy serves https://$site with a certificate from hearth" wait_served "$site"
	check "... with the site's content" grep -q "^served by .* site$" "$CD/$site.body"
	chain_of "$site" >"$CD/$site.chain.pem"
	nth_cert "$CD/$site.chain.pem" 1 >"$CD/$site.leaf.pem"
	check "... the presented chain is the leaf, then hearth's intermediate" \
		verify_bundle "$D" "$CD/$site.chain.pem"
	check "... the leaf verifies against the root" verify_leaf "$D" "$CD/$site.leaf.pem"
	check "... and names $site only" \
		test "$(cert_names "$CD/$site.leaf.pem" | tr '\n' ' ')" = "$site "
done
check "Caddy answered $HTTP_SITE's challenge by http-01" grep -qF \
	"\"identifier\":\"$HTTP_SITE\",\"challenge_type\":\"http-01\"" "$CD/caddy.log"
check "Caddy answered $ALPN_SITE's challenge by tls-alpn-01" grep -qF \
	"\"identifier\":\"$ALPN_SITE\",\"challenge_type\":\"tls-alpn-01\"" "$CD/caddy.log"
check "hearth validated $HTTP_SITE by http-01" validated "$D" http-01 "$HTTP_SITE"
check_not "... never by tls-alpn-01 (disabled for that site)" \
	validated "$D" tls-alpn-01 "$HTTP_SITE"
check "hearth validated $ALPN_SITE by tls-alpn-01" validated "$D" tls-alpn-01 "$ALPN_SITE"
check_not "... never by http-01 (disabled for that site)" validated "$D" http-01 "$ALPN_SITE"
check "the certificate came from the expected issuer" \
	test "$(openssl x509 -in "$CD/$HTTP_SITE.leaf.pem" -noout -issuer)" = \
	"$(openssl x509 -in "$D/ca/intermediate.crt" -noout -subject | sed 's/^subject/issuer/')"
check "Caddy keeps the certificates in its storage under the test directory" \
	test -n "$(find "$CD/storage" -name "$ALPN_SITE.crt")"
check "plain http on the http_port redirects to https" bash -c \
	"curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
	--resolve '$HTTP_SITE:$HTTP01_PORT:127.0.0.1' \
	'http://$HTTP_SITE:$HTTP01_PORT/' | grep -qE '^30[178] https://$HTTP_SITE'"

# Caddy's listening sockets: loopback only
check "Caddy listens on 127.0.0.1:$HTTP01_PORT and 127.0.0.1:$TLSALPN01_PORT" bash -c \
	"test \"\$(ss -Hlntp | grep 'pid=$CADDY_PID,' | awk '{print \$4}' | sort | tr '\n' ' ')\" = \
	'127.0.0.1:$TLSALPN01_PORT 127.0.0.1:$HTTP01_PORT '"
check "... and on nothing else (no wildcard address, no UDP)" bash -c \
	"test -z \"\$(ss -Hlnup | grep 'pid=$CADDY_PID,')\" && \
	! ss -Hlntp | grep 'pid=$CADDY_PID,' | awk '{print \$4}' | grep -qv '^127\\.0\\.0\\.1:'"
check_not "Caddy's log names no public CA or OCSP responder" \
	grep -qiE "letsencrypt\.org|zerossl|ocsp\.|acme-v02|acme-staging" "$CD/caddy.log"
check "Caddy's log shows hearth as the issuer it used" \
	grep -qF "https://localhost:$PORT/directory" "$CD/caddy.log"
check "Caddy is still running" kill -0 "$CADDY_PID"

server_healthy
done_checks
