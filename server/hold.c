/*
 * hold.c: answers held until the validation they wait on ends (hold.h).
 * Owns the table of held answers by validation, the per-loop lists and
 * wake-ups, and each hold's life: armed in the table, woken by
 * holds_notify() from whichever loop ran the validation, rendered again
 * by acme/ (acme_refresh) and sent; or ended by --hold-max or by the
 * client closing its connection. Protocol decisions stay in acme/: a hold
 * only chooses when an answer goes, never what it says.
 *
 * Threads: the table, the fired lists and the account counts are under
 * holds.lock; a hold's answer is touched only by its loop, and only while
 * the hold is in neither the table nor a fired list. A validation that
 * ends between acme_handle() and the arming of its hold is caught by the
 * sequence number each bucket keeps of its last notification.
 */
#include "hold.h"
#include "serve.h"
#include "validate.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#define HOLD_REFRESHES 3   /* renders in a row before an answer just goes */

enum hold_place { HOLD_OUT, HOLD_WAITING, HOLD_FIRED };

struct hold {
	struct http_pending p;
	struct hold_loop *loop;
	struct event *timer;            /* --hold-max */
	struct event *watch;            /* the client's socket, for its close */
	unsigned bucket;                /* of p.resp.wait.challenge */
	unsigned account;               /* slot in holds.accounts */
	enum hold_place place;          /* under holds.lock */
	struct hold *prev, *next;       /* in a bucket or a fired list (lock) */
	struct hold *lprev, *lnext;     /* in its loop's list (loop thread) */
};

struct hold_loop {
	struct holds *h;
	struct event_base *base;
	struct validator *v;
	int efd;                        /* eventfd: the wake-up */
	struct event *wake;
	struct hold *fired;             /* woken holds, under h->lock */
	int rung;                       /* under h->lock: efd written */
	struct hold *all;               /* every hold of the loop */
	size_t n;
};

struct holds {
	struct acme *acme;
	struct metrics *metrics;
	long max_ms;
	uint64_t key;                   /* keys the hashes */
	pthread_mutex_t lock;
	_Atomic unsigned long long seq;
	unsigned long long bucket_seq[HOLD_BUCKETS];
	struct hold *bucket[HOLD_BUCKETS];
	uint16_t accounts[HOLD_ACCOUNT_SLOTS];
};

/* FNV-1a over the key and s. */
static uint64_t
hash(uint64_t key, const char *s)
{
	uint64_t v = 14695981039346656037ULL ^ key;

	while (*s != '\0') {
		v ^= (unsigned char)*s++;
		v *= 1099511628211ULL;
	}
	return v;
}

/* ---- the table (h->lock held) ---- */

static struct hold **
list_of(struct hold *x)
{
	return x->place == HOLD_WAITING ? &x->loop->h->bucket[x->bucket] :
	    &x->loop->fired;
}

static void
list_put(struct hold **head, struct hold *x)
{
	x->prev = NULL;
	x->next = *head;
	if (*head != NULL)
		(*head)->prev = x;
	*head = x;
}

static void
list_take(struct hold *x)
{
	struct hold **head;

	if (x->place == HOLD_OUT)
		return;
	head = list_of(x);
	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		*head = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	x->place = HOLD_OUT;
}

/* Takes x out of the table or fired list: its loop alone has it then. */
static void
hold_out(struct hold *x)
{
	struct holds *h = x->loop->h;

	pthread_mutex_lock(&h->lock);
	list_take(x);
	pthread_mutex_unlock(&h->lock);
}

/* Waits for x's validation: 0, or -1 (not armed) when a validation that
 * hashes alike ended since seq: the answer may be out of date. */
static int
hold_arm(struct hold *x, unsigned long long seq)
{
	struct holds *h = x->loop->h;
	int stale;

	x->bucket = (unsigned)(hash(h->key, x->p.resp.wait.challenge) %
	    HOLD_BUCKETS);
	pthread_mutex_lock(&h->lock);
	stale = h->bucket_seq[x->bucket] > seq;
	if (!stale) {
		x->place = HOLD_WAITING;
		list_put(&h->bucket[x->bucket], x);
	}
	pthread_mutex_unlock(&h->lock);
	return stale ? -1 : 0;
}

/* ---- a hold's end ---- */

