/*
 * denylist.c: the addresses validation never connects to. Parses the CIDR
 * ranges of --validation-deny once, adds the unspecified addresses
 * (0.0.0.0/8 and ::, which Linux connects to this host) that no setting
 * clears, and keeps this server's own listening addresses. It answers
 * whether an address lies in a denied range, directly or in the IPv4
 * address an IPv4-mapped, NAT64 (64:ff9b::/96, RFC 6052) or 6to4
 * (2002::/16, RFC 3056) address carries, and whether an address and port
 * are one of the server's listeners. Validation (dialer.c) asks before
 * every connection, after every resolution and redirect, so a name pointed
 * at a metadata service, a denied network or hearth itself is never
 * reached. This file opens no socket (whether an address is this host's
 * is the caller's question) and keeps no state beyond the lists.
 */
#include "denylist.h"
#include "resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct deny_range {
	int family;                      /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
	char text[DENYLIST_RANGE_STRLEN];
};

/* Denied whatever --validation-deny says: Linux takes a connection to an
 * unspecified address as one to this host. */
#define DENY_ALWAYS { "0.0.0.0/8", "::/128" }
#define DENY_N_ALWAYS 2

struct deny_listener {
	int family;
	uint8_t addr[16];               /* all zero for the any address */
	int any;
	unsigned port;
	char text[DENYLIST_RANGE_STRLEN];
};

struct denylist {
	struct deny_range r[DENY_N_ALWAYS + DENYLIST_MAX_RANGES];
	size_t n;                       /* the always-denied ones first */
	struct deny_listener l[DENYLIST_MAX_LISTENERS];
	size_t n_listeners;
};

static const uint8_t prefix_mapped[12] =
    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
static const uint8_t prefix_nat64[12] =
    { 0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };

/* Nonzero when the first bits of a and b agree. */
static int
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* A prefix length: digits only, at most max. 0, or -1. */
static int
parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (s[0] == '\0' || strlen(s) > 3)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

/* Parses one range into r; 0, or -1 with the reason in err. */
static int
range_parse(const char *cidr, struct deny_range *r, char *err, size_t errsz)
{
	char host[INET6_ADDRSTRLEN + 1], shown[INET6_ADDRSTRLEN];
	const char *slash = strchr(cidr, '/');
	size_t hl = slash != NULL ? (size_t)(slash - cidr) : strlen(cidr);
	unsigned max;
	uint8_t masked[16];

	memset(r, 0, sizeof(*r));
	if (hl == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, cidr, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, r->addr) == 1)
		r->family = AF_INET;
	else if (inet_pton(AF_INET6, host, r->addr) == 1)
		r->family = AF_INET6;
	else
		goto bad;
	max = r->family == AF_INET ? 32 : 128;
	r->prefix = max;
	if (slash != NULL && parse_prefix(slash + 1, max, &r->prefix) != 0)
		goto bad;
	/* Host bits set is most likely a typing error: say which was meant. */
	memcpy(masked, r->addr, sizeof(masked));
	if (r->prefix < max) {
		masked[r->prefix / 8] &= (uint8_t)(0xff << (8 - r->prefix % 8));
		memset(masked + r->prefix / 8 + 1, 0, 15 - r->prefix / 8);
	}
	if (memcmp(masked, r->addr, max / 8) != 0) {
		inet_ntop(r->family, masked, shown, sizeof(shown));
		snprintf(err, errsz, "\"%s\" has host bits set (the range is %s/%u)",
		    cidr, shown, r->prefix);
		return -1;
	}
	inet_ntop(r->family, r->addr, shown, sizeof(shown));
	snprintf(r->text, sizeof(r->text), "%s/%u", shown, r->prefix);
	return 0;
bad:
	snprintf(err, errsz, "\"%s\" is not an address range (CIDR such as "
	    "10.0.0.0/8 or fd00::/8)", cidr);
	return -1;
}

