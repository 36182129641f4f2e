/*
 * bench_acme.c: an end-to-end ACME (RFC 8555) load generator that loads a
 * server as a fleet of real clients does. C workers, each a thread with
 * one keep-alive TLS connection verified against the given root, loop
 * through whole issuances of fresh names (see bench_flow.c). Accounts
 * (1,000 by default, ES256) are registered before the clock starts and
 * rotated: each worker owns every CLIENTS-th one and uses the next for
 * each issuance. Polls wait for the server's Retry-After, as clients do,
 * unless --ignore-retry-after; without one they wait POLL_MS.
 *
 * It prints issuances per second, the latency of each step (p50, p95,
 * p99), every failure by kind, and one machine-readable RESULT line. A
 * stall check stops the run when no issuance completes for --stall
 * seconds and reports "stall". The exit status is 1 when any issuance
 * failed or the run stalled, 2 on bad usage. With -P (up to 8 times) it
 * also reports the CPU time those server processes spent over the
 * issuing phase only, read from /proc. It asserts nothing about time.
 * Works against any RFC 8555 server that needs no external account
 * binding (hearth, Pebble).
 *
 * usage: bench_acme [-c CLIENTS] [-n COUNT | -d SECONDS] [-a ACCOUNTS]
 *          [-p HTTP01_PORT] [-t TAG] [-s STALL_S] [-r CHAIN_ROOT.pem]
 *          [-i] [-V] [-P SERVER_PID]... DIRECTORY_URL ROOT.pem
 *   DIRECTORY_URL is https://HOST[:PORT][/PATH] (PATH /directory when
 *   absent) with HOST a name in the server's certificate.
 */
#include "bench_acme.h"

#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

static char dir_path[256] = "/directory";

/* ---- workers ---------------------------------------------------------------- */

/* The number of the next issuance to run, or -1 when the run is over. */
static long
next_issue(struct bench *b)
{
	long i;

	if (atomic_load(&b->abort))
		return -1;
	if (b->count == 0)
		return now_s() < b->deadline ? atomic_fetch_add(&b->next, 1) : -1;
	i = atomic_fetch_add(&b->next, 1);
	return i < b->count ? i : -1;
}

/* Worker w owns accounts w->id, w->id + CLIENTS, ...; the next of them. */
static struct account *
next_account(struct worker *w)
{
	struct bench *b = w->b;
	unsigned own = (b->n_accounts - w->id + b->clients - 1) / b->clients;

	return &b->accounts[w->id + (w->next_acct++ % own) * b->clients];
}

/* Keys, then this worker's accounts registered; 0 or -1 after counting. */
static int
worker_setup(struct worker *w)
{
	struct bench *b = w->b;
	unsigned i;

	if ((w->req = malloc(sizeof(*w->req))) == NULL || worker_keys(w) != 0) {
		tally_note(&b->errors, w->id, "set-up: key generation failed", NULL);
		return -1;
	}
	for (i = w->id; i < b->n_accounts; i += b->clients) {
		if (account_key(&b->accounts[i], &w->rng) != 0) {
			tally_note(&b->errors, w->id, "set-up: account key failed", NULL);
			return -1;
		}
		if (new_account(w, &b->accounts[i]) != 0)
			return -1;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	long idx;

	if (worker_setup(w) != 0)
		atomic_store(&b->setup_failed, 1);
	pthread_barrier_wait(&b->ready);
	pthread_barrier_wait(&b->go);
	while ((idx = next_issue(b)) >= 0) {
		w->acct = next_account(w);
		if (issue_one(w, idx) == 0) {
			w->done++;
			atomic_fetch_add(&b->completed, 1);
		} else if (!atomic_load(&b->abort)) {
			w->failed++;
		}
	}
	conn_close(&w->conn);
	if (w->csr_key_ready)
		wc_ecc_free(&w->csr_key);
	if (w->rng_ready)
		wc_FreeRng(&w->rng);
	free(w->req);
#ifdef FP_ECC
	wc_ecc_fp_free();            /* this thread's fixed-point tables */
#endif
	return NULL;
}

/* ---- the stall check ------------------------------------------------------- */

struct watch {
	struct bench *b;
	struct worker *ws;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
	pthread_t thread;
};

/* Every 100 ms: when no issuance completed for b->stall_s seconds, mark
 * the run stalled, stop it and wake every worker blocked on the server. */
static void *
watch_main(void *arg)
{
	struct watch *wa = arg;
	struct bench *b = wa->b;
	long last = atomic_load(&b->completed), cur;
	double since = now_s();
	struct timespec ts;
	unsigned i;

	pthread_mutex_lock(&wa->mu);
	while (!wa->done) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&wa->cv, &wa->mu, &ts);
		if ((cur = atomic_load(&b->completed)) != last) {
			last = cur;
			since = now_s();
		} else if (now_s() - since >= (double)b->stall_s) {
			atomic_store(&b->stalled, 1);
			atomic_store(&b->abort, 1);
			for (i = 0; i < b->clients; i++)
				conn_shutdown(&wa->ws[i].conn);
			break;
		}
	}
	pthread_mutex_unlock(&wa->mu);
	return NULL;
}
/* https://HOST[:PORT][/PATH] into origin, host, port, authority and the
 * directory's path. */
