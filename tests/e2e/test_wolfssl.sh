#!/usr/bin/env bash
# test_wolfssl.sh: the binary runs on the wolfSSL it was built against and
# says which. The fast build (HEARTH_WOLFSSL=fast) is linked statically and
# must not load Debian's libwolfssl.so, whose ABI differs; the system build
# loads Debian's. `hearth version` and the start-up log name the version of
# the headers built against and the math those headers configure.
. "$(dirname "$0")/lib.sh"

LINKED=${HEARTH_WOLFSSL_LINKED:?HEARTH_WOLFSSL_LINKED: fast, system or root}
INCLUDE=${HEARTH_WOLFSSL_INCLUDE:?HEARTH_WOLFSSL_INCLUDE: the wolfSSL headers built against}
ROOT=${HEARTH_WOLFSSL_ROOT:-}

# what the headers say, read independently of hearth's code
defined() { grep -qE "^#define $1\$" "$INCLUDE/wolfssl/options.h"; }
WANT_VERSION=$(sed -n 's/^#define LIBWOLFSSL_VERSION_STRING "\(.*\)"$/\1/p' \
	"$INCLUDE/wolfssl/version.h")
check "the headers name a version" test -n "$WANT_VERSION"

LDD=$(ldd "$HEARTH_BIN")
case $LINKED in
fast)
	check_not "the fast build loads no libwolfssl.so" grep -q libwolfssl <<<"$LDD"
	check_not "its headers build no FP_ECC" defined FP_ECC
	check "its headers build SP ECC" defined WOLFSSL_HAVE_SP_ECC
	if [ "$(uname -m)" = x86_64 ]; then
		check "its headers build SP x86-64 assembly" defined WOLFSSL_SP_X86_64_ASM
		check "and Intel AES/SHA assembly" defined USE_INTEL_SPEEDUP
	fi ;;
system)
	SO=$(awk '/libwolfssl\.so/ { print $3 }' <<<"$LDD")
	check "the system build loads a libwolfssl.so" test -n "$SO"
	check "Debian's package owns it" bash -c \
		"dpkg -S '$(readlink -f "${SO:-/nonexistent}")' | grep -q '^libwolfssl[0-9]*:'" ;;
root)
	check "the WOLFSSL_ROOT build loads the library under it" \
		grep -qF "=> $ROOT/lib/libwolfssl.so" <<<"$LDD" ;;
esac

# the expected description, from the same headers
if defined FP_ECC; then WANT_FPECC="FP_ECC"; else WANT_FPECC="no FP_ECC"; fi
if ! defined WOLFSSL_HAVE_SP_ECC; then WANT_SP="generic ECC"
elif defined WOLFSSL_SP_X86_64_ASM; then WANT_SP="SP x86-64 asm"
elif defined WOLFSSL_SP_ARM64_ASM; then WANT_SP="SP arm64 asm"
else WANT_SP=""; fi
if defined WOLFSSL_SP_MATH_ALL; then WANT_MATH="sp-int"
elif defined USE_FAST_MATH; then WANT_MATH="fastmath"
else WANT_MATH=""; fi
VERSION_OUT=$("$HEARTH_BIN" version)
LINE1=$(sed -n 1p <<<"$VERSION_OUT")
LINE2=$(sed -n 2p <<<"$VERSION_OUT")
echo "hearth version: $LINE2"
check "version's first line is hearth's" grep -qE '^hearth [0-9]+\.[0-9]+\.[0-9]+$' <<<"$LINE1"
check "version's second line names wolfSSL $WANT_VERSION" \
	grep -qF "wolfSSL $WANT_VERSION (" <<<"$LINE2"
if [ -n "$WANT_MATH" ]; then
	check "and the big-number math, $WANT_MATH" grep -qF "($WANT_MATH, " <<<"$LINE2"
fi
check "and $WANT_FPECC" grep -qE "[ (]$WANT_FPECC\)\$" <<<"$LINE2"
if [ -n "$WANT_SP" ]; then
	check "and $WANT_SP" grep -qF ", $WANT_SP" <<<"$LINE2"
fi
check_not "the library at run time is the version built against" grep -q "at run time" <<<"$LINE2"

# the start-up log says the same
D="$WORK/data"
start_server "$D" "$(free_port)"
check "the start-up log names the same wolfSSL" grep -qF "crypto: $LINE2" "$SERVER_LOG"
stop_server
done_checks
