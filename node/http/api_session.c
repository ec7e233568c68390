/*
 * api_session.c: logging in and out (POST, GET and DELETE /api/v1/session).
 * A login checks the name and password against the coordinators' table
 * (Argon2id), slowed per name and per client address after failures, and
 * sets an HttpOnly, SameSite=Strict cookie holding a random token; the
 * answer carries the CSRF token state-changing requests must send back. It
 * refuses to set a cookie over plain HTTP to a client not on this machine
 * unless tallyd runs with --http-insecure. It never logs a password. A
 * member's session (api_member_signin.c) is read and ended here too.
 */
#include "http_int.h"
#include "tb_bodies.h"
#include "tb_ops.h"

#include <stdlib.h>
#include <string.h>

struct tb_ops tb_api_ops(const struct tb_http *h)
{
	return (struct tb_ops){h->host.store, h->host.self, h->host.data, h->host.key};
}

struct tb_json *tb_api_community_json(const struct tb_http *h)
{
	struct tb_json *c = tb_json_object();
	struct tb_ops o = {h->host.store, h->host.self, h->host.data, h->host.key};
	char name[TB_NAME_MAX + 1];
	tb_op_community_name(&o, h->host.self, name, sizeof name);
	tb_json_set(c, "id", tb_json_bytes(h->host.self, TB_KEY_LEN));
	tb_json_set(c, "name", tb_json_string(name));
	return c;
}

struct tb_json *tb_api_session_json(const struct tb_http *h, const struct tb_session *s)
{
	struct tb_json *o = tb_json_object();
	struct tb_json *c = tb_json_object();
	tb_json_set(c, "name", tb_json_string(s->who.name));
	if (s->who.member) {
		tb_json_set(c, "number", tb_json_int(s->who.member));
		tb_json_set(c, "key", tb_json_bytes(s->who.member_key, TB_KEY_LEN));
		tb_json_set(o, "member", c);
		tb_json_set(o, "community", tb_api_community_json(h));
	} else {
		tb_json_set(c, "role", tb_json_string(tb_role_name(s->who.role)));
		tb_json_set(o, "coordinator", c);
	}
	tb_json_set(o, "csrf_token", tb_json_string(s->csrf));
	uint64_t end = s->created + h->session_life_s;
	if (s->used + h->session_idle_s < end)
		end = s->used + h->session_idle_s;
	tb_json_set(o, "expires", tb_json_time(end));
	return o;
}

bool tb_api_plain_http_refused(struct tb_http *h, struct tb_http_req *req,
			       struct tb_http_resp *resp)
{
	if (req->loopback || h->conf.insecure)
		return false;
	tb_http_error(resp, 403, "EDENIED",
		      "refusing plain HTTP from %s here (a session cookie would travel in "
		      "clear): serve tallyd behind a TLS proxy on this machine, or start it "
		      "with --http-insecure",
		      req->client);
	return true;
}

void tb_api_session_cookie(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			   const char *token)
{
	const char *proto = tb_http_header(req, "X-Forwarded-Proto");
	bool secure = req->loopback && proto && !strcmp(proto, "https");
	snprintf(resp->cookie, sizeof resp->cookie,
		 "tally_session=%s; Path=/; Max-Age=%llu; HttpOnly; SameSite=Strict%s", token,
		 (unsigned long long)h->session_life_s, secure ? "; Secure" : "");
}

/* Same work for an unknown name as for a wrong password. */
static int check_password(struct tb_http *h, const char *name, const char *pw, struct tb_coord *co)
{
	int err = tb_store_coord_get(h->host.store, name, co);
	if (err == TB_ENOTFOUND) {
		uint8_t dummy[TB_PWHASH_LEN];
		if (!tb_pwhash(dummy, pw, strlen(pw)))
			tb_wipe(dummy, sizeof dummy);
		return TB_EAUTH;
	}
	if (err)
		return err;
	err = tb_pwhash_verify(co->pwhash, TB_PWHASH_LEN, pw, strlen(pw));
	return err == TB_EPASSPHRASE ? TB_EAUTH : err;
}

static void login(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_login b;
	char msg[TB_JSON_MSG_MAX];
	const char *name = b.name, *pw = b.password;
	if (tb_body_login(req->body, req->body_len, &b, msg)) {
		tb_body_wipe(&b, sizeof b);
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (tb_api_plain_http_refused(h, req, resp)) {
		tb_body_wipe(&b, sizeof b);
		return;
	}
	uint64_t wait = tb_throttle_wait(h, TB_THROTTLE_LOGIN, name, req->client);
	if (wait) {
		tb_body_wipe(&b, sizeof b);
		resp->retry_after = (int)wait;
		tb_http_error(resp, 429, "ETHROTTLED",
			      "too many failed logins for %s or from %s: try again in %llu seconds",
			      name, req->client, (unsigned long long)wait);
		return;
	}
	struct tb_coord co;
	int err = check_password(h, name, pw, &co);
	tb_body_wipe(&b, sizeof b);
	if (err == TB_EAUTH) {
		tb_throttle_failed(h, TB_THROTTLE_LOGIN, name, req->client);
		tb_http_log(h, 1, "http: failed login as %s from %s", name, req->client);
		tb_http_error(resp, 401, "EAUTH", "wrong name or password");
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_throttle_passed(h, TB_THROTTLE_LOGIN, name, req->client);
	struct tb_principal who = {.role = co.role};
	snprintf(who.name, sizeof who.name, "%s", co.name);
	tb_sha256(who.pw_tag, co.pwhash, sizeof co.pwhash);
	char token[65];
	struct tb_session *s = tb_session_new(h, &who, token);
	tb_api_session_cookie(h, req, resp, token);
	tb_wipe(token, sizeof token);
	tb_http_log(h, 2, "http: %s logged in from %s", who.name, req->client);
	tb_http_json(resp, 200, tb_api_session_json(h, s));
}

static void whoami(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	tb_http_json(resp, 200, tb_api_session_json(ctx, req->session));
}

static void logout(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	(void)ctx;
	tb_session_end(req->session);
	req->session = NULL;
	snprintf(resp->cookie, sizeof resp->cookie,
		 "tally_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
	struct tb_json *o = tb_json_object();
	tb_json_set(o, "logged_out", tb_json_bool(true));
	tb_http_json(resp, 200, o);
}

int tb_api_session_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"POST", "/api/v1/session", TB_ROUTE_PUBLIC, 0, login, h},
		{"GET", "/api/v1/session", TB_ROUTE_MEMBER, TB_ROLE_VIEWER, whoami, h},
		{"DELETE", "/api/v1/session", TB_ROUTE_WRITE | TB_ROUTE_MEMBER, TB_ROLE_VIEWER,
		 logout, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
