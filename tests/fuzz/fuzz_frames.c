/*
 * fuzz_frames.c: libFuzzer target for the frame layer of peer connections
 * (proto/tb_frame.h, used by node/daemon/conn.c): splitting received bytes
 * into length-prefixed frames and opening Noise transport frames into peer
 * messages, with a fixed cipher key (FUZZ_FRAME_KEY) and nonces from 0.
 *
 * Input: one flags byte, then a byte stream.
 *   bit 0 (seal): the stream's frames are plaintexts; they are encrypted
 *          here in order, so the receiver sees frames that authenticate and
 *          the fuzzer reaches the peer message decoder. Otherwise the stream
 *          is sent as it is (raw ciphertext: mkcorpus seeds hold frames
 *          encrypted under the fixed key).
 *   bit 1: the receiver is still in the handshake (frames only split).
 *   bits 2..7 (c): the receiver gets the stream in reads of c*c*17 bytes
 *          (c = 0: all at once), into a buffer of 2 + TB_FRAME_MAX bytes
 *          compacted after each read exactly as conn.c's on_read does.
 * Checks: the buffer always has room for the next read; a frame lies inside
 * what was received; a sealed frame always authenticates; an opened message
 * re-encodes to exactly its plaintext; a frame that does not authenticate
 * leaves the nonce where it was; the first error ends the connection.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "tb_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct receiver {
	uint8_t rbuf[2 + TB_FRAME_MAX];
	size_t rlen;
	bool handshake, sealed, closed;
	struct tb_noise_cipher rx;
};

static uint8_t g_plain[TB_FRAME_MAX];
static uint8_t g_reenc[TB_FRAME_PAYLOAD_MAX + 64];
static uint8_t g_wire[(1u << 16) * 2 + 64];

static void cipher(struct tb_noise_cipher *c)
{
	memset(c, 0, sizeof *c);
	fuzz_fill(c->k, FUZZ_FRAME_KEY);
	c->has_key = 1;
}

static void frame(struct receiver *r, const uint8_t *f, size_t len)
{
	TB_ASSERT(f >= r->rbuf && f + len <= r->rbuf + r->rlen);
	if (r->handshake)
		return;
	TB_ASSERT(len >= TB_NOISE_TAG_LEN && len <= TB_FRAME_MAX);
	struct tb_peer_msg m;
	uint64_t n = r->rx.n;
	int err = tb_frame_open(&r->rx, f, len, g_plain, &m);
	if (err == TB_EBADSIG) {
		TB_ASSERT(!r->sealed);
		TB_ASSERT(r->rx.n == n);
		r->closed = true;
		return;
	}
	TB_ASSERT(r->rx.n == n + 1);
	if (err) {
		TB_ASSERT(err < 0 && err != TB_ENOMEM);
		r->closed = true;
		return;
	}
	size_t olen;
	TB_ASSERT(tb_peer_msg_encode(g_reenc, sizeof g_reenc, &olen, &m) == 0);
	TB_ASSERT(olen == len - TB_NOISE_TAG_LEN && memcmp(g_reenc, g_plain, olen) == 0);
}

/* conn.c's on_read after a read of k bytes into rbuf. */
static void on_read(struct receiver *r)
{
	size_t off = 0;
	while (!r->closed) {
		struct tb_view f;
		size_t used;
		int rc = tb_frame_next(r->rbuf + off, r->rlen - off, !r->handshake, &f, &used);
		if (rc < 0) {
			TB_ASSERT(rc == TB_ETRUNCATED && r->rlen - off >= 2);
			r->closed = true;
			return;
		}
		if (rc == 0) {
			TB_ASSERT(used == 0 && f.p == NULL);
			break;
		}
		TB_ASSERT(rc == 1 && used == f.len + 2 && used <= r->rlen - off);
		TB_ASSERT(f.p == r->rbuf + off + 2);
		off += used;
		frame(r, f.p, f.len);
	}
	if (r->closed)
		return;
	memmove(r->rbuf, r->rbuf + off, r->rlen - off);
	r->rlen -= off;
}

/* Encrypts the plaintext frames of in into g_wire; stops at the first one
 * that cannot be a frame. Returns the wire length. */
static size_t seal_stream(const uint8_t *in, size_t len)
{
	struct tb_noise_cipher tx;
	cipher(&tx);
	size_t off = 0, w = 0;
	for (;;) {
		struct tb_view f;
		size_t used;
		if (tb_frame_next(in + off, len - off, false, &f, &used) != 1)
			break;
		if (f.len > TB_FRAME_MAX - TB_NOISE_TAG_LEN ||
		    f.len + TB_NOISE_TAG_LEN + 2 > sizeof g_wire - w)
			break;
		size_t clen;
		TB_ASSERT(tb_noise_encrypt(&tx, f.p, f.len, g_wire + w + 2, sizeof g_wire - w - 2,
					   &clen) == 0);
		TB_ASSERT(clen == f.len + TB_NOISE_TAG_LEN);
		g_wire[w] = (uint8_t)(clen >> 8);
		g_wire[w + 1] = (uint8_t)clen;
		w += 2 + clen;
		off += used;
	}
	return w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct receiver r;
	if (size < 1)
		return 0;
	uint8_t flags = data[0];
	const uint8_t *stream = data + 1;
	size_t len = size - 1;
	r.rlen = 0;
	r.closed = false;
	r.sealed = flags & 1;
	r.handshake = (flags & 2) != 0;
	cipher(&r.rx);
	if (r.sealed) {
		len = seal_stream(stream, len);
		stream = g_wire;
	}
	size_t c = flags >> 2;
	size_t chunk = c ? c * c * 17 : SIZE_MAX;
	size_t off = 0;
	while (off < len && !r.closed) {
		size_t room = sizeof r.rbuf - r.rlen;
		TB_ASSERT(room > 0);
		size_t k = len - off;
		if (k > room)
			k = room;
		if (k > chunk)
			k = chunk;
		memcpy(r.rbuf + r.rlen, stream + off, k);
		r.rlen += k;
		off += k;
		on_read(&r);
	}
	return 0;
}
