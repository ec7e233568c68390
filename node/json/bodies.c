/*
 * bodies.c: the API's request bodies (tb_bodies.h), each one static table
 * of its struct's fields decoded by one function, then the checks that
 * span fields. A text field's bound is its buffer's (so a body that
 * decodes always fits), the others' come from the ledger's own limits
 * (minutes, limits, ttl), so a body that decodes is one the operations
 * can take.
 */
#include "tb_bodies.h"
#include "tb_ops.h"

#include <stddef.h>
#include <string.h>

#define NO_FLAG SIZE_MAX
#define BODY_FIELDS_MAX 10

/* A field of a body struct: what tb_json_decode checks and where the value
 * (and the flag saying it was given, if any) goes. */
struct bfield {
	const char *key;
	enum tb_jtype type;
	bool required;
	int64_t min, max;
	size_t off, flag;
};

/* Text into char S.m[]: min to sizeof - 1 bytes. */
#define STR(S, key, m, req, min) STR_FLAG_AT(S, key, m, req, min, NO_FLAG)
#define STR_FLAG(S, key, m, req, min, flag) \
	STR_FLAG_AT(S, key, m, req, min, offsetof(struct S, flag))
#define STR_FLAG_AT(S, key, m, req, min, at)                                       \
	{                                                                          \
		key, TB_JT_STR, req, min, (int64_t)sizeof(((struct S *)0)->m) - 1, \
			offsetof(struct S, m), at                                  \
	}
#define INT(S, key, m, req, min, max)                                         \
	{                                                                     \
		key, TB_JT_INT, req, min, max, offsetof(struct S, m), NO_FLAG \
	}
#define BOOL(S, key, m, req)                                               \
	{                                                                  \
		key, TB_JT_BOOL, req, 0, 1, offsetof(struct S, m), NO_FLAG \
	}
#define NFIELDS(f) (sizeof(f) / sizeof((f)[0]))

/* Decodes body (empty: {}) into the struct at o by the table t. */
static int decode(const char *body, size_t len, const struct bfield *t, size_t n, void *o,
		  char msg[TB_JSON_MSG_MAX])
{
	struct tb_jfield f[BODY_FIELDS_MAX] = {0}; /* all of it, for the compiler */
	TB_ASSERT(n <= BODY_FIELDS_MAX);
	for (size_t i = 0; i < n; i++)
		f[i] = (struct tb_jfield){t[i].key,
					  t[i].type,
					  t[i].required,
					  t[i].min,
					  t[i].max,
					  (char *)o + t[i].off,
					  t[i].flag == NO_FLAG ? NULL
							       : (bool *)((char *)o + t[i].flag)};
	if (!len)
		return tb_json_decode("{}", 2, f, n, msg);
	return tb_json_decode(body, len, f, n, msg);
}

/* TB_EINVAL with the sentence when bad. */
static int refuse(bool bad, const char *sentence, char msg[TB_JSON_MSG_MAX])
{
	if (!bad)
		return 0;
	snprintf(msg, TB_JSON_MSG_MAX, "%s", sentence);
	return TB_EINVAL;
}

static const struct bfield login_fields[] = {
	STR(tb_body_login, "name", name, true, 1),
	STR(tb_body_login, "password", password, true, 1),
};

int tb_body_login(const char *body, size_t len, struct tb_body_login *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, login_fields, NFIELDS(login_fields), o, msg);
}

static const struct bfield member_fields[] = {
	STR(tb_body_member, "name", name, true, 1),
	INT(tb_body_member, "debt_limit_minutes", debt_limit, false, 0, TB_LIMIT_MAX),
	INT(tb_body_member, "ceiling_minutes", ceiling, false, 0, TB_LIMIT_MAX),
	STR_FLAG(tb_body_member, "public_key", public_key, false, 64, has_key),
	STR_FLAG(tb_body_member, "passphrase", passphrase, false, 1, has_pass),
};

int tb_body_member(const char *body, size_t len, struct tb_body_member *o,
		   char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	o->debt_limit = o->ceiling = -1;
	int err = decode(body, len, member_fields, NFIELDS(member_fields), o, msg);
	if (!err)
		err = refuse(o->has_key == o->has_pass,
			     "give exactly one of 'public_key' and 'passphrase'", msg);
	if (!err)
		err = refuse(strchr(o->name, '@') != NULL, "a member name may not contain '@'",
			     msg);
	return err;
}

static const struct bfield exchange_fields[] = {
	STR(tb_body_exchange, "provider", provider, true, 1),
	STR(tb_body_exchange, "receiver", receiver, true, 1),
	INT(tb_body_exchange, "minutes", minutes, true, 1, TB_MINUTES_MAX),
	STR(tb_body_exchange, "memo", memo, true, 0),
	STR(tb_body_exchange, "category", category, false, 0),
	STR(tb_body_exchange, "date", date, false, 10),
	BOOL(tb_body_exchange, "attest", attest, true),
	STR(tb_body_exchange, "provider_passphrase", provider_passphrase, false, 1),
};

