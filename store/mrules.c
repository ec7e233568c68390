/*
 * mrules.c: the ledger rules of members over time (FORMAT.md 7.4 and 7.9):
 * the name rule every join, rename and reinstatement passes (NFC, nothing
 * invisible, no spaces at the edges, and no active member with the same
 * name by case-insensitive or confusable comparison, tb_text.h), the index
 * of name keys that makes that check one lookup, member updates (rename,
 * limits, reinstatement), opening balances, and the community account
 * (member 0). Like rules.c it checks everything before it writes anything,
 * and never writes an entry.
 */
#include "store_int.h"

#include "tb_crypto.h"
#include "tb_text.h"

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

#define NK_LEN TB_NAMEKEY_KEY_LEN

static int name_keys(uint8_t out[TB_TEXT_KEYS][NK_LEN], uint32_t lognum, const char *name,
		     size_t len)
{
	char k[TB_TEXT_KEY_MAX];
	size_t n;

	for (unsigned i = 0; i < TB_TEXT_KEYS; i++) {
		int err = tb_text_key(k, sizeof k, &n, i, name, len);

		if (err)
			return err;
		uint8_t h[TB_HASHLEN];
		tb_sha256(h, (const uint8_t *)k, n);
		tb_namekey_key(out[i], lognum, h);
	}
	return 0;
}

void tb_name_index(struct tb_txn *t, uint32_t lognum, const char *name, uint32_t no, bool put)
{
	uint8_t nk[TB_TEXT_KEYS][NK_LEN], v[4];

	/* The name passed tb_rule_name when it was recorded: a key that cannot
	 * be computed now means the stored record is not what was checked. */
	if (name_keys(nk, lognum, name, strlen(name))) {
		if (!t->ret)
			t->ret = TB_ECORRUPT;
		return;
	}
	tb_be32_put(v, no);
	for (unsigned i = 0; i < TB_TEXT_KEYS; i++) {
		if (put)
			tb_txn_put(t, TB_T_NAMEKEYS, nk[i], NK_LEN, v, 4);
		else
			tb_txn_del(t, TB_T_NAMEKEYS, nk[i], NK_LEN);
	}
}

int tb_name_lookup(struct tb_txn *t, uint32_t lognum, const char *name, size_t len, uint32_t *no)
{
	uint8_t nk[TB_TEXT_KEYS][NK_LEN];
	int err = name_keys(nk, lognum, name, len);

	for (unsigned i = 0; !err && i < TB_TEXT_KEYS; i++) {
		struct tb_view v;

		err = tb_txn_get(t, TB_T_NAMEKEYS, nk[i], NK_LEN, &v);
		if (err == 0) {
			if (v.len != 4)
				return TB_ECORRUPT;
			*no = tb_be32_get(v.p);
			return 0;
		}
		if (err == TB_ENOTFOUND && i + 1 < TB_TEXT_KEYS)
			err = 0;
	}
	return err;
}

int tb_store_name_usable(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], const char *name,
			 struct tb_reject *rej)
{
	struct tb_entry e = {0};
	struct tb_txn t;
	uint32_t lognum;
	memcpy(e.log_id, log_id, TB_KEY_LEN);
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err)
		err = tb_rule_name(&t, lognum, &e,
				   (struct tb_view){(const uint8_t *)name, strlen(name)}, 0, rej);
	tb_txn_abort(&t);
	return err;
}

