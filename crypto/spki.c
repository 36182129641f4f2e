/*
 * spki.c: the one check of a SubjectPublicKeyInfo a certificate may carry
 * (RFC 5280 §4.1.2.7). The input must be exactly one DER element with
 * nothing after it and nothing extra inside, holding an allowed key:
 * rsaEncryption (RFC 3279 §2.3.1: NULL parameters, a modulus of
 * CRYPTO_RSA_MIN_BITS..CRYPTO_RSA_MAX_BITS, an odd exponent of 3..2^32-1),
 * id-ecPublicKey on P-256 or P-384 (RFC 5480 §2: a named curve and an
 * uncompressed point on it), or Ed25519 (RFC 8410 §3: no parameters, 32
 * bytes). The CSR parser (csr.c) and the signer process (signcheck.c) both
 * call it, so a key the signer signs is a key the CSR parser accepted.
 */
#include "pki_internal.h"

#include <string.h>

#include <wolfssl/wolfcrypt/ecc.h>

static const uint8_t oid_rsa[] =
    { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const uint8_t oid_ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_p256[] =
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_ed25519[] = { 0x2b, 0x65, 0x70 };

static int
oid_is(const struct pki_tlv *t, const uint8_t *oid, size_t len)
{
	return t->tag == PKI_DER_OID && t->val_len == len &&
	    memcmp(t->val, oid, len) == 0;
}

/* A positive DER INTEGER in minimal form: its magnitude without the sign
 * byte. 0 or CRYPTO_ERR_PARSE. */
static int
uint_magnitude(const struct pki_tlv *t, const uint8_t **p, size_t *len)
{
	if (t->val_len == 0 || (t->val[0] & 0x80) != 0)
		return CRYPTO_ERR_PARSE;
	*p = t->val;
	*len = t->val_len;
	if (t->val[0] == 0 && t->val_len > 1) {
		if ((t->val[1] & 0x80) == 0)
			return CRYPTO_ERR_PARSE;   /* not minimal */
		(*p)++;
		(*len)--;
	}
	return CRYPTO_OK;
}

static size_t
bit_length(const uint8_t *p, size_t len)
{
	size_t bits = len * 8;
	uint8_t top = len > 0 ? p[0] : 0;

	if (len == 0)
		return 0;
	while ((top & 0x80) == 0 && bits > 0) {
		top = (uint8_t)(top << 1);
		bits--;
	}
	return bits;
}

/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
static int
rsa_check(const struct pki_der *params, const struct pki_tlv *bits)
{
	struct pki_der a = *params, d;
	struct pki_tlv t, seq, n, e;
	const uint8_t *np, *ep;
	size_t nlen, elen, nbits;

	if (pki_der_expect(&a, PKI_DER_NULL, &t) != 0 || t.val_len != 0 ||
	    a.len != 0)
		return CRYPTO_ERR_UNSUPPORTED;
	d.p = bits->val + 1;
	d.len = bits->val_len - 1;
	if (pki_der_expect(&d, PKI_DER_SEQ, &seq) != 0 || d.len != 0)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&seq);
	if (pki_der_expect(&d, PKI_DER_INTEGER, &n) != 0 ||
	    pki_der_expect(&d, PKI_DER_INTEGER, &e) != 0 || d.len != 0 ||
	    uint_magnitude(&n, &np, &nlen) != 0 ||
	    uint_magnitude(&e, &ep, &elen) != 0)
		return CRYPTO_ERR_PARSE;
	nbits = bit_length(np, nlen);
	if (nbits < CRYPTO_RSA_MIN_BITS || nbits > CRYPTO_RSA_MAX_BITS)
		return CRYPTO_ERR_KEY_SIZE;
	if ((np[nlen - 1] & 1) == 0 || elen > 4 || (ep[elen - 1] & 1) == 0 ||
	    (elen == 1 && ep[0] < 3))
		return CRYPTO_ERR_UNSUPPORTED;
	return CRYPTO_OK;
}

/* The field primes, big-endian (FIPS 186-4 §D.1.2). */
static const uint8_t p256[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t p384[48] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
};

