/*
 * audit.c: the one verification engine, behind `tally audit` and `tally
 * verify` alike. Every record of every source (data directories, export
 * files) is appended to a throwaway store in audit mode, so the checks are
 * exactly those of ingest, but every violation is reported with its log,
 * seq, rule and export item instead of stopping at the first, in the order
 * FORMAT.md 11.1 gives (the first one reported is verify's verdict).
 * Checkpoints and fork proofs are checked once all entries are in; then a
 * data directory's stored heads, Merkle trees and derived records are
 * compared with the recomputed ones (dir.c); last, the legs across logs,
 * mirrored clearing balances and each community's sum (the store's
 * xverify). Nothing here writes to a source.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

void tb_audit_emit(struct tb_audit *a, const struct tb_reject *r, uint64_t item)
{
	struct tb_violation v;
	v.r = *r;
	v.item = item;
	a->sum.violations++;
	a->fn(a->ctx, &v);
}

void tb_audit_say(struct tb_audit *a, int err, const uint8_t *log, uint64_t seq, uint64_t item,
		  const char *fmt, ...)
{
	struct tb_reject r;
	memset(&r, 0, sizeof r);
	r.err = err;
	if (log)
		memcpy(r.log_id, log, TB_KEY_LEN);
	r.seq = seq;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof r.msg, fmt, ap);
	va_end(ap);
	tb_audit_emit(a, &r, item);
}

/* A violation the store found in a queued record: named with its item. */
static void store_sink(void *ctx, const struct tb_reject *v)
{
	struct tb_audit *a = ctx;
	uint64_t item = 0;
	for (size_t i = a->n; i-- > 0;) {
		if (a->q[i].seq == v->seq && !memcmp(a->q[i].log, v->log_id, TB_KEY_LEN)) {
			item = a->q[i].item;
			break;
		}
	}
	tb_audit_emit(a, v, item);
}

int tb_audit_new(struct tb_audit **out, const char *tmpdir, tb_audit_fn fn, void *ctx)
{
	*out = NULL;
	struct tb_audit *a = calloc(1, sizeof *a);
	if (!a)
		return TB_ENOMEM;
	a->fn = fn;
	a->ctx = ctx;
	a->buf = malloc((size_t)TB_AUDIT_BATCH * TB_ENTRY_MAX);
	int err = a->buf ? tb_scratch_open(tmpdir, "audit", a->path, sizeof a->path, &a->scratch)
			 : TB_ENOMEM;
	if (err) {
		free(a->buf);
		free(a);
		return err;
	}
	tb_store_set_audit(a->scratch, store_sink, a);
	*out = a;
	return 0;
}

void tb_audit_set_lean(struct tb_audit *a)
{
	TB_ASSERT(!a->sources);
	a->lean = true;
	if (a->scratch)
		tb_store_set_lean(a->scratch);
}

int tb_audit_source(struct tb_audit *a, bool dir)
{
	if (a->lean && a->sources && (dir || a->ndirs))
		return TB_EINVAL;
	a->sources++;
	return 0;
}

void tb_audit_set_threads(struct tb_audit *a, unsigned threads)
{
	a->threads = threads;
	if (a->scratch)
		tb_store_set_threads(a->scratch, threads);
}

/* Closes the scratch store and opens it again: every page of it this
 * process mapped is let go (what was written stays in the file). */
static int scratch_remap(struct tb_audit *a)
{
	tb_store_free(a->scratch);
	int err = tb_store_open(&a->scratch, a->path, TB_STORE_SCRATCH);
	if (err) {
		a->scratch = NULL;
		return err;
	}
	tb_store_set_audit(a->scratch, store_sink, a);
	if (a->lean)
		tb_store_set_lean(a->scratch);
	tb_store_set_threads(a->scratch, a->threads);
	return 0;
}

static void free_items(struct tb_held_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].p);
	free(l->v);
}

void tb_audit_free(struct tb_audit *a)
{
	if (!a)
		return;
	tb_scratch_close(a->scratch, a->path);
	free_items(&a->cps);
	free_items(&a->forks);
	for (size_t i = 0; i < a->ndirs; i++)
		free(a->dirs[i]);
	free(a->dirs);
	free(a->buf);
	free(a);
}

