/*
 * validate.c: the glue between acme/'s validation jobs and server/'s
 * fetchers. One validator per event loop owns that loop's resolver and its
 * http-01 and tls-alpn-01 clients; the deny list is the server's.
 * A job waits out its delay (a retry), runs one fetch for its challenge
 * type, then, when the fetch succeeded and acme/ asked for it, finds the
 * relevant CAA set; the result goes back to acme/ with the time it
 * finished. Nothing here judges content: a body, TXT value or certificate
 * that does not match is acme/'s finding (RFC 8555 §8).
 *
 * A job starts the moment it is queued: the request that queued it kicks
 * its loop's validator, and when that one is full it wakes the other
 * loops' (server_wake_validators); a finished job frees its place and
 * kicks again at once, for a retry acme/ queued or a job held back by the
 * cap. Once a result is stored, the answers held on it are woken
 * (holds_notify). A one-second tick on every loop remains as a safety net
 * only: nothing waits on it.
 */
#include "validate.h"
#include "caa.h"
#include "hold.h"
#include "denylist.h"
#include "dns01.h"
#include "http01.h"
#include "resolver.h"
#include "server_internal.h"
#include "tlsalpn01.h"
#include "metrics.h"
#include "pool.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "acme.h"

#define VALIDATE_TICK_SECS 1

struct validator_job {
	struct validator *v;
	struct acme_validation job;
	struct event *delay_ev;
	struct http01_fetch *http01;
	struct dns01_fetch *dns01;
	struct tlsalpn01_fetch *tlsalpn01;
	struct caa_lookup *caa;
	/* The challenge's result, copied to outlive its fetch while CAA is
	 * looked up; every pointer in r points into the fields below. */
	struct acme_validation_result r;
	uint8_t *body;
	char **txt;
	uint8_t *cert;
	char alpn[256];
	struct acme_caa_record *caa_recs;
	struct timespec started;       /* when the fetch began (monotonic) */
	struct pool_task task;         /* storing the result (job_report) */
	enum acme_validation_outcome outcome; /* what acme/ judged, on the pool */
	struct validator_job *prev, *next;
};

struct validator {
	struct event_base *base;
	struct acme *acme;
	struct resolver *res;
	const struct denylist *deny;   /* the server's, shared by every loop */
	struct http01_client *http01;
	struct tlsalpn01_client *tlsalpn01;
	struct event *tick;            /* looks at the queue every second */
	struct event *kick;            /* looks at it once the caller is done */
	struct validator_job *jobs;    /* waiting or running */
	size_t n_active;
	struct metrics *metrics;       /* may be NULL */
	struct holds *holds;           /* answers waiting on results, or NULL */
	void (*full)(void *arg);       /* full after a job finished, or NULL */
	void *full_arg;
	struct pool_loop *pool;        /* stores results off the loop, or NULL */
};

static const char *
type_name(enum acme_challenge_type t)
{
	switch (t) {
	case ACME_CHALL_HTTP01:    return "http-01";
	case ACME_CHALL_DNS01:     return "dns-01";
	case ACME_CHALL_TLSALPN01: return "tls-alpn-01";
	}
	return "unknown";
}

/* ---- a job's life ---- */

static void
job_link(struct validator *v, struct validator_job *j)
{
	j->next = v->jobs;
	if (v->jobs != NULL)
		v->jobs->prev = j;
	v->jobs = j;
	v->n_active++;
}

/* Unlinks j, stops whatever it runs, frees it. */
static void
job_free(struct validator_job *j)
{
	struct validator *v = j->v;
	size_t i;

	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		v->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	v->n_active--;
	if (j->delay_ev != NULL)
		event_free(j->delay_ev);
	http01_fetch_cancel(j->http01);
	dns01_fetch_cancel(j->dns01);
	tlsalpn01_fetch_cancel(j->tlsalpn01);
	caa_lookup_cancel(j->caa);
	free(j->body);
	for (i = 0; j->txt != NULL && i < j->r.n_txt; i++)
		free(j->txt[i]);
	free(j->txt);
	free(j->cert);
	free(j->caa_recs);
	free(j);
}

