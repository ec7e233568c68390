/*
 * test_listings_fed.c: members' listings across a federation of three real
 * tallyd processes on 127.0.0.1 in a line (A-B-C, so C hears of A's
 * listings only through B): a federation listing posted with `tally` at A
 * is found at B and C within a second; a community listing's bytes reach no
 * other node's store; a withdrawal and an expiry (the test clock file that
 * tally and tallyd read, FORMAT.md 16.4) make listings vanish everywhere
 * and be deleted; the command line refuses bad listings with clear errors;
 * and a fake peer's bad listings (too long, a bad community signature, an
 * expiry out of range, a community listing) are each refused with a
 * REFUSED naming the problem, the connection staying open; the API
 * posts, finds, hides (by community and id), withdraws and refuses as the
 * command line does; a listing expired but not yet deleted is not sent to
 * a peer; and a member's listing is withdrawn after they left.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fed.h"
#include "httpc.h"
#include "tb_file.h"
#include "tb_node.h"

#define WAIT_MS 60000
#define A 0
#define B 1
#define C 2

static struct tb_fed *F;
static uint16_t g_http; /* A's API */
static char g_clock[TB_FED_PATH + 16];
static uint64_t g_now;

static void set_clock(uint64_t now)
{
	FILE *f = fopen(g_clock, "w");
	assert_non_null(f);
	fprintf(f, "%llu\n", (unsigned long long)now);
	assert_int_equal(fclose(f), 0);
	g_now = now;
}

static int group_setup(void **state)
{
	(void)state;
	F = tb_fed_new("listings", 3);
	snprintf(g_clock, sizeof g_clock, "%s/clock", F->root);
	set_clock((uint64_t)time(NULL));
	setenv("TALLY_TEST_CLOCK", g_clock, 1);
	tb_fed_link(F, A, B);
	tb_fed_link(F, C, B);
	char pw[TB_FED_PATH + 16], http[32];
	snprintf(pw, sizeof pw, "%s/cora.pw", F->root);
	assert_int_equal(tb_test_write_file(pw, "coordinator-pw", 14), 0);
	TB_FED_TALLY_IS(F, A, 0, "coordinator", "add", "cora", "--role", "coordinator",
			"--password-file", pw);
	snprintf(pw, sizeof pw, "%s/vic.pw", F->root);
	assert_int_equal(tb_test_write_file(pw, "viewer-pw-123", 13), 0);
	TB_FED_TALLY_IS(F, A, 0, "coordinator", "add", "vic", "--role", "viewer", "--password-file",
			pw);
	g_http = tb_fed_free_port();
	snprintf(http, sizeof http, "127.0.0.1:%u", g_http);
	tb_fed_start_args(F, A, (const char *const[]){"--http", http, NULL});
	tb_fed_start(F, B);
	tb_fed_start(F, C);
	tb_fed_wait_converged(F, NULL, 0, WAIT_MS);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tb_fed_free(F);
	tb_fed_kill_all();
	return 0;
}

struct count {
	const char *title;
	size_t n;
};

static int count_cb(void *ctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		    uint64_t info)
{
	struct count *c = ctx;
	(void)obj;
	(void)len;
	(void)info;
	if (l->title.len == strlen(c->title) && !memcmp(l->title.p, c->title, l->title.len))
		c->n++;
	return 0;
}

/* Listings titled title node i holds: live ones shown at now, or (raw)
 * every version kept, withdrawn, hidden and expired ones too. */
static size_t held(size_t i, const char *title, bool raw)
{
	char dir[TB_FED_PATH + 32];
	struct tb_store *s;
	snprintf(dir, sizeof dir, "%s/ledger", F->node[i].data);
	assert_int_equal(tb_store_open(&s, dir, TB_STORE_RDONLY), 0);
	struct tb_listing_query q = {.kind = -1, .now = raw ? 0 : g_now};
	q.withdrawn = q.hidden = raw;
	struct count c = {title, 0};
	assert_true(tb_store_listings_search(s, &q, count_cb, &c) >= 0);
	tb_store_free(s);
	return c.n;
}

struct seen {
	const char *title;
	size_t want; /* listings shown: 1 present, 0 gone */
	bool raw;
};

