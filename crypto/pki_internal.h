/*
 * pki_internal.h: declarations shared by the certificate-authority files of
 * crypto/ (der.c, key.c, cert.c, ca.c, signer.c, csr.c, spki.c, profile.c,
 * leaf.c, signcheck.c, signproc.c, crl.c, ocsp.c). It names a minimal DER
 * reader and writer, the CA's private keys, PEM framing, the certificate
 * builder, the public-key check, the signer's configuration, layout and
 * operations (with the leaf operation's wire format). Nothing outside
 * crypto/ includes it.
 */
#ifndef HEARTH_PKI_INTERNAL_H
#define HEARTH_PKI_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "crypto_internal.h"

#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/rsa.h>

/* ---- DER (der.c) ---------------------------------------------------------- */

#define PKI_DER_BOOLEAN  0x01
#define PKI_DER_INTEGER  0x02
#define PKI_DER_BITSTR   0x03
#define PKI_DER_OCTETS   0x04
#define PKI_DER_NULL     0x05
#define PKI_DER_OID      0x06
#define PKI_DER_UTF8     0x0c
#define PKI_DER_UTCTIME  0x17
#define PKI_DER_GENTIME  0x18
#define PKI_DER_SEQ      0x30
#define PKI_DER_SET      0x31

/* A growing output buffer. Errors are sticky in err; check it once at the
 * end. pki_buf_free() zeroizes before it frees. */
struct pki_buf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

void pki_buf_free(struct pki_buf *b);
void pki_buf_raw(struct pki_buf *b, const void *data, size_t len);
/* Appends one TLV. */
void pki_der_tlv(struct pki_buf *b, uint8_t tag, const void *val, size_t len);
/* Wraps everything written since mark (a former b->len) in tag and length. */
void pki_der_wrap(struct pki_buf *b, uint8_t tag, size_t mark);
/* A non-negative INTEGER from big-endian bytes or from a small value. */
void pki_der_uint(struct pki_buf *b, const uint8_t *be, size_t len);
void pki_der_small_uint(struct pki_buf *b, unsigned long v);
/* UTCTime for 1950..2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
void pki_der_time(struct pki_buf *b, time_t t);

/* One element read from DER: its tag, whole encoding and contents. */
struct pki_tlv {
	uint8_t tag;
	const uint8_t *der;
	size_t der_len;
	const uint8_t *val;
	size_t val_len;
};

/* A read cursor over [p, p + len). */
struct pki_der {
	const uint8_t *p;
	size_t len;
};

/* Reads the next element (definite lengths, one-byte tags). 0 or
 * CRYPTO_ERR_PARSE. pki_der_expect() also requires the tag. */
int pki_der_next(struct pki_der *cur, struct pki_tlv *out);
int pki_der_expect(struct pki_der *cur, uint8_t tag, struct pki_tlv *out);
/* A cursor over the contents of t. */
struct pki_der pki_der_in(const struct pki_tlv *t);
/* Parses UTCTime or GeneralizedTime ("YYMMDDHHMMSSZ" forms only). */
int pki_der_time_parse(const struct pki_tlv *t, time_t *out);

/* The parts of an X.509 certificate the CA needs, pointing into its DER. */
struct pki_cert_view {
	struct pki_tlv tbs, issuer, validity, subject, spki;
	struct pki_tlv exts;       /* the SEQUENCE OF Extension; val_len 0 if none */
	time_t not_before, not_after;
};

int pki_cert_view(const uint8_t *der, size_t len, struct pki_cert_view *v);
/* Finds the extension with the given OID contents: *value is its extnValue
 * contents. 0, or CRYPTO_ERR_PARSE when absent or malformed. */
int pki_cert_ext(const struct pki_cert_view *v, const uint8_t *oid,
    size_t oidlen, struct pki_tlv *value);
/* The same, also telling whether the extension is marked critical. */
int pki_cert_ext_crit(const struct pki_cert_view *v, const uint8_t *oid,
    size_t oidlen, struct pki_tlv *value, int *critical);
/* Nonzero when BasicConstraints says cA and KeyUsage (if any) allows
 * keyCertSign. */
int pki_cert_is_ca(const struct pki_cert_view *v);
/* The subject key identifier: the extension's value, else SHA-1 of the
 * subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). *len <= 32. */
int pki_cert_key_id(const struct pki_cert_view *v, uint8_t id[32], size_t *len);
/* SHA-1 of the subjectPublicKey BIT STRING of a SubjectPublicKeyInfo. */
int pki_spki_key_id(const uint8_t *spki, size_t len, uint8_t id[20]);

