/*
 * xlock.c: the ledger rules of exchanges over a route (PROTOCOL.md 12.8,
 * FORMAT.md 7.8), the parts xrules.c calls for the routed forms of the legs.
 * A routed prepare carries a hash lock and the rest of its route; on the
 * payer's hop a member pays, on a forward (member 0) the clearing account of
 * the community whose prepare it forwards pays, and the forward reserves
 * room under that community's trust line (in_held) until the decision on
 * the forwarded prepare. That decision must follow the forward: a commit
 * only once the forward completed, with the secret that opens the lock; a
 * refusal only once the forward was refused. Each rule reads only the state
 * of its own log, as every rule does.
 */
#include "store_int.h"

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

static bool is_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Whether id is one of the path's log ids. */
static bool in_path(struct tb_view path, const uint8_t *id)
{
	for (size_t i = 0; i + TB_KEY_LEN <= path.len; i += TB_KEY_LEN)
		if (!memcmp(path.p + i, id, TB_KEY_LEN))
			return true;
	return false;
}

static int route_shape(const struct tb_entry *e, struct tb_reject *rej)
{
	const struct tb_xprepare *x = &e->body.xprepare;
	if (is_zero(x->lock, TB_HASHLEN) || is_zero(x->secret_box, TB_SECRET_BOX_LEN))
		return REJ(TB_ELOCK, "a routed prepare needs its lock and its sealed secret");
	if (x->path.len % TB_KEY_LEN)
		return REJ(TB_EROUTE, "the path is not a list of log ids");
	size_t rest = x->path.len / TB_KEY_LEN;
	if (x->hop + 1 + rest > TB_ROUTE_MAX)
		return REJ(TB_EROUTE, "a route has at most %d hops", TB_ROUTE_MAX);
	for (size_t i = 0; i < rest; i++) {
		const uint8_t *id = x->path.p + i * TB_KEY_LEN;
		struct tb_view later = {id + TB_KEY_LEN, (rest - i - 1) * TB_KEY_LEN};
		if (!memcmp(id, e->log_id, TB_KEY_LEN) || !memcmp(id, x->to_log, TB_KEY_LEN) ||
		    in_path(later, id))
			return REJ(TB_EROUTE, "the route passes a community twice");
	}
	bool forward = x->member == 0;
	if (!forward && (x->hop || x->prev_seq || !is_zero(x->prev_log, TB_KEY_LEN)))
		return REJ(TB_EROUTE, "the payer's hop forwards no other prepare");
	if (forward &&
	    (!x->hop || x->prev_seq < 2 || !memcmp(x->prev_log, e->log_id, TB_KEY_LEN) ||
	     !memcmp(x->prev_log, x->to_log, TB_KEY_LEN) || in_path(x->path, x->prev_log)))
		return REJ(
			TB_EROUTE,
			"a forward names the prepare it forwards, from a community off the rest of "
			"the route");
	return 0;
}

int tb_xlock_prepare(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		     struct tb_clearing *prev, struct tb_reject *rej)
{
	const struct tb_xprepare *x = &e->body.xprepare;
	int err = route_shape(e, rej);
	if (err || x->member)
		return err;
	if (!x->attested || x->member_sig.len)
		return REJ(TB_ECONSENT, "a forward is the community's own: attested, unsigned");
	if ((err = tb_clearing_get(t, lognum, x->prev_log, prev)) && err != TB_ENOTFOUND)
		return err;
	if (err || !prev->linked)
		return REJ(TB_ELINK, "forwards a prepare of a community with no trust line");
	struct tb_xdecided d;
	if (!(err = tb_xdecided_get(t, lognum, x->prev_log, x->txid, &d)))
		return REJ(TB_EDUPTX, "forwards a prepare this community decided at entry %llu",
			   (unsigned long long)d.seq);
	if (err != TB_ENOTFOUND)
		return err;
	int64_t nb = prev->balance - prev->in_held - (int64_t)x->minutes;
	if (nb < -(int64_t)prev->limit) {
		char a[32], b[32];
		tb_fmt_hours(a, sizeof a, -nb);
		tb_fmt_hours(b, sizeof b, (int64_t)prev->limit);
		return REJ(
			TB_ETRUST,
			"the community forwarded from would owe %s hours, over the trust limit of "
			"%s hours",
			a, b);
	}
	return 0;
}

int tb_xlock_forwarded(struct tb_txn *t, uint32_t lognum, const uint8_t self[TB_KEY_LEN],
		       const uint8_t txid[TB_TXID_LEN], const uint8_t from_log[TB_KEY_LEN],
		       uint64_t from_seq, struct tb_xleg *fwd)
{
	int err = tb_xleg_get(t, self, txid, fwd);
	if (err == TB_ENOTFOUND || (!err && !fwd->prepare_seq))
		return 0;
	if (err)
		return err;
	uint8_t ek[TB_ENTRY_KEY_LEN];
	tb_entry_key(ek, lognum, fwd->prepare_seq);
	struct tb_view rec;
	struct tb_entry p;
	if ((err = tb_txn_get(t, TB_T_ENTRIES, ek, sizeof ek, &rec)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (tb_entry_decode(&p, rec.p, rec.len) || p.kind != TB_KIND_XPREPARE)
		return TB_ECORRUPT;
	const struct tb_xprepare *x = &p.body.xprepare;
	return x->member == 0 && tb_xprepare_routed(x) && x->prev_seq == from_seq &&
	       !memcmp(x->prev_log, from_log, TB_KEY_LEN);
}

int tb_xlock_decide(const struct tb_entry *e, bool forwarded, const struct tb_xleg *fwd,
		    struct tb_reject *rej)
{
	const struct tb_xdecide *x = &e->body.xdecide;
	if (is_zero(x->lock, TB_HASHLEN))
		return REJ(TB_ELOCK, forwarded ? "decides a prepare it forwarded without its lock"
					       : "a locked decision needs the prepare's lock");
	if (x->outcome == TB_XO_COMMITTED) {
		uint8_t h[TB_HASHLEN];
		tb_sha256(h, x->preimage, TB_SECRET_LEN);
		if (memcmp(h, x->lock, TB_HASHLEN))
			return REJ(TB_ELOCK, "commits with a secret that does not open the lock");
		if (forwarded && (!fwd->final_seq || fwd->final_outcome != TB_XO_COMMITTED))
			return REJ(TB_ELOCK,
				   "commits a prepare whose forward (entry %llu) did not "
				   "complete",
				   (unsigned long long)fwd->prepare_seq);
		return 0;
	}
	if (!is_zero(x->preimage, TB_SECRET_LEN))
		return REJ(TB_ELOCK, "a refusal reveals no secret");
	if (forwarded && (!fwd->final_seq || fwd->final_outcome == TB_XO_COMMITTED))
		return REJ(TB_ELOCK, "refuses a prepare whose forward (entry %llu) was not refused",
			   (unsigned long long)fwd->prepare_seq);
	return 0;
}
