/*
 * test_member_signin.c: members sign in to tallyd's API with their own key
 * (docs/API.md, "Members sign in"; FORMAT.md 6.6), against a real tallyd over
 * HTTP on 127.0.0.1. dora keeps her key (added with --pubkey from a fixed
 * seed): a challenge, her signature of the terms, a session bound to her.
 * Refused: a bad signature, a signature over another host or log, a replayed
 * challenge, an expired one is not tested by waiting (the table's expiry is
 * the same check as "unknown"), an unknown key; and a member's session on
 * every kind of coordinators' endpoint. Failures are throttled. An
 * invitation is made by a coordinator (not a member), read and used once by
 * the person invited, who then signs in with their key; its expiry is
 * tested on the store (test_invites). Failures slow only their own kind
 * from their own address (other clients are other loopback addresses).
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fed.h"
#include "httpc.h"
#include "tb_proto.h"

#define PW_ADMIN "admin-password"

struct env {
	struct tb_fed *f;
	uint16_t http;
	char http_arg[32];
	struct tb_keypair dora, other;
	char expired[65]; /* an invitation's token, expired */
};

static struct env *g_env;

static void keypair(struct tb_keypair *kp, uint8_t fill)
{
	uint8_t seed[TB_SEED_LEN];
	memset(seed, fill, sizeof seed);
	tb_keypair_from_seed(kp, seed);
}

static struct env *env_get(void)
{
	if (g_env)
		return g_env;
	struct env *e = calloc(1, sizeof *e);
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", NULL}}};
	e->f = tb_fed_new_spec("signin", 1, spec);
	char file[TB_FED_PATH + 64], hex[2 * TB_KEY_LEN + 1];
	snprintf(file, sizeof file, "%s/ana.pw", e->f->root);
	assert_int_equal(tb_test_write_file(file, PW_ADMIN, strlen(PW_ADMIN)), 0);
	assert_int_equal(TB_FED_TALLY(e->f, 0, "coordinator", "add", "ana", "--role", "admin",
				      "--password-file", file),
			 0);
	keypair(&e->dora, 7);
	keypair(&e->other, 9);
	tb_hex_encode(hex, e->dora.pk.b, TB_KEY_LEN);
	assert_int_equal(TB_FED_TALLY(e->f, 0, "member", "add", "dora", "--pubkey", hex), 0);
	/* An invitation that expires at once (the CLI's; the API's last days). */
	assert_int_equal(
		TB_FED_TALLY(e->f, 0, "member", "invite", "olga", "--valid", "1s", "--no-qr"), 0);
	const char *t = strstr(e->f->res.out, "#/join/");
	assert_non_null(t);
	snprintf(e->expired, sizeof e->expired, "%.64s", t + 7);
	/* --json: the link, and its QR code unless --no-qr. */
	assert_int_equal(TB_FED_TALLY(e->f, 0, "--json", "member", "invite", "pia"), 0);
	assert_non_null(strstr(e->f->res.out, "\"qr_svg\":\"<svg"));
	assert_non_null(strstr(e->f->res.out, "#/join/"));
	assert_int_equal(TB_FED_TALLY(e->f, 0, "--json", "member", "invite", "quin", "--no-qr"), 0);
	assert_null(strstr(e->f->res.out, "qr_svg"));
	assert_int_equal(TB_FED_TALLY(e->f, 0, "member", "invite", "alice"), 1); /* a member */
	assert_int_equal(TB_FED_TALLY(e->f, 0, "member", "invite", "Alice"), 1); /* too like */
	assert_non_null(strstr(e->f->res.err, "too like the name of member"));
	e->http = tb_fed_free_port();
	snprintf(e->http_arg, sizeof e->http_arg, "127.0.0.1:%u", e->http);
	const char *extra[] = {"--http", e->http_arg, NULL};
	tb_fed_spawn_env(e->f, 0, extra, NULL);
	tb_fed_wait_up(e->f, 0);
	tb_fed_wait_log_line(e->f, 0, "console and API on", NULL, 10000);
	return g_env = e;
}

static int teardown(void **state)
{
	(void)state;
	if (g_env) {
		tb_fed_free(g_env->f);
		free(g_env);
		g_env = NULL;
	}
	tb_fed_kill_all();
	return 0;
}

