/*
 * bench_side.c: Tally's side of the benchmark beside Hypercore (issue 6,
 * scripts/bench-hypercore, which runs tests/bench/hypercore/bench.js for the
 * other side and prints the ratios). Three figures over the same number of
 * attested exchange entries, each in entries per second:
 *
 *  1. single appends: one entry per durable transaction, as `tally exchange
 *     record` appends one (tb_store_append_own: build, sign, rules check,
 *     commit with sync on), into a fresh store holding a genesis and two
 *     members. (The command line also keeps the memo text, in a second
 *     transaction; that is not counted here.) For comparison, not as a
 *     figure of Tally: the same into a store opened TB_STORE_SCRATCH (no
 *     fsync, as Hypercore does not sync each append), which shows what the
 *     durable commit costs. And the same n appends by WRITERS processes at
 *     once (forked, each opening the store as a `tally` process does, each
 *     appending n/WRITERS entries, every one acknowledged only once it is
 *     on disk), timed from the fork of the first to the exit of the last:
 *     they share flushes (store/db.c, docs/FORMAT.md "Durability").
 *  2. batched appends: the same entries sealed here (Tally signs every entry)
 *     and appended in groups of 1000 per transaction (tb_store_append, which
 *     checks every signature again on all cores), sealing included in the
 *     time, into a fresh store.
 *  3. catch-up: a tallyd (A) holding the entries in its own log, an empty
 *     tallyd started with --peer A on 127.0.0.1, timed from its start until
 *     its ledger holds A's head (process start and handshake included; the
 *     time from the first entries held is printed too).
 *  4. appends through the API: a tallyd on a fresh ledger, attested
 *     exchanges posted (POST /api/v1/exchanges) by one client on one
 *     keep-alive connection, each sent once the 201 of the one before is in
 *     (the 201 comes after the entry's durable commit), as many as the
 *     entries (at most API_MAX); then WRITERS such clients at once for as
 *     long (at least 3 s): tallyd commits the requests of each turn of its
 *     loop together (group commit, docs/FORMAT.md 7.13). Its durable
 *     commits (/metrics) are printed beside the appends.
 *
 * It first prints the record length of one typical attested exchange entry,
 * the block size the Hypercore side uses. Output lines are `tally NAME VALUE`
 * for the script; everything else is commentary. Every figure is the best of
 * `runs`, the catch-up of at least CATCHUP_RUNS_MIN (as bench.js does). Daemons die with this
 * process (fed.c); the trees are removed at exit or on SIGINT, SIGTERM or SIGHUP. Any unexpected
 * error exits non-zero.
 *
 * Binaries: $TALLY_BIN and $TALLYD_BIN, else ../node/tally and
 * ../node/tallyd next to this executable.
 *
 * Usage: bench_side [entries [runs]]   (defaults 100000 and 1)
 * $BENCH_SIDE_ONLY=single, batched, api or catchup runs that part alone (to
 * profile it); the `tally` lines of the others are then missing.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "benchhttp.h"
#include "benchutil.h"
#include "fed.h"
#include "httpc.h"
#include "tb_store.h"
#include "testutil.h"

#define DEFAULT_ENTRIES 100000
#define DEFAULT_RUNS 1
#define GROUP 1000
#define REC_BOUND 512
#define POLL_US 2000
#define CATCHUP_S 600.0
#define CATCHUP_RUNS_MIN 3 /* the catch-up varies most: best of at least this */
#define WRITERS 8	   /* the concurrent writers' figure */

_Static_assert(GROUP <= TB_APPEND_MAX, "group larger than one append takes");

/* The catch-up's nodes (tb_bench_fed_new: the daemons die with this process). */
static struct tb_fed *fed;

/* ---- entries ---- */

/* Exchange number k between members a and b (taking turns as provider, so
 * balances stay within half an hour of zero), attested; the memo hash is
 * 32 bytes of the txid's digest, as a salted one would be. */