/* ---- PEM (der.c) ---------------------------------------------------------- */

/* Finds "-----BEGIN label-----" in pem and decodes its body. *der is
 * malloc'd; the caller zeroizes and frees. CRYPTO_ERR_PARSE when absent or
 * malformed, CRYPTO_ERR_UNSUPPORTED for PEM headers (legacy encryption). */
int pki_pem_decode(const char *pem, size_t len, const char *label,
    uint8_t **der, size_t *derlen);
/* Encodes der as PEM with label; *out is malloc'd and NUL-terminated. */
int pki_pem_encode(const uint8_t *der, size_t len, const char *label,
    char **out, size_t *outlen);

/* ---- CA private keys (key.c) ---------------------------------------------- */

enum pki_key_kind { PKI_KEY_RSA, PKI_KEY_EC };

struct pki_key {
	enum pki_key_kind kind;
	union {
		RsaKey rsa;
		ecc_key ec;
	} u;
};

int pki_key_generate(enum crypto_key_type type, struct pki_key **out);
/* Decodes a private key from PKCS#8, PKCS#1 or SEC1 DER. */
int pki_key_from_der(const uint8_t *der, size_t len, struct pki_key **out);
/* Loads a PEM private key, decrypting an ENCRYPTED PRIVATE KEY with pass
 * (CRYPTO_ERR_PASSPHRASE when pass is missing or wrong). */
int pki_key_from_pem(const char *pem, size_t len, const char *pass,
    size_t passlen, struct pki_key **out);
void pki_key_free(struct pki_key *k);
/* PKCS#8 DER, malloc'd: the caller zeroizes and frees. */
int pki_key_pkcs8(struct pki_key *k, uint8_t **der, size_t *len);
/* PEM: "PRIVATE KEY", or "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-HMAC-SHA256,
 * AES-256-CBC) when pass is not NULL. Zeroize and free *pem. */
int pki_key_pem(struct pki_key *k, const char *pass, size_t passlen,
    char **pem, size_t *pemlen);
/* SubjectPublicKeyInfo DER into out (at least 1024 bytes). */
int pki_key_spki(struct pki_key *k, uint8_t *out, size_t outsz, size_t *len);
/* Signs the TBS-shaped structure that fills b (a TBSCertificate,
 * TBSCertList or ResponseData, whose signature field is pki_key_sig_alg)
 * and turns b into SEQUENCE { tbs, algorithm, signature }. 0 or
 * CRYPTO_ERR_*; on failure b is left for the caller to free. */
int pki_key_sign_tbs(struct pki_key *k, struct pki_buf *b);
/* The AlgorithmIdentifier DER for this key's certificate signatures. */
const uint8_t *pki_key_sig_alg(const struct pki_key *k, size_t *len);

/* ---- certificates (cert.c) ------------------------------------------------ */

#define PKI_KU_DIGITAL_SIGNATURE 0x80
#define PKI_KU_KEY_ENCIPHERMENT  0x20
#define PKI_KU_KEY_CERT_SIGN     0x04
#define PKI_KU_CRL_SIGN          0x02

#define PKI_EKU_SERVER 0x01
#define PKI_EKU_CLIENT 0x02

/* Extensions, appended to an ordered list (a pki_buf of Extension TLVs). */
void pki_ext_basic(struct pki_buf *b, int ca, int pathlen);
void pki_ext_key_usage(struct pki_buf *b, unsigned bits);
void pki_ext_eku(struct pki_buf *b, unsigned which);
void pki_ext_ski(struct pki_buf *b, const uint8_t *id, size_t len);
void pki_ext_aki(struct pki_buf *b, const uint8_t *id, size_t len);
void pki_ext_san(struct pki_buf *b, const struct crypto_name *names,
    size_t n, int critical);
/* CRL Distribution Points with one fullName URI (RFC 5280 §4.2.1.13). */
void pki_ext_crl_dp(struct pki_buf *b, const char *uri);
/* Authority Information Access (RFC 5280 §4.2.2.1): id-ad-ocsp ocsp_uri
 * when not NULL, then id-ad-caIssuers issuer_uri. */
void pki_ext_aia(struct pki_buf *b, const char *ocsp_uri,
    const char *issuer_uri);
/* A Name of O=org (when not NULL) then CN=cn (when not NULL). */
void pki_name(struct pki_buf *b, const char *org, const char *cn);

