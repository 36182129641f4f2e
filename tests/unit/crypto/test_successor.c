/*
 * test_successor.c: a rotated intermediate taken up by a running signer's
 * launcher (crypto_signer_successor). Before a rotation there is nothing
 * to take; after one, the new handle's signer process loaded the new key,
 * and its leaves verify under the new intermediate while the old handle
 * still signs under the old one, also after its signer process was killed
 * and restarted (it loads the key from DIR/ca/retired/<id>/). A new key
 * the launcher cannot decrypt or parse gives an error and no handle, and
 * the handle in use goes on signing.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"
#include "signer_test.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static time_t now;

static void
rotate(const char *inter_pass, char old_id[65], char new_id[65])
{
	struct crypto_ca_rotate_params r;

	memset(&r, 0, sizeof(r));
	r.root_passphrase = "root";
	r.root_passphrase_len = 4;
	r.intermediate_passphrase = inter_pass;
	r.intermediate_passphrase_len = inter_pass != NULL ? strlen(inter_pass) : 0;
	r.now = now;
	CHECK_EQ_INT(crypto_ca_rotate(ca, &r, old_id, new_id), CRYPTO_OK);
}

/* Kills s's signer process; the next call fails, the one after signs. */
static void
restart(struct crypto_signer *s)
{
	pid_t old = s->remote_pid;

	CHECK_EQ_INT(kill(old, SIGKILL), 0);
	CHECK_EQ_INT(crypto_signer_ping(s), CRYPTO_ERR_UNAVAILABLE);
	CHECK_EQ_INT(crypto_signer_ping(s), CRYPTO_OK);
	CHECK(s->remote_pid != old);
}

/* A rotation the launcher cannot take: an error, no handle, and cur and
 * its signer process unchanged. */
static void
refused(struct crypto_signer *cur, struct crypto_csr *csr, int want,
    const char *want_id)
{
	struct crypto_signer *next = (struct crypto_signer *)1;
	char id[65], cur_id[65];
	pid_t pid = cur->remote_pid;

	CHECK_EQ_INT(crypto_signer_successor(cur, &next, id), want);
	CHECK(next == NULL);
	CHECK_EQ_STR(id, want_id);
	CHECK_EQ_INT(crypto_signer_issuer_id(cur, cur_id), 0);
	CHECK(strcmp(cur_id, want_id) != 0);
	CHECK(cur->remote_pid == pid);
	issue_verifies(cur, csr, pt_path("cur.crt"));
}

int
main(void)
{
	struct crypto_signer *s0, *s1 = NULL;
	struct crypto_csr *csr;
	char id0[65], id[65], old_id[65], new_id[65], other[65];
	int err;

	now = time(NULL);
	CHECK_EQ_INT(crypto_init(), 0);
	CHECK_EQ_INT(ca_make("successor", now), CRYPTO_OK);
	csr = make_csr();
	s0 = crypto_signer_spawn(ca, NULL, 0, NULL, &err);
	CHECK(s0 != NULL && csr != NULL);
	if (s0 == NULL || csr == NULL)
		return CHECK_DONE();
	CHECK_EQ_INT(crypto_signer_issuer_id(s0, id0), 0);

	/* nothing rotated: nothing to take */
	CHECK_EQ_INT(crypto_signer_successor(s0, &s1, id), CRYPTO_OK);
	CHECK(s1 == NULL);
	CHECK_EQ_STR(id, id0);
	CHECK_EQ_INT(crypto_signer_successor(NULL, &s1, id), CRYPTO_ERR_INVALID);

	/* rotated: the new handle signs under the new intermediate */
	rotate(NULL, old_id, new_id);
	CHECK_EQ_STR(old_id, id0);
	CHECK_EQ_INT(crypto_signer_successor(s0, &s1, id), CRYPTO_OK);
	CHECK(s1 != NULL);
	if (s1 == NULL)
		return CHECK_DONE();
	CHECK_EQ_STR(id, new_id);
	CHECK_EQ_INT(crypto_signer_issuer_id(s1, id), 0);
	CHECK_EQ_STR(id, new_id);
	CHECK(s1->key == NULL);                 /* the key stays in its process */
	issue_verifies(s1, csr, pt_path("ca/intermediate.crt"));

	/* the old handle still signs under the old one, also restarted */
	issue_verifies(s0, csr, pt_path("ca/retired/%s/intermediate.crt", id0));
	restart(s0);
	issue_verifies(s0, csr, pt_path("ca/retired/%s/intermediate.crt", id0));

	/* the new one is what s1 serves: nothing more to take */
	{
		struct crypto_signer *none = NULL;

		CHECK_EQ_INT(crypto_signer_successor(s1, &none, id), CRYPTO_OK);
		CHECK(none == NULL);
		CHECK_EQ_STR(id, new_id);
	}

	/* a new key under a passphrase the launcher does not hold */
	CHECK_EQ_INT(pt_run("cp %s/intermediate.crt %s/cur.crt", ca, pt_dir), 0);
	rotate("other", old_id, other);
	CHECK_EQ_STR(old_id, new_id);
	refused(s1, csr, CRYPTO_ERR_PASSPHRASE, other);

	/* a corrupted key */
	rotate(NULL, old_id, other);
	CHECK_EQ_INT(pt_run("printf 'not a key\\n' >%s/intermediate.key", ca), 0);
	refused(s1, csr, CRYPTO_ERR_PARSE, other);

	crypto_signer_free(s1);
	crypto_signer_free(s0);
	crypto_csr_free(csr);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	crypto_cleanup();
	return CHECK_DONE();
}
