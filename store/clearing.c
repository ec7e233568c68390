/*
 * clearing.c: the clearing step, which moves cross-community exchanges
 * forward from the logs held: the provider's node decides prepares addressed
 * to it (and refuses those addressed to the forked log its own log
 * succeeds that the kept history did not decide), the payer's node finishes
 * prepares whose decision it holds. Every
 * leg is appended at most once (the txid is then in the log, and the rules
 * refuse a second), so the step can run after any crash or reconnection and
 * only does what is left. Also the read side: clearing accounts and legs.
 */
#include <stdlib.h>
#include <time.h>

#include "store_int.h"

#define CLEAR_MAX 4096

struct open_scan {
	struct tb_txn *t;
	struct tb_xleg *x;
	size_t n, cap;
};

static int open_one(void *vctx, struct tb_view k, struct tb_view v)
{
	(void)v;
	struct open_scan *os = vctx;
	if (k.len != TB_KEY_LEN + TB_TXID_LEN)
		return TB_ECORRUPT;
	if (os->n == os->cap)
		return 1;
	int err = tb_xleg_get(os->t, k.p, k.p + TB_KEY_LEN, &os->x[os->n]);
	if (err)
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	os->n++;
	return 0;
}

/* Who this node answers for: its own log, and the forked log that its own
 * log succeeds (PROTOCOL.md 12.6), if any. */
struct whom {
	const uint8_t *self;
	bool succeeds;
	uint8_t old[TB_KEY_LEN];
};

static int whom_of(struct tb_txn *t, const uint8_t *self, struct whom *w)
{
	struct tb_successor s;
	w->self = self;
	int err = tb_succession_of(t, self, false, &s); /* the own log: trusted */
	w->succeeds = !err;
	if (!err)
		memcpy(w->old, s.old_log, TB_KEY_LEN);
	return err == TB_ENOTFOUND ? 0 : err;
}

/* A prepare addressed to this log, or to the log it succeeds that the kept
 * history did not decide (the node holds only the kept branch of it). */
static bool due_decide(const struct tb_xleg *x, const struct whom *w)
{
	return x->prepare_seq && !x->decide_seq &&
	       (!memcmp(x->provider, w->self, TB_KEY_LEN) ||
		(w->succeeds && !memcmp(x->provider, w->old, TB_KEY_LEN)));
}

/* An own prepare decided by its provider, or refused by the provider's
 * successor (PROTOCOL.md 12.6: a successor only ever refuses). */
static bool due_final(struct tb_txn *t, const struct tb_xleg *x, const uint8_t *self)
{
	if (!x->prepare_seq || !x->decide_seq || x->final_seq ||
	    memcmp(x->payer, self, TB_KEY_LEN))
		return false;
	if (!memcmp(x->decider, x->provider, TB_KEY_LEN))
		return true;
	return x->outcome != TB_XO_COMMITTED && tb_succeeds(t, x->decider, x->provider);
}

/* Reads and decodes entry seq of a log into buf (a copy: the entry's views
 * outlive later writes of the transaction). */
static int read_entry(struct tb_txn *t, const uint8_t *log_id, uint64_t seq, uint8_t *buf,
		      struct tb_entry *e, uint32_t *lognum)
{
	struct tb_logstate l;
	int err = tb_logstate_get(t, log_id, &l);
	if (err)
		return err;
	uint8_t k[TB_ENTRY_KEY_LEN];
	tb_entry_key(k, l.lognum, seq);
	struct tb_view v;
	if ((err = tb_txn_get(t, TB_T_ENTRIES, k, sizeof k, &v)))
		return err;
	if (v.len > TB_ENTRY_MAX)
		return TB_ECORRUPT;
	memcpy(buf, v.p, v.len);
	if (lognum)
		*lognum = l.lognum;
	return tb_entry_decode(e, buf, v.len) ? TB_ECORRUPT : 0;
}

/* The provider's decision on one prepare, against the state in t; for a
 * prepare addressed to the log this one succeeds, a refusal ("link
 * missing": that log takes no exchange any more). */
