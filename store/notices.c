/*
 * notices.c: members' notice settings (tb_notice_prefs.h), a local table:
 * member number (u32 BE) -> version 1 (u8), digest (u8), seen (u64 BE),
 * sent (u64 BE), the address's length (u8) and its bytes (FORMAT.md 8.3).
 */
#include "store_int.h"
#include "tb_notice_prefs.h"

#define PREFS_HEAD 19

static int decode(struct tb_view v, struct tb_notice_prefs *out)
{
	memset(out, 0, sizeof *out);
	if (v.len < PREFS_HEAD || v.p[0] != 1 || v.p[1] > TB_DIGEST_WEEKLY ||
	    v.p[18] > TB_EMAIL_MAX || v.len != PREFS_HEAD + (size_t)v.p[18])
		return TB_ECORRUPT;
	out->digest = v.p[1];
	out->seen = tb_be64_get(v.p + 2);
	out->sent = tb_be64_get(v.p + 10);
	memcpy(out->email, v.p + PREFS_HEAD, v.p[18]);
	return 0;
}

int tb_store_notice_prefs(struct tb_store *s, uint32_t member, struct tb_notice_prefs *out)
{
	uint8_t k[4];
	struct tb_view v;
	struct tb_txn t;
	tb_be32_put(k, member);
	memset(out, 0, sizeof *out);
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_NOTICES, k, sizeof k, &v);
	if (!err)
		err = decode(v, out);
	tb_txn_abort(&t);
	return err == TB_ENOTFOUND ? 0 : err;
}

int tb_store_notice_prefs_put(struct tb_store *s, uint32_t member, const struct tb_notice_prefs *p)
{
	size_t elen = strnlen(p->email, sizeof p->email);
	if (p->digest > TB_DIGEST_WEEKLY || elen > TB_EMAIL_MAX || !member)
		return TB_EINVAL;
	uint8_t k[4], v[PREFS_HEAD + TB_EMAIL_MAX];
	tb_be32_put(k, member);
	v[0] = 1;
	v[1] = p->digest;
	tb_be64_put(v + 2, p->seen);
	tb_be64_put(v + 10, p->sent);
	v[18] = (uint8_t)elen;
	memcpy(v + PREFS_HEAD, p->email, elen);
	/* Counted before the write transaction (one transaction per thread). */
	struct tb_db_table_stat st;
	int err = tb_db_table_stat(s->db, TB_T_NOTICES, &st);
	if (err)
		return err;
	struct tb_txn t;
	struct tb_view old;
	tb_txn_begin(&t, s->db, true);
	err = tb_txn_get(&t, TB_T_NOTICES, k, sizeof k, &old);
	if (err == TB_ENOTFOUND)
		err = st.entries >= TB_NOTICE_PREFS_MAX ? TB_EFULL : 0;
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_put(&t, TB_T_NOTICES, k, sizeof k, v, PREFS_HEAD + elen);
	return tb_txn_commit(&t);
}

struct each {
	tb_notice_prefs_fn cb;
	void *ctx;
};

static int each_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct each *e = vctx;
	struct tb_notice_prefs p;
	if (k.len != 4 || decode(v, &p))
		return TB_ECORRUPT;
	return p.digest == TB_DIGEST_NONE || !p.email[0] ? 0 : e->cb(e->ctx, tb_be32_get(k.p), &p);
}

int tb_store_foreach_digest(struct tb_store *s, tb_notice_prefs_fn cb, void *ctx)
{
	struct each e = {cb, ctx};
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_NOTICES, NULL, 0, NULL, 0, each_cb, &e);
	tb_txn_abort(&t);
	return err;
}
