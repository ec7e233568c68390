/*
 * test_succession_rules.c: the succession rule (kind 14, FORMAT.md 7.11) and what
 * verify and audit make of it. A community's log O forks at seq 5 (two
 * validly signed entries 5); its coordinator starts log N whose entry 2
 * succeeds O, keeping branch A. The store accepts that succession and finds
 * it as O's successor; it refuses one without a fork proof (none, a proof
 * of two equal records, of another log, a checkpoint proof), one signed by
 * another key than O's, one not at entry 2, one naming its own log. The
 * audit of a data directory holding O, its fork proof and N reports the fork
 * as a fork explained by N (no violation) and says whether the copy it holds
 * is the kept branch; an export carrying a forged succession fails verify
 * with ESUCCESSION; two successors of one log are a violation.
 */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define OLD_KEY 401
#define NEW_KEY 402
#define OTHER_KEY 403
#define THIRD_KEY 404

struct fixture {
	struct tb_test_log old;			  /* O, up to entry 4 (common to both branches) */
	struct tb_test_recs common;		  /* O's entries 1..4 */
	uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX]; /* O's two entries 5 */
	size_t alen, blen;
	uint8_t hash_a[TB_HASHLEN], hash_b[TB_HASHLEN];
	uint8_t proof[2 + 2 * TB_ENTRY_MAX];
	size_t plen;
	struct tb_keypair m1, m2;
};

static struct fixture g;

static void exchange5(struct tb_exchange *x, uint64_t txno, uint64_t minutes)
{
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, g.old.kp.pk.b, txno, 1, 2, minutes, NULL, NULL);
	*x = tx.x;
}

static int setup(void **state)
{
	(void)state;
	memset(&g, 0, sizeof g);
	tb_test_log_init(&g.old, OLD_KEY);
	tb_test_keypair(&g.m1, 410);
	tb_test_keypair(&g.m2, 411);
	struct tb_genesis gen;
	struct tb_member_join j;
	tb_test_genesis(&gen, "Riverside", -600, 0);
	tb_test_log_add(&g.old, &g.common, TB_KIND_GENESIS, &gen);
	tb_test_join(&j, 1, "alice", &g.m1, -600, 0);
	tb_test_log_add(&g.old, &g.common, TB_KIND_MEMBER_JOIN, &j);
	tb_test_join(&j, 2, "bob", &g.m2, -600, 0);
	tb_test_log_add(&g.old, &g.common, TB_KIND_MEMBER_JOIN, &j);
	struct tb_exchange x;
	exchange5(&x, 1, 60);
	tb_test_log_add(&g.old, &g.common, TB_KIND_EXCHANGE, &x);
	/* The fork: two copies of the data directory each record an entry 5. */
	exchange5(&x, 2, 30);
	g.alen = tb_test_seal_next(&g.old, g.a, TB_KIND_EXCHANGE, &x);
	exchange5(&x, 3, 45);
	g.blen = tb_test_seal_next(&g.old, g.b, TB_KIND_EXCHANGE, &x);
	tb_entry_hash(g.hash_a, g.a, g.alen);
	tb_entry_hash(g.hash_b, g.b, g.blen);
	g.proof[0] = (uint8_t)(g.alen >> 8);
	g.proof[1] = (uint8_t)g.alen;
	memcpy(g.proof + 2, g.a, g.alen);
	memcpy(g.proof + 2 + g.alen, g.b, g.blen);
	g.plen = 2 + g.alen + g.blen;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_test_recs_free(&g.common);
	return 0;
}

/* A succession body keeping branch A, signed by `signer` for log `log_id`. */
static void succession(struct tb_succession *s, uint8_t sig[TB_SIGLEN],
		       const uint8_t log_id[TB_KEY_LEN], const struct tb_keypair *signer,
		       const uint8_t *proof, size_t plen)
{
	memset(s, 0, sizeof *s);
	memcpy(s->old_log, g.old.kp.pk.b, TB_KEY_LEN);
	s->kept_seq = 5;
	memcpy(s->kept_hash, g.hash_a, TB_HASHLEN);
	s->fork_proof = (struct tb_view){proof, plen};
	struct tb_succession_terms t;
	uint8_t buf[256];
	size_t len;
	tb_succession_terms_of(&t, log_id, s);
	assert_int_equal(tb_terms_encode(buf, sizeof buf, &len, &tb_def_succession_terms, &t), 0);
	tb_sign(sig, signer, TB_CTX_SUCCESSION, buf, len);
	memcpy(s->old_sig, sig, TB_SIGLEN);
}

