#!/bin/sh
# quickstart.sh: the README's first command. Installs dependencies, builds
# hearth on the optimised wolfSSL (Debian's source rebuilt by
# deploy/wolfssl.sh the first time, into build/wolfssl, and reused after;
# see docs/building.md), and starts it on :8443 with a default CA in
# /var/lib/hearth (created on first start). Pass extra `hearth serve` flags
# as arguments.
set -eu
cd "$(dirname "$0")/.."
deploy/deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build build/release -j"$(nproc)"
exec build/release/server/hearth serve --data "${HEARTH_DATA:-/var/lib/hearth}" "$@"
