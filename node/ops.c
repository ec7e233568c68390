/*
 * ops.c: the operations on the own ledger that the command line and
 * tallyd's API share (tb_ops.h): each builds the entry from what a person
 * gave, asks the store to append it (the ledger rules decide; nothing here
 * restates a rule), keeps the local records that go with it (memo text,
 * pending proposal, who attested) and says why in rej when it refuses
 * (a proposal, which the rules see only when it is confirmed, is checked
 * against the limits before anyone signs). It prints nothing, never keeps
 * a passphrase or a member's key past the call, and leaves nothing behind
 * when it refuses.
 */
#include "tb_ops.h"
#include "tb_file.h"
#include "tb_node.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tb_op_refuse(struct tb_reject *rej, int err, const char *fmt, ...)
{
	if (!rej)
		return err;
	memset(rej, 0, sizeof *rej);
	rej->err = err;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(rej->msg, sizeof rej->msg, fmt, ap);
	va_end(ap);
	return err;
}

int tb_op_member(const struct tb_ops *o, const char *name, struct tb_member *m,
		 struct tb_reject *rej)
{
	/* The command line's lookup: a name in any case or form, or #N. */
	int err = tb_store_member_find(o->store, o->self, name, m);
	if (err == TB_ENOTFOUND || err == TB_ENAME)
		return tb_op_refuse(rej, TB_EMEMBER, "no member named '%s'", name);
	if (err)
		return tb_op_refuse(rej, err, "cannot read member '%s': %s", name,
				    tb_strerror(err));
	return 0;
}

static void key_path(const struct tb_ops *o, char *out, size_t cap, const uint8_t key[TB_KEY_LEN])
{
	char hex[2 * TB_KEY_LEN + 1];
	tb_hex_encode(hex, key, TB_KEY_LEN);
	snprintf(out, cap, "%s/keys/members/%s.key", o->data, hex);
}

int tb_op_member_unlock(const struct tb_ops *o, const struct tb_member *m, struct tb_op_pass pass,
			struct tb_keypair *kp, struct tb_reject *rej)
{
	static const uint8_t none[TB_KEY_LEN];
	if (!memcmp(m->key, none, TB_KEY_LEN))
		return tb_op_refuse(rej, TB_ECONSENT,
				    "%s has no key and cannot sign; a coordinator attests their "
				    "exchanges",
				    m->no == TB_COMMUNITY_ACCOUNT ? "the community account"
								  : m->name);
	char path[4400];
	key_path(o, path, sizeof path, m->key);
	if (!pass.p || !pass.len)
		return tb_op_refuse(rej, TB_EPASSPHRASE, "%s's passphrase is needed to sign",
				    m->name);
	int err = tb_keyfile_read(path, kp, pass.p, pass.len);
	if (err == TB_EPASSPHRASE)
		return tb_op_refuse(rej, err, "wrong passphrase for %s's key", m->name);
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "this node keeps no key file for %s", m->name);
	if (err)
		return tb_op_refuse(rej, err, "cannot read %s's key: %s", m->name,
				    tb_strerror(err));
	return 0;
}

int tb_op_sign(const struct tb_keypair *kp, const struct tb_msgdef *d, const void *terms,
	       enum tb_sigctx ctx, uint8_t sig[TB_SIGLEN], struct tb_reject *rej)
{
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err = tb_terms_encode(buf, sizeof buf, &len, d, terms);
	if (err)
		return tb_op_refuse(rej, err, "cannot encode the terms: %s", tb_strerror(err));
	tb_sign(sig, kp, ctx, buf, len);
	return 0;
}

/* Signs terms with a member's key, unlocked with pass for this call only. */
static int member_sign(const struct tb_ops *o, const struct tb_member *m, struct tb_op_pass pass,
		       const struct tb_msgdef *d, const void *terms, enum tb_sigctx ctx,
		       uint8_t sig[TB_SIGLEN], struct tb_reject *rej)
{
	struct tb_keypair kp;
	int err = tb_op_member_unlock(o, m, pass, &kp, rej);
	if (err)
		return err;
	err = tb_op_sign(&kp, d, terms, ctx, sig, rej);
	tb_keypair_wipe(&kp);
	return err;
}

