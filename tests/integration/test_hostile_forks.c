/*
 * test_hostile_forks.c: a dishonest community forks its own log in the two
 * ways only its key can, against two real tallyd processes (A, and B that
 * dials A) on 127.0.0.1 (issue 11, finding 5 and the checkpoint part of
 * finding 12):
 *
 *  - it signs its head entry twice (another valid signature over the same
 *    signed part), gives A one copy and B the other, then goes on at A with
 *    entries chained on A's copy. Its log id sorts before every other, so
 *    it comes first in the sync order. Both nodes must detect the fork and
 *    keep the proof, and the honest logs must keep replicating (before: the
 *    copies passed for duplicates, A's next entry was refused with EPREV on
 *    every reconnect, no proof was kept, and the logs after it in the sync
 *    order never crossed);
 *  - it sends A a validly signed checkpoint that contradicts the log both
 *    hold: A keeps it as the fork proof, B checks the proof against its own
 *    copy and keeps it too; the sender is sent the proof;
 *  - then another valid record of that log at a seq both hold reaches A:
 *    the two records replace the checkpoint proof at A, and at B through
 *    A's FORK;
 *  - checkpoints A drops (a log not admitted, a log not held, a flood) are
 *    told with REFUSED, at most TB_CP_TOLD + 1 on a connection.
 *
 * Each prints the figures it measured.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agree.h"
#include "fed.h"
#include "rogue.h"
#include "tb_node.h"

#define A 0
#define B 1
#define WAIT_MS 60000
#define ROGUE_FROM 61000 /* first key pair number tried for the re-signer */
#define CP_ROGUE_KEY 62001
#define GHOST_KEY 62002	   /* admitted, never held */
#define STRANGER_KEY 62003 /* not admitted */
#define FAKE_KEY 62010	   /* the fake peer's node identity */
#define NEX 20		   /* exchanges in a rogue log */
#define K 12		   /* the seq signed twice */
#define CP_TOLD 8	   /* TB_CP_TOLD of node/daemon/daemon.h */

static struct tb_fed *F;
static uint8_t psk[32];

/* A rogue log: genesis, two members, NEX attested exchanges. */
static void rogue_log(struct tb_test_log *l, struct tb_test_recs *r, uint32_t keyno,
		      const char *name)
{
	tb_test_log_init(l, keyno);
	struct tb_genesis g;
	tb_test_genesis(&g, name, -6000, 0);
	tb_test_log_add(l, r, TB_KIND_GENESIS, &g);
	for (uint32_t m = 1; m <= 2; m++) {
		struct tb_keypair mk;
		struct tb_member_join j;
		tb_test_keypair(&mk, keyno * 4 + m);
		tb_test_join(&j, m, m == 1 ? "mallory" : "trudy", &mk, -6000, 0);
		tb_test_log_add(l, r, TB_KIND_MEMBER_JOIN, &j);
		tb_keypair_wipe(&mk);
	}
	for (uint64_t i = 0; i < NEX; i++) {
		struct tb_test_exchange x;
		tb_test_exchange(&x, l->kp.pk.b, i + 1, i % 2 ? 1 : 2, i % 2 ? 2 : 1, 15, NULL,
				 NULL);
		tb_test_log_add(l, r, TB_KIND_EXCHANGE, &x.x);
	}
}

/* The other branch of r: the same to K - 1, entry K signed again, the rest
 * chained on that copy. */
static void other_branch(const struct tb_test_log *l, struct tb_test_recs *r,
			 struct tb_test_recs *out)
{
	const struct tb_view *v = tb_test_recs_views(r, 0);
	for (size_t i = 0; i + 1 < K; i++)
		tb_test_recs_add(out, v[i].p, v[i].len);
	uint8_t rec[TB_ENTRY_MAX], prev[TB_HASHLEN];
	size_t len = tb_rogue_resign(rec, v[K - 1].p, v[K - 1].len, &l->kp, 7);
	tb_test_recs_add(out, rec, len);
	tb_entry_hash(prev, rec, len);
	for (size_t i = K; i < r->n; i++) {
		struct tb_entry e;
		v = tb_test_recs_views(r, 0);
		assert_int_equal(tb_entry_decode(&e, v[i].p, v[i].len), 0);
		len = tb_test_seal_at(rec, &l->kp, e.seq, prev, e.timestamp, e.kind, &e.body);
		tb_test_recs_add(out, rec, len);
		tb_entry_hash(prev, rec, len);
	}
}

