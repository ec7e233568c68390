/*
 * test_crypto.c: unit tests of the crypto module against real libsodium:
 * signatures and their domain separation, batch verification on threads,
 * SHA-256 and RFC 6962 hashes against known answers, the RFC 8032 key
 * derivation, and key files (round trips, wrong passphrases, every corrupted
 * byte, hostile parameters, file handling). Keys come from fixed seeds.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void hex_decode(uint8_t *out, const char *hex, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void assert_hex(const uint8_t *got, const char *hex, size_t n)
{
	uint8_t want[64];

	assert_true(n <= sizeof want);
	hex_decode(want, hex, n);
	assert_memory_equal(got, want, n);
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static int group_setup(void **state)
{
	(void)state;
	return tb_crypto_init() == 0 ? 0 : -1;
}

/* Signatures */

static void test_sigctx_tags(void **state)
{
	(void)state;
	assert_string_equal(tb_sigctx_tag(TB_CTX_ENTRY), "tally/entry/v1");
	assert_string_equal(tb_sigctx_tag(TB_CTX_EXCHANGE), "tally/exchange/v1");
	assert_string_equal(tb_sigctx_tag(TB_CTX_REVERSAL), "tally/reversal/v1");
	assert_string_equal(tb_sigctx_tag(TB_CTX_CHECKPOINT), "tally/checkpoint/v1");
	assert_string_equal(tb_sigctx_tag(TB_CTX_HANDSHAKE), "tally/handshake/v1");
	for (int a = 0; a < TB_CTX__COUNT; a++)
		for (int b = a + 1; b < TB_CTX__COUNT; b++)
			assert_string_not_equal(tb_sigctx_tag(a), tb_sigctx_tag(b));
}

static void test_sign_roundtrip(void **state)
{
	static const size_t lens[] = {0, 1, 64, 9190, 9199, 9200, 9201, 9216, 20000, 100000};
	struct tb_keypair kp;
	uint8_t sig[TB_SIG_LEN], sig2[TB_SIG_LEN];
	uint8_t *msg = malloc(100000);

	(void)state;
	assert_non_null(msg);
	for (size_t i = 0; i < 100000; i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	tb_test_keypair(&kp, 1);
	for (int c = 0; c < TB_CTX__COUNT; c++) {
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			tb_sign(sig, &kp, c, msg, lens[i]);
			assert_int_equal(tb_verify(sig, kp.pk.b, c, msg, lens[i]), 0);
			/* Ed25519 is deterministic. */
			tb_sign(sig2, &kp, c, msg, lens[i]);
			assert_memory_equal(sig, sig2, TB_SIG_LEN);
			/* The message length is part of what is signed. */
			if (lens[i] > 0)
				assert_int_equal(tb_verify(sig, kp.pk.b, c, msg, lens[i] - 1),
						 TB_EBADSIG);
		}
	}
	/* An empty message may be passed as NULL. */
	tb_sign(sig, &kp, TB_CTX_ENTRY, NULL, 0);
	assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_ENTRY, NULL, 0), 0);
	assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_ENTRY, msg, 0), 0);
	free(msg);
}

static void test_sign_contexts_separate(void **state)
{
	static const uint8_t msg[] = "provider=ana receiver=ben minutes=60";
	struct tb_keypair kp;
	uint8_t sig[TB_SIG_LEN];

	(void)state;
	tb_test_keypair(&kp, 2);
	tb_sign(sig, &kp, TB_CTX_ENTRY, msg, sizeof msg);
	assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_EXCHANGE, msg, sizeof msg), TB_EBADSIG);
	for (int a = 0; a < TB_CTX__COUNT; a++) {
		tb_sign(sig, &kp, a, msg, sizeof msg);
		for (int b = 0; b < TB_CTX__COUNT; b++)
			assert_int_equal(tb_verify(sig, kp.pk.b, b, msg, sizeof msg),
					 a == b ? 0 : TB_EBADSIG);
	}
}