/* A one-line summary of what was found, for the log. */
static void
result_summary(const struct acme_validation *job,
    const struct acme_validation_result *r, char *out, size_t outsz)
{
	char detail[300], alpn[64];
	size_t len;

	if (r->status != ACME_FETCH_OK) {
		log_escape(r->detail, detail, sizeof(detail));
		snprintf(out, outsz, "%s", detail);
		return;
	}
	switch (job->type) {
	case ACME_CHALL_HTTP01:
		snprintf(out, outsz, "HTTP %d, %zu bytes", r->http_status, r->body_len);
		break;
	case ACME_CHALL_DNS01:
		snprintf(out, outsz, "%zu TXT record%s", r->n_txt,
		    r->n_txt == 1 ? "" : "s");
		break;
	case ACME_CHALL_TLSALPN01:
		log_escape(r->alpn != NULL ? r->alpn : "none", alpn, sizeof(alpn));
		snprintf(out, outsz, "ALPN %s, certificate of %zu bytes", alpn,
		    r->peer_cert_len);
		break;
	}
	if (!job->check_caa || (len = strlen(out)) >= outsz)
		return;
	if (r->caa_status == ACME_FETCH_OK) {
		snprintf(out + len, outsz - len, "; %zu CAA record%s", r->n_caa,
		    r->n_caa == 1 ? "" : "s");
	} else {
		log_escape(r->caa_detail, detail, sizeof(detail));
		snprintf(out + len, outsz - len, "; CAA lookup failed: %s", detail);
	}
}

/* Copies r into j->r (and the buffers behind it). 0, or -1. */
static int
result_keep(struct validator_job *j, const struct acme_validation_result *r)
{
	j->r = *r;
	j->r.body = NULL;
	j->r.txt = NULL;
	j->r.n_txt = 0;
	j->r.peer_cert = NULL;
	j->r.alpn = NULL;
	if (r->body_len > 0) {
		if ((j->body = malloc(r->body_len)) == NULL)
			return -1;
		memcpy(j->body, r->body, r->body_len);
		j->r.body = j->body;
	}
	if (r->n_txt > 0) {
		if ((j->txt = calloc(r->n_txt, sizeof(*j->txt))) == NULL)
			return -1;
		j->r.txt = (const char *const *)j->txt;
		for (; j->r.n_txt < r->n_txt; j->r.n_txt++)
			if ((j->txt[j->r.n_txt] = strdup(r->txt[j->r.n_txt])) == NULL)
				return -1;
	}
	if (r->peer_cert_len > 0) {
		if ((j->cert = malloc(r->peer_cert_len)) == NULL)
			return -1;
		memcpy(j->cert, r->peer_cert, r->peer_cert_len);
		j->r.peer_cert = j->cert;
	}
	if (r->alpn != NULL) {
		snprintf(j->alpn, sizeof(j->alpn), "%s", r->alpn);
		j->r.alpn = j->alpn;
	}
	return 0;
}

/* After acme/ judged j's result r as o: logs it once, counts it, frees j
 * and takes the next jobs. */
static void
job_reported(struct validator_job *j, const struct acme_validation_result *r,
    enum acme_validation_outcome o)
{
	struct validator *v = j->v;
	char ident[128], summary[512];
	struct timespec t1;

	log_escape(j->job.identifier, ident, sizeof(ident));
	result_summary(&j->job, r, summary, sizeof(summary));
	log_req("info", j->job.request_id, "validation %s: %s %s%s (try %u): %s: "
	    "%s", j->job.challenge_id, type_name(j->job.type),
	    j->job.wildcard ? "*." : "", ident, j->job.attempt + 1, summary,
	    acme_validation_outcome_name(o));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (v->metrics != NULL)
		metrics_validation(v->metrics, j->job.type, o,
		    (long long)(t1.tv_sec - j->started.tv_sec) * 1000000 +
		    (t1.tv_nsec - j->started.tv_nsec) / 1000);
	job_free(j);
	/* A retry acme/ queued, or jobs held back by the cap; from the loop,
	 * so jobs failing at once never recurse. */
	event_active(v->kick, EV_WRITE, 0);
}

/* Hands r to acme/, which judges and stores it (and may queue a retry),
 * and wakes the answers held on it. */
static enum acme_validation_outcome
job_judge(struct validator_job *j, const struct acme_validation_result *r)
{
	enum acme_validation_outcome o;

	o = acme_validation_done(j->v->acme, &j->job, r, time(NULL));
	if (o != ACME_VALIDATION_RETRY)
		holds_notify(j->v->holds, j->job.challenge_id);
	return o;
}

/* The job whose result task t stores. */
static struct validator_job *
job_of(struct pool_task *t)
{
	return (struct validator_job *)((char *)t -
	    offsetof(struct validator_job, task));
}

static void
report_work(struct pool_task *t)
{
	struct validator_job *j = job_of(t);

	j->outcome = job_judge(j, &j->r);
}

static void
report_done(struct pool_task *t, int ran)
{
	/* not ran: shutting down; the job is still the validator's to free */
	if (ran)
		job_reported(job_of(t), &job_of(t)->r, job_of(t)->outcome);
}

