/*
 * db.h: store-internal wrapper around LMDB (the only code that sees lmdb.h is
 * db.c). A transaction carries a sticky error: after the first failure every
 * call is a no-op, and commit becomes abort, so callers check once at the end
 * (the Knot DNS pattern). Values returned by get and foreach are views into
 * the map and die with the transaction: copy them before that.
 */
#ifndef TB_DB_H
#define TB_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tb_bytes.h"
#include "tb_err.h"

/* Tables. Primary ones hold the logs; derived ones are rebuilt by reindex
 * (the Merkle nodes too: leaves are the entries' hashes);
 * local ones hold what never enters a log (memo text, pending proposals,
 * the console's coordinators and which of them attested an entry); pruned
 * ones hold objects outside every log, deleted at their expiry (listings,
 * members' invitations), and members' notice settings: never rebuilt, and
 * an older store without them reads them as empty.
 * STATEMENTS holds sorted duplicates of one fixed size (a member's statement
 * lines under one key); every other table one value per key. */
#define TB_TABLES(X)                           \
	X(META, "meta", PRIMARY)               \
	X(LOGS, "logs", PRIMARY)               \
	X(LOGNUM, "lognum", PRIMARY)           \
	X(ENTRIES, "entries", PRIMARY)         \
	X(MERKLE, "mtree", DERIVED)            \
	X(FORKS, "forks", PRIMARY)             \
	X(CHECKPOINTS, "checkpoints", PRIMARY) \
	X(COMMUNITY, "community", DERIVED)     \
	X(MEMBERS, "members", DERIVED)         \
	X(NAMES, "names", DERIVED)             \
	X(STATEMENTS, "statements", DERIVED)   \
	X(TXIDS, "txids", DERIVED)             \
	X(CLEARING, "clearing", DERIVED)       \
	X(XLEGS, "xlegs", DERIVED)             \
	X(XOPEN, "xopen", DERIVED)             \
	X(NAMEKEYS, "namekeys", DERIVED)       \
	X(XDUE, "xdue", DERIVED)               \
	X(XDECIDED, "xdecided", DERIVED)       \
	X(ADMITS, "admits", DERIVED)           \
	X(MEMOS, "memos", LOCAL)               \
	X(PENDING, "pending", LOCAL)           \
	X(COORDS, "coordinators", LOCAL)       \
	X(ATTESTED, "attested", LOCAL)         \
	X(CONTACTS, "contacts", LOCAL)         \
	X(CATEGORIES, "categories", LOCAL)     \
	X(LISTINGS, "listings", PRUNED)        \
	X(INVITES, "invites", PRUNED)          \
	X(NOTICES, "notices", PRUNED)          \
	X(KEYFILES, "keyfiles", PRUNED)        \
	X(DEVLINKS, "devlinks", PRUNED)        \
	X(ANSWERS, "answers", PRUNED)

enum tb_table {
#define TB__TABLE_ENUM(id, name, class) TB_T_##id,
	TB_TABLES(TB__TABLE_ENUM)
#undef TB__TABLE_ENUM
		TB_T__COUNT
};

struct tb_db;

struct tb_txn {
	struct tb_db *db;
	void *txn; /* MDB_txn */
	int ret;   /* sticky: first error */
	bool rw;
	uint64_t bytes;	       /* keys and values written (an estimate of its size) */
	struct tb_txn *parent; /* a child transaction's parent, else NULL */
	bool grouped;	       /* a member of the db's group (tb_db_group_join) */
};

enum { TB_DB_RDONLY = 1, TB_DB_NOSYNC = 2 };

/* Read-only (TB_DB_RDONLY), it reads the tables META "derived" says the
 * store's layout has, and refuses (TB_EREINDEX) a store whose rebuild is
 * under way or was cut short. */
int tb_db_open(struct tb_db **out, const char *dir, unsigned flags);
/* A scratch (NOSYNC) db that keeps nothing of a derived table: its puts are
 * dropped and it reads as empty (an audit's lean scratch state). */
void tb_db_drop(struct tb_db *db, enum tb_table tab);
/* The environment's data file (-1 if LMDB does not say). */
int tb_db_fd(struct tb_db *db);
/* The environment's directory (NULL if LMDB does not say). */
const char *tb_db_dir(struct tb_db *db);
/* META "derived" absent: a store older than the mark (layout 1). */
#define TB_DB_LAYOUT_UNKNOWN 0
void tb_db_close(struct tb_db *db);

/*
 * Group commit: the transactions a thread begins between tb_db_group_join
 * and tb_db_group_leave join one group transaction (opened by the first
 * write), each write one LMDB child of it, so a member that fails or is
 * aborted undoes only its own writes, and reads see what the members before
 * them wrote. A member's commit returns once its writes are in the group:
 * they are durable only when tb_db_group_commit returns 0, which commits the
 * group (one durable commit) and answers for every member committed since
 * the last call (*committed, if committed is not NULL: whether there was a
 * group since then). A write transaction begun by the same thread outside the
 * join (between joins) commits the group first, so nothing waits for the
 * writer lock this process holds. A scratch (NOSYNC) db does not group.
 */
void tb_db_group_join(struct tb_db *db);
void tb_db_group_leave(struct tb_db *db);
int tb_db_group_commit(struct tb_db *db, bool *committed);

