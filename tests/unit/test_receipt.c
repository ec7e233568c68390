/*
 * test_receipt.c: signed checkpoints and receipts through the store's public
 * API, with real LMDB in a temp dir and real signatures. A community log
 * grows entry by entry to 40; at every size a checkpoint is made and a
 * receipt for every entry must verify offline (and the checkpoint's root must
 * equal the plain RFC 6962 recursion over the entries). Every single flipped
 * byte, every truncation of a receipt is refused; so are receipts checked
 * against another community, spliced with another log's checkpoint or with a
 * checkpoint of another size. tb_store_checkpoint_put keeps only newer
 * checkpoints, and one that disagrees with the entries held (which the same
 * key signed) as the log's fork proof, with the record at its size.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NMEM 3
#define LOGSIZE 40

struct fixture {
	char *dir;
	struct tb_store *s;
	struct tb_keypair node; /* the community's key: the own log */
	struct tb_keypair mk[NMEM + 1];
	uint8_t cp[LOGSIZE + 1][TB_CHECKPOINT_MAX]; /* checkpoint at each size */
	size_t cplen[LOGSIZE + 1];
};

static uint8_t g_rc[TB_RECEIPT_MAX], g_rc2[TB_RECEIPT_MAX];

static const uint8_t *node_id(const struct fixture *f)
{
	return f->node.pk.b;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	f->dir = tb_test_scratchdir("receipt");
	assert_int_equal(tb_store_open(&f->s, f->dir, 0), 0);
	tb_test_keypair(&f->node, 1);
	for (uint32_t m = 1; m <= NMEM; m++)
		tb_test_keypair(&f->mk[m], 100 + m);
	assert_int_equal(tb_store_set_self(f->s, f->node.pk.b), 0);
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

/* Appends entry number n (1-based) of the own log: genesis, members, then
 * attested exchanges going round the members. */
static void append_next(struct fixture *f, uint64_t n)
{
	static const char *const names[NMEM + 1] = {"", "alice", "bob", "carol"};
	struct tb_reject rej;
	uint64_t seq = 0;
	int err;
	if (n == 1) {
		struct tb_genesis g;
		tb_test_genesis(&g, "Riverside", -600, 0);
		err = tb_store_append_own(f->s, &f->node, TB_KIND_GENESIS, &g, &seq, &rej);
	} else if (n <= 1 + NMEM) {
		struct tb_member_join j;
		uint32_t m = (uint32_t)(n - 1);
		tb_test_join(&j, m, names[m], &f->mk[m], -600, 0);
		err = tb_store_append_own(f->s, &f->node, TB_KIND_MEMBER_JOIN, &j, &seq, &rej);
	} else {
		struct tb_test_exchange tx;
		uint32_t p = (uint32_t)(n % NMEM) + 1, r = (uint32_t)((n + 1) % NMEM) + 1;
		tb_test_exchange(&tx, node_id(f), n, p, r, 30, NULL, NULL);
		err = tb_store_append_own(f->s, &f->node, TB_KIND_EXCHANGE, &tx.x, &seq, &rej);
	}
	if (err)
		fail_msg("append of entry %llu refused: %s: %s", (unsigned long long)n,
			 tb_errname(err), rej.msg);
	assert_int_equal(seq, n);
}

/* Checks the checkpoint's root against the plain RFC 6962 recursion over the
 * hashes of the entries held. */
static void check_root(struct fixture *f, const uint8_t *cp, size_t cplen)
{
	struct tb_checkpoint c;
	assert_int_equal(tb_checkpoint_open(&c, cp, cplen), 0);
	assert_memory_equal(c.log_id, node_id(f), TB_KEY_LEN);
	uint8_t(*leaves)[TB_HASHLEN] = malloc(c.size * TB_HASHLEN);
	assert_non_null(leaves);
	for (uint64_t i = 0; i < c.size; i++) {
		uint8_t rec[TB_ENTRY_MAX];
		size_t len;
		assert_int_equal(tb_store_get_entry(f->s, node_id(f), i + 1, rec, sizeof rec, &len),
				 0);
		tb_entry_hash(leaves[i], rec, len);
	}
	uint8_t root[TB_HASHLEN];
	tb_test_mth(root, (const uint8_t(*)[TB_HASHLEN])leaves, c.size);
	free(leaves);
	assert_memory_equal(root, c.root, TB_HASHLEN);
}

/* Makes a receipt for seq against a checkpoint and checks it verifies and
 * shows that entry under that checkpoint. */
static size_t receipt_ok(struct fixture *f, uint64_t seq, const uint8_t *cp, size_t cplen,
			 uint8_t *out)
{
	size_t len = 0;
	int err = tb_receipt_make(f->s, node_id(f), seq, cp, cplen, out, TB_RECEIPT_MAX, &len);
	if (err)
		fail_msg("no receipt for %llu: %s", (unsigned long long)seq, tb_errname(err));
	assert_true(len > 0 && len <= TB_RECEIPT_MAX);
	struct tb_receipt_info info;
	struct tb_checkpoint c;
	assert_int_equal(tb_checkpoint_open(&c, cp, cplen), 0);
	err = tb_receipt_verify(out, len, node_id(f), &info);
	if (err)
		fail_msg("receipt for %llu in a tree of %llu refused: %s", (unsigned long long)seq,
			 (unsigned long long)c.size, tb_errname(err));
	assert_int_equal(tb_receipt_verify(out, len, NULL, &info), 0);
	assert_int_equal(info.entry.seq, seq);
	assert_memory_equal(info.entry.log_id, node_id(f), TB_KEY_LEN);
	assert_int_equal(info.checkpoint.size, c.size);
	assert_memory_equal(info.checkpoint.root, c.root, TB_HASHLEN);
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen;
	assert_int_equal(tb_store_get_entry(f->s, node_id(f), seq, rec, sizeof rec, &rlen), 0);
	assert_int_equal(info.entry.signed_part.len, rlen - TB_SIGLEN);
	assert_memory_equal(info.entry.signed_part.p, rec, rlen - TB_SIGLEN);
	return len;
}

/* Grows the own log to LOGSIZE entries, keeping a checkpoint of every size. */
static void grow(struct fixture *f)
{
	for (uint64_t n = 1; n <= LOGSIZE; n++) {
		append_next(f, n);
		assert_int_equal(tb_store_checkpoint_make(f->s, &f->node, f->cp[n],
							  TB_CHECKPOINT_MAX, &f->cplen[n]),
				 0);
	}
}

/* A receipt encoded by hand from its parts. */
static size_t receipt_encode(uint8_t *out, struct tb_view entry, struct tb_view cp,
			     struct tb_view proof)
{
	struct tb_receipt r;
	memset(&r, 0, sizeof r);
	r.version = 1;
	r.entry = entry;
	r.checkpoint = cp;
	r.proof = proof;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, TB_RECEIPT_MAX);
	assert_int_equal(tb_msg_encode(&w, &tb_def_receipt, &r), 0);
	return w.len;
}

