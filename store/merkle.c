/*
 * merkle.c: RFC 6962 Merkle tree arithmetic over the stored complete subtrees:
 * the nodes an append closes, the root of any tree size, inclusion and
 * consistency proofs (RFC 6962 2.1.1 and 2.1.2) and their verification (the
 * iterative algorithms of RFC 9162 2.1.3.2 and 2.1.4.2, with the same checks as
 * the transparency-dev/merkle verifier). Pure math: it never touches storage
 * except through the caller's getter, never allocates, and never accepts a
 * proof whose length is not exactly the one the tree sizes imply.
 */
#include "tb_merkle.h"

#include <stdbool.h>
#include <string.h>

#include "../crypto/tb_crypto.h"

_Static_assert(TB_MERKLE_HASH_LEN == TB_HASH_LEN, "Merkle hashes are SHA-256");

/* Leaves of the biggest tree we append to (tb_merkle.h: up to 2^63 leaves). */
#define TB_MERKLE_MAX_LEAVES (UINT64_C(1) << 63)

/* A range [start, start + len) of leaves that appears in the RFC 6962
 * recursion: start is a multiple of the smallest power of two >= len. */
struct merkle_range {
	uint64_t start;
	uint64_t len;
};

static unsigned bit_len(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split_point(uint64_t n)
{
	return UINT64_C(1) << (bit_len(n - 1) - 1);
}

static int get_node(tb_merkle_get_fn get, void *ctx, unsigned level, uint64_t index,
		    uint8_t out[TB_MERKLE_HASH_LEN])
{
	int rc = get(ctx, level, index, out);

	if (rc > 0)
		return TB_ECORRUPT; /* getters return 0 or a negative code */
	return rc;
}

/*
 * MTH(D[start:start + len]) for a range of the RFC 6962 recursion, len >= 1.
 * Its pieces are the complete aligned subtrees given by the bits of len, from
 * the biggest (leftmost) down; the hash folds them from the right:
 * H(p1, H(p2, ... H(pk-1, pk))). One getter call per set bit of len.
 */
static int range_hash(uint8_t out[TB_MERKLE_HASH_LEN], struct merkle_range r, tb_merkle_get_fn get,
		      void *ctx)
{
	uint8_t piece[TB_MERKLE_HASH_LEN];
	uint64_t end = r.start + r.len;
	uint64_t rest = r.len;
	bool have = false;
	int rc;

	/* Walk the pieces from the right: the lowest set bit of rest is the
	 * rightmost piece, ending at `end`. */
	while (rest) {
		unsigned level = (unsigned)__builtin_ctzll(rest);
		uint64_t size = UINT64_C(1) << level;

		end -= size;
		rest -= size;
		rc = get_node(get, ctx, level, end >> level, have ? piece : out);
		if (rc)
			return rc;
		if (have)
			tb_node_hash(out, piece, out);
		have = true;
	}
	return 0;
}

int tb_merkle_append(struct tb_merkle_node out[64], uint64_t index,
		     const uint8_t leaf[TB_MERKLE_HASH_LEN], tb_merkle_get_fn get, void *ctx)
{
	uint8_t left[TB_MERKLE_HASH_LEN];
	uint64_t i = index;
	unsigned level = 0;
	int n = 0, rc;

	if (!out || !leaf || !get)
		return TB_EINVAL;
	if (index >= TB_MERKLE_MAX_LEAVES)
		return TB_EFULL;

	out[0].level = 0;
	out[0].index = index;
	memcpy(out[0].hash, leaf, TB_MERKLE_HASH_LEN);
	n = 1;
	/* Each odd index closes its parent with the left sibling; index <
	 * 2^63 has at most 63 trailing ones, so n stays <= 64. */
	while (i & 1) {
		rc = get_node(get, ctx, level, i - 1, left);
		if (rc)
			return rc;
		tb_node_hash(out[n].hash, left, out[n - 1].hash);
		i >>= 1;
		level++;
		out[n].level = level;
		out[n].index = i;
		n++;
	}
	return n;
}

int tb_merkle_root(uint8_t out[TB_MERKLE_HASH_LEN], uint64_t size, tb_merkle_get_fn get, void *ctx)
{
	struct merkle_range all = {0, size};
	int rc;

	if (!out)
		return TB_EINVAL;
	if (size == 0) {
		tb_sha256(out, (const uint8_t *)"", 0);
		return 0;
	}
	if (!get) {
		memset(out, 0, TB_MERKLE_HASH_LEN);
		return TB_EINVAL;
	}
	rc = range_hash(out, all, get, ctx);
	if (rc)
		memset(out, 0, TB_MERKLE_HASH_LEN);
	return rc;
}

/*
 * Writes the hashes of the ranges sib[count - 1] .. sib[0] (deepest first)
 * into proof after its `first` entries; the caller checked the capacity.
 */
static int emit_proof(uint8_t proof[][TB_MERKLE_HASH_LEN], size_t *n, size_t first,
		      const struct merkle_range *sib, size_t count, tb_merkle_get_fn get, void *ctx)
{
	size_t i;
	int rc;

	for (i = 0; i < count; i++) {
		rc = range_hash(proof[first + i], sib[count - 1 - i], get, ctx);
		if (rc)
			return rc;
	}
	*n = first + count;
	return 0;
}

int tb_merkle_inclusion_proof(uint8_t proof[][TB_MERKLE_HASH_LEN], size_t cap, size_t *n,
			      uint64_t index, uint64_t size, tb_merkle_get_fn get, void *ctx)
{
	struct merkle_range sib[64];
	struct merkle_range cur = {0, size};
	uint64_t m = index;
	size_t count = 0;
	int rc;

	if (!n)
		return TB_EINVAL;
	*n = 0;
	if ((!proof && cap) || !get || index >= size)
		return TB_EINVAL;

	/*
	 * RFC 6962 2.1.1: PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n]) if
	 * m < k, else PATH(m - k, D[k:n]) : MTH(D[0:k]). Walk down from the
	 * root collecting the siblings, then emit them leaf first. The split
	 * level drops on every step, so there are at most 64.
	 */
	while (cur.len > 1) {
		uint64_t k = split_point(cur.len);

		TB_ASSERT(count < 64);
		if (m < k) {
			sib[count].start = cur.start + k;
			sib[count].len = cur.len - k;
			cur.len = k;
		} else {
			sib[count].start = cur.start;
			sib[count].len = k;
			cur.start += k;
			cur.len -= k;
			m -= k;
		}
		count++;
	}
	if (count > cap)
		return TB_EFULL;
	rc = emit_proof(proof, n, 0, sib, count, get, ctx);
	if (rc)
		*n = 0;
	return rc;
}

int tb_merkle_consistency_proof(uint8_t proof[][TB_MERKLE_HASH_LEN], size_t cap, size_t *n,
				uint64_t size1, uint64_t size2, tb_merkle_get_fn get, void *ctx)
{
	struct merkle_range sib[64];
	struct merkle_range cur = {0, size2};
	uint64_t m = size1;
	bool whole = true; /* the b flag of SUBPROOF */
	size_t count = 0, first;
	int rc;

	if (!n)
		return TB_EINVAL;
	*n = 0;
	if ((!proof && cap) || !get || size1 == 0 || size1 > size2)
		return TB_EINVAL;

	/*
	 * RFC 6962 2.1.2: SUBPROOF(m, D[m], true) = {},
	 * SUBPROOF(m, D[m], false) = {MTH(D[m])}; for m < n,
	 * SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n]) if
	 * m <= k, else SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]).
	 */
	while (m != cur.len) {
		uint64_t k = split_point(cur.len);

		TB_ASSERT(count < 64);
		if (m <= k) {
			sib[count].start = cur.start + k;
			sib[count].len = cur.len - k;
			cur.len = k;
		} else {
			sib[count].start = cur.start;
			sib[count].len = k;
			cur.start += k;
			cur.len -= k;
			m -= k;
			whole = false;
		}
		count++;
	}
	first = whole ? 0 : 1;
	if (count + first > cap)
		return TB_EFULL;
	if (!whole) {
		rc = range_hash(proof[0], cur, get, ctx);
		if (rc)
			return rc;
	}
	rc = emit_proof(proof, n, first, sib, count, get, ctx);
	if (rc)
		*n = 0;
	return rc;
}

/*
 * RFC 9162 2.1.3.2 in the decomposed form of transparency-dev/merkle: the
 * inclusion proof of `index` in a tree of `size` has `inner` hashes below the
 * point where the paths to index and to size - 1 meet, then `border` hashes
 * of left siblings on the right border. index < size.
 */
static void decomp_incl_proof(uint64_t index, uint64_t size, unsigned *inner, unsigned *border)
{
	*inner = bit_len(index ^ (size - 1));
	*border = *inner >= 64 ? 0 : (unsigned)__builtin_popcountll(index >> *inner);
}

/*
 * The chains below read proof[first] .. proof[first + count - 1]; indices, not
 * offset pointers, so an empty proof may be NULL.
 */

/* Hashes seed up through the proof, left or right by the bits of index. */
static void chain_inner(uint8_t seed[TB_MERKLE_HASH_LEN], const uint8_t proof[][TB_MERKLE_HASH_LEN],
			size_t first, size_t count, uint64_t index)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if ((index >> i) & 1)
			tb_node_hash(seed, proof[first + i], seed);
		else
			tb_node_hash(seed, seed, proof[first + i]);
	}
}