int tb_body_exchange(const char *body, size_t len, struct tb_body_exchange *o,
		     char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, exchange_fields, NFIELDS(exchange_fields), o, msg);
}

static const struct bfield confirm_fields[] = {
	STR(tb_body_confirm, "receiver_passphrase", receiver_passphrase, true, 1),
};

int tb_body_confirm(const char *body, size_t len, struct tb_body_confirm *o,
		    char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, confirm_fields, NFIELDS(confirm_fields), o, msg);
}

static const struct bfield reverse_fields[] = {
	BOOL(tb_body_reverse, "attest", attest, false),
	STR(tb_body_reverse, "provider_passphrase", provider_passphrase, false, 1),
	STR(tb_body_reverse, "receiver_passphrase", receiver_passphrase, false, 1),
};

int tb_body_reverse(const char *body, size_t len, struct tb_body_reverse *o,
		    char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, reverse_fields, NFIELDS(reverse_fields), o, msg);
}

static const struct bfield link_fields[] = {
	STR(tb_body_link, "community", community, true, 1),
	INT(tb_body_link, "limit_minutes", limit, true, 0, TB_LIMIT_MAX),
};

int tb_body_link(const char *body, size_t len, struct tb_body_link *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, link_fields, NFIELDS(link_fields), o, msg);
}

static const struct bfield coordinator_fields[] = {
	STR(tb_body_coordinator, "name", name, true, 1),
	STR(tb_body_coordinator, "role", role, true, 1),
	STR(tb_body_coordinator, "password", password, true, TB_PASSWORD_MIN),
};

int tb_body_coordinator(const char *body, size_t len, struct tb_body_coordinator *o,
			char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	int err = decode(body, len, coordinator_fields, NFIELDS(coordinator_fields), o, msg);
	if (!err)
		err = refuse((o->role_id = tb_role_parse(o->role)) < 0,
			     "field 'role' is admin, coordinator or viewer", msg);
	return err;
}

static const struct bfield coordinator_set_fields[] = {
	STR(tb_body_coordinator_set, "role", role, false, 1),
	STR(tb_body_coordinator_set, "password", password, false, TB_PASSWORD_MIN),
};

int tb_body_coordinator_set(const char *body, size_t len, struct tb_body_coordinator_set *o,
			    char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	int err =
		decode(body, len, coordinator_set_fields, NFIELDS(coordinator_set_fields), o, msg);
	o->role_id = -1;
	if (!err && o->role[0])
		err = refuse((o->role_id = tb_role_parse(o->role)) < 0,
			     "field 'role' is admin, coordinator or viewer", msg);
	if (!err)
		err = refuse(!o->role[0] && !o->password[0], "give 'role', 'password' or both",
			     msg);
	return err;
}

static const struct bfield cross_fields[] = {
	STR(tb_body_cross, "from", from, true, 1),
	STR(tb_body_cross, "to", to, true, 3),
	INT(tb_body_cross, "minutes", minutes, true, 1, TB_MINUTES_MAX),
	STR(tb_body_cross, "memo", memo, true, 0),
	STR(tb_body_cross, "category", category, false, 0),
	STR(tb_body_cross, "date", date, false, 10),
	BOOL(tb_body_cross, "attest", attest, false),
	INT(tb_body_cross, "ttl_seconds", ttl, false, 1, (int64_t)TB_OP_TTL_MAX),
	STR_FLAG(tb_body_cross, "payer_passphrase", payer_passphrase, false, 1, has_pass),
};

int tb_body_cross(const char *body, size_t len, struct tb_body_cross *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	o->ttl = 600;
	int err = decode(body, len, cross_fields, NFIELDS(cross_fields), o, msg);
	if (!err)
		err = refuse(o->attest == o->has_pass,
			     "give exactly one of '\"attest\": true' and 'payer_passphrase'", msg);
	return err;
}

/* A member's own proposal and payment: the fields the draft and the signed
 * request share; the signed one adds what the node chose and the signature. */
#define MPROPOSE()                                                                  \
	STR(tb_body_mpropose, "receiver", receiver, true, 1),                       \
		INT(tb_body_mpropose, "minutes", minutes, true, 1, TB_MINUTES_MAX), \
		STR(tb_body_mpropose, "memo", memo, true, 0),                       \
		STR(tb_body_mpropose, "category", category, false, 0),              \
		STR(tb_body_mpropose, "date", date, false, 10)

static const struct bfield mpropose_draft[] = {MPROPOSE()};
static const struct bfield mpropose_signed[] = {
	MPROPOSE(),
	STR(tb_body_mpropose, "txid", txid, true, 2 * TB_TXID_LEN),
	STR(tb_body_mpropose, "memo_salt", memo_salt, true, 2 * TB_MEMO_SALT_LEN),
	STR(tb_body_mpropose, "signature", signature, true, 2 * TB_SIGLEN),
};

int tb_body_mpropose(const char *body, size_t len, bool is_signed, struct tb_body_mpropose *o,
		     char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	if (is_signed)
		return decode(body, len, mpropose_signed, NFIELDS(mpropose_signed), o, msg);
	return decode(body, len, mpropose_draft, NFIELDS(mpropose_draft), o, msg);
}

