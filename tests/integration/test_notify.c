/*
 * test_notify.c: members' notices and email digests (docs/API.md,
 * "Notices"), against real daemons on 127.0.0.1: Riverside (alice, bob,
 * carol and "Mal Bcc: x"; serving the API, digests through a fake sendmail
 * the test writes, which keeps each message it receives, or fails, or hangs,
 * as the test tells it) and Hilltop (hana). A proposal to bob is a live
 * "notice" event on bob's event stream and on no other member's; bob's
 * notices list it until he marks them seen, and his listing about to
 * expire and a proposal whose memo names it; alice's cross-community
 * payments completed and refused are hers. A daily digest after a new
 * proposal goes to bob's address only, with the proposal; none to a member
 * whose digest is off or who has nothing new; hostile addresses are refused
 * and a hostile name stays in the body; a sendmail that fails or hangs is
 * logged, killed after its timeout, and stalls nothing, and the digest it
 * did not send goes with the next.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fed.h"
#include "httpc.h"
#include "memberc.h"
#include "tb_notice_prefs.h"
#include "tb_store.h"

#define PW_COORD "coordinator-pw"
#define MAL "Mal Bcc: x"

enum { RIVER, HILL };

static struct tb_fed *g_f;
static uint16_t g_http;
static char g_mail[TB_FED_PATH + 16]; /* the fake sendmail's folder */
static struct tb_httpc_session g_cora;

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

static void mode(const char *m)
{
	char file[TB_FED_PATH + 32];
	snprintf(file, sizeof file, "%s/mode", g_mail);
	assert_int_equal(tb_test_write_file(file, m, strlen(m)), 0);
}

static int setup(void **state)
{
	(void)state;
	const struct tb_fed_spec spec[] = {{"Riverside", {"alice", "bob", "carol", MAL, NULL}},
					   {"Hilltop", {"hana", NULL}}};
	g_f = tb_fed_new_spec("notify", 2, spec);
	char file[TB_FED_PATH + 64], text[3 * TB_FED_PATH];
	snprintf(file, sizeof file, "%s/cora.pw", g_f->root);
	assert_int_equal(tb_test_write_file(file, PW_COORD, strlen(PW_COORD)), 0);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "coordinator", "add", "cora", "--role", "admin",
			"--password-file", file);
	TB_FED_TALLY_IS(g_f, RIVER, 0, "link", "add", "Hilltop", "--limit-minutes", "600");
	TB_FED_TALLY_IS(g_f, HILL, 0, "link", "add", "Riverside", "--limit-minutes", "10");
	tb_fed_link(g_f, RIVER, HILL);
	tb_fed_link(g_f, HILL, RIVER);
	/* The fake sendmail: keeps its standard input in mail.PID, or fails, or
	 * hangs, as the file mode says. */
	snprintf(g_mail, sizeof g_mail, "%s/mail", g_f->root);
	assert_int_equal(mkdir(g_mail, 0700), 0);
	snprintf(text, sizeof text,
		 "#!/bin/sh\n"
		 "d='%s'\n"
		 "case \"$(cat \"$d/mode\" 2>/dev/null)\" in\n"
		 "hang) exec sleep 60 ;;\n"
		 "fail) cat >/dev/null; exit 75 ;;\n"
		 "esac\n"
		 "cat > \"$d/tmp.$$\" && mv \"$d/tmp.$$\" \"$d/mail.$$\"\n",
		 g_mail);
	snprintf(file, sizeof file, "%s/sendmail", g_f->root);
	assert_int_equal(tb_test_write_file(file, text, strlen(text)), 0);
	assert_int_equal(chmod(file, 0755), 0);
	/* The operator's configuration file. */
	char conf[TB_FED_PATH + 64];
	snprintf(conf, sizeof conf, "%s/tallyd.conf", g_f->root);
	snprintf(text, sizeof text,
		 "# digests\nsendmail = %s -t -i\nsendmail-timeout = 2\ndigest-hour = 23\n"
		 "mail-from = tally@riverside.example\n",
		 file);
	assert_int_equal(tb_test_write_file(conf, text, strlen(text)), 0);
	const char *off[] = {"--http", "off", NULL};
	tb_fed_start_args(g_f, HILL, off);
	g_http = tb_fed_free_port();
	char arg[32];
	snprintf(arg, sizeof arg, "127.0.0.1:%u", g_http);
	const char *on[] = {"--http", arg, "--config", conf, NULL};
	tb_fed_start_args(g_f, RIVER, on);
	tb_fed_wait_log_line(g_f, RIVER, "console and API on", NULL, 10000);
	tb_fed_wait_log_line(g_f, RIVER, "email digests on", "tally@riverside.example", 10000);
	assert_int_equal(tb_httpc_login(g_http, "cora", PW_COORD, &g_cora), 200);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_fed_free(g_f);
	tb_fed_kill_all();
	return 0;
}