/* 1 when the flen-byte big-endian v is below the prime of that size
 * (P-521's is 2^521 - 1: 0x01 then 65 bytes of 0xff). */
static int
below_prime(const uint8_t *v, size_t flen)
{
	size_t i;

	if (flen == sizeof(p256))
		return memcmp(v, p256, flen) < 0;
	if (flen == sizeof(p384))
		return memcmp(v, p384, flen) < 0;
	if (flen != 66)
		return 0;
	if (v[0] != 0x01)
		return v[0] == 0x00;
	for (i = 1; i < flen; i++)
		if (v[i] != 0xff)
			return 1;
	return 0;
}

int
crypto_ec_point_check(ecc_key *key, const uint8_t *x, const uint8_t *y,
    size_t flen)
{
	if (!below_prime(x, flen) || !below_prime(y, flen) ||
	    wc_ecc_point_is_on_curve(&key->pubkey, key->idx) != 0)
		return CRYPTO_ERR_PARSE;
	return CRYPTO_OK;
}

/* The curve's named OID, then an uncompressed point that is on it. */
static int
ec_check(const struct pki_der *params, const struct pki_tlv *bits,
    enum pki_spki_kind *kind)
{
	struct pki_der a = *params;
	struct pki_tlv curve;
	ecc_key key;
	size_t flen;
	int id, ret;

	if (pki_der_expect(&a, PKI_DER_OID, &curve) != 0 || a.len != 0)
		return CRYPTO_ERR_UNSUPPORTED;
	if (oid_is(&curve, oid_p256, sizeof(oid_p256))) {
		*kind = PKI_SPKI_P256;
		flen = 32;
		id = ECC_SECP256R1;
	} else if (oid_is(&curve, oid_p384, sizeof(oid_p384))) {
		*kind = PKI_SPKI_P384;
		flen = 48;
		id = ECC_SECP384R1;
	} else
		return CRYPTO_ERR_UNSUPPORTED;
	/* Uncompressed points only (RFC 5480 §2.2 makes them the MUST). */
	if (bits->val_len != 2 + 2 * flen || bits->val[1] != 0x04)
		return CRYPTO_ERR_UNSUPPORTED;
	if (wc_ecc_init(&key) != 0)
		return CRYPTO_ERR_INTERNAL;
	ret = wc_ecc_import_x963_ex(bits->val + 1, (word32)(bits->val_len - 1),
	    &key, id) != 0 ? CRYPTO_ERR_PARSE :
	    crypto_ec_point_check(&key, bits->val + 2, bits->val + 2 + flen, flen);
	wc_ecc_free(&key);
	return ret;
}

int
pki_spki_check(const uint8_t *der, size_t len, enum pki_spki_kind *kind)
{
	struct pki_der d = { der, len }, a;
	struct pki_tlv spki, alg, oid, bits;

	if (der == NULL || pki_der_expect(&d, PKI_DER_SEQ, &spki) != 0 ||
	    d.len != 0)
		return CRYPTO_ERR_PARSE;
	d = pki_der_in(&spki);
	if (pki_der_expect(&d, PKI_DER_SEQ, &alg) != 0 ||
	    pki_der_expect(&d, PKI_DER_BITSTR, &bits) != 0 || d.len != 0 ||
	    bits.val_len < 2 || bits.val[0] != 0)
		return CRYPTO_ERR_PARSE;
	a = pki_der_in(&alg);
	if (pki_der_expect(&a, PKI_DER_OID, &oid) != 0)
		return CRYPTO_ERR_PARSE;
	if (oid_is(&oid, oid_rsa, sizeof(oid_rsa))) {
		*kind = PKI_SPKI_RSA;
		return rsa_check(&a, &bits);
	}
	if (oid_is(&oid, oid_ed25519, sizeof(oid_ed25519))) {
		*kind = PKI_SPKI_ED25519;
		if (a.len != 0)
			return CRYPTO_ERR_UNSUPPORTED;
		return bits.val_len == 33 ? CRYPTO_OK : CRYPTO_ERR_PARSE;
	}
	if (oid_is(&oid, oid_ec, sizeof(oid_ec)))
		return ec_check(&a, &bits, kind);
	return CRYPTO_ERR_UNSUPPORTED;
}
