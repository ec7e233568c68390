/*
 * ops_fed.c: the operations the command line and tallyd's API share beyond
 * the own members' exchanges (tb_ops.h): naming another community, setting a
 * trust line toward it, adding and removing the console's coordinators, and
 * making the receipt of an exchange. Like ops.c it prints nothing, says why
 * in rej when it refuses, leaves nothing behind when it does, and never
 * keeps a password past the call. It never guesses between two communities,
 * and by name it knows only the communities admitted here (and this one,
 * issue 11 finding 10: a copycat's log held here names nothing).
 */
#include "tb_audit.h"
#include "tb_ops.h"
#include "tb_text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define ID_HEX (2 * TB_KEY_LEN)
#define PREFIX_MIN 8

static void short_id(char *out, size_t cap, const uint8_t id[TB_KEY_LEN])
{
	char hex[9];
	tb_hex_encode(hex, id, 4);
	snprintf(out, cap, "%s...", hex);
}

void tb_op_community_name(const struct tb_ops *o, const uint8_t id[TB_KEY_LEN], char *out,
			  size_t cap)
{
	struct tb_community c;
	if (tb_store_community(o->store, id, &c) == 0 && c.name[0])
		snprintf(out, cap, "%s", c.name);
	else
		short_id(out, cap, id);
}

struct match_ctx {
	const struct tb_ops *o;
	const char *arg;
	size_t arglen;
	bool by_prefix;
	struct tb_op_community *out;
	int err;
};

static bool hex_prefix(const uint8_t id[TB_KEY_LEN], const char *arg, size_t len)
{
	char hex[ID_HEX + 1];
	tb_hex_encode(hex, id, TB_KEY_LEN);
	for (size_t i = 0; i < len; i++)
		if (hex[i] != tolower((unsigned char)arg[i]))
			return false;
	return true;
}

static bool same_name(const char *a, const char *b)
{
	return tb_text_same_name(a, strlen(a), b, strlen(b)) == 1;
}

static void add_match(struct match_ctx *mc, const uint8_t id[TB_KEY_LEN])
{
	struct tb_op_community *out = mc->out;
	for (size_t i = 0; i < out->ncand && i < TB_OP_CANDIDATES_MAX; i++)
		if (!memcmp(out->cand[i], id, TB_KEY_LEN))
			return;
	if (out->ncand < TB_OP_CANDIDATES_MAX)
		memcpy(out->cand[out->ncand], id, TB_KEY_LEN);
	out->ncand++;
}

static int match_log(void *vctx, const struct tb_head *h)
{
	struct match_ctx *mc = vctx;
	if (hex_prefix(h->log_id, mc->arg, mc->arglen))
		add_match(mc, h->log_id);
	return 0;
}

/* Linked communities whose logs are not held yet still match an id prefix. */
static int match_clearing(void *vctx, const struct tb_clearing *c)
{
	struct match_ctx *mc = vctx;
	if (hex_prefix(c->other, mc->arg, mc->arglen))
		add_match(mc, c->other);
	return 0;
}

