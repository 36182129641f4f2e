#!/usr/bin/env bash
# test_rfc2136.sh: dns-01 (RFC 8555 §8.4) through a real BIND 9 that the
# clients update with RFC 2136 messages signed by a TSIG key, the way
# internal clusters do it. named (named.sh) is authoritative for
# corp.internal on a free loopback port, and it is the only DNS server
# anyone asks: hearth (--resolver), and the clients' own checks. certbot's
# dns-rfc2136 plugin and lego's rfc2136 provider each obtain a certificate
# for one name and one for a wildcard plus its apex; every TXT record is
# seen added and deleted in named's log and is gone afterwards. A name in
# a zone without CAA fails: named refuses hearth's CAA query for the
# top-level domain. A client holding a wrong TSIG secret is refused by
# named and gets nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"
. "$(dirname "$0")/named.sh"

D="$WORK/data"
PORT=$(free_port)
start_named
start_server "$D" "$PORT" --resolver "127.0.0.1:$NAMED_PORT" \
	--caa-identity "$NAMED_CAA_IDENTITY"
DIRECTORY="https://localhost:$PORT/directory"

check "named answers CAA for $NAMED_ZONE naming hearth" \
	grep -qF "\"$NAMED_CAA_IDENTITY; validationmethods=dns-01\"" \
	<(dig +short @127.0.0.1 -p "$NAMED_PORT" CAA "$NAMED_ZONE")
check_not "named does not recurse for names outside its zone" \
	grep -q "status: NOERROR" <(dig @127.0.0.1 -p "$NAMED_PORT" A example.com)

