/*
 * fuzz_keyfile.c: libFuzzer target for key file images: tb_keyfile_pubkey on
 * every input, and tb_keyfile_open with a fixed passphrase ("fuzz") only when
 * the image asks for the minimum Argon2id cost, so the fuzzer does not spend
 * its time in the KDF (bytes 12..19: opslimit and memlimit in KiB, both u32
 * big-endian). The minimum values are read from a key file sealed at
 * TB_KDF_MIN on the first call, not copied from libsodium here. Outputs must
 * be zeroed on failure and a decrypted key must match the clear public key.
 */
#include <stdint.h>
#include <string.h>

#include "tb_crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_PASS "fuzz"
#define KF_OFF_OPS 12
#define KF_OFF_PK 60

static uint8_t min_params[8];

static void init_once(void)
{
	static int done;
	if (done)
		return;
	TB_ASSERT(tb_crypto_init() == 0);
	struct tb_keypair kp;
	uint8_t img[TB_KEYFILE_LEN];
	uint8_t seed[TB_SEED_LEN] = {1};
	tb_keypair_from_seed(&kp, seed);
	TB_ASSERT(tb_keyfile_seal(img, &kp, FUZZ_PASS, strlen(FUZZ_PASS), TB_KDF_MIN) == 0);
	memcpy(min_params, img + KF_OFF_OPS, sizeof min_params);
	tb_keypair_wipe(&kp);
	done = 1;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	init_once();
	struct tb_pubkey pk;
	int prc = tb_keyfile_pubkey(&pk, data, size);
	if (prc == 0) {
		TB_ASSERT(size == TB_KEYFILE_LEN);
		TB_ASSERT(memcmp(pk.b, data + KF_OFF_PK, TB_PUBKEY_LEN) == 0);
	} else {
		TB_ASSERT(prc == TB_EKEYFILE);
		TB_ASSERT(all_zero(&pk, sizeof pk));
	}

	if (size < KF_OFF_OPS + sizeof min_params ||
	    memcmp(data + KF_OFF_OPS, min_params, sizeof min_params) != 0)
		return 0;
	struct tb_keypair kp;
	int orc = tb_keyfile_open(&kp, data, size, FUZZ_PASS, strlen(FUZZ_PASS));
	if (prc != 0) {
		/* A layout the pubkey reader refuses never gets to the KDF. */
		TB_ASSERT(orc == TB_EKEYFILE);
	} else if (orc == 0) {
		TB_ASSERT(memcmp(kp.pk.b, pk.b, TB_PUBKEY_LEN) == 0);
	} else {
		TB_ASSERT(orc == TB_EPASSPHRASE);
	}
	if (orc != 0)
		TB_ASSERT(all_zero(&kp, sizeof kp));
	tb_keypair_wipe(&kp);
	return 0;
}
