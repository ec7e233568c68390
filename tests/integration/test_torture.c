/*
 * test_torture.c: a short run of the fault loop, scripts/torture (three
 * communities exchanging locally and across while nodes are killed with
 * SIGKILL and restarted, one of them, Cove, attacking the other two as a
 * dishonest community would; then converged and audited: nothing
 * acknowledged lost, nothing half-done, no violation in an honest log). The
 * full loop is `scripts/torture 50`; here a few rounds keep the suite quick.
 * The script uses the binaries under test (TALLY_BIN, TALLYD_BIN and the
 * attacker TB_ROGUE_BIN).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "runproc.h"

#ifndef TB_SOURCE_DIR
#error "TB_SOURCE_DIR must name the source tree"
#endif

static void test_short_fault_loop(void **state)
{
	(void)state;
	const char *rounds = getenv("TORTURE_ROUNDS");
	const char *argv[] = {"/bin/sh", TB_SOURCE_DIR "/scripts/torture", rounds ? rounds : "2",
			      NULL};
	struct tb_proc_result *r = malloc(sizeof *r);
	assert_non_null(r);
	assert_int_equal(tb_run(r, argv), 0);
	printf("%s", r->out);
	if (r->code != 0)
		fail_msg("scripts/torture failed (exit %d):\n%s", r->code, r->err);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_short_fault_loop)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
