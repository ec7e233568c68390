/*
 * tb_merkle.h: RFC 6962 Merkle tree arithmetic, independent of storage.
 *
 * The tree over a log of n entries has leaf i = tb_leaf_hash(record i). The
 * store keeps the hash of every complete, aligned subtree ("level L, index i"
 * covers leaves [i << L, (i + 1) << L)); everything here reads those through a
 * getter callback, so the same code serves LMDB, memory and tests. Proof
 * verification needs no getter: auditors and receipts use it offline.
 */
#ifndef TB_MERKLE_H
#define TB_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/tb_err.h"

#define TB_MERKLE_HASH_LEN 32
/* Longest proof we produce or accept (trees of up to 2^63 leaves). */
#define TB_MERKLE_MAX_PROOF 128

/* Writes the hash of complete subtree (level, index) to out; 0 or an error. */
typedef int (*tb_merkle_get_fn)(void *ctx, unsigned level, uint64_t index,
				uint8_t out[TB_MERKLE_HASH_LEN]);

/* A complete subtree hash to store. */
struct tb_merkle_node {
	unsigned level;
	uint64_t index;
	uint8_t hash[TB_MERKLE_HASH_LEN];
};

/*
 * Appending leaf number `index` (0-based; the tree had `index` leaves) with
 * hash `leaf`: writes to out the nodes that become complete (the leaf itself at
 * level 0, then each parent while the subtree closes), at most 64. Reads left
 * siblings through get. Returns the number of nodes, or a negative error.
 */
int tb_merkle_append(struct tb_merkle_node out[64], uint64_t index,
		     const uint8_t leaf[TB_MERKLE_HASH_LEN], tb_merkle_get_fn get, void *ctx);

/* Root of the first `size` leaves (size 0: SHA-256 of the empty string). */
int tb_merkle_root(uint8_t out[TB_MERKLE_HASH_LEN], uint64_t size, tb_merkle_get_fn get, void *ctx);

/* RFC 6962 2.1.1 audit path of leaf `index` in the tree of `size` leaves. */
int tb_merkle_inclusion_proof(uint8_t proof[][TB_MERKLE_HASH_LEN], size_t cap, size_t *n,
			      uint64_t index, uint64_t size, tb_merkle_get_fn get, void *ctx);

/* RFC 6962 2.1.2 consistency proof from size1 to size2 (0 < size1 <= size2). */
int tb_merkle_consistency_proof(uint8_t proof[][TB_MERKLE_HASH_LEN], size_t cap, size_t *n,
				uint64_t size1, uint64_t size2, tb_merkle_get_fn get, void *ctx);

/* 0 if the proof shows `leaf` at `index` in the tree of `size` with `root`,
 * else TB_EPROOF. Rejects index >= size and proofs of the wrong length. */
TB_MUST_CHECK int tb_merkle_verify_inclusion(const uint8_t leaf[TB_MERKLE_HASH_LEN], uint64_t index,
					     uint64_t size,
					     const uint8_t proof[][TB_MERKLE_HASH_LEN], size_t n,
					     const uint8_t root[TB_MERKLE_HASH_LEN]);

/* 0 if the proof shows the tree of size1 with root1 is a prefix of the tree of
 * size2 with root2 (RFC 9162 2.1.4.2 algorithm), else TB_EPROOF. */
TB_MUST_CHECK int tb_merkle_verify_consistency(uint64_t size1, uint64_t size2,
					       const uint8_t root1[TB_MERKLE_HASH_LEN],
					       const uint8_t root2[TB_MERKLE_HASH_LEN],
					       const uint8_t proof[][TB_MERKLE_HASH_LEN], size_t n);

#endif
