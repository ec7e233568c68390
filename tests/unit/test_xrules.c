/*
 * test_xrules.c: the ledger rules of credit across communities (store/
 * xrules.c), the clearing step (tb_store_clear) and the cross-log checks of
 * verification (store/xverify.c), through the store's public API with real
 * LMDB and real signatures. Two communities, Riverside (A, the provider's)
 * and Hillside (B, the payer's), sometimes a third (C), are held in one store
 * or each in its own with their logs copied over as replication would. After
 * every step the accounts of each community (members and clearing) sum to
 * zero; after every completed exchange the clearing balances mirror. Last,
 * verification across logs: clean data directories and exports holding one
 * or both logs (legs unmatched, in flight), a hand-made commit over the
 * trust line, a final leg contradicting its decision, decisions whose terms
 * differ from the prepare's, and a tampered stored clearing account.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h" /* to tamper with a stored clearing account */

#define MAXMEM 4
#define FAR 4000000000ull /* an expiry far in the future */
#define MEMBER_FLOOR (-600)

/* A community log as a test writes it, with its members' keys. */
struct comm {
	struct tb_test_log log;
	struct tb_keypair mk[MAXMEM + 1]; /* 1-based */
	uint64_t txno;
	struct tb_test_recs recs; /* every record it sealed and a store took */
};

struct world {
	char *dir;
	struct tb_store *s[3];
	struct comm a, b, c;
};

static const uint8_t *id_of(const struct comm *c)
{
	return c->log.kp.pk.b;
}

static void comm_init(struct comm *c, uint32_t keyno)
{
	memset(c, 0, sizeof *c);
	tb_test_log_init(&c->log, keyno);
	for (uint32_t i = 1; i <= MAXMEM; i++)
		tb_test_keypair(&c->mk[i], keyno * 1000 + i);
	c->txno = (uint64_t)keyno * 1000000;
}

static struct tb_store *open_store(struct world *w, const char *name)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", w->dir, name);
	struct tb_store *s = NULL;
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(tb_store_open(&s, path, 0), 0);
	tb_store_set_threads(s, 1);
	return s;
}

static void world_init(struct world *w, int nstores)
{
	memset(w, 0, sizeof *w);
	w->dir = tb_test_scratchdir("xrules");
	static const char *const names[3] = {"s0", "s1", "s2"};
	for (int i = 0; i < nstores; i++)
		w->s[i] = open_store(w, names[i]);
	comm_init(&w->a, 1);
	comm_init(&w->b, 2);
	comm_init(&w->c, 3);
}

static void world_free(struct world *w)
{
	for (int i = 0; i < 3; i++)
		tb_store_free(w->s[i]);
	tb_test_recs_free(&w->a.recs);
	tb_test_recs_free(&w->b.recs);
	tb_test_recs_free(&w->c.recs);
	tb_test_rmrf(w->dir);
}

/* Tries the next entry of c in s: on success c moves on; on refusal the
 * store must be byte-for-byte unchanged. Returns the append's result. */
static int try_put(struct tb_store *s, struct comm *c, uint64_t kind, const void *body,
		   struct tb_reject *rej)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal_next(&c->log, rec, kind, body);
	struct tb_view v = {rec, len};
	size_t acc = 0;
	char *before = tb_test_store_dump(s);
	int err = tb_store_append(s, &v, 1, &acc, rej);
	if (!err) {
		tb_test_log_advance(&c->log, rec, len);
		tb_test_recs_add(&c->recs, rec, len);
	} else {
		char *after = tb_test_store_dump(s);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	return err;
}

static uint64_t put(struct tb_store *s, struct comm *c, uint64_t kind, const void *body)
{
	struct tb_reject rej;
	int err = try_put(s, c, kind, body, &rej);
	if (err)
		fail_msg("refused: %s at seq %llu: %s", tb_errname(err),
			 (unsigned long long)rej.seq, rej.msg);
	return c->log.seq;
}

static void refuse(struct tb_store *s, struct comm *c, uint64_t kind, const void *body, int want)
{
	struct tb_reject rej;
	memset(&rej, 0, sizeof rej);
	int err = try_put(s, c, kind, body, &rej);
	if (err != want)
		fail_msg("expected %s, got %s: %s", tb_errname(want), tb_errname(err), rej.msg);
	assert_int_equal(rej.err, want);
	assert_memory_equal(rej.log_id, id_of(c), TB_KEY_LEN);
	assert_int_equal(rej.seq, c->log.seq + 1);
}

/* After entries were appended to s by the store itself (the clearing
 * step), c continues from the store's head. */
static void resync(struct comm *c, struct tb_store *s)
{
	struct tb_head h;
	assert_int_equal(tb_store_head(s, id_of(c), &h), 0);
	c->log.seq = h.seq;
	memcpy(c->log.head, h.hash, TB_HASHLEN);
}

struct copy_ctx {
	struct tb_store *dst;
};

static int copy_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	struct copy_ctx *c = vctx;
	size_t acc = 0;
	struct tb_reject rej;
	int err = tb_store_append(c->dst, &rec, 1, &acc, &rej);
	if (err)
		fail_msg("copy refused: %s at seq %llu: %s", tb_errname(err),
			 (unsigned long long)rej.seq, rej.msg);
	return 0;
}

/* Copies the entries of a log that dst lacks from src, as replication. */
static void copy_log(struct tb_store *dst, struct tb_store *src, const uint8_t *log)
{
	struct tb_head h;
	uint64_t from = 1;
	if (!tb_store_head(dst, log, &h))
		from = h.seq + 1;
	struct copy_ctx c = {dst};
	assert_true(tb_store_foreach_entry(src, log, from, copy_one, &c) >= 0);
}

/* ---- reading the books ---- */

static int64_t bal(struct tb_store *s, const struct comm *c, uint32_t no)
{
	struct tb_member m;
	assert_int_equal(tb_store_member(s, id_of(c), no, &m), 0);
	return m.balance;
}

static int64_t held(struct tb_store *s, const struct comm *c, uint32_t no)
{
	struct tb_member m;
	assert_int_equal(tb_store_member(s, id_of(c), no, &m), 0);
	return m.held;
}

static struct tb_clearing clr(struct tb_store *s, const struct comm *c, const struct comm *o)
{
	struct tb_clearing k;
	int err = tb_store_clearing(s, id_of(c), id_of(o), &k);
	if (err == TB_ENOTFOUND)
		memset(&k, 0, sizeof k);
	else
		assert_int_equal(err, 0);
	return k;
}

struct sum {
	int64_t total;
};

static int sum_member(void *ctx, const struct tb_member *m)
{
	((struct sum *)ctx)->total += m->balance;
	return 0;
}

static int sum_clearing(void *ctx, const struct tb_clearing *c)
{
	((struct sum *)ctx)->total += c->balance;
	return 0;
}

/* Members and clearing accounts of c sum to zero. */
static void check_sum(struct tb_store *s, const struct comm *c)
{
	struct sum t = {0};
	assert_int_equal(tb_store_foreach_member(s, id_of(c), sum_member, &t), 0);
	assert_true(tb_store_foreach_clearing(s, id_of(c), sum_clearing, &t) >= 0);
	assert_int_equal(t.total, 0);
}

