# replicas.sh: two hearth replicas on one PostgreSQL behind HAProxy, for
# the end-to-end tests of docs/high-availability.md (sourced after lib.sh
# and loopback.sh, not run).
#
# One PostgreSQL server of the test's own (pg.sh) holds the records. One
# `hearth init` makes the CA in $R1; $R2 gets a copy of its ca/ (as a
# second machine would), so both replicas sign with the same intermediate
# and present listener certificates chaining to the same root. What stays
# per replica is the rest of DIR: DIR/db/tls.crt, the log, the ports.
# HAProxy (Debian's) runs in TCP mode, round-robin, in front of both ACME
# listeners (TLS passes through to hearth) and both PKI listeners, and
# checks each replica's /readyz on its admin listener. --base-url and
# --pki-url name the HAProxy frontends, so every URL a client or a relying
# party is given goes through the load balancer.
#
#   replicas_start [ARGS...]   starts PostgreSQL, both replicas (ARGS
#                              added to each) and HAProxy; sets LB_URL,
#                              LB_PKI, ROOT, R1 R2 (data dirs), R1_PID
#                              R2_PID, R1_PORT R2_PORT, R1_PKI R2_PKI,
#                              R1_ADMIN R2_ADMIN, STORE_URI
#   replica_start N [ARGS...]  (re)starts replica N alone
#   replica_count N            ACME requests replica N answered (its log)

. "$(dirname "${BASH_SOURCE[0]}")/pg.sh"

R1="$WORK/r1"
R2="$WORK/r2"
LB_PORT=$(free_port)
LB_PKI_PORT=$(free_port)
LB_URL="https://localhost:$LB_PORT"
LB_PKI="http://127.0.0.1:$LB_PKI_PORT"
ROOT="$R1/ca/root.crt"
REPLICA_ARGS=()

# replica_start N [ARGS...]: hearth serve for replica N on the shared
# store, waiting until its own listener answers; sets RN_PID.
replica_start() {
	local n=$1 dir port pki admin
	shift
	dir="$WORK/r$n"
	port=$(cat "$dir.port")
	pki=$(cat "$dir.pki")
	admin=$(cat "$dir.admin")
	start_acme_server "$dir" "$port" --store "$STORE_URI" \
		--pki-listen "127.0.0.1:$pki" --admin-listen "127.0.0.1:$admin" \
		--base-url "$LB_URL" --pki-url "$LB_PKI" "${REPLICA_ARGS[@]}" "$@"
	printf -v "R${n}_PID" '%s' "$SERVER_PID"
}

# haproxy_config: TCP mode, round-robin, health checks against /readyz on
# each replica's admin listener; a connection whose server is down is
# sent to the other (redispatch). When no replica is ready (the database
# is down), the same replicas are used as backups, unchecked (httpchk
# would apply to them too), so clients get hearth's 503 with Retry-After
# rather than a connection HAProxy closes unanswered; a backup that is
# dead is passed over by redispatch. docs/high-availability.md
# shows it.
haproxy_config() {
	cat <<-EOF
	global
	    maxconn 4096
	defaults
	    mode tcp
	    timeout connect 2s
	    timeout client 60s
	    timeout server 60s
	    retries 3
	    option redispatch
	frontend acme
	    bind 127.0.0.1:$LB_PORT
	    default_backend hearth_acme
	backend hearth_acme
	    balance roundrobin
	    option httpchk GET /readyz
	    default-server inter 500ms fall 2 rise 2
	    option allbackups
	    server r1 127.0.0.1:$R1_PORT check port $R1_ADMIN
	    server r2 127.0.0.1:$R2_PORT check port $R2_ADMIN
	    server r1-unready 127.0.0.1:$R1_PORT backup
	    server r2-unready 127.0.0.1:$R2_PORT backup
	frontend pki
	    bind 127.0.0.1:$LB_PKI_PORT
	    default_backend hearth_pki
	backend hearth_pki
	    balance roundrobin
	    option httpchk GET /readyz
	    default-server inter 500ms fall 2 rise 2
	    option allbackups
	    server r1 127.0.0.1:$R1_PKI check port $R1_ADMIN
	    server r2 127.0.0.1:$R2_PKI check port $R2_ADMIN
	    server r1-unready 127.0.0.1:$R1_PKI backup
	    server r2-unready 127.0.0.1:$R2_PKI backup
	EOF
}

# haproxy_start: HAProxy in the foreground (-db) with haproxy_config,
# waiting until both replicas are up behind it.
haproxy_start() {
	local cfg="$WORK/haproxy.cfg" i
	haproxy_config >"$cfg"
	(no_lock_fd; exec haproxy -db -f "$cfg" >>"$WORK/haproxy.log" 2>&1) &
	HAPROXY_PID=$!
	PIDS+=("$HAPROXY_PID")
	for i in $(seq 1 200); do
		if curl -sf --cacert "$ROOT" "$LB_URL/directory" -o /dev/null 2>/dev/null &&
			curl -sf "$LB_PKI/ca/root.crt" -o /dev/null 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$HAPROXY_PID" 2>/dev/null; then
			echo "haproxy exited during start-up:" >&2
			cat "$WORK/haproxy.log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "haproxy does not answer on $LB_URL:" >&2
	cat "$WORK/haproxy.log" >&2
	return 1
}

# replicas_start [ARGS...]: the whole shape (see the top of this file).
replicas_start() {
	local n
	REPLICA_ARGS=("$@")
	pg_start || return 1
	STORE_URI=$(pg_createdb hearth) || return 1
	"$HEARTH_BIN" init --data "$R1" >"$WORK/init.out" 2>&1 || { cat "$WORK/init.out" >&2; return 1; }
	mkdir -p "$R2"
	cp -a "$R1/ca" "$R2/ca"
	for n in 1 2; do
		free_port >"$WORK/r$n.port"
		free_port >"$WORK/r$n.pki"
		free_port >"$WORK/r$n.admin"
		printf -v "R${n}_PORT" '%s' "$(cat "$WORK/r$n.port")"
		printf -v "R${n}_PKI" '%s' "$(cat "$WORK/r$n.pki")"
		printf -v "R${n}_ADMIN" '%s' "$(cat "$WORK/r$n.admin")"
	done
	replica_start 1 || return 1
	replica_start 2 || return 1
	haproxy_start
}

# replica_count N: how many ACME requests replica N answered, from the
# access lines of its log (each carries an X-Request-Id).
replica_count() {
	grep -cE '" [0-9]{3} [0-9.]+ms' "$WORK/r$1.log" || true
}
