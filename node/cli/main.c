/*
 * main.c: the `tally` command line's entry point. It strips the global
 * options (which may stand anywhere), finds the command in the table of
 * commands.c, and runs it. It never touches the ledger itself. With --json
 * it holds the command's output and lets out one whole JSON document or
 * nothing (json_hold_*).
 */
#define _GNU_SOURCE /* memfd_create */
#include "cli.h"
#include "tb_testhooks.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: tally [--data DIR] [--json] [--passphrase-file FILE]\n"
	      "             [--member-passphrase-file FILE | --member-passphrase-dir DIR]\n"
	      "             COMMAND [ARGS]\n\n"
	      "A federated time bank ledger: every hour of help is worth the same.\n\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < tb_ncommands; i++) {
		const struct tb_cmd *c = &tb_commands[i];
		char name[64];
		snprintf(name, sizeof name, "%s%s%s", c->group ? c->group : "", c->group ? " " : "",
			 c->name);
		fprintf(f, "  %-18s %s\n", name, c->help);
	}
	fputs("\nGlobal options:\n"
	      "  --data DIR         data directory (default: $TALLY_DATA, else ~/.tally)\n"
	      "  --json             machine-readable output\n"
	      "  --passphrase-file FILE         passphrase of the community key\n"
	      "  --member-passphrase-file FILE  passphrase of members' keys\n"
	      "  --member-passphrase-dir DIR    one passphrase file per member: DIR/NAME (or DIR/#N)\n"
	      "Without a passphrase file, tally asks on the terminal, or else reads\n"
	      "TALLY_PASSPHRASE / TALLY_MEMBER_PASSPHRASE.\n\n"
	      "Exit codes: 0 ok, 1 refused by a ledger rule, 2 usage error, 3 storage or I/O error,\n"
	      "4 no outcome yet (exchange send).\n"
	      "'tally COMMAND --help' describes a command.\n",
	      f);
}

/* Takes a global option out of argv; returns 1 if argv[i] was one. */
static int take_global(struct tb_cli *cli, int *argc, char **argv, int i, int *err)
{
	static const char *const valued[] = {"--data", "--passphrase-file",
					     "--member-passphrase-file", "--member-passphrase-dir"};
	const char *a = argv[i];
	int used = 0;
	const char *val = NULL;
	if (!strcmp(a, "--json")) {
		cli->json = true;
		used = 1;
	}
	for (size_t k = 0; !used && k < sizeof valued / sizeof valued[0]; k++) {
		size_t n = strlen(valued[k]);
		if (!strncmp(a, valued[k], n) && a[n] == '=') {
			val = a + n + 1;
			used = 1;
		} else if (!strcmp(a, valued[k])) {
			if (i + 1 >= *argc) {
				*err = tb_cli_fail(TB_EXIT_USAGE, "%s needs a value", a);
				return 0;
			}
			val = argv[i + 1];
			used = 2;
		}
		if (used) {
			if (k == 0)
				snprintf(cli->data, sizeof cli->data, "%s", val);
			else if (k == 1)
				cli->pass_file = val;
			else if (k == 2)
				cli->member_pass_file = val;
			else
				cli->member_pass_dir = val;
		}
	}
	if (used) {
		memmove(argv + i, argv + i + used, sizeof *argv * (size_t)(*argc - i - used + 1));
		*argc -= used;
	}
	return used;
}

/*
 * With --json, stdout is one whole JSON document or nothing, for every
 * command: the command writes into a memory file standing in for stdout,
 * and at the end what it wrote goes out if the command succeeded, or if it
 * failed with a report (cli->json_report: verify's or audit's violations,
 * receipt verify's verdict, exchange send's state) that is one valid JSON
 * document. Anything else a failing command printed (a list that broke off
 * on a storage error) is dropped. A machine where no memory file can be
 * made gets the output unheld.
 */
