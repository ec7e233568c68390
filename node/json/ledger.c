/*
 * ledger.c: vocabulary objects read from the store: an exchange or reversal
 * of the own log (with member names, memo text, who attested it, what
 * reversed it), a pending proposal, a line of a member's statement, and
 * the balances of the community.
 * The CLI's --json and the API build these with the same functions.
 */
#include "tb_json.h"
#include "tb_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct tb_json *name_of(struct tb_store *s, const uint8_t self[TB_KEY_LEN], uint64_t no)
{
	struct tb_member m;
	if (tb_store_member(s, self, (uint32_t)no, &m))
		return tb_json_null();
	return tb_json_string(m.name);
}

static struct tb_json *memo_of(struct tb_store *s, const uint8_t txid[TB_TXID_LEN])
{
	char memo[TB_MEMO_MAX + 1];
	if (tb_store_memo_get(s, txid, memo, sizeof memo))
		return tb_json_null();
	return tb_json_string(memo);
}

static struct tb_json *attested_by(struct tb_store *s, const uint8_t txid[TB_TXID_LEN])
{
	char name[TB_NAME_MAX + 1];
	if (tb_store_attested_get(s, txid, name, sizeof name))
		return tb_json_null();
	return tb_json_string(name);
}

/* Sets every (key, value) pair; the object is freed on failure. */
static struct tb_json *set_all(struct tb_json *o, const char *const *k, struct tb_json **v,
			       size_t n)
{
	int err = o ? 0 : TB_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (err)
			tb_json_free(v[i]);
		else
			err = tb_json_set(o, k[i], v[i]);
	}
	if (err) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}

static const char *const exchange_keys[] = {
	"txid",	   "seq",      "kind", "date",	   "recorded",	  "provider",	 "receiver",
	"minutes", "category", "memo", "attested", "attested_by", "reversed_by", "reverses",
};

/* The exchange a reversal undoes, decoded into e (views into rec). */
static int original_of(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
		       const uint8_t txid[TB_TXID_LEN], uint8_t *rec, struct tb_entry *e)
{
	uint64_t seq, rev;
	size_t len;
	int err = tb_store_tx(s, self, txid, &seq, &rev);
	if (!err)
		err = tb_store_get_entry(s, self, seq, rec, TB_ENTRY_MAX, &len);
	if (!err)
		err = tb_entry_decode(e, rec, len);
	if (!err && e->kind != TB_KIND_EXCHANGE)
		err = TB_ECORRUPT;
	return err;
}

int tb_vocab_exchange_of(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
			 const struct tb_entry *e, uint8_t rec[TB_ENTRY_MAX], struct tb_entry *orig,
			 const struct tb_exchange **x)
{
	if (e->kind == TB_KIND_EXCHANGE) {
		*x = &e->body.exchange;
		return 0;
	}
	if (e->kind != TB_KIND_REVERSAL)
		return TB_EKIND;
	int err = original_of(s, self, e->body.reversal.original, rec, orig);
	if (!err)
		*x = &orig->body.exchange;
	return err;
}

struct tb_json *tb_vocab_exchange(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				  const struct tb_entry *e)
{
	const struct tb_exchange *x;
	uint8_t rec[TB_ENTRY_MAX];
	struct tb_entry orig;
	const uint8_t *txid;
	bool reversal = e->kind == TB_KIND_REVERSAL;
	if (reversal) {
		txid = e->body.reversal.txid;
		if (original_of(s, self, e->body.reversal.original, rec, &orig))
			return NULL;
		x = &orig.body.exchange;
	} else if (e->kind == TB_KIND_EXCHANGE) {
		x = &e->body.exchange;
		txid = x->txid;
	} else {
		return NULL;
	}
	uint64_t seq = 0, rev = 0;
	(void)!tb_store_tx(s, self, txid, &seq, &rev);
	struct tb_json *v[] = {
		tb_json_bytes(txid, TB_TXID_LEN),
		tb_json_int((int64_t)e->seq),
		tb_json_string(reversal ? "reversal" : "exchange"),
		reversal ? tb_json_null() : tb_json_date(x->date),
		tb_json_time(e->timestamp),
		name_of(s, self, x->provider),
		name_of(s, self, x->receiver),
		tb_json_int((int64_t)x->minutes),
		tb_json_stringn((const char *)x->category.p, x->category.len),
		memo_of(s, x->txid),
		tb_json_bool(reversal ? e->body.reversal.attested : x->attested),
		attested_by(s, txid),
		rev ? tb_json_int((int64_t)rev) : tb_json_null(),
		reversal ? tb_json_bytes(e->body.reversal.original, TB_TXID_LEN) : tb_json_null(),
	};
	return set_all(tb_json_object(), exchange_keys, v, sizeof v / sizeof v[0]);
}

