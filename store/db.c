/*
 * db.c: the thin LMDB wrapper (with db_stat.c, the only files that include
 * lmdb.h, through db_env.h).
 *
 * One environment per data directory, one named database per table, every
 * write in a transaction with a sticky error. Durability: unless the caller
 * asked for a scratch store (NOSYNC, used for audits), a commit returns only
 * after it is on disk. LMDB flushes the commit's pages before it writes the
 * meta page that makes them current (MDB_NOMETASYNC: that page is not
 * flushed there); the meta page is made durable after the writer lock is
 * released, by this process's flush or by a later commit's page flush,
 * whichever comes first (sync_meta): so writers of several processes share
 * flushes, and none returns before its commit is on disk. Group commit
 * (tb_db_group_*): the write transactions one thread begins while it joins
 * a group are LMDB children of one transaction, committed durably once for
 * all of them. It never deletes or overwrites an entry: the only deletes
 * are on derived and local tables.
 */
#include "db_env.h"
#include "tb_testhooks.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

static const char *const table_names[TB_T__COUNT] = {
#define TB__TABLE_NAME(id, name, class) name,
	TB_TABLES(TB__TABLE_NAME)
#undef TB__TABLE_NAME
};

/* Names of tables no longer written, deleted by the last transaction of a
 * conversion or reindex (tb_txn_drop_retired): "merkle" held every node of
 * the trees keyed by first leaf (before "mtree"), "history" the statement
 * lines a row each (before "statements"). */
static const char *const retired[] = {"merkle", "history"};

/* A read-only open of a store whose META "derived" is older than the layout
 * that added a table reads the table that layout replaced (rows of the
 * older layout: the reader tells them by their lengths). */
static const char *const older[TB_T__COUNT] = {[TB_T_STATEMENTS] = "history"};
static const uint32_t older_until[TB_T__COUNT] = {[TB_T_STATEMENTS] = 4};

/* A member's statement lines are duplicates of one key, kept in order by
 * their big-endian seq: a line appended lands at the end of its set. */
unsigned tb_db_table_flags(enum tb_table tab)
{
	return tab == TB_T_STATEMENTS ? MDB_DUPSORT | MDB_DUPFIXED : 0;
}

#define TB__IS_DERIVED_PRIMARY false
#define TB__IS_DERIVED_DERIVED true
#define TB__IS_DERIVED_LOCAL false
#define TB__IS_DERIVED_PRUNED false
static const bool table_derived[TB_T__COUNT] = {
#define TB__TABLE_DERIVED(id, name, class) [TB_T_##id] = TB__IS_DERIVED_##class,
	TB_TABLES(TB__TABLE_DERIVED)
#undef TB__TABLE_DERIVED
};

/* Tables an older store may lack: read-only, they read as empty. */
#define TB__MAY_LACK_PRIMARY false
#define TB__MAY_LACK_DERIVED true
#define TB__MAY_LACK_LOCAL false
#define TB__MAY_LACK_PRUNED true
static const bool table_may_lack[TB_T__COUNT] = {
#define TB__TABLE_MAY_LACK(id, name, class) [TB_T_##id] = TB__MAY_LACK_##class,
	TB_TABLES(TB__TABLE_MAY_LACK)
#undef TB__TABLE_MAY_LACK
};

const char *tb_db_table_name(enum tb_table tab)
{
	return table_names[tab];
}

bool tb_table_is_derived(enum tb_table tab)
{
	return table_derived[tab];
}

int tb_db_map_err(int rc)
{
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return TB_ENOTFOUND;
	case MDB_KEYEXIST:
		return TB_EEXISTS;
	case MDB_MAP_FULL:
	case MDB_TXN_FULL:
	case MDB_DBS_FULL:
		return TB_EFULL;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return TB_ECORRUPT;
	case ENOMEM:
		return TB_ENOMEM;
	case ENOENT:
		return TB_ENOTFOUND;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return TB_EDISKFULL;
	case EACCES:
	case EPERM:
	case EROFS:
		return TB_EPERM;
	case EIO:
		return TB_EIO;
	}
	return TB_ESTORE;
}

/*
 * A read-only open reads what a writable open would not rebuild: it refuses
 * a store whose rebuild is under way or was cut short (its derived tables
 * are part-built: the "reindexing" mark, reindex.c), and it learns the
 * derived tables' layout (META "derived", TB_DB_LAYOUT_UNKNOWN if none) to
 * read the tables that layout wrote, whatever other tables exist.
 */
