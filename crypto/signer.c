/*
 * signer.c: the issuing half of the CA at run time. Loads intermediate.crt and
 * intermediate.key from the CA directory (decrypting the key when needed),
 * checks that they belong together and that root.crt issued the
 * intermediate, and keeps the decoded key for leaf.c, with its own copy of
 * what it may sign (profile.c). The key file is read as a secret
 * (crypto_secret_read: no stdio, refused when group or others may read it,
 * zeroized). Never writes files.
 */
#include "pki_internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPKI_MAX 1024

/* Reads dir/name; a secret (the key) through crypto_secret_read(). */
static int
load_pem_file(const char *dir, const char *name, int secret, char **pem,
    size_t *len)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= sizeof(path))
		return CRYPTO_ERR_INVALID;
	if (secret)
		return crypto_secret_read(path, CRYPTO_MAX_PEM_BYTES, pem, len,
		    NULL);
	return crypto_read_file(path, CRYPTO_MAX_PEM_BYTES, pem, len);
}

int
pki_signer_cert_set(struct crypto_signer *s, uint8_t *der, size_t len)
{
	size_t pemlen;
	int ret = CRYPTO_OK;

	s->cert_der = der;
	s->cert_len = len;
	if (pki_cert_view(s->cert_der, s->cert_len, &s->view) != 0)
		ret = CRYPTO_ERR_PARSE;
	if (ret == 0 && !pki_cert_is_ca(&s->view))
		ret = CRYPTO_ERR_NOT_CA;
	if (ret == 0)
		ret = pki_cert_key_id(&s->view, s->key_id, &s->key_id_len);
	if (ret == 0)
		ret = pki_constraints_read(&s->view, &s->constraints);
	if (ret == 0)
		ret = pki_pem_encode(s->cert_der, s->cert_len, "CERTIFICATE",
		    &s->chain_pem, &pemlen);
	return ret;
}

static int
load_cert(struct crypto_signer *s, const char *dir)
{
	uint8_t *der = NULL;
	char *pem = NULL;
	size_t len = 0, derlen = 0;
	int ret;

	if ((ret = load_pem_file(dir, "intermediate.crt", 0, &pem, &len)) != 0)
		return ret;
	ret = pki_pem_decode(pem, len, "CERTIFICATE", &der, &derlen);
	free(pem);
	if (ret != 0)
		return ret;
	return pki_signer_cert_set(s, der, derlen);
}

static int
load_key(struct crypto_signer *s, const char *dir, const char *pass,
    size_t passlen)
{
	uint8_t spki[SPKI_MAX];
	char *pem = NULL;
	size_t len = 0, spki_len;
	int ret;

	if ((ret = load_pem_file(dir, "intermediate.key", 1, &pem, &len)) != 0)
		return ret;
	ret = pki_key_from_pem(pem, len, pass, passlen, &s->key);
	crypto_zeroize(pem, len);
	free(pem);
	if (ret != 0)
		return ret;
	if ((ret = pki_key_spki(s->key, spki, sizeof(spki), &spki_len)) != 0)
		return ret;
	if (spki_len != s->view.spki.der_len ||
	    memcmp(spki, s->view.spki.der, spki_len) != 0)
		return CRYPTO_ERR_MISMATCH;
	return CRYPTO_OK;
}

/* The intermediate's issuer must be root.crt's subject. */
static int
check_root(struct crypto_signer *s, const char *dir)
{
	struct pki_cert_view root;
	uint8_t *der = NULL;
	char *pem = NULL;
	size_t len = 0, derlen = 0;
	int ret;

	if ((ret = load_pem_file(dir, "root.crt", 0, &pem, &len)) != 0)
		return ret;
	ret = pki_pem_decode(pem, len, "CERTIFICATE", &der, &derlen);
	if (ret == 0 && pki_cert_view(der, derlen, &root) != 0)
		ret = CRYPTO_ERR_PARSE;
	if (ret == 0 && (root.subject.der_len != s->view.issuer.der_len ||
	    memcmp(root.subject.der, s->view.issuer.der,
	    root.subject.der_len) != 0))
		ret = CRYPTO_ERR_MISMATCH;
	free(der);
	free(pem);
	return ret;
}

int
pki_signer_load_cert(struct crypto_signer *s, const char *ca_dir)
{
	int ret = load_cert(s, ca_dir);

	return ret == 0 ? check_root(s, ca_dir) : ret;
}

struct crypto_signer *
crypto_signer_open(const char *ca_dir, const char *passphrase,
    size_t passphrase_len, const struct crypto_signer_config *cfg, int *err)
{
	struct crypto_signer *s = NULL;
	int ret;

	if (ca_dir == NULL) {
		ret = CRYPTO_ERR_INVALID;
		goto out;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		ret = CRYPTO_ERR_NOMEM;
		goto out;
	}
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		s = NULL;
		ret = CRYPTO_ERR_INTERNAL;
		goto out;
	}
	s->remote_fd = s->launcher_fd = -1;
	if ((ret = pki_signer_cfg_set(&s->cfg, cfg)) == 0 &&
	    (ret = pki_signer_load_cert(s, ca_dir)) == 0)
		ret = load_key(s, ca_dir, passphrase, passphrase_len);
out:
	if (ret != 0) {
		crypto_signer_free(s);
		s = NULL;
	}
	if (err != NULL)
		*err = ret;
	return s;
}

void
crypto_signer_free(struct crypto_signer *s)
{
	if (s == NULL)
		return;
	pki_signer_stop(s);
	pki_key_free(s->key);
	free(s->cert_der);
	free(s->chain_pem);
	crypto_policy_free(s->constraints);
	pki_signer_cfg_clear(&s->cfg);
	pthread_mutex_destroy(&s->lock);
	crypto_zeroize(s, sizeof(*s));
	free(s);
}

const char *
crypto_signer_chain_pem(const struct crypto_signer *s)
{
	return s != NULL ? s->chain_pem : NULL;
}

time_t
crypto_signer_not_after(const struct crypto_signer *s)
{
	return s != NULL ? s->view.not_after : 0;
}

const uint8_t *
crypto_signer_cert_der(const struct crypto_signer *s, size_t *len)
{
	if (s == NULL) {
		if (len != NULL)
			*len = 0;
		return NULL;
	}
	if (len != NULL)
		*len = s->cert_len;
	return s->cert_der;
}
