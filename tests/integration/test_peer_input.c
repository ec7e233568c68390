/*
 * test_peer_input.c: a running tallyd fed bad input by a fake peer written
 * here (tests/util/fed.h), speaking the real protocol over TCP on 127.0.0.1:
 * wrong federation key, another protocol version in HELLO, garbage before
 * and during the handshake, a stalled
 * handshake, oversized and truncated frames, an unknown message type,
 * entries with a bad signature, a seq gap or a wrong prev, a replay, a
 * flood, and a fork. Each time the daemon closes the connection (but for the
 * replay and the fork, which are harmless and kept), logs the peer's address
 * and the reason, keeps what it stored unchanged, and an honest peer
 * connected all along still gets its new entries through.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agree.h"
#include "fed.h"
#include "tb_node.h"

#define A 0 /* the attacked node */
#define B 1 /* an honest peer of A */
#define WAIT_MS 60000
#define CLOSE_MS 10000
#define ID_KEY 900  /* the fake peer's node identity */
#define LOG_KEY 901 /* the log the fake peer writes */

static struct tb_fed *F;
static struct tb_fake *P;
static uint8_t psk[32];
static struct tb_test_log L; /* the fake peer's log, as A holds it */

static struct tb_view view(const uint8_t *p, size_t len)
{
	struct tb_view v = {p, len};
	return v;
}

