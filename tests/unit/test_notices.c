/*
 * test_notices.c: members' notice settings (store/notices.c) and the email
 * address check (node/notices.c): settings read as none until kept, kept
 * and read back, listed for digests only when a digest and an address are
 * set, refused when out of range; addresses a header could be smuggled in
 * with (line breaks, a second address, a display name, quotes, spaces) are
 * refused with a sentence, plain ones taken.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_err.h"
#include "tb_notices.h"

static int count_cb(void *ctx, uint32_t member, const struct tb_notice_prefs *p)
{
	(void)p;
	uint32_t *seen = ctx;
	seen[0]++;
	seen[1] = member;
	return 0;
}

static void test_prefs(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("notices");
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, dir, 0), 0);
	struct tb_notice_prefs p, got;
	assert_int_equal(tb_store_notice_prefs(s, 7, &got), 0);
	assert_int_equal(got.digest, TB_DIGEST_NONE);
	assert_int_equal(got.seen, 0);
	assert_string_equal(got.email, "");
	memset(&p, 0, sizeof p);
	p.digest = TB_DIGEST_WEEKLY;
	p.seen = 1700000000;
	p.sent = 1700000123;
	snprintf(p.email, sizeof p.email, "dora@example.org");
	assert_int_equal(tb_store_notice_prefs_put(s, 7, &p), 0);
	assert_int_equal(tb_store_notice_prefs(s, 7, &got), 0);
	assert_int_equal(got.digest, TB_DIGEST_WEEKLY);
	assert_int_equal(got.seen, 1700000000);
	assert_int_equal(got.sent, 1700000123);
	assert_string_equal(got.email, "dora@example.org");
	/* Only members with a digest and an address are listed. */
	struct tb_notice_prefs off = {.seen = 5};
	assert_int_equal(tb_store_notice_prefs_put(s, 8, &off), 0);
	uint32_t seen[2] = {0, 0};
	assert_int_equal(tb_store_foreach_digest(s, count_cb, seen), 0);
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1], 7);
	/* Out of range. */
	p.digest = 3;
	assert_int_equal(tb_store_notice_prefs_put(s, 7, &p), TB_EINVAL);
	p.digest = TB_DIGEST_DAILY;
	assert_int_equal(tb_store_notice_prefs_put(s, 0, &p), TB_EINVAL);
	tb_store_free(s);
	tb_test_rmrf(dir);
}

static void test_email(void **state)
{
	(void)state;
	char why[160];
	const char *good[] = {"bob@example.org", "a.b+tag@mail.example.co.uk", "o'neil@example.org",
			      "x_y-z@sub-domain.example"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (tb_email_check(good[i], why, sizeof why))
			fail_msg("%s refused: %s", good[i], why);
	const char *bad[] = {
		"bob@example.org\r\nBcc: eve@example.org",
		"bob@example.org\nBcc: eve@example.org",
		"bob@example.org, eve@example.org",
		"Bob <bob@example.org>",
		"\"bob\"@example.org",
		"bob @example.org",
		"bob@example.org>",
		"bob@localhost",
		"bob@@example.org",
		"@example.org",
		"bob@",
		"bob",
		".bob@example.org",
		"bob.@example.org",
		"bo..b@example.org",
		"bob@example..org",
		"bob@example.org.",
		"bób@example.org",
		"bob@exa_mple.org",
		"",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why[0] = '\0';
		if (!tb_email_check(bad[i], why, sizeof why))
			fail_msg("'%s' taken", bad[i]);
		assert_non_null(strstr(why, "the email address"));
	}
	char long_addr[300];
	memset(long_addr, 'a', 250);
	snprintf(long_addr + 250, sizeof long_addr - 250, "@example.org");
	assert_int_equal(tb_email_check(long_addr, why, sizeof why), TB_EINVAL);
	assert_non_null(strstr(why, "254"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefs),
		cmocka_unit_test(test_email),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