static int
parse_url(struct bench *b, const char *url)
{
	const char *h, *end, *colon;
	char *slash;
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	if (strncmp(url, "https://", 8) != 0 || n <= 8 || n >= sizeof(b->origin))
		return -1;
	memcpy(b->origin, url, n);
	b->origin[n] = '\0';
	h = b->origin + 8;
	if ((slash = strchr(h, '/')) != NULL) {
		if (strlen(slash) >= sizeof(dir_path))
			return -1;
		snprintf(dir_path, sizeof(dir_path), "%s", slash);
		*slash = '\0';
	}
	if (strchr(h, '@') != NULL)
		return -1;
	snprintf(b->authority, sizeof(b->authority), "%s", h);
	end = h[0] == '[' ? strchr(h, ']') : h;
	if (end == NULL)
		return -1;
	colon = strchr(end, ':');
	if (h[0] == '[')
		snprintf(b->host, sizeof(b->host), "%.*s", (int)(end - h - 1), h + 1);
	else
		snprintf(b->host, sizeof(b->host), "%.*s",
		    (int)(colon != NULL ? (size_t)(colon - h) : strlen(h)), h);
	snprintf(b->port, sizeof(b->port), "%s", colon != NULL ? colon + 1 : "443");
	return b->host[0] != '\0' && strspn(b->port, "0123456789") == strlen(b->port) &&
	    b->port[0] != '\0' ? 0 : -1;
}

/* GET /directory on worker 0's connection; the URLs this client uses. */
static int
read_directory(struct bench *b, struct worker *w)
{
	cJSON *d;
	int ret = -1;

	if (http_do(w, "GET", dir_path, NULL) != 0 || w->r.status != 200) {
		fprintf(stderr, "bench_acme: GET %s%s: %s (HTTP %d)\n", b->origin, dir_path,
		    w->errmsg[0] != '\0' ? w->errmsg : "failed", w->r.status);
		return -1;
	}
	if ((d = cJSON_Parse(w->r.body)) != NULL &&
	    copy_str(b->new_nonce, sizeof(b->new_nonce), json_str(d, "newNonce")) == 0 &&
	    copy_str(b->new_account, sizeof(b->new_account), json_str(d, "newAccount")) == 0 &&
	    copy_str(b->new_order, sizeof(b->new_order), json_str(d, "newOrder")) == 0 &&
	    url_path(b, b->new_nonce) != NULL && url_path(b, b->new_account) != NULL &&
	    url_path(b, b->new_order) != NULL)
		ret = 0;
	else
		fprintf(stderr, "bench_acme: unusable directory: %.400s\n", w->r.body);
	cJSON_Delete(d);
	return ret;
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* User + system CPU seconds of the server processes named with -P, from
 * /proc/PID/stat; -1 when one cannot be read. */
static double
server_cpu(const struct bench *b)
{
	unsigned long ut, st, sum = 0;
	char path[64], buf[1024], *p;
	unsigned i;
	FILE *f;
	int ok;

	for (i = 0; i < b->n_server_pids; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", b->server_pids[i]);
		if ((f = fopen(path, "r")) == NULL)
			return -1;
		ok = fgets(buf, sizeof(buf), f) != NULL;
		fclose(f);
		/* after "(comm)": state is field 3, utime 14, stime 15 */
		if (!ok || (p = strrchr(buf, ')')) == NULL ||
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		        &ut, &st) != 2)
			return -1;
		sum += ut + st;
	}
	return (double)sum / (double)sysconf(_SC_CLK_TCK);
}

