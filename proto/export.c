/*
 * export.c: framing of export files (magic, version, typed length-prefixed
 * items, an END item carrying the item count). It only frames: the items are
 * entry records that the caller decodes and verifies. Every length is checked
 * against the bytes that remain and against the entry cap before use. A
 * file too big for memory is read as a stream through one bounded buffer,
 * with the same checks in the same order.
 */
#include "tb_proto.h"

void tb_export_header(uint8_t out[9])
{
	memcpy(out, TB_EXPORT_MAGIC, 8);
	out[8] = TB_EXPORT_VERSION;
}

void tb_export_item_header(uint8_t out[5], enum tb_export_item type, uint32_t len)
{
	out[0] = (uint8_t)type;
	tb_be32_put(out + 1, len);
}

/* The file header's checks (len bytes of it present). */
static int check_header(const uint8_t *p, size_t len)
{
	if (len < 9)
		return TB_ETRUNCATED;
	if (memcmp(p, TB_EXPORT_MAGIC, 8))
		return TB_EKIND;
	if (p[8] != TB_EXPORT_VERSION)
		return TB_EVERSION;
	return 0;
}

/* An item header's checks: 0 (an item of n bytes follows; for END, its
 * 8-byte count), or TB_ECORRUPT, TB_EKIND, TB_ETOOBIG. */
static int check_item(uint8_t t, uint32_t n)
{
	if (t == TB_EXPORT_END)
		return n == 8 ? 0 : TB_ECORRUPT;
	size_t cap = t == TB_EXPORT_ENTRY	 ? TB_ENTRY_MAX
		     : t == TB_EXPORT_CHECKPOINT ? TB_CHECKPOINT_MAX
		     : t == TB_EXPORT_FORK	 ? TB_FORK_ITEM_MAX
						 : 0;
	if (!cap)
		return TB_EKIND;
	return n > cap ? TB_ETOOBIG : 0;
}

int tb_export_open(struct tb_export_reader *r, const uint8_t *p, size_t len)
{
	memset(r, 0, sizeof *r);
	int err = check_header(p, len);
	if (err)
		return err;
	r->p = p;
	r->len = len;
	r->off = 9;
	return 0;
}

int tb_export_next(struct tb_export_reader *r, enum tb_export_item *type, struct tb_view *item)
{
	if (r->done)
		return 0;
	if (r->len - r->off < 5)
		return TB_ETRUNCATED;
	uint8_t t = r->p[r->off];
	uint32_t n = tb_be32_get(r->p + r->off + 1);
	r->off += 5;
	int err = check_item(t, n);
	if (err)
		return err;
	if (r->len - r->off < n)
		return TB_ETRUNCATED;
	if (t == TB_EXPORT_END) {
		uint64_t count = tb_be64_get(r->p + r->off);
		r->off += 8;
		if (count != r->items)
			return TB_ECORRUPT;
		if (r->off != r->len)
			return TB_ETRAILING;
		r->done = 1;
		return 0;
	}
	*type = (enum tb_export_item)t;
	item->p = r->p + r->off;
	item->len = n;
	r->off += n;
	r->items++;
	return 1;
}

/* ---- from a stream ---- */

/* Copies up to n bytes of the stream into out (*got of them: fewer only at
 * its end), refilling the buffer from rd as it empties. */
static int stream_read(struct tb_export_stream *r, uint8_t *out, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		if (r->off == r->have) {
			size_t k;
			int err = r->rd(r->ctx, r->buf, sizeof r->buf, &k);
			if (err)
				return err;
			if (k > sizeof r->buf)
				return TB_EIO;
			if (!k)
				return 0;
			r->have = k;
			r->off = 0;
		}
		size_t k = r->have - r->off < n - *got ? r->have - r->off : n - *got;
		memcpy(out + *got, r->buf + r->off, k);
		r->off += k;
		*got += k;
	}
	return 0;
}

int tb_export_stream_open(struct tb_export_stream *r, tb_export_read_fn rd, void *ctx)
{
	r->rd = rd;
	r->ctx = ctx;
	r->have = r->off = 0;
	r->items = 0;
	r->done = 0;
	uint8_t h[9];
	size_t got;
	int err = stream_read(r, h, sizeof h, &got);
	return err ? err : check_header(h, got);
}

int tb_export_stream_next(struct tb_export_stream *r, enum tb_export_item *type,
			  struct tb_view *item)
{
	if (r->done)
		return 0;
	uint8_t h[5];
	size_t got;
	int err = stream_read(r, h, sizeof h, &got);
	if (err || got < sizeof h)
		return err ? err : TB_ETRUNCATED;
	uint32_t n = tb_be32_get(h + 1);
	if ((err = check_item(h[0], n)))
		return err;
	/* n is at most TB_FORK_ITEM_MAX, the size of item, from here on. */
	if ((err = stream_read(r, r->item, n, &got)) || got < n)
		return err ? err : TB_ETRUNCATED;
	if (h[0] == TB_EXPORT_END) {
		uint8_t extra;
		if (tb_be64_get(r->item) != r->items)
			return TB_ECORRUPT;
		if ((err = stream_read(r, &extra, 1, &got)) || got)
			return err ? err : TB_ETRAILING;
		r->done = 1;
		return 0;
	}
	*type = (enum tb_export_item)h[0];
	item->p = r->item;
	item->len = n;
	r->items++;
	return 1;
}
