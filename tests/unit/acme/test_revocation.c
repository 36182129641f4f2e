/*
 * test_revocation.c: revocation as acme/ keeps it, on a real store: the
 * certificate record, the revoked-table entry and the counter written
 * together; already revoked and unknown serials; which reasons subscribers
 * and the operator may give; serials as operators type them; and the
 * operator's paged listing of certificates.
 */
#include "check.h"

#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "store.h"

#define NOW 1800000000
#define ORDER "00000000eeeeeeeeeeeeeeee"

static struct store *st;

struct seed {
	char serial[ACME_SERIAL_HEX_LEN + 1];
	time_t not_after;
};

static int
seed_txn(struct store_txn *txn, void *arg)
{
	const struct seed *s = arg;
	cJSON *c = cJSON_CreateObject(), *o = cJSON_CreateObject(), *ids, *id;
	int ret;

	cJSON_AddStringToObject(c, "account", "00000000dddddddddddddddd");
	cJSON_AddStringToObject(c, "order", ORDER);
	cJSON_AddStringToObject(c, "pem", "-----BEGIN CERTIFICATE-----\n");
	cJSON_AddNumberToObject(c, "notBefore", (double)(s->not_after - 86400));
	cJSON_AddNumberToObject(c, "notAfter", (double)s->not_after);
	ids = cJSON_AddArrayToObject(o, "identifiers");
	id = cJSON_CreateObject();
	cJSON_AddStringToObject(id, "type", "dns");
	cJSON_AddStringToObject(id, "value", "web.corp.internal");
	cJSON_AddItemToArray(ids, id);
	ret = acme_record_put(txn, STORE_T_CERTS, s->serial, c);
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_ORDERS, ORDER, o);
	cJSON_Delete(c);
	cJSON_Delete(o);
	return ret;
}

static void
seed(const char *serial, time_t not_after)
{
	struct seed s;

	snprintf(s.serial, sizeof(s.serial), "%s", serial);
	s.not_after = not_after;
	CHECK_EQ_INT(store_write(st, seed_txn, &s), 0);
}

static uint64_t
count(void)
{
	uint64_t n = 99;

	CHECK_EQ_INT(acme_revocation_count(st, &n), 0);
	return n;
}

static void
test_revoke(void)
{
	uint8_t key[] = { 0x8a, 0x0f, 0x01 };
	struct acme_revoked r;
	struct store_txn *txn;
	const void *val;
	size_t len;
	cJSON *c;

	seed("8a0f01", NOW + 86400);
	CHECK_EQ_INT(count(), 0);
	CHECK_EQ_INT(acme_cert_revoke(st, "8a0f01", 4, NOW), 0);
	CHECK_EQ_INT(count(), 1);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	CHECK_EQ_INT(store_get(txn, STORE_T_REVOKED, key, sizeof(key), &val, &len), 0);
	CHECK_EQ_INT(len, ACME_REVOKED_REC_LEN);
	CHECK_EQ_INT(acme_revoked_decode(val, len, &r), 0);
	CHECK_EQ_INT(r.revoked_at, NOW);
	CHECK_EQ_INT(r.not_after, NOW + 86400);
	CHECK_EQ_INT(r.reason, 4);
	c = acme_record_get(txn, STORE_T_CERTS, "8a0f01");
	CHECK_EQ_INT(acme_json_time(c, "revoked"), NOW);
	CHECK_EQ_INT(acme_json_time(c, "reason"), 4);
	cJSON_Delete(c);
	store_read_end(txn);

	/* a second revocation changes nothing */
	CHECK_EQ_INT(acme_cert_revoke(st, "8a0f01", 1, NOW + 5), ACME_ERR_ALREADY);
	CHECK_EQ_INT(count(), 1);
	CHECK_EQ_INT(acme_cert_revoke(st, "0badc0de", 0, NOW), ACME_ERR_NOTFOUND);
	CHECK_EQ_INT(acme_cert_revoke(st, "8a0f01", 7, NOW), ACME_ERR_INVALID);
	CHECK_EQ_INT(count(), 1);
}

