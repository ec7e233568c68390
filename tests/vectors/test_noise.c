/*
 * test_noise.c: crypto/noise.c against the cacophony test vectors of
 * Noise_XX_25519_ChaChaPoly_SHA256 and Noise_XXpsk3_25519_ChaChaPoly_SHA256
 * (tests/vectors/noise, from mcginty/snow). For each vector an initiator and a
 * responder are started with its statics, ephemerals, prologue and PSK and
 * exchange every message in turn: each ciphertext must equal the vector's byte
 * for byte and decrypt to its payload on the other side, and the handshake
 * hash must match the vector's (its handshake_hash is optional in the format:
 * without it, both sides' hashes must agree). Vectors of other protocols are skipped; given files
 * on the command line it replays those instead of the shipped one. Fails if no vector at all was
 * run.
 *
 * Direction: message i is sent by the initiator when i is even, by the
 * responder when odd, for the transport messages too (cacophony and snow
 * keep alternating after the handshake; in XX the responder sends first
 * after the third message). The test follows that and checks it is not
 * vacuous: the other side's sending cipher gives a different ciphertext.
 */
#include "testutil.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tb_noise.h"

#define MAX_ARGS 256
#define KEYLEN TB_NOISE_KEY_LEN
#define HASHLEN TB_NOISE_HASH_LEN
#define HANDSHAKE_MSGS 3

static const char name_xx[] = "Noise_XX_25519_ChaChaPoly_SHA256";
static const char name_xxpsk3[] = "Noise_XXpsk3_25519_ChaChaPoly_SHA256";

struct run {
	const char *paths[MAX_ARGS];
	size_t npaths;
	bool is_default;
};

static struct run g_run;

static int group_setup(void **state)
{
	*state = &g_run;
	return tb_crypto_init() == 0 ? 0 : -1;
}

