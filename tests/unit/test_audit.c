/*
 * test_audit.c: the auditor (tb_audit_*) against a generator of corrupted
 * histories. A clean community history (genesis, 5 members, 40 exchanges
 * mixing attested and member-signed ones, a reversal, and a signed
 * checkpoint) is built in memory as an export file image, framed by hand, and
 * must audit with no violation. Then each test takes a fresh copy with
 * exactly one corruption and checks that the auditor names it with the right
 * log, seq and rule (other, cascading reports are allowed). Cross-community
 * legs between the two communities: a final leg that contradicts its
 * decision, a decision or final naming the wrong entry, a commit over the
 * trust line, clearing balances that do not mirror. Also: the same
 * log from two sources (counted once), two communities, a data directory
 * (also one that is behind an export of its log), and --since (a saved
 * checkpoint proves the log only grew; a rewritten log fails).
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NMEM 5
#define NEX 40
#define MAXSPEC 64
#define MEMBER_FLOOR (-1200) /* minutes: 20 hours */
#define TS0 1740000000ull
#define TXNO0 1000 /* transaction id numbers of the clean exchanges */

/* What one entry says (its place and signature come from seal_hist). */
struct spec {
	struct tb_entry e; /* kind and body only */
	uint8_t psig[TB_SIGLEN], rsig[TB_SIGLEN];
	const struct tb_keypair *signer; /* NULL: the community key */
};

struct hist {
	const struct tb_keypair *log; /* the community's key */
	struct spec sp[MAXSPEC];
	size_t n;
};

/* An export file image and the offset of each item's header. */
struct xbuf {
	uint8_t *p;
	size_t len, cap;
	uint64_t items;
	size_t off[MAXSPEC + 8];
};

#define MAXV 512
struct vlist {
	struct tb_reject v[MAXV];
	size_t n;
	uint64_t total;
};

static struct tb_keypair g_comm, g_comm2, g_mem[NMEM + 1], g_wrong;
static struct hist g_clean, g_clean2; /* two communities */
static struct vlist g_vl;
static char *g_tmp;

static const uint8_t *comm_id(void)
{
	return g_comm.pk.b;
}

/* ---- histories ---- */

static struct spec *push(struct hist *h, uint64_t kind)
{
	assert_true(h->n < MAXSPEC);
	struct spec *s = &h->sp[h->n++];
	memset(s, 0, sizeof *s);
	s->e.kind = kind;
	return s;
}

/* Moves specs [at, n) one place on and returns a fresh spec at `at`. */
static struct spec *insert_at(struct hist *h, size_t at, uint64_t kind)
{
	assert_true(h->n < MAXSPEC && at <= h->n);
	memmove(&h->sp[at + 1], &h->sp[at], (h->n - at) * sizeof h->sp[0]);
	h->n++;
	struct spec *s = &h->sp[at];
	memset(s, 0, sizeof *s);
	s->e.kind = kind;
	return s;
}

static void set_exchange(const struct hist *h, struct spec *s, uint64_t txno, uint32_t p,
			 uint32_t r, uint64_t minutes, const struct tb_keypair *pk,
			 const struct tb_keypair *rk)
{
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, h->log->pk.b, txno, p, r, minutes, pk, rk);
	s->e.body.exchange = tx.x;
	memcpy(s->psig, tx.psig, TB_SIGLEN);
	memcpy(s->rsig, tx.rsig, TB_SIGLEN);
}

static uint32_t ex_provider(unsigned i)
{
	return i % NMEM + 1;
}
static uint32_t ex_receiver(unsigned i)
{
	return (i + 2) % NMEM + 1;
}
static uint64_t ex_minutes(unsigned i)
{
	return 30 + (i % 4) * 15;
}
static bool ex_signed(unsigned i)
{
	return i % 3 != 0;
}

/* Seq of clean exchange number i (0-based). */
static uint64_t ex_seq(unsigned i)
{
	return 2 + NMEM + i;
}

/*
 * The clean history: 1 genesis, 2..6 members joining, 7..46 exchanges
 * (every third attested, the others signed by both members), 47 the
 * member-signed reversal of exchange 4 (seq 11).
 */
static void build_clean(struct hist *h, const struct tb_keypair *log)
{
	static const char *const names[NMEM + 1] = {"", "alice", "bob", "carol", "dave", "erin"};
	memset(h, 0, sizeof *h);
	h->log = log;
	struct spec *s = push(h, TB_KIND_GENESIS);
	tb_test_genesis(&s->e.body.genesis, "Riverside", -600, 0);
	for (uint32_t m = 1; m <= NMEM; m++) {
		s = push(h, TB_KIND_MEMBER_JOIN);
		tb_test_join(&s->e.body.member_join, m, names[m], &g_mem[m], MEMBER_FLOOR, 0);
	}
	for (unsigned i = 0; i < NEX; i++) {
		uint32_t p = ex_provider(i), r = ex_receiver(i);
		s = push(h, TB_KIND_EXCHANGE);
		set_exchange(h, s, TXNO0 + i, p, r, ex_minutes(i), ex_signed(i) ? &g_mem[p] : NULL,
			     ex_signed(i) ? &g_mem[r] : NULL);
	}
	assert_true(ex_signed(4));
	struct tb_test_reversal tr;
	tb_test_reversal(&tr, log->pk.b, TXNO0 + 500, TXNO0 + 4, &g_mem[ex_provider(4)],
			 &g_mem[ex_receiver(4)]);
	s = push(h, TB_KIND_REVERSAL);
	s->e.body.reversal = tr.r;
	memcpy(s->psig, tr.psig, TB_SIGLEN);
	memcpy(s->rsig, tr.rsig, TB_SIGLEN);
}

/* Minutes the clean history moved, net of the reversal. */
static uint64_t clean_minutes(void)
{
	uint64_t m = 0;
	for (unsigned i = 0; i < NEX; i++)
		m += ex_minutes(i);
	return m - ex_minutes(4);
}

/* Seals one entry of the community log at (seq, prev). */
static size_t seal_spec(uint8_t out[TB_ENTRY_MAX], const struct tb_keypair *log,
			const struct spec *s, uint64_t seq, const uint8_t prev[TB_HASHLEN])
{
	struct tb_entry e = s->e;
	e.version = TB_ENTRY_VERSION;
	memcpy(e.log_id, log->pk.b, TB_KEY_LEN);
	e.seq = seq;
	memcpy(e.prev, prev, TB_HASHLEN);
	e.timestamp = TS0 + seq;
	/* The signature views point at this spec's own copies. */
	if (e.kind == TB_KIND_EXCHANGE && !e.body.exchange.attested) {
		e.body.exchange.provider_sig = (struct tb_view){s->psig, TB_SIGLEN};
		e.body.exchange.receiver_sig = (struct tb_view){s->rsig, TB_SIGLEN};
	}
	if (e.kind == TB_KIND_REVERSAL && !e.body.reversal.attested) {
		e.body.reversal.provider_sig = (struct tb_view){s->psig, TB_SIGLEN};
		e.body.reversal.receiver_sig = (struct tb_view){s->rsig, TB_SIGLEN};
	}
	size_t len = 0;
	assert_int_equal(tb_entry_seal(out, TB_ENTRY_MAX, &len, &e, log), 0);
	if (s->signer) /* a forgery: right log id, someone else's signature */
		tb_sign(out + len - TB_SIGLEN, s->signer, TB_CTX_ENTRY, out, len - TB_SIGLEN);
	return len;
}

