/*
 * signproc.c: the signer process. crypto_signer_spawn() forks a child that
 * loads the intermediate key and does nothing but answer signing
 * operations; the parent keeps the certificate and forwards each operation
 * over a SOCK_SEQPACKET pair, one at a time (under the signer's lock). The
 * child never touches the network, so code that parses client input never
 * shares an address space with the key. When crypto_signer_set_user() named
 * a user, the child becomes that user right after loading the key, so the
 * process serving clients and the one holding the key run as different
 * users.
 *
 * Every operation is a request of bytes in and a response of bytes out
 * (pki_signer_call). A message is one or more fragments, each a struct
 * wire_frag header and at most WIRE_CHUNK bytes; the last fragment has
 * more == 0. The receiver caps the total per operation (pki_op_max), so a
 * CRL of many entries can cross while a leaf request stays small. Each
 * operation's handler (pki_op_*) decodes and checks its own request inside
 * the child, with every length checked against a named cap: nothing the
 * parent sends is trusted.
 */
#define _GNU_SOURCE   /* setresuid, getresuid and their gid forms */
#include "pki_internal.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define WIRE_MAGIC   0x68727332u   /* "hrs2" */
#define WIRE_CHUNK   (60 * 1024)   /* payload bytes per fragment */
#define WIRE_FRAG    (sizeof(struct wire_frag) + WIRE_CHUNK)
#define WIRE_RESP_MAX (64u * 1024 * 1024)  /* any response the parent takes */
#define SIGNER_FD    3

/* The user the signer process becomes once the key is loaded (start-up
 * configuration, set by crypto_signer_set_user() before spawning). */
static struct {
	int set;
	uid_t uid;
	gid_t gid;
} signer_user;

struct wire_frag {
	uint32_t magic;
	uint8_t op;                /* enum pki_op */
	uint8_t more;              /* 1: another fragment follows */
	uint16_t reserved;
	int32_t status;            /* responses: CRYPTO_OK or CRYPTO_ERR_* */
	uint32_t len;              /* payload bytes in this fragment */
};

/* One operation the child answers: its request cap and handler. */
struct op_entry {
	enum pki_op op;
	size_t max_req;
	int (*fn)(struct crypto_signer *, const uint8_t *, size_t, struct pki_buf *);
};

static const struct op_entry op_table[] = {
	{ PKI_OP_LEAF, PKI_OP_LEAF_MAX, pki_op_leaf },
};

static const struct op_entry *
op_find(unsigned op)
{
	size_t i;

	for (i = 0; i < sizeof(op_table) / sizeof(op_table[0]); i++)
		if ((unsigned)op_table[i].op == op)
			return &op_table[i];
	return NULL;
}

size_t
pki_op_max(enum pki_op op)
{
	const struct op_entry *e = op_find(op);

	return e != NULL ? e->max_req : 0;
}

int
pki_op_run(struct crypto_signer *s, enum pki_op op, const uint8_t *req,
    size_t len, struct pki_buf *out)
{
	const struct op_entry *e = op_find(op);

	if (e == NULL)
		return CRYPTO_ERR_UNSUPPORTED;
	if (len > e->max_req)
		return CRYPTO_ERR_TOO_LARGE;
	return e->fn(s, req, len, out);
}

/* ---- fragments, both sides ---- */

/* Sends data as a message of fragments. 0, or -1 when the peer is gone. */
static int
msg_send(int fd, uint8_t *frag, unsigned op, int32_t status,
    const uint8_t *data, size_t len)
{
	struct wire_frag h;
	size_t o = 0, n;

	do {
		n = len - o < WIRE_CHUNK ? len - o : WIRE_CHUNK;
		memset(&h, 0, sizeof(h));
		h.magic = WIRE_MAGIC;
		h.op = (uint8_t)op;
		h.more = o + n < len;
		h.status = status;
		h.len = (uint32_t)n;
		memcpy(frag, &h, sizeof(h));
		if (n > 0)
			memcpy(frag + sizeof(h), data + o, n);
		if (send(fd, frag, sizeof(h) + n, MSG_NOSIGNAL) !=
		    (ssize_t)(sizeof(h) + n))
			return -1;
		o += n;
	} while (o < len);
	return 0;
}

/*
 * Receives one message into out (its total capped by max, or by the cap of
 * the operation its first fragment names when max is 0). *op and *status
 * come from the first fragment. 0; CRYPTO_ERR_TOO_LARGE or CRYPTO_ERR_PARSE
 * for a message to refuse (the rest of it is drained); -1 when the peer is
 * gone.
 */
static int
msg_recv(int fd, uint8_t *frag, size_t max, unsigned *op, int32_t *status,
    struct pki_buf *out)
{
	struct wire_frag h;
	ssize_t got;
	int first = 1, bad = 0;

	do {
		while ((got = recv(fd, frag, WIRE_FRAG, 0)) < 0 && errno == EINTR)
			;
		if (got <= 0)
			return -1;
		memset(&h, 0, sizeof(h));
		if ((size_t)got >= sizeof(h))
			memcpy(&h, frag, sizeof(h));
		if (h.magic != WIRE_MAGIC || h.len != (size_t)got - sizeof(h) ||
		    (!first && h.op != *op)) {
			bad = bad ? bad : CRYPTO_ERR_PARSE;
			h.len = 0;
		} else if (first) {
			*op = h.op;
			*status = h.status;
			if (max == 0 && (max = pki_op_max(h.op)) == 0)
				bad = CRYPTO_ERR_UNSUPPORTED;
		}
		first = 0;
		if (!bad && h.len > max - out->len)
			bad = CRYPTO_ERR_TOO_LARGE;
		if (!bad)
			pki_buf_raw(out, frag + sizeof(h), h.len);
	} while (h.more);
	if (!bad && out->err)
		bad = out->err;
	return bad;
}

