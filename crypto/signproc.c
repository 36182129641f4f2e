/*
 * signproc.c: the signer process. crypto_signer_spawn() forks a child that
 * loads the intermediate key and does nothing but sign leaf certificates
 * described by the parent; the parent keeps the certificate and forwards
 * each pki_leaf_spec over a SOCK_SEQPACKET pair, one request at a time
 * (under the signer's lock). The child reads only this fixed message
 * format, checks every length in it, and never touches the network, so
 * code that parses client input never shares an address space with the key.
 *
 * Request:  struct wire_req, then spki, cn, then per name (type, length, bytes).
 * Response: struct wire_resp, then the certificate DER.
 */
#include "pki_internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WIRE_MAGIC   0x68727331u   /* "hrs1" */
#define WIRE_MAX     (96 * 1024)   /* one message, either way */
#define SIGNER_FD    3

struct wire_req {
	uint32_t magic;
	uint32_t key_usage, eku;
	uint32_t spki_len, cn_len, n_names;
	int64_t not_before, not_after;
};

struct wire_resp {
	int32_t status;
	uint32_t der_len;
	uint8_t serial[CRYPTO_SERIAL_BYTES];
};

/* ---- the parent's side ---- */

static int
encode_req(const struct pki_leaf_spec *l, uint8_t *buf, size_t *len)
{
	struct wire_req r;
	size_t o = sizeof(r), i, n;

	memset(&r, 0, sizeof(r));
	r.magic = WIRE_MAGIC;
	r.key_usage = l->key_usage;
	r.eku = l->eku;
	r.spki_len = (uint32_t)l->spki_len;
	r.cn_len = l->cn != NULL ? (uint32_t)strlen(l->cn) : 0;
	r.n_names = (uint32_t)l->n_names;
	r.not_before = l->not_before;
	r.not_after = l->not_after;
	if (l->spki_len + r.cn_len + sizeof(r) > WIRE_MAX ||
	    l->n_names > CRYPTO_MAX_NAMES)
		return CRYPTO_ERR_TOO_LARGE;
	memcpy(buf, &r, sizeof(r));
	memcpy(buf + o, l->spki, l->spki_len);
	o += l->spki_len;
	if (r.cn_len > 0)
		memcpy(buf + o, l->cn, r.cn_len);
	o += r.cn_len;
	for (i = 0; i < l->n_names; i++) {
		n = strnlen(l->names[i].value, sizeof(l->names[i].value));
		if (o + 2 + n > WIRE_MAX)
			return CRYPTO_ERR_TOO_LARGE;
		buf[o++] = (uint8_t)l->names[i].type;
		buf[o++] = (uint8_t)n;
		memcpy(buf + o, l->names[i].value, n);
		o += n;
	}
	*len = o;
	return CRYPTO_OK;
}

