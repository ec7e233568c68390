/*
 * coords.c: the local tables of tallyd's console: coordinators (name ->
 * role, creation time, password hash) and, for entries a coordinator
 * attested through the console, who it was (txid -> name). Neither enters a
 * log or is rebuilt by reindex; the signed log stays the community's.
 */
#include "store_int.h"

#define TB_COORD_REC_LEN (1 + 8 + TB_PWHASH_LEN)

static int coord_name_ok(const char *name, size_t *len)
{
	*len = strlen(name);
	return *len && *len <= TB_NAME_MAX ? 0 : TB_EINVAL;
}

int tb_store_coord_put(struct tb_store *s, const struct tb_coord *c, bool replace)
{
	size_t nlen;
	if (coord_name_ok(c->name, &nlen) || c->role < TB_ROLE_VIEWER || c->role > TB_ROLE_ADMIN)
		return TB_EINVAL;
	uint8_t v[TB_COORD_REC_LEN];
	v[0] = c->role;
	tb_be64_put(v + 1, c->created);
	memcpy(v + 9, c->pwhash, TB_PWHASH_LEN);
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	if (replace)
		tb_txn_put(&t, TB_T_COORDS, c->name, nlen, v, sizeof v);
	else
		tb_txn_insert(&t, TB_T_COORDS, c->name, nlen, v, sizeof v);
	return tb_txn_commit(&t);
}

static int coord_unpack(struct tb_coord *c, struct tb_view k, struct tb_view v)
{
	memset(c, 0, sizeof *c);
	if (!k.len || k.len > TB_NAME_MAX || v.len != TB_COORD_REC_LEN || v.p[0] < TB_ROLE_VIEWER ||
	    v.p[0] > TB_ROLE_ADMIN)
		return TB_ECORRUPT;
	memcpy(c->name, k.p, k.len);
	c->role = v.p[0];
	c->created = tb_be64_get(v.p + 1);
	memcpy(c->pwhash, v.p + 9, TB_PWHASH_LEN);
	return 0;
}

int tb_store_coord_get(struct tb_store *s, const char *name, struct tb_coord *out)
{
	size_t nlen;
	memset(out, 0, sizeof *out);
	if (coord_name_ok(name, &nlen))
		return TB_ENOTFOUND;
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_COORDS, name, nlen, &v);
	if (!err)
		err = coord_unpack(out, (struct tb_view){(const uint8_t *)name, nlen}, v);
	tb_txn_abort(&t);
	return err;
}

int tb_store_coord_del(struct tb_store *s, const char *name)
{
	size_t nlen;
	if (coord_name_ok(name, &nlen))
		return TB_ENOTFOUND;
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_COORDS, name, nlen, &v);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_del(&t, TB_T_COORDS, name, nlen);
	return tb_txn_commit(&t);
}

struct coord_iter {
	tb_coord_fn cb;
	void *ctx;
	int err;
};

static int coord_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct coord_iter *it = vctx;
	struct tb_coord c;
	if ((it->err = coord_unpack(&c, k, v)))
		return 1;
	return it->cb(it->ctx, &c);
}

int tb_store_foreach_coord(struct tb_store *s, tb_coord_fn cb, void *ctx)
{
	struct tb_txn t;
	struct coord_iter it = {cb, ctx, 0};
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_COORDS, NULL, 0, NULL, 0, coord_iter_cb, &it);
	tb_txn_abort(&t);
	return it.err ? it.err : err;
}

int tb_attested_put_txn(struct tb_txn *t, const uint8_t txid[TB_TXID_LEN], const char *name)
{
	size_t nlen;
	if (coord_name_ok(name, &nlen))
		return TB_EINVAL;
	tb_txn_put(t, TB_T_ATTESTED, txid, TB_TXID_LEN, name, nlen);
	return t->ret;
}

int tb_store_attested_put(struct tb_store *s, const uint8_t txid[TB_TXID_LEN], const char *name)
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	int err = tb_attested_put_txn(&t, txid, name);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	return tb_txn_commit(&t);
}

int tb_store_attested_get(struct tb_store *s, const uint8_t txid[TB_TXID_LEN], char *out,
			  size_t cap)
{
	struct tb_txn t;
	struct tb_view v;
	if (cap < TB_NAME_MAX + 1)
		return TB_EINVAL;
	out[0] = '\0';
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_ATTESTED, txid, TB_TXID_LEN, &v);
	if (!err && (!v.len || v.len > TB_NAME_MAX))
		err = TB_ECORRUPT;
	if (!err) {
		memcpy(out, v.p, v.len);
		out[v.len] = '\0';
	}
	tb_txn_abort(&t);
	return err;
}
