/*
 * test_metrics.c: server/metrics.c. Counts from several threads at once
 * come out exact; statuses and routes map to their fixed labels (a path a
 * client makes up is "other"); histograms put a value in the first bucket
 * whose bound holds it and render cumulative buckets ending with +Inf
 * equal to _count; the rendered page has a TYPE line before every family
 * and shows the other sources' values.
 */
#include "check.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define THREADS 4
#define ADDS 100000

static struct metrics m;

static void *
adder(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < ADDS; i++)
		metrics_request(&m, acme_route_of("/acme/new-order"), 201, 1500);
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[THREADS];
	int i, r = acme_route_of("/acme/new-order");

	for (i = 0; i < THREADS; i++)
		CHECK(pthread_create(&t[i], NULL, adder, NULL) == 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ_INT(m.requests[r][metrics_status_index(201)], THREADS * ADDS);
	CHECK_EQ_INT(m.latency[r].count, THREADS * ADDS);
	CHECK_EQ_INT(m.latency[r].sum_us, 1500LL * THREADS * ADDS);
	/* 1500 us: above the 1 ms bound, within 2.5 ms */
	CHECK_EQ_INT(m.latency[r].buckets[0], 0);
	CHECK_EQ_INT(m.latency[r].buckets[1], THREADS * ADDS);
}

static void
test_labels(void)
{
	CHECK_EQ_STR(metrics_status_label(metrics_status_index(200)), "200");
	CHECK_EQ_STR(metrics_status_label(metrics_status_index(429)), "429");
	CHECK_EQ_STR(metrics_status_label(metrics_status_index(418)), "other");
	CHECK_EQ_STR(acme_route_name(acme_route_of("/directory")), "directory");
	CHECK_EQ_STR(acme_route_name(acme_route_of("/acme/order/abc")), "order");
	CHECK_EQ_STR(acme_route_name(acme_route_of("/acme/orders/abc")), "orders");
	CHECK_EQ_STR(acme_route_name(acme_route_of("/acme/chall/x")), "challenge");
	CHECK_EQ_STR(acme_route_name(acme_route_of("/acme/renewal-info/x")),
	    "renewal-info");
	CHECK_EQ_STR(acme_route_name(acme_route_of("/\"evil\"\n")), "other");
	CHECK_EQ_STR(acme_route_name(99), "other");
}

/* The value of the line that starts with series followed by a space. */
static long long
series(const char *page, const char *name)
{
	const char *p = page;
	size_t n = strlen(name);

	while ((p = strstr(p, name)) != NULL) {
		if ((p == page || p[-1] == '\n') && p[n] == ' ')
			return atoll(p + n + 1);
		p += n;
	}
	return -1;
}

static void
test_render(void)
{
	struct metrics_sources src;
	struct metrics_buf b = { 0 };
	const char *line, *name;

	metrics_validation(&m, ACME_CHALL_DNS01, ACME_VALIDATION_VALID, 30000);
	metrics_validation(&m, ACME_CHALL_DNS01, ACME_VALIDATION_INVALID, 60000000);
	memset(&src, 0, sizeof(src));
	src.now = 1000;
	src.crl_this_update = 940;
	src.acme.certs_issued = 7;
	src.store_ok = 1;
	src.store.file_bytes = 65536;
	src.signer.buckets[0] = 2;
	src.signer.buckets[CRYPTO_SIGNER_RTT_BUCKETS - 1] = 1;
	CHECK(metrics_render(&m, &src, &b) == 0);
	CHECK(b.p != NULL && strlen(b.p) == b.len);
	CHECK_EQ_INT(series(b.p, "hearth_certificates_issued_total"), 7);
	CHECK_EQ_INT(series(b.p, "hearth_crl_age_seconds"), 60);
	CHECK_EQ_INT(series(b.p, "hearth_store_file_bytes"), 65536);
	CHECK_EQ_INT(series(b.p, "hearth_http_requests_total{route=\"new-order\","
	    "status=\"201\"}"), THREADS * ADDS);
	CHECK_EQ_INT(series(b.p, "hearth_validations_total{type=\"dns-01\","
	    "outcome=\"valid\"}"), 1);
	/* 30 ms in the 50 ms bucket; 60 s only in +Inf */
	CHECK_EQ_INT(series(b.p, "hearth_validation_duration_seconds_bucket{"
	    "type=\"dns-01\",le=\"0.025\"}"), 0);
	CHECK_EQ_INT(series(b.p, "hearth_validation_duration_seconds_bucket{"
	    "type=\"dns-01\",le=\"0.05\"}"), 1);
	CHECK_EQ_INT(series(b.p, "hearth_validation_duration_seconds_bucket{"
	    "type=\"dns-01\",le=\"30\"}"), 1);
	CHECK_EQ_INT(series(b.p, "hearth_validation_duration_seconds_bucket{"
	    "type=\"dns-01\",le=\"+Inf\"}"), 2);
	CHECK_EQ_INT(series(b.p, "hearth_validation_duration_seconds_count{"
	    "type=\"dns-01\"}"), 2);
	CHECK_EQ_INT(series(b.p, "hearth_signer_duration_seconds_bucket{"
	    "le=\"+Inf\"}"), 3);
	/* every sample's family was declared before it */
	for (line = b.p; *line != '\0'; line = strchr(line, '\n') + 1) {
		char fam[128], decl[160];
		size_t n = strcspn(line, "{ ");

		if (line[0] == '#')
			continue;
		snprintf(fam, sizeof(fam), "%.*s", (int)n, line);
		for (name = fam; ; ) {
			snprintf(decl, sizeof(decl), "# TYPE %s ", name);
			if (strstr(b.p, decl) != NULL && strstr(b.p, decl) < line)
				break;
			/* histogram series: strip _bucket, _sum, _count */
			if ((n = strlen(fam)) > 7 && strcmp(fam + n - 7, "_bucket") == 0)
				fam[n - 7] = '\0';
			else if (n > 4 && strcmp(fam + n - 4, "_sum") == 0)
				fam[n - 4] = '\0';
			else if (n > 6 && strcmp(fam + n - 6, "_count") == 0)
				fam[n - 6] = '\0';
			else {
				CHECK(!"a sample without its TYPE");
				break;
			}
		}
	}
	free(b.p);
}

static void
test_buf_cap(void)
{
	struct metrics_buf b = { 0 };
	int i;

	for (i = 0; i < 200000 && !b.failed; i++)
		metrics_printf(&b, "%s\n", "0123456789");
	CHECK(b.failed);                 /* stopped at METRICS_MAX_OUTPUT */
	CHECK(b.len <= METRICS_MAX_OUTPUT);
	free(b.p);
}

int
main(void)
{
	test_threads();
	test_labels();
	test_render();
	test_buf_cap();
	return CHECK_DONE();
}
