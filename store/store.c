/*
 * store.c: a store's own-log identity, and every read: heads,
 * entries, Merkle roots and proofs, the derived community, member and
 * statement views. Reads run in read-only transactions and copy what they
 * return, so no caller ever holds a view into the map after a call.
 */
#include <stdlib.h>

#include "store_int.h"

void tb_store_stats(struct tb_store *s, struct tb_store_stats *out)
{
	struct tb_db_stats st;
	tb_db_stats(s->db, &st);
	_Static_assert(TB_STORE_BUCKETS == TB_DB_BUCKETS, "one histogram");
	out->commits = st.commits;
	out->commit_ns = st.commit_ns;
	for (size_t i = 0; i < TB_STORE_BUCKETS; i++) {
		out->le_ns[i] = tb_db_bucket_ns[i];
		out->le[i] = st.le[i];
	}
}

void tb_store_group_join(struct tb_store *s)
{
	tb_db_group_join(s->db);
}

void tb_store_group_leave(struct tb_store *s)
{
	tb_db_group_leave(s->db);
}

int tb_store_group_commit(struct tb_store *s, bool *committed)
{
	return tb_db_group_commit(s->db, committed);
}

uint64_t tb_store_need(struct tb_store *s)
{
	return tb_db_need(s->db);
}

void tb_store_set_audit(struct tb_store *s, tb_violation_fn fn, void *ctx)
{
	TB_ASSERT(s->flags & TB_STORE_SCRATCH);
	s->audit.fn = fn;
	s->audit.ctx = ctx;
}

void tb_store_set_lean(struct tb_store *s)
{
	TB_ASSERT(s->flags & TB_STORE_SCRATCH);
	tb_db_drop(s->db, TB_T_STATEMENTS);
}

void tb_store_set_threads(struct tb_store *s, unsigned n)
{
	s->threads = n;
	tb_verify_pool_free(s->pool);
	s->pool = NULL;
}

/* Workers verify while this thread checks rules and commits. With one
 * verifying thread in all, one worker verifies and this thread does not;
 * with more, this thread is one of them and joins the workers when it
 * waits. */
void tb_store_pool_start(struct tb_store *s, size_t n)
{
	if (s->pool || n < TB_SUBMIT_CHUNK)
		return;
	unsigned threads = s->threads ? s->threads : tb_cpu_count();
	bool one = threads == 1;
	if (tb_verify_pool_new(&s->pool, one ? 1 : threads - 1, !one))
		s->pool = NULL;
}

int tb_store_self(struct tb_store *s, uint8_t log_id[TB_KEY_LEN])
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_META, "self", 4, &v);
	if (!err && v.len != TB_KEY_LEN)
		err = TB_ECORRUPT;
	if (!err)
		memcpy(log_id, v.p, TB_KEY_LEN);
	tb_txn_abort(&t);
	return err;
}

int tb_store_set_self(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN])
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	tb_txn_insert(&t, TB_T_META, "self", 4, log_id, TB_KEY_LEN);
	return tb_txn_commit(&t);
}

int tb_store_replace_self(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN])
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	tb_txn_put(&t, TB_T_META, "self", 4, log_id, TB_KEY_LEN);
	return tb_txn_commit(&t);
}

int tb_store_head(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], struct tb_head *out)
{
	struct tb_txn t;
	struct tb_logstate l;
	tb_txn_begin(&t, s->db, false);
	int err = tb_logstate_get(&t, log_id, &l);
	tb_txn_abort(&t);
	memset(out, 0, sizeof *out);
	if (err)
		return err;
	memcpy(out->log_id, log_id, TB_KEY_LEN);
	out->seq = l.seq;
	memcpy(out->hash, l.hash, TB_HASHLEN);
	out->flags = l.flags;
	return 0;
}

struct log_iter {
	tb_head_fn cb;
	void *ctx;
};

static int log_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct log_iter *it = vctx;
	struct tb_logstate l;
	if (k.len != TB_KEY_LEN || tb_logstate_unpack(&l, v))
		return TB_ECORRUPT;
	struct tb_head h;
	memcpy(h.log_id, k.p, TB_KEY_LEN);
	h.seq = l.seq;
	memcpy(h.hash, l.hash, TB_HASHLEN);
	h.flags = l.flags;
	return it->cb(it->ctx, &h);
}

