/*
 * fuzz_entry.c: libFuzzer target for tb_entry_decode, the strict decoder of
 * entry records that peers and export files hand us. Any input must be
 * refused with a TB_E* code or accepted; an accepted record must be
 * canonical: its body re-encodes to exactly its bytes, the signature is the
 * last 64 bytes, and decoding a copy gives the same entry. No signing and no
 * verification here, to keep it fast.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[TB_ENTRY_MAX];
	struct tb_entry e, again;
	int rc = tb_entry_decode(&e, data, size);
	if (rc != 0) {
		TB_ASSERT(rc < 0 && rc != TB_ENOMEM);
		return 0;
	}
	const struct tb_msgdef *d = tb_kind_def(e.kind);
	TB_ASSERT(d != NULL && e.version == TB_ENTRY_VERSION);
	TB_ASSERT(size <= TB_ENTRY_MAX && size > TB_SIGLEN);
	TB_ASSERT(e.signed_part.p == data);
	TB_ASSERT(e.signed_part.len == size - TB_SIGLEN);
	TB_ASSERT(memcmp(e.sig, data + size - TB_SIGLEN, TB_SIGLEN) == 0);

	/* The body is the last element of the signed part and re-encodes to
	 * exactly its bytes. */
	uint8_t body[TB_ENTRY_MAX];
	struct tb_wbuf w;
	tb_wbuf_init(&w, body, sizeof body);
	TB_ASSERT(tb_msg_encode(&w, d, &e.body) == 0);
	TB_ASSERT(w.len < e.signed_part.len);
	TB_ASSERT(memcmp(body, data + e.signed_part.len - w.len, w.len) == 0);

	/* A copy decodes to the same entry. */
	memcpy(copy, data, size);
	TB_ASSERT(tb_entry_decode(&again, copy, size) == 0);
	TB_ASSERT(again.version == e.version && again.seq == e.seq &&
		  again.timestamp == e.timestamp && again.kind == e.kind);
	TB_ASSERT(memcmp(again.log_id, e.log_id, TB_KEY_LEN) == 0);
	TB_ASSERT(memcmp(again.prev, e.prev, TB_HASHLEN) == 0);
	TB_ASSERT(memcmp(again.sig, e.sig, TB_SIGLEN) == 0);
	TB_ASSERT(fuzz_same_msg(d, &e.body, &again.body));
	return 0;
}
