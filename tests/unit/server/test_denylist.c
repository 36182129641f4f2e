/*
 * test_denylist.c: --validation-deny. Parsing (defaults, "none", every way
 * a range can be wrong), matching (IPv4, IPv6, IPv4-mapped IPv6), the
 * start-up error naming the setting, and http-01 fetches against a real
 * pebble-challtestsrv that the list stops: an IP identifier in the default
 * link-local range, a name in a configured range, a redirect to a denied
 * address, a name whose every address is denied, and one with an allowed
 * address left. Also what no setting clears: the unspecified addresses,
 * the IPv4 address inside NAT64 and 6to4 addresses judged as itself, and
 * this server's own listeners, by matching and by real fetches (a
 * challenge at the listener's port, a redirect to it).
 */
#include "check.h"
#include "challtest.h"
#include "looptest.h"

#include "denylist.h"
#include "http01.h"
#include "resolver.h"
#include "server_internal.h"

struct outcome {
	int done, calls;
	enum acme_fetch_status status;
	char detail[256];
	int http_status;
};

static struct event_base *base;
static struct resolver *res;
static struct challtest ct;

static struct resolver_addr
addr(const char *s)
{
	struct resolver_addr a;

	memset(&a, 0, sizeof(a));
	a.family = strchr(s, ':') != NULL ? AF_INET6 : AF_INET;
	(void)inet_pton(a.family, s, a.addr);
	return a;
}

/* The range s is denied by, or "" when allowed. */
static const char *
match(const struct denylist *d, const char *s)
{
	static char range[DENYLIST_RANGE_STRLEN];
	struct resolver_addr a = addr(s);

	range[0] = '\0';
	if (!denylist_match(d, &a, range, sizeof(range)))
		range[0] = '\0';
	return range;
}

