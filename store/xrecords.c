/*
 * xrecords.c: the derived records of credit across communities: a clearing
 * account per (log, other community) in CLEARING; per exchange (payer log,
 * txid) what legs are held in XLEGS, with two work lists kept in step with
 * it: XOPEN (by payer: no final leg yet) and XDUE (by the provider the
 * prepare names, then payer: no decision of that provider held and no final
 * leg), so that each node's clearing step reads only its own work, one
 * counterpart after another, whatever else the logs it holds contain; and
 * per deciding log the prepares it decided (XDECIDED), which is what makes a
 * decision unique and what a prepare held later looks up.
 */
#include "store_int.h"

#define CLEARING_REC_LEN (1 + 8 * 5)
#define XLEG_REC_LEN (8 + TB_KEY_LEN + 8 + 8 + 8 + TB_KEY_LEN + 1 + 8 + 1)

static int clearing_unpack(struct tb_clearing *c, struct tb_view k, struct tb_view v)
{
	if (k.len != TB_CLEARING_KEY_LEN || v.len != CLEARING_REC_LEN || v.p[0] > 1)
		return TB_ECORRUPT;
	memcpy(c->other, k.p + 4, TB_KEY_LEN);
	c->linked = v.p[0];
	c->limit = tb_be64_get(v.p + 1);
	c->balance = (int64_t)tb_be64_get(v.p + 9);
	c->held = (int64_t)tb_be64_get(v.p + 17);
	c->exchanges = tb_be64_get(v.p + 25);
	c->open = tb_be64_get(v.p + 33);
	return 0;
}

int tb_clearing_get(struct tb_txn *t, uint32_t lognum, const uint8_t other[TB_KEY_LEN],
		    struct tb_clearing *c)
{
	uint8_t k[TB_CLEARING_KEY_LEN];
	tb_clearing_key(k, lognum, other);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_CLEARING, k, sizeof k, &v);
	if (err == TB_ENOTFOUND) {
		memset(c, 0, sizeof *c);
		memcpy(c->other, other, TB_KEY_LEN);
	}
	if (err)
		return err;
	return clearing_unpack(c, (struct tb_view){k, sizeof k}, v);
}

void tb_clearing_put(struct tb_txn *t, uint32_t lognum, const struct tb_clearing *c)
{
	uint8_t k[TB_CLEARING_KEY_LEN], v[CLEARING_REC_LEN];
	tb_clearing_key(k, lognum, c->other);
	v[0] = c->linked ? 1 : 0;
	tb_be64_put(v + 1, c->limit);
	tb_be64_put(v + 9, (uint64_t)c->balance);
	tb_be64_put(v + 17, (uint64_t)c->held);
	tb_be64_put(v + 25, c->exchanges);
	tb_be64_put(v + 33, c->open);
	tb_txn_put(t, TB_T_CLEARING, k, sizeof k, v, sizeof v);
}

struct clearing_scan {
	tb_clearing_fn cb;
	void *ctx;
};

static int clearing_one(void *vctx, struct tb_view k, struct tb_view v)
{
	struct clearing_scan *cs = vctx;
	struct tb_clearing c;
	int err = clearing_unpack(&c, k, v);
	return err ? err : cs->cb(cs->ctx, &c);
}

int tb_clearing_foreach(struct tb_txn *t, uint32_t lognum, tb_clearing_fn cb, void *ctx)
{
	uint8_t prefix[TB_LOG_PREFIX_LEN];
	tb_log_prefix(prefix, lognum);
	struct clearing_scan cs = {cb, ctx};
	return tb_txn_foreach(t, TB_T_CLEARING, prefix, sizeof prefix, NULL, 0, clearing_one, &cs);
}

int tb_xleg_unpack(struct tb_xleg *x, struct tb_view k, struct tb_view v)
{
	if (k.len != TB_XLEG_KEY_LEN || v.len != XLEG_REC_LEN)
		return TB_ECORRUPT;
	const uint8_t *p = v.p;
	memcpy(x->payer, k.p, TB_KEY_LEN);
	memcpy(x->txid, k.p + TB_KEY_LEN, TB_TXID_LEN);
	x->prepare_seq = tb_be64_get(p);
	memcpy(x->provider, p + 8, TB_KEY_LEN);
	x->minutes = tb_be64_get(p + 40);
	x->expires = tb_be64_get(p + 48);
	x->decide_seq = tb_be64_get(p + 56);
	memcpy(x->decider, p + 64, TB_KEY_LEN);
	x->outcome = p[96];
	x->final_seq = tb_be64_get(p + 97);
	x->final_outcome = p[105];
	return 0;
}