static void exchange_body(struct tb_exchange *x, const struct tb_keypair *kp, uint64_t k,
			  uint32_t a, uint32_t b, uint64_t date)
{
	tb_bench_exchange(x, "sidebnch", k, kp, a, b, date, true);
}

/* n exchanges between members a and b after head h of kp's own log in s,
 * sealed here and appended in groups of GROUP (h advances). */
static void append_exchanges(struct tb_store *s, const struct tb_keypair *kp, size_t n, uint32_t a,
			     uint32_t b, struct tb_head *h, uint64_t date, uint64_t ts)
{
	uint8_t *buf = malloc((size_t)GROUP * REC_BOUND);
	struct tb_view *v = calloc(GROUP, sizeof *v);
	if (!buf || !v)
		tb_bench_die("malloc", TB_ENOMEM);
	for (size_t off = 0; off < n; off += GROUP) {
		size_t g = n - off < GROUP ? n - off : GROUP, used = 0, acc = 0;
		for (size_t i = 0; i < g; i++) {
			struct tb_exchange x;
			exchange_body(&x, kp, off + i, a, b, date);
			size_t len =
				tb_bench_seal_exchange(buf + used, (size_t)GROUP * REC_BOUND - used,
						       kp, &h->seq, h->hash, ts, &x);
			v[i] = (struct tb_view){buf + used, len};
			used += len;
		}
		struct tb_reject rej;
		int err = tb_store_append(s, v, g, &acc, &rej);
		if (err || acc != g)
			tb_bench_die(rej.msg, err ? err : TB_ECORRUPT);
	}
	free(buf);
	free(v);
}

/* A fresh store in a scratch directory (tb_bench_scratch; durable unless flags
 * has TB_STORE_SCRATCH): own log of kp with a genesis and members 1 and 2. */
static const char *store_dir; /* fresh_store's, until free_store */

static struct tb_store *fresh_store(const struct tb_keypair *kp, unsigned flags)
{
	const char *dir = store_dir = tb_bench_scratch("side");
	struct tb_store *s;
	int err = tb_store_open(&s, dir, flags);
	if (!err)
		err = tb_store_set_self(s, kp->pk.b);
	if (err)
		tb_bench_die("tb_store_open", err);
	struct tb_reject rej;
	struct tb_genesis g;
	tb_test_genesis(&g, "Side", -600, 0);
	if ((err = tb_store_append_own(s, kp, TB_KIND_GENESIS, &g, NULL, &rej)))
		tb_bench_die(rej.msg, err);
	for (uint32_t no = 1; no <= 2; no++) {
		struct tb_keypair mk;
		struct tb_member_join j;
		tb_test_keypair(&mk, 100 + no);
		tb_test_join(&j, no, no == 1 ? "m1" : "m2", &mk, -600, 0);
		if ((err = tb_store_append_own(s, kp, TB_KIND_MEMBER_JOIN, &j, NULL, &rej)))
			tb_bench_die(rej.msg, err);
	}
	tb_store_set_threads(s, 0);
	return s;
}

static void free_store(struct tb_store *s)
{
	tb_store_free(s);
	tb_bench_scratch_free();
}

/* Length of the last entry of kp's own log in s. */
static size_t last_record_len(struct tb_store *s, const struct tb_keypair *kp)
{
	struct tb_head h;
	uint8_t buf[TB_ENTRY_MAX];
	size_t len = 0;
	int err = tb_store_head(s, kp->pk.b, &h);
	if (!err)
		err = tb_store_get_entry(s, kp->pk.b, h.seq, buf, sizeof buf, &len);
	if (err)
		tb_bench_die("reading the last entry", err);
	return len;
}

/* ---- 1. single appends ---- */

