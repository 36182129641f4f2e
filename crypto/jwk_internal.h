/*
 * jwk_internal.h: the layout of a parsed public JWK and the wolfCrypt key
 * loaders, shared by jwk.c (which parses and serialises keys) and jws.c
 * (which verifies with them). Nothing outside crypto/ includes this.
 */
#ifndef HEARTH_JWK_INTERNAL_H
#define HEARTH_JWK_INTERNAL_H

#include "crypto_internal.h"

#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/ed25519.h>
#include <wolfssl/wolfcrypt/rsa.h>

#define JWK_RSA_MAX_N   (CRYPTO_RSA_MAX_BITS / 8)
#define JWK_RSA_MAX_E   4     /* public exponents up to 2^32 - 1 */
#define JWK_EC_MAX      66    /* a P-521 coordinate */
#define JWK_ED25519_LEN 32

enum jwk_kty { JWK_KTY_RSA, JWK_KTY_EC, JWK_KTY_OKP };
enum jwk_crv { JWK_CRV_NONE, JWK_CRV_P256, JWK_CRV_P384, JWK_CRV_P521,
	JWK_CRV_ED25519 };

/*
 * Public key material as big-endian bytes, checked by crypto_jwk_parse():
 * RSA n and e carry no leading zero octets; EC x and y are exactly coord_len
 * bytes; OKP x is JWK_ED25519_LEN bytes. wolfCrypt key objects are built from
 * these for each use, so one crypto_jwk can be shared read-only by threads.
 */
struct crypto_jwk {
	enum jwk_kty kty;
	enum jwk_crv crv;
	size_t n_len, e_len, coord_len;
	uint8_t n[JWK_RSA_MAX_N];
	uint8_t e[JWK_RSA_MAX_E];
	uint8_t x[JWK_EC_MAX];
	uint8_t y[JWK_EC_MAX];
};

/* Initialise key and load the JWK's public key into it. 0 (the caller frees
 * key with wc_FreeRsaKey / wc_ecc_free / wc_ed25519_free) or CRYPTO_ERR_*
 * (key already released). The EC loader does not check the point. */
int jwk_rsa_load(const struct crypto_jwk *jwk, RsaKey *key);
int jwk_ecc_load(const struct crypto_jwk *jwk, ecc_key *key);
int jwk_ed25519_load(const struct crypto_jwk *jwk, ed25519_key *key);

#endif
