/*
 * pwhash.c: password hashes for the people who log in to tallyd's console
 * (coordinators): Argon2id with a random salt, stored as a fixed 64-byte
 * record (FORMAT.md, "Password hashes") whose cost parameters are capped on
 * reading, so a damaged or hostile record cannot demand unbounded memory or
 * time. It never keeps a password: callers wipe theirs.
 */
#include "tb_crypto.h"
#include "../common/tb_bytes.h"

#include <string.h>

#include <sodium.h>

#define TB_PW_MAGIC "TBPW"
#define TB_PW_VERSION 1u
#define TB_PW_SALT_LEN 16
#define TB_PW_HASH_LEN 32
/* OWASP's Argon2id recommendation: 19 MiB, 2 passes, one lane. */
#define TB_PW_OPS 2u
#define TB_PW_MEM_KIB 19456u
#define TB_PW_OPS_MAX 8u
#define TB_PW_MEM_KIB_MAX (256u * 1024u)

_Static_assert(TB_PWHASH_LEN == 4 + 4 + 4 + 4 + TB_PW_SALT_LEN + TB_PW_HASH_LEN,
	       "password hash record layout");
_Static_assert(TB_PW_SALT_LEN == crypto_pwhash_SALTBYTES, "Argon2id salt");

static int derive(uint8_t out[TB_PW_HASH_LEN], const char *pass, size_t passlen,
		  const uint8_t salt[TB_PW_SALT_LEN], uint32_t ops, uint32_t mem_kib)
{
	if (passlen > crypto_pwhash_PASSWD_MAX)
		return TB_ETOOLONG;
	if (crypto_pwhash(out, TB_PW_HASH_LEN, pass, passlen, salt, ops, (size_t)mem_kib * 1024u,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return TB_ENOMEM;
	return 0;
}

int tb_pwhash(uint8_t out[TB_PWHASH_LEN], const char *pass, size_t passlen)
{
	uint8_t salt[TB_PW_SALT_LEN];
	memset(out, 0, TB_PWHASH_LEN);
	randombytes_buf(salt, sizeof salt);
	memcpy(out, TB_PW_MAGIC, 4);
	tb_be32_put(out + 4, TB_PW_VERSION);
	tb_be32_put(out + 8, TB_PW_OPS);
	tb_be32_put(out + 12, TB_PW_MEM_KIB);
	memcpy(out + 16, salt, TB_PW_SALT_LEN);
	int err = derive(out + 16 + TB_PW_SALT_LEN, pass, passlen, salt, TB_PW_OPS, TB_PW_MEM_KIB);
	if (err)
		memset(out, 0, TB_PWHASH_LEN);
	return err;
}

int tb_pwhash_verify(const uint8_t *rec, size_t len, const char *pass, size_t passlen)
{
	if (len != TB_PWHASH_LEN || memcmp(rec, TB_PW_MAGIC, 4) ||
	    tb_be32_get(rec + 4) != TB_PW_VERSION)
		return TB_ECORRUPT;
	uint32_t ops = tb_be32_get(rec + 8), mem = tb_be32_get(rec + 12);
	if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > TB_PW_OPS_MAX ||
	    mem < crypto_pwhash_MEMLIMIT_MIN / 1024u || mem > TB_PW_MEM_KIB_MAX)
		return TB_ECORRUPT;
	uint8_t h[TB_PW_HASH_LEN];
	int err = derive(h, pass, passlen, rec + 16, ops, mem);
	if (!err && sodium_memcmp(h, rec + 16 + TB_PW_SALT_LEN, TB_PW_HASH_LEN) != 0)
		err = TB_EPASSPHRASE;
	sodium_memzero(h, sizeof h);
	return err;
}
