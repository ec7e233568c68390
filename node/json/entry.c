/*
 * entry.c: the entry object of the vocabulary (docs/API.md, "Vocabulary"):
 * one signed entry of a log, decoded field by field from the message
 * tables (proto/tb_messages.h), so every kind has an object without code
 * of its own. `tally --json log` prints these. The fields keep the
 * vocabulary's types: a date of service is "YYYY-MM-DD", a moment (expires,
 * created, timestamp) a UTC string, a 0-or-1 field a boolean, bytes
 * lower-case hex, and an empty signature null.
 */
#include "tb_json.h"

#include <string.h>

static bool moment_field(const struct tb_field *f)
{
	return !strcmp(f->name, "expires") || !strcmp(f->name, "created") ||
	       !strcmp(f->name, "timestamp");
}

static struct tb_json *field_value(const struct tb_field *f, const void *body)
{
	const uint8_t *at = (const uint8_t *)body + f->offset;
	const struct tb_view *v = (const struct tb_view *)(const void *)at;
	uint64_t u;
	switch (f->type) {
	case TB_FT_UINT:
		memcpy(&u, at, sizeof u);
		if (f->min == 0 && f->max == 1)
			return tb_json_bool(u != 0);
		if (f->min == 19700101 && f->max == 99991231)
			return tb_json_date(u);
		if (moment_field(f))
			return tb_json_time(u);
		/* The tables bound every count below 2^63. */
		return tb_json_int((int64_t)u);
	case TB_FT_INT: {
		int64_t i;
		memcpy(&i, at, sizeof i);
		return tb_json_int(i);
	}
	case TB_FT_FIXED:
		return tb_json_bytes(at, (size_t)f->max);
	case TB_FT_BIN:
		return v->len ? tb_json_bytes(v->p, v->len) : tb_json_null();
	case TB_FT_STR:
		return tb_json_stringn((const char *)v->p, v->len);
	}
	return NULL;
}

struct tb_json *tb_vocab_entry(const struct tb_entry *e, struct tb_view rec)
{
	const struct tb_msgdef *d = tb_kind_def(e->kind);
	if (!d)
		return NULL;
	struct tb_json *o = tb_json_object(), *body = tb_json_object();
	uint8_t hash[TB_HASHLEN];
	tb_entry_hash(hash, rec.p, rec.len);
	int err = tb_json_set(o, "seq", tb_json_int((int64_t)e->seq));
	err |= tb_json_set(o, "kind", tb_json_string(d->name));
	err |= tb_json_set(o, "recorded", tb_json_time(e->timestamp));
	err |= tb_json_set(o, "hash", tb_json_bytes(hash, TB_HASHLEN));
	err |= tb_json_set(o, "prev", tb_json_bytes(e->prev, TB_HASHLEN));
	err |= tb_json_set(o, "bytes", tb_json_int((int64_t)rec.len));
	for (size_t i = 0; i < d->nfields && !err; i++)
		err = tb_json_set(body, d->fields[i].name, field_value(&d->fields[i], &e->body));
	/* Each set takes its value, also when it fails. */
	err |= tb_json_set(o, "body", body);
	if (err) {
		tb_json_free(o);
		return NULL;
	}
	return o;
}
