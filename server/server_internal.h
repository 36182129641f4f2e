/*
 * server_internal.h: declarations shared by the files of server/ only.
 */
#ifndef HEARTH_SERVER_INTERNAL_H
#define HEARTH_SERVER_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "crypto.h"

#define HEARTH_VERSION "0.1.0"

/* ---- configuration (config.c) ---- */

#define CONFIG_MAX_LIST      32     /* values of a repeatable setting */
#define CONFIG_MAX_LINE      4096
#define CONFIG_MAX_PASSPHRASE 1024  /* bytes of a passphrase file */
#define CONFIG_MAX_PASSPHRASE_STR "1024"

/* The users of `hearth serve` started as root (privsep.c). */
#define PRIVSEP_DEFAULT_USER        "hearth"
#define PRIVSEP_DEFAULT_SIGNER_USER "hearth-signer"

/* A repeatable setting (--tls-name A --tls-name B). */
struct config_list {
	char *v[CONFIG_MAX_LIST];
	size_t n;
};

enum config_command { CMD_INIT = 1, CMD_SERVE = 2, CMD_EAB = 4 };

/* A rate "N/DURATION" (--limit-orders 1000/1h); count 0: off. */
struct config_rate {
	long count;
	long period;                  /* seconds */
};

struct config {
	int argc;                     /* the command line config_parse read, */
	char **argv;                  /* kept to read it again on reload */
	char *data_dir;
	char *store;                  /* --store: a directory or a
	                                 postgresql:// URI; NULL: DIR/db */
	char *config_file;
	/* serve */
	char *listen;                 /* "ADDR:PORT", ":PORT" for every address */
	struct config_list tls_names;
	char *base_url;               /* fixed "https://host:port", or NULL */
	char *pki_url;                /* "http://host[:port]" leaves point to
	                                 for CRL and issuer, or NULL */
	long http01_port;
	long tlsalpn01_port;
	char *resolver;               /* "IP:PORT" or NULL for the system's */
	long threads;                 /* event loops; 0 = one per core */
	long store_threads;           /* the pool (pool.h); 0 = 16 per loop
	                                 (4 on PostgreSQL) */
	long caa_check;               /* 1: check CAA for DNS identifiers */
	struct config_list caa_identities; /* default: the DNS tls-names */
	struct config_list validation_deny; /* CIDRs validation never reaches */
	struct config_list allow_dns; /* name policy rules (crypto_policy_add) */
	struct config_list deny_dns;
	struct config_list allow_ip;
	struct config_list deny_ip;
	struct config_list permit_dns; /* init: the intermediate's name constraints */
	struct config_list permit_ip;
	struct config_list profiles;  /* NAME:LIFETIME[:USAGES], checked */
	long cert_days;               /* deprecated: default profile's days, 0 unset */
	long retention;               /* seconds expired records are kept */
	long tls_cert_lifetime;       /* seconds the listener's certificate lives */
	char *pki_listen;             /* plain HTTP "ADDR:PORT", or "off" */
	char *admin_listen;           /* metrics and health "ADDR:PORT", or "off" */
	char *log_format;             /* "text" or "json" */
	char *log_level;              /* "debug", "info", "warn" or "error" */
	long ocsp;                    /* 1: OCSP served and named in leaves */
	long crl_lifetime;            /* seconds from thisUpdate to nextUpdate */
	long crl_refresh;             /* seconds between scheduled CRLs, at most */
	long max_header_bytes;
	long max_body_bytes;
	long idle_timeout;            /* seconds */
	long eab_required;            /* 1: newAccount needs a key binding */
	/* limits (docs/limits.md) */
	struct config_rate limit_accounts;  /* new accounts per source */
	struct config_rate limit_orders;    /* new orders per account */
	struct config_rate limit_failures;  /* failed validations per name */
	struct config_rate limit_nonces;    /* nonces per source */
	long limit_pending_authzs;    /* per account; 0: off */
	long limit_queue_share;       /* validations per account; 0: off */
	long limit_conns;             /* open connections in all; 0: off */
	long limit_conns_per_source;  /* open connections per address; 0: off */
	long limit_request_time;      /* seconds for handshake + request */
	long hold_max;                /* ms an answer may wait on a validation */
	char *user;                   /* serving process's user (as root) */
	char *signer_user;            /* signer process's user (as root) */
	/* eab add */
	char *eab_label;
	long eab_expires;             /* seconds from now; 0: never */
	struct config_list eab_allow_dns;
	/* init (and serve's first start) */
	char *key_type;
	char *ca_name;
	long root_days;
	long intermediate_days;
	char *passphrase_file;        /* root key passphrase */
	char *intermediate_passphrase_file;
	char *import_root_cert;
	char *import_root_key;
	char *import_root_passphrase_file;
};

