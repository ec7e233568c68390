/*
 * clitest.c: the shared fixture of the command-line tests that work on one
 * data directory (see clitest.h). The refusal check reads the whole ledger
 * file before and after: these ledgers are a few hundred KiB at most.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clitest.h"
#include "testutil.h"

struct tb_clitest *tb_clitest_new(const char *tag)
{
	struct tb_clitest *f = calloc(1, sizeof *f);

	assert_non_null(f);
	f->dir = tb_test_tmpdir(tag);
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	snprintf(f->mdb, sizeof f->mdb, "%s/ledger/data.mdb", f->data);
	setenv("TALLY_PASSPHRASE", "correct horse", 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "member secret", 1);
	return f;
}

void tb_clitest_riverside(struct tb_clitest *f)
{
	assert_int_equal(T(f, "init", "--name", "Riverside"), 0);
	assert_int_equal(T(f, "member", "add", "alice", "--keyless"), 0);
	assert_int_equal(T(f, "member", "add", "bob", "--keyless"), 0);
	assert_int_equal(T(f, "member", "add", "José", "--keyless"), 0);
}

void tb_clitest_free(struct tb_clitest *f)
{
	tb_test_rmrf(f->dir);
	free(f);
}

int tb_clitest_run(struct tb_clitest *f, const char *const *args)
{
	int code = tb_run_tally(&f->res, f->data, args);

	if (code < 0)
		fail_msg("tally %s died (%d); stderr: %s", args[0], f->res.code, f->res.err);
	return code;
}

void tb_clitest_refused(struct tb_clitest *f, int code, const char *part, const char *const *args)
{
	size_t la, lb;
	uint8_t *before = tb_test_read_file(f->mdb, &la), *after;
	int got = tb_clitest_run(f, args);

	if (got != code)
		fail_msg("%s %s: exit %d, not %d; stderr: %s", args[0], args[1] ? args[1] : "", got,
			 code, f->res.err);
	if (part && !strstr(f->res.err, part))
		fail_msg("stderr '%s' does not say '%s'", f->res.err, part);
	assert_string_equal(f->res.out, "");
	after = tb_test_read_file(f->mdb, &lb);
	assert_non_null(before);
	assert_non_null(after);
	if (la != lb || memcmp(before, after, la))
		fail_msg("%s %s %s changed the ledger file", args[0], args[1] ? args[1] : "",
			 args[1] && args[2] ? args[2] : "");
	free(before);
	free(after);
}

void tb_clitest_out_has(const struct tb_clitest *f, const char *s)
{
	if (!strstr(f->res.out, s))
		fail_msg("stdout lacks '%s': %s", s, f->res.out);
}
