/*
 * bench_listings.c: members' listings at a node of a large federation
 * (issue 14, "Benchmarks"): 10,000 federation listings from 32 communities
 * (16 members each) stored in one node's ledger as gossip stores them
 * (tb_store_listing_put, every signature checked), then searches as GET
 * /api/v1/listings runs them (tb_store_listings_search with the API's
 * object for each match, tb_vocab_listings): by text, category, community
 * and kind, QUERIES of each. Figures: the search's median and 95th
 * percentile (target: median under 20 ms), the stores per second, and
 * what the listings cost the node in bytes (the listings table's pages).
 * This measures the search in-process, without HTTP: the API adds one
 * request's round trip on loopback (bench_api measures that).
 * Usage: bench_listings [LISTINGS] (default 10000).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "tb_json.h"
#include "testutil.h"

#define COMMUNITIES 32
#define MEMBERS 16
#define QUERIES 50

static const char *const words[] = {"bikes",	"garden", "lift",   "clinic", "soup",
				    "tutoring", "sewing", "laptop", "dog",    "paint",
				    "shopping", "french", "guitar", "moving", "tax"};
static const char *const cats[] = {"Repairs", "Garden",	 "Transport", "Care",
				   "Food",    "Lessons", "Home",      "Pets"};
#define NW (sizeof words / sizeof *words)
#define NC (sizeof cats / sizeof *cats)

static struct tb_test_log logs[COMMUNITIES];

static void communities(struct tb_store *s)
{
	struct tb_test_recs r = {0};
	for (size_t c = 0; c < COMMUNITIES; c++) {
		struct tb_genesis g;
		char name[16];
		snprintf(name, sizeof name, "Comm%02zu", c);
		tb_test_log_init(&logs[c], 7000 + (uint32_t)c);
		tb_test_genesis(&g, name, -600, 0);
		tb_test_log_add(&logs[c], &r, TB_KIND_GENESIS, &g);
		for (uint32_t m = 1; m <= MEMBERS; m++) {
			struct tb_member_join j;
			struct tb_keypair mk;
			char mn[16];
			snprintf(mn, sizeof mn, "m%u", m);
			tb_test_keypair(&mk, 8000 + m);
			tb_test_join(&j, m, mn, &mk, -600, 0);
			j.name = (struct tb_view){(const uint8_t *)strdup(mn), strlen(mn)};
			tb_test_log_add(&logs[c], &r, TB_KIND_MEMBER_JOIN, &j);
		}
	}
	size_t acc;
	struct tb_reject rej;
	int err = tb_store_append(s, tb_test_recs_views(&r, 0), r.n, &acc, &rej);
	if (err)
		tb_bench_die(rej.msg, err);
	if ((err = tb_store_set_self(s, logs[0].kp.pk.b)))
		tb_bench_die("set self", err);
	tb_test_recs_free(&r);
}

static size_t seal(uint8_t *out, size_t i, uint64_t now, uint64_t *rng)
{
	struct tb_listing l;
	char title[80], desc[200];
	const char *w = words[tb_bench_xorshift(rng) % NW], *v = words[tb_bench_xorshift(rng) % NW];
	snprintf(title, sizeof title, "%s %s, %zu", i % 2 ? "Need help with" : "I can help with", w,
		 i);
	snprintf(desc, sizeof desc,
		 "Weekdays after five or on Saturday mornings; %s too if that is useful. Ask.", v);
	memset(&l, 0, sizeof l);
	const struct tb_keypair *kp = &logs[i % COMMUNITIES].kp;
	memcpy(l.log_id, kp->pk.b, TB_KEY_LEN);
	memcpy(l.id, &i, sizeof i);
	l.version = 1;
	l.member = 1 + (i / COMMUNITIES) % MEMBERS;
	l.kind = i % 2;
	l.title = (struct tb_view){(const uint8_t *)title, strlen(title)};
	l.description = (struct tb_view){(const uint8_t *)desc, strlen(desc)};
	const char *cat = cats[tb_bench_xorshift(rng) % NC];
	l.category = (struct tb_view){(const uint8_t *)cat, strlen(cat)};
	l.visibility = TB_LISTING_FEDERATION;
	l.created = now;
	l.expires = now + 30 * TB_LISTING_DAY;
	l.attested = 1;
	size_t len;
	int err = tb_listing_seal(out, TB_LISTING_MAX, &len, &l, kp);
	if (err)
		tb_bench_die("seal", err);
	return len;
}

static double query(struct tb_store *s, const struct tb_listing_query *q, size_t *found)
{
	int err;
	double t0 = tb_bench_now();
	struct tb_json *o = tb_vocab_listings(s, q, 200, &err);
	if (!o)
		tb_bench_die("search", err);
	size_t len;
	char *text = tb_json_dump(o, &len);
	double ms = (tb_bench_now() - t0) * 1000;
	*found += len;
	free(text);
	tb_json_free(o);
	return ms;
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_listings", "[LISTINGS]");
	size_t n = argc > 1 ? tb_bench_arg(argv[1], 100, 32000) : 10000;
	tb_bench_setup(0);
	const char *dir = tb_bench_scratch("listings");
	struct tb_store *s;
	int err = tb_store_open(&s, dir, 0);
	if (err)
		tb_bench_die("open", err);
	communities(s);
	uint64_t rng = tb_bench_seed(), now = (uint64_t)time(NULL);
	uint8_t obj[TB_LISTING_MAX];
	size_t bytes = 0;
	double t0 = tb_bench_now();
	for (size_t i = 0; i < n; i++) {
		size_t len = seal(obj, i, now, &rng);
		struct tb_reject rej;
		bytes += len;
		if ((err = tb_store_listing_put(s, obj, len, now, &rej)) != 0)
			tb_bench_die(rej.msg, err);
	}
	double put_s = tb_bench_now() - t0;

	double *ms = malloc(4 * QUERIES * sizeof *ms);
	size_t k = 0, out = 0;
	for (size_t i = 0; i < QUERIES; i++) {
		struct tb_listing_query q = {.kind = -1, .now = now};
		q.text = words[tb_bench_xorshift(&rng) % NW];
		ms[k++] = query(s, &q, &out);
		q.text = NULL;
		q.category = cats[tb_bench_xorshift(&rng) % NC];
		ms[k++] = query(s, &q, &out);
		q.category = NULL;
		q.community = logs[tb_bench_xorshift(&rng) % COMMUNITIES].kp.pk.b;
		ms[k++] = query(s, &q, &out);
		q.community = NULL;
		q.kind = (int)(tb_bench_xorshift(&rng) % 2);
		q.text = words[tb_bench_xorshift(&rng) % NW];
		ms[k++] = query(s, &q, &out);
	}
	qsort(ms, k, sizeof *ms, tb_bench_cmp_double);

	struct tb_store_table t[64];
	size_t nt;
	uint64_t table_bytes = 0;
	if ((err = tb_store_tables(s, t, 64, &nt)))
		tb_bench_die("tables", err);
	for (size_t i = 0; i < nt; i++)
		if (!strcmp(t[i].name, "listings"))
			table_bytes = (t[i].branch_pages + t[i].leaf_pages + t[i].overflow_pages) *
				      (uint64_t)t[i].page_size;
	printf("%zu listings from %d communities: %.1f MiB of objects, %.1f MiB of table; "
	       "%zu searches answered %zu bytes of JSON\n",
	       n, COMMUNITIES, bytes / 1048576.0, table_bytes / 1048576.0, k, out);
	tb_bench_figure("listings_search_median_ms", tb_bench_quantile(ms, k, 0.5), "ms", 2,
			"<=", 20);
	tb_bench_figure("listings_search_p95_ms", tb_bench_quantile(ms, k, 0.95), "ms", 2, NULL, 0);
	tb_bench_figure("listings_stored_per_s", n / put_s, "/s", 0, NULL, 0);
	tb_bench_figure("listings_bytes_per_node", table_bytes / 1048576.0, "MiB", 2, NULL, 0);
	tb_bench_print_figures(4);
	free(ms);
	tb_store_free(s);
	tb_bench_scratch_free();
	return 0;
}
