/*
 * bench_tls.c: TLS handshakes per second, full and resumed, against
 * hearth's real listener, next to what wolfSSL itself costs on this
 * machine.
 *
 *   limit: a wolfSSL server and client in this process over a socketpair,
 *          one handshake after another, with an ECDSA P-256 certificate
 *          as hearth's listener has; the server side's CPU time (thread
 *          clock around wolfSSL_accept) gives the handshakes one core can
 *          serve, the "limit".
 *   hearth: CLIENTS threads handshaking with hearth for SECS seconds each
 *          way (full, then resumed with the session of a first connection
 *          when the server offers one); hearth's CPU time (its processes,
 *          /proc/PID/stat) over the run gives its CPU per handshake, set
 *          against the limit's.
 *
 * Each line says the protocol and cipher negotiated and, for resumption,
 * how many handshakes were in fact resumed. A benchmark, not a test: it
 * links wolfSSL directly (a test tool, outside the layering) and asserts
 * nothing about time.
 *
 * usage: bench_tls limit CERT.pem KEY.pem SECS
 *        bench_tls hearth HOST PORT CA.pem SECS CLIENTS [PID...]
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TLS_MAX_CLIENTS 64
#define TLS_MAX_PIDS    8

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_tls: %s failed\n", what);
	exit(1);
}

/* ---- the limit: both ends in this process ---- */

struct pair {
	WOLFSSL_CTX *sctx, *cctx;
	WOLFSSL_SESSION *session;   /* for resumption, or NULL */
	double server_cpu;          /* seconds inside wolfSSL_accept */
	long resumed;
	char proto[64];
};

/* One handshake over a fresh socketpair, both ends non-blocking, taking
 * turns. The client reads once more so a TLS 1.3 ticket is taken in. */
static int
pair_handshake(struct pair *p, int keep_session)
{
	WOLFSSL *s = NULL, *c = NULL;
	int fd[2], cd = 0, sd = 0, ret = -1, err;
	double t0;
	char b;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fd) != 0)
		return -1;
	fcntl(fd[0], F_SETFL, O_NONBLOCK);
	fcntl(fd[1], F_SETFL, O_NONBLOCK);
	if ((s = wolfSSL_new(p->sctx)) == NULL || (c = wolfSSL_new(p->cctx)) == NULL ||
	    wolfSSL_set_fd(s, fd[0]) != WOLFSSL_SUCCESS ||
	    wolfSSL_set_fd(c, fd[1]) != WOLFSSL_SUCCESS)
		goto out;
	if (p->session != NULL)
		wolfSSL_set_session(c, p->session);
	while (!cd || !sd) {
		if (!cd && (cd = wolfSSL_connect(c) == WOLFSSL_SUCCESS) == 0 &&
		    (err = wolfSSL_get_error(c, 0)) != WOLFSSL_ERROR_WANT_READ &&
		    err != WOLFSSL_ERROR_WANT_WRITE)
			goto out;
		t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
		if (!sd && (sd = wolfSSL_accept(s) == WOLFSSL_SUCCESS) == 0 &&
		    (err = wolfSSL_get_error(s, 0)) != WOLFSSL_ERROR_WANT_READ &&
		    err != WOLFSSL_ERROR_WANT_WRITE)
			goto out;
		p->server_cpu += clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
	}
	(void)wolfSSL_read(c, &b, 1);   /* takes in a TLS 1.3 ticket, if any */
	p->resumed += wolfSSL_session_reused(c) ? 1 : 0;
	snprintf(p->proto, sizeof(p->proto), "%s %s", wolfSSL_get_version(c),
	    wolfSSL_get_cipher(c));
	if (keep_session)
		p->session = wolfSSL_get1_session(c);
	ret = 0;
out:
	wolfSSL_free(c);
	wolfSSL_free(s);
	close(fd[0]);
	close(fd[1]);
	return ret;
}

