/*
 * fuzz_export.c: libFuzzer target for export file framing: tb_export_open,
 * then tb_export_next until END or an error, with tb_entry_decode on each
 * entry item, tb_checkpoint_open on each checkpoint item and both records of
 * each fork proof item decoded, as the auditor reads them. Items must lie
 * inside the input and under their type's cap, the reader must always
 * advance, and a clean END must mean the whole input was read and counted.
 * The stream reader (tb_export_stream_*), fed the same bytes in pieces of 1
 * to 7 bytes, must give the same items and the same error at the same item.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tb_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void entry(const uint8_t *p, size_t len)
{
	struct tb_entry e;
	int err = tb_entry_decode(&e, p, len);
	TB_ASSERT(err <= 0);
	if (err == 0)
		TB_ASSERT(e.signed_part.p == p && e.signed_part.len + TB_SIGLEN == len);
}

struct pieces {
	const uint8_t *p;
	size_t len, off;
};

/* Short reads of varying size, as a pipe or a slow disk gives them. */
static int read_pieces(void *ctx, uint8_t *p, size_t len, size_t *got)
{
	struct pieces *s = ctx;
	size_t k = 1 + (s->off * 5 + s->len) % 7;
	k = k < len ? k : len;
	k = k < s->len - s->off ? k : s->len - s->off;
	memcpy(p, s->p + s->off, k);
	s->off += k;
	*got = k;
	return 0;
}

/* The stream reader agrees with the memory reader item by item. */
static void stream_agrees(const uint8_t *data, size_t size)
{
	struct tb_export_stream *s = malloc(sizeof *s);
	TB_ASSERT(s);
	struct pieces src = {data, size, 0};
	struct tb_export_reader r;
	int rc = tb_export_open(&r, data, size);
	TB_ASSERT(tb_export_stream_open(s, read_pieces, &src) == rc);
	while (rc == 0) {
		enum tb_export_item t1, t2;
		struct tb_view i1, i2;
		rc = tb_export_next(&r, &t1, &i1);
		TB_ASSERT(tb_export_stream_next(s, &t2, &i2) == rc);
		TB_ASSERT(s->items == r.items);
		if (rc != 1)
			break;
		TB_ASSERT(t1 == t2 && i1.len == i2.len && !memcmp(i1.p, i2.p, i1.len));
		rc = 0;
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream_agrees(data, size);
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
		TB_ASSERT(item.p >= data && item.p + item.len <= data + size);
		items++;
		switch (type) {
		case TB_EXPORT_ENTRY:
			TB_ASSERT(item.len <= TB_ENTRY_MAX);
			entry(item.p, item.len);
			break;
		case TB_EXPORT_CHECKPOINT: {
			TB_ASSERT(item.len <= TB_CHECKPOINT_MAX);
			struct tb_checkpoint cp;
			int err = tb_checkpoint_open(&cp, item.p, item.len);
			TB_ASSERT(err <= 0 && err != TB_ENOMEM);
			break;
		}
		case TB_EXPORT_FORK: {
			TB_ASSERT(item.len <= TB_FORK_ITEM_MAX);
			struct tb_view a, b;
			if (tb_fork_item_split(item, &a, &b))
				break;
			TB_ASSERT(a.p == item.p + 2 && b.p + b.len == item.p + item.len);
			entry(a.p, a.len);
			entry(b.p, b.len);
			break;
		}
		default:
			TB_ASSERT(0);
		}
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
