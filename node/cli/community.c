/*
 * community.c: naming other communities on the command line. A community is
 * known here by the genesis name of its log when the store holds that log,
 * else only by its node id (the log id). A user types a name, a full id, or
 * an id prefix; this file turns that into one log id or a clear error that
 * lists the candidates. It never guesses between two communities and never
 * writes to the store.
 */
#include "cli.h"

#include <ctype.h>
#include <string.h>

#define ID_HEX (2 * TB_KEY_LEN)
#define PREFIX_MIN 8
#define CANDIDATES_MAX 8

void tb_cli_short_id(char out[12], const uint8_t id[TB_KEY_LEN])
{
	tb_hex_encode(out, id, 4);
	memcpy(out + 8, "...", 4);
}

void tb_cli_community_name(struct tb_cli *cli, const uint8_t id[TB_KEY_LEN], char *out,
			   size_t cap)
{
	struct tb_community c;
	char s[12];
	if (tb_store_community(cli->store, id, &c) == 0 && c.name[0]) {
		snprintf(out, cap, "%s", c.name);
		return;
	}
	tb_cli_short_id(s, id);
	snprintf(out, cap, "%s", s);
}

struct match_ctx {
	struct tb_cli *cli;
	const char *arg;
	size_t arglen;
	bool by_prefix; /* else by name */
	bool fold;      /* name match ignoring ASCII case */
	size_t n;       /* matches (may exceed CANDIDATES_MAX) */
	uint8_t ids[CANDIDATES_MAX][TB_KEY_LEN];
	int err;
};

static bool hex_prefix(const uint8_t id[TB_KEY_LEN], const char *arg, size_t len)
{
	char hex[ID_HEX + 1];
	tb_hex_encode(hex, id, TB_KEY_LEN);
	for (size_t i = 0; i < len; i++)
		if (hex[i] != tolower((unsigned char)arg[i]))
			return false;
	return true;
}

static bool name_equal(const char *a, const char *b, bool fold)
{
	if (!fold)
		return !strcmp(a, b);
	for (; *a && *b; a++, b++)
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return false;
	return *a == *b;
}

static void add_match(struct match_ctx *mc, const uint8_t id[TB_KEY_LEN])
{
	for (size_t i = 0; i < mc->n && i < CANDIDATES_MAX; i++)
		if (!memcmp(mc->ids[i], id, TB_KEY_LEN))
			return;
	if (mc->n < CANDIDATES_MAX)
		memcpy(mc->ids[mc->n], id, TB_KEY_LEN);
	mc->n++;
}

static int match_log(void *vctx, const struct tb_head *h)
{
	struct match_ctx *mc = vctx;
	if (mc->by_prefix) {
		if (hex_prefix(h->log_id, mc->arg, mc->arglen))
			add_match(mc, h->log_id);
		return 0;
	}
	struct tb_community c;
	if (h->seq == 0)
		return 0; /* known but empty: no genesis, no name */
	int err = tb_store_community(mc->cli->store, h->log_id, &c);
	if (err == TB_ENOTFOUND)
		return 0;
	if (err)
		return mc->err = err;
	if (name_equal(c.name, mc->arg, mc->fold))
		add_match(mc, h->log_id);
	return 0;
}

/* Linked communities whose logs are not held yet still match an id prefix. */
static int match_clearing(void *vctx, const struct tb_clearing *c)
{
	struct match_ctx *mc = vctx;
	if (hex_prefix(c->other, mc->arg, mc->arglen))
		add_match(mc, c->other);
	return 0;
}

static bool all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static void fill(struct tb_cli *cli, const uint8_t id[TB_KEY_LEN], struct tb_cli_community *out)
{
	struct tb_community c;
	memcpy(out->id, id, TB_KEY_LEN);
	out->held = tb_store_community(cli->store, id, &c) == 0 && c.name[0];
	tb_cli_community_name(cli, id, out->name, sizeof out->name);
}

static int ambiguous(struct tb_cli *cli, const char *arg, const struct match_ctx *mc)
{
	tb_cli_fail(TB_EXIT_USAGE,
		    "'%s' names %zu communities; give the node id (or a longer prefix):", arg,
		    mc->n);
	for (size_t i = 0; i < mc->n && i < CANDIDATES_MAX; i++) {
		char hex[ID_HEX + 1], name[TB_CLI_CNAME_MAX];
		tb_hex_encode(hex, mc->ids[i], TB_KEY_LEN);
		tb_cli_community_name(cli, mc->ids[i], name, sizeof name);
		fprintf(stderr, "  %s  %s\n", hex, name);
	}
	if (mc->n > CANDIDATES_MAX)
		fprintf(stderr, "  ... and %zu more\n", mc->n - CANDIDATES_MAX);
	return TB_EXIT_USAGE;
}

static int scan(struct tb_cli *cli, struct match_ctx *mc)
{
	int err = tb_store_foreach_log(cli->store, match_log, mc);
	if (!err && mc->by_prefix) {
		err = tb_store_foreach_clearing(cli->store, cli->self, match_clearing, mc);
		if (err == TB_ENOTFOUND)
			err = 0;
	}
	if (err < 0 || mc->err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the logs held: %s",
				   tb_strerror(mc->err ? mc->err : err));
	return 0;
}

int tb_cli_community(struct tb_cli *cli, const char *arg, struct tb_cli_community *out)
{
	memset(out, 0, sizeof *out);
	size_t len = strlen(arg);
	if (len == 0 || len > ID_HEX + TB_NAME_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a community name or node id", arg);
	uint8_t id[TB_KEY_LEN];
	if (len == ID_HEX && tb_hex_decode(id, TB_KEY_LEN, arg) == 0) {
		fill(cli, id, out);
		return 0;
	}
	struct match_ctx mc = {.cli = cli, .arg = arg, .arglen = len};
	int rc;
	/* By name: exactly, then ignoring case. */
	for (int pass = 0; pass < 2; pass++) {
		mc.fold = pass == 1;
		if ((rc = scan(cli, &mc)))
			return rc;
		if (mc.n == 1) {
			fill(cli, mc.ids[0], out);
			return 0;
		}
		if (mc.n > 1)
			return ambiguous(cli, arg, &mc);
	}
	if (len >= PREFIX_MIN && len < ID_HEX && all_hex(arg)) {
		mc.by_prefix = true;
		if ((rc = scan(cli, &mc)))
			return rc;
		if (mc.n == 1) {
			fill(cli, mc.ids[0], out);
			return 0;
		}
		if (mc.n > 1)
			return ambiguous(cli, arg, &mc);
	}
	return tb_cli_fail(TB_EXIT_USAGE,
			   "no community '%s' here: this node does not hold its log yet (is its peer "
			   "connected and synced? 'tally logs' lists the logs held); a community not "
			   "held yet can be named by its full 64-digit node id",
			   arg);
}
