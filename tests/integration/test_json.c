/*
 * test_json.c: `tally --json` prints one whole JSON document on stdout or
 * nothing, for every command. The commands come from `tally --help` (so a
 * new one is covered without editing this file); each runs with --json in
 * ways that fail (an unknown option, no arguments, an unknown member name,
 * an unknown transaction id, on a data directory with no ledger and on one
 * with a community). A failure must leave stdout empty, except for the
 * commands whose answer is a report whatever the outcome (verify, audit,
 * receipt verify, exchange send): then it holds exactly one JSON document.
 * A success must print one document too, except for the commands whose
 * output is a file's bytes (export, checkpoint and receipt without --out).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runproc.h"
#include "testutil.h"

#define CMDS_MAX 96

static struct tb_proc_result res;

/* The command names of `tally --help` ("member add", "init", ...). */
static size_t commands(char names[CMDS_MAX][40])
{
	const char *const args[] = {tb_tally_bin(), "--help", NULL};
	assert_int_equal(tb_run(&res, args), 0);
	const char *at = strstr(res.out, "Commands:\n");
	assert_non_null(at);
	at += strlen("Commands:\n");
	size_t n = 0;
	/* "  %-18s %s": the name fills 18 columns, or runs on to a space. */
	while (!strncmp(at, "  ", 2) && at[2] != ' ' && n < CMDS_MAX) {
		const char *end = at + 20;
		while (*end && *end != ' ' && *end != '\n')
			end++;
		size_t len = (size_t)(end - (at + 2));
		assert_true(len < 40);
		memcpy(names[n], at + 2, len);
		while (len && names[n][len - 1] == ' ')
			len--;
		names[n][len] = '\0';
		n++;
		at = strchr(at, '\n');
		assert_non_null(at);
		at++;
	}
	return n;
}

static bool one_document(const char *out)
{
	json_error_t e;
	json_t *v = json_loads(out, 0, &e);
	json_decref(v);
	return v != NULL;
}

static bool reports(const char *cmd)
{
	return !strcmp(cmd, "verify") || !strcmp(cmd, "audit") || !strcmp(cmd, "receipt verify") ||
	       !strcmp(cmd, "exchange send");
}

static bool bytes_out(const char *cmd)
{
	return !strcmp(cmd, "export") || !strcmp(cmd, "checkpoint") || !strcmp(cmd, "receipt");
}

/* Runs `tally --data data --json CMD extra...` and checks stdout. */
static void run(const char *data, const char *cmd, const char *extra, unsigned *fails)
{
	char words[40];
	const char *args[8];
	size_t n = 0;
	snprintf(words, sizeof words, "%s", cmd);
	args[n++] = "--json";
	char *space = strchr(words, ' ');
	if (space)
		*space = '\0';
	args[n++] = words;
	if (space)
		args[n++] = space + 1;
	if (extra)
		args[n++] = extra;
	args[n] = NULL;
	int code = tb_run_tally(&res, data, args);
	if (code < 0)
		fail_msg("tally --json %s %s died: %s", cmd, extra ? extra : "", res.err);
	if (code != 0)
		(*fails)++;
	if (code != 0 && res.out[0] && (!reports(cmd) || !one_document(res.out)))
		fail_msg("tally --json %s %s failed (exit %d) and printed '%s'", cmd,
			 extra ? extra : "", code, res.out);
	if (code == 0 && !bytes_out(cmd) && !one_document(res.out))
		fail_msg("tally --json %s %s printed what is not one JSON document: '%s'", cmd,
			 extra ? extra : "", res.out);
}

/* Every command but init; with a ledger (all) also with an unknown option,
 * an unknown name and an unknown txid. */
static void each_command(const char *data, bool all, unsigned *fails)
{
	static char names[CMDS_MAX][40];
	size_t n = commands(names);
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(names[i], "init"))
			continue; /* below, by itself */
		run(data, names[i], NULL, fails);
		if (!all)
			continue;
		run(data, names[i], "--no-such-option", fails);
		run(data, names[i], "nobody", fails);
		run(data, names[i], "0123456789abcdef0123456789abcdef", fails);
	}
}

static void test_every_command(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("json");
	char data[4200], empty[4200];
	unsigned fails = 0;
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(empty, sizeof empty, "%s/empty", dir);
	setenv("TALLY_PASSPHRASE", "correct horse", 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "member secret", 1);
	/* No ledger yet: everything but init fails. */
	each_command(empty, false, &fails);
	run(data, "init", NULL, &fails);
	run(data, "init", "--no-such-option", &fails);
	const char *const init[] = {"--json", "init", "--name", "Riverside", NULL};
	assert_int_equal(tb_run_tally(&res, data, init), 0);
	assert_true(one_document(res.out));
	run(data, "init", NULL, &fails);
	const char *const add[] = {"member", "add", "alice", "--keyless", NULL};
	assert_int_equal(tb_run_tally(&res, data, add), 0);
	each_command(data, true, &fails);
	/* The test must be able to fail: most of these runs were refusals. */
	assert_true(fails > 100);
	tb_test_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
