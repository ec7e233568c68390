/*
 * test_cli_cross.c: the command line of credit across communities, with real
 * `tally` processes and no tallyd: trust lines (`link add|list`, naming a
 * community by name, id or prefix, ambiguity, self), every refusal of
 * `exchange send` that is decided at home (no link, floor, unknown member or
 * community, bad NAME@COMMUNITY), a copycat community name (held, never
 * admitted, differing in case) that does not take over the admitted one, a held prepare as
 * `exchange status`, `balance` and `link list` show it, and a whole exchange (completed, and one
 * refused by the other side) whose other legs the test makes itself by copying logs between the two
 * stores and running the clearing step, as tallyd would. The two-node protocol over the network is
 * test_cross.c's.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agree.h"
#include "runproc.h"
#include "testutil.h"

#define PASS "correct horse"

struct fixture {
	char *dir;
	char a[4200]; /* hillside: bob (debt limit 2 h), ben */
	char b[4200]; /* riverside: alice */
	char c[4200]; /* a copycat "Riverside", never admitted */
	char aid[65], bid[65], cid[65];
};

static struct tb_proc_result res;

/* Runs tally with data directory dir; args end with NULL. */
static int tally(const char *dir, const char *const *args)
{
	const char *argv[48];
	int n = 0;
	argv[n++] = tb_tally_bin();
	argv[n++] = "--data";
	argv[n++] = dir;
	for (size_t i = 0; args[i] && n < 47; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(tb_run(&res, argv), 0);
	if (res.code >= 126)
		fail_msg("tally %s died with code %d; stderr: %s", args[0], res.code, res.err);
	return res.code;
}

#define T(dir, ...) tally(dir, (const char *const[]){__VA_ARGS__, NULL})
#define OUT_HAS(s)                                                                               \
	do {                                                                                     \
		if (!strstr(res.out, (s)))                                                       \
			fail_msg("stdout lacks \"%s\":\n%s\nstderr: %s", (s), res.out, res.err); \
	} while (0)
#define ERR_HAS(s)                                                          \
	do {                                                                \
		if (!strstr(res.err, (s)))                                  \
			fail_msg("stderr lacks \"%s\":\n%s", (s), res.err); \
	} while (0)

static json_t *out_json(void)
{
	json_error_t e;
	json_t *j = json_loads(res.out, 0, &e);
	if (!j)
		fail_msg("not JSON (%s): %s", e.text, res.out);
	return j;
}

/* The array of a list object ({"logs": [...]}), with a reference of its own. */
static json_t *out_list(const char *key)
{
	json_t *j = out_json();
	json_t *a = json_incref(json_object_get(j, key));
	json_decref(j);
	if (!json_is_array(a))
		fail_msg("no array \"%s\" in %s", key, res.out);
	return a;
}

static long long jint(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer in %s", key, res.out);
	return (long long)json_integer_value(v);
}

static const char *jstr(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void node_id(const char *dir, char out[65])
{
	assert_int_equal(T(dir, "--json", "logs"), 0);
	json_t *j = out_list("logs");
	const char *id = jstr(json_array_get(j, 0), "log");
	assert_non_null(id);
	assert_int_equal(strlen(id), 64);
	memcpy(out, id, 65);
	json_decref(j);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	f->dir = tb_test_tmpdir("clicross");
	snprintf(f->a, sizeof f->a, "%s/a", f->dir);
	snprintf(f->b, sizeof f->b, "%s/b", f->dir);
	snprintf(f->c, sizeof f->c, "%s/c", f->dir);
	setenv("TALLY_PASSPHRASE", PASS, 1);
	setenv("TALLY_MEMBER_PASSPHRASE", "member secret", 1);
	assert_int_equal(T(f->a, "init", "--name", "hillside", "--debt-limit", "10"), 0);
	assert_int_equal(T(f->b, "init", "--name", "riverside"), 0);
	assert_int_equal(T(f->c, "init", "--name", "Riverside"), 0);
	assert_int_equal(T(f->a, "member", "add", "bob", "--debt-limit", "2"), 0);
	assert_int_equal(T(f->a, "member", "add", "ben"), 0);
	assert_int_equal(T(f->b, "member", "add", "alice"), 0);
	node_id(f->a, f->aid);
	node_id(f->b, f->bid);
	node_id(f->c, f->cid);
	/* hillside and riverside admit each other (the copycat is not). */
	char adm[100];
	snprintf(adm, sizeof adm, "%s=riverside", f->bid);
	assert_int_equal(T(f->a, "community", "admit", adm), 0);
	snprintf(adm, sizeof adm, "%s=hillside", f->aid);
	assert_int_equal(T(f->b, "community", "admit", adm), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tb_test_rmrf(f->dir);
	free(f);
	return 0;
}

/* ---- what tallyd would do: copy logs, run the clearing step ---- */

static struct tb_store *open_store(const char *dir)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/ledger", dir);
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, path, 0), 0);
	return s;
}

