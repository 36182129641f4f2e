/*
 * crypto.c: module start-up, the shared DRBG, error strings and zeroizing.
 * Owns the process-wide wolfSSL initialisation; touches nothing else.
 */
#include "crypto_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

static WC_RNG rng;
static int rng_ready;
static pthread_mutex_t rng_mutex = PTHREAD_MUTEX_INITIALIZER;

int
crypto_init(void)
{
	if (rng_ready)
		return CRYPTO_OK;
	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return CRYPTO_ERR_INTERNAL;
	if (wc_InitRng(&rng) != 0)
		return CRYPTO_ERR_INTERNAL;
	rng_ready = 1;
	return CRYPTO_OK;
}

void
crypto_cleanup(void)
{
	if (!rng_ready)
		return;
	wc_FreeRng(&rng);
	rng_ready = 0;
	wolfSSL_Cleanup();
}

void
crypto_thread_cleanup(void)
{
#ifdef FP_ECC
	wc_ecc_fp_free();
#endif
}

void
crypto_rng_after_fork(void)
{
	pthread_mutex_init(&rng_mutex, NULL);
	if (rng_ready)
		wc_FreeRng(&rng);
	rng_ready = wc_InitRng(&rng) == 0;
}

WC_RNG *
crypto_rng_lock(void)
{
	pthread_mutex_lock(&rng_mutex);
	return &rng;
}

void
crypto_rng_unlock(void)
{
	pthread_mutex_unlock(&rng_mutex);
}

int
crypto_random(void *buf, size_t len)
{
	int ret;

	if (!rng_ready || len > UINT32_MAX)
		return CRYPTO_ERR_INVALID;
	pthread_mutex_lock(&rng_mutex);
	ret = wc_RNG_GenerateBlock(&rng, buf, (word32)len);
	pthread_mutex_unlock(&rng_mutex);
	return ret == 0 ? CRYPTO_OK : CRYPTO_ERR_INTERNAL;
}

void
crypto_zeroize(void *p, size_t len)
{
	if (p != NULL && len > 0)
		explicit_bzero(p, len);
}

const char *
crypto_strerror(int err)
{
	switch (err) {
	case CRYPTO_OK:               return "success";
	case CRYPTO_ERR_NOMEM:        return "out of memory";
	case CRYPTO_ERR_INVALID:      return "invalid argument";
	case CRYPTO_ERR_PARSE:        return "malformed input";
	case CRYPTO_ERR_UNSUPPORTED:  return "unsupported key type or algorithm";
	case CRYPTO_ERR_KEY_SIZE:     return "key size not allowed";
	case CRYPTO_ERR_SIGNATURE:    return "signature does not verify";
	case CRYPTO_ERR_PASSPHRASE:   return "wrong passphrase or undecryptable key";
	case CRYPTO_ERR_IO:           return "file I/O failed";
	case CRYPTO_ERR_NAME:         return "name malformed or not allowed";
	case CRYPTO_ERR_TOO_LARGE:    return "input too large";
	case CRYPTO_ERR_EXISTS:       return "CA files already exist";
	case CRYPTO_ERR_MISMATCH:     return "certificate and key do not match";
	case CRYPTO_ERR_NOT_CA:       return "certificate is not a CA certificate";
	case CRYPTO_ERR_INTERNAL:     return "internal cryptographic failure";
	case CRYPTO_ERR_UNAVAILABLE:  return "signer unavailable (restarting)";
	case CRYPTO_ERR_VALIDITY:
		return "validity beyond the profile, backdated or past the issuer";
	case CRYPTO_TLS_WANT_READ:    return "TLS wants to read";
	case CRYPTO_TLS_WANT_WRITE:   return "TLS wants to write";
	case CRYPTO_TLS_CLOSED:       return "TLS connection closed";
	case CRYPTO_TLS_CERT_REFUSED: return "peer certificate refused by the TLS library";
	}
	return "unknown crypto error";
}

int
crypto_read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f;
	struct stat st;
	char *buf = NULL;
	size_t n;
	int ret = CRYPTO_ERR_IO;

	*out = NULL;
	if ((f = fopen(path, "rb")) == NULL)
		return CRYPTO_ERR_IO;
	if (fstat(fileno(f), &st) != 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if ((size_t)st.st_size > max) {
		ret = CRYPTO_ERR_TOO_LARGE;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		ret = CRYPTO_ERR_NOMEM;
		goto out;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	if (n != (size_t)st.st_size || ferror(f))
		goto out;
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	ret = CRYPTO_OK;
out:
	free(buf);
	fclose(f);
	return ret;
}
