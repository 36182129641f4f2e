/*
 * commit.c: group commit. store_write() queues its callback and waits; the
 * first waiting thread that finds no commit under way becomes the committer
 * and takes whatever is queued (at most STORE_GROUP_MAX callbacks, no
 * waiting for more): one top-level write transaction, each callback in a
 * nested transaction of its own, one commit and so one fsync for all. Then
 * it answers every waiter of the group with its own result and steps down;
 * the first waiter still queued becomes the next committer. Each waiter
 * sleeps on a condition of its own, so a commit wakes only its group's
 * callers and the next committer, never every thread waiting. Opens, resizes and
 * reads nothing itself: lmdb.c begins transactions and grows the map.
 *
 * A callback that fails, or whose nested transaction cannot be committed
 * into the group, loses only its own changes. A full map aborts the whole
 * group; the map grows and every callback of the group runs again. Any
 * other failure to commit the group is every successful callback's result.
 * A group of one runs its callback in the top-level transaction directly.
 */
#include "store_internal.h"

/* How one pass over a group ended. */
enum {
	GROUP_COMMIT,		/* commit the top-level transaction */
	GROUP_ABORT,		/* abort it; the results are final */
	GROUP_GROW,		/* abort it, grow the map and run again */
};

/* Runs w's callback in a transaction nested in parent. Its result goes to
 * w->rc; returns GROUP_GROW when the map was full, GROUP_COMMIT otherwise.
 * A nested commit that fails leaves the group unsafe: GROUP_ABORT. */
static int
group_run_nested(struct store *st, struct store_txn *parent,
    struct store_waiter *w)
{
	struct store_txn c = { .st = st, .write = 1 };
	int rc;

	if ((rc = mdb_txn_begin(st->env, parent->txn, 0, &c.txn)) != 0) {
		w->rc = store_lmdb_err(rc);
		return rc == MDB_MAP_FULL ? GROUP_GROW : GROUP_COMMIT;
	}
	w->rc = w->fn(&c, w->arg);
	if (c.mapfull || w->rc != 0) {
		mdb_txn_abort(c.txn);
		return c.mapfull ? GROUP_GROW : GROUP_COMMIT;
	}
	/* A failed nested commit ends the nested transaction. */
	if ((rc = mdb_txn_commit(c.txn)) != 0) {
		w->rc = store_lmdb_err(rc);
		return rc == MDB_MAP_FULL ? GROUP_GROW : GROUP_ABORT;
	}
	return GROUP_COMMIT;
}

/* One pass: every callback of g against the top-level transaction t. */
static int
group_pass(struct store *st, struct store_txn *t, struct store_waiter **g,
    size_t n)
{
	size_t i;
	int how = GROUP_COMMIT;

	for (i = 0; i < n; i++)
		g[i]->rc = 0;	/* a callback not reached has no result yet */
	if (n == 1) {
		g[0]->rc = g[0]->fn(t, g[0]->arg);
		if (t->mapfull)
			return GROUP_GROW;
		return g[0]->rc == 0 ? GROUP_COMMIT : GROUP_ABORT;
	}
	for (i = 0; i < n && how == GROUP_COMMIT; i++)
		how = group_run_nested(st, t, g[i]);
	return how;
}

/* Gives err to every callback of g that succeeded (or all, with force). */
static void
group_fail(struct store_waiter **g, size_t n, int err, int force)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (force || g[i]->rc == 0)
			g[i]->rc = err;
}

/* Commits the group g durably; each waiter's rc holds its result. */
static void
group_commit(struct store *st, struct store_waiter **g, size_t n)
{
	struct store_txn t;
	int rc, how;

	if (pthread_mutex_lock(&st->wmu) != 0) {
		group_fail(g, n, STORE_ERR_INVALID, 1);
		return;
	}
	st->groups++;
	st->last_group = n;
	for (;;) {
		if ((rc = store_lmdb_write_begin(st, &t)) != 0) {
			group_fail(g, n, rc, 1);
			break;
		}
		if ((how = group_pass(st, &t, g, n)) == GROUP_COMMIT) {
			/* The commit ends the transaction, failed or not. */
			if ((rc = mdb_txn_commit(t.txn)) == 0)
				break;
			if (rc != MDB_MAP_FULL) {
				group_fail(g, n, store_lmdb_err(rc), 0);
				break;
			}
		} else {
			mdb_txn_abort(t.txn);
			if (how == GROUP_ABORT) {
				if (n > 1)	/* a nested commit failed */
					group_fail(g, n, STORE_ERR_INTERNAL, 0);
				break;
			}
		}
		if ((rc = store_lmdb_grow(st)) != 0) {
			group_fail(g, n, rc, 1);
			break;
		}
	}
	pthread_mutex_unlock(&st->wmu);
}

/* Takes up to STORE_GROUP_MAX waiters off the queue into g. Holds qmu. */
static size_t
group_take(struct store *st, struct store_waiter **g)
{
	size_t n = 0;

	while (st->qhead != NULL && n < STORE_GROUP_MAX) {
		g[n++] = st->qhead;
		if ((st->qhead = st->qhead->next) == NULL)
			st->qtail = &st->qhead;
	}
	return n;
}

/* Commits one group as the committer and answers it. Holds qmu on entry
 * and on return, not in between. */
static void
group_lead(struct store *st)
{
	struct store_waiter *g[STORE_GROUP_MAX];
	size_t i, n;

	st->committing = 1;
	st->committer = pthread_self();
	n = group_take(st, g);
	pthread_mutex_unlock(&st->qmu);
	group_commit(st, g, n);
	pthread_mutex_lock(&st->qmu);
	/* Only the group's callers wake, and the first one queued meanwhile,
	 * to lead the next group: the others sleep on. */
	for (i = 0; i < n; i++) {
		g[i]->done = 1;
		pthread_cond_signal(&g[i]->cond);
	}
	st->committing = 0;
	if (st->qhead != NULL)
		pthread_cond_signal(&st->qhead->cond);
}

int
store_lmdb_write(struct store *st, store_write_fn fn, void *arg)
{
	struct store_waiter w = { .fn = fn, .arg = arg,
	    .cond = PTHREAD_COND_INITIALIZER };

	if (pthread_mutex_lock(&st->qmu) != 0)
		return STORE_ERR_INVALID;
	/* Called from inside a write callback: the committer would wait
	 * for itself. */
	if (st->committing && pthread_equal(st->committer, pthread_self())) {
		pthread_mutex_unlock(&st->qmu);
		return STORE_ERR_INVALID;
	}
	*st->qtail = &w;
	st->qtail = &w.next;
	while (!w.done) {
		if (!st->committing)
			group_lead(st);
		else
			pthread_cond_wait(&w.cond, &st->qmu);
	}
	pthread_mutex_unlock(&st->qmu);
	pthread_cond_destroy(&w.cond);
	return w.rc;
}