/* The new log's genesis and succession (as given) into r. */
static void new_log(struct tb_test_log *l, struct tb_test_recs *r, const struct tb_succession *s)
{
	struct tb_genesis gen;
	tb_test_genesis(&gen, "Riverside", -600, 0);
	tb_test_log_add(l, r, TB_KIND_GENESIS, &gen);
	tb_test_log_add(l, r, TB_KIND_SUCCESSION, s);
}

/* A store holding O's branch A (entries 1..5) and its fork proof. */
static struct tb_store *forked_store(char **dir)
{
	struct tb_store *s;
	*dir = tb_test_scratchdir("succ");
	assert_int_equal(tb_store_open(&s, *dir, 0), 0);
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(
		tb_store_append(s, tb_test_recs_views(&g.common, 0), g.common.n, &acc, &rej), 0);
	struct tb_view a = {g.a, g.alen};
	assert_int_equal(tb_store_append(s, &a, 1, &acc, &rej), 0);
	assert_int_equal(tb_store_fork_add(s, g.a, g.alen, g.b, g.blen), 1);
	return s;
}

static int append_all(struct tb_store *s, struct tb_test_recs *r, struct tb_reject *rej)
{
	size_t acc;
	return tb_store_append(s, tb_test_recs_views(r, 0), r->n, &acc, rej);
}

static void test_accepted(void **state)
{
	(void)state;
	char *dir;
	struct tb_store *s = forked_store(&dir);
	struct tb_test_log n;
	struct tb_test_recs r = {0};
	struct tb_succession body;
	uint8_t sig[TB_SIGLEN];
	tb_test_log_init(&n, NEW_KEY);
	succession(&body, sig, n.kp.pk.b, &g.old.kp, g.proof, g.plen);
	new_log(&n, &r, &body);
	/* The community goes on in N: members join again, an exchange. */
	struct tb_member_join j;
	tb_test_join(&j, 1, "alice", &g.m1, -600, 0);
	tb_test_log_add(&n, &r, TB_KIND_MEMBER_JOIN, &j);
	struct tb_reject rej;
	assert_int_equal(append_all(s, &r, &rej), 0);

	struct tb_successor succ;
	size_t cnt;
	assert_int_equal(tb_store_successor(s, g.old.kp.pk.b, &succ, &cnt), 0);
	assert_int_equal(cnt, 1);
	assert_memory_equal(succ.new_log, n.kp.pk.b, TB_KEY_LEN);
	assert_int_equal(succ.kept_seq, 5);
	assert_int_equal(succ.fork_seq, 5);
	assert_memory_equal(succ.kept_hash, g.hash_a, TB_HASHLEN);
	assert_int_equal(tb_store_successor(s, n.kp.pk.b, &succ, &cnt), TB_ENOTFOUND);
	tb_store_free(s);

	/* verify: the fork is explained, not a violation. */
	struct tb_verify_report rep;
	char *tmp = tb_test_scratchdir("succv");
	assert_int_equal(tb_verify_dir(dir, tmp, &rep), 0);
	assert_int_equal(rep.succeeded, 1);
	tb_test_rmrf(tmp);
	tb_test_recs_free(&r);
	tb_test_rmrf(dir);
}

/* Appends N's genesis and a succession made by edit(); returns the error. */
static int try_succession(uint32_t key, const struct tb_succession *body, bool at3,
			  struct tb_reject *rej)
{
	char *dir;
	struct tb_store *s = forked_store(&dir);
	struct tb_test_log n;
	struct tb_test_recs r = {0};
	tb_test_log_init(&n, key);
	struct tb_genesis gen;
	tb_test_genesis(&gen, "Riverside", -600, 0);
	tb_test_log_add(&n, &r, TB_KIND_GENESIS, &gen);
	if (at3) {
		struct tb_member_join j;
		tb_test_join(&j, 1, "alice", &g.m1, -600, 0);
		tb_test_log_add(&n, &r, TB_KIND_MEMBER_JOIN, &j);
	}
	tb_test_log_add(&n, &r, TB_KIND_SUCCESSION, body);
	int err = append_all(s, &r, rej);
	struct tb_successor succ;
	size_t cnt;
	/* Nothing refused counts as a successor. */
	if (err)
		assert_int_equal(tb_store_successor(s, g.old.kp.pk.b, &succ, &cnt), TB_ENOTFOUND);
	tb_store_free(s);
	tb_test_recs_free(&r);
	tb_test_rmrf(dir);
	return err;
}

