/*
 * db_env.h: the LMDB environment behind struct tb_db, shared by db.c and
 * db_stat.c, the only files that include lmdb.h.
 */
#ifndef TB_DB_ENV_H
#define TB_DB_ENV_H

#include "db.h"

#include <lmdb.h>
#include <pthread.h>

/* 64 GiB of address space; pages are only used as data grows. */
#define TB_DB_MAPSIZE (64ull << 30)
/* LMDB's own two databases: the free list and the table of tables. */
#define FREE_DBI_NO 0
#define MAIN_DBI_NO 1

struct tb_db {
	MDB_env *env;
	MDB_dbi dbi[TB_T__COUNT];
	bool absent[TB_T__COUNT];  /* read-only: a derived (or pruned) table this store lacks */
	bool dropped[TB_T__COUNT]; /* a scratch's table whose puts are dropped (tb_db_drop) */
	unsigned flags;
	uint64_t need;		  /* bytes the last commit refused for a full disk wrote */
	uint64_t synced;	  /* every commit up to this txnid is on disk */
	bool crash_unsynced;	  /* tests: die between a commit and its meta flush */
	struct tb_db_stats stats; /* of this process's durable commits */
	/* Group commit (tb_db_group_*): the group's transaction while open,
	 * whether the owner thread's transactions join it now, its write
	 * member open now (at most one), and the result of a group committed
	 * early (by a write outside it) not yet taken. */
	struct tb_txn group;
	bool group_open, joining;
	MDB_txn *member;
	bool early;
	int early_ret;
	pthread_t owner;
};

/* An LMDB (or errno) code as one of ours. */
int tb_db_map_err(int rc);
const char *tb_db_table_name(enum tb_table tab);
unsigned tb_db_table_flags(enum tb_table tab);

#endif
