/*
 * tb_route.h: routes to a member of another community, as the command line
 * (`tally exchange route`) and tallyd's API (GET /api/v1/routes) both show
 * them (ops_route.c over store/tb_xroute.h, PROTOCOL.md 12.7): the payee
 * named as NAME@COMMUNITY is resolved and checked here, the graph brought up
 * to the store, and the candidates and the failing routes given with
 * display names. Nothing is written. The same call is what `exchange send`
 * will use to pick a route when there is no direct trust line.
 */
#ifndef TB_ROUTE_H
#define TB_ROUTE_H

#include "tb_ops.h"
#include "tb_xroute.h"

/* What was asked, and the search's answer with every community's name. */
struct tb_op_routes {
	char to_name[TB_NAME_MAX + 1]; /* the payee's member name */
	struct tb_op_community to;     /* the payee's community */
	uint64_t minutes;
	unsigned max_hops;
	struct tb_xroute_result res;
	const struct tb_xgraph *g; /* for the names of the nodes in res */
};

/* Display name of node i of r->g: genesis name, else "1a2b3c4d...". */
void tb_op_route_name(const struct tb_op_routes *r, uint32_t i, char *out, size_t cap);
/* The reason no candidate could be looked at (res.none), as a sentence. */
const char *tb_op_route_none_text(uint8_t none);

/*
 * Routes from this community to `to` (NAME@COMMUNITY) for minutes, of at
 * most max_hops (0: TB_XROUTE_HOPS_MAX) hops, up to k (0: 5) of them; g is
 * refreshed from o->store first (a graph kept between calls re-reads only
 * the logs that moved). 0 with out filled (res.nfound may be 0), else:
 * EINVAL (a bad `to`, amount or count), ENOTFOUND (no such community
 * admitted here), ELINK (it is this community), EMEMBER (its log is held
 * and has no active member of that name), or a store error; rej says why.
 */
TB_MUST_CHECK int tb_op_route(const struct tb_ops *o, struct tb_xgraph *g, const char *to,
			      int64_t minutes, unsigned max_hops, unsigned k,
			      struct tb_op_routes *out, struct tb_reject *rej);

#endif
