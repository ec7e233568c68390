/*
 * test_categories.c: the community's optional list of categories through
 * `tally` as real processes: free text without a list; with one, only its
 * categories, in its spelling, whatever the case ("Garden" is "garden");
 * names that cannot be categories; removing. Every refusal must leave the
 * ledger file byte-identical. (The API's side is in test_api.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runproc.h"
#include "testutil.h"

struct fixture {
	char *dir;
	char data[4200];
	char mdb[4300];
};

static struct tb_proc_result res;

static int tally(struct fixture *f, const char *const *args)
{
	int code = tb_run_tally(&res, f->data, args);
	if (code < 0)
		fail_msg("tally %s died (%d); stderr: %s", args[0], res.code, res.err);
	return code;
}

#define T(f, ...) tally(f, (const char *const[]){__VA_ARGS__, NULL})

/* The command is refused with exit code `code`, stderr says `part`, stdout
 * is empty and the ledger file is byte for byte what it was. */
static void refused(struct fixture *f, int code, const char *part, const char *const *args)
{
	size_t la, lb;
	uint8_t *before = tb_test_read_file(f->mdb, &la), *after;
	int got = tally(f, args);

	if (got != code)
		fail_msg("%s %s: exit %d, not %d; stderr: %s", args[0], args[1] ? args[1] : "",
			 got, code, res.err);
	if (part && !strstr(res.err, part))
		fail_msg("stderr '%s' does not say '%s'", res.err, part);
	assert_string_equal(res.out, "");
	after = tb_test_read_file(f->mdb, &lb);
	assert_non_null(before);
	assert_non_null(after);
	if (la != lb || memcmp(before, after, la))
		fail_msg("%s %s %s changed the ledger file", args[0], args[1] ? args[1] : "",
			 args[1] && args[2] ? args[2] : "");
	free(before);
	free(after);
}

#define R(f, code, part, ...) refused(f, code, part, (const char *const[]){__VA_ARGS__, NULL})
#define OUT_HAS(s)                                                                       \
	do {                                                                             \
		if (!strstr(res.out, s))                                                 \
			fail_msg("stdout lacks '%s': %s", s, res.out);                   \
	} while (0)

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	f->dir = tb_test_tmpdir("categories");
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	snprintf(f->mdb, sizeof f->mdb, "%s/ledger/data.mdb", f->data);
	setenv("TALLY_PASSPHRASE", "correct horse", 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "member secret", 1);
	assert_int_equal(T(f, "init", "--name", "Riverside"), 0);
	/* Keyless members: no key file, no Argon2id per member. */
	assert_int_equal(T(f, "member", "add", "alice", "--keyless"), 0);
	assert_int_equal(T(f, "member", "add", "bob", "--keyless"), 0);
	assert_int_equal(T(f, "member", "add", "José", "--keyless"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tb_test_rmrf(f->dir);
	free(f);
	return 0;
}

/* Categories: free text until the community keeps a list; then only the
 * list's, in its spelling, whatever the case ("Garden" is "garden"). */
static void test_categories(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice",
			   "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category",
			   "anything goes"),
			 0);
	assert_int_equal(T(f, "category", "list"), 0);
	OUT_HAS("no list");
	assert_int_equal(T(f, "category", "add", "Garden"), 0);
	assert_int_equal(T(f, "category", "add", "transport"), 0);
	/* Another spelling of a category the list has adds nothing. */
	assert_int_equal(T(f, "--json", "category", "add", "GARDEN"), 0);
	OUT_HAS("{\"category\":\"Garden\",\"added\":false}");
	R(f, 2, "cannot be a category", "category", "add", " garden");
	R(f, 2, "cannot be a category", "category", "add", "tea\xe2\x80\x8b");
	assert_int_equal(T(f, "--json", "category", "list"), 0);
	OUT_HAS("{\"categories\":[\"Garden\",\"transport\"]}");
	R(f, 1, "ECATEGORY", "exchange", "record", "--attest", "--provider", "alice",
	  "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category", "gardn");
	R(f, 1, "Garden, transport", "--json", "exchange", "propose", "--provider", "alice",
	  "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category", "cooking");
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice",
			   "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category",
			   "garden"),
			 0);
	assert_int_equal(T(f, "history", "bob"), 0);
	OUT_HAS("Garden: m");
	/* An exchange without a category is always allowed. */
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice",
			   "--receiver", "bob", "--minutes", "5", "--memo", "m"),
			 0);
	R(f, 1, "no category", "category", "remove", "cooking");
	assert_int_equal(T(f, "category", "remove", "GARDEN"), 0);
	OUT_HAS("category Garden removed");
	R(f, 1, "ECATEGORY", "exchange", "record", "--attest", "--provider", "alice",
	  "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category", "garden");
	assert_int_equal(T(f, "category", "remove", "transport"), 0);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice",
			   "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category",
			   "garden"),
			 0);
	assert_int_equal(T(f, "verify"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_categories, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
