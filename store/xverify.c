/*
 * xverify.c: the checks of credit across communities that span two logs,
 * run by verification and the auditor over a scratch store in which every
 * log was re-applied by the rules. The per-log rules (xrules.c) already
 * held every entry to its own log's state; what they cannot see is the
 * other log, so here, for every pair of communities whose logs are both
 * held:
 *   - every decision answers a prepare held at its from_log/from_seq with
 *     the same txid and terms, addressed to the decision's log (so a prepare
 *     is decided at most once: once per log by the rules, and a decision in
 *     any other log than the one the prepare names is reported, ELEG, and
 *     never counted for the exchange);
 *   - every final leg records the outcome of the decision it names (the
 *     entry at decide_seq of the prepare's to_log, on the same exchange): a
 *     completed final needs a commit, a release needs a refusal;
 *   - a forked log's successor only refuses prepares addressed to the
 *     forked log, and only those its kept history did not decide (PROTOCOL.md
 *     12.6); a final leg may name such a refusal, at decide_seq of the
 *     successor;
 *   - the two clearing balances mirror, once the exchanges in flight
 *     (committed, final leg not held yet) are accounted;
 *   - every community's accounts, members and clearing, sum to zero.
 * No trust limit was ever exceeded because every decision was re-applied
 * by tb_xrule_decide against the state its log had reached: a commit over
 * the limit is a rule violation reported at re-append, not here.
 * A leg whose counterpart is in a log (or a part of it) that is not held is
 * counted as unmatched, which is not a violation. Read-only. The pass runs
 * in steps of one read transaction each, which read at most
 * TB_XVERIFY_CHUNK entries and resume by key, so that the auditor can let go
 * of the store's mapped pages between them and its resident memory does not
 * grow with the history (AUDIT.md, "What the audit costs"); what a step
 * keeps for the next (logs, successions, pairs) is copied out of its
 * transaction. The store must not be written between steps.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "store_int.h"

/* Entries one step reads (about 1 MiB of entry pages, and the pages of the
 * other records their checks look up). */
#define TB_XVERIFY_CHUNK 4096

struct pair {
	uint8_t a[TB_KEY_LEN], b[TB_KEY_LEN]; /* a < b */
	int64_t expected;		      /* sum of both clearing balances the legs explain */
	uint64_t in_flight;
};

/* An open-addressing index into an array (pairs or successions): slot
 * holds position + 1, 0 when free; at most half full, so a lookup probes a
 * few slots whatever the number of logs and pairs an export holds. */
struct index {
	uint32_t *slot;
	size_t mask; /* slots - 1, 0 before the first insert */
};

struct log_list {
	uint8_t (*id)[TB_KEY_LEN];
	struct tb_logstate *st;
	size_t n, cap;
};

enum xv_phase { XV_START, XV_LOGS, XV_MIRRORS, XV_DONE };

struct tb_xverify {
	struct tb_txn *t; /* the read transaction of the current step */
	struct tb_audit_sink sink;
	struct tb_xverify_counts counts;
	size_t chunk;	/* entries a step reads */
	size_t scanned; /* by this step */
	enum xv_phase phase;
	struct log_list ll; /* every log, as the first step found them */
	size_t at;	    /* the log being scanned, ll.id[at] */
	uint64_t seq;	    /* its entry to read next, 0 past the last there can be */
	struct pair *pairs;
	size_t npairs, cap;
	struct index pairidx; /* over pairs, until they are sorted */
	const uint8_t *log;   /* ll.id[at] */
	uint32_t lognum;
	/* the successions held (valid entries 2 of kind 14) */
	struct tb_successor *succ;
	size_t nsucc;
	struct index succidx; /* over succ, by old_log */
};

