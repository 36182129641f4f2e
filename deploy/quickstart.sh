#!/bin/sh
# quickstart.sh: the README's first command. Installs dependencies, builds
# hearth on the optimised wolfSSL (Debian's source rebuilt by
# deploy/wolfssl.sh the first time, into build/wolfssl, and reused after;
# see docs/building.md), creates its two users (when run as root), and
# starts it on :8443 with a default CA in /var/lib/hearth (created on first
# start). Pass extra `hearth serve` flags as arguments.
set -eu
cd "$(dirname "$0")/.."
deploy/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build/release -j"$(nproc)"
# Started as root, hearth runs its signer and its serving process as two
# unprivileged users (docs/security.md); create them as a package would.
if [ "$(id -u)" -eq 0 ]; then
	for u in hearth hearth-signer; do
		getent passwd "$u" >/dev/null || useradd --system --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin "$u"
	done
fi
exec build/release/server/hearth serve --data "${HEARTH_DATA:-/var/lib/hearth}" "$@"
