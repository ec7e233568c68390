/*
 * bench_audit.c: how fast the auditor re-checks a history, against the
 * machine's bare Ed25519 verify rate on all cores measured in the same run
 * (an audit verifies every signature, so that rate is its ceiling).
 *
 * It writes, in memory, an export file (FORMAT.md section 10) of one
 * community's log of M entries (genesis, a few hundred members, then
 * coordinator-attested exchanges: one signature per entry), sealed with
 * tb_entry_seal; generation is never timed, and writes it to a file. Each
 * run is a child process (this program run again, so it starts small as
 * `tally audit` does) that times tb_audit_new + tb_audit_add_export_stream
 * of the file + tb_audit_finish with signature checks on every core and
 * checks that the audit saw every entry and no violation; the parent reports
 * entries/s, the ratio to tb_verify_batch's rate over ~20000 jobs on every
 * core (sampled before and after each run; the best is the ceiling), the
 * scratch store's size and the child's peak RSS (its VmHWM), the
 * auditor's whole resident memory. It prints a table and one `FIGURE name value unit
 * target` line per figure for scripts/bench. Any unexpected error exits
 * non-zero; a missed target does not.
 *
 * Usage: bench_audit [entries [runs]]   (defaults 1000000 and 1)
 * (bench_audit --child FILE ENTRIES is the child of one run.)
 */
#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"
#include "procmem.h"
#include "tb_audit.h"
#include "testutil.h"

#define DEFAULT_ENTRIES 1000000
#define DEFAULT_RUNS 1
#define MEMBERS_MAX 300
#define VERIFY_MSG_LEN 150
#define VERIFY_COUNT 20000
#define VERIFY_ROUNDS 3
#define REC_BOUND 512
#define ITEM_HDR 5

#define TARGET_RATIO 0.9
#define TARGET_RSS_MIB 64

/* Current resident set (VmRSS), MiB; -1 if unknown. */
static double rss_mib(void)
{
	struct tb_procmem m;
	return tb_procmem_read(getpid(), false, &m) ? -1 : (double)m.rss / 1024.0;
}