static void
test_record_format(void)
{
	struct acme_revoked r, back;
	uint8_t buf[ACME_REVOKED_REC_LEN], v1[ACME_REVOKED_REC_LEN_V1];

	memset(&r, 0, sizeof(r));
	r.revoked_at = -5;
	r.not_after = (time_t)1 << 40;
	r.reason = 10;
	memset(r.issuer, 0xab, 20);
	r.issuer_len = 20;
	acme_revoked_encode(&r, buf);
	CHECK_EQ_INT(buf[0], 2);
	CHECK_EQ_INT(acme_revoked_decode(buf, sizeof(buf), &back), 0);
	CHECK_EQ_INT(back.revoked_at, -5);
	CHECK_EQ_INT(back.not_after, (time_t)1 << 40);
	CHECK_EQ_INT(back.reason, 10);
	CHECK_EQ_INT(back.issuer_len, 20);
	CHECK(memcmp(back.issuer, r.issuer, 20) == 0);
	CHECK_EQ_INT(acme_revoked_decode(buf, sizeof(buf) - 1, &back), ACME_ERR_INVALID);

	/* a version 1 record (before issuers) still reads, with no issuer */
	memcpy(v1, buf, sizeof(v1));
	v1[0] = 1;
	CHECK_EQ_INT(acme_revoked_decode(v1, sizeof(v1), &back), 0);
	CHECK_EQ_INT(back.reason, 10);
	CHECK_EQ_INT(back.issuer_len, 0);
	/* but a version byte must match its length */
	CHECK_EQ_INT(acme_revoked_decode(buf, ACME_REVOKED_REC_LEN_V1, &back),
	    ACME_ERR_INVALID);
	v1[0] = 2;
	CHECK_EQ_INT(acme_revoked_decode(v1, sizeof(v1), &back), ACME_ERR_INVALID);
	buf[18] = 33;
	CHECK_EQ_INT(acme_revoked_decode(buf, sizeof(buf), &back), ACME_ERR_INVALID);
	buf[18] = 20;
	buf[17] = 11;
	CHECK_EQ_INT(acme_revoked_decode(buf, sizeof(buf), &back), ACME_ERR_INVALID);
	buf[17] = 1;
	buf[0] = 3;
	CHECK_EQ_INT(acme_revoked_decode(buf, sizeof(buf), &back), ACME_ERR_INVALID);
}

