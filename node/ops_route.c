/*
 * ops_route.c: routes to a member of another community (tb_route.h), the
 * one code path of `tally exchange route` and GET /api/v1/routes. It names
 * the payee as tb_op_send does (NAME@COMMUNITY, the community among those
 * admitted here), checks the member when the payee's log is held, brings
 * the trust-line graph up to the store and searches it (store/xroute.c).
 * It writes nothing and prints nothing; a refusal says why in rej.
 */
#include "tb_route.h"

#include <stdio.h>
#include <string.h>

void tb_op_route_name(const struct tb_op_routes *r, uint32_t i, char *out, size_t cap)
{
	const struct tb_xnode *n = tb_xgraph_node(r->g, i);
	if (n && n->name[0]) {
		snprintf(out, cap, "%s", n->name);
		return;
	}
	char hex[9] = "?";
	if (n)
		tb_hex_encode(hex, n->id, 4);
	snprintf(out, cap, "%s...", hex);
}

const char *tb_op_route_none_text(uint8_t none)
{
	switch ((enum tb_xnone)none) {
	case TB_XNONE_SOME:
		return "every chain of trust lines found fails";
	case TB_XNONE_SAME:
		return "it is this community";
	case TB_XNONE_UNKNOWN:
		return "its log is not held here, so none of its trust lines is known";
	case TB_XNONE_NOLINES:
		return "it has recorded no trust line to any community";
	case TB_XNONE_NOPATH:
		return "no chain of trust lines in the logs held here leads to it";
	}
	return "?";
}

/* The payee's member, when its community's log is held. */
static int check_member(const struct tb_ops *o, struct tb_op_routes *out, struct tb_reject *rej)
{
	if (!out->to.held)
		return 0;
	struct tb_member m;
	int err = tb_store_member_find(o->store, out->to.id, out->to_name, &m);
	if (err == TB_ENOTFOUND || err == TB_ENAME || (!err && !m.active))
		return tb_op_refuse(rej, TB_EMEMBER, "%s has no active member named '%s'",
				    out->to.name, out->to_name);
	if (err)
		return tb_op_refuse(rej, err, "cannot read %s's members: %s", out->to.name,
				    tb_strerror(err));
	return 0;
}

int tb_op_route(const struct tb_ops *o, struct tb_xgraph *g, const char *to, int64_t minutes,
		unsigned max_hops, unsigned k, struct tb_op_routes *out, struct tb_reject *rej)
{
	memset(out, 0, sizeof *out);
	out->g = g;
	const char *cname = NULL;
	int err;
	if (minutes < 1 || minutes > TB_MINUTES_MAX)
		return tb_op_refuse(rej, TB_EINVAL, "an exchange is from 1 minute to %d hours",
				    TB_MINUTES_MAX / 60);
	if (max_hops > TB_XROUTE_HOPS_MAX)
		return tb_op_refuse(rej, TB_EINVAL, "a route has at most %d hops",
				    TB_XROUTE_HOPS_MAX);
	if (k > TB_XROUTE_K_MAX)
		return tb_op_refuse(rej, TB_EINVAL, "at most %d routes are shown", TB_XROUTE_K_MAX);
	out->minutes = (uint64_t)minutes;
	out->max_hops = max_hops ? max_hops : TB_XROUTE_HOPS_MAX;
	if ((err = tb_op_split_to(to, out->to_name, &cname, rej)) ||
	    (err = tb_op_community(o, cname, &out->to, rej)))
		return err;
	if (!memcmp(out->to.id, o->self, TB_KEY_LEN))
		return tb_op_refuse(rej, TB_ELINK,
				    "%s is this community; record or propose an exchange between "
				    "its members instead",
				    out->to.name);
	if ((err = check_member(o, out, rej)))
		return err;
	if ((err = tb_xgraph_refresh(g, o->store)))
		return tb_op_refuse(rej, err, "cannot read the trust lines held: %s",
				    tb_strerror(err));
	struct tb_xroute_query q = {o->self, out->to.id, out->minutes, out->max_hops, k};
	err = tb_xroute_find(g, &q, &out->res);
	if (err == TB_ENOTFOUND) /* the own log is not held: a store being set up */
		return tb_op_refuse(rej, TB_ENOTFOUND, "this community's log is not held yet");
	if (err)
		return tb_op_refuse(rej, err, "cannot search routes: %s", tb_strerror(err));
	return 0;
}
