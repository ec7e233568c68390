/*
 * noise.c: the Noise handshake (revision 34) of the federation, patterns XX
 * and XXpsk3 with X25519, ChaCha20-Poly1305 (IETF, nonce = 4 zero bytes ||
 * 64-bit little-endian counter) and SHA-256 with its HMAC-based HKDF, and the
 * transport ciphers split from it. It follows the specification's objects
 * (CipherState, SymmetricState, HandshakeState) and names. Every length of a
 * message read is checked against the pattern once, before any byte is used.
 * Never keep a secret past its use (temporaries, a finished or failed
 * handshake are wiped), never let a failed handshake be continued, and never
 * reuse a nonce.
 */
#include "tb_noise.h"

#include <string.h>

#include <sodium.h>

_Static_assert(TB_NOISE_KEY_LEN == crypto_scalarmult_BYTES, "X25519 key size");
_Static_assert(TB_NOISE_KEY_LEN == crypto_scalarmult_SCALARBYTES, "X25519 secret size");
_Static_assert(TB_NOISE_KEY_LEN == crypto_aead_chacha20poly1305_ietf_KEYBYTES, "cipher key size");
_Static_assert(TB_NOISE_TAG_LEN == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12, "nonce size");
_Static_assert(TB_NOISE_HASH_LEN == crypto_hash_sha256_BYTES, "hash size");
_Static_assert(TB_NOISE_HASH_LEN == crypto_auth_hmacsha256_BYTES, "HMAC size");

#define KEYLEN TB_NOISE_KEY_LEN
#define HASHLEN TB_NOISE_HASH_LEN
#define TAGLEN TB_NOISE_TAG_LEN

/* Spec 8: protocol names. The XX one is exactly HASHLEN bytes long. */
static const char name_xx[] = "Noise_XX_25519_ChaChaPoly_SHA256";
static const char name_xxpsk3[] = "Noise_XXpsk3_25519_ChaChaPoly_SHA256";

/* A valid pointer for empty inputs, which may be given as NULL. */
static const uint8_t empty[1];

/* ---- the message pattern ---- */

enum tok { TOK_END = 0, TOK_E, TOK_S, TOK_EE, TOK_ES, TOK_SE, TOK_PSK };

/*
 * Spec 7.5 and 9.2: XX, and XXpsk3 which appends psk to the third message.
 * TOK_PSK is skipped without a PSK, which leaves plain XX.
 */
/* clang-format off */
static const enum tok pattern_xx[3][5] = {
	{ TOK_E },                        /* -> e */
	{ TOK_E, TOK_EE, TOK_S, TOK_ES }, /* <- e, ee, s, es */
	{ TOK_S, TOK_SE, TOK_PSK },       /* -> s, se, psk */
};
/* clang-format on */

static int has_psk(const struct tb_noise_hs *hs)
{
	return hs->pattern == TB_NOISE_XXPSK3;
}

/* Message i is written by the initiator when i is even. */
static int my_turn_to_write(const struct tb_noise_hs *hs)
{
	return (hs->msg % 2 == 0) == (hs->role == TB_NOISE_INITIATOR);
}

/*
 * Bytes of the next message besides the payload itself: keys, the encrypted
 * static key and every tag, payload tag included. Simulates when the cipher
 * gets its key, exactly as the token loop below does.
 */
static size_t msg_overhead(const struct tb_noise_hs *hs)
{
	const enum tok *t = pattern_xx[hs->msg];
	int has_key = hs->cipher.has_key;
	size_t n = 0;

	for (; *t != TOK_END; t++) {
		switch (*t) {
		case TOK_E:
			n += KEYLEN;
			if (has_psk(hs))
				has_key = 1;
			break;
		case TOK_S:
			n += KEYLEN + (has_key ? TAGLEN : 0);
			break;
		case TOK_EE:
		case TOK_ES:
		case TOK_SE:
			has_key = 1;
			break;
		case TOK_PSK:
			if (has_psk(hs))
				has_key = 1;
			break;
		case TOK_END:
			TB_ASSERT(0);
		}
	}
	return n + (has_key ? TAGLEN : 0);
}

/* ---- HMAC-SHA256 and HKDF (spec 4.3) ---- */

