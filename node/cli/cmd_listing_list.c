/*
 * cmd_listing_list.c: `tally listing list`, searching the listings this node
 * holds (its own community's and those gossiped by the federation) by text,
 * category, community, member and kind. Expired listings never show, nor
 * withdrawn ones; listings a coordinator hid here show only with --hidden.
 * Read-only.
 */
#include "cli.h"
#include "tb_ops.h"

#include <getopt.h>
#include <string.h>

#define LIST_MAX 1000

struct list_in {
	struct tb_listing_query q;
	const char *community, *member;
	uint8_t log[TB_KEY_LEN];
};

static int parse_list(int argc, char **argv, struct list_in *in)
{
	static const struct option opts[] = {
		{"text", required_argument, 0, 't'},	  {"category", required_argument, 0, 'c'},
		{"community", required_argument, 0, 'C'}, {"member", required_argument, 0, 'm'},
		{"offers", no_argument, 0, 'o'},	  {"requests", no_argument, 0, 'r'},
		{"hidden", no_argument, 0, 'h'},	  {0, 0, 0, 0}};
	int c;
	memset(in, 0, sizeof *in);
	in->q.kind = -1;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "listing", "list")) != -1) {
		switch (c) {
		case 't':
			in->q.text = optarg;
			break;
		case 'c':
			in->q.category = optarg;
			break;
		case 'C':
			in->community = optarg;
			break;
		case 'm':
			in->member = optarg;
			break;
		case 'o':
			in->q.kind = TB_LISTING_OFFER;
			break;
		case 'r':
			in->q.kind = TB_LISTING_REQUEST;
			break;
		case 'h':
			in->q.hidden = true;
			break;
		default:
			return TB_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "listing list: unexpected argument '%s'",
				   argv[optind]);
	return 0;
}

/* --community and --member into the query (a member of the own community
 * unless --community names another). */
static int resolve(struct tb_cli *cli, struct list_in *in)
{
	struct tb_ops o = {cli->store, cli->self, cli->data, NULL};
	struct tb_reject rej = {0};
	memcpy(in->log, cli->self, TB_KEY_LEN);
	if (in->community) {
		struct tb_op_community c;
		int err = tb_op_community(&o, in->community, &c, &rej);
		if (err)
			return tb_cli_refused(cli, err, &rej);
		memcpy(in->log, c.id, TB_KEY_LEN);
		in->q.community = in->log;
	}
	if (in->member) {
		struct tb_member m;
		int err = tb_store_member_find(cli->store, in->log, in->member, &m);
		if (err)
			return tb_cli_fail(TB_EXIT_USAGE, "no member '%s' in that community (%s)",
					   in->member, tb_errname(err));
		in->q.member = m.no;
		in->q.community = in->log;
	}
	return 0;
}

static int print_one(void *vctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		     uint64_t hidden)
{
	struct tb_cli *cli = vctx;
	char id[2 * TB_LISTING_ID_LEN + 1], who[TB_NAME_MAX + 1] = "?", com[TB_NAME_MAX + 1];
	struct tb_member m;
	struct tb_community c;
	(void)obj;
	(void)len;
	tb_hex_encode(id, l->id, TB_LISTING_ID_LEN);
	if (!tb_store_member(cli->store, l->log_id, (uint32_t)l->member, &m))
		memcpy(who, m.name, sizeof who);
	if (tb_store_community(cli->store, l->log_id, &c))
		snprintf(com, sizeof com, "unknown");
	else
		memcpy(com, c.name, sizeof com);
	uint64_t now = tb_listing_now(), left = l->expires > now ? l->expires - now : 0;
	printf("%s  %-7s %s@%s  \"%.*s\"%s%.*s%s  %s, %llu days left%s\n", id,
	       l->kind == TB_LISTING_OFFER ? "offer" : "request", who, com, (int)l->title.len,
	       (const char *)l->title.p, l->category.len ? " [" : "", (int)l->category.len,
	       (const char *)l->category.p, l->category.len ? "]" : "",
	       l->visibility == TB_LISTING_FEDERATION ? "federation" : "community",
	       (unsigned long long)((left + TB_LISTING_DAY - 1) / TB_LISTING_DAY),
	       hidden ? ", hidden here" : "");
	return 0;
}

int tb_cmd_listing_list(struct tb_cli *cli, int argc, char **argv)
{
	struct list_in in;
	int rc = parse_list(argc, argv, &in);
	if (rc || (rc = tb_cli_open(cli, false)) || (rc = resolve(cli, &in)))
		return rc;
	in.q.now = tb_listing_now();
	int err;
	if (cli->json) /* GET /api/v1/listings */
		return tb_cli_print_json(tb_vocab_listings(cli->store, &in.q, LIST_MAX, &err), err,
					 "the listings");
	err = tb_store_listings_search(cli->store, &in.q, print_one, cli);
	if (err < 0)
		return tb_cli_fail(TB_EXIT_IO, "cannot read the listings: %s", tb_strerror(err));
	return TB_EXIT_OK;
}