/* Seals a whole history as one properly chained log. */
static void seal_hist(const struct hist *h, struct tb_test_recs *out)
{
	uint8_t prev[TB_HASHLEN] = {0}, rec[TB_ENTRY_MAX];
	tb_test_recs_clear(out);
	for (size_t i = 0; i < h->n; i++) {
		size_t len = seal_spec(rec, h->log, &h->sp[i], i + 1, prev);
		tb_test_recs_add(out, rec, len);
		tb_entry_hash(prev, rec, len);
	}
}

static struct tb_view rec_at(struct tb_test_recs *r, size_t i)
{
	assert_true(i < r->n);
	return tb_test_recs_views(r, 0)[i];
}

/* A checkpoint of the first `size` records, signed with the community key;
 * its root computed by the plain RFC 6962 recursion. */
static size_t make_cp_log(uint8_t out[TB_CHECKPOINT_MAX], const struct tb_keypair *log,
			  struct tb_test_recs *r, uint64_t size, bool flip_root)
{
	assert_true(size >= 1 && size <= r->n);
	uint8_t(*leaves)[TB_HASHLEN] = malloc(size * TB_HASHLEN);
	assert_non_null(leaves);
	for (uint64_t i = 0; i < size; i++) {
		struct tb_view v = rec_at(r, i);
		tb_entry_hash(leaves[i], v.p, v.len);
	}
	struct tb_checkpoint cp;
	memset(&cp, 0, sizeof cp);
	memcpy(cp.log_id, log->pk.b, TB_KEY_LEN);
	cp.size = size;
	tb_test_mth(cp.root, (const uint8_t(*)[TB_HASHLEN])leaves, size);
	free(leaves);
	if (flip_root)
		cp.root[7] ^= 0x20;
	cp.timestamp = TS0 + 100000 + size;
	size_t len = 0;
	assert_int_equal(tb_checkpoint_seal(out, TB_CHECKPOINT_MAX, &len, &cp, log), 0);
	return len;
}

/* The same for the first community's log. */
static size_t make_cp(uint8_t out[TB_CHECKPOINT_MAX], struct tb_test_recs *r, uint64_t size,
		      bool flip_root)
{
	return make_cp_log(out, &g_comm, r, size, flip_root);
}

/* ---- export images, framed by hand ---- */

static void x_raw(struct xbuf *x, const void *p, size_t len)
{
	if (x->len + len > x->cap) {
		size_t cap = x->cap ? x->cap : 16384;
		while (cap < x->len + len)
			cap *= 2;
		x->p = realloc(x->p, cap);
		assert_non_null(x->p);
		x->cap = cap;
	}
	memcpy(x->p + x->len, p, len);
	x->len += len;
}

static void x_init(struct xbuf *x)
{
	memset(x, 0, sizeof *x);
	uint8_t h[9];
	tb_export_header(h);
	x_raw(x, h, sizeof h);
}

static void x_item(struct xbuf *x, enum tb_export_item type, const void *p, size_t len)
{
	uint8_t h[5];
	if (x->items < sizeof x->off / sizeof x->off[0])
		x->off[x->items] = x->len;
	tb_export_item_header(h, type, (uint32_t)len);
	x_raw(x, h, sizeof h);
	x_raw(x, p, len);
	x->items++;
}

static void x_end(struct xbuf *x)
{
	uint8_t h[5], n[8];
	tb_export_item_header(h, TB_EXPORT_END, 8);
	tb_be64_put(n, x->items);
	x_raw(x, h, sizeof h);
	x_raw(x, n, sizeof n);
}

static void x_entries(struct xbuf *x, struct tb_test_recs *r, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		struct tb_view v = rec_at(r, i);
		x_item(x, TB_EXPORT_ENTRY, v.p, v.len);
	}
}

/* Appends every record of a log, then a checkpoint covering them all. */
static void x_log(struct xbuf *x, const struct tb_keypair *log, struct tb_test_recs *r)
{
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t cplen = make_cp_log(cp, log, r, r->n, false);
	x_entries(x, r, 0, r->n);
	x_item(x, TB_EXPORT_CHECKPOINT, cp, cplen);
}

/* The usual export of the first community's log. */
static void x_history(struct xbuf *x, struct tb_test_recs *r)
{
	x_init(x);
	x_log(x, &g_comm, r);
	x_end(x);
}

static void x_free(struct xbuf *x)
{
	free(x->p);
	memset(x, 0, sizeof *x);
}

/* ---- audits ---- */

static void collect(void *ctx, const struct tb_violation *v)
{
	struct vlist *l = ctx;
	l->total++;
	if (l->n < MAXV)
		l->v[l->n++] = v->r;
}

static void print_violations(void)
{
	for (size_t i = 0; i < g_vl.n; i++) {
		const struct tb_reject *v = &g_vl.v[i];
		print_message("  violation %zu: log %02x%02x.. seq %llu [%s] %s\n", i, v->log_id[0],
			      v->log_id[1], (unsigned long long)v->seq, tb_errname(v->err), v->msg);
	}
}

/* Audits n export images as one audit; fills the summary and g_vl. */
static void audit_exports(const struct xbuf *const *x, size_t n, struct tb_audit_summary *sum)
{
	memset(&g_vl, 0, sizeof g_vl);
	struct tb_audit *a = NULL;
	assert_int_equal(tb_audit_new(&a, g_tmp, collect, &g_vl), 0);
	tb_audit_set_threads(a, 2);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(tb_audit_add_export(a, x[i]->p, x[i]->len), 0);
	memset(sum, 0, sizeof *sum);
	assert_int_equal(tb_audit_finish(a, sum), 0);
	tb_audit_free(a);
	assert_int_equal(sum->violations, g_vl.total);
}

static void audit_one(const struct xbuf *x, struct tb_audit_summary *sum)
{
	const struct xbuf *xs[1] = {x};
	audit_exports(xs, 1, sum);
}

