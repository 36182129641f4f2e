#!/usr/bin/env bash
# test_renewal.sh: renewal information (RFC 9773) and certificate profiles
# by raw requests (renewal.py): profile lifetimes read back with openssl,
# invalidProfile, the suggested window and Retry-After, a revoked
# certificate's window, replaces and alreadyReplaced, and the replaced
# certificate naming its successor in `hearth certs show`.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT" --profile classic:90d --profile shortlived:150h \
	--profile client:7d:clientAuth

check "renewal.py" "$SYS_PYTHON" "$E2E_DIR/renewal.py" "https://localhost:$PORT" \
	"$D/ca/root.crt" "$HTTP01_PORT" "$WORK"
read -r OLD NEW <"$WORK/replaced.txt" || true
hearth_admin "$D" certs show "$OLD" >"$WORK/old.show" 2>&1 || true
check "hearth certs show names the certificate that replaced it" \
	grep -qi "^replaced-by: 0*$NEW\$" "$WORK/old.show"
server_healthy
done_checks