static bool everywhere(struct tb_fed *f, void *ctx, char *why, size_t cap, size_t *blame)
{
	struct seen *s = ctx;
	for (size_t i = 0; i < f->n; i++)
		if (held(i, s->title, s->raw) != s->want) {
			snprintf(why, cap, "node %zu %s '%s'", i, s->want ? "lacks" : "still holds",
				 s->title);
			*blame = i;
			return false;
		}
	return true;
}

/* Whether the file holds the bytes of s. */
static bool file_has(const char *path, const char *s)
{
	size_t len, m = strlen(s);
	uint8_t *p = tb_test_read_file(path, &len);
	bool found = false;
	for (size_t i = 0; p && !found && i + m <= len; i++)
		found = !memcmp(p + i, s, m);
	free(p);
	return found;
}

static char g_id[64];

static void add(size_t i, const char *title, const char *vis, const char *days)
{
	TB_FED_TALLY_IS(F, i, 0, "listing", "add", "--member", "m1", "--offer", "--title", title,
			"--description", "Saturdays, bring the bike", vis, "--days", days);
	snprintf(g_id, sizeof g_id, "%.32s", F->res.out);
}

static void test_gossip_withdraw_expire(void **state)
{
	(void)state;
	const char *secret = "Secret garden tour 5b1e";
	const char *bikes = "I can fix bikes 7f3a";
	add(A, secret, "--community", "30");
	add(A, bikes, "--federation", "30");
	uint64_t t0 = tb_fed_now_ms(); /* stored at A: from here it is gossip */
	char id[64];
	snprintf(id, sizeof id, "%s", g_id);
	struct seen s = {bikes, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "the federation listing on every node");
	uint64_t ms = tb_fed_now_ms() - t0;
	fprintf(stderr, "listing on all three nodes %llu ms after 'tally listing add' stored it\n",
		(unsigned long long)ms);
	assert_true(ms < 1000 * 5); /* a second on a quiet machine; room for a loaded one */

	/* The community listing: at A only, its bytes in no other store. */
	assert_int_equal(held(A, secret, false), 1);
	for (size_t i = B; i <= C; i++) {
		char path[TB_FED_PATH + 64];
		snprintf(path, sizeof path, "%s/ledger/data.mdb", F->node[i].data);
		assert_int_equal(held(i, secret, true), 0);
		assert_false(file_has(path, secret));
	}
	/* B and C find it by text, category-free, kind and community too. */
	TB_FED_TALLY_IS(F, C, 0, "listing", "list", "--text", "FIX BIKES", "--offers");
	assert_non_null(strstr(F->res.out, "m1@Comm00"));
	TB_FED_TALLY_IS(F, C, 0, "--json", "listing", "list", "--community", "Comm00");
	assert_non_null(strstr(F->res.out, "\"at\":\"m1@Comm00\""));
	assert_null(strstr(F->res.out, "Secret garden"));

	/* Withdrawn at A: gone everywhere (tombstones kept until expiry). */
	TB_FED_TALLY_IS(F, A, 0, "listing", "withdraw", id);
	s.want = 0;
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "the withdrawn listing gone from every node");

	/* A listing of one day, then the clock two days on: shown nowhere at
	 * once, deleted everywhere at the next change each node sees. */
	const char *brief = "Jam jars to give away 91c2";
	add(A, brief, "--federation", "1");
	struct seen b = {brief, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &b, "the one-day listing on every node");
	set_clock(g_now + 2 * 86400);
	b.want = 0;
	assert_true(everywhere(F, &b, (char[64]){0}, 64, &(size_t){0}));
	TB_FED_TALLY_IS(F, B, 0, "listing", "list", "--text", "jam jars");
	assert_null(strstr(F->res.out, "Jam jars"));
	add(A, "Another listing d00d", "--federation", "30"); /* a change for every node */
	b.raw = true;
	tb_fed_wait(F, WAIT_MS, everywhere, &b, "the expired listing deleted on every node");
}

