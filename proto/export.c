/*
 * export.c: framing of export files (magic, version, typed length-prefixed
 * items, an END item carrying the item count). It only frames: the items are
 * entry records that the caller decodes and verifies. Every length is checked
 * against the bytes that remain and against the entry cap before use.
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

int tb_export_open(struct tb_export_reader *r, const uint8_t *p, size_t len)
{
	memset(r, 0, sizeof *r);
	if (len < 9)
		return TB_ETRUNCATED;
	if (memcmp(p, TB_EXPORT_MAGIC, 8))
		return TB_EKIND;
	if (p[8] != TB_EXPORT_VERSION)
		return TB_EVERSION;
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
	if (t == TB_EXPORT_END) {
		if (n != 8)
			return TB_ECORRUPT;
		if (r->len - r->off < 8)
			return TB_ETRUNCATED;
		uint64_t count = tb_be64_get(r->p + r->off);
		r->off += 8;
		if (count != r->items)
			return TB_ECORRUPT;
		if (r->off != r->len)
			return TB_ETRAILING;
		r->done = 1;
		return 0;
	}
	size_t cap = t == TB_EXPORT_ENTRY	 ? TB_ENTRY_MAX
		     : t == TB_EXPORT_CHECKPOINT ? TB_CHECKPOINT_MAX
		     : t == TB_EXPORT_FORK	 ? TB_FORK_ITEM_MAX
						 : 0;
	if (!cap)
		return TB_EKIND;
	if (n > cap)
		return TB_ETOOBIG;
	if (r->len - r->off < n)
		return TB_ETRUNCATED;
	*type = (enum tb_export_item)t;
	item->p = r->p + r->off;
	item->len = n;
	r->off += n;
	r->items++;
	return 1;
}