#define TB_DB_REINDEXING (-100000) /* not an LMDB code */
static int read_layout(MDB_txn *txn, MDB_dbi meta, uint32_t *layout)
{
	MDB_val k = {10, "reindexing"}, v;
	int rc = mdb_get(txn, meta, &k, &v);
	if (rc == 0)
		return TB_DB_REINDEXING;
	if (rc != MDB_NOTFOUND)
		return rc;
	k = (MDB_val){7, "derived"};
	rc = mdb_get(txn, meta, &k, &v);
	if (rc == 0 && v.mv_size == 4)
		*layout = tb_be32_get(v.mv_data);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

int tb_db_open(struct tb_db **out, const char *dir, unsigned flags)
{
	*out = NULL;
	struct tb_db *db = calloc(1, sizeof *db);
	if (!db)
		return TB_ENOMEM;
	db->flags = flags;
	int rc = mdb_env_create(&db->env);
	if (rc) {
		free(db);
		return tb_db_map_err(rc);
	}
	unsigned envflags = MDB_NOTLS;
	if (flags & TB_DB_RDONLY)
		envflags |= MDB_RDONLY;
	/* A scratch store is a fresh sparse file written through the map: the
	 * kernel's readahead on each fault only reads holes (on ext4 it was
	 * half the system time of a small verify). */
	if (flags & TB_DB_NOSYNC)
		envflags |= MDB_NOSYNC | MDB_WRITEMAP | MDB_MAPASYNC | MDB_NORDAHEAD;
	else if (!(flags & TB_DB_RDONLY))
		envflags |= MDB_NOMETASYNC; /* the meta page's flush: sync_meta */
	/* Fault injection of the crash tests (like the node's TALLY_CRASH_AT). */
	const char *at = tb_test_env("TALLY_CRASH_AT");
	db->crash_unsynced = at && !strcmp(at, "commit-unsynced");
	if ((rc = mdb_env_set_maxdbs(db->env, TB_T__COUNT + 4)) ||
	    (rc = mdb_env_set_mapsize(db->env, TB_DB_MAPSIZE)) ||
	    (rc = mdb_env_set_maxreaders(db->env, 126)) ||
	    (rc = mdb_env_open(db->env, dir, envflags, 0600)))
		goto fail;

	MDB_txn *txn;
	uint32_t layout = TB_DB_LAYOUT_UNKNOWN;
	if ((rc = mdb_txn_begin(db->env, NULL, flags & TB_DB_RDONLY ? MDB_RDONLY : 0, &txn)))
		goto fail;
	for (int i = 0; i < TB_T__COUNT; i++) {
		unsigned tf = tb_db_table_flags((enum tb_table)i);
		const char *name = table_names[i];
		if ((flags & TB_DB_RDONLY) && older[i] && layout < older_until[i]) {
			name = older[i];
			tf = 0;
		}
		rc = mdb_dbi_open(txn, name, flags & TB_DB_RDONLY ? tf : tf | MDB_CREATE,
				  &db->dbi[i]);
		if (rc == 0 && i == TB_T_META && (flags & TB_DB_RDONLY))
			rc = read_layout(txn, db->dbi[i], &layout);
		/* A store written by an older version lacks the derived (and
		 * pruned) tables added since: read-only, they read as empty (a write open
		 * creates them and reindexes, store.c). */
		if (rc == MDB_NOTFOUND && (flags & TB_DB_RDONLY) && table_may_lack[i]) {
			db->absent[i] = true;
			rc = 0;
		}
		if (rc) {
			mdb_txn_abort(txn);
			goto fail;
		}
	}
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	*out = db;
	return 0;
fail:
	mdb_env_close(db->env);
	free(db);
	return rc == TB_DB_REINDEXING ? TB_EREINDEX : tb_db_map_err(rc);
}

void tb_db_close(struct tb_db *db)
{
	if (!db)
		return;
	mdb_env_close(db->env);
	free(db);
}

void tb_db_drop(struct tb_db *db, enum tb_table tab)
{
	TB_ASSERT((db->flags & TB_DB_NOSYNC) && tb_table_is_derived(tab));
	db->dropped[tab] = db->absent[tab] = true;
}

int tb_db_fd(struct tb_db *db)
{
	mdb_filehandle_t fd;
	return mdb_env_get_fd(db->env, &fd) ? -1 : fd;
}

static bool group_owner(const struct tb_db *db)
{
	return db->joining && pthread_equal(db->owner, pthread_self());
}

static int group_close(struct tb_db *db)
{
	TB_ASSERT(!db->member);
	db->group_open = false;
	return tb_txn_commit(&db->group);
}

/* A transaction begun by the group's thread while it joins: a write is a
 * child of the group (opened by the first write), a read reads the group
 * (its open member's writes included). */
static void group_member(struct tb_txn *t, struct tb_db *db)
{
	if (!db->group_open) {
		MDB_txn *g = NULL;
		db->group = (struct tb_txn){.db = db, .rw = true};
		db->group.ret = tb_db_map_err(mdb_txn_begin(db->env, NULL, 0, &g));
		db->group.txn = g;
		db->group_open = true;
	}
	t->grouped = true;
	if ((t->ret = db->group.ret))
		return;
	if (!t->rw) {
		t->txn = db->member ? db->member : db->group.txn;
		return;
	}
	TB_ASSERT(!db->member);
	MDB_txn *txn = NULL;
	t->ret = tb_db_map_err(mdb_txn_begin(db->env, db->group.txn, 0, &txn));
	t->txn = db->member = txn;
}

/* A member's end: a write's child committed into the group (or dropped). */
static int member_end(struct tb_txn *t, bool commit)
{
	struct tb_db *db = t->db;
	if (t->rw && t->txn) {
		TB_ASSERT(db->member == t->txn);
		db->member = NULL;
		int rc = 0;
		if (commit && !t->ret)
			rc = mdb_txn_commit(t->txn);
		else
			mdb_txn_abort(t->txn);
		if (rc) { /* LMDB may have left the group half-merged */
			t->ret = tb_db_map_err(rc);
			if (!db->group.ret)
				db->group.ret = t->ret;
		} else if (commit && !t->ret)
			db->group.bytes += t->bytes;
	}
	t->txn = NULL;
	return t->ret;
}

void tb_db_group_join(struct tb_db *db)
{
	if (db->flags & (TB_DB_NOSYNC | TB_DB_RDONLY))
		return;
	TB_ASSERT(!db->joining);
	db->joining = true;
	db->owner = pthread_self();
}

void tb_db_group_leave(struct tb_db *db)
{
	TB_ASSERT(!db->member);
	db->joining = false;
}

int tb_db_group_commit(struct tb_db *db, bool *committed)
{
	if (committed)
		*committed = db->group_open || db->early;
	db->early = false;
	int ret = db->group_open ? group_close(db) : 0;
	if (!ret) /* a group closed early in the same turn */
		ret = db->early_ret;
	db->early_ret = 0;
	return ret;
}

void tb_txn_begin(struct tb_txn *t, struct tb_db *db, bool rw)
{
	t->db = db;
	t->rw = rw;
	t->txn = NULL;
	t->bytes = 0;
	t->parent = NULL;
	t->grouped = false;
	if (group_owner(db) && (rw || db->group_open)) {
		group_member(t, db);
		return;
	}
	if (rw && db->group_open && pthread_equal(db->owner, pthread_self())) {
		int err = group_close(db);
		db->early = true;
		if (!db->early_ret)
			db->early_ret = err;
	}
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(db->env, NULL, rw ? 0 : MDB_RDONLY, &txn);
	t->ret = tb_db_map_err(rc);
	t->txn = txn;
}

/*
 * LMDB reports a short write as EIO, and a write that fills the disk (or
 * meets the file size limit) is short before it fails: so an EIO when less
 * room is left than the commit needed is a full disk.
 */
static bool out_of_space(struct tb_db *db, uint64_t need)
{
	const char *dir;
	struct statvfs sv;
	if (mdb_env_get_path(db->env, &dir))
		return false;
	if (!statvfs(dir, &sv) && (uint64_t)sv.f_bavail * sv.f_frsize < need)
		return true;
	char file[4200];
	struct stat st;
	struct rlimit rl;
	snprintf(file, sizeof file, "%s/data.mdb", dir);
	return !getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur != RLIM_INFINITY && !stat(file, &st) &&
	       (uint64_t)st.st_size + need > (uint64_t)rl.rlim_cur;
}

/*
 * Makes commit `id` durable (its pages were flushed before its meta page was
 * written). A later commit, of any process, flushed its own pages after our
 * meta page was written (the writer lock orders them) and only then wrote
 * its meta page: so a last txnid past ours means ours is on disk already.
 * Else one flush of the file covers every commit up to the last one now.
 */
static int sync_meta(struct tb_db *db, uint64_t id)
{
	MDB_envinfo info;
	if (db->synced >= id)
		return 0;
	int rc = mdb_env_info(db->env, &info);
	if (rc)
		return rc;
	uint64_t last = info.me_last_txnid;
	if (last < id) /* a commit with nothing to write: no meta page */
		return 0;
	if (last > id) {
		db->synced = last - 1;
		return 0;
	}
	if (db->crash_unsynced)
		raise(SIGKILL);
	if ((rc = mdb_env_sync(db->env, 1)))
		return rc;
	db->synced = last;
	return 0;
}

/* Writes straight into the parent (no LMDB child: see db.h). */
static bool shared_child(const struct tb_txn *t)
{
	return t->parent && t->txn == t->parent->txn;
}

/* A child's commit: its writes (and its size) join the parent's. */
static int child_commit(struct tb_txn *t)
{
	struct tb_txn *p = t->parent;
	if (t->txn && !shared_child(t)) {
		if (t->ret)
			mdb_txn_abort(t->txn);
		else
			t->ret = tb_db_map_err(mdb_txn_commit(t->txn));
	}
	t->txn = NULL;
	if (t->ret && !p->ret)
		p->ret = t->ret;
	if (!t->ret)
		p->bytes += t->bytes;
	return t->ret;
}

int tb_txn_commit(struct tb_txn *t)
{
	if (t->parent)
		return child_commit(t);
	if (t->grouped)
		return member_end(t, true);
	if (!t->txn)
		return t->ret;
	if (t->ret) {
		mdb_txn_abort(t->txn);
		t->txn = NULL;
		return t->ret;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	uint64_t id = t->rw ? mdb_txn_id(t->txn) : 0;
	int rc = mdb_txn_commit(t->txn);
	if (!rc && t->rw && !(t->db->flags & TB_DB_NOSYNC))
		rc = sync_meta(t->db, id);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (t->rw && !rc) {
		/* A write commit's time is mostly its fsync. */
		uint64_t ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
			      (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
		struct tb_db_stats *st = &t->db->stats;
		st->commits++;
		st->commit_ns += ns;
		for (size_t i = 0; i < TB_DB_BUCKETS; i++)
			if (ns <= tb_db_bucket_ns[i])
				st->le[i]++;
	}
	t->txn = NULL;
	t->ret = tb_db_map_err(rc);
	/* LMDB writes whole pages, and at least two (the meta page). */
	uint64_t need = ((t->bytes + 4095) / 4096 + 2) * 4096;
	if (t->ret == TB_EIO && out_of_space(t->db, need))
		t->ret = TB_EDISKFULL;
	if (t->ret == TB_EDISKFULL)
		t->db->need = need;
	return t->ret;
}

void tb_txn_abort(struct tb_txn *t)
{
	if (t->grouped) {
		(void)member_end(t, false);
	} else if (shared_child(t)) {
		/* Nothing to undo by construction; a storage error stays. */
		if (t->ret && !t->parent->ret)
			t->parent->ret = t->ret;
		t->parent->bytes += t->bytes;
	} else if (t->txn) {
		mdb_txn_abort(t->txn);
	}
	t->txn = NULL;
}

void tb_txn_child_begin(struct tb_txn *child, struct tb_txn *parent)
{
	TB_ASSERT(parent->rw);
	child->db = parent->db;
	child->rw = true;
	child->parent = parent;
	child->txn = NULL;
	child->bytes = 0;
	child->grouped = false;
	child->ret = parent->ret;
	if (child->ret)
		return;
	if (parent->db->flags & TB_DB_NOSYNC) {
		child->txn = parent->txn;
		return;
	}
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(parent->db->env, parent->txn, 0, &txn);
	child->ret = tb_db_map_err(rc);
	child->txn = txn;
}

bool tb_txn_child_nested(const struct tb_txn *child)
{
	return !shared_child(child);
}

int tb_txn_get(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
	       struct tb_view *val)
{
	TB_ASSERT(!(tb_db_table_flags(tab) & MDB_DUPSORT)); /* the first value only */
	if (t->ret)
		return t->ret;
	if (t->db->absent[tab])
		return TB_ENOTFOUND;
	MDB_val k = {klen, (void *)key}, v;
	int rc = mdb_get(t->txn, t->db->dbi[tab], &k, &v);
	if (rc == MDB_NOTFOUND)
		return TB_ENOTFOUND;
	if (rc)
		return t->ret = tb_db_map_err(rc);
	val->p = v.mv_data;
	val->len = v.mv_size;
	return 0;
}

static void put(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen, const void *val,
		size_t vlen, unsigned flags)
{
	if (t->ret)
		return;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	t->ret = tb_db_map_err(mdb_put(t->txn, t->db->dbi[tab], &k, &v, flags));
	t->bytes += klen + vlen;
}

/*
 * A value of a table of duplicates: after the last of its key's, LMDB's
 * append-dup leaves the pages it splits full. It must know the value comes
 * last: an out-of-order append-dup fails the whole transaction.
 */
static void put_dup(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
		    const void *val, size_t vlen)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(t->txn, t->db->dbi[tab], &c);
	if (rc) {
		t->ret = tb_db_map_err(rc);
		return;
	}
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val}, last;
	rc = mdb_cursor_get(c, &k, &last, MDB_SET_KEY);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &last, MDB_LAST_DUP);
	unsigned flags = 0;
	if (rc == 0 && last.mv_size == vlen && memcmp(val, last.mv_data, vlen) > 0)
		flags = MDB_APPENDDUP;
	if (rc == 0 || rc == MDB_NOTFOUND) {
		k = (MDB_val){klen, (void *)key};
		rc = mdb_cursor_put(c, &k, &v, flags);
	}
	mdb_cursor_close(c);
	t->ret = tb_db_map_err(rc);
	t->bytes += klen + vlen;
}

