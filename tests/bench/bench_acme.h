/*
 * bench_acme.h: the types shared by the files of bench_acme, the ACME load
 * generator: the run's configuration and shared state (struct bench), the
 * accounts it rotates through, one worker per client with its keep-alive
 * TLS connection, and the latency samples. bench_acme.c runs the workers
 * and reports; bench_http.c speaks TLS and HTTP/1.1; bench_jose.c makes
 * keys, JWS and CSRs; bench_flow.c walks one issuance through RFC 8555;
 * bench_stats.c holds samples, percentiles and the error tally.
 *
 * A test tool, not part of hearth: it links wolfSSL, libevent and cJSON
 * directly and shares no code with server/, acme/, crypto/ or store/.
 */
#ifndef HEARTH_BENCH_ACME_H
#define HEARTH_BENCH_ACME_H

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#include <cjson/cJSON.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "responder.h"

#define MAX_CLIENTS      256
#define MAX_ACCOUNTS     100000
#define MAX_COUNT        10000000L
#define MAX_SECONDS      3600L
#define CONN_BUF         (64 * 1024)   /* one whole response, or one request */
#define MAX_URL          512
#define MAX_NONCE        128
#define MAX_KINDS        32            /* distinct error kinds counted */
#define SHOW_PROBLEMS    5             /* problem documents printed */
#define POLL_MS          20            /* between polls, Retry-After aside */
#define RETRY_AFTER_MAX_S 60           /* a longer Retry-After is capped */
#define POLL_TIMEOUT_S   120
#define IO_TIMEOUT_S     30

enum step {
	ST_ACCOUNT, ST_NONCE, ST_ORDER, ST_AUTHZ, ST_VALID, ST_FINALIZE,
	ST_DOWNLOAD, ST_ISSUE, N_STEPS
};

extern const char *const step_names[N_STEPS];

struct samples {
	double *v;                   /* milliseconds */
	size_t n, cap;
};

struct tally {
	pthread_mutex_t mu;
	struct {
		char what[160];
		long n;
	} kinds[MAX_KINDS];
	size_t n_kinds;
	long other;                  /* kinds beyond the table */
	long total;
	int shown;
};

/* One ACME account: its ES256 key, RFC 7638 JWK and thumbprint, and its
 * URL once registered. Only the worker that owns it signs with it. */
struct account {
	ecc_key key;
	int key_ready;
	char jwk[256];               /* RFC 7638 canonical form */
	char thumb[64];
	char kid[MAX_URL];
};

struct bench {
	/* start-up configuration, read-only while workers run */
	char origin[300];            /* https://host[:port], no slash */
	char host[256], port[8], authority[300];
	const char *root_file;       /* the TLS server's root */
	const char *chain_root;      /* the issued chains' root */
	WOLFSSL_CTX *ctx;
	char new_nonce[MAX_URL], new_account[MAX_URL], new_order[MAX_URL];
	unsigned clients;
	long count;                  /* issuances, or 0 when timed */
	long seconds;
	long stall_s;                /* no issuance for this long: a stall */
	char tag[16];
	int verify_all;
	int ignore_retry_after;
	int server_pids[8];          /* whose CPU time is measured */
	unsigned n_server_pids;
	struct account *accounts;
	unsigned n_accounts;
	/* shared while running */
	atomic_long next;            /* number of the next issuance */
	atomic_long completed;       /* issuances finished, for the stall check */
	atomic_int setup_failed;
	atomic_long bad_nonce_retries;
	atomic_long retry_after_waits;
	atomic_int abort;
	atomic_int stalled;
	double deadline;
	pthread_barrier_t ready, go;
	struct responder resp;
	struct tally errors;
};

struct conn {
	WOLFSSL *ssl;
	atomic_int fd;               /* shut down by the stall check */
	long used;                   /* requests sent on this connection */
	size_t len;                  /* bytes in buf not yet consumed */
	char buf[CONN_BUF];
};

struct http_resp {
	int status;
	long retry_after_ms;         /* -1: no Retry-After header */
	char nonce[MAX_NONCE];
	char location[MAX_URL];
	char ctype[64];
	size_t body_len;
	char body[CONN_BUF + 1];
};

struct worker {
	struct bench *b;
	unsigned id;
	pthread_t thread;
	WC_RNG rng;
	int rng_ready;
	ecc_key csr_key;
	int csr_key_ready;
	struct account *acct;        /* the account of the current issuance */
	unsigned next_acct;          /* rotation among this worker's accounts */
	char nonce[MAX_NONCE];
	char errmsg[200];            /* the last transport failure */
	int stale;                   /* the last failure: closed before any byte */
	Cert *req;
	struct conn conn;
	struct http_resp r;
	char sbuf[CONN_BUF];
	struct samples s[N_STEPS];
	long done, failed, polls, validations, connects, verified;
};

/* bench_stats.c */
double now_s(void);
void sleep_ms(long ms);
int copy_str(char *dst, size_t cap, const char *src);
const char *json_str(const cJSON *o, const char *key);
int parse_num(const char *s, long min, long max, long *out);
int samples_add(struct samples *s, double ms);
void sample(struct worker *w, enum step st, double t0, double t1);
void tally_note(struct tally *t, unsigned worker, const char *what,
    const char *body);
void fail_step(struct worker *w, const char *step);
void fail_result(struct worker *w, const char *step, const char *why);
void report_steps(struct worker *ws, unsigned n_workers);
int issuance_percentiles(struct worker *ws, unsigned n_workers, double out[3]);

/* bench_http.c */
void conn_close(struct conn *c);
void conn_shutdown(struct conn *c);
int http_do(struct worker *w, const char *method, const char *path,
    const char *body);
const char *url_path(const struct bench *b, const char *url);

/* bench_jose.c */
char *b64url(const void *data, size_t len);
int worker_keys(struct worker *w);
int account_key(struct account *a, WC_RNG *rng);
char *jws_body(struct worker *w, const char *url, const char *payload);
char *csr_b64(struct worker *w, const char *name);

/* bench_flow.c */
int new_account(struct worker *w, struct account *a);
int issue_one(struct worker *w, long idx);

#endif
