/*
 * test_api_member.c: members' own exchanges through the API, signed as a
 * member's browser signs them (docs/API.md, "Members' own exchanges"),
 * against real daemons on 127.0.0.1: Riverside (alice, bob, carol; serving
 * the API) and Hilltop (hana). The test is the browser: it signs in with a
 * member's key file, takes the node's draft, re-encodes the terms from the
 * fields itself and signs them. A proposal by alice confirmed by bob; a
 * signature over other terms than the node's refused (a tampered amount, a
 * signature by the wrong member) with nothing kept; a member cannot act as
 * another (carol neither sees nor confirms alice's proposal, alice cannot
 * confirm her own, and a member reads only their own receipts and
 * payments); a coordinator's session has no /me routes; a member's session
 * names the own community and a proposal carries its memo's salt; a payment to
 * hana@Hilltop signed by alice completes; then `tally verify` and `tally
 * audit` pass on the data directory.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fed.h"
#include "httpc.h"
#include "memberc.h"
#include "tb_file.h"

#define PW_COORD "coordinator-pw"

enum { RIVER, HILL };

static struct tb_fed *g_f;
static uint16_t g_http;

static int call(const char *method, const char *path, const struct tb_httpc_session *s,
		const char *body, struct tb_httpc_resp *r)
{
	return tb_httpc(g_http, method, path, s, true, body, r);
}

static json_t *body_json(const struct tb_httpc_resp *r)
{
	json_error_t e;
	json_t *j = json_loads(r->body, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, r->body);
	return j;
}

static const char *jstr(json_t *o, const char *path)
{
	json_t *v = o;
	char key[64];
	for (const char *p = path; v && *p;) {
		size_t n = strcspn(p, ".");
		snprintf(key, sizeof key, "%.*s", (int)n, p);
		v = json_object_get(v, key);
		p += n + (p[n] == '.');
	}
	if (!json_is_string(v))
		fail_msg("no string at %s", path);
	return json_string_value(v);
}

static int64_t jint(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(b ? json_object_get(o, a) : o, b ? b : a);
	if (!json_is_integer(v))
		fail_msg("no integer at %s.%s", a, b ? b : "");
	return json_integer_value(v);
}

static void hexdec(uint8_t *out, size_t len, const char *hex)
{
	assert_int_equal(strlen(hex), 2 * len);
	assert_int_equal(tb_hex_decode(out, len, hex), 0);
}

/* Signs in as a member with their own key (the sign-in terms, FORMAT.md 6.6). */
static void member_signin(const char *name, struct tb_httpc_session *s, struct tb_keypair *kp)
{
	tb_member_signin(g_http, g_f->node[RIVER].data, name, s, kp);
}

static void sign_hex(const struct tb_keypair *kp, enum tb_sigctx ctx, const uint8_t *msg,
		     size_t len, char out[2 * TB_SIGLEN + 1])
{
	uint8_t sig[TB_SIGLEN];
	tb_sign(sig, kp, ctx, msg, len);
	tb_hex_encode(out, sig, TB_SIGLEN);
}

/* The browser's check: the terms re-encoded from the draft's fields are the
 * node's bytes (into out). */
static size_t exchange_terms_of_draft(json_t *d, uint8_t *out, size_t cap)
{
	json_t *f = json_object_get(d, "fields");
	struct tb_exchange_terms t;
	hexdec(t.log_id, TB_KEY_LEN, jstr(f, "log_id"));
	hexdec(t.txid, TB_TXID_LEN, jstr(f, "txid"));
	t.provider = (uint64_t)jint(f, "provider", NULL);
	t.receiver = (uint64_t)jint(f, "receiver", NULL);
	t.minutes = (uint64_t)jint(f, "minutes", NULL);
	const char *cat = jstr(f, "category");
	t.category = (struct tb_view){(const uint8_t *)cat, strlen(cat)};
	hexdec(t.memo_hash, TB_HASHLEN, jstr(f, "memo_hash"));
	t.date = (uint64_t)jint(f, "date", NULL);
	size_t len;
	assert_int_equal(tb_terms_encode(out, cap, &len, &tb_def_exchange_terms, &t), 0);
	char hex[2 * TB_ENTRY_MAX + 1];
	tb_hex_encode(hex, out, len);
	assert_string_equal(hex, jstr(d, "terms"));
	return len;
}