static int decide_one(struct tb_txn *t, const struct tb_keypair *kp, uint32_t self_num,
		      const struct tb_xleg *x, uint64_t now)
{
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_entry p;
	uint32_t payer_num;
	int err = read_entry(t, x->payer, x->prepare_seq, buf, &p, &payer_num);
	if (err)
		return err;
	if (p.kind != TB_KIND_XPREPARE)
		return TB_ECORRUPT;
	const struct tb_xprepare *xp = &p.body.xprepare;
	struct tb_member payer, m = {0};
	if ((err = tb_member_get(t, payer_num, (uint32_t)xp->member, &payer)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;

	struct tb_xdecide d;
	memset(&d, 0, sizeof d);
	memcpy(d.txid, xp->txid, TB_TXID_LEN);
	memcpy(d.from_log, x->payer, TB_KEY_LEN);
	d.from_seq = x->prepare_seq;
	d.from_name = (struct tb_view){(const uint8_t *)payer.name, strlen(payer.name)};
	d.to_name = xp->to_name;
	d.minutes = xp->minutes;
	d.category = xp->category;
	memcpy(d.memo_hash, xp->memo_hash, TB_HASHLEN);
	d.date = xp->date;
	d.expires = xp->expires;

	struct tb_clearing c;
	err = tb_clearing_get(t, self_num, x->payer, &c);
	if (err && err != TB_ENOTFOUND)
		return err;
	uint8_t nk[TB_NAME_KEY_MAX];
	size_t nklen = tb_name_key(nk, self_num, xp->to_name.p, xp->to_name.len);
	struct tb_view nv;
	int nerr = tb_txn_get(t, TB_T_NAMES, nk, nklen, &nv);
	if (nerr && nerr != TB_ENOTFOUND)
		return nerr;
	if (!nerr && nv.len == 4 &&
	    (nerr = tb_member_get(t, self_num, tb_be32_get(nv.p), &m)) &&
	    nerr != TB_ENOTFOUND)
		return nerr;
	bool for_old = memcmp(x->provider, kp->pk.b, TB_KEY_LEN) != 0;
	if (err || !c.linked || for_old)
		d.outcome = TB_XO_LINK_MISSING;
	else if (now >= xp->expires)
		d.outcome = TB_XO_EXPIRED;
	else if (nerr || !m.active)
		d.outcome = TB_XO_UNKNOWN_MEMBER;
	else if (c.balance - (int64_t)xp->minutes < -(int64_t)c.limit)
		d.outcome = TB_XO_TRUST_LIMIT;
	else if (m.ceiling && m.balance + (int64_t)xp->minutes > (int64_t)m.ceiling)
		d.outcome = TB_XO_CEILING;
	else
		d.outcome = TB_XO_COMMITTED;
	d.member = !for_old && !nerr && m.active ? m.no : 0;
	struct tb_reject rej;
	memset(&rej, 0, sizeof rej);
	return tb_own_append_txn(t, kp, TB_KIND_XDECIDE, &d, NULL, &rej);
}

/* The payer's final leg, if the decision held answers this prepare. */
static int final_one(struct tb_txn *t, const struct tb_keypair *kp, const struct tb_xleg *x)
{
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_entry d;
	int err = read_entry(t, x->decider, x->decide_seq, buf, &d, NULL);
	if (err)
		return err;
	if (d.kind != TB_KIND_XDECIDE)
		return TB_ECORRUPT;
	const struct tb_xdecide *xd = &d.body.xdecide;
	/* A decision that does not answer our prepare is never acted on. */
	if (memcmp(xd->from_log, x->payer, TB_KEY_LEN) || xd->from_seq != x->prepare_seq ||
	    xd->minutes != x->minutes)
		return 1;
	struct tb_xfinal f;
	memcpy(f.txid, x->txid, TB_TXID_LEN);
	f.decide_seq = x->decide_seq;
	f.outcome = xd->outcome;
	struct tb_reject rej;
	memset(&rej, 0, sizeof rej);
	return tb_own_append_txn(t, kp, TB_KIND_XFINAL, &f, NULL, &rej);
}

static int collect(struct tb_txn *t, struct open_scan *os)
{
	os->t = t;
	os->n = 0;
	os->cap = CLEAR_MAX;
	os->x = malloc(os->cap * sizeof *os->x);
	if (!os->x)
		return TB_ENOMEM;
	int err = tb_txn_foreach(t, TB_T_XOPEN, NULL, 0, NULL, 0, open_one, os);
	return err < 0 ? err : 0;
}

int tb_store_clear(struct tb_store *s, const struct tb_keypair *kp, unsigned what,
		   uint64_t now, size_t max, size_t *decided, size_t *finished)
{
	size_t nd = 0, nf = 0;
	if (decided)
		*decided = 0;
	if (finished)
		*finished = 0;
	if (s->flags & TB_STORE_RDONLY)
		return TB_EINVAL;
	/* An entry's timestamp is the clock at append: decide by the later. */
	uint64_t wall = (uint64_t)time(NULL);
	if (wall > now)
		now = wall;
	const uint8_t *self = kp->pk.b;
	struct tb_txn t;
	struct open_scan os;
	struct whom w;
	tb_txn_begin(&t, s->db, true);
	int err = collect(&t, &os);
	struct tb_logstate own;
	if (!err)
		err = tb_logstate_get(&t, self, &own);
	if (!err)
		err = whom_of(&t, self, &w);
	for (size_t i = 0; !err && i < os.n; i++) {
		const struct tb_xleg *x = &os.x[i];
		if ((what & TB_CLEAR_DECIDE) && nd < max && due_decide(x, &w)) {
			if (!(err = decide_one(&t, kp, own.lognum, x, now)))
				nd++;
		} else if ((what & TB_CLEAR_FINAL) && nf < max && due_final(&t, x, self)) {
			err = final_one(&t, kp, x);
			if (err == 1)
				err = 0;
			else if (!err)
				nf++;
		}
	}
	free(os.x);
	if (err || (!nd && !nf)) {
		tb_txn_abort(&t);
		return err;
	}
	if ((err = tb_txn_commit(&t)))
		return err;
	if (decided)
		*decided = nd;
	if (finished)
		*finished = nf;
	return 0;
}

int tb_store_clear_due(struct tb_store *s, size_t *held, size_t *decide, size_t *final)
{
	uint8_t self[TB_KEY_LEN];
	*held = *decide = *final = 0;
	int err = tb_store_self(s, self);
	if (err)
		return err;
	struct tb_txn t;
	struct open_scan os;
	struct whom w;
	tb_txn_begin(&t, s->db, false);
	err = collect(&t, &os);
	if (!err)
		err = whom_of(&t, self, &w);
	for (size_t i = 0; !err && i < os.n; i++) {
		const struct tb_xleg *x = &os.x[i];
		*held += x->prepare_seq && !x->decide_seq && !memcmp(x->payer, self, TB_KEY_LEN);
		*decide += due_decide(x, &w);
		*final += due_final(&t, x, self);
	}
	free(os.x);
	tb_txn_abort(&t);
	return err;
}

/* ---- reads ---- */

int tb_store_clearing(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
		      const uint8_t other[TB_KEY_LEN], struct tb_clearing *out)
{
	struct tb_txn t;
	struct tb_logstate l;
	tb_txn_begin(&t, s->db, false);
	int err = tb_logstate_get(&t, log_id, &l);
	if (!err)
		err = tb_clearing_get(&t, l.lognum, other, out);
	tb_txn_abort(&t);
	return err;
}

int tb_store_foreach_clearing(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
			      tb_clearing_fn cb, void *ctx)
{
	struct tb_txn t;
	struct tb_logstate l;
	tb_txn_begin(&t, s->db, false);
	int err = tb_logstate_get(&t, log_id, &l);
	if (!err)
		err = tb_clearing_foreach(&t, l.lognum, cb, ctx);
	tb_txn_abort(&t);
	return err;
}

int tb_store_xleg(struct tb_store *s, const uint8_t payer[TB_KEY_LEN],
		  const uint8_t txid[TB_TXID_LEN], struct tb_xleg *out)
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	int err = tb_xleg_get(&t, payer, txid, out);
	tb_txn_abort(&t);
	return err;
}

struct xleg_scan {
	struct tb_txn *t;
	tb_xleg_fn cb;
	void *ctx;
	bool open_only;
};

static int xleg_one(void *vctx, struct tb_view k, struct tb_view v)
{
	struct xleg_scan *xs = vctx;
	struct tb_xleg x;
	if (k.len != TB_KEY_LEN + TB_TXID_LEN)
		return TB_ECORRUPT;
	int err = xs->open_only ? tb_xleg_get(xs->t, k.p, k.p + TB_KEY_LEN, &x)
				: tb_xleg_unpack(&x, k, v);
	return err ? err : xs->cb(xs->ctx, &x);
}

int tb_store_foreach_xleg(struct tb_store *s, bool open_only, tb_xleg_fn cb, void *ctx)
{
	struct tb_txn t;
	struct xleg_scan xs = {&t, cb, ctx, open_only};
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, open_only ? TB_T_XOPEN : TB_T_XLEGS, NULL, 0, NULL, 0,
				 xleg_one, &xs);
	tb_txn_abort(&t);
	return err;
}