int tb_date_parse(const char *s, uint64_t *yyyymmdd)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return TB_EDATE;
	uint64_t v = 0;
	for (int i = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return TB_EDATE;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	uint64_t y = v / 10000, m = v / 100 % 100, d = v % 100;
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return TB_EDATE;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return TB_EDATE;
	*yyyymmdd = v;
	return 0;
}

uint64_t tb_date_today(void)
{
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	return (uint64_t)(tm.tm_year + 1900) * 10000 + (uint64_t)(tm.tm_mon + 1) * 100 +
	       (uint64_t)tm.tm_mday;
}

struct names_ctx {
	char buf[256];
	size_t n;
};

static int name_cb(void *vctx, const char *name)
{
	struct names_ctx *c = vctx;
	size_t at = strlen(c->buf);
	if (at + strlen(name) + 8 >= sizeof c->buf) {
		snprintf(c->buf + at, sizeof c->buf - at, ", ...");
		return 1;
	}
	snprintf(c->buf + at, sizeof c->buf - at, "%s%s", c->n++ ? ", " : "", name);
	return 0;
}

int tb_op_texts(const struct tb_ops *o, const char *memo, const char *category,
		char cat[TB_CATEGORY_MAX + 1], struct tb_reject *rej)
{
	size_t ml = strlen(memo), cl = strlen(category);
	if (ml > TB_MEMO_MAX || tb_text_check(memo, ml))
		return tb_op_refuse(rej, TB_EUTF8, "the memo must be at most %d bytes of text",
				    TB_MEMO_MAX);
	if (cl > TB_CATEGORY_MAX || tb_text_check(category, cl))
		return tb_op_refuse(rej, TB_EUTF8, "the category must be at most %d bytes of text",
				    TB_CATEGORY_MAX);
	/* With the community's list of categories, one of it, in its spelling. */
	int err = tb_store_category_resolve(o->store, category, cl, cat, TB_CATEGORY_MAX + 1);
	if (err == TB_ENOTFOUND) {
		struct names_ctx c = {{0}, 0};
		(void)tb_store_foreach_category(o->store, name_cb, &c);
		return tb_op_refuse(rej, TB_ECATEGORY,
				    "'%s' is not one of this community's categories (%s)", category,
				    c.buf);
	}
	if (err)
		return tb_op_refuse(rej, err, "the category must be at most %d bytes of text",
				    TB_CATEGORY_MAX);
	return 0;
}

/* Members, amount and texts of terms into an exchange body (a fresh txid and
 * memo salt); the ledger rules check the rest when it is appended. */
/* With given, its txid and salt (a member's device signed the terms they
 * make), else fresh ones. */
static int build(const struct tb_ops *o, const struct tb_op_terms *t, struct tb_exchange *x,
		 struct tb_member *prov, struct tb_member *recv, uint8_t salt[TB_MEMO_SALT_LEN],
		 char cat[TB_CATEGORY_MAX + 1], const struct tb_op_fix *given,
		 struct tb_reject *rej)
{
	int err;
	if ((err = tb_op_member(o, t->provider, prov, rej)) ||
	    (err = tb_op_member(o, t->receiver, recv, rej)))
		return err;
	if (prov->no == recv->no)
		return tb_op_refuse(rej, TB_ESELF,
				    "provider and receiver must be different members");
	if (t->minutes < 1 || t->minutes > TB_MINUTES_MAX)
		return tb_op_refuse(rej, TB_EAMOUNT, "an exchange is from 1 minute to %d hours",
				    TB_MINUTES_MAX / 60);
	size_t ml = strlen(t->memo);
	if ((err = tb_op_texts(o, t->memo, t->category, cat, rej)))
		return err;
	memset(x, 0, sizeof *x);
	x->date = t->date ? t->date : tb_date_today();
	if (given) {
		memcpy(x->txid, given->txid, TB_TXID_LEN);
		memcpy(salt, given->salt, TB_MEMO_SALT_LEN);
	} else {
		tb_random(x->txid, TB_TXID_LEN);
		tb_random(salt, TB_MEMO_SALT_LEN);
	}
	tb_memo_hash(x->memo_hash, salt, t->memo, ml);
	x->provider = prov->no;
	x->receiver = recv->no;
	x->minutes = (uint64_t)t->minutes;
	x->category = (struct tb_view){(const uint8_t *)cat, strlen(cat)};
	return 0;
}