/* Index of the first violation (err, log, seq), or -1. */
static long find_violation_log(const uint8_t *log, int err, uint64_t seq)
{
	for (size_t i = 0; i < g_vl.n; i++) {
		const struct tb_reject *v = &g_vl.v[i];
		if (v->err == err && v->seq == seq && !memcmp(v->log_id, log, TB_KEY_LEN))
			return (long)i;
	}
	return -1;
}

static long find_violation(int err, uint64_t seq)
{
	return find_violation_log(comm_id(), err, seq);
}

static void expect_violation_log(const uint8_t *log, int err, uint64_t seq)
{
	if (find_violation_log(log, err, seq) >= 0)
		return;
	print_violations();
	fail_msg("expected a violation [%s] at seq %llu of log %02x%02x.. among %llu",
		 tb_errname(err), (unsigned long long)seq, log[0], log[1],
		 (unsigned long long)g_vl.total);
}

static void expect_violation(int err, uint64_t seq)
{
	expect_violation_log(comm_id(), err, seq);
}

static void expect_clean(const struct tb_audit_summary *sum)
{
	if (sum->violations) {
		print_violations();
		fail_msg("expected a clean audit, got %llu violations",
			 (unsigned long long)sum->violations);
	}
}

/* Builds h as an export (all entries and a checkpoint), audits it and checks
 * the named violation is reported. */
static void audit_hist_expect(const struct hist *h, int err, uint64_t seq)
{
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(h, &r);
	x_history(&x, &r);
	audit_one(&x, &sum);
	expect_violation(err, seq);
	x_free(&x);
	tb_test_recs_free(&r);
}

/* ---- tests ---- */

static void test_clean(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	assert_int_equal(r.n, 1 + NMEM + NEX + 1);
	x_history(&x, &r);
	audit_one(&x, &sum);
	expect_clean(&sum);
	assert_int_equal(sum.logs, 1);
	assert_int_equal(sum.entries, r.n);
	assert_int_equal(sum.members, NMEM);
	assert_int_equal(sum.exchanges, NEX);
	assert_int_equal(sum.reversals, 1);
	assert_int_equal(sum.minutes, clean_minutes());
	assert_int_equal(sum.checkpoints, 1);
	assert_int_equal(sum.forks, 0);
	x_free(&x);
	tb_test_recs_free(&r);
}

static void test_forged_signature(void **state)
{
	(void)state;
	/* Entry 20 signed by another key (the log id still says the
	 * community's); everything after chains on the forged record. */
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	*h = g_clean;
	h->sp[19].signer = &g_wrong;
	audit_hist_expect(h, TB_EBADSIG, 20);
	assert_int_equal(g_vl.total, 1);

	/* The same at the genesis and at the last entry. */
	*h = g_clean;
	h->sp[0].signer = &g_wrong;
	audit_hist_expect(h, TB_EBADSIG, 1);
	*h = g_clean;
	h->sp[h->n - 1].signer = &g_mem[1];
	audit_hist_expect(h, TB_EBADSIG, h->n);
	free(h);
}

static void test_reordered(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	/* Records 25 and 26 swapped in the file. 26 comes right after 24: a
	 * gap (reported first, at 26); then 25 comes after 26: out of order
	 * (at 25, skipped). */
	const size_t k = 25;
	x_init(&x);
	x_entries(&x, &r, 0, k - 1);
	x_entries(&x, &r, k, k + 1);
	x_entries(&x, &r, k - 1, k);
	x_entries(&x, &r, k + 1, r.n);
	x_end(&x);
	audit_one(&x, &sum);
	long gap = find_violation(TB_ESEQ, k + 1), order = find_violation(TB_ESEQ, k);
	if (gap < 0 || order < 0) {
		print_violations();
		fail_msg("expected ESEQ at %zu (gap) and at %zu (out of order)", k + 1, k);
	}
	assert_true(gap < order);
	long first_seq = -1;
	for (size_t i = 0; i < g_vl.n && first_seq < 0; i++)
		if (g_vl.v[i].err == TB_ESEQ)
			first_seq = (long)i;
	assert_int_equal(first_seq, gap);
	x_free(&x);
	tb_test_recs_free(&r);
}

static void test_dropped(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	/* Entry 30 removed: 31 follows 29, a gap reported at 31. */
	x_init(&x);
	x_entries(&x, &r, 0, 29);
	x_entries(&x, &r, 30, r.n);
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t cplen = make_cp(cp, &r, r.n, false);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_end(&x);
	audit_one(&x, &sum);
	expect_violation(TB_ESEQ, 31);
	assert_int_equal(sum.entries, r.n - 1);

	/* Entry 1 removed: the log starts at 2. */
	x_free(&x);
	x_init(&x);
	x_entries(&x, &r, 1, r.n);
	x_end(&x);
	audit_one(&x, &sum);
	expect_violation(TB_ESEQ, 2);
	x_free(&x);
	tb_test_recs_free(&r);
}

static void test_duplicate_tx(void **state)
{
	(void)state;
	/* A new, validly signed attested exchange at seq 36 reusing the id of
	 * exchange 3 (seq 10); the rest re-sealed after it. */
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	*h = g_clean;
	struct spec *s = insert_at(h, 35, TB_KIND_EXCHANGE);
	set_exchange(h, s, TXNO0 + 3, 2, 4, 45, NULL, NULL);
	audit_hist_expect(h, TB_EDUPTX, 36);
	assert_int_equal(g_vl.total, 1);

	/* Member-signed, and reusing the reversal's id. */
	*h = g_clean;
	s = insert_at(h, h->n, TB_KIND_EXCHANGE);
	set_exchange(h, s, TXNO0 + 500, 1, 2, 15, &g_mem[1], &g_mem[2]);
	audit_hist_expect(h, TB_EDUPTX, h->n);
	free(h);
}

static void test_limit_breach(void **state)
{
	(void)state;
	/* An attested exchange at seq 21 that would take bob (member 2) to
	 * -50 hours, below his floor of -20: kept in the log, no effect. */
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	*h = g_clean;
	struct spec *s = insert_at(h, 20, TB_KIND_EXCHANGE);
	set_exchange(h, s, TXNO0 + 900, 1, 2, 3000, NULL, NULL);
	audit_hist_expect(h, TB_EFLOOR, 21);
	assert_int_equal(g_vl.total, 1);
	free(h);
}

static void test_bad_consent(void **state)
{
	(void)state;
	/* Exchange 10 (seq 17, member-signed): the receiver's signature is made
	 * by the provider's key. */
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	*h = g_clean;
	const unsigned i = 10;
	assert_true(ex_signed(i));
	struct spec *s = &h->sp[ex_seq(i) - 1];
	uint32_t p = ex_provider(i), r = ex_receiver(i);
	set_exchange(h, s, TXNO0 + i, p, r, ex_minutes(i), &g_mem[p], &g_mem[p]);
	audit_hist_expect(h, TB_ECONSENT, ex_seq(i));

	/* The receiver's signature by a key no member holds. */
	*h = g_clean;
	s = &h->sp[ex_seq(i) - 1];
	set_exchange(h, s, TXNO0 + i, p, r, ex_minutes(i), &g_mem[p], &g_wrong);
	audit_hist_expect(h, TB_ECONSENT, ex_seq(i));
	free(h);
}