static bool all_hex(const char *s)
{
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static void fill(const struct tb_ops *o, const uint8_t id[TB_KEY_LEN], struct tb_op_community *out)
{
	struct tb_community c;
	memcpy(out->id, id, TB_KEY_LEN);
	out->held = tb_store_community(o->store, id, &c) == 0 && c.name[0];
	tb_op_community_name(o, id, out->name, sizeof out->name);
}

/* By name: this community and the admitted ones, under their admitted
 * names; none wins by exact case. */
static int by_name(struct match_ctx *mc)
{
	struct tb_admitted adm;
	int err = tb_store_admitted(mc->o->store, &adm);
	if (err)
		return err;
	char own[TB_NAME_MAX + 1];
	tb_op_community_name(mc->o, mc->o->self, own, sizeof own);
	if (same_name(own, mc->arg))
		add_match(mc, mc->o->self);
	for (size_t i = 0; i < adm.n; i++)
		if (same_name(adm.v[i].name, mc->arg))
			add_match(mc, adm.v[i].id);
	tb_admitted_free(&adm);
	return 0;
}

/* One pass by name, or over the logs and trust lines by id prefix; 1 when
 * it decided (found one, or several), 0 to go on, or an error. */
static int scan(struct match_ctx *mc, struct tb_reject *rej)
{
	mc->out->ncand = 0;
	int err = mc->by_prefix ? tb_store_foreach_log(mc->o->store, match_log, mc) : by_name(mc);
	if (!err && mc->by_prefix) {
		err = tb_store_foreach_clearing(mc->o->store, mc->o->self, match_clearing, mc);
		if (err == TB_ENOTFOUND)
			err = 0;
	}
	if (err < 0 || mc->err) {
		err = mc->err ? mc->err : err;
		return tb_op_refuse(rej, err, "cannot read the logs held: %s", tb_strerror(err));
	}
	if (mc->out->ncand == 1) {
		fill(mc->o, mc->out->cand[0], mc->out);
		mc->out->ncand = 0;
		return 1;
	}
	if (mc->out->ncand > 1)
		return tb_op_refuse(
			rej, TB_EINVAL,
			"'%s' names %zu communities; give the node id (or a longer prefix)",
			mc->arg, mc->out->ncand);
	return 0;
}

int tb_op_community(const struct tb_ops *o, const char *arg, struct tb_op_community *out,
		    struct tb_reject *rej)
{
	memset(out, 0, sizeof *out);
	size_t len = strlen(arg);
	if (len == 0 || len > ID_HEX + TB_NAME_MAX)
		return tb_op_refuse(rej, TB_EINVAL, "'%.80s' is not a community name or node id",
				    arg);
	uint8_t id[TB_KEY_LEN];
	if (len == ID_HEX && tb_hex_decode(id, TB_KEY_LEN, arg) == 0) {
		fill(o, id, out);
		return 0;
	}
	struct match_ctx mc = {.o = o, .arg = arg, .arglen = len, .out = out};
	int rc;
	/* By name (an admitted one), then by id prefix. */
	for (int pass = 0; pass < 2; pass++) {
		mc.by_prefix = pass == 1;
		if (mc.by_prefix && (len < PREFIX_MIN || len >= ID_HEX || !all_hex(arg)))
			break;
		if ((rc = scan(&mc, rej)))
			return rc > 0 ? 0 : rc;
	}
	return tb_op_refuse(
		rej, TB_ENOTFOUND,
		"no community '%.80s' is admitted here; a community can also be named by "
		"its full 64-digit node id",
		arg);
}

int tb_op_link_add(const struct tb_ops *o, const uint8_t other[TB_KEY_LEN], int64_t limit,
		   uint64_t *seq, struct tb_reject *rej)
{
	char name[TB_NAME_MAX + 1];
	tb_op_community_name(o, other, name, sizeof name);
	if (!memcmp(other, o->self, TB_KEY_LEN))
		return tb_op_refuse(rej, TB_ELINK,
				    "%s is this community; a trust line goes to another one", name);
	if (limit < 0 || limit > TB_LIMIT_MAX)
		return tb_op_refuse(rej, TB_ERANGE, "a trust limit is 0 to %d minutes (%d hours)",
				    TB_LIMIT_MAX, TB_LIMIT_MAX / 60);
	struct tb_link l = {0};
	memcpy(l.community, other, TB_KEY_LEN);
	l.limit = (uint64_t)limit;
	struct tb_reject r = {0};
	int err = tb_store_append_own(o->store, o->node, TB_KIND_LINK, &l, seq, &r);
	if (err && rej)
		*rej = r;
	return err;
}

int tb_op_coord_add(const struct tb_ops *o, const char *name, int role, const char *pw,
		    size_t pwlen, struct tb_coord *out, struct tb_reject *rej)
{
	memset(out, 0, sizeof *out);
	size_t n = strlen(name);
	if (n == 0 || n > TB_NAME_MAX || tb_text_check(name, n))
		return tb_op_refuse(rej, TB_EINVAL,
				    "a coordinator name is 1 to %d bytes of UTF-8 without control "
				    "characters",
				    TB_NAME_MAX);
	if (role < TB_ROLE_VIEWER || role > TB_ROLE_ADMIN)
		return tb_op_refuse(rej, TB_EINVAL, "a role is admin, coordinator or viewer");
	if (pwlen < TB_PASSWORD_MIN)
		return tb_op_refuse(rej, TB_EINVAL, "a console password has at least %d characters",
				    TB_PASSWORD_MIN);
	struct tb_coord co;
	if (tb_store_coord_get(o->store, name, &co) == 0)
		return tb_op_refuse(rej, TB_EEXISTS, "there is already a coordinator named %s",
				    name);
	snprintf(out->name, sizeof out->name, "%s", name);
	out->role = (uint8_t)role;
	out->created = (uint64_t)time(NULL);
	int err = tb_pwhash(out->pwhash, pw, pwlen);
	if (!err)
		err = tb_store_coord_put(o->store, out, false);
	if (err == TB_EEXISTS)
		return tb_op_refuse(rej, err, "there is already a coordinator named %s", name);
	if (err)
		return tb_op_refuse(rej, err, "cannot keep the coordinator: %s", tb_strerror(err));
	return 0;
}

static int count_admin(void *ctx, const struct tb_coord *c)
{
	*(size_t *)ctx += c->role == TB_ROLE_ADMIN;
	return 0;
}

/* Refused when name is the node's last admin: nobody could then manage
 * the console's people or trust lines without the terminal. */
static int last_admin(const struct tb_ops *o, const struct tb_coord *co, const char *what,
		      struct tb_reject *rej)
{
	size_t admins = 0;
	if (co->role != TB_ROLE_ADMIN)
		return 0;
	int err = tb_store_foreach_coord(o->store, count_admin, &admins);
	if (err < 0)
		return tb_op_refuse(rej, err, "cannot read the coordinators: %s", tb_strerror(err));
	if (admins <= 1)
		return tb_op_refuse(rej, TB_EDENIED,
				    "%s is the only admin: make another admin before %s them",
				    co->name, what);
	return 0;
}

int tb_op_coord_set(const struct tb_ops *o, const char *name, int role, const char *pw,
		    size_t pwlen, struct tb_coord *out, struct tb_reject *rej)
{
	int err = tb_store_coord_get(o->store, name, out);
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "no coordinator named %.80s", name);
	if (err)
		return tb_op_refuse(rej, err, "cannot read the coordinator: %s", tb_strerror(err));
	if (role >= 0 && (role < TB_ROLE_VIEWER || role > TB_ROLE_ADMIN))
		return tb_op_refuse(rej, TB_EINVAL, "a role is admin, coordinator or viewer");
	if (pw && pwlen < TB_PASSWORD_MIN)
		return tb_op_refuse(rej, TB_EINVAL, "a console password has at least %d characters",
				    TB_PASSWORD_MIN);
	if (role < 0 && !pw)
		return tb_op_refuse(rej, TB_EINVAL, "give a new role, a new password or both");
	if (role >= 0 && role != TB_ROLE_ADMIN && (err = last_admin(o, out, "demoting", rej)))
		return err;
	if (role >= 0)
		out->role = (uint8_t)role;
	if (pw && (err = tb_pwhash(out->pwhash, pw, pwlen)))
		return tb_op_refuse(rej, err, "cannot hash the password: %s", tb_strerror(err));
	if ((err = tb_store_coord_put(o->store, out, true)))
		return tb_op_refuse(rej, err, "cannot keep the coordinator: %s", tb_strerror(err));
	return 0;
}

