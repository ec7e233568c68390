/*
 * test_coordinator.c: a coordinator's daily work through `tally` as real
 * processes: renames, limit changes, a keyless member, the community
 * account, removing a member with a balance (asked, settled, kept),
 * reinstating, lookalike names, dates (future, long ago, --backdate), amount
 * messages, "did you mean", and --json printing nothing on a refusal. Every
 * refusal must leave the ledger file byte-identical.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clitest.h"
#include "testutil.h"

static int setup(void **state)
{
	struct tb_clitest *f = tb_clitest_new("coord");

	tb_clitest_riverside(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	tb_clitest_free(*state);
	return 0;
}

static void test_members_over_time(void **state)
{
	struct tb_clitest *f = *state;

	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--hours", "2", "--memo", "garden"),
			 0);
	/* Rename and limits; the history follows the member. */
	assert_int_equal(T(f, "member", "rename", "bob", "Robert"), 0);
	R(f, 1, "ENAME", "member", "rename", "Robert", "ALICE");
	R(f, 1, "ENAME", "member", "rename", "Robert", "\xd0\xb0lice");
	R(f, 1, "ENAME", "member", "rename", "Robert", "Rob\xe2\x80\x8b");
	R(f, 1, "EMEMBER", "member", "rename", "bob", "Bobby");
	assert_int_equal(T(f, "member", "limit", "robert", "--debt-limit", "1", "--ceiling", "40"),
			 0);
	R(f, 1, "EFLOOR", "exchange", "record", "--attest", "--provider", "alice", "--receiver",
	  "#2", "--minutes", "1", "--memo", "over the new limit");
	R(f, 2, "out of range", "member", "limit", "#2", "--debt-limit", "99999999");
	assert_int_equal(T(f, "history", "#2"), 0);
	OUT_HAS("garden");
	OUT_HAS("Robert");

	/* Removing a member with a balance needs a decision. */
	R(f, 2, "--settle", "member", "remove", "alice");
	R(f, 2, "exclude", "member", "remove", "alice", "--settle", "--keep-balance");
	assert_int_equal(T(f, "member", "remove", "alice", "--settle"), 0);
	OUT_HAS("community account");
	assert_int_equal(T(f, "--json", "balance"), 0);
	OUT_HAS("{\"number\":0,\"name\":\"community\",");
	OUT_HAS("\"balance_minutes\":120");
	OUT_HAS("\"sum_minutes\":0");
	/* A departed member stays reachable; their name is free again. */
	assert_int_equal(T(f, "history", "alice"), 0);
	OUT_HAS("garden");
	R(f, 1, "ELEFT", "member", "rename", "alice", "Alicia");
	R(f, 1, "ELEFT", "member", "remove", "alice", "--keep-balance");
	R(f, 2, NULL, "member", "reinstate", "Robert");
	assert_int_equal(T(f, "member", "reinstate", "alice"), 0);
	OUT_HAS("is back");
	assert_int_equal(T(f, "member", "remove", "José", "--keep-balance"), 0);

	/* The community account: exchanges with it are attested, and it has
	 * no limits (its balance goes below 0 here, as README's story does). */
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "community", "--hours", "3", "--memo", "newsletter"),
			 0);
	R(f, 2, NULL, "member", "rename", "community", "Village");
	R(f, 1, "ENAME", "member", "add", "Community", "--keyless");
}

