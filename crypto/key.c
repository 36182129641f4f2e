/*
 * key.c: the CA's private keys. Generates EC P-256/P-384 and RSA-4096 keys,
 * loads PKCS#8/PKCS#1/SEC1 keys (decrypting encrypted PKCS#8), writes PKCS#8
 * PEM (encrypted with PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC, RFC 8018),
 * exports SubjectPublicKeyInfo and signs certificates, CRLs and OCSP
 * responses (one TBS-shaped signer). Every buffer that holds
 * key material is zeroized before it is freed. No files, no names.
 */
#include "pki_internal.h"

#include <stdlib.h>
#include <string.h>

#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/pwdbased.h>
#include <wolfssl/wolfcrypt/sha256.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/wc_encrypt.h>

#define KEY_DER_MAX     8192
#define SIG_MAX         1024     /* RSA-4096: 512 bytes; ECDSA P-521 DER: 139 */
#define PBE_ITERATIONS  600000   /* PBKDF2-HMAC-SHA256, OWASP 2023 */
#define PBE_SALT_LEN    16
#define PBE_KEY_LEN     32
#define PBE_IV_LEN      16

static const uint8_t oid_pbes2[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d };
static const uint8_t oid_pbkdf2[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c };
static const uint8_t oid_hmac_sha256[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x02, 0x09 };
static const uint8_t oid_aes256_cbc[] =
    { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2a };