int tb_op_coord_remove(const struct tb_ops *o, const char *name, struct tb_reject *rej)
{
	struct tb_coord co;
	int err = tb_store_coord_get(o->store, name, &co);
	if (!err && (err = last_admin(o, &co, "removing", rej)))
		return err;
	err = tb_store_coord_del(o->store, name);
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "no coordinator named %.80s", name);
	if (err)
		return tb_op_refuse(rej, err, "cannot remove the coordinator: %s",
				    tb_strerror(err));
	return 0;
}

int tb_op_receipt(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN], uint8_t *out, size_t cap,
		  size_t *len, uint64_t *seq, struct tb_reject *rej)
{
	char hex[2 * TB_TXID_LEN + 1];
	tb_hex_encode(hex, txid, TB_TXID_LEN);
	uint64_t rev;
	int err = tb_store_tx(o->store, o->self, txid, seq, &rev);
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, TB_ENOTX, "no exchange %s in this ledger", hex);
	if (err)
		return tb_op_refuse(rej, err, "cannot look up %s: %s", hex, tb_strerror(err));
	/* The newest checkpoint if it covers the entry, else a new one. */
	uint8_t cpbuf[TB_CHECKPOINT_MAX];
	size_t cplen = 0;
	struct tb_checkpoint cp;
	err = tb_store_checkpoint_get(o->store, o->self, cpbuf, sizeof cpbuf, &cplen);
	if (err || tb_checkpoint_open(&cp, cpbuf, cplen) || cp.size < *seq) {
		if (!o->node)
			return tb_op_refuse(rej, TB_ENOTFOUND,
					    "no checkpoint covers entry %llu yet",
					    (unsigned long long)*seq);
		if ((err = tb_store_checkpoint_make(o->store, o->node, cpbuf, sizeof cpbuf,
						    &cplen)))
			return tb_op_refuse(rej, err, "cannot make a checkpoint: %s",
					    tb_strerror(err));
	}
	err = tb_receipt_make(o->store, o->self, *seq, cpbuf, cplen, out, cap, len);
	if (err)
		return tb_op_refuse(rej, err, "cannot make the receipt: %s", tb_strerror(err));
	return 0;
}

