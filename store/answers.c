/*
 * answers.c: answers to listings (FORMAT.md 17.3), kept by the node of the
 * listing's community (the poster reads them) and by the responder's node
 * until delivered and while the listing lives. Keys of the ANSWERS table:
 *   'A' listing_log listing_id from_log member -> stamp || the answer object
 *   'R' from_log member listing_log listing_id -> empty (per responder)
 *   'S' stamp                                  -> the 'A' key without 'A'
 *   'G'                                        -> the last stamp given
 *   'N'                                        -> how many 'A' rows (u64)
 * member u32 and stamp u64, big-endian. One answer per responder and
 * listing: a newer one replaces it. No answer is written whose listing is
 * not live here, whose member is not who it says with that key (or
 * attested), or that goes over a cap; all go with their listing.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"

#define LK (TB_KEY_LEN + TB_LISTING_ID_LEN)
#define KEY_A_LEN (1 + LK + TB_KEY_LEN + 4)
#define KEY_R_LEN KEY_A_LEN

static void key_a(uint8_t k[KEY_A_LEN], const struct tb_answer *a)
{
	k[0] = 'A';
	memcpy(k + 1, a->listing_log, TB_KEY_LEN);
	memcpy(k + 1 + TB_KEY_LEN, a->listing_id, TB_LISTING_ID_LEN);
	memcpy(k + 1 + LK, a->from_log, TB_KEY_LEN);
	tb_be32_put(k + 1 + LK + TB_KEY_LEN, (uint32_t)a->member);
}

/* 'R' from the 'A' key's tail (without its tag). */
static void key_r(uint8_t k[KEY_R_LEN], const uint8_t *tail)
{
	k[0] = 'R';
	memcpy(k + 1, tail + LK, TB_KEY_LEN + 4);
	memcpy(k + 1 + TB_KEY_LEN + 4, tail, LK);
}

static int say(struct tb_reject *rej, int err, const uint8_t *log, const char *what)
{
	return tb_obj_refuse(rej, err, log, "answer", what);
}

static size_t count(struct tb_txn *t, const uint8_t *prefix, size_t plen)
{
	return tb_txn_count(t, TB_T_ANSWERS, prefix, plen);
}

static int check(struct tb_store *s, struct tb_answer *a, const uint8_t *obj, size_t len,
		 uint64_t now, struct tb_reject *rej)
{
	int err = tb_answer_open(a, obj, len);
	if (err == TB_ETOOBIG)
		return say(rej, err, NULL, "over 700 bytes");
	if (err == TB_EUTF8)
		return say(rej, err, NULL,
			   "text not UTF-8, or holding a control, bidirectional formatting or "
			   "line separator character");
	if (err == TB_ECONSENT)
		return say(rej, err, NULL, "a signature of 64 bytes, or attested and none");
	if (err)
		return say(rej, err, NULL, "malformed answer object");
	if (a->created > now + TB_LISTING_SKEW_S)
		return say(rej, TB_EEXPIRY, a->from_log, "created in the future");
	if (!tb_view_is_nfc(a->name) || !tb_view_is_nfc(a->message))
		return say(rej, TB_ENONCANON, a->from_log, "text not in Unicode NFC");
	uint32_t poster = 0;
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	err = tb_listing_live_txn(&t, a->listing_log, a->listing_id, now, &poster);
	tb_txn_abort(&t);
	if (err == TB_ENOTFOUND)
		return say(rej, err, a->from_log, "no live listing with that id is held here");
	if (err)
		return say(rej, err, a->from_log, "reading its listing");
	if (!memcmp(a->from_log, a->listing_log, TB_KEY_LEN) && a->member == poster)
		return say(rej, TB_EINVAL, a->from_log, "a member cannot answer their own listing");
	struct tb_member m;
	err = tb_store_member(s, a->from_log, (uint32_t)a->member, &m);
	if (err == TB_ENOTFOUND)
		return say(rej, TB_EMEMBER, a->from_log, "no such member in its community");
	if (err)
		return say(rej, err, a->from_log, "reading its member");
	if (!m.active)
		return say(rej, TB_ELEFT, a->from_log, "its member has left");
	if (a->name.len != strlen(m.name) || memcmp(a->name.p, m.name, a->name.len))
		return say(rej, TB_EMEMBER, a->from_log, "the name is not that member's");
	if (!a->attested && tb_answer_verify_member(a, m.key))
		return say(rej, TB_ECONSENT, a->from_log, "the member's signature does not verify");
	return 0;
}

static int held_decode(struct tb_view v, struct tb_answer *a, uint64_t *stamp, struct tb_view *obj)
{
	if (v.len <= 8 || v.len > 8 + TB_ANSWER_MAX ||
	    tb_msg_decode_exact(v.p + 8, v.len - 8, &tb_def_answer, a))
		return TB_ECORRUPT;
	*stamp = tb_be64_get(v.p);
	*obj = (struct tb_view){v.p + 8, v.len - 8};
	return 0;
}

