#!/bin/sh
# wolfssl.sh: builds the wolfSSL that hearth links by default. It is
# Debian's own wolfSSL, of exactly the installed libwolfssl-dev version:
# the source package with Debian's patches (its security fixes), Debian's
# configure line and hardening flags, plus wolfSSL's optimised math for this
# architecture. The result is a static library with its own headers in a
# cache prefix, reused as long as version, architecture and flags match.
#
#   deploy/wolfssl.sh [--cache DIR] [--print-prefix]
#
# The prefix is printed on stdout; progress goes to stderr. --print-prefix
# only prints where the build is (or would be), building nothing. The cache
# is build/wolfssl in the checkout unless --cache or HEARTH_WOLFSSL_CACHE
# names another directory. HEARTH_WOLFSSL_FLAGS replaces the math flags.
#
# Needs dpkg-dev, autoconf, automake and libtool (deploy/deps.sh installs
# them) and a Debian archive in apt's sources: the deb-src entries are made
# from them in a private apt configuration; the system's is not touched.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${HEARTH_WOLFSSL_CACHE:-$top/build/wolfssl}
print_only=0
while [ $# -gt 0 ]; do
	case $1 in
	--cache) [ $# -ge 2 ] || { echo "wolfssl.sh: --cache needs a directory" >&2; exit 2; }
		cache=$2; shift ;;
	--print-prefix) print_only=1 ;;
	*) echo "usage: deploy/wolfssl.sh [--cache DIR] [--print-prefix]" >&2; exit 2 ;;
	esac
	shift
done

# Bump when the recipe below changes in a way the flags do not show.
recipe=2

say() { echo "wolfssl.sh: $*" >&2; }
die() { say "$*"; exit 1; }

version=$(dpkg-query -W -f='${source:Version}' libwolfssl-dev 2>/dev/null) ||
	die "libwolfssl-dev is not installed (run deploy/deps.sh): its version picks the source to build"
arch=$(dpkg --print-architecture)

# The math flags: wolfSSL's single-precision (SP) code for the NIST curves,
# RSA and DH, in assembly where wolfSSL has it, and no fixed-point cache
# (FP_ECC), which is rebuilt on every verify when keys do not repeat.
case $arch in
amd64) fast="--enable-sp --enable-sp-asm --enable-intelasm --disable-fpecc" ;;
arm64) fast="--enable-sp --enable-sp-asm --disable-fpecc" ;;
*)     fast="--enable-sp --disable-fpecc" ;;
esac
fast=${HEARTH_WOLFSSL_FLAGS:-$fast}
# debian/rules' configure line (override_dh_auto_configure), then ours:
# position-independent objects for the static library hearth links (so it
# cannot load the system's libwolfssl.so.35, whose ABI differs with the
# math options), and not wolfSSL's own test and benchmark programs.
# --enable-distro builds the shared library too; it is not installed.
debian="--enable-distro --enable-pkcs11 --disable-examples --disable-silent-rules"
ours="$fast --with-pic --disable-crypttests"
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
# (less the file-prefix map of the current directory, which is no setting)
cflags=$(dpkg-buildflags --get CFLAGS | sed 's/-ffile-prefix-map=[^ ]*//; s/  */ /g')
cppflags=$(dpkg-buildflags --get CPPFLAGS)
ldflags=$(dpkg-buildflags --get LDFLAGS)

key=$(printf '%s\n' "$recipe" "$version" "$arch" "$debian" "$ours" "$cflags" "$cppflags" \
	"$ldflags" "$(cc -dumpfullversion 2>/dev/null || true)" | sha256sum | cut -c1-12)
prefix=$cache/$version-$arch-$key
if [ "$print_only" = 1 ] || [ -f "$prefix/hearth-wolfssl.txt" ]; then
	echo "$prefix"
	exit 0
fi

for tool in apt-get dpkg-source autoreconf libtoolize make cc; do
	command -v "$tool" >/dev/null ||
		die "$tool not found: run deploy/deps.sh (needs dpkg-dev autoconf automake libtool)"
done
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9                       # one build at a time; the next one finds it done
if [ -f "$prefix/hearth-wolfssl.txt" ]; then
	echo "$prefix"
	exit 0
fi
work=$(mktemp -d "$cache/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private apt configuration: deb-src twins of the system's deb sources,
# with their own lists and caches, so nothing under /etc or /var changes.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/apt/parts"
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	sed 's/^Types:.*/Types: deb-src/' "$f"
	echo
done >"$work/apt/parts/hearth.sources"
{
	sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list 2>/dev/null || true
	for f in /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f"
	done
} >"$work/apt/sources.list"
apt_private() {
	apt-get -q -o Dir::Etc::SourceList="$work/apt/sources.list" \
		-o Dir::Etc::SourceParts="$work/apt/parts" \
		-o Dir::State::Lists="$work/apt/lists" -o Dir::Cache="$work/apt/cache" \
		-o APT::Sandbox::User=root "$@"
}
say "fetching Debian's wolfssl $version source"
apt_private update >"$work/apt.log" 2>&1 || true   # a source without deb-src is not fatal
(cd "$work" && apt_private source "wolfssl=$version" >>"$work/apt.log" 2>&1) || {
	cat "$work/apt.log" >&2
	die "apt-get source wolfssl=$version failed (is a deb-src of Debian's archive reachable?)"
}
src=$(find "$work" -maxdepth 1 -type d -name 'wolfssl-*' | head -n 1)
if [ -z "$src" ] || [ ! -f "$src/debian/patches/series" ]; then
	die "no patched source tree in $work"
fi

say "building $version ($arch) with $fast: a minute or two"
log=$work/build.log
stage=$work/stage
(
	cd "$src"
	autoreconf -fi
	# shellcheck disable=SC2086
	./configure --prefix="$prefix" --libdir="$prefix/lib" $debian $ours \
		CFLAGS="$cflags" CPPFLAGS="$cppflags" LDFLAGS="$ldflags"
	make -j"$(nproc)"
	make install DESTDIR="$stage"
) >"$log" 2>&1 || {
	tail -n 40 "$log" >&2
	cp "$log" "$cache/build-failed.log"
	die "building wolfSSL failed; the whole log is in $cache/build-failed.log"
}
# --enable-distro leaves options.h out of the install, as Debian's package
# copies it from the build tree: the settings the library was built with.
cp "$src/wolfssl/options.h" "$stage$prefix/include/wolfssl/options.h"
rm -f "$stage$prefix"/lib/libwolfssl.so* "$stage$prefix"/lib/libwolfssl.la
[ -f "$stage$prefix/lib/libwolfssl.a" ] || die "the build made no libwolfssl.a"
printf 'source: wolfssl %s (Debian source package, debian/patches applied)\narch: %s\nconfigure: %s %s\nCFLAGS: %s\n' \
	"$version" "$arch" "$debian" "$ours" "$cflags" >"$stage$prefix/hearth-wolfssl.txt"
rm -rf "$prefix"
mv "$stage$prefix" "$prefix"            # whole or not at all
say "installed in $prefix"
echo "$prefix"
