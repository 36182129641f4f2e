#!/usr/bin/env bash
# test_serve.sh: hearth serve over real TLS with curl, openssl and raw
# sockets, trusting only DIR/ca/root.crt: directory, newNonce, TLS versions,
# keep-alive, malformed and oversize requests, logs, restart, auto-init.
. "$(dirname "$0")/lib.sh"

D="$WORK/data"
PORT=$(free_port)
CURL=(curl -sS --cacert "$D/ca/root.crt")

# serve on an empty directory creates the CA first (the README's first command)
start_server "$D" "$PORT" --idle-timeout 3
check "serve created the root on first start" test -s "$D/ca/root.crt"
check "start-up names the root to distribute" grep -q "distribute $D/ca/root.crt" "$SERVER_LOG"

# the directory, by name and by IP, with the root as the only trust
DIR_JSON=$("${CURL[@]}" "https://localhost:$PORT/directory")
check "directory parses and lists every resource" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
base = "https://localhost:" + sys.argv[2]
for k, p in [("newNonce", "/acme/new-nonce"), ("newAccount", "/acme/new-account"),
             ("newOrder", "/acme/new-order"), ("newAuthz", "/acme/new-authz"),
             ("revokeCert", "/acme/revoke-cert"), ("keyChange", "/acme/key-change")]:
    assert d[k] == base + p, (k, d.get(k))
assert d["meta"]["externalAccountRequired"] is False
' "$DIR_JSON" "$PORT"
check "directory over https://127.0.0.1 (IP SAN)" \
	"${CURL[@]}" -o /dev/null -f "https://127.0.0.1:$PORT/directory"
check_not "no trust without the root" \
	curl -sS --capath /nonexistent --cacert /dev/null -o /dev/null "https://localhost:$PORT/directory"

# newNonce: HEAD 200 and GET 204 with the headers RFC 8555 §7.2 wants
H=$("${CURL[@]}" -I "https://localhost:$PORT/acme/new-nonce")
check "HEAD newNonce is 200" grep -q "^HTTP/1.1 200" <<<"$H"
check "HEAD newNonce has Replay-Nonce" grep -qiE "^replay-nonce: [A-Za-z0-9_-]{22}" <<<"$H"
check "newNonce is not cacheable" grep -qi "^cache-control: no-store" <<<"$H"
check "newNonce links the directory" \
	grep -qi "^link: <https://localhost:$PORT/directory>;rel=\"index\"" <<<"$H"
G=$("${CURL[@]}" -D - -o /dev/null "https://localhost:$PORT/acme/new-nonce")
check "GET newNonce is 204" grep -q "^HTTP/1.1 204" <<<"$G"
N1=$(grep -i "^replay-nonce" <<<"$H" | tr -d '\r' | cut -d' ' -f2)
N2=$(grep -i "^replay-nonce" <<<"$G" | tr -d '\r' | cut -d' ' -f2)
check "nonces differ" test "$N1" != "$N2"

# problem documents for what is not a resource
P=$("${CURL[@]}" -D - "https://localhost:$PORT/nope")
check "unknown path is a 404 problem document" grep -q "^HTTP/1.1 404" <<<"$P"
check "problem content type" grep -qi "^content-type: application/problem+json" <<<"$P"
check "problem type" grep -q '"type":"urn:ietf:params:acme:error:malformed"' <<<"$P"

# a JWS body with very many members is refused before any quadratic work
MANY=$(python3 -c 'import json; print(json.dumps({"m%d" % i: i for i in range(3000)}))')
P=$("${CURL[@]}" -D - -H 'Content-Type: application/jose+json' --data-binary "$MANY" \
	"https://localhost:$PORT/acme/new-account")
check "a body with thousands of members is malformed" grep -q '"type":"urn:ietf:params:acme:error:malformed"' <<<"$P"
check "and says why" grep -q "at most 32" <<<"$P"