#define MPAY()                                                                  \
	STR(tb_body_mpay, "to", to, true, 3),                                   \
		INT(tb_body_mpay, "minutes", minutes, true, 1, TB_MINUTES_MAX), \
		STR(tb_body_mpay, "memo", memo, true, 0),                       \
		STR(tb_body_mpay, "category", category, false, 0),              \
		STR(tb_body_mpay, "date", date, false, 10)

static const struct bfield mpay_draft[] = {
	MPAY(),
	INT(tb_body_mpay, "ttl_seconds", ttl, false, 1, (int64_t)TB_OP_TTL_MAX),
};
static const struct bfield mpay_signed[] = {
	MPAY(),
	INT(tb_body_mpay, "expires", expires, true, 1, (int64_t)UINT32_MAX * 4),
	STR(tb_body_mpay, "txid", txid, true, 2 * TB_TXID_LEN),
	STR(tb_body_mpay, "memo_salt", memo_salt, true, 2 * TB_MEMO_SALT_LEN),
	STR(tb_body_mpay, "signature", signature, true, 2 * TB_SIGLEN),
};

int tb_body_mpay(const char *body, size_t len, bool is_signed, struct tb_body_mpay *o,
		 char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	o->ttl = 600;
	if (is_signed)
		return decode(body, len, mpay_signed, NFIELDS(mpay_signed), o, msg);
	return decode(body, len, mpay_draft, NFIELDS(mpay_draft), o, msg);
}

static const struct bfield msig_fields[] = {
	STR(tb_body_msig, "signature", signature, true, 2 * TB_SIGLEN),
};

int tb_body_msig(const char *body, size_t len, struct tb_body_msig *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, msig_fields, NFIELDS(msig_fields), o, msg);
}

int tb_body_empty(const char *body, size_t len, char msg[TB_JSON_MSG_MAX])
{
	return decode(body, len, NULL, 0, NULL, msg);
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

static const struct bfield challenge_fields[] = {
	STR_FLAG(tb_body_challenge, "key", key, false, 2 * TB_KEY_LEN, has_key),
	STR_FLAG(tb_body_challenge, "member", member, false, 1, has_member),
};

int tb_body_challenge(const char *body, size_t len, struct tb_body_challenge *o,
		      char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	int err = decode(body, len, challenge_fields, NFIELDS(challenge_fields), o, msg);
	if (!err)
		err = refuse(!o->has_key && !o->has_member,
			     "give 'key' (64 hex digits) or 'member'", msg);
	return err;
}

static const struct bfield signin_fields[] = {
	STR(tb_body_signin, "challenge", challenge, true, 2 * TB_HASHLEN),
	STR(tb_body_signin, "signature", signature, true, 2 * TB_SIGLEN),
};

int tb_body_signin(const char *body, size_t len, struct tb_body_signin *o,
		   char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, signin_fields, NFIELDS(signin_fields), o, msg);
}

static const struct bfield invite_fields[] = {
	STR(tb_body_invite, "name", name, true, 1),
	INT(tb_body_invite, "valid_days", valid_days, false, 1, 30),
};

int tb_body_invite(const char *body, size_t len, struct tb_body_invite *o,
		   char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	o->valid_days = 7;
	int err = decode(body, len, invite_fields, NFIELDS(invite_fields), o, msg);
	if (!err)
		err = refuse(strchr(o->name, '@') != NULL, "a member name may not contain '@'",
			     msg);
	return err;
}

static const struct bfield join_fields[] = {
	STR(tb_body_join, "public_key", public_key, true, 2 * TB_KEY_LEN),
};

int tb_body_join(const char *body, size_t len, struct tb_body_join *o, char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, join_fields, NFIELDS(join_fields), o, msg);
}

static const struct bfield digest_fields[] = {
	STR(tb_body_digest, "digest", digest, true, 4),
	STR(tb_body_digest, "email", email, false, 0),
};

int tb_body_digest(const char *body, size_t len, struct tb_body_digest *o,
		   char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	int err = decode(body, len, digest_fields, NFIELDS(digest_fields), o, msg);
	if (!err)
		err = refuse(strcmp(o->digest, "none") && strcmp(o->digest, "daily") &&
				     strcmp(o->digest, "weekly"),
			     "'digest' must be none, daily or weekly", msg);
	if (!err)
		err = refuse(strcmp(o->digest, "none") && !o->email[0],
			     "a daily or weekly digest needs an 'email' address", msg);
	return err;
}

static const struct bfield keyfile_fields[] = {
	STR(tb_body_keyfile, "key_file", key_file, true, 2 * TB_KEYFILE_LEN),
};

int tb_body_keyfile(const char *body, size_t len, struct tb_body_keyfile *o,
		    char msg[TB_JSON_MSG_MAX])
{
	memset(o, 0, sizeof *o);
	return decode(body, len, keyfile_fields, NFIELDS(keyfile_fields), o, msg);
}
