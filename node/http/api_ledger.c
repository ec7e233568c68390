/*
 * api_ledger.c: the API's reads of exchanges: the community's exchanges and
 * reversals (newest first, filtered by member, category and period, paged
 * back by seq), one exchange by txid, the pending proposals, and a member's
 * statement with opening and closing balances. Objects come from the
 * shared vocabulary (node/json/ledger.c). Nothing here writes.
 */
#include "http_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static int date_query(struct tb_http_req *req, const char *name, uint64_t *out)
{
	char v[16];
	unsigned y, m, d;
	char tail;
	int qe = tb_http_query_opt(req, NULL, name, v, sizeof v);
	if (qe <= 0)
		return qe ? TB_EDATE : 0;
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
	int qe = tb_http_query_opt(req, NULL, name, v, sizeof v);
	if (qe <= 0)
		return qe;
	unsigned long long n = strtoull(v, &end, 10);
	if (!v[0] || *end || n > max || v[0] == '-')
		return TB_EINVAL;
	*out = n;
	return 0;
}

static void exchanges(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_vocab_filter f = {.limit = TB_VOCAB_LIST_DEFAULT};
	char name[TB_NAME_MAX + 1], category[TB_CATEGORY_MAX + 1];
	int qe = tb_http_query_opt(req, resp, "member", name, sizeof name);
	if (qe < 0)
		return;
	if (qe) {
		struct tb_member m;
		if (tb_store_member_find(h->host.store, h->host.self, name, &m)) {
			tb_http_error(resp, 404, "EMEMBER", "no member named '%s'", name);
			return;
		}
		f.member = m.no;
	}
	if ((qe = tb_http_query_opt(req, resp, "category", category, sizeof category)) < 0)
		return;
	if (qe && tb_vocab_filter_category(&f, category)) {
		tb_http_error(resp, 400, "EINVAL", "'category' is not valid UTF-8");
		return;
	}
	if (date_query(req, "from", &f.from) || date_query(req, "to", &f.to)) {
		tb_http_error(resp, 400, "EDATE", "'from' and 'to' are dates (YYYY-MM-DD)");
		return;
	}
	if (u64_query(req, "limit", TB_VOCAB_LIST_MAX, &f.limit) || !f.limit ||
	    u64_query(req, "before", UINT64_MAX, &f.before)) {
		tb_http_error(resp, 400, "EINVAL", "'limit' is 1 to %d and 'before' a seq",
			      TB_VOCAB_LIST_MAX);
		return;
	}
	int err;
	struct tb_json *o = tb_vocab_exchanges(h->host.store, h->host.self, &f, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
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

static void statement(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (tb_store_member_find(h->host.store, h->host.self, req->params[0], &m)) {
		tb_http_error(resp, 404, "EMEMBER", "no member named '%s'", req->params[0]);
		return;
	}
	uint64_t from = 0, to = 0;
	if (date_query(req, "from", &from) || date_query(req, "to", &to)) {
		tb_http_error(resp, 400, "EDATE", "'from' and 'to' are dates (YYYY-MM-DD)");
		return;
	}
	int err;
	struct tb_json *o = tb_vocab_statement(h->host.store, h->host.self, &m, from, to, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
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