/* A checkpoint of the own log signed with the right key, any fields. */
static size_t seal_cp(const struct fixture *f, uint8_t *out, uint64_t size,
		      const uint8_t root[TB_HASHLEN], uint64_t timestamp)
{
	struct tb_checkpoint c;
	memset(&c, 0, sizeof c);
	memcpy(c.log_id, node_id(f), TB_KEY_LEN);
	c.size = size;
	memcpy(c.root, root, TB_HASHLEN);
	c.timestamp = timestamp;
	size_t len = 0;
	assert_int_equal(tb_checkpoint_seal(out, TB_CHECKPOINT_MAX, &len, &c, &f->node), 0);
	return len;
}

/* ---- tests ---- */

static void test_every_size(void **state)
{
	struct fixture *f = *state;
	for (uint64_t n = 1; n <= LOGSIZE; n++) {
		append_next(f, n);
		assert_int_equal(tb_store_checkpoint_make(f->s, &f->node, f->cp[n],
							  TB_CHECKPOINT_MAX, &f->cplen[n]),
				 0);
		struct tb_checkpoint c;
		assert_int_equal(tb_checkpoint_open(&c, f->cp[n], f->cplen[n]), 0);
		assert_int_equal(c.size, n);
		check_root(f, f->cp[n], f->cplen[n]);
		/* The store keeps the newest one. */
		uint8_t held[TB_CHECKPOINT_MAX];
		size_t hlen;
		assert_int_equal(
			tb_store_checkpoint_get(f->s, node_id(f), held, sizeof held, &hlen), 0);
		assert_int_equal(hlen, f->cplen[n]);
		assert_memory_equal(held, f->cp[n], hlen);
		for (uint64_t seq = 1; seq <= n; seq++)
			receipt_ok(f, seq, f->cp[n], f->cplen[n], g_rc);
		/* Nothing outside the checkpoint's tree. */
		size_t len;
		assert_int_equal(tb_receipt_make(f->s, node_id(f), 0, f->cp[n], f->cplen[n], g_rc,
						 sizeof g_rc, &len),
				 TB_ERANGE);
		assert_int_equal(tb_receipt_make(f->s, node_id(f), n + 1, f->cp[n], f->cplen[n],
						 g_rc, sizeof g_rc, &len),
				 TB_ERANGE);
	}
	/* Receipts against older checkpoints stay valid as the log grows. */
	receipt_ok(f, 1, f->cp[1], f->cplen[1], g_rc);
	receipt_ok(f, 5, f->cp[7], f->cplen[7], g_rc);
	receipt_ok(f, 32, f->cp[33], f->cplen[33], g_rc);
}