void tb_op_xview_state(struct tb_op_xview *v)
{
	const struct tb_xleg *l = &v->leg;
	v->has_outcome = false;
	if (l->final_seq) {
		v->state = l->final_outcome == 0 ? "completed" : "released";
		v->outcome = l->final_outcome;
		v->has_outcome = true;
	} else if (l->decide_seq) {
		v->state = l->outcome == 0 ? "committed" : "refused";
		v->outcome = l->outcome;
		v->has_outcome = true;
	} else {
		v->state = "held";
	}
}

static void copy_name(char *out, size_t cap, struct tb_view s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(out, s.p, n);
	out[n] = '\0';
}

/* Reads an entry of a log and checks its kind. */
static int read_leg(const struct tb_ops *o, const uint8_t log[TB_KEY_LEN], uint64_t seq,
		    uint64_t kind, uint8_t *buf, size_t cap, struct tb_entry *e)
{
	size_t len;
	int err = tb_store_get_entry(o->store, log, seq, buf, cap, &len);
	if (!err)
		err = tb_entry_decode(e, buf, len);
	if (!err && e->kind != kind)
		err = TB_ECORRUPT;
	return err;
}

int tb_op_xview_names(const struct tb_ops *o, struct tb_op_xview *v)
{
	const struct tb_xleg *l = &v->leg;
	uint8_t buf[TB_ENTRY_MAX];
	struct tb_entry e;
	int err;
	snprintf(v->from, sizeof v->from, "?");
	snprintf(v->to, sizeof v->to, "?");
	tb_op_community_name(o, l->payer, v->from_c, sizeof v->from_c);
	if (l->prepare_seq) {
		if ((err = read_leg(o, l->payer, l->prepare_seq, TB_KIND_XPREPARE, buf, sizeof buf,
				    &e)))
			return err;
		const struct tb_xprepare *x = &e.body.xprepare;
		struct tb_member m;
		if (tb_store_member(o->store, l->payer, (uint32_t)x->member, &m) == 0)
			snprintf(v->from, sizeof v->from, "%s", m.name);
		copy_name(v->to, sizeof v->to, x->to_name);
		tb_op_community_name(o, x->to_log, v->to_c, sizeof v->to_c);
		return 0;
	}
	tb_op_community_name(o, l->decide_seq ? l->decider : l->provider, v->to_c, sizeof v->to_c);
	if (l->decide_seq) {
		if ((err = read_leg(o, l->decider, l->decide_seq, TB_KIND_XDECIDE, buf, sizeof buf,
				    &e)))
			return err;
		copy_name(v->from, sizeof v->from, e.body.xdecide.from_name);
		copy_name(v->to, sizeof v->to, e.body.xdecide.to_name);
	}
	return 0;
}