struct copy_ctx {
	struct tb_store *to;
	int err;
};

static int copy_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	struct copy_ctx *cc = vctx;
	size_t acc;
	struct tb_reject rej;
	(void)seq;
	cc->err = tb_store_append(cc->to, &rec, 1, &acc, &rej);
	if (cc->err)
		fail_msg("copying entry %llu: %s", (unsigned long long)seq, rej.msg);
	return 0;
}

/* Copies the own log of `from` into the store of `to` (what it lacks). */
static void sync_log(const char *from, const char *to)
{
	struct tb_store *s = open_store(from), *d = open_store(to);
	uint8_t id[TB_KEY_LEN];
	assert_int_equal(tb_store_self(s, id), 0);
	struct tb_head h;
	uint64_t next = 1;
	if (tb_store_head(d, id, &h) == 0)
		next = h.seq + 1;
	struct copy_ctx cc = {d, 0};
	assert_true(tb_store_foreach_entry(s, id, next, copy_one, &cc) >= 0);
	assert_int_equal(cc.err, 0);
	tb_store_free(s);
	tb_store_free(d);
}

/* Runs the clearing step of dir's own log (TB_CLEAR_DECIDE or _FINAL). */
static size_t clear(const char *dir, unsigned what)
{
	char path[4300];
	snprintf(path, sizeof path, "%s/keys/node.key", dir);
	struct tb_keypair kp;
	assert_int_equal(tb_keyfile_read(path, &kp, PASS, strlen(PASS)), 0);
	struct tb_store *s = open_store(dir);
	struct tb_clear c = {.what = what, .now = (uint64_t)time(NULL), .max = 100};
	assert_int_equal(tb_store_clear(s, &kp, &c), 0);
	tb_store_free(s);
	tb_keypair_wipe(&kp);
	return c.decided + c.finished;
}

static long head_seq(const char *dir)
{
	assert_int_equal(T(dir, "--json", "logs"), 0);
	json_t *j = out_list("logs");
	long seq = (long)jint(json_array_get(j, 0), "seq");
	json_decref(j);
	return seq;
}

/* The txid of a --json send or status. */
static void txid_of(char out[33])
{
	json_t *j = out_json();
	const char *t = jstr(j, "txid");
	assert_non_null(t);
	assert_int_equal(strlen(t), 32);
	memcpy(out, t, 33);
	json_decref(j);
}

static void expect_state(const char *dir, const char *txid, const char *state)
{
	assert_int_equal(T(dir, "--json", "exchange", "status", txid), 0);
	json_t *j = out_json();
	const char *s = jstr(j, "state");
	if (!s || strcmp(s, state))
		fail_msg("status of %s: expected %s: %s", txid, state, res.out);
	json_decref(j);
}

/* ---- tests ---- */

