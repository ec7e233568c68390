/*
 * ops_invite.c: making an invitation for a new member, for the command line
 * (`tally member invite`) and the API alike. The token is 32 random bytes,
 * given out once as hex; the store keeps its SHA-256 and expiry only.
 */
#include "tb_ops.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int tb_op_invite(const struct tb_ops *o, const char *name, uint64_t valid_s, char token[65],
		 uint64_t *expires)
{
	token[0] = '\0';
	if (!valid_s || valid_s > TB_INVITE_VALID_MAX || strlen(name) > TB_NAME_MAX)
		return TB_EINVAL;
	struct tb_member m;
	int err = tb_store_member_by_name(o->store, o->self, name, &m);
	if (!err)
		return TB_ENAME;
	if (err != TB_ENOTFOUND)
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
