/*
 * fork.c: fork proofs. Two validly signed, different records of one log at
 * one seq prove that the log's key signed two histories, also when only
 * their signatures differ: each record has its own hash, and the entries
 * after them chain to one or the other. The store keeps the pair as a
 * self-contained proof (anyone can check it with the log id alone), marks the
 * log forked so no further entry of it is accepted, and lists proofs for
 * peers and auditors. A signed checkpoint whose root differs from the root
 * of a history the key also signed proves the same: it is kept with the
 * record that ends that history, and checked by anyone who holds the log up
 * to it. It never accepts a "proof" whose signatures do not verify, so
 * nobody can get an honest log frozen.
 */
#include "store_int.h"

/* Checks that a and b prove a fork; fills log_id and seq. */
static int check_pair(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
		      uint8_t log_id[TB_KEY_LEN], uint64_t *seq)
{
	struct tb_entry ea, eb;
	int err = tb_entry_decode(&ea, a, alen);
	if (!err)
		err = tb_entry_decode(&eb, b, blen);
	if (err)
		return err;
	/* Two histories: the records differ. Two signatures over the same
	 * signed part are two records too: each has its own hash, so the
	 * entries after them chain to one or the other, never both. */
	if (memcmp(ea.log_id, eb.log_id, TB_KEY_LEN) || ea.seq != eb.seq ||
	    (alen == blen && !memcmp(a, b, alen)))
		return TB_EPROOF;
	struct tb_verify_job jobs[2];
	tb_entry_verify_job(&jobs[0], &ea);
	tb_entry_verify_job(&jobs[1], &eb);
	if (tb_verify_batch(jobs, 2, 1))
		return TB_EBADSIG;
	memcpy(log_id, ea.log_id, TB_KEY_LEN);
	*seq = ea.seq;
	return 0;
}

int tb_fork_proof_check(const uint8_t *p, size_t len, uint8_t log_id[TB_KEY_LEN], uint64_t *seq)
{
	struct tb_view a, b;
	if (tb_fork_item_split((struct tb_view){p, len}, &a, &b) || (a.len && a.p[0] == 0x94))
		return TB_EPROOF; /* truncated, or a checkpoint proof */
	if (a.len > TB_ENTRY_MAX || b.len > TB_ENTRY_MAX)
		return TB_ETOOBIG;
	return check_pair(a.p, a.len, b.p, b.len, log_id, seq);
}

/* A signed checkpoint starts with its array of 4, a record with its array
 * of 7: the first byte tells the two kinds of proof apart. */
static bool is_checkpoint(const uint8_t *a, size_t alen)
{
	return alen && a[0] == 0x94;
}

/* Whether a FORKS value holds a checkpoint proof. */
static bool held_checkpoint(struct tb_view v)
{
	struct tb_view a, b;
	return v.len >= 8 && !tb_fork_item_split((struct tb_view){v.p + 8, v.len - 8}, &a, &b) &&
	       is_checkpoint(a.p, a.len);
}

/* Keeps the first proof of a log, or a proof of two records in place of a
 * checkpoint proof (only two records travel in a succession), and freezes
 * the log: 1 if the proof is new or replaced one, 0 if one was held
 * already. */
static int keep(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_FORKS, log_id, TB_KEY_LEN, &v);
	if (err && err != TB_ENOTFOUND) {
		tb_txn_abort(&t);
		return err;
	}
	bool fresh = err == TB_ENOTFOUND || (!is_checkpoint(a, alen) && held_checkpoint(v));
	if (fresh) {
		/* FORKS: the seq, then the proof as a FORK item holds it. */
		uint8_t val[8 + 2 + 2 * TB_ENTRY_MAX];
		size_t ilen;
		tb_be64_put(val, seq);
		err = tb_fork_item_build(val + 8, sizeof val - 8, &ilen, (struct tb_view){a, alen},
					 (struct tb_view){b, blen});
		TB_ASSERT(!err); /* both were checked to fit */
		tb_txn_put(&t, TB_T_FORKS, log_id, TB_KEY_LEN, val, 8 + ilen);
	}
	/* Freeze the log, also one not held yet, so none of it is accepted. */
	struct tb_logstate l;
	err = tb_logstate_get(&t, log_id, &l);
	if (err == TB_ENOTFOUND) {
		err = tb_log_create(&t, log_id, &l);
		if (!err)
			l.flags = 0;
	}
	if (!err && !(l.flags & TB_LOG_FORKED)) {
		uint8_t ls[TB_LOGSTATE_LEN];
		l.flags |= TB_LOG_FORKED;
		tb_logstate_pack(ls, &l);
		tb_txn_put(&t, TB_T_LOGS, log_id, TB_KEY_LEN, ls, sizeof ls);
	}
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	err = tb_txn_commit(&t);
	return err ? err : fresh ? 1 : 0;
}

/*
 * A checkpoint proof: a, a signed checkpoint of size n; b, the log's record
 * at seq n of a history whose root at n differs from the one the key
 * signed. The history b ends is pinned by b (each prev commits to the entry
 * before), so it is checked against this store's copy: TB_ETRUNCATED if the
 * store does not hold seq n. If the record held at seq n is not b, the pair
 * (held, b) is a proof of two records, returned in held and *hlen.
 */