static void
test_parse_and_match(void)
{
	const char *mine[] = { "10.0.0.0/8", "fd00::/8", "192.0.2.7", "2001:db8::/127" };
	const char *none[] = { "none" };
	const char *bad[][1] = { { "10.0.0.1/8" }, { "10.0.0.0/33" }, { "10.0.0.0/" },
	    { "10.0.0/8" }, { "fe80::/129" }, { "fe80::1/10" }, { "example.com" },
	    { "10.0.0.0/+8" }, { "10.0.0.0/08x" }, { "/8" } };
	const char *mixed[] = { "none", "10.0.0.0/8" };
	struct resolver_addr a;
	struct denylist *d;
	char err[256];
	size_t i;

	/* Defaults when not configured. */
	d = denylist_new(NULL, 0, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ_INT(denylist_count(d), 3);
	CHECK_EQ_STR(match(d, "169.254.169.254"), "169.254.0.0/16");
	CHECK_EQ_STR(match(d, "fe80::1"), "fe80::/10");
	CHECK_EQ_STR(match(d, "febf:ffff::1"), "fe80::/10");
	CHECK_EQ_STR(match(d, "fd00:ec2::254"), "fd00:ec2::254/128");
	CHECK_EQ_STR(match(d, "fd00:ec2::255"), "");
	CHECK_EQ_STR(match(d, "::ffff:169.254.1.1"), "169.254.0.0/16");
	CHECK_EQ_STR(match(d, "169.255.0.1"), "");
	CHECK_EQ_STR(match(d, "127.0.0.1"), "");
	CHECK_EQ_STR(match(d, "fec0::1"), "");
	denylist_free(d);

	d = denylist_new(none, 1, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ_INT(denylist_count(d), 0);
	CHECK_EQ_STR(match(d, "169.254.169.254"), "");
	denylist_free(d);

	d = denylist_new(mine, 4, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ_STR(match(d, "10.255.255.255"), "10.0.0.0/8");
	CHECK_EQ_STR(match(d, "11.0.0.0"), "");
	CHECK_EQ_STR(match(d, "192.0.2.7"), "192.0.2.7/32");
	CHECK_EQ_STR(match(d, "192.0.2.8"), "");
	CHECK_EQ_STR(match(d, "fdff::1"), "fd00::/8");
	CHECK_EQ_STR(match(d, "2001:db8::1"), "2001:db8::/127");
	CHECK_EQ_STR(match(d, "2001:db8::2"), "");
	CHECK_EQ_STR(match(d, "::ffff:10.1.2.3"), "10.0.0.0/8");
	denylist_free(d);

	/* No list denies nothing. */
	a = addr("169.254.0.1");
	CHECK_EQ_INT(denylist_match(NULL, &a, NULL, 0), 0);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		d = denylist_new(bad[i], 1, err, sizeof(err));
		CHECK(d == NULL);
		CHECK_CONTAINS(err, bad[i][0]);
		denylist_free(d);
	}
	d = denylist_new((const char *[]){ "10.0.0.1/8" }, 1, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_EQ_STR(err, "\"10.0.0.1/8\" has host bits set (the range is 10.0.0.0/8)");
	d = denylist_new(mixed, 2, err, sizeof(err));
	CHECK(d == NULL);
	CHECK_CONTAINS(err, "\"none\" cannot be combined");
}

/* The unspecified addresses whatever the setting, and the IPv4 address a
 * NAT64 or 6to4 address carries judged as that address. */
static void
test_unspecified_and_embedded(void)
{
	const char *none[] = { "none" };
	const char *ten[] = { "10.0.0.0/8" };
	struct denylist *d;

	d = denylist_new(none, 1, NULL, 0);
	CHECK(d != NULL);
	CHECK_EQ_INT(denylist_count(d), 0);
	CHECK_EQ_STR(match(d, "0.0.0.0"), "0.0.0.0/8");
	CHECK_EQ_STR(match(d, "0.1.2.3"), "0.0.0.0/8");
	CHECK_EQ_STR(match(d, "1.0.0.0"), "");
	CHECK_EQ_STR(match(d, "::"), "::/128");
	CHECK_EQ_STR(match(d, "::1"), "");
	CHECK_EQ_STR(match(d, "::ffff:0.0.0.0"), "0.0.0.0/8");
	CHECK_EQ_STR(match(d, "64:ff9b::"), "0.0.0.0/8 through NAT64");
	CHECK_EQ_STR(match(d, "64:ff9b::3.4.5.6"), "");
	CHECK_EQ_STR(match(d, "2002::1"), "0.0.0.0/8 through 6to4");
	CHECK_EQ_STR(match(d, "2002:0001:0203::"), "0.0.0.0/8 through 6to4");
	CHECK_EQ_STR(match(d, "2002:0102:0304::1"), "");
	denylist_free(d);

	d = denylist_new(NULL, 0, NULL, 0);
	CHECK(d != NULL);
	CHECK_EQ_STR(match(d, "0.0.0.0"), "0.0.0.0/8");
	CHECK_EQ_STR(match(d, "64:ff9b::169.254.169.254"),
	    "169.254.0.0/16 through NAT64");
	CHECK_EQ_STR(match(d, "64:ff9b::a9fe:1"), "169.254.0.0/16 through NAT64");
	CHECK_EQ_STR(match(d, "2002:a9fe:a9fe::1"), "169.254.0.0/16 through 6to4");
	CHECK_EQ_STR(match(d, "64:ff9b::8.8.8.8"), "");
	/* Only the well-known NAT64 prefix is recognised (a network's own
	 * prefix is denied by listing it). */
	CHECK_EQ_STR(match(d, "64:ff9b:1::a9fe:a9fe"), "");
	denylist_free(d);

	d = denylist_new(ten, 1, NULL, 0);
	CHECK(d != NULL);
	CHECK_EQ_STR(match(d, "2002:0a01:0203::42"), "10.0.0.0/8 through 6to4");
	CHECK_EQ_STR(match(d, "64:ff9b::10.9.9.9"), "10.0.0.0/8 through NAT64");
	CHECK_EQ_STR(match(d, "::ffff:10.9.9.9"), "10.0.0.0/8");
	CHECK_EQ_STR(match(d, "169.254.1.1"), "");
	denylist_free(d);
}

/* A stand-in for "is this host's": 10.1.1.1, 127.0.0.0/8 and ::1. */
static int
fake_local(const struct resolver_addr *a)
{
	static const uint8_t ten[4] = { 10, 1, 1, 1 }, lo6[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return memcmp(a->addr, ten, 4) == 0 || a->addr[0] == 127;
	return memcmp(a->addr, lo6, 16) == 0;
}

static void
add_listener(struct denylist *d, const char *ip, unsigned port, int want)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, ip, &in6->sin6_addr);
		len = sizeof(*in6);
	} else {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, ip, &in4->sin_addr);
		len = sizeof(*in4);
	}
	CHECK_EQ_INT(denylist_add_listener(d, (struct sockaddr *)&ss, len), want);
}

