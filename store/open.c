/*
 * open.c: opening and closing a store, and the scratch stores audits build
 * in a temporary directory. Opening rebuilds the derived tables (a reindex
 * cut short, or derived tables of another layout) before anyone reads them.
 * It is the one file of store/ that calls the reindex from outside it, so
 * the reads in store.c call nothing that applies rules.
 */
#include <stdlib.h>
#include <unistd.h>

#include "store_int.h"

int tb_store_open(struct tb_store **out, const char *dir, unsigned flags)
{
	*out = NULL;
	struct tb_store *s = calloc(1, sizeof *s);
	if (!s)
		return TB_ENOMEM;
	s->flags = flags;
	unsigned dbflags = 0;
	if (flags & TB_STORE_RDONLY)
		dbflags |= TB_DB_RDONLY;
	if (flags & TB_STORE_SCRATCH)
		dbflags |= TB_DB_NOSYNC;
	int err = tb_db_open(&s->db, dir, dbflags);
	if (err) {
		free(s);
		return err;
	}
	/* A reindex that was cut short (its mark is still set) left the
	 * derived tables part-built, and derived tables of another layout are
	 * not read by this code: rebuild them before anyone reads them. */
	if (!(flags & TB_STORE_RDONLY)) {
		struct tb_txn t;
		struct tb_view v;
		bool rebuild;
		tb_txn_begin(&t, s->db, false);
		err = tb_txn_get(&t, TB_T_META, "reindexing", 10, &v);
		rebuild = err == 0;
		if (err == TB_ENOTFOUND) {
			err = tb_txn_get(&t, TB_T_META, "derived", 7, &v);
			rebuild = err == TB_ENOTFOUND ||
				  (!err && (v.len != 4 || tb_be32_get(v.p) != TB_DERIVED_VERSION));
			if (err == TB_ENOTFOUND)
				err = 0;
		}
		tb_txn_abort(&t);
		if (!err && rebuild)
			err = tb_store_reindex(s, NULL);
		if (err) {
			tb_store_free(s);
			return err;
		}
	}
	*out = s;
	return 0;
}

void tb_store_free(struct tb_store *s)
{
	if (!s)
		return;
	tb_verify_pool_free(s->pool);
	tb_db_close(s->db);
	free(s);
}

int tb_scratch_open(const char *tmpdir, const char *tag, char *path, size_t cap,
		    struct tb_store **scratch)
{
	/* mkdtemp's template: the Xs become a unique name. */
	snprintf(path, cap, "%s/tally-%s-XXXXXX", tmpdir ? tmpdir : "/tmp", tag);
	if (!mkdtemp(path))
		return TB_EIO;
	int err = tb_store_open(scratch, path, TB_STORE_SCRATCH);
	if (err)
		rmdir(path);
	return err;
}

void tb_scratch_close(struct tb_store *scratch, const char *path)
{
	char f[4200];
	tb_store_free(scratch);
	snprintf(f, sizeof f, "%s/data.mdb", path);
	unlink(f);
	snprintf(f, sizeof f, "%s/lock.mdb", path);
	unlink(f);
	rmdir(path);
}
