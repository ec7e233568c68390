/*
 * ops_listing.c: posting, withdrawing and renewing the own community's
 * listings (FORMAT.md 16), one code path for `tally listing` and the API.
 * Texts are taken as people type them and recorded in NFC; the member signs
 * (or a coordinator attests) and the community key seals; the store judges
 * the rest. It never writes a listing of another community and prints
 * nothing.
 */
#include "tb_ops.h"
#include "tb_testhooks.h"
#include "tb_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t tb_listing_now(void)
{
	const char *path = tb_test_env("TALLY_TEST_CLOCK");
	if (path && *path) {
		FILE *f = fopen(path, "r");
		unsigned long long v;
		int ok = f && fscanf(f, "%llu", &v) == 1;
		if (f)
			fclose(f);
		if (ok)
			return v;
	}
	return (uint64_t)time(NULL);
}

int tb_op_listing_text(const char *in, const char *what, size_t min, size_t max, char *out,
		       size_t cap, struct tb_reject *rej)
{
	size_t n;
	int err = tb_text_nfc(out, cap, &n, in, strlen(in));
	if (!err && n > max)
		err = TB_ETOOLONG;
	if (!err && n < min)
		err = TB_ERANGE;
	if (!err)
		err = tb_text_check(out, n);
	if (err == TB_ETOOLONG || err == TB_ERANGE)
		return tb_op_refuse(rej, err, "the %s must be %zu to %zu bytes (it has %zu)", what,
				    min, max, err == TB_ERANGE ? n : strlen(in));
	if (err)
		return tb_op_refuse(rej, err,
				    "the %s must be text without control characters or line breaks",
				    what);
	uint32_t cp;
	size_t at;
	if (tb_listing_text_check((const uint8_t *)out, n, &cp, &at))
		return tb_op_refuse(rej, TB_EUTF8,
				    "the %s must not hold U+%04X (at byte %zu): bidirectional "
				    "formatting and line separators would change how it shows",
				    what, (unsigned)cp, at);
	return 0;
}

static int days_of(unsigned days, uint64_t *secs, struct tb_reject *rej)
{
	if (!days)
		days = TB_LISTING_DAYS_DEFAULT;
	if (days < TB_LISTING_DAYS_MIN || days > TB_LISTING_DAYS_MAX)
		return tb_op_refuse(rej, TB_EEXPIRY, "a listing lasts %d to %d days, not %u",
				    TB_LISTING_DAYS_MIN, TB_LISTING_DAYS_MAX, days);
	*secs = (uint64_t)days * TB_LISTING_DAY;
	return 0;
}

/* Seals l with the community key and stores it. */
static int seal_store(const struct tb_ops *o, const struct tb_listing *l, uint64_t now,
		      struct tb_reject *rej)
{
	uint8_t obj[TB_LISTING_MAX];
	size_t len;
	int err = tb_listing_seal(obj, sizeof obj, &len, l, o->node);
	if (err)
		return tb_op_refuse(rej, err, "cannot seal the listing: %s", tb_strerror(err));
	err = tb_store_listing_put(o->store, obj, len, now, rej);
	return err == 1 ? tb_op_refuse(rej, TB_EEXISTS, "a newer version is held already") : err;
}

/* Signs l as its member (or attested), seals it with the community key and
 * stores it. */
static int seal_put(const struct tb_ops *o, struct tb_listing *l, const struct tb_member *m,
		    bool attest, struct tb_op_pass pass, uint64_t now, struct tb_reject *rej)
{
	uint8_t sig[TB_SIGLEN];
	int err;
	l->attested = attest;
	l->member_sig = (struct tb_view){NULL, 0};
	if (!attest) {
		struct tb_keypair kp;
		if ((err = tb_op_member_unlock(o, m, pass, &kp, rej)))
			return err;
		err = tb_listing_sign_member(sig, l, &kp);
		tb_keypair_wipe(&kp);
		if (err)
			return tb_op_refuse(rej, err, "cannot sign the listing: %s",
					    tb_strerror(err));
		l->member_sig = (struct tb_view){sig, TB_SIGLEN};
	}
	return seal_store(o, l, now, rej);
}

