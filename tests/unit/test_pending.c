/*
 * test_pending.c: the bounds of the local table of pending proposals
 * (store/local.c, FORMAT.md 6.3): a proposal is kept with its memo in one
 * transaction; one provider has at most TB_PENDING_PER_PROVIDER live ones
 * (EFULL past it, while others still may propose); a proposal expires
 * TB_PENDING_AGE_S after it was made, and expired ones (with their memos)
 * are dropped when a proposal is added, which makes room again; a txid
 * already pending is refused (EEXISTS) and nothing of it is kept.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_err.h"

#define NOW 2000000000ull

static void txid_of(uint8_t t[TB_TXID_LEN], uint32_t n)
{
	memset(t, 0, TB_TXID_LEN);
	t[0] = (uint8_t)(n >> 24), t[1] = (uint8_t)(n >> 16), t[2] = (uint8_t)(n >> 8);
	t[3] = (uint8_t)n;
}

/* A proposal txid_of(n) by provider, made at created, with a memo. */
static int add(struct tb_store *s, uint32_t n, uint64_t provider, uint64_t created, uint64_t now)
{
	static const uint8_t sig[TB_SIGLEN], salt[TB_MEMO_SALT_LEN];
	struct tb_proposal p = {0};
	txid_of(p.txid, n);
	p.provider = provider;
	p.receiver = provider + 1;
	p.minutes = 30;
	p.date = 20261202;
	p.created = created;
	p.provider_sig = (struct tb_view){sig, TB_SIGLEN};
	struct tb_memo m = {p.txid, salt, "weeding", 7};
	return tb_store_pending_add(s, &p, &m, now);
}

static bool kept(struct tb_store *s, uint32_t n)
{
	uint8_t t[TB_TXID_LEN], buf[TB_ENTRY_MAX];
	size_t len;
	char memo[16];
	txid_of(t, n);
	int err = tb_store_pending_get(s, t, buf, sizeof buf, &len);
	int merr = tb_store_memo_get(s, t, memo, sizeof memo);
	assert_int_equal(err, merr); /* a proposal and its memo go together */
	return !err;
}

static void test_pending_bounds(void **state)
{
	(void)state;
	char *dir = tb_test_tmpdir("pending");
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, dir, 0), 0);
	/* Two old ones of provider 1 (one expires at NOW exactly). */
	assert_int_equal(add(s, 1, 1, NOW - TB_PENDING_AGE_S, NOW - TB_PENDING_AGE_S), 0);
	assert_int_equal(add(s, 2, 1, NOW - TB_PENDING_AGE_S + 1, NOW - TB_PENDING_AGE_S + 1), 0);
	assert_int_equal(add(s, 2, 1, NOW, NOW), TB_EEXISTS);
	/* Provider 1 fills their share: the expired one went with the first
	 * add, the other still counts. */
	for (uint32_t i = 0; i < TB_PENDING_PER_PROVIDER - 1; i++)
		assert_int_equal(add(s, 100 + i, 1, NOW, NOW), 0);
	assert_false(kept(s, 1));
	assert_true(kept(s, 2));
	assert_int_equal(add(s, 99, 1, NOW, NOW), TB_EFULL);
	assert_false(kept(s, 99));
	/* Others still propose. */
	assert_int_equal(add(s, 500, 2, NOW, NOW), 0);
	/* A second later proposal 2 has expired: room for one more. */
	assert_int_equal(add(s, 99, 1, NOW + 1, NOW + 1), 0);
	assert_false(kept(s, 2));
	assert_true(kept(s, 99));
	assert_int_equal(add(s, 98, 1, NOW + 1, NOW + 1), TB_EFULL);
	/* Readers see an expired one as expired. */
	struct tb_proposal p = {.created = NOW};
	assert_false(tb_pending_expired(&p, NOW + TB_PENDING_AGE_S - 1));
	assert_true(tb_pending_expired(&p, NOW + TB_PENDING_AGE_S));
	tb_store_free(s);
	tb_test_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_pending_bounds)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
