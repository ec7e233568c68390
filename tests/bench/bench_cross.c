/*
 * bench_cross.c: cross-community exchanges between two real tallyd
 * processes on 127.0.0.1 (issue 4, "Benchmark"), with sync on, the normal
 * durable mode. Two communities (fed.c's nodes), each trusting the other
 * for 100000 hours, each with a member `payer` whose debt limit is 100000
 * hours; payments go to m1 of the other side.
 *
 * A driver per node does what `tally exchange send --attest` does, through
 * the library in this process: it opens the node's ledger (the same LMDB
 * its tallyd uses), unlocks the node key, appends an attested XPREPARE of 1
 * minute (expires in 600 s) in its own write transaction (the memo table is
 * left alone: `send` writes the memo in a second transaction, which is not
 * part of the protocol), and polls tb_store_xleg until the final leg is
 * held. The tallyds do the rest: the payee's decides, the payer's finishes.
 *
 *  1. Latency: exchanges one at a time, alternating directions, timed from
 *     just before the prepare's append until this process sees the final
 *     leg (polled every 100 us): median, p99, max.
 *  2. Throughput: both drivers at once, in two threads, each keeping up to
 *     W = 64 prepares in flight, until every exchange has its final leg;
 *     exchanges per second from the first prepare to the last final leg,
 *     best of a few runs (other load on the machine only slows a run).
 *     Also: entries appended per second (both own logs) and durable write
 *     transactions (LMDB commits, each an fdatasync and a synchronous meta
 *     write, read from the txnid of data.mdb's meta pages) per exchange.
 *
 * Every exchange must end committed (a refusal is a failure here). At the
 * end both communities' clearing accounts must mirror. Prints a report and
 * one `FIGURE name value unit target` line per figure for scripts/bench.
 * Daemons die with this process (fed.c) and are killed, and the trees
 * removed, at exit or on SIGINT/SIGTERM/SIGHUP ($TB_KEEP keeps the trees;
 * TB_FED_LOG_LEVEL=debug makes the tallyds log every step to DATA/tallyd.log).
 *
 * Binaries: $TALLY_BIN and $TALLYD_BIN, else ../node/tally and ../node/tallyd
 * next to this executable.
 *
 * Usage: bench_cross [exchanges [sequential [runs]]]
 *   exchanges   for each throughput run, both directions together (default
 *               2000)
 *   sequential  for the latency run (default 200)
 *   runs        throughput runs (default 3); the best is reported, as the
 *               machine's other load only ever slows a run down
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "benchutil.h"
#include "fed.h"
#include "tb_store.h"
#include "testutil.h"

#define DEFAULT_EXCHANGES 2000
#define DEFAULT_SEQUENTIAL 200
#define DEFAULT_RUNS 3
#define WINDOW 64
#define TTL 600
#define STALL_S 60.0
#define POLL_SEQ_US 100
#define POLL_RUN_US 200

#define TARGET_RATE 500.0
#define TARGET_MEDIAN_MS 10.0

/* ---- small things ---- */

/* The two communities (tb_bench_fed_new: the daemons die with this process). */
static struct tb_fed *fed;

/*
 * The last committed LMDB transaction id of DATA/ledger/data.mdb: the larger
 * mm_txnid of its two meta pages (LMDB's file format: a 16-byte page header,
 * then magic 0xBEEFC0DE, version, address, mapsize, two 48-byte database
 * records, last page, txnid). 0 if it cannot be read.
 */
static uint64_t last_txnid(const char *data)
{
	char path[TB_FED_PATH + 64];
	snprintf(path, sizeof path, "%s/ledger/data.mdb", data);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	uint64_t best = 0;
	long psz = sysconf(_SC_PAGESIZE);
	for (int i = 0; i < 2; i++) {
		uint8_t m[160];
		if (pread(fd, m, sizeof m, (off_t)i * psz) != (ssize_t)sizeof m)
			continue;
		uint32_t magic;
		uint64_t txnid;
		memcpy(&magic, m + 16, 4);
		memcpy(&txnid, m + 144, 8);
		if (magic == 0xBEEFC0DEu && txnid > best)
			best = txnid;
	}
	close(fd);
	return best;
}

static void tally(size_t i, const char *const *args)
{
	int rc = tb_fed_tally(fed, i, args);
	if (rc) {
		fprintf(stderr, "bench_cross: tally %s %s at node %zu: exit %d: %s\n", args[0],
			args[1], i, rc, fed->res.err);
		exit(1);
	}
}
#define TALLY(i, ...) tally(i, (const char *const[]){__VA_ARGS__, NULL})

/* ---- a driver: one node's payer ---- */

struct inflight {
	uint8_t txid[TB_TXID_LEN];
	double t0;
};

