/*
 * jws.c: JWS algorithm names and signature verification (RFC 7515 §5.2,
 * RFC 7518 §3, RFC 8037 §3.1).
 *
 * Owns the allow-list of "alg" values and the check of one signature over a
 * signing input with a parsed public JWK. Which header carried the key, the
 * nonce and the URL are acme/'s business; MACs (EAB) go through
 * crypto_hmac(). Every failure of the signature itself, its length included,
 * is CRYPTO_ERR_SIGNATURE; an alg the key cannot serve is
 * CRYPTO_ERR_UNSUPPORTED.
 */
#include "jwk_internal.h"

#include <string.h>

#include <wolfssl/wolfcrypt/hash.h>

#define SHA256_LEN 32

static const struct {
	const char *name;
	enum crypto_jws_alg alg;
} jws_algs[] = {
	{ "RS256", CRYPTO_JWS_RS256 },
	{ "PS256", CRYPTO_JWS_PS256 },
	{ "ES256", CRYPTO_JWS_ES256 },
	{ "ES384", CRYPTO_JWS_ES384 },
	{ "ES512", CRYPTO_JWS_ES512 },
	{ "EdDSA", CRYPTO_JWS_EDDSA },
	{ "HS256", CRYPTO_JWS_HS256 },
	{ "HS384", CRYPTO_JWS_HS384 },
	{ "HS512", CRYPTO_JWS_HS512 },
};

#define N_JWS_ALGS (sizeof(jws_algs) / sizeof(jws_algs[0]))

int
crypto_jws_alg_parse(const char *name, enum crypto_jws_alg *out)
{
	size_t i;

	if (name == NULL || out == NULL)
		return CRYPTO_ERR_INVALID;
	for (i = 0; i < N_JWS_ALGS; i++) {
		if (strcmp(name, jws_algs[i].name) == 0) {
			*out = jws_algs[i].alg;
			return CRYPTO_OK;
		}
	}
	return CRYPTO_ERR_UNSUPPORTED;
}

const char *
crypto_jws_alg_name(enum crypto_jws_alg alg)
{
	size_t i;

	for (i = 0; i < N_JWS_ALGS; i++)
		if (jws_algs[i].alg == alg)
			return jws_algs[i].name;
	return NULL;
}

