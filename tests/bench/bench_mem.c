/*
 * bench_mem.c: a tallyd holding a million entries (issue 6, "Load and
 * memory"): its memory idle, and both nodes' memory during a catch-up by an
 * empty node.
 *
 *  1. Node A's log gets N attested exchanges between its two members
 *     (sealed here, appended through the library in groups of 4096 with
 *     signature checks on every core, before A starts).
 *  2. Idle: A's tallyd started and left to settle (its start-up checkpoint
 *     signed), then sampled every 250 ms for 3 s.
 *  3. Catch-up: an empty node B started with --peer A, timed from its start
 *     until its ledger holds A's head; both daemons sampled every 100 ms
 *     meanwhile (peaks). B's samples count from its first entry of A's
 *     log: before that it is starting, and unlocking the node key with
 *     Argon2id (libsodium's "interactive" limit, 64 MiB, mapped and freed
 *     within a second) would be taken for its ingest; that start-up peak is
 *     shown apart. Then B idle, settled, sampled as A was.
 *
 * Memory from /proc/PID/status (procmem.h): RssAnon, the private anonymous
 * memory the target is about (under 32 MiB per node), beside VmRSS, total
 * resident memory, which includes LMDB's mapped file pages (the kernel can
 * drop them: they are clean pages of data.mdb); VmHWM, the kernel's own
 * peak of VmRSS, is shown too. Prints a report and one `FIGURE name value
 * unit target` line per figure for scripts/bench; an unexpected error exits
 * non-zero, a missed target does not. Daemons die with this process and are
 * killed, the trees removed, at exit or on a signal ($TB_KEEP keeps them).
 *
 * Binaries: $TALLY_BIN and $TALLYD_BIN, else ../node/tally and
 * ../node/tallyd next to this executable.
 *
 * Usage: bench_mem [entries]   (default 1000000, or 100000 with BENCH_QUICK=1)
 * BENCH_MEM_SMAPS=PREFIX keeps both daemons' /proc/PID/smaps at their peak
 * RssAnon of the catch-up in PREFIX-src.txt and PREFIX-dst.txt.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "benchutil.h"
#include "fed.h"
#include "procmem.h"
#include "tb_store.h"
#include "testutil.h"

#define DEFAULT_ENTRIES 1000000
#define QUICK_ENTRIES 100000
#define GROUP 4096
#define REC_BOUND 512
#define SETTLE_MS 3000
#define IDLE_SAMPLES 12
#define IDLE_EVERY_MS 250
#define BUSY_EVERY_S 0.1
#define POLL_US 5000
#define CATCHUP_S 1200.0

#define TARGET_ANON_MIB 32.0

/* A and B (tb_bench_fed_new: the daemons die with this process). */
static struct tb_fed *fed;

static double mib(long kib)
{
	return (double)kib / 1024.0;
}

static void sample(size_t i, struct tb_procmem *peak, struct tb_procmem *last)
{
	struct tb_procmem m;
	if (tb_procmem_read(fed->node[i].pid, false, &m)) {
		tb_bench_check_alive(fed, i);
		tb_bench_die("reading a tallyd's /proc status", TB_EIO);
	}
	tb_procmem_peak(peak, &m);
	if (last)
		*last = m;
}

/* With $BENCH_MEM_SMAPS set (a path prefix), copies node i's
 * /proc/PID/smaps to PREFIX-what.txt: called at each new peak, so the file
 * shows which mappings held the peak. */
static void keep_smaps(size_t i, const char *what)
{
	const char *prefix = getenv("BENCH_MEM_SMAPS");
	if (!prefix || !*prefix)
		return;
	char src[64], dst[4200];
	snprintf(src, sizeof src, "/proc/%d/smaps", (int)fed->node[i].pid);
	snprintf(dst, sizeof dst, "%s-%s.txt", prefix, what);
	FILE *in = fopen(src, "r"), *out = in ? fopen(dst, "w") : NULL;
	char buf[8192];
	size_t k;
	while (out && (k = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, k, out) != k)
			break;
	if (out)
		fclose(out);
	if (in)
		fclose(in);
}

/* ---- 1. A's log ---- */

/* N attested exchanges (m1 and m2 taking turns) after A's head, sealed and
 * appended in groups; returns A's head seq after. */
