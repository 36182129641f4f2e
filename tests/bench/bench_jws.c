/*
 * bench_jws.c: JWS verification per algorithm (ES256, ES384, RS256, EdDSA)
 * through hearth's crypto/ (JWK parsed once, then crypto_jws_verify on a
 * request-sized signing input), next to the bare wolfCrypt verification of
 * the same signature over the same bytes (hash included), so that the gap
 * between hearth's path and what the crypto alone allows is visible. Keys
 * and signatures are made here with wolfCrypt. A benchmark, not a test: it
 * prints operations per second and asserts nothing about time. Its LIMIT
 * line adds bare wolfCrypt's ECDSA P-256 signature rate and what a leaf from
 * a P-256 CSR costs the crypto alone (one verify, one sign).
 *
 * usage: bench_jws [seconds per step]
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>
#include <wolfssl/wolfcrypt/signature.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"

/* About the size of a finalize request's protected header and payload. */
#define INPUT_LEN 900

struct alg {
	const char *name;
	enum crypto_jws_alg jws;
	ecc_key ec;
	RsaKey rsa;
	ed25519_key ed;
	int curve;                   /* ECC_SECP256R1, ECC_SECP384R1, or 0 */
	char jwk[1024];
	uint8_t sig[512];
	size_t siglen;
	uint8_t der[160];            /* ECDSA: the DER signature, for wolfCrypt */
	word32 derlen;
	struct crypto_jwk *k;
};

static char input[INPUT_LEN + 1];
static WC_RNG rng;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
b64(const void *in, size_t len, char *out, size_t cap)
{
	if (crypto_b64url_encode(in, len, out, cap) < 0) {
		fprintf(stderr, "bench_jws: base64url failed\n");
		exit(1);
	}
}

/* ECDSA key, JWK and r||s signature over input; 0 or -1. */
static int
make_ec(struct alg *a)
{
	int sz = a->curve == ECC_SECP256R1 ? 32 : 48;
	enum wc_HashType ht = sz == 32 ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_SHA384;
	uint8_t x[48], y[48], h[48], r[48], s[48];
	word32 xl = sizeof(x), yl = sizeof(y), rl = sizeof(r), sl = sizeof(s);
	char xs[80], ys[80];

	a->derlen = sizeof(a->der);
	if (wc_ecc_init(&a->ec) != 0 || wc_ecc_make_key_ex(&rng, sz, &a->ec, a->curve) != 0 ||
	    wc_ecc_export_public_raw(&a->ec, x, &xl, y, &yl) != 0 ||
	    wc_Hash(ht, (const byte *)input, INPUT_LEN, h, (word32)sz) != 0 ||
	    wc_ecc_sign_hash(h, (word32)sz, a->der, &a->derlen, &rng, &a->ec) != 0 ||
	    wc_ecc_sig_to_rs(a->der, a->derlen, r, &rl, s, &sl) != 0)
		return -1;
	memset(a->sig, 0, (size_t)sz * 2);
	memcpy(a->sig + sz - rl, r, rl);
	memcpy(a->sig + 2 * sz - sl, s, sl);
	a->siglen = (size_t)sz * 2;
	b64(x, xl, xs, sizeof(xs));
	b64(y, yl, ys, sizeof(ys));
	snprintf(a->jwk, sizeof(a->jwk), "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
	    sz == 32 ? "P-256" : "P-384", xs, ys);
	return 0;
}

/* RSA-2048 key, JWK and PKCS#1 v1.5 SHA-256 signature; 0 or -1. */
static int
make_rsa(struct alg *a)
{
	uint8_t n[256], e[8];
	word32 nl = sizeof(n), el = sizeof(e), sl = sizeof(a->sig);
	char ns[400], es[16];

	if (wc_InitRsaKey(&a->rsa, NULL) != 0 || wc_MakeRsaKey(&a->rsa, 2048, 65537, &rng) != 0 ||
	    wc_RsaSetRNG(&a->rsa, &rng) != 0 ||
	    wc_RsaFlattenPublicKey(&a->rsa, e, &el, n, &nl) != 0 ||
	    wc_SignatureGenerate(WC_HASH_TYPE_SHA256, WC_SIGNATURE_TYPE_RSA_W_ENC,
	        (const byte *)input, INPUT_LEN, a->sig, &sl, &a->rsa, sizeof(a->rsa), &rng) != 0)
		return -1;
	a->siglen = sl;
	b64(n, nl, ns, sizeof(ns));
	b64(e, el, es, sizeof(es));
	snprintf(a->jwk, sizeof(a->jwk), "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", ns, es);
	return 0;
}

/* Ed25519 key, JWK and signature; 0 or -1. */
static int
make_ed(struct alg *a)
{
	uint8_t pub[32];
	word32 pl = sizeof(pub), sl = sizeof(a->sig);
	char ps[64];

	if (wc_ed25519_init(&a->ed) != 0 || wc_ed25519_make_key(&rng, 32, &a->ed) != 0 ||
	    wc_ed25519_export_public(&a->ed, pub, &pl) != 0 ||
	    wc_ed25519_sign_msg((const byte *)input, INPUT_LEN, a->sig, &sl, &a->ed) != 0)
		return -1;
	a->siglen = sl;
	b64(pub, pl, ps, sizeof(ps));
	snprintf(a->jwk, sizeof(a->jwk), "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"}", ps);
	return 0;
}

