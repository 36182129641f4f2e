/*
 * test_signproc.c: the signer process. Issuance through it gives the same
 * certificates as in-process signing (openssl verifies them); this process
 * never holds the key; a wrong passphrase is reported at spawn; unknown and
 * oversized operations are refused by the signer process, which keeps
 * serving. A dead signer (SIGKILL) and a hung one (SIGSTOP) make issuance
 * fail with CRYPTO_ERR_UNAVAILABLE, the hung one after the timeout, while
 * a second thread's call returns too; then the signer is restarted (the
 * old process reaped) and issuance works again, with an encrypted key too; the
 * signer becomes the user it is given and keeps nothing of root.
 */
#include "check.h"
#include "crypto.h"
#include "pki_internal.h"
#include "pki_test.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static time_t now;

static struct crypto_csr *
make_csr(const char *name, const char *san)
{
	struct crypto_csr *csr;
	char *pem;
	size_t len = 0;
	int err;

	CHECK_EQ_INT(pt_run("cd %s && openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout %s.key -subj /CN=%s "
	    "-addext 'subjectAltName=%s' -out %s.csr", pt_dir, name, name, san,
	    name), 0);
	if ((pem = pt_slurp(pt_path("%s.csr", name), &len)) == NULL)
		return NULL;
	csr = crypto_csr_parse_pem(pem, len, &err);
	free(pem);
	return csr;
}

static int
issue(struct crypto_signer *s, struct crypto_csr *csr, struct crypto_leaf *leaf)
{
	static const struct crypto_name allowed[] = {
		{ CRYPTO_NAME_DNS, "a.corp.internal" },
		{ CRYPTO_NAME_IP, "10.0.0.1" },
	};
	struct crypto_leaf_params p;

	memset(&p, 0, sizeof(p));
	p.allowed = allowed;
	p.n_allowed = 2;
	p.not_before = time(NULL) - 60;
	p.not_after = p.not_before + 86400;
	return crypto_signer_issue(s, csr, &p, leaf);
}

/* Waits until pid is gone (reaped by its parent, the launcher). */
static int
reaped(pid_t pid)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (kill(pid, 0) != 0 && errno == ESRCH)
			return 1;
		usleep(50 * 1000);
	}
	return 0;
}

/* A dead signer: issuance fails cleanly, then the restarted one signs. */
static void
test_dead(struct crypto_signer *s, struct crypto_csr *csr)
{
	struct crypto_leaf leaf;
	pid_t old = s->remote_pid;

	CHECK_EQ_INT(kill(old, SIGKILL), 0);
	CHECK_EQ_INT(issue(s, csr, &leaf), CRYPTO_ERR_UNAVAILABLE);
	CHECK(leaf.der == NULL);
	CHECK_EQ_INT(issue(s, csr, &leaf), CRYPTO_OK);
	crypto_leaf_clear(&leaf);
	CHECK(s->remote_pid != old);
	CHECK(reaped(old));
}

struct caller {
	struct crypto_signer *s;
	struct crypto_csr *csr;
	int ret;
};

static void *
call(void *arg)
{
	struct caller *c = arg;
	struct crypto_leaf leaf;

	c->ret = issue(c->s, c->csr, &leaf);
	crypto_leaf_clear(&leaf);
	crypto_thread_cleanup();
	return NULL;
}

/* A hung signer: the call waiting on it gives up after the timeout, a
 * second caller is not held longer than that behind the lock (it returns
 * unavailable, or signs with the restarted process), and afterwards
 * issuance works again. */
