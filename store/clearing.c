/*
 * clearing.c: the clearing step, which moves cross-community exchanges
 * forward from the logs held: the provider's node decides prepares addressed
 * to it (and refuses those addressed to the forked log its own log
 * succeeds that the kept history did not decide, PROTOCOL.md 12.6), the
 * payer's node finishes prepares whose decision it holds. Every
 * leg is appended at most once (the rules refuse a second), so the step can
 * run after any crash or reconnection and only does what is left.
 *
 * What one community sends must not stop the decisions of others: the work
 * is read from indexes of this node's own work only (XDUE under our log id,
 * one payer after another; XOPEN under our log id), by key ranges with no
 * cap on how many are open; prepares from a community we have no trust line
 * with are left alone (we sign nothing for them); and each leg is recorded
 * in its own child transaction, so a leg the rules refuse is undone alone,
 * reported once to the caller, and the others are still recorded in the
 * same commit. Also the read side: clearing accounts and legs.
 */
#include <stdlib.h>
#include <time.h>

#include "store_int.h"

/* Keys read from an index per pass (the largest key is XDUE's). */
#define CLEAR_CHUNK 256

struct key_chunk {
	uint8_t k[CLEAR_CHUNK][TB_XDUE_KEY_LEN];
	size_t n, klen;
	const uint8_t *after; /* keys up to this one were read already */
};

static int chunk_one(void *vctx, struct tb_view k, struct tb_view v)
{
	(void)v;
	struct key_chunk *c = vctx;
	if (k.len != c->klen)
		return TB_ECORRUPT;
	if (c->after && !memcmp(k.p, c->after, c->klen))
		return 0;
	memcpy(c->k[c->n++], k.p, c->klen);
	return c->n == CLEAR_CHUNK ? 1 : 0;
}

/* The next keys of an index under prefix (the first 32 bytes of from),
 * after `from` (exclusive) when from is not NULL. */
