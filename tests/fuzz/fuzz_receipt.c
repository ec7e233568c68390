/*
 * fuzz_receipt.c: libFuzzer target for receipt files (tb_receipt_verify,
 * audit/receipt.c): a receipt is checked offline, trusting nothing. Any
 * input is refused with a TB_E* code or accepted; an accepted receipt's
 * entry and checkpoint belong to one log, the entry lies within the
 * checkpoint, and the check agrees when asked for that log as the community
 * and refuses when asked for another.
 */
#include <stdint.h>
#include <string.h>

#include "tb_audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	if (!init) {
		TB_ASSERT(tb_crypto_init() == 0);
		init = 1;
	}
	struct tb_receipt_info info;
	int err = tb_receipt_verify(data, size, NULL, &info);
	if (err) {
		TB_ASSERT(err < 0 && err != TB_ENOMEM);
		return 0;
	}
	TB_ASSERT(memcmp(info.entry.log_id, info.checkpoint.log_id, TB_KEY_LEN) == 0);
	TB_ASSERT(info.entry.seq >= 1 && info.entry.seq <= info.checkpoint.size);
	TB_ASSERT(info.entry.signed_part.p >= data &&
		  info.entry.signed_part.p + info.entry.signed_part.len <= data + size);
	uint8_t log[TB_KEY_LEN];
	memcpy(log, info.entry.log_id, TB_KEY_LEN);
	struct tb_receipt_info again;
	TB_ASSERT(tb_receipt_verify(data, size, log, &again) == 0);
	TB_ASSERT(again.entry.seq == info.entry.seq);
	log[0] ^= 1;
	TB_ASSERT(tb_receipt_verify(data, size, log, &again) < 0);
	return 0;
}