static double single_appends(size_t n, const struct tb_keypair *kp, unsigned flags, size_t *rec_len)
{
	struct tb_store *s = fresh_store(kp, flags);
	uint64_t date = tb_bench_today(false);
	double t0 = tb_bench_now();
	for (size_t k = 0; k < n; k++) {
		struct tb_exchange x;
		struct tb_reject rej;
		exchange_body(&x, kp, k, 1, 2, date);
		int err = tb_store_append_own(s, kp, TB_KIND_EXCHANGE, &x, NULL, &rej);
		if (err)
			tb_bench_die(rej.msg, err);
	}
	double secs = tb_bench_now() - t0;
	*rec_len = last_record_len(s, kp);
	free_store(s);
	return secs;
}

/* One of the concurrent writers: entries [k0, k0 + n) through its own
 * handle on the store in dir; exits 0 when all are acknowledged. */
static _Noreturn void writer(const char *dir, const struct tb_keypair *kp, size_t k0, size_t n,
			     uint64_t date)
{
	struct tb_store *s;
	int err = tb_store_open(&s, dir, 0); /* its owner is set (fresh_store) */
	if (err)
		fprintf(stderr, "bench_side: writer: opening the store: %s\n", tb_strerror(err));
	for (size_t k = k0; !err && k < k0 + n; k++) {
		struct tb_exchange x;
		struct tb_reject rej;
		exchange_body(&x, kp, k, 1, 2, date);
		if ((err = tb_store_append_own(s, kp, TB_KIND_EXCHANGE, &x, NULL, &rej)))
			fprintf(stderr, "bench_side: writer: %s (%s)\n", rej.msg, tb_strerror(err));
	}
	if (!err)
		tb_store_free(s);
	_exit(err ? 1 : 0);
}

/* n durable appends by WRITERS processes at once; seconds. */
static double concurrent_appends(size_t n, const struct tb_keypair *kp)
{
	struct tb_store *s = fresh_store(kp, 0);
	struct tb_head h0, h1;
	int err = tb_store_head(s, kp->pk.b, &h0);
	if (err)
		tb_bench_die("tb_store_head", err);
	const char *dir = store_dir;
	tb_store_free(s); /* no LMDB environment may cross a fork */
	uint64_t date = tb_bench_today(false);
	pid_t pid[WRITERS];
	double t0 = tb_bench_now();
	for (size_t w = 0; w < WRITERS; w++) {
		size_t k0 = n * w / WRITERS, k1 = n * (w + 1) / WRITERS;
		if ((pid[w] = fork()) < 0)
			tb_bench_die("fork", TB_EIO);
		if (pid[w] == 0)
			writer(dir, kp, k0, k1 - k0, date);
	}
	int bad = 0;
	for (size_t w = 0; w < WRITERS; w++) {
		int st;
		while (waitpid(pid[w], &st, 0) < 0)
			;
		bad |= !WIFEXITED(st) || WEXITSTATUS(st);
	}
	double secs = tb_bench_now() - t0;
	if (bad)
		tb_bench_die("a concurrent writer failed", TB_EIO);
	if ((err = tb_store_open(&s, dir, TB_STORE_RDONLY)) ||
	    (err = tb_store_head(s, kp->pk.b, &h1)))
		tb_bench_die("reopening after the writers", err);
	if (h1.seq != h0.seq + n)
		tb_bench_die("the writers' entries are not all there", TB_ECORRUPT);
	free_store(s);
	return secs;
}

/* ---- 2. batched appends ---- */

static double batched_appends(size_t n, const struct tb_keypair *kp)
{
	struct tb_store *s = fresh_store(kp, 0);
	struct tb_head h;
	int err = tb_store_head(s, kp->pk.b, &h);
	if (err)
		tb_bench_die("tb_store_head", err);
	uint64_t date = tb_bench_today(false), ts = (uint64_t)time(NULL);
	double t0 = tb_bench_now();
	append_exchanges(s, kp, n, 1, 2, &h, date, ts);
	double secs = tb_bench_now() - t0;
	free_store(s);
	return secs;
}

/* ---- 4. appends through the API ---- */

#define API_PW "a bench password"
#define API_MAX 2000 /* requests of the one writer at most */

