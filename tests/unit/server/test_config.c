/*
 * test_config.c: flags and configuration files, including every way a value
 * or key can be wrong; errors must name the file, line and key.
 */
#include "check.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme.h"
#include "server_internal.h"

static char errpath[1024];

/* Runs config_parse with stderr captured; returns its result. */
static int
parse(enum config_command cmd, struct config *c, int argc, char **argv,
    char *err, size_t errsz)
{
	FILE *f;
	int ret, saved = dup(2);
	size_t n;

	config_defaults(c);
	fflush(stderr);
	if (freopen(errpath, "w", stderr) == NULL)
		return -99;
	ret = config_parse(c, cmd, argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fopen(errpath, "r");
	n = f != NULL ? fread(err, 1, errsz - 1, f) : 0;
	err[n] = '\0';
	if (f != NULL)
		fclose(f);
	return ret;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f != NULL) {
		fputs(text, f);
		fclose(f);
	}
}

/* --pki-url: http://HOST[:PORT] only, refused naming the flag. */
static void
test_pki_url(void)
{
	struct config c;
	char err[1024];
	char *ok[] = { "--data", "d", "--pki-url", "http://pki.corp.internal:8080" };
	char *https[] = { "--data", "d", "--pki-url", "https://pki.corp.internal" };
	char *path[] = { "--data", "d", "--pki-url", "http://pki.corp.internal/x" };

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, ok, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.pki_url, "http://pki.corp.internal:8080");
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, https, err, sizeof(err)), -1);
	CHECK(strstr(err, "pki-url") != NULL && strstr(err, "http://HOST") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, path, err, sizeof(err)), -1);
	CHECK(strstr(err, "pki-url") != NULL);
	config_free(&c);
}

static void
test_flags(void)
{
	struct config c;
	char err[1024];
	char *ok[] = { "--data", "/tmp/x", "--listen=127.0.0.1:9443",
	    "--tls-name", "ca.corp.internal", "--tls-name", "10.0.0.1",
	    "--http01-port", "5002", "--resolver", "127.0.0.1:8053",
	    "--key-type", "ec-p384" };
	char *missing[] = { "--listen", ":8443" };
	char *unknown[] = { "--data", "d", "--lisen", ":1" };
	char *badport[] = { "--data", "d", "--http01-port", "70000" };
	char *notnum[] = { "--data", "d", "--http01-port", "80x" };
	char *badaddr[] = { "--data", "d", "--listen", "8443" };
	char *badkey[] = { "--data", "d", "--key-type", "dsa" };
	char *novalue[] = { "--data" };
	char *initonly[] = { "--data", "d", "--import-root", "a.pem" };
	char *serveonly[] = { "--data", "d", "--listen", ":1" };
	char *dur_ok[] = { "--data", "d", "--tls-cert-lifetime", "90m" };
	char *dur_unit[] = { "--data", "d", "--tls-cert-lifetime", "90" };
	char *dur_small[] = { "--data", "d", "--tls-cert-lifetime", "10s" };
	char *dur_big[] = { "--data", "d", "--tls-cert-lifetime", "400d" };

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 13, ok, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.data_dir, "/tmp/x");
	CHECK_EQ_STR(c.listen, "127.0.0.1:9443");
	CHECK_EQ_INT(c.tls_names.n, 2);
	CHECK_EQ_STR(c.tls_names.v[1], "10.0.0.1");
	CHECK_EQ_INT(c.http01_port, 5002);
	CHECK_EQ_INT(c.tlsalpn01_port, 443);
	CHECK_EQ_STR(c.resolver, "127.0.0.1:8053");
	config_free(&c);

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, missing, err, sizeof(err)), -1);
	CHECK(strstr(err, "--data") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, unknown, err, sizeof(err)), -1);
	CHECK(strstr(err, "--lisen") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, badport, err, sizeof(err)), -1);
	CHECK(strstr(err, "http01-port") != NULL && strstr(err, "range") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, notnum, err, sizeof(err)), -1);
	CHECK(strstr(err, "not a number") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, badaddr, err, sizeof(err)), -1);
	CHECK(strstr(err, "ADDR:PORT") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 4, badkey, err, sizeof(err)), -1);
	CHECK(strstr(err, "dsa") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 1, novalue, err, sizeof(err)), -1);
	CHECK(strstr(err, "needs a value") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 4, initonly, err, sizeof(err)), -1);
	CHECK(strstr(err, "import-root") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 4, serveonly, err, sizeof(err)), -1);
	CHECK(strstr(err, "--listen") != NULL);
	config_free(&c);

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, dur_ok, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.tls_cert_lifetime, 90 * 60);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, dur_unit, err, sizeof(err)), -1);
	CHECK(strstr(err, "unit") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, dur_small, err, sizeof(err)), -1);
	CHECK(strstr(err, "range") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, dur_big, err, sizeof(err)), -1);
	CHECK(strstr(err, "range") != NULL);
	config_free(&c);
	test_pki_url();
}