void tb_txn_put(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen, const void *val,
		size_t vlen)
{
	if (t->db->dropped[tab])
		return;
	if (tb_db_table_flags(tab) & MDB_DUPSORT) {
		if (!t->ret)
			put_dup(t, tab, key, klen, val, vlen);
		return;
	}
	/* Entries are written once: overwriting one is a bug. */
	unsigned flags = tab == TB_T_ENTRIES ? MDB_NOOVERWRITE : 0;
	/* Entries and Merkle nodes come in key order within a log: after the
	 * last key of the table, LMDB's append leaves the page it splits full
	 * (a plain put moves its last record to the new page too). */
	if ((tab == TB_T_ENTRIES || tab == TB_T_MERKLE) && !t->ret) {
		MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
		int rc = mdb_put(t->txn, t->db->dbi[tab], &k, &v, flags | MDB_APPEND);
		if (rc != MDB_KEYEXIST) { /* else: not after the last key */
			t->ret = tb_db_map_err(rc);
			t->bytes += klen + vlen;
			return;
		}
	}
	put(t, tab, key, klen, val, vlen, flags);
}

void tb_txn_insert(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
		   const void *val, size_t vlen)
{
	TB_ASSERT(!(tb_db_table_flags(tab) & MDB_DUPSORT)); /* NOOVERWRITE is on the key */
	put(t, tab, key, klen, val, vlen, MDB_NOOVERWRITE);
}