static void check_sums(struct tb_store *s, const struct world *w)
{
	check_sum(s, &w->a);
	check_sum(s, &w->b);
}

/* The two clearing balances mirror, as held in sa and sb. */
static void check_mirror(struct tb_store *sa, const struct comm *a, struct tb_store *sb,
			 const struct comm *b)
{
	assert_int_equal(clr(sa, a, b).balance, -clr(sb, b, a).balance);
}

/* ---- the two communities ---- */

static const char *const a_names[MAXMEM + 1] = {"", "alice", "carol", "erin", "gus"};
static const char *const b_names[MAXMEM + 1] = {"", "bob", "dan", "fay", "hal"};

static void put_community(struct tb_store *s, struct comm *c, const char *name,
			  const char *const names[], uint64_t ceiling2)
{
	struct tb_genesis g;
	tb_test_genesis(&g, name, MEMBER_FLOOR, 0);
	put(s, c, TB_KIND_GENESIS, &g);
	for (uint32_t i = 1; i <= 2; i++) {
		struct tb_member_join j;
		tb_test_join(&j, i, names[i], &c->mk[i], MEMBER_FLOOR, i == 2 ? ceiling2 : 0);
		put(s, c, TB_KIND_MEMBER_JOIN, &j);
	}
}

static uint64_t put_link(struct tb_store *s, struct comm *c, const struct comm *o, uint64_t limit)
{
	struct tb_link l;
	tb_test_link(&l, id_of(o), limit);
	return put(s, c, TB_KIND_LINK, &l);
}

/* A (Riverside) and B (Hillside) in store s, each trusting the other. */
static void setup_pair(struct world *w, struct tb_store *s, uint64_t a_limit, uint64_t b_limit)
{
	put_community(s, &w->a, "Riverside", a_names, 30);
	put_community(s, &w->b, "Hillside", b_names, 0);
	if (a_limit)
		put_link(s, &w->a, &w->b, a_limit);
	if (b_limit)
		put_link(s, &w->b, &w->a, b_limit);
}

/* A prepare of B's member `member` to to_name@A. */
static void prep(struct world *w, struct tb_test_xprepare *tp, uint32_t member, const char *to_name,
		 uint64_t minutes, uint64_t expires, bool sign)
{
	tb_test_xprepare(tp, id_of(&w->b), ++w->b.txno, member, id_of(&w->a), to_name, minutes,
			 expires, sign ? &w->b.mk[member] : NULL);
}

/* ---- link ---- */

static void test_link(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	put_community(s, &w.a, "Riverside", a_names, 0);
	struct tb_link l;
	tb_test_link(&l, id_of(&w.a), 60);
	refuse(s, &w.a, TB_KIND_LINK, &l, TB_ELINK);
	put_link(s, &w.a, &w.b, 60);
	struct tb_clearing c = clr(s, &w.a, &w.b);
	assert_true(c.linked);
	assert_int_equal(c.limit, 60);
	assert_int_equal(c.balance, 0);
	/* A later line replaces the limit; a limit of 0 still links. */
	put_link(s, &w.a, &w.b, 120);
	assert_int_equal(clr(s, &w.a, &w.b).limit, 120);
	put_link(s, &w.a, &w.b, 0);
	c = clr(s, &w.a, &w.b);
	assert_true(c.linked);
	assert_int_equal(c.limit, 0);
	world_free(&w);
}

/* ---- prepare ---- */

static void test_prepare(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 0);
	struct tb_test_xprepare tp;

	/* B has no trust line to A yet. */
	prep(&w, &tp, 1, "alice", 60, FAR, false);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_ELINK);
	put_link(s, &w.b, &w.a, 600);
	/* To its own community. */
	tb_test_xprepare(&tp, id_of(&w.b), ++w.b.txno, 1, id_of(&w.b), "dan", 60, FAR, NULL);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_ELINK);
	/* An unknown member. */
	prep(&w, &tp, 1, "alice", 60, FAR, false);
	tp.x.member = 7;
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_EMEMBER);

	/* The floor counts held minutes: 400 held, then 300 more is over the
	 * debt limit of 600, 200 is exactly at it. */
	prep(&w, &tp, 1, "alice", 400, FAR, false);
	put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	assert_int_equal(held(s, &w.b, 1), 400);
	assert_int_equal(bal(s, &w.b, 1), 0);
	prep(&w, &tp, 1, "alice", 300, FAR, true);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_EFLOOR);
	prep(&w, &tp, 1, "alice", 200, FAR, true);
	put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	assert_int_equal(held(s, &w.b, 1), 600);
	struct tb_clearing c = clr(s, &w.b, &w.a);
	assert_int_equal(c.held, 600);
	assert_int_equal(c.balance, 0);
	check_sums(s, &w);
	/* A local exchange counts the held minutes too: bob is at his floor,
	 * and the final legs will take the 600 without another check. */
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, id_of(&w.b), ++w.b.txno, 2, 1, 1, NULL, NULL);
	refuse(s, &w.b, TB_KIND_EXCHANGE, &tx.x, TB_EFLOOR);

	/* Consent: an attestation carries no signature; without one a
	 * member's signature is needed, and it must verify. */
	prep(&w, &tp, 2, "alice", 10, FAR, true);
	tp.x.attested = 1;
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_ECONSENT);
	prep(&w, &tp, 2, "alice", 10, FAR, false);
	tp.x.attested = 0;
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_ECONSENT);
	prep(&w, &tp, 2, "alice", 10, FAR, false);
	tb_test_xprepare_sign(&tp, id_of(&w.b), &w.b.mk[1]); /* bob signs for dan */
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_ECONSENT);
	prep(&w, &tp, 2, "alice", 10, FAR, true);
	tp.x.minutes = 11; /* terms changed after signing */
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_ECONSENT);

	/* Expired when recorded: expires must be after the entry's time. */
	uint64_t ts = w.b.log.timestamp;
	prep(&w, &tp, 2, "alice", 10, ts, true);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_EEXPIRED);
	prep(&w, &tp, 2, "alice", 10, ts - 100, true);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_EEXPIRED);
	prep(&w, &tp, 2, "alice", 10, ts + 1, true);
	put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	assert_int_equal(held(s, &w.b, 2), 10);

	/* The same txid again, even with other terms. */
	tp.x.minutes = 20;
	tp.x.expires = FAR;
	tb_test_xprepare_sign(&tp, id_of(&w.b), &w.b.mk[2]);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_EDUPTX);
	check_sums(s, &w);
	world_free(&w);
}

/* ---- decide ---- */