static uint64_t fill(size_t n)
{
	struct tb_store *s = tb_bench_open_ledger(fed->node[0].data, 0);
	tb_store_set_threads(s, 0);
	struct tb_keypair kp;
	tb_bench_node_key(fed->node[0].data, &kp);
	struct tb_head h;
	uint32_t m1, m2;
	tb_bench_head_members(s, fed->node[0].id, &h, &m1, &m2, "A's head and members");
	uint8_t *buf = malloc((size_t)GROUP * REC_BOUND);
	struct tb_view *v = calloc(GROUP, sizeof *v);
	if (!buf || !v)
		tb_bench_die("malloc", TB_ENOMEM);
	uint8_t prev[TB_HASHLEN];
	memcpy(prev, h.hash, TB_HASHLEN);
	uint64_t seq = h.seq, ts = (uint64_t)time(NULL), date = tb_bench_today(true);
	double seal_s = 0, append_s = 0, t0 = tb_bench_now();
	for (size_t done = 0; done < n;) {
		size_t k = n - done < GROUP ? n - done : GROUP, len_all = 0;
		double a = tb_bench_now();
		for (size_t j = 0; j < k; j++) {
			struct tb_exchange x;
			tb_bench_exchange(&x, "membench", seq + 1, NULL, m1, m2, date, false);
			uint8_t *out = buf + len_all;
			size_t len = tb_bench_seal_exchange(
				out, (size_t)GROUP * REC_BOUND - len_all, &kp, &seq, prev, ts, &x);
			v[j] = (struct tb_view){out, len};
			len_all += len;
		}
		double b = tb_bench_now();
		size_t acc = 0;
		struct tb_reject rej;
		int err = tb_store_append(s, v, k, &acc, &rej);
		if (err || acc != k) {
			fprintf(stderr,
				"bench_mem: filling A: %zu of %zu accepted (seq %" PRIu64 ": %s)\n",
				acc, k, rej.seq, rej.msg);
			tb_bench_die("tb_store_append", err);
		}
		seal_s += b - a;
		append_s += tb_bench_now() - b;
		done += k;
		if (done % (GROUP * 64) == 0)
			printf("  %zu entries written (%.0f s)\n", done, tb_bench_now() - t0);
	}
	uint64_t bytes = 0;
	(void)!tb_store_size(s, &bytes);
	printf("A's log: %" PRIu64 " entries: sealed in %.1f s, appended in %.1f s (%.0f/s); store "
	       "%.0f MiB\n",
	       seq, seal_s, append_s, (double)n / append_s, (double)bytes / 1048576.0);
	free(buf);
	free(v);
	tb_keypair_wipe(&kp);
	tb_store_free(s);
	return seq;
}

/* ---- idle ---- */

struct idle {
	struct tb_procmem peak, last;
};

