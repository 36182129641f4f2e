/*
 * metrics.c: the counters and histograms of struct metrics, and the page
 * /metrics serves (Prometheus text format 0.0.4). Owns the metric names,
 * their help text and the label values, all fixed strings: nothing a client
 * sends becomes a label (routes come from acme_route_of(), statuses from a
 * fixed list). Knows nothing of sockets or the event loop; admin.c gathers
 * the other sources and serves the page.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAXED memory_order_relaxed

static const long long bounds_us[] = METRICS_BOUNDS_US;
static const int statuses[METRICS_STATUSES - 1] = {
	200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 414, 415, 429, 500,
	502, 503,
};
static const char *const status_labels[METRICS_STATUSES] = {
	"200", "201", "204", "400", "401", "403", "404", "405", "409", "413",
	"414", "415", "429", "500", "502", "503", "other",
};
static const char *const chall_names[METRICS_CHALL_TYPES] = {
	"http-01", "dns-01", "tls-alpn-01",
};

int
metrics_status_index(int status)
{
	int i;

	for (i = 0; i < METRICS_STATUSES - 1; i++)
		if (statuses[i] == status)
			return i;
	return METRICS_STATUSES - 1;
}

const char *
metrics_status_label(int index)
{
	if (index < 0 || index >= METRICS_STATUSES)
		index = METRICS_STATUSES - 1;
	return status_labels[index];
}

static void
hist_add(struct metrics_hist *h, long long us)
{
	size_t i;

	if (us < 0)
		us = 0;
	for (i = 0; i < sizeof(bounds_us) / sizeof(bounds_us[0]); i++)
		if (us <= bounds_us[i])
			break;
	atomic_fetch_add_explicit(&h->buckets[i], 1, RELAXED);
	atomic_fetch_add_explicit(&h->count, 1, RELAXED);
	atomic_fetch_add_explicit(&h->sum_us, (uint64_t)us, RELAXED);
}

void
metrics_request(struct metrics *m, int route, int status, long long us)
{
	if (route < 0 || route >= ACME_ROUTES)
		route = ACME_ROUTES - 1;
	atomic_fetch_add_explicit(&m->requests[route][metrics_status_index(status)],
	    1, RELAXED);
	hist_add(&m->latency[route], us);
}

void
metrics_validation(struct metrics *m, enum acme_challenge_type type,
    enum acme_validation_outcome outcome, long long us)
{
	if ((unsigned)type >= METRICS_CHALL_TYPES ||
	    (unsigned)outcome >= ACME_VALIDATION_OUTCOMES)
		return;
	atomic_fetch_add_explicit(&m->validations[type][outcome], 1, RELAXED);
	hist_add(&m->validation_time[type], us);
}

void
metrics_hold(struct metrics *m, enum metrics_hold_outcome outcome)
{
	if (m == NULL || (unsigned)outcome >= METRICS_HOLD_OUTCOMES)
		return;
	atomic_fetch_add_explicit(&m->holds[outcome], 1, RELAXED);
}

void
metrics_hold_started(struct metrics *m)
{
	if (m != NULL)
		atomic_fetch_add_explicit(&m->holds_started, 1, RELAXED);
}

void
metrics_handshake(struct metrics *m, int ok)
{
	if (m == NULL)
		return;
	atomic_fetch_add_explicit(ok ? &m->tls_handshakes_ok :
	    &m->tls_handshakes_failed, 1, RELAXED);
}

void
metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t cap;
	char *p;
	int n;

	if (b->failed)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p != NULL ? b->p + b->len : NULL,
		    b->p != NULL ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		cap = b->cap == 0 ? 16384 : b->cap * 2;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (cap > METRICS_MAX_OUTPUT || (p = realloc(b->p, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
}

static void
head(struct metrics_buf *b, const char *name, const char *type,
    const char *help)
{
	metrics_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(struct metrics_buf *b, const char *name, const char *type,
    const char *help, double v)
{
	head(b, name, type, help);
	metrics_printf(b, "%s %.17g\n", name, v);
}

/* The series of one histogram with labels (e.g. "route=\"order\""). */
static void
hist_render(struct metrics_buf *b, const char *name, const char *labels,
    const struct metrics_hist *h)
{
	uint64_t cum = 0;
	size_t i;

	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += atomic_load_explicit(&h->buckets[i], RELAXED);
		if (i < METRICS_BUCKETS - 1)
			metrics_printf(b, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
			    (double)bounds_us[i] / 1e6, (unsigned long long)cum);
		else
			metrics_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name,
			    labels, (unsigned long long)cum);
	}
	metrics_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels,
	    (double)atomic_load_explicit(&h->sum_us, RELAXED) / 1e6, name, labels,
	    (unsigned long long)cum);
}