static int setup(void **state)
{
	(void)state;
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", "carol", NULL}},
					   {"Hilltop", {"hana", NULL}}};
	g_f = tb_fed_new_spec("apimember", 2, spec);
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/cora.pw", g_f->root);
	assert_int_equal(tb_test_write_file(file, PW_COORD, strlen(PW_COORD)), 0);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "coordinator", "add", "cora", "--role", "coordinator",
			"--password-file", file);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "link", "add", "Hilltop", "--limit-minutes", "600");
	TB_FED_TALLY_IS(g_f, HILL, 0, "link", "add", "Riverside", "--limit-minutes", "600");
	tb_fed_link(g_f, RIVER, HILL);
	tb_fed_link(g_f, HILL, RIVER);
	const char *off[] = {"--http", "off", NULL};
	tb_fed_start_args(g_f, HILL, off);
	g_http = tb_fed_free_port();
	char arg[32];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", g_http);
	const char *on[] = {"--http", arg, NULL};
	tb_fed_start_args(g_f, RIVER, on);
	tb_fed_wait_log_line(g_f, RIVER, "console and API on", NULL, 10000);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_fed_free(g_f);
	tb_fed_kill_all();
	return 0;
}

static void expect(const struct tb_httpc_resp *r, int status, const char *text)
{
	if (r->status != status || !strstr(r->body, text))
		fail_msg("wanted %d with %s, got %d: %s", status, text, r->status, r->body);
}

static int pending_count(const struct tb_httpc_session *s)
{
	struct tb_httpc_resp r;
	assert_int_equal(call("GET", "/api/v1/me/proposals", s, NULL, &r), 200);
	json_t *j = body_json(&r);
	int n = (int)json_array_size(json_object_get(j, "proposals"));
	json_decref(j);
	tb_httpc_free(&r);
	return n;
}