static uint8_t *find_bytes(uint8_t *hay, size_t n, const void *needle, size_t m)
{
	for (size_t i = 0; i + m <= n; i++)
		if (!memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

/* Seals the next member join of L (member no) without advancing L. */
static size_t next_join(uint8_t rec[TB_ENTRY_MAX], uint32_t no, const char *name)
{
	struct tb_keypair mk;
	struct tb_member_join j;
	tb_test_keypair(&mk, 2000 + no);
	tb_test_join(&j, no, name, &mk, -600, 0);
	return tb_test_seal_next(&L, rec, TB_KIND_MEMBER_JOIN, &j);
}

static int group_setup(void **state)
{
	(void)state;
	F = tb_fed_new("peer-input", 2);
	P = calloc(1, sizeof *P);
	assert_non_null(P);
	P->fd = -1;
	assert_int_equal(tb_fedkey_read(F->fedkey, psk), 0);
	tb_fed_link(F, B, A);
	/* Both admit the fake peer's community, so its log is stored. */
	struct tb_keypair lk;
	tb_test_keypair(&lk, LOG_KEY);
	tb_fed_admit(F, A, lk.pk.b, "FakeComm");
	tb_fed_admit(F, B, lk.pk.b, "FakeComm");
	for (uint32_t k = LOG_KEY + 2; k <= LOG_KEY + 3; k++) {
		tb_test_keypair(&lk, k);
		tb_fed_admit(F, A, lk.pk.b, k == LOG_KEY + 2 ? "Other" : "Forker");
		tb_fed_admit(F, B, lk.pk.b, k == LOG_KEY + 2 ? "Other" : "Forker");
	}
	tb_fed_start_all(F);
	tb_fed_record(F, A);
	tb_fed_record(F, B);
	tb_fed_wait_converged(F, NULL, 0, WAIT_MS);

	/* The fake peer publishes a log of its own, honestly: genesis and two
	 * members. A keeps it and relays it to B. */
	tb_test_log_init(&L, LOG_KEY);
	uint8_t recs[3][TB_ENTRY_MAX];
	struct tb_view v[3];
	struct tb_genesis g;
	tb_test_genesis(&g, "FakeComm", -600, 0);
	v[0] = view(recs[0], tb_test_seal(&L, recs[0], TB_KIND_GENESIS, &g));
	v[1] = view(recs[1], next_join(recs[1], 1, "f1"));
	tb_test_log_advance(&L, recs[1], v[1].len);
	v[2] = view(recs[2], next_join(recs[2], 2, "f2"));
	tb_test_log_advance(&L, recs[2], v[2].len);
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	assert_memory_equal(P->remote_id, F->node[A].id, TB_KEY_LEN);
	assert_int_equal(tb_fake_entries(P, v, 3), 0);
	tb_fed_wait_log_seq(F, A, L.kp.pk.b, 3, WAIT_MS);
	tb_fed_wait_log_seq(F, B, L.kp.pk.b, 3, WAIT_MS);
	tb_fake_close(P);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (P)
		tb_fake_close(P);
	free(P);
	tb_fed_free(F);
	tb_fed_kill_all();
	return 0;
}

/* The fake peer is closed before each test and after it. */
static int setup(void **state)
{
	(void)state;
	tb_fake_close(P);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	tb_fake_close(P);
	return 0;
}

/*
 * After a bad input: the daemon closes within ms, names the peer and the
 * reason in one log line, and changed nothing it held.
 */
static void expect_closed(const struct tb_fed_heads *before, const char *reason, int ms)
{
	if (!tb_fake_closed_within(P, ms)) {
		tb_fed_print_tail(F, A, 3000);
		fail_msg("the daemon did not close the connection from %s within %d ms "
			 "(expected: %s)",
			 P->addr, ms, reason);
	}
	char who[64];
	snprintf(who, sizeof who, "from %s closed: ", P->addr);
	tb_fed_wait_log_line(F, A, who, reason, WAIT_MS);
	struct tb_fed_heads after;
	tb_fed_heads(F, A, &after);
	tb_fed_assert_same_heads(F, before, &after, reason);
	tb_fake_close(P);
}

/* The honest peer still gets through: a new entry at B reaches A. */
static void honest_still_converges(void)
{
	tb_fed_record(F, B);
	tb_fed_wait_has(F, A, B, WAIT_MS);
}

/* The connection is still open: a PING is answered. */
static void expect_open(void)
{
	struct tb_peer_msg m = {.type = TB_MSG_PING};
	m.u.ping.nonce = 424242;
	assert_int_equal(tb_fake_send(P, &m), 0);
	for (;;) {
		int r = tb_fake_expect(P, TB_MSG_PONG, &m, CLOSE_MS);
		if (r != 1)
			fail_msg("no PONG (%d): the connection from %s was closed", r, P->addr);
		if (m.u.pong.nonce == 424242)
			return;
	}
}

/* All sent before is processed and stored: the daemon answers a PING in the
 * read burst it arrives in, and appends what that burst carried only after
 * it; a second PING, sent once the first is answered, comes in a later burst. */
static void barrier(void)
{
	expect_open();
	expect_open();
}

static void test_wrong_federation_key(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	uint8_t other[32];
	tb_random(other, sizeof other);
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_hs1(P, other), 0);
	/* Messages 1 and 2 do not depend on the PSK; message 3 does. */
	assert_int_equal(tb_fake_hs2(P, CLOSE_MS), 0);
	assert_int_equal(tb_fake_hs3(P), 0);
	assert_true(tb_fake_hello(P, CLOSE_MS) != 0);
	expect_closed(&before, "handshake failed: wrong federation key", CLOSE_MS);
	honest_still_converges();
}

/* A node of another protocol version (2: before ANSWERS, which it would
 * close the connection on; 4: a newer one) is refused at HELLO, both
 * versions named to it (BYE) and in the log; nothing stored changes. */
static void test_other_protocol_version(void **state)
{
	(void)state;
	static const struct {
		unsigned version;
		const char *bye, *log;
	} cases[] = {
		{2, "this node speaks protocol 3, not 2",
		 "peer speaks protocol 2, this node 3: upgrade it"},
		{4, "this node speaks protocol 3, not 4",
		 "peer speaks protocol 4, this node 3: upgrade this node"},
	};
	assert_int_equal(TB_PROTO_VERSION, 3);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tb_fed_heads before;
		tb_fed_heads(F, A, &before);
		assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
		assert_int_equal(tb_fake_hs1(P, psk), 0);
		assert_int_equal(tb_fake_hs2(P, CLOSE_MS), 0);
		assert_int_equal(tb_fake_hs3(P), 0);
		uint8_t proof[33];
		memcpy(proof, P->hh, 32);
		proof[32] = 0; /* the initiator signs */
		struct tb_peer_msg m = {.type = TB_MSG_HELLO};
		m.u.hello.version = cases[i].version;
		memcpy(m.u.hello.node_id, P->id.pk.b, TB_KEY_LEN);
		tb_sign(m.u.hello.sig, &P->id, TB_CTX_HANDSHAKE, proof, sizeof proof);
		m.u.hello.name = view((const uint8_t *)"Elsewhere", 9);
		assert_int_equal(tb_fake_send(P, &m), 0);
		/* The daemon's own HELLO says its version; then its BYE. */
		assert_int_equal(tb_fake_expect(P, TB_MSG_HELLO, &m, CLOSE_MS), 1);
		assert_int_equal(m.u.hello.version, TB_PROTO_VERSION);
		assert_int_equal(tb_fake_expect(P, TB_MSG_BYE, &m, CLOSE_MS), 1);
		assert_int_equal(m.u.bye.reason.len, strlen(cases[i].bye));
		assert_memory_equal(m.u.bye.reason.p, cases[i].bye, m.u.bye.reason.len);
		expect_closed(&before, cases[i].log, CLOSE_MS);
	}
	honest_still_converges();
}

