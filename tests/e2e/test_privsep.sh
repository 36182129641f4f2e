#!/usr/bin/env bash
# test_privsep.sh: hearth serve started as root (as CI runs it) with its two
# users: the serving process and the signer run as `hearth` and
# `hearth-signer` (real, effective, saved and filesystem ids, no
# capabilities, no new privileges), the serving user cannot read any key or
# the generated root passphrase, the signer dies with the server, certbot
# still gets a certificate through it, root.pass handling, missing and
# clashing users, a challenge pointed at hearth's own port refused with a
# clear detail, and, started as another user, one user running both.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "test_privsep.sh starts hearth as root, as CI runs it; run it as root" >&2
	exit 1
fi

HUID=$(id -u "$HEARTH_USER")
SUID=$(id -u "$HEARTH_SIGNER_USER")
# as_user USER COMMAND...: runs a command as USER and nothing of root.
as_user() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$(id -g "$u")" --clear-groups "$@"
}
# ids PID FIELD: the Uid or Gid line of a process, four ids.
ids() { awk -v f="$2:" '$1 == f { print $2, $3, $4, $5 }' "/proc/$1/status"; }
status_line() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
owner() { stat -c %U "$1"; }
mode() { stat -c %a "$1"; }
# launcher_of PID: the server's only child, the launcher that starts and
# restarts signers (it stays root: docs/security.md); signer_of PID: the
# signer process, the launcher's only child.
launcher_of() { pgrep -P "$1" || true; }
signer_of() { local l; l=$(launcher_of "$1"); [ -n "$l" ] && pgrep -P "$l" || true; }
# can_read USER FILE: USER can read FILE.
can_read() { as_user "$1" cat "$2" >/dev/null 2>&1; }
# can_signal USER PID: USER may send signals to PID.
can_signal() { as_user "$1" kill -0 "$2" 2>/dev/null; }

D="$WORK/data"
PORT=$(free_port)
require_fixed_ports
start_dns

check "init as root" "$HEARTH_BIN" init --data "$D"
check "init generated root.pass" test -s "$D/ca/root.pass"
# every directory on the way readable for the users, so that only the
# files' own modes stand between them and the keys
chmod 711 "$WORK" "$D" "$D/ca"
dir=$(dirname "$WORK")
while [ "$dir" != / ]; do chmod o+x "$dir"; dir=$(dirname "$dir"); done

start_acme_server "$D" "$PORT"
SIGNER=$(signer_of "$SERVER_PID")
check "the server has one child, the signer" test -n "$SIGNER" -a -d "/proc/$SIGNER"

# the two processes and their users
check "serving process runs as $HEARTH_USER (all four uids)" \
	test "$(ids "$SERVER_PID" Uid)" = "$HUID $HUID $HUID $HUID"
check "serving process has hearth's group only" \
	test "$(ids "$SERVER_PID" Gid)" = "$(id -g "$HEARTH_USER") $(id -g "$HEARTH_USER") $(id -g "$HEARTH_USER") $(id -g "$HEARTH_USER")"
check "signer runs as $HEARTH_SIGNER_USER (all four uids)" \
	test "$(ids "$SIGNER" Uid)" = "$SUID $SUID $SUID $SUID"
for pid in "$SERVER_PID" "$SIGNER"; do
	check "process $pid has no capabilities" test "$(status_line "$pid" CapPrm)" = 0000000000000000 \
		-a "$(status_line "$pid" CapEff)" = 0000000000000000
	check "process $pid cannot gain privileges" test "$(status_line "$pid" NoNewPrivs)" = 1
done
check "log says who runs what" grep -q "the signer runs as $HEARTH_SIGNER_USER (uid $SUID), the serving process as $HEARTH_USER (uid $HUID)" "$SERVER_LOG"
check "log says the server dropped root" grep -q "serving process now runs as $HEARTH_USER" "$SERVER_LOG"
check "log warns that root.pass is still next to the key" grep -q "root.pass is still here (owned by root, unreadable by the serving user)" "$SERVER_LOG"
check_not "the serving process holds no descriptor of a CA file" \
	bash -c "ls -l /proc/$SERVER_PID/fd | grep -q '$D/ca'"

