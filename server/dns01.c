/*
 * dns01.c: the fetch half of dns-01 validation (RFC 8555 §8.4). Asks the
 * resolver for TXT at _acme-challenge.NAME and turns its answer into what
 * acme/ judges: a missing record is a finding for acme/ (ACME_FETCH_OK with
 * no values), a failed lookup is a DNS problem that may pass (ACME_FETCH_DNS,
 * retried by acme/). Nothing here compares values.
 */
#include "dns01.h"
#include "resolver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dns01_fetch {
	struct resolver_query *q;
	dns01_done_cb cb;
	void *arg;
	char qname[RESOLVER_MAX_NAME + 1];
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

static void
txt_cb(int rc, const char *why, const char *const *txt, size_t n, void *arg)
{
	struct dns01_fetch *f = arg;
	struct acme_validation_result r;

	memset(&r, 0, sizeof(r));
	r.status = ACME_FETCH_OK;
	if (rc == RESOLVER_OK) {
		r.txt = txt;
		r.n_txt = n < ACME_MAX_TXT ? n : ACME_MAX_TXT;
	} else if (rc == RESOLVER_ERR_CNAME) {
		r.status = ACME_FETCH_DNS;
		detailf(r.detail, sizeof(r.detail), "TXT lookup of %s: %s", f->qname,
		    why != NULL ? why : resolver_strerror(rc));
	} else if (rc != RESOLVER_ERR_NOTFOUND) {
		r.status = ACME_FETCH_DNS;
		detailf(r.detail, sizeof(r.detail), "TXT lookup of %s failed: %s",
		    f->qname, why != NULL ? why : resolver_strerror(rc));
	}
	f->cb(&r, f->arg);
	free(f);
}

struct dns01_fetch *
dns01_fetch_start(struct resolver *res, const char *identifier,
    dns01_done_cb cb, void *arg)
{
	struct dns01_fetch *f;
	int len;

	if (res == NULL || identifier == NULL || cb == NULL ||
	    (f = calloc(1, sizeof(*f))) == NULL)
		return NULL;
	f->cb = cb;
	f->arg = arg;
	len = snprintf(f->qname, sizeof(f->qname), DNS01_PREFIX "%s", identifier);
	if (len < 0 || (size_t)len >= sizeof(f->qname) ||
	    (f->q = resolver_lookup_txt(res, f->qname, txt_cb, f)) == NULL) {
		free(f);
		return NULL;
	}
	return f;
}

void
dns01_fetch_cancel(struct dns01_fetch *f)
{
	if (f == NULL)
		return;
	resolver_cancel(f->q);
	free(f);
}
