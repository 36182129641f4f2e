#!/bin/sh
# run.sh: the README's second command and what CI runs. Installs the build
# and test dependencies, then builds and runs every test twice: a normal
# build on the default, optimised wolfSSL (built once into build/wolfssl,
# then reused), and one with AddressSanitizer and UndefinedBehaviorSanitizer
# on Debian's libwolfssl, so both wolfSSL builds are tested.
# Last, when clang is there, the fuzz drivers are built with libFuzzer (and
# both sanitizers) and each runs for HEARTH_FUZZ_SECONDS (default 10) from
# its committed corpus; a crash, leak or sanitizer report fails the run.
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
cc=$(command -v clang-14 || command -v clang || true)
if [ -n "$cc" ]; then
	dir=build/test-fuzz
	secs=${HEARTH_FUZZ_SECONDS:-10}
	echo "== fuzz build (clang, libFuzzer)"
	CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DHEARTH_FUZZ=ON -DHEARTH_SANITIZE=ON >/dev/null
	drivers=$(cd tests/fuzz/corpus && ls)
	# shellcheck disable=SC2086
	cmake --build "$dir" -j"$jobs" --target $(printf 'fuzz_%s ' $drivers)
	for d in $drivers; do
		echo "== fuzz $d (${secs}s)"
		work=$(mktemp -d)
		# new inputs go to a scratch directory; the committed corpus is
		# only read
		if ! ASAN_OPTIONS=detect_leaks=1 "$dir/tests/fuzz_$d" \
			-max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$dir/crash-$d-" "$work" "tests/fuzz/corpus/$d" \
			>"$dir/fuzz-$d.log" 2>&1; then
			tail -n 40 "$dir/fuzz-$d.log"
			rm -rf "$work"
			echo "== fuzz $d failed; the input is in $dir/crash-$d-*"
			exit 1
		fi
		grep -E '^#[0-9]+[[:space:]]+DONE' "$dir/fuzz-$d.log" || true
		rm -rf "$work"
	done
else
	echo "== no clang: fuzz drivers ran over their corpora only"
fi
echo "== all tests passed"
