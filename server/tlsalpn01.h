/*
 * tlsalpn01.h: the I/O of tls-alpn-01 validation (RFC 8737, RFC 8738 §6):
 * a TLS handshake with the identifier's address on the tls-alpn-01 port,
 * offering only ALPN "acme-tls/1", and a report of the certificate the peer
 * presented and the protocol it chose. Judging the certificate is acme/'s
 * job (crypto_acme_tls_cert_check).
 *
 * One tlsalpn01_client per event loop; any number of fetches may run on it
 * at once without blocking the loop or each other.
 */
#ifndef HEARTH_TLSALPN01_H
#define HEARTH_TLSALPN01_H

#include <stddef.h>

#include "acme.h"

struct event_base;
struct denylist;
struct resolver;
struct tlsalpn01_client;
struct tlsalpn01_fetch;

#define TLSALPN01_PROTOCOL "acme-tls/1"
#define TLSALPN01_MAX_CERT 16384     /* DER bytes of the peer's certificate kept */

struct tlsalpn01_options {
	unsigned port;               /* 0: 443 */
	unsigned attempt_timeout_ms; /* connect and handshake, per address; 0: 10 s */
	unsigned total_timeout_ms;   /* the whole fetch; 0: 30 s */
	/* Ranges never connected to (borrowed, must outlive the client); NULL:
	 * none. */
	const struct denylist *deny;
};

/* A client on base resolving through res (both borrowed: they must outlive
 * it). opts is copied. NULL on failure. */
struct tlsalpn01_client *tlsalpn01_client_new(struct event_base *base,
    struct resolver *res, const struct tlsalpn01_options *opts);
/* Cancels any fetch still running (their callbacks do not run) and frees
 * c. NULL ok. */
void tlsalpn01_client_free(struct tlsalpn01_client *c);

/*
 * The outcome: r->status and r->detail as acme.h describes; with
 * ACME_FETCH_OK the handshake got as far as the peer's certificate (see
 * tlsalpn01.c for why it may not complete) and r->peer_cert/peer_cert_len hold
 * the peer's certificate (DER; NULL when it sent none) and r->alpn the
 * protocol it selected (NULL when it selected none: wolfSSL completes the
 * handshake then, and acme/ reports the missing ALPN). r and what it points
 * to are valid during the call only. The callback may start other fetches
 * but must not free the client.
 */
typedef void (*tlsalpn01_done_cb)(const struct acme_validation_result *r,
    void *arg);

/*
 * Starts the handshake for identifier: a DNS name (SNI the name), or an IP
 * address when is_ip (connected to directly, SNI its reverse-DNS name).
 * cb runs exactly once, from the event loop, never from inside this call.
 * Returns the fetch, valid until cb runs; NULL when it could not start (cb
 * does not run then).
 */
struct tlsalpn01_fetch *tlsalpn01_fetch_start(struct tlsalpn01_client *c,
    const char *identifier, int is_ip, tlsalpn01_done_cb cb, void *arg);
/* Stops a fetch whose callback has not run; the callback never runs. */
void tlsalpn01_fetch_cancel(struct tlsalpn01_fetch *f);

/*
 * The reverse-DNS name of an IP address (RFC 8738 §6): "1.0.0.127.in-addr.arpa"
 * for 127.0.0.1, 32 nibbles and "ip6.arpa" for IPv6, no final dot. 0, or -1
 * when ip is not an address or out (outsz bytes; 74 suffice) is too small.
 */
int tlsalpn01_reverse_name(const char *ip, char *out, size_t outsz);

#endif
