/*
 * categories.c: the community's optional list of exchange categories, a
 * local table (folded form -> the spelling as added). It is a choice of the
 * coordinators' tools, not a ledger rule: the log's category field stays
 * free text that every node and auditor accepts alike, so the list never
 * enters a log. What it decides is what `tally` and the API record: a
 * category of the list, in the list's spelling, whatever its case.
 */
#include "store_int.h"
#include "tb_text.h"

/* The NFC of in into nfc and its folded form into key (both NUL-terminated). */
static int forms(const char *in, size_t len, char nfc[TB_CATEGORY_MAX + 1], char *key, size_t kcap,
		 size_t *klen)
{
	size_t n;
	if (len > TB_CATEGORY_MAX * 4)
		return TB_ETOOLONG;
	int err = tb_text_nfc(nfc, TB_CATEGORY_MAX + 1, &n, in, len);
	if (err)
		return err;
	return tb_text_fold(key, kcap, klen, nfc, n);
}

static int copy_out(struct tb_view v, char *out, size_t cap)
{
	if (!v.len || v.len > TB_CATEGORY_MAX || cap <= v.len)
		return TB_ECORRUPT;
	memcpy(out, v.p, v.len);
	out[v.len] = '\0';
	return 0;
}

static int count_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	(void)k;
	(void)v;
	(*(size_t *)vctx)++;
	return 0;
}

int tb_store_category_add(struct tb_store *s, const char *name, size_t len, char *had, size_t cap)
{
	char nfc[TB_CATEGORY_MAX + 1], key[TB_TEXT_KEY_MAX];
	size_t klen, n = 0;
	struct tb_text_verdict v;
	struct tb_view held;
	struct tb_txn t;
	int err = forms(name, len, nfc, key, sizeof key, &klen);
	if (err)
		return err;
	if ((err = tb_text_check_name(&v, nfc, strlen(nfc))))
		return err;
	tb_txn_begin(&t, s->db, true);
	err = tb_txn_get(&t, TB_T_CATEGORIES, key, klen, &held);
	if (!err) {
		err = copy_out(held, had, cap);
		tb_txn_abort(&t);
		return err ? err : TB_EEXISTS;
	}
	if (err != TB_ENOTFOUND) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_foreach(&t, TB_T_CATEGORIES, NULL, 0, NULL, 0, count_cb, &n);
	if (n >= TB_CATEGORIES_MAX) {
		tb_txn_abort(&t);
		return TB_EFULL;
	}
	tb_txn_insert(&t, TB_T_CATEGORIES, key, klen, nfc, strlen(nfc));
	return tb_txn_commit(&t);
}

int tb_store_category_del(struct tb_store *s, const char *name, size_t len, char *had, size_t cap)
{
	char nfc[TB_CATEGORY_MAX + 1], key[TB_TEXT_KEY_MAX];
	size_t klen;
	struct tb_view held;
	struct tb_txn t;
	int err = forms(name, len, nfc, key, sizeof key, &klen);
	if (err)
		return err == TB_ETOOLONG || err == TB_EUTF8 ? TB_ENOTFOUND : err;
	tb_txn_begin(&t, s->db, true);
	err = tb_txn_get(&t, TB_T_CATEGORIES, key, klen, &held);
	if (!err)
		err = copy_out(held, had, cap);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_del(&t, TB_T_CATEGORIES, key, klen);
	return tb_txn_commit(&t);
}

struct cat_iter {
	tb_category_fn cb;
	void *ctx;
	int err;
};

static int iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct cat_iter *it = vctx;
	char name[TB_CATEGORY_MAX + 1];
	(void)k;
	if ((it->err = copy_out(v, name, sizeof name)))
		return 1;
	return it->cb(it->ctx, name);
}

int tb_store_foreach_category(struct tb_store *s, tb_category_fn cb, void *ctx)
{
	struct tb_txn t;
	struct cat_iter it = {cb, ctx, 0};
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_CATEGORIES, NULL, 0, NULL, 0, iter_cb, &it);
	tb_txn_abort(&t);
	return it.err ? it.err : err;
}

static int any_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	(void)k;
	(void)v;
	*(bool *)vctx = true;
	return 1;
}

int tb_store_category_resolve(struct tb_store *s, const char *in, size_t len, char *out, size_t cap)
{
	char nfc[TB_CATEGORY_MAX + 1], key[TB_TEXT_KEY_MAX];
	size_t klen;
	bool any = false;
	struct tb_view held;
	struct tb_txn t;
	TB_ASSERT(cap >= TB_CATEGORY_MAX + 1);
	out[0] = '\0';
	if (len == 0)
		return 0;
	int err = forms(in, len, nfc, key, sizeof key, &klen);
	if (err)
		return err;
	tb_txn_begin(&t, s->db, false);
	err = tb_txn_get(&t, TB_T_CATEGORIES, key, klen, &held);
	if (!err)
		err = copy_out(held, out, cap);
	else if (err == TB_ENOTFOUND) {
		tb_txn_foreach(&t, TB_T_CATEGORIES, NULL, 0, NULL, 0, any_cb, &any);
		err = any ? TB_ENOTFOUND : t.ret;
		if (!err)
			memcpy(out, nfc, strlen(nfc) + 1);
	}
	tb_txn_abort(&t);
	return err;
}
