/*
 * test_rules_model.c: an exhaustive test of the ledger rules over a small
 * model, in the spirit of libsecp256k1's tests_exhaustive.c.
 *
 * A community of 3 members with tiny limits (every floor -2 minutes, member 1
 * has a ceiling of 3) and 14 operations: an exchange a->b of 1 minute
 * (attested) or 2 minutes (signed by both) for each of the 6 ordered pairs,
 * a reversal of the latest exchange not yet reversed (with the consent the
 * exchange had; ENOTX when there was none, EREVERSED when all are reversed),
 * and "member 3 leaves". EVERY sequence of up to DEPTH operations (default 4:
 * 14^4 = 38,416 sequences, 41,371 prefixes) runs against a real store, next
 * to a reference model written from the rules' text: after every step the
 * store's verdict (accepted, or the exact refusal code) must be the model's,
 * balances and counters must be the model's, balances sum to zero and stay
 * within their limits; a refusal leaves the store as it was; and the states
 * sequences end in are rebuilt by a reindex to the identical derived state
 * (every state of a sequence shorter than DEPTH, and one in 4 of the
 * full-length ones: TB_MODEL_REINDEX=all checks every one). A reversal needs no active
 * member: the model, like the rules, lets the consent of a member who left undo an old
 * exchange.
 *
 * The enumeration is depth-first. A refused operation leaves the store as it
 * was, so its subtree continues on the same store; an accepted one gets a
 * copy of its parent's store, so every sequence sees a store holding exactly
 * its own prefix, and each prefix is signed and verified once. A worker keeps
 * one store per depth open (on tmpfs unless TMPDIR is set) and a copy refills
 * the next depth's store from its parent's in one transaction. The first
 * operations are shared among forked workers, one per CPU. TB_MODEL_DEPTH in
 * the environment changes the depth (default 4, 3 under ASan).
 */
#include "testutil.h"
#include "store_int.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NM 3
#define NOPS 14
/* Under AddressSanitizer every store copy costs several times more and the
 * checks are about memory, not about more sequences: depth 3 (2,744
 * sequences, every verdict reached) there, depth 4 in the normal build. */
#define DEPTH_DEFAULT (TB_TEST_SANITIZED ? 3 : 4)
#define DEPTH_MAX 8
#define LOG_KEY 500
#define REINDEX_SAMPLE 4

static const int64_t floor_of[NM + 1] = {0, -2, -2, -2};
static const uint64_t ceiling_of[NM + 1] = {0, 3, 0, 0};
static const char *const name_of[NM + 1] = {"", "ana", "bo", "cy"};

enum op_kind { OP_EXCHANGE, OP_REVERSE, OP_LEAVE };

struct op {
	enum op_kind kind;
	uint32_t prov, recv;
	uint64_t minutes; /* 1: attested, 2: signed by both */
};

static struct op ops[NOPS];

/* ---- the reference model ---- */

struct xchg {
	uint32_t prov, recv;
	uint64_t minutes;
	bool attested, reversed;
	uint64_t txno, seq, reversed_by;
};

struct model {
	int64_t bal[NM + 1];
	bool active[NM + 1];
	uint32_t hist[NM + 1]; /* statement lines */
	struct xchg x[DEPTH_MAX];
	int nx;
	uint64_t exchanges, reversals, minutes;
	uint32_t nactive;
	uint64_t seq;
};

/* The latest exchange not reversed yet, or -1. */
static int reversal_target(const struct model *m)
{
	for (int i = m->nx - 1; i >= 0; i--)
		if (!m->x[i].reversed)
			return i;
	return -1;
}

/*
 * What the rules say about op in state m: 0 (and *m becomes the next state)
 * or the refusal. Written from the rules as documented (DESIGN.md 4 and the
 * brief), not from rules.c.
 */
