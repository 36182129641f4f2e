/*
 * pool.c: the threads that run what waits (pool.h). One queue of tasks for
 * the pool, under one lock; one list of finished tasks per loop, under
 * the loop's lock, with an eventfd the pool rings when the list goes from
 * empty to not. The loop takes the whole list at once and runs each done
 * in the order the work ended.
 */
#include "pool.h"
#include "server_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <event2/event.h>

#ifndef SCHED_BATCH
#define SCHED_BATCH 3   /* Linux's, declared by <sched.h> only for _GNU_SOURCE */
#endif

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct pool_task *head, **tail; /* queued, under lock */
	int stopping;                   /* under lock */
	pthread_t *threads;
	unsigned n_threads;             /* started */
	atomic_uint busy;               /* tasks queued or running, and a
	                                   task run by its loop (pool_inline) */
};

struct pool_loop {
	struct pool *pool;
	int efd;
	struct event *wake;
	pthread_mutex_t lock;
	struct pool_task *head, **tail; /* finished, under lock */
};

/* Puts t on its loop's list; rings the loop when the list was empty. */
static void
finished(struct pool_task *t)
{
	struct pool_loop *l = t->loop;
	uint64_t one = 1;
	int ring;

	t->next = NULL;
	pthread_mutex_lock(&l->lock);
	ring = l->head == NULL;
	*l->tail = t;
	l->tail = &t->next;
	pthread_mutex_unlock(&l->lock);
	/* a full counter (never, at 2^64 - 2) still leaves it readable */
	if (ring)
		while (write(l->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
}

static void *
pool_run(void *arg)
{
	struct pool *p = arg;
	struct sched_param batch = { 0 };
	struct pool_task *t;

	(void)prctl(PR_SET_NAME, "hearth-store", 0, 0, 0);
	/* A task's thread wakes often and briefly: as a batch thread its
	 * wake-up does not preempt an event loop, which would have to wait
	 * for a core with connections ready (measured: a third fewer
	 * involuntary switches of the loops, about 5% less CPU per issuance). */
	(void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->cond, &p->lock);
		if ((t = p->head) == NULL)
			break;              /* stopping, and nothing left */
		if ((p->head = t->next) == NULL)
			p->tail = &p->head;
		pthread_mutex_unlock(&p->lock);
		t->work(t);
		atomic_fetch_sub(&p->busy, 1);
		finished(t);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	crypto_thread_cleanup();
	return NULL;
}

struct pool *
pool_new(unsigned n)
{
	struct pool *p;

	p = n >= 1 && n <= POOL_MAX_THREADS ? calloc(1, sizeof(*p)) : NULL;
	if (p == NULL || (p->threads = calloc(n, sizeof(*p->threads))) == NULL) {
		log_error("cannot set up %u threads for requests that wait", n);
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	p->tail = &p->head;
	for (; p->n_threads < n; p->n_threads++)
		if (pthread_create(&p->threads[p->n_threads], NULL, pool_run,
		    p) != 0) {
			log_error("cannot start a thread for requests that "
			    "wait: %s", strerror(errno));
			pool_stop(p);
			pool_free(p);
			return NULL;
		}
	return p;
}

void
pool_stop(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	p->n_threads = 0;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->threads);
	free(p);
}

/* The loop's eventfd was rung: every finished task's done, in order. */
static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pool_loop *l = arg;
	struct pool_task *t, *next;
	uint64_t v;

	(void)what;
	while (read(fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&l->lock);
	t = l->head;
	l->head = NULL;
	l->tail = &l->head;
	pthread_mutex_unlock(&l->lock);
	for (; t != NULL; t = next) {
		next = t->next;         /* done may free t */
		t->done(t, 1);
	}
}

struct pool_loop *
pool_loop_new(struct pool *p, struct event_base *base)
{
	struct pool_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto fail;
	l->pool = p;
	l->tail = &l->head;
	pthread_mutex_init(&l->lock, NULL);
	if ((l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
		pthread_mutex_destroy(&l->lock);
		free(l);
		goto fail;
	}
	if ((l->wake = event_new(base, l->efd, EV_READ | EV_PERSIST, wake_cb,
	    l)) == NULL || event_add(l->wake, NULL) != 0) {
		pool_loop_free(l);
		goto fail;
	}
	return l;
fail:
	log_error("cannot set up a loop's wake-up for requests that wait: %s",
	    strerror(errno));
	return NULL;
}

void
pool_loop_free(struct pool_loop *l)
{
	struct pool_task *t, *next;

	if (l == NULL)
		return;
	for (t = l->head; t != NULL; t = next) {
		next = t->next;
		t->done(t, 0);
	}
	if (l->wake != NULL)
		event_free(l->wake);
	close(l->efd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

struct pool *
pool_of(const struct pool_loop *l)
{
	return l != NULL ? l->pool : NULL;
}

int
pool_submit(struct pool_loop *l, struct pool_task *t)
{
	struct pool *p = l->pool;
	int ret = 0;

	t->loop = l;
	t->next = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->stopping || p->n_threads == 0)
		ret = -1;
	else {
		*p->tail = t;
		p->tail = &t->next;
		atomic_fetch_add(&p->busy, 1);
	}
	pthread_mutex_unlock(&p->lock);
	/* after the unlock: the thread woken does not wait for the lock */
	if (ret == 0)
		pthread_cond_signal(&p->cond);
	return ret;
}

int
pool_inline(struct pool *p)
{
	unsigned idle = 0;

	return p != NULL && atomic_compare_exchange_strong(&p->busy, &idle, 1);
}

void
pool_inline_done(struct pool *p)
{
	atomic_fetch_sub(&p->busy, 1);
}
