/*
 * replay.c: runs a libFuzzer driver over the files of corpus directories
 * (and over truncations of each), so every driver is exercised in the
 * normal test suite without libFuzzer. Built instead of -fsanitize=fuzzer
 * when HEARTH_FUZZ is off.
 */
#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;
	size_t i;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	rewind(f);
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	for (i = 0; i < (size_t)n; i += 1 + (size_t)n / 64)
		LLVMFuzzerTestOneInput(buf, i);        /* truncations */
	for (i = 0; i < (size_t)n; i += 1 + (size_t)n / 32) {
		buf[i] ^= 0x5a;                        /* single-byte damage */
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		buf[i] ^= 0x5a;
	}
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	char path[4096];
	struct dirent *e;
	DIR *d;
	int i, files = 0;

	for (i = 1; i < argc; i++) {
		if ((d = opendir(argv[i])) == NULL) {
			fprintf(stderr, "replay: %s: cannot open\n", argv[i]);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
			if (run_file(path) == 0)
				files++;
		}
		closedir(d);
	}
	fprintf(stderr, "replay: %d inputs, each with truncations and damage\n", files);
	return files > 0 ? 0 : 1;
}