/* The PKI listener and CRL schedule: defaults, "off", and refusals. */
static void
test_pki(void)
{
	struct config c;
	char err[1024];
	char *none[] = { "--data", "d" };
	char *off[] = { "--data", "d", "--pki-listen", "off", "--ocsp", "0" };
	char *bad[] = { "--data", "d", "--pki-listen", "8080" };
	char *sched[] = { "--data", "d", "--crl-lifetime", "2d", "--crl-refresh", "30m" };
	char *inverted[] = { "--data", "d", "--crl-lifetime", "2h", "--crl-refresh", "3h" };

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, none, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.pki_listen, ":8080");
	CHECK_EQ_INT(c.ocsp, 1);
	CHECK_EQ_INT(c.crl_lifetime, 7 * 86400);
	CHECK_EQ_INT(c.crl_refresh, 6 * 3600);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 6, off, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.pki_listen, "off");
	CHECK_EQ_INT(c.ocsp, 0);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, bad, err, sizeof(err)), -1);
	CHECK(strstr(err, "pki-listen") != NULL && strstr(err, "off") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 6, sched, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.crl_lifetime, 2 * 86400);
	CHECK_EQ_INT(c.crl_refresh, 1800);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 6, inverted, err, sizeof(err)), -1);
	CHECK(strstr(err, "crl-refresh") != NULL && strstr(err, "crl-lifetime") != NULL);
	config_free(&c);
}

