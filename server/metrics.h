/*
 * metrics.h: the server's counters and histograms, and their rendering in
 * the Prometheus text format (version 0.0.4) for the admin listener.
 */
#ifndef HEARTH_METRICS_H
#define HEARTH_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "acme.h"
#include "crypto.h"
#include "store.h"

/* Histogram bucket bounds in microseconds (requests and validations). */
#define METRICS_BOUNDS_US { 1000, 2500, 5000, 10000, 25000, 50000, 100000, \
	250000, 500000, 1000000, 2500000, 5000000, 10000000, 30000000 }
#define METRICS_BUCKETS 15          /* the bounds, then +Inf */
#define METRICS_STATUSES 17         /* the statuses counted, then "other" */
#define METRICS_CHALL_TYPES 3       /* enum acme_challenge_type */
#define METRICS_MAX_OUTPUT (1024 * 1024)  /* a rendered page, at most */

/* How a held answer (hold.c) ended: the validation it waited on ended,
 * --hold-max passed, the client closed its connection, or it was not held
 * at all because a cap on holds was reached. */
enum metrics_hold_outcome {
	METRICS_HOLD_ANSWERED, METRICS_HOLD_CAP, METRICS_HOLD_CLOSED,
	METRICS_HOLD_REFUSED,
};
#define METRICS_HOLD_OUTCOMES 4

struct metrics_hist {
	_Atomic uint64_t buckets[METRICS_BUCKETS];   /* not cumulative */
	_Atomic uint64_t count, sum_us;
};

/*
 * Everything the loops add to. One instance per server, shared by all
 * threads: every update is one relaxed atomic addition, no lock; a scrape
 * reads each value once, so a page taken under traffic may be a few events
 * apart between series.
 */
struct metrics {
	_Atomic uint64_t requests[ACME_ROUTES][METRICS_STATUSES];
	struct metrics_hist latency[ACME_ROUTES];
	_Atomic uint64_t validations[METRICS_CHALL_TYPES][ACME_VALIDATION_OUTCOMES];
	struct metrics_hist validation_time[METRICS_CHALL_TYPES];
	_Atomic uint64_t holds_started;
	_Atomic uint64_t holds[METRICS_HOLD_OUTCOMES];
	_Atomic uint64_t tls_handshakes_ok, tls_handshakes_failed;
	_Atomic uint64_t pki_requests;
	_Atomic uint64_t admin_requests;
};

/* What a scrape reads besides the counters above, gathered by the caller. */
struct metrics_sources {
	time_t now;
	struct acme_stats acme;
	uint64_t revocations;           /* acme_revocation_count() */
	int revocations_ok;
	struct crypto_signer_stats signer;
	struct store_usage store;
	int store_ok;
	time_t crl_this_update;         /* 0: no CRL built yet */
	uint64_t crl_number;
	time_t intermediate_not_after;
	time_t tls_not_after;
	time_t started;
};

/* Counts one request of route (acme_route_of) that answered status after
 * us microseconds. */
void metrics_request(struct metrics *m, int route, int status, long long us);
/* Counts one finished validation of type that took us microseconds. */
void metrics_validation(struct metrics *m, enum acme_challenge_type type,
    enum acme_validation_outcome outcome, long long us);
/* Counts one answer held, or refused a hold. */
void metrics_hold(struct metrics *m, enum metrics_hold_outcome outcome);
/* Counts one hold begun. */
void metrics_hold_started(struct metrics *m);
/* Counts one server-side TLS handshake. */
void metrics_handshake(struct metrics *m, int ok);

/* A growing text buffer for the page. */
struct metrics_buf {
	char *p;
	size_t len, cap;
	int failed;                     /* out of memory or over the cap */
};
/* Appends printf-style text; sets b->failed instead of failing. */
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Renders every series into b (which the caller frees with free(b->p)).
 * 0, or -1 when b->failed. */
int metrics_render(const struct metrics *m, const struct metrics_sources *src,
    struct metrics_buf *b);

/* The index of an HTTP status among those counted (the last: other), and
 * its label ("200", ..., "other"). */
int metrics_status_index(int status);
const char *metrics_status_label(int index);

#endif
