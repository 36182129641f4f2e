/*
 * connlimit.h: the caps on open client connections, in all and per source
 * address, shared by every event loop (docs/limits.md).
 */
#ifndef HEARTH_CONNLIMIT_H
#define HEARTH_CONNLIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define CONNLIMIT_SOURCES 65536   /* distinct sources tracked at once */

/* A source as counted: IPv4 (mapped into IPv6) or an IPv6 /64. */
struct connlimit_key {
	uint8_t addr[16];
};

struct connlimit;

/* total and per_source: 0 for no cap. NULL when out of memory. */
struct connlimit *connlimit_new(long total, long per_source);
void connlimit_free(struct connlimit *cl);

enum connlimit_verdict {
	CONNLIMIT_OK,
	CONNLIMIT_TOTAL,             /* the server holds total connections */
	CONNLIMIT_SOURCE,            /* this source holds per_source */
	CONNLIMIT_TABLE,             /* CONNLIMIT_SOURCES sources are connected */
};

/*
 * Counts a new connection from sa; CONNLIMIT_OK, after which the caller
 * calls connlimit_leave(key) when it closes, or why it is refused (nothing
 * counted). Thread-safe.
 */
enum connlimit_verdict connlimit_enter(struct connlimit *cl,
    const struct sockaddr *sa, socklen_t salen, struct connlimit_key *key);
void connlimit_leave(struct connlimit *cl, const struct connlimit_key *key);
/* The source of key as text ("192.0.2.1", "2001:db8::/64"). */
void connlimit_key_text(const struct connlimit_key *key, char *out,
    size_t outsz);
/* How many connections were refused so far. */
unsigned long connlimit_refused(struct connlimit *cl);

#endif