/* The RESULT line scripts read: one line, key=value. */
static void
report_result(struct bench *b, struct worker *ws, long done, long failed,
    double wall, const double cpu[2])
{
	double p[3] = { 0, 0, 0 };

	issuance_percentiles(ws, b->clients, p);
	printf("RESULT clients=%u accounts=%u done=%ld failed=%ld errors=%ld "
	    "stall=%d wall_s=%.3f iss_per_s=%.2f p50_ms=%.2f p95_ms=%.2f "
	    "p99_ms=%.2f client_cpu_ms=%.3f server_cpu_ms=%.3f retry_after=%s\n",
	    b->clients, b->n_accounts, done, failed, b->errors.total,
	    atomic_load(&b->stalled), wall, wall > 0 ? (double)done / wall : 0.0,
	    p[0], p[1], p[2], done > 0 ? cpu[0] * 1000.0 / (double)done : 0.0,
	    done > 0 && cpu[1] >= 0 ? cpu[1] * 1000.0 / (double)done : -1.0,
	    b->ignore_retry_after ? "ignored" : "honoured");
}

static void
report(struct bench *b, struct worker *ws, double wall, const double cpu[2])
{
	long done = 0, failed = 0, polls = 0, validations = 0, connects = 0;
	unsigned i;
	size_t k;

	for (i = 0; i < b->clients; i++) {
		done += ws[i].done;
		failed += ws[i].failed;
		polls += ws[i].polls;
		validations += ws[i].validations;
		connects += ws[i].connects;
	}
	printf("clients %u, accounts %u: %ld issuances in %.2f s = %.1f issuances/s; "
	    "%ld failed\n", b->clients, b->n_accounts, done, wall,
	    wall > 0 ? (double)done / wall : 0.0, failed);
	if (atomic_load(&b->stalled))
		printf("  STALL: no issuance completed for %ld s; the run was stopped\n",
		    b->stall_s);
	report_steps(ws, b->clients);
	printf("  polls per validation %.1f; Retry-After %s (%ld waits on it); "
	    "TLS connections opened %ld; http-01 answered %ld, unknown token %ld; "
	    "badNonce retries %ld\n",
	    validations > 0 ? (double)polls / (double)validations : 0.0,
	    b->ignore_retry_after ? "ignored" : "honoured",
	    atomic_load(&b->retry_after_waits), connects, b->resp.served,
	    b->resp.missed, atomic_load(&b->bad_nonce_retries));
	printf("  client CPU (this process) %.2f s during the run = %.2f ms per issuance\n",
	    cpu[0], done > 0 ? cpu[0] * 1000.0 / (double)done : 0.0);
	if (b->n_server_pids > 0 && cpu[1] >= 0)
		printf("  server CPU (%u processes, /proc) %.2f s = %.2f ms per issuance\n",
		    b->n_server_pids, cpu[1],
		    done > 0 ? cpu[1] * 1000.0 / (double)done : 0.0);
	if (b->errors.total > 0) {
		printf("  errors: %ld\n", b->errors.total);
		for (k = 0; k < b->errors.n_kinds; k++)
			printf("    %6ld  %s\n", b->errors.kinds[k].n, b->errors.kinds[k].what);
		if (b->errors.other > 0)
			printf("    %6ld  (other kinds)\n", b->errors.other);
	}
	report_result(b, ws, done, failed, wall, cpu);
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_acme [-c CLIENTS] [-n COUNT | -d SECONDS] "
	    "[-a|--accounts N] [-p HTTP01_PORT] [-t TAG] [-s|--stall SECONDS]\n"
	    "         [-r|--chain-root PEM] [-i|--ignore-retry-after] [-V] [-P SERVER_PID]... "
	    "DIRECTORY_URL ROOT.pem\n");
	exit(2);
}

