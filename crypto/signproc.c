/*
 * signproc.c: the signer process. crypto_signer_spawn() forks a launcher,
 * a small process that keeps the CA directory and passphrase and does one
 * thing: on request, kill and reap its current signer process and fork a
 * new one, whose socket it passes back (SCM_RIGHTS). Each signer process
 * loads the intermediate key and does nothing but answer signing
 * operations; the parent keeps the certificate and forwards each operation
 * over a SOCK_SEQPACKET pair, one at a time (under the signer's lock). No
 * process that holds the key or the passphrase touches the network, and
 * the process that parses client input holds neither. When
 * crypto_signer_set_user() named a user, each signer process becomes that
 * user right after loading the key, so the process serving clients and the
 * one holding the key run as different users.
 *
 * Every operation is a request of bytes in and a response of bytes out
 * (pki_signer_call). A message is one or more fragments, each a struct
 * wire_frag header and at most WIRE_CHUNK bytes; the last fragment has
 * more == 0. The receiver caps the total per operation (pki_op_max), so a
 * CRL of many entries can cross while a leaf request stays small. Each
 * operation's handler (pki_op_*) decodes and checks its own request inside
 * the child, with every length checked against a named cap: nothing the
 * parent sends is trusted.
 *
 * crypto_signer_reconfigure() sends the launcher a new name policy and
 * profiles (CONFIG_CMD), checked there as the launcher's own input, and
 * has it replace the signer process: the next one starts with them.
 *
 * Each launcher is pinned to one intermediate, the one its parent loaded
 * the certificate of (its key id): a signer process it starts loads
 * ca_dir while ca_dir/intermediate.crt is that one, and
 * ca_dir/retired/<issuer id>/ once `hearth ca rotate-intermediate` moved
 * it there, so a restarted signer never signs with a key its parent does
 * not hold the certificate of. crypto_signer_successor() asks the launcher
 * (NEXT_CMD) whether ca_dir holds another intermediate; when it does, the
 * launcher, which keeps the privileges it started with, forks a launcher
 * pinned to the new one and passes its socket back, and the new handle is
 * checked (its signer's key loaded, its certificate the one found, a
 * ping) before the caller uses it.
 *
 * The launcher answers SPAWN_CMD and NEXT_CMD, in order, with one fixed-size
 * record (struct launcher_answer) that names the command and echoes the
 * sequence number of the request it answers. A reader that gave up at its
 * deadline leaves its answer in the socket; the next reader drops it (and
 * closes the socket it carries), so a late answer never puts the parent
 * one answer behind (answer_take).
 *
 * A call waits at most CRYPTO_SIGNER_TIMEOUT seconds for the lock and as
 * long again for the answer (poll). A signer process that does not answer
 * in time, or is gone, is replaced: the call asks the launcher for a new
 * one and returns CRYPTO_ERR_UNAVAILABLE; the next call picks the new
 * process up (struct crypto_signer's remote_state).
 */
#define _GNU_SOURCE   /* setresuid, getresuid and their gid forms */
#include "pki_internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WIRE_MAGIC   0x68727332u   /* "hrs2" */
#define WIRE_CHUNK   (60 * 1024)   /* payload bytes per fragment */
#define WIRE_FRAG    (sizeof(struct wire_frag) + WIRE_CHUNK)
#define WIRE_RESP_MAX (64u * 1024 * 1024)  /* any response the parent takes */
#define SIGNER_FD    3             /* in a signer process: its socket */
#define LAUNCHER_FD  3             /* in the launcher: its socket to the parent */
#define CALL_TIMEOUT_MS ((long long)CRYPTO_SIGNER_TIMEOUT * 1000)
#define SPAWN_CMD    'S'           /* parent to launcher: a new signer, please */
#define CONFIG_CMD   'C'           /* parent to launcher: policy and profiles
                                      for the signers it starts from now on */
#define NEXT_CMD     'N'           /* parent to launcher: a launcher for the
                                      intermediate ca_dir holds now, if another */
#define ASK_LEN      5             /* SPAWN_CMD, NEXT_CMD: the command byte,
                                      then the request's sequence number */
#define LAUNCHED_MAX 16            /* launchers a launcher forked, still running */
/* A CONFIG_CMD message: the command byte, the profile count (1 byte), the
 * profiles, the rule count (2 bytes), and per rule its kind (1 byte), text
 * length (1 byte) and text. */
#define CONFIG_MSG_MAX (1 + 1 + CRYPTO_MAX_PROFILES * sizeof(struct crypto_profile) + \
    2 + CRYPTO_POLICY_MAX_RULES * (2 + CRYPTO_MAX_NAME_LEN))

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
	{ PKI_OP_CRL, PKI_OP_CRL_MAX, pki_op_crl },
	{ PKI_OP_OCSP, PKI_OP_OCSP_MAX, pki_op_ocsp },
	{ PKI_OP_PING, PKI_OP_PING_MAX, pki_op_ping },
	{ PKI_OP_CERT, PKI_OP_CERT_MAX, pki_op_cert },
};

/* The launcher's answer to SPAWN_CMD and to NEXT_CMD, one size for both,
 * with a socket (SCM_RIGHTS) when pid is positive: the new signer
 * process's (SPAWN_CMD) or the new launcher's (NEXT_CMD). */
