/*
 * test_tlsalpn01.c: tls-alpn-01 handshakes against real peers on loopback:
 * pebble-challtestsrv's tls-alpn-01 server (certificate and ALPN returned,
 * and the certificate passes crypto_acme_tls_cert_check), the SNI sent for
 * an IP identifier as challtestsrv saw it, an unknown name, its https port
 * (which refuses acme-tls/1 with an alert), an openssl s_server that knows
 * no ALPN (the handshake completes with none selected), refused and
 * unanswered connections, the deny list, and the reverse-DNS names of RFC
 * 8738 §6.
 */
#include "check.h"
#include "challtest.h"
#include "looptest.h"

#include <sys/stat.h>

#include "crypto.h"
#include "denylist.h"
#include "resolver.h"
#include "tlsalpn01.h"

#define KEYAUTH "tokALPN.thumbprint"

struct outcome {
	int done, calls;
	enum acme_fetch_status status;
	char detail[256];
	uint8_t cert[TLSALPN01_MAX_CERT];
	size_t cert_len;
	char alpn[64];
	int has_alpn;
};

static struct event_base *base;
static struct resolver *res;
static struct challtest ct;

static void
done_cb(const struct acme_validation_result *r, void *arg)
{
	struct outcome *o = arg;

	o->calls++;
	o->done = 1;
	o->status = r->status;
	snprintf(o->detail, sizeof(o->detail), "%s", r->detail);
	o->cert_len = r->peer_cert_len <= sizeof(o->cert) ? r->peer_cert_len : 0;
	if (o->cert_len > 0)
		memcpy(o->cert, r->peer_cert, o->cert_len);
	o->has_alpn = r->alpn != NULL;
	snprintf(o->alpn, sizeof(o->alpn), "%s", r->alpn != NULL ? r->alpn : "");
}

static struct tlsalpn01_client *
client(unsigned port, unsigned attempt_ms, const struct denylist *deny)
{
	struct tlsalpn01_options o;

	memset(&o, 0, sizeof(o));
	o.port = port;
	o.attempt_timeout_ms = attempt_ms;
	o.deny = deny;
	return tlsalpn01_client_new(base, res, &o);
}

static void
fetch(struct tlsalpn01_client *c, const char *ident, int is_ip,
    struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	if (tlsalpn01_fetch_start(c, ident, is_ip, done_cb, o) == NULL) {
		o->status = (enum acme_fetch_status)-1;
		snprintf(o->detail, sizeof(o->detail), "did not start");
		return;
	}
	CHECK_EQ_INT(o->calls, 0);       /* never from inside the start call */
	lt_run_until(base, &o->done, 8000);
	CHECK_EQ_INT(o->calls, 1);
}

static int
cert_check(const struct outcome *o, enum crypto_name_type type,
    const char *name, const char *keyauth, char *why, size_t whysz)
{
	struct crypto_name n;
	uint8_t d[32];

	n.type = type;
	snprintf(n.value, sizeof(n.value), "%s", name);
	crypto_sha256(keyauth, strlen(keyauth), d);
	return crypto_acme_tls_cert_check(o->cert, o->cert_len, &n, d, why, whysz);
}

