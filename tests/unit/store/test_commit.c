/*
 * test_commit.c: group commit (store/commit.c). Many threads writing at
 * once all get their own results and all their records; a group formed on
 * purpose (its committer held inside a callback until the others queued)
 * commits the good callbacks and discards only the failing one, each
 * callback seeing the changes of those before it; a group that fills the
 * map grows it and runs every callback again; a callback calling
 * store_write fails instead of deadlocking; and a writer process killed
 * with SIGKILL at random loses no write it had been answered for. Each case
 * works in its own directory under $HEARTH_TEST_TMP.
 *
 * With HEARTH_TEST_PG_URI set (the store/test_commit_pg variant) the many
 * writers (whose shared counter makes them conflict, so callbacks run again
 * after serialization failures, which count as no store failure) and the
 * killed writer run on PostgreSQL;
 * the cases about LMDB's own group and map are its own.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "pgcase.h"
#include "store.h"
#include "store_internal.h"

#define MiB ((size_t)1 << 20)
#define THREADS 8
#define PER_THREAD 150
#define GROUP 6		/* callbacks queued behind the held committer */
#define KILL_ROUNDS 5

static char tmp_base[512];

/* ---- helpers ---------------------------------------------------------- */

static int
mkcase(char *out, size_t len, const char *name)
{
	int n;

	if (pgcase_uri() != NULL)
		return pgcase_reset(out, len);
	n = snprintf(out, len, "%s/%s.XXXXXX", tmp_base, name);
	if (n < 0 || (size_t)n >= len || mkdtemp(out) == NULL) {
		fprintf(stderr, "mkdtemp %s: %s\n", out, strerror(errno));
		return -1;
	}
	return 0;
}

/* Removes a case directory: the store's two files, then the directory. */
static void
rmcase(const char *dir)
{
	char sub[1024];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
			unlink(sub);
		}
		closedir(d);
	}
	rmdir(dir);
}

static struct store *
open_ok(const char *dir)
{
	char errbuf[512] = "";
	struct store *st;
	int err = 1;

	st = store_open(dir, &err, errbuf, sizeof(errbuf));
	CHECK(st != NULL);
	CHECK_EQ_INT(err, STORE_OK);
	if (st == NULL)
		fprintf(stderr, "store_open %s: %s\n", dir, errbuf);
	return st;
}

/* Whether key is in t, read in a fresh transaction. */
static int
has(struct store *st, enum store_table t, const char *key)
{
	struct store_txn *txn;
	const void *v;
	size_t vl;
	int rc;

	if (store_read_begin(st, &txn) != 0)
		return -1;
	rc = store_get(txn, t, key, strlen(key), &v, &vl);
	store_read_end(txn);
	return rc == 0;
}

/* Number of records in t whose key begins with prefix. */
static int
count_fn(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(int *)arg)++;
	return 0;
}

static int
count(struct store *st, enum store_table t, const char *prefix)
{
	struct store_txn *txn;
	int n = 0;

	if (store_read_begin(st, &txn) != 0)
		return -1;
	if (store_scan(txn, t, prefix, strlen(prefix), NULL, 0, count_fn,
	    &n) != 0)
		n = -1;
	store_read_end(txn);
	return n;
}

/* ---- many writers ------------------------------------------------------- */

struct writer {
	struct store *st;
	int id;
	int seq;
	int results[PER_THREAD];
	uint64_t io_failures;        /* store_thread_io_failures() at the end */
};

/* Puts "w<id>/<seq>" and bumps the shared counter; every fifth write
 * fails after writing, with a value of its own. */
static int
writer_fn(struct store_txn *txn, void *arg)
{
	struct writer *w = arg;
	const void *v;
	size_t vl;
	char key[32];
	unsigned long c = 0;
	int rc;

	snprintf(key, sizeof(key), "w%d/%03d", w->id, w->seq);
	if ((rc = store_put(txn, STORE_T_ORDERS, key, strlen(key), key,
	    strlen(key), STORE_PUT_NEW)) != 0)
		return rc;
	rc = store_get(txn, STORE_T_META, "counter", 7, &v, &vl);
	if (rc == 0 && vl == sizeof(c))
		memcpy(&c, v, sizeof(c));
	else if (rc != STORE_NOTFOUND)
		return STORE_ERR_INTERNAL;
	c++;
	if ((rc = store_put(txn, STORE_T_META, "counter", 7, &c, sizeof(c),
	    0)) != 0)
		return rc;
	return w->seq % 5 == 4 ? 1000 + w->id * PER_THREAD + w->seq : 0;
}