static int model_apply(struct model *m, const struct op *o, uint64_t txno)
{
	switch (o->kind) {
	case OP_EXCHANGE: {
		uint32_t p = o->prov, r = o->recv;
		if (p == r)
			return TB_ESELF;
		if (!m->active[p] || !m->active[r])
			return TB_ELEFT;
		if (m->bal[r] - (int64_t)o->minutes < floor_of[r])
			return TB_EFLOOR;
		if (ceiling_of[p] && m->bal[p] + (int64_t)o->minutes > (int64_t)ceiling_of[p])
			return TB_ECEILING;
		m->bal[p] += (int64_t)o->minutes;
		m->bal[r] -= (int64_t)o->minutes;
		m->hist[p]++;
		m->hist[r]++;
		m->seq++;
		struct xchg *x = &m->x[m->nx++];
		*x = (struct xchg){p, r, o->minutes, o->minutes == 1, false, txno, m->seq, 0};
		m->exchanges++;
		m->minutes += o->minutes;
		return 0;
	}
	case OP_REVERSE: {
		int t = reversal_target(m);
		if (t < 0)
			return m->nx ? TB_EREVERSED : TB_ENOTX;
		struct xchg *x = &m->x[t];
		/* Undoing is an exchange the other way round, with the same limits. */
		if (m->bal[x->prov] - (int64_t)x->minutes < floor_of[x->prov])
			return TB_EFLOOR;
		if (ceiling_of[x->recv] &&
		    m->bal[x->recv] + (int64_t)x->minutes > (int64_t)ceiling_of[x->recv])
			return TB_ECEILING;
		m->bal[x->prov] -= (int64_t)x->minutes;
		m->bal[x->recv] += (int64_t)x->minutes;
		m->hist[x->prov]++;
		m->hist[x->recv]++;
		m->seq++;
		x->reversed = true;
		x->reversed_by = m->seq;
		m->reversals++;
		m->minutes -= x->minutes;
		return 0;
	}
	case OP_LEAVE:
		if (!m->active[3])
			return TB_ELEFT;
		m->active[3] = false;
		m->nactive--;
		m->seq++;
		return 0;
	}
	return TB_EKIND;
}

/* ---- the store side ---- */

struct stats {
	uint64_t nodes, sequences, copies, reindexes, accepted, refused;
	uint64_t verdicts[64]; /* by -code: accepted, then each refusal */
};

struct world {
	struct tb_keypair mk[NM + 1];
	int depth;
	uint64_t txno; /* next transaction id number */
	struct stats st;
	int path[DEPTH_MAX];
	char *top;			      /* where the stores live */
	char wdir[4200];		      /* this worker's part of it */
	struct tb_store *slot[DEPTH_MAX + 1]; /* the store of each depth */
	bool worker;			      /* a forked worker: fail by exiting */
	bool reindex_all;		      /* reindex every full-length sequence's end */
};

static struct world W;

struct node {
	struct tb_store *s; /* a slot's, or its parent's after a refusal */
	struct tb_test_log log;
	struct model m;
	int depth;
};

static const char *op_name(const struct op *o, char *buf, size_t cap)
{
	switch (o->kind) {
	case OP_EXCHANGE:
		snprintf(buf, cap, "%u->%u:%llu", o->prov, o->recv, (unsigned long long)o->minutes);
		break;
	case OP_REVERSE:
		snprintf(buf, cap, "reverse");
		break;
	case OP_LEAVE:
		snprintf(buf, cap, "3-leaves");
		break;
	}
	return buf;
}

