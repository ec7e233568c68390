/*
 * api_member_signin.c: members sign in with their own key (POST
 * /api/v1/signin/challenge, POST /api/v1/signin). The node hands out a
 * random one-time challenge for a member (a fixed table of
 * TB_CHALLENGES_MAX, at most TB_CHALLENGES_PER_CLIENT per client address,
 * each valid TB_CHALLENGE_MS); the member's browser signs the sign-in terms
 * (FORMAT.md 6.6: this log, the member, their key, the challenge, the Host
 * the browser talks to) with the key it opened itself; the node checks the
 * signature with the member's CURRENT key in the ledger and opens a session
 * bound to that member. A challenge is gone after one attempt, right or
 * wrong. Failures from a client address are slowed like coordinators'
 * logins, in a table of their own (never per member: anyone may ask a
 * challenge for any name). The node never sees a passphrase or a secret key
 * here.
 */
#include "http_int.h"
#include "tb_bodies.h"

#include <string.h>

/* A live, unexpired challenge of this value, taken out of the table. */
static bool take_challenge(struct tb_http *h, const uint8_t value[TB_HASHLEN],
			   struct tb_challenge *out)
{
	uint64_t now = tb_http_now_ms(h);
	bool found = false;
	for (size_t i = 0; i < TB_CHALLENGES_MAX; i++) {
		struct tb_challenge *c = &h->challenges[i];
		if (!c->live || tb_memcmp_ct(c->value, value, TB_HASHLEN))
			continue;
		if (c->expires > now) {
			*out = *c;
			found = true;
		}
		memset(c, 0, sizeof *c);
	}
	return found;
}

/* The oldest of this client's once it has TB_CHALLENGES_PER_CLIENT, else a
 * free slot, else the oldest of all: one client never holds more than its
 * share, however empty the table. */
static struct tb_challenge *challenge_slot(struct tb_http *h, const char *client)
{
	uint64_t now = tb_http_now_ms(h);
	struct tb_challenge *free_slot = NULL, *oldest = NULL, *mine = NULL;
	size_t n_mine = 0;
	for (size_t i = 0; i < TB_CHALLENGES_MAX; i++) {
		struct tb_challenge *c = &h->challenges[i];
		if (c->live && c->expires <= now)
			memset(c, 0, sizeof *c);
		if (!c->live) {
			if (!free_slot)
				free_slot = c;
			continue;
		}
		if (!strcmp(c->client, client)) {
			n_mine++;
			if (!mine || c->expires < mine->expires)
				mine = c;
		}
		if (!oldest || c->expires < oldest->expires)
			oldest = c;
	}
	if (n_mine >= TB_CHALLENGES_PER_CLIENT)
		return mine;
	return free_slot ? free_slot : oldest;
}

struct by_key {
	const uint8_t *key;
	struct tb_member *out;
	bool found;
};

static int key_match(void *ctx, const struct tb_member *m)
{
	struct by_key *k = ctx;
	if (k->found || !m->active || memcmp(m->key, k->key, TB_KEY_LEN))
		return 0;
	*k->out = *m;
	k->found = true;
	return 0;
}

/* The active member a challenge request names: by name, by key, or both
 * (they must agree). 0, TB_ENOTFOUND or a storage error. */
static int member_of(struct tb_http *h, const struct tb_body_challenge *b, struct tb_member *m)
{
	const uint8_t *self = h->host.self;
	uint8_t key[TB_KEY_LEN];
	if (b->has_key && tb_hex_decode(key, sizeof key, b->key))
		return TB_EINVAL;
	if (b->has_member) {
		int err = tb_store_member_by_name(h->host.store, self, b->member, m);
		if (err)
			return err;
		return b->has_key && memcmp(m->key, key, TB_KEY_LEN) ? TB_ENOTFOUND : 0;
	}
	struct by_key k = {key, m, false};
	int err = tb_store_foreach_member(h->host.store, self, key_match, &k);
	if (err)
		return err;
	return k.found ? 0 : TB_ENOTFOUND;
}

/* True (and answered 429) while sign-ins from this client address wait.
 * Counted by address only: a member's signature cannot be guessed, and a
 * count per member would let anyone who knows a name keep them out. */
static bool throttled(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp)
{
	uint64_t wait = tb_throttle_wait(h, TB_THROTTLE_SIGNIN, NULL, req->client);
	if (!wait)
		return false;
	resp->retry_after = (int)wait;
	tb_http_error(resp, 429, "ETHROTTLED",
		      "too many failed sign-ins from %s: try again in %llu seconds", req->client,
		      (unsigned long long)wait);
	return true;
}