/* Reports j's result r: on the pool (pool.h), since storing it waits on
 * a commit, with r copied into j first (it may point into a fetch that
 * ends when this returns); here when the pool is idle (pool_inline), or
 * when the copy cannot be made. */
static void
job_report(struct validator_job *j, const struct acme_validation_result *r)
{
	struct validator *v = j->v;
	enum acme_validation_outcome o;
	int here = pool_inline(pool_of(v->pool));

	if (!here && v->pool != NULL && (r == &j->r || result_keep(j, r) == 0)) {
		j->task.work = report_work;
		j->task.done = report_done;
		if (pool_submit(v->pool, &j->task) == 0)
			return;
	}
	o = job_judge(j, r);
	if (here)
		pool_inline_done(pool_of(v->pool));
	job_reported(j, r, o);
}

/* Reports a job that could not start as a failed fetch of status st. */
static void
job_fail_now(struct validator_job *j, enum acme_fetch_status st,
    const char *detail)
{
	struct acme_validation_result r;

	memset(&r, 0, sizeof(r));
	r.status = st;
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	job_report(j, &r);
}

static void
caa_done(enum acme_fetch_status st, const char *detail,
    const struct acme_caa_record *recs, size_t n, void *arg)
{
	struct validator_job *j = arg;

	j->caa = NULL;
	j->r.caa_status = st;
	if (st != ACME_FETCH_OK)
		snprintf(j->r.caa_detail, sizeof(j->r.caa_detail), "%s", detail);
	if (n > 0 && (j->caa_recs = calloc(n, sizeof(*recs))) != NULL) {
		memcpy(j->caa_recs, recs, n * sizeof(*recs));
		j->r.caa = j->caa_recs;
		j->r.n_caa = n;
	} else if (n > 0) {
		j->r.caa_status = ACME_FETCH_DNS;
		snprintf(j->r.caa_detail, sizeof(j->r.caa_detail), "out of memory");
	}
	job_report(j, &j->r);
}

/* The challenge's fetch ended: report, or look up CAA first (RFC 8659). */
static void
fetch_done(struct validator_job *j, const struct acme_validation_result *r)
{
	if (r->status != ACME_FETCH_OK || !j->job.check_caa) {
		job_report(j, r);
		return;
	}
	if (result_keep(j, r) != 0) {
		job_fail_now(j, ACME_FETCH_CONNECTION, "internal error keeping the "
		    "validation result");
		return;
	}
	j->caa = caa_lookup_start(j->v->res, j->job.identifier, caa_done, j);
	if (j->caa == NULL) {
		j->r.caa_status = ACME_FETCH_DNS;
		snprintf(j->r.caa_detail, sizeof(j->r.caa_detail), "the CAA lookup "
		    "could not start");
		job_report(j, &j->r);
	}
}

static void
http01_done(const struct acme_validation_result *r, void *arg)
{
	struct validator_job *j = arg;

	j->http01 = NULL;
	fetch_done(j, r);
}

static void
dns01_done(const struct acme_validation_result *r, void *arg)
{
	struct validator_job *j = arg;

	j->dns01 = NULL;
	fetch_done(j, r);
}

static void
tlsalpn01_done(const struct acme_validation_result *r, void *arg)
{
	struct validator_job *j = arg;

	j->tlsalpn01 = NULL;
	fetch_done(j, r);
}

/* Starts the job's fetch; on failure to start, reports it. */
static void
job_run(struct validator_job *j)
{
	struct validator *v = j->v;
	const struct acme_validation *job = &j->job;
	int started = 0;

	clock_gettime(CLOCK_MONOTONIC, &j->started);
	switch (job->type) {
	case ACME_CHALL_HTTP01:
		j->http01 = http01_fetch_start(v->http01, job->identifier,
		    job->ident_is_ip, job->token, http01_done, j);
		started = j->http01 != NULL;
		break;
	case ACME_CHALL_DNS01:
		if (!job->ident_is_ip)
			j->dns01 = dns01_fetch_start(v->res, job->identifier,
			    dns01_done, j);
		started = j->dns01 != NULL;
		break;
	case ACME_CHALL_TLSALPN01:
		j->tlsalpn01 = tlsalpn01_fetch_start(v->tlsalpn01, job->identifier,
		    job->ident_is_ip, tlsalpn01_done, j);
		started = j->tlsalpn01 != NULL;
		break;
	}
	if (!started)
		job_fail_now(j, job->type == ACME_CHALL_DNS01 ? ACME_FETCH_DNS :
		    ACME_FETCH_CONNECTION, "the validation could not start (an "
		    "unusable identifier or token, or out of resources)");
}

