/*
 * rules.c: the ledger rules, one function per entry kind, shared by ingest,
 * the command line, reindex and verification.
 *
 * Given an entry whose encoding, seq and prev are already checked, decide
 * whether it is allowed by the state its log reached (genesis first and only
 * first; members numbered in order with unique active names and keys;
 * exchanges between two different active members within both limits, with
 * fresh transaction ids and either both members' signatures or the
 * coordinator's attestation; reversals of an existing, not yet reversed
 * exchange with the same consent) and apply it to the derived indexes.
 * Refusals name the rule and, for limits, the limit. This file must never
 * write an entry, and never accept an entry it has not fully checked.
 */
#include "store_int.h"

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

static int rule_genesis(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			struct tb_reject *rej)
{
	const struct tb_genesis *g = &e->body.genesis;
	if (e->seq != 1)
		return REJ(TB_EGENESIS, "a genesis entry may only be entry 1");
	struct tb_community c = {0};
	memcpy(c.name, g->name.p, g->name.len);
	c.floor = g->floor;
	c.ceiling = g->ceiling;
	tb_community_put(t, lognum, &c);
	return 0;
}

static int rule_member_join(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			    struct tb_reject *rej)
{
	const struct tb_member_join *j = &e->body.member_join;
	struct tb_community c;
	int err = tb_community_get(t, lognum, &c);
	if (err == TB_ENOTFOUND)
		return REJ(TB_EGENESIS, "the log has no genesis entry");
	if (err)
		return err;
	if (j->member != (uint64_t)c.members + 1)
		return REJ(TB_EMEMBER, "new member must have number %u, not %llu", c.members + 1,
			   (unsigned long long)j->member);
	if ((err = tb_rule_name(t, lognum, e, j->name, 0, rej)))
		return err;
	struct tb_member other;
	if ((err = tb_key_in_use(t, lognum, j->key, &other)) < 0)
		return err;
	if (err)
		return REJ(TB_EEXISTS, "that key already belongs to member %s", other.name);
	struct tb_member m = {0};
	m.no = (uint32_t)j->member;
	memcpy(m.name, j->name.p, j->name.len);
	memcpy(m.key, j->key, TB_KEY_LEN);
	m.floor = j->floor;
	m.ceiling = j->ceiling;
	m.active = true;
	m.joined_seq = e->seq;
	tb_member_put(t, lognum, &m);
	tb_names_exact(t, lognum, m.name, m.no, true);
	tb_name_index(t, lognum, m.name, m.no, true);
	c.members++;
	c.active++;
	tb_community_put(t, lognum, &c);
	return 0;
}

static int rule_member_key(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			   struct tb_reject *rej)
{
	const struct tb_member_key *mk = &e->body.member_key;
	struct tb_member m, other;
	int err = tb_rule_active_member(t, lognum, e, mk->member, &m, rej);
	if (err)
		return err;
	if (tb_key_is_none(mk->key))
		return REJ(TB_EINVAL, "a key cannot be replaced by no key");
	if ((err = tb_key_in_use(t, lognum, mk->key, &other)) < 0)
		return err;
	if (err)
		return REJ(TB_EEXISTS, "that key already belongs to member %s", other.name);
	memcpy(m.key, mk->key, TB_KEY_LEN);
	tb_member_put(t, lognum, &m);
	return 0;
}

