/*
 * records.c: fixed layouts of the store's own records (log states, derived
 * community and member records, Merkle nodes) and small shared helpers.
 * Unpacking checks every length: a record that does not parse is reported as
 * TB_ECORRUPT, never trusted.
 */
#include <stdarg.h>

#include "store_int.h"

void tb_logstate_pack(uint8_t out[TB_LOGSTATE_LEN], const struct tb_logstate *l)
{
	tb_be32_put(out, l->lognum);
	tb_be64_put(out + 4, l->seq);
	memcpy(out + 12, l->hash, TB_HASHLEN);
	tb_be32_put(out + 12 + TB_HASHLEN, l->flags);
}

int tb_logstate_unpack(struct tb_logstate *l, struct tb_view v)
{
	if (v.len != TB_LOGSTATE_LEN)
		return TB_ECORRUPT;
	l->lognum = tb_be32_get(v.p);
	l->seq = tb_be64_get(v.p + 4);
	memcpy(l->hash, v.p + 12, TB_HASHLEN);
	l->flags = tb_be32_get(v.p + 12 + TB_HASHLEN);
	return 0;
}

int tb_logstate_get(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], struct tb_logstate *l)
{
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_LOGS, log_id, TB_KEY_LEN, &v);
	if (err)
		return err;
	return tb_logstate_unpack(l, v);
}

static size_t put_name(uint8_t *out, const char *name)
{
	size_t n = strlen(name);
	TB_ASSERT(n <= TB_NAME_MAX);
	out[0] = (uint8_t)n;
	memcpy(out + 1, name, n);
	return 1 + n;
}

static int get_name(char *name, const uint8_t *p, size_t avail, size_t *used)
{
	if (avail < 1 || p[0] > TB_NAME_MAX || avail < 1u + p[0])
		return TB_ECORRUPT;
	memcpy(name, p + 1, p[0]);
	name[p[0]] = '\0';
	*used = 1u + p[0];
	return 0;
}

size_t tb_community_pack(uint8_t *out, const struct tb_community *c)
{
	size_t o = put_name(out, c->name);
	tb_be64_put(out + o, (uint64_t)c->floor);
	tb_be64_put(out + o + 8, c->ceiling);
	tb_be32_put(out + o + 16, c->members);
	tb_be32_put(out + o + 20, c->active);
	tb_be64_put(out + o + 24, c->exchanges);
	tb_be64_put(out + o + 32, c->reversals);
	tb_be64_put(out + o + 40, c->minutes);
	return o + 48;
}

int tb_community_unpack(struct tb_community *c, struct tb_view v)
{
	size_t o;
	if (get_name(c->name, v.p, v.len, &o) || v.len != o + 48)
		return TB_ECORRUPT;
	c->floor = (int64_t)tb_be64_get(v.p + o);
	c->ceiling = tb_be64_get(v.p + o + 8);
	c->members = tb_be32_get(v.p + o + 16);
	c->active = tb_be32_get(v.p + o + 20);
	c->exchanges = tb_be64_get(v.p + o + 24);
	c->reversals = tb_be64_get(v.p + o + 32);
	c->minutes = tb_be64_get(v.p + o + 40);
	return 0;
}

int tb_community_get(struct tb_txn *t, uint32_t lognum, struct tb_community *c)
{
	uint8_t k[TB_LOG_PREFIX_LEN];
	tb_log_prefix(k, lognum);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_COMMUNITY, k, sizeof k, &v);
	if (err)
		return err;
	return tb_community_unpack(c, v);
}

void tb_community_put(struct tb_txn *t, uint32_t lognum, const struct tb_community *c)
{
	uint8_t k[TB_LOG_PREFIX_LEN], v[TB_COMMUNITY_REC_MAX];
	tb_log_prefix(k, lognum);
	tb_txn_put(t, TB_T_COMMUNITY, k, sizeof k, v, tb_community_pack(v, c));
}

