/*
 * test_api.c: tallyd's HTTP server and JSON API against a real tallyd over
 * HTTP on 127.0.0.1 (docs/API.md): the console's static files (types,
 * caching, no path traversal), logging in and out (cookies, CSRF tokens,
 * throttled failures, expired sessions, roles), the read endpoints, and the
 * error shape with each status. Bad input: malformed JSON, wrong types,
 * unknown fields, a 10 MB body refused before it is read, a slowloris
 * client cut, 1,000 idle connections with memory bounded and peers served.
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agree.h"
#include "fed.h"
#include "httpc.h"
#include "procmem.h"

#define PW_ADMIN "admin-password"
#define PW_COORD "coordinator-pw"
#define PW_VIEW "viewer-password"

struct api {
	struct tb_fed *f;
	uint16_t http;
	char web[TB_FED_PATH + 16];
	char http_arg[32];
};

static void write_text(const char *path, const char *text)
{
	assert_int_equal(tb_test_write_file(path, text, strlen(text)), 0);
}

static void add_coordinator(struct api *a, const char *name, const char *role, const char *pw)
{
	char file[TB_FED_PATH + 64];
	snprintf(file, sizeof file, "%s/%s.pw", a->f->root, name);
	write_text(file, pw);
	int rc = TB_FED_TALLY(a->f, 0, "coordinator", "add", name, "--role", role,
			      "--password-file", file);
	if (rc)
		fail_msg("coordinator add %s: %s", name, a->f->res.err);
}

/* One community (alice, bob, carol), three coordinators, a web root, and
 * tallyd serving HTTP (env: extra settings for the daemon, may be NULL). */
static struct api *api_new(const char *tag, const char *const *env)
{
	struct api *a = calloc(1, sizeof *a);
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", "carol", NULL}}};
	a->f = tb_fed_new_spec(tag, 1, spec);
	add_coordinator(a, "ana", "admin", PW_ADMIN);
	add_coordinator(a, "cora", "coordinator", PW_COORD);
	add_coordinator(a, "vic", "viewer", PW_VIEW);
	snprintf(a->web, sizeof a->web, "%s/web", a->f->root);
	char p[TB_FED_PATH + 64];
	assert_int_equal(mkdir(a->web, 0700), 0);
	snprintf(p, sizeof p, "%s/index.html", a->web);
	write_text(p, "<!doctype html><title>Tally</title>");
	snprintf(p, sizeof p, "%s/app.js", a->web);
	write_text(p, "export const x = 1;\n");
	snprintf(p, sizeof p, "%s/.hidden", a->web);
	write_text(p, "secret");
	snprintf(p, sizeof p, "%s/secret.txt", a->f->root);
	write_text(p, "outside the web root");
	char link[TB_FED_PATH + 64];
	snprintf(link, sizeof link, "%s/escape.txt", a->web);
	assert_int_equal(symlink(p, link), 0);
	a->http = tb_fed_free_port();
	snprintf(a->http_arg, sizeof a->http_arg, "127.0.0.1:%u", a->http);
	const char *extra[] = {"--http", a->http_arg, "--web-root", a->web, NULL};
	tb_fed_spawn_env(a->f, 0, extra, env);
	tb_fed_wait_up(a->f, 0);
	tb_fed_wait_log_line(a->f, 0, "console and API on", NULL, 10000);
	return a;
}

static void api_free(struct api *a)
{
	if (!a)
		return;
	tb_fed_free(a->f);
	free(a);
}

/* Most tests share one daemon (each tallyd costs key files and password
 * hashes): they run in order and build on each other's ledger. */
static struct api *g_shared;

static int get(struct api *a, const char *path, const struct tb_httpc_session *s,
	       struct tb_httpc_resp *r);

/* tallyd signs its first checkpoint a second after it starts: wait for it,
 * so that the tests comparing exports around a refused write do not see a
 * checkpoint that the timer, not the write, added in between. */
static void await_first_checkpoint(struct api *a)
{
	struct tb_httpc_session s;
	assert_int_equal(tb_httpc_login(a->http, "vic", PW_VIEW, &s), 200);
	for (int i = 0; i < 600; i++) {
		struct tb_httpc_resp r;
		assert_int_equal(get(a, "/api/v1/checkpoints", &s, &r), 200);
		bool signed_one = strstr(r.body, "\"size\":") != NULL;
		tb_httpc_free(&r);
		if (signed_one)
			return;
		tb_fed_sleep_ms(50);
	}
	fail_msg("tallyd signed no checkpoint within 30 s of starting");
}

static struct api *shared_api(void)
{
	if (!g_shared) {
		g_shared = api_new("api", NULL);
		await_first_checkpoint(g_shared);
	}
	return g_shared;
}

static int group_teardown(void **state)
{
	(void)state;
	api_free(g_shared);
	g_shared = NULL;
	tb_fed_kill_all();
	return 0;
}

static int get(struct api *a, const char *path, const struct tb_httpc_session *s,
	       struct tb_httpc_resp *r)
{
	return tb_httpc(a->http, "GET", path, s, false, NULL, r);
}

