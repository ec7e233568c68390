/*
 * fuzz_listing.c: libFuzzer target for listing objects (tb_listing_open,
 * proto/listing.c), the bytes a peer gossips. Any input is refused with a
 * TB_E* code or opened; an opened listing passes tb_listing_check, its
 * fields are in range, and its bytes re-encode exactly (canonical).
 */
#include <stdint.h>
#include <string.h>

#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		TB_ASSERT(tb_crypto_init() == 0);
		init = 1;
	}
	struct tb_listing l;
	int err = tb_listing_open(&l, data, size);
	if (err) {
		TB_ASSERT(err < 0 && err != TB_ENOMEM);
		return 0;
	}
	TB_ASSERT(tb_listing_check(&l) == 0);
	TB_ASSERT(l.title.len >= 1 && l.title.len <= TB_LISTING_TITLE_MAX);
	TB_ASSERT(l.description.len <= TB_LISTING_TEXT_MAX);
	TB_ASSERT(l.expires > l.created);
	uint8_t again[TB_LISTING_MAX];
	struct tb_wbuf w;
	tb_wbuf_init(&w, again, sizeof again);
	TB_ASSERT(tb_msg_encode(&w, &tb_def_listing, &l) == 0);
	TB_ASSERT(w.len + TB_SIGLEN == size && memcmp(again, data, w.len) == 0);
	return 0;
}
