/*
 * denylist.c: --validation-deny. Parses the CIDR ranges once and answers
 * whether an address lies in one of them. Validation (http01.c,
 * tlsalpn01.c) asks before every connection, after every resolution and
 * redirect, so a name pointed at a metadata service or another denied
 * network is never reached. This file opens no socket and keeps no state
 * beyond the parsed list.
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

struct denylist {
	struct deny_range r[DENYLIST_MAX_RANGES];
	size_t n;
};

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
	return d != NULL ? d->n : 0;
}

int
denylist_match(const struct denylist *d, const struct resolver_addr *a,
    char *range, size_t rangesz)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *v4 = NULL;
	size_t i;
	int hit;

	if (d == NULL)
		return 0;
	if (a->family == AF_INET)
		v4 = a->addr;
	else if (memcmp(a->addr, mapped, sizeof(mapped)) == 0)
		v4 = a->addr + 12;
	for (i = 0; i < d->n; i++) {
		if (d->r[i].family == AF_INET)
			hit = v4 != NULL && prefix_eq(v4, d->r[i].addr, d->r[i].prefix);
		else
			hit = a->family == AF_INET6 &&
			    prefix_eq(a->addr, d->r[i].addr, d->r[i].prefix);
		if (hit) {
			if (range != NULL && rangesz > 0)
				snprintf(range, rangesz, "%s", d->r[i].text);
			return 1;
		}
	}
	return 0;
}