/* Fills defaults. */
void config_defaults(struct config *c);
/*
 * Parses argv (after the command word) into c, reading --config FILE where
 * given (flags on the command line override the file). Errors are printed to
 * stderr naming the flag or "FILE:LINE: key" and the reason; returns -1.
 */
int config_parse(struct config *c, enum config_command cmd, int argc,
    char **argv);
void config_free(struct config *c);
/* Prints the options of cmd to f. */
void config_usage(FILE *f, enum config_command cmd);

/* One option of the table, for the generated reference (reference.c). */
struct config_option_info {
	const char *name;             /* flag without "--", and file key */
	const char *metavar;          /* "ADDR:PORT", "N", "text|json"; "" for
	                                 a switch */
	const char *kind;             /* "number", "duration", "one of", ... */
	const char *def;              /* the default as a value, or NULL */
	const char *help;
	unsigned commands;            /* CMD_* mask */
	int bounded;                  /* min and max apply (rate: the count) */
	int seconds;                  /* min and max are seconds */
	long min, max;
};
/* The i-th option of the table into *out (static strings): 0, or -1 past
 * the last. */
int config_option_info(size_t i, struct config_option_info *out);

/* `hearth config reference [--format markdown|man] [--command C]`
 * (reference.c): the option table as docs/configuration.md or as the
 * OPTIONS of a man page. Returns the process exit status. */
int cmd_config(int argc, char **argv);

/* Parses a profile setting NAME:LIFETIME[:USAGES] (LIFETIME as "90d",
 * "160h"; USAGES comma-separated serverAuth, clientAuth, digitalSignature,
 * keyEncipherment). 0, or -1 with the reason in *why (static). */
int config_profile_parse(const char *s, struct crypto_profile *p,
    const char **why);
/* The profile table for acme/ and the signer: the --profile settings, or
 * the defaults; --cert-days overrides the first one's lifetime. Returns
 * how many were written. */
size_t config_profiles(const struct config *c,
    struct crypto_profile out[CRYPTO_MAX_PROFILES]);
/* The name policy of c: the operator's allow-dns, deny-dns, allow-ip and
 * deny-ip rules (already checked by config_parse), then for a kind without
 * allow rules the intermediate's name constraints (NULL: none,
 * crypto_ca_constraints) or else the defaults. Caller frees with crypto_policy_free. NULL
 * after logging why. */
struct crypto_policy *config_policy(const struct config *c,
    const struct crypto_policy *constraints);
/* The rules of --permit-dns and --permit-ip as a policy of allow rules, or
 * NULL (*err 0) when none was given; NULL with *err -1 after logging. */
struct crypto_policy *config_permit(const struct config *c, int *err);
/* One sentence on how to allow other names, for start-up output. */
extern const char config_policy_hint[];

/* Reads a passphrase file (first line, trailing newline removed) as a
 * secret (crypto_secret_read: no stdio, at most CONFIG_MAX_PASSPHRASE
 * bytes, refused when group or others may read it, naming the mode and
 * the chmod that fixes it). Returns a malloc'd buffer the caller zeroizes
 * and frees, or NULL after printing why. */
char *config_read_passphrase(const char *path, size_t *len);

/* ---- logging (log.c) ---- */

/* Levels, lowest first; lines below the level in force are dropped. */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* "debug", "info", "warn" or "error" into *out: 0, or -1 for another word. */
int log_level_parse(const char *name, enum log_level *out);
/* The name of level (static). */
const char *log_level_name(enum log_level level);
/* The level in force (default LOG_INFO); may be called while other
 * threads log (a reload). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Nonzero when a line of level would be written. */
int log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Copies s into out (outsz bytes) with control and non-ASCII bytes and quotes
 * escaped as \xNN, truncating with "..."; for client-supplied strings. */
void log_escape(const char *s, char *out, size_t outsz);

/* --log-format json (1) or text (0); call once at start-up. */
void log_set_json(int json);
/* Nonzero when lines are JSON (then fields carry what text puts in msg). */
int server_log_json(void);
/* One named value of a log line; value is logged escaped (JSON) or as is
 * (text: the caller escapes client-supplied values with log_escape). */
struct log_field {
	const char *key;            /* a fixed name: letters, digits, '_' */
	const char *value;
};
/* A line of level ("debug", "info", "warn", "error") about request rid (NULL or ""
 * for none) with message msg and n fields. */
