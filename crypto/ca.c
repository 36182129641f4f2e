/*
 * ca.c: the CA directory. Creates a new root and intermediate, or imports an
 * operator's root and issues an intermediate under it, and writes the files
 * crypto.h lists: keys are created 0600 with O_EXCL, everything is written to
 * a temporary name first and linked into place only when all of it is ready,
 * and a failure removes whatever was written. Rotation issues a new
 * intermediate under the existing root and retires the old one into
 * retired/<issuer id>/. The signer (signer.c) reads
 * the result; this file never issues leaves.
 */
#include "pki_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_CA_NAME    "hearth"
#define DEFAULT_ROOT_DAYS  3650
#define DEFAULT_INTER_DAYS 1825
#define MAX_DAYS           36500
#define BACKDATE_SECS      3600     /* tolerate clients' clock skew */
#define CN_MAX             64       /* ub-common-name, RFC 5280 A.1 */
#define GEN_PASS_BYTES     32
#define SPKI_MAX           1024
#define MAX_FILES          5

static const char *const ca_names[] = {
	"root.crt", "root.key", "root.pass", "intermediate.crt",
	"intermediate.key",
};

/* A file to write: keys and passphrases are secret (0600, zeroized). */
struct ca_file {
	const char *name;
	mode_t mode;
	char *data;
	size_t len;
};

/* The root's key and certificate, generated or imported. */
struct ca_root {
	struct pki_key *key;
	uint8_t *der;
	size_t der_len;
	struct pki_cert_view view;
};

struct ca_conf {
	const char *name;
	time_t now;
	unsigned root_days, inter_days;
	const struct crypto_policy *permit;   /* NULL: no name constraints */
	const struct pki_tlv *subject;        /* NULL: rendered from name */
};

int
crypto_key_type_parse(const char *s, enum crypto_key_type *out)
{
	if (s == NULL || out == NULL)
		return CRYPTO_ERR_INVALID;
	if (strcmp(s, "ec-p256") == 0)
		*out = CRYPTO_KEY_EC_P256;
	else if (strcmp(s, "ec-p384") == 0)
		*out = CRYPTO_KEY_EC_P384;
	else if (strcmp(s, "rsa-4096") == 0)
		*out = CRYPTO_KEY_RSA_4096;
	else
		return CRYPTO_ERR_UNSUPPORTED;
	return CRYPTO_OK;
}

static int
ca_path(char *out, size_t outsz, const char *dir, const char *name,
    const char *suffix)
{
	int n = snprintf(out, outsz, "%s/%s%s", dir, name, suffix);

	return n < 0 || (size_t)n >= outsz ? CRYPTO_ERR_INVALID : CRYPTO_OK;
}

static int
ca_file_exists(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (ca_path(path, sizeof(path), dir, name, "") != 0)
		return 0;
	return lstat(path, &st) == 0;
}

int
crypto_ca_constraints(const char *ca_dir, struct crypto_policy **out)
{
	struct pki_cert_view v;
	char path[PATH_MAX], *pem = NULL;
	uint8_t *der = NULL;
	size_t len = 0, derlen = 0;
	int ret;

	if (out == NULL)
		return CRYPTO_ERR_INVALID;
	*out = NULL;
	if (ca_dir == NULL || (ret = ca_path(path, sizeof(path), ca_dir,
	    "intermediate.crt", "")) != 0)
		return CRYPTO_ERR_INVALID;
	if ((ret = crypto_read_file(path, CRYPTO_MAX_PEM_BYTES, &pem, &len)) != 0)
		return ret;
	ret = pki_pem_decode(pem, len, "CERTIFICATE", &der, &derlen);
	if (ret == 0 && pki_cert_view(der, derlen, &v) != 0)
		ret = CRYPTO_ERR_PARSE;
	if (ret == 0)
		ret = pki_constraints_read(&v, out);
	free(der);
	free(pem);
	return ret;
}

