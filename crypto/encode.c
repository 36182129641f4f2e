/*
 * encode.c: base64url (RFC 7515 §2, RFC 4648 §5), SHA-256 and HMAC.
 *
 * Owns the byte-level encodings every JOSE object is made of. The decoder is
 * strict: no padding, no whitespace, only the url-safe alphabet, and unused
 * trailing bits must be zero, so every byte string has exactly one accepted
 * encoding. Decoding runs without table look-ups or branches on the input's
 * bytes, since EAB MAC keys pass through it. Holds no state.
 */
#include "crypto_internal.h"

#include <limits.h>
#include <string.h>

#include <wolfssl/wolfcrypt/hmac.h>
#include <wolfssl/wolfcrypt/sha256.h>

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* All ones when lo <= c <= hi, else zero; no branch on c. */
static unsigned
range_mask(unsigned c, unsigned lo, unsigned hi)
{
	unsigned ge = ((c - lo) >> 8) ^ 1u;	/* c < lo wraps: bit 8+ set */
	unsigned le = ((hi - c) >> 8) ^ 1u;

	return 0u - ((ge & le) & 1u);
}

/* The value 0..63 of one base64url character, or 0xff when it is not one. */
static unsigned
b64url_value(unsigned char ch)
{
	unsigned c = ch, v = 0, ok = 0, m;

	m = range_mask(c, 'A', 'Z');
	v |= m & (c - 'A');
	ok |= m;
	m = range_mask(c, 'a', 'z');
	v |= m & (c - 'a' + 26);
	ok |= m;
	m = range_mask(c, '0', '9');
	v |= m & (c - '0' + 52);
	ok |= m;
	m = range_mask(c, '-', '-');
	v |= m & 62u;
	ok |= m;
	m = range_mask(c, '_', '_');
	v |= m & 63u;
	ok |= m;
	return (v & ok & 0xffu) | (~ok & 0xffu);
}

size_t
crypto_b64url_len(size_t n)
{
	size_t rem = n % 3;

	if (n / 3 > (SIZE_MAX - 3) / 4)
		return SIZE_MAX;
	return n / 3 * 4 + (rem == 0 ? 0 : rem + 1);
}

int
crypto_b64url_encode(const void *in, size_t inlen, char *out, size_t outsz)
{
	const uint8_t *p = in;
	size_t need, i, o = 0;
	uint32_t v;

	need = crypto_b64url_len(inlen);
	if (need >= outsz || need > INT_MAX)
		return CRYPTO_ERR_TOO_LARGE;
	for (i = 0; i + 3 <= inlen; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
		out[o++] = b64url_alphabet[v & 63];
	}
	if (inlen - i == 1) {
		v = (uint32_t)p[i] << 16;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
	} else if (inlen - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64url_alphabet[v >> 18 & 63];
		out[o++] = b64url_alphabet[v >> 12 & 63];
		out[o++] = b64url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return (int)o;
}

/* Decoded size of an unpadded encoding of inlen characters. */
static size_t
b64url_decoded_len(size_t inlen)
{
	size_t rem = inlen % 4;

	return inlen / 4 * 3 + (rem == 0 ? 0 : rem - 1);
}

int
crypto_b64url_decode(const char *in, size_t inlen, uint8_t *out,
    size_t outsz, size_t *outlen)
{
	size_t need, i, o = 0, rem;
	uint32_t acc = 0;
	unsigned bad = 0, v;
	int ret = CRYPTO_ERR_PARSE;

	*outlen = 0;
	if (inlen % 4 == 1)
		goto out;
	need = b64url_decoded_len(inlen);
	if (need > outsz) {
		ret = CRYPTO_ERR_TOO_LARGE;
		goto out;
	}
	for (i = 0; i < inlen; i++) {
		v = b64url_value((unsigned char)in[i]);
		bad |= v >> 6;
		acc = acc << 6 | (v & 63);
		if (i % 4 == 3) {
			out[o++] = (uint8_t)(acc >> 16);
			out[o++] = (uint8_t)(acc >> 8);
			out[o++] = (uint8_t)acc;
			acc = 0;
		}
	}
	/* RFC 4648 §3.5: the bits left over after the last octet are zero. */
	rem = inlen % 4;
	if (rem == 2) {
		bad |= acc & 0x0f;
		out[o++] = (uint8_t)(acc >> 4);
	} else if (rem == 3) {
		bad |= acc & 0x03;
		out[o++] = (uint8_t)(acc >> 10);
		out[o++] = (uint8_t)(acc >> 2);
	}
	if (bad != 0) {
		crypto_zeroize(out, o);
		goto out;
	}
	*outlen = o;
	ret = CRYPTO_OK;
out:
	return ret;
}

int
crypto_sha256(const void *in, size_t len, uint8_t out[32])
{
	static const uint8_t empty[1];

	if (len > UINT32_MAX || (in == NULL && len > 0) || out == NULL)
		return CRYPTO_ERR_INVALID;
	if (wc_Sha256Hash(len > 0 ? in : empty, (word32)len, out) != 0)
		return CRYPTO_ERR_INTERNAL;
	return CRYPTO_OK;
}

/* wolfCrypt's HMAC type and output size for hash; 0 when unknown. */
static int
hmac_type(enum crypto_hash hash, size_t *len)
{
	switch (hash) {
	case CRYPTO_SHA256:
		*len = WC_SHA256_DIGEST_SIZE;
		return WC_SHA256;
	case CRYPTO_SHA384:
		*len = WC_SHA384_DIGEST_SIZE;
		return WC_SHA384;
	case CRYPTO_SHA512:
		*len = WC_SHA512_DIGEST_SIZE;
		return WC_SHA512;
	case CRYPTO_SHA1:        /* OCSP CertIDs only, never a MAC */
		break;
	}
	return 0;
}

int
crypto_hmac(enum crypto_hash hash, const void *key, size_t keylen,
    const void *msg, size_t msglen, uint8_t *out, size_t *outlen)
{
	static const uint8_t empty[1];
	Hmac h;
	size_t len = 0;
	int type, ret = CRYPTO_ERR_INVALID, inited = 0;

	if ((type = hmac_type(hash, &len)) == 0 || out == NULL ||
	    outlen == NULL || keylen > UINT32_MAX || msglen > UINT32_MAX ||
	    (key == NULL && keylen > 0) || (msg == NULL && msglen > 0))
		goto out;
	ret = CRYPTO_ERR_INTERNAL;
	if (wc_HmacInit(&h, NULL, INVALID_DEVID) != 0)
		goto out;
	inited = 1;
	if (wc_HmacSetKey(&h, type, keylen > 0 ? key : empty,
	    (word32)keylen) != 0)
		goto out;
	if (msglen > 0 && wc_HmacUpdate(&h, msg, (word32)msglen) != 0)
		goto out;
	if (wc_HmacFinal(&h, out) != 0)
		goto out;
	*outlen = len;
	ret = CRYPTO_OK;
out:
	if (inited) {
		wc_HmacFree(&h);
		crypto_zeroize(&h, sizeof(h));
	}
	return ret;
}
