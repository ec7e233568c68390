/*
 * xgraph.c: the trust-line graph a node knows (tb_xroute.h, PROTOCOL.md
 * 12.7), cached per log. Each held log keeps a copy of its clearing accounts
 * with the head seq it was read at; a refresh reads again only the logs
 * whose head moved, then rebuilds the nodes (every held log and every
 * community a link names) and the edges in one compact array indexed by
 * node (CSR). It reads through the store's public functions only and never
 * writes; every array is capped (TB_XGRAPH_NODES_MAX, TB_XGRAPH_LINES_MAX).
 */
#include "xgraph_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One held log as last read. */
struct xlog {
	uint8_t id[TB_KEY_LEN];
	uint64_t seq;
	uint32_t flags; /* TB_LOG_* of its head */
	char name[TB_NAME_MAX + 1];
	uint8_t state;
	struct tb_clearing *c; /* sorted by other */
	size_t nc;
};

struct tb_xgraph {
	struct xlog *logs; /* sorted by id once built */
	size_t nlogs, caplogs;
	size_t lines; /* clearing accounts kept, over all logs */
	bool sorted;
	struct tb_xnode *nodes; /* sorted by id */
	size_t nnodes;
	uint32_t *first; /* nnodes + 1: node i's edges are edges[first[i]..first[i+1]) */
	struct tb_xedge *edges;
	size_t nedges;
	size_t reread, dropped; /* by the last refresh */
	size_t build_dropped;	/* by the last build */
};

int tb_xgraph_new(struct tb_xgraph **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : TB_ENOMEM;
}

static void logs_free(struct xlog *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(l[i].c);
	free(l);
}

static void built_free(struct tb_xgraph *g)
{
	free(g->nodes);
	free(g->first);
	free(g->edges);
	g->nodes = NULL;
	g->first = NULL;
	g->edges = NULL;
	g->nnodes = g->nedges = 0;
}

void tb_xgraph_free(struct tb_xgraph *g)
{
	if (!g)
		return;
	logs_free(g->logs, g->nlogs);
	built_free(g);
	free(g);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, TB_KEY_LEN);
}

static int cmp_clearing(const void *a, const void *b)
{
	const struct tb_clearing *x = a, *y = b;
	return memcmp(x->other, y->other, TB_KEY_LEN);
}

static void sort_logs(struct tb_xgraph *g)
{
	if (!g->sorted && g->nlogs > 1)
		qsort(g->logs, g->nlogs, sizeof *g->logs, cmp_id);
	g->sorted = true;
}

static struct xlog *log_find(const struct tb_xgraph *g, const uint8_t id[TB_KEY_LEN])
{
	if (!g->nlogs)
		return NULL;
	if (g->sorted)
		return bsearch(id, g->logs, g->nlogs, sizeof *g->logs, cmp_id);
	for (size_t i = 0; i < g->nlogs; i++)
		if (!memcmp(g->logs[i].id, id, TB_KEY_LEN))
			return &g->logs[i];
	return NULL;
}

/* A new slot at the end (unsorted after). */
static struct xlog *log_add(struct tb_xgraph *g, const uint8_t id[TB_KEY_LEN])
{
	if (g->nlogs == g->caplogs) {
		size_t cap = g->caplogs ? 2 * g->caplogs : 64;
		if (cap > TB_XGRAPH_NODES_MAX)
			cap = TB_XGRAPH_NODES_MAX;
		if (g->nlogs == cap)
			return NULL;
		struct xlog *l = realloc(g->logs, cap * sizeof *l);
		if (!l)
			return NULL;
		g->logs = l;
		g->caplogs = cap;
	}
	struct xlog *l = &g->logs[g->nlogs++];
	memset(l, 0, sizeof *l);
	memcpy(l->id, id, TB_KEY_LEN);
	if (g->nlogs > 1 && memcmp(g->logs[g->nlogs - 2].id, id, TB_KEY_LEN) > 0)
		g->sorted = false;
	return l;
}

int tb_xgraph_put(struct tb_xgraph *g, const uint8_t id[TB_KEY_LEN], const char *name,
		  uint8_t state, const struct tb_clearing *c, size_t n)
{
	struct xlog *l = log_find(g, id);
	if (!l && !(l = log_add(g, id)))
		return g->nlogs == TB_XGRAPH_NODES_MAX ? TB_EFULL : TB_ENOMEM;
	if (g->lines - l->nc + n > TB_XGRAPH_LINES_MAX)
		return TB_EFULL;
	struct tb_clearing *copy = NULL;
	if (n && !(copy = malloc(n * sizeof *copy)))
		return TB_ENOMEM;
	if (n) {
		memcpy(copy, c, n * sizeof *copy);
		qsort(copy, n, sizeof *copy, cmp_clearing);
	}
	g->lines = g->lines - l->nc + n;
	free(l->c);
	l->c = copy;
	l->nc = n;
	l->state = state;
	snprintf(l->name, sizeof l->name, "%s", name ? name : "");
	return 0;
}

