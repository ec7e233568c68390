/*
 * cmd_audit.c: `tally audit PATH... [--since CHECKPOINT] [--json]`, the
 * auditor: checks one or several communities' histories (data directories
 * and export files) with no trust in their producer and reports every
 * violation with its log, seq and rule. Exit 0 clean, 1 violations, 2 usage
 * or unreadable input.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct audit_out {
	struct tb_cli *cli;
	uint64_t shown;
};

static void on_violation(void *ctx, const struct tb_violation *v)
{
	struct audit_out *o = ctx;
	if (o->cli->json) {
		if (o->shown)
			printf(",");
		tb_out_violation_json(&v->r, v->item);
	} else {
		char id[2 * TB_KEY_LEN + 1];
		tb_hex_encode(id, v->r.log_id, TB_KEY_LEN);
		printf("VIOLATION log %.16s... seq %llu", id, (unsigned long long)v->r.seq);
		if (v->item)
			printf(" (item %llu)", (unsigned long long)v->item);
		printf(" [%s]: %s\n", tb_errname(v->r.err), v->r.msg);
	}
	o->shown++;
}

/* Adds a data directory (its ledger/ or itself) or an export file. */
static int add_source(struct tb_audit *a, const char *path)
{
	struct stat st;
	char ledger[4200];
	int err;
	if (stat(path, &st))
		return tb_cli_fail(TB_EXIT_USAGE, "cannot read %s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode)) {
		snprintf(ledger, sizeof ledger, "%s/ledger", path);
		if (stat(ledger, &st) || !S_ISDIR(st.st_mode))
			snprintf(ledger, sizeof ledger, "%s", path);
		err = tb_audit_add_dir(a, ledger);
	} else {
		/* An export of any size is read as a stream. */
		int fd;
		uint64_t size;
		err = tb_file_open_read(path, UINT64_MAX, &fd, &size);
		if (!err) {
			err = tb_audit_add_export_stream(a, tb_cli_fd_read, &fd);
			close(fd);
		}
	}
	if (err)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "%s is not readable as a Tally ledger or export: %s", path,
				   tb_strerror(err));
	return 0;
}

static const char *kept_text(int kept_held)
{
	return kept_held > 0	? "the branch audited here"
	       : kept_held == 0 ? "not the branch audited here, which was dropped"
				: "a branch not audited here";
}

/* The forks explained by a succession: a fork, and where the community went. */
static void print_stories(const struct tb_audit_summary *s)
{
	size_t n = s->succeeded < TB_AUDIT_STORIES ? (size_t)s->succeeded : TB_AUDIT_STORIES;
	for (size_t i = 0; i < n; i++) {
		const struct tb_audit_story *st = &s->stories[i];
		char old[2 * TB_KEY_LEN + 1], new[2 * TB_KEY_LEN + 1];
		tb_hex_encode(old, st->s.old_log, TB_KEY_LEN);
		tb_hex_encode(new, st->s.new_log, TB_KEY_LEN);
		printf("FORK log %.16s... forked at seq %llu (two histories signed by its key); its "
		       "community continues in log %.16s..., whose succession keeps the old log's "
		       "first %llu entries: %s\n",
		       old, (unsigned long long)st->s.fork_seq, new,
		       (unsigned long long)st->s.kept_seq, kept_text(st->kept_held));
	}
}

/* The summary after the violations: the JSON object's end (the API's
 * audit object but "ran" and "took_ms"), or one line. */
static void print_summary(struct tb_cli *cli, int rc, const struct tb_audit_summary *sp)
{
	const struct tb_audit_summary s = *sp;
	if (cli->json) {
		printf("],\"clean\":%s,\"summary\":", !rc && !s.violations ? "true" : "false");
		tb_out_json_inner(tb_vocab_audit_summary(&s));
		printf(",\"successions\":");
		tb_out_json_inner(tb_vocab_successions(&s));
		printf("}\n");
	} else if (!rc) {
		print_stories(&s);
		char h[32];
		tb_out_hours(h, sizeof h, (int64_t)s.minutes);
		printf("%s: %llu logs, %llu entries, %llu members, %llu exchanges (%s hours), "
		       "%llu reversals, %llu checkpoints, %llu violations\n",
		       s.violations ? "FAILED" : "clean", (unsigned long long)s.logs,
		       (unsigned long long)s.entries, (unsigned long long)s.members,
		       (unsigned long long)s.exchanges, h + 1, (unsigned long long)s.reversals,
		       (unsigned long long)s.checkpoints, (unsigned long long)s.violations);
		if (s.legs_in_flight || s.legs_unmatched)
			printf("cross-community: %llu exchanges in flight (decided, final leg not held "
			       "yet), %llu legs whose other community's log was not given\n",
			       (unsigned long long)s.legs_in_flight,
			       (unsigned long long)s.legs_unmatched);
	}
}

int tb_cmd_audit(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"since", required_argument, 0, 's'},
					     {"threads", required_argument, 0, 't'},
					     {0, 0, 0, 0}};
	const char *since = NULL;
	uint64_t threads = 0;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "audit")) != -1) {
		if (c == 's')
			since = optarg;
		else if (c == 't' && !tb_parse_u64(optarg, &threads) && threads <= 64)
			continue;
		else
			return TB_EXIT_USAGE;
	}
	if (optind == argc)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"usage: tally audit PATH... [--since CHECKPOINT_FILE] (data directories or export files)");
	struct audit_out o = {cli, 0};
	struct tb_audit *a;
	int err = tb_audit_new(&a, getenv("TMPDIR"), on_violation, &o);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot start the audit: %s", tb_strerror(err));
	tb_audit_set_threads(a, (unsigned)threads);
	/* Export files only, or one source: the scratch state needs no
	 * statement lines. */
	bool dirs = false;
	struct stat st;
	for (int i = optind; i < argc; i++)
		dirs |= !stat(argv[i], &st) && S_ISDIR(st.st_mode);
	if (!dirs || argc - optind == 1)
		tb_audit_set_lean(a);
	if (cli->json)
		printf("{\"violations\":[");
	int rc = TB_EXIT_OK;
	for (int i = optind; i < argc && !rc; i++)
		rc = add_source(a, argv[i]);
	if (!rc && since) {
		uint8_t cp[TB_CHECKPOINT_MAX];
		size_t len;
		if ((rc = tb_cli_read_small(since, cp, sizeof cp, &len)) == 0)
			err = tb_audit_since(a, cp, len); /* a failure is reported as a violation */
	}
	struct tb_audit_summary s = {0};
	if (!rc && (err = tb_audit_finish(a, &s)))
		rc = tb_cli_fail(TB_EXIT_IO, "the audit could not finish: %s", tb_strerror(err));
	tb_audit_free(a);
	cli->json_report = true;
	print_summary(cli, rc, &s);
	if (rc)
		return rc;
	return s.violations ? TB_EXIT_REFUSED : TB_EXIT_OK;
}