static const char *const proposal_keys[] = {"txid",	"provider", "receiver", "minutes",
					    "category", "memo",	    "date",	"created"};

struct tb_json *tb_vocab_proposal(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				  const struct tb_proposal *p)
{
	struct tb_json *v[] = {
		tb_json_bytes(p->txid, TB_TXID_LEN),
		name_of(s, self, p->provider),
		name_of(s, self, p->receiver),
		tb_json_int((int64_t)p->minutes),
		tb_json_stringn((const char *)p->category.p, p->category.len),
		memo_of(s, p->txid),
		tb_json_date(p->date),
		tb_json_time(p->created),
	};
	return set_all(tb_json_object(), proposal_keys, v, sizeof v / sizeof v[0]);
}

static const char *const line_keys[] = {
	"seq",	    "txid", "kind",    "date", "counterparty", "delta_minutes", "balance_minutes",
	"category", "memo", "attested"};

/* What a statement line is about: the exchange (a reversal's original), a
 * leg of an exchange with another community, or an opening balance. */
struct about {
	const char *kind;
	const uint8_t *txid;
	const uint8_t *memo_txid; /* a reversal's memo is its original's */
	uint64_t date;
	struct tb_json *counterparty;
	struct tb_view category;
	bool attested;
	bool has_terms; /* date, category and memo are known */
	uint8_t rec[TB_ENTRY_MAX];
};

/* name@community of a member of another community. */
static struct tb_json *remote(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
			      struct tb_view name, const uint8_t log[TB_KEY_LEN])
{
	char c[TB_NAME_MAX + 1], who[2 * TB_NAME_MAX + 2];
	struct tb_ops o = {s, self, NULL, NULL};
	tb_op_community_name(&o, log, c, sizeof c);
	snprintf(who, sizeof who, "%.*s@%s", (int)name.len, (const char *)name.p, c);
	return tb_json_string(who);
}

/* A cross leg that moved minutes: the decision (the local member provided)
 * or the final leg (the local member paid; its terms are the prepare's). */
static void about_cross(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
			const struct tb_entry *e, struct about *a)
{
	a->kind = "cross";
	if (e->kind == TB_KIND_XDECIDE) {
		const struct tb_xdecide *d = &e->body.xdecide;
		a->txid = d->txid;
		a->date = d->date;
		a->category = d->category;
		a->counterparty = remote(s, self, d->from_name, d->from_log);
		a->has_terms = true;
		return;
	}
	struct tb_xleg leg;
	struct tb_entry p;
	size_t len;
	a->txid = e->body.xfinal.txid;
	if (tb_store_xleg(s, self, e->body.xfinal.txid, &leg) || !leg.prepare_seq ||
	    tb_store_get_entry(s, self, leg.prepare_seq, a->rec, sizeof a->rec, &len) ||
	    tb_entry_decode(&p, a->rec, len) || p.kind != TB_KIND_XPREPARE)
		return;
	const struct tb_xprepare *x = &p.body.xprepare;
	a->date = x->date;
	a->category = x->category;
	a->attested = x->attested != 0;
	a->counterparty = remote(s, self, x->to_name, x->to_log);
	a->has_terms = true;
}

