/*
 * append_audit.c: the append path in audit mode (tb_store_set_audit): the
 * same checks as any append (tb_ingest_one), but every violation is
 * reported to the audit's sink and the batch goes on. It writes only to the
 * audit's scratch store and never keeps an entry's effects when one of its
 * signatures failed.
 */
#include <stdlib.h>

#include "append_int.h"

/*
 * Audits (tb_store_set_audit, FORMAT.md 11.1): every violation of the batch
 * is reported, records in order, each record's in the order of its checks:
 * decoding, place (7.2 steps 2-6), the log signature, the rules, the member
 * signatures the rules queued. An entry whose log signature or member
 * signatures fail keeps its place in the chain but has no effect. The log
 * signatures are checked before the rules (they need no state); member
 * signatures after them, and when some fail the batch is redone without
 * their effects, so what later records are held to is the state an honest
 * node would have had.
 */
struct collected {
	struct tb_reject r;
	size_t owner;
};

struct collector {
	struct collected *v;
	size_t n, cap;
	size_t owner; /* the record being checked */
	bool drop;    /* its violations are known already (a redo) */
	bool oom;
};

static void collect(void *ctx, const struct tb_reject *v)
{
	struct collector *c = ctx;
	if (c->drop)
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct collected *p = realloc(c->v, cap * sizeof *p);
		if (!p) {
			c->oom = true;
			return;
		}
		c->v = p;
		c->cap = cap;
	}
	c->v[c->n].r = *v;
	c->v[c->n++].owner = c->owner;
}

static void collect_sig(struct collector *c, const struct tb_entry *e, int err)
{
	struct tb_reject r;
	tb_reject_set(&r, err, e->log_id, e->seq, "%s does not verify",
		      err == TB_EBADSIG ? "the log key's signature"
					: "a member's consent signature");
	collect(c, &r);
}

/* Decodes records [lo, hi) and appends the job of each one's log signature
 * to b->ejobs (its record in b->eowner). */
static void logsig_jobs(struct batch *b, const struct tb_view *recs, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi; i++) {
		b->badsig[i] = b->noeffect[i] = false;
		if (tb_entry_decode(&b->e[i], recs[i].p, recs[i].len))
			continue;
		tb_entry_verify_job(&b->ejobs[b->nej], &b->e[i]);
		b->eowner[b->nej++] = i;
	}
}

/* Hands jobs[0, n) to the verifiers: to the pool, which checks them while
 * this thread goes on until tb_verify_pool_wait, or here and now without
 * one. Then the results are written unless TB_ENOMEM. */
static int verify_jobs(struct tb_store *s, struct tb_verify_job *jobs, size_t n)
{
	if (s->pool) {
		tb_verify_pool_submit(s->pool, jobs, n);
		return 0;
	}
	if (!n || !tb_verify_batch(jobs, n, s->threads))
		return 0;
	for (size_t j = 0; j < n; j++)
		if (jobs[j].result == TB_ENOMEM)
			return TB_ENOMEM;
	return 0;
}

/* The results of the log signature jobs from `from` on: b->badsig. */
static int logsig_results(struct batch *b, size_t from)
{
	int err = 0;
	for (size_t j = from; j < b->nej; j++) {
		if (b->ejobs[j].result == TB_ENOMEM)
			err = TB_ENOMEM;
		else if (b->ejobs[j].result)
			b->badsig[b->eowner[j]] = true;
	}
	return err;
}

/*
 * Entries re-applied in one transaction of the scratch store, after whose
 * commit its mapped pages are let go (mapped.c). Resident memory is what one
 * such transaction touches: each entry reads a few random pages (its txid's
 * leaf, its members' balances), each read maps up to 16 (fault-around), and
 * the commit reads every page the transaction dirtied again. Letting go in
 * the middle of a transaction made the commit map all of them afresh, with
 * their neighbours: a transaction of 1024 entries then mapped up to about
 * 100 MiB of a large scratch store, growing with it. 128 entries: a few MiB.
 */
#define AUDIT_TXN_ENTRIES 128