struct driver {
	size_t node;	      /* payer's node */
	struct tb_store *st;  /* its ledger, read-write */
	struct tb_keypair kp; /* its node key */
	uint8_t self[TB_KEY_LEN], other[TB_KEY_LEN];
	uint32_t payer; /* member number of `payer` */
	uint32_t date;
	/* a run */
	size_t n, window;
	double *lat; /* n latencies (s), in completion order */
	size_t done;
	double first, last; /* first prepare, last final */
	double in_prepare;  /* seconds spent appending prepares */
	int err;
	char why[320];
};

static void driver_open(struct driver *d, size_t node, size_t other)
{
	memset(d, 0, sizeof d[0]);
	d->node = node;
	d->st = tb_bench_open_ledger(fed->node[node].data, 0);
	tb_store_set_threads(d->st, 1);
	int err = tb_store_self(d->st, d->self);
	if (err)
		tb_bench_die("tb_store_self", err);
	memcpy(d->other, fed->node[other].id, TB_KEY_LEN);
	tb_bench_node_key(fed->node[node].data, &d->kp);
	struct tb_member m;
	if ((err = tb_store_member_by_name(d->st, d->self, "payer", &m)))
		tb_bench_die("member payer", err);
	d->payer = m.no;
	d->date = tb_bench_today(true);
}

static void driver_close(struct driver *d)
{
	tb_store_free(d->st);
	tb_keypair_wipe(&d->kp);
	free(d->lat);
	d->lat = NULL;
}

/* Appends one prepare (its own write transaction), as `tally exchange
 * send --attest` does. */
static int prepare(struct driver *d, struct inflight *x)
{
	struct tb_xprepare p = {0};
	tb_random(x->txid, TB_TXID_LEN);
	memcpy(p.txid, x->txid, TB_TXID_LEN);
	p.member = d->payer;
	memcpy(p.to_log, d->other, TB_KEY_LEN);
	p.to_name = (struct tb_view){(const uint8_t *)"m1", 2};
	p.minutes = 1;
	p.category = (struct tb_view){(const uint8_t *)"bench", 5};
	tb_random(p.memo_hash, TB_HASHLEN);
	p.date = d->date;
	p.expires = (uint64_t)time(NULL) + TTL;
	p.attested = 1;
	struct tb_reject rej;
	x->t0 = tb_bench_now();
	int err = tb_store_append_own(d->st, &d->kp, TB_KIND_XPREPARE, &p, NULL, &rej);
	d->in_prepare += tb_bench_now() - x->t0;
	if (err)
		snprintf(d->why, sizeof d->why, "prepare refused: %s", rej.msg);
	return err;
}

/* 1 if the final leg of x is held (it must say committed), 0 if not yet. */
static int finished(struct driver *d, const struct inflight *x)
{
	struct tb_xleg l;
	int err = tb_store_xleg(d->st, d->self, x->txid, &l);
	if (err) {
		snprintf(d->why, sizeof d->why, "tb_store_xleg: %s", tb_strerror(err));
		return err;
	}
	if (!l.final_seq)
		return 0;
	if (l.final_outcome || l.outcome) {
		snprintf(d->why, sizeof d->why, "exchange refused: %s",
			 tb_xoutcome_text(l.final_outcome ? l.final_outcome : l.outcome));
		return TB_EINVAL;
	}
	return 1;
}

/* Runs d->n exchanges keeping up to d->window in flight. */
static void *drive(void *arg)
{
	struct driver *d = arg;
	struct inflight *fl = calloc(d->window, sizeof *fl);
	d->lat = calloc(d->n ? d->n : 1, sizeof *d->lat);
	if (!fl || !d->lat) {
		d->err = TB_ENOMEM;
		free(fl);
		return NULL;
	}
	size_t sent = 0, open = 0;
	double progress = tb_bench_now();
	d->first = 0;
	while (d->done < d->n) {
		bool moved = false;
		while (sent < d->n && open < d->window) {
			if ((d->err = prepare(d, &fl[open])))
				goto out;
			if (!d->first)
				d->first = fl[open].t0;
			open++;
			sent++;
			moved = true;
		}
		for (size_t i = 0; i < open;) {
			int r = finished(d, &fl[i]);
			if (r < 0) {
				d->err = r;
				goto out;
			}
			if (r == 0) {
				i++;
				continue;
			}
			double t = tb_bench_now();
			d->lat[d->done++] = t - fl[i].t0;
			d->last = t;
			fl[i] = fl[--open];
			moved = true;
		}
		if (moved) {
			progress = tb_bench_now();
		} else {
			if (tb_bench_now() - progress > STALL_S) {
				d->err = TB_EIO;
				snprintf(
					d->why, sizeof d->why,
					"no exchange finished for %.0f s (%zu of %zu done, %zu open)",
					STALL_S, d->done, d->n, open);
				goto out;
			}
			tb_bench_sleep_us(d->window > 1 ? POLL_RUN_US : POLL_SEQ_US);
		}
	}
out:
	free(fl);
	return NULL;
}