/* Fails naming the sequence that led here. */
#define CHECK(n, cond)                                 \
	do {                                           \
		if (!(cond))                           \
			fail_at((n), __LINE__, #cond); \
	} while (0)

static void fail_at(const struct node *n, int line, const char *what)
{
	char seq[512] = "", b[32];
	for (int i = 0; i < n->depth; i++) {
		strncat(seq, op_name(&ops[W.path[i]], b, sizeof b), sizeof seq - strlen(seq) - 2);
		strncat(seq, " ", sizeof seq - strlen(seq) - 1);
	}
	if (W.worker) {
		fprintf(stderr,
			"test_rules_model: line %d: %s after [ %s] (balances %lld %lld "
			"%lld)\n",
			line, what, seq, (long long)n->m.bal[1], (long long)n->m.bal[2],
			(long long)n->m.bal[3]);
		_exit(1);
	}
	fail_msg("line %d: %s after [ %s] (balances %lld %lld %lld)", line, what, seq,
		 (long long)n->m.bal[1], (long long)n->m.bal[2], (long long)n->m.bal[3]);
}

/* Builds the record of op at the next place of n's log. */
static size_t seal_op(struct node *n, const struct op *o, uint64_t txno, uint8_t rec[TB_ENTRY_MAX])
{
	const uint8_t *L = n->log.kp.pk.b;
	switch (o->kind) {
	case OP_EXCHANGE: {
		struct tb_test_exchange tx;
		bool sign = o->minutes == 2;
		tb_test_exchange(&tx, L, txno, o->prov, o->recv, o->minutes,
				 sign ? &W.mk[o->prov] : NULL, sign ? &W.mk[o->recv] : NULL);
		return tb_test_seal_next(&n->log, rec, TB_KIND_EXCHANGE, &tx.x);
	}
	case OP_REVERSE: {
		struct tb_test_reversal tr;
		int t = reversal_target(&n->m);
		if (t < 0 && n->m.nx)
			t = n->m.nx - 1; /* all reversed: the latest, again */
		if (t < 0) {
			tb_test_reversal(&tr, L, txno, txno + 1000000, NULL, NULL);
		} else {
			const struct xchg *x = &n->m.x[t];
			tb_test_reversal(&tr, L, txno, x->txno, x->attested ? NULL : &W.mk[x->prov],
					 x->attested ? NULL : &W.mk[x->recv]);
		}
		return tb_test_seal_next(&n->log, rec, TB_KIND_REVERSAL, &tr.r);
	}
	case OP_LEAVE: {
		struct tb_member_left l = {3};
		return tb_test_seal_next(&n->log, rec, TB_KIND_MEMBER_LEFT, &l);
	}
	}
	return 0;
}

struct last_hist {
	uint32_t n;
	int64_t balance;
	int64_t sum;
};

static int last_hist_cb(void *ctx, const struct tb_history_item *h)
{
	struct last_hist *lh = ctx;
	lh->n++;
	lh->sum += h->delta;
	lh->balance = h->balance;
	return 0;
}

/* Everything the store shows must be the model's. */
static void check_state(const struct node *n)
{
	const uint8_t *L = n->log.kp.pk.b;
	int64_t sum = 0;
	uint32_t active = 0;
	for (uint32_t i = 1; i <= NM; i++) {
		struct tb_member mb;
		CHECK(n, tb_store_member(n->s, L, i, &mb) == 0);
		CHECK(n, mb.balance == n->m.bal[i]);
		CHECK(n, mb.active == n->m.active[i]);
		CHECK(n, mb.balance >= floor_of[i]);
		CHECK(n, !ceiling_of[i] || mb.balance <= (int64_t)ceiling_of[i]);
		sum += mb.balance;
		active += mb.active;
		struct last_hist lh = {0, 0, 0};
		CHECK(n, tb_store_foreach_history(n->s, L, i, last_hist_cb, &lh) == 0);
		CHECK(n, lh.n == n->m.hist[i]);
		CHECK(n, lh.sum == mb.balance);
		CHECK(n, lh.n == 0 || lh.balance == mb.balance);
	}
	CHECK(n, sum == 0);
	struct tb_community c;
	CHECK(n, tb_store_community(n->s, L, &c) == 0);
	CHECK(n, c.members == NM);
	CHECK(n, c.active == n->m.nactive && c.active == active);
	CHECK(n, c.exchanges == n->m.exchanges);
	CHECK(n, c.reversals == n->m.reversals);
	CHECK(n, c.minutes == n->m.minutes);
	struct tb_head h;
	CHECK(n, tb_store_head(n->s, L, &h) == 0);
	CHECK(n, h.seq == n->m.seq && h.seq == n->log.seq);
	CHECK(n, !memcmp(h.hash, n->log.head, TB_HASHLEN));
	for (int i = 0; i < n->m.nx; i++) {
		uint8_t txid[TB_TXID_LEN];
		uint64_t seq, rev;
		tb_test_txid(txid, n->m.x[i].txno);
		CHECK(n, tb_store_tx(n->s, L, txid, &seq, &rev) == 0);
		CHECK(n, seq == n->m.x[i].seq);
		CHECK(n, rev == n->m.x[i].reversed_by);
	}
}

static void reindex_check(const struct node *n)
{
	char *before = tb_test_store_dump_derived(n->s);
	struct tb_reject rej;
	CHECK(n, tb_store_reindex(n->s, &rej) == 0);
	char *after = tb_test_store_dump_derived(n->s);
	if (strcmp(before, after))
		fail_at(n, __LINE__, "reindex changed the derived state");
	free(before);
	free(after);
	check_state(n);
	W.st.reindexes++;
}

/* The store of `from` copied into the worker's store for to's depth (one
 * LMDB environment per depth, opened once and refilled in one transaction
 * for each copy: opening and closing an environment per copy was most of
 * this test's time). */
static void copy_store(const struct node *from, struct node *to)
{
	to->s = W.slot[to->depth];
	CHECK(from, to->s != from->s);
	CHECK(from, tb_db_clone(to->s->db, from->s->db) == 0);
	W.st.copies++;
}

static void explore(struct node *n);

/* Operation i after the prefix of n, and every sequence that goes on from it. */
static void step(struct node *n, int i)
{
	const struct op *o = &ops[i];
	W.path[n->depth] = i;
	uint64_t txno = W.txno++;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = seal_op(n, o, txno, rec);
	struct model next = n->m;
	int want = model_apply(&next, o, txno);
	W.st.verdicts[-want]++;
	struct tb_view v = {rec, len};
	size_t acc = 99;
	struct tb_reject rej;
	struct node child;
	child.depth = n->depth + 1;
	if (want) {
		/* Refused: nothing changes, the sequence goes on here. */
		int err = tb_store_append(n->s, &v, 1, &acc, &rej);
		if (err != want) {
			char msg[400];
			snprintf(msg, sizeof msg, "store says %s (%s), model %s", tb_errname(err),
				 rej.msg, tb_errname(want));
			fail_at(&(struct node){.m = n->m, .depth = child.depth}, __LINE__, msg);
		}
		CHECK(n, acc == 0 && rej.err == want && rej.seq == n->log.seq + 1);
		W.st.refused++;
		child.s = n->s;
		child.log = n->log;
		child.m = n->m;
		explore(&child);
		return;
	}
	copy_store(n, &child);
	int err = tb_store_append(child.s, &v, 1, &acc, &rej);
	if (err) {
		char msg[400];
		snprintf(msg, sizeof msg, "store refuses %s (%s), model accepts", tb_errname(err),
			 rej.msg);
		fail_at(&(struct node){.m = n->m, .depth = child.depth}, __LINE__, msg);
	}
	CHECK(n, acc == 1);
	W.st.accepted++;
	child.log = n->log;
	tb_test_log_advance(&child.log, rec, len);
	child.m = next;
	explore(&child);
	/* The states sequences end in (the accepted prefixes) are rebuilt by a
	 * reindex, after their subtree used them: all of those shorter than
	 * DEPTH, and one in REINDEX_SAMPLE of the full-length ones (each costs
	 * a store's worth of reindexing; TB_MODEL_REINDEX=all checks them all). */
	if (child.depth < W.depth || W.reindex_all || W.st.accepted % REINDEX_SAMPLE == 0)
		reindex_check(&child);
}

static void explore(struct node *n)
{
	W.st.nodes++;
	check_state(n);
	if (n->depth == W.depth) {
		W.st.sequences++;
		return;
	}
	for (int i = 0; i < NOPS; i++)
		step(n, i);
}

/* The root in the store of depth 0: genesis and the three members. */
static void make_root(struct node *root)
{
	memset(root, 0, sizeof *root);
	root->s = W.slot[0];
	tb_test_log_init(&root->log, LOG_KEY);
	struct tb_test_recs r = {0};
	struct tb_genesis g;
	tb_test_genesis(&g, "Tiny", -2, 0);
	tb_test_log_add(&root->log, &r, TB_KIND_GENESIS, &g);
	for (uint32_t i = 1; i <= NM; i++) {
		struct tb_member_join j;
		tb_test_join(&j, i, name_of[i], &W.mk[i], floor_of[i], ceiling_of[i]);
		tb_test_log_add(&root->log, &r, TB_KIND_MEMBER_JOIN, &j);
		root->m.active[i] = true;
	}
	root->m.nactive = NM;
	root->m.seq = root->log.seq;
	size_t acc;
	struct tb_reject rej;
	if (tb_store_append(root->s, tb_test_recs_views(&r, 0), r.n, &acc, &rej))
		_exit(2);
	tb_test_recs_free(&r);
}

/* Worker w of nw: the sequences whose first operation is i with i % nw == w. */
static void run_worker(int w, int nw)
{
	snprintf(W.wdir, sizeof W.wdir, "%s/w%d", W.top, w);
	if (mkdir(W.wdir, 0700))
		_exit(2);
	for (int d = 0; d <= W.depth; d++) {
		char dir[4300];
		snprintf(dir, sizeof dir, "%s/s%d", W.wdir, d);
		if (mkdir(dir, 0700) || tb_store_open(&W.slot[d], dir, TB_STORE_SCRATCH))
			_exit(2);
	}
	struct node root;
	make_root(&root);
	check_state(&root);
	for (int i = w; i < NOPS; i += nw)
		step(&root, i);
	if (w == 0) {
		W.st.nodes++; /* the empty sequence */
		reindex_check(&root);
	}
	for (int d = 0; d <= W.depth; d++)
		tb_store_free(W.slot[d]);
}

static void test_exhaustive(void **state)
{
	(void)state;
	const char *all = getenv("TB_MODEL_REINDEX");
	W.reindex_all = all && !strcmp(all, "all");
	const char *env = getenv("TB_MODEL_DEPTH");
	W.depth = env ? atoi(env) : DEPTH_DEFAULT;
	assert_true(W.depth >= 1 && W.depth <= DEPTH_MAX);
	W.top = tb_test_scratchdir("model");

	int k = 0;
	for (uint32_t p = 1; p <= NM; p++)
		for (uint32_t r = 1; r <= NM; r++)
			for (uint64_t m = 1; m <= 2 && p != r; m++)
				ops[k++] = (struct op){OP_EXCHANGE, p, r, m};
	ops[k++] = (struct op){OP_REVERSE, 0, 0, 0};
	ops[k++] = (struct op){OP_LEAVE, 0, 0, 0};
	assert_int_equal(k, NOPS);
	for (uint32_t i = 1; i <= NM; i++)
		tb_test_keypair(&W.mk[i], LOG_KEY + i);
	W.txno = 1;

	/* One forked worker per CPU, each with its own stores (an LMDB
	 * environment never crosses a fork); their counts come back on pipes. */
	int nw = (int)tb_cpu_count();
	if (nw > NOPS)
		nw = NOPS;
	pid_t pids[NOPS];
	int fds[NOPS];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fflush(stdout);
	fflush(stderr);
	for (int w = 0; w < nw; w++) {
		int p[2];
		assert_int_equal(pipe(p), 0);
		pids[w] = fork();
		assert_true(pids[w] >= 0);
		if (pids[w] == 0) {
			close(p[0]);
			W.worker = true;
			run_worker(w, nw);
			ssize_t wr = write(p[1], &W.st, sizeof W.st);
			_exit(wr == (ssize_t)sizeof W.st ? 0 : 3);
		}
		close(p[1]);
		fds[w] = p[0];
	}
	struct stats total;
	memset(&total, 0, sizeof total);
	int failed = 0;
	for (int w = 0; w < nw; w++) {
		struct stats st;
		ssize_t got = read(fds[w], &st, sizeof st);
		close(fds[w]);
		int status;
		assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
		if (!WIFEXITED(status) || WEXITSTATUS(status) || got != (ssize_t)sizeof st) {
			failed++;
			continue;
		}
		total.nodes += st.nodes;
		total.sequences += st.sequences;
		total.copies += st.copies;
		total.reindexes += st.reindexes;
		total.accepted += st.accepted;
		total.refused += st.refused;
		for (int e = 0; e < 64; e++)
			total.verdicts[e] += st.verdicts[e];
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	tb_test_rmrf(W.top);
	if (failed)
		fail_msg("%d of %d workers failed (their message is above)", failed, nw);
	W.st = total;
	uint64_t want_seq = 1;
	for (int d = 0; d < W.depth; d++)
		want_seq *= NOPS;
	assert_int_equal(W.st.sequences, want_seq);
	print_message("depth %d: %llu sequences, %llu prefixes, %llu accepted and %llu refused "
		      "steps, "
		      "%llu store copies, %llu reindexes, %d workers, %.1f s\n",
		      W.depth, (unsigned long long)W.st.sequences, (unsigned long long)W.st.nodes,
		      (unsigned long long)W.st.accepted, (unsigned long long)W.st.refused,
		      (unsigned long long)W.st.copies, (unsigned long long)W.st.reindexes, nw,
		      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	print_message("verdicts:");
	for (int e = 0; e < 64; e++)
		if (W.st.verdicts[e])
			print_message(" %s %llu", e ? tb_errname(-e) : "accepted",
				      (unsigned long long)W.st.verdicts[e]);
	print_message("\n");
	/* Every kind of verdict the model knows was reached. */
	const struct stats *t = &W.st;
	assert_true(t->verdicts[0] && t->verdicts[-TB_EFLOOR] && t->verdicts[-TB_ECEILING] &&
		    t->verdicts[-TB_ELEFT] && t->verdicts[-TB_EREVERSED] && t->verdicts[-TB_ENOTX]);
	/* 14^0 + ... + 14^depth prefixes. */
	uint64_t want_nodes = 0, pw = 1;
	for (int d = 0; d <= W.depth; d++, pw *= NOPS)
		want_nodes += pw;
	assert_int_equal(t->nodes, want_nodes);
}

static int group_setup(void **state)
{
	(void)state;
	return tb_crypto_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exhaustive),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
