/*
 * denylist.h: the address ranges validation never connects to
 * (--validation-deny). Parsed once at start; read-only afterwards, so one
 * list may be shared by every event loop.
 */
#ifndef HEARTH_DENYLIST_H
#define HEARTH_DENYLIST_H

#include <stddef.h>

struct resolver_addr;
struct denylist;

#define DENYLIST_MAX_RANGES 32           /* as CONFIG_MAX_LIST */
#define DENYLIST_RANGE_STRLEN 64         /* "ffff:...:ffff/128" and a NUL */

/* Used when the setting is not given: link-local addresses and the
 * metadata service addresses of common clouds. */
#define DENYLIST_DEFAULT { "169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128" }

/*
 * Parses n CIDR strings ("10.0.0.0/8", "fd00::/8", or a bare address for a
 * single host). n == 0 gives DENYLIST_DEFAULT; the single value "none" an
 * empty list. NULL on failure, with the reason, naming the bad value, in
 * err (errsz bytes). Caller frees with denylist_free().
 */
struct denylist *denylist_new(const char *const *cidrs, size_t n, char *err,
    size_t errsz);
void denylist_free(struct denylist *d);

/*
 * 1 when a lies in a denied range (an IPv4-mapped IPv6 address counts as
 * its IPv4 address), with that range written to range (rangesz bytes,
 * DENYLIST_RANGE_STRLEN suffice) when range is not NULL; 0 otherwise.
 * A NULL list denies nothing.
 */
int denylist_match(const struct denylist *d, const struct resolver_addr *a,
    char *range, size_t rangesz);

/* Number of ranges in d. */
size_t denylist_count(const struct denylist *d);

#endif
