/*
 * test_secret.c: reading key and passphrase files (crypto_secret_read):
 * exact contents of a 0600 file; every mode that gives group or others
 * access refused unread with the mode reported; directories, FIFOs, missing
 * and oversized files refused; and the two readers of keys, the signer
 * (intermediate.key) and the root import, refusing a key others may read.
 */
#include "check.h"
#include "crypto.h"
#include "pki_test.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* crypto_secret_read of path; *mode and the contents (or "") out. */
static int
secret(const char *path, size_t max, unsigned *mode, char *out, size_t outsz)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*mode = 0;
	rc = crypto_secret_read(path, max, &buf, &len, mode);
	snprintf(out, outsz, "%s", buf != NULL ? buf : "");
	if (rc == CRYPTO_OK)
		CHECK_EQ_INT(strlen(buf), len);
	else
		CHECK(buf == NULL && len == 0);
	if (buf != NULL)
		crypto_zeroize(buf, len);
	free(buf);
	return rc;
}

static void
test_modes(void)
{
	static const unsigned refused[] = { 0640, 0604, 0644, 0660, 0606, 0610,
	    0601, 0620, 0602, 0400 | 040 };
	const char *p = pt_path("pass");
	char got[64];
	unsigned mode;
	size_t i;

	CHECK_EQ_INT(pt_spit(p, "s3cret\nsecond line\n", 19), 0);
	CHECK_EQ_INT(chmod(p, 0600), 0);
	CHECK_EQ_INT(secret(p, 1024, &mode, got, sizeof(got)), CRYPTO_OK);
	CHECK_EQ_STR(got, "s3cret\nsecond line\n");
	CHECK_EQ_INT(mode, 0600);
	CHECK_EQ_INT(chmod(p, 0400), 0);
	CHECK_EQ_INT(secret(p, 1024, &mode, got, sizeof(got)), CRYPTO_OK);
	CHECK_EQ_INT(mode, 0400);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_EQ_INT(chmod(p, refused[i]), 0);
		CHECK_EQ_INT(secret(p, 1024, &mode, got, sizeof(got)),
		    CRYPTO_ERR_FILE_MODE);
		CHECK_EQ_INT(mode, refused[i]);
		CHECK_EQ_STR(got, "");
	}
	/* The mode is that of the file a link leads to. */
	CHECK_EQ_INT(chmod(p, 0600), 0);
	CHECK_EQ_INT(symlink(p, pt_path("link")), 0);
	CHECK_EQ_INT(secret(pt_path("link"), 1024, &mode, got, sizeof(got)),
	    CRYPTO_OK);
	CHECK_EQ_STR(got, "s3cret\nsecond line\n");
	CHECK_EQ_INT(chmod(p, 0644), 0);
	CHECK_EQ_INT(secret(pt_path("link"), 1024, &mode, got, sizeof(got)),
	    CRYPTO_ERR_FILE_MODE);
	CHECK(strstr(crypto_strerror(CRYPTO_ERR_FILE_MODE), "chmod 600") != NULL);
}

static void
test_refusals(void)
{
	char got[64], big[2049];
	unsigned mode;

	CHECK_EQ_INT(secret(pt_path("absent"), 1024, &mode, got, sizeof(got)),
	    CRYPTO_ERR_IO);
	CHECK_EQ_INT(errno, ENOENT);
	CHECK_EQ_INT(mkdir(pt_path("dir"), 0700), 0);
	CHECK_EQ_INT(secret(pt_path("dir"), 1024, &mode, got, sizeof(got)),
	    CRYPTO_ERR_IO);
	CHECK_EQ_INT(mkfifo(pt_path("fifo"), 0600), 0);
	CHECK_EQ_INT(secret(pt_path("fifo"), 1024, &mode, got, sizeof(got)),
	    CRYPTO_ERR_IO);
	memset(big, 'x', sizeof(big));
	CHECK_EQ_INT(pt_spit(pt_path("big"), big, sizeof(big)), 0);
	CHECK_EQ_INT(chmod(pt_path("big"), 0600), 0);
	CHECK_EQ_INT(secret(pt_path("big"), 2048, &mode, got, sizeof(got)),
	    CRYPTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(secret(pt_path("big"), 2049, &mode, got, sizeof(got)),
	    CRYPTO_OK);
	CHECK_EQ_INT(pt_spit(pt_path("empty"), "", 0), 0);
	CHECK_EQ_INT(chmod(pt_path("empty"), 0600), 0);
	CHECK_EQ_INT(secret(pt_path("empty"), 16, &mode, got, sizeof(got)),
	    CRYPTO_OK);
	CHECK_EQ_STR(got, "");
}

/* The signer and the import refuse a key file group or others may read. */
static void
test_key_readers(void)
{
	struct crypto_ca_params p;
	struct crypto_signer *s;
	char ca[1100], key[1200];
	int gen, err;

	snprintf(ca, sizeof(ca), "%s/ca", pt_dir);
	snprintf(key, sizeof(key), "%s/intermediate.key", ca);
	memset(&p, 0, sizeof(p));
	p.key_type = CRYPTO_KEY_EC_P256;
	p.ca_name = "secret";
	p.root_days = 3650;
	p.intermediate_days = 365;
	p.root_passphrase = "root";
	p.root_passphrase_len = 4;
	p.now = time(NULL);
	CHECK_EQ_INT(crypto_ca_create(ca, &p, &gen), CRYPTO_OK);
	CHECK_EQ_INT(pt_mode(key), 0600);
	CHECK_EQ_INT(chmod(key, 0640), 0);
	CHECK(crypto_signer_open(ca, NULL, 0, NULL, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_FILE_MODE);
	CHECK(crypto_signer_spawn(ca, NULL, 0, NULL, &err) == NULL);
	CHECK_EQ_INT(err, CRYPTO_ERR_FILE_MODE);
	CHECK_EQ_INT(chmod(key, 0600), 0);
	s = crypto_signer_open(ca, NULL, 0, NULL, &err);
	CHECK_EQ_INT(err, CRYPTO_OK);
	crypto_signer_free(s);

	/* An imported root key: the same rule. */
	CHECK_EQ_INT(pt_run("cd %s && openssl genpkey -algorithm EC -pkeyopt "
	    "ec_paramgen_curve:P-256 -out imp.key && openssl req -x509 -new "
	    "-key imp.key -days 30 -subj /CN=imported -out imp.crt && "
	    "chmod 644 imp.key", pt_dir), 0);
	CHECK_EQ_INT(crypto_ca_import(pt_path("ca2"), pt_path("imp.crt"),
	    pt_path("imp.key"), NULL, 0, &p, &gen), CRYPTO_ERR_FILE_MODE);
	CHECK(!pt_exists(pt_path("ca2/root.crt")));
	CHECK_EQ_INT(chmod(pt_path("imp.key"), 0600), 0);
	CHECK_EQ_INT(crypto_ca_import(pt_path("ca2"), pt_path("imp.crt"),
	    pt_path("imp.key"), NULL, 0, &p, &gen), CRYPTO_OK);
}

int
main(void)
{
	if (crypto_init() != 0)
		return 2;
	pt_tmpdir("secret");
	test_modes();
	test_refusals();
	test_key_readers();
	crypto_cleanup();
	return CHECK_DONE();
}
