/*
 * test_store.c: the ledger store through its public API, with real LMDB in a
 * temp dir and real signatures (keys from tb_test_keypair). Covers a
 * community's life (genesis, members, attested and member-signed exchanges,
 * reversals, leaving, key changes) and every derived view; every refusal with
 * its own code, its place and the store left byte-for-byte unchanged; batches
 * that commit exactly their valid prefix; a 3000-entry member-signed batch
 * verified on several threads; Merkle roots and proofs against a tree rebuilt
 * in memory; reindex; memos and pending proposals; exports and data
 * directories that must fail verification, naming the right log and seq, for
 * any single byte changed in any record.
 */
#define _GNU_SOURCE /* memmem */
#include "testutil.h"

#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store_int.h"
#include "tb_merkle.h"

#define MAXMEM 12

/* A community log as a test writes it, with its members' keys. */
struct comm {
	struct tb_test_log log;
	struct tb_keypair mk[MAXMEM + 1]; /* 1-based */
	uint64_t txno;			  /* last transaction id number used */
	struct tb_test_recs recs;	  /* every record sealed, in order */
};

struct fixture {
	char *dir;
	char data[4200];
	struct tb_store *s;
};

static void comm_init(struct comm *c, uint32_t keyno)
{
	memset(c, 0, sizeof *c);
	tb_test_log_init(&c->log, keyno);
	for (uint32_t i = 1; i <= MAXMEM; i++)
		tb_test_keypair(&c->mk[i], keyno * 1000 + i);
	c->txno = (uint64_t)keyno * 1000000;
}

static void comm_free(struct comm *c)
{
	tb_test_recs_free(&c->recs);
}

static const uint8_t *id_of(struct comm *c)
{
	return c->log.kp.pk.b;
}

/* Seals the next entry of c into out (kept in c->recs). */
static size_t comm_seal(struct comm *c, uint8_t out[TB_ENTRY_MAX], uint64_t kind, const void *body)
{
	size_t len = tb_test_seal(&c->log, out, kind, body);
	tb_test_recs_add(&c->recs, out, len);
	return len;
}

static void must_append(struct tb_store *s, const uint8_t *rec, size_t len)
{
	struct tb_view v = {rec, len};
	size_t acc = 0;
	struct tb_reject rej;
	int err = tb_store_append(s, &v, 1, &acc, &rej);
	if (err)
		fail_msg("append refused: %s at seq %llu: %s", tb_errname(err),
			 (unsigned long long)rej.seq, rej.msg);
	assert_int_equal(acc, 1);
}

static uint64_t put_kind(struct tb_store *s, struct comm *c, uint64_t kind, const void *body)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = comm_seal(c, rec, kind, body);
	must_append(s, rec, len);
	return c->log.seq;
}

static uint64_t put_genesis(struct tb_store *s, struct comm *c, const char *name)
{
	struct tb_genesis g;
	tb_test_genesis(&g, name, -600, 0);
	return put_kind(s, c, TB_KIND_GENESIS, &g);
}

static uint64_t put_join(struct tb_store *s, struct comm *c, uint32_t no, const char *name,
			 int64_t floor, uint64_t ceiling)
{
	struct tb_member_join j;
	tb_test_join(&j, no, name, &c->mk[no], floor, ceiling);
	return put_kind(s, c, TB_KIND_MEMBER_JOIN, &j);
}

/* Appends an exchange (member-signed if sign) and returns its txid number. */
static uint64_t put_xchg(struct tb_store *s, struct comm *c, uint32_t prov, uint32_t recv,
			 uint64_t minutes, bool sign)
{
	struct tb_test_exchange tx;
	uint64_t txno = ++c->txno;
	tb_test_exchange(&tx, id_of(c), txno, prov, recv, minutes, sign ? &c->mk[prov] : NULL,
			 sign ? &c->mk[recv] : NULL);
	put_kind(s, c, TB_KIND_EXCHANGE, &tx.x);
	return txno;
}

static uint64_t put_rev(struct tb_store *s, struct comm *c, uint64_t orig, uint32_t prov,
			uint32_t recv, bool sign)
{
	struct tb_test_reversal tr;
	uint64_t txno = ++c->txno;
	tb_test_reversal(&tr, id_of(c), txno, orig, sign ? &c->mk[prov] : NULL,
			 sign ? &c->mk[recv] : NULL);
	put_kind(s, c, TB_KIND_REVERSAL, &tr.r);
	return txno;
}

static uint64_t put_left(struct tb_store *s, struct comm *c, uint32_t no)
{
	struct tb_member_left l = {no};
	return put_kind(s, c, TB_KIND_MEMBER_LEFT, &l);
}

static int64_t balance(struct tb_store *s, const uint8_t *log, uint32_t no)
{
	struct tb_member m;
	assert_int_equal(tb_store_member(s, log, no, &m), 0);
	return m.balance;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->dir = tb_test_scratchdir("store");
	snprintf(f->data, sizeof f->data, "%s/data", f->dir);
	assert_int_equal(mkdir(f->data, 0700), 0);
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_store_free(f->s);
	tb_test_rmrf(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fixture *f)
{
	tb_store_free(f->s);
	f->s = NULL;
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
}

/* ---- a community's life ---- */

struct hist {
	struct tb_history_item it[64];
	size_t n;
};

static int hist_cb(void *ctx, const struct tb_history_item *h)
{
	struct hist *hs = ctx;
	assert_true(hs->n < 64);
	hs->it[hs->n++] = *h;
	return 0;
}

static void check_history(struct tb_store *s, const uint8_t *log, uint32_t no,
			  const struct tb_history_item *want, size_t n)
{
	struct hist h = {.n = 0};
	assert_int_equal(tb_store_foreach_history(s, log, no, hist_cb, &h), 0);
	assert_int_equal(h.n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(h.it[i].seq, want[i].seq);
		assert_int_equal(h.it[i].delta, want[i].delta);
		assert_int_equal(h.it[i].balance, want[i].balance);
	}
}

static void check_head(struct tb_store *s, struct comm *c)
{
	struct tb_head h;
	assert_int_equal(tb_store_head(s, id_of(c), &h), 0);
	assert_int_equal(h.seq, c->log.seq);
	assert_memory_equal(h.hash, c->log.head, TB_HASHLEN);
	assert_int_equal(h.flags, 0);
}

static void test_community_life(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c;
	comm_init(&c, 1);
	const uint8_t *L = id_of(&c);

	assert_int_equal(put_genesis(s, &c, "Riverside"), 1);
	put_join(s, &c, 1, "alice", -600, 0);
	put_join(s, &c, 2, "bob", -600, 300);
	put_join(s, &c, 3, "carol", -1500, 0);
	put_join(s, &c, 4, "dave", -600, 0);
	uint64_t t1 = put_xchg(s, &c, 1, 2, 90, false); /* seq 6 */
	uint64_t t2 = put_xchg(s, &c, 3, 1, 45, true);	/* seq 7 */
	uint64_t t3 = put_xchg(s, &c, 2, 4, 120, true); /* seq 8 */
	uint64_t r3 = put_rev(s, &c, t3, 2, 4, true);	/* seq 9 */
	uint64_t t4 = put_xchg(s, &c, 4, 3, 30, false); /* seq 10 */
	uint64_t r4 = put_rev(s, &c, t4, 4, 3, false);	/* seq 11 */
	put_left(s, &c, 4);				/* seq 12 */
	check_head(s, &c);

	assert_int_equal(balance(s, L, 1), 90 - 45);
	assert_int_equal(balance(s, L, 2), -90);
	assert_int_equal(balance(s, L, 3), 45);
	assert_int_equal(balance(s, L, 4), 0);

	struct tb_community cm;
	assert_int_equal(tb_store_community(s, L, &cm), 0);
	assert_string_equal(cm.name, "Riverside");
	assert_int_equal(cm.floor, -600);
	assert_int_equal(cm.ceiling, 0);
	assert_int_equal(cm.members, 4);
	assert_int_equal(cm.active, 3);
	assert_int_equal(cm.exchanges, 4);
	assert_int_equal(cm.reversals, 2);
	assert_int_equal(cm.minutes, 90 + 45);

	struct tb_member m;
	assert_int_equal(tb_store_member(s, L, 2, &m), 0);
	assert_string_equal(m.name, "bob");
	assert_memory_equal(m.key, c.mk[2].pk.b, TB_KEY_LEN);
	assert_int_equal(m.floor, -600);
	assert_int_equal(m.ceiling, 300);
	assert_true(m.active);
	assert_int_equal(m.joined_seq, 3);
	assert_int_equal(tb_store_member(s, L, 4, &m), 0);
	assert_false(m.active);
	assert_int_equal(tb_store_member(s, L, 5, &m), TB_ENOTFOUND);
	assert_int_equal(tb_store_member_by_name(s, L, "carol", &m), 0);
	assert_int_equal(m.no, 3);
	assert_int_equal(tb_store_member_by_name(s, L, "dave", &m), TB_ENOTFOUND);
	assert_int_equal(tb_store_member_by_name(s, L, "", &m), TB_ENOTFOUND);

	const struct tb_history_item h1[] = {{6, 90, 90}, {7, -45, 45}};
	const struct tb_history_item h2[] = {{6, -90, -90}, {8, 120, 30}, {9, -120, -90}};
	const struct tb_history_item h3[] = {{7, 45, 45}, {10, -30, 15}, {11, 30, 45}};
	const struct tb_history_item h4[] = {
		{8, -120, -120}, {9, 120, 0}, {10, 30, 30}, {11, -30, 0}};
	check_history(s, L, 1, h1, 2);
	check_history(s, L, 2, h2, 3);
	check_history(s, L, 3, h3, 3);
	check_history(s, L, 4, h4, 4);
	check_history(s, L, 9, NULL, 0);

	uint8_t txid[TB_TXID_LEN];
	uint64_t seq, rev;
	struct {
		uint64_t txno, seq, rev;
	} txs[] = {{t1, 6, 0}, {t2, 7, 0}, {t3, 8, 9}, {r3, 9, 0}, {t4, 10, 11}, {r4, 11, 0}};
	for (size_t i = 0; i < sizeof txs / sizeof txs[0]; i++) {
		tb_test_txid(txid, txs[i].txno);
		assert_int_equal(tb_store_tx(s, L, txid, &seq, &rev), 0);
		assert_int_equal(seq, txs[i].seq);
		assert_int_equal(rev, txs[i].rev);
	}
	tb_test_txid(txid, 424242);
	assert_int_equal(tb_store_tx(s, L, txid, &seq, &rev), TB_ENOTFOUND);

	/* The records come back byte for byte. */
	const struct tb_view *v = tb_test_recs_views(&c.recs, 0);
	for (size_t i = 0; i < c.recs.n; i++) {
		uint8_t buf[TB_ENTRY_MAX];
		size_t len;
		assert_int_equal(tb_store_get_entry(s, L, i + 1, buf, sizeof buf, &len), 0);
		assert_int_equal(len, v[i].len);
		assert_memory_equal(buf, v[i].p, len);
		assert_int_equal(tb_store_get_entry(s, L, i + 1, buf, len - 1, &len), TB_ETOOBIG);
	}
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	assert_int_equal(tb_store_get_entry(s, L, 13, buf, sizeof buf, &len), TB_ENOTFOUND);

	/* Everything survives closing and reopening. */
	char *before = tb_test_store_dump(s);
	reopen(f);
	char *after = tb_test_store_dump(f->s);
	assert_string_equal(before, after);
	free(before);
	free(after);
	comm_free(&c);
}

/* The own log, written through tb_store_append_own, next to a peer's log. */
static void test_own_log(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm own, peer;
	comm_init(&own, 7);
	comm_init(&peer, 8);
	const uint8_t *O = id_of(&own);

	uint8_t self[TB_KEY_LEN];
	assert_int_equal(tb_store_self(s, self), TB_ENOTFOUND);
	assert_int_equal(tb_store_set_self(s, O), 0);
	assert_int_equal(tb_store_set_self(s, O), TB_EEXISTS);
	assert_int_equal(tb_store_self(s, self), 0);
	assert_memory_equal(self, O, TB_KEY_LEN);

	struct tb_reject rej;
	uint64_t seq = 0;
	struct tb_genesis g;
	tb_test_genesis(&g, "Hillside", -900, 0);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_GENESIS, &g, &seq, &rej), 0);
	assert_int_equal(seq, 1);
	const char *names[] = {"", "ann", "ben", "cat"};
	for (uint32_t i = 1; i <= 3; i++) {
		struct tb_member_join j;
		tb_test_join(&j, i, names[i], &own.mk[i], -600, 0);
		assert_int_equal(
			tb_store_append_own(s, &own.log.kp, TB_KIND_MEMBER_JOIN, &j, &seq, &rej),
			0);
		assert_int_equal(seq, 1 + i);
	}
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, O, 1, 1, 2, 60, &own.mk[1], &own.mk[2]);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, NULL),
			 0);
	assert_int_equal(seq, 5);
	tb_test_exchange(&tx, O, 2, 3, 2, 30, NULL, NULL);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, NULL, &rej),
			 0);
	struct tb_test_reversal tr;
	tb_test_reversal(&tr, O, 3, 1, &own.mk[1], &own.mk[2]);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_REVERSAL, &tr.r, &seq, &rej),
			 0);
	assert_int_equal(seq, 7);
	assert_int_equal(balance(s, O, 1), 0);
	assert_int_equal(balance(s, O, 2), -30);
	assert_int_equal(balance(s, O, 3), 30);

	/* A peer's log beside it. */
	put_genesis(s, &peer, "Lakeside");
	put_join(s, &peer, 1, "ann", -600, 0);
	put_join(s, &peer, 2, "ben", -600, 0);
	put_xchg(s, &peer, 1, 2, 15, true);
	assert_int_equal(balance(s, id_of(&peer), 1), 15);
	assert_int_equal(balance(s, O, 1), 0);

	/* Refusals through append_own: code, message, nothing written; the same
	 * code whether or not a reject is asked for. */
	char *before = tb_test_store_dump(s);
	tb_test_exchange(&tx, O, 4, 2, 2, 5, NULL, NULL);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_ESELF);
	assert_int_equal(rej.err, TB_ESELF);
	assert_int_equal(rej.seq, 8);
	assert_memory_equal(rej.log_id, O, TB_KEY_LEN);
	tb_test_exchange(&tx, O, 4, 1, 2, 571, NULL, NULL);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_EFLOOR);
	assert_non_null(strstr(rej.msg, "-10:00"));
	assert_non_null(strstr(rej.msg, "-10:01"));
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, NULL),
			 TB_EFLOOR);
	/* A forged member signature: the receiver's signed by someone else. */
	tb_test_exchange(&tx, O, 4, 1, 2, 10, &own.mk[1], &own.mk[3]);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_ECONSENT);
	assert_int_equal(rej.err, TB_ECONSENT);
	assert_int_equal(rej.seq, 8);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, NULL),
			 TB_ECONSENT);
	tb_test_reversal(&tr, O, 5, 1, &own.mk[1], &own.mk[2]);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_REVERSAL, &tr.r, &seq, &rej),
			 TB_EREVERSED);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, 99, &tr.r, &seq, &rej), TB_EINVAL);
	/* Text the decoder would refuse never becomes an entry. */
	tb_test_exchange(&tx, O, 4, 1, 2, 10, NULL, NULL);
	tx.x.category.p = (const uint8_t *)"bad\x01text";
	tx.x.category.len = 8;
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_EUTF8);
	assert_int_equal(rej.err, TB_EUTF8);
	assert_int_equal(rej.seq, 8);
	tx.x.category.p = (const uint8_t *)"\xff";
	tx.x.category.len = 1;
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, NULL),
			 TB_EUTF8);
	tb_test_exchange(&tx, O, 4, 1, 2, 0, NULL, NULL);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_ERANGE);
	/* A key pair whose secret key signs for another public key (its own
	 * signature is not verified again: this check stands for it). */
	struct tb_keypair odd = own.log.kp;
	odd.sk[TB_SECKEY_LEN - 1] ^= 1;
	tb_test_exchange(&tx, O, 4, 1, 2, 10, NULL, NULL);
	assert_int_equal(tb_store_append_own(s, &odd, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_EINVAL);
	assert_int_equal(rej.err, TB_EINVAL);
	char *after = tb_test_store_dump(s);
	assert_string_equal(before, after);
	free(before);
	free(after);

	/* No store where there is no directory. */
	char missing[4300];
	struct tb_store *none = (struct tb_store *)&missing;
	snprintf(missing, sizeof missing, "%s/missing", f->dir);
	assert_int_not_equal(tb_store_open(&none, missing, 0), 0);
	assert_null(none);

	/* A read-only store takes nothing. */
	tb_store_free(f->s);
	assert_int_equal(tb_store_open(&f->s, f->data, TB_STORE_RDONLY), 0);
	s = f->s;
	tb_test_exchange(&tx, O, 4, 1, 2, 10, NULL, NULL);
	assert_int_equal(tb_store_append_own(s, &own.log.kp, TB_KIND_EXCHANGE, &tx.x, &seq, &rej),
			 TB_EINVAL);
	size_t acc = 7;
	const struct tb_view *v = tb_test_recs_views(&peer.recs, 0);
	assert_int_equal(tb_store_append(s, v, 1, &acc, &rej), TB_EINVAL);
	assert_int_equal(acc, 0);
	assert_int_equal(tb_store_reindex(s, &rej), TB_EINVAL);
	assert_int_equal(balance(s, O, 3), 30);
	comm_free(&own);
	comm_free(&peer);
}