/* ---- hex ---- */

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex into out (cap bytes); the length, or -1 if bad or too long. */
static long unhex(uint8_t *out, size_t cap, const char *hex)
{
	size_t len = strlen(hex), i;

	if (len % 2 || len / 2 > cap)
		return -1;
	for (i = 0; i < len / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(len / 2);
}

static void test_unhex(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(unhex(out, sizeof out, ""), 0);
	assert_int_equal(unhex(out, sizeof out, "00fFa5"), 3);
	assert_memory_equal(out, "\x00\xff\xa5", 3);
	assert_int_equal(unhex(out, sizeof out, "abc"), -1);
	assert_int_equal(unhex(out, sizeof out, "zz"), -1);
	assert_int_equal(unhex(out, sizeof out, "0011223344"), -1);
}

/* ---- one vector ---- */

struct side {
	uint8_t prologue[1024];
	size_t prologue_len;
	uint8_t psk[KEYLEN];
	bool has_psk;
	uint8_t s[KEYLEN], e[KEYLEN];
};

struct tally {
	unsigned xx, xxpsk3; /* vectors run */
	unsigned skipped;    /* other protocols */
	unsigned messages;   /* messages checked */
	unsigned failed;
};

/* Fixed-length hex field; false if missing or of another length. */
static bool get_key(json_t *v, const char *key, uint8_t out[KEYLEN])
{
	json_t *f = json_object_get(v, key);

	return json_is_string(f) && unhex(out, KEYLEN, json_string_value(f)) == KEYLEN;
}

/* "init_" or "resp_" fields; want_psk says whether the suite has one. */
static bool get_side(json_t *v, const char *pfx, bool want_psk, struct side *s)
{
	char key[32];
	json_t *f;
	long n;

	memset(s, 0, sizeof *s);
	snprintf(key, sizeof key, "%sprologue", pfx);
	f = json_object_get(v, key);
	if (!json_is_string(f))
		return false;
	n = unhex(s->prologue, sizeof s->prologue, json_string_value(f));
	if (n < 0)
		return false;
	s->prologue_len = (size_t)n;
	snprintf(key, sizeof key, "%spsks", pfx);
	f = json_object_get(v, key);
	if (want_psk) {
		if (!json_is_array(f) || json_array_size(f) != 1 ||
		    !json_is_string(json_array_get(f, 0)) ||
		    unhex(s->psk, KEYLEN, json_string_value(json_array_get(f, 0))) != KEYLEN)
			return false;
		s->has_psk = true;
	} else if (f && !(json_is_array(f) && json_array_size(f) == 0)) {
		return false;
	}
	snprintf(key, sizeof key, "%sstatic", pfx);
	if (!get_key(v, key, s->s))
		return false;
	snprintf(key, sizeof key, "%sephemeral", pfx);
	return get_key(v, key, s->e);
}

/* Both ends of one vector. */
struct pair {
	struct tb_noise_hs hs[2]; /* 0: initiator, 1: responder */
	struct tb_noise_cipher send[2], recv[2];
	uint8_t hash[2][HASHLEN];
	uint8_t remote[2][KEYLEN];
	uint8_t s_pub[2][KEYLEN];
};

static uint8_t g_payload[TB_NOISE_MAX_MSG], g_ct[TB_NOISE_MAX_MSG];
static uint8_t g_out[TB_NOISE_MAX_MSG], g_got[TB_NOISE_MAX_MSG];

#define FAIL(...)                                           \
	do {                                                \
		print_error("%s: vector %zu: ", where, vi); \
		print_error(__VA_ARGS__);                   \
		print_error("\n");                          \
		return false;                               \
	} while (0)

/* Splits both sides after the handshake and checks hash and statics. */
static bool check_split(struct pair *p, json_t *v, const char *where, size_t vi)
{
	uint8_t want[HASHLEN];
	int k, rc;

	for (k = 0; k < 2; k++) {
		if (!tb_noise_done(&p->hs[k]))
			FAIL("side %d not done after the handshake", k);
		rc = tb_noise_split(&p->hs[k], &p->send[k], &p->recv[k], p->hash[k], p->remote[k]);
		if (rc)
			FAIL("side %d: split: %s", k, tb_errname(rc));
		if (tb_noise_done(&p->hs[k]))
			FAIL("side %d still done after split", k);
	}
	/* The vector format makes handshake_hash optional: when absent, the
	 * two sides must still agree on it. */
	json_t *hh = json_object_get(v, "handshake_hash");
	if (hh && !get_key(v, "handshake_hash", want))
		FAIL("bad handshake_hash");
	if (!hh)
		memcpy(want, p->hash[0], HASHLEN);
	if (memcmp(p->hash[0], want, HASHLEN) || memcmp(p->hash[1], want, HASHLEN))
		FAIL("handshake hash differs");
	if (memcmp(p->remote[0], p->s_pub[1], KEYLEN) || memcmp(p->remote[1], p->s_pub[0], KEYLEN))
		FAIL("remote static differs");
	if (memcmp(p->send[0].k, p->recv[1].k, KEYLEN) ||
	    memcmp(p->send[1].k, p->recv[0].k, KEYLEN) ||
	    !memcmp(p->send[0].k, p->send[1].k, KEYLEN))
		FAIL("split keys do not pair up");
	return true;
}

/* Message i: sent by side i % 2 (0 the initiator), read by the other. */
static bool run_message(struct pair *p, size_t i, json_t *m, const char *where, size_t vi)
{
	int from = (int)(i % 2), to = 1 - from, rc;
	json_t *fp = json_object_get(m, "payload");
	json_t *fc = json_object_get(m, "ciphertext");
	long plen, clen;
	size_t olen, glen;

	if (!json_is_string(fp) || !json_is_string(fc))
		FAIL("message %zu: no payload or ciphertext", i);
	plen = unhex(g_payload, sizeof g_payload, json_string_value(fp));
	clen = unhex(g_ct, sizeof g_ct, json_string_value(fc));
	if (plen < 0 || clen < 0)
		FAIL("message %zu: bad hex", i);
	if (i < HANDSHAKE_MSGS) {
		rc = tb_noise_write(&p->hs[from], g_payload, (size_t)plen, g_out, sizeof g_out,
				    &olen);
		if (rc)
			FAIL("message %zu: write: %s", i, tb_errname(rc));
	} else {
		struct tb_noise_cipher other = p->send[to];

		rc = tb_noise_encrypt(&p->send[from], g_payload, (size_t)plen, g_out, sizeof g_out,
				      &olen);
		if (rc)
			FAIL("message %zu: encrypt: %s", i, tb_errname(rc));
		/* The direction matters: the other sender's key differs. */
		rc = tb_noise_encrypt(&other, g_payload, (size_t)plen, g_got, sizeof g_got, &glen);
		if (rc || (glen == (size_t)clen && !memcmp(g_got, g_ct, glen)))
			FAIL("message %zu: direction not checked", i);
	}
	if (olen != (size_t)clen || memcmp(g_out, g_ct, olen))
		FAIL("message %zu: ciphertext differs", i);
	if (i < HANDSHAKE_MSGS)
		rc = tb_noise_read(&p->hs[to], g_ct, (size_t)clen, g_got, sizeof g_got, &glen);
	else
		rc = tb_noise_decrypt(&p->recv[to], g_ct, (size_t)clen, g_got, sizeof g_got, &glen);
	if (rc)
		FAIL("message %zu: read: %s", i, tb_errname(rc));
	if (glen != (size_t)plen || (glen && memcmp(g_got, g_payload, glen)))
		FAIL("message %zu: payload differs", i);
	return true;
}

static bool run_vector(json_t *v, bool psk, const char *where, size_t vi, struct tally *tl)
{
	static struct side side[2];
	static struct pair p;
	json_t *msgs = json_object_get(v, "messages"), *m;
	size_t i;
	int k, rc;

	memset(&p, 0, sizeof p);
	if (!get_side(v, "init_", psk, &side[0]) || !get_side(v, "resp_", psk, &side[1]))
		FAIL("missing or malformed keys, prologue or psks");
	if (!json_is_array(msgs) || json_array_size(msgs) < HANDSHAKE_MSGS)
		FAIL("fewer than %d messages", HANDSHAKE_MSGS);
	for (k = 0; k < 2; k++) {
		rc = tb_noise_init(&p.hs[k], k ? TB_NOISE_RESPONDER : TB_NOISE_INITIATOR,
				   side[k].prologue, side[k].prologue_len,
				   side[k].has_psk ? side[k].psk : NULL, side[k].s, side[k].e);
		if (rc)
			FAIL("side %d: init: %s", k, tb_errname(rc));
		tb_noise_public_key(p.s_pub[k], side[k].s);
	}
	json_array_foreach(msgs, i, m)
	{
		if (!run_message(&p, i, m, where, vi))
			return false;
		tl->messages++;
		if (i == HANDSHAKE_MSGS - 1 && !check_split(&p, v, where, vi))
			return false;
	}
	tb_wipe(&p, sizeof p);
	tb_wipe(side, sizeof side);
	return true;
}

#undef FAIL

static void run_file(const char *path, struct tally *tl)
{
	json_error_t jerr;
	json_t *root, *vecs, *v, *name;
	size_t vi;

	root = json_load_file(path, 0, &jerr);
	if (!root) {
		print_error("%s: %s (line %d)\n", path, jerr.text, jerr.line);
		tl->failed++;
		return;
	}
	vecs = json_object_get(root, "vectors");
	if (!json_is_array(vecs)) {
		print_error("%s: no \"vectors\" array\n", path);
		tl->failed++;
		json_decref(root);
		return;
	}
	json_array_foreach(vecs, vi, v)
	{
		bool psk;

		name = json_object_get(v, "protocol_name");
		if (!json_is_string(name)) {
			print_error("%s: vector %zu: no protocol_name\n", path, vi);
			tl->failed++;
			continue;
		}
		if (strcmp(json_string_value(name), name_xx) == 0) {
			psk = false;
		} else if (strcmp(json_string_value(name), name_xxpsk3) == 0) {
			psk = true;
		} else {
			tl->skipped++;
			continue;
		}
		if (!run_vector(v, psk, path, vi, tl))
			tl->failed++;
		else if (psk)
			tl->xxpsk3++;
		else
			tl->xx++;
	}
	json_decref(root);
}

static void test_vectors(void **state)
{
	struct run *r = *state;
	struct tally tl = {0};
	size_t i;

	for (i = 0; i < r->npaths; i++)
		run_file(r->paths[i], &tl);
	print_message("noise: %u XX and %u XXpsk3 vectors, %u messages, "
		      "%u skipped, %u failed\n",
		      tl.xx, tl.xxpsk3, tl.messages, tl.skipped, tl.failed);
	assert_int_equal(tl.failed, 0);
	assert_true(tl.xx + tl.xxpsk3 > 0);
	if (r->is_default) {
		/* The shipped file: both suites. */
		assert_true(tl.xx > 0);
		assert_true(tl.xxpsk3 > 0);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unhex),
		cmocka_unit_test(test_vectors),
	};
	int i;

	if (argc > 1) {
		if (argc - 1 > MAX_ARGS) {
			fprintf(stderr, "%s: at most %d files\n", argv[0], MAX_ARGS);
			return 2;
		}
		for (i = 1; i < argc; i++)
			g_run.paths[g_run.npaths++] = argv[i];
	} else {
		g_run.paths[g_run.npaths++] = TB_SOURCE_DIR
			"/tests/vectors/noise/cacophony-XX-25519-ChaChaPoly-SHA256.json";
		g_run.is_default = true;
	}
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
