/*
 * notices.c: what waits for a member (tb_notices.h), gathered from the
 * pending proposals, the last entries of the own log, the member's
 * listings and the answers to them; and the check of an email address a member gives.
 */
#define _GNU_SOURCE /* strcasestr */
#include "tb_notices.h"
#include "tb_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"proposal", "answer",	 "paid",
					 "refused",  "received", "expiring"};

const char *tb_notice_kind_name(uint8_t kind)
{
	return kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "other";
}

/* Keeps the TB_NOTICES_MAX newest, newest first. */
static void add(struct tb_notices *out, const struct tb_notice *nt)
{
	if (out->n == TB_NOTICES_MAX) {
		out->dropped++;
		if (out->v[TB_NOTICES_MAX - 1].time >= nt->time)
			return;
		out->n--;
	}
	size_t i = out->n;
	while (i > 0 && out->v[i - 1].time < nt->time) {
		out->v[i] = out->v[i - 1];
		i--;
	}
	out->v[i] = *nt;
	out->n++;
}

/* A live listing of the member's, that a proposal's memo may name. */
struct mine {
	uint8_t id[TB_LISTING_ID_LEN];
	char title[TB_LISTING_TITLE_MAX + 1];
};

struct collect {
	struct tb_store *s;
	const uint8_t *self;
	uint32_t member;
	uint64_t now;
	struct tb_notices *out;
	int err;
	struct mine mine[TB_LISTINGS_PER_MEMBER];
	size_t nmine;
};

static void member_name(struct collect *c, uint64_t no, char *out, size_t cap)
{
	struct tb_member m;
	if (tb_store_member(c->s, c->self, (uint32_t)no, &m))
		snprintf(out, cap, "#%llu", (unsigned long long)no);
	else
		snprintf(out, cap, "%s", m.name);
}

static void remote_name(struct collect *c, struct tb_view name, const uint8_t log[TB_KEY_LEN],
			char *out, size_t cap)
{
	char comm[TB_NAME_MAX + 1];
	struct tb_ops o = {c->s, c->self, NULL, NULL};
	tb_op_community_name(&o, log, comm, sizeof comm);
	snprintf(out, cap, "%.*s@%s", (int)name.len, (const char *)name.p, comm);
}

/* A proposal follows up a listing of the member's when its memo names the
 * listing: its id in hex, or its whole title (any case, 3 bytes or more);
 * the notice names the listing. */
static void names_listing(struct collect *c, struct tb_notice *nt)
{
	char memo[TB_MEMO_MAX + 1], hex[2 * TB_LISTING_ID_LEN + 1];
	if (!c->nmine || tb_store_memo_get(c->s, nt->id, memo, sizeof memo))
		return;
	for (size_t i = 0; i < c->nmine; i++) {
		tb_hex_encode(hex, c->mine[i].id, TB_LISTING_ID_LEN);
		if (strcasestr(memo, hex) ||
		    (strlen(c->mine[i].title) >= 3 && strcasestr(memo, c->mine[i].title))) {
			snprintf(nt->text, sizeof nt->text, "%s", c->mine[i].title);
			return;
		}
	}
}

static int pending_one(void *vctx, struct tb_view msg)
{
	struct collect *c = vctx;
	struct tb_proposal p;
	if ((c->err = tb_msg_decode_exact(msg.p, msg.len, &tb_def_proposal, &p)))
		return 1;
	if (p.receiver != c->member || tb_pending_expired(&p, c->now))
		return 0;
	struct tb_notice nt = {.kind = TB_NOTICE_PROPOSAL,
			       .time = p.created,
			       .until = p.created + TB_PENDING_AGE_S,
			       .minutes = p.minutes};
	memcpy(nt.id, p.txid, TB_TXID_LEN);
	member_name(c, p.provider, nt.who, sizeof nt.who);
	names_listing(c, &nt);
	add(c->out, &nt);
	return 0;
}

/* A final leg of the own log: a payment of the member's, if its prepare
 * (same log) names them. */
static void final_leg(struct collect *c, const struct tb_entry *e)
{
	struct tb_xleg leg;
	struct tb_entry p;
	uint8_t rec[TB_ENTRY_MAX];
	size_t len;
	const struct tb_xfinal *f = &e->body.xfinal;
	if (tb_store_xleg(c->s, c->self, f->txid, &leg) || !leg.prepare_seq ||
	    tb_store_get_entry(c->s, c->self, leg.prepare_seq, rec, sizeof rec, &len) ||
	    tb_entry_decode(&p, rec, len) || p.kind != TB_KIND_XPREPARE ||
	    p.body.xprepare.member != c->member)
		return;
	struct tb_notice nt = {.kind = f->outcome ? TB_NOTICE_REFUSED : TB_NOTICE_PAID,
			       .time = e->timestamp,
			       .minutes = p.body.xprepare.minutes};
	memcpy(nt.id, f->txid, TB_TXID_LEN);
	remote_name(c, p.body.xprepare.to_name, p.body.xprepare.to_log, nt.who, sizeof nt.who);
	if (f->outcome)
		snprintf(nt.text, sizeof nt.text, "%s", tb_xoutcome_text(f->outcome));
	add(c->out, &nt);
}

static int entry_one(void *vctx, uint64_t seq, struct tb_view rec)
{
	(void)seq;
	struct collect *c = vctx;
	struct tb_entry e;
	if (tb_entry_decode(&e, rec.p, rec.len) || e.timestamp + TB_NOTICES_AGE_S < c->now)
		return 0;
	if (e.kind == TB_KIND_XFINAL) {
		final_leg(c, &e);
	} else if (e.kind == TB_KIND_XDECIDE && !e.body.xdecide.outcome &&
		   e.body.xdecide.member == c->member) {
		const struct tb_xdecide *d = &e.body.xdecide;
		struct tb_notice nt = {
			.kind = TB_NOTICE_RECEIVED, .time = e.timestamp, .minutes = d->minutes};
		memcpy(nt.id, d->txid, TB_TXID_LEN);
		remote_name(c, d->from_name, d->from_log, nt.who, sizeof nt.who);
		add(c->out, &nt);
	}
	return 0;
}