size_t tb_member_pack(uint8_t *out, const struct tb_member *m)
{
	memcpy(out, m->key, TB_KEY_LEN);
	tb_be64_put(out + 32, (uint64_t)m->floor);
	tb_be64_put(out + 40, m->ceiling);
	tb_be64_put(out + 48, (uint64_t)m->balance);
	tb_be64_put(out + 56, m->joined_seq);
	tb_be64_put(out + 64, (uint64_t)m->held);
	out[72] = m->active ? 1 : 0;
	return 73 + put_name(out + 73, m->name);
}

int tb_member_unpack(struct tb_member *m, uint32_t no, struct tb_view v)
{
	size_t o;
	if (v.len < 74 || v.p[72] > 1 || get_name(m->name, v.p + 73, v.len - 73, &o) ||
	    v.len != 73 + o)
		return TB_ECORRUPT;
	m->no = no;
	memcpy(m->key, v.p, TB_KEY_LEN);
	m->floor = (int64_t)tb_be64_get(v.p + 32);
	m->ceiling = tb_be64_get(v.p + 40);
	m->balance = (int64_t)tb_be64_get(v.p + 48);
	m->joined_seq = tb_be64_get(v.p + 56);
	m->held = (int64_t)tb_be64_get(v.p + 64);
	m->active = v.p[72];
	return 0;
}

int tb_member_get(struct tb_txn *t, uint32_t lognum, uint32_t no, struct tb_member *m)
{
	uint8_t k[TB_MEMBER_KEY_LEN];
	tb_member_key(k, lognum, no);
	struct tb_view v;
	int err = tb_txn_get(t, TB_T_MEMBERS, k, sizeof k, &v);
	if (err)
		return err;
	return tb_member_unpack(m, no, v);
}

void tb_member_put(struct tb_txn *t, uint32_t lognum, const struct tb_member *m)
{
	uint8_t k[TB_MEMBER_KEY_LEN], v[TB_MEMBER_REC_MAX];
	tb_member_key(k, lognum, m->no);
	tb_txn_put(t, TB_T_MEMBERS, k, sizeof k, v, tb_member_pack(v, m));
}

size_t tb_txid_pack(uint8_t v[TB_TXID_VAL_MAX], uint64_t seq, uint64_t reversed_by)
{
	tb_be64_put(v, seq);
	if (!reversed_by)
		return 8;
	tb_be64_put(v + 8, reversed_by);
	return 16;
}

int tb_txid_unpack(struct tb_view v, uint64_t *seq, uint64_t *reversed_by)
{
	/* Layout 2 wrote 16 bytes with a zero reversal: read alike. */
	if (v.len != 8 && v.len != 16)
		return TB_ECORRUPT;
	*seq = tb_be64_get(v.p);
	*reversed_by = v.len == 16 ? tb_be64_get(v.p + 8) : 0;
	return 0;
}

void tb_fmt_hours(char *out, size_t cap, int64_t minutes)
{
	uint64_t a = minutes < 0 ? (uint64_t)0 - (uint64_t)minutes : (uint64_t)minutes;
	snprintf(out, cap, "%s%llu:%02llu",
		 minutes < 0   ? "-"
		 : minutes > 0 ? "+"
			       : "",
		 (unsigned long long)(a / 60), (unsigned long long)(a % 60));
}

int tb_reject_set(struct tb_reject *rej, int err, const uint8_t *log_id, uint64_t seq,
		  const char *fmt, ...)
{
	if (!rej)
		return err;
	rej->err = err;
	if (log_id)
		memcpy(rej->log_id, log_id, TB_KEY_LEN);
	rej->seq = seq;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rej->msg, sizeof rej->msg, fmt, ap);
	va_end(ap);
	return err;
}