static void test_first_middle_last(void **state)
{
	struct fixture *f = *state;
	grow(f);
	const uint64_t seqs[] = {1, 2, LOGSIZE / 2, LOGSIZE - 1, LOGSIZE};
	for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
		size_t len = receipt_ok(f, seqs[i], f->cp[LOGSIZE], f->cplen[LOGSIZE], g_rc);
		/* Pinned to another community: refused. */
		struct tb_keypair other;
		tb_test_keypair(&other, 2);
		struct tb_receipt_info info;
		assert_int_equal(tb_receipt_verify(g_rc, len, other.pk.b, &info), TB_ELOGID);
	}
}

static void test_flipped_bytes(void **state)
{
	struct fixture *f = *state;
	grow(f);
	size_t len = receipt_ok(f, LOGSIZE / 2, f->cp[LOGSIZE], f->cplen[LOGSIZE], g_rc);
	struct tb_receipt_info info;
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof masks; m++) {
			memcpy(g_rc2, g_rc, len);
			g_rc2[i] ^= masks[m];
			int err = tb_receipt_verify(g_rc2, len, node_id(f), &info);
			if (err >= 0)
				fail_msg("receipt with byte %zu of %zu ^ 0x%02x verifies", i, len,
					 masks[m]);
			assert_true(tb_receipt_verify(g_rc2, len, NULL, &info) < 0);
		}
	}
	/* Every truncation, and a byte more. */
	for (size_t l = 0; l < len; l++)
		assert_true(tb_receipt_verify(g_rc, l, node_id(f), &info) < 0);
	memcpy(g_rc2, g_rc, len);
	g_rc2[len] = 0;
	assert_true(tb_receipt_verify(g_rc2, len + 1, node_id(f), &info) < 0);
	/* The untouched receipt still verifies. */
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), 0);
}