struct challenge {
	uint8_t value[TB_HASHLEN], log_id[TB_KEY_LEN];
	uint64_t member;
};

static void hex_field(json_t *o, const char *key, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));
	assert_non_null(s);
	assert_int_equal(tb_hex_decode(out, n, s), 0);
}

/* POST /api/v1/signin/challenge with body from src (NULL: the default
 * address): the status; c filled on 200. */
static int challenge_from(struct env *e, const char *src, const char *body, struct challenge *c)
{
	struct tb_httpc_resp r;
	int st = tb_httpc_from(src, e->http, "POST", "/api/v1/signin/challenge", NULL, false, body,
			       &r);
	if (st == 200) {
		json_t *o = json_loads(r.body, 0, NULL);
		assert_non_null(o);
		hex_field(o, "challenge", c->value, sizeof c->value);
		hex_field(o, "log_id", c->log_id, sizeof c->log_id);
		json_t *m = json_object_get(o, "member");
		c->member = (uint64_t)json_integer_value(json_object_get(m, "number"));
		assert_string_equal(json_string_value(json_object_get(o, "context")),
				    "tally/signin/v1");
		json_decref(o);
	}
	tb_httpc_free(&r);
	return st;
}

static int get_challenge(struct env *e, const char *body, struct challenge *c)
{
	return challenge_from(e, NULL, body, c);
}

/* The signature of the sign-in terms, as a browser at host makes it. */
static void sign_terms(char sig_hex[2 * TB_SIGLEN + 1], const struct tb_keypair *kp,
		       const struct challenge *c, const uint8_t key[TB_KEY_LEN], const char *host)
{
	struct tb_signin_terms t;
	memcpy(t.log_id, c->log_id, TB_KEY_LEN);
	t.member = c->member;
	memcpy(t.key, key, TB_KEY_LEN);
	memcpy(t.challenge, c->value, TB_HASHLEN);
	t.host = (struct tb_view){(const uint8_t *)host, strlen(host)};
	uint8_t buf[TB_ENTRY_MAX], sig[TB_SIGLEN];
	size_t len;
	assert_int_equal(tb_terms_encode(buf, sizeof buf, &len, &tb_def_signin_terms, &t), 0);
	tb_sign(sig, kp, TB_CTX_SIGNIN, buf, len);
	tb_hex_encode(sig_hex, sig, TB_SIGLEN);
}

/* POST /api/v1/signin from src (NULL: the default): the status; the
 * session filled on 200. */
static int sign_in_from(struct env *e, const char *src, const struct challenge *c,
			const char *sig_hex, struct tb_httpc_session *s, struct tb_httpc_resp *r)
{
	char body[400], chex[2 * TB_HASHLEN + 1];
	tb_hex_encode(chex, c->value, TB_HASHLEN);
	snprintf(body, sizeof body, "{\"challenge\":\"%s\",\"signature\":\"%s\"}", chex, sig_hex);
	int st = tb_httpc_from(src, e->http, "POST", "/api/v1/signin", NULL, false, body, r);
	if (st == 200 && s) {
		char cookie[200];
		assert_non_null(tb_httpc_header(r, "Set-Cookie", cookie, sizeof cookie));
		snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(cookie, ";"), cookie);
		json_t *o = json_loads(r->body, 0, NULL);
		snprintf(s->csrf, sizeof s->csrf, "%s",
			 json_string_value(json_object_get(o, "csrf_token")));
		json_decref(o);
	}
	return st;
}

static int sign_in(struct env *e, const struct challenge *c, const char *sig_hex,
		   struct tb_httpc_session *s, struct tb_httpc_resp *r)
{
	return sign_in_from(e, NULL, c, sig_hex, s, r);
}

static char *dora_body(struct env *e, char out[100])
{
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, e->dora.pk.b, TB_KEY_LEN);
	snprintf(out, 100, "{\"key\":\"%s\"}", hex);
	return out;
}

