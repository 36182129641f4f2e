# loopback.sh: helpers for the end-to-end tests that validate challenges on
# loopback (sourced after lib.sh, not run). hearth resolves every name through
# pebble-challtestsrv, which answers 127.0.0.1 for all of them (tests add
# TXT, A, CNAME and CAA records through its management API), and connects
# to port 5002 for http-01 and port 5001 for tls-alpn-01, where the client
# under test (certbot, lego, Caddy, or a test's own responder) answers.
# These ports are fixed, so the CTest tests that source this file hold the
# RESOURCE_LOCK "loopback_fixed_ports" (tests/CMakeLists.txt gives it to
# every e2e script with a "# fixed-ports" line) and never run at the same
# time.

HTTP01_PORT=5002
TLSALPN01_PORT=5001
DNS_PORT=8053
DNS_MGMT_PORT=8055
DNS_MGMT="http://127.0.0.1:$DNS_MGMT_PORT"
# python3-acme, josepy and cryptography are Debian packages: use the
# system interpreter, whatever python3 comes first on PATH.
# shellcheck disable=SC2034 # used by the scripts that source this file
SYS_PYTHON=/usr/bin/python3
# shellcheck disable=SC2034
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# port_free PORT: nothing listens on 127.0.0.1:PORT or [::1]:PORT (TCP) or
# holds 127.0.0.1:PORT (UDP). A machine without IPv6 loopback passes the
# ::1 check.
port_free() {
	python3 - "$1" <<'PY'
import errno, socket, sys
port = int(sys.argv[1])
for family, host, kind in ((socket.AF_INET, "127.0.0.1", socket.SOCK_STREAM),
                           (socket.AF_INET, "127.0.0.1", socket.SOCK_DGRAM),
                           (socket.AF_INET6, "::1", socket.SOCK_STREAM)):
    try:
        s = socket.socket(family, kind)
    except OSError:
        continue
    if kind == socket.SOCK_STREAM:
        # an earlier test's connections may linger in TIME_WAIT: not a user
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError as e:
        if family == socket.AF_INET6 and e.errno == errno.EADDRNOTAVAIL:
            continue
        sys.exit(1)
    finally:
        s.close()
PY
}

# require_fixed_ports: waits for the machine-wide lock on the fixed ports
# (other builds' test runs take it too, which CTest's RESOURCE_LOCK cannot
# see), then fails the test early, and says why, when something else
# holds one of them.
require_fixed_ports() {
	local p lock="${TMPDIR:-/tmp}/hearth-e2e-fixed-ports.lock"
	exec {FIXED_PORTS_FD}>>"$lock"
	if ! flock -w 900 "$FIXED_PORTS_FD"; then
		echo "could not take $lock: another test run holds the fixed ports" >&2
		return 1
	fi
	for p in "$HTTP01_PORT" "$TLSALPN01_PORT" "$DNS_PORT" "$DNS_MGMT_PORT"; do
		if ! port_free "$p"; then
			echo "port $p on loopback is in use by another process; these tests need it" >&2
			return 1
		fi
	done
}

# dns_answers NAME: the DNS server on DNS_PORT answers an A query for NAME
# with 127.0.0.1 (a hand-built query, so no resolver library is needed).
dns_answers() {
	python3 - "$1" "$DNS_PORT" <<'PY'
import socket, struct, sys
name, port = sys.argv[1], int(sys.argv[2])
q = struct.pack(">HHHHHH", 0x4854, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1)
try:
    s.sendto(q, ("127.0.0.1", port))
    r = s.recv(512)
except OSError:
    sys.exit(1)
ok = r[:2] == q[:2] and struct.unpack(">H", r[6:8])[0] >= 1 and bytes([0, 1, 0, 1]) in r[12:] and bytes([0, 4, 127, 0, 0, 1]) in r
sys.exit(0 if ok else 1)
PY
}

# start_dns: pebble-challtestsrv as the only DNS server, every A query
# answered with 127.0.0.1 and no AAAA, its challenge servers off. Waits
# until it answers. Sets DNS_PID.
start_dns() {
	local log="$WORK/challtestsrv.log"
	(no_lock_fd; exec pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
		-dns01 "127.0.0.1:$DNS_PORT" -http01 "" -https01 "" -tlsalpn01 "" \
		-management "127.0.0.1:$DNS_MGMT_PORT" >>"$log" 2>&1) &
	DNS_PID=$!
	PIDS+=("$DNS_PID")
	for _ in $(seq 1 100); do
		# challtestsrv keeps running when it cannot bind: its log says so
		if grep -q "address already in use" "$log"; then
			echo "pebble-challtestsrv could not bind its ports:" >&2
			cat "$log" >&2
			return 1
		fi
		if dns_answers probe.corp.internal && grep -q "Starting management server" "$log"; then
			return 0
		fi
		if ! kill -0 "$DNS_PID" 2>/dev/null; then
			echo "pebble-challtestsrv exited during start-up:" >&2
			cat "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "pebble-challtestsrv does not answer on 127.0.0.1:$DNS_PORT:" >&2
	cat "$log" >&2
	return 1
}

