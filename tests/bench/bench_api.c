/*
 * bench_api.c: tallyd's JSON API over loopback beside the store it calls
 * (issue 13, "Benchmarks"). One community of MEMBERS members is joined
 * straight into its ledger; then, each in requests or operations per second:
 *
 *  1. reads: GET /api/v1/balances (every member's object) by one coordinator,
 *     one request per connection as the test client sends them, beside the
 *     same read through the store directly (tb_store_foreach_member over
 *     the own log, in this process);
 *  2. writes: POST /api/v1/exchanges with "attest": true (each answered
 *     after its durable commit), beside tb_store_append_own of the same
 *     attested exchange into a second node's ledger holding the same
 *     members (durable commits too).
 *
 * The ratios (API / store) are the target: at least 0.7. Daemons
 * die with this process (benchutil). Usage: bench_api [REQUESTS]
 * (default 2000 reads and a quarter as many writes).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchutil.h"
#include "fed.h"
#include "httpc.h"
#include "testutil.h"

#define MEMBERS 200

/* Joins members 3..MEMBERS (fed.c made m1 and m2). */
static void join_members(const char *data)
{
	struct tb_keypair kp;
	tb_bench_node_key(data, &kp);
	struct tb_store *s = tb_bench_open_ledger(data, 0);
	for (uint32_t no = 3; no <= MEMBERS; no++) {
		struct tb_keypair mk;
		tb_test_keypair(&mk, 1000 + no);
		char name[16];
		snprintf(name, sizeof name, "member%u", no);
		struct tb_member_join j;
		tb_test_join(&j, no, name, &mk, -600, 0);
		struct tb_reject rej;
		int err = tb_store_append_own(s, &kp, TB_KIND_MEMBER_JOIN, &j, NULL, &rej);
		if (err)
			tb_bench_die(rej.msg, err);
	}
	tb_store_free(s);
	tb_keypair_wipe(&kp);
}

static int count_member(void *ctx, const struct tb_member *m)
{
	(void)m;
	(*(size_t *)ctx)++;
	return 0;
}

/* Reads and writes through the store directly, in node 1's ledger. */
static void direct(const char *data, const uint8_t *self, unsigned reads, unsigned writes,
		   double *rps, double *wps)
{
	struct tb_keypair kp;
	tb_bench_node_key(data, &kp);
	struct tb_store *s = tb_bench_open_ledger(data, 0);
	double t0 = tb_bench_now();
	for (unsigned i = 0; i < reads; i++) {
		size_t n = 0;
		if (tb_store_foreach_member(s, self, count_member, &n) || n != MEMBERS)
			tb_bench_die("foreach_member", TB_EIO);
	}
	*rps = reads / (tb_bench_now() - t0);
	uint32_t today = tb_bench_today(false);
	t0 = tb_bench_now();
	for (unsigned i = 0; i < writes; i++) {
		struct tb_exchange x;
		tb_bench_exchange(&x, "benchapi", i + 1, NULL, 1, 2, today, false);
		struct tb_reject rej;
		int err = tb_store_append_own(s, &kp, TB_KIND_EXCHANGE, &x, NULL, &rej);
		if (err)
			tb_bench_die(rej.msg, err);
	}
	*wps = writes / (tb_bench_now() - t0);
	tb_store_free(s);
	tb_keypair_wipe(&kp);
}

static void through_api(uint16_t http, unsigned reads, unsigned writes, double *rps, double *wps)
{
	struct tb_httpc_session sess;
	if (tb_httpc_login(http, "cora", "a bench password", &sess) != 200)
		tb_bench_die("login", TB_EIO);
	double t0 = tb_bench_now();
	for (unsigned i = 0; i < reads; i++) {
		struct tb_httpc_resp r;
		int st = tb_httpc(http, "GET", "/api/v1/balances", &sess, false, NULL, &r);
		tb_httpc_free(&r);
		if (st != 200)
			tb_bench_die("GET /api/v1/balances", TB_EIO);
	}
	*rps = reads / (tb_bench_now() - t0);
	t0 = tb_bench_now();
	for (unsigned i = 0; i < writes; i++) {
		char body[200];
		snprintf(
			body, sizeof body,
			"{\"provider\":\"%s\",\"receiver\":\"%s\",\"minutes\":1,\"memo\":\"bench %u\","
			"\"attest\":true}",
			i % 2 ? "m2" : "m1", i % 2 ? "m1" : "m2", i);
		struct tb_httpc_resp r;
		int st = tb_httpc(http, "POST", "/api/v1/exchanges", &sess, true, body, &r);
		if (st != 201) {
			fprintf(stderr, "POST /api/v1/exchanges: %d %s\n", st,
				r.body ? r.body : "");
			tb_bench_die("POST /api/v1/exchanges", TB_EIO);
		}
		tb_httpc_free(&r);
	}
	*wps = writes / (tb_bench_now() - t0);
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_api", "[REQUESTS]");
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_DIE_TAILS);
	unsigned reads = argc > 1 ? (unsigned)tb_bench_arg(argv[1], 4, 1000000) : 2000;
	unsigned writes = reads / 4;
	struct tb_fed *f = tb_bench_fed_new("api", 2);
	join_members(f->node[0].data);
	join_members(f->node[1].data);
	char pw[TB_FED_PATH + 16];
	snprintf(pw, sizeof pw, "%s/cora.pw", f->root);
	if (tb_test_write_file(pw, "a bench password", 16) ||
	    TB_FED_TALLY(f, 0, "coordinator", "add", "cora", "--role", "coordinator",
			 "--password-file", pw))
		tb_bench_die("coordinator add", TB_EIO);
	uint16_t http = tb_fed_free_port();
	char arg[32];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", http);
	const char *extra[] = {"--http", arg, NULL};
	tb_fed_start_args(f, 0, extra);
	tb_fed_wait_log_line(f, 0, "console and API on", NULL, 10000);

	double api_r, api_w, st_r, st_w;
	through_api(http, reads, writes, &api_r, &api_w);
	tb_bench_check_alive(f, 0);
	tb_fed_stop(f, 0);
	direct(f->node[1].data, f->node[1].id, reads, writes, &st_r, &st_w);
	printf("%u members; %u reads, %u attested writes (durable), one request per "
	       "connection on 127.0.0.1\n",
	       MEMBERS, reads, writes);
	tb_bench_figure("api_balances_rps", api_r, "req/s", 0, NULL, 0);
	tb_bench_figure("api_balances_ratio", api_r / st_r, "x store", 2, ">=", 0.7);
	tb_bench_figure("store_balances_rps", st_r, "reads/s", 0, NULL, 0);
	tb_bench_figure("api_exchanges_rps", api_w, "req/s", 0, NULL, 0);
	tb_bench_figure("api_exchanges_ratio", api_w / st_w, "x store", 2, ">=", 0.7);
	tb_bench_figure("store_exchanges_rps", st_w, "appends/s", 0, NULL, 0);
	tb_bench_print_figures(9);
	tb_bench_fed_free(f);
	return 0;
}
