/*
 * cmd_member_update.c: `tally member rename|limit|reinstate`, the coordinator's
 * changes to a member over time. Each appends one member_update entry that
 * states the member's name and limits in full (FORMAT.md, kind 12); the
 * ledger's rules decide (the name rule, reinstating only who left), and the
 * member keeps its number, balance and history.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>

/* Appends u for m (an open store) and prints what changed. */
static int update(struct tb_cli *cli, const struct tb_member *m, struct tb_member_update *u,
		  const char *what)
{
	struct tb_reject rej;
	uint64_t seq = 0;
	char fl[32], ce[32] = "none";
	int rc = tb_cli_node_key(cli);

	if (rc)
		return rc;
	int err = tb_store_append_own(cli->store, &cli->node, TB_KIND_MEMBER_UPDATE, u, &seq, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	tb_out_hours(fl, sizeof fl, u->floor);
	if (u->ceiling)
		tb_out_hours(ce, sizeof ce, (int64_t)u->ceiling);
	if (cli->json) {
		/* {"seq", "member": the member object after the change} */
		struct tb_member after;
		err = tb_store_member(cli->store, cli->self, m->no, &after);
		return tb_cli_print_json(err ? NULL : tb_vocab_member_change(seq, &after), err,
					 "the member");
	}
	printf("member %u %.*s %s (debt limit %s hours, ceiling %s)\n", m->no, (int)u->name.len,
	       (const char *)u->name.p, what, fl, ce);
	return TB_EXIT_OK;
}

/* Resolves the MEMBER argument; the body starts as the member is now. */
static int start(struct tb_cli *cli, const char *who, struct tb_member *m,
		 struct tb_member_update *u)
{
	int rc = tb_cli_open(cli, true);

	if (!rc)
		rc = tb_cli_member(cli, who, m);
	if (!rc && m->no == TB_COMMUNITY_ACCOUNT)
		rc = tb_cli_fail(TB_EXIT_USAGE,
				 "the community account has no name or limits to change");
	if (rc)
		return rc;
	memset(u, 0, sizeof *u);
	u->member = m->no;
	u->name = (struct tb_view){(const uint8_t *)m->name, strlen(m->name)};
	u->floor = m->floor;
	u->ceiling = m->ceiling;
	return 0;
}

int tb_cmd_member_rename(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	struct tb_member m;
	struct tb_member_update u;
	char name[TB_NAME_MAX + 1];
	int rc;

	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "member", "rename") != -1)
		return TB_EXIT_USAGE;
	if (argc - optind != 2)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally member rename MEMBER NEW-NAME");
	if ((rc = tb_cli_check_name(argv[optind + 1], "the new name")) ||
	    (rc = tb_cli_name_nfc(argv[optind + 1], name, "the new name")) ||
	    (rc = start(cli, argv[optind], &m, &u)))
		return rc;
	if (!m.active)
		return tb_cli_fail(
			TB_EXIT_REFUSED,
			"refused: member %s (#%u) has left; "
			"tally member reinstate '#%u' --name NEW-NAME brings them back (ELEFT)",
			m.name, m.no, m.no);
	u.name = (struct tb_view){(const uint8_t *)name, strlen(name)};
	return update(cli, &m, &u, "renamed");
}

static int hours_opt(const char *flag, const char *arg, int64_t *out)
{
	const char *p = arg[0] == '-' ? arg + 1 : arg;

	if (tb_parse_hours(p, out) && strspn(p, "0123456789.:") != strlen(p))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "%s: '%s' is not a number of hours (use 1.5 or 1:30)", flag,
				   arg);
	if (tb_parse_hours(p, out) || *out > TB_LIMIT_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "%s: '%s' is out of range (at most %d hours)",
				   flag, arg, TB_LIMIT_MAX / 60);
	return 0;
}

int tb_cmd_member_limit(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"debt-limit", required_argument, 0, 'd'},
					     {"ceiling", required_argument, 0, 'c'},
					     {"no-ceiling", no_argument, 0, 'n'},
					     {0, 0, 0, 0}};
	int64_t floor_min = -1, ceiling = -1;
	struct tb_member m;
	struct tb_member_update u;
	int c, rc;

	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "member", "limit")) != -1) {
		if (c == 'd' && (rc = hours_opt("--debt-limit", optarg, &floor_min)))
			return rc;
		if (c == 'c' && (rc = hours_opt("--ceiling", optarg, &ceiling)))
			return rc;
		if (c == 'n')
			ceiling = 0;
		if (c != 'd' && c != 'c' && c != 'n')
			return TB_EXIT_USAGE;
	}
	if (argc - optind != 1 || (floor_min < 0 && ceiling < 0))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "usage: tally member limit MEMBER [--debt-limit HOURS] "
				   "[--ceiling HOURS | --no-ceiling]");
	if ((rc = start(cli, argv[optind], &m, &u)))
		return rc;
	if (floor_min >= 0)
		u.floor = -floor_min;
	if (ceiling >= 0)
		u.ceiling = (uint64_t)ceiling;
	return update(cli, &m, &u, "has new limits");
}

int tb_cmd_member_reinstate(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, 0, 'n'}, {0, 0, 0, 0}};
	const char *newname = NULL;
	char name[TB_NAME_MAX + 1];
	struct tb_member m;
	struct tb_member_update u;
	int c, rc;

	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "member", "reinstate")) != -1) {
		if (c != 'n')
			return TB_EXIT_USAGE;
		newname = optarg;
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "usage: tally member reinstate MEMBER [--name NEW-NAME]");
	if (newname && ((rc = tb_cli_check_name(newname, "the new name")) ||
			(rc = tb_cli_name_nfc(newname, name, "the new name"))))
		return rc;
	if ((rc = start(cli, argv[optind], &m, &u)))
		return rc;
	if (newname)
		u.name = (struct tb_view){(const uint8_t *)name, strlen(name)};
	u.reinstate = 1;
	return update(cli, &m, &u, "is back");
}
