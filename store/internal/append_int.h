/*
 * append_int.h: what append.c (the append path) and append_audit.c (the
 * same path in audit mode) share: a batch's working arrays and the checks
 * of one entry.
 */
#ifndef TB_APPEND_INT_H
#define TB_APPEND_INT_H

#include "store_int.h"

struct batch {
	struct tb_entry *e;
	int *derr;		     /* each record's decoding: 0 or the error */
	bool *presub;		     /* log signature among ejobs */
	struct tb_verify_job *ejobs; /* log signatures checked ahead */
	size_t *eowner;		     /* the record of each */
	size_t nej;
	size_t ej0, ej1; /* those of the group being checked */
	struct tb_sigjobs jobs;
	size_t cap;
	bool *noeffect; /* audits: entries whose member signatures failed */
	bool *badsig;	/* audits: entries whose log signature failed */
};

static inline void tb_batch_reset(struct batch *b)
{
	b->jobs.n = 0;
	b->jobs.arena_len = 0;
}

/*
 * entry_check.c: checks and writes one decoded entry. Returns 0 (written), 1 (the same as a
 * held entry, or skipped in an audit) or a refusal.
 */
int tb_ingest_one(struct tb_txn *t, struct tb_entry *e, const uint8_t *rec, size_t len,
		  struct tb_sigjobs *jobs, size_t owner, bool effects, struct tb_reject *rej);

/* Runs records [0, n) as an audit (FORMAT.md 11.1), in transactions of the
 * scratch store of a few hundred records each, their mapped pages let go
 * after each; *accepted is n unless storage failed. */
int tb_run_audit(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n,
		 size_t *accepted);

#endif
