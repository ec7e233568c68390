/*
 * test_member_keys.c: a member's key file kept at the node for their other
 * devices, and device links (docs/API.md, "Key file for other devices";
 * FORMAT.md 8.4), against a real tallyd on 127.0.0.1 with alice and bob.
 * Refused: a key file of another member, bytes that are no key file, a
 * device link while no file is kept, a link used twice, a fourth link of one
 * member, a coordinator's session on the member's routes. The file leaves
 * the node only for a link's token, exactly as it was kept, and never once
 * it is deleted. The open invitations are listed without their tokens and
 * one is revoked.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed.h"
#include "httpc.h"
#include "memberc.h"

#define PW_COORD "coordinator-pw"

static struct tb_fed *g_f;
static uint16_t g_http;

static int call(const char *method, const char *path, const struct tb_httpc_session *s,
		const char *body, struct tb_httpc_resp *r)
{
	return tb_httpc(g_http, method, path, s, true, body, r);
}

static void expect(const struct tb_httpc_resp *r, int status, const char *text)
{
	if (r->status != status || !strstr(r->body, text))
		fail_msg("wanted %d with %s, got %d: %s", status, text, r->status, r->body);
}

/* The hex of a member's key file (made by `tally member add`). */
static void keyfile_hex(const struct tb_keypair *kp, char out[2 * TB_KEYFILE_LEN + 1])
{
	char pk[2 * TB_KEY_LEN + 1], path[TB_FED_PATH + 200];
	tb_hex_encode(pk, kp->pk.b, TB_KEY_LEN);
	snprintf(path, sizeof path, "%s/keys/members/%s.key", g_f->node[0].data, pk);
	size_t len = 0;
	uint8_t *b = tb_test_read_file(path, &len);
	assert_non_null(b);
	assert_int_equal(len, TB_KEYFILE_LEN);
	tb_hex_encode(out, b, len);
	free(b);
}

/* A device link's token from its 201 answer. */
static void token_of(const struct tb_httpc_resp *r, char out[65])
{
	json_t *j = json_loads(r->body, 0, NULL);
	assert_non_null(j);
	const char *t = json_string_value(json_object_get(j, "token"));
	const char *svg = json_string_value(json_object_get(j, "qr_svg"));
	assert_non_null(t);
	assert_non_null(svg);
	assert_true(!strncmp(svg, "<svg", 4));
	snprintf(out, 65, "%s", t);
	json_decref(j);
}