struct find_ctx {
	const uint8_t *txid;
	struct tb_xleg *out;
	bool found;
};

static int find_one(void *vctx, const struct tb_xleg *x)
{
	struct find_ctx *fc = vctx;
	if (memcmp(x->txid, fc->txid, TB_TXID_LEN))
		return 0;
	*fc->out = *x;
	fc->found = true;
	return 1;
}

int tb_op_xview(const struct tb_ops *o, const uint8_t txid[TB_TXID_LEN], struct tb_op_xview *v,
		struct tb_reject *rej)
{
	char hex[2 * TB_TXID_LEN + 1];
	tb_hex_encode(hex, txid, TB_TXID_LEN);
	memset(v, 0, sizeof *v);
	int err = tb_store_xleg(o->store, o->self, txid, &v->leg);
	if (err == TB_ENOTFOUND) {
		struct find_ctx fc = {txid, &v->leg, false};
		err = tb_store_foreach_xleg(o->store, false, find_one, &fc);
		if (err > 0)
			err = 0;
		if (!err && !fc.found)
			err = TB_ENOTFOUND;
	}
	if (err == TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "no cross-community exchange with txid %s", hex);
	if (err)
		return tb_op_refuse(rej, err, "cannot read the exchange: %s", tb_strerror(err));
	tb_op_xview_state(v);
	if ((err = tb_op_xview_names(o, v)))
		return tb_op_refuse(rej, err, "cannot read the legs of %s: %s", hex,
				    tb_strerror(err));
	return 0;
}

/* ---- sending across communities ---- */

int tb_op_split_to(const char *to, char name[TB_NAME_MAX + 1], const char **community,
		   struct tb_reject *rej)
{
	const char *at = strrchr(to, '@');
	if (!at || at == to || !at[1])
		return tb_op_refuse(
			rej, TB_EINVAL,
			"'%.80s': give the payee as NAME@COMMUNITY (e.g. alice@riverside)", to);
	size_t n = (size_t)(at - to);
	if (n > TB_NAME_MAX)
		return tb_op_refuse(rej, TB_EINVAL, "the payee's name is over %d bytes",
				    TB_NAME_MAX);
	memcpy(name, to, n);
	name[n] = '\0';
	if (tb_text_check(name, n))
		return tb_op_refuse(
			rej, TB_EINVAL,
			"the payee's name must be valid UTF-8 without control characters");
	*community = at + 1;
	return 0;
}

/* Before anyone signs: a trust line each way (the other community's as
 * held here), else it would never answer. The ledger rules decide the
 * rest (open exchanges, the payer's floor counting holds) at the append. */
static int send_checks(const struct tb_ops *o, const struct tb_op_community *c,
		       struct tb_reject *rej)
{
	if (!memcmp(c->id, o->self, TB_KEY_LEN))
		return tb_op_refuse(rej, TB_ELINK,
				    "%s is this community; record or propose an exchange between "
				    "its members instead",
				    c->name);
	struct tb_clearing ours, theirs;
	int err = tb_store_clearing(o->store, o->self, c->id, &ours);
	if (err && err != TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "cannot read the clearing account: %s",
				    tb_strerror(err));
	if (err || !ours.linked)
		return tb_op_refuse(rej, TB_ELINK,
				    "no trust line with %s; add one first ('tally link add %s')",
				    c->name, c->name);
	/* The provider's node decides only prepares of communities it has a
	 * trust line with; without one it would never answer, and the hold
	 * would stay. Its line must be in the copy of its log held here. */
	err = tb_store_clearing(o->store, c->id, o->self, &theirs);
	if (err && err != TB_ENOTFOUND)
		return tb_op_refuse(rej, err, "cannot read %s's clearing account: %s", c->name,
				    tb_strerror(err));
	if (err || !theirs.linked)
		return tb_op_refuse(rej, TB_ELINK,
				    "%s has no trust line with this community, as far as this node "
				    "holds its log; it would not answer. Ask them to add one, then "
				    "retry once their entry has arrived",
				    c->name);
	return 0;
}