void tb_txn_append(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
		   const void *val, size_t vlen, bool same_key)
{
	TB_ASSERT(same_key ? (tb_db_table_flags(tab) & MDB_DUPSORT) != 0 : true);
	put(t, tab, key, klen, val, vlen, same_key ? MDB_APPENDDUP : MDB_APPEND);
}

void tb_txn_del(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen)
{
	TB_ASSERT(tab != TB_T_ENTRIES && tab != TB_T_LOGNUM);
	if (t->ret)
		return;
	MDB_val k = {klen, (void *)key};
	int rc = mdb_del(t->txn, t->db->dbi[tab], &k, NULL);
	if (rc && rc != MDB_NOTFOUND)
		t->ret = tb_db_map_err(rc);
}

void tb_txn_drop(struct tb_txn *t, enum tb_table tab)
{
	TB_ASSERT(table_derived[tab]);
	if (t->ret)
		return;
	t->ret = tb_db_map_err(mdb_drop(t->txn, t->db->dbi[tab], 0));
}

bool tb_txn_absent(const struct tb_txn *t, enum tb_table tab)
{
	return t->db->absent[tab];
}

static int foreach_dbi(struct tb_txn *t, MDB_dbi dbi, const void *prefix, size_t plen,
		       const void *from, size_t flen, tb_foreach_fn cb, void *ctx)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(t->txn, dbi, &c);
	if (rc)
		return t->ret = tb_db_map_err(rc);
	MDB_val k, v;
	if (from && flen) {
		k.mv_size = flen;
		k.mv_data = (void *)from;
	} else {
		k.mv_size = plen;
		k.mv_data = (void *)prefix;
	}
	rc = mdb_cursor_get(c, &k, &v, k.mv_size ? MDB_SET_RANGE : MDB_FIRST);
	int ret = 0;
	while (rc == 0) {
		/* No prefix (NULL, 0) matches every key; memcmp must not see NULL. */
		if (plen && (k.mv_size < plen || memcmp(k.mv_data, prefix, plen)))
			break;
		struct tb_view kv = {k.mv_data, k.mv_size}, vv = {v.mv_data, v.mv_size};
		if ((ret = cb(ctx, kv, vv)))
			break;
		rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return t->ret = tb_db_map_err(rc);
	return ret;
}

