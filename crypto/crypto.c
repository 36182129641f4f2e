/*
 * crypto.c: module start-up, the shared DRBG, error strings, zeroizing, and
 * reading whole files (certificates, and secrets: keys and passphrases,
 * which are read with read(2) only, capped, refused when group or others
 * may access them, and zeroized on every failure). Owns the process-wide
 * wolfSSL initialisation; touches nothing else.
 */
#include "crypto_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	case CRYPTO_ERR_FILE_MODE:    return "key or passphrase file is accessible "
					  "to group or others (chmod 600 it)";
	case CRYPTO_ERR_PRIVILEGE:    return "cannot switch the signer process "
					  "to its user";
	case CRYPTO_TLS_WANT_READ:    return "TLS wants to read";
	case CRYPTO_TLS_WANT_WRITE:   return "TLS wants to write";
	case CRYPTO_TLS_CLOSED:       return "TLS connection closed";
	case CRYPTO_TLS_CERT_REFUSED: return "peer certificate refused by the TLS library";
	}
	return "unknown crypto error";
}

/*
 * Reads the open regular file fd (at most max bytes) with read(2) into a
 * malloc'd NUL-terminated buffer; nothing passes through stdio's buffers.
 * A short read, a file that grew past its size and a failure all zeroize
 * what was read. 0, CRYPTO_ERR_IO (errno kept), CRYPTO_ERR_TOO_LARGE or
 * CRYPTO_ERR_NOMEM.
 */
static int
read_fd(int fd, const struct stat *st, size_t max, char **out, size_t *len)
{
	size_t want, got = 0;
	ssize_t n = 0;
	char *buf;

	if ((size_t)st->st_size > max)
		return CRYPTO_ERR_TOO_LARGE;
	want = (size_t)st->st_size;
	/* One byte more than the size: a file that grew is noticed. */
	if ((buf = malloc(want + 2)) == NULL)
		return CRYPTO_ERR_NOMEM;
	while (got < want + 1) {
		n = read(fd, buf + got, want + 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0 || got != want) {
		crypto_zeroize(buf, want + 2);
		free(buf);
		if (n >= 0)
			errno = EIO;   /* the file changed while it was read */
		return CRYPTO_ERR_IO;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return CRYPTO_OK;
}

/* Opens path read-only and checks it is a regular file; st filled. */
static int
open_regular(const char *path, struct stat *st, int *fdp)
{
	int fd, err;

	*fdp = -1;
	memset(st, 0, sizeof(*st));    /* st_mode 0: fstat did not run */
	/* O_NONBLOCK: a FIFO given as a file is refused, not waited on. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return CRYPTO_ERR_IO;
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		err = S_ISREG(st->st_mode) || st->st_mode == 0 ? errno : EINVAL;
		close(fd);
		errno = err;
		return CRYPTO_ERR_IO;
	}
	*fdp = fd;
	return CRYPTO_OK;
}

int
crypto_read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	int fd, ret, err;

	*out = NULL;
	*len = 0;
	if ((ret = open_regular(path, &st, &fd)) != CRYPTO_OK)
		return ret;
	ret = read_fd(fd, &st, max, out, len);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}

int
crypto_secret_read(const char *path, size_t max, char **out, size_t *len,
    unsigned *mode)
{
	struct stat st;
	int fd, ret, err;

	if (out == NULL || len == NULL || path == NULL)
		return CRYPTO_ERR_INVALID;
	*out = NULL;
	*len = 0;
	if ((ret = open_regular(path, &st, &fd)) != CRYPTO_OK)
		return ret;
	if (mode != NULL)
		*mode = (unsigned)(st.st_mode & 07777);
	if ((st.st_mode & 077) != 0)
		ret = CRYPTO_ERR_FILE_MODE;
	else
		ret = read_fd(fd, &st, max, out, len);
	err = errno;
	close(fd);
	errno = err;
	return ret;
}
