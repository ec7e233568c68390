/*
 * open.c: opening and closing a store, and the scratch stores audits build
 * in a temporary directory. A writable open rebuilds the derived tables (a
 * reindex cut short, or derived tables of another layout; layout 3's are
 * converted) before anyone reads them, under the rebuild lock.
 * It is the one file of store/ that calls the reindex from outside it, so
 * the reads in store.c call nothing that applies rules.
 */
#include <stdlib.h>
#include <unistd.h>

#include "store_int.h"

enum rebuild { REBUILD_NONE, REBUILD_CONVERT, REBUILD_ALL };

/* What the derived tables need before anyone reads them: nothing, the
 * conversion of layout 3's statements (convert.c), or a reindex (one cut
 * short, whose mark is still set, or derived tables of another layout). */
static int rebuild_needed(struct tb_store *s, enum rebuild *need)
{
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_META, "reindexing", 10, &v);
	*need = REBUILD_ALL;
	if (err == TB_ENOTFOUND) {
		err = tb_txn_get(&t, TB_T_META, "derived", 7, &v);
		uint32_t layout = !err && v.len == 4 ? tb_be32_get(v.p) : 0;
		if (layout == TB_DERIVED_VERSION)
			*need = REBUILD_NONE;
		else if (layout == 3)
			*need = REBUILD_CONVERT;
		if (err == TB_ENOTFOUND)
			err = 0;
	}
	tb_txn_abort(&t);
	return err;
}

/* Decided again once the lock is held: another process may have done the
 * work (or begun it, and been killed) while this one waited. */
static int rebuild(struct tb_store *s)
{
	enum rebuild need;
	int fd = -1;
	int err = rebuild_needed(s, &need);
	if (!err && need != REBUILD_NONE && (s->flags & TB_STORE_NOREBUILD))
		return TB_EREINDEX;
	if (!err && need != REBUILD_NONE && !(err = tb_rebuild_lock(s, &fd)))
		err = rebuild_needed(s, &need);
	if (!err && need == REBUILD_CONVERT)
		err = tb_store_convert3(s);
	else if (!err && need == REBUILD_ALL)
		err = tb_store_reindex_locked(s, NULL);
	tb_rebuild_unlock(fd);
	return err;
}

int tb_store_open(struct tb_store **out, const char *dir, unsigned flags)
{
	return tb_store_open_progress(out, dir, flags, NULL, NULL);
}

int tb_store_open_progress(struct tb_store **out, const char *dir, unsigned flags,
			   tb_progress_fn fn, void *ctx)
{
	*out = NULL;
	struct tb_store *s = calloc(1, sizeof *s);
	if (!s)
		return TB_ENOMEM;
	s->flags = flags;
	s->progress = fn;
	s->progress_ctx = ctx;
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
	if (!(flags & TB_STORE_RDONLY) && (err = rebuild(s))) {
		tb_store_free(s);
		return err;
	}
	s->progress = NULL; /* the open's only */
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
