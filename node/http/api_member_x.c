/*
 * api_member_x.c: a member's own exchanges, signed in the member's browser
 * (docs/API.md, "Members' own exchanges"). For a proposal or a payment the
 * node first makes a draft: it chooses the txid and the memo salt (and a
 * payment's expiry), and answers the exact terms bytes (FORMAT.md 6.1, 6.4)
 * with their fields. The browser rebuilds those bytes from what the member
 * entered, signs them, and sends back the signature with the draft's
 * choices; the node rebuilds the terms again and checks the signature with
 * the member's key as the ledger holds it now. The node never sees a
 * member's key or passphrase. Every route here is for members' sessions
 * only and acts as the session's member, never as another: the provider of
 * a proposal and the payer of a payment are the signed-in member, only the
 * receiver confirms, and a member reads only their own proposals, payments
 * and receipts.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_ops.h"
#include "tb_qr.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The session's member, else an answer (the member was read by the
 * router just before: a failure here is the store's). */
bool tb_api_me(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
	       struct tb_member *m)
{
	uint32_t no = tb_http_member(req);
	int err = no ? tb_store_member(h->host.store, h->host.self, no, m) : TB_EDENIED;
	if (err == TB_EDENIED)
		tb_http_error(resp, 403, "EDENIED", "this is for members signed in with their key");
	else if (err)
		tb_http_fail(resp, err, NULL);
	return !err;
}

static bool hex_arg(struct tb_http_resp *resp, const char *hex, uint8_t *out, size_t len,
		    const char *what)
{
	if (strlen(hex) == 2 * len && !tb_hex_decode(out, len, hex))
		return true;
	tb_http_error(resp, 400, "EINVAL", "'%s' must be %zu hex digits", what, 2 * len);
	return false;
}

/* {"terms": hex, ...} of terms d encoded; NULL on failure (answered). */
static struct tb_json *terms_json(struct tb_http_resp *resp, const struct tb_msgdef *d,
				  const void *terms)
{
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err = tb_terms_encode(buf, sizeof buf, &len, d, terms);
	struct tb_json *o = err ? NULL : tb_json_object();
	if (!o) {
		tb_http_fail(resp, err ? err : TB_ENOMEM, NULL);
		return NULL;
	}
	tb_json_set(o, "terms", tb_json_bytes(buf, len));
	return o;
}

/* The fields of exchange terms as the browser encodes them (FORMAT.md 6.1). */
static struct tb_json *exchange_fields(const struct tb_exchange_terms *t)
{
	struct tb_json *f = tb_json_object();
	tb_json_set(f, "log_id", tb_json_bytes(t->log_id, TB_KEY_LEN));
	tb_json_set(f, "txid", tb_json_bytes(t->txid, TB_TXID_LEN));
	tb_json_set(f, "provider", tb_json_int((int64_t)t->provider));
	tb_json_set(f, "receiver", tb_json_int((int64_t)t->receiver));
	tb_json_set(f, "minutes", tb_json_int((int64_t)t->minutes));
	tb_json_set(f, "category", tb_json_stringn((const char *)t->category.p, t->category.len));
	tb_json_set(f, "memo_hash", tb_json_bytes(t->memo_hash, TB_HASHLEN));
	tb_json_set(f, "date", tb_json_int((int64_t)t->date));
	return f;
}

static void terms_of_body(const struct tb_body_mpropose *b, const char *provider,
			  struct tb_op_terms *t)
{
	*t = (struct tb_op_terms){provider, b->receiver, b->minutes, b->memo, b->category, 0};
}