static void test_keys(void **state)
{
	(void)state;
	struct tb_httpc_session alice, bob, cora;
	struct tb_keypair ka, kb;
	struct tb_httpc_resp r;
	char body[400], path[128], afile[2 * TB_KEYFILE_LEN + 1], bfile[2 * TB_KEYFILE_LEN + 1];
	tb_member_signin(g_http, g_f->node[0].data, "alice", &alice, &ka);
	tb_member_signin(g_http, g_f->node[0].data, "bob", &bob, &kb);
	assert_int_equal(tb_httpc_login(g_http, "cora", PW_COORD, &cora), 200);
	keyfile_hex(&ka, afile);
	keyfile_hex(&kb, bfile);

	call("GET", "/api/v1/me/keyfile", &alice, NULL, &r);
	expect(&r, 200, "\"stored\":false");
	tb_httpc_free(&r);
	call("POST", "/api/v1/me/device-links", &alice, "{}", &r);
	expect(&r, 409, "no key file of alice");
	tb_httpc_free(&r);
	/* bob's file, bytes that are no key file, and a short one: nothing kept. */
	snprintf(body, sizeof body, "{\"key_file\":\"%s\"}", bfile);
	call("POST", "/api/v1/me/keyfile", &alice, body, &r);
	expect(&r, 400, "another key than alice's");
	tb_httpc_free(&r);
	memset(body, 0, sizeof body);
	snprintf(body, sizeof body, "{\"key_file\":\"%0280d\"}", 0);
	call("POST", "/api/v1/me/keyfile", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EKEYFILE");
	tb_httpc_free(&r);
	call("POST", "/api/v1/me/keyfile", &alice, "{\"key_file\":\"abcd\"}", &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	call("GET", "/api/v1/me/keyfile", &alice, NULL, &r);
	expect(&r, 200, "\"stored\":false");
	tb_httpc_free(&r);
	/* A coordinator's session is not a member's. */
	call("GET", "/api/v1/me/keyfile", &cora, NULL, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);

	/* Kept; never handed to a session; once for a link, exactly as kept. */
	snprintf(body, sizeof body, "{\"key_file\":\"%s\"}", afile);
	call("POST", "/api/v1/me/keyfile", &alice, body, &r);
	expect(&r, 201, "\"stored\":true");
	assert_null(strstr(r.body, afile));
	tb_httpc_free(&r);
	call("POST", "/api/v1/me/device-links", &alice, "{}", &r);
	expect(&r, 201, "member.html#/device/");
	char token[65];
	token_of(&r, token);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/device/%s", token);
	call("POST", path, NULL, "{}", &r);
	expect(&r, 200, afile);
	expect(&r, 200, "\"member\":\"alice\"");
	tb_httpc_free(&r);
	call("POST", path, NULL, "{}", &r);
	expect(&r, 404, "unknown, used or expired");
	tb_httpc_free(&r);
	/* At most 3 links of one member wait. */
	for (int i = 0; i < 3; i++) {
		call("POST", "/api/v1/me/device-links", &alice, "{}", &r);
		if (i == 0)
			token_of(&r, token);
		expect(&r, 201, "token");
		tb_httpc_free(&r);
	}
	call("POST", "/api/v1/members/alice/device-links", &cora, "{}", &r);
	expect(&r, 409, "EFULL");
	tb_httpc_free(&r);
	/* A coordinator's link for bob, who keeps no file; for nobody. */
	call("POST", "/api/v1/members/bob/device-links", &cora, "{}", &r);
	expect(&r, 409, "no key file of bob");
	tb_httpc_free(&r);
	call("POST", "/api/v1/members/nobody/device-links", &cora, "{}", &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	/* Deleted: a link made before hands out nothing. */
	call("DELETE", "/api/v1/me/keyfile", &alice, NULL, &r);
	expect(&r, 200, "\"stored\":false");
	tb_httpc_free(&r);
	call("DELETE", "/api/v1/me/keyfile", &alice, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/device/%s", token);
	call("POST", path, NULL, "{}", &r);
	expect(&r, 404, "no key file");
	assert_null(strstr(r.body, afile));
	tb_httpc_free(&r);
}

/* Invitations listed without their tokens; one revoked stops working. */
static void test_invites_open(void **state)
{
	(void)state;
	struct tb_httpc_session cora;
	struct tb_httpc_resp r;
	char path[128];
	assert_int_equal(tb_httpc_login(g_http, "cora", PW_COORD, &cora), 200);
	call("POST", "/api/v1/invites", &cora, "{\"name\":\"erin\",\"valid_days\":1}", &r);
	expect(&r, 201, "qr_svg");
	json_t *j = json_loads(r.body, 0, NULL);
	char id[65], token[65];
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(j, "id")));
	snprintf(token, sizeof token, "%s", json_string_value(json_object_get(j, "token")));
	json_decref(j);
	tb_httpc_free(&r);
	call("GET", "/api/v1/invites", &cora, NULL, &r);
	expect(&r, 200, id);
	assert_null(strstr(r.body, token));
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/invites/%s", id);
	call("DELETE", path, &cora, NULL, &r);
	expect(&r, 200, "revoked");
	tb_httpc_free(&r);
	call("DELETE", path, &cora, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/invites/%s", token);
	call("GET", path, NULL, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
}

/* Whether the node keeps a key file for NAME: a coordinator's device link
 * for them is made (201) only then. */
static bool kept_for(const struct tb_httpc_session *cora, const char *name)
{
	char path[128];
	struct tb_httpc_resp r;
	snprintf(path, sizeof path, "/api/v1/members/%s/device-links", name);
	call("POST", path, cora, "{}", &r);
	bool kept = r.status == 201;
	if (!kept && !strstr(r.body, "no key file"))
		fail_msg("link for %s: %d %s", name, r.status, r.body);
	tb_httpc_free(&r);
	return kept;
}

static void keep_file(const char *name)
{
	struct tb_httpc_session s;
	struct tb_keypair kp;
	struct tb_httpc_resp r;
	char file[2 * TB_KEYFILE_LEN + 1], body[400];
	tb_member_signin(g_http, g_f->node[0].data, name, &s, &kp);
	keyfile_hex(&kp, file);
	snprintf(body, sizeof body, "{\"key_file\":\"%s\"}", file);
	call("POST", "/api/v1/me/keyfile", &s, body, &r);
	expect(&r, 201, "\"stored\":true");
	tb_httpc_free(&r);
}

/* A member given a new key, or who left, has their kept key file deleted
 * with the entry that records it: it could only help guess an old
 * passphrase. */
static void test_keyfile_forgotten(void **state)
{
	(void)state;
	struct tb_httpc_session cora;
	assert_int_equal(tb_httpc_login(g_http, "cora", PW_COORD, &cora), 200);
	keep_file("dora");
	assert_true(kept_for(&cora, "dora"));
	TB_FED_TALLY_IS(g_f, 0, 0, "member", "rekey", "dora");
	assert_false(kept_for(&cora, "dora"));
	keep_file("fern");
	assert_true(kept_for(&cora, "fern"));
	TB_FED_TALLY_IS(g_f, 0, 0, "member", "remove", "fern", "--keep-balance");
	TB_FED_TALLY_IS(g_f, 0, 0, "member", "reinstate", "fern");
	assert_false(kept_for(&cora, "fern"));
}

static int setup(void **state)
{
	(void)state;
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", "dora", "fern", NULL}}};
	g_f = tb_fed_new_spec("memberkeys", 1, spec);
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/cora.pw", g_f->root);
	assert_int_equal(tb_test_write_file(file, PW_COORD, strlen(PW_COORD)), 0);
	TB_FED_TALLY_IS(g_f, 0, 0, "coordinator", "add", "cora", "--role", "coordinator",
			"--password-file", file);
	g_http = tb_fed_free_port();
	char arg[32];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", g_http);
	const char *on[] = {"--http", arg, NULL};
	tb_fed_start_args(g_f, 0, on);
	tb_fed_wait_log_line(g_f, 0, "console and API on", NULL, 10000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_fed_free(g_f);
	tb_fed_kill_all();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_keys),
					   cmocka_unit_test(test_invites_open),
					   cmocka_unit_test(test_keyfile_forgotten)};
	return cmocka_run_group_tests(tests, setup, teardown);
}
