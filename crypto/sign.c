/*
 * sign.c: library start-up, randomness, Ed25519 key pairs and the
 * domain-separated signatures of Tally. What is signed is always the context's
 * tag, including its NUL, followed by the message, so a signature made in one
 * context can never be replayed in another. Never sign or verify bare bytes,
 * never leave a secret behind in memory we release, and never report a
 * signature as valid when anything on the way failed.
 */
#include "tb_crypto.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Messages up to this size (plus their tag) are assembled on the stack. */
#define TB_SIGN_STACK_LEN 9216

_Static_assert(TB_PUBKEY_LEN == crypto_sign_ed25519_PUBLICKEYBYTES, "public key size");
_Static_assert(TB_SECKEY_LEN == crypto_sign_ed25519_SECRETKEYBYTES, "secret key size");
_Static_assert(TB_SEED_LEN == crypto_sign_ed25519_SEEDBYTES, "seed size");
_Static_assert(TB_SIG_LEN == crypto_sign_ed25519_BYTES, "signature size");

static const char *const tb_sigctx_tags[TB_CTX__COUNT] = {
#define TB__TAG(name, tag) [TB_CTX_##name] = tag,
	TB_SIGCTX_MAP(TB__TAG)
#undef TB__TAG
};

int tb_crypto_init(void)
{
	return sodium_init() < 0 ? TB_EINVAL : 0;
}

void tb_random(void *buf, size_t len)
{
	randombytes_buf(buf, len);
}

void tb_keypair_generate(struct tb_keypair *kp)
{
	crypto_sign_ed25519_keypair(kp->pk.b, kp->sk);
}

void tb_keypair_from_seed(struct tb_keypair *kp, const uint8_t seed[TB_SEED_LEN])
{
	crypto_sign_ed25519_seed_keypair(kp->pk.b, kp->sk, seed);
}

void tb_keypair_seed(uint8_t seed[TB_SEED_LEN], const struct tb_keypair *kp)
{
	crypto_sign_ed25519_sk_to_seed(seed, kp->sk);
}

void tb_keypair_wipe(struct tb_keypair *kp)
{
	sodium_memzero(kp->sk, sizeof kp->sk);
}

void tb_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

/* Contexts come from our own code, never from input: a bad one is a bug. */
const char *tb_sigctx_tag(enum tb_sigctx ctx)
{
	TB_ASSERT((unsigned)ctx < TB_CTX__COUNT);
	return tb_sigctx_tags[ctx];
}

/*
 * Builds tag(ctx) || msg in stack (TB_SIGN_STACK_LEN bytes) or, for a longer
 * message, in a malloc'd buffer that *heap points to (the caller frees it).
 * Returns the buffer, or NULL if it could not be allocated.
 */
static uint8_t *tb_sign_message(uint8_t *stack, uint8_t **heap, size_t *total, enum tb_sigctx ctx,
				const uint8_t *msg, size_t len)
{
	const char *tag = tb_sigctx_tag(ctx);
	size_t taglen = strlen(tag) + 1;
	uint8_t *buf = stack;

	*heap = NULL;
	if (len > SIZE_MAX - taglen)
		return NULL;
	*total = taglen + len;
	if (*total > TB_SIGN_STACK_LEN) {
		*heap = malloc(*total);
		if (!*heap)
			return NULL;
		buf = *heap;
	}
	memcpy(buf, tag, taglen);
	if (len)
		memcpy(buf + taglen, msg, len);
	return buf;
}

void tb_sign(uint8_t sig[TB_SIG_LEN], const struct tb_keypair *kp, enum tb_sigctx ctx,
	     const uint8_t *msg, size_t len)
{
	uint8_t stack[TB_SIGN_STACK_LEN];
	uint8_t *heap;
	size_t total = 0;
	uint8_t *m = tb_sign_message(stack, &heap, &total, ctx, msg, len);

	/* No error return: running out of memory here is fatal. */
	TB_ASSERT(m != NULL);
	crypto_sign_ed25519_detached(sig, NULL, m, total, kp->sk);
	free(heap);
}

bool tb_pubkey_valid(const uint8_t pk[TB_PUBKEY_LEN])
{
	static const uint8_t zero[TB_PUBKEY_LEN];
	/* Rejects non-canonical encodings, points off the curve and those of
	 * small order (the all-zero encoding among them). */
	return sodium_memcmp(pk, zero, TB_PUBKEY_LEN) && crypto_core_ed25519_is_valid_point(pk);
}

int tb_verify(const uint8_t sig[TB_SIG_LEN], const uint8_t pk[TB_PUBKEY_LEN], enum tb_sigctx ctx,
	      const uint8_t *msg, size_t len)
{
	uint8_t stack[TB_SIGN_STACK_LEN];
	uint8_t *heap;
	size_t total = 0;
	uint8_t *m = tb_sign_message(stack, &heap, &total, ctx, msg, len);
	int ret;

	/* Out of memory says nothing about the signature: never EBADSIG. */
	if (!m)
		return TB_ENOMEM;
	ret = crypto_sign_ed25519_verify_detached(sig, m, total, pk) == 0 ? 0 : TB_EBADSIG;
	free(heap);
	return ret;
}

int tb_memcmp_ct(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0 ? 0 : -1;
}
