/*
 * keyfile.c: passphrase-encrypted key files, a fixed 140-byte image:
 *
 *   0  magic "TALLYKEY"       8  version (1)        9  KDF id (1 = Argon2id v1.3)
 *   10 zero (2 bytes)         12 opslimit (u32 BE)  16 memlimit in KiB (u32 BE)
 *   20 salt (16)              36 nonce (24)         60 public key (32, clear)
 *   92 secretbox of the 32-byte seed (48)
 *
 * The key is Argon2id(pass, salt) and the seed is sealed with XSalsa20-
 * Poly1305. Never write a seed or derived key to disk in clear, never leave
 * one in memory we release, never let a file's parameters demand more than
 * the caps below, and never return a key pair whose public key differs from
 * the clear one.
 */
#include "tb_crypto.h"

#include <string.h>

#include <sodium.h>

#define TB_KF_MAGIC "TALLYKEY"
#define TB_KF_VERSION 1
#define TB_KF_KDF_ARGON2ID13 1

#define TB_KF_OFF_VERSION 8
#define TB_KF_OFF_KDF 9
#define TB_KF_OFF_RESERVED 10
#define TB_KF_OFF_OPS 12
#define TB_KF_OFF_MEM 16
#define TB_KF_OFF_SALT 20
#define TB_KF_OFF_NONCE 36
#define TB_KF_OFF_PK 60
#define TB_KF_OFF_BOX 92
#define TB_KF_BOX_LEN (TB_SEED_LEN + crypto_secretbox_MACBYTES)

/* Caps on what a file may ask for: 16 passes, 1 GiB. */
#define TB_KF_OPS_MAX 16U
#define TB_KF_MEM_MIN_KIB (crypto_pwhash_MEMLIMIT_MIN / 1024U)
#define TB_KF_MEM_MAX_KIB (1024U * 1024U)

_Static_assert(TB_KF_OFF_NONCE - TB_KF_OFF_SALT == crypto_pwhash_SALTBYTES, "salt size");
_Static_assert(TB_KF_OFF_PK - TB_KF_OFF_NONCE == crypto_secretbox_NONCEBYTES, "nonce size");
_Static_assert(TB_KF_OFF_BOX + TB_KF_BOX_LEN == TB_KEYFILE_LEN, "key file size");
_Static_assert(crypto_secretbox_KEYBYTES == 32, "secretbox key size");
_Static_assert(crypto_pwhash_MEMLIMIT_MIN % 1024U == 0, "memlimit in KiB");
_Static_assert(crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024U <= TB_KF_MEM_MAX_KIB &&
		       crypto_pwhash_MEMLIMIT_MODERATE / 1024U <= TB_KF_MEM_MAX_KIB,
	       "our own levels must pass our own caps");
_Static_assert(crypto_pwhash_OPSLIMIT_MODERATE <= TB_KF_OPS_MAX,
	       "our own levels must pass our own caps");

static void tb_kf_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t tb_kf_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Checks everything but the sealed seed; returns 0 or TB_EKEYFILE. */
static int tb_kf_check_layout(const uint8_t *in, size_t len, uint32_t *ops, uint32_t *mem_kib)
{
	if (!in || len != TB_KEYFILE_LEN)
		return TB_EKEYFILE;
	if (memcmp(in, TB_KF_MAGIC, 8) != 0 || in[TB_KF_OFF_VERSION] != TB_KF_VERSION ||
	    in[TB_KF_OFF_KDF] != TB_KF_KDF_ARGON2ID13 || in[TB_KF_OFF_RESERVED] != 0 ||
	    in[TB_KF_OFF_RESERVED + 1] != 0)
		return TB_EKEYFILE;
	*ops = tb_kf_get_u32(in + TB_KF_OFF_OPS);
	*mem_kib = tb_kf_get_u32(in + TB_KF_OFF_MEM);
	if (*ops < crypto_pwhash_OPSLIMIT_MIN || *ops > TB_KF_OPS_MAX)
		return TB_EKEYFILE;
	if (*mem_kib < TB_KF_MEM_MIN_KIB || *mem_kib > TB_KF_MEM_MAX_KIB)
		return TB_EKEYFILE;
	return 0;
}

