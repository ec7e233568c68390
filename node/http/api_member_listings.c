/*
 * api_member_listings.c: a signed-in member's offers and requests
 * (docs/API.md, "Members' own listings"; FORMAT.md 16). A member searches
 * every listing the node shows, and posts, renews and withdraws their own,
 * signed in their browser like their proposals (api_member_x.c): the node
 * drafts the version (its id, version, created and expiry, the texts in
 * NFC) and answers the exact listing terms with their fields; the browser
 * encodes the same bytes from them, signs them (context tally/listing/v1)
 * and sends the signature with the draft's choices; the node drafts the
 * same version again and stores it only when the signature is the
 * member's over exactly those terms. A member acts only as the session's
 * member: another member's listing is not theirs to change (404). The
 * response to a listing says how the member answers it through their own
 * node (a proposal or a payment whose memo names the listing); it writes
 * nothing.
 */
#include "http_int.h"
#include "tb_ops.h"

#include <stdio.h>
#include <string.h>

#define LIST_MAX 200
/* A draft's created time stands this long: the member has that long to
 * sign it (their key file's Argon2id included). */
#define DRAFT_S (15 * 60)

/* A refusal of the ops or the store, with the member's signature named. */
static void refused(struct tb_http_resp *resp, int err, const struct tb_reject *rej)
{
	if (err == TB_ECONSENT)
		tb_http_error(resp, 400, "EBADSIG", "%s", rej->err ? rej->msg : tb_strerror(err));
	else if (err == TB_EFULL) /* the listings' caps (FORMAT.md 16.3) */
		tb_http_error(resp, 409, "EFULL", "%s", rej->err ? rej->msg : tb_strerror(err));
	else
		tb_http_fail(resp, err, rej);
}

static void search(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	char text[TB_LISTING_TITLE_MAX * 4 + 1], cat[TB_CATEGORY_MAX * 4 + 1], v[32], mine[8];
	uint8_t log[TB_KEY_LEN];
	struct tb_member m;
	struct tb_listing_query q = {.kind = -1, .now = tb_listing_now()};
	if (!tb_api_me(h, req, resp, &m))
		return;
	int qt = tb_http_query_opt(req, resp, "text", text, sizeof text), qc = 0, qk = 0, qm = 0;
	if (qt < 0 || (qc = tb_http_query_opt(req, resp, "category", cat, sizeof cat)) < 0 ||
	    (qk = tb_http_query_opt(req, resp, "kind", v, sizeof v)) < 0 ||
	    (qm = tb_http_query_opt(req, resp, "mine", mine, sizeof mine)) < 0)
		return;
	q.text = qt && text[0] ? text : NULL;
	q.category = qc && cat[0] ? cat : NULL;
	if (qk && v[0]) {
		if (strcmp(v, "offer") && strcmp(v, "request")) {
			tb_http_error(resp, 400, "EINVAL", "'kind' must be offer or request");
			return;
		}
		q.kind = strcmp(v, "offer") ? TB_LISTING_REQUEST : TB_LISTING_OFFER;
	}
	if (!tb_api_listing_where(h, req, resp, &q, log))
		return;
	if (qm && !strcmp(mine, "1")) {
		memcpy(log, h->host.self, TB_KEY_LEN);
		q.community = log;
		q.member = m.no;
	}
	int err;
	struct tb_json *o = tb_vocab_listings(h->host.store, &q, LIST_MAX, &err);
	if (!o) {
		tb_http_fail(resp, err ? err : TB_ENOMEM, NULL);
		return;
	}
	tb_http_json(resp, 200, o);
}

static struct tb_json *text_json(struct tb_view v)
{
	return tb_json_stringn(v.len ? (const char *)v.p : "", v.len);
}

/* {"terms", "fields", "context"} of a drafted version. */
static void answer_draft(struct tb_http_resp *resp, const struct tb_listing *l)
{
	struct tb_listing_terms t;
	uint8_t buf[TB_LISTING_MAX];
	size_t len;
	tb_listing_terms_of(&t, l);
	int err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_listing_terms, &t);
	struct tb_json *r = err ? NULL : tb_json_object(), *f = r ? tb_json_object() : NULL;
	if (!f) {
		tb_json_free(r);
		tb_http_fail(resp, err ? err : TB_ENOMEM, NULL);
		return;
	}
	tb_json_set(f, "log_id", tb_json_bytes(t.log_id, TB_KEY_LEN));
	tb_json_set(f, "id", tb_json_bytes(t.id, TB_LISTING_ID_LEN));
	tb_json_set(f, "version", tb_json_int((int64_t)t.version));
	tb_json_set(f, "member", tb_json_int((int64_t)t.member));
	tb_json_set(f, "kind", tb_json_int((int64_t)t.kind));
	tb_json_set(f, "title", text_json(t.title));
	tb_json_set(f, "description", text_json(t.description));
	tb_json_set(f, "category", text_json(t.category));
	tb_json_set(f, "visibility", tb_json_int((int64_t)t.visibility));
	tb_json_set(f, "created", tb_json_int((int64_t)t.created));
	tb_json_set(f, "expires", tb_json_int((int64_t)t.expires));
	tb_json_set(f, "state", tb_json_int((int64_t)t.state));
	tb_json_set(r, "terms", tb_json_bytes(buf, len));
	tb_json_set(r, "fields", f);
	tb_json_set(r, "context", tb_json_string("tally/listing/v1"));
	tb_http_json(resp, 200, r);
}

