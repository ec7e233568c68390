/*
 * api_fed.c: the API's view of the federation and its proofs (docs/API.md
 * sections 6-8 and 11): trust lines (list, add), the logs held and their
 * fork proofs, checkpoints (list, sign one, download one), the receipt of
 * an exchange, exchanges with other communities (send, list, show), and
 * the console's coordinators (list, add, remove). Each
 * calls what the command line calls (node/ops.c, ops_fed.c) and answers
 * with the shared vocabulary; downloads are the very bytes the command
 * line writes to a file. Only trust lines, checkpoints, sends and
 * coordinators change anything.
 */
#include "http_int.h"
#include "tb_audit.h"
#include "tb_bodies.h"
#include "tb_ops.h"

#include <stdlib.h>
#include <string.h>

#define TB_CROSS_LISTED 1000 /* exchanges listed by GET /api/v1/cross */

static void cname(struct tb_http *h, const uint8_t id[TB_KEY_LEN], char out[TB_NAME_MAX + 1])
{
	struct tb_ops o = tb_api_ops(h);
	tb_op_community_name(&o, id, out, TB_NAME_MAX + 1);
}

/* A download: the bytes (copied), as a file named name. */
static void answer_bytes(struct tb_http_resp *resp, const uint8_t *p, size_t len, const char *name)
{
	free(resp->body);
	resp->body = malloc(len ? len : 1);
	if (!resp->body) {
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
		return;
	}
	memcpy(resp->body, p, len);
	resp->len = len;
	resp->status = 200;
	resp->type = "application/octet-stream";
	snprintf(resp->disposition, sizeof resp->disposition, "attachment; filename=\"%s\"", name);
}

/* A list of the vocabulary (node/json/lists.c), or the error. */
static void answer_list(struct tb_http_resp *resp, struct tb_json *o, int err)
{
	if (!o) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

static void links(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	int err;
	struct tb_json *o = tb_vocab_links(h->host.store, h->host.self, &err);
	answer_list(resp, o, err);
}

static void link_add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_link b;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_link(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_op_community c;
	struct tb_reject rej = {0};
	uint64_t seq;
	int err = tb_op_community(&o, b.community, &c, &rej);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "%s", rej.msg);
		return;
	}
	if (err == TB_EINVAL) {
		tb_http_error(resp, 400, "EINVAL", "%s", rej.msg);
		return;
	}
	if (!err)
		err = tb_op_link_add(&o, c.id, b.limit, &seq, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	tb_http_json(resp, 201, tb_vocab_link_added(c.id, c.name, b.limit, seq));
}

static void logs(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	int err;
	struct tb_json *o = tb_vocab_logs(h->host.store, h->host.self, &err);
	answer_list(resp, o, err);
}

static void forks(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	int err;
	struct tb_json *o = tb_vocab_forks(h->host.store, h->host.self, &err);
	answer_list(resp, o, err);
}

static void checkpoints(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	int err;
	struct tb_json *o = tb_vocab_checkpoints(h->host.store, h->host.self, &err);
	answer_list(resp, o, err);
}

static void checkpoint_make(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_empty(req->body, req->body_len, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	struct tb_checkpoint cp;
	int err = tb_store_checkpoint_make(h->host.store, h->host.key, buf, sizeof buf, &len);
	if (!err)
		err = tb_checkpoint_open(&cp, buf, len);
	if (err) {
		tb_http_error(resp, tb_http_status_for(err), tb_errname(err),
			      "cannot make a checkpoint: %s", tb_strerror(err));
		return;
	}
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	tb_http_announce_checkpoint(h, cp.log_id, cp.size);
	char name[TB_NAME_MAX + 1];
	cname(h, cp.log_id, name);
	tb_http_json(resp, 201, tb_vocab_checkpoint(&cp, name));
}

static void checkpoint_file(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char fmt[8] = "json";
	uint8_t id[TB_KEY_LEN];
	if (strlen(req->params[0]) != 2 * TB_KEY_LEN ||
	    tb_hex_decode(id, TB_KEY_LEN, req->params[0])) {
		tb_http_error(resp, 404, "ENOTFOUND", "'%.80s' is not a log id (64 hex digits)",
			      req->params[0]);
		return;
	}
	int qe = tb_http_query_opt(req, NULL, "format", fmt, sizeof fmt);
	if (qe < 0 || (strcmp(fmt, "json") && strcmp(fmt, "bin"))) {
		tb_http_error(resp, 400, "EINVAL", "query 'format' is json or bin");
		return;
	}
	uint8_t buf[TB_CHECKPOINT_MAX];
	size_t len;
	struct tb_checkpoint cp;
	int err = tb_store_checkpoint_get(h->host.store, id, buf, sizeof buf, &len);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "no checkpoint of log %.16s... is held",
			      req->params[0]);
		return;
	}
	if (!err)
		err = tb_checkpoint_open(&cp, buf, len);
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	if (!strcmp(fmt, "bin")) {
		char file[64];
		snprintf(file, sizeof file, "checkpoint-%.16s.bin", req->params[0]);
		answer_bytes(resp, buf, len, file);
		return;
	}
	char name[TB_NAME_MAX + 1];
	cname(h, id, name);
	tb_http_json(resp, 200, tb_vocab_checkpoint(&cp, name));
}

