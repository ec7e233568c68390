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
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_us(unsigned us)
{
	struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_mem: %s: %s (%d)\n", what, err ? tb_strerror(err) : "failed", err);
	exit(1);
}

static double load_avg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

static double mib(long kib)
{
	return (double)kib / 1024.0;
}

/* ---- figures ---- */

struct figure {
	char name[64];
	double value;
	const char *unit;
	int prec;
	const char *op; /* ">=", "<=" or NULL */
	double target;
};

#define FIGURES_MAX 24
static struct figure figures[FIGURES_MAX];
static size_t nfigures;

static void figure(const char *name, double value, const char *unit, int prec,
		   const char *op, double target)
{
	TB_ASSERT(nfigures < FIGURES_MAX);
	char b[64];
	snprintf(b, sizeof b, "%.*f", prec, value);
	struct figure *f = &figures[nfigures++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->value = strtod(b, NULL);
	f->unit = unit;
	f->prec = prec;
	f->op = op;
	f->target = target;
}

static void print_figures(void)
{
	printf("\n%-36s %14s  %-12s %-8s %s\n", "figure", "measured", "unit", "target", "");
	for (size_t i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		char t[32] = "-";
		const char *m = "";
		if (f->op) {
			snprintf(t, sizeof t, "%s%g", f->op, f->target);
			bool ok = f->op[0] == '>' ? f->value >= f->target : f->value <= f->target;
			m = ok ? "MET" : "NOT MET";
		}
		printf("%-36s %14.*f  %-12s %-8s %s\n", f->name, f->prec, f->value, f->unit, t, m);
	}
	for (size_t i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		char t[32] = "-";
		if (f->op)
			snprintf(t, sizeof t, "%s%g", f->op, f->target);
		printf("FIGURE %s %.*f %s %s\n", f->name, f->prec, f->value, f->unit, t);
	}
}

/* ---- every daemon dies with us ---- */

static struct tb_fed *fed;
static bool keep_trees;

static void on_exit_cleanup(void)
{
	tb_fed_free(fed);
	fed = NULL;
}

static void on_signal(int sig)
{
	for (size_t j = 0; fed && j < fed->n; j++)
		if (fed->node[j].pid > 0)
			kill(fed->node[j].pid, SIGKILL);
	for (size_t j = 0; fed && j < fed->n; j++)
		if (fed->node[j].pid > 0)
			while (waitpid(fed->node[j].pid, NULL, 0) < 0 && errno == EINTR)
				;
	if (!keep_trees && fed && fed->root) {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/rm", "rm", "-rf", fed->root, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
	}
	_exit(128 + sig);
}

static void find_binaries(void)
{
	char self[4096], path[4200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		die("readlink /proc/self/exe", TB_EIO);
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	static const char *const vars[2] = {"TALLY_BIN", "TALLYD_BIN"};
	static const char *const names[2] = {"tally", "tallyd"};
	for (int i = 0; i < 2; i++) {
		const char *v = getenv(vars[i]);
		if (!v || !*v) {
			snprintf(path, sizeof path, "%s/../node/%s", self, names[i]);
			setenv(vars[i], path, 1);
			v = getenv(vars[i]);
		}
		if (access(v, X_OK)) {
			fprintf(stderr, "bench_mem: %s=%s is not executable: set %s\n", vars[i], v,
				vars[i]);
			exit(1);
		}
	}
}

static void check_alive(size_t i)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	pid_t pid = fed->node[i].pid;
	if (pid > 0 && waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid) {
		char *tail = tb_fed_log_tail(fed, i, 3000);
		fprintf(stderr, "bench_mem: tallyd of node %zu (pid %d) exited:\n%s\n", i, (int)pid,
			tail);
		free(tail);
		exit(1);
	}
}

static struct tb_store *open_ledger(size_t i, unsigned flags)
{
	char path[TB_FED_PATH + 64];
	snprintf(path, sizeof path, "%s/ledger", fed->node[i].data);
	struct tb_store *s;
	int err = tb_store_open(&s, path, flags);
	if (err)
		die(path, err);
	return s;
}

static void sample(size_t i, struct tb_procmem *peak, struct tb_procmem *last)
{
	struct tb_procmem m;
	if (tb_procmem_read(fed->node[i].pid, false, &m)) {
		check_alive(i);
		die("reading a tallyd's /proc status", TB_EIO);
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

static uint32_t today(void)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	return (uint32_t)((tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday);
}

/* N attested exchanges (m1 and m2 taking turns) after A's head, sealed and
 * appended in groups; returns A's head seq after. */
static uint64_t fill(size_t n)
{
	struct tb_store *s = open_ledger(0, 0);
	tb_store_set_threads(s, 0);
	struct tb_keypair kp;
	char keypath[TB_FED_PATH + 32];
	snprintf(keypath, sizeof keypath, "%s/keys/node.key", fed->node[0].data);
	int err = tb_keyfile_read(keypath, &kp, TB_FED_PASS, strlen(TB_FED_PASS));
	if (err)
		die(keypath, err);
	struct tb_head h;
	struct tb_member m1, m2;
	if ((err = tb_store_head(s, fed->node[0].id, &h)) ||
	    (err = tb_store_member_by_name(s, fed->node[0].id, "m1", &m1)) ||
	    (err = tb_store_member_by_name(s, fed->node[0].id, "m2", &m2)))
		die("A's head and members", err);
	uint8_t *buf = malloc((size_t)GROUP * REC_BOUND);
	struct tb_view *v = calloc(GROUP, sizeof *v);
	if (!buf || !v)
		die("malloc", TB_ENOMEM);
	uint8_t prev[TB_HASHLEN];
	memcpy(prev, h.hash, TB_HASHLEN);
	uint64_t seq = h.seq, ts = (uint64_t)time(NULL), date = today();
	double seal_s = 0, append_s = 0, t0 = now();
	for (size_t done = 0; done < n;) {
		size_t k = n - done < GROUP ? n - done : GROUP, len_all = 0;
		double a = now();
		for (size_t j = 0; j < k; j++) {
			struct tb_entry e;
			memset(&e, 0, sizeof e);
			e.version = TB_ENTRY_VERSION;
			memcpy(e.log_id, kp.pk.b, TB_KEY_LEN);
			e.seq = ++seq;
			memcpy(e.prev, prev, TB_HASHLEN);
			e.timestamp = ts;
			e.kind = TB_KIND_EXCHANGE;
			struct tb_exchange *x = &e.body.exchange;
			uint8_t seed[16];
			memcpy(seed, "membench", 8);
			tb_be64_put(seed + 8, seq);
			uint8_t hh[TB_HASHLEN];
			tb_sha256(hh, seed, sizeof seed);
			memcpy(x->txid, hh, TB_TXID_LEN);
			x->provider = seq % 2 ? m2.no : m1.no;
			x->receiver = seq % 2 ? m1.no : m2.no;
			x->minutes = 30;
			x->category = (struct tb_view){(const uint8_t *)"gardening", 9};
			tb_sha256(x->memo_hash, x->txid, TB_TXID_LEN);
			x->date = date;
			x->attested = 1;
			size_t len;
			uint8_t *out = buf + len_all;
			if ((err = tb_entry_seal(out, (size_t)GROUP * REC_BOUND - len_all, &len, &e,
						 &kp)))
				die("tb_entry_seal", err);
			v[j] = (struct tb_view){out, len};
			len_all += len;
			tb_entry_hash(prev, out, len);
		}
		double b = now();
		size_t acc = 0;
		struct tb_reject rej;
		err = tb_store_append(s, v, k, &acc, &rej);
		if (err || acc != k) {
			fprintf(stderr, "bench_mem: filling A: %zu of %zu accepted (seq %" PRIu64
					": %s)\n",
				acc, k, rej.seq, rej.msg);
			die("tb_store_append", err);
		}
		seal_s += b - a;
		append_s += now() - b;
		done += k;
		if (done % (GROUP * 64) == 0)
			printf("  %zu entries written (%.0f s)\n", done, now() - t0);
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

static unsigned long long parse_arg(const char *arg, unsigned long long min,
				     unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (errno || *end || end == arg || v < min || v > max) {
		fprintf(stderr, "usage: bench_mem [entries (100..100000000)]\n");
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	const char *quick = getenv("BENCH_QUICK");
	size_t n = quick && !strcmp(quick, "1") ? QUICK_ENTRIES : DEFAULT_ENTRIES;
	if (argc > 1)
		n = (size_t)parse_arg(argv[1], 100, 100000000ull);
	if (argc > 2)
		parse_arg("x", 1, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	int err = tb_crypto_init();
	if (err)
		die("tb_crypto_init", err);
	find_binaries();
	keep_trees = getenv("TB_KEEP") != NULL;
	atexit(on_exit_cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	signal(SIGPIPE, SIG_IGN);
	setenv("TB_FED_LOG_LEVEL", getenv("TB_FED_LOG_LEVEL") ? getenv("TB_FED_LOG_LEVEL") : "warn",
	       1);
	printf("bench_mem: a tallyd holding %zu entries, idle and during a catch-up; %u cores, "
	       "load average %.2f\ntallyd %s\n",
	       n, tb_cpu_count(), load_avg(), getenv("TALLYD_BIN"));

	const size_t A = 0, B = 1;
	fed = tb_fed_new("membench", 2);
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
	double t0 = now(), next = t0;
	tb_fed_spawn(fed, B, NULL);
	bs = open_ledger(B, TB_STORE_RDONLY); /* tally init made it */
	for (;;) {
		double t = now();
		struct tb_head h;
		q = tb_store_head(bs, fed->node[A].id, &h) == 0 ? h.seq : 0;
		if (t >= next) {
			check_alive(A);
			check_alive(B);
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
			fprintf(stderr, "bench_mem: B holds %" PRIu64 " of %" PRIu64 " after %.0f s\n",
				q, total, CATCHUP_S);
			exit(1);
		}
		sleep_us(POLL_US);
	}
	double secs = now() - t0;
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

	figure("mem_entries", (double)total, "entries", 0, NULL, 0);
	figure("mem_idle_anon_mib", mib(ai.peak.anon), "MiB", 1, "<=", TARGET_ANON_MIB);
	figure("mem_idle_rss_mib", mib(ai.peak.rss), "MiB", 1, NULL, 0);
	figure("mem_catchup_rate", rate, "entries/s", 0, NULL, 0);
	figure("mem_catchup_src_anon_peak_mib", mib(pa.anon), "MiB", 1, "<=", TARGET_ANON_MIB);
	figure("mem_catchup_src_rss_peak_mib", mib(pa.rss), "MiB", 1, NULL, 0);
	figure("mem_catchup_dst_anon_peak_mib", mib(pb.anon), "MiB", 1, "<=", TARGET_ANON_MIB);
	figure("mem_catchup_dst_rss_peak_mib", mib(pb.rss), "MiB", 1, NULL, 0);
	figure("mem_after_dst_anon_mib", mib(bi.peak.anon), "MiB", 1, "<=", TARGET_ANON_MIB);
	figure("mem_after_dst_rss_mib", mib(bi.peak.rss), "MiB", 1, NULL, 0);
	print_figures();
	tb_fed_stop_all(fed);
	return 0;
}
