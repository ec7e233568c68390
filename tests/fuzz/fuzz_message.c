/*
 * fuzz_message.c: libFuzzer target for tb_msg_decode_exact over every message
 * of tb_messages.h that is not a peer message: each entry kind's body and the
 * other messages (terms, proposals). The first input byte picks the message
 * (modulo their number, in table order: entry kinds, then the others); the
 * rest is decoded. Accepted bytes must re-encode to exactly themselves and
 * decode the same way through the non-exact decoder.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct tb_msgdef *const defs[] = {
#define X_KIND(UP, low, num) &tb_def_##low,
	TB_ENTRY_KINDS(X_KIND)
#undef X_KIND
#define X_MSG(UP, low) &tb_def_##low,
		TB_OTHER_MESSAGES(X_MSG)
#undef X_MSG
};

union any_msg {
#define X_KIND(UP, low, num) struct tb_##low low;
	TB_ENTRY_KINDS(X_KIND)
#undef X_KIND
#define X_MSG(UP, low) struct tb_##low low;
	TB_OTHER_MESSAGES(X_MSG)
#undef X_MSG
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4 * TB_ENTRY_MAX]; /* a receipt holds an entry and more */
	if (size < 1)
		return 0;
	const struct tb_msgdef *d = defs[data[0] % (sizeof defs / sizeof defs[0])];
	const uint8_t *p = data + 1;
	size_t len = size - 1;
	union any_msg m, again;

	int rc = tb_msg_decode_exact(p, len, d, &m);
	if (rc != 0) {
		TB_ASSERT(rc < 0 && rc != TB_ENOMEM);
		return 0;
	}
	/* Canonical: the encoder gives back exactly the input. */
	size_t n;
	TB_ASSERT(tb_terms_encode(out, sizeof out, &n, d, &m) == 0);
	TB_ASSERT(n == len && memcmp(out, p, len) == 0);

	/* The streaming decoder agrees and stops at the end. */
	struct tb_reader r;
	tb_reader_init(&r, p, len);
	TB_ASSERT(tb_msg_decode(&r, d, &again) == 0);
	TB_ASSERT(r.off == len);
	TB_ASSERT(fuzz_same_msg(d, &m, &again));
	return 0;
}