/* Appends an exchange and its memo in one transaction: both or neither. */
/* The entry, its memo and who attested it (coordinator, may be NULL) in one
 * transaction: all are kept or none. */
static int append_exchange(const struct tb_ops *o, const struct tb_exchange *x,
			   const uint8_t salt[TB_MEMO_SALT_LEN], const char *memo,
			   const char *coordinator, uint64_t *seq, struct tb_reject *rej)
{
	struct tb_memo m = {x->txid, salt, memo, strlen(memo)};
	struct tb_own_item it = {.kind = TB_KIND_EXCHANGE,
				 .body = x,
				 .memo = &m,
				 .attested_by = coordinator,
				 .attested_txid = x->txid};
	if (rej)
		memset(rej, 0, sizeof *rej);
	int err = tb_store_append_own_batch(o->store, o->node, &it, 1, false, NULL, rej);
	if (err && rej && !rej->err)
		tb_op_refuse(rej, err, "%s", tb_strerror(err));
	if (!err && seq)
		*seq = it.seq;
	return err;
}

int tb_op_record(const struct tb_ops *o, const struct tb_op_terms *t, const char *coordinator,
		 uint8_t txid[TB_TXID_LEN], uint64_t *seq, struct tb_reject *rej)
{
	struct tb_exchange x;
	struct tb_member prov, recv;
	uint8_t salt[TB_MEMO_SALT_LEN];
	char cat[TB_CATEGORY_MAX + 1];
	int err = build(o, t, &x, &prov, &recv, salt, cat, NULL, rej);
	if (err)
		return err;
	x.attested = 1;
	if ((err = append_exchange(o, &x, salt, t->memo, coordinator, seq, rej)))
		return err;
	memcpy(txid, x.txid, TB_TXID_LEN);
	return 0;
}

static void hours(char *out, size_t cap, int64_t minutes)
{
	uint64_t a = minutes < 0 ? (uint64_t)0 - (uint64_t)minutes : (uint64_t)minutes;
	snprintf(out, cap, "%s%llu:%02llu",
		 minutes < 0   ? "-"
		 : minutes > 0 ? "+"
			       : "",
		 (unsigned long long)(a / 60), (unsigned long long)(a % 60));
}

/* A proposal is checked by the rules only when it is confirmed; what they
 * would refuse then (the receiver's floor, the provider's ceiling) is
 * refused before anyone signs, in the rules' words. */
static int propose_check(const struct tb_member *prov, const struct tb_member *recv,
			 int64_t minutes, struct tb_reject *rej)
{
	char a[32], b[32];
	/* The community account has no limits (FORMAT.md 7.9). */
	if (recv->no != TB_COMMUNITY_ACCOUNT && recv->balance - minutes < recv->floor) {
		hours(a, sizeof a, recv->balance - minutes);
		hours(b, sizeof b, recv->floor);
		return tb_op_refuse(
			rej, TB_EFLOOR,
			"%s's balance would be %s hours, below the debt limit of %s hours",
			recv->name, a, b);
	}
	if (prov->ceiling && prov->balance + minutes > (int64_t)prov->ceiling) {
		hours(a, sizeof a, prov->balance + minutes);
		hours(b, sizeof b, (int64_t)prov->ceiling);
		return tb_op_refuse(rej, TB_ECEILING,
				    "%s's balance would be %s hours, above the ceiling of %s hours",
				    prov->name, a, b);
	}
	return 0;
}

/* The provider's proposal (signed by sig) and its memo into the local
 * tables, in one transaction (the store bounds the table). */