static void check_driver(const struct driver *d)
{
	if (d->err) {
		fprintf(stderr, "bench_cross: driver of node %zu: %s\n", d->node, d->why);
		tb_bench_die("exchange run", d->err);
	}
}

/* ---- setup ---- */

static void setup(void)
{
	double t0 = tb_bench_now();
	fed = tb_bench_fed_new("xbench", 2);
	tb_fed_link(fed, 0, 1);
	tb_fed_start(fed, 1);
	tb_fed_start(fed, 0);
	tb_fed_wait_converged(fed, NULL, 0, 60000);
	for (size_t i = 0; i < 2; i++) {
		TALLY(i, "link", "add", fed->node[1 - i].name, "--limit", "100000");
		TALLY(i, "member", "add", "payer", "--debt-limit", "100000");
	}
	tb_fed_wait_converged(fed, NULL, 0, 60000);
	printf("two communities (%s, %s) linked both ways for 100000 hours, in sync in %.1f s\n",
	       fed->node[0].name, fed->node[1].name, tb_bench_now() - t0);
}

/* Both ledgers' clearing accounts mirror (after the last legs replicated). */
static void check_mirror(struct driver *d)
{
	tb_fed_wait_converged(fed, NULL, 0, 60000);
	struct tb_clearing a, b;
	int err = tb_store_clearing(d[0].st, d[0].self, d[1].self, &a);
	if (!err)
		err = tb_store_clearing(d[1].st, d[1].self, d[0].self, &b);
	if (err)
		tb_bench_die("tb_store_clearing", err);
	if (a.balance != -b.balance || a.held || b.held) {
		fprintf(stderr,
			"bench_cross: clearing accounts do not mirror: %" PRId64 " (held %" PRId64
			") at %s, %" PRId64 " (held %" PRId64 ") at %s\n",
			a.balance, a.held, fed->node[0].name, b.balance, b.held, fed->node[1].name);
		exit(1);
	}
	printf("clearing accounts mirror: %s %+" PRId64 " min, %s %+" PRId64 " min\n",
	       fed->node[0].name, a.balance, fed->node[1].name, b.balance);
}

/* ---- 1. latency ---- */

static void bench_latency(struct driver *d, size_t n)
{
	printf("\n== 1. latency: %zu exchanges one at a time, alternating directions\n", n);
	double *lat = calloc(n, sizeof *lat);
	if (!lat)
		tb_bench_die("calloc", TB_ENOMEM);
	for (size_t i = 0; i < n; i++) {
		struct driver *dv = &d[i % 2];
		dv->n = 1;
		dv->window = 1;
		dv->done = 0;
		(void)drive(dv);
		check_driver(dv);
		lat[i] = dv->lat[0] * 1000;
		free(dv->lat);
		dv->lat = NULL;
	}
	qsort(lat, n, sizeof *lat, tb_bench_cmp_double);
	double med = tb_bench_quantile(lat, n, 0.5), p99 = tb_bench_quantile(lat, n, 0.99);
	printf("latency: median %.2f ms, p90 %.2f ms, p99 %.2f ms, min %.2f ms, max %.2f ms\n", med,
	       tb_bench_quantile(lat, n, 0.9), p99, lat[0], lat[n - 1]);
	tb_bench_figure("cross_latency_median", med, "ms", 2, "<=", TARGET_MEDIAN_MS);
	tb_bench_figure("cross_latency_p99", p99, "ms", 2, NULL, 0);
	free(lat);
}

/* ---- 2. throughput ---- */

static uint64_t own_seq(struct driver *d)
{
	struct tb_head h;
	return tb_store_head(d->st, d->self, &h) ? 0 : h.seq;
}

/* One throughput run; returns exchanges/s, sets entries/s and commits per
 * exchange (0 if unknown). */
