/*
 * items.c: the records packed inside peer messages and export items, split
 * and built in one place: HEADS records (log id, seq, head hash), ENTRIES
 * records (each prefixed by its u16 big-endian length) and fork proofs
 * ([u16 big-endian length of a][a][b], an export FORK item and the value a
 * store keeps). The daemon, the auditor, the store and the fuzz targets call
 * these, so no two of them can split the same bytes differently. Every
 * length is checked against the bytes that remain before use.
 */
#include "tb_proto.h"

#include <string.h>

int tb_heads_count(struct tb_view heads, size_t *n)
{
	*n = 0;
	if (heads.len % TB_HEAD_REC_LEN)
		return TB_ETRUNCATED;
	*n = heads.len / TB_HEAD_REC_LEN;
	return 0;
}

void tb_heads_get(struct tb_view heads, size_t i, struct tb_head_rec *r)
{
	const uint8_t *p = heads.p + i * TB_HEAD_REC_LEN;
	r->log_id = p;
	r->seq = tb_be64_get(p + TB_KEY_LEN);
	r->hash = p + TB_KEY_LEN + 8;
}

void tb_heads_put(uint8_t *out, const uint8_t log_id[TB_KEY_LEN], uint64_t seq,
		  const uint8_t hash[TB_HASHLEN])
{
	memcpy(out, log_id, TB_KEY_LEN);
	tb_be64_put(out + TB_KEY_LEN, seq);
	memcpy(out + TB_KEY_LEN + 8, hash, TB_HASHLEN);
}

void tb_records_begin(struct tb_records_iter *it, struct tb_view records)
{
	it->v = records;
	it->off = 0;
}

int tb_records_next(struct tb_records_iter *it, struct tb_view *rec)
{
	rec->p = NULL;
	rec->len = 0;
	if (it->off == it->v.len)
		return 0;
	if (it->v.len - it->off < 2)
		return TB_ETRUNCATED;
	size_t len = (size_t)it->v.p[it->off] << 8 | it->v.p[it->off + 1];
	if (len == 0 || len > TB_ENTRY_MAX || len > it->v.len - it->off - 2)
		return TB_ETRUNCATED;
	rec->p = it->v.p + it->off + 2;
	rec->len = len;
	it->off += 2 + len;
	return 1;
}

int tb_records_add(uint8_t *buf, size_t cap, size_t *len, struct tb_view rec)
{
	if (rec.len == 0 || rec.len > TB_ENTRY_MAX)
		return TB_ETOOBIG;
	if (*len > cap || cap - *len < 2 + rec.len)
		return 1;
	buf[*len] = (uint8_t)(rec.len >> 8);
	buf[*len + 1] = (uint8_t)rec.len;
	memcpy(buf + *len + 2, rec.p, rec.len);
	*len += 2 + rec.len;
	return 0;
}

int tb_fork_item_split(struct tb_view item, struct tb_view *a, struct tb_view *b)
{
	*a = (struct tb_view){NULL, 0};
	*b = (struct tb_view){NULL, 0};
	if (item.len < 2)
		return TB_ETRUNCATED;
	size_t alen = (size_t)item.p[0] << 8 | item.p[1];
	if (alen > item.len - 2)
		return TB_ETRUNCATED;
	*a = (struct tb_view){item.p + 2, alen};
	*b = (struct tb_view){item.p + 2 + alen, item.len - 2 - alen};
	return 0;
}

int tb_fork_item_build(uint8_t *out, size_t cap, size_t *len, struct tb_view a, struct tb_view b)
{
	*len = 0;
	if (a.len > TB_ENTRY_MAX || b.len > TB_ENTRY_MAX || cap < 2 + a.len + b.len)
		return TB_ETOOBIG;
	out[0] = (uint8_t)(a.len >> 8);
	out[1] = (uint8_t)a.len;
	if (a.len)
		memcpy(out + 2, a.p, a.len);
	if (b.len)
		memcpy(out + 2 + a.len, b.p, b.len);
	*len = 2 + a.len + b.len;
	return 0;
}
