/*
 * api_write.c: the API's changes to the own ledger: members (add, remove)
 * and exchanges (record attested, propose, confirm, reject, reverse). Each
 * decodes its body with tb_json_decode, calls the operation the command
 * line also calls (node/ops.c), and answers with the vocabulary's objects
 * or the refusal's code and sentence. After a change the node spreads it to
 * peers and to the event streams at once.
 */
#include "http_int.h"
#include "tb_ops.h"

#include <string.h>

#define TB_PASS_MAX 1024

static struct tb_ops ops_of(struct tb_http *h)
{
	return (struct tb_ops){h->host.store, h->host.self, h->host.data, h->host.key};
}

static void changed(struct tb_http *h)
{
	if (h->host.changed)
		h->host.changed(h->host.ctx);
}

static bool body(struct tb_http_req *req, struct tb_http_resp *resp, const struct tb_jfield *f,
		 size_t n)
{
	char msg[TB_JSON_MSG_MAX];
	/* An empty body is an empty object (every field then optional or missing). */
	const char *b = req->body_len ? req->body : "{}";
	if (!tb_json_decode(b, req->body_len ? req->body_len : 2, f, n, msg))
		return true;
	tb_http_error(resp, 400, "EINVAL", "%s", msg);
	return false;
}

static bool txid_param(struct tb_http_req *req, struct tb_http_resp *resp,
		       uint8_t txid[TB_TXID_LEN])
{
	if (strlen(req->params[0]) == 2 * TB_TXID_LEN && !tb_hex_decode(txid, TB_TXID_LEN, req->params[0]))
		return true;
	tb_http_error(resp, 404, "ENOTX", "'%.40s' is not a transaction id (32 hex digits)",
		      req->params[0]);
	return false;
}

static bool date_field(const char *s, uint64_t *out, struct tb_http_resp *resp)
{
	unsigned y, m, d;
	char tail;
	if (!*s) {
		*out = 0;
		return true;
	}
	if (strlen(s) == 10 && sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) == 3 && m >= 1 &&
	    m <= 12 && d >= 1 && d <= 31 && y >= 1970) {
		*out = (uint64_t)y * 10000 + m * 100 + d;
		return true;
	}
	tb_http_error(resp, 400, "EDATE", "'%s' is not a date (YYYY-MM-DD)", s);
	return false;
}

static void wipe_pass(char *p)
{
	tb_wipe(p, TB_PASS_MAX + 1);
}

static struct tb_json *txid_seq(const uint8_t txid[TB_TXID_LEN], uint64_t seq)
{
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "txid", tb_json_bytes(txid, TB_TXID_LEN));
	tb_json_set(o, "seq", tb_json_int((int64_t)seq));
	return o;
}

static void member_add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char name[TB_NAME_MAX + 1], key[2 * TB_KEY_LEN + 1] = "", pass[TB_PASS_MAX + 1] = "";
	int64_t debt = -1, ceil = -1;
	bool has_key, has_pass;
	const struct tb_jfield f[] = {
		{"name", TB_JT_STR, true, 1, TB_NAME_MAX, name, NULL},
		{"debt_limit_minutes", TB_JT_INT, false, 0, TB_LIMIT_MAX, &debt, NULL},
		{"ceiling_minutes", TB_JT_INT, false, 0, TB_LIMIT_MAX, &ceil, NULL},
		{"public_key", TB_JT_STR, false, 64, 64, key, &has_key},
		{"passphrase", TB_JT_STR, false, 1, TB_PASS_MAX, pass, &has_pass},
	};
	uint8_t pk[TB_KEY_LEN];
	if (!body(req, resp, f, 5))
		goto out;
	if (has_key == has_pass) {
		tb_http_error(resp, 400, "EINVAL", "give exactly one of 'public_key' and 'passphrase'");
		goto out;
	}
	if (strchr(name, '@')) {
		tb_http_error(resp, 400, "EINVAL", "a member name may not contain '@'");
		goto out;
	}
	if (has_key && tb_hex_decode(pk, TB_KEY_LEN, key)) {
		tb_http_error(resp, 400, "EINVAL", "'public_key' must be 64 hex digits");
		goto out;
	}
	struct tb_ops o = ops_of(h);
	struct tb_member m;
	struct tb_reject rej = {0};
	int err = tb_op_member_add(&o, name, debt, ceil, has_key ? pk : NULL,
				   (struct tb_op_pass){pass, strlen(pass)}, &m, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	changed(h);
	tb_http_json(resp, 201, tb_vocab_member(&m));
out:
	wipe_pass(pass);
}

