/*
 * test_answers.c: answers to listings (FORMAT.md 17, PROTOCOL.md 7d,
 * API.md "Answers to listings") on two real tallyd processes on 127.0.0.1,
 * Riverside (alice, bob) and Hilltop (hana), each serving its API. alice
 * answers bob's offer in their own community, signed with her own key: bob
 * sees the answer, its notice, and the next step that is his (propose to
 * alice). hana answers bob's request from Hilltop: her node delivers it to
 * Riverside's only, and bob's next step is paying hana@Hilltop. A member
 * cannot answer their own listing, as another member (a signature by
 * another key, or over other terms), nor flood (the per-member cap). A fake
 * peer's forged, oversized and misaddressed answers are each refused with a
 * REFUSED naming the problem, the connection staying open and nothing else
 * lost. A withdrawn listing's answers go.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fed.h"
#include "httpc.h"
#include "memberc.h"
#include "tb_file.h"
#include "tb_node.h"

#define WAIT_MS 60000
enum { RIVER, HILL };

static struct tb_fed *g_f;
static uint16_t g_http[2];

static int call(int node, const char *method, const char *path, const struct tb_httpc_session *s,
		const char *body, struct tb_httpc_resp *r)
{
	return tb_httpc(g_http[node], method, path, s, true, body, r);
}

static void expect(const struct tb_httpc_resp *r, int status, const char *text)
{
	if (r->status != status || !strstr(r->body, text))
		fail_msg("wanted %d with %s, got %d: %s", status, text, r->status, r->body);
}

static json_t *body_json(const struct tb_httpc_resp *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, r->body);
	return j;
}

static const char *jstr(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_string(v))
		fail_msg("no string at %s", k);
	return json_string_value(v);
}

static int setup(void **state)
{
	(void)state;
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", NULL}},
					   {"Hilltop", {"hana", NULL}}};
	g_f = tb_fed_new_spec("answers", 2, spec);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "link", "add", "Hilltop", "--limit-minutes", "600");
	TB_FED_TALLY_IS(g_f, HILL, 0, "link", "add", "Riverside", "--limit-minutes", "600");
	tb_fed_link(g_f, RIVER, HILL);
	tb_fed_link(g_f, HILL, RIVER);
	for (int i = 0; i < 2; i++) {
		char arg[32];
		g_http[i] = tb_fed_free_port();
		snprintf(arg, sizeof arg, "127.0.0.1:%u", g_http[i]);
		tb_fed_start_args(g_f, (size_t)i, (const char *const[]){"--http", arg, NULL});
	}
	tb_fed_wait_converged(g_f, NULL, 0, WAIT_MS);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_fed_free(g_f);
	tb_fed_kill_all();
	return 0;
}

/* A federation listing of bob's, posted with tally: its id. */
static void post(const char *kind, const char *title, char id[33])
{
	TB_FED_TALLY_IS(g_f, RIVER, 0, "listing", "add", "--member", "bob", kind, "--title", title,
			"--federation");
	snprintf(id, 33, "%.32s", g_f->res.out);
}

/* The draft of an answer, signed by kp (or its terms changed first when
 * tamper): the POST's body. */
static void signed_body(int node, const struct tb_httpc_session *s, const char *id,
			const char *community, const char *message, const struct tb_keypair *kp,
			bool tamper, char *out, size_t cap)
{
	char path[128], body[512];
	struct tb_httpc_resp r;
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/answer/draft", id);
	snprintf(body, sizeof body, "{\"community\":\"%s\",\"message\":\"%s\"}", community,
		 message);
	call(node, "POST", path, s, body, &r);
	expect(&r, 200, "\"context\":\"tally/answer/v1\"");
	json_t *d = body_json(&r);
	tb_httpc_free(&r);
	const char *hex = jstr(d, "terms");
	uint8_t terms[TB_ANSWER_MAX], sig[TB_SIGLEN];
	size_t len = strlen(hex) / 2;
	assert_int_equal(tb_hex_decode(terms, len, hex), 0);
	/* The terms are the fields, encoded as FORMAT.md 17.1 says. */
	json_t *f = json_object_get(d, "fields");
	assert_string_equal(jstr(f, "message"), message);
	assert_string_equal(jstr(f, "listing_id"), id);
	if (tamper)
		terms[len - 1] ^= 1;
	tb_sign(sig, kp, TB_CTX_ANSWER, terms, len);
	char sigh[2 * TB_SIGLEN + 1];
	tb_hex_encode(sigh, sig, TB_SIGLEN);
	snprintf(out, cap,
		 "{\"community\":\"%s\",\"message\":\"%s\",\"created\":%lld,\"signature\":\"%s\"}",
		 community, message, (long long)json_integer_value(json_object_get(f, "created")),
		 sigh);
	json_decref(d);
}