static void
test_file(const char *dir)
{
	struct config c;
	char err[1024], path[1024], flag[1100];
	char *argv[] = { "--config", path, "--listen", ":7443" };
	char *argv2[] = { flag };

	snprintf(path, sizeof(path), "%s/hearth.conf", dir);
	write_file(path, "# hearth\n\ndata = /srv/hearth\nlisten = :9443\n"
	    "  tls-name = a.corp.internal  \ntls-name=b.corp.internal\n"
	    "idle-timeout = 5\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, argv, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.data_dir, "/srv/hearth");
	CHECK_EQ_STR(c.listen, ":7443");       /* the flag wins */
	CHECK_EQ_INT(c.tls_names.n, 2);
	CHECK_EQ_STR(c.tls_names.v[0], "a.corp.internal");
	CHECK_EQ_INT(c.idle_timeout, 5);
	config_free(&c);

	snprintf(flag, sizeof(flag), "--config=%s", path);
	write_file(path, "data = d\n\nlisen = :9443\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), -1);
	CHECK(strstr(err, "hearth.conf:3") != NULL);
	CHECK(strstr(err, "unknown key \"lisen\"") != NULL);
	config_free(&c);

	write_file(path, "data = d\nidle-timeout = forever\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), -1);
	CHECK(strstr(err, "hearth.conf:2") != NULL);
	CHECK(strstr(err, "idle-timeout") != NULL);
	CHECK(strstr(err, "forever") != NULL);
	config_free(&c);

	write_file(path, "data = d\nthis line has no equals sign\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), -1);
	CHECK(strstr(err, "hearth.conf:2") != NULL);
	config_free(&c);

	write_file(path, "data = d\nlisten =\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), -1);
	CHECK(strstr(err, "empty value") != NULL);
	config_free(&c);

	snprintf(flag, sizeof(flag), "--config=%s/absent.conf", dir);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), -1);
	CHECK(strstr(err, "absent.conf") != NULL);
	config_free(&c);

	/* a line longer than the cap is refused, not truncated */
	{
		FILE *f = fopen(path, "w");
		int i;

		snprintf(flag, sizeof(flag), "--config=%s", path);
		if (f != NULL) {
			fputs("ca-name = ", f);
			for (i = 0; i < CONFIG_MAX_LINE + 10; i++)
				fputc('x', f);
			fputc('\n', f);
			fclose(f);
		}
		CHECK_EQ_INT(parse(CMD_INIT, &c, 1, argv2, err, sizeof(err)), -1);
		CHECK(strstr(err, "longer than") != NULL);
		config_free(&c);
	}
}

/* --eab-required is a bare flag (1/0 in a file); the eab words' options
 * belong to CMD_EAB alone. */
static void
test_eab(const char *dir)
{
	struct config c;
	char err[1024], path[1024];
	char *bare[] = { "--data", "d", "--eab-required", "--listen", ":1" };
	char *file[] = { "--config", path };
	char *add[] = { "--data", "d", "--label", "team a", "--expires", "30d",
	    "--allow-dns", "a.corp.internal", "--allow-dns", "b.corp.internal" };
	char *noexp[] = { "--data", "d", "--expires", "30" };
	char *notserve[] = { "--data", "d", "--label", "x" };

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 5, bare, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.eab_required, 1);
	CHECK_EQ_STR(c.listen, ":1");          /* the flag took no value */
	config_free(&c);
	snprintf(path, sizeof(path), "%s/eab.conf", dir);
	write_file(path, "data = d\neab-required = yes\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, file, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.eab_required, 1);
	config_free(&c);
	write_file(path, "data = d\neab-required = maybe\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, file, err, sizeof(err)), -1);
	CHECK(strstr(err, "eab.conf:2") != NULL && strstr(err, "eab-required") != NULL);
	config_free(&c);

	CHECK_EQ_INT(parse(CMD_EAB, &c, 10, add, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.eab_label, "team a");
	CHECK_EQ_INT(c.eab_expires, 30L * 86400);
	CHECK_EQ_INT(c.eab_allow_dns.n, 2);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_EAB, &c, 4, noexp, err, sizeof(err)), -1);
	CHECK(strstr(err, "--expires") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, notserve, err, sizeof(err)), -1);
	CHECK(strstr(err, "--label") != NULL);
	config_free(&c);
}

static int
allowed(const struct crypto_policy *p, enum crypto_name_type type, const char *v)
{
	struct crypto_name n;
	char why[512];

	memset(&n, 0, sizeof(n));
	n.type = type;
	snprintf(n.value, sizeof(n.value), "%s", v);
	return crypto_policy_check(p, &n, why, sizeof(why)) == 0;
}

/* allow-dns, deny-dns, allow-ip, deny-ip: flags, file keys, bad values
 * named, and the policy they build. */
static void
test_policy(const char *dir)
{
	struct config c;
	struct crypto_policy *p;
	char err[1024], path[1024], flag[1100];
	char *argv[] = { "--data", "d", "--allow-dns", "corp.example.com",
	    "--allow-dns=.corp.internal", "--deny-dns", "x.corp.internal",
	    "--deny-ip", "10.9.0.0/16" };
	char *bad_dns[] = { "--data", "d", "--deny-dns", "*.corp.internal" };
	char *bad_idn[] = { "--data", "d", "--allow-dns", "xn--ls8h.corp" };
	char *bad_ip[] = { "--data", "d", "--allow-ip", "10.1.0.0/8" };
	char *argv2[] = { flag };

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 9, argv, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.allow_dns.n, 2);
	p = config_policy(&c, NULL);
	CHECK(p != NULL);
	CHECK(allowed(p, CRYPTO_NAME_DNS, "www.corp.example.com"));
	CHECK(allowed(p, CRYPTO_NAME_DNS, "a.corp.internal"));
	CHECK(!allowed(p, CRYPTO_NAME_DNS, "a.x.corp.internal"));
	CHECK(!allowed(p, CRYPTO_NAME_DNS, "a.test"));          /* defaults replaced */
	CHECK(allowed(p, CRYPTO_NAME_IP, "10.8.0.1"));           /* IP defaults kept */
	CHECK(!allowed(p, CRYPTO_NAME_IP, "10.9.0.1"));
	crypto_policy_free(p);
	config_free(&c);

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, bad_dns, err, sizeof(err)), -1);
	CHECK(strstr(err, "--deny-dns: bad value \"*.corp.internal\": a wildcard "
	    "is not allowed here") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, bad_idn, err, sizeof(err)), -1);
	CHECK(strstr(err, "--allow-dns") != NULL && strstr(err, "IDNA2008") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, bad_ip, err, sizeof(err)), -1);
	CHECK(strstr(err, "--allow-ip: bad value \"10.1.0.0/8\"") != NULL);
	config_free(&c);

	/* the defaults, with nothing configured */
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, argv, err, sizeof(err)), 0);
	p = config_policy(&c, NULL);
	CHECK(p != NULL && allowed(p, CRYPTO_NAME_DNS, "a.corp.internal") &&
	    !allowed(p, CRYPTO_NAME_DNS, "github.com") &&
	    allowed(p, CRYPTO_NAME_IP, "127.0.0.1"));
	crypto_policy_free(p);
	config_free(&c);

	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	snprintf(flag, sizeof(flag), "--config=%s", path);
	write_file(path, "data = d\nallow-ip = 198.51.100.0/24\nallow-ip = fd00::/8\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), 0);
	p = config_policy(&c, NULL);
	CHECK(p != NULL && allowed(p, CRYPTO_NAME_IP, "198.51.100.9") &&
	    allowed(p, CRYPTO_NAME_IP, "fd00::1") && !allowed(p, CRYPTO_NAME_IP, "10.0.0.1"));
	crypto_policy_free(p);
	config_free(&c);
	write_file(path, "data = d\n\ndeny-ip = 300.0.0.0/8\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv2, err, sizeof(err)), -1);
	CHECK(strstr(err, "policy.conf:3: key \"deny-ip\": bad value \"300.0.0.0/8\"")
	    != NULL);
	config_free(&c);
}

static void
test_profiles(const char *dir)
{
	struct crypto_profile p[CRYPTO_MAX_PROFILES];
	struct config c;
	char err[1024], path[1024], flag[1100];
	char *flags[] = { "--data", "d", "--profile", "tls:30d",
	    "--profile", "client-6h:6h:clientAuth,digitalSignature" };
	char *dup[] = { "--data", "d", "--profile", "a:1d", "--profile", "a:2d" };
	char *days[] = { "--data", "d", "--cert-days", "30" };
	char *argv[] = { flag };
	static const char *const bad[][2] = {
		{ "classic", "NAME:LIFETIME" },
		{ ":90d", "NAME:LIFETIME" },
		{ "Classic:90d", "lower-case" },
		{ "classic:90", "lifetime" },
		{ "classic:30m", "lifetime" },
		{ "classic:900d", "lifetime" },
		{ "classic:90d:emailProtection", "usages" },
		{ "classic:90d:digitalSignature", "serverAuth or clientAuth" },
		{ "classic:90d:serverAuth,", "usages" },
		{ "a-name-of-thirty-two-characters-:1d", "NAME" },
	};
	const char *why;
	size_t i, n;

	config_defaults(&c);
	n = config_profiles(&c, p);          /* none configured: the defaults */
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(p[0].name, "classic");
	CHECK_EQ_INT(p[0].lifetime, 90 * 86400);
	CHECK_EQ_STR(p[1].name, "shortlived");
	CHECK(p[1].lifetime >= 5 * 86400 && p[1].lifetime <= 7 * 86400);
	CHECK_EQ_INT(p[1].eku, CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH);
	config_free(&c);                     /* the defaults own strings */

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 6, flags, err, sizeof(err)), 0);
	n = config_profiles(&c, p);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_STR(p[0].name, "tls");
	CHECK_EQ_INT(p[0].lifetime, 30 * 86400);
	CHECK_EQ_INT(p[0].eku, CRYPTO_EKU_SERVER_AUTH | CRYPTO_EKU_CLIENT_AUTH);
	CHECK_EQ_INT(p[0].key_usage,
	    CRYPTO_KU_DIGITAL_SIGNATURE | CRYPTO_KU_KEY_ENCIPHERMENT);
	CHECK_EQ_STR(p[1].name, "client-6h");
	CHECK_EQ_INT(p[1].lifetime, 6 * 3600);
	CHECK_EQ_INT(p[1].eku, CRYPTO_EKU_CLIENT_AUTH);
	CHECK_EQ_INT(p[1].key_usage, CRYPTO_KU_DIGITAL_SIGNATURE);
	config_free(&c);

	/* the deprecated --cert-days sets the default profile's lifetime */
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, days, err, sizeof(err)), 0);
	CHECK_EQ_INT(config_profiles(&c, p), 2);
	CHECK_EQ_INT(p[0].lifetime, 30 * 86400);
	CHECK_EQ_INT(p[1].lifetime, 150 * 3600);
	config_free(&c);

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 6, dup, err, sizeof(err)), -1);
	CHECK(strstr(err, "--profile") != NULL && strstr(err, "already") != NULL);
	config_free(&c);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ_INT(config_profile_parse(bad[i][0], &p[0], &why), -1);
		if (strstr(why, bad[i][1]) == NULL)
			fprintf(stderr, "%s: %s\n", bad[i][0], why);
		CHECK(strstr(why, bad[i][1]) != NULL);
	}

	/* in a file: the error names file, line and key */
	snprintf(path, sizeof(path), "%s/profiles.conf", dir);
	snprintf(flag, sizeof(flag), "--config=%s", path);
	write_file(path, "data = d\nprofile = shortlived:160h:serverAuth\n"
	    "profile = long:2000d\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv, err, sizeof(err)), -1);
	CHECK(strstr(err, "profiles.conf:3") != NULL);
	CHECK(strstr(err, "key \"profile\"") != NULL);
	CHECK(strstr(err, "lifetime") != NULL);
	config_free(&c);
	write_file(path, "data = d\nprofile = shortlived:160h:serverAuth\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 1, argv, err, sizeof(err)), 0);
	CHECK_EQ_INT(config_profiles(&c, p), 1);
	CHECK_EQ_INT(p[0].eku, CRYPTO_EKU_SERVER_AUTH);
	config_free(&c);
}

/* Limits: rates are N/DURATION or 0; defaults when not given; errors name
 * the flag or the file, line and key. */
static void
test_limits(const char *dir)
{
	struct config c;
	char err[1024], path[1024];
	char *none[] = { "--data", "d" };
	char *set[] = { "--data", "d", "--limit-orders", "20/15m", "--limit-nonces",
	    "0", "--limit-conns-per-source", "4", "--limit-request-time", "3s" };
	char *badrate[] = { "--data", "d", "--limit-accounts", "20" };
	char *badunit[] = { "--data", "d", "--limit-accounts", "20/5y" };
	char *file[] = { "--config", path };

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, none, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.limit_accounts.count, 100);
	CHECK_EQ_INT(c.limit_accounts.period, 3600);
	CHECK_EQ_INT(c.limit_nonces.count, 3000);
	CHECK_EQ_INT(c.limit_pending_authzs, 1000);
	CHECK_EQ_INT(c.limit_request_time, 10);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 10, set, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.limit_orders.count, 20);
	CHECK_EQ_INT(c.limit_orders.period, 900);
	CHECK_EQ_INT(c.limit_nonces.count, 0);
	CHECK_EQ_INT(c.limit_conns_per_source, 4);
	CHECK_EQ_INT(c.limit_request_time, 3);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, badrate, err, sizeof(err)), -1);
	CHECK(strstr(err, "--limit-accounts") != NULL && strstr(err, "N/DURATION") != NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, badunit, err, sizeof(err)), -1);
	CHECK(strstr(err, "--limit-accounts") != NULL);
	config_free(&c);
	snprintf(path, sizeof(path), "%s/limits.conf", dir);
	write_file(path, "data = d\nlimit-failures = 3/1h\nlimit-queue-share = x\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, file, err, sizeof(err)), -1);
	CHECK(strstr(err, "limits.conf:3") != NULL &&
	    strstr(err, "limit-queue-share") != NULL);
	config_free(&c);
	write_file(path, "data = d\nlimit-failures = 3/1h\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, file, err, sizeof(err)), 0);
	CHECK_EQ_INT(c.limit_failures.count, 3);
	CHECK_EQ_INT(c.limit_failures.period, 3600);
	config_free(&c);
}

/* --user and --signer-user: serve's, from flags or a file; unset means the
 * defaults privsep.c applies. Passphrase files: refused when others may
 * read them, naming the mode and the fix; the first line only. */
static void
test_users_and_passphrases(const char *dir)
{
	struct config c;
	char err[1024], path[1024], pass[1024];
	char *flags[] = { "--data", "d", "--user", "acme", "--signer-user", "keys" };
	char *file[] = { "--config", path };
	char *init[] = { "--data", "d", "--user", "acme" };
	size_t len = 0;
	char *pw;

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, flags, err, sizeof(err)), 0);
	CHECK(c.user == NULL && c.signer_user == NULL);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 6, flags, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.user, "acme");
	CHECK_EQ_STR(c.signer_user, "keys");
	config_free(&c);
	snprintf(path, sizeof(path), "%s/users.conf", dir);
	write_file(path, "data = d\nuser = www\nsigner-user = ca\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 2, file, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.user, "www");
	CHECK_EQ_STR(c.signer_user, "ca");
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 4, init, err, sizeof(err)), -1);
	CHECK(strstr(err, "--user") != NULL);
	config_free(&c);

	snprintf(pass, sizeof(pass), "%s/pass", dir);
	write_file(pass, "first line\r\nsecond\n");
	CHECK_EQ_INT(chmod(pass, 0640), 0);
	fflush(stderr);
	{
		int saved = dup(2);
		FILE *f;
		size_t n;

		if (freopen(errpath, "w", stderr) != NULL) {
			pw = config_read_passphrase(pass, &len);
			fflush(stderr);
			dup2(saved, 2);
			CHECK(pw == NULL);
		}
		close(saved);
		f = fopen(errpath, "r");
		n = f != NULL ? fread(err, 1, sizeof(err) - 1, f) : 0;
		err[n] = '\0';
		if (f != NULL)
			fclose(f);
	}
	CHECK(strstr(err, "mode 0640") != NULL);
	CHECK(strstr(err, "chmod 600") != NULL && strstr(err, pass) != NULL);
	CHECK_EQ_INT(chmod(pass, 0600), 0);
	pw = config_read_passphrase(pass, &len);
	CHECK(pw != NULL);
	if (pw != NULL) {
		CHECK_EQ_STR(pw, "first line");
		CHECK_EQ_INT(len, 10);
		crypto_zeroize(pw, len);
		free(pw);
	}
}