int
crypto_ca_exists(const char *ca_dir)
{
	if (ca_dir == NULL)
		return 0;
	return ca_file_exists(ca_dir, "root.crt") &&
	    ca_file_exists(ca_dir, "intermediate.crt");
}

static int
ca_any_exists(const char *dir)
{
	size_t i;

	for (i = 0; i < sizeof(ca_names) / sizeof(ca_names[0]); i++)
		if (ca_file_exists(dir, ca_names[i]))
			return 1;
	return 0;
}

/* ---- writing --------------------------------------------------------------- */

static int
write_fd(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, data, len)) < 0) {
			if (errno == EINTR)
				continue;
			return CRYPTO_ERR_IO;
		}
		data += n;
		len -= (size_t)n;
	}
	return CRYPTO_OK;
}

/* Writes f to DIR/NAME.tmp, created with its final mode from the start. */
static int
write_tmp(const char *dir, const struct ca_file *f)
{
	char path[PATH_MAX];
	int fd, ret, saved;

	if ((ret = ca_path(path, sizeof(path), dir, f->name, ".tmp")) != 0)
		return ret;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    f->mode);
	if (fd < 0)
		return errno == EEXIST ? CRYPTO_ERR_EXISTS : CRYPTO_ERR_IO;
	ret = CRYPTO_ERR_IO;
	if (fchmod(fd, f->mode) == 0 && write_fd(fd, f->data, f->len) == 0 &&
	    fsync(fd) == 0)
		ret = CRYPTO_OK;
	saved = errno;
	if (close(fd) != 0 && ret == 0)
		ret = CRYPTO_ERR_IO;
	if (ret != 0) {
		unlink(path);
		errno = saved;
	}
	return ret;
}

static void
unlink_files(const char *dir, const struct ca_file *files, size_t n,
    const char *suffix)
{
	char path[PATH_MAX];
	size_t i;
	int saved = errno;

	for (i = 0; i < n; i++)
		if (ca_path(path, sizeof(path), dir, files[i].name, suffix) == 0)
			unlink(path);
	errno = saved;
}

/* Moves DIR/NAME.tmp to DIR/NAME without replacing an existing file. */
static int
publish(const char *dir, const struct ca_file *f)
{
	char tmp[PATH_MAX], path[PATH_MAX];

	if (ca_path(tmp, sizeof(tmp), dir, f->name, ".tmp") != 0 ||
	    ca_path(path, sizeof(path), dir, f->name, "") != 0)
		return CRYPTO_ERR_INVALID;
	if (link(tmp, path) != 0)
		return errno == EEXIST ? CRYPTO_ERR_EXISTS : CRYPTO_ERR_IO;
	unlink(tmp);
	return CRYPTO_OK;
}

static void
sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* All or nothing: temporary files first, then each linked into place. */
static int
write_all(const char *dir, const struct ca_file *files, size_t n)
{
	size_t i, done = 0;
	int ret = CRYPTO_OK;

	for (i = 0; i < n && ret == 0; i++)
		if ((ret = write_tmp(dir, &files[i])) == 0)
			done = i + 1;
	for (i = 0; i < n && ret == 0; i++)
		if ((ret = publish(dir, &files[i])) == 0)
			done = n + i + 1;
	if (ret != 0) {
		unlink_files(dir, files, done < n ? done : n, ".tmp");
		if (done > n)
			unlink_files(dir, files, done - n, "");
		return ret;
	}
	sync_dir(dir);
	return CRYPTO_OK;
}

static void
files_free(struct ca_file *files, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		crypto_zeroize(files[i].data, files[i].len);
		free(files[i].data);
	}
}

/* ---- parameters ------------------------------------------------------------ */

/* Name constraints are allow rules only, and at least one. */
static int
permit_check(const struct crypto_policy *permit)
{
	enum crypto_policy_rule kind;
	size_t i;

	if (permit == NULL)
		return CRYPTO_OK;
	for (i = 0; pki_policy_rule(permit, i, &kind) != NULL; i++)
		if (kind != CRYPTO_POLICY_ALLOW_DNS && kind != CRYPTO_POLICY_ALLOW_IP)
			return CRYPTO_ERR_INVALID;
	return i > 0 ? CRYPTO_OK : CRYPTO_ERR_INVALID;
}