static int rule_member_left(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			    struct tb_reject *rej)
{
	struct tb_member m;
	int err = tb_rule_active_member(t, lognum, e, e->body.member_left.member, &m, rej);
	if (err)
		return err;
	m.active = false;
	tb_member_put(t, lognum, &m);
	tb_names_exact(t, lognum, m.name, m.no, false);
	tb_name_index(t, lognum, m.name, m.no, false);
	struct tb_community c;
	if ((err = tb_community_get(t, lognum, &c)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	c.active--;
	tb_community_put(t, lognum, &c);
	return 0;
}

/* Checks that moving `minutes` from receiver to provider keeps both within
 * their limits. */
static int check_limits(const struct tb_entry *e, const struct tb_member *prov,
			const struct tb_member *recv, int64_t minutes, struct tb_reject *rej)
{
	char a[32], b[32];
	/* Minutes held by open cross-community prepares are already spoken
	 * for: the final leg takes them without another floor check. */
	int64_t pb = prov->balance + minutes, rb = recv->balance - recv->held - minutes;
	if (recv->no != TB_COMMUNITY_ACCOUNT && rb < recv->floor) {
		tb_fmt_hours(a, sizeof a, rb);
		tb_fmt_hours(b, sizeof b, recv->floor);
		return REJ(TB_EFLOOR,
			   "%s's balance would be %s hours, below the debt limit of %s hours",
			   recv->name, a, b);
	}
	if (prov->ceiling && pb > (int64_t)prov->ceiling) {
		tb_fmt_hours(a, sizeof a, pb);
		tb_fmt_hours(b, sizeof b, (int64_t)prov->ceiling);
		return REJ(TB_ECEILING,
			   "%s's balance would be %s hours, above the ceiling of %s hours",
			   prov->name, a, b);
	}
	return 0;
}

static int check_consent(const struct tb_entry *e, uint64_t attested, struct tb_view ps,
			 struct tb_view rs, struct tb_reject *rej)
{
	if (attested) {
		if (ps.len || rs.len)
			return REJ(TB_ECONSENT, "an attested entry carries no member signatures");
		return 0;
	}
	if (ps.len != TB_SIGLEN || rs.len != TB_SIGLEN)
		return REJ(TB_ECONSENT,
			   "needs the signatures of both members or the coordinator's attestation");
	return 0;
}

/* Members who cannot sign (the community account, keyless members) take
 * part only in attested entries. */
static int check_signers(const struct tb_entry *e, uint64_t attested, const struct tb_member *a,
			 const struct tb_member *b, struct tb_reject *rej)
{
	const struct tb_member *who[2] = {a, b};

	for (int i = 0; !attested && i < 2; i++) {
		if (who[i]->no == TB_COMMUNITY_ACCOUNT)
			return REJ(TB_ECONSENT, "the community account's exchanges are attested "
						"by the coordinator");
		if (tb_key_is_none(who[i]->key))
			return REJ(TB_ECONSENT, "%s has no key: the exchange must be attested",
				   who[i]->name);
	}
	return 0;
}

/* An active member, or the community account for number 0. */
static int party(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e, uint64_t no,
		 struct tb_member *m, struct tb_reject *rej)
{
	if (no == TB_COMMUNITY_ACCOUNT)
		return tb_rule_account(t, lognum, no, m);
	return tb_rule_active_member(t, lognum, e, no, m, rej);
}

/* Moves minutes from receiver to provider (negative: back) and records it. */
static int transfer(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		    struct tb_member *prov, struct tb_member *recv, int64_t minutes)
{
	prov->balance += minutes;
	recv->balance -= minutes;
	tb_member_put(t, lognum, prov);
	tb_member_put(t, lognum, recv);
	tb_rule_history_put(t, lognum, prov->no, e->seq, minutes, prov->balance);
	tb_rule_history_put(t, lognum, recv->no, e->seq, -minutes, recv->balance);
	struct tb_community c;
	int err = tb_community_get(t, lognum, &c);
	if (err)
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (minutes > 0) {
		c.exchanges++;
		c.minutes += (uint64_t)minutes;
	} else {
		c.reversals++;
		c.minutes -= (uint64_t)-minutes;
	}
	tb_community_put(t, lognum, &c);
	return 0;
}

static int rule_exchange(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			 struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej)
{
	const struct tb_exchange *x = &e->body.exchange;
	struct tb_member prov, recv;
	int err;
	if (x->provider == x->receiver)
		return REJ(TB_ESELF, "provider and receiver are the same member");
	if ((err = party(t, lognum, e, x->provider, &prov, rej)) ||
	    (err = party(t, lognum, e, x->receiver, &recv, rej)) ||
	    (err = tb_rule_date(e, x->date, rej)))
		return err;
	if ((err = tb_rule_txid_fresh(t, lognum, e, x->txid, rej)) ||
	    (err = check_consent(e, x->attested, x->provider_sig, x->receiver_sig, rej)) ||
	    (err = check_signers(e, x->attested, &prov, &recv, rej)) ||
	    (err = check_limits(e, &prov, &recv, (int64_t)x->minutes, rej)))
		return err;
	if (!x->attested) {
		struct tb_exchange_terms terms;
		tb_exchange_terms_of(&terms, e->log_id, x);
		if ((err = tb_rule_queue_terms(jobs, owner, TB_CTX_EXCHANGE, &tb_def_exchange_terms,
					       &terms, prov.key, x->provider_sig, recv.key,
					       x->receiver_sig)))
			return err;
	}
	tb_rule_txid_put(t, lognum, x->txid, e->seq, 0);
	return transfer(t, lognum, e, &prov, &recv, (int64_t)x->minutes);
}

static int rule_reversal(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			 struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej)
{
	const struct tb_reversal *r = &e->body.reversal;
	uint8_t k[TB_TXID_KEY_LEN];
	tb_txid_key(k, lognum, r->original);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_TXIDS, k, sizeof k, &v);
	if (err == TB_ENOTFOUND)
		return REJ(TB_ENOTX, "no exchange with the transaction id to reverse");
	if (err)
		return err;
	uint64_t oseq, by;
	if (tb_txid_unpack(v, &oseq, &by))
		return TB_ECORRUPT;
	if (by)
		return REJ(TB_EREVERSED, "that exchange was already reversed by entry %llu",
			   (unsigned long long)by);
	if ((err = tb_rule_txid_fresh(t, lognum, e, r->txid, rej)) ||
	    (err = check_consent(e, r->attested, r->provider_sig, r->receiver_sig, rej)))
		return err;

	uint8_t ek[TB_ENTRY_KEY_LEN];
	tb_entry_key(ek, lognum, oseq);
	struct tb_view rec;
	struct tb_entry orig;
	if ((err = tb_txn_get(t, TB_T_ENTRIES, ek, sizeof ek, &rec)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (tb_entry_decode(&orig, rec.p, rec.len))
		return TB_ECORRUPT;
	if (orig.kind != TB_KIND_EXCHANGE)
		return REJ(TB_ENOTX, "entry %llu is not an exchange", (unsigned long long)oseq);
	const struct tb_exchange *x = &orig.body.exchange;
	if (r->attested != x->attested)
		return REJ(TB_ECONSENT, "a reversal needs the same consent as its exchange (%s)",
			   x->attested ? "the coordinator's attestation"
				       : "both members' signatures");
	struct tb_member prov, recv;
	if ((err = tb_member_get(t, lognum, (uint32_t)x->provider, &prov)) ||
	    (err = tb_member_get(t, lognum, (uint32_t)x->receiver, &recv)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	/* Undoing is an exchange the other way round: same limits. */
	if ((err = check_limits(e, &recv, &prov, (int64_t)x->minutes, rej)))
		return err;
	if (!r->attested) {
		struct tb_reversal_terms terms;
		tb_reversal_terms_of(&terms, e->log_id, r);
		if ((err = tb_rule_queue_terms(jobs, owner, TB_CTX_REVERSAL, &tb_def_reversal_terms,
					       &terms, prov.key, r->provider_sig, recv.key,
					       r->receiver_sig)))
			return err;
	}
	tb_rule_txid_put(t, lognum, x->txid, oseq, e->seq);
	tb_rule_txid_put(t, lognum, r->txid, e->seq, 0);
	return transfer(t, lognum, e, &prov, &recv, -(int64_t)x->minutes);
}

static int apply(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		 struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej);

void tb_audit_report(const struct tb_audit_sink *a, struct tb_reject *rej)
{
	a->fn(a->ctx, rej);
	memset(rej, 0, sizeof *rej);
}

int tb_rules_apply(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		   struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej)
{
	int err = apply(t, lognum, e, jobs, owner, rej);
	/* In an audit a broken rule is reported and the entry has no effect
	 * (its checks come before its writes); storage errors still stop. */
	if (err && jobs->audit && !t->ret && rej) {
		tb_audit_report(jobs->audit, rej);
		return 0;
	}
	return err;
}

static int apply(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		 struct tb_sigjobs *jobs, size_t owner, struct tb_reject *rej)
{
	if (e->seq == 1 && e->kind != TB_KIND_GENESIS)
		return REJ(TB_EGENESIS, "entry 1 of a log must be its genesis");
	int err = TB_EKIND;
	switch ((enum tb_kind)e->kind) {
	case TB_KIND_GENESIS:
		err = rule_genesis(t, lognum, e, rej);
		break;
	case TB_KIND_MEMBER_JOIN:
		err = rule_member_join(t, lognum, e, rej);
		break;
	case TB_KIND_MEMBER_KEY:
		err = rule_member_key(t, lognum, e, rej);
		break;
	case TB_KIND_MEMBER_LEFT:
		err = rule_member_left(t, lognum, e, rej);
		break;
	case TB_KIND_EXCHANGE:
		err = rule_exchange(t, lognum, e, jobs, owner, rej);
		break;
	case TB_KIND_REVERSAL:
		err = rule_reversal(t, lognum, e, jobs, owner, rej);
		break;
	case TB_KIND_LINK:
		err = tb_xrule_link(t, lognum, e, rej);
		break;
	case TB_KIND_XPREPARE:
		err = tb_xrule_prepare(t, lognum, e, jobs, owner, rej);
		break;
	case TB_KIND_XDECIDE:
		err = tb_xrule_decide(t, lognum, e, rej);
		break;
	case TB_KIND_XFINAL:
		err = tb_xrule_final(t, lognum, e, rej);
		break;
	case TB_KIND_ADMIT:
		err = tb_rule_admit(t, lognum, e, rej);
		break;
	case TB_KIND_MEMBER_UPDATE:
		err = tb_rule_member_update(t, lognum, e, rej);
		break;
	case TB_KIND_OPENING:
		err = tb_rule_opening(t, lognum, e, rej);
		break;
	case TB_KIND_SUCCESSION:
		err = tb_rule_succession(t, lognum, e, rej);
		break;
	}
	if (err == TB_EKIND)
		return REJ(TB_EKIND, "unknown entry kind %llu", (unsigned long long)e->kind);
	if (err && rej && rej->err != err)
		tb_reject_set(rej, err, e->log_id, e->seq, "%s", tb_strerror(err));
	return err ? err : t->ret;
}
