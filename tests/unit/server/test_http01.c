/*
 * test_http01.c: http-01 fetches against real peers on loopback:
 * pebble-challtestsrv for DNS, challenge responses, redirects and HTTPS,
 * and a small evhttp server in this process for what challtestsrv cannot
 * serve (large and chunked bodies, IPv6, the Host header, a peer that never
 * answers). Every outcome class of acme_fetch_status is checked with its
 * detail.
 */
#include "check.h"
#include "challtest.h"
#include "looptest.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "http01.h"
#include "resolver.h"

struct outcome {
	int done, calls;
	enum acme_fetch_status status;
	char detail[256];
	int http_status;
	char body[ACME_MAX_HTTP01_BODY + 1];
	size_t body_len;
};

static struct event_base *base;
static struct resolver *res;
static struct challtest ct;
static char last_host[256];       /* Host header the local server saw */

static void
done_cb(const struct acme_validation_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->status = r->status;
	snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
	o->http_status = r->http_status;
	o->body_len = r->body_len;
	if (r->body_len <= ACME_MAX_HTTP01_BODY && r->body != NULL)
		memcpy(o->body, r->body, r->body_len);
	o->body[o->body_len <= ACME_MAX_HTTP01_BODY ? o->body_len : 0] = '\0';
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)((t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000);
}

static void
run_until(const int *done, int ms)
{
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*done && ms_since(&t0) < ms)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK), usleep(500);
}

static struct http01_client *
client(unsigned port, unsigned https_port, unsigned attempt_ms)
{
	struct http01_options o;

	memset(&o, 0, sizeof(o));
	o.port = port;
	o.https_port = https_port;
	o.attempt_timeout_ms = attempt_ms;
	return http01_client_new(base, res, &o);
}

/* Fetches token from ident through c and waits for the outcome. */
static void
fetch(struct http01_client *c, const char *ident, int is_ip, const char *token,
    struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (http01_fetch_start(c, ident, is_ip, token, done_cb, o) == NULL) {
		snprintf(o->detail, sizeof(o->detail), "did not start");
		o->status = (enum acme_fetch_status)-1;
		return;
	}
	CHECK_EQ_INT(o->calls, 0);       /* never from inside the start call */
	run_until(&o->done, 8000);
	CHECK_EQ_INT(o->calls, 1);
}

#define CHECK_DETAIL(o, s) do { \
	CHECK(strstr((o)->detail, (s)) != NULL); \
	if (strstr((o)->detail, (s)) == NULL) \
		fprintf(stderr, "  detail was: \"%s\"\n", (o)->detail); \
} while (0)

/* ---- a small local HTTP server ---- */

static void
local_handler(struct evhttp_request *req, void *arg)
{
	const char *uri = evhttp_request_get_uri(req);
	const char *host = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Host");
	struct evbuffer *b = evbuffer_new();
	size_t i;

	snprintf(last_host, sizeof(last_host), "%s", host != NULL ? host : "");
	if (strcmp(uri, "/.well-known/acme-challenge/big") == 0) {
		for (i = 0; i < ACME_MAX_HTTP01_BODY + 100; i++)
			evbuffer_add(b, "x", 1);
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(uri, "/.well-known/acme-challenge/exact") == 0) {
		for (i = 0; i < ACME_MAX_HTTP01_BODY; i++)
			evbuffer_add(b, "y", 1);
		evhttp_send_reply(req, 200, "OK", b);
	} else if (strcmp(uri, "/.well-known/acme-challenge/chunked") == 0 ||
	    strcmp(uri, "/.well-known/acme-challenge/bigchunked") == 0) {
		int big = uri[28] == 'b';

		evhttp_send_reply_start(req, 200, "OK");
		for (i = 0; i < (big ? 40u : 3u); i++) {
			evbuffer_add_printf(b, big ? "%040zu" : "part%zu.", i);
			evhttp_send_reply_chunk(req, b);
		}
		evhttp_send_reply_end(req);
	} else if (strcmp(uri, "/.well-known/acme-challenge/notfound") == 0) {
		evbuffer_add_printf(b, "no such token");
		evhttp_send_reply(req, 404, "Not Found", b);
	} else {
		evbuffer_add_printf(b, "local");
		evhttp_send_reply(req, 200, "OK", b);
	}
	evbuffer_free(b);
}