static void test_decide(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	/* A lets B owe it 2 hours. */
	setup_pair(&w, s, 120, 600);
	struct tb_test_xprepare tp[6];
	uint64_t ps[6];
	for (int i = 0; i < 6; i++) {
		prep(&w, &tp[i], 1, i == 2 ? "carol" : "alice", i == 2 ? 40 : 60,
		     i == 5 ? w.b.log.timestamp + 2 : FAR, false);
		ps[i] = put(s, &w.b, TB_KIND_XPREPARE, &tp[i].x);
	}
	check_sums(s, &w);
	struct tb_xdecide d;

	/* A commit credits the provider and debits the clearing account. */
	tb_test_xdecide(&d, &tp[0].x, id_of(&w.b), ps[0], "bob", 1, TB_XO_COMMITTED);
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	assert_int_equal(bal(s, &w.a, 1), 60);
	struct tb_clearing c = clr(s, &w.a, &w.b);
	assert_int_equal(c.balance, -60);
	assert_int_equal(c.exchanges, 1);
	check_sums(s, &w);
	/* The same txid decided twice. */
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_EDUPTX);

	/* A refusal changes no balance. */
	struct tb_xdecide dc;
	tb_test_xdecide(&dc, &tp[2].x, id_of(&w.b), ps[2], "bob", 2, TB_XO_COMMITTED);
	refuse(s, &w.a, TB_KIND_XDECIDE, &dc, TB_ECEILING); /* carol: ceiling 30 */
	dc.outcome = TB_XO_CEILING;
	dc.member = 2;
	put(s, &w.a, TB_KIND_XDECIDE, &dc);
	assert_int_equal(bal(s, &w.a, 2), 0);
	assert_int_equal(clr(s, &w.a, &w.b).balance, -60);

	/* Exactly at the trust limit is allowed... */
	tb_test_xdecide(&d, &tp[1].x, id_of(&w.b), ps[1], "bob", 1, TB_XO_COMMITTED);
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	assert_int_equal(clr(s, &w.a, &w.b).balance, -120);
	/* ...one minute over is not. */
	struct tb_test_xprepare one;
	prep(&w, &one, 1, "alice", 1, FAR, false);
	uint64_t ones = put(s, &w.b, TB_KIND_XPREPARE, &one.x);
	tb_test_xdecide(&d, &one.x, id_of(&w.b), ones, "bob", 1, TB_XO_COMMITTED);
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_ETRUST);
	d.outcome = TB_XO_TRUST_LIMIT;
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	assert_int_equal(clr(s, &w.a, &w.b).balance, -120);
	assert_int_equal(bal(s, &w.a, 1), 120);

	/* An unknown provider cannot be credited. */
	tb_test_xdecide(&d, &tp[3].x, id_of(&w.b), ps[3], "bob", 9, TB_XO_COMMITTED);
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_EMEMBER);
	/* Nor a member other than the one the prepare names (alice is 1). */
	tb_test_xdecide(&d, &tp[3].x, id_of(&w.b), ps[3], "bob", 2, TB_XO_COMMITTED);
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_EMEMBER);
	/* A decision on its own log's prepare. */
	tb_test_xdecide(&d, &tp[3].x, id_of(&w.a), ps[3], "bob", 0, TB_XO_UNKNOWN_MEMBER);
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_ELINK);
	/* A commit for a community A has no trust line to. */
	tb_test_xdecide(&d, &tp[3].x, id_of(&w.c), 2, "zoe", 1, TB_XO_COMMITTED);
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_ELINK);
	d.outcome = TB_XO_LINK_MISSING;
	d.member = 0;
	put(s, &w.a, TB_KIND_XDECIDE, &d);

	/* A commit at or after the prepare's expiry (trust room made first:
	 * a larger limit). */
	put_link(s, &w.a, &w.b, 600);
	tb_test_xdecide(&d, &tp[5].x, id_of(&w.b), ps[5], "bob", 1, TB_XO_COMMITTED);
	w.a.log.timestamp = tp[5].x.expires;
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_EEXPIRED);
	w.a.log.timestamp = tp[5].x.expires - 1;
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	assert_int_equal(clr(s, &w.a, &w.b).balance, -180);
	tb_test_xdecide(&d, &tp[4].x, id_of(&w.b), ps[4], "bob", 0, TB_XO_EXPIRED);
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	assert_int_equal(clr(s, &w.a, &w.b).balance, -180);
	check_sums(s, &w);

	struct tb_xleg x;
	assert_int_equal(tb_store_xleg(s, id_of(&w.b), tp[2].x.txid, &x), 0);
	assert_int_equal(x.prepare_seq, ps[2]);
	assert_true(x.decide_seq > 0);
	assert_memory_equal(x.decider, id_of(&w.a), TB_KEY_LEN);
	assert_int_equal(x.outcome, TB_XO_CEILING);
	assert_int_equal(x.final_seq, 0);
	world_free(&w);
}

/* ---- final ---- */

static void test_final(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	struct tb_xfinal f;
	uint8_t txid[TB_TXID_LEN];
	tb_test_txid(txid, 424242);
	tb_test_xfinal(&f, txid, 2, TB_XO_COMMITTED);
	refuse(s, &w.b, TB_KIND_XFINAL, &f, TB_ENOTX);

	/* Completed: the payer pays, the clearing account owes, the hold ends. */
	struct tb_test_xprepare tp;
	prep(&w, &tp, 1, "alice", 90, FAR, true);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 1, TB_XO_COMMITTED);
	uint64_t ds = put(s, &w.a, TB_KIND_XDECIDE, &d);
	/* In flight: A has counted it, B not yet. */
	assert_int_equal(clr(s, &w.a, &w.b).balance + clr(s, &w.b, &w.a).balance, -90);
	tb_test_xfinal(&f, tp.x.txid, ds, TB_XO_COMMITTED);
	put(s, &w.b, TB_KIND_XFINAL, &f);
	assert_int_equal(bal(s, &w.b, 1), -90);
	assert_int_equal(held(s, &w.b, 1), 0);
	struct tb_clearing c = clr(s, &w.b, &w.a);
	assert_int_equal(c.balance, 90);
	assert_int_equal(c.held, 0);
	assert_int_equal(c.exchanges, 1);
	check_mirror(s, &w.a, s, &w.b);
	check_sums(s, &w);
	/* Finished twice. */
	refuse(s, &w.b, TB_KIND_XFINAL, &f, TB_EDUPTX);
	f.outcome = TB_XO_TRUST_LIMIT;
	refuse(s, &w.b, TB_KIND_XFINAL, &f, TB_EDUPTX);

	/* Released: nothing moves, the hold ends. */
	prep(&w, &tp, 1, "zed", 30, FAR, true);
	ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	assert_int_equal(held(s, &w.b, 1), 30);
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 0, TB_XO_UNKNOWN_MEMBER);
	ds = put(s, &w.a, TB_KIND_XDECIDE, &d);
	tb_test_xfinal(&f, tp.x.txid, ds, TB_XO_UNKNOWN_MEMBER);
	put(s, &w.b, TB_KIND_XFINAL, &f);
	assert_int_equal(bal(s, &w.b, 1), -90);
	assert_int_equal(held(s, &w.b, 1), 0);
	c = clr(s, &w.b, &w.a);
	assert_int_equal(c.balance, 90);
	assert_int_equal(c.held, 0);
	assert_int_equal(c.exchanges, 1);
	struct tb_xleg x;
	assert_int_equal(tb_store_xleg(s, id_of(&w.b), tp.x.txid, &x), 0);
	assert_int_equal(x.final_outcome, TB_XO_UNKNOWN_MEMBER);
	assert_true(x.final_seq > 0);
	check_mirror(s, &w.a, s, &w.b);
	check_sums(s, &w);
	world_free(&w);
}

