/*
 * db_stat.c: what the LMDB environment says of its size and tables, and its
 * copies (a backup's compact copy, a scratch store's clone). With db.c the
 * only files that include lmdb.h (through db_env.h).
 */
#include "db_env.h"

#include <string.h>

int tb_db_used_bytes(struct tb_db *db, uint64_t *bytes)
{
	MDB_envinfo info;
	MDB_stat st;
	int rc = mdb_env_info(db->env, &info);
	if (!rc)
		rc = mdb_env_stat(db->env, &st);
	if (rc)
		return tb_db_map_err(rc);
	*bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
	return 0;
}

static uint64_t stat_pages(const MDB_stat *st)
{
	return st->ms_branch_pages + st->ms_leaf_pages + st->ms_overflow_pages;
}

/*
 * mdb_stat counts a table of duplicates' main tree only, not the sub-trees
 * of its keys' values. Those are the file's pages in use less everything
 * else: the two meta pages, the table of tables, the free list and the
 * pages it lists, and every table's tree (one table of duplicates only).
 */
static int dup_pages(struct tb_db *db, MDB_txn *txn, uint64_t *out)
{
	MDB_envinfo info;
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_env_info(db->env, &info);
	if (rc || (rc = mdb_stat(txn, MAIN_DBI_NO, &st)))
		return rc;
	uint64_t other = 2 + stat_pages(&st);
	if ((rc = mdb_stat(txn, FREE_DBI_NO, &st)) || (rc = mdb_cursor_open(txn, FREE_DBI_NO, &c)))
		return rc;
	other += stat_pages(&st);
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if (v.mv_size >= sizeof(size_t)) {
			size_t n; /* a list: its length first */
			memcpy(&n, v.mv_data, sizeof n);
			other += n;
		}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	for (int i = 0; i < TB_T__COUNT; i++) {
		if (db->absent[i])
			continue;
		if ((rc = mdb_stat(txn, db->dbi[i], &st)))
			return rc;
		other += stat_pages(&st);
	}
	uint64_t used = (uint64_t)info.me_last_pgno + 1;
	*out = used > other ? used - other : 0;
	return 0;
}

int tb_db_table_stat(struct tb_db *db, enum tb_table tab, struct tb_db_table_stat *out)
{
	memset(out, 0, sizeof *out);
	out->name = tb_db_table_name(tab);
	if (db->absent[tab])
		return 0;
	MDB_txn *txn;
	MDB_stat st;
	int rc = mdb_txn_begin(db->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return tb_db_map_err(rc);
	rc = mdb_stat(txn, db->dbi[tab], &st);
	if (!rc && (tb_db_table_flags(tab) & MDB_DUPSORT))
		rc = dup_pages(db, txn, &out->dup);
	mdb_txn_abort(txn);
	if (rc)
		return tb_db_map_err(rc);
	out->depth = st.ms_depth;
	out->entries = st.ms_entries;
	out->branch = st.ms_branch_pages;
	out->leaf = st.ms_leaf_pages;
	out->overflow = st.ms_overflow_pages;
	out->page_size = st.ms_psize;
	return 0;
}

int tb_db_copy(struct tb_db *db, int fd)
{
	return tb_db_map_err(mdb_env_copyfd2(db->env, fd, MDB_CP_COMPACT));
}

/* One table of src's read transaction appended to dst's (emptied) one. */
static int clone_table(MDB_txn *dst, MDB_dbi ddbi, MDB_txn *src, MDB_dbi sdbi)
{
	MDB_cursor *c;
	int rc = mdb_drop(dst, ddbi, 0);
	if (rc || (rc = mdb_cursor_open(src, sdbi, &c)))
		return rc;
	/* A table of duplicates: the next value of the same key is appended
	 * to the key's values, not after the last key. */
	MDB_val k, v, prev = {0, NULL};
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		bool same = prev.mv_data && k.mv_size == prev.mv_size &&
			    !memcmp(k.mv_data, prev.mv_data, k.mv_size);
		if ((rc = mdb_put(dst, ddbi, &k, &v, same ? MDB_APPENDDUP : MDB_APPEND)))
			break;
		prev = k;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int tb_db_clone(struct tb_db *dst, struct tb_db *src)
{
	TB_ASSERT((dst->flags & TB_DB_NOSYNC) && dst != src);
	MDB_txn *st = NULL, *dt = NULL;
	int rc = mdb_txn_begin(src->env, NULL, MDB_RDONLY, &st);
	if (!rc)
		rc = mdb_txn_begin(dst->env, NULL, 0, &dt);
	for (int i = 0; !rc && i < TB_T__COUNT; i++)
		rc = clone_table(dt, dst->dbi[i], st, src->dbi[i]);
	if (dt) {
		if (rc)
			mdb_txn_abort(dt);
		else
			rc = mdb_txn_commit(dt);
	}
	if (st)
		mdb_txn_abort(st);
	return tb_db_map_err(rc);
}
