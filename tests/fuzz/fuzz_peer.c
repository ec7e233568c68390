/*
 * fuzz_peer.c: libFuzzer target for the peer message decoder
 * (tb_peer_msg_decode, proto/peer.c), the plaintext of every transport
 * frame: HELLO ... CHECKPOINT_MSG. Any input is refused with a TB_E* code or
 * accepted; an accepted message re-encodes to exactly the input, its views
 * lie inside the input, and its contents go through what the daemon does
 * with them before any store: HEADS records are split and ENTRIES records
 * split by their u16 lengths (the daemon's functions, proto/items.c) and
 * decoded, FORK records decoded, a checkpoint
 * opened (signature checked), LISTINGS objects split and opened, a HELLO
 * proof verified over a fixed hash.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(struct tb_view v, const uint8_t *data, size_t size)
{
	return v.len == 0 ||
	       (v.p >= data && v.len <= size && v.p - data <= (ptrdiff_t)(size - v.len));
}

/* ENTRIES records split as the daemon splits them (tb_records_next). */
static void records(struct tb_view v)
{
	struct tb_records_iter it;
	struct tb_view rec;
	int rc;
	tb_records_begin(&it, v);
	while ((rc = tb_records_next(&it, &rec)) == 1) {
		TB_ASSERT(rec.p >= v.p && rec.len <= TB_ENTRY_MAX &&
			  rec.p + rec.len <= v.p + v.len);
		struct tb_entry e;
		int err = tb_entry_decode(&e, rec.p, rec.len);
		TB_ASSERT(err <= 0);
		if (!err)
			TB_ASSERT(e.signed_part.p == rec.p &&
				  e.signed_part.len + TB_SIGLEN == rec.len);
	}
	TB_ASSERT(rc == 0 || rc == TB_ETRUNCATED);
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
		size_t k;
		if (!tb_heads_count(h, &k)) {
			TB_ASSERT(k * TB_HEAD_REC_LEN == h.len);
			for (size_t i = 0; i < k; i++) {
				struct tb_head_rec r;
				tb_heads_get(h, i, &r);
				TB_ASSERT(r.log_id == h.p + i * TB_HEAD_REC_LEN &&
					  r.hash + TB_HASHLEN <= h.p + h.len);
			}
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
	case TB_MSG_REFUSED:
		TB_ASSERT(m.u.refused.code < 0);
		break;
	case TB_MSG_LISTINGS: {
		struct tb_records_iter it;
		struct tb_view rec;
		struct tb_listing l;
		int next;
		tb_records_begin(&it, m.u.listings.records);
		while ((next = tb_records_next(&it, &rec)) == 1)
			TB_ASSERT(tb_listing_open(&l, rec.p, rec.len) <= 0);
		TB_ASSERT(next == 0 || next == TB_ETRUNCATED);
		break;
	}
	case TB_MSG_ANSWERS: {
		struct tb_records_iter it;
		struct tb_view rec;
		struct tb_answer a;
		int next;
		tb_records_begin(&it, m.u.answers.records);
		while ((next = tb_records_next(&it, &rec)) == 1)
			TB_ASSERT(tb_answer_open(&a, rec.p, rec.len) <= 0);
		TB_ASSERT(next == 0 || next == TB_ETRUNCATED);
		break;
	}
	case TB_MSG_LISTINGS_SYNC:
	case TB_MSG_SYNC:
	case TB_MSG_PING:
	case TB_MSG_PONG:
	case TB_MSG_BYE:
		break;
	}
	return 0;
}
