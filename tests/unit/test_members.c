/*
 * test_members.c: members over time in a real store: renames, limit changes
 * and reinstatement (member_update), keyless members, the community account
 * (member 0) and opening balances, with every refusal leaving the store as
 * it was; finding members the way users name them ("#7", any case, the
 * latest who left); the names table of test_text through the ledger rule
 * (each lookalike of an active member refused, honest names accepted); and
 * a reindex and a verify of the data directory agreeing with what the rules
 * built.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_err.h"

#define LOGKEY 31

struct fx {
	char *dir;
	struct tb_store *s;
	struct tb_test_log log;
	struct tb_keypair mk[64];
	uint64_t txno;
};

static const uint8_t *id_of(struct fx *f)
{
	return f->log.kp.pk.b;
}

static int put(struct fx *f, uint64_t kind, const void *body, struct tb_reject *rej)
{
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal_next(&f->log, rec, kind, body), acc = 0;
	struct tb_view v = {rec, len};
	int err = tb_store_append(f->s, &v, 1, &acc, rej);

	if (!err)
		tb_test_log_advance(&f->log, rec, len);
	return err;
}

static void must(struct fx *f, uint64_t kind, const void *body)
{
	struct tb_reject rej;
	int err = put(f, kind, body, &rej);

	if (err)
		fail_msg("refused: %s: %s", tb_errname(err), rej.msg);
}

/* The entry is refused with code, the message says part, nothing changed. */
static void refuse(struct fx *f, uint64_t kind, const void *body, int code, const char *part)
{
	char *before = tb_test_store_dump(f->s), *after;
	struct tb_reject rej;
	int err = put(f, kind, body, &rej);

	if (err != code)
		fail_msg("expected %s, got %s (%s)", tb_errname(code), tb_errname(err), rej.msg);
	if (part && !strstr(rej.msg, part))
		fail_msg("refusal '%s' does not say '%s'", rej.msg, part);
	after = tb_test_store_dump(f->s);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

static void join(struct fx *f, uint32_t no, const char *name, bool keyless)
{
	struct tb_member_join j;

	tb_test_join(&j, no, name, &f->mk[no % 64], -600, 0);
	if (keyless)
		memset(j.key, 0, TB_KEY_LEN);
	must(f, TB_KIND_MEMBER_JOIN, &j);
}

static struct tb_view sv(const char *s)
{
	return (struct tb_view){(const uint8_t *)s, strlen(s)};
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct tb_genesis g;

	assert_non_null(f);
	f->dir = tb_test_tmpdir("members");
	assert_int_equal(tb_store_open(&f->s, f->dir, 0), 0);
	tb_test_log_init(&f->log, LOGKEY);
	assert_int_equal(tb_store_set_self(f->s, id_of(f)), 0);
	for (uint32_t i = 0; i < 64; i++)
		tb_test_keypair(&f->mk[i], 3100 + i);
	tb_test_genesis(&g, "Riverside", -600, 0);
	must(f, TB_KIND_GENESIS, &g);
	join(f, 1, "alice", false);
	join(f, 2, "bob", false);
	f->txno = 5000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	tb_store_free(f->s);
	tb_test_rmrf(f->dir);
	free(f);
	return 0;
}

static int64_t bal(struct fx *f, uint32_t no)
{
	struct tb_member m;

	assert_int_equal(tb_store_member(f->s, id_of(f), no, &m), 0);
	return m.balance;
}

static void test_update_and_find(void **state)
{
	struct fx *f = *state;
	struct tb_member m;
	struct tb_member_update u = {1, sv("Alice Smith"), -1200, 3000, 0};
	struct tb_member_left l = {2};

	must(f, TB_KIND_MEMBER_UPDATE, &u);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "alice smith", &m), 0);
	assert_int_equal(m.no, 1);
	assert_int_equal(m.floor, -1200);
	assert_int_equal(m.ceiling, 3000);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "alice", &m), TB_ENOTFOUND);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "#1", &m), 0);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "#9", &m), TB_ENOTFOUND);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "#x", &m), TB_ENOTFOUND);
	/* The old name is free again; a confusable does not find anyone. */
	join(f, 3, "alice", false);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "\xd0\xb0lice", &m), TB_ENOTFOUND);

	/* bob leaves: still found by name (the latest who left), and #2. */
	must(f, TB_KIND_MEMBER_LEFT, &l);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "BOB", &m), 0);
	assert_int_equal(m.no, 2);
	assert_false(m.active);
	/* Updating a member who left needs reinstate; reinstating an active
	 * member is refused; reinstating bob works and takes his name back. */
	u = (struct tb_member_update){2, sv("bob"), -600, 0, 0};
	refuse(f, TB_KIND_MEMBER_UPDATE, &u, TB_ELEFT, "reinstate");
	u = (struct tb_member_update){1, sv("Alice Smith"), -600, 0, 1};
	refuse(f, TB_KIND_MEMBER_UPDATE, &u, TB_EEXISTS, "nothing to reinstate");
	u = (struct tb_member_update){9, sv("zed"), -600, 0, 0};
	refuse(f, TB_KIND_MEMBER_UPDATE, &u, TB_EMEMBER, NULL);
	join(f, 4, "Bobby", false);
	u = (struct tb_member_update){2, sv("bob"), -600, 0, 1};
	must(f, TB_KIND_MEMBER_UPDATE, &u);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "bob", &m), 0);
	assert_true(m.active);
	u = (struct tb_member_update){4, sv("B0B"), -600, 0, 0};
	refuse(f, TB_KIND_MEMBER_UPDATE, &u, TB_ENAME, "too like");
	u = (struct tb_member_update){3, sv("Community"), -600, 0, 0};
	refuse(f, TB_KIND_MEMBER_UPDATE, &u, TB_ENAME, "reserved");
}

