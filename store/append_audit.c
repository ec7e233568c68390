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

/* Log signatures of the decodable records, all at once: b->badsig. */
static int audit_logsigs(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n)
{
	struct tb_verify_job *jobs = calloc(n, sizeof *jobs);
	size_t *owner = calloc(n, sizeof *owner), k = 0;
	if (!jobs || !owner) {
		free(jobs);
		free(owner);
		return TB_ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		b->badsig[i] = b->noeffect[i] = false;
		if (tb_entry_decode(&b->e[i], recs[i].p, recs[i].len))
			continue;
		tb_entry_verify_job(&jobs[k], &b->e[i]);
		owner[k++] = i;
	}
	int err = 0;
	if (k && tb_verify_batch(jobs, k, s->threads)) {
		for (size_t j = 0; j < k; j++) {
			if (jobs[j].result == TB_ENOMEM)
				err = TB_ENOMEM;
			else if (jobs[j].result)
				b->badsig[owner[j]] = true;
		}
	}
	free(jobs);
	free(owner);
	return err;
}

/* Entries between two lettings go of the scratch store's mapped pages: each
 * touches a few random pages (its txid's, its members' statement lines'),
 * each page maps up to 16 (mapped.c): some 10 to 30 MiB. */
#define LET_GO_EVERY 128

/* One pass over the batch in t; violations go to c. */
static int audit_pass(struct tb_store *s, struct tb_txn *t, struct batch *b,
		      const struct tb_view *recs, size_t n, struct collector *c,
		      const struct collector *first)
{
	for (size_t i = 0; i < n && !t->ret; i++) {
		struct tb_reject r = {0};
		if (i % LET_GO_EVERY == LET_GO_EVERY - 1)
			tb_store_let_go(s);
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

int tb_run_audit(struct tb_store *s, struct batch *b, const struct tb_view *recs, size_t n,
		 size_t *accepted)
{
	struct collector first = {0}, redo = {0};
	struct tb_audit_sink sink = {collect, &first};
	int err = audit_logsigs(s, b, recs, n);
	for (bool again = true; !err && again;) {
		struct collector *c = sink.ctx;
		struct tb_txn t;
		tb_batch_reset(b);
		b->jobs.audit = &sink;
		tb_txn_begin(&t, s->db, true);
		err = t.ret ? t.ret : audit_pass(s, &t, b, recs, n, c, &first);
		again = false;
		if (!err && c == &first && b->jobs.n &&
		    tb_verify_batch(b->jobs.jobs, b->jobs.n, s->threads)) {
			for (size_t j = 0; j < b->jobs.n; j++) {
				int r = b->jobs.jobs[j].result;
				if (r == TB_ENOMEM)
					err = r;
				else if (r)
					b->noeffect[b->jobs.owner[j]] = true;
			}
			sink.ctx = &redo;
			again = !err;
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
	*accepted = err ? 0 : n;
	return err;
}