static void test_spliced(void **state)
{
	struct fixture *f = *state;
	grow(f);
	/* A second log in the same store (a peer's), with its own checkpoint. */
	struct tb_test_log peer;
	struct tb_test_recs recs = {0};
	tb_test_log_init(&peer, 2);
	struct tb_genesis g;
	tb_test_genesis(&g, "Hillside", -600, 0);
	tb_test_log_add(&peer, &recs, TB_KIND_GENESIS, &g);
	struct tb_keypair pm[3];
	for (uint32_t m = 1; m <= 2; m++) {
		struct tb_member_join j;
		tb_test_keypair(&pm[m], 200 + m);
		tb_test_join(&j, m, m == 1 ? "zoe" : "yan", &pm[m], -600, 0);
		tb_test_log_add(&peer, &recs, TB_KIND_MEMBER_JOIN, &j);
	}
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(f->s, tb_test_recs_views(&recs, 0), recs.n, &acc, &rej),
			 0);
	uint8_t pcp[TB_CHECKPOINT_MAX];
	size_t pcplen;
	assert_int_equal(tb_store_checkpoint_make(f->s, &peer.kp, pcp, sizeof pcp, &pcplen), 0);

	/* The store makes no receipt for our entry under the peer's checkpoint. */
	size_t len;
	assert_int_equal(tb_receipt_make(f->s, node_id(f), 2, pcp, pcplen, g_rc, sizeof g_rc, &len),
			 TB_ERANGE);

	/* By hand: our entry 2, the peer's checkpoint (of 3 entries) and the
	 * inclusion proof of our entry 2 in our tree of 3. */
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen, n;
	uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASHLEN];
	assert_int_equal(tb_store_get_entry(f->s, node_id(f), 2, rec, sizeof rec, &rlen), 0);
	assert_int_equal(
		tb_store_inclusion_proof(f->s, node_id(f), 1, 3, proof, TB_MERKLE_MAX_PROOF, &n),
		0);
	struct tb_view ev = {rec, rlen}, pv = {&proof[0][0], n * TB_HASHLEN};
	struct tb_receipt_info info;
	len = receipt_encode(g_rc, ev, (struct tb_view){pcp, pcplen}, pv);
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), TB_ELOGID);
	assert_int_equal(tb_receipt_verify(g_rc, len, NULL, &info), TB_ELOGID);
	assert_int_equal(tb_receipt_verify(g_rc, len, peer.kp.pk.b, &info), TB_ELOGID);
	/* With our own checkpoint of 3 the same parts verify. */
	len = receipt_encode(g_rc, ev, (struct tb_view){f->cp[3], f->cplen[3]}, pv);
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), 0);

	/* Our checkpoint of another size than the proof's tree. */
	len = receipt_encode(g_rc, ev, (struct tb_view){f->cp[4], f->cplen[4]}, pv);
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), TB_EPROOF);
	/* The proof of another entry. */
	assert_int_equal(
		tb_store_inclusion_proof(f->s, node_id(f), 0, 3, proof, TB_MERKLE_MAX_PROOF, &n),
		0);
	len = receipt_encode(g_rc, ev, (struct tb_view){f->cp[3], f->cplen[3]}, pv);
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), TB_EPROOF);
	/* No proof at all. */
	len = receipt_encode(g_rc, ev, (struct tb_view){f->cp[3], f->cplen[3]},
			     (struct tb_view){rec, 0});
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), TB_EPROOF);
	/* An entry not covered by the checkpoint. */
	assert_int_equal(tb_store_get_entry(f->s, node_id(f), 5, rec, sizeof rec, &rlen), 0);
	assert_int_equal(
		tb_store_inclusion_proof(f->s, node_id(f), 1, 3, proof, TB_MERKLE_MAX_PROOF, &n),
		0);
	ev.len = rlen;
	len = receipt_encode(g_rc, ev, (struct tb_view){f->cp[3], f->cplen[3]}, pv);
	assert_int_equal(tb_receipt_verify(g_rc, len, node_id(f), &info), TB_EPROOF);
	/* The peer's entry with our checkpoint. */
	struct tb_view p2 = tb_test_recs_views(&recs, 0)[1];
	len = receipt_encode(g_rc, p2, (struct tb_view){f->cp[3], f->cplen[3]}, pv);
	assert_int_equal(tb_receipt_verify(g_rc, len, NULL, &info), TB_ELOGID);
	tb_test_recs_free(&recs);
}