static void test_sign_flips(void **state)
{
	uint8_t msg[24] = "twenty-four byte message";
	struct tb_keypair kp, other;
	uint8_t sig[TB_SIG_LEN];

	(void)state;
	tb_test_keypair(&kp, 4);
	tb_test_keypair(&other, 5);
	tb_sign(sig, &kp, TB_CTX_CHECKPOINT, msg, sizeof msg);
	assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_CHECKPOINT, msg, sizeof msg), 0);
	assert_int_equal(tb_verify(sig, other.pk.b, TB_CTX_CHECKPOINT, msg, sizeof msg),
			 TB_EBADSIG);
	for (size_t bit = 0; bit < 8 * TB_SIG_LEN; bit++) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_CHECKPOINT, msg, sizeof msg),
				 TB_EBADSIG);
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8 * sizeof msg; bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_CHECKPOINT, msg, sizeof msg),
				 TB_EBADSIG);
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (size_t bit = 0; bit < 8 * TB_PUBKEY_LEN; bit++) {
		kp.pk.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_CHECKPOINT, msg, sizeof msg),
				 TB_EBADSIG);
		kp.pk.b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(tb_verify(sig, kp.pk.b, TB_CTX_CHECKPOINT, msg, sizeof msg), 0);
}

static void test_keypair_rfc8032(void **state)
{
	struct tb_keypair kp;
	uint8_t seed[TB_SEED_LEN], back[TB_SEED_LEN];

	(void)state;
	hex_decode(seed, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		   TB_SEED_LEN);
	tb_keypair_from_seed(&kp, seed);
	assert_hex(kp.pk.b, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
		   TB_PUBKEY_LEN);
	/* libsodium's secret key form is seed || pk. */
	assert_memory_equal(kp.sk, seed, TB_SEED_LEN);
	assert_memory_equal(kp.sk + TB_SEED_LEN, kp.pk.b, TB_PUBKEY_LEN);
	tb_keypair_seed(back, &kp);
	assert_memory_equal(back, seed, TB_SEED_LEN);
	tb_keypair_wipe(&kp);
	assert_true(all_zero(kp.sk, sizeof kp.sk));
}

static void test_keypair_generate(void **state)
{
	struct tb_keypair a, b, c;
	uint8_t seed[TB_SEED_LEN];
	uint8_t sig[TB_SIG_LEN];

	(void)state;
	tb_keypair_generate(&a);
	tb_keypair_generate(&b);
	assert_memory_not_equal(a.pk.b, b.pk.b, TB_PUBKEY_LEN);
	tb_keypair_seed(seed, &a);
	tb_keypair_from_seed(&c, seed);
	assert_memory_equal(&a, &c, sizeof a);
	tb_sign(sig, &a, TB_CTX_HANDSHAKE, seed, sizeof seed);
	assert_int_equal(tb_verify(sig, c.pk.b, TB_CTX_HANDSHAKE, seed, sizeof seed), 0);
	tb_keypair_wipe(&a);
	tb_keypair_wipe(&b);
	tb_keypair_wipe(&c);
}

static void test_random_memcmp(void **state)
{
	uint8_t a[32] = {0}, b[32] = {0};

	(void)state;
	assert_int_equal(tb_memcmp_ct(a, b, sizeof a), 0);
	tb_random(a, sizeof a);
	assert_false(all_zero(a, sizeof a));
	assert_int_not_equal(tb_memcmp_ct(a, b, sizeof a), 0);
	memcpy(b, a, sizeof a);
	assert_int_equal(tb_memcmp_ct(a, b, sizeof a), 0);
	b[31] ^= 1;
	assert_int_not_equal(tb_memcmp_ct(a, b, sizeof a), 0);
	tb_wipe(a, sizeof a);
	assert_true(all_zero(a, sizeof a));
}

/* Batch verification */

#define BATCH_N 1000
#define BATCH_MSG_LEN 40

struct batch {
	struct tb_keypair kp[4];
	uint8_t msg[BATCH_N][BATCH_MSG_LEN];
	uint8_t sig[BATCH_N][TB_SIG_LEN];
	struct tb_verify_job jobs[BATCH_N];
	int want[BATCH_N];
};

/* Bad jobs, including both ends and chunk edges for 2 and 3 threads. */
static const size_t batch_bad[] = {0, 1, 333, 334, 499, 500, 666, 998, 999};

static struct batch *batch_new(void)
{
	struct batch *b = calloc(1, sizeof *b);