static void
limit_run(struct pair *p, const char *what, double secs)
{
	double t0 = clock_s(CLOCK_MONOTONIC), t;
	long n = 0;

	p->server_cpu = 0;
	p->resumed = 0;
	do {
		if (pair_handshake(p, 0) != 0)
			die("an in-process handshake");
		n++;
		t = clock_s(CLOCK_MONOTONIC) - t0;
	} while (t < secs);
	printf("%-34s %8.0f handshakes/s per core (server side %.3f ms CPU each; "
	    "both ends in one thread: %.0f/s); %s; resumed %ld of %ld\n", what,
	    (double)n / p->server_cpu, p->server_cpu * 1000 / (double)n,
	    (double)n / t, p->proto, p->resumed, n);
}

static int
cmd_limit(char **argv)
{
	struct pair p;
	double secs = atof(argv[4]);

	memset(&p, 0, sizeof(p));
	if ((p.sctx = wolfSSL_CTX_new(wolfSSLv23_server_method())) == NULL ||
	    (p.cctx = wolfSSL_CTX_new(wolfSSLv23_client_method())) == NULL ||
	    wolfSSL_CTX_SetMinVersion(p.sctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_certificate_file(p.sctx, argv[2], WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_file(p.sctx, argv[3], WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS)
		die("the in-process server's set-up");
	wolfSSL_CTX_set_verify(p.cctx, WOLFSSL_VERIFY_NONE, NULL);
	limit_run(&p, "wolfSSL in-process, full", secs);
	if (pair_handshake(&p, 1) != 0 || p.session == NULL)
		die("a handshake keeping its session");
	limit_run(&p, "wolfSSL in-process, resumed", secs);
	wolfSSL_SESSION_free(p.session);
	wolfSSL_CTX_free(p.sctx);
	wolfSSL_CTX_free(p.cctx);
	return 0;
}

/* ---- hearth's listener ---- */

struct run {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	WOLFSSL_CTX *ctx;
	WOLFSSL_SESSION *session;   /* resumption run: the first connection's */
	double deadline;
	atomic_long done, failed, resumed;
	char proto[64];
};

/* One handshake with the server (blocking socket, verified chain), then a
 * close_notify. 0, or -1 when it failed. */
static int
hearth_handshake(struct run *r, int keep_session)
{
	WOLFSSL *ssl = NULL;
	int fd, ret = -1, one = 1;
	char b;

	if ((fd = socket(r->addr.ss_family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&r->addr, r->addrlen) != 0 ||
	    (ssl = wolfSSL_new(r->ctx)) == NULL ||
	    wolfSSL_set_fd(ssl, fd) != WOLFSSL_SUCCESS ||
	    wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, "localhost", 9) != WOLFSSL_SUCCESS)
		goto out;
	if (r->session != NULL)
		wolfSSL_set_session(ssl, r->session);
	if (wolfSSL_connect(ssl) != WOLFSSL_SUCCESS)
		goto out;
	if (keep_session) {
		/* a TLS 1.3 ticket arrives after the handshake: ask for a page
		 * so it is read in before the session is taken */
		static const char get[] = "GET /directory HTTP/1.1\r\nHost: localhost\r\n"
		    "Connection: close\r\n\r\n";
		wolfSSL_write(ssl, get, (int)sizeof(get) - 1);
		while (wolfSSL_read(ssl, &b, 1) > 0)
			;
		r->session = wolfSSL_get1_session(ssl);
		snprintf(r->proto, sizeof(r->proto), "%s %s",
		    wolfSSL_get_version(ssl), wolfSSL_get_cipher(ssl));
	}
	if (wolfSSL_session_reused(ssl))
		atomic_fetch_add(&r->resumed, 1);
	wolfSSL_shutdown(ssl);
	ret = 0;
out:
	wolfSSL_free(ssl);
	close(fd);
	return ret;
}

static void *
hearth_client(void *arg)
{
	struct run *r = arg;

	while (clock_s(CLOCK_MONOTONIC) < r->deadline)
		atomic_fetch_add(hearth_handshake(r, 0) == 0 ? &r->done : &r->failed, 1);
	return NULL;
}

/* CPU seconds (user + system) of the server's processes. */
static double
pids_cpu(char **pids, int n)
{
	unsigned long ut, st;
	double sum = 0;
	char path[64], buf[1024], *p;
	FILE *f;
	int i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%s/stat", pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f) != NULL ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (p != NULL && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u "
		    "%*u %*u %lu %lu", &ut, &st) == 2)
			sum += (double)(ut + st);
	}
	return sum / (double)sysconf(_SC_CLK_TCK);
}