static void test_refused(void **state)
{
	(void)state;
	struct tb_succession body;
	struct tb_reject rej;
	uint8_t sig[TB_SIGLEN];
	struct tb_keypair nk, other;
	tb_test_keypair(&nk, NEW_KEY);
	tb_test_keypair(&other, OTHER_KEY);

	/* Signed by another key than the old log's. */
	succession(&body, sig, nk.pk.b, &other, g.proof, g.plen);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_ESUCCESSION);
	assert_non_null(strstr(rej.msg, "not signed by the key"));
	/* Signed for another new log. */
	succession(&body, sig, other.pk.b, &g.old.kp, g.proof, g.plen);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_ESUCCESSION);

	/* Without a fork proof: empty, equal records, truncated. */
	uint8_t none[2] = {0, 0};
	succession(&body, sig, nk.pk.b, &g.old.kp, none, sizeof none);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_EPROOF);
	assert_non_null(strstr(rej.msg, "fork proof"));
	uint8_t same[2 + 2 * TB_ENTRY_MAX];
	same[0] = (uint8_t)(g.alen >> 8);
	same[1] = (uint8_t)g.alen;
	memcpy(same + 2, g.a, g.alen);
	memcpy(same + 2 + g.alen, g.a, g.alen);
	succession(&body, sig, nk.pk.b, &g.old.kp, same, 2 + 2 * g.alen);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_EPROOF);
	succession(&body, sig, nk.pk.b, &g.old.kp, g.proof, 2 + g.alen + 10);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_EPROOF);
	/* A checkpoint proof cannot be checked alone. */
	uint8_t cpp[2 + 2 * TB_ENTRY_MAX];
	memcpy(cpp, g.proof, g.plen);
	cpp[2] = 0x94;
	succession(&body, sig, nk.pk.b, &g.old.kp, cpp, g.plen);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_EPROOF);

	/* A valid fork proof of another log. */
	struct tb_test_log t;
	uint8_t t1[TB_ENTRY_MAX], t2[TB_ENTRY_MAX], tp[2 + 2 * TB_ENTRY_MAX];
	struct tb_genesis gen;
	tb_test_log_init(&t, THIRD_KEY);
	tb_test_genesis(&gen, "Hillside", -600, 0);
	size_t l1 = tb_test_seal_next(&t, t1, TB_KIND_GENESIS, &gen);
	tb_test_genesis(&gen, "Hillside2", -600, 0);
	size_t l2 = tb_test_seal_next(&t, t2, TB_KIND_GENESIS, &gen);
	tp[0] = (uint8_t)(l1 >> 8);
	tp[1] = (uint8_t)l1;
	memcpy(tp + 2, t1, l1);
	memcpy(tp + 2 + l1, t2, l2);
	succession(&body, sig, nk.pk.b, &g.old.kp, tp, 2 + l1 + l2);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_EPROOF);
	assert_non_null(strstr(rej.msg, "another log"));

	/* Not entry 2; a log naming itself. */
	succession(&body, sig, nk.pk.b, &g.old.kp, g.proof, g.plen);
	assert_int_equal(try_succession(NEW_KEY, &body, true, &rej), TB_ESUCCESSION);
	assert_non_null(strstr(rej.msg, "entry 2"));
	succession(&body, sig, nk.pk.b, &g.old.kp, g.proof, g.plen);
	memcpy(body.old_log, nk.pk.b, TB_KEY_LEN);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), TB_ESUCCESSION);
	assert_non_null(strstr(rej.msg, "itself"));

	/* The valid one, for contrast. */
	succession(&body, sig, nk.pk.b, &g.old.kp, g.proof, g.plen);
	assert_int_equal(try_succession(NEW_KEY, &body, false, &rej), 0);
}

/* ---- export images for verify and audit ---- */

struct xbuf {
	uint8_t *p;
	size_t len;
	uint64_t items;
};