# start_responder WEBROOT: the http-01 responder (acmetest.py serve) on
# HTTP01_PORT, answering from the files in WEBROOT, for every phase of a
# test, so hearth finds the challenge files whenever it looks. Waits until
# it answers. Sets RESPONDER_PID.
responder_up() { curl -s --noproxy '*' -o /dev/null "http://127.0.0.1:$HTTP01_PORT/probe"; }
start_responder() {
	"$SYS_PYTHON" "$E2E_DIR/acmetest.py" serve "$1" "$HTTP01_PORT" >"$WORK/responder.log" 2>&1 &
	RESPONDER_PID=$!
	PIDS+=("$RESPONDER_PID")
	for _ in $(seq 1 100); do
		responder_up && return 0
		sleep 0.1
	done
	echo "the challenge responder does not answer on 127.0.0.1:$HTTP01_PORT:" >&2
	cat "$WORK/responder.log" >&2
	return 1
}

# start_acme_server DATA_DIR PORT [extra args...]: hearth validating http-01
# and tls-alpn-01 on loopback through the test DNS server.
start_acme_server() {
	local dir=$1 port=$2
	shift 2
	start_server "$dir" "$port" --http01-port "$HTTP01_PORT" \
		--tlsalpn01-port "$TLSALPN01_PORT" --resolver "127.0.0.1:$DNS_PORT" "$@"
}

# dns_set PATH JSON: one call of challtestsrv's management API (see
# DnsAdmin in acmetest.py for the endpoints of Debian's pebble 2.4).
dns_set() {
	curl -sf -X POST -d "$2" "$DNS_MGMT$1" -o /dev/null
}

# validated DATA_DIR TYPE NAME: hearth's log shows a validation of NAME
# ("*.NAME" for a wildcard) by challenge TYPE.
validated() {
	local name=${3//./\\.}
	name=${name//\*/\\*}
	grep -qE "validation [^ ]+: $2 $name \(try [0-9]+\)" "$1.log"
}

# cert_serial FILE: the certificate's serial number in upper-case hex.
cert_serial() {
	openssl x509 -in "$1" -noout -serial | cut -d= -f2
}

# nth_cert FILE N: the Nth PEM certificate of a bundle (from 1).
nth_cert() {
	awk -v want="$2" '/-----BEGIN CERTIFICATE-----/{n++} n==want{print} /-----END CERTIFICATE-----/{if(n==want) exit}' "$1"
}

# count_certs FILE: how many PEM certificates the file holds.
count_certs() {
	grep -c -- "-----BEGIN CERTIFICATE-----" "$1"
}

# same_cert A B: two PEM certificates are the same DER.
same_cert() {
	cmp -s <(openssl x509 -in "$1" -outform DER) <(openssl x509 -in "$2" -outform DER)
}

# verify_leaf DATA_DIR LEAF: the leaf chains to DATA_DIR's root through its
# intermediate and is fit for a TLS server.
verify_leaf() {
	verify_leaf_with "$1/ca/root.crt" "$1/ca/intermediate.crt" "$2"
}

# verify_bundle DATA_DIR BUNDLE: leaf first, then exactly the intermediate,
# and the leaf verifies with the bundle's own second certificate.
verify_bundle() {
	local d=$1 bundle=$2 tmp
	tmp=$(mktemp -d "$WORK/bundle.XXXXXX")
	[ "$(count_certs "$bundle")" -eq 2 ] || return 1
	nth_cert "$bundle" 1 >"$tmp/leaf.pem"
	nth_cert "$bundle" 2 >"$tmp/second.pem"
	same_cert "$tmp/second.pem" "$d/ca/intermediate.crt" || return 1
	verify_leaf_with "$d/ca/root.crt" "$tmp/second.pem" "$tmp/leaf.pem"
}

# verify_leaf_with ROOT INTERMEDIATES LEAF
verify_leaf_with() {
	local out
	out=$(openssl verify -CAfile "$1" -untrusted "$2" -purpose sslserver "$3" 2>&1) || return 1
	grep -q ": OK$" <<<"$out"
}

# cert_names FILE: the subjectAltName DNS names, one per line, sorted.
cert_names() {
	local ext
	ext=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null) || return 0
	grep -o 'DNS:[^, ]*' <<<"$ext" | cut -d: -f2 | sort || true
}

# logged NAME COMMAND...: runs a client with its output in $WORK/NAME.out,
# shown on failure. Returns the command's status.
logged() {
	local name=$1 rc=0
	shift
	"$@" >"$WORK/$name.out" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "--- $name exited with $rc:" >&2
		tail -n 40 "$WORK/$name.out" >&2
	fi
	return "$rc"
}

# fails_with OUT PATTERN COMMAND...: the command fails, and its output (kept
# in OUT) matches PATTERN (grep -E).
fails_with() {
	local out=$1 pattern=$2
	shift 2
	if "$@" >"$out" 2>&1; then
		echo "--- expected a failure, got success:" >&2
		tail -n 20 "$out" >&2
		return 1
	fi
	grep -qE -- "$pattern" "$out"
}

# server_healthy: the last server is running, answered no request with a
# 500, and its log has no sanitizer report (builds with HEARTH_SANITIZE).
server_healthy() {
	check "server process survived" kill -0 "$SERVER_PID"
	check_not "server answered no request with 500" grep -qE '" 500 [0-9.]+ms' "$SERVER_LOG"
	check_not "server log has no sanitizer report" \
		grep -qE "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$SERVER_LOG"
}