static void test_fork(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	/* A second, validly signed entry 15 with other terms. */
	const size_t k = 15;
	struct spec alt = g_clean.sp[k - 1];
	assert_int_equal(alt.e.kind, TB_KIND_EXCHANGE);
	alt.e.body.exchange.minutes += 60;
	alt.e.body.exchange.attested = 1;
	alt.e.body.exchange.provider_sig = (struct tb_view){NULL, 0};
	alt.e.body.exchange.receiver_sig = (struct tb_view){NULL, 0};
	struct tb_view prevrec = rec_at(&r, k - 2), a = rec_at(&r, k - 1);
	uint8_t prev[TB_HASHLEN], b[TB_ENTRY_MAX];
	tb_entry_hash(prev, prevrec.p, prevrec.len);
	size_t blen = seal_spec(b, &g_comm, &alt, k, prev);

	uint8_t *proof = malloc(2 + a.len + blen);
	assert_non_null(proof);
	proof[0] = (uint8_t)(a.len >> 8);
	proof[1] = (uint8_t)a.len;
	memcpy(proof + 2, a.p, a.len);
	memcpy(proof + 2 + a.len, b, blen);
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t cplen = make_cp(cp, &r, r.n, false);
	x_init(&x);
	x_entries(&x, &r, 0, r.n);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_item(&x, TB_EXPORT_FORK, proof, 2 + a.len + blen);
	x_end(&x);
	audit_one(&x, &sum);
	expect_violation(TB_EFORKED, k);
	assert_int_equal(sum.forks, 1);
	assert_int_equal(g_vl.total, 1);

	/* The same proof in two sources is one fork, reported once. */
	const struct xbuf *xs[2] = {&x, &x};
	audit_exports(xs, 2, &sum);
	expect_violation(TB_EFORKED, k);
	assert_int_equal(sum.forks, 1);
	assert_int_equal(g_vl.total, 1);
	x_free(&x);

	/* Two sources with two histories of the log: the second's entry k
	 * differs from the one held (and the rest of it chains on it). */
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	*h = g_clean;
	h->sp[k - 1] = alt;
	struct tb_test_recs r2 = {0};
	struct xbuf x2;
	seal_hist(h, &r2);
	x_history(&x, &r);
	x_history(&x2, &r2);
	const struct xbuf *ys[2] = {&x, &x2};
	audit_exports(ys, 2, &sum);
	expect_violation(TB_EFORKED, k);
	x_free(&x);
	x_free(&x2);
	tb_test_recs_free(&r2);
	free(h);

	/* A "proof" whose second entry is not signed by the log's key proves
	 * nothing: reported as such, never as a fork. */
	tb_sign(proof + 2 + a.len + blen - TB_SIGLEN, &g_wrong, TB_CTX_ENTRY, proof + 2 + a.len,
		blen - TB_SIGLEN);
	x_init(&x);
	x_entries(&x, &r, 0, r.n);
	x_item(&x, TB_EXPORT_FORK, proof, 2 + a.len + blen);
	x_end(&x);
	audit_one(&x, &sum);
	assert_true(find_violation(TB_EFORKED, k) < 0);
	assert_int_equal(sum.forks, 0);
	expect_violation(TB_EPROOF, k);
	free(proof);
	x_free(&x);
	tb_test_recs_free(&r);
}

static void test_checkpoint_tampered(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	uint8_t cp[TB_CHECKPOINT_MAX];

	/* A byte of the root changed and signed again with the right key: the
	 * signature is fine, the root is not the log's. */
	size_t cplen = make_cp(cp, &r, r.n, true);
	x_init(&x);
	x_entries(&x, &r, 0, r.n);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_end(&x);
	audit_one(&x, &sum);
	expect_violation(TB_EPROOF, r.n);
	assert_int_equal(g_vl.total, 1);
	x_free(&x);

	/* A checkpoint of an earlier size with a wrong root, too. */
	cplen = make_cp(cp, &r, 30, true);
	x_init(&x);
	x_entries(&x, &r, 0, r.n);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_end(&x);
	audit_one(&x, &sum);
	expect_violation(TB_EPROOF, 30);
	x_free(&x);

	/* A byte of the signature changed. */
	cplen = make_cp(cp, &r, r.n, false);
	cp[cplen - 10] ^= 0x01;
	x_init(&x);
	x_entries(&x, &r, 0, r.n);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_end(&x);
	audit_one(&x, &sum);
	expect_violation(TB_EBADSIG, r.n);
	assert_int_equal(g_vl.total, 1);
	assert_int_equal(sum.checkpoints, 0);
	x_free(&x);
	tb_test_recs_free(&r);
}

static void test_truncated(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	seal_hist(&g_clean, &r);
	x_history(&x, &r);
	/* Cut inside item 30 (entry 30): in its body, then in its header. */
	const size_t k = 30;
	size_t item = x.off[k - 1];
	struct tb_view v = rec_at(&r, k - 1);
	size_t cuts[2] = {item + 5 + v.len / 2, item + 2};
	for (int c = 0; c < 2; c++) {
		struct xbuf cut = x;
		cut.len = cuts[c];
		audit_one(&cut, &sum);
		expect_violation(TB_ETRUNCATED, k);
		assert_int_equal(sum.entries, k - 1);
		/* Nothing else: the entries before the cut are clean. */
		assert_int_equal(g_vl.total, 1);
	}
	x_free(&x);

	/* The entries before the cut are still checked: a forged entry 5. */
	*h = g_clean;
	h->sp[4].signer = &g_wrong;
	seal_hist(h, &r);
	x_history(&x, &r);
	x.len = x.off[k - 1] + 5 + rec_at(&r, k - 1).len / 2;
	audit_one(&x, &sum);
	expect_violation(TB_ETRUNCATED, k);
	expect_violation(TB_EBADSIG, 5);
	x_free(&x);

	/* An export missing its last 5 entries, whose checkpoint says there
	 * were more: what an honest node that is behind on a neighbour's log
	 * exports. The checkpoint cannot be checked against the entries held:
	 * not a violation, and not counted as checked (FORMAT.md 11.1). */
	seal_hist(&g_clean, &r);
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t cplen = make_cp(cp, &r, r.n, false);
	x_init(&x);
	x_entries(&x, &r, 0, r.n - 5);
	x_item(&x, TB_EXPORT_CHECKPOINT, cp, cplen);
	x_end(&x);
	audit_one(&x, &sum);
	assert_int_equal(g_vl.total, 0);
	assert_int_equal(sum.checkpoints, 0);
	assert_int_equal(sum.entries, r.n - 5);
	x_free(&x);
	free(h);
	tb_test_recs_free(&r);
}

