/*
 * crypto_internal.h: declarations shared by the files of crypto/ only.
 * Nothing outside crypto/ includes this (the layering check refuses it).
 */
#ifndef HEARTH_CRYPTO_INTERNAL_H
#define HEARTH_CRYPTO_INTERNAL_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "crypto.h"

/* The shared DRBG. Callers hold the lock for the duration of one wolfCrypt
 * call that needs an RNG; never across I/O. */
WC_RNG *crypto_rng_lock(void);
void crypto_rng_unlock(void);
/* In a forked child: a fresh DRBG, so parent and child never draw the same
 * bytes (serials in one, nonces and tokens in the other). */
void crypto_rng_after_fork(void);

/* Issues a certificate for this server's own TLS listener: a fresh P-256
 * key, subjectAltName = names, EKU serverAuth, signed by the intermediate.
 * *cert_der and *key_der (PKCS#8 DER) are malloc'd; the caller zeroizes and
 * frees the key. 0 or CRYPTO_ERR_*. (ca.c / leaf.c) */
int crypto_signer_issue_tls(struct crypto_signer *s,
    const struct crypto_name *names, size_t n_names, time_t not_before,
    time_t not_after, uint8_t **cert_der, size_t *cert_len,
    uint8_t **key_der, size_t *key_len);

/* The intermediate certificate in DER, owned by the signer. */
const uint8_t *crypto_signer_cert_der(const struct crypto_signer *s, size_t *len);

/* Reads a whole public file (a certificate) of at most max bytes with
 * open/read into a NUL-terminated malloc'd buffer. CRYPTO_ERR_IO (errno
 * kept) or CRYPTO_ERR_TOO_LARGE. Secrets go through crypto_secret_read(). */
int crypto_read_file(const char *path, size_t max, char **out, size_t *len);

/* Public-key validation (NIST SP 800-56A rev. 3 §5.6.2.3.3) of key, just
 * imported from the uncompressed point x, y (flen bytes each) on P-256,
 * P-384 or P-521: both coordinates below the field prime, and the point on
 * the curve (so not the point at infinity, which has no such encoding).
 * These curves have cofactor 1, so such a point has order n: the further
 * n*Q == O of wc_ecc_check_key, a scalar multiplication as costly as an
 * ECDSA verification, cannot fail for it and is not repeated (spki.c).
 * 0 or CRYPTO_ERR_PARSE. */
int crypto_ec_point_check(ecc_key *key, const uint8_t *x, const uint8_t *y,
    size_t flen);

#endif
