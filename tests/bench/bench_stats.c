/*
 * bench_stats.c: bench_acme's small helpers, its latency samples and
 * percentiles (nearest rank), and the tally of failures by kind, the first
 * few printed with the server's problem document.
 */
#include "bench_acme.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const step_names[N_STEPS] = {
	"newAccount", "newNonce (HEAD)", "newOrder", "authorization GET",
	"challenge -> valid", "finalize", "certificate GET", "whole issuance",
};

/* ---- small helpers ------------------------------------------------------------ */

double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Copies a string that must fit; -1 when src is NULL or too long. */
int
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n;

	if (src == NULL || (n = strlen(src)) >= cap)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

const char *
json_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Checked whole-string number parsing in [min, max]. */
int
parse_num(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno == ERANGE || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
samples_add(struct samples *s, double ms)
{
	double *v;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;

		if ((v = realloc(s->v, cap * sizeof(*v))) == NULL)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = ms;
	return 0;
}

void
sample(struct worker *w, enum step st, double t0, double t1)
{
	if (samples_add(&w->s[st], (t1 - t0) * 1000.0) != 0) {
		fprintf(stderr, "bench_acme: out of memory\n");
		abort();
	}
}

/* ---- errors ----------------------------------------------------------------- */

/* Counts one failure of kind `what`; prints the first few with the body. */
void
tally_note(struct tally *t, unsigned worker, const char *what, const char *body)
{
	size_t i;

	pthread_mutex_lock(&t->mu);
	t->total++;
	for (i = 0; i < t->n_kinds; i++)
		if (strcmp(t->kinds[i].what, what) == 0)
			break;
	if (i < t->n_kinds) {
		t->kinds[i].n++;
	} else if (t->n_kinds < MAX_KINDS) {
		snprintf(t->kinds[i].what, sizeof(t->kinds[i].what), "%s", what);
		t->kinds[i].n = 1;
		t->n_kinds++;
	} else {
		t->other++;
	}
	if (t->shown < SHOW_PROBLEMS) {
		t->shown++;
		fprintf(stderr, "bench_acme: worker %u: %s\n", worker, what);
		if (body != NULL && *body != '\0')
			fprintf(stderr, "  %.800s\n", body);
	}
	pthread_mutex_unlock(&t->mu);
}

/* A failed step: a transport failure (w->errmsg) or an unexpected answer. */
void
fail_step(struct worker *w, const char *step)
{
	char what[160];
	const char *type = NULL;
	cJSON *p = NULL;

	if (atomic_load(&w->b->abort))
		return;              /* stopped by the stall check, not a failure */
	if (w->errmsg[0] != '\0') {
		snprintf(what, sizeof(what), "%.30s: %.120s", step, w->errmsg);
		tally_note(&w->b->errors, w->id, what, NULL);
		return;
	}
	if (strstr(w->r.ctype, "problem+json") != NULL &&
	    (p = cJSON_Parse(w->r.body)) != NULL)
		type = json_str(p, "type");
	snprintf(what, sizeof(what), "%s: HTTP %d %s", step, w->r.status,
	    type != NULL ? type : "");
	tally_note(&w->b->errors, w->id, what, w->r.body);
	cJSON_Delete(p);
}

/* A step whose HTTP exchange worked but whose result is wrong. */
void
fail_result(struct worker *w, const char *step, const char *why)
{
	char what[160];

	if (atomic_load(&w->b->abort))
		return;
	snprintf(what, sizeof(what), "%s: %s", step, why);
	tally_note(&w->b->errors, w->id, what, w->r.body);
}

/* ---- percentiles ------------------------------------------------------------ */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v. */
static double
pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);

	return v[k > 0 ? k - 1 : 0];
}

/* All workers' samples of one step, sorted; all->n == 0 when none. */
static void
gather(struct worker *ws, unsigned n_workers, enum step st, struct samples *all)
{
	unsigned i;
	size_t k;

	for (i = 0; i < n_workers; i++)
		for (k = 0; k < ws[i].s[st].n; k++)
			if (samples_add(all, ws[i].s[st].v[k]) != 0)
				abort();
	if (all->n > 0)
		qsort(all->v, all->n, sizeof(*all->v), cmp_double);
}

static void
report_step(struct worker *ws, unsigned n_workers, enum step st)
{
	struct samples all = { NULL, 0, 0 };
	double sum = 0;
	size_t k;

	gather(ws, n_workers, st, &all);
	if (all.n == 0) {
		printf("  %-20s %7d\n", step_names[st], 0);
		return;
	}
	for (k = 0; k < all.n; k++)
		sum += all.v[k];
	printf("  %-20s %7zu %9.2f %9.2f %9.2f %9.2f %9.2f\n", step_names[st], all.n,
	    sum / (double)all.n, pct(all.v, all.n, 0.5), pct(all.v, all.n, 0.95),
	    pct(all.v, all.n, 0.99), all.v[all.n - 1]);
	free(all.v);
}

/* The latency table of every step. */
void
report_steps(struct worker *ws, unsigned n_workers)
{
	int st;

	printf("  %-20s %7s %9s %9s %9s %9s %9s\n", "latency (ms)", "n", "mean",
	    "p50", "p95", "p99", "max");
	for (st = 0; st < N_STEPS; st++)
		report_step(ws, n_workers, (enum step)st);
}

/* p50, p95 and p99 of the whole issuance in out; -1 when none finished. */
int
issuance_percentiles(struct worker *ws, unsigned n_workers, double out[3])
{
	struct samples all = { NULL, 0, 0 };

	gather(ws, n_workers, ST_ISSUE, &all);
	if (all.n == 0)
		return -1;
	out[0] = pct(all.v, all.n, 0.5);
	out[1] = pct(all.v, all.n, 0.95);
	out[2] = pct(all.v, all.n, 0.99);
	free(all.v);
	return 0;
}