static void test_garbage_before_handshake(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	uint8_t junk[258];
	tb_random(junk, sizeof junk);
	junk[0] = 1; /* a 256-byte "message 1" */
	junk[1] = 0;
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_send_raw(P, junk, sizeof junk), 0);
	expect_closed(&before, "handshake failed", CLOSE_MS);

	/* An empty frame, and a short one. */
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_send_raw(P, "\0\0garbage", 9), 0);
	expect_closed(&before, "empty frame", CLOSE_MS);
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_send_raw(P, "\0\5hello", 7), 0);
	expect_closed(&before, "handshake failed", CLOSE_MS);
	honest_still_converges();
}

static void test_garbage_mid_handshake(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	uint8_t junk[96];
	tb_random(junk, sizeof junk);
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_hs1(P, psk), 0);
	assert_int_equal(tb_fake_hs2(P, CLOSE_MS), 0);
	assert_int_equal(tb_fake_send_frame(P, junk, sizeof junk), 0); /* not message 3 */
	expect_closed(&before, "handshake failed", CLOSE_MS);

	/* A genuine message 3 with one bit flipped. */
	uint8_t out[256];
	size_t olen;
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_hs1(P, psk), 0);
	assert_int_equal(tb_fake_hs2(P, CLOSE_MS), 0);
	assert_int_equal(tb_noise_write(&P->hs, NULL, 0, out, sizeof out, &olen), 0);
	out[olen / 2] ^= 0x10;
	assert_int_equal(tb_fake_send_frame(P, out, olen), 0);
	expect_closed(&before, "handshake failed", CLOSE_MS);
	honest_still_converges();
}

static void test_stalled_handshake(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	uint64_t t0 = tb_fed_now_ms();
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_hs1(P, psk), 0);
	assert_int_equal(tb_fake_hs2(P, CLOSE_MS), 0);
	/* ... and nothing more. */
	expect_closed(&before, "handshake did not finish in time", 30000);
	uint64_t took = tb_fed_now_ms() - t0;
	if (took < 4500 || took > 30000)
		fail_msg("a stalled handshake was closed after %llu ms, not about 5 s",
			 (unsigned long long)took);
	honest_still_converges();
}