static void idle_sample(size_t i, struct idle *out)
{
	tb_procmem_clear(&out->peak);
	tb_fed_sleep_ms(SETTLE_MS);
	for (int k = 0; k < IDLE_SAMPLES; k++) {
		sample(i, &out->peak, &out->last);
		tb_fed_sleep_ms(IDLE_EVERY_MS);
	}
	struct tb_procmem r;
	if (tb_procmem_read(fed->node[i].pid, true, &r) == 0 && r.pss >= 0)
		printf("  smaps_rollup: Pss %.1f MiB, Private_Dirty %.1f MiB, Anonymous %.1f MiB\n",
		       mib(r.pss), mib(r.priv_dirty), mib(r.anonymous));
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_mem", "[entries (100..100000000)]");
	const char *quick = getenv("BENCH_QUICK");
	size_t n = quick && !strcmp(quick, "1") ? QUICK_ENTRIES : DEFAULT_ENTRIES;
	if (argc > 1)
		n = (size_t)tb_bench_arg(argv[1], 100, 100000000ull);
	if (argc > 2)
		tb_bench_usage();
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_LOG_WARN);
	printf("bench_mem: a tallyd holding %zu entries, idle and during a catch-up; %u cores, "
	       "load average %.2f\ntallyd %s\n",
	       n, tb_cpu_count(), tb_bench_load_avg(), getenv("TALLYD_BIN"));

	const size_t A = 0, B = 1;
	fed = tb_bench_fed_new("membench", 2);
	printf("\n== 1. A's log\n");
	uint64_t total = fill(n);

	printf("\n== 2. A idle\n");
	tb_fed_start(fed, A);
	struct idle ai;
	idle_sample(A, &ai);
	printf("A idle (%zu entries), after %d ms to settle, %d samples: RssAnon %.1f MiB (peak "
	       "%.1f), VmRSS %.1f MiB (peak %.1f; RssFile %.1f), VmHWM %.1f MiB (since its start: "
	       "the key's Argon2id unlock maps 64 MiB for a moment)\n",
	       n, SETTLE_MS, IDLE_SAMPLES, mib(ai.last.anon), mib(ai.peak.anon), mib(ai.last.rss),
	       mib(ai.peak.rss), mib(ai.last.file), mib(ai.last.hwm));

	printf("\n== 3. catch-up: empty node B from A\n");
	struct tb_procmem pa, pb, lb, pstart;
	tb_procmem_clear(&pa);
	tb_procmem_clear(&pb);
	tb_procmem_clear(&pstart);
	tb_fed_link(fed, B, A);
	struct tb_store *bs = NULL;
	uint64_t samples = 0, q = 0;
	double t0 = tb_bench_now(), next = t0;
	tb_fed_spawn(fed, B, NULL);
	bs = tb_bench_open_ledger(fed->node[B].data, TB_STORE_RDONLY); /* tally init made it */
	for (;;) {
		double t = tb_bench_now();
		struct tb_head h;
		q = tb_store_head(bs, fed->node[A].id, &h) == 0 ? h.seq : 0;
		if (t >= next) {
			tb_bench_check_alive(fed, A);
			tb_bench_check_alive(fed, B);
			long before_a = pa.anon;
			sample(A, &pa, NULL);
			if (pa.anon > before_a)
				keep_smaps(A, "src");
			if (q) {
				long before = pb.anon;
				sample(B, &pb, &lb);
				if (pb.anon > before)
					keep_smaps(B, "dst");
			} else {
				sample(B, &pstart, NULL);
			}
			samples++;
			next += BUSY_EVERY_S;
		}
		if (q >= total)
			break;
		if (t - t0 > CATCHUP_S) {
			fprintf(stderr,
				"bench_mem: B holds %" PRIu64 " of %" PRIu64 " after %.0f s\n", q,
				total, CATCHUP_S);
			exit(1);
		}
		tb_bench_sleep_us(POLL_US);
	}
	double secs = tb_bench_now() - t0;
	tb_store_free(bs);
	sample(A, &pa, NULL);
	sample(B, &pb, &lb);
	double rate = (double)total / secs;
	printf("B caught up with %" PRIu64 " entries in %.2f s (from its start): %.0f entries/s; "
	       "%" PRIu64 " samples\n",
	       total, secs, rate, samples);
	printf("B's start, until its first entry from A arrived: sampled RssAnon peak %.1f MiB "
	       "(the node key's Argon2id unlock maps 64 MiB for a moment, freed before tallyd "
	       "opens the network; 100 ms samples may miss it; not part of the figures below)\n",
	       mib(pstart.anon));
	printf("peaks during the catch-up: A (sending) RssAnon %.1f MiB, VmRSS %.1f MiB, VmHWM "
	       "%.1f MiB; B (receiving) RssAnon %.1f MiB, VmRSS %.1f MiB, VmHWM %.1f MiB\n",
	       mib(pa.anon), mib(pa.rss), mib(pa.hwm), mib(pb.anon), mib(pb.rss), mib(pb.hwm));

	printf("\n== 4. B idle after the catch-up\n");
	struct idle bi;
	idle_sample(B, &bi);
	printf("B idle (%" PRIu64 " entries): RssAnon %.1f MiB (peak %.1f), VmRSS %.1f MiB (peak "
	       "%.1f; RssFile %.1f)\n",
	       total, mib(bi.last.anon), mib(bi.peak.anon), mib(bi.last.rss), mib(bi.peak.rss),
	       mib(bi.last.file));

	tb_bench_figure("mem_entries", (double)total, "entries", 0, NULL, 0);
	tb_bench_figure("mem_idle_anon_mib", mib(ai.peak.anon), "MiB", 1, "<=", TARGET_ANON_MIB);
	tb_bench_figure("mem_idle_rss_mib", mib(ai.peak.rss), "MiB", 1, NULL, 0);
	tb_bench_figure("mem_catchup_rate", rate, "entries/s", 0, NULL, 0);
	tb_bench_figure("mem_catchup_src_anon_peak_mib", mib(pa.anon), "MiB", 1,
			"<=", TARGET_ANON_MIB);
	tb_bench_figure("mem_catchup_src_rss_peak_mib", mib(pa.rss), "MiB", 1, NULL, 0);
	tb_bench_figure("mem_catchup_dst_anon_peak_mib", mib(pb.anon), "MiB", 1,
			"<=", TARGET_ANON_MIB);
	tb_bench_figure("mem_catchup_dst_rss_peak_mib", mib(pb.rss), "MiB", 1, NULL, 0);
	tb_bench_figure("mem_after_dst_anon_mib", mib(bi.peak.anon), "MiB", 1,
			"<=", TARGET_ANON_MIB);
	tb_bench_figure("mem_after_dst_rss_mib", mib(bi.peak.rss), "MiB", 1, NULL, 0);
	tb_bench_print_figures(12);
	tb_fed_stop_all(fed);
	return 0;
}
