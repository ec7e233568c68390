/*
 * memberc.c: a member's sign-in as their browser makes it (memberc.h).
 */
#include <stdbool.h>

#include "memberc.h"
#include "fed.h"
#include "tb_file.h"
#include "tb_proto.h"
#include "testutil.h" /* cmocka */

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *body_json(const struct tb_httpc_resp *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, r->body);
	return j;
}

static const char *jstr(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);
	if (b)
		v = json_object_get(v, b);
	if (!json_is_string(v))
		fail_msg("no string at %s.%s", a, b ? b : "");
	return json_string_value(v);
}

static void hexdec(uint8_t *out, size_t len, const char *hex)
{
	assert_int_equal(strlen(hex), 2 * len);
	assert_int_equal(tb_hex_decode(out, len, hex), 0);
}

void tb_member_signin(uint16_t port, const char *data, const char *name, struct tb_httpc_session *s,
		      struct tb_keypair *kp)
{
	struct tb_httpc_resp r;
	char body[512], cookie[400], path[TB_FED_PATH + 200];
	snprintf(body, sizeof body, "{\"member\":\"%s\"}", name);
	assert_int_equal(tb_httpc(port, "POST", "/api/v1/signin/challenge", NULL, false, body, &r),
			 200);
	json_t *c = body_json(&r);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "%s/keys/members/%s.key", data, jstr(c, "member", "key"));
	assert_int_equal(tb_keyfile_read(path, kp, TB_FED_MEMBER_PASS, strlen(TB_FED_MEMBER_PASS)),
			 0);
	struct tb_signin_terms t;
	hexdec(t.log_id, TB_KEY_LEN, jstr(c, "log_id", NULL));
	json_t *no = json_object_get(json_object_get(c, "member"), "number");
	assert_true(json_is_integer(no));
	t.member = (uint64_t)json_integer_value(no);
	memcpy(t.key, kp->pk.b, TB_KEY_LEN);
	hexdec(t.challenge, TB_HASHLEN, jstr(c, "challenge", NULL));
	char host[32];
	snprintf(host, sizeof host, "127.0.0.1:%u", port);
	t.host = (struct tb_view){(const uint8_t *)host, strlen(host)};
	uint8_t buf[512], sig[TB_SIGLEN];
	size_t len;
	assert_int_equal(tb_terms_encode(buf, sizeof buf, &len, &tb_def_signin_terms, &t), 0);
	tb_sign(sig, kp, TB_CTX_SIGNIN, buf, len);
	char sighex[2 * TB_SIGLEN + 1];
	tb_hex_encode(sighex, sig, TB_SIGLEN);
	snprintf(body, sizeof body, "{\"challenge\":\"%s\",\"signature\":\"%s\"}",
		 jstr(c, "challenge", NULL), sighex);
	json_decref(c);
	int st = tb_httpc(port, "POST", "/api/v1/signin", NULL, false, body, &r);
	if (st != 200 || !tb_httpc_header(&r, "Set-Cookie", cookie, sizeof cookie))
		fail_msg("sign-in of %s: %d %s", name, st, r.body);
	memset(s, 0, sizeof *s);
	snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(cookie, ";"), cookie);
	json_t *j = body_json(&r);
	snprintf(s->csrf, sizeof s->csrf, "%s", jstr(j, "csrf_token", NULL));
	json_decref(j);
	tb_httpc_free(&r);
}