static void test_propose_confirm(void **state)
{
	(void)state;
	struct tb_httpc_session alice, bob, carol, cora;
	struct tb_keypair ka, kb, kc;
	member_signin("alice", &alice, &ka);
	member_signin("bob", &bob, &kb);
	member_signin("carol", &carol, &kc);
	assert_int_equal(tb_httpc_login(g_http, "cora", PW_COORD, &cora), 200);
	struct tb_httpc_resp r;
	/* A member's session names the own community (the page checks log_id). */
	assert_int_equal(call("GET", "/api/v1/session", &alice, NULL, &r), 200);
	json_t *sj = body_json(&r);
	tb_httpc_free(&r);
	assert_string_equal(jstr(sj, "community.name"), "Riverside");
	assert_int_equal(strlen(jstr(sj, "community.id")), 2 * TB_KEY_LEN);
	const char *draft = "{\"receiver\":\"bob\",\"minutes\":90,\"memo\":\"fixed the fence\","
			    "\"date\":\"2026-11-28\"}";
	/* A coordinator's session has no member routes. */
	call("POST", "/api/v1/me/proposals/draft", &cora, draft, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	/* The draft: the node's bytes are the ones the browser makes. */
	assert_int_equal(call("POST", "/api/v1/me/proposals/draft", &alice, draft, &r), 200);
	json_t *d = body_json(&r);
	tb_httpc_free(&r);
	uint8_t terms[TB_ENTRY_MAX];
	size_t len = exchange_terms_of_draft(d, terms, sizeof terms);
	assert_string_equal(jstr(d, "receiver_name"), "bob");
	char sig[2 * TB_SIGLEN + 1], wrong[2 * TB_SIGLEN + 1], body[1024];
	sign_hex(&ka, TB_CTX_EXCHANGE, terms, len, sig);
	sign_hex(&kc, TB_CTX_EXCHANGE, terms, len, wrong);
	const char *txid = jstr(d, "fields.txid"), *salt = jstr(d, "memo_salt");
	/* Tampered: the amount changed after signing; carol's signature. */
	const char *fmt = "{\"receiver\":\"bob\",\"minutes\":%d,\"memo\":\"fixed the fence\","
			  "\"date\":\"2026-11-28\",\"txid\":\"%s\",\"memo_salt\":\"%s\","
			  "\"signature\":\"%s\"}";
	snprintf(body, sizeof body, fmt, 120, txid, salt, sig);
	call("POST", "/api/v1/me/proposals", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	snprintf(body, sizeof body, fmt, 90, txid, salt, wrong);
	call("POST", "/api/v1/me/proposals", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	/* carol cannot put alice's signed proposal in as her own. */
	snprintf(body, sizeof body, fmt, 90, txid, salt, sig);
	call("POST", "/api/v1/me/proposals", &carol, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	assert_int_equal(pending_count(&alice), 0);
	/* The right one is kept; the same txid again is refused. */
	call("POST", "/api/v1/me/proposals", &alice, body, &r);
	expect(&r, 202, "\"pending\":true");
	tb_httpc_free(&r);
	call("POST", "/api/v1/me/proposals", &alice, body, &r);
	tb_httpc_assert_error(&r, 409, "EDUPTX");
	tb_httpc_free(&r);
	assert_int_equal(pending_count(&alice), 1);
	assert_int_equal(pending_count(&bob), 1);
	assert_int_equal(pending_count(&carol), 0);
	char path[160];
	snprintf(path, sizeof path, "/api/v1/me/proposals/%s", txid);
	call("GET", path, &carol, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	call("GET", path, &bob, NULL, &r);
	expect(&r, 200, "\"mine\":\"receiver\"");
	json_t *p = body_json(&r);
	tb_httpc_free(&r);
	assert_string_equal(jstr(p, "terms"), jstr(d, "terms"));
	assert_string_equal(jstr(p, "fields.log_id"), jstr(sj, "community.id"));
	/* The receiver gets the memo's salt and checks the memo hash with it. */
	uint8_t msalt[TB_MEMO_SALT_LEN], mhash[TB_HASHLEN], want[TB_HASHLEN];
	hexdec(msalt, sizeof msalt, jstr(p, "memo_salt"));
	hexdec(want, sizeof want, jstr(p, "fields.memo_hash"));
	tb_memo_hash(mhash, msalt, "fixed the fence", strlen("fixed the fence"));
	assert_memory_equal(mhash, want, TB_HASHLEN);
	assert_string_equal(jstr(p, "memo_salt"), salt);
	json_decref(p);
	json_decref(sj);
	/* Confirming: not by carol, not by alice, not with alice's signature. */
	snprintf(path, sizeof path, "/api/v1/me/proposals/%s/confirm", txid);
	snprintf(body, sizeof body, "{\"signature\":\"%s\"}", sig);
	call("POST", path, &carol, body, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	call("POST", path, &alice, body, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("POST", path, &bob, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	sign_hex(&kb, TB_CTX_EXCHANGE, terms, len, sig);
	snprintf(body, sizeof body, "{\"signature\":\"%s\"}", sig);
	call("POST", path, &bob, body, &r);
	expect(&r, 201, "\"seq\":");
	tb_httpc_free(&r);
	assert_int_equal(pending_count(&bob), 0);
	call("GET", "/api/v1/me/statement", &bob, NULL, &r);
	expect(&r, 200, "\"memo\":\"fixed the fence\"");
	assert_null(strstr(r.body, "\"name\":\"alice\",\"key\""));
	tb_httpc_free(&r);
	/* Receipts: bob's and alice's exchange, not carol's. */
	snprintf(path, sizeof path, "/api/v1/me/receipts/%s", txid);
	call("GET", path, &carol, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTX");
	tb_httpc_free(&r);
	call("GET", path, &bob, NULL, &r);
	assert_int_equal(r.status, 200);
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/receipt.bin", g_f->root);
	assert_int_equal(tb_test_write_file(file, r.body, r.len), 0);
	tb_httpc_free(&r);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "receipt", "verify", file);
	/* A rejected proposal is gone, for both. */
	assert_int_equal(call("POST", "/api/v1/me/proposals/draft", &alice, draft, &r), 200);
	json_decref(d);
	d = body_json(&r);
	tb_httpc_free(&r);
	len = exchange_terms_of_draft(d, terms, sizeof terms);
	sign_hex(&ka, TB_CTX_EXCHANGE, terms, len, sig);
	snprintf(body, sizeof body, fmt, 90, jstr(d, "fields.txid"), jstr(d, "memo_salt"), sig);
	call("POST", "/api/v1/me/proposals", &alice, body, &r);
	expect(&r, 202, "\"pending\":true");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/me/proposals/%s/reject", jstr(d, "fields.txid"));
	call("POST", path, &bob, "{}", &r);
	expect(&r, 200, "\"rejected\":true");
	tb_httpc_free(&r);
	assert_int_equal(pending_count(&alice), 0);
	json_decref(d);
	tb_keypair_wipe(&ka);
	tb_keypair_wipe(&kb);
	tb_keypair_wipe(&kc);
}

static bool payment_is(const struct tb_httpc_session *s, const char *txid, const char *state)
{
	char path[160], want[64];
	snprintf(path, sizeof path, "/api/v1/me/payments/%s", txid);
	snprintf(want, sizeof want, "\"state\":\"%s\"", state);
	struct tb_httpc_resp r;
	call("GET", path, s, NULL, &r);
	bool is = r.status == 200 && strstr(r.body, want);
	tb_httpc_free(&r);
	return is;
}

static void test_pay_other_community(void **state)
{
	(void)state;
	struct tb_httpc_session alice, bob;
	struct tb_keypair ka, kb;
	member_signin("alice", &alice, &ka);
	member_signin("bob", &bob, &kb);
	struct tb_httpc_resp r;
	const char *draft = "{\"to\":\"hana@Hilltop\",\"minutes\":45,\"memo\":\"tutoring\"}";
	/* The draft is refused while Riverside lacks Hilltop's trust line. */
	int st = 0;
	for (int i = 0; i < 300; i++) {
		st = call("POST", "/api/v1/me/payments/draft", &alice, draft, &r);
		if (st == 200)
			break;
		tb_httpc_free(&r);
		tb_fed_sleep_ms(100);
	}
	assert_int_equal(st, 200);
	json_t *d = body_json(&r);
	tb_httpc_free(&r);
	json_t *f = json_object_get(d, "fields");
	assert_string_equal(jstr(d, "to_community.name"), "Hilltop");
	assert_string_equal(jstr(d, "to_community.id"), jstr(f, "to_log"));
	struct tb_xprepare_terms t = {0}; /* a direct payment: no lock, no route */
	hexdec(t.log_id, TB_KEY_LEN, jstr(f, "log_id"));
	hexdec(t.txid, TB_TXID_LEN, jstr(f, "txid"));
	t.member = (uint64_t)jint(f, "member", NULL);
	hexdec(t.to_log, TB_KEY_LEN, jstr(f, "to_log"));
	t.to_name = (struct tb_view){(const uint8_t *)"hana", 4};
	t.minutes = 45;
	t.category = (struct tb_view){(const uint8_t *)"", 0};
	hexdec(t.memo_hash, TB_HASHLEN, jstr(f, "memo_hash"));
	t.date = (uint64_t)jint(f, "date", NULL);
	t.expires = (uint64_t)jint(f, "expires", NULL);
	uint8_t terms[TB_ENTRY_MAX];
	size_t len;
	assert_int_equal(tb_terms_encode(terms, sizeof terms, &len, &tb_def_xprepare_terms, &t), 0);
	char hex[2 * TB_ENTRY_MAX + 1], sig[2 * TB_SIGLEN + 1], body[1024], date[40];
	tb_hex_encode(hex, terms, len);
	assert_string_equal(hex, jstr(d, "terms"));
	snprintf(date, sizeof date, "%04llu-%02llu-%02llu", (unsigned long long)t.date / 10000,
		 (unsigned long long)t.date / 100 % 100, (unsigned long long)t.date % 100);
	const char *fmt = "{\"to\":\"hana@Hilltop\",\"minutes\":%d,\"memo\":\"tutoring\","
			  "\"date\":\"%s\",\"expires\":%llu,\"txid\":\"%s\",\"memo_salt\":\"%s\","
			  "\"signature\":\"%s\"}";
	/* bob's signature, or alice's over another amount: refused. */
	sign_hex(&kb, TB_CTX_XPREPARE, terms, len, sig);
	snprintf(body, sizeof body, fmt, 45, date, (unsigned long long)t.expires, jstr(f, "txid"),
		 jstr(d, "memo_salt"), sig);
	call("POST", "/api/v1/me/payments", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	sign_hex(&ka, TB_CTX_XPREPARE, terms, len, sig);
	snprintf(body, sizeof body, fmt, 50, date, (unsigned long long)t.expires, jstr(f, "txid"),
		 jstr(d, "memo_salt"), sig);
	call("POST", "/api/v1/me/payments", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	/* bob cannot send alice's signed payment as his. */
	snprintf(body, sizeof body, fmt, 45, date, (unsigned long long)t.expires, jstr(f, "txid"),
		 jstr(d, "memo_salt"), sig);
	call("POST", "/api/v1/me/payments", &bob, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	call("POST", "/api/v1/me/payments", &alice, body, &r);
	expect(&r, 202, "\"state\":\"held\",\"payer\":\"alice@Riverside\"");
	tb_httpc_free(&r);
	char txid[40];
	snprintf(txid, sizeof txid, "%s", jstr(f, "txid"));
	assert_false(payment_is(&bob, txid, "held"));
	for (int i = 0; i < 300 && !payment_is(&alice, txid, "completed"); i++)
		tb_fed_sleep_ms(100);
	if (!payment_is(&alice, txid, "completed"))
		fail_msg("the payment %s did not complete", txid);
	json_decref(d);
	tb_keypair_wipe(&ka);
	tb_keypair_wipe(&kb);
	/* Everything the test signed as a browser passes verify and audit. */
	tb_fed_stop(g_f, RIVER);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "verify");
	TB_FED_TALLY_IS(g_f, RIVER, 0, "audit", g_f->node[RIVER].data);
}

/* ---- members' own listings (API.md, "Members' own listings") ---- */

/* The browser's part of a listing draft: the terms re-encoded from the
 * fields are the node's bytes; signed with kp into sig. */
static void sign_listing_draft(json_t *d, const struct tb_keypair *kp, char sig[2 * TB_SIGLEN + 1])
{
	json_t *f = json_object_get(d, "fields");
	struct tb_listing_terms t;
	hexdec(t.log_id, TB_KEY_LEN, jstr(f, "log_id"));
	hexdec(t.id, TB_LISTING_ID_LEN, jstr(f, "id"));
	t.version = (uint64_t)jint(f, "version", NULL);
	t.member = (uint64_t)jint(f, "member", NULL);
	t.kind = (uint64_t)jint(f, "kind", NULL);
	const char *title = jstr(f, "title"), *desc = jstr(f, "description"),
		   *cat = jstr(f, "category");
	t.title = (struct tb_view){(const uint8_t *)title, strlen(title)};
	t.description = (struct tb_view){(const uint8_t *)desc, strlen(desc)};
	t.category = (struct tb_view){(const uint8_t *)cat, strlen(cat)};
	t.visibility = (uint64_t)jint(f, "visibility", NULL);
	t.created = (uint64_t)jint(f, "created", NULL);
	t.expires = (uint64_t)jint(f, "expires", NULL);
	t.state = (uint64_t)jint(f, "state", NULL);
	uint8_t buf[TB_LISTING_MAX];
	size_t len;
	assert_int_equal(tb_terms_encode(buf, sizeof buf, &len, &tb_def_listing_terms, &t), 0);
	char hex[2 * TB_LISTING_MAX + 1];
	tb_hex_encode(hex, buf, len);
	assert_string_equal(hex, jstr(d, "terms"));
	assert_string_equal(jstr(d, "context"), "tally/listing/v1");
	sign_hex(kp, TB_CTX_LISTING, buf, len, sig);
}

static json_t *draft_of(const struct tb_httpc_session *s, const char *path, const char *body)
{
	struct tb_httpc_resp r;
	if (call("POST", path, s, body, &r) != 200)
		fail_msg("draft %s: %d %s", path, r.status, r.body);
	json_t *d = body_json(&r);
	tb_httpc_free(&r);
	return d;
}

/* How many listings a member's search finds. */
static int found(const struct tb_httpc_session *s, const char *query)
{
	struct tb_httpc_resp r;
	char path[256];
	snprintf(path, sizeof path, "/api/v1/me/listings%s", query);
	assert_int_equal(call("GET", path, s, NULL, &r), 200);
	json_t *j = body_json(&r);
	int n = (int)json_array_size(json_object_get(j, "listings"));
	json_decref(j);
	tb_httpc_free(&r);
	return n;
}

#define BIKES                                                                              \
	"{\"kind\":\"offer\",\"title\":\"I can fix bikes\",\"description\":\"Saturdays\"," \
	"\"category\":\"\",\"days\":30,\"visibility\":\"federation\""

static void test_listing_post_tampered(void **state)
{
	(void)state;
	struct tb_httpc_session alice, bob, cora;
	struct tb_keypair ka, kb;
	member_signin("alice", &alice, &ka);
	member_signin("bob", &bob, &kb);
	assert_int_equal(tb_httpc_login(g_http, "cora", PW_COORD, &cora), 200);
	struct tb_httpc_resp r;
	call("POST", "/api/v1/me/listings/draft", &cora, BIKES "}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	/* Bad listings: clear errors, nothing drafted. */
	const char *bad[][3] = {
		{"{\"kind\":\"offer\",\"title\":\"x\",\"days\":91}", "400", "EEXPIRY"},
		{"{\"kind\":\"offer\",\"title\":\"x\",\"days\":0}", "400", "EEXPIRY"},
		{"{\"kind\":\"gift\",\"title\":\"x\"}", "400", "EINVAL"},
		{"{\"kind\":\"offer\",\"title\":\"line\\nbreak\"}", "400", "EINVAL"},
		{"{\"kind\":\"offer\",\"title\":\"x\",\"visibility\":\"world\"}", "400", "EINVAL"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		call("POST", "/api/v1/me/listings/draft", &alice, bad[i][0], &r);
		tb_httpc_assert_error(&r, atoi(bad[i][1]), bad[i][2]);
		tb_httpc_free(&r);
	}
	char longt[128], body[2048];
	memset(longt, 'a', 81);
	longt[81] = '\0';
	snprintf(body, sizeof body, "{\"kind\":\"offer\",\"title\":\"%s\"}", longt);
	call("POST", "/api/v1/me/listings/draft", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "ETOOLONG");
	expect(&r, 400, "title");
	tb_httpc_free(&r);
	/* The draft; a tampered title, bob's signature, alice's signed body
	 * sent by bob, an old draft: all refused, nothing kept. */
	json_t *d = draft_of(&alice, "/api/v1/me/listings/draft", BIKES "}");
	char sig[2 * TB_SIGLEN + 1], wrong[2 * TB_SIGLEN + 1];
	sign_listing_draft(d, &ka, sig);
	sign_listing_draft(d, &kb, wrong);
	const char *id = jstr(d, "fields.id");
	long long created = (long long)jint(d, "fields", "created");
	const char *fmt =
		"{\"kind\":\"offer\",\"title\":\"%s\",\"description\":\"Saturdays\","
		"\"category\":\"\",\"days\":30,\"visibility\":\"federation\",\"id\":\"%s\","
		"\"created\":%lld,\"signature\":\"%s\"}";
	snprintf(body, sizeof body, fmt, "I can fix cars", id, created, sig);
	call("POST", "/api/v1/me/listings", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	snprintf(body, sizeof body, fmt, "I can fix bikes", id, created, wrong);
	call("POST", "/api/v1/me/listings", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	snprintf(body, sizeof body, fmt, "I can fix bikes", id, created, sig);
	call("POST", "/api/v1/me/listings", &bob, body, &r);
	tb_httpc_assert_error(&r, 400, "EBADSIG");
	tb_httpc_free(&r);
	snprintf(body, sizeof body, fmt, "I can fix bikes", id, created - 3600, sig);
	call("POST", "/api/v1/me/listings", &alice, body, &r);
	tb_httpc_assert_error(&r, 400, "EEXPIRY");
	tb_httpc_free(&r);
	assert_int_equal(found(&bob, "?text=bikes"), 0);
	/* The signed one is kept, once. */
	snprintf(body, sizeof body, fmt, "I can fix bikes", id, created, sig);
	call("POST", "/api/v1/me/listings", &alice, body, &r);
	expect(&r, 201, "\"at\":\"alice@Riverside\"");
	tb_httpc_free(&r);
	call("POST", "/api/v1/me/listings", &alice, body, &r);
	tb_httpc_assert_error(&r, 409, "EEXISTS");
	tb_httpc_free(&r);
	assert_int_equal(found(&bob, "?text=BIKES&kind=offer"), 1);
	assert_int_equal(found(&bob, "?text=bikes&kind=request"), 0);
	assert_int_equal(found(&bob, "?community=Riverside"), 1);
	assert_int_equal(found(&alice, "?mine=1"), 1);
	assert_int_equal(found(&bob, "?mine=1"), 0);

	/* bob cannot renew or withdraw alice's listing, with a draft or with
	 * alice's own signature. */
	char path[160];
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/withdraw/draft", id);
	call("POST", path, &bob, "{}", &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	json_t *w = draft_of(&alice, path, "{}");
	assert_string_equal(jstr(w, "fields.title"), "withdrawn");
	assert_int_equal(jint(w, "fields", "state"), 1);
	assert_int_equal(jint(w, "fields", "version"), 2);
	sign_listing_draft(w, &ka, sig);
	snprintf(body, sizeof body, "{\"created\":%lld,\"version\":2,\"signature\":\"%s\"}",
		 (long long)jint(w, "fields", "created"), sig);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/withdraw", id);
	call("POST", path, &bob, body, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	assert_int_equal(found(&bob, "?text=bikes"), 1);

	/* Renewed by alice (version 2), so the withdrawal drafted before it
	 * is refused; drafted again it withdraws. */
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/renew/draft", id);
	call("POST", path, &alice, "{\"days\":120}", &r);
	tb_httpc_assert_error(&r, 400, "EEXPIRY");
	tb_httpc_free(&r);
	json_t *rn = draft_of(&alice, path, "{\"days\":60}");
	long long rcreated = (long long)jint(rn, "fields", "created");
	assert_int_equal(jint(rn, "fields", "expires"), rcreated + 60 * 86400);
	sign_listing_draft(rn, &ka, sig);
	char rbody[512];
	snprintf(rbody, sizeof rbody,
		 "{\"days\":60,\"created\":%lld,\"version\":2,\"signature\":\"%s\"}", rcreated,
		 sig);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/renew", id);
	call("POST", path, &alice, rbody, &r);
	expect(&r, 200, "\"version\":2");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/withdraw", id);
	call("POST", path, &alice, body, &r);
	tb_httpc_assert_error(&r, 409, "ECONFLICT");
	tb_httpc_free(&r);
	json_decref(w);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/withdraw/draft", id);
	w = draft_of(&alice, path, "{}");
	sign_listing_draft(w, &ka, sig);
	snprintf(body, sizeof body, "{\"created\":%lld,\"version\":3,\"signature\":\"%s\"}",
		 (long long)jint(w, "fields", "created"), sig);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/withdraw", id);
	call("POST", path, &alice, body, &r);
	expect(&r, 200, "\"state\":\"withdrawn\"");
	tb_httpc_free(&r);
	assert_int_equal(found(&bob, "?text=bikes"), 0);
	assert_int_equal(found(&alice, "?mine=1"), 0);
	json_decref(w);
	json_decref(rn);
	json_decref(d);
	tb_keypair_wipe(&ka);
	tb_keypair_wipe(&kb);
}

/* A response: the memo names the listing, and the proposal made with it
 * carries it to the poster. */
static void test_listing_response(void **state)
{
	(void)state;
	struct tb_httpc_session alice, bob;
	struct tb_keypair ka, kb;
	member_signin("alice", &alice, &ka);
	member_signin("bob", &bob, &kb);
	struct tb_httpc_resp r;
	json_t *d = draft_of(&alice, "/api/v1/me/listings/draft",
			     "{\"kind\":\"request\",\"title\":\"A lift to the clinic\","
			     "\"visibility\":\"community\"}");
	char sig[2 * TB_SIGLEN + 1], body[2048], path[200], id[40];
	sign_listing_draft(d, &ka, sig);
	snprintf(id, sizeof id, "%s", jstr(d, "fields.id"));
	snprintf(body, sizeof body,
		 "{\"kind\":\"request\",\"title\":\"A lift to the clinic\",\"visibility\":"
		 "\"community\",\"id\":\"%s\",\"created\":%lld,\"signature\":\"%s\"}",
		 id, (long long)jint(d, "fields", "created"), sig);
	call("POST", "/api/v1/me/listings", &alice, body, &r);
	expect(&r, 201, "\"visibility\":\"community\"");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/response", id);
	call("GET", path, &alice, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	assert_int_equal(call("GET", path, &bob, NULL, &r), 200);
	json_t *resp = body_json(&r);
	tb_httpc_free(&r);
	assert_string_equal(jstr(resp, "action"), "propose");
	assert_string_equal(jstr(resp, "to"), "alice");
	char memo[300];
	snprintf(memo, sizeof memo, "Re: A lift to the clinic [listing %s@Riverside]", id);
	assert_string_equal(jstr(resp, "memo"), memo);
	/* bob proposes with it (he helps: the provider proposes). */
	snprintf(body, sizeof body, "{\"receiver\":\"alice\",\"minutes\":60,\"memo\":\"%s\"}",
		 memo);
	json_t *x = draft_of(&bob, "/api/v1/me/proposals/draft", body);
	uint8_t terms[TB_ENTRY_MAX];
	size_t len = exchange_terms_of_draft(x, terms, sizeof terms);
	sign_hex(&kb, TB_CTX_EXCHANGE, terms, len, sig);
	char date[80];
	long long dn = (long long)jint(x, "fields", "date");
	snprintf(date, sizeof date, "%04lld-%02lld-%02lld", dn / 10000, dn / 100 % 100, dn % 100);
	snprintf(body, sizeof body,
		 "{\"receiver\":\"alice\",\"minutes\":60,\"memo\":\"%s\",\"date\":\"%s\","
		 "\"txid\":\"%s\",\"memo_salt\":\"%s\",\"signature\":\"%s\"}",
		 memo, date, jstr(x, "fields.txid"), jstr(x, "memo_salt"), sig);
	call("POST", "/api/v1/me/proposals", &bob, body, &r);
	expect(&r, 202, "\"pending\":true");
	tb_httpc_free(&r);
	call("GET", "/api/v1/me/proposals", &alice, NULL, &r);
	expect(&r, 200, memo);
	tb_httpc_free(&r);
	/* A listing of another community, gossiped here: paid through the
	 * member's own node, to name@community. */
	TB_FED_TALLY_IS(g_f, HILL, 0, "listing", "add", "--member", "hana", "--offer", "--title",
			"Jam jars 4c2d", "--federation");
	for (int i = 0; i < 200 && found(&bob, "?text=jam+jars+4c2d&community=Hilltop") == 0; i++)
		tb_fed_sleep_ms(100);
	assert_int_equal(call("GET", "/api/v1/me/listings?text=jam+jars", &bob, NULL, &r), 200);
	json_t *l = body_json(&r);
	tb_httpc_free(&r);
	json_t *one = json_array_get(json_object_get(l, "listings"), 0);
	assert_non_null(one);
	assert_string_equal(jstr(one, "at"), "hana@Hilltop");
	snprintf(path, sizeof path, "/api/v1/me/listings/%s/response?community=%s", jstr(one, "id"),
		 jstr(one, "community"));
	json_decref(resp);
	assert_int_equal(call("GET", path, &bob, NULL, &r), 200);
	resp = body_json(&r);
	tb_httpc_free(&r);
	assert_string_equal(jstr(resp, "action"), "pay");
	assert_string_equal(jstr(resp, "to"), "hana@Hilltop");
	assert_non_null(strstr(jstr(resp, "memo"), "@Hilltop]"));
	call("GET", "/api/v1/me/listings/00112233445566778899aabbccddeeff/response", &bob, NULL,
	     &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	json_decref(l);
	json_decref(resp);
	json_decref(x);
	json_decref(d);
	tb_keypair_wipe(&ka);
	tb_keypair_wipe(&kb);
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_propose_confirm),
		cmocka_unit_test(test_pay_other_community),
		cmocka_unit_test(test_listing_post_tampered),
		cmocka_unit_test(test_listing_response),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