static void test_static_files(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_resp r;
	char v[256];
	assert_int_equal(get(a, "/", NULL, &r), 200);
	assert_string_equal(tb_httpc_header(&r, "Content-Type", v, sizeof v),
			    "text/html; charset=utf-8");
	assert_string_equal(r.body, "<!doctype html><title>Tally</title>");
	assert_non_null(tb_httpc_header(&r, "Cache-Control", v, sizeof v));
	assert_string_equal(v, "no-cache");
	assert_non_null(tb_httpc_header(&r, "X-Content-Type-Options", v, sizeof v));
	char etag[64], inm[100];
	assert_non_null(tb_httpc_header(&r, "ETag", etag, sizeof etag));
	tb_httpc_free(&r);
	/* Revalidation: the same ETag is a 304 without a body. */
	snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
	const char *h[] = {inm, NULL};
	assert_int_equal(tb_httpc_raw(a->http, "GET", "/index.html", h, NULL, 0, &r), 304);
	assert_int_equal(r.len, 0);
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/app.js", NULL, &r), 200);
	assert_string_equal(tb_httpc_header(&r, "Content-Type", v, sizeof v),
			    "text/javascript; charset=utf-8");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(a->http, "HEAD", "/app.js", NULL, false, NULL, &r), 200);
	assert_int_equal(r.len, 0);
	tb_httpc_free(&r);
	/* Traversal in every spelling, hidden files, links out of the root. */
	const char *bad[] = {"/../secret.txt",	    "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
			     "/x/../../secret.txt", "/.hidden",		  "/%2ehidden",
			     "/escape.txt",	    "//etc/passwd",	  "/app.js%00.html",
			     "/nothing.html",	    "/..%5csecret.txt"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		get(a, bad[i], NULL, &r);
		if (r.status != 404 || strstr(r.body, "outside") || strstr(r.body, "secret\""))
			fail_msg("%s: %d %s", bad[i], r.status, r.body);
		tb_httpc_free(&r);
	}
	assert_int_equal(tb_httpc(a->http, "POST", "/index.html", NULL, false, "{}", &r), 405);
	tb_httpc_free(&r);
}

