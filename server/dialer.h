/*
 * dialer.h: the connecting half shared by the http-01 and tls-alpn-01
 * fetches. A dialer resolves a name (or takes an IP literal as its own
 * address), drops addresses --validation-deny names, and tries the first
 * allowed IPv4 address and then the first allowed IPv6 one, each under an
 * attempt timer. The caller wraps each connecting socket in its own
 * bufferevent and speaks its protocol; when an attempt fails, at any stage,
 * it says so here and the dialer moves to the next address or reports one
 * failure naming every address tried ("A; B"). The dialer never reads or
 * writes the connection and never frees the caller's bufferevent.
 */
#ifndef HEARTH_DIALER_H
#define HEARTH_DIALER_H

#include "acme.h"

struct bufferevent;
struct denylist;
struct event_base;
struct resolver;
struct dialer;

struct dialer_options {
	unsigned attempt_timeout_ms; /* per address, connecting and after */
	/* Ranges never connected to (borrowed); NULL: none. */
	const struct denylist *deny;
	/* What a timeout after connecting interrupted, as in "timeout waiting
	 * for a response from ADDR:PORT" (static). */
	const char *waiting;
};

/*
 * What the dialer asks of its caller; arg is the dialer_new() argument.
 * attempt: fd is a non-blocking socket connecting to dialer_peer(), owned
 *   by the callee from here (closed on failure too). Returns a bufferevent
 *   over it with the caller's callbacks set and enabled, or NULL; the dialer
 *   then waits for the connection on it (or on its underlying socket
 *   bufferevent, for a filter), reported to the caller as BEV_EVENT_CONNECTED.
 * close: the attempt failed; free what attempt set up.
 * fail: no address is left, or none could be tried. detail is valid during
 *   the call only. The callee may free the dialer.
 */
struct dialer_ops {
	struct bufferevent *(*attempt)(void *arg, int fd);
	void (*close)(void *arg);
	void (*fail)(void *arg, enum acme_fetch_status st, const char *detail);
};

/* A dialer on base resolving through res (both borrowed, as are ops and the
 * strings in opts). NULL on failure. Caller frees with dialer_free(). */
struct dialer *dialer_new(struct event_base *base, struct resolver *res,
    const struct dialer_options *opts, const struct dialer_ops *ops,
    void *arg);
/* Stops whatever runs (no callback follows) and frees d. NULL ok. */
void dialer_free(struct dialer *d);

/*
 * Dials port on name, an IP literal when is_ip (RFC 8738), stopping any
 * earlier dial first. Every outcome comes back through ops, possibly
 * before this returns: then d may already be freed.
 */
void dialer_start(struct dialer *d, const char *name, int is_ip,
    unsigned port);
/* Cancels a running lookup and the attempt timer; nothing is called back. */
void dialer_stop(struct dialer *d);

/* Marks the current attempt connected (it changes the wording of later
 * failures), and tells whether it is. */
void dialer_set_connected(struct dialer *d);
int dialer_connected(const struct dialer *d);
/* Whether the address lookup is still running. */
int dialer_resolving(const struct dialer *d);
/* "ADDR:PORT" ("[V6]:PORT") of the current attempt; valid until the next. */
const char *dialer_peer(const struct dialer *d);

/*
 * The current attempt failed: closes it through ops->close, then tries the
 * next address or calls ops->fail with the first failure and, after "; ",
 * the later ones as far as they fit. d may be freed on return.
 */
void dialer_attempt_failf(struct dialer *d, enum acme_fetch_status st,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* dialer_attempt_failf for a socket error (an errno value; 0: unknown):
 * refused, reset, or the error connecting or on the connection. */
void dialer_conn_failed(struct dialer *d, int err);

#endif