static void signin(const char *name, struct tb_httpc_session *s)
{
	struct tb_keypair kp;
	tb_member_signin(g_http, g_f->node[RIVER].data, name, s, &kp);
	tb_keypair_wipe(&kp);
}

/* A proposal by the coordinator, signed with the provider's key file. */
static void propose_memo(const char *from, const char *to, int minutes, const char *memo)
{
	char body[400];
	struct tb_httpc_resp r;
	snprintf(body, sizeof body,
		 "{\"provider\":\"%s\",\"receiver\":\"%s\",\"minutes\":%d,\"memo\":\"%s\","
		 "\"attest\":false,\"provider_passphrase\":\"%s\"}",
		 from, to, minutes, memo, TB_FED_MEMBER_PASS);
	call("POST", "/api/v1/exchanges", &g_cora, body, &r);
	expect(&r, 202, "\"pending\":true");
	tb_httpc_free(&r);
}

static void propose(const char *from, const char *to, int minutes)
{
	propose_memo(from, to, minutes, "help");
}

/* A member's event stream: the open socket, after the hello. */
static int stream(const struct tb_httpc_session *s)
{
	int fd = tb_httpc_connect(g_http);
	assert_true(fd >= 0);
	char req[512], buf[1024];
	int n = snprintf(req, sizeof req,
			 "GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: %s\r\n\r\n",
			 s->cookie);
	assert_int_equal(write(fd, req, (size_t)n), n);
	tb_httpc_read_until_seen(fd, 10000, buf, sizeof buf, ": tally events");
	if (!strstr(buf, ": tally events"))
		fail_msg("no event stream: %s", buf);
	return fd;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static json_t *notices(const struct tb_httpc_session *s)
{
	struct tb_httpc_resp r;
	assert_int_equal(call("GET", "/api/v1/me/notices", s, NULL, &r), 200);
	json_error_t e;
	json_t *j = json_loads(r.body, 0, &e);
	if (!j)
		fail_msg("not JSON: %s", r.body);
	tb_httpc_free(&r);
	return j;
}

static void test_notices_live(void **state)
{
	(void)state;
	struct tb_httpc_session bob, carol, alice;
	signin("bob", &bob);
	signin("carol", &carol);
	signin("alice", &alice);
	int fb = stream(&bob), fc = stream(&carol);
	char buf[8192];
	propose("alice", "bob", 30);
	tb_httpc_read_until_seen(fb, 10000, buf, sizeof buf, "event: notice");
	if (!strstr(buf, "event: notice"))
		fail_msg("bob's stream had no notice: %s", buf);
	/* carol's stream gets hers, and had not got bob's before it. */
	propose("alice", "carol", 15);
	tb_httpc_read_until_seen(fc, 10000, buf, sizeof buf, "event: notice");
	assert_int_equal(count(buf, "event: notice"), 1);
	close(fb);
	close(fc);
	json_t *j = notices(&bob);
	json_t *first = json_array_get(json_object_get(j, "notices"), 0);
	assert_string_equal(json_string_value(json_object_get(first, "kind")), "proposal");
	assert_string_equal(json_string_value(json_object_get(first, "who")), "alice");
	assert_int_equal(json_integer_value(json_object_get(first, "minutes")), 30);
	assert_true(json_is_true(json_object_get(first, "new")));
	assert_int_equal(json_integer_value(json_object_get(j, "unseen")), 1);
	json_decref(j);
	struct tb_httpc_resp r;
	call("POST", "/api/v1/me/notices/seen", &bob, "{}", &r);
	expect(&r, 200, "\"seen_until\":");
	tb_httpc_free(&r);
	j = notices(&bob);
	assert_int_equal(json_integer_value(json_object_get(j, "unseen")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "notices")), 1);
	json_decref(j);
	/* carol sees only hers; a coordinator has no notices of their own. */
	call("GET", "/api/v1/me/notices", &carol, NULL, &r);
	expect(&r, 200, "\"minutes\":15");
	assert_null(strstr(r.body, "\"minutes\":30"));
	tb_httpc_free(&r);
	call("GET", "/api/v1/me/notices", &g_cora, NULL, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	/* bob's request expires tomorrow; a proposal whose memo names it
	 * names the listing. */
	TB_FED_TALLY_IS(g_f, RIVER, 0, "listing", "add", "--member", "bob", "--request", "--title",
			"Lift to the clinic", "--days", "1");
	propose_memo("alice", "bob", 25, "the lift to the clinic on Tuesday");
	call("GET", "/api/v1/me/notices", &bob, NULL, &r);
	expect(&r, 200, "\"kind\":\"expiring\"");
	expect(&r, 200, "\"title\":\"Lift to the clinic\"");
	tb_httpc_free(&r);
	/* alice pays hana@Hilltop twice: Hilltop lets Riverside owe it 10
	 * minutes, so 5 complete and 20 are refused. */
	const char *amounts[] = {"5", "20"};
	for (size_t k = 0; k < 2; k++) {
		int rc = 1;
		for (int i = 0; i < 300 && rc; i++) {
			rc = TB_FED_TALLY(g_f, RIVER, "exchange", "send", "--from", "alice", "--to",
					  "hana@Hilltop", "--minutes", amounts[k], "--memo", "tea",
					  "--attest", "--no-wait");
			if (rc && !strstr(g_f->res.err, "ELINK"))
				break;
			if (rc)
				tb_fed_sleep_ms(100);
		}
		if (rc)
			fail_msg("exchange send refused: %s", g_f->res.err);
	}
	bool paid = false, refused = false;
	for (int i = 0; i < 600 && !(paid && refused); i++) {
		call("GET", "/api/v1/me/notices", &alice, NULL, &r);
		paid = strstr(r.body, "\"kind\":\"paid\"") != NULL;
		refused = strstr(r.body, "\"kind\":\"refused\"") && strstr(r.body, "trust limit");
		if (!(paid && refused))
			tb_fed_sleep_ms(100);
		tb_httpc_free(&r);
	}
	if (!paid || !refused)
		fail_msg("alice's payments did not both end (paid %d, refused %d)", paid, refused);
	call("GET", "/api/v1/me/notices", &bob, NULL, &r);
	assert_null(strstr(r.body, "hana"));
	tb_httpc_free(&r);
}

/* The messages the fake sendmail kept, concatenated (count in *n). */
static char *mails(size_t *n)
{
	DIR *d = opendir(g_mail);
	assert_non_null(d);
	char *all = calloc(1, 1);
	size_t len = 0;
	*n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strncmp(e->d_name, "mail.", 5))
			continue;
		char path[TB_FED_PATH + 300];
		snprintf(path, sizeof path, "%s/%s", g_mail, e->d_name);
		size_t l;
		uint8_t *b = tb_test_read_file(path, &l);
		assert_non_null(b);
		all = realloc(all, len + l + 1);
		memcpy(all + len, b, l);
		len += l;
		all[len] = '\0';
		free(b);
		(*n)++;
	}
	closedir(d);
	return all;
}