static int
conf_init(const struct crypto_ca_params *p, struct ca_conf *c)
{
	size_t i;

	c->name = p->ca_name != NULL && p->ca_name[0] != '\0' ? p->ca_name :
	    DEFAULT_CA_NAME;
	c->root_days = p->root_days != 0 ? p->root_days : DEFAULT_ROOT_DAYS;
	c->inter_days = p->intermediate_days != 0 ? p->intermediate_days :
	    DEFAULT_INTER_DAYS;
	c->now = p->now;
	c->permit = p->permit;
	c->subject = NULL;
	if (permit_check(c->permit) != 0)
		return CRYPTO_ERR_INVALID;
	if (c->root_days > MAX_DAYS || c->inter_days > MAX_DAYS || c->now <= 0)
		return CRYPTO_ERR_INVALID;
	if (strlen(c->name) + strlen(" Intermediate CA") > CN_MAX)
		return CRYPTO_ERR_INVALID;
	for (i = 0; c->name[i] != '\0'; i++)
		if ((unsigned char)c->name[i] < 0x20 || c->name[i] == 0x7f)
			return CRYPTO_ERR_INVALID;
	if (p->root_passphrase != NULL && p->root_passphrase_len == 0)
		return CRYPTO_ERR_INVALID;
	if (p->intermediate_passphrase != NULL &&
	    p->intermediate_passphrase_len == 0)
		return CRYPTO_ERR_INVALID;
	return CRYPTO_OK;
}

/* ---- certificates ---------------------------------------------------------- */

static void
ca_root_clear(struct ca_root *r)
{
	pki_key_free(r->key);
	free(r->der);
	memset(r, 0, sizeof(*r));
}

static int
make_root(const struct ca_conf *c, enum crypto_key_type type,
    struct ca_root *r)
{
	struct pki_buf subject = { 0 }, exts = { 0 };
	struct pki_cert_spec spec;
	uint8_t spki[SPKI_MAX], id[20], serial[CRYPTO_SERIAL_BYTES];
	char cn[CN_MAX + 1];
	size_t spki_len;
	int ret;

	memset(&spec, 0, sizeof(spec));
	if ((ret = pki_key_generate(type, &r->key)) != 0 ||
	    (ret = pki_key_spki(r->key, spki, sizeof(spki), &spki_len)) != 0 ||
	    (ret = pki_spki_key_id(spki, spki_len, id)) != 0)
		goto out;
	snprintf(cn, sizeof(cn), "%s Root CA", c->name);
	pki_name(&subject, c->name, cn);
	pki_ext_basic(&exts, 1, -1);
	pki_ext_key_usage(&exts, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN);
	pki_ext_ski(&exts, id, sizeof(id));
	if ((ret = subject.err) != 0 || (ret = exts.err) != 0)
		goto out;
	spec.subject = subject.p;
	spec.subject_len = subject.len;
	spec.spki = spki;
	spec.spki_len = spki_len;
	spec.not_before = c->now - BACKDATE_SECS;
	spec.not_after = c->now + (time_t)c->root_days * 86400;
	spec.exts = exts.p;
	spec.exts_len = exts.len;
	if ((ret = pki_cert_sign(&spec, r->key, serial, &r->der,
	    &r->der_len)) != 0)
		goto out;
	ret = pki_cert_view(r->der, r->der_len, &r->view);
out:
	pki_buf_free(&subject);
	pki_buf_free(&exts);
	return ret;
}