static void about_of(struct tb_store *s, const uint8_t self[TB_KEY_LEN], uint32_t member,
		     const struct tb_entry *e, struct about *a)
{
	struct tb_entry orig;
	const struct tb_exchange *x = NULL;
	a->kind = e->kind == TB_KIND_REVERSAL ? "reversal" : "exchange";
	if (e->kind == TB_KIND_EXCHANGE) {
		x = &e->body.exchange;
		a->txid = x->txid;
	} else if (e->kind == TB_KIND_REVERSAL) {
		a->txid = e->body.reversal.txid;
		if (!original_of(s, self, e->body.reversal.original, a->rec, &orig))
			x = &orig.body.exchange;
	} else if (e->kind == TB_KIND_XDECIDE || e->kind == TB_KIND_XFINAL) {
		about_cross(s, self, e, a);
	} else if (e->kind == TB_KIND_OPENING) {
		/* Minutes from (or to) the community account. */
		a->kind = "opening";
		a->txid = e->body.opening.txid;
		a->date = e->body.opening.date;
		a->counterparty = name_of(s, self, TB_COMMUNITY_ACCOUNT);
		a->attested = true;
	} else {
		a->kind = "other";
	}
	if (x) {
		a->date = x->date;
		a->counterparty =
			name_of(s, self, x->provider == member ? x->receiver : x->provider);
		a->category = x->category;
		a->attested = x->attested != 0;
		a->has_terms = true;
		a->memo_txid = x->txid;
	}
}

struct tb_json *tb_vocab_statement_line(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
					uint32_t member, const struct tb_history_item *h)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	struct tb_entry e;
	if (tb_store_get_entry(s, self, h->seq, rec, sizeof rec, &len) ||
	    tb_entry_decode(&e, rec, len))
		return NULL;
	struct about *a = calloc(1, sizeof *a);
	if (!a)
		return NULL;
	about_of(s, self, member, &e, a);
	struct tb_json *v[] = {
		tb_json_int((int64_t)h->seq),
		a->txid ? tb_json_bytes(a->txid, TB_TXID_LEN) : tb_json_null(),
		tb_json_string(a->kind),
		a->date ? tb_json_date(a->date) : tb_json_null(),
		a->counterparty ? a->counterparty : tb_json_null(),
		tb_json_int(h->delta),
		tb_json_int(h->balance),
		a->has_terms ? tb_json_stringn((const char *)a->category.p, a->category.len)
			     : tb_json_null(),
		a->has_terms ? memo_of(s, a->memo_txid ? a->memo_txid : a->txid) : tb_json_null(),
		tb_json_bool(a->attested),
	};
	free(a);
	return set_all(tb_json_object(), line_keys, v, sizeof v / sizeof v[0]);
}

uint64_t tb_vocab_entry_day(struct tb_store *s, const uint8_t self[TB_KEY_LEN], uint64_t seq)
{
	uint8_t rec[TB_ENTRY_MAX], obuf[TB_ENTRY_MAX];
	size_t len;
	struct tb_entry e, orig;
	const struct tb_exchange *x;
	if (tb_store_get_entry(s, self, seq, rec, sizeof rec, &len) ||
	    tb_entry_decode(&e, rec, len))
		return 0;
	if (e.kind == TB_KIND_EXCHANGE && !tb_vocab_exchange_of(s, self, &e, obuf, &orig, &x))
		return x->date;
	time_t t = (time_t)e.timestamp;
	struct tm tm;
	gmtime_r(&t, &tm);
	return (uint64_t)(tm.tm_year + 1900) * 10000 + (uint64_t)(tm.tm_mon + 1) * 100 +
	       (uint64_t)tm.tm_mday;
}

struct stmt {
	struct tb_store *s;
	const uint8_t *self;
	uint32_t member;
	uint64_t from, to;
	int64_t opening, closing;
	struct tb_json *lines;
	int err;
};

static int stmt_one(void *vctx, const struct tb_history_item *hi)
{
	struct stmt *st = vctx;
	uint64_t day = st->from || st->to ? tb_vocab_entry_day(st->s, st->self, hi->seq) : 0;
	if (st->from && day < st->from) {
		st->opening = st->closing = hi->balance;
		return 0;
	}
	if (st->to && day > st->to)
		return 0;
	st->closing = hi->balance;
	struct tb_json *line = tb_vocab_statement_line(st->s, st->self, st->member, hi);
	if ((st->err = tb_json_push(st->lines, line)))
		return 1;
	return 0;
}