static void test_cli_refusals(void **state)
{
	(void)state;
	char longt[82];
	memset(longt, 'a', 81);
	longt[81] = 0;
	TB_FED_TALLY_IS(F, A, 2, "listing", "add", "--member", "m1", "--offer", "--title", longt);
	assert_non_null(strstr(F->res.err, "ETOOLONG"));
	TB_FED_TALLY_IS(F, A, 2, "listing", "add", "--member", "m1", "--offer", "--title", "x",
			"--days", "91");
	assert_non_null(strstr(F->res.err, "EEXPIRY"));
	TB_FED_TALLY_IS(F, A, 2, "listing", "add", "--member", "m1", "--offer", "--title",
			"two\nlines");
	assert_non_null(strstr(F->res.err, "EUTF8"));
	/* A right-to-left override: shown reversed, "fix bikes". */
	TB_FED_TALLY_IS(F, A, 2, "listing", "add", "--member", "m1", "--offer", "--title",
			"fix \xe2\x80\xae"
			"sekib");
	assert_non_null(strstr(F->res.err, "EUTF8"));
	assert_non_null(strstr(F->res.err, "U+202E"));
	TB_FED_TALLY_IS(F, A, 1, "listing", "add", "--member", "nobody", "--offer", "--title", "x");
	assert_non_null(strstr(F->res.err, "EMEMBER"));
}

/* A listing of A's community signed with A's key, attested, as bytes. */
static size_t forge(uint8_t *out, const struct tb_keypair *kp, const char *title, uint64_t days,
		    uint64_t vis, bool sign_right)
{
	struct tb_listing l;
	memset(&l, 0, sizeof l);
	memcpy(l.log_id, kp->pk.b, TB_KEY_LEN);
	tb_random(l.id, TB_LISTING_ID_LEN);
	l.version = 1;
	l.member = 1;
	l.title = (struct tb_view){(const uint8_t *)title, strlen(title)};
	l.visibility = vis;
	l.created = g_now;
	l.expires = g_now + days * 86400;
	l.attested = 1;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, TB_LISTING_MAX + 200);
	assert_int_equal(tb_msg_encode(&w, &tb_def_listing, &l), 0);
	tb_sign(out + w.len, kp, TB_CTX_LISTED, out, w.len);
	if (!sign_right)
		out[w.len + 3] ^= 1;
	return w.len + TB_SIGLEN;
}

static void test_peer_refusals(void **state)
{
	(void)state;
	uint8_t psk[32];
	char path[TB_FED_PATH + 64];
	struct tb_keypair kp;
	assert_int_equal(tb_fedkey_read(F->fedkey, psk), 0);
	snprintf(path, sizeof path, "%s/keys/node.key", F->node[A].data);
	assert_int_equal(tb_keyfile_read(path, &kp, TB_FED_PASS, strlen(TB_FED_PASS)), 0);
	struct tb_fake *p = calloc(1, sizeof *p);
	assert_non_null(p);
	p->fd = -1;
	tb_fake_open(p, F->node[B].port, psk, 950);
	char longt[82];
	memset(longt, 'b', 81);
	longt[81] = 0;
	static uint8_t objs[4][TB_LISTING_MAX + 200];
	size_t lens[4] = {
		forge(objs[0], &kp, longt, 30, TB_LISTING_FEDERATION, true),
		forge(objs[1], &kp, "Bad signature", 30, TB_LISTING_FEDERATION, false),
		forge(objs[2], &kp, "Ninety-one days", 91, TB_LISTING_FEDERATION, true),
		forge(objs[3], &kp, "Community only", 30, TB_LISTING_COMMUNITY, true),
	};
	const int want[4] = {TB_ETOOLONG, TB_EBADSIG, TB_EEXPIRY, TB_EINVAL};
	const char *says[4] = {"malformed", "signature", "expiry", "never leaves"};
	for (size_t i = 0; i < 4; i++) {
		uint8_t buf[2 + TB_LISTING_MAX + 200];
		size_t len = 0;
		assert_int_equal(
			tb_records_add(buf, sizeof buf, &len, (struct tb_view){objs[i], lens[i]}),
			0);
		struct tb_peer_msg m = {.type = TB_MSG_LISTINGS};
		m.u.listings.records = (struct tb_view){buf, len};
		assert_int_equal(tb_fake_send(p, &m), 0);
		assert_int_equal(tb_fake_expect(p, TB_MSG_REFUSED, &m, 10000), 1);
		if (m.u.refused.code != want[i])
			fail_msg("listing %zu: REFUSED %s, expected %s (%.*s)", i,
				 tb_errname((int)m.u.refused.code), tb_errname(want[i]),
				 (int)m.u.refused.reason.len, (const char *)m.u.refused.reason.p);
		char reason[256];
		snprintf(reason, sizeof reason, "%.*s", (int)m.u.refused.reason.len,
			 (const char *)m.u.refused.reason.p);
		if (!strstr(reason, says[i]))
			fail_msg("listing %zu: reason '%s' does not say '%s'", i, reason, says[i]);
	}
	/* Still open, and none of them stored. */
	struct tb_peer_msg m = {.type = TB_MSG_PING};
	m.u.ping.nonce = 77;
	assert_int_equal(tb_fake_send(p, &m), 0);
	assert_int_equal(tb_fake_expect(p, TB_MSG_PONG, &m, 10000), 1);
	assert_int_equal(held(B, "Bad signature", true), 0);
	assert_int_equal(held(B, "Ninety-one days", true), 0);
	assert_int_equal(held(B, "Community only", true), 0);
	tb_fake_close(p);
	free(p);
	tb_keypair_wipe(&kp);
}

