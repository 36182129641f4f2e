/*
 * cleanup.c: the timer on the main loop that has acme/ remove expired
 * orders, authorizations and certificates (acme_cleanup) a small batch at a
 * time, so the store stays the size of what clients can still use and no
 * request waits behind a long transaction. The same timer, and the start,
 * have acme/ take over validations no live process runs
 * (acme_validations_sweep): those a previous run left, and, with replicas,
 * those of a replica that died.
 */
#include "serve.h"
#include "server_internal.h"

#include <event2/event.h>

#include "acme.h"

#define CLEANUP_INTERVAL 2    /* seconds between rounds */
#define CLEANUP_ROUNDS   8    /* batches per round at most */

/* Queues the validations whose lease lapsed; logs what it took over. */
static void
sweep(struct server *s, time_t now)
{
	int n = acme_validations_sweep(s->acme, now);

	if (n > 0)
		log_info("took over %d validation%s left by a stopped server", n,
		    n == 1 ? "" : "s");
	else if (n < 0)
		log_warn("validation takeover failed (%d); retrying in %d s", n,
		    CLEANUP_INTERVAL);
}

static void
cleanup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	time_t now = time(NULL);
	int i, n;

	sweep(s, now);
	for (i = 0; i < CLEANUP_ROUNDS; i++) {
		if ((n = acme_cleanup(s->acme, now)) < 0) {
			log_warn("cleanup of expired records failed (%d); "
			    "retrying in %d s", n, CLEANUP_INTERVAL);
			break;
		}
		if (n == 0)
			break;
	}
}

int
server_cleanup_start(struct server *s)
{
	struct timeval tv = { CLEANUP_INTERVAL, 0 };

	sweep(s, time(NULL));
	s->cleanup = event_new(s->main_base, -1, EV_PERSIST, cleanup_cb, s);
	return s->cleanup != NULL && event_add(s->cleanup, &tv) == 0 ? 0 : -1;
}

void
server_cleanup_stop(struct server *s)
{
	if (s->cleanup != NULL)
		event_free(s->cleanup);
	s->cleanup = NULL;
}