static uint64_t held_count(struct tb_txn *t)
{
	uint8_t nk = 'N';
	struct tb_view v;
	if (tb_txn_get(t, TB_T_ANSWERS, &nk, 1, &v) == 0 && v.len == 8)
		return tb_be64_get(v.p);
	return count(t, (const uint8_t *)"A", 1);
}

static void held_count_put(struct tb_txn *t, uint64_t n)
{
	uint8_t nk = 'N', v[8];
	tb_be64_put(v, n);
	tb_txn_put(t, TB_T_ANSWERS, &nk, 1, v, sizeof v);
}

/* The caps for a new answer with key k (FORMAT.md 17.3). */
static int caps(struct tb_txn *t, const uint8_t *k, struct tb_reject *rej)
{
	uint8_t r[KEY_R_LEN];
	key_r(r, k + 1);
	if (held_count(t) >= TB_ANSWERS_MAX)
		return say(rej, TB_EFULL, k + 1 + LK,
			   "this node holds as many answers as it keeps");
	if (count(t, k, 1 + LK) >= TB_ANSWERS_PER_LISTING)
		return say(rej, TB_EFULL, k + 1 + LK,
			   "this listing has as many answers as it takes");
	if (count(t, r, 1 + TB_KEY_LEN + 4) >= TB_ANSWERS_PER_MEMBER)
		return say(rej, TB_EFULL, k + 1 + LK,
			   "this member has as many answers held here as a member may");
	if (count(t, r, 1 + TB_KEY_LEN) >= TB_ANSWERS_PER_COMMUNITY)
		return say(rej, TB_EFULL, k + 1 + LK,
			   "its community has as many answers held here as one may");
	return 0;
}

static int put_txn(struct tb_txn *t, const struct tb_answer *a, const uint8_t *obj, size_t len,
		   struct tb_reject *rej)
{
	uint8_t k[KEY_A_LEN], g = 'G', sk[9] = {'S'}, val[8 + TB_ANSWER_MAX];
	struct tb_view v, old_obj;
	struct tb_answer old;
	uint64_t old_stamp = 0, stamp = 1;
	key_a(k, a);
	int err = tb_txn_get(t, TB_T_ANSWERS, k, sizeof k, &v);
	bool had = err == 0;
	if (err && err != TB_ENOTFOUND)
		return say(rej, err, a->from_log, "reading the held answer");
	if (had && held_decode(v, &old, &old_stamp, &old_obj))
		return say(rej, TB_ECORRUPT, a->from_log, "reading the held answer");
	if (had && old.created >= a->created)
		return 1;
	if (!had) {
		if ((err = caps(t, k, rej)))
			return err;
		uint8_t r[KEY_R_LEN];
		key_r(r, k + 1);
		tb_txn_put(t, TB_T_ANSWERS, r, sizeof r, "", 0);
		held_count_put(t, held_count(t) + 1);
	} else {
		tb_be64_put(sk + 1, old_stamp);
		tb_txn_del(t, TB_T_ANSWERS, sk, sizeof sk);
	}
	if (tb_txn_get(t, TB_T_ANSWERS, &g, 1, &v) == 0 && v.len == 8)
		stamp = tb_be64_get(v.p) + 1;
	tb_be64_put(sk + 1, stamp);
	tb_be64_put(val, stamp);
	tb_txn_put(t, TB_T_ANSWERS, &g, 1, val, 8);
	tb_txn_put(t, TB_T_ANSWERS, sk, sizeof sk, k + 1, sizeof k - 1);
	memcpy(val + 8, obj, len);
	tb_txn_put(t, TB_T_ANSWERS, k, sizeof k, val, 8 + len);
	return 0;
}

int tb_store_answer_put(struct tb_store *s, const uint8_t *obj, size_t len, uint64_t now,
			struct tb_reject *rej)
{
	struct tb_answer a;
	struct tb_txn t;
	int err = check(s, &a, obj, len, now, rej);
	if (err)
		return err;
	tb_txn_begin(&t, s->db, true);
	int res = put_txn(&t, &a, obj, len, rej);
	if (res) {
		tb_txn_abort(&t);
		return res;
	}
	if ((err = tb_txn_commit(&t)))
		return say(rej, err, a.from_log, "storing it");
	return 0;
}

/* ---- reading ---- */

struct each {
	struct tb_txn *t;
	tb_answer_fn cb;
	void *ctx;
	int err;
};

static int of_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct each *e = ctx;
	struct tb_answer a;
	struct tb_view obj;
	uint64_t stamp;
	if (k.len != KEY_A_LEN || held_decode(v, &a, &stamp, &obj))
		return e->err = TB_ECORRUPT;
	return e->cb(e->ctx, &a, obj.p, obj.len, stamp);
}

