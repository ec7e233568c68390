/*
 * invites.c: members' invitations, a local table that never enters a log:
 * the SHA-256 of a one-time token -> expiry (u64 BE unix seconds) and the
 * name the new member will have. The token itself is never stored, so a
 * copy of the data directory cannot be used to join. At most
 * TB_INVITES_MAX are kept; expired ones are dropped whenever one is added.
 */
#include "store_int.h"

#include <stdlib.h>

#define INVITE_HEAD 8

struct expired {
	uint64_t now;
	size_t live, n;
	uint8_t (*keys)[TB_HASHLEN];
};

static int scan_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct expired *e = vctx;
	if (k.len != TB_HASHLEN || v.len <= INVITE_HEAD)
		return TB_ECORRUPT;
	if (tb_be64_get(v.p) > e->now)
		e->live++;
	else if (e->n < TB_INVITES_MAX)
		memcpy(e->keys[e->n++], k.p, TB_HASHLEN);
	return 0;
}

int tb_store_invite_put(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
			const struct tb_invite *inv, uint64_t now)
{
	size_t nlen = strnlen(inv->name, sizeof inv->name);
	if (!nlen || nlen > TB_NAME_MAX || inv->expires <= now ||
	    inv->expires > now + TB_INVITE_VALID_MAX)
		return TB_EINVAL;
	struct expired e = {now, 0, 0, calloc(TB_INVITES_MAX, TB_HASHLEN)};
	if (!e.keys)
		return TB_ENOMEM;
	uint8_t v[INVITE_HEAD + TB_NAME_MAX];
	tb_be64_put(v, inv->expires);
	memcpy(v + INVITE_HEAD, inv->name, nlen);
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_foreach(&t, TB_T_INVITES, NULL, 0, NULL, 0, scan_cb, &e);
	if (!err && e.live >= TB_INVITES_MAX)
		err = TB_EFULL;
	if (err) {
		tb_txn_abort(&t);
		free(e.keys);
		return err;
	}
	for (size_t i = 0; i < e.n; i++)
		tb_txn_del(&t, TB_T_INVITES, e.keys[i], TB_HASHLEN);
	free(e.keys);
	tb_txn_insert(&t, TB_T_INVITES, hash, TB_HASHLEN, v, INVITE_HEAD + nlen);
	return tb_txn_commit(&t);
}

int tb_store_invite_get(struct tb_store *s, const uint8_t hash[TB_HASHLEN], uint64_t now,
			struct tb_invite *out)
{
	memset(out, 0, sizeof *out);
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_INVITES, hash, TB_HASHLEN, &v);
	if (!err && (v.len <= INVITE_HEAD || v.len > INVITE_HEAD + TB_NAME_MAX))
		err = TB_ECORRUPT;
	if (!err) {
		out->expires = tb_be64_get(v.p);
		memcpy(out->name, v.p + INVITE_HEAD, v.len - INVITE_HEAD);
		if (out->expires <= now)
			err = TB_ENOTFOUND;
	}
	tb_txn_abort(&t);
	return err;
}

int tb_store_invite_del(struct tb_store *s, const uint8_t hash[TB_HASHLEN])
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_INVITES, hash, TB_HASHLEN, &v);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_del(&t, TB_T_INVITES, hash, TB_HASHLEN);
	return tb_txn_commit(&t);
}