static void receipt(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN];
	if (strlen(req->params[0]) != 2 * TB_TXID_LEN ||
	    tb_hex_decode(txid, TB_TXID_LEN, req->params[0])) {
		tb_http_error(resp, 404, "ENOTX", "'%.40s' is not a transaction id (32 hex digits)",
			      req->params[0]);
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	uint8_t *r = malloc(TB_RECEIPT_MAX);
	size_t len;
	uint64_t seq;
	if (!r) {
		tb_http_error(resp, 503, "ENOMEM", "out of memory");
		return;
	}
	int err = tb_op_receipt(&o, txid, r, TB_RECEIPT_MAX, &len, &seq, &rej);
	if (err == TB_ENOTX) {
		tb_http_error(resp, 404, "ENOTX", "%s", rej.msg);
	} else if (err) {
		tb_http_fail(resp, err, &rej);
	} else {
		char file[64];
		snprintf(file, sizeof file, "receipt-%.*s.bin", 2 * TB_TXID_LEN, req->params[0]);
		answer_bytes(resp, r, len, file);
	}
	free(r);
}

struct cross_ctx {
	struct tb_http *h;
	struct tb_json *arr;
	int err;
};

static int cross_one(void *vctx, const struct tb_xleg *x)
{
	struct cross_ctx *c = vctx;
	struct tb_ops o = tb_api_ops(c->h);
	struct tb_op_xview v = {.leg = *x};
	tb_op_xview_state(&v);
	if ((c->err = tb_op_xview_names(&o, &v)) ||
	    (c->err = tb_json_push(c->arr, tb_vocab_cross(&v))))
		return 1;
	/* A page of the newest is enough for people; the cap keeps it bounded. */
	return tb_json_length(c->arr) >= TB_CROSS_LISTED;
}

static void cross_list(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char v[8] = "false";
	int qe = tb_http_query_opt(req, NULL, "open", v, sizeof v);
	if (qe < 0 || (strcmp(v, "true") && strcmp(v, "false"))) {
		tb_http_error(resp, 400, "EINVAL", "query 'open' is true or false");
		return;
	}
	struct cross_ctx c = {h, tb_json_array(), 0};
	int err = tb_store_foreach_xleg(h->host.store, !strcmp(v, "true"), cross_one, &c);
	err = c.err ? c.err : (err > 0 ? 0 : err);
	if (err) {
		tb_json_free(c.arr);
		tb_http_fail(resp, err, NULL);
		return;
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "cross", c.arr);
	tb_http_json(resp, 200, o);
}

