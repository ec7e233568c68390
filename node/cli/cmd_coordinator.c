/*
 * cmd_coordinator.c: `tally coordinator add|list|set|remove`: the people who log
 * in to tallyd's web console, each with a role (viewer reads; coordinator
 * also records and confirms; admin also manages members, coordinators and
 * trust lines) and an Argon2id password hash. They live in a local table of
 * the store, never in a log, so adding one signs nothing and needs no key.
 * It never prints or keeps a password.
 */
#include "cli.h"
#include "tb_ops.h"

#include <getopt.h>
#include <string.h>
#include <time.h>

int tb_cmd_coordinator_add(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"role", required_argument, 0, 'r'},
					     {"password-file", required_argument, 0, 'p'},
					     {0, 0, 0, 0}};
	const char *pwfile = NULL;
	int role = TB_ROLE_COORDINATOR, c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "coordinator", "add")) != -1) {
		if (c == 'p') {
			pwfile = optarg;
		} else if (c == 'r') {
			if ((role = tb_role_parse(optarg)) < 0)
				return tb_cli_fail(
					TB_EXIT_USAGE,
					"--role is admin, coordinator or viewer, not '%s'", optarg);
		} else {
			return TB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: %s",
				   tb_cmd_find("coordinator", "add")->usage);
	const char *name = argv[optind];
	int rc = tb_cli_check_name(name, "a coordinator name");
	if (rc || (rc = tb_cli_open(cli, true)))
		return rc;
	struct tb_coord co;
	if (tb_store_coord_get(cli->store, name, &co) == 0)
		return tb_cli_fail(TB_EXIT_USAGE, "there is already a coordinator named %s", name);
	char pass[1024], what[128];
	size_t plen;
	snprintf(what, sizeof what, "%s's console password", name);
	if ((rc = tb_passphrase_get(pwfile, "TALLY_COORDINATOR_PASSWORD", what, true, pass,
				    sizeof pass, &plen)))
		return rc;
	struct tb_ops ops = {cli->store, cli->self, cli->data, NULL};
	struct tb_reject rej = {0};
	int err = tb_op_coord_add(&ops, name, role, pass, plen, &co, &rej);
	tb_wipe(pass, sizeof pass);
	if (err == TB_EINVAL || err == TB_EEXISTS)
		return tb_cli_fail(TB_EXIT_USAGE, "%s", rej.msg);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "%s", rej.msg);
	if (cli->json) {
		struct tb_json *o = tb_vocab_coordinator(&co);
		tb_json_print(o, stdout);
		tb_json_free(o);
	} else {
		printf("coordinator %s added (%s); they log in to tallyd's console\n", name,
		       tb_role_name(role));
	}
	return TB_EXIT_OK;
}

static int list_one(void *vctx, const struct tb_coord *c)
{
	++*(size_t *)vctx;
	char when[32];
	time_t t = (time_t)c->created;
	struct tm tm;
	strftime(when, sizeof when, "%Y-%m-%d", gmtime_r(&t, &tm));
	printf("%-24s %-12s added %s\n", c->name, tb_role_name(c->role), when);
	return 0;
}

int tb_cmd_coordinator_list(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "coordinator", "list") != -1 || optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally coordinator list");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/coordinators */
		struct tb_json *o = tb_vocab_coordinators(cli->store, &err);
		return tb_cli_print_json(o, err, "the coordinators");
	}
	size_t n = 0;
	err = tb_store_foreach_coord(cli->store, list_one, &n);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the coordinators: %s",
				   tb_strerror(err));
	if (!n)
		printf("no coordinators yet: 'tally coordinator add NAME --role admin'\n");
	return TB_EXIT_OK;
}

int tb_cmd_coordinator_set(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"role", required_argument, 0, 'r'},
					     {"password", no_argument, 0, 'P'},
					     {"password-file", required_argument, 0, 'p'},
					     {0, 0, 0, 0}};
	const char *pwfile = NULL;
	bool pw = false;
	int role = -1, c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "coordinator", "set")) != -1) {
		if (c == 'p') {
			pwfile = optarg;
			pw = true;
		} else if (c == 'P') {
			pw = true;
		} else if (c == 'r') {
			if ((role = tb_role_parse(optarg)) < 0)
				return tb_cli_fail(
					TB_EXIT_USAGE,
					"--role is admin, coordinator or viewer, not '%s'", optarg);
		} else {
			return TB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1 || (role < 0 && !pw))
		return tb_cli_fail(TB_EXIT_USAGE, "usage: %s",
				   tb_cmd_find("coordinator", "set")->usage);
	const char *name = argv[optind];
	int rc = tb_cli_open(cli, true);
	if (rc)
		return rc;
	char pass[1024] = "", what[128];
	size_t plen = 0;
	snprintf(what, sizeof what, "%s's new console password", name);
	if (pw && (rc = tb_passphrase_get(pwfile, "TALLY_COORDINATOR_PASSWORD", what, true, pass,
					  sizeof pass, &plen)))
		return rc;
	struct tb_ops ops = {cli->store, cli->self, cli->data, NULL};
	struct tb_reject rej = {0};
	struct tb_coord co;
	int err = tb_op_coord_set(&ops, name, role, pw ? pass : NULL, plen, &co, &rej);
	tb_wipe(pass, sizeof pass);
	tb_wipe(co.pwhash, sizeof co.pwhash);
	if (err == TB_EINVAL || err == TB_ENOTFOUND || err == TB_EDENIED)
		return tb_cli_fail(err == TB_EDENIED ? TB_EXIT_REFUSED : TB_EXIT_USAGE, "%s",
				   rej.msg);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "%s", rej.msg);
	if (cli->json) {
		struct tb_json *o = tb_vocab_coordinator(&co);
		tb_json_print(o, stdout);
		tb_json_free(o);
	} else {
		printf("coordinator %s is %s%s\n", name, tb_role_name(co.role),
		       pw ? ", with a new password: their open sessions end at once"
			  : " (in their open sessions too)");
	}
	return TB_EXIT_OK;
}

int tb_cmd_coordinator_remove(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "coordinator", "remove") != -1 || argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally coordinator remove NAME");
	const char *name = argv[optind];
	int rc = tb_cli_open(cli, true);
	if (rc)
		return rc;
	struct tb_ops o = {cli->store, cli->self, cli->data, NULL};
	struct tb_reject rej = {0};
	int err = tb_op_coord_remove(&o, name, &rej);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "%s", rej.msg);
	if (err == TB_EDENIED)
		return tb_cli_fail(TB_EXIT_REFUSED, "%s", rej.msg);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "%s", rej.msg);
	if (cli->json)
		printf("{\"removed\":true}\n");
	else
		printf("coordinator %s removed; their sessions end at once\n", name);
	return TB_EXIT_OK;
}
