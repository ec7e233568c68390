/*
 * admit.c: which communities a log admits (ADMIT entries, kind 11), and
 * from that which logs a node holds and relays.
 *
 * The rule keeps, per (log, community), the latest ADMIT's status and name
 * in the derived ADMITS table. The admitted set of a node (FORMAT.md 7.12,
 * PROTOCOL.md "Admission") is its own log, the communities its own log
 * admits, and, for each community its own log marks as vouching, the
 * communities that community's log admits: one level deep, never further,
 * at most TB_ADMIT_PER_VOUCHER per voucher and TB_ADMITTED_MAX in all; a
 * removal in the own log wins over any voucher, and a vouched name that is
 * the same name (NFC, case, confusables) as one already admitted is left
 * out; and the successor of an admitted log (a held log whose entry 2 is a
 * succession naming it, FORMAT.md 7.11), under the name admitted. Everything
 * here is bounded by what the own log's owner chose.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store_int.h"
#include "tb_text.h"

#define ADMIT_KEY_LEN (4 + TB_KEY_LEN)

#define REJ(err, ...) tb_reject_set(rej, (err), e->log_id, e->seq, __VA_ARGS__)

static void admit_key(uint8_t k[ADMIT_KEY_LEN], uint32_t lognum, const uint8_t *id)
{
	tb_be32_put(k, lognum);
	memcpy(k + 4, id, TB_KEY_LEN);
}

static int admit_unpack(struct tb_admit_rec *a, struct tb_view k, struct tb_view v)
{
	if (k.len != ADMIT_KEY_LEN || v.len < 9 || v.len > 9 + TB_NAME_MAX ||
	    v.p[0] > TB_ADMIT_VOUCHING)
		return TB_ECORRUPT;
	memset(a, 0, sizeof *a);
	memcpy(a->id, k.p + 4, TB_KEY_LEN);
	a->status = v.p[0];
	a->seq = tb_be64_get(v.p + 1);
	memcpy(a->name, v.p + 9, v.len - 9);
	return 0;
}

void tb_admit_name_key(char out[TB_ADMIT_KEY_MAX], const char *name)
{
	if (tb_text_key(out, TB_ADMIT_KEY_MAX, NULL, TB_TEXT_KEY_FOLDED, name, strlen(name)))
		snprintf(out, TB_ADMIT_KEY_MAX, "%s", name);
}

static int admit_get(struct tb_txn *t, uint32_t lognum, const uint8_t *id, struct tb_admit_rec *a)
{
	uint8_t k[ADMIT_KEY_LEN];
	struct tb_view v;
	admit_key(k, lognum, id);
	int err = tb_txn_get(t, TB_T_ADMITS, k, sizeof k, &v);
	return err ? err : admit_unpack(a, (struct tb_view){k, sizeof k}, v);
}

int tb_rule_admit(struct tb_txn *t, uint32_t lognum, const struct tb_entry *e,
		  struct tb_reject *rej)
{
	const struct tb_admit *a = &e->body.admit;
	if (!memcmp(a->community, e->log_id, TB_KEY_LEN))
		return REJ(TB_EADMIT, "a community cannot admit or remove itself");
	struct tb_admit_rec old;
	int err = admit_get(t, lognum, a->community, &old);
	if (err && err != TB_ENOTFOUND)
		return err;
	if (a->status == TB_ADMIT_REMOVED && !err && old.status == TB_ADMIT_REMOVED) {
		char id[17];
		tb_hex_encode(id, a->community, 8);
		return REJ(TB_EADMIT, "community %s is removed already", id);
	}
	uint8_t k[ADMIT_KEY_LEN], v[9 + TB_NAME_MAX];
	admit_key(k, lognum, a->community);
	v[0] = (uint8_t)a->status;
	tb_be64_put(v + 1, e->seq);
	memcpy(v + 9, a->name.p, a->name.len);
	tb_txn_put(t, TB_T_ADMITS, k, sizeof k, v, 9 + a->name.len);
	return t->ret;
}

struct admit_scan {
	tb_admit_fn cb;
	void *ctx;
};

static int admit_one(void *vctx, struct tb_view k, struct tb_view v)
{
	struct admit_scan *as = vctx;
	struct tb_admit_rec a;
	int err = admit_unpack(&a, k, v);
	return err ? err : as->cb(as->ctx, &a);
}

static int admit_foreach(struct tb_txn *t, const uint8_t log_id[TB_KEY_LEN], tb_admit_fn cb,
			 void *ctx)
{
	uint32_t lognum;
	int err = tb_lognum_of(t, log_id, &lognum);
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	uint8_t prefix[4];
	tb_be32_put(prefix, lognum);
	struct admit_scan as = {cb, ctx};
	return tb_txn_foreach(t, TB_T_ADMITS, prefix, 4, NULL, 0, admit_one, &as);
}

int tb_store_foreach_admit(struct tb_store *s, const uint8_t log_id[TB_KEY_LEN], tb_admit_fn cb,
			   void *ctx)
{
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	int err = admit_foreach(&t, log_id, cb, ctx);
	tb_txn_abort(&t);
	return err;
}

/* ---- the admitted set ---- */