static void hmac(uint8_t out[HASHLEN], const uint8_t key[HASHLEN], const uint8_t *a, size_t alen,
		 const uint8_t *b, size_t blen)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, HASHLEN);
	if (alen)
		crypto_auth_hmacsha256_update(&st, a, alen);
	if (blen)
		crypto_auth_hmacsha256_update(&st, b, blen);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof st);
}

/* HKDF(ck, ikm) with two or (o3 not NULL) three outputs; outputs may alias ck. */
static void hkdf(const uint8_t ck[HASHLEN], const uint8_t *ikm, size_t ikm_len, uint8_t o1[HASHLEN],
		 uint8_t o2[HASHLEN], uint8_t *o3)
{
	static const uint8_t one = 0x01, two = 0x02, three = 0x03;
	uint8_t temp[HASHLEN], t1[HASHLEN], t2[HASHLEN], t3[HASHLEN];

	hmac(temp, ck, ikm, ikm_len, NULL, 0);
	hmac(t1, temp, &one, 1, NULL, 0);
	hmac(t2, temp, t1, HASHLEN, &two, 1);
	if (o3) {
		hmac(t3, temp, t2, HASHLEN, &three, 1);
		memcpy(o3, t3, HASHLEN);
	}
	memcpy(o1, t1, HASHLEN);
	memcpy(o2, t2, HASHLEN);
	sodium_memzero(temp, sizeof temp);
	sodium_memzero(t1, sizeof t1);
	sodium_memzero(t2, sizeof t2);
	sodium_memzero(t3, sizeof t3);
}

/* ---- CipherState (spec 5.1) ---- */

static void cipher_init(struct tb_noise_cipher *c, const uint8_t k[KEYLEN])
{
	memcpy(c->k, k, KEYLEN);
	c->n = 0;
	c->has_key = 1;
}

static void nonce_of(uint8_t nonce[12], uint64_t n)
{
	int i;

	memset(nonce, 0, 4);
	for (i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* EncryptWithAd with a key set: out gets len + TAGLEN bytes. */
static int cipher_encrypt(struct tb_noise_cipher *c, const uint8_t *ad, size_t adlen,
			  const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12];
	unsigned long long clen;

	TB_ASSERT(c->has_key);
	if (c->n == UINT64_MAX) /* 2^64 - 1 is reserved (spec 5.1) */
		return TB_EFULL;
	nonce_of(nonce, c->n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, len ? pt : empty, len, ad, adlen,
						  NULL, nonce, c->k);
	TB_ASSERT(clen == len + TAGLEN);
	c->n++;
	return 0;
}

/* DecryptWithAd with a key set: len >= TAGLEN; n advances only on success. */
static int cipher_decrypt(struct tb_noise_cipher *c, const uint8_t *ad, size_t adlen,
			  const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[12];
	unsigned long long plen;

	TB_ASSERT(c->has_key && len >= TAGLEN && out);
	if (c->n == UINT64_MAX)
		return TB_EFULL;
	nonce_of(nonce, c->n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, ct, len, ad, adlen, nonce,
						      c->k) != 0)
		return TB_EBADSIG;
	TB_ASSERT(plen == len - TAGLEN);
	c->n++;
	return 0;
}

/* ---- SymmetricState (spec 5.2) ---- */

static void mix_hash(struct tb_noise_hs *hs, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, hs->h, HASHLEN);
	if (len)
		crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, hs->h);
	sodium_memzero(&st, sizeof st);
}

static void mix_key(struct tb_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t k[KEYLEN];

	hkdf(hs->ck, ikm, len, hs->ck, k, NULL);
	cipher_init(&hs->cipher, k);
	sodium_memzero(k, sizeof k);
}

static void mix_key_and_hash(struct tb_noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t th[HASHLEN], k[KEYLEN];

	hkdf(hs->ck, ikm, len, hs->ck, th, k);
	mix_hash(hs, th, HASHLEN);
	cipher_init(&hs->cipher, k);
	sodium_memzero(th, sizeof th);
	sodium_memzero(k, sizeof k);
}

/* Writes len bytes, or len + TAGLEN once a key is set, to out. */
static int encrypt_and_hash(struct tb_noise_hs *hs, const uint8_t *pt, size_t len, uint8_t *out,
			    size_t *out_len)
{
	int err;

	*out_len = 0;
	if (hs->cipher.has_key) {
		err = cipher_encrypt(&hs->cipher, hs->h, HASHLEN, pt, len, out);
		if (err)
			return err;
		*out_len = len + TAGLEN;
	} else {
		if (len)
			memcpy(out, pt, len);
		*out_len = len;
	}
	mix_hash(hs, out, *out_len);
	return 0;
}

