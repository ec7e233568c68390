/*
 * test_noise_session.c: unit tests of the Noise handshake and transport
 * (crypto/noise.c) with random X25519 keys and real libsodium: full XXpsk3
 * and XX handshakes give matching split keys, hashes and remote statics; a
 * wrong PSK or prologue fails and leaves nothing usable; every single-bit
 * flip and every truncation of each handshake message is refused; calls out
 * of order are refused; transport messages round-trip, and replayed,
 * reordered, altered or oversized ones are refused. The published vectors are
 * in tests/vectors/test_noise.c.
 */
#include "testutil.h"

#include <stdbool.h>
#include <string.h>

#include "tb_noise.h"

#define KEYLEN TB_NOISE_KEY_LEN
#define HASHLEN TB_NOISE_HASH_LEN
#define TAGLEN TB_NOISE_TAG_LEN

enum { I = 0, R = 1 }; /* initiator, responder */

static const uint8_t prologue[] = "tally/test/prologue";

/* Both ends of a connection and the keys they start from. */
struct ends {
	uint8_t s_sec[2][KEYLEN], s_pub[2][KEYLEN];
	uint8_t e_sec[2][KEYLEN];
	uint8_t psk[2][KEYLEN];
	struct tb_noise_hs hs[2];
	/* after split */
	struct tb_noise_cipher send[2], recv[2];
	uint8_t hash[2][HASHLEN], remote[2][KEYLEN];
};

/* One handshake transcript: the three messages as written. */
struct transcript {
	uint8_t msg[3][512];
	size_t len[3];
};