struct build {
	struct tb_admitted *out;
	struct tb_admit_rec *removed; /* removals by the own log */
	size_t nremoved;
	struct tb_admit_rec *vouchers;
	size_t nvouchers;
	size_t from_voucher; /* taken from the current voucher */
	const uint8_t *voucher;
	int err;
};

static struct tb_admitted_one *find(const struct tb_admitted *s, const uint8_t *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (!memcmp(s->v[i].id, id, TB_KEY_LEN))
			return &s->v[i];
	return NULL;
}

static int add(struct build *b, const struct tb_admit_rec *a, const uint8_t *via)
{
	struct tb_admitted *s = b->out;
	if (s->n == TB_ADMITTED_MAX) {
		s->dropped++;
		return 0;
	}
	struct tb_admitted_one *o = &s->v[s->n];
	memset(o, 0, sizeof *o);
	memcpy(o->id, a->id, TB_KEY_LEN);
	memcpy(o->name, a->name, sizeof o->name);
	o->status = a->status;
	o->direct = via == NULL;
	if (via)
		memcpy(o->via, via, TB_KEY_LEN);
	tb_admit_name_key(o->key, a->name);
	s->n++;
	return 0;
}

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, nc * size);
	if (!q)
		return TB_ENOMEM;
	*p = q;
	*cap = nc;
	return 0;
}

struct own_scan {
	struct build *b;
	size_t capr, capv;
};

static int own_one(void *ctx, const struct tb_admit_rec *a)
{
	struct own_scan *os = ctx;
	struct build *b = os->b;
	if (a->status == TB_ADMIT_REMOVED) {
		if (grow((void **)&b->removed, &os->capr, b->nremoved, sizeof *b->removed))
			return TB_ENOMEM;
		b->removed[b->nremoved++] = *a;
		return 0;
	}
	if (a->status == TB_ADMIT_VOUCHING) {
		if (grow((void **)&b->vouchers, &os->capv, b->nvouchers, sizeof *b->vouchers))
			return TB_ENOMEM;
		b->vouchers[b->nvouchers++] = *a;
	}
	return add(b, a, NULL);
}

static bool same_name(const struct tb_admitted *s, const char *key)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->v[i].key, key))
			return true;
	return false;
}

static int vouched_one(void *ctx, const struct tb_admit_rec *a)
{
	struct build *b = ctx;
	if (a->status == TB_ADMIT_REMOVED || !memcmp(a->id, b->out->self, TB_KEY_LEN) ||
	    find(b->out, a->id))
		return 0;
	for (size_t i = 0; i < b->nremoved; i++)
		if (!memcmp(b->removed[i].id, a->id, TB_KEY_LEN))
			return 0;
	if (b->from_voucher == TB_ADMIT_PER_VOUCHER) {
		b->out->dropped++;
		return 0;
	}
	char key[TB_ADMIT_KEY_MAX];
	tb_admit_name_key(key, a->name);
	if (same_name(b->out, key)) {
		b->out->dropped++;
		return 0;
	}
	struct tb_admit_rec r = *a;
	r.status = TB_ADMIT_ADMITTED; /* vouching does not pass on */
	b->from_voucher++;
	return add(b, &r, b->voucher);
}

static int by_id(const void *a, const void *b)
{
	return memcmp(((const struct tb_admitted_one *)a)->id,
		      ((const struct tb_admitted_one *)b)->id, TB_KEY_LEN);
}

/* A held log that succeeds an admitted one is admitted with its name (the
 * store took its succession, so the old key signed it over a fork). */
struct succ_pass {
	struct tb_store *s;
	struct tb_admitted *out;
	size_t sorted; /* out->v[0..sorted) is sorted by id */
	uint8_t rec[TB_ENTRY_MAX];
};