/* The listener a:port reaches, or "" for none. */
static const char *
self(const struct denylist *d, const char *s, unsigned port)
{
	static char what[DENYLIST_RANGE_STRLEN];
	struct resolver_addr a = addr(s);

	what[0] = '\0';
	if (!denylist_self(d, &a, port, fake_local, what, sizeof(what)))
		what[0] = '\0';
	return what;
}

static void
test_listeners(void)
{
	const char *none[] = { "none" };
	struct denylist *d = denylist_new(none, 1, NULL, 0);
	struct sockaddr_un { sa_family_t f; char p[108]; } un = { AF_UNIX, "x" };
	int i;

	CHECK(d != NULL);
	CHECK_EQ_STR(self(d, "127.0.0.1", 8443), "");   /* none recorded */
	add_listener(d, "127.0.0.1", 8443, 0);
	add_listener(d, "::", 9443, 0);
	add_listener(d, "0.0.0.0", 7443, 0);
	CHECK_EQ_STR(self(d, "127.0.0.1", 8443), "127.0.0.1:8443");
	CHECK_EQ_STR(self(d, "127.0.0.1", 8444), "");
	CHECK_EQ_STR(self(d, "127.0.0.2", 8443), "");
	CHECK_EQ_STR(self(d, "::ffff:127.0.0.1", 8443), "127.0.0.1:8443");
	CHECK_EQ_STR(self(d, "64:ff9b::127.0.0.1", 8443), "127.0.0.1:8443");
	/* Any address: every address of the host, also in IPv6 forms. */
	CHECK_EQ_STR(self(d, "10.1.1.1", 9443), "[::]:9443");
	CHECK_EQ_STR(self(d, "127.3.2.1", 9443), "[::]:9443");
	CHECK_EQ_STR(self(d, "::1", 9443), "[::]:9443");
	CHECK_EQ_STR(self(d, "64:ff9b::10.1.1.1", 9443), "[::]:9443");
	CHECK_EQ_STR(self(d, "2002:0a01:0101::1", 9443), "[::]:9443");
	CHECK_EQ_STR(self(d, "10.1.1.2", 9443), "");
	CHECK_EQ_STR(self(d, "2001:db8::1", 9443), "");
	CHECK_EQ_STR(self(d, "10.1.1.1", 7443), "0.0.0.0:7443");
	CHECK_EQ_STR(self(d, "::1", 7443), "");         /* IPv4-only listener */
	CHECK_EQ_INT(denylist_self(NULL, NULL, 1, fake_local, NULL, 0), 0);
	/* A listener is never a denied range for other ports. */
	CHECK_EQ_STR(match(d, "127.0.0.1"), "");
	CHECK_EQ_INT(denylist_add_listener(d, (struct sockaddr *)&un, sizeof(un)), -1);
	for (i = 3; i < DENYLIST_MAX_LISTENERS; i++)
		add_listener(d, "127.0.0.1", (unsigned)(10000 + i), 0);
	add_listener(d, "127.0.0.1", 20000, -1);
	denylist_free(d);
}

/* hearth serve --validation-deny with a bad value does not start, and says
 * which setting and value. */
