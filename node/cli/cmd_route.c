/*
 * cmd_route.c: `tally exchange route`, the routes over trust lines by which
 * a member of this community could pay a member of another with no direct
 * line (PROTOCOL.md 12.7). tb_op_route (the code path of tallyd's GET
 * /api/v1/routes too) reads the trust lines of the logs held here and
 * searches them; this prints the candidates, best first, with each hop's
 * room, and the nearest routes that fail with the reason of each failing
 * hop. It writes nothing, and runs beside a running tallyd.
 */
#include "cli.h"
#include "tb_route.h"

#include <getopt.h>
#include <string.h>

struct route_in {
	const char *to;
	struct tb_cli_terms t; /* the amount only */
	unsigned max_hops, k;
};

static int parse_small(const char *opt, const char *arg, unsigned max, unsigned *v)
{
	uint64_t n;
	if (tb_parse_u64(arg, &n) || n < 1 || n > max)
		return tb_cli_fail(TB_EXIT_USAGE, "--%s: '%s' is not a number from 1 to %u", opt,
				   arg, max);
	*v = (unsigned)n;
	return 0;
}

static int parse_route(int argc, char **argv, struct route_in *in)
{
	static const struct option opts[] = {
		{"to", required_argument, 0, 't'},     {"minutes", required_argument, 0, 'm'},
		{"hours", required_argument, 0, 'H'},  {"max-hops", required_argument, 0, 'x'},
		{"routes", required_argument, 0, 'k'}, {0, 0, 0, 0}};
	memset(in, 0, sizeof *in);
	tb_cli_terms_init(&in->t);
	int c, rc;
	optind = 1;
	while ((c = tb_cli_getopt(argc, argv, opts, "exchange", "route")) != -1) {
		switch (c) {
		case 't':
			in->to = optarg;
			break;
		case 'x':
			if ((rc = parse_small("max-hops", optarg, TB_XROUTE_HOPS_MAX,
					      &in->max_hops)))
				return rc;
			break;
		case 'k':
			if ((rc = parse_small("routes", optarg, TB_XROUTE_K_MAX, &in->k)))
				return rc;
			break;
		case 'm':
		case 'H':
			if ((rc = tb_cli_terms_opt(&in->t, c, optarg)))
				return rc;
			break;
		default:
			return TB_EXIT_USAGE;
		}
	}
	if (optind != argc)
		return tb_cli_fail(TB_EXIT_USAGE, "exchange route: unexpected argument '%s'",
				   argv[optind]);
	if (!in->to || in->t.minutes < 0)
		return tb_cli_fail(
			TB_EXIT_USAGE,
			"exchange route needs --to NAME@COMMUNITY and --minutes or --hours");
	return 0;
}

static void print_path(const struct tb_op_routes *r, const struct tb_xroute *x)
{
	char name[TB_NAME_MAX + 16];
	for (size_t i = 0; i < x->nhops; i++) {
		if (!i) {
			tb_op_route_name(r, x->hop[0].from, name, sizeof name);
			printf("%s", name);
		}
		tb_op_route_name(r, x->hop[i].to, name, sizeof name);
		printf(" -> %s", name);
	}
}

static void print_hops(const struct tb_op_routes *r, const struct tb_xroute *x, bool failing)
{
	char from[TB_NAME_MAX + 16], to[TB_NAME_MAX + 16], room[32];
	for (size_t i = 0; i < x->nhops; i++) {
		const struct tb_xhop *h = &x->hop[i];
		if (failing && !h->why)
			continue;
		tb_op_route_name(r, h->from, from, sizeof from);
		tb_op_route_name(r, h->to, to, sizeof to);
		tb_out_hours(room, sizeof room, h->room);
		printf("     %s -> %s: room %s hours%s%s\n", from, to,
		       room[0] == '+' ? room + 1 : room, h->why ? ": " : "",
		       h->why ? tb_xhop_text(h->why) : "");
	}
	if (failing && x->too_long)
		printf("     too long: %zu hops, at most %u\n", x->nhops, r->max_hops);
}

static int print_routes(const struct tb_op_routes *r)
{
	char h[32], room[32];
	const struct tb_xroute_result *x = &r->res;
	tb_out_hours(h, sizeof h, (int64_t)r->minutes);
	if (x->nfound)
		printf("routes to %s@%s for %s hours, best first:\n", r->to_name, r->to.name,
		       h + 1);
	for (size_t i = 0; i < x->nfound; i++) {
		tb_out_hours(room, sizeof room, x->found[i].room);
		printf("  %zu. ", i + 1);
		print_path(r, &x->found[i]);
		printf("  (%zu hop%s, room %s hours)\n", x->found[i].nhops,
		       x->found[i].nhops == 1 ? "" : "s", room + 1);
		print_hops(r, &x->found[i], false);
	}
	if (x->nrefused)
		printf("%s:\n", x->nfound ? "routes that fail" : "no route; the nearest fail");
	for (size_t i = 0; i < x->nrefused; i++) {
		printf("  - ");
		print_path(r, &x->refused[i]);
		printf("  (%zu hop%s)\n", x->refused[i].nhops, x->refused[i].nhops == 1 ? "" : "s");
		print_hops(r, &x->refused[i], true);
	}
	if (x->nfound)
		return TB_EXIT_OK;
	return tb_cli_fail(TB_EXIT_REFUSED, "no route to %s@%s for %s hours: %s", r->to_name,
			   r->to.name, h + 1, tb_op_route_none_text(x->none));
}

int tb_cmd_exchange_route(struct tb_cli *cli, int argc, char **argv)
{
	struct route_in in;
	int rc = parse_route(argc, argv, &in);
	if (rc || (rc = tb_cli_open(cli, false)))
		return rc;
	struct tb_xgraph *g;
	if (tb_xgraph_new(&g))
		return tb_cli_fail(TB_EXIT_IO, "out of memory");
	struct tb_ops o = {cli->store, cli->self, cli->data, NULL};
	struct tb_op_routes r;
	struct tb_reject rej = {0};
	int err = tb_op_route(&o, g, in.to, in.t.minutes, in.max_hops, in.k, &r, &rej);
	if (err == TB_ENOTFOUND && rej.err == TB_ENOTFOUND)
		rc = tb_cli_fail(TB_EXIT_USAGE,
				 "%s ('tally community list' shows those admitted and those "
				 "known through neighbours)",
				 rej.msg);
	else if (err)
		rc = tb_cli_refused(cli, err, &rej);
	else if (cli->json) {
		cli->json_report = true;
		rc = tb_cli_print_json(tb_vocab_routes(&r), TB_ENOMEM, "the routes");
		if (!rc && !r.res.nfound)
			rc = TB_EXIT_REFUSED;
	} else {
		rc = print_routes(&r);
	}
	tb_xgraph_free(g);
	return rc;
}
