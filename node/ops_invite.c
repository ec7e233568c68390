/*
 * ops_invite.c: making an invitation for a new member, for the command line
 * (`tally member invite`) and the API alike. The token is 32 random bytes,
 * given out once as hex; the store keeps its SHA-256 and expiry only.
 */
#include "tb_ops.h"
#include "tb_text.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The name in NFC, if a join could take it (the member-join rule's checks). */
static int usable_name(const struct tb_ops *o, const char *in, char out[TB_NAME_MAX + 1],
		       struct tb_reject *rej)
{
	char nfc[4 * TB_NAME_MAX + 1];
	size_t n = 0;
	int err = tb_text_nfc(nfc, sizeof nfc, &n, in, strlen(in));
	if (err == TB_EUTF8)
		return tb_op_refuse(rej, TB_EUTF8, "a member name must be valid UTF-8");
	if (err || n == 0 || n > TB_NAME_MAX)
		return tb_op_refuse(rej, TB_ENAME, "a member name must be 1 to %d bytes long",
				    TB_NAME_MAX);
	if (strchr(nfc, '@'))
		return tb_op_refuse(rej, TB_ENAME, "a member name may not contain '@'");
	struct tb_member m;
	if (!(err = tb_store_member_by_name(o->store, o->self, nfc, &m)))
		return tb_op_refuse(rej, TB_ENAME, "%s is already a member", nfc);
	if (err != TB_ENOTFOUND)
		return err;
	if ((err = tb_store_name_usable(o->store, o->self, nfc, rej)))
		return err;
	memcpy(out, nfc, n + 1);
	return 0;
}

int tb_op_invite(const struct tb_ops *o, const char *in, uint64_t valid_s, char token[65],
		 uint64_t *expires, struct tb_reject *rej)
{
	token[0] = '\0';
	if (rej)
		memset(rej, 0, sizeof *rej);
	if (!valid_s || valid_s > TB_INVITE_VALID_MAX)
		return TB_EINVAL;
	char name[TB_NAME_MAX + 1];
	int err = usable_name(o, in, name, rej);
	if (err)
		return err;
	uint8_t raw[32], hash[TB_HASHLEN];
	tb_random(raw, sizeof raw);
	tb_sha256(hash, raw, sizeof raw);
	uint64_t now = (uint64_t)time(NULL);
	struct tb_invite inv = {.expires = now + valid_s};
	snprintf(inv.name, sizeof inv.name, "%s", name);
	if (!(err = tb_store_invite_put(o->store, hash, &inv, now))) {
		tb_hex_encode(token, raw, sizeof raw);
		*expires = inv.expires;
	}
	tb_wipe(raw, sizeof raw);
	return err;
}
