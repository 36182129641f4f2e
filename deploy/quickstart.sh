#!/bin/sh
# quickstart.sh: the README's first command. Installs dependencies, builds
# hearth on the optimised wolfSSL (Debian's source rebuilt by
# deploy/wolfssl.sh the first time, into build/wolfssl, and reused after;
# see docs/building.md) into build/release, installs it (run as root:
# /usr/local/bin/hearth and its man pages, so `hearth` is a command),
# creates its two users (as root), and starts it in the foreground on :8443
# with a default CA in /var/lib/hearth (created on first start). Pass extra
# `hearth serve` flags as arguments.
#   HEARTH_BUILD=DIR   use the configured build tree DIR as it is (brought
#                      up to date, never configured again) instead of
#                      build/release: a checkout that has a build already
#                      does not build twice
#   HEARTH_DATA=DIR    the data directory instead of /var/lib/hearth
set -eu
cd "$(dirname "$0")/.."
deploy/deps.sh
build=${HEARTH_BUILD:-build/release}
if [ -z "${HEARTH_BUILD:-}" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
elif [ ! -f "$build/CMakeCache.txt" ]; then
	echo "quickstart.sh: HEARTH_BUILD=$build is not a configured build tree" \
		"(no $build/CMakeCache.txt); unset it to build into build/release" >&2
	exit 1
fi
cmake --build "$build" -j"$(nproc)" --target hearth
# Started as root, hearth runs its signer and its serving process as two
# unprivileged users (docs/security.md); create them as a package would.
if [ "$(id -u)" -eq 0 ]; then
	cmake --install "$build" >/dev/null
	prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
	echo "quickstart.sh: installed $prefix/bin/hearth and its man pages"
	for u in hearth hearth-signer; do
		getent passwd "$u" >/dev/null || useradd --system --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin "$u"
	done
fi
exec "$build/server/hearth" serve --data "${HEARTH_DATA:-/var/lib/hearth}" "$@"
