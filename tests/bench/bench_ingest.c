/*
 * bench_ingest.c: how fast a node takes in verified entries from a peer,
 * against the machine's bare Ed25519 verify rate measured in the same run
 * (DESIGN.md section 8: ingest close to the bare verify rate).
 *
 * It measures tb_verify on one core, pre-generates a community log (genesis,
 * a few hundred members, then exchanges) in two variants, coordinator-attested
 * (one signature per entry) and member-signed (three), and times
 * tb_store_append into fresh durable stores (flags 0, sync on), 4000 records
 * a call, which the store commits in groups of 1000 (TB_APPEND_GROUP), first
 * with one verify thread and the whole process held to one CPU, then with one
 * per core. The ceiling of an ingest is the one-core verify rate (measured
 * on that same CPU) divided by the signatures per entry. It prints a table and one `FIGURE name
 * value unit target` line per figure, which scripts/bench collects. Generation is never timed. Any
 * unexpected error exits non-zero; a missed target does not.
 *
 * Shared or virtual machines change speed from one second to the next, so
 * every figure is the best of a few runs, and the verify rate is sampled
 * again before each run: the ratios compare best with best.
 *
 * Usage: bench_ingest [entries [runs]]   (defaults 100000 and 3)
 */
#define _GNU_SOURCE /* sched_setaffinity */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>

#include "benchutil.h"
#include "tb_store.h"
#include "testutil.h"

#define DEFAULT_ENTRIES 100000
#define DEFAULT_RUNS 3
#define GROUP 1000
/* Records a tb_store_append call is given: the store commits them in groups
 * of TB_APPEND_GROUP, as a node does with what a peer sent. */
#define CALL 4000
#define MEMBERS_MAX 300
#define VERIFY_MSG_LEN 150
#define VERIFY_COUNT 10000
#define VERIFY_ROUNDS 3
/* Generous bound on one generated record (a member-signed exchange is ~330). */
#define REC_BOUND 512

#define TB_BENCH_TABLES_MAX 40

#define TARGET_ONE_CORE 0.85
#define TARGET_ALL_CORES 1.75

_Static_assert(GROUP == TB_APPEND_GROUP, "the store commits in other groups");
_Static_assert(CALL <= TB_APPEND_MAX, "call larger than one append takes");

/* A pre-generated log: records back to back in buf, views into it. */
struct corpus {
	const char *name; /* "attested", "member-signed" */
	const char *key;  /* figure name part */
	uint8_t *buf;
	size_t len;
	size_t cap;
	struct tb_view *recs;
	size_t n;
	uint64_t sigs; /* signatures to verify over the whole log */
};

struct ingest_result {
	double secs;					   /* the fastest run */
	double cpu_secs;				   /* its user + system time, all threads */
	double worst;					   /* the slowest run */
	uint64_t bytes;					   /* tb_store_size after the ingest */
	struct tb_store_table tables[TB_BENCH_TABLES_MAX]; /* where the bytes went */
	size_t ntables;
};

static const char *tmp_base(void)
{
	const char *base = getenv("TMPDIR");
	return base && *base ? base : "/tmp";
}

