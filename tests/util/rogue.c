/*
 * rogue.c: the attacker's tools of rogue.h. The only file of the tests that
 * includes sodium.h: a second signature with a nonce of our choosing needs
 * Ed25519's scalar arithmetic, which the product (crypto/) never exposes
 * because it never signs that way.
 */
#include "rogue.h"

#include <string.h>

#include <sodium.h>

static const char *tag_of(enum tb_sigctx ctx)
{
	return tb_sigctx_tag(ctx);
}

void tb_rogue_sign_again(uint8_t sig[TB_SIGLEN], const struct tb_keypair *kp,
			 enum tb_sigctx ctx, const uint8_t *msg, size_t len, uint32_t salt)
{
	const char *tag = tag_of(ctx);
	size_t tlen = strlen(tag) + 1;
	/* The secret scalar a, as RFC 8032 derives it from the seed. */
	uint8_t az[64], a[32], wide[64] = {0};
	crypto_hash_sha512(az, kp->sk, 32);
	az[0] &= 248;
	az[31] &= 127;
	az[31] |= 64;
	memcpy(wide, az, 32);
	crypto_core_ed25519_scalar_reduce(a, wide);
	/* A nonce of our own: r = H(salt || prefix || M) instead of H(prefix || M). */
	uint8_t s4[4] = {(uint8_t)(salt >> 24), (uint8_t)(salt >> 16), (uint8_t)(salt >> 8),
			 (uint8_t)salt};
	crypto_hash_sha512_state h;
	uint8_t rh[64], r[32], R[32], kh[64], k[32], ka[32], S[32];
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, s4, sizeof s4);
	crypto_hash_sha512_update(&h, az + 32, 32);
	crypto_hash_sha512_update(&h, (const uint8_t *)tag, tlen);
	crypto_hash_sha512_update(&h, msg, len);
	crypto_hash_sha512_final(&h, rh);
	crypto_core_ed25519_scalar_reduce(r, rh);
	TB_ASSERT(crypto_scalarmult_ed25519_base_noclamp(R, r) == 0);
	/* k = H(R || A || M); S = r + k a. */
	crypto_hash_sha512_init(&h);
	crypto_hash_sha512_update(&h, R, 32);
	crypto_hash_sha512_update(&h, kp->pk.b, 32);
	crypto_hash_sha512_update(&h, (const uint8_t *)tag, tlen);
	crypto_hash_sha512_update(&h, msg, len);
	crypto_hash_sha512_final(&h, kh);
	crypto_core_ed25519_scalar_reduce(k, kh);
	crypto_core_ed25519_scalar_mul(ka, k, a);
	crypto_core_ed25519_scalar_add(S, r, ka);
	memcpy(sig, R, 32);
	memcpy(sig + 32, S, 32);
	sodium_memzero(az, sizeof az);
	sodium_memzero(a, sizeof a);
	sodium_memzero(wide, sizeof wide);
	TB_ASSERT(tb_verify(sig, kp->pk.b, ctx, msg, len) == 0);
}

size_t tb_rogue_resign(uint8_t out[TB_ENTRY_MAX], const uint8_t *rec, size_t len,
		       const struct tb_keypair *kp, uint32_t salt)
{
	TB_ASSERT(len > TB_SIGLEN && len <= TB_ENTRY_MAX);
	memcpy(out, rec, len - TB_SIGLEN);
	tb_rogue_sign_again(out + len - TB_SIGLEN, kp, TB_CTX_ENTRY, rec, len - TB_SIGLEN, salt);
	TB_ASSERT(memcmp(out + len - TB_SIGLEN, rec + len - TB_SIGLEN, TB_SIGLEN));
	return len;
}
