/*
 * members.c: finding a member the way a user names one (tb_store_member_find):
 * by number ("#7"), by the active member's name in any case or normal form,
 * else by the name of the member who left most recently under it, so a
 * departed member's history and statements stay reachable. Read-only: it
 * never changes the store, and a name that is merely confusable with a
 * member's (a Cyrillic letter) does not find that member.
 */
#include "store_int.h"

#include "tb_text.h"

/* "#N" with N decimal, no sign or spaces, at most UINT32_MAX. */
static int parse_number(const char *s, uint32_t *no)
{
	uint64_t v = 0;

	if (s[0] != '#' || s[1] == '\0')
		return TB_EINVAL;
	for (const char *p = s + 1; *p; p++) {
		if (*p < '0' || *p > '9' || p - s > 10)
			return TB_EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > UINT32_MAX)
		return TB_EINVAL;
	*no = (uint32_t)v;
	return 0;
}

struct latest_left {
	const char *folded;
	struct tb_member *out;
	bool found;
	uint32_t lognum;
};

static int latest_left_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct latest_left *ll = ctx;
	struct tb_member m;
	char f[TB_TEXT_KEY_MAX];
	int err;

	if (k.len != TB_MEMBER_KEY_LEN)
		return TB_ECORRUPT;
	if ((err = tb_member_unpack(&m, tb_be32_get(k.p + 4), v)))
		return err;
	if (m.active || m.no == TB_COMMUNITY_ACCOUNT ||
	    tb_text_fold(f, sizeof f, NULL, m.name, strlen(m.name)) || strcmp(f, ll->folded) != 0)
		return 0;
	/* Members come in number order: the last match is the latest. */
	*ll->out = m;
	ll->found = true;
	return 0;
}

static int find_by_name(struct tb_txn *t, uint32_t lognum, const char *name, struct tb_member *out)
{
	char folded[TB_TEXT_KEY_MAX], mf[TB_TEXT_KEY_MAX];
	uint32_t no;
	uint8_t prefix[TB_LOG_PREFIX_LEN];
	int err = tb_text_fold(folded, sizeof folded, NULL, name, strlen(name));

	if (err)
		return TB_ENAME;
	if (strcmp(folded, "community") == 0)
		return tb_rule_account(t, lognum, TB_COMMUNITY_ACCOUNT, out);
	err = tb_name_lookup(t, lognum, name, strlen(name), &no);
	if (err == 0) {
		if ((err = tb_member_get(t, lognum, no, out)))
			return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
		if (tb_text_fold(mf, sizeof mf, NULL, out->name, strlen(out->name)) == 0 &&
		    strcmp(mf, folded) == 0)
			return 0;
	} else if (err != TB_ENOTFOUND) {
		return err;
	}
	struct latest_left ll = {folded, out, false, lognum};
	tb_log_prefix(prefix, lognum);
	err = tb_txn_foreach(t, TB_T_MEMBERS, prefix, sizeof prefix, NULL, 0, latest_left_cb, &ll);
	if (err < 0)
		return err;
	return ll.found ? 0 : TB_ENOTFOUND;
}

int tb_store_member_find(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], const char *what,
			 struct tb_member *out)
{
	struct tb_txn t;
	uint32_t lognum, no;
	char name[TB_NAME_MAX * 4 + 1];
	size_t n = strlen(what);
	int err;

	if (what[0] == '#') {
		if (parse_number(what, &no))
			return TB_ENOTFOUND;
		return tb_store_member(s, log_id, no, out);
	}
	if (n == 0 || n > TB_NAME_MAX * 4 || tb_text_nfc(name, sizeof name, NULL, what, n))
		return TB_ENAME;
	tb_txn_begin(&t, s->db, false);
	err = tb_lognum_of(&t, log_id, &lognum);
	if (!err)
		err = find_by_name(&t, lognum, name, out);
	tb_txn_abort(&t);
	return err;
}
