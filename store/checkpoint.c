/*
 * checkpoint.c: the newest signed checkpoint of every log held. The own
 * log's are made here (tallyd signs one at a fixed interval, `tally
 * checkpoint` on request); peers' arrive by gossip and are kept only if they
 * verify, agree with the entries we hold, and are newer. A checkpoint that
 * disagrees with our copy of a log is refused, never stored.
 */
#include <time.h>

#include "store_int.h"

int tb_store_checkpoint_put(struct tb_store *s, const uint8_t *p, size_t len)
{
	struct tb_checkpoint cp;
	int err = tb_checkpoint_open(&cp, p, len);
	if (err)
		return err;
	uint8_t root[TB_HASHLEN];
	err = tb_store_root(s, cp.log_id, cp.size, root); /* ERANGE: we hold fewer */
	if (!err && memcmp(root, cp.root, TB_HASHLEN))
		return TB_EPROOF;
	if (err && err != TB_ERANGE && err != TB_ENOTFOUND)
		return err;
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	err = tb_txn_get(&t, TB_T_CHECKPOINTS, cp.log_id, TB_KEY_LEN, &v);
	if (!err) {
		struct tb_checkpoint old;
		if (!tb_checkpoint_open(&old, v.p, v.len) &&
		    (old.size > cp.size ||
		     (old.size == cp.size && old.timestamp >= cp.timestamp))) {
			tb_txn_abort(&t);
			return 0;
		}
	} else if (err != TB_ENOTFOUND) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_put(&t, TB_T_CHECKPOINTS, cp.log_id, TB_KEY_LEN, p, len);
	err = tb_txn_commit(&t);
	return err ? err : 1;
}

int tb_store_checkpoint_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
			    uint8_t *out, size_t cap, size_t *len)
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

int tb_store_checkpoint_make(struct tb_store *s, const struct tb_keypair *kp,
			     uint8_t *out, size_t cap, size_t *len)
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