/* Issues the intermediate under r; it never outlives the root. */
static int
make_intermediate(const struct ca_conf *c, struct pki_key *key,
    struct ca_root *r, uint8_t **der, size_t *len)
{
	struct pki_buf subject = { 0 }, exts = { 0 };
	struct pki_cert_spec spec;
	uint8_t spki[SPKI_MAX], id[20], rid[32], serial[CRYPTO_SERIAL_BYTES];
	char cn[CN_MAX + 1];
	size_t spki_len, rid_len;
	int ret;

	memset(&spec, 0, sizeof(spec));
	if ((ret = pki_key_spki(key, spki, sizeof(spki), &spki_len)) != 0 ||
	    (ret = pki_spki_key_id(spki, spki_len, id)) != 0 ||
	    (ret = pki_cert_key_id(&r->view, rid, &rid_len)) != 0)
		goto out;
	if (c->subject == NULL) {
		snprintf(cn, sizeof(cn), "%s Intermediate CA", c->name);
		pki_name(&subject, c->name, cn);
	}
	pki_ext_basic(&exts, 1, 0);
	pki_ext_key_usage(&exts, PKI_KU_KEY_CERT_SIGN | PKI_KU_CRL_SIGN |
	    PKI_KU_DIGITAL_SIGNATURE);
	pki_ext_ski(&exts, id, sizeof(id));
	pki_ext_aki(&exts, rid, rid_len);
	if (c->permit != NULL)
		pki_ext_name_constraints(&exts, c->permit);
	if ((ret = subject.err) != 0 || (ret = exts.err) != 0)
		goto out;
	spec.issuer = r->view.subject.der;
	spec.issuer_len = r->view.subject.der_len;
	spec.subject = c->subject != NULL ? c->subject->der : subject.p;
	spec.subject_len = c->subject != NULL ? c->subject->der_len : subject.len;
	spec.spki = spki;
	spec.spki_len = spki_len;
	spec.not_before = c->now - BACKDATE_SECS;
	spec.not_after = c->now + (time_t)c->inter_days * 86400;
	if (spec.not_after > r->view.not_after)
		spec.not_after = r->view.not_after;
	if (spec.not_before < r->view.not_before)
		spec.not_before = r->view.not_before;
	spec.exts = exts.p;
	spec.exts_len = exts.len;
	ret = pki_cert_sign(&spec, r->key, serial, der, len);
out:
	pki_buf_free(&subject);
	pki_buf_free(&exts);
	return ret;
}

/* ---- the files ------------------------------------------------------------- */

static int
gen_pass(struct ca_file *f)
{
	uint8_t raw[GEN_PASS_BYTES];
	size_t cap = crypto_b64url_len(sizeof(raw)) + 2;
	int n, ret = CRYPTO_ERR_INTERNAL;

	if ((f->data = malloc(cap)) == NULL)
		return CRYPTO_ERR_NOMEM;
	if (crypto_random(raw, sizeof(raw)) == 0 &&
	    (n = crypto_b64url_encode(raw, sizeof(raw), f->data, cap)) > 0) {
		f->data[n] = '\n';
		f->data[n + 1] = '\0';
		f->len = (size_t)n + 1;
		ret = CRYPTO_OK;
	}
	crypto_zeroize(raw, sizeof(raw));
	return ret;
}

static void
file_set(struct ca_file *f, const char *name, mode_t mode)
{
	f->name = name;
	f->mode = mode;
}

/* Renders the five (or four) files of a CA in memory. */
static int
render(const struct crypto_ca_params *p, struct ca_root *r,
    struct pki_key *ikey, const uint8_t *ider, size_t ilen,
    struct ca_file *f, size_t *n, int *generated)
{
	const char *pass = p->root_passphrase;
	size_t passlen = p->root_passphrase_len;
	int ret;

