/*
 * fuzz_config.c: the configuration file (server/config.c) as `hearth
 * serve|init|eab --config FILE` reads it: lines of "key = value", every
 * option's value parser (numbers, durations, flags, addresses, lists,
 * policy rules, CIDRs), then the checks across options and the name policy
 * built from them. The first input byte picks the command; the rest is
 * the file, written to a temporary file and read through config_parse.
 * The messages config.c prints to stderr go to /dev/null while it parses;
 * the descriptor stays open for the sanitizers' and libFuzzer's reports.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[256];
static FILE *devnull;

static void
remove_file(void)
{
	if (path[0] != '\0')
		unlink(path);
}

static void
setup(void)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, sizeof(path), "%s/hearth-fuzz-config-XXXXXX",
	    tmp != NULL ? tmp : "/tmp");
	if ((fd = mkstemp(path)) < 0)
		abort();
	close(fd);
	atexit(remove_file);
	if (crypto_init() != 0 || (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum config_command cmds[] = { CMD_SERVE, CMD_INIT, CMD_EAB };
	char *argv[] = { "--config", path, NULL };
	struct crypto_policy *policy;
	struct config c;
	FILE *f, *err;
	int rc;

	if (path[0] == '\0')
		setup();
	if (size == 0 || (f = fopen(path, "w")) == NULL)
		return 0;
	if (fwrite(data + 1, 1, size - 1, f) != size - 1) {
		fclose(f);
		return 0;
	}
	fclose(f);
	config_defaults(&c);
	err = stderr;
	stderr = devnull;
	rc = config_parse(&c, cmds[data[0] % 3], 2, argv);
	stderr = err;
	if (rc == 0 && data[0] % 3 == 0) {
		if ((policy = config_policy(&c, NULL)) == NULL)
			abort();   /* config_parse checked every rule */
		crypto_policy_free(policy);
	}
	config_free(&c);
	return 0;
}
