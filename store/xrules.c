/*
 * xrules.c: the ledger rules of credit across communities, one per leg.
 *
 * Each rule checks only its own log's state, so logs can be applied in any
 * order (reindex, audits, a third community holding both): a trust line
 * sets the floor of a clearing account (how far the other community may go
 * into debt to this one); a prepare holds the paying member's minutes, with
 * at most TB_XOPEN_MAX open toward one community; a decision credits the
 * provider and debits the clearing account within the trust line, or
 * records a refusal, at most once per prepare (payer log and txid) and
 * whatever the txids of this log's other entries; a final leg ends an open
 * hold. An exchange's record (XLEGS) counts a decision only from the log the
 * prepare names, on that prepare: a decision anywhere else is a valid entry
 * of its own log that changes nothing for the exchange (verification reports
 * it, xverify.c). Whether a final leg matches the decision is checked across
 * logs by verification, not here. Checks come before writes.
 */
#include "store_int.h"

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

static void short_id(char out[17], const uint8_t *id)
{
	tb_hex_encode(out, id, 8);
}

int tb_xrule_link(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		  struct tb_reject *rej)
{
	const struct tb_link *l = &e->body.link;
	if (!memcmp(l->community, e->log_id, TB_KEY_LEN))
		return REJ(TB_ELINK, "a community cannot have a trust line to itself");
	struct tb_clearing c;
	int err = tb_clearing_get(t, lognum, l->community, &c);
	if (err && err != TB_ENOTFOUND)
		return err;
	c.linked = true;
	c.limit = l->limit;
	tb_clearing_put(t, lognum, &c);
	return t->ret;
}

/* The clearing account of a linked community, or a refusal. */
static int linked(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e, const uint8_t *other,
		  struct tb_clearing *c, struct tb_reject *rej)
{
	int err = tb_clearing_get(t, lognum, other, c);
	if (err && err != TB_ENOTFOUND)
		return err;
	if (err || !c->linked) {
		char id[17];
		short_id(id, other);
		return REJ(TB_ELINK, "no trust line with community %s", id);
	}
	return 0;
}

int tb_xrule_prepare(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		     struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej)
{
	const struct tb_xprepare *x = &e->body.xprepare;
	struct tb_member m;
	struct tb_clearing c;
	int err;
	if (!memcmp(x->to_log, e->log_id, TB_KEY_LEN))
		return REJ(TB_ELINK, "a cross-community exchange must go to another community");
	if ((err = tb_rule_active_member(t, lognum, e, x->member, &m, rej)) ||
	    (err = tb_rule_date(e, x->date, rej)))
		return err;
	if (x->expires <= e->timestamp)
		return REJ(TB_EEXPIRED, "the prepare expires before it was recorded");
	if ((err = linked(t, lognum, e, x->to_log, &c, rej)) ||
	    (err = tb_rule_txid_fresh(t, lognum, e, x->txid, rej)))
		return err;
	if (c.open >= TB_XOPEN_MAX) {
		char id[17];
		short_id(id, x->to_log);
		return REJ(TB_EOPEN,
			   "%llu exchanges toward community %s are open already, the most allowed: "
			   "wait until they are decided",
			   (unsigned long long)c.open, id);
	}
	if (x->attested) {
		if (x->member_sig.len)
			return REJ(TB_ECONSENT, "an attested entry carries no member signature");
	} else if (x->member_sig.len != TB_SIGLEN) {
		return REJ(TB_ECONSENT,
			   "needs the paying member's signature or the coordinator's attestation");
	}
	int64_t avail = m.balance - m.held - (int64_t)x->minutes;
	if (avail < m.floor) {
		char a[32], b[32];
		tb_fmt_hours(a, sizeof a, avail);
		tb_fmt_hours(b, sizeof b, m.floor);
		return REJ(TB_EFLOOR,
			   "%s's balance would be %s hours, below the debt limit of %s hours",
			   m.name, a, b);
	}
	if (!x->attested) {
		struct tb_xprepare_terms terms;
		tb_xprepare_terms_of(&terms, e->log_id, x);
		if ((err = tb_rule_queue_terms(jobs, owner, TB_CTX_XPREPARE, &tb_def_xprepare_terms,
					       &terms, m.key, x->member_sig, NULL,
					       (struct tb_view){0})))
			return err;
	}
	struct tb_xleg l;
	if ((err = tb_xleg_get(t, e->log_id, x->txid, &l)) && err != TB_ENOTFOUND)
		return err;
	m.held += (int64_t)x->minutes;
	tb_member_put(t, lognum, &m);
	c.held += (int64_t)x->minutes;
	c.open++;
	tb_clearing_put(t, lognum, &c);
	tb_rule_txid_put(t, lognum, x->txid, e->seq, 0);
	l.prepare_seq = e->seq;
	memcpy(l.provider, x->to_log, TB_KEY_LEN);
	l.minutes = x->minutes;
	l.expires = x->expires;
	/* The provider's log may have been applied first: its decision counts
	 * if it answers this prepare. */
	struct tb_logstate pl;
	struct tb_xdecided d;
	if (!(err = tb_logstate_get(t, x->to_log, &pl)) &&
	    !(err = tb_xdecided_get(t, pl.lognum, e->log_id, x->txid, &d)) &&
	    d.from_seq == e->seq && d.minutes == x->minutes) {
		l.decide_seq = d.seq;
		memcpy(l.decider, x->to_log, TB_KEY_LEN);
		l.outcome = d.outcome;
	}
	if (err && err != TB_ENOTFOUND)
		return err;
	tb_xleg_put(t, &l);
	return t->ret;
}