static void test_signin(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct challenge c;
	char body[100], sig[2 * TB_SIGLEN + 1], host[40];
	snprintf(host, sizeof host, "127.0.0.1:%u", e->http);
	assert_int_equal(get_challenge(e, dora_body(e, body), &c), 200);
	assert_true(c.member > 0);
	/* By name as well, and both must agree. */
	struct challenge c2;
	assert_int_equal(get_challenge(e, "{\"member\":\"dora\"}", &c2), 200);
	assert_int_equal(c2.member, c.member);
	sign_terms(sig, &e->dora, &c, e->dora.pk.b, host);
	struct tb_httpc_session s;
	struct tb_httpc_resp r;
	assert_int_equal(sign_in(e, &c, sig, &s, &r), 200);
	assert_non_null(strstr(r.body, "\"member\":{\"name\":\"dora\""));
	assert_null(strstr(r.body, "\"coordinator\""));
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(e->http, "GET", "/api/v1/session", &s, false, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"dora\""));
	tb_httpc_free(&r);
	/* The same challenge again (a replay) is refused, the session stays. */
	assert_int_equal(sign_in(e, &c, sig, NULL, &r), 401);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	assert_non_null(strstr(r.body, "unknown, used or expired"));
	tb_httpc_free(&r);
	/* A member's session on coordinators' endpoints: reads, writes, admin. */
	static const char *const denied[][3] = {
		{"GET", "/api/v1/members", NULL},
		{"GET", "/api/v1/balances", NULL},
		{"GET", "/api/v1/exchanges", NULL},
		{"GET", "/api/v1/coordinators", NULL},
		{"POST", "/api/v1/exchanges",
		 "{\"provider\":\"dora\",\"receiver\":\"alice\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true}"},
		{"POST", "/api/v1/members", "{\"name\":\"eve\",\"passphrase\":\"x\"}"},
		{"POST", "/api/v1/checkpoints", NULL},
	};
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
		int st = tb_httpc(e->http, denied[i][0], denied[i][1], &s, true, denied[i][2], &r);
		if (st != 403)
			fail_msg("%s %s by a member: %d %s", denied[i][0], denied[i][1], st,
				 r.body);
		tb_httpc_assert_error(&r, 403, "EDENIED");
		tb_httpc_free(&r);
	}
	/* Signing out ends it. */
	assert_int_equal(tb_httpc(e->http, "DELETE", "/api/v1/session", &s, true, NULL, &r), 200);
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(e->http, "GET", "/api/v1/session", &s, false, NULL, &r), 401);
	tb_httpc_free(&r);
}

static void test_refused(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct challenge c;
	struct tb_httpc_resp r;
	char body[100], sig[2 * TB_SIGLEN + 1], host[40];
	snprintf(host, sizeof host, "127.0.0.1:%u", e->http);
	/* Unknown keys and bad bodies are refused before any challenge. */
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, e->other.pk.b, TB_KEY_LEN);
	snprintf(body, sizeof body, "{\"key\":\"%s\"}", hex);
	assert_int_equal(
		tb_httpc(e->http, "POST", "/api/v1/signin/challenge", NULL, false, body, &r), 404);
	tb_httpc_free(&r);
	snprintf(body, sizeof body, "{\"key\":\"%s\",\"member\":\"alice\"}", hex);
	assert_int_equal(
		tb_httpc(e->http, "POST", "/api/v1/signin/challenge", NULL, false, body, &r), 404);
	tb_httpc_free(&r);
	const char *bodies[] = {"{}", "{\"key\":\"zz\"}", "[1]",
				"{\"challenge\":\"00\",\"signature\":\"00\"}"};
	for (size_t i = 0; i < 4; i++) {
		const char *path = i < 3 ? "/api/v1/signin/challenge" : "/api/v1/signin";
		assert_int_equal(tb_httpc(e->http, "POST", path, NULL, false, bodies[i], &r), 400);
		tb_httpc_free(&r);
	}
	/* Signed by another key, for another host, for another log: each
	 * refused (test_signin's replay was the first failure from here; past
	 * the third each attempt waits 1, 2, ... seconds). */
	struct {
		const struct tb_keypair *kp;
		const char *host;
		bool other_log;
	} bad[] = {{&e->other, host, false},
		   {&e->dora, "evil.example", false},
		   {&e->dora, host, true}};
	for (size_t i = 0; i < 3; i++) {
		if (i == 2)
			tb_fed_sleep_ms(1100);
		assert_int_equal(get_challenge(e, dora_body(e, body), &c), 200);
		struct challenge signed_c = c;
		if (bad[i].other_log)
			signed_c.log_id[0] ^= 1;
		sign_terms(sig, bad[i].kp, &signed_c, e->dora.pk.b, bad[i].host);
		assert_int_equal(sign_in(e, &c, sig, NULL, &r), 401);
		assert_non_null(strstr(r.body, "does not verify"));
		tb_httpc_free(&r);
	}
	/* Slowed now: a challenge, and a sign-in even with a made-up
	 * challenge, wait (429 with Retry-After). */
	assert_int_equal(tb_httpc(e->http, "POST", "/api/v1/signin/challenge", NULL, false,
				  dora_body(e, body), &r),
			 429);
	char ra[16];
	assert_non_null(tb_httpc_header(&r, "Retry-After", ra, sizeof ra));
	tb_httpc_free(&r);
	memset(c.value, 0x5a, sizeof c.value);
	sign_terms(sig, &e->dora, &c, e->dora.pk.b, host);
	assert_int_equal(sign_in(e, &c, sig, NULL, &r), 429);
	tb_httpc_free(&r);
	/* Once the wait is over, the right signature signs in and clears it. */
	tb_fed_sleep_ms(2100);
	assert_int_equal(get_challenge(e, dora_body(e, body), &c), 200);
	sign_terms(sig, &e->dora, &c, e->dora.pk.b, host);
	assert_int_equal(sign_in(e, &c, sig, NULL, &r), 200);
	tb_httpc_free(&r);
}

