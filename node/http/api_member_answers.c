/*
 * api_member_answers.c: answers to listings (docs/API.md, "Answers to
 * listings"; FORMAT.md 17). A signed-in member answers a listing shown here
 * ("I answer it", with a short message), signed in their browser like their
 * listings: the node drafts the answer terms, the browser encodes the same
 * bytes, signs them (context tally/answer/v1) and sends the signature with
 * the draft's choices; the node drafts the same answer again and stores it
 * only when the signature is the member's over exactly those terms. An
 * answer to another community's listing is delivered by tallyd to that
 * community's node only. The poster reads the answers to their listings,
 * each with the next step that is theirs (a proposal to the responder, a
 * payment to them, or nothing: the responder proposes or pays). A member
 * answers only as the session's member, never their own listing.
 */
#include "http_int.h"
#include "tb_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A draft's created time stands this long (the member's key file's
 * Argon2id included), as for listings. */
#define DRAFT_S (15 * 60)

static void refused(struct tb_http_resp *resp, int err, const struct tb_reject *rej)
{
	const char *msg = rej->err ? rej->msg : tb_strerror(err);
	if (err == TB_ECONSENT)
		tb_http_error(resp, 400, "EBADSIG", "%s", msg);
	else if (err == TB_EFULL)
		tb_http_error(resp, 409, "EFULL", "%s", msg);
	else if (err == TB_EINVAL)
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
	else
		tb_http_fail(resp, err, rej);
}

static struct tb_json *text_json(struct tb_view v)
{
	return tb_json_stringn(v.len ? (const char *)v.p : "", v.len);
}

/* {"terms", "fields", "context"} of a drafted answer. */
static void answer_draft(struct tb_http_resp *resp, const struct tb_answer *a)
{
	struct tb_answer_terms t;
	uint8_t buf[TB_ANSWER_MAX];
	size_t len;
	tb_answer_terms_of(&t, a);
	int err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_answer_terms, &t);
	struct tb_json *r = err ? NULL : tb_json_object(), *f = r ? tb_json_object() : NULL;
	if (!f) {
		tb_json_free(r);
		tb_http_fail(resp, err ? err : TB_ENOMEM, NULL);
		return;
	}
	tb_json_set(f, "listing_log", tb_json_bytes(t.listing_log, TB_KEY_LEN));
	tb_json_set(f, "listing_id", tb_json_bytes(t.listing_id, TB_LISTING_ID_LEN));
	tb_json_set(f, "from_log", tb_json_bytes(t.from_log, TB_KEY_LEN));
	tb_json_set(f, "member", tb_json_int((int64_t)t.member));
	tb_json_set(f, "name", text_json(t.name));
	tb_json_set(f, "message", text_json(t.message));
	tb_json_set(f, "created", tb_json_int((int64_t)t.created));
	tb_json_set(r, "terms", tb_json_bytes(buf, len));
	tb_json_set(r, "fields", f);
	tb_json_set(r, "context", tb_json_string("tally/answer/v1"));
	tb_http_json(resp, 200, r);
}

/* POST /me/listings/ID/answer[/draft] {community, message[, created,
 * signature]}: the session's member answers a listing. */