static void test_names_dates_amounts(void **state)
{
	struct tb_clitest *f = *state;
	static const char *const lookalikes[] = {
		"ALICE",	"Alice", "\xd0\xb0lice",  "alic\xd0\xb5",
		"Jose\xcc\x81", "JOSÉ",	 "b\xd0\xbe\x62", "\xef\xbd\x82\xef\xbd\x8f\xef\xbd\x82",
		"B0B",
	};

	for (size_t i = 0; i < sizeof lookalikes / sizeof lookalikes[0]; i++)
		R(f, 1, "ENAME", "member", "add", lookalikes[i], "--keyless");
	R(f, 1, "invisible", "member", "add", "ann\xe2\x80\x8b", "--keyless");
	R(f, 1, "space", "member", "add", " ann", "--keyless");
	R(f, 1, "space", "member", "add", "ann  lee", "--keyless");
	assert_int_equal(T(f, "member", "add", "Josée", "--keyless"), 0);
	assert_int_equal(T(f, "member", "add", "陈静", "--keyless"), 0);
	/* Columns line up by display width, not bytes. */
	assert_int_equal(T(f, "member", "list"), 0);
	{
		const char *a = strstr(f->res.out, "José "), *b = strstr(f->res.out, "陈静 ");
		const char *la, *lb;

		assert_non_null(a);
		assert_non_null(b);
		la = strchr(a, '\n');
		lb = strchr(b, '\n');
		/* Same columns: both lines have the same width in display columns
		 * (é is 2 bytes for 1 column; each 陈/静 is 3 bytes for 2). */
		assert_int_equal((la - a) - 1, (lb - b) - 2);
	}

	/* Dates. */
	R(f, 1, "EDATE", "exchange", "record", "--attest", "--provider", "alice", "--receiver",
	  "bob", "--minutes", "5", "--memo", "x", "--date", "2099-01-01");
	R(f, 2, "--backdate", "exchange", "record", "--attest", "--provider", "alice", "--receiver",
	  "bob", "--minutes", "5", "--memo", "x", "--date", "2001-05-01");
	assert_int_equal(T(f, "exchange", "record", "--attest", "--provider", "alice", "--receiver",
			   "bob", "--minutes", "5", "--memo", "old", "--date", "2001-05-01",
			   "--backdate"),
			 0);
	assert_int_equal(T(f, "history", "bob"), 0);
	OUT_HAS("[backdated]");

	/* Amounts and names: messages that say what to do. */
	R(f, 2, "1.5 or 1:30", "exchange", "record", "--attest", "--provider", "alice",
	  "--receiver", "bob", "--hours", "1,5", "--memo", "x");
	R(f, 2, "out of range", "exchange", "record", "--attest", "--provider", "alice",
	  "--receiver", "bob", "--hours", "-1", "--memo", "x");
	R(f, 2, "out of range", "exchange", "record", "--attest", "--provider", "alice",
	  "--receiver", "bob", "--minutes", "100000000", "--memo", "x");
	R(f, 1, "did you mean alice", "history", "alcie");
	R(f, 1, "EMEMBER", "--json", "history", "nobody");
	R(f, 1, "EMEMBER", "--json", "balance", "nobody");
	/* A keyless member cannot sign: its exchanges are attested. */
	R(f, 1, "ECONSENT", "exchange", "propose", "--provider", "alice", "--receiver", "bob",
	  "--minutes", "5", "--memo", "x");
}

/* A txid printed on the first line of `exchange propose`. */
static void first_word(const struct tb_clitest *f, char out[33])
{
	memcpy(out, f->res.out, 32);
	out[32] = '\0';
}

static void test_consent_and_passphrases(void **state)
{
	struct tb_clitest *f = *state;
	char dir[4300], p1[4400], p2[4400], tx[33];

	/* One passphrase file per member, found by name (or #N). */
	snprintf(dir, sizeof dir, "%s/pass", f->dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	snprintf(p1, sizeof p1, "%s/carol", dir);
	snprintf(p2, sizeof p2, "%s/#5", dir);
	assert_int_equal(tb_test_write_file(p1, "carol's secret\n", 15), 0);
	assert_int_equal(tb_test_write_file(p2, "dave's secret\n", 14), 0);
	unsetenv("TALLY_MEMBER_PASSPHRASE");
	assert_int_equal(T(f, "--member-passphrase-dir", dir, "member", "add", "carol"), 0);
	assert_int_equal(T(f, "member", "add", "dave", "--pubkey",
			   "1111111111111111111111111111111111111111111111111111111111111111"),
			 0);
	assert_int_equal(T(f, "member", "rekey", "dave", "--member-passphrase-dir", dir), 0);

	assert_int_equal(T(f, "--member-passphrase-dir", dir, "exchange", "propose", "--provider",
			   "carol", "--receiver", "dave", "--minutes", "30", "--memo", "ladder"),
			 0);
	first_word(f, tx);
	/* Dropping it needs the provider's, the receiver's or the coordinator's key. */
	R(f, 1, "ECONSENT", "--member-passphrase-dir", dir, "exchange", "reject", tx, "--as",
	  "alice");
	assert_int_equal(
		T(f, "--member-passphrase-dir", dir, "exchange", "reject", tx, "--as", "dave"), 0);
	/* Confirming twice names the entry. */
	assert_int_equal(T(f, "--member-passphrase-dir", dir, "exchange", "propose", "--provider",
			   "carol", "--receiver", "dave", "--minutes", "30", "--memo", "ladder"),
			 0);
	first_word(f, tx);
	assert_int_equal(T(f, "--member-passphrase-dir", dir, "exchange", "confirm", tx), 0);
	R(f, 1, "already recorded as entry", "--member-passphrase-dir", dir, "exchange", "confirm",
	  tx);
	/* A rekey cancels the member's open proposals and says so. */
	assert_int_equal(T(f, "--member-passphrase-dir", dir, "exchange", "propose", "--provider",
			   "carol", "--receiver", "dave", "--minutes", "15", "--memo", "paint"),
			 0);
	assert_int_equal(T(f, "--member-passphrase-dir", dir, "member", "rekey", "carol"), 0);
	OUT_HAS("1 open proposal with carol cancelled");
	assert_int_equal(T(f, "exchange", "pending"), 0);
	assert_null(strstr(f->res.out, "paint"));
	setenv("TALLY_MEMBER_PASSPHRASE", "member secret", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_members_over_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_dates_amounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consent_and_passphrases, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