struct pki_cert_spec {
	const uint8_t *issuer;     /* Name DER; NULL: the subject (self-signed) */
	size_t issuer_len;
	const uint8_t *subject;
	size_t subject_len;
	const uint8_t *spki;
	size_t spki_len;
	time_t not_before, not_after;
	const uint8_t *exts;       /* concatenated Extension TLVs */
	size_t exts_len;
};

/* Builds and signs a v3 certificate with a fresh 128-bit positive serial
 * (written to serial). *der is malloc'd; the caller frees. */
int pki_cert_sign(const struct pki_cert_spec *spec, struct pki_key *signer,
    uint8_t serial[CRYPTO_SERIAL_BYTES], uint8_t **der, size_t *len);

/* ---- names (name.c, csr.c) ------------------------------------------------ */

/* Checks and lower-cases a DNS name (an optional leading "*." label): the
 * one check, crypto_dns_name_check(), for callers that need no reason.
 * 0 or CRYPTO_ERR_NAME. */
static inline int
pki_dns_name_check(const char *in, size_t len, char out[CRYPTO_MAX_NAME_LEN + 1])
{
	return crypto_dns_name_check(in, len, 1, out, NULL);
}
/* The request's SubjectPublicKeyInfo DER, owned by the csr. */
const uint8_t *pki_csr_spki(const struct crypto_csr *csr, size_t *len);

/* ---- public keys (spki.c) ------------------------------------------------- */

enum pki_spki_kind { PKI_SPKI_RSA, PKI_SPKI_P256, PKI_SPKI_P384,
    PKI_SPKI_ED25519 };
/* Checks that der[0..len) is exactly one SubjectPublicKeyInfo of an
 * allowed key (RSA 2048..4096 with NULL parameters and a sane exponent,
 * P-256/P-384 with an uncompressed point on the curve, Ed25519), nothing
 * trailing, inside or after. 0 with *kind set; CRYPTO_ERR_PARSE (malformed,
 * trailing bytes, point off the curve), CRYPTO_ERR_UNSUPPORTED (algorithm,
 * parameters, curve, compressed point, exponent) or CRYPTO_ERR_KEY_SIZE. */
int pki_spki_check(const uint8_t *der, size_t len, enum pki_spki_kind *kind);

/* ---- what the signer may sign (profile.c) --------------------------------- */

#define PKI_BACKDATE_DEFAULT 300          /* seconds of clock skew allowed */
#define PKI_BACKDATE_MAX     3600
#define PKI_TLS_LIFETIME_MAX (366L * 86400)  /* the server's own certificate */
#define PKI_URL_MAX          200          /* cfg->pki_url */

/* The signer's own copy of its configuration (struct crypto_signer_config
 * checked and deep-copied; the policy is borrowed). */
struct pki_signer_cfg {
	const struct crypto_policy *policy;
	struct crypto_profile profiles[CRYPTO_MAX_PROFILES];
	size_t n_profiles;
	struct crypto_name *tls_names;   /* malloc'd */
	size_t n_tls_names;
	long max_backdate;
	char *pki_url;                   /* malloc'd, or NULL */
	int ocsp;
};
/* Checks in (NULL: defaults) and copies it into out. 0, CRYPTO_ERR_INVALID
 * (a bad profile, URL or backdate), CRYPTO_ERR_NAME (a bad TLS name) or
 * CRYPTO_ERR_NOMEM. */
int pki_signer_cfg_set(struct pki_signer_cfg *out,
    const struct crypto_signer_config *in);
/* The public form of c, pointing into it (to open a signer from it). */
void pki_signer_cfg_view(const struct pki_signer_cfg *c,
    struct crypto_signer_config *out);
void pki_signer_cfg_clear(struct pki_signer_cfg *c);
/* The profile called name ("" or NULL: the first), or NULL. */
const struct crypto_profile *pki_signer_profile(const struct pki_signer_cfg *c,
    const char *name);

/* ---- the signer (signer.c) ------------------------------------------------ */

/* Where a forwarding process stands with its signer process. */
enum pki_remote_state {
	PKI_REMOTE_UP,              /* remote_fd answers operations */
	PKI_REMOTE_DOWN,            /* none; a restart is to be asked for */
	PKI_REMOTE_ASKED,           /* the launcher was asked for a new one */
	PKI_REMOTE_LOADING,         /* remote_fd is new; its key status awaited */
};