/* The first key pair number from `from` whose public key sorts before both
 * nodes' ids: its log comes first wherever logs go in id order. */
static uint32_t keyno_first(uint32_t from)
{
	for (uint32_t k = from;; k++) {
		struct tb_keypair kp;
		tb_test_keypair(&kp, k);
		bool first = memcmp(kp.pk.b, F->node[A].id, TB_KEY_LEN) < 0 &&
			     memcmp(kp.pk.b, F->node[B].id, TB_KEY_LEN) < 0;
		tb_keypair_wipe(&kp);
		if (first)
			return k;
	}
}

/* Node i holds log_id frozen by a fork proof. */
static bool forked_at(size_t i, const uint8_t *log_id)
{
	struct tb_fed_heads hs;
	tb_fed_heads(F, i, &hs);
	const struct tb_head *h = tb_fed_find(&hs, log_id);
	return h && (h->flags & TB_LOG_FORKED);
}

struct forked_ctx {
	const uint8_t *log_id;
};

static bool both_forked(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	(void)f;
	struct forked_ctx *c = vctx;
	for (size_t i = A; i <= B; i++) {
		if (!forked_at(i, c->log_id)) {
			snprintf(why, cap, "node %zu holds no fork proof of the rogue log", i);
			*blame = i;
			return false;
		}
	}
	return true;
}

struct has_ctx {
	size_t from, to;
	uint64_t seq;
};

static bool has_pred(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct has_ctx *c = vctx;
	struct tb_fed_heads hs;
	tb_fed_heads(f, c->to, &hs);
	const struct tb_head *h = tb_fed_find(&hs, f->node[c->from].id);
	if (h && h->seq >= c->seq)
		return true;
	snprintf(why, cap, "node %zu holds node %zu's log at %llu, not %llu", c->to, c->from,
		 h ? (unsigned long long)h->seq : 0ull, (unsigned long long)c->seq);
	*blame = c->to;
	return false;
}

/* ms for an entry recorded at `from` to reach `to`, or -1 if it did not
 * within ms. */
static long honest_crossing_ms(size_t from, size_t to, unsigned ms)
{
	uint64_t t0 = tb_fed_now_ms();
	tb_fed_record(F, from);
	struct has_ctx c = {from, to, tb_fed_own_seq(F, from)};
	char why[200];
	size_t blame;
	if (!tb_fed_poll(F, ms, has_pred, &c, why, sizeof why, &blame))
		return -1;
	return (long)(tb_fed_now_ms() - t0);
}

static void honest_crosses(void)
{
	assert_true(honest_crossing_ms(A, B, WAIT_MS) >= 0);
	assert_true(honest_crossing_ms(B, A, WAIT_MS) >= 0);
}

static struct tb_test_log Resigner, CpRogue;
static struct tb_test_recs Branch1; /* the re-signer's log as A gets it */
static struct tb_test_recs CpRecs;  /* the checkpoint forger's log */
static uint8_t Ghost[TB_KEY_LEN], Stranger[TB_KEY_LEN];