static const struct option long_opts[] = {
	{ "accounts", required_argument, NULL, 'a' },
	{ "stall", required_argument, NULL, 's' },
	{ "chain-root", required_argument, NULL, 'r' },
	{ "ignore-retry-after", no_argument, NULL, 'i' },
	{ NULL, 0, NULL, 0 },
};

/* One option into b; -1 when bad. */
static int
parse_opt(struct bench *b, int ch, const char *arg, long *port)
{
	long v;

	switch (ch) {
	case 'c':
		if (parse_num(arg, 1, MAX_CLIENTS, &v) != 0)
			return -1;
		b->clients = (unsigned)v;
		return 0;
	case 'n':
		b->seconds = 0;
		return parse_num(arg, 1, MAX_COUNT, &b->count);
	case 'd':
		b->count = 0;
		return parse_num(arg, 1, MAX_SECONDS, &b->seconds);
	case 'a':
		if (parse_num(arg, 1, MAX_ACCOUNTS, &v) != 0)
			return -1;
		b->n_accounts = (unsigned)v;
		return 0;
	case 's':
		return parse_num(arg, 1, MAX_SECONDS, &b->stall_s);
	case 'p':
		return parse_num(arg, 1, 65535, port);
	case 'r':
		b->chain_root = arg;
		return 0;
	case 't':
		if (strlen(arg) == 0 || strlen(arg) > 12 ||
		    strspn(arg, "abcdefghijklmnopqrstuvwxyz0123456789") != strlen(arg))
			return -1;
		snprintf(b->tag, sizeof(b->tag), "%s", arg);
		return 0;
	case 'i':
		b->ignore_retry_after = 1;
		return 0;
	case 'V':
		b->verify_all = 1;
		return 0;
	case 'P':
		if (b->n_server_pids == sizeof(b->server_pids) / sizeof(b->server_pids[0]) ||
		    parse_num(arg, 1, INT_MAX, &v) != 0)
			return -1;
		b->server_pids[b->n_server_pids++] = (int)v;
		return 0;
	}
	return -1;
}

/* Options into b; the HTTP-01 port into *port. Exits on a bad one. */
static void
parse_args(struct bench *b, int argc, char **argv, long *port)
{
	int ch;

	b->clients = 1;
	b->count = 100;
	b->n_accounts = 1000;
	b->stall_s = 10;
	*port = 5002;
	snprintf(b->tag, sizeof(b->tag), "%ld", (long)getpid());
	while ((ch = getopt_long(argc, argv, "c:n:d:a:p:t:s:r:iVP:", long_opts, NULL)) != -1)
		if (parse_opt(b, ch, optarg, port) != 0)
			usage();
	if (argc - optind != 2 || parse_url(b, argv[optind]) != 0)
		usage();
	b->root_file = argv[optind + 1];
	if (b->chain_root == NULL)
		b->chain_root = b->root_file;
	if (b->n_accounts < b->clients)
		b->n_accounts = b->clients;  /* every worker owns one at least */
}

/* Starts the workers, waits for their accounts, runs and joins them with
 * the stall check watching; the wall time of the issuing phase in *wall
 * and this process's CPU time over it in *cpu. 0, or -1 when set-up failed. */