/* ---- exports read as streams ---- */

/* A file read in pieces of 1 to 3 bytes, failing with TB_EIO at byte
 * fail_at (if not 0). */
struct pieces {
	const uint8_t *p;
	size_t len, off, fail_at;
};

static int read_pieces(void *ctx, uint8_t *p, size_t len, size_t *got)
{
	struct pieces *s = ctx;
	size_t k = 1 + s->off % 3;
	k = k < len ? k : len;
	k = k < s->len - s->off ? k : s->len - s->off;
	if (s->fail_at && s->off + k >= s->fail_at)
		return TB_EIO;
	memcpy(p, s->p + s->off, k);
	s->off += k;
	*got = k;
	return 0;
}

static int audit_pieces(const struct xbuf *x, size_t fail_at, struct tb_audit_summary *sum)
{
	struct pieces src = {x->p, x->len, 0, fail_at};
	struct tb_audit *a;
	memset(&g_vl, 0, sizeof g_vl);
	memset(sum, 0, sizeof *sum);
	assert_int_equal(tb_audit_new(&a, g_tmp, collect, &g_vl), 0);
	int err = tb_audit_add_export_stream(a, read_pieces, &src);
	if (!err)
		assert_int_equal(tb_audit_finish(a, sum), 0);
	tb_audit_free(a);
	return err;
}

/* Short reads change nothing; a damaged file read as a stream gets the
 * verdict it gets whole; a failing read is an error, not a violation. */
static void test_stream(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	x_history(&x, &r);
	assert_int_equal(audit_pieces(&x, 0, &sum), 0);
	expect_clean(&sum);
	assert_int_equal(sum.entries, r.n);
	assert_int_equal(sum.checkpoints, 1);

	const size_t k = 30;
	struct xbuf cut = x;
	cut.len = x.off[k - 1] + 5 + rec_at(&r, k - 1).len / 2;
	assert_int_equal(audit_pieces(&cut, 0, &sum), 0);
	expect_violation(TB_ETRUNCATED, k);
	assert_int_equal(g_vl.total, 1);
	assert_int_equal(sum.entries, k - 1);

	/* Trailing bytes after END, and an END that miscounts. */
	uint8_t *longer = malloc(x.len + 1);
	assert_non_null(longer);
	memcpy(longer, x.p, x.len);
	longer[x.len] = 0;
	struct xbuf more = x;
	more.p = longer;
	more.len = x.len + 1;
	assert_int_equal(audit_pieces(&more, 0, &sum), 0);
	expect_violation(TB_ETRAILING, r.n + 1);
	longer[x.len - 1] ^= 1;
	more.len = x.len;
	assert_int_equal(audit_pieces(&more, 0, &sum), 0);
	expect_violation(TB_ECORRUPT, r.n + 1);
	free(longer);

	for (size_t at = 4; at < x.len; at += x.len / 3) {
		assert_int_equal(audit_pieces(&x, at, &sum), TB_EIO);
		assert_int_equal(g_vl.total, 0);
	}
	x_free(&x);
	tb_test_recs_free(&r);
}

/* ---- cross-community legs ---- */

#define XTXNO 7000
#define XMIN 60

/* The two clean histories with trust lines (A lets B owe it a_limit) and
 * one exchange: bob (member 2) of the second community pays alice (1) of
 * the first XMIN minutes. The decision says `outcome` and commits
 * dec_minutes; the final leg records final_outcome. Seqs in *ps, *ds, *fs. */
struct cross {
	struct hist a, b;
	uint64_t ps, ds, fs;
};

static void build_cross(struct cross *c, uint64_t a_limit, uint64_t outcome, uint64_t dec_minutes,
			uint64_t final_outcome)
{
	c->a = g_clean;
	c->b = g_clean2;
	struct spec *s = push(&c->a, TB_KIND_LINK);
	tb_test_link(&s->e.body.link, g_comm2.pk.b, a_limit);
	s = push(&c->b, TB_KIND_LINK);
	tb_test_link(&s->e.body.link, g_comm.pk.b, 600);
	struct tb_test_xprepare tp;
	tb_test_xprepare(&tp, g_comm2.pk.b, XTXNO, 2, g_comm.pk.b, "alice", XMIN, TS0 + 1000000,
			 NULL);
	s = push(&c->b, TB_KIND_XPREPARE);
	s->e.body.xprepare = tp.x;
	c->ps = c->b.n;
	s = push(&c->a, TB_KIND_XDECIDE);
	tb_test_xdecide(&s->e.body.xdecide, &tp.x, g_comm2.pk.b, c->ps, "bob", outcome ? 0 : 1,
			outcome);
	s->e.body.xdecide.minutes = dec_minutes;
	c->ds = c->a.n;
	s = push(&c->b, TB_KIND_XFINAL);
	tb_test_xfinal(&s->e.body.xfinal, tp.x.txid, c->ds, final_outcome);
	c->fs = c->b.n;
}

/* Audits the export of both logs (or of the second only). */
static void audit_cross(const struct cross *c, bool only_b, struct tb_audit_summary *sum)
{
	struct tb_test_recs ra = {0}, rb = {0};
	struct xbuf x;
	seal_hist(&c->a, &ra);
	seal_hist(&c->b, &rb);
	x_init(&x);
	if (!only_b)
		x_log(&x, &g_comm, &ra);
	x_log(&x, &g_comm2, &rb);
	x_end(&x);
	audit_one(&x, sum);
	x_free(&x);
	tb_test_recs_free(&ra);
	tb_test_recs_free(&rb);
}

static void expect_err(int err)
{
	for (size_t i = 0; i < g_vl.n; i++)
		if (g_vl.v[i].err == err)
			return;
	print_violations();
	fail_msg("expected a violation [%s]", tb_errname(err));
}

