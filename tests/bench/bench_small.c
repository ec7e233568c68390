/*
 * bench_small.c: a community's node on a small machine (issue 16, item 7).
 * One community of 500 members with a year of exchanges (50,000 entries) is
 * built straight into a ledger, then its tallyd runs on one core (this
 * process and its children are pinned to CPU 0) and, when a cgroup can be
 * made here, in a memory cgroup of 256 MiB; a coordinator then uses the
 * console's JSON API (logs in, reads the community, members, balances and
 * one member) while the figures are taken: response times of those reads
 * (median and 99th percentile over ROUNDS rounds) and the node's memory
 * (peak resident and anonymous), against the 256 MiB target.
 * Usage: bench_small [ROUNDS]
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "fed.h"
#include "httpc.h"
#include "procmem.h"
#include "testutil.h"

#define MEMBERS 500
#define ENTRIES 50000
#define GROUP 2048
#define LIMIT_MIB 256

/* Joins members 3..MEMBERS (fed.c made m1 and m2) and fills the log with
 * attested exchanges up to ENTRIES entries. */
static void build(const char *data)
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
	uint8_t prev[TB_HASHLEN];
	uint64_t seq = tb_bench_held_seq(s, kp.pk.b, prev);
	uint8_t *buf = malloc((size_t)GROUP * 1024);
	struct tb_view *v = malloc(GROUP * sizeof *v);
	uint64_t ts = (uint64_t)time(NULL) - 365ull * 86400;
	while (seq < ENTRIES) {
		size_t k = 0, len_all = 0;
		for (; k < GROUP && seq < ENTRIES; k++) {
			/* Pairs of exchanges between two members, each undoing the
			 * other's balance change: every limit holds. */
			uint64_t pair = seq / 2;
			uint32_t a = 1 + (uint32_t)(pair % MEMBERS);
			uint32_t b = 1 + (uint32_t)((pair * 7 + 1) % MEMBERS);
			if (b == a)
				b = 1 + a % MEMBERS;
			time_t t = (time_t)ts;
			struct tm tm;
			gmtime_r(&t, &tm);
			uint64_t date = (uint64_t)(tm.tm_year + 1900) * 10000 +
					(uint64_t)(tm.tm_mon + 1) * 100 + (uint64_t)tm.tm_mday;
			struct tb_exchange x;
			tb_bench_exchange(&x, "smallbn", seq + 1, NULL, a, b, date, false);
			size_t len = tb_bench_seal_exchange(buf + len_all,
							    (size_t)GROUP * 1024 - len_all, &kp,
							    &seq, prev, ts, &x);
			v[k] = (struct tb_view){buf + len_all, len};
			len_all += len;
			ts += 600;
		}
		size_t acc = 0;
		struct tb_reject rej;
		int err = tb_store_append(s, v, k, &acc, &rej);
		if (err || acc != k)
			tb_bench_die(rej.msg, err ? err : TB_EINVAL);
	}
	free(buf);
	free(v);
	tb_store_free(s);
	tb_keypair_wipe(&kp);
}

/* A memory cgroup (v2, else v1) of LIMIT_MIB for pid; its path, or NULL. */
static const char *cgroup_for(pid_t pid)
{
	static char dir[512];
	static const char *const tries[][3] = {
		{"/sys/fs/cgroup/tally-bench-small", "memory.max", "cgroup.procs"},
		{"/sys/fs/cgroup/memory/tally-bench-small", "memory.limit_in_bytes",
		 "cgroup.procs"},
	};
	for (size_t i = 0; i < 2; i++) {
		char p[600];
		snprintf(dir, sizeof dir, "%s", tries[i][0]);
		if (mkdir(dir, 0755) && access(dir, F_OK))
			continue;
		/* Only a real cgroup has the kernel's files in it. */
		snprintf(p, sizeof p, "%s/%s", dir, tries[i][2]);
		if (access(p, W_OK)) {
			rmdir(dir);
			continue;
		}
		snprintf(p, sizeof p, "%s/%s", dir, tries[i][1]);
		FILE *f = fopen(p, "w");
		if (!f || fprintf(f, "%llu\n", (unsigned long long)LIMIT_MIB << 20) < 0 ||
		    fclose(f)) {
			rmdir(dir);
			continue;
		}
		snprintf(p, sizeof p, "%s/%s", dir, tries[i][2]);
		f = fopen(p, "w");
		if (f && fprintf(f, "%d\n", (int)pid) > 0 && !fclose(f))
			return dir;
		rmdir(dir);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_small", "[ROUNDS]");
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_DIE_TAILS);
	unsigned rounds = argc > 1 ? (unsigned)tb_bench_arg(argv[1], 1, 100000) : 200;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(0, &one);
	bool pinned = sched_setaffinity(0, sizeof one, &one) == 0;

	struct tb_fed *f = tb_bench_fed_new("small", 1);
	double t0 = tb_bench_now();
	build(f->node[0].data);
	printf("built %u members, %u entries in %.1f s\n", MEMBERS, ENTRIES, tb_bench_now() - t0);
	tb_bench_coordinator(f, 0, "ana", "viewer", "a small machine");

	uint16_t http = tb_bench_start_console(f, 0);
	const char *cg = cgroup_for(f->node[0].pid);
	struct tb_httpc_session sess;
	if (tb_httpc_login(http, "ana", "a small machine", &sess) != 200)
		tb_bench_die("login", TB_EIO);
	static const char *const paths[] = {"/api/v1/community", "/api/v1/members",
					    "/api/v1/balances", "/api/v1/members/member250"};
	double *ms = malloc(rounds * 4 * sizeof *ms);
	struct tb_procmem peak, now;
	tb_procmem_clear(&peak);
	size_t n = 0;
	for (unsigned r = 0; r < rounds; r++) {
		for (size_t i = 0; i < 4; i++) {
			struct tb_httpc_resp resp;
			double a = tb_bench_now();
			int st = tb_httpc(http, "GET", paths[i], &sess, false, NULL, &resp);
			ms[n++] = (tb_bench_now() - a) * 1000;
			tb_httpc_free(&resp);
			if (st != 200)
				tb_bench_die(paths[i], TB_EIO);
		}
		if (!tb_procmem_read(f->node[0].pid, false, &now))
			tb_procmem_peak(&peak, &now);
	}
	tb_bench_check_alive(f, 0);
	qsort(ms, n, sizeof *ms, tb_bench_cmp_double);
	printf("one core: %s; memory cgroup of %d MiB: %s\n", pinned ? "yes (CPU 0)" : "no",
	       LIMIT_MIB, cg ? cg : "none could be made (memory measured only)");
	tb_bench_figure("small_api_p50", tb_bench_quantile(ms, n, 0.5), "ms", 2, NULL, 0);
	tb_bench_figure("small_api_p99", tb_bench_quantile(ms, n, 0.99), "ms", 2, "<=", 200);
	tb_bench_figure("small_rss_peak", (double)peak.hwm / 1024, "MiB", 1, "<=", LIMIT_MIB);
	tb_bench_figure("small_anon_peak", (double)peak.anon / 1024, "MiB", 1, NULL, 0);
	tb_bench_print_figures(4);
	free(ms);
	tb_fed_stop(f, 0);
	if (cg)
		rmdir(cg);
	tb_bench_fed_free(f);
	return 0;
}
