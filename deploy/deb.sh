#!/bin/sh
# deb.sh: builds hearth's Debian package from a checkout, in one command.
#
#   deploy/deb.sh [--out DIR] [--build DIR]
#
# Without --build, a release build is configured and built in
# build/deb-build (on the optimised wolfSSL, linked statically: see
# docs/building.md); --build DIR packages an already configured build tree
# instead (the end-to-end test packages the build it tests). Everything
# `cmake --install` puts under the prefix /usr goes in (the binary, and man
# pages when the install rules name them), plus the systemd unit, the
# sysusers.d entry and the maintainer scripts of deploy/debian/. Depends is
# computed by dpkg-shlibdeps; the version is the project's (CMakeLists.txt)
# with Debian revision 1. The package is written to DIR (default build/deb)
# and its path printed on stdout; progress goes to stderr.
#
# Needs cmake, dpkg-dev (dpkg-shlibdeps), binutils (readelf) and the build
# dependencies: deploy/deps.sh installs them.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/deb
build=
while [ $# -gt 0 ]; do
	case $1 in
	--out|--build)
		[ $# -ge 2 ] || { echo "deb.sh: $1 needs a directory" >&2; exit 2; }
		if [ "$1" = --out ]; then out=$2; else build=$2; fi
		shift ;;
	*) echo "usage: deploy/deb.sh [--out DIR] [--build DIR]" >&2; exit 2 ;;
	esac
	shift
done

say() { echo "deb.sh: $*" >&2; }
die() { say "$*"; exit 1; }

for tool in cmake dpkg-deb dpkg-shlibdeps readelf gzip; do
	command -v "$tool" >/dev/null || die "$tool not found: run deploy/deps.sh"
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ -z "$build" ]; then
	build=$top/build/deb-build
	say "configuring a release build in $build"
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
		-DCMAKE_INSTALL_PREFIX=/usr >&2
fi
[ -f "$build/CMakeCache.txt" ] || die "$build is not a configured build tree"
say "building in $build (nothing to do when it is current)"
cmake --build "$build" -j"$(nproc)" --target hearth >&2

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || die "$build/CMakeCache.txt names no project version"
version=$version-1
arch=$(dpkg --print-architecture)

work=$(mktemp -d "$out/stage.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
say "installing into the package tree"
DESTDIR=$root cmake --install "$build" --prefix /usr --strip >&2
bin=$root/usr/bin/hearth
[ -x "$bin" ] || die "cmake --install put no usr/bin/hearth in the package tree"
# The installed binary must load from Debian's libraries alone: no search
# path into a build tree (a -DWOLFSSL_ROOT build carries one).
if readelf -d "$bin" | grep -qE '\((RPATH|RUNPATH)\)'; then
	die "usr/bin/hearth carries an RPATH/RUNPATH ($(readelf -d "$bin" |
		grep -E 'R(UN)?PATH' | tr -s ' ')); build with the default wolfSSL"
fi

# The unit: deploy/hearth.service with the package's path and header.
mkdir -p "$root/lib/systemd/system" "$root/usr/lib/sysusers.d" "$root/usr/share/doc/hearth"
unit=$root/lib/systemd/system/hearth.service
{
	echo "# hearth.service, from the hearth package. The package neither enables nor"
	echo "# starts it: create the CA with \`hearth init --data /var/lib/hearth\`, then"
	echo "# \`systemctl enable --now hearth\` (docs/deployment.md)."
	echo "#"
	sed -n '/^# The service starts as root/,$p' "$top/deploy/hearth.service" |
		sed 's#^ExecStart=/usr/local/bin/hearth #ExecStart=/usr/bin/hearth #'
} >"$unit"
if ! grep -q '^# The service starts as root' "$unit" || ! grep -q '^ExecStart=/usr/bin/hearth ' "$unit"; then
	die "deploy/hearth.service changed shape: no header paragraph or /usr/local/bin ExecStart to adapt"
fi
cp "$top/deploy/hearth.sysusers" "$root/usr/lib/sysusers.d/hearth.conf"
doc=$root/usr/share/doc/hearth
cp "$top/deploy/debian/copyright" "$top/README.md" "$doc/"
mkdir -p "$doc/docs"
cp "$top"/docs/*.md "$doc/docs/"
# Debian policy: man pages compressed; whatever the install rules put there.
if [ -d "$root/usr/share/man" ]; then
	find "$root/usr/share/man" -type f ! -name '*.gz' -exec gzip -9n {} +
fi
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
chmod 0755 "$bin"

# Depends: the shared libraries the binary needs, by dpkg-shlibdeps (which
# wants a debian/control to read), and passwd for the postinst's useradd.
mkdir -p "$work/src/debian"
printf 'Source: hearth\n\nPackage: hearth\nArchitecture: any\n' >"$work/src/debian/control"
shlibs=$(cd "$work/src" && dpkg-shlibdeps -O -e"$bin" 2>"$work/shlibdeps.log") || {
	cat "$work/shlibdeps.log" >&2
	die "dpkg-shlibdeps failed"
}
depends=$(printf '%s\n' "$shlibs" | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || die "dpkg-shlibdeps found no dependencies"

mkdir -p "$root/DEBIAN"
for s in postinst prerm postrm; do
	install -m 0755 "$top/deploy/debian/$s" "$root/DEBIAN/$s"
done
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: hearth
Version: $version
Architecture: $arch
Maintainer: ${HEARTH_DEB_MAINTAINER:-hearth project <hearth@localhost>}
Installed-Size: $size
Depends: $depends, passwd
Section: net
Priority: optional
Description: ACME certificate authority for internal networks
 hearth is a private certificate authority with the ACME protocol
 (RFC 8555) in front of it: certbot, lego, Caddy, Traefik and cert-manager
 get and renew certificates for internal names from it on their own.
 A separate signer process alone holds the intermediate key.
 .
 The package creates the users hearth and hearth-signer and the directory
 /var/lib/hearth; it neither enables nor starts the service.
EOF
deb=$out/hearth_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >&2
say "built $deb"
echo "$deb"
