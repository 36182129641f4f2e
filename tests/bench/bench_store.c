/*
 * bench_store.c: durable store writes per second with 1, 4 and 16 threads
 * calling store_write() at once, each write one record of a typical size
 * (an order or a certificate) and an index entry, as acme/ writes them.
 * Every write is answered only after its commit returned, so the number is
 * durable commits per second as requests see them. Not a test: it prints
 * numbers for docs/performance.md.
 *   bench_store DIR [seconds per run] [writers...]
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

int
main(int argc, char **argv)
{
	unsigned counts[8] = { 1, 4, 16 }, ncounts = 3, secs = 5, i;
	char errbuf[512];
	struct store *st;
	int err, ret = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: bench_store DIR [seconds] [writers...]\n");
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