/* ct is len bytes; with a key, len >= TAGLEN (checked by the caller). */
static int decrypt_and_hash(struct tb_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
	int err;

	if (hs->cipher.has_key) {
		err = cipher_decrypt(&hs->cipher, hs->h, HASHLEN, ct, len, out);
		if (err)
			return err;
	} else if (len) {
		memcpy(out, ct, len);
	}
	mix_hash(hs, ct, len);
	return 0;
}

/* ---- HandshakeState (spec 5.3) ---- */

/*
 * DH(secret, public) into the key. X25519 of a small-order point is all zero;
 * libsodium refuses it and so do we (spec 12.1 allows it): no honest peer
 * sends one.
 */
static int mix_dh(struct tb_noise_hs *hs, const uint8_t secret[KEYLEN],
		  const uint8_t public_key[KEYLEN])
{
	uint8_t shared[KEYLEN];
	int err = 0;

	if (crypto_scalarmult(shared, secret, public_key) != 0)
		err = TB_EBADSIG;
	else
		mix_key(hs, shared, KEYLEN);
	sodium_memzero(shared, sizeof shared);
	return err;
}

/* ee, es, se: the first letter is the initiator's key, the second the responder's. */
static int dh_token(struct tb_noise_hs *hs, enum tok t)
{
	int init = hs->role == TB_NOISE_INITIATOR;

	switch (t) {
	case TOK_EE:
		return mix_dh(hs, hs->e_secret, hs->re);
	case TOK_ES:
		return init ? mix_dh(hs, hs->e_secret, hs->rs) : mix_dh(hs, hs->s_secret, hs->re);
	case TOK_SE:
		return init ? mix_dh(hs, hs->s_secret, hs->re) : mix_dh(hs, hs->e_secret, hs->rs);
	case TOK_END:
	case TOK_E:
	case TOK_S:
	case TOK_PSK:
		break;
	}
	TB_ASSERT(0);
	return TB_EINVAL;
}

static void wipe_hs(struct tb_noise_hs *hs)
{
	sodium_memzero(hs, sizeof *hs); /* live = 0: dead */
}

static void zero_out(uint8_t *out, size_t cap, size_t bound)
{
	if (out && cap)
		memset(out, 0, cap < bound ? cap : bound);
}

int tb_noise_init(struct tb_noise_hs *hs, enum tb_noise_role role, const uint8_t *prologue,
		  size_t prologue_len, const uint8_t psk[TB_NOISE_KEY_LEN],
		  const uint8_t static_secret[TB_NOISE_KEY_LEN], const uint8_t *ephemeral_secret)
{
	const char *name;
	size_t name_len;

	if (!hs)
		return TB_EINVAL;
	wipe_hs(hs);
	if ((role != TB_NOISE_INITIATOR && role != TB_NOISE_RESPONDER) || !static_secret ||
	    (!prologue && prologue_len))
		return TB_EINVAL;
	hs->role = role;
	hs->pattern = psk ? TB_NOISE_XXPSK3 : TB_NOISE_XX;

	/* InitializeSymmetric(protocol_name) */
	name = psk ? name_xxpsk3 : name_xx;
	name_len = strlen(name);
	if (name_len <= HASHLEN)
		memcpy(hs->h, name, name_len); /* zero padded by the wipe */
	else
		crypto_hash_sha256(hs->h, (const uint8_t *)name, name_len);
	memcpy(hs->ck, hs->h, HASHLEN);
	mix_hash(hs, prologue, prologue_len);

	memcpy(hs->s_secret, static_secret, KEYLEN);
	tb_noise_public_key(hs->s_public, hs->s_secret);
	if (ephemeral_secret)
		memcpy(hs->e_secret, ephemeral_secret, KEYLEN);
	else
		randombytes_buf(hs->e_secret, KEYLEN);
	tb_noise_public_key(hs->e_public, hs->e_secret);
	if (psk)
		memcpy(hs->psk, psk, KEYLEN);
	hs->live = 1;
	return 0;
}