/* The prepare's body from what was given (txid, salt, memo hash fresh). */
static int send_body(const struct tb_ops *o, const struct tb_op_send *s, struct tb_xprepare *x,
		     uint8_t salt[TB_MEMO_SALT_LEN], char to_name[TB_NAME_MAX + 1],
		     char cat[TB_CATEGORY_MAX + 1], struct tb_member *m, struct tb_op_community *c,
		     const struct tb_op_fix *given, struct tb_reject *rej)
{
	const char *cname = NULL;
	int err;
	if (s->ttl < 1 || s->ttl > TB_OP_TTL_MAX)
		return tb_op_refuse(rej, TB_EINVAL, "an offer stands 1 second to %llu seconds",
				    (unsigned long long)TB_OP_TTL_MAX);
	if (s->minutes < 1 || s->minutes > TB_MINUTES_MAX)
		return tb_op_refuse(rej, TB_EAMOUNT, "an exchange is from 1 minute to %d hours",
				    TB_MINUTES_MAX / 60);
	if ((err = tb_op_split_to(s->to, to_name, &cname, rej)) ||
	    (err = tb_op_member(o, s->from, m, rej)) || (err = tb_op_community(o, cname, c, rej)) ||
	    (err = tb_op_texts(o, s->memo, s->category, cat, rej)) ||
	    (err = send_checks(o, c, rej)))
		return err;
	memset(x, 0, sizeof *x);
	x->date = s->date ? s->date : tb_date_today();
	if (given) {
		memcpy(x->txid, given->txid, TB_TXID_LEN);
		memcpy(salt, given->salt, TB_MEMO_SALT_LEN);
	} else {
		tb_random(x->txid, TB_TXID_LEN);
		tb_random(salt, TB_MEMO_SALT_LEN);
	}
	tb_memo_hash(x->memo_hash, salt, s->memo, strlen(s->memo));
	x->member = m->no;
	memcpy(x->to_log, c->id, TB_KEY_LEN);
	x->to_name = (struct tb_view){(const uint8_t *)to_name, strlen(to_name)};
	x->minutes = (uint64_t)s->minutes;
	x->category = (struct tb_view){(const uint8_t *)cat, strlen(cat)};
	x->attested = s->attest ? 1 : 0;
	return 0;
}

/* The prepare leg, its memo and who attested it: all kept or none. */
static int send_append(const struct tb_ops *o, const struct tb_op_send *s,
		       const struct tb_xprepare *x, const uint8_t salt[TB_MEMO_SALT_LEN],
		       const struct tb_member *m, const struct tb_op_community *c,
		       struct tb_op_xview *v, struct tb_reject *rej)
{
	struct tb_memo memo = {x->txid, salt, s->memo, strlen(s->memo)};
	struct tb_own_item it = {.kind = TB_KIND_XPREPARE,
				 .body = x,
				 .memo = &memo,
				 .attested_by = s->attest ? s->coordinator : NULL,
				 .attested_txid = x->txid};
	if (rej)
		memset(rej, 0, sizeof *rej);
	int err = tb_store_append_own_batch(o->store, o->node, &it, 1, false, NULL, rej);
	if (err)
		return rej && !rej->err ? tb_op_refuse(rej, err, "%s", tb_strerror(err)) : err;
	if ((err = tb_store_xleg(o->store, o->self, x->txid, &v->leg)))
		return tb_op_refuse(rej, err, "prepared (entry %llu), but cannot read it back: %s",
				    (unsigned long long)it.seq, tb_strerror(err));
	tb_op_xview_state(v);
	snprintf(v->from, sizeof v->from, "%s", m->name);
	snprintf(v->to, sizeof v->to, "%.*s", (int)x->to_name.len, (const char *)x->to_name.p);
	snprintf(v->to_c, sizeof v->to_c, "%s", c->name);
	tb_op_community_name(o, o->self, v->from_c, sizeof v->from_c);
	return 0;
}

