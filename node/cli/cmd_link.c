/*
 * cmd_link.c: `tally link add|list`, the trust lines of this community. A
 * trust line (a LINK entry of the own log) says how far another community may
 * go into debt to this one; it also lets this community's members pay that
 * community's members. `link list` puts each clearing account of the own log
 * next to its mirror in the other community's log, when that log is held.
 * The ledger rules (store/xrules.c) decide; this file only asks and shows.
 */
#include "cli.h"
#include "tb_ops.h"

#include <getopt.h>
#include <string.h>

int tb_cmd_link_add(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"limit", required_argument, 0, 'l'},
					     {"limit-minutes", required_argument, 0, 'm'},
					     {0, 0, 0, 0}};
	int64_t limit = -1;
	int c, err;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "link", "add")) != -1) {
		if (c != 'l' && c != 'm')
			return TB_EXIT_USAGE;
		if (limit >= 0)
			return tb_cli_fail(TB_EXIT_USAGE,
					   "give either --limit or --limit-minutes, once");
		err = c == 'm' ? tb_parse_minutes(optarg, &limit) : tb_parse_hours(optarg, &limit);
		if (err == TB_EAMOUNT)
			return tb_cli_fail(TB_EXIT_USAGE,
					   "--limit %s is not a whole number of minutes", optarg);
		if (err)
			return tb_cli_fail(TB_EXIT_USAGE,
					   "--%s: '%s' is not a number of %s (at most %d hours)",
					   c == 'm' ? "limit-minutes" : "limit", optarg,
					   c == 'm' ? "minutes" : "hours", TB_LIMIT_MAX / 60);
	}
	if (argc - optind != 1 || limit < 0)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"usage: tally link add COMMUNITY (--limit HOURS | --limit-minutes N)");
	if (limit > TB_LIMIT_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "a trust limit is at most %d hours",
				   TB_LIMIT_MAX / 60);
	int rc = tb_cli_open(cli, true);
	struct tb_cli_community o;
	if (rc || (rc = tb_cli_community(cli, argv[optind], &o)))
		return rc;
	if ((rc = tb_cli_node_key(cli)))
		return rc;
	struct tb_ops ops = {cli->store, cli->self, cli->data, &cli->node};
	struct tb_reject rej = {0};
	uint64_t seq;
	err = tb_op_link_add(&ops, o.id, limit, &seq, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	char hex[2 * TB_KEY_LEN + 1], s[12], h[32];
	tb_hex_encode(hex, o.id, TB_KEY_LEN);
	tb_cli_short_id(s, o.id);
	tb_out_hours(h, sizeof h, limit);
	if (cli->json) /* as POST /api/v1/links answers */
		return tb_cli_print_json(tb_vocab_link_added(o.id, o.name, limit, seq), 0,
					 "the trust line");
	printf("linked %s (%s): %s may owe us up to %s hours (entry %llu)\n", o.name,
	       o.held ? s : "log not held here yet", o.name, h + 1, (unsigned long long)seq);
	if (!o.held)
		printf("note: its name shows once tallyd has synced with community %s\n", hex);
	return TB_EXIT_OK;
}

struct list_ctx {
	struct tb_cli *cli;
	size_t n;
	int err;
};

static int list_one(void *vctx, const struct tb_clearing *c)
{
	struct list_ctx *lc = vctx;
	struct tb_cli *cli = lc->cli;
	char name[TB_CLI_CNAME_MAX], s[12], hex[2 * TB_KEY_LEN + 1];
	tb_cli_community_name(cli, c->other, name, sizeof name);
	tb_cli_short_id(s, c->other);
	tb_hex_encode(hex, c->other, TB_KEY_LEN);
	/* The mirror: their clearing account for us, if their log is held. */
	struct tb_clearing t;
	int err = tb_store_clearing(cli->store, c->other, cli->self, &t);
	bool mirror = err == 0;
	if (err && err != TB_ENOTFOUND)
		return lc->err = err;
	bool their_link = mirror && t.linked;
	char lim[32] = "-", tlim[32] = "-", bal[32], held[32], tbal[32] = "-";
	if (c->linked) {
		tb_out_hours(lim, sizeof lim, (int64_t)c->limit);
		memmove(lim, lim + 1, strlen(lim));
	}
	if (their_link) {
		tb_out_hours(tlim, sizeof tlim, (int64_t)t.limit);
		memmove(tlim, tlim + 1, strlen(tlim));
	}
	tb_out_hours(bal, sizeof bal, c->balance);
	tb_out_hours(held, sizeof held, c->held);
	if (mirror)
		tb_out_hours(tbal, sizeof tbal, t.balance);
	printf("  %-20s %-11s %9s %9s %9s %9s %9s %9llu\n", name, s, lim, tlim, bal, held, tbal,
	       (unsigned long long)c->exchanges);
	lc->n++;
	return 0;
}

int tb_cmd_link_list(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "link", "list") != -1)
		return TB_EXIT_USAGE;
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "link list: unexpected argument '%s'",
				   argv[optind]);
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/links */
		struct tb_json *o = tb_vocab_links(cli->store, cli->self, &err);
		return tb_cli_print_json(o, err, "the trust lines");
	}
	struct list_ctx lc = {cli, 0, 0};
	printf("  %-20s %-11s %9s %9s %9s %9s %9s %9s\n", "community", "id", "may owe us",
	       "we may owe", "clearing", "held", "mirror", "exchanges");
	err = tb_store_foreach_clearing(cli->store, cli->self, list_one, &lc);
	if ((err && err != TB_ENOTFOUND) || lc.err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the clearing accounts: %s",
				   tb_strerror(lc.err ? lc.err : err));
	if (!lc.n)
		printf("  (no trust lines: 'tally link add COMMUNITY --limit HOURS')\n");
	else
		printf("clearing: + we owe them, - they owe us; mirror: their account for us (the "
		       "negation of ours once nothing is in flight; - if their log is not held)\n");
	return TB_EXIT_OK;
}