/* An evhttp server on addr ("127.0.0.1" or "::1") at a free port. */
static struct evhttp *
local_server(const char *addr, unsigned *port)
{
	struct evhttp *h = evhttp_new(base);
	unsigned p;
	int i;

	evhttp_set_gencb(h, local_handler, NULL);
	for (i = 0; i < 20; i++) {
		p = ct_free_port(0);
		if (p != 0 && evhttp_bind_socket(h, addr, (ev_uint16_t)p) == 0) {
			*port = p;
			return h;
		}
	}
	evhttp_free(h);
	return NULL;
}

/* ---- cases ---- */

static void
test_ok_and_404(void)
{
	struct http01_client *c = client(ct.http, 0, 0);
	struct outcome o;

	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.http_status, 200);
	CHECK_EQ_STR(o.body, "tokOK.thumbprint");
	CHECK_EQ_INT(o.body_len, 16);

	/* Names in upper case; challtestsrv answers unknown tokens with an
	 * empty 200. */
	fetch(c, "OK.test", 0, "missing", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.http_status, 200);
	CHECK_EQ_INT(o.body_len, 0);

	/* IP identifiers are not looked up (RFC 8738 §3). */
	fetch(c, "127.0.0.1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_STR(o.body, "tokOK.thumbprint");

	/* Arguments that cannot start. */
	CHECK(http01_fetch_start(c, "ok.test", 0, "bad/token", done_cb, &o) == NULL);
	CHECK(http01_fetch_start(c, "ok.test", 1, "tokOK", done_cb, &o) == NULL);
	CHECK(http01_fetch_start(c, "a b.test", 0, "tokOK", done_cb, &o) == NULL);
	http01_client_free(c);
}