struct crypto_signer {
	pthread_mutex_t lock;       /* serializes issuance and remote_* */
	struct pki_key *key;        /* NULL in a process that forwards to a signer */
	int remote_fd;              /* socket to the signer process, or -1 */
	pid_t remote_pid;           /* the signer process (the launcher's child) */
	enum pki_remote_state remote_state;
	int launcher_fd;            /* socket to the launcher process, or -1 */
	pid_t launcher_pid;
	uint32_t launcher_seq;      /* the last request sent to the launcher */
	uint32_t spawn_seq;         /* the SPAWN request PKI_REMOTE_ASKED awaits */
	struct pki_signer_cfg cfg;
	uint8_t *cert_der;
	size_t cert_len;
	struct pki_cert_view view;  /* points into cert_der */
	uint8_t key_id[32];         /* the intermediate's SKI, for leaf AKIs */
	size_t key_id_len;
	char *chain_pem;
	struct crypto_policy *constraints;  /* the intermediate's, or NULL */
	/* round trips of pki_signer_call, for crypto_signer_stats() */
	_Atomic uint64_t rtt_calls, rtt_failures, rtt_sum_us;
	_Atomic uint64_t rtt_buckets[CRYPTO_SIGNER_RTT_BUCKETS];
};

/* What a leaf certificate is made of; everything but the CA key. */
struct pki_leaf_spec {
	const uint8_t *spki;
	size_t spki_len;
	const struct crypto_name *names;
	size_t n_names;
	const char *cn;           /* NULL: empty subject */
	time_t not_before, not_after;
	unsigned key_usage, eku;  /* set by the signer from the profile */
};

/* Builds and signs a leaf with the signer's key, here (leaf.c). */
int pki_leaf_sign_local(struct crypto_signer *s, const struct pki_leaf_spec *l,
    uint8_t serial[CRYPTO_SERIAL_BYTES], uint8_t **der, size_t *len);

/* ---- signer operations (signproc.c) --------------------------------------- */

/* What the signer process does; each has its own request format, decoded
 * and checked by its handler inside the process that holds the key. */
enum pki_op {
	PKI_OP_LEAF = 1,          /* leaf.c: a certificate for a checked spec */
	PKI_OP_CRL = 2,           /* a CRL of the given entries */
	PKI_OP_OCSP = 3,          /* an OCSP response for one certificate */
	PKI_OP_PING = 4,          /* nothing: an empty answer, for readiness */
	PKI_OP_CERT = 5,          /* the intermediate certificate (DER) the
	                             process loaded, for its parent */
};
#define PKI_OP_LEAF_MAX (8 * 1024 + CRYPTO_MAX_NAMES * (CRYPTO_MAX_NAME_LEN + 2))
/* crl.c: a 32-byte header, then CRYPTO_CRL_MAX_ENTRIES of 32 bytes at most */
#define PKI_OP_CRL_MAX  (32 + (size_t)CRYPTO_CRL_MAX_ENTRIES * 32)
/* ocsp.c: one fixed-size record */
#define PKI_OP_OCSP_MAX 512
/* an empty request; the cap is 1 because 0 means "no such operation" to
 * the transport, and the handler refuses any byte */
#define PKI_OP_PING_MAX 1
#define PKI_OP_CERT_MAX 1         /* an empty request, as for PKI_OP_PING */

/*
 * The leaf operation's request (PKI_OP_LEAF): struct pki_leaf_wire, then
 * the profile name, the SubjectPublicKeyInfo, the CN, then per name its
 * type, length and bytes; nothing after. The response: the serial
 * (CRYPTO_SERIAL_BYTES), then the certificate DER. Usages are not part of
 * the request: the signer takes them from the profile (or, for
 * PKI_LEAF_TLS, the server-certificate rules).
 */
enum pki_leaf_kind {
	PKI_LEAF_ACME = 0,        /* a profile's certificate for a CSR's key */
	PKI_LEAF_TLS = 1,         /* the server's own: cfg tls_names, serverAuth */
};
#define PKI_SPKI_MAX 1024
struct pki_leaf_wire {
	uint32_t kind;            /* enum pki_leaf_kind */
	uint32_t profile_len;     /* <= CRYPTO_PROFILE_NAME_MAX; 0 for TLS */
	uint32_t spki_len;        /* <= PKI_SPKI_MAX */
	uint32_t cn_len;          /* <= CRYPTO_MAX_NAME_LEN */
	uint32_t n_names;         /* 1..CRYPTO_MAX_NAMES */
	uint32_t reserved;        /* 0 */
	int64_t not_before, not_after;
};

/*
 * Runs operation op on request req: in this process when it holds the key,
 * otherwise in the signer process (fragmenting both ways). On success *resp
 * (malloc'd, the caller frees) holds the operation's answer. 0, the
 * handler's CRYPTO_ERR_* code, or CRYPTO_ERR_INTERNAL when the signer
 * process is gone.
 */
