/*
 * cmd_listing.c: `tally listing add|list|withdraw|renew|hide|show`, members'
 * offers and requests (FORMAT.md 16). Posting, withdrawing and renewing go
 * through the operations tallyd's API calls too (node/ops_listing.c), signed
 * by the member (passphrase from the member key sources) or attested with
 * --attest; listing searches what this node holds of every community,
 * expired ones never shown. Hiding is this node's alone, never gossiped.
 */
#include "cli.h"
#include "tb_ops.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static struct tb_ops ops_of(struct tb_cli *cli)
{
	return (struct tb_ops){cli->store, cli->self, cli->data, &cli->node};
}

static int parse_days(const char *s, unsigned *days)
{
	uint64_t v;
	if (tb_parse_u64(s, &v) || v < TB_LISTING_DAYS_MIN || v > TB_LISTING_DAYS_MAX)
		return tb_cli_fail(TB_EXIT_USAGE, "--days must be %d to %d, not '%s' (EEXPIRY)",
				   TB_LISTING_DAYS_MIN, TB_LISTING_DAYS_MAX, s);
	*days = (unsigned)v;
	return 0;
}

/* The member's passphrase, unless attested, keyless (the op refuses) or
 * gone. */
static int pass_of(struct tb_cli *cli, const char *who, bool attest, char *buf, size_t cap,
		   struct tb_op_pass *out)
{
	static const uint8_t none[TB_KEY_LEN];
	struct tb_member m;
	int rc;
	*out = (struct tb_op_pass){buf, 0};
	if (attest)
		return 0;
	if ((rc = tb_cli_member(cli, who, &m)))
		return rc;
	/* A member who left signs nothing: the community attests (the op). */
	if (!m.active || !memcmp(m.key, none, TB_KEY_LEN))
		return 0;
	return tb_cli_member_pass(cli, &m, buf, cap, &out->len);
}

/* --json: the listing object POST /api/v1/listings (and .../withdraw,
 * .../renew) answer with. */
static int print_json(struct tb_cli *cli, const uint8_t id[TB_LISTING_ID_LEN])
{
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	struct tb_listing l;
	int err = tb_store_listing_get(cli->store, cli->self, id, obj, &len);
	if (!err)
		err = tb_listing_open(&l, obj, len);
	return tb_cli_print_json(err ? NULL : tb_vocab_listing(cli->store, &l, -1), err,
				 "the listing");
}

struct add_in {
	struct tb_op_listing l;
	bool kind_given;
};

static int parse_add(int argc, char **argv, struct add_in *in)
{
	static const struct option opts[] = {{"member", required_argument, 0, 'm'},
					     {"offer", no_argument, 0, 'o'},
					     {"request", no_argument, 0, 'r'},
					     {"title", required_argument, 0, 't'},
					     {"description", required_argument, 0, 'd'},
					     {"category", required_argument, 0, 'c'},
					     {"days", required_argument, 0, 'n'},
					     {"federation", no_argument, 0, 'f'},
					     {"community", no_argument, 0, 'l'},
					     {"attest", no_argument, 0, 'a'},
					     {0, 0, 0, 0}};
	int c, rc;
	memset(in, 0, sizeof *in);
	in->l.description = in->l.category = "";
	in->l.visibility = TB_LISTING_COMMUNITY;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "listing", "add")) != -1) {
		switch (c) {
		case 'm':
			in->l.member = optarg;
			break;
		case 'o':
			in->l.kind = TB_LISTING_OFFER;
			in->kind_given = true;
			break;
		case 'r':
			in->l.kind = TB_LISTING_REQUEST;
			in->kind_given = true;
			break;
		case 't':
			in->l.title = optarg;
			break;
		case 'd':
			in->l.description = optarg;
			break;
		case 'c':
			in->l.category = optarg;
			break;
		case 'n':
			if ((rc = parse_days(optarg, &in->l.days)))
				return rc;
			break;
		case 'f':
			in->l.visibility = TB_LISTING_FEDERATION;
			break;
		case 'l':
			in->l.visibility = TB_LISTING_COMMUNITY;
			break;
		case 'a':
			in->l.attest = true;
			break;
		default:
			return TB_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "listing add: unexpected argument '%s'",
				   argv[optind]);
	if (!in->l.member || !in->l.title || !in->kind_given)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "listing add needs --member, --offer or --request, and --title");
	return 0;
}

int tb_cmd_listing_add(struct tb_cli *cli, int argc, char **argv)
{
	struct add_in in;
	char pass[TB_PASSPHRASE_MAX + 1];
	int rc = parse_add(argc, argv, &in);
	if (rc || (rc = tb_cli_open(cli, true)) || (rc = tb_cli_node_key(cli)) ||
	    (rc = pass_of(cli, in.l.member, in.l.attest, pass, sizeof pass, &in.l.pass)))
		return rc;
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	uint8_t id[TB_LISTING_ID_LEN];
	int err = tb_op_listing_add(&o, &in.l, tb_listing_now(), id, &rej);
	tb_wipe(pass, sizeof pass);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	char hex[2 * TB_LISTING_ID_LEN + 1];
	tb_hex_encode(hex, id, TB_LISTING_ID_LEN);
	if (cli->json)
		return print_json(cli, id);
	printf("%s\nposted: %s, visible to the %s\n", hex,
	       in.l.kind == TB_LISTING_OFFER ? "an offer" : "a request",
	       in.l.visibility == TB_LISTING_FEDERATION ? "federation" : "community only");
	return TB_EXIT_OK;
}

