#!/usr/bin/env bash
# test_deb.sh: the Debian package on this machine, as root (as CI runs it).
# deploy/deb.sh packages the build under test; the package's contents,
# Depends and unit are checked (systemd-analyze verify); dpkg -i creates the
# users and /var/lib/hearth; `hearth init` and the installed unit's
# ExecStart line (run here as the unit would run it: no systemd runs in CI,
# so as root, and with loopback ports added, as a drop-in would) serve
# certbot a certificate; a reinstall keeps the CA; dpkg -r and dpkg -P
# remove every file and keep /var/lib/hearth; a purge with
# HEARTH_PURGE_DATA=yes removes it too. The package is installed system-wide,
# so the test holds a machine-wide lock and refuses to run over an
# installed hearth package or an existing /var/lib/hearth.
# fixed-ports: http-01 on 5002, DNS on 8053 (see loopback.sh)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/loopback.sh"

SRC=$(cd "$E2E_DIR/../.." && pwd)
BUILD=$(cd "$(dirname "$HEARTH_BIN")/.." && pwd)
D=/var/lib/hearth
UNIT=/lib/systemd/system/hearth.service
[ "$(id -u)" -eq 0 ] || { echo "test_deb.sh installs a package: run it as root" >&2; exit 1; }
exec {DEB_LOCK_FD}>>"${TMPDIR:-/tmp}/hearth-e2e-deb.lock"
flock -w 900 "$DEB_LOCK_FD" || { echo "another run holds the package lock" >&2; exit 1; }
if dpkg-query -W -f='${db:Status-Status}' hearth 2>/dev/null | grep -qv '^not-installed$'; then
	echo "the hearth package is already on this machine; this test installs and purges it" >&2
	exit 1
fi
[ ! -e "$D" ] || { echo "$D exists; this test creates and removes it: move it away" >&2; exit 1; }
INSTALLED=0
deb_cleanup() {
	cleanup
	if [ "$INSTALLED" = 1 ]; then
		HEARTH_PURGE_DATA=yes dpkg -P hearth >/dev/null 2>&1 || true
	fi
}
trap deb_cleanup EXIT