/* Frees x's events and forgets its connection's close callback. */
static void
hold_detach(struct hold *x)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(x->p.req);
	struct hold_loop *l = x->loop;

	if (x->timer != NULL)
		event_free(x->timer);
	if (x->watch != NULL)
		event_free(x->watch);
	x->timer = x->watch = NULL;
	if (conn != NULL)
		evhttp_connection_set_closecb(conn, NULL, NULL);
	if (x->lprev != NULL)
		x->lprev->lnext = x->lnext;
	else
		l->all = x->lnext;
	if (x->lnext != NULL)
		x->lnext->lprev = x->lprev;
	l->n--;
	pthread_mutex_lock(&l->h->lock);
	list_take(x);
	if (l->h->accounts[x->account] > 0)
		l->h->accounts[x->account]--;
	pthread_mutex_unlock(&l->h->lock);
}

/* Sends x's answer as it stands and frees x. */
static void
hold_end(struct hold *x, enum metrics_hold_outcome outcome)
{
	hold_detach(x);
	metrics_hold(x->loop->h->metrics, outcome);
	http_pending_send(&x->p);
	free(x);
}

/* Renders x's object again; sends it unless it still waits on a
 * validation, then holds it again. x is out of every list. */
static void
hold_check(struct hold *x)
{
	struct holds *h = x->loop->h;
	unsigned long long seq;
	int i;

	for (i = 0; i < HOLD_REFRESHES; i++) {
		seq = holds_seq(h);
		if (acme_refresh(h->acme, x->p.base, time(NULL), &x->p.resp) != 0 ||
		    x->p.resp.wait.kind == ACME_WAIT_NONE)
			break;
		if (hold_arm(x, seq) == 0)
			return;
	}
	hold_end(x, METRICS_HOLD_ANSWERED);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hold *x = arg;

	hold_out(x);
	/* as the object stands now, Retry-After from its due time */
	(void)acme_refresh(x->loop->h->acme, x->p.base, time(NULL), &x->p.resp);
	hold_end(x, METRICS_HOLD_CAP);
}

/* The client's socket is readable: its end of the connection closed (the
 * answer still goes, for a client that only shut down its sending side),
 * or it sent more, which evhttp reads after the answer. */
static void
watch_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hold *x = arg;
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		(void)event_add(x->watch, NULL);
		return;
	}
	if (n > 0)
		return;     /* data: watched no more; the cap ends the hold */
	hold_out(x);
	hold_end(x, METRICS_HOLD_CLOSED);
}

/* evhttp is freeing the connection (an error, or the request deadline). */
static void
conn_closed_cb(struct evhttp_connection *conn, void *arg)
{
	struct hold *x = arg;

	if (x->watch != NULL) {
		event_free(x->watch);   /* before its descriptor closes */
		x->watch = NULL;
	}
	if (evhttp_request_get_connection(x->p.req) == NULL) {
		/* detached from the connection: sending frees it */
		hold_end(x, METRICS_HOLD_CLOSED);
		return;
	}
	/* still on the connection, which frees it: only forget it */
	hold_detach(x);
	metrics_hold(x->loop->h->metrics, METRICS_HOLD_CLOSED);
	acme_response_clear(&x->p.resp);
	free(x);
}

/* The descriptor of the client's socket below the TLS filter, or -1. */
static evutil_socket_t
client_fd(struct evhttp_connection *conn)
{
	struct bufferevent *bev = conn != NULL ?
	    evhttp_connection_get_bufferevent(conn) : NULL;
	struct bufferevent *under = bev != NULL ?
	    bufferevent_get_underlying(bev) : NULL;

	if (bev == NULL)
		return -1;
	return bufferevent_getfd(under != NULL ? under : bev);
}

/* The timer, the close watch and the close callback of x. 0 or -1. */
static int
hold_events(struct hold *x)
{
	struct hold_loop *l = x->loop;
	struct evhttp_connection *conn = evhttp_request_get_connection(x->p.req);
	struct timeval tv;
	evutil_socket_t fd = client_fd(conn);

	if (conn == NULL)
		return -1;
	tv.tv_sec = l->h->max_ms / 1000;
	tv.tv_usec = (suseconds_t)(l->h->max_ms % 1000) * 1000;
	if ((x->timer = evtimer_new(l->base, timer_cb, x)) == NULL ||
	    evtimer_add(x->timer, &tv) != 0)
		return -1;
	if (fd >= 0 && ((x->watch = event_new(l->base, fd, EV_READ, watch_cb,
	    x)) == NULL || event_add(x->watch, NULL) != 0))
		return -1;
	evhttp_connection_set_closecb(conn, conn_closed_cb, x);
	return 0;
}

/* ---- public ---- */