static int parse_id(const char *s, uint8_t id[TB_LISTING_ID_LEN])
{
	if (strlen(s) != 2 * TB_LISTING_ID_LEN || tb_hex_decode(id, TB_LISTING_ID_LEN, s))
		return tb_cli_fail(TB_EXIT_USAGE, "'%s' is not a listing id (32 hex digits)", s);
	return 0;
}

/* withdraw and renew: ID [--days N] [--attest]. */
static int change(struct tb_cli *cli, int argc, char **argv, bool withdraw)
{
	static const struct option opts[] = {
		{"days", required_argument, 0, 'n'}, {"attest", no_argument, 0, 'a'}, {0, 0, 0, 0}};
	const char *name = withdraw ? "withdraw" : "renew";
	unsigned days = 0;
	bool attest = false;
	int c, rc;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "listing", name)) != -1) {
		if (c == 'n' && !withdraw) {
			if ((rc = parse_days(optarg, &days)))
				return rc;
		} else if (c == 'a')
			attest = true;
		else
			return tb_cli_fail(TB_EXIT_USAGE, "usage: tally listing %s ID%s [--attest]",
					   name, withdraw ? "" : " [--days N]");
	}
	uint8_t id[TB_LISTING_ID_LEN], obj[TB_LISTING_MAX];
	if (argc - optind != 1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally listing %s ID", name);
	if ((rc = parse_id(argv[optind], id)) || (rc = tb_cli_open(cli, true)) ||
	    (rc = tb_cli_node_key(cli)))
		return rc;
	/* The member who signs: the listing's own. */
	size_t len;
	struct tb_listing l;
	char who[16] = "#0", pass[TB_PASSPHRASE_MAX + 1];
	if (!tb_store_listing_get(cli->store, cli->self, id, obj, &len) &&
	    !tb_listing_open(&l, obj, len))
		snprintf(who, sizeof who, "#%u", (unsigned)l.member);
	struct tb_op_pass pp = {pass, 0};
	if (strcmp(who, "#0") && (rc = pass_of(cli, who, attest, pass, sizeof pass, &pp)))
		return rc;
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	uint64_t version = 0;
	int err = tb_op_listing_change(&o, id, withdraw, days, attest, pp, tb_listing_now(),
				       &version, &rej);
	tb_wipe(pass, sizeof pass);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	if (cli->json)
		return print_json(cli, id);
	printf("%s %s (version %llu)\n", argv[optind], withdraw ? "withdrawn" : "renewed",
	       (unsigned long long)version);
	return TB_EXIT_OK;
}

int tb_cmd_listing_withdraw(struct tb_cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, true);
}

int tb_cmd_listing_renew(struct tb_cli *cli, int argc, char **argv)
{
	return change(cli, argc, argv, false);
}

/* `tally listing hide|show COMMUNITY ID`: a listing's id is unique only
 * within its community (another may publish the same id), so both are
 * named. */
static int hide_or_show(struct tb_cli *cli, int argc, char **argv, bool hide)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	const char *name = hide ? "hide" : "show";
	uint8_t id[TB_LISTING_ID_LEN];
	int rc;
	optind = 1;
	if (tb_cli_getopt(argc, argv, opts, "listing", name) != -1)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally listing %s COMMUNITY ID", name);
	if (argc - optind == 1)
		return tb_cli_fail(TB_EXIT_USAGE,
				   "usage: tally listing %s COMMUNITY ID: name the listing's "
				   "community too (a listing id is unique only within its "
				   "community; 'tally listing list' shows both)",
				   name);
	if (argc - optind != 2)
		return tb_cli_fail(TB_EXIT_USAGE, "usage: tally listing %s COMMUNITY ID", name);
	if ((rc = parse_id(argv[optind + 1], id)) || (rc = tb_cli_open(cli, true)))
		return rc;
	struct tb_ops o = ops_of(cli);
	struct tb_reject rej = {0};
	struct tb_op_community c;
	int err = tb_op_community(&o, argv[optind], &c, &rej);
	if (err)
		return tb_cli_refused(cli, err, &rej);
	err = tb_store_listing_hide(cli->store, c.id, id, hide);
	if (err == TB_ENOTFOUND)
		return tb_cli_fail(TB_EXIT_USAGE, "no listing %s of %s is held here (ENOTFOUND)",
				   argv[optind + 1], c.name);
	if (err)
		return tb_cli_refused(cli, err, NULL);
	printf("%s of %s %s here\n", argv[optind + 1], c.name, hide ? "hidden" : "shown");
	return TB_EXIT_OK;
}

int tb_cmd_listing_hide(struct tb_cli *cli, int argc, char **argv)
{
	return hide_or_show(cli, argc, argv, true);
}

int tb_cmd_listing_show(struct tb_cli *cli, int argc, char **argv)
{
	return hide_or_show(cli, argc, argv, false);
}