/* As chain_inner, but only the steps where seed is the right child. */
static void chain_inner_right(uint8_t seed[TB_MERKLE_HASH_LEN],
			      const uint8_t proof[][TB_MERKLE_HASH_LEN], size_t first, size_t count,
			      uint64_t index)
{
	size_t i;

	for (i = 0; i < count; i++) {
		if ((index >> i) & 1)
			tb_node_hash(seed, proof[first + i], seed);
	}
}

/* Hashes seed up the right border: every proof hash is a left sibling. */
static void chain_border_right(uint8_t seed[TB_MERKLE_HASH_LEN],
			       const uint8_t proof[][TB_MERKLE_HASH_LEN], size_t first,
			       size_t count)
{
	size_t i;

	for (i = 0; i < count; i++)
		tb_node_hash(seed, proof[first + i], seed);
}

static int verify_match(const uint8_t calc[TB_MERKLE_HASH_LEN],
			const uint8_t want[TB_MERKLE_HASH_LEN])
{
	return tb_memcmp_ct(calc, want, TB_MERKLE_HASH_LEN) == 0 ? 0 : TB_EPROOF;
}

int tb_merkle_verify_inclusion(const uint8_t leaf[TB_MERKLE_HASH_LEN], uint64_t index,
			       uint64_t size, const uint8_t proof[][TB_MERKLE_HASH_LEN], size_t n,
			       const uint8_t root[TB_MERKLE_HASH_LEN])
{
	uint8_t h[TB_MERKLE_HASH_LEN];
	unsigned inner, border;

	if (!leaf || !root || (!proof && n))
		return TB_EPROOF;
	if (index >= size)
		return TB_EPROOF;
	decomp_incl_proof(index, size, &inner, &border);
	if (n != (size_t)inner + border)
		return TB_EPROOF;

	memcpy(h, leaf, sizeof h);
	chain_inner(h, proof, 0, inner, index);
	chain_border_right(h, proof, inner, border);
	return verify_match(h, root);
}