# adds NAME: how many TXT records named's log shows added at
# _acme-challenge.NAME under the TSIG key.
adds() {
	local name=${1//./\\.}
	grep -cE "/key $NAMED_KEY: updating zone '$NAMED_ZONE/IN': adding an RR at '_acme-challenge\.$name' TXT" \
		"$NAMED_LOG" || true
}
# challenge_round NAME [ZONE]: named's log shows the TXT record at
# _acme-challenge.NAME added to and deleted from ZONE (corp.internal unless
# given), and named holds none there now.
challenge_round() {
	named_updated adding "_acme-challenge.$1" "${2:-}" &&
		named_updated deleting "_acme-challenge.$1" "${2:-}" &&
		[ -z "$(named_txt "_acme-challenge.$1")" ]
}
# issued_for DATA_DIR LEAF NAMES...: the leaf verifies against the root
# through the intermediate and names exactly NAMES (sorted) in its SANs.
issued_for() {
	local d=$1 leaf=$2
	shift 2
	verify_leaf "$d" "$leaf" && [ "$(cert_names "$leaf" | tr '\n' ' ')" = "$* " ]
}

# ---- certbot, dns-rfc2136 plugin ------------------------------------------------
# The plugin finds the zone by asking named for SOA (signed with the key),
# sends the update over TCP, then waits the propagation seconds before it
# answers the challenge; named has the record at once, so 1 second does.
INI="$WORK/rfc2136.ini"
(umask 077; cat >"$INI" <<EOF
dns_rfc2136_server = 127.0.0.1
dns_rfc2136_port = $NAMED_PORT
dns_rfc2136_name = $NAMED_KEY
dns_rfc2136_secret = $NAMED_SECRET
dns_rfc2136_algorithm = HMAC-SHA256
EOF
)
CB="$WORK/certbot"
# cb NAME ARGS...: one certbot run with the plugin, output in $WORK/NAME.out
cb() {
	local name=$1
	shift
	logged "$name" env REQUESTS_CA_BUNDLE="$D/ca/root.crt" certbot certonly \
		--non-interactive --config-dir "$CB/config" --work-dir "$CB/work" \
		--logs-dir "$CB/logs/$name" --server "$DIRECTORY" --agree-tos \
		-m dns@corp.internal --no-eff-email --dns-rfc2136 \
		--dns-rfc2136-propagation-seconds 1 "$@"
}

check "certbot --dns-rfc2136 for bot.corp.internal" cb certbot-one \
	--dns-rfc2136-credentials "$INI" --cert-name bot -d bot.corp.internal
check_not "certbot did not warn about the credentials file's mode" \
	grep -qiF "unsafe permissions" "$WORK/certbot-one.out"
check "certbot's leaf verifies and names bot.corp.internal only" \
	issued_for "$D" "$CB/config/live/bot/cert.pem" bot.corp.internal
check "certbot's fullchain is the leaf, then the intermediate" \
	verify_bundle "$D" "$CB/config/live/bot/fullchain.pem"
check "named took and dropped the TXT record at _acme-challenge.bot.corp.internal" \
	challenge_round bot.corp.internal
check "hearth validated bot.corp.internal by dns-01" validated "$D" dns-01 bot.corp.internal

check "certbot --dns-rfc2136 for *.app.corp.internal and app.corp.internal" cb certbot-wild \
	--dns-rfc2136-credentials "$INI" --cert-name app \
	-d app.corp.internal -d '*.app.corp.internal'
check "certbot's wildcard leaf verifies and names exactly the wildcard and its apex" \
	issued_for "$D" "$CB/config/live/app/cert.pem" '*.app.corp.internal' app.corp.internal
check "certbot's wildcard fullchain is the leaf, then the intermediate" \
	verify_bundle "$D" "$CB/config/live/app/fullchain.pem"
check "certbot added two TXT records at _acme-challenge.app.corp.internal" \
	test "$(adds app.corp.internal)" -eq 2
check "... and named holds none there now" challenge_round app.corp.internal
check "hearth validated *.app.corp.internal by dns-01" validated "$D" dns-01 '*.app.corp.internal'
check "hearth validated app.corp.internal by dns-01" validated "$D" dns-01 app.corp.internal

# ---- lego, rfc2136 provider -------------------------------------------------------
# --dns.resolvers makes lego find the zone and watch for the record at
# named. --dns.disable-cp: lego's complete-propagation check asks each of
# the zone's NS hosts by name on port 53, through the system resolver,
# which knows neither corp.internal nor named's test port; with one
# primary the first check (at named itself) is the complete one.
export LEGO_CA_CERTIFICATES="$D/ca/root.crt"
export RFC2136_NAMESERVER="127.0.0.1:$NAMED_PORT" RFC2136_TSIG_KEY="$NAMED_KEY" \
	RFC2136_TSIG_SECRET="$NAMED_SECRET" RFC2136_TSIG_ALGORITHM=hmac-sha256. \
	RFC2136_POLLING_INTERVAL=1 RFC2136_PROPAGATION_TIMEOUT=20 RFC2136_SEQUENCE_INTERVAL=1
L="$WORK/lego"
LEGO=(lego --server "$DIRECTORY" --email dns@corp.internal --accept-tos --path "$L"
	--dns rfc2136 --dns.resolvers "127.0.0.1:$NAMED_PORT" --dns.disable-cp)

check "lego --dns rfc2136 for lego.corp.internal" logged lego-one "${LEGO[@]}" \
	--domains lego.corp.internal run
check "lego's bundle is the leaf, then the intermediate" \
	verify_bundle "$D" "$L/certificates/lego.corp.internal.crt"
nth_cert "$L/certificates/lego.corp.internal.crt" 1 >"$WORK/lego-leaf.pem"
check "lego's leaf verifies and names lego.corp.internal only" \
	issued_for "$D" "$WORK/lego-leaf.pem" lego.corp.internal
check "named took and dropped the TXT record at _acme-challenge.lego.corp.internal" \
	challenge_round lego.corp.internal
check "hearth validated lego.corp.internal by dns-01" validated "$D" dns-01 lego.corp.internal

check "lego --dns rfc2136 for *.svc.corp.internal and svc.corp.internal" logged lego-wild \
	"${LEGO[@]}" --domains '*.svc.corp.internal' --domains svc.corp.internal run
WCRT="$L/certificates/_.svc.corp.internal.crt"
check "lego's wildcard bundle is the leaf, then the intermediate" verify_bundle "$D" "$WCRT"
nth_cert "$WCRT" 1 >"$WORK/lego-wild.pem"
check "lego's wildcard leaf verifies and names exactly the wildcard and its apex" \
	issued_for "$D" "$WORK/lego-wild.pem" '*.svc.corp.internal' svc.corp.internal
check "lego added two TXT records at _acme-challenge.svc.corp.internal" \
	test "$(adds svc.corp.internal)" -eq 2
check "... and named holds none there now" challenge_round svc.corp.internal
check "hearth validated *.svc.corp.internal by dns-01" validated "$D" dns-01 '*.svc.corp.internal'
check "hearth validated svc.corp.internal by dns-01" validated "$D" dns-01 svc.corp.internal

# ---- a zone without CAA -------------------------------------------------------------
# hearth looks for CAA from the name up to the top-level domain until it
# finds some (RFC 8659 §3). lab.internal has none, and named, authoritative
# only, answers REFUSED for internal.: hearth cannot tell whether it may
# issue, so after the two retries of a DNS failure the authorization is
# invalid with a dns problem (docs/challenges.md warns of this).
check "lego for host.lab.internal gets hearth's dns problem for the CAA lookup" \
	fails_with "$WORK/lego-nocaa.out" \
	"urn:ietf:params:acme:error:dns :: CAA lookup for host\.lab\.internal failed: CAA query for internal: REFUSED" \
	"${LEGO[@]}" --domains host.lab.internal run
check "named took and dropped the TXT record at _acme-challenge.host.lab.internal" \
	challenge_round host.lab.internal "$NAMED_BARE_ZONE"
check "hearth found the TXT record, and the authorization failed on CAA at the third try" \
	grep -qE "validation [^ ]+: dns-01 host\.lab\.internal \(try 3\): 1 TXT record; CAA lookup failed: CAA query for internal: REFUSED: invalid" \
	"$SERVER_LOG"

# ---- a wrong TSIG secret -------------------------------------------------------------
# Same key name, another secret: named refuses the update (the signature
# does not verify), the client gives up before it answers the challenge
# (lego then deactivates its authorization), and hearth never validates
# the name.
WRONG=$(tsig-keygen -a hmac-sha256 "$NAMED_KEY" | sed -n 's/^[[:space:]]*secret "\(.*\)";$/\1/p')
check "lego with a wrong TSIG secret fails, reporting the refused update" \
	fails_with "$WORK/lego-badkey.out" "failed to insert: DNS update failed: dns: bad authentication" \
	env RFC2136_TSIG_SECRET="$WRONG" "${LEGO[@]}" --domains badkey.corp.internal run
check "named logged the failed signature check" \
	grep -qE "request has invalid signature: TSIG $NAMED_KEY: tsig verify failure \(BADSIG\)" \
	"$NAMED_LOG"
check "lego deactivated its authorization" grep -qF "Deactivating auth:" "$WORK/lego-badkey.out"
check_not "named added nothing at _acme-challenge.badkey.corp.internal" \
	named_updated adding _acme-challenge.badkey.corp.internal
check_not "hearth tried no validation of badkey.corp.internal" \
	validated "$D" dns-01 badkey.corp.internal
check "lego saved no certificate for badkey.corp.internal" \
	test ! -e "$L/certificates/badkey.corp.internal.crt"
(umask 077; sed "s|^dns_rfc2136_secret = .*|dns_rfc2136_secret = $WRONG|" "$INI" >"$WORK/wrong.ini")
# certbot signs its SOA query with the key too, so it stops there.
check_not "certbot with a wrong TSIG secret fails" cb certbot-badkey \
	--dns-rfc2136-credentials "$WORK/wrong.ini" --cert-name badbot -d badbot.corp.internal
check "... reporting that named refused its signature" grep -qF \
	"Encountered error when making query: The peer didn't like the signature we sent" \
	"$WORK/certbot-badkey.out"
check_not "named added nothing at _acme-challenge.badbot.corp.internal" \
	named_updated adding _acme-challenge.badbot.corp.internal
check_not "hearth tried no validation of badbot.corp.internal" \
	validated "$D" dns-01 badbot.corp.internal
check "certbot saved no certificate for badbot.corp.internal" \
	test ! -e "$CB/config/live/badbot"

server_healthy
done_checks
