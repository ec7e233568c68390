/*
 * test_node_ops.c: operating a node when things go wrong, with real
 * processes: a second tallyd on one data directory is refused and `tally
 * peer list` tells a running daemon from a stopped one; `tally verify`
 * reports a forked log; a full disk and a read-only directory are named as
 * such (on a small tmpfs in a private mount namespace when mounting is
 * allowed, else by a file size limit and a directory of another user); a
 * failed or killed `tally init` leaves nothing that stops the next one; a
 * killed `tally exchange confirm` leaves the exchange and its proposal both
 * done or both not;
 * `tallyd --check-config` names a bad line, and a node runs from its
 * configuration file alone; log lines carry an ISO 8601 date and time.
 */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agree.h"
#include "fed.h"
#include "httpc.h"

static struct tb_proc_result res;

static int tally(const char *data, const char *const *args)
{
	const char *argv[40];
	int n = 0;
	argv[n++] = tb_tally_bin();
	argv[n++] = "--data";
	argv[n++] = data;
	for (size_t i = 0; args[i] && n < 39; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(tb_run(&res, argv), 0);
	return res.code;
}
#define T(d, ...) tally(d, (const char *const[]){__VA_ARGS__, NULL})

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("expected '%s' in: %s", needle, hay);
}

static bool exists(const char *dir, const char *name)
{
	char p[4400];
	struct stat st;
	snprintf(p, sizeof p, "%.4200s/%.64s", dir, name);
	return lstat(p, &st) == 0;
}

/* One tallyd per data directory; peer list sees whether it runs. */
static void test_one_daemon(void **state)
{
	(void)state;
	struct tb_fed *f = tb_fed_new("ops-lock", 1);
	tb_fed_start(f, 0);
	char listen[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%u", tb_fed_free_port());
	const char *argv[] = {tb_tallyd_bin(), "--data", f->node[0].data, "--listen", listen, NULL};
	assert_int_equal(tb_run(&res, argv), 0);
	assert_int_equal(res.code, 3);
	contains(res.err, "another tallyd (pid");
	contains(res.err, "is running on");

	assert_int_equal(TB_FED_TALLY(f, 0, "peer", "list"), 0);
	contains(f->res.out, "tallyd is running (pid");
	/* Log lines carry the date and time, ISO 8601 in UTC. */
	char *tail = tb_fed_log_tail(f, 0, 4096);
	char *line = strstr(tail, "tallyd[");
	assert_non_null(line);
	assert_true(line - tail >= 25);
	const char *stamp = line - 25; /* "2026-12-01T23:50:01.123Z " */
	int y, mo, d, h, mi, sec, ms;
	assert_int_equal(
		sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ ", &y, &mo, &d, &h, &mi, &sec, &ms), 7);
	assert_true(y >= 2024 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
	free(tail);
	assert_int_equal(TB_FED_TALLY(f, 0, "--json", "peer", "list"), 0);
	contains(f->res.out, "\"daemon_running\":true");
	tb_fed_kill(f, 0); /* the status file stays behind */
	assert_int_equal(TB_FED_TALLY(f, 0, "peer", "list"), 0);
	contains(f->res.out, "tallyd is not running");
	assert_int_equal(TB_FED_TALLY(f, 0, "--json", "peer", "list"), 0);
	contains(f->res.out, "\"daemon_running\":false");
	/* The lock died with its process: a new daemon starts. */
	tb_fed_start(f, 0);
	tb_fed_stop(f, 0);
	tb_fed_free(f);
}

/* verify says what audit says of a frozen log: a violation. */
static void test_verify_forked(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("ops-fork");
	char data[4200], ledger[4300];
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(ledger, sizeof ledger, "%s/ledger", data);
	setenv("TALLY_PASSPHRASE", "pw", 1);
	assert_int_equal(T(data, "init", "--name", "Home"), 0);
	assert_int_equal(T(data, "verify"), 0);

	/* A neighbour's log whose key signed two different geneses. */
	struct tb_test_log l;
	tb_test_log_init(&l, 7);
	struct tb_genesis g1, g2;
	tb_test_genesis(&g1, "Twin", -600, 0);
	tb_test_genesis(&g2, "Twin B", -600, 0);
	uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX];
	size_t alen = tb_test_seal_next(&l, a, TB_KIND_GENESIS, &g1);
	size_t blen = tb_test_seal_next(&l, b, TB_KIND_GENESIS, &g2);
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, ledger, 0), 0);
	struct tb_view v = {a, alen};
	size_t acc;
	assert_int_equal(tb_store_append(s, &v, 1, &acc, NULL), 0);
	assert_int_equal(tb_store_fork_add(s, a, alen, b, blen), 1);
	tb_store_free(s);

	assert_int_equal(T(data, "verify"), 1);
	contains(res.out, "FAILED");
	contains(res.out, "EFORKED");
	assert_int_equal(T(data, "--json", "verify"), 1);
	contains(res.out, "\"code\":\"EFORKED\"");
	assert_false(tb_test_verify_agrees(data));
	tb_test_rmrf(dir);
}

