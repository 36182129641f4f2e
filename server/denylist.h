/*
 * denylist.h: the addresses validation never connects to: the ranges of
 * --validation-deny, the unspecified addresses (always), and this server's
 * own listeners. Built once at start; read-only afterwards, so one list
 * may be shared by every event loop.
 */
#ifndef HEARTH_DENYLIST_H
#define HEARTH_DENYLIST_H

#include <stddef.h>
#include <sys/socket.h>

struct resolver_addr;
struct denylist;

#define DENYLIST_MAX_RANGES 32           /* as CONFIG_MAX_LIST */
#define DENYLIST_RANGE_STRLEN 64         /* "ffff:...:ffff/128" and a NUL */
#define DENYLIST_MAX_LISTENERS 8         /* this server's listening sockets */

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
 * 1 when a lies in a denied range, with that range written to range
 * (rangesz bytes, DENYLIST_RANGE_STRLEN suffice) when range is not NULL;
 * 0 otherwise. 0.0.0.0/8 and :: are always denied, also with "none". An
 * IPv6 address that carries an IPv4 one is denied when that IPv4 address
 * is: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4
 * (2002:aabb:ccdd::/48); range then says "... through NAT64" or "...
 * through 6to4". A NULL list denies nothing.
 */
int denylist_match(const struct denylist *d, const struct resolver_addr *a,
    char *range, size_t rangesz);

/* Number of ranges in d from --validation-deny (or its default); the
 * always-denied unspecified addresses are not counted. */
size_t denylist_count(const struct denylist *d);

/*
 * Records one of this server's listening sockets (its getsockname()
 * address; the any address stands for every address of the host).
 * 0, or -1 for an address family other than IPv4/IPv6 or more than
 * DENYLIST_MAX_LISTENERS.
 */
int denylist_add_listener(struct denylist *d, const struct sockaddr *sa,
    socklen_t len);

/*
 * 1 when connecting to a at port would reach one of the recorded
 * listeners: its own address and port, or, for a listener on the any
 * address, its port on any address is_local() says belongs to this host
 * (also the IPv4 address a mapped, NAT64 or 6to4 address carries). The
 * listener ("[::]:8443") is written to listener (listenersz bytes,
 * DENYLIST_RANGE_STRLEN suffice). 0 otherwise, and for a NULL list.
 */
int denylist_self(const struct denylist *d, const struct resolver_addr *a,
    unsigned port, int (*is_local)(const struct resolver_addr *),
    char *listener, size_t listenersz);

#endif
