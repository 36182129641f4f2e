/*
 * status_cli.c: `hearth status`, the operator's check that needs no
 * running server (both work while one runs: the store is
 * opened as by `hearth certs`, the CA files are only read).
 *
 * status prints the SHA-256 fingerprints of the root and intermediate, the
 * expiry of the root, the intermediate and the listener certificate
 * (DIR/db/tls.crt, written by `hearth serve` at every renewal), and the
 * certificates by state; it exits 1 when something needs attention (root
 * within 365 days of expiry, intermediate within 30, the listener
 * certificate expired, i.e. the server is down or cannot renew). Counting
 * certificates visits every certificate record, in pages of
 * ACME_CERTS_PAGE, so it takes time in proportion to the store (about a
 * second per few hundred thousand records).
 *
 * `hearth trust` is in trust_cli.c.
 */
#include "server_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme.h"
#include "store.h"

#define STATUS_ROOT_WARN_DAYS 365
#define STATUS_INTER_WARN_DAYS 30

/* --data and --store, or for trust --data, --pem and --der, as "--flag V"
 * or "--flag=V". */
int
status_parse(int argc, char **argv, int trust, struct status_args *a)
{
	/* status takes the first two, trust all but the second */
	const char *names[] = { "data", "store", "pem", "der" };
	const char **slots[] = { &a->data, &a->store, &a->pem, &a->der };
	size_t i, n;
	int k;

	memset(a, 0, sizeof(*a));
	for (k = 0; k < argc; k++) {
		const char *arg = argv[k], *eq = strchr(arg, '=');

		n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		for (i = 0; i < (trust ? 4u : 2u); i++)
			if (n == strlen(names[i]) + 2 && strncmp(arg, "--", 2) == 0 &&
			    strncmp(arg + 2, names[i], n - 2) == 0)
				break;
		if (i == (trust ? 4u : 2u) || (trust && i == 1)) {
			fprintf(stderr, "hearth: unknown argument \"%s\"\n", arg);
			return -1;
		}
		if (eq == NULL && k + 1 >= argc) {
			fprintf(stderr, "hearth: --%s needs a value\n", names[i]);
			return -1;
		}
		*slots[i] = eq != NULL ? eq + 1 : argv[++k];
	}
	if (a->data == NULL) {
		fprintf(stderr, "hearth: --data DIR is required\n");
		return -1;
	}
	return 0;
}

/* Reads the first certificate of DIR/name as DER (caller frees). */
int
status_cert_load(const char *dir, const char *name, uint8_t **der, size_t *len)
{
	char path[4096], *pem;
	size_t n;
	FILE *f;
	int ret;

	if (path_join(path, sizeof(path), dir, name) != 0 ||
	    (f = fopen(path, "r")) == NULL)
		return -1;
	if ((pem = calloc(1, CRYPTO_MAX_PEM_BYTES + 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(pem, 1, CRYPTO_MAX_PEM_BYTES, f);
	fclose(f);
	ret = crypto_cert_pem_to_der(pem, n, der, len) == 0 ? 0 : -1;
	free(pem);
	return ret;
}

static void
print_date(time_t t)
{
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		printf("-");
	else
		printf("%s", buf);
}

/* Prints one certificate's line(s); 1 when it needs attention, 0 when
 * not, -1 when it cannot be read. warn_days < 0: warn only once expired. */
static int
status_cert(const char *dir, const char *file, const char *label,
    int fingerprint, long warn_days, time_t now)
{
	struct crypto_cert_info info;
	uint8_t *der = NULL, fp[32];
	size_t len, i;
	long days;
	int ret = -1;

	if (status_cert_load(dir, file, &der, &len) != 0 ||
	    crypto_cert_info(der, len, &info) != 0) {
		printf("%-13s cannot read %s/%s\n", label, dir, file);
		goto out;
	}
	days = (long)((info.not_after - now) / 86400);
	printf("%-13s expires ", label);
	print_date(info.not_after);
	printf(" (%s%ld days)\n", info.not_after < now ? "expired, " : "", days);
	if (fingerprint && crypto_sha256(der, len, fp) == 0) {
		printf("%-13s SHA-256 ", "");
		for (i = 0; i < sizeof(fp); i++)
			printf("%02X%s", fp[i], i + 1 < sizeof(fp) ? ":" : "\n");
	}
	ret = info.not_after <= now ||
	    (warn_days >= 0 && info.not_after - now < warn_days * 86400) ? 1 : 0;
	if (ret == 1)
		printf("warning: %s %s\n", label, info.not_after <= now ?
		    "has expired" : "expires soon");
out:
	free(der);
	return ret;
}

static int
count_cb(const struct acme_cert_info *c, void *arg)
{
	unsigned long *counts = arg;

	counts[c->status]++;
	return 0;
}

int
cmd_status(int argc, char **argv)
{
	struct status_args a;
	unsigned long counts[3] = { 0, 0, 0 };
	char ca[4096], path[4096], errbuf[512];
	struct store *st;
	time_t now = time(NULL);
	int warn = 0, r, err;

	if (status_parse(argc, argv, 0, &a) != 0)
		return 2;
	if (path_join(ca, sizeof(ca), a.data, "ca") != 0 ||
	    server_store_location(a.data, a.store, path, sizeof(path)) != 0)
		return 2;
	printf("data          %s\n", a.data);
	r = status_cert(ca, "root.crt", "root", 1, STATUS_ROOT_WARN_DAYS, now);
	warn |= r != 0;
	r = status_cert(ca, "intermediate.crt", "intermediate", 1,
	    STATUS_INTER_WARN_DAYS, now);
	warn |= r != 0;
	if ((r = status_cert(a.data, "db/tls.crt", "server TLS", 0, -1, now)) < 0)
		printf("%-13s (written by hearth serve; not started yet?)\n", "");
	else
		warn |= r;
	if ((st = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "hearth: %s\n", errbuf);
		return 1;
	}
	r = acme_cert_list(st, now, count_cb, counts);
	store_close(st);
	if (r < 0) {
		fprintf(stderr, "hearth: cannot read the certificates\n");
		return 1;
	}
	printf("certificates  %lu valid, %lu revoked, %lu expired\n",
	    counts[ACME_CERT_VALID], counts[ACME_CERT_REVOKED],
	    counts[ACME_CERT_EXPIRED]);
	return warn ? 1 : 0;
}
