/*
 * store_cli.c: where the store is (--store, or DIR/db) and `hearth store
 * migrate --from DIR --to URI`, which copies an LMDB store into an empty
 * PostgreSQL database (store_copy() does the copying and the counting).
 * The source is opened only when it holds a store already, so a mistyped
 * DIR is not created empty. A source that another process has open (a
 * running server, or an admin command) is refused before anything is
 * written, and the source is counted again after the copy: a record that
 * appeared meanwhile (a writer that opened it after the check) fails the
 * migration rather than being left behind.
 */
#include "server_internal.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "store.h"

int
server_store_location(const char *data_dir, const char *store, char *out,
    size_t outsz)
{
	int n;

	if (store != NULL)
		n = snprintf(out, outsz, "%s", store);
	else
		n = snprintf(out, outsz, "%s/db", data_dir);
	if (n < 0 || (size_t)n >= outsz) {
		fprintf(stderr, "hearth: %s: too long\n", store != NULL ?
		    "--store" : "--data");
		return -1;
	}
	return 0;
}

void
store_usage_text(FILE *f)
{
	fprintf(f,
	    "usage: hearth store migrate --from DIR --to URI\n"
	    "  copies every record of the LMDB store of data directory DIR\n"
	    "  (DIR/db, or DIR itself when it holds data.mdb) into the empty\n"
	    "  PostgreSQL database URI (postgresql://...), creating its tables,\n"
	    "  and checks the counts. Refuses while another process (a server)\n"
	    "  has the LMDB store open. Stop the server first; afterwards start it\n"
	    "  with --data DIR --store URI (the CA stays under DIR/ca).\n");
}

/* The LMDB store of DIR: DIR/db, or DIR when it holds data.mdb itself.
 * -1 after saying why when neither holds one. */
static int
migrate_source(const char *dir, char *out, size_t outsz)
{
	char file[4200];
	struct stat sb;

	snprintf(file, sizeof(file), "%s/data.mdb", dir);
	if (stat(file, &sb) == 0 && S_ISREG(sb.st_mode))
		return snprintf(out, outsz, "%s", dir) < (int)outsz ? 0 : -1;
	if (path_join(out, outsz, dir, "db") == 0 &&
	    snprintf(file, sizeof(file), "%s/data.mdb", out) > 0 &&
	    stat(file, &sb) == 0 && S_ISREG(sb.st_mode))
		return 0;
	fprintf(stderr, "hearth: store migrate: --from %s: no LMDB store there "
	    "(neither %s/data.mdb nor %s/db/data.mdb)\n", dir, dir, dir);
	return -1;
}

/* -1 after saying so when another process has the store at path open. */
static int
migrate_idle(const char *path)
{
	long pid = 0;
	int rc;

	if ((rc = store_in_use(path, &pid)) == 0)
		return 0;
	if (rc > 0)
		fprintf(stderr, "hearth: store migrate: %s is in use by process "
		    "%ld (a running hearth serve?); stop it first, or records it "
		    "writes during the copy would be lost\n", path, pid);
	else
		fprintf(stderr, "hearth: store migrate: %s/lock.mdb: %s\n", path,
		    store_strerror(rc));
	return -1;
}

static int
count_fn(const void *k, size_t kl, const void *v, size_t vl, void *arg)
{
	(void)k, (void)kl, (void)v, (void)vl;
	(*(uint64_t *)arg)++;
	return 0;
}

/* Counts src again in a new snapshot: -1 after saying which table when
 * it holds more than was copied (a writer used it during the copy). */
static int
migrate_recount(struct store *src, const uint64_t counts[STORE_T_COUNT])
{
	struct store_txn *txn;
	uint64_t n;
	int t, rc = 0;

	if ((rc = store_read_begin(src, &txn)) != 0) {
		fprintf(stderr, "hearth: store migrate: cannot count the source "
		    "again: %s\n", store_strerror(rc));
		return -1;
	}
	/* meta: the copy leaves the schema version record out */
	for (t = STORE_T_META + 1; t < STORE_T_COUNT && rc == 0; t++) {
		n = 0;
		if ((rc = store_scan(txn, t, NULL, 0, NULL, 0, count_fn,
		    &n)) == 0 && n != counts[t]) {
			fprintf(stderr, "hearth: store migrate: table %s of the "
			    "source went from %llu to %llu records during the "
			    "copy: a server wrote to it; stop it, empty the "
			    "database and migrate again\n", store_table_name(t),
			    (unsigned long long)counts[t], (unsigned long long)n);
			rc = -1;
		}
	}
	store_read_end(txn);
	return rc == 0 ? 0 : -1;
}

/* Opens both stores, copies, and prints what was copied. */
static int
migrate(const char *from, const char *to)
{
	uint64_t counts[STORE_T_COUNT], total = 0;
	struct store *src = NULL, *dst = NULL;
	char path[4096], errbuf[512];
	int err, t, ret = 1;

	if (migrate_source(from, path, sizeof(path)) != 0 ||
	    migrate_idle(path) != 0)
		return 1;
	if ((src = store_open(path, &err, errbuf, sizeof(errbuf))) == NULL ||
	    (dst = store_open(to, &err, errbuf, sizeof(errbuf))) == NULL) {
		fprintf(stderr, "hearth: store migrate: %s\n", errbuf);
		goto out;
	}
	if ((err = store_copy(src, dst, counts, errbuf, sizeof(errbuf))) != 0) {
		fprintf(stderr, "hearth: store migrate: %s\n", errbuf[0] != '\0' ?
		    errbuf : store_strerror(err));
		goto out;
	}
	if (migrate_recount(src, counts) != 0)
		goto out;
	for (t = 0; t < STORE_T_COUNT; t++) {
		printf("%-20s %llu\n", store_table_name(t),
		    (unsigned long long)counts[t]);
		total += counts[t];
	}
	printf("copied %llu records from %s; the counts match\n",
	    (unsigned long long)total, path);
	ret = 0;
out:
	store_close(dst);
	store_close(src);
	return ret;
}

int
cmd_store(int argc, char **argv)
{
	const char *from = NULL, *to = NULL;
	int k;

	if (argc < 1 || strcmp(argv[0], "migrate") != 0) {
		store_usage_text(stderr);
		return 2;
	}
	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--from") == 0 && k + 1 < argc)
			from = argv[++k];
		else if (strncmp(argv[k], "--from=", 7) == 0)
			from = argv[k] + 7;
		else if (strcmp(argv[k], "--to") == 0 && k + 1 < argc)
			to = argv[++k];
		else if (strncmp(argv[k], "--to=", 5) == 0)
			to = argv[k] + 5;
		else {
			fprintf(stderr, "hearth: store migrate: unexpected "
			    "argument \"%s\"\n", argv[k]);
			return 2;
		}
	}
	if (from == NULL || *from == '\0' || to == NULL || !store_is_pg(to)) {
		fprintf(stderr, "hearth: store migrate: give --from DIR and --to "
		    "postgresql://...\n");
		store_usage_text(stderr);
		return 2;
	}
	return migrate(from, to);
}
