/*
 * bare_http.c: the reference point for hearth's HTTPS front end: a bare
 * libevent evhttp server answering every request over plain HTTP with 200
 * and a Replay-Nonce-sized header, on one event loop per thread sharing
 * one listening socket (SO_REUSEPORT), as hearth runs one loop per core.
 * It does nothing else, so wrk against it measures what libevent and the
 * kernel allow on this machine.
 *
 * usage: bare_http PORT [THREADS]
 */
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <event2/keyvalq_struct.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 64

static unsigned short port;

static void
answer(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Replay-Nonce",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control",
	    "no-store");
	evhttp_send_reply(req, 200, "OK", NULL);
}

static void *
loop_main(void *arg)
{
	struct event_base *base = event_base_new();
	struct evhttp *http = base != NULL ? evhttp_new(base) : NULL;
	struct evconnlistener *l;
	struct sockaddr_in sin;

	(void)arg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (http == NULL) {
		fprintf(stderr, "bare_http: libevent set-up failed\n");
		exit(1);
	}
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(http, answer, NULL);
	l = evconnlistener_new_bind(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_REUSEABLE | LEV_OPT_REUSEABLE_PORT, -1,
	    (struct sockaddr *)&sin, sizeof(sin));
	if (l == NULL || evhttp_bind_listener(http, l) == NULL) {
		fprintf(stderr, "bare_http: cannot listen on 127.0.0.1:%u\n", port);
		exit(1);
	}
	event_base_dispatch(base);
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];
	long p, n = 1;
	int i;

	if (argc < 2 || argc > 3 || (p = strtol(argv[1], NULL, 10)) < 1 || p > 65535 ||
	    (argc == 3 && ((n = strtol(argv[2], NULL, 10)) < 1 || n > MAX_THREADS))) {
		fprintf(stderr, "usage: bare_http PORT [THREADS]\n");
		return 2;
	}
	port = (unsigned short)p;
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, loop_main, NULL) != 0)
			return 1;
	pthread_join(t[0], NULL);
	return 0;
}