static void test_link(void **state)
{
	struct fixture *f = *state;
	/* A community not admitted here is unknown by name. */
	assert_int_equal(T(f->a, "link", "add", "lakeside", "--limit", "20"), 2);
	ERR_HAS("is admitted here");
	/* A prefix of a log not held is unknown too; the full id works. */
	char prefix[9];
	memcpy(prefix, f->bid, 8);
	prefix[8] = '\0';
	assert_int_equal(T(f->a, "link", "add", prefix, "--limit", "20"), 2);
	assert_int_equal(T(f->a, "link", "add", f->bid, "--limit", "20"), 0);
	OUT_HAS("may owe us up to 20:00 hours");
	/* Now linked, its id prefix names it; a re-link changes the limit. */
	assert_int_equal(T(f->a, "link", "add", prefix, "--limit-minutes", "90"), 0);
	OUT_HAS("1:30");

	/* Bad input. */
	assert_int_equal(T(f->a, "link", "add", f->bid), 2);
	assert_int_equal(T(f->a, "link", "add", f->bid, "--limit", "x"), 2);
	assert_int_equal(T(f->a, "link", "add", f->bid, "--limit", "1.01"), 2);
	assert_int_equal(T(f->a, "link", "add", f->bid, "--limit", "1", "--limit-minutes", "2"), 2);
	assert_int_equal(T(f->a, "link", "add", "--limit", "1"), 2);
	assert_int_equal(T(f->a, "link", "add", f->bid, "extra", "--limit", "1"), 2);
	assert_int_equal(T(f->a, "link", "add", "1234567", "--limit", "1"), 2);
	assert_int_equal(T(f->a, "link", "add", f->bid, "--limit", "2000000"), 2);
	/* Ourselves, by name and by id: refused, nothing appended. */
	long before = head_seq(f->a);
	assert_int_equal(T(f->a, "link", "add", "hillside", "--limit", "1"), 1);
	ERR_HAS("ELINK");
	assert_int_equal(T(f->a, "link", "add", f->aid, "--limit", "1"), 1);
	assert_int_equal(head_seq(f->a), before);

	/* Once riverside's log is held, its name works and the list shows it. */
	sync_log(f->b, f->a);
	assert_int_equal(T(f->a, "link", "add", "riverside", "--limit", "3"), 0);
	OUT_HAS("linked riverside (");
	assert_int_equal(T(f->a, "link", "add", "RIVERSIDE", "--limit", "3"), 0);
	assert_int_equal(T(f->a, "--json", "link", "list"), 0);
	json_t *j = out_list("links");
	assert_int_equal(json_array_size(j), 1);
	json_t *e = json_array_get(j, 0);
	assert_string_equal(jstr(e, "community_name"), "riverside");
	assert_string_equal(jstr(e, "community"), f->bid);
	assert_true(json_is_true(json_object_get(e, "linked")));
	assert_int_equal(jint(e, "limit_minutes"), 180);
	assert_true(json_is_null(json_object_get(e, "their_limit_minutes")));
	assert_int_equal(jint(e, "balance_minutes"), 0);
	assert_int_equal(jint(e, "held_minutes"), 0);
	assert_int_equal(jint(e, "exchanges"), 0);
	json_decref(j);

	/* Riverside links back; once its log is held again, both limits show. */
	sync_log(f->a, f->b);
	assert_int_equal(T(f->b, "link", "add", "hillside", "--limit", "5"), 0);
	sync_log(f->b, f->a);
	assert_int_equal(T(f->a, "--json", "link", "list"), 0);
	j = out_list("links");
	e = json_array_get(j, 0);
	assert_int_equal(jint(e, "their_limit_minutes"), 300);
	assert_int_equal(jint(e, "mirror_minutes"), 0);
	json_decref(j);
	assert_int_equal(T(f->a, "link", "list"), 0);
	OUT_HAS("riverside");
	OUT_HAS("3:00");
	OUT_HAS("5:00");

	/* A copycat's log held here names nothing, and its name cannot be
	 * admitted; by full id it can still be linked. */
	sync_log(f->c, f->a);
	assert_int_equal(T(f->a, "link", "add", "riverside", "--limit", "3"), 0);
	assert_int_equal(T(f->a, "link", "add", f->cid, "--limit", "1"), 0);
	assert_int_equal(T(f->a, "--json", "link", "list"), 0);
	j = out_list("links");
	assert_int_equal(json_array_size(j), 2);
	json_decref(j);
	assert_int_equal(T(f->a, "verify"), 0);
}

/* Issue 11, finding 10: a copycat community named like an admitted one,
 * differing in case, whose log is held here, does not take over the name. */