int tb_audit_flush(struct tb_audit *a)
{
	if (!a->scratch)
		return TB_ESTORE; /* it could not be opened again */
	if (!a->n)
		return 0;
	size_t accepted;
	struct tb_reject rej;
	/* In audit mode only storage errors stop an append; the violations
	 * come to store_sink while the queue still names their items. */
	int err = tb_store_append(a->scratch, a->recs, a->n, &accepted, &rej);
	a->n = 0;
	a->buf_len = 0;
	return err;
}

int tb_audit_queue(struct tb_audit *a, struct tb_view rec, const uint8_t *log, uint64_t seq,
		   uint64_t item)
{
	if (a->n == TB_AUDIT_BATCH) {
		int err = tb_audit_flush(a);
		if (err)
			return err;
	}
	memcpy(a->buf + a->buf_len, rec.p, rec.len);
	a->recs[a->n] = (struct tb_view){a->buf + a->buf_len, rec.len};
	memcpy(a->q[a->n].log, log, TB_KEY_LEN);
	a->q[a->n].seq = seq;
	a->q[a->n].item = item;
	a->buf_len += rec.len;
	a->n++;
	return 0;
}

int tb_audit_hold(struct tb_held_list *l, struct tb_view v, const uint8_t *log, uint64_t seq,
		  uint64_t item)
{
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 8;
		void *p = realloc(l->v, c * sizeof *l->v);
		if (!p)
			return TB_ENOMEM;
		l->v = p;
		l->cap = c;
	}
	struct tb_held_item *it = &l->v[l->n];
	it->p = malloc(v.len ? v.len : 1);
	if (!it->p)
		return TB_ENOMEM;
	memcpy(it->p, v.p, v.len);
	it->len = v.len;
	memcpy(it->log, log, TB_KEY_LEN);
	it->seq = seq;
	it->item = item;
	l->n++;
	return 0;
}

/* ---- export files ---- */

/* Reading one export file (FORMAT.md 10.3): the claim of the last ENTRY
 * item that decoded, and the logs begun in this file (sorted). */
struct placer {
	bool have;
	uint8_t log[TB_KEY_LEN];
	uint64_t seq;
	uint8_t (*begun)[TB_KEY_LEN];
	size_t nbegun, cap;
};

