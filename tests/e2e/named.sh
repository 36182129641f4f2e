# shellcheck shell=bash
# named.sh: BIND 9 (Debian's named) as a test's own authoritative DNS
# server on loopback (sourced after lib.sh, not run). It serves the zone
# corp.internal from a generated configuration under $WORK/named: SOA, NS,
# a CAA record naming $NAMED_CAA_IDENTITY, recursion off, queries from
# loopback only, and RFC 2136 updates of TXT records allowed to the holder
# of one TSIG key (hmac-sha256, made by tsig-keygen). A second zone,
# lab.internal, is the same without CAA. It listens on a free port, so
# tests that use it need no fixed ports.

NAMED_ZONE=corp.internal
NAMED_KEY=hearth-acme
NAMED_CAA_IDENTITY=ca.corp.internal
NAMED_BARE_ZONE=lab.internal
NAMED_DIR="$WORK/named"
NAMED_LOG="$NAMED_DIR/named.log"
NAMED_PORT=
NAMED_PID=
NAMED_SECRET=

# named_write_zone ZONE [APEX-LINE]: the zone file, with APEX-LINE as one
# more record at the apex when given; the SOA's negative
# TTL is 1 second, so no client keeps an absent record in mind while the
# test waits for it.
named_write_zone() {
	cat >"$NAMED_DIR/$1.zone" <<EOF
\$TTL 60
@	IN SOA ns.$1. hostmaster.$1. ( 1 3600 600 86400 1 )
	IN NS ns.$1.
${2:-}
ns	IN A 127.0.0.1
EOF
}

# named_write_conf PORT: the configuration, everything under $NAMED_DIR.
# controls {} keeps named off rndc's fixed port 953. named runs with -g,
# which sends its whole log, updates included, to $NAMED_LOG.
named_write_conf() {
	cat >"$NAMED_DIR/named.conf" <<EOF
include "$NAMED_DIR/key.conf";
options {
	directory "$NAMED_DIR";
	pid-file none;
	session-keyfile "$NAMED_DIR/session.key";
	listen-on port $1 { 127.0.0.1; };
	listen-on-v6 { none; };
	recursion no;
	allow-query { 127.0.0.1; };
	allow-transfer { none; };
	notify no;
	dnssec-validation no;
};
controls { };
zone "$NAMED_ZONE" {
	type primary;
	file "$NAMED_DIR/$NAMED_ZONE.zone";
	update-policy { grant $NAMED_KEY. zonesub TXT; };
};
zone "$NAMED_BARE_ZONE" {
	type primary;
	file "$NAMED_DIR/$NAMED_BARE_ZONE.zone";
	update-policy { grant $NAMED_KEY. zonesub TXT; };
};
EOF
}

# named_soa: named answers the zone's SOA on NAMED_PORT.
named_soa() {
	dig +short +time=1 +tries=1 @127.0.0.1 -p "$NAMED_PORT" SOA "$NAMED_ZONE" \
		2>/dev/null | grep -q "^ns\.$NAMED_ZONE\. "
}

# named_try_start: starts named on NAMED_PORT and waits for it. 0 when it
# answers, 2 when the port was taken meanwhile, 1 on any other failure.
named_try_start() {
	named_write_conf "$NAMED_PORT"
	: >"$NAMED_LOG"
	(no_lock_fd; exec named -g -n 1 -c "$NAMED_DIR/named.conf" >>"$NAMED_LOG" 2>&1) &
	NAMED_PID=$!
	PIDS+=("$NAMED_PID")
	for _ in $(seq 1 100); do
		if named_soa; then return 0; fi
		# named keeps running when it cannot bind: its log says so
		if grep -q "address in use" "$NAMED_LOG"; then
			kill "$NAMED_PID" 2>/dev/null || true
			wait "$NAMED_PID" 2>/dev/null || true
			return 2
		fi
		kill -0 "$NAMED_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "named did not come up on 127.0.0.1:$NAMED_PORT:" >&2
	cat "$NAMED_LOG" >&2
	return 1
}

# start_named: writes the key, zone and configuration, starts named on a
# free port (another one if that was taken before named bound it) and
# waits until it answers. Sets NAMED_PORT, NAMED_PID and NAMED_SECRET.
start_named() {
	local try rc
	mkdir -p "$NAMED_DIR"
	tsig-keygen -a hmac-sha256 "$NAMED_KEY" >"$NAMED_DIR/key.conf"
	NAMED_SECRET=$(sed -n 's/^[[:space:]]*secret "\(.*\)";$/\1/p' "$NAMED_DIR/key.conf")
	[ -n "$NAMED_SECRET" ] || { echo "tsig-keygen wrote no secret" >&2; return 1; }
	named_write_zone "$NAMED_ZONE" \
		"	IN CAA 0 issue \"$NAMED_CAA_IDENTITY; validationmethods=dns-01\""
	named_write_zone "$NAMED_BARE_ZONE"
	for try in 1 2 3; do
		NAMED_PORT=$(free_port)
		rc=0
		named_try_start || rc=$?
		[ "$rc" -eq 2 ] || return "$rc"
		echo "port $NAMED_PORT was taken before named bound it (try $try)" >&2
	done
	return 1
}

# named_txt NAME: the TXT values named holds at NAME, one per line.
named_txt() {
	dig +short +time=2 +tries=1 @127.0.0.1 -p "$NAMED_PORT" TXT "$1"
}

# named_updated ACTION NAME [ZONE]: named's log shows an update of ZONE
# (corp.internal unless given), authenticated by the TSIG key, that added
# ("adding") or deleted ("deleting") a TXT record at NAME (named quotes the
# name when it adds, not when it deletes).
named_updated() {
	local name=${2//./\\.}
	grep -E "/key $NAMED_KEY: updating zone '${3:-$NAMED_ZONE}/IN': $1 an RR at '?$name'? TXT" \
		"$NAMED_LOG" >/dev/null
}
