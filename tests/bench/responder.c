/*
 * responder.c: the benchmark's http-01 responder (see responder.h).
 */
#include "responder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/thread.h>

/* ---- the http-01 responder ---------------------------------------------------- */

static void
responder_cb(struct evhttp_request *req, void *arg)
{
	struct responder *r = arg;
	const char *path = evhttp_request_get_uri(req);
	struct evbuffer *out = evhttp_request_get_output_buffer(req);
	size_t plen = strlen(CHALLENGE_PREFIX), i;
	int found = 0;

	if (path != NULL && strncmp(path, CHALLENGE_PREFIX, plen) == 0) {
		pthread_mutex_lock(&r->mu);
		for (i = 0; i < r->n_slots && !found; i++)
			if (r->slots[i].token[0] != '\0' &&
			    strcmp(r->slots[i].token, path + plen) == 0)
				found = evbuffer_add(out, r->slots[i].keyauth,
				    strlen(r->slots[i].keyauth)) == 0;
		if (found)
			r->served++;
		else
			r->missed++;
		pthread_mutex_unlock(&r->mu);
	}
	if (!found) {
		evhttp_send_reply(req, 404, "Not Found", NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
	    "application/octet-stream");
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void *
responder_main(void *arg)
{
	struct responder *r = arg;

	event_base_dispatch(r->base);
	return NULL;
}

/* Listens on 127.0.0.1:port in its own thread; 0 or -1 with a message. */
int
responder_start(struct responder *r, size_t n_slots, unsigned port)
{
	if ((r->slots = calloc(n_slots, sizeof(*r->slots))) == NULL)
		return -1;
	r->n_slots = n_slots;
	pthread_mutex_init(&r->mu, NULL);
	if (evthread_use_pthreads() != 0 || (r->base = event_base_new()) == NULL ||
	    (r->http = evhttp_new(r->base)) == NULL) {
		fprintf(stderr, "bench_acme: libevent set-up failed\n");
		return -1;
	}
	evhttp_set_gencb(r->http, responder_cb, r);
	evhttp_set_allowed_methods(r->http, EVHTTP_REQ_GET);
	if (evhttp_bind_socket(r->http, "127.0.0.1", (ev_uint16_t)port) != 0) {
		fprintf(stderr, "bench_acme: cannot listen on 127.0.0.1:%u for http-01\n",
		    port);
		return -1;
	}
	if (pthread_create(&r->thread, NULL, responder_main, r) != 0)
		return -1;
	return 0;
}

void
responder_stop(struct responder *r)
{
	event_base_loopbreak(r->base);
	pthread_join(r->thread, NULL);
	evhttp_free(r->http);
	event_base_free(r->base);
	free(r->slots);
	pthread_mutex_destroy(&r->mu);
}

void
responder_set(struct responder *r, unsigned slot, const char *token,
    const char *keyauth)
{
	pthread_mutex_lock(&r->mu);
	snprintf(r->slots[slot].token, sizeof(r->slots[slot].token), "%s", token);
	snprintf(r->slots[slot].keyauth, sizeof(r->slots[slot].keyauth), "%s", keyauth);
	pthread_mutex_unlock(&r->mu);
}

void
responder_clear(struct responder *r, unsigned slot)
{
	pthread_mutex_lock(&r->mu);
	r->slots[slot].token[0] = '\0';
	pthread_mutex_unlock(&r->mu);
}