static void
test_escape(void)
{
	char out[64];

	log_escape("/acme/order/1", out, sizeof(out));
	CHECK_EQ_STR(out, "/acme/order/1");
	log_escape("a\nb\"c\x7f", out, sizeof(out));
	CHECK_EQ_STR(out, "a\\x0ab\\x22c\\x7f");
	log_escape("0123456789012345678901234567890123456789012345678901234567890123456789",
	    out, 16);
	CHECK(strlen(out) < 16);
	CHECK(strstr(out, "...") != NULL);
}

/* --permit-dns and --permit-ip: checked like policy values, turned into
 * the constraints; the policy defaults to constraints for a kind the
 * operator gave no allow rule of. */
static void
test_permit(void)
{
	struct config c;
	struct crypto_policy *nc, *p;
	char err[1024];
	char *argv[] = { "--data", "d", "--permit-dns", ".corp.internal",
	    "--permit-ip", "127.0.0.0/8", "--allow-ip", "10.0.0.0/8" };
	char *bad[] = { "--data", "d", "--permit-ip", "127.0.0.1/8" };
	int e;

	CHECK_EQ_INT(parse(CMD_INIT, &c, 8, argv, err, sizeof(err)), -1);
	config_free(&c);                  /* --allow-ip is serve's */
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 8, argv, err, sizeof(err)), 0);
	nc = config_permit(&c, &e);
	CHECK(nc != NULL && e == 0);
	p = config_policy(&c, nc);
	CHECK(p != NULL);
	CHECK(allowed(p, CRYPTO_NAME_DNS, "a.corp.internal"));
	CHECK(!allowed(p, CRYPTO_NAME_DNS, "a.test"));       /* not the defaults */
	CHECK(allowed(p, CRYPTO_NAME_IP, "10.1.1.1"));       /* the operator's */
	CHECK(!allowed(p, CRYPTO_NAME_IP, "127.0.0.1"));
	crypto_policy_free(p);
	crypto_policy_free(nc);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 2, argv, err, sizeof(err)), 0);
	CHECK(config_permit(&c, &e) == NULL && e == 0);
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_INIT, &c, 4, bad, err, sizeof(err)), -1);
	CHECK(strstr(err, "--permit-ip: bad value \"127.0.0.1/8\"") != NULL);
	config_free(&c);
}