static int keep_proposal(const struct tb_ops *o, const struct tb_exchange *x,
			 const uint8_t salt[TB_MEMO_SALT_LEN], const char *memo,
			 const uint8_t sig[TB_SIGLEN], struct tb_reject *rej)
{
	struct tb_proposal p = {0};
	memcpy(p.txid, x->txid, TB_TXID_LEN);
	p.provider = x->provider;
	p.receiver = x->receiver;
	p.minutes = x->minutes;
	p.category = x->category;
	memcpy(p.memo_hash, x->memo_hash, TB_HASHLEN);
	p.date = x->date;
	p.created = (uint64_t)time(NULL);
	p.provider_sig = (struct tb_view){sig, TB_SIGLEN};
	struct tb_memo m = {x->txid, salt, memo, strlen(memo)};
	int err = tb_store_pending_add(o->store, &p, &m, p.created);
	if (err == TB_EFULL)
		return tb_op_refuse(rej, err,
				    "too many proposals wait to be confirmed (at most %d of one "
				    "provider, %d in all): wait until some are confirmed, rejected "
				    "or expire (after %llu days)",
				    TB_PENDING_PER_PROVIDER, TB_PENDING_MAX,
				    (unsigned long long)(TB_PENDING_AGE_S / 86400));
	if (err == TB_EEXISTS)
		return tb_op_refuse(rej, TB_EDUPTX, "that transaction id is already used");
	if (err)
		return tb_op_refuse(rej, err, "cannot keep the proposal: %s", tb_strerror(err));
	return 0;
}

int tb_op_propose(const struct tb_ops *o, const struct tb_op_terms *t, struct tb_op_pass provider,
		  uint8_t txid[TB_TXID_LEN], struct tb_reject *rej)
{
	struct tb_exchange x;
	struct tb_member prov, recv;
	uint8_t salt[TB_MEMO_SALT_LEN], sig[TB_SIGLEN];
	char cat[TB_CATEGORY_MAX + 1];
	int err = build(o, t, &x, &prov, &recv, salt, cat, NULL, rej);
	if (!err)
		err = propose_check(&prov, &recv, t->minutes, rej);
	if (err)
		return err;
	struct tb_exchange_terms et;
	tb_exchange_terms_of(&et, o->self, &x);
	if ((err = member_sign(o, &prov, provider, &tb_def_exchange_terms, &et, TB_CTX_EXCHANGE,
			       sig, rej)))
		return err;
	if ((err = keep_proposal(o, &x, salt, t->memo, sig, rej)))
		return err;
	memcpy(txid, x.txid, TB_TXID_LEN);
	return 0;
}

int tb_op_propose_draft(const struct tb_ops *o, const struct tb_op_terms *t, struct tb_op_fix *fix,
			struct tb_exchange *x, char cat[TB_CATEGORY_MAX + 1], struct tb_reject *rej)
{
	struct tb_member prov, recv;
	uint8_t salt[TB_MEMO_SALT_LEN];
	tb_random(fix->txid, TB_TXID_LEN);
	tb_random(fix->salt, TB_MEMO_SALT_LEN);
	fix->expires = 0;
	int err = build(o, t, x, &prov, &recv, salt, cat, fix, rej);
	if (!err)
		err = propose_check(&prov, &recv, t->minutes, rej);
	return err;
}

int tb_op_member_verify(const struct tb_member *m, const struct tb_msgdef *d, const void *terms,
			enum tb_sigctx ctx, const uint8_t sig[TB_SIGLEN], struct tb_reject *rej)
{
	static const uint8_t none[TB_KEY_LEN];
	if (!memcmp(m->key, none, TB_KEY_LEN))
		return tb_op_refuse(rej, TB_ECONSENT, "%s has no key and cannot sign", m->name);
	uint8_t buf[TB_ENTRY_MAX];
	size_t len;
	int err = tb_terms_encode(buf, sizeof buf, &len, d, terms);
	if (err)
		return tb_op_refuse(rej, err, "cannot encode the terms: %s", tb_strerror(err));
	if ((err = tb_verify(sig, m->key, ctx, buf, len)))
		return tb_op_refuse(rej, err,
				    "%s's signature does not verify over these terms with %s's "
				    "key: nothing was kept",
				    m->name, m->name);
	return 0;
}

