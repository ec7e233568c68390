/*
 * test_xroute.c: the route search (store/xroute.c) over synthetic
 * trust-line graphs built with tb_xgraph_put: a line (routes of 1 to 4 hops,
 * more than the hops allowed refused as too long, more than six never
 * found), a mesh (shortest first, then most room, then by id), a full line
 * in the middle reported with its room, the states of communities (not
 * admitted, forked, succeeded, no line back), holds in flight, every "no
 * route" reason, cycles, a hub of 1000 spokes, and a random graph of 1000
 * communities whose every route is checked against the graph and whose
 * shortest length is checked against a plain breadth-first search (seed
 * printed; TB_SEED replays one). And the graph read from a real store
 * (LMDB, signed entries): a refresh reads again only the logs that moved,
 * and a lowered limit and a removed admission show in the next search.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_xroute.h"

#define NMAX 1100

/* A synthetic federation: community k's clearing accounts. */
struct fed {
	size_t n;
	struct tb_clearing *c[NMAX];
	size_t nc[NMAX], cap[NMAX];
	uint8_t state[NMAX];
	bool absent[NMAX]; /* log not held */
};

static struct fed F;

static const uint8_t *cid(uint32_t k)
{
	static uint8_t ids[NMAX][TB_KEY_LEN];
	memset(ids[k], 0, TB_KEY_LEN);
	ids[k][0] = (uint8_t)(k >> 8);
	ids[k][1] = (uint8_t)k;
	ids[k][31] = 1;
	return ids[k];
}

static void fed_init(size_t n)
{
	for (size_t k = 0; k < NMAX; k++)
		free(F.c[k]);
	memset(&F, 0, sizeof F);
	F.n = n;
}

static struct tb_clearing *acct(uint32_t y, uint32_t x)
{
	for (size_t i = 0; i < F.nc[y]; i++)
		if (!memcmp(F.c[y][i].other, cid(x), TB_KEY_LEN))
			return &F.c[y][i];
	if (F.nc[y] == F.cap[y]) {
		F.cap[y] = F.cap[y] ? 2 * F.cap[y] : 8;
		F.c[y] = realloc(F.c[y], F.cap[y] * sizeof *F.c[y]);
		assert_non_null(F.c[y]);
	}
	struct tb_clearing *c = &F.c[y][F.nc[y]++];
	memset(c, 0, sizeof *c);
	memcpy(c->other, cid(x), TB_KEY_LEN);
	return c;
}

/* y trusts x up to limit (x may owe y that much): the hop x -> y. */
static void trust(uint32_t y, uint32_t x, uint64_t limit)
{
	struct tb_clearing *c = acct(y, x);
	c->linked = true;
	c->limit = limit;
}

static void both(uint32_t a, uint32_t b, uint64_t limit)
{
	trust(a, b, limit);
	trust(b, a, limit);
}

static struct tb_xgraph *build(void)
{
	struct tb_xgraph *g;
	assert_int_equal(tb_xgraph_new(&g), 0);
	char name[32];
	/* In reverse order: the graph sorts what it is given. */
	for (size_t k = F.n; k-- > 0;) {
		if (F.absent[k])
			continue;
		snprintf(name, sizeof name, "C%zu", k);
		assert_int_equal(
			tb_xgraph_put(g, cid((uint32_t)k), name, F.state[k], F.c[k], F.nc[k]), 0);
	}
	assert_int_equal(tb_xgraph_build(g), 0);
	return g;
}

static uint32_t node_of(struct tb_xgraph *g, uint32_t k)
{
	uint32_t i;
	assert_int_equal(tb_xgraph_find(g, cid(k), &i), 0);
	return i;
}

static void find(struct tb_xgraph *g, uint32_t from, uint32_t to, uint64_t minutes, unsigned maxh,
		 struct tb_xroute_result *r)
{
	struct tb_xroute_query q = {cid(from), cid(to), minutes, maxh, 0};
	assert_int_equal(tb_xroute_find(g, &q, r), 0);
}

/* Route r goes through communities ks[0..n-1] (from first to last). */
static bool route_is(struct tb_xgraph *g, const struct tb_xroute *r, const uint32_t *ks, size_t n)
{
	if (r->nhops != n - 1)
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if (r->hop[i].from != node_of(g, ks[i]) || r->hop[i].to != node_of(g, ks[i + 1]))
			return false;
	return true;
}

#define ROUTE_IS(g, r, ...)                                         \
	assert_true(route_is(g, r, (const uint32_t[]){__VA_ARGS__}, \
			     sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t)))