	assert_non_null(b);
	for (uint32_t k = 0; k < 4; k++)
		tb_test_keypair(&b->kp[k], 100 + k);
	for (size_t i = 0; i < BATCH_N; i++) {
		const struct tb_keypair *kp = &b->kp[i % 4];
		enum tb_sigctx ctx = (enum tb_sigctx)(i % TB_CTX__COUNT);

		snprintf((char *)b->msg[i], BATCH_MSG_LEN, "batch message %zu", i);
		tb_sign(b->sig[i], kp, ctx, b->msg[i], BATCH_MSG_LEN);
		b->jobs[i] = (struct tb_verify_job){
			.sig = b->sig[i],
			.pk = kp->pk.b,
			.msg = b->msg[i],
			.len = BATCH_MSG_LEN,
			.ctx = ctx,
		};
	}
	/* Spoil the bad ones in different ways. */
	for (size_t j = 0; j < sizeof batch_bad / sizeof batch_bad[0]; j++) {
		size_t i = batch_bad[j];

		b->want[i] = TB_EBADSIG;
		switch (j % 4) {
		case 0:
			b->sig[i][j] ^= 0x20;
			break;
		case 1:
			b->msg[i][BATCH_MSG_LEN - 1] ^= 1;
			break;
		case 2:
			b->jobs[i].ctx = (enum tb_sigctx)((b->jobs[i].ctx + 1) % TB_CTX__COUNT);
			break;
		case 3:
			b->jobs[i].pk = b->kp[(i + 1) % 4].pk.b;
			break;
		}
	}
	return b;
}

static void batch_check(struct batch *b, size_t n, unsigned nthreads)
{
	int any_bad = 0;

	for (size_t i = 0; i < n; i++) {
		b->jobs[i].result = 12345;
		any_bad |= b->want[i] != 0;
	}
	assert_int_equal(tb_verify_batch(b->jobs, n, nthreads), any_bad ? TB_EBADSIG : 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(b->jobs[i].result, b->want[i]);
}

static void test_verify_batch(void **state)
{
	static const unsigned threads[] = {1, 2, 0, 3, 7, 64, 1000, 5000};
	struct batch *b = batch_new();

	(void)state;
	assert_true(tb_cpu_count() >= 1);
	for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
		batch_check(b, BATCH_N, threads[t]);
		/* Small batches run inline. */
		batch_check(b, 10, threads[t]);
		batch_check(b, 63, threads[t]);
		batch_check(b, 64, threads[t]);
		batch_check(b, 65, threads[t]);
	}
	assert_int_equal(tb_verify_batch(NULL, 0, 0), 0);
	assert_int_equal(tb_verify_batch(b->jobs, 0, 4), 0);
	free(b);
}

static void test_verify_batch_all_good(void **state)
{
	struct batch *b = batch_new();

	(void)state;
	/* Jobs 2..332 are all good. */
	for (unsigned t = 0; t < 4; t++) {
		for (size_t i = 2; i < 333; i++)
			b->jobs[i].result = 12345;
		assert_int_equal(tb_verify_batch(b->jobs + 2, 331, t), 0);
		for (size_t i = 2; i < 333; i++)
			assert_int_equal(b->jobs[i].result, 0);
	}
	free(b);
}

/* Hashes */

static void test_sha256_known(void **state)
{
	uint8_t h[TB_HASH_LEN], h2[TB_HASH_LEN];
	struct tb_sha256_ctx c;
	static const char *abc = "abc";
	static const char *long_msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	size_t ll = strlen(long_msg);

	(void)state;
	tb_sha256(h, (const uint8_t *)abc, 3);
	assert_hex(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		   TB_HASH_LEN);
	tb_sha256(h, NULL, 0);
	assert_hex(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		   TB_HASH_LEN);
	tb_sha256(h, (const uint8_t *)long_msg, ll);
	assert_hex(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		   TB_HASH_LEN);
	/* Incremental, split at every point, equals one-shot. */
	for (size_t split = 0; split <= ll; split++) {
		tb_sha256_init(&c);
		tb_sha256_update(&c, (const uint8_t *)long_msg, split);
		tb_sha256_update(&c, NULL, 0);
		tb_sha256_update(&c, (const uint8_t *)long_msg + split, ll - split);
		tb_sha256_final(&c, h2);
		assert_memory_equal(h, h2, TB_HASH_LEN);
	}
}