/* Invitations through the API: a coordinator makes one, a member cannot;
 * the person invited reads it and joins with their key, once. */
static void test_invite(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct tb_httpc_session ana, dora;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(e->http, "ana", PW_ADMIN, &ana), 200);
	assert_int_equal(tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true,
				  "{\"name\":\"alice\"}", &r),
			 409);
	tb_httpc_assert_error(&r, 409, "ENAME");
	tb_httpc_free(&r);
	/* What the join would refuse is refused before the link is given: a
	 * name too like a member's, a bidi control, an edge space (an '@' the
	 * body's parser refuses, 400). */
	static const char *const refused[] = {
		"{\"name\":\"ALICE\"}",
		"{\"name\":\"ev\\u202ee\"}",
		"{\"name\":\" erin\"}",
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		assert_int_equal(
			tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true, refused[i], &r),
			409);
		tb_httpc_assert_error(&r, 409, "ENAME");
		tb_httpc_free(&r);
	}
	assert_int_equal(tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true,
				  "{\"name\":\"erin\",\"valid_days\":31}", &r),
			 400);
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true,
				  "{\"name\":\"erin\",\"valid_days\":1}", &r),
			 201);
	json_t *o = json_loads(r.body, 0, NULL);
	char token[65], path[120];
	snprintf(token, sizeof token, "%s", json_string_value(json_object_get(o, "token")));
	assert_non_null(strstr(json_string_value(json_object_get(o, "link")), token));
	json_decref(o);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/invites/%s", token);
	/* A member's session may not invite. */
	struct challenge c;
	char body[100], sig[2 * TB_SIGLEN + 1], host[40];
	snprintf(host, sizeof host, "127.0.0.1:%u", e->http);
	assert_int_equal(get_challenge(e, dora_body(e, body), &c), 200);
	sign_terms(sig, &e->dora, &c, e->dora.pk.b, host);
	assert_int_equal(sign_in(e, &c, sig, &dora, &r), 200);
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(e->http, "POST", "/api/v1/invites", &dora, true,
				  "{\"name\":\"mallory\"}", &r),
			 403);
	tb_httpc_free(&r);
	/* Read it, join with a key (a bad key first), then the link is spent. */
	assert_int_equal(tb_httpc(e->http, "GET", path, NULL, false, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"erin\""));
	assert_non_null(strstr(r.body, "\"community\":\"Riverside\""));
	tb_httpc_free(&r);
	assert_int_equal(
		tb_httpc(e->http, "POST", path, NULL, false, "{\"public_key\":\"zz\"}", &r), 400);
	tb_httpc_free(&r);
	/* All zero (a keyless member), small order or off the curve: refused,
	 * and the invitation is not spent. */
	static const char *const bad_keys[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", bad_keys[i]);
		assert_int_equal(tb_httpc(e->http, "POST", path, NULL, false, body, &r), 400);
		assert_non_null(strstr(r.body, "not an Ed25519 public key"));
		tb_httpc_free(&r);
	}
	struct tb_keypair erin;
	keypair(&erin, 11);
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, erin.pk.b, TB_KEY_LEN);
	snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", hex);
	assert_int_equal(tb_httpc(e->http, "POST", path, NULL, false, body, &r), 201);
	assert_non_null(strstr(r.body, hex));
	tb_httpc_free(&r);
	/* erin signs in with her key (before the failures below slow this address). */
	char kbody[100];
	snprintf(kbody, sizeof kbody, "{\"key\":\"%s\"}", hex);
	assert_int_equal(get_challenge(e, kbody, &c), 200);
	sign_terms(sig, &erin, &c, erin.pk.b, host);
	assert_int_equal(sign_in(e, &c, sig, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"erin\""));
	tb_httpc_free(&r);
	/* The same key again (its answer was lost): the same member, 200, and
	 * no second join; any other key: the link is spent. */
	assert_int_equal(tb_httpc(e->http, "POST", path, NULL, false, body, &r), 200);
	assert_non_null(strstr(r.body, hex));
	assert_non_null(strstr(r.body, "\"name\":\"erin\""));
	tb_httpc_free(&r);
	struct tb_keypair other;
	keypair(&other, 12);
	char ohex[2 * TB_KEY_LEN + 1], obody[100];
	tb_hex_encode(ohex, other.pk.b, TB_KEY_LEN);
	snprintf(obody, sizeof obody, "{\"public_key\":\"%s\"}", ohex);
	assert_int_equal(tb_httpc(e->http, "POST", path, NULL, false, obody, &r), 404);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	assert_non_null(strstr(r.body, "unknown, used or expired"));
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(e->http, "GET", path, NULL, false, NULL, &r), 404);
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(e->http, "GET", "/api/v1/invites", &ana, false, NULL, &r), 200);
	assert_null(strstr(r.body, "\"erin\""));
	tb_httpc_free(&r);
	assert_int_equal(TB_FED_TALLY(e->f, 0, "--json", "member", "list"), 0);
	assert_non_null(strstr(e->f->res.out, "erin"));
	assert_null(strstr(strstr(e->f->res.out, "erin") + 4, "\"erin"));
	/* An expired invitation is refused the same way. */
	snprintf(path, sizeof path, "/api/v1/invites/%s", e->expired);
	assert_int_equal(tb_httpc(e->http, "POST", path, NULL, false, body, &r), 404);
	tb_httpc_free(&r);
}