/* ---- building the nodes and edges ---- */

static const struct tb_clearing *line_of(const struct xlog *l, const uint8_t other[TB_KEY_LEN])
{
	return l && l->nc ? bsearch(other, l->c, l->nc, sizeof *l->c, cmp_clearing) : NULL;
}

/* Every held log and every community a trust line names, sorted, unique. */
static int build_nodes(struct tb_xgraph *g)
{
	size_t cap = g->nlogs;
	for (size_t i = 0; i < g->nlogs; i++)
		cap += g->logs[i].nc;
	uint8_t(*ids)[TB_KEY_LEN] = malloc((cap ? cap : 1) * TB_KEY_LEN);
	if (!ids)
		return TB_ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < g->nlogs; i++) {
		memcpy(ids[n++], g->logs[i].id, TB_KEY_LEN);
		for (size_t j = 0; j < g->logs[i].nc; j++)
			if (g->logs[i].c[j].linked)
				memcpy(ids[n++], g->logs[i].c[j].other, TB_KEY_LEN);
	}
	qsort(ids, n, TB_KEY_LEN, cmp_id);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || memcmp(ids[u - 1], ids[i], TB_KEY_LEN))
			memcpy(ids[u++], ids[i], TB_KEY_LEN);
	if (u > TB_XGRAPH_NODES_MAX) {
		g->build_dropped += u - TB_XGRAPH_NODES_MAX;
		u = TB_XGRAPH_NODES_MAX;
	}
	g->nodes = calloc(u ? u : 1, sizeof *g->nodes);
	if (!g->nodes) {
		free(ids);
		return TB_ENOMEM;
	}
	for (size_t i = 0; i < u; i++) {
		struct tb_xnode *x = &g->nodes[i];
		memcpy(x->id, ids[i], TB_KEY_LEN);
		const struct xlog *l = log_find(g, x->id);
		x->state = l ? l->state : TB_XNODE_UNKNOWN;
		if (l)
			memcpy(x->name, l->name, sizeof x->name);
	}
	g->nnodes = u;
	free(ids);
	return 0;
}

