/*
 * crypto_internal.h: declarations shared by the files of crypto/ only.
 * Nothing outside crypto/ includes this (the layering check refuses it).
 */
#ifndef HEARTH_CRYPTO_INTERNAL_H
#define HEARTH_CRYPTO_INTERNAL_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/random.h>

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

#endif