/* Whether a LISTINGS holds a listing titled title. */
static bool listings_have(const struct tb_listings *ls, const char *title)
{
	struct tb_records_iter it;
	struct tb_view rec;
	tb_records_begin(&it, ls->records);
	while (tb_records_next(&it, &rec) == 1) {
		struct tb_listing l;
		assert_true(rec.len > TB_SIGLEN);
		assert_int_equal(
			tb_msg_decode_exact(rec.p, rec.len - TB_SIGLEN, &tb_def_listing, &l), 0);
		if (l.title.len == strlen(title) && !memcmp(l.title.p, title, l.title.len))
			return true;
	}
	return false;
}

/* A listing that expired but is not deleted yet (deletion runs at most every
 * TB_LST_PRUNE_S) is not sent to a peer that asks for everything. */
static void test_push_skips_expired_listings(void **state)
{
	(void)state;
	uint64_t t = g_now + 10 * 86400;
	/* A change at the clock t: every node deletes what expired, so none
	 * deletes again before t + 60. */
	set_clock(t);
	const char *mark = "Marker before 3c4d";
	add(A, mark, "--federation", "30");
	struct seen s = {mark, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "the marker on every node");
	/* Posted two days back for one day: expired at t, still stored. */
	set_clock(t - 2 * 86400);
	const char *old = "Expired soup 77aa";
	add(A, old, "--federation", "1");
	struct seen o = {old, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &o, "the one-day listing on every node");
	set_clock(t);
	assert_int_equal(held(A, old, true), 1);
	assert_int_equal(held(A, old, false), 0);

	uint8_t psk[32];
	assert_int_equal(tb_fedkey_read(F->fedkey, psk), 0);
	struct tb_fake *p = calloc(1, sizeof *p);
	assert_non_null(p);
	p->fd = -1;
	tb_fake_open(p, F->node[A].port, psk, 951);
	struct tb_peer_msg m = {.type = TB_MSG_LISTINGS_SYNC};
	m.u.listings_sync.count = 0; /* holds none: A sends all it holds */
	assert_int_equal(tb_fake_send(p, &m), 0);
	const char *last = "Marker after 9e0f";
	add(A, last, "--federation", "30");
	bool got_mark = false;
	for (;;) {
		if (tb_fake_expect(p, TB_MSG_LISTINGS, &m, 10000) != 1)
			fail_msg("A sent no LISTINGS holding '%s'", last);
		if (listings_have(&m.u.listings, old))
			fail_msg("A sent the expired listing '%s'", old);
		got_mark |= listings_have(&m.u.listings, mark);
		if (listings_have(&m.u.listings, last))
			break;
	}
	assert_true(got_mark);
	assert_int_equal(held(A, old, true), 1); /* not deleted yet: the push skipped it */
	tb_fake_close(p);
	free(p);
}

/* A member who left: the coordinator withdraws their listing (attested,
 * no passphrase), everywhere; it cannot be renewed. */
static void test_left_member_withdrawn(void **state)
{
	(void)state;
	const char *title = "Left member's offer 4b4b";
	TB_FED_TALLY_IS(F, A, 0, "listing", "add", "--member", "m2", "--offer", "--title", title,
			"--federation", "--attest");
	char id[64];
	snprintf(id, sizeof id, "%.32s", F->res.out);
	struct seen s = {title, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "m2's listing on every node");
	TB_FED_TALLY_IS(F, A, 0, "member", "remove", "m2", "--keep-balance");
	TB_FED_TALLY_IS(F, A, 1, "listing", "renew", id);
	assert_non_null(strstr(F->res.err, "ELEFT"));
	TB_FED_TALLY_IS(F, A, 0, "listing", "withdraw", id);
	s.want = 0;
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "the left member's listing gone from every node");
}