struct denylist *
denylist_new(const char *const *cidrs, size_t n, char *err, size_t errsz)
{
	static const char *const dflt[] = DENYLIST_DEFAULT;
	static const char *const always[] = DENY_ALWAYS;
	struct denylist *d;
	char scratch[8];
	size_t i;

	if (err == NULL || errsz == 0) {
		err = scratch;
		errsz = sizeof(scratch);
	}
	err[0] = '\0';
	if (n == 0) {
		cidrs = dflt;
		n = sizeof(dflt) / sizeof(dflt[0]);
	}
	if (n > DENYLIST_MAX_RANGES) {
		snprintf(err, errsz, "more than %d ranges", DENYLIST_MAX_RANGES);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	for (i = 0; i < DENY_N_ALWAYS; i++)
		if (range_parse(always[i], &d->r[d->n++], err, errsz) != 0)
			goto fail;
	if (n == 1 && strcmp(cidrs[0], "none") == 0)
		return d;
	for (i = 0; i < n; i++) {
		if (strcmp(cidrs[i], "none") == 0) {
			snprintf(err, errsz, "\"none\" cannot be combined with ranges");
			goto fail;
		}
		if (range_parse(cidrs[i], &d->r[d->n], err, errsz) != 0)
			goto fail;
		d->n++;
	}
	return d;
fail:
	free(d);
	return NULL;
}

void
denylist_free(struct denylist *d)
{
	free(d);
}

size_t
denylist_count(const struct denylist *d)
{
	return d != NULL ? d->n - DENY_N_ALWAYS : 0;
}

/*
 * The IPv4 address a carries, if any: a itself, the last four bytes of an
 * IPv4-mapped or NAT64 well-known-prefix address, or bytes 2..5 of a 6to4
 * one. *via names the form ("" for a plain or mapped address).
 */
static const uint8_t *
embedded_v4(const struct resolver_addr *a, const char **via)
{
	*via = "";
	if (a->family == AF_INET)
		return a->addr;
	if (memcmp(a->addr, prefix_mapped, sizeof(prefix_mapped)) == 0)
		return a->addr + 12;
	if (memcmp(a->addr, prefix_nat64, sizeof(prefix_nat64)) == 0) {
		*via = " through NAT64";
		return a->addr + 12;
	}
	if (a->addr[0] == 0x20 && a->addr[1] == 0x02) {
		*via = " through 6to4";
		return a->addr + 2;
	}
	return NULL;
}

int
denylist_match(const struct denylist *d, const struct resolver_addr *a,
    char *range, size_t rangesz)
{
	const uint8_t *v4;
	const char *via;
	size_t i;
	int hit;

	if (d == NULL)
		return 0;
	v4 = embedded_v4(a, &via);
	for (i = 0; i < d->n; i++) {
		if (d->r[i].family == AF_INET)
			hit = v4 != NULL && prefix_eq(v4, d->r[i].addr, d->r[i].prefix);
		else
			hit = a->family == AF_INET6 &&
			    prefix_eq(a->addr, d->r[i].addr, d->r[i].prefix);
		if (hit) {
			if (range != NULL && rangesz > 0)
				snprintf(range, rangesz, "%s%s", d->r[i].text,
				    d->r[i].family == AF_INET ? via : "");
			return 1;
		}
	}
	return 0;
}

int
denylist_add_listener(struct denylist *d, const struct sockaddr *sa,
    socklen_t len)
{
	const struct sockaddr_in *in4 = (const struct sockaddr_in *)(const void *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
	static const uint8_t zero[16];
	struct deny_listener *l;
	char ip[INET6_ADDRSTRLEN];

	if (d == NULL || sa == NULL || d->n_listeners >= DENYLIST_MAX_LISTENERS)
		return -1;
	l = &d->l[d->n_listeners];
	memset(l, 0, sizeof(*l));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(*in4)) {
		l->family = AF_INET;
		memcpy(l->addr, &in4->sin_addr, 4);
		l->port = ntohs(in4->sin_port);
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(*in6)) {
		l->family = AF_INET6;
		memcpy(l->addr, &in6->sin6_addr, 16);
		l->port = ntohs(in6->sin6_port);
	} else {
		return -1;
	}
	l->any = memcmp(l->addr, zero, l->family == AF_INET ? 4 : 16) == 0;
	inet_ntop(l->family, l->addr, ip, sizeof(ip));
	snprintf(l->text, sizeof(l->text), l->family == AF_INET6 ? "[%s]:%u" :
	    "%s:%u", ip, l->port);
	d->n_listeners++;
	return 0;
}

/* Whether address x (family, bytes) reaches listener l at its port. */
static int
listener_hit(const struct deny_listener *l, int family, const uint8_t *x,
    int (*is_local)(const struct resolver_addr *))
{
	struct resolver_addr c;
	const char *via;
	const uint8_t *lv4;
	struct resolver_addr la;

	memset(&c, 0, sizeof(c));
	c.family = family;
	memcpy(c.addr, x, family == AF_INET ? 4 : 16);
	if (l->any)      /* every address of this host, IPv4 ones too for [::] */
		return (l->family == AF_INET6 || family == AF_INET) && is_local(&c);
	if (family == l->family &&
	    memcmp(x, l->addr, family == AF_INET ? 4 : 16) == 0)
		return 1;
	memset(&la, 0, sizeof(la));
	la.family = l->family;
	memcpy(la.addr, l->addr, sizeof(la.addr));
	lv4 = embedded_v4(&la, &via);  /* a listener on ::ffff:a.b.c.d */
	return family == AF_INET && lv4 != NULL && l->family == AF_INET6 &&
	    memcmp(x, lv4, 4) == 0;
}

int
denylist_self(const struct denylist *d, const struct resolver_addr *a,
    unsigned port, int (*is_local)(const struct resolver_addr *),
    char *listener, size_t listenersz)
{
	const uint8_t *v4;
	const char *via;
	size_t i;

	if (d == NULL || a == NULL || is_local == NULL)
		return 0;
	v4 = embedded_v4(a, &via);
	for (i = 0; i < d->n_listeners; i++) {
		if (d->l[i].port != port)
			continue;
		if (listener_hit(&d->l[i], a->family, a->addr, is_local) ||
		    (v4 != NULL && a->family == AF_INET6 &&
		    listener_hit(&d->l[i], AF_INET, v4, is_local))) {
			if (listener != NULL && listenersz > 0)
				snprintf(listener, listenersz, "%s", d->l[i].text);
			return 1;
		}
	}
	return 0;
}
