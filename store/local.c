/*
 * local.c: the tables that never enter a log: memo texts (with the salt that
 * makes their hash unguessable) and pending exchange proposals. These can be
 * erased at will; nothing signed depends on them. A proposal added by
 * tb_store_pending_add waits at most TB_PENDING_AGE_S, and the table holds
 * at most TB_PENDING_MAX live ones, TB_PENDING_PER_PROVIDER of one provider.
 */
#include "store_int.h"

void tb_memo_hash(uint8_t out[TB_HASHLEN], const uint8_t salt[TB_MEMO_SALT_LEN], const char *text,
		  size_t len)
{
	struct tb_sha256_ctx c;
	tb_sha256_init(&c);
	tb_sha256_update(&c, salt, TB_MEMO_SALT_LEN);
	tb_sha256_update(&c, (const uint8_t *)text, len);
	tb_sha256_final(&c, out);
}

void tb_memo_put_txn(struct tb_txn *t, const struct tb_memo *m)
{
	uint8_t v[TB_MEMO_SALT_LEN + TB_MEMO_MAX];
	TB_ASSERT(m->len <= TB_MEMO_MAX);
	memcpy(v, m->salt, TB_MEMO_SALT_LEN);
	memcpy(v + TB_MEMO_SALT_LEN, m->text, m->len);
	tb_txn_put(t, TB_T_MEMOS, m->txid, TB_TXID_LEN, v, TB_MEMO_SALT_LEN + m->len);
}

int tb_store_memo_put(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
		      const uint8_t salt[TB_MEMO_SALT_LEN], const char *text, size_t len)
{
	if (len > TB_MEMO_MAX)
		return TB_ETOOLONG;
	struct tb_memo m = {txid, salt, text, len};
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	tb_memo_put_txn(&t, &m);
	return tb_txn_commit(&t);
}

int tb_store_memo_get(struct tb_store *s, const uint8_t txid[TB_TXID_LEN], char *out, size_t cap)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_MEMOS, txid, TB_TXID_LEN, &v);
	if (!err && v.len < TB_MEMO_SALT_LEN)
		err = TB_ECORRUPT;
	if (!err && cap == 0)
		err = TB_ETOOBIG; /* no room even for the NUL */
	if (!err) {
		size_t n = v.len - TB_MEMO_SALT_LEN;
		if (n >= cap)
			n = cap - 1;
		memcpy(out, v.p + TB_MEMO_SALT_LEN, n);
		out[n] = '\0';
	}
	tb_txn_abort(&t);
	return err;
}

int tb_store_memo_salt(struct tb_store *s, const uint8_t txid[TB_TXID_LEN],
		       uint8_t salt[TB_MEMO_SALT_LEN])
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_MEMOS, txid, TB_TXID_LEN, &v);
	if (!err && v.len < TB_MEMO_SALT_LEN)
		err = TB_ECORRUPT;
	if (!err)
		memcpy(salt, v.p, TB_MEMO_SALT_LEN);
	tb_txn_abort(&t);
	return err;
}

int tb_store_memo_erase(struct tb_store *s, const uint8_t txid[TB_TXID_LEN])
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_MEMOS, txid, TB_TXID_LEN, &v);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_del(&t, TB_T_MEMOS, txid, TB_TXID_LEN);
	return tb_txn_commit(&t);
}

int tb_store_pending_put(struct tb_store *s, const uint8_t txid[TB_TXID_LEN], const uint8_t *msg,
			 size_t len)
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	tb_txn_insert(&t, TB_T_PENDING, txid, TB_TXID_LEN, msg, len);
	return tb_txn_commit(&t);
}

int tb_store_pending_get(struct tb_store *s, const uint8_t txid[TB_TXID_LEN], uint8_t *buf,
			 size_t cap, size_t *len)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_PENDING, txid, TB_TXID_LEN, &v);
	if (!err && v.len > cap)
		err = TB_ETOOBIG; /* the caller's buffer, not the store, is short */
	if (!err) {
		memcpy(buf, v.p, v.len);
		*len = v.len;
	}
	tb_txn_abort(&t);
	return err;
}