/* ---- duplicates ---- */

static void test_duplicates(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c;
	comm_init(&c, 2);
	struct tb_test_recs r = {0};
	struct tb_genesis g;
	tb_test_genesis(&g, "Dupes", -600, 0);
	tb_test_log_add(&c.log, &r, TB_KIND_GENESIS, &g);
	for (uint32_t i = 1; i <= 3; i++) {
		struct tb_member_join j;
		char *name = i == 1 ? "x" : i == 2 ? "y" : "z";
		tb_test_join(&j, i, name, &c.mk[i], -600, 0);
		tb_test_log_add(&c.log, &r, TB_KIND_MEMBER_JOIN, &j);
	}
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, id_of(&c), 1, 1, 2, 30, &c.mk[1], &c.mk[2]);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(s, tb_test_recs_views(&r, 0), 3, &acc, &rej), 0);
	assert_int_equal(acc, 3);
	char *before = tb_test_store_dump(s);
	/* The same records again: all skipped, nothing changes. */
	assert_int_equal(tb_store_append(s, tb_test_recs_views(&r, 0), 3, &acc, &rej), 0);
	assert_int_equal(acc, 3);
	char *after = tb_test_store_dump(s);
	assert_string_equal(before, after);
	free(after);
	/* Held ones then new ones in one batch; a record twice in one batch. */
	struct tb_view batch[6];
	const struct tb_view *v = tb_test_recs_views(&r, 0);
	batch[0] = v[1];
	batch[1] = v[2];
	batch[2] = v[3];
	batch[3] = v[3];
	batch[4] = v[4];
	batch[5] = v[0];
	/* Each accepted record is placed (log, seq), skipped copies too. */
	struct tb_placed placed[6];
	memset(placed, 0xee, sizeof placed);
	assert_int_equal(tb_store_append_placed(s, batch, 6, &acc, placed, &rej), 0);
	assert_int_equal(acc, 6);
	static const uint64_t seqs[6] = {2, 3, 4, 4, 5, 1};
	for (size_t i = 0; i < 6; i++) {
		assert_memory_equal(placed[i].log_id, id_of(&c), TB_KEY_LEN);
		assert_int_equal(placed[i].seq, seqs[i]);
	}
	struct tb_head h;
	assert_int_equal(tb_store_head(s, id_of(&c), &h), 0);
	assert_int_equal(h.seq, 5);
	assert_int_equal(balance(s, id_of(&c), 1), 30);
	assert_int_equal(balance(s, id_of(&c), 2), -30);
	/* Empty batches and oversized ones. */
	assert_int_equal(tb_store_append(s, v, 0, &acc, &rej), 0);
	assert_int_equal(acc, 0);
	assert_int_equal(tb_store_append(s, v, TB_APPEND_MAX + 1, &acc, &rej), TB_EINVAL);
	assert_int_equal(acc, 0);
	free(before);
	tb_test_recs_free(&r);
	comm_free(&c);
}

/* ---- refusals ---- */

static void expect_refusal(struct tb_store *s, const uint8_t *rec, size_t len, int code,
			   const uint8_t *log_id, uint64_t seq, const char *msgpart)
{
	char *before = tb_test_store_dump(s);
	struct tb_view v = {rec, len};
	size_t acc = 99;
	struct tb_reject rej;
	int err = tb_store_append(s, &v, 1, &acc, &rej);
	if (err != code)
		fail_msg("expected %s, got %s (%s)", tb_errname(code), tb_errname(err), rej.msg);
	assert_int_equal(rej.err, code);
	assert_int_equal(acc, 0);
	assert_true(rej.msg[0] != '\0');
	if (log_id && (memcmp(rej.log_id, log_id, TB_KEY_LEN) || rej.seq != seq))
		fail_msg("%s refused at seq %llu of %s log, not at %llu (%s)", tb_errname(code),
			 (unsigned long long)rej.seq,
			 memcmp(rej.log_id, log_id, TB_KEY_LEN) ? "another" : "its",
			 (unsigned long long)seq, rej.msg);
	if (msgpart && !strstr(rej.msg, msgpart))
		fail_msg("refusal '%s' does not say '%s'", rej.msg, msgpart);
	char *after = tb_test_store_dump(s);
	assert_string_equal(before, after);
	free(after);
	/* The same answer without a reject to fill. */
	assert_int_equal(tb_store_append(s, &v, 1, &acc, NULL), code);
	after = tb_test_store_dump(s);
	assert_string_equal(before, after);
	free(after);
	free(before);
}

/* Re-signs a record whose signed part (first slen bytes) a test edited. */
static size_t resign(uint8_t *rec, size_t slen, const struct tb_keypair *kp)
{
	tb_sign(rec + slen, kp, TB_CTX_ENTRY, rec, slen);
	return slen + TB_SIGLEN;
}

static size_t signed_len(const uint8_t *rec, size_t len)
{
	struct tb_entry e;
	assert_int_equal(tb_entry_decode(&e, rec, len), 0);
	return e.signed_part.len;
}

/* Refusal of the next entry of c with body (sealed in place). */
static void refuse_next(struct tb_store *s, struct comm *c, uint64_t kind, const void *body,
			int code, const char *msgpart)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal_next(&c->log, rec, kind, body);
	expect_refusal(s, rec, len, code, id_of(c), c->log.seq + 1, msgpart);
}

