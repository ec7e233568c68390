/*
 * cmd_init.c: `tally init` sets up a community: the data directory, the
 * community's key (encrypted with a passphrase), the ledger and its genesis
 * entry. It refuses to touch a directory that already holds a ledger.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4300];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -1;
	return 0;
}

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
				return tb_cli_fail(TB_EXIT_USAGE, "--debt-limit: '%s' is not a number of hours",
						   optarg);
			break;
		case 'c':
			if (tb_parse_hours(optarg, &ceiling))
				return tb_cli_fail(TB_EXIT_USAGE, "--ceiling: '%s' is not a number of hours",
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

	struct stat st;
	if (stat(cli->ledger, &st) == 0)
		return tb_cli_fail(TB_EXIT_USAGE, "%s already holds a ledger", cli->data);
	char keys[4300], members[4400], keypath[4400];
	snprintf(keys, sizeof keys, "%s/keys", cli->data);
	snprintf(members, sizeof members, "%s/members", keys);
	snprintf(keypath, sizeof keypath, "%s/node.key", keys);
	if (mkdir_p(cli->data, 0700) || mkdir_p(members, 0700) ||
	    mkdir_p(cli->ledger, 0700))
		return tb_cli_fail(TB_EXIT_IO, "cannot create %s: %s", cli->data,
				   strerror(errno));
	if (federation && (rc = tb_cli_federation_install(cli, federation)))
		return rc;

	char pass[1024];
	size_t plen;
	if ((rc = tb_passphrase_get(cli->pass_file, "TALLY_PASSPHRASE",
				    "the new community key", true, pass, sizeof pass,
				    &plen)))
		return rc;
	struct tb_keypair kp;
	tb_keypair_generate(&kp);
	int err = tb_keyfile_write(keypath, &kp, pass, plen, TB_KDF_INTERACTIVE);
	tb_wipe(pass, sizeof pass);
	if (err) {
		tb_keypair_wipe(&kp);
		return tb_cli_fail(TB_EXIT_IO, "cannot write %s: %s", keypath,
				   tb_strerror(err));
	}
	if ((err = tb_store_open(&cli->store, cli->ledger, 0)) ||
	    (err = tb_store_set_self(cli->store, kp.pk.b))) {
		tb_keypair_wipe(&kp);
		return tb_cli_fail(TB_EXIT_IO, "cannot create the ledger: %s",
				   tb_strerror(err));
	}
	struct tb_genesis g = {0};
	g.name.p = (const uint8_t *)name;
	g.name.len = strlen(name);
	g.floor = -floor_min;
	g.ceiling = (uint64_t)ceiling;
	struct tb_reject rej;
	err = tb_store_append_own(cli->store, &kp, TB_KIND_GENESIS, &g, NULL, &rej);
	tb_keypair_wipe(&kp);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	char id[2 * TB_KEY_LEN + 1], lim[32];
	tb_hex_encode(id, kp.pk.b, TB_KEY_LEN);
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
	return TB_EXIT_OK;
}
