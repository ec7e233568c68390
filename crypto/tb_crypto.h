/*
 * tb_crypto.h: the crypto module, the only code that includes sodium.h.
 *
 * Keys (Ed25519, for the community node and each member), domain-separated
 * signatures, batch verification on several threads, SHA-256 with the RFC 6962
 * leaf and node prefixes, and passphrase-encrypted key files (Argon2id +
 * XSalsa20-Poly1305 secretbox). Secrets are wiped before their memory is
 * released; outputs are defined (zeroed) on every failure path.
 */
#ifndef TB_CRYPTO_H
#define TB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/tb_err.h"

#define TB_PUBKEY_LEN 32
#define TB_SEED_LEN 32
#define TB_SECKEY_LEN 64
#define TB_SIG_LEN 64
#define TB_HASH_LEN 32

struct tb_pubkey {
	uint8_t b[TB_PUBKEY_LEN];
};

struct tb_keypair {
	struct tb_pubkey pk;
	uint8_t sk[TB_SECKEY_LEN]; /* libsodium's seed||pk form */
};

/*
 * Context of a signature. The signed bytes are the context's tag (ASCII,
 * including its terminating NUL) followed by the message, so a signature made
 * for one context never verifies in another. Tags are listed in FORMAT.md;
 * never change one, only add new contexts at the end.
 */
#define TB_SIGCTX_MAP(X)                     \
	X(ENTRY, "tally/entry/v1")           \
	X(EXCHANGE, "tally/exchange/v1")     \
	X(REVERSAL, "tally/reversal/v1")     \
	X(CHECKPOINT, "tally/checkpoint/v1") \
	X(HANDSHAKE, "tally/handshake/v1")   \
	X(XPREPARE, "tally/xprepare/v1")     \
	X(SUCCESSION, "tally/succession/v1") \
	X(LISTING, "tally/listing/v1")       \
	X(LISTED, "tally/listed/v1")         \
	X(SIGNIN, "tally/signin/v1")         \
	X(ANSWER, "tally/answer/v1")

enum tb_sigctx {
#define TB__CTX(name, tag) TB_CTX_##name,
	TB_SIGCTX_MAP(TB__CTX)
#undef TB__CTX
		TB_CTX__COUNT
};

/* The tag string of a context (for docs and tests). */
const char *tb_sigctx_tag(enum tb_sigctx ctx);

/* Call once before anything else; returns 0 or TB_EINVAL if libsodium fails. */
TB_MUST_CHECK int tb_crypto_init(void);

void tb_random(void *buf, size_t len);

void tb_keypair_generate(struct tb_keypair *kp);
void tb_keypair_from_seed(struct tb_keypair *kp, const uint8_t seed[TB_SEED_LEN]);
/* The 32-byte seed of a key pair (what key files store). */
void tb_keypair_seed(uint8_t seed[TB_SEED_LEN], const struct tb_keypair *kp);
/* Overwrites the secret with zeros. */
void tb_keypair_wipe(struct tb_keypair *kp);
void tb_wipe(void *p, size_t len);

/* Signs tag(ctx) || msg. Never fails for valid arguments. */
void tb_sign(uint8_t sig[TB_SIG_LEN], const struct tb_keypair *kp, enum tb_sigctx ctx,
	     const uint8_t *msg, size_t len);

/* Whether pk can be a member's or node's public key: a canonical Ed25519
 * point on the curve, not of small order, not all zero. */
TB_MUST_CHECK bool tb_pubkey_valid(const uint8_t pk[TB_PUBKEY_LEN]);

/*
 * 0 if sig is kp's signature of tag(ctx) || msg, else TB_EBADSIG; TB_ENOMEM
 * (never TB_EBADSIG) if a long message could not be copied to add its tag.
 */
TB_MUST_CHECK int tb_verify(const uint8_t sig[TB_SIG_LEN], const uint8_t pk[TB_PUBKEY_LEN],
			    enum tb_sigctx ctx, const uint8_t *msg, size_t len);

/* One signature to check in a batch; result is written by tb_verify_batch. */
struct tb_verify_job {
	const uint8_t *sig; /* TB_SIG_LEN bytes */
	const uint8_t *pk;  /* TB_PUBKEY_LEN bytes */
	const uint8_t *msg;
	size_t len;
	enum tb_sigctx ctx;
	int result; /* out: 0, TB_EBADSIG or TB_ENOMEM */
};

/*
 * Verifies n jobs using up to nthreads threads (0 = one per online CPU).
 * Returns 0 if all verify, else TB_EBADSIG (each job's result says which);
 * TB_ENOMEM if no job is bad but some could not be checked for lack of memory.
 */