static void test_unbalanced_leg(void **state)
{
	(void)state;
	struct cross *c = malloc(sizeof *c);
	assert_non_null(c);
	struct tb_audit_summary sum;
	const uint8_t *id2 = g_comm2.pk.b;

	/* Clean, committed and completed; then refused and released. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	audit_cross(c, false, &sum);
	expect_clean(&sum);
	assert_int_equal(sum.legs_unmatched, 0);
	assert_int_equal(sum.legs_in_flight, 0);
	build_cross(c, 600, TB_XO_UNKNOWN_MEMBER, XMIN, TB_XO_UNKNOWN_MEMBER);
	audit_cross(c, false, &sum);
	expect_clean(&sum);
	/* In flight: no final leg yet. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	c->b.n--;
	audit_cross(c, false, &sum);
	expect_clean(&sum);
	assert_int_equal(sum.legs_in_flight, 1);
	/* The payer's log alone: its prepare and final cannot be matched. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	audit_cross(c, true, &sum);
	expect_clean(&sum);
	assert_int_equal(sum.legs_unmatched, 2);

	/* Completed although the provider refused. */
	build_cross(c, 600, TB_XO_UNKNOWN_MEMBER, XMIN, TB_XO_COMMITTED);
	audit_cross(c, false, &sum);
	expect_violation_log(id2, TB_ELEG, c->fs);
	/* Released although the provider committed. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN, TB_XO_TRUST_LIMIT);
	audit_cross(c, false, &sum);
	expect_violation_log(id2, TB_ELEG, c->fs);
	/* A decision answering an entry that is not the prepare. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	c->a.sp[c->ds - 1].e.body.xdecide.from_seq = 3;
	audit_cross(c, false, &sum);
	expect_violation(TB_ELEG, c->ds);
	/* A final naming an entry that is not the decision. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	c->b.sp[c->fs - 1].e.body.xfinal.decide_seq = c->ds - 1;
	audit_cross(c, false, &sum);
	expect_violation_log(id2, TB_ELEG, c->fs);
	free(c);
}

static void test_mismatched_clearing(void **state)
{
	(void)state;
	struct cross *c = malloc(sizeof *c);
	assert_non_null(c);
	struct tb_audit_summary sum;

	/* The provider credits more than the payer pays. */
	build_cross(c, 600, TB_XO_COMMITTED, XMIN + 30, TB_XO_COMMITTED);
	audit_cross(c, false, &sum);
	expect_violation(TB_ELEG, c->ds);
	expect_err(TB_EMIRROR);
	/* A hand-made commit over the trust line: the rules re-applied catch
	 * it, and the payer's completed leg then has nothing to mirror. */
	build_cross(c, XMIN - 1, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	audit_cross(c, false, &sum);
	expect_violation(TB_ETRUST, c->ds);
	expect_err(TB_EMIRROR);
	/* Exactly at the limit is clean. */
	build_cross(c, XMIN, TB_XO_COMMITTED, XMIN, TB_XO_COMMITTED);
	audit_cross(c, false, &sum);
	expect_clean(&sum);
	free(c);
}

static void test_two_sources(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct xbuf x1, x2;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	x_history(&x1, &r);
	x_history(&x2, &r);
	const struct xbuf *xs[2] = {&x1, &x2};
	audit_exports(xs, 2, &sum);
	expect_clean(&sum);
	/* One log, one history: counted once. */
	assert_int_equal(sum.logs, 1);
	assert_int_equal(sum.entries, r.n);
	assert_int_equal(sum.members, NMEM);
	assert_int_equal(sum.exchanges, NEX);
	assert_int_equal(sum.minutes, clean_minutes());

	/* One source with the first 20 entries, the other with all of them,
	 * in both orders. */
	x_free(&x1);
	x_init(&x1);
	x_entries(&x1, &r, 0, 20);
	x_end(&x1);
	for (int order = 0; order < 2; order++) {
		const struct xbuf *ys[2] = {order ? &x2 : &x1, order ? &x1 : &x2};
		audit_exports(ys, 2, &sum);
		expect_clean(&sum);
		assert_int_equal(sum.logs, 1);
		assert_int_equal(sum.entries, r.n);
		assert_int_equal(sum.exchanges, NEX);
	}
	x_free(&x1);
	x_free(&x2);
	tb_test_recs_free(&r);
}

static void test_two_communities(void **state)
{
	(void)state;
	struct tb_test_recs r1 = {0}, r2 = {0};
	struct xbuf x1, x2;
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r1);
	seal_hist(&g_clean2, &r2);
	const uint8_t *id2 = g_comm2.pk.b;

	/* Two logs in one export, one after the other. */
	x_init(&x1);
	x_log(&x1, &g_comm, &r1);
	x_log(&x1, &g_comm2, &r2);
	x_end(&x1);
	audit_one(&x1, &sum);
	expect_clean(&sum);
	assert_int_equal(sum.logs, 2);
	assert_int_equal(sum.entries, r1.n + r2.n);
	assert_int_equal(sum.members, 2 * NMEM);
	assert_int_equal(sum.exchanges, 2 * NEX);
	assert_int_equal(sum.checkpoints, 2);
	x_free(&x1);

	/* One export each; the second community's export lacks its entry 1:
	 * reported in that log at seq 2, as it is when audited alone. */
	x_history(&x1, &r1);
	x_init(&x2);
	x_entries(&x2, &r2, 1, r2.n);
	x_end(&x2);
	const struct xbuf *xs[2] = {&x1, &x2};
	audit_exports(xs, 2, &sum);
	expect_violation_log(id2, TB_ESEQ, 2);
	for (size_t i = 0; i < g_vl.n; i++) {
		if (memcmp(g_vl.v[i].log_id, id2, TB_KEY_LEN) || g_vl.v[i].err == TB_ELOGID) {
			print_violations();
			fail_msg("violation %zu is not about the second log's history", i);
		}
	}
	/* Alone, the same file says the same. */
	audit_one(&x2, &sum);
	expect_violation_log(id2, TB_ESEQ, 2);
	x_free(&x1);
	x_free(&x2);
	tb_test_recs_free(&r1);
	tb_test_recs_free(&r2);
}