/* ---- the parent's side ---- */

int
pki_signer_call(struct crypto_signer *s, enum pki_op op, const uint8_t *req,
    size_t reqlen, uint8_t **resp, size_t *resplen)
{
	struct pki_buf out = { 0 };
	uint8_t *frag;
	unsigned rop = 0;
	int32_t status = CRYPTO_ERR_INTERNAL;
	int ret;

	*resp = NULL;
	*resplen = 0;
	if (s->key != NULL) {          /* this process holds the key */
		ret = pki_op_run(s, op, req, reqlen, &out);
		goto done;
	}
	if ((frag = malloc(WIRE_FRAG)) == NULL)
		return CRYPTO_ERR_NOMEM;
	pthread_mutex_lock(&s->lock);
	ret = s->remote_fd < 0 ? -1 :
	    msg_send(s->remote_fd, frag, op, 0, req, reqlen);
	if (ret == 0)
		ret = msg_recv(s->remote_fd, frag, WIRE_RESP_MAX, &rop, &status,
		    &out);
	pthread_mutex_unlock(&s->lock);
	free(frag);
	if (ret < 0 && ret != CRYPTO_ERR_TOO_LARGE && ret != CRYPTO_ERR_PARSE)
		ret = CRYPTO_ERR_INTERNAL;   /* the signer process is gone */
	else if (ret == 0 && rop != (unsigned)op)
		ret = CRYPTO_ERR_INTERNAL;
	else if (ret == 0)
		ret = status;
done:
	if (ret == CRYPTO_OK && out.err != 0)
		ret = out.err;
	if (ret != CRYPTO_OK) {
		pki_buf_free(&out);
		return ret;
	}
	*resp = out.p;
	*resplen = out.len;
	return CRYPTO_OK;
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

/* Answers operations until the parent closes its end. */
static void
child_serve(struct crypto_signer *s, int fd)
{
	struct pki_buf req, out;
	uint8_t *frag = malloc(WIRE_FRAG);
	unsigned op;
	int32_t unused;
	int ret;

	if (frag == NULL)
		return;
	for (;;) {
		memset(&req, 0, sizeof(req));
		memset(&out, 0, sizeof(out));
		op = 0;
		if ((ret = msg_recv(fd, frag, 0, &op, &unused, &req)) == -1)
			break;
		if (ret == 0)
			ret = pki_op_run(s, op, req.p, req.len, &out);
		if (ret == 0 && out.err != 0)
			ret = out.err;
		if (msg_send(fd, frag, op, ret, ret == 0 ? out.p : NULL,
		    ret == 0 ? out.len : 0) != 0)
			ret = -1;
		pki_buf_free(&req);
		pki_buf_free(&out);
		if (ret == -1)
			break;
	}
	free(frag);
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

int
crypto_signer_set_user(uid_t uid, gid_t gid)
{
	if (uid == 0 || gid == 0)
		return CRYPTO_ERR_INVALID;
	signer_user.set = 1;
	signer_user.uid = uid;
	signer_user.gid = gid;
	return CRYPTO_OK;
}

/*
 * In the child, key loaded: becomes the signer's user for good (groups,
 * then gid, then uid, real, effective and saved) and checks that root
 * cannot be regained. Then no new privileges (it never executes anything),
 * and the settings a change of credentials resets: not dumpable, killed
 * with the parent (and gone already if the parent died meanwhile).
 */
static int
child_drop(pid_t parent)
{
	uid_t r, e, sv;
	gid_t rg, eg, sg;

	if (signer_user.set) {
		if (setgroups(1, &signer_user.gid) != 0 ||
		    setresgid(signer_user.gid, signer_user.gid, signer_user.gid) != 0 ||
		    setresuid(signer_user.uid, signer_user.uid, signer_user.uid) != 0)
			return CRYPTO_ERR_PRIVILEGE;
		if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 ||
		    getresuid(&r, &e, &sv) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
		    r != signer_user.uid || e != r || sv != r ||
		    rg != signer_user.gid || eg != rg || sg != rg)
			return CRYPTO_ERR_PRIVILEGE;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0) != 0 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		return CRYPTO_ERR_PRIVILEGE;
	return CRYPTO_OK;
}

/* In the child: narrow what it can do and be, load the key, drop to the
 * signer's user, serve. The key is read before the drop: its directory
 * and file need not be reachable by that user, and afterwards the process
 * opens no file at all. */
static void __attribute__((noreturn))
child_main(int fd, pid_t parent, const char *ca_dir, const char *pass,
    size_t passlen)
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
	if (s != NULL && (status = child_drop(parent)) != CRYPTO_OK) {
		crypto_signer_free(s);
		s = NULL;
	}
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
	int sv[2] = { -1, -1 }, ret = CRYPTO_ERR_NOMEM, bufsz = 4 * (int)WIRE_FRAG;
	int status;
	pid_t pid, self = getpid();

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
		child_main(sv[1], self, ca_dir, passphrase, passphrase_len);
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