/* Asks for a run of the digests (the n-th), waits for its end. */
static void run_digests(int n, const char *queued)
{
	struct tb_httpc_resp r;
	call("POST", "/api/v1/digests/send", &g_cora, "{}", &r);
	expect(&r, 202, queued);
	tb_httpc_free(&r);
	char what[40];
	snprintf(what, sizeof what, "digests: run %d done", n);
	tb_fed_wait_log_line(g_f, RIVER, what, NULL, 20000);
}

static void set_digest(const struct tb_httpc_session *s, const char *body, int status)
{
	struct tb_httpc_resp r;
	call("POST", "/api/v1/me/digest", s, body, &r);
	if (r.status != status)
		fail_msg("%s: wanted %d, got %d: %s", body, status, r.status, r.body);
	tb_httpc_free(&r);
}

static void test_digest(void **state)
{
	(void)state;
	struct tb_httpc_session bob, carol, alice, mal;
	signin("bob", &bob);
	signin("carol", &carol);
	signin("alice", &alice);
	signin(MAL, &mal);
	struct tb_httpc_resp r;
	/* Only an admin asks for a run; a member's own settings only. */
	call("POST", "/api/v1/digests/send", &bob, "{}", &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	call("GET", "/api/v1/me/digest", &bob, NULL, &r);
	expect(&r, 200, "\"digest\":\"none\"");
	expect(&r, 200, "\"available\":true");
	tb_httpc_free(&r);
	/* Hostile addresses are refused, naming the problem. */
	const char *bad[] = {
		"{\"digest\":\"daily\",\"email\":\"a@b.org\\r\\nBcc: evil@x.org\"}",
		"{\"digest\":\"daily\",\"email\":\"Alice <a@b.org>\"}",
		"{\"digest\":\"daily\",\"email\":\"a@b.org, evil@x.org\"}",
		"{\"digest\":\"daily\",\"email\":\"a@b.org\\nBcc:evil@x.org\"}",
		"{\"digest\":\"daily\"}",
		"{\"digest\":\"hourly\",\"email\":\"a@b.org\"}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		call("POST", "/api/v1/me/digest", &alice, bad[i], &r);
		tb_httpc_assert_error(&r, 400, "EINVAL");
		tb_httpc_free(&r);
	}
	set_digest(&bob, "{\"digest\":\"daily\",\"email\":\"bob@example.org\"}", 200);
	set_digest(&alice, "{\"digest\":\"weekly\",\"email\":\"alice@example.org\"}", 200);
	set_digest(&carol, "{\"digest\":\"none\",\"email\":\"carol@example.org\"}", 200);
	call("GET", "/api/v1/me/digest", &bob, NULL, &r);
	expect(&r, 200, "\"email\":\"bob@example.org\"");
	tb_httpc_free(&r);
	/* New since the choice (times are whole seconds). */
	tb_fed_sleep_ms(1100);
	propose(MAL, "bob", 40);
	propose(MAL, "carol", 41);
	propose(MAL, "alice", 42);
	/* bob is due; alice's weekly digest is not; carol's is off. */
	run_digests(1, "\"queued\":1");
	size_t n;
	char *m = mails(&n);
	assert_int_equal(n, 1);
	char *body = strstr(m, "\r\n\r\n");
	assert_non_null(body);
	*body = '\0';
	assert_non_null(strstr(m, "To: <bob@example.org>\r\n"));
	assert_non_null(strstr(m, "From: Tally <tally@riverside.example>\r\n"));
	assert_non_null(strstr(m, "Subject: Tally: 1 new for you\r\n"));
	assert_non_null(strstr(m, "\r\nDate: "));
	assert_non_null(strstr(m, "\r\nMessage-ID: <"));
	assert_non_null(strstr(m, "Content-Type: text/plain; charset=utf-8\r\n"));
	assert_null(strstr(m, "Bcc"));
	assert_int_equal(count(m, "To:"), 1);
	assert_non_null(strstr(body + 4, MAL " proposes an exchange of 40 minutes with you"));
	assert_null(strstr(body + 4, "41 minutes"));
	free(m);
	/* Nothing new: nothing sent. */
	run_digests(2, "\"queued\":1");
	free(mails(&n));
	assert_int_equal(n, 1);
	/* A sendmail that fails: logged, not counted as sent. */
	mode("fail");
	tb_fed_sleep_ms(1100);
	propose("alice", "bob", 10);
	run_digests(3, "\"queued\":1");
	tb_fed_wait_log_line(g_f, RIVER, "sendmail exited with status 75", NULL, 1000);
	/* One that hangs: the node answers meanwhile, a second run waits. */
	mode("hang");
	call("POST", "/api/v1/digests/send", &g_cora, "{}", &r);
	expect(&r, 202, "\"queued\":1");
	tb_httpc_free(&r);
	call("POST", "/api/v1/digests/send", &g_cora, "{}", &r);
	tb_httpc_assert_error(&r, 409, "EFULL");
	tb_httpc_free(&r);
	call("GET", "/api/v1/me/notices", &bob, NULL, &r);
	expect(&r, 200, "\"minutes\":10");
	tb_httpc_free(&r);
	tb_fed_wait_log_line(g_f, RIVER, "did not finish within 2 s; killed", NULL, 20000);
	tb_fed_wait_log_line(g_f, RIVER, "digests: run 4 done", NULL, 20000);
	/* What they did not send goes with the next. */
	mode("ok");
	run_digests(5, "\"queued\":1");
	m = mails(&n);
	assert_int_equal(n, 2);
	assert_non_null(strstr(m, "alice proposes an exchange of 10 minutes with you"));
	assert_int_equal(count(m, "40 minutes"), 1);
	free(m);
}

/* carol's settings as if she chose a daily digest yesterday (tallyd stopped). */
static void carol_daily_since_yesterday(void)
{
	char path[TB_FED_PATH + 64];
	snprintf(path, sizeof path, "%s/ledger", g_f->node[RIVER].data);
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, path, 0), 0);
	struct tb_member m;
	assert_int_equal(tb_store_member_by_name(s, g_f->node[RIVER].id, "carol", &m), 0);
	struct tb_notice_prefs p;
	assert_int_equal(tb_store_notice_prefs(s, m.no, &p), 0);
	p.digest = TB_DIGEST_DAILY;
	snprintf(p.email, sizeof p.email, "carol@example.org");
	p.sent = (uint64_t)time(NULL) - 86400;
	assert_int_equal(tb_store_notice_prefs_put(s, m.no, &p), 0);
	tb_store_free(s);
}

