/*
 * test_group.c: group commit (tb_store_group_*, FORMAT.md 7.13). The changes
 * made between a join and a leave share one write transaction: each sees
 * the ones before it, a refused one undoes only itself, nothing is on disk
 * (another handle sees nothing) until tb_store_group_commit, and a write
 * outside the join commits the group first. A scratch store does not group.
 */
#include "testutil.h"

#include <string.h>

#define OWN_KEY 70
#define FLOOR -600 /* minutes a member may owe */

struct fix {
	char *dir;
	struct tb_store *s;
	struct tb_keypair kp;
};

static void fix_open(struct fix *f, unsigned flags)
{
	f->dir = flags & TB_STORE_SCRATCH ? tb_test_scratchdir("group") : tb_test_tmpdir("group");
	tb_test_keypair(&f->kp, OWN_KEY);
	assert_int_equal(tb_store_open(&f->s, f->dir, flags), 0);
	assert_int_equal(tb_store_set_self(f->s, f->kp.pk.b), 0);
	struct tb_genesis g;
	tb_test_genesis(&g, "Group", FLOOR, 0);
	assert_int_equal(tb_store_append_own(f->s, &f->kp, TB_KIND_GENESIS, &g, NULL, NULL), 0);
	for (uint32_t no = 1; no <= 2; no++) {
		struct tb_keypair mk;
		struct tb_member_join j;
		tb_test_keypair(&mk, 100 + no);
		tb_test_join(&j, no, no == 1 ? "m1" : "m2", &mk, FLOOR, 0);
		assert_int_equal(
			tb_store_append_own(f->s, &f->kp, TB_KIND_MEMBER_JOIN, &j, NULL, NULL), 0);
	}
}

static void fix_close(struct fix *f)
{
	tb_store_free(f->s);
	tb_keypair_wipe(&f->kp);
	tb_test_rmrf(f->dir);
}

/* An attested exchange of `minutes` from member 1 to member 2. */
static int exchange(struct fix *f, uint64_t txno, uint64_t minutes, uint64_t *seq)
{
	struct tb_test_exchange tx;
	tb_test_exchange(&tx, f->kp.pk.b, txno, 1, 2, minutes, NULL, NULL);
	struct tb_reject rej;
	return tb_store_append_own(f->s, &f->kp, TB_KIND_EXCHANGE, &tx.x, seq, &rej);
}

/* The own log's head seq as a second handle (another process) sees it. */
static uint64_t seen_elsewhere(const struct fix *f)
{
	struct tb_store *o;
	struct tb_head h;
	assert_int_equal(tb_store_open(&o, f->dir, TB_STORE_RDONLY), 0);
	assert_int_equal(tb_store_head(o, f->kp.pk.b, &h), 0);
	tb_store_free(o);
	return h.seq;
}

static uint64_t head(const struct fix *f)
{
	struct tb_head h;
	assert_int_equal(tb_store_head(f->s, f->kp.pk.b, &h), 0);
	return h.seq;
}

static void test_group_members(void **state)
{
	(void)state;
	struct fix f;
	fix_open(&f, 0);
	uint64_t h0 = head(&f), seq = 0;
	tb_store_group_join(f.s);
	assert_int_equal(exchange(&f, 1, 60, &seq), 0);
	assert_int_equal(seq, h0 + 1);
	/* Reads inside the join see the group's writes. */
	assert_int_equal(head(&f), h0 + 1);
	tb_store_group_leave(f.s);
	/* Outside the join, reads see what is committed; so does anyone else. */
	assert_int_equal(head(&f), h0);
	assert_int_equal(seen_elsewhere(&f), h0);
	/* The next request of the turn: refused (past member 2's floor), it
	 * undoes only itself; the one after it goes on from the first. */
	tb_store_group_join(f.s);
	assert_int_equal(exchange(&f, 2, 10000, &seq), TB_EFLOOR);
	assert_int_equal(exchange(&f, 3, 30, &seq), 0);
	assert_int_equal(seq, h0 + 2);
	tb_store_group_leave(f.s);
	assert_int_equal(seen_elsewhere(&f), h0);
	assert_int_equal(tb_store_group_commit(f.s, NULL), 0);
	assert_int_equal(seen_elsewhere(&f), h0 + 2);
	assert_int_equal(head(&f), h0 + 2);
	struct tb_member m;
	assert_int_equal(tb_store_member(f.s, f.kp.pk.b, 1, &m), 0);
	assert_int_equal(m.balance, 90); /* the provider earned */
	/* Nothing open: a commit has nothing to do. */
	assert_int_equal(tb_store_group_commit(f.s, NULL), 0);
	fix_close(&f);
}

static void test_group_write_outside(void **state)
{
	(void)state;
	struct fix f;
	fix_open(&f, 0);
	uint64_t h0 = head(&f), seq = 0;
	tb_store_group_join(f.s);
	assert_int_equal(exchange(&f, 1, 5, &seq), 0);
	tb_store_group_leave(f.s);
	/* A write of the same thread outside the join (a peer's entries,
	 * say) may not wait for the writer lock the group holds: the group is
	 * committed first, then the write is its own durable commit. */
	assert_int_equal(exchange(&f, 2, 5, &seq), 0);
	assert_int_equal(seq, h0 + 2);
	assert_int_equal(seen_elsewhere(&f), h0 + 2);
	assert_int_equal(tb_store_group_commit(f.s, NULL), 0);
	/* A refused change alone in a group leaves nothing to commit. */
	tb_store_group_join(f.s);
	assert_int_equal(exchange(&f, 3, 10000, &seq), TB_EFLOOR);
	tb_store_group_leave(f.s);
	assert_int_equal(tb_store_group_commit(f.s, NULL), 0);
	assert_int_equal(seen_elsewhere(&f), h0 + 2);
	fix_close(&f);
}

static void test_group_scratch(void **state)
{
	(void)state;
	struct fix f;
	fix_open(&f, TB_STORE_SCRATCH);
	uint64_t h0 = head(&f), seq = 0;
	tb_store_group_join(f.s);
	assert_int_equal(exchange(&f, 1, 5, &seq), 0);
	tb_store_group_leave(f.s);
	assert_int_equal(head(&f), h0 + 1); /* committed at once */
	assert_int_equal(tb_store_group_commit(f.s, NULL), 0);
	fix_close(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_members),
		cmocka_unit_test(test_group_write_outside),
		cmocka_unit_test(test_group_scratch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
