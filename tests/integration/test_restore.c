/*
 * test_restore.c: backups that restore without forking, with real processes.
 * A node is backed up while tallyd runs, keeps working (its neighbour
 * receives the newer entries), and is restored from the backup: the
 * restored node refuses to sign, its tallyd takes the newer entries back
 * from the neighbour, and only then does it sign again; no node holds a fork
 * and nothing is lost. The same with no neighbour: refused until the operator
 * confirms --no-peers. A damaged backup is refused whole; SIGKILL during a
 * backup leaves no backup file, during a restore nothing the next restore
 * trips over.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agree.h"
#include "fed.h"

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected '%s' in: %s", needle, hay);
}

static void no_forks(struct tb_fed *f, size_t i)
{
	assert_int_equal(TB_FED_TALLY(f, i, "--json", "forks"), 0);
	if (strstr(f->res.out, "\"log\""))
		fail_msg("node %zu holds a fork: %s", i, f->res.out);
	assert_int_equal(TB_FED_TALLY(f, i, "verify"), 0);
	assert_true(tb_fed_agrees(f, i));
}

static int record(struct tb_fed *f, size_t i)
{
	return TB_FED_TALLY(f, i, "exchange", "record", "--attest", "--provider", "m1",
			    "--receiver", "m2", "--minutes", "15", "--memo", "after restore");
}

static void move_away(struct tb_fed *f, size_t i)
{
	char old[TB_FED_PATH + 40];
	snprintf(old, sizeof old, "%s.old", f->node[i].data);
	assert_int_equal(rename(f->node[i].data, old), 0);
}

/* Backup, keep working, restore, refused, sync, write: no fork anywhere. */
static void test_restore_with_neighbour(void **state)
{
	(void)state;
	struct tb_fed *f = tb_fed_new("restore", 2);
	tb_fed_link(f, 0, 1);
	tb_fed_start_all(f);
	tb_fed_record(f, 0);
	tb_fed_wait_has(f, 1, 0, 20000);
	char bk[TB_FED_PATH + 16];
	snprintf(bk, sizeof bk, "%s/a.backup", f->root);
	assert_int_equal(TB_FED_TALLY(f, 0, "backup", "--out", bk), 0);
	contains(f->res.out, "checked");
	uint64_t at_backup = tb_fed_own_seq(f, 0);

	tb_fed_record(f, 0);
	tb_fed_record(f, 0);
	uint64_t later = tb_fed_own_seq(f, 0);
	assert_true(later == at_backup + 2);
	tb_fed_wait_has(f, 1, 0, 20000);
	tb_fed_stop(f, 0);
	move_away(f, 0);

	assert_int_equal(TB_FED_TALLY(f, 0, "restore", bk), 0);
	contains(f->res.out, "signs nothing until tallyd has synced");
	assert_int_equal(tb_fed_own_seq(f, 0), at_backup);
	assert_int_equal(record(f, 0), 1);
	contains(f->res.err, "restored from a backup");
	contains(f->res.err, "ERESTORED");
	assert_int_equal(tb_fed_own_seq(f, 0), at_backup);

	tb_fed_start(f, 0);
	tb_fed_wait_log_line(f, 0, "restore synced", "signing again", 30000);
	assert_int_equal(tb_fed_own_seq(f, 0), later);
	assert_int_equal(record(f, 0), 0);
	tb_fed_wait_converged(f, NULL, 0, 30000);
	no_forks(f, 0);
	no_forks(f, 1);
	tb_fed_stop_all(f);
	tb_fed_free(f);
}

