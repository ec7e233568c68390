/*
 * listings.c: the community's second, prunable record (FORMAT.md 16): the
 * newest version of each listing object a node holds, deleted at its expiry,
 * and this node's own hide list. Keys of the LISTINGS table:
 *   'L' log_id id          -> stamp || the listing object's bytes
 *   'M' log_id member id   -> empty (counts a member's listings)
 *   'H' log_id id          -> empty (hidden here; never gossiped)
 *   'S' stamp              -> log_id id (the order listings changed in)
 *   'G'                    -> the last stamp given
 *   'N'                    -> how many 'L' rows there are (u64)
 * with member as u32 and stamp as u64, both big-endian. A stamp is given
 * to each version stored, so tallyd finds what to gossip since it last
 * looked without rereading every listing. Nothing here touches a log, and no
 * listing is written that did not open with its community's signature,
 * carry its member's (or the attestation) and fit the caps.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"

#define KEY_L_LEN (1 + TB_KEY_LEN + TB_LISTING_ID_LEN)
#define KEY_M_LEN (1 + TB_KEY_LEN + 4 + TB_LISTING_ID_LEN)

static void key_l(uint8_t k[KEY_L_LEN], char tag, const uint8_t *log, const uint8_t *id)
{
	k[0] = (uint8_t)tag;
	memcpy(k + 1, log, TB_KEY_LEN);
	memcpy(k + 1 + TB_KEY_LEN, id, TB_LISTING_ID_LEN);
}

static void key_m(uint8_t k[KEY_M_LEN], const uint8_t *log, uint32_t member, const uint8_t *id)
{
	k[0] = 'M';
	memcpy(k + 1, log, TB_KEY_LEN);
	tb_be32_put(k + 1 + TB_KEY_LEN, member);
	memcpy(k + 1 + TB_KEY_LEN + 4, id, TB_LISTING_ID_LEN);
}

static int say(struct tb_reject *rej, int err, const uint8_t *log, const char *what)
{
	return tb_obj_refuse(rej, err, log, "listing", what);
}

static size_t count(struct tb_txn *t, const uint8_t *prefix, size_t plen)
{
	return tb_txn_count(t, TB_T_LISTINGS, prefix, plen);
}

/* The member may post: active, and signed (or the listing is attested). */
static int check_member(struct tb_store *s, const struct tb_listing *l, struct tb_reject *rej)
{
	struct tb_member m;
	int err = tb_store_member(s, l->log_id, (uint32_t)l->member, &m);
	if (err == TB_ENOTFOUND)
		return say(rej, TB_EMEMBER, l->log_id, "no such member in its community");
	if (err)
		return say(rej, err, l->log_id, "reading its member");
	if (!m.active) {
		/* A member who left posts nothing more, and cannot sign; their
		 * community still takes down what they posted, attested
		 * (FORMAT.md 16.3). */
		if (l->state == TB_LISTING_WITHDRAWN && l->attested)
			return 0;
		return say(rej, TB_ELEFT, l->log_id,
			   "its member has left (only a withdrawal attested by the community is "
			   "taken)");
	}
	if (!l->attested && tb_listing_verify_member(l, m.key))
		return say(rej, TB_ECONSENT, l->log_id, "the member's signature does not verify");
	return 0;
}

static int check(struct tb_store *s, struct tb_listing *l, const uint8_t *obj, size_t len,
		 uint64_t now, struct tb_reject *rej)
{
	int err = tb_listing_open(l, obj, len);
	if (err == TB_EEXPIRY)
		return say(rej, err, NULL, "expiry out of range");
	if (err == TB_EBADSIG)
		return say(rej, err, NULL, "the community's signature does not verify");
	if (err == TB_EUTF8)
		return say(rej, err, NULL,
			   "text not UTF-8, or holding a control, bidirectional formatting or "
			   "line separator character");
	if (err)
		return say(rej, err, NULL, "malformed listing object");
	if (l->expires <= now)
		return say(rej, TB_EEXPIRY, l->log_id, "already expired");
	if (l->created > now + TB_LISTING_SKEW_S)
		return say(rej, TB_EEXPIRY, l->log_id, "created in the future");
	if (!tb_view_is_nfc(l->title) || !tb_view_is_nfc(l->description) ||
	    !tb_view_is_nfc(l->category))
		return say(rej, TB_ENONCANON, l->log_id, "text not in Unicode NFC");
	struct tb_logstate ls;
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	err = tb_logstate_get(&t, l->log_id, &ls);
	tb_txn_abort(&t);
	if (err == 0 && ls.seq == 0)
		err = TB_ENOTFOUND;
	if (err)
		return say(rej, err, l->log_id, "its community's log is not held here");
	return check_member(s, l, rej);
}