int tb_merkle_verify_consistency(uint64_t size1, uint64_t size2,
				 const uint8_t root1[TB_MERKLE_HASH_LEN],
				 const uint8_t root2[TB_MERKLE_HASH_LEN],
				 const uint8_t proof[][TB_MERKLE_HASH_LEN], size_t n)
{
	uint8_t h1[TB_MERKLE_HASH_LEN], h2[TB_MERKLE_HASH_LEN];
	const uint8_t *seed;
	unsigned inner, border, shift;
	uint64_t mask;
	size_t start;

	if (!root1 || !root2 || (!proof && n))
		return TB_EPROOF;
	if (size2 < size1)
		return TB_EPROOF;
	if (size1 == size2)
		return n ? TB_EPROOF : verify_match(root1, root2);
	if (size1 == 0) /* the empty tree is a prefix of every tree */
		return n ? TB_EPROOF : 0;
	if (n == 0)
		return TB_EPROOF;

	/* The proof is (a suffix of) the inclusion proof of leaf size1 - 1 in
	 * the tree of size2, starting at level `shift`, where the rightmost
	 * complete subtree of the size1 tree (2^shift leaves) sits. shift <
	 * inner because size1 < size2. */
	decomp_incl_proof(size1 - 1, size2, &inner, &border);
	shift = (unsigned)__builtin_ctzll(size1);
	inner -= shift;

	/* That subtree's hash is proof[0], unless it is the whole size1 tree,
	 * whose root the verifier already has. */
	if (size1 == UINT64_C(1) << shift) {
		seed = root1;
		start = 0;
	} else {
		seed = proof[0];
		start = 1;
	}
	if (n != start + inner + border)
		return TB_EPROOF;

	mask = (size1 - 1) >> shift;
	memcpy(h1, seed, sizeof h1);
	chain_inner_right(h1, proof, start, inner, mask);
	chain_border_right(h1, proof, start + inner, border);
	if (verify_match(h1, root1))
		return TB_EPROOF;

	memcpy(h2, seed, sizeof h2);
	chain_inner(h2, proof, start, inner, mask);
	chain_border_right(h2, proof, start + inner, border);
	return verify_match(h2, root2);
}
