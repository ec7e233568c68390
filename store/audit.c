/*
 * audit.c: the auditor. Every record of every source (data directories,
 * export files) is appended to a throwaway store in audit mode, so the
 * checks are exactly those of ingest, but every violation is reported with
 * its log, seq and rule instead of stopping at the first. Checkpoints and
 * fork proofs are checked once all entries are in; a data directory's stored
 * heads, Merkle trees and derived records are compared with the recomputed
 * ones; last, the cross-community legs are matched across logs, clearing
 * balances must mirror and each community's accounts sum to zero
 * (xverify.c). Nothing here writes to a source.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "store_int.h"

#define TB_AUDIT_BATCH 1024

struct held_item {
	uint8_t *p;
	size_t len;
	uint8_t log[TB_KEY_LEN]; /* where it was found (for reports) */
	uint64_t seq;
};

struct tb_audit {
	struct tb_store *scratch;
	char path[4096];
	tb_violation_fn fn;
	void *ctx;
	struct tb_audit_summary sum;
	uint8_t *buf;
	size_t buf_len;
	struct tb_view recs[TB_AUDIT_BATCH];
	size_t n;
	struct held_item *cps, *forks;
	size_t ncps, nforks, capcps, capforks;
	char **dirs;
	size_t ndirs;
};

static void sink(void *ctx, const struct tb_reject *v)
{
	struct tb_audit *a = ctx;
	a->sum.violations++;
	a->fn(a->ctx, v);
}

static void report(struct tb_audit *a, int err, const uint8_t *log, uint64_t seq,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void report(struct tb_audit *a, int err, const uint8_t *log, uint64_t seq,
		   const char *fmt, ...)
{
	struct tb_reject r = {0};
	r.err = err;
	if (log)
		memcpy(r.log_id, log, TB_KEY_LEN);
	r.seq = seq;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof r.msg, fmt, ap);
	va_end(ap);
	sink(a, &r);
}

int tb_audit_new(struct tb_audit **out, const char *tmpdir, tb_violation_fn fn, void *ctx)
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
	tb_store_set_audit(a->scratch, sink, a);
	*out = a;
	return 0;
}

void tb_audit_set_threads(struct tb_audit *a, unsigned threads)
{
	tb_store_set_threads(a->scratch, threads);
}

static void free_items(struct held_item *it, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(it[i].p);
	free(it);
}

void tb_audit_free(struct tb_audit *a)
{
	if (!a)
		return;
	tb_scratch_close(a->scratch, a->path);
	free_items(a->cps, a->ncps);
	free_items(a->forks, a->nforks);
	for (size_t i = 0; i < a->ndirs; i++)
		free(a->dirs[i]);
	free(a->dirs);
	free(a->buf);
	free(a);
}

static int flush(struct tb_audit *a)
{
	if (!a->n)
		return 0;
	size_t accepted;
	struct tb_reject rej;
	int err = tb_store_append(a->scratch, a->recs, a->n, &accepted, &rej);
	a->n = 0;
	a->buf_len = 0;
	if (err) {
		/* In audit mode only storage errors stop an append. */
		return err;
	}
	return 0;
}

/* Queues an entry record found at (log, seq) of a source. */
static int add_record(struct tb_audit *a, struct tb_view rec, const uint8_t *log,
		      uint64_t seq)
{
	struct tb_entry e;
	int derr = rec.len > TB_ENTRY_MAX ? TB_ETOOBIG : tb_entry_decode(&e, rec.p, rec.len);
	if (derr) {
		report(a, derr, log, seq, "entry does not decode: %s", tb_strerror(derr));
		return 0;
	}
	if (a->n == TB_AUDIT_BATCH) {
		int err = flush(a);
		if (err)
			return err;
	}
	memcpy(a->buf + a->buf_len, rec.p, rec.len);
	a->recs[a->n] = (struct tb_view){a->buf + a->buf_len, rec.len};
	a->buf_len += rec.len;
	a->n++;
	return 0;
}

static int keep(struct held_item **items, size_t *n, size_t *cap, struct tb_view v,
		const uint8_t *log, uint64_t seq)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 8;
		void *p = realloc(*items, c * sizeof **items);
		if (!p)
			return TB_ENOMEM;
		*items = p;
		*cap = c;
	}
	struct held_item *it = &(*items)[*n];
	it->p = malloc(v.len ? v.len : 1);
	if (!it->p)
		return TB_ENOMEM;
	memcpy(it->p, v.p, v.len);
	it->len = v.len;
	if (log)
		memcpy(it->log, log, TB_KEY_LEN);
	else
		memset(it->log, 0, TB_KEY_LEN);
	it->seq = seq;
	(*n)++;
	return 0;
}