static int group_setup(void **state)
{
	(void)state;
	return tb_crypto_init() == 0 ? 0 : -1;
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Fresh random keys; both sides share one PSK. */
static void new_keys(struct ends *x)
{
	int k;

	memset(x, 0, sizeof *x);
	for (k = 0; k < 2; k++) {
		tb_noise_keypair(x->s_sec[k], x->s_pub[k]);
		tb_random(x->e_sec[k], KEYLEN);
	}
	tb_random(x->psk[I], KEYLEN);
	memcpy(x->psk[R], x->psk[I], KEYLEN);
}

/* Starts both sides; fixed_e uses the stored ephemerals (same messages). */
static void start(struct ends *x, bool psk, bool fixed_e)
{
	int k;

	for (k = 0; k < 2; k++)
		assert_int_equal(tb_noise_init(&x->hs[k],
					       k ? TB_NOISE_RESPONDER : TB_NOISE_INITIATOR,
					       prologue, sizeof prologue, psk ? x->psk[k] : NULL,
					       x->s_sec[k], fixed_e ? x->e_sec[k] : NULL),
				 0);
}

static size_t payload_of(size_t m, uint8_t *p)
{
	/* Different lengths per message, the second one empty. */
	static const char *const text[3] = {"hello, responder", "", "hello again"};

	memcpy(p, text[m], strlen(text[m]));
	return strlen(text[m]);
}

/* Writes message m on its sender and returns it (no read). */
static void write_msg(struct ends *x, size_t m, struct transcript *t)
{
	uint8_t payload[64];
	size_t plen = payload_of(m, payload);

	assert_int_equal(tb_noise_write(&x->hs[m % 2], payload, plen, t->msg[m], sizeof t->msg[m],
					&t->len[m]),
			 0);
}

/* Reads message m (as given) on its receiver and checks the payload. */
static void read_msg(struct ends *x, size_t m, const uint8_t *msg, size_t len)
{
	uint8_t payload[64], got[512];
	size_t plen = payload_of(m, payload), glen = 99;

	assert_int_equal(tb_noise_read(&x->hs[1 - m % 2], msg, len, got, sizeof got, &glen), 0);
	assert_int_equal(glen, plen);
	assert_memory_equal(got, payload, plen);
}

/* Messages 0..upto-1, written and read; t gets them. */
static void exchange(struct ends *x, size_t upto, struct transcript *t)
{
	size_t m;

	for (m = 0; m < upto; m++) {
		write_msg(x, m, t);
		read_msg(x, m, t->msg[m], t->len[m]);
	}
}

static void split_both(struct ends *x)
{
	int k;

	for (k = 0; k < 2; k++) {
		assert_true(tb_noise_done(&x->hs[k]));
		assert_int_equal(tb_noise_split(&x->hs[k], &x->send[k], &x->recv[k], x->hash[k],
						x->remote[k]),
				 0);
		/* The handshake state is wiped, secrets included. */
		assert_true(all_zero(&x->hs[k], sizeof x->hs[k]));
		assert_false(tb_noise_done(&x->hs[k]));
	}
}

/* A side that failed is wiped and refuses everything. */
static void assert_dead(struct tb_noise_hs *hs)
{
	struct tb_noise_cipher s, r;
	uint8_t buf[256], msg[96] = {0}, h[HASHLEN], rs[KEYLEN];
	size_t len = 99;

	assert_true(all_zero(hs, sizeof *hs));
	assert_false(tb_noise_done(hs));
	assert_int_equal(tb_noise_write(hs, NULL, 0, buf, sizeof buf, &len), TB_EINVAL);
	assert_int_equal(len, 0);
	assert_int_equal(tb_noise_read(hs, msg, sizeof msg, buf, sizeof buf, &len), TB_EINVAL);
	memset(&s, 0xaa, sizeof s);
	assert_int_equal(tb_noise_split(hs, &s, &r, h, rs), TB_EINVAL);
	assert_false(s.has_key);
	assert_true(all_zero(&s, sizeof s));
}

/* ---- handshakes ---- */

static void test_keypair(void **state)
{
	uint8_t s1[KEYLEN], p1[KEYLEN], s2[KEYLEN], p2[KEYLEN], p[KEYLEN];

	(void)state;
	tb_noise_keypair(s1, p1);
	tb_noise_keypair(s2, p2);
	assert_memory_not_equal(s1, s2, KEYLEN);
	assert_memory_not_equal(p1, p2, KEYLEN);
	tb_noise_public_key(p, s1);
	assert_memory_equal(p, p1, KEYLEN);
	assert_false(all_zero(p1, KEYLEN));
	tb_wipe(s1, sizeof s1);
	tb_wipe(s2, sizeof s2);
}

static void check_session(struct ends *x)
{
	assert_memory_equal(x->hash[I], x->hash[R], HASHLEN);
	assert_memory_equal(x->remote[I], x->s_pub[R], KEYLEN);
	assert_memory_equal(x->remote[R], x->s_pub[I], KEYLEN);
	assert_memory_equal(x->send[I].k, x->recv[R].k, KEYLEN);
	assert_memory_equal(x->send[R].k, x->recv[I].k, KEYLEN);
	assert_memory_not_equal(x->send[I].k, x->send[R].k, KEYLEN);
	assert_true(x->send[I].has_key && x->recv[I].has_key);
	assert_true(x->send[R].n == 0 && x->recv[R].n == 0);
}

static void test_xxpsk3_handshake(void **state)
{
	static struct ends x;
	struct transcript t;
	uint8_t prev_hash[HASHLEN] = {0};
	int round;

	(void)state;
	for (round = 0; round < 8; round++) {
		new_keys(&x);
		start(&x, true, false);
		assert_false(tb_noise_done(&x.hs[I]));
		exchange(&x, 3, &t);
		/* -> e (+ payload tag); <- e, s, tags; -> s, tags */
		assert_int_equal(t.len[0], KEYLEN + TAGLEN + 16);
		assert_int_equal(t.len[1], KEYLEN + KEYLEN + 2 * TAGLEN);
		assert_int_equal(t.len[2], KEYLEN + 2 * TAGLEN + 11);
		split_both(&x);
		check_session(&x);
		/* Random ephemerals: every session has its own hash. */
		assert_memory_not_equal(x.hash[I], prev_hash, HASHLEN);
		memcpy(prev_hash, x.hash[I], HASHLEN);
	}
	tb_wipe(&x, sizeof x);
}

static void test_xx_handshake(void **state)
{
	static struct ends x;
	struct transcript t;
	uint8_t psk_hash[HASHLEN];

	(void)state;
	new_keys(&x);
	start(&x, true, true);
	exchange(&x, 3, &t);
	split_both(&x);
	memcpy(psk_hash, x.hash[I], HASHLEN);

	/* Plain XX: the first payload travels in clear, no tags before ee. */
	start(&x, false, true);
	exchange(&x, 3, &t);
	assert_int_equal(t.len[0], KEYLEN + 16);
	assert_memory_equal(t.msg[0] + KEYLEN, "hello, responder", 16);
	split_both(&x);
	check_session(&x);
	/* Same keys, other protocol name and no PSK: another session. */
	assert_memory_not_equal(x.hash[I], psk_hash, HASHLEN);
	tb_wipe(&x, sizeof x);
}

/* An XX initiator cannot talk to an XXpsk3 responder, nor the reverse. */
static void test_pattern_mismatch(void **state)
{
	static struct ends x;
	struct transcript t;
	uint8_t got[256];
	size_t glen;

	(void)state;
	new_keys(&x);
	assert_int_equal(tb_noise_init(&x.hs[I], TB_NOISE_INITIATOR, prologue, sizeof prologue,
				       NULL, x.s_sec[I], NULL),
			 0);
	assert_int_equal(tb_noise_init(&x.hs[R], TB_NOISE_RESPONDER, prologue, sizeof prologue,
				       x.psk[R], x.s_sec[R], NULL),
			 0);
	write_msg(&x, 0, &t);
	assert_int_equal(tb_noise_read(&x.hs[R], t.msg[0], t.len[0], got, sizeof got, &glen),
			 TB_EBADSIG);
	assert_dead(&x.hs[R]);

	assert_int_equal(tb_noise_init(&x.hs[I], TB_NOISE_INITIATOR, prologue, sizeof prologue,
				       x.psk[I], x.s_sec[I], NULL),
			 0);
	assert_int_equal(tb_noise_init(&x.hs[R], TB_NOISE_RESPONDER, prologue, sizeof prologue,
				       NULL, x.s_sec[R], NULL),
			 0);
	write_msg(&x, 0, &t);
	/* XX takes the tagged payload for a longer clear one. */
	assert_int_equal(tb_noise_read(&x.hs[R], t.msg[0], t.len[0], got, sizeof got, &glen), 0);
	assert_int_equal(glen, 16 + TAGLEN);
	write_msg(&x, 1, &t);
	assert_int_equal(tb_noise_read(&x.hs[I], t.msg[1], t.len[1], got, sizeof got, &glen),
			 TB_EBADSIG);
	assert_dead(&x.hs[I]);
	tb_wipe(&x, sizeof x);
}

/* A stranger without the federation key fails on the third message. */
static void test_psk_mismatch(void **state)
{
	static struct ends x;
	struct transcript t;
	uint8_t got[256];
	size_t glen = 99;

	(void)state;
	new_keys(&x);
	x.psk[R][7] ^= 0x01;
	start(&x, true, false);
	exchange(&x, 2, &t); /* psk is mixed in only at the end of message 3 */
	write_msg(&x, 2, &t);
	assert_true(tb_noise_done(&x.hs[I]));
	memset(got, 0xaa, sizeof got);
	assert_int_equal(tb_noise_read(&x.hs[R], t.msg[2], t.len[2], got, sizeof got, &glen),
			 TB_EBADSIG);
	assert_int_equal(glen, 0);
	assert_true(all_zero(got, t.len[2])); /* no payload leaks out */
	assert_dead(&x.hs[R]);

	/* The initiator cannot know yet; its first frame is refused later
	 * (the responder has nothing to decrypt it with). */
	assert_int_equal(tb_noise_split(&x.hs[I], &x.send[I], &x.recv[I], x.hash[I], x.remote[I]),
			 0);
	{
		uint8_t ct[64];
		size_t clen;

		assert_int_equal(tb_noise_encrypt(&x.send[I], (const uint8_t *)"hi", 2, ct,
						  sizeof ct, &clen),
				 0);
		assert_int_equal(tb_noise_decrypt(&x.recv[R], ct, clen, got, sizeof got, &glen),
				 TB_EINVAL);
	}
	tb_wipe(&x, sizeof x);
}

static void test_prologue_mismatch(void **state)
{
	static struct ends x;
	struct transcript t;
	uint8_t got[256];
	size_t glen;

	(void)state;
	new_keys(&x);
	assert_int_equal(tb_noise_init(&x.hs[I], TB_NOISE_INITIATOR, prologue, sizeof prologue,
				       x.psk[I], x.s_sec[I], NULL),
			 0);
	assert_int_equal(tb_noise_init(&x.hs[R], TB_NOISE_RESPONDER, prologue, sizeof prologue - 1,
				       x.psk[R], x.s_sec[R], NULL),
			 0);
	write_msg(&x, 0, &t);
	assert_int_equal(tb_noise_read(&x.hs[R], t.msg[0], t.len[0], got, sizeof got, &glen),
			 TB_EBADSIG);
	assert_dead(&x.hs[R]);
	tb_wipe(&x, sizeof x);
}

/* Restarts with the stored keys and replays messages before m honestly. */
static void replay_upto(struct ends *x, bool psk, size_t m, const struct transcript *honest)
{
	struct transcript t;
	size_t k;

	start(x, psk, true);
	for (k = 0; k < m; k++) {
		write_msg(x, k, &t);
		assert_int_equal(t.len[k], honest->len[k]);
		assert_memory_equal(t.msg[k], honest->msg[k], t.len[k]);
		read_msg(x, k, t.msg[k], t.len[k]);
	}
}

static void test_bitflips_xxpsk3(void **state)
{
	static struct ends x;
	struct transcript honest;
	uint8_t bad[512], got[512];
	size_t m, bit, glen, flips = 0;

	(void)state;
	new_keys(&x);
	start(&x, true, true);
	exchange(&x, 3, &honest);
	for (m = 0; m < 3; m++) {
		for (bit = 0; bit < 8 * honest.len[m]; bit++) {
			struct tb_noise_hs *to = &x.hs[1 - m % 2];

			replay_upto(&x, true, m, &honest);
			memcpy(bad, honest.msg[m], honest.len[m]);
			bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(
				tb_noise_read(to, bad, honest.len[m], got, sizeof got, &glen),
				TB_EBADSIG);
			assert_int_equal(glen, 0);
			assert_true(all_zero(to, sizeof *to));
			flips++;
		}
	}
	assert_int_equal(flips, 8 * (honest.len[0] + honest.len[1] + honest.len[2]));
	tb_wipe(&x, sizeof x);
}

/* Plain XX: message 1 has no tag, so a flip there is caught by the
 * initiator reading message 2 (the hashes differ). Later ones at once. */
static void test_bitflips_xx(void **state)
{
	static struct ends x;
	struct transcript honest, t;
	uint8_t bad[512], got[512];
	size_t m, bit, glen;

	(void)state;
	new_keys(&x);
	start(&x, false, true);
	exchange(&x, 3, &honest);
	for (m = 0; m < 3; m++) {
		for (bit = 0; bit < 8 * honest.len[m]; bit++) {
			struct tb_noise_hs *to = &x.hs[1 - m % 2];

			replay_upto(&x, false, m, &honest);
			write_msg(&x, m, &t);
			memcpy(bad, honest.msg[m], honest.len[m]);
			bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (m == 0) {
				assert_int_equal(tb_noise_read(to, bad, honest.len[m], got,
							       sizeof got, &glen),
						 0);
				write_msg(&x, 1, &t);
				to = &x.hs[I];
				assert_int_equal(tb_noise_read(to, t.msg[1], t.len[1], got,
							       sizeof got, &glen),
						 TB_EBADSIG);
			} else {
				assert_int_equal(tb_noise_read(to, bad, honest.len[m], got,
							       sizeof got, &glen),
						 TB_EBADSIG);
			}
			assert_true(all_zero(to, sizeof *to));
		}
	}
	tb_wipe(&x, sizeof x);
}

static void test_truncated(void **state)
{
	/* Keys and tags each XXpsk3 message must hold, payload tag included. */
	static const size_t min_len[3] = {KEYLEN + TAGLEN, 2 * KEYLEN + 2 * TAGLEN,
					  KEYLEN + 2 * TAGLEN};
	static struct ends x;
	struct transcript honest;
	uint8_t got[512];
	size_t m, cut, glen;

	(void)state;
	new_keys(&x);
	start(&x, true, true);
	exchange(&x, 3, &honest);
	for (m = 0; m < 3; m++) {
		assert_true(honest.len[m] >= min_len[m]);
		for (cut = 0; cut < honest.len[m] + 2; cut++) {
			struct tb_noise_hs *to = &x.hs[1 - m % 2];
			uint8_t msg[512] = {0};

			if (cut == honest.len[m])
				continue; /* the honest one */
			memcpy(msg, honest.msg[m], honest.len[m]);
			replay_upto(&x, true, m, &honest);
			assert_int_equal(tb_noise_read(to, msg, cut, got, sizeof got, &glen),
					 cut < min_len[m] ? TB_ETRUNCATED : TB_EBADSIG);
			assert_true(all_zero(to, sizeof *to));
		}
	}
	tb_wipe(&x, sizeof x);
}

/* Size caps: a whole message of TB_NOISE_MAX_MSG passes, one more does not. */
static void test_sizes(void **state)
{
	static struct ends x;
	static uint8_t payload[TB_NOISE_MAX_MSG + 1], msg[TB_NOISE_MAX_MSG + 1];
	static uint8_t got[TB_NOISE_MAX_MSG];
	const size_t max0 = TB_NOISE_MAX_MSG - KEYLEN - TAGLEN;
	size_t len, glen;

	(void)state;
	new_keys(&x);
	tb_random(payload, sizeof payload);

	/* Largest first message; read into an exact buffer. */
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], payload, max0, msg, TB_NOISE_MAX_MSG, &len), 0);
	assert_int_equal(len, TB_NOISE_MAX_MSG);
	assert_int_equal(tb_noise_read(&x.hs[R], msg, len, got, max0, &glen), 0);
	assert_int_equal(glen, max0);
	assert_memory_equal(got, payload, max0);

	/* One byte more than a message may hold. */
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], payload, max0 + 1, msg, sizeof msg, &len),
			 TB_ETOOBIG);
	assert_int_equal(len, 0);
	assert_dead(&x.hs[I]);
	/* An output buffer one byte short. */
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], payload, 10, msg, KEYLEN + TAGLEN + 9, &len),
			 TB_ETOOBIG);
	assert_true(all_zero(msg, KEYLEN + TAGLEN + 9));
	assert_dead(&x.hs[I]);
	/* A message over the cap is refused before it is looked at. */
	start(&x, true, false);
	assert_int_equal(tb_noise_read(&x.hs[R], msg, TB_NOISE_MAX_MSG + 1, got, sizeof got, &glen),
			 TB_ETOOBIG);
	assert_dead(&x.hs[R]);
	/* A payload larger than the reader's buffer. */
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], payload, 10, msg, sizeof msg, &len), 0);
	assert_int_equal(tb_noise_read(&x.hs[R], msg, len, got, 9, &glen), TB_ETOOBIG);
	assert_dead(&x.hs[R]);
	/* An empty payload may come with no buffer at all. */
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], NULL, 0, msg, sizeof msg, &len), 0);
	assert_int_equal(len, KEYLEN + TAGLEN);
	assert_int_equal(tb_noise_read(&x.hs[R], msg, len, NULL, 0, &glen), 0);
	assert_int_equal(glen, 0);
	tb_wipe(&x, sizeof x);
}