/* dora signs in from src with her key (or, bad, with another): the status. */
static int dora_signs_in(struct env *e, const char *src, bool bad, struct tb_httpc_session *s)
{
	struct challenge c;
	struct tb_httpc_resp r;
	char body[100], sig[2 * TB_SIGLEN + 1], host[40];
	snprintf(host, sizeof host, "127.0.0.1:%u", e->http);
	int st = challenge_from(e, src, dora_body(e, body), &c);
	if (st != 200)
		return st;
	sign_terms(sig, bad ? &e->other : &e->dora, &c, e->dora.pk.b, host);
	st = sign_in_from(e, src, &c, sig, s, &r);
	tb_httpc_free(&r);
	return st;
}

/* Failures slow the address they come from, in their own kind only: bad
 * invitation tokens do not lock out an invitee elsewhere, bad signatures
 * for dora do not lock dora out elsewhere, and a member's sign-in does not
 * clear the address's failed coordinator logins. */
static void test_throttle_kinds(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct tb_httpc_session ana, s;
	struct tb_httpc_resp r;
	char path[120];
	assert_int_equal(tb_httpc_login(e->http, "ana", PW_ADMIN, &ana), 200);
	assert_int_equal(
		tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true, "{\"name\":\"fay\"}", &r),
		201);
	json_t *o = json_loads(r.body, 0, NULL);
	snprintf(path, sizeof path, "/api/v1/invites/%s",
		 json_string_value(json_object_get(o, "token")));
	json_decref(o);
	tb_httpc_free(&r);
	int last = 0;
	for (int i = 0; i < 13; i++) {
		last = tb_httpc_from("127.0.0.2", e->http, "GET",
				     "/api/v1/invites/"
				     "00000000000000000000000000000000"
				     "00000000000000000000000000000000",
				     NULL, false, NULL, &r);
		tb_httpc_free(&r);
	}
	assert_int_equal(last, 429);
	assert_int_equal(tb_httpc_from("127.0.0.5", e->http, "GET", path, NULL, false, NULL, &r),
			 200);
	assert_non_null(strstr(r.body, "\"name\":\"fay\""));
	tb_httpc_free(&r);
	/* Bad signatures for dora from one address: that address waits, dora
	 * signs in from another. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(dora_signs_in(e, "127.0.0.3", true, NULL), 401);
	assert_int_equal(dora_signs_in(e, "127.0.0.3", false, NULL), 429);
	assert_int_equal(dora_signs_in(e, "127.0.0.6", false, NULL), 200);
	/* Failed logins from 127.0.0.4 (waits of 1, 2 then 4 s), then dora signs
	 * in from there: the logins from there still wait. */
	const char *addr = "127.0.0.4";
	for (int i = 0; i < 5; i++) {
		if (i >= 3)
			tb_fed_sleep_ms(i == 3 ? 1100 : 2100);
		assert_int_equal(tb_httpc_from(addr, e->http, "POST", "/api/v1/session", NULL,
					       false, "{\"name\":\"nobody\",\"password\":\"x\"}",
					       &r),
				 401);
		tb_httpc_free(&r);
	}
	assert_int_equal(dora_signs_in(e, addr, false, &s), 200);
	char body[200];
	snprintf(body, sizeof body, "{\"name\":\"ana\",\"password\":\"%s\"}", PW_ADMIN);
	assert_int_equal(
		tb_httpc_from(addr, e->http, "POST", "/api/v1/session", NULL, false, body, &r),
		429);
	tb_httpc_free(&r);
}