static void test_rfc6962_hashes(void **state)
{
	static const uint8_t zero = 0x00;
	uint8_t l0[TB_HASH_LEN], l1[TB_HASH_LEN], n[TB_HASH_LEN];
	uint8_t a[TB_HASH_LEN], b[TB_HASH_LEN];
	const char *root2 = "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125";

	(void)state;
	tb_leaf_hash(l0, NULL, 0);
	assert_hex(l0, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		   TB_HASH_LEN);
	tb_leaf_hash(l1, &zero, 1);
	assert_hex(l1, "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
		   TB_HASH_LEN);
	/* Root of the RFC 6962 test tree's first two leaves. */
	tb_node_hash(n, l0, l1);
	assert_hex(n, root2, TB_HASH_LEN);
	/* A leaf is never an inner node of the same bytes. */
	{
		uint8_t cat[2 * TB_HASH_LEN];

		memcpy(cat, l0, TB_HASH_LEN);
		memcpy(cat + TB_HASH_LEN, l1, TB_HASH_LEN);
		tb_leaf_hash(a, cat, sizeof cat);
		assert_memory_not_equal(a, n, TB_HASH_LEN);
	}
	/* out may alias left or right. */
	memcpy(a, l0, TB_HASH_LEN);
	tb_node_hash(a, a, l1);
	assert_hex(a, root2, TB_HASH_LEN);
	memcpy(b, l1, TB_HASH_LEN);
	tb_node_hash(b, l0, b);
	assert_hex(b, root2, TB_HASH_LEN);
	memcpy(a, l0, TB_HASH_LEN);
	tb_node_hash(a, a, a);
	tb_node_hash(b, l0, l0);
	assert_memory_equal(a, b, TB_HASH_LEN);
}

/* Key files */

static const char pass[] = "correct horse battery staple";
#define PASSLEN (sizeof pass - 1)