static void test_copycat_name(void **state)
{
	struct fixture *f = *state;
	sync_log(f->c, f->a);
	sync_log(f->b, f->a);
	char s[12];
	memcpy(s, f->bid, 8);
	memcpy(s + 8, "...", 4);
	/* "Riverside" is the copycat's exact genesis name: it still means the
	 * admitted riverside. */
	assert_int_equal(T(f->a, "link", "add", "Riverside", "--limit", "3"), 0);
	OUT_HAS(s);
	assert_int_equal(T(f->a, "--json", "link", "list"), 0);
	json_t *j = out_list("links");
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(jstr(json_array_get(j, 0), "community"), f->bid);
	json_decref(j);
	/* The copycat cannot be admitted under the name, in any case. */
	long before = head_seq(f->a);
	static const char *const names[] = {"Riverside", "RIVERSIDE", "riverside"};
	for (size_t i = 0; i < 3; i++) {
		char adm[100];
		snprintf(adm, sizeof adm, "%s=%s", f->cid, names[i]);
		assert_int_equal(T(f->a, "community", "admit", adm), 1);
		ERR_HAS("EADMIT");
	}
	assert_int_equal(head_seq(f->a), before);
	/* Nor under another name than its log's. */
	assert_int_equal(T(f->a, "community", "admit", f->cid, "--name", "Lakeside"), 1);
	ERR_HAS("EADMIT");
	/* community list shows riverside admitted, the copycat nowhere. */
	assert_int_equal(T(f->a, "--json", "community", "list"), 0);
	j = out_list("communities");
	assert_int_equal(json_array_size(j), 1);
	assert_string_equal(jstr(json_array_get(j, 0), "community"), f->bid);
	assert_string_equal(jstr(json_array_get(j, 0), "community_name"), "riverside");
	assert_string_equal(jstr(json_array_get(j, 0), "status"), "admitted");
	json_decref(j);
	assert_int_equal(T(f->a, "verify"), 0);
}

static void test_send_refused_at_home(void **state)
{
	struct fixture *f = *state;
	sync_log(f->b, f->a);
	long before = head_seq(f->a);
	/* No trust line with riverside yet. */
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--attest"),
			 1);
	ERR_HAS("no trust line with riverside");
	ERR_HAS("(ELINK)");
	assert_int_equal(T(f->a, "link", "add", "riverside", "--limit", "10"), 0);
	before = head_seq(f->a);
	/* Riverside has no trust line with us: it would never answer. */
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--attest"),
			 1);
	ERR_HAS("riverside has no trust line with this community");
	ERR_HAS("(ELINK)");
	assert_int_equal(head_seq(f->a), before);
	sync_log(f->a, f->b);
	assert_int_equal(T(f->b, "link", "add", "hillside", "--limit", "10"), 0);
	sync_log(f->b, f->a);
	before = head_seq(f->a);
	/* Unknown community, ourselves, bad NAME@COMMUNITY. */
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@lakeside",
			   "--hours", "1", "--memo", "x", "--attest"),
			 2);
	ERR_HAS("lakeside");
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "ben@hillside",
			   "--hours", "1", "--memo", "x", "--attest"),
			 1);
	static const char *const bad_to[] = {"alice", "@riverside", "alice@", ""};
	for (size_t i = 0; i < sizeof bad_to / sizeof *bad_to; i++) {
		assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", bad_to[i],
				   "--hours", "1", "--memo", "x", "--attest"),
				 2);
		ERR_HAS("NAME@COMMUNITY");
	}
	/* Unknown or missing payer, amounts, options. */
	assert_int_equal(T(f->a, "exchange", "send", "--from", "nobody", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--attest"),
			 1);
	ERR_HAS("EMEMBER");
	assert_int_equal(T(f->a, "exchange", "send", "--to", "alice@riverside", "--hours", "1",
			   "--memo", "x"),
			 2);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--minutes", "0", "--memo", "x", "--attest"),
			 1);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--minutes", "5", "--memo", "x", "--attest"),
			 2);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--timeout", "soon"),
			 2);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--ttl", "0"),
			 2);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--date", "2026-13-01"),
			 2);
	/* Bob's debt limit is 2 hours. */
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "2.5", "--memo", "x", "--attest"),
			 1);
	ERR_HAS("EFLOOR");
	assert_int_equal(head_seq(f->a), before);
	/* Not a txid / unknown txid. */
	assert_int_equal(T(f->a, "exchange", "status", "abc"), 2);
	assert_int_equal(T(f->a, "exchange", "status", "00112233445566778899aabbccddeeff"), 2);
	ERR_HAS("no cross-community exchange with txid");
}

/* Riverside trusts hillside, and hillside holds riverside's log saying so. */
static void link_back(struct fixture *f, const char *limit)
{
	sync_log(f->a, f->b);
	assert_int_equal(T(f->b, "link", "add", "hillside", "--limit", limit), 0);
	sync_log(f->b, f->a);
}

