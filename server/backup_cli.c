/*
 * backup_cli.c: `hearth backup --data DIR DEST` and `hearth backup --verify
 * DEST`. A backup is DEST/db/data.mdb (a compacted snapshot of the store,
 * taken by store_backup() while a server may be writing), DEST/ca/ (the CA
 * files as they are on disk, modes kept: the root key stays encrypted, the
 * intermediate key as the operator left it) and DEST/MANIFEST, written
 * last, naming the hearth and schema versions, the time and every file with
 * its mode, size and SHA-256. Restoring is copying back (docs/operations.md).
 *
 * MANIFEST is text, one item a line:
 *   hearth-backup 1
 *   hearth-version 0.1.0
 *   schema-version 1
 *   created 2025-01-31T12:00:00Z
 *   file 0600 SIZE SHA256HEX db/data.mdb
 */
#include "server_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "acme.h"
#include "store.h"

#define BACKUP_FORMAT      1
#define BACKUP_MAX_FILES   256       /* files under DEST/ca, at most */
#define BACKUP_MAX_CA_FILE (1 << 20) /* bytes of one CA file, at most */
#define BACKUP_PATH        4096
#define BACKUP_MANIFEST    "MANIFEST"

/* One file of a backup, as the manifest lists it. */
struct backup_file {
	char rel[256];               /* "db/data.mdb", "ca/root.crt" */
	unsigned mode;
	long long size;
	char sha256[65];
};

struct backup_list {
	struct backup_file f[BACKUP_MAX_FILES + 1];
	size_t n;
};

void
backup_usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth backup --data DIR DEST   copy the store and the CA\n"
	    "                                       files into DEST (new or empty)\n"
	    "       hearth backup --verify DEST     check a backup's hashes and\n"
	    "                                       open its store\n"
	    "  Safe while `hearth serve` runs on DIR. Restoring: stop the server,\n"
	    "  copy DEST/ca to DIR/ca and DEST/db/data.mdb to DIR/db/, start it\n"
	    "  (docs/operations.md). A PostgreSQL store (--store postgresql://...)\n"
	    "  is backed up with pg_dump, not by hearth backup.\n");
}

