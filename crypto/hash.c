/*
 * hash.c: SHA-256, one-shot and incremental, and the RFC 6962 leaf and node
 * hashes that chain a log's entries and build its Merkle tree. The leaf and
 * node prefixes (0x00, 0x01) keep a leaf from ever passing for an inner node.
 * Never hash a leaf or node without its prefix, and never copy the data to
 * prepend one.
 */
#include "tb_crypto.h"

#include <stdalign.h>
#include <string.h>

#include <sodium.h>

_Static_assert(TB_HASH_LEN == crypto_hash_sha256_BYTES, "hash size");
_Static_assert(sizeof(crypto_hash_sha256_state) <= sizeof(((struct tb_sha256_ctx *)0)->opaque),
	       "sha256 state does not fit into tb_sha256_ctx");
_Static_assert(alignof(crypto_hash_sha256_state) <= alignof(struct tb_sha256_ctx),
	       "sha256 state needs more alignment than tb_sha256_ctx has");

/*
 * The state is copied in and out of the opaque bytes rather than accessed
 * through a cast, which would read a uint8_t array through another type.
 */
static void tb_sha256_load(crypto_hash_sha256_state *st, const struct tb_sha256_ctx *c)
{
	memcpy(st, c->opaque, sizeof *st);
}

static void tb_sha256_store(struct tb_sha256_ctx *c, const crypto_hash_sha256_state *st)
{
	memcpy(c->opaque, st, sizeof *st);
}

void tb_sha256(uint8_t out[TB_HASH_LEN], const uint8_t *data, size_t len)
{
	static const uint8_t empty[1];

	crypto_hash_sha256(out, len ? data : empty, len);
}

void tb_sha256_init(struct tb_sha256_ctx *c)
{
	crypto_hash_sha256_state st;

	memset(c, 0, sizeof *c);
	crypto_hash_sha256_init(&st);
	tb_sha256_store(c, &st);
}

void tb_sha256_update(struct tb_sha256_ctx *c, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	if (len == 0)
		return;
	tb_sha256_load(&st, c);
	crypto_hash_sha256_update(&st, data, len);
	tb_sha256_store(c, &st);
	sodium_memzero(&st, sizeof st);
}

/* Wipes the context: it must be initialised again before reuse. */
void tb_sha256_final(struct tb_sha256_ctx *c, uint8_t out[TB_HASH_LEN])
{
	crypto_hash_sha256_state st;

	tb_sha256_load(&st, c);
	crypto_hash_sha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
	sodium_memzero(c, sizeof *c);
}

void tb_leaf_hash(uint8_t out[TB_HASH_LEN], const uint8_t *data, size_t len)
{
	static const uint8_t prefix = 0x00;
	struct tb_sha256_ctx c;

	tb_sha256_init(&c);
	tb_sha256_update(&c, &prefix, 1);
	tb_sha256_update(&c, data, len);
	tb_sha256_final(&c, out);
}

/* out may alias left or right: both are consumed before out is written. */
void tb_node_hash(uint8_t out[TB_HASH_LEN], const uint8_t left[TB_HASH_LEN],
		  const uint8_t right[TB_HASH_LEN])
{
	static const uint8_t prefix = 0x01;
	struct tb_sha256_ctx c;

	tb_sha256_init(&c);
	tb_sha256_update(&c, &prefix, 1);
	tb_sha256_update(&c, left, TB_HASH_LEN);
	tb_sha256_update(&c, right, TB_HASH_LEN);
	tb_sha256_final(&c, out);
}
