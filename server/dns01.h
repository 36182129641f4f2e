/*
 * dns01.h: the I/O of dns-01 validation (RFC 8555 §8.4): the TXT records
 * at _acme-challenge.NAME, CNAMEs followed. Judging them is acme/'s job.
 */
#ifndef HEARTH_DNS01_H
#define HEARTH_DNS01_H

#include "acme.h"

struct resolver;
struct dns01_fetch;

#define DNS01_PREFIX "_acme-challenge."

/*
 * The outcome: ACME_FETCH_OK with r->txt/n_txt (at most ACME_MAX_TXT; none
 * for NXDOMAIN or no TXT records, which acme/ reports), or ACME_FETCH_DNS
 * with r->detail naming the query and what failed (SERVFAIL, REFUSED,
 * timeout, a CNAME loop, too many CNAMEs). r and the strings are valid
 * during the call only.
 */
typedef void (*dns01_done_cb)(const struct acme_validation_result *r,
    void *arg);

/* Starts the lookup for identifier (a DNS name, the base name of a
 * wildcard) on res (borrowed). cb runs exactly once, from the event loop,
 * never from inside this call. The handle is valid until cb runs; NULL
 * when the lookup could not start (cb does not run then). */
struct dns01_fetch *dns01_fetch_start(struct resolver *res,
    const char *identifier, dns01_done_cb cb, void *arg);
/* Stops a fetch whose callback has not run; the callback never runs. */
void dns01_fetch_cancel(struct dns01_fetch *f);

#endif
