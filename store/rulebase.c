/*
 * rulebase.c: what every file of the ledger rules uses (rules.c for the
 * kinds within a community, mrules.c for members over time, xrules.c for the
 * cross-community legs): dates, member lookups, the member-signature queue,
 * the key scan, the history and transaction-id indexes and the community
 * account. It calls none of those files, so the rules form no circle: each
 * rules file calls down into this one, and only rules.c (the dispatcher)
 * calls the other two.
 */
#include "store_int.h"

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

int tb_rule_valid_date(uint64_t d)
{
	unsigned y = (unsigned)(d / 10000), m = (unsigned)(d / 100 % 100),
		 day = (unsigned)(d % 100);
	static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || m < 1 || m > 12 || day < 1)
		return 0;
	unsigned max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return day <= max;
}

/* The day (YYYYMMDD, proleptic Gregorian, UTC) of unix time ts. */
uint64_t tb_rule_day_of(uint64_t ts)
{
	/* Howard Hinnant's civil_from_days. */
	int64_t z = (int64_t)(ts / 86400) + 719468;
	int64_t era = z / 146097, doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	y += m <= 2;
	return (uint64_t)(y * 10000 + m * 100 + d);
}

int tb_rule_date(const struct tb_entry *e, uint64_t date, struct tb_reject *rej)
{
	uint64_t latest = tb_rule_day_of(e->timestamp + TB_DATE_AHEAD);

	if (!tb_rule_valid_date(date))
		return REJ(TB_EDATE, "%llu is not a valid date (YYYYMMDD)",
			   (unsigned long long)date);
	/* Against the entry's own signed timestamp, never the verifier's
	 * clock: a verdict that does not change with the day it is made. */
	if (date > latest)
		return REJ(TB_EDATE,
			   "the date %llu is after %llu, the day after the entry was recorded",
			   (unsigned long long)date, (unsigned long long)latest);
	return 0;
}

int tb_rule_queue_terms(struct tb_sigjobs *jobs, size_t owner, enum tb_sigctx ctx,
			const struct tb_msgdef *d, const void *terms, const uint8_t *k1,
			struct tb_view s1, const uint8_t *k2, struct tb_view s2)
{
	int nsig = k2 ? 2 : 1;
	if (jobs->n + (size_t)nsig > jobs->cap)
		return TB_EFULL;
	size_t len;
	int err = tb_terms_encode(jobs->arena + jobs->arena_len, jobs->arena_cap - jobs->arena_len,
				  &len, d, terms);
	if (err)
		return err == TB_ETOOBIG ? TB_EFULL : err;
	const uint8_t *msg = jobs->arena + jobs->arena_len;
	jobs->arena_len += len;
	/* The keys live in the caller's stack: the jobs run later, so they
	 * point at copies in the arena. */
	if (jobs->arena_cap - jobs->arena_len < 2 * TB_KEY_LEN)
		return TB_EFULL;
	uint8_t *kcopy = jobs->arena + jobs->arena_len;
	memcpy(kcopy, k1, TB_KEY_LEN);
	if (k2)
		memcpy(kcopy + TB_KEY_LEN, k2, TB_KEY_LEN);
	jobs->arena_len += 2 * TB_KEY_LEN;
	const uint8_t *keys[2] = {kcopy, kcopy + TB_KEY_LEN};
	const struct tb_view sigs[2] = {s1, s2};
	for (int i = 0; i < nsig; i++) {
		struct tb_verify_job *j = &jobs->jobs[jobs->n];
		j->sig = sigs[i].p;
		j->pk = keys[i];
		j->msg = msg;
		j->len = len;
		j->ctx = ctx;
		j->result = 0;
		jobs->owner[jobs->n++] = owner;
	}
	return 0;
}

int tb_rule_active_member(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e, uint64_t no,
			  struct tb_member *m, struct tb_reject *rej)
{
	int err = tb_member_get(t, lognum, (uint32_t)no, m);
	if (err == TB_ENOTFOUND)
		return REJ(TB_EMEMBER, "no member number %llu", (unsigned long long)no);
	if (err)
		return err;
	if (!m->active)
		return REJ(TB_ELEFT, "member %s has left the community", m->name);
	return 0;
}