int tb_store_foreach_log(struct tb_store *s, tb_head_fn cb, void *ctx)
{
	struct tb_txn t;
	struct log_iter it = {cb, ctx};
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_LOGS, NULL, 0, NULL, 0, log_iter_cb, &it);
	tb_txn_abort(&t);
	return err;
}

int tb_lognum_of(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], uint32_t *lognum)
{
	struct tb_logstate l;
	int err = tb_logstate_get(t, log_id, &l);
	if (!err)
		*lognum = l.lognum;
	return err;
}

int tb_store_get_entry(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		       uint8_t *buf, size_t cap, size_t *len)
{
	struct tb_txn t;
	uint32_t lognum;
	struct tb_view v;
	uint8_t k[TB_ENTRY_KEY_LEN];
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err) {
		tb_entry_key(k, lognum, seq);
		err = tb_txn_get(&t, TB_T_ENTRIES, k, sizeof k, &v);
	}
	if (!err && v.len > cap)
		err = TB_ETOOBIG;
	if (!err) {
		memcpy(buf, v.p, v.len);
		*len = v.len;
	}
	tb_txn_abort(&t);
	return err;
}

struct entry_iter {
	tb_entry_fn cb;
	void *ctx;
};

static int entry_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct entry_iter *it = vctx;
	if (k.len != TB_ENTRY_KEY_LEN)
		return TB_ECORRUPT;
	return it->cb(it->ctx, tb_be64_get(k.p + 4), v);
}

int tb_store_foreach_entry(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t from,
			   tb_entry_fn cb, void *ctx)
{
	struct tb_txn t;
	uint32_t lognum;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err) {
		uint8_t prefix[TB_LOG_PREFIX_LEN], start[TB_ENTRY_KEY_LEN];
		tb_log_prefix(prefix, lognum);
		tb_entry_key(start, lognum, from ? from : 1);
		struct entry_iter it = {cb, ctx};
		err = tb_txn_foreach(&t, TB_T_ENTRIES, prefix, sizeof prefix, start, sizeof start,
				     entry_iter_cb, &it);
	}
	tb_txn_abort(&t);
	return err;
}

/* Runs fn over the Merkle source of a log whose size is at least `need`. */
#define WITH_MERKLE(s, log_id, need, expr)                           \
	do {                                                         \
		struct tb_txn t_;                                    \
		struct tb_logstate l_;                               \
		tb_txn_begin(&t_, (s)->db, false);                   \
		err = tb_logstate_get(&t_, (log_id), &l_);           \
		if (!err && (need) > l_.seq)                         \
			err = TB_ERANGE;                             \
		if (!err) {                                          \
			struct tb_merkle_src src = {&t_, l_.lognum}; \
			err = (expr);                                \
		}                                                    \
		tb_txn_abort(&t_);                                   \
	} while (0)

int tb_store_root(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t size,
		  uint8_t root[TB_HASHLEN])
{
	int err;
	WITH_MERKLE(s, log_id, size, tb_merkle_root(root, size, tb_merkle_get_db, &src));
	return err;
}

int tb_store_inclusion_proof(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t index,
			     uint64_t size, uint8_t proof[][TB_HASHLEN], size_t cap, size_t *n)
{
	int err;
	WITH_MERKLE(s, log_id, size,
		    tb_merkle_inclusion_proof(proof, cap, n, index, size, tb_merkle_get_db, &src));
	return err;
}

int tb_store_consistency_proof(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint64_t size1,
			       uint64_t size2, uint8_t proof[][TB_HASHLEN], size_t cap, size_t *n)
{
	int err;
	WITH_MERKLE(
		s, log_id, size2,
		tb_merkle_consistency_proof(proof, cap, n, size1, size2, tb_merkle_get_db, &src));
	return err;
}

int tb_store_community(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
		       struct tb_community *out)
{
	struct tb_txn t;
	uint32_t lognum;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err)
		err = tb_community_get(&t, lognum, out);
	tb_txn_abort(&t);
	return err;
}

int tb_store_member(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint32_t no,
		    struct tb_member *out)
{
	struct tb_txn t;
	uint32_t lognum;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err)
		err = tb_member_get(&t, lognum, no, out);
	if (!tb_lognum_of(&t, log_id, &lognum) && err == TB_ENOTFOUND &&
	    no == TB_COMMUNITY_ACCOUNT &&
	    tb_community_get(&t, lognum, &(struct tb_community){0}) == 0)
		err = tb_rule_account(&t, lognum, no, out);
	tb_txn_abort(&t);
	return err;
}