static void test_line(void **state)
{
	(void)state;
	fed_init(8);
	for (uint32_t k = 0; k + 1 < 8; k++)
		both(k, k + 1, 600);
	struct tb_xgraph *g = build();
	struct tb_xroute_result r;
	for (uint32_t to = 1; to <= 4; to++) {
		find(g, 0, to, 120, 0, &r);
		assert_int_equal(r.nfound, 1);
		assert_int_equal(r.found[0].nhops, to);
		assert_int_equal(r.found[0].room, 600);
		assert_int_equal(r.nrefused, 0);
	}
	/* Four hops with at most three allowed: too long, not found. */
	find(g, 0, 4, 120, 3, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.nrefused, 1);
	assert_true(r.refused[0].too_long);
	assert_int_equal(r.refused[0].bad, 0);
	assert_int_equal(r.none, TB_XNONE_SOME);
	/* Seven hops: never found, shown as too long. */
	find(g, 0, 7, 1, 0, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.nrefused, 1);
	assert_int_equal(r.refused[0].nhops, 7);
	assert_true(r.refused[0].too_long);
	find(g, 0, 6, 1, 0, &r);
	assert_int_equal(r.nfound, 1);
	/* Backwards too: the lines go both ways. */
	find(g, 4, 0, 600, 0, &r);
	ROUTE_IS(g, &r.found[0], 4, 3, 2, 1, 0);
	/* The same community; a bad query. */
	find(g, 2, 2, 1, 0, &r);
	assert_int_equal(r.none, TB_XNONE_SAME);
	struct tb_xroute_query q = {cid(0), cid(1), 0, 0, 0};
	assert_int_equal(tb_xroute_find(g, &q, &r), TB_EINVAL);
	q.minutes = 1;
	q.max_hops = TB_XROUTE_HOPS_MAX + 1;
	assert_int_equal(tb_xroute_find(g, &q, &r), TB_EINVAL);
	q.max_hops = 0;
	q.from = cid(99);
	assert_int_equal(tb_xroute_find(g, &q, &r), TB_ENOTFOUND);
	tb_xgraph_free(g);
}

/*
 * 0 - 1 - 4        two hops through 1 (room 50) or 2 (room 100), three
 * 0 - 2 - 4        through 3 and 5; a full line 0 -> 6 -> 4 (room 30).
 * 0 - 3 - 5 - 4
 * 0 - 6 - 4
 */
static void test_mesh(void **state)
{
	(void)state;
	fed_init(7);
	both(0, 1, 600);
	both(1, 4, 600);
	both(0, 2, 600);
	both(2, 4, 600);
	both(0, 3, 600);
	both(3, 5, 600);
	both(5, 4, 600);
	both(0, 6, 600);
	both(6, 4, 600);
	acct(4, 1)->balance = -550; /* 1 owes 4 550 of 600: room 50 */
	acct(4, 2)->balance = -500; /* room 100 */
	acct(4, 6)->balance = -570; /* room 30 */
	struct tb_xgraph *g = build();
	struct tb_xroute_result r;
	find(g, 0, 4, 20, 0, &r);
	assert_int_equal(r.nfound, 4);
	ROUTE_IS(g, &r.found[0], 0, 2, 4);
	assert_int_equal(r.found[0].room, 100);
	ROUTE_IS(g, &r.found[1], 0, 1, 4);
	ROUTE_IS(g, &r.found[2], 0, 6, 4);
	ROUTE_IS(g, &r.found[3], 0, 3, 5, 4);
	assert_int_equal(r.found[3].room, 600);
	/* 60 minutes: only 2 has room among the two-hop ones. */
	find(g, 0, 4, 60, 0, &r);
	assert_int_equal(r.nfound, 2);
	ROUTE_IS(g, &r.found[0], 0, 2, 4);
	ROUTE_IS(g, &r.found[1], 0, 3, 5, 4);
	assert_int_equal(r.nrefused, 2);
	ROUTE_IS(g, &r.refused[0], 0, 1, 4);
	assert_int_equal(r.refused[0].hop[1].why, TB_XHOP_FULL);
	assert_int_equal(r.refused[0].hop[1].room, 50);
	assert_int_equal(r.refused[0].hop[0].why, TB_XHOP_OK);
	ROUTE_IS(g, &r.refused[1], 0, 6, 4);
	assert_int_equal(r.refused[1].hop[1].room, 30);
	/* k = 1: the best only. */
	struct tb_xroute_query q = {cid(0), cid(4), 60, 0, 1};
	assert_int_equal(tb_xroute_find(g, &q, &r), 0);
	assert_int_equal(r.nfound, 1);
	assert_int_equal(r.nrefused, 1);
	/* Nothing has 700 minutes of room: every route refused, nearest first. */
	find(g, 0, 4, 700, 0, &r);
	assert_int_equal(r.nfound, 0);
	assert_true(r.nrefused >= 4);
	assert_int_equal(r.refused[0].nhops, 2);
	assert_int_equal(r.refused[0].bad, 2);
	assert_string_equal(tb_xhop_text(TB_XHOP_FULL), "trust line full");
	tb_xgraph_free(g);
}