int tb_pending_del_txn(struct tb_txn *t, const uint8_t txid[TB_TXID_LEN])
{
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_PENDING, txid, TB_TXID_LEN, &v);
	if (!err)
		tb_txn_del(t, TB_T_PENDING, txid, TB_TXID_LEN);
	return err ? err : t->ret;
}

int tb_store_pending_del(struct tb_store *s, const uint8_t txid[TB_TXID_LEN])
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	int err = tb_pending_del_txn(&t, txid);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	return tb_txn_commit(&t);
}

bool tb_pending_expired(const struct tb_proposal *p, uint64_t now)
{
	return p->created + TB_PENDING_AGE_S <= now;
}

#define PRUNE_BATCH 64 /* expired proposals dropped per add (the rest later) */

struct pending_scan {
	uint64_t now, provider;
	size_t live, mine, n_old;
	uint8_t old[PRUNE_BATCH][TB_TXID_LEN];
};

/* Counts the live proposals (of the provider too) and notes expired ones.
 * An undecodable record counts as live: it is never dropped here. */
static int pending_scan_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct pending_scan *c = vctx;
	struct tb_proposal p;
	bool decoded = !tb_msg_decode_exact(v.p, v.len, &tb_def_proposal, &p);
	if (decoded && k.len == TB_TXID_LEN && tb_pending_expired(&p, c->now)) {
		if (c->n_old < PRUNE_BATCH)
			memcpy(c->old[c->n_old++], k.p, TB_TXID_LEN);
		return 0;
	}
	c->live++;
	if (decoded && p.provider == c->provider)
		c->mine++;
	return 0;
}

int tb_store_pending_add(struct tb_store *s, const struct tb_proposal *p,
			 const struct tb_memo *memo, uint64_t now)
{
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_proposal, p);
	if (err)
		return err;
	if (memo && memo->len > TB_MEMO_MAX)
		return TB_ETOOLONG;
	struct pending_scan c = {.now = now, .provider = p->provider};
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	if ((err = tb_txn_foreach(&t, TB_T_PENDING, NULL, 0, NULL, 0, pending_scan_cb, &c))) {
		tb_txn_abort(&t);
		return err;
	}
	for (size_t i = 0; i < c.n_old; i++) {
		tb_txn_del(&t, TB_T_PENDING, c.old[i], TB_TXID_LEN);
		tb_txn_del(&t, TB_T_MEMOS, c.old[i], TB_TXID_LEN);
	}
	if (c.mine >= TB_PENDING_PER_PROVIDER || c.live >= TB_PENDING_MAX) {
		/* The expired ones go all the same. */
		err = tb_txn_commit(&t);
		return err ? err : TB_EFULL;
	}
	tb_txn_insert(&t, TB_T_PENDING, p->txid, TB_TXID_LEN, buf, len);
	if (memo)
		tb_memo_put_txn(&t, memo);
	return tb_txn_commit(&t);
}

struct pending_iter {
	tb_pending_fn cb;
	void *ctx;
};

static int pending_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct pending_iter *it = vctx;
	(void)k;
	return it->cb(it->ctx, v);
}

int tb_store_foreach_pending(struct tb_store *s, tb_pending_fn cb, void *ctx)
{
	struct tb_txn t;
	struct pending_iter it = {cb, ctx};
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_PENDING, NULL, 0, NULL, 0, pending_iter_cb, &it);
	tb_txn_abort(&t);
	return err;
}

int tb_store_contact(struct tb_store *s, uint32_t member, char *out, size_t cap)
{
	struct tb_txn t;
	struct tb_view v;
	uint8_t k[TB_CONTACT_KEY_LEN];
	tb_contact_key(k, member);
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_CONTACTS, k, sizeof k, &v);
	if (!err && v.len >= cap)
		err = TB_ETOOBIG;
	if (!err) {
		memcpy(out, v.p, v.len);
		out[v.len] = '\0';
	}
	tb_txn_abort(&t);
	return err;
}
