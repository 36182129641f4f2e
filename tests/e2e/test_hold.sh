#!/usr/bin/env bash
# test_hold.sh: answers held until the validation they wait on ends
# (hold.py): a challenge answered valid in the POST's own answer, holds
# ended by --hold-max answering processing with Retry-After, a client that
# closes its connection during a hold, and the holds counted on /metrics.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns
start_acme_server "$D" "$PORT" --hold-max 2000

check "hold.py" "$SYS_PYTHON" "$E2E_DIR/hold.py" "https://localhost:$PORT" \
	"$D/ca/root.crt" "$HTTP01_PORT" "http://127.0.0.1:$ADMIN_PORT/metrics"
server_healthy
stop_server
check_not "no sanitizer report after shutdown" \
	grep -qE "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$SERVER_LOG"
done_checks