# TLS 1.2 and 1.3 both work; older versions do not
check "TLS 1.2" "${CURL[@]}" -o /dev/null -f --tlsv1.2 --tls-max 1.2 "https://localhost:$PORT/directory"
check "TLS 1.3" "${CURL[@]}" -o /dev/null -f --tlsv1.3 "https://localhost:$PORT/directory"
tls_handshake() {
	openssl s_client -connect "127.0.0.1:$PORT" "$1" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1
}
check "openssl s_client TLS 1.2 handshake" tls_handshake -tls1_2
check_not "TLS 1.1 refused" tls_handshake -tls1_1
check_not "TLS 1.0 refused" tls_handshake -tls1

# the served chain verifies against the root with the intermediate
openssl s_client -connect "127.0.0.1:$PORT" -servername localhost -showcerts </dev/null \
	2>/dev/null | awk -v out="$WORK/cert" '/BEGIN CERT/{n++; p=1} p{print > (out n ".pem")} /END CERT/{p=0}'
cp "$WORK/cert1.pem" "$WORK/leaf.pem"
check "server sends leaf and intermediate" cmp -s <(openssl x509 -in "$WORK/cert2.pem") \
	<(openssl x509 -in "$D/ca/intermediate.crt")
check "server chain verifies with openssl verify" bash -c "openssl verify -CAfile '$D/ca/root.crt' \
	-untrusted '$D/ca/intermediate.crt' '$WORK/leaf.pem' | grep -q ': OK'"
check "server certificate names localhost, 127.0.0.1 and ::1" bash -c "openssl x509 -in '$WORK/leaf.pem' \
	-noout -ext subjectAltName | grep -q 'DNS:localhost' && openssl x509 -in '$WORK/leaf.pem' \
	-noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' && openssl x509 -in '$WORK/leaf.pem' \
	-noout -ext subjectAltName | grep -q 'IP Address:0:0:0:0:0:0:0:1'"

# keep-alive: two requests, one connection
V=$("${CURL[@]}" -v -o /dev/null -o /dev/null "https://localhost:$PORT/directory" \
	"https://localhost:$PORT/acme/new-nonce" 2>&1)
check "keep-alive reuses the connection" grep -q "Re-using existing connection" <<<"$V"

# Connection: close and HTTP/1.0 still get their whole response
check "Connection: close gets a whole response" bash -c "'${CURL[0]}' -sS --cacert '$D/ca/root.crt' \
	-H 'Connection: close' 'https://localhost:$PORT/directory' | grep -q newAccount"
check "HTTP/1.0 gets a whole response" bash -c "curl -sS --cacert '$D/ca/root.crt' --http1.0 \
	'https://localhost:$PORT/directory' | grep -q keyChange"

# raw requests over TLS: malformed, oversize, idle
raw() {
	python3 - "$PORT" "$D/ca/root.crt" "$1" <<'PY'
import socket, ssl, sys, time
port, ca, kind = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20),
                    server_hostname="localhost")
def send(data):
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may answer and close before the client is done
if kind == "garbage":
    send(b"\x00\x01\x02 this is not HTTP\r\n\r\n")
elif kind == "badversion":
    send(b"GET /directory HTTP/9.9\r\nHost: localhost\r\n\r\n")
elif kind == "bigheader":
    send(b"GET /directory HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")
elif kind == "bigbody":
    send(b"POST /acme/new-account HTTP/1.1\r\nHost: localhost\r\n"
              b"Content-Type: application/jose+json\r\nContent-Length: 200000\r\n\r\n" + b"x" * 200000)
elif kind == "hugebody":
    send(b"POST /acme/new-account HTTP/1.1\r\nHost: localhost\r\n"
              b"Content-Type: application/jose+json\r\nContent-Length: 5000000\r\n\r\n" + b"x" * 5000000)
elif kind == "idle":
    t0 = time.time()
    try:
        data = s.recv(100)
    except (ssl.SSLError, OSError):
        data = b""
    print("closed" if data == b"" and time.time() - t0 < 15 else "open")
    sys.exit(0)
out = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
except (ssl.SSLError, OSError):
    pass