int tb_listing_held(struct tb_view v, struct tb_listing *l, uint64_t *stamp, struct tb_view *obj)
{
	/* A held object was checked when written: decoding it again only
	 * guards against a corrupt store. */
	if (v.len <= 8 + TB_SIGLEN || v.len > 8 + TB_LISTING_MAX ||
	    tb_msg_decode_exact(v.p + 8, v.len - 8 - TB_SIGLEN, &tb_def_listing, l))
		return TB_ECORRUPT;
	*stamp = tb_be64_get(v.p);
	*obj = (struct tb_view){v.p + 8, v.len - 8};
	return 0;
}

int tb_listing_live_txn(struct tb_txn *t, const uint8_t *log, const uint8_t *id, uint64_t now,
			uint32_t *member)
{
	uint8_t k[KEY_L_LEN];
	struct tb_view v, obj;
	struct tb_listing l;
	uint64_t stamp;
	*member = 0;
	key_l(k, 'L', log, id);
	int err = tb_txn_get(t, TB_T_LISTINGS, k, sizeof k, &v);
	if (err || (err = tb_listing_held(v, &l, &stamp, &obj)))
		return err;
	*member = (uint32_t)l.member;
	return l.state == TB_LISTING_LIVE && l.expires > now ? 0 : TB_ENOTFOUND;
}

/* The held version of key into *old (*had false when none). */
static int held_version(struct tb_txn *t, const uint8_t *key, bool *had, struct tb_listing *old,
			uint64_t *stamp)
{
	struct tb_view v, obj;
	*had = false;
	int err = tb_txn_get(t, TB_T_LISTINGS, key, KEY_L_LEN, &v);
	if (err == TB_ENOTFOUND)
		return 0;
	if (err || (err = tb_listing_held(v, old, stamp, &obj)))
		return err;
	*had = true;
	return 0;
}

/* Writes obj under key k with the next stamp, dropping the old stamp. */
static void write_stamped(struct tb_txn *t, const uint8_t *k, bool had, uint64_t old,
			  const uint8_t *obj, size_t len)
{
	uint8_t g = 'G', sk[9] = {'S'}, val[8 + TB_LISTING_MAX];
	struct tb_view v;
	uint64_t stamp = 1;
	if (tb_txn_get(t, TB_T_LISTINGS, &g, 1, &v) == 0 && v.len == 8)
		stamp = tb_be64_get(v.p) + 1;
	if (had) {
		tb_be64_put(sk + 1, old);
		tb_txn_del(t, TB_T_LISTINGS, sk, sizeof sk);
	}
	tb_be64_put(sk + 1, stamp);
	tb_be64_put(val, stamp);
	tb_txn_put(t, TB_T_LISTINGS, &g, 1, val, 8);
	tb_txn_put(t, TB_T_LISTINGS, sk, sizeof sk, k + 1, KEY_L_LEN - 1);
	memcpy(val + 8, obj, len);
	tb_txn_put(t, TB_T_LISTINGS, k, KEY_L_LEN, val, 8 + len);
}

static void put_one_refused(void *ctx, size_t i, const struct tb_reject *rej)
{
	(void)i;
	*(struct tb_reject *)ctx = *rej;
}

/* Whether a version of obj's (log_id, id) at least as new as the one obj
 * claims is held: then nothing can change whatever the rest of obj says,
 * so a replay is answered from one read, before any signature, text check
 * or write transaction. */
static bool held_already(struct tb_store *s, const uint8_t *obj, size_t len)
{
	struct tb_listing l, old;
	struct tb_reader r;
	struct tb_txn t;
	uint8_t k[KEY_L_LEN];
	uint64_t stamp;
	bool had = false;
	if (len <= TB_SIGLEN || len > TB_LISTING_MAX)
		return false;
	tb_reader_init(&r, obj, len - TB_SIGLEN);
	if (tb_msg_decode(&r, &tb_def_listing, &l))
		return false;
	key_l(k, 'L', l.log_id, l.id);
	tb_txn_begin(&t, s->db, false);
	int err = held_version(&t, k, &had, &old, &stamp);
	tb_txn_abort(&t);
	return !err && had && old.version >= l.version;
}

/* How many listings the node holds ('N'); a store written before the
 * count was kept has none, and is counted once. */
static uint64_t held_count(struct tb_txn *t)
{
	uint8_t nk = 'N';
	struct tb_view v;
	if (tb_txn_get(t, TB_T_LISTINGS, &nk, 1, &v) == 0 && v.len == 8)
		return tb_be64_get(v.p);
	return count(t, (const uint8_t *)"L", 1);
}