int
pki_leaf_sign_remote(struct crypto_signer *s, const struct pki_leaf_spec *l,
    uint8_t serial[CRYPTO_SERIAL_BYTES], uint8_t **der, size_t *len)
{
	struct wire_resp resp;
	uint8_t *buf;
	size_t n;
	ssize_t got;
	int ret;

	if ((buf = malloc(WIRE_MAX)) == NULL)
		return CRYPTO_ERR_NOMEM;
	if ((ret = encode_req(l, buf, &n)) != CRYPTO_OK)
		goto out;
	ret = CRYPTO_ERR_INTERNAL;
	pthread_mutex_lock(&s->lock);
	if (send(s->remote_fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
		got = -1;
	else
		while ((got = recv(s->remote_fd, buf, WIRE_MAX, 0)) < 0 && errno == EINTR)
			;
	pthread_mutex_unlock(&s->lock);
	if (got < (ssize_t)sizeof(resp))
		goto out;      /* the signer process is gone */
	memcpy(&resp, buf, sizeof(resp));
	if (resp.status != CRYPTO_OK) {
		ret = resp.status;
		goto out;
	}
	if (resp.der_len == 0 || resp.der_len != (size_t)got - sizeof(resp) ||
	    (*der = malloc(resp.der_len)) == NULL)
		goto out;
	memcpy(*der, buf + sizeof(resp), resp.der_len);
	*len = resp.der_len;
	memcpy(serial, resp.serial, CRYPTO_SERIAL_BYTES);
	ret = CRYPTO_OK;
out:
	free(buf);
	return ret;
}

void
pki_signer_stop(struct crypto_signer *s)
{
	if (s->remote_fd < 0)
		return;
	close(s->remote_fd);    /* the child sees end of file and exits */
	s->remote_fd = -1;
	while (waitpid(s->remote_pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- the child's side ---- */

/* Decodes a request, checking every length; names go into names[]. */
static int
decode_req(const uint8_t *buf, size_t len, struct pki_leaf_spec *l,
    struct crypto_name *names, char *cn)
{
	struct wire_req r;
	size_t o = sizeof(r), i, n;

	if (len < sizeof(r))
		return CRYPTO_ERR_PARSE;
	memcpy(&r, buf, sizeof(r));
	if (r.magic != WIRE_MAGIC || r.n_names > CRYPTO_MAX_NAMES ||
	    r.cn_len > CRYPTO_MAX_NAME_LEN || r.spki_len > len - o ||
	    r.cn_len > len - o - r.spki_len)
		return CRYPTO_ERR_PARSE;
	memset(l, 0, sizeof(*l));
	l->spki = buf + o;
	l->spki_len = r.spki_len;
	o += r.spki_len;
	memcpy(cn, buf + o, r.cn_len);
	cn[r.cn_len] = '\0';
	l->cn = r.cn_len > 0 ? cn : NULL;
	o += r.cn_len;
	for (i = 0; i < r.n_names; i++) {
		if (len - o < 2 || (n = buf[o + 1]) > len - o - 2 ||
		    n > CRYPTO_MAX_NAME_LEN || buf[o] > CRYPTO_NAME_IP)
			return CRYPTO_ERR_PARSE;
		names[i].type = (enum crypto_name_type)buf[o];
		memcpy(names[i].value, buf + o + 2, n);
		names[i].value[n] = '\0';
		o += 2 + n;
	}
	if (o != len)
		return CRYPTO_ERR_PARSE;
	l->names = names;
	l->n_names = r.n_names;
	l->not_before = (time_t)r.not_before;
	l->not_after = (time_t)r.not_after;
	l->key_usage = r.key_usage;
	l->eku = r.eku;
	return CRYPTO_OK;
}

/* Answers requests until the parent closes its end. */
static void
child_serve(struct crypto_signer *s, int fd)
{
	static struct crypto_name names[CRYPTO_MAX_NAMES];
	struct pki_leaf_spec l;
	struct wire_resp resp;
	char cn[CRYPTO_MAX_NAME_LEN + 1];
	uint8_t *in = malloc(WIRE_MAX), *out = malloc(WIRE_MAX), *der;
	size_t derlen;
	ssize_t n;

	if (in == NULL || out == NULL)
		return;
	for (;;) {
		if ((n = recv(fd, in, WIRE_MAX, 0)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		memset(&resp, 0, sizeof(resp));
		der = NULL;
		derlen = 0;
		resp.status = decode_req(in, (size_t)n, &l, names, cn);
		if (resp.status == CRYPTO_OK)
			resp.status = pki_leaf_sign_local(s, &l, resp.serial, &der, &derlen);
		if (resp.status == CRYPTO_OK && derlen > WIRE_MAX - sizeof(resp))
			resp.status = CRYPTO_ERR_TOO_LARGE;
		resp.der_len = resp.status == CRYPTO_OK ? (uint32_t)derlen : 0;
		memcpy(out, &resp, sizeof(resp));
		if (resp.der_len > 0)
			memcpy(out + sizeof(resp), der, derlen);
		free(der);
		if (send(fd, out, sizeof(resp) + resp.der_len, MSG_NOSIGNAL) < 0)
			break;
	}
	free(in);
	free(out);
}

/* Closes every descriptor from fd up (what the parent had open). */
static void
close_from(int fd)
{
	long max;

	if (syscall(SYS_close_range, (unsigned)fd, ~0U, 0) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	for (; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		(void)close(fd);
}

/* In the child: narrow what it can do and be, load the key, serve. */
static void __attribute__((noreturn))
child_main(int fd, const char *ca_dir, const char *pass, size_t passlen)
{
	struct crypto_signer *s;
	int status;

	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_DUMPABLE, 0);   /* no ptrace, no core with the key */
	signal(SIGINT, SIG_IGN);           /* the parent decides when to stop */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (fd != SIGNER_FD) {
		dup2(fd, SIGNER_FD);
		close(fd);
	}
	close_from(SIGNER_FD + 1);
	crypto_rng_after_fork();
	s = crypto_signer_open(ca_dir, pass, passlen, &status);
	if (send(SIGNER_FD, &status, sizeof(status), MSG_NOSIGNAL) < 0 || s == NULL)
		_exit(1);
	child_serve(s, SIGNER_FD);
	crypto_signer_free(s);
	_exit(0);
}

struct crypto_signer *
crypto_signer_spawn(const char *ca_dir, const char *passphrase,
    size_t passphrase_len, int *err)
{
	struct crypto_signer *s;
	int sv[2] = { -1, -1 }, ret = CRYPTO_ERR_NOMEM, bufsz = 2 * WIRE_MAX;
	int status;
	pid_t pid;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto out;
	s->remote_fd = -1;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		s = NULL;
		ret = CRYPTO_ERR_INTERNAL;
		goto out;
	}
	if ((ret = pki_signer_load_cert(s, ca_dir)) != CRYPTO_OK)
		goto out;
	ret = CRYPTO_ERR_INTERNAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		goto out;
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	if ((pid = fork()) < 0)
		goto out;
	if (pid == 0) {
		close(sv[0]);
		child_main(sv[1], ca_dir, passphrase, passphrase_len);
	}
	close(sv[1]);
	sv[1] = -1;
	s->remote_fd = sv[0];
	s->remote_pid = pid;
	sv[0] = -1;
	/* The child's first message: whether it could load the key. */
	if (recv(s->remote_fd, &status, sizeof(status), 0) != (ssize_t)sizeof(status))
		status = CRYPTO_ERR_INTERNAL;
	ret = status;
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	if (ret != CRYPTO_OK) {
		crypto_signer_free(s);
		s = NULL;
	}
	if (err != NULL)
		*err = ret;
	return s;
}
