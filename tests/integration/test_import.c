/*
 * test_import.c: `tally import` as real processes, on sample files shaped
 * like TimeOverflow's CSV exports (tests/integration/import/, the users
 * report's columns N, Name, Email, Phone, Alternative Phone, Created, Last
 * login, Locale, Balance in seconds, CRLF lines, quoted fields) and like the
 * documented simple format: the dry run changes nothing; the import brings
 * members, opening balances, members who left and exchanges; a second run
 * changes nothing; every bad line is named with its line number and nothing
 * is written; and a SIGKILL at any moment of a large import leaves all of it
 * or none of it, with `tally verify` clean.
 */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agree.h"
#include "clitest.h"
#include "testutil.h"

extern char **environ;

#define HAS(buf, s)                                          \
	do {                                                 \
		if (!strstr(buf, s))                         \
			fail_msg("'%s' lacks '%s'", buf, s); \
	} while (0)

/* A sample file of tests/integration/import/. */
static char *sample(const char *name)
{
	static char path[4][4400];
	static int k;
	char *p = path[k++ % 4];
	snprintf(p, sizeof path[0], "%s/tests/integration/import/%s", TB_SOURCE_DIR, name);
	return p;
}

static uint8_t *ledger(struct tb_clitest *f, size_t *len)
{
	uint8_t *p = tb_test_read_file(f->mdb, len);
	assert_non_null(p);
	return p;
}

static void same_ledger(struct tb_clitest *f, const uint8_t *before, size_t len)
{
	size_t n;
	uint8_t *now = ledger(f, &n);
	if (n != len || memcmp(now, before, len))
		fail_msg("the ledger file changed");
	free(now);
}

static int setup(void **state)
{
	struct tb_clitest *f = tb_clitest_new("import");

	assert_int_equal(T(f, "init", "--name", "Riverside"), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	tb_clitest_free(*state);
	return 0;
}

static void test_timeoverflow(void **state)
{
	struct tb_clitest *f = *state;
	size_t len;
	uint8_t *before = ledger(f, &len);

	/* The dry run says what it would do and changes nothing. */
	assert_int_equal(T(f, "import", "timeoverflow", sample("timeoverflow"), "--dry-run"), 0);
	HAS(f->res.out, "would append 8 entries: 5 members added, 3 opening balances");
	HAS(f->res.err, "Transfers");
	same_ledger(f, before, len);
	free(before);

	assert_int_equal(T(f, "import", "timeoverflow", sample("timeoverflow")), 0);
	HAS(f->res.out, "appended 8 entries");
	/* Each member as the API shows one (`tally --json balance NAME`). */
	static const struct {
		const char *name;
		int minutes;
	} bal[] = {{"Ana García", 90},
		   {"Bob Smith", -60},
		   {"Dolores \"Lola\" Ruiz", -30},
		   {"Émile Roux", 0}};
	for (size_t i = 0; i < sizeof bal / sizeof bal[0]; i++) {
		char want[48];
		snprintf(want, sizeof want, "\"balance_minutes\":%d,", bal[i].minutes);
		assert_int_equal(T(f, "--json", "balance", bal[i].name), 0);
		HAS(f->res.out, want);
	}
	assert_int_equal(T(f, "--json", "balance"), 0);
	HAS(f->res.out, "\"sum_minutes\":0");
	assert_int_equal(T(f, "history", "ana garcía"), 0);
	HAS(f->res.out, "opening balance");

	/* A second run finds everything there: nothing written at all. */
	before = ledger(f, &len);
	assert_int_equal(T(f, "import", "timeoverflow",
			   sample("timeoverflow/Riverside_Users_2026-11-30.csv")),
			 0);
	HAS(f->res.out, "appended 0 entries");
	HAS(f->res.out, "5 rows were imported before");
	same_ledger(f, before, len);

	/* Bad lines: each named, nothing written. */
	assert_int_equal(T(f, "import", "timeoverflow", sample("bad")), 2);
	HAS(f->res.err, "Riverside_Users_bad.csv:3: the member number N 'x2' is not a number");
	HAS(f->res.err, "Riverside_Users_bad.csv:4: the balance '90.5'");
	HAS(f->res.err, "Riverside_Users_bad.csv:5: the balance '61' seconds is not whole minutes");
	HAS(f->res.err, "Riverside_Users_bad.csv:6: a quoted field is not closed");
	HAS(f->res.err, "nothing was imported");
	same_ledger(f, before, len);
	free(before);
	assert_int_equal(T(f, "verify"), 0);
	assert_true(tb_test_verify_agrees(f->data));
}

static void test_simple_csv(void **state)
{
	struct tb_clitest *f = *state;
	size_t len;
	uint8_t *before = ledger(f, &len);

	/* The exchanges need the members: alone, every name is a bad line. */
	assert_int_equal(T(f, "import", "csv", sample("exchanges.csv")), 2);
	HAS(f->res.err, "exchanges.csv:2: no member named 'Ana García' (the provider)");
	same_ledger(f, before, len);
	assert_int_equal(T(f, "import", "csv", sample("members.csv"), sample("exchanges.csv")), 0);
	HAS(f->res.out, "4 members added, 3 opening balances, 1 members who left, 4 exchanges");
	assert_int_equal(T(f, "history", "Bob Smith"), 0);
	HAS(f->res.out, "fixed the fence, again");
	assert_int_equal(T(f, "--json", "member", "list", "--all"), 0);
	/* Old Tom's member object (GET /api/v1/members?all=true). */
	char *tom = strstr(f->res.out, "\"name\":\"Old Tom\"");
	assert_non_null(tom);
	char *end = strchr(tom, '}');
	assert_non_null(end);
	*end = '\0';
	HAS(tom, "\"balance_minutes\":30,");
	HAS(tom, "\"active\":false");
	free(before);

	/* Again: nothing. */
	before = ledger(f, &len);
	assert_int_equal(T(f, "import", "csv", sample("members.csv"), sample("exchanges.csv")), 0);
	HAS(f->res.out, "appended 0 entries");
	same_ledger(f, before, len);

	assert_int_equal(T(f, "import", "csv", sample("bad/exchanges_bad.csv")), 2);
	HAS(f->res.err, "exchanges_bad.csv:3: the date '2026-13-01' is not YYYY-MM-DD");
	HAS(f->res.err, "exchanges_bad.csv:4: no member named 'Nobody'");
	HAS(f->res.err, "exchanges_bad.csv:5: minutes '0'");
	HAS(f->res.err, "exchanges_bad.csv:6: minutes 'abc'");
	same_ledger(f, before, len);
	free(before);

	/* A row the ledger refuses (a lookalike name) names its line. */
	char path[4400];
	snprintf(path, sizeof path, "%s/lookalike.csv", f->dir);
	const char *text = "name\nZoe\nB\xd0\xbe"
			   "b Smith\n";
	assert_int_equal(tb_test_write_file(path, text, strlen(text)), 0);
	before = ledger(f, &len);
	assert_int_equal(T(f, "import", "csv", path), 1);
	HAS(f->res.err, "lookalike.csv:3:");
	HAS(f->res.err, "ENAME");
	same_ledger(f, before, len);
	free(before);
	assert_int_equal(T(f, "verify"), 0);
	assert_true(tb_test_verify_agrees(f->data));
}

/* Members and their openings, n rows. */
static void write_big(const char *path, int n)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("name,opening_minutes\n", fp);
	for (int i = 0; i < n; i++)
		fprintf(fp, "member %05d,%d\n", i, (i % 7) * 30 - 90);
	fclose(fp);
}