static void test_out_of_order(void **state)
{
	static struct ends x;
	struct transcript t;
	struct tb_noise_hs zero;
	uint8_t buf[512], zmsg[96] = {0}, h[HASHLEN], rs[KEYLEN];
	struct tb_noise_cipher s, r;
	size_t len;

	(void)state;
	new_keys(&x);
	/* The initiator writes first, the responder reads first. */
	start(&x, true, false);
	assert_int_equal(tb_noise_read(&x.hs[I], zmsg, sizeof zmsg, buf, sizeof buf, &len),
			 TB_EINVAL);
	assert_dead(&x.hs[I]);
	assert_int_equal(tb_noise_write(&x.hs[R], NULL, 0, buf, sizeof buf, &len), TB_EINVAL);
	assert_dead(&x.hs[R]);

	/* Writing twice in a row. */
	start(&x, true, false);
	write_msg(&x, 0, &t);
	assert_int_equal(tb_noise_write(&x.hs[I], NULL, 0, buf, sizeof buf, &len), TB_EINVAL);
	assert_dead(&x.hs[I]);

	/* Split before the end; outputs are zeroed. */
	start(&x, true, false);
	exchange(&x, 2, &t);
	memset(h, 0xaa, sizeof h);
	memset(rs, 0xaa, sizeof rs);
	assert_int_equal(tb_noise_split(&x.hs[R], &s, &r, h, rs), TB_EINVAL);
	assert_true(all_zero(h, sizeof h) && all_zero(rs, sizeof rs));
	assert_true(all_zero(&r, sizeof r));
	assert_dead(&x.hs[R]);

	/* Nothing more after the third message; split only once. */
	start(&x, true, false);
	exchange(&x, 3, &t);
	assert_int_equal(tb_noise_write(&x.hs[R], NULL, 0, buf, sizeof buf, &len), TB_EINVAL);
	assert_dead(&x.hs[R]);
	assert_int_equal(tb_noise_read(&x.hs[I], t.msg[1], t.len[1], buf, sizeof buf, &len),
			 TB_EINVAL);
	assert_dead(&x.hs[I]);
	start(&x, true, false);
	exchange(&x, 3, &t);
	assert_int_equal(tb_noise_split(&x.hs[I], &s, &r, h, rs), 0);
	assert_int_equal(tb_noise_split(&x.hs[I], &s, &r, h, rs), TB_EINVAL);
	assert_false(s.has_key || r.has_key);

	/* A message read twice. */
	start(&x, true, true);
	exchange(&x, 1, &t);
	assert_int_equal(tb_noise_read(&x.hs[R], t.msg[0], t.len[0], buf, sizeof buf, &len),
			 TB_EINVAL);
	assert_dead(&x.hs[R]);

	/* A zeroed state was never started. */
	memset(&zero, 0, sizeof zero);
	assert_dead(&zero);

	/* Bad arguments. */
	assert_int_equal(tb_noise_init(NULL, TB_NOISE_INITIATOR, NULL, 0, NULL, x.s_sec[I], NULL),
			 TB_EINVAL);
	assert_int_equal(tb_noise_init(&x.hs[I], TB_NOISE_INITIATOR, NULL, 0, NULL, NULL, NULL),
			 TB_EINVAL);
	assert_dead(&x.hs[I]);
	assert_int_equal(
		tb_noise_init(&x.hs[I], (enum tb_noise_role)7, NULL, 0, NULL, x.s_sec[I], NULL),
		TB_EINVAL);
	assert_int_equal(
		tb_noise_init(&x.hs[I], TB_NOISE_INITIATOR, NULL, 5, NULL, x.s_sec[I], NULL),
		TB_EINVAL);
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], NULL, 0, buf, sizeof buf, NULL), TB_EINVAL);
	assert_dead(&x.hs[I]);
	start(&x, true, false);
	assert_int_equal(tb_noise_write(&x.hs[I], NULL, 3, buf, sizeof buf, &len), TB_EINVAL);
	assert_dead(&x.hs[I]);
	assert_int_equal(tb_noise_write(NULL, NULL, 0, buf, sizeof buf, &len), TB_EINVAL);
	assert_int_equal(tb_noise_read(NULL, zmsg, 10, buf, sizeof buf, &len), TB_EINVAL);
	assert_int_equal(tb_noise_split(NULL, &s, &r, h, rs), TB_EINVAL);
	assert_false(tb_noise_done(NULL));
	tb_wipe(&x, sizeof x);
}