static int check_checkpoint(struct tb_store *s, const uint8_t *a, size_t alen, const uint8_t *b,
			    size_t blen, uint8_t log_id[TB_KEY_LEN], uint64_t *seq, uint8_t *held,
			    size_t *hlen)
{
	struct tb_checkpoint cp;
	struct tb_entry eb;
	int err = tb_checkpoint_open(&cp, a, alen);
	if (!err)
		err = tb_entry_decode(&eb, b, blen);
	if (err)
		return err;
	if (memcmp(cp.log_id, eb.log_id, TB_KEY_LEN) || eb.seq != cp.size)
		return TB_EPROOF;
	struct tb_verify_job job;
	tb_entry_verify_job(&job, &eb);
	if (tb_verify_batch(&job, 1, 1))
		return TB_EBADSIG;
	*hlen = 0;
	err = tb_store_get_entry(s, eb.log_id, eb.seq, held, TB_ENTRY_MAX, hlen);
	if (err == TB_ENOTFOUND)
		return TB_ETRUNCATED;
	if (err)
		return err;
	memcpy(log_id, eb.log_id, TB_KEY_LEN);
	*seq = eb.seq;
	if (*hlen != blen || memcmp(held, b, blen))
		return 0; /* the caller keeps (held, b) */
	*hlen = 0;
	uint8_t root[TB_HASHLEN];
	if ((err = tb_store_root(s, eb.log_id, cp.size, root)))
		return err;
	return memcmp(root, cp.root, TB_HASHLEN) ? 0 : TB_EPROOF;
}

int tb_store_fork_add(struct tb_store *s, const uint8_t *a, size_t alen, const uint8_t *b,
		      size_t blen)
{
	uint8_t log_id[TB_KEY_LEN];
	uint64_t seq;
	if (alen > TB_ENTRY_MAX || blen > TB_ENTRY_MAX)
		return TB_ETOOBIG;
	if (!is_checkpoint(a, alen)) {
		int err = check_pair(a, alen, b, blen, log_id, &seq);
		return err ? err : keep(s, log_id, seq, a, alen, b, blen);
	}
	uint8_t held[TB_ENTRY_MAX];
	size_t hlen;
	int err = check_checkpoint(s, a, alen, b, blen, log_id, &seq, held, &hlen);
	if (err)
		return err;
	if (hlen) /* another record held at that seq: a fork of two records */
		return tb_store_fork_add(s, held, hlen, b, blen);
	return keep(s, log_id, seq, a, alen, b, blen);
}

int tb_store_fork_check(struct tb_store *s, const uint8_t *rec, size_t len)
{
	struct tb_entry e;
	int err = tb_entry_decode(&e, rec, len);
	if (err)
		return err;
	uint8_t held[TB_ENTRY_MAX];
	size_t hlen;
	err = tb_store_get_entry(s, e.log_id, e.seq, held, sizeof held, &hlen);
	if (err)
		return err;
	if (hlen == len && !memcmp(held, rec, len))
		return TB_ENOTFOUND;
	err = tb_store_fork_add(s, held, hlen, rec, len);
	return err < 0 ? err : 0;
}

struct fork_iter {
	tb_fork_fn cb;
	void *ctx;
};

static int fork_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct fork_iter *it = vctx;
	struct tb_view a, b;
	if (k.len != TB_KEY_LEN || v.len < 8 ||
	    tb_fork_item_split((struct tb_view){v.p + 8, v.len - 8}, &a, &b))
		return TB_ECORRUPT;
	return it->cb(it->ctx, k.p, tb_be64_get(v.p), a, b);
}

int tb_store_foreach_fork(struct tb_store *s, tb_fork_fn cb, void *ctx)
{
	struct tb_txn t;
	struct fork_iter it = {cb, ctx};
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_FORKS, NULL, 0, NULL, 0, fork_iter_cb, &it);
	tb_txn_abort(&t);
	return err;
}

int tb_store_fork_by_checkpoint(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN])
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_FORKS, log_id, TB_KEY_LEN, &v);
	bool cp = !err && held_checkpoint(v);
	tb_txn_abort(&t);
	return err ? err : cp ? 1 : 0;
}

int tb_store_fork_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint8_t *buf,
		      size_t cap, struct tb_view *a, struct tb_view *b)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_FORKS, log_id, TB_KEY_LEN, &v);
	if (!err && (v.len < 10 || v.len - 10 > cap))
		err = TB_ECORRUPT;
	struct tb_view va, vb;
	if (!err && tb_fork_item_split((struct tb_view){v.p + 8, v.len - 8}, &va, &vb))
		err = TB_ECORRUPT;
	if (!err) {
		/* a and b are contiguous after the item's length prefix */
		memcpy(buf, va.p, va.len + vb.len);
		*a = (struct tb_view){buf, va.len};
		*b = (struct tb_view){buf + va.len, vb.len};
	}
	tb_txn_abort(&t);
	return err;
}