int tb_op_send(const struct tb_ops *o, const struct tb_op_send *s, struct tb_op_pass payer,
	       struct tb_op_xview *v, struct tb_reject *rej)
{
	memset(v, 0, sizeof *v);
	struct tb_xprepare x;
	struct tb_member m;
	struct tb_op_community c;
	uint8_t salt[TB_MEMO_SALT_LEN], sig[TB_SIGLEN];
	char to_name[TB_NAME_MAX + 1], cat[TB_CATEGORY_MAX + 1];
	int err = send_body(o, s, &x, salt, to_name, cat, &m, &c, NULL, rej);
	if (err)
		return err;
	/* The key first (unlocking takes a while): the offer's lifetime counts
	 * from just before the prepare is signed and recorded. */
	struct tb_keypair kp;
	if (!s->attest && (err = tb_op_member_unlock(o, &m, payer, &kp, rej)))
		return err;
	x.expires = (uint64_t)time(NULL) + s->ttl;
	if (!s->attest) {
		struct tb_xprepare_terms t;
		tb_xprepare_terms_of(&t, o->self, &x);
		err = tb_op_sign(&kp, &tb_def_xprepare_terms, &t, TB_CTX_XPREPARE, sig, rej);
		tb_keypair_wipe(&kp);
		if (err)
			return err;
		x.member_sig = (struct tb_view){sig, TB_SIGLEN};
	}
	return send_append(o, s, &x, salt, &m, &c, v, rej);
}

int tb_op_send_draft(const struct tb_ops *o, const struct tb_op_send *s, struct tb_op_fix *fix,
		     struct tb_xprepare *x, char to_name[TB_NAME_MAX + 1],
		     char cat[TB_CATEGORY_MAX + 1], struct tb_reject *rej)
{
	struct tb_member m;
	struct tb_op_community c;
	uint8_t salt[TB_MEMO_SALT_LEN];
	TB_ASSERT(!s->attest);
	tb_random(fix->txid, TB_TXID_LEN);
	tb_random(fix->salt, TB_MEMO_SALT_LEN);
	int err = send_body(o, s, x, salt, to_name, cat, &m, &c, fix, rej);
	if (err)
		return err;
	x->expires = fix->expires = (uint64_t)time(NULL) + s->ttl;
	return 0;
}

int tb_op_send_signed(const struct tb_ops *o, const struct tb_op_send *s,
		      const struct tb_op_fix *fix, const uint8_t sig[TB_SIGLEN],
		      struct tb_op_xview *v, struct tb_reject *rej)
{
	memset(v, 0, sizeof *v);
	struct tb_xprepare x;
	struct tb_member m;
	struct tb_op_community c;
	uint8_t salt[TB_MEMO_SALT_LEN];
	char to_name[TB_NAME_MAX + 1], cat[TB_CATEGORY_MAX + 1];
	TB_ASSERT(!s->attest);
	uint64_t now = (uint64_t)time(NULL);
	if (fix->expires <= now || fix->expires > now + TB_OP_TTL_MAX)
		return tb_op_refuse(rej, TB_EINVAL,
				    "the offer's expiry has passed or is too far ahead: make a "
				    "new draft");
	int err = send_body(o, s, &x, salt, to_name, cat, &m, &c, fix, rej);
	if (err)
		return err;
	x.expires = fix->expires;
	struct tb_xprepare_terms t;
	tb_xprepare_terms_of(&t, o->self, &x);
	if ((err = tb_op_member_verify(&m, &tb_def_xprepare_terms, &t, TB_CTX_XPREPARE, sig, rej)))
		return err;
	x.member_sig = (struct tb_view){sig, TB_SIGLEN};
	return send_append(o, s, &x, salt, &m, &c, v, rej);
}
