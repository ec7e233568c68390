/*
 * ops_answer.c: a member of the own community answers a listing (FORMAT.md
 * 17), one code path for `tally listing answer` and the API. The message is
 * taken as typed and recorded in NFC; the member signs (in their browser,
 * with their key file here, or a coordinator attests) and the store judges
 * the rest. It answers only as a member of the own community, never as
 * another community's, and prints nothing.
 */
#include "tb_ops.h"

#include <stdio.h>
#include <string.h>

int tb_op_answer_draft(const struct tb_ops *o, const char *member,
		       const uint8_t listing_log[TB_KEY_LEN], const uint8_t id[TB_LISTING_ID_LEN],
		       const char *message, uint64_t now, struct tb_op_answer_draft *d,
		       struct tb_reject *rej)
{
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	struct tb_listing l;
	struct tb_answer *a = &d->a;
	memset(d, 0, sizeof *d);
	int err = tb_op_member(o, member, &d->m, rej);
	if (err)
		return err;
	if (!d->m.active || d->m.no == TB_COMMUNITY_ACCOUNT)
		return tb_op_refuse(rej, TB_ELEFT, "%s cannot answer listings", d->m.name);
	err = tb_store_listing_get(o->store, listing_log, id, obj, &len);
	if (!err &&
	    (len <= TB_SIGLEN || tb_msg_decode_exact(obj, len - TB_SIGLEN, &tb_def_listing, &l)))
		err = TB_ECORRUPT;
	if (err == TB_ENOTFOUND || (!err && (l.state != TB_LISTING_LIVE || l.expires <= now)))
		return tb_op_refuse(rej, TB_ENOTFOUND, "no live listing with that id is held here");
	if (err)
		return tb_op_refuse(rej, err, "cannot read the listing: %s", tb_strerror(err));
	if (!memcmp(listing_log, o->self, TB_KEY_LEN) && l.member == d->m.no)
		return tb_op_refuse(rej, TB_EINVAL, "this listing is your own: it takes no answer");
	if ((err = tb_op_listing_text(message, "message", 0, TB_ANSWER_TEXT_MAX, d->message,
				      sizeof d->message, rej)))
		return err;
	d->kind = (int)l.kind;
	d->poster = (uint32_t)l.member;
	snprintf(d->title, sizeof d->title, "%.*s", (int)l.title.len, (const char *)l.title.p);
	snprintf(d->name, sizeof d->name, "%s", d->m.name);
	memcpy(a->listing_log, listing_log, TB_KEY_LEN);
	memcpy(a->listing_id, id, TB_LISTING_ID_LEN);
	memcpy(a->from_log, o->self, TB_KEY_LEN);
	a->member = d->m.no;
	a->name = (struct tb_view){(const uint8_t *)d->name, strlen(d->name)};
	a->message = (struct tb_view){(const uint8_t *)d->message, strlen(d->message)};
	a->created = now;
	return 0;
}

int tb_op_answer_put(const struct tb_ops *o, struct tb_op_answer_draft *d, const uint8_t *sig,
		     struct tb_op_pass pass, uint64_t now, struct tb_reject *rej)
{
	uint8_t own[TB_SIGLEN], obj[TB_ANSWER_MAX];
	size_t len;
	struct tb_answer *a = &d->a;
	int err;
	a->attested = !sig && !pass.p;
	a->member_sig = (struct tb_view){NULL, 0};
	if (!sig && pass.p) {
		struct tb_keypair kp;
		if ((err = tb_op_member_unlock(o, &d->m, pass, &kp, rej)))
			return err;
		err = tb_answer_sign_member(own, a, &kp);
		tb_keypair_wipe(&kp);
		if (err)
			return tb_op_refuse(rej, err, "cannot sign the answer: %s",
					    tb_strerror(err));
		sig = own;
	}
	if (sig) {
		a->member_sig = (struct tb_view){sig, TB_SIGLEN};
		if (tb_answer_verify_member(a, d->m.key))
			return tb_op_refuse(rej, TB_ECONSENT,
					    "the signature is not %s's over these answer terms",
					    d->m.name);
	}
	if ((err = tb_answer_encode(obj, sizeof obj, &len, a)))
		return tb_op_refuse(rej, err, "cannot encode the answer: %s", tb_strerror(err));
	err = tb_store_answer_put(o->store, obj, len, now, rej);
	return err == 1 ? tb_op_refuse(rej, TB_EEXISTS, "a newer answer of yours is held already")
			: err;
}
