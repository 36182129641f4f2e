/*
 * rotate.c: a rotated intermediate taken up at SIGHUP, without a restart.
 * `hearth ca rotate-intermediate` puts a new intermediate in DIR/ca and
 * moves the old one to DIR/ca/retired/<issuer id>/; this file asks the
 * running signer's launcher (which kept the privileges to read DIR/ca
 * after this process dropped its own) whether DIR/ca holds another one,
 * and has it start and check a signer for it (crypto_signer_successor).
 * Only a signer that loaded the new key, serves the certificate found and
 * answered a ping is swapped in; until then, and on any failure, the
 * intermediate in use stays.
 *
 * The swap is done on the main thread, which alone reads s->signer (PKI
 * listener, admin, TLS renewal); worker threads reach the signer through
 * acme/ only, whose pointer acme_signer_set() replaces atomically. A
 * finalization already under way finishes with the signer it took: the
 * replaced signer is never freed before shutdown, since it goes on serving
 * as a retired intermediate (CRL and OCSP), as retired.c sets them up at
 * start. This file opens no file and reads no key.
 */
#include "serve.h"

#include <string.h>

#include "acme.h"

/* The file a failure to take the new intermediate most likely concerns. */
static const char *
rotate_file(int err, const char *new_id)
{
	if (new_id[0] == '\0' || err == CRYPTO_ERR_NOT_CA ||
	    err == CRYPTO_ERR_VALIDITY || err == CRYPTO_ERR_MISMATCH)
		return "intermediate.crt";  /* unreadable, expired, other root */
	return "intermediate.key";
}

/* Starts and checks the signer of DIR/ca's intermediate; NULL when there
 * is none to take (unchanged: *failed 0) or it failed (*failed 1, logged). */
static struct crypto_signer *
rotate_successor(struct server *s, char new_id[65], int *failed)
{
	struct crypto_signer *next = NULL;
	char cur_id[65];
	int err;

	*failed = 0;
	(void)crypto_signer_issuer_id(s->signer, cur_id);
	err = crypto_signer_successor(s->signer, &next, new_id);
	if (err == CRYPTO_OK && next == NULL)
		return NULL;
	if (err == CRYPTO_OK &&
	    crypto_signer_not_after(next) <= time(NULL)) {
		err = CRYPTO_ERR_VALIDITY;
		crypto_signer_free(next);
		next = NULL;
	}
	if (next == NULL) {
		*failed = 1;
		log_error("reload: %s/ca/%s: the new intermediate%s%s is not taken: "
		    "%s; intermediate %s stays in use", s->cfg->data_dir,
		    rotate_file(err, new_id), new_id[0] != '\0' ? " " : "",
		    new_id, err == CRYPTO_ERR_VALIDITY ? "it has expired" :
		    crypto_strerror(err), cur_id);
	}
	return next;
}

int
rotate_check(struct server *s)
{
	struct crypto_signer *next, *old = s->signer;
	char new_id[65], old_id[65];
	int failed;

	if ((next = rotate_successor(s, new_id, &failed)) == NULL)
		return failed ? -1 : 0;
	(void)crypto_signer_issuer_id(old, old_id);
	if (s->n_retired == SERVER_RETIRED_MAX) {
		log_error("reload: intermediate %s is not taken: %d retired "
		    "intermediates are served already; restart hearth (expired "
		    "ones are left out at start); intermediate %s stays in use",
		    new_id, SERVER_RETIRED_MAX, old_id);
		crypto_signer_free(next);
		return -1;
	}
	s->retired[s->n_retired++] = old;
	s->signer = next;
	acme_signer_set(s->acme, next);
	if (s->pki != NULL && pki_issuer_rotate(s->pki) != 0)
		log_error("reload: the PKI listener cannot serve intermediate %s "
		    "(out of issuer slots or memory); restart hearth", new_id);
	log_info("reload: issuing under intermediate %s; intermediate %s is "
	    "retired (its CRL and OCSP stay served)", new_id, old_id);
	(void)serve_tls_renew(s, time(NULL));
	return 0;
}