static void seal_min(uint8_t img[TB_KEYFILE_LEN], struct tb_keypair *kp)
{
	tb_test_keypair(kp, 7);
	assert_int_equal(tb_keyfile_seal(img, kp, pass, PASSLEN, TB_KDF_MIN), 0);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void test_keyfile_seal_open(void **state)
{
	uint8_t img[TB_KEYFILE_LEN], img2[TB_KEYFILE_LEN];
	struct tb_keypair kp, back;
	struct tb_pubkey pk;

	(void)state;
	seal_min(img, &kp);
	assert_memory_equal(img, "TALLYKEY", 8);
	assert_int_equal(img[8], 1);
	assert_int_equal(img[9], 1);
	assert_int_equal(img[10], 0);
	assert_int_equal(img[11], 0);
	assert_int_equal(get_be32(img + 12), 1);
	assert_int_equal(get_be32(img + 16), 8);
	assert_memory_equal(img + 60, kp.pk.b, TB_PUBKEY_LEN);

	assert_int_equal(tb_keyfile_open(&back, img, sizeof img, pass, PASSLEN), 0);
	assert_memory_equal(&back, &kp, sizeof kp);
	assert_int_equal(tb_keyfile_pubkey(&pk, img, sizeof img), 0);
	assert_memory_equal(pk.b, kp.pk.b, TB_PUBKEY_LEN);

	/* Fresh salt and nonce each time. */
	assert_int_equal(tb_keyfile_seal(img2, &kp, pass, PASSLEN, TB_KDF_MIN), 0);
	assert_memory_not_equal(img + 20, img2 + 20, 40);

	/* An empty passphrase works too. */
	assert_int_equal(tb_keyfile_seal(img2, &kp, NULL, 0, TB_KDF_MIN), 0);
	assert_int_equal(tb_keyfile_open(&back, img2, sizeof img2, "", 0), 0);
	assert_memory_equal(&back, &kp, sizeof kp);
	tb_keypair_wipe(&back);
}

static void test_keyfile_interactive(void **state)
{
	uint8_t img[TB_KEYFILE_LEN];
	struct tb_keypair kp, back;

	(void)state;
	tb_test_keypair(&kp, 8);
	assert_int_equal(tb_keyfile_seal(img, &kp, pass, PASSLEN, TB_KDF_INTERACTIVE), 0);
	assert_int_equal(get_be32(img + 12), 2);
	assert_int_equal(get_be32(img + 16), 64 * 1024);
	assert_int_equal(tb_keyfile_open(&back, img, sizeof img, pass, PASSLEN), 0);
	assert_memory_equal(&back, &kp, sizeof kp);
	/* Not a level: refused, output defined. */
	assert_int_equal(tb_keyfile_seal(img, &kp, pass, PASSLEN, (enum tb_kdf_level)77),
			 TB_EINVAL);
	assert_true(all_zero(img, sizeof img));
}

static void test_keyfile_wrong_pass(void **state)
{
	uint8_t img[TB_KEYFILE_LEN];
	struct tb_keypair kp, back;

	(void)state;
	seal_min(img, &kp);
	memset(&back, 0xAA, sizeof back);
	assert_int_equal(tb_keyfile_open(&back, img, sizeof img, pass, PASSLEN - 1),
			 TB_EPASSPHRASE);
	assert_true(all_zero(&back, sizeof back));
	memset(&back, 0xAA, sizeof back);
	assert_int_equal(
		tb_keyfile_open(&back, img, sizeof img, "correct horse battery stapLe", PASSLEN),
		TB_EPASSPHRASE);
	assert_true(all_zero(&back, sizeof back));
	assert_int_equal(tb_keyfile_open(&back, img, sizeof img, "", 0), TB_EPASSPHRASE);
}

/* The clear public key replaced by another one: the file was altered. */
static void test_keyfile_swapped_pubkey(void **state)
{
	uint8_t img[TB_KEYFILE_LEN];
	struct tb_keypair kp, other, back;
	struct tb_pubkey pk;

	(void)state;
	seal_min(img, &kp);
	tb_test_keypair(&other, 9);
	memcpy(img + 60, other.pk.b, TB_PUBKEY_LEN);
	/* The layout is fine, so pubkey alone cannot tell. */
	assert_int_equal(tb_keyfile_pubkey(&pk, img, sizeof img), 0);
	memset(&back, 0xAA, sizeof back);
	assert_int_equal(tb_keyfile_open(&back, img, sizeof img, pass, PASSLEN), TB_EPASSPHRASE);
	assert_true(all_zero(&back, sizeof back));
}

static void test_keyfile_every_byte(void **state)
{
	uint8_t img[TB_KEYFILE_LEN], bad[TB_KEYFILE_LEN];
	struct tb_keypair kp, back;

	(void)state;
	seal_min(img, &kp);
	for (size_t i = 0; i < TB_KEYFILE_LEN; i++) {
		int rc;

		memcpy(bad, img, sizeof img);
		bad[i] ^= 0xFF;
		memset(&back, 0xAA, sizeof back);
		rc = tb_keyfile_open(&back, bad, sizeof bad, pass, PASSLEN);
		if (i < 12)
			assert_int_equal(rc, TB_EKEYFILE);
		else if (i >= 20)
			assert_int_equal(rc, TB_EPASSPHRASE);
		else
			assert_true(rc == TB_EKEYFILE || rc == TB_EPASSPHRASE);
		assert_true(all_zero(&back, sizeof back));
	}
}

static void test_keyfile_bad_layout(void **state)
{
	uint8_t img[TB_KEYFILE_LEN + 1], bad[TB_KEYFILE_LEN];
	struct tb_keypair kp, back;
	struct tb_pubkey pk;
	static const struct {
		size_t off;
		uint32_t v;
	} params[] = {
		{16, 0xFFFFFFFFu},     /* hostile memlimit */
		{16, 1024 * 1024 + 1}, /* just over 1 GiB */
		{16, 7},	       /* under the minimum */
		{16, 0},
		{12, 0xFFFFFFFFu}, /* hostile opslimit */
		{12, 17},
		{12, 0},
	};

	(void)state;
	seal_min(img, &kp);
	img[TB_KEYFILE_LEN] = 0;
	for (size_t len = 0; len <= TB_KEYFILE_LEN + 1; len++) {
		if (len == TB_KEYFILE_LEN)
			continue;
		memset(&back, 0xAA, sizeof back);
		assert_int_equal(tb_keyfile_open(&back, img, len, pass, PASSLEN), TB_EKEYFILE);
		assert_true(all_zero(&back, sizeof back));
		memset(&pk, 0xAA, sizeof pk);
		assert_int_equal(tb_keyfile_pubkey(&pk, img, len), TB_EKEYFILE);
		assert_true(all_zero(&pk, sizeof pk));
	}
	assert_int_equal(tb_keyfile_open(&back, NULL, 0, pass, PASSLEN), TB_EKEYFILE);
	for (size_t i = 0; i < sizeof params / sizeof params[0]; i++) {
		memcpy(bad, img, sizeof bad);
		put_be32(bad + params[i].off, params[i].v);
		assert_int_equal(tb_keyfile_open(&back, bad, sizeof bad, pass, PASSLEN),
				 TB_EKEYFILE);
		assert_int_equal(tb_keyfile_pubkey(&pk, bad, sizeof bad), TB_EKEYFILE);
	}
	/* The caps themselves are accepted (16 passes, 1 GiB): not run here. */
}

static void test_keyfile_files(void **state)
{
	char *dir = tb_test_tmpdir("crypto");
	char path[4200], big[4200], none[4200];
	struct tb_keypair kp, back;
	struct stat st;
	uint8_t *data;
	size_t len = 0;
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/node.key", dir);
	snprintf(big, sizeof big, "%s/big.key", dir);
	snprintf(none, sizeof none, "%s/missing.key", dir);
	tb_test_keypair(&kp, 10);

	assert_int_equal(tb_keyfile_write(path, &kp, pass, PASSLEN, TB_KDF_MIN), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, TB_KEYFILE_LEN);
	assert_int_equal(tb_keyfile_read(path, &back, pass, PASSLEN), 0);
	assert_memory_equal(&back, &kp, sizeof kp);

	/* Never overwrites. */
	data = tb_test_read_file(path, &len);
	assert_non_null(data);
	assert_int_equal(len, TB_KEYFILE_LEN);
	assert_int_equal(tb_keyfile_write(path, &kp, pass, PASSLEN, TB_KDF_MIN), TB_EEXISTS);
	{
		size_t len2 = 0;
		uint8_t *data2 = tb_test_read_file(path, &len2);

		assert_non_null(data2);
		assert_int_equal(len2, len);
		assert_memory_equal(data, data2, len);
		free(data2);
	}

	memset(&back, 0xAA, sizeof back);
	assert_int_equal(tb_keyfile_read(path, &back, "nope", 4), TB_EPASSPHRASE);
	assert_true(all_zero(&back, sizeof back));
	assert_int_equal(tb_keyfile_read(none, &back, pass, PASSLEN), TB_ENOTFOUND);
	/* A directory is not a key file (the bounded reader reads regular
	 * files only). */
	assert_int_equal(tb_keyfile_read(dir, &back, pass, PASSLEN), TB_EKEYFILE);
	assert_int_equal(tb_keyfile_write(none, &kp, pass, PASSLEN, (enum tb_kdf_level)77),
			 TB_EINVAL);
	assert_int_not_equal(stat(none, &st), 0);

	/* A longer file is not a key file, even if it starts like one. */
	f = fopen(big, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fputc('\n', f), '\n');
	assert_int_equal(fclose(f), 0);
	assert_int_equal(tb_keyfile_read(big, &back, pass, PASSLEN), TB_EKEYFILE);
	/* And a truncated one neither. */
	f = fopen(big, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len - 1, f), len - 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(tb_keyfile_read(big, &back, pass, PASSLEN), TB_EKEYFILE);

	free(data);
	tb_test_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigctx_tags),
		cmocka_unit_test(test_sign_roundtrip),
		cmocka_unit_test(test_sign_contexts_separate),
		cmocka_unit_test(test_sign_flips),
		cmocka_unit_test(test_keypair_rfc8032),
		cmocka_unit_test(test_keypair_generate),
		cmocka_unit_test(test_random_memcmp),
		cmocka_unit_test(test_verify_batch),
		cmocka_unit_test(test_verify_batch_all_good),
		cmocka_unit_test(test_sha256_known),
		cmocka_unit_test(test_rfc6962_hashes),
		cmocka_unit_test(test_keyfile_seal_open),
		cmocka_unit_test(test_keyfile_interactive),
		cmocka_unit_test(test_keyfile_wrong_pass),
		cmocka_unit_test(test_keyfile_swapped_pubkey),
		cmocka_unit_test(test_keyfile_every_byte),
		cmocka_unit_test(test_keyfile_bad_layout),
		cmocka_unit_test(test_keyfile_files),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
