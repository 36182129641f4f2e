/*
 * validate.c: the glue between acme/'s validation jobs and server/'s
 * fetchers. One validator per event loop owns that loop's resolver and
 * http-01 client; a job runs as one fetch, and its result goes back to
 * acme/ with the time it finished. Nothing here judges content: a body that
 * does not match the key authorization is acme/'s finding (RFC 8555 §8.3).
 */
#include "validate.h"
#include "http01.h"
#include "resolver.h"
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"

struct validator_job {
	struct validator *v;
	struct acme_validation job;
	struct http01_fetch *fetch;
	struct validator_job *prev, *next;
};

struct validator {
	struct event_base *base;
	struct acme *acme;
	struct resolver *res;
	struct http01_client *http01;
	struct validator_job *jobs;    /* running */
	size_t n_active;
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

static void
job_unlink(struct validator_job *j)
{
	struct validator *v = j->v;

	if (j->prev != NULL)
		j->prev->next = j->next;
	else
		v->jobs = j->next;
	if (j->next != NULL)
		j->next->prev = j->prev;
	v->n_active--;
}

/* Logs the outcome once and reports it to acme/. */
static void
job_report(struct validator *v, const struct acme_validation *job,
    const struct acme_validation_result *r)
{
	char ident[128], detail[300];

	log_escape(job->identifier, ident, sizeof(ident));
	if (r->status == ACME_FETCH_OK) {
		log_info("validation %s: %s %s: HTTP %d, %zu bytes", job->challenge_id,
		    type_name(job->type), ident, r->http_status, r->body_len);
	} else {
		log_escape(r->detail, detail, sizeof(detail));
		log_info("validation %s: %s %s: %s", job->challenge_id,
		    type_name(job->type), ident, detail);
	}
	acme_validation_done(v->acme, job, r, time(NULL));
}

static void
http01_done(const struct acme_validation_result *r, void *arg)
{
	struct validator_job *j = arg;
	struct validator *v = j->v;

	job_unlink(j);
	job_report(v, &j->job, r);
	free(j);
	validator_kick(v);      /* jobs held back by the cap */
}

/* Reports a job that could not start as a failed fetch. */
static void
job_fail_now(struct validator *v, const struct acme_validation *job,
    const char *detail)
{
	struct acme_validation_result r;

	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_CONNECTION;
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	job_report(v, job, &r);
}

static void
job_start(struct validator *v, const struct acme_validation *job)
{
	struct validator_job *j;

	if (job->type != ACME_CHALL_HTTP01) {
		/* acme/ does not offer these yet; say so plainly. */
		log_warn("validation %s: %s is not implemented", job->challenge_id,
		    type_name(job->type));
		job_fail_now(v, job, "this server cannot validate this challenge "
		    "type yet");
		return;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL) {
		job_fail_now(v, job, "internal error starting the validation");
		return;
	}
	j->v = v;
	j->job = *job;
	j->fetch = http01_fetch_start(v->http01, job->identifier, job->ident_is_ip,
	    job->token, http01_done, j);
	if (j->fetch == NULL) {
		free(j);
		job_fail_now(v, job, "internal error starting the validation");
		return;
	}
	j->next = v->jobs;
	if (v->jobs != NULL)
		v->jobs->prev = j;
	v->jobs = j;
	v->n_active++;
}

void
validator_kick(struct validator *v)
{
	struct acme_validation job;

	if (v == NULL)
		return;
	while (v->n_active < VALIDATE_MAX_ACTIVE &&
	    acme_validation_next(v->acme, &job) == 1)
		job_start(v, &job);
}

struct validator *
validator_new(struct event_base *base, struct acme *a, const struct config *cfg)
{
	struct validator *v;
	struct resolver_options ro;
	struct http01_options ho;
	char err[256];

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NULL;
	v->base = base;
	v->acme = a;
	memset(&ro, 0, sizeof(ro));
	ro.servers = cfg->resolver;
	if ((v->res = resolver_new(base, &ro, err, sizeof(err))) == NULL) {
		log_error("validation resolver%s%s: %s", cfg->resolver != NULL ?
		    " " : "", cfg->resolver != NULL ? cfg->resolver : "", err);
		goto fail;
	}
	memset(&ho, 0, sizeof(ho));
	ho.port = (unsigned)cfg->http01_port;
	if ((v->http01 = http01_client_new(base, v->res, &ho)) == NULL) {
		log_error("cannot set up http-01 validation");
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
	struct validator_job *j;

	if (v == NULL)
		return;
	while ((j = v->jobs) != NULL) {
		http01_fetch_cancel(j->fetch);
		job_unlink(j);
		free(j);
	}
	http01_client_free(v->http01);
	resolver_free(v->res);
	free(v);
}