static void test_keyless_account_opening(void **state)
{
	struct fx *f = *state;
	struct tb_test_exchange tx;
	struct tb_opening o = {{0}, 3, -300, 20200101};
	struct tb_member m;
	struct tb_member_key k = {3, {0}};

	join(f, 3, "Edna", true);
	join(f, 4, "Frank", true); /* two keyless members: no key conflict */
	/* A keyless member's exchanges are attested. */
	tb_test_exchange(&tx, id_of(f), ++f->txno, 3, 1, 30, &f->mk[2], &f->mk[1]);
	refuse(f, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, "has no key");
	tb_test_exchange(&tx, id_of(f), ++f->txno, 3, 1, 30, NULL, NULL);
	must(f, TB_KIND_EXCHANGE, &tx.x);
	refuse(f, TB_KIND_MEMBER_KEY, &k, TB_EINVAL, "no key");

	/* Opening balances move minutes from the community account, once. */
	tb_test_txid(o.txid, 9001);
	must(f, TB_KIND_OPENING, &o);
	assert_int_equal(bal(f, 3), 30 - 300);
	assert_int_equal(bal(f, 0), 300);
	refuse(f, TB_KIND_OPENING, &o, TB_EDUPTX, NULL);
	tb_test_txid(o.txid, 9002);
	o.minutes = 0;
	refuse(f, TB_KIND_OPENING, &o, TB_EAMOUNT, NULL);
	o.minutes = 10;
	o.date = 20250221;
	refuse(f, TB_KIND_OPENING, &o, TB_EDATE, "after");

	/* The community account: attested only, no limits of its own. */
	tb_test_exchange(&tx, id_of(f), ++f->txno, 0, 1, 60, NULL, NULL);
	must(f, TB_KIND_EXCHANGE, &tx.x);
	for (int i = 0; i < 20; i++) {
		tb_test_exchange(&tx, id_of(f), ++f->txno, 2, 0, 600, NULL, NULL);
		must(f, TB_KIND_EXCHANGE, &tx.x);
	}
	assert_int_equal(bal(f, 0), 300 + 60 - 20 * 600);
	tb_test_exchange(&tx, id_of(f), ++f->txno, 2, 0, 60, &f->mk[2], &f->mk[1]);
	refuse(f, TB_KIND_EXCHANGE, &tx.x, TB_ECONSENT, "community account");
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "community", &m), 0);
	assert_int_equal(m.no, 0);
	assert_int_equal(tb_store_member_find(f->s, id_of(f), "#0", &m), 0);
	assert_int_equal(m.balance, bal(f, 0));
}