/* A failed init makes nothing; a killed one is cleaned by the next. */
static void test_init_failures(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("ops-init");
	char data[4200];
	snprintf(data, sizeof data, "%s/data", dir);
	setenv("TALLY_PASSPHRASE", "pw", 1);
	assert_int_equal(T(data, "init", "--name", "X", "--federation", "/nonexistent/fed"), 2);
	contains(res.err, "no federation key file");
	assert_false(exists(dir, "data"));
	setenv("TALLY_PASSPHRASE", "", 1);
	assert_int_equal(T(data, "init", "--name", "X"), 2);
	assert_false(exists(dir, "data"));
	setenv("TALLY_PASSPHRASE", "pw", 1);

	static const char *const points[] = {"init-key", "init-ledger", "moving-in"};
	for (size_t i = 0; i < 3; i++) {
		setenv("TALLY_CRASH_AT", points[i], 1);
		assert_int_equal(T(data, "init", "--name", "X"), 128 + SIGKILL);
		unsetenv("TALLY_CRASH_AT");
		assert_false(exists(data, "ledger"));
		assert_int_equal(T(data, "balance"), 2);
		contains(res.err, "is not a Tally data directory");
		assert_int_equal(T(data, "init", "--name", "X"), 0);
		contains(res.err, "removed what an interrupted");
		assert_int_equal(T(data, "verify"), 0);
		assert_false(exists(data, ".init-tmp"));
		assert_false(exists(data, ".init-incomplete"));
		assert_int_equal(T(data, "init", "--name", "X"), 2);
		contains(res.err, "already holds a ledger");
		tb_test_rmrf(strdup(data));
	}
	tb_test_rmrf(dir);
}

/* exchange confirm keeps the entry and drops the proposal in one
 * transaction: killed before it nothing changed and the proposal can still
 * be confirmed; killed right after it both are done (before, a kill between
 * the two left the entry recorded and the proposal still pending). */
static void test_confirm_crash(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("ops-confirm");
	char data[4200];
	snprintf(data, sizeof data, "%s/data", dir);
	setenv("TALLY_PASSPHRASE", "pw", 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "mp", 1);
	assert_int_equal(T(data, "init", "--name", "Crash"), 0);
	assert_int_equal(T(data, "member", "add", "a"), 0);
	assert_int_equal(T(data, "member", "add", "b"), 0);
	assert_int_equal(T(data, "exchange", "propose", "--provider", "a", "--receiver", "b",
			   "--minutes", "30", "--memo", "ladder"),
			 0);
	char txid[33];
	memcpy(txid, res.out, 32);
	txid[32] = '\0';

	setenv("TALLY_CRASH_AT", "exchange-signed", 1);
	assert_int_equal(T(data, "exchange", "confirm", txid), 128 + SIGKILL);
	unsetenv("TALLY_CRASH_AT");
	assert_int_equal(T(data, "exchange", "pending"), 0);
	contains(res.out, txid);
	assert_int_equal(T(data, "--json", "balance"), 0);
	assert_null(strstr(res.out, "\"balance_minutes\":30"));

	setenv("TALLY_CRASH_AT", "exchange-recorded", 1);
	assert_int_equal(T(data, "exchange", "confirm", txid), 128 + SIGKILL);
	unsetenv("TALLY_CRASH_AT");
	assert_int_equal(T(data, "exchange", "pending", "--json"), 0);
	assert_string_equal(res.out, "{\"pending\":[]}\n");
	assert_int_equal(T(data, "--json", "history", "a"), 0);
	contains(res.out, "ladder");
	assert_int_equal(T(data, "exchange", "confirm", txid), 1);
	contains(res.err, "already recorded");
	assert_int_equal(T(data, "verify"), 0);
	assert_true(tb_test_verify_agrees(data));
	tb_test_rmrf(dir);
}