static void test_oversized_frame(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	static uint8_t big[65535];
	tb_random(big, sizeof big);

	/* The largest frame as handshake message 1: it cannot hold that much. */
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_send_frame(P, big, sizeof big), 0);
	expect_closed(&before, "handshake failed", CLOSE_MS);

	/* The largest frame of garbage after the handshake. */
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	assert_int_equal(tb_fake_send_frame(P, big, sizeof big), 0);
	expect_closed(&before, "frame does not authenticate", CLOSE_MS);

	/* The largest frame, authentic, holding an ENTRIES message over the
	 * message cap: [4, [bin16 of 65512 bytes]]. */
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	size_t plen = 65535 - 16, blen = plen - 7;
	big[0] = 0x92;
	big[1] = 0x04;
	big[2] = 0x91;
	big[3] = 0xc5;
	big[4] = (uint8_t)(blen >> 8);
	big[5] = (uint8_t)blen;
	big[6] = 0; /* a zero record length, were it read */
	assert_int_equal(tb_fake_send_plain(P, big, plen), 0);
	expect_closed(&before, "malformed message", CLOSE_MS);

	/* A frame that says 1000 bytes, 10 of them, then the end. */
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	assert_int_equal(tb_fake_send_raw(P,
					  "\x03\xe8"
					  "0123456789",
					  12),
			 0);
	shutdown(P->fd, SHUT_WR);
	expect_closed(&before, "peer closed the connection", CLOSE_MS);

	/* The same in the middle of the handshake. */
	assert_int_equal(tb_fake_connect(P, F->node[A].port, ID_KEY), 0);
	assert_int_equal(tb_fake_send_raw(P,
					  "\x00\x30"
					  "0123456789",
					  12),
			 0);
	shutdown(P->fd, SHUT_WR);
	expect_closed(&before, "peer closed the connection", CLOSE_MS);

	/* After the handshake, a frame too short to hold a tag. */
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	assert_int_equal(tb_fake_send_raw(P,
					  "\x00\x05"
					  "01234",
					  7),
			 0);
	expect_closed(&before, "frame too short", CLOSE_MS);
	honest_still_converges();
}

static void test_unknown_message_type(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	static const uint8_t msg[] = {0x92, 99, 0x90}; /* [99, []] */
	assert_int_equal(tb_fake_send_plain(P, msg, sizeof msg), 0);
	expect_closed(&before, "malformed message", CLOSE_MS);

	/* A known type with a body of the wrong shape: SYNC as [2, [1]]. */
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	static const uint8_t bad[] = {0x92, 0x02, 0x91, 0x01};
	assert_int_equal(tb_fake_send_plain(P, bad, sizeof bad), 0);
	expect_closed(&before, "malformed message", CLOSE_MS);

	/* A second HELLO. */
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	struct tb_peer_msg m = {.type = TB_MSG_HELLO};
	m.u.hello.version = TB_PROTO_VERSION;
	memcpy(m.u.hello.node_id, P->id.pk.b, TB_KEY_LEN);
	assert_int_equal(tb_fake_send(P, &m), 0);
	expect_closed(&before, "HELLO sent twice", CLOSE_MS);
	honest_still_converges();
}

/* Sends one record of the fake log on a fresh honest connection and checks
 * that A refuses it with reason. */
static void refuse_entry(const uint8_t *rec, size_t len, const char *reason)
{
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	struct tb_view v = view(rec, len);
	assert_int_equal(tb_fake_entries(P, &v, 1), 0);
	expect_closed(&before, reason, CLOSE_MS);
	char id[17];
	tb_hex_encode(id, L.kp.pk.b, 8);
	assert_true(tb_fed_log_has(F, A, P->addr, id)); /* names the log too */
}

static void test_bad_signature(void **state)
{
	(void)state;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = next_join(rec, 3, "f3");
	rec[len - 1] ^= 0x01; /* the signature's last byte */
	refuse_entry(rec, len, "signature does not verify");
	/* A signed byte changed under the signature. */
	len = next_join(rec, 3, "f3");
	uint8_t *name = find_bytes(rec, len, "f3", 2);
	assert_non_null(name);
	name[1] = '4';
	refuse_entry(rec, len, "signature does not verify");
	/* Signed by another key. */
	struct tb_keypair other;
	struct tb_member_join j;
	struct tb_keypair mk;
	tb_test_keypair(&other, LOG_KEY + 1);
	tb_test_keypair(&mk, 2003);
	tb_test_join(&j, 3, "f3", &mk, -600, 0);
	uint8_t forged[TB_ENTRY_MAX];
	size_t flen = tb_test_seal_at(forged, &other, L.seq + 1, L.head, L.timestamp,
				      TB_KIND_MEMBER_JOIN, &j);
	/* Same log id claimed, other key's signature: splice the log id in. */
	uint8_t *at = find_bytes(forged, flen, other.pk.b, TB_KEY_LEN);
	assert_non_null(at);
	memcpy(at, L.kp.pk.b, TB_KEY_LEN);
	refuse_entry(forged, flen, "signature does not verify");
	honest_still_converges();
}