static void test_data_dir(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	char *dir = tb_test_scratchdir("audit-dir");
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, dir, 0), 0);
	size_t acc = 0;
	struct tb_reject rej;
	int err = tb_store_append(s, tb_test_recs_views(&r, 0), r.n, &acc, &rej);
	if (err)
		fail_msg("append refused: %s at %llu: %s", tb_errname(err),
			 (unsigned long long)rej.seq, rej.msg);
	assert_int_equal(acc, r.n);
	uint8_t cp[TB_CHECKPOINT_MAX], root[TB_HASHLEN];
	size_t cplen = make_cp(cp, &r, r.n, false);
	assert_int_equal(tb_store_checkpoint_put(s, cp, cplen), 1);
	/* The store's tree and the plain recursion agree. */
	struct tb_checkpoint c;
	assert_int_equal(tb_checkpoint_open(&c, cp, cplen), 0);
	assert_int_equal(tb_store_root(s, comm_id(), r.n, root), 0);
	assert_memory_equal(root, c.root, TB_HASHLEN);
	tb_store_free(s);

	memset(&g_vl, 0, sizeof g_vl);
	struct tb_audit *a;
	assert_int_equal(tb_audit_new(&a, g_tmp, collect, &g_vl), 0);
	assert_int_equal(tb_audit_add_dir(a, dir), 0);
	assert_int_equal(tb_audit_finish(a, &sum), 0);
	tb_audit_free(a);
	expect_clean(&sum);
	assert_int_equal(sum.logs, 1);
	assert_int_equal(sum.entries, r.n);
	assert_int_equal(sum.members, NMEM);
	assert_int_equal(sum.exchanges, NEX);
	assert_int_equal(sum.reversals, 1);
	assert_int_equal(sum.checkpoints, 1);

	/* The directory and an export of the same log, together. */
	struct xbuf x;
	x_history(&x, &r);
	memset(&g_vl, 0, sizeof g_vl);
	assert_int_equal(tb_audit_new(&a, g_tmp, collect, &g_vl), 0);
	assert_int_equal(tb_audit_add_export(a, x.p, x.len), 0);
	assert_int_equal(tb_audit_add_dir(a, dir), 0);
	assert_int_equal(tb_audit_finish(a, &sum), 0);
	tb_audit_free(a);
	expect_clean(&sum);
	tb_test_rmrf(dir);

	/* A directory that is behind (a neighbour's copy holding the first 20
	 * entries) with a newer export of the log, in both orders: its
	 * stored head, tree and balances are those of its 20 entries. */
	dir = tb_test_scratchdir("audit-dir");
	assert_int_equal(tb_store_open(&s, dir, 0), 0);
	assert_int_equal(tb_store_append(s, tb_test_recs_views(&r, 0), 20, &acc, &rej), 0);
	tb_store_free(s);
	for (int order = 0; order < 2; order++) {
		memset(&g_vl, 0, sizeof g_vl);
		assert_int_equal(tb_audit_new(&a, g_tmp, collect, &g_vl), 0);
		if (order)
			assert_int_equal(tb_audit_add_dir(a, dir), 0);
		assert_int_equal(tb_audit_add_export(a, x.p, x.len), 0);
		if (!order)
			assert_int_equal(tb_audit_add_dir(a, dir), 0);
		assert_int_equal(tb_audit_finish(a, &sum), 0);
		tb_audit_free(a);
		expect_clean(&sum);
		assert_int_equal(sum.entries, r.n);
	}
	x_free(&x);
	tb_test_rmrf(dir);
	tb_test_recs_free(&r);
}

/* Audits the first n records of r as an export, with --since cp. */
static int audit_since(struct tb_test_recs *r, size_t n, const uint8_t *cp, size_t cplen,
		       struct tb_audit_summary *sum)
{
	struct xbuf x;
	x_init(&x);
	x_entries(&x, r, 0, n);
	x_end(&x);
	memset(&g_vl, 0, sizeof g_vl);
	struct tb_audit *a;
	assert_int_equal(tb_audit_new(&a, g_tmp, collect, &g_vl), 0);
	assert_int_equal(tb_audit_add_export(a, x.p, x.len), 0);
	int ret = tb_audit_since(a, cp, cplen);
	assert_int_equal(tb_audit_finish(a, sum), 0);
	tb_audit_free(a);
	x_free(&x);
	return ret;
}

static void test_since(void **state)
{
	(void)state;
	struct tb_test_recs r = {0};
	struct tb_audit_summary sum;
	seal_hist(&g_clean, &r);
	uint8_t cp20[TB_CHECKPOINT_MAX], cp45[TB_CHECKPOINT_MAX];
	size_t cp20len = make_cp(cp20, &r, 20, false);
	size_t cp45len = make_cp(cp45, &r, 45, false);

	/* The log grew from 20 to 40 entries: proven, nothing reported. */
	assert_int_equal(audit_since(&r, 40, cp20, cp20len, &sum), 0);
	expect_clean(&sum);
	assert_int_equal(sum.entries, 40);
	/* Same size: also fine. */
	assert_int_equal(audit_since(&r, 20, cp20, cp20len, &sum), 0);
	expect_clean(&sum);

	/* The log shrank below the checkpoint: a truncated history, as
	 * FORMAT.md 4.3 names it. */
	assert_int_equal(audit_since(&r, 40, cp45, cp45len, &sum), TB_ETRUNCATED);
	expect_violation(TB_ETRUNCATED, 45);

	/* The same first entries, but entry 10 changed and everything after
	 * re-sealed with the same key: a valid log on its own, but not a
	 * continuation of the one the checkpoint saw. */
	struct hist *h = malloc(sizeof *h);
	assert_non_null(h);
	*h = g_clean;
	struct spec *s = &h->sp[9];
	assert_int_equal(s->e.kind, TB_KIND_EXCHANGE);
	assert_true(s->e.body.exchange.attested);
	s->e.body.exchange.minutes += 15;
	struct tb_test_recs w = {0};
	seal_hist(h, &w);
	struct tb_view v0 = rec_at(&r, 8), v1 = rec_at(&w, 8);
	assert_true(v0.len == v1.len && !memcmp(v0.p, v1.p, v0.len));
	assert_int_equal(audit_since(&w, 40, cp20, cp20len, &sum), TB_EPROOF);
	assert_true(g_vl.total >= 1);
	expect_violation(TB_EPROOF, 20);

	/* A saved checkpoint that does not verify is refused too. */
	cp20[cp20len - 1] ^= 0x40;
	assert_int_equal(audit_since(&r, 40, cp20, cp20len, &sum), TB_EBADSIG);
	assert_true(g_vl.total >= 1);
	free(h);
	tb_test_recs_free(&w);
	tb_test_recs_free(&r);
}

static int group_setup(void **state)
{
	(void)state;
	if (tb_crypto_init())
		return -1;
	tb_test_keypair(&g_comm, 1);
	for (uint32_t m = 1; m <= NMEM; m++)
		tb_test_keypair(&g_mem[m], 100 + m);
	tb_test_keypair(&g_comm2, 2);
	tb_test_keypair(&g_wrong, 666);
	build_clean(&g_clean, &g_comm);
	build_clean(&g_clean2, &g_comm2);
	g_tmp = tb_test_scratchdir("audit");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tb_test_rmrf(g_tmp);
	g_tmp = NULL;
	return 0;
}

static struct tb_view str_view(const char *s)
{
	return (struct tb_view){(const uint8_t *)s, strlen(s)};
}

/* Members over time, opening balances, the community account, names and
 * dates (FORMAT.md 7.4, 7.9, 7.10): appended to the clean history they audit
 * clean, and each broken rule is named at its seq. */