/* The request of an attested exchange of one minute, from m1 to m2 or
 * back (k odd): a client sending both in turn keeps balances near zero. */
static char *exchange_request(uint16_t http, const struct tb_httpc_session *sess, unsigned k,
			      size_t *len)
{
	char body[160];
	snprintf(body, sizeof body,
		 "{\"provider\":\"%s\",\"receiver\":\"%s\",\"minutes\":1,\"memo\":\"side\","
		 "\"attest\":true}",
		 k % 2 ? "m2" : "m1", k % 2 ? "m1" : "m2");
	char *req = tb_bench_http_text(http, "POST", "/api/v1/exchanges", sess->cookie, sess->csrf,
				       body, 0, len);
	if (!req)
		tb_bench_die("a request", TB_ENOMEM);
	return req;
}

/* tallyd's durable commits so far (its /metrics). */
static uint64_t durable_commits(uint16_t http)
{
	struct tb_httpc_resp r;
	const char *key = "\ntally_commit_seconds_count ";
	int st = tb_httpc(http, "GET", "/metrics", NULL, false, NULL, &r);
	const char *p = st == 200 && r.body ? strstr(r.body, key) : NULL;
	uint64_t n = p ? strtoull(p + strlen(key), NULL, 10) : 0;
	tb_httpc_free(&r);
	if (!p)
		tb_bench_die("GET /metrics", TB_EIO);
	return n;
}

/* A tallyd with its console on a fresh ledger (genesis, m1, m2) and a
 * coordinator's session: n attested exchanges posted on one keep-alive
 * connection, each sent once the answer (201, after its durable commit)
 * of the one before is in; then WRITERS connections doing the same at once
 * for as long (at least 3 s). Entries per second of each. */
static void api_appends(size_t n, double *one, double *many)
{
	struct tb_fed *f = tb_bench_fed_new("sideapi", 1);
	tb_bench_coordinator(f, 0, "cora", "coordinator", API_PW);
	uint16_t http = tb_bench_start_console(f, 0);
	struct tb_httpc_session sess;
	if (tb_httpc_login(http, "cora", API_PW, &sess) != 200)
		tb_bench_die("login", TB_EIO);
	char *reqs[2];
	size_t lens[2];
	for (unsigned k = 0; k < 2; k++)
		reqs[k] = exchange_request(http, &sess, k, &lens[k]);
	struct tb_bench_http c;
	if (tb_bench_http_open(&c, http))
		tb_bench_die("connect", TB_EIO);
	uint64_t c0 = durable_commits(http);
	double t0 = tb_bench_now();
	for (size_t k = 0; k < n; k++)
		if (tb_bench_http_request(&c, reqs[k % 2], lens[k % 2]) != 201)
			tb_bench_die(c.buf ? c.buf : "POST /api/v1/exchanges", TB_EIO);
	double secs = tb_bench_now() - t0;
	tb_bench_http_close(&c);
	*one = (double)n / secs;
	uint64_t c1 = durable_commits(http);
	secs = secs < 3 ? 3 : secs;
	t0 = tb_bench_now();
	long done = tb_bench_http_clients(http, WRITERS, (const char *const *)reqs, lens, 2, 201,
					  secs, 0, NULL, NULL);
	secs = tb_bench_now() - t0;
	if (done <= 0)
		tb_bench_die("the concurrent API writers", TB_EIO);
	*many = (double)done / secs;
	uint64_t c2 = durable_commits(http);
	printf("API appends: 1 writer %zu in %llu commits; %u writers %ld in %llu commits "
	       "(%.1f a commit)\n",
	       n, (unsigned long long)(c1 - c0), WRITERS, done, (unsigned long long)(c2 - c1),
	       (double)done / (double)(c2 > c1 ? c2 - c1 : 1));
	tb_bench_check_alive(f, 0);
	tb_fed_stop(f, 0);
	free(reqs[0]);
	free(reqs[1]);
	tb_bench_fed_free(f);
}

/* ---- 3. catch-up ---- */