/* AlgorithmIdentifiers of the certificate signatures we make. */
static const uint8_t alg_ecdsa_sha256[] = { 0x30, 0x0a, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const uint8_t alg_ecdsa_sha384[] = { 0x30, 0x0a, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 };
static const uint8_t alg_ecdsa_sha512[] = { 0x30, 0x0a, 0x06, 0x08,
    0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 };
static const uint8_t alg_rsa_sha256[] = { 0x30, 0x0d, 0x06, 0x09,
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00 };

static struct pki_key *
key_new(enum pki_key_kind kind)
{
	struct pki_key *k;
	int ret;

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return NULL;
	k->kind = kind;
	if (kind == PKI_KEY_RSA)
		ret = wc_InitRsaKey(&k->u.rsa, NULL);
	else
		ret = wc_ecc_init(&k->u.ec);
	if (ret != 0) {
		free(k);
		return NULL;
	}
	return k;
}

void
pki_key_free(struct pki_key *k)
{
	if (k == NULL)
		return;
	if (k->kind == PKI_KEY_RSA)
		wc_FreeRsaKey(&k->u.rsa);
	else
		wc_ecc_free(&k->u.ec);
	crypto_zeroize(k, sizeof(*k));
	free(k);
}

int
pki_key_generate(enum crypto_key_type type, struct pki_key **out)
{
	struct pki_key *k;
	WC_RNG *rng;
	int ret;

	*out = NULL;
	if (type != CRYPTO_KEY_EC_P256 && type != CRYPTO_KEY_EC_P384 &&
	    type != CRYPTO_KEY_RSA_4096)
		return CRYPTO_ERR_UNSUPPORTED;
	if ((k = key_new(type == CRYPTO_KEY_RSA_4096 ? PKI_KEY_RSA :
	    PKI_KEY_EC)) == NULL)
		return CRYPTO_ERR_NOMEM;
	rng = crypto_rng_lock();
	if (type == CRYPTO_KEY_RSA_4096)
		ret = wc_MakeRsaKey(&k->u.rsa, 4096, WC_RSA_EXPONENT, rng);
	else if (type == CRYPTO_KEY_EC_P256)
		ret = wc_ecc_make_key_ex(rng, 32, &k->u.ec, ECC_SECP256R1);
	else
		ret = wc_ecc_make_key_ex(rng, 48, &k->u.ec, ECC_SECP384R1);
	crypto_rng_unlock();
	if (ret != 0) {
		pki_key_free(k);
		return CRYPTO_ERR_INTERNAL;
	}
	*out = k;
	return CRYPTO_OK;
}

/* Accepts what a CA may sign with: RSA 2048..4096, EC P-256/P-384/P-521. */
static int
key_check(struct pki_key *k)
{
	int bits, id;

	if (k->kind == PKI_KEY_RSA) {
		bits = wc_RsaEncryptSize(&k->u.rsa) * 8;
		if (bits < CRYPTO_RSA_MIN_BITS || bits > CRYPTO_RSA_MAX_BITS)
			return CRYPTO_ERR_KEY_SIZE;
		return CRYPTO_OK;
	}
	if (k->u.ec.dp == NULL)
		return CRYPTO_ERR_PARSE;
	id = k->u.ec.dp->id;
	if (id != ECC_SECP256R1 && id != ECC_SECP384R1 && id != ECC_SECP521R1)
		return CRYPTO_ERR_UNSUPPORTED;
	/* Derive the public point so it always matches the private scalar. */
	if (wc_ecc_make_pub(&k->u.ec, NULL) != 0)
		return CRYPTO_ERR_INTERNAL;
	return CRYPTO_OK;
}

int
pki_key_from_der(const uint8_t *der, size_t len, struct pki_key **out)
{
	struct pki_key *k = NULL;
	word32 start = 0, idx;
	int ret = CRYPTO_ERR_PARSE;

	*out = NULL;
	if (len == 0 || len > KEY_DER_MAX)
		return CRYPTO_ERR_PARSE;
	if (wc_GetPkcs8TraditionalOffset((byte *)der, &start, (word32)len) < 0)
		start = 0;
	if ((k = key_new(PKI_KEY_RSA)) == NULL)
		return CRYPTO_ERR_NOMEM;
	idx = start;
	if (wc_RsaPrivateKeyDecode(der, &idx, &k->u.rsa, (word32)len) == 0)
		goto check;
	pki_key_free(k);
	if ((k = key_new(PKI_KEY_EC)) == NULL)
		return CRYPTO_ERR_NOMEM;
	idx = start;
	if (wc_EccPrivateKeyDecode(der, &idx, &k->u.ec, (word32)len) == 0)
		goto check;
	ret = start > 0 ? CRYPTO_ERR_UNSUPPORTED : CRYPTO_ERR_PARSE;
	goto out;
check:
	ret = key_check(k);
out:
	if (ret != 0)
		pki_key_free(k);
	else
		*out = k;
	return ret;
}

static int
key_from_encrypted(const uint8_t *der, size_t len, const char *pass,
    size_t passlen, struct pki_key **out)
{
	uint8_t *copy;
	int n, ret;

	if (pass == NULL)
		return CRYPTO_ERR_PASSPHRASE;
	if (len > KEY_DER_MAX || passlen > INT32_MAX)
		return CRYPTO_ERR_TOO_LARGE;
	if ((copy = malloc(len)) == NULL)
		return CRYPTO_ERR_NOMEM;
	memcpy(copy, der, len);
	n = wc_DecryptPKCS8Key(copy, (word32)len, pass, (int)passlen);
	if (n <= 0)
		ret = CRYPTO_ERR_PASSPHRASE;
	else if ((ret = pki_key_from_der(copy, (size_t)n, out)) == CRYPTO_ERR_PARSE)
		ret = CRYPTO_ERR_PASSPHRASE;   /* decrypted to garbage */
	crypto_zeroize(copy, len);
	free(copy);
	return ret;
}

int
pki_key_from_pem(const char *pem, size_t len, const char *pass,
    size_t passlen, struct pki_key **out)
{
	static const char *const plain[] =
	    { "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY" };
	uint8_t *der = NULL;
	size_t derlen = 0, i;
	int ret;

	*out = NULL;
	ret = pki_pem_decode(pem, len, "ENCRYPTED PRIVATE KEY", &der, &derlen);
	if (ret == 0) {
		ret = key_from_encrypted(der, derlen, pass, passlen, out);
		goto out;
	}
	for (i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		ret = pki_pem_decode(pem, len, plain[i], &der, &derlen);
		if (ret == CRYPTO_ERR_PARSE)
			continue;
		if (ret == 0)
			ret = pki_key_from_der(der, derlen, out);
		break;
	}
out:
	crypto_zeroize(der, derlen);
	free(der);
	return ret;
}

int
pki_key_pkcs8(struct pki_key *k, uint8_t **der, size_t *len)
{
	uint8_t *trad = NULL, *p8 = NULL;
	const byte *curve = NULL;
	word32 p8len = KEY_DER_MAX, curvelen = 0;
	int n, ret = CRYPTO_ERR_INTERNAL;

	*der = NULL;
	if ((trad = malloc(KEY_DER_MAX)) == NULL ||
	    (p8 = malloc(KEY_DER_MAX)) == NULL) {
		ret = CRYPTO_ERR_NOMEM;
		goto out;
	}
	if (k->kind == PKI_KEY_RSA) {
		if ((n = wc_RsaKeyToDer(&k->u.rsa, trad, KEY_DER_MAX)) <= 0)
			goto out;
		if (wc_CreatePKCS8Key(p8, &p8len, trad, (word32)n, RSAk, NULL, 0) <= 0)
			goto out;
	} else {
		if ((n = wc_EccPrivateKeyToDer(&k->u.ec, trad, KEY_DER_MAX)) <= 0 ||
		    wc_ecc_get_oid(k->u.ec.dp->oidSum, &curve, &curvelen) < 0)
			goto out;
		if (wc_CreatePKCS8Key(p8, &p8len, trad, (word32)n, ECDSAk, curve,
		    curvelen) <= 0)
			goto out;
	}
	*der = p8;
	*len = p8len;
	p8 = NULL;
	ret = CRYPTO_OK;
out:
	if (trad != NULL)
		crypto_zeroize(trad, KEY_DER_MAX);
	if (p8 != NULL)
		crypto_zeroize(p8, KEY_DER_MAX);
	free(trad);
	free(p8);
	return ret;
}

/* PBES2-AlgorithmIdentifier with the given salt and IV (RFC 8018 A.4). */
static void
pbes2_params(struct pki_buf *b, const uint8_t *salt, const uint8_t *iv)
{
	size_t alg = b->len, params, kdf, kdfp, prf, enc;

	pki_der_tlv(b, PKI_DER_OID, oid_pbes2, sizeof(oid_pbes2));
	params = b->len;
	kdf = b->len;
	pki_der_tlv(b, PKI_DER_OID, oid_pbkdf2, sizeof(oid_pbkdf2));
	kdfp = b->len;
	pki_der_tlv(b, PKI_DER_OCTETS, salt, PBE_SALT_LEN);
	pki_der_small_uint(b, PBE_ITERATIONS);
	prf = b->len;
	pki_der_tlv(b, PKI_DER_OID, oid_hmac_sha256, sizeof(oid_hmac_sha256));
	pki_der_tlv(b, PKI_DER_NULL, NULL, 0);
	pki_der_wrap(b, PKI_DER_SEQ, prf);
	pki_der_wrap(b, PKI_DER_SEQ, kdfp);
	pki_der_wrap(b, PKI_DER_SEQ, kdf);
	enc = b->len;
	pki_der_tlv(b, PKI_DER_OID, oid_aes256_cbc, sizeof(oid_aes256_cbc));
	pki_der_tlv(b, PKI_DER_OCTETS, iv, PBE_IV_LEN);
	pki_der_wrap(b, PKI_DER_SEQ, enc);
	pki_der_wrap(b, PKI_DER_SEQ, params);
	pki_der_wrap(b, PKI_DER_SEQ, alg);
}

/* EncryptedPrivateKeyInfo of a PKCS#8 DER (RFC 5958 §3). */
static int
pkcs8_encrypt(const uint8_t *p8, size_t len, const char *pass,
    size_t passlen, struct pki_buf *out)
{
	uint8_t salt[PBE_SALT_LEN], iv[PBE_IV_LEN], dk[PBE_KEY_LEN];
	uint8_t *plain = NULL;
	size_t padded = (len / 16 + 1) * 16, mark;
	int ret = CRYPTO_ERR_INTERNAL;

	if (passlen == 0 || passlen > INT32_MAX || len > KEY_DER_MAX)
		return CRYPTO_ERR_INVALID;
	if (crypto_random(salt, sizeof(salt)) != 0 ||
	    crypto_random(iv, sizeof(iv)) != 0)
		return CRYPTO_ERR_INTERNAL;
	if ((plain = malloc(padded)) == NULL)
		return CRYPTO_ERR_NOMEM;
	memcpy(plain, p8, len);
	memset(plain + len, (int)(padded - len), padded - len);
	if (wc_PBKDF2(dk, (const byte *)pass, (int)passlen, salt, sizeof(salt),
	    PBE_ITERATIONS, sizeof(dk), WC_SHA256) != 0)
		goto out;
	if (wc_AesCbcEncryptWithKey(plain, plain, (word32)padded, dk, sizeof(dk),
	    iv) != 0)
		goto out;
	mark = out->len;
	pbes2_params(out, salt, iv);
	pki_der_tlv(out, PKI_DER_OCTETS, plain, padded);
	pki_der_wrap(out, PKI_DER_SEQ, mark);
	ret = out->err;
out:
	crypto_zeroize(dk, sizeof(dk));
	crypto_zeroize(plain, padded);
	free(plain);
	return ret;
}

int
pki_key_pem(struct pki_key *k, const char *pass, size_t passlen,
    char **pem, size_t *pemlen)
{
	struct pki_buf enc = { 0 };
	uint8_t *p8 = NULL;
	size_t p8len = 0;
	int ret;

	*pem = NULL;
	if ((ret = pki_key_pkcs8(k, &p8, &p8len)) != 0)
		goto out;
	if (pass == NULL) {
		ret = pki_pem_encode(p8, p8len, "PRIVATE KEY", pem, pemlen);
		goto out;
	}
	if ((ret = pkcs8_encrypt(p8, p8len, pass, passlen, &enc)) != 0)
		goto out;
	ret = pki_pem_encode(enc.p, enc.len, "ENCRYPTED PRIVATE KEY", pem, pemlen);
out:
	crypto_zeroize(p8, p8len);
	free(p8);
	pki_buf_free(&enc);
	return ret;
}

int
pki_key_spki(struct pki_key *k, uint8_t *out, size_t outsz, size_t *len)
{
	int n;

	if (outsz > UINT32_MAX)
		outsz = UINT32_MAX;
	if (k->kind == PKI_KEY_RSA)
		n = wc_RsaKeyToPublicDer(&k->u.rsa, out, (word32)outsz);
	else
		n = wc_EccPublicKeyToDer(&k->u.ec, out, (word32)outsz, 1);
	if (n <= 0)
		return CRYPTO_ERR_INTERNAL;
	*len = (size_t)n;
	return CRYPTO_OK;
}

static int
key_sig_type(const struct pki_key *k)
{
	if (k->kind == PKI_KEY_RSA)
		return CTC_SHA256wRSA;
	switch (k->u.ec.dp->id) {
	case ECC_SECP384R1:
		return CTC_SHA384wECDSA;
	case ECC_SECP521R1:
		return CTC_SHA512wECDSA;
	default:
		return CTC_SHA256wECDSA;
	}
}

const uint8_t *
pki_key_sig_alg(const struct pki_key *k, size_t *len)
{
	switch (key_sig_type(k)) {
	case CTC_SHA256wRSA:
		*len = sizeof(alg_rsa_sha256);
		return alg_rsa_sha256;
	case CTC_SHA384wECDSA:
		*len = sizeof(alg_ecdsa_sha384);
		return alg_ecdsa_sha384;
	case CTC_SHA512wECDSA:
		*len = sizeof(alg_ecdsa_sha512);
		return alg_ecdsa_sha512;
	default:
		*len = sizeof(alg_ecdsa_sha256);
		return alg_ecdsa_sha256;
	}
}

/* The digest a signature of this key's algorithm covers, and its
 * DigestInfo OID sum for RSA. */
static enum wc_HashType
key_hash_type(const struct pki_key *k, int *oid)
{
	switch (key_sig_type(k)) {
	case CTC_SHA384wECDSA:
		*oid = SHA384h;
		return WC_HASH_TYPE_SHA384;
	case CTC_SHA512wECDSA:
		*oid = SHA512h;
		return WC_HASH_TYPE_SHA512;
	default:
		*oid = SHA256h;
		return WC_HASH_TYPE_SHA256;
	}
}

/* The signature value over data: ECDSA as DER, or RSA PKCS#1 v1.5 over a
 * DigestInfo (RFC 8017 §9.2). The hash runs outside the RNG lock. */
static int
key_sign(struct pki_key *k, const uint8_t *data, size_t len, uint8_t *sig,
    word32 *siglen)
{
	uint8_t digest[WC_MAX_DIGEST_SIZE], info[MAX_ENCODED_SIG_SZ];
	enum wc_HashType type;
	word32 dlen, ilen;
	WC_RNG *rng;
	int oid, ret;

	type = key_hash_type(k, &oid);
	dlen = (word32)wc_HashGetDigestSize(type);
	if (wc_Hash(type, data, (word32)len, digest, dlen) != 0)
		return CRYPTO_ERR_INTERNAL;
	rng = crypto_rng_lock();
	if (k->kind == PKI_KEY_RSA) {
		ilen = wc_EncodeSignature(info, digest, dlen, oid);
		ret = ilen == 0 ? -1 :
		    wc_RsaSSL_Sign(info, ilen, sig, *siglen, &k->u.rsa, rng);
		if (ret > 0) {
			*siglen = (word32)ret;
			ret = 0;
		}
	} else
		ret = wc_ecc_sign_hash(digest, dlen, sig, siglen, rng, &k->u.ec);
	crypto_rng_unlock();
	return ret == 0 ? CRYPTO_OK : CRYPTO_ERR_INTERNAL;
}

/*
 * X.509 certificates, CRLs (RFC 5280 §5.1) and BasicOCSPResponses (RFC 6960
 * §4.2.1) share one shape: SEQUENCE { tbs, signatureAlgorithm, BIT STRING }.
 * wolfSSL makes only the signature value (key_sign); the framing is ours,
 * because wolfSSL's certificate framing writes lengths of at most three
 * bytes and a CRL of many entries is longer than 16 MiB.
 */
int
pki_key_sign_tbs(struct pki_key *k, struct pki_buf *b)
{
	uint8_t sig[SIG_MAX];
	word32 siglen = sizeof(sig);
	const uint8_t *alg;
	size_t alglen, bits;
	int ret;

	if (b->err != 0)
		return b->err;
	if (b->len == 0 || b->len > UINT32_MAX)
		return CRYPTO_ERR_TOO_LARGE;
	/* wolfSSL's fixed-point EC cache is per thread and speeds up every
	 * later signature; threads release it with crypto_thread_cleanup(). */
	if ((ret = key_sign(k, b->p, b->len, sig, &siglen)) != 0)
		return ret;
	alg = pki_key_sig_alg(k, &alglen);
	pki_buf_raw(b, alg, alglen);
	bits = b->len;
	pki_buf_raw(b, "", 1);                   /* no unused bits */
	pki_buf_raw(b, sig, siglen);
	pki_der_wrap(b, PKI_DER_BITSTR, bits);
	pki_der_wrap(b, PKI_DER_SEQ, 0);
	return b->err;
}