static void test_checkpoint_put(void **state)
{
	struct fixture *f = *state;
	grow(f);
	uint8_t held[TB_CHECKPOINT_MAX], cp[TB_CHECKPOINT_MAX], root[TB_HASHLEN];
	size_t hlen, len;
	struct tb_checkpoint newest;
	assert_int_equal(tb_checkpoint_open(&newest, f->cp[LOGSIZE], f->cplen[LOGSIZE]), 0);

	/* Not signed by the log's key. */
	memcpy(cp, f->cp[LOGSIZE], f->cplen[LOGSIZE]);
	cp[f->cplen[LOGSIZE] - 20] ^= 4;
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, f->cplen[LOGSIZE]), TB_EBADSIG);
	assert_int_equal(tb_store_checkpoint_get(f->s, node_id(f), held, sizeof held, &hlen), 0);
	assert_int_equal(hlen, f->cplen[LOGSIZE]);
	assert_memory_equal(held, f->cp[LOGSIZE], hlen);

	/* Older ones (smaller, or as large and not later) are not kept. */
	assert_int_equal(tb_store_checkpoint_put(f->s, f->cp[30], f->cplen[30]), 0);
	assert_int_equal(tb_store_checkpoint_put(f->s, f->cp[1], f->cplen[1]), 0);
	assert_int_equal(tb_store_checkpoint_put(f->s, f->cp[LOGSIZE], f->cplen[LOGSIZE]), 0);
	assert_int_equal(tb_store_root(f->s, node_id(f), LOGSIZE, root), 0);
	len = seal_cp(f, cp, LOGSIZE, root, newest.timestamp - 1);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), 0);
	assert_int_equal(tb_store_checkpoint_get(f->s, node_id(f), held, sizeof held, &hlen), 0);
	assert_int_equal(hlen, f->cplen[LOGSIZE]);
	assert_memory_equal(held, f->cp[LOGSIZE], hlen);

	/* As large and later: kept. */
	len = seal_cp(f, cp, LOGSIZE, root, newest.timestamp + 1);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), 1);
	assert_int_equal(tb_store_checkpoint_get(f->s, node_id(f), held, sizeof held, &hlen), 0);
	assert_int_equal(hlen, len);
	assert_memory_equal(held, cp, hlen);

	/* Larger: kept. */
	append_next(f, LOGSIZE + 1);
	assert_int_equal(tb_store_root(f->s, node_id(f), LOGSIZE + 1, root), 0);
	len = seal_cp(f, cp, LOGSIZE + 1, root, newest.timestamp);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), 1);
	assert_int_equal(tb_store_checkpoint_get(f->s, node_id(f), held, sizeof held, &hlen), 0);
	assert_memory_equal(held, cp, len);
	receipt_ok(f, LOGSIZE + 1, cp, len, g_rc);

	/* A peer's log: the same rules. */
	struct tb_test_log peer;
	struct tb_test_recs recs = {0};
	tb_test_log_init(&peer, 3);
	struct tb_genesis g;
	tb_test_genesis(&g, "Hillside", -600, 0);
	tb_test_log_add(&peer, &recs, TB_KIND_GENESIS, &g);
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(f->s, tb_test_recs_views(&recs, 0), recs.n, &acc, &rej),
			 0);
	struct tb_checkpoint pc;
	memset(&pc, 0, sizeof pc);
	memcpy(pc.log_id, peer.kp.pk.b, TB_KEY_LEN);
	pc.size = 1;
	tb_entry_hash(pc.root, recs.buf, recs.rlen[0]);
	pc.timestamp = 1740000000;
	assert_int_equal(tb_checkpoint_seal(cp, sizeof cp, &len, &pc, &peer.kp), 0);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), 1);
	pc.root[3] ^= 1;
	pc.timestamp++;
	assert_int_equal(tb_checkpoint_seal(cp, sizeof cp, &len, &pc, &peer.kp), 0);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), TB_EFORKED);
	/* Our key cannot sign the peer's checkpoints. */
	assert_int_equal(tb_checkpoint_seal(cp, sizeof cp, &len, &pc, &f->node), TB_EINVAL);
	tb_test_recs_free(&recs);
}

/* A validly signed checkpoint whose root contradicts the entries held (which
 * the same key signed): not kept as a checkpoint but as the log's fork proof,
 * with our record at that size; the log is frozen. The proof is checked
 * against a copy of the log like any FORK; a store that does not hold the
 * log cannot check it. */
