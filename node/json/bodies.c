/*
 * bodies.c: the API's request bodies, one field table each (tb_bodies.h).
 * Bounds come from the ledger's own limits (names, memo, category,
 * minutes) so a body that decodes is one the operations can take.
 */
#include "tb_bodies.h"
#include "tb_ops.h"

#include <string.h>

static int decode(const char *body, size_t len, const struct tb_jfield *f, size_t n,
		  char msg[TB_JSON_MSG_MAX])
{
	if (!len)
		return tb_json_decode("{}", 2, f, n, msg);
	return tb_json_decode(body, len, f, n, msg);
}

#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

int tb_body_login(const char *body, size_t len, struct tb_body_login *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	const struct tb_jfield f[] = {
		{"name", TB_JT_STR, true, 1, TB_NAME_MAX, o->name, NULL},
		{"password", TB_JT_STR, true, 1, TB_SECRET_MAX, o->password, NULL},
	};
	return decode(body, len, f, NFIELDS(f), msg);
}

int tb_body_member(const char *body, size_t len, struct tb_body_member *o,
		   char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	o->debt_limit = o->ceiling = -1;
	const struct tb_jfield f[] = {
		{"name", TB_JT_STR, true, 1, TB_NAME_MAX, o->name, NULL},
		{"debt_limit_minutes", TB_JT_INT, false, 0, TB_LIMIT_MAX, &o->debt_limit, NULL},
		{"ceiling_minutes", TB_JT_INT, false, 0, TB_LIMIT_MAX, &o->ceiling, NULL},
		{"public_key", TB_JT_STR, false, 64, 64, o->public_key, &o->has_key},
		{"passphrase", TB_JT_STR, false, 1, TB_SECRET_MAX, o->passphrase, &o->has_pass},
	};
	int err = decode(body, len, f, NFIELDS(f), msg);
	if (!err && o->has_key == o->has_pass) {
		snprintf(msg, TB_JSON_MSG_MAX, "give exactly one of 'public_key' and 'passphrase'");
		err = TB_EINVAL;
	}
	if (!err && strchr(o->name, '@')) {
		snprintf(msg, TB_JSON_MSG_MAX, "a member name may not contain '@'");
		err = TB_EINVAL;
	}
	return err;
}

int tb_body_exchange(const char *body, size_t len, struct tb_body_exchange *o,
		     char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	const struct tb_jfield f[] = {
		{"provider", TB_JT_STR, true, 1, TB_NAME_MAX, o->provider, NULL},
		{"receiver", TB_JT_STR, true, 1, TB_NAME_MAX, o->receiver, NULL},
		{"minutes", TB_JT_INT, true, 1, TB_MINUTES_MAX, &o->minutes, NULL},
		{"memo", TB_JT_STR, true, 0, TB_MEMO_MAX, o->memo, NULL},
		{"category", TB_JT_STR, false, 0, TB_CATEGORY_MAX, o->category, NULL},
		{"date", TB_JT_STR, false, 10, 10, o->date, NULL},
		{"attest", TB_JT_BOOL, true, 0, 1, &o->attest, NULL},
		{"provider_passphrase", TB_JT_STR, false, 1, TB_SECRET_MAX, o->provider_passphrase,
		 NULL},
	};
	return decode(body, len, f, NFIELDS(f), msg);
}

int tb_body_confirm(const char *body, size_t len, struct tb_body_confirm *o,
		    char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	const struct tb_jfield f[] = {
		{"receiver_passphrase", TB_JT_STR, true, 1, TB_SECRET_MAX, o->receiver_passphrase,
		 NULL},
	};
	return decode(body, len, f, NFIELDS(f), msg);
}

int tb_body_reverse(const char *body, size_t len, struct tb_body_reverse *o,
		    char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	const struct tb_jfield f[] = {
		{"attest", TB_JT_BOOL, false, 0, 1, &o->attest, NULL},
		{"provider_passphrase", TB_JT_STR, false, 1, TB_SECRET_MAX, o->provider_passphrase,
		 NULL},
		{"receiver_passphrase", TB_JT_STR, false, 1, TB_SECRET_MAX, o->receiver_passphrase,
		 NULL},
	};
	return decode(body, len, f, NFIELDS(f), msg);
}

int tb_body_link(const char *body, size_t len, struct tb_body_link *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	const struct tb_jfield f[] = {
		{"community", TB_JT_STR, true, 1, sizeof o->community - 1, o->community, NULL},
		{"limit_minutes", TB_JT_INT, true, 0, TB_LIMIT_MAX, &o->limit, NULL},
	};
	return decode(body, len, f, NFIELDS(f), msg);
}

int tb_body_coordinator(const char *body, size_t len, struct tb_body_coordinator *o,
			char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	const struct tb_jfield f[] = {
		{"name", TB_JT_STR, true, 1, TB_NAME_MAX, o->name, NULL},
		{"role", TB_JT_STR, true, 1, sizeof o->role - 1, o->role, NULL},
		{"password", TB_JT_STR, true, TB_PASSWORD_MIN, TB_SECRET_MAX, o->password, NULL},
	};
	int err = decode(body, len, f, NFIELDS(f), msg);
	if (!err && (o->role_id = tb_role_parse(o->role)) < 0) {
		snprintf(msg, TB_JSON_MSG_MAX, "field 'role' is admin, coordinator or viewer");
		err = TB_EINVAL;
	}
	return err;
}

int tb_body_cross(const char *body, size_t len, struct tb_body_cross *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	o->ttl = 600;
	bool has_pass = false;
	const struct tb_jfield f[] = {
		{"from", TB_JT_STR, true, 1, TB_NAME_MAX, o->from, NULL},
		{"to", TB_JT_STR, true, 3, sizeof o->to - 1, o->to, NULL},
		{"minutes", TB_JT_INT, true, 1, TB_MINUTES_MAX, &o->minutes, NULL},
		{"memo", TB_JT_STR, true, 0, TB_MEMO_MAX, o->memo, NULL},
		{"category", TB_JT_STR, false, 0, TB_CATEGORY_MAX, o->category, NULL},
		{"date", TB_JT_STR, false, 10, 10, o->date, NULL},
		{"attest", TB_JT_BOOL, false, 0, 1, &o->attest, NULL},
		{"ttl_seconds", TB_JT_INT, false, 1, (int64_t)TB_OP_TTL_MAX, &o->ttl, NULL},
		{"payer_passphrase", TB_JT_STR, false, 1, TB_SECRET_MAX, o->payer_passphrase,
		 &has_pass},
	};
	int err = decode(body, len, f, NFIELDS(f), msg);
	if (!err && o->attest == has_pass) {
		snprintf(msg, TB_JSON_MSG_MAX,
			 "give exactly one of '\"attest\": true' and 'payer_passphrase'");
		err = TB_EINVAL;
	}
	return err;
}

int tb_body_empty(const char *body, size_t len, char msg[TB_JSON_MSG_MAX])
{
	return decode(body, len, NULL, 0, msg);
}

void tb_body_wipe(void *body, size_t size)
{
	tb_wipe(body, size);
}

int tb_body_date(const char *s, uint64_t *out)
{
	*out = 0;
	return *s ? tb_date_parse(s, out) : 0;
}