static void *
writer_main(void *arg)
{
	struct writer *w = arg;

	for (w->seq = 0; w->seq < PER_THREAD; w->seq++)
		w->results[w->seq] = store_write(w->st, writer_fn, w);
	w->io_failures = store_thread_io_failures();
	return NULL;
}

static void
check_writers(struct store *st, struct writer *w)
{
	char key[32];
	int i, s;

	for (i = 0; i < THREADS; i++)
		for (s = 0; s < PER_THREAD; s++) {
			snprintf(key, sizeof(key), "w%d/%03d", i, s);
			CHECK_EQ_INT(w[i].results[s], s % 5 == 4 ?
			    1000 + i * PER_THREAD + s : 0);
			CHECK_EQ_INT(has(st, STORE_T_ORDERS, key), s % 5 != 4);
		}
}

static void
test_many_writers(void)
{
	static struct writer w[THREADS];
	pthread_t th[THREADS];
	unsigned long c = 0;
	char dir[512];
	struct store_txn *txn;
	struct store *st;
	const void *v;
	size_t vl;
	int i, ok = PER_THREAD - PER_THREAD / 5;

	if (mkcase(dir, sizeof(dir), "writers") != 0 ||
	    (st = open_ok(dir)) == NULL)
		return;
	for (i = 0; i < THREADS; i++) {
		w[i] = (struct writer){ .st = st, .id = i };
		CHECK_EQ_INT(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	check_writers(st, w);
	CHECK_EQ_INT(count(st, STORE_T_ORDERS, "w"), THREADS * ok);
	/* Writes that ran again after a conflict (PostgreSQL) are no outage:
	 * no thread, and not the store, counts a failure. */
	CHECK_EQ_INT(store_io_failures(st), 0);
	for (i = 0; i < THREADS; i++)
		CHECK_EQ_INT(w[i].io_failures, 0);
	/* Fewer commits than writes, or there was no grouping to test. */
	if (pgcase_uri() == NULL)
		fprintf(stderr, "%d writes in %lu groups\n",
		    THREADS * PER_THREAD, st->groups);
	store_close(st);

	/* Durable: a fresh open finds every answered write, and the counter
	 * saw exactly the writes that were kept. */
	if ((st = open_ok(dir)) == NULL)
		goto out;
	check_writers(st, w);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	if (store_get(txn, STORE_T_META, "counter", 7, &v, &vl) == 0 &&
	    vl == sizeof(c))
		memcpy(&c, v, sizeof(c));
	store_read_end(txn);
	CHECK_EQ_INT(c, THREADS * ok);
	store_close(st);
out:
	rmcase(dir);
}

/* ---- one group, formed on purpose ------------------------------------- */

/* Number of store_write calls waiting in the queue. */
static size_t
queued(struct store *st)
{
	struct store_waiter *w;
	size_t n = 0;

	pthread_mutex_lock(&st->qmu);
	for (w = st->qhead; w != NULL; w = w->next)
		n++;
	pthread_mutex_unlock(&st->qmu);
	return n;
}

static void
wait_queued(struct store *st, size_t n)
{
	struct timespec ms = { 0, 1000000 };

	while (queued(st) < n)
		nanosleep(&ms, NULL);
}

struct member {
	struct store *st;
	int idx;
	int (*fn)(struct store_txn *, void *);
	atomic_int held;	/* the holder is inside its callback */
	atomic_int release;	/* the holder may return */
	int runs;		/* times fn ran */
	int saw;		/* what fn saw of the members before it */
	int rc;
	size_t nrec;		/* big records to put */
	unsigned char *buf;
};

/* The first write: holds the committer inside its callback. */
static int
hold_fn(struct store_txn *txn, void *arg)
{
	struct member *m = arg;
	struct timespec ms = { 0, 1000000 };

	(void)txn;
	atomic_store(&m->held, 1);
	while (!atomic_load(&m->release))
		nanosleep(&ms, NULL);
	return 0;
}

/* Puts "g<idx>"; notes which earlier members' records it sees (bit i for
 * member i); member 2 fails after writing. */
static int
member_fn(struct store_txn *txn, void *arg)
{
	struct member *m = arg;
	const void *v;
	size_t vl;
	char key[16];
	int i, rc;

	m->runs++;
	m->saw = 0;
	for (i = 0; i < m->idx; i++) {
		snprintf(key, sizeof(key), "g%d", i);
		if (store_get(txn, STORE_T_ACCOUNTS, key, strlen(key), &v,
		    &vl) == 0)
			m->saw |= 1 << i;
	}
	snprintf(key, sizeof(key), "g%d", m->idx);
	if ((rc = store_put(txn, STORE_T_ACCOUNTS, key, strlen(key), "x", 1,
	    0)) != 0)
		return rc;
	return m->idx == 2 ? -42 : 0;
}

/* Calls store_write from inside the callback: must be refused. */
static int
nested_fn(struct store_txn *txn, void *arg)
{
	struct member *m = arg;

	m->runs++;
	m->saw = store_write(m->st, member_fn, m);
	return store_put(txn, STORE_T_ACCOUNTS, "nested", 6, "x", 1, 0);
}

static void *
member_main(void *arg)
{
	struct member *m = arg;

	m->rc = store_write(m->st, m->fn, m);
	return NULL;
}

/* Runs hold then members 1..n-1 queued in order behind it as one group. */
static int
run_group(struct store *st, struct member *m, pthread_t *th, size_t n)
{
	struct timespec ms = { 0, 1000000 };
	size_t i;

	m[0].fn = hold_fn;
	if (pthread_create(&th[0], NULL, member_main, &m[0]) != 0)
		return -1;
	while (!atomic_load(&m[0].held))
		nanosleep(&ms, NULL);
	for (i = 1; i < n; i++) {
		if (pthread_create(&th[i], NULL, member_main, &m[i]) != 0)
			return -1;
		wait_queued(st, i);
	}
	atomic_store(&m[0].release, 1);
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}

static void
test_one_group(void)
{
	struct member m[GROUP + 1];
	pthread_t th[GROUP + 1];
	char dir[512], key[16];
	struct store *st;
	int i;

	if (mkcase(dir, sizeof(dir), "group") != 0 ||
	    (st = open_ok(dir)) == NULL)
		return;
	for (i = 0; i <= GROUP; i++)
		m[i] = (struct member){ .st = st, .idx = i, .fn = member_fn };
	m[GROUP].fn = nested_fn;
	CHECK_EQ_INT(run_group(st, m, th, GROUP + 1), 0);
	CHECK_EQ_INT(st->last_group, GROUP);	/* members 1..GROUP at once */
	CHECK_EQ_INT(m[0].rc, 0);
	for (i = 1; i <= GROUP; i++) {
		CHECK_EQ_INT(m[i].runs, 1);
		CHECK_EQ_INT(m[i].rc, i == 2 ? -42 : 0);
		snprintf(key, sizeof(key), "g%d", i);
		CHECK_EQ_INT(has(st, STORE_T_ACCOUNTS, key), i != 2 && i != GROUP);
	}
	/* Each saw the members before it in the group, but not the failed
	 * one's discarded record (g0 was never written). */
	CHECK_EQ_INT(m[1].saw, 0);
	CHECK_EQ_INT(m[3].saw, 1 << 1);
	CHECK_EQ_INT(m[GROUP - 1].saw, ((1 << (GROUP - 1)) - 1) & ~1 & ~(1 << 2));
	CHECK_EQ_INT(m[GROUP].saw, STORE_ERR_INVALID);	/* nested write */
	CHECK_EQ_INT(has(st, STORE_T_ACCOUNTS, "nested"), 1);
	store_close(st);
	rmcase(dir);
}

/* ---- a group that fills the map --------------------------------------- */

/* Puts nrec records of 1 MiB under "m<idx>/". */
static int
big_fn(struct store_txn *txn, void *arg)
{
	struct member *m = arg;
	char key[32];
	size_t i;
	int rc;

	m->runs++;
	for (i = 0; i < m->nrec; i++) {
		snprintf(key, sizeof(key), "m%d/%03zu", m->idx, i);
		memset(m->buf, 'a' + m->idx, MiB);
		if ((rc = store_put(txn, STORE_T_CERTS, key, strlen(key),
		    m->buf, MiB, 0)) != 0)
			return rc;
	}
	return 0;
}

static void
test_group_growth(void)
{
	struct member m[5];
	pthread_t th[5];
	char dir[512], prefix[8];
	struct store *st;
	size_t before;
	int i;

	if (mkcase(dir, sizeof(dir), "groupgrow") != 0 ||
	    (st = open_ok(dir)) == NULL)
		return;
	before = store_map_size(st);
	/* Four members of 24 MiB each: the 64 MiB map fills in the third. */
	for (i = 0; i < 5; i++) {
		m[i] = (struct member){ .st = st, .idx = i, .fn = big_fn,
		    .nrec = 24, .buf = malloc(MiB) };
		CHECK(m[i].buf != NULL);
	}
	CHECK_EQ_INT(run_group(st, m, th, 5), 0);
	CHECK_EQ_INT(st->last_group, 4);
	CHECK(store_map_size(st) > before);
	for (i = 1; i < 5; i++) {
		CHECK_EQ_INT(m[i].rc, 0);
		snprintf(prefix, sizeof(prefix), "m%d/", i);
		CHECK_EQ_INT(count(st, STORE_T_CERTS, prefix), 24);
	}
	/* The first two ran before the map filled, and again after. */
	CHECK(m[1].runs >= 2);
	CHECK(m[2].runs >= 2);
	for (i = 0; i < 5; i++)
		free(m[i].buf);
	store_close(st);
	rmcase(dir);
}

/* ---- a writer killed with SIGKILL ------------------------------------- */

/* The child: THREADS writers, each reporting on fd every key whose
 * store_write returned 0, until killed. */
struct killed {
	struct store *st;
	int fd;
	int id;
	int seq;
};

static int
killed_fn(struct store_txn *txn, void *arg)
{
	struct killed *k = arg;
	char key[32];

	snprintf(key, sizeof(key), "k%03d/%07d", k->id, k->seq);
	return store_put(txn, STORE_T_CERTS, key, strlen(key), key,
	    strlen(key), STORE_PUT_NEW);
}

static void *
killed_main(void *arg)
{
	struct killed *k = arg;
	char line[32];
	int n;

	for (k->seq = 0;; k->seq++) {
		if (store_write(k->st, killed_fn, k) != 0)
			_exit(3);
		n = snprintf(line, sizeof(line), "k%03d/%07d\n", k->id, k->seq);
		if (write(k->fd, line, (size_t)n) != n)	/* atomic: < PIPE_BUF */
			_exit(4);
	}
	return NULL;
}

static void
killed_child(const char *dir, int fd, int round)
{
	static struct killed k[THREADS];
	pthread_t th;
	struct store *st;
	int i;

	if ((st = store_open(dir, NULL, NULL, 0)) == NULL)
		_exit(2);
	for (i = 0; i < THREADS; i++) {
		k[i] = (struct killed){ .st = st, .fd = fd,
		    .id = round * THREADS + i };
		if (pthread_create(&th, NULL, killed_main, &k[i]) != 0)
			_exit(2);
	}
	for (;;)
		pause();
}

/* Reads the child's reports and checks each key is in the store. */
static void
check_reported(struct store *st, FILE *f, int *total)
{
	char line[64];
	size_t n;

	while (fgets(line, sizeof(line), f) != NULL) {
		n = strlen(line);
		if (n == 0 || line[n - 1] != '\n')
			continue;	/* cut short by the kill: never answered */
		line[n - 1] = '\0';
		CHECK_EQ_INT(has(st, STORE_T_CERTS, line), 1);
		(*total)++;
	}
}

static void
test_killed(void)
{
	char dir[512];
	struct timespec ts;
	struct store *st;
	int round, fds[2], status, total = 0;
	pid_t pid;
	FILE *f;

	if (mkcase(dir, sizeof(dir), "killed") != 0)
		return;
	srand((unsigned)getpid());
	for (round = 0; round < KILL_ROUNDS; round++) {
		if (pipe(fds) != 0 || (pid = fork()) < 0) {
			CHECK(0);
			break;
		}
		if (pid == 0) {
			close(fds[0]);
			killed_child(dir, fds[1], round);
		}
		close(fds[1]);
		/* A random moment within the first 300 ms of writing. */
		ts = (struct timespec){ 0, (long)(rand() % 300 + 20) * 1000000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		f = fdopen(fds[0], "r");
		if ((st = open_ok(dir)) != NULL && f != NULL)
			check_reported(st, f, &total);
		store_close(st);
		if (f != NULL)
			fclose(f);
	}
	CHECK(total > 0);
	fprintf(stderr, "%d answered writes checked after %d kills\n", total,
	    KILL_ROUNDS);
	rmcase(dir);
}

int
main(void)
{
	const char *tmp;

	if ((tmp = getenv("HEARTH_TEST_TMP")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(tmp_base, sizeof(tmp_base), "%s", tmp);
	test_many_writers();
	if (pgcase_uri() == NULL) {	/* LMDB's group commit and map */
		test_one_group();
		test_group_growth();
	}
	test_killed();
	return CHECK_DONE();
}
