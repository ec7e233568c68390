/*
 * api_member_xpay.c: a member's own payments to members of other
 * communities, signed in the member's browser like their proposals
 * (api_member_x.c: a draft with the exact xprepare terms, FORMAT.md 6.4,
 * then the signature over them), the state of one of their payments, and
 * the receipt of any entry of theirs (FORMAT.md 4.4). A member reads only
 * their own payments and receipts: another member's are not shown to exist.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_ops.h"

#include <stdlib.h>
#include <string.h>

static bool hex_arg(struct tb_http_resp *resp, const char *hex, uint8_t *out, size_t len,
		    const char *what)
{
	if (strlen(hex) == 2 * len && !tb_hex_decode(out, len, hex))
		return true;
	tb_http_error(resp, 400, "EINVAL", "'%s' must be %zu hex digits", what, 2 * len);
	return false;
}

/* The payment of a body, by the member #no (self holds "#N"). */
static bool send_of(struct tb_http_resp *resp, const struct tb_body_mpay *b, uint32_t no,
		    char self[16], struct tb_op_send *s)
{
	snprintf(self, 16, "#%u", no);
	*s = (struct tb_op_send){self, b->to, b->minutes,	b->memo, b->category,
				 0,    false, (uint64_t)b->ttl, NULL};
	if (!tb_body_date(b->date, &s->date))
		return true;
	tb_http_error(resp, 400, "EDATE", "'%s' is not a date (YYYY-MM-DD)", b->date);
	return false;
}

static struct tb_json *xprepare_fields(const struct tb_xprepare_terms *t)
{
	struct tb_json *f = tb_json_object();
	tb_json_set(f, "log_id", tb_json_bytes(t->log_id, TB_KEY_LEN));
	tb_json_set(f, "txid", tb_json_bytes(t->txid, TB_TXID_LEN));
	tb_json_set(f, "member", tb_json_int((int64_t)t->member));
	tb_json_set(f, "to_log", tb_json_bytes(t->to_log, TB_KEY_LEN));
	tb_json_set(f, "to_name", tb_json_stringn((const char *)t->to_name.p, t->to_name.len));
	tb_json_set(f, "minutes", tb_json_int((int64_t)t->minutes));
	tb_json_set(f, "category", tb_json_stringn((const char *)t->category.p, t->category.len));
	tb_json_set(f, "memo_hash", tb_json_bytes(t->memo_hash, TB_HASHLEN));
	tb_json_set(f, "date", tb_json_int((int64_t)t->date));
	tb_json_set(f, "expires", tb_json_int((int64_t)t->expires));
	return f;
}

static void pay_draft(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_mpay b;
	char msg[TB_JSON_MSG_MAX], self[16], to_name[TB_NAME_MAX + 1], cat[TB_CATEGORY_MAX + 1];
	struct tb_op_send s;
	if (tb_body_mpay(req->body, req->body_len, false, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!send_of(resp, &b, tb_http_member(req), self, &s))
		return;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_fix fix;
	struct tb_xprepare x;
	int err = tb_op_send_draft(&o, &s, &fix, &x, to_name, cat, &rej);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "%s", rej.msg);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	struct tb_xprepare_terms t;
	tb_xprepare_terms_of(&t, h->host.self, &x);
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	if ((err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_xprepare_terms, &t))) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "terms", tb_json_bytes(buf, len));
	tb_json_set(r, "fields", xprepare_fields(&t));
	tb_json_set(r, "memo_salt", tb_json_bytes(fix.salt, TB_MEMO_SALT_LEN));
	tb_json_set(r, "context", tb_json_string("tally/xprepare/v1"));
	/* The community the node resolved the payee's to (the page shows it). */
	char cname[TB_NAME_MAX + 1];
	struct tb_json *to = tb_json_object();
	tb_op_community_name(&o, x.to_log, cname, sizeof cname);
	tb_json_set(to, "id", tb_json_bytes(x.to_log, TB_KEY_LEN));
	tb_json_set(to, "name", tb_json_string(cname));
	tb_json_set(r, "to_community", to);
	tb_http_json(resp, 200, r);
}