static void x_raw(struct xbuf *x, const void *p, size_t len)
{
	x->p = realloc(x->p, x->len + len);
	assert_non_null(x->p);
	memcpy(x->p + x->len, p, len);
	x->len += len;
}

static void x_item(struct xbuf *x, enum tb_export_item type, const void *p, size_t len)
{
	uint8_t h[5];
	tb_export_item_header(h, type, (uint32_t)len);
	x_raw(x, h, sizeof h);
	x_raw(x, p, len);
	x->items++;
}

/* O's common entries, then `five` as entry 5, optionally the fork proof,
 * then the records of r (other logs, in ascending log id order given). */
static void x_build(struct xbuf *x, const uint8_t *five, size_t flen, bool fork,
		    struct tb_test_recs *const *logs, size_t nlogs)
{
	memset(x, 0, sizeof *x);
	uint8_t h[9];
	tb_export_header(h);
	x_raw(x, h, sizeof h);
	/* Logs in ascending byte order of log id (FORMAT.md 10.3). */
	struct tb_test_recs *order[4] = {NULL}; /* NULL: the old log */
	size_t n = 1;
	for (size_t i = 0; i < nlogs && n < 4; i++)
		order[n++] = logs[i];
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++) {
			struct tb_entry ei, ek;
			uint8_t idi[TB_KEY_LEN], idk[TB_KEY_LEN];
			const struct tb_view *vi =
				order[i] ? tb_test_recs_views(order[i], 0) : NULL;
			const struct tb_view *vk =
				order[k] ? tb_test_recs_views(order[k], 0) : NULL;
			if (vi)
				assert_int_equal(tb_entry_decode(&ei, vi[0].p, vi[0].len), 0);
			if (vk)
				assert_int_equal(tb_entry_decode(&ek, vk[0].p, vk[0].len), 0);
			memcpy(idi, vi ? ei.log_id : g.old.kp.pk.b, TB_KEY_LEN);
			memcpy(idk, vk ? ek.log_id : g.old.kp.pk.b, TB_KEY_LEN);
			if (memcmp(idi, idk, TB_KEY_LEN) > 0) {
				struct tb_test_recs *t = order[i];
				order[i] = order[k];
				order[k] = t;
			}
		}
	for (size_t i = 0; i < n; i++) {
		if (!order[i]) {
			const struct tb_view *v = tb_test_recs_views(&g.common, 0);
			for (size_t k = 0; k < g.common.n; k++)
				x_item(x, TB_EXPORT_ENTRY, v[k].p, v[k].len);
			x_item(x, TB_EXPORT_ENTRY, five, flen);
			continue;
		}
		const struct tb_view *v = tb_test_recs_views(order[i], 0);
		for (size_t k = 0; k < order[i]->n; k++)
			x_item(x, TB_EXPORT_ENTRY, v[k].p, v[k].len);
	}
	if (fork)
		x_item(x, TB_EXPORT_FORK, g.proof, g.plen);
	uint8_t eh[5], cnt[8];
	tb_export_item_header(eh, TB_EXPORT_END, 8);
	tb_be64_put(cnt, x->items);
	x_raw(x, eh, sizeof eh);
	x_raw(x, cnt, sizeof cnt);
}

struct vlist {
	struct tb_reject v[32];
	size_t n;
};

static void collect(void *ctx, const struct tb_violation *v)
{
	struct vlist *l = ctx;
	if (l->n < 32)
		l->v[l->n++] = v->r;
}

static void audit_x(const struct xbuf *x, struct vlist *vl, struct tb_audit_summary *sum)
{
	char *tmp = tb_test_scratchdir("succa");
	struct tb_audit *a;
	memset(vl, 0, sizeof *vl);
	assert_int_equal(tb_audit_new(&a, tmp, collect, vl), 0);
	assert_int_equal(tb_audit_add_export(a, x->p, x->len), 0);
	assert_int_equal(tb_audit_finish(a, sum), 0);
	tb_audit_free(a);
	tb_test_rmrf(tmp);
	for (size_t i = 0; i < vl->n; i++)
		print_message("  violation [%s] seq %llu: %s\n", tb_errname(vl->v[i].err),
			      (unsigned long long)vl->v[i].seq, vl->v[i].msg);
}