static void test_send_held(void **state)
{
	struct fixture *f = *state;
	link_back(f, "10");
	assert_int_equal(T(f->a, "link", "add", "riverside", "--limit", "10"), 0);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1.5", "--memo", "tutoring", "--attest", "--no-wait"),
			 0);
	OUT_HAS("prepared ");
	OUT_HAS("holding 1:30 hours on bob for alice@riverside");
	char txid[33];
	memcpy(txid, res.out + strlen("prepared "), 32);
	txid[32] = '\0';

	/* Status: held, with both parties. */
	assert_int_equal(T(f->a, "exchange", "status", txid), 0);
	OUT_HAS("held");
	OUT_HAS("bob@hillside");
	OUT_HAS("alice@riverside");
	assert_int_equal(T(f->a, "--json", "exchange", "status", txid), 0);
	json_t *j = out_json();
	assert_string_equal(jstr(j, "state"), "held");
	assert_string_equal(jstr(j, "payer"), "bob@hillside");
	assert_string_equal(jstr(j, "payee"), "alice@riverside");
	assert_string_equal(jstr(j, "payee_community"), f->bid);
	assert_int_equal(jint(j, "minutes"), 90);
	assert_true(jint(j, "prepare_seq") > 0);
	assert_true(json_is_null(json_object_get(j, "decide_seq")));
	assert_true(json_is_null(json_object_get(j, "final_seq")));
	assert_true(json_is_null(json_object_get(j, "refusal")));
	json_decref(j);

	/* Balance: the hold on bob and on the clearing account; sums stay 0. */
	assert_int_equal(T(f->a, "balance"), 0);
	OUT_HAS("held");
	OUT_HAS("1:30");
	OUT_HAS("riverside");
	OUT_HAS("sum of all accounts: 0:00");
	assert_int_equal(T(f->a, "--json", "balance"), 0);
	j = out_json();
	assert_int_equal(jint(j, "sum_minutes"), 0);
	/* The community account first, then bob. */
	json_t *m = json_array_get(json_object_get(j, "members"), 0);
	assert_string_equal(jstr(m, "name"), "community");
	m = json_array_get(json_object_get(j, "members"), 1);
	assert_string_equal(jstr(m, "name"), "bob");
	assert_int_equal(jint(m, "held_minutes"), 90);
	assert_int_equal(jint(m, "balance_minutes"), 0);
	json_t *c = json_array_get(json_object_get(j, "clearing"), 0);
	assert_string_equal(jstr(c, "community_name"), "riverside");
	assert_string_equal(jstr(c, "community"), f->bid);
	assert_int_equal(jint(c, "held_minutes"), 90);
	assert_int_equal(jint(c, "limit_minutes"), 600);
	json_decref(j);
	assert_int_equal(T(f->a, "--json", "link", "list"), 0);
	OUT_HAS("\"held_minutes\":90");

	/* The hold counts against bob's floor: 1:30 held, 1:00 more is too much. */
	assert_int_equal(T(f->a, "exchange", "send", "--from", "bob", "--to", "alice@riverside",
			   "--hours", "1", "--memo", "x", "--attest"),
			 1);
	ERR_HAS("EFLOOR");
	/* With no tallyd, a wait ends pending (exit 4), the prepare stays. */
	assert_int_equal(T(f->a, "--json", "exchange", "send", "--from", "ben", "--to",
			   "alice@riverside", "--minutes", "20", "--memo", "x", "--attest",
			   "--timeout", "0"),
			 4);
	j = out_json();
	assert_string_equal(jstr(j, "state"), "pending");
	json_decref(j);
	assert_int_equal(T(f->a, "exchange", "send", "--from", "ben", "--to", "alice@riverside",
			   "--minutes", "20", "--memo", "x", "--attest", "--timeout", "0"),
			 4);
	OUT_HAS("pending ");
	OUT_HAS("exchange status");
	/* tally log prints the new kinds. */
	assert_int_equal(T(f->a, "log"), 0);
	OUT_HAS("link");
	OUT_HAS("xprepare");
	assert_int_equal(T(f->a, "verify"), 0);
}

