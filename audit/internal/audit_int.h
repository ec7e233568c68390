/*
 * audit_int.h: what the files of the audit engine share and nobody else
 * sees: the engine's state, its record queue and its reporting.
 */
#ifndef TB_AUDIT_INT_H
#define TB_AUDIT_INT_H

#include <stdbool.h>

#include "tb_audit.h"

#define TB_AUDIT_BATCH 1024
/* A data directory read is opened again after this many entries. */
#define TB_AUDIT_DIR_CHUNK 16384

/* A checkpoint or fork proof kept until every entry is in. */
struct tb_held_item {
	uint8_t *p;
	size_t len;
	uint8_t log[TB_KEY_LEN]; /* where it was found (for reports) */
	uint64_t seq;
	uint64_t item;
};

struct tb_held_list {
	struct tb_held_item *v;
	size_t n, cap;
};

/* Where a queued record came from, to name the item of a violation. */
struct tb_queued {
	uint8_t log[TB_KEY_LEN];
	uint64_t seq;
	uint64_t item;
};

struct tb_audit {
	struct tb_store *scratch;
	char path[4096];
	unsigned threads;
	bool lean;	  /* tb_audit_set_lean */
	uint64_t sources; /* added so far */
	tb_audit_fn fn;
	void *ctx;
	struct tb_audit_summary sum;
	uint8_t *buf; /* copies of queued records */
	size_t buf_len;
	struct tb_view recs[TB_AUDIT_BATCH];
	struct tb_queued q[TB_AUDIT_BATCH];
	size_t n;
	struct tb_held_list cps, forks;
	char **dirs;
	size_t ndirs;
};

void tb_audit_emit(struct tb_audit *a, const struct tb_reject *r, uint64_t item);
void tb_audit_say(struct tb_audit *a, int err, const uint8_t *log, uint64_t seq, uint64_t item,
		  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Appends the queued records to the scratch store (their violations are
 * reported in order); 0 or a storage error. */
int tb_audit_flush(struct tb_audit *a);
/* Queues a decoded record found at (log, seq), item `item` of its file. */
int tb_audit_queue(struct tb_audit *a, struct tb_view rec, const uint8_t *log, uint64_t seq,
		   uint64_t item);
int tb_audit_hold(struct tb_held_list *l, struct tb_view v, const uint8_t *log, uint64_t seq,
		  uint64_t item);
/* An export file in memory read as a stream (tb_export_read_fn). */
struct tb_mem_src {
	const uint8_t *p;
	size_t len, off;
};
int tb_audit_mem_read(void *ctx, uint8_t *p, size_t len, size_t *got);
/* Counts a source about to be added: TB_EINVAL if a lean audit cannot take
 * it (tb_audit_set_lean). */
int tb_audit_source(struct tb_audit *a, bool dir);
/* The stored state of each data directory against the recomputed one. */
int tb_audit_compare_dirs(struct tb_audit *a);

#endif