int tb_xleg_get(struct tb_txn *t, const uint8_t payer[TB_KEY_LEN], const uint8_t txid[TB_TXID_LEN],
		struct tb_xleg *x)
{
	uint8_t k[TB_XLEG_KEY_LEN];
	tb_xleg_key(k, payer, txid);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_XLEGS, k, sizeof k, &v);
	if (err == TB_ENOTFOUND) {
		memset(x, 0, sizeof *x);
		memcpy(x->payer, payer, TB_KEY_LEN);
		memcpy(x->txid, txid, TB_TXID_LEN);
	}
	if (err)
		return err;
	return tb_xleg_unpack(x, (struct tb_view){k, sizeof k}, v);
}

void tb_xleg_put(struct tb_txn *t, const struct tb_xleg *x)
{
	uint8_t k[TB_XLEG_KEY_LEN], v[XLEG_REC_LEN];
	tb_xleg_key(k, x->payer, x->txid);
	tb_be64_put(v, x->prepare_seq);
	memcpy(v + 8, x->provider, TB_KEY_LEN);
	tb_be64_put(v + 40, x->minutes);
	tb_be64_put(v + 48, x->expires);
	tb_be64_put(v + 56, x->decide_seq);
	memcpy(v + 64, x->decider, TB_KEY_LEN);
	v[96] = x->outcome;
	tb_be64_put(v + 97, x->final_seq);
	v[105] = x->final_outcome;
	tb_txn_put(t, TB_T_XLEGS, k, sizeof k, v, sizeof v);
	if (x->final_seq)
		tb_txn_del(t, TB_T_XOPEN, k, sizeof k);
	else
		tb_txn_put(t, TB_T_XOPEN, k, sizeof k, "", 0);
	if (!x->prepare_seq)
		return;
	uint8_t dk[TB_XDUE_KEY_LEN];
	tb_xdue_key(dk, x->provider, x->payer, x->txid);
	if (!x->decide_seq && !x->final_seq)
		tb_txn_put(t, TB_T_XDUE, dk, sizeof dk, "", 0);
	else
		tb_txn_del(t, TB_T_XDUE, dk, sizeof dk);
}

#define XDECIDED_REC_LEN (8 + 8 + 8 + 1)

int tb_xdecided_get(struct tb_txn *t, uint32_t lognum, const uint8_t from_log[TB_KEY_LEN],
		    const uint8_t txid[TB_TXID_LEN], struct tb_xdecided *d)
{
	uint8_t k[TB_XDECIDED_KEY_LEN];
	tb_xdecided_key(k, lognum, from_log, txid);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_XDECIDED, k, sizeof k, &v);
	if (err)
		return err;
	if (v.len != XDECIDED_REC_LEN || v.p[24] > TB_XOUTCOME_MAX)
		return TB_ECORRUPT;
	d->seq = tb_be64_get(v.p);
	d->from_seq = tb_be64_get(v.p + 8);
	d->minutes = tb_be64_get(v.p + 16);
	d->outcome = v.p[24];
	return 0;
}

void tb_xdecided_put(struct tb_txn *t, uint32_t lognum, const uint8_t from_log[TB_KEY_LEN],
		     const uint8_t txid[TB_TXID_LEN], const struct tb_xdecided *d)
{
	uint8_t k[TB_XDECIDED_KEY_LEN], v[XDECIDED_REC_LEN];
	tb_xdecided_key(k, lognum, from_log, txid);
	tb_be64_put(v, d->seq);
	tb_be64_put(v + 8, d->from_seq);
	tb_be64_put(v + 16, d->minutes);
	v[24] = d->outcome;
	tb_txn_put(t, TB_T_XDECIDED, k, sizeof k, v, sizeof v);
}

const char *tb_xoutcome_text(uint64_t outcome)
{
	switch (outcome) {
#define TB__XO_TEXT(UP, num, text) \
	case num:                  \
		return text;
		TB_XOUTCOMES(TB__XO_TEXT)
#undef TB__XO_TEXT
	}
	return "unknown outcome";
}

int tb_xoutcome_err(uint64_t outcome)
{
	static const int errs[] = {0, TB_EMEMBER, TB_ETRUST, TB_EEXPIRED, TB_ELINK, TB_ECEILING};
	_Static_assert(sizeof errs / sizeof errs[0] == TB_XOUTCOME_MAX + 1,
		       "one error per outcome");
	return outcome <= TB_XOUTCOME_MAX ? errs[outcome] : TB_EDECLINED;
}