void tb_txn_begin(struct tb_txn *t, struct tb_db *db, bool rw);
/* Commits (durably unless the db is NOSYNC) or, after any error, aborts.
 * Returns the sticky error or the commit's error. */
int tb_txn_commit(struct tb_txn *t);
void tb_txn_abort(struct tb_txn *t);

/*
 * A child of a write transaction (a sub-step): its writes join the parent's
 * when it commits and vanish when it aborts, so one refused step leaves the
 * parent as it was. While the child is open the parent must not be used.
 * The child's commit does not sync (the parent's does); a storage error in
 * the child becomes the parent's sticky error on commit. A store opened with
 * TB_DB_NOSYNC maps its file writable, where LMDB has no child transactions:
 * there the child writes straight into the parent, and tb_txn_child_nested
 * says so (callers then rely on checks that come before any write).
 */
void tb_txn_child_begin(struct tb_txn *child, struct tb_txn *parent);
bool tb_txn_child_nested(const struct tb_txn *child);

/* 0 and a view, TB_ENOTFOUND (not sticky), or a sticky storage error. */
int tb_txn_get(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
	       struct tb_view *val);
void tb_txn_put(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen, const void *val,
		size_t vlen);
/* Insert only; TB_EEXISTS (sticky) if the key exists. Get, insert and last
 * are for tables of one value per key (they assert it). */
void tb_txn_insert(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
		   const void *val, size_t vlen);
/* Writes after the table's last key (same_key false: a new key) or, in a
 * table of duplicates, after the last value of its last key (same_key
 * true); anything out of that order is a sticky TB_EEXISTS. A conversion's
 * rows come in key order: LMDB then leaves the pages it splits full. */
void tb_txn_append(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen,
		   const void *val, size_t vlen, bool same_key);
/* Deletes a key of a derived or local table (never of entries), with all
 * its values in a table of duplicates. */
void tb_txn_del(struct tb_txn *t, enum tb_table tab, const void *key, size_t klen);
/* Empties a derived table (reindex only). */
void tb_txn_drop(struct tb_txn *t, enum tb_table tab);
/* A derived table a read-only store of an older layout lacks (it reads as
 * empty: the caller may recompute what it holds). */
bool tb_txn_absent(const struct tb_txn *t, enum tb_table tab);

/* Calls cb for each key starting with prefix, from key `from` (>= prefix) on,
 * in key order, until cb returns non-zero (returned) or the keys end (0). */
typedef int (*tb_foreach_fn)(void *ctx, struct tb_view key, struct tb_view val);
int tb_txn_foreach(struct tb_txn *t, enum tb_table tab, const void *prefix, size_t plen,
		   const void *from, size_t flen, tb_foreach_fn cb, void *ctx);
/* Like tb_txn_foreach over every key of a table of an older layout, by its
 * name (none: no calls). */
int tb_txn_foreach_retired(struct tb_txn *t, const char *name, const void *from, size_t flen,
			   tb_foreach_fn cb, void *ctx);
/* Deletes the tables of older layouts ("merkle", "history"): the last step
 * of a conversion or reindex, so until then a read-only open of the older
 * layout still reads them. */
void tb_txn_drop_retired(struct tb_txn *t);
/* Last key with the prefix (for heads); TB_ENOTFOUND if none. */
int tb_txn_last(struct tb_txn *t, enum tb_table tab, const void *prefix, size_t plen,
		struct tb_view *key, struct tb_view *val);

/* Bytes used by the map (pages in use * page size). */
int tb_db_used_bytes(struct tb_db *db, uint64_t *bytes);
/* One table's B-tree (mdb_stat): its name, depth, records and pages. */
struct tb_db_table_stat {
	const char *name;
	unsigned depth;
	uint64_t entries;
	uint64_t branch, leaf, overflow; /* pages */
	uint64_t dup;			 /* pages of its keys' sub-trees (a table of duplicates) */
	uint32_t page_size;
};
int tb_db_table_stat(struct tb_db *db, enum tb_table tab, struct tb_db_table_stat *out);
/* Durable commits of this process and their times (a histogram with
 * cumulative buckets at 1, 5, 10, 50, 100, 500 ms and 1 s). */
#define TB_DB_BUCKETS 7
struct tb_db_stats {
	uint64_t commits;
	uint64_t commit_ns;
	uint64_t le[TB_DB_BUCKETS];
};
extern const uint64_t tb_db_bucket_ns[TB_DB_BUCKETS];
void tb_db_stats(const struct tb_db *db, struct tb_db_stats *out);
/* After a commit failed with TB_EDISKFULL: about how many bytes it needed. */
uint64_t tb_db_need(const struct tb_db *db);
/* A consistent copy of the environment's data file, compacted, to fd. */
int tb_db_copy(struct tb_db *db, int fd);
/* Empties every table of dst, a scratch (NOSYNC) db, and fills it with a
 * copy of src's: one environment reused where a copy of a store would be
 * opened and closed (the rules model's tree of states). */
int tb_db_clone(struct tb_db *dst, struct tb_db *src);
/* Whether a table is derived (rebuildable). */
bool tb_table_is_derived(enum tb_table tab);

#endif