/* ---- transport ---- */

static void session(struct ends *x)
{
	struct transcript t;

	new_keys(x);
	start(x, true, false);
	exchange(x, 3, &t);
	split_both(x);
}

static void test_transport_roundtrip(void **state)
{
	static struct ends x;
	static uint8_t pt[TB_NOISE_MAX_MSG], ct[TB_NOISE_MAX_MSG], got[TB_NOISE_MAX_MSG];
	static const size_t sizes[] = {0, 1, 15, 16, 17, 1000, TB_NOISE_MAX_MSG - TAGLEN};
	size_t i, clen, glen;
	int from;

	(void)state;
	session(&x);
	tb_random(pt, sizeof pt);
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (from = 0; from < 2; from++) {
			assert_int_equal(
				tb_noise_encrypt(&x.send[from], pt, sizes[i], ct, sizeof ct, &clen),
				0);
			assert_int_equal(clen, sizes[i] + TAGLEN);
			assert_int_equal(
				tb_noise_decrypt(&x.recv[1 - from], ct, clen, got, sizes[i], &glen),
				0);
			assert_int_equal(glen, sizes[i]);
			if (glen)
				assert_memory_equal(got, pt, glen);
			/* A side cannot read its own messages. */
			assert_int_equal(
				tb_noise_decrypt(&x.recv[from], ct, clen, got, sizeof got, &glen),
				TB_EBADSIG);
		}
	}
	assert_int_equal(x.send[I].n, sizeof sizes / sizeof sizes[0]);
	assert_int_equal(x.recv[R].n, x.send[I].n);
	assert_int_equal(x.recv[I].n, x.send[R].n);
	tb_wipe(&x, sizeof x);
}