	*n = 0;
	*generated = 0;
	file_set(&f[(*n)++], "root.crt", 0644);
	if ((ret = pki_pem_encode(r->der, r->der_len, "CERTIFICATE",
	    &f[0].data, &f[0].len)) != 0)
		return ret;
	if (pass == NULL) {
		file_set(&f[*n], "root.pass", 0600);
		if ((ret = gen_pass(&f[(*n)++])) != 0)
			return ret;
		pass = f[*n - 1].data;
		passlen = f[*n - 1].len - 1;
		*generated = 1;
	}
	file_set(&f[*n], "root.key", 0600);
	if ((ret = pki_key_pem(r->key, pass, passlen, &f[*n].data,
	    &f[*n].len)) != 0)
		return ret;
	(*n)++;
	file_set(&f[*n], "intermediate.key", 0600);
	if ((ret = pki_key_pem(ikey, p->intermediate_passphrase,
	    p->intermediate_passphrase_len, &f[*n].data, &f[*n].len)) != 0)
		return ret;
	(*n)++;
	file_set(&f[*n], "intermediate.crt", 0644);
	if ((ret = pki_pem_encode(ider, ilen, "CERTIFICATE", &f[*n].data,
	    &f[*n].len)) != 0)
		return ret;
	(*n)++;
	return CRYPTO_OK;
}

/* Creates ca_dir when missing; *made says whether this call made it. */
static int
ensure_dir(const char *dir, int *made)
{
	struct stat st;

	*made = 0;
	if (mkdir(dir, 0700) == 0) {
		*made = 1;
		return chmod(dir, 0700) == 0 ? CRYPTO_OK : CRYPTO_ERR_IO;
	}
	if (errno != EEXIST)
		return CRYPTO_ERR_IO;
	if (stat(dir, &st) != 0)
		return CRYPTO_ERR_IO;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return CRYPTO_ERR_IO;
	}
	return CRYPTO_OK;
}

/* Issues the intermediate under r and writes everything to dir. */
static int
finish(const char *dir, const struct crypto_ca_params *p,
    const struct ca_conf *c, struct ca_root *r, int *generated_pass)
{
	struct ca_file files[MAX_FILES];
	struct pki_key *ikey = NULL;
	uint8_t *ider = NULL;
	size_t ilen = 0, n = 0;
	int ret, made = 0, generated = 0;

	memset(files, 0, sizeof(files));
	if ((ret = pki_key_generate(p->key_type, &ikey)) != 0 ||
	    (ret = make_intermediate(c, ikey, r, &ider, &ilen)) != 0 ||
	    (ret = render(p, r, ikey, ider, ilen, files, &n, &generated)) != 0)
		goto out;
	if ((ret = ensure_dir(dir, &made)) != 0)
		goto out;
	if (ca_any_exists(dir))
		ret = CRYPTO_ERR_EXISTS;
	else
		ret = write_all(dir, files, n);
	if (ret != 0 && made)
		rmdir(dir);
	if (ret == 0 && generated_pass != NULL)
		*generated_pass = generated;
out:
	files_free(files, MAX_FILES);
	pki_key_free(ikey);
	free(ider);
	return ret;
}

static int
precheck(const char *dir, const struct crypto_ca_params *p,
    struct ca_conf *c, int *generated_pass)
{
	if (generated_pass != NULL)
		*generated_pass = 0;
	if (dir == NULL || dir[0] == '\0' || p == NULL)
		return CRYPTO_ERR_INVALID;
	if (p->key_type != CRYPTO_KEY_EC_P256 && p->key_type != CRYPTO_KEY_EC_P384 &&
	    p->key_type != CRYPTO_KEY_RSA_4096)
		return CRYPTO_ERR_UNSUPPORTED;
	if (conf_init(p, c) != 0)
		return CRYPTO_ERR_INVALID;
	if (ca_any_exists(dir))
		return CRYPTO_ERR_EXISTS;
	return CRYPTO_OK;
}

int
crypto_ca_create(const char *ca_dir, const struct crypto_ca_params *p,
    int *generated_pass)
{
	struct ca_conf c;
	struct ca_root r;
	int ret;

	memset(&r, 0, sizeof(r));
	if ((ret = precheck(ca_dir, p, &c, generated_pass)) != 0)
		return ret;
	if ((ret = make_root(&c, p->key_type, &r)) == 0)
		ret = finish(ca_dir, p, &c, &r, generated_pass);
	ca_root_clear(&r);
	return ret;
}