/* A GET of an invitation from loopback naming a client in X-Forwarded-For
 * (as a local TLS proxy does); its status. */
static int invitation_via_proxy(struct env *e, const char *path, const char *xff)
{
	char h[120];
	snprintf(h, sizeof h, "X-Forwarded-For: %s", xff);
	const char *const headers[] = {h, NULL};
	struct tb_httpc_resp r;
	int st = tb_httpc_raw(e->http, "GET", path, headers, NULL, 0, &r);
	tb_httpc_free(&r);
	return st;
}

/* Behind a local proxy, each client is throttled on its own address: the
 * last of X-Forwarded-For (the proxy's), not what the client wrote before
 * it, nor the proxy's loopback address shared by all. */
static void test_forwarded_for(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct tb_httpc_session ana;
	struct tb_httpc_resp r;
	char good[120];
	const char *bad = "/api/v1/invites/"
			  "11111111111111111111111111111111"
			  "11111111111111111111111111111111";
	assert_int_equal(tb_httpc_login(e->http, "ana", PW_ADMIN, &ana), 200);
	assert_int_equal(
		tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true, "{\"name\":\"gia\"}", &r),
		201);
	json_t *o = json_loads(r.body, 0, NULL);
	snprintf(good, sizeof good, "/api/v1/invites/%s",
		 json_string_value(json_object_get(o, "token")));
	json_decref(o);
	tb_httpc_free(&r);
	int last = 0;
	for (int i = 0; i < 13; i++)
		last = invitation_via_proxy(e, bad, "192.0.2.1, 198.51.100.7");
	assert_int_equal(last, 429);
	assert_int_equal(invitation_via_proxy(e, good, "198.51.100.7"), 429);
	/* Another client behind the same proxy, one who claims to be the first
	 * before the proxy's address, and a header that is no address (the
	 * socket's address counts): not slowed. */
	assert_int_equal(invitation_via_proxy(e, good, "198.51.100.8"), 200);
	assert_int_equal(invitation_via_proxy(e, good, "198.51.100.7, 198.51.100.9"), 200);
	assert_int_equal(invitation_via_proxy(e, good, "not-an-address"), 200);
}

/* One client address holds at most 8 challenges even in an empty table: a
 * ninth replaces its oldest. */