static void post_answer(struct tb_http_req *req, struct tb_http_resp *resp, struct tb_http *h,
			bool signed_)
{
	char com[2 * TB_KEY_LEN + 1] = "", message[TB_TEXT_IN_MAX + 1] = "";
	char sigh[2 * TB_SIGLEN + 1] = "", msg[TB_JSON_MSG_MAX], self[16];
	int64_t created = -1;
	uint8_t id[TB_LISTING_ID_LEN], log[TB_KEY_LEN], sig[TB_SIGLEN];
	struct tb_member m;
	const struct tb_jfield f[] = {
		{"community", TB_JT_STR, false, 0, 2 * TB_KEY_LEN, com, NULL},
		{"message", TB_JT_STR, false, 0, TB_TEXT_IN_MAX, message, NULL},
		{"created", TB_JT_INT, signed_, 0, INT64_MAX, &created, NULL},
		{"signature", TB_JT_STR, signed_, 0, 2 * TB_SIGLEN, sigh, NULL},
	};
	if (!tb_api_me(h, req, resp, &m) || !tb_api_listing_id(req, resp, 0, id))
		return;
	if (req->body_len && tb_json_decode(req->body, req->body_len, f,
					    sizeof f / sizeof f[0] - (signed_ ? 0 : 2), msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (signed_ && !req->body_len) {
		tb_http_error(resp, 400, "EINVAL",
			      "the body must carry the draft's choices and the signature");
		return;
	}
	memcpy(log, h->host.self, TB_KEY_LEN);
	if (com[0] && !tb_api_hex_arg(resp, com, log, TB_KEY_LEN, "community"))
		return;
	uint64_t now = tb_listing_now();
	if (signed_) {
		if (!tb_api_hex_arg(resp, sigh, sig, TB_SIGLEN, "signature"))
			return;
		if (created < 0 || (uint64_t)created > now || now - (uint64_t)created > DRAFT_S) {
			tb_http_error(resp, 400, "EEXPIRY",
				      "the draft was made at %lld, now is %llu: a draft is signed "
				      "within %d minutes; draft it again",
				      (long long)created, (unsigned long long)now, DRAFT_S / 60);
			return;
		}
	}
	snprintf(self, sizeof self, "#%u", m.no);
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_answer_draft d;
	int err = tb_op_answer_draft(&o, self, log, id, message, signed_ ? (uint64_t)created : now,
				     &d, &rej);
	if (!err && !signed_) {
		answer_draft(resp, &d.a);
		return;
	}
	if (!err)
		err = tb_op_answer_put(&o, &d, sig, (struct tb_op_pass){NULL, 0}, now, &rej);
	if (err) {
		refused(resp, err, &rej);
		return;
	}
	bool own = !memcmp(log, h->host.self, TB_KEY_LEN);
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	if (own)
		tb_http_notice(h, d.poster);
	struct tb_json *r = tb_json_object();
	if (!r) {
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	tb_json_set(r, "listing", tb_json_bytes(id, TB_LISTING_ID_LEN));
	tb_json_set(r, "community", tb_json_bytes(log, TB_KEY_LEN));
	tb_json_set(r, "message", tb_json_string(d.message));
	tb_json_set(r, "created", tb_json_int((int64_t)d.a.created));
	/* Own community: the poster reads it here now; another: tallyd sends
	 * it to that community's node when connected. */
	tb_json_set(r, "delivery", tb_json_string(own ? "stored" : "sent"));
	tb_http_json(resp, 201, r);
}

static void answer_draft_route(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_answer(req, resp, ctx, false);
}

static void answer_route(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_answer(req, resp, ctx, true);
}

/* ---- the poster's answers ---- */

struct mine {
	uint8_t id[TB_LISTING_ID_LEN];
	int kind;
	char title[TB_LISTING_TITLE_MAX + 1], category[TB_CATEGORY_MAX + 1];
};

struct gather {
	struct tb_http *h;
	struct tb_json *arr;
	struct mine mine[TB_LISTINGS_PER_MEMBER];
	size_t nmine, at;
	char com[TB_NAME_MAX + 1]; /* the own community's name */
	int err;
};

static int listing_cb(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		      uint64_t hidden)
{
	struct gather *g = ctx;
	(void)obj, (void)len, (void)hidden;
	if (l->state != TB_LISTING_LIVE || g->nmine == TB_LISTINGS_PER_MEMBER)
		return 0;
	struct mine *m = &g->mine[g->nmine++];
	memcpy(m->id, l->id, TB_LISTING_ID_LEN);
	m->kind = (int)l->kind;
	snprintf(m->title, sizeof m->title, "%.*s", (int)l->title.len, (const char *)l->title.p);
	snprintf(m->category, sizeof m->category, "%.*s", (int)l->category.len,
		 (const char *)l->category.p);
	return 0;
}

/* The poster's next step for an answer (API.md): an offer answered here is
 * theirs to propose (they provide); a request answered from another
 * community theirs to pay; otherwise the responder proposes or pays. */
static struct tb_json *next_json(struct gather *g, const struct mine *l, const char *name,
				 const char *at, bool own)
{
	char memo[TB_MEMO_MAX + 1], idh[2 * TB_LISTING_ID_LEN + 1];
	struct tb_json *n = tb_json_object();
	if (!n)
		return NULL;
	tb_hex_encode(idh, l->id, TB_LISTING_ID_LEN);
	snprintf(memo, sizeof memo, "Re: %s [listing %s@%s]", l->title, idh, g->com);
	const char *action = own ? (l->kind == TB_LISTING_OFFER ? "propose" : "await")
				 : (l->kind == TB_LISTING_REQUEST ? "pay" : "await");
	tb_json_set(n, "action", tb_json_string(action));
	tb_json_set(n, "to", tb_json_string(own ? name : at));
	tb_json_set(n, "memo", tb_json_string(memo));
	tb_json_set(n, "category", tb_json_string(l->category));
	return n;
}

static int answer_cb(void *ctx, const struct tb_answer *a, const uint8_t *obj, size_t len,
		     uint64_t stamp)
{
	struct gather *g = ctx;
	const struct mine *l = &g->mine[g->at];
	(void)obj, (void)len, (void)stamp;
	char name[TB_NAME_MAX + 1], com[TB_NAME_MAX + 1], at[2 * TB_NAME_MAX + 2];
	struct tb_ops o = tb_api_ops(g->h);
	bool own = !memcmp(a->from_log, g->h->host.self, TB_KEY_LEN);
	snprintf(name, sizeof name, "%.*s", (int)a->name.len, (const char *)a->name.p);
	tb_op_community_name(&o, a->from_log, com, sizeof com);
	snprintf(at, sizeof at, "%s@%s", name, com);
	struct tb_json *j = tb_json_object(), *n = j ? next_json(g, l, name, at, own) : NULL;
	if (!n) {
		tb_json_free(j);
		return g->err = TB_ENOMEM;
	}
	tb_json_set(j, "listing", tb_json_bytes(l->id, TB_LISTING_ID_LEN));
	tb_json_set(j, "title", tb_json_string(l->title));
	tb_json_set(j, "kind", tb_json_string(l->kind == TB_LISTING_OFFER ? "offer" : "request"));
	tb_json_set(j, "from", tb_json_string(own ? name : at));
	tb_json_set(j, "at", tb_json_string(at));
	tb_json_set(j, "member", tb_json_int((int64_t)a->member));
	tb_json_set(j, "community", tb_json_bytes(a->from_log, TB_KEY_LEN));
	tb_json_set(j, "message", text_json(a->message));
	tb_json_set(j, "created", tb_json_int((int64_t)a->created));
	tb_json_set(j, "attested", tb_json_bool(a->attested != 0));
	tb_json_set(j, "next", n);
	if (tb_json_push(g->arr, j))
		return g->err = TB_ENOMEM;
	return 0;
}

/* GET /me/listings/answers[?listing=ID]: the answers to the session
 * member's live listings, by listing then responder. */
static void answers(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	char v[2 * TB_LISTING_ID_LEN + 1];
	uint8_t only[TB_LISTING_ID_LEN];
	if (!tb_api_me(h, req, resp, &m))
		return;
	int ql = tb_http_query_opt(req, resp, "listing", v, sizeof v);
	if (ql < 0 || (ql && !tb_api_hex_arg(resp, v, only, TB_LISTING_ID_LEN, "listing")))
		return;
	struct gather *g = calloc(1, sizeof *g);
	struct tb_json *r = g ? tb_json_object() : NULL;
	if (r)
		g->arr = tb_json_array();
	if (!g || !r || !g->arr) {
		tb_json_free(r);
		free(g);
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	tb_json_set(r, "answers", g->arr);
	g->h = h;
	struct tb_ops o = tb_api_ops(h);
	tb_op_community_name(&o, h->host.self, g->com, sizeof g->com);
	struct tb_listing_query q = {
		.community = h->host.self, .kind = -1, .member = m.no, .now = tb_listing_now()};
	int err = tb_store_listings_search(h->host.store, &q, listing_cb, g);
	for (g->at = 0; err >= 0 && !g->err && g->at < g->nmine; g->at++)
		if (!ql || !memcmp(g->mine[g->at].id, only, TB_LISTING_ID_LEN))
			err = tb_store_answers_of(h->host.store, h->host.self, g->mine[g->at].id,
						  answer_cb, g);
	if (g->err || err < 0) {
		tb_json_free(r);
		tb_http_fail(resp, g->err ? g->err : err, NULL);
	} else {
		tb_http_json(resp, 200, r);
	}
	free(g);
}

int tb_api_member_answer_routes(struct tb_http *h)
{
	const unsigned W = TB_ROUTE_WRITE | TB_ROUTE_MEMBER_ONLY, R = TB_ROUTE_MEMBER_ONLY;
	const struct tb_route r[] = {
		{"GET", "/api/v1/me/listings/answers", R, 0, answers, h},
		{"POST", "/api/v1/me/listings/*/answer/draft", W, 0, answer_draft_route, h},
		{"POST", "/api/v1/me/listings/*/answer", W, 0, answer_route, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
