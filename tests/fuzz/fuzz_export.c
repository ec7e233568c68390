/*
 * fuzz_export.c: libFuzzer target for export file framing: tb_export_open,
 * then tb_export_next until END or an error, with tb_entry_decode on each
 * item. Items must lie inside the input and under the entry cap, the reader
 * must always advance, and a clean END must mean the whole input was read
 * and counted.
 */
#include <stdint.h>
#include <string.h>

#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tb_export_reader r;
	enum tb_export_item type;
	struct tb_view item;
	uint64_t items = 0;
	int rc = tb_export_open(&r, data, size);
	if (rc != 0) {
		TB_ASSERT(rc < 0);
		return 0;
	}
	for (;;) {
		size_t off = r.off;
		rc = tb_export_next(&r, &type, &item);
		if (rc != 1)
			break;
		TB_ASSERT(r.off > off && r.off <= size);
		TB_ASSERT(type == TB_EXPORT_ENTRY);
		TB_ASSERT(item.len <= TB_ENTRY_MAX);
		TB_ASSERT(item.p >= data && item.p + item.len <= data + size);
		items++;

		struct tb_entry e;
		int err = tb_entry_decode(&e, item.p, item.len);
		TB_ASSERT(err <= 0);
		if (err == 0)
			TB_ASSERT(e.signed_part.p == item.p &&
				  e.signed_part.len + TB_SIGLEN == item.len);
	}
	if (rc == 0) {
		TB_ASSERT(r.done && r.off == size && r.items == items);
		/* END stays END. */
		TB_ASSERT(tb_export_next(&r, &type, &item) == 0);
	} else {
		TB_ASSERT(rc < 0);
	}
	return 0;
}