/* One pass over records [lo, hi) of the batch in t; violations go to c. */
static int audit_pass(struct tb_txn *t, struct batch *b, const struct tb_view *recs, size_t lo,
		      size_t hi, struct collector *c, const struct collector *first)
{
	for (size_t i = lo; i < hi && !t->ret; i++) {
		struct tb_reject r = {0};
		c->owner = i;
		c->drop = b->noeffect[i];
		int err = tb_entry_decode(&b->e[i], recs[i].p, recs[i].len);
		if (err) {
			tb_reject_set(&r, err, b->e[i].log_id, b->e[i].seq,
				      "entry does not decode: %s", tb_strerror(err));
			collect(c, &r);
			continue;
		}
		bool effects = !b->badsig[i] && !b->noeffect[i];
		err = tb_ingest_one(t, &b->e[i], recs[i].p, recs[i].len, &b->jobs, i, effects, &r);
		if (err < 0 && t->ret)
			return t->ret;
		if (err < 0) { /* a log already forked: nothing is taken */
			collect(c, &r);
			continue;
		}
		if (err == 0 && b->badsig[i])
			collect_sig(c, &b->e[i], TB_EBADSIG);
		if (!b->noeffect[i])
			continue;
		/* A redo: what the first pass found for this record, then its
		 * member signatures. */
		c->drop = false;
		for (size_t j = 0; j < first->n; j++)
			if (first->v[j].owner == i)
				collect(c, &first->v[j].r);
		collect_sig(c, &b->e[i], TB_ECONSENT);
	}
	return t->ret;
}

/* Records [lo, hi) in one transaction: a first pass, the member signatures
 * its rules queued, and a redo without the effects of those that fail. */
static int audit_txn(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t lo,
		     size_t hi)
{
	struct collector first = {0}, redo = {0};
	struct tb_audit_sink sink = {collect, &first};
	int err = 0;
	for (bool again = true; !err && again;) {
		struct collector *c = sink.ctx;
		struct tb_txn t;
		tb_batch_reset(b);
		b->jobs.audit = &sink;
		tb_txn_begin(&t, s->db, true);
		err = t.ret ? t.ret : audit_pass(&t, b, recs, lo, hi, c, &first);
		again = false;
		if (!err && c == &first && b->jobs.n) {
			/* With a pool, this also waits for the log signatures
			 * of the next records, handed to it before this pass. */
			err = verify_jobs(s, b->jobs.jobs, b->jobs.n);
			if (s->pool)
				tb_verify_pool_wait(s->pool);
			for (size_t j = 0; !err && j < b->jobs.n; j++) {
				int r = b->jobs.jobs[j].result;
				if (r == TB_ENOMEM)
					err = r;
				else if (r)
					b->noeffect[b->jobs.owner[j]] = true;
				again = again || r;
			}
			if (again)
				sink.ctx = &redo;
			again = again && !err;
		}
		if (err || again)
			tb_txn_abort(&t);
		else
			err = tb_txn_commit(&t);
		tb_store_let_go(s);
	}
	struct collector *c = sink.ctx;
	if (!err && (first.oom || redo.oom))
		err = TB_ENOMEM;
	for (size_t j = 0; !err && j < c->n; j++)
		tb_audit_report(&s->audit, &c->v[j].r);
	free(first.v);
	free(redo.v);
	return err;
}

/*
 * The log signatures need no state: those of the next AUDIT_TXN_ENTRIES
 * records are handed to the pool's workers before this thread re-applies
 * the current ones, so checking them overlaps the rules and the commit;
 * each transaction still starts knowing which of its records' signatures
 * failed, as FORMAT.md 11.1 wants.
 */
int tb_run_audit(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n,
		 size_t *accepted)
{
	tb_store_pool_start(s, n);
	b->nej = 0;
	size_t lo = 0, hi = n < AUDIT_TXN_ENTRIES ? n : AUDIT_TXN_ENTRIES;
	logsig_jobs(b, recs, lo, hi);
	int err = verify_jobs(s, b->ejobs, b->nej);
	if (s->pool)
		tb_verify_pool_wait(s->pool);
	if (!err)
		err = logsig_results(b, 0);
	while (!err && lo < n) {
		size_t from = b->nej,
		       next = hi + AUDIT_TXN_ENTRIES < n ? hi + AUDIT_TXN_ENTRIES : n;
		logsig_jobs(b, recs, hi, next);
		if (s->pool)
			tb_verify_pool_submit(s->pool, b->ejobs + from, b->nej - from);
		err = audit_txn(s, b, recs, lo, hi);
		/* The jobs point into b: all done before anything else. */
		if (s->pool)
			tb_verify_pool_wait(s->pool);
		else if (!err)
			err = verify_jobs(s, b->ejobs + from, b->nej - from);
		if (!err)
			err = logsig_results(b, from);
		lo = hi;
		hi = next;
	}
	*accepted = err ? 0 : n;
	return err;
}