/* ---- data directories ---- */

struct dir_feed {
	struct tb_audit *a;
	struct tb_store *src;
	const uint8_t *log;
	uint64_t next;
	int err;
};

static int dir_entry(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct dir_feed *d = ctx;
	if (seq != d->next)
		report(d->a, TB_ESEQ, d->log, d->next, "entries %llu to %llu are missing from the store",
		       (unsigned long long)d->next, (unsigned long long)seq - 1);
	d->next = seq + 1;
	struct tb_entry e;
	if (!tb_entry_decode(&e, rec.p, rec.len) &&
	    (e.seq != seq || memcmp(e.log_id, d->log, TB_KEY_LEN))) {
		report(d->a, TB_ESEQ, d->log, seq,
		       "the record stored as this entry claims to be entry %llu of another log or place",
		       (unsigned long long)e.seq);
		return 0;
	}
	return (d->err = add_record(d->a, rec, d->log, seq)) ? 1 : 0;
}

static int dir_log(void *ctx, const struct tb_head *h)
{
	struct dir_feed *d = ctx;
	d->log = h->log_id;
	d->next = 1;
	int err = tb_store_foreach_entry(d->src, h->log_id, 1, dir_entry, d);
	if (d->err)
		return d->err;
	if (err < 0)
		return err;
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t len;
	if (!tb_store_checkpoint_get(d->src, h->log_id, cp, sizeof cp, &len))
		return keep(&d->a->cps, &d->a->ncps, &d->a->capcps, (struct tb_view){cp, len},
			    h->log_id, h->seq);
	return 0;
}

static int dir_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		    struct tb_view a, struct tb_view b)
{
	struct dir_feed *d = ctx;
	uint8_t buf[2 + 2 * TB_ENTRY_MAX];
	if (a.len > TB_ENTRY_MAX || b.len > TB_ENTRY_MAX)
		return TB_ECORRUPT;
	buf[0] = (uint8_t)(a.len >> 8);
	buf[1] = (uint8_t)a.len;
	memcpy(buf + 2, a.p, a.len);
	memcpy(buf + 2 + a.len, b.p, b.len);
	return keep(&d->a->forks, &d->a->nforks, &d->a->capforks,
		    (struct tb_view){buf, 2 + a.len + b.len}, log_id, seq);
}

int tb_audit_add_dir(struct tb_audit *a, const char *ledger)
{
	struct tb_store *src;
	int err = tb_store_open(&src, ledger, TB_STORE_RDONLY);
	if (err)
		return err;
	struct dir_feed d = {a, src, NULL, 1, 0};
	err = tb_store_foreach_log(src, dir_log, &d);
	if (!err)
		err = tb_store_foreach_fork(src, dir_fork, &d);
	if (!err)
		err = flush(a);
	tb_store_free(src);
	if (err)
		return err;
	char **dirs = realloc(a->dirs, (a->ndirs + 1) * sizeof *dirs);
	if (!dirs)
		return TB_ENOMEM;
	a->dirs = dirs;
	if (!(a->dirs[a->ndirs] = strdup(ledger)))
		return TB_ENOMEM;
	a->ndirs++;
	return 0;
}

/* ---- export files ---- */

