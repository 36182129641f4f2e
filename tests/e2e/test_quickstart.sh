#!/usr/bin/env bash
# test_quickstart.sh: docs/quickstart.md followed literally. The guide marks
# each shell block it means to be run with an HTML comment on the line
# above: "<!-- test -->" (run, must succeed) or "<!-- test: background -->"
# (the server: it keeps running; the next block starts once the directory
# answers). This script extracts exactly those blocks and runs them in
# order with bash -e, as root, from the checkout, as a newcomer's root shell
# would (standard PATH, no CA variables, a fresh HOME, no terminal), then
# checks what the guide promises: a default CA in /var/lib/hearth, a
# certificate from certbot, a site served by Caddy, each verifying against
# the root the guide distributes.
# The guide installs system-wide (/var/lib/hearth, /usr/local/bin/hearth,
# the trust store, /etc/hosts, /etc/letsencrypt, /etc/caddy, ports 80, 443,
# 8443, 8080, 9180 and Caddy's 2019), so the test holds the machine-wide
# lock test_deb.sh holds too, refuses to run over any of them, and puts
# each back on exit. The guide's one command would build into
# build/release; HEARTH_BUILD (documented in the guide) points it at the
# build under test instead, so nothing is built twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

SRC=$(cd "$E2E_DIR/../.." && pwd)
BUILD=$(cd "$(dirname "$HEARTH_BIN")/.." && pwd)
GUIDE=$SRC/docs/quickstart.md
D=/var/lib/hearth
ROOT=$D/ca/root.crt
TRUSTED=/usr/local/share/ca-certificates/hearth-root.crt
LE_DIRS=(/etc/letsencrypt /var/lib/letsencrypt /var/log/letsencrypt)
PORTS=(80 443 8443 8080 9180 2019)
[ "$(id -u)" -eq 0 ] || { echo "test_quickstart.sh follows a guide run as root" >&2; exit 1; }
exec {SYS_LOCK_FD}>>"${TMPDIR:-/tmp}/hearth-e2e-deb.lock"
flock -w 900 "$SYS_LOCK_FD" || { echo "another run holds the machine-wide lock" >&2; exit 1; }

# refuse to run over what the guide creates or binds
refuse() { echo "test_quickstart.sh: $*; this test creates and removes it" >&2; exit 1; }
[ ! -e "$D" ] || refuse "$D exists"
[ ! -e /usr/local/bin/hearth ] || refuse "/usr/local/bin/hearth exists"
[ ! -e "$TRUSTED" ] || refuse "$TRUSTED exists"
[ ! -e /etc/letsencrypt/live ] || refuse "/etc/letsencrypt/live exists"
for p in "${PORTS[@]}"; do
	if [ -n "$(ss -Hltn "sport = :$p")" ]; then
		echo "test_quickstart.sh: TCP port $p is taken (ss -ltn); the guide needs it" >&2
		exit 1
	fi
done

# what the guide changes, kept to be put back
cp /etc/hosts "$WORK/hosts.orig"
CADDYFILE_ORIG=
if [ -f /etc/caddy/Caddyfile ]; then
	cp /etc/caddy/Caddyfile "$WORK/Caddyfile.orig"
	CADDYFILE_ORIG=$WORK/Caddyfile.orig
fi
for d in "${LE_DIRS[@]}"; do
	list="$WORK/le.$(basename "$(dirname "$d")").$(basename "$d")"
	if [ -d "$d" ]; then ls -A "$d" >"$list"; : >"$list.had"; fi
