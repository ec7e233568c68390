/*
 * xroute.c: routes over the trust-line graph (tb_xroute.h, PROTOCOL.md
 * 12.7). The best route is found by a breadth-first search by layers that
 * keeps, for every community reached, the widest way in (the largest
 * smallest room) among the shortest, so it is shortest first, then most
 * room, then by community id. The next ones come from Yen's k-shortest
 * paths over the same search (each spur searched with the earlier routes'
 * next hops and the root's communities left out), which stays exact for
 * this order because the room of a route is the smallest of its parts.
 * Routes are simple (no community twice). The same search over every trust
 * line, full or not and through any community, gives the failing routes a
 * person is shown with the reason of each hop. Work per search is bounded:
 * k routes of at most TB_XROUTE_LOOK_MAX hops, each hop one search.
 */
#include "xgraph_int.h"

#include <stdlib.h>
#include <string.h>

#define POOL_MAX 64 /* candidate routes kept while choosing the next best */
#define K_DEFAULT 5

struct path {
	size_t len; /* hops */
	uint32_t node[TB_XROUTE_LOOK_MAX + 1];
	int64_t room;
};

struct ws {
	const struct tb_xgraph *g;
	uint64_t minutes;
	bool usable; /* only hops that can carry minutes, else every line */
	int16_t *dist;
	int64_t *best;
	uint32_t *pred;
	uint32_t *cur, *next, *touched;
	size_t ntouched;
	uint8_t *banned;
	uint32_t ban_next[TB_XROUTE_K_MAX * 2 + 1]; /* hops left out from the source */
	size_t nban;
};

const char *tb_xhop_text(int why)
{
	switch ((enum tb_xhop_why)why) {
	case TB_XHOP_OK:
		return "ok";
	case TB_XHOP_NOTADMITTED:
		return "community not admitted here";
	case TB_XHOP_FORKED:
		return "its log forked";
	case TB_XHOP_SUCCEEDED:
		return "its log forked and was succeeded";
	case TB_XHOP_NOBACK:
		return "the paying side has no trust line to it";
	case TB_XHOP_FULL:
		return "trust line full";
	}
	return "?";
}

static int hop_why(const struct ws *w, const struct tb_xedge *e)
{
	switch ((enum tb_xnode_state)tb_xgraph_node(w->g, e->to)->state) {
	case TB_XNODE_OK:
		break;
	case TB_XNODE_UNKNOWN:
	case TB_XNODE_NOTADMITTED:
		return TB_XHOP_NOTADMITTED;
	case TB_XNODE_FORKED:
		return TB_XHOP_FORKED;
	case TB_XNODE_SUCCEEDED:
		return TB_XHOP_SUCCEEDED;
	}
	if (!e->back)
		return TB_XHOP_NOBACK;
	if (e->room < 0 || (uint64_t)e->room < w->minutes)
		return TB_XHOP_FULL;
	return TB_XHOP_OK;
}

static bool ws_init(struct ws *w, const struct tb_xgraph *g, uint64_t minutes)
{
	size_t n = tb_xgraph_nodes(g) + 1;
	memset(w, 0, sizeof *w);
	w->g = g;
	w->minutes = minutes;
	w->dist = malloc(n * sizeof *w->dist);
	w->best = malloc(n * sizeof *w->best);
	w->pred = malloc(n * sizeof *w->pred);
	w->cur = malloc(n * sizeof *w->cur);
	w->next = malloc(n * sizeof *w->next);
	w->touched = malloc(n * sizeof *w->touched);
	w->banned = calloc(n, 1);
	if (!w->dist || !w->best || !w->pred || !w->cur || !w->next || !w->touched || !w->banned)
		return false;
	for (size_t i = 0; i < n; i++)
		w->dist[i] = -1;
	return true;
}

static void ws_free(struct ws *w)
{
	free(w->dist);
	free(w->best);
	free(w->pred);
	free(w->cur);
	free(w->next);
	free(w->touched);
	free(w->banned);
}

static bool banned_next(const struct ws *w, uint32_t v)
{
	for (size_t i = 0; i < w->nban; i++)
		if (w->ban_next[i] == v)
			return true;
	return false;
}

static void reach(struct ws *w, uint32_t u, const struct tb_xedge *e, int16_t d, size_t *nn)
{
	uint32_t v = e->to;
	int64_t r = w->best[u] < e->room ? w->best[u] : e->room;
	if (w->dist[v] < 0) {
		w->dist[v] = (int16_t)(d + 1);
		w->best[v] = r;
		w->pred[v] = u;
		w->next[(*nn)++] = v;
		w->touched[w->ntouched++] = v;
	} else if (w->dist[v] == d + 1 && (r > w->best[v] || (r == w->best[v] && u < w->pred[v]))) {
		w->best[v] = r;
		w->pred[v] = u;
	}
}

