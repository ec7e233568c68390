/*
 * restored.c: the mark of a store restored from a backup, and the store's
 * side of a backup (a compacted, consistent copy of the LMDB file).
 *
 * A restored node may lack entries of its own log that it signed after the
 * backup and that its peers hold: signing anything new at those seqs would
 * fork the community for good. So a restored store carries a META mark, and
 * while it is set nothing is signed with the own key: tb_own_append_txn (every
 * own entry: the command line's and tallyd's clearing legs) refuses with
 * TB_ERESTORED, and so does tb_store_checkpoint_make. Entries of the own log
 * received from peers are still appended (that is how it catches up). The
 * mark is lifted by tallyd once its peers have given back what they hold, or
 * by the operator (tally restore --no-peers). The mark is local: never in a
 * log, never in an export.
 */
#include "store_int.h"

#define MARK "restored"
#define MARK_LEN 8

int tb_restored_check(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], struct tb_reject *rej)
{
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_META, MARK, MARK_LEN, &v);
	if (err == TB_ENOTFOUND)
		return 0;
	if (err)
		return err;
	tb_reject_set(rej, TB_ERESTORED, log_id, 0,
		      "this node was restored from a backup and signs nothing until tallyd has "
		      "taken back from its peers the entries of its own log they hold (start "
		      "tallyd with its peers; or, if no other node holds this community's log, "
		      "'tally restore --no-peers')");
	return TB_ERESTORED;
}

int tb_store_restored(struct tb_store *s, uint64_t *seq)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_META, MARK, MARK_LEN, &v);
	if (!err && v.len != 8)
		err = TB_ECORRUPT;
	if (!err && seq)
		*seq = tb_be64_get(v.p);
	tb_txn_abort(&t);
	return err;
}

int tb_store_set_restored(struct tb_store *s, bool on)
{
	uint8_t self[TB_KEY_LEN];
	struct tb_head h = {0};
	int err = tb_store_self(s, self);
	if (!err)
		err = tb_store_head(s, self, &h);
	if (err)
		return err;
	uint8_t v[8];
	tb_be64_put(v, h.seq);
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	if (on)
		tb_txn_put(&t, TB_T_META, MARK, MARK_LEN, v, sizeof v);
	else
		tb_txn_del(&t, TB_T_META, MARK, MARK_LEN);
	return tb_txn_commit(&t);
}

int tb_store_copy(struct tb_store *s, int fd)
{
	return tb_db_copy(s->db, fd);
}