/* Argon2id key from pass; 0, TB_EINVAL (passphrase too long) or TB_ENOMEM. */
static int tb_kf_derive(uint8_t key[crypto_secretbox_KEYBYTES], const char *pass, size_t passlen,
			const uint8_t *salt, uint32_t ops, uint32_t mem_kib)
{
	if (!pass) {
		if (passlen)
			return TB_EINVAL;
		pass = "";
	}
	if (passlen > crypto_pwhash_PASSWD_MAX)
		return TB_EINVAL;
	if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, passlen, salt, ops,
			  (size_t)mem_kib * 1024U, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, crypto_secretbox_KEYBYTES);
		return TB_ENOMEM;
	}
	return 0;
}

int tb_keyfile_seal(uint8_t out[TB_KEYFILE_LEN], const struct tb_keypair *kp, const char *pass,
		    size_t passlen, enum tb_kdf_level level)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t seed[TB_SEED_LEN];
	uint32_t ops = 0, mem = 0;
	int ret;

	memset(out, 0, TB_KEYFILE_LEN);
	switch (level) {
	case TB_KDF_INTERACTIVE:
		ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
		mem = crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024U;
		break;
	case TB_KDF_MODERATE:
		ops = crypto_pwhash_OPSLIMIT_MODERATE;
		mem = crypto_pwhash_MEMLIMIT_MODERATE / 1024U;
		break;
	case TB_KDF_MIN:
		ops = crypto_pwhash_OPSLIMIT_MIN;
		mem = crypto_pwhash_MEMLIMIT_MIN / 1024U;
		break;
	}
	if (ops == 0)
		return TB_EINVAL; /* not a tb_kdf_level */

	memcpy(out, TB_KF_MAGIC, 8);
	out[TB_KF_OFF_VERSION] = TB_KF_VERSION;
	out[TB_KF_OFF_KDF] = TB_KF_KDF_ARGON2ID13;
	tb_kf_put_u32(out + TB_KF_OFF_OPS, ops);
	tb_kf_put_u32(out + TB_KF_OFF_MEM, mem);
	randombytes_buf(out + TB_KF_OFF_SALT, crypto_pwhash_SALTBYTES);
	randombytes_buf(out + TB_KF_OFF_NONCE, crypto_secretbox_NONCEBYTES);
	memcpy(out + TB_KF_OFF_PK, kp->pk.b, TB_PUBKEY_LEN);

	ret = tb_kf_derive(key, pass, passlen, out + TB_KF_OFF_SALT, ops, mem);
	if (ret) {
		memset(out, 0, TB_KEYFILE_LEN);
		return ret;
	}
	tb_keypair_seed(seed, kp);
	crypto_secretbox_easy(out + TB_KF_OFF_BOX, seed, TB_SEED_LEN, out + TB_KF_OFF_NONCE, key);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(key, sizeof key);
	return 0;
}

int tb_keyfile_open(struct tb_keypair *kp, const uint8_t *in, size_t len, const char *pass,
		    size_t passlen)
{
	uint8_t key[crypto_secretbox_KEYBYTES];
	uint8_t seed[TB_SEED_LEN];
	uint32_t ops = 0, mem = 0;
	int ret;

	sodium_memzero(kp, sizeof *kp);
	ret = tb_kf_check_layout(in, len, &ops, &mem);
	if (ret)
		return ret;
	ret = tb_kf_derive(key, pass, passlen, in + TB_KF_OFF_SALT, ops, mem);
	if (ret)
		return ret;
	if (crypto_secretbox_open_easy(seed, in + TB_KF_OFF_BOX, TB_KF_BOX_LEN,
				       in + TB_KF_OFF_NONCE, key) != 0) {
		ret = TB_EPASSPHRASE;
		goto out;
	}
	tb_keypair_from_seed(kp, seed);
	/* A seed that does not match the clear public key: the file was altered. */
	if (sodium_memcmp(kp->pk.b, in + TB_KF_OFF_PK, TB_PUBKEY_LEN) != 0) {
		sodium_memzero(kp, sizeof *kp);
		ret = TB_EPASSPHRASE;
	}
out:
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(key, sizeof key);
	return ret;
}

int tb_keyfile_pubkey(struct tb_pubkey *pk, const uint8_t *in, size_t len)
{
	uint32_t ops, mem;
	int ret = tb_kf_check_layout(in, len, &ops, &mem);

	memset(pk, 0, sizeof *pk);
	if (ret)
		return ret;
	memcpy(pk->b, in + TB_KF_OFF_PK, TB_PUBKEY_LEN);
	return 0;
}
