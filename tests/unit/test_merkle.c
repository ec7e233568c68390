/*
 * test_merkle.c: randomized tests of store/merkle.c against a naive model of
 * RFC 6962 (MTH, PATH and SUBPROOF written as the plain recursions over all
 * leaves). Trees of every size 1..300 are grown with tb_merkle_append in a
 * memory table; roots, proofs and verdicts must match the model. The seed is
 * TB_SEED from the environment or a fixed default, and every failure message
 * names it so the run can be replayed.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tb_merkle.h"

#define HLEN TB_MERKLE_HASH_LEN
#define MAX_LEAVES 300
#define LEVELS 10 /* 2^9 = 512 > MAX_LEAVES */
#define CONS_MAX 64
#define DEFAULT_SEED UINT64_C(0x7a11e5eed)

static uint64_t g_seed = DEFAULT_SEED;
static uint64_t g_rng;

/* Fails with the seed in the message: the only place it is printed. */
#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond))                                                                 \
			fail_msg("%s:%d: %s (replay with TB_SEED=%llu)", __FILE__, __LINE__, \
				 #cond, (unsigned long long)g_seed);                         \
	} while (0)

/* splitmix64 */
static uint64_t rnd(void)
{
	uint64_t z = (g_rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static void flip_bit(uint8_t h[HLEN])
{
	unsigned bit = (unsigned)rnd_below(HLEN * 8);

	h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

/* ---- the tree under test: stored complete subtrees in memory ---- */

struct mem_tree {
	uint8_t node[LEVELS][MAX_LEAVES][HLEN];
	bool have[LEVELS][MAX_LEAVES];
	uint8_t leaf[MAX_LEAVES][HLEN];
	uint64_t size;
	unsigned gets;
};

static int mem_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HLEN])
{
	struct mem_tree *t = ctx;

	t->gets++;
	if (level >= LEVELS || index >= MAX_LEAVES || !t->have[level][index])
		return TB_ENOTFOUND;
	/* Only subtrees inside the tree so far may be read. */
	CHECK(((index + 1) << level) <= t->size);
	memcpy(out, t->node[level][index], HLEN);
	return 0;
}

static void mem_append(struct mem_tree *t, const uint8_t leaf[HLEN])
{
	struct tb_merkle_node out[64];
	uint64_t index = t->size;
	int n, k;

	n = tb_merkle_append(out, index, leaf, mem_get, t);
	CHECK(n >= 1);
	/* The leaf, then one parent per trailing one bit of index. */
	CHECK(n == 1 + __builtin_ctzll(~index));
	for (k = 0; k < n; k++) {
		CHECK(out[k].level == (unsigned)k);
		CHECK(out[k].index == index >> k);
		CHECK(out[k].level < LEVELS && out[k].index < MAX_LEAVES);
		CHECK(!t->have[out[k].level][out[k].index]);
		memcpy(t->node[out[k].level][out[k].index], out[k].hash, HLEN);
		t->have[out[k].level][out[k].index] = true;
	}
	CHECK(memcmp(out[0].hash, leaf, HLEN) == 0);
	memcpy(t->leaf[index], leaf, HLEN);
	t->size++;
}

/* ---- the model: RFC 6962 section 2.1 as written ---- */

static uint64_t split(uint64_t n)
{
	uint64_t k = 1;

	while (k * 2 < n)
		k *= 2;
	return k;
}

/* MTH(D[lo:hi]), hi > lo. */
static void model_mth(uint8_t out[HLEN], const uint8_t (*leaf)[HLEN], uint64_t lo, uint64_t hi)
{
	uint8_t l[HLEN], r[HLEN];
	uint64_t k;

	if (hi - lo == 1) {
		memcpy(out, leaf[lo], HLEN);
		return;
	}
	k = split(hi - lo);
	model_mth(l, leaf, lo, lo + k);
	model_mth(r, leaf, lo + k, hi);
	tb_node_hash(out, l, r);
}

/* PATH(m, D[lo:hi]) appended to proof[*n]. */
static void model_path(uint8_t (*proof)[HLEN], size_t *n, const uint8_t (*leaf)[HLEN], uint64_t m,
		       uint64_t lo, uint64_t hi)
{
	uint64_t k;

	if (hi - lo == 1)
		return;
	k = split(hi - lo);
	if (m < k) {
		model_path(proof, n, leaf, m, lo, lo + k);
		model_mth(proof[(*n)++], leaf, lo + k, hi);
	} else {
		model_path(proof, n, leaf, m - k, lo + k, hi);
		model_mth(proof[(*n)++], leaf, lo, lo + k);
	}
}

/* SUBPROOF(m, D[lo:hi], b) appended to proof[*n]. */
static void model_subproof(uint8_t (*proof)[HLEN], size_t *n, const uint8_t (*leaf)[HLEN],
			   uint64_t m, uint64_t lo, uint64_t hi, bool b)
{
	uint64_t k;

	if (m == hi - lo) {
		if (!b)
			model_mth(proof[(*n)++], leaf, lo, hi);
		return;
	}
	k = split(hi - lo);
	if (m <= k) {
		model_subproof(proof, n, leaf, m, lo, lo + k, b);
		model_mth(proof[(*n)++], leaf, lo + k, hi);
	} else {
		model_subproof(proof, n, leaf, m - k, lo + k, hi, false);
		model_mth(proof[(*n)++], leaf, lo, lo + k);
	}
}

static unsigned bit_len(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

static struct mem_tree *grow(uint64_t size)
{
	struct mem_tree *t = calloc(1, sizeof *t);
	uint8_t data[40], leaf[HLEN];
	uint64_t i;

	CHECK(t != NULL);
	for (i = 0; i < size; i++) {
		size_t len = (size_t)rnd_below(sizeof data + 1), j;

		for (j = 0; j < len; j++)
			data[j] = (uint8_t)rnd();
		tb_leaf_hash(leaf, data, len);
		mem_append(t, leaf);
	}
	return t;
}

static int group_setup(void **state)
{
	const char *env = getenv("TB_SEED");

	(void)state;
	if (env && *env) {
		char *end;

		g_seed = strtoull(env, &end, 0);
		if (*end) {
			fprintf(stderr, "TB_SEED is not a number: %s\n", env);
			return -1;
		}
	}
	return 0;
}

static int test_setup(void **state)
{
	(void)state;
	g_rng = g_seed;
	return 0;
}

/* ---- tests ---- */

static void test_roots(void **state)
{
	struct mem_tree *t = calloc(1, sizeof *t);
	uint8_t leaf[HLEN], got[HLEN], want[HLEN];
	uint64_t size, j;

	(void)state;
	CHECK(t != NULL);
	/* Size 0: SHA-256 of the empty string, no getter needed. */
	CHECK(tb_merkle_root(got, 0, NULL, NULL) == 0);
	tb_sha256(want, (const uint8_t *)"", 0);
	CHECK(memcmp(got, want, HLEN) == 0);

	for (size = 1; size <= MAX_LEAVES; size++) {
		for (j = 0; j < HLEN; j++)
			leaf[j] = (uint8_t)rnd();
		mem_append(t, leaf);
		t->gets = 0;
		CHECK(tb_merkle_root(got, size, mem_get, t) == 0);
		CHECK(t->gets == (unsigned)__builtin_popcountll(size));
		model_mth(want, (const uint8_t(*)[HLEN])t->leaf, 0, size);
		CHECK(memcmp(got, want, HLEN) == 0);
	}
	/* Older sizes still give their roots from the grown tree. */
	for (size = 1; size <= MAX_LEAVES; size += 1 + rnd_below(7)) {
		CHECK(tb_merkle_root(got, size, mem_get, t) == 0);
		model_mth(want, (const uint8_t(*)[HLEN])t->leaf, 0, size);
		CHECK(memcmp(got, want, HLEN) == 0);
	}
	free(t);
}

static void check_inclusion(struct mem_tree *t, uint64_t size)
{
	const uint8_t(*leaves)[HLEN] = (const uint8_t(*)[HLEN])t->leaf;
	uint8_t proof[TB_MERKLE_MAX_PROOF][HLEN], want[TB_MERKLE_MAX_PROOF][HLEN];
	const uint8_t(*cp)[HLEN] = (const uint8_t(*)[HLEN])proof;
	uint8_t root[HLEN], bad[HLEN];
	uint64_t index, other;
	size_t n, wn;

	model_mth(root, leaves, 0, size);
	for (index = 0; index < size; index++) {
		t->gets = 0;
		CHECK(tb_merkle_inclusion_proof(proof, TB_MERKLE_MAX_PROOF, &n, index, size,
						mem_get, t) == 0);
		CHECK(t->gets <= 2 * bit_len(size) + 1);
		wn = 0;
		model_path(want, &wn, leaves, index, 0, size);
		CHECK(n == wn);
		CHECK(n == 0 || memcmp(proof, want, n * HLEN) == 0);

		CHECK(tb_merkle_verify_inclusion(leaves[index], index, size, cp, n, root) == 0);
		/* Wrong root, wrong leaf, wrong index. */
		memcpy(bad, root, HLEN);
		flip_bit(bad);
		CHECK(tb_merkle_verify_inclusion(leaves[index], index, size, cp, n, bad) ==
		      TB_EPROOF);
		memcpy(bad, leaves[index], HLEN);
		flip_bit(bad);
		CHECK(tb_merkle_verify_inclusion(bad, index, size, cp, n, root) == TB_EPROOF);
		if (size > 1) {
			other = (index + 1 + rnd_below(size - 1)) % size;
			CHECK(tb_merkle_verify_inclusion(leaves[index], other, size, cp, n, root) ==
			      TB_EPROOF);
		}
		CHECK(tb_merkle_verify_inclusion(leaves[index], size, size, cp, n, root) ==
		      TB_EPROOF);
		/* index == size is refused as such: for index 1 of 2 the
		 * hashing alone would accept it. */
		CHECK(tb_merkle_verify_inclusion(leaves[index], index, index, cp, n, root) ==
		      TB_EPROOF);
		/* Tampered, truncated and extended proofs. */
		if (n > 0) {
			size_t i = (size_t)rnd_below(n);

			flip_bit(proof[i]);
			CHECK(tb_merkle_verify_inclusion(leaves[index], index, size, cp, n, root) ==
			      TB_EPROOF);
			memcpy(proof, want, n * HLEN);
			CHECK(tb_merkle_verify_inclusion(leaves[index], index, size, cp, n - 1,
							 root) == TB_EPROOF);
			/* Capacity one short: EFULL and no proof. */
			CHECK(tb_merkle_inclusion_proof(proof, n - 1, &wn, index, size, mem_get,
							t) == TB_EFULL);
			CHECK(wn == 0);
			memcpy(proof, want, n * HLEN);
		}
		memcpy(proof[n], root, HLEN);
		CHECK(tb_merkle_verify_inclusion(leaves[index], index, size, cp, n + 1, root) ==
		      TB_EPROOF);
	}
	CHECK(tb_merkle_inclusion_proof(proof, TB_MERKLE_MAX_PROOF, &n, size, size, mem_get, t) ==
	      TB_EINVAL);
	CHECK(n == 0);
}

static void test_inclusion(void **state)
{
	static const uint64_t sizes[] = {1,   2,   3,	4,   5,	  6,   7,   8,	 9,
					 15,  16,  17,	31,  32,  33,  63,  64,	 65,
					 100, 127, 128, 129, 255, 256, 257, 299, 300};
	struct mem_tree *t;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		t = grow(sizes[i]);
		check_inclusion(t, sizes[i]);
		free(t);
	}
	/* A few random sizes as well. */
	for (i = 0; i < 4; i++) {
		uint64_t size = 1 + rnd_below(MAX_LEAVES);

		t = grow(size);
		check_inclusion(t, size);
		free(t);
	}
}

static void check_consistency(struct mem_tree *t, uint64_t size1, uint64_t size2)
{
	const uint8_t(*leaves)[HLEN] = (const uint8_t(*)[HLEN])t->leaf;
	uint8_t proof[TB_MERKLE_MAX_PROOF][HLEN], want[TB_MERKLE_MAX_PROOF][HLEN];
	const uint8_t(*cp)[HLEN] = (const uint8_t(*)[HLEN])proof;
	uint8_t root1[HLEN], root2[HLEN], bad[HLEN];
	size_t n, wn = 0;

	model_mth(root1, leaves, 0, size1);
	model_mth(root2, leaves, 0, size2);
	t->gets = 0;
	CHECK(tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, size1, size2, mem_get,
					  t) == 0);
	CHECK(t->gets <= 2 * bit_len(size2) + 2);
	model_subproof(want, &wn, leaves, size1, 0, size2, true);
	CHECK(n == wn);
	CHECK(n == 0 || memcmp(proof, want, n * HLEN) == 0);

	CHECK(tb_merkle_verify_consistency(size1, size2, root1, root2, cp, n) == 0);
	memcpy(bad, root1, HLEN);
	flip_bit(bad);
	CHECK(tb_merkle_verify_consistency(size1, size2, bad, root2, cp, n) == TB_EPROOF);
	memcpy(bad, root2, HLEN);
	flip_bit(bad);
	CHECK(tb_merkle_verify_consistency(size1, size2, root1, bad, cp, n) == TB_EPROOF);
	if (size1 < size2) {
		size_t i;

		CHECK(n > 0);
		CHECK(tb_merkle_verify_consistency(size2, size1, root2, root1, cp, n) == TB_EPROOF);
		CHECK(tb_merkle_verify_consistency(size1, size2, root1, root2, cp, n - 1) ==
		      TB_EPROOF);
		memcpy(proof[n], root2, HLEN);
		CHECK(tb_merkle_verify_consistency(size1, size2, root1, root2, cp, n + 1) ==
		      TB_EPROOF);
		i = (size_t)rnd_below(n);
		flip_bit(proof[i]);
		CHECK(tb_merkle_verify_consistency(size1, size2, root1, root2, cp, n) == TB_EPROOF);
		CHECK(tb_merkle_consistency_proof(proof, n - 1, &wn, size1, size2, mem_get, t) ==
		      TB_EFULL);
		CHECK(wn == 0);
	} else {
		/* Equal sizes: the proof is empty and must stay so. */
		memcpy(proof[0], root1, HLEN);
		CHECK(tb_merkle_verify_consistency(size1, size2, root1, root2, cp, 1) == TB_EPROOF);
	}
	/* The empty tree is consistent with any tree, with an empty proof
	 * (as transparency-dev/merkle decides). */
	CHECK(tb_merkle_verify_consistency(0, size2, root1, root2, NULL, 0) == 0);
	CHECK(tb_merkle_verify_consistency(0, size2, root1, root2, cp, 1) == TB_EPROOF);
}