TB_MUST_CHECK int tb_verify_batch(struct tb_verify_job *jobs, size_t n, unsigned nthreads);
/*
 * A pool of worker threads that verify jobs while the caller goes on:
 * submit ranges as they are ready (the jobs must stay put until wait
 * returns), then wait, which also verifies on the calling thread if `helps`
 * (then workers + 1 threads verify, else workers). With 0 workers
 * everything runs in wait, on the caller's thread only.
 */
struct tb_verify_pool;
TB_MUST_CHECK int tb_verify_pool_new(struct tb_verify_pool **out, unsigned workers, bool helps);
void tb_verify_pool_free(struct tb_verify_pool *p);
void tb_verify_pool_submit(struct tb_verify_pool *p, struct tb_verify_job *jobs, size_t n);
/* Returns when every submitted job has its result. */
void tb_verify_pool_wait(struct tb_verify_pool *p);
/* Drops the jobs no thread has begun (their results are not written) and
 * returns when those begun are done: the jobs may then be freed. */
void tb_verify_pool_cancel(struct tb_verify_pool *p);

/* Number of online CPUs (at least 1). */
unsigned tb_cpu_count(void);

/* SHA-256. */
void tb_sha256(uint8_t out[TB_HASH_LEN], const uint8_t *data, size_t len);
/* Incremental SHA-256 for data that is not contiguous. */
struct tb_sha256_ctx {
	uint8_t opaque[128] __attribute__((aligned(8)));
};
void tb_sha256_init(struct tb_sha256_ctx *c);
void tb_sha256_update(struct tb_sha256_ctx *c, const uint8_t *data, size_t len);
void tb_sha256_final(struct tb_sha256_ctx *c, uint8_t out[TB_HASH_LEN]);
/* RFC 6962: leaf hash = SHA-256(0x00 || data). */
void tb_leaf_hash(uint8_t out[TB_HASH_LEN], const uint8_t *data, size_t len);
/* RFC 6962: node hash = SHA-256(0x01 || left || right). out may alias. */
void tb_node_hash(uint8_t out[TB_HASH_LEN], const uint8_t left[TB_HASH_LEN],
		  const uint8_t right[TB_HASH_LEN]);

/* Constant-time comparison: 0 if equal. */
int tb_memcmp_ct(const void *a, const void *b, size_t len);

/*
 * Key files: a fixed 140-byte layout (FORMAT.md, "Key files"): magic
 * "TALLYKEY", version, KDF id, Argon2id parameters, salt, nonce, the public key
 * in clear and the secretbox of the 32-byte seed.
 */
#define TB_KEYFILE_LEN 140

/* Argon2id cost. TB_KDF_INTERACTIVE is the default for every key file. */
enum tb_kdf_level { TB_KDF_INTERACTIVE, TB_KDF_MODERATE, TB_KDF_MIN };

/* Encrypts kp's seed under pass into out (TB_KEYFILE_LEN bytes). */
TB_MUST_CHECK int tb_keyfile_seal(uint8_t out[TB_KEYFILE_LEN], const struct tb_keypair *kp,
				  const char *pass, size_t passlen, enum tb_kdf_level level);
/*
 * Decrypts a key file image. TB_EKEYFILE if the layout, magic, version or
 * parameters are wrong (parameters are capped so a hostile file cannot demand
 * unbounded memory or time), TB_EPASSPHRASE if the passphrase is wrong or the
 * file was altered. kp is zeroed on failure.
 */
TB_MUST_CHECK int tb_keyfile_open(struct tb_keypair *kp, const uint8_t *in, size_t len,
				  const char *pass, size_t passlen);
/* Reads only the public key of a key file image (no passphrase needed). */
TB_MUST_CHECK int tb_keyfile_pubkey(struct tb_pubkey *pk, const uint8_t *in, size_t len);

/* Key files on disk: tb_keyfile_write and tb_keyfile_read (node/tb_file.h);
 * crypto/ does no I/O. */

/*
 * Password hashes (FORMAT.md, "Password hashes"): "TBPW", version 1, Argon2id
 * passes and memory (KiB), 16-byte salt, 32-byte hash, numbers big-endian.
 */
#define TB_PWHASH_LEN 64
/* Hashes a password with a fresh salt (about 19 MiB and a few ms of work). */
TB_MUST_CHECK int tb_pwhash(uint8_t out[TB_PWHASH_LEN], const char *pass, size_t passlen);
/* 0 if pass matches rec, TB_EPASSPHRASE if not, TB_ECORRUPT if rec is not a
 * password hash record or asks for more than the capped cost. */
TB_MUST_CHECK int tb_pwhash_verify(const uint8_t *rec, size_t len, const char *pass,
				   size_t passlen);

#endif
