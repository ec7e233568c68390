/*
 * listing.c: members' offers and requests as standalone signed objects
 * (FORMAT.md 16): the canonical listing message, the member's signature
 * over its terms (context "listing") and the community's signature over the
 * whole object (context "listed"), which any node checks with the log key it
 * already holds. It decides only what the bytes alone decide; whether the
 * member exists, holds that key and stays within the caps is the store's.
 * It never returns a listing whose community signature it did not verify,
 * nor one whose text holds characters that change how it is shown without
 * being seen (bidirectional formatting, line separators).
 */
#include "mpack.h"

/* Characters that change how the text around them is shown without being
 * seen: a title could read backwards from what was signed ("fix bikes"
 * shown for other bytes), or run into the page around it. */
static bool hidden_format(uint32_t cp)
{
	return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	       cp == 0x200f || cp == 0x061c || cp == 0x2028 || cp == 0x2029;
}

int tb_listing_text_check(const uint8_t *p, size_t len, uint32_t *cp, size_t *at)
{
	*cp = 0;
	*at = 0;
	if (tb_utf8_check(p, len))
		return TB_EUTF8;
	/* Well-formed from here: the sequences decode without checks. */
	for (size_t i = 0; i < len;) {
		uint32_t c = p[i];
		size_t n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		if (n)
			c &= 0x3fu >> n;
		for (size_t k = 1; k <= n; k++)
			c = (c << 6) | (p[i + k] & 0x3f);
		if (hidden_format(c)) {
			*cp = c;
			*at = i;
			return TB_EUTF8;
		}
		i += n + 1;
	}
	return 0;
}

static int texts_ok(const struct tb_listing *l)
{
	uint32_t cp;
	size_t at;
	if (tb_listing_text_check(l->title.p, l->title.len, &cp, &at) ||
	    tb_listing_text_check(l->description.p, l->description.len, &cp, &at) ||
	    tb_listing_text_check(l->category.p, l->category.len, &cp, &at))
		return TB_EUTF8;
	return 0;
}

int tb_listing_check(const struct tb_listing *l)
{
	if (l->expires <= l->created ||
	    l->expires - l->created < TB_LISTING_DAY * TB_LISTING_DAYS_MIN ||
	    l->expires - l->created > (uint64_t)TB_LISTING_DAY * TB_LISTING_DAYS_MAX)
		return TB_EEXPIRY;
	if (l->attested ? l->member_sig.len != 0 : l->member_sig.len != TB_SIGLEN)
		return TB_ECONSENT;
	return texts_ok(l);
}

void tb_listing_terms_of(struct tb_listing_terms *t, const struct tb_listing *l)
{
	memset(t, 0, sizeof *t);
	memcpy(t->log_id, l->log_id, TB_KEY_LEN);
	memcpy(t->id, l->id, TB_LISTING_ID_LEN);
	t->version = l->version;
	t->member = l->member;
	t->kind = l->kind;
	t->title = l->title;
	t->description = l->description;
	t->category = l->category;
	t->visibility = l->visibility;
	t->created = l->created;
	t->expires = l->expires;
	t->state = l->state;
}

static int encode_terms(uint8_t out[TB_LISTING_MAX], size_t *len, const struct tb_listing *l)
{
	struct tb_listing_terms t;
	tb_listing_terms_of(&t, l);
	return tb_terms_encode(out, TB_LISTING_MAX, len, &tb_def_listing_terms, &t);
}

int tb_listing_sign_member(uint8_t sig[TB_SIGLEN], const struct tb_listing *l,
			   const struct tb_keypair *member)
{
	uint8_t buf[TB_LISTING_MAX];
	size_t len;
	memset(sig, 0, TB_SIGLEN);
	int err = encode_terms(buf, &len, l);
	if (err)
		return err;
	tb_sign(sig, member, TB_CTX_LISTING, buf, len);
	return 0;
}

int tb_listing_verify_member(const struct tb_listing *l, const uint8_t key[TB_KEY_LEN])
{
	uint8_t buf[TB_LISTING_MAX];
	size_t len;
	if (l->member_sig.len != TB_SIGLEN)
		return TB_ECONSENT;
	if (encode_terms(buf, &len, l))
		return TB_ECONSENT;
	return tb_verify(l->member_sig.p, key, TB_CTX_LISTING, buf, len) ? TB_ECONSENT : 0;
}

int tb_listing_seal(uint8_t *out, size_t cap, size_t *len, const struct tb_listing *l,
		    const struct tb_keypair *kp)
{
	*len = 0;
	if (memcmp(l->log_id, kp->pk.b, TB_KEY_LEN))
		return TB_EINVAL;
	int err = tb_listing_check(l);
	if (err)
		return err;
	if (cap > TB_LISTING_MAX)
		cap = TB_LISTING_MAX;
	struct tb_wbuf w;
	tb_wbuf_init(&w, out, cap);
	if ((err = tb_msg_encode(&w, &tb_def_listing, l)))
		return err;
	if (cap - w.len < TB_SIGLEN)
		return TB_ETOOBIG;
	tb_sign(out + w.len, kp, TB_CTX_LISTED, out, w.len);
	*len = w.len + TB_SIGLEN;
	return 0;
}

int tb_listing_open(struct tb_listing *l, const uint8_t *p, size_t len)
{
	memset(l, 0, sizeof *l);
	if (len > TB_LISTING_MAX)
		return TB_ETOOBIG;
	if (len <= TB_SIGLEN)
		return TB_ETRUNCATED;
	int err = tb_msg_decode_exact(p, len - TB_SIGLEN, &tb_def_listing, l);
	if (!err)
		err = tb_listing_check(l);
	if (!err && tb_verify(p + len - TB_SIGLEN, l->log_id, TB_CTX_LISTED, p, len - TB_SIGLEN))
		err = TB_EBADSIG;
	if (err)
		memset(l, 0, sizeof *l);
	return err;
}