/* ---- import ---------------------------------------------------------------- */

static int
import_cert(const char *path, struct ca_root *r)
{
	char *pem = NULL;
	size_t len = 0;
	int ret;

	if ((ret = crypto_read_file(path, CRYPTO_MAX_PEM_BYTES, &pem, &len)) != 0)
		return ret;
	ret = pki_pem_decode(pem, len, "CERTIFICATE", &r->der, &r->der_len);
	if (ret == 0 && pki_cert_view(r->der, r->der_len, &r->view) != 0)
		ret = CRYPTO_ERR_PARSE;
	if (ret == 0 && !pki_cert_is_ca(&r->view))
		ret = CRYPTO_ERR_NOT_CA;
	free(pem);
	return ret;
}

static int
import_key(const char *path, const char *pass, size_t passlen,
    struct ca_root *r)
{
	uint8_t spki[SPKI_MAX];
	char *pem = NULL;
	size_t len = 0, spki_len;
	int ret;

	if ((ret = crypto_secret_read(path, CRYPTO_MAX_PEM_BYTES, &pem, &len,
	    NULL)) != 0)
		return ret;
	ret = pki_key_from_pem(pem, len, pass, passlen, &r->key);
	crypto_zeroize(pem, len);
	free(pem);
	if (ret != 0)
		return ret;
	if ((ret = pki_key_spki(r->key, spki, sizeof(spki), &spki_len)) != 0)
		return ret;
	if (spki_len != r->view.spki.der_len ||
	    memcmp(spki, r->view.spki.der, spki_len) != 0)
		return CRYPTO_ERR_MISMATCH;
	return CRYPTO_OK;
}

int
crypto_ca_import(const char *ca_dir, const char *cert_path,
    const char *key_path, const char *key_passphrase, size_t key_passphrase_len,
    const struct crypto_ca_params *p, int *generated_pass)
{
	struct ca_conf c;
	struct ca_root r;
	int ret;

	memset(&r, 0, sizeof(r));
	if (cert_path == NULL || key_path == NULL)
		return CRYPTO_ERR_INVALID;
	if ((ret = precheck(ca_dir, p, &c, generated_pass)) != 0)
		return ret;
	if ((ret = import_cert(cert_path, &r)) == 0 &&
	    (ret = import_key(key_path, key_passphrase, key_passphrase_len,
	    &r)) == 0)
		ret = finish(ca_dir, p, &c, &r, generated_pass);
	ca_root_clear(&r);
	return ret;
}

/* ---- rotation -------------------------------------------------------------- */

/* The certificate of dir/name, as DER and a view into it. */
static int
read_cert(const char *dir, const char *name, uint8_t **der, size_t *len,
    struct pki_cert_view *v)
{
	char path[PATH_MAX], *pem = NULL;
	size_t pemlen = 0;
	int ret;

	if ((ret = ca_path(path, sizeof(path), dir, name, "")) != 0 ||
	    (ret = crypto_read_file(path, CRYPTO_MAX_PEM_BYTES, &pem,
	    &pemlen)) != 0)
		return ret;
	ret = pki_pem_decode(pem, pemlen, "CERTIFICATE", der, len);
	if (ret == 0 && pki_cert_view(*der, *len, v) != 0)
		ret = CRYPTO_ERR_PARSE;
	free(pem);
	return ret;
}