/* wolfCrypt alone: hash and verify; 0 when the signature holds. */
static int
raw_verify(struct alg *a)
{
	uint8_t h[48];
	int ok = 0, sz = a->curve == ECC_SECP256R1 ? 32 : 48;

	if (a->curve != 0) {
		if (wc_Hash(sz == 32 ? WC_HASH_TYPE_SHA256 : WC_HASH_TYPE_SHA384,
		        (const byte *)input, INPUT_LEN, h, (word32)sz) != 0 ||
		    wc_ecc_verify_hash(a->der, a->derlen, h, (word32)sz, &ok, &a->ec) != 0)
			return -1;
		return ok ? 0 : -1;
	}
	if (a->jws == CRYPTO_JWS_EDDSA)
		return wc_ed25519_verify_msg(a->sig, (word32)a->siglen, (const byte *)input,
		    INPUT_LEN, &ok, &a->ed) == 0 && ok ? 0 : -1;
	return wc_SignatureVerify(WC_HASH_TYPE_SHA256, WC_SIGNATURE_TYPE_RSA_W_ENC,
	    (const byte *)input, INPUT_LEN, a->sig, (word32)a->siglen, &a->rsa,
	    sizeof(a->rsa)) == 0 ? 0 : -1;
}

/* ECDSA P-256 signature over input with wolfCrypt (hash included): what
 * one leaf's signature costs at the least. */
static int
raw_sign(struct alg *a)
{
	uint8_t h[32], der[80];
	word32 len = sizeof(der);

	return wc_Hash(WC_HASH_TYPE_SHA256, (const byte *)input, INPUT_LEN, h,
	    sizeof(h)) == 0 && wc_ecc_sign_hash(h, sizeof(h), der, &len, &rng,
	    &a->ec) == 0 ? 0 : -1;
}

static int
hearth_verify(struct alg *a)
{
	return crypto_jws_verify(a->k, a->jws, input, INPUT_LEN, a->sig, a->siglen);
}

/* Runs op for secs; operations per second, or exits when op fails. */
static double
rate(const char *what, int (*op)(struct alg *), struct alg *a, double secs)
{
	double t0 = now_s(), t;
	long n = 0;

	do {
		if (op(a) != 0) {
			fprintf(stderr, "bench_jws: %s %s failed\n", what, a->name);
			exit(1);
		}
		n++;
		t = now_s() - t0;
	} while (t < secs);
	return (double)n / t;
}

int
main(int argc, char **argv)
{
	static struct alg algs[] = {
		{ .name = "ES256", .jws = CRYPTO_JWS_ES256, .curve = ECC_SECP256R1 },
		{ .name = "ES384", .jws = CRYPTO_JWS_ES384, .curve = ECC_SECP384R1 },
		{ .name = "RS256", .jws = CRYPTO_JWS_RS256 },
		{ .name = "EdDSA", .jws = CRYPTO_JWS_EDDSA },
	};
	double secs = argc > 1 ? atof(argv[1]) : 2.0, h, r, sign = 0, verify = 0;
	size_t i;
	int rc;

	if (secs <= 0 || secs > 600 || crypto_init() != 0 || wc_InitRng(&rng) != 0)
		return 2;
	memset(input, 'e', INPUT_LEN);
	input[100] = '.';
	printf("%-8s %14s %14s %8s\n", "JWS", "hearth /s", "wolfCrypt /s", "ratio");
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		struct alg *a = &algs[i];

		rc = a->curve != 0 ? make_ec(a) : a->jws == CRYPTO_JWS_RS256 ? make_rsa(a) : make_ed(a);
		if (rc != 0 || (a->k = crypto_jwk_parse(a->jwk, strlen(a->jwk), NULL)) == NULL) {
			fprintf(stderr, "bench_jws: %s key set-up failed\n", a->name);
			return 1;
		}
		h = rate("hearth verify", hearth_verify, a, secs);
		r = rate("wolfCrypt verify", raw_verify, a, secs);
		printf("%-8s %14.0f %14.0f %8.2f\n", a->name, h, r, h / r);
		if (a->curve == ECC_SECP256R1) {
			sign = rate("wolfCrypt sign", raw_sign, a, secs);
			verify = r;
		}
		crypto_jwk_free(a->k);
	}
	/* A leaf from a P-256 CSR: the CSR's signature verified, the leaf
	 * signed; bench_crypto's "leaf issue" sets hearth's figure next to it. */
	printf("LIMIT ecdsa_p256_sign_per_s=%.0f ecdsa_p256_verify_per_s=%.0f "
	    "csr_to_cert_per_s=%.0f\n", sign, verify,
	    1.0 / (1.0 / sign + 1.0 / verify));
	wc_FreeRng(&rng);
	crypto_cleanup();
	return 0;
}