pkg_status() { dpkg-query -W -f='${db:Status-Status}' hearth 2>/dev/null || echo absent; }
# lib_from_debian PATH: a package of the Debian archive ships the library
# (under /lib or /usr/lib: the two are one directory on Debian 12).
lib_from_debian() {
	local p=$1 alt
	case $p in /usr/lib/*) alt=${p#/usr} ;; /lib/*) alt=/usr$p ;; *) alt=$p ;; esac
	dpkg -S "$p" >/dev/null 2>&1 || dpkg -S "$alt" >/dev/null 2>&1
}
# only_debian_libs BIN: every library the binary loads is found and comes
# from a Debian package.
only_debian_libs() {
	local out lib
	out=$(ldd "$1") || return 1
	! grep -q "not found" <<<"$out" || return 1
	for lib in $(grep -o '/[^ ]*\.so[^ ]*' <<<"$out"); do
		lib_from_debian "$lib" || { echo "$lib comes from no package" >&2; return 1; }
	done
}

# the package
check "deploy/deb.sh packages the build under test" \
	logged deb "$SRC/deploy/deb.sh" --build "$BUILD" --out "$WORK/deb"
DEB=$(tail -n 1 "$WORK/deb.out")
check "the package file exists" test -s "$DEB"
VERSION=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt")
check "its version is the project's, revision 1" \
	test "$(dpkg-deb -f "$DEB" Version)" = "$VERSION-1"
DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for dep in libevent-core-2.1-7 libevent-extra-2.1-7 libevent-pthreads-2.1-7 liblmdb0 \
	libcjson1 libc-ares2 libidn2-0 libc6 passwd; do
	check "Depends names $dep" grep -qE "(^|, )$dep( |,|$)" <<<"$DEPENDS"
done
# the default wolfSSL is linked statically; -DHEARTH_WOLFSSL=system (the
# sanitizer build) loads Debian's libwolfssl, which Depends must then name
if [ "$(sed -n 's/^HEARTH_WOLFSSL:[A-Z]*=//p' "$BUILD/CMakeCache.txt")" = system ]; then
	check "Depends names Debian's libwolfssl (linked dynamically)" grep -qE "(^|, )libwolfssl[0-9]+ " <<<"$DEPENDS"
else
	check_not "Depends names no libwolfssl (linked statically)" grep -q wolfssl <<<"$DEPENDS"
fi
dpkg-deb -c "$DEB" >"$WORK/contents"
for f in ./usr/bin/hearth ./lib/systemd/system/hearth.service \
	./usr/lib/sysusers.d/hearth.conf ./usr/share/doc/hearth/copyright; do
	check "the package holds $f" grep -qE " $f\$" "$WORK/contents"
done
check_not "every file belongs to root" grep -qv ' root/root ' "$WORK/contents"
# whatever `cmake --install` puts under share/man (man pages) is packaged
DESTDIR="$WORK/install" cmake --install "$BUILD" --prefix /usr >/dev/null
: >"$WORK/man.want"
if [ -d "$WORK/install/usr/share/man" ]; then
	(cd "$WORK/install" && find usr/share/man -type f | sed 's/\.gz$//' | sort) >"$WORK/man.want"
fi
(grep -oE '\./usr/share/man/[^ ]+\.gz$' "$WORK/contents" || true) |
	sed 's#^\./##; s/\.gz$//' | sort >"$WORK/man.got"
check "the package holds every man page cmake installs ($(wc -l <"$WORK/man.want"))" \
	cmp -s "$WORK/man.want" "$WORK/man.got"

# install
check "dpkg -i installs it" logged dpkg-i dpkg -i "$DEB"
INSTALLED=1
check "dpkg says installed" test "$(pkg_status)" = installed
check "postinst names the init step" grep -q "hearth init --data /var/lib/hearth" "$WORK/dpkg-i.out"
check "user hearth exists" getent passwd hearth
check "user hearth-signer exists" getent passwd hearth-signer
check "/var/lib/hearth is root's, 0700" test "$(stat -c '%U %a' "$D")" = "root 700"
check "the installed binary runs" logged help /usr/bin/hearth help serve
check "it carries no RPATH or RUNPATH" bash -c "! readelf -d /usr/bin/hearth | grep -qE 'R(UN)?PATH'"
check "it loads only libraries of Debian packages" only_debian_libs /usr/bin/hearth
check "systemd-analyze verify passes on the unit" logged verify systemd-analyze verify "$UNIT"
read -r -a CMD <<<"$(sed -n 's/^ExecStart=//p' "$UNIT")"
check "the unit starts /usr/bin/hearth serve on /var/lib/hearth" \
	test "${CMD[*]}" = "/usr/bin/hearth serve --data /var/lib/hearth"

# hearth init, then the unit's ExecStart line as root
check "hearth init from /usr/bin" logged init /usr/bin/hearth init --data "$D" --ca-name "Package test"
ROOT_SUM=$(sha256sum "$D/ca/root.crt" | cut -d' ' -f1)
require_fixed_ports
start_dns
PORT=$(free_port)
PKI_PORT=$(free_port)
ADMIN_PORT=$(free_port)
SERVER_LOG=$WORK/serve.log
(no_lock_fd; cd /; exec "${CMD[@]}" --listen "127.0.0.1:$PORT" --threads 2 \
	--pki-listen "127.0.0.1:$PKI_PORT" --admin-listen "127.0.0.1:$ADMIN_PORT" \
	--http01-port "$HTTP01_PORT" --resolver "127.0.0.1:$DNS_PORT" >>"$SERVER_LOG" 2>&1) &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
up() { curl -sf --cacert "$D/ca/root.crt" "https://localhost:$PORT/directory" -o /dev/null; }
for _ in $(seq 1 300); do up && break; kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
check "the unit's command serves the ACME directory" up
check "/healthz answers ok" test "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/healthz")" = ok
check "/readyz answers ready" test "$(curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz")" = ready
check "the serving process runs as hearth" test "$(ps -o user= -p "$SERVER_PID")" = hearth
# the signer is a child of the launcher, the server's child (test_privsep.sh)
users_below() { local c; for c in $(pgrep -P "$1"); do ps -o user= -p "$c"; users_below "$c"; done; }
check "the signer runs as hearth-signer" grep -qx hearth-signer <<<"$(users_below "$SERVER_PID")"

export REQUESTS_CA_BUNDLE="$D/ca/root.crt"
CB=$WORK/certbot
check "certbot gets a certificate" logged certbot certbot --non-interactive \
	--config-dir "$CB/config" --work-dir "$CB/work" --logs-dir "$CB/logs" certonly \
	--server "https://localhost:$PORT/directory" --agree-tos -m admin@corp.internal \
	--no-eff-email --standalone --http-01-port "$HTTP01_PORT" --cert-name web -d web.corp.internal
check "the certificate verifies under the installed CA" verify_leaf "$D" "$CB/config/live/web/cert.pem"
server_healthy
stop_server

# reinstall (the upgrade path), then remove and purge
check "dpkg -i over the installed package" logged dpkg-again dpkg -i "$DEB"
check "the CA is unchanged" test "$(sha256sum "$D/ca/root.crt" | cut -d' ' -f1)" = "$ROOT_SUM"
check "dpkg -r removes it" logged dpkg-r dpkg -r hearth
for f in /usr/bin/hearth "$UNIT" /usr/lib/sysusers.d/hearth.conf /usr/share/doc/hearth; do
	check "dpkg -r removed $f" test ! -e "$f"
done
check "dpkg -r kept $D" test -s "$D/ca/root.crt"
check "dpkg -P purges it" logged dpkg-P dpkg -P hearth
check "dpkg knows the package no more" test "$(pkg_status)" = absent
check "dpkg -P kept the CA" test "$(sha256sum "$D/ca/root.crt" | cut -d' ' -f1)" = "$ROOT_SUM"
check "the purge says it kept the data and how to remove it" \
	grep -q "HEARTH_PURGE_DATA=yes" "$WORK/dpkg-P.out"
check "dpkg -i installs it again" logged dpkg-i2 dpkg -i "$DEB"
check "a purge with HEARTH_PURGE_DATA=yes" logged dpkg-P2 env HEARTH_PURGE_DATA=yes dpkg -P hearth
check "removes $D" test ! -e "$D"
INSTALLED=0
done_checks