static void refuse_xchg(struct tb_store *s, struct comm *c, uint64_t txno, uint32_t prov,
			uint32_t recv, uint64_t minutes, bool sign, int code, const char *msgpart)
{
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, id_of(c), txno, prov, recv, minutes,
			 sign && prov <= MAXMEM ? &c->mk[prov] : NULL,
			 sign && recv <= MAXMEM ? &c->mk[recv] : NULL);
	refuse_next(s, c, TB_KIND_EXCHANGE, &tx.x, code, msgpart);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c;
	comm_init(&c, 3);
	const uint8_t *L = id_of(&c);
	put_genesis(s, &c, "Refusals");
	put_join(s, &c, 1, "alice", -600, 0);
	put_join(s, &c, 2, "bob", -600, 300);
	put_join(s, &c, 3, "carol", -600, 0);
	put_join(s, &c, 4, "dave", -600, 0);
	put_join(s, &c, 5, "erin", -600, 0);
	uint64_t t1 = put_xchg(s, &c, 1, 2, 60, false); /* seq 7 */
	uint64_t t2 = put_xchg(s, &c, 3, 1, 30, true);	/* seq 8 */
	put_left(s, &c, 5);				/* seq 9 */
	uint64_t fresh = c.txno + 100;
	uint64_t next = c.log.seq + 1;
	uint8_t rec[TB_ENTRY_MAX], bad[TB_ENTRY_MAX + 16];
	size_t len, slen;
	struct tb_test_exchange tx;
	struct tb_test_reversal tr;
	struct tb_member_join j;

	/* Decoding: truncated, oversized, trailing, non-canonical, bad ranges. */
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[2]);
	len = tb_test_seal_next(&c.log, rec, TB_KIND_EXCHANGE, &tx.x);
	expect_refusal(s, rec, len - 1, TB_ETRUNCATED, L, next, NULL);
	expect_refusal(s, rec, 30, TB_ETRUNCATED, NULL, 0, NULL);
	expect_refusal(s, rec, 0, TB_ETRUNCATED, NULL, 0, NULL);
	memcpy(bad, rec, len);
	bad[len] = 0;
	expect_refusal(s, bad, len + 1, TB_ETRAILING, L, next, NULL);
	memset(bad, 0x90, TB_ENTRY_MAX + 1);
	memcpy(bad, rec, len);
	expect_refusal(s, bad, TB_ENTRY_MAX + 1, TB_ETOOBIG, NULL, 0, NULL);
	/* seq as a uint8 (0xcc) instead of a positive fixint, validly signed. */
	slen = signed_len(rec, len);
	assert_int_equal(rec[36], next);
	memcpy(bad, rec, 36);
	bad[36] = 0xcc;
	memcpy(bad + 37, rec + 36, slen - 36);
	expect_refusal(s, bad, resign(bad, slen + 1, &c.log.kp), TB_ENONCANON, NULL, 0, NULL);
	/* the timestamp as a uint64 (0xcf) instead of a uint32 (0xce) */
	assert_int_equal(rec[71], 0xce);
	memcpy(bad, rec, 71);
	bad[71] = 0xcf;
	memset(bad + 72, 0, 4);
	memcpy(bad + 76, rec + 72, slen - 72);
	expect_refusal(s, bad, resign(bad, slen + 4, &c.log.kp), TB_ENONCANON, L, next, NULL);
	/* An unknown kind, validly signed. */
	memcpy(bad, rec, len);
	assert_int_equal(bad[76], TB_KIND_EXCHANGE);
	bad[76] = 127; /* a kind no version defines (the largest one-byte kind) */
	expect_refusal(s, bad, resign(bad, slen, &c.log.kp), TB_EKIND, L, next, NULL);
	/* Version 2. */
	memcpy(bad, rec, len);
	bad[1] = 2;
	expect_refusal(s, bad, resign(bad, slen, &c.log.kp), TB_EVERSION, NULL, 0, NULL);
	/* Minutes 0 and over the cap do not decode. */
	refuse_xchg(s, &c, fresh, 1, 2, 0, false, TB_ERANGE, NULL);
	refuse_xchg(s, &c, fresh, 1, 2, TB_MINUTES_MAX + 1, false, TB_ERANGE, NULL);

	/* Signatures. */
	memcpy(bad, rec, len);
	bad[len - 1] ^= 0x01;
	expect_refusal(s, bad, len, TB_EBADSIG, L, next, "log key");
	memcpy(bad, rec, len);
	bad[slen - 10] ^= 0x01; /* in the receiver's signature: the entry's is reported */
	expect_refusal(s, bad, len, TB_EBADSIG, L, next, NULL);
	memcpy(bad, rec, len);
	expect_refusal(s, bad, resign(bad, slen, &c.mk[1]), TB_EBADSIG, L, next, NULL);
	/* Member consent: a receiver signature by another member. */
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[3]);
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, "consent");
	/* Signed for another log. */
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, NULL, NULL);
	tb_test_exchange_sign(&tx, c.mk[12].pk.b, &c.mk[1], &c.mk[2]);
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);
	/* Terms changed after signing. */
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[2]);
	tx.x.minutes = 11;
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);
	/* Provider and receiver signatures swapped. */
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[2], &c.mk[1]);
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);
	/* Attested but carrying signatures; unattested with one or none. */
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[2]);
	tx.x.attested = 1;
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, NULL, NULL);
	tx.x.attested = 0;
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[2]);
	tx.x.receiver_sig.len = 0;
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[2]);
	tx.x.receiver_sig.len = 63;
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, NULL);

	/* Chain: wrong prev, gap, conflicting entry at a held seq, unknown log. */
	uint8_t prev[TB_HASHLEN];
	memcpy(prev, c.log.head, TB_HASHLEN);
	prev[0] ^= 1;
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, NULL, NULL);
	len = tb_test_seal_at(bad, &c.log.kp, next, prev, 1, TB_KIND_EXCHANGE, &tx.x);
	expect_refusal(s, bad, len, TB_EPREV, L, next, NULL);
	len = tb_test_seal_at(bad, &c.log.kp, next + 1, c.log.head, 1, TB_KIND_EXCHANGE, &tx.x);
	expect_refusal(s, bad, len, TB_ESEQ, L, next + 1, NULL);
	len = tb_test_seal_at(bad, &c.log.kp, next + 5, c.log.head, 1, TB_KIND_EXCHANGE, &tx.x);
	expect_refusal(s, bad, len, TB_ESEQ, L, next + 5, NULL);
	{
		/* entry 7 was an attested exchange t1: a different one there */
		const struct tb_view *v = tb_test_recs_views(&c.recs, 0);
		struct tb_entry e6;
		assert_int_equal(tb_entry_decode(&e6, v[6].p, v[6].len), 0);
		len = tb_test_seal_at(bad, &c.log.kp, 7, e6.prev, 5, TB_KIND_EXCHANGE, &tx.x);
		expect_refusal(s, bad, len, TB_ECONFLICT, L, 7, "conflicts");
		/* and a different genesis at 1 */
		struct tb_genesis g;
		tb_test_genesis(&g, "Other", -600, 0);
		uint8_t zero[TB_HASHLEN] = {0};
		len = tb_test_seal_at(bad, &c.log.kp, 1, zero, 5, TB_KIND_GENESIS, &g);
		expect_refusal(s, bad, len, TB_ECONFLICT, L, 1, NULL);
		struct tb_head h;
		assert_int_equal(tb_store_head(s, L, &h), 0);
		assert_int_equal(h.flags, 0);
	}
	{
		struct comm o;
		comm_init(&o, 33);
		len = tb_test_seal_at(bad, &o.log.kp, 2, o.log.head, 1, TB_KIND_EXCHANGE, &tx.x);
		expect_refusal(s, bad, len, TB_ESEQ, id_of(&o), 2, NULL);
		/* A log must start with its genesis. */
		tb_test_join(&j, 1, "zed", &o.mk[1], -600, 0);
		len = tb_test_seal_at(bad, &o.log.kp, 1, o.log.head, 1, TB_KIND_MEMBER_JOIN, &j);
		expect_refusal(s, bad, len, TB_EGENESIS, id_of(&o), 1, NULL);
		assert_int_equal(tb_store_head(s, id_of(&o), &(struct tb_head){0}), TB_ENOTFOUND);
		comm_free(&o);
	}
	/* Genesis anywhere but first. */
	{
		struct tb_genesis g;
		tb_test_genesis(&g, "Again", -600, 0);
		refuse_next(s, &c, TB_KIND_GENESIS, &g, TB_EGENESIS, NULL);
	}

	/* Members. */
	refuse_xchg(s, &c, fresh, 9, 2, 10, false, TB_EMEMBER, "9");
	refuse_xchg(s, &c, fresh, 1, 6, 10, false, TB_EMEMBER, "6");
	refuse_xchg(s, &c, fresh, 2, 2, 10, false, TB_ESELF, NULL);
	refuse_xchg(s, &c, fresh, 2, 2, 10, true, TB_ESELF, NULL);
	refuse_xchg(s, &c, fresh, 5, 1, 10, false, TB_ELEFT, "erin");
	refuse_xchg(s, &c, fresh, 1, 5, 10, true, TB_ELEFT, "erin");
	tb_test_join(&j, 6, "bob", &c.mk[6], -600, 0);
	refuse_next(s, &c, TB_KIND_MEMBER_JOIN, &j, TB_ENAME, "bob");
	tb_test_join(&j, 7, "frank", &c.mk[7], -600, 0);
	refuse_next(s, &c, TB_KIND_MEMBER_JOIN, &j, TB_EMEMBER, NULL);
	tb_test_join(&j, 5, "frank", &c.mk[7], -600, 0);
	refuse_next(s, &c, TB_KIND_MEMBER_JOIN, &j, TB_EMEMBER, NULL);
	tb_test_join(&j, 6, "frank", &c.mk[1], -600, 0);
	refuse_next(s, &c, TB_KIND_MEMBER_JOIN, &j, TB_EEXISTS, "alice");
	{
		struct tb_member_left l = {5};
		refuse_next(s, &c, TB_KIND_MEMBER_LEFT, &l, TB_ELEFT, NULL);
		l.member = 6;
		refuse_next(s, &c, TB_KIND_MEMBER_LEFT, &l, TB_EMEMBER, NULL);
		struct tb_member_key mk = {.member = 5};
		memcpy(mk.key, c.mk[9].pk.b, TB_KEY_LEN);
		refuse_next(s, &c, TB_KIND_MEMBER_KEY, &mk, TB_ELEFT, NULL);
		mk.member = 2;
		memcpy(mk.key, c.mk[1].pk.b, TB_KEY_LEN);
		refuse_next(s, &c, TB_KIND_MEMBER_KEY, &mk, TB_EEXISTS, NULL);
	}

	/* Dates. */
	const uint64_t bad_dates[] = {20230229, 20240431, 20241301,	   20240100,
				      20240001, 21000229, 19691231 + 1 - 1};
	for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
		tb_test_exchange(&tx, L, fresh, 1, 2, 10, NULL, NULL);
		tx.x.date = bad_dates[i];
		if (bad_dates[i] < 19700101)
			refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_ERANGE, NULL);
		else
			refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_EDATE, NULL);
	}
	tb_test_exchange(&tx, L, fresh, 1, 2, 10, &c.mk[1], &c.mk[2]);
	tx.x.date = 20230229;
	tb_test_exchange_sign(&tx, L, &c.mk[1], &c.mk[2]);
	refuse_next(s, &c, TB_KIND_EXCHANGE, &tx.x, TB_EDATE, "20230229");

	/* Limits: dave (0, floor -10:00) would reach -10:01; bob (-1:00,
	 * ceiling +5:00) would reach +5:01. */
	refuse_xchg(s, &c, fresh, 3, 4, 601, false, TB_EFLOOR, "-10:00");
	refuse_xchg(s, &c, fresh, 3, 4, 601, true, TB_EFLOOR, "-10:01");
	refuse_xchg(s, &c, fresh, 2, 3, 361, true, TB_ECEILING, "+5:00");
	refuse_xchg(s, &c, fresh, 2, 3, 361, false, TB_ECEILING, "+5:01");
	/* Exactly at the limits is fine (checked below, after the refusals). */

	/* Transaction ids. */
	refuse_xchg(s, &c, t1, 1, 2, 10, false, TB_EDUPTX, NULL);
	refuse_xchg(s, &c, t2, 1, 2, 10, true, TB_EDUPTX, NULL);
	tb_test_reversal(&tr, L, fresh, fresh + 1, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ENOTX, NULL);
	tb_test_reversal(&tr, L, fresh, fresh + 1, &c.mk[1], &c.mk[2]);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ENOTX, NULL);
	tb_test_reversal(&tr, L, t2, t1, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_EDUPTX, NULL);
	tb_test_reversal(&tr, L, t1, t1, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_EDUPTX, NULL);
	/* A reversal needs the consent its exchange had. */
	tb_test_reversal(&tr, L, fresh, t2, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECONSENT, NULL);
	tb_test_reversal(&tr, L, fresh, t1, &c.mk[1], &c.mk[2]);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECONSENT, NULL);
	tb_test_reversal(&tr, L, fresh, t2, &c.mk[1], &c.mk[3]); /* swapped */
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECONSENT, NULL);
	tb_test_reversal(&tr, L, fresh, t2, &c.mk[3], &c.mk[2]);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECONSENT, NULL);

	/* Now the valid moves, each checked, then the refusals they enable. */
	put_xchg(s, &c, 3, 4, 600, true); /* dave exactly at -10:00 */
	assert_int_equal(balance(s, L, 4), -600);
	refuse_xchg(s, &c, fresh, 1, 4, 1, false, TB_EFLOOR, "-10:00");
	put_xchg(s, &c, 2, 1, 360, false); /* bob exactly at +5:00 */
	assert_int_equal(balance(s, L, 2), 300);
	refuse_xchg(s, &c, fresh, 2, 3, 1, true, TB_ECEILING, "+5:00");
	/* Reversing t1 (alice provided 60 to bob) gives bob his 60 back: he
	 * would reach +6:00, over his ceiling of +5:00. */
	tb_test_reversal(&tr, L, fresh, t1, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECEILING, "+5:00");
	uint64_t t9 = put_xchg(s, &c, 3, 2, 60, true); /* bob back to +4:00 */
	uint64_t r1 = put_rev(s, &c, t1, 1, 2, false);
	assert_int_equal(balance(s, L, 2), 300);
	tb_test_reversal(&tr, L, fresh, t1, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_EREVERSED, NULL);
	/* A reversal cannot itself be reversed. */
	tb_test_reversal(&tr, L, fresh, r1, NULL, NULL);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ENOTX, NULL);
	/* Undoing t9 (carol provided 60 to bob) would take bob to +6:00 too. */
	tb_test_reversal(&tr, L, fresh, t9, &c.mk[3], &c.mk[2]);
	refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECEILING, NULL);
	/* The name of a member who left may be used again, not the key. */
	put_join(s, &c, 6, "erin", -600, 0);
	tb_test_join(&j, 7, "erin", &c.mk[7], -600, 0);
	refuse_next(s, &c, TB_KIND_MEMBER_JOIN, &j, TB_ENAME, NULL);
	struct tb_member m;
	assert_int_equal(tb_store_member_by_name(s, L, "erin", &m), 0);
	assert_int_equal(m.no, 6);

	/* A new key: the old one no longer consents, the new one does. */
	struct tb_member_key mk = {.member = 1};
	memcpy(mk.key, c.mk[11].pk.b, TB_KEY_LEN);
	put_kind(s, &c, TB_KIND_MEMBER_KEY, &mk);
	refuse_xchg(s, &c, fresh, 1, 3, 5, true, TB_ECONSENT, NULL);
	tb_test_exchange(&tx, L, fresh, 1, 3, 5, &c.mk[11], &c.mk[3]);
	put_kind(s, &c, TB_KIND_EXCHANGE, &tx.x);
	/* Reversal consent given for another log, or by the old key. */
	tb_test_reversal(&tr, L, fresh + 1, fresh, NULL, NULL);
	{
		struct tb_test_reversal other;
		tb_test_reversal(&other, c.mk[12].pk.b, fresh + 1, fresh, &c.mk[11], &c.mk[3]);
		tr.r = other.r;
		refuse_next(s, &c, TB_KIND_REVERSAL, &tr.r, TB_ECONSENT, NULL);
		tb_test_reversal(&other, L, fresh + 1, fresh, &c.mk[1], &c.mk[3]);
		refuse_next(s, &c, TB_KIND_REVERSAL, &other.r, TB_ECONSENT, NULL);
		tb_test_reversal(&other, L, fresh + 1, fresh, &c.mk[11], &c.mk[3]);
		put_kind(s, &c, TB_KIND_REVERSAL, &other.r);
	}
	/* Names: 64 bytes are fine, 65 do not decode. */
	char n64[66];
	memset(n64, 'n', 65);
	n64[65] = '\0';
	tb_test_join(&j, 7, n64, &c.mk[7], -600, 0);
	refuse_next(s, &c, TB_KIND_MEMBER_JOIN, &j, TB_ETOOLONG, NULL);
	n64[64] = '\0';
	put_join(s, &c, 7, n64, -600, 0);
	assert_int_equal(tb_store_member(s, L, 7, &m), 0);
	assert_string_equal(m.name, n64);
	assert_int_equal(tb_store_member_by_name(s, L, n64, &m), 0);
	check_head(s, &c);
	comm_free(&c);
}

