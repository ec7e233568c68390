/*
 * cmd_init.c: `tally init` sets up a community: the data directory, the
 * community's key (encrypted with a passphrase), the ledger and its genesis
 * entry. It refuses to touch a directory that already holds a ledger. What
 * can fail for bad input (passphrases, the federation key file) is checked
 * before anything is made; the making itself is init_build.c's.
 */
#include "cli.h"
#include "tb_node.h"

#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

int tb_cli_check_name(const char *name, const char *what)
{
	size_t n = strlen(name);
	if (n == 0 || n > TB_NAME_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "%s must be 1 to %d bytes long", what,
				   TB_NAME_MAX);
	if (strchr(name, '@'))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "%s may not contain '@' (it separates member and community)",
				   what);
	if (tb_text_check(name, n))
		return tb_cli_fail(TB_EXIT_USAGE,
				   "%s must be valid UTF-8 without control characters", what);
	return 0;
}

/* A federation key file that reads: 0, else the usage failure. */
static int check_federation(const char *federation)
{
	uint8_t fk[TB_FEDKEY_LEN];
	int ferr = tb_fedkey_read(federation, fk);
	tb_wipe(fk, sizeof fk);
	if (ferr == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "no federation key file at %s", federation);
	if (ferr)
		return tb_cli_fail(TB_EXIT_USAGE, "%s is not a federation key file (%s)",
				   federation, tb_strerror(ferr));
	return 0;
}

static void print_created(struct tb_cli *cli, const char *name, const uint8_t *pk,
			  int64_t floor_min, int64_t ceiling)
{
	char id[2 * TB_KEY_LEN + 1], lim[32];
	tb_hex_encode(id, pk, TB_KEY_LEN);
	tb_out_hours(lim, sizeof lim, -floor_min);
	if (cli->json) {
		printf("{\"community\":");
		tb_json_str(stdout, name, strlen(name));
		printf(",\"node_id\":\"%s\",\"debt_limit_minutes\":%lld,"
		       "\"ceiling_minutes\":%lld,\"data\":",
		       id, (long long)-floor_min, (long long)ceiling);
		tb_json_str(stdout, cli->data, strlen(cli->data));
		printf("}\n");
	} else {
		printf("Community '%s' created in %s\n", name, cli->data);
		printf("  node id:           %s\n", id);
		printf("  default debt limit: %s hours\n", lim);
		printf("Next: tally member add NAME\n");
	}
}

int tb_cmd_init(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, 0, 'n'},
					     {"debt-limit", required_argument, 0, 'd'},
					     {"ceiling", required_argument, 0, 'c'},
					     {"federation", required_argument, 0, 'f'},
					     {0, 0, 0, 0}};
	const char *name = NULL, *federation = NULL;
	int64_t floor_min = 10 * 60, ceiling = 0;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, NULL, "init")) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'd':
			if (tb_parse_hours(optarg[0] == '-' ? optarg + 1 : optarg, &floor_min))
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--debt-limit: '%s' is not a number of hours",
						   optarg);
			break;
		case 'c':
			if (tb_parse_hours(optarg, &ceiling))
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--ceiling: '%s' is not a number of hours",
						   optarg);
			break;
		case 'f':
			federation = optarg;
			break;
		default:
			return TB_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "init: unexpected argument '%s'", argv[optind]);
	if (!name)
		return tb_cli_fail(TB_EXIT_USAGE, "init needs --name NAME");
	int rc = tb_cli_check_name(name, "the community name");
	if (rc)
		return rc;
	if (floor_min > TB_LIMIT_MAX || ceiling > TB_LIMIT_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "limits are capped at %d hours",
				   TB_LIMIT_MAX / 60);

	/* Everything that can fail for the user's input fails before anything
	 * is made: the passphrase (asked twice), the federation key file. */
	struct stat st;
	if (stat(cli->ledger, &st) == 0)
		return tb_cli_fail(TB_EXIT_USAGE, "%s already holds a ledger", cli->data);
	if (federation && (rc = check_federation(federation)))
		return rc;
	char pass[1024];
	size_t plen;
	if ((rc = tb_passphrase_get(cli->pass_file, "TALLY_PASSPHRASE", "the new community key",
				    true, pass, sizeof pass, &plen)))
		return rc;
	struct tb_keypair kp;
	tb_keypair_generate(&kp);
	struct tb_genesis g = {0};
	g.name.p = (const uint8_t *)name;
	g.name.len = strlen(name);
	g.floor = -floor_min;
	g.ceiling = (uint64_t)ceiling;
	rc = tb_init_build(cli, &kp, pass, plen, federation, &g);
	tb_wipe(pass, sizeof pass);
	tb_keypair_wipe(&kp);
	if (rc)
		return rc;
	print_created(cli, name, kp.pk.b, floor_min, ceiling); /* pk is not wiped */
	return TB_EXIT_OK;
}
