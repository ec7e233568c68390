/*
 * convert.c: converts layout 3's statement index to layout 4's without a
 * reindex. Layout 3's "history" held a row per statement line keyed by (log,
 * member, seq); layout 4's "statements" holds the same lines as sorted
 * duplicates of the (log, member) key, seq first. Every other derived table
 * is the same in both layouts, and "history" is already in (log, member,
 * seq) order, so the conversion copies its rows in order: append for a new
 * key, append-dup for the next line of the same key. No rule is re-applied
 * and no signature checked: seconds where a reindex takes minutes.
 *
 * It runs in bounded batches, each its own transaction; META "converting"
 * holds the last "history" key copied, so a conversion killed between
 * batches resumes after it. META "derived" stays 3 until the last batch,
 * which sets it to 4 and drops "history" in the same transaction: until
 * then a read-only open reads "history", complete and unchanged. It never
 * touches an entry; the caller holds the store's rebuild lock (open.c).
 */
#include <signal.h>
#include <stdlib.h>

#include "store_int.h"
#include "tb_testhooks.h"

#define TB_CONVERT_BATCH 65536 /* lines per transaction (about 2 MiB written) */

struct convert {
	struct tb_txn *t;
	uint8_t last[TB_HISTORY3_KEY_LEN]; /* the last row copied */
	bool have_last;
	size_t n, cap; /* rows copied by this batch, and at most */
};

static int copy_row(void *ctx, struct tb_view k, struct tb_view v)
{
	struct convert *c = ctx;
	if (k.len != TB_HISTORY3_KEY_LEN || v.len != TB_HISTORY3_VAL_LEN)
		return TB_ECORRUPT;
	if (c->have_last && !memcmp(k.p, c->last, TB_HISTORY3_KEY_LEN))
		return 0; /* copied by the batch before (the resume key itself) */
	if (c->n == c->cap)
		return 1;
	uint8_t line[TB_HISTORY_VAL_LEN];
	memcpy(line, k.p + TB_MEMBER_KEY_LEN, 8);   /* seq */
	memcpy(line + 8, v.p, TB_HISTORY3_VAL_LEN); /* delta, balance */
	bool same = c->have_last && !memcmp(k.p, c->last, TB_MEMBER_KEY_LEN);
	tb_txn_append(c->t, TB_T_STATEMENTS, k.p, TB_MEMBER_KEY_LEN, line, sizeof line, same);
	memcpy(c->last, k.p, TB_HISTORY3_KEY_LEN);
	c->have_last = true;
	c->n++;
	/* Out of order (a damaged "history"): LMDB refused the append. */
	return c->t->ret == TB_EEXISTS ? TB_ECORRUPT : c->t->ret;
}

/* One batch: 1 if rows remain, 0 once converted, or an error. */
static int convert_batch(struct tb_store *s, size_t cap)
{
	struct tb_txn t;
	struct tb_view v;
	struct convert c = {.t = &t, .cap = cap};
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_META, "derived", 7, &v);
	uint32_t layout = !err && v.len == 4 ? tb_be32_get(v.p) : 0;
	if (layout != 3) {
		tb_txn_abort(&t); /* converted (or rebuilt) meanwhile? */
		if (layout == TB_DERIVED_VERSION)
			return 0;
		return err && err != TB_ENOTFOUND ? err : TB_ECORRUPT;
	}
	err = tb_txn_get(&t, TB_T_META, "converting", 10, &v);
	if (err == TB_ENOTFOUND) {
		/* The first batch: a "statements" left by an earlier run of a
		 * newer version (then a downgrade) is not this store's. */
		err = 0;
		tb_txn_drop(&t, TB_T_STATEMENTS);
	} else if (!err && v.len == TB_HISTORY3_KEY_LEN) {
		memcpy(c.last, v.p, v.len);
		c.have_last = true;
	} else if (!err && v.len) {
		err = TB_ECORRUPT;
	}
	if (!err)
		err = tb_txn_foreach_retired(&t, "history", c.have_last ? c.last : NULL,
					     c.have_last ? sizeof c.last : 0, copy_row, &c);
	bool more = err == 1;
	if (more) {
		err = 0;
		tb_txn_put(&t, TB_T_META, "converting", 10, c.last, sizeof c.last);
	} else if (!err) {
		uint8_t now[4];
		tb_be32_put(now, TB_DERIVED_VERSION);
		tb_txn_del(&t, TB_T_META, "converting", 10);
		tb_txn_put(&t, TB_T_META, "derived", 7, now, sizeof now);
		tb_txn_drop_retired(&t);
	}
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	err = tb_txn_commit(&t);
	return err ? err : more;
}

int tb_store_convert3(struct tb_store *s)
{
	/* Test builds shrink the batches and kill the process after one. */
	const char *b = tb_test_env("TALLY_CONVERT_BATCH");
	const char *at = tb_test_env("TALLY_CRASH_AT");
	size_t cap = b && atoi(b) > 0 ? (size_t)atoi(b) : TB_CONVERT_BATCH;
	int err;
	uint64_t done = 0;
	while ((err = convert_batch(s, cap)) == 1) {
		if (at && !strcmp(at, "convert-batch"))
			raise(SIGKILL);
		done += cap;
		if (s->progress)
			s->progress(s->progress_ctx, done, 0);
	}
	return err;
}
