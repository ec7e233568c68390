/*
 * tb_audit.h: whole-history checking, one engine behind `tally audit`,
 * `tally verify`, export files and receipts. It sits above the store (it
 * re-appends every record to a throwaway store, so the checks are those of
 * ingest) and below the programs. FORMAT.md sections 10 and 11 say what it
 * checks and in which order it reports.
 */
#ifndef TB_AUDIT_H
#define TB_AUDIT_H

#include "tb_store.h"

/* ---- the engine ---- */

struct tb_audit;

/* A forked log whose community continues in a successor log (FORMAT.md
 * 7.11): the story an auditor reads (AUDIT.md). */
#define TB_AUDIT_STORIES 8
struct tb_audit_story {
	struct tb_successor s;
	/* Of the old log's copy audited: 1 it is the kept branch up to
	 * kept_seq, 0 it holds another entry at kept_seq (a dropped branch),
	 * -1 it holds fewer than kept_seq entries (or none). */
	int kept_held;
};

struct tb_audit_summary {
	uint64_t logs;	  /* logs with at least one entry kept (FORMAT.md 11.1) */
	uint64_t entries; /* entries kept, each (log, seq) once */
	uint64_t members;
	uint64_t exchanges;
	uint64_t reversals;
	uint64_t minutes;
	uint64_t forks;
	uint64_t checkpoints; /* checkpoints that agreed with a log held */
	uint64_t violations;
	/* Cross-community legs whose counterpart is in a log (or part of one)
	 * not held: not a violation, only unchecked. */
	uint64_t legs_unmatched;
	/* Exchanges committed by the provider whose final leg is not held yet. */
	uint64_t legs_in_flight;
	/* Forks whose community continues in one successor log held: counted
	 * in forks, not as violations; the first TB_AUDIT_STORIES told. */
	uint64_t succeeded;
	struct tb_audit_story stories[TB_AUDIT_STORIES];
};

/* A violation: the rule, log, seq and sentence, and the export item it was
 * found in (numbered from 1 in its file; 0 if none). */
struct tb_violation {
	struct tb_reject r;
	uint64_t item;
};
typedef void (*tb_audit_fn)(void *ctx, const struct tb_violation *v);

/*
 * An audit re-checks one or several communities' histories with no trust in
 * whoever produced them, and reports every violation to fn as it finds it,
 * in the order FORMAT.md 11.1 gives: signatures, placement, seq continuity
 * and prev links, ledger rules and limits at every point, balances
 * recomputed from genesis (and compared with a data directory's stored
 * ones), checkpoints, fork proofs, the legs across logs and sums per
 * community. Sources are checked in the order they are added; a log held in
 * several sources must have one history.
 */
TB_MUST_CHECK int tb_audit_new(struct tb_audit **out, const char *tmpdir, tb_audit_fn fn,
			       void *ctx);
/* A lean scratch state: no statement lines, the one table of the scratch
 * store that grows with the history and that no rule reads, only the
 * comparison of a data directory whose log another source holds further
 * does (AUDIT.md, "What the audit costs"). So for an audit of export files
 * only, or of one data directory alone: before any source; adding a
 * directory to a lean audit that has another source, or any source to a
 * lean audit of a directory, is TB_EINVAL. */
void tb_audit_set_lean(struct tb_audit *a);
/* threads: for signature checks (0: every core). */
void tb_audit_set_threads(struct tb_audit *a, unsigned threads);
TB_MUST_CHECK int tb_audit_add_dir(struct tb_audit *a, const char *ledger);
/* An export file: a damaged header is a violation (and 0 is returned). */
TB_MUST_CHECK int tb_audit_add_export(struct tb_audit *a, const uint8_t *p, size_t len);
/* The same read as a stream from rd (tb_proto.h) through a bounded buffer,
 * for a file of any size; an error of rd is returned, not reported. */
TB_MUST_CHECK int tb_audit_add_export_stream(struct tb_audit *a, tb_export_read_fn rd, void *ctx);
/* Proves with a consistency proof that the checkpoint's log only grew: 0,
 * or the error of the violation it reported (ETRUNCATED: fewer entries than
 * the checkpoint; EPROOF: no consistency proof; the checkpoint's own error if
 * it does not open), or a storage error. */
TB_MUST_CHECK int tb_audit_since(struct tb_audit *a, const uint8_t *cp, size_t len);
/* Final checks (checkpoints, forks, stored records, legs across logs, sums)
 * and counts. 0 or a storage error; violations go to fn. */
TB_MUST_CHECK int tb_audit_finish(struct tb_audit *a, struct tb_audit_summary *sum);
void tb_audit_free(struct tb_audit *a);

/* ---- verification: the engine, stopped at its first violation ---- */

struct tb_verify_report {
	uint64_t logs; /* as in struct tb_audit_summary */
	uint64_t entries;
	int err;		 /* first violation, 0 if none */
	struct tb_reject where;	 /* log, seq and sentence of the first violation */
	uint64_t item;		 /* its export item (0: none) */
	uint64_t legs_unmatched; /* as in struct tb_audit_summary */
	uint64_t legs_in_flight;
	uint64_t succeeded; /* forks explained by a successor log (not violations) */
};

/*
 * Re-verifies a data directory (opened read-only) or an export file: an
 * audit of that one source (so the same verdict, rule, log, seq and counts as
 * `tally audit` of it) that keeps the first violation. Returns 0 if clean,
 * the first violation's error otherwise (also in the report), or a storage
 * or I/O error (then rep->err is 0).
 */
TB_MUST_CHECK int tb_verify_dir(const char *dir, const char *tmpdir, struct tb_verify_report *rep);
TB_MUST_CHECK int tb_verify_export(const uint8_t *file, size_t len, const char *tmpdir,
				   struct tb_verify_report *rep);
TB_MUST_CHECK int tb_verify_export_stream(tb_export_read_fn rd, void *ctx, const char *tmpdir,
					  struct tb_verify_report *rep);

/* ---- export files ---- */

/* Writes every log of a store as an export file (FORMAT.md 10.1), its bytes
 * in order through out (0, or an error that stops the export and is
 * returned); *items is the count of items written. */
typedef int (*tb_export_out_fn)(void *ctx, const void *p, size_t len);
TB_MUST_CHECK int tb_export_write(struct tb_store *s, tb_export_out_fn out, void *ctx,
				  uint64_t *items);

/* ---- receipts ---- */

/* The largest receipt file. */
#define TB_RECEIPT_MAX (TB_ENTRY_MAX + TB_CHECKPOINT_MAX + 128 * TB_HASHLEN + 64)

/*
 * Writes a receipt for entry seq of a log: the entry, the checkpoint
 * (signed, as given, covering seq) and the inclusion proof.
 */
TB_MUST_CHECK int tb_receipt_make(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
				  uint64_t seq, const uint8_t *checkpoint, size_t cplen,
				  uint8_t *out, size_t cap, size_t *len);

/* What a verified receipt shows. */
struct tb_receipt_info {
	struct tb_entry entry; /* views into the receipt bytes */
	struct tb_checkpoint checkpoint;
};

/*
 * Checks a receipt offline, trusting nothing but the log id (if `community`
 * is not NULL the log must be that one): the entry's signature, the
 * checkpoint's signature by the same log key, and the inclusion proof of the
 * entry's hash at seq - 1 in the checkpoint's tree. 0 or the first failure.
 */
TB_MUST_CHECK int tb_receipt_verify(const uint8_t *p, size_t len, const uint8_t *community,
				    struct tb_receipt_info *out);

#endif
