/*
 * api_listings.c: members' offers and requests through the API (FORMAT.md
 * 16): GET /api/v1/listings searches what the node holds of every
 * community; POST /api/v1/listings posts one of the own community's, signed
 * by its member (passphrase in the body) or attested; POST
 * /api/v1/listings/ID/withdraw and /renew make a new version;
 * /api/v1/listings/COMMUNITY/ID/hide and /show are this node's own. Posting, withdrawing and
 * renewing call the operations `tally listing` calls (node/ops_listing.c), so a refusal reads the
 * same; a change is spread to peers at once.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_ops.h"

#include <string.h>

#define LIST_MAX 200

static void changed(struct tb_http *h)
{
	if (h->host.changed)
		h->host.changed(h->host.ctx);
}

/* The query's community (a name or id) and member into q (http_int.h). */
bool tb_api_listing_where(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			  struct tb_listing_query *q, uint8_t log[TB_KEY_LEN])
{
	char v[200];
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	memcpy(log, h->host.self, TB_KEY_LEN);
	int qe = tb_http_query_opt(req, resp, "community", v, sizeof v);
	if (qe < 0)
		return false;
	if (qe) {
		struct tb_op_community c;
		int err = tb_op_community(&o, v, &c, &rej);
		if (err) {
			tb_http_fail(resp, err, &rej);
			return false;
		}
		memcpy(log, c.id, TB_KEY_LEN);
		q->community = log;
	}
	if ((qe = tb_http_query_opt(req, resp, "member", v, sizeof v)) < 0)
		return false;
	if (qe) {
		struct tb_member m;
		if (tb_store_member_find(h->host.store, log, v, &m)) {
			tb_http_error(resp, 404, "EMEMBER", "no member '%s' in that community", v);
			return false;
		}
		q->member = m.no;
		q->community = log;
	}
	return true;
}

