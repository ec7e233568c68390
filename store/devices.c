/*
 * devices.c: a member's key file kept at the node for their other devices
 * (FORMAT.md 8.4), and the one-time device links that hand it out. Both are
 * local tables, never in a log, never rebuilt, never exported:
 * `keyfiles` maps the member's number (u32 BE) to the time it was stored
 * (u64 BE) and the encrypted key file as the member's browser made it
 * (exactly TB_KEYFILE_LEN bytes: the node cannot open it, and never needs
 * to); `devlinks` maps the SHA-256 of a link's token to its expiry (u64 BE)
 * and the member (u32 BE), and a link is deleted in the transaction that
 * reads it, so it works once. The file is handed out for a link only: it
 * allows guessing the passphrase offline, so nothing here lists or returns
 * it otherwise.
 */
#include "store_int.h"

#define STORED_HEAD 8

int tb_store_keyfile_put(struct tb_store *s, uint32_t member, const uint8_t *file, size_t len,
			 uint64_t now)
{
	if (!member || len != TB_KEYFILE_LEN)
		return TB_EINVAL;
	uint8_t k[4], v[STORED_HEAD + TB_KEYFILE_LEN];
	tb_be32_put(k, member);
	tb_be64_put(v, now);
	memcpy(v + STORED_HEAD, file, len);
	struct tb_txn t;
	tb_txn_begin(&t, s->db, true);
	tb_txn_put(&t, TB_T_KEYFILES, k, sizeof k, v, sizeof v);
	return tb_txn_commit(&t);
}

int tb_store_keyfile_get(struct tb_store *s, uint32_t member, uint8_t file[TB_KEYFILE_LEN],
			 uint64_t *stored)
{
	uint8_t k[4];
	tb_be32_put(k, member);
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_absent(&t, TB_T_KEYFILES) ? TB_ENOTFOUND
						   : tb_txn_get(&t, TB_T_KEYFILES, k, sizeof k, &v);
	if (!err && v.len != STORED_HEAD + TB_KEYFILE_LEN)
		err = TB_ECORRUPT;
	if (!err) {
		if (stored)
			*stored = tb_be64_get(v.p);
		if (file)
			memcpy(file, v.p + STORED_HEAD, TB_KEYFILE_LEN);
	}
	tb_txn_abort(&t);
	return err;
}

void tb_keyfile_forget_txn(struct tb_txn *t, uint64_t member)
{
	if (!member || member > UINT32_MAX)
		return;
	uint8_t k[4];
	tb_be32_put(k, (uint32_t)member);
	tb_txn_del(t, TB_T_KEYFILES, k, sizeof k);
}

int tb_store_keyfile_del(struct tb_store *s, uint32_t member)
{
	uint8_t k[4];
	tb_be32_put(k, member);
	struct tb_txn t;
	struct tb_view v;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_KEYFILES, k, sizeof k, &v);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	tb_txn_del(&t, TB_T_KEYFILES, k, sizeof k);
	return tb_txn_commit(&t);
}

int tb_store_devlink_put(struct tb_store *s, const uint8_t hash[TB_HASHLEN], uint32_t member,
			 uint64_t expires, uint64_t now)
{
	if (!member || expires <= now || expires > now + TB_DEVLINK_VALID_S)
		return TB_EINVAL;
	uint8_t v[12];
	tb_be64_put(v, expires);
	tb_be32_put(v + 8, member);
	return tb_tokens_put(s, TB_T_DEVLINKS, hash, v, sizeof v, now, TB_DEVLINKS_MAX, 4,
			     TB_DEVLINKS_PER_MEMBER);
}

int tb_store_devlink_take(struct tb_store *s, const uint8_t hash[TB_HASHLEN], uint64_t now,
			  uint32_t *member)
{
	uint8_t v[12];
	size_t len = 0;
	*member = 0;
	int err = tb_tokens_get(s, TB_T_DEVLINKS, hash, now, true, v, sizeof v, &len);
	if (!err && len != sizeof v)
		err = TB_ECORRUPT;
	if (!err)
		*member = tb_be32_get(v + 8);
	return err;
}