static void
render_requests(const struct metrics *m, struct metrics_buf *b)
{
	char labels[64];
	uint64_t v;
	int r, s;

	head(b, "hearth_http_requests_total", "counter",
	    "ACME requests answered, by route and HTTP status.");
	for (r = 0; r < ACME_ROUTES; r++)
		for (s = 0; s < METRICS_STATUSES; s++)
			if ((v = atomic_load_explicit(&m->requests[r][s], RELAXED)) > 0)
				metrics_printf(b, "hearth_http_requests_total{route=\"%s\","
				    "status=\"%s\"} %llu\n", acme_route_name(r),
				    status_labels[s], (unsigned long long)v);
	head(b, "hearth_http_request_duration_seconds", "histogram",
	    "Time from a request's arrival to its answer, by route.");
	for (r = 0; r < ACME_ROUTES; r++) {
		if (atomic_load_explicit(&m->latency[r].count, RELAXED) == 0)
			continue;
		snprintf(labels, sizeof(labels), "route=\"%s\"", acme_route_name(r));
		hist_render(b, "hearth_http_request_duration_seconds", labels,
		    &m->latency[r]);
	}
	head(b, "hearth_rate_limited_total", "counter",
	    "Requests refused with rateLimited (429), by route.");
	for (r = 0; r < ACME_ROUTES; r++)
		metrics_printf(b, "hearth_rate_limited_total{route=\"%s\"} %llu\n",
		    acme_route_name(r), (unsigned long long)atomic_load_explicit(
		    &m->requests[r][metrics_status_index(429)], RELAXED));
}

static void
render_validations(const struct metrics *m, struct metrics_buf *b)
{
	char labels[64];
	int t, o;

	head(b, "hearth_validations_total", "counter",
	    "Validations finished, by challenge type and outcome.");
	for (t = 0; t < METRICS_CHALL_TYPES; t++)
		for (o = 0; o < ACME_VALIDATION_OUTCOMES; o++)
			metrics_printf(b, "hearth_validations_total{type=\"%s\","
			    "outcome=\"%s\"} %llu\n", chall_names[t],
			    acme_validation_outcome_name((enum acme_validation_outcome)o),
			    (unsigned long long)atomic_load_explicit(
			    &m->validations[t][o], RELAXED));
	head(b, "hearth_validation_duration_seconds", "histogram",
	    "Time one validation attempt took (the fetch, CAA included).");
	for (t = 0; t < METRICS_CHALL_TYPES; t++) {
		snprintf(labels, sizeof(labels), "type=\"%s\"", chall_names[t]);
		hist_render(b, "hearth_validation_duration_seconds", labels,
		    &m->validation_time[t]);
	}
}

static void
render_holds(const struct metrics *m, struct metrics_buf *b)
{
	static const char *const names[METRICS_HOLD_OUTCOMES] = {
		"answered", "cap", "closed", "refused",
	};
	int o;

	head(b, "hearth_holds_started_total", "counter", "Answers held to wait "
	    "on a validation.");
	metrics_printf(b, "hearth_holds_started_total %llu\n",
	    (unsigned long long)atomic_load_explicit(&m->holds_started, RELAXED));
	head(b, "hearth_holds_total", "counter", "Answers waiting on a "
	    "validation, by how the hold ended (refused: not held, a cap on "
	    "holds was reached).");
	for (o = 0; o < METRICS_HOLD_OUTCOMES; o++)
		metrics_printf(b, "hearth_holds_total{outcome=\"%s\"} %llu\n",
		    names[o], (unsigned long long)atomic_load_explicit(
		    &m->holds[o], RELAXED));
}

