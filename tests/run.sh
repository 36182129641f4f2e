#!/bin/sh
# run.sh: the README's second command and what CI runs. Installs the build
# and test dependencies, then builds and runs every test twice: a normal
# build on the default, optimised wolfSSL (built once into build/wolfssl,
# then reused), and one with AddressSanitizer and UndefinedBehaviorSanitizer
# on Debian's libwolfssl, so both wolfSSL builds are tested.
set -eu
cd "$(dirname "$0")/.."
deploy/deps.sh --test
jobs=$(nproc)
for variant in release sanitize; do
	dir=build/test-$variant
	flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
	[ "$variant" = sanitize ] && flags="$flags -DHEARTH_SANITIZE=ON -DHEARTH_WOLFSSL=system"
	echo "== $variant build"
	# shellcheck disable=SC2086
	cmake -S . -B "$dir" $flags >/dev/null
	cmake --build "$dir" -j"$jobs"
	echo "== $variant tests"
	(cd "$dir" && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j"$jobs")
done
echo "== all tests passed"