static void
test_hung(struct crypto_signer *s, struct crypto_csr *csr)
{
	struct caller a = { s, csr, 1 }, b = { s, csr, 1 };
	struct crypto_leaf leaf;
	pthread_t ta, tb;
	pid_t old = s->remote_pid;

	CHECK_EQ_INT(kill(old, SIGSTOP), 0);
	CHECK_EQ_INT(pthread_create(&ta, NULL, call, &a), 0);
	usleep(200 * 1000);          /* let a take the lock first */
	CHECK_EQ_INT(pthread_create(&tb, NULL, call, &b), 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK_EQ_INT(a.ret, CRYPTO_ERR_UNAVAILABLE);
	CHECK(b.ret == CRYPTO_ERR_UNAVAILABLE || b.ret == CRYPTO_OK);
	CHECK_EQ_INT(issue(s, csr, &leaf), CRYPTO_OK);
	crypto_leaf_clear(&leaf);
	CHECK(s->remote_pid != old);
	CHECK(reaped(old));          /* killed although stopped */
}

static void
test_issue(const char *ca)
{
	struct crypto_signer *s;
	struct crypto_csr *csr = make_csr("a.corp.internal",
	    "DNS:a.corp.internal,IP:10.0.0.1");
	struct crypto_leaf leaf;
	char *pem, cmd[4096];
	int err, i;

	s = crypto_signer_spawn(ca, NULL, 0, NULL, &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK(s != NULL && csr != NULL);
	if (s == NULL || csr == NULL)
		return;
	CHECK(s->key == NULL);            /* this process never loaded the key */
	CHECK(s->remote_pid > 0);
	CHECK(crypto_signer_chain_pem(s) != NULL);
	CHECK(crypto_signer_not_after(s) > now);

	for (i = 0; i < 3; i++) {
		CHECK_EQ_INT(issue(s, csr, &leaf), CRYPTO_OK);
		CHECK_EQ_INT(strlen(leaf.serial), 32);
		pem = crypto_cert_der_to_pem(leaf.der, leaf.der_len);
		CHECK(pem != NULL);
		if (pem != NULL)
			pt_spit(pt_path("leaf%d.crt", i), pem, strlen(pem));
		free(pem);
		snprintf(cmd, sizeof(cmd), "openssl verify -CAfile %s/root.crt "
		    "-untrusted %s/intermediate.crt %s/leaf%d.crt", ca, ca, pt_dir, i);
		CHECK(pt_output_has(cmd, ": OK"));
		crypto_leaf_clear(&leaf);
	}

	/* the operation protocol: an unknown operation and a request over its
	 * cap (several fragments) are refused by the signer process, which
	 * goes on answering */
	{
		uint8_t *big = calloc(1, 300 * 1024), *resp = NULL;
		size_t resplen = 0;

		CHECK(big != NULL);
		CHECK_EQ_INT(pki_signer_call(s, (enum pki_op)99, big, 10, &resp,
		    &resplen), CRYPTO_ERR_UNSUPPORTED);
		CHECK(resp == NULL && resplen == 0);
		CHECK_EQ_INT(pki_signer_call(s, PKI_OP_LEAF, big, 300 * 1024,
		    &resp, &resplen), CRYPTO_ERR_TOO_LARGE);
		CHECK_EQ_INT(pki_signer_call(s, PKI_OP_LEAF, big, 64, &resp,
		    &resplen), CRYPTO_ERR_PARSE);
		free(big);
		CHECK_EQ_INT(issue(s, csr, &leaf), CRYPTO_OK);
		crypto_leaf_clear(&leaf);
	}

	test_dead(s, csr);
	test_hung(s, csr);
	crypto_signer_free(s);
	crypto_csr_free(csr);
}

static void
test_passphrase(void)
{
	struct crypto_ca_params p;
	char ca[1100];
	int gen, err;

	snprintf(ca, sizeof(ca), "%s/enc", pt_dir);
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = "signproc";
	p.root_days = 3650;
	p.intermediate_days = 365;
	p.root_passphrase = "root";
	p.root_passphrase_len = 4;
	p.intermediate_passphrase = "inter";
	p.intermediate_passphrase_len = 5;
	p.now = now;
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_OK);
	CHECK(crypto_signer_spawn(ca, "wrong", 5, NULL, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PASSPHRASE);
	CHECK(crypto_signer_spawn(ca, NULL, 0, NULL, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_PASSPHRASE);
	{
		struct crypto_signer *s = crypto_signer_spawn(ca, "inter", 5, NULL, &err);
		struct crypto_csr *csr = make_csr("a.corp.internal",
		    "DNS:a.corp.internal");

		CHECK_EQ_INT(err, CRYPTO_OK);
		/* the launcher keeps the passphrase: a restart loads the key */
		if (s != NULL && csr != NULL)
			test_dead(s, csr);
		crypto_csr_free(csr);
		crypto_signer_free(s);
	}
	CHECK(crypto_signer_spawn(pt_path("absent"), NULL, 0, NULL, &err) == NULL);
	CHECK(err != CRYPTO_OK);
}

/* The lines of /proc/PID/status that start with key, e.g. "Uid:". */
static int
status_has(pid_t pid, const char *line)
{
	char path[64], st[8192];
	size_t n = 0;
	FILE *f;
	int found;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) != NULL) {   /* its size says 0: read on */
		n = fread(st, 1, sizeof(st) - 1, f);
		fclose(f);
	}
	st[n] = '\0';
	found = strstr(st, line) != NULL;
	if (!found)
		fprintf(stderr, "no \"%s\" in %s:\n%s\n", line, path, st);
	return found;
}

/*
 * The signer's own user (last: the setting stays for the process). Started
 * as root, the signer becomes nobody (65534) for good, with no capability,
 * no new privileges, and goes on signing; started as anyone else, the
 * switch cannot happen and the spawn says so.
 */
static void
test_user(const char *ca)
{
	struct crypto_csr *csr = make_csr("a.corp.internal", "DNS:a.corp.internal");
	struct crypto_signer *s;
	struct crypto_leaf leaf;
	int err;

	CHECK_EQ_INT(crypto_signer_set_user(0, 65534), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_signer_set_user(65534, 0), CRYPTO_ERR_INVALID);
	CHECK_EQ_INT(crypto_signer_set_user(65534, 65534), CRYPTO_OK);
	s = crypto_signer_spawn(ca, NULL, 0, NULL, &err);
	if (geteuid() != 0) {
		CHECK(s == NULL);
		CHECK_EQ_INT(err, CRYPTO_ERR_PRIVILEGE);
		crypto_csr_free(csr);
		return;
	}
	CHECK_EQ_INT(err, CRYPTO_OK);
	CHECK(s != NULL && csr != NULL);
	if (s == NULL || csr == NULL)
		goto out;
	CHECK(status_has(s->remote_pid, "Uid:\t65534\t65534\t65534\t65534\n"));
	CHECK(status_has(s->remote_pid, "Gid:\t65534\t65534\t65534\t65534\n"));
	CHECK(status_has(s->remote_pid, "Groups:\t65534 \n"));
	CHECK(status_has(s->remote_pid, "CapPrm:\t0000000000000000\n"));
	CHECK(status_has(s->remote_pid, "CapEff:\t0000000000000000\n"));
	CHECK(status_has(s->remote_pid, "NoNewPrivs:\t1\n"));
	CHECK_EQ_INT(issue(s, csr, &leaf), CRYPTO_OK);
	crypto_leaf_clear(&leaf);
out:
	crypto_signer_free(s);
	crypto_csr_free(csr);
}

int
main(void)
{
	struct crypto_ca_params p;
	char ca[1100];
	int gen;

	now = time(NULL);
	CHECK_EQ_INT(crypto_init(), 0);
	pt_tmpdir("signproc");
	snprintf(ca, sizeof(ca), "%s/ca", pt_dir);
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = "signproc";
	p.root_days = 3650;
	p.intermediate_days = 365;
	p.root_passphrase = "root";
	p.root_passphrase_len = 4;
	p.now = now;
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_OK);
	test_issue(ca);
	test_passphrase();
	test_user(ca);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	crypto_cleanup();
	return CHECK_DONE();
}