/* The table's defaults (config_defaults parses them) equal the values
 * acme/ documents as its defaults, and a log level is one of four words,
 * refused in a file naming file, line and key. */
static void
test_defaults_and_levels(const char *dir)
{
	static const struct config_rate acc = { ACME_LIMIT_DEFAULT_ACCOUNTS },
	    ord = { ACME_LIMIT_DEFAULT_ORDERS },
	    fail = { ACME_LIMIT_DEFAULT_FAILURES },
	    non = { ACME_LIMIT_DEFAULT_NONCES };
	struct config c;
	char err[1024], path[1024];
	char *file[] = { "--data", "d", "--config", path };
	char *flag[] = { "--data", "d", "--log-level", "verbose" };
	char *flag_ok[] = { "--data", "d", "--log-level", "warn" };

	config_defaults(&c);
	CHECK(c.limit_accounts.count == acc.count && c.limit_accounts.period == acc.period);
	CHECK(c.limit_orders.count == ord.count && c.limit_orders.period == ord.period);
	CHECK(c.limit_failures.count == fail.count && c.limit_failures.period == fail.period);
	CHECK(c.limit_nonces.count == non.count && c.limit_nonces.period == non.period);
	CHECK_EQ_INT(c.limit_pending_authzs, ACME_LIMIT_DEFAULT_PENDING);
	CHECK_EQ_INT(c.limit_queue_share, ACME_LIMIT_DEFAULT_QUEUE_SHARE);
	CHECK_EQ_STR(c.listen, ":8443");
	CHECK_EQ_STR(c.log_level, "info");
	CHECK_EQ_STR(c.log_format, "text");
	CHECK_EQ_INT(c.crl_refresh, 6 * 3600);
	CHECK_EQ_INT(c.eab_required, 0);
	config_free(&c);

	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, flag_ok, err, sizeof(err)), 0);
	CHECK_EQ_STR(c.log_level, "warn");
	config_free(&c);
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, flag, err, sizeof(err)), -1);
	CHECK(strstr(err, "--log-level: bad value \"verbose\": expected one of "
	    "debug, info, warn, error") != NULL);
	config_free(&c);
	snprintf(path, sizeof(path), "%s/level.conf", dir);
	write_file(path, "# levels\nlog-level = loud\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, file, err, sizeof(err)), -1);
	CHECK(strstr(err, "level.conf:2: key \"log-level\": bad value \"loud\"") != NULL);
	config_free(&c);
	write_file(path, "log-format = yaml\n");
	CHECK_EQ_INT(parse(CMD_SERVE, &c, 4, file, err, sizeof(err)), -1);
	CHECK(strstr(err, "level.conf:1: key \"log-format\"") != NULL &&
	    strstr(err, "text, json") != NULL);
	config_free(&c);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	char dir[256];

	if (snprintf(dir, sizeof(dir), "%s/configXXXXXX", tmp != NULL ? tmp : "/tmp") >= (int)sizeof(dir))
		return 1;
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	test_flags();
	test_pki();
	test_file(dir);
	test_eab(dir);
	test_policy(dir);
	test_permit();
	test_profiles(dir);
	test_limits(dir);
	test_users_and_passphrases(dir);
	test_escape();
	test_defaults_and_levels(dir);
	return CHECK_DONE();
}
