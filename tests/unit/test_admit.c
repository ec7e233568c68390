/*
 * test_admit.c: admission (store/admit.c) through the store's public API,
 * with real LMDB and real signatures: the ADMIT rule (not itself, not a
 * second removal, the latest status wins, nothing changes on a refusal),
 * and the admitted set a node computes from it: its own admits, one level of
 * vouching and never two, a removal in the own log that wins over a
 * voucher, a vouched name that is the same name as an admitted one left
 * out, at most TB_ADMIT_PER_VOUCHER from one voucher, and the set rebuilt
 * the same by reindex.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SELF 1
#define BETA 2
#define GAMMA 3
#define DELTA 4
#define ECHO 5
#define ZETA 6
#define MANY 7000

static char *dir;
static struct tb_store *S;
static struct tb_test_log L[8];

static const uint8_t *id(uint32_t k)
{
	static struct tb_keypair kp;
	tb_test_keypair(&kp, k);
	return kp.pk.b;
}

static int try_admit(uint32_t who, const uint8_t *community, const char *name, unsigned status)
{
	struct tb_admit a = {0};
	memcpy(a.community, community, TB_KEY_LEN);
	a.name.p = (const uint8_t *)name;
	a.name.len = strlen(name);
	a.status = status;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal_next(&L[who], rec, TB_KIND_ADMIT, &a);
	struct tb_view v = {rec, len};
	size_t acc;
	struct tb_reject rej;
	char *before = tb_test_store_dump(S);
	int err = tb_store_append(S, &v, 1, &acc, &rej);
	if (!err) {
		tb_test_log_advance(&L[who], rec, len);
	} else {
		char *after = tb_test_store_dump(S);
		assert_string_equal(before, after);
		free(after);
	}
	free(before);
	return err;
}

static void admit(uint32_t who, uint32_t k, const char *name, unsigned status)
{
	uint8_t c[TB_KEY_LEN];
	memcpy(c, id(k), TB_KEY_LEN);
	assert_int_equal(try_admit(who, c, name, status), 0);
}

static void genesis(uint32_t k, const char *name)
{
	struct tb_genesis g;
	uint8_t rec[TB_ENTRY_MAX];
	tb_test_log_init(&L[k], k);
	tb_test_genesis(&g, name, -600, 0);
	size_t len = tb_test_seal(&L[k], rec, TB_KIND_GENESIS, &g);
	struct tb_view v = {rec, len};
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(S, &v, 1, &acc, &rej), 0);
}

static int setup(void **state)
{
	(void)state;
	dir = tb_test_scratchdir("admit");
	assert_int_equal(tb_store_open(&S, dir, 0), 0);
	tb_store_set_threads(S, 1);
	static const char *const names[] = {"", "Alpha", "Beta", "Gamma", "Delta", "Echo", "Zeta"};
	for (uint32_t k = SELF; k <= ZETA; k++)
		genesis(k, names[k]);
	assert_int_equal(tb_store_set_self(S, id(SELF)), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_store_free(S);
	tb_test_rmrf(dir);
	return 0;
}

static const struct tb_admitted_one *in(const struct tb_admitted *a, uint32_t k)
{
	return tb_admitted_find(a, id(k));
}

static void test_admission(void **state)
{
	(void)state;
	/* The rule: not itself; not a community removed already. */
	uint8_t self[TB_KEY_LEN];
	memcpy(self, id(SELF), TB_KEY_LEN);
	assert_int_equal(try_admit(SELF, self, "Alpha", TB_ADMIT_ADMITTED), TB_EADMIT);
	admit(SELF, BETA, "Beta", TB_ADMIT_VOUCHING);
	admit(SELF, GAMMA, "Gamma", TB_ADMIT_ADMITTED);
	/* Beta vouches: Delta (its vouching does not pass on), Echo under a
	 * name that is Gamma's whatever the case (left out), and us. */
	admit(BETA, DELTA, "Delta", TB_ADMIT_VOUCHING);
	admit(BETA, ECHO, "GAMMA", TB_ADMIT_ADMITTED);
	admit(BETA, SELF, "Alpha", TB_ADMIT_ADMITTED);
	admit(DELTA, ZETA, "Zeta", TB_ADMIT_ADMITTED);

	struct tb_admitted a;
	assert_int_equal(tb_store_admitted(S, &a), 0);
	assert_int_equal(a.n, 3);
	assert_true(tb_admitted_has(&a, id(SELF)));
	assert_true(in(&a, BETA) && in(&a, BETA)->direct &&
		    in(&a, BETA)->status == TB_ADMIT_VOUCHING);
	assert_true(in(&a, GAMMA) && in(&a, GAMMA)->direct);
	assert_true(in(&a, DELTA) && !in(&a, DELTA)->direct &&
		    in(&a, DELTA)->status == TB_ADMIT_ADMITTED);
	uint8_t beta[TB_KEY_LEN];
	memcpy(beta, id(BETA), TB_KEY_LEN);
	assert_memory_equal(in(&a, DELTA)->via, beta, TB_KEY_LEN);
	assert_null(in(&a, ECHO));
	assert_null(in(&a, ZETA));
	assert_int_equal(a.dropped, 1);
	tb_admitted_free(&a);

	/* A removal in the own log wins over the voucher; twice is refused. */
	admit(SELF, DELTA, "Delta", TB_ADMIT_REMOVED);
	uint8_t delta[TB_KEY_LEN];
	memcpy(delta, id(DELTA), TB_KEY_LEN);
	assert_int_equal(try_admit(SELF, delta, "Delta", TB_ADMIT_REMOVED), TB_EADMIT);
	/* The latest status counts: Gamma removed, then admitted again. */
	admit(SELF, GAMMA, "Gamma", TB_ADMIT_REMOVED);
	assert_int_equal(tb_store_admitted(S, &a), 0);
	assert_null(in(&a, DELTA));
	assert_null(in(&a, GAMMA));
	assert_non_null(in(&a, ECHO)); /* its name is free now */
	tb_admitted_free(&a);
	admit(SELF, GAMMA, "Gamma", TB_ADMIT_ADMITTED);

	/* One voucher brings at most TB_ADMIT_PER_VOUCHER. */
	struct tb_test_recs r = {0};
	for (uint32_t i = 0; i < TB_ADMIT_PER_VOUCHER + 44; i++) {
		struct tb_admit x = {0};
		char name[16];
		snprintf(name, sizeof name, "Many%u", i);
		memcpy(x.community, id(MANY + i), TB_KEY_LEN);
		x.name.p = (const uint8_t *)name;
		x.name.len = strlen(name);
		x.status = TB_ADMIT_ADMITTED;
		tb_test_log_add(&L[BETA], &r, TB_KIND_ADMIT, &x);
	}
	size_t acc;
	struct tb_reject rej;
	assert_int_equal(tb_store_append(S, tb_test_recs_views(&r, 0), r.n, &acc, &rej), 0);
	tb_test_recs_free(&r);
	assert_int_equal(tb_store_admitted(S, &a), 0);
	size_t many = 0;
	for (size_t i = 0; i < a.n; i++)
		many += !a.v[i].direct;
	assert_int_equal(many, TB_ADMIT_PER_VOUCHER);
	size_t n = a.n;
	tb_admitted_free(&a);

	/* Reindex rebuilds the same set from the logs alone. */
	assert_int_equal(tb_store_reindex(S, &rej), 0);
	assert_int_equal(tb_store_admitted(S, &a), 0);
	assert_int_equal(a.n, n);
	assert_non_null(in(&a, GAMMA));
	assert_null(in(&a, DELTA));
	tb_admitted_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admission, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