static void test_session(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_resp r;
	struct tb_httpc_session s;
	char v[400];
	/* Not logged in: 401 with the error shape. */
	get(a, "/api/v1/balances", NULL, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	/* Bad bodies: 400, naming the problem. */
	const struct {
		const char *body, *says;
	} bad[] = {
		{"{\"name\":\"ana\"", "malformed JSON"},
		{"[1,2]", "must be a JSON object"},
		{"{\"name\":\"ana\",\"password\":7}", "'password' must be a string"},
		{"{\"name\":\"ana\"}", "'password' is missing"},
		{"{\"name\":\"ana\",\"password\":\"x\",\"admin\":true}", "unknown field 'admin'"},
		{"{\"name\":\"ana\",\"name\":\"bob\",\"password\":\"x\"}", "malformed JSON"},
		{"{\"name\":\"a\\u0000b\",\"password\":\"x\"}", "malformed JSON"},
		{"{\"name\":\"a\\u0007b\",\"password\":\"x\"}", "control characters"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		tb_httpc(a->http, "POST", "/api/v1/session", NULL, false, bad[i].body, &r);
		tb_httpc_assert_error(&r, 400, "EINVAL");
		if (!strstr(r.body, bad[i].says))
			fail_msg("%s: %s", bad[i].body, r.body);
		tb_httpc_free(&r);
	}
	/* A good login: an HttpOnly, SameSite=Strict cookie and a CSRF token. */
	assert_int_equal(tb_httpc(a->http, "POST", "/api/v1/session", NULL, false,
				  "{\"name\":\"ana\",\"password\":\"" PW_ADMIN "\"}", &r),
			 200);
	assert_non_null(tb_httpc_header(&r, "Set-Cookie", v, sizeof v));
	assert_non_null(strstr(v, "HttpOnly"));
	assert_non_null(strstr(v, "SameSite=Strict"));
	assert_non_null(strstr(v, "Max-Age="));
	assert_non_null(strstr(r.body, "\"role\":\"admin\""));
	assert_non_null(strstr(r.body, "\"csrf_token\":\""));
	assert_null(strstr(r.body, PW_ADMIN));
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc_login(a->http, "ana", PW_ADMIN, &s), 200);
	assert_int_equal(get(a, "/api/v1/session", &s, &r), 200);
	assert_non_null(strstr(r.body, s.csrf));
	tb_httpc_free(&r);
	/* A forged cookie is no session. */
	struct tb_httpc_session forged = s;
	forged.cookie[20] = forged.cookie[20] == 'a' ? 'b' : 'a';
	get(a, "/api/v1/community", &forged, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	/* Logging out is a state change: without the CSRF token it is refused. */
	tb_httpc(a->http, "DELETE", "/api/v1/session", &s, false, NULL, &r);
	tb_httpc_assert_error(&r, 403, "ECSRF");
	tb_httpc_free(&r);
	struct tb_httpc_session wrong = s;
	wrong.csrf[0] = wrong.csrf[0] == '0' ? '1' : '0';
	tb_httpc(a->http, "DELETE", "/api/v1/session", &wrong, true, NULL, &r);
	tb_httpc_assert_error(&r, 403, "ECSRF");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(a->http, "DELETE", "/api/v1/session", &s, true, NULL, &r), 200);
	tb_httpc_free(&r);
	get(a, "/api/v1/community", &s, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
	assert_true(tb_fed_log_has(a->f, 0, "ana DELETE /api/v1/session", NULL));
	/* A removed coordinator's session ends at once. */
	struct tb_httpc_session vs;
	add_coordinator(a, "rita", "viewer", PW_VIEW);
	assert_int_equal(tb_httpc_login(a->http, "rita", PW_VIEW, &vs), 200);
	assert_int_equal(get(a, "/api/v1/members", &vs, &r), 200);
	tb_httpc_free(&r);
	assert_int_equal(TB_FED_TALLY(a->f, 0, "coordinator", "remove", "rita"), 0);
	get(a, "/api/v1/members", &vs, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	tb_httpc_free(&r);
}

static void test_login_throttle(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_resp r;
	struct tb_httpc_session s;
	/* Three failures are free; then each attempt must wait 1, 2, 4 s... */
	for (int i = 0; i < 5; i++) {
		tb_httpc(a->http, "POST", "/api/v1/session", NULL, false,
			 "{\"name\":\"cora\",\"password\":\"wrong-one\"}", &r);
		if (r.status == 429) { /* a slow machine: the wait ran, try once more */
			tb_httpc_free(&r);
			tb_fed_sleep_ms(4100);
			i--;
			continue;
		}
		tb_httpc_assert_error(&r, 401, "EAUTH");
		tb_httpc_free(&r);
	}
	tb_httpc(a->http, "POST", "/api/v1/session", NULL, false,
		 "{\"name\":\"cora\",\"password\":\"" PW_COORD "\"}", &r);
	tb_httpc_assert_error(&r, 429, "ETHROTTLED");
	char v[32];
	assert_non_null(tb_httpc_header(&r, "Retry-After", v, sizeof v));
	assert_true(atoi(v) >= 1);
	tb_httpc_free(&r);
	/* An unknown name is refused like a wrong password. */
	tb_httpc(a->http, "POST", "/api/v1/session", NULL, false,
		 "{\"name\":\"nobody\",\"password\":\"whatever1\"}", &r);
	assert_true(r.status == 401 || r.status == 429);
	tb_httpc_free(&r);
	/* After the wait, the right password works and clears the count. */
	tb_fed_sleep_ms(1100 * (unsigned)atoi(v));
	int st = 0;
	for (int i = 0; i < 10 && (st = tb_httpc_login(a->http, "cora", PW_COORD, &s)) == 429; i++)
		tb_fed_sleep_ms(1000);
	assert_int_equal(st, 200);
}

static void test_expired_session(void **state)
{
	(void)state;
	const char *env[] = {"TALLYD_SESSION_SECONDS=2", NULL};
	struct api *a = api_new("api-expiry", env);
	struct tb_httpc_session s;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(a->http, "ana", PW_ADMIN, &s), 200);
	assert_int_equal(get(a, "/api/v1/community", &s, &r), 200);
	tb_httpc_free(&r);
	tb_fed_sleep_ms(3000);
	get(a, "/api/v1/community", &s, &r);
	tb_httpc_assert_error(&r, 401, "EAUTH");
	assert_non_null(strstr(r.body, "expired"));
	tb_httpc_free(&r);
	api_free(a);
}

/* The reports, after alice gave bob an hour (carol has done nothing): JSON,
 * CSV, and the same report from tally report. */
static void reports(struct api *a, const struct tb_httpc_session *s)
{
	struct tb_httpc_resp r;
	const char *all = "from=2000-01-01&to=2099-12-31";
	char path[160];
	snprintf(path, sizeof path, "/api/v1/reports/hours?%s", all);
	assert_int_equal(get(a, path, s, &r), 200);
	assert_non_null(strstr(r.body, "\"from\":\"2000-01-01\""));
	assert_non_null(strstr(r.body, "\"exchanges\":1,\"minutes\":60"));
	assert_non_null(strstr(r.body, "\"by_category\":[{\"category\":\"\""));
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/reports/members?%s&format=csv", all);
	assert_int_equal(get(a, path, s, &r), 200);
	assert_non_null(strstr(r.head, "text/csv"));
	assert_non_null(strstr(r.head, "attachment; filename=\"tally-members-20000101.csv\""));
	assert_non_null(strstr(r.body, "name,opening_balance_minutes,earned_minutes,spent_minutes,"
				       "closing_balance_minutes,exchanges\r\n"));
	assert_non_null(strstr(r.body, "alice,0,60,0,60,1\r\n"));
	assert_non_null(strstr(r.body, "bob,0,0,60,-60,1\r\n"));
	assert_non_null(strstr(r.body, "carol,0,0,0,0,0\r\n"));
	char *csv = strdup(r.body);
	tb_httpc_free(&r);
	assert_int_equal(TB_FED_TALLY(a->f, 0, "report", "members", "--from", "2000-01-01", "--to",
				      "2099-12-31"),
			 0);
	assert_string_equal(a->f->res.out, csv);
	free(csv);
	assert_int_equal(get(a, "/api/v1/reports/inactive?days=1", s, &r), 200);
	assert_non_null(strstr(r.body, "{\"name\":\"carol\",\"last_exchange\":null"));
	assert_null(strstr(r.body, "\"alice\""));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/reports/near-limit?within_minutes=100000000", s, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"bob\",\"balance_minutes\":-60"));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/reports/hours", s, &r), 200); /* this month */
	assert_non_null(strstr(r.body, "\"by_month\":[{\"month\":"));
	tb_httpc_free(&r);
	get(a, "/api/v1/reports/hours?from=2026-13-01", s, &r);
	tb_httpc_assert_error(&r, 400, "EDATE");
	tb_httpc_free(&r);
	get(a, "/api/v1/reports/hours?format=xml", s, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	get(a, "/api/v1/reports/inactive?days=-1", s, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	get(a, "/api/v1/reports/everything", s, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(a->http, "GET", "/api/v1/reports/hours", NULL, false, NULL, &r),
			 401);
	tb_httpc_free(&r);
}

/* The list of categories: viewers read it, admins change it; "garden" is
 * the "Garden" the list has; the command line sees the same list. */
static void categories(struct api *a, const struct tb_httpc_session *viewer)
{
	struct tb_httpc_session s;
	struct tb_httpc_resp r;
	assert_int_equal(get(a, "/api/v1/categories", viewer, &r), 200);
	assert_string_equal(r.body, "{\"categories\":[]}\n");
	tb_httpc_free(&r);
	tb_httpc(a->http, "POST", "/api/v1/categories", viewer, true, "{\"name\":\"Garden\"}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc_login(a->http, "ana", PW_ADMIN, &s), 200);
	assert_int_equal(tb_httpc(a->http, "POST", "/api/v1/categories", &s, true,
				  "{\"name\":\"Garden\"}", &r),
			 201);
	assert_string_equal(r.body, "{\"category\":\"Garden\",\"added\":true,"
				    "\"categories\":[\"Garden\"]}\n");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(a->http, "POST", "/api/v1/categories", &s, true,
				  "{\"name\":\"garden\"}", &r),
			 200);
	assert_non_null(strstr(r.body, "\"category\":\"Garden\",\"added\":false"));
	tb_httpc_free(&r);
	tb_httpc(a->http, "POST", "/api/v1/categories", &s, true, "{\"name\":\" tea\"}", &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	/* Exchanges take a category of the list (a refusal records nothing). */
	tb_httpc(a->http, "POST", "/api/v1/exchanges", &s, true,
		 "{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":5,\"memo\":\"m\","
		 "\"category\":\"cooking\",\"attest\":true}",
		 &r);
	tb_httpc_assert_error(&r, 409, "ECATEGORY");
	tb_httpc_free(&r);

	assert_int_equal(TB_FED_TALLY(a->f, 0, "category", "list"), 0);
	assert_string_equal(a->f->res.out, "Garden\n");
	assert_int_equal(
		tb_httpc(a->http, "DELETE", "/api/v1/categories/GARDEN", &s, true, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"removed\":true,\"categories\":[]"));
	tb_httpc_free(&r);
	tb_httpc(a->http, "DELETE", "/api/v1/categories/garden", &s, true, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
}

static void test_reads(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_session s;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(a->http, "vic", PW_VIEW, &s), 200);
	assert_int_equal(get(a, "/api/v1/community", &s, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"Riverside\""));
	assert_non_null(strstr(r.body, "\"active_members\":3"));
	tb_httpc_free(&r);
	assert_int_equal(TB_FED_TALLY(a->f, 0, "exchange", "record", "--attest", "--provider",
				      "alice", "--receiver", "bob", "--minutes", "60", "--memo",
				      "garden"),
			 0);
	assert_int_equal(get(a, "/api/v1/balances", &s, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"alice\""));
	assert_non_null(strstr(r.body, "\"balance_minutes\":60"));
	assert_non_null(strstr(r.body, "\"balance_minutes\":-60"));
	assert_non_null(strstr(r.body, "\"sum_minutes\":0"));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/members", &s, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"carol\""));
	assert_non_null(strstr(r.body, "\"active\":true"));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/members/bob", &s, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"bob\""));
	tb_httpc_free(&r);
	get(a, "/api/v1/members/nobody", &s, &r);
	tb_httpc_assert_error(&r, 404, "EMEMBER");
	tb_httpc_free(&r);
	get(a, "/api/v1/members?all=maybe", &s, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	get(a, "/api/v1/nothing", &s, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	tb_httpc(a->http, "PATCH", "/api/v1/community", &s, true, "{}", &r);
	tb_httpc_assert_error(&r, 405, "EMETHOD");
	tb_httpc_free(&r);
	reports(a, &s);
	categories(a, &s);
}

/* A body over the cap is refused from its Content-Length, before it is sent. */
static void test_body_limits(void **state)
{
	(void)state;
	struct api *a = shared_api();
	int fd = tb_httpc_connect(a->http);
	assert_true(fd >= 0);
	const char head[] = "POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
			    "Content-Type: application/json\r\nContent-Length: 10485760\r\n\r\n";
	assert_int_equal(write(fd, head, sizeof head - 1), (ssize_t)(sizeof head - 1));
	char buf[4096];
	long n = tb_httpc_read_until_close(fd, 10000, buf, sizeof buf);
	close(fd);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	assert_non_null(strstr(buf, "\"code\":\"ETOOBIG\""));
	/* Chunked, with no length: refused once the cap is passed. */
	fd = tb_httpc_connect(a->http);
	const char chead[] = "POST /api/v1/session HTTP/1.1\r\nHost: x\r\n"
			     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
			     "Connection: close\r\n\r\n";
	assert_int_equal(write(fd, chead, sizeof chead - 1), (ssize_t)(sizeof chead - 1));
	static char chunk[8192 + 16];
	int hl = snprintf(chunk, sizeof chunk, "2000\r\n");
	memset(chunk + hl, 'x', 8192);
	memcpy(chunk + hl + 8192, "\r\n", 2);
	bool refused = false;
	for (int i = 0; i < 64 && !refused; i++)
		refused = send(fd, chunk, (size_t)hl + 8194, MSG_NOSIGNAL) <= 0;
	/* Past the cap the body is dropped as it comes; the answer follows its end. */
	if (!refused)
		(void)!send(fd, "0\r\n\r\n", 5, MSG_NOSIGNAL);
	n = tb_httpc_read_until_close(fd, 10000, buf, sizeof buf);
	close(fd);
	assert_true(n > 0);
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	/* Headers over the per-connection memory are refused too. */
	static char big[40000];
	memset(big, 'a', sizeof big - 1);
	char *hdr = malloc(sizeof big + 16);
	snprintf(hdr, sizeof big + 16, "X-Big: %s", big);
	const char *h[] = {hdr, NULL};
	struct tb_httpc_resp r;
	int st = tb_httpc_raw(a->http, "GET", "/", h, NULL, 0, &r);
	assert_true(st == 431 || st == 413 || st == 0);
	tb_httpc_free(&r);
	free(hdr);
	/* And the server still answers. */
	assert_int_equal(get(a, "/", NULL, &r), 200);
	tb_httpc_free(&r);
	/* A body that does not say it is JSON (what a form on another site can
	 * send) is refused before the login sees it; JSON with a charset is
	 * not. */
	static const char login[] = "{\"name\":\"ana\",\"password\":\"" PW_ADMIN "\"}";
	static const char *const types[] = {"Content-Type: text/plain",
					    "Content-Type: "
					    "application/x-www-form-urlencoded",
					    "Content-Type: application/jsonp", NULL};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		const char *th[] = {types[i], NULL};
		st = tb_httpc_raw(a->http, "POST", "/api/v1/session", th, login, sizeof login - 1,
				  &r);
		assert_int_equal(st, 415);
		tb_httpc_assert_error(&r, 415, "EMEDIA");
		tb_httpc_free(&r);
	}
	const char *jh[] = {"Content-Type: Application/JSON; charset=utf-8", NULL};
	assert_int_equal(
		tb_httpc_raw(a->http, "POST", "/api/v1/session", jh, login, sizeof login - 1, &r),
		200);
	tb_httpc_free(&r);
}