int pki_signer_call(struct crypto_signer *s, enum pki_op op, const uint8_t *req,
    size_t reqlen, uint8_t **resp, size_t *resplen);
/* Runs a handler here (the signer process's dispatch); the request is capped
 * at the operation's maximum. CRYPTO_ERR_UNSUPPORTED for an unknown op. */
int pki_op_run(struct crypto_signer *s, enum pki_op op, const uint8_t *req,
    size_t len, struct pki_buf *out);
/* The request cap of op; 0 when unknown. */
size_t pki_op_max(enum pki_op op);
/* Handlers: decode and check req, do the work with s->key, append the
 * answer to out. */
int pki_op_leaf(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out);
int pki_op_crl(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out);
int pki_op_ocsp(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out);
int pki_op_ping(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out);
int pki_op_cert(struct crypto_signer *s, const uint8_t *req, size_t len,
    struct pki_buf *out);
/* The signer's checks of a decoded leaf request (signcheck.c), against
 * s->cfg and the signer's clock now; fills l->key_usage and l->eku.
 * 0 or the failed check's CRYPTO_ERR_* code. */
int pki_leaf_check(const struct crypto_signer *s, enum pki_leaf_kind kind,
    const char *profile, struct pki_leaf_spec *l, time_t now);
/* Ends the signer process of s, if it has one (signproc.c). */
void pki_signer_stop(struct crypto_signer *s);
/* Takes der (malloc'd; s owns it from now on, whatever the result) as the
 * intermediate certificate of s: its view, key id, name constraints and
 * PEM. 0, CRYPTO_ERR_PARSE, CRYPTO_ERR_NOT_CA or CRYPTO_ERR_NOMEM. */
int pki_signer_cert_set(struct crypto_signer *s, uint8_t *der, size_t len);
/* Loads intermediate.crt and checks root.crt issued it (signer.c). */
int pki_signer_load_cert(struct crypto_signer *s, const char *ca_dir);

/* ---- revocation (crl.c), shared with ocsp.c -------------------------------- */

/* Nonzero for a CRLReason a full CRL or an OCSP answer may carry: 0..10
 * except 7 (unused) and 8 (removeFromCRL, delta CRLs only). */
int pki_reason_ok(int reason);
/* Nonzero for a serial of 1..CRYPTO_MAX_SERIAL bytes, no leading zero. */
int pki_serial_ok(const uint8_t *serial, size_t len);
/* Nonzero when 0 < this_update < next_update and the span is at most
 * CRYPTO_REVOCATION_MAX_PERIOD. */
int pki_update_times_ok(time_t this_update, time_t next_update);

/* ---- name constraints (constraint.c, policy.c) ---------------------------- */

/* Rule i of p (its text, canonical: a suffix or "ADDR/PREFIX") and its kind;
 * NULL past the last. */
const char *pki_policy_rule(const struct crypto_policy *p, size_t i,
    enum crypto_policy_rule *kind);
/* Nonzero when p has a rule of this kind. */
int pki_policy_has(const struct crypto_policy *p, enum crypto_policy_rule kind);
/* Appends a critical nameConstraints extension whose permittedSubtrees are
 * permit's allow rules (dNSName, iPAddress address+mask); any other rule
 * sets b->err. */
void pki_ext_name_constraints(struct pki_buf *b, const struct crypto_policy *permit);
/* The permittedSubtrees of v's nameConstraints as a policy of allow rules
 * (*out malloc'd, the caller frees), or *out NULL when v has none. 0,
 * CRYPTO_ERR_PARSE (malformed) or CRYPTO_ERR_UNSUPPORTED (excludedSubtrees,
 * a minimum or maximum, a name form other than dNSName and iPAddress). */
int pki_constraints_read(const struct pki_cert_view *v, struct crypto_policy **out);
/* 0 when n lies inside the constraints c (NULL: none; a form without
 * subtrees is unconstrained, RFC 5280 §4.2.1.10); else CRYPTO_ERR_NAME
 * with the reason in why. */
int pki_constraints_check(const struct crypto_policy *c,
    const struct crypto_name *n, char *why, size_t whysz);

/* RFC 7638 thumbprint of a SubjectPublicKeyInfo (keys a CSR may carry). */
int pki_spki_thumbprint(const uint8_t *spki, size_t len,
    char out[CRYPTO_THUMBPRINT_LEN + 1]);

#endif
