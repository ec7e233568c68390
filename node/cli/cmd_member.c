/*
 * cmd_member.c: `tally member add|list|remove|rekey`. Members get numbers in
 * order, a key (made here and kept encrypted in the data directory, the
 * member's own public key, or none for a keyless member whose exchanges the
 * coordinator attests) and limits. Leaving (after settling or keeping a
 * balance) and key replacement are new entries; no member is ever deleted
 * from the log. Renames, limits and reinstatement: cmd_member_update.c.
 */
#include "cli.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

/* Creates a new key pair for a member and its encrypted key file. */
static int new_member_key(struct tb_cli *cli, const char *name, uint32_t no, struct tb_keypair *kp,
			  char *path, size_t cap)
{
	char pass[1024], what[128], pf[4400];
	size_t plen;
	snprintf(what, sizeof what, "%s's new key", name);
	int rc = tb_passphrase_get(tb_cli_member_pass_file(cli, name, no, pf, sizeof pf),
				   "TALLY_MEMBER_PASSPHRASE", what, true, pass, sizeof pass, &plen);
	if (rc)
		return rc;
	tb_keypair_generate(kp);
	tb_cli_member_key_path(cli, path, cap, kp->pk.b);
	int err = tb_keyfile_write(path, kp, pass, plen, TB_KDF_INTERACTIVE);
	tb_wipe(pass, sizeof pass);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot write %s: %s", path, tb_strerror(err));
	return 0;
}

static int print_joined(struct tb_cli *cli, const struct tb_member_join *j, const char *name,
			bool keyless)
{
	if (cli->json) {
		/* The member object, as POST /api/v1/members answers. */
		struct tb_member m;
		int err = tb_store_member(cli->store, cli->self, (uint32_t)j->member, &m);
		return tb_cli_print_json(err ? NULL : tb_vocab_member(&m), err, "the new member");
	}
	char key[2 * TB_KEY_LEN + 1], lim[32];
	tb_hex_encode(key, j->key, TB_KEY_LEN);
	tb_out_hours(lim, sizeof lim, j->floor);
	printf("%s joined as member %llu (debt limit %s hours", name, (unsigned long long)j->member,
	       lim);
	if (j->ceiling) {
		tb_out_hours(lim, sizeof lim, (int64_t)j->ceiling);
		printf(", ceiling %s hours", lim);
	}
	if (keyless)
		printf(")\n  keyless: the coordinator records this member's exchanges (--attest)\n");
	else
		printf(")\n  key: %s\n", key);
	return TB_EXIT_OK;
}