static void
test_config_error(void)
{
	char *argv[] = { "--data", "/tmp/x", "--validation-deny", "10.0.0.0/8",
	    "--validation-deny", "fe80::/200" };
	char *ok[] = { "--data", "/tmp/x", "--validation-deny", "none" };
	char path[512], err[1024];
	const char *tmp = getenv("HEARTH_TEST_TMP");
	struct config c;
	FILE *f;
	int ret, saved;
	size_t n;

	snprintf(path, sizeof(path), "%s/denylist-stderr-%d", tmp != NULL ? tmp :
	    "/tmp", (int)getpid());
	config_defaults(&c);
	fflush(stderr);
	saved = dup(2);
	if (freopen(path, "w", stderr) == NULL)
		return;
	ret = config_parse(&c, CMD_SERVE, 6, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(path, "r");
	n = f != NULL ? fread(err, 1, sizeof(err) - 1, f) : 0;
	err[n] = '\0';
	if (f != NULL)
		fclose(f);
	unlink(path);
	CHECK_EQ_INT(ret, -1);
	CHECK_CONTAINS(err, "validation-deny");
	CHECK_CONTAINS(err, "fe80::/200");
	config_free(&c);

	config_defaults(&c);
	CHECK_EQ_INT(config_parse(&c, CMD_SERVE, 4, ok), 0);
	config_free(&c);
}

static void
done_cb(const struct acme_validation_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->status = r->status;
	o->http_status = r->http_status;
	snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
}

static void
fetch(struct http01_client *c, const char *ident, int is_ip, const char *token,
    struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (http01_fetch_start(c, ident, is_ip, token, done_cb, o) == NULL) {
		o->status = (enum acme_fetch_status)-1;
		return;
	}
	lt_run_until(base, &o->done, 8000);
	CHECK_EQ_INT(o->calls, 1);
}

static struct http01_client *
client(const struct denylist *d)
{
	struct http01_options o;

	memset(&o, 0, sizeof(o));
	o.port = ct.http;
	o.deny = d;
	return http01_client_new(base, res, &o);
}

static void
test_http01(void)
{
	const char *lo[] = { "127.0.0.0/8" };
	const char *one[] = { "127.0.0.2/32", "::1/128" };
	struct denylist *dflt = denylist_new(NULL, 0, NULL, 0);
	struct denylist *dlo = denylist_new(lo, 1, NULL, 0);
	struct denylist *done = denylist_new(one, 2, NULL, 0);
	struct http01_client *c;
	struct outcome o;
	char json[512];

	CHECK(dflt != NULL && dlo != NULL && done != NULL);

	/* The default list: link-local IP identifiers, and nothing else. */
	c = client(dflt);
	fetch(c, "169.254.169.254", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	fetch(c, "fe80::1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address fe80::1 is in denied range fe80::/10");
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"meta.test\",\"addresses\":"
	    "[\"169.254.169.254\"]}"), 200);
	fetch(c, "meta.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);

	/* A redirect to a denied address is refused before connecting. */
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "tometa\",\"targetURL\":\"http://169.254.169.254:%u/latest/meta-data/\"}",
	    ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "tometa", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "tometaname\",\"targetURL\":\"http://meta.test:%u/x\"}", ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "tometaname", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	http01_client_free(c);

	/* A configured range: names and IP identifiers alike. */
	c = client(dlo);
	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.1 is in denied range 127.0.0.0/8");
	fetch(c, "127.0.0.1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.1 is in denied range 127.0.0.0/8");
	http01_client_free(c);

	/* Every address denied; and an allowed one left, which is used. */
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"two.test\",\"addresses\":"
	    "[\"127.0.0.2\",\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"dual.test\",\"addresses\":"
	    "[\"127.0.0.2\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-aaaa", "{\"host\":\"dual.test\","
	    "\"addresses\":[\"::1\"]}"), 200);
	c = client(done);
	fetch(c, "dual.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "every address of dual.test is denied: address "
	    "127.0.0.2 is in denied range 127.0.0.2/32");
	fetch(c, "two.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_INT(o.http_status, 200);

	/* After a redirect to a name whose address is denied. */
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"deny2.test\","
	    "\"addresses\":[\"127.0.0.2\"]}"), 200);
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "todeny2\",\"targetURL\":\"http://deny2.test:%u/.well-known/"
	    "acme-challenge/tokOK\"}", ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	fetch(c, "ok.test", 0, "todeny2", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.2 is in denied range 127.0.0.2/32");
	http01_client_free(c);
	denylist_free(dflt);
	denylist_free(dlo);
	denylist_free(done);
}