/* ---- both directions, two stores ---- */

/* The state of every log's community, members, clearing accounts and every
 * exchange's legs, through the public views (lognums differ per store). */
struct xs_ctx {
	FILE *f;
	struct tb_store *s;
};

static int xs_member(void *ctx, const struct tb_member *m)
{
	struct xs_ctx *x = ctx;
	fprintf(x->f, "  member %u %s balance %lld held %lld\n", m->no, m->name,
		(long long)m->balance, (long long)m->held);
	return 0;
}

static int xs_clearing(void *ctx, const struct tb_clearing *c)
{
	struct xs_ctx *x = ctx;
	fprintf(x->f, "  clearing %02x%02x linked %d limit %llu balance %lld held %lld ex %llu\n",
		c->other[0], c->other[1], (int)c->linked, (unsigned long long)c->limit,
		(long long)c->balance, (long long)c->held, (unsigned long long)c->exchanges);
	return 0;
}

static int xs_log(void *ctx, const struct tb_head *h)
{
	struct xs_ctx *x = ctx;
	fprintf(x->f, "log %02x%02x seq %llu\n", h->log_id[0], h->log_id[1],
		(unsigned long long)h->seq);
	assert_true(tb_store_foreach_member(x->s, h->log_id, xs_member, x) >= 0);
	assert_true(tb_store_foreach_clearing(x->s, h->log_id, xs_clearing, x) >= 0);
	return 0;
}

static int xs_leg(void *ctx, const struct tb_xleg *l)
{
	struct xs_ctx *x = ctx;
	fprintf(x->f,
		"leg %02x%02x/%02x%02x prep %llu to %02x%02x min %llu exp %llu dec %llu "
		"by %02x%02x out %u fin %llu fout %u\n",
		l->payer[0], l->payer[1], l->txid[6], l->txid[7],
		(unsigned long long)l->prepare_seq, l->provider[0], l->provider[1],
		(unsigned long long)l->minutes, (unsigned long long)l->expires,
		(unsigned long long)l->decide_seq, l->decider[0], l->decider[1], l->outcome,
		(unsigned long long)l->final_seq, l->final_outcome);
	return 0;
}

static int xs_open(void *ctx, const struct tb_xleg *l)
{
	struct xs_ctx *x = ctx;
	fprintf(x->f, "open %02x%02x/%02x%02x\n", l->payer[0], l->payer[1], l->txid[6], l->txid[7]);
	return 0;
}

static char *xstate(struct tb_store *s)
{
	char *text = NULL;
	size_t len = 0;
	struct xs_ctx x = {open_memstream(&text, &len), s};
	assert_non_null(x.f);
	assert_int_equal(tb_store_foreach_log(s, xs_log, &x), 0);
	assert_int_equal(tb_store_foreach_xleg(s, false, xs_leg, &x), 0);
	assert_int_equal(tb_store_foreach_xleg(s, true, xs_open, &x), 0);
	assert_int_equal(fclose(x.f), 0);
	return text;
}

static void test_two_stores(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 2);
	struct tb_store *sa = w.s[0], *sb = w.s[1];
	put_community(sa, &w.a, "Riverside", a_names, 0);
	put_link(sa, &w.a, &w.b, 600);
	put_community(sb, &w.b, "Hillside", b_names, 0);
	put_link(sb, &w.b, &w.a, 300);
	copy_log(sa, sb, id_of(&w.b));
	copy_log(sb, sa, id_of(&w.a));

	/* Bob pays alice 1 hour; carol pays dan 30 minutes the other way. */
	struct tb_test_xprepare tp;
	prep(&w, &tp, 1, "alice", 60, FAR, true);
	put(sb, &w.b, TB_KIND_XPREPARE, &tp.x);
	struct tb_test_xprepare tq;
	tb_test_xprepare(&tq, id_of(&w.a), ++w.a.txno, 2, id_of(&w.b), "dan", 30, FAR, &w.a.mk[2]);
	put(sa, &w.a, TB_KIND_XPREPARE, &tq.x);
	for (int round = 0; round < 3; round++) {
		copy_log(sa, sb, id_of(&w.b));
		copy_log(sb, sa, id_of(&w.a));
		struct tb_clear ca = {.what = TB_CLEAR_DECIDE | TB_CLEAR_FINAL, .max = 100};
		struct tb_clear cb = ca;
		assert_int_equal(tb_store_clear(sa, &w.a.log.kp, &ca), 0);
		assert_int_equal(tb_store_clear(sb, &w.b.log.kp, &cb), 0);
		check_sums(sa, &w);
		check_sums(sb, &w);
	}
	copy_log(sa, sb, id_of(&w.b));
	copy_log(sb, sa, id_of(&w.a));
	assert_int_equal(bal(sa, &w.a, 1), 60);
	assert_int_equal(bal(sa, &w.a, 2), -30);
	assert_int_equal(bal(sb, &w.b, 1), -60);
	assert_int_equal(bal(sb, &w.b, 2), 30);
	assert_int_equal(clr(sa, &w.a, &w.b).balance, -30);
	check_mirror(sa, &w.a, sb, &w.b);
	check_mirror(sb, &w.a, sa, &w.b);
	/* Same logs, same books, whatever order they were held in. */
	char *xa = xstate(sa), *xb = xstate(sb);
	assert_string_equal(xa, xb);
	free(xa);
	free(xb);
	world_free(&w);
}

/* ---- the clearing step ---- */

static size_t do_clear(struct tb_store *s, const struct comm *c, unsigned what, uint64_t now)
{
	struct tb_clear cl = {.what = what, .now = now, .max = 1000};
	assert_int_equal(tb_store_clear(s, &c->log.kp, &cl), 0);
	assert_int_equal(cl.skips, 0);
	return what == TB_CLEAR_DECIDE ? cl.decided : cl.finished;
}

static uint8_t outcome_of(struct tb_store *s, const struct comm *payer,
			  const struct tb_test_xprepare *tp)
{
	struct tb_xleg x;
	assert_int_equal(tb_store_xleg(s, id_of(payer), tp->x.txid, &x), 0);
	assert_true(x.decide_seq > 0);
	return x.outcome;
}

/* The clearing world: A limits B to 2 hours; C links A but A not C. */
static void clear_world(struct world *w, struct tb_store *s, struct tb_test_xprepare tp[6],
			struct tb_test_xprepare *tc)
{
	setup_pair(w, s, 120, 600);
	put_community(s, &w->c, "Lakeside", b_names, 0);
	put_link(s, &w->c, &w->a, 600);
	for (int i = 0; i < 3; i++) {
		prep(w, &tp[i], 1, "alice", 60, FAR, true);
		put(s, &w->b, TB_KIND_XPREPARE, &tp[i].x);
	}
	prep(w, &tp[3], 2, "zed", 10, FAR, true); /* unknown member */
	put(s, &w->b, TB_KIND_XPREPARE, &tp[3].x);
	/* Expires 5 s after it was recorded, long before the step runs. */
	prep(w, &tp[4], 2, "alice", 10, w->b.log.timestamp + 5, true);
	put(s, &w->b, TB_KIND_XPREPARE, &tp[4].x);
	tb_test_xprepare(tc, id_of(&w->c), ++w->c.txno, 1, id_of(&w->a), "alice", 10, FAR, NULL);
	put(s, &w->c, TB_KIND_XPREPARE, &tc->x);
}