static void
test_ok(void)
{
	struct tlsalpn01_client *c = client(ct.tlsalpn, 0, NULL);
	struct outcome o;
	char why[256];

	fetch(c, "alpn.test", 0, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	if (o.status != ACME_FETCH_OK)
		fprintf(stderr, "  detail was: \"%s\"\n", o.detail);
	CHECK_EQ_STR(o.alpn, "acme-tls/1");
	CHECK(o.cert_len > 100);
	why[0] = '\0';
	CHECK_EQ_INT(cert_check(&o, CRYPTO_NAME_DNS, "alpn.test", KEYAUTH, why,
	    sizeof(why)), CRYPTO_OK);
	if (why[0] != '\0')
		fprintf(stderr, "  why: %s\n", why);
	/* The same certificate for another key authorization or name. */
	CHECK(cert_check(&o, CRYPTO_NAME_DNS, "alpn.test", "other.keyauth", why,
	    sizeof(why)) != CRYPTO_OK);
	CHECK(cert_check(&o, CRYPTO_NAME_DNS, "other.test", KEYAUTH, why,
	    sizeof(why)) != CRYPTO_OK);
	tlsalpn01_client_free(c);
}

/* RFC 8738 §6: an IP identifier is connected to directly, with the
 * reverse-DNS name as SNI; challtestsrv records what it saw. */
static void
test_ip_sni(void)
{
	struct tlsalpn01_client *c = client(ct.tlsalpn, 0, NULL);
	struct outcome o;
	char hist[4096];

	CHECK_EQ_INT(ct_post(&ct, "/add-tlsalpn01", "{\"host\":"
	    "\"1.0.0.127.in-addr.arpa\",\"content\":\"" KEYAUTH "\"}"), 200);
	fetch(c, "127.0.0.1", 1, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	CHECK_EQ_STR(o.alpn, "acme-tls/1");
	CHECK(o.cert_len > 0);
	CHECK_EQ_INT(ct_post_body(&ct, "/tlsalpn01-request-history",
	    "{\"host\":\"1.0.0.127.in-addr.arpa\"}", hist, sizeof(hist)), 200);
	CHECK_CONTAINS(hist, "\"ServerName\": \"1.0.0.127.in-addr.arpa\"");
	CHECK_CONTAINS(hist, "\"acme-tls/1\"");

	/* Arguments that cannot start. */
	CHECK(tlsalpn01_fetch_start(c, "127.0.0.1", 0, done_cb, &o) == NULL);
	CHECK(tlsalpn01_fetch_start(c, "name.test", 1, done_cb, &o) == NULL);
	CHECK(tlsalpn01_fetch_start(c, "", 0, done_cb, &o) == NULL);
	tlsalpn01_client_free(c);
}

static void
test_reverse_names(void)
{
	char out[80];

	CHECK_EQ_INT(tlsalpn01_reverse_name("127.0.0.1", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "1.0.0.127.in-addr.arpa");
	CHECK_EQ_INT(tlsalpn01_reverse_name("192.0.2.10", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "10.2.0.192.in-addr.arpa");
	CHECK_EQ_INT(tlsalpn01_reverse_name("2001:db8::567:89ab", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0."
	    "1.0.0.2.ip6.arpa");
	CHECK_EQ_INT(tlsalpn01_reverse_name("::1", out, sizeof(out)), 0);
	CHECK_EQ_STR(out, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.ip6.arpa");
	CHECK_EQ_INT(tlsalpn01_reverse_name("not-an-ip", out, sizeof(out)), -1);
	CHECK_EQ_INT(tlsalpn01_reverse_name("::1", out, 40), -1);
	CHECK_EQ_INT(tlsalpn01_reverse_name("127.0.0.1", out, 10), -1);
}

/* challtestsrv fails the handshake for a name it has no challenge for. */
static void
test_unknown_name(void)
{
	struct tlsalpn01_client *c = client(ct.tlsalpn, 0, NULL);
	struct outcome o;
	char want[64];

	fetch(c, "unknown.test", 0, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_TLS);
	snprintf(want, sizeof(want), "TLS handshake with 127.0.0.1:%u failed: ",
	    ct.tlsalpn);
	CHECK_CONTAINS(o.detail, want);
	tlsalpn01_client_free(c);
}

/* challtestsrv's https port offers other protocols and answers acme-tls/1
 * with a no_application_protocol alert. */
static void
test_alpn_refused(void)
{
	struct tlsalpn01_client *c = client(ct.https, 0, NULL);
	struct outcome o;
	char want[64];

	fetch(c, "alpn.test", 0, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_TLS);
	snprintf(want, sizeof(want), "TLS handshake with 127.0.0.1:%u failed: ",
	    ct.https);
	CHECK_CONTAINS(o.detail, want);
	tlsalpn01_client_free(c);
}

/* A TLS server that knows no ALPN ignores the extension: the handshake
 * completes, no protocol is selected, and that is what is reported (acme/
 * then fails the challenge for it). */
static void
test_no_alpn(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	char dir[512], cmd[2048], key[600], crt[600], acc[32];
	struct tlsalpn01_client *c;
	struct outcome o;
	unsigned port = ct_free_port(0);
	pid_t pid;
	int i, fd;

	snprintf(dir, sizeof(dir), "%s/tlsalpn01-%d", tmp != NULL ? tmp : "/tmp",
	    (int)getpid());
	mkdir(dir, 0700);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(crt, sizeof(crt), "%s/cert.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout %s -out %s -subj /CN=plain.test "
	    "-days 1 >/dev/null 2>&1", key, crt);
	if (access("/usr/bin/openssl", X_OK) != 0 || system(cmd) != 0) {
		fprintf(stderr, "no openssl: the no-ALPN case is skipped\n");
		return;
	}
	snprintf(acc, sizeof(acc), "127.0.0.1:%u", port);
	if ((pid = fork()) == 0) {
		if ((fd = open("/dev/null", O_RDWR)) >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/bin/openssl", "openssl", "s_server", "-accept", acc,
		    "-cert", crt, "-key", key, "-www", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 100 && (fd = ct_connect(port)) < 0; i++)
		usleep(50 * 1000);
	if (fd >= 0)
		close(fd);
	CHECK(fd >= 0);
	c = client(port, 0, NULL);
	fetch(c, "127.0.0.1", 1, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	if (o.status != ACME_FETCH_OK)
		fprintf(stderr, "  detail was: \"%s\"\n", o.detail);
	CHECK_EQ_INT(o.has_alpn, 0);
	CHECK(o.cert_len > 100);
	tlsalpn01_client_free(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	unlink(key);
	unlink(crt);
	rmdir(dir);
}

static void
test_refused_and_timeout(void)
{
	unsigned port = ct_free_port(0);
	struct tlsalpn01_client *c = client(port, 0, NULL);
	struct outcome o;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct timespec t0;
	char want[96];
	int fd;

	fetch(c, "127.0.0.1", 1, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	snprintf(want, sizeof(want), "connection refused by 127.0.0.1:%u", port);
	CHECK_EQ_STR(o.detail, want);
	tlsalpn01_client_free(c);

	/* Accepted by the kernel, never answered. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(fd, 8) == 0 && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
	c = client(ntohs(sa.sin_port), 300, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fetch(c, "127.0.0.1", 1, &o);
	CHECK(lt_ms_since(&t0) >= 290 && lt_ms_since(&t0) < 3000);
	CHECK_EQ_INT(o.status, ACME_FETCH_CONNECTION);
	snprintf(want, sizeof(want), "timeout during the TLS handshake with "
	    "127.0.0.1:%u", ntohs(sa.sin_port));
	CHECK_EQ_STR(o.detail, want);

	/* A peer that closes at once. */
	tlsalpn01_client_free(c);
	close(fd);

	/* No addresses. */
	c = client(ct.tlsalpn, 0, NULL);
	fetch(c, "nx.test", 0, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_DNS);
	CHECK_EQ_STR(o.detail, "no A/AAAA records for nx.test");
	tlsalpn01_client_free(c);
}

static void
test_deny(void)
{
	const char *local[] = { "127.0.0.0/8", "::1/128" };
	struct denylist *dflt = denylist_new(NULL, 0, NULL, 0);
	struct denylist *lo = denylist_new(local, 2, NULL, 0);
	struct tlsalpn01_client *c = client(ct.tlsalpn, 0, dflt);
	struct outcome o;

	CHECK(dflt != NULL && lo != NULL);
	fetch(c, "169.254.169.254", 1, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 169.254.169.254 is in denied range "
	    "169.254.0.0/16");
	fetch(c, "alpn.test", 0, &o);         /* not denied by default */
	CHECK_EQ_INT(o.status, ACME_FETCH_OK);
	tlsalpn01_client_free(c);

	c = client(ct.tlsalpn, 0, lo);
	fetch(c, "alpn.test", 0, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "address 127.0.0.1 is in denied range 127.0.0.0/8");
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"both.test\",\"addresses\":"
	    "[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-aaaa", "{\"host\":\"both.test\","
	    "\"addresses\":[\"::1\"]}"), 200);
	fetch(c, "both.test", 0, &o);
	CHECK_EQ_INT(o.status, ACME_FETCH_FORBIDDEN);
	CHECK_EQ_STR(o.detail, "every address of both.test is denied: address "
	    "127.0.0.1 is in denied range 127.0.0.0/8");
	tlsalpn01_client_free(c);
	denylist_free(dflt);
	denylist_free(lo);
}

/* Many at once; a cancelled one and those left at free stay silent. */
static void
test_concurrent_and_cancel(void)
{
	struct tlsalpn01_client *c = client(ct.tlsalpn, 0, NULL);
	struct outcome o[20], gone, left;
	struct tlsalpn01_fetch *f;
	struct timespec t0;
	int i, all;

	memset(&gone, 0, sizeof(gone));
	memset(&left, 0, sizeof(left));
	f = tlsalpn01_fetch_start(c, "alpn.test", 0, done_cb, &gone);
	CHECK(f != NULL);
	tlsalpn01_fetch_cancel(f);
	for (i = 0; i < 20; i++) {
		memset(&o[i], 0, sizeof(o[i]));
		CHECK(tlsalpn01_fetch_start(c, "alpn.test", 0, done_cb, &o[i]) != NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (all = 0; !all && lt_ms_since(&t0) < 8000;) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		for (all = 1, i = 0; i < 20; i++)
			all &= o[i].done;
	}
	CHECK(all);
	for (i = 0; i < 20; i++) {
		CHECK_EQ_INT(o[i].status, ACME_FETCH_OK);
		CHECK_EQ_STR(o[i].alpn, "acme-tls/1");
	}
	CHECK(tlsalpn01_fetch_start(c, "alpn.test", 0, done_cb, &left) != NULL);
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	tlsalpn01_client_free(c);
	CHECK_EQ_INT(gone.calls, 0);
	CHECK_EQ_INT(left.calls, 0);
}

int
main(void)
{
	if (ct_start(&ct) != 0)
		return 1;
	res = lt_resolver(&base, ct.dns_addr);
	CHECK(base != NULL && res != NULL);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"alpn.test\",\"addresses\":"
	    "[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-a", "{\"host\":\"unknown.test\","
	    "\"addresses\":[\"127.0.0.1\"]}"), 200);
	CHECK_EQ_INT(ct_post(&ct, "/add-tlsalpn01", "{\"host\":\"alpn.test\","
	    "\"content\":\"" KEYAUTH "\"}"), 200);
	if (res != NULL) {
		test_ok();
		test_ip_sni();
		test_reverse_names();
		test_unknown_name();
		test_alpn_refused();
		test_no_alpn();
		test_refused_and_timeout();
		test_deny();
		test_concurrent_and_cancel();
	}
	resolver_free(res);
	event_base_free(base);
	ct_stop(&ct);
	return CHECK_DONE();
}
