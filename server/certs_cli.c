/*
 * certs_cli.c: `hearth certs list|show` and `hearth revoke`, the operator's
 * view of issued certificates. Opens the store under DIR/db (safe while
 * `hearth serve` runs on it: LMDB serialises writers across processes, and
 * the server polls the revocation counter, so a revocation made here is in
 * its CRL and OCSP answers within a second) and hands the work to acme/.
 * Serials are read as openssl prints them (hex, any case, colons allowed)
 * and printed upper-case, as openssl does.
 */
#include "server_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "acme.h"
#include "store.h"

#define CERTS_MAX_NAME 256

/* The words of one certs/revoke command line. */
struct certs_args {
	const char *data;
	const char *store;           /* --store; NULL: DIR/db */
	const char *status;          /* list: valid, revoked, expired */
	const char *name;            /* list: one of the certificate's names */
	const char *reason;          /* revoke: code or name */
	const char *serial;          /* show, revoke */
};

void
certs_usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth certs list --data DIR [--status valid|revoked|expired]\n"
	    "                         [--name NAME] [--store LOCATION]\n"
	    "       hearth certs show --data DIR [--store LOCATION] SERIAL\n"
	    "       hearth revoke --data DIR [--store LOCATION] SERIAL [--reason R]\n"
	    "  LOCATION is the store hearth serve was given with --store (a\n"
	    "  directory or a postgresql:// URI; default DIR/db).\n"
	    "  SERIAL is hex as `openssl x509 -noout -serial` prints it (any case,\n"
	    "  colons allowed). R is an RFC 5280 code or name: 0 unspecified\n"
	    "  (default), 1 keyCompromise, 2 cACompromise, 3 affiliationChanged,\n"
	    "  4 superseded, 5 cessationOfOperation, 9 privilegeWithdrawn,\n"
	    "  10 aACompromise.\n");
}

/* Takes "--flag VALUE" or "--flag=VALUE" for the flags allowed in allow
 * (a "|"-separated list), and at most one bare word as the serial. */
static int
certs_parse(int argc, char **argv, const char *allow, struct certs_args *a)
{
	static const struct { const char *name; size_t off; } flags[] = {
		{ "data", offsetof(struct certs_args, data) },
		{ "store", offsetof(struct certs_args, store) },
		{ "status", offsetof(struct certs_args, status) },
		{ "name", offsetof(struct certs_args, name) },
		{ "reason", offsetof(struct certs_args, reason) },
	};
	const char *arg, *eq, *value;
	size_t i, n;
	int k;

	memset(a, 0, sizeof(*a));
	for (k = 0; k < argc; k++) {
		arg = argv[k];
		if (strncmp(arg, "--", 2) != 0) {
			if (a->serial != NULL || strstr(allow, "SERIAL") == NULL) {
				fprintf(stderr, "hearth: unexpected argument \"%s\"\n", arg);
				return -1;
			}
			a->serial = arg;
			continue;
		}
		eq = strchr(arg + 2, '=');
		n = eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
			if (strlen(flags[i].name) == n &&
			    strncmp(flags[i].name, arg + 2, n) == 0)
				break;
		if (i == sizeof(flags) / sizeof(flags[0]) ||
		    strstr(allow, flags[i].name) == NULL) {
			fprintf(stderr, "hearth: unknown option \"%.*s\"\n", (int)n + 2, arg);
			return -1;
		}
		if (eq == NULL && k + 1 >= argc) {
			fprintf(stderr, "hearth: --%s needs a value\n", flags[i].name);
			return -1;
		}
		value = eq != NULL ? eq + 1 : argv[++k];
		if (*value == '\0') {
			fprintf(stderr, "hearth: --%s: empty value\n", flags[i].name);
			return -1;
		}
		*(const char **)((char *)a + flags[i].off) = value;
	}
	if (a->data == NULL) {
		fprintf(stderr, "hearth: --data DIR is required\n");
		return -1;
	}
	if (strstr(allow, "SERIAL") != NULL && a->serial == NULL) {
		fprintf(stderr, "hearth: a SERIAL is required\n");
		return -1;
	}
	return 0;
}