/* A decision is unique per prepare (payer log and txid) in a log. */
static int decision_fresh(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			  struct tb_reject *rej)
{
	const struct tb_xdecide *x = &e->body.xdecide;
	struct tb_xdecided d;
	int err = tb_xdecided_get(t, lognum, x->from_log, x->txid, &d);
	if (err == TB_ENOTFOUND)
		return 0;
	if (err)
		return err;
	char id[17];
	short_id(id, x->from_log);
	return REJ(TB_EDUPTX,
		   "this community already decided that prepare of community %s, at entry %llu", id,
		   (unsigned long long)d.seq);
}

/* Writes what every decision records: the decision itself, its txid for
 * lookups when the log has no entry with it yet, and the exchange's record
 * when the prepare held names this log and is the one decided. */
static int decision_record(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e)
{
	const struct tb_xdecide *x = &e->body.xdecide;
	struct tb_reject scratch;
	int err = tb_rule_txid_fresh(t, lognum, e, x->txid, &scratch);
	if (!err)
		tb_rule_txid_put(t, lognum, x->txid, e->seq, 0);
	else if (err != TB_EDUPTX)
		return err;
	struct tb_xdecided d = {e->seq, x->from_seq, x->minutes, (uint8_t)x->outcome};
	tb_xdecided_put(t, lognum, x->from_log, x->txid, &d);
	struct tb_xleg l;
	if ((err = tb_xleg_get(t, x->from_log, x->txid, &l)) == TB_ENOTFOUND)
		return t->ret; /* the prepare is not held (yet) */
	if (err)
		return err;
	/* Only the provider's decision counts, or a refusal by the log that
	 * validly succeeds the provider's forked log (PROTOCOL.md 12.6). */
	bool by_provider = !memcmp(l.provider, e->log_id, TB_KEY_LEN);
	if (l.prepare_seq && !l.decide_seq && l.prepare_seq == x->from_seq &&
	    l.minutes == x->minutes &&
	    (by_provider ||
	     (x->outcome != TB_XO_COMMITTED && tb_succeeds(t, e->log_id, l.provider)))) {
		l.decide_seq = e->seq;
		memcpy(l.decider, e->log_id, TB_KEY_LEN);
		l.outcome = (uint8_t)x->outcome;
		tb_xleg_put(t, &l);
	}
	return t->ret;
}

