/*
 * bench_soak.c: a soak run (issue 6, "Load and memory"): 32 real tallyd
 * processes on 127.0.0.1 in a random connected topology (each node dials two
 * random earlier ones, as bench_fed's propagation run), under a steady
 * stream of exchanges for a set time, with every daemon's memory sampled
 * every second.
 *
 * The stream: local exchanges (attested, 30 minutes, m1 and m2 taking turns
 * as provider, as `tally exchange record --attest` writes them) at `rate`
 * per second over all nodes, round robin; and cross-community exchanges at
 * `cross` per second: a random node's m2 pays 1 minute to m1 of the next
 * node on a ring (each community trusts both ring neighbours for 100000
 * minutes, LINK entries written before the daemons start), an attested
 * XPREPARE as `tally exchange send --attest` writes it; the two tallyds
 * decide and finish it. Entries are appended in this process through the
 * library into each node's own ledger (the LMDB its tallyd uses), one
 * durable transaction each, as the command line would, by 8 threads (each
 * for 4 nodes, on its own share of the schedule: one thread would spend its
 * time waiting on fsync); every tallyd sees the change and pushes it.
 *
 * Reported:
 *  - exchanges per second appended (local and cross; the schedule never
 *    bursts to catch up, so a slow machine shows a lower figure), and cross
 *    exchanges finished per second (the final leg held at the payer);
 *  - propagation latency of every appended entry: from the end of its
 *    append to the moment all 31 other ledgers hold it (every ledger's heads
 *    polled every 10 ms, read-only): median and 99th percentile; and a
 *    cross exchange's latency, prepare to final leg;
 *  - per node, from /proc every second: peak private anonymous memory
 *    (RssAnon) beside peak total resident memory (VmRSS, which includes
 *    LMDB's mapped file pages the kernel can reclaim): min, median, max over
 *    the 32 nodes;
 *  - memory growth: each node's mean RssAnon over the last quarter of the
 *    run minus its mean over the first quarter; the largest over the nodes
 *    (target: under 1 MiB, i.e. no growth).
 *
 * Every daemon dies with this process (fed.c) and is killed, the trees
 * removed, at exit or on SIGINT, SIGTERM, SIGHUP ($TB_KEEP keeps them). It
 * prints a report and one `FIGURE name value unit target` line per figure
 * for scripts/bench; an unexpected error exits non-zero, a missed target
 * does not.
 *
 * Binaries: $TALLY_BIN and $TALLYD_BIN, else ../node/tally and
 * ../node/tallyd next to this executable.
 *
 * Usage: bench_soak [seconds [rate [cross]]]
 *   seconds  length of the load (default $BENCH_SOAK_SECONDS, else 60, or 15
 *            with BENCH_QUICK=1)
 *   rate     local exchanges per second over all nodes (default 60)
 *   cross    cross-community exchanges per second (default 6; 0: none)
 * BENCH_SEED repeats a topology.
 */
#include <errno.h>
#include <pthread.h>
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

#define NODES 32
#define DEFAULT_SECONDS 60
#define QUICK_SECONDS 15
#define DEFAULT_RATE 60
#define DEFAULT_CROSS 6
#define LINK_LIMIT 100000 /* minutes */
#define TTL 600
#define POLL_MS 10
#define SAMPLE_MS 1000
#define DRAIN_S 60.0
#define DRIVERS 8 /* appending threads */

#define TARGET_ANON_MIB 32.0
#define TARGET_GROWTH_MIB 1.0

/* ---- small things ---- */

/* The nodes (tb_bench_fed_new: the daemons die with this process). */
static struct tb_fed *fed;

static void sleep_until(double t)
{
	double d = t - tb_bench_now();
	if (d <= 0)
		return;
	struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;
	return x < y ? -1 : x > y;
}

/* The topology's and the stream's generator (tb_bench_xorshift). */
static uint64_t rng_state;

/* ---- the nodes as this process drives them ---- */

/* An entry appended here, until every other node holds it. */
struct pending {
	uint64_t seq;
	double t;
};

/* A cross exchange until its final leg. */
struct xopen {
	uint8_t txid[TB_TXID_LEN];
	double t;
};