static struct store *
certs_store(const struct certs_args *a)
{
	char path[4096], errbuf[512];
	struct store *st;
	int err;

	if (server_store_location(a->data, a->store, path, sizeof(path)) != 0)
		return NULL;
	if ((st = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL)
		fprintf(stderr, "hearth: %s\n", errbuf);
	return st;
}

static void
print_time(time_t t)
{
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		printf("-");
	else
		printf("%s", buf);
}

static void
print_serial(const char *serial)
{
	for (; *serial != '\0'; serial++)
		putchar(toupper((unsigned char)*serial));
}

/* Which certificates `certs list` prints. */
struct certs_filter {
	int status;                  /* -1: any */
	const char *name;
};

static int
list_one(const struct acme_cert_info *c, void *arg)
{
	const struct certs_filter *f = arg;
	size_t i;

	if (f->status >= 0 && (int)c->status != f->status)
		return 0;
	if (f->name != NULL) {
		for (i = 0; i < c->n_names; i++)
			if (strcasecmp(c->names[i], f->name) == 0)
				break;
		if (i == c->n_names)
			return 0;
	}
	print_serial(c->serial);
	printf("\t%s\t", acme_cert_status_name(c->status));
	print_time(c->not_after);
	putchar('\t');
	for (i = 0; i < c->n_names; i++)
		printf("%s%s", i > 0 ? "," : "", c->names[i]);
	putchar('\n');
	return 0;
}

static int
certs_list(struct store *st, const struct certs_args *a)
{
	struct certs_filter f = { -1, a->name };
	int s;

	if (a->status != NULL) {
		for (s = ACME_CERT_VALID; s <= ACME_CERT_EXPIRED; s++)
			if (strcmp(a->status, acme_cert_status_name(s)) == 0)
				f.status = s;
		if (f.status < 0) {
			fprintf(stderr, "hearth: --status: \"%s\" is not one of valid, "
			    "revoked, expired\n", a->status);
			return 2;
		}
	}
	if (a->name != NULL && strlen(a->name) >= CERTS_MAX_NAME) {
		fprintf(stderr, "hearth: --name: longer than a DNS name\n");
		return 2;
	}
	printf("serial\tstatus\tnot-after\tnames\n");
	if (acme_cert_list(st, time(NULL), list_one, &f) != 0) {
		fprintf(stderr, "hearth: certs list: cannot read the certificates\n");
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
show_one(const struct acme_cert_info *c, void *arg)
{
	size_t i;

	(void)arg;
	printf("serial: ");
	print_serial(c->serial);
	printf("\nstatus: %s\nnames: ", acme_cert_status_name(c->status));
	for (i = 0; i < c->n_names; i++)
		printf("%s%s", i > 0 ? ", " : "", c->names[i]);
	printf("\nnot-before: ");
	print_time(c->not_before);
	printf("\nnot-after: ");
	print_time(c->not_after);
	printf("\nissued: ");
	print_time(c->issued);
	printf("\naccount: %s\n", c->account != NULL ? c->account : "-");
	if (c->replaced_by != NULL)
		printf("replaced-by: %s\n", c->replaced_by);
	if (c->status == ACME_CERT_REVOKED || c->revoked_at != 0) {
		printf("revoked: ");
		print_time(c->revoked_at);
		printf("\nreason: %d (%s)\n", c->reason, acme_reason_name(c->reason));
	}
	printf("%s", c->pem != NULL ? c->pem : "");
	return 0;
}

static int
certs_show(struct store *st, const char *serial)
{
	int ret = acme_cert_show(st, serial, time(NULL), show_one, NULL);

	if (ret == ACME_ERR_NOTFOUND) {
		fprintf(stderr, "hearth: certs show: no certificate with serial %s\n",
		    serial);
		return 1;
	}
	if (ret != 0) {
		fprintf(stderr, "hearth: certs show: cannot read the certificate\n");
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
certs_revoke(struct store *st, const char *serial, const char *reason_arg)
{
	int reason = ACME_REASON_UNSPECIFIED, ret;

	if (reason_arg != NULL && (acme_reason_parse(reason_arg, &reason) != 0 ||
	    !acme_reason_allowed(reason, ACME_REVOKER_OPERATOR))) {
		fprintf(stderr, "hearth: --reason: \"%s\" is not one of 0-5, 9, 10 "
		    "(or their RFC 5280 names); see `hearth help revoke`\n", reason_arg);
		return 2;
	}
	ret = acme_cert_revoke(st, serial, reason, time(NULL));
	if (ret == ACME_ERR_NOTFOUND)
		fprintf(stderr, "hearth: revoke: no certificate with serial %s\n", serial);
	else if (ret == ACME_ERR_ALREADY)
		fprintf(stderr, "hearth: revoke: %s was already revoked\n", serial);
	else if (ret != 0)
		fprintf(stderr, "hearth: revoke: cannot store the revocation\n");
	else {
		printf("revoked ");
		print_serial(serial);
		printf(" (reason %d, %s)\n", reason, acme_reason_name(reason));
	}
	return ret == 0 ? 0 : 1;
}

/* Runs one command after its words were parsed. */
static int
certs_run(const char *cmd, const struct certs_args *a)
{
	char serial[ACME_SERIAL_HEX_LEN + 1];
	struct store *st;
	int ret;

	if (a->serial != NULL && acme_serial_normalize(a->serial, serial) != 0) {
		fprintf(stderr, "hearth: \"%s\" is not a serial number (hex, at most "
		    "%d bytes)\n", a->serial, ACME_SERIAL_MAX_BYTES);
		return 2;
	}
	if ((st = certs_store(a)) == NULL)
		return 1;
	if (strcmp(cmd, "list") == 0)
		ret = certs_list(st, a);
	else if (strcmp(cmd, "show") == 0)
		ret = certs_show(st, serial);
	else
		ret = certs_revoke(st, serial, a->reason);
	store_close(st);
	return ret;
}

int
cmd_certs(int argc, char **argv)
{
	struct certs_args a;

	if (argc < 1 || (strcmp(argv[0], "list") != 0 && strcmp(argv[0], "show") != 0)) {
		certs_usage(stderr);
		return 2;
	}
	if (certs_parse(argc - 1, argv + 1, strcmp(argv[0], "list") == 0 ?
	    "data|store|status|name" : "data|store|SERIAL", &a) != 0)
		return 2;
	return certs_run(argv[0], &a);
}

int
cmd_revoke(int argc, char **argv)
{
	struct certs_args a;

	if (certs_parse(argc, argv, "data|store|reason|SERIAL", &a) != 0) {
		certs_usage(stderr);
		return 2;
	}
	return certs_run("revoke", &a);
}