/* Communities a route must not go through, and lines one way only. */
static void test_states(void **state)
{
	(void)state;
	fed_init(8);
	both(0, 1, 600);
	both(1, 7, 600);
	both(0, 2, 600);
	both(2, 7, 600);
	both(0, 3, 600);
	both(3, 7, 600);
	both(0, 4, 600);
	trust(7, 4, 600); /* 7 trusts 4, but 4 has no line to 7: cannot prepare */
	both(0, 5, 600);
	both(5, 6, 600);
	both(6, 7, 600);
	F.state[1] = TB_XNODE_NOTADMITTED;
	F.state[2] = TB_XNODE_FORKED;
	F.state[3] = TB_XNODE_SUCCEEDED;
	struct tb_xgraph *g = build();
	struct tb_xroute_result r;
	find(g, 0, 7, 10, 0, &r);
	assert_int_equal(r.nfound, 1);
	ROUTE_IS(g, &r.found[0], 0, 5, 6, 7);
	assert_int_equal(r.nrefused, 4);
	int seen = 0;
	for (size_t i = 0; i < r.nrefused; i++) {
		const struct tb_xroute *x = &r.refused[i];
		assert_int_equal(x->nhops, 2);
		assert_int_equal(x->bad, 1);
		uint32_t via = x->hop[0].to;
		int want = via == node_of(g, 1)	  ? TB_XHOP_NOTADMITTED
			   : via == node_of(g, 2) ? TB_XHOP_FORKED
			   : via == node_of(g, 3) ? TB_XHOP_SUCCEEDED
						  : TB_XHOP_NOBACK;
		size_t at = want == TB_XHOP_NOBACK ? 1 : 0;
		assert_int_equal(x->hop[at].why, want);
		seen |= 1 << want;
	}
	assert_int_equal(seen, (1 << TB_XHOP_NOTADMITTED) | (1 << TB_XHOP_FORKED) |
				       (1 << TB_XHOP_SUCCEEDED) | (1 << TB_XHOP_NOBACK));
	/* A forked payee: refused at the last hop. */
	find(g, 0, 2, 10, 0, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.refused[0].hop[0].why, TB_XHOP_FORKED);
	tb_xgraph_free(g);
}

/* Holds in flight count against the room, when the payer's log is held. */
static void test_holds(void **state)
{
	(void)state;
	fed_init(3);
	both(0, 1, 100);
	both(1, 2, 100);
	acct(1, 0)->balance = -30; /* 0 owes 1 30 */
	acct(0, 1)->balance = 30;
	acct(0, 1)->held = 50; /* and holds 50 more toward 1 */
	struct tb_xgraph *g = build();
	const struct tb_xedge *e = tb_xgraph_edge(g, node_of(g, 0), node_of(g, 1));
	assert_non_null(e);
	assert_int_equal(e->limit, 100);
	assert_int_equal(e->owed, 30);
	assert_int_equal(e->held, 50);
	assert_int_equal(e->room, 20);
	assert_true(e->back);
	e = tb_xgraph_edge(g, node_of(g, 1), node_of(g, 0));
	assert_int_equal(e->room, 130); /* 1 is owed 30: room 100 + 30 */
	struct tb_xroute_result r;
	find(g, 0, 2, 21, 0, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.refused[0].hop[0].why, TB_XHOP_FULL);
	assert_int_equal(r.refused[0].hop[0].room, 20);
	find(g, 0, 2, 20, 0, &r);
	assert_int_equal(r.nfound, 1);
	assert_int_equal(r.found[0].room, 20);
	tb_xgraph_free(g);
}