/* Fills node 0's own log with n exchanges (through the library, its daemon
 * not running); returns its head seq and hash. */
static uint64_t fill_a(size_t n, uint8_t want[TB_HASHLEN])
{
	struct tb_store *s = tb_bench_open_ledger(fed->node[0].data, 0);
	struct tb_keypair kp;
	tb_bench_node_key(fed->node[0].data, &kp);
	struct tb_head h;
	uint32_t m1, m2;
	tb_bench_head_members(s, fed->node[0].id, &h, &m1, &m2, "A's head and members");
	append_exchanges(s, &kp, n, m1, m2, &h, tb_bench_today(false), (uint64_t)time(NULL));
	tb_keypair_wipe(&kp);
	uint64_t total = tb_bench_held_seq(s, fed->node[0].id, want);
	tb_store_free(s);
	return total;
}

/* Starts empty node b with --peer A; seconds until it holds A's head
 * (*xfer: from its first entries held). */
static double catchup_once(size_t b, uint64_t total, const uint8_t want[TB_HASHLEN], double *xfer)
{
	tb_fed_link(fed, b, 0);
	struct tb_store *bs = tb_bench_open_ledger(fed->node[b].data, TB_STORE_RDONLY);
	uint8_t got[TB_HASHLEN];
	double t0 = tb_bench_now(), t_first = 0;
	tb_fed_spawn(fed, b, NULL);
	for (;;) {
		double t = tb_bench_now();
		uint64_t q = tb_bench_held_seq(bs, fed->node[0].id, got);
		if (q && !t_first)
			t_first = t;
		if (q >= total) {
			if (memcmp(got, want, TB_HASHLEN))
				tb_bench_die("the new node holds another head of A's log",
					     TB_ECORRUPT);
			*xfer = t - t_first;
			tb_store_free(bs);
			tb_fed_wait_up(fed, b);
			tb_fed_stop(fed, b);
			return t - t0;
		}
		if (t - t0 > CATCHUP_S) {
			fprintf(stderr,
				"bench_side: node %zu holds %" PRIu64 " of %" PRIu64
				" entries after %.0f s\n",
				b, q, total, CATCHUP_S);
			tb_fed_print_tail(fed, b, 3000);
			exit(1);
		}
		tb_bench_sleep_us(POLL_US);
	}
}

/* ---- main ---- */

static void report(const char *name, size_t n, double best, double worst, int runs)
{
	printf("%-16s: %9.0f entries/s  (best %.2f s of %d run(s), worst %.2f s)\n", name,
	       (double)n / best, best, runs, worst);
}