struct node {
	struct tb_store *st; /* its ledger, read-write */
	struct tb_keypair kp;
	uint32_t m1, m2;
	uint32_t turns;
	/* held[j]: seq of node j's log this node holds (last poll) */
	uint64_t held[NODES];
	/* entries of its own log appended here, oldest first */
	struct pending *pend;
	size_t npend, cappend, pend_head;
	struct xopen *xo;
	size_t nxo, capxo;
	/* memory samples, one per second */
	long *anon, *rss;
	size_t ns;
	struct tb_procmem peak;
};

static struct node nodes[NODES];

/* Guards the nodes' pend and xo arrays and the drivers' counters: drivers
 * append, the main thread resolves. A store handle is shared: its driver
 * writes, the main thread reads (LMDB with MDB_NOTLS; tb_store keeps no
 * state between calls but its verify pool, used by appends only). */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

/* Results of the stream. */
struct stats {
	double *lat; /* propagation latencies (s) */
	size_t nlat, caplat;
	double *xlat; /* cross exchanges, prepare to final (s) */
	size_t nxlat, capxlat;
	uint64_t local, cross, refused, late;
};

static void push_double(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		double *p = realloc(*v, c * sizeof *p);
		if (!p)
			tb_bench_die("realloc", TB_ENOMEM);
		*v = p;
		*cap = c;
	}
	(*v)[(*n)++] = x;
}

static void add_pending(struct node *nd, uint64_t seq, double t)
{
	if (nd->npend == nd->cappend) {
		size_t c = nd->cappend ? nd->cappend * 2 : 256;
		struct pending *p = realloc(nd->pend, c * sizeof *p);
		if (!p)
			tb_bench_die("realloc", TB_ENOMEM);
		nd->pend = p;
		nd->cappend = c;
	}
	nd->pend[nd->npend++] = (struct pending){seq, t};
}

static void add_xopen(struct node *nd, const uint8_t *txid, double t)
{
	if (nd->nxo == nd->capxo) {
		size_t c = nd->capxo ? nd->capxo * 2 : 64;
		struct xopen *p = realloc(nd->xo, c * sizeof *p);
		if (!p)
			tb_bench_die("realloc", TB_ENOMEM);
		nd->xo = p;
		nd->capxo = c;
	}
	memcpy(nd->xo[nd->nxo].txid, txid, TB_TXID_LEN);
	nd->xo[nd->nxo++].t = t;
}

static void setup_node(size_t i)
{
	struct node *nd = &nodes[i];
	nd->st = tb_bench_open_ledger(fed->node[i].data, 0);
	tb_store_set_threads(nd->st, 1);
	tb_bench_node_key(fed->node[i].data, &nd->kp);
	int err;
	struct tb_member m;
	if ((err = tb_store_member_by_name(nd->st, fed->node[i].id, "m1", &m)))
		tb_bench_die("member m1", err);
	nd->m1 = m.no;
	if ((err = tb_store_member_by_name(nd->st, fed->node[i].id, "m2", &m)))
		tb_bench_die("member m2", err);
	nd->m2 = m.no;
	tb_procmem_clear(&nd->peak);
}

/* Node i trusts node j (a LINK entry of i's log). */
static void add_link(size_t i, size_t j)
{
	struct tb_link l = {0};
	memcpy(l.community, fed->node[j].id, TB_KEY_LEN);
	l.limit = LINK_LIMIT;
	struct tb_reject rej;
	int err = tb_store_append_own(nodes[i].st, &nodes[i].kp, TB_KIND_LINK, &l, NULL, &rej);
	if (err) {
		fprintf(stderr, "bench_soak: link %zu -> %zu: %s\n", i, j, rej.msg);
		tb_bench_die("tb_store_append_own (LINK)", err);
	}
}

/* One local exchange at node i, as `tally exchange record --attest`. */
static void record_local(size_t i, uint32_t date)
{
	struct node *nd = &nodes[i];
	bool turn = nd->turns++ % 2 == 0;
	struct tb_exchange x = {0};
	tb_random(x.txid, TB_TXID_LEN);
	x.provider = turn ? nd->m1 : nd->m2;
	x.receiver = turn ? nd->m2 : nd->m1;
	x.minutes = 30;
	x.category = (struct tb_view){(const uint8_t *)"gardening", 9};
	tb_random(x.memo_hash, TB_HASHLEN);
	x.date = date;
	x.attested = 1;
	struct tb_reject rej;
	uint64_t seq;
	int err = tb_store_append_own(nd->st, &nd->kp, TB_KIND_EXCHANGE, &x, &seq, &rej);
	if (err) {
		fprintf(stderr, "bench_soak: exchange at node %zu: %s\n", i, rej.msg);
		tb_bench_die("tb_store_append_own (EXCHANGE)", err);
	}
	pthread_mutex_lock(&mu);
	add_pending(nd, seq, tb_bench_now());
	pthread_mutex_unlock(&mu);
}