static int cmp_edge(const void *a, const void *b)
{
	const struct tb_xedge *x = a, *y = b;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

/* The edge X -> Y of Y's trust line toward X. */
static void edge_of(const struct tb_xgraph *g, const struct xlog *y, const struct tb_clearing *c,
		    uint32_t from, uint32_t to, struct tb_xedge *e)
{
	memset(e, 0, sizeof *e);
	e->from = from;
	e->to = to;
	e->limit = c->limit;
	e->owed = -c->balance;
	const struct tb_clearing *back = line_of(log_find(g, c->other), y->id);
	e->back = true;
	if (log_find(g, c->other)) {
		e->back = back && back->linked;
		e->held = back ? back->held : 0;
	}
	e->room = (int64_t)e->limit - e->owed - e->held;
}

static int build_edges(struct tb_xgraph *g)
{
	g->edges = malloc((g->lines ? g->lines : 1) * sizeof *g->edges);
	g->first = calloc(g->nnodes + 1, sizeof *g->first);
	if (!g->edges || !g->first)
		return TB_ENOMEM;
	size_t n = 0;
	uint32_t from, to;
	for (size_t i = 0; i < g->nlogs; i++) {
		const struct xlog *y = &g->logs[i];
		if (tb_xgraph_find(g, y->id, &to))
			continue;
		for (size_t j = 0; j < y->nc; j++) {
			if (!y->c[j].linked)
				continue;
			if (tb_xgraph_find(g, y->c[j].other, &from)) {
				g->build_dropped++;
				continue;
			}
			edge_of(g, y, &y->c[j], from, to, &g->edges[n++]);
		}
	}
	qsort(g->edges, n, sizeof *g->edges, cmp_edge);
	for (size_t i = 0; i < n; i++)
		g->first[g->edges[i].from + 1]++;
	for (size_t i = 0; i < g->nnodes; i++)
		g->first[i + 1] += g->first[i];
	g->nedges = n;
	return 0;
}

int tb_xgraph_build(struct tb_xgraph *g)
{
	built_free(g);
	sort_logs(g);
	g->build_dropped = 0;
	int err = build_nodes(g);
	if (!err)
		err = build_edges(g);
	if (err)
		built_free(g);
	return err;
}

/* ---- reading the store ---- */

struct refresh {
	struct tb_xgraph *g;
	struct tb_store *s;
	struct xlog *old; /* the logs as last read (sorted) */
	size_t nold;
	struct tb_admitted adm;
	struct tb_clearing *c; /* the clearing accounts being read */
	size_t nc, cap;
	int err;
};

static int take_clearing(void *vctx, const struct tb_clearing *c)
{
	struct refresh *r = vctx;
	if (r->g->lines + r->nc >= TB_XGRAPH_LINES_MAX) {
		r->g->dropped++;
		return 0;
	}
	if (r->nc == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct tb_clearing *p = realloc(r->c, cap * sizeof *p);
		if (!p)
			return TB_ENOMEM;
		r->c = p;
		r->cap = cap;
	}
	r->c[r->nc++] = *c;
	return 0;
}

static uint8_t state_of(struct refresh *r, const struct tb_head *h)
{
	if (h->flags & TB_LOG_FORKED) {
		struct tb_successor succ;
		size_t n = 0;
		return tb_store_successor(r->s, h->log_id, &succ, &n) == 0 && n ? TB_XNODE_SUCCEEDED
										: TB_XNODE_FORKED;
	}
	return tb_admitted_has(&r->adm, h->log_id) ? TB_XNODE_OK : TB_XNODE_NOTADMITTED;
}

/* One held log: kept as read if its head did not move, else read again. */
static int take_log(void *vctx, const struct tb_head *h)
{
	struct refresh *r = vctx;
	struct tb_xgraph *g = r->g;
	struct xlog *was =
		r->nold ? bsearch(h->log_id, r->old, r->nold, sizeof *r->old, cmp_id) : NULL;
	struct xlog *l = log_add(g, h->log_id);
	if (!l) {
		g->dropped++;
		return g->nlogs == TB_XGRAPH_NODES_MAX ? 0 : TB_ENOMEM;
	}
	l->state = state_of(r, h);
	if (was && was->seq == h->seq && was->flags == h->flags) {
		*l = *was;
		l->state = state_of(r, h);
		was->c = NULL;
		g->lines += l->nc;
		return 0;
	}
	l->seq = h->seq;
	l->flags = h->flags;
	struct tb_community com;
	if (tb_store_community(r->s, h->log_id, &com) == 0)
		memcpy(l->name, com.name, sizeof l->name);
	r->nc = 0;
	int err = tb_store_foreach_clearing(r->s, h->log_id, take_clearing, r);
	if (err && err != TB_ENOTFOUND)
		return err;
	if (r->nc && !(l->c = malloc(r->nc * sizeof *l->c)))
		return TB_ENOMEM;
	if (r->nc) {
		memcpy(l->c, r->c, r->nc * sizeof *l->c);
		qsort(l->c, r->nc, sizeof *l->c, cmp_clearing);
	}
	l->nc = r->nc;
	g->lines += l->nc;
	g->reread++;
	return 0;
}

int tb_xgraph_refresh(struct tb_xgraph *g, struct tb_store *s)
{
	sort_logs(g);
	struct refresh r = {.g = g, .s = s, .old = g->logs, .nold = g->nlogs};
	bool built = g->first != NULL;
	int err = tb_store_admitted(s, &r.adm);
	if (err)
		return err;
	g->logs = NULL;
	g->nlogs = g->caplogs = g->lines = g->reread = g->dropped = 0;
	g->sorted = true;
	err = tb_store_foreach_log(s, take_log, &r);
	if (err > 0)
		err = TB_ECORRUPT;
	tb_admitted_free(&r.adm);
	free(r.c);
	logs_free(r.old, r.nold);
	/* Nothing moved (same logs, none read again): the edges stand. */
	if (!err && !(built && !g->reread && g->nlogs == r.nold))
		err = tb_xgraph_build(g);
	if (err) {
		logs_free(g->logs, g->nlogs);
		g->logs = NULL;
		g->nlogs = g->caplogs = g->lines = 0;
		built_free(g);
	}
	return err;
}

/* ---- reading the graph ---- */

void tb_xgraph_stats(const struct tb_xgraph *g, struct tb_xgraph_stats *out)
{
	out->nodes = g->nnodes;
	out->edges = g->nedges;
	out->logs = g->nlogs;
	out->reread = g->reread;
	out->dropped = g->dropped + g->build_dropped;
}

const struct tb_xnode *tb_xgraph_node(const struct tb_xgraph *g, uint32_t i)
{
	return i < g->nnodes ? &g->nodes[i] : NULL;
}

int tb_xgraph_find(const struct tb_xgraph *g, const uint8_t id[TB_KEY_LEN], uint32_t *i)
{
	const struct tb_xnode *x =
		g->nodes ? bsearch(id, g->nodes, g->nnodes, sizeof *g->nodes, cmp_id) : NULL;
	if (!x)
		return TB_ENOTFOUND;
	*i = (uint32_t)(x - g->nodes);
	return 0;
}

const struct tb_xedge *tb_xgraph_edge(const struct tb_xgraph *g, uint32_t from, uint32_t to)
{
	if (from >= g->nnodes)
		return NULL;
	for (uint32_t e = g->first[from]; e < g->first[from + 1]; e++)
		if (g->edges[e].to == to)
			return &g->edges[e];
	return NULL;
}

/* For the search (xroute.c): node i's edges. */
const struct tb_xedge *tb_xgraph_out(const struct tb_xgraph *g, uint32_t i, size_t *n)
{
	*n = g->first[i + 1] - g->first[i];
	return &g->edges[g->first[i]];
}

size_t tb_xgraph_nodes(const struct tb_xgraph *g)
{
	return g->nnodes;
}
