/*
 * verify.c: re-verification of a data directory or an export file with no
 * trust in whoever produced it, and writing export files.
 *
 * Every record is appended afresh to a throwaway store, so the checks are
 * exactly those of ingest (decoding, seq, prev, rules, signatures); then, for
 * a data directory, the stored heads, Merkle roots and balances must equal
 * the recomputed ones. The first violation is reported with its log and seq.
 * Nothing here writes to the store being verified.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "store_int.h"

#define TB_VERIFY_BATCH 1024

struct feeder {
	struct tb_store *scratch;
	struct tb_verify_report *rep;
	uint8_t *buf; /* copies of pending records */
	size_t buf_len;
	struct tb_view recs[TB_VERIFY_BATCH];
	size_t n;
};

static int feeder_flush(struct feeder *f)
{
	if (!f->n)
		return 0;
	size_t accepted;
	struct tb_reject rej;
	int err = tb_store_append(f->scratch, f->recs, f->n, &accepted, &rej);
	f->rep->entries += accepted;
	if (err) {
		f->rep->err = err;
		f->rep->where = rej;
	}
	f->n = 0;
	f->buf_len = 0;
	return err;
}

/*
 * Queues a record that sits where entry (log, seq) belongs. A record that
 * does not decode, or claims another place, is reported at that place after
 * the records before it were checked (so the first violation wins).
 */
static int feeder_add(struct feeder *f, struct tb_view rec, const uint8_t *log,
		      uint64_t seq)
{
	struct tb_entry e;
	int derr = rec.len > TB_ENTRY_MAX ? TB_ETOOBIG : tb_entry_decode(&e, rec.p, rec.len);
	if (derr || memcmp(e.log_id, log, TB_KEY_LEN) || e.seq != seq) {
		int err = feeder_flush(f);
		if (err)
			return err;
		f->rep->err = derr ? derr : TB_ESEQ;
		if (derr)
			tb_reject_set(&f->rep->where, derr, log, seq,
				      "entry does not decode: %s", tb_strerror(derr));
		else
			tb_reject_set(&f->rep->where, TB_ESEQ, log, seq,
				      "the record in this place claims to be entry %llu of another log or place",
				      (unsigned long long)e.seq);
		return f->rep->err;
	}
	if (f->n == TB_VERIFY_BATCH) {
		int err = feeder_flush(f);
		if (err)
			return err;
	}
	memcpy(f->buf + f->buf_len, rec.p, rec.len);
	f->recs[f->n].p = f->buf + f->buf_len;
	f->recs[f->n].len = rec.len;
	f->buf_len += rec.len;
	f->n++;
	return 0;
}

static int feeder_init(struct feeder *f, struct tb_verify_report *rep)
{
	memset(f, 0, sizeof *f);
	f->rep = rep;
	f->buf = malloc((size_t)TB_VERIFY_BATCH * TB_ENTRY_MAX);
	return f->buf ? 0 : TB_ENOMEM;
}

/* ---- across logs ---- */

static void first_violation(void *ctx, const struct tb_reject *v)
{
	struct tb_verify_report *rep = ctx;
	if (rep->err)
		return;
	rep->err = v->err;
	rep->where = *v;
}

/* Once every log verified on its own: the legs between them (xverify.c). */
static int verify_across(struct tb_store *scratch, struct tb_verify_report *rep)
{
	if (rep->err)
		return rep->err;
	const struct tb_audit_sink sink = {first_violation, rep};
	struct tb_xverify_counts n;
	int err = tb_xverify(scratch, &sink, &n);
	rep->legs_unmatched = n.unmatched;
	rep->legs_in_flight = n.in_flight;
	if (err && !rep->err) {
		rep->err = err;
		tb_reject_set(&rep->where, err, NULL, 0, "checking the legs across logs: %s",
			      tb_strerror(err));
	}
	return rep->err;
}

/* ---- data directories ---- */

struct dir_ctx {
	struct tb_store *src;
	struct feeder *f;
	int err;
};

struct feed_pos {
	struct feeder *f;
	const uint8_t *log_id;
	uint64_t next;
};

static int feed_entry(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct feed_pos *p = ctx;
	if (seq != p->next) {
		int err = feeder_flush(p->f);
		if (err)
			return err; /* an earlier violation wins */
		p->f->rep->err = TB_ESEQ;
		return tb_reject_set(&p->f->rep->where, TB_ESEQ, p->log_id, p->next,
				     "entry %llu is missing from the store",
				     (unsigned long long)p->next);
	}
	p->next++;
	return feeder_add(p->f, rec, p->log_id, seq);
}

static int feed_log(void *ctx, const struct tb_head *h)
{
	struct dir_ctx *d = ctx;
	d->f->rep->logs++;
	struct feed_pos pos = {d->f, h->log_id, 1};
	int err = tb_store_foreach_entry(d->src, h->log_id, 1, feed_entry, &pos);
	if (!err)
		err = feeder_flush(d->f);
	return err;
}