# files: owners and modes
check "intermediate.key is the signer's, 0600" test "$(owner "$D/ca/intermediate.key")" = "$HEARTH_SIGNER_USER" \
	-a "$(mode "$D/ca/intermediate.key")" = 600
check "root.key is root's, 0600" test "$(owner "$D/ca/root.key")" = root -a "$(mode "$D/ca/root.key")" = 600
check "root.pass is root's, 0600" test "$(owner "$D/ca/root.pass")" = root -a "$(mode "$D/ca/root.pass")" = 600
check "DIR/db is the serving user's" test "$(owner "$D/db")" = "$HEARTH_USER" \
	-a "$(owner "$D/db/data.mdb")" = "$HEARTH_USER" -a "$(owner "$D/db/lock.mdb")" = "$HEARTH_USER"

# what the serving user can and cannot read
check "the serving user reaches DIR/ca (it can read root.crt)" can_read "$HEARTH_USER" "$D/ca/root.crt"
for f in intermediate.key root.key root.pass; do
	check_not "the serving user cannot read $f" can_read "$HEARTH_USER" "$D/ca/$f"
done
check "the signer's user can read intermediate.key" can_read "$HEARTH_SIGNER_USER" "$D/ca/intermediate.key"
check_not "the signer's user cannot read root.pass" can_read "$HEARTH_SIGNER_USER" "$D/ca/root.pass"
check_not "the serving user cannot signal the signer" can_signal "$HEARTH_USER" "$SIGNER"

# certbot gets a certificate through the separated server
export REQUESTS_CA_BUNDLE="$D/ca/root.crt"
CB="$WORK/certbot"
check "certbot certonly" logged certbot certbot --non-interactive --config-dir "$CB/config" \
	--work-dir "$CB/work" --logs-dir "$CB/logs" certonly \
	--server "https://localhost:$PORT/directory" --agree-tos -m admin@corp.internal \
	--no-eff-email --standalone --http-01-port "$HTTP01_PORT" --cert-name web \
	-d web.corp.internal
check "the certificate verifies against the root" verify_leaf "$D" "$CB/config/live/web/cert.pem"
server_healthy
stop_server
for _ in $(seq 1 100); do [ -d "/proc/$SIGNER" ] || break; sleep 0.1; done
check "the signer ended with the server" test ! -d "/proc/$SIGNER"

# root.pass: handed back to root when the serving user owns it; refused
# when group or others may read it
chown "$HEARTH_USER" "$D/ca/root.pass"
PORT=$(free_port)
start_acme_server "$D" "$PORT"
check "root.pass owned by the serving user is given back to root" test "$(owner "$D/ca/root.pass")" = root
stop_server
chmod 644 "$D/ca/root.pass"
set +e
OUT=$(timeout 20 "$HEARTH_BIN" serve --data "$D" --listen "127.0.0.1:$(free_port)" 2>&1); RC=$?
set -e
check "serve refuses a root.pass others may read" test "$RC" -eq 1
check "and names the file, its mode and the fix" grep -qF \
	"$D/ca/root.pass: mode 0644 lets group or others read it; refusing to start (chmod 600 $D/ca/root.pass)" <<<"$OUT"
mv "$D/ca/root.pass" "$WORK/root.pass.offline"
mv "$D.log" "$D.log.before-offline"
PORT=$(free_port)
start_acme_server "$D" "$PORT"
check_not "with root.pass moved offline, no warning" grep -q "root.pass is still here" "$SERVER_LOG"
stop_server

# users: missing, the same for both, root
set +e
OUT=$(timeout 20 "$HEARTH_BIN" serve --data "$D" --listen "127.0.0.1:$(free_port)" \
	--user hearth-no-such-user 2>&1); RC=$?