/* The draft's created time of a signed request: the node's clock within
 * DRAFT_S after it. */
static bool created_ok(struct tb_http_resp *resp, int64_t created, uint64_t now)
{
	if (created >= 0 && (uint64_t)created <= now && now - (uint64_t)created <= DRAFT_S)
		return true;
	tb_http_error(resp, 400, "EEXPIRY",
		      "the draft was made at %lld, now is %llu: a draft is signed within %d "
		      "minutes; draft it again",
		      (long long)created, (unsigned long long)now, DRAFT_S / 60);
	return false;
}

static void days_error(struct tb_http_resp *resp, int64_t days)
{
	tb_http_error(resp, 400, "EEXPIRY", "a listing lasts %d to %d days, not %lld",
		      TB_LISTING_DAYS_MIN, TB_LISTING_DAYS_MAX, (long long)days);
}

/* POST /me/listings[/draft]: a new listing by the session's member. */
static void post_new(struct tb_http_req *req, struct tb_http_resp *resp, struct tb_http *h,
		     bool signed_)
{
	char kind[16] = "", title[TB_TEXT_IN_MAX + 1] = "", desc[TB_TEXT_IN_MAX + 1] = "";
	char cat[TB_CATEGORY_MAX * 4 + 1] = "", vis[16] = "", idh[2 * TB_LISTING_ID_LEN + 1] = "";
	char sigh[2 * TB_SIGLEN + 1] = "", msg[TB_JSON_MSG_MAX], self[16];
	int64_t days = TB_LISTING_DAYS_DEFAULT, created = -1;
	uint8_t id[TB_LISTING_ID_LEN], sig[TB_SIGLEN];
	struct tb_member m;
	const struct tb_jfield f[] = {
		{"kind", TB_JT_STR, true, 5, 7, kind, NULL},
		{"title", TB_JT_STR, true, 1, TB_TEXT_IN_MAX, title, NULL},
		{"description", TB_JT_STR, false, 0, TB_TEXT_IN_MAX, desc, NULL},
		{"category", TB_JT_STR, false, 0, TB_CATEGORY_MAX * 4, cat, NULL},
		{"days", TB_JT_INT, false, INT32_MIN, INT32_MAX, &days, NULL},
		{"visibility", TB_JT_STR, false, 9, 10, vis, NULL},
		{"id", TB_JT_STR, signed_, 0, 2 * TB_LISTING_ID_LEN, idh, NULL},
		{"created", TB_JT_INT, signed_, 0, INT64_MAX, &created, NULL},
		{"signature", TB_JT_STR, signed_, 0, 2 * TB_SIGLEN, sigh, NULL},
	};
	if (!tb_api_me(h, req, resp, &m))
		return;
	if (tb_json_decode(req->body, req->body_len, f, sizeof f / sizeof f[0] - (signed_ ? 0 : 3),
			   msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	bool offer = !strcmp(kind, "offer"), fed = !strcmp(vis, "federation");
	if ((!offer && strcmp(kind, "request")) || (vis[0] && !fed && strcmp(vis, "community"))) {
		tb_http_error(resp, 400, "EINVAL",
			      "'kind' must be offer or request, 'visibility' community or "
			      "federation");
		return;
	}
	if (days < TB_LISTING_DAYS_MIN || days > TB_LISTING_DAYS_MAX) {
		days_error(resp, days);
		return;
	}
	uint64_t now = tb_listing_now();
	if (signed_ && (!tb_api_hex_arg(resp, idh, id, TB_LISTING_ID_LEN, "id") ||
			!tb_api_hex_arg(resp, sigh, sig, TB_SIGLEN, "signature") ||
			!created_ok(resp, created, now)))
		return;
	snprintf(self, sizeof self, "#%u", m.no);
	struct tb_op_listing in = {
		self,
		offer ? TB_LISTING_OFFER : TB_LISTING_REQUEST,
		title,
		desc,
		cat,
		(unsigned)days,
		fed ? TB_LISTING_FEDERATION : TB_LISTING_COMMUNITY,
		false,
		{NULL, 0},
	};
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_listing_draft d;
	int err = tb_op_listing_draft_new(&o, &in, signed_ ? (uint64_t)created : now,
					  signed_ ? id : NULL, &d, &rej);
	if (!err && !signed_) {
		answer_draft(resp, &d.l);
		return;
	}
	/* A new id only: a held one changes by renew or withdraw. */
	uint8_t held[TB_LISTING_MAX];
	size_t len;
	if (!err && tb_store_listing_get(h->host.store, h->host.self, id, held, &len) == 0)
		err = tb_op_refuse(&rej, TB_EEXISTS,
				   "a listing with this id is held already: draft a new one");
	if (!err)
		err = tb_op_listing_put_signed(&o, &d, sig, now, &rej);
	if (err) {
		refused(resp, err, &rej);
		return;
	}
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	tb_api_listing_answer(h, resp, 201, id);
}

static void new_draft(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_new(req, resp, ctx, false);
}

static void new_signed(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_new(req, resp, ctx, true);
}

/* POST /me/listings/ID/{renew,withdraw}[/draft]: a new version of one of
 * the session member's own listings. */
static void post_change(struct tb_http_req *req, struct tb_http_resp *resp, struct tb_http *h,
			bool withdraw, bool signed_)
{
	char sigh[2 * TB_SIGLEN + 1] = "", msg[TB_JSON_MSG_MAX];
	int64_t days = TB_LISTING_DAYS_DEFAULT, created = -1, version = 0;
	uint8_t id[TB_LISTING_ID_LEN], sig[TB_SIGLEN];
	struct tb_member m;
	const struct tb_jfield f[] = {
		{"days", TB_JT_INT, false, INT32_MIN, INT32_MAX, &days, NULL},
		{"created", TB_JT_INT, signed_, 0, INT64_MAX, &created, NULL},
		{"version", TB_JT_INT, signed_, 1, TB_LISTING_VERSION_MAX, &version, NULL},
		{"signature", TB_JT_STR, signed_, 0, 2 * TB_SIGLEN, sigh, NULL},
	};
	if (!tb_api_me(h, req, resp, &m) || !tb_api_listing_id(req, resp, 0, id))
		return;
	if (req->body_len && tb_json_decode(req->body, req->body_len, f,
					    sizeof f / sizeof f[0] - (signed_ ? 0 : 3), msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (signed_ && !req->body_len) {
		tb_http_error(resp, 400, "EINVAL",
			      "the body must carry the draft's choices and the "
			      "signature");
		return;
	}
	if (!withdraw && (days < TB_LISTING_DAYS_MIN || days > TB_LISTING_DAYS_MAX)) {
		days_error(resp, days);
		return;
	}
	uint64_t now = tb_listing_now();
	if (signed_ && (!tb_api_hex_arg(resp, sigh, sig, TB_SIGLEN, "signature") ||
			!created_ok(resp, created, now)))
		return;
	struct tb_ops o = tb_api_ops(h);
	struct tb_reject rej = {0};
	struct tb_op_listing_draft d;
	int err = tb_op_listing_draft_change(&o, id, withdraw, (unsigned)days,
					     signed_ ? (uint64_t)created : now, &d, &rej);
	if (!err && d.l.member != m.no)
		err = tb_op_refuse(&rej, TB_ENOTFOUND, "no live listing of yours has that id");
	if (!err && !signed_) {
		answer_draft(resp, &d.l);
		return;
	}
	if (!err && d.l.version != (uint64_t)version)
		err = tb_op_refuse(&rej, TB_ECONFLICT,
				   "the listing changed since the draft (now version %llu): draft "
				   "it again",
				   (unsigned long long)d.l.version - 1);
	if (!err)
		err = tb_op_listing_put_signed(&o, &d, sig, now, &rej);
	if (err) {
		refused(resp, err, &rej);
		return;
	}
	if (h->host.changed)
		h->host.changed(h->host.ctx);
	tb_api_listing_answer(h, resp, 200, id);
}

static void renew_draft(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_change(req, resp, ctx, false, false);
}

static void renew(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_change(req, resp, ctx, false, true);
}

static void withdraw_draft(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_change(req, resp, ctx, true, false);
}

static void withdraw(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	post_change(req, resp, ctx, true, true);
}

struct found {
	const uint8_t *id;
	struct tb_json *listing;
	uint8_t log[TB_KEY_LEN];
	uint32_t member;
	int kind;
	char title[TB_LISTING_TITLE_MAX + 1], category[TB_CATEGORY_MAX + 1];
};

static int found_cb(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		    uint64_t hidden)
{
	struct found *f = ctx;
	(void)obj;
	(void)len;
	(void)hidden;
	if (memcmp(l->id, f->id, TB_LISTING_ID_LEN))
		return 0;
	memcpy(f->log, l->log_id, TB_KEY_LEN);
	f->member = (uint32_t)l->member;
	f->kind = (int)l->kind;
	snprintf(f->title, sizeof f->title, "%.*s", (int)l->title.len, (const char *)l->title.p);
	snprintf(f->category, sizeof f->category, "%.*s", (int)l->category.len,
		 (const char *)l->category.p);
	return 1;
}

/*
 * GET /me/listings/ID/response[?community=]: how the member answers a
 * listing shown here, through their own node. Own community: a request is
 * answered by proposing the exchange (the member helps: the provider
 * proposes); an offer by its poster proposing (the member confirms it
 * under pending). Another community: an offer is answered by paying the
 * poster (name@community) through the member's node; a request by the
 * poster paying the member (their address is member@community). The memo
 * names the listing (API.md gives its form), so the proposal or payment
 * signed with it references the listing.
 */
static void response(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_member m;
	uint8_t id[TB_LISTING_ID_LEN], log[TB_KEY_LEN];
	struct tb_listing_query q = {.kind = -1, .now = tb_listing_now()};
	if (!tb_api_me(h, req, resp, &m) || !tb_api_listing_id(req, resp, 0, id))
		return;
	char v[2 * TB_KEY_LEN + 1];
	int qc = tb_http_query_opt(req, resp, "community", v, sizeof v);
	if (qc < 0)
		return;
	if (qc) {
		if (!tb_api_hex_arg(resp, v, log, TB_KEY_LEN, "community"))
			return;
		q.community = log;
	}
	struct found f = {.id = id};
	int err = tb_store_listings_search(h->host.store, &q, found_cb, &f);
	if (err < 0) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	if (!err) {
		tb_http_error(resp, 404, "ENOTFOUND", "no live listing with that id is shown here");
		return;
	}
	bool own = !memcmp(f.log, h->host.self, TB_KEY_LEN);
	if (own && f.member == m.no) {
		tb_http_error(resp, 400, "EINVAL", "this listing is your own");
		return;
	}
	char com[TB_NAME_MAX + 1], mine[TB_NAME_MAX + 1];
	struct tb_ops o = tb_api_ops(h);
	tb_op_community_name(&o, f.log, com, sizeof com);
	tb_op_community_name(&o, h->host.self, mine, sizeof mine);
	struct tb_member poster;
	char who[TB_NAME_MAX + 1], to[2 * TB_NAME_MAX + 2], memo[TB_MEMO_MAX + 1], idh[33];
	if (tb_store_member(h->host.store, f.log, f.member, &poster) == 0)
		snprintf(who, sizeof who, "%s", poster.name);
	else
		snprintf(who, sizeof who, "#%u", f.member);
	snprintf(to, sizeof to, "%s@%s", who, com);
	tb_hex_encode(idh, id, TB_LISTING_ID_LEN);
	snprintf(memo, sizeof memo, "Re: %s [listing %s@%s]", f.title, idh, com);
	const char *action = own ? (f.kind == TB_LISTING_REQUEST ? "propose" : "await")
				 : (f.kind == TB_LISTING_OFFER ? "pay" : "await");
	struct tb_json *r = tb_json_object();
	if (!r) {
		tb_http_fail(resp, TB_ENOMEM, NULL);
		return;
	}
	char you[2 * TB_NAME_MAX + 2];
	snprintf(you, sizeof you, "%s@%s", m.name, mine);
	tb_json_set(r, "action", tb_json_string(action));
	tb_json_set(r, "to", tb_json_string(own ? who : to));
	tb_json_set(r, "at", tb_json_string(to));
	tb_json_set(r, "you", tb_json_string(you));
	tb_json_set(r, "memo", tb_json_string(memo));
	tb_json_set(r, "category", tb_json_string(f.category));
	tb_json_set(r, "community", tb_json_bytes(f.log, TB_KEY_LEN));
	tb_json_set(r, "id", tb_json_bytes(id, TB_LISTING_ID_LEN));
	tb_http_json(resp, 200, r);
}

int tb_api_member_listing_routes(struct tb_http *h)
{
	const unsigned W = TB_ROUTE_WRITE | TB_ROUTE_MEMBER_ONLY, R = TB_ROUTE_MEMBER_ONLY;
	const struct tb_route r[] = {
		{"GET", "/api/v1/me/listings", R, 0, search, h},
		{"POST", "/api/v1/me/listings/draft", W, 0, new_draft, h},
		{"POST", "/api/v1/me/listings", W, 0, new_signed, h},
		{"POST", "/api/v1/me/listings/*/renew/draft", W, 0, renew_draft, h},
		{"POST", "/api/v1/me/listings/*/renew", W, 0, renew, h},
		{"POST", "/api/v1/me/listings/*/withdraw/draft", W, 0, withdraw_draft, h},
		{"POST", "/api/v1/me/listings/*/withdraw", W, 0, withdraw, h},
		{"GET", "/api/v1/me/listings/*/response", R, 0, response, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