static void cross_one_get(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	uint8_t txid[TB_TXID_LEN];
	if (strlen(req->params[0]) != 2 * TB_TXID_LEN ||
	    tb_hex_decode(txid, TB_TXID_LEN, req->params[0])) {
		tb_http_error(resp, 404, "ENOTX", "'%.40s' is not a transaction id (32 hex digits)",
			      req->params[0]);
		return;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_op_xview v;
	struct tb_reject rej = {0};
	int err = tb_op_xview(&o, txid, &v, &rej);
	if (err == TB_ENOTFOUND)
		tb_http_error(resp, 404, "ENOTX", "%s", rej.msg);
	else if (err)
		tb_http_fail(resp, err, &rej);
	else
		tb_http_json(resp, 200, tb_vocab_cross(&v));
}

static void cross_send(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_cross b;
	char msg[TB_JSON_MSG_MAX];
	struct tb_op_send s = {b.from, b.to, 0, b.memo, b.category, 0, false, 0, req->who.name};
	if (tb_body_cross(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		goto out;
	}
	if (tb_body_date(b.date, &s.date)) {
		tb_http_error(resp, 400, "EDATE", "'%s' is not a date (YYYY-MM-DD)", b.date);
		goto out;
	}
	s.minutes = b.minutes;
	s.attest = b.attest;
	s.ttl = (uint64_t)b.ttl;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_xview v;
	struct tb_op_pass pass = {b.payer_passphrase, strlen(b.payer_passphrase)};
	int err = tb_op_send(&o, &s, pass, &v, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	/* Accepted: the other community decides; GET /api/v1/cross/TXID follows it. */
	tb_http_json(resp, 202, tb_vocab_cross(&v));
out:
	tb_body_wipe(&b, sizeof b);
}

static void coordinators(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)req;
	struct tb_http *h = ctx;
	int err;
	struct tb_json *o = tb_vocab_coordinators(h->host.store, &err);
	answer_list(resp, o, err);
}

static void coordinator_add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_coordinator b;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_coordinator(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		goto out;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_coord co;
	int err = tb_op_coord_add(&o, b.name, b.role_id, b.password, strlen(b.password), &co, &rej);
	if (err == TB_EINVAL)
		tb_http_error(resp, 400, "EINVAL", "%s", rej.msg);
	else if (err == TB_EEXISTS)
		tb_http_error(resp, 409, "EEXISTS", "%s", rej.msg);
	else if (err)
		tb_http_fail(resp, err, &rej);
	else
		tb_http_json(resp, 201, tb_vocab_coordinator(&co));
	tb_wipe(co.pwhash, sizeof co.pwhash);
out:
	tb_body_wipe(&b, sizeof b);
}

static void coordinator_set(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_coordinator_set b;
	char msg[TB_JSON_MSG_MAX];
	struct tb_coord co = {0};
	if (tb_body_coordinator_set(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		goto out;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	int err = tb_op_coord_set(&o, req->params[0], b.role_id, b.password[0] ? b.password : NULL,
				  strlen(b.password), &co, &rej);
	if (err == TB_EINVAL) {
		tb_http_error(resp, 400, "EINVAL", "%s", rej.msg);
	} else if (err == TB_EDENIED) {
		tb_http_error(resp, 409, "ELASTADMIN", "%s", rej.msg);
	} else if (err) {
		tb_http_fail(resp, err, &rej);
	} else {
		/* Open sessions take the new role at their next request, and end
		 * there after a new password (router.c, recheck). */
		tb_http_json(resp, 200, tb_vocab_coordinator(&co));
	}
	tb_wipe(co.pwhash, sizeof co.pwhash);
out:
	tb_body_wipe(&b, sizeof b);
}

static void coordinator_remove(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	int err = tb_op_coord_remove(&o, req->params[0], &rej);
	if (err == TB_ENOTFOUND || err == TB_EDENIED) {
		tb_http_error(resp, err == TB_EDENIED ? 409 : 404,
			      err == TB_EDENIED ? "ELASTADMIN" : "ENOTFOUND", "%s", rej.msg);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	/* Their sessions end at once (this one too, when they removed themselves). */
	tb_session_end_name(h, req->params[0]);
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "removed", tb_json_bool(true));
	tb_http_json(resp, 200, r);
}

int tb_api_fed_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"GET", "/api/v1/links", 0, TB_ROLE_VIEWER, links, h},
		{"POST", "/api/v1/links", TB_ROUTE_WRITE, TB_ROLE_ADMIN, link_add, h},
		{"GET", "/api/v1/logs", 0, TB_ROLE_VIEWER, logs, h},
		{"GET", "/api/v1/forks", 0, TB_ROLE_VIEWER, forks, h},
		{"GET", "/api/v1/checkpoints", 0, TB_ROLE_VIEWER, checkpoints, h},
		{"POST", "/api/v1/checkpoints", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR,
		 checkpoint_make, h},
		{"GET", "/api/v1/checkpoints/*", 0, TB_ROLE_VIEWER, checkpoint_file, h},
		{"GET", "/api/v1/receipts/*", 0, TB_ROLE_VIEWER, receipt, h},
		{"GET", "/api/v1/cross", 0, TB_ROLE_VIEWER, cross_list, h},
		{"POST", "/api/v1/cross", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, cross_send, h},
		{"GET", "/api/v1/cross/*", 0, TB_ROLE_VIEWER, cross_one_get, h},
		{"GET", "/api/v1/coordinators", 0, TB_ROLE_ADMIN, coordinators, h},
		{"POST", "/api/v1/coordinators", TB_ROUTE_WRITE, TB_ROLE_ADMIN, coordinator_add, h},
		{"POST", "/api/v1/coordinators/*", TB_ROUTE_WRITE, TB_ROLE_ADMIN, coordinator_set,
		 h},
		{"DELETE", "/api/v1/coordinators/*", TB_ROUTE_WRITE, TB_ROLE_ADMIN,
		 coordinator_remove, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