static void
test_dns_failure(void)
{
	struct http01_client *c = client(ct.http, 0, 0);
	struct outcome o;

	fetch(c, "nx.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "no A/AAAA records for nx.test");
	http01_client_free(c);
}

static void
test_refused(void)
{
	unsigned port = ct_free_port(0);
	struct http01_client *c = client(port, 0, 0);
	struct outcome o;
	char want[64];

	fetch(c, "127.0.0.1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%u", port);
	CHECK_EQ_STR(o.detail, want);
	http01_client_free(c);
}

static void
test_redirects(void)
{
	struct http01_client *c = client(ct.http, ct.https, 0);
	struct outcome o;
	char json[512];
	int i;

	/* Same port, by name. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/r1\","
	    "\"targetURL\":\"http://ok.test:%u/.well-known/acme-challenge/tokOK\"}",
	    ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "r1", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.http_status, 200);
	CHECK_EQ_STR(o.body, "tokOK.thumbprint");

	/* To https on the (test's) standard https port: TLS, no verification. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/r2\","
	    "\"targetURL\":\"https://ok.test:%u/.well-known/acme-challenge/tokOK\"}",
	    ct.https);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "r2", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	if (o.status != ACME_FETCH_OK)
		fprintf(stderr, "  detail was: \"%s\"\n", o.detail);
	CHECK_EQ_INT(o.http_status, 200);
	CHECK_EQ_STR(o.body, "tokOK.thumbprint");

	/* https to a plain HTTP server: a TLS failure naming the peer. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/r7\","
	    "\"targetURL\":\"https://ok.test:%u/.well-known/acme-challenge/tokOK\"}",
	    ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "r7", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_TLS);
	CHECK_DETAIL(&o, "TLS with 127.0.0.1:");

	/* A port that is neither standard nor the http-01 port. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/r3\","
	    "\"targetURL\":\"http://ok.test:%u/.well-known/acme-challenge/tokOK\"}",
	    ct.mgmt);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "r3", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_DETAIL(&o, "is not allowed");

	/* A scheme other than http and https. */
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", "{\"path\":\"/.well-known/"
	    "acme-challenge/r4\",\"targetURL\":\"ftp://ok.test/x\"}"), 200);
	fetch(c, "ok.test", 0, "r4", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_DETAIL(&o, "only http and https are allowed");

	/* A loop. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/r5\","
	    "\"targetURL\":\"http://ok.test:%u/.well-known/acme-challenge/r5\"}",
	    ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "r5", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_DETAIL(&o, "redirect loop");

	/* A chain c0 -> c1 -> ... -> c11 -> tokOK: 12 redirects. Starting at
	 * c2 makes exactly 10, which is allowed; c0 is too many. */
	for (i = 0; i <= 11; i++) {
		if (i < 11)
			snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-"
			    "challenge/c%d\",\"targetURL\":\"http://ok.test:%u/.well-known/"
			    "acme-challenge/c%d\"}", i, ct.http, i + 1);
		else
			snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-"
			    "challenge/c%d\",\"targetURL\":\"http://ok.test:%u/.well-known/"
			    "acme-challenge/tokOK\"}", i, ct.http);
		CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	}
	fetch(c, "ok.test", 0, "c2", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_STR(o.body, "tokOK.thumbprint");
	fetch(c, "ok.test", 0, "c0", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_DETAIL(&o, "too many redirects");

	/* A redirect to a name that does not resolve is a DNS failure. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/r6\","
	    "\"targetURL\":\"http://gone.test:%u/x\"}", ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "r6", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "no A/AAAA records for gone.test");
	http01_client_free(c);
}

static void
test_local_bodies(void)
{
	struct evhttp *h;
	struct http01_client *c;
	struct outcome o;
	unsigned port = 0;
	char want[64];

	CHECK((h = local_server("127.0.0.1", &port)) != NULL);
	if (h == NULL)
		return;
	c = client(port, 0, 0);
	fetch(c, "127.0.0.1", 1, "big", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	CHECK_DETAIL(&o, "too large");
	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	CHECK_DETAIL(&o, want);

	/* A 404 is a response like any other; acme/ judges it. */
	fetch(c, "127.0.0.1", 1, "notfound", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.http_status, 404);
	CHECK_EQ_STR(o.body, "no such token");

	fetch(c, "127.0.0.1", 1, "exact", &o);      /* the cap itself is fine */
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.body_len, ACME_MAX_HTTP01_BODY);

	fetch(c, "127.0.0.1", 1, "chunked", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_STR(o.body, "part0.part1.part2.");

	fetch(c, "127.0.0.1", 1, "bigchunked", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	CHECK_DETAIL(&o, "too large");

	/* Host carries the port when it is not 80. */
	snprintf(want, sizeof(want), "127.0.0.1:%u", port);
	fetch(c, "127.0.0.1", 1, "host", &o);
	CHECK_EQ_STR(last_host, want);
	CHECK_EQ_STR(o.body, "local");
	http01_client_free(c);
	evhttp_free(h);
}

/* IPv6 literal identifiers go in brackets; a name whose IPv4 address
 * refuses is tried again over IPv6. */
static void
test_ipv6(void)
{
	struct evhttp *h;
	struct http01_client *c;
	struct outcome o;
	unsigned port = 0;
	char want[64], json[256];

	if ((h = local_server("::1", &port)) == NULL) {
		fprintf(stderr, "no IPv6 loopback: IPv6 cases skipped\n");
		return;
	}
	c = client(port, 0, 0);
	fetch(c, "::1", 1, "v6", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_STR(o.body, "local");
	snprintf(want, sizeof(want), "[::1]:%u", port);
	CHECK_EQ_STR(last_host, want);

	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"dual.test\",\"addresses\":"
	    "[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-aaaa", "{\"host\":\"dual.test\","
	    "\"addresses\":[\"::1\"]}"), 200);
	last_host[0] = '\0';
	fetch(c, "dual.test", 0, "v6", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_STR(o.body, "local");
	snprintf(want, sizeof(want), "dual.test:%u", port);
	CHECK_EQ_STR(last_host, want);
	http01_client_free(c);
	evhttp_free(h);

	/* Both refuse: the detail names both attempts, IPv4 first. */
	c = client(ct_free_port(0), 0, 0);
	fetch(c, "dual.test", 0, "v6", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	CHECK_DETAIL(&o, "connection refused by 127.0.0.1:");
	CHECK_DETAIL(&o, "; connection refused by [::1]:");
	http01_client_free(c);
	(void)json;
}

/* A peer that accepts (in the kernel) and never answers. */
static void
test_timeout(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct http01_client *c;
	struct outcome o;
	struct timespec t0;
	char want[80];
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(fd, 8) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	c = client(ntohs(sa.sin_port), 0, 400);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fetch(c, "127.0.0.1", 1, "tokOK", &o);
	CHECK(ms_since(&t0) >= 390 && ms_since(&t0) < 3000);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	snprintf(want, sizeof(want), "timeout waiting for a response from "
	    "127.0.0.1:%u", ntohs(sa.sin_port));
	CHECK_EQ_STR(o.detail, want);
	http01_client_free(c);
	close(fd);
}

/* Many fetches at once, slow ones among them: none waits for another. */
static void
test_concurrent_and_cancel(void)
{
	struct http01_client *c = client(ct.http, 0, 0);
	struct http01_client *slow;
	struct outcome o[40], hang, cancelled;
	struct http01_fetch *f;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct timespec t0;
	int i, all, fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(fd, 8) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	slow = client(ntohs(sa.sin_port), 0, 3000);
	memset(&hang, 0, sizeof(hang));
	CHECK(http01_fetch_start(slow, "127.0.0.1", 1, "tokOK", done_cb, &hang) != NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 40; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		CHECK(http01_fetch_start(c, i % 2 ? "ok.test" : "127.0.0.1", i % 2 == 0,
		    "tokOK", done_cb, &o[i]) != NULL);
	}
	memset(&cancelled, 0, sizeof(cancelled));
	f = http01_fetch_start(c, "ok.test", 0, "tokOK", done_cb, &cancelled);
	http01_fetch_cancel(f);
	for (all = 0; !all && ms_since(&t0) < 5000;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		for (all = 1, i = 0; i < 40; i++)
			all &= o[i].done;
	}
	CHECK(all);
	CHECK(ms_since(&t0) < 2500);       /* well before the slow one ends */
	CHECK_EQ_INT(hang.done, 0);
	for (i = 0; i < 40; i++) {
		CHECK_EQ_INT(o[i].calls, 1);
		CHECK_EQ_INT(o[i].status, ACME_FETCH_OK);
		CHECK_EQ_STR(o[i].body, "tokOK.thumbprint");
	}
	CHECK_EQ_INT(cancelled.calls, 0);
	/* Freeing the client cancels the slow fetch without a callback. */
	http01_client_free(slow);
	CHECK_EQ_INT(hang.calls, 0);
	http01_client_free(c);
	close(fd);
}

int
main(void)
{
	if (ct_start(&ct) != 0)
		return 1;
	res = lt_resolver(&base, ct.dns_addr);
	CHECK(base != NULL && res != NULL);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"ok.test\",\"addresses\":"
	    "[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-http01", "{\"token\":\"tokOK\","
	    "\"content\":\"tokOK.thumbprint\"}"), 200);
	if (res != NULL) {
		test_ok_and_404();
		test_dns_failure();
		test_refused();
		test_redirects();
		test_local_bodies();
		test_ipv6();
		test_timeout();
		test_concurrent_and_cancel();
	}
	resolver_free(res);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