static double bench_rate(struct driver *d, size_t n, double *eps, double *cpe)
{
	printf("\n== 2. throughput: %zu exchanges, both directions at once, up to %d in flight "
	       "per node\n",
	       n, WINDOW);
	d[0].n = (n + 1) / 2;
	d[1].n = n / 2;
	uint64_t seq0 = own_seq(&d[0]) + own_seq(&d[1]);
	uint64_t tx0 = last_txnid(fed->node[0].data) + last_txnid(fed->node[1].data);
	double cpu0[2], cpu1[2];
	for (int i = 0; i < 2; i++) {
		d[i].window = WINDOW;
		d[i].done = 0;
		d[i].in_prepare = 0;
		cpu0[i] = tb_bench_proc_cpu(fed->node[i].pid);
	}
	double t0 = tb_bench_now();
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&th[i], NULL, drive, &d[i]))
			tb_bench_die("pthread_create", TB_ENOMEM);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	double wall = tb_bench_now() - t0;
	for (int i = 0; i < 2; i++) {
		check_driver(&d[i]);
		cpu1[i] = tb_bench_proc_cpu(fed->node[i].pid);
	}
	double first = d[0].first < d[1].first ? d[0].first : d[1].first;
	double last = d[0].last > d[1].last ? d[0].last : d[1].last;
	double span = last - first;
	uint64_t entries = own_seq(&d[0]) + own_seq(&d[1]) - seq0;
	uint64_t tx1 = last_txnid(fed->node[0].data) + last_txnid(fed->node[1].data);
	double rate = (double)n / span;
	double *lat = calloc(n, sizeof *lat);
	if (!lat)
		tb_bench_die("calloc", TB_ENOMEM);
	memcpy(lat, d[0].lat, d[0].n * sizeof *lat);
	memcpy(lat + d[0].n, d[1].lat, d[1].n * sizeof *lat);
	for (size_t i = 0; i < n; i++)
		lat[i] *= 1000;
	qsort(lat, n, sizeof *lat, tb_bench_cmp_double);
	printf("%zu exchanges in %.3f s (first prepare to last final; %.3f s wall): %.0f "
	       "exchanges/s\n",
	       n, span, wall, rate);
	printf("under load, prepare to final: median %.1f ms, p99 %.1f ms\n",
	       tb_bench_quantile(lat, n, 0.5), tb_bench_quantile(lat, n, 0.99));
	printf("%" PRIu64 " entries appended to the two own logs (%.2f per exchange), %.0f "
	       "entries/s\n",
	       entries, (double)entries / (double)n, (double)entries / span);
	if (tx0 && tx1)
		printf("%" PRIu64 " durable write transactions in the two ledgers (drivers' and "
		       "tallyds'): %.2f per exchange\n",
		       tx1 - tx0, (double)(tx1 - tx0) / (double)n);
	printf("drivers' time in prepare appends: %.3f s and %.3f s (%.2f ms each)\n",
	       d[0].in_prepare, d[1].in_prepare,
	       (d[0].in_prepare + d[1].in_prepare) * 1000 / (double)n);
	printf("tallyd CPU: %s %.2f s, %s %.2f s (%.0f%% and %.0f%% of one core)\n",
	       fed->node[0].name, cpu1[0] - cpu0[0], fed->node[1].name, cpu1[1] - cpu0[1],
	       (cpu1[0] - cpu0[0]) / wall * 100, (cpu1[1] - cpu0[1]) / wall * 100);
	*eps = (double)entries / span;
	*cpe = tx0 && tx1 ? (double)(tx1 - tx0) / (double)n : 0;
	free(lat);
	return rate;
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_cross", "[exchanges [sequential [runs]]]");
	size_t n = argc > 1 ? (size_t)tb_bench_arg(argv[1], 2, 1000000) : DEFAULT_EXCHANGES;
	size_t seq = argc > 2 ? (size_t)tb_bench_arg(argv[2], 1, 100000) : DEFAULT_SEQUENTIAL;
	int runs = argc > 3 ? (int)tb_bench_arg(argv[3], 1, 20) : DEFAULT_RUNS;
	if (argc > 4)
		tb_bench_usage();
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_DIE_TAILS | TB_BENCH_LOG_WARN);
	printf("bench_cross: %d x %zu exchanges at once, %zu one at a time; %u cores, load "
	       "average %.2f\ntally %s\ntallyd %s\n",
	       runs, n, seq, tb_cpu_count(), tb_bench_load_avg(), getenv("TALLY_BIN"),
	       getenv("TALLYD_BIN"));

	setup();
	struct driver d[2];
	driver_open(&d[0], 0, 1);
	driver_open(&d[1], 1, 0);
	bench_latency(d, seq);
	double best = 0, best_eps = 0, best_cpe = 0;
	for (int r = 0; r < runs; r++) {
		double eps, cpe, rate = bench_rate(d, n, &eps, &cpe);
		if (rate > best) {
			best = rate;
			best_eps = eps;
			best_cpe = cpe;
		}
	}
	if (runs > 1)
		printf("\nbest of %d runs: %.0f exchanges/s\n", runs, best);
	tb_bench_figure("cross_exchanges_per_s", best, "exchanges/s", 0, ">=", TARGET_RATE);
	tb_bench_figure("cross_entries_per_s", best_eps, "entries/s", 0, NULL, 0);
	if (best_cpe > 0)
		tb_bench_figure("cross_commits_per_exchange", best_cpe, "commits", 2, NULL, 0);
	check_mirror(d);
	driver_close(&d[0]);
	driver_close(&d[1]);
	printf("\nload average at the end: %.2f\n", tb_bench_load_avg());
	tb_bench_print_figures(14);
	return 0;
}