/* Every reason there is no route at all. */
static void test_none(void **state)
{
	(void)state;
	fed_init(6);
	both(0, 1, 60);
	both(2, 3, 60);
	trust(1, 5, 60); /* 5's log is not held: only named */
	F.absent[5] = true;
	struct tb_xgraph *g = build();
	struct tb_xroute_result r;
	find(g, 0, 3, 1, 0, &r);
	assert_int_equal(r.nfound + r.nrefused, 0);
	assert_int_equal(r.none, TB_XNONE_NOPATH);
	find(g, 0, 4, 1, 0, &r); /* 4 holds no line at all */
	assert_int_equal(r.none, TB_XNONE_NOLINES);
	find(g, 0, 5, 1, 0, &r);
	assert_int_equal(r.none, TB_XNONE_UNKNOWN);
	find(g, 0, 77, 1, 0, &r);
	assert_int_equal(r.none, TB_XNONE_UNKNOWN);
	uint32_t i5 = node_of(g, 5);
	assert_int_equal(tb_xgraph_node(g, i5)->state, TB_XNODE_UNKNOWN);
	assert_string_equal(tb_xgraph_node(g, i5)->name, "");
	assert_string_equal(tb_xgraph_node(g, node_of(g, 1))->name, "C1");
	tb_xgraph_free(g);
}

/* Routes are simple, distinct and in order, however many cycles. */
static void check_routes(struct tb_xgraph *g, const struct tb_xroute_result *r, uint32_t from,
			 uint32_t to, uint64_t minutes, size_t maxh)
{
	for (size_t i = 0; i < r->nfound; i++) {
		const struct tb_xroute *x = &r->found[i];
		assert_true(x->nhops >= 1 && x->nhops <= maxh);
		assert_int_equal(x->hop[0].from, node_of(g, from));
		assert_int_equal(x->hop[x->nhops - 1].to, node_of(g, to));
		int64_t room = INT64_MAX;
		for (size_t h = 0; h < x->nhops; h++) {
			const struct tb_xedge *e = tb_xgraph_edge(g, x->hop[h].from, x->hop[h].to);
			assert_non_null(e);
			assert_true(e->room >= (int64_t)minutes);
			assert_int_equal(x->hop[h].why, TB_XHOP_OK);
			room = e->room < room ? e->room : room;
			if (h)
				assert_int_equal(x->hop[h].from, x->hop[h - 1].to);
			for (size_t k = 0; k < h; k++)
				assert_true(x->hop[k].from != x->hop[h].to);
		}
		assert_int_equal(room, x->room);
		if (i) {
			const struct tb_xroute *p = &r->found[i - 1];
			assert_true(p->nhops < x->nhops ||
				    (p->nhops == x->nhops && p->room >= x->room));
			bool same = p->nhops == x->nhops;
			for (size_t h = 0; same && h < x->nhops; h++)
				same = p->hop[h].to == x->hop[h].to;
			assert_false(same);
		}
	}
}

/* Simple routes from u to b of at most left more hops, over lines with
 * room (a brute-force count). */
static size_t count_paths(struct tb_xgraph *g, uint32_t u, uint32_t b, uint64_t minutes,
			  size_t left, bool *on)
{
	if (u == b)
		return 1;
	if (!left)
		return 0;
	struct tb_xgraph_stats st;
	tb_xgraph_stats(g, &st);
	size_t n = 0;
	on[u] = true;
	for (uint32_t v = 0; v < st.nodes; v++) {
		const struct tb_xedge *e = on[v] ? NULL : tb_xgraph_edge(g, u, v);
		if (e && e->back && e->room >= (int64_t)minutes)
			n += count_paths(g, v, b, minutes, left - 1, on);
	}
	on[u] = false;
	return n;
}

static void test_cycles(void **state)
{
	(void)state;
	fed_init(12);
	for (uint32_t k = 0; k < 12; k++)
		both(k, (k + 1) % 12, 100 + k);
	both(0, 6, 50);
	both(3, 9, 500);
	both(2, 10, 70);
	struct tb_xgraph *g = build();
	struct tb_xroute_result r;
	struct tb_xroute_query q = {cid(1), cid(7), 10, 0, TB_XROUTE_K_MAX};
	assert_int_equal(tb_xroute_find(g, &q, &r), 0);
	static bool on[NMAX];
	assert_int_equal(count_paths(g, node_of(g, 1), node_of(g, 7), 10, 6, on), 6);
	assert_int_equal(r.nfound, 6);
	check_routes(g, &r, 1, 7, 10, TB_XROUTE_HOPS_MAX);
	ROUTE_IS(g, &r.found[0], 1, 0, 6, 7);
	ROUTE_IS(g, &r.found[1], 1, 2, 3, 9, 8, 7); /* room 101 over 70 */
	ROUTE_IS(g, &r.found[2], 1, 2, 10, 9, 8, 7);
	/* Four hops at most: only the first. */
	q.max_hops = 4;
	assert_int_equal(tb_xroute_find(g, &q, &r), 0);
	assert_int_equal(r.nfound, 1);
	tb_xgraph_free(g);
}