/* The best path src -> dst of at most maxh hops avoiding banned nodes (and
 * the banned next hops from src): true and p, or false. */
static bool search(struct ws *w, uint32_t src, uint32_t dst, size_t maxh, struct path *p)
{
	size_t ncur = 1;
	w->ntouched = 0;
	w->cur[0] = src;
	w->dist[src] = 0;
	w->best[src] = INT64_MAX;
	w->touched[w->ntouched++] = src;
	for (int16_t d = 0; (size_t)d < maxh && ncur && w->dist[dst] < 0; d++) {
		size_t nn = 0;
		for (size_t i = 0; i < ncur; i++) {
			uint32_t u = w->cur[i];
			size_t ne;
			const struct tb_xedge *e = tb_xgraph_out(w->g, u, &ne);
			for (size_t j = 0; j < ne; j++) {
				if (w->banned[e[j].to] || (w->usable && hop_why(w, &e[j])) ||
				    (u == src && banned_next(w, e[j].to)))
					continue;
				reach(w, u, &e[j], d, &nn);
			}
		}
		uint32_t *t = w->cur;
		w->cur = w->next;
		w->next = t;
		ncur = nn;
	}
	bool found = w->dist[dst] > 0;
	if (found) {
		p->len = (size_t)w->dist[dst];
		p->room = w->best[dst];
		uint32_t v = dst;
		for (size_t i = p->len + 1; i-- > 0; v = w->pred[v])
			p->node[i] = v;
	}
	for (size_t i = 0; i < w->ntouched; i++)
		w->dist[w->touched[i]] = -1;
	return found;
}

/* Shorter first, then more room, then by the communities' order. */
static int cmp_path(const struct path *a, const struct path *b)
{
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->room != b->room)
		return a->room > b->room ? -1 : 1;
	for (size_t i = 0; i <= a->len; i++)
		if (a->node[i] != b->node[i])
			return a->node[i] < b->node[i] ? -1 : 1;
	return 0;
}

static bool same_start(const struct path *a, const struct path *b, size_t i)
{
	return a->len > i && !memcmp(a->node, b->node, (i + 1) * sizeof a->node[0]);
}

struct yen {
	struct path a[TB_XROUTE_K_MAX * 2];
	size_t na;
	struct path pool[POOL_MAX];
	size_t npool;
};

static void pool_add(struct yen *y, const struct path *p)
{
	for (size_t i = 0; i < y->na; i++)
		if (!cmp_path(&y->a[i], p))
			return;
	for (size_t i = 0; i < y->npool; i++)
		if (!cmp_path(&y->pool[i], p))
			return;
	if (y->npool < POOL_MAX) {
		y->pool[y->npool++] = *p;
		return;
	}
	size_t worst = 0;
	for (size_t i = 1; i < y->npool; i++)
		if (cmp_path(&y->pool[i], &y->pool[worst]) > 0)
			worst = i;
	if (cmp_path(p, &y->pool[worst]) < 0)
		y->pool[worst] = *p;
}

/* The spurs of the last route found, into the pool. */
static void spurs(struct ws *w, struct yen *y, uint32_t dst, size_t maxh)
{
	const struct path *prev = &y->a[y->na - 1];
	for (size_t i = 0; i < prev->len; i++) {
		w->nban = 0;
		for (size_t k = 0; k < y->na; k++)
			if (same_start(&y->a[k], prev, i))
				w->ban_next[w->nban++] = y->a[k].node[i + 1];
		for (size_t k = 0; k < i; k++)
			w->banned[prev->node[k]] = 1;
		struct path s;
		bool ok = search(w, prev->node[i], dst, maxh - i, &s);
		for (size_t k = 0; k < i; k++)
			w->banned[prev->node[k]] = 0;
		if (!ok)
			continue;
		struct path t = *prev;
		t.len = i + s.len;
		memcpy(&t.node[i], s.node, (s.len + 1) * sizeof s.node[0]);
		t.room = s.room;
		for (size_t k = 0; k < i; k++) {
			const struct tb_xedge *e = tb_xgraph_edge(w->g, t.node[k], t.node[k + 1]);
			if (e->room < t.room)
				t.room = e->room;
		}
		pool_add(y, &t);
	}
	w->nban = 0;
}