static void test_clear(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	struct tb_test_xprepare tp[6], tc;
	clear_world(&w, s, tp, &tc);
	size_t h, dd, ff;
	assert_int_equal(tb_store_set_self(s, id_of(&w.a)), 0);
	assert_int_equal(tb_store_clear_due(s, &h, &dd, &ff), 0);
	assert_int_equal(dd, 5); /* not C's: A has no trust line to C */
	assert_int_equal(ff, 0);

	/* B finishes nothing yet: no decision is held. */
	assert_int_equal(do_clear(s, &w.b, TB_CLEAR_FINAL, 0), 0);
	/* A decides B's five at once, the limit counted across the batch. */
	uint64_t now = (uint64_t)time(NULL);
	assert_int_equal(do_clear(s, &w.a, TB_CLEAR_DECIDE, now), 5);
	check_sums(s, &w);
	assert_int_equal(outcome_of(s, &w.b, &tp[0]), TB_XO_COMMITTED);
	assert_int_equal(outcome_of(s, &w.b, &tp[1]), TB_XO_COMMITTED);
	assert_int_equal(outcome_of(s, &w.b, &tp[2]), TB_XO_TRUST_LIMIT);
	assert_int_equal(outcome_of(s, &w.b, &tp[3]), TB_XO_UNKNOWN_MEMBER);
	assert_int_equal(outcome_of(s, &w.b, &tp[4]), TB_XO_EXPIRED);
	/* A signs nothing for C, with which it has no trust line. */
	struct tb_xleg xc;
	assert_int_equal(tb_store_xleg(s, id_of(&w.c), tc.x.txid, &xc), 0);
	assert_int_equal(xc.decide_seq, 0);
	assert_int_equal(clr(s, &w.a, &w.b).balance, -120);
	assert_int_equal(bal(s, &w.a, 1), 120);
	/* Idempotent: a second step appends nothing. */
	struct tb_head before, after;
	assert_int_equal(tb_store_head(s, id_of(&w.a), &before), 0);
	assert_int_equal(do_clear(s, &w.a, TB_CLEAR_DECIDE | TB_CLEAR_FINAL, now), 0);
	assert_int_equal(tb_store_head(s, id_of(&w.a), &after), 0);
	assert_int_equal(before.seq, after.seq);
	assert_int_equal(tb_store_clear_due(s, &h, &dd, &ff), 0);
	assert_int_equal(dd, 0);

	/* B finishes its five, once. */
	assert_int_equal(do_clear(s, &w.b, TB_CLEAR_FINAL, 0), 5);
	assert_int_equal(do_clear(s, &w.b, TB_CLEAR_FINAL, 0), 0);
	assert_int_equal(bal(s, &w.b, 1), -120);
	assert_int_equal(held(s, &w.b, 1), 0);
	assert_int_equal(held(s, &w.b, 2), 0);
	assert_int_equal(bal(s, &w.b, 2), 0);
	struct tb_clearing c = clr(s, &w.b, &w.a);
	assert_int_equal(c.balance, 120);
	assert_int_equal(c.held, 0);
	check_mirror(s, &w.a, s, &w.b);
	check_sums(s, &w);
	/* C's prepare waits, held, until A trusts C; then it is decided and
	 * C's own node finishes it. */
	assert_int_equal(clr(s, &w.c, &w.a).held, 10);
	assert_int_equal(do_clear(s, &w.c, TB_CLEAR_FINAL, 0), 0);
	resync(&w.a, s);
	put_link(s, &w.a, &w.c, 60);
	assert_int_equal(do_clear(s, &w.a, TB_CLEAR_DECIDE, now), 1);
	assert_int_equal(outcome_of(s, &w.c, &tc), TB_XO_COMMITTED);
	assert_int_equal(do_clear(s, &w.c, TB_CLEAR_FINAL, 0), 1);
	assert_int_equal(clr(s, &w.c, &w.a).held, 0);
	assert_int_equal(clr(s, &w.c, &w.a).open, 0);
	check_sum(s, &w.c);
	world_free(&w);
}

/* Reindex rebuilds the same clearing accounts and legs, and so does a store
 * that received the logs in another order. */
static void test_reindex(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 3);
	struct tb_store *s = w.s[0];
	struct tb_test_xprepare tp[6], tc;
	clear_world(&w, s, tp, &tc);
	assert_int_equal(do_clear(s, &w.a, TB_CLEAR_DECIDE, 0), 5);
	assert_int_equal(do_clear(s, &w.b, TB_CLEAR_FINAL, 0), 5);
	/* One more exchange left in flight (decided, not finished). */
	resync(&w.b, s);
	resync(&w.a, s);
	struct tb_test_xprepare tq;
	put_link(s, &w.a, &w.b, 600);
	prep(&w, &tq, 2, "alice", 15, FAR, true);
	put(s, &w.b, TB_KIND_XPREPARE, &tq.x);
	assert_int_equal(do_clear(s, &w.a, TB_CLEAR_DECIDE, 0), 1);
	check_sums(s, &w);

	char *x0 = xstate(s);
	struct tb_reject rej;
	assert_int_equal(tb_store_reindex(s, &rej), 0);
	char *x1 = xstate(s);
	assert_string_equal(x0, x1);

	/* The provider's log first, in another store: the same books. */
	struct tb_store *s2 = w.s[1];
	copy_log(s2, s, id_of(&w.a));
	copy_log(s2, s, id_of(&w.c));
	copy_log(s2, s, id_of(&w.b));
	char *x2 = xstate(s2);
	assert_string_equal(x0, x2);
	/* And the payer's log first. */
	struct tb_store *s3 = w.s[2];
	copy_log(s3, s, id_of(&w.b));
	copy_log(s3, s, id_of(&w.a));
	copy_log(s3, s, id_of(&w.c));
	char *x3 = xstate(s3);
	assert_string_equal(x0, x3);
	assert_int_equal(tb_store_reindex(s2, &rej), 0);
	char *x4 = xstate(s2);
	assert_string_equal(x2, x4);
	free(x0);
	free(x1);
	free(x2);
	free(x3);
	free(x4);
	world_free(&w);
}

/* ---- verification across logs ---- */

/* Closes store i and verifies its directory. */
static int verify_store(struct world *w, int i, struct tb_verify_report *rep)
{
	static const char *const names[3] = {"s0", "s1", "s2"};
	tb_test_xverify_steps_agree(w->s[i]);
	tb_store_free(w->s[i]);
	w->s[i] = NULL;
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", w->dir, names[i]);
	int err = tb_verify_dir(path, w->dir, rep);
	if (err)
		print_message("verify: %s at seq %llu: %s\n", tb_errname(err),
			      (unsigned long long)rep->where.seq, rep->where.msg);
	return err;
}