/* Mounts a tmpfs of kib KiB at path in this process's own mount namespace;
 * false if this process may not. */
static bool private_tmpfs(const char *path, unsigned kib)
{
	static bool unshared;
	if (!unshared) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
			return false;
		unshared = true;
	}
	char opt[32];
	snprintf(opt, sizeof opt, "size=%uk", kib);
	if (mount("tmpfs", path, "tmpfs", 0, opt))
		return false;
	return true;
}

static void fill(const char *dir)
{
	char p[4400];
	snprintf(p, sizeof p, "%.4200s/filler", dir);
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	static char block[4096];
	while (fwrite(block, 1, sizeof block, fp) == sizeof block && fflush(fp) == 0)
		;
	fclose(fp);
}

static void record_until_full(const char *data)
{
	for (int i = 0; i < 2000; i++) {
		int rc = T(data, "exchange", "record", "--attest", "--provider", "a", "--receiver",
			   "b", "--minutes", "5", "--memo", "x");
		if (rc == 0)
			continue;
		assert_int_equal(rc, 3);
		contains(res.err, "disk full: cannot write");
		contains(res.err, "KiB more needed");
		contains(res.err, "EDISKFULL");
		return;
	}
	fail_msg("the disk never filled");
}

static void test_disk_full(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("ops-full");
	char mnt[4200], data[4300];
	snprintf(mnt, sizeof mnt, "%s/mnt", dir);
	snprintf(data, sizeof data, "%s/data", mnt);
	assert_int_equal(mkdir(mnt, 0700), 0);
	setenv("TALLY_PASSPHRASE", "pw", 1);
	bool tmpfs = private_tmpfs(mnt, 512);
	assert_int_equal(T(data, "init", "--name", "Full"), 0);
	setenv("TALLY_MEMBER_PASSPHRASE", "mp", 1);
	assert_int_equal(T(data, "member", "add", "a"), 0);
	assert_int_equal(T(data, "member", "add", "b"), 0);
	if (tmpfs) {
		fill(mnt);
		record_until_full(data);
		char p[4300];
		snprintf(p, sizeof p, "%s/filler", mnt);
		unlink(p);
	} else {
		/* No mounting here: a file size limit fills the ledger instead. */
		struct stat st;
		char p[4400];
		snprintf(p, sizeof p, "%s/ledger/data.mdb", data);
		assert_int_equal(stat(p, &st), 0);
		struct rlimit old, rl;
		getrlimit(RLIMIT_FSIZE, &old);
		rl = old;
		rl.rlim_cur = (rlim_t)st.st_size + 8192;
		signal(SIGXFSZ, SIG_IGN);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
		record_until_full(data);
		assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	}
	/* Nothing stored was lost, and with room again writing goes on. */
	assert_int_equal(T(data, "verify"), 0);
	assert_true(tb_test_verify_agrees(data));
	assert_int_equal(T(data, "exchange", "record", "--attest", "--provider", "a", "--receiver",
			   "b", "--minutes", "5", "--memo", "x"),
			 0);
	if (tmpfs)
		umount2(mnt, MNT_DETACH);
	tb_test_rmrf(dir);
}