/* Up to k best paths src -> dst of at most maxh hops into y->a. */
static void yen(struct ws *w, struct yen *y, uint32_t src, uint32_t dst, size_t maxh, size_t k)
{
	y->na = y->npool = 0;
	if (!search(w, src, dst, maxh, &y->a[0]))
		return;
	y->na = 1;
	while (y->na < k) {
		spurs(w, y, dst, maxh);
		if (!y->npool)
			break;
		size_t best = 0;
		for (size_t i = 1; i < y->npool; i++)
			if (cmp_path(&y->pool[i], &y->pool[best]) < 0)
				best = i;
		y->a[y->na++] = y->pool[best];
		y->pool[best] = y->pool[--y->npool];
	}
}

static void route_of(const struct ws *w, const struct path *p, size_t maxh, struct tb_xroute *r)
{
	memset(r, 0, sizeof *r);
	r->nhops = p->len;
	r->room = p->room;
	r->too_long = p->len > maxh;
	for (size_t i = 0; i < p->len; i++) {
		const struct tb_xedge *e = tb_xgraph_edge(w->g, p->node[i], p->node[i + 1]);
		struct tb_xhop *h = &r->hop[i];
		h->from = e->from;
		h->to = e->to;
		h->room = e->room;
		h->why = (uint8_t)hop_why(w, e);
		r->bad += h->why != TB_XHOP_OK;
	}
}

static int cmp_refused(const void *va, const void *vb)
{
	const struct tb_xroute *a = va, *b = vb;
	size_t ba = a->bad + a->too_long, bb = b->bad + b->too_long;
	if (ba != bb)
		return ba < bb ? -1 : 1;
	if (a->nhops != b->nhops)
		return a->nhops < b->nhops ? -1 : 1;
	return a->room > b->room ? -1 : a->room < b->room;
}

static uint8_t why_none(const struct tb_xgraph *g, uint32_t dst)
{
	if (tb_xgraph_node(g, dst)->state == TB_XNODE_UNKNOWN)
		return TB_XNONE_UNKNOWN;
	for (uint32_t i = 0; i < tb_xgraph_nodes(g); i++)
		if (tb_xgraph_edge(g, i, dst))
			return TB_XNONE_NOPATH;
	return TB_XNONE_NOLINES;
}

/* The failing routes: every line, up to TB_XROUTE_LOOK_MAX hops. */
static void refused(struct ws *w, struct yen *y, uint32_t src, uint32_t dst, size_t maxh, size_t k,
		    struct tb_xroute_result *out)
{
	w->usable = false;
	yen(w, y, src, dst, TB_XROUTE_LOOK_MAX, k + out->nfound);
	for (size_t i = 0; i < y->na; i++) {
		struct tb_xroute r;
		route_of(w, &y->a[i], maxh, &r);
		if (!r.bad && !r.too_long)
			continue; /* a route that works: found, or past k */
		if (out->nrefused < TB_XROUTE_K_MAX)
			out->refused[out->nrefused++] = r;
	}
	qsort(out->refused, out->nrefused, sizeof out->refused[0], cmp_refused);
	if (out->nrefused > k)
		out->nrefused = k;
	if (!y->na)
		out->none = why_none(w->g, dst);
}

int tb_xroute_find(const struct tb_xgraph *g, const struct tb_xroute_query *q,
		   struct tb_xroute_result *out)
{
	memset(out, 0, sizeof *out);
	size_t maxh = q->max_hops ? q->max_hops : TB_XROUTE_HOPS_MAX;
	size_t k = q->k ? q->k : K_DEFAULT;
	uint32_t src, dst;
	if (!q->minutes || maxh > TB_XROUTE_HOPS_MAX || k > TB_XROUTE_K_MAX)
		return TB_EINVAL;
	if (tb_xgraph_find(g, q->from, &src))
		return TB_ENOTFOUND;
	if (!memcmp(q->from, q->to, TB_KEY_LEN)) {
		out->none = TB_XNONE_SAME;
		return 0;
	}
	if (tb_xgraph_find(g, q->to, &dst)) {
		out->none = TB_XNONE_UNKNOWN;
		return 0;
	}
	struct ws w;
	bool ok = ws_init(&w, g, q->minutes);
	struct yen *y = malloc(sizeof *y);
	if (!y || !ok) {
		free(y);
		ws_free(&w);
		return TB_ENOMEM;
	}
	w.usable = true;
	yen(&w, y, src, dst, maxh, k);
	for (size_t i = 0; i < y->na; i++)
		route_of(&w, &y->a[i], maxh, &out->found[out->nfound++]);
	refused(&w, y, src, dst, maxh, k, out);
	ws_free(&w);
	free(y);
	return 0;
}
