/*
 * json.c: the jansson wrapper (the only file that includes jansson.h): values
 * built and printed for the CLI and the API, and the one bounded decoder of
 * request bodies (tb_json_decode) every handler uses, so no handler walks
 * parsed JSON by hand. It never aborts on input and never returns a value
 * that aliases the caller's buffer.
 */
#include "tb_json.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

/* struct tb_json is jansson's json_t under our name. */
#define J(v) ((json_t *)(v))
#define T(v) ((struct tb_json *)(v))

struct tb_json *tb_json_object(void)
{
	return T(json_object());
}

struct tb_json *tb_json_array(void)
{
	return T(json_array());
}

struct tb_json *tb_json_string(const char *s)
{
	return s ? T(json_string(s)) : NULL;
}

struct tb_json *tb_json_stringn(const char *s, size_t len)
{
	return T(json_stringn(s, len));
}

struct tb_json *tb_json_int(int64_t v)
{
	return T(json_integer((json_int_t)v));
}

struct tb_json *tb_json_bool(bool v)
{
	return T(json_boolean(v));
}

struct tb_json *tb_json_null(void)
{
	return T(json_null());
}

struct tb_json *tb_json_bytes(const uint8_t *p, size_t len)
{
	char *s = malloc(2 * len + 1);
	if (!s)
		return NULL;
	tb_hex_encode(s, p, len);
	json_t *v = json_stringn(s, 2 * len);
	free(s);
	return T(v);
}

struct tb_json *tb_json_date(uint64_t d)
{
	char buf[32];
	snprintf(buf, sizeof buf, "%04llu-%02llu-%02llu", (unsigned long long)(d / 10000 % 10000),
		 (unsigned long long)(d / 100 % 100), (unsigned long long)(d % 100));
	return T(json_string(buf));
}

struct tb_json *tb_json_time(uint64_t secs)
{
	if (!secs)
		return T(json_null());
	char buf[40];
	time_t t = (time_t)secs;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return T(json_null());
	return T(json_string(buf));
}

int tb_json_set(struct tb_json *obj, const char *key, struct tb_json *v)
{
	if (!v)
		return TB_ENOMEM;
	if (!obj) {
		json_decref(J(v));
		return TB_ENOMEM;
	}
	return json_object_set_new(J(obj), key, J(v)) ? TB_ENOMEM : 0;
}

int tb_json_push(struct tb_json *arr, struct tb_json *v)
{
	if (!v)
		return TB_ENOMEM;
	if (!arr) {
		json_decref(J(v));
		return TB_ENOMEM;
	}
	return json_array_append_new(J(arr), J(v)) ? TB_ENOMEM : 0;
}

size_t tb_json_length(const struct tb_json *arr)
{
	return json_array_size(J(arr));
}

void tb_json_free(struct tb_json *v)
{
	json_decref(J(v));
}

char *tb_json_dump(const struct tb_json *v, size_t *len)
{
	char *s = json_dumps(J(v), JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	char *out = realloc(s, n + 2);
	if (!out) {
		free(s);
		return NULL;
	}
	out[n] = '\n';
	out[n + 1] = '\0';
	if (len)
		*len = n + 1;
	return out;
}

int tb_json_print(const struct tb_json *v, FILE *f)
{
	size_t len;
	char *s = tb_json_dump(v, &len);
	if (!s)
		return TB_ENOMEM;
	int bad = fwrite(s, 1, len, f) != len;
	free(s);
	return bad ? TB_EIO : 0;
}

/* ---- decoding ---- */

static int fail(char *msg, const char *fmt, const char *key)
{
	snprintf(msg, TB_JSON_MSG_MAX, fmt, key);
	return TB_EINVAL;
}

static int take_str(const struct tb_jfield *f, json_t *v, char *msg)
{
	if (!json_is_string(v))
		return fail(msg, "field '%s' must be a string", f->key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if ((int64_t)len > f->max || (int64_t)len < f->min) {
		snprintf(msg, TB_JSON_MSG_MAX, "field '%s' must be %lld to %lld bytes long", f->key,
			 (long long)f->min, (long long)f->max);
		return TB_EINVAL;
	}
	/* jansson guarantees UTF-8 but lets NUL (\u0000) and controls through. */
	if (memchr(s, 0, len) || tb_text_check(s, len))
		return fail(msg, "field '%s' must be text without control characters", f->key);
	memcpy(f->out, s, len);
	((char *)f->out)[len] = '\0';
	return 0;
}

static int take(const struct tb_jfield *f, json_t *v, char *msg)
{
	switch (f->type) {
	case TB_JT_STR:
		return take_str(f, v, msg);
	case TB_JT_INT:
		if (!json_is_integer(v))
			return fail(msg, "field '%s' must be a whole number", f->key);
		if (json_integer_value(v) < f->min || json_integer_value(v) > f->max) {
			snprintf(msg, TB_JSON_MSG_MAX, "field '%s' must be from %lld to %lld",
				 f->key, (long long)f->min, (long long)f->max);
			return TB_EINVAL;
		}
		*(int64_t *)f->out = (int64_t)json_integer_value(v);
		return 0;
	case TB_JT_BOOL:
		if (!json_is_boolean(v))
			return fail(msg, "field '%s' must be true or false", f->key);
		*(bool *)f->out = json_is_true(v);
		return 0;
	}
	return fail(msg, "field '%s' has an unknown type", f->key);
}

static int decode_fields(json_t *root, const struct tb_jfield *fields, size_t n, char *msg)
{
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v)
	{
		size_t i = 0;
		while (i < n && strcmp(fields[i].key, key))
			i++;
		if (i == n) {
			char shown[48];
			snprintf(shown, sizeof shown, "%.40s", key);
			for (char *c = shown; *c; c++)
				if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
					*c = '?';
			return fail(msg, "unknown field '%s'", shown);
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (fields[i].present)
			*fields[i].present = false;
		v = json_object_get(root, fields[i].key);
		if (!v) {
			if (fields[i].required)
				return fail(msg, "field '%s' is missing", fields[i].key);
			continue;
		}
		int err = take(&fields[i], v, msg);
		if (err)
			return err;
		if (fields[i].present)
			*fields[i].present = true;
	}
	return 0;
}

int tb_json_decode(const char *body, size_t len, const struct tb_jfield *fields, size_t n,
		   char msg[TB_JSON_MSG_MAX])
{
	msg[0] = '\0';
	json_error_t e;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
	if (!root) {
		char what[80];
		snprintf(what, sizeof what, "%.79s", e.text);
		for (char *c = what; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		snprintf(msg, TB_JSON_MSG_MAX, "malformed JSON at line %d column %d: %s", e.line,
			 e.column, what);
		return TB_EINVAL;
	}
	int err = json_is_object(root) ? decode_fields(root, fields, n, msg)
				       : fail(msg, "the body must be a JSON object%s", "");
	json_decref(root);
	return err;
}

bool tb_json_document(const char *text, size_t len)
{
	json_error_t e;
	json_t *root = json_loadb(text, len, 0, &e);
	json_decref(root);
	return root != NULL;
}
