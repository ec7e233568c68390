/*
 * api_ledger.c: the API's reads of exchanges: the community's exchanges and
 * reversals (newest first, filtered by member, category and period, paged
 * back by seq), one exchange by txid, the pending proposals, and a member's
 * statement with opening and closing balances. Objects come from the
 * shared vocabulary (node/json/ledger.c). Nothing here writes.
 */
#include "http_int.h"
#include "tb_text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TB_LIST_DEFAULT 100
#define TB_LIST_MAX 1000

static int date_query(struct tb_http_req *req, const char *name, uint64_t *out)
{
	char v[16];
	unsigned y, m, d;
	char tail;
	if (tb_http_query(req, name, v, sizeof v))
		return 0;
	if (strlen(v) == 10 && sscanf(v, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 && m >= 1 &&
	    m <= 12 && d >= 1 && d <= 31) {
		*out = (uint64_t)y * 10000 + m * 100 + d;
		return 0;
	}
	return TB_EDATE;
}

static int u64_query(struct tb_http_req *req, const char *name, uint64_t max, uint64_t *out)
{
	char v[24], *end;
	if (tb_http_query(req, name, v, sizeof v))
		return 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!v[0] || *end || n > max || v[0] == '-')
		return TB_EINVAL;
	*out = n;
	return 0;
}

struct list {
	struct tb_http *h;
	uint32_t member; /* 0: any */
	char category[TB_CATEGORY_MAX + 1];
	char folded[TB_TEXT_KEY_MAX]; /* the category filter, case-folded NFC */
	bool by_category;
	uint64_t from, to, before, limit;
	struct tb_json **ring; /* the newest `limit` matches, oldest overwritten */
	uint64_t *seqs;	       /* their seqs */
	size_t n, next;
	int err;
};

/* Filters on the exchange itself (a reversal: on the one it undoes). */
static bool wanted(struct list *l, const struct tb_entry *e, const struct tb_exchange *x)
{
	if (l->member && x->provider != l->member && x->receiver != l->member)
		return false;
	/* "Garden" is "garden" (FORMAT.md 8.1). */
	char f[TB_TEXT_KEY_MAX];
	if (l->by_category &&
	    (tb_text_fold(f, sizeof f, NULL, (const char *)x->category.p, x->category.len) ||
	     strcmp(f, l->folded)))
		return false;
	uint64_t day = e->kind == TB_KIND_EXCHANGE ? x->date : 0;
	if (!day) {
		/* A reversal counts on the day it was recorded. */
		time_t t = (time_t)e->timestamp;
		struct tm tm;
		gmtime_r(&t, &tm);
		day = (uint64_t)(tm.tm_year + 1900) * 10000 + (uint64_t)(tm.tm_mon + 1) * 100 +
		      (uint64_t)tm.tm_mday;
	}
	return (!l->from || day >= l->from) && (!l->to || day <= l->to);
}

static int list_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	struct list *l = vctx;
	struct tb_entry e, orig;
	const struct tb_exchange *x;
	uint8_t obuf[TB_ENTRY_MAX];
	if (l->before && seq >= l->before)
		return 1;
	if (tb_entry_decode(&e, rec.p, rec.len) ||
	    tb_vocab_exchange_of(l->h->host.store, l->h->host.self, &e, obuf, &orig, &x) ||
	    !wanted(l, &e, x))
		return 0;
	struct tb_json *o = tb_vocab_exchange(l->h->host.store, l->h->host.self, &e);
	if (!o) {
		l->err = TB_ENOMEM;
		return 1;
	}
	tb_json_free(l->ring[l->next]);
	l->ring[l->next] = o;
	l->seqs[l->next] = seq;
	l->next = (l->next + 1) % l->limit;
	if (l->n < l->limit)
		l->n++;
	return 0;
}