/* Seals the next entry of c without any store's check (a hand-made,
 * possibly rule-breaking entry); returns its seq. */
static uint64_t seal_only(struct comm *c, uint64_t kind, const void *body)
{
	return tb_test_log_add(&c->log, &c->recs, kind, body);
}

/* An export file image of the logs of the given communities. */
struct image {
	uint8_t *p;
	size_t len;
};

static void img_add(struct image *m, const void *p, size_t len)
{
	m->p = realloc(m->p, m->len + len);
	assert_non_null(m->p);
	memcpy(m->p + m->len, p, len);
	m->len += len;
}

static void export_of(struct image *m, struct comm *const *cs, size_t n)
{
	memset(m, 0, sizeof *m);
	uint8_t h[9];
	tb_export_header(h);
	img_add(m, h, sizeof h);
	uint64_t items = 0;
	for (size_t i = 0; i < n; i++) {
		const struct tb_view *v = tb_test_recs_views(&cs[i]->recs, 0);
		for (size_t j = 0; j < cs[i]->recs.n; j++) {
			uint8_t ih[5];
			tb_export_item_header(ih, TB_EXPORT_ENTRY, (uint32_t)v[j].len);
			img_add(m, ih, sizeof ih);
			img_add(m, v[j].p, v[j].len);
			items++;
		}
	}
	uint8_t eh[5], cnt[8];
	tb_export_item_header(eh, TB_EXPORT_END, 8);
	tb_be64_put(cnt, items);
	img_add(m, eh, sizeof eh);
	img_add(m, cnt, sizeof cnt);
}

/* Verifies an export of A's and B's logs, in both orders; returns the
 * result (the same both ways) with the report of the first. */
static int verify_pair(struct world *w, struct tb_verify_report *rep)
{
	struct image m;
	struct comm *ab[2] = {&w->a, &w->b}, *ba[2] = {&w->b, &w->a};
	export_of(&m, ab, 2);
	int err = tb_verify_export(m.p, m.len, w->dir, rep);
	free(m.p);
	struct tb_verify_report r2;
	export_of(&m, ba, 2);
	int err2 = tb_verify_export(m.p, m.len, w->dir, &r2);
	free(m.p);
	assert_int_equal(err, err2);
	assert_int_equal(rep->where.seq, r2.where.seq);
	assert_memory_equal(rep->where.log_id, r2.where.log_id, TB_KEY_LEN);
	if (err)
		print_message("verify: %s at seq %llu: %s\n", tb_errname(err),
			      (unsigned long long)rep->where.seq, rep->where.msg);
	return err;
}

static void expect_at(const struct tb_verify_report *rep, int err, const struct comm *c,
		      uint64_t seq)
{
	assert_int_equal(rep->err, err);
	assert_memory_equal(rep->where.log_id, id_of(c), TB_KEY_LEN);
	assert_int_equal(rep->where.seq, seq);
}

static void test_verify_dirs(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 3);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	struct tb_test_xprepare tp[3];
	uint64_t ps[3], ds[2];
	for (int i = 0; i < 3; i++) {
		prep(&w, &tp[i], 1, "alice", 30, FAR, true);
		ps[i] = put(s, &w.b, TB_KIND_XPREPARE, &tp[i].x);
	}
	struct tb_xdecide d;
	for (int i = 0; i < 2; i++) {
		tb_test_xdecide(&d, &tp[i].x, id_of(&w.b), ps[i], "bob", 1, TB_XO_COMMITTED);
		ds[i] = put(s, &w.a, TB_KIND_XDECIDE, &d);
	}
	struct tb_xfinal f;
	tb_test_xfinal(&f, tp[0].x.txid, ds[0], TB_XO_COMMITTED);
	put(s, &w.b, TB_KIND_XFINAL, &f);
	/* Only B's log in store 1, only A's in store 2. */
	copy_log(w.s[1], s, id_of(&w.b));
	copy_log(w.s[2], s, id_of(&w.a));

	struct tb_verify_report rep;
	assert_int_equal(verify_store(&w, 0, &rep), 0);
	assert_int_equal(rep.logs, 2);
	assert_int_equal(rep.legs_in_flight, 1);
	assert_int_equal(rep.legs_unmatched, 0);
	/* B alone: 3 prepares and 1 final cannot be matched. */
	assert_int_equal(verify_store(&w, 1, &rep), 0);
	assert_int_equal(rep.legs_unmatched, 4);
	assert_int_equal(rep.legs_in_flight, 0);
	/* A alone: 2 decisions. */
	assert_int_equal(verify_store(&w, 2, &rep), 0);
	assert_int_equal(rep.legs_unmatched, 2);
	assert_int_equal(rep.legs_in_flight, 0);

	/* The same as export files, in both orders. */
	assert_int_equal(verify_pair(&w, &rep), 0);
	assert_int_equal(rep.legs_in_flight, 1);
	assert_int_equal(rep.legs_unmatched, 0);
	world_free(&w);
}

/* A's decision commits more than its trust line allows: re-applying the
 * rules catches it. */
static void test_verify_trust(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 60, 600);
	struct tb_test_xprepare tp;
	prep(&w, &tp, 1, "alice", 61, FAR, true);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 1, TB_XO_COMMITTED);
	uint64_t ds = seal_only(&w.a, TB_KIND_XDECIDE, &d);
	struct tb_xfinal f;
	tb_test_xfinal(&f, tp.x.txid, ds, TB_XO_COMMITTED);
	seal_only(&w.b, TB_KIND_XFINAL, &f);
	struct tb_verify_report rep;
	assert_int_equal(verify_pair(&w, &rep), TB_ETRUST);
	expect_at(&rep, TB_ETRUST, &w.a, ds);
	world_free(&w);
}

/* B records the exchange completed though A refused it. */
static void test_verify_outcome(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 60, 600);
	struct tb_test_xprepare tp;
	prep(&w, &tp, 1, "alice", 61, FAR, true);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 1, TB_XO_TRUST_LIMIT);
	uint64_t ds = put(s, &w.a, TB_KIND_XDECIDE, &d);
	struct tb_xfinal f;
	tb_test_xfinal(&f, tp.x.txid, ds, TB_XO_COMMITTED);
	uint64_t fs = put(s, &w.b, TB_KIND_XFINAL, &f); /* each log's rules allow it */
	struct tb_verify_report rep;
	assert_int_equal(verify_pair(&w, &rep), TB_ELEG);
	expect_at(&rep, TB_ELEG, &w.b, fs);
	/* And in the data directory holding both. */
	assert_int_equal(verify_store(&w, 0, &rep), TB_ELEG);
	expect_at(&rep, TB_ELEG, &w.b, fs);
	world_free(&w);
}