/* SHA-256 of path's bytes as lower-case hex, and its size. 0 or -1. */
static int
file_sha256(const char *path, char hex[65], long long *size)
{
	static const char digits[] = "0123456789abcdef";
	struct stat sb;
	uint8_t md[32];
	void *map = NULL;
	int fd, i, ret = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0)
		goto out;
	if (sb.st_size > 0 && (map = mmap(NULL, (size_t)sb.st_size, PROT_READ,
	    MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		map = NULL;
		goto out;
	}
	if (crypto_sha256(map != NULL ? map : "", (size_t)sb.st_size, md) != 0)
		goto out;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	*size = (long long)sb.st_size;
	ret = 0;
out:
	if (map != NULL)
		munmap(map, (size_t)sb.st_size);
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Whether dir is absent (1), an empty directory (0), or neither (-1). */
static int
dest_state(const char *dir)
{
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 1 : -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			ret = -1;
	closedir(d);
	return ret;
}

/* Copies the regular file from to to with mode, syncing it. 0 or -1. */
static int
file_copy(const char *from, const char *to, unsigned mode)
{
	char buf[65536];
	ssize_t n = 0;
	long long total = 0;
	int in, out = -1, ret = -1;

	if ((in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return -1;
	if ((out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if ((total += n) > BACKUP_MAX_CA_FILE ||
		    write(out, buf, (size_t)n) != n)
			goto out;
	}
	if (n == 0 && fchmod(out, mode) == 0 && fsync(out) == 0)
		ret = 0;
out:
	if (out >= 0 && close(out) != 0)
		ret = -1;
	close(in);
	return ret;
}

/* Adds rel (under dest) to the list with its mode, size and hash. */
static int
list_add(struct backup_list *l, const char *dest, const char *rel,
    unsigned mode)
{
	struct backup_file *f;
	char path[BACKUP_PATH];

	if (l->n >= sizeof(l->f) / sizeof(l->f[0]) ||
	    strlen(rel) >= sizeof(f->rel) || path_join(path, sizeof(path), dest,
	    rel) != 0)
		return -1;
	f = &l->f[l->n];
	snprintf(f->rel, sizeof(f->rel), "%s", rel);
	f->mode = mode;
	if (file_sha256(path, f->sha256, &f->size) != 0)
		return -1;
	l->n++;
	return 0;
}

/* Whether name, a directory under rel ("ca" or "ca/retired"), belongs in a
 * backup: ca/retired, and ca/retired/ISSUER_ID (hex) for each intermediate
 * `hearth ca rotate-intermediate` retired. */
static int
copy_subdir_wanted(const char *rel, const char *name)
{
	size_t n = strlen(name);

	if (strcmp(rel, "ca") == 0)
		return strcmp(name, "retired") == 0;
	if (strcmp(rel, "ca/retired") != 0 || n == 0 || n > 64)
		return 0;
	return strspn(name, "0123456789abcdefABCDEF") == n;
}

static int copy_tree(const char *data, const char *dest, const char *rel,
    struct backup_list *l);

/* Copies DIR/rel/name, a regular file or a wanted directory, into DEST. */
static int
copy_entry(const char *data, const char *dest, const char *rel,
    const char *name, struct backup_list *l)
{
	char from[BACKUP_PATH], to[BACKUP_PATH], sub[300];
	struct stat sb;

	if (snprintf(sub, sizeof(sub), "%s/%s", rel, name) >= (int)sizeof(sub) ||
	    path_join(from, sizeof(from), data, sub) != 0 ||
	    path_join(to, sizeof(to), dest, sub) != 0)
		return -1;
	if (lstat(from, &sb) != 0)
		return 0;                   /* gone since readdir */
	if (S_ISDIR(sb.st_mode)) {
		if (!copy_subdir_wanted(rel, name))
			return 0;
		if (mkdir(to, 0700) != 0) {
			fprintf(stderr, "hearth: backup: cannot create %s: %s\n",
			    to, strerror(errno));
			return -1;
		}
		return copy_tree(data, dest, sub, l);
	}
	if (!S_ISREG(sb.st_mode))
		return 0;                   /* sockets, links: not CA files */
	if (file_copy(from, to, sb.st_mode & 07777) != 0 ||
	    list_add(l, dest, sub, sb.st_mode & 07777) != 0) {
		fprintf(stderr, "hearth: %s: cannot copy to %s: %s\n", from, to,
		    l->n >= BACKUP_MAX_FILES ? "too many CA files" : strerror(errno));
		return -1;
	}
	if (strcmp(sub, "ca/root.pass") == 0)
		fprintf(stderr, "hearth: WARNING: %s/ca/root.pass, the root "
		    "key's passphrase, is in this backup next to the root "
		    "key: whoever holds the backup can sign as the root. "
		    "Keep DEST offline, or move root.pass out of %s/ca.\n",
		    data, data);
	return 0;
}

/* Copies every regular file of DIR/rel into DEST/rel with its mode, and the
 * wanted subdirectories (ca/retired/ISSUER_ID) likewise. */
static int
copy_tree(const char *data, const char *dest, const char *rel,
    struct backup_list *l)
{
	char dir[BACKUP_PATH];
	struct dirent *e;
	DIR *d;
	int ret = 0;

	if (path_join(dir, sizeof(dir), data, rel) != 0 ||
	    (d = opendir(dir)) == NULL) {
		fprintf(stderr, "hearth: %s/%s: %s\n", data, rel, strerror(errno));
		return -1;
	}
	while (ret == 0 && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			ret = copy_entry(data, dest, rel, e->d_name, l);
	closedir(d);
	return ret;
}

/* Writes DEST/MANIFEST through a temporary file renamed into place. */
static int
manifest_write(const char *dest, const struct backup_list *l, int schema)
{
	char tmp[BACKUP_PATH], path[BACKUP_PATH], ts[32];
	time_t now = time(NULL);
	struct tm tm;
	FILE *f = NULL;
	size_t i;
	int fd, ret = -1;

	if (path_join(tmp, sizeof(tmp), dest, BACKUP_MANIFEST ".tmp") != 0 ||
	    path_join(path, sizeof(path), dest, BACKUP_MANIFEST) != 0)
		return -1;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 ||
	    (f = fdopen(fd, "w")) == NULL)
		goto out;
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "hearth-backup %d\nhearth-version %s\nschema-version %d\n"
	    "created %s\n", BACKUP_FORMAT, HEARTH_VERSION, schema, ts);
	for (i = 0; i < l->n; i++)
		fprintf(f, "file %04o %lld %s %s\n", l->f[i].mode, l->f[i].size,
		    l->f[i].sha256, l->f[i].rel);
	if (fflush(f) == 0 && fsync(fileno(f)) == 0)
		ret = 0;
out:
	if (f != NULL) {
		if (fclose(f) != 0)
			ret = -1;
	} else if (fd >= 0)
		close(fd);
	if (ret == 0 && rename(tmp, path) != 0)
		ret = -1;
	return ret;
}

/* Creates DEST (or takes it empty) with DEST/db and DEST/ca, all 0700. */
static int
dest_prepare(const char *dest)
{
	char sub[BACKUP_PATH];
	int st = dest_state(dest);

	if (st < 0) {
		fprintf(stderr, "hearth: backup: %s exists and is not an empty "
		    "directory; give a new or empty one\n", dest);
		return -1;
	}
	if ((st == 1 && mkdir(dest, 0700) != 0) ||
	    path_join(sub, sizeof(sub), dest, "db") != 0 || mkdir(sub, 0700) != 0 ||
	    path_join(sub, sizeof(sub), dest, "ca") != 0 || mkdir(sub, 0700) != 0) {
		fprintf(stderr, "hearth: backup: cannot create %s: %s\n", dest,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens DIR/db only when it holds a store (store_open would create one). */
static struct store *
backup_store_open(const char *data)
{
	char path[BACKUP_PATH], file[BACKUP_PATH], errbuf[512];
	struct store *st;
	int err;

	if (path_join(path, sizeof(path), data, "db") != 0 ||
	    path_join(file, sizeof(file), path, "data.mdb") != 0 ||
	    access(file, R_OK) != 0) {
		fprintf(stderr, "hearth: %s: no store (%s/db/data.mdb) to back "
		    "up\n", data, data);
		return NULL;
	}
	if ((st = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL)
		fprintf(stderr, "hearth: %s\n", errbuf);
	return st;
}

static int
backup_take(const char *data, const char *dest)
{
	struct backup_list *l = NULL;
	struct store *st = NULL;
	char db[BACKUP_PATH], errbuf[512];
	int ret = 1;

	if ((st = backup_store_open(data)) == NULL || dest_prepare(dest) != 0)
		goto out;
	if ((l = calloc(1, sizeof(*l))) == NULL ||
	    path_join(db, sizeof(db), dest, "db") != 0)
		goto out;
	if (store_backup(st, db, errbuf, sizeof(errbuf)) != 0) {
		fprintf(stderr, "hearth: backup: %s\n", errbuf);
		goto out;
	}
	/* LMDB creates the copy under the umask; the store is 0600. */
	if (path_join(db, sizeof(db), dest, "db/data.mdb") != 0 ||
	    chmod(db, 0600) != 0 || list_add(l, dest, "db/data.mdb", 0600) != 0 ||
	    copy_tree(data, dest, "ca", l) != 0)
		goto out;
	if (manifest_write(dest, l, store_schema_version(st)) != 0) {
		fprintf(stderr, "hearth: backup: cannot write %s/%s: %s\n", dest,
		    BACKUP_MANIFEST, strerror(errno));
		goto out;
	}
	printf("backup of %s written to %s: the store (%lld bytes, compacted) "
	    "and %zu CA files\n", data, dest, l->f[0].size, l->n - 1);
	ret = 0;
out:
	free(l);
	store_close(st);
	return ret;
}

/* ---- --verify ---- */

/* Reads one "file MODE SIZE HASH REL" line into f. 0 or -1. */
static int
manifest_file(const char *line, struct backup_file *f)
{
	char rel[300];

	if (sscanf(line, "file %o %lld %64s %299s", &f->mode, &f->size,
	    f->sha256, rel) != 4 || strlen(f->sha256) != 64 ||
	    strlen(rel) >= sizeof(f->rel) || strstr(rel, "..") != NULL ||
	    (strncmp(rel, "db/", 3) != 0 && strncmp(rel, "ca/", 3) != 0))
		return -1;
	snprintf(f->rel, sizeof(f->rel), "%s", rel);
	return 0;
}

/* Reads DEST/MANIFEST: its schema version and files. 0 or -1 after saying
 * which line is wrong. */
static int
manifest_read(const char *dest, struct backup_list *l, int *schema)
{
	char path[BACKUP_PATH], line[512];
	FILE *f;
	int lineno = 0, format = 0, ret = -1;

	if (path_join(path, sizeof(path), dest, BACKUP_MANIFEST) != 0 ||
	    (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "hearth: %s/%s: %s\n", dest, BACKUP_MANIFEST,
		    strerror(errno));
		return -1;
	}
	*schema = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (sscanf(line, "hearth-backup %d", &format) == 1 ||
		    sscanf(line, "schema-version %d", schema) == 1 ||
		    strncmp(line, "hearth-version ", 15) == 0 ||
		    strncmp(line, "created ", 8) == 0)
			continue;
		if (l->n >= BACKUP_MAX_FILES + 1 ||
		    manifest_file(line, &l->f[l->n]) != 0) {
			fprintf(stderr, "hearth: %s:%d: not a manifest line\n", path,
			    lineno);
			goto out;
		}
		l->n++;
	}
	if (format != BACKUP_FORMAT || *schema <= 0 || l->n == 0)
		fprintf(stderr, "hearth: %s: not a hearth backup manifest (format "
		    "%d, schema %d, %zu files)\n", path, format, *schema, l->n);
	else
		ret = 0;
out:
	fclose(f);
	return ret;
}

/* Checks every listed file's hash, size and mode. The number of bad ones. */
static int
files_check(const char *dest, const struct backup_list *l)
{
	char path[BACKUP_PATH], hex[65];
	struct stat sb;
	long long size;
	size_t i;
	int bad = 0;

	for (i = 0; i < l->n; i++) {
		const struct backup_file *f = &l->f[i];

		if (path_join(path, sizeof(path), dest, f->rel) != 0 ||
		    stat(path, &sb) != 0 || file_sha256(path, hex, &size) != 0) {
			fprintf(stderr, "hearth: %s: %s\n", path, strerror(errno));
			bad++;
		} else if (size != f->size || strcmp(hex, f->sha256) != 0) {
			fprintf(stderr, "hearth: %s: content differs from the "
			    "manifest (SHA-256 %s, expected %s)\n", path, hex,
			    f->sha256);
			bad++;
		} else if ((unsigned)(sb.st_mode & 07777) != f->mode) {
			fprintf(stderr, "hearth: %s: mode %04o, manifest says %04o\n",
			    path, (unsigned)(sb.st_mode & 07777), f->mode);
			bad++;
		}
	}
	return bad;
}

static int
count_cert(const struct acme_cert_info *c, void *arg)
{
	(void)c;
	(*(size_t *)arg)++;
	return 0;
}

/* Opens DEST/db read-only in effect (nothing is written; the lock file
 * LMDB makes is removed again) and counts its certificates. */
static int
store_check(const char *dest, int schema)
{
	char db[BACKUP_PATH], lock[BACKUP_PATH], errbuf[512];
	struct store *st;
	size_t certs = 0;
	int err, had_lock, ret = -1;

	if (path_join(db, sizeof(db), dest, "db") != 0 ||
	    path_join(lock, sizeof(lock), db, "lock.mdb") != 0)
		return -1;
	had_lock = access(lock, F_OK) == 0;
	if ((st = store_open(db, &err, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "hearth: %s\n", errbuf);
		goto out;
	}
	if (store_schema_version(st) != schema)
		fprintf(stderr, "hearth: %s: schema version %d, manifest says %d\n",
		    db, store_schema_version(st), schema);
	else if (acme_cert_list(st, time(NULL), count_cert, &certs) != 0)
		fprintf(stderr, "hearth: %s: cannot read the certificates\n", db);
	else
		ret = 0;
	store_close(st);
	if (ret == 0)
		printf("store opens: schema version %d, %zu certificates\n", schema,
		    certs);
out:
	if (!had_lock)
		(void)unlink(lock);
	return ret;
}

static int
backup_verify(const char *dest)
{
	struct backup_list *l;
	int schema, bad, ret = 1;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return 1;
	if (manifest_read(dest, l, &schema) != 0)
		goto out;
	if ((bad = files_check(dest, l)) != 0) {
		fprintf(stderr, "hearth: %s: %d of %zu files do not match the "
		    "manifest\n", dest, bad, l->n);
		goto out;
	}
	printf("%zu files match the manifest\n", l->n);
	if (store_check(dest, schema) == 0) {
		printf("backup %s verified\n", dest);
		ret = 0;
	}
out:
	free(l);
	return ret;
}

int
cmd_backup(int argc, char **argv)
{
	const char *data = NULL, *verify = NULL, *dest = NULL, *store = NULL;
	int k;

	for (k = 0; k < argc; k++) {
		if (strcmp(argv[k], "--data") == 0 && k + 1 < argc)
			data = argv[++k];
		else if (strncmp(argv[k], "--data=", 7) == 0)
			data = argv[k] + 7;
		else if (strcmp(argv[k], "--store") == 0 && k + 1 < argc)
			store = argv[++k];
		else if (strncmp(argv[k], "--store=", 8) == 0)
			store = argv[k] + 8;
		else if (strcmp(argv[k], "--verify") == 0 && k + 1 < argc)
			verify = argv[++k];
		else if (strncmp(argv[k], "--verify=", 9) == 0)
			verify = argv[k] + 9;
		else if (argv[k][0] != '-' && dest == NULL)
			dest = argv[k];
		else {
			fprintf(stderr, "hearth: backup: unexpected argument \"%s\"\n",
			    argv[k]);
			backup_usage(stderr);
			return 2;
		}
	}
	if (verify != NULL && data == NULL && dest == NULL && *verify != '\0')
		return backup_verify(verify);
	if (verify != NULL || data == NULL || dest == NULL || *data == '\0' ||
	    *dest == '\0') {
		fprintf(stderr, "hearth: backup: give --data DIR DEST, or --verify "
		    "DEST\n");
		backup_usage(stderr);
		return 2;
	}
	if (store != NULL && store_is_pg(store)) {
		fprintf(stderr, "hearth: backup: --store is a PostgreSQL database: "
		    "back it up with pg_dump (and copy DIR/ca as for any backup); "
		    "hearth backup copies LMDB stores only\n");
		return 1;
	}
	if (store != NULL) {
		fprintf(stderr, "hearth: backup: --store: hearth backup takes the "
		    "store under DIR/db only\n");
		return 2;
	}
	return backup_take(data, dest);
}