static void pay(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_mpay b;
	char msg[TB_JSON_MSG_MAX], self[16];
	struct tb_op_send s;
	struct tb_op_fix fix = {0};
	uint8_t sig[TB_SIGLEN];
	if (tb_body_mpay(req->body, req->body_len, true, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!send_of(resp, &b, tb_http_member(req), self, &s) ||
	    !hex_arg(resp, b.txid, fix.txid, TB_TXID_LEN, "txid") ||
	    !hex_arg(resp, b.memo_salt, fix.salt, TB_MEMO_SALT_LEN, "memo_salt") ||
	    !hex_arg(resp, b.signature, sig, TB_SIGLEN, "signature"))
		return;
	if (!s.date) {
		tb_http_error(resp, 400, "EDATE", "'date' must be the draft's (YYYY-MM-DD)");
		return;
	}
	fix.expires = (uint64_t)b.expires;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_xview v;
	int err = tb_op_send_signed(&o, &s, &fix, sig, &v, &rej);
	if (err == TB_EBADSIG) {
		tb_http_error(resp, 400, "EBADSIG", "%s", rej.msg);
	} else if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "%s", rej.msg);
	} else if (err) {
		tb_http_fail(resp, err, &rej);
	} else {
		if (h->host.changed)
			h->host.changed(h->host.ctx);
		tb_http_json(resp, 202, tb_vocab_cross(&v));
	}
}

/* Whether the own log's entry of txid is the member's: an exchange (or the
 * reversal of one) they are party to, a payment they made, or one paid to
 * them. 0 if so, TB_ENOTX if not or when there is no such entry. */
static int entry_of_member(struct tb_http *h, const uint8_t txid[TB_TXID_LEN], uint32_t no)
{
	uint64_t seq, rev;
	uint8_t rec[TB_ENTRY_MAX], orig_rec[TB_ENTRY_MAX];
	size_t len;
	struct tb_entry e, orig;
	const struct tb_exchange *x;
	int err = tb_store_tx(h->host.store, h->host.self, txid, &seq, &rev);
	if (!err)
		err = tb_store_get_entry(h->host.store, h->host.self, seq, rec, sizeof rec, &len);
	if (!err)
		err = tb_entry_decode(&e, rec, len);
	if (err)
		return err == TB_ENOTFOUND ? TB_ENOTX : err;
	if (e.kind == TB_KIND_XPREPARE)
		return e.body.xprepare.member == no ? 0 : TB_ENOTX;
	if (e.kind == TB_KIND_XDECIDE)
		return e.body.xdecide.member == no && !e.body.xdecide.outcome ? 0 : TB_ENOTX;
	if (tb_vocab_exchange_of(h->host.store, h->host.self, &e, orig_rec, &orig, &x))
		return TB_ENOTX;
	return x->provider == no || x->receiver == no ? 0 : TB_ENOTX;
}

static void pay_get(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN];
	if (!tb_api_txid_param(req, resp, txid))
		return;
	int err = entry_of_member(h, txid, tb_http_member(req));
	struct tb_ops o = tb_api_ops(h);
	struct tb_op_xview v;
	struct tb_reject rej = {0};
	if (!err)
		err = tb_op_xview(&o, txid, &v, &rej);
	if (err == TB_ENOTX || err == TB_ENOTFOUND)
		tb_http_error(resp, 404, "ENOTX", "no payment %s of yours", req->params[0]);
	else if (err)
		tb_http_fail(resp, err, &rej);
	else
		tb_http_json(resp, 200, tb_vocab_cross(&v));
}

static void receipt(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN];
	if (!tb_api_txid_param(req, resp, txid))
		return;
	int err = entry_of_member(h, txid, tb_http_member(req));
	if (err == TB_ENOTX) {
		tb_http_error(resp, 404, "ENOTX", "no exchange %s of yours", req->params[0]);
		return;
	}
	uint8_t *r = err ? NULL : malloc(TB_RECEIPT_MAX);
	if (!r) {
		tb_http_fail(resp, err ? err : TB_ENOMEM, NULL);
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	size_t len;
	uint64_t seq;
	if ((err = tb_op_receipt(&o, txid, r, TB_RECEIPT_MAX, &len, &seq, &rej))) {
		tb_http_fail(resp, err, &rej);
	} else {
		free(resp->body);
		resp->body = (char *)r;
		resp->len = len;
		resp->status = 200;
		resp->type = "application/octet-stream";
		snprintf(resp->disposition, sizeof resp->disposition,
			 "attachment; filename=\"receipt-%.*s.bin\"", 2 * TB_TXID_LEN,
			 req->params[0]);
		return;
	}
	free(r);
}

int tb_api_member_xpay_routes(struct tb_http *h)
{
	const unsigned W = TB_ROUTE_WRITE | TB_ROUTE_MEMBER_ONLY, R = TB_ROUTE_MEMBER_ONLY;
	const struct tb_route r[] = {
		{"POST", "/api/v1/me/payments/draft", W, 0, pay_draft, h},
		{"POST", "/api/v1/me/payments", W, 0, pay, h},
		{"GET", "/api/v1/me/payments/*", R, 0, pay_get, h},
		{"GET", "/api/v1/me/receipts/*", R, 0, receipt, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