done
# le_restore DIR: removes what appeared in DIR, or DIR itself if it was
# not there before.
le_restore() {
	local d=$1 list e
	list="$WORK/le.$(basename "$(dirname "$d")").$(basename "$d")"
	[ -d "$d" ] || return 0
	if [ ! -e "$list.had" ]; then
		rm -rf "$d"
		return 0
	fi
	for e in "$d"/* "$d"/.[!.]*; do
		[ -e "$e" ] || continue
		grep -qxF "$(basename "$e")" "$list" || rm -rf "$e"
	done
}
SERVE_PID=
# pids_on PORT: the processes listening on TCP PORT.
pids_on() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u; }
qs_cleanup() {
	local p pid
	for p in 443 80; do
		for pid in $(pids_on "$p"); do
			[ "$(ps -o comm= -p "$pid")" = caddy ] && kill "$pid" 2>/dev/null
		done
	done
	if [ -n "$SERVE_PID" ]; then
		kill -TERM -- "-$SERVE_PID" 2>/dev/null || true
		wait "$SERVE_PID" 2>/dev/null || true
	fi
	cleanup
	cat "$WORK/hosts.orig" >/etc/hosts
	if [ -n "$CADDYFILE_ORIG" ]; then cp "$CADDYFILE_ORIG" /etc/caddy/Caddyfile; fi
	for d in "${LE_DIRS[@]}"; do le_restore "$d"; done
	if [ -e "$TRUSTED" ]; then
		rm -f "$TRUSTED"
		update-ca-certificates --fresh >/dev/null 2>&1 || true
	fi
	if [ -f "$BUILD/install_manifest.txt" ]; then
		xargs -r rm -f <"$BUILD/install_manifest.txt"
		rm -f "$BUILD/install_manifest.txt"
	fi
	rm -rf "$D"
}
trap qs_cleanup EXIT

# the blocks: every ```sh block of the guide is marked, none is left out
python3 - "$GUIDE" "$WORK/blocks" <<'PY'
import os, re, sys
guide, out = sys.argv[1], sys.argv[2]
os.makedirs(out)
lines = open(guide).read().split("\n")
n, mark, i = 0, None, 0
while i < len(lines):
    line = lines[i]
    m = re.fullmatch(r"<!-- test(: background)? -->", line.strip())
    if m:
        mark = "background" if m.group(1) else "run"
    elif line.startswith("```"):
        lang = line[3:].strip()
        j = i + 1
        while not lines[j].startswith("```"):
            j += 1
        if lang == "sh":
            if mark is None:
                sys.exit(f"{guide}:{i + 1}: a sh block without a <!-- test --> mark")
            n += 1
            with open(f"{out}/{n:02d}.{mark}.sh", "w") as f:
                f.write("\n".join(lines[i + 1:j]) + "\n")
        elif mark is not None:
            sys.exit(f"{guide}:{i + 1}: a test mark above a {lang or 'plain'} block")
        mark, i = None, j
    elif line.strip() and mark is not None:
        sys.exit(f"{guide}:{i + 1}: a test mark not right above a block")
    i += 1
PY
check "every sh block of the guide is marked for this test" test -d "$WORK/blocks"
mapfile -t BLOCKS < <(ls "$WORK/blocks" 2>/dev/null)
check "the guide has a background block and at least three to run" bash -c \
	"ls '$WORK/blocks' | grep -c '\.run\.sh$' | grep -qvx '[0-2]' &&
	 test \"\$(ls '$WORK/blocks' | grep -c '\.background\.sh$')\" = 1"

# a newcomer's root shell: standard PATH, no CA variables, a fresh HOME
mkdir -p "$WORK/home"
GUIDE_SH=(env -i HOME="$WORK/home" USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	HEARTH_BUILD="$BUILD" DEBIAN_FRONTEND=noninteractive bash -e -o pipefail)
# serving: the guide's server answers its directory with the root as trust
serving() {
	[ -f "$ROOT" ] && curl -sf --cacert "$ROOT" https://localhost:8443/directory -o /dev/null
}
cd "$SRC" || exit 1
LOG=
for b in "${BLOCKS[@]}"; do
	n=${b%%.*}
	echo "--- block $n:"
	sed 's/^/    /' "$WORK/blocks/$b"
	if [[ $b == *.background.sh ]]; then
		LOG=$WORK/block-$n.out
		(no_lock_fd; exec {SYS_LOCK_FD}>&-; exec setsid "${GUIDE_SH[@]}" "$WORK/blocks/$b" >"$LOG" 2>&1 </dev/null) &
		SERVE_PID=$!
		for _ in $(seq 1 1800); do
			serving && break
			kill -0 "$SERVE_PID" 2>/dev/null || break
			sleep 0.1
		done
		if ! check "block $n: the server answers https://localhost:8443/directory" serving; then
			tail -n 40 "$LOG" >&2
			break
		fi
	elif ! check "block $n runs" logged "block-$n" "${GUIDE_SH[@]}" "$WORK/blocks/$b" </dev/null {SYS_LOCK_FD}>&-; then
		break
	fi
done

# what the guide promises
LIVE=/etc/letsencrypt/live/web.corp.internal
check "the server's log names the default CA and the root to distribute" \
	grep -qF "CA in $D/ca; distribute $ROOT to clients' trust stores" "${LOG:-/dev/null}"
check "... and the directory URL" \
	grep -qF "ACME directory: https://localhost:8443/directory" "${LOG:-/dev/null}"
check "the root is self-signed" bash -c "openssl verify -CAfile '$ROOT' '$ROOT' | grep -q ': OK$'"
check "the guide's trusted copy is that root" same_cert "$TRUSTED" "$ROOT"
check "hearth trust, run as the guide runs it, names the root" \
	grep -qF "$ROOT" "$WORK/block-02.out"
check "certbot saved a certificate for web.corp.internal" test -s "$LIVE/cert.pem"
check "... that verifies against the root through chain.pem" \
	verify_leaf_with "$ROOT" "$LIVE/chain.pem" "$LIVE/cert.pem"
check "... and names web.corp.internal only" \
	test "$(cert_names "$LIVE/cert.pem" | tr '\n' ' ')" = "web.corp.internal "
check "the guide's openssl verify said OK" grep -qF "$LIVE/cert.pem: OK" "$WORK/block-03.out"
check "the guide's curl got Caddy's site" \
	grep -qx "served with a certificate from hearth" "$WORK/block-04.out"
check "Caddy serves the site with the root as the only trust" bash -c \
	"curl -sf --cacert '$ROOT' https://site.corp.internal/ | grep -qx 'served with a certificate from hearth'"
openssl s_client -connect 127.0.0.1:443 -servername site.corp.internal -showcerts \
	</dev/null 2>/dev/null | sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p' \
	>"$WORK/site.pem"
nth_cert "$WORK/site.pem" 1 >"$WORK/site.leaf.pem"
check "Caddy's chain is its leaf, then hearth's intermediate" verify_bundle "$D" "$WORK/site.pem"
check "... and the leaf names site.corp.internal only" \
	test "$(cert_names "$WORK/site.leaf.pem" | tr '\n' ' ')" = "site.corp.internal "
check "hearth validated web.corp.internal (certbot, http-01)" \
	grep -qE "validation [^ ]+: http-01 web\.corp\.internal " "$LOG"
check "hearth validated site.corp.internal (Caddy)" \
	grep -qE "validation [^ ]+: (http-01|tls-alpn-01) site\.corp\.internal " "$LOG"
check "the server is still running" kill -0 "$SERVE_PID"
check_not "it answered no request with 500" grep -qE '" 500 [0-9.]+ms' "$LOG"
check_not "its log has no sanitizer report" \
	grep -qE "ERROR: (Address|Leak|Thread)Sanitizer|runtime error:" "$LOG"
done_checks
