/*
 * privsep.c: who `hearth serve` runs as. Started as root, it separates: the
 * signer process becomes --signer-user once it has loaded the intermediate
 * key (crypto/signproc.c does the switch), and the serving process becomes
 * --user once its listener is bound, its store open and the signer forked.
 * Before that, as root, this file sets the owners the separation needs and
 * refuses what would defeat it: the key files under DIR/ca belong to root
 * or the signer's user, never the serving one, and no key or passphrase
 * file there may be read by group or others; DIR/db belongs to the serving
 * user. It creates no users (packages and operators do, as for any daemon)
 * and says how when one is missing. Started as any other user, hearth runs
 * as that one user and says so. This file opens no socket and reads no key.
 */
#define _GNU_SOURCE   /* setresuid, getresuid and their gid forms */
#include "server_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* The secret files of DIR/ca (crypto.h lists them). */
static const char *const ca_secrets[] = {
	"root.key", "root.pass", "intermediate.key",
};

/* Looks up name into uid and gid. 0, or -1 after saying how to create it. */
static int
user_find(const char *flag, const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		log_error("%s: user \"%s\" does not exist%s%s; create it with: "
		    "useradd --system --no-create-home --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s (or give another with --%s)",
		    flag, name, errno != 0 ? ": " : "",
		    errno != 0 ? strerror(errno) : "", name, flag);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_error("%s: user \"%s\" is root or in group root; hearth needs "
		    "an unprivileged user", flag, name);
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/*
 * Opens DIR/name (no symbolic link followed) and checks it: a directory
 * not writable by group or others, or a secret file no group or other may
 * access. Returns the descriptor with *st filled, or -1 after logging.
 * A missing secret file gives -2, silently.
 */
static int
ca_open(const char *dir, const char *name, int is_dir, struct stat *st)
{
	char path[4096];
	int fd;

	if (path_join(path, sizeof(path), dir, name) != 0) {
		log_error("%s: path too long", dir);
		return -1;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    (is_dir ? O_DIRECTORY : 0));
	if (fd < 0 && errno == ENOENT && !is_dir)
		return -2;
	if (fd < 0 || fstat(fd, st) != 0) {
		log_error("%s: %s%s", path, strerror(errno), errno == ELOOP ?
		    " (a symbolic link: hearth wants the file itself)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (is_dir && (st->st_mode & 022) != 0) {
		log_error("%s: mode %04o lets group or others change it; refusing "
		    "to start (chmod 700 %s)", path,
		    (unsigned)(st->st_mode & 07777), path);
	} else if (!is_dir && (!S_ISREG(st->st_mode) || (st->st_mode & 077))) {
		log_error("%s: %s%04o lets group or others read it; refusing to "
		    "start (chmod 600 %s)", path, S_ISREG(st->st_mode) ?
		    "mode " : "not a regular file, mode ",
		    (unsigned)(st->st_mode & 07777), path);
	} else {
		return fd;
	}
	close(fd);
	return -1;
}

/* fchown, logged on failure; a no-op when already so. 0 or -1. */
static int
owner_set(int fd, const struct stat *st, const char *dir, const char *name,
    uid_t uid, gid_t gid)
{
	if (st->st_uid == uid && st->st_gid == gid)
		return 0;
	if (fchown(fd, uid, gid) == 0)
		return 0;
	log_error("%s/%s: cannot change the owner to uid %u: %s", dir, name,
	    (unsigned)uid, strerror(errno));
	return -1;
}

/* Checks the modes of DIR/ca's secret files (one user: no owners set). */
static int
secrets_check(const char *ca_dir)
{
	struct stat st;
	size_t i;
	int fd;

	for (i = 0; i < sizeof(ca_secrets) / sizeof(ca_secrets[0]); i++) {
		if ((fd = ca_open(ca_dir, ca_secrets[i], 0, &st)) == -1)
			return -1;
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/*
 * As root: DIR and DIR/ca not the serving user's (root's if they were);
 * intermediate.key the signer's; root.key root's or the signer's;
 * root.pass root's. Every secret file checked as in secrets_check().
 */
static int
ca_owners_set(const char *data_dir, const char *ca_dir,
    const struct privsep *p)
{
	struct stat st;
	size_t i;
	int fd, ret = 0;

	if ((fd = ca_open(data_dir, ".", 1, &st)) < 0)
		return -1;
	if (st.st_uid == p->uid || st.st_uid == p->signer_uid)
		ret = owner_set(fd, &st, data_dir, ".", 0, 0);
	close(fd);
	if (ret != 0 || (fd = ca_open(ca_dir, ".", 1, &st)) < 0)
		return -1;
	if (st.st_uid == p->uid || st.st_uid == p->signer_uid)
		ret = owner_set(fd, &st, ca_dir, ".", 0, 0);
	close(fd);
	for (i = 0; ret == 0 && i < sizeof(ca_secrets) / sizeof(ca_secrets[0]); i++) {
		if ((fd = ca_open(ca_dir, ca_secrets[i], 0, &st)) == -2)
			continue;
		if (fd < 0)
			return -1;
		if (strcmp(ca_secrets[i], "intermediate.key") == 0)
			ret = owner_set(fd, &st, ca_dir, ca_secrets[i],
			    p->signer_uid, p->signer_gid);
		else if (strcmp(ca_secrets[i], "root.pass") == 0 ||
		    (st.st_uid != 0 && st.st_uid != p->signer_uid))
			ret = owner_set(fd, &st, ca_dir, ca_secrets[i], 0, 0);
		close(fd);
	}
	return ret;
}

/* Warns while the generated root passphrase is still next to the key. */
static void
root_pass_warn(const char *ca_dir, int separated)
{
	char path[4096];
	struct stat st;

	if (path_join(path, sizeof(path), ca_dir, "root.pass") != 0 ||
	    lstat(path, &st) != 0)
		return;
	log_warn("%s is still here%s: move root.key and root.pass offline (they "
	    "are needed only to issue a new intermediate)", path, separated ?
	    " (owned by root, unreadable by the serving user)" :
	    ", readable by this process");
}

/* Both users from c (or the defaults), distinct and unprivileged. */
static int
users_find(const struct config *c, struct privsep *p)
{
	const char *user = c->user != NULL ? c->user : PRIVSEP_DEFAULT_USER;
	const char *signer = c->signer_user != NULL ? c->signer_user :
	    PRIVSEP_DEFAULT_SIGNER_USER;

	if (user_find("user", user, &p->uid, &p->gid) != 0 ||
	    user_find("signer-user", signer, &p->signer_uid, &p->signer_gid) != 0)
		return -1;
	if (p->uid == p->signer_uid) {
		log_error("user and signer-user are the same user (uid %u); the "
		    "signer needs a user of its own", (unsigned)p->uid);
		return -1;
	}
	snprintf(p->user, sizeof(p->user), "%s", user);
	snprintf(p->signer_user, sizeof(p->signer_user), "%s", signer);
	return 0;
}

int
privsep_prepare(const struct config *c, struct privsep *p)
{
	char ca_dir[4096];

	memset(p, 0, sizeof(*p));
	if (path_join(ca_dir, sizeof(ca_dir), c->data_dir, "ca") != 0) {
		log_error("%s: path too long", c->data_dir);
		return -1;
	}
	if (geteuid() != 0) {
		if (c->user != NULL || c->signer_user != NULL) {
			log_error("%s: only used when hearth serve starts as root "
			    "(it runs as uid %u)", c->user != NULL ? "user" :
			    "signer-user", (unsigned)geteuid());
			return -1;
		}
		if (secrets_check(ca_dir) != 0)
			return -1;
		log_info("running as uid %u, not root: the signer and the serving "
		    "process share this user (start as root to separate them)",
		    (unsigned)geteuid());
		root_pass_warn(ca_dir, 0);
		return 0;
	}
	if (users_find(c, p) != 0 || ca_owners_set(c->data_dir, ca_dir, p) != 0)
		return -1;
	if (crypto_signer_set_user(p->signer_uid, p->signer_gid) != CRYPTO_OK)
		return -1;
	p->enabled = 1;
	log_info("started as root: the signer runs as %s (uid %u), the serving "
	    "process as %s (uid %u)", p->signer_user, (unsigned)p->signer_uid,
	    p->user, (unsigned)p->uid);
	root_pass_warn(ca_dir, 1);
	return 0;
}

/* DIR/db and the regular files in it become the serving user's. */
static int
db_owners_set(const char *data_dir, const struct privsep *p)
{
	char db[4096];
	struct dirent *e;
	struct stat st;
	DIR *d = NULL;
	int fd, ret = -1;

	if (path_join(db, sizeof(db), data_dir, "db") != 0 ||
	    (fd = open(db, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		log_error("%s/db: %s", data_dir, strerror(errno));
		return -1;
	}
	if (fchown(fd, p->uid, p->gid) != 0)
		goto out;
	while ((e = readdir(d)) != NULL) {
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			goto out;
		if (S_ISREG(st.st_mode) && fchownat(fd, e->d_name, p->uid,
		    p->gid, AT_SYMLINK_NOFOLLOW) != 0)
			goto out;
	}
	ret = 0;
out:
	if (ret != 0)
		log_error("%s: cannot give it to %s: %s", db, p->user,
		    strerror(errno));
	closedir(d);
	return ret;
}

/* Becomes uid/gid for good and checks root cannot come back. */
static int
become(const struct privsep *p)
{
	uid_t r, e, s;
	gid_t rg, eg, sg;

	if (setgroups(1, &p->gid) != 0 || setresgid(p->gid, p->gid, p->gid) != 0 ||
	    setresuid(p->uid, p->uid, p->uid) != 0) {
		log_error("cannot become user %s: %s", p->user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 ||
	    getresuid(&r, &e, &s) != 0 || getresgid(&rg, &eg, &sg) != 0 ||
	    r != p->uid || e != r || s != r || rg != p->gid || eg != rg ||
	    sg != rg) {
		log_error("user %s: the switch did not hold (root could be "
		    "regained); stopping", p->user);
		return -1;
	}
	return 0;
}

int
privsep_drop(const struct config *c, const struct privsep *p)
{
	if (!p->enabled)
		return 0;
	if (db_owners_set(c->data_dir, p) != 0 || become(p) != 0)
		return -1;
	/* It never executes a program; and no core or ptrace of the process
	 * that holds the listener's TLS key. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_DUMPABLE, 0) != 0) {
		log_error("prctl: %s", strerror(errno));
		return -1;
	}
	log_info("serving process now runs as %s (uid %u)", p->user,
	    (unsigned)p->uid);
	return 0;
}