static void test_seq_gap(void **state)
{
	(void)state;
	struct tb_keypair mk;
	struct tb_member_join j;
	tb_test_keypair(&mk, 2005);
	tb_test_join(&j, 3, "f3", &mk, -600, 0);
	uint8_t rec[TB_ENTRY_MAX];
	size_t len = tb_test_seal_at(rec, &L.kp, L.seq + 2, L.head, L.timestamp,
				     TB_KIND_MEMBER_JOIN, &j);
	refuse_entry(rec, len, "a gap");
	/* Entry 5 of a log A does not hold at all. */
	struct tb_test_log other;
	tb_test_log_init(&other, LOG_KEY + 2);
	len = tb_test_seal_at(rec, &other.kp, 5, other.head, other.timestamp, TB_KIND_MEMBER_JOIN,
			      &j);
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	struct tb_view v = view(rec, len);
	assert_int_equal(tb_fake_entries(P, &v, 1), 0);
	expect_closed(&before, "does not hold yet", CLOSE_MS);
	honest_still_converges();
}

static void test_wrong_prev(void **state)
{
	(void)state;
	struct tb_keypair mk;
	struct tb_member_join j;
	tb_test_keypair(&mk, 2006);
	tb_test_join(&j, 3, "f3", &mk, -600, 0);
	uint8_t rec[TB_ENTRY_MAX], prev[TB_HASHLEN];
	memcpy(prev, L.head, TB_HASHLEN);
	prev[0] ^= 1;
	size_t len =
		tb_test_seal_at(rec, &L.kp, L.seq + 1, prev, L.timestamp, TB_KIND_MEMBER_JOIN, &j);
	refuse_entry(rec, len, "prev is not the hash");
	honest_still_converges();
}

/* Reads entry seq of log_id from node i's ledger. */
static size_t held_entry(size_t i, const uint8_t *log_id, uint64_t seq, uint8_t *out)
{
	char path[TB_FED_PATH + 64];
	snprintf(path, sizeof path, "%s/ledger", F->node[i].data);
	struct tb_store *s;
	assert_int_equal(tb_store_open(&s, path, TB_STORE_RDONLY), 0);
	size_t len = 0;
	assert_int_equal(tb_store_get_entry(s, log_id, seq, out, TB_ENTRY_MAX, &len), 0);
	tb_store_free(s);
	return len;
}

static void test_replay(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	/* Everything A holds of three logs, sent back to it, twice. */
	static uint8_t recs[64][TB_ENTRY_MAX];
	struct tb_view v[64];
	size_t n = 0;
	const uint8_t *logs[3] = {L.kp.pk.b, F->node[A].id, F->node[B].id};
	for (size_t k = 0; k < 3; k++) {
		const struct tb_head *h = tb_fed_find(&before, logs[k]);
		assert_non_null(h);
		for (uint64_t s = 1; s <= h->seq && n < 64; s++, n++)
			v[n] = view(recs[n], held_entry(A, logs[k], s, recs[n]));
	}
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	assert_int_equal(tb_fake_entries(P, v, n), 0);
	assert_int_equal(tb_fake_entries(P, v, n), 0);
	/* Old entries of its own log, once more, out of order. */
	assert_int_equal(tb_fake_entries(P, &v[1], 1), 0);
	barrier();
	struct tb_fed_heads after;
	tb_fed_heads(F, A, &after);
	tb_fed_assert_same_heads(F, &before, &after, "replay");
	tb_fake_close(P);
	honest_still_converges();
}

static void test_flood(void **state)
{
	(void)state;
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	/* PINGs as fast as they go, in bursts of 5000 frames. */
	static uint8_t burst[5000 * 40];
	size_t sent = 0;
	bool closed = false;
	while (!closed && sent < 400000) {
		size_t len = 0;
		for (int i = 0; i < 5000; i++) {
			uint8_t pt[32], ct[64];
			size_t plen, clen;
			struct tb_peer_msg m = {.type = TB_MSG_PING};
			m.u.ping.nonce = sent + (size_t)i;
			assert_int_equal(tb_peer_msg_encode(pt, sizeof pt, &plen, &m), 0);
			assert_int_equal(tb_noise_encrypt(&P->tx, pt, plen, ct, sizeof ct, &clen),
					 0);
			burst[len] = (uint8_t)(clen >> 8);
			burst[len + 1] = (uint8_t)clen;
			memcpy(burst + len + 2, ct, clen);
			len += 2 + clen;
		}
		closed = tb_fake_send_raw(P, burst, len) != 0;
		sent += 5000;
		/* Drop the PONGs so that our side never blocks the daemon. */
		if (!closed)
			closed = tb_fake_drain(P) == 0;
	}
	print_message("flood: closed after at most %zu PINGs\n", sent);
	expect_closed(&before, "flooding", CLOSE_MS);
	honest_still_converges();
}