static void test_hub(void **state)
{
	(void)state;
	fed_init(1001);
	for (uint32_t k = 1; k <= 1000; k++)
		both(0, k, 60 + k);
	struct tb_xgraph *g = build();
	struct tb_xgraph_stats st;
	tb_xgraph_stats(g, &st);
	assert_int_equal(st.nodes, 1001);
	assert_int_equal(st.edges, 2000);
	struct tb_xroute_result r;
	find(g, 17, 999, 60, 0, &r);
	assert_int_equal(r.nfound, 1);
	ROUTE_IS(g, &r.found[0], 17, 0, 999);
	assert_int_equal(r.found[0].room, 60 + 17);
	find(g, 5, 999, 66, 0, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.refused[0].hop[0].why, TB_XHOP_FULL);
	tb_xgraph_free(g);
}

/* Plain breadth-first hops from a to b over lines with room, or -1. */
static int bfs_len(struct tb_xgraph *g, uint32_t a, uint32_t b, uint64_t minutes)
{
	static int dist[NMAX];
	static uint32_t queue[NMAX];
	struct tb_xgraph_stats st;
	tb_xgraph_stats(g, &st);
	for (size_t i = 0; i < st.nodes; i++)
		dist[i] = -1;
	size_t head = 0, tail = 0;
	dist[a] = 0;
	queue[tail++] = a;
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t v = 0; v < st.nodes; v++) {
			const struct tb_xedge *e = dist[v] < 0 ? tb_xgraph_edge(g, u, v) : NULL;
			if (e && e->back && e->room >= (int64_t)minutes) {
				dist[v] = dist[u] + 1;
				queue[tail++] = v;
			}
		}
	}
	return dist[b];
}

static void test_random(void **state)
{
	(void)state;
	const char *env = getenv("TB_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : 20261203u;
	print_message("random graph seed %u (set TB_SEED to change)\n", seed);
	srand(seed);
	fed_init(1000);
	for (uint32_t k = 0; k < 1000; k++)
		for (int j = 0; j < 3; j++) {
			uint32_t o = (uint32_t)rand() % 1000;
			if (o == k)
				continue;
			trust(k, o, (uint64_t)(rand() % 600));
			if (rand() % 4)
				trust(o, k, (uint64_t)(rand() % 600));
		}
	struct tb_xgraph *g = build();
	for (int t = 0; t < 40; t++) {
		uint32_t a = (uint32_t)rand() % 1000, b = (uint32_t)rand() % 1000;
		uint64_t minutes = 1 + (uint64_t)(rand() % 300);
		if (a == b)
			continue;
		struct tb_xroute_result r;
		find(g, a, b, minutes, 0, &r);
		check_routes(g, &r, a, b, minutes, TB_XROUTE_HOPS_MAX);
		int want = bfs_len(g, node_of(g, a), node_of(g, b), minutes);
		if (want < 0 || want > TB_XROUTE_HOPS_MAX)
			assert_int_equal(r.nfound, 0);
		else
			assert_int_equal(r.found[0].nhops, (size_t)want);
		static bool on[NMAX];
		size_t all = count_paths(g, node_of(g, a), node_of(g, b), minutes, 6, on);
		assert_int_equal(r.nfound, all < 5 ? all : 5);
		for (size_t i = 0; i < r.nrefused; i++)
			assert_true(r.refused[i].bad || r.refused[i].too_long);
	}
	tb_xgraph_free(g);
}

/* ---- the graph of a real store ---- */

static struct tb_test_log SL[4];

static void append(struct tb_store *st, uint32_t who, uint64_t kind, const void *body)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal_next(&SL[who], rec, kind, body);
	struct tb_view v = {rec, len};
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(st, &v, 1, &acc, &rej), 0);
	tb_test_log_advance(&SL[who], rec, len);
}

static const uint8_t *key_id(uint32_t k)
{
	static struct tb_keypair kp[4];
	tb_test_keypair(&kp[k], k);
	return kp[k].pk.b;
}