static void test_checkpoint_contradicts(void **state)
{
	struct fixture *f = *state;
	grow(f);
	uint8_t cp[TB_CHECKPOINT_MAX], root[TB_HASHLEN], held[TB_CHECKPOINT_MAX];
	size_t len, hlen;
	struct tb_checkpoint newest;
	assert_int_equal(tb_checkpoint_open(&newest, f->cp[LOGSIZE], f->cplen[LOGSIZE]), 0);
	assert_int_equal(tb_store_root(f->s, node_id(f), 10, root), 0);
	root[31] ^= 0x80;
	len = seal_cp(f, cp, 10, root, newest.timestamp + 10);
	/* Through the batch path the daemon uses, with an honest one beside. */
	struct tb_view two[2] = {{f->cp[5], f->cplen[5]}, {cp, len}};
	int res[2];
	assert_int_equal(tb_store_checkpoint_put_many(f->s, two, 2, res), 0);
	assert_int_equal(res[0], 0);
	assert_int_equal(res[1], TB_EFORKED);
	struct tb_test_forks *fs = tb_test_forks_read(f->s);
	assert_int_equal(fs->n, 1);
	assert_int_equal(fs->seq, 10);
	assert_int_equal(fs->alen, len);
	assert_memory_equal(fs->a, cp, len);
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen;
	assert_int_equal(tb_store_get_entry(f->s, node_id(f), 10, rec, sizeof rec, &rlen), 0);
	assert_int_equal(fs->blen, rlen);
	assert_memory_equal(fs->b, rec, rlen);
	struct tb_head h;
	assert_int_equal(tb_store_head(f->s, node_id(f), &h), 0);
	assert_true(h.flags & TB_LOG_FORKED);
	/* The same proof is accepted as a FORK (held already); with our own
	 * root it proves nothing; with a record that is not ours at that seq
	 * or not of that seq, nothing either. */
	assert_int_equal(tb_store_fork_add(f->s, cp, len, rec, rlen), 0);
	assert_int_equal(tb_store_root(f->s, node_id(f), 10, root), 0);
	uint8_t good[TB_CHECKPOINT_MAX];
	size_t glen = seal_cp(f, good, 10, root, newest.timestamp + 10);
	assert_int_equal(tb_store_fork_add(f->s, good, glen, rec, rlen), TB_EPROOF);
	uint8_t rec9[TB_ENTRY_MAX];
	size_t r9len;
	assert_int_equal(tb_store_get_entry(f->s, node_id(f), 9, rec9, sizeof rec9, &r9len), 0);
	assert_int_equal(tb_store_fork_add(f->s, cp, len, rec9, r9len), TB_EPROOF);
	rec[rlen - 1] ^= 1;
	assert_int_equal(tb_store_fork_add(f->s, cp, len, rec, rlen), TB_EBADSIG);
	rec[rlen - 1] ^= 1;
	/* Other contradicting ones are forks too (the first proof stays). */
	assert_int_equal(tb_store_root(f->s, node_id(f), LOGSIZE, root), 0);
	root[0] ^= 1;
	len = seal_cp(f, cp, LOGSIZE, root, newest.timestamp + 10);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), TB_EFORKED);
	/* The root of another size. */
	assert_int_equal(tb_store_root(f->s, node_id(f), 39, root), 0);
	len = seal_cp(f, cp, LOGSIZE, root, newest.timestamp + 10);
	assert_int_equal(tb_store_checkpoint_put(f->s, cp, len), TB_EFORKED);
	free(fs);
	fs = tb_test_forks_read(f->s);
	assert_int_equal(fs->n, 1);
	assert_int_equal(fs->seq, 10);
	/* The checkpoint held is still the honest one. */
	assert_int_equal(tb_store_checkpoint_get(f->s, node_id(f), held, sizeof held, &hlen), 0);
	assert_memory_equal(held, f->cp[LOGSIZE], hlen);

	/* Another store holding the same log up to 10 keeps the proof; one
	 * holding fewer entries, or none, cannot check it. */
	char *dir = tb_test_scratchdir("cpfork");
	struct tb_store *o = NULL;
	assert_int_equal(tb_store_open(&o, dir, 0), 0);
	assert_int_equal(tb_store_fork_add(o, fs->a, fs->alen, fs->b, fs->blen), TB_ETRUNCATED);
	uint8_t r[TB_ENTRY_MAX];
	size_t n, acc;
	struct tb_reject rej;
	for (uint64_t seq = 1; seq <= 10; seq++) {
		if (seq == 10)
			assert_int_equal(tb_store_fork_add(o, fs->a, fs->alen, fs->b, fs->blen),
					 TB_ETRUNCATED);
		assert_int_equal(tb_store_get_entry(f->s, node_id(f), seq, r, sizeof r, &n), 0);
		struct tb_view v = {r, n};
		assert_int_equal(tb_store_append(o, &v, 1, &acc, &rej), 0);
	}
	assert_int_equal(tb_store_fork_add(o, fs->a, fs->alen, fs->b, fs->blen), 1);
	assert_int_equal(tb_store_head(o, node_id(f), &h), 0);
	assert_true(h.flags & TB_LOG_FORKED);
	tb_store_free(o);
	tb_test_rmrf(dir);
	free(fs);
}

static int group_setup(void **state)
{
	(void)state;
	return tb_crypto_init() == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_middle_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flipped_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spliced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_put, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checkpoint_contradicts, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