int tb_op_propose_signed(const struct tb_ops *o, const struct tb_op_terms *t,
			 const struct tb_op_fix *fix, const uint8_t sig[TB_SIGLEN],
			 struct tb_reject *rej)
{
	struct tb_exchange x;
	struct tb_member prov, recv;
	uint8_t salt[TB_MEMO_SALT_LEN], buf[TB_ENTRY_MAX];
	char cat[TB_CATEGORY_MAX + 1];
	size_t len;
	uint64_t seq, rev;
	int err = build(o, t, &x, &prov, &recv, salt, cat, fix, rej);
	if (!err)
		err = propose_check(&prov, &recv, t->minutes, rej);
	if (err)
		return err;
	/* A txid a proposal or the log already holds is not taken again. */
	if (tb_store_pending_get(o->store, x.txid, buf, sizeof buf, &len) != TB_ENOTFOUND ||
	    tb_store_tx(o->store, o->self, x.txid, &seq, &rev) != TB_ENOTFOUND)
		return tb_op_refuse(rej, TB_EDUPTX, "that transaction id is already used");
	struct tb_exchange_terms et;
	tb_exchange_terms_of(&et, o->self, &x);
	if ((err = tb_op_member_verify(&prov, &tb_def_exchange_terms, &et, TB_CTX_EXCHANGE, sig,
				       rej)))
		return err;
	return keep_proposal(o, &x, salt, t->memo, sig, rej);
}

int tb_op_pending(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN], uint8_t *buf, size_t cap,
		  struct tb_proposal *p, struct tb_reject *rej)
{
	size_t len;
	uint64_t seq, rev;
	char hex[2 * TB_TXID_LEN + 1];
	tb_hex_encode(hex, txid, TB_TXID_LEN);
	int err = tb_store_pending_get(o->store, txid, buf, cap, &len);
	if (err == TB_ENOTFOUND && tb_store_tx(o->store, o->self, txid, &seq, &rev) == 0)
		return tb_op_refuse(rej, TB_EDUPTX, "%s is already recorded as entry %llu", hex,
				    (unsigned long long)seq);
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "no pending exchange %s", hex);
	if (!err)
		err = tb_msg_decode_exact(buf, len, &tb_def_proposal, p);
	if (err)
		return tb_op_refuse(rej, err, "cannot read the pending exchange: %s",
				    tb_strerror(err));
	if (tb_pending_expired(p, (uint64_t)time(NULL)))
		return tb_op_refuse(
			rej, TB_ENOTFOUND,
			"no pending exchange %s: it expired (a proposal waits %llu days)", hex,
			(unsigned long long)(TB_PENDING_AGE_S / 86400));
	return 0;
}

/* A confirmed proposal appended as its exchange. */
static int confirm_append(const struct tb_ops *o, const struct tb_exchange *x, uint64_t *seq,
			  struct tb_reject *rej)
{
	tb_node_crash_point("exchange-signed");
	if (rej)
		memset(rej, 0, sizeof *rej);
	/* The entry and the proposal's end in one transaction: both or neither. */
	struct tb_own_item it = {.kind = TB_KIND_EXCHANGE, .body = x, .pending_txid = x->txid};
	int err = tb_store_append_own_batch(o->store, o->node, &it, 1, false, NULL, rej);
	tb_node_crash_point("exchange-recorded");
	if (err)
		return rej && !rej->err ? tb_op_refuse(rej, err, "%s", tb_strerror(err)) : err;
	if (seq)
		*seq = it.seq;
	return 0;
}

/* The pending proposal of txid as the exchange it becomes (views into
 * buf), and its receiver. */
static int pending_exchange(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
			    uint8_t buf[TB_ENTRY_MAX], struct tb_exchange *x,
			    struct tb_member *recv, struct tb_reject *rej)
{
	struct tb_proposal p;
	int err = tb_op_pending(o, txid, buf, TB_ENTRY_MAX, &p, rej);
	if (err)
		return err;
	if ((err = tb_store_member(o->store, o->self, (uint32_t)p.receiver, recv)))
		return tb_op_refuse(rej, err, "cannot read the receiver: %s", tb_strerror(err));
	memset(x, 0, sizeof *x);
	memcpy(x->txid, p.txid, TB_TXID_LEN);
	x->provider = p.provider;
	x->receiver = p.receiver;
	x->minutes = p.minutes;
	x->category = p.category;
	memcpy(x->memo_hash, p.memo_hash, TB_HASHLEN);
	x->date = p.date;
	x->provider_sig = p.provider_sig;
	return 0;
}

