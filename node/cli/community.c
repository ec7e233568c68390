/*
 * community.c: naming other communities on the command line. By name, a
 * community is one admitted here (tally community admit) or this one, under
 * the name it was admitted with, whatever its case, normal form or
 * look-alike letters; else by its node id (the log id) or an id prefix. A
 * user types one of these; this file turns it into one log id or a clear
 * error that
 * lists the candidates (the resolving itself is tb_op_community, shared
 * with tallyd's API). It never guesses between two communities and never
 * writes to the store.
 */
#include "cli.h"
#include "tb_ops.h"

#include <string.h>

static struct tb_ops ops_of(struct tb_cli *cli)
{
	return (struct tb_ops){cli->store, cli->self, cli->data, NULL};
}

void tb_cli_short_id(char out[12], const uint8_t id[TB_KEY_LEN])
{
	tb_hex_encode(out, id, 4);
	memcpy(out + 8, "...", 4);
}

void tb_cli_community_name(struct tb_cli *cli, const uint8_t id[TB_KEY_LEN], char *out, size_t cap)
{
	struct tb_ops o = ops_of(cli);
	tb_op_community_name(&o, id, out, cap);
}

int tb_cli_community(struct tb_cli *cli, const char *arg, struct tb_cli_community *out)
{
	memset(out, 0, sizeof *out);
	struct tb_ops o = ops_of(cli);
	struct tb_op_community c;
	struct tb_reject rej = {0};
	int err = tb_op_community(&o, arg, &c, &rej);
	if (err == TB_EINVAL && c.ncand > 1) {
		tb_cli_fail(TB_EXIT_USAGE, "%s:", rej.msg);
		for (size_t i = 0; i < c.ncand && i < TB_OP_CANDIDATES_MAX; i++) {
			char hex[2 * TB_KEY_LEN + 1], name[TB_CLI_CNAME_MAX];
			tb_hex_encode(hex, c.cand[i], TB_KEY_LEN);
			tb_cli_community_name(cli, c.cand[i], name, sizeof name);
			fprintf(stderr, "  %s  %s\n", hex, name);
		}
		if (c.ncand > TB_OP_CANDIDATES_MAX)
			fprintf(stderr, "  ... and %zu more\n", c.ncand - TB_OP_CANDIDATES_MAX);
		return TB_EXIT_USAGE;
	}
	if (err == TB_EINVAL || err == TB_ENOTFOUND)
		return tb_cli_fail(
			TB_EXIT_USAGE, "%s%s", rej.msg,
			err == TB_ENOTFOUND
				? " ('tally community list' shows those admitted and those "
				  "known through neighbours; 'tally community admit' admits one)"
				: "");
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "%s", rej.msg);
	memcpy(out->id, c.id, TB_KEY_LEN);
	snprintf(out->name, sizeof out->name, "%s", c.name);
	out->held = c.held;
	return 0;
}