static void test_read_only(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("ops-ro");
	char mnt[4200], data[4300];
	snprintf(mnt, sizeof mnt, "%s/mnt", dir);
	snprintf(data, sizeof data, "%s/data", mnt);
	assert_int_equal(mkdir(mnt, 0700), 0);
	setenv("TALLY_PASSPHRASE", "pw", 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "mp", 1);
	bool tmpfs = private_tmpfs(mnt, 4096);
	assert_int_equal(T(data, "init", "--name", "Ro"), 0);
	bool ro = tmpfs && !mount(NULL, mnt, NULL, MS_REMOUNT | MS_RDONLY, NULL);
	if (!ro && geteuid() == 0) {
		if (tmpfs)
			umount2(mnt, MNT_DETACH);
		tb_test_rmrf(dir);
		skip(); /* root ignores modes, and no read-only mount could be made */
	}
	if (!ro)
		assert_int_equal(chmod(data, 0500) | chmod(mnt, 0500), 0);
	assert_int_equal(T(data, "member", "add", "a"), 3);
	contains(res.err, "permission denied: ");
	contains(res.err, "EPERM");
	char listen[64];
	snprintf(listen, sizeof listen, "127.0.0.1:%u", tb_fed_free_port());
	const char *argv[] = {tb_tallyd_bin(), "--data", data, "--listen", listen, NULL};
	assert_int_equal(tb_run(&res, argv), 0);
	assert_int_equal(res.code, 3);
	contains(res.err, "permission denied");
	if (ro)
		umount2(mnt, MNT_DETACH);
	else
		assert_int_equal(chmod(data, 0700) | chmod(mnt, 0700), 0);
	tb_test_rmrf(dir);
}

static int check_config(const char *file, const char *text)
{
	assert_int_equal(tb_test_write_file(file, text, strlen(text)), 0);
	const char *argv[] = {tb_tallyd_bin(), "--config", file, "--check-config", NULL};
	assert_int_equal(tb_run(&res, argv), 0);
	return res.code;
}

/* tallyd --check-config names the bad line; a good file starts a node. */
static void test_config(void **state)
{
	(void)state;
	struct tb_fed *f = tb_fed_new("ops-conf", 1);
	char file[TB_FED_PATH + 32], text[4 * TB_FED_PATH];
	snprintf(file, sizeof file, "%s/tallyd.conf", f->root);
	assert_int_equal(check_config(file, "# comment\ndata = /x\n[tallyd]\nlisten = 127.0.0.1:1\n"
					    "log-level = loud\n"),
			 2);
	contains(res.err, "line 5: log-level: 'loud' is not a valid LEVEL");
	assert_int_equal(check_config(file, "data = /x\nbogus = 1\n"), 2);
	contains(res.err, "line 2: unknown key 'bogus'");
	assert_int_equal(check_config(file, "data = /x\n[web]\nlisten = 127.0.0.1:1\n"), 2);
	contains(res.err, "line 3: unknown section [web]");
	assert_int_equal(check_config(file, "; ok\nlisten\n"), 2);
	contains(res.err, "line 2:");
	assert_int_equal(check_config(file, "peer = 127.0.0.1:99999\n"), 2);
	contains(res.err, "line 1: peer:");
	assert_int_equal(check_config(file, "restore-wait = -1\n"), 2);
	contains(res.err, "line 1: restore-wait:");
	/* Read by the bounded reader: a NUL byte, a directory, no file. */
	assert_int_equal(tb_test_write_file(file, "data = /x\n\0bogus = 1\n", 21), 0);
	const char *nul[] = {tb_tallyd_bin(), "--config", file, "--check-config", NULL};
	assert_int_equal(tb_run(&res, nul), 0);
	assert_int_equal(res.code, 2);
	contains(res.err, "holds a NUL byte");
	const char *dir[] = {tb_tallyd_bin(), "--config", f->root, "--check-config", NULL};
	assert_int_equal(tb_run(&res, dir), 0);
	assert_int_equal(res.code, 2);
	contains(res.err, f->root);

	/* Every setting as a key: the node runs from the file alone. */
	uint16_t port = f->node[0].port;
	snprintf(text, sizeof text,
		 "[tallyd]\ndata = %s\nlisten = 127.0.0.1:%u\nlog-level = debug\n"
		 "peer = 127.0.0.1:%u\nrestore-wait = 5\npassphrase-file = %s/pass\n",
		 f->node[0].data, port, tb_fed_free_port(), f->root);
	assert_int_equal(check_config(file, text), 0);
	contains(res.out, "ok (6 settings)");
	char pass[TB_FED_PATH + 16];
	snprintf(pass, sizeof pass, "%s/pass", f->root);
	assert_int_equal(tb_test_write_file(pass, TB_FED_PASS "\n", strlen(TB_FED_PASS) + 1), 0);
	const char *extra[] = {"--config", file, NULL};
	tb_fed_start_args(f, 0, extra);
	tb_fed_stop(f, 0);
	tb_fed_free(f);
}

