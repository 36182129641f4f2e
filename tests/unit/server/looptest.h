/*
 * looptest.h: running a libevent loop until a callback has run, for the
 * server tests. Test code only.
 */
#ifndef HEARTH_LOOPTEST_H
#define HEARTH_LOOPTEST_H

#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver.h"

static inline long
lt_ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)((t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000);
}

/* Runs base until *done or ms pass. */
static inline void
lt_run_until(struct event_base *base, const int *done, int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*done && lt_ms_since(&t0) < ms) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(500);
	}
}

#define CHECK_CONTAINS(s, sub) do { \
	CHECK(strstr((s), (sub)) != NULL); \
	if (strstr((s), (sub)) == NULL) \
		fprintf(stderr, "  \"%s\" does not contain \"%s\"\n", (s), (sub)); \
} while (0)

/* A new event base in *base and a resolver on it asking only servers
 * (challtestsrv's DNS); NULL when either cannot be made. */
static inline struct resolver *
lt_resolver(struct event_base **base, const char *servers)
{
	struct resolver_options ro;
	char err[128];

	if ((*base = event_base_new()) == NULL)
		return NULL;
	memset(&ro, 0, sizeof(ro));
	ro.servers = servers;
	return resolver_new(*base, &ro, err, sizeof(err));
}

#endif
