/*
 * fuzz_hs.h: the body of fuzz_handshake_responder.c and
 * fuzz_handshake_initiator.c: one side of the daemon's XXpsk3 handshake
 * ("us": fixed keys, prologue and PSK as conn.c uses them, payload buffers
 * of 256 bytes as conn.c has) against input from the fuzzer. Input, after a
 * mode byte:
 *
 * mode bit 0 clear, raw: the peer's messages are the input. The responder
 *   reads [u16 big-endian n][message 1: n bytes][message 3: the rest]; the
 *   initiator sends its (fixed) message 1 and reads the rest as message 2.
 * mode bit 0 set, honest peer: [t1][t2][l1][l2][eph 32][static 32][payload]:
 *   the peer runs the protocol with the input's keys and sends payloads of
 *   2*l1 and 2*l2 bytes (cut from the payload bytes, over 256 is too big
 *   for us); t1/t2, if not 0, flip one byte (index t-1 modulo its length) of
 *   the peer's first/second message. An untampered handshake within the
 *   payload cap must complete with equal handshake hashes, each side knowing
 *   the other's static key, and transport ciphers that work both ways; a
 *   tampered message must be refused.
 *
 * Every failure must leave the state dead (any further call TB_EINVAL).
 */
#ifndef TB_FUZZ_HS_H
#define TB_FUZZ_HS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "tb_crypto.h"
#include "tb_noise.h"

#define FUZZ_HS_CAP 256 /* conn.c's handshake payload and message buffers */

static inline void fuzz_hs_dead(struct tb_noise_hs *hs)
{
	uint8_t in[64] = {0}, b[128];
	size_t n;
	TB_ASSERT(!hs->live);
	TB_ASSERT(tb_noise_read(hs, in, sizeof in, b, sizeof b, &n) == TB_EINVAL);
	TB_ASSERT(tb_noise_write(hs, NULL, 0, b, sizeof b, &n) == TB_EINVAL);
}

static inline void fuzz_hs_init(struct tb_noise_hs *hs, enum tb_noise_role role,
				const uint8_t s[32], const uint8_t e[32])
{
	uint8_t psk[32];
	fuzz_fill(psk, FUZZ_PSK);
	TB_ASSERT(tb_noise_init(hs, role, (const uint8_t *)FUZZ_PROLOGUE, strlen(FUZZ_PROLOGUE),
				psk, s, e) == 0);
}

static inline void fuzz_hs_ours(struct tb_noise_hs *hs, bool responder)
{
	uint8_t s[32], e[32];
	fuzz_fill(s, responder ? FUZZ_RESP_STATIC : FUZZ_INIT_STATIC);
	fuzz_fill(e, responder ? FUZZ_RESP_EPH : FUZZ_INIT_EPH);
	fuzz_hs_init(hs, responder ? TB_NOISE_RESPONDER : TB_NOISE_INITIATOR, s, e);
}

/* Our side reads msg; 0 or the error (then the state is dead). */
static inline int fuzz_hs_read(struct tb_noise_hs *hs, const uint8_t *msg, size_t len)
{
	uint8_t payload[FUZZ_HS_CAP];
	size_t plen = 7;
	int err = tb_noise_read(hs, msg, len, payload, sizeof payload, &plen);
	if (err) {
		TB_ASSERT(err < 0 && plen == 0);
		fuzz_hs_dead(hs);
		return err;
	}
	TB_ASSERT(plen <= len && plen <= sizeof payload);
	return 0;
}

/* Both sides split; checks that they agree. */
static inline void fuzz_hs_split(struct tb_noise_hs *us, bool responder, struct tb_noise_hs *peer,
				 const uint8_t peer_static_pub[32])
{
	struct tb_noise_cipher tx, rx;
	uint8_t hh[32], rs[32];
	TB_ASSERT(tb_noise_done(us));
	TB_ASSERT(tb_noise_split(us, &tx, &rx, hh, rs) == 0);
	fuzz_hs_dead(us);
	if (!peer)
		return;
	struct tb_noise_cipher ptx, prx;
	uint8_t phh[32], prs[32], mine[32], my_pub[32];
	fuzz_fill(mine, responder ? FUZZ_RESP_STATIC : FUZZ_INIT_STATIC);
	tb_noise_public_key(my_pub, mine);
	TB_ASSERT(tb_noise_split(peer, &ptx, &prx, phh, prs) == 0);
	TB_ASSERT(memcmp(hh, phh, 32) == 0);
	TB_ASSERT(memcmp(rs, peer_static_pub, 32) == 0);
	TB_ASSERT(memcmp(prs, my_pub, 32) == 0);
	uint8_t ct[64], pt[64];
	size_t n;
	TB_ASSERT(tb_noise_encrypt(&tx, (const uint8_t *)"ping", 4, ct, sizeof ct, &n) == 0);
	TB_ASSERT(tb_noise_decrypt(&prx, ct, n, pt, sizeof pt, &n) == 0 && n == 4 &&
		  memcmp(pt, "ping", 4) == 0);
	TB_ASSERT(tb_noise_encrypt(&ptx, (const uint8_t *)"pong", 4, ct, sizeof ct, &n) == 0);
	TB_ASSERT(tb_noise_decrypt(&rx, ct, n, pt, sizeof pt, &n) == 0 && n == 4 &&
		  memcmp(pt, "pong", 4) == 0);
}