static void test_challenges_per_client(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct challenge c[9];
	struct tb_httpc_resp r;
	char body[100], sig[2 * TB_SIGLEN + 1], host[40];
	snprintf(host, sizeof host, "127.0.0.1:%u", e->http);
	for (int i = 0; i < 9; i++)
		assert_int_equal(challenge_from(e, "127.0.0.9", dora_body(e, body), &c[i]), 200);
	sign_terms(sig, &e->dora, &c[0], e->dora.pk.b, host);
	assert_int_equal(sign_in_from(e, "127.0.0.9", &c[0], sig, NULL, &r), 401);
	assert_non_null(strstr(r.body, "unknown, used or expired"));
	tb_httpc_free(&r);
	sign_terms(sig, &e->dora, &c[8], e->dora.pk.b, host);
	assert_int_equal(sign_in_from(e, "127.0.0.9", &c[8], sig, NULL, &r), 200);
	tb_httpc_free(&r);
}

/* An IPv4 address of this machine that is not loopback (a request from it
 * is one "from another machine"), or false when there is none. */
static bool non_loopback_addr(char out[INET_ADDRSTRLEN])
{
	struct ifaddrs *all, *i;
	bool found = false;
	if (getifaddrs(&all))
		return false;
	for (i = all; i && !found; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
			continue;
		const struct in_addr *a = &((const struct sockaddr_in *)i->ifa_addr)->sin_addr;
		found = (ntohl(a->s_addr) >> 24) != 127 &&
			inet_ntop(AF_INET, a, out, INET_ADDRSTRLEN);
	}
	freeifaddrs(all);
	return found;
}

/* A join over plain HTTP from another machine is refused before the
 * invitation is spent (the new member's sign-in would be refused). */
static void test_join_plain_http(void **state)
{
	(void)state;
	struct env *e = env_get();
	char addr[INET_ADDRSTRLEN], path[120], hex[2 * TB_KEY_LEN + 1], body[100];
	if (!non_loopback_addr(addr))
		skip();
	struct tb_httpc_session ana;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(e->http, "ana", PW_ADMIN, &ana), 200);
	assert_int_equal(
		tb_httpc(e->http, "POST", "/api/v1/invites", &ana, true, "{\"name\":\"gus\"}", &r),
		201);
	json_t *o = json_loads(r.body, 0, NULL);
	snprintf(path, sizeof path, "/api/v1/invites/%s",
		 json_string_value(json_object_get(o, "token")));
	json_decref(o);
	tb_httpc_free(&r);
	struct tb_keypair gus;
	keypair(&gus, 13);
	tb_hex_encode(hex, gus.pk.b, TB_KEY_LEN);
	snprintf(body, sizeof body, "{\"public_key\":\"%s\"}", hex);
	int st = tb_httpc_from(addr, e->http, "POST", path, NULL, false, body, &r);
	if (st == 0) /* this machine does not route its own address to loopback */
		skip();
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc_from("127.0.0.8", e->http, "POST", path, NULL, false, body, &r),
			 201);
	tb_httpc_free(&r);
}

/* One member signing in over and over ends only their own oldest sessions:
 * never a coordinator's, never more than the fifth one back. */
static void test_sessions_capped(void **state)
{
	(void)state;
	struct env *e = env_get();
	struct tb_httpc_session ana, dora[5], s;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(e->http, "ana", PW_ADMIN, &ana), 200);
	for (int i = 0; i < 5; i++)
		assert_int_equal(dora_signs_in(e, "127.0.0.7", false, &dora[i]), 200);
	assert_int_equal(tb_httpc(e->http, "GET", "/api/v1/session", &dora[0], false, NULL, &r),
			 401);
	tb_httpc_free(&r);
	for (int i = 1; i < 5; i++) {
		assert_int_equal(
			tb_httpc(e->http, "GET", "/api/v1/session", &dora[i], false, NULL, &r),
			200);
		tb_httpc_free(&r);
	}
	/* More sign-ins than the table has sessions: ana's stays. */
	for (int i = 0; i < 260; i++)
		assert_int_equal(dora_signs_in(e, "127.0.0.7", false, &s), 200);
	assert_int_equal(tb_httpc(e->http, "GET", "/api/v1/session", &ana, false, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"ana\""));
	tb_httpc_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signin),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_invite),
		cmocka_unit_test(test_throttle_kinds),
		cmocka_unit_test(test_forwarded_for),
		cmocka_unit_test(test_sessions_capped),
		cmocka_unit_test(test_join_plain_http),
		cmocka_unit_test(test_challenges_per_client),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, teardown);
}