/* ---- batches ---- */

static void check_batch(struct tb_store *s, struct comm *c, const struct tb_view *v, size_t n,
			size_t want_acc, int want_err, uint64_t want_seq)
{
	size_t acc = 999;
	struct tb_reject rej;
	int err = tb_store_append(s, v, n, &acc, &rej);
	if (err != want_err)
		fail_msg("expected %s, got %s (%s)", tb_errname(want_err), tb_errname(err),
			 rej.msg);
	assert_int_equal(acc, want_acc);
	if (want_err) {
		assert_int_equal(rej.err, want_err);
		assert_int_equal(rej.seq, want_seq);
		assert_memory_equal(rej.log_id, id_of(c), TB_KEY_LEN);
	}
}

static void test_batch_prefix(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c, d;
	comm_init(&c, 4);
	comm_init(&d, 5);
	const uint8_t *L = id_of(&c);
	put_genesis(s, &c, "Batches");
	put_join(s, &c, 1, "a", -100, 0);
	put_join(s, &c, 2, "b", -100, 0);
	put_genesis(s, &d, "Other");
	struct tb_test_recs r = {0};
	struct tb_test_exchange tx;
	struct tb_head h;

	/* [ok, ok, floor, ok, ok]: the first two, refused at the third. */
	uint64_t base = c.log.seq;
	for (int i = 0; i < 5; i++) {
		tb_test_exchange(&tx, L, 100 + (uint64_t)i, 1, 2, i == 2 ? 500 : 10, &c.mk[1],
				 &c.mk[2]);
		tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	}
	check_batch(s, &c, tb_test_recs_views(&r, 0), 5, 2, TB_EFLOOR, base + 3);
	assert_int_equal(tb_store_head(s, L, &h), 0);
	assert_int_equal(h.seq, base + 2);
	uint8_t want[TB_HASHLEN];
	const struct tb_view *v = tb_test_recs_views(&r, 0);
	tb_entry_hash(want, v[1].p, v[1].len);
	assert_memory_equal(h.hash, want, TB_HASHLEN);
	assert_int_equal(balance(s, L, 1), 20);
	assert_int_equal(balance(s, L, 2), -20);

	/* Rewind the test's log to the refused entry and go on. */
	struct tb_test_log at = c.log;
	at.seq = base + 2;
	memcpy(at.head, want, TB_HASHLEN);
	tb_test_recs_clear(&r);
	c.log = at;
	/* [ok, bad entry sig, ok, floor]: the bad signature wins (it comes
	 * first), though it is only found after the rules ran. */
	for (int i = 0; i < 4; i++) {
		tb_test_exchange(&tx, L, 200 + (uint64_t)i, 1, 2, i == 3 ? 500 : 10, &c.mk[1],
				 &c.mk[2]);
		tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	}
	r.buf[r.off[1] + r.rlen[1] - 5] ^= 0x40;
	check_batch(s, &c, tb_test_recs_views(&r, 0), 4, 1, TB_EBADSIG, base + 4);
	assert_int_equal(balance(s, L, 1), 30);

	/* [ok, ok, forged consent, ok] across two logs. */
	at.seq = base + 3;
	tb_entry_hash(at.head, r.buf + r.off[0], r.rlen[0]);
	c.log = at;
	tb_test_recs_clear(&r);
	tb_test_exchange(&tx, L, 300, 2, 1, 5, &c.mk[2], &c.mk[1]);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	struct tb_member_join j;
	tb_test_join(&j, 1, "z", &d.mk[1], -100, 0);
	tb_test_log_add(&d.log, &r, TB_KIND_MEMBER_JOIN, &j);
	tb_test_exchange(&tx, L, 301, 2, 1, 5, &c.mk[2], &c.mk[3]);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	tb_test_exchange(&tx, L, 302, 2, 1, 5, &c.mk[2], &c.mk[1]);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	check_batch(s, &c, tb_test_recs_views(&r, 0), 4, 2, TB_ECONSENT, base + 5);
	assert_int_equal(tb_store_head(s, id_of(&d), &h), 0);
	assert_int_equal(h.seq, 2);
	assert_int_equal(tb_store_head(s, L, &h), 0);
	assert_int_equal(h.seq, base + 4);
	assert_int_equal(balance(s, L, 1), 25);

	/* [ok, decode error, ok]. */
	at.seq = base + 4;
	tb_entry_hash(at.head, r.buf + r.off[0], r.rlen[0]);
	c.log = at;
	tb_test_recs_clear(&r);
	tb_test_exchange(&tx, L, 400, 2, 1, 5, NULL, NULL);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	tb_test_exchange(&tx, L, 401, 2, 1, 5, NULL, NULL);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	tb_test_exchange(&tx, L, 402, 2, 1, 5, NULL, NULL);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	struct tb_view vv[3];
	memcpy(vv, tb_test_recs_views(&r, 0), sizeof vv);
	vv[1].len -= 1;
	check_batch(s, &c, vv, 3, 1, TB_ETRUNCATED, base + 6);
	/* The full batch now: the held one is skipped, the rest appended. */
	check_batch(s, &c, tb_test_recs_views(&r, 0), 3, 3, 0, 0);
	assert_int_equal(tb_store_head(s, L, &h), 0);
	assert_int_equal(h.seq, base + 7);
	assert_memory_equal(h.hash, c.log.head, TB_HASHLEN);
	assert_int_equal(balance(s, L, 1), 10);

	/* An exchange and its reversal in one batch; then the same with a
	 * forged consent on the exchange: neither is kept. */
	uint64_t at_seq = c.log.seq;
	tb_test_recs_clear(&r);
	tb_test_exchange(&tx, L, 500, 1, 2, 7, &c.mk[1], &c.mk[2]);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	struct tb_test_reversal tr;
	tb_test_reversal(&tr, L, 501, 500, &c.mk[1], &c.mk[2]);
	tb_test_log_add(&c.log, &r, TB_KIND_REVERSAL, &tr.r);
	check_batch(s, &c, tb_test_recs_views(&r, 0), 2, 2, 0, 0);
	uint8_t txid[TB_TXID_LEN];
	uint64_t seq, rev;
	tb_test_txid(txid, 500);
	assert_int_equal(tb_store_tx(s, L, txid, &seq, &rev), 0);
	assert_int_equal(seq, at_seq + 1);
	assert_int_equal(rev, at_seq + 2);
	assert_int_equal(balance(s, L, 1), 10);
	at = c.log;
	tb_test_recs_clear(&r);
	tb_test_exchange(&tx, L, 502, 1, 2, 7, &c.mk[1], &c.mk[3]);
	tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	tb_test_reversal(&tr, L, 503, 502, &c.mk[1], &c.mk[2]);
	tb_test_log_add(&c.log, &r, TB_KIND_REVERSAL, &tr.r);
	char *before = tb_test_store_dump(s);
	check_batch(s, &c, tb_test_recs_views(&r, 0), 2, 0, TB_ECONSENT, at.seq + 1);
	char *after = tb_test_store_dump(s);
	assert_string_equal(before, after);
	free(before);
	free(after);

	tb_test_recs_free(&r);
	comm_free(&c);
	comm_free(&d);
}

/* ---- a big member-signed batch ---- */

#define BIG 3000
#define BIG_MEMBERS 10