/* Restarted after the digests' hour: the day's run happens at the first
 * tick; a member sent theirs earlier that day (bob, above) is not sent a
 * second, and the run happens once. */
static void test_digest_restart(void **state)
{
	(void)state;
	tb_fed_sleep_ms(1100);
	propose(MAL, "carol", 43);
	propose(MAL, "bob", 44);
	size_t before, n;
	free(mails(&before));
	tb_fed_stop(g_f, RIVER);
	assert_int_equal(truncate(g_f->node[RIVER].log, 0), 0);
	carol_daily_since_yesterday();
	char conf[TB_FED_PATH + 64], text[TB_FED_PATH + 300], arg[32];
	snprintf(conf, sizeof conf, "%s/tallyd.conf", g_f->root);
	snprintf(text, sizeof text,
		 "sendmail = %s/sendmail -t -i\nsendmail-timeout = 2\ndigest-hour = 0\n"
		 "mail-from = tally@riverside.example\n",
		 g_f->root);
	assert_int_equal(tb_test_write_file(conf, text, strlen(text)), 0);
	snprintf(arg, sizeof arg, "127.0.0.1:%u", g_http);
	const char *on[] = {"--http", arg, "--config", conf, NULL};
	const char *env[] = {"TALLYD_DIGEST_TICK_MS=200", NULL};
	tb_fed_spawn_env(g_f, RIVER, on, env);
	tb_fed_wait_up(g_f, RIVER);
	tb_fed_wait_log_line(g_f, RIVER, "digests: run 1: 1 members due", NULL, 20000);
	tb_fed_wait_log_line(g_f, RIVER, "digests: run 1 done: 1 sent", NULL, 20000);
	char *m = mails(&n);
	assert_int_equal(n, before + 1);
	assert_non_null(strstr(m, "To: <carol@example.org>"));
	assert_non_null(strstr(m, "43 minutes"));
	assert_null(strstr(m, "44 minutes"));
	free(m);
	tb_fed_sleep_ms(600);
	assert_false(tb_fed_log_has(g_f, RIVER, "digests: run 2", NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notices_live),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_digest_restart),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