/* One cross exchange: node i's m2 pays 1 minute to m1 of node i+1. */
static void record_cross(size_t i, uint32_t date)
{
	struct node *nd = &nodes[i];
	size_t to = (i + 1) % NODES;
	struct tb_xprepare p = {0};
	tb_random(p.txid, TB_TXID_LEN);
	p.member = nd->m2;
	memcpy(p.to_log, fed->node[to].id, TB_KEY_LEN);
	p.to_name = (struct tb_view){(const uint8_t *)"m1", 2};
	p.minutes = 1;
	p.category = (struct tb_view){(const uint8_t *)"soak", 4};
	tb_random(p.memo_hash, TB_HASHLEN);
	p.date = date;
	p.expires = (uint64_t)time(NULL) + TTL;
	p.attested = 1;
	struct tb_reject rej;
	uint64_t seq;
	double t0 = tb_bench_now();
	int err = tb_store_append_own(nd->st, &nd->kp, TB_KIND_XPREPARE, &p, &seq, &rej);
	if (err) {
		fprintf(stderr, "bench_soak: prepare at node %zu: %s\n", i, rej.msg);
		tb_bench_die("tb_store_append_own (XPREPARE)", err);
	}
	pthread_mutex_lock(&mu);
	double t = tb_bench_now();
	add_pending(nd, seq, t);
	add_xopen(nd, p.txid, t0);
	pthread_mutex_unlock(&mu);
}

/* ---- drivers ---- */

/* One thread appending for nodes w, w + DRIVERS, ... on its own schedule:
 * appends are durable commits, so one thread would wait on the disk. */
struct driver {
	pthread_t th;
	size_t w;
	double t0, end;
	double rate, cross; /* per second, this driver's share */
	uint32_t date;
	uint64_t rng;
	/* under mu */
	uint64_t local, crossed, late;
	double max_behind, in_append;
};