int tb_op_confirm_signed(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
			 const uint8_t sig[TB_SIGLEN], uint64_t *seq, struct tb_reject *rej)
{
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_exchange x;
	struct tb_member recv;
	int err = pending_exchange(o, txid, buf, &x, &recv, rej);
	if (err)
		return err;
	struct tb_exchange_terms t;
	tb_exchange_terms_of(&t, o->self, &x);
	if ((err = tb_op_member_verify(&recv, &tb_def_exchange_terms, &t, TB_CTX_EXCHANGE, sig,
				       rej)))
		return err;
	x.receiver_sig = (struct tb_view){sig, TB_SIGLEN};
	return confirm_append(o, &x, seq, rej);
}

int tb_op_confirm(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN],
		  struct tb_op_pass receiver, uint64_t *seq, struct tb_reject *rej)
{
	uint8_t buf[TB_ENTRY_MAX], sig[TB_SIGLEN];
	struct tb_exchange x;
	struct tb_member recv;
	int err = pending_exchange(o, txid, buf, &x, &recv, rej);
	if (err)
		return err;
	struct tb_exchange_terms t;
	tb_exchange_terms_of(&t, o->self, &x);
	if ((err = member_sign(o, &recv, receiver, &tb_def_exchange_terms, &t, TB_CTX_EXCHANGE, sig,
			       rej)))
		return err;
	x.receiver_sig = (struct tb_view){sig, TB_SIGLEN};
	return confirm_append(o, &x, seq, rej);
}

int tb_op_reject(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN], struct tb_reject *rej)
{
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_proposal p;
	int err = tb_op_pending(o, txid, buf, sizeof buf, &p, rej);
	if (!err)
		err = tb_store_pending_del(o->store, txid);
	if (!err && (err = tb_store_memo_erase(o->store, txid)) == TB_ENOTFOUND)
		err = 0;
	if (err && (!rej || !rej->err))
		return tb_op_refuse(rej, err, "cannot drop the proposal: %s", tb_strerror(err));
	return err;
}

int tb_op_exchange(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN], uint8_t *rec,
		   struct tb_entry *e, struct tb_reject *rej)
{
	char hex[2 * TB_TXID_LEN + 1];
	tb_hex_encode(hex, txid, TB_TXID_LEN);
	uint64_t seq, rev;
	size_t len;
	int err = tb_store_tx(o->store, o->self, txid, &seq, &rev);
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, TB_ENOTX, "no exchange %s in this ledger", hex);
	if (!err)
		err = tb_store_get_entry(o->store, o->self, seq, rec, TB_ENTRY_MAX, &len);
	if (!err)
		err = tb_entry_decode(e, rec, len);
	if (err)
		return tb_op_refuse(rej, err, "cannot read entry %llu: %s", (unsigned long long)seq,
				    tb_strerror(err));
	if (e->kind != TB_KIND_EXCHANGE)
		return tb_op_refuse(rej, TB_ENOTX, "%s is not an exchange", hex);
	return 0;
}

