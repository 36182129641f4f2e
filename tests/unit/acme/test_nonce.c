/*
 * test_nonce.c: nonces are single-use, expire, cannot be forged, and fall out
 * of the window after enough newer ones (RFC 8555 §6.5).
 */
#include "check.h"

#include <stdlib.h>

#include "acme_internal.h"
#include "crypto.h"

static int
rand_bytes(void *buf, size_t len)
{
	return crypto_random(buf, len);
}

int
main(void)
{
	struct acme_nonces n;
	char a[ACME_NONCE_LEN + 1], b[ACME_NONCE_LEN + 1], forged[ACME_NONCE_LEN + 1];
	const time_t t = 1700000000;
	int i;

	CHECK_EQ_INT(crypto_init(), 0);
	CHECK_EQ_INT(acme_nonces_init(&n, rand_bytes), ACME_OK);

	CHECK_EQ_INT(acme_nonce_issue(&n, t, a), ACME_OK);
	CHECK_EQ_INT(strlen(a), ACME_NONCE_LEN);
	CHECK_EQ_INT(acme_nonce_issue(&n, t, b), ACME_OK);
	CHECK(strcmp(a, b) != 0);

	/* single use */
	CHECK_EQ_INT(acme_nonce_consume(&n, t + 1, a), 1);
	CHECK_EQ_INT(acme_nonce_consume(&n, t + 1, a), 0);

	/* a changed character is a forgery */
	strcpy(forged, b);
	forged[ACME_NONCE_LEN - 1] = forged[ACME_NONCE_LEN - 1] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(acme_nonce_consume(&n, t, forged), 0);
	forged[ACME_NONCE_LEN - 1] = b[ACME_NONCE_LEN - 1];
	forged[0] = forged[0] == 'A' ? 'B' : 'A';
	CHECK_EQ_INT(acme_nonce_consume(&n, t, forged), 0);

	/* expiry */
	CHECK_EQ_INT(acme_nonce_consume(&n, t + ACME_NONCE_LIFETIME + 1, b), 0);
	CHECK_EQ_INT(acme_nonce_issue(&n, t, b), ACME_OK);
	CHECK_EQ_INT(acme_nonce_consume(&n, t + ACME_NONCE_LIFETIME, b), 1);

	/* garbage */
	CHECK_EQ_INT(acme_nonce_consume(&n, t, ""), 0);
	CHECK_EQ_INT(acme_nonce_consume(&n, t, NULL), 0);
	CHECK_EQ_INT(acme_nonce_consume(&n, t, "not a nonce at all!!!!"), 0);
	CHECK_EQ_INT(acme_nonce_consume(&n, t, "AAAAAAAAAAAAAAAAAAAAAA"), 0);
	CHECK_EQ_INT(acme_nonce_consume(&n, t, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 0);

	/* window: a nonce pushed out by ACME_NONCE_WINDOW newer ones is dead */
	CHECK_EQ_INT(acme_nonce_issue(&n, t, a), ACME_OK);
	for (i = 0; i < ACME_NONCE_WINDOW; i++)
		acme_nonce_issue(&n, t, b);
	CHECK_EQ_INT(acme_nonce_consume(&n, t, a), 0);
	CHECK_EQ_INT(acme_nonce_consume(&n, t, b), 1);

	/* a second pool (another key) does not accept the first one's nonces */
	{
		struct acme_nonces other;

		CHECK_EQ_INT(acme_nonces_init(&other, rand_bytes), ACME_OK);
		CHECK_EQ_INT(acme_nonce_issue(&n, t, a), ACME_OK);
		CHECK_EQ_INT(acme_nonce_consume(&other, t, a), 0);
		acme_nonces_fini(&other);
	}

	acme_nonces_fini(&n);
	crypto_cleanup();
	return CHECK_DONE();
}