int tb_audit_add_export(struct tb_audit *a, const uint8_t *p, size_t len)
{
	struct tb_export_reader r;
	int err = tb_export_open(&r, p, len);
	if (err)
		return err;
	enum tb_export_item type;
	struct tb_view item;
	uint8_t last_log[TB_KEY_LEN] = {0};
	uint64_t last_seq = 0;
	bool in_log = false; /* an entry of this file started a log */
	while ((err = tb_export_next(&r, &type, &item)) > 0) {
		struct tb_entry e;
		err = 0;
		switch (type) {
		case TB_EXPORT_ENTRY:
			/* Logs are exported one after the other from entry 1: a
			 * record naming another log mid-way is a damaged one of
			 * the current log, reported at its place. */
			if (!tb_entry_decode(&e, item.p, item.len) &&
			    (!memcmp(e.log_id, last_log, TB_KEY_LEN) || e.seq == 1 || !in_log)) {
				in_log = true;
				memcpy(last_log, e.log_id, TB_KEY_LEN);
				last_seq = e.seq;
				err = add_record(a, item, last_log, last_seq);
			} else if (!tb_entry_decode(&e, item.p, item.len)) {
				last_seq++;
				report(a, TB_ELOGID, last_log, last_seq,
				       "the record in this place claims to be entry %llu of another log",
				       (unsigned long long)e.seq);
			} else {
				err = add_record(a, item, last_log, ++last_seq);
			}
			break;
		case TB_EXPORT_CHECKPOINT:
			err = keep(&a->cps, &a->ncps, &a->capcps, item, last_log, last_seq);
			break;
		case TB_EXPORT_FORK:
			err = keep(&a->forks, &a->nforks, &a->capforks, item, last_log, last_seq);
			break;
		case TB_EXPORT_END:
			err = TB_EKIND;
			break;
		}
		if (err)
			break;
	}
	int ferr = flush(a);
	if (err < 0) {
		/* A damaged file: what came before it was checked; say where. */
		report(a, err, last_log, last_seq + 1,
		       "the export file is damaged after item %llu: %s",
		       (unsigned long long)r.items, tb_strerror(err));
		return ferr;
	}
	return ferr;
}

/* ---- final checks ---- */

static void check_checkpoint(struct tb_audit *a, const struct held_item *it)
{
	struct tb_checkpoint cp;
	int err = tb_checkpoint_open(&cp, it->p, it->len);
	if (err) {
		report(a, err == TB_EBADSIG ? TB_EBADSIG : err, it->log, it->seq,
		       "a checkpoint of this log does not verify: %s", tb_strerror(err));
		return;
	}
	a->sum.checkpoints++;
	struct tb_head h;
	if (tb_store_head(a->scratch, cp.log_id, &h) || h.seq < cp.size) {
		report(a, TB_ETRUNCATED, cp.log_id, h.seq + 1,
		       "the log's signed checkpoint covers %llu entries, but only %llu are here: the history was truncated",
		       (unsigned long long)cp.size, (unsigned long long)h.seq);
		return;
	}
	err = tb_store_checkpoint_put(a->scratch, it->p, it->len);
	if (err < 0)
		report(a, TB_EPROOF, cp.log_id, cp.size,
		       "the signed checkpoint of %llu entries does not match the log's Merkle root",
		       (unsigned long long)cp.size);
}

static void check_fork(struct tb_audit *a, const struct held_item *it)
{
	size_t alen = it->len >= 2 ? (size_t)it->p[0] << 8 | it->p[1] : 0;
	if (it->len < 2 + alen) {
		report(a, TB_EPROOF, it->log, it->seq, "a fork proof is truncated");
		return;
	}
	struct tb_entry e;
	int err = tb_entry_decode(&e, it->p + 2, alen);
	int ferr = tb_store_fork_add(a->scratch, it->p + 2, alen, it->p + 2 + alen,
				     it->len - 2 - alen);
	if (ferr < 0) {
		report(a, TB_EPROOF, err ? it->log : e.log_id, err ? it->seq : e.seq,
		       "a fork proof does not prove a fork: %s", tb_strerror(ferr));
		return;
	}
	if (ferr == 0)
		return; /* this log's fork is reported already (a proof from another source) */
	a->sum.forks++;
	report(a, TB_EFORKED, e.log_id, e.seq,
	       "the log forked: two validly signed, different entries at seq %llu",
	       (unsigned long long)e.seq);
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
	/* Logs and entries audited, each counted once however many sources
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
	/* The community's sum (members and clearing accounts) is checked
	 * with the legs across logs (xverify.c). */
	return 0;
}

/* A data directory's stored state against the recomputed one. Other
 * sources may hold more of a log than the directory (a neighbour's copy that
 * is behind): its state is then compared with the recomputed one at the
 * directory's head. */
struct cmp_ctx {
	struct tb_audit *a;
	struct tb_store *src;
	const uint8_t *log;
	uint64_t at;  /* the directory's head seq */
	bool ahead;   /* the audit holds entries of the log past it */
};

struct balance_at {
	uint64_t at;
	int64_t balance;
};

static int history_at(void *ctx, const struct tb_history_item *h)
{
	struct balance_at *b = ctx;
	if (h->seq > b->at)
		return 1;
	b->balance = h->balance;
	return 0;
}