static void test_big_batch(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c;
	comm_init(&c, 6);
	const uint8_t *L = id_of(&c);
	put_genesis(s, &c, "Sardex");
	char names[BIG_MEMBERS + 1][8];
	for (uint32_t i = 1; i <= BIG_MEMBERS; i++) {
		snprintf(names[i], sizeof names[i], "m%u", i);
		put_join(s, &c, i, names[i], -TB_LIMIT_MAX, 0);
	}
	struct tb_test_recs r = {0};
	int64_t want[BIG_MEMBERS + 1] = {0};
	uint64_t minutes = 0;
	for (uint32_t i = 0; i < BIG; i++) {
		uint32_t p = 1 + i % BIG_MEMBERS, q = 1 + (i * 7 + 3) % BIG_MEMBERS;
		if (p == q)
			q = 1 + q % BIG_MEMBERS;
		struct tb_test_exchange tx;
		uint64_t m = 1 + i % 240;
		tb_test_exchange(&tx, L, 10000 + i, p, q, m, &c.mk[p], &c.mk[q]);
		tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
		want[p] += (int64_t)m;
		want[q] -= (int64_t)m;
		minutes += m;
	}
	tb_store_set_threads(s, 4);
	size_t acc;
	struct tb_reject rej;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int err = tb_store_append(s, tb_test_recs_views(&r, 0), BIG, &acc, &rej);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err)
		fail_msg("%s at %llu: %s", tb_errname(err), (unsigned long long)rej.seq, rej.msg);
	assert_int_equal(acc, BIG);
	print_message("3000 member-signed exchanges in one append: %.0f ms\n",
		      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
			      (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	int64_t sum = 0;
	for (uint32_t i = 1; i <= BIG_MEMBERS; i++) {
		assert_int_equal(balance(s, L, i), want[i]);
		sum += balance(s, L, i);
	}
	assert_int_equal(sum, 0);
	struct tb_community cm;
	assert_int_equal(tb_store_community(s, L, &cm), 0);
	assert_int_equal(cm.exchanges, BIG);
	assert_int_equal(cm.minutes, minutes);
	check_head(s, &c);

	/* One bad member signature deep in a second big batch: the prefix
	 * before it is kept, on several threads too. */
	tb_test_recs_clear(&r);
	for (uint32_t i = 0; i < 1000; i++) {
		struct tb_test_exchange tx;
		tb_test_exchange(&tx, L, 20000 + i, 1, 2, 1, &c.mk[1],
				 i == 777 ? &c.mk[3] : &c.mk[2]);
		tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	}
	check_batch(s, &c, tb_test_recs_views(&r, 0), 1000, 777, TB_ECONSENT,
		    BIG + BIG_MEMBERS + 2 + 777);
	assert_int_equal(balance(s, L, 1), want[1] + 777);
	tb_test_recs_free(&r);
	comm_free(&c);
}

/* ---- a call of several groups (TB_APPEND_GROUP a transaction) ---- */

static void test_groups(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c;
	comm_init(&c, 7);
	const uint8_t *L = id_of(&c);
	put_genesis(s, &c, "Groups");
	put_join(s, &c, 1, "a", -TB_LIMIT_MAX, 0);
	put_join(s, &c, 2, "b", -TB_LIMIT_MAX, 0);
	uint64_t base = c.log.seq;
	const size_t n = 2 * TB_APPEND_GROUP + 500, bad = 2 * TB_APPEND_GROUP + 100;
	const size_t cut = TB_APPEND_GROUP + 500;
	struct tb_test_recs r = {0};
	for (size_t i = 0; i < n; i++) {
		struct tb_test_exchange tx;
		tb_test_exchange(&tx, L, 1000 + i, 1, 2, 1, &c.mk[1], &c.mk[2]);
		tb_test_log_add(&c.log, &r, TB_KIND_EXCHANGE, &tx.x);
	}
	struct tb_view *v = malloc(n * sizeof *v);
	assert_non_null(v);
	memcpy(v, tb_test_recs_views(&r, 0), n * sizeof *v);

	/* A record that does not decode in the second group: the first group
	 * and the second's prefix are kept. */
	v[cut].len = 7;
	size_t acc = 0;
	struct tb_reject rej;
	assert_true(tb_store_append(s, v, n, &acc, &rej) < 0);
	assert_int_equal(acc, cut);
	assert_int_equal(balance(s, L, 1), (int64_t)cut);
	v[cut].len = r.rlen[cut];

	/* A bad log signature in the third group, after the held ones: all
	 * before it is kept, with one verifying thread and with several. */
	r.buf[r.off[bad] + r.rlen[bad] - 5] ^= 0x40;
	tb_store_set_threads(s, 1);
	check_batch(s, &c, v, n, bad, TB_EBADSIG, base + bad + 1);
	assert_int_equal(balance(s, L, 1), (int64_t)bad);
	tb_store_set_threads(s, 0);
	check_batch(s, &c, v, n, bad, TB_EBADSIG, base + bad + 1);
	assert_int_equal(balance(s, L, 1), (int64_t)bad);

	/* Repaired, the rest goes in. */
	r.buf[r.off[bad] + r.rlen[bad] - 5] ^= 0x40;
	check_batch(s, &c, v, n, n, 0, 0);
	assert_int_equal(balance(s, L, 1), (int64_t)n);
	check_head(s, &c);
	free(v);
	tb_test_recs_free(&r);
	comm_free(&c);
}

/* ---- Merkle tree ---- */

/* Complete subtrees in memory, grown with tb_merkle_append. */
struct memtree {
	uint8_t (*lvl[64])[TB_HASHLEN];
	uint64_t cap;
	uint64_t size;
};

static int mem_get(void *ctx, unsigned level, uint64_t index, uint8_t out[TB_HASHLEN])
{
	struct memtree *t = ctx;
	if (level >= 64 || !t->lvl[level] || ((index + 1) << level) > t->size)
		return TB_ENOTFOUND;
	memcpy(out, t->lvl[level][index], TB_HASHLEN);
	return 0;
}

static void memtree_init(struct memtree *t, uint64_t cap)
{
	memset(t, 0, sizeof *t);
	t->cap = cap;
	for (unsigned l = 0; l < 64 && (cap >> l); l++) {
		t->lvl[l] = calloc(cap >> l, TB_HASHLEN);
		assert_non_null(t->lvl[l]);
	}
}

static void memtree_add(struct memtree *t, const uint8_t leaf[TB_HASHLEN])
{
	struct tb_merkle_node nodes[64];
	assert_true(t->size < t->cap);
	int n = tb_merkle_append(nodes, t->size, leaf, mem_get, t);
	assert_true(n >= 1);
	for (int i = 0; i < n; i++)
		memcpy(t->lvl[nodes[i].level][nodes[i].index], nodes[i].hash, TB_HASHLEN);
	t->size++;
}

static void memtree_free(struct memtree *t)
{
	for (unsigned l = 0; l < 64; l++)
		free(t->lvl[l]);
}

struct leaves {
	uint8_t (*h)[TB_HASHLEN];
	uint64_t n, cap;
};

static int leaf_cb(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct leaves *lv = ctx;
	assert_int_equal(seq, lv->n + 1);
	assert_true(lv->n < lv->cap);
	tb_entry_hash(lv->h[lv->n++], rec.p, rec.len);
	return 0;
}

static void check_merkle(struct tb_store *s, const uint8_t *log, bool all_pairs)
{
	struct tb_head h;
	assert_int_equal(tb_store_head(s, log, &h), 0);
	struct leaves lv = {calloc(h.seq + 1, TB_HASHLEN), 0, h.seq};
	assert_int_equal(tb_store_foreach_entry(s, log, 1, leaf_cb, &lv), 0);
	assert_int_equal(lv.n, h.seq);
	assert_memory_equal(lv.h[h.seq - 1], h.hash, TB_HASHLEN);
	struct memtree t;
	memtree_init(&t, h.seq);
	uint8_t a[TB_HASHLEN], b[TB_HASHLEN], c[TB_HASHLEN];
	assert_int_equal(tb_store_root(s, log, 0, a), 0);
	tb_sha256(b, NULL, 0);
	assert_memory_equal(a, b, TB_HASHLEN);
	uint8_t(*roots)[TB_HASHLEN] = calloc(h.seq + 1, TB_HASHLEN);
	for (uint64_t n = 1; n <= h.seq; n++) {
		memtree_add(&t, lv.h[n - 1]);
		assert_int_equal(tb_store_root(s, log, n, a), 0);
		assert_int_equal(tb_merkle_root(b, n, mem_get, &t), 0);
		assert_memory_equal(a, b, TB_HASHLEN);
		if (n < 64 || n % 97 == 0 || n == h.seq) {
			tb_test_mth(c, (const uint8_t(*)[TB_HASHLEN])lv.h, n);
			assert_memory_equal(a, c, TB_HASHLEN);
		}
		memcpy(roots[n], a, TB_HASHLEN);
	}
	assert_int_equal(tb_store_root(s, log, h.seq + 1, a), TB_ERANGE);

	uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASHLEN];
	size_t np;
	uint64_t step = all_pairs ? 1 : 1 + h.seq / 23;
	for (uint64_t size = 1; size <= h.seq; size += (size < 40 ? 1 : step)) {
		for (uint64_t i = 0; i < size; i += (all_pairs ? 1 : 1 + size / 17)) {
			assert_int_equal(tb_store_inclusion_proof(s, log, i, size, proof,
								  TB_MERKLE_MAX_PROOF, &np),
					 0);
			assert_int_equal(tb_merkle_verify_inclusion(lv.h[i], i, size, proof, np,
								    roots[size]),
					 0);
			/* the wrong leaf, index or root does not verify */
			assert_int_equal(tb_merkle_verify_inclusion(lv.h[(i + 1) % size], i, size,
								    proof, np, roots[size]),
					 size == 1 ? 0 : TB_EPROOF);
			if (np) {
				proof[np - 1][3] ^= 1;
				assert_int_equal(tb_merkle_verify_inclusion(lv.h[i], i, size, proof,
									    np, roots[size]),
						 TB_EPROOF);
			}
		}
		for (uint64_t s1 = 1; s1 <= size; s1 += (all_pairs ? 1 : 1 + size / 13)) {
			assert_int_equal(tb_store_consistency_proof(s, log, s1, size, proof,
								    TB_MERKLE_MAX_PROOF, &np),
					 0);
			assert_int_equal(tb_merkle_verify_consistency(s1, size, roots[s1],
								      roots[size], proof, np),
					 0);
			if (s1 < size)
				assert_int_equal(
					tb_merkle_verify_consistency(s1, size, roots[s1 + 1],
								     roots[size], proof, np),
					TB_EPROOF);
		}
	}
	assert_int_equal(
		tb_store_inclusion_proof(s, log, 0, h.seq + 1, proof, TB_MERKLE_MAX_PROOF, &np),
		TB_ERANGE);
	assert_int_equal(
		tb_store_consistency_proof(s, log, 1, h.seq + 1, proof, TB_MERKLE_MAX_PROOF, &np),
		TB_ERANGE);
	/* Nonsense arguments are errors, never proofs. */
	assert_int_not_equal(
		tb_store_inclusion_proof(s, log, h.seq, h.seq, proof, TB_MERKLE_MAX_PROOF, &np), 0);
	assert_int_not_equal(
		tb_store_inclusion_proof(s, log, 0, 0, proof, TB_MERKLE_MAX_PROOF, &np), 0);
	assert_int_not_equal(
		tb_store_consistency_proof(s, log, 0, h.seq, proof, TB_MERKLE_MAX_PROOF, &np), 0);
	assert_int_not_equal(tb_store_consistency_proof(s, log, h.seq, h.seq - 1, proof,
							TB_MERKLE_MAX_PROOF, &np),
			     0);
	if (h.seq > 8)
		assert_int_not_equal(tb_store_inclusion_proof(s, log, 0, h.seq, proof, 1, &np), 0);
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen;
	assert_int_equal(tb_store_get_entry(s, log, 0, rec, sizeof rec, &rlen), TB_ENOTFOUND);
	free(roots);
	memtree_free(&t);
	free(lv.h);
}