/* No neighbour: refused until --no-peers; or restored with --no-peers. */
static void test_restore_alone(void **state)
{
	(void)state;
	struct tb_fed *f = tb_fed_new("restore-alone", 1);
	char bk[TB_FED_PATH + 16];
	snprintf(bk, sizeof bk, "%s/a.backup", f->root);
	tb_fed_record(f, 0);
	assert_int_equal(TB_FED_TALLY(f, 0, "backup", "--out", bk), 0);
	uint64_t at_backup = tb_fed_own_seq(f, 0);
	tb_fed_record(f, 0); /* lost with the disk: no other node holds it */
	move_away(f, 0);

	assert_int_equal(TB_FED_TALLY(f, 0, "restore", bk), 0);
	assert_int_equal(record(f, 0), 1);
	contains(f->res.err, "ERESTORED");
	/* tallyd alone never lifts the mark: no peer answered. */
	tb_fed_start(f, 0);
	tb_fed_sleep_ms(1500);
	assert_false(tb_fed_log_has(f, 0, "restore synced", NULL));
	assert_int_equal(record(f, 0), 1);
	assert_int_equal(TB_FED_TALLY(f, 0, "restore", "--no-peers"), 0);
	contains(f->res.err, "warning: --no-peers");
	tb_fed_wait_log_line(f, 0, "restore confirmed without peers", NULL, 10000);
	assert_int_equal(record(f, 0), 0);
	assert_int_equal(tb_fed_own_seq(f, 0), at_backup + 1);
	tb_fed_stop(f, 0);
	no_forks(f, 0);

	/* Restoring with --no-peers straight away. */
	char old[TB_FED_PATH + 40];
	snprintf(old, sizeof old, "%s.old", f->node[0].data);
	tb_test_rmrf(strdup(old));
	move_away(f, 0);
	assert_int_equal(TB_FED_TALLY(f, 0, "restore", bk, "--no-peers"), 0);
	contains(f->res.err, "warning: --no-peers");
	assert_int_equal(record(f, 0), 0);
	no_forks(f, 0);
	/* A second restore into a directory holding a ledger is refused. */
	assert_int_equal(TB_FED_TALLY(f, 0, "restore", bk), 2);
	contains(f->res.err, "already holds a ledger");
	tb_fed_free(f);
}

/* Damaged backups are refused whole; kills leave nothing half made. */
static void test_backup_faults(void **state)
{
	(void)state;
	struct tb_fed *f = tb_fed_new("restore-faults", 1);
	char bk[TB_FED_PATH + 16], bad[TB_FED_PATH + 16];
	snprintf(bk, sizeof bk, "%s/a.backup", f->root);
	snprintf(bad, sizeof bad, "%s/bad.backup", f->root);
	struct stat st;

	static const char *const backup_points[] = {"backup-copy", "backup-written"};
	for (size_t i = 0; i < 2; i++) {
		setenv("TALLY_CRASH_AT", backup_points[i], 1);
		assert_int_equal(TB_FED_TALLY(f, 0, "backup", "--out", bk), 128 + SIGKILL);
		unsetenv("TALLY_CRASH_AT");
		assert_int_not_equal(stat(bk, &st), 0);
	}
	assert_int_equal(TB_FED_TALLY(f, 0, "backup", "--out", bk), 0);

	size_t len;
	uint8_t *p = tb_test_read_file(bk, &len);
	assert_non_null(p);
	p[len / 2] ^= 1;
	assert_int_equal(tb_test_write_file(bad, p, len), 0);
	move_away(f, 0);
	assert_int_equal(TB_FED_TALLY(f, 0, "restore", bad), 2);
	contains(f->res.err, "is not a complete Tally backup");
	assert_int_not_equal(stat(f->node[0].data, &st), 0);
	assert_int_equal(tb_test_write_file(bad, p, len - 10), 0);
	assert_int_equal(TB_FED_TALLY(f, 0, "restore", bad), 2);
	free(p);

	static const char *const restore_points[] = {"restore-extracted", "moving-in"};
	for (size_t i = 0; i < 2; i++) {
		setenv("TALLY_CRASH_AT", restore_points[i], 1);
		assert_int_equal(TB_FED_TALLY(f, 0, "restore", bk), 128 + SIGKILL);
		unsetenv("TALLY_CRASH_AT");
		assert_int_equal(TB_FED_TALLY(f, 0, "balance"), 2);
		contains(f->res.err, "is not a Tally data directory");
		assert_int_equal(TB_FED_TALLY(f, 0, "restore", bk, "--no-peers"), 0);
		contains(f->res.err, "removed what an interrupted");
		no_forks(f, 0);
		tb_test_rmrf(strdup(f->node[0].data));
	}
	tb_fed_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restore_with_neighbour),
		cmocka_unit_test(test_restore_alone),
		cmocka_unit_test(test_backup_faults),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	tb_fed_kill_all();
	return rc;
}
