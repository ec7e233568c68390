/*
 * test_api_fed.c: tallyd's API for the federation and its proofs against
 * real daemons over HTTP on 127.0.0.1 (docs/API.md sections 6-8 and 11):
 * Riverside (serving the API) and Hilltop peer with each other. Trust lines
 * listed and added (roles, CSRF, a refusal by the ledger leaving the own
 * log as it was, an unknown community), the logs, peers and forks held,
 * checkpoints signed (and announced on the event stream), listed and
 * downloaded, a receipt downloaded that
 * `tally receipt verify` accepts, a send to Hilltop through the API (each
 * refusal, then one that completes), the audit run and its last result, and
 * coordinators added and removed (their
 * session ends at once).
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fed.h"
#include "httpc.h"

#define PW_ADMIN "admin-password"
#define PW_COORD "coordinator-pw"
#define PW_VIEW "viewer-password"

enum { RIVER, HILL };

struct env {
	struct tb_fed *f;
	uint16_t http;
	char http_arg[32];
	struct tb_httpc_session adm, co, vw;
};

static struct env *g;

static void add_coordinator(struct tb_fed *f, const char *name, const char *role, const char *pw)
{
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/%s.pw", f->root, name);
	assert_int_equal(tb_test_write_file(file, pw, strlen(pw)), 0);
	if (TB_FED_TALLY(f, RIVER, "coordinator", "add", name, "--role", role, "--password-file",
			 file))
		fail_msg("coordinator add %s: %s", name, f->res.err);
}

static bool holds_hill(struct tb_fed *f, void *ctx, char *why, size_t cap, size_t *blame)
{
	(void)ctx;
	*blame = RIVER;
	struct tb_fed_heads hs;
	tb_fed_heads(f, RIVER, &hs);
	const struct tb_head *h = tb_fed_find(&hs, f->node[HILL].id);
	snprintf(why, cap, "Riverside does not hold Hilltop's log yet");
	return h && h->seq > 0;
}

static struct env *env(void)
{
	if (g)
		return g;
	g = calloc(1, sizeof *g);
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", NULL}},
					   {"Hilltop", {"hana", NULL}}};
	struct tb_fed *f = g->f = tb_fed_new_spec("apifed", 2, spec);
	add_coordinator(f, "ana", "admin", PW_ADMIN);
	add_coordinator(f, "cora", "coordinator", PW_COORD);
	add_coordinator(f, "vic", "viewer", PW_VIEW);
	tb_fed_link(f, RIVER, HILL);
	tb_fed_link(f, HILL, RIVER);
	const char *off[] = {"--http", "off", NULL};
	tb_fed_start_args(f, HILL, off);
	g->http = tb_fed_free_port();
	snprintf(g->http_arg, sizeof g->http_arg, "127.0.0.1:%u", g->http);
	const char *on[] = {"--http", g->http_arg, NULL};
	tb_fed_start_args(f, RIVER, on);
	tb_fed_wait_log_line(f, RIVER, "console and API on", NULL, 10000);
	tb_fed_wait(f, 20000, holds_hill, NULL, "Riverside holds Hilltop's log");
	assert_int_equal(tb_httpc_login(g->http, "ana", PW_ADMIN, &g->adm), 200);
	assert_int_equal(tb_httpc_login(g->http, "cora", PW_COORD, &g->co), 200);
	assert_int_equal(tb_httpc_login(g->http, "vic", PW_VIEW, &g->vw), 200);
	return g;
}

static int teardown(void **state)
{
	(void)state;
	if (g)
		tb_fed_free(g->f);
	free(g);
	g = NULL;
	tb_fed_kill_all();
	return 0;
}

static void assert_has(const struct tb_httpc_resp *r, int status, const char *text)
{
	if (r->status != status || !strstr(r->body, text))
		fail_msg("wanted %d with %s, got %d: %s", status, text, r->status, r->body);
}

static int call(const char *method, const char *path, const struct tb_httpc_session *s,
		const char *body, struct tb_httpc_resp *r)
{
	return tb_httpc(g->http, method, path, s, true, body, r);
}

/* The head of Riverside's own log (the other log held may grow meanwhile). */
static struct tb_head own_head(void)
{
	struct tb_fed_heads hs;
	tb_fed_heads(g->f, RIVER, &hs);
	const struct tb_head *h = tb_fed_find(&hs, g->f->node[RIVER].id);
	assert_non_null(h);
	return *h;
}