static void test_fork(void **state)
{
	(void)state;
	/* Two validly signed entries at seq 4 of the fake log. */
	uint8_t a[TB_ENTRY_MAX], b[TB_ENTRY_MAX], c[TB_ENTRY_MAX];
	size_t alen = next_join(a, 3, "fa");
	size_t blen = next_join(b, 3, "fb");
	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	struct tb_view va = view(a, alen), vb = view(b, blen);
	assert_int_equal(tb_fake_entries(P, &va, 1), 0);
	tb_fed_wait_log_seq(F, A, L.kp.pk.b, 4, WAIT_MS);
	tb_test_log_advance(&L, a, alen);
	assert_int_equal(tb_fake_entries(P, &vb, 1), 0);

	/* The proof comes back to us (A sends it to every peer). */
	struct tb_peer_msg m;
	int r = tb_fake_expect(P, TB_MSG_FORK, &m, WAIT_MS);
	if (r != 1) {
		tb_fed_print_tail(F, A, 3000);
		fail_msg("no FORK message from A (%d: %s)", r, r ? "timeout" : "closed");
	}
	assert_true((m.u.fork.a.len == alen && !memcmp(m.u.fork.a.p, a, alen)) ||
		    (m.u.fork.b.len == alen && !memcmp(m.u.fork.b.p, a, alen)));
	assert_true((m.u.fork.a.len == blen && !memcmp(m.u.fork.a.p, b, blen)) ||
		    (m.u.fork.b.len == blen && !memcmp(m.u.fork.b.p, b, blen)));
	/* The connection stays open: a fork is the log's author's doing. */
	expect_open();
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, L.kp.pk.b, TB_KEY_LEN);
	tb_fed_wait_log_line(F, A, "FORK of log", P->addr, WAIT_MS);

	/* A shows it: the proof, and the log marked forked. */
	assert_int_equal(TB_FED_TALLY(F, A, "forks", "--json"), 0);
	assert_non_null(strstr(F->res.out, id));
	assert_non_null(strstr(F->res.out, "\"seq\":4"));
	assert_int_equal(TB_FED_TALLY(F, A, "logs", "--json"), 0);
	char want[200];
	snprintf(want, sizeof want,
		 "\"log\":\"%s\",\"community_name\":\"FakeComm\",\"own\":false,\"seq\":4,", id);
	char *at = strstr(F->res.out, want);
	if (!at)
		fail_msg("A's logs: %s", F->res.out);
	char *end = strchr(at, '}');
	assert_non_null(end);
	*end = '\0';
	assert_non_null(strstr(at, "\"forked\":true"));

	/* The frozen log takes nothing more (quietly), and A stays up. */
	struct tb_fed_heads before;
	tb_fed_heads(F, A, &before);
	size_t clen = next_join(c, 4, "fc");
	struct tb_view vc = view(c, clen);
	assert_int_equal(tb_fake_entries(P, &vc, 1), 0);
	barrier();
	struct tb_fed_heads after;
	tb_fed_heads(F, A, &after);
	tb_fed_assert_same_heads(F, &before, &after, "entry of a forked log");
	tb_fake_close(P);

	/* B, a peer of A, receives the proof too. */
	uint64_t until = tb_fed_now_ms() + WAIT_MS;
	for (;;) {
		assert_int_equal(TB_FED_TALLY(F, B, "forks", "--json"), 0);
		if (strstr(F->res.out, id))
			break;
		if (tb_fed_now_ms() > until) {
			tb_fed_print_tail(F, B, 3000);
			fail_msg("B never got the fork proof: %s", F->res.out);
		}
		tb_fed_sleep_ms(50);
	}
	tb_fed_wait_log_line(F, B, "fork proof received", NULL, WAIT_MS);
	/* B held the log before the proof came: it is frozen there too. */
	assert_int_equal(TB_FED_TALLY(F, B, "logs", "--json"), 0);
	snprintf(want, sizeof want, "\"log\":\"%s\",", id);
	at = strstr(F->res.out, want);
	if (!at)
		fail_msg("B's logs: %s", F->res.out);
	end = strchr(at, '}');
	assert_non_null(end);
	*end = '\0';
	assert_non_null(strstr(at, "\"forked\":true"));
	/* verify reports the frozen log as the auditor does. */
	assert_int_equal(TB_FED_TALLY(F, A, "verify"), 1);
	assert_non_null(strstr(F->res.out, "EFORKED"));
	assert_false(tb_fed_agrees(F, A));
	honest_still_converges();
}

