/*
 * testhooks.c: the environment variables only tests set (a clock for the
 * listings, crash points, short timers), read here and nowhere else. Tests
 * need them to move time or kill a process at a chosen point; a node in
 * production must not be steerable by its environment that way, so a build
 * configured with -DTB_TEST_HOOKS=OFF (the package's, debian/rules) compiles
 * the reads out and tb_test_env answers NULL whatever the environment holds.
 * It reads no other variable.
 */
#include "tb_testhooks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const hooks[] = {
	"TALLY_TEST_CLOCK",	 "TALLY_CONVERT_BATCH",	 "TALLY_CRASH_AT",
	"TALLYD_CRASH_AT",	 "TALLYD_CHECKPOINT_MS", "TALLYD_SESSION_SECONDS",
	"TALLYD_DIGEST_TICK_MS", "TALLY_AUDIT_KEEP_MIB",
};

const char *tb_test_env(const char *name)
{
	size_t i = 0;
	while (i < sizeof hooks / sizeof hooks[0] && strcmp(name, hooks[i]))
		i++;
	if (i == sizeof hooks / sizeof hooks[0]) {
		fprintf(stderr, "tb_test_env: '%s' is not a test hook\n", name);
		abort();
	}
#ifdef TB_TEST_HOOKS
	return getenv(name);
#else
	return NULL;
#endif
}

bool tb_test_hooks(void)
{
#ifdef TB_TEST_HOOKS
	return true;
#else
	return false;
#endif
}
