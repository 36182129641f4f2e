#!/usr/bin/env bash
# test_tls_renewal.sh: the server renews its own TLS certificate before it
# expires, without a restart, and the new one verifies against the root.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
PORT=$(free_port)
start_server "$D" "$PORT" --tls-cert-lifetime 30s

served_serial() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null
}
FIRST=$(served_serial)
check "server presents a certificate" test -n "$FIRST"
ENDDATE=$(openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
	openssl x509 -noout -enddate | cut -d= -f2)
LEFT=$(( $(date -d "$ENDDATE" +%s) - $(date +%s) ))
check "certificate lives about 30 seconds" test "$LEFT" -le 31 -a "$LEFT" -ge 20

# renewal is due once a third of the life is left (after ~20 s); wait for it
NEW=$FIRST
for _ in $(seq 1 60); do
	NEW=$(served_serial)
	[ -n "$NEW" ] && [ "$NEW" != "$FIRST" ] && break
	sleep 1
done
check "certificate was renewed while serving" test -n "$NEW" -a "$NEW" != "$FIRST"
check "renewal was logged" test "$(grep -c 'server TLS certificate issued' "$SERVER_LOG")" -ge 2
check "directory still answers with the root as the only trust" \
	curl -sS -f -o /dev/null --cacert "$D/ca/root.crt" "https://localhost:$PORT/directory"
done_checks