/* How many of the first and last imported members the ledger has (0, 1 or
 * 2): a whole import gives 2, none 0, anything else is half an import. */
static int ends_held(struct tb_clitest *f, int rows)
{
	char last[32];
	int n = T(f, "balance", "member 00000") == 0;
	snprintf(last, sizeof last, "member %05d", rows - 1);
	return n + (T(f, "balance", last) == 0);
}

static void test_sigkill(void **state)
{
	struct tb_clitest *f = *state;
	char path[4400];
	const int rows = 1500;
	/* Moments to kill at, in ms after the start (the import of 3,000
	 * entries takes about a second on an idle machine). */
	static const long at_ms[] = {30, 150, 400, 900};

	snprintf(path, sizeof path, "%s/big.csv", f->dir);
	write_big(path, rows);
	for (size_t k = 0; k < sizeof at_ms / sizeof at_ms[0]; k++) {
		const char *argv[] = {tb_tally_bin(), "--data", f->data, "import",
				      "csv",	      path,	NULL};
		posix_spawn_file_actions_t fa;
		pid_t pid;
		int st;
		struct timespec ts = {at_ms[k] / 1000, (at_ms[k] % 1000) * 1000000L};
		int before = ends_held(f, rows), after;

		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
		assert_int_equal(
			posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
		posix_spawn_file_actions_destroy(&fa);
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		/* All of the import or none of it. */
		after = ends_held(f, rows);
		if (after == 1)
			fail_msg("kill at %ld ms left half an import", at_ms[k]);
		assert_int_equal(T(f, "verify"), 0);
		assert_int_equal(T(f, "--json", "balance", "community"), 0);
		if (after != before)
			break; /* done: the later kills would find nothing to do */
	}
	/* Whatever happened, the import completes and is then complete. */
	assert_int_equal(T(f, "import", "csv", path), 0);
	assert_int_equal(ends_held(f, rows), 2);
	assert_int_equal(T(f, "balance"), 0);
	HAS(f->res.out, "sum of all accounts: 0:00");
	assert_int_equal(T(f, "import", "csv", path), 0);
	HAS(f->res.out, "appended 0 entries");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timeoverflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_simple_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
