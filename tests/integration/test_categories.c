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

#include "agree.h"
#include "clitest.h"
#include "testutil.h"

static int setup(void **state)
{
	struct tb_clitest *f = tb_clitest_new("categories");

	tb_clitest_riverside(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	tb_clitest_free(*state);
	return 0;
}

/* Categories: free text until the community keeps a list; then only the
 * list's, in its spelling, whatever the case ("Garden" is "garden"). */
static void test_categories(void **state)
{
	struct tb_clitest *f = *state;

	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "30", "--memo", "m", "--category", "anything goes"),
			 0);
	assert_int_equal(T(f, "category", "list"), 0);
	OUT_HAS("no list");
	assert_int_equal(T(f, "category", "add", "Garden"), 0);
	assert_int_equal(T(f, "category", "add", "transport"), 0);
	/* Another spelling of a category the list has adds nothing. */
	assert_int_equal(T(f, "--json", "category", "add", "GARDEN"), 0);
	OUT_HAS("{\"category\":\"Garden\",\"added\":false,\"categories\":[\"Garden\","
		"\"transport\"]}");
	R(f, 2, "cannot be a category", "category", "add", " garden");
	R(f, 2, "cannot be a category", "category", "add", "tea\xe2\x80\x8b");
	assert_int_equal(T(f, "--json", "category", "list"), 0);
	OUT_HAS("{\"categories\":[\"Garden\",\"transport\"]}");
	R(f, 1, "ECATEGORY", "exchange", "record", "--attest", "--provider", "alice", "--receiver",
	  "bob", "--minutes", "30", "--memo", "m", "--category", "gardn");
	R(f, 1, "Garden, transport", "--json", "exchange", "propose", "--provider", "alice",
	  "--receiver", "bob", "--minutes", "30", "--memo", "m", "--category", "cooking");
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "30", "--memo", "m", "--category", "garden"),
			 0);
	assert_int_equal(T(f, "history", "bob"), 0);
	OUT_HAS("Garden: m");
	/* An exchange without a category is always allowed. */
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "5", "--memo", "m"),
			 0);
	R(f, 1, "no category", "category", "remove", "cooking");
	assert_int_equal(T(f, "category", "remove", "GARDEN"), 0);
	OUT_HAS("category Garden removed");
	R(f, 1, "ECATEGORY", "exchange", "record", "--attest", "--provider", "alice", "--receiver",
	  "bob", "--minutes", "30", "--memo", "m", "--category", "garden");
	assert_int_equal(T(f, "category", "remove", "transport"), 0);
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "30", "--memo", "m", "--category", "garden"),
			 0);
	assert_int_equal(T(f, "verify"), 0);
	assert_true(tb_test_verify_agrees(f->data));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_categories, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
