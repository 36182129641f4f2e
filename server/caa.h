/*
 * caa.h: finding the relevant CAA record set of a name (RFC 8659 §3) for
 * acme/ to judge: the CAA records of the name itself, else of its parent,
 * and so on up to and including the top-level domain; the first non-empty
 * set is the relevant one.
 */
#ifndef HEARTH_CAA_H
#define HEARTH_CAA_H

#include "acme.h"

struct resolver;
struct caa_lookup;

/*
 * The outcome: st ACME_FETCH_OK with the relevant set (n may be 0: no CAA
 * records up to the top-level domain, at most ACME_MAX_CAA), or
 * ACME_FETCH_DNS with detail naming the name whose lookup failed and why
 * (acme/ then refuses to issue and retries). detail and recs are valid
 * during the call only.
 */
typedef void (*caa_done_cb)(enum acme_fetch_status st, const char *detail,
    const struct acme_caa_record *recs, size_t n, void *arg);

/* Starts the climb at name (a DNS name; for a wildcard its base name) on
 * res (borrowed). cb runs exactly once, from the event loop, never from
 * inside this call. The handle is valid until cb runs; NULL when the lookup
 * could not start (cb does not run then). */
struct caa_lookup *caa_lookup_start(struct resolver *res, const char *name,
    caa_done_cb cb, void *arg);
/* Stops a lookup whose callback has not run; the callback never runs. */
void caa_lookup_cancel(struct caa_lookup *l);

#endif