int tb_txn_foreach(struct tb_txn *t, enum tb_table tab, const void *prefix, size_t plen,
		   const void *from, size_t flen, tb_foreach_fn cb, void *ctx)
{
	if (t->ret)
		return t->ret;
	if (t->db->absent[tab])
		return 0;
	return foreach_dbi(t, t->db->dbi[tab], prefix, plen, from, flen, cb, ctx);
}

int tb_txn_foreach_retired(struct tb_txn *t, const char *name, const void *from, size_t flen,
			   tb_foreach_fn cb, void *ctx)
{
	MDB_dbi dbi;
	if (t->ret)
		return t->ret;
	int rc = mdb_dbi_open(t->txn, name, 0, &dbi);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return t->ret = tb_db_map_err(rc);
	return foreach_dbi(t, dbi, NULL, 0, from, flen, cb, ctx);
}

void tb_txn_drop_retired(struct tb_txn *t)
{
	TB_ASSERT(t->rw);
	for (size_t i = 0; !t->ret && i < sizeof retired / sizeof *retired; i++) {
		MDB_dbi old;
		int rc = mdb_dbi_open(t->txn, retired[i], 0, &old);
		if (rc == 0)
			rc = mdb_drop(t->txn, old, 1);
		if (rc && rc != MDB_NOTFOUND)
			t->ret = tb_db_map_err(rc);
	}
}