/* A client that sends its headers a byte at a time is cut at the header
 * deadline, and others are served meanwhile. */
static void test_slowloris(void **state)
{
	(void)state;
	struct api *a = shared_api();
	int fd = tb_httpc_connect(a->http);
	assert_true(fd >= 0);
	const char *slow =
		"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	uint64_t t0 = tb_fed_now_ms();
	bool cut = false;
	for (size_t i = 0; slow[i] && !cut; i++) {
		if (send(fd, slow + i, 1, MSG_NOSIGNAL) != 1) {
			cut = true;
			break;
		}
		struct tb_httpc_resp r;
		if (i % 8 == 0) {
			assert_int_equal(get(a, "/", NULL, &r), 200);
			tb_httpc_free(&r);
		}
		char b[256];
		long n = tb_httpc_read_until_close(fd, 500, b, sizeof b);
		if (n >= 0)
			cut = true;
	}
	uint64_t took = tb_fed_now_ms() - t0;
	close(fd);
	assert_true(cut);
	/* Cut at about the header deadline (10 s), not at once. */
	assert_true(took >= 8000);
	assert_true(took < 30000);
}

static long anon_kib(pid_t pid)
{
	struct tb_procmem m;
	assert_int_equal(tb_procmem_read(pid, false, &m), 0);
	return m.anon;
}