static size_t
modulus_bits(const struct crypto_jwk *jwk)
{
	size_t bits = (jwk->n_len - 1) * 8;
	uint8_t top;

	for (top = jwk->n[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2). */
static int
verify_rs256(const struct crypto_jwk *jwk, const uint8_t digest[SHA256_LEN],
    const uint8_t *sig, size_t siglen)
{
	/* RFC 8017 §9.2 note 1: the DER DigestInfo prefix for SHA-256. */
	static const uint8_t prefix[] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
		0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
	};
	uint8_t em[JWK_RSA_MAX_N];
	RsaKey key;
	int n, ret;

	if ((ret = jwk_rsa_load(jwk, &key)) != 0)
		return ret;
	ret = CRYPTO_ERR_SIGNATURE;
	if (siglen != jwk->n_len)
		goto out;
	n = wc_RsaSSL_Verify(sig, (word32)siglen, em, sizeof(em), &key);
	if (n != (int)(sizeof(prefix) + SHA256_LEN) ||
	    memcmp(em, prefix, sizeof(prefix)) != 0 ||
	    memcmp(em + sizeof(prefix), digest, SHA256_LEN) != 0)
		goto out;
	ret = CRYPTO_OK;
out:
	wc_FreeRsaKey(&key);
	return ret;
}

/* RFC 7518 §3.5: RSASSA-PSS, SHA-256, MGF1 with SHA-256, and a salt as long
 * as the hash; other salt lengths are refused. */
static int
verify_ps256(const struct crypto_jwk *jwk, const uint8_t digest[SHA256_LEN],
    const uint8_t *sig, size_t siglen)
{
	uint8_t buf[JWK_RSA_MAX_N], out[JWK_RSA_MAX_N];
	RsaKey key;
	int n, ret;

	if ((ret = jwk_rsa_load(jwk, &key)) != 0)
		return ret;
	ret = CRYPTO_ERR_SIGNATURE;
	if (siglen != jwk->n_len)
		goto out;
	memcpy(buf, sig, siglen);	/* wolfCrypt decrypts in place */
	n = wc_RsaPSS_Verify_ex(buf, (word32)siglen, out, sizeof(out),
	    WC_HASH_TYPE_SHA256, WC_MGF1SHA256, SHA256_LEN, &key);
	if (n < 0)
		goto out;
	if (wc_RsaPSS_CheckPadding_ex(digest, SHA256_LEN, out, (word32)n,
	    WC_HASH_TYPE_SHA256, SHA256_LEN, (int)modulus_bits(jwk)) != 0)
		goto out;
	ret = CRYPTO_OK;
out:
	wc_FreeRsaKey(&key);
	return ret;
}

static int
rsa_verify(const struct crypto_jwk *jwk, enum crypto_jws_alg alg,
    const void *in, size_t inlen, const uint8_t *sig, size_t siglen)
{
	uint8_t digest[SHA256_LEN];
	int ret;

	if ((ret = crypto_sha256(in, inlen, digest)) != 0)
		return ret;
	if (alg == CRYPTO_JWS_RS256)
		return verify_rs256(jwk, digest, sig, siglen);
	return verify_ps256(jwk, digest, sig, siglen);
}

/* The hash RFC 7518 §3.4 pairs with each ECDSA alg; its length or < 0. */
static int
ecdsa_digest(enum crypto_jws_alg alg, const void *in, size_t inlen,
    uint8_t out[WC_SHA512_DIGEST_SIZE])
{
	switch (alg) {
	case CRYPTO_JWS_ES256:
		if (wc_Sha256Hash(in, (word32)inlen, out) != 0)
			break;
		return WC_SHA256_DIGEST_SIZE;
	case CRYPTO_JWS_ES384:
		if (wc_Sha384Hash(in, (word32)inlen, out) != 0)
			break;
		return WC_SHA384_DIGEST_SIZE;
	case CRYPTO_JWS_ES512:
		if (wc_Sha512Hash(in, (word32)inlen, out) != 0)
			break;
		return WC_SHA512_DIGEST_SIZE;
	default:
		return CRYPTO_ERR_UNSUPPORTED;
	}
	return CRYPTO_ERR_INTERNAL;
}

/* RFC 7518 §3.4: the signature is R || S, each exactly the curve's size. */
static int
ecdsa_verify(const struct crypto_jwk *jwk, enum crypto_jws_alg alg,
    const void *in, size_t inlen, const uint8_t *sig, size_t siglen)
{
	uint8_t digest[WC_SHA512_DIGEST_SIZE];
	size_t w = jwk->coord_len;
	ecc_key key;
	mp_int r, s;
	int dlen, res = 0, ret, have_key = 0, have_rs = 0;

	ret = CRYPTO_ERR_SIGNATURE;
	if (siglen != 2 * w)
		goto out;
	if ((ret = dlen = ecdsa_digest(alg, in, inlen, digest)) < 0)
		goto out;
	if ((ret = jwk_ecc_load(jwk, &key)) != 0)
		goto out;
	have_key = 1;
	ret = CRYPTO_ERR_INTERNAL;
	if (mp_init(&r) != MP_OKAY)
		goto out;
	if (mp_init(&s) != MP_OKAY) {
		mp_clear(&r);
		goto out;
	}
	have_rs = 1;
	if (mp_read_unsigned_bin(&r, sig, (word32)w) != MP_OKAY ||
	    mp_read_unsigned_bin(&s, sig + w, (word32)w) != MP_OKAY)
		goto out;
	/* wolfCrypt refuses r or s outside [1, n-1] (res stays 0). */
	ret = CRYPTO_ERR_SIGNATURE;
	if (wc_ecc_verify_hash_ex(&r, &s, digest, (word32)dlen, &res,
	    &key) == 0 && res == 1)
		ret = CRYPTO_OK;
out:
	if (have_rs) {
		mp_clear(&r);
		mp_clear(&s);
	}
	if (have_key)
		wc_ecc_free(&key);
	return ret;
}

/* RFC 8037 §3.1: Ed25519 over the signing input itself. */
static int
eddsa_verify(const struct crypto_jwk *jwk, const void *in, size_t inlen,
    const uint8_t *sig, size_t siglen)
{
	ed25519_key key;
	int res = 0, ret;

	if (siglen != ED25519_SIG_SIZE)
		return CRYPTO_ERR_SIGNATURE;
	if ((ret = jwk_ed25519_load(jwk, &key)) != 0)
		return ret;
	ret = CRYPTO_ERR_SIGNATURE;
	if (wc_ed25519_verify_msg(sig, (word32)siglen, in, (word32)inlen,
	    &res, &key) == 0 && res == 1)
		ret = CRYPTO_OK;
	wc_ed25519_free(&key);
	return ret;
}

int
crypto_jws_verify(const struct crypto_jwk *jwk, enum crypto_jws_alg alg,
    const void *signing_input, size_t inlen, const uint8_t *sig, size_t siglen)
{
	static const uint8_t none[1];

	if (jwk == NULL || (signing_input == NULL && inlen > 0) ||
	    (sig == NULL && siglen > 0))
		return CRYPTO_ERR_INVALID;
	if (inlen > UINT32_MAX)
		return CRYPTO_ERR_TOO_LARGE;
	if (!crypto_jwk_alg_matches(jwk, alg))
		return CRYPTO_ERR_UNSUPPORTED;
	if (signing_input == NULL)
		signing_input = none;
	if (sig == NULL)
		sig = none;
	switch (alg) {
	case CRYPTO_JWS_RS256:
	case CRYPTO_JWS_PS256:
		return rsa_verify(jwk, alg, signing_input, inlen, sig, siglen);
	case CRYPTO_JWS_ES256:
	case CRYPTO_JWS_ES384:
	case CRYPTO_JWS_ES512:
		return ecdsa_verify(jwk, alg, signing_input, inlen, sig,
		    siglen);
	case CRYPTO_JWS_EDDSA:
		return eddsa_verify(jwk, signing_input, inlen, sig, siglen);
	default:
		return CRYPTO_ERR_UNSUPPORTED;	/* HS*: see crypto_hmac() */
	}
}
