/*
 * fuzz_api_body.c: libFuzzer target for the JSON decoding of tallyd's API
 * requests (node/json/bodies.c and tb_json_decode): the first byte picks
 * the body (login, member, exchange, confirm, reverse, link, coordinator,
 * empty, cross, a member's proposal draft and signed, payment draft and
 * signed, signature; 0xf0 a sign-in challenge, 0xf1 a sign-in, 0xf2 an
 * invitation, 0xf3 joining), the rest is the body's bytes. A body is either
 * refused with a sentence, or decoded into fields that keep their bounds:
 * NUL-terminated strings within their caps and free of control characters,
 * amounts within the ledger's limits.
 */
#include <stdint.h>
#include <string.h>

#include "tb_bodies.h"
#include "tb_ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	TB_ASSERT(n < cap);
	TB_ASSERT(tb_text_check(s, n) == 0);
}

#define TEXT(field) check_text(field, sizeof(field))

static void outcome(int err, const char *msg)
{
	TB_ASSERT(err == 0 || err == TB_EINVAL);
	if (err)
		TB_ASSERT(msg[0] != '\0' && strnlen(msg, TB_JSON_MSG_MAX) < TB_JSON_MSG_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	char msg[TB_JSON_MSG_MAX];
	int err;
	if (data[0] == 0xf0) { /* a sign-in challenge request */
		struct tb_body_challenge b;
		outcome(err = tb_body_challenge(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.member);
			TEXT(b.key);
			TB_ASSERT(b.has_key || b.has_member);
			TB_ASSERT(!b.has_key || strlen(b.key) == 2 * TB_KEY_LEN);
		}
		return 0;
	}
	if (data[0] == 0xf1) { /* a member's sign-in */
		struct tb_body_signin b;
		outcome(err = tb_body_signin(body, len, &b, msg), msg);
		if (!err)
			TB_ASSERT(strlen(b.challenge) == 2 * TB_HASHLEN &&
				  strlen(b.signature) == 2 * TB_SIGLEN);
		return 0;
	}
	if (data[0] == 0xf2) { /* an invitation */
		struct tb_body_invite b;
		outcome(err = tb_body_invite(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.name);
			TB_ASSERT(b.name[0] && !strchr(b.name, '@'));
			TB_ASSERT(b.valid_days >= 1 && b.valid_days <= 30);
		}
		return 0;
	}
	if (data[0] == 0xf3) { /* joining by invitation */
		struct tb_body_join b;
		outcome(err = tb_body_join(body, len, &b, msg), msg);
		if (!err)
			TB_ASSERT(strlen(b.public_key) == 2 * TB_KEY_LEN);
		return 0;
	}
	switch (data[0] % 14) {
	case 0: {
		struct tb_body_login b;
		outcome(err = tb_body_login(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.name);
			TEXT(b.password);
			TB_ASSERT(b.name[0] && b.password[0]);
		}
		break;
	}
	case 1: {
		struct tb_body_member b;
		outcome(err = tb_body_member(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.name);
			TB_ASSERT(b.has_key != b.has_pass && !strchr(b.name, '@'));
			TB_ASSERT(b.debt_limit >= -1 && b.debt_limit <= TB_LIMIT_MAX);
			TB_ASSERT(b.ceiling >= -1 && b.ceiling <= TB_LIMIT_MAX);
			TB_ASSERT(!b.has_key || strlen(b.public_key) == 64);
		}
		break;
	}
	case 2: {
		struct tb_body_exchange b;
		outcome(err = tb_body_exchange(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.provider);
			TEXT(b.receiver);
			TEXT(b.memo);
			TEXT(b.category);
			TB_ASSERT(b.minutes >= 1 && b.minutes <= TB_MINUTES_MAX);
			uint64_t d;
			int de = tb_body_date(b.date, &d);
			TB_ASSERT(de == 0 || de == TB_EDATE);
			TB_ASSERT(de || !b.date[0] || (d >= 19700101 && d <= 99991231));
		}
		break;
	}
	case 3: {
		struct tb_body_confirm b;
		outcome(err = tb_body_confirm(body, len, &b, msg), msg);
		if (!err)
			TEXT(b.receiver_passphrase);
		break;
	}
	case 4: {
		struct tb_body_reverse b;
		outcome(err = tb_body_reverse(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.provider_passphrase);
			TEXT(b.receiver_passphrase);
		}
		break;
	}
	case 5: {
		struct tb_body_link b;
		outcome(err = tb_body_link(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.community);
			TB_ASSERT(b.community[0] && b.limit >= 0 && b.limit <= TB_LIMIT_MAX);
		}
		break;
	}
	case 6: {
		struct tb_body_coordinator b;
		outcome(err = tb_body_coordinator(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.name);
			TEXT(b.password);
			TB_ASSERT(strlen(b.password) >= TB_PASSWORD_MIN);
			TB_ASSERT(b.role_id >= TB_ROLE_VIEWER && b.role_id <= TB_ROLE_ADMIN);
		}
		break;
	}
	case 8: {
		struct tb_body_cross b;
		outcome(err = tb_body_cross(body, len, &b, msg), msg);
		if (!err) {
			TEXT(b.from);
			TEXT(b.to);
			TEXT(b.memo);
			TEXT(b.category);
			TEXT(b.payer_passphrase);
			TB_ASSERT(b.from[0] && strlen(b.to) >= 3);
			TB_ASSERT(b.minutes >= 1 && b.minutes <= TB_MINUTES_MAX);
			TB_ASSERT(b.ttl >= 1 && (uint64_t)b.ttl <= TB_OP_TTL_MAX);
			TB_ASSERT(b.attest != (b.payer_passphrase[0] != '\0'));
		}
		break;
	}
	case 9:
	case 10: {
		struct tb_body_mpropose b;
		outcome(err = tb_body_mpropose(body, len, data[0] % 14 == 10, &b, msg), msg);
		if (!err) {
			TEXT(b.receiver);
			TEXT(b.memo);
			TEXT(b.category);
			TEXT(b.signature);
			TB_ASSERT(b.receiver[0] && b.minutes >= 1 && b.minutes <= TB_MINUTES_MAX);
			TB_ASSERT(data[0] % 14 == 9 ||
				  (strlen(b.txid) == 32 && strlen(b.memo_salt) == 32 &&
				   strlen(b.signature) == 128));
		}
		break;
	}
	case 11:
	case 12: {
		struct tb_body_mpay b;
		outcome(err = tb_body_mpay(body, len, data[0] % 14 == 12, &b, msg), msg);
		if (!err) {
			TEXT(b.to);
			TEXT(b.memo);
			TEXT(b.category);
			TB_ASSERT(strlen(b.to) >= 3 && b.minutes >= 1 &&
				  b.minutes <= TB_MINUTES_MAX);
			TB_ASSERT(b.ttl >= 1 && (uint64_t)b.ttl <= TB_OP_TTL_MAX);
			TB_ASSERT(data[0] % 14 == 11 ||
				  (b.expires >= 1 && strlen(b.signature) == 128));
		}
		break;
	}
	case 13: {
		struct tb_body_msig b;
		outcome(err = tb_body_msig(body, len, &b, msg), msg);
		if (!err)
			TB_ASSERT(strlen(b.signature) == 128);
		break;
	}
	default:
		outcome(tb_body_empty(body, len, msg), msg);
		break;
	}
	return 0;
}