/* A listing of C's community with the id idhex (any community may publish
 * any id), stored at C as its tally would: tallyd gossips it. */
static void post_twin(const char *idhex, const char *title)
{
	char path[TB_FED_PATH + 64];
	struct tb_keypair kp;
	snprintf(path, sizeof path, "%s/keys/node.key", F->node[C].data);
	assert_int_equal(tb_keyfile_read(path, &kp, TB_FED_PASS, strlen(TB_FED_PASS)), 0);
	struct tb_listing l;
	memset(&l, 0, sizeof l);
	memcpy(l.log_id, kp.pk.b, TB_KEY_LEN);
	assert_int_equal(tb_hex_decode(l.id, TB_LISTING_ID_LEN, idhex), 0);
	l.version = 1;
	l.member = 1;
	l.kind = TB_LISTING_OFFER;
	l.title = (struct tb_view){(const uint8_t *)title, strlen(title)};
	l.visibility = TB_LISTING_FEDERATION;
	l.created = g_now;
	l.expires = g_now + 30 * 86400;
	l.attested = 1;
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	assert_int_equal(tb_listing_seal(obj, sizeof obj, &len, &l, &kp), 0);
	tb_keypair_wipe(&kp);
	struct tb_store *st;
	struct tb_reject rej;
	snprintf(path, sizeof path, "%s/ledger", F->node[C].data);
	assert_int_equal(tb_store_open(&st, path, 0), 0);
	assert_int_equal(tb_store_listing_put(st, obj, len, g_now, &rej), 0);
	tb_store_free(st);
}

/* Hiding names the community and the id: C's listing of the same id as
 * A's stays shown when A's is hidden, and the form by id alone is refused. */
