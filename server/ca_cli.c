/*
 * ca_cli.c: `hearth ca rotate-intermediate`. Parses its own flags, reads
 * the root passphrase (--passphrase-file, else DIR/ca/root.pass) and the
 * optional intermediate passphrase, and has crypto/ issue the new
 * intermediate and retire the old one; the passphrases are zeroized here,
 * the root key inside crypto/.
 */
#include "server_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CA_ARG_MAX 4096    /* longest path accepted on the command line */

struct ca_args {
	const char *data, *pass_file, *inter_pass_file;
	long days;
};

void
ca_usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth ca rotate-intermediate --data DIR [--passphrase-file F]\n"
	    "           [--intermediate-passphrase-file F] [--intermediate-days N]\n"
	    "  issues a new intermediate under the root (root passphrase from F,\n"
	    "  else DIR/ca/root.pass) and keeps the old one in DIR/ca/retired/ID/;\n"
	    "  a running hearth serve takes the new one up at SIGHUP (systemctl\n"
	    "  reload hearth) or its next start\n");
}

/* One "--name value" or "--name=value" at argv[*k]; 0 or -1 after saying why. */
static int
ca_flag(int argc, char **argv, int *k, struct ca_args *a)
{
	const char *arg = argv[*k], *eq = strchr(arg, '='), *v;
	size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
	char *end;

	if (eq == NULL && *k + 1 >= argc) {
		fprintf(stderr, "hearth ca: %s needs a value\n", arg);
		return -1;
	}
	v = eq != NULL ? eq + 1 : argv[++*k];
	if (strlen(v) == 0 || strlen(v) >= CA_ARG_MAX) {
		fprintf(stderr, "hearth ca: %.*s: empty or too long\n", (int)n, arg);
		return -1;
	}
	if (n == 6 && strncmp(arg, "--data", n) == 0)
		a->data = v;
	else if (n == 17 && strncmp(arg, "--passphrase-file", n) == 0)
		a->pass_file = v;
	else if (n == 30 && strncmp(arg, "--intermediate-passphrase-file", n) == 0)
		a->inter_pass_file = v;
	else if (n == 19 && strncmp(arg, "--intermediate-days", n) == 0) {
		errno = 0;
		a->days = strtol(v, &end, 10);
		if (errno != 0 || *end != '\0' || a->days < 1 || a->days > 36500) {
			fprintf(stderr, "hearth ca: --intermediate-days: \"%s\" is "
			    "not a number of days from 1 to 36500\n", v);
			return -1;
		}
	} else {
		fprintf(stderr, "hearth ca: unknown option %.*s\n", (int)n, arg);
		return -1;
	}
	return 0;
}

static int
ca_parse(int argc, char **argv, struct ca_args *a)
{
	int k;

	memset(a, 0, sizeof(*a));
	for (k = 0; k < argc; k++) {
		if (strncmp(argv[k], "--", 2) != 0) {
			fprintf(stderr, "hearth ca: unexpected argument \"%s\"\n",
			    argv[k]);
			return -1;
		}
		if (ca_flag(argc, argv, &k, a) != 0)
			return -1;
	}
	if (a->data == NULL) {
		fprintf(stderr, "hearth ca: --data DIR is required\n");
		return -1;
	}
	return 0;
}

static void
secret_free(char *p, size_t len)
{
	if (p != NULL) {
		crypto_zeroize(p, len);
		free(p);
	}
}

static int
ca_rotate(const struct ca_args *a, const char *ca_dir, const char *pass_path)
{
	struct crypto_ca_rotate_params p;
	char old_id[65], new_id[65], *rootpw = NULL, *interpw = NULL;
	size_t rootlen = 0, interlen = 0;
	int rc, ret = 1;

	memset(&p, 0, sizeof(p));
	if ((rootpw = config_read_passphrase(pass_path, &rootlen)) == NULL)
		goto out;
	if (a->inter_pass_file != NULL && (interpw =
	    config_read_passphrase(a->inter_pass_file, &interlen)) == NULL)
		goto out;
	p.root_passphrase = rootpw;
	p.root_passphrase_len = rootlen;
	p.intermediate_passphrase = interpw;
	p.intermediate_passphrase_len = interlen;
	p.intermediate_days = (unsigned)a->days;
	p.now = time(NULL);
	if ((rc = crypto_ca_rotate(ca_dir, &p, old_id, new_id)) != CRYPTO_OK) {
		fprintf(stderr, "hearth ca: rotating the intermediate in %s: %s%s%s\n",
		    ca_dir, crypto_strerror(rc), rc == CRYPTO_ERR_IO ? ": " : "",
		    rc == CRYPTO_ERR_IO ? strerror(errno) : "");
		goto out;
	}
	printf("retired intermediate %s (kept in %s/retired/%s)\n", old_id,
	    ca_dir, old_id);
	printf("new intermediate %s\n", new_id);
	printf("reload hearth serve (SIGHUP, systemctl reload hearth): it issues "
	    "under the new intermediate from then on\n");
	ret = 0;
out:
	secret_free(rootpw, rootlen);
	secret_free(interpw, interlen);
	return ret;
}

int
cmd_ca(int argc, char **argv)
{
	struct ca_args a;
	char ca_dir[CA_ARG_MAX + 8], pass[CA_ARG_MAX + 32];
	int ret;

	if (argc < 1 || strcmp(argv[0], "rotate-intermediate") != 0) {
		ca_usage(stderr);
		return 2;
	}
	if (ca_parse(argc - 1, argv + 1, &a) != 0)
		return 2;
	if (path_join(ca_dir, sizeof(ca_dir), a.data, "ca") != 0 ||
	    path_join(pass, sizeof(pass), ca_dir, "root.pass") != 0)
		return 2;
	if (!crypto_ca_exists(ca_dir)) {
		fprintf(stderr, "hearth ca: %s holds no CA (run hearth init)\n",
		    ca_dir);
		return 1;
	}
	if (crypto_init() != CRYPTO_OK) {
		fprintf(stderr, "hearth ca: cannot initialise the crypto library\n");
		return 1;
	}
	ret = ca_rotate(&a, ca_dir, a.pass_file != NULL ? a.pass_file : pass);
	crypto_cleanup();
	return ret;
}
