/*
 * responder.h: the benchmark's http-01 responder: an evhttp server on its
 * own thread answering /.well-known/acme-challenge/TOKEN from one slot per
 * worker.
 */
#ifndef HEARTH_BENCH_RESPONDER_H
#define HEARTH_BENCH_RESPONDER_H

#include <pthread.h>
#include <stddef.h>

#define MAX_TOKEN 128
#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

struct event_base;
struct evhttp;

/* One slot per worker: the token it is being validated for, if any. */
struct slot {
	char token[MAX_TOKEN];
	char keyauth[MAX_TOKEN + 64];
};

struct responder {
	pthread_mutex_t mu;
	struct slot *slots;
	size_t n_slots;
	long served, missed;
	struct event_base *base;
	struct evhttp *http;
	pthread_t thread;
};

/* 0 when listening on 127.0.0.1:port with n_slots empty slots. */
int responder_start(struct responder *r, size_t n_slots, unsigned port);
void responder_stop(struct responder *r);
/* Serve keyauth for token from slot; clear the slot. */
void responder_set(struct responder *r, unsigned slot, const char *token,
    const char *keyauth);
void responder_clear(struct responder *r, unsigned slot);

#endif
