/*
 * reindex.c: rebuilds every derived index (communities, members, balances,
 * statements, transaction ids, Merkle nodes) from the logs alone, re-running the ledger
 * rules and every signature check on the way. It reads entries and never
 * writes them; derived tables are emptied first, so the result depends on the
 * logs only. A META "reindexing" mark, set before and cleared after, tells a
 * later open that an interrupted rebuild must be run again; META "derived"
 * says which layout of the derived tables the rebuild wrote. Its last
 * transaction drops the tables of older layouts (db.c). The rebuild lock
 * (DATA/reindex.lock) keeps a second process from emptying the tables
 * this one is rebuilding.
 */
#define _GNU_SOURCE /* F_OFD_SETLKW */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "store_int.h"

#define TB_REINDEX_BATCH 2048

struct reindex {
	struct tb_store *s;
	uint64_t *done, total; /* entries of every log, for progress */
	uint8_t log_id[TB_KEY_LEN];
	uint32_t lognum;
	uint8_t hash[TB_HASHLEN]; /* chain so far */
	uint64_t seq;
	struct tb_reject *rej;
};

static int reindex_log(struct reindex *r)
{
	/* Not zeroed: each element is written before it is read (a decoded
	 * entry, a queued job), and a small log touches only the first pages
	 * (zeroing 1.4 MB was most of a small store's reindex). */
	struct tb_entry *e = malloc(TB_REINDEX_BATCH * sizeof *e);
	struct tb_sigjobs jobs = {0};
	jobs.cap = TB_REINDEX_BATCH * 3;
	jobs.jobs = malloc(jobs.cap * sizeof *jobs.jobs);
	jobs.owner = malloc(jobs.cap * sizeof *jobs.owner);
	jobs.arena_cap = TB_REINDEX_BATCH * 512;
	jobs.arena = malloc(jobs.arena_cap);
	int err = (!e || !jobs.jobs || !jobs.owner || !jobs.arena) ? TB_ENOMEM : 0;
	uint8_t prefix[TB_LOG_PREFIX_LEN];
	tb_log_prefix(prefix, r->lognum);
	while (!err) {
		struct tb_txn t;
		tb_txn_begin(&t, r->s->db, true);
		jobs.n = 0;
		jobs.arena_len = 0;
		size_t n = 0;
		for (; n < TB_REINDEX_BATCH; n++) {
			uint8_t k[TB_ENTRY_KEY_LEN];
			struct tb_view rec;
			tb_entry_key(k, r->lognum, r->seq + 1);
			err = tb_txn_get(&t, TB_T_ENTRIES, k, sizeof k, &rec);
			if (err == TB_ENOTFOUND) {
				err = 0;
				break;
			}
			if (!err)
				err = tb_entry_decode(&e[n], rec.p, rec.len);
			if (!err &&
			    (e[n].seq != r->seq + 1 || memcmp(e[n].log_id, r->log_id, TB_KEY_LEN)))
				err = TB_ESEQ;
			if (!err && memcmp(e[n].prev, r->hash, TB_HASHLEN))
				err = TB_EPREV;
			if (!err && jobs.n < jobs.cap) {
				tb_entry_verify_job(&jobs.jobs[jobs.n], &e[n]);
				jobs.owner[jobs.n++] = n;
				err = tb_rules_apply(&t, r->lognum, &e[n], &jobs, n, r->rej);
			}
			if (err) {
				if (r->rej && r->rej->err != err)
					tb_reject_set(r->rej, err, r->log_id, r->seq + 1, "%s",
						      tb_strerror(err));
				break;
			}
			tb_entry_hash(r->hash, rec.p, rec.len);
			tb_merkle_store_leaf(&t, r->lognum, r->seq);
			r->seq++;
		}
		if (!err && jobs.n && tb_verify_batch(jobs.jobs, jobs.n, r->s->threads)) {
			for (size_t j = 0; j < jobs.n; j++) {
				if (jobs.jobs[j].result) {
					const struct tb_entry *b = &e[jobs.owner[j]];
					err = tb_reject_set(r->rej, TB_EBADSIG, r->log_id, b->seq,
							    "a signature does not verify");
					break;
				}
			}
		}
		if (err) {
			tb_txn_abort(&t);
			break;
		}
		if ((err = tb_txn_commit(&t)))
			break;
		*r->done += n;
		if (r->s->progress)
			r->s->progress(r->s->progress_ctx, *r->done, r->total);
		if (n < TB_REINDEX_BATCH)
			break;
	}
	free(e);
	free(jobs.jobs);
	free(jobs.owner);
	free(jobs.arena);
	return err;
}

