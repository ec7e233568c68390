/*
 * bench_route.c: route search over trust-line graphs (PROTOCOL.md 12.7,
 * store/xroute.c) of 1,000 and 5,000 synthetic communities: a sparse random
 * graph (each community sets 3 trust lines to random others, three in four
 * of them answered the other way) plus 8 hubs trusted both ways by 2% of
 * the communities each, every limit 0 to 10 hours and a random debt on it.
 * For each size it builds the graph (tb_xgraph_put of every community, then
 * tb_xgraph_build, as a refresh does once it has read the logs) and runs
 * QUERIES searches between random pairs for 1 to 5 hours: the time of one
 * search (median and 99th percentile, k = 5 routes and the failing ones),
 * how many found a route and the best route's mean length. Figures only.
 * Usage: bench_route [QUERIES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "tb_xroute.h"

#define LINES 3
#define HUBS 8

struct comm {
	struct tb_clearing *c;
	size_t n, cap;
};

static void id_of(uint8_t id[TB_KEY_LEN], uint32_t k)
{
	memset(id, 0, TB_KEY_LEN);
	id[0] = (uint8_t)(k >> 16);
	id[1] = (uint8_t)(k >> 8);
	id[2] = (uint8_t)k;
	id[31] = 7;
}

/* y trusts x up to limit, x owing some of it. */
static void trust(struct comm *cs, uint32_t y, uint32_t x, uint64_t *rng)
{
	struct comm *c = &cs[y];
	for (size_t i = 0; i < c->n; i++) {
		uint8_t id[TB_KEY_LEN];
		id_of(id, x);
		if (!memcmp(c->c[i].other, id, TB_KEY_LEN))
			return;
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->c = realloc(c->c, c->cap * sizeof *c->c);
		if (!c->c)
			tb_bench_die("realloc", TB_ENOMEM);
	}
	struct tb_clearing *a = &c->c[c->n++];
	memset(a, 0, sizeof *a);
	id_of(a->other, x);
	a->linked = true;
	a->limit = tb_bench_xorshift(rng) % 601;
	a->balance = -(int64_t)(tb_bench_xorshift(rng) % (a->limit / 2 + 1));
}

static struct tb_xgraph *make(size_t n, uint64_t *rng, double *build_ms, size_t *edges)
{
	struct comm *cs = calloc(n, sizeof *cs);
	if (!cs)
		tb_bench_die("calloc", TB_ENOMEM);
	for (uint32_t k = 0; k < n; k++)
		for (int j = 0; j < LINES; j++) {
			uint32_t o = (uint32_t)(tb_bench_xorshift(rng) % n);
			if (o == k)
				continue;
			trust(cs, k, o, rng);
			if (tb_bench_xorshift(rng) % 4)
				trust(cs, o, k, rng);
		}
	for (uint32_t h = 0; h < HUBS; h++)
		for (uint32_t k = 0; k < n; k++)
			if (k != h && tb_bench_xorshift(rng) % 50 == 0) {
				trust(cs, h, k, rng);
				trust(cs, k, h, rng);
			}
	struct tb_xgraph *g;
	if (tb_xgraph_new(&g))
		tb_bench_die("tb_xgraph_new", TB_ENOMEM);
	double t0 = tb_bench_now();
	for (uint32_t k = 0; k < n; k++) {
		uint8_t id[TB_KEY_LEN];
		char name[32];
		id_of(id, k);
		snprintf(name, sizeof name, "C%u", k);
		int err = tb_xgraph_put(g, id, name, TB_XNODE_OK, cs[k].c, cs[k].n);
		if (err)
			tb_bench_die("tb_xgraph_put", err);
	}
	int err = tb_xgraph_build(g);
	if (err)
		tb_bench_die("tb_xgraph_build", err);
	*build_ms = (tb_bench_now() - t0) * 1000;
	struct tb_xgraph_stats st;
	tb_xgraph_stats(g, &st);
	*edges = st.edges;
	for (size_t k = 0; k < n; k++)
		free(cs[k].c);
	free(cs);
	return g;
}

static void run(size_t n, size_t queries, uint64_t *rng)
{
	double build_ms;
	size_t edges, found = 0, hops = 0;
	struct tb_xgraph *g = make(n, rng, &build_ms, &edges);
	double *ms = malloc(queries * sizeof *ms);
	if (!ms)
		tb_bench_die("malloc", TB_ENOMEM);
	struct tb_xroute_result r;
	for (size_t i = 0; i < queries; i++) {
		uint8_t a[TB_KEY_LEN], b[TB_KEY_LEN];
		uint32_t x = (uint32_t)(tb_bench_xorshift(rng) % n), y;
		do
			y = (uint32_t)(tb_bench_xorshift(rng) % n);
		while (y == x);
		id_of(a, x);
		id_of(b, y);
		struct tb_xroute_query q = {a, b, 60 * (1 + tb_bench_xorshift(rng) % 5), 0, 5};
		double t0 = tb_bench_now();
		int err = tb_xroute_find(g, &q, &r);
		ms[i] = (tb_bench_now() - t0) * 1000;
		if (err)
			tb_bench_die("tb_xroute_find", err);
		if (r.nfound) {
			found++;
			hops += r.found[0].nhops;
		}
	}
	qsort(ms, queries, sizeof *ms, tb_bench_cmp_double);
	char name[64];
	printf("%zu communities, %zu trust lines: graph built in %.1f ms\n", n, edges, build_ms);
	snprintf(name, sizeof name, "route_%zu_build_ms", n);
	tb_bench_figure(name, build_ms, "ms", 1, NULL, 0);
	snprintf(name, sizeof name, "route_%zu_search_median_ms", n);
	tb_bench_figure(name, tb_bench_quantile(ms, queries, 0.5), "ms", 3, NULL, 0);
	snprintf(name, sizeof name, "route_%zu_search_p99_ms", n);
	tb_bench_figure(name, tb_bench_quantile(ms, queries, 0.99), "ms", 3, NULL, 0);
	snprintf(name, sizeof name, "route_%zu_found_pct", n);
	tb_bench_figure(name, 100.0 * (double)found / (double)queries, "%", 1, NULL, 0);
	snprintf(name, sizeof name, "route_%zu_best_hops_mean", n);
	tb_bench_figure(name, found ? (double)hops / (double)found : 0, "hops", 2, NULL, 0);
	free(ms);
	tb_xgraph_free(g);
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_route", "[QUERIES]");
	if (argc > 2)
		tb_bench_usage();
	size_t queries = argc > 1 ? (size_t)tb_bench_arg(argv[1], 10, 1000000) : 500;
	tb_bench_setup(0);
	uint64_t seed = tb_bench_seed(), rng = seed;
	printf("seed %llu (set BENCH_SEED to replay), load average %.1f\n",
	       (unsigned long long)seed, tb_bench_load_avg());
	run(1000, queries, &rng);
	run(5000, queries, &rng);
	tb_bench_print_figures(5);
	return 0;
}
