/*
 * fuzz_dns.c: DNS answers as validation reads them (server/resolver.c).
 *
 * c-ares sends the query and hands back the raw answer message; reading it
 * is hearth's own code: walking the answer section, following CNAMEs from
 * the name asked for (loops, too many aliases, malformed targets), and
 * taking TXT character-strings (dns-01) and CAA records (RFC 8659 §4.1).
 * resolver_answer_read() is that reading without a socket. The first input
 * byte picks TXT or CAA; the rest is the message. What comes back is
 * checked against the resolver's promises (counts, caps, terminated
 * strings).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resolver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME_TXT "_acme-challenge.svc.fuzz.internal"
#define NAME_CAA "svc.fuzz.internal"

static void
txt_cb(int rc, const char *why, const char *const *txt, size_t n, void *arg)
{
	size_t i;

	if ((rc == RESOLVER_OK) != (n > 0) || n > RESOLVER_MAX_RECORDS ||
	    (rc != RESOLVER_OK && why == NULL))
		abort();
	for (i = 0; i < n; i++)
		if (strlen(txt[i]) > RESOLVER_MAX_TXT)
			abort();
	*(int *)arg = 1;
}

static void
caa_cb(int rc, const char *why, const struct resolver_caa *caa, size_t n,
    void *arg)
{
	size_t i;

	if ((rc == RESOLVER_OK) != (n > 0) || n > RESOLVER_MAX_RECORDS ||
	    (rc != RESOLVER_OK && why == NULL))
		abort();
	for (i = 0; i < n; i++)
		if (caa[i].flags > 255 || strlen(caa[i].tag) == 0 ||
		    strlen(caa[i].tag) > RESOLVER_MAX_CAA_TAG ||
		    strlen(caa[i].value) > RESOLVER_MAX_CAA_VALUE)
			abort();
	*(int *)arg = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char again[RESOLVER_MAX_NAME + 1];
	int caa, called = 0, rc;

	if (size == 0 || size > 65535)
		return 0;
	caa = data[0] & 1;
	rc = resolver_answer_read(caa ? NAME_CAA : NAME_TXT, caa, data + 1,
	    (int)(size - 1), again, txt_cb, caa_cb, &called);
	/* the callback runs exactly when a result is reported */
	if ((rc == 0) != (called == 1) || (rc == 1 && strlen(again) == 0) ||
	    (rc != 0 && rc != 1 && rc != RESOLVER_ERR_NOMEM))
		abort();
	return 0;
}