static void hide_by_community(struct tb_httpc_session *ss, const char *id)
{
	struct tb_httpc_resp r;
	char path[200];
	const char *twin = "Twin of a lift 5e5e";
	post_twin(id, twin);
	struct seen tw = {twin, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &tw, "C's listing of the same id on every node");
	snprintf(path, sizeof path, "/api/v1/listings/%s/hide", id);
	tb_httpc(g_http, "POST", path, ss, true, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	assert_non_null(strstr(r.body, "/api/v1/listings/COMMUNITY/"));
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/listings/Nowhere/%s/hide", id);
	tb_httpc(g_http, "POST", path, ss, true, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/listings/Comm01/%s/hide", id);
	tb_httpc(g_http, "POST", path, ss, true, NULL, &r);
	tb_httpc_assert_error(&r, 404, "ENOTFOUND");
	tb_httpc_free(&r);
	snprintf(path, sizeof path, "/api/v1/listings/Comm00/%s/hide", id);
	assert_int_equal(tb_httpc(g_http, "POST", path, ss, true, NULL, &r), 200);
	assert_non_null(strstr(r.body, "\"hidden\":true"));
	tb_httpc_free(&r);
	assert_int_equal(held(A, twin, false), 1);
	/* The command line likewise. */
	TB_FED_TALLY_IS(F, A, 2, "listing", "hide", id);
	assert_non_null(strstr(F->res.err, "COMMUNITY ID"));
	TB_FED_TALLY_IS(F, A, 0, "listing", "hide", "Comm02", id);
	assert_int_equal(held(A, twin, false), 0);
	TB_FED_TALLY_IS(F, A, 0, "listing", "show", "Comm02", id);
	assert_int_equal(held(A, twin, false), 1);
}

/* The API posts, finds, hides and withdraws as the command line does. */
static void test_api(void **state)
{
	(void)state;
	struct tb_httpc_session ss;
	struct tb_httpc_resp r;
	assert_int_equal(tb_httpc_login(g_http, "cora", "coordinator-pw", &ss), 200);
	char longt[82], body[400];
	memset(longt, 'c', 81);
	longt[81] = 0;
	snprintf(body, sizeof body, "{\"member\":\"m2\",\"kind\":\"request\",\"title\":\"%s\"}",
		 longt);
	tb_httpc(g_http, "POST", "/api/v1/listings", &ss, true, body, &r);
	tb_httpc_assert_error(&r, 400, "ETOOLONG");
	tb_httpc_free(&r);
	tb_httpc(g_http, "POST", "/api/v1/listings", &ss, true,
		 "{\"member\":\"m2\",\"kind\":\"request\",\"title\":\"x\",\"days\":91}", &r);
	tb_httpc_assert_error(&r, 400, "EEXPIRY");
	tb_httpc_free(&r);

	const char *lift = "Lift to the clinic e11a";
	snprintf(body, sizeof body,
		 "{\"member\":\"m2\",\"kind\":\"request\",\"title\":\"%s\","
		 "\"visibility\":\"federation\",\"attest\":true,\"days\":14}",
		 lift);
	assert_int_equal(tb_httpc(g_http, "POST", "/api/v1/listings", &ss, true, body, &r), 201);
	assert_non_null(strstr(r.body, "\"at\":\"m2@Comm00\""));
	char *at = strstr(r.body, "\"id\":\"");
	assert_non_null(at);
	char id[33];
	snprintf(id, sizeof id, "%.32s", at + 6);
	tb_httpc_free(&r);
	struct seen s = {lift, 1, false};
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "the API's listing on every node");

	assert_int_equal(tb_httpc(g_http, "GET", "/api/v1/listings?text=CLINIC&kind=request", &ss,
				  false, NULL, &r),
			 200);
	assert_non_null(strstr(r.body, lift));
	tb_httpc_free(&r);
	/* A query argument too long to read is refused, not dropped (which
	 * would return every listing), here and in the other handlers. */
	char path[600];
	memcpy(path, "/api/v1/listings?text=", 22);
	memset(path + 22, 'a', 400);
	path[422] = 0;
	tb_httpc(g_http, "GET", path, &ss, false, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	assert_non_null(strstr(r.body, "'text'"));
	tb_httpc_free(&r);
	tb_httpc(g_http, "GET", "/api/v1/listings?kind=%zz", &ss, false, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	memcpy(path, "/api/v1/exchanges?member=", 25);
	memset(path + 25, 'm', 300);
	path[325] = 0;
	tb_httpc(g_http, "GET", path, &ss, false, NULL, &r);
	tb_httpc_assert_error(&r, 400, "EINVAL");
	tb_httpc_free(&r);
	hide_by_community(&ss, id);
	assert_int_equal(
		tb_httpc(g_http, "GET", "/api/v1/listings?text=clinic", &ss, false, NULL, &r), 200);
	assert_null(strstr(r.body, lift));
	tb_httpc_free(&r);
	assert_int_equal(tb_httpc(g_http, "GET", "/api/v1/listings?text=clinic&hidden=1", &ss,
				  false, NULL, &r),
			 200);
	assert_non_null(strstr(r.body, "\"hidden\":true"));
	tb_httpc_free(&r);
	/* A viewer cannot see what a coordinator hid. */
	struct tb_httpc_session vs;
	assert_int_equal(tb_httpc_login(g_http, "vic", "viewer-pw-123", &vs), 200);
	tb_httpc(g_http, "GET", "/api/v1/listings?text=clinic&hidden=1", &vs, false, NULL, &r);
	tb_httpc_assert_error(&r, 403, "EDENIED");
	tb_httpc_free(&r);
	assert_int_equal(
		tb_httpc(g_http, "GET", "/api/v1/listings?text=clinic", &vs, false, NULL, &r), 200);
	assert_null(strstr(r.body, lift));
	tb_httpc_free(&r);
	assert_int_equal(held(C, lift, false), 1); /* hidden at A only */

	snprintf(path, sizeof path, "/api/v1/listings/%s/withdraw", id);
	assert_int_equal(tb_httpc(g_http, "POST", path, &ss, true, "{\"attest\":true}", &r), 200);
	assert_non_null(strstr(r.body, "\"state\":\"withdrawn\""));
	tb_httpc_free(&r);
	s.want = 0;
	tb_fed_wait(F, WAIT_MS, everywhere, &s, "the API's withdrawn listing gone everywhere");
}

int main(int argc, char **argv)
{
	tb_test_select(argc, argv);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gossip_withdraw_expire),
		cmocka_unit_test(test_cli_refusals),
		cmocka_unit_test(test_peer_refusals),
		cmocka_unit_test(test_api),
		cmocka_unit_test(test_push_skips_expired_listings),
		cmocka_unit_test(test_left_member_withdrawn),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