void log_fields(const char *level, const char *rid, const char *msg,
    const struct log_field *f, size_t n);
/* A printf-style line about request rid. */
void log_req(const char *level, const char *rid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes s as the inside of a JSON string into out (outsz bytes, always
 * NUL-terminated): '"', '\\' and control bytes escaped, every byte outside
 * printable ASCII as \u00XX, so the result is valid JSON and ASCII whatever
 * s holds. Stops before a character that would not fit; returns the length
 * written. */
size_t log_json_escape(const char *s, char *out, size_t outsz);

/* ---- commands ---- */

/* `hearth init`: creates (or imports) the CA under DIR/ca. 0 or -1. */
int cmd_init(const struct config *c);
/* Ensures a CA exists (creating one on first start). 0 or -1. */
int ca_ensure(const struct config *c);
/* `hearth serve`. Returns the process exit status. */
int cmd_serve(const struct config *c);
/* `hearth eab add|list|revoke` (eab_cli.c); argv after "eab". Returns the
 * process exit status. */
int cmd_eab(int argc, char **argv);
/* The usage lines of `hearth eab`. */
void eab_usage(FILE *f);
/* `hearth certs list|show` and `hearth revoke` (certs_cli.c); argv after
 * the command word. Return the process exit status. */
int cmd_certs(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
/* The usage lines of `hearth certs` and `hearth revoke`. */
void certs_usage(FILE *f);
/* `hearth status --data DIR` (status_cli.c): 0 when nothing needs
 * attention, 1 when something does (or cannot be read), 2 on bad usage. */
int cmd_status(int argc, char **argv);
/* `hearth trust --data DIR [--pem FILE] [--der FILE]` (trust_cli.c). */
int cmd_trust(int argc, char **argv);
/* The arguments of status and trust (trust: pem and der too). */
struct status_args {
	const char *data, *store, *pem, *der;
};
int status_parse(int argc, char **argv, int trust, struct status_args *a);
/* The first certificate of the PEM file dir/name as DER (caller frees).
 * 0 or -1. */
int status_cert_load(const char *dir, const char *name, uint8_t **der,
    size_t *len);

/* ---- `hearth ca` (ca_cli.c) ---- */

int cmd_ca(int argc, char **argv);
void ca_usage(FILE *f);

/* ---- privilege separation (privsep.c) ---- */

struct privsep {
	int enabled;                  /* started as root: two users */
	uid_t uid, signer_uid;
	gid_t gid, signer_gid;
	char user[64], signer_user[64];
};

/*
 * Before the signer forks. As root: looks up --user and --signer-user
 * (defaults PRIVSEP_DEFAULT_USER, PRIVSEP_DEFAULT_SIGNER_USER; a missing
 * user is an error saying how to create it), sets the owners of DIR, DIR/ca
 * and its key files (intermediate.key the signer's, root.key root's or the
 * signer's, root.pass root's; never the serving user's), and tells crypto/
 * the signer's user. As another user: one user runs both processes, said
 * in the log; --user and --signer-user are refused. Either way a key or
 * passphrase file in DIR/ca that group or others may read, or a DIR/ca
 * they may write, is refused naming the file, its mode and the chmod that
 * fixes it. 0, or -1 after logging why.
 */
int privsep_prepare(const struct config *c, struct privsep *p);
/*
 * After the listener is bound, the store open and the signer forked, and
 * before any thread starts: gives DIR/db to the serving user, becomes that
 * user for good (checked), no new privileges, not dumpable. A no-op when
 * p is not enabled. 0, or -1 after logging why.
 */
int privsep_drop(const struct config *c, const struct privsep *p);

/* `hearth backup --data DIR DEST` and `hearth backup --verify DEST`
 * (backup_cli.c); argv after "backup". Returns the process exit status. */
int cmd_backup(int argc, char **argv);
void backup_usage(FILE *f);

/* ---- paths ---- */

/* Writes "DIR/sub" into out; -1 when it does not fit. */
int path_join(char *out, size_t outsz, const char *dir, const char *sub);

/* ---- the store's location (store_cli.c) ---- */

/* Writes the location store_open() takes into out: store (--store) when
 * given, else DIR/db. -1 after saying so when it does not fit. */
int server_store_location(const char *data_dir, const char *store, char *out,
    size_t outsz);
/* `hearth store migrate --from DIR --to URI`; argv after "store". Returns
 * the process exit status. */
int cmd_store(int argc, char **argv);
void store_usage_text(FILE *f);

#endif