/* A's decision names other terms than B's prepare. */
static void test_verify_terms(void **state)
{
	(void)state;
	static const char *const what[] = {"minutes", "name", "seq", "txid", "from"};
	for (size_t k = 0; k < sizeof what / sizeof what[0]; k++) {
		struct world w;
		world_init(&w, 1);
		struct tb_store *s = w.s[0];
		setup_pair(&w, s, 600, 600);
		struct tb_test_xprepare tp;
		prep(&w, &tp, 1, "alice", 30, FAR, true); /* carol's ceiling */
		uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
		struct tb_xdecide d;
		tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 1, TB_XO_COMMITTED);
		if (k == 0)
			d.minutes = 90;
		else if (k == 1) /* carol (2) credited as named, not as the prepare named */
			d.to_name = (struct tb_view){(const uint8_t *)"carol", 5}, d.member = 2;
		else if (k == 2)
			d.from_seq = ps - 1; /* B's link */
		else if (k == 3)
			d.txid[0] ^= 1;
		else
			d.from_name = (struct tb_view){(const uint8_t *)"dan", 3};
		uint64_t ds = put(s, &w.a, TB_KIND_XDECIDE, &d);
		struct tb_verify_report rep;
		assert_int_equal(verify_pair(&w, &rep), TB_ELEG);
		expect_at(&rep, TB_ELEG, &w.a, ds);
		world_free(&w);
	}
}

/* A stored clearing account edited behind the rules' back. */
static void test_verify_tampered(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	struct tb_test_xprepare tp;
	prep(&w, &tp, 1, "alice", 45, FAR, true);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 1, TB_XO_COMMITTED);
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	struct tb_txn t;
	struct tb_logstate l;
	struct tb_clearing c;
	tb_txn_begin(&t, s->db, true);
	assert_int_equal(tb_logstate_get(&t, id_of(&w.a), &l), 0);
	assert_int_equal(tb_clearing_get(&t, l.lognum, id_of(&w.b), &c), 0);
	c.balance += 45;
	tb_clearing_put(&t, l.lognum, &c);
	assert_int_equal(tb_txn_commit(&t), 0);
	struct tb_verify_report rep;
	assert_int_equal(verify_store(&w, 0, &rep), TB_ECORRUPT);
	assert_memory_equal(rep.where.log_id, id_of(&w.a), TB_KEY_LEN);
	assert_non_null(strstr(rep.where.msg, "clearing"));
	world_free(&w);
}

/* ---- what one community cannot do to the clearing of others ---- */

static struct tb_clear clear_step(struct tb_store *s, const struct comm *c, unsigned what)
{
	struct tb_clear cl = {.what = what, .now = (uint64_t)time(NULL), .max = 1000};
	assert_int_equal(tb_store_clear(s, &c->log.kp, &cl), 0);
	return cl;
}

/* Finding 1: a prepare whose txid is already used in the provider's log
 * (by an exchange, or by a prepare of its own) is decided all the same, and
 * so is everything else; a decision is unique per prepare (payer log and
 * txid), not per txid of the deciding log. */
static void test_txid_reused(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	put_community(s, &w.c, "Lakeside", b_names, 0);
	put_link(s, &w.c, &w.a, 600);
	put_link(s, &w.a, &w.c, 600);
	/* A's own exchange uses the txid that B's and C's prepares reuse. */
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, id_of(&w.a), 4242, 1, 2, 10, NULL, NULL);
	uint64_t xs = put(s, &w.a, TB_KIND_EXCHANGE, &tx.x);
	struct tb_test_xprepare tp, tq, tc;
	tb_test_xprepare(&tp, id_of(&w.b), 4242, 1, id_of(&w.a), "alice", 30, FAR, NULL);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	prep(&w, &tq, 2, "alice", 20, FAR, false);
	put(s, &w.b, TB_KIND_XPREPARE, &tq.x);
	tb_test_xprepare(&tc, id_of(&w.c), 4242, 1, id_of(&w.a), "alice", 5, FAR, NULL);
	put(s, &w.c, TB_KIND_XPREPARE, &tc.x);
	assert_int_equal(tb_store_set_self(s, id_of(&w.a)), 0);

	struct tb_clear cl = clear_step(s, &w.a, TB_CLEAR_DECIDE);
	assert_int_equal(cl.decided, 3);
	assert_int_equal(cl.skips, 0);
	assert_int_equal(outcome_of(s, &w.b, &tp), TB_XO_COMMITTED);
	assert_int_equal(outcome_of(s, &w.b, &tq), TB_XO_COMMITTED);
	assert_int_equal(outcome_of(s, &w.c, &tc), TB_XO_COMMITTED);
	/* The exchange keeps its txid: it can still be looked up, reversed. */
	uint64_t seq, rev;
	assert_int_equal(tb_store_tx(s, id_of(&w.a), tx.x.txid, &seq, &rev), 0);
	assert_int_equal(seq, xs);
	/* A second decision on the same prepare is refused. */
	resync(&w.a, s);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 1, TB_XO_TRUST_LIMIT);
	refuse(s, &w.a, TB_KIND_XDECIDE, &d, TB_EDUPTX);
	assert_int_equal(clear_step(s, &w.b, TB_CLEAR_FINAL).finished, 2);
	assert_int_equal(clear_step(s, &w.c, TB_CLEAR_FINAL).finished, 1);
	check_sums(s, &w);
	check_sum(s, &w.c);
	check_mirror(s, &w.a, s, &w.b);
	struct tb_verify_report rep;
	assert_int_equal(verify_store(&w, 0, &rep), 0);
	world_free(&w);
}

/* Finding 2: a decision in a third community's log on B's prepare to A is
 * a valid entry of that log but counts for nothing: A still decides, B
 * finishes on A's decision; verification reports the third log (ELEG). In
 * either order of the logs. */
static void test_decided_elsewhere(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 3);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	put_community(s, &w.c, "Lakeside", b_names, 0);
	put_link(s, &w.c, &w.b, 600);
	struct tb_test_xprepare tp;
	prep(&w, &tp, 1, "alice", 30, FAR, true);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 0, TB_XO_TRUST_LIMIT);
	uint64_t cs = put(s, &w.c, TB_KIND_XDECIDE, &d);
	struct tb_xleg x;
	assert_int_equal(tb_store_xleg(s, id_of(&w.b), tp.x.txid, &x), 0);
	assert_int_equal(x.decide_seq, 0);
	/* B has nothing to finish; A has the prepare to decide. */
	assert_int_equal(clear_step(s, &w.b, TB_CLEAR_FINAL).finished, 0);
	assert_int_equal(clear_step(s, &w.a, TB_CLEAR_DECIDE).decided, 1);
	assert_int_equal(outcome_of(s, &w.b, &tp), TB_XO_COMMITTED);
	assert_int_equal(tb_store_xleg(s, id_of(&w.b), tp.x.txid, &x), 0);
	assert_memory_equal(x.decider, id_of(&w.a), TB_KEY_LEN);
	assert_int_equal(clear_step(s, &w.b, TB_CLEAR_FINAL).finished, 1);
	check_sums(s, &w);
	check_mirror(s, &w.a, s, &w.b);
	/* The same books whatever the order the logs were held in. */
	char *x0 = xstate(s);
	copy_log(w.s[1], s, id_of(&w.c));
	copy_log(w.s[1], s, id_of(&w.b));
	copy_log(w.s[1], s, id_of(&w.a));
	copy_log(w.s[2], s, id_of(&w.b));
	copy_log(w.s[2], s, id_of(&w.a));
	copy_log(w.s[2], s, id_of(&w.c));
	char *x1 = xstate(w.s[1]), *x2 = xstate(w.s[2]);
	assert_string_equal(x0, x1);
	assert_string_equal(x0, x2);
	free(x0);
	free(x1);
	free(x2);
	struct tb_verify_report rep;
	assert_int_equal(verify_store(&w, 0, &rep), TB_ELEG);
	expect_at(&rep, TB_ELEG, &w.c, cs);
	world_free(&w);
}