int tb_store_answers_of(struct tb_store *s, const uint8_t listing_log[TB_KEY_LEN],
			const uint8_t *id, tb_answer_fn cb, void *ctx)
{
	uint8_t p[1 + LK] = {'A'};
	struct tb_txn t;
	struct each e = {&t, cb, ctx, 0};
	memcpy(p + 1, listing_log, TB_KEY_LEN);
	if (id)
		memcpy(p + 1 + TB_KEY_LEN, id, TB_LISTING_ID_LEN);
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_ANSWERS, p, id ? sizeof p : 1 + TB_KEY_LEN, NULL, 0,
				 of_cb, &e);
	tb_txn_abort(&t);
	return e.err ? e.err : err;
}

static int since_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct each *e = ctx;
	uint8_t ak[KEY_A_LEN] = {'A'};
	struct tb_view held;
	if (k.len != 9 || v.len != KEY_A_LEN - 1)
		return e->err = TB_ECORRUPT;
	memcpy(ak + 1, v.p, v.len);
	if (tb_txn_get(e->t, TB_T_ANSWERS, ak, sizeof ak, &held))
		return e->err = TB_ECORRUPT;
	return of_cb(e, (struct tb_view){ak, sizeof ak}, held);
}

int tb_store_answers_since(struct tb_store *s, uint64_t after, tb_answer_fn cb, void *ctx)
{
	struct tb_txn t;
	uint8_t from[9] = {'S'};
	struct each e = {&t, cb, ctx, 0};
	tb_be64_put(from + 1, after + 1);
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_ANSWERS, "S", 1, from, sizeof from, since_cb, &e);
	tb_txn_abort(&t);
	return e.err ? e.err : err;
}

int tb_store_answers_stamp(struct tb_store *s, uint64_t *stamp)
{
	uint8_t g = 'G';
	struct tb_view v;
	struct tb_txn t;
	*stamp = 0;
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_get(&t, TB_T_ANSWERS, &g, 1, &v);
	if (!err && v.len == 8)
		*stamp = tb_be64_get(v.p);
	tb_txn_abort(&t);
	return err == TB_ENOTFOUND ? 0 : err;
}

/* ---- pruning ---- */

#define PRUNE_BATCH 256

struct prune {
	struct tb_txn *t;
	uint64_t now;
	uint8_t keys[PRUNE_BATCH][KEY_A_LEN];
	uint64_t stamps[PRUNE_BATCH];
	size_t n;
	bool more;
	uint8_t last[LK]; /* the listing looked up last, and whether live */
	bool last_set, last_live;
};

static int prune_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct prune *p = ctx;
	uint32_t poster;
	if (k.len != KEY_A_LEN || v.len < 8)
		return TB_ECORRUPT;
	if (!p->last_set || memcmp(p->last, k.p + 1, LK)) {
		memcpy(p->last, k.p + 1, LK);
		p->last_set = true;
		p->last_live =
			!tb_listing_live_txn(p->t, k.p + 1, k.p + 1 + TB_KEY_LEN, p->now, &poster);
	}
	if (p->last_live)
		return 0;
	if (p->n == PRUNE_BATCH) {
		p->more = true;
		return 1;
	}
	memcpy(p->keys[p->n], k.p, KEY_A_LEN);
	p->stamps[p->n++] = tb_be64_get(v.p);
	return 0;
}

static int prune_some(struct tb_store *s, struct prune *p)
{
	struct tb_txn t;
	p->n = 0;
	p->more = false;
	p->last_set = false;
	p->t = &t;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_foreach(&t, TB_T_ANSWERS, "A", 1, NULL, 0, prune_cb, p);
	if (err < 0 || !p->n) {
		tb_txn_abort(&t);
		return err < 0 ? err : 0;
	}
	uint64_t all = held_count(&t);
	for (size_t i = 0; i < p->n; i++) {
		uint8_t r[KEY_R_LEN], sk[9] = {'S'};
		key_r(r, p->keys[i] + 1);
		tb_be64_put(sk + 1, p->stamps[i]);
		tb_txn_del(&t, TB_T_ANSWERS, p->keys[i], KEY_A_LEN);
		tb_txn_del(&t, TB_T_ANSWERS, r, sizeof r);
		tb_txn_del(&t, TB_T_ANSWERS, sk, sizeof sk);
	}
	held_count_put(&t, all >= p->n ? all - p->n : 0);
	return tb_txn_commit(&t);
}

int tb_store_answers_prune(struct tb_store *s, uint64_t now, size_t *removed)
{
	struct prune *p = malloc(sizeof *p);
	size_t total = 0;
	int err;
	if (!p)
		return TB_ENOMEM;
	p->now = now;
	do {
		if ((err = prune_some(s, p)))
			break;
		total += p->n;
	} while (p->more);
	free(p);
	if (removed)
		*removed = total;
	return err;
}