static void propose_draft(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_mpropose b;
	char msg[TB_JSON_MSG_MAX], self[16], cat[TB_CATEGORY_MAX + 1];
	struct tb_member m;
	if (!tb_api_me(h, req, resp, &m))
		return;
	if (tb_body_mpropose(req->body, req->body_len, false, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	struct tb_op_terms t;
	snprintf(self, sizeof self, "#%u", m.no);
	terms_of_body(&b, self, &t);
	if (tb_body_date(b.date, &t.date)) {
		tb_http_error(resp, 400, "EDATE", "'%s' is not a date (YYYY-MM-DD)", b.date);
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_fix fix;
	struct tb_exchange x;
	int err = tb_op_propose_draft(&o, &t, &fix, &x, cat, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	struct tb_exchange_terms et;
	tb_exchange_terms_of(&et, h->host.self, &x);
	struct tb_json *r = terms_json(resp, &tb_def_exchange_terms, &et);
	if (!r)
		return;
	tb_json_set(r, "fields", exchange_fields(&et));
	tb_json_set(r, "memo_salt", tb_json_bytes(fix.salt, TB_MEMO_SALT_LEN));
	tb_json_set(r, "context", tb_json_string("tally/exchange/v1"));
	/* The name the node resolved the receiver to (the page shows it). */
	struct tb_member recv;
	err = tb_store_member(h->host.store, h->host.self, (uint32_t)x.receiver, &recv);
	tb_json_set(r, "receiver_name", err ? tb_json_null() : tb_json_string(recv.name));
	tb_http_json(resp, 200, r);
}

static void propose(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_mpropose b;
	char msg[TB_JSON_MSG_MAX], self[16];
	struct tb_member m;
	struct tb_op_fix fix = {0};
	uint8_t sig[TB_SIGLEN];
	if (!tb_api_me(h, req, resp, &m))
		return;
	if (tb_body_mpropose(req->body, req->body_len, true, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!hex_arg(resp, b.txid, fix.txid, TB_TXID_LEN, "txid") ||
	    !hex_arg(resp, b.memo_salt, fix.salt, TB_MEMO_SALT_LEN, "memo_salt") ||
	    !hex_arg(resp, b.signature, sig, TB_SIGLEN, "signature"))
		return;
	struct tb_op_terms t;
	snprintf(self, sizeof self, "#%u", m.no);
	terms_of_body(&b, self, &t);
	if (tb_body_date(b.date, &t.date) || !t.date) {
		tb_http_error(resp, 400, "EDATE", "'date' must be the draft's (YYYY-MM-DD)");
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	int err = tb_op_propose_signed(&o, &t, &fix, sig, &rej);
	if (err == TB_EBADSIG)
		tb_http_error(resp, 400, "EBADSIG", "%s", rej.msg);
	else if (err == TB_EFULL) /* the pending table's bound (FORMAT.md 6.3) */
		tb_http_error(resp, 409, "EFULL", "%s", rej.msg);
	else if (err)
		tb_http_fail(resp, err, &rej);
	else
		tb_http_json(resp, 202, tb_vocab_proposed(fix.txid));
	struct tb_member rm; /* a live "notice" for the receiver's page */
	if (!err && !tb_store_member_find(h->host.store, h->host.self, b.receiver, &rm))
		tb_http_notice(h, rm.no);
}

/* A pending proposal of which m is the provider or the receiver, as the
 * vocabulary shows it plus its terms and their fields. */
static struct tb_json *proposal_json(struct tb_http *h, struct tb_http_resp *resp,
				     const struct tb_member *m, const struct tb_proposal *p)
{
	struct tb_exchange x = {0};
	memcpy(x.txid, p->txid, TB_TXID_LEN);
	x.provider = p->provider;
	x.receiver = p->receiver;
	x.minutes = p->minutes;
	x.category = p->category;
	memcpy(x.memo_hash, p->memo_hash, TB_HASHLEN);
	x.date = p->date;
	struct tb_exchange_terms et;
	tb_exchange_terms_of(&et, h->host.self, &x);
	struct tb_json *r = tb_vocab_proposal(h->host.store, h->host.self, p);
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err =
		r ? tb_terms_encode(buf, sizeof buf, &len, &tb_def_exchange_terms, &et) : TB_ENOMEM;
	if (err) {
		tb_json_free(r);
		tb_http_fail(resp, err, NULL);
		return NULL;
	}
	tb_json_set(r, "mine", tb_json_string(p->provider == m->no ? "provider" : "receiver"));
	tb_json_set(r, "terms", tb_json_bytes(buf, len));
	tb_json_set(r, "fields", exchange_fields(&et));
	/* The parties check memo_hash against the memo with it (null: erased). */
	uint8_t salt[TB_MEMO_SALT_LEN];
	err = tb_store_memo_salt(h->host.store, p->txid, salt);
	if (err && err != TB_ENOTFOUND) {
		tb_json_free(r);
		tb_http_fail(resp, err, NULL);
		return NULL;
	}
	tb_json_set(r, "memo_salt", err ? tb_json_null() : tb_json_bytes(salt, TB_MEMO_SALT_LEN));
	return r;
}

struct mine_ctx {
	struct tb_http *h;
	struct tb_http_resp *resp;
	const struct tb_member *m;
	struct tb_json *arr;
	int err;
};

static int mine_one(void *vctx, struct tb_view msg)
{
	struct mine_ctx *c = vctx;
	struct tb_proposal p;
	if ((c->err = tb_msg_decode_exact(msg.p, msg.len, &tb_def_proposal, &p)))
		return 1;
	if ((p.provider != c->m->no && p.receiver != c->m->no) ||
	    tb_pending_expired(&p, (uint64_t)time(NULL)))
		return 0;
	struct tb_json *one = proposal_json(c->h, c->resp, c->m, &p);
	if (!one) {
		c->err = TB_ENOMEM;
		return 1;
	}
	tb_json_push(c->arr, one);
	return 0;
}

static void proposals(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (!tb_api_me(h, req, resp, &m))
		return;
	struct mine_ctx c = {h, resp, &m, tb_json_array(), 0};
	int err = c.arr ? tb_store_foreach_pending(h->host.store, mine_one, &c) : TB_ENOMEM;
	if (err || c.err) {
		tb_json_free(c.arr);
		if (resp->status < 400)
			tb_http_fail(resp, c.err ? c.err : err, NULL);
		return;
	}
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "proposals", c.arr);
	tb_http_json(resp, 200, r);
}

/* The pending proposal of the path's txid, if m is party to it; else
 * answered (404: another member's proposal is not shown to exist). */
static bool my_proposal(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			const struct tb_member *m, uint8_t txid[TB_TXID_LEN],
			uint8_t buf[TB_ENTRY_MAX], struct tb_proposal *p)
{
	if (!tb_api_txid_param(req, resp, txid))
		return false;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	int err = tb_op_pending(&o, txid, buf, TB_ENTRY_MAX, p, &rej);
	if (!err && p->provider != m->no && p->receiver != m->no) {
		tb_http_error(resp, 404, "ENOTFOUND", "no pending exchange %s of yours",
			      req->params[0]);
		return false;
	}
	if (err == TB_ENOTFOUND)
		tb_http_error(resp, 404, "ENOTFOUND", "%s", rej.msg);
	else if (err)
		tb_http_fail(resp, err, &rej);
	return !err;
}

static void proposal_get(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	uint8_t txid[TB_TXID_LEN], buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	if (!tb_api_me(h, req, resp, &m) || !my_proposal(h, req, resp, &m, txid, buf, &p))
		return;
	struct tb_json *r = proposal_json(h, resp, &m, &p);
	if (r)
		tb_http_json(resp, 200, r);
}

/* The QR code of the link the other member opens to confirm (pending.js's
 * share link), as an SVG image: for the proposal's two members only. */
static void proposal_qr(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	uint8_t txid[TB_TXID_LEN], buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	char link[400], hex[2 * TB_TXID_LEN + 1];
	if (!tb_api_me(h, req, resp, &m) || !my_proposal(h, req, resp, &m, txid, buf, &p))
		return;
	tb_hex_encode(hex, txid, sizeof txid);
	tb_api_member_link(req, "pending", hex, link, sizeof link);
	int err;
	resp->body = tb_qr_svg(link, &resp->len, &err);
	if (!resp->body) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	resp->status = 200;
	resp->type = "image/svg+xml";
	resp->cache = "private, max-age=3600";
}

static void confirm(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	struct tb_body_msig b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t txid[TB_TXID_LEN], buf[TB_ENTRY_MAX], sig[TB_SIGLEN];
	struct tb_proposal p;
	if (!tb_api_me(h, req, resp, &m) || !my_proposal(h, req, resp, &m, txid, buf, &p))
		return;
	if (p.receiver != m.no) {
		tb_http_error(resp, 403, "EDENIED", "only the receiver confirms a proposal");
		return;
	}
	if (tb_body_msig(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!hex_arg(resp, b.signature, sig, TB_SIGLEN, "signature"))
		return;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	uint64_t seq;
	int err = tb_op_confirm_signed(&o, txid, sig, &seq, &rej);
	if (err == TB_EBADSIG) {
		tb_http_error(resp, 400, "EBADSIG", "%s", rej.msg);
	} else if (err) {
		tb_http_fail(resp, err, &rej);
	} else {
		if (h->host.changed)
			h->host.changed(h->host.ctx);
		tb_http_json(resp, 201, tb_vocab_txid_seq(txid, seq));
	}
}

static void reject(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	char msg[TB_JSON_MSG_MAX];
	uint8_t txid[TB_TXID_LEN], buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	if (!tb_api_me(h, req, resp, &m) || !my_proposal(h, req, resp, &m, txid, buf, &p))
		return;
	if (tb_body_empty(req->body, req->body_len, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	int err = tb_op_reject(&o, txid, &rej);
	if (err)
		tb_http_fail(resp, err, &rej);
	else
		tb_http_json(resp, 200, tb_vocab_rejected(txid));
}

static void statement(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	if (!tb_api_me(h, req, resp, &m))
		return;
	int err;
	struct tb_json *o = tb_vocab_statement(h->host.store, h->host.self, &m, 0, 0, &err);
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_json_set(o, "community", tb_api_community_json(h));
	tb_http_json(resp, 200, o);
}

bool tb_api_hex_arg(struct tb_http_resp *resp, const char *hex, uint8_t *out, size_t len,
		    const char *what)
{
	return hex_arg(resp, hex, out, len, what);
}

int tb_api_member_x_routes(struct tb_http *h)
{
	const unsigned W = TB_ROUTE_WRITE | TB_ROUTE_MEMBER_ONLY, R = TB_ROUTE_MEMBER_ONLY;
	const struct tb_route r[] = {
		{"GET", "/api/v1/me/statement", R, 0, statement, h},
		{"GET", "/api/v1/me/proposals", R, 0, proposals, h},
		{"POST", "/api/v1/me/proposals/draft", W, 0, propose_draft, h},
		{"POST", "/api/v1/me/proposals", W, 0, propose, h},
		{"GET", "/api/v1/me/proposals/*", R, 0, proposal_get, h},
		{"GET", "/api/v1/me/proposals/*/qr.svg", R, 0, proposal_qr, h},
		{"POST", "/api/v1/me/proposals/*/confirm", W, 0, confirm, h},
		{"POST", "/api/v1/me/proposals/*/reject", W, 0, reject, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	if (!err)
		err = tb_api_member_xpay_routes(h);
	return err;
}