int
hold_start(struct hold_loop *l, struct http_pending *p)
{
	struct holds *h = l != NULL ? l->h : NULL;
	struct hold *x;
	unsigned slot;
	int ok;

	if (h == NULL || h->max_ms <= 0 || p->resp.wait.kind == ACME_WAIT_NONE)
		return -1;
	slot = (unsigned)(hash(h->key, p->resp.wait.account) % HOLD_ACCOUNT_SLOTS);
	pthread_mutex_lock(&h->lock);
	if ((ok = l->n < HOLD_MAX_PER_LOOP &&
	    h->accounts[slot] < HOLD_MAX_PER_ACCOUNT))
		h->accounts[slot]++;
	pthread_mutex_unlock(&h->lock);
	if (!ok || (x = calloc(1, sizeof(*x))) == NULL) {
		if (ok) {
			pthread_mutex_lock(&h->lock);
			h->accounts[slot]--;
			pthread_mutex_unlock(&h->lock);
		}
		metrics_hold(h->metrics, METRICS_HOLD_REFUSED);
		return -1;
	}
	x->p = *p;
	x->loop = l;
	x->account = slot;
	x->lnext = l->all;
	if (l->all != NULL)
		l->all->lprev = x;
	l->all = x;
	l->n++;
	if (hold_events(x) != 0) {
		hold_detach(x);
		free(x);
		metrics_hold(h->metrics, METRICS_HOLD_REFUSED);
		return -1;      /* p still holds the answer */
	}
	metrics_hold_started(h->metrics);
	if (hold_arm(x, p->seq) != 0)
		hold_check(x);
	return 0;
}

unsigned long long
holds_seq(struct holds *h)
{
	return h != NULL ? atomic_load(&h->seq) : 0;
}

void
holds_notify(struct holds *h, const char *challenge_id)
{
	unsigned b;
	uint64_t one = 1;
	struct hold *x, *next;

	if (h == NULL || challenge_id == NULL)
		return;
	b = (unsigned)(hash(h->key, challenge_id) % HOLD_BUCKETS);
	pthread_mutex_lock(&h->lock);
	h->bucket_seq[b] = atomic_fetch_add(&h->seq, 1) + 1;
	for (x = h->bucket[b]; x != NULL; x = next) {
		next = x->next;
		if (strcmp(x->p.resp.wait.challenge, challenge_id) != 0)
			continue;
		list_take(x);
		x->place = HOLD_FIRED;
		list_put(&x->loop->fired, x);
		if (!x->loop->rung && write(x->loop->efd, &one, sizeof(one)) ==
		    (ssize_t)sizeof(one))
			x->loop->rung = 1;
	}
	pthread_mutex_unlock(&h->lock);
}

/* The loop's wake-up: the holds woken, then the validator. */
static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct hold_loop *l = arg;
	struct hold *list, *x, *next;
	uint64_t n;

	(void)read(l->efd, &n, sizeof(n));
	pthread_mutex_lock(&l->h->lock);
	list = l->fired;
	l->fired = NULL;
	l->rung = 0;
	for (x = list; x != NULL; x = x->next)
		x->place = HOLD_OUT;
	pthread_mutex_unlock(&l->h->lock);
	for (x = list; x != NULL; x = next) {
		next = x->next;
		x->prev = x->next = NULL;
		hold_check(x);
	}
	validator_kick(l->v);
}

void
hold_loop_wake(struct hold_loop *l)
{
	uint64_t one = 1;

	if (l != NULL)
		(void)write(l->efd, &one, sizeof(one));
}

struct hold_loop *
hold_loop_new(struct holds *h, struct event_base *base, struct validator *v)
{
	struct hold_loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->h = h;
	l->base = base;
	l->v = v;
	if ((l->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    (l->wake = event_new(base, l->efd, EV_READ | EV_PERSIST, wake_cb,
	    l)) == NULL || event_add(l->wake, NULL) != 0) {
		log_error("cannot set up a loop's wake-up: %s", strerror(errno));
		hold_loop_free(l);
		return NULL;
	}
	return l;
}

void
hold_loop_free(struct hold_loop *l)
{
	struct hold *x;

	if (l == NULL)
		return;
	while ((x = l->all) != NULL) {
		hold_detach(x);
		/* a request no connection owns any more is this loop's to free */
		if (evhttp_request_get_connection(x->p.req) == NULL)
			evhttp_request_free(x->p.req);
		acme_response_clear(&x->p.resp);
		free(x);
	}
	if (l->wake != NULL)
		event_free(l->wake);
	if (l->efd >= 0)
		close(l->efd);
	free(l);
}

struct holds *
holds_new(struct acme *a, struct metrics *metrics, long max_ms)
{
	struct holds *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->acme = a;
	h->metrics = metrics;
	h->max_ms = max_ms;
	if (crypto_random(&h->key, sizeof(h->key)) != 0) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void
holds_free(struct holds *h)
{
	if (h == NULL)
		return;
	pthread_mutex_destroy(&h->lock);
	free(h);
}
