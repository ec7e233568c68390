/*
 * test_forks.c: forks that only a holder of a log's key can make, on real
 * stores (issue 11, finding 5). The same entry signed twice (another valid
 * Ed25519 signature over the same signed part) gives two records with two
 * entry hashes, so the entries after it chain to one copy or the other:
 * each store refuses the other copy as a conflict, keeps the pair as the
 * log's fork proof and freezes the log, while other logs keep being taken.
 * A byte-identical copy is still a duplicate, and the auditor names the
 * fork when two data directories hold the two copies. A checkpoint whose
 * root contradicts the entries held is kept as a fork proof the auditor
 * checks against the log.
 */
#include "rogue.h"
#include "testutil.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EVIL 7101   /* key pair number of the log signed twice */
#define HONEST 7102 /* another community's log */
#define NEX 6	    /* exchanges after the genesis and two joins */
#define K 5	    /* the seq signed twice */

struct world {
	struct tb_test_recs evil, evil2, honest; /* evil2: the other branch */
	uint8_t evil_id[TB_KEY_LEN];
	struct tb_keypair evil_kp;
};

static void build_log(struct tb_test_log *l, struct tb_test_recs *r, const char *name,
		      uint32_t keyno)
{
	struct tb_genesis g;
	tb_test_genesis(&g, name, -600, 0);
	tb_test_log_add(l, r, TB_KIND_GENESIS, &g);
	struct tb_keypair m1, m2;
	tb_test_keypair(&m1, keyno * 10 + 1);
	tb_test_keypair(&m2, keyno * 10 + 2);
	struct tb_member_join j;
	tb_test_join(&j, 1, "ann", &m1, -600, 0);
	tb_test_log_add(l, r, TB_KIND_MEMBER_JOIN, &j);
	tb_test_join(&j, 2, "bob", &m2, -600, 0);
	tb_test_log_add(l, r, TB_KIND_MEMBER_JOIN, &j);
	for (uint64_t i = 0; i < NEX; i++) {
		struct tb_test_exchange tx;
		tb_test_exchange(&tx, l->kp.pk.b, 500 + i, 1 + (uint32_t)(i % 2),
				 2 - (uint32_t)(i % 2), 30, NULL, NULL);
		tb_test_log_add(l, r, TB_KIND_EXCHANGE, &tx.x);
	}
	tb_keypair_wipe(&m1);
	tb_keypair_wipe(&m2);
}

/* The evil log, and its other branch: the same up to K - 1, entry K signed
 * again, and the rest of the log chained on that copy. */
static void build_world(struct world *w)
{
	memset(w, 0, sizeof *w);
	struct tb_test_log l, h;
	tb_test_log_init(&l, EVIL);
	tb_test_log_init(&h, HONEST);
	w->evil_kp = l.kp;
	memcpy(w->evil_id, l.kp.pk.b, TB_KEY_LEN);
	build_log(&l, &w->evil, "evil", EVIL);
	build_log(&h, &w->honest, "honest", HONEST);

	const struct tb_view *v = tb_test_recs_views(&w->evil, 0);
	for (size_t i = 0; i + 1 < K; i++)
		tb_test_recs_add(&w->evil2, v[i].p, v[i].len);
	uint8_t alt[TB_ENTRY_MAX], rec[TB_ENTRY_MAX], prev[TB_HASHLEN];
	size_t alen = tb_rogue_resign(alt, v[K - 1].p, v[K - 1].len, &w->evil_kp, 1);
	assert_int_equal(alen, v[K - 1].len);
	assert_memory_equal(alt, v[K - 1].p, alen - TB_SIGLEN);
	tb_test_recs_add(&w->evil2, alt, alen);
	tb_entry_hash(prev, alt, alen);
	for (size_t i = K; i < w->evil.n; i++) {
		/* The same signed part but for prev, which now names the copy. */
		struct tb_entry e;
		v = tb_test_recs_views(&w->evil, 0);
		assert_int_equal(tb_entry_decode(&e, v[i].p, v[i].len), 0);
		size_t len = tb_test_seal_at(rec, &w->evil_kp, e.seq, prev, e.timestamp, e.kind,
					     &e.body);
		tb_test_recs_add(&w->evil2, rec, len);
		tb_entry_hash(prev, rec, len);
	}
}

static void free_world(struct world *w)
{
	tb_test_recs_free(&w->evil);
	tb_test_recs_free(&w->evil2);
	tb_test_recs_free(&w->honest);
	tb_keypair_wipe(&w->evil_kp);
}

static struct tb_store *open_store(char **dir, const char *tag)
{
	struct tb_store *s = NULL;
	*dir = tb_test_scratchdir(tag);
	assert_int_equal(tb_store_open(&s, *dir, 0), 0);
	return s;
}

static void append_ok(struct tb_store *s, struct tb_test_recs *r, size_t from, size_t to)
{
	size_t acc = 0;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(s, tb_test_recs_views(r, from), to - from, &acc, &rej), 0);
	assert_int_equal(acc, to - from);
}