int tb_cmd_member_add(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"debt-limit", required_argument, 0, 'd'},
					     {"ceiling", required_argument, 0, 'c'},
					     {"pubkey", required_argument, 0, 'k'},
					     {"keyless", no_argument, 0, 'K'},
					     {0, 0, 0, 0}};
	int64_t floor_min = -1, ceiling = -1;
	const char *pubkey = NULL;
	bool keyless = false;
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "member", "add")) != -1) {
		switch (c) {
		case 'd':
			if (tb_parse_hours(optarg[0] == '-' ? optarg + 1 : optarg, &floor_min) ||
			    floor_min > TB_LIMIT_MAX)
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--debt-limit: '%s' is not a number of hours",
						   optarg);
			break;
		case 'c':
			if (tb_parse_hours(optarg, &ceiling) || ceiling > TB_LIMIT_MAX)
				return tb_cli_fail(TB_EXIT_USAGE,
						   "--ceiling: '%s' is not a number of hours",
						   optarg);
			break;
		case 'k':
			pubkey = optarg;
			break;
		case 'K':
			keyless = true;
			break;
		default:
			return TB_EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"usage: tally member add NAME [--debt-limit HOURS] [--ceiling HOURS] [--pubkey HEX | --keyless]");
	if (keyless && pubkey)
		return tb_cli_fail(TB_EXIT_USAGE, "--keyless and --pubkey exclude each other");
	char name[TB_NAME_MAX + 1];
	int rc = tb_cli_check_name(argv[optind], "a member name");
	if (rc || (rc = tb_cli_name_nfc(argv[optind], name, "a member name")) ||
	    (rc = tb_cli_open(cli, true)))
		return rc;
	struct tb_community com;
	int err = tb_store_community(cli->store, cli->self, &com);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the community: %s", tb_strerror(err));
	if ((rc = tb_cli_node_key(cli)))
		return rc;

	struct tb_member_join j = {0};
	j.member = (uint64_t)com.members + 1;
	j.name.p = (const uint8_t *)name;
	j.name.len = strlen(name);
	j.floor = floor_min >= 0 ? -floor_min : com.floor;
	j.ceiling = ceiling >= 0 ? (uint64_t)ceiling : com.ceiling;
	char path[4400] = "";
	if (pubkey) {
		if (tb_hex_decode(j.key, TB_KEY_LEN, pubkey))
			return tb_cli_fail(TB_EXIT_USAGE, "--pubkey needs 64 hex digits");
	} else if (!keyless) {
		struct tb_keypair kp;
		if ((rc = new_member_key(cli, name, (uint32_t)j.member, &kp, path, sizeof path)))
			return rc;
		memcpy(j.key, kp.pk.b, TB_KEY_LEN);
		tb_keypair_wipe(&kp);
	}
	struct tb_reject rej;
	err = tb_store_append_own(cli->store, &cli->node, TB_KIND_MEMBER_JOIN, &j, NULL, &rej);
	if (err) {
		if (path[0])
			unlink(path);
		return tb_cli_refused(cli, err, &rej);
	}
	return print_joined(cli, &j, name, keyless);
}

/* --json of a change to a member: {"seq", "member": the member object after
 * it, and what says more (key: n)}. */
static int print_change(struct tb_cli *cli, uint64_t seq, uint32_t no, const char *key, int64_t n)
{
	struct tb_member m;
	int err = tb_store_member(cli->store, cli->self, no, &m);
	struct tb_json *o = err ? NULL : tb_vocab_member_change(seq, &m);
	if (o && tb_json_set(o, key, tb_json_int(n))) {
		tb_json_free(o);
		o = NULL;
	}
	return tb_cli_print_json(o, err, "the member");
}

struct list_ctx {
	struct tb_cli *cli;
	bool all;
};

static int list_one(void *vctx, const struct tb_member *m)
{
	struct list_ctx *l = vctx;
	if (!m->active && !l->all)
		return 0;
	char bal[32], fl[32], ce[32] = "none";
	tb_out_hours(bal, sizeof bal, m->balance);
	tb_out_hours(fl, sizeof fl, m->floor);
	if (m->ceiling)
		tb_out_hours(ce, sizeof ce, (int64_t)m->ceiling);
	printf("%4u  ", m->no);
	tb_cli_pad(stdout, m->name, 20);
	printf(" %9s %9s %9s  %s\n", bal, fl, ce, m->active ? "" : "left");
	return 0;
}

int tb_cmd_member_list(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"all", no_argument, 0, 'a'}, {0, 0, 0, 0}};
	struct list_ctx l = {cli, false};
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "member", "list")) != -1) {
		if (c != 'a')
			return TB_EXIT_USAGE;
		l.all = true;
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "member list takes no arguments");
	int rc = tb_cli_open(cli, false);
	if (rc)
		return rc;
	int err;
	if (cli->json) { /* GET /api/v1/members[?all=true] */
		struct tb_json *o = tb_vocab_members(cli->store, cli->self, l.all, &err);
		return tb_cli_print_json(o, err, "the members");
	}
	printf("   #  %-20s %9s %9s %9s\n", "name", "balance", "floor", "ceiling");
	/* The community account (#0) is listed once it has moved. */
	err = tb_store_foreach_member(cli->store, cli->self, list_one, &l);
	if (err)
		return tb_cli_fail(TB_EXIT_IO, "cannot list members: %s", tb_strerror(err));
	return TB_EXIT_OK;
}