static void
delay_cb(evutil_socket_t fd, short what, void *arg)
{
	job_run(arg);
}

static void
job_start(struct validator *v, const struct acme_validation *job)
{
	struct validator_job *j;
	struct timeval tv;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		/* Handed back as a transient failure, which acme/ retries. */
		struct acme_validation_result r;

		memset(&r, 0, sizeof(r));
		r.status = ACME_FETCH_CONNECTION;
		snprintf(r.detail, sizeof(r.detail), "internal error: out of memory");
		log_req("error", job->request_id, "validation %s: out of memory",
		    job->challenge_id);
		acme_validation_done(v->acme, job, &r, time(NULL));
		return;
	}
	j->v = v;
	j->job = *job;
	job_link(v, j);
	if (job->delay == 0) {
		job_run(j);
		return;
	}
	/* A retry: wait, without holding up the loop (acme/ set the delay). */
	tv.tv_sec = job->delay;
	tv.tv_usec = 0;
	if ((j->delay_ev = evtimer_new(v->base, delay_cb, j)) == NULL ||
	    evtimer_add(j->delay_ev, &tv) != 0)
		job_run(j);
}

/* ---- public ---- */

int
validator_kick(struct validator *v)
{
	struct acme_validation job;

	if (v == NULL)
		return 0;
	while (v->n_active < VALIDATE_MAX_ACTIVE) {
		if (acme_validation_next(v->acme, &job) != 1)
			return 0;
		job_start(v, &job);
	}
	return 1;
}

void
validator_link(struct validator *v, struct holds *holds,
    struct pool_loop *pool, void (*full)(void *arg), void *arg)
{
	v->holds = holds;
	v->pool = pool;
	v->full = full;
	v->full_arg = arg;
}

/* The tick, and (EV_WRITE) the kick after a job finished. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct validator *v = arg;

	if (validator_kick(v) != 0 && (what & EV_WRITE) && v->full != NULL)
		v->full(v->full_arg);
}

/* Each challenge fetcher, on v's resolver and deny list. 0, or -1 logged. */
static int
fetchers_new(struct validator *v, const struct config *cfg)
{
	struct http01_options ho;
	struct tlsalpn01_options to;

	memset(&ho, 0, sizeof(ho));
	ho.port = (unsigned)cfg->http01_port;
	ho.deny = v->deny;
	if ((v->http01 = http01_client_new(v->base, v->res, &ho)) == NULL) {
		log_error("cannot set up http-01 validation");
		return -1;
	}
	memset(&to, 0, sizeof(to));
	to.port = (unsigned)cfg->tlsalpn01_port;
	to.deny = v->deny;
	if ((v->tlsalpn01 = tlsalpn01_client_new(v->base, v->res, &to)) == NULL) {
		log_error("cannot set up tls-alpn-01 validation");
		return -1;
	}
	return 0;
}

struct validator *
validator_new(struct event_base *base, struct acme *a, const struct config *cfg,
    const struct denylist *deny, struct metrics *metrics)
{
	struct validator *v;
	struct resolver_options ro;
	struct timeval tick = { VALIDATE_TICK_SECS, 0 };
	char err[256];

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->base = base;
	v->acme = a;
	v->deny = deny;
	v->metrics = metrics;
	memset(&ro, 0, sizeof(ro));
	ro.servers = cfg->resolver;
	if ((v->res = resolver_new(base, &ro, err, sizeof(err))) == NULL) {
		log_error("validation resolver%s%s: %s", cfg->resolver != NULL ?
		    " " : "", cfg->resolver != NULL ? cfg->resolver : "", err);
		goto fail;
	}
	if (fetchers_new(v, cfg) != 0)
		goto fail;
	if ((v->kick = event_new(base, -1, 0, tick_cb, v)) == NULL ||
	    (v->tick = event_new(base, -1, EV_PERSIST, tick_cb, v)) == NULL ||
	    event_add(v->tick, &tick) != 0) {
		log_error("cannot set up the validation timer");
		goto fail;
	}
	return v;
fail:
	validator_free(v);
	return NULL;
}

void
validator_free(struct validator *v)
{
	if (v == NULL)
		return;
	while (v->jobs != NULL)
		job_free(v->jobs);
	if (v->tick != NULL)
		event_free(v->tick);
	if (v->kick != NULL)
		event_free(v->kick);
	http01_client_free(v->http01);
	tlsalpn01_client_free(v->tlsalpn01);
	resolver_free(v->res);
	free(v);
}
