/*
 * routes.c: the vocabulary's routes object (docs/API.md, "Routes"): what
 * GET /api/v1/routes answers and `tally --json exchange route` prints, from
 * one tb_op_routes. Each route lists its communities and its hops, each hop
 * with its room and, in a failing route, the reason it fails. Nothing here
 * reads the store: the names come from the graph the search ran on.
 */
#include "tb_json.h"
#include "tb_route.h"

#include <stdio.h>

/* Sets key to v on o, remembering a failure (v is taken either way). */
static void put(struct tb_json *o, const char *key, struct tb_json *v, int *err)
{
	if (*err) {
		tb_json_free(v);
		return;
	}
	*err = tb_json_set(o, key, v);
}

static struct tb_json *community(const struct tb_op_routes *r, uint32_t i, int *err)
{
	char name[TB_NAME_MAX + 16];
	tb_op_route_name(r, i, name, sizeof name);
	struct tb_json *o = tb_json_object();
	if (!o) {
		*err = TB_ENOMEM;
		return NULL;
	}
	put(o, "community", tb_json_bytes(tb_xgraph_node(r->g, i)->id, TB_KEY_LEN), err);
	put(o, "community_name", tb_json_string(name), err);
	return o;
}

static struct tb_json *hop(const struct tb_op_routes *r, const struct tb_xhop *h, int *err)
{
	const struct tb_xedge *e = tb_xgraph_edge(r->g, h->from, h->to);
	char from[TB_NAME_MAX + 16], to[TB_NAME_MAX + 16];
	tb_op_route_name(r, h->from, from, sizeof from);
	tb_op_route_name(r, h->to, to, sizeof to);
	struct tb_json *o = tb_json_object();
	if (!o || !e) {
		tb_json_free(o);
		*err = TB_ENOMEM;
		return NULL;
	}
	put(o, "from", tb_json_string(from), err);
	put(o, "to", tb_json_string(to), err);
	put(o, "room_minutes", tb_json_int(h->room), err);
	put(o, "limit_minutes", tb_json_int((int64_t)e->limit), err);
	put(o, "owed_minutes", tb_json_int(e->owed), err);
	put(o, "held_minutes", tb_json_int(e->held), err);
	put(o, "ok", tb_json_bool(h->why == TB_XHOP_OK), err);
	put(o, "reason", h->why ? tb_json_string(tb_xhop_text(h->why)) : tb_json_null(), err);
	return o;
}

static struct tb_json *route(const struct tb_op_routes *r, const struct tb_xroute *x, int *err)
{
	struct tb_json *o = tb_json_object(), *path = tb_json_array(), *hops = tb_json_array();
	if (!o || !path || !hops) {
		tb_json_free(o);
		tb_json_free(path);
		tb_json_free(hops);
		*err = TB_ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < x->nhops && !*err; i++) {
		if (!i)
			*err = tb_json_push(path, community(r, x->hop[0].from, err));
		if (!*err)
			*err = tb_json_push(path, community(r, x->hop[i].to, err));
		if (!*err)
			*err = tb_json_push(hops, hop(r, &x->hop[i], err));
	}
	put(o, "hops", tb_json_int((int64_t)x->nhops), err);
	put(o, "room_minutes", tb_json_int(x->room), err);
	put(o, "too_long", tb_json_bool(x->too_long), err);
	put(o, "path", path, err);
	put(o, "legs", hops, err);
	return o;
}

static struct tb_json *routes(const struct tb_op_routes *r, const struct tb_xroute *v, size_t n,
			      int *err)
{
	struct tb_json *a = tb_json_array();
	if (!a)
		*err = TB_ENOMEM;
	for (size_t i = 0; i < n && !*err; i++)
		*err = tb_json_push(a, route(r, &v[i], err));
	return a;
}

struct tb_json *tb_vocab_routes(const struct tb_op_routes *r)
{
	char payee[TB_NAME_MAX + TB_NAME_MAX + 2];
	snprintf(payee, sizeof payee, "%s@%s", r->to_name, r->to.name);
	int err = 0;
	struct tb_json *o = tb_json_object();
	if (!o)
		return NULL;
	const struct tb_xroute_result *x = &r->res;
	put(o, "payee", tb_json_string(payee), &err);
	put(o, "payee_community", tb_json_bytes(r->to.id, TB_KEY_LEN), &err);
	put(o, "minutes", tb_json_int((int64_t)r->minutes), &err);
	put(o, "max_hops", tb_json_int(r->max_hops), &err);
	put(o, "routes", routes(r, x->found, x->nfound, &err), &err);
	put(o, "refused", routes(r, x->refused, x->nrefused, &err), &err);
	put(o, "reason",
	    x->nfound ? tb_json_null() : tb_json_string(tb_op_route_none_text(x->none)), &err);
	if (err) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}