/* WriteMessage; the caller checked that it is our turn and out fits. */
static int write_tokens(struct tb_noise_hs *hs, const uint8_t *payload, size_t len, uint8_t *out,
			size_t *out_len)
{
	const enum tok *t = pattern_xx[hs->msg];
	size_t pos = 0, n = 0;
	int err = 0;

	for (; *t != TOK_END && !err; t++) {
		switch (*t) {
		case TOK_E:
			memcpy(out + pos, hs->e_public, KEYLEN);
			pos += KEYLEN;
			mix_hash(hs, hs->e_public, KEYLEN);
			if (has_psk(hs)) /* spec 9.2 */
				mix_key(hs, hs->e_public, KEYLEN);
			break;
		case TOK_S:
			err = encrypt_and_hash(hs, hs->s_public, KEYLEN, out + pos, &n);
			pos += n;
			break;
		case TOK_EE:
		case TOK_ES:
		case TOK_SE:
			err = dh_token(hs, *t);
			break;
		case TOK_PSK:
			if (has_psk(hs))
				mix_key_and_hash(hs, hs->psk, KEYLEN);
			break;
		case TOK_END:
			TB_ASSERT(0);
		}
	}
	if (!err)
		err = encrypt_and_hash(hs, payload, len, out + pos, &n);
	if (err)
		return err;
	*out_len = pos + n;
	return 0;
}

int tb_noise_write(struct tb_noise_hs *hs, const uint8_t *payload, size_t len, uint8_t *out,
		   size_t cap, size_t *out_len)
{
	size_t overhead;
	int err;

	if (out_len)
		*out_len = 0;
	if (!hs)
		return TB_EINVAL;
	if (!out_len || !hs->live || hs->msg >= 3 || !my_turn_to_write(hs) || (!payload && len) ||
	    (!out && cap)) {
		err = TB_EINVAL;
		goto fail;
	}
	overhead = msg_overhead(hs);
	if (len > TB_NOISE_MAX_MSG - overhead || overhead + len > cap) {
		err = TB_ETOOBIG;
		goto fail;
	}
	err = write_tokens(hs, payload, len, out, out_len);
	if (err)
		goto fail;
	TB_ASSERT(*out_len == overhead + len);
	hs->msg++;
	return 0;
fail:
	wipe_hs(hs);
	zero_out(out, cap, TB_NOISE_MAX_MSG);
	if (out_len)
		*out_len = 0;
	return err;
}

/* ReadMessage; the caller checked the turn and that len >= the overhead. */
static int read_tokens(struct tb_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload)
{
	const enum tok *t = pattern_xx[hs->msg];
	size_t pos = 0, n;
	int err = 0;

	for (; *t != TOK_END && !err; t++) {
		switch (*t) {
		case TOK_E:
			memcpy(hs->re, msg + pos, KEYLEN);
			pos += KEYLEN;
			mix_hash(hs, hs->re, KEYLEN);
			if (has_psk(hs)) /* spec 9.2 */
				mix_key(hs, hs->re, KEYLEN);
			break;
		case TOK_S:
			n = KEYLEN + (hs->cipher.has_key ? TAGLEN : 0);
			err = decrypt_and_hash(hs, msg + pos, n, hs->rs);
			pos += n;
			break;
		case TOK_EE:
		case TOK_ES:
		case TOK_SE:
			err = dh_token(hs, *t);
			break;
		case TOK_PSK:
			if (has_psk(hs))
				mix_key_and_hash(hs, hs->psk, KEYLEN);
			break;
		case TOK_END:
			TB_ASSERT(0);
		}
	}
	if (!err)
		err = decrypt_and_hash(hs, msg + pos, len - pos, payload);
	return err;
}

int tb_noise_read(struct tb_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
		  size_t cap, size_t *payload_len)
{
	uint8_t dummy[1];
	size_t overhead;
	int err;

	if (payload_len)
		*payload_len = 0;
	if (!hs)
		return TB_EINVAL;
	if (!payload_len || !hs->live || hs->msg >= 3 || my_turn_to_write(hs) || (!msg && len) ||
	    (!payload && cap)) {
		err = TB_EINVAL;
		goto fail;
	}
	if (len > TB_NOISE_MAX_MSG) {
		err = TB_ETOOBIG;
		goto fail;
	}
	overhead = msg_overhead(hs);
	if (len < overhead) {
		err = TB_ETRUNCATED;
		goto fail;
	}
	if (len - overhead > cap) {
		err = TB_ETOOBIG;
		goto fail;
	}
	err = read_tokens(hs, msg, len, cap ? payload : dummy);
	if (err)
		goto fail;
	hs->msg++;
	*payload_len = len - overhead;
	return 0;
fail:
	wipe_hs(hs);
	zero_out(payload, cap, len);
	return err;
}

