/*
 * testutil.c: temp directories, deterministic keys and file reading for the
 * tests. Never used by the product itself.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *tb_test_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path = malloc(4096);
	assert_non_null(path);
	snprintf(path, 4096, "%s/tally-%s-XXXXXX", base ? base : "/tmp", tag);
	assert_non_null(mkdtemp(path));
	return path;
}

void tb_test_rmrf(char *path)
{
	if (!path)
		return;
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", path);
	free(path);
}

void tb_test_keypair(struct tb_keypair *kp, uint32_t n)
{
	uint8_t seed[TB_SEED_LEN] = {0};
	memcpy(seed, "tally-test-seed", 15);
	seed[28] = (uint8_t)(n >> 24);
	seed[29] = (uint8_t)(n >> 16);
	seed[30] = (uint8_t)(n >> 8);
	seed[31] = (uint8_t)n;
	tb_keypair_from_seed(kp, seed);
}

uint8_t *tb_test_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *buf = malloc(cap);
	for (;;) {
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return buf;
}