static void violation(struct tb_xverify *v, int err, const uint8_t *log, uint64_t seq,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void violation(struct tb_xverify *v, int err, const uint8_t *log, uint64_t seq,
		      const char *fmt, ...)
{
	char msg[sizeof((struct tb_reject *)0)->msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct tb_reject r;
	memset(&r, 0, sizeof r);
	tb_reject_set(&r, err, log, seq, "%s", msg);
	tb_audit_report(&v->sink, &r);
}

static void short_id(char out[17], const uint8_t *id)
{
	tb_hex_encode(out, id, 8);
}

/* Log ids are public keys: their bytes are spread evenly; mixing all of
 * them makes slots costly to aim at. */
static size_t key_hash(const uint8_t *x, const uint8_t *y)
{
	uint64_t h = 0x9e3779b97f4a7c15u;
	for (int k = 0; k < 2 && x; k++, x = y)
		for (size_t i = 0; i < TB_KEY_LEN; i += 8) {
			uint64_t w;
			memcpy(&w, x + i, 8);
			h = (h ^ w) * 0xff51afd7ed558ccdu;
			h ^= h >> 32;
		}
	return (size_t)h;
}

/* The slot of key (x, y): the one that holds it, or the free one where it
 * goes. eq(ctx, pos, x, y) says whether array position pos holds it. */
static uint32_t *index_slot(const struct index *ix, const uint8_t *x, const uint8_t *y,
			    bool (*eq)(const void *, size_t, const uint8_t *, const uint8_t *),
			    const void *ctx)
{
	for (size_t i = key_hash(x, y) & ix->mask;; i = (i + 1) & ix->mask)
		if (!ix->slot[i] || eq(ctx, ix->slot[i] - 1, x, y))
			return &ix->slot[i];
}

/* Room for n entries at most half full: a new table, rehashed by the
 * caller (rehash(ctx, ix) puts every position back). */
static int index_reserve(struct index *ix, size_t n, void (*rehash)(void *, struct index *),
			 void *ctx)
{
	if (ix->mask && 2 * n <= ix->mask + 1)
		return 0;
	if (n > UINT32_MAX / 4)
		return TB_EFULL;
	size_t slots = 64;
	while (slots < 2 * n)
		slots *= 2;
	uint32_t *slot = calloc(slots, sizeof *slot);
	if (!slot)
		return TB_ENOMEM;
	free(ix->slot);
	ix->slot = slot;
	ix->mask = slots - 1;
	rehash(ctx, ix);
	return 0;
}

static bool pair_eq(const void *ctx, size_t pos, const uint8_t *x, const uint8_t *y)
{
	const struct pair *p = &((const struct tb_xverify *)ctx)->pairs[pos];
	return !memcmp(p->a, x, TB_KEY_LEN) && !memcmp(p->b, y, TB_KEY_LEN);
}

static void pair_rehash(void *ctx, struct index *ix)
{
	struct tb_xverify *v = ctx;
	for (size_t i = 0; i < v->npairs; i++)
		*index_slot(ix, v->pairs[i].a, v->pairs[i].b, pair_eq, v) = (uint32_t)i + 1;
}

static struct pair *pair_of(struct tb_xverify *v, const uint8_t *x, const uint8_t *y)
{
	if (memcmp(x, y, TB_KEY_LEN) > 0) {
		const uint8_t *z = x;
		x = y;
		y = z;
	}
	/* Sized from the logs at first: a pair per link is typical. */
	size_t want = v->npairs + 1 > v->ll.n ? v->npairs + 1 : v->ll.n;
	if (index_reserve(&v->pairidx, want, pair_rehash, v))
		return NULL;
	uint32_t *slot = index_slot(&v->pairidx, x, y, pair_eq, v);
	if (*slot)
		return &v->pairs[*slot - 1];
	if (v->npairs == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		struct pair *p = realloc(v->pairs, cap * sizeof *p);
		if (!p)
			return NULL;
		v->pairs = p;
		v->cap = cap;
	}
	struct pair *p = &v->pairs[v->npairs++];
	memset(p, 0, sizeof *p);
	memcpy(p->a, x, TB_KEY_LEN);
	memcpy(p->b, y, TB_KEY_LEN);
	*slot = (uint32_t)v->npairs;
	return p;
}

static int cmp_pair(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	int c = memcmp(p->a, q->a, TB_KEY_LEN);
	return c ? c : memcmp(p->b, q->b, TB_KEY_LEN);
}

/* True if some entries of the log are held. */
static bool log_held(struct tb_txn *t, const uint8_t *log, struct tb_logstate *l)
{
	return !tb_logstate_get(t, log, l) && l->seq > 0;
}

/* Entry seq of a log, decoded (views into the read transaction); TB_ENOTFOUND
 * if that part of the log is not held. */
static int held_entry(struct tb_txn *t, const uint8_t *log, uint64_t seq, struct tb_entry *e)
{
	struct tb_logstate l;
	if (!log_held(t, log, &l) || seq > l.seq)
		return TB_ENOTFOUND;
	uint8_t k[TB_ENTRY_KEY_LEN];
	tb_entry_key(k, l.lognum, seq);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_ENTRIES, k, sizeof k, &v);
	if (err)
		return err;
	return tb_entry_decode(e, v.p, v.len) ? TB_ENOTFOUND : 0;
}

/* The seq that recorded txid in a log (its rules applied the entry). */
static uint64_t txid_seq(struct tb_txn *t, uint32_t lognum, const uint8_t *txid)
{
	uint8_t k[TB_TXID_KEY_LEN];
	tb_txid_key(k, lognum, txid);
	struct tb_view v;
	uint64_t seq, by;
	if (tb_txn_get(t, TB_T_TXIDS, k, sizeof k, &v) || tb_txid_unpack(v, &seq, &by))
		return 0;
	return seq;
}

static bool view_eq(struct tb_view a, struct tb_view b)
{
	return a.len == b.len && !memcmp(a.p, b.p, a.len);
}

/* What a decision says that its prepare does not, or NULL. */
static const char *decide_mismatch(struct tb_txn *t, const struct tb_xdecide *d,
				   const uint8_t *decider, const struct tb_entry *p)
{
	if (p->kind != TB_KIND_XPREPARE)
		return "that entry is not a prepare";
	const struct tb_xprepare *x = &p->body.xprepare;
	if (memcmp(x->txid, d->txid, TB_TXID_LEN))
		return "the transaction ids differ";
	if (memcmp(x->to_log, decider, TB_KEY_LEN)) {
		if (!tb_succeeds(t, decider, x->to_log))
			return "the prepare is addressed to another community";
		if (d->outcome == TB_XO_COMMITTED)
			return "the prepare is addressed to the forked log this one succeeds, which "
			       "a successor may only refuse";
	}
	if (x->minutes != d->minutes)
		return "the minutes differ";
	if (!view_eq(x->to_name, d->to_name))
		return "the provider's names differ";
	if (!view_eq(x->category, d->category) || memcmp(x->memo_hash, d->memo_hash, TB_HASHLEN) ||
	    x->date != d->date)
		return "the category, memo or date differ";
	if (x->expires != d->expires)
		return "the expiry differs";
	struct tb_logstate l;
	struct tb_member m;
	if (tb_logstate_get(t, p->log_id, &l) ||
	    tb_member_get(t, l.lognum, (uint32_t)x->member, &m) ||
	    strlen(m.name) != d->from_name.len || memcmp(m.name, d->from_name.p, d->from_name.len))
		return "the paying member's name differs";
	return NULL;
}

static bool succ_eq(const void *ctx, size_t pos, const uint8_t *x, const uint8_t *y)
{
	(void)y;
	return !memcmp(((const struct tb_xverify *)ctx)->succ[pos].old_log, x, TB_KEY_LEN);
}

/* Every succession by its old log (the first of two for one old log). */
static void succ_rehash(void *ctx, struct index *ix)
{
	struct tb_xverify *v = ctx;
	for (size_t i = 0; i < v->nsucc; i++) {
		uint32_t *slot = index_slot(ix, v->succ[i].old_log, NULL, succ_eq, v);
		if (!*slot)
			*slot = (uint32_t)i + 1;
	}
}

static const struct tb_successor *successor_of(const struct tb_xverify *v, const uint8_t *old)
{
	if (!v->nsucc)
		return NULL;
	uint32_t slot = *index_slot(&v->succidx, old, NULL, succ_eq, v);
	return slot ? &v->succ[slot - 1] : NULL;
}

/* Whether entry seq of the old log, as held, belongs to the history its
 * successor keeps: before the fork, or in the kept branch when the copy
 * held is that branch. */
static bool in_kept(struct tb_xverify *v, const struct tb_successor *s, uint64_t seq)
{
	if (seq < s->fork_seq)
		return true;
	struct tb_logstate l;
	if (seq > s->kept_seq || !log_held(v->t, s->old_log, &l) || l.seq < s->kept_seq)
		return false;
	uint8_t k[TB_ENTRY_KEY_LEN], h[TB_HASHLEN];
	tb_entry_key(k, l.lognum, s->kept_seq);
	struct tb_view rec;
	if (tb_txn_get(v->t, TB_T_ENTRIES, k, sizeof k, &rec))
		return false;
	tb_entry_hash(h, rec.p, rec.len);
	return !memcmp(h, s->kept_hash, TB_HASHLEN);
}

/* A successor's refusal of a prepare addressed to the log it succeeds: a
 * violation only if the kept history decided that prepare. */
static int check_successor_refusal(struct tb_xverify *v, const struct tb_entry *e,
				   const struct tb_successor *s)
{
	const struct tb_xdecide *d = &e->body.xdecide;
	struct tb_logstate ol;
	if (!log_held(v->t, s->old_log, &ol))
		return 0;
	uint64_t seq = txid_seq(v->t, ol.lognum, d->txid);
	if (seq && in_kept(v, s, seq)) {
		char old[17];
		short_id(old, s->old_log);
		violation(v, TB_ELEG, e->log_id, e->seq,
			  "refuses a prepare that the kept history of community %s decided at "
			  "entry %llu; a successor may only refuse those it did not decide",
			  old, (unsigned long long)seq);
	}
	return 0;
}

static int check_decide(struct tb_xverify *v, const struct tb_entry *e)
{
	const struct tb_xdecide *d = &e->body.xdecide;
	struct tb_xdecided rec;
	if (tb_xdecided_get(v->t, v->lognum, d->from_log, d->txid, &rec) || rec.seq != e->seq)
		return 0; /* refused by the rules (an audit): reported there */
	char from[17];
	short_id(from, d->from_log);
	struct tb_logstate payer;
	bool payer_held = log_held(v->t, d->from_log, &payer);
	struct tb_entry p;
	int err = held_entry(v->t, d->from_log, d->from_seq, &p);
	if (err && err != TB_ENOTFOUND)
		return err;
	bool in_flight = false;
	if (err) {
		/* The prepare is past the part of its log held: committed, it
		 * is in flight (its final leg cannot be held either). */
		v->counts.unmatched++;
		in_flight = d->outcome == TB_XO_COMMITTED && payer_held;
	} else {
		const char *why = decide_mismatch(v->t, d, e->log_id, &p);
		if (why) {
			violation(
				v, TB_ELEG, e->log_id, e->seq,
				"the decision does not answer the prepare at entry %llu of community %s: %s",
				(unsigned long long)d->from_seq, from, why);
			return 0;
		}
		struct tb_xleg x;
		if ((err = tb_xleg_get(v->t, d->from_log, d->txid, &x)))
			return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
		const struct tb_successor *succ = successor_of(v, x.provider);
		if (succ && !memcmp(succ->new_log, e->log_id, TB_KEY_LEN))
			return check_successor_refusal(v, e, succ); /* a commit: told above */
		if (x.decide_seq != e->seq || memcmp(x.decider, e->log_id, TB_KEY_LEN)) {
			if (succ && !memcmp(succ->new_log, x.decider, TB_KEY_LEN))
				return 0; /* the successor's refusal came first: checked there */
			char by[17];
			short_id(by, x.decider);
			violation(v, TB_ELEG, e->log_id, e->seq,
				  "the exchange was already decided, by entry %llu of community %s",
				  (unsigned long long)x.decide_seq, by);
			return 0;
		}
		in_flight = d->outcome == TB_XO_COMMITTED && !x.final_seq;
	}
	if (in_flight) {
		struct pair *pr = pair_of(v, e->log_id, d->from_log);
		if (!pr)
			return TB_ENOMEM;
		pr->expected -= (int64_t)d->minutes;
		pr->in_flight++;
		v->counts.in_flight++;
	}
	return 0;
}

/* Whether entry d is a decision on the exchange of final leg e. */
static bool answers(const struct tb_entry *d, const struct tb_entry *e, const struct tb_xleg *x)
{
	const struct tb_xdecide *xd = &d->body.xdecide;
	return d->kind == TB_KIND_XDECIDE && !memcmp(xd->txid, e->body.xfinal.txid, TB_TXID_LEN) &&
	       !memcmp(xd->from_log, e->log_id, TB_KEY_LEN) && xd->from_seq == x->prepare_seq;
}

static const char *final_text(uint64_t outcome)
{
	return outcome == TB_XO_COMMITTED ? "completed" : "released";
}

static int check_final(struct tb_xverify *v, const struct tb_entry *e)
{
	const struct tb_xfinal *f = &e->body.xfinal;
	struct tb_xleg x;
	int err = tb_xleg_get(v->t, e->log_id, f->txid, &x);
	if (err && err != TB_ENOTFOUND)
		return err;
	if (err || x.final_seq != e->seq || !x.prepare_seq)
		return 0; /* refused by the rules (an audit): reported there */
	struct tb_entry d;
	const uint8_t *decider = x.provider;
	err = held_entry(v->t, x.provider, f->decide_seq, &d);
	if (err && err != TB_ENOTFOUND)
		return err;
	/* Or a refusal by the successor of a forked provider (PROTOCOL.md 12.6). */
	const struct tb_successor *succ = successor_of(v, x.provider);
	struct tb_entry sd;
	if (succ && (err || !answers(&d, e, &x)) &&
	    !held_entry(v->t, succ->new_log, f->decide_seq, &sd) && answers(&sd, e, &x)) {
		d = sd;
		err = 0;
		decider = succ->new_log;
	}
	char prov[17];
	short_id(prov, decider);
	if (err) {
		v->counts.unmatched++;
		struct tb_logstate pl;
		if (f->outcome == TB_XO_COMMITTED && log_held(v->t, x.provider, &pl)) {
			struct pair *pr = pair_of(v, e->log_id, x.provider);
			if (!pr)
				return TB_ENOMEM;
			pr->expected += (int64_t)x.minutes;
		}
		return 0;
	}
	const struct tb_xdecide *xd = &d.body.xdecide;
	if (!answers(&d, e, &x)) {
		violation(
			v, TB_ELEG, e->log_id, e->seq,
			"the final leg names entry %llu of community %s, which is not the decision on this exchange",
			(unsigned long long)f->decide_seq, prov);
		return 0;
	}
	if (xd->outcome != f->outcome)
		violation(
			v, TB_ELEG, e->log_id, e->seq,
			"the final leg records the exchange as %s but the decision at entry %llu of community %s says %s",
			final_text(f->outcome), (unsigned long long)f->decide_seq, prov,
			tb_xoutcome_text(xd->outcome));
	return 0;
}

static int check_prepare(struct tb_xverify *v, const struct tb_entry *e)
{
	const struct tb_xprepare *p = &e->body.xprepare;
	struct tb_logstate l;
	if (txid_seq(v->t, v->lognum, p->txid) != e->seq)
		return 0;
	/* Decisions and final legs are checked from their side; a prepare
	 * whose provider's log is not held cannot be matched. */
	if (!log_held(v->t, p->to_log, &l))
		v->counts.unmatched++;
	return 0;
}

static int check_entry(struct tb_xverify *v, struct tb_view val)
{
	struct tb_entry e;
	if (tb_entry_decode(&e, val.p, val.len) || memcmp(e.log_id, v->log, TB_KEY_LEN))
		return 0; /* not an entry of this log's chain: reported at re-append */
	switch (e.kind) {
	case TB_KIND_XPREPARE:
		return check_prepare(v, &e);
	case TB_KIND_XDECIDE:
		return check_decide(v, &e);
	case TB_KIND_XFINAL:
		return check_final(v, &e);
	default:
		return 0;
	}
}

/* 1 once the step has read its share: the scan resumes at v->seq. */
static int scan_entry(void *ctx, struct tb_view k, struct tb_view val)
{
	struct tb_xverify *v = ctx;
	if (k.len != TB_ENTRY_KEY_LEN)
		return TB_ECORRUPT;
	int err = check_entry(v, val);
	if (err)
		return err;
	v->seq = tb_be64_get(k.p + TB_LOG_PREFIX_LEN) + 1;
	return ++v->scanned >= v->chunk;
}

/* The entries of the log being scanned from v->seq: 1 if the step has read
 * its share, 0 at the log's end. */
static int scan_log(struct tb_xverify *v)
{
	uint8_t prefix[TB_LOG_PREFIX_LEN], from[TB_ENTRY_KEY_LEN];
	tb_log_prefix(prefix, v->lognum);
	tb_entry_key(from, v->lognum, v->seq);
	int err = tb_txn_foreach(v->t, TB_T_ENTRIES, prefix, sizeof prefix, from, sizeof from,
				 scan_entry, v);
	return err == 1 && !v->seq ? 0 : err;
}

static int list_log(void *ctx, struct tb_view k, struct tb_view val)
{
	struct log_list *ll = ctx;
	struct tb_logstate l;
	if (k.len != TB_KEY_LEN || tb_logstate_unpack(&l, val))
		return TB_ECORRUPT;
	if (ll->n == ll->cap) {
		size_t cap = ll->cap ? ll->cap * 2 : 16;
		void *a = realloc(ll->id, cap * sizeof *ll->id);
		if (!a)
			return TB_ENOMEM;
		ll->id = a;
		void *b = realloc(ll->st, cap * sizeof *ll->st);
		if (!b)
			return TB_ENOMEM;
		ll->st = b;
		ll->cap = cap;
	}
	memcpy(ll->id[ll->n], k.p, TB_KEY_LEN);
	ll->st[ll->n++] = l;
	return 0;
}

/* Members and clearing accounts of a community sum to zero. */
struct sum_ctx {
	int64_t total;
};

static int sum_member(void *ctx, struct tb_view k, struct tb_view val)
{
	struct sum_ctx *s = ctx;
	struct tb_member m;
	if (k.len != TB_MEMBER_KEY_LEN || tb_member_unpack(&m, tb_be32_get(k.p + 4), val))
		return TB_ECORRUPT;
	s->total += m.balance;
	return 0;
}

static int sum_clearing(void *ctx, const struct tb_clearing *c)
{
	((struct sum_ctx *)ctx)->total += c->balance;
	return 0;
}

static int check_sum(struct tb_xverify *v, const uint8_t *log, const struct tb_logstate *l)
{
	struct tb_community c;
	int err = tb_community_get(v->t, l->lognum, &c);
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	struct sum_ctx s = {0};
	uint8_t prefix[TB_LOG_PREFIX_LEN];
	tb_log_prefix(prefix, l->lognum);
	err = tb_txn_foreach(v->t, TB_T_MEMBERS, prefix, sizeof prefix, NULL, 0, sum_member, &s);
	if (err >= 0)
		err = tb_clearing_foreach(v->t, l->lognum, sum_clearing, &s);
	if (err < 0)
		return err;
	if (s.total)
		violation(
			v, TB_ECORRUPT, log, l->seq,
			"the accounts of the community (members and clearing) sum to %lld minutes, not 0",
			(long long)s.total);
	return 0;
}

/* Registers a pair for every clearing account whose other log is held. */
static int pair_clearing(void *ctx, const struct tb_clearing *c)
{
	struct tb_xverify *v = ctx;
	struct tb_logstate l;
	if (log_held(v->t, c->other, &l) && !pair_of(v, v->log, c->other))
		return TB_ENOMEM;
	return 0;
}

static int balance_toward(struct tb_txn *t, const uint8_t *log, const uint8_t *other, int64_t *out)
{
	struct tb_logstate l;
	struct tb_clearing c;
	*out = 0;
	int err = tb_logstate_get(t, log, &l);
	if (!err)
		err = tb_clearing_get(t, l.lognum, other, &c);
	if (err == TB_ENOTFOUND)
		return 0;
	if (!err)
		*out = c.balance;
	return err;
}

static int check_mirror(struct tb_xverify *v, const struct pair *p)
{
	struct tb_logstate la, lb;
	struct tb_community ca, cb;
	if (!log_held(v->t, p->a, &la) || !log_held(v->t, p->b, &lb) ||
	    tb_community_get(v->t, la.lognum, &ca) || tb_community_get(v->t, lb.lognum, &cb))
		return 0;
	int64_t ab, ba;
	int err = balance_toward(v->t, p->a, p->b, &ab);
	if (!err)
		err = balance_toward(v->t, p->b, p->a, &ba);
	if (err)
		return err;
	if (ab + ba != p->expected) {
		char other[17], h1[32], h2[32];
		short_id(other, p->b);
		tb_fmt_hours(h1, sizeof h1, ab);
		tb_fmt_hours(h2, sizeof h2, ba);
		violation(
			v, TB_EMIRROR, p->a, la.seq,
			"the clearing balances with community %s (%s and %s hours) do not mirror: "
			"they sum to %lld minutes, the %llu exchanges in flight to %lld",
			other, h1, h2, (long long)(ab + ba), (unsigned long long)p->in_flight,
			(long long)p->expected);
	}
	return 0;
}

/* Notes the log's succession, if its entry 2 is a valid one. */
static int add_succession(struct tb_xverify *v, const uint8_t *id, const struct tb_logstate *l)
{
	struct tb_successor s;
	if (l->seq < 2)
		return 0;
	int err = tb_succession_of(v->t, id, true, &s);
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	void *p = realloc(v->succ, (v->nsucc + 1) * sizeof *v->succ);
	if (!p)
		return TB_ENOMEM;
	v->succ = p;
	v->succ[v->nsucc++] = s;
	return 0;
}

/* The logs from v->at on: their entries, then the clearing accounts
 * whose other log is held and the community's sum. 1 if the step has read
 * its share, 0 after the last log. */
static int step_logs(struct tb_xverify *v)
{
	for (; v->at < v->ll.n; v->at++, v->seq = 1) {
		const struct tb_logstate *l = &v->ll.st[v->at];
		if (!l->seq)
			continue;
		v->log = v->ll.id[v->at];
		v->lognum = l->lognum;
		int err = scan_log(v);
		if (err)
			return err;
		if ((err = tb_clearing_foreach(v->t, v->lognum, pair_clearing, v)) < 0 ||
		    (err = check_sum(v, v->log, l)) < 0)
			return err;
	}
	return 0;
}

/* Mirrors pair by pair in ascending (a, b), as FORMAT.md 11.3 says. */
static int check_mirrors(struct tb_xverify *v)
{
	int err = 0;
	free(v->pairidx.slot); /* its positions are the unsorted ones */
	v->pairidx = (struct index){0};
	if (v->npairs)
		qsort(v->pairs, v->npairs, sizeof *v->pairs, cmp_pair);
	for (size_t i = 0; err >= 0 && i < v->npairs; i++)
		err = check_mirror(v, &v->pairs[i]);
	return err < 0 ? err : 0;
}

/* The logs and their successions. */
static int start(struct tb_xverify *v)
{
	int err = tb_txn_foreach(v->t, TB_T_LOGS, NULL, 0, NULL, 0, list_log, &v->ll);
	for (size_t i = 0; err >= 0 && i < v->ll.n; i++)
		err = add_succession(v, v->ll.id[i], &v->ll.st[i]);
	if (err >= 0 && v->nsucc)
		err = index_reserve(&v->succidx, v->nsucc, succ_rehash, v);
	v->at = 0;
	v->seq = 1;
	return err < 0 ? err : 0;
}

int tb_store_xverify_new(struct tb_xverify **out, tb_violation_fn fn, void *ctx)
{
	struct tb_xverify *v = calloc(1, sizeof *v);
	*out = v;
	if (!v)
		return TB_ENOMEM;
	v->sink = (struct tb_audit_sink){fn, ctx};
	v->chunk = TB_XVERIFY_CHUNK;
	return 0;
}

void tb_xverify_set_chunk(struct tb_xverify *v, size_t chunk)
{
	v->chunk = chunk ? chunk : 1;
}

int tb_store_xverify_step(struct tb_store *s, struct tb_xverify *v, struct tb_xverify_counts *out)
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	v->t = &t;
	v->scanned = 0;
	int err = t.ret;
	if (!err && v->phase == XV_START && !(err = start(v)))
		v->phase = XV_LOGS;
	if (!err && v->phase == XV_LOGS && !(err = step_logs(v)))
		v->phase = XV_MIRRORS;
	if (!err && v->phase == XV_MIRRORS && !(err = check_mirrors(v)))
		v->phase = XV_DONE;
	tb_txn_abort(&t);
	v->t = NULL;
	*out = v->counts;
	return err;
}

void tb_store_xverify_free(struct tb_xverify *v)
{
	if (!v)
		return;
	free(v->pairs);
	free(v->pairidx.slot);
	free(v->succ);
	free(v->succidx.slot);
	free(v->ll.id);
	free(v->ll.st);
	free(v);
}

int tb_store_xverify(struct tb_store *s, tb_violation_fn fn, void *ctx,
		     struct tb_xverify_counts *out)
{
	memset(out, 0, sizeof *out);
	struct tb_xverify *v;
	int err = tb_store_xverify_new(&v, fn, ctx);
	while (!err && (err = tb_store_xverify_step(s, v, out)) == 1)
		err = 0;
	tb_store_xverify_free(v);
	return err;
}
