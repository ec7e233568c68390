/*
 * entry_check.c: the checks and writes of one decoded entry in a write
 * transaction, which the append path (append.c) and its audit mode
 * (append_audit.c) share: its place in its log (FORMAT.md 7.2), the ledger
 * rules, its Merkle leaf and the log's head. The signatures it queues are
 * verified by the caller before it commits; it must never commit itself.
 */
#include "append_int.h"

/* A check that fails: refused, or in an audit reported (then goes on). */
static int broken(struct tb_sigjobs *jobs, struct tb_reject *rej, int err)
{
	if (!jobs->audit || !rej)
		return err;
	tb_audit_report(jobs->audit, rej);
	return 0;
}

/* Finds or creates the state of e's log. */
static int log_for(struct tb_txn *t, const struct tb_entry *e, struct tb_logstate *l,
		   struct tb_sigjobs *jobs, struct tb_reject *rej)
{
	int err = tb_logstate_get(t, e->log_id, l);
	if (err == TB_ENOTFOUND) {
		if (e->seq != 1) {
			err = tb_reject_set(
				rej, TB_ESEQ, e->log_id, e->seq,
				"entry %llu of a log this store does not hold yet (expected entry 1)",
				(unsigned long long)e->seq);
			if ((err = broken(jobs, rej, err)))
				return err;
		}
		err = tb_log_create(t, e->log_id, l);
		if (!err && e->seq != 1) {
			/* Audits: go on from this entry; no tree without its start. */
			l->seq = e->seq - 1;
			memcpy(l->hash, e->prev, TB_HASHLEN);
			l->flags |= TB_LOG_BROKEN;
		}
		return err;
	}
	return err;
}

/* A record at a seq the log already holds (7.2 step 4): 1 if it is the
 * same entry, or skipped after an audit reported it; else a refusal. */
static int held_seq(struct tb_txn *t, const struct tb_logstate *l, const struct tb_entry *e,
		    const uint8_t *rec, size_t len, struct tb_sigjobs *jobs, struct tb_reject *rej)
{
	uint8_t k[TB_ENTRY_KEY_LEN];
	struct tb_view held;
	tb_entry_key(k, l->lognum, e->seq);
	int err = tb_txn_get(t, TB_T_ENTRIES, k, sizeof k, &held);
	if (err == TB_ENOTFOUND && jobs->audit) {
		err = tb_reject_set(rej, TB_ESEQ, e->log_id, e->seq,
				    "entry %llu comes after entry %llu: out of order",
				    (unsigned long long)e->seq, (unsigned long long)l->seq);
		return broken(jobs, rej, err) ? err : 1;
	}
	if (err)
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (held.len == len && !memcmp(held.p, rec, len))
		return 1; /* the same record */
	/* Any other record at a held seq is a second history, also one that
	 * only signs the same signed part again: its hash, and so every later
	 * entry's prev, differs (FORMAT.md 7.2). */
	if (jobs->audit) {
		/* Only a validly signed second entry proves a fork. */
		struct tb_verify_job j;
		tb_entry_verify_job(&j, e);
		bool ok = tb_verify(j.sig, j.pk, j.ctx, j.msg, j.len) == 0;
		tb_reject_set(rej, ok ? TB_EFORKED : TB_EBADSIG, e->log_id, e->seq,
			      ok ? "a second, different, validly signed entry %llu: a fork"
				 : "a second entry %llu whose signature does not verify",
			      (unsigned long long)e->seq);
		tb_audit_report(jobs->audit, rej);
		return 1;
	}
	/* Not EFORKED: that is a frozen log's; a node tells the two apart by
	 * the code (a conflict may prove a fork, a frozen log's entry never). */
	return tb_reject_set(
		rej, TB_ECONFLICT, e->log_id, e->seq,
		"conflicts with the held entry %llu of this log (a fork, if validly signed)",
		(unsigned long long)e->seq);
}

/* Checks and writes one decoded entry (append_int.h). */
int tb_ingest_one(struct tb_txn *t, struct tb_entry *e, const uint8_t *rec, size_t len,
		  struct tb_sigjobs *jobs, size_t owner, bool effects, struct tb_reject *rej)
{
	struct tb_logstate l;
	int err = log_for(t, e, &l, jobs, rej);
	if (err)
		return err;
	if (l.flags & TB_LOG_FORKED)
		return tb_reject_set(rej, TB_EFORKED, e->log_id, e->seq,
				     "log is forked; no entry is accepted");
	if (e->seq <= l.seq)
		return held_seq(t, &l, e, rec, len, jobs, rej);
	bool gap = e->seq != l.seq + 1;
	if (gap) {
		err = tb_reject_set(rej, TB_ESEQ, e->log_id, e->seq,
				    "entry %llu follows entry %llu: a gap",
				    (unsigned long long)e->seq, (unsigned long long)l.seq);
		if ((err = broken(jobs, rej, err)))
			return err;
		l.flags |= TB_LOG_BROKEN;
	} else if (memcmp(e->prev, l.hash, TB_HASHLEN)) {
		err = tb_reject_set(rej, TB_EPREV, e->log_id, e->seq,
				    "prev is not the hash of entry %llu",
				    (unsigned long long)l.seq);
		if ((err = broken(jobs, rej, err)))
			return err;
	}
	if (jobs->n + 1 > jobs->cap)
		return TB_EFULL;
	/* Audits: an entry whose signatures failed is kept in its chain but has
	 * no effect (its signatures were reported already). */
	if (effects) {
		/* (In audits the log signatures were checked before, and
		 * in batches mostly queued ahead.) */
		if (!jobs->audit && !(jobs->presub && jobs->presub[owner])) {
			tb_entry_verify_job(&jobs->jobs[jobs->n], e);
			jobs->owner[jobs->n++] = owner;
		}
		if ((err = tb_rules_apply(t, l.lognum, e, jobs, owner, rej)))
			return err;
	}

	uint8_t k[TB_ENTRY_KEY_LEN], ls[TB_LOGSTATE_LEN];
	tb_entry_key(k, l.lognum, e->seq);
	tb_txn_put(t, TB_T_ENTRIES, k, sizeof k, rec, len);
	tb_entry_hash(l.hash, rec, len);
	/* After a gap (audits only) the tree has no meaning: none is kept. */
	if (!(l.flags & TB_LOG_BROKEN))
		tb_merkle_store_leaf(t, l.lognum, e->seq - 1);
	l.seq = e->seq;
	tb_logstate_pack(ls, &l);
	tb_txn_put(t, TB_T_LOGS, e->log_id, TB_KEY_LEN, ls, sizeof ls);
	return t->ret;
}