/* A fork proof of a log A does not hold yet: A keeps it, passes it on, and
 * takes none of that log afterwards. */
static void test_fork_proof_before_log(void **state)
{
	(void)state;
	struct tb_test_log x;
	tb_test_log_init(&x, LOG_KEY + 3);
	uint8_t g[TB_ENTRY_MAX], a[TB_ENTRY_MAX], b[TB_ENTRY_MAX];
	struct tb_genesis gen;
	struct tb_member_join ja, jb;
	struct tb_keypair mk;
	tb_test_keypair(&mk, 2010);
	tb_test_genesis(&gen, "Forker", -600, 0);
	tb_test_join(&ja, 1, "xa", &mk, -600, 0);
	tb_test_join(&jb, 1, "xb", &mk, -600, 0);
	size_t glen = tb_test_seal(&x, g, TB_KIND_GENESIS, &gen);
	size_t alen = tb_test_seal_next(&x, a, TB_KIND_MEMBER_JOIN, &ja);
	size_t blen = tb_test_seal_next(&x, b, TB_KIND_MEMBER_JOIN, &jb);

	tb_fake_open(P, F->node[A].port, psk, ID_KEY);
	struct tb_peer_msg m = {.type = TB_MSG_FORK};
	m.u.fork.a = view(a, alen);
	m.u.fork.b = view(b, blen);
	assert_int_equal(tb_fake_send(P, &m), 0);
	expect_open();
	tb_fed_wait_log_line(F, A, "fork proof received from", P->addr, WAIT_MS);

	/* Then the log itself, up to one side of the fork. */
	struct tb_view v[2] = {view(g, glen), view(a, alen)};
	assert_int_equal(tb_fake_entries(P, v, 2), 0);
	barrier();
	struct tb_fed_heads hs;
	tb_fed_heads(F, A, &hs);
	const struct tb_head *h = tb_fed_find(&hs, x.kp.pk.b);
	if (h && h->seq)
		fail_msg("A took %llu entries of a log it holds a fork proof of",
			 (unsigned long long)h->seq);
	char id[2 * TB_KEY_LEN + 1];
	tb_hex_encode(id, x.kp.pk.b, TB_KEY_LEN);
	assert_int_equal(TB_FED_TALLY(F, A, "forks", "--json"), 0);
	assert_non_null(strstr(F->res.out, id));
	tb_fake_close(P);

	/* B gets the proof from A, and none of the log either. */
	uint64_t until = tb_fed_now_ms() + WAIT_MS;
	for (;;) {
		assert_int_equal(TB_FED_TALLY(F, B, "forks", "--json"), 0);
		if (strstr(F->res.out, id))
			break;
		if (tb_fed_now_ms() > until) {
			tb_fed_print_tail(F, B, 3000);
			fail_msg("B never got the fork proof: %s", F->res.out);
		}
		tb_fed_sleep_ms(50);
	}
	honest_still_converges();
	tb_fed_heads(F, B, &hs);
	h = tb_fed_find(&hs, x.kp.pk.b);
	assert_true(!h || h->seq == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wrong_federation_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_protocol_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_before_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_mid_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_frame, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_message_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seq_gap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_prev, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fork_proof_before_log, setup, teardown),
	};
	if (tb_crypto_init())
		return 1;
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