static int answer(int node, const struct tb_httpc_session *s, const char *id, const char *community,
		  const char *message, const struct tb_keypair *kp, bool tamper,
		  struct tb_httpc_resp *r)
{
	char body[1024], path[128];
	signed_body(node, s, id, community, message, kp, tamper, body, sizeof body);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/answer", id);
	return call(node, "POST", path, s, body, r);
}

static void community_hex(int node, char out[65])
{
	char path[TB_FED_PATH + 32];
	struct tb_keypair kp;
	snprintf(path, sizeof path, "%s/keys/node.key", g_f->node[node].data);
	assert_int_equal(tb_keyfile_read(path, &kp, TB_FED_PASS, strlen(TB_FED_PASS)), 0);
	tb_hex_encode(out, kp.pk.b, TB_KEY_LEN);
	tb_keypair_wipe(&kp);
}

/* bob's answers (GET /me/listings/answers) as a string. */
static char *answers_of(const struct tb_httpc_session *bob)
{
	struct tb_httpc_resp r;
	call(RIVER, "GET", "/api/v1/me/listings/answers", bob, NULL, &r);
	expect(&r, 200, "\"answers\":");
	char *s = strdup(r.body);
	tb_httpc_free(&r);
	return s;
}

static void test_answers(void **state)
{
	(void)state;
	struct tb_httpc_session alice, bob, hana;
	struct tb_keypair ka, kb, kh;
	struct tb_httpc_resp r;
	char offer[33], request[33], river[65], hill[65];
	community_hex(RIVER, river);
	community_hex(HILL, hill);
	tb_member_signin(g_http[RIVER], g_f->node[RIVER].data, "alice", &alice, &ka);
	tb_member_signin(g_http[RIVER], g_f->node[RIVER].data, "bob", &bob, &kb);
	tb_member_signin(g_http[HILL], g_f->node[HILL].data, "hana", &hana, &kh);
	post("--offer", "Bike repairs", offer);
	post("--request", "Lift to the clinic", request);

	/* Own community, an offer: the poster proposes next. */
	answer(RIVER, &alice, offer, river, "Saturday suits me", &ka, false, &r);
	expect(&r, 201, "\"delivery\":\"stored\"");
	tb_httpc_free(&r);
	char *s = answers_of(&bob);
	if (!strstr(s, "\"from\":\"alice\"") || !strstr(s, "\"message\":\"Saturday suits me\"") ||
	    !strstr(s, "\"action\":\"propose\"") || !strstr(s, "\"to\":\"alice\"") ||
	    !strstr(s, "[listing "))
		fail_msg("bob's answers: %s", s);
	free(s);
	call(RIVER, "GET", "/api/v1/me/notices", &bob, NULL, &r);
	expect(&r, 200, "\"kind\":\"answer\"");
	expect(&r, 200, "\"title\":\"Bike repairs\"");
	tb_httpc_free(&r);

	/* Not one's own listing, not as another member, not other terms. */
	char body[512], path[128];
	snprintf(body, sizeof body, "{\"community\":\"%s\",\"message\":\"me\"}", river);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/answer/draft", offer);
	call(RIVER, "POST", path, &bob, body, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	answer(RIVER, &alice, request, river, "as bob", &kb, false, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	answer(RIVER, &alice, request, river, "tampered", &ka, true, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	call(RIVER, "POST", "/api/v1/me/listings/00112233445566778899aabbccddeeff/answer/draft",
	     &alice, "{}", &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	char longm[300];
	memset(longm, 'x', 281);
	longm[281] = 0;
	snprintf(body, sizeof body, "{\"community\":\"%s\",\"message\":\"%s\"}", river, longm);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/answer/draft", request);
	call(RIVER, "POST", path, &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "ETOOLONG");
	tb_httpc_free(&r);

	/* Another community, a request: hana's node delivers her answer to
	 * Riverside's; bob pays hana@Hilltop next. */
	char *found = NULL;
	for (int i = 0; i < 600 && !found; i++) {
		int st = answer(HILL, &hana, request, river, "I drive on Tuesdays", &kh, false, &r);
		if (st == 201)
			found = strdup(r.body);
		else if (st != 404)
			fail_msg("hana's answer: %d %s", st, r.body);
		tb_httpc_free(&r);
		if (!found)
			tb_fed_sleep_ms(100);
	}
	assert_non_null(found);
	if (!strstr(found, "\"delivery\":\"sent\""))
		fail_msg("hana's answer: %s", found);
	free(found);
	s = NULL;
	for (int i = 0; i < 600; i++) {
		free(s);
		s = answers_of(&bob);
		if (strstr(s, "hana@Hilltop"))
			break;
		tb_fed_sleep_ms(100);
	}
	if (!strstr(s, "\"from\":\"hana@Hilltop\"") || !strstr(s, "\"action\":\"pay\"") ||
	    !strstr(s, "\"to\":\"hana@Hilltop\"") ||
	    !strstr(s, "\"message\":\"I drive on Tuesdays\""))
		fail_msg("bob's answers: %s", s);
	free(s);
	tb_fed_wait_log_line(g_f, RIVER, "answer from hana to a listing of ours stored", NULL,
			     10000);

	/* The withdrawn offer's answer goes. */
	TB_FED_TALLY_IS(g_f, RIVER, 0, "listing", "withdraw", offer);
	s = answers_of(&bob);
	if (strstr(s, "Saturday suits me"))
		fail_msg("a withdrawn listing's answer still shows: %s", s);
	free(s);
	(void)hill;
	tb_keypair_wipe(&ka);
	tb_keypair_wipe(&kb);
	tb_keypair_wipe(&kh);
}

/* One answer object made here (attested): listing of listing_log, from
 * from_log's member 1 named name. */
static size_t forge(uint8_t *out, const uint8_t *listing_log, const char *id_hex,
		    const uint8_t *from_log, const char *name, const char *message)
{
	struct tb_answer a = {0};
	memcpy(a.listing_log, listing_log, TB_KEY_LEN);
	assert_int_equal(tb_hex_decode(a.listing_id, TB_LISTING_ID_LEN, id_hex), 0);
	memcpy(a.from_log, from_log, TB_KEY_LEN);
	a.member = 1;
	a.name = (struct tb_view){(const uint8_t *)name, strlen(name)};
	a.message = (struct tb_view){(const uint8_t *)message, strlen(message)};
	a.created = (uint64_t)time(NULL);
	a.attested = 1;
	size_t len = 0;
	assert_int_equal(tb_answer_encode(out, TB_ANSWER_MAX, &len, &a), 0);
	return len;
}

/* A peer's bad answers: each refused with REFUSED naming why, the
 * connection kept, nothing stored. */
static void test_peer_refusals(void **state)
{
	(void)state;
	struct tb_httpc_session bob;
	struct tb_keypair kb;
	uint8_t psk[32], river[TB_KEY_LEN], hill[TB_KEY_LEN];
	char id[33], rhex[65], hhex[65];
	tb_member_signin(g_http[RIVER], g_f->node[RIVER].data, "bob", &bob, &kb);
	post("--offer", "Forged answers", id);
	community_hex(RIVER, rhex);
	community_hex(HILL, hhex);
	assert_int_equal(tb_hex_decode(river, TB_KEY_LEN, rhex), 0);
	assert_int_equal(tb_hex_decode(hill, TB_KEY_LEN, hhex), 0);
	assert_int_equal(tb_fedkey_read(g_f->fedkey, psk), 0);
	struct tb_fake *p = calloc(1, sizeof *p);
	assert_non_null(p);
	p->fd = -1;
	tb_fake_open(p, g_f->node[RIVER].port, psk, 960);
	static uint8_t objs[4][TB_ANSWER_MAX];
	size_t lens[4] = {
		forge(objs[0], river, id, hill, "hana", "posing as Hilltop"),
		forge(objs[1], hill, id, p->id.pk.b, "x", "a listing not of Riverside"),
		3,
		forge(objs[3], river, id, p->id.pk.b, "x", "from a log nobody holds"),
	};
	memcpy(objs[2], "\x01\x02\x03", 3);
	const char *says[4] = {"only the responder's own community", "not of this node's community",
			       "malformed answer object", "member"};
	for (size_t i = 0; i < 4; i++) {
		uint8_t buf[2 + TB_ANSWER_MAX + 16];
		size_t len = 0;
		assert_int_equal(
			tb_records_add(buf, sizeof buf, &len, (struct tb_view){objs[i], lens[i]}),
			0);
		struct tb_peer_msg m = {.type = TB_MSG_ANSWERS};
		m.u.answers.records = (struct tb_view){buf, len};
		assert_int_equal(tb_fake_send(p, &m), 0);
		assert_int_equal(tb_fake_expect(p, TB_MSG_REFUSED, &m, 10000), 1);
		char reason[256];
		snprintf(reason, sizeof reason, "%.*s", (int)m.u.refused.reason.len,
			 (const char *)m.u.refused.reason.p);
		if (!strstr(reason, says[i]))
			fail_msg("answer %zu: reason '%s' does not say '%s'", i, reason, says[i]);
	}
	/* Still open, and none of them kept. */
	struct tb_peer_msg m = {.type = TB_MSG_PING};
	m.u.ping.nonce = 78;
	assert_int_equal(tb_fake_send(p, &m), 0);
	assert_int_equal(tb_fake_expect(p, TB_MSG_PONG, &m, 10000), 1);
	char *s = answers_of(&bob);
	if (strstr(s, "posing as") || strstr(s, "nobody holds"))
		fail_msg("a refused answer is kept: %s", s);
	free(s);
	tb_fake_close(p);
	free(p);
	tb_keypair_wipe(&kb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_peer_refusals),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