static int json_hold_begin(void)
{
	int mem = memfd_create("tally-json", MFD_CLOEXEC), saved = -1;
	if (mem < 0)
		return -1;
	if (fflush(stdout) == 0 && (saved = dup(STDOUT_FILENO)) >= 0 &&
	    dup2(mem, STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	close(mem);
	return saved;
}

static int json_hold_end(int saved, int rc, bool report)
{
	off_t len = lseek(STDOUT_FILENO, 0, SEEK_END);
	char *buf = len > 0 ? malloc((size_t)len) : NULL;
	ssize_t got = buf ? pread(STDOUT_FILENO, buf, (size_t)len, 0) : 0;
	dup2(saved, STDOUT_FILENO);
	close(saved);
	if (len > 0 && (!buf || got != len)) {
		free(buf);
		return tb_cli_fail(TB_EXIT_IO, "cannot read back the output");
	}
	if (buf && (rc == TB_EXIT_OK || (report && tb_json_document(buf, (size_t)len)))) {
		for (ssize_t at = 0; at < got;) {
			ssize_t w = write(STDOUT_FILENO, buf + at, (size_t)(got - at));
			if (w <= 0) {
				free(buf);
				return rc ? rc : tb_cli_fail(TB_EXIT_IO, "cannot write the output");
			}
			at += w;
		}
	}
	free(buf);
	return rc;
}

/* argv[1] (and argv[2]) name no command: list a group's commands, or say
 * what is unknown. */
static int unknown_command(int argc, char **argv)
{
	bool group = false;
	for (size_t i = 0; i < tb_ncommands; i++)
		if (tb_commands[i].group && !strcmp(tb_commands[i].group, argv[1]))
			group = true;
	if (!group) {
		tb_cli_fail(TB_EXIT_USAGE, "unknown command '%s' (see 'tally --help')", argv[1]);
		return TB_EXIT_USAGE;
	}
	FILE *f = argc >= 3 && strcmp(argv[2], "--help") ? stderr : stdout;
	if (f == stderr)
		tb_cli_fail(TB_EXIT_USAGE, "unknown command '%s %s'", argv[1], argv[2]);
	fprintf(f, "'tally %s' commands:\n", argv[1]);
	for (size_t i = 0; i < tb_ncommands; i++)
		if (tb_commands[i].group && !strcmp(tb_commands[i].group, argv[1]))
			fprintf(f, "  %s\n", tb_commands[i].usage);
	return f == stdout && argc >= 3 ? TB_EXIT_OK : TB_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct tb_cli cli;
	memset(&cli, 0, sizeof cli);
	cli.prog = "tally";
	if (tb_crypto_init())
		return tb_cli_fail(TB_EXIT_IO, "cannot initialise libsodium");
	const char *env = getenv("TALLY_DATA"), *home = getenv("HOME");
	if (env && *env)
		snprintf(cli.data, sizeof cli.data, "%s", env);
	else
		snprintf(cli.data, sizeof cli.data, "%s/.tally", home ? home : ".");

	int err = 0;
	for (int i = 1; i < argc;) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!take_global(&cli, &argc, argv, i, &err)) {
			if (err)
				return err;
			i++;
		}
	}
	if (!cli.data[0])
		return tb_cli_fail(TB_EXIT_USAGE, "--data needs a directory");
	snprintf(cli.ledger, sizeof cli.ledger, "%s/ledger", cli.data);

	if (argc < 2) {
		usage(stderr);
		return TB_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return TB_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("tally %s%s\n", TB_VERSION,
		       tb_test_hooks()
			       ? " (test build: reads TALLY_TEST_CLOCK and the other test hooks)"
			       : "");
		return TB_EXIT_OK;
	}
	/* Group commands ("member add") first, then single words. */
	const struct tb_cmd *cmd = NULL;
	int shift = 1;
	if (argc >= 3)
		cmd = tb_cmd_find(argv[1], argv[2]);
	if (cmd) {
		shift = 2;
	} else {
		cmd = tb_cmd_find(NULL, argv[1]);
	}
	if (!cmd)
		return unknown_command(argc, argv);
	for (int i = 1 + shift; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return tb_cmd_help(cmd, stdout);
	}
	int held = cli.json ? json_hold_begin() : -1;
	int rc = cmd->run(&cli, argc - shift, argv + shift);
	tb_cli_close(&cli);
	if (fflush(stdout) != 0 && rc == 0)
		rc = tb_cli_fail(TB_EXIT_IO, "cannot write the output");
	if (held >= 0)
		rc = json_hold_end(held, rc, cli.json_report);
	return rc;
}