static void
hearth_run(struct run *r, const char *what, double secs, int clients,
    char **pids, int npids)
{
	pthread_t th[TLS_MAX_CLIENTS];
	double t0 = clock_s(CLOCK_MONOTONIC), c0 = pids_cpu(pids, npids), cpu, t;
	long n;
	int i;

	atomic_store(&r->done, 0);
	atomic_store(&r->failed, 0);
	atomic_store(&r->resumed, 0);
	r->deadline = t0 + secs;
	for (i = 0; i < clients; i++)
		if (pthread_create(&th[i], NULL, hearth_client, r) != 0)
			die("pthread_create");
	for (i = 0; i < clients; i++)
		pthread_join(th[i], NULL);
	t = clock_s(CLOCK_MONOTONIC) - t0;
	cpu = pids_cpu(pids, npids) - c0;
	n = atomic_load(&r->done);
	printf("%-34s %8.0f handshakes/s (%d clients, %ld failed); ", what,
	    (double)n / t, clients, atomic_load(&r->failed));
	if (npids > 0 && n > 0 && cpu > 0)
		printf("server %.3f ms CPU each = %.0f/s per core; ", cpu * 1000 / (double)n,
		    (double)n / cpu);
	printf("%s; resumed %ld of %ld\n", r->proto, atomic_load(&r->resumed), n);
}

static int
cmd_hearth(int argc, char **argv)
{
	struct addrinfo hints, *ai;
	struct run r;
	WOLFSSL_SESSION *saved;
	double secs = atof(argv[5]);
	int clients = atoi(argv[6]);

	if (clients < 1 || clients > TLS_MAX_CLIENTS || argc - 7 > TLS_MAX_PIDS)
		die("the arguments' check");
	memset(&r, 0, sizeof(r));
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(argv[2], argv[3], &hints, &ai) != 0)
		die("getaddrinfo");
	memcpy(&r.addr, ai->ai_addr, ai->ai_addrlen);
	r.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if ((r.ctx = wolfSSL_CTX_new(wolfSSLv23_client_method())) == NULL ||
	    wolfSSL_CTX_load_verify_locations(r.ctx, argv[4], NULL) != WOLFSSL_SUCCESS)
		die("the client's set-up");
	if (hearth_handshake(&r, 1) != 0)
		die("a first handshake with hearth");
	saved = r.session;
	r.session = NULL;
	hearth_run(&r, "hearth listener, full", secs, clients, argv + 7, argc - 7);
	r.session = saved;
	hearth_run(&r, "hearth listener, resumed", secs, clients, argv + 7, argc - 7);
	wolfSSL_SESSION_free(r.session);
	wolfSSL_CTX_free(r.ctx);
	return 0;
}

int
main(int argc, char **argv)
{
	int ret;

	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		die("wolfSSL_Init");
	if (argc == 5 && strcmp(argv[1], "limit") == 0)
		ret = cmd_limit(argv);
	else if (argc >= 7 && strcmp(argv[1], "hearth") == 0)
		ret = cmd_hearth(argc, argv);
	else {
		fprintf(stderr, "usage: bench_tls limit CERT.pem KEY.pem SECS\n"
		    "       bench_tls hearth HOST PORT CA.pem SECS CLIENTS [PID...]\n");
		ret = 2;
	}
	wolfSSL_Cleanup();
	return ret;
}
