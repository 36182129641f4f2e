/*
 * caa.c: the CAA record set that governs a name (RFC 8659 §3). Asks the
 * resolver for CAA at the name, and while the answer is empty (no records,
 * or no such name) at its parent, one label shorter each time, the
 * top-level domain last. CNAMEs at each step are followed by the resolver;
 * the climb itself continues from the name's own parent, as RFC 8659 asks.
 * Whether the set allows issuance is judged in acme/.
 */
#include "caa.h"
#include "resolver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct caa_lookup {
	struct resolver *res;
	struct resolver_query *q;
	caa_done_cb cb;
	void *arg;
	char name[RESOLVER_MAX_NAME + 1];
	const char *at;                  /* the name asked now, within name */
};

/* snprintf whose truncation of long names is intended. */
static void detailf(char *out, size_t outsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
detailf(char *out, size_t outsz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, outsz, fmt, ap);
	va_end(ap);
}

static void caa_cb(int rc, const char *why, const struct resolver_caa *caa,
    size_t n, void *arg);

static void
finish(struct caa_lookup *l, enum acme_fetch_status st, const char *detail,
    const struct acme_caa_record *recs, size_t n)
{
	l->cb(st, detail, recs, n, l->arg);
	free(l);
}

/* Asks for CAA at l->at. 0, or -1 when the lookup did not start. */
static int
ask(struct caa_lookup *l)
{
	l->q = resolver_lookup_caa(l->res, l->at, caa_cb, l);
	return l->q != NULL ? 0 : -1;
}

static void
caa_cb(int rc, const char *why, const struct resolver_caa *caa, size_t n,
    void *arg)
{
	struct caa_lookup *l = arg;
	struct acme_caa_record recs[ACME_MAX_CAA];
	char detail[256];
	const char *dot;
	size_t i;

	l->q = NULL;
	if (rc == RESOLVER_OK && n > 0) {
		if (n > ACME_MAX_CAA)
			n = ACME_MAX_CAA;
		for (i = 0; i < n; i++) {
			recs[i].flags = caa[i].flags;
			snprintf(recs[i].tag, sizeof(recs[i].tag), "%s", caa[i].tag);
			snprintf(recs[i].value, sizeof(recs[i].value), "%s", caa[i].value);
		}
		finish(l, ACME_FETCH_OK, NULL, recs, n);
		return;
	}
	if (rc != RESOLVER_OK && rc != RESOLVER_ERR_NOTFOUND) {
		detailf(detail, sizeof(detail), "CAA query for %s: %s", l->at,
		    why != NULL ? why : resolver_strerror(rc));
		finish(l, ACME_FETCH_DNS, detail, NULL, 0);
		return;
	}
	/* An empty set: climb, unless this was the top-level domain. */
	if ((dot = strchr(l->at, '.')) == NULL || dot[1] == '\0') {
		finish(l, ACME_FETCH_OK, NULL, NULL, 0);
		return;
	}
	l->at = dot + 1;
	if (ask(l) != 0) {
		detailf(detail, sizeof(detail), "CAA query for %s could not start",
		    l->at);
		finish(l, ACME_FETCH_DNS, detail, NULL, 0);
	}
}

struct caa_lookup *
caa_lookup_start(struct resolver *res, const char *name, caa_done_cb cb,
    void *arg)
{
	struct caa_lookup *l;
	size_t len;

	if (res == NULL || name == NULL || cb == NULL ||
	    (len = strlen(name)) == 0 || len > RESOLVER_MAX_NAME ||
	    (l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->res = res;
	l->cb = cb;
	l->arg = arg;
	memcpy(l->name, name, len + 1);
	if (len > 1 && l->name[len - 1] == '.')
		l->name[len - 1] = '\0';
	l->at = l->name;
	if (ask(l) != 0) {
		free(l);
		return NULL;
	}
	return l;
}

void
caa_lookup_cancel(struct caa_lookup *l)
{
	if (l == NULL)
		return;
	resolver_cancel(l->q);
	free(l);
}
