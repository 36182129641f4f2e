/*
 * bench_store.c: durable store writes per second with 1, 4 and 16 threads
 * calling store_write() at once, each write one record of a typical size
 * (an order or a certificate) and an index entry, as acme/ writes them.
 * Every write is answered only after its commit returned, so the number is
 * durable commits per second as requests see them. Not a test: it prints
 * numbers for docs/performance.md.
 *   bench_store DIR [seconds per run] [writers...]
 *
 * With --shape, one writer commits N issuances' worth of writes shaped as
 * acme/ writes them (tables, key forms, record sizes), each its own
 * durable commit, into a store that may already hold a million
 * certificates (scale.sh): the newOrder write (an order, an authorization
 * and three challenges, and their account and pending indexes), the
 * validation's result, and the finalize (the certificate, the order); and,
 * for the floor, one record appended to one table. It prints p50/p99 of
 * each kind of commit and its write calls (about one per page written),
 * so the store's own cost
 * at that size is seen without the rest of hearth.
 *   bench_store --shape DIR N
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#define BENCH_VAL 1500		/* bytes per record: a certificate's size */
#define BENCH_MAX_WRITERS 64

struct bench {
	struct store *st;
	atomic_int stop;
	atomic_ulong done;
	atomic_ulong failed;
};

struct writer {
	struct bench *b;
	unsigned id;
	unsigned long seq;
	char val[BENCH_VAL];
};