static int next_chunk(struct tb_txn *t, enum tb_table tab, const uint8_t *self, const uint8_t *from,
		      struct key_chunk *c)
{
	c->n = 0;
	c->after = from;
	int err = tb_txn_foreach(t, tab, self, TB_KEY_LEN, from, from ? c->klen : 0, chunk_one, c);
	return err < 0 ? err : 0;
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

/* The outcome the state in t gives a prepare (PROTOCOL.md 12.2). */
static uint8_t outcome_for(struct tb_txn *t, uint32_t self_num, const struct tb_xprepare *xp,
			   const struct tb_clearing *c, uint64_t now, struct tb_member *m, int *err)
{
	uint8_t nk[TB_NAME_KEY_MAX];
	size_t nklen = tb_name_key(nk, self_num, xp->to_name.p, xp->to_name.len);
	struct tb_view nv;
	memset(m, 0, sizeof *m);
	int nerr = tb_txn_get(t, TB_T_NAMES, nk, nklen, &nv);
	if (!nerr && nv.len == 4)
		nerr = tb_member_get(t, self_num, tb_be32_get(nv.p), m);
	if (nerr && nerr != TB_ENOTFOUND)
		*err = nerr;
	if (!c->linked)
		return TB_XO_LINK_MISSING;
	if (now >= xp->expires)
		return TB_XO_EXPIRED;
	if (nerr || !m->active)
		return TB_XO_UNKNOWN_MEMBER;
	if (c->balance - (int64_t)xp->minutes < -(int64_t)c->limit)
		return TB_XO_TRUST_LIMIT;
	if (m->ceiling && m->balance + (int64_t)xp->minutes > (int64_t)m->ceiling)
		return TB_XO_CEILING;
	return TB_XO_COMMITTED;
}

/* A commit the rules refused (its state moved since the outcome was
 * chosen, e.g. the clock passed the expiry): the refusal that says why. */
static int refusal_for(int err)
{
	switch (err) {
	case TB_EEXPIRED:
		return TB_XO_EXPIRED;
	case TB_ETRUST:
		return TB_XO_TRUST_LIMIT;
	case TB_ECEILING:
		return TB_XO_CEILING;
	case TB_EMEMBER:
	case TB_ELEFT:
		return TB_XO_UNKNOWN_MEMBER;
	case TB_ELINK:
		return TB_XO_LINK_MISSING;
	}
	return -1;
}

/* The provider's decision on one prepare, against the state in t. */
static int decide_one(struct tb_txn *t, const struct tb_keypair *kp, uint32_t self_num,
		      const struct tb_xleg *x, uint64_t now, int forced, struct tb_reject *rej)
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
	struct tb_member payer, m;
	if ((err = tb_member_get(t, payer_num, (uint32_t)xp->member, &payer)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	struct tb_xdecide d;
	tb_xdecide_of(&d, xp, x->payer, x->prepare_seq,
		      (struct tb_view){(const uint8_t *)payer.name, strlen(payer.name)});
	struct tb_clearing c;
	if ((err = tb_clearing_get(t, self_num, x->payer, &c)) && err != TB_ENOTFOUND)
		return err;
	err = 0;
	d.outcome = outcome_for(t, self_num, xp, &c, now, &m, &err);
	if (err)
		return err;
	/* A prepare addressed to the log ours succeeds: that log takes no
	 * exchange any more, so it is refused ("link missing"), never
	 * committed (PROTOCOL.md 12.6). */
	bool for_old = memcmp(x->provider, kp->pk.b, TB_KEY_LEN) != 0;
	if (for_old)
		forced = TB_XO_LINK_MISSING;
	if (forced >= 0)
		d.outcome = (uint64_t)forced;
	d.member = !for_old && m.active ? m.no : 0;
	return tb_own_append_txn(t, kp, TB_KIND_XDECIDE, &d, NULL, rej);
}

/* The payer's final leg, if the decision held answers this prepare. */
static int final_one(struct tb_txn *t, const struct tb_keypair *kp, const struct tb_xleg *x,
		     struct tb_reject *rej)
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
		return tb_reject_set(rej, TB_ELEG, x->decider, x->decide_seq,
				     "the decision does not answer our prepare at entry %llu",
				     (unsigned long long)x->prepare_seq);
	struct tb_xfinal f;
	memcpy(f.txid, x->txid, TB_TXID_LEN);
	f.decide_seq = x->decide_seq;
	f.outcome = xd->outcome;
	return tb_own_append_txn(t, kp, TB_KIND_XFINAL, &f, NULL, rej);
}

struct step {
	struct tb_txn *t;
	const struct tb_keypair *kp;
	uint32_t self_num;
	struct tb_clear *c;
};

/* A leg that could not be recorded: counted, and told to the caller. */
static void skip(struct step *st, const struct tb_xleg *x, const char *what, int err,
		 const struct tb_reject *why)
{
	struct tb_clear *c = st->c;
	c->skips++;
	if (!c->skipped)
		return;
	struct tb_reject r;
	memset(&r, 0, sizeof r);
	tb_reject_set(&r, err, x->payer, x->prepare_seq, "cannot %s: %s", what,
		      why && why->msg[0] ? why->msg : tb_strerror(err));
	c->skipped(c->ctx, &r);
}

/* Runs one leg in a child transaction: kept if the rules accept it, else
 * undone alone. Returns a storage error (which ends the step), else 0 with
 * *done saying whether the leg was recorded (err: the refusal). */
static int sub_step(struct step *st, const struct tb_xleg *x, bool decide, int forced, bool *done,
		    int *refusal, struct tb_reject *rej)
{
	struct tb_txn sub;
	tb_txn_child_begin(&sub, st->t);
	memset(rej, 0, sizeof *rej);
	int err = sub.ret;
	if (!err)
		err = decide ? decide_one(&sub, st->kp, st->self_num, x, st->c->now, forced, rej)
			     : final_one(&sub, st->kp, x, rej);
	*done = false;
	*refusal = 0;
	if (!err)
		err = tb_txn_commit(&sub);
	else
		tb_txn_abort(&sub);
	if (!err) {
		*done = true;
		return 0;
	}
	if (sub.ret || st->t->ret)
		return st->t->ret ? st->t->ret : sub.ret; /* storage: stop */
	*refusal = err;
	return 0;
}

static int decide_step(struct step *st, const struct tb_xleg *x)
{
	struct tb_reject rej;
	bool done;
	int refusal;
	int err = sub_step(st, x, true, -1, &done, &refusal, &rej);
	if (!err && !done) {
		/* The rules refused a commit: refuse it, saying why. */
		int forced = refusal_for(refusal);
		if (forced >= 0)
			err = sub_step(st, x, true, forced, &done, &refusal, &rej);
	}
	if (err)
		return err;
	if (done)
		st->c->decided++;
	else
		skip(st, x, "decide this prepare", refusal, &rej);
	return 0;
}

static int final_step(struct step *st, const struct tb_xleg *x)
{
	struct tb_reject rej;
	bool done;
	int refusal;
	int err = sub_step(st, x, false, -1, &done, &refusal, &rej);
	if (err)
		return err;
	if (done)
		st->c->finished++;
	else
		skip(st, x, "finish this exchange", refusal, &rej);
	return 0;
}

/* Whether we have a trust line to a payer (else its prepares wait). */
static int payer_linked(struct tb_txn *t, uint32_t self_num, const uint8_t *payer, bool *linked)
{
	struct tb_clearing c;
	int err = tb_clearing_get(t, self_num, payer, &c);
	*linked = !err && c.linked;
	return err == TB_ENOTFOUND ? 0 : err;
}

/* Decides the prepares addressed to provider (our log, or the forked log
 * ours succeeds), payer after payer (XDUE order). */
static int decide_all(struct step *st, const uint8_t *provider, bool for_old, bool count_only,
		      size_t *due)
{
	struct key_chunk *ch = malloc(sizeof *ch);
	if (!ch)
		return TB_ENOMEM;
	ch->klen = TB_XDUE_KEY_LEN;
	uint8_t from[TB_XDUE_KEY_LEN], payer[TB_KEY_LEN];
	bool have_from = false, have_payer = false, linked = false;
	int err = 0;
	for (;;) {
		if ((err = next_chunk(st->t, TB_T_XDUE, provider, have_from ? from : NULL, ch)) ||
		    !ch->n)
			break;
		for (size_t i = 0; i < ch->n && !err; i++) {
			const uint8_t *k = ch->k[i];
			memcpy(from, k, sizeof from);
			have_from = true;
			if (!have_payer || memcmp(payer, k + TB_KEY_LEN, TB_KEY_LEN)) {
				memcpy(payer, k + TB_KEY_LEN, TB_KEY_LEN);
				have_payer = true;
				if ((err = payer_linked(st->t, st->self_num, payer, &linked)))
					break;
				/* The log ours succeeds: its holds end only by our
				 * refusal, with or without a line (PROTOCOL.md 12.6;
				 * at most 1000 open per payer, rule 7.8). */
				linked = linked || for_old;
			}
			if (!linked) {
				/* No trust line: we sign nothing for them.
				 * Skip the rest of this payer's run. */
				st->c->ignored++;
				memset(from + 2 * TB_KEY_LEN, 0xff, TB_TXID_LEN);
				ch->n = 0;
				break;
			}
			if (count_only) {
				(*due)++;
				continue;
			}
			if (st->c->decided >= st->c->max) {
				st->c->more = true;
				goto out;
			}
			struct tb_xleg x;
			if ((err = tb_xleg_get(st->t, payer, k + 2 * TB_KEY_LEN, &x)))
				break;
			err = decide_step(st, &x);
		}
		if (err)
			break;
	}
out:
	free(ch);
	return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
}

/* Decides (or counts) the prepares addressed to our log and to the forked
 * log ours succeeds, if any. */
static int decide_ours(struct step *st, const uint8_t *self, bool count_only, size_t *due)
{
	struct tb_successor succ;
	int err = decide_all(st, self, false, count_only, due);
	if (err)
		return err;
	err = tb_succession_of(st->t, self, false, &succ); /* the own log: trusted */
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	return decide_all(st, succ.old_log, true, count_only, due);
}

/* Our own open prepares: counts those held with no decision, and finishes
 * (or counts) those whose provider's decision is held. */
static int finish_all(struct step *st, const uint8_t *self, bool count_only, size_t *held,
		      size_t *due)
{
	struct key_chunk *ch = malloc(sizeof *ch);
	if (!ch)
		return TB_ENOMEM;
	ch->klen = TB_KEY_LEN + TB_TXID_LEN;
	uint8_t from[TB_KEY_LEN + TB_TXID_LEN];
	bool have_from = false;
	int err = 0;
	for (;;) {
		if ((err = next_chunk(st->t, TB_T_XOPEN, self, have_from ? from : NULL, ch)) ||
		    !ch->n)
			break;
		for (size_t i = 0; i < ch->n && !err; i++) {
			memcpy(from, ch->k[i], sizeof from);
			have_from = true;
			struct tb_xleg x;
			if ((err = tb_xleg_get(st->t, self, ch->k[i] + TB_KEY_LEN, &x)))
				break;
			if (!x.prepare_seq || x.final_seq)
				continue;
			if (!x.decide_seq) {
				*held += 1;
				continue;
			}
			if (count_only) {
				(*due)++;
				continue;
			}
			if (st->c->finished >= st->c->max) {
				st->c->more = true;
				goto out;
			}
			err = final_step(st, &x);
		}
		if (err)
			break;
	}
out:
	free(ch);
	return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
}

int tb_store_clear(struct tb_store *s, const struct tb_keypair *kp, struct tb_clear *c)
{
	c->decided = c->finished = c->skips = c->ignored = 0;
	c->more = false;
	if (s->flags & TB_STORE_RDONLY)
		return TB_EINVAL;
	/* An entry's timestamp is the clock at append: decide by the later. */
	uint64_t wall = (uint64_t)time(NULL);
	if (wall > c->now)
		c->now = wall;
	const uint8_t *self = kp->pk.b;
	struct tb_txn t;
	struct tb_logstate own = {0};
	tb_txn_begin(&t, s->db, true);
	int err = tb_logstate_get(&t, self, &own);
	struct step st = {&t, kp, own.lognum, c};
	size_t held = 0, due = 0;
	if (!err && (c->what & TB_CLEAR_DECIDE))
		err = decide_ours(&st, self, false, &due);
	if (!err && (c->what & TB_CLEAR_FINAL))
		err = finish_all(&st, self, false, &held, &due);
	if (err || (!c->decided && !c->finished)) {
		tb_txn_abort(&t);
		if (err)
			c->decided = c->finished = 0;
		return err == TB_ENOTFOUND ? 0 : err;
	}
	if ((err = tb_txn_commit(&t)))
		c->decided = c->finished = 0;
	return err;
}

int tb_store_clear_due(struct tb_store *s, size_t *held, size_t *decide, size_t *final)
{
	uint8_t self[TB_KEY_LEN];
	*held = *decide = *final = 0;
	int err = tb_store_self(s, self);
	if (err)
		return err;
	struct tb_txn t;
	struct tb_logstate own = {0};
	struct tb_clear c = {0};
	tb_txn_begin(&t, s->db, false);
	err = tb_logstate_get(&t, self, &own);
	struct step st = {&t, NULL, own.lognum, &c};
	if (!err)
		err = decide_ours(&st, self, true, decide);
	if (!err)
		err = finish_all(&st, self, true, held, final);
	tb_txn_abort(&t);
	return err == TB_ENOTFOUND ? 0 : err;
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

int tb_store_xdecided(struct tb_store *s, const uint8_t decider[TB_KEY_LEN],
		      const uint8_t from_log[TB_KEY_LEN], const uint8_t txid[TB_TXID_LEN],
		      struct tb_xdecided *out)
{
	struct tb_txn t;
	struct tb_logstate ls;
	tb_txn_begin(&t, s->db, false);
	int err = tb_logstate_get(&t, decider, &ls);
	if (!err)
		err = tb_xdecided_get(&t, ls.lognum, from_log, txid, out);
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