static void test_merkle(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	struct comm c, d;
	comm_init(&c, 9);
	comm_init(&d, 10);
	put_genesis(s, &c, "Small");
	put_genesis(s, &d, "Larger");
	put_join(s, &c, 1, "a", -10000, 0);
	put_join(s, &c, 2, "b", -10000, 0);
	put_join(s, &d, 1, "a", -100000, 0);
	put_join(s, &d, 2, "b", -100000, 0);
	for (int i = 0; i < 30; i++)
		put_xchg(s, &c, 1 + (uint32_t)(i & 1), 2 - (uint32_t)(i & 1), 7, i % 3 == 0);
	struct tb_test_recs r = {0};
	for (int i = 0; i < 1200; i++) {
		struct tb_test_exchange tx;
		tb_test_exchange(&tx, id_of(&d), 5000 + (uint64_t)i, 1 + (uint32_t)(i & 1),
				 2 - (uint32_t)(i & 1), 3, NULL, NULL);
		tb_test_log_add(&d.log, &r, TB_KIND_EXCHANGE, &tx.x);
	}
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(s, tb_test_recs_views(&r, 0), r.n, &acc, &rej), 0);
	check_merkle(s, id_of(&c), true);
	check_merkle(s, id_of(&d), false);

	/* Where the bytes are: every table, in order, within the map's size. */
	struct tb_store_table tabs[TB_T__COUNT + 1];
	size_t nt;
	uint64_t size, pages = 0;
	assert_int_equal(tb_store_tables(s, tabs, TB_T__COUNT + 1, &nt), 0);
	assert_int_equal(nt, TB_T__COUNT);
	assert_string_equal(tabs[TB_T_ENTRIES].name, "entries");
	assert_int_equal(tabs[TB_T_ENTRIES].entries, 33 + 1203);
	for (size_t i = 0; i < nt; i++)
		pages += tabs[i].branch_pages + tabs[i].leaf_pages + tabs[i].overflow_pages +
			 tabs[i].dup_pages;
	assert_int_equal(tb_store_size(s, &size), 0);
	assert_true(pages > 0 && pages * tabs[TB_T_ENTRIES].page_size < size);
	tb_test_recs_free(&r);
	comm_free(&c);
	comm_free(&d);
}

/* ---- reindex ---- */

/* A store with some of everything in two logs. */
static void build_rich(struct tb_store *s, struct comm *c, struct comm *d)
{
	put_genesis(s, c, "Rich");
	put_join(s, c, 1, "ann", -600, 0);
	put_join(s, c, 2, "ben", -600, 900);
	put_join(s, c, 3, "cat", -300, 0);
	uint64_t t1 = put_xchg(s, c, 1, 2, 60, true);
	uint64_t t2 = put_xchg(s, c, 2, 3, 90, false);
	put_xchg(s, c, 3, 1, 15, true);
	put_rev(s, c, t1, 1, 2, true);
	struct tb_member_key mk = {.member = 2};
	memcpy(mk.key, c->mk[9].pk.b, TB_KEY_LEN);
	put_kind(s, c, TB_KIND_MEMBER_KEY, &mk);
	c->mk[2] = c->mk[9];
	uint64_t t4 = put_xchg(s, c, 2, 1, 30, true); /* with ben's new key */
	put_rev(s, c, t4, 2, 1, true);
	put_rev(s, c, t2, 2, 3, false);
	put_left(s, c, 3);
	put_join(s, c, 4, "cat", -600, 0);
	put_xchg(s, c, 4, 1, 45, false);
	put_genesis(s, d, "Neighbours");
	put_join(s, d, 1, "ann", -600, 0);
	put_join(s, d, 2, "bob", -600, 0);
	put_xchg(s, d, 1, 2, 600, true);
	put_xchg(s, d, 2, 1, 1, false);
}

static void test_reindex(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 11);
	comm_init(&d, 12);
	build_rich(f->s, &c, &d);
	uint8_t salt[TB_MEMO_SALT_LEN] = {1};
	uint8_t txid[TB_TXID_LEN];
	tb_test_txid(txid, c.txno);
	assert_int_equal(tb_store_memo_put(f->s, txid, salt, "weeding", 7), 0);
	assert_int_equal(tb_store_pending_put(f->s, txid, (const uint8_t *)"p", 1), 0);
	char *orig = tb_test_store_dump(f->s);
	struct tb_reject rej;

	/* On an intact store: exactly the same state, twice. */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(tb_store_reindex(f->s, &rej), 0);
		char *now = tb_test_store_dump(f->s);
		assert_string_equal(orig, now);
		free(now);
	}

	/* Derived records damaged by hand: reindex puts them right. */
	{
		struct tb_txn t;
		tb_txn_begin(&t, f->s->db, true);
		struct tb_member m;
		assert_int_equal(tb_member_get(&t, 1, 1, &m), 0);
		m.balance += 5;
		tb_member_put(&t, 1, &m);
		uint8_t hk[16] = {0};
		tb_member_key(hk, 1, 2);
		tb_txn_del(&t, TB_T_STATEMENTS, hk, TB_MEMBER_KEY_LEN);
		uint8_t k[4 + TB_TXID_LEN] = {0, 0, 0, 1, 9};
		tb_txn_put(&t, TB_T_TXIDS, k, sizeof k, hk, sizeof hk);
		tb_txn_drop(&t, TB_T_NAMES);
		assert_int_equal(tb_txn_commit(&t), 0);
		char *now = tb_test_store_dump(f->s);
		assert_string_not_equal(orig, now);
		free(now);
		assert_int_equal(tb_store_reindex(f->s, &rej), 0);
		now = tb_test_store_dump(f->s);
		assert_string_equal(orig, now);
		free(now);
	}

	/* A reindex interrupted after it emptied the derived tables (the mark
	 * is set): the next writable open finishes it. */
	{
		struct tb_txn t;
		tb_txn_begin(&t, f->s->db, true);
		for (int tab = 0; tab < TB_T__COUNT; tab++)
			if (tb_table_is_derived((enum tb_table)tab))
				tb_txn_drop(&t, (enum tb_table)tab);
		tb_txn_put(&t, TB_T_META, "reindexing", 10, "1", 1);
		assert_int_equal(tb_txn_commit(&t), 0);
		reopen(f);
		char *now = tb_test_store_dump(f->s);
		assert_string_equal(orig, now);
		free(now);
	}

	/* A store whose derived tables are of layout 2, whose Merkle nodes were
	 * in a table since retired: the next writable open rebuilds the tree. */
	{
		struct tb_txn t;
		uint8_t v2[4];
		tb_be32_put(v2, 2);
		tb_txn_begin(&t, f->s->db, true);
		tb_txn_drop(&t, TB_T_MERKLE);
		tb_txn_put(&t, TB_T_META, "derived", 7, v2, sizeof v2);
		assert_int_equal(tb_txn_commit(&t), 0);
		reopen(f);
		char *now = tb_test_store_dump(f->s);
		assert_string_equal(orig, now);
		free(now);
		check_merkle(f->s, id_of(&c), true);
	}

	/* And the ledger goes on from the rebuilt state. */
	put_xchg(f->s, &c, 1, 4, 10, true);
	assert_int_equal(balance(f->s, id_of(&c), 4), 45 - 10);
	free(orig);
	comm_free(&c);
	comm_free(&d);
}

/* ---- store layouts ---- */

/* Rewrites a closed store's statement index as layout 3 wrote it: a
 * "history" row per line (key lognum, member, seq; value delta, balance),
 * no "statements" table, META "derived" 3. Raw LMDB: the store's own code
 * no longer writes that layout. */
static void make_layout3(const char *dir)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi st, old, meta;
	MDB_cursor *c;
	MDB_val k, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 64ull << 30), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "statements", MDB_DUPSORT | MDB_DUPFIXED, &st), 0);
	assert_int_equal(mdb_dbi_open(txn, "history", MDB_CREATE, &old), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	assert_int_equal(mdb_cursor_open(txn, st, &c), 0);
	size_t rows = 0;
	for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT), rows++) {
		assert_int_equal(k.mv_size, TB_MEMBER_KEY_LEN);
		assert_int_equal(v.mv_size, TB_HISTORY_VAL_LEN);
		uint8_t ok[TB_HISTORY3_KEY_LEN];
		memcpy(ok, k.mv_data, TB_MEMBER_KEY_LEN);
		memcpy(ok + TB_MEMBER_KEY_LEN, v.mv_data, 8);
		MDB_val k3 = {sizeof ok, ok}, v3 = {TB_HISTORY3_VAL_LEN, (uint8_t *)v.mv_data + 8};
		assert_int_equal(mdb_put(txn, old, &k3, &v3, 0), 0);
	}
	mdb_cursor_close(c);
	assert_true(rows > 10);
	assert_int_equal(mdb_drop(txn, st, 1), 0);
	uint8_t v3[4];
	tb_be32_put(v3, 3);
	k = (MDB_val){7, "derived"};
	v = (MDB_val){4, v3};
	assert_int_equal(mdb_put(txn, meta, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Whether a store has a table of that name (raw LMDB, read-only). */
static bool has_table(const char *dir, const char *name)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	int rc = mdb_dbi_open(txn, name, 0, &dbi);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	return rc == 0;
}

/* A store of layout 3 (a row per statement line): read-only, it reads the
 * same statements; the first writable open converts it to layout 4 (sorted
 * duplicates per member) and drops the old table; the ledger goes on. */
static void test_layout3_converts(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 11);
	comm_init(&d, 12);
	build_rich(f->s, &c, &d);
	char *orig = tb_test_store_dump(f->s);
	tb_store_free(f->s);
	f->s = NULL;
	make_layout3(f->data);
	assert_true(has_table(f->data, "history"));
	assert_false(has_table(f->data, "statements"));

	struct tb_store *ro;
	assert_int_equal(tb_store_open(&ro, f->data, TB_STORE_RDONLY), 0);
	/* The same members, balances and statements (the tables' raw digests
	 * differ: the old rows, META "derived" 3). */
	char *now = tb_test_store_dump(ro);
	assert_non_null(strstr(orig, "\nlog "));
	assert_non_null(strstr(now, "\nlog "));
	assert_string_equal(strstr(orig, "\nlog "), strstr(now, "\nlog "));
	free(now);
	tb_store_free(ro);
	assert_true(has_table(f->data, "history")); /* read-only: left as it was */

	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	now = tb_test_store_dump(f->s);
	assert_string_equal(orig, now);
	free(now);
	assert_false(has_table(f->data, "history"));
	assert_true(has_table(f->data, "statements"));
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, f->s->db, false);
	assert_int_equal(tb_txn_get(&t, TB_T_META, "derived", 7, &v), 0);
	assert_int_equal(v.len, 4);
	assert_int_equal(tb_be32_get(v.p), TB_DERIVED_VERSION);
	tb_txn_abort(&t);

	put_xchg(f->s, &c, 1, 4, 10, true);
	assert_int_equal(balance(f->s, id_of(&c), 4), 45 - 10);
	reopen(f);
	struct hist h = {0};
	assert_int_equal(tb_store_foreach_history(f->s, id_of(&c), 4, hist_cb, &h), 0);
	assert_true(h.n == 2 && h.it[1].delta == -10 && h.it[1].balance == 35);
	assert_true(h.it[0].seq < h.it[1].seq);
	free(orig);
	comm_free(&c);
	comm_free(&d);
}

/* A META value of a closed store (raw LMDB): its length, or -1 if none. */
static int meta_len(const char *dir, const char *key, uint8_t *out, size_t cap)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta;
	MDB_val k = {strlen(key), (void *)key}, v;
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	int rc = mdb_get(txn, meta, &k, &v);
	int len = rc == 0 ? (int)v.mv_size : -1;
	if (rc == 0 && out)
		memcpy(out, v.mv_data, v.mv_size < cap ? v.mv_size : cap);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	assert_true(rc == 0 || rc == MDB_NOTFOUND);
	return len;
}

static uint32_t layout_of(const char *dir)
{
	uint8_t v[4];
	assert_int_equal(meta_len(dir, "derived", v, sizeof v), 4);
	return tb_be32_get(v);
}

/* The statements a read-only open shows equal orig's. */
static void rdonly_same(const char *dir, const char *orig)
{
	struct tb_store *ro;
	assert_int_equal(tb_store_open(&ro, dir, TB_STORE_RDONLY), 0);
	char *now = tb_test_store_dump(ro);
	assert_non_null(strstr(now, "\nlog "));
	assert_string_equal(strstr(orig, "\nlog "), strstr(now, "\nlog "));
	free(now);
	tb_store_free(ro);
}

/* A child process opens the store for writing: its exit status. */
static pid_t open_in_child(const char *dir)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct tb_store *s;
		int err = tb_store_open(&s, dir, 0);
		tb_store_free(s);
		_exit(err ? 1 : 0);
	}
	return pid;
}

