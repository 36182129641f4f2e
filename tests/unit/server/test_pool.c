/*
 * test_pool.c: the pool that runs what waits (server/pool.c). Work runs
 * on the pool's threads, several at once; done runs on the loop that
 * submitted the task, once per task; tasks whose done could not run
 * before the loop stopped get done(t, 0) from pool_loop_free(); a
 * stopped pool refuses new tasks; a loop may run a task itself only when
 * the pool is idle and no other loop does.
 */
#include "check.h"
#include "looptest.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "pool.h"

#define TASKS 200
#define THREADS 8

struct task {
	struct pool_task t;
	pthread_t submitter;
	int work_on_submitter;          /* work ran on the loop's thread */
	int done_elsewhere;             /* done ran on another thread */
	int worked, done, ran;
	struct counts *c;
};

struct counts {
	_Atomic int in_work, most_in_work;
	int done;
	int all;                        /* done == TASKS */
	int wait_ms;                    /* each work sleeps this long */
};

static void
work(struct pool_task *pt)
{
	struct task *x = (struct task *)pt;
	int now, most;

	x->work_on_submitter = pthread_equal(pthread_self(), x->submitter);
	now = atomic_fetch_add(&x->c->in_work, 1) + 1;
	most = atomic_load(&x->c->most_in_work);
	while (now > most &&
	    !atomic_compare_exchange_weak(&x->c->most_in_work, &most, now))
		;
	usleep((useconds_t)x->c->wait_ms * 1000);
	atomic_fetch_sub(&x->c->in_work, 1);
	x->worked++;
}

static void
done(struct pool_task *pt, int ran)
{
	struct task *x = (struct task *)pt;

	x->done_elsewhere = !pthread_equal(pthread_self(), x->submitter);
	x->done++;
	x->ran = ran;
	x->c->all = ++x->c->done == TASKS;
}

static void
submit_all(struct pool_loop *l, struct task *tasks, size_t n,
    struct counts *c)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&tasks[i], 0, sizeof(tasks[i]));
		tasks[i].t.work = work;
		tasks[i].t.done = done;
		tasks[i].submitter = pthread_self();
		tasks[i].c = c;
		CHECK_EQ_INT(pool_submit(l, &tasks[i].t), 0);
	}
}

/* Every task's work on a pool thread, its done once on the loop. */
static void
test_round_trip(void)
{
	static struct task tasks[TASKS];
	struct counts c = { .wait_ms = 1 };
	struct event_base *base = event_base_new();
	struct pool *p = pool_new(THREADS);
	struct pool_loop *l = p != NULL ? pool_loop_new(p, base) : NULL;
	size_t i;

	CHECK(l != NULL);
	if (l == NULL)
		goto out;
	submit_all(l, tasks, TASKS, &c);
	lt_run_until(base, &c.all, 10000);
	CHECK_EQ_INT(c.done, TASKS);
	for (i = 0; i < TASKS; i++) {
		CHECK_EQ_INT(tasks[i].worked, 1);
		CHECK_EQ_INT(tasks[i].done, 1);
		CHECK_EQ_INT(tasks[i].ran, 1);
		CHECK_EQ_INT(tasks[i].work_on_submitter, 0);
		CHECK_EQ_INT(tasks[i].done_elsewhere, 0);
	}
	/* works that wait overlap: the point of the pool */
	CHECK(atomic_load(&c.most_in_work) > 1);
	CHECK(atomic_load(&c.most_in_work) <= THREADS);
out:
	pool_stop(p);
	pool_loop_free(l);
	pool_free(p);
	event_base_free(base);
}

/* Stopping runs the work still queued; pool_loop_free gives each task
 * whose done was due done(t, 0); then the pool takes nothing more. */
static void
test_stop(void)
{
	static struct task tasks[TASKS];
	struct task late;
	struct counts c = { .wait_ms = 0 };
	struct event_base *base = event_base_new();
	struct pool *p = pool_new(2);
	struct pool_loop *l = p != NULL ? pool_loop_new(p, base) : NULL;
	size_t i;

	CHECK(l != NULL);
	if (l == NULL) {
		pool_free(p);
		event_base_free(base);
		return;
	}
	submit_all(l, tasks, TASKS, &c);
	pool_stop(p);           /* the loop never ran */
	for (i = 0; i < TASKS; i++)
		CHECK_EQ_INT(tasks[i].worked, 1);
	CHECK_EQ_INT(c.done, 0);
	memset(&late, 0, sizeof(late));
	late.t.work = work;
	late.t.done = done;
	late.c = &c;
	CHECK_EQ_INT(pool_submit(l, &late.t), -1);
	pool_loop_free(l);
	CHECK_EQ_INT(c.done, TASKS);
	for (i = 0; i < TASKS; i++) {
		CHECK_EQ_INT(tasks[i].done, 1);
		CHECK_EQ_INT(tasks[i].ran, 0);
	}
	CHECK_EQ_INT(late.worked, 0);
	CHECK_EQ_INT(late.done, 0);
	pool_free(p);
	event_base_free(base);
}

/* pool_inline: 1 only when nothing is queued or running and no other
 * caller runs one itself. */
static void
test_inline(void)
{
	struct counts c = { .wait_ms = 100 };
	struct event_base *base = event_base_new();
	struct pool *p = pool_new(1);
	struct pool_loop *l = p != NULL ? pool_loop_new(p, base) : NULL;
	struct task x;

	CHECK(l != NULL);
	if (l == NULL)
		goto out;
	CHECK_EQ_INT(pool_inline(p), 1);
	CHECK_EQ_INT(pool_inline(p), 0);        /* one runs already */
	pool_inline_done(p);
	CHECK_EQ_INT(pool_inline(p), 1);
	pool_inline_done(p);
	memset(&x, 0, sizeof(x));
	x.t.work = work;
	x.t.done = done;
	x.submitter = pthread_self();
	x.c = &c;
	CHECK_EQ_INT(pool_submit(l, &x.t), 0);
	CHECK_EQ_INT(pool_inline(p), 0);        /* a task is in the pool */
	lt_run_until(base, &x.done, 5000);
	CHECK_EQ_INT(x.done, 1);
	CHECK_EQ_INT(pool_inline(p), 1);        /* idle again */
	pool_inline_done(p);
	CHECK_EQ_INT(pool_inline(NULL), 0);
out:
	pool_stop(p);
	pool_loop_free(l);
	pool_free(p);
	event_base_free(base);
}

static void
test_bad_size(void)
{
	CHECK(pool_new(0) == NULL);
	CHECK(pool_new(POOL_MAX_THREADS + 1) == NULL);
}

int
main(void)
{
	test_round_trip();
	test_stop();
	test_inline();
	test_bad_size();
	return CHECK_DONE();
}
