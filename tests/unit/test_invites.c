/*
 * test_invites.c: the local table of members' invitations (store/invites.c):
 * an invitation is found by its token's hash until it expires, not after;
 * it is gone once deleted (used); expired ones are dropped when one is
 * added; the table holds at most TB_INVITES_MAX live ones; bad names and
 * expiries are refused; the open ones are listed by hash. A member's key
 * file kept for other devices is replaced, read and deleted; a device link
 * gives its member once, not after it expired, and at most
 * TB_DEVLINKS_PER_MEMBER wait for one member.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_err.h"

static void hash_of(uint8_t h[TB_HASHLEN], uint32_t n)
{
	memset(h, 0, TB_HASHLEN);
	h[0] = (uint8_t)(n >> 24), h[1] = (uint8_t)(n >> 16), h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
}

static void test_invites(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("invites");
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, dir, 0), 0);
	uint8_t h[TB_HASHLEN], other[TB_HASHLEN];
	hash_of(h, 1);
	hash_of(other, 2);
	struct tb_invite inv = {"erin", 2000}, got;
	assert_int_equal(tb_store_invite_put(s, h, &inv, 1000), 0);
	assert_int_equal(tb_store_invite_put(s, h, &inv, 1000), TB_EEXISTS);
	assert_int_equal(tb_store_invite_get(s, h, 1999, &got), 0);
	assert_string_equal(got.name, "erin");
	assert_int_equal(got.expires, 2000);
	/* Expired at its second, unknown, used. */
	assert_int_equal(tb_store_invite_get(s, h, 2000, &got), TB_ENOTFOUND);
	assert_int_equal(tb_store_invite_get(s, other, 1000, &got), TB_ENOTFOUND);
	assert_int_equal(tb_store_invite_del(s, h), 0);
	assert_int_equal(tb_store_invite_get(s, h, 1000, &got), TB_ENOTFOUND);
	assert_int_equal(tb_store_invite_del(s, h), TB_ENOTFOUND);
	/* Bad names and expiries. */
	struct tb_invite bad = {"", 2000};
	assert_int_equal(tb_store_invite_put(s, h, &bad, 1000), TB_EINVAL);
	bad = (struct tb_invite){"x", 1000};
	assert_int_equal(tb_store_invite_put(s, h, &bad, 1000), TB_EINVAL);
	bad.expires = 1000 + TB_INVITE_VALID_MAX + 1;
	assert_int_equal(tb_store_invite_put(s, h, &bad, 1000), TB_EINVAL);
	/* The cap: full of live ones, then room once they expire. */
	for (uint32_t i = 0; i < TB_INVITES_MAX; i++) {
		hash_of(h, 100 + i);
		assert_int_equal(tb_store_invite_put(s, h, &inv, 1000), 0);
	}
	hash_of(h, 99);
	assert_int_equal(tb_store_invite_put(s, h, &inv, 1000), TB_EFULL);
	inv.expires = 3000;
	assert_int_equal(tb_store_invite_put(s, h, &inv, 2500), 0);
	hash_of(h, 100);
	assert_int_equal(tb_store_invite_get(s, h, 1000, &got), TB_ENOTFOUND);
	/* Listed: only the live one, with its hash. */
	struct tb_invite_open open[4];
	size_t n = 9;
	assert_int_equal(tb_store_invite_list(s, 2500, open, 4, &n), 0);
	assert_int_equal(n, 1);
	hash_of(h, 99);
	assert_memory_equal(open[0].hash, h, TB_HASHLEN);
	assert_int_equal(open[0].inv.expires, 3000);
	tb_store_free(s);
	tb_test_rmrf(dir);
}

static void test_devices(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("devices");
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, dir, 0), 0);
	uint8_t file[TB_KEYFILE_LEN], got[TB_KEYFILE_LEN];
	uint64_t when = 0;
	memset(file, 7, sizeof file);
	assert_int_equal(tb_store_keyfile_get(s, 3, got, &when), TB_ENOTFOUND);
	assert_int_equal(tb_store_keyfile_put(s, 3, file, sizeof file - 1, 1000), TB_EINVAL);
	assert_int_equal(tb_store_keyfile_put(s, 0, file, sizeof file, 1000), TB_EINVAL);
	assert_int_equal(tb_store_keyfile_put(s, 3, file, sizeof file, 1000), 0);
	file[0] = 8; /* replaced */
	assert_int_equal(tb_store_keyfile_put(s, 3, file, sizeof file, 1100), 0);
	assert_int_equal(tb_store_keyfile_get(s, 3, got, &when), 0);
	assert_memory_equal(got, file, sizeof file);
	assert_int_equal(when, 1100);
	assert_int_equal(tb_store_keyfile_get(s, 4, NULL, NULL), TB_ENOTFOUND);
	/* A device link: once, and not after it expired. */
	uint8_t h[TB_HASHLEN];
	uint32_t m = 9;
	hash_of(h, 1);
	assert_int_equal(tb_store_devlink_put(s, h, 3, 1000 + TB_DEVLINK_VALID_S + 1, 1000),
			 TB_EINVAL);
	assert_int_equal(tb_store_devlink_put(s, h, 3, 1600, 1000), 0);
	assert_int_equal(tb_store_devlink_take(s, h, 1600, &m), TB_ENOTFOUND);
	assert_int_equal(m, 0);
	assert_int_equal(tb_store_devlink_take(s, h, 1599, &m), 0);
	assert_int_equal(m, 3);
	assert_int_equal(tb_store_devlink_take(s, h, 1000, &m), TB_ENOTFOUND);
	/* At most TB_DEVLINKS_PER_MEMBER live ones of a member; others' apart. */
	for (uint32_t i = 0; i < TB_DEVLINKS_PER_MEMBER; i++) {
		hash_of(h, 10 + i);
		assert_int_equal(tb_store_devlink_put(s, h, 3, 1600, 1000), 0);
	}
	hash_of(h, 20);
	assert_int_equal(tb_store_devlink_put(s, h, 3, 1600, 1000), TB_EFULL);
	assert_int_equal(tb_store_devlink_put(s, h, 4, 1600, 1000), 0);
	hash_of(h, 21); /* the member's earlier ones expired: room again */
	assert_int_equal(tb_store_devlink_put(s, h, 3, 1700, 1600), 0);
	assert_int_equal(tb_store_keyfile_del(s, 3), 0);
	assert_int_equal(tb_store_keyfile_del(s, 3), TB_ENOTFOUND);
	assert_int_equal(tb_store_keyfile_get(s, 3, got, NULL), TB_ENOTFOUND);
	tb_store_free(s);
	tb_test_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_invites),
					   cmocka_unit_test(test_devices)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