static void held_count_put(struct tb_txn *t, uint64_t n)
{
	uint8_t nk = 'N', v[8];
	tb_be64_put(v, n);
	tb_txn_put(t, TB_T_LISTINGS, &nk, 1, v, sizeof v);
}

/* Stores the checked listing l (bytes obj) in write transaction t, counting
 * the caps inside t, so listings stored earlier in t count too: 0 stored,
 * 1 held already, or a refusal. */
static int put_txn(struct tb_txn *t, const struct tb_listing *l, struct tb_view obj,
		   struct tb_reject *rej)
{
	struct tb_listing old;
	uint8_t k[KEY_L_LEN], km[KEY_M_LEN];
	bool had;
	uint64_t stamp = 0;
	int err;
	key_l(k, 'L', l->log_id, l->id);
	if ((err = held_version(t, k, &had, &old, &stamp)))
		return say(rej, err, l->log_id, "reading the held version");
	if (had && (old.version >= l->version || old.member != l->member)) {
		if (old.version >= l->version)
			return 1;
		return say(rej, TB_ECONFLICT, l->log_id, "another member's listing id");
	}
	if (!had) {
		uint8_t pm[1 + TB_KEY_LEN + 4];
		uint64_t all = held_count(t);
		key_m(km, l->log_id, (uint32_t)l->member, l->id);
		memcpy(pm, km, sizeof pm);
		if (all >= TB_LISTINGS_MAX)
			return say(rej, TB_EFULL, l->log_id,
				   "this node holds as many listings as it keeps");
		if (count(t, k, 1 + TB_KEY_LEN) >= TB_LISTINGS_PER_COMMUNITY ||
		    count(t, pm, sizeof pm) >= TB_LISTINGS_PER_MEMBER)
			return say(rej, TB_EFULL, l->log_id,
				   "too many listings of its community or member");
		tb_txn_put(t, TB_T_LISTINGS, km, sizeof km, "", 0);
		held_count_put(t, all + 1);
	}
	write_stamped(t, k, had, stamp, obj.p, obj.len);
	return 0;
}

int tb_store_listings_put_many(struct tb_store *s, const struct tb_view *objs, size_t n,
			       uint64_t now, int *res, tb_listing_refused_fn refused, void *ctx)
{
	struct tb_listing *ls = calloc(n ? n : 1, sizeof *ls);
	struct tb_reject rej;
	struct tb_txn t;
	size_t todo = 0;
	if (!ls)
		return TB_ENOMEM;
	/* Every check that reads or verifies, before the one write txn. */
	for (size_t i = 0; i < n; i++) {
		res[i] = held_already(s, objs[i].p, objs[i].len)
				 ? 1
				 : check(s, &ls[i], objs[i].p, objs[i].len, now, &rej);
		if (res[i] < 0 && refused)
			refused(ctx, i, &rej);
		todo += res[i] == 0;
	}
	int err = 0;
	if (todo) {
		tb_txn_begin(&t, s->db, true);
		for (size_t i = 0; i < n; i++) {
			if (res[i] || (res[i] = put_txn(&t, &ls[i], objs[i], &rej)) >= 0)
				continue;
			if (refused)
				refused(ctx, i, &rej);
		}
		err = tb_txn_commit(&t);
		for (size_t i = 0; err && i < n; i++)
			if (res[i] == 0)
				res[i] = err;
	}
	free(ls);
	return err;
}

int tb_store_listing_put(struct tb_store *s, const uint8_t *obj, size_t len, uint64_t now,
			 struct tb_reject *rej)
{
	struct tb_view v = {obj, len};
	struct tb_reject one;
	int res = 0;
	memset(&one, 0, sizeof one);
	int err = tb_store_listings_put_many(s, &v, 1, now, &res, put_one_refused, &one);
	if (rej)
		*rej = one;
	if (err)
		return say(rej, err, NULL, "storing it");
	return res;
}

int tb_store_listing_get(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
			 const uint8_t id[TB_LISTING_ID_LEN], uint8_t *out, size_t *len)
{
	uint8_t k[KEY_L_LEN];
	struct tb_view v;
	struct tb_txn t;
	*len = 0;
	key_l(k, 'L', log_id, id);
	tb_txn_begin(&t, s->db, false);
	struct tb_listing l;
	struct tb_view obj;
	uint64_t stamp;
	int err = tb_txn_get(&t, TB_T_LISTINGS, k, sizeof k, &v);
	if (!err)
		err = tb_listing_held(v, &l, &stamp, &obj);
	if (!err) {
		memcpy(out, obj.p, obj.len);
		*len = obj.len;
	}
	tb_txn_abort(&t);
	return err;
}

