/*
 * test_launcher.c: answers of a signer's launcher that arrive after their
 * reader gave up. The launcher is stopped (SIGSTOP) after a rotation, so
 * a signer restart (SPAWN) and a successor request (NEXT, whose answer
 * carries a new launcher's socket) are left unanswered past the deadline;
 * once it runs again its answers arrive late, in order. The next calls
 * take the late SPAWN answer, drop the late NEXT answers and close their
 * sockets (no descriptor is left over), and the channel stays in step:
 * later restarts sign under the old intermediate, and a successor request
 * gets a handle that signs under the new one.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"
#include "signer_test.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static time_t now;

/* The descriptors this process has open. */
static int
fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;                  /* not the directory's own */
}

/* Kills s's signer process; the next call fails, the one after signs
 * with a new one. */
static void
restart(struct crypto_signer *s)
{
	pid_t old = s->remote_pid;

	CHECK_EQ_INT(kill(old, SIGKILL), 0);
	CHECK_EQ_INT(crypto_signer_ping(s), CRYPTO_ERR_UNAVAILABLE);
	CHECK_EQ_INT(crypto_signer_ping(s), CRYPTO_OK);
	CHECK(s->remote_pid != old);
}

/* With s's launcher stopped: a successor request times out, with nothing
 * to show for it. */
static void
next_times_out(struct crypto_signer *s)
{
	struct crypto_signer *next = (struct crypto_signer *)1;
	char id[65];

	CHECK_EQ_INT(crypto_signer_successor(s, &next, id),
	    CRYPTO_ERR_UNAVAILABLE);
	CHECK(next == NULL);
	CHECK_EQ_STR(id, "");
}

/* A late SPAWN answer, then a late NEXT answer with a socket: the SPAWN
 * answer is taken, the NEXT one dropped by the restart after. */
static void
late_spawn_and_next(struct crypto_signer *s, struct crypto_csr *csr,
    const char *old_inter)
{
	pid_t old = s->remote_pid;

	CHECK_EQ_INT(kill(s->launcher_pid, SIGSTOP), 0);
	CHECK_EQ_INT(kill(old, SIGKILL), 0);
	CHECK_EQ_INT(crypto_signer_ping(s), CRYPTO_ERR_UNAVAILABLE);
	next_times_out(s);
	CHECK_EQ_INT(kill(s->launcher_pid, SIGCONT), 0);
	CHECK_EQ_INT(crypto_signer_ping(s), CRYPTO_OK);
	CHECK(s->remote_pid != old);
	issue_verifies(s, csr, old_inter);
	restart(s);
	issue_verifies(s, csr, old_inter);
	restart(s);
	issue_verifies(s, csr, old_inter);
}

int
main(void)
{
	struct crypto_ca_rotate_params r;
	struct crypto_signer *s0, *s1 = NULL;
	struct crypto_csr *csr;
	char id0[65], id[65], old_id[65], new_id[65], old_inter[2048];
	int err, fds;

	now = time(NULL);
	CHECK_EQ_INT(crypto_init(), 0);
	CHECK_EQ_INT(ca_make("launcher", now), CRYPTO_OK);
	csr = make_csr();
	s0 = crypto_signer_spawn(ca, NULL, 0, NULL, &err);
	CHECK(s0 != NULL && csr != NULL);
	if (s0 == NULL || csr == NULL)
		return CHECK_DONE();
	CHECK_EQ_INT(crypto_signer_issuer_id(s0, id0), 0);

	/* rotated, so each NEXT answer forks a launcher and passes its socket */
	memset(&r, 0, sizeof(r));
	r.root_passphrase = "root";
	r.root_passphrase_len = 4;
	r.now = now;
	CHECK_EQ_INT(crypto_ca_rotate(ca, &r, old_id, new_id), CRYPTO_OK);
	CHECK_EQ_STR(old_id, id0);
	fds = fd_count();
	CHECK(fds > 0);

	snprintf(old_inter, sizeof(old_inter), "%s",
	    pt_path("ca/retired/%s/intermediate.crt", id0));
	late_spawn_and_next(s0, csr, old_inter);
	CHECK_EQ_INT(fd_count(), fds);

	/* a late NEXT answer dropped by the next NEXT request, which is
	 * answered in step */
	CHECK_EQ_INT(kill(s0->launcher_pid, SIGSTOP), 0);
	next_times_out(s0);
	CHECK_EQ_INT(kill(s0->launcher_pid, SIGCONT), 0);
	CHECK_EQ_INT(crypto_signer_successor(s0, &s1, id), CRYPTO_OK);
	CHECK(s1 != NULL);
	if (s1 == NULL)
		return CHECK_DONE();
	CHECK_EQ_STR(id, new_id);
	CHECK_EQ_INT(crypto_signer_issuer_id(s1, id), 0);
	CHECK_EQ_STR(id, new_id);
	issue_verifies(s1, csr, pt_path("ca/intermediate.crt"));
	CHECK_EQ_INT(fd_count(), fds + 2);  /* s1's launcher and signer */
	restart(s0);
	issue_verifies(s0, csr, old_inter);

	crypto_signer_free(s1);
	crypto_signer_free(s0);
	crypto_csr_free(csr);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	crypto_cleanup();
	return CHECK_DONE();
}