static void challenge(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_challenge b;
	char msg[TB_JSON_MSG_MAX];
	if (tb_body_challenge(req->body, req->body_len, &b, msg)) {
		tb_http_error(resp, 400, "EINVAL", "%s", msg);
		return;
	}
	if (tb_api_plain_http_refused(h, req, resp))
		return;
	struct tb_member m;
	int err = member_of(h, &b, &m);
	if (err == TB_EINVAL) {
		tb_http_error(resp, 400, "EINVAL", "'key' must be 64 hex digits");
		return;
	}
	if (err == TB_ENOTFOUND || err == TB_ENAME) {
		tb_http_error(resp, 404, "ENOTFOUND", "no active member of this community has %s",
			      b.has_member ? "this name and key" : "this key");
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	if (throttled(h, req, resp))
		return;
	struct tb_challenge *c = challenge_slot(h, req->client);
	memset(c, 0, sizeof *c);
	tb_random(c->value, sizeof c->value);
	c->member = m.no;
	memcpy(c->key, m.key, TB_KEY_LEN);
	snprintf(c->client, sizeof c->client, "%s", req->client);
	c->expires = tb_http_now_ms(h) + TB_CHALLENGE_MS;
	c->live = true;
	struct tb_json *o = tb_json_object(), *mj = tb_json_object();
	tb_json_set(o, "challenge", tb_json_bytes(c->value, sizeof c->value));
	tb_json_set(o, "log_id", tb_json_bytes(h->host.self, TB_KEY_LEN));
	tb_json_set(mj, "number", tb_json_int(m.no));
	tb_json_set(mj, "name", tb_json_string(m.name));
	tb_json_set(mj, "key", tb_json_bytes(m.key, TB_KEY_LEN));
	tb_json_set(o, "member", mj);
	tb_json_set(o, "context", tb_json_string(tb_sigctx_tag(TB_CTX_SIGNIN)));
	tb_json_set(o, "expires_in_seconds", tb_json_int(TB_CHALLENGE_MS / 1000));
	tb_http_json(resp, 200, o);
}

/* 0 if sig is the member's signature of the sign-in terms for c over this
 * request's Host, with the member's current key; TB_EBADSIG, TB_ENOTFOUND
 * (no longer active or another key now), TB_EINVAL (no Host) or an error. */
static int check_signin(struct tb_http *h, struct tb_http_req *req, const struct tb_challenge *c,
			const uint8_t sig[TB_SIGLEN], struct tb_member *m)
{
	const char *host = tb_http_header(req, "Host");
	size_t hl = host ? strlen(host) : 0;
	if (!hl || hl > 255 || tb_text_check(host, hl))
		return TB_EINVAL;
	int err = tb_store_member(h->host.store, h->host.self, c->member, m);
	if (err)
		return err;
	if (!m->active || memcmp(m->key, c->key, TB_KEY_LEN))
		return TB_ENOTFOUND;
	struct tb_signin_terms t;
	memcpy(t.log_id, h->host.self, TB_KEY_LEN);
	t.member = c->member;
	memcpy(t.key, m->key, TB_KEY_LEN);
	memcpy(t.challenge, c->value, TB_HASHLEN);
	t.host = (struct tb_view){(const uint8_t *)host, hl};
	uint8_t buf[512];
	size_t len;
	if ((err = tb_terms_encode(buf, sizeof buf, &len, &tb_def_signin_terms, &t)))
		return err;
	return tb_verify(sig, m->key, TB_CTX_SIGNIN, buf, len);
}

static void signin_failed(struct tb_http *h, struct tb_http_req *req, struct tb_http_resp *resp,
			  uint32_t member, const char *why)
{
	tb_throttle_failed(h, TB_THROTTLE_SIGNIN, NULL, req->client);
	tb_http_log(h, 1, "http: failed member sign-in (#%u) from %s: %s", (unsigned)member,
		    req->client, why);
	tb_http_error(resp, 401, "EAUTH", "%s", why);
}

static void signin(struct tb_http_req *req, struct tb_http_resp *resp, void *ctx)
{
	struct tb_http *h = ctx;
	struct tb_body_signin b;
	char msg[TB_JSON_MSG_MAX];
	uint8_t value[TB_HASHLEN], sig[TB_SIGLEN];
	if (tb_body_signin(req->body, req->body_len, &b, msg) ||
	    tb_hex_decode(value, sizeof value, b.challenge) ||
	    tb_hex_decode(sig, sizeof sig, b.signature)) {
		tb_http_error(resp, 400, "EINVAL", "%s",
			      msg[0] ? msg
				     : "'challenge' must be 64 hex digits and 'signature' 128");
		return;
	}
	if (tb_api_plain_http_refused(h, req, resp) || throttled(h, req, resp))
		return;
	struct tb_challenge c = {0};
	if (!take_challenge(h, value, &c)) {
		signin_failed(h, req, resp, 0,
			      "this challenge is unknown, used or expired: ask for a new one");
		return;
	}
	struct tb_member m;
	int err = check_signin(h, req, &c, sig, &m);
	if (err == TB_EINVAL) {
		tb_http_error(resp, 400, "EINVAL", "the request has no usable Host header");
		return;
	}
	if (err == TB_EBADSIG || err == TB_ENOTFOUND) {
		signin_failed(h, req, resp, c.member,
			      err == TB_EBADSIG
				      ? "the signature does not verify with the member's key for "
					"this challenge and host"
				      : "the member has left or has another key now");
		return;
	}
	if (err) {
		tb_http_fail(resp, err, NULL);
		return;
	}
	tb_throttle_passed(h, TB_THROTTLE_SIGNIN, NULL, req->client);
	struct tb_principal who = {.member = m.no};
	snprintf(who.name, sizeof who.name, "%s", m.name);
	memcpy(who.member_key, m.key, TB_KEY_LEN);
	char token[65];
	struct tb_session *s = tb_session_new(h, &who, token);
	tb_api_session_cookie(h, req, resp, token);
	tb_wipe(token, sizeof token);
	tb_http_log(h, 2, "http: member %s signed in from %s", m.name, req->client);
	tb_http_json(resp, 200, tb_api_session_json(h, s));
}

int tb_api_member_signin_routes(struct tb_http *h)
{
	const struct tb_route r[] = {
		{"POST", "/api/v1/signin/challenge", TB_ROUTE_PUBLIC, 0, challenge, h},
		{"POST", "/api/v1/signin", TB_ROUTE_PUBLIC, 0, signin, h},
	};
	int err = 0;
	for (size_t i = 0; i < sizeof r / sizeof r[0] && !err; i++)
		err = tb_http_route(h, &r[i]);
	return err;
}
