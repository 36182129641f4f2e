/*
 * test_config.c: flags and configuration files, including every way a value
 * or key can be wrong; errors must name the file, line and key.
 */
#include "check.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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
	test_file(dir);
	test_eab(dir);
	test_users_and_passphrases(dir);
	test_escape();
	return CHECK_DONE();
}
