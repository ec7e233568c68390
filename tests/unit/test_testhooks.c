/*
 * test_testhooks.c: common/testhooks.c as a production build compiles it
 * (TB_TEST_HOOKS undefined, whatever this build says): every test hook reads
 * as unset though the environment holds it, so a packaged tally or tallyd
 * cannot have its listings' clock moved or be made to crash by its
 * environment. And no other source file reads a hook itself: getenv of a
 * hook's name appears nowhere else in the programs' sources. The test
 * build's own reading is what the integration tests (test_listings_fed,
 * test_crash...) rely on.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#undef TB_TEST_HOOKS
#include "../../common/testhooks.c"

static void test_production_reads_none(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++) {
		assert_int_equal(setenv(hooks[i], "1800000000", 1), 0);
		assert_null(tb_test_env(hooks[i]));
		assert_int_equal(unsetenv(hooks[i]), 0);
	}
	assert_false(tb_test_hooks());
}

static char g_found[4200];

static int scan(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	size_t n = strlen(path), len;
	if (flag != FTW_F || n < 2 || (strcmp(path + n - 2, ".c") && strcmp(path + n - 2, ".h")) ||
	    strstr(path, "/common/testhooks.c"))
		return 0;
	char *text = (char *)tb_test_read_file(path, &len);
	assert_non_null(text);
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0] && !g_found[0]; i++) {
		char call[64];
		snprintf(call, sizeof call, "getenv(\"%s\")", hooks[i]);
		for (size_t k = 0; k + strlen(call) <= len && !g_found[0]; k++)
			if (!memcmp(text + k, call, strlen(call)))
				snprintf(g_found, sizeof g_found, "%s reads %s itself", path,
					 hooks[i]);
	}
	free(text);
	return g_found[0] != 0;
}

static void test_read_only_through_testhooks(void **state)
{
	(void)state;
	static const char *const dirs[] = {"common", "crypto", "proto", "store", "audit", "node"};
	for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s/%s", TB_SOURCE_DIR, dirs[i]);
		assert_true(nftw(dir, scan, 16, FTW_PHYS) >= 0);
		if (g_found[0])
			fail_msg("%s: read it with tb_test_env (common/tb_testhooks.h)", g_found);
	}
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_production_reads_none),
		cmocka_unit_test(test_read_only_through_testhooks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