/* Compares a stored member record with the recomputed one. */
struct member_cmp {
	struct tb_store *scratch;
	const uint8_t *log_id;
	struct tb_verify_report *rep;
};

struct log_cmp {
	struct tb_store *src;
	struct tb_store *scratch;
	struct tb_verify_report *rep;
};

static int compare_member(void *ctx, const struct tb_member *m)
{
	struct member_cmp *c = ctx;
	struct tb_member r;
	int err = tb_store_member(c->scratch, c->log_id, m->no, &r);
	if (err || r.balance != m->balance || r.held != m->held || r.floor != m->floor ||
	    r.ceiling != m->ceiling || r.active != m->active ||
	    r.joined_seq != m->joined_seq || strcmp(r.name, m->name) ||
	    memcmp(r.key, m->key, TB_KEY_LEN)) {
		c->rep->err = TB_ECORRUPT;
		return tb_reject_set(&c->rep->where, TB_ECORRUPT, c->log_id, 0,
				     "stored record of member %u (%s) differs from the one recomputed from the log",
				     m->no, m->name);
	}
	return 0;
}

/* Stored clearing accounts of a log against the recomputed ones, both ways
 * (every stored one recomputed equal, and as many of them). */
struct clearing_cmp {
	struct tb_store *other;
	const uint8_t *log_id;
	uint64_t n;
	bool differs;
};

static int compare_one_clearing(void *ctx, const struct tb_clearing *c)
{
	struct clearing_cmp *cc = ctx;
	struct tb_clearing r;
	cc->n++;
	if (tb_store_clearing(cc->other, cc->log_id, c->other, &r) || r.linked != c->linked ||
	    r.limit != c->limit || r.balance != c->balance || r.held != c->held ||
	    r.exchanges != c->exchanges)
		cc->differs = true;
	return 0;
}

static int compare_clearing(struct log_cmp *c, const uint8_t *log_id)
{
	struct clearing_cmp stored = {c->scratch, log_id, 0, false};
	struct clearing_cmp re = {c->src, log_id, 0, false};
	int err = tb_store_foreach_clearing(c->src, log_id, compare_one_clearing, &stored);
	if (err >= 0)
		err = tb_store_foreach_clearing(c->scratch, log_id, compare_one_clearing, &re);
	if (err < 0 && err != TB_ENOTFOUND)
		return err;
	if (stored.differs || re.differs || stored.n != re.n) {
		c->rep->err = TB_ECORRUPT;
		return tb_reject_set(&c->rep->where, TB_ECORRUPT, log_id, 0,
				     "the stored clearing accounts differ from the ones recomputed from the log");
	}
	return 0;
}

static int compare_log(void *ctx, const struct tb_head *h)
{
	struct log_cmp *c = ctx;
	struct tb_store *src = c->src;
	struct tb_head r;
	uint8_t root_src[TB_HASHLEN], root_re[TB_HASHLEN];
	if (h->seq == 0)
		return 0; /* known only by a fork proof: no entries */
	int err = tb_store_head(c->scratch, h->log_id, &r);
	if (!err && (r.seq != h->seq || memcmp(r.hash, h->hash, TB_HASHLEN)))
		err = TB_ECORRUPT;
	if (err) {
		c->rep->err = TB_ECORRUPT;
		return tb_reject_set(&c->rep->where, TB_ECORRUPT, h->log_id, h->seq,
				     "the stored head does not match the entries");
	}
	err = tb_store_root(src, h->log_id, h->seq, root_src);
	if (!err)
		err = tb_store_root(c->scratch, h->log_id, h->seq, root_re);
	if (err || memcmp(root_src, root_re, TB_HASHLEN)) {
		c->rep->err = TB_ECORRUPT;
		return tb_reject_set(&c->rep->where, TB_ECORRUPT, h->log_id, h->seq,
				     "the stored Merkle tree does not match the entries");
	}
	struct tb_community cs, cr;
	err = tb_store_community(src, h->log_id, &cs);
	if (!err)
		err = tb_store_community(c->scratch, h->log_id, &cr);
	if (err || strcmp(cs.name, cr.name) || cs.floor != cr.floor ||
	    cs.ceiling != cr.ceiling || cs.members != cr.members || cs.active != cr.active ||
	    cs.exchanges != cr.exchanges || cs.reversals != cr.reversals ||
	    cs.minutes != cr.minutes) {
		c->rep->err = TB_ECORRUPT;
		return tb_reject_set(&c->rep->where, TB_ECORRUPT, h->log_id, h->seq,
				     "the stored community record differs from the one recomputed from the log");
	}
	struct member_cmp mc = {c->scratch, h->log_id, c->rep};
	err = tb_store_foreach_member(src, h->log_id, compare_member, &mc);
	if (err)
		return err;
	return compare_clearing(c, h->log_id);
}

