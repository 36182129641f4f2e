/*
 * hold.h: answers held until the validation they wait on ends. An answer
 * about a challenge being validated, or an authorization or order waiting
 * on one, names that validation (acme_response.wait); instead of sending it
 * with Retry-After at once, the loop keeps it until the validation's result
 * is stored, then has acme/ render the object again (acme_refresh) and
 * sends that: a client learns the result the moment it exists. A hold ends
 * at --hold-max at the latest, answered as the object then stands; a
 * client that closes its connection ends it too.
 *
 * One struct holds per server, shared by every loop: the held answers by
 * the validation they wait on, under one lock, so a validator on any loop
 * wakes the loop that holds the answer (holds_notify). One struct
 * hold_loop per event loop: its held answers and a wake-up other threads
 * may ring (an eventfd), which also kicks the loop's validator.
 */
#ifndef HEARTH_HOLD_H
#define HEARTH_HOLD_H

struct event_base;
struct acme;
struct metrics;
struct validator;
struct holds;
struct hold_loop;
struct http_pending;

#define HOLD_MAX_PER_LOOP    1024   /* answers one loop holds at once */
#define HOLD_MAX_PER_ACCOUNT 16     /* answers one account has held at once
                                       (counted by a keyed hash of the
                                       account into HOLD_ACCOUNT_SLOTS) */
#define HOLD_ACCOUNT_SLOTS   4096
#define HOLD_BUCKETS         1024   /* hash buckets of validations waited on */

/* The holds of a server: answers wait at most max_ms (0: never held).
 * a and metrics are borrowed (metrics may be NULL). NULL on failure. */
struct holds *holds_new(struct acme *a, struct metrics *metrics, long max_ms);
/* After every loop's hold_loop_free(). NULL ok. */
void holds_free(struct holds *h);
/* A number that grows with every holds_notify(); read before acme_handle()
 * into http_pending.seq, so a validation that ends before its answer is
 * held is not missed. 0 when h is NULL. Any thread. */
unsigned long long holds_seq(struct holds *h);
/* The validation of challenge_id ended (its result is stored): wakes the
 * loops holding answers that wait on it. Any thread; h may be NULL. */
void holds_notify(struct holds *h, const char *challenge_id);

/* The holds and the wake-up of the loop on base; its wake-up also kicks v
 * (borrowed, may be NULL). NULL on failure, logged. */
struct hold_loop *hold_loop_new(struct holds *h, struct event_base *base,
    struct validator *v);
/* Rings l's wake-up. Any thread. NULL ok. */
void hold_loop_wake(struct hold_loop *l);
/* Drops every held answer without sending it (the connections go with
 * evhttp_free() after this) and frees l. Loop not running. NULL ok. */
void hold_loop_free(struct hold_loop *l);

/* Holds p's answer (p->resp.wait names the validation): 0 when held, p's
 * answer then belongs to the hold and p is not to be used; -1 when it is
 * not held (holds off, a cap reached, no memory) and the caller sends it.
 * From l's loop. */
int hold_start(struct hold_loop *l, struct http_pending *p);

#endif