static int listing_one(void *vctx, const struct tb_listing *l, const uint8_t *obj, size_t len,
		       uint64_t info)
{
	(void)obj, (void)len, (void)info;
	struct collect *c = vctx;
	if (l->state == TB_LISTING_LIVE && c->nmine < TB_LISTINGS_PER_MEMBER) {
		struct mine *m = &c->mine[c->nmine++];
		memcpy(m->id, l->id, TB_LISTING_ID_LEN);
		snprintf(m->title, sizeof m->title, "%.*s", (int)l->title.len,
			 (const char *)l->title.p);
	}
	if (l->state != TB_LISTING_LIVE || l->expires > c->now + TB_NOTICES_EXPIRING_S)
		return 0;
	uint64_t from = l->expires - TB_NOTICES_EXPIRING_S;
	struct tb_notice nt = {.kind = TB_NOTICE_EXPIRING,
			       .time = from > l->created ? from : l->created,
			       .until = l->expires};
	memcpy(nt.id, l->id, TB_LISTING_ID_LEN);
	snprintf(nt.text, sizeof nt.text, "%.*s", (int)l->title.len, (const char *)l->title.p);
	add(c->out, &nt);
	return 0;
}

/* An answer to a listing of the member's (FORMAT.md 17): who answered,
 * from where, and the listing's title. */
static int answer_one(void *vctx, const struct tb_answer *a, const uint8_t *obj, size_t len,
		      uint64_t stamp)
{
	(void)obj, (void)len, (void)stamp;
	struct collect *c = vctx;
	struct tb_notice nt = {.kind = TB_NOTICE_ANSWER, .time = a->created};
	memcpy(nt.id, a->listing_id, TB_LISTING_ID_LEN);
	if (memcmp(a->from_log, c->self, TB_KEY_LEN))
		remote_name(c, a->name, a->from_log, nt.who, sizeof nt.who);
	else
		snprintf(nt.who, sizeof nt.who, "%.*s", (int)a->name.len, (const char *)a->name.p);
	for (size_t i = 0; i < c->nmine; i++)
		if (!memcmp(c->mine[i].id, a->listing_id, TB_LISTING_ID_LEN))
			snprintf(nt.text, sizeof nt.text, "%s", c->mine[i].title);
	add(c->out, &nt);
	return 0;
}

static int collect(struct collect *c);

int tb_notices_collect(struct tb_store *s, const uint8_t self[TB_KEY_LEN], uint32_t member,
		       uint64_t now, struct tb_notices *out)
{
	memset(out, 0, sizeof *out);
	struct collect *c = calloc(1, sizeof *c);
	if (!c)
		return TB_ENOMEM;
	*c = (struct collect){.s = s, .self = self, .member = member, .now = now, .out = out};
	int err = collect(c);
	free(c);
	return err;
}

static int collect(struct collect *c)
{
	/* The listings first: the proposals' memos are matched against them. */
	struct tb_listing_query q = {
		.community = c->self, .kind = -1, .member = c->member, .now = c->now};
	int err = tb_store_listings_search(c->s, &q, listing_one, c);
	if (err < 0)
		return err;
	for (size_t i = 0; i < c->nmine && !err; i++)
		err = tb_store_answers_of(c->s, c->self, c->mine[i].id, answer_one, c);
	if (err < 0)
		return err;
	err = tb_store_foreach_pending(c->s, pending_one, c);
	if (err > 0)
		err = 0;
	if (err || (err = c->err))
		return err;
	struct tb_head h;
	if ((err = tb_store_head(c->s, c->self, &h)))
		return err;
	uint64_t from = h.seq > TB_NOTICES_SCAN ? h.seq - TB_NOTICES_SCAN + 1 : 1;
	err = tb_store_foreach_entry(c->s, c->self, from, entry_one, c);
	return err < 0 ? err : 0;
}

static bool local_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-/=?^_`{|}~.", ch));
}

static bool domain_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '-' || ch == '.';
}

int tb_email_check(const char *addr, char *why, size_t cap)
{
	size_t len = strlen(addr);
	const char *at = strchr(addr, '@');
	const char *bad = NULL;
	if (len > TB_EMAIL_MAX)
		bad = "is longer than 254 bytes";
	else if (!at || at == addr || strchr(at + 1, '@'))
		bad = "is not name@domain (one @, with text before it)";
	if (!bad)
		for (const char *p = addr; p < at && !bad; p++)
			if (!local_char(*p))
				bad = "has a character not allowed before the @ (spaces, quotes, "
				      "commas, brackets and line breaks are not)";
	const char *dom = at ? at + 1 : "";
	if (!bad)
		for (const char *p = dom; *p && !bad; p++)
			if (!domain_char(*p))
				bad = "has a character not allowed in a domain (letters, digits, - "
				      "and . only)";
	if (!bad && (!strchr(dom, '.') || dom[0] == '.' || dom[strlen(dom) - 1] == '.' ||
		     strstr(dom, "..") || addr[0] == '.' || at[-1] == '.' || strstr(addr, "..")))
		bad = "has a misplaced dot, or a domain without one";
	if (!bad)
		return 0;
	snprintf(why, cap, "the email address %s", bad);
	return TB_EINVAL;
}