int tb_rule_name(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e, struct tb_view name,
		 uint32_t self, struct tb_reject *rej)
{
	struct tb_text_verdict v;
	const char *s = (const char *)name.p;
	int len = (int)name.len, err = tb_text_check_name(&v, s, name.len);
	uint32_t other;
	struct tb_member m;

	if (err == TB_ENAME || err == TB_EUTF8) {
		if (v.cp)
			return REJ(TB_ENAME, "the name %.*s %s (U+%04X at byte %zu)", len, s,
				   tb_text_flaw_str(v.flaw), (unsigned)v.cp, v.offset);
		return REJ(TB_ENAME, "the name %.*s %s", len, s, tb_text_flaw_str(v.flaw));
	}
	if (err)
		return err;
	if ((err = tb_text_same_name(s, name.len, TB_ACCOUNT_NAME, strlen(TB_ACCOUNT_NAME))) < 0)
		return err;
	if (err)
		return REJ(TB_ENAME, "the name %.*s is reserved for the community account", len, s);
	err = tb_name_lookup(t, lognum, s, name.len, &other);
	if (err == TB_ENOTFOUND || (err == 0 && other == self))
		return 0;
	if (err)
		return err;
	if ((err = tb_member_get(t, lognum, other, &m)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	return REJ(TB_ENAME, "the name %.*s is too like the name of member #%u, %s", len, s, m.no,
		   m.name);
}

int tb_rule_member_update(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
			  struct tb_reject *rej)
{
	const struct tb_member_update *u = &e->body.member_update;
	struct tb_member m, other;
	struct tb_community c;
	int err = tb_member_get(t, lognum, (uint32_t)u->member, &m);

	if (err == TB_ENOTFOUND)
		return REJ(TB_EMEMBER, "no member number %llu", (unsigned long long)u->member);
	if (err)
		return err;
	if (!m.active && !u->reinstate)
		return REJ(TB_ELEFT, "member %s has left the community (reinstate first)", m.name);
	if (m.active && u->reinstate)
		return REJ(TB_EEXISTS, "member %s is active: nothing to reinstate", m.name);
	if ((err = tb_rule_name(t, lognum, e, u->name, m.no, rej)))
		return err;
	if (u->reinstate && !tb_key_is_none(m.key)) {
		if ((err = tb_key_in_use(t, lognum, m.key, &other)) < 0)
			return err;
		if (err)
			return REJ(TB_EEXISTS, "%s's key now belongs to member %s", m.name,
				   other.name);
	}
	if ((err = tb_community_get(t, lognum, &c)))
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (m.active)
		tb_name_index(t, lognum, m.name, m.no, false);
	tb_names_exact(t, lognum, m.name, m.no, false);
	memset(m.name, 0, sizeof m.name);
	memcpy(m.name, u->name.p, u->name.len);
	m.floor = u->floor;
	m.ceiling = u->ceiling;
	if (u->reinstate) {
		m.active = true;
		c.active++;
		tb_community_put(t, lognum, &c);
	}
	tb_name_index(t, lognum, m.name, m.no, true);
	tb_names_exact(t, lognum, m.name, m.no, true);
	tb_member_put(t, lognum, &m);
	return 0;
}

int tb_rule_opening(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		    struct tb_reject *rej)
{
	const struct tb_opening *o = &e->body.opening;
	struct tb_member m, acct;
	int err;

	if ((err = tb_rule_active_member(t, lognum, e, o->member, &m, rej)) ||
	    (err = tb_rule_date(e, o->date, rej)) ||
	    (err = tb_rule_txid_fresh(t, lognum, e, o->txid, rej)))
		return err;
	if (o->minutes == 0)
		return REJ(TB_EAMOUNT, "an opening balance of 0 minutes changes nothing");
	if ((err = tb_rule_account(t, lognum, TB_COMMUNITY_ACCOUNT, &acct)))
		return err;
	/* An opening balance states the past: no limit applies to it. */
	m.balance += o->minutes;
	acct.balance -= o->minutes;
	tb_member_put(t, lognum, &m);
	tb_member_put(t, lognum, &acct);
	tb_rule_history_put(t, lognum, m.no, e->seq, o->minutes, m.balance);
	tb_rule_history_put(t, lognum, acct.no, e->seq, -o->minutes, acct.balance);
	tb_rule_txid_put(t, lognum, o->txid, e->seq, 0);
	return 0;
}