static int
key_id_hex(const struct pki_cert_view *v, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	uint8_t id[32];
	size_t i, len;

	if (pki_cert_key_id(v, id, &len) != 0 || len == 0)
		return CRYPTO_ERR_PARSE;
	for (i = 0; i < len; i++) {
		out[2 * i] = digits[id[i] >> 4];
		out[2 * i + 1] = digits[id[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return CRYPTO_OK;
}

static int
spki_key_type(const struct pki_cert_view *v, enum crypto_key_type *t)
{
	enum pki_spki_kind kind;
	int ret;

	if ((ret = pki_spki_check(v->spki.der, v->spki.der_len, &kind)) != 0)
		return ret;
	if (kind == PKI_SPKI_P256)
		*t = CRYPTO_KEY_EC_P256;
	else if (kind == PKI_SPKI_P384)
		*t = CRYPTO_KEY_EC_P384;
	else if (kind == PKI_SPKI_RSA)
		*t = CRYPTO_KEY_RSA_4096;
	else
		return CRYPTO_ERR_UNSUPPORTED;
	return CRYPTO_OK;
}

/* dir/sub as a new 0700 directory owned like dir; EEXIST is fine only
 * when may_exist. */
static int
make_subdir(const char *dir, const char *sub, int may_exist, char *out,
    size_t outsz)
{
	struct stat st;

	if (ca_path(out, outsz, dir, sub, "") != 0 || stat(dir, &st) != 0)
		return CRYPTO_ERR_IO;
	if (mkdir(out, 0700) != 0)
		return errno == EEXIST && may_exist ? CRYPTO_OK :
		    errno == EEXIST ? CRYPTO_ERR_EXISTS : CRYPTO_ERR_IO;
	if (chown(out, st.st_uid, st.st_gid) != 0 && geteuid() == 0)
		return CRYPTO_ERR_IO;
	return CRYPTO_OK;
}

/* Hard-links the current intermediate and the root certificate into
 * ca_dir/retired/<old_id>/: the same files, modes and owners. */
static int
retire(const char *ca_dir, const char *old_id)
{
	static const char *const names[] = {
		"intermediate.crt", "intermediate.key", "root.crt",
	};
	char retired[PATH_MAX], dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
	size_t i;

	if (make_subdir(ca_dir, "retired", 1, retired, sizeof(retired)) != 0 ||
	    make_subdir(retired, old_id, 0, dir, sizeof(dir)) != 0)
		return errno == EEXIST ? CRYPTO_ERR_EXISTS : CRYPTO_ERR_IO;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (ca_path(from, sizeof(from), ca_dir, names[i], "") != 0 ||
		    ca_path(to, sizeof(to), dir, names[i], "") != 0 ||
		    link(from, to) != 0)
			return CRYPTO_ERR_IO;
	}
	sync_dir(dir);
	sync_dir(retired);
	return CRYPTO_OK;
}

/* Writes f over dir/f->name: a temporary file owned like the one it
 * replaces, then rename(2), so a reader sees the old file or the new. */
static int
replace_file(const char *dir, const struct ca_file *f)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	struct stat st;
	int ret;

	if (ca_path(tmp, sizeof(tmp), dir, f->name, ".tmp") != 0 ||
	    ca_path(path, sizeof(path), dir, f->name, "") != 0 ||
	    lstat(path, &st) != 0)
		return CRYPTO_ERR_IO;
	unlink(tmp);
	if ((ret = write_tmp(dir, f)) != 0)
		return ret;
	if ((lchown(tmp, st.st_uid, st.st_gid) != 0 && geteuid() == 0) ||
	    rename(tmp, path) != 0) {
		unlink(tmp);
		return CRYPTO_ERR_IO;
	}
	return CRYPTO_OK;
}

/* The new intermediate's key and certificate, rendered as files. */
static int
rotate_render(const struct ca_conf *c, enum crypto_key_type type,
    struct ca_root *r, const char *pass, size_t passlen, struct ca_file *f,
    char new_id[65])
{
	struct pki_cert_view nv;
	struct pki_key *ikey = NULL;
	uint8_t *ider = NULL;
	size_t ilen = 0;
	int ret;

	file_set(&f[0], "intermediate.key", 0600);
	file_set(&f[1], "intermediate.crt", 0644);
	if ((ret = pki_key_generate(type, &ikey)) != 0 ||
	    (ret = make_intermediate(c, ikey, r, &ider, &ilen)) != 0 ||
	    (ret = pki_cert_view(ider, ilen, &nv)) != 0 ||
	    (ret = key_id_hex(&nv, new_id)) != 0 ||
	    (ret = pki_key_pem(ikey, pass, passlen, &f[0].data,
	    &f[0].len)) != 0)
		goto out;
	ret = pki_pem_encode(ider, ilen, "CERTIFICATE", &f[1].data, &f[1].len);
out:
	pki_key_free(ikey);
	free(ider);
	return ret;
}

/* Loads the root (certificate and key) and the current intermediate. */
static int
rotate_load(const char *ca_dir, const char *root_pass, size_t root_len,
    struct ca_root *r, uint8_t **oder, size_t *olen,
    struct pki_cert_view *ov)
{
	char path[PATH_MAX];
	int ret;

	if ((ret = ca_path(path, sizeof(path), ca_dir, "root.crt", "")) != 0 ||
	    (ret = import_cert(path, r)) != 0 ||
	    (ret = ca_path(path, sizeof(path), ca_dir, "root.key", "")) != 0 ||
	    (ret = import_key(path, root_pass, root_len, r)) != 0)
		return ret;
	return read_cert(ca_dir, "intermediate.crt", oder, olen, ov);
}

int
crypto_ca_rotate(const char *ca_dir, const struct crypto_ca_rotate_params *p,
    char old_id[65], char new_id[65])
{
	struct ca_file files[2];
	struct ca_conf c;
	struct ca_root r;
	struct pki_cert_view ov;
	struct crypto_policy *permit = NULL;
	enum crypto_key_type type;
	uint8_t *oder = NULL;
	size_t olen = 0;
	int ret;

	memset(&r, 0, sizeof(r));
	memset(&c, 0, sizeof(c));
	memset(files, 0, sizeof(files));
	if (ca_dir == NULL || p == NULL || p->now <= 0 ||
	    p->intermediate_days > MAX_DAYS)
		return CRYPTO_ERR_INVALID;
	if ((ret = rotate_load(ca_dir, p->root_passphrase,
	    p->root_passphrase_len, &r, &oder, &olen, &ov)) != 0 ||
	    (ret = key_id_hex(&ov, old_id)) != 0 ||
	    (ret = spki_key_type(&ov, &type)) != 0 ||
	    (ret = pki_constraints_read(&ov, &permit)) != 0)
		goto out;
	c.now = p->now;
	c.inter_days = p->intermediate_days != 0 ? p->intermediate_days :
	    DEFAULT_INTER_DAYS;
	c.permit = permit;
	c.subject = &ov.subject;
	if ((ret = rotate_render(&c, type, &r, p->intermediate_passphrase,
	    p->intermediate_passphrase_len, files, new_id)) != 0 ||
	    (ret = retire(ca_dir, old_id)) != 0)
		goto out;
	/* The key first: a signer started between the two renames finds a
	 * key that does not match the certificate and refuses to start. */
	if ((ret = replace_file(ca_dir, &files[0])) == 0 &&
	    (ret = replace_file(ca_dir, &files[1])) == 0)
		sync_dir(ca_dir);
out:
	files_free(files, 2);
	crypto_policy_free(permit);
	ca_root_clear(&r);
	free(oder);
	return ret;
}

int
crypto_cert_key_id_pem(const char *pem, size_t len, uint8_t id[32],
    size_t *id_len)
{
	struct pki_cert_view v;
	uint8_t *der = NULL;
	size_t derlen = 0;
	int ret;

	if (pem == NULL || id == NULL || id_len == NULL)
		return CRYPTO_ERR_INVALID;
	if ((ret = pki_pem_decode(pem, len, "CERTIFICATE", &der, &derlen)) != 0)
		return ret;
	ret = pki_cert_view(der, derlen, &v) != 0 ||
	    pki_cert_key_id(&v, id, id_len) != 0 ? CRYPTO_ERR_PARSE : CRYPTO_OK;
	free(der);
	return ret;
}