/* An any-address listening socket on a free port (IPv6 when the host has
 * it), non-blocking; its port in *port. -1 when none can be made. */
static int
listen_any(unsigned *port)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, zero = 0;

	if ((fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)) >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, (struct sockaddr *)&in6, sizeof(in6)) != 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0 && ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&in4, sizeof(in4)) != 0))
		return -1;
	if (listen(fd, 8) != 0 || getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	*port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/*
 * Real fetches: a challenge whose port is this server's own (a socket
 * listening on the any address) is refused by name and IP, and no
 * connection reaches the socket; a redirect to a recorded listener is
 * refused; a name on the unspecified address is never dialed.
 */
static void
test_http01_self(void)
{
	const char *none[] = { "none" };
	struct denylist *d = denylist_new(none, 1, NULL, 0);
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct http01_options ho;
	struct http01_client *c;
	struct outcome o;
	char want[256], json[512];
	unsigned port = 0;
	int lfd = listen_any(&port);

	CHECK(d != NULL && lfd >= 0);
	if (d == NULL || lfd < 0)
		return;
	CHECK_EQ_INT(getsockname(lfd, (struct sockaddr *)&ss, &len), 0);
	CHECK_EQ_INT(denylist_add_listener(d, (struct sockaddr *)&ss, len), 0);
	memset(&ho, 0, sizeof(ho));
	ho.port = port;
	ho.deny = d;
	c = http01_client_new(base, res, &ho);
	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	snprintf(want, sizeof(want), "127.0.0.1:%u is this server's own listener "
	    "%s:%u, never a validation target", port,
	    ss.ss_family == AF_INET6 ? "[::]" : "0.0.0.0", port);
	CHECK_EQ_STR(o.detail, want);
	fetch(c, "127.0.0.1", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, want);
	CHECK_EQ_INT(accept(lfd, NULL, NULL), -1);    /* nothing ever came */
	CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
	http01_client_free(c);
	close(lfd);

	/* A listener on 127.0.0.2 at the challenge port: reached only by a
	 * redirect, which is refused; the challenge server itself is not it. */
	add_listener(d, "127.0.0.2", ct.http, 0);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"self.test\",\"addresses\":"
	    "[\"127.0.0.2\"]}"), 200);
	snprintf(json, sizeof(json), "{\"path\":\"/.well-known/acme-challenge/"
	    "toself\",\"targetURL\":\"http://self.test:%u/.well-known/"
	    "acme-challenge/tokOK\"}", ct.http);
	CHECK_EQ_INT(ct_post(&ct, "/add-redirect", json), 200);
	c = client(d);
	fetch(c, "ok.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	fetch(c, "ok.test", 0, "toself", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	snprintf(want, sizeof(want), "127.0.0.2:%u is this server's own listener "
	    "127.0.0.2:%u, never a validation target", ct.http, ct.http);
	CHECK_EQ_STR(o.detail, want);

	/* The unspecified addresses, which Linux would connect to this host. */
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"zero.test\",\"addresses\":"
	    "[\"0.0.0.0\"]}"), 200);
	fetch(c, "zero.test", 0, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 0.0.0.0 is in denied range 0.0.0.0/8");
	fetch(c, "::", 1, "tokOK", &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address :: is in denied range ::/128");
	http01_client_free(c);
	denylist_free(d);
}

int
main(void)
{
	test_parse_and_match();
	test_unspecified_and_embedded();
	test_listeners();
	test_config_error();
	if (ct_start(&ct) != 0)
		return 1;
	res = lt_resolver(&base, ct.dns_addr);
	CHECK(base != NULL && res != NULL);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"ok.test\",\"addresses\":"
	    "[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-http01", "{\"token\":\"tokOK\","
	    "\"content\":\"tokOK.thumbprint\"}"), 200);
	if (res != NULL) {
		test_http01();
		test_http01_self();
	}
	resolver_free(res);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
