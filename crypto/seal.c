/*
 * seal.c: the secret of a routed exchange sealed to the payee's community
 * (PROTOCOL.md 12.8): a libsodium sealed box (an ephemeral X25519 key, then
 * XSalsa20-Poly1305) to the community's Ed25519 log key converted to X25519,
 * so only the holder of that community's key opens it. Never leave a
 * converted secret key behind.
 */
#include "tb_crypto.h"

#include <string.h>

#include <sodium.h>

_Static_assert(TB_SEALED_LEN(0) == crypto_box_SEALBYTES, "sealed box overhead");

int tb_seal(uint8_t *out, const uint8_t *msg, size_t len, const struct tb_pubkey *to)
{
	uint8_t x[crypto_box_PUBLICKEYBYTES];
	if (crypto_sign_ed25519_pk_to_curve25519(x, to->b))
		return TB_EINVAL;
	return crypto_box_seal(out, msg, len, x) ? TB_EINVAL : 0;
}

int tb_seal_open(uint8_t *out, const uint8_t *box, size_t boxlen, const struct tb_keypair *kp)
{
	uint8_t xpk[crypto_box_PUBLICKEYBYTES], xsk[crypto_box_SECRETKEYBYTES];
	if (boxlen < crypto_box_SEALBYTES || crypto_sign_ed25519_pk_to_curve25519(xpk, kp->pk.b) ||
	    crypto_sign_ed25519_sk_to_curve25519(xsk, kp->sk))
		return TB_EINVAL;
	int rc = crypto_box_seal_open(out, box, boxlen, xpk, xsk);
	sodium_memzero(xsk, sizeof xsk);
	return rc ? TB_EBADSIG : 0;
}