int tb_xrule_decide(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		    struct tb_reject *rej)
{
	const struct tb_xdecide *x = &e->body.xdecide;
	int err;
	if (!memcmp(x->from_log, e->log_id, TB_KEY_LEN))
		return REJ(TB_ELINK, "a decision must answer another community's prepare");
	if (!tb_rule_valid_date(x->date))
		return REJ(TB_EDATE, "%llu is not a valid date (YYYYMMDD)",
			   (unsigned long long)x->date);
	if ((err = decision_fresh(t, lognum, e, rej)))
		return err;
	struct tb_member m;
	struct tb_clearing c;
	if (x->outcome == 0) {
		if ((err = linked(t, lognum, e, x->from_log, &c, rej)) ||
		    (err = tb_rule_active_member(t, lognum, e, x->member, &m, rej)))
			return err;
		if (strlen(m.name) != x->to_name.len ||
		    memcmp(m.name, x->to_name.p, x->to_name.len))
			return REJ(TB_EMEMBER,
				   "credits member %llu (%s), not %.*s named by the prepare",
				   (unsigned long long)x->member, m.name, (int)x->to_name.len,
				   (const char *)x->to_name.p);
		if (e->timestamp >= x->expires)
			return REJ(
				TB_EEXPIRED, "committed at %llu, after the prepare expired at %llu",
				(unsigned long long)e->timestamp, (unsigned long long)x->expires);
		char a[32], b[32];
		int64_t nb = c.balance - (int64_t)x->minutes;
		if (nb < -(int64_t)c.limit) {
			tb_fmt_hours(a, sizeof a, -nb);
			tb_fmt_hours(b, sizeof b, (int64_t)c.limit);
			return REJ(
				TB_ETRUST,
				"the other community would owe %s hours, over the trust limit of %s hours",
				a, b);
		}
		int64_t pb = m.balance + (int64_t)x->minutes;
		if (m.ceiling && pb > (int64_t)m.ceiling) {
			tb_fmt_hours(a, sizeof a, pb);
			tb_fmt_hours(b, sizeof b, (int64_t)m.ceiling);
			return REJ(TB_ECEILING,
				   "%s's balance would be %s hours, above the ceiling of %s hours",
				   m.name, a, b);
		}
	}
	if (x->outcome == 0) {
		m.balance += (int64_t)x->minutes;
		tb_member_put(t, lognum, &m);
		tb_rule_history_put(t, lognum, m.no, e->seq, (int64_t)x->minutes, m.balance);
		c.balance -= (int64_t)x->minutes;
		c.exchanges++;
		tb_clearing_put(t, lognum, &c);
	}
	return decision_record(t, lognum, e);
}

int tb_xrule_final(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		   struct tb_reject *rej)
{
	const struct tb_xfinal *x = &e->body.xfinal;
	struct tb_xleg l;
	int err = tb_xleg_get(t, e->log_id, x->txid, &l);
	if (err && err != TB_ENOTFOUND)
		return err;
	if (err || !l.prepare_seq)
		return REJ(TB_ENOTX, "no prepare with that transaction id in this log");
	if (l.final_seq)
		return REJ(TB_EDUPTX, "the exchange was already finished by entry %llu",
			   (unsigned long long)l.final_seq);
	/* The member and amount come from the prepare itself. */
	uint8_t ek[TB_ENTRY_KEY_LEN];
	tb_entry_key(ek, lognum, l.prepare_seq);
	struct tb_view rec;
	struct tb_entry p;
	if ((err = tb_txn_get(t, TB_T_ENTRIES, ek, sizeof ek, &rec)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (tb_entry_decode(&p, rec.p, rec.len) || p.kind != TB_KIND_XPREPARE)
		return TB_ECORRUPT;
	const struct tb_xprepare *xp = &p.body.xprepare;
	struct tb_member m;
	struct tb_clearing c;
	if ((err = tb_member_get(t, lognum, (uint32_t)xp->member, &m)) ||
	    (err = tb_clearing_get(t, lognum, xp->to_log, &c)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (!c.open)
		return TB_ECORRUPT;
	int64_t mins = (int64_t)xp->minutes;
	m.held -= mins;
	c.held -= mins;
	c.open--;
	if (x->outcome == 0) {
		m.balance -= mins;
		tb_rule_history_put(t, lognum, m.no, e->seq, -mins, m.balance);
		c.balance += mins;
		c.exchanges++;
	}
	tb_member_put(t, lognum, &m);
	tb_clearing_put(t, lognum, &c);
	l.final_seq = e->seq;
	l.final_outcome = (uint8_t)x->outcome;
	tb_xleg_put(t, &l);
	return t->ret;
}