static void test_logs_peers_forks(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	call("GET", "/api/v1/logs", &g->vw, NULL, &r);
	assert_has(&r, 200, "\"community_name\":\"Riverside\",\"own\":true");
	assert_has(&r, 200, "\"community_name\":\"Hilltop\",\"own\":false");
	assert_has(&r, 200, "\"forked\":false");
	tb_httpc_free(&r);
	call("GET", "/api/v1/forks", &g->vw, NULL, &r);
	assert_has(&r, 200, "{\"forks\":[]}");
	tb_httpc_free(&r);
	call("GET", "/api/v1/peers", &g->vw, NULL, &r);
	assert_has(&r, 200, "\"community_name\":\"Hilltop\",\"connected\":true,\"outbound\":true");
	assert_has(&r, 200, "\"lag\":");
	/* The traffic of the connection (the console's column): some of each. */
	assert_has(&r, 200, "\"bytes_in\":");
	assert_null(strstr(r.body, "\"bytes_in\":0,"));
	assert_null(strstr(r.body, "\"bytes_out\":0,"));
	tb_httpc_free(&r);
	/* Reads need a session. */
	tb_httpc(g->http, "GET", "/api/v1/peers", NULL, false, NULL, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	call("POST", "/api/v1/logs", &g->adm, "{}", &r);
	tb_httpc_assert_error(&r, 405, "EMETHOD");
	tb_httpc_free(&r);
}

static void test_links(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	call("GET", "/api/v1/links", &g->vw, NULL, &r);
	assert_has(&r, 200, "{\"links\":[]}");
	tb_httpc_free(&r);
	const char *add = "{\"community\":\"hilltop\",\"limit_minutes\":1200}";
	call("POST", "/api/v1/links", &g->co, add, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	tb_httpc(g->http, "POST", "/api/v1/links", &g->adm, false, add, &r);
	tb_httpc_assert_error(&r, 403, "ECSRF");
	tb_httpc_free(&r);
	const char *bad[] = {
		"{\"community\":\"Hilltop\"}",
		"{\"community\":\"Hilltop\",\"limit_minutes\":-1}",
		"{\"community\":\"Hilltop\",\"limit_minutes\":60000001}",
		"{\"community\":\"\",\"limit_minutes\":60}",
		"{\"community\":7,\"limit_minutes\":60}",
		"{\"community\":\"Hilltop\",\"limit_minutes\":60,\"extra\":1}",
		"[1,2",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		call("POST", "/api/v1/links", &g->adm, bad[i], &r);
		tb_httpc_assert_error(&r, 400, "EINVAL");
		tb_httpc_free(&r);
	}
	call("POST", "/api/v1/links", &g->adm, "{\"community\":\"Nowhere\",\"limit_minutes\":60}",
	     &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	/* A trust line to ourselves: the ledger refuses, nothing is written. */
	struct tb_head before = own_head();
	call("POST", "/api/v1/links", &g->adm, "{\"community\":\"Riverside\",\"limit_minutes\":60}",
	     &r);
	tb_httpc_assert_error(&r, 409, "ELINK");
	tb_httpc_free(&r);
	struct tb_head after = own_head();
	assert_true(before.seq == after.seq && !memcmp(before.hash, after.hash, TB_HASHLEN));
	call("POST", "/api/v1/links", &g->adm, add, &r);
	assert_has(&r, 201, "\"community_name\":\"Hilltop\",\"limit_minutes\":1200,\"seq\":");
	tb_httpc_free(&r);
	call("GET", "/api/v1/links", &g->vw, NULL, &r);
	assert_has(&r, 200,
		   "\"community_name\":\"Hilltop\",\"linked\":true,\"limit_minutes\":1200,"
		   "\"their_limit_minutes\":null,\"balance_minutes\":0,\"mirror_minutes\":null");
	tb_httpc_free(&r);
	/* The command line sees the same trust line. */
	assert_int_equal(TB_FED_TALLY(g->f, RIVER, "--json", "link", "list"), 0);
	assert_non_null(strstr(g->f->res.out, "\"limit_minutes\":1200"));
}

static void test_checkpoints_and_receipts(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	char id[2 * TB_KEY_LEN + 1], path[200];
	tb_hex_encode(id, g->f->node[RIVER].id, TB_KEY_LEN);
	call("POST", "/api/v1/checkpoints", &g->vw, "{}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("POST", "/api/v1/checkpoints", &g->co, "{\"x\":1}", &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	call("POST", "/api/v1/checkpoints", &g->co, "{}", &r);
	assert_has(&r, 201, "\"community_name\":\"Riverside\",\"size\":");
	tb_httpc_free(&r);
	call("GET", "/api/v1/checkpoints", &g->vw, NULL, &r);
	assert_has(&r, 200, id);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/checkpoints/%s?format=bin", id);
	call("GET", path, &g->vw, NULL, &r);
	char v[128];
	assert_int_equal(r.status, 200);
	assert_string_equal(tb_httpc_header(&r, "Content-Type", v, sizeof v),
			    "application/octet-stream");
	assert_true(r.len > 64 && r.len <= 160);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/checkpoints/%s?format=xml", id);
	call("GET", path, &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	call("GET", "/api/v1/checkpoints/abc", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	/* A receipt of an exchange recorded after the checkpoint: a new one is
	 * signed for it, and the command line verifies the download offline. */
	call("POST", "/api/v1/exchanges", &g->co,
	     "{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":30,\"memo\":\"soup\","
	     "\"attest\":true}",
	     &r);
	assert_int_equal(r.status, 201);
	char txid[40];
	const char *p = strstr(r.body, "\"txid\":\"");
	assert_non_null(p);
	snprintf(txid, sizeof txid, "%.32s", p + 8);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/receipts/%s", txid);
	call("GET", path, &g->vw, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(tb_httpc_header(&r, "Content-Disposition", v, sizeof v));
	assert_non_null(strstr(v, "receipt-"));
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/receipt.bin", g->f->root);
	assert_int_equal(tb_test_write_file(file, r.body, r.len), 0);
	tb_httpc_free(&r);
	assert_int_equal(
		TB_FED_TALLY(g->f, HILL, "--json", "receipt", "verify", file, "--community", id),
		0);
	assert_non_null(strstr(g->f->res.out, "\"ok\":true"));
	call("GET", "/api/v1/receipts/00000000000000000000000000000000", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTX");
	tb_httpc_free(&r);
	call("GET", "/api/v1/receipts/..%2F..%2Fetc", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTX");
	tb_httpc_free(&r);
}

/* A checkpoint signed through the API is announced on the event stream
 * (the console's audit page follows it). */
static void test_checkpoint_event(void **state)
{
	(void)state;
	env();
	int fd = tb_httpc_connect(g->http);
	assert_true(fd >= 0);
	char req[400];
	int n = snprintf(req, sizeof req,
			 "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n",
			 g->vw.cookie);
	assert_int_equal(write(fd, req, (size_t)n), n);
	char buf[8192] = "";
	size_t got = 0;
	/* The stream is open once its first bytes arrive. */
	while (!strstr(buf, ": tally events") && got < sizeof buf - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			fail_msg("no event stream: %s", buf);
		ssize_t k = read(fd, buf + got, sizeof buf - 1 - got);
		assert_true(k > 0);
		got += (size_t)k;
		buf[got] = '\0';
	}
	struct tb_httpc_resp r;
	call("POST", "/api/v1/checkpoints", &g->co, "{}", &r);
	assert_has(&r, 201, "\"size\":");
	unsigned long long size = strtoull(strstr(r.body, "\"size\":") + 7, NULL, 10);
	tb_httpc_free(&r);
	char want[300];
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, g->f->node[RIVER].id, TB_KEY_LEN);
	snprintf(want, sizeof want,
		 "event: checkpoint\ndata: {\"log\":\"%s\",\"community_name\":\"Riverside\","
		 "\"own\":true,\"size\":%llu}",
		 id, size);
	got = tb_httpc_read_until_seen(fd, 15000, buf, sizeof buf, want);
	close(fd);
	if (!strstr(buf, want))
		fail_msg("no checkpoint event %s in %zu bytes: %s", want, got,
			 strstr(buf, "event:") ? strstr(buf, "event:") : buf);
}

static void test_cross(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	call("GET", "/api/v1/cross?open=maybe", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	call("GET", "/api/v1/cross/00000000000000000000000000000000", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTX");
	tb_httpc_free(&r);
	call("GET", "/api/v1/cross/nothex", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTX");
	tb_httpc_free(&r);
	/* alice pays hana@Hilltop: the hold is recorded here; Hilltop lets
	 * Riverside owe it only 10 minutes, so it refuses and the hold is
	 * released in time. Riverside sends only once it holds Hilltop's trust
	 * line (before that it refuses at home, ELINK). */
	assert_int_equal(
		TB_FED_TALLY(g->f, HILL, "link", "add", "Riverside", "--limit-minutes", "10"), 0);
	int rc = 1;
	for (int i = 0; i < 300 && rc; i++) {
		rc = TB_FED_TALLY(g->f, RIVER, "--json", "exchange", "send", "--from", "alice",
				  "--to", "hana@Hilltop", "--minutes", "20", "--memo", "tea",
				  "--attest", "--no-wait");
		if (rc && !strstr(g->f->res.err, "ELINK"))
			break;
		if (rc)
			tb_fed_sleep_ms(100);
	}
	if (rc)
		fail_msg("exchange send refused: %s", g->f->res.err);
	const char *p = strstr(g->f->res.out, "\"txid\":\"");
	assert_non_null(p);
	char path[100];
	snprintf(path, sizeof path, "/api/v1/cross/%.32s", p + 8);
	call("GET", path, &g->vw, NULL, &r);
	assert_has(&r, 200, "\"payer\":\"alice@Riverside\",\"payee\":\"hana@Hilltop\"");
	assert_has(&r, 200, "\"minutes\":20,");
	if (!strstr(r.body, "\"state\":\"held\"") && !strstr(r.body, "\"state\":\"refused\"") &&
	    !strstr(r.body, "\"state\":\"released\""))
		fail_msg("state: %s", r.body);
	tb_httpc_free(&r);
	call("GET", "/api/v1/cross", &g->vw, NULL, &r);
	assert_has(&r, 200, "\"payee\":\"hana@Hilltop\"");
	tb_httpc_free(&r);
}

/* The state of a cross-community exchange, from GET /api/v1/cross/TXID. */
static bool cross_state(const char *txid, const char *state)
{
	char path[100];
	struct tb_httpc_resp r;
	snprintf(path, sizeof path, "/api/v1/cross/%s", txid);
	call("GET", path, &g->vw, NULL, &r);
	bool yes = r.status == 200 && strstr(r.body, state);
	tb_httpc_free(&r);
	return yes;
}

/* POST /api/v1/cross: every refusal leaves the own log as it was; a send
 * signed by the payer's key goes through to Hilltop and completes. Runs
 * after test_cross (Hilltop's trust line is held here by then). */
static void test_cross_send(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	const char *ok = "{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"jam\","
			 "\"payer_passphrase\":\"" TB_FED_MEMBER_PASS "\",\"ttl_seconds\":120}";
	call("POST", "/api/v1/cross", &g->vw, ok, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	tb_httpc(g->http, "POST", "/api/v1/cross", &g->co, false, ok, &r);
	tb_httpc_assert_error(&r, 403, "ECSRF");
	tb_httpc_free(&r);
	/* test_cross's exchange ends first (its final leg is appended here). */
	bool open = true;
	for (int i = 0; i < 300 && open; i++) {
		call("GET", "/api/v1/cross?open=true", &g->vw, NULL, &r);
		open = !strstr(r.body, "{\"cross\":[]}");
		tb_httpc_free(&r);
		if (open)
			tb_fed_sleep_ms(100);
	}
	assert_false(open);
	struct tb_head before = own_head();
	static const struct {
		const char *body;
		int status;
		const char *code;
	} bad[] = {
		{"{\"from\":\"bob\",\"minutes\":5,\"memo\":\"x\",\"attest\":true}", 400, "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"x\"}", 400,
		 "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true,\"payer_passphrase\":\"mp\"}",
		 400, "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":0,\"memo\":\"x\","
		 "\"attest\":true}",
		 400, "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true,\"ttl_seconds\":0}",
		 400, "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":\"5\",\"memo\":\"x\","
		 "\"attest\":true}",
		 400, "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana\",\"minutes\":5,\"memo\":\"x\",\"attest\":true}",
		 400, "EINVAL"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true,\"date\":\"2026-13-01\"}",
		 400, "EDATE"},
		{"{\"from\":\"bob\",\"to\":\"hana@Nowhere\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true}",
		 404, "ENOTFOUND"},
		{"{\"from\":\"bob\",\"to\":\"alice@Riverside\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true}",
		 409, "ELINK"},
		{"{\"from\":\"nobody\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"x\","
		 "\"attest\":true}",
		 409, "EMEMBER"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":700,\"memo\":\"x\","
		 "\"attest\":true}",
		 409, "EFLOOR"},
		{"{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":5,\"memo\":\"x\","
		 "\"payer_passphrase\":\"not the one\"}",
		 400, "EPASSPHRASE"},
		{"[1,2", 400, "EINVAL"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		call("POST", "/api/v1/cross", &g->co, bad[i].body, &r);
		tb_httpc_assert_error(&r, bad[i].status, bad[i].code);
		tb_httpc_free(&r);
	}
	call("POST", "/api/v1/cross", &g->co,
	     "{\"from\":\"bob\",\"to\":\"hana@Hilltop\",\"minutes\":700,\"memo\":\"x\","
	     "\"attest\":true}",
	     &r);
	assert_has(&r, 409, "below the debt limit");
	tb_httpc_free(&r);
	struct tb_head after = own_head();
	assert_true(before.seq == after.seq && !memcmp(before.hash, after.hash, TB_HASHLEN));
	/* Signed by bob's key: held at once, then Hilltop decides and it completes. */
	call("POST", "/api/v1/cross", &g->co, ok, &r);
	assert_has(&r, 202,
		   "\"state\":\"held\",\"payer\":\"bob@Riverside\",\"payee\":\"hana@Hilltop\"");
	assert_has(&r, 202, "\"minutes\":5,");
	const char *p = strstr(r.body, "\"txid\":\"");
	assert_non_null(p);
	char txid[40];
	snprintf(txid, sizeof txid, "%.32s", p + 8);
	tb_httpc_free(&r);
	assert_int_equal(own_head().seq, after.seq + 1);
	for (int i = 0; i < 300 && !cross_state(txid, "\"state\":\"completed\""); i++)
		tb_fed_sleep_ms(100);
	if (!cross_state(txid, "\"state\":\"completed\""))
		fail_msg("the exchange %s did not complete", txid);
	/* The command line reads the same exchange. */
	assert_int_equal(TB_FED_TALLY(g->f, RIVER, "exchange", "status", txid), 0);
	assert_non_null(strstr(g->f->res.out, "completed"));
}

/* The API's body and the command line's --json for the same data: one
 * object, byte for byte (the JSON's own newline aside). */
static void same_json_as(const struct tb_httpc_session *who, const char *path,
			 const char *const *args)
{
	struct tb_httpc_resp r;
	call("GET", path, who, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(tb_fed_tally(g->f, RIVER, args), 0);
	const char *out = g->f->res.out;
	size_t n = strlen(out), m = strlen(r.body);
	while (n && out[n - 1] == '\n')
		n--;
	while (m && r.body[m - 1] == '\n')
		m--;
	if (n != m || memcmp(out, r.body, n))
		fail_msg("%s differs:\n api: %s\n cli: %s", path, r.body, out);
	tb_httpc_free(&r);
}

static void same_json(const char *path, const char *const *args)
{
	same_json_as(&g->vw, path, args);
}

static void test_cli_json_is_api_json(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	call("GET", "/api/v1/cross", &g->vw, NULL, &r);
	const char *p = strstr(r.body, "\"txid\":\"");
	assert_non_null(p);
	char txid[40], path[100];
	snprintf(txid, sizeof txid, "%.32s", p + 8);
	tb_httpc_free(&r);
	const char *balances[] = {"--json", "balance", NULL};
	same_json("/api/v1/balances", balances);
	const char *bob[] = {"--json", "balance", "bob", NULL};
	same_json("/api/v1/members/bob", bob);
	const char *status[] = {"--json", "exchange", "status", txid, NULL};
	snprintf(path, sizeof path, "/api/v1/cross/%s", txid);
	same_json(path, status);
	/* The lists (node/json/lists.c). */
	const char *members[] = {"--json", "member", "list", NULL};
	same_json("/api/v1/members", members);
	const char *all[] = {"--json", "member", "list", "--all", NULL};
	same_json("/api/v1/members?all=true", all);
	const char *pending[] = {"--json", "exchange", "pending", NULL};
	same_json("/api/v1/exchanges/pending", pending);
	const char *links[] = {"--json", "link", "list", NULL};
	same_json("/api/v1/links", links);
	const char *logs[] = {"--json", "logs", NULL};
	same_json("/api/v1/logs", logs);
	const char *forks[] = {"--json", "forks", NULL};
	same_json("/api/v1/forks", forks);
	/* A statement with a cross-community line, and the exchanges. */
	const char *stmt[] = {"--json", "history", "bob", NULL};
	same_json("/api/v1/members/bob/statement", stmt);
	/* bob paid hana@Hilltop (test_cross_send): the line says with whom. */
	assert_non_null(strstr(g->f->res.out, "\"kind\":\"cross\""));
	assert_non_null(strstr(g->f->res.out, "\"counterparty\":\"hana@Hilltop\""));
	const char *journal[] = {"--json", "history", NULL};
	same_json("/api/v1/exchanges", journal);
	const char *page[] = {"--json", "history", "--limit", "1", NULL};
	same_json("/api/v1/exchanges?limit=1", page);
	const char *coords[] = {"--json", "coordinator", "list", NULL};
	same_json_as(&g->adm, "/api/v1/coordinators", coords);
}

static void test_audit(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	call("GET", "/api/v1/audit", &g->vw, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	call("POST", "/api/v1/audit", &g->vw, "{}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("POST", "/api/v1/audit", &g->co, "{\"deep\":true}", &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	/* Both logs held, checked from genesis: clean. */
	call("POST", "/api/v1/audit", &g->co, NULL, &r);
	assert_has(&r, 200, "\"clean\":true,\"summary\":{\"logs\":2,");
	assert_has(&r, 200, "\"violations\":0,");
	assert_has(&r, 200, "\"violations\":[],\"successions\":[]}");
	char *first = strdup(r.body);
	tb_httpc_free(&r);
	call("GET", "/api/v1/audit", &g->vw, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, first);
	free(first);
	tb_httpc_free(&r);
}

static void test_coordinators(void **state)
{
	(void)state;
	env();
	struct tb_httpc_resp r;
	call("GET", "/api/v1/coordinators", &g->co, NULL, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("GET", "/api/v1/coordinators", &g->adm, NULL, &r);
	assert_has(&r, 200, "{\"name\":\"ana\",\"role\":\"admin\",\"created\":\"");
	assert_null(strstr(r.body, "pwhash"));
	tb_httpc_free(&r);
	const char *bad[] = {
		"{\"name\":\"ola\",\"role\":\"boss\",\"password\":\"long enough\"}",
		"{\"name\":\"ola\",\"role\":\"viewer\",\"password\":\"short\"}",
		"{\"name\":\"ola\",\"role\":\"viewer\"}",
		"{\"name\":\"\",\"role\":\"viewer\",\"password\":\"long enough\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		call("POST", "/api/v1/coordinators", &g->adm, bad[i], &r);
		tb_httpc_assert_error(&r, 400, "EINVAL");
		tb_httpc_free(&r);
	}
	const char *ola = "{\"name\":\"ola\",\"role\":\"viewer\",\"password\":\"ola-password\"}";
	call("POST", "/api/v1/coordinators", &g->co, ola, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("POST", "/api/v1/coordinators", &g->adm, ola, &r);
	assert_has(&r, 201, "{\"name\":\"ola\",\"role\":\"viewer\"");
	tb_httpc_free(&r);
	call("POST", "/api/v1/coordinators", &g->adm, ola, &r);
	tb_httpc_assert_error(&r, 409, "EEXISTS");
	tb_httpc_free(&r);
	struct tb_httpc_session s;
	assert_int_equal(tb_httpc_login(g->http, "ola", "ola-password", &s), 200);
	assert_int_equal(call("GET", "/api/v1/links", &s, NULL, &r), 200);
	tb_httpc_free(&r);
	assert_int_equal(TB_FED_TALLY(g->f, RIVER, "coordinator", "list"), 0);
	assert_non_null(strstr(g->f->res.out, "ola"));
	/* A new role holds in the open session at once; a new password ends it. */
	const char *bad_set[] = {"{}", "{\"role\":\"boss\"}", "{\"password\":\"short\"}"};
	for (size_t i = 0; i < sizeof bad_set / sizeof bad_set[0]; i++) {
		call("POST", "/api/v1/coordinators/ola", &g->adm, bad_set[i], &r);
		tb_httpc_assert_error(&r, 400, "EINVAL");
		tb_httpc_free(&r);
	}
	call("POST", "/api/v1/coordinators/nobody", &g->adm, "{\"role\":\"viewer\"}", &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	call("POST", "/api/v1/coordinators/ola", &g->co, "{\"role\":\"admin\"}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("GET", "/api/v1/coordinators", &s, NULL, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("POST", "/api/v1/coordinators/ola", &g->adm, "{\"role\":\"admin\"}", &r);
	assert_has(&r, 200, "{\"name\":\"ola\",\"role\":\"admin\"");
	tb_httpc_free(&r);
	assert_int_equal(call("GET", "/api/v1/coordinators", &s, NULL, &r), 200);
	tb_httpc_free(&r);
	char pwfile[TB_FED_PATH + 64];
	snprintf(pwfile, sizeof pwfile, "%s/ola-new.pw", g->f->root);
	assert_int_equal(tb_test_write_file(pwfile, "ola-new-password", 16), 0);
	assert_int_equal(TB_FED_TALLY(g->f, RIVER, "coordinator", "set", "ola", "--role", "viewer",
				      "--password-file", pwfile),
			 0);
	call("GET", "/api/v1/links", &s, NULL, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc_login(g->http, "ola", "ola-password", &s), 401);
	assert_int_equal(tb_httpc_login(g->http, "ola", "ola-new-password", &s), 200);
	/* The only admin is neither demoted nor removed, by the API or the CLI. */
	call("POST", "/api/v1/coordinators/ana", &g->adm, "{\"role\":\"viewer\"}", &r);
	tb_httpc_assert_error(&r, 409, "ELASTADMIN");
	assert_non_null(strstr(r.body, "only admin"));
	tb_httpc_free(&r);
	call("DELETE", "/api/v1/coordinators/ana", &g->adm, NULL, &r);
	tb_httpc_assert_error(&r, 409, "ELASTADMIN");
	tb_httpc_free(&r);
	assert_int_not_equal(
		TB_FED_TALLY(g->f, RIVER, "coordinator", "set", "ana", "--role", "viewer"), 0);
	assert_non_null(strstr(g->f->res.err, "only admin"));
	call("DELETE", "/api/v1/coordinators/ola", &g->adm, NULL, &r);
	assert_has(&r, 200, "{\"removed\":true}");
	tb_httpc_free(&r);
	call("GET", "/api/v1/links", &s, NULL, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	call("DELETE", "/api/v1/coordinators/ola", &g->adm, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logs_peers_forks),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_checkpoints_and_receipts),
		cmocka_unit_test(test_checkpoint_event),
		cmocka_unit_test(test_cross),
		cmocka_unit_test(test_cross_send),
		cmocka_unit_test(test_cli_json_is_api_json),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_coordinators),
	};
	signal(SIGPIPE, SIG_IGN);
	if (getenv("TB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("TB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, teardown);
}