/* A subtree's hash from its records: each record's entry hash is its leaf. */
static int merkle_from_records(struct tb_merkle_src *src, unsigned level, uint64_t index,
			       uint8_t out[TB_MERKLE_HASH_LEN])
{
	if (level == 0) {
		uint8_t k[TB_ENTRY_KEY_LEN];
		struct tb_view v;
		tb_entry_key(k, src->lognum, index + 1);
		int err = tb_txn_get(src->t, TB_T_ENTRIES, k, sizeof k, &v);
		if (err)
			return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
		tb_entry_hash(out, v.p, v.len);
		return 0;
	}
	uint8_t left[TB_MERKLE_HASH_LEN], right[TB_MERKLE_HASH_LEN];
	int err = tb_merkle_get_db(src, level - 1, 2 * index, left);
	if (!err)
		err = tb_merkle_get_db(src, level - 1, 2 * index + 1, right);
	if (!err)
		tb_node_hash(out, left, right);
	return err;
}

int tb_merkle_get_db(void *ctx, unsigned level, uint64_t index, uint8_t out[TB_MERKLE_HASH_LEN])
{
	struct tb_merkle_src *src = ctx;
	if (level < TB_MERKLE_KEEP || tb_txn_absent(src->t, TB_T_MERKLE))
		return merkle_from_records(src, level, index, out);
	uint8_t k[TB_MERKLE_KEY_LEN];
	tb_merkle_key(k, src->lognum, level, index);
	struct tb_view v;
	int err = tb_txn_get(src->t, TB_T_MERKLE, k, sizeof k, &v);
	if (err)
		return err == TB_ENOTFOUND ? TB_ECORRUPT : err;
	if (v.len != TB_MERKLE_HASH_LEN)
		return TB_ECORRUPT;
	memcpy(out, v.p, TB_MERKLE_HASH_LEN);
	return 0;
}

void tb_merkle_store_leaf(struct tb_txn *t, uint32_t lognum, uint64_t index)
{
	const uint64_t block = UINT64_C(1) << TB_MERKLE_KEEP;
	if ((index + 1) % block || t->ret)
		return; /* no kept subtree closes before the block's last leaf */
	struct tb_merkle_src src = {t, lognum};
	uint8_t h[TB_MERKLE_HASH_LEN], left[TB_MERKLE_HASH_LEN];
	unsigned level = TB_MERKLE_KEEP;
	uint64_t i = index >> TB_MERKLE_KEEP;
	int err = merkle_from_records(&src, level, i, h);
	for (;;) {
		if (err) {
			if (!t->ret)
				t->ret = err;
			return;
		}
		uint8_t k[TB_MERKLE_KEY_LEN];
		tb_merkle_key(k, lognum, level, i);
		tb_txn_put(t, TB_T_MERKLE, k, sizeof k, h, sizeof h);
		/* An odd index closes its parent with the left sibling. */
		if (!(i & 1) || level == 63)
			return;
		err = tb_merkle_get_db(&src, level, i - 1, left);
		if (!err)
			tb_node_hash(h, left, h);
		i >>= 1;
		level++;
	}
}

static int next_lognum(struct tb_txn *t, uint32_t *out)
{
	struct tb_view v;
	uint32_t n = 1;
	int err = tb_txn_get(t, TB_T_META, "next_lognum", 11, &v);
	if (err == 0 && v.len == 4)
		n = tb_be32_get(v.p);
	else if (err != TB_ENOTFOUND)
		return err ? err : TB_ECORRUPT;
	uint8_t nb[4];
	tb_be32_put(nb, n + 1);
	tb_txn_put(t, TB_T_META, "next_lognum", 11, nb, 4);
	*out = n;
	return t->ret;
}

/* Registers a log the store has not held: a number, no entries yet. */
int tb_log_create(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], struct tb_logstate *l)
{
	memset(l, 0, sizeof *l);
	int err = next_lognum(t, &l->lognum);
	if (err)
		return err;
	uint8_t nk[TB_LOG_PREFIX_LEN];
	tb_log_prefix(nk, l->lognum); /* LOGNUM: lognum -> log id */
	tb_txn_insert(t, TB_T_LOGNUM, nk, sizeof nk, log_id, TB_KEY_LEN);
	return t->ret;
}
