/*
 * pool.h: threads that run what waits. A request whose handling waits on a
 * durable store commit (LMDB's fsync, a PostgreSQL round trip) or on the
 * signer, and a validation's result being stored, run here instead of on
 * an event loop. A loop that waited itself would stop serving every other
 * connection it owns meanwhile, and the store's group commit would carry
 * at most one write per loop; with the pool the loops keep serving, and
 * as many writes as there are pool threads reach the store together.
 *
 * A task is submitted from an event loop; its work runs on a pool thread,
 * in submission order across the pool; then its done runs back on the
 * submitting loop, which a pool thread wakes through an eventfd.
 */
#ifndef HEARTH_POOL_H
#define HEARTH_POOL_H

struct event_base;
struct pool;
struct pool_loop;

#define POOL_MAX_THREADS 256

struct pool_task {
	/* On a pool thread: the part that may wait. */
	void (*work)(struct pool_task *t);
	/* On the submitting loop, after work (ran 1); or from
	 * pool_loop_free() for a task whose work ran but whose done could
	 * not (ran 0: the loop stopped first). */
	void (*done)(struct pool_task *t, int ran);
	struct pool_loop *loop;         /* set by pool_submit */
	struct pool_task *next;         /* the pool's */
};

/* A pool of n threads (1..POOL_MAX_THREADS), started. NULL on failure,
 * logged. */
struct pool *pool_new(unsigned n);
/* Runs the work of every task still queued, then ends the threads. Before
 * anything a task's work uses is freed. NULL ok. */
void pool_stop(struct pool *p);
/* After pool_stop() and every pool_loop_free(). NULL ok. */
void pool_free(struct pool *p);

/* The completions of the loop on base. NULL on failure, logged. */
struct pool_loop *pool_loop_new(struct pool *p, struct event_base *base);
/* After pool_stop(), with the loop no longer running: calls done(t, 0)
 * for every task whose done is still due, then frees l. NULL ok. */
void pool_loop_free(struct pool_loop *l);

/* The pool l belongs to. */
struct pool *pool_of(const struct pool_loop *l);

/* Queues t (work and done set) to run on the pool; from l's loop. 0, or
 * -1 when the pool is stopping (the caller then runs the task itself). */
int pool_submit(struct pool_loop *l, struct pool_task *t);

/* Whether the caller may run a task on its loop instead: 1 when nothing
 * is queued or running in the pool and no other loop runs one itself;
 * then pool_inline_done() when it is over. Alone, a task on the loop
 * holds up no other request's write and saves two thread hand-offs; under
 * load every task goes to the pool. Any loop. */
int pool_inline(struct pool *p);
void pool_inline_done(struct pool *p);

#endif