static void test_coordinator_kinds(void **state)
{
	(void)state;
	struct hist *h = malloc(sizeof *h);
	struct tb_test_recs r = {0};
	struct xbuf x;
	struct tb_audit_summary sum;
	assert_non_null(h);
	*h = g_clean;
	struct spec *s = push(h, TB_KIND_MEMBER_UPDATE); /* alice renamed, new limits */
	s->e.body.member_update =
		(struct tb_member_update){1, str_view("Alice Smith"), -1200, 0, 0};
	s = push(h, TB_KIND_OPENING);
	tb_test_txid(s->e.body.opening.txid, 77001);
	s->e.body.opening.member = 2;
	s->e.body.opening.minutes = -90;
	s->e.body.opening.date = 20200101;
	s = push(h, TB_KIND_EXCHANGE); /* the community account pays bob */
	set_exchange(h, s, 77002, 2, TB_COMMUNITY_ACCOUNT, 60, NULL, NULL);
	s = push(h, TB_KIND_MEMBER_LEFT);
	s->e.body.member_left.member = 3;
	s = push(h, TB_KIND_MEMBER_UPDATE); /* carol back */
	s->e.body.member_update = (struct tb_member_update){3, str_view("carol"), -600, 0, 1};
	seal_hist(h, &r);
	x_history(&x, &r);
	audit_one(&x, &sum);
	expect_clean(&sum);
	x_free(&x);
	tb_test_recs_free(&r);
	memset(&r, 0, sizeof r);
	size_t base = h->n;

	/* A rename to a lookalike of bob's name (Cyrillic o). */
	s = push(h, TB_KIND_MEMBER_UPDATE);
	s->e.body.member_update = (struct tb_member_update){4,
							    str_view("b\xd0\xbe"
								     "b"),
							    -600, 0, 0};
	audit_hist_expect(h, TB_ENAME, h->n);
	/* A join under "BOB", and one with a zero-width space. */
	h->n = base;
	s = push(h, TB_KIND_MEMBER_JOIN);
	tb_test_join(&s->e.body.member_join, NMEM + 1, "BOB", &g_wrong, -600, 0);
	audit_hist_expect(h, TB_ENAME, h->n);
	s->e.body.member_join.name = str_view("zo\xe2\x80\x8b"
					      "e");
	audit_hist_expect(h, TB_ENAME, h->n);
	/* An exchange dated two days after its entry was signed. */
	h->n = base;
	s = push(h, TB_KIND_EXCHANGE);
	set_exchange(h, s, 77100, 1, 2, 30, NULL, NULL);
	s->e.body.exchange.date = 20250222;
	audit_hist_expect(h, TB_EDATE, h->n);
	/* The same opening balance twice. */
	h->n = base;
	s = push(h, TB_KIND_OPENING);
	tb_test_txid(s->e.body.opening.txid, 77001);
	s->e.body.opening.member = 4;
	s->e.body.opening.minutes = 30;
	s->e.body.opening.date = 20200101;
	audit_hist_expect(h, TB_EDUPTX, h->n);
	/* A member-signed exchange with the community account. */
	h->n = base;
	s = push(h, TB_KIND_EXCHANGE);
	set_exchange(h, s, 77101, 1, 2, 30, &g_mem[1], &g_mem[2]);
	s->e.body.exchange.receiver = TB_COMMUNITY_ACCOUNT;
	audit_hist_expect(h, TB_ECONSENT, h->n);
	/* Reinstating a member who is active. */
	h->n = base;
	s = push(h, TB_KIND_MEMBER_UPDATE);
	s->e.body.member_update = (struct tb_member_update){4, str_view("dave"), -600, 0, 1};
	audit_hist_expect(h, TB_EEXISTS, h->n);
	free(h);
}

/*
 * A history longer than one transaction of the scratch store (the audit
 * re-applies records in transactions of 128, the log signatures of the next
 * ones checked meanwhile): a forged log signature in the second
 * transaction, a bad consent in the third and another forged signature in
 * the last, short one are each reported once, in order, and nothing else.
 */
static void test_long_history(void **state)
{
	(void)state;
	enum { N = 401, FORGED1 = 130, BADCONSENT = 300, FORGED2 = 390 };
	struct tb_test_recs r = {0};
	uint8_t prev[TB_HASHLEN] = {0}, rec[TB_ENTRY_MAX];
	for (uint64_t seq = 1; seq <= N; seq++) {
		size_t len;
		if (seq == 1) {
			struct tb_genesis g;
			tb_test_genesis(&g, "Long Meadow", MEMBER_FLOOR, 0);
			len = tb_test_seal_at(rec, &g_comm, seq, prev, TS0 + seq, TB_KIND_GENESIS,
					      &g);
		} else if (seq <= 1 + NMEM) {
			static const char *const names[] = {"ann", "ben", "cat", "dan", "eve"};
			struct tb_member_join j;
			uint32_t m = (uint32_t)seq - 1;
			tb_test_join(&j, m, names[m - 1], &g_mem[m], MEMBER_FLOOR, 0);
			len = tb_test_seal_at(rec, &g_comm, seq, prev, TS0 + seq,
					      TB_KIND_MEMBER_JOIN, &j);
		} else {
			/* Back and forth between two members: no limit is met. */
			uint32_t p = 1 + (uint32_t)(seq % 2), q = 3 - p;
			struct tb_test_exchange tx;
			tb_test_exchange(&tx, g_comm.pk.b, 90000 + seq, p, q, 30, &g_mem[p],
					 seq == BADCONSENT ? &g_wrong : &g_mem[q]);
			len = tb_test_seal_at(rec, &g_comm, seq, prev, TS0 + seq, TB_KIND_EXCHANGE,
					      &tx.x);
		}
		if (seq == FORGED1 || seq == FORGED2)
			rec[len - 1] ^= 1; /* the signature's last byte */
		tb_test_recs_add(&r, rec, len);
		tb_entry_hash(prev, rec, len);
	}
	struct xbuf x;
	struct tb_audit_summary sum;
	x_history(&x, &r);
	audit_one(&x, &sum);
	if (g_vl.total != 3)
		print_violations();
	assert_int_equal(g_vl.total, 3);
	assert_int_equal(find_violation(TB_EBADSIG, FORGED1), 0);
	assert_int_equal(find_violation(TB_ECONSENT, BADCONSENT), 1);
	assert_int_equal(find_violation(TB_EBADSIG, FORGED2), 2);
	assert_int_equal(sum.entries, N);
	x_free(&x);
	tb_test_recs_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_forged_signature),
		cmocka_unit_test(test_reordered),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_duplicate_tx),
		cmocka_unit_test(test_limit_breach),
		cmocka_unit_test(test_bad_consent),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_checkpoint_tampered),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_unbalanced_leg),
		cmocka_unit_test(test_mismatched_clearing),
		cmocka_unit_test(test_two_sources),
		cmocka_unit_test(test_two_communities),
		cmocka_unit_test(test_data_dir),
		cmocka_unit_test(test_since),
		cmocka_unit_test(test_coordinator_kinds),
		cmocka_unit_test(test_long_history),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