/* A whole exchange, member-signed, with the other legs made as tallyd would. */
static void test_completed_and_refused(void **state)
{
	struct fixture *f = *state;
	sync_log(f->b, f->a);
	sync_log(f->a, f->b);
	assert_int_equal(T(f->a, "link", "add", "riverside", "--limit", "10"), 0);
	link_back(f, "1");
	assert_int_equal(T(f->a, "--json", "exchange", "send", "--from", "bob", "--to",
			   "alice@riverside", "--minutes", "45", "--memo", "tutoring", "--no-wait"),
			 0);
	char tx[33];
	txid_of(tx);
	sync_log(f->a, f->b);
	assert_int_equal(clear(f->b, TB_CLEAR_DECIDE), 1);
	expect_state(f->b, tx, "committed");
	sync_log(f->b, f->a);
	expect_state(f->a, tx, "committed");
	assert_int_equal(clear(f->a, TB_CLEAR_FINAL), 1);
	expect_state(f->a, tx, "completed");
	sync_log(f->a, f->b);
	expect_state(f->b, tx, "completed");
	assert_int_equal(T(f->a, "exchange", "status", tx), 0);
	OUT_HAS("completed");

	/* Statements name the remote member. */
	assert_int_equal(T(f->a, "history", "bob"), 0);
	OUT_HAS("paid alice@riverside");
	OUT_HAS("tutoring");
	assert_int_equal(T(f->b, "history", "alice"), 0);
	OUT_HAS("from bob@hillside");
	assert_int_equal(T(f->b, "--json", "history", "alice"), 0);
	OUT_HAS("\"counterparty\":\"bob@hillside\"");
	OUT_HAS("\"kind\":\"cross\"");
	assert_int_equal(T(f->a, "history"), 0);
	OUT_HAS("alice@riverside");

	/* Balances and clearing accounts mirror and sum to zero. */
	assert_int_equal(T(f->a, "--json", "link", "list"), 0);
	json_t *j = out_list("links");
	json_t *e = json_array_get(j, 0);
	assert_int_equal(jint(e, "balance_minutes"), 45);
	assert_int_equal(jint(e, "mirror_minutes"), -45);
	assert_int_equal(jint(e, "their_limit_minutes"), 60);
	assert_int_equal(jint(e, "exchanges"), 1);
	json_decref(j);
	assert_int_equal(T(f->b, "--json", "balance"), 0);
	OUT_HAS("\"sum_minutes\":0");
	OUT_HAS("\"balance_minutes\":45");
	OUT_HAS("\"balance_minutes\":-45");
	assert_int_equal(T(f->a, "balance"), 0);
	OUT_HAS("sum of all accounts: 0:00");

	/* Riverside trusts hillside for 1 hour, 45 minutes are used: 30 more
	 * is refused there, and the hold on bob is released here. */
	assert_int_equal(T(f->a, "--json", "exchange", "send", "--from", "bob", "--to",
			   "alice@riverside", "--minutes", "30", "--memo", "more", "--attest",
			   "--no-wait"),
			 0);
	txid_of(tx);
	sync_log(f->a, f->b);
	assert_int_equal(clear(f->b, TB_CLEAR_DECIDE), 1);
	assert_int_equal(T(f->b, "--json", "exchange", "status", tx), 0);
	j = out_json();
	assert_string_equal(jstr(j, "state"), "refused");
	json_t *why = json_object_get(j, "refusal");
	assert_string_equal(jstr(why, "message"), "trust limit reached");
	assert_string_equal(jstr(why, "code"), "ETRUST");
	json_decref(j);
	sync_log(f->b, f->a);
	assert_int_equal(clear(f->a, TB_CLEAR_FINAL), 1);
	expect_state(f->a, tx, "released");
	assert_int_equal(T(f->a, "exchange", "status", tx), 0);
	OUT_HAS("trust limit reached (ETRUST)");
	assert_int_equal(T(f->a, "--json", "balance", "bob"), 0);
	OUT_HAS("\"balance_minutes\":-45");
	OUT_HAS("\"held_minutes\":0");
	assert_int_equal(T(f->a, "verify"), 0);
	assert_int_equal(T(f->b, "verify"), 0);
	assert_true(tb_test_verify_agrees(f->a));
	assert_true(tb_test_verify_agrees(f->b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copycat_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_refused_at_home, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_held, setup, teardown),
		cmocka_unit_test_setup_teardown(test_completed_and_refused, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
