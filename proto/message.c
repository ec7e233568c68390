/*
 * message.c: the generated message tables and the one table-driven codec.
 *
 * Every message of tb_messages.h gets a struct tb_msgdef here, built by the
 * same macros that declare its struct, so field order, types and limits exist
 * once. Decoding checks the exact field count, every type, every range and
 * every length; it never allocates and never accepts what encoding would not
 * produce.
 */
#include <stddef.h>

#include "mpack.h"

TB_ENTRY_KINDS(TB__MSGDEF)

#define TB__TABLE_MSG(UP, low) TB__MSGDEF(UP, low, 0)
TB_OTHER_MESSAGES(TB__TABLE_MSG)

const struct tb_msgdef *tb_kind_def(uint64_t kind)
{
	switch (kind) {
#define TB__KIND_CASE(UP, low, num) \
	case num:                   \
		return &tb_def_##low;
		TB_ENTRY_KINDS(TB__KIND_CASE)
	}
	return NULL;
}

const char *tb_kind_name(uint64_t kind)
{
	const struct tb_msgdef *d = tb_kind_def(kind);
	return d ? d->name : "unknown";
}

int tb_msg_encode(struct tb_wbuf *w, const struct tb_msgdef *d, const void *obj)
{
	const uint8_t *base = obj;
	tb_mp_write_array(w, (uint32_t)d->nfields);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		const void *at = base + f->offset;
		const struct tb_view *v = at;
		switch (f->type) {
		case TB_FT_UINT:
			tb_mp_write_uint(w, *(const uint64_t *)at);
			break;
		case TB_FT_INT:
			tb_mp_write_int(w, *(const int64_t *)at);
			break;
		case TB_FT_FIXED:
			tb_mp_write_bin(w, at, (size_t)f->max);
			break;
		case TB_FT_BIN:
			tb_mp_write_bin(w, v->p, v->len);
			break;
		case TB_FT_STR:
			tb_mp_write_str(w, v->p, v->len);
			break;
		}
	}
	return w->err;
}

static int decode_field(struct tb_reader *r, const struct tb_field *f, void *at)
{
	int err;
	switch (f->type) {
	case TB_FT_UINT: {
		uint64_t u;
		if ((err = tb_mp_read_uint(r, &u)))
			return err;
		if (u < (uint64_t)f->min || u > (uint64_t)f->max)
			return TB_ERANGE;
		*(uint64_t *)at = u;
		return 0;
	}
	case TB_FT_INT: {
		int64_t s;
		if ((err = tb_mp_read_int(r, &s)))
			return err;
		if (s < f->min || s > f->max)
			return TB_ERANGE;
		*(int64_t *)at = s;
		return 0;
	}
	case TB_FT_FIXED:
	case TB_FT_BIN:
	case TB_FT_STR: {
		struct tb_view v;
		err = f->type == TB_FT_STR ? tb_mp_read_str(r, &v) : tb_mp_read_bin(r, &v);
		if (err)
			return err;
		if ((int64_t)v.len > f->max)
			return TB_ETOOLONG;
		if ((int64_t)v.len < f->min)
			return f->type == TB_FT_FIXED ? TB_ETRUNCATED : TB_ERANGE;
		if (f->type == TB_FT_FIXED) {
			memcpy(at, v.p, v.len);
			return 0;
		}
		if (f->type == TB_FT_STR && (err = tb_utf8_check(v.p, v.len)))
			return err;
		*(struct tb_view *)at = v;
		return 0;
	}
	}
	return TB_ETYPE;
}

int tb_msg_decode(struct tb_reader *r, const struct tb_msgdef *d, void *obj)
{
	uint32_t n;
	int err = tb_mp_read_array(r, &n);
	if (err)
		return err;
	if (n != d->nfields)
		return TB_EARITY;
	memset(obj, 0, d->size);
	for (size_t i = 0; i < d->nfields; i++) {
		const struct tb_field *f = &d->fields[i];
		if ((err = decode_field(r, f, (uint8_t *)obj + f->offset)))
			return err;
	}
	return 0;
}

int tb_msg_decode_exact(const uint8_t *p, size_t len, const struct tb_msgdef *d, void *obj)
{
	struct tb_reader r;
	tb_reader_init(&r, p, len);
	int err = tb_msg_decode(&r, d, obj);
	if (err)
		return err;
	if (r.off != len)
		return TB_ETRAILING;
	/* Canonical: our encoder must reproduce the input exactly. */
	uint8_t again[TB_FRAME_PAYLOAD_MAX + 64];
	struct tb_wbuf w;
	tb_wbuf_init(&w, again, sizeof again);
	if (tb_msg_encode(&w, d, obj) || w.len != len || memcmp(again, p, len))
		return TB_ENONCANON;
	return 0;
}

int tb_text_check(const char *text, size_t len)
{
	return tb_utf8_check((const uint8_t *)text, len);
}
