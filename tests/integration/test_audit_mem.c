/*
 * test_audit_mem.c: the peak resident memory of `tally audit` does not grow
 * with the history (docs/AUDIT.md, "What the audit costs"). Two exports of
 * one community (genesis, members, attested exchanges), of SMALL and LARGE
 * entries, are written to files and each audited by the real tally binary
 * in a child process; its peak resident memory is the child's ru_maxrss
 * from wait4 (its heap and every page of the scratch store it mapped).
 *
 * The auditor keeps the scratch store's pages while its resident memory is
 * under 32 MiB, and past that lets go of them after each transaction of 128
 * entries: its peak is that budget plus what one transaction touches. The
 * budget is reached only past about 100,000 entries, too many for a test,
 * so each export is also audited with the test hook TALLY_AUDIT_KEEP_MIB=0
 * (let go after every transaction): those peaks must stay under
 * PEAK_MAX_MIB and the larger must not pass the smaller by more than
 * GROWTH_MAX_MIB, so what a transaction touches does not grow with the
 * history. With the default, the peaks must stay under the bound,
 * BOUND_MIB. Figures: before the final pass read in bounded steps, the
 * larger peak was 19 to 21 MiB above the smaller; with the scratch store
 * opened again every 4 batches, 2.8 MiB (15.9 and 18.7 MiB); with the lean
 * scratch state, 12.2 and 12.1 MiB; letting go after every transaction of
 * 128, 11.8 and 11.9 MiB.
 *
 * Skipped under AddressSanitizer: its shadow memory and quarantine make
 * resident memory say nothing about the auditor's own. The hook's half is
 * skipped in a build without test hooks.
 */
#include "runproc.h"
#include "tb_testhooks.h"
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define SMALL 16000
#define LARGE 64000
#define MEMBERS 200
#define PEAK_MAX_MIB 32
#define GROWTH_MAX_MIB 2
#define BOUND_MIB 64

/* Writes the export of one community's log of n entries to path: genesis,
 * MEMBERS members, then attested exchanges between them. */
static void write_export(const char *path, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	uint8_t hdr[9], ih[5], rec[TB_ENTRY_MAX];
	tb_export_header(hdr);
	assert_int_equal(fwrite(hdr, 1, sizeof hdr, f), sizeof hdr);
	struct tb_test_log l;
	tb_test_log_init(&l, 0);
	for (size_t i = 0; i < n; i++) {
		size_t len;
		if (i == 0) {
			struct tb_genesis g;
			tb_test_genesis(&g, "Steady Hill Time Bank", -TB_LIMIT_MAX, 0);
			len = tb_test_seal(&l, rec, TB_KIND_GENESIS, &g);
		} else if (i <= MEMBERS) {
			struct tb_keypair mk;
			struct tb_member_join j;
			char name[32];
			snprintf(name, sizeof name, "member-%03zu", i);
			tb_test_keypair(&mk, 1000 + (uint32_t)i);
			tb_test_join(&j, (uint32_t)i, name, &mk, -TB_LIMIT_MAX, 0);
			len = tb_test_seal(&l, rec, TB_KIND_MEMBER_JOIN, &j);
		} else {
			struct tb_test_exchange tx;
			uint32_t p = 1 + (uint32_t)(i % MEMBERS),
				 r = 1 + (uint32_t)((i * 7 + 3) % MEMBERS);
			if (r == p)
				r = 1 + p % MEMBERS;
			tb_test_exchange(&tx, l.kp.pk.b, i, p, r, 30 + i % 90, NULL, NULL);
			len = tb_test_seal(&l, rec, TB_KIND_EXCHANGE, &tx.x);
		}
		tb_export_item_header(ih, TB_EXPORT_ENTRY, (uint32_t)len);
		assert_int_equal(fwrite(ih, 1, sizeof ih, f), sizeof ih);
		assert_int_equal(fwrite(rec, 1, len, f), len);
	}
	uint8_t end[8];
	tb_export_item_header(ih, TB_EXPORT_END, sizeof end);
	tb_be64_put(end, n);
	assert_int_equal(fwrite(ih, 1, sizeof ih, f), sizeof ih);
	assert_int_equal(fwrite(end, 1, sizeof end, f), sizeof end);
	assert_int_equal(fclose(f), 0);
	tb_keypair_wipe(&l.kp);
}

/* Audits the file with tally (its scratch store under tmp), with
 * TALLY_AUDIT_KEEP_MIB set to keep unless NULL; its exit code must be 0.
 * Returns its peak resident memory in MiB. */
static double audit_peak(const char *file, const char *tmp, const char *keep)
{
	char out[4200];
	snprintf(out, sizeof out, "%s/audit.out", tmp);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *o = freopen(out, "w", stdout);
		if (!o || !freopen(out, "a", stderr) || setenv("TMPDIR", tmp, 1) ||
		    (keep && setenv("TALLY_AUDIT_KEEP_MIB", keep, 1)))
			_exit(126);
		execl(tb_tally_bin(), "tally", "audit", file, (char *)NULL);
		_exit(127);
	}
	int status;
	struct rusage ru;
	pid_t got;
	while ((got = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	assert_int_equal(got, pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		size_t len;
		uint8_t *text = tb_test_read_file(out, &len);
		print_message("tally audit failed (status %d):\n%.*s\n", status, (int)len,
			      text ? (const char *)text : "");
		free(text);
		fail();
	}
	return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

static void test_audit_memory_flat(void **state)
{
	(void)state;
	if (TB_TEST_SANITIZED)
		skip();
	char *dir = tb_test_scratchdir("audit-mem"), file[4200];
	double peak[2], each[2];
	const size_t n[2] = {SMALL, LARGE};
	bool hooks = tb_test_hooks();
	for (int k = 0; k < 2; k++) {
		snprintf(file, sizeof file, "%s/history.tally", dir);
		write_export(file, n[k]);
		peak[k] = audit_peak(file, dir, NULL);
		each[k] = hooks ? audit_peak(file, dir, "0") : 0;
		print_message("audit of %zu entries: peak resident memory %.1f MiB, letting go "
			      "after every transaction %.1f MiB\n",
			      n[k], peak[k], each[k]);
		assert_int_equal(unlink(file), 0);
	}
	tb_test_rmrf(dir);
	assert_true(peak[0] < BOUND_MIB);
	assert_true(peak[1] < BOUND_MIB);
	if (!hooks)
		return;
	assert_true(each[0] < PEAK_MAX_MIB);
	assert_true(each[1] < PEAK_MAX_MIB);
	assert_true(each[1] < each[0] + GROWTH_MAX_MIB);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_audit_memory_flat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