int tb_op_reverse(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN], bool attest,
		  struct tb_op_pass provider, struct tb_op_pass receiver,
		  uint8_t rtxid[TB_TXID_LEN], uint64_t *seq, struct tb_reject *rej)
{
	uint8_t rec[TB_ENTRY_MAX];
	struct tb_entry e;
	int err = tb_op_exchange(o, txid, rec, &e, rej);
	if (err)
		return err;
	const struct tb_exchange *x = &e.body.exchange;
	if (attest && !x->attested)
		return tb_op_refuse(
			rej, TB_ECONSENT,
			"the exchange was signed by both members, so its reversal must be too");
	struct tb_reversal r = {0};
	tb_random(r.txid, TB_TXID_LEN);
	memcpy(r.original, txid, TB_TXID_LEN);
	r.attested = x->attested;
	uint8_t ps[TB_SIGLEN], rs[TB_SIGLEN];
	if (!x->attested) {
		struct tb_member prov, recv;
		err = tb_store_member(o->store, o->self, (uint32_t)x->provider, &prov);
		if (!err)
			err = tb_store_member(o->store, o->self, (uint32_t)x->receiver, &recv);
		if (err)
			return tb_op_refuse(rej, err, "cannot read the members: %s",
					    tb_strerror(err));
		struct tb_reversal_terms t;
		tb_reversal_terms_of(&t, o->self, &r);
		if ((err = member_sign(o, &prov, provider, &tb_def_reversal_terms, &t,
				       TB_CTX_REVERSAL, ps, rej)) ||
		    (err = member_sign(o, &recv, receiver, &tb_def_reversal_terms, &t,
				       TB_CTX_REVERSAL, rs, rej)))
			return err;
		r.provider_sig = (struct tb_view){ps, TB_SIGLEN};
		r.receiver_sig = (struct tb_view){rs, TB_SIGLEN};
	}
	if (rej)
		memset(rej, 0, sizeof *rej);
	if ((err = tb_store_append_own(o->store, o->node, TB_KIND_REVERSAL, &r, seq, rej)))
		return rej && !rej->err ? tb_op_refuse(rej, err, "%s", tb_strerror(err)) : err;
	memcpy(rtxid, r.txid, TB_TXID_LEN);
	return 0;
}

int tb_op_member_add(const struct tb_ops *o, const char *name, int64_t debt_limit, int64_t ceiling,
		     const uint8_t *pubkey, struct tb_op_pass pass, struct tb_member *out,
		     struct tb_reject *rej)
{
	struct tb_community com;
	int err = tb_store_community(o->store, o->self, &com);
	if (err)
		return tb_op_refuse(rej, err, "cannot read the community: %s", tb_strerror(err));
	if (tb_store_member_by_name(o->store, o->self, name, out) == 0)
		return tb_op_refuse(rej, TB_ENAME, "the name %s is already used by a member", name);
	struct tb_member_join j = {0};
	j.member = (uint64_t)com.members + 1;
	j.name = (struct tb_view){(const uint8_t *)name, strlen(name)};
	j.floor = debt_limit >= 0 ? -debt_limit : com.floor;
	j.ceiling = ceiling >= 0 ? (uint64_t)ceiling : com.ceiling;
	char path[4400] = "";
	if (pubkey) {
		memcpy(j.key, pubkey, TB_KEY_LEN);
	} else {
		if (!pass.p || !pass.len)
			return tb_op_refuse(rej, TB_EPASSPHRASE,
					    "a passphrase for %s's new key is needed", name);
		struct tb_keypair kp;
		tb_keypair_generate(&kp);
		key_path(o, path, sizeof path, kp.pk.b);
		err = tb_keyfile_write(path, &kp, pass.p, pass.len, TB_KDF_INTERACTIVE);
		memcpy(j.key, kp.pk.b, TB_KEY_LEN);
		tb_keypair_wipe(&kp);
		if (err)
			return tb_op_refuse(rej, err, "cannot write %s: %s", path,
					    tb_strerror(err));
	}
	if (rej)
		memset(rej, 0, sizeof *rej);
	err = tb_store_append_own(o->store, o->node, TB_KIND_MEMBER_JOIN, &j, NULL, rej);
	if (err) {
		if (path[0])
			unlink(path);
		return rej && !rej->err ? tb_op_refuse(rej, err, "%s", tb_strerror(err)) : err;
	}
	if ((err = tb_store_member(o->store, o->self, (uint32_t)j.member, out)))
		return tb_op_refuse(rej, err, "added, but cannot read it back: %s",
				    tb_strerror(err));
	return 0;
}

int tb_op_member_remove(const struct tb_ops *o, const char *name, uint64_t *seq,
			struct tb_reject *rej)
{
	struct tb_member m;
	int err = tb_op_member(o, name, &m, rej);
	if (err)
		return err;
	struct tb_member_left body = {m.no};
	if (rej)
		memset(rej, 0, sizeof *rej);
	err = tb_store_append_own(o->store, o->node, TB_KIND_MEMBER_LEFT, &body, seq, rej);
	if (err && rej && !rej->err)
		tb_op_refuse(rej, err, "%s", tb_strerror(err));
	return err;
}