/* What a node does with a refused record (node/daemon/ingest.c): a
 * conflict at a held seq is checked as a fork. Then the store must hold
 * the proof (held, incoming) and the log must be frozen. */
static void expect_fork_kept(struct tb_store *s, const uint8_t *log_id, const struct tb_view *held,
			     const struct tb_view *in)
{
	assert_int_equal(tb_store_fork_check(s, in->p, in->len), 0);
	struct tb_test_forks *fs = tb_test_forks_read(s);
	assert_int_equal(fs->n, 1);
	assert_int_equal(fs->seq, K);
	assert_int_equal(fs->alen, held->len);
	assert_memory_equal(fs->a, held->p, held->len);
	assert_int_equal(fs->blen, in->len);
	assert_memory_equal(fs->b, in->p, in->len);
	free(fs);
	struct tb_head h;
	assert_int_equal(tb_store_head(s, log_id, &h), 0);
	assert_true(h.flags & TB_LOG_FORKED);
}

/* Two stores on the two branches: each refuses the other's copy of entry K
 * as a conflict (ECONFLICT, not skipped as a duplicate), keeps the proof and
 * freezes the log; the rest of the other branch meets a frozen log; the
 * honest log sent in the same stream is still taken. */
static void test_resigned_both_stores(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	build_world(w);
	char *da, *db;
	struct tb_store *a = open_store(&da, "forks-a"), *b = open_store(&db, "forks-b");
	append_ok(a, &w->evil, 0, w->evil.n);
	append_ok(b, &w->evil2, 0, w->evil2.n);

	struct tb_store *st[2] = {a, b};
	struct tb_test_recs *mine[2] = {&w->evil, &w->evil2}, *theirs[2] = {&w->evil2, &w->evil};
	for (int i = 0; i < 2; i++) {
		struct tb_view held = tb_test_recs_views(mine[i], 0)[K - 1];
		struct tb_view in = tb_test_recs_views(theirs[i], 0)[K - 1];
		size_t acc = 7;
		struct tb_reject rej;
		/* The other branch from K on, as a peer on it sends it after a
		 * heads exchange found the head hashes differ (PROTOCOL.md 7.3). */
		assert_int_equal(tb_store_append(st[i], tb_test_recs_views(theirs[i], K - 1),
						 theirs[i]->n - (K - 1), &acc, &rej),
				 TB_ECONFLICT);
		assert_int_equal(acc, 0);
		assert_int_equal(rej.seq, K);
		assert_memory_equal(rej.log_id, w->evil_id, TB_KEY_LEN);
		expect_fork_kept(st[i], w->evil_id, &held, &in);
		/* The next record of the other branch: the log is frozen. */
		assert_int_equal(
			tb_store_append(st[i], tb_test_recs_views(theirs[i], K), 1, &acc, &rej),
			TB_EFORKED);
		/* Another log keeps flowing. */
		append_ok(st[i], &w->honest, 0, w->honest.n);
		struct tb_head h;
		assert_int_equal(tb_store_head(st[i], w->evil_id, &h), 0);
		assert_int_equal(h.seq, mine[i]->n);
	}
	tb_store_free(a);
	tb_store_free(b);
	tb_test_rmrf(da);
	tb_test_rmrf(db);
	free_world(w);
	free(w);
}

/* A byte-identical copy is a duplicate (accepted, no effect) and proves
 * nothing; the re-signed pair is a proof wherever it goes, also to a store
 * that does not hold the log, and as the bytes a FORK or a succession
 * carries. */
static void test_resigned_proof(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	build_world(w);
	char *d;
	struct tb_store *s = open_store(&d, "forks-p");
	append_ok(s, &w->evil, 0, w->evil.n);
	size_t acc = 0;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(s, tb_test_recs_views(&w->evil, K - 1), 1, &acc, &rej), 0);
	assert_int_equal(acc, 1);
	struct tb_view x = tb_test_recs_views(&w->evil, 0)[K - 1];
	struct tb_view y = tb_test_recs_views(&w->evil2, 0)[K - 1];
	assert_int_equal(tb_store_fork_check(s, x.p, x.len), TB_ENOTFOUND);
	assert_int_equal(tb_store_fork_add(s, x.p, x.len, x.p, x.len), TB_EPROOF);
	struct tb_head h;
	assert_int_equal(tb_store_head(s, w->evil_id, &h), 0);
	assert_false(h.flags & TB_LOG_FORKED);

	/* As a FORK message or a succession carries it. */
	uint8_t *p = malloc(2 + x.len + y.len), lid[TB_KEY_LEN];
	assert_non_null(p);
	p[0] = (uint8_t)(x.len >> 8);
	p[1] = (uint8_t)x.len;
	memcpy(p + 2, x.p, x.len);
	memcpy(p + 2 + x.len, y.p, y.len);
	uint64_t seq = 0;
	assert_int_equal(tb_fork_proof_check(p, 2 + x.len + y.len, lid, &seq), 0);
	assert_int_equal(seq, K);
	assert_memory_equal(lid, w->evil_id, TB_KEY_LEN);
	/* A flipped bit in the second signature: no proof. */
	p[1 + x.len + y.len] ^= 1;
	assert_int_equal(tb_fork_proof_check(p, 2 + x.len + y.len, lid, &seq), TB_EBADSIG);
	free(p);

	assert_int_equal(tb_store_fork_add(s, x.p, x.len, y.p, y.len), 1);
	assert_int_equal(tb_store_fork_add(s, y.p, y.len, x.p, x.len), 0);
	assert_int_equal(tb_store_head(s, w->evil_id, &h), 0);
	assert_true(h.flags & TB_LOG_FORKED);
	tb_store_free(s);
	tb_test_rmrf(d);

	/* A store that does not hold the log: frozen before its first entry. */
	s = open_store(&d, "forks-q");
	assert_int_equal(tb_store_fork_add(s, y.p, y.len, x.p, x.len), 1);
	assert_int_equal(tb_store_append(s, tb_test_recs_views(&w->evil, 0), 1, &acc, &rej),
			 TB_EFORKED);
	append_ok(s, &w->honest, 0, w->honest.n);
	tb_store_free(s);
	tb_test_rmrf(d);
	free_world(w);
	free(w);
}