int tb_store_member_by_name(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], const char *name,
			    struct tb_member *out)
{
	size_t n = strlen(name);
	if (n == 0 || n > TB_NAME_MAX)
		return TB_ENOTFOUND;
	struct tb_txn t;
	uint32_t lognum;
	uint8_t k[TB_NAME_KEY_MAX];
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err) {
		err = tb_txn_get(&t, TB_T_NAMES, k, tb_name_key(k, lognum, name, n), &v);
	}
	if (!err && v.len != 4)
		err = TB_ECORRUPT;
	if (!err)
		err = tb_member_get(&t, lognum, tb_be32_get(v.p), out);
	tb_txn_abort(&t);
	return err;
}

struct member_iter {
	tb_member_fn cb;
	void *ctx;
};

static int member_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct member_iter *it = vctx;
	struct tb_member m;
	if (k.len != TB_MEMBER_KEY_LEN || tb_member_unpack(&m, tb_be32_get(k.p + 4), v))
		return TB_ECORRUPT;
	return it->cb(it->ctx, &m);
}

int tb_store_foreach_member(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], tb_member_fn cb,
			    void *ctx)
{
	struct tb_txn t;
	uint32_t lognum;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err) {
		uint8_t prefix[TB_LOG_PREFIX_LEN];
		tb_log_prefix(prefix, lognum);
		struct member_iter it = {cb, ctx};
		err = tb_txn_foreach(&t, TB_T_MEMBERS, prefix, sizeof prefix, NULL, 0,
				     member_iter_cb, &it);
	}
	tb_txn_abort(&t);
	return err;
}

struct history_iter {
	tb_history_fn cb;
	void *ctx;
};

static int history_iter_cb(void *vctx, struct tb_view k, struct tb_view v)
{
	struct history_iter *it = vctx;
	struct tb_history_item h;
	if (k.len == TB_MEMBER_KEY_LEN && v.len == TB_HISTORY_VAL_LEN) {
		h = (struct tb_history_item){tb_be64_get(v.p), (int64_t)tb_be64_get(v.p + 8),
					     (int64_t)tb_be64_get(v.p + 16)};
	} else if (k.len == TB_HISTORY3_KEY_LEN && v.len == TB_HISTORY3_VAL_LEN) {
		/* A store of layout 3 opened read-only (db.c reads its table). */
		h = (struct tb_history_item){tb_be64_get(k.p + TB_MEMBER_KEY_LEN),
					     (int64_t)tb_be64_get(v.p),
					     (int64_t)tb_be64_get(v.p + 8)};
	} else {
		return TB_ECORRUPT;
	}
	return it->cb(it->ctx, &h);
}

int tb_store_foreach_history(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], uint32_t member,
			     tb_history_fn cb, void *ctx)
{
	struct tb_txn t;
	uint32_t lognum;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err) {
		uint8_t prefix[TB_MEMBER_KEY_LEN];
		tb_member_key(prefix, lognum, member);
		struct history_iter it = {cb, ctx};
		err = tb_txn_foreach(&t, TB_T_STATEMENTS, prefix, sizeof prefix, NULL, 0,
				     history_iter_cb, &it);
	}
	tb_txn_abort(&t);
	return err;
}

int tb_store_tx(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
		const uint8_t txid[TB_TXID_LEN], uint64_t *seq, uint64_t *reversed_by)
{
	struct tb_txn t;
	uint32_t lognum;
	uint8_t k[TB_TXID_KEY_LEN];
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_lognum_of(&t, log_id, &lognum);
	if (!err) {
		tb_txid_key(k, lognum, txid);
		err = tb_txn_get(&t, TB_T_TXIDS, k, sizeof k, &v);
	}
	if (!err)
		err = tb_txid_unpack(v, seq, reversed_by);
	tb_txn_abort(&t);
	return err;
}

int tb_store_size(struct tb_store *s, uint64_t *bytes)
{
	return tb_db_used_bytes(s->db, bytes);
}

int tb_store_tables(struct tb_store *s, struct tb_store_table *out, size_t cap, size_t *n)
{
	*n = 0;
	for (int i = 0; i < TB_T__COUNT && *n < cap; i++) {
		struct tb_db_table_stat st;
		int err = tb_db_table_stat(s->db, (enum tb_table)i, &st);
		if (err)
			return err;
		out[*n] = (struct tb_store_table){st.name, st.depth,	st.entries, st.branch,
						  st.leaf, st.overflow, st.dup,	    st.page_size};
		(*n)++;
	}
	return 0;
}