void tb_names_exact(struct tb_txn *t, uint32_t lognum, const char *name, uint32_t no, bool put)
{
	uint8_t k[TB_NAME_KEY_MAX], v[4];
	size_t klen = tb_name_key(k, lognum, name, strlen(name));

	tb_be32_put(v, no);
	if (put)
		tb_txn_put(t, TB_T_NAMES, k, klen, v, 4);
	else
		tb_txn_del(t, TB_T_NAMES, k, klen);
}

bool tb_key_is_none(const uint8_t key[TB_KEY_LEN])
{
	uint8_t acc = 0;

	for (size_t i = 0; i < TB_KEY_LEN; i++)
		acc |= key[i];
	return acc == 0;
}

struct key_scan {
	const uint8_t *key;
	struct tb_member *who;
};

static int key_scan_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct key_scan *ks = ctx;
	if (k.len != TB_MEMBER_KEY_LEN)
		return TB_ECORRUPT;
	struct tb_member m;
	int err = tb_member_unpack(&m, tb_be32_get(k.p + 4), v);
	if (err)
		return err;
	if (m.active && !tb_key_is_none(m.key) && !memcmp(m.key, ks->key, TB_KEY_LEN)) {
		*ks->who = m;
		return 1;
	}
	return 0;
}

/* 1 if an active member holds key (and *who is it), 0 if none, or an error.
 * Keyless members (no key) hold none. Communities have at most a few
 * thousand members, and keys change rarely: a scan keeps the schema small. */
int tb_key_in_use(struct tb_txn *t, uint32_t lognum, const uint8_t *key, struct tb_member *who)
{
	uint8_t prefix[TB_LOG_PREFIX_LEN];
	tb_log_prefix(prefix, lognum);
	struct key_scan ks = {key, who};
	return tb_txn_foreach(t, TB_T_MEMBERS, prefix, sizeof prefix, NULL, 0, key_scan_cb, &ks);
}

void tb_rule_history_put(struct tb_txn *t, uint32_t lognum, uint32_t member, uint64_t seq,
			 int64_t delta, int64_t balance)
{
	uint8_t k[TB_MEMBER_KEY_LEN], v[TB_HISTORY_VAL_LEN];
	tb_member_key(k, lognum, member);
	tb_be64_put(v, seq);
	tb_be64_put(v + 8, (uint64_t)delta);
	tb_be64_put(v + 16, (uint64_t)balance);
	tb_txn_put(t, TB_T_STATEMENTS, k, sizeof k, v, sizeof v);
}

int tb_rule_txid_fresh(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		       const uint8_t *txid, struct tb_reject *rej)
{
	uint8_t k[TB_TXID_KEY_LEN];
	tb_txid_key(k, lognum, txid);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_TXIDS, k, sizeof k, &v);
	uint64_t seq = 0, rev;
	if (err == 0 && tb_txid_unpack(v, &seq, &rev))
		return TB_ECORRUPT;
	if (err == 0)
		return REJ(TB_EDUPTX, "transaction id already used by entry %llu",
			   (unsigned long long)seq);
	return err == TB_ENOTFOUND ? 0 : err;
}

void tb_rule_txid_put(struct tb_txn *t, uint32_t lognum, const uint8_t *txid, uint64_t seq,
		      uint64_t reversed_by)
{
	uint8_t k[TB_TXID_KEY_LEN], v[TB_TXID_VAL_MAX];
	tb_txid_key(k, lognum, txid);
	tb_txn_put(t, TB_T_TXIDS, k, sizeof k, v, tb_txid_pack(v, seq, reversed_by));
}

int tb_rule_account(struct tb_txn *t, uint32_t lognum, uint64_t no, struct tb_member *m)
{
	int err;

	if (no != TB_COMMUNITY_ACCOUNT)
		return TB_EINVAL;
	err = tb_member_get(t, lognum, TB_COMMUNITY_ACCOUNT, m);
	if (err != TB_ENOTFOUND)
		return err;
	/* Exists from genesis on, written at its first movement. */
	memset(m, 0, sizeof *m);
	m->no = TB_COMMUNITY_ACCOUNT;
	memcpy(m->name, TB_ACCOUNT_NAME, sizeof TB_ACCOUNT_NAME);
	m->active = true;
	return 0;
}
