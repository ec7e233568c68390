/*
 * router.c: from a request to a handler. Finds the route (method and path
 * pattern), answers 404/405 itself, and before any handler runs checks what
 * every route declares: a live session unless the route is public, the
 * least role (members' sessions only where the route lets them), and on a
 * state-changing request the session's CSRF token in
 * the X-CSRF-Token header. Every state-changing request is logged with the
 * coordinator's name and the status. Paths outside /api/ are the console's
 * static files (static.c).
 */
#include "http_int.h"
#include "tb_node.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Matches a path against a pattern, decoding the '*' segments. */
static int match(const char *pattern, const char *path, struct tb_http_req *req)
{
	size_t np = 0;
	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++, path++;
		size_t pl = strcspn(pattern, "/"), sl = strcspn(path, "/");
		if (pl == 1 && *pattern == '*') {
			if (!sl || np == TB_HTTP_PARAMS_MAX ||
			    tb_http_unescape(path, sl, req->params[np], TB_HTTP_PARAM_MAX + 1))
				return 0;
			np++;
		} else if (pl != sl || memcmp(pattern, path, pl)) {
			return 0;
		}
		pattern += pl, path += sl;
	}
	if (*pattern || *path)
		return 0;
	req->nparams = np;
	return 1;
}

/* The session's principal still holds: a coordinator not removed and with
 * the password they logged in with (their role as it is now), a member
 * still active with the key they signed in with. 0, TB_ENOTFOUND (the
 * session must end) or a storage error. */
static int recheck(struct tb_http *h, struct tb_session *s)
{
	if (s->who.member) {
		struct tb_member m;
		int err = tb_store_member(h->host.store, h->host.self, s->who.member, &m);
		if (err)
			return err;
		if (!m.active || memcmp(m.key, s->who.member_key, TB_KEY_LEN))
			return TB_ENOTFOUND;
		snprintf(s->who.name, sizeof s->who.name, "%s", m.name);
		return 0;
	}
	struct tb_coord co;
	uint8_t tag[TB_HASHLEN];
	int err = tb_store_coord_get(h->host.store, s->who.name, &co);
	if (err)
		return err;
	tb_sha256(tag, co.pwhash, sizeof co.pwhash);
	tb_wipe(co.pwhash, sizeof co.pwhash);
	if (memcmp(tag, s->who.pw_tag, TB_HASHLEN))
		return TB_ENOTFOUND; /* a new password: log in again */
	s->who.role = co.role;
	return 0;
}

/* The role check, and who may use the route: members' sessions only where
 * the route says so, coordinators' not on members-only routes. */
static bool allowed(const struct tb_route *rt, const struct tb_session *s,
		    struct tb_http_resp *resp)
{
	if (s->who.member) {
		if (rt->flags & (TB_ROUTE_MEMBER | TB_ROUTE_MEMBER_ONLY))
			return true;
		tb_http_error(resp, 403, "EDENIED",
			      "%s is signed in as a member; this is for coordinators", s->who.name);
		return false;
	}
	if (rt->flags & TB_ROUTE_MEMBER_ONLY) {
		tb_http_error(resp, 403, "EDENIED",
			      "this is for members signed in with their own key, not coordinators");
		return false;
	}
	if (s->who.role < rt->role) {
		tb_http_error(resp, 403, "EDENIED", "%s has the role %s; this needs the role %s",
			      s->who.name, tb_role_name(s->who.role), tb_role_name(rt->role));
		return false;
	}
	return true;
}

static bool authorize(struct tb_http *h, const struct tb_route *rt, struct tb_http_req *req,
		      struct tb_http_resp *resp)
{
	const char *token = tb_http_cookie(req, "tally_session");
	struct tb_session *s = token ? tb_session_find(h, token) : NULL;
	if (s) {
		int err = recheck(h, s);
		if (err == TB_ENOTFOUND) {
			tb_session_end(s);
			s = NULL;
		} else if (err) {
			tb_http_fail(resp, err, NULL);
			return false;
		}
	}
	req->session = s;
	if (s)
		req->who = s->who;
	if (rt->flags & TB_ROUTE_PUBLIC)
		return true;
	if (!s) {
		tb_http_error(resp, 401, "EAUTH", "%s",
			      token ? "the session has expired: log in again"
				    : "not logged in: POST /api/v1/session first");
		return false;
	}
	if (!allowed(rt, s, resp))
		return false;
	if (rt->flags & TB_ROUTE_WRITE) {
		const char *csrf = tb_http_header(req, "X-CSRF-Token");
		if (!csrf || strlen(csrf) != 64 || tb_memcmp_ct(csrf, s->csrf, 64)) {
			tb_http_error(
				resp, 403, "ECSRF",
				"missing or wrong X-CSRF-Token header (it comes with the session)");
			return false;
		}
	}
	return true;
}

uint32_t tb_http_member(const struct tb_http_req *req)
{
	return req->session ? req->session->who.member : 0;
}

static void not_found(struct tb_http_req *req, struct tb_http_resp *resp)
{
	char shown[80];
	snprintf(shown, sizeof shown, "%.60s", req->path);
	for (char *c = shown; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	tb_http_error(resp, 404, "ENOTFOUND", "no such resource: %s", shown);
}

/* A route outside /api/ (the node's /healthz and /metrics) for this path. */
static bool routed_outside_api(struct tb_http *h, struct tb_http_req *req)
{
	for (size_t i = 0; i < h->nroutes; i++)
		if (strncmp(h->routes[i].pattern, "/api/", 5) &&
		    match(h->routes[i].pattern, req->path, req))
			return true;
	return false;
}

static void dispatch(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	resp->fd = -1;
	if (strncmp(req->path, "/api/", 5) && !routed_outside_api(h, req)) {
		tb_http_static(h, req, resp);
		return;
	}
	const struct tb_route *rt = NULL;
	char allow[32] = "";
	for (size_t i = 0; i < h->nroutes && !rt; i++) {
		if (!match(h->routes[i].pattern, req->path, req))
			continue;
		if (!strcmp(h->routes[i].method, req->method) ||
		    (!strcmp(req->method, "HEAD") && !strcmp(h->routes[i].method, "GET")))
			rt = &h->routes[i];
		else if (strlen(allow) + strlen(h->routes[i].method) + 3 < sizeof allow)
			snprintf(allow + strlen(allow), sizeof allow - strlen(allow), "%s%s",
				 allow[0] ? ", " : "", h->routes[i].method);
	}
	if (!rt && allow[0]) {
		tb_http_error(resp, 405, "EMETHOD", "%s is not allowed here (allowed: %s)",
			      req->method, allow);
		snprintf(resp->allow, sizeof resp->allow, "%s", allow);
		return;
	}
	if (!rt) {
		not_found(req, resp);
		return;
	}
	if (authorize(h, rt, req, resp))
		rt->fn(req, resp, rt->ctx);
	/* State changes are logged, refused ones too. */
	if (rt->flags & TB_ROUTE_WRITE)
		tb_http_log(h, 2, "http: %s %s %s from %s: %d",
			    req->who.name[0] ? req->who.name : "-", req->method, req->path,
			    req->client, resp->status);
}

void tb_http_dispatch(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	dispatch(h, req, resp);
	int cls = resp->status / 100;
	h->requests[cls >= 1 && cls <= 5 ? cls : 0]++;
}