static void *drive(void *arg)
{
	struct driver *d = arg;
	size_t mine = (NODES - d->w + DRIVERS - 1) / DRIVERS, rr = 0;
	/* Spread the drivers' first appends over one interval. */
	double off = (double)d->w / DRIVERS;
	double next_local = d->t0 + off / d->rate;
	double next_cross = d->cross > 0 ? d->t0 + (0.5 + off) / d->cross : d->end + 1e9;
	for (;;) {
		double t = tb_bench_now();
		if (t >= d->end)
			break;
		if (next_local > t && next_cross > t) {
			double w = next_local < next_cross ? next_local : next_cross;
			sleep_until(w < d->end ? w : d->end);
			continue;
		}
		bool local = next_local <= next_cross;
		double due = local ? next_local : next_cross, a0 = tb_bench_now();
		if (local) {
			record_local(d->w + DRIVERS * rr, d->date);
			rr = (rr + 1) % mine;
		} else {
			size_t k = (size_t)(tb_bench_xorshift(&d->rng) % mine);
			record_cross(d->w + DRIVERS * k, d->date);
		}
		double a1 = tb_bench_now();
		uint64_t late = 0;
		double *next = local ? &next_local : &next_cross, r = local ? d->rate : d->cross;
		*next += 1.0 / r;
		/* Never more than a second behind: a slow machine gets a lower
		 * rate, not a burst. */
		if (*next < a1 - 1.0) {
			late = (uint64_t)((a1 - 1.0 - *next) * r);
			*next = a1;
		}
		pthread_mutex_lock(&mu);
		if (local)
			d->local++;
		else
			d->crossed++;
		d->late += late;
		d->in_append += a1 - a0;
		if (a0 - due > d->max_behind)
			d->max_behind = a0 - due;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* ---- polling ---- */

static int heads_cb(void *ctx, const struct tb_head *h)
{
	struct node *nd = ctx;
	for (size_t j = 0; j < fed->n; j++) {
		if (!memcmp(h->log_id, fed->node[j].id, TB_KEY_LEN)) {
			nd->held[j] = h->seq;
			break;
		}
	}
	return 0;
}

/* Reads every ledger's heads; resolves the entries every other node holds
 * now. Returns the entries still pending. */
static size_t poll_heads(struct stats *s)
{
	for (size_t j = 0; j < fed->n; j++) {
		int err = tb_store_foreach_log(nodes[j].st, heads_cb, &nodes[j]);
		if (err)
			tb_bench_die("tb_store_foreach_log", err);
	}
	double t = tb_bench_now();
	size_t left = 0;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < fed->n; i++) {
		uint64_t min = UINT64_MAX;
		for (size_t j = 0; j < fed->n; j++)
			if (j != i && nodes[j].held[i] < min)
				min = nodes[j].held[i];
		struct node *nd = &nodes[i];
		while (nd->pend_head < nd->npend && nd->pend[nd->pend_head].seq <= min) {
			push_double(&s->lat, &s->nlat, &s->caplat, t - nd->pend[nd->pend_head].t);
			nd->pend_head++;
		}
		if (nd->pend_head == nd->npend)
			nd->pend_head = nd->npend = 0;
		left += nd->npend - nd->pend_head;
	}
	pthread_mutex_unlock(&mu);
	return left;
}

/* Checks the open cross exchanges; returns how many are still open. */
static size_t poll_cross(struct stats *s)
{
	size_t open = 0;
	pthread_mutex_lock(&mu);
	for (size_t i = 0; i < fed->n; i++) {
		struct node *nd = &nodes[i];
		for (size_t k = 0; k < nd->nxo;) {
			struct tb_xleg l;
			int err = tb_store_xleg(nd->st, fed->node[i].id, nd->xo[k].txid, &l);
			if (err)
				tb_bench_die("tb_store_xleg", err);
			if (!l.final_seq) {
				k++;
				continue;
			}
			if (l.final_outcome || l.outcome) {
				if (s->refused++ < 5)
					fprintf(stderr,
						"bench_soak: a cross exchange from node %zu was "
						"refused: %s\n",
						i,
						tb_xoutcome_text(l.final_outcome ? l.final_outcome
										 : l.outcome));
			} else {
				push_double(&s->xlat, &s->nxlat, &s->capxlat,
					    tb_bench_now() - nd->xo[k].t);
			}
			nd->xo[k] = nd->xo[--nd->nxo];
		}
		open += nd->nxo;
	}
	pthread_mutex_unlock(&mu);
	return open;
}

static void sample_memory(void)
{
	for (size_t i = 0; i < fed->n; i++) {
		struct node *nd = &nodes[i];
		struct tb_procmem m;
		if (tb_procmem_read(fed->node[i].pid, true, &m)) {
			tb_bench_check_alive(fed, i);
			tb_bench_die("reading a tallyd's /proc status", TB_EIO);
		}
		tb_procmem_peak(&nd->peak, &m);
		long *a = realloc(nd->anon, (nd->ns + 1) * sizeof *a);
		long *r = realloc(nd->rss, (nd->ns + 1) * sizeof *r);
		if (!a || !r)
			tb_bench_die("realloc", TB_ENOMEM);
		nd->anon = a;
		nd->rss = r;
		a[nd->ns] = m.anon;
		r[nd->ns++] = m.rss;
	}
}

/* ---- report ---- */

/* min, median, max of v[0..n-1] (sorted in place), in MiB. */
static void spread(long *v, size_t n, double out[3])
{
	qsort(v, n, sizeof *v, cmp_long);
	out[0] = (double)v[0] / 1024.0;
	out[1] = (double)v[n / 2] / 1024.0;
	out[2] = (double)v[n - 1] / 1024.0;
}

static double mean_range(const long *v, size_t from, size_t to)
{
	double s = 0;
	for (size_t k = from; k < to; k++)
		s += (double)v[k];
	return to > from ? s / (double)(to - from) : 0;
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_soak", "[seconds (4..86400) [rate (1..1000) [cross (0..200)]]]");
	const char *quick = getenv("BENCH_QUICK"), *env_s = getenv("BENCH_SOAK_SECONDS");
	unsigned secs = quick && !strcmp(quick, "1") ? QUICK_SECONDS : DEFAULT_SECONDS;
	if (env_s && *env_s)
		secs = (unsigned)tb_bench_arg(env_s, 4, 86400);
	if (argc > 1)
		secs = (unsigned)tb_bench_arg(argv[1], 4, 86400);
	unsigned rate = argc > 2 ? (unsigned)tb_bench_arg(argv[2], 1, 1000) : DEFAULT_RATE;
	unsigned cross = argc > 3 ? (unsigned)tb_bench_arg(argv[3], 0, 200) : DEFAULT_CROSS;
	if (argc > 4)
		tb_bench_usage();
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_LOG_WARN);

	uint64_t seed = tb_bench_seed();
	rng_state = seed ? seed : 1;
	printf("bench_soak: %d nodes, %u s of %u local + %u cross-community exchanges per "
	       "second; %u cores, load average %.2f; topology seed %" PRIu64
	       " (BENCH_SEED to repeat)\ntallyd %s\n",
	       NODES, secs, rate, cross, tb_cpu_count(), tb_bench_load_avg(), seed,
	       getenv("TALLYD_BIN"));

	double c0 = tb_bench_now();
	fed = tb_bench_fed_new("soak", NODES);
	tb_bench_link_random(fed, &rng_state);
	for (size_t i = 0; i < fed->n; i++)
		setup_node(i);
	if (cross)
		for (size_t i = 0; i < fed->n; i++) {
			add_link(i, (i + 1) % NODES);
			add_link(i, (i + NODES - 1) % NODES);
		}
	printf("created %d nodes (each trusting its two ring neighbours) in %.1f s\n", NODES,
	       tb_bench_now() - c0);
	double s0 = tb_bench_now();
	tb_bench_start_all(fed);
	tb_fed_wait_converged(fed, NULL, 0, 180000);
	tb_fed_sleep_ms(2000); /* the start-up checkpoints */
	tb_fed_wait_converged(fed, NULL, 0, 60000);
	printf("started and in sync in %.1f s\n", tb_bench_now() - s0);

	struct tb_procmem m0;
	long idle_anon[NODES], idle_rss[NODES];
	for (size_t i = 0; i < fed->n; i++) {
		if (tb_procmem_read(fed->node[i].pid, false, &m0))
			tb_bench_die("reading a tallyd's /proc status", TB_EIO);
		idle_anon[i] = m0.anon;
		idle_rss[i] = m0.rss;
	}
	double ia[3], ir[3];
	spread(idle_anon, fed->n, ia);
	spread(idle_rss, fed->n, ir);
	printf("before the load: RssAnon %.1f / %.1f / %.1f MiB (min / median / max), "
	       "VmRSS %.1f / %.1f / %.1f MiB\n",
	       ia[0], ia[1], ia[2], ir[0], ir[1], ir[2]);

	/* ---- the stream ---- */
	struct stats st = {0};
	uint32_t date = tb_bench_today(true);
	double cpu0 = 0;
	for (size_t i = 0; i < fed->n; i++)
		cpu0 += tb_bench_proc_cpu(fed->node[i].pid);
	printf("load average: %.2f\n", tb_bench_load_avg());
	double t0 = tb_bench_now(), end = t0 + secs;
	struct driver drv[DRIVERS];
	for (size_t w = 0; w < DRIVERS; w++) {
		drv[w] = (struct driver){.w = w,
					 .t0 = t0,
					 .end = end,
					 .date = date,
					 .rate = (double)rate / DRIVERS,
					 .cross = (double)cross / DRIVERS,
					 .rng = tb_bench_xorshift(&rng_state) | 1};
		if (pthread_create(&drv[w].th, NULL, drive, &drv[w]))
			tb_bench_die("pthread_create", TB_ENOMEM);
	}
	double next_poll = t0 + POLL_MS / 1000.0, next_sample = t0 + SAMPLE_MS / 1000.0;
	double in_poll = 0;
	uint64_t ticks = 0;
	for (;;) {
		double t = tb_bench_now();
		if (t >= end)
			break;
		if (t >= next_poll) {
			poll_heads(&st);
			if (cross)
				poll_cross(&st);
			double p1 = tb_bench_now();
			in_poll += p1 - t;
			next_poll = p1 + POLL_MS / 1000.0;
		}
		if (t >= next_sample) {
			sample_memory();
			next_sample += SAMPLE_MS / 1000.0;
			if (++ticks % 5 == 0) {
				for (size_t i = 0; i < fed->n; i++)
					tb_bench_check_alive(fed, i);
				uint64_t l = 0, c = 0;
				pthread_mutex_lock(&mu);
				for (size_t w = 0; w < DRIVERS; w++) {
					l += drv[w].local;
					c += drv[w].crossed;
				}
				size_t prop = st.nlat;
				pthread_mutex_unlock(&mu);
				printf("  %3.0f s: %" PRIu64 " local, %" PRIu64 " cross appended; "
				       "%zu propagated; load average %.2f\n",
				       tb_bench_now() - t0, l, c, prop, tb_bench_load_avg());
			}
		}
		double w = next_poll < next_sample ? next_poll : next_sample;
		sleep_until(w < end ? w : end);
	}
	double max_behind = 0, in_append = 0;
	for (size_t w = 0; w < DRIVERS; w++) {
		pthread_join(drv[w].th, NULL);
		st.local += drv[w].local;
		st.cross += drv[w].crossed;
		st.late += drv[w].late;
		in_append += drv[w].in_append;
		max_behind = drv[w].max_behind > max_behind ? drv[w].max_behind : max_behind;
	}
	double t_end = tb_bench_now(), run = t_end - t0;
	double cpu1 = 0;
	for (size_t i = 0; i < fed->n; i++)
		cpu1 += tb_bench_proc_cpu(fed->node[i].pid);

	/* Drain: every entry everywhere, every cross exchange finished. */
	size_t left = 1, open = 1;
	while (left || open) {
		left = poll_heads(&st);
		open = cross ? poll_cross(&st) : 0;
		if (!left && !open)
			break;
		if (tb_bench_now() - t_end > DRAIN_S) {
			fprintf(stderr,
				"bench_soak: %zu entries not everywhere, %zu cross exchanges "
				"open %.0f s after the load stopped\n",
				left, open, DRAIN_S);
			exit(1);
		}
		for (size_t i = 0; i < fed->n; i++)
			tb_bench_check_alive(fed, i);
		sleep_until(tb_bench_now() + POLL_MS / 1000.0);
	}
	double drained = tb_bench_now() - t_end;

	/* ---- report ---- */
	double eps = (double)(st.local + st.cross) / run;
	printf("\n%" PRIu64 " local and %" PRIu64 " cross-community exchanges appended in %.1f s: "
	       "%.1f exchanges/s (asked %u + %u; at most %.0f ms behind schedule; %" PRIu64
	       " dropped as more than 1 s late); all propagated %.2f s after the load stopped\n",
	       st.local, st.cross, run, eps, rate, cross, max_behind * 1000, st.late, drained);
	printf("daemons used %.2f cores in all during the load (%.1f%% of a core each); %d "
	       "threads appended (%.1f ms per exchange, each a durable commit; %.0f%% of their "
	       "time) and one polled the 32 ledgers (%.0f%% of its time)\n",
	       (cpu1 - cpu0) / run, (cpu1 - cpu0) / run / NODES * 100, DRIVERS,
	       in_append * 1000 / (double)(st.local + st.cross ? st.local + st.cross : 1),
	       in_append / run / DRIVERS * 100, in_poll / run * 100);
	qsort(st.lat, st.nlat, sizeof *st.lat, tb_bench_cmp_double);
	double med = tb_bench_quantile(st.lat, st.nlat, 0.5) * 1000;
	double p99 = tb_bench_quantile(st.lat, st.nlat, 0.99) * 1000;
	double mx = st.nlat ? st.lat[st.nlat - 1] * 1000 : 0;
	printf("propagation to all %d nodes (%zu entries, heads polled every %d ms): median %.0f "
	       "ms, p99 %.0f ms, max %.0f ms\n",
	       NODES, st.nlat, POLL_MS, med, p99, mx);
	double xmed = 0, xp99 = 0;
	if (cross) {
		qsort(st.xlat, st.nxlat, sizeof *st.xlat, tb_bench_cmp_double);
		xmed = tb_bench_quantile(st.xlat, st.nxlat, 0.5) * 1000;
		xp99 = tb_bench_quantile(st.xlat, st.nxlat, 0.99) * 1000;
		printf("cross-community: %zu finished committed, %" PRIu64 " refused; prepare to "
		       "final leg: median %.0f ms, p99 %.0f ms\n",
		       st.nxlat, st.refused, xmed, xp99);
	}

	long pa[NODES], pr[NODES];
	double growth_max = -1e9, growth_sum = 0;
	size_t growth_at = 0, ns = nodes[0].ns;
	for (size_t i = 0; i < fed->n; i++) {
		pa[i] = nodes[i].peak.anon;
		pr[i] = nodes[i].peak.rss;
		size_t q = nodes[i].ns / 4 ? nodes[i].ns / 4 : 1;
		double g = (mean_range(nodes[i].anon, nodes[i].ns - q, nodes[i].ns) -
			    mean_range(nodes[i].anon, 0, q)) /
			   1024.0;
		growth_sum += g;
		if (g > growth_max) {
			growth_max = g;
			growth_at = i;
		}
	}
	double sa[3], sr[3];
	spread(pa, fed->n, sa);
	spread(pr, fed->n, sr);
	printf("peak memory per node over %zu samples (min / median / max of the %d nodes): "
	       "RssAnon %.1f / %.1f / %.1f MiB, VmRSS %.1f / %.1f / %.1f MiB\n",
	       ns, NODES, sa[0], sa[1], sa[2], sr[0], sr[1], sr[2]);
	const struct node *g = &nodes[growth_at];
	size_t q = g->ns / 4 ? g->ns / 4 : 1;
	printf("RssAnon growth, last quarter's mean minus the first's: largest %.2f MiB (node %zu: "
	       "%.1f -> %.1f MiB), mean %.2f MiB\n",
	       growth_max, growth_at, mean_range(g->anon, 0, q) / 1024.0,
	       mean_range(g->anon, g->ns - q, g->ns) / 1024.0, growth_sum / NODES);
	printf("  node %zu's RssAnon every second (KiB):", growth_at);
	for (size_t k = 0; k < g->ns; k++)
		printf(" %ld", g->anon[k]);
	printf("\n");

	tb_bench_figure("soak_nodes", NODES, "nodes", 0, NULL, 0);
	tb_bench_figure("soak_seconds", run, "s", 0, NULL, 0);
	tb_bench_figure("soak_exchanges_per_s", eps, "exchanges/s", 1, NULL, 0);
	tb_bench_figure("soak_cross_per_s", (double)st.nxlat / run, "exchanges/s", 1, NULL, 0);
	tb_bench_figure("soak_prop_median_ms", med, "ms", 0, NULL, 0);
	tb_bench_figure("soak_prop_p99_ms", p99, "ms", 0, NULL, 0);
	if (cross) {
		tb_bench_figure("soak_cross_latency_median_ms", xmed, "ms", 0, NULL, 0);
		tb_bench_figure("soak_cross_refused", (double)st.refused, "exchanges", 0, "<=", 0);
	}
	tb_bench_figure("soak_anon_peak_min_mib", sa[0], "MiB", 1, NULL, 0);
	tb_bench_figure("soak_anon_peak_median_mib", sa[1], "MiB", 1, NULL, 0);
	tb_bench_figure("soak_anon_peak_max_mib", sa[2], "MiB", 1, "<=", TARGET_ANON_MIB);
	tb_bench_figure("soak_rss_peak_min_mib", sr[0], "MiB", 1, NULL, 0);
	tb_bench_figure("soak_rss_peak_median_mib", sr[1], "MiB", 1, NULL, 0);
	tb_bench_figure("soak_rss_peak_max_mib", sr[2], "MiB", 1, NULL, 0);
	tb_bench_figure("soak_anon_growth_max_mib", growth_max, "MiB", 2, "<=", TARGET_GROWTH_MIB);
	tb_bench_print_figures(12);

	for (size_t i = 0; i < fed->n; i++) {
		tb_store_free(nodes[i].st);
		tb_keypair_wipe(&nodes[i].kp);
		free(nodes[i].pend);
		free(nodes[i].xo);
		free(nodes[i].anon);
		free(nodes[i].rss);
	}
	free(st.lat);
	free(st.xlat);
	tb_fed_stop_all(fed);
	return 0;
}