static int
run(struct bench *b, struct worker *ws, double *wall, double cpu[2])
{
	struct watch wa = { .b = b, .ws = ws };
	double t0, c0, s0;
	unsigned i;

	pthread_barrier_init(&b->ready, NULL, b->clients + 1);
	pthread_barrier_init(&b->go, NULL, b->clients + 1);
	pthread_mutex_init(&wa.mu, NULL);
	pthread_cond_init(&wa.cv, NULL);
	for (i = 0; i < b->clients; i++)
		if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0) {
			fprintf(stderr, "bench_acme: cannot start thread\n");
			exit(1);
		}
	pthread_barrier_wait(&b->ready);
	atomic_store(&b->abort, atomic_load(&b->setup_failed));
	t0 = now_s();
	c0 = cpu_seconds();
	s0 = server_cpu(b);
	b->deadline = t0 + (double)b->seconds;
	if (pthread_create(&wa.thread, NULL, watch_main, &wa) != 0)
		exit(1);
	pthread_barrier_wait(&b->go);
	for (i = 0; i < b->clients; i++)
		pthread_join(ws[i].thread, NULL);
	*wall = now_s() - t0;
	cpu[0] = cpu_seconds() - c0;
	cpu[1] = s0 >= 0 && server_cpu(b) >= 0 ? server_cpu(b) - s0 : -1;
	pthread_mutex_lock(&wa.mu);
	wa.done = 1;
	pthread_cond_signal(&wa.cv);
	pthread_mutex_unlock(&wa.mu);
	pthread_join(wa.thread, NULL);
	pthread_barrier_destroy(&b->ready);
	pthread_barrier_destroy(&b->go);
	return atomic_load(&b->setup_failed) ? -1 : 0;
}

/* wolfSSL and the client context trusting the root; 0 or -1. */
static int
tls_setup(struct bench *b)
{
	if (wolfSSL_Init() != WOLFSSL_SUCCESS ||
	    (b->ctx = wolfSSL_CTX_new(wolfTLS_client_method())) == NULL ||
	    wolfSSL_CTX_load_verify_locations(b->ctx, b->root_file, NULL) != WOLFSSL_SUCCESS) {
		fprintf(stderr, "bench_acme: cannot load the root %s\n", b->root_file);
		return -1;
	}
	wolfSSL_CTX_set_verify(b->ctx, WOLFSSL_VERIFY_PEER, NULL);
	return 0;
}

static void
cleanup(struct bench *b, struct worker *ws)
{
	unsigned i;
	int s;

	for (i = 0; i < b->clients; i++)
		for (s = 0; s < N_STEPS; s++)
			free(ws[i].s[s].v);
	for (i = 0; i < b->n_accounts; i++)
		if (b->accounts[i].key_ready)
			wc_ecc_free(&b->accounts[i].key);
	free(b->accounts);
	free(ws);
	wolfSSL_CTX_free(b->ctx);
	wolfSSL_Cleanup();
}

int
main(int argc, char **argv)
{
	static struct bench b;
	struct worker *ws;
	double wall = 0, cpu[2] = { 0, -1 };
	long port;
	unsigned i;
	int ret;

	parse_args(&b, argc, argv, &port);
	/* The stall check shuts connections down under the workers: a write
	 * on one must fail with EPIPE, not end the run before its report. */
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&b.errors.mu, NULL);
	if (tls_setup(&b) != 0 ||
	    (ws = calloc(b.clients, sizeof(*ws))) == NULL ||
	    (b.accounts = calloc(b.n_accounts, sizeof(*b.accounts))) == NULL)
		return 1;
	for (i = 0; i < b.clients; i++) {
		ws[i].b = &b;
		ws[i].id = i;
		ws[i].conn.fd = -1;
	}
	if (read_directory(&b, &ws[0]) != 0 ||
	    responder_start(&b.resp, b.clients, (unsigned)port) != 0)
		return 1;
	ret = run(&b, ws, &wall, cpu);
	responder_stop(&b.resp);
	if (ret != 0)
		fprintf(stderr, "bench_acme: account set-up failed; no issuances run\n");
	report(&b, ws, wall, cpu);
	ret = ret != 0 || b.errors.total > 0 || atomic_load(&b.stalled);
	cleanup(&b, ws);
	return ret;
}