int tb_store_listing_hide(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN],
			  const uint8_t id[TB_LISTING_ID_LEN], bool hide)
{
	uint8_t k[KEY_L_LEN], h[KEY_L_LEN];
	struct tb_view v;
	struct tb_txn t;
	key_l(k, 'L', log_id, id);
	key_l(h, 'H', log_id, id);
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_get(&t, TB_T_LISTINGS, k, sizeof k, &v);
	if (err) {
		tb_txn_abort(&t);
		return err;
	}
	if (hide)
		tb_txn_put(&t, TB_T_LISTINGS, h, sizeof h, "", 0);
	else
		tb_txn_del(&t, TB_T_LISTINGS, h, sizeof h);
	return tb_txn_commit(&t);
}

/* ---- pruning ---- */

#define PRUNE_BATCH 256

struct prune {
	uint64_t now;
	uint8_t keys[PRUNE_BATCH][KEY_L_LEN];
	uint32_t members[PRUNE_BATCH];
	uint64_t stamps[PRUNE_BATCH];
	size_t n;
	bool more;
};

static int prune_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct prune *p = ctx;
	struct tb_listing l;
	struct tb_view obj;
	uint64_t stamp;
	if (k.len != KEY_L_LEN || tb_listing_held(v, &l, &stamp, &obj))
		return TB_ECORRUPT;
	if (l.expires > p->now)
		return 0;
	if (p->n == PRUNE_BATCH) {
		p->more = true;
		return 1;
	}
	memcpy(p->keys[p->n], k.p, KEY_L_LEN);
	p->stamps[p->n] = stamp;
	p->members[p->n++] = (uint32_t)l.member;
	return 0;
}

static int prune_some(struct tb_store *s, struct prune *p)
{
	struct tb_txn t;
	p->n = 0;
	p->more = false;
	tb_txn_begin(&t, s->db, true);
	int err = tb_txn_foreach(&t, TB_T_LISTINGS, "L", 1, NULL, 0, prune_cb, p);
	if (err < 0) {
		tb_txn_abort(&t);
		return err;
	}
	uint64_t all = p->n ? held_count(&t) : 0;
	for (size_t i = 0; i < p->n; i++) {
		const uint8_t *log = p->keys[i] + 1, *id = p->keys[i] + 1 + TB_KEY_LEN;
		uint8_t km[KEY_M_LEN], h[KEY_L_LEN], sk[9] = {'S'};
		key_m(km, log, p->members[i], id);
		tb_be64_put(sk + 1, p->stamps[i]);
		tb_txn_del(&t, TB_T_LISTINGS, sk, sizeof sk);
		key_l(h, 'H', log, id);
		tb_txn_del(&t, TB_T_LISTINGS, p->keys[i], KEY_L_LEN);
		tb_txn_del(&t, TB_T_LISTINGS, km, sizeof km);
		tb_txn_del(&t, TB_T_LISTINGS, h, sizeof h);
	}
	if (!p->n) {
		tb_txn_abort(&t);
		return 0;
	}
	held_count_put(&t, all >= p->n ? all - p->n : 0);
	return tb_txn_commit(&t);
}

int tb_store_listings_prune(struct tb_store *s, uint64_t now, size_t *removed)
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

/* ---- what changed ---- */

struct since {
	struct tb_txn *t;
	tb_listing_fn cb;
	void *ctx;
	int err;
};

static int since_cb(void *ctx, struct tb_view k, struct tb_view v)
{
	struct since *si = ctx;
	uint8_t lk[KEY_L_LEN] = {'L'};
	struct tb_view held, obj;
	struct tb_listing l;
	uint64_t stamp;
	if (k.len != 9 || v.len != KEY_L_LEN - 1)
		return si->err = TB_ECORRUPT;
	memcpy(lk + 1, v.p, v.len);
	if (tb_txn_get(si->t, TB_T_LISTINGS, lk, sizeof lk, &held) ||
	    tb_listing_held(held, &l, &stamp, &obj))
		return si->err = TB_ECORRUPT;
	return si->cb(si->ctx, &l, obj.p, obj.len, stamp);
}

int tb_store_listings_since(struct tb_store *s, uint64_t after, tb_listing_fn cb, void *ctx)
{
	struct tb_txn t;
	uint8_t from[9] = {'S'};
	struct since si = {&t, cb, ctx, 0};
	tb_be64_put(from + 1, after + 1);
	tb_txn_begin(&t, s->db, false);
	int err = tb_txn_foreach(&t, TB_T_LISTINGS, "S", 1, from, sizeof from, since_cb, &si);
	tb_txn_abort(&t);
	return si.err ? si.err : err;
}