static int child_status(pid_t pid)
{
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* The conversion from layout 3 copies the rows in batches and checks no
 * signature: killed between two batches, it has kept its place (META
 * "converting") and layout 3 whole, so read-only opens still read every
 * line; the next writable open finishes it, equal to a store written by
 * layout 4 from the start. */
static void test_layout3_convert_resumes(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 11);
	comm_init(&d, 12);
	build_rich(f->s, &c, &d);
	char *orig = tb_test_store_dump(f->s);
	tb_store_free(f->s);
	f->s = NULL;
	make_layout3(f->data);

	setenv("TALLY_CONVERT_BATCH", "3", 1);
	setenv("TALLY_CRASH_AT", "convert-batch", 1);
	int st = child_status(open_in_child(f->data));
	unsetenv("TALLY_CRASH_AT");
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(meta_len(f->data, "converting", NULL, 0), TB_HISTORY3_KEY_LEN);
	assert_int_equal(layout_of(f->data), 3);
	assert_true(has_table(f->data, "history"));
	rdonly_same(f->data, orig);

	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	unsetenv("TALLY_CONVERT_BATCH");
	char *now = tb_test_store_dump(f->s);
	assert_string_equal(orig, now);
	free(now);
	assert_false(has_table(f->data, "history"));
	assert_int_equal(meta_len(f->data, "converting", NULL, 0), -1);
	assert_int_equal(layout_of(f->data), TB_DERIVED_VERSION);
	put_xchg(f->s, &c, 1, 4, 10, true);
	assert_int_equal(balance(f->s, id_of(&c), 4), 45 - 10);
	free(orig);
	comm_free(&c);
	comm_free(&d);
}

/* Read-only opens go by META: a layout-3 store that also has a
 * "statements" table (one a newer version left before a downgrade, here
 * with a stale line) is read from "history"; a store whose reindex is under
 * way or was cut short (its tables part-built) is refused, with a code that
 * says so. The writable open replaces the stale table. */
static void test_rdonly_goes_by_layout(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 11);
	comm_init(&d, 12);
	build_rich(f->s, &c, &d);
	char *orig = tb_test_store_dump(f->s);
	tb_store_free(f->s);
	f->s = NULL;
	make_layout3(f->data);
	{
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi st;
		uint8_t k[TB_MEMBER_KEY_LEN], line[TB_HISTORY_VAL_LEN] = {0};
		tb_member_key(k, 1, 1);
		line[7] = 99;
		MDB_val kv = {sizeof k, k}, vv = {sizeof line, line};
		assert_int_equal(mdb_env_create(&env), 0);
		assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
		assert_int_equal(mdb_env_open(env, f->data, 0, 0600), 0);
		assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
		assert_int_equal(mdb_dbi_open(txn, "statements",
					      MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &st),
				 0);
		assert_int_equal(mdb_put(txn, st, &kv, &vv, 0), 0);
		assert_int_equal(mdb_txn_commit(txn), 0);
		mdb_env_close(env);
	}
	rdonly_same(f->data, orig);
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	char *now = tb_test_store_dump(f->s);
	assert_string_equal(orig, now);
	free(now);

	/* A reindex under way: read-only opens refuse. */
	struct tb_txn t;
	tb_txn_begin(&t, f->s->db, true);
	tb_txn_put(&t, TB_T_META, "reindexing", 10, "1", 1);
	assert_int_equal(tb_txn_commit(&t), 0);
	struct tb_store *ro = NULL;
	assert_int_equal(tb_store_open(&ro, f->data, TB_STORE_RDONLY), TB_EREINDEX);
	assert_null(ro);
	reopen(f); /* finishes it */
	assert_int_equal(tb_store_open(&ro, f->data, TB_STORE_RDONLY), 0);
	tb_store_free(ro);
	now = tb_test_store_dump(f->s);
	assert_string_equal(orig, now);
	free(now);
	free(orig);
	comm_free(&c);
	comm_free(&d);
}

/* Two writable opens never rebuild at once: one waits while another holds
 * the rebuild lock, and decides again once it has it. Two processes that
 * open a store to convert, and two whose reindex was cut short, both
 * succeed, and the tables are as a single rebuild leaves them. */
static void test_rebuild_lock(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 11);
	comm_init(&d, 12);
	build_rich(f->s, &c, &d);
	char *orig = tb_test_store_dump(f->s);
	tb_store_free(f->s);
	f->s = NULL;
	make_layout3(f->data);

	char lockf[4300];
	snprintf(lockf, sizeof lockf, "%s/reindex.lock", f->data);
	int fd = open(lockf, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	assert_int_equal(fcntl(fd, F_SETLK, &fl), 0);
	pid_t pid = open_in_child(f->data);
	usleep(300 * 1000);
	int st;
	assert_int_equal(waitpid(pid, &st, WNOHANG), 0); /* waiting */
	assert_int_equal(layout_of(f->data), 3);
	close(fd);
	st = child_status(pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(layout_of(f->data), TB_DERIVED_VERSION);

	make_layout3(f->data);
	setenv("TALLY_CONVERT_BATCH", "1", 1);
	pid_t a = open_in_child(f->data), b = open_in_child(f->data);
	unsetenv("TALLY_CONVERT_BATCH");
	st = child_status(a);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = child_status(b);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	char *now = tb_test_store_dump(f->s);
	assert_string_equal(orig, now);
	free(now);

	struct tb_txn t;
	tb_txn_begin(&t, f->s->db, true);
	tb_txn_put(&t, TB_T_META, "reindexing", 10, "1", 1);
	assert_int_equal(tb_txn_commit(&t), 0);
	tb_store_free(f->s);
	f->s = NULL;
	a = open_in_child(f->data);
	b = open_in_child(f->data);
	st = child_status(a);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	st = child_status(b);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	now = tb_test_store_dump(f->s);
	assert_string_equal(orig, now);
	free(now);
	free(orig);
	comm_free(&c);
	comm_free(&d);
}

struct progress {
	uint64_t calls, done, total;
};

static void on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct progress *p = ctx;
	assert_true(done > p->done);
	p->calls++;
	p->done = done;
	p->total = total;
}

/* A rebuild the open runs tells its caller how far it is (tallyd tells
 * systemd): a reindex by entries of all, a conversion by lines copied. */
static void test_rebuild_progress(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 11);
	comm_init(&d, 12);
	build_rich(f->s, &c, &d);
	struct tb_txn t;
	tb_txn_begin(&t, f->s->db, true);
	tb_txn_put(&t, TB_T_META, "reindexing", 10, "1", 1);
	assert_int_equal(tb_txn_commit(&t), 0);
	tb_store_free(f->s);
	struct progress p = {0};
	assert_int_equal(tb_store_open_progress(&f->s, f->data, 0, on_progress, &p), 0);
	assert_true(p.calls >= 2); /* a batch per log at least */
	assert_int_equal(p.done, c.log.seq + d.log.seq);
	assert_int_equal(p.total, p.done);

	tb_store_free(f->s);
	f->s = NULL;
	make_layout3(f->data);
	setenv("TALLY_CONVERT_BATCH", "4", 1);
	p = (struct progress){0};
	assert_int_equal(tb_store_open_progress(&f->s, f->data, 0, on_progress, &p), 0);
	unsetenv("TALLY_CONVERT_BATCH");
	assert_true(p.calls >= 2 && p.total == 0);

	/* Told not to rebuild (a tally command while tallyd runs), a writable
	 * open refuses a store that needs it, and leaves it as it was. */
	tb_store_free(f->s);
	f->s = NULL;
	make_layout3(f->data);
	struct tb_store *s2 = NULL;
	assert_int_equal(tb_store_open(&s2, f->data, TB_STORE_NOREBUILD), TB_EREINDEX);
	assert_null(s2);
	assert_int_equal(layout_of(f->data), 3);
	assert_true(has_table(f->data, "history"));
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
	tb_store_free(f->s);
	assert_int_equal(tb_store_open(&f->s, f->data, TB_STORE_NOREBUILD), 0);
	comm_free(&c);
	comm_free(&d);
}

/* ---- memos and pending proposals ---- */

struct pend {
	char seen[8][8];
	int n;
	int stop_at;
};

static int pend_cb(void *ctx, struct tb_view msg)
{
	struct pend *p = ctx;
	assert_true(p->n < 8 && msg.len < 8);
	memcpy(p->seen[p->n], msg.p, msg.len);
	p->seen[p->n][msg.len] = '\0';
	p->n++;
	return p->n == p->stop_at ? 42 : 0;
}

