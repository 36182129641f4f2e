/*
 * test_resolver.c: the c-ares resolver on a libevent loop, against a real
 * DNS server (pebble-challtestsrv) on loopback: addresses in IPv4-then-IPv6
 * order, unknown names, an unreachable server, numeric names delivered
 * asynchronously, cancellation, and shutdown with lookups pending.
 */
#include "check.h"
#include "challtest.h"

#include <event2/event.h>

#include "resolver.h"

struct outcome {
	int done, rc, calls;
	size_t n;
	struct resolver_addr addrs[RESOLVER_MAX_ADDRS];
	char why[128];
};

static void
addr_cb(int rc, const char *why, const struct resolver_addr *addrs, size_t n,
    void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->rc = rc;
	o->n = n;
	memcpy(o->addrs, addrs, n * sizeof(addrs[0]));
	snprintf(o->why, sizeof(o->why), "%s", why != NULL ? why : "");
}

/* Runs base until o is done or ms pass. */
static void
run_until(struct event_base *base, const struct outcome *o, int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!o->done) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > ms)
			break;
		usleep(1000);
	}
}

static const char *
addr_str(const struct resolver_addr *a)
{
	static char buf[64];

	resolver_addr_str(a, buf, sizeof(buf));
	return buf;
}

static void
test_addresses(struct event_base *base, struct resolver *r,
    const struct challtest *ct)
{
	struct outcome o;

	CHECK_EQ_INT(ct_post(ct, "/add-a", "{\"host\":\"multi.test\",\"addresses\":"
	    "[\"127.0.0.2\",\"127.0.0.3\"]}"), 200);
	CHECK_EQ_INT(ct_post(ct, "/add-aaaa", "{\"host\":\"multi.test\",\"addresses\":"
	    "[\"::1\"]}"), 200);
	memset(&o, 0, sizeof(o));
	CHECK(resolver_lookup_addr(r, "multi.test", addr_cb, &o) != NULL);
	CHECK_EQ_INT(o.done, 0);
	run_until(base, &o, 5000);
	CHECK_EQ_INT(o.calls, 1);
	CHECK_EQ_INT(o.rc, RESOLVER_OK);
	CHECK_EQ_INT(o.n, 3);
	if (o.n == 3) {
		CHECK_EQ_STR(addr_str(&o.addrs[0]), "127.0.0.2");
		CHECK_EQ_STR(addr_str(&o.addrs[1]), "127.0.0.3");
		CHECK_EQ_STR(addr_str(&o.addrs[2]), "::1");
		CHECK_EQ_INT(o.addrs[2].family, AF_INET6);
	}

	/* A only. */
	CHECK_EQ_INT(ct_post(ct, "/add-a", "{\"host\":\"v4.test\",\"addresses\":"
	    "[\"192.0.2.7\"]}"), 200);
	memset(&o, 0, sizeof(o));
	CHECK(resolver_lookup_addr(r, "v4.test", addr_cb, &o) != NULL);
	run_until(base, &o, 5000);
	CHECK_EQ_INT(o.rc, RESOLVER_OK);
	CHECK_EQ_INT(o.n, 1);
	CHECK_EQ_STR(addr_str(&o.addrs[0]), "192.0.2.7");
}

static void
test_unknown(struct event_base *base, struct resolver *r)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	CHECK(resolver_lookup_addr(r, "nothing-here.test", addr_cb, &o) != NULL);
	run_until(base, &o, 5000);
	CHECK_EQ_INT(o.calls, 1);
	CHECK_EQ_INT(o.rc, RESOLVER_ERR_NOTFOUND);
	CHECK_EQ_INT(o.n, 0);
	CHECK(o.why[0] != '\0');

	/* Names that cannot be looked up do not start. */
	CHECK(resolver_lookup_addr(r, "", addr_cb, &o) == NULL);
}

/* A numeric name completes inside c-ares at once; the callback must still
 * come from the loop. */
static void
test_numeric_async(struct event_base *base, struct resolver *r)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	CHECK(resolver_lookup_addr(r, "127.0.0.9", addr_cb, &o) != NULL);
	CHECK_EQ_INT(o.calls, 0);
	run_until(base, &o, 2000);
	CHECK_EQ_INT(o.calls, 1);
	CHECK_EQ_INT(o.rc, RESOLVER_OK);
	CHECK_EQ_STR(addr_str(&o.addrs[0]), "127.0.0.9");
}

static void
test_cancel(struct event_base *base, struct resolver *r)
{
	struct outcome a, b, c;
	struct resolver_query *qa, *qc;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	qa = resolver_lookup_addr(r, "multi.test", addr_cb, &a);
	CHECK(resolver_lookup_addr(r, "v4.test", addr_cb, &b) != NULL);
	qc = resolver_lookup_addr(r, "127.0.0.1", addr_cb, &c);   /* deferred */
	CHECK(qa != NULL && qc != NULL);
	resolver_cancel(qa);
	resolver_cancel(qc);
	run_until(base, &b, 5000);
	run_until(base, &a, 300);     /* give the cancelled one time to answer */
	CHECK_EQ_INT(b.calls, 1);
	CHECK_EQ_INT(b.rc, RESOLVER_OK);
	CHECK_EQ_INT(a.calls, 0);
	CHECK_EQ_INT(c.calls, 0);
}

/* A server that never answers: the lookup ends in time with an error. */
static void
test_dead_server(struct event_base *base)
{
	struct resolver_options ro;
	struct resolver *r;
	struct outcome o;
	char servers[64], err[128];
	unsigned port = ct_free_port(1);
	int fd;
	struct sockaddr_in sa;

	/* A bound UDP socket that reads nothing: queries vanish. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	snprintf(servers, sizeof(servers), "127.0.0.1:%u", port);
	memset(&ro, 0, sizeof(ro));
	ro.servers = servers;
	ro.timeout_ms = 200;
	ro.tries = 1;
	r = resolver_new(base, &ro, err, sizeof(err));
	CHECK(r != NULL);
	memset(&o, 0, sizeof(o));
	CHECK(resolver_lookup_addr(r, "slow.test", addr_cb, &o) != NULL);
	run_until(base, &o, 3000);
	CHECK_EQ_INT(o.calls, 1);
	CHECK_EQ_INT(o.rc, RESOLVER_ERR_TIMEOUT);

	/* Freeing with a lookup pending reports it as shut down. */
	memset(&o, 0, sizeof(o));
	CHECK(resolver_lookup_addr(r, "slow.test", addr_cb, &o) != NULL);
	resolver_free(r);
	CHECK_EQ_INT(o.calls, 1);
	CHECK_EQ_INT(o.rc, RESOLVER_ERR_SHUTDOWN);
	close(fd);
}

static void
test_bad_config(struct event_base *base)
{
	struct resolver_options ro;
	char err[128];

	memset(&ro, 0, sizeof(ro));
	ro.servers = "not-an-address";
	CHECK(resolver_new(base, &ro, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "c-ares") != NULL);
}

int
main(void)
{
	struct challtest ct;
	struct event_base *base;
	struct resolver_options ro;
	struct resolver *r;
	char err[128];

	if (ct_start(&ct) != 0)
		return 1;
	base = event_base_new();
	memset(&ro, 0, sizeof(ro));
	ro.servers = ct.dns_addr;
	r = resolver_new(base, &ro, err, sizeof(err));
	CHECK(r != NULL);
	if (r != NULL) {
		test_addresses(base, r, &ct);
		test_unknown(base, r);
		test_numeric_async(base, r);
		test_cancel(base, r);
		resolver_free(r);
	}
	test_dead_server(base);
	test_bad_config(base);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