static void test_dates(void **state)
{
	struct fx *f = *state;
	struct tb_test_exchange tx;

	/* The test log signs at 1740000000 (2025-02-19 UTC): the next day is
	 * the latest date; long past dates are the ledger's business only as
	 * real dates. */
	tb_test_exchange(&tx, id_of(f), ++f->txno, 1, 2, 30, NULL, NULL);
	tx.x.date = 20250221;
	refuse(f, TB_KIND_EXCHANGE, &tx.x, TB_EDATE, "20250220");
	tx.x.date = 20300101;
	refuse(f, TB_KIND_EXCHANGE, &tx.x, TB_EDATE, NULL);
	tx.x.date = 20250220;
	must(f, TB_KIND_EXCHANGE, &tx.x);
	tb_test_exchange(&tx, id_of(f), ++f->txno, 1, 2, 30, NULL, NULL);
	tx.x.date = 19700101;
	must(f, TB_KIND_EXCHANGE, &tx.x);
}

/* The names of test_text, through the ledger. */
static const char *const lookalike_of_active[][2] = {
	{"José", "Jose\xcc\x81"},  {"alice", "ALICE"},
	{"alice", "\xd0\xb0lice"}, {"Olga", "0lga"},
	{"Ivan", "lvan"},	   {"Emma", "\xef\xbc\xa5mma"},
	{"Straße", "STRASSE"},	   {"Kim", "\xe2\x84\xaaim"},
	{"Marie", "rnarie"},	   {"Tom", "\xd0\xa2\xd0\xbem"},
};

static void test_names_table(void **state)
{
	struct fx *f = *state;
	uint32_t no = 3;
	char *before;

	(void)before;
	for (size_t i = 0; i < sizeof lookalike_of_active / sizeof lookalike_of_active[0]; i++) {
		struct tb_member_join j;
		const char *a = lookalike_of_active[i][0], *b = lookalike_of_active[i][1];

		if (strcmp(a, "alice") != 0) /* alice joined in setup */
			join(f, no++, a, false);
		tb_test_join(&j, no, b, &f->mk[no % 64], -600, 0);
		refuse(f, TB_KIND_MEMBER_JOIN, &j, TB_ENAME, NULL);
	}
	static const char *const bad[] = {" x", "x ", "a\xe2\x80\x8b\x62", "a  b", "a\xc2\xa0\x62"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tb_member_join j;

		tb_test_join(&j, no, bad[i], &f->mk[no % 64], -600, 0);
		refuse(f, TB_KIND_MEMBER_JOIN, &j, TB_ENAME, NULL);
	}
	static const char *const honest[] = {"Josée", "Jan Wu",	  "Jan Wü", "Мария",
					     "陈静",  "Anna Lee", "Ana Lee"};
	for (size_t i = 0; i < sizeof honest / sizeof honest[0]; i++)
		join(f, no++, honest[i], false);
}

static void test_reindex_and_verify(void **state)
{
	struct fx *f = *state;
	struct tb_member_update u = {2, sv("Robert"), -900, 0, 0};
	struct tb_opening o = {{0}, 1, 120, 20240101};
	struct tb_test_exchange tx;
	struct tb_reject rej;
	struct tb_verify_report rep;
	char *a, *b;

	must(f, TB_KIND_MEMBER_UPDATE, &u);
	tb_test_txid(o.txid, 9100);
	must(f, TB_KIND_OPENING, &o);
	tb_test_exchange(&tx, id_of(f), ++f->txno, 0, 2, 45, NULL, NULL);
	must(f, TB_KIND_EXCHANGE, &tx.x);
	a = tb_test_store_dump(f->s);
	assert_int_equal(tb_store_reindex(f->s, &rej), 0);
	b = tb_test_store_dump(f->s);
	assert_string_equal(a, b);
	free(a);
	free(b);
	tb_store_free(f->s);
	f->s = NULL;
	char *tmp = tb_test_tmpdir("members-verify");
	assert_int_equal(tb_verify_dir(f->dir, tmp, &rep), 0);
	tb_test_rmrf(tmp);
	assert_int_equal(rep.err, 0);
	assert_int_equal(tb_store_open(&f->s, f->dir, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_update_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyless_account_opening, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reindex_and_verify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