static int successor_one(void *ctx, const struct tb_head *h)
{
	struct succ_pass *sp = ctx;
	struct tb_admitted sorted = *sp->out;
	sorted.n = sp->sorted;
	if (h->seq < 2 || tb_admitted_has(&sorted, h->log_id))
		return 0;
	size_t len;
	struct tb_entry e;
	int err = tb_store_get_entry(sp->s, h->log_id, 2, sp->rec, sizeof sp->rec, &len);
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	if (tb_entry_decode(&e, sp->rec, len) || e.kind != TB_KIND_SUCCESSION)
		return 0;
	const struct tb_admitted_one *old = tb_admitted_find(&sorted, e.body.succession.old_log);
	if (!old || sp->out->n == TB_ADMITTED_MAX) {
		sp->out->dropped += old != NULL;
		return 0;
	}
	struct tb_admitted_one *o = &sp->out->v[sp->out->n++];
	*o = *old;
	memcpy(o->id, h->log_id, TB_KEY_LEN);
	o->status = TB_ADMIT_ADMITTED;
	o->direct = false;
	memcpy(o->via, old->id, TB_KEY_LEN);
	return 0;
}

/* The log the own log succeeds stays held: it is the community's history. */
static int add_predecessor(struct succ_pass *sp)
{
	size_t len;
	struct tb_entry e;
	struct tb_admitted *out = sp->out;
	int err = tb_store_get_entry(sp->s, out->self, 2, sp->rec, sizeof sp->rec, &len);
	if (err)
		return err == TB_ENOTFOUND ? 0 : err;
	if (tb_entry_decode(&e, sp->rec, len) || e.kind != TB_KIND_SUCCESSION ||
	    find(out, e.body.succession.old_log) || out->n == TB_ADMITTED_MAX)
		return 0;
	struct tb_community com;
	err = tb_store_community(sp->s, out->self, &com);
	if (err)
		return err;
	struct tb_admitted_one *o = &out->v[out->n++];
	memset(o, 0, sizeof *o);
	memcpy(o->id, e.body.succession.old_log, TB_KEY_LEN);
	snprintf(o->name, sizeof o->name, "%s", com.name);
	tb_admit_name_key(o->key, o->name);
	o->status = TB_ADMIT_ADMITTED;
	o->direct = true;
	return 0;
}

static int add_successors(struct tb_store *s, struct tb_admitted *out)
{
	struct succ_pass *sp = malloc(sizeof *sp);
	if (!sp)
		return TB_ENOMEM;
	sp->s = s;
	sp->out = out;
	int err = add_predecessor(sp);
	if (!err) {
		qsort(out->v, out->n, sizeof *out->v, by_id);
		sp->sorted = out->n;
		err = tb_store_foreach_log(s, successor_one, sp);
	}
	free(sp);
	return err;
}

int tb_store_admitted(struct tb_store *s, struct tb_admitted *out)
{
	memset(out, 0, sizeof *out);
	out->v = malloc(TB_ADMITTED_MAX * sizeof *out->v);
	if (!out->v)
		return TB_ENOMEM;
	struct build b = {.out = out};
	struct own_scan os = {.b = &b};
	int err = tb_store_self(s, out->self);
	struct tb_txn t;
	tb_txn_begin(&t, s->db, false);
	if (!err)
		err = admit_foreach(&t, out->self, own_one, &os);
	for (size_t i = 0; !err && i < b.nvouchers; i++) {
		b.voucher = b.vouchers[i].id;
		b.from_voucher = 0;
		err = admit_foreach(&t, b.voucher, vouched_one, &b);
	}
	tb_txn_abort(&t);
	free(b.removed);
	free(b.vouchers);
	if (err) {
		tb_admitted_free(out);
		return err;
	}
	err = add_successors(s, out);
	if (err) {
		tb_admitted_free(out);
		return err;
	}
	qsort(out->v, out->n, sizeof *out->v, by_id);
	return 0;
}

void tb_admitted_free(struct tb_admitted *a)
{
	free(a->v);
	a->v = NULL;
	a->n = 0;
}

const struct tb_admitted_one *tb_admitted_find(const struct tb_admitted *a, const uint8_t *id)
{
	size_t lo = 0, hi = a->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = memcmp(a->v[mid].id, id, TB_KEY_LEN);
		if (cmp == 0)
			return &a->v[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool tb_admitted_has(const struct tb_admitted *a, const uint8_t *id)
{
	return !memcmp(id, a->self, TB_KEY_LEN) || tb_admitted_find(a, id) != NULL;
}