static void test_transport_replay_reorder(void **state)
{
	static struct ends x;
	uint8_t ct[3][64], got[64];
	size_t clen[3], glen;
	int i;

	(void)state;
	session(&x);
	for (i = 0; i < 3; i++)
		assert_int_equal(tb_noise_encrypt(&x.send[I], (const uint8_t *)"frame", 5, ct[i],
						  sizeof ct[i], &clen[i]),
				 0);
	/* Reordered: the second before the first. */
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct[1], clen[1], got, sizeof got, &glen),
			 TB_EBADSIG);
	assert_int_equal(x.recv[R].n, 0); /* a failure does not advance */
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct[0], clen[0], got, sizeof got, &glen), 0);
	/* Replayed. */
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct[0], clen[0], got, sizeof got, &glen),
			 TB_EBADSIG);
	assert_int_equal(glen, 0);
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct[1], clen[1], got, sizeof got, &glen), 0);
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct[2], clen[2], got, sizeof got, &glen), 0);
	assert_int_equal(glen, 5);
	assert_memory_equal(got, "frame", 5);
	tb_wipe(&x, sizeof x);
}

static void test_transport_tamper(void **state)
{
	static struct ends x;
	uint8_t ct[64], bad[64], got[64];
	size_t clen, glen, bit, cut;

	(void)state;
	session(&x);
	assert_int_equal(tb_noise_encrypt(&x.send[R], (const uint8_t *)"minutes: 90", 11, ct,
					  sizeof ct, &clen),
			 0);
	for (bit = 0; bit < 8 * clen; bit++) {
		memcpy(bad, ct, clen);
		bad[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(got, 0xaa, sizeof got);
		assert_int_equal(tb_noise_decrypt(&x.recv[I], bad, clen, got, sizeof got, &glen),
				 TB_EBADSIG);
		assert_true(all_zero(got, clen - TAGLEN));
	}
	for (cut = 0; cut < clen; cut++)
		assert_int_equal(tb_noise_decrypt(&x.recv[I], ct, cut, got, sizeof got, &glen),
				 cut < TAGLEN ? TB_ETRUNCATED : TB_EBADSIG);
	/* An extra byte. */
	memcpy(bad, ct, clen);
	bad[clen] = 0;
	assert_int_equal(tb_noise_decrypt(&x.recv[I], bad, clen + 1, got, sizeof got, &glen),
			 TB_EBADSIG);
	/* After all that, the genuine one still decrypts. */
	assert_int_equal(tb_noise_decrypt(&x.recv[I], ct, clen, got, sizeof got, &glen), 0);
	assert_memory_equal(got, "minutes: 90", 11);
	tb_wipe(&x, sizeof x);
}

static void test_transport_limits(void **state)
{
	static struct ends x;
	static uint8_t big[TB_NOISE_MAX_MSG + 1], big_out[TB_NOISE_MAX_MSG + 1];
	struct tb_noise_cipher none, s, r;
	uint8_t ct[64], got[64];
	size_t clen = 99, glen = 99;

	(void)state;
	session(&x);
	/* Sizes. */
	assert_int_equal(tb_noise_encrypt(&x.send[I], big, TB_NOISE_MAX_MSG - TAGLEN + 1, big_out,
					  sizeof big_out, &clen),
			 TB_ETOOBIG);
	assert_int_equal(clen, 0);
	memset(ct, 0xaa, sizeof ct);
	assert_int_equal(
		tb_noise_encrypt(&x.send[I], (const uint8_t *)"abc", 3, ct, 3 + TAGLEN - 1, &clen),
		TB_ETOOBIG);
	assert_true(all_zero(ct, 3 + TAGLEN - 1));
	assert_int_equal(
		tb_noise_decrypt(&x.recv[R], big, TB_NOISE_MAX_MSG + 1, got, sizeof got, &glen),
		TB_ETOOBIG);
	assert_int_equal(
		tb_noise_encrypt(&x.send[I], (const uint8_t *)"abc", 3, ct, sizeof ct, &clen), 0);
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct, clen, got, 2, &glen), TB_ETOOBIG);
	assert_int_equal(tb_noise_decrypt(&x.recv[R], ct, clen, got, 3, &glen), 0);

	/* A cipher without a key. */
	memset(&none, 0, sizeof none);
	assert_int_equal(tb_noise_encrypt(&none, (const uint8_t *)"abc", 3, ct, sizeof ct, &clen),
			 TB_EINVAL);
	assert_int_equal(tb_noise_decrypt(&none, ct, 19, got, sizeof got, &glen), TB_EINVAL);
	assert_int_equal(tb_noise_encrypt(NULL, NULL, 0, ct, sizeof ct, &clen), TB_EINVAL);

	/* Nonces run out at 2^64 - 1, which is never used. */
	s = x.send[I];
	r = x.recv[R];
	s.n = r.n = UINT64_MAX - 1;
	assert_int_equal(tb_noise_encrypt(&s, (const uint8_t *)"last", 4, ct, sizeof ct, &clen), 0);
	assert_int_equal(tb_noise_decrypt(&r, ct, clen, got, sizeof got, &glen), 0);
	assert_true(s.n == UINT64_MAX && r.n == UINT64_MAX);
	assert_int_equal(tb_noise_encrypt(&s, (const uint8_t *)"more", 4, ct, sizeof ct, &clen),
			 TB_EFULL);
	assert_int_equal(clen, 0);
	assert_int_equal(tb_noise_decrypt(&r, ct, 20, got, sizeof got, &glen), TB_EFULL);
	tb_wipe(&x, sizeof x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keypair),
		cmocka_unit_test(test_xxpsk3_handshake),
		cmocka_unit_test(test_xx_handshake),
		cmocka_unit_test(test_pattern_mismatch),
		cmocka_unit_test(test_psk_mismatch),
		cmocka_unit_test(test_prologue_mismatch),
		cmocka_unit_test(test_bitflips_xxpsk3),
		cmocka_unit_test(test_bitflips_xx),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_transport_roundtrip),
		cmocka_unit_test(test_transport_replay_reorder),
		cmocka_unit_test(test_transport_tamper),
		cmocka_unit_test(test_transport_limits),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