/* A fork proof held is a violation of its log, as the auditor says: the
 * community's key signed two histories, and the log is frozen. */
static int report_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		       struct tb_view a, struct tb_view b)
{
	(void)a;
	(void)b;
	struct tb_verify_report *rep = ctx;
	rep->err = TB_EFORKED;
	tb_reject_set(&rep->where, TB_EFORKED, log_id, seq,
		      "the log forked: two validly signed entries at seq %llu (log frozen)",
		      (unsigned long long)seq);
	return 1;
}

int tb_verify_dir(const char *dir, const char *tmpdir,
		  struct tb_verify_report *rep)
{
	memset(rep, 0, sizeof *rep);
	struct tb_store *src = NULL, *scratch = NULL;
	char path[4096];
	struct feeder f;
	int err = tb_store_open(&src, dir, TB_STORE_RDONLY);
	if (err)
		return err;
	if ((err = feeder_init(&f, rep)) ||
	    (err = tb_scratch_open(tmpdir, "verify", path, sizeof path, &scratch))) {
		free(f.buf);
		tb_store_free(src);
		return err;
	}
	f.scratch = scratch;
	struct dir_ctx d = {src, &f, 0};
	err = tb_store_foreach_log(src, feed_log, &d);
	if (!err) {
		struct log_cmp c = {src, scratch, rep};
		err = tb_store_foreach_log(src, compare_log, &c);
	}
	if (!err)
		err = verify_across(scratch, rep);
	if (!err && !rep->err)
		err = tb_store_foreach_fork(src, report_fork, rep);
	if (err > 0)
		err = 0;
	if (err && !rep->err) {
		rep->err = err;
		if (!rep->where.err)
			tb_reject_set(&rep->where, err, NULL, 0, "%s",
				      tb_strerror(err));
	}
	tb_scratch_close(scratch, path);
	free(f.buf);
	tb_store_free(src);
	return rep->err;
}

/* ---- export files ---- */

/* What a record says about its place: its log and seq (and prev), if it
 * decodes at all. */
struct claim {
	bool ok;
	uint8_t log[TB_KEY_LEN];
	uint64_t seq;
	uint8_t prev[TB_HASHLEN];
};

static void claim_of(struct claim *c, struct tb_view item)
{
	struct tb_entry e;
	memset(c, 0, sizeof *c);
	if (tb_entry_decode(&e, item.p, item.len))
		return;
	c->ok = true;
	memcpy(c->log, e.log_id, TB_KEY_LEN);
	c->seq = e.seq;
	memcpy(c->prev, e.prev, TB_HASHLEN);
}

/*
 * Where record `item` (claiming *cur) sits: it continues the log before it
 * (last_log, which has last_seq entries so far) or starts the next log at its
 * entry 1. A damaged record cannot be trusted to say which: when its own log
 * id or seq is what was damaged, the next record tells, by being entry 2 of
 * a new log; and a genesis whose log id differs from the next record's is
 * the damaged one only if the next record's prev no longer matches it. So a
 * violation is reported where the record is, not where its bytes point.
 */
static void place_record(const struct claim *cur, struct tb_view item,
			 const struct claim *next,
			 const uint8_t last_log[TB_KEY_LEN], uint64_t last_seq,
			 uint8_t log[TB_KEY_LEN], uint64_t *seq)
{
	bool have_last = last_seq > 0;
	if (cur->ok && have_last && !memcmp(cur->log, last_log, TB_KEY_LEN)) {
		memcpy(log, last_log, TB_KEY_LEN);
		*seq = last_seq + 1;
		return;
	}
	bool next_starts = next->ok && next->seq == 2 &&
			   (!have_last || memcmp(next->log, last_log, TB_KEY_LEN));
	if (cur->ok && cur->seq == 1) {
		uint8_t h[TB_HASHLEN];
		tb_entry_hash(h, item.p, item.len);
		bool damaged_id = next_starts &&
				  memcmp(next->log, cur->log, TB_KEY_LEN) &&
				  memcmp(next->prev, h, TB_HASHLEN);
		memcpy(log, damaged_id ? next->log : cur->log, TB_KEY_LEN);
		*seq = 1;
		return;
	}
	if (next_starts) {
		memcpy(log, next->log, TB_KEY_LEN);
		*seq = 1;
	} else if (have_last) {
		memcpy(log, last_log, TB_KEY_LEN);
		*seq = last_seq + 1;
	} else {
		/* The first record, damaged, and nothing after it to tell. */
		memcpy(log, cur->ok ? cur->log : last_log, TB_KEY_LEN);
		*seq = 1;
	}
}

/* A checkpoint must verify and agree with the log; a valid fork proof is a
 * violation (the log's key signed two histories), an invalid one too. */
