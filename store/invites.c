/*
 * invites.c: one-time tokens kept in local tables that never enter a log,
 * under the SHA-256 of the token with a value that starts with its expiry
 * (u64 BE unix seconds): members' invitations (`invites`: then the name the
 * new member will have) and device links (devices.c). The token itself is
 * never stored, so a copy of the data directory cannot be used to join or
 * to fetch a key file. Each table is capped; expired rows are dropped
 * whenever one is added. A spent invitation stays an hour at most, marked
 * with the key that joined, so a join whose answer was lost can be asked
 * again with that key (FORMAT.md 8.2).
 */
#include "store_int.h"

#include <stdlib.h>

#define INVITE_HEAD 8

struct expired {
	uint64_t now;
	size_t max, live, n;
	const uint8_t *group; /* counted apart when not NULL: glen bytes after the expiry */
	size_t glen, in_group;
	uint8_t (*keys)[TB_HASHLEN];
};

static int scan_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct expired *e = vctx;
	if (k.len != TB_HASHLEN || v.len <= INVITE_HEAD)
		return TB_ECORRUPT;
	if (tb_be64_get(v.p) > e->now) {
		e->live++;
		if (e->group && v.len >= INVITE_HEAD + e->glen &&
		    !memcmp(v.p + INVITE_HEAD, e->group, e->glen))
			e->in_group++;
	} else if (e->n < e->max) {
		memcpy(e->keys[e->n++], k.p, TB_HASHLEN);
	}
	return 0;
}

int tb_tokens_put(struct tb_store *s, enum tb_table tab, const uint8_t hash[TB_HASHLEN],
		  const uint8_t *v, size_t vlen, uint64_t now, size_t max, size_t glen,
		  size_t group_max)
{
	if (vlen <= INVITE_HEAD || vlen < INVITE_HEAD + glen)
		return TB_EINVAL;
	struct expired e = {
		now, max, 0, 0, glen ? v + INVITE_HEAD : NULL, glen, 0, calloc(max, TB_HASHLEN)};
	if (!e.keys)
		return TB_ENOMEM;
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_foreach(&t, tab, NULL, 0, NULL, 0, scan_cb, &e);
	if (!err && (e.live >= max || (glen && e.in_group >= group_max)))
		err = TB_EFULL;
	if (err) {
		tb_txn_abort(&t);
		free(e.keys);
		return err;
	}
	for (size_t i = 0; i < e.n; i++)
		tb_txn_del(&t, tab, e.keys[i], TB_HASHLEN);
	free(e.keys);
	tb_txn_insert(&t, tab, hash, TB_HASHLEN, v, vlen);
	return tb_txn_commit(&t);
}

int tb_tokens_get(struct tb_store *s, enum tb_table tab, const uint8_t hash[TB_HASHLEN],
		  uint64_t now, bool take, uint8_t *out, size_t cap, size_t *len)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, take);
	int err = tb_txn_get(&t, tab, hash, TB_HASHLEN, &v);
	if (!err && (v.len <= INVITE_HEAD || v.len > cap))
		err = TB_ECORRUPT;
	if (!err) {
		memcpy(out, v.p, v.len);
		*len = v.len;
		if (tb_be64_get(v.p) <= now)
			err = TB_ENOTFOUND;
	}
	if (take && !err) { /* one use: gone in the transaction that read it */
		tb_txn_del(&t, tab, hash, TB_HASHLEN);
		return tb_txn_commit(&t);
	}
	tb_txn_abort(&t);
	return err;
}

int tb_tokens_del(struct tb_store *s, enum tb_table tab, const uint8_t hash[TB_HASHLEN])
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, tab, hash, TB_HASHLEN, &v);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_del(&t, tab, hash, TB_HASHLEN);
	return tb_txn_commit(&t);
}