static void test_audit_story(void **state)
{
	(void)state;
	struct tb_test_log n;
	struct tb_test_recs r = {0};
	struct tb_succession body;
	uint8_t sig[TB_SIGLEN];
	tb_test_log_init(&n, NEW_KEY);
	succession(&body, sig, n.kp.pk.b, &g.old.kp, g.proof, g.plen);
	new_log(&n, &r, &body);
	struct tb_test_recs *logs[1] = {&r};
	struct xbuf x;
	struct vlist vl;
	struct tb_audit_summary sum;

	/* The kept branch and the fork proof: a fork, told, no violation. */
	x_build(&x, g.a, g.alen, true, logs, 1);
	audit_x(&x, &vl, &sum);
	assert_int_equal(sum.violations, 0);
	assert_int_equal(sum.forks, 1);
	assert_int_equal(sum.succeeded, 1);
	assert_int_equal(sum.stories[0].kept_held, 1);
	assert_int_equal(sum.stories[0].s.fork_seq, 5);
	assert_memory_equal(sum.stories[0].s.new_log, n.kp.pk.b, TB_KEY_LEN);
	free(x.p);

	/* The dropped branch, no FORK item: the succession's proof tells. */
	x_build(&x, g.b, g.blen, false, logs, 1);
	audit_x(&x, &vl, &sum);
	assert_int_equal(sum.violations, 0);
	assert_int_equal(sum.forks, 1);
	assert_int_equal(sum.succeeded, 1);
	assert_int_equal(sum.stories[0].kept_held, 0);
	free(x.p);

	/* A fork with no successor stays a violation. */
	x_build(&x, g.a, g.alen, true, NULL, 0);
	audit_x(&x, &vl, &sum);
	assert_int_equal(sum.violations, 1);
	assert_int_equal(vl.v[0].err, TB_EFORKED);
	assert_int_equal(sum.succeeded, 0);
	free(x.p);

	/* A second successor: the old key handed over twice. */
	struct tb_test_log n2;
	struct tb_test_recs r2 = {0};
	tb_test_log_init(&n2, OTHER_KEY);
	succession(&body, sig, n2.kp.pk.b, &g.old.kp, g.proof, g.plen);
	new_log(&n2, &r2, &body);
	struct tb_test_recs *two[2] = {&r, &r2};
	x_build(&x, g.a, g.alen, true, two, 2);
	audit_x(&x, &vl, &sum);
	assert_true(sum.violations >= 1);
	bool found = false;
	for (size_t i = 0; i < vl.n; i++)
		found |= vl.v[i].err == TB_ESUCCESSION;
	assert_true(found);
	free(x.p);
	tb_test_recs_free(&r2);
	tb_test_recs_free(&r);
}

static void test_verify_forged(void **state)
{
	(void)state;
	struct tb_test_log n;
	struct tb_test_recs r = {0};
	struct tb_succession body;
	uint8_t sig[TB_SIGLEN];
	struct tb_keypair other;
	tb_test_keypair(&other, OTHER_KEY);
	tb_test_log_init(&n, NEW_KEY);
	/* Signed by another key than the old log's. */
	succession(&body, sig, n.kp.pk.b, &other, g.proof, g.plen);
	new_log(&n, &r, &body);
	struct tb_test_recs *logs[1] = {&r};
	struct xbuf x;
	x_build(&x, g.a, g.alen, true, logs, 1);
	char *tmp = tb_test_scratchdir("succf");
	struct tb_verify_report rep;
	int err = tb_verify_export(x.p, x.len, tmp, &rep);
	/* The fork proof (EFORKED, unexplained) or the forged succession,
	 * whichever comes first in FORMAT.md 11.1's order: the rules come
	 * before the fork proofs. */
	assert_int_equal(err, TB_ESUCCESSION);
	assert_memory_equal(rep.where.log_id, n.kp.pk.b, TB_KEY_LEN);
	assert_int_equal(rep.where.seq, 2);
	assert_int_equal(rep.succeeded, 0);
	free(x.p);
	tb_test_recs_free(&r);

	/* Without a fork proof (its proof field is two equal records). */
	uint8_t same[2 + 2 * TB_ENTRY_MAX];
	same[0] = (uint8_t)(g.alen >> 8);
	same[1] = (uint8_t)g.alen;
	memcpy(same + 2, g.a, g.alen);
	memcpy(same + 2 + g.alen, g.a, g.alen);
	memset(&r, 0, sizeof r);
	tb_test_log_init(&n, NEW_KEY);
	succession(&body, sig, n.kp.pk.b, &g.old.kp, same, 2 + 2 * g.alen);
	new_log(&n, &r, &body);
	x_build(&x, g.a, g.alen, false, logs, 1);
	assert_int_equal(tb_verify_export(x.p, x.len, tmp, &rep), TB_EPROOF);
	assert_int_equal(rep.where.seq, 2);
	free(x.p);
	tb_test_recs_free(&r);
	tb_test_rmrf(tmp);
}

