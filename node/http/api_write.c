/*
 * api_write.c: the API's changes to the own ledger: members (add, remove)
 * and exchanges (record attested, propose, confirm, reject, reverse). Each
 * decodes its body with tb_json_decode, calls the operation the command
 * line also calls (node/ops.c), and answers with the vocabulary's objects
 * or the refusal's code and sentence. After a change the node spreads it to
 * peers and to the event streams at once.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_ops.h"

#include <string.h>

static void changed(struct tb_http *h)
{
	if (h->host.changed)
		h->host.changed(h->host.ctx);
}

static bool refused_body(struct tb_http_resp *resp, int err, const char *msg)
{
	if (!err)
		return false;
	tb_http_error(resp, 400, "EINVAL", "%s", msg);
	return true;
}

bool tb_api_txid_param(struct tb_http_req *req, struct tb_http_resp *resp,
		       uint8_t txid[TB_TXID_LEN])
{
	if (strlen(req->params[0]) == 2 * TB_TXID_LEN &&
	    !tb_hex_decode(txid, TB_TXID_LEN, req->params[0]))
		return true;
	tb_http_error(resp, 404, "ENOTX", "'%.40s' is not a transaction id (32 hex digits)",
		      req->params[0]);
	return false;
}

static struct tb_op_pass pass_of(const char *p)
{
	return (struct tb_op_pass){p, strlen(p)};
}

static void member_add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_member b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t pk[TB_KEY_LEN];
	if (refused_body(resp, tb_body_member(req->body, req->body_len, &b, msg), msg))
		goto out;
	if (b.has_key && tb_hex_decode(pk, TB_KEY_LEN, b.public_key)) {
		tb_http_error(resp, 400, "EINVAL", "'public_key' must be 64 hex digits");
		goto out;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_member m;
	struct tb_reject rej = {0};
	int err = tb_op_member_add(&o, b.name, b.debt_limit, b.ceiling, b.has_key ? pk : NULL,
				   pass_of(b.passphrase), &m, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	changed(h);
	tb_http_json(resp, 201, tb_vocab_member(&m));
out:
	tb_body_wipe(&b, sizeof b);
}

static void member_remove(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	uint64_t seq;
	int err = tb_op_member_remove(&o, req->params[0], &seq, &rej);
	if (err == TB_EMEMBER) {
		tb_http_error(resp, 404, "EMEMBER", "%s", rej.msg);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	changed(h);
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "seq", tb_json_int((int64_t)seq));
	tb_http_json(resp, 200, r);
}

static void exchange_add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_exchange b;
	char msg[TB_JSON_MSG_MAX];
	struct tb_op_terms t = {b.provider, b.receiver, 0, b.memo, b.category, 0};
	if (refused_body(resp, tb_body_exchange(req->body, req->body_len, &b, msg), msg))
		goto out;
	if (tb_body_date(b.date, &t.date)) {
		tb_http_error(resp, 400, "EDATE", "'%s' is not a date (YYYY-MM-DD)", b.date);
		goto out;
	}
	t.minutes = b.minutes;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	uint8_t txid[TB_TXID_LEN];
	uint64_t seq = 0;
	int err = b.attest ? tb_op_record(&o, &t, req->who.name, txid, &seq, &rej)
			   : tb_op_propose(&o, &t, pass_of(b.provider_passphrase), txid, &rej);
	if (err == TB_EFULL) { /* the pending table's bound: a refusal, not an outage */
		tb_http_error(resp, 409, "EFULL", "%s", rej.msg);
		goto out;
	}
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	if (b.attest) {
		changed(h);
		tb_http_json(resp, 201, tb_vocab_txid_seq(txid, seq));
	} else {
		struct tb_member rm; /* a live "notice" for the receiver's page */
		if (!tb_store_member_find(h->host.store, h->host.self, b.receiver, &rm))
			tb_http_notice(h, rm.no);
		tb_http_json(resp, 202, tb_vocab_proposed(txid));
	}
out:
	tb_body_wipe(&b, sizeof b);
}

static void exchange_confirm(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_confirm b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t txid[TB_TXID_LEN];
	if (tb_api_txid_param(req, resp, txid) &&
	    !refused_body(resp, tb_body_confirm(req->body, req->body_len, &b, msg), msg)) {
		struct tb_ops o = tb_api_ops(h);
		struct tb_reject rej = {0};
		uint64_t seq;
		int err = tb_op_confirm(&o, txid, pass_of(b.receiver_passphrase), &seq, &rej);
		if (err) {
			tb_http_fail(resp, err, &rej);
		} else {
			changed(h);
			tb_http_json(resp, 201, tb_vocab_txid_seq(txid, seq));
		}
	}
	tb_body_wipe(&b, sizeof b);
}

static void exchange_reject(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN];
	char msg[TB_JSON_MSG_MAX];
	if (!tb_api_txid_param(req, resp, txid) ||
	    refused_body(resp, tb_body_empty(req->body, req->body_len, msg), msg))
		return;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	int err = tb_op_reject(&o, txid, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	tb_http_json(resp, 200, tb_vocab_rejected(txid));
}

static void exchange_reverse(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_reverse b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t txid[TB_TXID_LEN], rtxid[TB_TXID_LEN];
	if (tb_api_txid_param(req, resp, txid) &&
	    !refused_body(resp, tb_body_reverse(req->body, req->body_len, &b, msg), msg)) {
		struct tb_ops o = tb_api_ops(h);
		struct tb_reject rej = {0};
		uint64_t seq;
		int err = tb_op_reverse(&o, txid, b.attest, pass_of(b.provider_passphrase),
					pass_of(b.receiver_passphrase), rtxid, &seq, &rej);
		if (err == TB_ENOTX) {
			tb_http_error(resp, 404, "ENOTX", "%s", rej.msg);
		} else if (err) {
			tb_http_fail(resp, err, &rej);
		} else {
			if (b.attest)
				(void)!tb_store_attested_put(h->host.store, rtxid, req->who.name);
			changed(h);
			tb_http_json(resp, 201, tb_vocab_txid_seq(rtxid, seq));
		}
	}
	tb_body_wipe(&b, sizeof b);
}

int tb_api_write_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"POST", "/api/v1/members", TB_ROUTE_WRITE, TB_ROLE_ADMIN, member_add, h},
		{"DELETE", "/api/v1/members/*", TB_ROUTE_WRITE, TB_ROLE_ADMIN, member_remove, h},
		{"POST", "/api/v1/exchanges", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, exchange_add, h},
		{"POST", "/api/v1/exchanges/*/confirm", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR,
		 exchange_confirm, h},
		{"POST", "/api/v1/exchanges/*/reject", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR,
		 exchange_reject, h},
		{"POST", "/api/v1/exchanges/*/reverse", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR,
		 exchange_reverse, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
