/*
 * answer.c: a member's answer to a listing (FORMAT.md 17) as a standalone
 * object: "I answer listing ID of COMMUNITY", with a short message and the
 * responder's name@community, signed by the responder (context "answer") or
 * attested by their community's node. It decides only what the bytes alone
 * decide; whether the listing is live, the member exists with that key and
 * name, and the caps hold is the store's. It never accepts text that changes
 * how it is shown without being seen (the listings' rule).
 */
#include "mpack.h"

static int text_ok(struct tb_view v)
{
	uint32_t cp;
	size_t at;
	return tb_listing_text_check(v.p, v.len, &cp, &at);
}

int tb_answer_check(const struct tb_answer *a)
{
	if (a->attested ? a->member_sig.len != 0 : a->member_sig.len != TB_SIGLEN)
		return TB_ECONSENT;
	if (text_ok(a->name) || text_ok(a->message))
		return TB_EUTF8;
	return 0;
}

void tb_answer_terms_of(struct tb_answer_terms *t, const struct tb_answer *a)
{
	memset(t, 0, sizeof *t);
	memcpy(t->listing_log, a->listing_log, TB_KEY_LEN);
	memcpy(t->listing_id, a->listing_id, TB_LISTING_ID_LEN);
	memcpy(t->from_log, a->from_log, TB_KEY_LEN);
	t->member = a->member;
	t->name = a->name;
	t->message = a->message;
	t->created = a->created;
}

static int encode_terms(uint8_t out[TB_ANSWER_MAX], size_t *len, const struct tb_answer *a)
{
	struct tb_answer_terms t;
	tb_answer_terms_of(&t, a);
	return tb_terms_encode(out, TB_ANSWER_MAX, len, &tb_def_answer_terms, &t);
}

int tb_answer_sign_member(uint8_t sig[TB_SIGLEN], const struct tb_answer *a,
			  const struct tb_keypair *member)
{
	uint8_t buf[TB_ANSWER_MAX];
	size_t len;
	memset(sig, 0, TB_SIGLEN);
	int err = encode_terms(buf, &len, a);
	if (err)
		return err;
	tb_sign(sig, member, TB_CTX_ANSWER, buf, len);
	return 0;
}

int tb_answer_verify_member(const struct tb_answer *a, const uint8_t key[TB_KEY_LEN])
{
	uint8_t buf[TB_ANSWER_MAX];
	size_t len;
	if (a->member_sig.len != TB_SIGLEN || encode_terms(buf, &len, a))
		return TB_ECONSENT;
	return tb_verify(a->member_sig.p, key, TB_CTX_ANSWER, buf, len) ? TB_ECONSENT : 0;
}

int tb_answer_encode(uint8_t *out, size_t cap, size_t *len, const struct tb_answer *a)
{
	*len = 0;
	int err = tb_answer_check(a);
	if (err)
		return err;
	if (cap > TB_ANSWER_MAX)
		cap = TB_ANSWER_MAX;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	if ((err = tb_msg_encode(&w, &tb_def_answer, a)))
		return err;
	*len = w.len;
	return 0;
}

int tb_answer_open(struct tb_answer *a, const uint8_t *p, size_t len)
{
	memset(a, 0, sizeof *a);
	if (len > TB_ANSWER_MAX)
		return TB_ETOOBIG;
	int err = tb_msg_decode_exact(p, len, &tb_def_answer, a);
	if (!err)
		err = tb_answer_check(a);
	if (err)
		memset(a, 0, sizeof *a);
	return err;
}