/* /healthz and /metrics on the HTTP listener. */
static void test_health_metrics(void **state)
{
	(void)state;
	struct tb_fed *f = tb_fed_new("ops-health", 2);
	uint16_t http = tb_fed_free_port();
	char arg[32];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", http);
	const char *extra[] = {"--http", arg, NULL};
	tb_fed_link(f, 0, 1);
	tb_fed_start(f, 1);
	tb_fed_start_args(f, 0, extra);
	tb_fed_wait_log_line(f, 0, "console and API on", NULL, 10000);
	tb_fed_record(f, 0);
	tb_fed_wait_has(f, 1, 0, 20000);

	struct tb_httpc_resp r;
	(void)tb_httpc(http, "GET", "/healthz", NULL, false, NULL, &r);
	assert_int_equal(r.status, 200);
	contains(r.body, "{\"status\":\"ok\",\"reasons\":[]}");
	tb_httpc_free(&r);

	(void)tb_httpc(http, "GET", "/metrics", NULL, false, NULL, &r);
	assert_int_equal(r.status, 200);
	contains(r.head, "text/plain; version=0.0.4");
	char own[17], want[80];
	tb_hex_encode(own, f->node[0].id, 8);
	snprintf(want, sizeof want, "tally_log_entries{log=\"%s\",own=\"1\"} %llu\n", own,
		 (unsigned long long)tb_fed_own_seq(f, 0));
	contains(r.body, want);
	contains(r.body, "tally_peers_connected 1\n");
	contains(r.body, "tally_peer_lag_entries{peer=");
	contains(r.body, "tally_exchanges_in_flight 0\n");
	contains(r.body, "# TYPE tally_commit_seconds histogram\n");
	contains(r.body, "tally_commit_seconds_bucket{le=\"+Inf\"} ");
	contains(r.body, "tally_http_requests_total{code=\"2xx\"} ");
	contains(r.body, "tally_process_resident_bytes ");
	tb_httpc_free(&r);

	/* A forked log makes the node degraded, with the reason. */
	struct tb_test_log l;
	tb_test_log_init(&l, 9);
	struct tb_genesis g1, g2;
	tb_test_genesis(&g1, "Twin", -600, 0);
	tb_test_genesis(&g2, "Twin B", -600, 0);
	uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX];
	size_t alen = tb_test_seal_next(&l, a, TB_KIND_GENESIS, &g1);
	size_t blen = tb_test_seal_next(&l, b, TB_KIND_GENESIS, &g2);
	char ledger[TB_FED_PATH + 32];
	snprintf(ledger, sizeof ledger, "%s/ledger", f->node[0].data);
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, ledger, 0), 0);
	assert_int_equal(tb_store_fork_add(s, a, alen, b, blen), 1);
	tb_store_free(s);
	(void)tb_httpc(http, "GET", "/healthz", NULL, false, NULL, &r);
	assert_int_equal(r.status, 503);
	contains(r.body, "\"status\":\"degraded\"");
	contains(r.body, "forked log ");
	tb_httpc_free(&r);
	tb_fed_stop_all(f);
	tb_fed_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_daemon),     cmocka_unit_test(test_verify_forked),
		cmocka_unit_test(test_init_failures),  cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_read_only),      cmocka_unit_test(test_config),
		cmocka_unit_test(test_health_metrics), cmocka_unit_test(test_confirm_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