print(out.split(b"\r\n\r\n", 1)[0].decode("latin-1"))
PY
}
check "garbage request line gets 400" grep -q "^HTTP/1.1 400" <<<"$(raw garbage)"
check "unknown HTTP version gets 400" grep -qE "^HTTP/1.1 (400|505)" <<<"$(raw badversion)"
check "oversize header gets 4xx" grep -qE "^HTTP/1.1 (400|413|431)" <<<"$(raw bigheader)"
BIG=$(raw bigbody)
check "oversize body gets 413" grep -qE "^HTTP/1.1 413" <<<"$BIG"
check "oversize body is answered with a problem document" \
	grep -qi "^content-type: application/problem+json" <<<"$BIG"
check "a body far over the cap is stopped before it is read" \
	grep -qE "^HTTP/1.1 413" <<<"$(raw hugebody)"
check "idle connection is closed" grep -q "^closed" <<<"$(raw idle)"
# a TLS handshake that never finishes, and plain HTTP on the TLS port
check "plain HTTP on the TLS port does not break the server" bash -c \
	"printf 'GET / HTTP/1.1\r\n\r\n' | timeout 10 python3 -c 'import socket,sys; s=socket.create_connection((\"127.0.0.1\",$PORT)); s.sendall(sys.stdin.buffer.read()); s.settimeout(8); s.recv(100)' ; true"
check "server still answers after bad input" "${CURL[@]}" -o /dev/null -f "https://localhost:$PORT/directory"
check "server process survived" kill -0 "$SERVER_PID"

# one log line per request: method, path, status, duration
check "request log line" grep -qE 'GET "/directory" 200 [0-9.]+ms' "$SERVER_LOG"
check "log line for HEAD newNonce" grep -qE 'HEAD "/acme/new-nonce" 200 [0-9.]+ms' "$SERVER_LOG"

# a second server on the same address fails instead of sharing the port
set +e
timeout 20 "$HEARTH_BIN" serve --data "$D" --listen "127.0.0.1:$PORT" >"$WORK/second.log" 2>&1
RC=$?
set -e
check "second server on the same port exits with an error" test "$RC" -eq 1
check "second server says why" grep -q "Address already in use" "$WORK/second.log"

# restart keeps the CA
ROOT_SUM=$(sha256sum "$D/ca/root.crt")
stop_server
start_server "$D" "$PORT"
check "restart keeps the root" test "$ROOT_SUM" = "$(sha256sum "$D/ca/root.crt")"
check "directory after restart" "${CURL[@]}" -o /dev/null -f "https://localhost:$PORT/directory"
stop_server

# without the PKI listener (and no --pki-url) the server still starts, OCSP
# being on by default: leaves then carry no revocation URLs
start_server "$D" "$PORT" --pki-listen off
check "serves with --pki-listen off" "${CURL[@]}" -o /dev/null -f "https://localhost:$PORT/directory"
check "says leaves carry no revocation URLs" grep -q "leaves carry no CRL or OCSP URLs" "$SERVER_LOG"
stop_server

# bad command lines are refused with a reason and exit status 2
set +e
OUT=$("$HEARTH_BIN" serve --data "$D" --listen nope 2>&1); RC=$?
set -e
check "bad --listen refused" test "$RC" -eq 2
check "bad --listen names the flag" grep -q -- "--listen" <<<"$OUT"

# hearth links no OpenSSL itself: libpq (the PostgreSQL store) alone loads
# it, for its own TLS, and the binary exports none of the OpenSSL-named
# functions of wolfSSL's compatibility layer for libssl to bind to
check_not "no OpenSSL linked by hearth itself" bash -c \
	"readelf -d '$HEARTH_BIN' | grep NEEDED | grep -qE 'libssl|libcrypto'"
check_not "no OpenSSL-named symbol exported" bash -c \
	"nm -D --defined-only '$HEARTH_BIN' | grep -qE ' (SSL|EVP|BIO|X509|ERR|OPENSSL)_'"
# (statically or not: test_wolfssl.sh checks which one it loads)
check "wolfSSL linked" bash -c "'$HEARTH_BIN' version | grep -q '^wolfSSL '"

done_checks
