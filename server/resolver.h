/*
 * resolver.h: asynchronous DNS for validation, one resolver per event loop.
 *
 * A resolver drives a c-ares channel from a libevent event_base: lookups
 * never block the loop and any number may run at once. Each lookup returns a
 * handle the caller may cancel until its callback has run; the callback runs
 * exactly once otherwise, from the event loop (never from inside the call
 * that started the lookup).
 *
 * Address lookups (A and AAAA) serve http-01 and tls-alpn-01; record
 * lookups serve dns-01 (TXT) and CAA. Record lookups follow CNAMEs
 * themselves, whether the server put the whole chain in one answer or
 * answered with the alias alone, up to RESOLVER_MAX_CNAMES hops.
 */
#ifndef HEARTH_RESOLVER_H
#define HEARTH_RESOLVER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct resolver;
struct resolver_query;

enum {
	RESOLVER_OK = 0,
	RESOLVER_ERR_NOTFOUND = -1,   /* NXDOMAIN, or no records of the type */
	RESOLVER_ERR_TIMEOUT = -2,    /* no server answered in time */
	RESOLVER_ERR_SERVER = -3,     /* SERVFAIL, REFUSED, malformed answer */
	RESOLVER_ERR_NOMEM = -4,
	RESOLVER_ERR_INVALID = -5,    /* bad name or bad configuration */
	RESOLVER_ERR_SHUTDOWN = -6,   /* the resolver was freed first */
	RESOLVER_ERR_CNAME = -7,      /* CNAME loop, or more than RESOLVER_MAX_CNAMES */
};

#define RESOLVER_MAX_ADDRS 16        /* addresses kept per lookup */
#define RESOLVER_MAX_NAME  253       /* presentation length of a DNS name */
#define RESOLVER_MAX_RECORDS 100     /* TXT or CAA records kept per lookup */
#define RESOLVER_MAX_TXT   1024      /* bytes kept of one TXT record */
#define RESOLVER_MAX_CNAMES  10      /* aliases followed per record lookup */
#define RESOLVER_MAX_CAA_TAG 15      /* longer tags are cut (RFC 8659 §4.1) */
#define RESOLVER_MAX_CAA_VALUE 255   /* longer values are replaced, see below */

struct resolver_options {
	/* "IP:PORT[,IP:PORT...]" ("[V6]:PORT" for IPv6), or NULL for the
	 * system's configuration (resolv.conf, and the hosts file). With
	 * servers given, only DNS is asked. */
	const char *servers;
	unsigned timeout_ms;          /* per try; 0: 2000 */
	unsigned tries;               /* per server; 0: 2 */
};

/* One resolved address in network byte order. */
struct resolver_addr {
	int family;                   /* AF_INET or AF_INET6 */
	uint8_t addr[16];             /* 4 bytes used for AF_INET */
};

/*
 * Creates a resolver on base (borrowed; it must outlive the resolver). NULL
 * on failure with a description in err (errsz bytes) when err is not NULL.
 * Not thread-safe against other resolver_new/resolver_free calls.
 */
struct resolver *resolver_new(struct event_base *base,
    const struct resolver_options *opts, char *err, size_t errsz);
/* Cancels every pending lookup (their callbacks run with
 * RESOLVER_ERR_SHUTDOWN) and frees r. Not from inside a callback. NULL ok. */
void resolver_free(struct resolver *r);

/*
 * Address lookup result: rc is RESOLVER_OK with n >= 1 addresses (IPv4
 * first, then IPv6, at most RESOLVER_MAX_ADDRS), or a RESOLVER_ERR_* with
 * n == 0. why is a short description of a failure for messages (static or
 * valid during the call only). addrs is valid during the call only.
 */
typedef void (*resolver_addr_cb)(int rc, const char *why,
    const struct resolver_addr *addrs, size_t n, void *arg);

/* Starts an A and AAAA lookup of name (a DNS name, no search list applied).
 * Returns a handle, valid until cb runs or resolver_cancel(); NULL on
 * failure to start (cb is then not called). The same holds for the record
 * lookups below. */
struct resolver_query *resolver_lookup_addr(struct resolver *r,
    const char *name, resolver_addr_cb cb, void *arg);

/*
 * Record lookup results: rc is RESOLVER_OK with n >= 1 records of the
 * name at the end of its CNAME chain (at most RESOLVER_MAX_RECORDS, in the
 * order of the answer); RESOLVER_ERR_NOTFOUND for NXDOMAIN or no records of
 * the type; RESOLVER_ERR_CNAME with why "CNAME loop at NAME" or "too many
 * CNAMEs (more than N)"; RESOLVER_ERR_TIMEOUT or RESOLVER_ERR_SERVER with
 * why naming the response code ("SERVFAIL", "REFUSED", ...) and, when it
 * came from a CNAME target, that name. why and the records are valid
 * during the call only.
 */

/* TXT: each record's character-strings concatenated into one string (RFC
 * 7208 §3.3), cut at RESOLVER_MAX_TXT bytes; NUL bytes become '?'. */
typedef void (*resolver_txt_cb)(int rc, const char *why,
    const char *const *txt, size_t n, void *arg);
struct resolver_query *resolver_lookup_txt(struct resolver *r,
    const char *name, resolver_txt_cb cb, void *arg);

/* CAA (RFC 8659 §4.1). NUL bytes in tag or value become '?'. A value
 * longer than RESOLVER_MAX_CAA_VALUE is replaced by "" (for issue and
 * issuewild: no CA may issue), so that cutting it never drops a
 * restricting parameter. */
struct resolver_caa {
	unsigned flags;
	char tag[RESOLVER_MAX_CAA_TAG + 1];
	char value[RESOLVER_MAX_CAA_VALUE + 1];
};
typedef void (*resolver_caa_cb)(int rc, const char *why,
    const struct resolver_caa *caa, size_t n, void *arg);
struct resolver_query *resolver_lookup_caa(struct resolver *r,
    const char *name, resolver_caa_cb cb, void *arg);

/*
 * Reads one DNS answer message (abuf, alen bytes, as a server sent it) to a
 * TXT (caa 0) or CAA (caa 1) query for name, the way a record lookup reads
 * it: follows the answer's CNAMEs from name, then takes the records at the
 * end of the chain. Calls txt_cb or caa_cb, from inside this call, with
 * what a lookup would report for this answer, and returns 0; returns 1
 * without calling it when the answer held only aliases (a lookup would ask
 * again, for the name written to again_at). RESOLVER_ERR_INVALID or
 * RESOLVER_ERR_NOMEM otherwise. Needs no resolver: for tests.
 */
int resolver_answer_read(const char *name, int caa, const unsigned char *abuf,
    int alen, char again_at[RESOLVER_MAX_NAME + 1], resolver_txt_cb txt_cb,
    resolver_caa_cb caa_cb, void *arg);

/* Cancels a pending lookup: its callback will not run. q must be a handle
 * whose callback has not run yet. NULL ok. */
void resolver_cancel(struct resolver_query *q);

/* Text for a RESOLVER_* code; static. */
const char *resolver_strerror(int rc);

/* Formats an address for messages: "192.0.2.1" or "2001:db8::1". */
void resolver_addr_str(const struct resolver_addr *a, char *out, size_t outsz);

#endif
