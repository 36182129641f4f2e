/*
 * retired.c: the intermediates `hearth ca rotate-intermediate` retired, kept
 * in DIR/ca/retired/<issuer id>/. Certificates they issued stay valid until
 * their own notAfter, so each retired intermediate not yet expired gets a
 * signer process of its own at start; it signs only the CRL and the OCSP
 * answers for its certificates (pki.c), never a leaf. An expired one, or a
 * directory that is not an issuer id, is skipped and logged.
 */
#include "serve.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A directory name an issuer id can be: 1..64 lower-case hex digits. */
static int
retired_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}

/* Spawns the signer of dir/name; NULL when skipped (logged). */
static struct crypto_signer *
retired_spawn(const char *dir, const char *name,
    const struct crypto_signer_config *sc, const char *pw, size_t pwlen,
    time_t now)
{
	struct crypto_signer *r;
	char path[4096], id[65];
	int err;

	if (path_join(path, sizeof(path), dir, name) != 0)
		return NULL;
	if ((r = crypto_signer_spawn(path, pw, pwlen, sc, &err)) == NULL) {
		log_error("%s: cannot load the retired intermediate: %s; its "
		    "certificates get no CRL or OCSP answers", path,
		    crypto_strerror(err));
		return NULL;
	}
	if (crypto_signer_issuer_id(r, id) != 0 || strcmp(id, name) != 0 ||
	    crypto_signer_not_after(r) <= now) {
		log_warn("%s: skipped: %s", path, strcmp(id, name) != 0 ?
		    "the directory's name is not the intermediate's issuer id" :
		    "the intermediate has expired, and every certificate it issued");
		crypto_signer_free(r);
		return NULL;
	}
	log_info("retired intermediate %s: serving its CRL and OCSP", id);
	return r;
}

int
retired_open(struct server *s, const struct crypto_signer_config *sc,
    const char *pw, size_t pwlen)
{
	char dir[4096];
	struct dirent *e;
	time_t now = time(NULL);
	DIR *d;

	if (path_join(dir, sizeof(dir), s->cfg->data_dir, "ca/retired") != 0)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (!retired_name_ok(e->d_name)) {
			log_warn("%s/%s: skipped: not an issuer id", dir, e->d_name);
			continue;
		}
		if (s->n_retired == SERVER_RETIRED_MAX) {
			log_warn("%s: more than %d retired intermediates; the rest "
			    "are not served", dir, SERVER_RETIRED_MAX);
			break;
		}
		if ((s->retired[s->n_retired] = retired_spawn(dir, e->d_name, sc,
		    pw, pwlen, now)) != NULL)
			s->n_retired++;
	}
	closedir(d);
	return 0;
}

void
retired_close(struct server *s)
{
	size_t i;

	for (i = 0; i < s->n_retired; i++)
		crypto_signer_free(s->retired[i]);
	s->n_retired = 0;
}
