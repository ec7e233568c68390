/*
 * dir.c: data directories as sources of the audit engine. Their entries are
 * read log by log (ascending log id) from seq 1 and queued like an export's,
 * the directory opened again every few thousand entries so that the pages of
 * it this process maps stay bounded whatever its size;
 * their checkpoints and fork proofs are kept for the final checks. Once every
 * source is in, each directory's stored heads, Merkle roots, community,
 * member and clearing records are compared with the recomputed ones
 * (ECORRUPT). A directory is opened read-only and never written.
 */
#include <stdlib.h>
#include <string.h>

#include "audit_int.h"

struct dir_feed {
	struct tb_audit *a;
	struct tb_store *src;
	const char *ledger;
	const uint8_t *log;
	uint64_t next; /* the seq to read next */
	size_t left;   /* entries to read before the source is opened again */
	int err;
};

static int dir_entry(void *ctx, uint64_t seq, struct tb_view rec)
{
	struct dir_feed *d = ctx;
	struct tb_audit *a = d->a;
	struct tb_entry e;
	int derr = tb_entry_decode(&e, rec.p, rec.len);
	d->next = seq + 1;
	d->left--;
	/* A gap between stored entries is reported by the append, as for an
	 * export. */
	if (!derr && e.seq == seq && !memcmp(e.log_id, d->log, TB_KEY_LEN))
		return (d->err = tb_audit_queue(a, rec, d->log, seq, 0)) ? 1 : !d->left;
	/* Violations found here come after those of the records before. */
	if ((d->err = tb_audit_flush(a)))
		return 1;
	if (derr)
		tb_audit_say(a, derr, d->log, seq, 0, "the stored entry does not decode: %s",
			     tb_strerror(derr));
	else
		tb_audit_say(
			a, TB_ESEQ, d->log, seq, 0,
			"the record stored as this entry claims to be entry %llu of another log or place",
			(unsigned long long)e.seq);
	return !d->left;
}

/* The heads of the source's logs, copied (the source is opened again while
 * their entries are read). */
struct head_list {
	struct tb_head *v;
	size_t n, cap;
};

static int collect_head(void *ctx, const struct tb_head *h)
{
	struct head_list *l = ctx;
	if (l->n == l->cap) {
		size_t c = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->v, c * sizeof *l->v);
		if (!p)
			return TB_ENOMEM;
		l->v = p;
		l->cap = c;
	}
	l->v[l->n++] = *h;
	return 0;
}

/* One log's entries, TB_AUDIT_DIR_CHUNK at a time with the source opened
 * again between them (its pages mapped stay bounded), then its
 * checkpoint. */
static int dir_log(struct dir_feed *d, const struct tb_head *h)
{
	d->log = h->log_id;
	d->next = 1;
	for (;;) {
		d->left = TB_AUDIT_DIR_CHUNK;
		int err = tb_store_foreach_entry(d->src, h->log_id, d->next, dir_entry, d);
		if (d->err)
			return d->err;
		if (err < 0)
			return err;
		if (d->left)
			break;
		tb_store_free(d->src);
		d->src = NULL;
		if ((err = tb_store_open(&d->src, d->ledger, TB_STORE_RDONLY)))
			return err;
	}
	uint8_t cp[TB_CHECKPOINT_MAX];
	size_t len;
	if (!tb_store_checkpoint_get(d->src, h->log_id, cp, sizeof cp, &len))
		return tb_audit_hold(&d->a->cps, (struct tb_view){cp, len}, h->log_id, h->seq, 0);
	return 0;
}

static int dir_fork(void *ctx, const uint8_t log_id[TB_KEY_LEN], uint64_t seq, struct tb_view a,
		    struct tb_view b)
{
	struct dir_feed *d = ctx;
	uint8_t buf[2 + 2 * TB_ENTRY_MAX];
	if (a.len > TB_ENTRY_MAX || b.len > TB_ENTRY_MAX)
		return TB_ECORRUPT;
	buf[0] = (uint8_t)(a.len >> 8);
	buf[1] = (uint8_t)a.len;
	memcpy(buf + 2, a.p, a.len);
	memcpy(buf + 2 + a.len, b.p, b.len);
	return tb_audit_hold(&d->a->forks, (struct tb_view){buf, 2 + a.len + b.len}, log_id, seq,
			     0);
}

