/*
 * succession.c: a community whose log forked continues in a new log (kind
 * 14, FORMAT.md 7.11). Entry 2 of the new log, right after its genesis, is a
 * succession: the old log's key signs that the new log succeeds it, keeping
 * the old log's first kept_seq entries (the history ending with the entry of
 * hash kept_hash), and the entry carries a proof that the old log forked. So
 * only the old key's holder can hand the community over, and only once the
 * old log is proven broken. The rule checks only the entry itself (logs are
 * checked in any order); which successor a node follows and what it carries
 * over is read across logs (tb_store_successor, the audit, the command line).
 */
#include <stdlib.h>

#include "store_int.h"

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

/* The checks of the rule, also made again when a successor is looked up
 * (an audit keeps a refused entry in its log's chain). fork_seq may be NULL. */
static int check_succession(const struct tb_entry *e, uint64_t *fork_seq, struct tb_reject *rej)
{
	const struct tb_succession *s = &e->body.succession;
	char old[17];
	tb_hex_encode(old, s->old_log, 8);
	if (e->seq != 2)
		return REJ(TB_ESUCCESSION,
			   "a succession may only be entry 2 of a log, right after its genesis");
	if (!memcmp(s->old_log, e->log_id, TB_KEY_LEN))
		return REJ(TB_ESUCCESSION, "a log cannot succeed itself");
	uint8_t plog[TB_KEY_LEN];
	uint64_t pseq;
	int err = tb_fork_proof_check(s->fork_proof.p, s->fork_proof.len, plog, &pseq);
	if (err)
		return REJ(TB_EPROOF,
			   "the succession's fork proof does not prove that log %s forked: %s", old,
			   tb_strerror(err));
	if (memcmp(plog, s->old_log, TB_KEY_LEN))
		return REJ(
			TB_EPROOF,
			"the succession's fork proof is of another log than %s, the one it succeeds",
			old);
	struct tb_succession_terms terms;
	uint8_t buf[256];
	size_t len;
	tb_succession_terms_of(&terms, e->log_id, s);
	err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_succession_terms, &terms);
	if (!err)
		err = tb_verify(s->old_sig, s->old_log, TB_CTX_SUCCESSION, buf, len);
	if (err == TB_EBADSIG)
		return REJ(TB_ESUCCESSION,
			   "the succession is not signed by the key of log %s, the one it succeeds",
			   old);
	if (err)
		return err;
	if (fork_seq)
		*fork_seq = pseq;
	return 0;
}

int tb_rule_succession(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		       struct tb_reject *rej)
{
	(void)t;
	(void)lognum;
	return check_succession(e, NULL, rej);
}

int tb_succession_of(struct tb_txn *t, const uint8_t *log_id, bool check, struct tb_successor *out)
{
	struct tb_logstate l;
	int err = tb_logstate_get(t, log_id, &l);
	if (err)
		return err;
	if (l.seq < 2)
		return TB_ENOTFOUND;
	uint8_t k[TB_ENTRY_KEY_LEN];
	tb_entry_key(k, l.lognum, 2);
	struct tb_view v;
	if ((err = tb_txn_get(t, TB_T_ENTRIES, k, sizeof k, &v)))
		return err;
	struct tb_entry e;
	struct tb_reject rej;
	struct tb_verify_job job;
	uint64_t fork_seq = 0;
	if (tb_entry_decode(&e, v.p, v.len) || e.kind != TB_KIND_SUCCESSION ||
	    memcmp(e.log_id, log_id, TB_KEY_LEN))
		return TB_ENOTFOUND;
	if (check) {
		tb_entry_verify_job(&job, &e);
		if (tb_verify_batch(&job, 1, 1) || check_succession(&e, &fork_seq, &rej))
			return TB_ENOTFOUND; /* an audit's chain keeps refused entries */
	}
	memcpy(out->new_log, log_id, TB_KEY_LEN);
	memcpy(out->old_log, e.body.succession.old_log, TB_KEY_LEN);
	out->kept_seq = e.body.succession.kept_seq;
	memcpy(out->kept_hash, e.body.succession.kept_hash, TB_HASHLEN);
	out->fork_seq = fork_seq;
	out->timestamp = e.timestamp;
	return 0;
}

bool tb_succeeds(struct tb_txn *t, const uint8_t *new_log, const uint8_t *old_log)
{
	struct tb_successor s;
	/* The names first: the signatures are checked only for the log named. */
	return !tb_succession_of(t, new_log, false, &s) &&
	       !memcmp(s.old_log, old_log, TB_KEY_LEN) && !tb_succession_of(t, new_log, true, &s);
}

struct succ_scan {
	struct tb_store *s;
	const uint8_t *old_log;
	struct tb_successor *out;
	size_t n;
	uint8_t rec[TB_ENTRY_MAX];
};

static int succ_cb(void *vctx, const struct tb_head *h)
{
	struct succ_scan *sc = vctx;
	size_t len;
	struct tb_entry e;
	struct tb_reject rej;
	uint64_t fork_seq;
	if (h->seq < 2 || !memcmp(h->log_id, sc->old_log, TB_KEY_LEN))
		return 0;
	int err = tb_store_get_entry(sc->s, h->log_id, 2, sc->rec, sizeof sc->rec, &len);
	if (err == TB_ENOTFOUND)
		return 0; /* an audit's log held only past a gap */
	if (err)
		return err;
	if (tb_entry_decode(&e, sc->rec, len) || e.kind != TB_KIND_SUCCESSION ||
	    memcmp(e.body.succession.old_log, sc->old_log, TB_KEY_LEN))
		return 0;
	struct tb_verify_job job;
	tb_entry_verify_job(&job, &e);
	if (tb_verify_batch(&job, 1, 1) || check_succession(&e, &fork_seq, &rej))
		return 0; /* kept in an audit's chain, but no succession */
	if (sc->n++ == 0) {
		memcpy(sc->out->new_log, e.log_id, TB_KEY_LEN);
		memcpy(sc->out->old_log, sc->old_log, TB_KEY_LEN);
		sc->out->kept_seq = e.body.succession.kept_seq;
		memcpy(sc->out->kept_hash, e.body.succession.kept_hash, TB_HASHLEN);
		sc->out->fork_seq = fork_seq;
		sc->out->timestamp = e.timestamp;
	}
	return 0;
}

int tb_store_successor(struct tb_store *s, const uint8_t old_log[TB_KEY_LEN],
		       struct tb_successor *out, size_t *n)
{
	struct succ_scan *sc = malloc(sizeof *sc);
	if (!sc)
		return TB_ENOMEM;
	memset(out, 0, sizeof *out);
	sc->s = s;
	sc->old_log = old_log;
	sc->out = out;
	sc->n = 0;
	int err = tb_store_foreach_log(s, succ_cb, sc);
	*n = sc->n;
	free(sc);
	if (err)
		return err;
	return *n ? 0 : TB_ENOTFOUND;
}