static inline void fuzz_hs_raw(const uint8_t *d, size_t size, bool responder)
{
	struct tb_noise_hs us;
	uint8_t out[FUZZ_HS_CAP];
	size_t olen;
	fuzz_hs_ours(&us, responder);
	if (!responder) {
		TB_ASSERT(tb_noise_write(&us, NULL, 0, out, sizeof out, &olen) == 0);
		if (fuzz_hs_read(&us, d, size))
			return;
		TB_ASSERT(tb_noise_write(&us, NULL, 0, out, sizeof out, &olen) == 0);
		fuzz_hs_split(&us, responder, NULL, NULL);
		return;
	}
	size_t n1 = size;
	const uint8_t *m3 = d + size;
	size_t n3 = 0;
	if (size >= 2) {
		n1 = (size_t)d[0] << 8 | d[1];
		d += 2;
		size -= 2;
		if (n1 > size)
			n1 = size;
		m3 = d + n1;
		n3 = size - n1;
	}
	if (fuzz_hs_read(&us, d, n1))
		return;
	TB_ASSERT(tb_noise_write(&us, NULL, 0, out, sizeof out, &olen) == 0);
	if (fuzz_hs_read(&us, m3, n3))
		return;
	fuzz_hs_split(&us, responder, NULL, NULL);
}

static inline void fuzz_hs_honest(const uint8_t *d, size_t size, bool responder)
{
	if (size < 4 + 64)
		return;
	uint8_t t1 = d[0], t2 = d[1];
	size_t l1 = 2u * d[2], l2 = 2u * d[3];
	const uint8_t *eph = d + 4, *stat = d + 36;
	const uint8_t *pay = d + 68;
	size_t npay = size - 68;
	if (l1 > npay)
		l1 = npay;
	if (l2 > npay)
		l2 = npay;

	struct tb_noise_hs us, peer;
	uint8_t peer_pub[32];
	tb_noise_public_key(peer_pub, stat);
	fuzz_hs_ours(&us, responder);
	fuzz_hs_init(&peer, responder ? TB_NOISE_INITIATOR : TB_NOISE_RESPONDER, stat, eph);

	uint8_t msg[1024], out[FUZZ_HS_CAP], back[1024];
	size_t mlen, olen, blen;
	if (!responder) {
		/* us -> e; peer reads it (any payload would do: ours is empty). */
		TB_ASSERT(tb_noise_write(&us, NULL, 0, out, sizeof out, &olen) == 0);
		TB_ASSERT(tb_noise_read(&peer, out, olen, back, sizeof back, &blen) == 0);
	}
	/* The peer's first message: 1 (we respond) or 2 (we initiate). */
	TB_ASSERT(tb_noise_write(&peer, pay, l1, msg, sizeof msg, &mlen) == 0);
	if (t1)
		msg[(t1 - 1u) % mlen] ^= 0x01;
	int err = fuzz_hs_read(&us, msg, mlen);
	if (t1)
		TB_ASSERT(err != 0);
	else if (l1 > FUZZ_HS_CAP)
		TB_ASSERT(err == TB_ETOOBIG);
	else
		TB_ASSERT(err == 0);
	if (err)
		return;
	/* Our answer: message 2 or 3. */
	TB_ASSERT(tb_noise_write(&us, NULL, 0, out, sizeof out, &olen) == 0);
	TB_ASSERT(tb_noise_read(&peer, out, olen, back, sizeof back, &blen) == 0 && blen == 0);
	if (!responder) {
		TB_ASSERT(tb_noise_done(&peer));
		fuzz_hs_split(&us, responder, &peer, peer_pub);
		return;
	}
	/* We respond: the peer's message 3. */
	TB_ASSERT(tb_noise_write(&peer, pay + (npay - l2), l2, msg, sizeof msg, &mlen) == 0);
	if (t2)
		msg[(t2 - 1u) % mlen] ^= 0x80;
	err = fuzz_hs_read(&us, msg, mlen);
	if (t2)
		TB_ASSERT(err != 0);
	else if (l2 > FUZZ_HS_CAP)
		TB_ASSERT(err == TB_ETOOBIG);
	else
		TB_ASSERT(err == 0);
	if (err)
		return;
	fuzz_hs_split(&us, responder, &peer, peer_pub);
}

static inline int fuzz_hs_one(const uint8_t *data, size_t size, bool responder)
{
	static int init;
	if (!init) {
		TB_ASSERT(tb_crypto_init() == 0);
		init = 1;
	}
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_hs_honest(data + 1, size - 1, responder);
	else
		fuzz_hs_raw(data + 1, size - 1, responder);
	return 0;
}

#endif