static int set_mark(struct tb_store *s, bool on)
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	if (on) {
		for (int tab = 0; tab < TB_T__COUNT; tab++)
			if (tb_table_is_derived(tab))
				tb_txn_drop(&t, tab);
		tb_txn_put(&t, TB_T_META, "reindexing", 10, "1", 1);
	} else {
		uint8_t v[4];
		tb_be32_put(v, TB_DERIVED_VERSION);
		tb_txn_del(&t, TB_T_META, "reindexing", 10);
		tb_txn_del(&t, TB_T_META, "converting", 10); /* convert.c's, if cut short */
		tb_txn_put(&t, TB_T_META, "derived", 7, v, sizeof v);
		tb_txn_drop_retired(&t);
	}
	return tb_txn_commit(&t);
}

struct lognums {
	uint8_t (*ids)[TB_KEY_LEN];
	uint32_t *nums;
	size_t n, cap;
	uint64_t entries; /* the logs' heads' seqs summed */
};

static int collect_log(void *ctx, struct tb_view k, struct tb_view v)
{
	struct lognums *l = ctx;
	if (k.len != 4 || v.len != TB_KEY_LEN)
		return TB_ECORRUPT;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *ids = realloc(l->ids, cap * TB_KEY_LEN);
		if (!ids)
			return TB_ENOMEM;
		l->ids = ids;
		void *nums = realloc(l->nums, cap * sizeof *l->nums);
		if (!nums)
			return TB_ENOMEM;
		l->nums = nums;
		l->cap = cap;
	}
	memcpy(l->ids[l->n], v.p, TB_KEY_LEN);
	l->nums[l->n++] = tb_be32_get(k.p);
	return 0;
}

static int count_entries(void *ctx, struct tb_view k, struct tb_view v)
{
	struct lognums *l = ctx;
	struct tb_logstate st;
	(void)k;
	if (tb_logstate_unpack(&st, v))
		return TB_ECORRUPT;
	l->entries += st.seq;
	return 0;
}

/* Open file description locks (Linux) exclude two opens of one process
 * too; elsewhere a process-wide POSIX lock. */
#ifdef F_OFD_SETLKW
#define TB_LOCK_WAIT F_OFD_SETLKW
#else
#define TB_LOCK_WAIT F_SETLKW
#endif

int tb_rebuild_lock(struct tb_store *s, int *fd)
{
	*fd = -1;
	const char *dir = tb_db_dir(s->db);
	if (s->flags & TB_STORE_SCRATCH)
		return 0;
	if (!dir)
		return TB_EIO;
	char path[4200];
	snprintf(path, sizeof path, "%s/reindex.lock", dir);
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (f < 0)
		return errno == EACCES || errno == EPERM || errno == EROFS ? TB_EPERM : TB_EIO;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	int rc;
	while ((rc = fcntl(f, TB_LOCK_WAIT, &fl)) && errno == EINTR)
		;
	if (rc) {
		close(f);
		return TB_EIO;
	}
	*fd = f;
	return 0;
}

void tb_rebuild_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the lock */
}

int tb_store_reindex(struct tb_store *s, struct tb_reject *rej)
{
	int fd;
	if (s->flags & TB_STORE_RDONLY)
		return TB_EINVAL;
	int err = tb_rebuild_lock(s, &fd);
	if (!err)
		err = tb_store_reindex_locked(s, rej);
	tb_rebuild_unlock(fd);
	return err;
}

int tb_store_reindex_locked(struct tb_store *s, struct tb_reject *rej)
{
	if (rej)
		memset(rej, 0, sizeof *rej);
	if (s->flags & TB_STORE_RDONLY)
		return TB_EINVAL;
	struct lognums logs = {0};
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_LOGNUM, NULL, 0, NULL, 0, collect_log, &logs);
	if (!err && s->progress)
		err = tb_txn_foreach(&t, TB_T_LOGS, NULL, 0, NULL, 0, count_entries, &logs);
	tb_txn_abort(&t);
	uint64_t done = 0;
	if (!err)
		err = set_mark(s, true);
	for (size_t i = 0; !err && i < logs.n; i++) {
		struct reindex r = {.s = s,
				    .lognum = logs.nums[i],
				    .rej = rej,
				    .done = &done,
				    .total = logs.entries};
		memcpy(r.log_id, logs.ids[i], TB_KEY_LEN);
		err = reindex_log(&r);
		if (err)
			break;
		/* The rebuilt chain must end where the log's head says. */
		struct tb_txn rt;
		struct tb_logstate l;
		tb_txn_begin(&rt, s->db, false);
		err = tb_logstate_get(&rt, r.log_id, &l);
		tb_txn_abort(&rt);
		if (!err && (l.seq != r.seq || memcmp(l.hash, r.hash, TB_HASHLEN)))
			err = tb_reject_set(rej, TB_ECORRUPT, r.log_id, r.seq,
					    "the log's head does not match its entries");
	}
	if (!err)
		err = set_mark(s, false);
	free(logs.ids);
	free(logs.nums);
	return err;
}