struct tb_json *tb_vocab_statement(struct tb_store *s, const uint8_t self[TB_KEY_LEN],
				   const struct tb_member *m, uint64_t from, uint64_t to, int *err)
{
	struct stmt st = {s, self, m->no, from, to, 0, 0, tb_json_array(), 0};
	int e = st.lines ? tb_store_foreach_history(s, self, m->no, stmt_one, &st) : TB_ENOMEM;
	if (e > 0)
		e = 0;
	if (e || (e = st.err)) {
		tb_json_free(st.lines);
		*err = e;
		return NULL;
	}
	struct tb_json *o = tb_json_object();
	/* Each set takes its value, also when it fails. */
	e = tb_json_set(o, "member", tb_vocab_member(m));
	e |= tb_json_set(o, "opening_balance_minutes", tb_json_int(st.opening));
	e |= tb_json_set(o, "closing_balance_minutes", tb_json_int(st.closing));
	e |= tb_json_set(o, "lines", st.lines);
	if (e) {
		tb_json_free(o);
		*err = TB_ENOMEM;
		return NULL;
	}
	*err = 0;
	return o;
}

struct bal_ctx {
	struct tb_store *s;
	const uint8_t *self;
	struct tb_json *arr;
	int64_t sum;
	int err;
	bool account_listed;
};

static int bal_member(void *vctx, const struct tb_member *m)
{
	struct bal_ctx *b = vctx;
	if (m->no == TB_COMMUNITY_ACCOUNT && b->account_listed)
		return 0;
	b->sum += m->balance;
	/* Members who left are listed while they hold a balance. */
	if (!m->active && !m->balance && !m->held)
		return 0;
	if ((b->err = tb_json_push(b->arr, tb_vocab_member(m))))
		return 1;
	return 0;
}

static int bal_clearing(void *vctx, const struct tb_clearing *c)
{
	struct bal_ctx *b = vctx;
	struct tb_ops o = {b->s, b->self, NULL, NULL};
	char name[TB_NAME_MAX + 1];
	tb_op_community_name(&o, c->other, name, sizeof name);
	b->sum += c->balance;
	if ((b->err = tb_json_push(b->arr, tb_vocab_clearing(c, name))))
		return 1;
	return 0;
}

struct tb_json *tb_vocab_balances(struct tb_store *s, const uint8_t self[TB_KEY_LEN], int *err)
{
	struct bal_ctx m = {s, self, tb_json_array(), 0, 0, false};
	struct bal_ctx c = {s, self, tb_json_array(), 0, 0, false};
	/* The community account comes first, also before it ever moved (the
	 * store lists it once it holds a record of it). */
	struct tb_member acct;
	int e = tb_store_member(s, self, TB_COMMUNITY_ACCOUNT, &acct);
	if (!e && (e = tb_json_push(m.arr, tb_vocab_member(&acct))) == 0) {
		m.sum += acct.balance;
		m.account_listed = true;
	}
	if (!e)
		e = tb_store_foreach_member(s, self, bal_member, &m);
	if (!e && !m.err)
		e = tb_store_foreach_clearing(s, self, bal_clearing, &c);
	if (e == TB_ENOTFOUND || e > 0)
		e = 0;
	e = e ? e : m.err ? m.err : c.err;
	if (!e && (!m.arr || !c.arr))
		e = TB_ENOMEM;
	struct tb_json *o = e ? NULL : tb_json_object();
	if (!e && !o)
		e = TB_ENOMEM;
	if (e) {
		tb_json_free(m.arr);
		tb_json_free(c.arr);
		*err = e;
		return NULL;
	}
	tb_json_set(o, "members", m.arr);
	tb_json_set(o, "clearing", c.arr);
	/* Members and clearing accounts together sum to zero. */
	tb_json_set(o, "sum_minutes", tb_json_int(m.sum + c.sum));
	*err = 0;
	return o;
}
