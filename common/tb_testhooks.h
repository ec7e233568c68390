/*
 * tb_testhooks.h: the environment variables only tests set, read in one
 * place (testhooks.c, in common/ so that the store reads them there too). A build configured with
 * -DTB_TEST_HOOKS=OFF, as the Debian package is, compiles them out.
 */
#ifndef TB_TESTHOOKS_H
#define TB_TESTHOOKS_H

#include <stdbool.h>

/* The value of a test hook: TALLY_TEST_CLOCK (the listings' clock,
 * FORMAT.md 16.4), TALLY_CRASH_AT and TALLYD_CRASH_AT (crash points),
 * TALLY_CONVERT_BATCH (the layout conversion's batch size),
 * TALLYD_CHECKPOINT_MS (the checkpoint interval), TALLYD_SESSION_SECONDS
 * (the console sessions' life), TALLYD_DIGEST_TICK_MS (how often the
 * email digests' hour is looked at) or TALLY_AUDIT_KEEP_MIB (the resident
 * memory under which an audit keeps its scratch store's pages). NULL when
 * it is not set, and always in a build without test hooks. Any other name
 * is a bug: it aborts. */
const char *tb_test_env(const char *name);
/* Whether this build reads them (tallyd --version says so). */
bool tb_test_hooks(void);

#endif