static int cmp_member(void *ctx, const struct tb_member *m)
{
	struct cmp_ctx *c = ctx;
	struct tb_member r;
	struct balance_at b = {c->at, 0};
	int bad = tb_store_member(c->a->scratch, c->log, m->no, &r) || r.floor != m->floor ||
		  r.ceiling != m->ceiling || strcmp(r.name, m->name);
	/* Keys and leaving may have changed after the directory's head. */
	if (!bad && !c->ahead)
		bad = r.balance != m->balance || r.active != m->active ||
		      memcmp(r.key, m->key, TB_KEY_LEN);
	else if (!bad)
		bad = tb_store_foreach_history(c->a->scratch, c->log, m->no, history_at, &b) < 0 ||
		      b.balance != m->balance;
	if (bad)
		report(c->a, TB_ECORRUPT, c->log, 0,
		       "the stored record of member %u (%s) differs from the one recomputed from the log",
		       m->no, m->name);
	return 0;
}

static int cmp_log(void *ctx, const struct tb_head *h)
{
	struct cmp_ctx *c = ctx;
	struct tb_head r;
	uint8_t rec[TB_ENTRY_MAX], hash[TB_HASHLEN];
	size_t len;
	if (h->seq == 0)
		return 0;
	if (tb_store_head(c->a->scratch, h->log_id, &r) || r.seq < h->seq ||
	    tb_store_get_entry(c->a->scratch, h->log_id, h->seq, rec, sizeof rec, &len) ||
	    (tb_entry_hash(hash, rec, len), memcmp(hash, h->hash, TB_HASHLEN))) {
		report(c->a, TB_ECORRUPT, h->log_id, h->seq,
		       "the stored head of the log does not match its entries");
		return 0;
	}
	uint8_t r1[TB_HASHLEN], r2[TB_HASHLEN];
	if (tb_store_root(c->src, h->log_id, h->seq, r1) ||
	    tb_store_root(c->a->scratch, h->log_id, h->seq, r2) || memcmp(r1, r2, TB_HASHLEN))
		report(c->a, TB_ECORRUPT, h->log_id, h->seq,
		       "the stored Merkle tree does not match the entries");
	c->log = h->log_id;
	c->at = h->seq;
	c->ahead = r.seq > h->seq;
	return tb_store_foreach_member(c->src, h->log_id, cmp_member, c);
}

int tb_audit_finish(struct tb_audit *a, struct tb_audit_summary *sum)
{
	int err = flush(a);
	if (err)
		return err;
	for (size_t i = 0; i < a->ncps; i++)
		check_checkpoint(a, &a->cps[i]);
	for (size_t i = 0; i < a->nforks; i++)
		check_fork(a, &a->forks[i]);
	for (size_t i = 0; !err && i < a->ndirs; i++) {
		struct tb_store *src;
		if ((err = tb_store_open(&src, a->dirs[i], TB_STORE_RDONLY)))
			break;
		struct cmp_ctx c = {a, src, NULL, 0, false};
		err = tb_store_foreach_log(src, cmp_log, &c);
		tb_store_free(src);
	}
	if (!err)
		err = tb_store_foreach_log(a->scratch, finish_log, a);
	struct tb_xverify_counts n = {0, 0};
	if (!err) {
		const struct tb_audit_sink across = {sink, a};
		err = tb_xverify(a->scratch, &across, &n);
	}
	a->sum.legs_unmatched = n.unmatched;
	a->sum.legs_in_flight = n.in_flight;
	*sum = a->sum;
	return err;
}

int tb_audit_since(struct tb_audit *a, const uint8_t *p, size_t len)
{
	int err = flush(a);
	if (err)
		return err;
	struct tb_checkpoint cp;
	if ((err = tb_checkpoint_open(&cp, p, len))) {
		report(a, err, NULL, 0, "the saved checkpoint does not verify: %s", tb_strerror(err));
		return TB_EPROOF;
	}
	struct tb_head h;
	if (tb_store_head(a->scratch, cp.log_id, &h) || h.seq < cp.size) {
		report(a, TB_EPROOF, cp.log_id, cp.size,
		       "the log has fewer entries than the saved checkpoint's %llu: it shrank",
		       (unsigned long long)cp.size);
		return TB_EPROOF;
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
	if (err) {
		report(a, TB_EPROOF, cp.log_id, cp.size,
		       "no consistency proof from the saved checkpoint of %llu entries: the log was rewritten",
		       (unsigned long long)cp.size);
		return TB_EPROOF;
	}
	return 0;
}