static int
put_txn(struct store_txn *txn, void *arg)
{
	struct writer *w = arg;
	char key[64];
	int n, rc;

	n = snprintf(key, sizeof(key), "bench-%02u-%010lu", w->id, w->seq);
	rc = store_put(txn, STORE_T_CERTS, key, (size_t)n, w->val,
	    sizeof(w->val), STORE_PUT_NEW);
	if (rc == 0)
		rc = store_put(txn, STORE_T_CERT_BY_ACCOUNT, key, (size_t)n,
		    "", 0, 0);
	return rc;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	while (!atomic_load(&w->b->stop)) {
		w->seq++;
		if (store_write(w->b->st, put_txn, w) == 0)
			atomic_fetch_add(&w->b->done, 1);
		else
			atomic_fetch_add(&w->b->failed, 1);
	}
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One run of n writers for secs seconds; prints commits per second. */
static int
run(struct store *st, unsigned n, unsigned secs, unsigned round)
{
	static struct writer w[BENCH_MAX_WRITERS];
	pthread_t th[BENCH_MAX_WRITERS];
	struct bench b = { .st = st };
	double t0, t1;
	unsigned i;

	for (i = 0; i < n; i++) {
		w[i] = (struct writer){ .b = &b, .id = round * 100 + i };
		memset(w[i].val, 'a' + (int)(i % 26), sizeof(w[i].val));
	}
	t0 = now_s();
	for (i = 0; i < n; i++)
		if (pthread_create(&th[i], NULL, writer_main, &w[i]) != 0)
			return -1;
	sleep(secs);
	atomic_store(&b.stop, 1);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	t1 = now_s();
	printf("writers %2u  commits %7lu  failed %lu  %8.0f commits/s\n", n,
	    atomic_load(&b.done), atomic_load(&b.failed),
	    (double)atomic_load(&b.done) / (t1 - t0));
	return atomic_load(&b.failed) == 0 ? 0 : -1;
}

/* ---- --shape: issuances' writes, one commit each ---- */

#define SHAPE_ACCOUNTS 1000
#define SHAPE_KINDS 4

static const char *const shape_kind[SHAPE_KINDS] = {
	"newOrder", "validation result", "finalize", "one record",
};

struct shape {
	char accounts[SHAPE_ACCOUNTS][32];
	unsigned n_accounts;
	unsigned long seq;
	/* the issuance being written */
	const char *account;
	char order[32], authz[32], chall[3][32], serial[64], name[64];
	char val[2048];
};

static int
shape_account_cb(const void *key, size_t keylen, const void *val,
    size_t vallen, void *arg)
{
	struct shape *s = arg;

	(void)val;
	(void)vallen;
	if (keylen < sizeof(s->accounts[0]) && s->n_accounts < SHAPE_ACCOUNTS) {
		memcpy(s->accounts[s->n_accounts], key, keylen);
		s->accounts[s->n_accounts++][keylen] = '\0';
	}
	return s->n_accounts < SHAPE_ACCOUNTS ? 0 : 1;
}

/* An id as acme_id_new() draws it: 8 hex of time, 16 of randomness. */
static void
shape_id(char out[32])
{
	snprintf(out, 32, "%08lx%08lx%08lx", (unsigned long)time(NULL),
	    (unsigned long)(random() & 0xffffffff),
	    (unsigned long)(random() & 0xffffffff));
	out[24] = '\0';
}

/* A record of n bytes (JSON-like filler). */
static const char *
shape_val(struct shape *s, size_t n)
{
	memset(s->val, 'r', n);
	s->val[0] = '{';
	s->val[n - 1] = '}';
	return s->val;
}

static int
shape_put(struct store_txn *txn, enum store_table t, const char *key,
    size_t vlen, struct shape *s)
{
	return store_put(txn, t, key, strlen(key), vlen ? shape_val(s, vlen) : "",
	    vlen, 0);
}

static int
shape_order_txn(struct store_txn *txn, void *arg)
{
	struct shape *s = arg;
	char key[160];
	int rc, i;

	if ((rc = shape_put(txn, STORE_T_ORDERS, s->order, 270, s)) != 0 ||
	    (rc = shape_put(txn, STORE_T_AUTHZS, s->authz, 300, s)) != 0)
		return rc;
	for (i = 0; i < 3; i++)
		if ((rc = shape_put(txn, STORE_T_CHALLENGES, s->chall[i], 150, s)) != 0)
			return rc;
	snprintf(key, sizeof(key), "%s/%s", s->account, s->order);
	if ((rc = shape_put(txn, STORE_T_ORDER_BY_ACCOUNT, key, 0, s)) != 0)
		return rc;
	snprintf(key, sizeof(key), "%s/dns:%s/%s", s->account, s->name, s->authz);
	if ((rc = shape_put(txn, STORE_T_AUTHZ_BY_ACCOUNT, key, 0, s)) != 0)
		return rc;
	snprintf(key, sizeof(key), "%s/%s", s->account, s->authz);
	return shape_put(txn, STORE_T_PENDING_AUTHZS, key, 0, s);
}

static int
shape_result_txn(struct store_txn *txn, void *arg)
{
	struct shape *s = arg;
	char key[160];
	int rc, i;

	if ((rc = shape_put(txn, STORE_T_CHALLENGES, s->chall[0], 170, s)) != 0 ||
	    (rc = shape_put(txn, STORE_T_AUTHZS, s->authz, 190, s)) != 0)
		return rc;
	for (i = 1; i < 3; i++)
		if ((rc = store_del(txn, STORE_T_CHALLENGES, s->chall[i],
		    strlen(s->chall[i]))) != 0)
			return rc;
	snprintf(key, sizeof(key), "%s/%s", s->account, s->authz);
	return store_del(txn, STORE_T_PENDING_AUTHZS, key, strlen(key));
}

static int
shape_finalize_txn(struct store_txn *txn, void *arg)
{
	struct shape *s = arg;
	int rc;

	if ((rc = store_put(txn, STORE_T_CERTS, s->serial, strlen(s->serial),
	    shape_val(s, 1300), 1300, STORE_PUT_NEW | STORE_PUT_APPEND)) != 0)
		return rc;
	return shape_put(txn, STORE_T_ORDERS, s->order, 330, s);
}

/* The least a durable write can be: one order-sized record, appended to
 * the orders table under a new id. */
static int
shape_one_txn(struct store_txn *txn, void *arg)
{
	struct shape *s = arg;
	char id[32];

	shape_id(id);
	return store_put(txn, STORE_T_ORDERS, id, strlen(id), shape_val(s, 270),
	    270, STORE_PUT_NEW | STORE_PUT_APPEND);
}

/* Write system calls this process made (/proc/self/io): LMDB writes each
 * dirty page with one pwrite, a run of adjacent ones with one writev, and
 * the meta page with one. (Not write_bytes: the kernel counts a whole
 * large folio there when one page of it is dirtied.) */
static unsigned long long
write_calls(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	unsigned long long v = 0;
	char line[128];

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "syscw: %llu", &v) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int
shape_run(struct store *st, unsigned long n)
{
	static const store_write_fn fn[SHAPE_KINDS] = {
		shape_order_txn, shape_result_txn, shape_finalize_txn,
		shape_one_txn,
	};
	struct store_txn *txn;
	struct shape *s;
	double *ms[SHAPE_KINDS], t0;
	unsigned long long pages[SHAPE_KINDS] = { 0 }, w0;
	unsigned long i;
	int k, ret = 0;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	for (k = 0; k < SHAPE_KINDS; k++)
		if ((ms[k] = calloc(n, sizeof(double))) == NULL)
			return -1;
	srandom((unsigned)time(NULL));
	if (store_read_begin(st, &txn) == 0) {
		(void)store_scan(txn, STORE_T_ACCOUNTS, NULL, 0, NULL, 0,
		    shape_account_cb, s);
		store_read_end(txn);
	}
	for (; s->n_accounts < SHAPE_ACCOUNTS; s->n_accounts++)
		shape_id(s->accounts[s->n_accounts]);
	for (i = 0; i < n && ret == 0; i++) {
		s->account = s->accounts[random() % s->n_accounts];
		shape_id(s->order);
		shape_id(s->authz);
		for (k = 0; k < 3; k++)
			shape_id(s->chall[k]);
		snprintf(s->serial, sizeof(s->serial), "%s%08lx", s->order,
		    (unsigned long)i);
		snprintf(s->name, sizeof(s->name), "s%06lu.shape.corp.internal", i);
		for (k = 0; k < SHAPE_KINDS && ret == 0; k++) {
			w0 = write_calls();
			t0 = now_s();
			ret = store_write(st, fn[k], s);
			ms[k][i] = (now_s() - t0) * 1000;
			pages[k] += write_calls() - w0;
		}
	}
	for (k = 0; k < SHAPE_KINDS && ret == 0; k++) {
		qsort(ms[k], n, sizeof(double), cmp_double);
		printf("%-18s commits %lu  p50 %.2f ms  p99 %.2f ms  %.1f write "
		    "calls per commit\n", shape_kind[k], n, ms[k][n / 2],
		    ms[k][(n * 99) / 100], (double)pages[k] / (double)n);
	}
	for (k = 0; k < SHAPE_KINDS; k++)
		free(ms[k]);
	free(s);
	return ret;
}

int
main(int argc, char **argv)
{
	unsigned counts[8] = { 1, 4, 16 }, ncounts = 3, secs = 5, i;
	char errbuf[512];
	struct store *st;
	int err, ret = 0;

	if (argc == 4 && strcmp(argv[1], "--shape") == 0) {
		if ((st = store_open(argv[2], &err, errbuf, sizeof(errbuf))) == NULL) {
			fprintf(stderr, "%s\n", errbuf);
			return 1;
		}
		ret = strtoul(argv[3], NULL, 10) > 0 ?
		    shape_run(st, strtoul(argv[3], NULL, 10)) : -1;
		store_close(st);
		return ret == 0 ? 0 : 1;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: bench_store DIR [seconds] [writers...]\n"
		    "       bench_store --shape DIR N\n");
		return 2;
	}
	if (argc > 2 && (secs = (unsigned)atoi(argv[2])) == 0)
		secs = 5;
	if (argc > 3) {
		for (ncounts = 0; ncounts < 8 && (int)ncounts + 3 < argc; ncounts++) {
			counts[ncounts] = (unsigned)atoi(argv[ncounts + 3]);
			if (counts[ncounts] == 0 ||
			    counts[ncounts] > BENCH_MAX_WRITERS) {
				fprintf(stderr, "writers: 1..%d\n",
				    BENCH_MAX_WRITERS);
				return 2;
			}
		}
	}
	if ((st = store_open(argv[1], &err, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "%s\n", errbuf);
		return 1;
	}
	for (i = 0; i < ncounts && ret == 0; i++)
		ret = run(st, counts[i], secs, i);
	store_close(st);
	return ret == 0 ? 0 : 1;
}