int main(int argc, char **argv)
{
	tb_bench_init("bench_side", "[entries (1000..10000000) [runs (1..5)]]");
	size_t n = argc > 1 ? (size_t)tb_bench_arg(argv[1], 1000, 10000000ull) : DEFAULT_ENTRIES;
	int runs = argc > 2 ? (int)tb_bench_arg(argv[2], 1, 5) : DEFAULT_RUNS;
	if (argc > 3)
		tb_bench_usage();
	tb_bench_setup(TB_BENCH_DAEMONS | TB_BENCH_RM_KEPT);
	printf("bench_side: %zu attested exchange entries, %d run(s); %u cores, load average "
	       "%.2f\n",
	       n, runs, tb_cpu_count(), tb_bench_load_avg());
	printf("tally entries %zu\n", n);

	const char *only = getenv("BENCH_SIDE_ONLY");
	bool all = !only || !*only;
	bool do_single = all || !strcmp(only, "single"),
	     do_batched = all || !strcmp(only, "batched"),
	     do_catchup = all || !strcmp(only, "catchup"), do_api = all || !strcmp(only, "api");
	if (!do_single && !do_batched && !do_catchup && !do_api) {
		fprintf(stderr, "bench_side: BENCH_SIDE_ONLY=%s: single, batched, api or catchup\n",
			only);
		return 2;
	}
	struct tb_keypair kp;
	tb_test_keypair(&kp, 7);
	double best[5] = {0}, worst[5] = {0}, xfer_best = 0, s;
	size_t rec_len = 0;
	for (int r = 0; r < runs && (do_single || do_batched); r++) {
		if (do_single) {
			s = single_appends(n, &kp, 0, &rec_len);
			best[0] = !best[0] || s < best[0] ? s : best[0];
			worst[0] = s > worst[0] ? s : worst[0];
			s = single_appends(n, &kp, TB_STORE_SCRATCH, &rec_len);
			best[3] = !best[3] || s < best[3] ? s : best[3];
			worst[3] = s > worst[3] ? s : worst[3];
			s = concurrent_appends(n, &kp);
			best[4] = !best[4] || s < best[4] ? s : best[4];
			worst[4] = s > worst[4] ? s : worst[4];
		}
		if (do_batched) {
			s = batched_appends(n, &kp);
			best[1] = !best[1] || s < best[1] ? s : best[1];
			worst[1] = s > worst[1] ? s : worst[1];
		}
	}
	if (do_single) {
		printf("tally record_bytes %zu\n", rec_len);
		report("single appends", n, best[0], worst[0], runs);
		printf("tally single_appends_per_s %.0f\n", (double)n / best[0]);
		report("(without fsync)", n, best[3], worst[3], runs);
		printf("tally single_appends_nosync_per_s %.0f\n", (double)n / best[3]);
		report("8 writers", n, best[4], worst[4], runs);
		printf("tally single_appends_%dw_per_s %.0f\n", WRITERS, (double)n / best[4]);
	}
	if (do_batched) {
		report("batched appends", n, best[1], worst[1], runs);
		printf("tally batched_appends_per_s %.0f\n", (double)n / best[1]);
	}
	if (do_api) {
		/* As many requests as single appends, at most API_MAX (each
		 * costs a flush or two on its own: slow on a busy disk). */
		double one = 0, many = 0, o, m;
		for (int r = 0; r < runs; r++) {
			api_appends(n < API_MAX ? n : API_MAX, &o, &m);
			one = o > one ? o : one;
			many = m > many ? m : many;
		}
		printf("API appends      : %9.0f entries/s with 1 writer, %.0f with %d (best of %d "
		       "run(s))\n",
		       one, many, WRITERS, runs);
		printf("tally api_appends_per_s %.0f\n", one);
		printf("tally api_appends_%dw_per_s %.0f\n", WRITERS, many);
	}
	if (!do_catchup)
		return 0;

	int cruns = runs < CATCHUP_RUNS_MIN ? CATCHUP_RUNS_MIN : runs;
	fed = tb_bench_fed_new("side", 1 + (size_t)cruns);
	uint8_t want[TB_HASHLEN];
	double f0 = tb_bench_now();
	uint64_t total = fill_a(n, want);
	printf("catch-up: A holds %" PRIu64 " entries (%zu exchanges), filled in %.1f s\n", total,
	       n, tb_bench_now() - f0);
	tb_fed_start(fed, 0);
	for (int r = 0; r < cruns; r++) {
		double xfer;
		s = catchup_once(1 + (size_t)r, total, want, &xfer);
		printf("catch-up run %d: %.2f s (%.0f entries/s), %.2f s from the first entries "
		       "held (%.0f/s)\n",
		       r + 1, s, (double)n / s, xfer, (double)n / xfer);
		if (!best[2] || s < best[2]) {
			best[2] = s;
			xfer_best = xfer;
		}
		worst[2] = s > worst[2] ? s : worst[2];
	}
	report("catch-up", n, best[2], worst[2], cruns);
	tb_bench_fed_free(fed);
	fed = NULL;

	printf("tally catchup_per_s %.0f\n", (double)n / best[2]);
	printf("tally catchup_transfer_per_s %.0f\n", (double)n / xfer_best);
	printf("load average at the end: %.2f\n", tb_bench_load_avg());
	return 0;
}