static void test_local_tables(void **state)
{
	struct fixture *f = *state;
	struct tb_store *s = f->s;
	uint8_t t1[TB_TXID_LEN], t2[TB_TXID_LEN], t3[TB_TXID_LEN];
	tb_test_txid(t1, 1);
	tb_test_txid(t2, 2);
	tb_test_txid(t3, 3);
	uint8_t salt[TB_MEMO_SALT_LEN];
	memset(salt, 0xab, sizeof salt);
	char out[TB_MEMO_MAX + 1];

	/* tb_memo_hash is SHA-256(salt || text). */
	uint8_t h[TB_HASHLEN], want[TB_HASHLEN], buf[TB_MEMO_SALT_LEN + 5];
	tb_memo_hash(h, salt, "hello", 5);
	memcpy(buf, salt, TB_MEMO_SALT_LEN);
	memcpy(buf + TB_MEMO_SALT_LEN, "hello", 5);
	tb_sha256(want, buf, sizeof buf);
	assert_memory_equal(h, want, TB_HASHLEN);

	assert_int_equal(tb_store_memo_get(s, t1, out, sizeof out), TB_ENOTFOUND);
	assert_int_equal(tb_store_memo_put(s, t1, salt, "mowed the lawn", 14), 0);
	assert_int_equal(tb_store_memo_get(s, t1, out, sizeof out), 0);
	assert_string_equal(out, "mowed the lawn");
	assert_int_equal(tb_store_memo_get(s, t1, out, 5), 0);
	assert_string_equal(out, "mowe");
	out[0] = 'Q';
	assert_int_equal(tb_store_memo_get(s, t1, out, 0), TB_ETOOBIG);
	assert_int_equal(out[0], 'Q');
	assert_int_equal(tb_store_memo_put(s, t1, salt, "mowed", 5), 0);
	assert_int_equal(tb_store_memo_get(s, t1, out, sizeof out), 0);
	assert_string_equal(out, "mowed");
	assert_int_equal(tb_store_memo_put(s, t2, salt, "", 0), 0);
	assert_int_equal(tb_store_memo_get(s, t2, out, sizeof out), 0);
	assert_string_equal(out, "");
	char big[TB_MEMO_MAX + 1];
	memset(big, 'x', sizeof big);
	assert_int_equal(tb_store_memo_put(s, t3, salt, big, TB_MEMO_MAX + 1), TB_ETOOLONG);
	assert_int_equal(tb_store_memo_put(s, t3, salt, big, TB_MEMO_MAX), 0);
	assert_int_equal(tb_store_memo_get(s, t3, out, sizeof out), 0);
	assert_int_equal(strlen(out), TB_MEMO_MAX);
	assert_int_equal(tb_store_memo_erase(s, t1), 0);
	assert_int_equal(tb_store_memo_get(s, t1, out, sizeof out), TB_ENOTFOUND);
	assert_int_equal(tb_store_memo_erase(s, t1), TB_ENOTFOUND);
	assert_int_equal(tb_store_memo_get(s, t2, out, sizeof out), 0);

	/* Pending proposals. */
	uint8_t got[16];
	size_t len = 0;
	assert_int_equal(tb_store_pending_get(s, t1, got, sizeof got, &len), TB_ENOTFOUND);
	assert_int_equal(tb_store_pending_put(s, t2, (const uint8_t *)"two", 3), 0);
	assert_int_equal(tb_store_pending_put(s, t1, (const uint8_t *)"one", 3), 0);
	assert_int_equal(tb_store_pending_put(s, t3, (const uint8_t *)"three", 5), 0);
	assert_int_equal(tb_store_pending_put(s, t1, (const uint8_t *)"uno", 3), TB_EEXISTS);
	assert_int_equal(tb_store_pending_get(s, t1, got, sizeof got, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "one", 3);
	assert_int_equal(tb_store_pending_get(s, t3, got, 4, &len), TB_ETOOBIG);
	struct pend p = {.n = 0, .stop_at = 0};
	assert_int_equal(tb_store_foreach_pending(s, pend_cb, &p), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.seen[0], "one");
	assert_string_equal(p.seen[1], "two");
	assert_string_equal(p.seen[2], "three");
	p.n = 0;
	p.stop_at = 2;
	assert_int_equal(tb_store_foreach_pending(s, pend_cb, &p), 42);
	assert_int_equal(p.n, 2);
	assert_int_equal(tb_store_pending_del(s, t2), 0);
	assert_int_equal(tb_store_pending_del(s, t2), TB_ENOTFOUND);
	assert_int_equal(tb_store_pending_get(s, t2, got, sizeof got, &len), TB_ENOTFOUND);
	p.n = 0;
	p.stop_at = 0;
	assert_int_equal(tb_store_foreach_pending(s, pend_cb, &p), 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.seen[1], "three");

	/* They survive a reopen and stay out of every log. */
	reopen(f);
	assert_int_equal(tb_store_memo_get(f->s, t3, out, sizeof out), 0);
	assert_int_equal(tb_store_pending_get(f->s, t1, got, sizeof got, &len), 0);
	struct tb_head hd;
	uint8_t nolog[TB_KEY_LEN] = {0};
	assert_int_equal(tb_store_head(f->s, nolog, &hd), TB_ENOTFOUND);
}

/* ---- exports and verification ---- */

struct item {
	size_t off, len; /* of the record inside the file */
	uint8_t log[TB_KEY_LEN];
	uint64_t seq;
};

/* The entry items of an export (other items, if any, are skipped). */
static size_t list_items(const uint8_t *file, size_t len, struct item *it, size_t cap)
{
	size_t off = 9, n = 0;
	while (off + 5 <= len && file[off] != TB_EXPORT_END) {
		size_t ilen = tb_be32_get(file + off + 1);
		if (file[off] != TB_EXPORT_ENTRY) {
			off += 5 + ilen;
			continue;
		}
		assert_true(n < cap);
		it[n].off = off + 5;
		it[n].len = ilen;
		struct tb_entry e;
		assert_int_equal(tb_entry_decode(&e, file + off + 5, ilen), 0);
		memcpy(it[n].log, e.log_id, TB_KEY_LEN);
		it[n].seq = e.seq;
		n++;
		off += 5 + ilen;
	}
	assert_int_equal(file[off], TB_EXPORT_END);
	assert_int_equal(off + 13, len);
	return n;
}

struct membuf {
	uint8_t *p;
	size_t len;
};

static int put_mem(void *ctx, const void *p, size_t len)
{
	struct membuf *m = ctx;
	uint8_t *n = realloc(m->p, m->len + len + 1);
	if (!n)
		return TB_ENOMEM;
	memcpy(n + m->len, p, len);
	m->p = n;
	m->len += len;
	return 0;
}

static uint8_t *export_store(struct fixture *f, size_t *len, uint64_t *items)
{
	struct membuf m = {NULL, 0};
	assert_int_equal(tb_export_write(f->s, put_mem, &m, items), 0);
	assert_non_null(m.p);
	*len = m.len;
	return m.p;
}

/* A small store: two logs of a few entries, signed and attested. */
static void build_small(struct tb_store *s, struct comm *c, struct comm *d)
{
	put_genesis(s, c, "Small");
	put_join(s, c, 1, "ann", -600, 0);
	put_join(s, c, 2, "ben", -600, 0);
	uint64_t t = put_xchg(s, c, 1, 2, 60, true);
	put_rev(s, c, t, 1, 2, true);
	put_xchg(s, c, 2, 1, 30, false);
	put_genesis(s, d, "Other");
	put_join(s, d, 1, "ann", -600, 0);
	put_join(s, d, 2, "ben", -600, 0);
	put_xchg(s, d, 2, 1, 45, true);
	put_left(s, d, 2);
}

static void verify_export(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 13);
	comm_init(&d, 14);
	build_small(f->s, &c, &d);
	size_t len;
	uint64_t nitems;
	uint8_t *file = export_store(f, &len, &nitems);
	assert_int_equal(nitems, 11);
	struct item it[16];
	size_t n = list_items(file, len, it, 16);
	assert_int_equal(n, 11);

	struct tb_verify_report rep;
	assert_int_equal(tb_verify_export(file, len, f->dir, &rep), 0);
	assert_int_equal(rep.err, 0);
	assert_int_equal(rep.logs, 2);
	assert_int_equal(rep.entries, 11);
	tb_store_free(f->s);
	f->s = NULL;
	assert_int_equal(tb_verify_dir(f->data, f->dir, &rep), 0);
	assert_int_equal(rep.logs, 2);
	assert_int_equal(rep.entries, 11);

	/* Every byte of every record, changed (all its bits at even offsets,
	 * one of them at odd ones): refused at that record's item, named as
	 * FORMAT.md 11.1 says: by what the record claims if it still decodes,
	 * else after the record before it. Under ASan (each verify's scratch
	 * store costs ten times more there) one byte in 4, a different one in
	 * each record, so that every field is still hit. */
	const size_t every = TB_TEST_SANITIZED ? 4 : 1;
	uint8_t *copy = malloc(len);
	size_t checked = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t b = i % every; b < it[i].len; b += every) {
			const uint8_t masks[] = {b % 2 ? (uint8_t)(1u << (b / 2 % 8)) : 0xff};
			for (size_t k = 0; k < sizeof masks; k++) {
				memcpy(copy, file, len);
				copy[it[i].off + b] ^= masks[k];
				int err = tb_verify_export(copy, len, f->dir, &rep);
				struct tb_entry e;
				uint8_t log[TB_KEY_LEN] = {0};
				uint64_t seq = i ? it[i - 1].seq + 1 : 1;
				if (i)
					memcpy(log, it[i - 1].log, TB_KEY_LEN);
				if (!tb_entry_decode(&e, copy + it[i].off, it[i].len)) {
					memcpy(log, e.log_id, TB_KEY_LEN);
					seq = e.seq;
				}
				if (!err || rep.item != i + 1 || rep.where.seq != seq ||
				    memcmp(rep.where.log_id, log, TB_KEY_LEN))
					fail_msg(
						"record %zu (seq %llu) byte %zu ^%02x: "
						"%s at item %llu seq %llu (want %llu) of %s log: %s",
						i, (unsigned long long)it[i].seq, b, masks[k],
						tb_errname(err), (unsigned long long)rep.item,
						(unsigned long long)rep.where.seq,
						(unsigned long long)seq,
						memcmp(rep.where.log_id, log, TB_KEY_LEN)
							? "another"
							: "its",
						rep.where.msg);
				assert_int_equal(err, rep.err);
				checked++;
			}
		}
	}
	/* The framing: file header, item headers, END item. */
	size_t frame[128], nf = 0;
	for (size_t b = 0; b < 9; b++)
		frame[nf++] = b;
	for (size_t i = 0; i < n; i++)
		for (size_t b = 0; b < 5; b++)
			frame[nf++] = it[i].off - 5 + b;
	for (size_t b = len - 13; b < len; b++)
		frame[nf++] = b;
	const uint8_t masks[] = {0x01, 0x80, 0xff};
	for (size_t i = 0; i < nf; i++) {
		for (size_t k = 0; k < sizeof masks; k++) {
			memcpy(copy, file, len);
			copy[frame[i]] ^= masks[k];
			if (!tb_verify_export(copy, len, f->dir, &rep))
				fail_msg("framing byte %zu ^%02x passed", frame[i], masks[k]);
			assert_int_not_equal(rep.err, 0);
		}
	}
	/* Cut anywhere (every byte of the headers and the first record, then
	 * every 7th), or with a byte more: refused. */
	for (size_t cut = 0; cut < len; cut += cut < it[1].off ? 1 : 7)
		assert_int_not_equal(tb_verify_export(file, cut, f->dir, &rep), 0);
	memcpy(copy, file, len);
	uint8_t *longer = malloc(len + 1);
	memcpy(longer, file, len);
	longer[len] = 0;
	assert_int_equal(tb_verify_export(longer, len + 1, f->dir, &rep), TB_ETRAILING);
	print_message("%zu single-byte changes of records refused at their place\n", checked);
	free(longer);
	free(copy);
	free(file);
	comm_free(&c);
	comm_free(&d);
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
}

static size_t find_all(const uint8_t *hay, size_t hlen, const uint8_t *needle, size_t nlen,
		       size_t *at, size_t cap)
{
	size_t n = 0;
	const uint8_t *p = hay;
	while (hlen - (size_t)(p - hay) >= nlen) {
		const uint8_t *q = memmem(p, hlen - (size_t)(p - hay), needle, nlen);
		if (!q)
			break;
		assert_true(n < cap);
		at[n++] = (size_t)(q - hay);
		p = q + 1;
	}
	return n;
}

static void verify_dir_tamper(void **state)
{
	struct fixture *f = *state;
	struct comm c, d;
	comm_init(&c, 15);
	comm_init(&d, 16);
	build_small(f->s, &c, &d);
	tb_store_free(f->s);
	f->s = NULL;
	struct tb_verify_report rep;
	assert_int_equal(tb_verify_dir(f->data, f->dir, &rep), 0);
	char path[4300];
	snprintf(path, sizeof path, "%s/data.mdb", f->data);
	size_t mlen;
	uint8_t *mdb = tb_test_read_file(path, &mlen);
	assert_non_null(mdb);
	uint8_t *copy = malloc(mlen);
	char *tdir = tb_test_scratchdir("tamper");
	char tpath[4300];
	snprintf(tpath, sizeof tpath, "%s/data.mdb", tdir);
	size_t checked = 0;
	struct comm *logs[2] = {&c, &d};
	for (int li = 0; li < 2; li++) {
		const struct tb_view *v = tb_test_recs_views(&logs[li]->recs, 0);
		for (size_t i = 0; i < logs[li]->recs.n; i++) {
			size_t at[16];
			size_t nat = find_all(mdb, mlen, v[i].p, v[i].len, at, 16);
			assert_true(nat >= 1);
			/* A sample of bytes: the envelope, the body, the signature. */
			for (size_t b = 0; b < v[i].len; b += (b < 80 ? 5 : 11)) {
				memcpy(copy, mdb, mlen);
				for (size_t k = 0; k < nat; k++)
					copy[at[k] + b] ^= 0x04;
				assert_int_equal(tb_test_write_file(tpath, copy, mlen), 0);
				int err = tb_verify_dir(tdir, f->dir, &rep);
				if (!err || rep.where.seq != i + 1 ||
				    memcmp(rep.where.log_id, id_of(logs[li]), TB_KEY_LEN))
					fail_msg("log %d entry %zu byte %zu: %s at seq "
						 "%llu: %s",
						 li, i + 1, b, tb_errname(err),
						 (unsigned long long)rep.where.seq, rep.where.msg);
				checked++;
			}
		}
	}
	print_message("%zu changed bytes in data.mdb found at their entry\n", checked);
	/* The untouched copy verifies. */
	assert_int_equal(tb_test_write_file(tpath, mdb, mlen), 0);
	assert_int_equal(tb_verify_dir(tdir, f->dir, &rep), 0);
	tb_test_rmrf(tdir);
	free(copy);
	free(mdb);
	comm_free(&c);
	comm_free(&d);
	assert_int_equal(tb_store_open(&f->s, f->data, 0), 0);
}

static int group_setup(void **state)
{
	(void)state;
	return tb_crypto_init() == 0 ? 0 : -1;
}

/* The verify_ tests run as a CTest test of their own (test_store_verify). */
int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_community_life, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merkle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reindex, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout3_converts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout3_convert_resumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdonly_goes_by_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_progress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_export, setup, teardown),
		cmocka_unit_test_setup_teardown(verify_dir_tamper, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