int tb_op_listing_draft_new(const struct tb_ops *o, const struct tb_op_listing *in, uint64_t now,
			    const uint8_t *id, struct tb_op_listing_draft *d, struct tb_reject *rej)
{
	struct tb_listing *l = &d->l;
	uint64_t secs = 0;
	int err;
	memset(l, 0, sizeof *l);
	if ((err = tb_op_member(o, in->member, &d->m, rej)))
		return err;
	if (!d->m.active || d->m.no == TB_COMMUNITY_ACCOUNT)
		return tb_op_refuse(rej, TB_ELEFT, "%s cannot post listings", d->m.name);
	if ((err = tb_op_listing_text(in->title, "title", 1, TB_LISTING_TITLE_MAX, d->title,
				      sizeof d->title, rej)) ||
	    (err = tb_op_listing_text(in->description, "description", 0, TB_LISTING_TEXT_MAX,
				      d->desc, sizeof d->desc, rej)) ||
	    (err = tb_op_texts(o, "", in->category, d->cat, rej)) ||
	    (err = days_of(in->days, &secs, rej)))
		return err;
	memcpy(l->log_id, o->self, TB_KEY_LEN);
	if (id)
		memcpy(l->id, id, TB_LISTING_ID_LEN);
	else
		tb_random(l->id, TB_LISTING_ID_LEN);
	l->version = 1;
	l->member = d->m.no;
	l->kind = (uint64_t)in->kind;
	l->title = (struct tb_view){(const uint8_t *)d->title, strlen(d->title)};
	l->description = (struct tb_view){(const uint8_t *)d->desc, strlen(d->desc)};
	l->category = (struct tb_view){(const uint8_t *)d->cat, strlen(d->cat)};
	l->visibility = (uint64_t)in->visibility;
	l->created = now;
	l->expires = now + secs;
	l->state = TB_LISTING_LIVE;
	return 0;
}

int tb_op_listing_add(const struct tb_ops *o, const struct tb_op_listing *in, uint64_t now,
		      uint8_t id[TB_LISTING_ID_LEN], struct tb_reject *rej)
{
	struct tb_op_listing_draft d;
	memset(id, 0, TB_LISTING_ID_LEN);
	int err = tb_op_listing_draft_new(o, in, now, NULL, &d, rej);
	if (!err)
		err = seal_put(o, &d.l, &d.m, in->attest, in->pass, now, rej);
	if (!err)
		memcpy(id, d.l.id, TB_LISTING_ID_LEN);
	return err;
}

int tb_op_listing_draft_change(const struct tb_ops *o, const uint8_t id[TB_LISTING_ID_LEN],
			       bool withdraw, unsigned days, uint64_t now,
			       struct tb_op_listing_draft *d, struct tb_reject *rej)
{
	struct tb_listing *l = &d->l;
	size_t len;
	uint64_t secs = 0;
	int err = tb_store_listing_get(o->store, o->self, id, d->held, &len);
	if (!err)
		err = tb_listing_open(l, d->held, len);
	if (err || l->expires <= now || l->state != TB_LISTING_LIVE)
		return tb_op_refuse(rej, TB_ENOTFOUND,
				    "no live listing of this community has that id");
	if (!withdraw && (err = days_of(days, &secs, rej)))
		return err;
	if ((err = tb_store_member(o->store, o->self, (uint32_t)l->member, &d->m)))
		return tb_op_refuse(rej, TB_EMEMBER, "the listing's member is unknown");
	if (!d->m.active && !withdraw)
		return tb_op_refuse(rej, TB_ELEFT,
				    "%s has left: their listing can be withdrawn, not renewed",
				    d->m.name);
	if (l->version >= TB_LISTING_VERSION_MAX)
		return tb_op_refuse(rej, TB_EFULL, "the listing has had its last version");
	l->version++;
	l->created = now;
	l->attested = 0;
	l->member_sig = (struct tb_view){NULL, 0};
	if (withdraw) {
		/* A tombstone until the old expiry: small, and no text kept. */
		l->state = TB_LISTING_WITHDRAWN;
		l->title = (struct tb_view){(const uint8_t *)"withdrawn", 9};
		l->description = (struct tb_view){NULL, 0};
		l->category = (struct tb_view){NULL, 0};
		if (l->expires - now < TB_LISTING_DAY)
			l->expires = now + TB_LISTING_DAY;
	} else {
		l->expires = now + secs;
	}
	return 0;
}

int tb_op_listing_change(const struct tb_ops *o, const uint8_t id[TB_LISTING_ID_LEN], bool withdraw,
			 unsigned days, bool attest, struct tb_op_pass pass, uint64_t now,
			 uint64_t *version, struct tb_reject *rej)
{
	struct tb_op_listing_draft d;
	int err = tb_op_listing_draft_change(o, id, withdraw, days, now, &d, rej);
	/* A member who left signs nothing more: the community withdraws what
	 * they posted, attested (FORMAT.md 16.3). */
	if (!err && !d.m.active)
		attest = true;
	if (!err)
		err = seal_put(o, &d.l, &d.m, attest, pass, now, rej);
	if (!err)
		*version = d.l.version;
	return err;
}

int tb_op_listing_put_signed(const struct tb_ops *o, struct tb_op_listing_draft *d,
			     const uint8_t sig[TB_SIGLEN], uint64_t now, struct tb_reject *rej)
{
	d->l.attested = 0;
	d->l.member_sig = (struct tb_view){sig, TB_SIGLEN};
	if (!d->m.active)
		return tb_op_refuse(rej, TB_ELEFT, "%s has left and cannot post listings",
				    d->m.name);
	if (tb_listing_verify_member(&d->l, d->m.key))
		return tb_op_refuse(rej, TB_ECONSENT,
				    "the signature is not %s's over these listing terms "
				    "(context tally/listing/v1)",
				    d->m.name);
	return seal_store(o, &d->l, now, rej);
}