static void member_remove(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_ops o = ops_of(h);
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
	char prov[TB_NAME_MAX + 1], recv[TB_NAME_MAX + 1], memo[TB_MEMO_MAX + 1],
		cat[TB_CATEGORY_MAX + 1] = "", date[16] = "", pass[TB_PASS_MAX + 1] = "";
	int64_t minutes = 0;
	bool attest = false;
	const struct tb_jfield f[] = {
		{"provider", TB_JT_STR, true, 1, TB_NAME_MAX, prov, NULL},
		{"receiver", TB_JT_STR, true, 1, TB_NAME_MAX, recv, NULL},
		{"minutes", TB_JT_INT, true, 1, TB_MINUTES_MAX, &minutes, NULL},
		{"memo", TB_JT_STR, true, 0, TB_MEMO_MAX, memo, NULL},
		{"category", TB_JT_STR, false, 0, TB_CATEGORY_MAX, cat, NULL},
		{"date", TB_JT_STR, false, 10, 10, date, NULL},
		{"attest", TB_JT_BOOL, true, 0, 1, &attest, NULL},
		{"provider_passphrase", TB_JT_STR, false, 1, TB_PASS_MAX, pass, NULL},
	};
	struct tb_op_terms t = {prov, recv, 0, memo, cat, 0};
	if (!body(req, resp, f, 8) || !date_field(date, &t.date, resp))
		goto out;
	t.minutes = minutes;
	struct tb_ops o = ops_of(h);
	struct tb_reject rej = {0};
	uint8_t txid[TB_TXID_LEN];
	uint64_t seq = 0;
	int err = attest ? tb_op_record(&o, &t, req->who.name, txid, &seq, &rej)
			 : tb_op_propose(&o, &t, (struct tb_op_pass){pass, strlen(pass)}, txid, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	if (attest) {
		changed(h);
		tb_http_json(resp, 201, txid_seq(txid, seq));
	} else {
		struct tb_json *r = tb_json_object();
		tb_json_set(r, "txid", tb_json_bytes(txid, TB_TXID_LEN));
		tb_json_set(r, "pending", tb_json_bool(true));
		tb_http_json(resp, 202, r);
	}
out:
	wipe_pass(pass);
}

static void exchange_confirm(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char pass[TB_PASS_MAX + 1] = "";
	const struct tb_jfield f[] = {
		{"receiver_passphrase", TB_JT_STR, true, 1, TB_PASS_MAX, pass, NULL},
	};
	uint8_t txid[TB_TXID_LEN];
	if (txid_param(req, resp, txid) && body(req, resp, f, 1)) {
		struct tb_ops o = ops_of(h);
		struct tb_reject rej = {0};
		uint64_t seq;
		int err = tb_op_confirm(&o, txid, (struct tb_op_pass){pass, strlen(pass)}, &seq, &rej);
		if (err) {
			tb_http_fail(resp, err, &rej);
		} else {
			changed(h);
			tb_http_json(resp, 201, txid_seq(txid, seq));
		}
	}
	wipe_pass(pass);
}

static void exchange_reject(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN];
	if (!txid_param(req, resp, txid) || !body(req, resp, NULL, 0))
		return;
	struct tb_ops o = ops_of(h);
	struct tb_reject rej = {0};
	int err = tb_op_reject(&o, txid, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "rejected", tb_json_bool(true));
	tb_http_json(resp, 200, r);
}

static void exchange_reverse(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char pp[TB_PASS_MAX + 1] = "", rp[TB_PASS_MAX + 1] = "";
	bool attest = false;
	const struct tb_jfield f[] = {
		{"attest", TB_JT_BOOL, false, 0, 1, &attest, NULL},
		{"provider_passphrase", TB_JT_STR, false, 1, TB_PASS_MAX, pp, NULL},
		{"receiver_passphrase", TB_JT_STR, false, 1, TB_PASS_MAX, rp, NULL},
	};
	uint8_t txid[TB_TXID_LEN], rtxid[TB_TXID_LEN];
	if (txid_param(req, resp, txid) && body(req, resp, f, 3)) {
		struct tb_ops o = ops_of(h);
		struct tb_reject rej = {0};
		uint64_t seq;
		int err = tb_op_reverse(&o, txid, attest, (struct tb_op_pass){pp, strlen(pp)},
					(struct tb_op_pass){rp, strlen(rp)}, rtxid, &seq, &rej);
		if (err == TB_ENOTX) {
			tb_http_error(resp, 404, "ENOTX", "%s", rej.msg);
		} else if (err) {
			tb_http_fail(resp, err, &rej);
		} else {
			if (attest)
				(void)!tb_store_attested_put(h->host.store, rtxid, req->who.name);
			changed(h);
			tb_http_json(resp, 201, txid_seq(rtxid, seq));
		}
	}
	wipe_pass(pp);
	wipe_pass(rp);
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