static size_t begun_at(const struct placer *p, const uint8_t *log, bool *found)
{
	size_t lo = 0, hi = p->nbegun;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(p->begun[mid], log, TB_KEY_LEN);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

static int begin_log(struct placer *p, const uint8_t *log, size_t at)
{
	if (p->nbegun == p->cap) {
		size_t c = p->cap ? p->cap * 2 : 16;
		void *n = realloc(p->begun, c * TB_KEY_LEN);
		if (!n)
			return TB_ENOMEM;
		p->begun = n;
		p->cap = c;
	}
	memmove(p->begun[at + 1], p->begun[at], (p->nbegun - at) * TB_KEY_LEN);
	memcpy(p->begun[at], log, TB_KEY_LEN);
	p->nbegun++;
	return 0;
}

/* An ENTRY item, number `item`: decoded, placed, then queued. */
static int export_entry(struct tb_audit *a, struct placer *p, struct tb_view rec, uint64_t item)
{
	struct tb_entry e;
	int derr = tb_entry_decode(&e, rec.p, rec.len);
	int err = 0;
	if (derr) {
		/* Named after the last record that decoded (FORMAT.md 11.1). */
		if ((err = tb_audit_flush(a)))
			return err;
		tb_audit_say(a, derr, p->log, p->seq + 1, item, "entry does not decode: %s",
			     tb_strerror(derr));
		return 0;
	}
	bool found;
	size_t at = begun_at(p, e.log_id, &found);
	bool same = p->have && !memcmp(e.log_id, p->log, TB_KEY_LEN);
	bool next = same && e.seq > p->seq; /* a gap is 7.2's to report */
	bool first = !same && e.seq == 1 && !found;
	p->have = true;
	memcpy(p->log, e.log_id, TB_KEY_LEN);
	p->seq = e.seq;
	if (first)
		err = begin_log(p, e.log_id, at);
	if (err)
		return err;
	if (next || first)
		return tb_audit_queue(a, rec, e.log_id, e.seq, item);
	if ((err = tb_audit_flush(a)))
		return err;
	if (found && e.seq == 1)
		tb_audit_say(
			a, TB_ESEQ, e.log_id, e.seq, item,
			"this log began earlier in the file: each log is one run from entry 1");
	else
		tb_audit_say(a, TB_ESEQ, e.log_id, e.seq, item, "out of place: %s",
			     same ? "a log's entries come in ascending seq"
				  : "a log's first entry in the file must be entry 1");
	return 0;
}

/* Errors that are the machine's, not the file's: returned, not reported. */
static bool machine_error(int err)
{
	return err == TB_ENOMEM || err == TB_EIO || err == TB_ESTORE;
}

/* The items of an open export file, in order. */
static int export_items(struct tb_audit *a, struct tb_export_stream *r, struct placer *pl)
{
	int err;
	enum tb_export_item type;
	struct tb_view item;
	while ((err = tb_export_stream_next(r, &type, &item)) > 0) {
		uint64_t k = r->items; /* this item's number, from 1 */
		err = 0;
		switch (type) {
		case TB_EXPORT_ENTRY:
			err = export_entry(a, pl, item, k);
			break;
		case TB_EXPORT_CHECKPOINT:
			err = tb_audit_hold(&a->cps, item, pl->log, pl->seq, k);
			break;
		case TB_EXPORT_FORK:
			err = tb_audit_hold(&a->forks, item, pl->log, pl->seq, k);
			break;
		case TB_EXPORT_END:
			err = TB_EKIND; /* tb_export_stream_next returns 0 at END */
			break;
		}
		if (err)
			break;
	}
	return err;
}

int tb_audit_add_export_stream(struct tb_audit *a, tb_export_read_fn rd, void *ctx)
{
	int err = tb_audit_source(a, false);
	if (err)
		return err;
	struct tb_export_stream *r = malloc(sizeof *r);
	if (!r)
		return TB_ENOMEM;
	err = tb_export_stream_open(r, rd, ctx);
	if (err) {
		free(r);
		if (machine_error(err))
			return err;
		tb_audit_say(a, err, NULL, 0, 0, "not a Tally export file: %s", tb_strerror(err));
		return 0;
	}
	struct placer pl;
	memset(&pl, 0, sizeof pl);
	err = export_items(a, r, &pl);
	uint64_t items = r->items;
	free(r);
	free(pl.begun);
	int ferr = tb_audit_flush(a);
	if (ferr)
		return ferr;
	if (err < 0 && !machine_error(err)) {
		/* Damaged framing: the records before it were checked first. */
		tb_audit_say(a, err, pl.log, pl.seq + 1, items + 1,
			     "the export file is damaged after item %llu: %s",
			     (unsigned long long)items, tb_strerror(err));
		return 0;
	}
	return err < 0 ? err : 0;
}

int tb_audit_mem_read(void *ctx, uint8_t *p, size_t len, size_t *got)
{
	struct tb_mem_src *m = ctx;
	*got = m->len - m->off < len ? m->len - m->off : len;
	memcpy(p, m->p + m->off, *got);
	m->off += *got;
	return 0;
}

int tb_audit_add_export(struct tb_audit *a, const uint8_t *p, size_t len)
{
	struct tb_mem_src m = {p, len, 0};
	return tb_audit_add_export_stream(a, tb_audit_mem_read, &m);
}

/* ---- final checks ---- */

static void check_checkpoint(struct tb_audit *a, const struct tb_held_item *it)
{
	struct tb_checkpoint cp;
	int err = tb_checkpoint_open(&cp, it->p, it->len);
	if (err) {
		tb_audit_say(a, err, it->log, it->seq, it->item, "a checkpoint does not verify: %s",
			     tb_strerror(err));
		return;
	}
	/* One covering more entries than held (a copy that is behind), or a
	 * log held only past a gap, cannot be checked: not a violation. */
	struct tb_head h;
	uint8_t root[TB_HASHLEN];
	if (tb_store_head(a->scratch, cp.log_id, &h) || h.seq < cp.size ||
	    (h.flags & TB_LOG_BROKEN) || tb_store_root(a->scratch, cp.log_id, cp.size, root))
		return;
	if (memcmp(root, cp.root, TB_HASHLEN)) {
		tb_audit_say(
			a, TB_EPROOF, cp.log_id, cp.size, it->item,
			"the signed checkpoint of %llu entries does not match the log's Merkle root",
			(unsigned long long)cp.size);
		return;
	}
	a->sum.checkpoints++;
}

static void check_fork(struct tb_audit *a, const struct tb_held_item *it)
{
	struct tb_view fa, fb;
	if (tb_fork_item_split((struct tb_view){it->p, it->len}, &fa, &fb)) {
		tb_audit_say(a, TB_EPROOF, it->log, it->seq, it->item, "a fork proof is truncated");
		return;
	}
	/* b is a record in both kinds of proof (a may be a signed checkpoint). */
	struct tb_entry e;
	int derr = tb_entry_decode(&e, fb.p, fb.len);
	int ferr = tb_store_fork_add(a->scratch, fa.p, fa.len, fb.p, fb.len);
	if (ferr < 0) {
		tb_audit_say(a, TB_EPROOF, derr ? it->log : e.log_id, derr ? it->seq : e.seq,
			     it->item, "a fork proof does not prove a fork: %s", tb_strerror(ferr));
		return;
	}
	if (ferr == 0)
		return; /* this log's fork is reported already (an earlier proof) */
	a->sum.forks++;
	struct tb_successor succ;
	size_t nsucc;
	if (!tb_store_successor(a->scratch, e.log_id, &succ, &nsucc))
		return; /* explained: the story is told by tell_successions */
	tb_audit_say(a, TB_EFORKED, e.log_id, e.seq, it->item,
		     fa.len && fa.p[0] == 0x94
			     ? "the log forked: its signed checkpoint of %llu entries contradicts "
			       "the history held"
			     : "the log forked: two validly signed, different entries at seq %llu",
		     (unsigned long long)e.seq);
}

/* Which branch of the old log the audited copy holds at kept_seq. */
static int kept_held(struct tb_audit *a, const struct tb_successor *s)
{
	struct tb_head h;
	uint8_t rec[TB_ENTRY_MAX], hash[TB_HASHLEN];
	size_t len;
	if (tb_store_head(a->scratch, s->old_log, &h) || h.seq < s->kept_seq ||
	    tb_store_get_entry(a->scratch, s->old_log, s->kept_seq, rec, sizeof rec, &len))
		return -1;
	tb_entry_hash(hash, rec, len);
	return !memcmp(hash, s->kept_hash, TB_HASHLEN);
}

/* Each log whose entry 2 is a valid succession: the fork it explains is a
 * fork, told with its successor; two successors of one log are a violation. */
static int tell_succession(void *ctx, const struct tb_head *h)
{
	struct tb_audit *a = ctx;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len, n;
	struct tb_entry e;
	struct tb_successor s;
	if (h->seq < 2 || tb_store_get_entry(a->scratch, h->log_id, 2, rec, sizeof rec, &len) ||
	    tb_entry_decode(&e, rec, len) || e.kind != TB_KIND_SUCCESSION)
		return 0;
	int err = tb_store_successor(a->scratch, e.body.succession.old_log, &s, &n);
	if (err == TB_ENOTFOUND || (!err && memcmp(s.new_log, h->log_id, TB_KEY_LEN)))
		return 0; /* not valid (reported at re-append), or told already */
	if (err)
		return err;
	if (n > 1) {
		tb_audit_say(a, TB_ESUCCESSION, s.old_log, s.fork_seq, 0,
			     "%zu logs succeed this forked log: its key handed the community over "
			     "more than once",
			     n);
		return 0;
	}
	struct tb_head old;
	if (tb_store_head(a->scratch, s.old_log, &old) || !(old.flags & TB_LOG_FORKED))
		a->sum.forks++; /* known only from the succession's own proof */
	if (a->sum.succeeded < TB_AUDIT_STORIES) {
		a->sum.stories[a->sum.succeeded].s = s;
		a->sum.stories[a->sum.succeeded].kept_held = kept_held(a, &s);
	}
	a->sum.succeeded++;
	return 0;
}

static int count_entry(void *ctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	(void)rec;
	(*(uint64_t *)ctx)++;
	return 0;
}

static int finish_log(void *ctx, const struct tb_head *h)
{
	struct tb_audit *a = ctx;
	/* Logs and entries kept, each counted once however many sources
	 * held it; after a gap the seqs no longer count the entries. */
	if (h->seq) {
		uint64_t n = 0;
		a->sum.logs++;
		if (!(h->flags & TB_LOG_BROKEN))
			n = h->seq;
		else {
			int err = tb_store_foreach_entry(a->scratch, h->log_id, 1, count_entry, &n);
			if (err < 0)
				return err;
		}
		a->sum.entries += n;
	}
	struct tb_community c;
	if (tb_store_community(a->scratch, h->log_id, &c))
		return 0;
	a->sum.members += c.members;
	a->sum.exchanges += c.exchanges;
	a->sum.reversals += c.reversals;
	a->sum.minutes += c.minutes;
	return 0;
}

static void across(void *ctx, const struct tb_reject *v)
{
	tb_audit_emit(ctx, v, 0);
}

/* The checks across logs, in steps of a few thousand entries with the
 * scratch store opened again between them: its pages are let go. */
static int cross_checks(struct tb_audit *a, struct tb_xverify_counts *n)
{
	struct tb_xverify *x;
	int err = tb_store_xverify_new(&x, across, a);
	while (!err && (err = tb_store_xverify_step(a->scratch, x, n)) == 1)
		err = scratch_remap(a);
	tb_store_xverify_free(x);
	return err;
}

int tb_audit_finish(struct tb_audit *a, struct tb_audit_summary *sum)
{
	int err = tb_audit_flush(a);
	if (err)
		return err;
	for (size_t i = 0; i < a->cps.n; i++)
		check_checkpoint(a, &a->cps.v[i]);
	for (size_t i = 0; i < a->forks.n; i++)
		check_fork(a, &a->forks.v[i]);
	/* Between the passes over the scratch store, its pages are let go. */
	err = scratch_remap(a);
	if (!err)
		err = tb_audit_compare_dirs(a);
	if (!err)
		err = tb_store_foreach_log(a->scratch, tell_succession, a);
	if (!err)
		err = tb_store_foreach_log(a->scratch, finish_log, a);
	if (!err)
		err = scratch_remap(a);
	struct tb_xverify_counts n = {0, 0};
	if (!err)
		err = cross_checks(a, &n);
	a->sum.legs_unmatched = n.unmatched;
	a->sum.legs_in_flight = n.in_flight;
	*sum = a->sum;
	return err;
}

int tb_audit_since(struct tb_audit *a, const uint8_t *p, size_t len)
{
	int err = tb_audit_flush(a);
	if (err)
		return err;
	struct tb_checkpoint cp;
	if ((err = tb_checkpoint_open(&cp, p, len))) {
		tb_audit_say(a, err, NULL, 0, 0, "the saved checkpoint does not verify: %s",
			     tb_strerror(err));
		return err;
	}
	struct tb_head h;
	if (tb_store_head(a->scratch, cp.log_id, &h) || h.seq < cp.size) {
		tb_audit_say(
			a, TB_ETRUNCATED, cp.log_id, cp.size, 0,
			"the log has fewer entries than the saved checkpoint's %llu: truncated or rewritten",
			(unsigned long long)cp.size);
		return TB_ETRUNCATED;
	}
	uint8_t proof[TB_MERKLE_MAX_PROOF][TB_HASHLEN], root[TB_HASHLEN];
	size_t n;
	err = tb_store_consistency_proof(a->scratch, cp.log_id, cp.size, h.seq, proof,
					 TB_MERKLE_MAX_PROOF, &n);
	if (!err)
		err = tb_store_root(a->scratch, cp.log_id, h.seq, root);
	if (!err)
		err = tb_merkle_verify_consistency(cp.size, h.seq, cp.root, root,
						   (const uint8_t(*)[TB_HASHLEN])proof, n);
	if (!err)
		return 0;
	tb_audit_say(
		a, TB_EPROOF, cp.log_id, cp.size, 0,
		"no consistency proof from the saved checkpoint of %llu entries: the log was rewritten",
		(unsigned long long)cp.size);
	return TB_EPROOF;
}
