/*
 * fuzz_request.c: whole ACME POST bodies through acme_request_waits() and
 * acme_handle() — the JWS pipeline and every resource's payload parsing —
 * against a real store in a temporary directory. The first byte picks the
 * resource.
 */
#define _XOPEN_SOURCE 700   /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme.h"
#include "crypto.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/hearth-fuzz-XXXXXX";

static int
rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* The store's directory goes when the process exits. */
static void
remove_dir(void)
{
	(void)nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static struct acme *
setup(void)
{
	static struct acme *a;
	struct acme_config cfg;
	struct store *st;
	char err[256];
	int e;

	if (a != NULL)
		return a;
	if (crypto_init() != 0 || mkdtemp(dir) == NULL)
		abort();
	atexit(remove_dir);
	if ((st = store_open(dir, &e, err, sizeof(err))) == NULL)
		abort();
	memset(&cfg, 0, sizeof(cfg));
	cfg.hold_answers = 1;   /* as `hearth serve` runs it by default */
	a = acme_new(&cfg, st, NULL, &e);
	return a;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const paths[] = {
		"/acme/new-account", "/acme/new-order", "/acme/new-authz",
		"/acme/revoke-cert", "/acme/key-change",
		"/acme/account/00000000aaaaaaaaaaaaaaaa",
		"/acme/order/00000000aaaaaaaaaaaaaaaa",
		"/acme/finalize/00000000aaaaaaaaaaaaaaaa",
		"/acme/chall/00000000aaaaaaaaaaaaaaaa",
	};
	struct acme *a = setup();
	struct acme_request req;
	struct acme_response resp;

	if (a == NULL || size == 0)
		return 0;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = paths[data[0] % (sizeof(paths) / sizeof(paths[0]))];
	req.base_url = "https://ca.test";
	req.content_type = "application/jose+json";
	req.body = data + 1;
	req.body_len = size - 1;
	req.now = 1800000000;
	/* where the server would run it: a yes or no for any body */
	if ((unsigned)acme_request_waits(a, &req) > 1)
		abort();
	acme_handle(a, &req, &resp);
	if (resp.status < 200 || resp.status > 599)
		abort();
	acme_response_clear(&resp);
	return 0;
}