/* 1,000 idle connections: memory stays bounded, the API still answers and
 * a peer still replicates. */
static void test_idle_flood(void **state)
{
	(void)state;
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 1200 && rl.rlim_max >= 1200) {
		rl.rlim_cur = 1200;
		assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	if (rl.rlim_cur < 1200)
		skip();
	struct api *a = calloc(1, sizeof *a);
	const struct tb_fed_spec spec[] = {{"Riverside", {"m1", "m2", NULL}},
					   {"Hilltop", {"m1", "m2", NULL}}};
	a->f = tb_fed_new_spec("api-flood", 2, spec);
	a->http = tb_fed_free_port();
	snprintf(a->http_arg, sizeof a->http_arg, "127.0.0.1:%u", a->http);
	const char *extra[] = {"--http", a->http_arg, NULL};
	tb_fed_link(a->f, 1, 0);
	tb_fed_start_args(a->f, 0, extra);
	tb_fed_start(a->f, 1);
	tb_fed_wait_converged(a->f, NULL, 0, 20000);
	pid_t pid = a->f->node[0].pid;
	long before = anon_kib(pid);
	int *fds = malloc(1000 * sizeof *fds);
	size_t open_ = 0;
	for (size_t i = 0; i < 1000; i++)
		if ((fds[i] = tb_httpc_connect(a->http)) >= 0)
			open_++;
	assert_true(open_ >= 900);
	tb_fed_sleep_ms(500);
	long during = anon_kib(pid);
	struct tb_httpc_resp r;
	assert_int_equal(get(a, "/api/v1/community", NULL, &r), 401);
	tb_httpc_free(&r);
	/* The federation goes on: an exchange at Hilltop reaches Riverside. */
	tb_fed_record(a->f, 1);
	tb_fed_wait_has(a->f, 0, 1, 20000);
	long after = anon_kib(pid);
	for (size_t i = 0; i < 1000; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	print_message("idle flood: RssAnon %ld KiB before, %ld with 1,000 idle connections, "
		      "%ld after a replication\n",
		      before, during, after);
	/* At most TB_HTTP_CONNS_MAX connections are kept, each small. */
	assert_true(during - before < 16 * 1024);
	assert_true(after - before < 16 * 1024);
	tb_fed_free(a->f);
	free(a);
}

static int post(struct api *a, const char *path, const struct tb_httpc_session *s, const char *body,
		struct tb_httpc_resp *r)
{
	return tb_httpc(a->http, "POST", path, s, true, body, r);
}

/* The bytes of the community's log, as an export writes them. */
static char *export_of(struct api *a, size_t *len)
{
	char out[TB_FED_PATH + 64];
	snprintf(out, sizeof out, "%s/ledger.export", a->f->root);
	unlink(out);
	assert_int_equal(TB_FED_TALLY(a->f, 0, "export", "--out", out), 0);
	assert_true(tb_test_verify_agrees(out));
	char *b = (char *)tb_test_read_file(out, len);
	assert_non_null(b);
	return b;
}

static void json_str_field(const char *body, const char *key, char *out, size_t cap)
{
	char k[64];
	snprintf(k, sizeof k, "\"%s\":\"", key);
	const char *p = strstr(body, k);
	assert_non_null(p);
	p += strlen(k);
	size_t n = strcspn(p, "\"");
	assert_true(n < cap);
	memcpy(out, p, n);
	out[n] = '\0';
}

static void test_roles_and_writes(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_session adm, co, vw;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(a->http, "ana", PW_ADMIN, &adm), 200);
	assert_int_equal(tb_httpc_login(a->http, "cora", PW_COORD, &co), 200);
	assert_int_equal(tb_httpc_login(a->http, "vic", PW_VIEW, &vw), 200);
	const char *rec = "{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":90,"
			  "\"memo\":\"fixed the fence\",\"category\":\"garden\","
			  "\"date\":\"2026-11-28\",\"attest\":true}";
	/* A viewer may not write; nobody writes without the CSRF token. */
	post(a, "/api/v1/exchanges", &vw, rec, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	tb_httpc(a->http, "POST", "/api/v1/exchanges", &co, false, rec, &r);
	tb_httpc_assert_error(&r, 403, "ECSRF");
	tb_httpc_free(&r);
	/* A coordinator records; an admin manages members. */
	post(a, "/api/v1/members", &co, "{\"name\":\"dora\",\"passphrase\":\"dora-pass\"}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	assert_int_equal(
		post(a, "/api/v1/members", &adm,
		     "{\"name\":\"dora\",\"debt_limit_minutes\":120,\"passphrase\":\"dora-pass\"}",
		     &r),
		201);
	assert_non_null(strstr(r.body, "\"debt_limit_minutes\":120"));
	tb_httpc_free(&r);
	post(a, "/api/v1/members", &adm, "{\"name\":\"dora\",\"passphrase\":\"x\"}", &r);
	tb_httpc_assert_error(&r, 409, "ENAME");
	tb_httpc_free(&r);
	post(a, "/api/v1/members", &adm, "{\"name\":\"eve\"}", &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	assert_int_equal(post(a, "/api/v1/exchanges", &co, rec, &r), 201);
	char txid[40];
	json_str_field(r.body, "txid", txid, sizeof txid);
	assert_non_null(strstr(r.body, "\"seq\":"));
	tb_httpc_free(&r);
	/* Wrong types and bad values: 400, naming the field. */
	const char *bad[] = {
		"{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":\"90\",\"memo\":\"m\",\"attest\":true}",
		"{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":1.5,\"memo\":\"m\",\"attest\":true}",
		"{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":0,\"memo\":\"m\",\"attest\":true}",
		"{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":9,\"memo\":\"m\",\"attest\":1}",
		"{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":9,\"memo\":\"m\"}",
		"{\"provider\":[],\"receiver\":\"bob\",\"minutes\":9,\"memo\":\"m\",\"attest\":true}",
		"not json at all",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		post(a, "/api/v1/exchanges", &co, bad[i], &r);
		if (r.status != 400)
			fail_msg("%s: %d %s", bad[i], r.status, r.body);
		tb_httpc_free(&r);
	}
	post(a, "/api/v1/exchanges", &co,
	     "{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":9,\"memo\":\"m\",\"date\":\"2026-13-01\",\"attest\":true}",
	     &r);
	tb_httpc_assert_error(&r, 400, "EDATE");
	tb_httpc_free(&r);
	/* A refusal by a ledger rule: 409, the CLI's sentence, nothing written. */
	size_t l0, l1;
	char *before = export_of(a, &l0);
	const char *over = "{\"provider\":\"alice\",\"receiver\":\"dora\",\"minutes\":150,"
			   "\"memo\":\"shopping\",\"attest\":true}";
	post(a, "/api/v1/exchanges", &co, over, &r);
	tb_httpc_assert_error(&r, 409, "EFLOOR");
	const char *sentence =
		"dora's balance would be -2:30 hours, below the debt limit of -2:00 hours";
	assert_non_null(strstr(r.body, sentence));
	tb_httpc_free(&r);
	post(a, "/api/v1/exchanges", &co,
	     "{\"provider\":\"alice\",\"receiver\":\"nobody\",\"minutes\":5,\"memo\":\"m\",\"attest\":true}",
	     &r);
	tb_httpc_assert_error(&r, 409, "EMEMBER");
	tb_httpc_free(&r);
	char *after = export_of(a, &l1);
	assert_int_equal(l0, l1);
	assert_memory_equal(before, after, l0);
	free(before);
	free(after);
	assert_int_equal(TB_FED_TALLY(a->f, 0, "exchange", "record", "--attest", "--provider",
				      "alice", "--receiver", "dora", "--minutes", "150", "--memo",
				      "shopping"),
			 1);
	assert_non_null(strstr(a->f->res.err, sentence));
	/* Reads: the exchange, with who attested it, the statement, filters. */
	char path[200];
	snprintf(path, sizeof path, "/api/v1/exchanges/%s", txid);
	assert_int_equal(get(a, path, &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"attested_by\":\"cora\""));
	assert_non_null(strstr(r.body, "\"memo\":\"fixed the fence\""));
	assert_non_null(strstr(r.body, "\"date\":\"2026-11-28\""));
	tb_httpc_free(&r);
	get(a, "/api/v1/exchanges/00112233445566778899aabbccddeeff", &vw, &r);
	tb_httpc_assert_error(&r, 404, "ENOTX");
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/members/bob/statement", &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"counterparty\":\"alice\""));
	assert_non_null(strstr(r.body, "\"delta_minutes\":-90"));
	tb_httpc_free(&r);
	assert_int_equal(
		post(a, "/api/v1/exchanges", &co,
		     "{\"provider\":\"carol\",\"receiver\":\"dora\",\"minutes\":30,\"memo\":\"tea\","
		     "\"category\":\"care\",\"date\":\"2026-12-01\",\"attest\":true}",
		     &r),
		201);
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/exchanges?member=dora", &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"memo\":\"tea\""));
	assert_null(strstr(r.body, "fence"));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/exchanges?category=GARDEN", &vw, &r), 200);
	assert_non_null(strstr(r.body, "fence"));
	assert_null(strstr(r.body, "\"memo\":\"tea\""));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/exchanges?from=2026-12-01&to=2026-12-31", &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"memo\":\"tea\""));
	assert_null(strstr(r.body, "fence"));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/exchanges?limit=1", &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"memo\":\"tea\""));
	assert_null(strstr(r.body, "\"next_before\":null"));
	tb_httpc_free(&r);
	get(a, "/api/v1/exchanges?limit=0", &vw, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	/* Reversal by attestation, once. */
	snprintf(path, sizeof path, "/api/v1/exchanges/%s/reverse", txid);
	assert_int_equal(post(a, path, &co, "{\"attest\":true}", &r), 201);
	tb_httpc_free(&r);
	post(a, path, &co, "{\"attest\":true}", &r);
	tb_httpc_assert_error(&r, 409, "EREVERSED");
	tb_httpc_free(&r);
	/* Removing a member is an admin's. */
	tb_httpc(a->http, "DELETE", "/api/v1/members/carol", &co, true, NULL, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(a->http, "DELETE", "/api/v1/members/carol", &adm, true, NULL, &r),
			 200);
	tb_httpc_free(&r);
	/* A member who left is still found, by name or number, as inactive. */
	assert_int_equal(get(a, "/api/v1/members/CAROL", &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"active\":false"));
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/members/%233", &vw, &r), 200);
	assert_non_null(strstr(r.body, "\"name\":\"carol\""));
	tb_httpc_free(&r);
	assert_true(tb_fed_log_has(a->f, 0, "cora POST /api/v1/exchanges", "201"));
	assert_true(tb_fed_log_has(a->f, 0, "vic POST /api/v1/exchanges", "403"));
}

