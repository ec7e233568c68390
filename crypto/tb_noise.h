/*
 * tb_noise.h: the Noise handshake of the federation (Noise Protocol Framework
 * revision 34), patterns XX and XXpsk3 over 25519, ChaChaPoly and SHA-256,
 * and the transport ciphers it yields.
 *
 *   XX:      -> e
 *            <- e, ee, s, es
 *            -> s, se
 *   XXpsk3:  the same, with psk at the end of the third message; with a PSK
 *            every "e" token also mixes e.public into the key.
 *
 * The federation key is the PSK, so a stranger cannot complete a handshake.
 * All state is fixed-size and embedded by value; nothing is allocated. Secrets
 * are wiped when a handshake is split and on every failure: any error from
 * tb_noise_write, tb_noise_read or tb_noise_split wipes the whole handshake
 * state, which then refuses every call (TB_EINVAL) until tb_noise_init. An
 * all-zero struct tb_noise_hs is such a dead state.
 *
 * Errors: TB_EINVAL for bad arguments or a call in the wrong order,
 * TB_ETRUNCATED for a message shorter than the keys and tags it must hold,
 * TB_ETOOBIG for a message over TB_NOISE_MAX_MSG or an output that does not
 * fit its cap, TB_EBADSIG for a failed authentication (a tag that does not
 * verify, or a peer key giving an all-zero Diffie-Hellman result), TB_EFULL
 * when a cipher's nonces are used up. Outputs are zeroed on failure. Inputs
 * and outputs must not overlap.
 */
#ifndef TB_NOISE_H
#define TB_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/tb_err.h"

/* The largest Noise message, handshake or transport, tag included. */
#define TB_NOISE_MAX_MSG 65535
#define TB_NOISE_KEY_LEN 32 /* X25519 keys, cipher keys, PSK */
#define TB_NOISE_HASH_LEN 32
#define TB_NOISE_TAG_LEN 16

enum tb_noise_role { TB_NOISE_INITIATOR, TB_NOISE_RESPONDER };
enum tb_noise_pattern { TB_NOISE_XX, TB_NOISE_XXPSK3 };

/* A CipherState: key, next nonce, and whether a key is set. */
struct tb_noise_cipher {
	uint8_t k[TB_NOISE_KEY_LEN];
	uint64_t n;
	int has_key;
};

/* A HandshakeState with its SymmetricState. Only noise.c reads the fields. */
struct tb_noise_hs {
	struct tb_noise_cipher cipher;
	uint8_t ck[TB_NOISE_HASH_LEN];
	uint8_t h[TB_NOISE_HASH_LEN];
	uint8_t s_secret[TB_NOISE_KEY_LEN];
	uint8_t s_public[TB_NOISE_KEY_LEN];
	uint8_t e_secret[TB_NOISE_KEY_LEN];
	uint8_t e_public[TB_NOISE_KEY_LEN];
	uint8_t rs[TB_NOISE_KEY_LEN];
	uint8_t re[TB_NOISE_KEY_LEN];
	uint8_t psk[TB_NOISE_KEY_LEN];
	enum tb_noise_role role;
	enum tb_noise_pattern pattern;
	unsigned msg; /* handshake messages processed so far, 0..3 */
	int live;     /* 1 from init until split or a failure */
};

/*
 * Starts a handshake. psk NULL gives plain XX, else XXpsk3 with that key.
 * static_secret is this node's X25519 private key. ephemeral_secret is NULL
 * (a fresh random key) except in test vectors. The prologue is any bytes both
 * sides must agree on (NULL only with length 0). On error hs is dead.
 */
TB_MUST_CHECK int tb_noise_init(struct tb_noise_hs *hs, enum tb_noise_role role,
				const uint8_t *prologue, size_t prologue_len,
				const uint8_t psk[TB_NOISE_KEY_LEN],
				const uint8_t static_secret[TB_NOISE_KEY_LEN],
				const uint8_t *ephemeral_secret);

/*
 * Writes the next handshake message, carrying payload (len bytes, NULL only
 * if len is 0), into out (cap bytes); *out_len is its length. TB_EINVAL if it
 * is not this side's turn to write.
 */
TB_MUST_CHECK int tb_noise_write(struct tb_noise_hs *hs, const uint8_t *payload, size_t len,
				 uint8_t *out, size_t cap, size_t *out_len);

/*
 * Reads the next handshake message (len bytes) and writes its payload into
 * payload (cap bytes; NULL only if cap is 0); *payload_len is its length.
 * TB_EINVAL if it is not this side's turn to read.
 */
TB_MUST_CHECK int tb_noise_read(struct tb_noise_hs *hs, const uint8_t *msg, size_t len,
				uint8_t *payload, size_t cap, size_t *payload_len);

/* 1 once the third message is written or read (and before split), else 0. */
int tb_noise_done(const struct tb_noise_hs *hs);

/*
 * After done: this side's transport ciphers (send, recv), the handshake hash
 * (to sign, proving an identity over this very session) and the peer's static
 * public key. Wipes hs, which is dead afterwards.
 */
TB_MUST_CHECK int tb_noise_split(struct tb_noise_hs *hs, struct tb_noise_cipher *send,
				 struct tb_noise_cipher *recv,
				 uint8_t handshake_hash[TB_NOISE_HASH_LEN],
				 uint8_t remote_static[TB_NOISE_KEY_LEN]);

/*
 * Transport messages: out = ciphertext || tag (len + TB_NOISE_TAG_LEN bytes),
 * no associated data, the nonce is the cipher's counter. A message that fails
 * to decrypt (TB_EBADSIG) does not advance the counter, so a replayed or
 * reordered ciphertext is refused and the expected one still decrypts.
 */
TB_MUST_CHECK int tb_noise_encrypt(struct tb_noise_cipher *c, const uint8_t *pt, size_t len,
				   uint8_t *out, size_t cap, size_t *out_len);
TB_MUST_CHECK int tb_noise_decrypt(struct tb_noise_cipher *c, const uint8_t *ct, size_t len,
				   uint8_t *out, size_t cap, size_t *out_len);

/* A fresh X25519 key pair. Wipe the secret with tb_wipe (tb_crypto.h). */
void tb_noise_keypair(uint8_t secret[TB_NOISE_KEY_LEN], uint8_t public_key[TB_NOISE_KEY_LEN]);
/* The X25519 public key of a private key. */
void tb_noise_public_key(uint8_t public_key[TB_NOISE_KEY_LEN],
			 const uint8_t secret[TB_NOISE_KEY_LEN]);

#endif