/* Shared by remove and rekey: one MEMBER argument, an open store, node key. */
static int one_member(struct tb_cli *cli, int argc, char **argv, const char *cmd,
		      const struct option *opts, int (*opt)(void *, int), void *ctx,
		      struct tb_member *m)
{
	int c;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "member", cmd)) != -1)
		if (!opt || opt(ctx, c))
			return TB_EXIT_USAGE;
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally member %s MEMBER", cmd);
	int rc = tb_cli_open(cli, true);
	if (!rc)
		rc = tb_cli_member(cli, argv[optind], m);
	if (!rc && !m->active)
		rc = tb_cli_fail(TB_EXIT_REFUSED,
				 "refused: member %s (#%u) has left the community (ELEFT)", m->name,
				 m->no);
	if (!rc && m->no == TB_COMMUNITY_ACCOUNT)
		rc = tb_cli_fail(TB_EXIT_USAGE, "the community account is not a member");
	if (!rc)
		rc = tb_cli_node_key(cli);
	return rc;
}

enum { KEEP_ASK, KEEP_SETTLE, KEEP_BALANCE };

static int remove_opt(void *ctx, int c)
{
	int *mode = ctx;
	if (c != 's' && c != 'k')
		return -1;
	if (*mode != KEEP_ASK)
		return tb_cli_fail(-1, "--settle and --keep-balance exclude each other");
	*mode = c == 's' ? KEEP_SETTLE : KEEP_BALANCE;
	return 0;
}

/* Asks on a terminal what to do with a balance; KEEP_ASK if no answer. */
static int ask_balance(const struct tb_member *m, const char *bal)
{
	char line[16];
	if (!isatty(0) || !isatty(2))
		return KEEP_ASK;
	fprintf(stderr,
		"%s has a balance of %s hours. Settle it to the community account "
		"(s), keep it on the books (k), or stop (anything else)? ",
		m->name, bal);
	if (!fgets(line, sizeof line, stdin))
		return KEEP_ASK;
	return line[0] == 's' ? KEEP_SETTLE : line[0] == 'k' ? KEEP_BALANCE : KEEP_ASK;
}

/* Moves a member's whole balance to the community account, in attested
 * exchanges of at most TB_MINUTES_MAX each. */
static int settle(struct tb_cli *cli, struct tb_member *m)
{
	while (m->balance != 0) {
		int64_t n = m->balance > 0 ? m->balance : -m->balance;
		struct tb_exchange x = {0};
		struct tb_reject rej;
		if (n > TB_MINUTES_MAX)
			n = TB_MINUTES_MAX;
		tb_random(x.txid, TB_TXID_LEN);
		x.provider = m->balance > 0 ? TB_COMMUNITY_ACCOUNT : m->no;
		x.receiver = m->balance > 0 ? m->no : TB_COMMUNITY_ACCOUNT;
		x.minutes = (uint64_t)n;
		x.category = (struct tb_view){(const uint8_t *)"settlement", 10};
		x.date = tb_today();
		x.attested = 1;
		int err = tb_store_append_own(cli->store, &cli->node, TB_KIND_EXCHANGE, &x, NULL,
					      &rej);
		if (err)
			return tb_cli_refused(cli, err, &rej);
		m->balance += m->balance > 0 ? -n : n;
	}
	return 0;
}