static void
test_reasons(void)
{
	static const int subscriber[] = { 0, 1, 3, 4, 5 };
	static const int operator_only[] = { 2, 9, 10 };
	static const int never[] = { -1, 6, 7, 8, 11 };
	size_t i;
	int r = -1;

	for (i = 0; i < sizeof(subscriber) / sizeof(subscriber[0]); i++) {
		CHECK(acme_reason_allowed(subscriber[i], ACME_REVOKER_SUBSCRIBER));
		CHECK(acme_reason_allowed(subscriber[i], ACME_REVOKER_OPERATOR));
	}
	for (i = 0; i < sizeof(operator_only) / sizeof(operator_only[0]); i++) {
		CHECK(!acme_reason_allowed(operator_only[i], ACME_REVOKER_SUBSCRIBER));
		CHECK(acme_reason_allowed(operator_only[i], ACME_REVOKER_OPERATOR));
	}
	for (i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		CHECK(!acme_reason_allowed(never[i], ACME_REVOKER_OPERATOR));
	CHECK_EQ_INT(acme_reason_parse("keycompromise", &r), 0);
	CHECK_EQ_INT(r, 1);
	CHECK_EQ_INT(acme_reason_parse("10", &r), 0);
	CHECK_EQ_INT(r, 10);
	CHECK_EQ_INT(acme_reason_parse("7", &r), ACME_ERR_INVALID);
	CHECK_EQ_INT(acme_reason_parse("4x", &r), ACME_ERR_INVALID);
	CHECK_EQ_INT(acme_reason_parse("", &r), ACME_ERR_INVALID);
	CHECK_EQ_STR(acme_reason_name(5), "cessationOfOperation");
	CHECK_EQ_STR(acme_reason_name(7), "unknown");
}

static void
test_serial_forms(void)
{
	char out[ACME_SERIAL_HEX_LEN + 1];

	CHECK_EQ_INT(acme_serial_normalize("3A0F", out), 0);
	CHECK_EQ_STR(out, "3a0f");
	CHECK_EQ_INT(acme_serial_normalize("00:8a:0F:01", out), 0);
	CHECK_EQ_STR(out, "8a0f01");
	CHECK_EQ_INT(acme_serial_normalize("A0F", out), 0);
	CHECK_EQ_STR(out, "0a0f");
	CHECK_EQ_INT(acme_serial_normalize("00", out), 0);
	CHECK_EQ_STR(out, "00");
	CHECK_EQ_INT(acme_serial_normalize("serial=3A", out), ACME_ERR_INVALID);
	CHECK_EQ_INT(acme_serial_normalize("", out), ACME_ERR_INVALID);
	CHECK_EQ_INT(acme_serial_normalize(":", out), ACME_ERR_INVALID);
	/* 21 bytes is over RFC 5280's 20 */
	CHECK_EQ_INT(acme_serial_normalize(
	    "0102030405060708090a0b0c0d0e0f101112131415", out), ACME_ERR_INVALID);
	CHECK_EQ_INT(acme_serial_normalize(
	    "00000102030405060708090a0b0c0d0e0f1011121314", out), 0);
	CHECK_EQ_STR(out, "0102030405060708090a0b0c0d0e0f1011121314");
}

static int
old_revoke_txn(struct store_txn *txn, void *arg)
{
	cJSON *c = acme_record_get(txn, STORE_T_CERTS, arg);
	int ret;

	cJSON_AddNumberToObject(c, "revoked", NOW - 7);
	cJSON_AddNumberToObject(c, "reason", 5);
	ret = acme_record_put(txn, STORE_T_CERTS, arg, c);
	cJSON_Delete(c);
	return ret;
}

/* A certificate revoked by a hearth without the revoked table is entered
 * into it once, at start. */
static void
test_index_earlier(void)
{
	uint8_t key[] = { 0x6a, 0x01 };
	struct acme_revoked r;
	struct store_txn *txn;
	const void *val;
	size_t len;
	uint64_t before;

	seed("6a01", NOW + 86400);
	CHECK_EQ_INT(store_write(st, old_revoke_txn, "6a01"), 0);
	before = count();
	CHECK_EQ_INT(acme_revoked_index(st), 0);
	CHECK_EQ_INT(count(), before + 1);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	CHECK_EQ_INT(store_get(txn, STORE_T_REVOKED, key, sizeof(key), &val, &len), 0);
	CHECK_EQ_INT(acme_revoked_decode(val, len, &r), 0);
	CHECK_EQ_INT(r.revoked_at, NOW - 7);
	CHECK_EQ_INT(r.reason, 5);
	CHECK_EQ_INT(r.not_after, NOW + 86400);
	store_read_end(txn);
	/* once only */
	CHECK_EQ_INT(acme_revoked_index(st), 0);
	CHECK_EQ_INT(count(), before + 1);
}

struct tally {
	size_t n, valid, revoked, expired;
	char last[ACME_SERIAL_HEX_LEN + 1];
	int ordered;
	size_t stop_after;
};

static int
tally_one(const struct acme_cert_info *c, void *arg)
{
	struct tally *t = arg;

	if (t->n > 0 && strcmp(t->last, c->serial) >= 0)
		t->ordered = 0;
	snprintf(t->last, sizeof(t->last), "%s", c->serial);
	t->n++;
	t->valid += c->status == ACME_CERT_VALID;
	t->revoked += c->status == ACME_CERT_REVOKED;
	t->expired += c->status == ACME_CERT_EXPIRED;
	if (c->n_names != 1 || strcmp(c->names[0], "web.corp.internal") != 0)
		t->ordered = 0;
	return t->stop_after != 0 && t->n >= t->stop_after;
}

/* More certificates than one page holds: every one seen once, in order. */
static void
test_list(void)
{
	struct tally t;
	char serial[16];
	int i;

	for (i = 0; i < 2 * ACME_CERTS_PAGE + 10; i++) {
		snprintf(serial, sizeof(serial), "7%07x", i);
		seed(serial, i % 2 == 0 ? NOW + 86400 : NOW - 1);
	}
	CHECK_EQ_INT(acme_cert_revoke(st, "70000002", 1, NOW), 0);
	memset(&t, 0, sizeof(t));
	t.ordered = 1;
	CHECK_EQ_INT(acme_cert_list(st, NOW, tally_one, &t), 0);
	/* the seeded ones and test_revoke's */
	CHECK_EQ_INT(t.n, 2 * ACME_CERTS_PAGE + 10 + 1);
	CHECK(t.ordered);
	CHECK_EQ_INT(t.revoked, 2);
	CHECK_EQ_INT(t.expired, ACME_CERTS_PAGE + 5);
	CHECK_EQ_INT(t.valid, ACME_CERTS_PAGE + 5 - 1);
	/* a callback stops the listing */
	memset(&t, 0, sizeof(t));
	t.ordered = 1;
	t.stop_after = 3;
	CHECK_EQ_INT(acme_cert_list(st, NOW, tally_one, &t), 0);
	CHECK_EQ_INT(t.n, 3);
	memset(&t, 0, sizeof(t));
	CHECK_EQ_INT(acme_cert_show(st, "70000002", NOW, tally_one, &t), 0);
	CHECK_EQ_INT(t.revoked, 1);
	CHECK_EQ_INT(acme_cert_show(st, "7fffffff", NOW, tally_one, &t),
	    ACME_ERR_NOTFOUND);
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	char dir[512], err[256];
	int e;

	snprintf(dir, sizeof(dir), "%s/revocationXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	if (st != NULL) {
		test_revoke();
		test_record_format();
		test_reasons();
		test_serial_forms();
		test_list();
		test_index_earlier();
	}
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