static int group_setup(void **state)
{
	(void)state;
	F = tb_fed_new("hostile-forks", 2);
	assert_int_equal(tb_fedkey_read(F->fedkey, psk), 0);
	/* The re-signer: A and B hold its log up to K, each with its own
	 * copy of entry K, before they meet. */
	struct tb_test_recs r2 = {0};
	rogue_log(&Resigner, &Branch1, keyno_first(ROGUE_FROM), "Resigner");
	other_branch(&Resigner, &Branch1, &r2);
	tb_fed_preload(F, A, tb_test_recs_views(&Branch1, 0), K);
	tb_fed_preload(F, B, tb_test_recs_views(&r2, 0), K);
	/* The checkpoint forger: one history, held by both. */
	rogue_log(&CpRogue, &CpRecs, CP_ROGUE_KEY, "Forger");
	tb_fed_preload(F, A, tb_test_recs_views(&CpRecs, 0), CpRecs.n);
	tb_fed_preload(F, B, tb_test_recs_views(&CpRecs, 0), CpRecs.n);
	struct tb_keypair kp;
	tb_test_keypair(&kp, GHOST_KEY);
	memcpy(Ghost, kp.pk.b, TB_KEY_LEN);
	tb_test_keypair(&kp, STRANGER_KEY);
	memcpy(Stranger, kp.pk.b, TB_KEY_LEN);
	tb_keypair_wipe(&kp);
	uint8_t ids[3][TB_KEY_LEN];
	memcpy(ids[0], Resigner.kp.pk.b, TB_KEY_LEN);
	memcpy(ids[1], CpRogue.kp.pk.b, TB_KEY_LEN);
	memcpy(ids[2], Ghost, TB_KEY_LEN);
	const char *names[3] = {"Resigner", "Forger", "Ghost"};
	for (size_t i = A; i <= B; i++)
		tb_fed_admit_many(F, i, (const uint8_t(*)[TB_KEY_LEN])ids, names, 3);
	tb_test_recs_free(&r2);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tb_test_recs_free(&Branch1);
	tb_test_recs_free(&CpRecs);
	tb_fed_free(F);
	tb_fed_kill_all();
	return 0;
}

/* Finding 5: A goes on with entries chained on its copy; the copies meet at
 * B's heads exchange with A. Both nodes keep the proof, and the honest logs
 * (after the rogue's in id order) cross. Waits poll, so that a node that
 * never finds the fork (as before) still gives its figures. */
static void test_resigned_entry(void **state)
{
	(void)state;
	static struct tb_fake p;
	tb_fed_start(F, A);
	tb_fake_open(&p, F->node[A].port, psk, FAKE_KEY);
	assert_int_equal(tb_fake_entries(&p, tb_test_recs_views(&Branch1, K), Branch1.n - K), 0);
	tb_fed_wait_log_seq(F, A, Resigner.kp.pk.b, Branch1.n, WAIT_MS);
	tb_fake_close(&p);
	tb_fed_link(F, B, A);
	uint64_t t0 = tb_fed_now_ms();
	tb_fed_start(F, B);
	struct forked_ctx fc = {Resigner.kp.pk.b};
	char why[200];
	size_t blame;
	bool proof = tb_fed_poll(F, 30000, both_forked, &fc, why, sizeof why, &blame);
	uint64_t proof_ms = tb_fed_now_ms() - t0;
	long ab = honest_crossing_ms(A, B, 30000), ba = honest_crossing_ms(B, A, 30000);
	print_message("entry %d of a rogue log signed twice, one copy at each node, entries "
		      "after it at A: %s after %llu ms; honest entries crossed A to B in %ld ms, "
		      "B to A in %ld ms (-1: not within 30 s)\n",
		      K, proof ? "both nodes hold the fork proof" : "NO fork proof",
		      (unsigned long long)proof_ms, ab, ba);
	if (!proof)
		fail_msg("%s", why);
	assert_true(ab >= 0 && ba >= 0);
	/* Each kept its own history of the rogue log. */
	struct tb_fed_heads ha, hb;
	tb_fed_heads(F, A, &ha);
	tb_fed_heads(F, B, &hb);
	assert_int_equal(tb_fed_find(&ha, Resigner.kp.pk.b)->seq, Branch1.n);
	assert_int_equal(tb_fed_find(&hb, Resigner.kp.pk.b)->seq, K);
}

/* An honest fake peer of A, synced (announcing no logs), past what A pushes
 * it at first. */
static void open_synced(struct tb_fake *p)
{
	assert_int_equal(tb_fake_try_open(p, F->node[A].port, psk, FAKE_KEY, 10000), 0);
	assert_int_equal(tb_fake_sync_heads(p, NULL, 0), 0);
	struct tb_peer_msg m = {.type = TB_MSG_PING};
	m.u.ping.nonce = 4242;
	assert_int_equal(tb_fake_send(p, &m), 0);
	for (;;) {
		assert_int_equal(tb_fake_expect(p, TB_MSG_PONG, &m, WAIT_MS), 1);
		if (m.u.pong.nonce == 4242)
			return;
	}
}