/* ---- legs addressed to the forked log (PROTOCOL.md 12.6) ---- */

#define PAYER_KEY 405
#define FAR_EXPIRY 4000000000u

struct legs {
	char *dir;
	struct tb_store *s;
	struct tb_test_log p, n;
	struct tb_test_recs pr, nr;
	struct tb_test_xprepare tp;
	struct tb_keypair carol;
};

/* O forked (branch A held, with the proof); P ("Hillside") trusts O and
 * its member carol pays alice@O 30 minutes (txid 101), which no branch of
 * O decided; N succeeds O keeping A. */
static void legs_init(struct legs *l)
{
	memset(l, 0, sizeof *l);
	l->s = forked_store(&l->dir);
	tb_test_log_init(&l->p, PAYER_KEY);
	tb_test_log_init(&l->n, NEW_KEY);
	tb_test_keypair(&l->carol, 412);
	struct tb_genesis gen;
	struct tb_member_join j;
	struct tb_link link;
	tb_test_genesis(&gen, "Hillside", -600, 0);
	tb_test_log_add(&l->p, &l->pr, TB_KIND_GENESIS, &gen);
	tb_test_join(&j, 1, "carol", &l->carol, -600, 0);
	tb_test_log_add(&l->p, &l->pr, TB_KIND_MEMBER_JOIN, &j);
	tb_test_link(&link, g.old.kp.pk.b, 600);
	tb_test_log_add(&l->p, &l->pr, TB_KIND_LINK, &link);
	tb_test_xprepare(&l->tp, l->p.kp.pk.b, 101, 1, g.old.kp.pk.b, "alice", 30, FAR_EXPIRY,
			 NULL);
	tb_test_log_add(&l->p, &l->pr, TB_KIND_XPREPARE, &l->tp.x);
	struct tb_succession body;
	uint8_t sig[TB_SIGLEN];
	succession(&body, sig, l->n.kp.pk.b, &g.old.kp, g.proof, g.plen);
	new_log(&l->n, &l->nr, &body);
	struct tb_reject rej;
	assert_int_equal(append_all(l->s, &l->pr, &rej), 0);
	assert_int_equal(append_all(l->s, &l->nr, &rej), 0);
}

static void legs_free(struct legs *l)
{
	tb_store_free(l->s);
	tb_test_recs_free(&l->pr);
	tb_test_recs_free(&l->nr);
	tb_test_rmrf(l->dir);
}

static void collect_reject(void *ctx, const struct tb_reject *r)
{
	struct vlist *l = ctx;
	if (l->n < 32)
		l->v[l->n++] = *r;
}

static void xverify_list(struct tb_store *s, struct vlist *vl)
{
	struct tb_xverify_counts c;
	memset(vl, 0, sizeof *vl);
	assert_int_equal(tb_store_xverify(s, collect_reject, vl, &c), 0);
	assert_int_equal(tb_test_xverify_steps_agree(s), vl->n);
	for (size_t i = 0; i < vl->n; i++)
		print_message("  violation [%s] seq %llu: %s\n", tb_errname(vl->v[i].err),
			      (unsigned long long)vl->v[i].seq, vl->v[i].msg);
}

/* One clearing step; the counts of legs decided and finished. */
static int clear_step(struct tb_store *s, const struct tb_keypair *kp, unsigned what, uint64_t now,
		      size_t max, size_t *nd, size_t *nf)
{
	struct tb_clear c = {.what = what, .now = now, .max = max};
	int err = tb_store_clear(s, kp, &c);
	*nd = c.decided;
	*nf = c.finished;
	return err;
}

