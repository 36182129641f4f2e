/*
 * libinfo.c: names the wolfSSL hearth runs on and the math it was built
 * with, for `hearth version` and the start-up log. The math is read from
 * wolfSSL's own configuration macros (options.h) at compile time; the
 * version is checked against the library at run time. Touches nothing else.
 */
#include "crypto_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/ssl.h>
#include <wolfssl/version.h>

/* The big-number implementation under RSA, DH and curves SP does not cover. */
#if defined(WOLFSSL_SP_MATH_ALL)
#define LIBINFO_MATH "sp-int"
#elif defined(WOLFSSL_SP_MATH)
#define LIBINFO_MATH "sp-int (SP sizes only)"
#elif defined(USE_FAST_MATH)
#define LIBINFO_MATH "fastmath"
#elif defined(USE_INTEGER_HEAP_MATH)
#define LIBINFO_MATH "heap integer math"
#else
#define LIBINFO_MATH "unknown math"
#endif

/* wolfSSL's single-precision code for P-256/P-384, RSA and DH, if built. */
#if !defined(WOLFSSL_HAVE_SP_ECC)
#define LIBINFO_SP "generic ECC"
#elif defined(WOLFSSL_SP_X86_64_ASM)
#define LIBINFO_SP "SP x86-64 asm"
#elif defined(WOLFSSL_SP_ARM64_ASM)
#define LIBINFO_SP "SP arm64 asm"
#elif defined(WOLFSSL_SP_ARM32_ASM) || defined(WOLFSSL_SP_ARM_THUMB_ASM) || \
    defined(WOLFSSL_SP_ARM_CORTEX_M_ASM)
#define LIBINFO_SP "SP arm asm"
#else
#define LIBINFO_SP "SP C"
#endif

/* AES-NI/AVX code for ciphers and hashes. */
#if defined(USE_INTEL_SPEEDUP)
#define LIBINFO_INTEL ", intelasm"
#else
#define LIBINFO_INTEL ""
#endif

/* The per-thread fixed-point cache of EC points. */
#if defined(FP_ECC)
#define LIBINFO_FPECC "FP_ECC"
#else
#define LIBINFO_FPECC "no FP_ECC"
#endif

#define LIBINFO_BUILT "wolfSSL " LIBWOLFSSL_VERSION_STRING " (" LIBINFO_MATH \
	", " LIBINFO_SP LIBINFO_INTEL ", " LIBINFO_FPECC ")"

static char info_mismatch[160];
static const char *info = LIBINFO_BUILT;
static pthread_once_t info_once = PTHREAD_ONCE_INIT;

static void
info_check(void)
{
	const char *running = wolfSSL_lib_version();

	if (running == NULL || strcmp(running, LIBWOLFSSL_VERSION_STRING) == 0)
		return;
	snprintf(info_mismatch, sizeof(info_mismatch),
	    "%s, but wolfSSL %s at run time", LIBINFO_BUILT, running);
	info = info_mismatch;
}

const char *
crypto_library_info(void)
{
	pthread_once(&info_once, info_check);
	return info;
}