/* A fresh directory under $TMPDIR or /tmp (malloc'd, for tb_test_rmrf). */
static char *make_tmpdir(const char *tag)
{
	char *path = malloc(4096);
	if (!path)
		tb_bench_die("malloc", TB_ENOMEM);
	snprintf(path, 4096, "%s/tally-bench-%s-XXXXXX", tmp_base(), tag);
	if (!mkdtemp(path)) {
		fprintf(stderr, "bench_ingest: mkdtemp %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return path;
}

/* Name of the file system under dir: sync on tmpfs would cost nothing. */
static const char *fs_name(const char *dir)
{
	struct statfs st;
	if (statfs(dir, &st) != 0)
		return "unknown fs";
	switch ((unsigned long)st.f_type) {
	case 0xEF53UL:
		return "ext4";
	case 0x01021994UL:
		return "tmpfs (sync costs nothing)";
	case 0x58465342UL:
		return "xfs";
	case 0x9123683EUL:
		return "btrfs";
	case 0x794C7630UL:
		return "overlayfs";
	case 0x2FC12FC1UL:
		return "zfs";
	}
	return "other fs";
}

/* ---- 1. bare verify rate ---- */

/* One signed message of about an entry's size, verified over and over. */
struct vsample {
	struct tb_keypair kp;
	uint8_t msg[VERIFY_MSG_LEN];
	uint8_t sig[TB_SIG_LEN];
	struct tb_verify_job *jobs; /* VERIFY_COUNT jobs of it */
};

static void vsample_init(struct vsample *v)
{
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
	for (int i = 0; i < VERIFY_COUNT / 20; i++) /* warm up */
		if (tb_verify(v->sig, v->kp.pk.b, TB_CTX_ENTRY, v->msg, sizeof v->msg))
			tb_bench_die("tb_verify (warm-up)", TB_EBADSIG);
}

static void vsample_deinit(struct vsample *v)
{
	free(v->jobs);
	tb_keypair_wipe(&v->kp);
}

/* The best verify rate per second of CPU time seen (verify_one_core): what
 * ingest's CPU time is compared with, which a loaded machine changes less
 * than the rates. */
static double verify1_cpu;

/*
 * tb_verify on this thread, the best of `rounds` rounds: the machine's rate,
 * not a moment when a neighbour took the core, sets the ceiling.
 */
static double verify_one_core(const struct vsample *v, int rounds)
{
	double best = 0;
	for (int round = 0; round < rounds; round++) {
		double c0 = tb_bench_cpu_self(), t0 = tb_bench_now();
		for (int i = 0; i < VERIFY_COUNT; i++)
			if (tb_verify(v->sig, v->kp.pk.b, TB_CTX_ENTRY, v->msg, sizeof v->msg))
				tb_bench_die("tb_verify", TB_EBADSIG);
		double rate = VERIFY_COUNT / (tb_bench_now() - t0);
		double cpu = tb_bench_cpu_self() - c0;
		if (rate > best)
			best = rate;
		if (cpu > 0 && VERIFY_COUNT / cpu > verify1_cpu)
			verify1_cpu = VERIFY_COUNT / cpu;
	}
	return best;
}

/* tb_verify_batch on every core in groups as ingest calls it (so thread
 * start-up counts alike): what all cores give at best. */
static double verify_all_cores(struct vsample *v, int rounds)
{
	double best = 0;
	for (int round = 0; round < rounds; round++) {
		double t0 = tb_bench_now();
		for (size_t off = 0; off < VERIFY_COUNT; off += GROUP) {
			size_t k = VERIFY_COUNT - off < GROUP ? VERIFY_COUNT - off : GROUP;
			int err = tb_verify_batch(v->jobs + off, k, 0);
			if (err)
				tb_bench_die("tb_verify_batch", err);
		}
		double rate = VERIFY_COUNT / (tb_bench_now() - t0);
		if (rate > best)
			best = rate;
	}
	return best;
}

/* ---- 2. the community log ---- */

static void corpus_add(struct corpus *c, struct tb_entry *e, const struct tb_keypair *kp,
		       uint8_t prev[TB_HASHLEN])
{
	size_t len;
	uint8_t *out = c->buf + c->len;
	int err = tb_entry_seal(out, c->cap - c->len, &len, e, kp);
	if (err)
		tb_bench_die("tb_entry_seal", err);
	c->recs[c->n].p = out;
	c->recs[c->n].len = len;
	c->n++;
	c->len += len;
	c->sigs++;
	tb_entry_hash(prev, out, len);
}

static void gen_log(struct corpus *c, size_t n, uint32_t members, bool member_signed,
		    const struct tb_keypair *community, const struct tb_keypair *mk)
{
	uint8_t prev[TB_HASHLEN] = {0};
	c->cap = n * REC_BOUND;
	c->buf = malloc(c->cap);
	c->recs = calloc(n, sizeof *c->recs);
	if (!c->buf || !c->recs)
		tb_bench_die("malloc", TB_ENOMEM);
	c->len = c->n = 0;
	c->sigs = 0;
	for (size_t i = 0; i < n; i++) {
		struct tb_entry e;
		char name[32];
		uint8_t psig[TB_SIGLEN], rsig[TB_SIGLEN];
		tb_bench_log_entry(&e, i, members, "Bench Valley Time Bank", "bench-tx", community,
				   mk, prev, name);
		if (e.kind == TB_KIND_EXCHANGE) {
			struct tb_exchange *x = &e.body.exchange;
			x->attested = member_signed ? 0 : 1;
			if (member_signed) {
				struct tb_exchange_terms t;
				tb_exchange_terms_of(&t, e.log_id, x);
				uint8_t terms[TB_ENTRY_MAX];
				size_t tlen;
				int err = tb_terms_encode(terms, sizeof terms, &tlen,
							  &tb_def_exchange_terms, &t);
				if (err)
					tb_bench_die("tb_terms_encode", err);
				tb_sign(psig, &mk[x->provider - 1], TB_CTX_EXCHANGE, terms, tlen);
				tb_sign(rsig, &mk[x->receiver - 1], TB_CTX_EXCHANGE, terms, tlen);
				x->provider_sig.p = psig;
				x->provider_sig.len = TB_SIGLEN;
				x->receiver_sig.p = rsig;
				x->receiver_sig.len = TB_SIGLEN;
				c->sigs += 2;
			}
		}
		corpus_add(c, &e, community, prev);
	}
}

static void corpus_free(struct corpus *c)
{
	free(c->buf);
	free(c->recs);
	c->buf = NULL;
	c->recs = NULL;
}

/* ---- 3. ingest ---- */

/* Ingests the log into a fresh durable store; keeps the fastest run in r. */
static void ingest(const struct corpus *c, unsigned threads, const uint8_t log_id[TB_KEY_LEN],
		   struct ingest_result *r)
{
	char *dir = make_tmpdir(c->key);
	struct tb_store *s;
	int err = tb_store_open(&s, dir, 0);
	if (err)
		tb_bench_die("tb_store_open", err);
	tb_store_set_threads(s, threads);

	double c0 = tb_bench_cpu_self(), t0 = tb_bench_now();
	for (size_t off = 0; off < c->n; off += CALL) {
		size_t k = c->n - off < CALL ? c->n - off : CALL, acc = 0;
		struct tb_reject rej;
		err = tb_store_append(s, c->recs + off, k, &acc, &rej);
		if (err || acc != k) {
			fprintf(stderr,
				"bench_ingest: %s: group at %zu: %zu of %zu accepted: "
				"%s (seq %" PRIu64 ": %s)\n",
				c->name, off, acc, k, tb_strerror(err), rej.seq, rej.msg);
			exit(1);
		}
	}
	double secs = tb_bench_now() - t0, cpu = tb_bench_cpu_self() - c0;
	if (r->secs == 0 || secs < r->secs) {
		r->secs = secs;
		r->cpu_secs = cpu;
	}
	if (secs > r->worst)
		r->worst = secs;

	if ((err = tb_store_size(s, &r->bytes)))
		tb_bench_die("tb_store_size", err);
	if ((err = tb_store_tables(s, r->tables, TB_BENCH_TABLES_MAX, &r->ntables)))
		tb_bench_die("tb_store_tables", err);
	struct tb_head h;
	if ((err = tb_store_head(s, log_id, &h)))
		tb_bench_die("tb_store_head", err);
	if (h.seq != c->n) {
		fprintf(stderr, "bench_ingest: %s: head is %" PRIu64 ", not %zu\n", c->name, h.seq,
			c->n);
		exit(1);
	}
	tb_store_free(s);
	tb_test_rmrf(dir);
}

/* Holds the process to the CPU it runs on (one), or gives it back all it
 * had (all): the one-core figures use one core, whatever threads run. */
static void one_cpu(bool one)
{
	static cpu_set_t all;
	static bool saved;
	if (!saved) {
		if (sched_getaffinity(0, sizeof all, &all)) {
			fprintf(stderr, "bench_ingest: sched_getaffinity: %s\n", strerror(errno));
			exit(1);
		}
		saved = true;
	}
	cpu_set_t set = all;
	if (one) {
		int cpu = sched_getcpu();
		CPU_ZERO(&set);
		CPU_SET(cpu < 0 ? 0 : cpu, &set);
	}
	if (sched_setaffinity(0, sizeof set, &set)) {
		fprintf(stderr, "bench_ingest: sched_setaffinity: %s\n", strerror(errno));
		exit(1);
	}
}

/* ---- 4./5. report ---- */

struct figure {
	char name[64];
	double value;
	const char *unit;
	int prec;      /* digits after the point */
	double target; /* >= target; 0: none */
};

#define FIGURES_MAX 32
static struct figure figures[FIGURES_MAX];
static size_t nfigures;

static void figure(const char *name, double value, const char *unit, int prec, double target)
{
	TB_ASSERT(nfigures < FIGURES_MAX);
	struct figure *f = &figures[nfigures++];
	snprintf(f->name, sizeof f->name, "%s", name);
	f->value = value;
	f->unit = unit;
	f->prec = prec;
	f->target = target;
}

static const char *met(double value, double target)
{
	return value >= target ? "MET" : "NOT MET";
}

/* Bytes per entry of each table (its pages), then LMDB's own pages. */
static void report_tables(const struct corpus *c, const struct ingest_result *r)
{
	uint64_t sum = 0;
	printf("%-14s tables      : %-12s %9s %5s %8s %8s %8s %8s %10s\n", c->name, "table",
	       "records", "depth", "branch", "leaf", "overflow", "dup", "bytes/entry");
	for (size_t i = 0; i < r->ntables; i++) {
		const struct tb_store_table *t = &r->tables[i];
		uint64_t pages = t->branch_pages + t->leaf_pages + t->overflow_pages + t->dup_pages;
		sum += pages * t->page_size;
		if (!pages)
			continue;
		printf("%-14s tables      : %-12s %9" PRIu64 " %5u %8" PRIu64 " %8" PRIu64
		       " %8" PRIu64 " %8" PRIu64 " %10.1f\n",
		       c->name, t->name, t->entries, t->depth, t->branch_pages, t->leaf_pages,
		       t->overflow_pages, t->dup_pages,
		       (double)(pages * t->page_size) / (double)c->n);
	}
	printf("%-14s tables      : %-12s %9s %5s %8s %8s %8s %8s %10.1f\n", c->name, "(lmdb)", "-",
	       "-", "-", "-", "-", "-", (double)(r->bytes - sum) / (double)c->n);
}

static void report_variant(const struct corpus *c, double verify1, const struct ingest_result *one,
			   const struct ingest_result *all)
{
	double spe = (double)c->sigs / (double)c->n;
	double ceiling = verify1 / spe;
	double rate1 = (double)c->n / one->secs, rate_all = (double)c->n / all->secs;
	double ratio1 = rate1 / ceiling, ratio_all = rate_all / ceiling;
	/* Of the CPU time of the one-core ingest, the share the signatures
	 * alone would take. */
	double cpu_ratio = ((double)c->n / one->cpu_secs) / (verify1_cpu / spe);
	char label[64];

	printf("%-14s 1 core      : %9.0f entries/s  ceiling %7.0f  ratio %.2f  target %.2f  %s\n",
	       c->name, rate1, ceiling, ratio1, TARGET_ONE_CORE, met(ratio1, TARGET_ONE_CORE));
	printf("%-14s all cores   : %9.0f entries/s  (to one-core ceiling) ratio %.2f  target %.2f  %s\n",
	       c->name, rate_all, ratio_all, TARGET_ALL_CORES, met(ratio_all, TARGET_ALL_CORES));
	printf("%-14s 1 core, cpu : signatures are %.2f of its CPU time\n", c->name, cpu_ratio);
	printf("%-14s             : %.3f signatures/entry; best %.1f s (cpu %.1f s) of %.1f..%.1f s on 1 core, %.1f s (cpu %.1f s) of %.1f..%.1f s on all\n",
	       c->name, spe, one->secs, one->cpu_secs, one->secs, one->worst, all->secs,
	       all->cpu_secs, all->secs, all->worst);

	double per_entry = (double)one->bytes / (double)c->n;
	double rec = (double)c->len / (double)c->n;
	printf("%-14s store       : %.0f bytes per stored entry (%.2f x the record), %.0f MiB per million entries, record %.0f bytes\n",
	       c->name, per_entry, per_entry / rec, per_entry * 1e6 / 1048576.0, rec);
	if (all->bytes != one->bytes)
		printf("%-14s store       : (all-cores store: %" PRIu64 " bytes)\n", c->name,
		       all->bytes);
	report_tables(c, one);

	snprintf(label, sizeof label, "ingest_%s_1core", c->key);
	figure(label, rate1, "entries/s", 0, 0);
	snprintf(label, sizeof label, "ingest_%s_1core_ratio", c->key);
	figure(label, ratio1, "x_ceiling", 2, TARGET_ONE_CORE);
	snprintf(label, sizeof label, "ingest_%s_1core_cpu_ratio", c->key);
	figure(label, cpu_ratio, "x_verify_cpu", 2, 0);
	snprintf(label, sizeof label, "ingest_%s_allcores", c->key);
	figure(label, rate_all, "entries/s", 0, 0);
	snprintf(label, sizeof label, "ingest_%s_allcores_ratio", c->key);
	figure(label, ratio_all, "x_1core_ceiling", 2, TARGET_ALL_CORES);
	snprintf(label, sizeof label, "store_%s_bytes_per_entry", c->key);
	figure(label, per_entry, "bytes", 0, 0);
	snprintf(label, sizeof label, "store_%s_mib_per_million", c->key);
	figure(label, per_entry * 1e6 / 1048576.0, "MiB", 0, 0);
	snprintf(label, sizeof label, "record_%s_bytes", c->key);
	figure(label, rec, "bytes", 0, 0);
}

static void print_figures(void)
{
	for (size_t i = 0; i < nfigures; i++) {
		const struct figure *f = &figures[i];
		char v[32], t[32];
		snprintf(v, sizeof v, "%.*f", f->prec, f->value);
		if (f->target > 0)
			snprintf(t, sizeof t, ">=%.2f", f->target);
		else
			snprintf(t, sizeof t, "-");
		printf("FIGURE %s %s %s %s\n", f->name, v, f->unit, t);
	}
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_ingest", "[entries (20..100000000) [runs (1..20)]]");
	size_t n = argc > 1 ? (size_t)tb_bench_arg(argv[1], 20, 100000000ull) : DEFAULT_ENTRIES;
	int runs = argc > 2 ? (int)tb_bench_arg(argv[2], 1, 20) : DEFAULT_RUNS;
	tb_bench_setup(0);

	uint32_t members = n >= 10 * MEMBERS_MAX ? MEMBERS_MAX : (uint32_t)(n / 10);
	printf("bench_ingest: %zu entries (%u members), %d a call in groups of %d, sync on, "
	       "best of %d runs, machine: %u cores, store under %s (%s)\n",
	       n, members, CALL, GROUP, runs, tb_cpu_count(), tmp_base(), fs_name(tmp_base()));
	double load = tb_bench_load_avg();
	if (load >= 0.5)
		printf("warning: load average %.2f before the run: other work "
		       "skews these figures\n",
		       load);

	struct vsample vs;
	vsample_init(&vs);
	one_cpu(true);
	double verify1 = verify_one_core(&vs, VERIFY_ROUNDS);
	one_cpu(false);
	double verify_all = verify_all_cores(&vs, VERIFY_ROUNDS);

	struct tb_keypair community, *mk = calloc(members, sizeof *mk);
	if (!mk)
		tb_bench_die("calloc", TB_ENOMEM);
	tb_test_keypair(&community, 0);
	for (uint32_t i = 0; i < members; i++)
		tb_test_keypair(&mk[i], 1 + i);

	struct corpus variants[2] = {
		{.name = "attested", .key = "attested"},
		{.name = "member-signed", .key = "member_signed"},
	};
	struct ingest_result one[2], all[2];
	memset(one, 0, sizeof one);
	memset(all, 0, sizeof all);
	for (int v = 0; v < 2; v++) {
		struct corpus *c = &variants[v];
		double g0 = tb_bench_now();
		gen_log(c, n, members, v == 1, &community, mk);
		printf("%-14s: generated in %.1f s (not timed)\n", c->name, tb_bench_now() - g0);
		/* The verify rates are sampled again before each run: the
		 * ceiling is the best the machine gave during the whole run. */
		for (int r = 0; r < runs; r++) {
			one_cpu(true);
			double x = verify_one_core(&vs, 1);
			verify1 = x > verify1 ? x : verify1;
			ingest(c, 1, community.pk.b, &one[v]);
			one_cpu(false);
			x = verify_all_cores(&vs, 1);
			verify_all = x > verify_all ? x : verify_all;
			ingest(c, 0, community.pk.b, &all[v]);
			printf("%-14s: run %d of %d done\n", c->name, r + 1, runs);
		}
		corpus_free(c);
	}
	vsample_deinit(&vs);
	for (uint32_t i = 0; i < members; i++)
		tb_keypair_wipe(&mk[i]);
	free(mk);
	tb_keypair_wipe(&community);

	printf("\nverify (1 core)             : %9.0f /s   (best of %d x %d verifies of %d bytes, tb_verify)\n",
	       verify1, VERIFY_ROUNDS + 2 * runs, VERIFY_COUNT, VERIFY_MSG_LEN);
	printf("verify (all cores, batch)   : %9.0f /s   (%.2f x one core, tb_verify_batch in groups of %d)\n",
	       verify_all, verify_all / verify1, GROUP);
	figure("verify_1core", verify1, "verifies/s", 0, 0);
	figure("verify_allcores_batch", verify_all, "verifies/s", 0, 0);
	for (int v = 0; v < 2; v++)
		report_variant(&variants[v], verify1, &one[v], &all[v]);
	print_figures();
	return 0;
}