/* Member-signed exchanges: the members' passphrases in the request. */
static void test_member_signed(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_session co;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(a->http, "cora", PW_COORD, &co), 200);
	const char *prop =
		"{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":45,\"memo\":\"lesson\","
		"\"attest\":false,\"provider_passphrase\":\"" TB_FED_MEMBER_PASS "\"}";
	post(a, "/api/v1/exchanges", &co,
	     "{\"provider\":\"alice\",\"receiver\":\"bob\",\"minutes\":45,\"memo\":\"lesson\","
	     "\"attest\":false,\"provider_passphrase\":\"wrong\"}",
	     &r);
	tb_httpc_assert_error(&r, 400, "EPASSPHRASE");
	tb_httpc_free(&r);
	assert_int_equal(post(a, "/api/v1/exchanges", &co, prop, &r), 202);
	char txid[40], path[200];
	json_str_field(r.body, "txid", txid, sizeof txid);
	tb_httpc_free(&r);
	assert_int_equal(get(a, "/api/v1/exchanges/pending", &co, &r), 200);
	assert_non_null(strstr(r.body, txid));
	assert_non_null(strstr(r.body, "\"memo\":\"lesson\""));
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/exchanges/%s/confirm", txid);
	assert_int_equal(
		post(a, path, &co, "{\"receiver_passphrase\":\"" TB_FED_MEMBER_PASS "\"}", &r),
		201);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/exchanges/%s/reverse", txid);
	post(a, path, &co, "{\"attest\":true}", &r);
	tb_httpc_assert_error(&r, 409, "ECONSENT");
	tb_httpc_free(&r);
	assert_int_equal(post(a, path, &co,
			      "{\"provider_passphrase\":\"" TB_FED_MEMBER_PASS
			      "\",\"receiver_passphrase\":\"" TB_FED_MEMBER_PASS "\"}",
			      &r),
			 201);
	tb_httpc_free(&r);
	/* A proposal rejected leaves nothing. */
	assert_int_equal(post(a, "/api/v1/exchanges", &co, prop, &r), 202);
	json_str_field(r.body, "txid", txid, sizeof txid);
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/exchanges/%s/reject", txid);
	assert_int_equal(post(a, path, &co, NULL, &r), 200);
	tb_httpc_free(&r);
	post(a, path, &co, "{}", &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
}