/* Member 3 of c, "rich", may go far into debt. */
static void put_rich(struct tb_store *s, struct comm *c)
{
	struct tb_member_join j;
	tb_test_join(&j, 3, "rich", &c->mk[3], -60000000, 0);
	put(s, c, TB_KIND_MEMBER_JOIN, &j);
}

/* Seals n attested prepares of c's member 3 (put_rich) toward `to` into s
 * in one batch (faster than put); returns the seq of the last. */
static uint64_t prepares(struct tb_store *s, struct comm *c, const uint8_t *to, size_t n,
			 uint64_t minutes)
{
	struct tb_test_recs r = {0};
	for (size_t i = 0; i < n; i++) {
		struct tb_test_xprepare tp;
		tb_test_xprepare(&tp, id_of(c), ++c->txno, 3, to, "alice", minutes, FAR, NULL);
		tb_test_log_add(&c->log, &r, TB_KIND_XPREPARE, &tp.x);
	}
	size_t acc = 0;
	struct tb_reject rej;
	int err = tb_store_append(s, tb_test_recs_views(&r, 0), r.n, &acc, &rej);
	if (err)
		fail_msg("prepares refused: %s at seq %llu: %s", tb_errname(err),
			 (unsigned long long)rej.seq, rej.msg);
	for (size_t i = 0; i < r.n; i++)
		tb_test_recs_add(&c->recs, tb_test_recs_views(&r, 0)[i].p, r.rlen[i]);
	tb_test_recs_free(&r);
	return c->log.seq;
}

/* Finding 3: no community can have more than TB_XOPEN_MAX prepares open
 * toward one other; and prepares nobody answers (toward logs nobody holds,
 * any number) are in no node's work: the clearing step reaches the
 * exchanges that are due. */
static void test_open_cap(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	put_rich(s, &w.b);
	put_community(s, &w.c, "Lakeside", b_names, 0);
	put_rich(s, &w.c);
	/* C prepares toward two communities nobody holds, 200 each. */
	struct tb_keypair ghost[2];
	for (int g = 0; g < 2; g++) {
		tb_test_keypair(&ghost[g], 900 + (uint32_t)g);
		struct tb_link l;
		tb_test_link(&l, ghost[g].pk.b, 600);
		put(s, &w.c, TB_KIND_LINK, &l);
		prepares(s, &w.c, ghost[g].pk.b, 200, 1);
	}
	/* B fills its open prepares toward A up to the cap. */
	prepares(s, &w.b, id_of(&w.a), TB_XOPEN_MAX, 1);
	assert_int_equal(clr(s, &w.b, &w.a).open, TB_XOPEN_MAX);
	struct tb_test_xprepare tp;
	tb_test_xprepare(&tp, id_of(&w.b), ++w.b.txno, 3, id_of(&w.a), "alice", 1, FAR, NULL);
	refuse(s, &w.b, TB_KIND_XPREPARE, &tp.x, TB_EOPEN);
	/* A's work is B's 1000 only; C's 400 are nobody's. */
	size_t h, dd, ff;
	assert_int_equal(tb_store_set_self(s, id_of(&w.a)), 0);
	assert_int_equal(tb_store_clear_due(s, &h, &dd, &ff), 0);
	assert_int_equal(dd, TB_XOPEN_MAX);
	struct tb_clear cl = clear_step(s, &w.a, TB_CLEAR_DECIDE);
	assert_int_equal(cl.decided, TB_XOPEN_MAX);
	assert_false(cl.more);
	/* Finished, they are no longer open: B may prepare again. */
	assert_int_equal(clear_step(s, &w.b, TB_CLEAR_FINAL).finished, TB_XOPEN_MAX);
	assert_int_equal(clr(s, &w.b, &w.a).open, 0);
	resync(&w.b, s);
	put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	assert_int_equal(clr(s, &w.b, &w.a).open, 1);
	assert_int_equal(clr(s, &w.c, &w.a).open, 0);
	check_sums(s, &w);
	check_mirror(s, &w.a, s, &w.b);
	world_free(&w);
}

/* A prepare the provider cannot decide (its log already holds a decision
 * on it that does not answer it, so a second is refused) is skipped and
 * reported, and the step records the others in the same commit. */
static void test_clear_skips(void **state)
{
	(void)state;
	struct world w;
	world_init(&w, 1);
	struct tb_store *s = w.s[0];
	setup_pair(&w, s, 600, 600);
	struct tb_test_xprepare tp, tq;
	prep(&w, &tp, 1, "alice", 30, FAR, false);
	uint64_t ps = put(s, &w.b, TB_KIND_XPREPARE, &tp.x);
	prep(&w, &tq, 1, "alice", 20, FAR, false);
	put(s, &w.b, TB_KIND_XPREPARE, &tq.x);
	/* A refusal in A's log naming the prepare with other minutes. */
	struct tb_xdecide d;
	tb_test_xdecide(&d, &tp.x, id_of(&w.b), ps, "bob", 0, TB_XO_EXPIRED);
	d.minutes = 31;
	put(s, &w.a, TB_KIND_XDECIDE, &d);
	struct tb_xleg x;
	assert_int_equal(tb_store_xleg(s, id_of(&w.b), tp.x.txid, &x), 0);
	assert_int_equal(x.decide_seq, 0);
	struct tb_head before;
	assert_int_equal(tb_store_head(s, id_of(&w.a), &before), 0);
	struct tb_clear cl = clear_step(s, &w.a, TB_CLEAR_DECIDE);
	assert_int_equal(cl.decided, 1);
	assert_int_equal(cl.skips, 1);
	struct tb_head after;
	assert_int_equal(tb_store_head(s, id_of(&w.a), &after), 0);
	assert_int_equal(after.seq, before.seq + 1);
	assert_int_equal(outcome_of(s, &w.b, &tq), TB_XO_COMMITTED);
	assert_int_equal(clear_step(s, &w.b, TB_CLEAR_FINAL).finished, 1);
	check_sums(s, &w);
	world_free(&w);
}

int main(void)
{
	if (tb_crypto_init())
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link),	     cmocka_unit_test(test_prepare),
		cmocka_unit_test(test_decide),	     cmocka_unit_test(test_final),
		cmocka_unit_test(test_two_stores),   cmocka_unit_test(test_clear),
		cmocka_unit_test(test_reindex),	     cmocka_unit_test(test_verify_dirs),
		cmocka_unit_test(test_verify_trust), cmocka_unit_test(test_verify_outcome),
		cmocka_unit_test(test_verify_terms), cmocka_unit_test(test_verify_tampered),
		cmocka_unit_test(test_txid_reused),  cmocka_unit_test(test_decided_elsewhere),
		cmocka_unit_test(test_open_cap),     cmocka_unit_test(test_clear_skips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