static void
render_acme(const struct metrics_sources *src, struct metrics_buf *b)
{
	const struct acme_stats *a = &src->acme;

	head(b, "hearth_orders_total", "counter",
	    "Orders by the status they reached in this process: created, "
	    "valid (certificate stored), finalize_failed.");
	metrics_printf(b, "hearth_orders_total{status=\"created\"} %llu\n"
	    "hearth_orders_total{status=\"valid\"} %llu\n"
	    "hearth_orders_total{status=\"finalize_failed\"} %llu\n",
	    (unsigned long long)a->orders_created,
	    (unsigned long long)a->orders_valid,
	    (unsigned long long)a->orders_finalize_failed);
	head(b, "hearth_authorizations_total", "counter",
	    "Authorizations decided by a challenge in this process, by status.");
	metrics_printf(b, "hearth_authorizations_total{status=\"valid\"} %llu\n"
	    "hearth_authorizations_total{status=\"invalid\"} %llu\n",
	    (unsigned long long)a->authzs_valid,
	    (unsigned long long)a->authzs_invalid);
	one(b, "hearth_certificates_issued_total", "counter",
	    "Certificates signed and stored by this process.",
	    (double)a->certs_issued);
	if (src->revocations_ok)
		one(b, "hearth_certificates_revoked_total", "counter",
		    "Revocations in the store (all processes, hearth revoke included).",
		    (double)src->revocations);
}

static void
render_signer(const struct metrics_sources *src, struct metrics_buf *b)
{
	static const long long sb[] = CRYPTO_SIGNER_RTT_BOUNDS_US;
	const struct crypto_signer_stats *s = &src->signer;
	uint64_t cum = 0;
	size_t i;

	head(b, "hearth_signer_duration_seconds", "histogram",
	    "Round trips to the signer process (signatures, CRLs, OCSP, pings).");
	for (i = 0; i < CRYPTO_SIGNER_RTT_BUCKETS; i++) {
		cum += s->buckets[i];
		if (i < CRYPTO_SIGNER_RTT_BUCKETS - 1)
			metrics_printf(b, "hearth_signer_duration_seconds_bucket{le=\"%g\"}"
			    " %llu\n", (double)sb[i] / 1e6, (unsigned long long)cum);
		else
			metrics_printf(b, "hearth_signer_duration_seconds_bucket{le=\"+Inf\"}"
			    " %llu\n", (unsigned long long)cum);
	}
	metrics_printf(b, "hearth_signer_duration_seconds_sum %.6f\n"
	    "hearth_signer_duration_seconds_count %llu\n",
	    (double)s->sum_us / 1e6, (unsigned long long)cum);
	one(b, "hearth_signer_failures_total", "counter",
	    "Signer calls that ended in an error (unavailable included).",
	    (double)s->failures);
}

static void
render_process(const struct metrics *m, const struct metrics_sources *src,
    struct metrics_buf *b)
{
	head(b, "hearth_tls_handshakes_total", "counter",
	    "TLS handshakes on the ACME listener, by result.");
	metrics_printf(b, "hearth_tls_handshakes_total{result=\"ok\"} %llu\n"
	    "hearth_tls_handshakes_total{result=\"failed\"} %llu\n",
	    (unsigned long long)atomic_load_explicit(&m->tls_handshakes_ok, RELAXED),
	    (unsigned long long)atomic_load_explicit(&m->tls_handshakes_failed,
	    RELAXED));
	one(b, "hearth_pki_requests_total", "counter",
	    "Requests to the PKI listener (CRL, CA certificates, OCSP).",
	    (double)atomic_load_explicit(&m->pki_requests, RELAXED));
	if (src->store_ok) {
		one(b, "hearth_store_file_bytes", "gauge",
		    "Size of the database file.", (double)src->store.file_bytes);
		one(b, "hearth_store_used_bytes", "gauge",
		    "Pages in use in the database times the page size.",
		    (double)(src->store.pages_used * src->store.page_bytes));
		one(b, "hearth_store_map_bytes", "gauge",
		    "The database's map size.", (double)src->store.map_bytes);
	}
	if (src->crl_this_update != 0) {
		one(b, "hearth_crl_age_seconds", "gauge",
		    "Seconds since the served CRL's thisUpdate.",
		    (double)(src->now - src->crl_this_update));
		one(b, "hearth_crl_number", "gauge",
		    "cRLNumber of the served CRL.", (double)src->crl_number);
	}
	one(b, "hearth_intermediate_not_after_seconds", "gauge",
	    "The intermediate certificate's notAfter (unix time).",
	    (double)src->intermediate_not_after);
	one(b, "hearth_tls_cert_not_after_seconds", "gauge",
	    "The listener certificate's notAfter (unix time).",
	    (double)src->tls_not_after);
	one(b, "hearth_start_time_seconds", "gauge",
	    "When the server started (unix time).", (double)src->started);
}

int
metrics_render(const struct metrics *m, const struct metrics_sources *src,
    struct metrics_buf *b)
{
	render_requests(m, b);
	render_validations(m, b);
	render_holds(m, b);
	render_acme(src, b);
	render_signer(src, b);
	render_process(m, src, b);
	return b->failed ? -1 : 0;
}