static void exchanges(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct list l = {.h = h, .limit = TB_LIST_DEFAULT};
	char name[TB_NAME_MAX + 1];
	if (!tb_http_query(req, "member", name, sizeof name)) {
		struct tb_member m;
		if (tb_store_member_find(h->host.store, h->host.self, name, &m)) {
			tb_http_error(resp, 404, "EMEMBER", "no member named '%s'", name);
			return;
		}
		l.member = m.no;
	}
	l.by_category = !tb_http_query(req, "category", l.category, sizeof l.category);
	if (l.by_category &&
	    tb_text_fold(l.folded, sizeof l.folded, NULL, l.category, strlen(l.category))) {
		tb_http_error(resp, 400, "EINVAL", "'category' is not valid UTF-8");
		return;
	}
	if (date_query(req, "from", &l.from) || date_query(req, "to", &l.to)) {
		tb_http_error(resp, 400, "EDATE", "'from' and 'to' are dates (YYYY-MM-DD)");
		return;
	}
	if (u64_query(req, "limit", TB_LIST_MAX, &l.limit) || !l.limit ||
	    u64_query(req, "before", UINT64_MAX, &l.before)) {
		tb_http_error(resp, 400, "EINVAL", "'limit' is 1 to %d and 'before' a seq",
			      TB_LIST_MAX);
		return;
	}
	l.ring = calloc(l.limit, sizeof *l.ring);
	l.seqs = calloc(l.limit, sizeof *l.seqs);
	int err = l.ring && l.seqs
			  ? tb_store_foreach_entry(h->host.store, h->host.self, 1, list_one, &l)
			  : TB_ENOMEM;
	if (err == 1)
		err = 0;
	struct tb_json *arr = tb_json_array();
	uint64_t first_seq = 0;
	/* Newest first: walk the ring backwards from the last one kept. */
	for (size_t i = 0; i < l.n; i++) {
		size_t k = (l.next + l.limit - 1 - i) % l.limit;
		first_seq = l.seqs[k];
		if (!err)
			err = tb_json_push(arr, l.ring[k]);
		else
			tb_json_free(l.ring[k]);
		l.ring[k] = NULL;
	}
	free(l.ring);
	free(l.seqs);
	if (err || l.err) {
		tb_json_free(arr);
		tb_http_fail(resp, err ? err : l.err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "exchanges", arr);
	tb_json_set(o, "next_before",
		    l.n == l.limit && first_seq > 1 ? tb_json_int((int64_t)first_seq)
						    : tb_json_null());
	tb_http_json(resp, 200, o);
}

static void exchange_one(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN], rec[TB_ENTRY_MAX];
	uint64_t seq, rev;
	size_t len;
	struct tb_entry e;
	if (strlen(req->params[0]) != 2 * TB_TXID_LEN ||
	    tb_hex_decode(txid, TB_TXID_LEN, req->params[0]) ||
	    tb_store_tx(h->host.store, h->host.self, txid, &seq, &rev)) {
		tb_http_error(resp, 404, "ENOTX", "no exchange %.40s in this ledger",
			      req->params[0]);
		return;
	}
	int err = tb_store_get_entry(h->host.store, h->host.self, seq, rec, sizeof rec, &len);
	if (!err)
		err = tb_entry_decode(&e, rec, len);
	struct tb_json *o = err ? NULL : tb_vocab_exchange(h->host.store, h->host.self, &e);
	if (!o) {
		tb_http_fail(resp, err ? err : TB_ECORRUPT, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

static void pending(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	(void)req;
	int err;
	struct tb_json *o = tb_vocab_pending(h->host.store, h->host.self, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

struct stmt {
	struct tb_http *h;
	uint32_t member;
	uint64_t from, to;
	int64_t opening, closing;
	bool opened;
	struct tb_json *lines;
	int err;
};

static int stmt_one(void *vctx, const struct tb_history_item *hi)
{
	struct stmt *st = vctx;
	uint64_t day = st->from || st->to
			       ? tb_vocab_entry_day(st->h->host.store, st->h->host.self, hi->seq)
			       : 0;
	if (st->from && day < st->from) {
		st->opening = st->closing = hi->balance;
		return 0;
	}
	if (st->to && day > st->to)
		return 0;
	st->closing = hi->balance;
	struct tb_json *line =
		tb_vocab_statement_line(st->h->host.store, st->h->host.self, st->member, hi);
	if ((st->err = tb_json_push(st->lines, line)))
		return 1;
	return 0;
}

static void statement(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (tb_store_member_find(h->host.store, h->host.self, req->params[0], &m)) {
		tb_http_error(resp, 404, "EMEMBER", "no member named '%s'", req->params[0]);
		return;
	}
	struct stmt st = {.h = h, .member = m.no, .lines = tb_json_array()};
	if (date_query(req, "from", &st.from) || date_query(req, "to", &st.to)) {
		tb_json_free(st.lines);
		tb_http_error(resp, 400, "EDATE", "'from' and 'to' are dates (YYYY-MM-DD)");
		return;
	}
	int err = tb_store_foreach_history(h->host.store, h->host.self, m.no, stmt_one, &st);
	if (err || st.err) {
		tb_json_free(st.lines);
		tb_http_fail(resp, st.err ? st.err : err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "member", tb_vocab_member(&m));
	tb_json_set(o, "opening_balance_minutes", tb_json_int(st.opening));
	tb_json_set(o, "closing_balance_minutes", tb_json_int(st.closing));
	tb_json_set(o, "lines", st.lines);
	tb_http_json(resp, 200, o);
}

int tb_api_ledger_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"GET", "/api/v1/exchanges", 0, TB_ROLE_VIEWER, exchanges, h},
		{"GET", "/api/v1/exchanges/pending", 0, TB_ROLE_VIEWER, pending, h},
		{"GET", "/api/v1/exchanges/*", 0, TB_ROLE_VIEWER, exchange_one, h},
		{"GET", "/api/v1/members/*/statement", 0, TB_ROLE_VIEWER, statement, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