static void test_consistency(void **state)
{
	uint8_t proof[TB_MERKLE_MAX_PROOF][HLEN];
	struct mem_tree *t = grow(CONS_MAX);
	uint64_t size1, size2;
	size_t n = 7;

	(void)state;
	for (size2 = 1; size2 <= CONS_MAX; size2++)
		for (size1 = 1; size1 <= size2; size1++)
			check_consistency(t, size1, size2);
	CHECK(tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, 0, 5, mem_get, t) ==
	      TB_EINVAL);
	CHECK(n == 0);
	CHECK(tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, 6, 5, mem_get, t) ==
	      TB_EINVAL);
	free(t);
}

/*
 * A getter for huge trees: every leaf is the same, so the complete subtree at
 * level L has hash same[L] whatever its index, a consistent tree of any size.
 */
static uint8_t same[64][HLEN];

static int same_get(void *ctx, unsigned level, uint64_t index, uint8_t out[HLEN])
{
	(void)ctx;
	(void)index;
	CHECK(level < 64);
	memcpy(out, same[level], HLEN);
	return 0;
}

static void test_extremes(void **state)
{
	static uint8_t proof[TB_MERKLE_MAX_PROOF][HLEN];
	const uint8_t(*cp)[HLEN] = (const uint8_t(*)[HLEN])proof;
	struct tb_merkle_node out[64];
	uint8_t leaf[HLEN] = {1}, root[HLEN], root1[HLEN];
	uint64_t max = UINT64_MAX, big = UINT64_C(1) << 63;
	size_t n, i;

	(void)state;
	tb_leaf_hash(same[0], (const uint8_t *)"x", 1);
	for (i = 1; i < 64; i++)
		tb_node_hash(same[i], same[i - 1], same[i - 1]);

	/* The last leaf we take closes 63 parents: 64 nodes, the whole out. */
	CHECK(tb_merkle_append(out, big - 1, same[0], same_get, NULL) == 64);
	CHECK(out[63].level == 63 && out[63].index == 0);
	CHECK(memcmp(out[63].hash, same[63], HLEN) == 0);
	CHECK(tb_merkle_append(out, big, leaf, same_get, NULL) == TB_EFULL);
	CHECK(tb_merkle_append(out, max, leaf, same_get, NULL) == TB_EFULL);

	/* Roots and proofs of trees near 2^64 leaves stay in bounds. */
	CHECK(tb_merkle_root(root, max, same_get, NULL) == 0);
	CHECK(tb_merkle_inclusion_proof(proof, TB_MERKLE_MAX_PROOF, &n, 0, max, same_get, NULL) ==
	      0);
	CHECK(n == 64);
	CHECK(tb_merkle_verify_inclusion(same[0], 0, max, cp, n, root) == 0);
	CHECK(tb_merkle_verify_inclusion(leaf, 0, max, cp, n, root) == TB_EPROOF);
	CHECK(tb_merkle_inclusion_proof(proof, TB_MERKLE_MAX_PROOF, &n, max - 1, max, same_get,
					NULL) == 0);
	CHECK(n == 63);
	CHECK(tb_merkle_verify_inclusion(same[0], max - 1, max, cp, n, root) == 0);
	CHECK(tb_merkle_inclusion_proof(proof, TB_MERKLE_MAX_PROOF, &n, big, max, same_get, NULL) ==
	      0);
	CHECK(tb_merkle_verify_inclusion(same[0], big, max, cp, n, root) == 0);
	CHECK(tb_merkle_root(root1, big + 3, same_get, NULL) == 0);
	CHECK(tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, big + 3, max, same_get,
					  NULL) == 0);
	CHECK(tb_merkle_verify_consistency(big + 3, max, root1, root, cp, n) == 0);
	CHECK(tb_merkle_root(root1, big, same_get, NULL) == 0);
	CHECK(tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, big, max, same_get,
					  NULL) == 0);
	CHECK(tb_merkle_verify_consistency(big, max, root1, root, cp, n) == 0);
	CHECK(tb_merkle_root(root1, 1, same_get, NULL) == 0);
	CHECK(tb_merkle_consistency_proof(proof, TB_MERKLE_MAX_PROOF, &n, 1, max, same_get, NULL) ==
	      0);
	CHECK(n == 64);
	CHECK(tb_merkle_verify_consistency(1, max, root1, root, cp, n) == 0);

	/* Verifiers: every shape of size and index, never a crash. */
	for (i = 0; i < TB_MERKLE_MAX_PROOF; i++)
		memset(proof[i], (int)i, HLEN);
	for (i = 0; i < 2000; i++) {
		uint64_t a = rnd() >> rnd_below(64), b = rnd() >> rnd_below(64);
		size_t k = (size_t)rnd_below(TB_MERKLE_MAX_PROOF + 1);

		if (rnd() & 1)
			a = max - rnd_below(4);
		CHECK(tb_merkle_verify_inclusion(leaf, a, b, cp, k, root) == TB_EPROOF);
		CHECK(tb_merkle_verify_consistency(a | 1, b, leaf, root, cp, k) == TB_EPROOF);
	}
	CHECK(tb_merkle_verify_inclusion(leaf, 0, 0, NULL, 0, leaf) == TB_EPROOF);
	CHECK(tb_merkle_verify_inclusion(leaf, 0, 1, NULL, 0, leaf) == 0);
	CHECK(tb_merkle_verify_consistency(3, 2, root, root, NULL, 0) == TB_EPROOF);
	CHECK(tb_merkle_verify_consistency(3, 3, root, root, NULL, 0) == 0);
	CHECK(tb_merkle_verify_consistency(2, 3, root, root, NULL, 0) == TB_EPROOF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_roots, test_setup),
		cmocka_unit_test_setup(test_inclusion, test_setup),
		cmocka_unit_test_setup(test_consistency, test_setup),
		cmocka_unit_test_setup(test_extremes, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