const char *tb_db_dir(struct tb_db *db)
{
	const char *dir = NULL;
	return mdb_env_get_path(db->env, &dir) ? NULL : dir;
}

int tb_txn_last(struct tb_txn *t, enum tb_table tab, const void *prefix, size_t plen,
		struct tb_view *key, struct tb_view *val)
{
	TB_ASSERT(!(tb_db_table_flags(tab) & MDB_DUPSORT)); /* a key's first value only */
	if (t->ret)
		return t->ret;
	if (t->db->absent[tab])
		return TB_ENOTFOUND;
	MDB_cursor *c;
	int rc = mdb_cursor_open(t->txn, t->db->dbi[tab], &c);
	if (rc)
		return t->ret = tb_db_map_err(rc);
	/* Position after the prefix range: prefix followed by 0xff bytes. */
	uint8_t probe[64];
	TB_ASSERT(plen < sizeof probe);
	memcpy(probe, prefix, plen);
	memset(probe + plen, 0xff, sizeof probe - plen);
	MDB_val k = {sizeof probe, probe}, v;
	rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	int ret = TB_ENOTFOUND;
	if (rc == 0 && k.mv_size >= plen && !memcmp(k.mv_data, prefix, plen)) {
		key->p = k.mv_data;
		key->len = k.mv_size;
		val->p = v.mv_data;
		val->len = v.mv_size;
		ret = 0;
	}
	mdb_cursor_close(c);
	if (rc && rc != MDB_NOTFOUND)
		return t->ret = tb_db_map_err(rc);
	return ret;
}

const uint64_t tb_db_bucket_ns[TB_DB_BUCKETS] = {1000000,   5000000,   10000000,  50000000,
						 100000000, 500000000, 1000000000};

void tb_db_stats(const struct tb_db *db, struct tb_db_stats *out)
{
	*out = db->stats;
}

uint64_t tb_db_need(const struct tb_db *db)
{
	return db->need;
}