int tb_store_invite_put(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
			const struct tb_invite *inv, uint64_t now)
{
	size_t nlen = strnlen(inv->name, sizeof inv->name);
	if (!nlen || nlen > TB_NAME_MAX || inv->expires <= now ||
	    inv->expires > now + TB_INVITE_VALID_MAX)
		return TB_EINVAL;
	uint8_t v[INVITE_HEAD + TB_NAME_MAX];
	tb_be64_put(v, inv->expires);
	memcpy(v + INVITE_HEAD, inv->name, nlen);
	return tb_tokens_put(s, TB_T_INVITES, hash, v, INVITE_HEAD + nlen, now, TB_INVITES_MAX, 0,
			     0);
}

/* A spent invitation's value: expiry, SPENT (a byte no UTF-8 name starts
 * with), the key that joined, the name. */
#define SPENT 0xFF
#define SPENT_HEAD (INVITE_HEAD + 1 + TB_KEY_LEN)

static int invite_of(const uint8_t *v, size_t len, struct tb_invite *out)
{
	memset(out, 0, sizeof *out);
	out->expires = tb_be64_get(v);
	size_t head = INVITE_HEAD;
	if (len > INVITE_HEAD && v[INVITE_HEAD] == SPENT) {
		if (len <= SPENT_HEAD)
			return TB_ECORRUPT;
		out->used = true;
		memcpy(out->key, v + INVITE_HEAD + 1, TB_KEY_LEN);
		head = SPENT_HEAD;
	}
	if (len - head > TB_NAME_MAX)
		return TB_ECORRUPT;
	memcpy(out->name, v + head, len - head);
	return 0;
}

int tb_store_invite_get(struct tb_store *s, const uint8_t hash[TB_HASHLEN], uint64_t now,
			struct tb_invite *out)
{
	memset(out, 0, sizeof *out);
	uint8_t v[SPENT_HEAD + TB_NAME_MAX];
	size_t len = 0;
	int err = tb_tokens_get(s, TB_T_INVITES, hash, now, false, v, sizeof v, &len);
	if (!err)
		err = invite_of(v, len, out);
	return err;
}

int tb_store_invite_spend(struct tb_store *s, const uint8_t hash[TB_HASHLEN],
			  const uint8_t key[TB_KEY_LEN], uint64_t now)
{
	struct tb_txn t;
	struct tb_view v;
	struct tb_invite inv;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_INVITES, hash, TB_HASHLEN, &v);
	if (!err)
		err = v.len > INVITE_HEAD ? invite_of(v.p, v.len, &inv) : TB_ECORRUPT;
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	size_t nlen = strlen(inv.name);
	uint8_t nv[SPENT_HEAD + TB_NAME_MAX];
	uint64_t until = now + TB_INVITE_ANSWER_S;
	tb_be64_put(nv, inv.expires < until ? inv.expires : until);
	nv[INVITE_HEAD] = SPENT;
	memcpy(nv + INVITE_HEAD + 1, key, TB_KEY_LEN);
	memcpy(nv + SPENT_HEAD, inv.name, nlen);
	tb_txn_put(&t, TB_T_INVITES, hash, TB_HASHLEN, nv, SPENT_HEAD + nlen);
	return tb_txn_commit(&t);
}

int tb_store_invite_del(struct tb_store *s, const uint8_t hash[TB_HASHLEN])
{
	return tb_tokens_del(s, TB_T_INVITES, hash);
}

struct open_ctx {
	uint64_t now;
	struct tb_invite_open *out;
	size_t cap, n;
};

static int open_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct open_ctx *c = vctx;
	struct tb_invite inv;
	if (k.len != TB_HASHLEN || v.len <= INVITE_HEAD || invite_of(v.p, v.len, &inv))
		return TB_ECORRUPT;
	if (inv.used || inv.expires <= c->now || c->n >= c->cap)
		return 0;
	struct tb_invite_open *o = &c->out[c->n++];
	memset(o, 0, sizeof *o);
	memcpy(o->hash, k.p, TB_HASHLEN);
	o->inv = inv;
	return 0;
}

int tb_store_invite_list(struct tb_store *s, uint64_t now, struct tb_invite_open *out, size_t cap,
			 size_t *n)
{
	struct open_ctx c = {now, out, cap, 0};
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_INVITES, NULL, 0, NULL, 0, open_cb, &c);
	tb_txn_abort(&t);
	*n = err ? 0 : c.n;
	return err;
}
