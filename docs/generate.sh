#!/bin/sh
# generate.sh: writes the parts of docs/ that come from the option table in
# server/config.c: configuration.md whole, and the OPTIONS of the man pages
# in man/ between their "BEGIN GENERATED OPTIONS" and "END GENERATED
# OPTIONS" lines (the rest of each page is written by hand).
#
#   docs/generate.sh build/server/hearth           rewrite what is stale
#   docs/generate.sh build/server/hearth --check   exit 1 when something is
#                                                  stale (a ctest runs this)
set -eu
bin=$1
mode=${2:-write}
docs=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stale=0

# update FILE NEW: FILE should hold what NEW holds.
update() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	if [ "$mode" = --check ]; then
		echo "stale: $1 (run docs/generate.sh with the built hearth)"
		diff -u "$1" "$2" | head -40 || true
		stale=1
	else
		cp "$2" "$1"
		echo "wrote $1"
	fi
}

"$bin" config reference --format markdown >"$tmp/configuration.md"
update "$docs/configuration.md" "$tmp/configuration.md"

for page in "$docs"/man/*.8; do
	cmd=$(sed -n 's/^\.\\" BEGIN GENERATED OPTIONS: hearth config reference --format man --command \([a-z]*\)$/\1/p' "$page")
	[ -n "$cmd" ] || continue
	"$bin" config reference --format man --command "$cmd" >"$tmp/options"
	awk -v opts="$tmp/options" '
		/^\.\\" END GENERATED OPTIONS/ { skip = 0 }
		!skip { print }
		/^\.\\" BEGIN GENERATED OPTIONS/ {
			while ((getline line < opts) > 0) print line
			skip = 1
		}' "$page" >"$tmp/page"
	update "$page" "$tmp/page"
done
exit "$stale"