/* Bytes allocated on disk by the files directly in dir. */
static uint64_t dir_bytes(const char *dir)
{
	uint64_t sum = 0;
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *de;
	char path[4200];
	while ((de = readdir(d))) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if (de->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return sum;
}

/* The one subdirectory of dir (the audit's scratch store), or "". */
static void only_subdir(const char *dir, char *out, size_t cap)
{
	out[0] = '\0';
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			snprintf(out, cap, "%s/%s", dir, de->d_name);
	closedir(d);
}

/* ---- bare verify rate on every core ---- */

/*
 * A set of VERIFY_COUNT verify jobs and the best rate and least CPU per job
 * tb_verify_batch gave on them (contention by other work on the machine
 * changes wall time far more than CPU time). Two sets: one signed message
 * over and over (as bench_ingest measures), and distinct exchanges of the
 * audited log itself (each signature's own cost: Ed25519 verification time
 * varies with the scalars).
 */
struct vset {
	const char *name;
	struct tb_verify_job *jobs;
	struct tb_entry *e; /* the decoded entries the jobs point into */
	struct tb_keypair kp;
	uint8_t msg[VERIFY_MSG_LEN];
	uint8_t sig[TB_SIG_LEN];
	double rate, cpu;
};

static void vset_one(struct vset *v)
{
	memset(v, 0, sizeof *v);
	v->name = "one message";
	v->cpu = 1e9;
	for (size_t i = 0; i < sizeof v->msg; i++)
		v->msg[i] = (uint8_t)(i * 31 + 7);
	tb_test_keypair(&v->kp, 9999);
	tb_sign(v->sig, &v->kp, TB_CTX_ENTRY, v->msg, sizeof v->msg);
	v->jobs = calloc(VERIFY_COUNT, sizeof *v->jobs);
	if (!v->jobs)
		tb_bench_die("calloc", TB_ENOMEM);
	for (size_t i = 0; i < VERIFY_COUNT; i++) {
		v->jobs[i].sig = v->sig;
		v->jobs[i].pk = v->kp.pk.b;
		v->jobs[i].msg = v->msg;
		v->jobs[i].len = sizeof v->msg;
		v->jobs[i].ctx = TB_CTX_ENTRY;
	}
}

/* The first VERIFY_COUNT exchanges of the export (repeated if fewer). */
static void vset_log(struct vset *v, const uint8_t *file, size_t len)
{
	memset(v, 0, sizeof *v);
	v->name = "the log's entries";
	v->cpu = 1e9;
	v->jobs = calloc(VERIFY_COUNT, sizeof *v->jobs);
	v->e = calloc(VERIFY_COUNT, sizeof *v->e);
	if (!v->jobs || !v->e)
		tb_bench_die("calloc", TB_ENOMEM);
	struct tb_export_reader r;
	enum tb_export_item type;
	struct tb_view item;
	size_t n = 0;
	int err = tb_export_open(&r, file, len);
	while (!err && n < VERIFY_COUNT && (err = tb_export_next(&r, &type, &item)) > 0) {
		err = 0;
		if (type != TB_EXPORT_ENTRY)
			continue;
		if ((err = tb_entry_decode(&v->e[n], item.p, item.len)))
			break;
		if (v->e[n].kind == TB_KIND_EXCHANGE) {
			tb_entry_verify_job(&v->jobs[n], &v->e[n]);
			n++;
		}
	}
	if (err < 0)
		tb_bench_die("reading the export back", err);
	/* A short log: its entries over and over. */
	for (size_t i = n; n && i < VERIFY_COUNT; i++)
		v->jobs[i] = v->jobs[i % n];
	if (!n)
		tb_bench_die("no exchange in the export", TB_ENOTFOUND);
}

static void vset_free(struct vset *v)
{
	free(v->jobs);
	free(v->e);
	tb_keypair_wipe(&v->kp);
}

/* tb_verify_batch of the set on every core, `rounds` times. */
static void vset_run(struct vset *v, int rounds)
{
	for (int round = 0; round < rounds; round++) {
		double c0 = tb_bench_cpu_self(), t0 = tb_bench_now();
		int err = tb_verify_batch(v->jobs, VERIFY_COUNT, 0);
		if (err)
			tb_bench_die("tb_verify_batch", err);
		double rate = VERIFY_COUNT / (tb_bench_now() - t0);
		double cpu = (tb_bench_cpu_self() - c0) / VERIFY_COUNT;
		v->rate = rate > v->rate ? rate : v->rate;
		v->cpu = cpu < v->cpu ? cpu : v->cpu;
	}
}

/* ---- the export file ---- */

struct xfile {
	uint8_t *buf;
	size_t len, cap;
	uint64_t items;
	uint64_t rec_bytes;
};

static void gen_export(struct xfile *xf, size_t n, uint32_t members,
		       const struct tb_keypair *community, const struct tb_keypair *mk)
{
	xf->cap = 9 + n * (ITEM_HDR + REC_BOUND) + ITEM_HDR + 8;
	xf->buf = malloc(xf->cap);
	if (!xf->buf)
		tb_bench_die("malloc", TB_ENOMEM);
	tb_export_header(xf->buf);
	xf->len = 9;
	xf->items = 0;
	xf->rec_bytes = 0;
	uint8_t prev[TB_HASHLEN] = {0};
	for (size_t i = 0; i < n; i++) {
		struct tb_entry e;
		char name[32];
		tb_bench_log_entry(&e, i, members, "Audit Valley Time Bank", "audit-tx", community,
				   mk, prev, name);
		uint8_t *out = xf->buf + xf->len + ITEM_HDR;
		size_t len;
		int err =
			tb_entry_seal(out, xf->cap - xf->len - ITEM_HDR - 13, &len, &e, community);
		if (err)
			tb_bench_die("tb_entry_seal", err);
		tb_export_item_header(xf->buf + xf->len, TB_EXPORT_ENTRY, (uint32_t)len);
		xf->len += ITEM_HDR + len;
		xf->items++;
		xf->rec_bytes += len;
		tb_entry_hash(prev, out, len);
	}
	tb_export_item_header(xf->buf + xf->len, TB_EXPORT_END, 8);
	tb_be64_put(xf->buf + xf->len + ITEM_HDR, xf->items);
	xf->len += ITEM_HDR + 8;
}

/* ---- the audit ---- */

struct vcount {
	uint64_t n;
	struct tb_reject first;
};

static void on_violation(void *ctx, const struct tb_violation *v)
{
	struct vcount *c = ctx;
	if (!c->n++)
		c->first = v->r;
}

struct audit_result {
	double secs, cpu, worst;
	long vcsw, ivcsw; /* context switches: voluntary (waits), involuntary */
	double add_secs, finish_secs, new_secs, free_secs;
	uint64_t scratch_bytes;
	double peak_mib; /* the child's peak resident set, the largest of the runs */
};

static int fd_read(void *ctx, uint8_t *p, size_t len, size_t *got)
{
	ssize_t r = read(*(const int *)ctx, p, len);
	if (r < 0)
		return TB_EIO;
	*got = (size_t)r;
	return 0;
}

/* The child: audits the export file, prints one RESULT line, exits. */
static int audit_child(const char *path, size_t n)
{
	char *dir = tb_test_tmpdir("bench-audit");
	struct vcount vc = {0};
	struct tb_audit *a;
	struct tb_audit_summary sum;
	struct rusage ru0, ru1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		tb_bench_die("open the export", TB_EIO);
	getrusage(RUSAGE_SELF, &ru0);
	double c0 = tb_bench_cpu_self(), t0 = tb_bench_now();
	int err = tb_audit_new(&a, dir, on_violation, &vc);
	if (err)
		tb_bench_die("tb_audit_new", err);
	tb_audit_set_threads(a, 0);
	tb_audit_set_lean(a);
	double t1 = tb_bench_now();
	if ((err = tb_audit_add_export_stream(a, fd_read, &fd)))
		tb_bench_die("tb_audit_add_export_stream", err);
	double t2 = tb_bench_now();
	if ((err = tb_audit_finish(a, &sum)))
		tb_bench_die("tb_audit_finish", err);
	double t3 = tb_bench_now(), cpu = tb_bench_cpu_self() - c0;
	getrusage(RUSAGE_SELF, &ru1);
	close(fd);
	char scratch[4200];
	only_subdir(dir, scratch, sizeof scratch);
	uint64_t sbytes = dir_bytes(scratch);
	tb_audit_free(a);
	double t4 = tb_bench_now();
	tb_test_rmrf(dir);
	if (vc.n || sum.violations) {
		fprintf(stderr,
			"bench_audit: %" PRIu64 " violations, the first at seq %" PRIu64 ": %s\n",
			vc.n, vc.first.seq, vc.first.msg);
		return 1;
	}
	if (sum.entries != n || sum.logs != 1) {
		fprintf(stderr,
			"bench_audit: the audit saw %" PRIu64 " entries in %" PRIu64
			" logs, not %zu in 1\n",
			sum.entries, sum.logs, n);
		return 1;
	}
	/* VmHWM: this process's peak since its exec (ru_maxrss would count
	 * the parent's pages it was forked with). */
	struct tb_procmem m;
	if (tb_procmem_read(getpid(), false, &m) || m.hwm < 0)
		tb_bench_die("reading /proc/self/status", TB_EIO);
	printf("RESULT %.6f %.6f %.6f %.6f %.6f %.6f %" PRIu64 " %ld %ld %ld\n", t3 - t0, cpu,
	       t1 - t0, t2 - t1, t3 - t2, t4 - t3, sbytes, ru1.ru_nvcsw - ru0.ru_nvcsw,
	       ru1.ru_nivcsw - ru0.ru_nivcsw, m.hwm);
	return 0;
}

/* One run: the child audits the file; its figures and peak RSS kept. */
static void audit_once(const char *path, size_t n, struct audit_result *r)
{
	int pfd[2];
	if (pipe(pfd))
		tb_bench_die("pipe", TB_EIO);
	char nbuf[32];
	snprintf(nbuf, sizeof nbuf, "%zu", n);
	pid_t pid = fork();
	if (pid < 0)
		tb_bench_die("fork", TB_EIO);
	if (pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execl("/proc/self/exe", "bench_audit", "--child", path, nbuf, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	char line[512];
	size_t got = 0;
	ssize_t k;
	while (got < sizeof line - 1 && (k = read(pfd[0], line + got, sizeof line - 1 - got)) > 0)
		got += (size_t)k;
	line[got] = '\0';
	close(pfd[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		tb_bench_die("the audit child", TB_EIO);
	struct audit_result c = {0};
	long hwm;
	if (sscanf(line, "RESULT %lf %lf %lf %lf %lf %lf %" SCNu64 " %ld %ld %ld", &c.secs, &c.cpu,
		   &c.new_secs, &c.add_secs, &c.finish_secs, &c.free_secs, &c.scratch_bytes,
		   &c.vcsw, &c.ivcsw, &hwm) != 10)
		tb_bench_die("the audit child's result", TB_ECORRUPT);
	double peak = (double)hwm / 1024.0;
	r->peak_mib = peak > r->peak_mib ? peak : r->peak_mib;
	if (r->secs == 0 || c.secs < r->secs) {
		c.worst = r->worst;
		c.peak_mib = r->peak_mib;
		*r = c;
	}
	r->worst = c.secs > r->worst ? c.secs : r->worst;
}

/* Writes the export to a file in dir; its path in out. */
static void write_export(const struct xfile *xf, const char *dir, char *out, size_t cap)
{
	snprintf(out, cap, "%s/audit.tally", dir);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;
	while (fd >= 0 && off < xf->len) {
		ssize_t k = write(fd, xf->buf + off, xf->len - off);
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	if (fd < 0 || off < xf->len || close(fd))
		tb_bench_die("writing the export file", TB_EIO);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--child")) {
		tb_bench_setup(0);
		return audit_child(argv[2], (size_t)strtoull(argv[3], NULL, 10));
	}
	tb_bench_init("bench_audit", "[entries (1000..100000000) [runs (1..20)]]");
	size_t n = argc > 1 ? (size_t)tb_bench_arg(argv[1], 1000, 100000000ull) : DEFAULT_ENTRIES;
	int runs = argc > 2 ? (int)tb_bench_arg(argv[2], 1, 20) : DEFAULT_RUNS;
	if (argc > 3)
		tb_bench_usage();
	tb_bench_setup(0);
	uint32_t members = n >= 10 * MEMBERS_MAX ? MEMBERS_MAX : (uint32_t)(n / 10);
	printf("bench_audit: %zu entries (%u members, attested exchanges), %d run(s), %u cores, "
	       "scratch store under %s, load average %.2f\n",
	       n, members, runs, tb_cpu_count(), getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
	       tb_bench_load_avg());

	struct vset vs[2];
	vset_one(&vs[0]);
	vset_run(&vs[0], VERIFY_ROUNDS);

	struct tb_keypair community, *mk = calloc(members, sizeof *mk);
	if (!mk)
		tb_bench_die("calloc", TB_ENOMEM);
	tb_test_keypair(&community, 0);
	for (uint32_t i = 0; i < members; i++)
		tb_test_keypair(&mk[i], 1 + i);
	struct xfile xf;
	double g0 = tb_bench_now();
	gen_export(&xf, n, members, &community, mk);
	printf("export: %zu bytes (%.1f MiB, %.0f bytes per record), generated in %.1f s "
	       "(not timed)\n",
	       xf.len, (double)xf.len / 1048576.0, (double)xf.rec_bytes / (double)n,
	       tb_bench_now() - g0);
	for (uint32_t i = 0; i < members; i++)
		tb_keypair_wipe(&mk[i]);
	free(mk);
	tb_keypair_wipe(&community);
	vset_log(&vs[1], xf.buf, xf.len);
	vset_run(&vs[1], VERIFY_ROUNDS);
	char *xdir = tb_test_tmpdir("bench-audit-file"), xpath[4200];
	write_export(&xf, xdir, xpath, sizeof xpath);

	double rss_before = rss_mib();
	struct audit_result ar = {0};
	for (int r = 0; r < runs; r++) {
		for (int k = 0; k < 2; k++)
			vset_run(&vs[k], 1);
		double l = tb_bench_load_avg();
		audit_once(xpath, n, &ar);
		for (int k = 0; k < 2; k++)
			vset_run(&vs[k], VERIFY_ROUNDS);
		printf("run %d of %d done (load average before it %.2f)\n", r + 1, runs, l);
	}
	tb_test_rmrf(xdir);
	double peak = ar.peak_mib;
	free(xf.buf); /* the verify sets point into it */

	/* The ceiling: the audited log's own signatures. */
	double rate = (double)n / ar.secs, ratio = rate / vs[1].rate;
	ratio = (double)(long)(ratio * 100 + 0.5) / 100; /* as printed and judged */
	double cpu_entry = ar.cpu / (double)n;
	printf("\n");
	for (int k = 0; k < 2; k++)
		printf("verify, all cores, %-17s: %9.0f /s, %.1f us cpu each (best of %d batches of "
		       "%d)\n",
		       vs[k].name, vs[k].rate, vs[k].cpu * 1e6,
		       2 * VERIFY_ROUNDS * runs + VERIFY_ROUNDS, VERIFY_COUNT);
	printf("audit, all cores                    : %9.0f entries/s  ratio %.2f  target %.2f  %s  "
	       "(%.2f to the one-message rate)\n",
	       rate, ratio, TARGET_RATIO, ratio >= TARGET_RATIO ? "MET" : "NOT MET",
	       rate / vs[0].rate);
	printf("  best %.2f s of %.2f..%.2f s (cpu %.1f s, %.2f cores busy): new %.3f s, "
	       "add_export_stream %.2f s, finish %.3f s; free %.2f s (not timed)\n",
	       ar.secs, ar.secs, ar.worst, ar.cpu, ar.cpu / ar.secs, ar.new_secs, ar.add_secs,
	       ar.finish_secs, ar.free_secs);
	printf("  cpu per entry %.1f us = %.2f x a bare verify of the log's entries; context "
	       "switches %ld voluntary, %ld involuntary\n",
	       cpu_entry * 1e6, cpu_entry / vs[1].cpu, ar.vcsw, ar.ivcsw);
	printf("  scratch store %.0f MiB on disk (%.0f bytes per entry); the auditor's peak rss "
	       "%.0f MiB  target <%d  %s (this process: %.0f MiB)\n",
	       (double)ar.scratch_bytes / 1048576.0, (double)ar.scratch_bytes / (double)n, peak,
	       TARGET_RSS_MIB, peak < TARGET_RSS_MIB ? "MET" : "NOT MET", rss_before);
	printf("load average at the end: %.2f\n", tb_bench_load_avg());

	printf("FIGURE verify_allcores_one_msg %.0f verifies/s -\n", vs[0].rate);
	printf("FIGURE verify_allcores_log_entries %.0f verifies/s -\n", vs[1].rate);
	printf("FIGURE audit_entries %zu entries -\n", n);
	printf("FIGURE audit_rate %.0f entries/s -\n", rate);
	printf("FIGURE audit_ratio_verify_allcores %.2f x_verify >=%.2f\n", ratio, TARGET_RATIO);
	printf("FIGURE audit_cpu_per_entry_vs_verify %.2f x_verify_cpu -\n", cpu_entry / vs[1].cpu);
	printf("FIGURE audit_peak_rss %.0f MiB <=%d\n", peak, TARGET_RSS_MIB - 1);
	printf("FIGURE audit_scratch_bytes_per_entry %.0f bytes -\n",
	       (double)ar.scratch_bytes / (double)n);
	for (int k = 0; k < 2; k++)
		vset_free(&vs[k]);
	return 0;
}