static void link_to(struct tb_store *st, uint32_t who, uint32_t other, uint64_t limit)
{
	struct tb_link l = {0};
	memcpy(l.community, key_id(other), TB_KEY_LEN);
	l.limit = limit;
	append(st, who, TB_KIND_LINK, &l);
}

static void admit_as(struct tb_store *st, uint32_t other, const char *name, unsigned status)
{
	struct tb_admit a = {0};
	memcpy(a.community, key_id(other), TB_KEY_LEN);
	a.name = (struct tb_view){(const uint8_t *)name, strlen(name)};
	a.status = status;
	append(st, 1, TB_KIND_ADMIT, &a);
}

static void store_find(struct tb_xgraph *g, uint64_t minutes, struct tb_xroute_result *r)
{
	struct tb_xroute_query q = {key_id(1), key_id(3), minutes, 0, 0};
	assert_int_equal(tb_xroute_find(g, &q, r), 0);
}

static void test_store(void **state)
{
	(void)state;
	char *dir = tb_test_scratchdir("xroute");
	struct tb_store *st;
	assert_int_equal(tb_store_open(&st, dir, 0), 0);
	tb_store_set_threads(st, 1);
	static const char *const names[] = {"", "Alpha", "Beta", "Gamma"};
	for (uint32_t k = 1; k <= 3; k++) {
		struct tb_genesis gen;
		tb_test_log_init(&SL[k], k);
		tb_test_genesis(&gen, names[k], -600, 0);
		uint8_t rec[TB_ENTRY_MAX];
		size_t len = tb_test_seal(&SL[k], rec, TB_KIND_GENESIS, &gen);
		struct tb_view v = {rec, len};
		size_t acc;
		assert_int_equal(tb_store_append(st, &v, 1, &acc, NULL), 0);
	}
	assert_int_equal(tb_store_set_self(st, key_id(1)), 0);
	admit_as(st, 2, "Beta", TB_ADMIT_ADMITTED);
	admit_as(st, 3, "Gamma", TB_ADMIT_ADMITTED);
	link_to(st, 1, 2, 100);
	link_to(st, 2, 1, 100);
	link_to(st, 2, 3, 50);
	link_to(st, 3, 2, 50);
	struct tb_xgraph *g;
	assert_int_equal(tb_xgraph_new(&g), 0);
	assert_int_equal(tb_xgraph_refresh(g, st), 0);
	struct tb_xgraph_stats sx;
	tb_xgraph_stats(g, &sx);
	assert_int_equal(sx.logs, 3);
	assert_int_equal(sx.reread, 3);
	assert_int_equal(sx.edges, 4);
	struct tb_xroute_result r;
	store_find(g, 40, &r);
	assert_int_equal(r.nfound, 1);
	assert_int_equal(r.found[0].nhops, 2);
	assert_int_equal(r.found[0].room, 50);
	uint32_t i2;
	assert_int_equal(tb_xgraph_find(g, key_id(2), &i2), 0);
	assert_string_equal(tb_xgraph_node(g, i2)->name, "Beta");
	/* Nothing moved: nothing read again, the same answer. */
	assert_int_equal(tb_xgraph_refresh(g, st), 0);
	tb_xgraph_stats(g, &sx);
	assert_int_equal(sx.reread, 0);
	assert_int_equal(sx.edges, 4);
	store_find(g, 40, &r);
	assert_int_equal(r.nfound, 1);
	/* Gamma lowers Beta's line: only Gamma's log is read again. */
	link_to(st, 3, 2, 20);
	assert_int_equal(tb_xgraph_refresh(g, st), 0);
	tb_xgraph_stats(g, &sx);
	assert_int_equal(sx.reread, 1);
	store_find(g, 40, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.refused[0].hop[1].why, TB_XHOP_FULL);
	assert_int_equal(r.refused[0].hop[1].room, 20);
	/* Beta no longer admitted here: the hop into it says so. */
	admit_as(st, 2, "Beta", TB_ADMIT_REMOVED);
	assert_int_equal(tb_xgraph_refresh(g, st), 0);
	store_find(g, 10, &r);
	assert_int_equal(r.nfound, 0);
	assert_int_equal(r.refused[0].hop[0].why, TB_XHOP_NOTADMITTED);
	tb_xgraph_free(g);
	tb_store_free(st);
	tb_test_rmrf(dir);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),   cmocka_unit_test(test_mesh),
		cmocka_unit_test(test_states), cmocka_unit_test(test_holds),
		cmocka_unit_test(test_none),   cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_hub),    cmocka_unit_test(test_random),
		cmocka_unit_test(test_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