struct vl {
	size_t n, forked_at;
	uint64_t forked_seq;
};

static void collect(void *ctx, const struct tb_violation *v)
{
	struct vl *l = ctx;
	if (v->r.err == TB_EFORKED && !l->forked_at) {
		l->forked_at = l->n + 1;
		l->forked_seq = v->r.seq;
	}
	l->n++;
}

/* The auditor given the two data directories names the fork at K. */
static void test_resigned_audit(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	build_world(w);
	char *da, *db;
	struct tb_store *a = open_store(&da, "forks-aa"), *b = open_store(&db, "forks-ab");
	append_ok(a, &w->evil, 0, w->evil.n);
	append_ok(b, &w->evil2, 0, w->evil2.n);
	tb_store_free(a);
	tb_store_free(b);
	char *tmp = tb_test_scratchdir("forks-audit");
	struct tb_audit *au = NULL;
	struct vl vl = {0};
	struct tb_audit_summary sum;
	assert_int_equal(tb_audit_new(&au, tmp, collect, &vl), 0);
	tb_audit_set_threads(au, 1);
	assert_int_equal(tb_audit_add_dir(au, da), 0);
	assert_int_equal(tb_audit_add_dir(au, db), 0);
	assert_int_equal(tb_audit_finish(au, &sum), 0);
	tb_audit_free(au);
	assert_true(vl.forked_at > 0);
	assert_int_equal(vl.forked_seq, K);
	tb_test_rmrf(tmp);
	tb_test_rmrf(da);
	tb_test_rmrf(db);
	free_world(w);
	free(w);
}

/* A contradicting checkpoint becomes the log's fork proof in a data
 * directory, and the auditor, given that directory, names the fork at the
 * checkpoint's size (the proof checked against the log it holds). */
static void test_checkpoint_proof_audit(void **state)
{
	(void)state;
	struct world *w = malloc(sizeof *w);
	assert_non_null(w);
	build_world(w);
	char *d;
	struct tb_store *s = open_store(&d, "forks-cp");
	append_ok(s, &w->evil, 0, w->evil.n);
	append_ok(s, &w->honest, 0, w->honest.n);
	struct tb_checkpoint cp = {0};
	memcpy(cp.log_id, w->evil_id, TB_KEY_LEN);
	cp.size = K;
	assert_int_equal(tb_store_root(s, w->evil_id, K, cp.root), 0);
	cp.root[0] ^= 1;
	cp.timestamp = 1750000000;
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	assert_int_equal(tb_checkpoint_seal(buf, sizeof buf, &len, &cp, &w->evil_kp), 0);
	assert_int_equal(tb_store_checkpoint_put(s, buf, len), TB_EFORKED);
	tb_store_free(s);

	char *tmp = tb_test_scratchdir("forks-cpaudit");
	struct tb_audit *au = NULL;
	struct vl vl = {0};
	struct tb_audit_summary sum;
	assert_int_equal(tb_audit_new(&au, tmp, collect, &vl), 0);
	tb_audit_set_threads(au, 1);
	assert_int_equal(tb_audit_add_dir(au, d), 0);
	assert_int_equal(tb_audit_finish(au, &sum), 0);
	tb_audit_free(au);
	assert_true(vl.forked_at > 0);
	assert_int_equal(vl.forked_seq, K);
	assert_int_equal(sum.forks, 1);
	tb_test_rmrf(tmp);
	tb_test_rmrf(d);
	free_world(w);
	free(w);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resigned_both_stores),
		cmocka_unit_test(test_resigned_proof),
		cmocka_unit_test(test_resigned_audit),
		cmocka_unit_test(test_checkpoint_proof_audit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
