/*
 * fuzz_peer.c: libFuzzer target for the peer message decoder
 * (tb_peer_msg_decode, proto/peer.c), the plaintext of every transport
 * frame: HELLO ... CHECKPOINT_MSG. Any input is refused with a TB_E* code or
 * accepted; an accepted message re-encodes to exactly the input, its views
 * lie inside the input, and its contents go through what the daemon does
 * with them before any store: HEADS records are split, ENTRIES records are
 * split by their u16 lengths and decoded, FORK records decoded, a checkpoint
 * opened (signature checked), a HELLO proof verified over a fixed hash.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(struct tb_view v, const uint8_t *data, size_t size)
{
	return v.len == 0 || (v.p >= data && v.len <= size && v.p - data <= (ptrdiff_t)(size - v.len));
}

static void records(struct tb_view v)
{
	size_t off = 0;
	while (off < v.len) {
		if (v.len - off < 2)
			return;
		size_t len = (size_t)v.p[off] << 8 | v.p[off + 1];
		off += 2;
		if (len == 0 || len > TB_ENTRY_MAX || len > v.len - off)
			return;
		struct tb_entry e;
		int err = tb_entry_decode(&e, v.p + off, len);
		TB_ASSERT(err <= 0);
		if (!err)
			TB_ASSERT(e.signed_part.p == v.p + off &&
				  e.signed_part.len + TB_SIGLEN == len);
		off += len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[TB_FRAME_PAYLOAD_MAX + 64];
	struct tb_peer_msg m, again;
	int rc = tb_peer_msg_decode(&m, data, size);
	if (rc != 0) {
		TB_ASSERT(rc < 0 && rc != TB_ENOMEM);
		return 0;
	}
	const struct tb_msgdef *d = tb_peer_def(m.type);
	TB_ASSERT(d != NULL);

	/* Canonical: the encoder gives back exactly the input. */
	size_t n;
	TB_ASSERT(tb_peer_msg_encode(out, sizeof out, &n, &m) == 0);
	TB_ASSERT(n == size && memcmp(out, data, size) == 0);
	TB_ASSERT(tb_peer_msg_decode(&again, out, n) == 0 && again.type == m.type);

	/* Every view points into the input. */
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		if (f->type != TB_FT_BIN && f->type != TB_FT_STR)
			continue;
		struct tb_view v;
		memcpy(&v, (const uint8_t *)&m.u + f->offset, sizeof v);
		TB_ASSERT(inside(v, data, size));
		TB_ASSERT(v.len >= (size_t)f->min && v.len <= (size_t)f->max);
	}

	switch ((enum tb_msg_type)m.type) {
	case TB_MSG_HELLO: {
		uint8_t proof[33];
		memset(proof, 0x33, sizeof proof);
		int err = tb_verify(m.u.hello.sig, m.u.hello.node_id, TB_CTX_HANDSHAKE, proof,
				    sizeof proof);
		TB_ASSERT(err == 0 || err == TB_EBADSIG);
		break;
	}
	case TB_MSG_HEADS: {
		struct tb_view h = m.u.heads.heads;
		if (h.len % TB_HEAD_REC_LEN == 0) {
			uint64_t sum = 0;
			for (size_t i = 0; i < h.len; i += TB_HEAD_REC_LEN)
				sum += tb_be64_get(h.p + i + TB_KEY_LEN);
			(void)sum;
		}
		break;
	}
	case TB_MSG_ENTRIES:
		records(m.u.entries.records);
		break;
	case TB_MSG_FORK: {
		struct tb_entry a, b;
		TB_ASSERT(tb_entry_decode(&a, m.u.fork.a.p, m.u.fork.a.len) <= 0);
		TB_ASSERT(tb_entry_decode(&b, m.u.fork.b.p, m.u.fork.b.len) <= 0);
		break;
	}
	case TB_MSG_CHECKPOINT_MSG: {
		struct tb_checkpoint cp;
		int err = tb_checkpoint_open(&cp, m.u.checkpoint_msg.checkpoint.p,
					     m.u.checkpoint_msg.checkpoint.len);
		TB_ASSERT(err <= 0 && err != TB_ENOMEM);
		break;
	}
	case TB_MSG_SYNC:
	case TB_MSG_PING:
	case TB_MSG_PONG:
	case TB_MSG_BYE:
		break;
	}
	return 0;
}