/* The event stream announces an entry recorded elsewhere (the CLI). */
static void test_events(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_session s;
	assert_int_equal(tb_httpc_login(a->http, "vic", PW_VIEW, &s), 200);
	int fd = tb_httpc_connect(a->http);
	assert_true(fd >= 0);
	char req[400];
	int n = snprintf(req, sizeof req,
			 "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", s.cookie);
	assert_int_equal(write(fd, req, (size_t)n), n);
	assert_int_equal(TB_FED_TALLY(a->f, 0, "exchange", "record", "--attest", "--provider",
				      "alice", "--receiver", "bob", "--minutes", "15", "--memo",
				      "x"),
			 0);
	uint64_t own = tb_fed_own_seq(a->f, 0);
	char want[64], buf[8192] = "";
	snprintf(want, sizeof want, "\"own\":true,\"seq\":%llu}", (unsigned long long)own);
	(void)tb_httpc_read_until_seen(fd, 15000, buf, sizeof buf, want);
	close(fd);
	if (!strstr(buf, "text/event-stream") || !strstr(buf, "event: entry") || !strstr(buf, want))
		fail_msg("no event for seq %llu: %s", (unsigned long long)own, buf);
}

/* One coordinator's seventh stream ends their oldest, which is told so. */
static void test_events_per_principal(void **state)
{
	(void)state;
	struct api *a = shared_api();
	struct tb_httpc_session s;
	assert_int_equal(tb_httpc_login(a->http, "vic", PW_VIEW, &s), 200);
	int fds[7];
	char req[400], buf[8192];
	int n = snprintf(req, sizeof req,
			 "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", s.cookie);
	for (int i = 0; i < 7; i++) {
		fds[i] = tb_httpc_connect(a->http);
		assert_true(fds[i] >= 0);
		assert_int_equal(write(fds[i], req, (size_t)n), n);
		buf[0] = 0;
		(void)tb_httpc_read_until_seen(fds[i], 10000, buf, sizeof buf, ": tally events");
		if (!strstr(buf, ": tally events"))
			fail_msg("stream %d not opened: %s", i, buf);
	}
	buf[0] = 0;
	(void)tb_httpc_read_until_seen(fds[0], 10000, buf, sizeof buf, "event: replaced");
	if (!strstr(buf, "event: replaced"))
		fail_msg("the oldest stream was not replaced: %s", buf);
	for (int i = 0; i < 7; i++)
		close(fds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_files),
		cmocka_unit_test(test_session),
		cmocka_unit_test(test_reads),
		cmocka_unit_test(test_roles_and_writes),
		cmocka_unit_test(test_member_signed),
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_events_per_principal),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_slowloris),
		/* Last on the shared daemon: it slows logins from 127.0.0.1. */
		cmocka_unit_test(test_login_throttle),
		cmocka_unit_test(test_expired_session),
		cmocka_unit_test(test_idle_flood),
	};
	signal(SIGPIPE, SIG_IGN);
	/* TB_TEST_FILTER=test_events runs one test (a glob). */
	if (getenv("TB_TEST_FILTER"))
		cmocka_set_test_filter(getenv("TB_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, group_teardown);
}
