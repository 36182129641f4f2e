#!/bin/sh
# check.sh: every man page in this folder renders without a warning
# (groff -ww, the man macros); a page with one fails the test that runs
# this, with groff's words.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
fail=0
n=0
for page in "$dir"/*.8; do
	n=$((n + 1))
	out=$(LC_ALL=C.UTF-8 groff -ww -b -man -Tutf8 -z "$page" 2>&1) || fail=1
	if [ -n "$out" ]; then
		echo "$(basename "$page"): $out"
		fail=1
	fi
	if ! grep -q '^\.SH NAME' "$page" || ! grep -q '^\.SH SEE ALSO' "$page"; then
		echo "$(basename "$page"): no NAME or SEE ALSO section"
		fail=1
	fi
done
[ "$n" -gt 0 ] || { echo "no man pages in $dir"; exit 1; }
echo "$n pages checked"
exit "$fail"