int tb_cmd_member_remove(struct tb_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {{"settle", no_argument, 0, 's'},
					     {"keep-balance", no_argument, 0, 'k'},
					     {0, 0, 0, 0}};
	struct tb_member m;
	int mode = KEEP_ASK;
	int rc = one_member(cli, argc, argv, "remove", opts, remove_opt, &mode, &m);
	if (rc)
		return rc;
	char bal[32];
	int64_t had = m.balance;
	tb_out_hours(bal, sizeof bal, m.balance);
	if (m.balance && mode == KEEP_ASK && (mode = ask_balance(&m, bal)) == KEEP_ASK)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "%s has a balance of %s hours: give --settle (move it to the "
				   "community account) or --keep-balance (keep it on the books)",
				   m.name, bal);
	if (m.balance && mode == KEEP_SETTLE && (rc = settle(cli, &m)))
		return rc;
	struct tb_member_left body = {m.no};
	struct tb_reject rej;
	uint64_t seq;
	int err =
		tb_store_append_own(cli->store, &cli->node, TB_KIND_MEMBER_LEFT, &body, &seq, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	if (cli->json)
		return print_change(cli, seq, m.no, "settled_minutes", had - m.balance);
	printf("%s (member %u) has left; the history stays.", m.name, m.no);
	if (had && m.balance == 0)
		printf(" Their balance of %s hours went to the community account.", bal);
	else if (m.balance)
		printf(" Their balance of %s hours stays on the books.", bal);
	printf("\n");
	return TB_EXIT_OK;
}

/* The open proposals a member took part in (signed with the old key, so
 * they could never be confirmed after a rekey). */
#define CANCEL_MAX 256
struct cancel_ctx {
	uint32_t member;
	uint8_t txid[CANCEL_MAX][TB_TXID_LEN];
	size_t n;
};

static int cancel_cb(void *vctx, struct tb_view msg)
{
	struct cancel_ctx *c = vctx;
	struct tb_proposal p;
	if (tb_msg_decode_exact(msg.p, msg.len, &tb_def_proposal, &p))
		return 0;
	if ((p.provider == c->member || p.receiver == c->member) && c->n < CANCEL_MAX)
		memcpy(c->txid[c->n++], p.txid, TB_TXID_LEN);
	return 0;
}

static size_t cancel_proposals(struct tb_cli *cli, uint32_t member)
{
	static struct cancel_ctx c;
	size_t done = 0;
	c.member = member;
	c.n = 0;
	if (tb_store_foreach_pending(cli->store, cancel_cb, &c) < 0)
		return 0;
	for (size_t i = 0; i < c.n; i++) {
		if (tb_store_pending_del(cli->store, c.txid[i]) == 0)
			done++;
		(void)!tb_store_memo_erase(cli->store, c.txid[i]);
	}
	return done;
}

int tb_cmd_member_rekey(struct tb_cli *cli, int argc, char **argv)
{
	struct tb_member m;
	static const struct option opts[] = {{0, 0, 0, 0}};
	int rc = one_member(cli, argc, argv, "rekey", opts, NULL, NULL, &m);
	if (rc)
		return rc;
	struct tb_keypair kp;
	char path[4400];
	if ((rc = new_member_key(cli, m.name, m.no, &kp, path, sizeof path)))
		return rc;
	struct tb_member_key body = {0};
	body.member = m.no;
	memcpy(body.key, kp.pk.b, TB_KEY_LEN);
	tb_keypair_wipe(&kp);
	struct tb_reject rej;
	uint64_t seq;
	int err =
		tb_store_append_own(cli->store, &cli->node, TB_KIND_MEMBER_KEY, &body, &seq, &rej);
	if (err) {
		unlink(path);
		return tb_cli_refused(cli, err, &rej);
	}
	char key[2 * TB_KEY_LEN + 1];
	size_t cancelled = cancel_proposals(cli, m.no);
	tb_hex_encode(key, body.key, TB_KEY_LEN);
	if (cli->json)
		return print_change(cli, seq, m.no, "proposals_cancelled", (int64_t)cancelled);
	printf("%s has a new key: %s\n", m.name, key);
	if (cancelled)
		printf("%zu open proposal%s with %s cancelled (signed with the old key; "
		       "propose again)\n",
		       cancelled, cancelled == 1 ? "" : "s", m.name);
	return TB_EXIT_OK;
}