int tb_audit_add_dir(struct tb_audit *a, const char *ledger)
{
	struct dir_feed d = {a, NULL, ledger, NULL, 1, 0, 0};
	struct head_list heads = {NULL, 0, 0};
	int err = tb_audit_source(a, true);
	if (err)
		return err;
	err = tb_store_open(&d.src, ledger, TB_STORE_RDONLY);
	if (err)
		return err;
	err = tb_store_foreach_log(d.src, collect_head, &heads);
	for (size_t i = 0; !err && i < heads.n; i++)
		err = dir_log(&d, &heads.v[i]);
	free(heads.v);
	if (!err)
		err = tb_store_foreach_fork(d.src, dir_fork, &d);
	if (!err)
		err = tb_audit_flush(a);
	tb_store_free(d.src);
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

/* ---- the stored state against the recomputed one ---- */

/* Other sources may hold more of a log than the directory (a neighbour's
 * copy that is behind): its records are then compared with the recomputed
 * ones at the directory's head, as far as the log tells them. */
struct cmp_ctx {
	struct tb_audit *a;
	struct tb_store *src;
	const uint8_t *log;
	uint64_t at; /* the directory's head seq */
	bool ahead;  /* the audit holds entries of the log past it */
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
	struct tb_store *re = c->a->scratch;
	struct tb_member r;
	struct balance_at b = {c->at, 0};
	int bad = tb_store_member(re, c->log, m->no, &r) || r.floor != m->floor ||
		  r.ceiling != m->ceiling || r.joined_seq != m->joined_seq ||
		  strcmp(r.name, m->name);
	/* Keys, holds and leaving may have changed after the directory's head. */
	if (!bad && !c->ahead)
		bad = r.balance != m->balance || r.held != m->held || r.active != m->active ||
		      memcmp(r.key, m->key, TB_KEY_LEN);
	else if (!bad)
		bad = tb_store_foreach_history(re, c->log, m->no, history_at, &b) < 0 ||
		      b.balance != m->balance;
	if (bad)
		tb_audit_say(
			c->a, TB_ECORRUPT, c->log, 0, 0,
			"the stored record of member %u (%s) differs from the one recomputed from the log",
			m->no, m->name);
	return 0;
}

/* Stored clearing accounts of a log against the recomputed ones, both ways
 * (every one recomputed equal, and as many of them). */
struct clearing_cmp {
	struct tb_store *other;
	const uint8_t *log_id;
	uint64_t n;
	bool differs;
};

static int cmp_one_clearing(void *ctx, const struct tb_clearing *c)
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

static int cmp_clearing(struct cmp_ctx *c)
{
	struct clearing_cmp stored = {c->a->scratch, c->log, 0, false};
	struct clearing_cmp re = {c->src, c->log, 0, false};
	int err = tb_store_foreach_clearing(c->src, c->log, cmp_one_clearing, &stored);
	if (err >= 0)
		err = tb_store_foreach_clearing(c->a->scratch, c->log, cmp_one_clearing, &re);
	if (err < 0 && err != TB_ENOTFOUND)
		return err;
	if (stored.differs || re.differs || stored.n != re.n)
		tb_audit_say(
			c->a, TB_ECORRUPT, c->log, 0, 0,
			"the stored clearing accounts differ from the ones recomputed from the log");
	return 0;
}

static bool community_differs(const struct tb_community *s, const struct tb_community *r)
{
	return strcmp(s->name, r->name) || s->floor != r->floor || s->ceiling != r->ceiling ||
	       s->members != r->members || s->active != r->active || s->exchanges != r->exchanges ||
	       s->reversals != r->reversals || s->minutes != r->minutes;
}

static int cmp_log(void *ctx, const struct tb_head *h)
{
	struct cmp_ctx *c = ctx;
	struct tb_store *re = c->a->scratch;
	struct tb_head r;
	uint8_t rec[TB_ENTRY_MAX], hash[TB_HASHLEN];
	size_t len;
	if (h->seq == 0)
		return 0; /* known only by a fork proof: no entries */
	if (tb_store_head(re, h->log_id, &r) || r.seq < h->seq ||
	    tb_store_get_entry(re, h->log_id, h->seq, rec, sizeof rec, &len) ||
	    (tb_entry_hash(hash, rec, len), memcmp(hash, h->hash, TB_HASHLEN))) {
		tb_audit_say(c->a, TB_ECORRUPT, h->log_id, h->seq, 0,
			     "the stored head of the log does not match its entries");
		return 0;
	}
	uint8_t r1[TB_HASHLEN], r2[TB_HASHLEN];
	if (tb_store_root(c->src, h->log_id, h->seq, r1) ||
	    tb_store_root(re, h->log_id, h->seq, r2) || memcmp(r1, r2, TB_HASHLEN))
		tb_audit_say(c->a, TB_ECORRUPT, h->log_id, h->seq, 0,
			     "the stored Merkle tree does not match the entries");
	c->log = h->log_id;
	c->at = h->seq;
	c->ahead = r.seq > h->seq;
	struct tb_community cs, cr;
	if (!c->ahead && (tb_store_community(c->src, h->log_id, &cs) ||
			  tb_store_community(re, h->log_id, &cr) || community_differs(&cs, &cr)))
		tb_audit_say(
			c->a, TB_ECORRUPT, h->log_id, h->seq, 0,
			"the stored community record differs from the one recomputed from the log");
	int err = tb_store_foreach_member(c->src, h->log_id, cmp_member, c);
	if (!err && !c->ahead)
		err = cmp_clearing(c);
	return err;
}

int tb_audit_compare_dirs(struct tb_audit *a)
{
	int err = 0;
	for (size_t i = 0; !err && i < a->ndirs; i++) {
		struct tb_store *src;
		if ((err = tb_store_open(&src, a->dirs[i], TB_STORE_RDONLY)))
			break;
		struct cmp_ctx c = {a, src, NULL, 0, false};
		err = tb_store_foreach_log(src, cmp_log, &c);
		tb_store_free(src);
	}
	return err;
}
