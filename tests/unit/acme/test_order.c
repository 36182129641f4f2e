/*
 * test_order.c: an order's status as finalization sees it, on a real store:
 * derived from its authorizations, "processing" while a finalize claim is
 * fresh, and ready again once a claim left by a stopped server has lapsed
 * (ACME_FINALIZE_STALE), so the client can finalize again.
 */
#include "check.h"

#include <stdlib.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "acme_internal.h"
#include "crypto.h"
#include "store.h"

#define NOW 1800000000
#define OID "00000000bbbbbbbbbbbbbbbb"
#define AID "00000000aaaaaaaaaaaaaaaa"

static struct store *st;

struct seed {
	const char *authz_status;
	const char *order_status;  /* NULL: none stored */
	time_t claimed;
};

static int
seed_txn(struct store_txn *txn, void *arg)
{
	const struct seed *s = arg;
	cJSON *az = cJSON_CreateObject(), *ord = cJSON_CreateObject();
	int ret;

	cJSON_AddStringToObject(az, "status", s->authz_status);
	cJSON_AddNumberToObject(az, "expires", NOW + 86400);
	cJSON_AddNumberToObject(ord, "expires", NOW + 86400);
	cJSON_AddItemToObject(ord, "authzs", cJSON_CreateStringArray(
	    (const char *[]){ AID }, 1));
	if (s->order_status != NULL)
		cJSON_AddStringToObject(ord, "status", s->order_status);
	if (s->claimed != 0) {
		cJSON_AddStringToObject(ord, "claim", "00000000cccccccccccccccc");
		cJSON_AddNumberToObject(ord, "claimed", (double)s->claimed);
	}
	ret = acme_record_put(txn, STORE_T_AUTHZS, AID, az);
	if (ret == 0)
		ret = acme_record_put(txn, STORE_T_ORDERS, OID, ord);
	cJSON_Delete(az);
	cJSON_Delete(ord);
	return ret;
}

static const char *
status_at(const struct seed *s, time_t now)
{
	struct store_txn *txn;
	const char *status = "unreadable";
	cJSON *ord;

	CHECK_EQ_INT(store_write(st, seed_txn, (void *)s), 0);
	CHECK_EQ_INT(store_read_begin(st, &txn), 0);
	if ((ord = acme_record_get(txn, STORE_T_ORDERS, OID)) != NULL)
		status = acme_order_status(txn, ord, now, NULL);
	store_read_end(txn);
	cJSON_Delete(ord);
	return status;
}

int
main(void)
{
	const char *tmp = getenv("HEARTH_TEST_TMP");
	const struct seed pending = { "pending", NULL, 0 };
	const struct seed ready = { "valid", NULL, 0 };
	const struct seed claimed = { "valid", "processing", NOW };
	const struct seed valid = { "valid", "valid", 0 };
	char dir[512], err[256];
	int e;

	snprintf(dir, sizeof(dir), "%s/orderXXXXXX", tmp != NULL ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL || crypto_init() != 0)
		return 1;
	st = store_open(dir, &e, err, sizeof(err));
	CHECK(st != NULL);
	if (st != NULL) {
		CHECK_EQ_STR(status_at(&pending, NOW), "pending");
		CHECK_EQ_STR(status_at(&ready, NOW), "ready");
		CHECK_EQ_STR(status_at(&claimed, NOW + 1), "processing");
		CHECK_EQ_STR(status_at(&claimed, NOW + ACME_FINALIZE_STALE - 1),
		    "processing");
		/* the claim of a finalize that never came back has lapsed */
		CHECK_EQ_STR(status_at(&claimed, NOW + ACME_FINALIZE_STALE), "ready");
		CHECK_EQ_STR(status_at(&valid, NOW + 3600), "valid");
		/* an expired order is invalid, even with a claim */
		CHECK_EQ_STR(status_at(&claimed, NOW + 2 * 86400), "invalid");
	}
	store_close(st);
	crypto_cleanup();
	return CHECK_DONE();
}