int tb_noise_done(const struct tb_noise_hs *hs)
{
	return hs && hs->live && hs->msg == 3;
}

int tb_noise_split(struct tb_noise_hs *hs, struct tb_noise_cipher *send,
		   struct tb_noise_cipher *recv, uint8_t handshake_hash[TB_NOISE_HASH_LEN],
		   uint8_t remote_static[TB_NOISE_KEY_LEN])
{
	uint8_t k1[KEYLEN], k2[KEYLEN];
	int init;

	if (!send || !recv || !handshake_hash || !remote_static || !tb_noise_done(hs)) {
		if (send)
			sodium_memzero(send, sizeof *send);
		if (recv)
			sodium_memzero(recv, sizeof *recv);
		if (handshake_hash)
			memset(handshake_hash, 0, HASHLEN);
		if (remote_static)
			memset(remote_static, 0, KEYLEN);
		if (hs)
			wipe_hs(hs);
		return TB_EINVAL;
	}
	/* Split(): k1 is the initiator's sending key, k2 the responder's. */
	hkdf(hs->ck, NULL, 0, k1, k2, NULL);
	init = hs->role == TB_NOISE_INITIATOR;
	cipher_init(send, init ? k1 : k2);
	cipher_init(recv, init ? k2 : k1);
	memcpy(handshake_hash, hs->h, HASHLEN);
	memcpy(remote_static, hs->rs, KEYLEN);
	sodium_memzero(k1, sizeof k1);
	sodium_memzero(k2, sizeof k2);
	wipe_hs(hs);
	return 0;
}

/* ---- transport ---- */

int tb_noise_encrypt(struct tb_noise_cipher *c, const uint8_t *pt, size_t len, uint8_t *out,
		     size_t cap, size_t *out_len)
{
	int err;

	if (out_len)
		*out_len = 0;
	if (!c || !out_len || !c->has_key || (!pt && len) || !out) {
		err = TB_EINVAL;
		goto fail;
	}
	if (len > TB_NOISE_MAX_MSG - TAGLEN || len + TAGLEN > cap) {
		err = TB_ETOOBIG;
		goto fail;
	}
	err = cipher_encrypt(c, NULL, 0, pt, len, out);
	if (err)
		goto fail;
	*out_len = len + TAGLEN;
	return 0;
fail:
	zero_out(out, cap, TB_NOISE_MAX_MSG);
	return err;
}

int tb_noise_decrypt(struct tb_noise_cipher *c, const uint8_t *ct, size_t len, uint8_t *out,
		     size_t cap, size_t *out_len)
{
	uint8_t dummy[1];
	int err;

	if (out_len)
		*out_len = 0;
	if (!c || !out_len || !c->has_key || (!ct && len) || (!out && cap)) {
		err = TB_EINVAL;
		goto fail;
	}
	if (len > TB_NOISE_MAX_MSG) {
		err = TB_ETOOBIG;
		goto fail;
	}
	if (len < TAGLEN) {
		err = TB_ETRUNCATED;
		goto fail;
	}
	if (len - TAGLEN > cap) {
		err = TB_ETOOBIG;
		goto fail;
	}
	err = cipher_decrypt(c, NULL, 0, ct, len, cap ? out : dummy);
	if (err)
		goto fail;
	*out_len = len - TAGLEN;
	return 0;
fail:
	zero_out(out, cap, len);
	return err;
}

/* ---- keys ---- */

void tb_noise_public_key(uint8_t public_key[TB_NOISE_KEY_LEN],
			 const uint8_t secret[TB_NOISE_KEY_LEN])
{
	/* Never fails: a clamped scalar is never zero. */
	int rc = crypto_scalarmult_base(public_key, secret);

	TB_ASSERT(rc == 0);
}

void tb_noise_keypair(uint8_t secret[TB_NOISE_KEY_LEN], uint8_t public_key[TB_NOISE_KEY_LEN])
{
	randombytes_buf(secret, KEYLEN);
	tb_noise_public_key(public_key, secret);
}