static void send_checkpoint(struct tb_fake *p, const struct tb_keypair *kp, uint64_t size,
			    const uint8_t root[TB_HASHLEN], uint64_t ts)
{
	struct tb_checkpoint cp = {0};
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	memcpy(cp.log_id, kp->pk.b, TB_KEY_LEN);
	cp.size = size;
	memcpy(cp.root, root, TB_HASHLEN);
	cp.timestamp = ts;
	assert_int_equal(tb_checkpoint_seal(buf, sizeof buf, &len, &cp, kp), 0);
	struct tb_peer_msg m = {.type = TB_MSG_CHECKPOINT_MSG};
	m.u.checkpoint_msg.checkpoint = (struct tb_view){buf, len};
	assert_int_equal(tb_fake_send(p, &m), 0);
}

/* Reads p for ms: REFUSED messages counted (the last one's code and log
 * id kept), and whether a FORK of log_id came. */
struct seen {
	int refused, forks;
	int64_t code;
	uint8_t log_id[TB_KEY_LEN];
};

static void read_for(struct tb_fake *p, unsigned ms, const uint8_t *fork_log, struct seen *s)
{
	uint64_t until = tb_fed_now_ms() + ms;
	for (;;) {
		uint64_t now = tb_fed_now_ms();
		if (now >= until)
			return;
		struct tb_peer_msg m;
		int r = tb_fake_recv(p, &m, (int)(until - now));
		if (r == -1)
			return;
		assert_int_equal(r, 1);
		struct tb_entry e;
		if (m.type == TB_MSG_REFUSED) {
			s->refused++;
			s->code = m.u.refused.code;
			memcpy(s->log_id, m.u.refused.log_id, TB_KEY_LEN);
		} else if (m.type == TB_MSG_FORK && fork_log &&
			   !tb_entry_decode(&e, m.u.fork.b.p, m.u.fork.b.len) &&
			   !memcmp(e.log_id, fork_log, TB_KEY_LEN)) {
			s->forks++;
		}
	}
}

/* Finding 12: a contradicting checkpoint is a fork proof at A, and at B
 * through A's FORK (checked against B's own copy). */
static void test_contradicting_checkpoint(void **state)
{
	(void)state;
	static struct tb_fake p;
	open_synced(&p);
	uint8_t root[TB_HASHLEN];
	memset(root, 0x5a, sizeof root); /* the root of no history held */
	uint64_t t0 = tb_fed_now_ms();
	send_checkpoint(&p, &CpRogue.kp, 3 + NEX / 2, root, 1760000000);
	struct forked_ctx fc = {CpRogue.kp.pk.b};
	tb_fed_wait(F, WAIT_MS, both_forked, &fc,
		    "both nodes keep the contradicting checkpoint as a fork proof");
	uint64_t ms = tb_fed_now_ms() - t0;
	struct seen s = {0};
	read_for(&p, 2000, CpRogue.kp.pk.b, &s);
	if (s.forks != 1)
		fail_msg("the sender of the checkpoint was sent its fork proof %d times, not once",
			 s.forks);
	assert_int_equal(s.refused, 0);
	assert_true(tb_fed_log_has(F, A, "contradicts the entries held", "proof kept"));
	tb_fake_close(&p);
	print_message("a checkpoint contradicting a log both nodes hold: both hold the fork "
		      "proof after %llu ms\n",
		      (unsigned long long)ms);
	honest_crosses();
}

/* Whether both nodes hold a fork proof of two records (not a checkpoint
 * proof) of the log. */
static bool both_two_records(struct tb_fed *f, void *vctx, char *why, size_t cap, size_t *blame)
{
	struct forked_ctx *c = vctx;
	static uint8_t buf[2 * TB_ENTRY_MAX];
	for (size_t i = A; i <= B; i++) {
		char ledger[TB_FED_PATH + 32];
		snprintf(ledger, sizeof ledger, "%s/ledger", f->node[i].data);
		struct tb_store *st;
		struct tb_view a, b;
		assert_int_equal(tb_store_open(&st, ledger, TB_STORE_RDONLY), 0);
		int err = tb_store_fork_get(st, c->log_id, buf, sizeof buf, &a, &b);
		tb_store_free(st);
		if (err || !a.len || a.p[0] == 0x94) {
			snprintf(why, cap, "node %zu holds %s of the rogue log", i,
				 err ? "no fork proof" : "a checkpoint proof, not two records");
			*blame = i;
			return false;
		}
	}
	return true;
}