struct launcher_answer {
	uint8_t cmd;               /* the command answered */
	uint8_t reserved[3];       /* 0 */
	uint32_t seq;              /* the sequence number of its request */
	int32_t status;            /* CRYPTO_OK, or why it failed */
	int32_t pid;               /* the new process; NEXT_CMD: 0 when ca_dir
	                              holds the same intermediate */
	uint32_t id_len;           /* NEXT_CMD: key id of ca_dir/intermediate.crt,
	                              <= 32; SPAWN_CMD: 0 */
	uint8_t id[32];
};

int
pki_op_ping(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out)
{
	(void)s;
	(void)req;
	(void)out;
	return len == 0 ? CRYPTO_OK : CRYPTO_ERR_INVALID;
}

int
pki_op_cert(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out)
{
	(void)req;
	if (len != 0)
		return CRYPTO_ERR_INVALID;
	pki_buf_raw(out, s->cert_der, s->cert_len);
	return CRYPTO_OK;
}

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

/* ---- waiting, sending and receiving with a deadline ---- */

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static long long
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Waits until fd is ready for events or the deadline (mono_ms()) passes;
 * deadline 0 means the caller blocks in its I/O instead. 0 when ready (or
 * hung up: the I/O then tells), -1 at the deadline or on error. */
static int
fd_wait(int fd, short events, long long deadline)
{
	struct pollfd pfd;
	long long left;
	int n;

	if (deadline == 0)
		return 0;
	for (;;) {
		if ((left = deadline - mono_ms()) <= 0)
			return -1;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* One datagram each way: the byte count, or -1 at the deadline, on error
 * or (receiving) at end of stream. */
static ssize_t
dgram_send(int fd, const void *p, size_t len, long long deadline)
{
	ssize_t n;
	int flags = MSG_NOSIGNAL | (deadline != 0 ? MSG_DONTWAIT : 0);

	for (;;) {
		if (fd_wait(fd, POLLOUT, deadline) != 0)
			return -1;
		if ((n = send(fd, p, len, flags)) >= 0 ||
		    (errno != EINTR && errno != EAGAIN))
			return n;
	}
}

static ssize_t
dgram_recv(int fd, void *p, size_t len, long long deadline)
{
	ssize_t n;

	for (;;) {
		if (fd_wait(fd, POLLIN, deadline) != 0)
			return -1;
		if ((n = recv(fd, p, len, deadline != 0 ? MSG_DONTWAIT : 0)) > 0)
			return n;
		if (n == 0 || (errno != EINTR && errno != EAGAIN))
			return -1;
	}
}

/* ---- fragments, both sides ---- */

/* Sends data as a message of fragments. 0, or -1 when the peer is gone or
 * the deadline (0: none) passed. */
static int
msg_send(int fd, uint8_t *frag, unsigned op, int32_t status,
    const uint8_t *data, size_t len, long long deadline)
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
		if (dgram_send(fd, frag, sizeof(h) + n, deadline) !=
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
 * gone or the deadline (0: none) passed.
 */
static int
msg_recv(int fd, uint8_t *frag, size_t max, unsigned *op, int32_t *status,
    struct pki_buf *out, long long deadline)
{
	struct wire_frag h;
	ssize_t got;
	int first = 1, bad = 0;

	do {
		if ((got = dgram_recv(fd, frag, WIRE_FRAG, deadline)) <= 0)
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

/* One answer of the launcher: exactly len bytes into msg, and a socket
 * (*fd, else -1). 0; 1 at the deadline; -1 when the launcher is gone or the
 * answer is malformed. */
static int
msg_take(int sock, void *msg, size_t len, int *fd, long long deadline)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct msghdr m;
	struct cmsghdr *cm;
	struct iovec iov;
	ssize_t n;

	*fd = -1;
	if (fd_wait(sock, POLLIN, deadline) != 0)
		return 1;
	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	iov.iov_base = msg;
	iov.iov_len = len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	m.msg_control = c.buf;
	m.msg_controllen = sizeof(c.buf);
	while ((n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	cm = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)len || (m.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -1;
	}
	return 0;
}

/* Takes the launcher's answer to the SPAWN_CMD remote_state awaits: the
 * new signer process's socket (fd) becomes remote_fd, state
 * PKI_REMOTE_LOADING; an answer without a process gives PKI_REMOTE_DOWN. */
static void
spawn_adopt(struct crypto_signer *s, const struct launcher_answer *a, int fd)
{
	if (a->status != CRYPTO_OK || a->pid <= 0 || a->id_len != 0 || fd < 0) {
		if (fd >= 0)
			close(fd);
		s->remote_state = PKI_REMOTE_DOWN;
		return;
	}
	s->remote_fd = fd;
	s->remote_pid = (pid_t)a->pid;
	s->remote_state = PKI_REMOTE_LOADING;
}

/*
 * The launcher's answer to request (cmd, seq) into a, with its socket in
 * *fd (else -1). Answers to earlier requests, whose readers gave up at
 * their deadline, come first and are dropped with their socket; but the
 * answer to the SPAWN_CMD remote_state still awaits is taken on the way
 * (spawn_adopt). 0; 1 at the deadline; -1 when the launcher is gone or an
 * answer is malformed or answers a later request. Under the lock.
 */
static int
answer_take(struct crypto_signer *s, uint8_t cmd, uint32_t seq,
    struct launcher_answer *a, int *fd, long long deadline)
{
	int r;

	for (;;) {
		if ((r = msg_take(s->launcher_fd, a, sizeof(*a), fd, deadline)) != 0)
			return r;
		if (a->cmd == cmd && a->seq == seq)
			return 0;
		if (a->cmd == SPAWN_CMD && a->seq == s->spawn_seq &&
		    s->remote_state == PKI_REMOTE_ASKED) {
			spawn_adopt(s, a, *fd);
			*fd = -1;
			continue;
		}
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		if ((a->cmd != SPAWN_CMD && a->cmd != NEXT_CMD) ||
		    (int32_t)(a->seq - seq) >= 0)
			return -1;   /* not an answer the launcher sends in order */
	}
}

/* Sends the launcher request cmd (SPAWN_CMD or NEXT_CMD) under the next
 * sequence number, without waiting: a launcher whose socket is full is
 * not answering anyway. 0 with *seq set, or -1. Under the lock. */
static int
launcher_ask(struct crypto_signer *s, char cmd, uint32_t *seq)
{
	uint8_t m[ASK_LEN];
	uint32_t q = s->launcher_seq + 1;
	ssize_t n;

	if (s->launcher_fd < 0)
		return -1;
	m[0] = (uint8_t)cmd;
	memcpy(m + 1, &q, sizeof(q));
	while ((n = send(s->launcher_fd, m, sizeof(m),
	    MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(m))
		return -1;
	s->launcher_seq = q;
	*seq = q;
	return 0;
}

/* Stops talking to the current signer process; the next call asks for a
 * new one. */
static void
remote_drop(struct crypto_signer *s)
{
	if (s->remote_fd >= 0)
		close(s->remote_fd);
	s->remote_fd = -1;
	s->remote_state = PKI_REMOTE_DOWN;
}

/* Drops the current signer process and asks the launcher for a new one;
 * the launcher kills and reaps the old one first. */
static void
remote_restart(struct crypto_signer *s)
{
	remote_drop(s);
	if (launcher_ask(s, SPAWN_CMD, &s->spawn_seq) == 0)
		s->remote_state = PKI_REMOTE_ASKED;
}

/*
 * Brings the signer process up as far as the deadline (0: none) allows:
 * the launcher's answer, then the new process's key status. 0 when it
 * answers operations; the key status it reported (it is then dropped);
 * or CRYPTO_ERR_UNAVAILABLE. Under the lock.
 */
static int
remote_ready(struct crypto_signer *s, long long deadline)
{
	int32_t status = CRYPTO_ERR_UNAVAILABLE;
	struct launcher_answer a;
	int fd, r;

	if (s->remote_state == PKI_REMOTE_UP)
		return CRYPTO_OK;
	if (s->remote_state == PKI_REMOTE_DOWN)
		remote_restart(s);
	if (s->remote_state == PKI_REMOTE_ASKED) {
		if ((r = answer_take(s, SPAWN_CMD, s->spawn_seq, &a, &fd,
		    deadline)) != 0) {
			if (r < 0)
				s->remote_state = PKI_REMOTE_DOWN;
			return CRYPTO_ERR_UNAVAILABLE;
		}
		spawn_adopt(s, &a, fd);
	}
	if (s->remote_state != PKI_REMOTE_LOADING)
		return CRYPTO_ERR_UNAVAILABLE;
	/* Its first message: whether it could load the key. */
	if (dgram_recv(s->remote_fd, &status, sizeof(status), deadline) !=
	    (ssize_t)sizeof(status))
		status = CRYPTO_ERR_UNAVAILABLE;
	if (status != CRYPTO_OK) {
		remote_drop(s);       /* hung while loading, or failed */
		return status;
	}
	s->remote_state = PKI_REMOTE_UP;
	return CRYPTO_OK;
}

/* The signer's lock, waiting at most CRYPTO_SIGNER_TIMEOUT seconds. */
static int
lock_within_timeout(pthread_mutex_t *m)
{
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += CRYPTO_SIGNER_TIMEOUT;
	while ((r = pthread_mutex_timedlock(m, &ts)) == EINTR)
		;
	return r == 0 ? 0 : -1;
}

/* One operation through the signer process, within the timeouts. */
static int
remote_call(struct crypto_signer *s, enum pki_op op, const uint8_t *req,
    size_t reqlen, struct pki_buf *out)
{
	uint8_t *frag;
	unsigned rop = 0;
	int32_t status = CRYPTO_ERR_INTERNAL;
	long long deadline;
	int ret;

	if ((frag = malloc(WIRE_FRAG)) == NULL)
		return CRYPTO_ERR_NOMEM;
	if (lock_within_timeout(&s->lock) != 0) {
		free(frag);
		return CRYPTO_ERR_UNAVAILABLE;   /* another call waits on a hung signer */
	}
	deadline = mono_ms() + CALL_TIMEOUT_MS;
	if (remote_ready(s, deadline) != CRYPTO_OK)
		ret = CRYPTO_ERR_UNAVAILABLE;
	else if ((ret = msg_send(s->remote_fd, frag, op, 0, req, reqlen,
	    deadline)) == 0)
		ret = msg_recv(s->remote_fd, frag, WIRE_RESP_MAX, &rop, &status,
		    out, deadline);
	if (ret == 0 && rop != (unsigned)op)
		ret = -1;                        /* out of step: start afresh */
	if (ret == -1) {                     /* hung or gone: replace it */
		remote_restart(s);
		ret = CRYPTO_ERR_UNAVAILABLE;
	}
	pthread_mutex_unlock(&s->lock);
	free(frag);
	return ret == 0 ? status : ret;
}

/* Adds one call of us microseconds to the round-trip counters. */
static void
rtt_record(struct crypto_signer *s, long long us, int failed)
{
	static const long long bounds[] = CRYPTO_SIGNER_RTT_BOUNDS_US;
	size_t i;

	if (us < 0)
		us = 0;
	for (i = 0; i < sizeof(bounds) / sizeof(bounds[0]); i++)
		if (us <= bounds[i])
			break;
	atomic_fetch_add_explicit(&s->rtt_buckets[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->rtt_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&s->rtt_sum_us, (uint64_t)us, memory_order_relaxed);
	if (failed)
		atomic_fetch_add_explicit(&s->rtt_failures, 1, memory_order_relaxed);
}

void
crypto_signer_stats(const struct crypto_signer *s, struct crypto_signer_stats *out)
{
	struct crypto_signer *m = (struct crypto_signer *)s;
	size_t i;

	out->calls = atomic_load_explicit(&m->rtt_calls, memory_order_relaxed);
	out->failures = atomic_load_explicit(&m->rtt_failures, memory_order_relaxed);
	out->sum_us = atomic_load_explicit(&m->rtt_sum_us, memory_order_relaxed);
	for (i = 0; i < CRYPTO_SIGNER_RTT_BUCKETS; i++)
		out->buckets[i] = atomic_load_explicit(&m->rtt_buckets[i],
		    memory_order_relaxed);
}

int
pki_signer_call(struct crypto_signer *s, enum pki_op op, const uint8_t *req,
    size_t reqlen, uint8_t **resp, size_t *resplen)
{
	struct pki_buf out = { 0 };
	long long t0 = mono_us();
	int ret;

	*resp = NULL;
	*resplen = 0;
	if (s->key != NULL)            /* this process holds the key */
		ret = pki_op_run(s, op, req, reqlen, &out);
	else
		ret = remote_call(s, op, req, reqlen, &out);
	if (ret == CRYPTO_OK && out.err != 0)
		ret = out.err;
	rtt_record(s, mono_us() - t0, ret != CRYPTO_OK);
	if (ret != CRYPTO_OK) {
		pki_buf_free(&out);
		return ret;
	}
	*resp = out.p;
	*resplen = out.len;
	return CRYPTO_OK;
}

int
crypto_signer_ping(struct crypto_signer *s)
{
	uint8_t *resp;
	size_t len;
	int ret;

	if (s == NULL)
		return CRYPTO_ERR_INVALID;
	if ((ret = pki_signer_call(s, PKI_OP_PING, NULL, 0, &resp, &len)) ==
	    CRYPTO_OK)
		free(resp);
	return ret;
}

void
pki_signer_stop(struct crypto_signer *s)
{
	if (s->remote_fd >= 0)
		close(s->remote_fd);   /* the child sees end of file and exits */
	s->remote_fd = -1;
	if (s->launcher_fd < 0)
		return;
	close(s->launcher_fd);     /* the launcher kills, reaps and exits */
	s->launcher_fd = -1;
	while (waitpid(s->launcher_pid, NULL, 0) < 0 && errno == EINTR)
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
		if ((ret = msg_recv(fd, frag, 0, &op, &unused, &req, 0)) == -1)
			break;
		if (ret == 0)
			ret = pki_op_run(s, op, req.p, req.len, &out);
		if (ret == 0 && out.err != 0)
			ret = out.err;
		if (msg_send(fd, frag, op, ret, ret == 0 ? out.p : NULL,
		    ret == 0 ? out.len : 0, 0) != 0)
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

/* In a launcher or signer process: no ptrace, no core, die with the
 * parent, only descriptor `fd` kept (as number `keep`). */
static void
narrow(int fd, int keep, pid_t parent)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);                      /* the parent is already gone */
	(void)prctl(PR_SET_DUMPABLE, 0);   /* no ptrace, no core with the key */
	signal(SIGINT, SIG_IGN);           /* the parent decides when to stop */
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	if (fd != keep) {
		dup2(fd, keep);
		close(fd);
	}
	close_from(keep + 1);
}

/* The passphrase and what else a signer process needs, kept by the
 * launcher (a copy of the parent's memory at crypto_signer_spawn(), until
 * a CONFIG_CMD gives it its own). */
struct launch {
	const char *ca_dir;
	const char *pass;
	size_t passlen;
	struct crypto_signer_config cfg;
	pid_t child;
	struct pki_signer_cfg own;      /* after a CONFIG_CMD */
	struct crypto_policy *policy;   /* own.policy, owned */
	uint8_t pin[32];                /* key id of the intermediate it serves */
	size_t pin_len;
	pid_t launched[LAUNCHED_MAX];   /* launchers forked for NEXT_CMD */
	size_t n_launched;
};

/* The key id of dir/intermediate.crt. 0 or CRYPTO_ERR_*. */
static int
dir_key_id(const char *dir, uint8_t id[32], size_t *len)
{
	char path[PATH_MAX], *pem = NULL;
	size_t pemlen = 0;
	int n = snprintf(path, sizeof(path), "%s/intermediate.crt", dir), ret;

	*len = 0;
	if (n < 0 || (size_t)n >= sizeof(path))
		return CRYPTO_ERR_INVALID;
	if ((ret = crypto_read_file(path, CRYPTO_MAX_PEM_BYTES, &pem,
	    &pemlen)) != 0)
		return ret;
	ret = crypto_cert_key_id_pem(pem, pemlen, id, len);
	free(pem);
	return ret;
}

/* Where the intermediate l is pinned to lives: ca_dir while its
 * intermediate.crt is that one, else ca_dir/retired/<issuer id>/, where a
 * rotation moved it. 0 or CRYPTO_ERR_INVALID (path too long). */
static int
launch_dir(const struct launch *l, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t id[32];
	char hex[65];
	size_t i, len = 0;
	int n;

	if (l->pin_len == 0 || (dir_key_id(l->ca_dir, id, &len) == 0 &&
	    len == l->pin_len && memcmp(id, l->pin, len) == 0))
		n = snprintf(out, outsz, "%s", l->ca_dir);
	else {
		for (i = 0; i < l->pin_len; i++) {
			hex[2 * i] = digits[l->pin[i] >> 4];
			hex[2 * i + 1] = digits[l->pin[i] & 0x0f];
		}
		hex[2 * l->pin_len] = '\0';
		n = snprintf(out, outsz, "%s/retired/%s", l->ca_dir, hex);
	}
	return n < 0 || (size_t)n >= outsz ? CRYPTO_ERR_INVALID : CRYPTO_OK;
}

/* Opens the signer of the intermediate l is pinned to. */
static struct crypto_signer *
launch_open(const struct launch *l, int *status)
{
	struct crypto_signer *s;
	char dir[PATH_MAX];

	if ((*status = launch_dir(l, dir, sizeof(dir))) != CRYPTO_OK)
		return NULL;
	s = crypto_signer_open(dir, l->pass, l->passlen, &l->cfg, status);
	if (s != NULL && l->pin_len != 0 && (s->key_id_len != l->pin_len ||
	    memcmp(s->key_id, l->pin, l->pin_len) != 0)) {
		crypto_signer_free(s);       /* replaced again meanwhile */
		*status = CRYPTO_ERR_MISMATCH;
		s = NULL;
	}
	return s;
}

/* In the signer process: load the key under l's settings, report, serve. */
static void __attribute__((noreturn))
child_main(int fd, pid_t parent, const struct launch *l)
{
	struct crypto_signer *s;
	int status;

	narrow(fd, SIGNER_FD, parent);
	crypto_rng_after_fork();
	s = launch_open(l, &status);
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

/* Sends msg (len bytes) and the socket fd (fd < 0: none) to the parent. */
static void
msg_pass(int sock, const void *msg, size_t len, int fd)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct msghdr m;
	struct cmsghdr *cm;
	struct iovec iov;

	memset(&m, 0, sizeof(m));
	memset(&c, 0, sizeof(c));
	iov.iov_base = (void *)msg;
	iov.iov_len = len;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	if (fd >= 0) {
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		cm = CMSG_FIRSTHDR(&m);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	(void)sendmsg(sock, &m, MSG_NOSIGNAL);
}

/* In the launcher, for SPAWN_CMD seq: ends the current signer process,
 * starts the next and passes its pid and socket to the parent. */
static void
launcher_spawn(struct launch *l, uint32_t seq)
{
	struct launcher_answer a;
	int sv[2] = { -1, -1 }, bufsz = 4 * (int)WIRE_FRAG;
	pid_t pid = -1, self = getpid();

	if (l->child > 0) {
		(void)kill(l->child, SIGKILL);
		while (waitpid(l->child, NULL, 0) < 0 && errno == EINTR)
			;
		l->child = -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
		(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		(void)setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
		if ((pid = fork()) == 0)
			child_main(sv[1], self, l);
		close(sv[1]);
		l->child = pid;
	}
	memset(&a, 0, sizeof(a));
	a.cmd = SPAWN_CMD;
	a.seq = seq;
	a.status = pid > 0 ? CRYPTO_OK : CRYPTO_ERR_INTERNAL;
	a.pid = pid > 0 ? (int32_t)pid : 0;
	msg_pass(LAUNCHER_FD, &a, sizeof(a), pid > 0 ? sv[0] : -1);
	if (sv[0] >= 0)
		close(sv[0]);
}

/* The rules of a CONFIG_CMD into a new policy; NULL when one is
 * malformed or refused by crypto_policy_add. */
static struct crypto_policy *
config_policy_decode(const uint8_t *p, size_t len)
{
	struct crypto_policy *pol = crypto_policy_new();
	char text[CRYPTO_MAX_NAME_LEN + 1];
	size_t n, i, o = 2, tl;

	if (pol == NULL || len < 2)
		goto fail;
	n = (size_t)p[0] << 8 | p[1];
	for (i = 0; i < n; i++) {
		if (len - o < 2 || p[o] > CRYPTO_POLICY_DENY_IP ||
		    (tl = p[o + 1]) == 0 || tl > CRYPTO_MAX_NAME_LEN ||
		    len - o - 2 < tl)
			goto fail;
		memcpy(text, p + o + 2, tl);
		text[tl] = '\0';
		if (crypto_policy_add(pol, (enum crypto_policy_rule)p[o], text) != 0)
			goto fail;
		o += 2 + tl;
	}
	if (o != len)
		goto fail;
	return pol;
fail:
	crypto_policy_free(pol);
	return NULL;
}

/* In the launcher: takes a CONFIG_CMD's policy and profiles (after the
 * command byte) for the signer processes it starts next. A message that
 * does not check out changes nothing. */
static void
launcher_config(struct launch *l, const uint8_t *p, size_t len)
{
	struct crypto_profile prof[CRYPTO_MAX_PROFILES];
	struct crypto_signer_config view = l->cfg;
	struct crypto_policy *pol;
	struct pki_signer_cfg own;
	size_t n, i, plen;

	if (len < 1 || (n = p[0]) == 0 || n > CRYPTO_MAX_PROFILES ||
	    len - 1 < (plen = n * sizeof(prof[0])))
		return;
	memcpy(prof, p + 1, plen);
	for (i = 0; i < n; i++)
		if (memchr(prof[i].name, '\0', sizeof(prof[i].name)) == NULL)
			return;
	if ((pol = config_policy_decode(p + 1 + plen, len - 1 - plen)) == NULL)
		return;
	view.policy = pol;
	view.profiles = prof;
	view.n_profiles = n;
	if (pki_signer_cfg_set(&own, &view) != CRYPTO_OK) {
		crypto_policy_free(pol);
		return;
	}
	pki_signer_cfg_clear(&l->own);
	crypto_policy_free(l->policy);
	l->own = own;
	l->policy = pol;
	pki_signer_cfg_view(&l->own, &l->cfg);
}

static void __attribute__((noreturn)) launcher_main(int fd, pid_t parent,
    struct launch *l);

/* In a launcher: reaps the launchers it forked that have ended. */
static void
launched_reap(struct launch *l)
{
	size_t i = 0;
	pid_t r;

	while (i < l->n_launched) {
		while ((r = waitpid(l->launched[i], NULL, WNOHANG)) < 0 &&
		    errno == EINTR)
			;
		if (r == 0) {
			i++;
			continue;
		}
		l->launched[i] = l->launched[--l->n_launched];
	}
}

/* In a launcher, for NEXT_CMD: forks a launcher pinned to id (its own copy
 * of l: the CA directory, passphrase and settings), or fails with a->status
 * set. Returns the parent's end of the new launcher's socket, or -1. */
static int
launcher_fork(struct launch *l, struct launcher_answer *a)
{
	int sv[2];
	pid_t pid, self = getpid();

	a->status = CRYPTO_ERR_INTERNAL;
	if (l->n_launched == LAUNCHED_MAX)
		return -1;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	if ((pid = fork()) == 0) {
		l->child = -1;           /* this launcher's signer stays its own */
		l->n_launched = 0;
		memcpy(l->pin, a->id, a->id_len);
		l->pin_len = a->id_len;
		close(sv[0]);
		launcher_main(sv[1], self, l);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	l->launched[l->n_launched++] = pid;
	a->status = CRYPTO_OK;
	a->pid = (int32_t)pid;
	return sv[0];
}

/* In a launcher, for NEXT_CMD seq: reads the key id of
 * ca_dir/intermediate.crt and, when it is not the one this launcher is
 * pinned to, forks a launcher for it; answers with the new one's socket. */
static void
launcher_next(struct launch *l, uint32_t seq)
{
	struct launcher_answer a;
	size_t len = 0;
	int fd = -1;

	memset(&a, 0, sizeof(a));
	a.cmd = NEXT_CMD;
	a.seq = seq;
	launched_reap(l);
	a.status = dir_key_id(l->ca_dir, a.id, &len);
	a.id_len = (uint32_t)len;
	if (a.status == CRYPTO_OK && (len != l->pin_len ||
	    memcmp(a.id, l->pin, len) != 0))
		fd = launcher_fork(l, &a);
	msg_pass(LAUNCHER_FD, &a, sizeof(a), fd);
	if (fd >= 0)
		close(fd);
}

/* The launcher: a new signer process for every SPAWN_CMD, new settings for
 * every CONFIG_CMD, a new launcher for a rotated intermediate on NEXT_CMD,
 * until the parent closes its end. */
static void __attribute__((noreturn))
launcher_main(int fd, pid_t parent, struct launch *l)
{
	static uint8_t msg[CONFIG_MSG_MAX];
	uint32_t seq;
	ssize_t n;

	narrow(fd, LAUNCHER_FD, parent);
	for (;;) {
		while ((n = recv(LAUNCHER_FD, msg, sizeof(msg), MSG_TRUNC)) < 0 &&
		    errno == EINTR)
			;
		if (n <= 0)
			break;
		if ((size_t)n > sizeof(msg))
			continue;                  /* over the cap: ignored */
		if (msg[0] == CONFIG_CMD) {
			launcher_config(l, msg + 1, (size_t)n - 1);
			continue;
		}
		if (n != ASK_LEN)
			continue;
		memcpy(&seq, msg + 1, sizeof(seq));
		if (msg[0] == SPAWN_CMD)
			launcher_spawn(l, seq);
		else if (msg[0] == NEXT_CMD)
			launcher_next(l, seq);
	}
	if (l->child > 0) {
		(void)kill(l->child, SIGKILL);
		while (waitpid(l->child, NULL, 0) < 0 && errno == EINTR)
			;
	}
	_exit(0);
}

/* Forks the launcher; its first signer process is started by
 * remote_ready(). */
static int
launcher_start(struct crypto_signer *s, const char *ca_dir,
    const char *passphrase, size_t passphrase_len)
{
	struct launch l;
	int sv[2];
	pid_t pid, parent = getpid();

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return CRYPTO_ERR_INTERNAL;
	if ((pid = fork()) < 0) {
		close(sv[0]);
		close(sv[1]);
		return CRYPTO_ERR_INTERNAL;
	}
	if (pid == 0) {
		memset(&l, 0, sizeof(l));
		l.ca_dir = ca_dir;
		l.pass = passphrase;
		l.passlen = passphrase_len;
		l.child = -1;
		memcpy(l.pin, s->key_id, s->key_id_len);
		l.pin_len = s->key_id_len;
		pki_signer_cfg_view(&s->cfg, &l.cfg);
		close(sv[0]);
		launcher_main(sv[1], parent, &l);
	}
	close(sv[1]);
	s->launcher_fd = sv[0];
	s->launcher_pid = pid;
	s->remote_state = PKI_REMOTE_DOWN;
	return CRYPTO_OK;
}

/* An empty forwarding handle: no launcher, no signer process yet. */
static struct crypto_signer *
signer_new(int *err)
{
	struct crypto_signer *s;

	*err = CRYPTO_ERR_NOMEM;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->remote_fd = s->launcher_fd = -1;
	s->remote_state = PKI_REMOTE_DOWN;
	if (pthread_mutex_init(&s->lock, NULL) != 0) {
		free(s);
		*err = CRYPTO_ERR_INTERNAL;
		return NULL;
	}
	*err = CRYPTO_OK;
	return s;
}

struct crypto_signer *
crypto_signer_spawn(const char *ca_dir, const char *passphrase,
    size_t passphrase_len, const struct crypto_signer_config *cfg, int *err)
{
	struct crypto_signer *s;
	int ret;

	if ((s = signer_new(&ret)) == NULL)
		goto out;
	if (ca_dir == NULL)
		ret = CRYPTO_ERR_INVALID;
	else if ((ret = pki_signer_cfg_set(&s->cfg, cfg)) == CRYPTO_OK &&
	    (ret = pki_signer_load_cert(s, ca_dir)) == CRYPTO_OK &&
	    (ret = launcher_start(s, ca_dir, passphrase, passphrase_len)) ==
	    CRYPTO_OK)
		ret = remote_ready(s, 0);   /* whether it could load the key */
out:
	if (ret != CRYPTO_OK) {
		crypto_signer_free(s);
		s = NULL;
	}
	if (err != NULL)
		*err = ret;
	return s;
}

/* A CONFIG_CMD message for policy and profiles into out (CONFIG_MSG_MAX
 * bytes); its length. */
static size_t
config_encode(const struct crypto_policy *pol,
    const struct crypto_profile *prof, size_t n_prof, uint8_t *out)
{
	enum crypto_policy_rule kind;
	const char *text;
	size_t o = 0, i, n = crypto_policy_count(pol), tl;

	out[o++] = CONFIG_CMD;
	out[o++] = (uint8_t)n_prof;
	memcpy(out + o, prof, n_prof * sizeof(*prof));
	o += n_prof * sizeof(*prof);
	out[o++] = (uint8_t)(n >> 8);
	out[o++] = (uint8_t)n;
	for (i = 0; i < n; i++) {
		if (crypto_policy_rule(pol, i, &kind, &text) != CRYPTO_OK)
			break;
		tl = strlen(text);
		out[o++] = (uint8_t)kind;
		out[o++] = (uint8_t)tl;
		memcpy(out + o, text, tl);
		o += tl;
	}
	return o;
}

/* Hands the launcher the new settings and has it replace the signer
 * process. An answer to an earlier SPAWN_CMD still on its way is dropped
 * by the next reader (answer_take): the launcher answers in order. Under
 * the lock. */
static int
remote_reconfigure(struct crypto_signer *s, const uint8_t *msg, size_t len)
{
	remote_drop(s);
	if (s->launcher_fd < 0 || dgram_send(s->launcher_fd, msg, len,
	    mono_ms() + CALL_TIMEOUT_MS) != (ssize_t)len)
		return CRYPTO_ERR_UNAVAILABLE;
	remote_restart(s);
	return CRYPTO_OK;
}

int
crypto_signer_reconfigure(struct crypto_signer *s,
    const struct crypto_policy *policy, const struct crypto_profile *profiles,
    size_t n_profiles)
{
	struct crypto_signer_config view;
	struct pki_signer_cfg next;
	uint8_t *msg = NULL;
	size_t len;
	int ret;

	if (s == NULL || policy == NULL || profiles == NULL || n_profiles == 0 ||
	    n_profiles > CRYPTO_MAX_PROFILES)
		return CRYPTO_ERR_INVALID;
	pki_signer_cfg_view(&s->cfg, &view);
	view.policy = policy;
	view.profiles = profiles;
	view.n_profiles = n_profiles;
	if ((ret = pki_signer_cfg_set(&next, &view)) != CRYPTO_OK)
		return ret;
	if ((msg = malloc(CONFIG_MSG_MAX)) == NULL) {
		pki_signer_cfg_clear(&next);
		return CRYPTO_ERR_NOMEM;
	}
	len = config_encode(policy, profiles, n_profiles, msg);
	if (lock_within_timeout(&s->lock) != 0)
		ret = CRYPTO_ERR_UNAVAILABLE;
	else {
		if (s->key == NULL)
			ret = remote_reconfigure(s, msg, len);
		if (ret == CRYPTO_OK) {
			pki_signer_cfg_clear(&s->cfg);
			s->cfg = next;
			memset(&next, 0, sizeof(next));
		}
		pthread_mutex_unlock(&s->lock);
	}
	pki_signer_cfg_clear(&next);
	free(msg);
	return ret;
}

/* ---- a rotated intermediate: the successor handle ---- */

/* Asks cur's launcher for a launcher of the intermediate ca_dir holds now
 * (NEXT_CMD) and checks the answer: *fd is the new launcher's socket, or
 * -1 when a->pid is 0 (the same intermediate). An answer that comes after
 * the deadline is dropped by the next reader. */
static int
next_ask(struct crypto_signer *cur, struct launcher_answer *a, int *fd)
{
	long long deadline = mono_ms() + CALL_TIMEOUT_MS;
	uint32_t seq;
	int ret = CRYPTO_ERR_UNAVAILABLE;

	*fd = -1;
	memset(a, 0, sizeof(*a));
	if (lock_within_timeout(&cur->lock) != 0)
		return CRYPTO_ERR_UNAVAILABLE;
	if (launcher_ask(cur, NEXT_CMD, &seq) == 0 &&
	    answer_take(cur, NEXT_CMD, seq, a, fd, deadline) == 0)
		ret = CRYPTO_OK;
	pthread_mutex_unlock(&cur->lock);
	if (ret != CRYPTO_OK) {
		memset(a, 0, sizeof(*a));      /* nothing of a dropped answer */
		return ret;
	}
	if (a->id_len > sizeof(a->id) || a->status > 0 || a->pid < 0 ||
	    (a->pid > 0) != (*fd >= 0) ||
	    (a->pid > 0 && (a->status != CRYPTO_OK || a->id_len == 0)))
		ret = CRYPTO_ERR_PARSE;        /* not an answer the launcher sends */
	else
		ret = a->status;
	if (ret != CRYPTO_OK && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return ret;
}

/* Brings up n's signer process (its key status is the answer when it
 * cannot load the key), takes the certificate it loaded and checks it is
 * the one a names and that the root which issued cur's issued it; then a
 * ping. */
static int
successor_check(struct crypto_signer *cur, struct crypto_signer *n,
    const struct launcher_answer *a)
{
	uint8_t *der = NULL;
	size_t len = 0;
	int ret;

	pthread_mutex_lock(&n->lock);
	ret = remote_ready(n, mono_ms() + CALL_TIMEOUT_MS);
	pthread_mutex_unlock(&n->lock);
	if (ret != CRYPTO_OK)
		return ret;
	if ((ret = pki_signer_call(n, PKI_OP_CERT, NULL, 0, &der, &len)) !=
	    CRYPTO_OK)
		return ret;
	if ((ret = pki_signer_cert_set(n, der, len)) != CRYPTO_OK)
		return ret;
	if (n->key_id_len != a->id_len ||
	    memcmp(n->key_id, a->id, a->id_len) != 0 ||
	    n->view.issuer.der_len != cur->view.issuer.der_len ||
	    memcmp(n->view.issuer.der, cur->view.issuer.der,
	    n->view.issuer.der_len) != 0)
		return CRYPTO_ERR_MISMATCH;
	return crypto_signer_ping(n);
}

static void
key_id_hex(const uint8_t *id, size_t len, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len && i < 32; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 0x0f];
	}
	out[2 * i] = '\0';
}

int
crypto_signer_successor(struct crypto_signer *cur, struct crypto_signer **next,
    char new_id[65])
{
	struct crypto_signer_config view;
	struct crypto_signer *n = NULL;
	struct launcher_answer a;
	int fd = -1, ret;

	if (next != NULL)
		*next = NULL;
	if (new_id != NULL)
		new_id[0] = '\0';
	if (cur == NULL || next == NULL || new_id == NULL)
		return CRYPTO_ERR_INVALID;
	if (cur->key != NULL || cur->launcher_fd < 0)
		return CRYPTO_ERR_UNSUPPORTED;     /* no launcher to ask */
	ret = next_ask(cur, &a, &fd);
	if (a.id_len <= sizeof(a.id))
		key_id_hex(a.id, a.id_len, new_id);
	if (ret != CRYPTO_OK || a.pid == 0)
		return ret;
	if ((n = signer_new(&ret)) == NULL) {
		close(fd);
		return ret;
	}
	n->launcher_fd = fd;
	n->launcher_pid = a.pid;
	pthread_mutex_lock(&cur->lock);    /* cfg changes under it */
	pki_signer_cfg_view(&cur->cfg, &view);
	ret = pki_signer_cfg_set(&n->cfg, &view);
	pthread_mutex_unlock(&cur->lock);
	if (ret == CRYPTO_OK)
		ret = successor_check(cur, n, &a);
	if (ret != CRYPTO_OK) {
		crypto_signer_free(n);
		return ret;
	}
	*next = n;
	return CRYPTO_OK;
}
