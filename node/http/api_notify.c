/*
 * api_notify.c: a member's notices (docs/API.md, "Notices"): what waits for
 * them (tb_notices.h), how many they have not seen, marking them seen, and
 * their email digest choice (none, daily or weekly, and the address), kept
 * at this node only. Every route acts as the session's member; an admin
 * can ask the node to send the digests due now.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_notices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const digest_names[] = {"none", "daily", "weekly"};

static struct tb_json *one_key(const char *key, struct tb_json *v)
{
	struct tb_json *o = tb_json_object();
	tb_json_set(o, key, v);
	return o;
}

/* The session's member's settings, else answered. */
static bool prefs_of(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
		     struct tb_notice_prefs *p)
{
	int err = tb_store_notice_prefs(h->host.store, tb_http_member(req), p);
	if (err)
		tb_http_fail(resp, err, NULL);
	return !err;
}

static struct tb_json *notice_json(const struct tb_notice *nt, uint64_t seen)
{
	struct tb_json *o = tb_json_object();
	/* An answer and an expiry name a listing (its id and title); a proposal
	 * may name one of the member's listings its memo refers to. */
	bool listing = nt->kind == TB_NOTICE_EXPIRING || nt->kind == TB_NOTICE_ANSWER;
	tb_json_set(o, "kind", tb_json_string(tb_notice_kind_name(nt->kind)));
	tb_json_set(o, "time", tb_json_time(nt->time));
	tb_json_set(o, "new", tb_json_bool(nt->time > seen));
	tb_json_set(o, listing ? "listing" : "txid", tb_json_bytes(nt->id, TB_TXID_LEN));
	tb_json_set(o, "who", nt->who[0] ? tb_json_string(nt->who) : tb_json_null());
	tb_json_set(o, "minutes", nt->minutes ? tb_json_int((int64_t)nt->minutes) : tb_json_null());
	tb_json_set(o, nt->kind == TB_NOTICE_REFUSED ? "reason" : "title",
		    nt->text[0] ? tb_json_string(nt->text) : tb_json_null());
	tb_json_set(o, "until", nt->until ? tb_json_time(nt->until) : tb_json_null());
	return o;
}

static void notices(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_notice_prefs p;
	struct tb_notices *ns = malloc(sizeof *ns);
	if (!ns) {
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	int err = 0;
	if (prefs_of(h, req, resp, &p))
		err = tb_notices_collect(h->host.store, h->host.self, tb_http_member(req),
					 (uint64_t)time(NULL), ns);
	if (resp->status >= 400 || err) {
		if (err)
			tb_http_fail(resp, err, NULL);
		free(ns);
		return;
	}
	struct tb_json *arr = tb_json_array();
	int64_t unseen = 0;
	for (size_t i = 0; i < ns->n; i++) {
		unseen += ns->v[i].time > p.seen;
		tb_json_push(arr, notice_json(&ns->v[i], p.seen));
	}
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "notices", arr);
	tb_json_set(o, "unseen", tb_json_int(unseen));
	tb_json_set(o, "left_out", tb_json_int((int64_t)ns->dropped));
	tb_json_set(o, "seen_until", p.seen ? tb_json_time(p.seen) : tb_json_null());
	free(ns);
	tb_http_json(resp, 200, o);
}

static void seen(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_notice_prefs p;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_empty(req->body, req->body_len, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!prefs_of(h, req, resp, &p))
		return;
	p.seen = (uint64_t)time(NULL);
	int err = tb_store_notice_prefs_put(h->host.store, tb_http_member(req), &p);
	if (err == TB_EFULL)
		tb_http_error(resp, 409, "EFULL",
			      "this node keeps the settings of at most %d "
			      "members",
			      TB_NOTICE_PREFS_MAX);
	else if (err)
		tb_http_fail(resp, err, NULL);
	else
		tb_http_json(resp, 200, one_key("seen_until", tb_json_time(p.seen)));
}

static struct tb_json *digest_json(struct tb_http *h, const struct tb_notice_prefs *p)
{
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "digest", tb_json_string(digest_names[p->digest]));
	tb_json_set(o, "email", p->email[0] ? tb_json_string(p->email) : tb_json_null());
	tb_json_set(o, "last_sent", p->sent ? tb_json_time(p->sent) : tb_json_null());
	/* Whether the operator set a way to send mail. */
	tb_json_set(o, "available", tb_json_bool(h->host.digest_run != NULL));
	return o;
}

static void digest_get(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_notice_prefs p;
	if (prefs_of(h, req, resp, &p))
		tb_http_json(resp, 200, digest_json(h, &p));
}

static void digest_set(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_digest b;
	struct tb_notice_prefs p;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_digest(req->body, req->body_len, &b, msg) ||
	    (b.email[0] && tb_email_check(b.email, msg, sizeof msg))) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!prefs_of(h, req, resp, &p))
		return;
	for (uint8_t i = 0; i < 3; i++)
		if (!strcmp(b.digest, digest_names[i]))
			p.digest = i;
	snprintf(p.email, sizeof p.email, "%s", b.email);
	/* Only what is new from now on goes into the first digest. */
	if (!p.sent)
		p.sent = (uint64_t)time(NULL);
	int err = tb_store_notice_prefs_put(h->host.store, tb_http_member(req), &p);
	if (err == TB_EFULL)
		tb_http_error(resp, 409, "EFULL",
			      "this node keeps the settings of at most %d "
			      "members",
			      TB_NOTICE_PREFS_MAX);
	else if (err)
		tb_http_fail(resp, err, NULL);
	else
		tb_http_json(resp, 200, digest_json(h, &p));
}

static void digests_send(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char msg[TB_JSON_MSG_MAX];
	size_t queued = 0;
	if (tb_body_empty(req->body, req->body_len, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (!h->host.digest_run) {
		tb_http_error(resp, 409, "EOFF",
			      "email digests are off: the operator set no "
			      "'sendmail' command");
		return;
	}
	int err = h->host.digest_run(h->host.ctx, &queued);
	if (err == TB_EFULL)
		tb_http_error(resp, 409, "EFULL", "digests are being sent; ask again when done");
	else if (err)
		tb_http_fail(resp, err, NULL);
	else
		tb_http_json(resp, 202, one_key("queued", tb_json_int((int64_t)queued)));
}

int tb_api_notify_routes(struct tb_http *h)
{
	const unsigned W = TB_ROUTE_WRITE | TB_ROUTE_MEMBER_ONLY, R = TB_ROUTE_MEMBER_ONLY;
	const struct tb_route r[] = {
		{"GET", "/api/v1/me/notices", R, 0, notices, h},
		{"POST", "/api/v1/me/notices/seen", W, 0, seen, h},
		{"GET", "/api/v1/me/digest", R, 0, digest_get, h},
		{"POST", "/api/v1/me/digest", W, 0, digest_set, h},
		{"POST", "/api/v1/digests/send", TB_ROUTE_WRITE, TB_ROLE_ADMIN, digests_send, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
