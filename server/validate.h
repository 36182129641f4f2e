/*
 * validate.h: validation I/O for one event loop. Takes the jobs acme/
 * queues (acme_validation_next), fetches what each challenge needs (http-01
 * body, dns-01 TXT records, tls-alpn-01 certificate, and the CAA record set
 * when the job asks), and hands the result back to acme/
 * (acme_validation_done), which judges it.
 */
#ifndef HEARTH_VALIDATE_H
#define HEARTH_VALIDATE_H

struct event_base;
struct acme;
struct metrics;
struct config;
struct denylist;
struct validator;

#define VALIDATE_MAX_ACTIVE 256   /* fetches in flight per event loop */

/* A validator on base for a (both borrowed; they must outlive it), using
 * cfg's --resolver, --http01-port and --tlsalpn01-port, and never
 * connecting where deny says not to (borrowed too: --validation-deny, the
 * unspecified addresses and the server's own listeners). It looks at
 * acme/'s queue once a second by itself as well. Finished validations are
 * counted in metrics (borrowed; may be NULL). NULL on failure, logged. */
struct validator *validator_new(struct event_base *base, struct acme *a,
    const struct config *cfg, const struct denylist *deny,
    struct metrics *metrics);
/* Starts every queued validation, up to VALIDATE_MAX_ACTIVE at once (the
 * rest are taken as running ones finish, here or by another loop's
 * validator; a retry waiting out its delay counts as running). Returns 1
 * when it stopped at that cap (jobs may be left queued), else 0. Call
 * from base's thread. NULL ok. */
int validator_kick(struct validator *v);
/* Ties v to the server's held answers: when a validation's result is
 * stored, holds_notify(holds, its challenge id); to the pool that stores
 * results off the loop (pool, the loop's; NULL: stored on the loop); and
 * when v is full after a job finished, full(arg), so other loops take
 * what is queued. From base's thread, before the loop runs. */
struct holds;
struct pool_loop;
void validator_link(struct validator *v, struct holds *holds,
    struct pool_loop *pool, void (*full)(void *arg), void *arg);
/* Stops running validations without reporting them (acme/ keeps them as
 * processing) and frees v. From base's thread, loop not running, after
 * the pool stopped and the loop's pool_loop_free(). NULL ok. */
void validator_free(struct validator *v);

#endif
