/*
 * checkpoint.c: the newest signed checkpoint of every log held. The own
 * log's are made here (tallyd signs one at a fixed interval, `tally
 * checkpoint` on request); peers' arrive by gossip and are kept only if they
 * verify, are of a log we hold, agree with the entries we hold, and are
 * newer, one per log. A validly signed checkpoint that disagrees with our
 * copy of a log is not kept as a checkpoint: the key signed its root and
 * every entry of our copy, so it proves a fork, and it is kept as the log's
 * fork proof with our record at its size (fork.c), freezing the log.
 * Received ones are kept in batches: one transaction and one sync for many.
 */
#include <stdlib.h>
#include <time.h>

#include "store_int.h"

/* Checks a signed checkpoint against the store: its signature, a log held
 * (at least its first entry), and the root of our copy at its size when we
 * hold that many entries (one ahead of them is taken unchecked). */
static int cp_check(struct tb_store *s, const uint8_t *p, size_t len, struct tb_checkpoint *cp)
{
	int err = tb_checkpoint_open(cp, p, len);
	if (err)
		return err;
	struct tb_head h;
	err = tb_store_head(s, cp->log_id, &h);
	if (err == TB_ENOTFOUND || (!err && h.seq == 0))
		return TB_ENOTFOUND;
	if (err)
		return err;
	if (cp->size > h.seq)
		return 0;
	uint8_t root[TB_HASHLEN];
	err = tb_store_root(s, cp->log_id, cp->size, root);
	if (err)
		return err;
	return memcmp(root, cp->root, TB_HASHLEN) ? TB_EPROOF : 0;
}

/* Keeps a checked checkpoint in t if it is newer than the one held: 1 if
 * kept, 0 if not, or an error. */
static int cp_keep(struct tb_txn *t, const uint8_t *p, size_t len, const struct tb_checkpoint *cp)
{
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_CHECKPOINTS, cp->log_id, TB_KEY_LEN, &v);
	if (!err) {
		struct tb_checkpoint old;
		if (!tb_checkpoint_open(&old, v.p, v.len) &&
		    (old.size > cp->size ||
		     (old.size == cp->size && old.timestamp >= cp->timestamp)))
			return 0;
	} else if (err != TB_ENOTFOUND) {
		return err;
	}
	tb_txn_put(t, TB_T_CHECKPOINTS, cp->log_id, TB_KEY_LEN, p, len);
	return t->ret ? t->ret : 1;
}

/* A checked checkpoint that contradicts our copy: kept as the log's fork
 * proof with the record at its size. TB_EFORKED, or the error that kept it
 * from being kept. */
static int contradicts(struct tb_store *s, const uint8_t *p, size_t len)
{
	struct tb_checkpoint cp;
	uint8_t rec[TB_ENTRY_MAX];
	size_t rlen;
	int e = tb_checkpoint_open(&cp, p, len);
	if (!e)
		e = tb_store_get_entry(s, cp.log_id, cp.size, rec, sizeof rec, &rlen);
	if (!e)
		e = tb_store_fork_add(s, p, len, rec, rlen);
	return e >= 0 ? TB_EFORKED : e;
}

int tb_store_checkpoint_put(struct tb_store *s, const uint8_t *p, size_t len)
{
	int kept;
	int err = tb_store_checkpoint_put_many(s, &(struct tb_view){p, len}, 1, &kept);
	return err ? err : kept;
}

int tb_store_checkpoint_put_many(struct tb_store *s, const struct tb_view *cps, size_t n,
				 int *results)
{
	struct tb_checkpoint *cp = calloc(n ? n : 1, sizeof *cp);
	if (!cp)
		return TB_ENOMEM;
	/* Reads first (signatures, heads, roots), then one write transaction
	 * and one sync for all that are kept. */
	size_t ok = 0;
	for (size_t i = 0; i < n; i++) {
		results[i] = cp_check(s, cps[i].p, cps[i].len, &cp[i]);
		ok += results[i] == 0;
	}
	int err = 0;
	if (ok) {
		struct tb_txn t;
		size_t kept = 0;
		tb_txn_begin(&t, s->db, true);
		for (size_t i = 0; i < n && !t.ret; i++) {
			if (results[i] == 0) {
				results[i] = cp_keep(&t, cps[i].p, cps[i].len, &cp[i]);
				kept += results[i] == 1;
			}
		}
		if (kept) {
			err = tb_txn_commit(&t);
		} else {
			err = t.ret;
			tb_txn_abort(&t);
		}
	}
	free(cp);
	for (size_t i = 0; i < n && !err; i++)
		if (results[i] == TB_EPROOF)
			results[i] = contradicts(s, cps[i].p, cps[i].len);
	return err;
}

int tb_store_checkpoint_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint8_t *out,
			    size_t cap, size_t *len)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_CHECKPOINTS, log_id, TB_KEY_LEN, &v);
	if (!err && v.len > cap)
		err = TB_ECORRUPT;
	if (!err) {
		memcpy(out, v.p, v.len);
		*len = v.len;
	}
	tb_txn_abort(&t);
	return err;
}

int tb_store_checkpoint_make(struct tb_store *s, const struct tb_keypair *kp, uint8_t *out,
			     size_t cap, size_t *len)
{
	struct tb_head h;
	struct tb_checkpoint cp = {0};
	int err = tb_store_restored(s, NULL);
	if (err != TB_ENOTFOUND)
		return err ? err : TB_ERESTORED;
	err = tb_store_head(s, kp->pk.b, &h);
	if (err)
		return err;
	if (h.seq == 0)
		return TB_ENOTFOUND;
	memcpy(cp.log_id, kp->pk.b, TB_KEY_LEN);
	cp.size = h.seq;
	cp.timestamp = (uint64_t)time(NULL);
	if ((err = tb_store_root(s, cp.log_id, cp.size, cp.root)) ||
	    (err = tb_checkpoint_seal(out, cap, len, &cp, kp)))
		return err;
	err = tb_store_checkpoint_put(s, out, *len);
	return err < 0 ? err : 0;
}