set -e
check "a missing user stops the start" test "$RC" -eq 1
check "and says how to create it" grep -qF 'user "hearth-no-such-user" does not exist; create it with: useradd --system' <<<"$OUT"
set +e
OUT=$(timeout 20 "$HEARTH_BIN" serve --data "$D" --listen "127.0.0.1:$(free_port)" \
	--signer-user "$HEARTH_USER" 2>&1); RC=$?
set -e
check "one user for both processes is refused" test "$RC" -eq 1
check "and says why" grep -q "the signer needs a user of its own" <<<"$OUT"
set +e
OUT=$(timeout 20 "$HEARTH_BIN" serve --data "$D" --listen "127.0.0.1:$(free_port)" --user root 2>&1); RC=$?
set -e
check "root as the serving user is refused" test "$RC" -eq 1
check "and says why" grep -q "hearth needs an unprivileged user" <<<"$OUT"

# a challenge pointed at hearth's own port: refused, never connected
PORT=$(free_port)
start_server "$D" "$PORT" --http01-port "$PORT" --tlsalpn01-port "$TLSALPN01_PORT" \
	--resolver "127.0.0.1:$DNS_PORT"
# (certbot's own message varies by version: the problem is read from its log)
check_not "certbot fails when http-01 would reach hearth itself" certbot --non-interactive \
	--config-dir "$CB/config-self" --work-dir "$CB/work" --logs-dir "$CB/logs-self" certonly \
	--server "https://localhost:$PORT/directory" --agree-tos -m admin@corp.internal \
	--no-eff-email --standalone --http-01-port "$HTTP01_PORT" --cert-name self \
	-d self.corp.internal >"$WORK/self.out" 2>&1
check "the challenge's error is a connection problem" grep -qF \
	'"type":"urn:ietf:params:acme:error:connection"' "$CB/logs-self/letsencrypt.log"
check "whose detail names the address and the listener" grep -qF \
	"127.0.0.1:$PORT is this server's own listener 127.0.0.1:$PORT, never a validation target" \
	"$CB/logs-self/letsencrypt.log"
server_healthy
stop_server

# started as another user: one user for both, said in the log
N="$WORK/nonroot"
install -d -o "$HEARTH_USER" -m 700 "$N"
cp -a "$D/ca" "$N/ca"
chown -R "$HEARTH_USER" "$N/ca"
PORT=$(free_port)
setpriv --reuid="$HEARTH_USER" --regid="$(id -g "$HEARTH_USER")" --clear-groups \
	"$HEARTH_BIN" serve --data "$N" --listen "127.0.0.1:$PORT" --threads 1 >"$N.log" 2>&1 &
SERVER_PID=$!
SERVER_LOG="$N.log"
PIDS+=("$SERVER_PID")
for _ in $(seq 1 300); do
	curl -sf --cacert "$N/ca/root.crt" "https://localhost:$PORT/directory" -o /dev/null && break
	kill -0 "$SERVER_PID" 2>/dev/null || break
	sleep 0.1
done
check "serve as a user other than root answers" \
	curl -sf --cacert "$N/ca/root.crt" "https://localhost:$PORT/directory" -o /dev/null
check "and says one user runs both processes" grep -q "running as uid $HUID, not root: the signer and the serving process share this user" "$N.log"
SIGNER=$(signer_of "$SERVER_PID")
check "its signer runs as that user too" test "$(ids "$SIGNER" Uid)" = "$HUID $HUID $HUID $HUID"
check "its signer cannot gain privileges either" test "$(status_line "$SIGNER" NoNewPrivs)" = 1
stop_server
set +e
OUT=$(as_user "$HEARTH_USER" timeout 20 "$HEARTH_BIN" serve --data "$N" \
	--listen "127.0.0.1:$(free_port)" --user "$HEARTH_USER" 2>&1); RC=$?
set -e
check "--user without root is refused" test "$RC" -eq 1
check "and says so" grep -q "user: only used when hearth serve starts as root" <<<"$OUT"

done_checks