/* N's node refuses the prepare O never decided; P's node releases it on
 * that refusal; the cross-log checks accept both. */
static void test_legs_released(void **state)
{
	(void)state;
	struct legs l;
	legs_init(&l);
	uint64_t now = (uint64_t)time(NULL);
	size_t nd, nf, held, dd, ff;
	/* P's node: nothing to finish yet, the hold is counted. */
	assert_int_equal(clear_step(l.s, &l.p.kp, TB_CLEAR_FINAL, now, 100, &nd, &nf), 0);
	assert_int_equal(nf, 0);
	assert_int_equal(clear_step(l.s, &l.n.kp, TB_CLEAR_DECIDE, now, 100, &nd, &nf), 0);
	assert_int_equal(nd, 1);
	struct tb_xleg x;
	assert_int_equal(tb_store_xleg(l.s, l.p.kp.pk.b, l.tp.x.txid, &x), 0);
	assert_int_equal(x.decide_seq, 3);
	assert_memory_equal(x.decider, l.n.kp.pk.b, TB_KEY_LEN);
	assert_memory_equal(x.provider, g.old.kp.pk.b, TB_KEY_LEN);
	assert_int_equal(x.outcome, TB_XO_LINK_MISSING);
	/* Decided once: again, nothing. */
	assert_int_equal(clear_step(l.s, &l.n.kp, TB_CLEAR_DECIDE, now, 100, &nd, &nf), 0);
	assert_int_equal(nd, 0);

	assert_int_equal(tb_store_set_self(l.s, l.p.kp.pk.b), 0);
	assert_int_equal(tb_store_clear_due(l.s, &held, &dd, &ff), 0);
	assert_int_equal(ff, 1);
	assert_int_equal(clear_step(l.s, &l.p.kp, TB_CLEAR_FINAL, now, 100, &nd, &nf), 0);
	assert_int_equal(nf, 1);
	assert_int_equal(tb_store_xleg(l.s, l.p.kp.pk.b, l.tp.x.txid, &x), 0);
	assert_true(x.final_seq > 0);
	assert_int_equal(x.final_outcome, TB_XO_LINK_MISSING);
	struct tb_member m;
	assert_int_equal(tb_store_member(l.s, l.p.kp.pk.b, 1, &m), 0);
	assert_int_equal(m.held, 0);
	assert_int_equal(m.balance, 0);

	struct vlist vl;
	xverify_list(l.s, &vl);
	assert_int_equal(vl.n, 0);
	legs_free(&l);
}

/* A successor that commits a prepare addressed to the forked log breaks
 * the rule of 12.6: the cross-log check reports it. */
static void test_legs_commit_refused(void **state)
{
	(void)state;
	struct legs l;
	legs_init(&l);
	struct tb_member_join j;
	struct tb_link link;
	tb_test_join(&j, 1, "alice", &g.m1, -600, 0);
	tb_test_log_add(&l.n, &l.nr, TB_KIND_MEMBER_JOIN, &j);
	tb_test_link(&link, l.p.kp.pk.b, 600);
	tb_test_log_add(&l.n, &l.nr, TB_KIND_LINK, &link);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &l.tp.x, l.p.kp.pk.b, 4, "carol", 1, TB_XO_COMMITTED);
	tb_test_log_add(&l.n, &l.nr, TB_KIND_XDECIDE, &d);
	struct tb_reject rej;
	size_t acc;
	assert_int_equal(tb_store_append(l.s, tb_test_recs_views(&l.nr, 2), l.nr.n - 2, &acc, &rej),
			 0);
	struct vlist vl;
	xverify_list(l.s, &vl);
	/* The commit (and, as its consequence, balances that do not mirror). */
	size_t i = 0;
	while (i < vl.n && vl.v[i].err != TB_ELEG)
		i++;
	assert_true(i < vl.n);
	assert_memory_equal(vl.v[i].log_id, l.n.kp.pk.b, TB_KEY_LEN);
	assert_non_null(strstr(vl.v[i].msg, "may only refuse"));
	legs_free(&l);
}

int main(void)
{
	if (tb_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),      cmocka_unit_test(test_refused),
		cmocka_unit_test(test_audit_story),   cmocka_unit_test(test_verify_forged),
		cmocka_unit_test(test_legs_released), cmocka_unit_test(test_legs_commit_refused),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