/* After the contradicting checkpoint: the forger's entry at the checkpoint's
 * size signed again (another valid record at a seq both hold) reaches A. The
 * two records replace A's checkpoint proof, and B's through A's FORK: only
 * two records travel in a succession, and the first proof used to be kept
 * for ever, so a node that first saw a checkpoint proof could never make
 * one (the forked community's own node then could not continue in a new
 * log). */
static void test_checkpoint_proof_replaced(void **state)
{
	(void)state;
	static struct tb_fake p;
	open_synced(&p);
	const uint64_t seq = 3 + NEX / 2;
	const struct tb_view *v = tb_test_recs_views(&CpRecs, 0);
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_rogue_resign(rec, v[seq - 1].p, v[seq - 1].len, &CpRogue.kp, 11);
	struct tb_view one = {rec, len};
	uint64_t t0 = tb_fed_now_ms();
	assert_int_equal(tb_fake_entries(&p, &one, 1), 0);
	struct forked_ctx fc = {CpRogue.kp.pk.b};
	tb_fed_wait(F, WAIT_MS, both_two_records, &fc,
		    "two records replace the checkpoint proof at both nodes");
	uint64_t ms = tb_fed_now_ms() - t0;
	tb_fed_wait_log_line(F, A, "replace its checkpoint proof", NULL, WAIT_MS);
	tb_fed_wait_log_line(F, B, "replaces the checkpoint proof", NULL, WAIT_MS);
	tb_fake_close(&p);
	print_message("two records of the forger at one seq: both nodes hold them as the fork "
		      "proof in place of the checkpoint's after %llu ms\n",
		      (unsigned long long)ms);
	honest_crosses();
}

/* Dropped checkpoints are told: why, of which log, and no more than
 * CP_TOLD + 1 REFUSED on one connection however many are dropped. */
static void test_checkpoint_refused(void **state)
{
	(void)state;
	static struct tb_fake p;
	open_synced(&p);
	uint8_t root[TB_HASHLEN] = {0};
	struct tb_keypair kp;
	struct seen s = {0};
	tb_test_keypair(&kp, STRANGER_KEY);
	send_checkpoint(&p, &kp, 1, root, 1760000001);
	read_for(&p, 1500, NULL, &s);
	assert_int_equal(s.refused, 1);
	assert_int_equal(s.code, TB_ENOTADMITTED);
	assert_memory_equal(s.log_id, Stranger, TB_KEY_LEN);
	tb_test_keypair(&kp, GHOST_KEY);
	memset(&s, 0, sizeof s);
	send_checkpoint(&p, &kp, 1, root, 1760000002);
	read_for(&p, 1500, NULL, &s);
	assert_int_equal(s.refused, 1);
	assert_int_equal(s.code, TB_ENOTFOUND);
	assert_memory_equal(s.log_id, Ghost, TB_KEY_LEN);
	/* A flood of checkpoints of logs not held: told CP_TOLD times in all,
	 * then once that more are not told. */
	memset(&s, 0, sizeof s);
	for (uint32_t i = 0; i < 200; i++) {
		tb_test_keypair(&kp, 70000 + i);
		send_checkpoint(&p, &kp, 1, root, 1760000003);
	}
	read_for(&p, 3000, NULL, &s);
	tb_keypair_wipe(&kp);
	assert_int_equal(s.refused, CP_TOLD + 1 - 2);
	assert_int_equal(s.code, TB_EFULL);
	static const uint8_t zero[TB_KEY_LEN];
	assert_memory_equal(s.log_id, zero, TB_KEY_LEN);
	tb_fake_close(&p);
	print_message("202 checkpoints A dropped on one connection: %d REFUSED in all\n",
		      2 + s.refused);
	honest_crosses();
}

/* Whatever the rogue did, verify and audit judge each node's export alike
 * (issue 12): the forks it told both commands of are the same. */
static void test_exports_agree(void **state)
{
	(void)state;
	for (size_t i = 0; i < F->n; i++)
		(void)tb_fed_agrees(F, i);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resigned_entry),
		cmocka_unit_test(test_contradicting_checkpoint),
		cmocka_unit_test(test_checkpoint_proof_replaced),
		cmocka_unit_test(test_checkpoint_refused),
		cmocka_unit_test(test_exports_agree),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