static int check_extra(struct tb_store *scratch, enum tb_export_item type,
		       struct tb_view item, const uint8_t *log, uint64_t seq,
		       struct tb_verify_report *rep)
{
	int err;
	if (type == TB_EXPORT_CHECKPOINT) {
		struct tb_checkpoint cp;
		err = tb_checkpoint_open(&cp, item.p, item.len);
		if (!err) {
			err = tb_store_checkpoint_put(scratch, item.p, item.len);
			if (err == 0 || err == 1)
				return 0;
			rep->err = err;
			return tb_reject_set(&rep->where, err, cp.log_id, cp.size,
					     "the checkpoint of %llu entries does not match the log's entries",
					     (unsigned long long)cp.size);
		}
		rep->err = err;
		return tb_reject_set(&rep->where, err, log, seq,
				     "a checkpoint does not verify: %s", tb_strerror(err));
	}
	size_t alen = item.len >= 2 ? (size_t)item.p[0] << 8 | item.p[1] : 0;
	struct tb_entry e;
	int derr = item.len >= 2 + alen ? tb_entry_decode(&e, item.p + 2, alen) : TB_ETRUNCATED;
	err = item.len >= 2 + alen ? tb_store_fork_add(scratch, item.p + 2, alen, item.p + 2 + alen,
						      item.len - 2 - alen)
				    : TB_ETRUNCATED;
	if (err >= 0) {
		rep->err = TB_EFORKED;
		return tb_reject_set(&rep->where, TB_EFORKED, e.log_id, e.seq,
				     "the log forked: two validly signed entries at seq %llu",
				     (unsigned long long)e.seq);
	}
	rep->err = err;
	return tb_reject_set(&rep->where, err, derr ? log : e.log_id, derr ? seq : e.seq,
			     "an invalid fork proof: %s", tb_strerror(err));
}

int tb_verify_export(const uint8_t *file, size_t len, const char *tmpdir,
		     struct tb_verify_report *rep)
{
	memset(rep, 0, sizeof *rep);
	struct tb_export_reader r;
	struct tb_store *scratch = NULL;
	char path[4096];
	struct feeder f;
	int err = tb_export_open(&r, file, len);
	if (err) {
		rep->err = err;
		tb_reject_set(&rep->where, err, NULL, 0, "not a Tally export file: %s",
			      tb_strerror(err));
		return err;
	}
	if ((err = feeder_init(&f, rep)) ||
	    (err = tb_scratch_open(tmpdir, "verify", path, sizeof path, &scratch))) {
		free(f.buf);
		return err;
	}
	f.scratch = scratch;
	enum tb_export_item type;
	struct tb_view item;
	/* Logs are exported one after the other, each from entry 1: a record
	 * belongs after the previous one, or starts the next log. */
	uint8_t last_log[TB_KEY_LEN] = {0};
	uint64_t last_seq = 0;
	struct claim cur, next = {0};
	bool have_next = false;
	for (;;) {
		err = tb_export_next(&r, &type, &item);
		if (err <= 0)
			break;
		if (type != TB_EXPORT_ENTRY) {
			/* Checkpoints and fork proofs: checked once the entries
			 * before them are. */
			have_next = false;
			if (!rep->err && (err = feeder_flush(&f)))
				break;
			if ((err = check_extra(scratch, type, item, last_log, last_seq, rep)))
				break;
			continue;
		}
		if (have_next)
			cur = next;
		else
			claim_of(&cur, item);
		/* A look at the next record, to place a damaged one. */
		struct tb_export_reader peek = r;
		enum tb_export_item ptype;
		struct tb_view pitem;
		have_next = tb_export_next(&peek, &ptype, &pitem) > 0 &&
			    ptype == TB_EXPORT_ENTRY;
		if (have_next)
			claim_of(&next, pitem);
		else
			memset(&next, 0, sizeof next);
		uint8_t log[TB_KEY_LEN];
		uint64_t seq;
		place_record(&cur, item, &next, last_log, last_seq, log, &seq);
		if (seq == 1)
			rep->logs++;
		memcpy(last_log, log, TB_KEY_LEN);
		last_seq = seq;
		if ((err = feeder_add(&f, item, last_log, seq)))
			break;
	}
	/* Records before a framing error are checked first: an earlier
	 * violation wins. */
	if (!rep->err)
		(void)feeder_flush(&f);
	if (!err && !rep->err)
		err = verify_across(scratch, rep);
	if (err < 0 && !rep->err) {
		rep->err = err;
		tb_reject_set(&rep->where, err, last_log, last_seq + 1,
			      "export file is damaged after item %llu: %s",
			      (unsigned long long)r.items, tb_strerror(err));
	}
	tb_scratch_close(scratch, path);
	free(f.buf);
	return rep->err;
}