static void list(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char text[TB_LISTING_TITLE_MAX * 4 + 1], cat[TB_CATEGORY_MAX * 4 + 1], v[32], hid[8];
	uint8_t log[TB_KEY_LEN];
	struct tb_listing_query q = {.kind = -1, .now = tb_listing_now()};
	int qt = tb_http_query_opt(req, resp, "text", text, sizeof text), qc = 0, qk = 0, qh = 0;
	if (qt < 0 || (qc = tb_http_query_opt(req, resp, "category", cat, sizeof cat)) < 0 ||
	    (qk = tb_http_query_opt(req, resp, "kind", v, sizeof v)) < 0 ||
	    (qh = tb_http_query_opt(req, resp, "hidden", hid, sizeof hid)) < 0)
		return;
	q.text = qt ? text : NULL;
	q.category = qc ? cat : NULL;
	if (qk) {
		if (strcmp(v, "offer") && strcmp(v, "request")) {
			tb_http_error(resp, 400, "EINVAL", "'kind' must be offer or request");
			return;
		}
		q.kind = strcmp(v, "offer") ? TB_LISTING_REQUEST : TB_LISTING_OFFER;
	}
	if (qh && !strcmp(hid, "1")) {
		/* Hiding keeps a listing from viewers: only a coordinator sees it. */
		if (req->who.role < TB_ROLE_COORDINATOR) {
			tb_http_error(resp, 403, "EDENIED",
				      "only a coordinator sees the listings hidden here");
			return;
		}
		q.hidden = true;
	}
	if (!tb_api_listing_where(h, req, resp, &q, log))
		return;
	int err;
	struct tb_json *o = tb_vocab_listings(h->host.store, &q, LIST_MAX, &err);
	if (!o) {
		tb_http_fail(resp, err ? err : TB_ENOMEM, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

/* One listing of the own community by its id, as the vocabulary shows it. */
void tb_api_listing_answer(struct tb_http *h, struct tb_http_resp *resp, int status,
			   const uint8_t id[TB_LISTING_ID_LEN])
{
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	struct tb_listing l;
	if (tb_store_listing_get(h->host.store, h->host.self, id, obj, &len) ||
	    tb_listing_open(&l, obj, len)) {
		tb_http_fail(resp, TB_ESTORE, NULL);
		return;
	}
	struct tb_json *o = tb_vocab_listing(h->host.store, &l, -1);
	if (!o) {
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	tb_http_json(resp, status, o);
}

static void add(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char member[TB_NAME_MAX * 4 + 1] = "", kind[16] = "", title[TB_TEXT_IN_MAX + 1] = "";
	char desc[TB_TEXT_IN_MAX + 1] = "", cat[TB_CATEGORY_MAX * 4 + 1] = "", vis[16] = "";
	char pass[TB_SECRET_MAX + 1] = "", msg[TB_JSON_MSG_MAX];
	int64_t days = TB_LISTING_DAYS_DEFAULT;
	bool attest = false;
	const struct tb_jfield f[] = {
		{"member", TB_JT_STR, true, 1, TB_NAME_MAX * 4, member, NULL},
		{"kind", TB_JT_STR, true, 5, 7, kind, NULL},
		{"title", TB_JT_STR, true, 1, TB_TEXT_IN_MAX, title, NULL},
		{"description", TB_JT_STR, false, 0, TB_TEXT_IN_MAX, desc, NULL},
		{"category", TB_JT_STR, false, 0, TB_CATEGORY_MAX * 4, cat, NULL},
		{"days", TB_JT_INT, false, INT32_MIN, INT32_MAX, &days, NULL},
		{"visibility", TB_JT_STR, false, 9, 10, vis, NULL},
		{"attest", TB_JT_BOOL, false, 0, 0, &attest, NULL},
		{"passphrase", TB_JT_STR, false, 0, TB_SECRET_MAX, pass, NULL},
	};
	if (tb_json_decode(req->body, req->body_len, f, sizeof f / sizeof f[0], msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		goto out;
	}
	bool offer = !strcmp(kind, "offer"), fed = !strcmp(vis, "federation");
	if ((!offer && strcmp(kind, "request")) || (vis[0] && !fed && strcmp(vis, "community"))) {
		tb_http_error(resp, 400, "EINVAL",
			      "'kind' must be offer or request, 'visibility' community or "
			      "federation");
		goto out;
	}
	if (days < TB_LISTING_DAYS_MIN || days > TB_LISTING_DAYS_MAX) {
		tb_http_error(resp, 400, "EEXPIRY", "a listing lasts %d to %d days, not %lld",
			      TB_LISTING_DAYS_MIN, TB_LISTING_DAYS_MAX, (long long)days);
		goto out;
	}
	struct tb_op_listing in = {
		member,
		offer ? TB_LISTING_OFFER : TB_LISTING_REQUEST,
		title,
		desc,
		cat,
		(unsigned)days,
		fed ? TB_LISTING_FEDERATION : TB_LISTING_COMMUNITY,
		attest,
		{pass, strlen(pass)},
	};
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	uint8_t id[TB_LISTING_ID_LEN];
	int err = tb_op_listing_add(&o, &in, tb_listing_now(), id, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	changed(h);
	tb_api_listing_answer(h, resp, 201, id);
out:
	tb_wipe(pass, sizeof pass);
}

/* The path's listing id, its i-th '*' segment. */
bool tb_api_listing_id(struct tb_http_req *req, struct tb_http_resp *resp, size_t i,
		       uint8_t id[TB_LISTING_ID_LEN])
{
	if (strlen(req->params[i]) == 2 * TB_LISTING_ID_LEN &&
	    !tb_hex_decode(id, TB_LISTING_ID_LEN, req->params[i]))
		return true;
	tb_http_error(resp, 404, "ENOTFOUND", "'%.40s' is not a listing id (32 hex digits)",
		      req->params[i]);
	return false;
}

static bool id_param(struct tb_http_req *req, struct tb_http_resp *resp,
		     uint8_t id[TB_LISTING_ID_LEN])
{
	return tb_api_listing_id(req, resp, 0, id);
}

static void change(struct tb_http_req *req, struct tb_http_resp *resp, struct tb_http *h,
		   bool withdraw)
{
	char pass[TB_SECRET_MAX + 1] = "", msg[TB_JSON_MSG_MAX];
	int64_t days = TB_LISTING_DAYS_DEFAULT;
	bool attest = false;
	uint8_t id[TB_LISTING_ID_LEN];
	const struct tb_jfield f[] = {
		{"days", TB_JT_INT, false, INT32_MIN, INT32_MAX, &days, NULL},
		{"attest", TB_JT_BOOL, false, 0, 0, &attest, NULL},
		{"passphrase", TB_JT_STR, false, 0, TB_SECRET_MAX, pass, NULL},
	};
	if (!id_param(req, resp, id))
		return;
	if (req->body_len && tb_json_decode(req->body, req->body_len, f, 3, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		goto out;
	}
	if (days < TB_LISTING_DAYS_MIN || days > TB_LISTING_DAYS_MAX) {
		tb_http_error(resp, 400, "EEXPIRY", "a listing lasts %d to %d days, not %lld",
			      TB_LISTING_DAYS_MIN, TB_LISTING_DAYS_MAX, (long long)days);
		goto out;
	}
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	uint64_t version;
	int err = tb_op_listing_change(&o, id, withdraw, (unsigned)days, attest,
				       (struct tb_op_pass){pass, strlen(pass)}, tb_listing_now(),
				       &version, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		goto out;
	}
	changed(h);
	tb_api_listing_answer(h, resp, 200, id);
out:
	tb_wipe(pass, sizeof pass);
}

static void withdraw(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	change(req, resp, ctx, true);
}

static void renew(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	change(req, resp, ctx, false);
}

/* POST /api/v1/listings/COMMUNITY/ID/hide|show: a listing's id is unique
 * only within its community (another community may publish the same id),
 * so the path names both. */
static void hide_or_show(struct tb_http_req *req, struct tb_http_resp *resp, struct tb_http *h,
			 bool hide)
{
	uint8_t id[TB_LISTING_ID_LEN];
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_community c;
	int err = tb_op_community(&o, req->params[0], &c, &rej);
	if (err) {
		tb_http_fail(resp, err, &rej);
		return;
	}
	if (!tb_api_listing_id(req, resp, 1, id))
		return;
	err = tb_store_listing_hide(h->host.store, c.id, id, hide);
	if (err == TB_ENOTFOUND) {
		tb_http_error(resp, 404, "ENOTFOUND", "no listing %s of %s is held here",
			      req->params[1], c.name);
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, c.id, TB_KEY_LEN);
	struct tb_json *r = tb_json_object();
	tb_json_set(r, "community", tb_json_string(hex));
	tb_json_set(r, "id", tb_json_string(req->params[1]));
	tb_json_set(r, "hidden", tb_json_bool(hide));
	tb_http_json(resp, 200, r);
}

static void hide(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	hide_or_show(req, resp, ctx, true);
}

static void show(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	hide_or_show(req, resp, ctx, false);
}

/* The first form, by id alone, could hide another community's listing of
 * the same id: it says what to send instead. */
static void hide_by_id(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)ctx;
	size_t pl = strlen(req->path);
	bool show = pl >= 5 && !strcmp(req->path + pl - 5, "/show");
	tb_http_error(resp, 400, "EINVAL",
		      "name the listing's community too: POST "
		      "/api/v1/listings/COMMUNITY/%.40s/%s (a listing id is unique only within "
		      "its community)",
		      req->params[0], show ? "show" : "hide");
}

int tb_api_listing_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"GET", "/api/v1/listings", 0, TB_ROLE_VIEWER, list, h},
		{"POST", "/api/v1/listings", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, add, h},
		{"POST", "/api/v1/listings/*/withdraw", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR,
		 withdraw, h},
		{"POST", "/api/v1/listings/*/renew", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, renew, h},
		{"POST", "/api/v1/listings/*/*/hide", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, hide, h},
		{"POST", "/api/v1/listings/*/*/show", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, show, h},
		{"POST", "/api/v1/listings/*/hide", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, hide_by_id,
		 h},
		{"POST", "/api/v1/listings/*/show", TB_ROUTE_WRITE, TB_ROLE_COORDINATOR, hide_by_id,
		 h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
